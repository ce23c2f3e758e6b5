//! Baselines and `hasim diff`: a committed baseline per experiment
//! (`tests/baselines/<experiment>.json`: its metrics, each with a tolerance,
//! and its timeline), compared with a new run's output; an overlay plot
//! draws the old and the new timeline on one chart.
//!
//! A metric is beyond tolerance when `|new - old| > max(abs, rel * |old|)`,
//! or when one side has a value and the other none (a fault detected before
//! and not now), or when the new output lacks it. Default tolerances (kept
//! per metric in the baseline, where they can be edited; `--update` keeps
//! edited ones):
//! - counts (requests, failures, false failovers): `max(3, 10%)`;
//! - times in seconds (`*_s`: detection, error windows): `max(0.5 s, 10%)`;
//! - latencies in ms (`*_ms`): `max(1 ms, 10%)`.

use super::SweepError;
use super::metrics::{self, json_num};
use super::table::round_sig;
use crate::report::ReportError;
use crate::report::plot::{FONT, HEIGHT, WIDTH, register_font};
use plotters::coord::Shift;
use plotters::prelude::*;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A stored timeline has at most this many points (long runs are grouped).
pub const MAX_TIMELINE_POINTS: usize = 600;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    pub abs: f64,
    pub rel: f64,
}

impl Tolerance {
    /// The allowed difference from `old`.
    pub fn allowed(&self, old: f64) -> f64 {
        self.abs.max(self.rel * old.abs())
    }
}

/// The default tolerance of a metric, by its unit.
pub fn default_tolerance(name: &str) -> Tolerance {
    if name.ends_with("_s") {
        Tolerance { abs: 0.5, rel: 0.1 }
    } else if name.ends_with("_ms") {
        Tolerance { abs: 1.0, rel: 0.1 }
    } else {
        Tolerance { abs: 3.0, rel: 0.1 }
    }
}

/// Per-bucket rates and latency of a run (grouped when long).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    pub bucket_s: f64,
    pub ok_per_s: Vec<f64>,
    pub failed_per_s: Vec<f64>,
    /// NaN where nothing finished.
    pub p99_ms: Vec<f64>,
}

/// One side of a comparison: a baseline file or a run's output folder.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub experiment: String,
    pub seed: u64,
    pub duration_s: f64,
    /// In column order; NaN for no value.
    pub metrics: Vec<(String, f64)>,
    /// From a baseline file only.
    pub tolerances: Vec<(String, Tolerance)>,
    pub faults: Vec<(String, f64)>,
    /// Instants (s) a fault was detected, drawn on the overlay when given
    /// (`hasim compare`; a baseline has none).
    pub detections: Vec<f64>,
    pub timeline: Timeline,
}

impl Observed {
    fn get(&self, name: &str) -> Option<f64> {
        self.metrics.iter().find(|m| m.0 == name).map(|m| m.1)
    }
    fn tolerance(&self, name: &str) -> Tolerance {
        self.tolerances
            .iter()
            .find(|t| t.0 == name)
            .map_or_else(|| default_tolerance(name), |t| t.1)
    }
}

fn input(msg: impl Into<String>) -> SweepError {
    SweepError::Input(msg.into())
}

fn read(p: &Path) -> Result<String, SweepError> {
    crate::config::read_input(p, crate::config::MAX_INPUT_BYTES)
        .map_err(|e| input(format!("{}: {e}", p.display())))
}

