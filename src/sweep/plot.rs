//! Sweep plots, PNG and SVG, with the embedded font: a metric against the
//! first parameter (mean line, p5–p95 band), one line per value of the
//! second; and a heatmap of the mean when a grid has two parameters or more.
//! Parameters beyond the second get one chart per combination of their values.

use super::table::{ParamInfo, PointStats, SweepInfo};
use crate::report::ReportError;
use crate::report::plot::{FONT, HEIGHT, WIDTH, register_font};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

/// At most this many charts per metric and kind (combinations of the
/// parameters beyond the second).
pub const MAX_PANELS: usize = 12;

const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const GRID: RGBColor = RGBColor(235, 235, 235);

type PlotResult<T = ()> = Result<T, String>;

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// A short, exact-enough number for labels: four significant digits.
pub fn short(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let r = super::table::round_sig(v, 4);
    if r != 0.0 && (r.abs() >= 1e6 || r.abs() < 1e-3) {
        format!("{r:e}")
    } else {
        format!("{r}")
    }
}

/// How a parameter lies along an axis.
struct Axis<'a> {
    p: &'a ParamInfo,
    /// Numeric (all values have a number) or categorical (index).
    numeric: bool,
    log: bool,
}

impl<'a> Axis<'a> {
    fn new(p: &'a ParamInfo) -> Axis<'a> {
        let numeric = !p.nums.is_empty() && p.nums.iter().all(Option::is_some);
        let nums: Vec<f64> = p.nums.iter().flatten().copied().collect();
        let (lo, hi) = nums
            .iter()
            .fold((f64::INFINITY, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
        let log = numeric && lo > 0.0 && (p.log || hi / lo >= 50.0);
        Axis { p, numeric, log }
    }
    /// Chart coordinate of value index `i`.
    fn x(&self, i: usize) -> f64 {
        match (self.numeric, self.log) {
            (false, _) => i as f64,
            (true, false) => self.p.nums.get(i).copied().flatten().unwrap_or(0.0),
            (true, true) => self.p.nums.get(i).copied().flatten().unwrap_or(1.0).log10(),
        }
    }
    fn range(&self) -> (f64, f64) {
        let xs: Vec<f64> = (0..self.p.values.len()).map(|i| self.x(i)).collect();
        let lo = xs.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        if !self.numeric {
            return (-0.5, hi + 0.5);
        }
        let pad = if hi > lo { (hi - lo) * 0.04 } else { 0.5 };
        (lo - pad, hi + pad)
    }
    fn label(&self, v: f64) -> String {
        if !self.numeric {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 {
                return String::new();
            }
            return self.p.values.get(i as usize).cloned().unwrap_or_default();
        }
        // Log ticks fall between values: three significant digits.
        let x = if self.log {
            super::table::round_sig(10f64.powf(v), 3)
        } else {
            v
        };
        if self.p.duration {
            super::spec::fmt_duration((x * 1e9).round().max(0.0) as u64)
        } else {
            short(x)
        }
    }
    fn desc(&self) -> String {
        let mut d = self.p.key.clone();
        if self.log {
            d.push_str(" (log scale)");
        }
        d
    }
}

/// The statistics of one point and metric.
type Lookup<'a> = BTreeMap<(usize, &'a str), &'a PointStats>;

/// Draws every plot of the sweep into `dir`; returns the file names, in
/// order. `info` must be valid ([`SweepInfo::validate`]: what hasim wrote,
/// or a `sweep.json` read back through [`super::table::parse_sweep_info`]):
/// its plot names are the file names.
pub fn draw_all(
    info: &SweepInfo,
    points: &[PointStats],
    dir: &Path,
) -> Result<Vec<String>, ReportError> {
    register_font();
    let look: Lookup = points
        .iter()
        .map(|p| ((p.point, p.metric.as_str()), p))
        .collect();
    let mut files = Vec::new();
    if info.params.is_empty() {
        return Ok(files);
    }
    // Combinations of the parameters beyond the second (grid only).
    let extra: Vec<usize> = if info.mode == "grid" && info.params.len() > 2 {
        (2..info.params.len()).collect()
    } else {
        Vec::new()
    };
    let panels: usize = extra.iter().map(|&k| info.params[k].values.len()).product();
    if panels > MAX_PANELS {
        return Ok(files);
    }
    for metric in &info.plot {
        // Plot names become file names: never a path.
        if !super::table::is_metric_name(metric) {
            return Err(ReportError::Plot {
                path: dir.join(metric),
                message: "not a metric of hasim; refusing to name a file after it".into(),
            });
        }
        for panel in 0..panels {
            // Values of the extra parameters in this panel.
            let mut fixed = Vec::new();
            let mut rest = panel;
            for &k in extra.iter().rev() {
                let n = info.params[k].values.len();
                fixed.push((k, rest % n));
                rest /= n;
            }
            fixed.reverse();
            let suffix = if panels > 1 {
                format!("-{}", panel + 1)
            } else {
                String::new()
            };
            let subtitle: Vec<String> = fixed
                .iter()
                .map(|&(k, v)| format!("{} = {}", info.params[k].key, info.params[k].values[v]))
                .collect();
            let in_panel = |pt: usize| {
                let idx = info.point(pt);
                fixed.iter().all(|&(k, v)| idx[k] == v)
            };
            let name = format!("{metric}{suffix}");
            let chart = Chart {
                info,
                look: &look,
                metric,
                subtitle: subtitle.join(", "),
                in_panel: &in_panel,
            };
            save(dir, &name, &mut files, &chart, Kind::Lines)?;
            if info.mode == "grid" && info.params.len() >= 2 {
                save(
                    dir,
                    &format!("{name}-heatmap"),
                    &mut files,
                    &chart,
                    Kind::Heatmap,
                )?;
            }
        }
    }
    Ok(files)
}

#[derive(Clone, Copy)]
enum Kind {
    Lines,
    Heatmap,
}

fn draw<DB: DrawingBackend>(
    chart: &Chart,
    kind: Kind,
    root: &DrawingArea<DB, Shift>,
) -> PlotResult {
    match kind {
        Kind::Lines => chart.lines(root),
        Kind::Heatmap => chart.heatmap(root),
    }
}

/// Draws with both backends: `<name>.png` and `<name>.svg`.
fn save(
    dir: &Path,
    name: &str,
    files: &mut Vec<String>,
    chart: &Chart,
    kind: Kind,
) -> Result<(), ReportError> {
    let png = dir.join(format!("{name}.png"));
    let svg = dir.join(format!("{name}.svg"));
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |message| ReportError::Plot { path, message }
    };
    {
        let root = BitMapBackend::new(&png, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, kind, &root)
            .and_then(|()| root.present().map_err(e))
            .map_err(err(&png))?;
    }
    {
        let root = SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area();
        draw(chart, kind, &root)
            .and_then(|()| root.present().map_err(e))
            .map_err(err(&svg))?;
    }
    files.push(format!("{name}.png"));
    files.push(format!("{name}.svg"));
    Ok(())
}

struct Chart<'a> {
    info: &'a SweepInfo,
    look: &'a Lookup<'a>,
    metric: &'a str,
    subtitle: String,
    in_panel: &'a dyn Fn(usize) -> bool,
}

