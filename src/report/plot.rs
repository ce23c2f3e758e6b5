//! `timeline.png` / `timeline.svg`: requests per second (ok and failed) over
//! time, latency p50/p99 on a second axis, fault actions and detections as
//! vertical marks. The font is compiled into the binary (no system fonts).

use super::RunResult;
use super::fmt::tick;
use crate::metrics::EventKind;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;
/// Height of the legend strip under the chart.
const LEGEND_H: u32 = 36;

/// The embedded font's family name (registered by [`register_font`]).
pub(crate) const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

const OK: RGBColor = RGBColor(34, 139, 34);
const FAILED: RGBColor = RGBColor(220, 20, 60);
const P50: RGBColor = RGBColor(230, 130, 0);
const P99: RGBColor = RGBColor(120, 40, 160);
const FAULT: RGBColor = RGBColor(139, 0, 0);
const DETECT: RGBColor = RGBColor(30, 80, 220);
const CLUSTER: RGBColor = RGBColor(120, 40, 160);
const GRID: RGBColor = RGBColor(235, 235, 235);

/// Registers the embedded DejaVu Sans as plotters' `sans-serif`, once.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled in: failure is a build bug.
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .unwrap_or_else(|_| panic!("the embedded font assets/DejaVuSans.ttf does not parse"));
    });
}

/// What the chart shows, computed once for both backends.
struct PlotData {
    x_max: f64,
    /// Step lines (two points per bucket) of requests/s.
    ok: Vec<(f64, f64)>,
    failed: Vec<(f64, f64)>,
    y_max: f64,
    /// Latency (ms) at bucket midpoints, split where a bucket is empty.
    p50: Vec<Vec<(f64, f64)>>,
    p99: Vec<Vec<(f64, f64)>>,
    lat_lo: f64,
    lat_hi: f64,
    log: bool,
    /// Vertical marks: (x seconds, label, what), by time.
    marks: Vec<(f64, String, Mark)>,
}

impl PlotData {
    fn new(r: &RunResult) -> PlotData {
        let tl = &r.recorder.timeline;
        let width = tl.width.0.max(1);
        let end = r.duration.0.max(width);
        let x_max = end as f64 / 1e9;
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        let (mut p50, mut p99) = (vec![Vec::new()], vec![Vec::new()]);
        let (mut lat_lo, mut lat_hi, mut y_max) = (f64::INFINITY, 0f64, 0f64);
        for (i, b) in tl.buckets.iter().enumerate() {
            let a = i as u64 * width;
            if a >= end {
                break;
            }
            let z = (a + width).min(end);
            // The last bucket may be cut by the end of the run: rate over what it covers.
            let span = (z - a) as f64 / 1e9;
            let (x0, x1) = (a as f64 / 1e9, z as f64 / 1e9);
            let okr = b.ok as f64 / span;
            let fr = b.failed.iter().sum::<u64>() as f64 / span;
            y_max = y_max.max(okr).max(fr);
            ok.extend([(x0, okr), (x1, okr)]);
            failed.extend([(x0, fr), (x1, fr)]);
            let mid = (x0 + x1) / 2.0;
            if b.latency.count == 0 {
                for s in [&mut p50, &mut p99] {
                    if !s.last().is_some_and(Vec::is_empty) {
                        s.push(Vec::new());
                    }
                }
            } else {
                // A log axis has no zero: anything below 1 us sits at 1 us.
                let (m, n) = (b.latency.p50_ms.max(1e-3), b.latency.p99_ms.max(1e-3));
                lat_lo = lat_lo.min(m);
                lat_hi = lat_hi.max(n);
                p50.last_mut().unwrap().push((mid, m));
                p99.last_mut().unwrap().push((mid, n));
            }
        }
        p50.retain(|s| !s.is_empty());
        p99.retain(|s| !s.is_empty());
        if !lat_lo.is_finite() {
            (lat_lo, lat_hi) = (1.0, 1.0);
        }
        let log = lat_hi / lat_lo > 100.0;
        let (lat_lo, lat_hi) = if log {
            (lat_lo / 2.0, lat_hi * 2.0)
        } else {
            (0.0, (lat_hi * 1.15).max(1.0))
        };
        let mut marks = Vec::new();
        for f in &r.faults {
            marks.push((f.at.as_secs_f64(), f.label.clone(), Mark::Fault));
            if let Some(d) = &f.detected {
                marks.push((
                    d.at.as_secs_f64(),
                    format!("detected: {}", d.by),
                    Mark::Detection,
                ));
            }
        }
        // Leader changes and quorum loss of database clusters.
        let cluster = r
            .recorder
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.kind,
                    EventKind::Promoted | EventKind::QuorumLost | EventKind::Demoted
                )
            })
            .take(MAX_CLUSTER_MARKS)
            .map(|e| {
                let label = format!("{} {}", e.kind.name().replace('_', " "), e.subject);
                (e.at.as_secs_f64(), label, Mark::Cluster)
            });
        marks.extend(cluster);
        marks.retain(|m| (0.0..=x_max).contains(&m.0));
        // Stable: equal instants keep the fault before its detection.
        marks.sort_by(|a, b| a.0.total_cmp(&b.0));
        PlotData {
            x_max,
            ok,
            failed,
            // Headroom for the mark labels.
            y_max: (y_max * 1.3).max(1.0),
            p50,
            p99,
            lat_lo,
            lat_hi,
            log,
            marks,
        }
    }
}