fn json(p: &Path) -> Result<Value, SweepError> {
    serde_json::from_str(&read(p)?)
        .map_err(|e| input(format!("{}: invalid JSON: {e}", p.display())))
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// Metrics of a JSON object, in column order (`null` = no value).
fn metrics_from(
    obj: &serde_json::Map<String, Value>,
    value: impl Fn(&Value) -> f64,
) -> Vec<(String, f64)> {
    let names: Vec<String> = obj.keys().cloned().collect();
    metrics::columns([names.as_slice()])
        .into_iter()
        .map(|n| {
            let v = value(&obj[&n]);
            (n, v)
        })
        .collect()
}

/// Reads a baseline file, or a `hasim run --metrics` output folder
/// (`metrics.json`, `summary.json`, `timeline.csv`).
pub fn load(path: &Path) -> Result<Observed, SweepError> {
    if path.is_dir() {
        return load_run_dir(path);
    }
    let v = json(path)?;
    let bad = |what: &str| input(format!("{}: not a hasim baseline ({what})", path.display()));
    let m = v["metrics"]
        .as_object()
        .ok_or_else(|| bad("no `metrics` object"))?;
    let mut o = Observed {
        experiment: v["experiment"]
            .as_str()
            .ok_or_else(|| bad("no `experiment`"))?
            .into(),
        seed: v["seed"].as_u64().unwrap_or(0),
        duration_s: num(&v["duration_s"]),
        metrics: metrics_from(m, |x| num(&x["value"])),
        ..Observed::default()
    };
    for (name, _) in &o.metrics {
        let e = &m[name];
        let d = default_tolerance(name);
        let t = Tolerance {
            abs: e["abs"].as_f64().unwrap_or(d.abs),
            rel: e["rel"].as_f64().unwrap_or(d.rel),
        };
        o.tolerances.push((name.clone(), t));
    }
    if let Some(fs) = v["faults"].as_array() {
        o.faults = fs
            .iter()
            .map(|f| {
                (
                    f["label"].as_str().unwrap_or("").to_string(),
                    num(&f["at_s"]),
                )
            })
            .collect();
    }
    let t = &v["timeline"];
    let arr = |k: &str| -> Vec<f64> {
        t[k].as_array()
            .map(|a| a.iter().map(num).collect())
            .unwrap_or_default()
    };
    o.timeline = Timeline {
        bucket_s: num(&t["bucket_s"]),
        ok_per_s: arr("ok_per_s"),
        failed_per_s: arr("failed_per_s"),
        p99_ms: arr("p99_ms"),
    };
    Ok(o)
}

fn load_run_dir(dir: &Path) -> Result<Observed, SweepError> {
    let path = dir.join("metrics.json");
    if !path.exists() {
        return Err(input(format!(
            "{} is missing: run the experiment with `hasim run --metrics`",
            path.display()
        )));
    }
    let m = json(&path)?;
    let m = m.as_object().ok_or_else(|| {
        input(format!(
            "{}: not an object",
            dir.join("metrics.json").display()
        ))
    })?;
    let s = json(&dir.join("summary.json"))?;
    let faults = s["faults"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .map(|f| {
                    (
                        f["label"].as_str().unwrap_or("").to_string(),
                        num(&f["at_s"]),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let bucket_s = num(&s["bucket_s"]);
    let duration_s = num(&s["duration_s"]);
    let timeline = timeline_csv(&dir.join("timeline.csv"), bucket_s, duration_s)?;
    Ok(Observed {
        experiment: s["experiment"].as_str().unwrap_or("").into(),
        seed: s["seed"].as_u64().unwrap_or(0),
        duration_s,
        metrics: metrics_from(m, num),
        tolerances: Vec::new(),
        faults,
        detections: Vec::new(),
        timeline,
    })
}

/// Reads `timeline.csv` into rates, grouping buckets so that at most
/// [`MAX_TIMELINE_POINTS`] remain (rates over the group, p99 = the largest
/// bucket p99 of the group).
fn timeline_csv(path: &Path, bucket_s: f64, duration_s: f64) -> Result<Timeline, SweepError> {
    timeline_of(&read(path)?, bucket_s, duration_s)
        .map_err(|e| input(format!("{}: {e}", path.display())))
}

/// [`timeline_csv`] of the text of a `timeline.csv`.
pub fn timeline_of(text: &str, bucket_s: f64, duration_s: f64) -> Result<Timeline, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let bad = |e: String| e;
    let header = r.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| bad(format!("no column `{name}`")))
    };
    let (ok_c, failed_c, p99_c) = (col("ok")?, col("failed")?, col("p99_ms")?);
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let f = |c: usize| {
            rec.get(c)
                .and_then(|s| s.parse::<f64>().ok())
                .unwrap_or(f64::NAN)
        };
        rows.push((f(ok_c), f(failed_c), f(p99_c)));
    }
    if bucket_s.is_nan() || bucket_s <= 0.0 {
        return Err(bad("summary.json has no bucket_s".into()));
    }
    let group = rows.len().div_ceil(MAX_TIMELINE_POINTS).max(1);
    let mut t = Timeline {
        bucket_s: bucket_s * group as f64,
        ..Timeline::default()
    };
    for (g, chunk) in rows.chunks(group).enumerate() {
        let start = g as f64 * group as f64 * bucket_s;
        let span = (duration_s - start)
            .min(chunk.len() as f64 * bucket_s)
            .max(1e-9);
        let ok: f64 = chunk.iter().map(|c| c.0).filter(|x| x.is_finite()).sum();
        let failed: f64 = chunk.iter().map(|c| c.1).filter(|x| x.is_finite()).sum();
        let p99 = chunk
            .iter()
            .map(|c| c.2)
            .filter(|x| x.is_finite())
            .fold(f64::NAN, f64::max);
        t.ok_per_s.push(round_sig(ok / span, 6));
        t.failed_per_s.push(round_sig(failed / span, 6));
        t.p99_ms.push(p99);
    }
    Ok(t)
}

/// The baseline file's text for `o` (tolerances from `keep` where it has
/// the metric, else the defaults).
pub fn baseline_json(o: &Observed, keep: Option<&Observed>) -> String {
    let q = |s: &str| Value::String(s.to_string()).to_string();
    let mut s = String::from("{\n");
    let _ = writeln!(s, "  \"experiment\": {},", q(&o.experiment));
    let _ = writeln!(s, "  \"seed\": {},", o.seed);
    let _ = writeln!(s, "  \"duration_s\": {},", json_num(o.duration_s));
    let _ = writeln!(s, "  \"hasim\": {},", q(env!("CARGO_PKG_VERSION")));
    let _ = writeln!(
        s,
        "  \"about\": {},",
        q(
            "written by `hasim diff --update` (scripts/update-baselines); a metric is beyond \
           tolerance when |new - old| > max(abs, rel * |old|); edit abs/rel by hand, updates keep them"
        )
    );
    s.push_str("  \"metrics\": {\n");
    for (i, (name, v)) in o.metrics.iter().enumerate() {
        let t = keep
            .filter(|k| k.get(name).is_some())
            .map_or_else(|| default_tolerance(name), |k| k.tolerance(name));
        let comma = if i + 1 == o.metrics.len() { "" } else { "," };
        let _ = writeln!(
            s,
            "    {}: {{ \"value\": {}, \"abs\": {}, \"rel\": {} }}{comma}",
            q(name),
            json_num(*v),
            json_num(t.abs),
            json_num(t.rel)
        );
    }
    s.push_str("  },\n  \"faults\": [");
    for (i, (label, at)) in o.faults.iter().enumerate() {
        let comma = if i + 1 == o.faults.len() { "" } else { "," };
        let _ = write!(
            s,
            "\n    {{ \"label\": {}, \"at_s\": {} }}{comma}",
            q(label),
            json_num(*at)
        );
    }
    if !o.faults.is_empty() {
        s.push_str("\n  ");
    }
    s.push_str("],\n  \"timeline\": {\n");
    let arr = |v: &[f64]| {
        v.iter()
            .map(|x| json_num(*x))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let t = &o.timeline;
    let _ = writeln!(s, "    \"bucket_s\": {},", json_num(t.bucket_s));
    let _ = writeln!(s, "    \"ok_per_s\": [{}],", arr(&t.ok_per_s));
    let _ = writeln!(s, "    \"failed_per_s\": [{}],", arr(&t.failed_per_s));
    let _ = writeln!(s, "    \"p99_ms\": [{}]", arr(&t.p99_ms));
    s.push_str("  }\n}\n");
    s
}

/// One metric compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub name: String,
    pub old: Option<f64>,
    pub new: Option<f64>,
    pub allowed: f64,
    pub status: Status,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Within,
    Beyond,
    /// The baseline has it, the new output not.
    Missing,
    /// Only the new output has it (not a failure).
    New,
}

fn present(v: Option<f64>) -> Option<f64> {
    v.filter(|x| !x.is_nan())
}

/// Compares every metric of `old` with `new`.
pub fn compare(old: &Observed, new: &Observed) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, ov) in &old.metrics {
        let t = old.tolerance(name);
        let allowed = t.allowed(if ov.is_nan() { 0.0 } else { *ov });
        let nv = new.get(name);
        let status = match (present(Some(*ov)), nv.map(|x| present(Some(x)))) {
            (_, None) => Status::Missing,
            (None, Some(None)) => Status::Within,
            (Some(a), Some(Some(b))) if (b - a).abs() <= allowed + 1e-9 => Status::Within,
            _ => Status::Beyond,
        };
        rows.push(Row {
            name: name.clone(),
            old: present(Some(*ov)),
            new: nv.and_then(|x| present(Some(x))),
            allowed,
            status,
        });
    }
    for (name, nv) in &new.metrics {
        if old.get(name).is_none() {
            rows.push(Row {
                name: name.clone(),
                old: None,
                new: present(Some(*nv)),
                allowed: 0.0,
                status: Status::New,
            });
        }
    }
    rows
}