impl Chart<'_> {
    fn stats(&self, point: usize) -> Option<&PointStats> {
        self.look.get(&(point, self.metric)).copied()
    }

    fn title(&self, what: &str) -> String {
        let mut t = format!("{} — {what}", self.info.sweep);
        if !self.subtitle.is_empty() {
            t.push_str(&format!(" ({})", self.subtitle));
        }
        t
    }

    /// Series: for each value of the second parameter (or one series), the
    /// points along the first parameter: (x value index, point).
    fn series(&self) -> Vec<(String, Vec<(usize, usize)>)> {
        let info = self.info;
        let two = info.mode == "grid" && info.params.len() >= 2;
        let mut out: Vec<(String, Vec<(usize, usize)>)> = if two {
            let p = &info.params[1];
            let short = p.key.rsplit('.').next().unwrap_or(&p.key);
            p.values
                .iter()
                .map(|v| (format!("{short} = {v}"), Vec::new()))
                .collect()
        } else {
            vec![(String::new(), Vec::new())]
        };
        for pt in 0..info.points {
            if !(self.in_panel)(pt) {
                continue;
            }
            let idx = info.point(pt);
            let s = if two { idx[1] } else { 0 };
            if let Some(series) = out.get_mut(s) {
                series.1.push((idx[0], pt));
            }
        }
        out
    }

    fn lines<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> PlotResult {
        root.fill(&WHITE).map_err(e)?;
        let axis = Axis::new(&self.info.params[0]);
        let (x0, x1) = axis.range();
        let series = self.series();
        let (mut lo, mut hi) = (0f64, f64::NEG_INFINITY);
        for (_, pts) in &series {
            for &(_, pt) in pts {
                if let Some(s) = self.stats(pt) {
                    for v in [s.stats.p5, s.stats.p95, s.stats.mean] {
                        if v.is_finite() {
                            lo = lo.min(v);
                            hi = hi.max(v);
                        }
                    }
                }
            }
        }
        if !hi.is_finite() || hi <= lo {
            hi = lo + 1.0;
        }
        let span = hi - lo;
        // Headroom for the legend in the upper left corner.
        let legend = if series.len() > 1 {
            0.08 + 0.05 * series.len().min(12) as f64
        } else {
            0.08
        };
        let (y0, y1) = (
            if lo < 0.0 { lo - span * 0.05 } else { 0.0 },
            hi + span * legend,
        );
        let reps = self.info.replications;
        let title = self.title(&format!("{} by {}", self.metric, axis.p.key));
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(e)?;
        let xl = |v: &f64| axis.label(*v);
        let yl = |v: &f64| short(*v);
        let n_labels = if axis.numeric {
            10
        } else {
            axis.p.values.len().clamp(2, 30)
        };
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(axis.desc())
            .y_desc(format!(
                "{} (line: mean of {reps} replication{}; band: p5–p95)",
                self.metric,
                if reps == 1 { "" } else { "s" }
            ))
            .x_labels(n_labels)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .draw()
            .map_err(e)?;
        let named = series.len() > 1;
        for (k, (label, pts)) in series.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            let mut pts: Vec<(f64, &PointStats)> = pts
                .iter()
                .filter_map(|&(xi, pt)| Some((axis.x(xi), self.stats(pt)?)))
                .filter(|(_, s)| s.stats.mean.is_finite())
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let band: Vec<(f64, f64)> = pts
                .iter()
                .map(|(x, s)| (*x, s.stats.p5))
                .chain(pts.iter().rev().map(|(x, s)| (*x, s.stats.p95)))
                .collect();
            if pts.len() > 1 {
                chart
                    .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                    .map_err(e)?;
            } else if let Some((x, s)) = pts.first() {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(*x, s.stats.p5), (*x, s.stats.p95)],
                        c.mix(0.5).stroke_width(6),
                    )))
                    .map_err(e)?;
            }
            let line: Vec<(f64, f64)> = pts.iter().map(|(x, s)| (*x, s.stats.mean)).collect();
            let drawn = chart
                .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))
                .map_err(e)?;
            if named {
                drawn.label(label.clone()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
                });
            }
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, 4, c.filled())))
                .map_err(e)?;
        }
        if named {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(RGBColor(200, 200, 200))
                .label_font((FONT, 15))
                .draw()
                .map_err(e)?;
        }
        Ok(())
    }

    fn heatmap<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> PlotResult {
        root.fill(&WHITE).map_err(e)?;
        let info = self.info;
        let (px, py) = (&info.params[0], &info.params[1]);
        let (nx, ny) = (px.values.len(), py.values.len());
        let mut cells = Vec::new();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for pt in 0..info.points {
            if !(self.in_panel)(pt) {
                continue;
            }
            let idx = info.point(pt);
            let v = self.stats(pt).map_or(f64::NAN, |s| s.stats.mean);
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
            cells.push((idx[0], idx[1], v));
        }
        let (main, bar) = root.split_horizontally(WIDTH - 130);
        let title = self.title(&format!("mean {}", self.metric));
        let mut chart = ChartBuilder::on(&main)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(110)
            .build_cartesian_2d(-0.5..nx as f64 - 0.5, -0.5..ny as f64 - 0.5)
            .map_err(e)?;
        let cat = |p: &ParamInfo, v: f64| {
            let i = v.round();
            if (v - i).abs() > 1e-6 || i < 0.0 {
                String::new()
            } else {
                p.values.get(i as usize).cloned().unwrap_or_default()
            }
        };
        let xl = |v: &f64| cat(px, *v);
        let yl = |v: &f64| cat(py, *v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(px.key.clone())
            .y_desc(py.key.clone())
            .x_labels(nx.clamp(2, 40))
            .y_labels(ny.clamp(2, 40))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .draw()
            .map_err(e)?;
        let color = |v: f64| {
            if !v.is_finite() {
                return RGBColor(220, 220, 220);
            }
            let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            viridis(f)
        };
        chart
            .draw_series(cells.iter().map(|&(x, y, v)| {
                let (x, y) = (x as f64, y as f64);
                Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], color(v).filled())
            }))
            .map_err(e)?;
        if nx * ny <= 400 {
            let style = |v: f64| {
                let f = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
                let c: &'static RGBColor = if f > 0.6 { &BLACK } else { &WHITE };
                TextStyle::from((FONT, 14).into_font()).color(c).pos(
                    plotters::style::text_anchor::Pos::new(
                        plotters::style::text_anchor::HPos::Center,
                        plotters::style::text_anchor::VPos::Center,
                    ),
                )
            };
            chart
                .draw_series(
                    cells
                        .iter()
                        .filter(|c| c.2.is_finite())
                        .map(|&(x, y, v)| Text::new(short(v), (x as f64, y as f64), style(v))),
                )
                .map_err(e)?;
        }
        // The color bar.
        let bar = bar.margin(70, 60, 10, 40);
        let (w, h) = bar.dim_in_pixel();
        let (w, h) = (w as i32, h as i32);
        let steps = 100;
        for k in 0..steps {
            let y0 = h - (k + 1) * h / steps;
            let y1 = h - k * h / steps;
            bar.draw(&Rectangle::new(
                [(0, y0), (24.min(w), y1)],
                viridis(k as f64 / (steps - 1) as f64).filled(),
            ))
            .map_err(e)?;
        }
        let style = TextStyle::from((FONT, 14).into_font()).color(&BLACK);
        if lo.is_finite() {
            bar.draw(&Text::new(short(hi), (30, 0), style.clone()))
                .map_err(e)?;
            bar.draw(&Text::new(
                short((lo + hi) / 2.0),
                (30, h / 2 - 7),
                style.clone(),
            ))
            .map_err(e)?;
            bar.draw(&Text::new(short(lo), (30, h - 14), style))
                .map_err(e)?;
        }
        Ok(())
    }
}

/// The viridis color map at `f` in [0, 1] (piecewise linear over 5 anchors).
pub fn viridis(f: f64) -> RGBColor {
    const A: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let f = f.clamp(0.0, 1.0) * 4.0;
    let i = (f.floor() as usize).min(3);
    let t = f - i as f64;
    let (a, b) = (A[i], A[i + 1]);
    let m = |x: f64, y: f64| (x + (y - x) * t).round() as u8;
    RGBColor(m(a.0, b.0), m(a.1, b.1), m(a.2, b.2))
}