type PlotResult<T = ()> = Result<T, String>;

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// A latency axis tick in ms.
fn ms_tick(v: &f64) -> String {
    if *v >= 100.0 {
        format!("{v:.0}")
    } else {
        tick(*v)
    }
}

fn draw_chart<DB, Y2>(
    area: &DrawingArea<DB, Shift>,
    r: &RunResult,
    d: &PlotData,
    y2: Y2,
) -> PlotResult
where
    DB: DrawingBackend,
    Y2: AsRangedCoord<Value = f64>,
    Y2::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let title = format!("{} — seed {}", r.experiment, r.seed);
    let mut chart = ChartBuilder::on(area)
        .caption(title, (FONT, 26))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0f64..d.x_max, 0f64..d.y_max)
        .map_err(e)?
        .set_secondary_coord(0f64..d.x_max, y2);
    let x_fmt = |v: &f64| tick(*v);
    let y_fmt = |v: &f64| tick(*v);
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_desc("time (s)")
        .y_desc("requests per second, by issue time")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()
        .map_err(e)?;
    chart
        .configure_secondary_axes()
        .y_desc(if d.log {
            "latency of requests ending then (ms, log scale)"
        } else {
            "latency of requests ending then (ms)"
        })
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .y_label_formatter(&ms_tick)
        .draw()
        .map_err(e)?;

    chart
        .draw_series(
            AreaSeries::new(d.ok.iter().copied(), 0.0, OK.mix(0.25))
                .border_style(OK.stroke_width(2)),
        )
        .map_err(e)?;
    chart
        .draw_series(
            AreaSeries::new(d.failed.iter().copied(), 0.0, FAILED.mix(0.45))
                .border_style(FAILED.stroke_width(2)),
        )
        .map_err(e)?;
    for (series, color) in [(&d.p50, P50), (&d.p99, P99)] {
        for seg in series.iter() {
            chart
                .draw_secondary_series(LineSeries::new(seg.iter().copied(), color.stroke_width(2)))
                .map_err(e)?;
        }
    }

    // Vertical marks, labels in rows so that none overlaps another.
    let label_style = TextStyle::from((FONT, 14).into_font());
    let right = chart.backend_coord(&(d.x_max, 0.0)).0;
    let mut rows: Vec<i32> = Vec::new();
    for (x, _, mark) in &d.marks {
        let line = [(*x, 0.0), (*x, d.y_max)];
        match mark {
            Mark::Detection => chart
                .draw_series(LineSeries::new(line, DETECT.stroke_width(2)))
                .map_err(e)?,
            Mark::Fault => chart
                .draw_series(DashedLineSeries::new(line, 8, 5, FAULT.stroke_width(2)))
                .map_err(e)?,
            Mark::Cluster => chart
                .draw_series(DashedLineSeries::new(line, 2, 4, CLUSTER.stroke_width(2)))
                .map_err(e)?,
        };
    }
    for (x, label, mark) in &d.marks {
        let color = match mark {
            Mark::Detection => DETECT,
            Mark::Fault => FAULT,
            Mark::Cluster => CLUSTER,
        };
        let (w, h) = area.estimate_text_size(label, &label_style).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        let px = chart.backend_coord(&(*x, d.y_max)).0;
        let dx = if px + 7 + w > right { -7 - w } else { 7 };
        let left = px + dx;
        let row = match rows.iter().position(|&end| end + 10 <= left) {
            Some(i) => i,
            None => {
                rows.push(i32::MIN);
                rows.len() - 1
            }
        };
        rows[row] = left + w;
        let dy = 6 + 20 * row as i32;
        // On a white box, so that lines and areas behind never hide it.
        let text = EmptyElement::at((*x, d.y_max))
            + Rectangle::new(
                [(dx - 3, dy - 2), (dx + w + 3, dy + h + 3)],
                WHITE.mix(0.85).filled(),
            )
            + Text::new(label.clone(), (dx, dy), label_style.color(&color));
        chart.draw_series(std::iter::once(text)).map_err(e)?;
    }
    Ok(())
}