/// A figure for the table: whole numbers whole, others to 6 significant
/// digits.
fn figure(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{}", round_sig(x, 6))
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or("none".into(), figure)
}

/// The comparison as text: one line per metric (metrics zero or empty on
/// both sides are counted, not listed), then the verdict.
pub fn report(
    old_path: &Path,
    new_path: &Path,
    old: &Observed,
    new: &Observed,
    rows: &[Row],
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hasim diff — experiment {} (seed {} -> {})\n  baseline: {}\n  new:      {}",
        old.experiment,
        old.seed,
        new.seed,
        old_path.display(),
        new_path.display()
    );
    let _ = writeln!(
        s,
        "\n  {:<28} {:>12}    {:<12} {:>11} {:>11}",
        "metric", "baseline", "new", "change", "tolerance"
    );
    let mut quiet = 0;
    for r in rows {
        let zero = |v: Option<f64>| v.is_none_or(|x| x == 0.0);
        if r.status == Status::Within && zero(r.old) && zero(r.new) {
            quiet += 1;
            continue;
        }
        let change = match (r.old, r.new) {
            (Some(a), Some(b)) => {
                let d = round_sig(b - a, 6);
                if d > 0.0 {
                    format!("+{}", figure(d))
                } else {
                    figure(d)
                }
            }
            _ => "".into(),
        };
        let tol = match r.status {
            Status::New => "".to_string(),
            _ => format!("±{}", figure(round_sig(r.allowed, 4))),
        };
        let flag = match r.status {
            Status::Within => "",
            Status::Beyond => "  << beyond tolerance",
            Status::Missing => "  << missing in the new output",
            Status::New => "  (new metric, not in the baseline)",
        };
        let _ = writeln!(
            s,
            "  {:<28} {:>12} -> {:<12} {:>11} {:>11}{flag}",
            r.name,
            show(r.old),
            show(r.new),
            change,
            tol
        );
    }
    if quiet > 0 {
        let _ = writeln!(s, "  ({quiet} metrics zero or empty in both, not shown)");
    }
    s
}

