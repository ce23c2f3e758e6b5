//! `timeline.png` / `timeline.svg`: requests per second (ok and failed, by
//! issue time) over the run, latency p50/p99 of all requests ending in each
//! bucket on a second axis, fault actions, detections and leader changes as
//! vertical marks, and shaded intervals: when the failed requests of each
//! fault were issued (its error window), when a database cluster had no
//! writable primary, and split-brain. `fault-N.png` / `.svg` zoom on fault
//! action N (its number in the summary). The font is compiled into the
//! binary (no system fonts).

use super::RunResult;
use super::fmt::tick;
use crate::engine::{Dur, SimTime};
use crate::metrics::EventKind;
use crate::metrics::history::{History, OpStatus};
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::Once;

pub const WIDTH: u32 = 1280;
pub const HEIGHT: u32 = 720;
/// Height of one row of the legend strip under the chart.
const LEGEND_ROW: u32 = 28;
const MARGIN: u32 = 14;
const X_LABELS: u32 = 48;
const Y_LABELS: u32 = 70;
/// Height the caption takes (font 24 and its padding).
const CAPTION_H: i32 = 40;
/// Rows of mark labels at most; a label that fits in none is left out (its
/// line is still drawn).
const MAX_LABEL_ROWS: usize = 8;
/// Most bins the whole-run chart draws (a 1,280-pixel chart shows no more):
/// beyond, consecutive buckets share a bin, so a year at 1 s buckets does
/// not write a 3.6 GB SVG. The shipped experiments stay below (3,600).
const MAX_TIMELINE_BINS: usize = 20_000;
const LABEL_ROW_H: i32 = 20;

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
const WINDOW: RGBColor = RGBColor(255, 150, 150);
const NO_PRIMARY: RGBColor = RGBColor(150, 150, 150);
const NO_PRIMARY_LINE: RGBColor = RGBColor(90, 90, 90);
const SPLIT: RGBColor = RGBColor(255, 170, 0);

/// Registers the embedded DejaVu Sans as plotters' `sans-serif`, once.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font compiled in: failure is a build bug.
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES)
            .unwrap_or_else(|_| panic!("the embedded font assets/DejaVuSans.ttf does not parse"));
    });
}

/// One column of the chart: requests issued in [x0, x1) seconds per second,
/// and the latency (p50, p99 in ms) of all requests that ended in it.
#[derive(Clone, Debug, PartialEq)]
struct Bin {
    x0: f64,
    x1: f64,
    ok: f64,
    failed: f64,
    lat: Option<(f64, f64)>,
}

/// A shaded interval.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shade {
    /// From the first to the last issue instant of a fault's failed requests.
    ErrorWindow,
    /// A database cluster had no writable primary.
    NoPrimary,
    /// Two groups of a cluster accepted writes at once.
    SplitBrain,
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

/// What a chart shows, computed once for both backends.
struct PlotData {
    title: String,
    x_lo: f64,
    x_hi: f64,
    bins: Vec<Bin>,
    /// Step lines (two points per bin) of requests/s.
    ok: Vec<(f64, f64)>,
    failed: Vec<(f64, f64)>,
    any_failed: bool,
    /// The highest rate (the axis gets headroom for the labels on top).
    rate_max: f64,
    /// Latency (ms) at bin midpoints, split where a bin is empty.
    p50: Vec<Vec<(f64, f64)>>,
    p99: Vec<Vec<(f64, f64)>>,
    lat_lo: f64,
    lat_max: f64,
    log: bool,
    /// Vertical marks: (x seconds, label, what), by time.
    marks: Vec<(f64, String, Mark)>,
    /// Shaded intervals (from, to seconds), clipped to the chart.
    shades: Vec<(f64, f64, Shade)>,
    /// Names of the clusters with a no-primary interval drawn.
    no_primary_of: Vec<String>,
}

impl PlotData {
    /// The whole run, at the run's buckets.
    fn timeline(r: &RunResult) -> PlotData {
        let end = run_end(r);
        let bins = bucket_bins(r, 0, end);
        let k = bins.len().div_ceil(MAX_TIMELINE_BINS).max(1);
        let mut title = format!("{} — seed {}", r.experiment, r.seed);
        if k > 1 {
            title += &format!(", {k} buckets a bin");
        }
        PlotData::new(r, title, 0, end, coarsen(bins, k))
    }

    /// The zoomed panel of fault action `i` (not a recovery).
    fn fault(r: &RunResult, i: usize) -> PlotData {
        let f = &r.faults[i];
        let (lo, hi) = panel_range(r, i);
        let end = run_end(r);
        let bucket = r.recorder.timeline.width.0.max(1);
        let fine = nice_width((hi - lo) / PANEL_BINS);
        let (lo, hi, bins, how) = match &r.recorder.history {
            Some(h) if fine < bucket => {
                let (lo, hi) = snap(lo, hi, fine, end);
                let bins = history_bins(h, lo, hi, fine, end);
                let how = format!("{} bins from the request history", fmt_dur(fine));
                (lo, hi, bins, how)
            }
            _ => {
                let (lo, hi) = snap(lo, hi, bucket, end);
                let how = if fine < bucket {
                    format!(
                        "the run's {} buckets (no finer data recorded)",
                        fmt_dur(bucket)
                    )
                } else {
                    format!("{} buckets", fmt_dur(bucket))
                };
                (lo, hi, bucket_bins(r, lo, hi), how)
            }
        };
        let title = format!(
            "#{} {} at {} s — {}, seed {}, {how}",
            i + 1,
            f.label,
            tick(f.at.as_secs_f64()),
            r.experiment,
            r.seed
        );
        PlotData::new(r, title, lo, hi, bins)
    }