/// What a vertical mark shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    Fault,
    /// The reacting component changed its state.
    Detection,
    /// A database cluster promoted, demoted or lost its quorum.
    Cluster,
}

/// Cluster marks drawn at most (an election storm would hide the chart).
const MAX_CLUSTER_MARKS: usize = 12;

enum Swatch {
    Area(RGBColor),
    Line(RGBColor),
    Dashed(RGBColor),
}

/// The legend, in its own strip under the chart so it never hides data.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, cluster: bool) -> PlotResult {
    let mut items = vec![
        (Swatch::Area(OK), "ok requests/s"),
        (Swatch::Area(FAILED), "failed requests/s"),
        (Swatch::Line(P50), "latency p50 (right axis)"),
        (Swatch::Line(P99), "latency p99 (right axis)"),
        (Swatch::Dashed(FAULT), "fault action"),
        (Swatch::Line(DETECT), "detection"),
    ];
    if cluster {
        items.push((Swatch::Dashed(CLUSTER), "leader, quorum"));
    }
    let style = TextStyle::from((FONT, 15).into_font()).color(&BLACK);
    let y = (LEGEND_H / 2) as i32 - 4;
    let mut x = 84;
    for (swatch, text) in items {
        match swatch {
            Swatch::Area(c) => {
                area.draw(&Rectangle::new(
                    [(x, y - 6), (x + 26, y + 6)],
                    c.mix(0.35).filled(),
                ))
                .map_err(e)?;
                area.draw(&PathElement::new(
                    [(x, y - 6), (x + 26, y - 6)],
                    c.stroke_width(2),
                ))
                .map_err(e)?;
            }
            Swatch::Line(c) => {
                area.draw(&PathElement::new([(x, y), (x + 26, y)], c.stroke_width(2)))
                    .map_err(e)?;
            }
            Swatch::Dashed(c) => {
                for k in 0..2 {
                    let a = x + k * 14;
                    area.draw(&PathElement::new([(a, y), (a + 8, y)], c.stroke_width(2)))
                        .map_err(e)?;
                }
            }
        }
        area.draw(&Text::new(text, (x + 34, y - 8), style.clone()))
            .map_err(e)?;
        x += 34 + area.estimate_text_size(text, &style).map_err(e)?.0 as i32 + 30;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    r: &RunResult,
    d: &PlotData,
) -> PlotResult {
    root.fill(&WHITE).map_err(e)?;
    let (main, legend) = root.split_vertically(HEIGHT - LEGEND_H);
    if d.log {
        draw_chart(&main, r, d, (d.lat_lo..d.lat_hi).log_scale())?;
    } else {
        draw_chart(&main, r, d, d.lat_lo..d.lat_hi)?;
    }
    draw_legend(&legend, d.marks.iter().any(|m| m.2 == Mark::Cluster))?;
    root.present().map_err(e)
}

