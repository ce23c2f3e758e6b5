//! Sweep plots, PNG and SVG, with the embedded font: a metric against the
//! first parameter (mean line, p5–p95 band; for a parameter of strings, a
//! dot and a p5–p95 bar per value, no line), one series per value of the
//! second; a log y axis when the values span more than two decades; and a
//! heatmap of the mean when a grid has two parameters or more.
//! Parameters beyond the second get one chart per combination of their values.

use super::table::{ParamInfo, PointStats, SweepInfo};
use crate::report::ReportError;
use crate::report::plot::{FONT, HEIGHT, WIDTH, register_font};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
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

/// The y axis of a lines chart.
#[derive(Clone, Copy, Debug, PartialEq)]
enum YScale {
    Linear(f64, f64),
    /// When the positive values span more than two decades; zero and below
    /// are drawn on the floor (the first bound).
    Log(f64, f64),
}

impl YScale {
    /// The axis for `values` (NaN ignored), with `headroom` (a share of the
    /// span) above them for the legend.
    fn of(values: &[f64], headroom: f64) -> YScale {
        let finite = values.iter().copied().filter(|v| v.is_finite());
        let (mut lo, mut hi) = (0f64, f64::NEG_INFINITY);
        let mut pos_lo = f64::INFINITY;
        for v in finite {
            lo = lo.min(v);
            hi = hi.max(v);
            if v > 0.0 {
                pos_lo = pos_lo.min(v);
            }
        }
        if lo >= 0.0 && pos_lo.is_finite() && hi / pos_lo > 100.0 {
            let floor = pos_lo / 2.0;
            // The same share of the axis, in decades.
            let top = floor * (hi / floor).powf(1.0 + headroom);
            return YScale::Log(floor, top);
        }
        if !hi.is_finite() || hi <= lo {
            hi = lo + 1.0;
        }
        let span = hi - lo;
        YScale::Linear(
            if lo < 0.0 { lo - span * 0.05 } else { 0.0 },
            hi + span * headroom,
        )
    }
}

/// The x offset of series `k` of `n` at a category: side by side within
/// 0.4 of it, so that dots and bars of different series do not hide each
/// other.
fn dodge(k: usize, n: usize) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let w = 0.6 / n as f64;
    (k as f64 - (n - 1) as f64 / 2.0) * w
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
        let series = self.series();
        let values: Vec<f64> = series
            .iter()
            .flat_map(|(_, pts)| pts.iter())
            .filter_map(|&(_, pt)| self.stats(pt))
            .flat_map(|s| [s.stats.p5, s.stats.p95, s.stats.mean])
            .collect();
        // Headroom for the legend in the upper left corner.
        let legend = if series.len() > 1 {
            0.08 + 0.05 * series.len().min(12) as f64
        } else {
            0.08
        };
        match YScale::of(&values, legend) {
            YScale::Linear(y0, y1) => self.lines_on(root, &axis, &series, y0..y1, None),
            YScale::Log(y0, y1) => {
                self.lines_on(root, &axis, &series, (y0..y1).log_scale(), Some(y0))
            }
        }
    }

    /// The lines chart on the y axis `y`; `floor`: a log axis's bottom,
    /// where values at or below zero are drawn.
    fn lines_on<DB, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        axis: &Axis,
        series: &[(String, Vec<(usize, usize)>)],
        y: Y,
        floor: Option<f64>,
    ) -> PlotResult
    where
        DB: DrawingBackend,
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
    {
        let (x0, x1) = axis.range();
        let reps = self.info.replications;
        let title = self.title(&format!("{} by {}", self.metric, axis.p.key));
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 24))
            .margin(16)
            .x_label_area_size(52)
            .y_label_area_size(80)
            .build_cartesian_2d(x0..x1, y)
            .map_err(e)?;
        let xl = |v: &f64| axis.label(*v);
        let yl = |v: &f64| short(*v);
        let n_labels = if axis.numeric {
            10
        } else {
            axis.p.values.len().clamp(2, 30)
        };
        let mut y_desc = format!(
            "{} ({}: mean of {reps} replication{}; {}: p5–p95)",
            self.metric,
            if axis.numeric { "line" } else { "dot" },
            if reps == 1 { "" } else { "s" },
            if axis.numeric { "band" } else { "bar" },
        );
        if floor.is_some() {
            y_desc.push_str(", log scale");
        }
        chart
            .configure_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_desc(axis.desc())
            .y_desc(y_desc)
            .x_labels(n_labels)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .x_label_formatter(&xl)
            .y_label_formatter(&yl)
            .draw()
            .map_err(e)?;
        // A log axis has no zero: zero and below sit on its floor.
        let at = |v: f64| floor.map_or(v, |f| v.max(f));
        let named = series.len() > 1;
        for (k, (label, pts)) in series.iter().enumerate() {
            let c = PALETTE[k % PALETTE.len()];
            // Categories side by side: each series a little apart.
            let shift = if axis.numeric {
                0.0
            } else {
                dodge(k, series.len())
            };
            let mut pts: Vec<(f64, &PointStats)> = pts
                .iter()
                .filter_map(|&(xi, pt)| Some((axis.x(xi) + shift, self.stats(pt)?)))
                .filter(|(_, s)| s.stats.mean.is_finite())
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let line: Vec<(f64, f64)> = pts.iter().map(|(x, s)| (*x, at(s.stats.mean))).collect();
            let swatch = move |(x, y): (i32, i32)| {
                PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(3))
            };
            if axis.numeric {
                let band: Vec<(f64, f64)> = pts
                    .iter()
                    .map(|(x, s)| (*x, at(s.stats.p5)))
                    .chain(pts.iter().rev().map(|(x, s)| (*x, at(s.stats.p95))))
                    .collect();
                if pts.len() > 1 {
                    chart
                        .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                        .map_err(e)?;
                } else if let Some((x, s)) = pts.first() {
                    chart
                        .draw_series(std::iter::once(PathElement::new(
                            vec![(*x, at(s.stats.p5)), (*x, at(s.stats.p95))],
                            c.mix(0.5).stroke_width(6),
                        )))
                        .map_err(e)?;
                }
                let drawn = chart
                    .draw_series(LineSeries::new(line.clone(), c.stroke_width(2)))
                    .map_err(e)?;
                if named {
                    drawn.label(label.clone()).legend(swatch);
                }
            } else {
                // No line between categories: a p5–p95 bar under each dot.
                let drawn = chart
                    .draw_series(pts.iter().map(|(x, s)| {
                        PathElement::new(
                            vec![(*x, at(s.stats.p5)), (*x, at(s.stats.p95))],
                            c.mix(0.5).stroke_width(6),
                        )
                    }))
                    .map_err(e)?;
                if named {
                    drawn.label(label.clone()).legend(swatch);
                }
            }
            let r = if axis.numeric { 4 } else { 6 };
            chart
                .draw_series(line.iter().map(|&p| Circle::new(p, r, c.filled())))
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