    fn new(r: &RunResult, title: String, lo: u64, hi: u64, bins: Vec<Bin>) -> PlotData {
        let (x_lo, x_hi) = (lo as f64 / 1e9, hi.max(lo + 1) as f64 / 1e9);
        let (mut ok, mut failed) = (Vec::new(), Vec::new());
        let (mut p50, mut p99) = (vec![Vec::new()], vec![Vec::new()]);
        let (mut lat_lo, mut lat_max, mut rate_max) = (f64::INFINITY, 0f64, 0f64);
        let mut any_failed = false;
        for b in &bins {
            rate_max = rate_max.max(b.ok).max(b.failed);
            any_failed |= b.failed > 0.0;
            ok.extend([(b.x0, b.ok), (b.x1, b.ok)]);
            failed.extend([(b.x0, b.failed), (b.x1, b.failed)]);
            match b.lat {
                None => {
                    for s in [&mut p50, &mut p99] {
                        if !s.last().is_some_and(Vec::is_empty) {
                            s.push(Vec::new());
                        }
                    }
                }
                Some((m, n)) => {
                    // A log axis has no zero: anything below 1 us sits at 1 us.
                    let (m, n) = (m.max(1e-3), n.max(1e-3));
                    lat_lo = lat_lo.min(m);
                    lat_max = lat_max.max(n);
                    let mid = (b.x0 + b.x1) / 2.0;
                    p50.last_mut().unwrap().push((mid, m));
                    p99.last_mut().unwrap().push((mid, n));
                }
            }
        }
        p50.retain(|s| !s.is_empty());
        p99.retain(|s| !s.is_empty());
        if !lat_lo.is_finite() {
            (lat_lo, lat_max) = (1.0, 1.0);
        }
        let log = lat_max / lat_lo > 100.0;
        let inside = |x: f64| (x_lo..=x_hi).contains(&x);
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
                ) && inside(e.at.as_secs_f64())
            })
            .take(MAX_CLUSTER_MARKS)
            .map(|e| {
                let label = format!("{} {}", e.kind.name().replace('_', " "), e.subject);
                (e.at.as_secs_f64(), label, Mark::Cluster)
            });
        marks.extend(cluster);
        marks.retain(|m| inside(m.0));
        // Stable: equal instants keep the fault before its detection.
        marks.sort_by(|a, b| a.0.total_cmp(&b.0));

        let mut shades = Vec::new();
        let mut no_primary_of = Vec::new();
        let mut shade = |from: SimTime, to: SimTime, what: Shade| {
            let (a, b) = (from.as_secs_f64().max(x_lo), to.as_secs_f64().min(x_hi));
            if a <= b {
                shades.push((a, b, what));
                true
            } else {
                false
            }
        };
        for f in &r.faults {
            if let (Some(a), Some(b)) = (f.window.first_start, f.window.last_start) {
                shade(a, b, Shade::ErrorWindow);
            }
        }
        if let Some(h) = &r.history {
            for c in &h.clusters {
                let mut drawn = false;
                for i in &c.no_primary {
                    drawn |= shade(i.from, i.to, Shade::NoPrimary);
                }
                if drawn {
                    no_primary_of.push(c.name.clone());
                }
                for i in &c.split_brain {
                    shade(i.from, i.to, Shade::SplitBrain);
                }
            }
        }
        PlotData {
            title,
            x_lo,
            x_hi,
            bins,
            ok,
            failed,
            any_failed,
            rate_max: rate_max.max(1.0),
            p50,
            p99,
            lat_lo,
            lat_max,
            log,
            marks,
            shades,
            no_primary_of,
        }
    }

    fn has_latency(&self) -> bool {
        !self.p50.is_empty()
    }
}

/// Where the run's charts end: its duration, at least one bucket.
fn run_end(r: &RunResult) -> u64 {
    r.duration.0.max(r.recorder.timeline.width.0.max(1))
}

/// The run's buckets overlapping [lo, hi) ns, cut to it.
fn bucket_bins(r: &RunResult, lo: u64, hi: u64) -> Vec<Bin> {
    let tl = &r.recorder.timeline;
    let width = tl.width.0.max(1);
    let end = run_end(r);
    let mut bins = Vec::new();
    for (i, b) in tl.buckets.iter().enumerate() {
        let a = i as u64 * width;
        if a >= end.min(hi) {
            break;
        }
        let z = (a + width).min(end);
        if z <= lo {
            continue;
        }
        // The last bucket may be cut by the end of the run: rate over what it covers.
        let span = (z - a) as f64 / 1e9;
        bins.push(Bin {
            x0: a.max(lo) as f64 / 1e9,
            x1: z.min(hi) as f64 / 1e9,
            ok: b.ok as f64 / span,
            failed: tl.failed(i).iter().sum::<u64>() as f64 / span,
            lat: (b.latency.count > 0).then_some((b.latency.p50_ms, b.latency.p99_ms)),
        });
    }
    bins
}

/// Every `k` consecutive bins as one: rates over the bins' span; latency
/// the median of their p50s and the highest of their p99s (a spike in one
/// bucket stays in sight).
fn coarsen(bins: Vec<Bin>, k: usize) -> Vec<Bin> {
    if k <= 1 {
        return bins;
    }
    bins.chunks(k)
        .map(|c| {
            let (x0, x1) = (c[0].x0, c[c.len() - 1].x1);
            let rate = |f: fn(&Bin) -> f64| {
                c.iter().map(|b| f(b) * (b.x1 - b.x0)).sum::<f64>() / (x1 - x0)
            };
            let mut p50: Vec<f64> = c.iter().filter_map(|b| b.lat.map(|l| l.0)).collect();
            p50.sort_by(f64::total_cmp);
            let p99 = c
                .iter()
                .filter_map(|b| b.lat.map(|l| l.1))
                .fold(0f64, f64::max);
            Bin {
                x0,
                x1,
                ok: rate(|b| b.ok),
                failed: rate(|b| b.failed),
                lat: (!p50.is_empty()).then(|| (p50[p50.len() / 2], p99)),
            }
        })
        .collect()
}