/// What `hasim diff` found.
pub struct DiffOutcome {
    pub text: String,
    pub beyond: usize,
    pub compared: usize,
    pub plot: Option<PathBuf>,
}

/// Where the overlay goes by default: `diff.png` in a run folder, else
/// `<stem>.diff.png` beside the file.
fn default_plot(new_path: &Path) -> PathBuf {
    if new_path.is_dir() {
        new_path.join("diff.png")
    } else {
        let stem = new_path
            .file_stem()
            .map_or("new".into(), |s| s.to_string_lossy().into_owned());
        new_path.with_file_name(format!("{stem}.diff.png"))
    }
}

/// `hasim diff BASELINE NEW`: compares, prints, draws the overlay.
pub fn diff(
    baseline: &Path,
    new_path: &Path,
    plot: Option<&Path>,
) -> Result<DiffOutcome, SweepError> {
    let old = load(baseline)?;
    let new = load(new_path)?;
    if old.experiment != new.experiment {
        return Err(input(format!(
            "{} is the baseline of experiment `{}`, but {} is experiment `{}`",
            baseline.display(),
            old.experiment,
            new_path.display(),
            new.experiment
        )));
    }
    let rows = compare(&old, &new);
    let beyond = rows
        .iter()
        .filter(|r| matches!(r.status, Status::Beyond | Status::Missing))
        .count();
    let compared = rows.iter().filter(|r| r.status != Status::New).count();
    let mut text = report(baseline, new_path, &old, &new, &rows);
    let png = plot.map_or_else(|| default_plot(new_path), Path::to_path_buf);
    let verdict = if beyond == 0 { "PASS" } else { "FAIL" };
    overlay(
        &old,
        &new,
        &format!("{verdict}: {beyond} of {compared} metrics beyond tolerance"),
        &png,
    )?;
    let _ = writeln!(
        text,
        "\n  {verdict}: {beyond} of {compared} metrics beyond tolerance; overlay plot: {}",
        png.display()
    );
    Ok(DiffOutcome {
        text,
        beyond,
        compared,
        plot: Some(png),
    })
}