/// Draws the timeline chart of `r` into `png` (1280x720; the image format
/// follows the extension, so give it `.png`) and `svg`.
pub fn timeline_plot(r: &RunResult, png: &Path, svg: &Path) -> Result<(), super::ReportError> {
    register_font();
    let d = PlotData::new(r);
    let plot_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message| super::ReportError::Plot { path, message }
    };
    draw(
        BitMapBackend::new(png, (WIDTH, HEIGHT)).into_drawing_area(),
        r,
        &d,
    )
    .map_err(plot_err(png))?;
    draw(
        SVGBackend::new(svg, (WIDTH, HEIGHT)).into_drawing_area(),
        r,
        &d,
    )
    .map_err(plot_err(svg))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;

    #[test]
    fn marks_and_rates_come_from_the_run() {
        let r = sample();
        let d = PlotData::new(&r);
        let marks: Vec<(f64, &str)> = d.marks.iter().map(|m| (m.0, m.1.as_str())).collect();
        assert_eq!(
            marks,
            [(3.0, "kill s2"), (4.5, "detected: lb"), (7.0, "recover s2")]
        );
        assert_eq!(d.ok.len(), 20);
        // Bucket [3 s, 4 s): 10 ok/s, 1 failed/s (by issue time: the 503
        // issued at 2.95 s counts in [2 s, 3 s)).
        assert_eq!(d.ok[6], (3.0, 10.0));
        assert_eq!(d.failed[6], (3.0, 1.0));
        assert_eq!(d.failed[4], (2.0, 1.0));
        // p99 of 50 ms vs p50 of 5 ms: linear.
        assert!(!d.log);
    }

    #[test]
    fn a_slow_bucket_switches_to_a_log_axis_and_draws() {
        let mut r = sample();
        let s = crate::engine::SimTime(5_200 * crate::engine::Dur::MS);
        for _ in 0..5 {
            r.recorder.record(
                2,
                s,
                s + crate::engine::Dur::from_secs(3),
                crate::metrics::Outcome::Ok(200),
            );
        }
        r.recorder.timeline.close();
        let d = PlotData::new(&r);
        assert!(d.log, "{} .. {}", d.lat_lo, d.lat_hi);
        let dir = std::env::temp_dir().join(format!("hasim-plot-log-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        timeline_plot(&r, &dir.join("t.png"), &dir.join("t.svg")).unwrap();
        assert!(
            std::fs::read_to_string(dir.join("t.svg"))
                .unwrap()
                .contains("log scale")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_empty_run_still_draws() {
        use crate::engine::{Dur, SimTime};
        let r = RunResult {
            experiment: "empty & <odd>".into(),
            description: String::new(),
            file: String::new(),
            seed: 0,
            duration: Dur::ZERO,
            recorder: crate::metrics::Recorder::new(SimTime::ZERO, Dur::from_secs(1), vec![]),
            faults: vec![],
            history: None,
            warnings: vec![],
            breakdowns: vec![],
        };
        let dir = std::env::temp_dir().join(format!("hasim-plot-empty-{}", std::process::id()));
        super::super::write_all(&r, &dir).unwrap();
        let svg = std::fs::read_to_string(dir.join("timeline.svg")).unwrap();
        assert!(svg.contains("empty &amp; &lt;odd&gt; — seed 0"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn svg_uses_the_title_and_labels() {
        let r = sample();
        let dir = std::env::temp_dir().join(format!("hasim-plot-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (png, svg) = (dir.join("t.png"), dir.join("t.svg"));
        timeline_plot(&r, &png, &svg).unwrap();
        let s = std::fs::read_to_string(&svg).unwrap();
        assert!(s.contains("test-kill — seed 7"));
        assert!(s.contains("detected: lb"));
        assert!(s.contains("kill s2"));
        let p = std::fs::read(&png).unwrap();
        assert_eq!(&p[..8], b"\x89PNG\r\n\x1a\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