/// Bins of `width` ns over [lo, hi) from the request history (every request
/// of a run with databases): counts by issue instant, latency (exact
/// quantiles) of the requests that ended in the bin, like the buckets.
fn history_bins(h: &History, lo: u64, hi: u64, width: u64, end: u64) -> Vec<Bin> {
    let n = (hi - lo).div_ceil(width) as usize;
    let mut counts = vec![(0u64, 0u64); n];
    let mut lat: Vec<Vec<u64>> = vec![Vec::new(); n];
    for op in &h.ops {
        if op.status == OpStatus::Pending || op.end.0 > end {
            continue;
        }
        if (lo..hi).contains(&op.start.0) {
            let c = &mut counts[((op.start.0 - lo) / width) as usize];
            if op.status == OpStatus::Ok {
                c.0 += 1;
            } else {
                c.1 += 1;
            }
        }
        if (lo..hi).contains(&op.end.0) {
            lat[((op.end.0 - lo) / width) as usize].push(op.end.0 - op.start.0);
        }
    }
    (0..n)
        .map(|k| {
            let a = lo + k as u64 * width;
            let z = (a + width).min(hi);
            let span = (z - a) as f64 / 1e9;
            let l = &mut lat[k];
            l.sort_unstable();
            let q = |p: f64| {
                // Nearest rank.
                let i = ((p * l.len() as f64).ceil() as usize).clamp(1, l.len()) - 1;
                l[i] as f64 / 1e6
            };
            Bin {
                x0: a as f64 / 1e9,
                x1: z as f64 / 1e9,
                ok: counts[k].0 as f64 / span,
                failed: counts[k].1 as f64 / span,
                lat: (!l.is_empty()).then(|| (q(0.5), q(0.99))),
            }
        })
        .collect()
}

/// Bins a zoomed panel wants at least across its span.
const PANEL_BINS: u64 = 100;
/// Time shown before a fault and after its last effect.
const PANEL_PAD: u64 = 30 * Dur::S;
/// A recovery at most this long after its fault is shown in the fault's panel.
const PANEL_RECOVERY: u64 = 120 * Dur::S;

/// The largest round width (1, 2, 5 times a power of ten, from 1 ms) not
/// above `ns`.
fn nice_width(ns: u64) -> u64 {
    let mut best = Dur::MS;
    let mut unit = Dur::MS;
    while unit <= ns {
        for k in [1, 2, 5] {
            if unit * k <= ns {
                best = unit * k;
            }
        }
        unit *= 10;
    }
    best
}

/// [lo, hi) widened to multiples of `width`, the end cut at the run's.
fn snap(lo: u64, hi: u64, width: u64, end: u64) -> (u64, u64) {
    (
        lo / width * width,
        hi.div_ceil(width).saturating_mul(width).min(end),
    )
}

/// A bin width for a title: `1 s`, `500 ms`.
fn fmt_dur(ns: u64) -> String {
    if ns >= Dur::S {
        format!("{} s", tick(ns as f64 / 1e9))
    } else {
        format!("{} ms", tick(ns as f64 / 1e6))
    }
}

/// The last visible consequence of fault action `i`: its detection, the end
/// of its last failed request, the end of a no-primary or split-brain
/// interval that began before the next action.
fn last_effect(r: &RunResult, i: usize) -> u64 {
    let f = &r.faults[i];
    let next = r.faults.get(i + 1).map_or(u64::MAX, |n| n.at.0);
    let mut t = f.at.0;
    if let Some(d) = &f.detected {
        t = t.max(d.at.0);
    }
    if let Some(e) = f.window.last_end {
        t = t.max(e.0);
    }
    if let Some(h) = &r.history {
        for c in &h.clusters {
            for iv in c.no_primary.iter().chain(&c.split_brain) {
                if (f.at.0..next).contains(&iv.from.0) {
                    t = t.max(iv.to.0);
                }
            }
        }
    }
    t
}

/// The span of fault action `i`'s panel, in ns: from 30 s before it to 30 s
/// after its last effect, or after its recovery's last effect when the
/// recovery follows within two minutes; cut to the run.
fn panel_range(r: &RunResult, i: usize) -> (u64, u64) {
    let f = &r.faults[i];
    let mut last = last_effect(r, i);
    let recovery = r
        .faults
        .iter()
        .enumerate()
        .skip(i + 1)
        .find(|(_, g)| g.is_recovery && g.targets == f.targets);
    if let Some((j, g)) = recovery
        && g.at.0 - f.at.0 <= PANEL_RECOVERY
    {
        last = last.max(last_effect(r, j));
    }
    let end = run_end(r);
    (
        f.at.0.saturating_sub(PANEL_PAD).min(end),
        last.saturating_add(PANEL_PAD).min(end),
    )
}

/// The fault actions that get a zoomed panel: every one but recoveries.
fn panel_faults(r: &RunResult) -> impl Iterator<Item = usize> + '_ {
    r.faults
        .iter()
        .enumerate()
        .filter(|(_, f)| !f.is_recovery)
        .map(|(i, _)| i)
}