/// `hasim diff --update BASELINE NEW`: writes the baseline from `NEW`,
/// keeping the tolerances of the current baseline; returns what changed.
pub fn update(baseline: &Path, new_path: &Path) -> Result<String, SweepError> {
    let new = load(new_path)?;
    let old = if baseline.exists() {
        Some(load(baseline)?)
    } else {
        None
    };
    let mut text = match &old {
        Some(o) => {
            let rows = compare(o, &new);
            let changed: Vec<&Row> = rows.iter().filter(|r| r.status != Status::Within).collect();
            if changed.is_empty() {
                "every metric within tolerance of the previous baseline\n".to_string()
            } else {
                report(baseline, new_path, o, &new, &rows)
            }
        }
        None => "no previous baseline\n".to_string(),
    };
    let body = baseline_json(&new, old.as_ref());
    if let Some(parent) = baseline.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| ReportError::Io {
            path: parent.to_path_buf(),
            error,
        })?;
    }
    let tmp = baseline.with_extension(format!("json.tmp-{}", std::process::id()));
    std::fs::write(&tmp, body)
        .and_then(|()| std::fs::rename(&tmp, baseline))
        .map_err(|error| {
            let _ = std::fs::remove_file(&tmp);
            ReportError::Io {
                path: baseline.to_path_buf(),
                error,
            }
        })?;
    let _ = writeln!(text, "baseline written: {}", baseline.display());
    Ok(text)
}

// ------------------------------------------------------------ overlay --

const OK: RGBColor = RGBColor(34, 139, 34);
const FAILED: RGBColor = RGBColor(220, 20, 60);
const P99: RGBColor = RGBColor(120, 40, 160);
const FAULT: RGBColor = RGBColor(139, 0, 0);
const GRID: RGBColor = RGBColor(235, 235, 235);
const DETECT: RGBColor = RGBColor(30, 80, 220);

/// The largest magnitude drawn. A baseline is a file anyone may edit: a
/// value of 1e308 made an axis range overflow to infinity, and plotters'
/// tick loop then spun forever. Every coordinate is squeezed into
/// `[0, PLOT_LIMIT]` (and into the chart's ranges), so that every range is
/// finite and no line is longer than the chart.
const PLOT_LIMIT: f64 = 1e12;

/// `x` within `[lo, hi]`; NaN gives `lo`.
fn squeeze(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() { lo } else { x.max(lo).min(hi) }
}

fn steps(t: &Timeline, v: &[f64], end: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(v.len() * 2);
    for (i, &y) in v.iter().enumerate() {
        let x0 = squeeze(i as f64 * t.bucket_s, 0.0, end);
        let x1 = squeeze((i + 1) as f64 * t.bucket_s, 0.0, end);
        if y.is_finite() {
            let y = squeeze(y, 0.0, PLOT_LIMIT);
            out.extend([(x0, y), (x1, y)]);
        }
    }
    out
}

/// p99 at bucket midpoints, split where a bucket is empty; `f` maps the
/// value onto the axis.
fn p99_segments(t: &Timeline, end: f64, f: &dyn Fn(f64) -> f64) -> Vec<Vec<(f64, f64)>> {
    let mut segs = vec![Vec::new()];
    for (i, &y) in t.p99_ms.iter().enumerate() {
        if y.is_finite() {
            segs.last_mut().expect("one").push((
                squeeze((i as f64 + 0.5) * t.bucket_s, 0.0, end),
                f(squeeze(y, 1e-3, PLOT_LIMIT)),
            ));
        } else if !segs.last().is_some_and(Vec::is_empty) {
            segs.push(Vec::new());
        }
    }
    segs.retain(|s| !s.is_empty());
    segs
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

/// What the two sides of an overlay are called, and its title.
pub struct Sides<'s> {
    pub old: &'s str,
    pub new: &'s str,
    pub title: String,
}