#[cfg(test)]
mod tests {
    use super::super::table::Stats;
    use super::*;

    fn info(params: Vec<ParamInfo>, points: usize) -> SweepInfo {
        SweepInfo {
            hasim: "0".into(),
            sweep: "s".into(),
            file: "s.toml".into(),
            experiment_file: "e.toml".into(),
            input_hash: format!("fnv1a64:{:016x}", 0),
            seed: 1,
            mode: "grid".into(),
            replications: 3,
            params,
            plot: vec!["failed".into()],
            points,
            runs: points * 3,
            shard: None,
            runs_done: points * 3,
            complete: true,
        }
    }

    fn param(key: &str, values: &[&str], nums: &[Option<f64>]) -> ParamInfo {
        ParamInfo {
            key: key.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
            nums: nums.to_vec(),
            log: false,
            duration: false,
        }
    }

    fn stats(point: usize, mean: f64) -> PointStats {
        PointStats {
            point,
            metric: "failed".into(),
            stats: Stats::of(&[mean * 0.8, mean, mean * 1.2]),
        }
    }

    fn draw_to(info: &SweepInfo, points: &[PointStats], tag: &str) -> String {
        let dir =
            std::env::temp_dir().join(format!("hasim-sweep-plot-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let files = draw_all(info, points, &dir).unwrap();
        assert_eq!(files[..2], ["failed.png", "failed.svg"]);
        let svg = std::fs::read_to_string(dir.join("failed.svg")).unwrap();
        if std::env::var_os("HASIM_KEEP_PLOTS").is_none() {
            std::fs::remove_dir_all(&dir).unwrap();
        }
        svg
    }

    #[test]
    fn a_metric_over_more_than_two_decades_gets_a_log_axis() {
        assert_eq!(
            YScale::of(&[0.0, 1.0, 50.0], 0.0),
            YScale::Linear(0.0, 50.0)
        );
        let YScale::Log(floor, top) = YScale::of(&[0.0, 2.0, 500.0, f64::NAN], 0.0) else {
            panic!("not log")
        };
        assert_eq!((floor, top), (1.0, 500.0));
        // Negative values keep a linear axis.
        assert!(matches!(
            YScale::of(&[-1.0, 1.0, 1000.0], 0.1),
            YScale::Linear(..)
        ));
        let p = param(
            "balancers.lb.inter",
            &["1s", "2s", "4s"],
            &[Some(1.0), Some(2.0), Some(4.0)],
        );
        let pts = [stats(0, 3.0), stats(1, 80.0), stats(2, 4000.0)];
        let svg = draw_to(&info(vec![p], 3), &pts, "log");
        assert!(svg.contains("log scale"), "no log axis");
        // A numeric parameter: the mean as a line.
        assert!(svg.contains("line: mean of 3 replications"));
    }

    #[test]
    fn a_categorical_parameter_is_drawn_as_dots_and_bars_not_a_line() {
        let a = param(
            "balancers.lb.balance",
            &["roundrobin", "leastconn", "source"],
            &[None, None, None],
        );
        let b = param("seed_group", &["x", "y"], &[Some(1.0), Some(2.0)]);
        let pts: Vec<PointStats> = (0..6).map(|p| stats(p, 10.0 + p as f64)).collect();
        let svg = draw_to(&info(vec![a, b], 6), &pts, "cat");
        assert!(svg.contains("dot: mean of 3 replications; bar: p5–p95"));
        assert!(!svg.contains("log scale"));
        // Two series side by side at each category, apart and within it.
        assert_eq!((dodge(0, 1), dodge(0, 2), dodge(1, 2)), (0.0, -0.15, 0.15));
        assert!((0..5).all(|k| dodge(k, 5).abs() < 0.5));
    }
}