/// The zoomed panels' file names of `r`: `fault-N.png` and `.svg` for fault
/// action N (its number in the summary), recoveries excepted.
pub fn fault_plot_files(r: &RunResult) -> Vec<String> {
    panel_faults(r)
        .flat_map(|i| {
            [
                format!("fault-{}.png", i + 1),
                format!("fault-{}.svg", i + 1),
            ]
        })
        .collect()
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

/// The area under a step line as pixel columns: `spans` are (first pixel,
/// pixel after the last, value) per bin, in order; each pixel column gets
/// the highest value of the bins that touch it (a bin narrower than a pixel
/// still gets one), and equal neighbours merge. Returns (from, to exclusive,
/// value). Drawn as rectangles: plotters' polygon fill loses parts of a
/// polygon with many vertical edges (the ok area vanished under dips).
fn fill_columns(spans: &[(i32, i32, f64)]) -> Vec<(i32, i32, f64)> {
    let Some(first) = spans.iter().map(|s| s.0).min() else {
        return Vec::new();
    };
    let last = spans
        .iter()
        .map(|s| s.1.max(s.0 + 1))
        .max()
        .unwrap_or(first);
    // NaN: no bin touches the column.
    let mut col = vec![f64::NAN; (last - first) as usize];
    for &(a, z, v) in spans {
        for p in a..z.max(a + 1) {
            let c = &mut col[(p - first) as usize];
            if c.is_nan() || *c < v {
                *c = v;
            }
        }
    }
    let mut out: Vec<(i32, i32, f64)> = Vec::new();
    for (k, &v) in col.iter().enumerate() {
        let p = first + k as i32;
        if v.is_nan() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.1 == p && last.2 == v => last.1 = p + 1,
            _ => out.push((p, p + 1, v)),
        }
    }
    out
}

/// Places mark labels (`px` of the mark, text width) in rows under the top
/// of the chart so that none overlaps another: right of its line, or left
/// of it when it would leave the chart at `right`. Returns, per label, its
/// left edge and row, or `None` when no row has room.
fn label_rows(labels: &[(i32, i32)], right: i32) -> Vec<Option<(i32, usize)>> {
    let mut rows: Vec<i32> = Vec::new();
    labels
        .iter()
        .map(|&(px, w)| {
            let left = if px + 7 + w > right {
                px - 7 - w
            } else {
                px + 7
            };
            let row = match rows.iter().position(|&end| end + 10 <= left) {
                Some(i) => i,
                None if rows.len() < MAX_LABEL_ROWS => {
                    rows.push(i32::MIN);
                    rows.len() - 1
                }
                None => return None,
            };
            rows[row] = left + w;
            Some((left, row))
        })
        .collect()
}

/// How far the axes reach above the data so that `rows` rows of labels sit
/// above it, for a plotting area `plot_h` pixels high.
fn headroom(rows: usize, plot_h: i32) -> f64 {
    let used = 8 + LABEL_ROW_H * rows as i32 + 6;
    let free = (plot_h - used).max(plot_h / 3);
    (plot_h as f64 / free as f64).max(1.08)
}

fn mark_color(m: Mark) -> RGBColor {
    match m {
        Mark::Detection => DETECT,
        Mark::Fault => FAULT,
        Mark::Cluster => CLUSTER,
    }
}

fn shade_color(s: Shade) -> RGBAColor {
    match s {
        Shade::ErrorWindow => WINDOW.mix(0.25),
        Shade::NoPrimary => NO_PRIMARY.mix(0.2),
        Shade::SplitBrain => SPLIT.mix(0.25),
    }
}

/// Label layout of a chart: (offset of the left edge from the mark's line,
/// row) per mark, and the rows used.
type Layout = (Vec<Option<(i32, usize)>>, usize);

fn layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    d: &PlotData,
    left: i32,
    right: i32,
) -> PlotResult<Layout> {
    let style = TextStyle::from((FONT, 14).into_font());
    let mut labels = Vec::new();
    for (x, label, _) in &d.marks {
        let w = area.estimate_text_size(label, &style).map_err(e)?.0 as i32;
        let px = left + ((x - d.x_lo) / (d.x_hi - d.x_lo) * (right - left) as f64).round() as i32;
        labels.push((px, w));
    }
    let placed = label_rows(&labels, right);
    let rows = placed.iter().flatten().map(|p| p.1 + 1).max().unwrap_or(0);
    // Offsets from the mark's line, which is where the label is drawn from.
    let offsets = placed
        .iter()
        .zip(&labels)
        .map(|(p, &(px, _))| p.map(|(left, row)| (left - px, row)))
        .collect();
    Ok((offsets, rows))
}