/// Old (dashed, light) and new (solid) timelines on one chart: requests/s ok
/// and failed, p99 latency on the right axis, the faults as marks.
pub fn overlay(
    old: &Observed,
    new: &Observed,
    verdict: &str,
    png: &Path,
) -> Result<(), SweepError> {
    let sides = Sides {
        old: "baseline",
        new: "new",
        title: format!(
            "{} — baseline (dashed) vs new (solid) — {verdict}",
            new.experiment
        ),
    };
    overlay_sides(old, new, &sides, png)
}

/// [`overlay`] with the sides named, and each side's detections (if any)
/// as blue marks: dashed for the old side, solid for the new one.
pub fn overlay_sides(
    old: &Observed,
    new: &Observed,
    sides: &Sides,
    png: &Path,
) -> Result<(), SweepError> {
    register_font();
    if let Some(parent) = png.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|error| ReportError::Io {
            path: parent.to_path_buf(),
            error,
        })?;
    }
    let svg = png.with_extension("svg");
    let err = |path: &Path| {
        let path = path.to_path_buf();
        move |message| SweepError::Report(ReportError::Plot { path, message })
    };
    draw(
        BitMapBackend::new(png, (WIDTH, HEIGHT)).into_drawing_area(),
        old,
        new,
        sides,
    )
    .map_err(err(png))?;
    draw(
        SVGBackend::new(&svg, (WIDTH, HEIGHT)).into_drawing_area(),
        old,
        new,
        sides,
    )
    .map_err(err(&svg))
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    old: &Observed,
    new: &Observed,
    sides: &Sides,
) -> Result<(), String> {
    root.fill(&WHITE).map_err(e)?;
    let (root, strip) = root.split_vertically(HEIGHT - LEGEND_H);
    let end = squeeze(old.duration_s.max(new.duration_s), 1e-9, PLOT_LIMIT);
    let series = [
        (
            steps(&old.timeline, &old.timeline.ok_per_s, end),
            OK,
            true,
            "ok/s",
        ),
        (
            steps(&new.timeline, &new.timeline.ok_per_s, end),
            OK,
            false,
            "ok/s",
        ),
        (
            steps(&old.timeline, &old.timeline.failed_per_s, end),
            FAILED,
            true,
            "failed/s",
        ),
        (
            steps(&new.timeline, &new.timeline.failed_per_s, end),
            FAILED,
            false,
            "failed/s",
        ),
    ];
    let y_max = series
        .iter()
        .flat_map(|s| s.0.iter().map(|p| p.1))
        .fold(1f64, f64::max)
        * 1.25;
    let lat: Vec<f64> = old
        .timeline
        .p99_ms
        .iter()
        .chain(&new.timeline.p99_ms)
        .copied()
        .filter(|x| x.is_finite())
        .map(|x| squeeze(x, 1e-3, PLOT_LIMIT))
        .collect();
    let (lo, hi) = lat
        .iter()
        .fold((f64::INFINITY, 0f64), |(l, h), &x| (l.min(x), h.max(x)));
    let log = lo.is_finite() && hi / lo > 100.0;
    let tf = move |v: f64| if log { v.log10() } else { v };
    let (y2lo, y2hi) = if !lo.is_finite() {
        (0.0, 1.0)
    } else if log {
        ((lo / 2.0).log10(), (hi * 2.0).log10())
    } else {
        (0.0, (hi * 1.15).max(1.0))
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(&sides.title, (FONT, 22))
        .margin(14)
        .x_label_area_size(48)
        .y_label_area_size(70)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0f64..end, 0f64..y_max)
        .map_err(e)?
        .set_secondary_coord(0f64..end, y2lo..y2hi);
    let fmt = |v: &f64| super::plot::short(*v);
    let y2fmt = move |v: &f64| {
        super::plot::short(if log {
            round_sig(10f64.powf(*v), 3)
        } else {
            *v
        })
    };
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .x_desc("time (s)")
        .y_desc("requests per second, by issue time")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .x_label_formatter(&fmt)
        .y_label_formatter(&fmt)
        .draw()
        .map_err(e)?;
    chart
        .configure_secondary_axes()
        .y_desc(if log {
            "p99 latency of all requests ending then (ms, log scale)"
        } else {
            "p99 latency of all requests ending then (ms)"
        })
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 17))
        .y_label_formatter(&y2fmt)
        .draw()
        .map_err(e)?;
    for (pts, color, dashed, _) in &series {
        if *dashed {
            chart
                .draw_series(DashedLineSeries::new(
                    pts.iter().copied(),
                    7,
                    5,
                    color.mix(0.6).stroke_width(2),
                ))
                .map_err(e)?;
        } else {
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
                .map_err(e)?;
        }
    }
    for (t, dashed) in [(&old.timeline, true), (&new.timeline, false)] {
        for seg in p99_segments(t, end, &tf) {
            if dashed {
                chart
                    .draw_secondary_series(DashedLineSeries::new(
                        seg,
                        7,
                        5,
                        P99.mix(0.55).stroke_width(2),
                    ))
                    .map_err(e)?;
            } else {
                chart
                    .draw_secondary_series(LineSeries::new(seg, P99.stroke_width(2)))
                    .map_err(e)?;
            }
        }
    }
    for (t, dashed) in [(&old.detections, true), (&new.detections, false)] {
        for &at in t.iter().filter(|at| (0.0..=end).contains(*at)) {
            let line = [(at, 0.0), (at, y_max)];
            if dashed {
                chart
                    .draw_series(DashedLineSeries::new(
                        line,
                        4,
                        4,
                        DETECT.mix(0.7).stroke_width(2),
                    ))
                    .map_err(e)?;
            } else {
                chart
                    .draw_series(LineSeries::new(line, DETECT.stroke_width(2)))
                    .map_err(e)?;
            }
        }
    }
    let label_style = TextStyle::from((FONT, 14).into_font()).color(&FAULT);
    for (i, (label, at)) in new.faults.iter().enumerate() {
        if !(0.0..=end).contains(at) {
            continue;
        }
        chart
            .draw_series(DashedLineSeries::new(
                [(*at, 0.0), (*at, y_max)],
                8,
                5,
                FAULT.stroke_width(1),
            ))
            .map_err(e)?;
        let text = EmptyElement::at((*at, y_max))
            + Text::new(
                label.clone(),
                (5, 6 + 18 * (i as i32 % 4)),
                label_style.clone(),
            );
        chart.draw_series(std::iter::once(text)).map_err(e)?;
    }
    let detections = !old.detections.is_empty() || !new.detections.is_empty();
    legend(&strip, sides, detections)?;
    // One backend under both areas: presenting one writes the file.
    strip.present().map_err(e)
}