fn draw_chart<DB, Y2>(
    area: &DrawingArea<DB, Shift>,
    d: &PlotData,
    y_top: f64,
    y2: Y2,
    placed: &[Option<(i32, usize)>],
) -> PlotResult
where
    DB: DrawingBackend,
    Y2: AsRangedCoord<Value = f64>,
    Y2::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(&d.title, (FONT, 22))
        .margin(MARGIN)
        .x_label_area_size(X_LABELS)
        .y_label_area_size(Y_LABELS)
        .right_y_label_area_size(Y_LABELS)
        .build_cartesian_2d(d.x_lo..d.x_hi, 0f64..y_top)
        .map_err(e)?
        .set_secondary_coord(d.x_lo..d.x_hi, y2);
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
    if d.has_latency() {
        chart
            .configure_secondary_axes()
            .y_desc(if d.log {
                "latency of all requests ending then (ms, log scale)"
            } else {
                "latency of all requests ending then (ms)"
            })
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 17))
            .y_label_formatter(&ms_tick)
            .draw()
            .map_err(e)?;
    }

    // Pixel coordinates inside the plotting area.
    let plot = chart.plotting_area();
    let base = plot.get_base_pixel();
    let pixels = plot.strip_coord_spec();
    let coord = chart.as_coord_spec().clone();
    let px = |x: f64| coord.translate(&(x, 0.0)).0 - base.0;
    let py = |y: f64| coord.translate(&(d.x_lo, y)).1 - base.1;
    let (top, bottom) = (py(y_top), py(0.0));

    // Shaded intervals behind everything, at least 2 pixels wide.
    for &(a, b, what) in &d.shades {
        let (l, r) = (px(a), px(b));
        shade_band(&pixels, what, l, r.max(l + 2), top, bottom)?;
    }

    let mut areas = vec![(&d.ok, OK, 0.25, true)];
    if d.any_failed {
        areas.push((&d.failed, FAILED, 0.45, false));
    }
    for (line, color, alpha, is_ok) in areas {
        let spans: Vec<(i32, i32, f64)> = d
            .bins
            .iter()
            .map(|b| (px(b.x0), px(b.x1), if is_ok { b.ok } else { b.failed }))
            .collect();
        for (a, z, v) in fill_columns(&spans) {
            let y = py(v);
            if y < bottom {
                pixels
                    .draw(&Rectangle::new(
                        [(a, y), (z, bottom)],
                        color.mix(alpha).filled(),
                    ))
                    .map_err(e)?;
            }
        }
        chart
            .draw_series(LineSeries::new(line.iter().copied(), color.stroke_width(2)))
            .map_err(e)?;
    }
    for (series, color) in [(&d.p50, P50), (&d.p99, P99)] {
        for seg in series.iter() {
            chart
                .draw_secondary_series(LineSeries::new(seg.iter().copied(), color.stroke_width(2)))
                .map_err(e)?;
        }
    }

    // Vertical marks, then their labels in the rows laid out for them.
    for (x, _, mark) in &d.marks {
        let line = [(*x, 0.0), (*x, y_top)];
        let c = mark_color(*mark);
        match mark {
            Mark::Detection => chart
                .draw_series(LineSeries::new(line, c.stroke_width(2)))
                .map_err(e)?,
            Mark::Fault => chart
                .draw_series(DashedLineSeries::new(line, 8, 5, c.stroke_width(2)))
                .map_err(e)?,
            Mark::Cluster => chart
                .draw_series(DashedLineSeries::new(line, 2, 4, c.stroke_width(2)))
                .map_err(e)?,
        };
    }
    let label_style = TextStyle::from((FONT, 14).into_font());
    for ((x, label, mark), place) in d.marks.iter().zip(placed) {
        let Some((dx, row)) = *place else { continue };
        let color = mark_color(*mark);
        let (w, h) = area.estimate_text_size(label, &label_style).map_err(e)?;
        let (w, h) = (w as i32, h as i32);
        let dy = 8 + LABEL_ROW_H * row as i32;
        // On a white box, so that lines and areas behind never hide it.
        let text = EmptyElement::at((*x, y_top))
            + Rectangle::new(
                [(dx - 3, dy - 2), (dx + w + 3, dy + h + 3)],
                WHITE.mix(0.85).filled(),
            )
            + Text::new(label.clone(), (dx, dy), label_style.color(&color));
        chart.draw_series(std::iter::once(text)).map_err(e)?;
    }
    Ok(())
}

/// Diagonal hatching of [l, r) x [top, bottom]: `/` for no primary, `\\`
/// for split-brain, so that they still read where they overlap an error
/// window.
fn hatch(l: i32, r: i32, top: i32, bottom: i32, up: bool) -> Vec<[(i32, i32); 2]> {
    const STEP: i32 = 7;
    let h = bottom - top;
    let mut out = Vec::new();
    // Lines x = c + (bottom - y) (or c + (y - top)), c in steps.
    let mut c = l - h - (l - h).rem_euclid(STEP);
    while c < r {
        let (x0, x1) = (c.max(l), (c + h).min(r - 1));
        if x0 <= x1 {
            let y = |x: i32| if up { bottom - (x - c) } else { top + (x - c) };
            out.push([(x0, y(x0)), (x1, y(x1))]);
        }
        c += STEP;
    }
    out
}

fn shade_band<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    what: Shade,
    l: i32,
    r: i32,
    top: i32,
    bottom: i32,
) -> PlotResult {
    area.draw(&Rectangle::new(
        [(l, top), (r, bottom)],
        shade_color(what).filled(),
    ))
    .map_err(e)?;
    let lines = match what {
        Shade::ErrorWindow => return Ok(()),
        Shade::NoPrimary => (NO_PRIMARY_LINE, true),
        Shade::SplitBrain => (SPLIT, false),
    };
    for seg in hatch(l, r, top, bottom, lines.1) {
        area.draw(&PathElement::new(seg, lines.0.mix(0.7).stroke_width(1)))
            .map_err(e)?;
    }
    Ok(())
}

enum Swatch {
    Area(RGBColor),
    Shade(Shade),
    Line(RGBColor),
    Dashed(RGBColor),
    Dotted(RGBColor),
}

/// The legend entries of what `d` draws, and only those.
fn legend_items(d: &PlotData) -> Vec<(Swatch, String)> {
    let mut items = vec![(Swatch::Area(OK), "ok requests/s".to_string())];
    if d.any_failed {
        items.push((Swatch::Area(FAILED), "failed requests/s".into()));
    }
    if d.has_latency() {
        items.push((Swatch::Line(P50), "p50 latency, all requests".into()));
        items.push((Swatch::Line(P99), "p99 latency, all requests".into()));
    }
    let has = |m: Mark| d.marks.iter().any(|x| x.2 == m);
    if has(Mark::Fault) {
        items.push((Swatch::Dashed(FAULT), "fault action".into()));
    }
    if has(Mark::Detection) {
        items.push((Swatch::Line(DETECT), "detection".into()));
    }
    if has(Mark::Cluster) {
        items.push((Swatch::Dotted(CLUSTER), "leader, quorum".into()));
    }
    let shaded = |s: Shade| d.shades.iter().any(|x| x.2 == s);
    if shaded(Shade::ErrorWindow) {
        items.push((
            Swatch::Shade(Shade::ErrorWindow),
            "failed requests issued (error window)".into(),
        ));
    }
    if shaded(Shade::NoPrimary) {
        let mut t = "no writable primary".to_string();
        if d.no_primary_of.len() > 1 {
            t.push_str(&format!(" ({})", d.no_primary_of.join(", ")));
        }
        items.push((Swatch::Shade(Shade::NoPrimary), t));
    }
    if shaded(Shade::SplitBrain) {
        items.push((Swatch::Shade(Shade::SplitBrain), "split-brain".into()));
    }
    items
}

/// Lays the legend out in rows no wider than the image: (row, x) per item.
fn legend_layout<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
) -> PlotResult<Vec<(usize, i32)>> {
    let style = TextStyle::from((FONT, 15).into_font());
    let (mut row, mut x) = (0, 84);
    let mut out = Vec::new();
    for (_, text) in items {
        let w = 34 + area.estimate_text_size(text, &style).map_err(e)?.0 as i32 + 26;
        if x > 84 && x + w > WIDTH as i32 - 20 {
            row += 1;
            x = 84;
        }
        out.push((row, x));
        x += w;
    }
    Ok(out)
}

/// The legend, in its own strip under the chart so it never hides data.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
    places: &[(usize, i32)],
) -> PlotResult {
    let style = TextStyle::from((FONT, 15).into_font()).color(&BLACK);
    for ((swatch, text), &(row, x)) in items.iter().zip(places) {
        let y = (LEGEND_ROW / 2) as i32 - 2 + row as i32 * LEGEND_ROW as i32;
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
            Swatch::Shade(what) => shade_band(area, *what, x, x + 26, y - 8, y + 8)?,
            Swatch::Line(c) => {
                area.draw(&PathElement::new([(x, y), (x + 26, y)], c.stroke_width(2)))
                    .map_err(e)?;
            }
            Swatch::Dashed(c) | Swatch::Dotted(c) => {
                let (dash, step) = if matches!(swatch, Swatch::Dashed(_)) {
                    (8, 14)
                } else {
                    (2, 6)
                };
                let mut a = x;
                while a + dash <= x + 26 {
                    area.draw(&PathElement::new(
                        [(a, y), (a + dash, y)],
                        c.stroke_width(2),
                    ))
                    .map_err(e)?;
                    a += step;
                }
            }
        }
        area.draw(&Text::new(text.as_str(), (x + 34, y - 8), style.clone()))
            .map_err(e)?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, d: &PlotData) -> PlotResult {
    root.fill(&WHITE).map_err(e)?;
    let items = legend_items(d);
    let places = legend_layout(&root, &items)?;
    let legend_rows = places.iter().map(|p| p.0 + 1).max().unwrap_or(1) as u32;
    let legend_h = LEGEND_ROW * legend_rows + 8;
    let (main, legend) = root.split_vertically(HEIGHT - legend_h);
    let left = (MARGIN + Y_LABELS) as i32;
    let right = WIDTH as i32 - (MARGIN + Y_LABELS) as i32;
    let (placed, rows) = layout(&main, d, left, right)?;
    let plot_h = (HEIGHT - legend_h - 2 * MARGIN - X_LABELS) as i32 - CAPTION_H;
    let room = headroom(rows, plot_h);
    let y_top = d.rate_max * room;
    if d.log {
        // The same share of the log axis above the data.
        let lo = d.lat_lo / 2.0;
        let hi = lo * (d.lat_max / lo).powf(room);
        draw_chart(&main, d, y_top, (lo..hi).log_scale(), &placed)?;
    } else {
        draw_chart(&main, d, y_top, 0.0..(d.lat_max * room).max(1.0), &placed)?;
    }
    draw_legend(&legend, &items, &places)?;
    root.present().map_err(e)
}

/// Draws `d` into `png` (1280x720; the image format follows the extension,
/// so give it `.png`) and `svg`.
fn render(d: &PlotData, png: &Path, svg: &Path) -> Result<(), super::ReportError> {
    register_font();
    let plot_err = |path: &Path| {
        let path = path.to_path_buf();
        move |message| super::ReportError::Plot { path, message }
    };
    draw(
        BitMapBackend::new(png, (WIDTH, HEIGHT)).into_drawing_area(),
        d,
    )
    .map_err(plot_err(png))?;
    draw(SVGBackend::new(svg, (WIDTH, HEIGHT)).into_drawing_area(), d).map_err(plot_err(svg))
}

/// Draws the timeline chart of `r` into `png` and `svg`.
pub fn timeline_plot(r: &RunResult, png: &Path, svg: &Path) -> Result<(), super::ReportError> {
    render(&PlotData::timeline(r), png, svg)
}