/// Height of the legend strip under the chart.
const LEGEND_H: u32 = 36;

/// The legend, in its own strip so that it never hides data: solid = new,
/// dashed and lighter = baseline.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    sides: &Sides,
    detections: bool,
) -> Result<(), String> {
    let style = TextStyle::from((FONT, 15).into_font()).color(&BLACK);
    let y = (LEGEND_H / 2) as i32 - 4;
    let mut x = 84;
    let mut items = vec![
        (OK, "ok/s"),
        (FAILED, "failed/s"),
        (P99, "p99, all (right axis)"),
    ];
    if detections {
        items.push((DETECT, "detected"));
    }
    for (color, text) in items {
        for dashed in [false, true] {
            if dashed {
                for k in 0..2 {
                    let a = x + k * 14;
                    area.draw(&PathElement::new(
                        [(a, y), (a + 8, y)],
                        color.mix(0.6).stroke_width(2),
                    ))
                    .map_err(e)?;
                }
            } else {
                area.draw(&PathElement::new(
                    [(x, y), (x + 26, y)],
                    color.stroke_width(2),
                ))
                .map_err(e)?;
            }
            let label = format!("{text} {}", if dashed { sides.old } else { sides.new });
            area.draw(&Text::new(label.clone(), (x + 34, y - 8), style.clone()))
                .map_err(e)?;
            x += 34 + area.estimate_text_size(&label, &style).map_err(e)?.0 as i32 + 24;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(metrics: &[(&str, f64)]) -> Observed {
        Observed {
            experiment: "x".into(),
            seed: 1,
            duration_s: 10.0,
            metrics: metrics.iter().map(|(n, v)| (n.to_string(), *v)).collect(),
            tolerances: vec![],
            faults: vec![("kill s2".into(), 3.0)],
            detections: vec![],
            timeline: Timeline {
                bucket_s: 1.0,
                ok_per_s: vec![10.0; 10],
                failed_per_s: vec![0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
                p99_ms: vec![5.0, 5.0, f64::NAN, 9.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0],
            },
        }
    }

    /// A baseline p99 of 1e308 made the secondary axis range infinite and
    /// plotters' tick loop spin forever; huge, tiny and NaN figures now
    /// draw (squeezed into finite ranges) at once.
    #[test]
    fn extreme_values_draw_at_once() {
        let dir = std::env::temp_dir().join(format!("hasim-diff-extreme-{}", std::process::id()));
        let mut old = obs(&[("requests", 1e308)]);
        old.timeline.p99_ms[0] = 1e308;
        old.timeline.ok_per_s[1] = f64::MAX;
        let mut new = obs(&[("requests", -1e308)]);
        new.duration_s = 1e308;
        new.timeline.bucket_s = 1e-308;
        new.timeline.failed_per_s[2] = -1e308;
        new.faults.push(("far".into(), 1e300));
        let started = std::time::Instant::now();
        for (a, b) in [(&old, &new), (&new, &old), (&old, &old)] {
            let rows = compare(a, b);
            report(Path::new("a"), Path::new("b"), a, b, &rows);
            overlay(a, b, "test", &dir.join("x.png")).unwrap();
        }
        assert!(started.elapsed().as_secs() < 30);
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!(squeeze(f64::NAN, 1.0, 2.0), 1.0);
        assert_eq!(squeeze(f64::INFINITY, 0.0, PLOT_LIMIT), PLOT_LIMIT);
    }

    #[test]
    fn tolerances_by_unit_and_verdicts() {
        assert_eq!(default_tolerance("requests").allowed(1000.0), 100.0);
        assert_eq!(default_tolerance("failed").allowed(5.0), 3.0);
        assert_eq!(default_tolerance("f1_detect_s").allowed(2.0), 0.5);
        assert_eq!(default_tolerance("p99_ms").allowed(50.0), 5.0);
        let old = obs(&[
            ("requests", 1000.0),
            ("f1_detect_s", 2.0),
            ("f2_detect_s", f64::NAN),
            ("gone", 1.0),
        ]);
        let new = obs(&[
            ("requests", 1099.0),
            ("f1_detect_s", 2.6),
            ("f2_detect_s", 1.0),
            ("extra", 3.0),
        ]);
        let rows = compare(&old, &new);
        let st: Vec<(&str, Status)> = rows.iter().map(|r| (r.name.as_str(), r.status)).collect();
        assert_eq!(
            st,
            [
                ("requests", Status::Within),
                ("f1_detect_s", Status::Beyond),
                ("f2_detect_s", Status::Beyond),
                ("gone", Status::Missing),
                ("extra", Status::New)
            ]
        );
        let text = report(Path::new("b.json"), Path::new("out"), &old, &new, &rows);
        assert!(text.contains("<< beyond tolerance"), "{text}");
        assert!(text.contains("1000 -> 1099"), "{text}");
    }

    #[test]
    fn a_baseline_round_trips_and_keeps_edited_tolerances() {
        let mut o = obs(&[("requests", 1000.0), ("f1_detect_s", f64::NAN)]);
        let text = baseline_json(&o, None);
        let dir = std::env::temp_dir().join(format!("hasim-diff-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("b.json");
        std::fs::write(&p, text.replace("\"abs\": 3,", "\"abs\": 50,")).unwrap();
        let back = load(&p).unwrap();
        assert_eq!(back.metrics[0], ("requests".to_string(), 1000.0));
        assert!(back.metrics[1].1.is_nan());
        assert_eq!(back.tolerance("requests").abs, 50.0);
        assert_eq!(back.timeline.p99_ms[3], 9.0);
        assert!(back.timeline.p99_ms[2].is_nan());
        assert_eq!(back.faults, o.faults);
        o.metrics[0].1 = 1200.0;
        let again = baseline_json(&o, Some(&back));
        assert!(
            again.contains("\"requests\": { \"value\": 1200, \"abs\": 50, \"rel\": 0.1 }"),
            "{again}"
        );
        overlay(&back, &o, "test", &dir.join("o.png")).unwrap();
        assert!(
            std::fs::read_to_string(dir.join("o.svg"))
                .unwrap()
                .contains("baseline (dashed)")
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