/// Draws the zoomed panel of every fault action but recoveries into `dir`:
/// the files [`fault_plot_files`] names.
pub fn fault_plots(r: &RunResult, dir: &Path) -> Result<(), super::ReportError> {
    for i in panel_faults(r) {
        let d = PlotData::fault(r, i);
        let n = i + 1;
        render(
            &d,
            &dir.join(format!("fault-{n}.png")),
            &dir.join(format!("fault-{n}.svg")),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;

    #[test]
    fn marks_and_rates_come_from_the_run() {
        let r = sample();
        let d = PlotData::timeline(&r);
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
        let d = PlotData::timeline(&r);
        assert!(d.log, "{} .. {}", d.lat_lo, d.lat_max);
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
            start: crate::config::spec::StartSpec::COLD,
            recorder: crate::metrics::Recorder::new(
                SimTime::ZERO,
                SimTime::ZERO,
                Dur::from_secs(1),
                vec![],
            ),
            faults: vec![],
            history: None,
            warnings: vec![],
            breakdowns: vec![],
            thresholds: vec![],
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

    fn t(s: f64) -> SimTime {
        SimTime((s * 1e9).round() as u64)
    }

    #[test]
    fn the_ok_area_is_filled_under_every_bin_even_a_dip() {
        // A dip between two high bins keeps its own column.
        let spans = [(0, 10, 100.0), (10, 20, 5.0), (20, 30, 100.0)];
        assert_eq!(fill_columns(&spans), spans.to_vec());
        // Bins narrower than a pixel: each pixel takes the highest; none is lost.
        let dense = [
            (0, 0, 3.0),
            (0, 1, 7.0),
            (1, 1, 2.0),
            (1, 2, 2.0),
            (2, 3, 0.0),
        ];
        assert_eq!(
            fill_columns(&dense),
            [(0, 1, 7.0), (1, 2, 2.0), (2, 3, 0.0)]
        );
        // Equal neighbours merge.
        assert_eq!(fill_columns(&[(0, 2, 1.0), (2, 4, 1.0)]), [(0, 4, 1.0)]);
        // The sample's ok bins as drawn (1 s = 10 px): every bin's rate is the
        // height of the columns under it.
        let d = PlotData::timeline(&sample());
        let spans: Vec<(i32, i32, f64)> = d
            .bins
            .iter()
            .map(|b| ((b.x0 * 10.0) as i32, (b.x1 * 10.0) as i32, b.ok))
            .collect();
        let cols = fill_columns(&spans);
        for (a, z, v) in &spans {
            for p in *a..*z {
                let c = cols.iter().find(|c| c.0 <= p && p < c.1).unwrap();
                assert_eq!(c.2, *v, "pixel {p}");
            }
        }
    }

    #[test]
    fn error_windows_and_history_intervals_are_shaded_with_their_legend() {
        let mut r = sample();
        let d = PlotData::timeline(&r);
        // The kill's failures were issued 2.95 s .. 4.4 s, the recovery's at 7.2 s.
        assert_eq!(
            d.shades,
            [
                (2.95, 4.4, Shade::ErrorWindow),
                (7.2, 7.2, Shade::ErrorWindow)
            ]
        );
        let legend: Vec<String> = legend_items(&d).into_iter().map(|i| i.1).collect();
        assert!(legend.contains(&"failed requests issued (error window)".to_string()));
        assert!(
            !legend
                .iter()
                .any(|l| l.contains("primary") || l.contains("split"))
        );
        assert!(!legend.iter().any(|l| l.contains("leader")), "{legend:?}");
        use crate::metrics::history::{ClusterSafety, HistoryReport, Interval};
        let iv = |a: f64, b: f64| Interval {
            from: t(a),
            to: t(b),
            nodes: vec![],
        };
        r.history = Some(HistoryReport {
            clusters: vec![
                ClusterSafety {
                    name: "pg".into(),
                    no_primary: vec![iv(3.0, 5.0), iv(20.0, 30.0)],
                    split_brain: vec![iv(8.0, 8.5)],
                },
                ClusterSafety {
                    name: "etcd".into(),
                    ..ClusterSafety::default()
                },
            ],
            ..HistoryReport::default()
        });
        let d = PlotData::timeline(&r);
        // Outside the run: not drawn.
        assert_eq!(
            d.shades[2..],
            [(3.0, 5.0, Shade::NoPrimary), (8.0, 8.5, Shade::SplitBrain)]
        );
        assert_eq!(d.no_primary_of, ["pg"]);
        let legend: Vec<String> = legend_items(&d).into_iter().map(|i| i.1).collect();
        assert!(
            legend.contains(&"no writable primary".to_string()),
            "{legend:?}"
        );
        assert!(legend.contains(&"split-brain".to_string()));
        // Hatching stays inside its band.
        for [(x0, y0), (x1, y1)] in hatch(10, 30, 0, 50, true) {
            assert!((10..30).contains(&x0) && (10..30).contains(&x1));
            assert!((0..=50).contains(&y0) && (0..=50).contains(&y1));
            assert_eq!(x1 - x0, y0 - y1, "45 degrees");
        }
    }

    #[test]
    fn the_legend_lists_only_what_is_drawn_and_latency_says_all_requests() {
        use crate::engine::{Dur, SimTime};
        let mut rec = crate::metrics::Recorder::new(
            SimTime::ZERO,
            SimTime(Dur::S * 4),
            Dur::from_secs(1),
            vec![],
        );
        rec.record(0, t(0.5), t(0.6), crate::metrics::Outcome::Ok(200));
        rec.close();
        let r = RunResult {
            recorder: rec,
            faults: vec![],
            duration: Dur::from_secs(4),
            ..sample()
        };
        let d = PlotData::timeline(&r);
        let legend: Vec<String> = legend_items(&d).into_iter().map(|i| i.1).collect();
        assert_eq!(
            legend,
            [
                "ok requests/s",
                "p50 latency, all requests",
                "p99 latency, all requests"
            ]
        );
        let full: Vec<String> = legend_items(&PlotData::timeline(&sample()))
            .into_iter()
            .map(|i| i.1)
            .collect();
        for want in ["failed requests/s", "fault action", "detection"] {
            assert!(full.contains(&want.to_string()), "{full:?}");
        }
    }

    #[test]
    fn mark_labels_never_overlap_however_many_faults() {
        // 40 marks 6 px apart, 90 px wide labels, in a 1000 px chart.
        let labels: Vec<(i32, i32)> = (0..40).map(|k| (100 + 6 * k, 90)).collect();
        let placed = label_rows(&labels, 1000);
        let mut boxes: Vec<(i32, i32, usize)> = Vec::new();
        for (p, &(_, w)) in placed.iter().zip(&labels) {
            if let Some((left, row)) = *p {
                assert!(row < MAX_LABEL_ROWS);
                assert!(left + w <= 1000);
                for &(l, r, rr) in &boxes {
                    assert!(rr != row || left >= r + 10 || left + w + 10 <= l);
                }
                boxes.push((left, left + w, row));
            }
        }
        // Some are left out rather than overlapping (their lines stay).
        assert!(boxes.len() >= MAX_LABEL_ROWS && boxes.len() < labels.len());
        // Near the right edge a label goes left of its line.
        assert_eq!(label_rows(&[(990, 50)], 1000), [Some((933, 0))]);
        // Labels lift the axes: more rows, more headroom.
        assert!(headroom(4, 500) > headroom(1, 500) && headroom(1, 500) >= 1.08);
    }

    #[test]
    fn each_fault_gets_a_zoomed_panel_from_30s_before_to_30s_after() {
        let r = sample();
        assert_eq!(fault_plot_files(&r), ["fault-1.png", "fault-1.svg"]);
        // kill at 3 s, recovered at 7 s (a refusal until 7.201 s): the
        // 10-second run whole.
        assert_eq!(panel_range(&r, 0), (0, 10 * Dur::S));
        let d = PlotData::fault(&r, 0);
        assert!(
            d.title
                .starts_with("#1 kill s2 at 3 s — test-kill, seed 7, the run's 1 s buckets")
        );
        // An hour-long run: a 4-second failover, recovered 10 minutes later,
        // gets 64 s around it, not 11 minutes.
        let mut r = sample();
        r.duration = Dur::from_secs(3600);
        r.faults[0].at = t(1800.0);
        r.faults[0].detected.as_mut().unwrap().at = t(1804.0);
        r.faults[0].window = Default::default();
        r.faults[1].at = t(2400.0);
        r.faults[1].window = Default::default();
        assert_eq!(panel_range(&r, 0), (1770 * Dur::S, 1834 * Dur::S));
        assert_eq!(nice_width(640 * Dur::MS), 500 * Dur::MS);
        assert_eq!(nice_width(Dur::S * 3), 2 * Dur::S);
        assert_eq!(snap(1_200, 3_100, 1_000, 3_050), (1_000, 3_050));
    }

    #[test]
    fn a_panel_takes_finer_bins_from_the_request_history() {
        use crate::metrics::{History, Outcome};
        let mut h = History::new(vec!["db".into()]);
        // Requests every 100 ms from 0 s to 2 s, 10 ms each; those issued in
        // [1 s, 1.5 s) fail after 300 ms.
        for k in 0..20u32 {
            let s = k as f64 * 0.1;
            let fail = (1.0..1.45).contains(&s);
            let (end, o) = if fail {
                (s + 0.3, Outcome::Http(503))
            } else {
                (s + 0.01, Outcome::Ok(200))
            };
            h.begin(k, 0, t(s), true);
            h.end(k, t(end), o);
        }
        let bins = history_bins(&h, 0, 2 * Dur::S, 500 * Dur::MS, 2 * Dur::S);
        let rates: Vec<(f64, f64)> = bins.iter().map(|b| (b.ok, b.failed)).collect();
        assert_eq!(rates, [(10.0, 0.0), (10.0, 0.0), (0.0, 10.0), (10.0, 0.0)]);
        // Latency by end: the failures ending 1.3 s .. 1.7 s.
        let close = |b: &Bin, p50: f64, p99: f64| {
            let (m, n) = b.lat.unwrap();
            assert!((m - p50).abs() < 1e-3 && (n - p99).abs() < 1e-3, "{b:?}");
        };
        close(&bins[0], 10.0, 10.0);
        close(&bins[2], 300.0, 300.0);
        close(&bins[3], 10.0, 300.0);
    }

    #[test]
    fn coarsened_bins_keep_rates_over_their_span_and_latency_spikes() {
        let bin = |x0: f64, x1: f64, ok: f64, lat: Option<(f64, f64)>| Bin {
            x0,
            x1,
            ok,
            failed: ok / 10.0,
            lat,
        };
        let bins = vec![
            bin(0.0, 1.0, 10.0, Some((1.0, 2.0))),
            bin(1.0, 2.0, 20.0, None),
            bin(2.0, 3.0, 30.0, Some((3.0, 9.0))),
            bin(3.0, 4.0, 40.0, Some((2.0, 4.0))),
            bin(4.0, 4.5, 50.0, None),
        ];
        let c = coarsen(bins, 2);
        assert_eq!(c.len(), 3);
        assert_eq!(
            (c[0].x0, c[0].x1, c[0].ok, c[0].lat),
            (0.0, 2.0, 15.0, Some((1.0, 2.0)))
        );
        assert_eq!(
            (c[1].ok, c[1].failed, c[1].lat),
            (35.0, 3.5, Some((3.0, 9.0)))
        );
        assert_eq!(
            (c[2].x0, c[2].x1, c[2].ok, c[2].lat),
            (4.0, 4.5, 50.0, None)
        );
    }

    #[test]
    fn a_long_run_draws_a_bounded_number_of_bins() {
        use crate::engine::{Dur, SimTime};
        let n = 2 * MAX_TIMELINE_BINS as u64 + 1;
        let mut rec = crate::metrics::Recorder::new(
            SimTime::ZERO,
            SimTime(Dur::S * n),
            Dur::from_secs(1),
            vec![],
        );
        rec.record(0, t(0.5), t(0.6), crate::metrics::Outcome::Ok(200));
        rec.close();
        let r = RunResult {
            recorder: rec,
            faults: vec![],
            duration: Dur::from_secs(n),
            ..sample()
        };
        let d = PlotData::timeline(&r);
        // 40,001 buckets, three a bin: 13,334 bins of two points each.
        assert_eq!(d.ok.len(), 2 * n.div_ceil(3) as usize);
        assert!(d.title.ends_with(", 3 buckets a bin"), "{}", d.title);
    }
}
