//! The end summary of a run, as text (k6-like) and as JSON with the same
//! figures. Times of a fault action are relative to its instant.

use super::fmt::{db_codes, kinds, latency, percent, rel_ns, round, secs};
use super::{Detection, FaultReport, FormulaRange, RunResult};
use crate::engine::SimTime;
use crate::metrics::{ClientStats, DbCodes, FAILURE_KINDS, Histogram, KIND_COUNT, Window};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use std::fmt::Write as _;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A top-level line: `  requests.............: 9000 ...`.
fn row(s: &mut String, label: &str, value: &str) {
    let _ = writeln!(s, "  {label:.<21}: {value}");
}

/// A line under a fault: `     detected after.....: ...`.
fn fault_row(s: &mut String, label: &str, value: &str) {
    let _ = writeln!(s, "     {label:.<19}: {value}");
}

fn latency_line(h: &Histogram) -> String {
    if h.count() == 0 {
        return "none".to_string();
    }
    format!(
        "avg={}  min={}  med={}  p90={}  p95={}  p99={}  max={}",
        latency(h.mean_ms()),
        latency(h.min_ms()),
        latency(h.quantile_ms(0.5)),
        latency(h.quantile_ms(0.90)),
        latency(h.quantile_ms(0.95)),
        latency(h.quantile_ms(0.99)),
        latency(h.max_ms()),
    )
}

/// `; formula 4.000–6.000s  [U(0,inter) + ...]`, plus the warning when the
/// simulated value `sim_ns` (relative to the action) is outside the range.
fn formula_part(label: &str, f: Option<&FormulaRange>, sim_ns: Option<i128>) -> String {
    let Some(f) = f else { return String::new() };
    let mut s = format!(
        "; {label} {}–{}s  [{}]",
        secs(f.lo.0 as i128, 3),
        secs(f.hi.0 as i128, 3),
        f.formula
    );
    if let Some(v) = sim_ns
        && (v < f.lo.0 as i128 || v > f.hi.0 as i128)
    {
        s.push_str("  (outside the formula's range)");
    }
    s
}

fn detection_text(f: &FaultReport) -> String {
    match &f.detected {
        None => {
            let mut s = "not detected".to_string();
            s.push_str(&formula_part("formula", f.formula_detect.as_ref(), None));
            s
        }
        Some(d) => one_detection(d, f.formula_detect.as_ref(), f.at),
    }
}

/// `6.017s by galera1 (its words); formula lo–his [...]`.
fn one_detection(d: &Detection, formula: Option<&FormulaRange>, at: SimTime) -> String {
    let ns = rel_ns(d.at, at);
    let mut s = format!("{}s by {}", secs(ns, 3), d.by);
    if !d.detail.is_empty() {
        let _ = write!(s, " ({})", d.detail);
    }
    s.push_str(&formula_part("formula", formula, Some(ns)));
    s
}

fn window_text(f: &FaultReport) -> String {
    let w = &f.window;
    let (Some(first), Some(last)) = (w.first_start, w.last_start) else {
        let mut s = "none".to_string();
        s.push_str(&formula_part(
            "formula end",
            f.formula_window_end.as_ref(),
            None,
        ));
        return s;
    };
    let (a, b) = (rel_ns(first, f.at), rel_ns(last, f.at));
    let mut s = format!(
        "{}s .. {}s ({}s), {} failed ({})",
        secs(a, 3),
        secs(b, 3),
        secs(b - a, 3),
        w.failed,
        kinds(&w.by_kind, ", ")
    );
    s.push_str(&formula_part(
        "formula end",
        f.formula_window_end.as_ref(),
        Some(b),
    ));
    s
}

/// The k6-like end summary (also printed by the CLI).
pub fn summary_text(r: &RunResult) -> String {
    let rec = &r.recorder;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hasim {VERSION} — experiment {} (seed {}, {} simulated)",
        r.experiment, r.seed, r.duration
    );
    for line in r
        .description
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.trim().is_empty())
    {
        let _ = writeln!(s, "  {}", line.trim_start());
    }
    let _ = writeln!(s, "  {}", r.start.describe());
    for w in &r.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    s.push('\n');

    let dur_s = r.duration.as_secs_f64();
    let rate = if dur_s > 0.0 {
        rec.requests as f64 / dur_s
    } else {
        0.0
    };
    let ok = rec.requests - rec.failed;
    row(
        &mut s,
        "requests",
        &format!("{:<8} {rate:.1}/s", rec.requests),
    );
    row(
        &mut s,
        "ok",
        &format!("{ok:<8} {}", percent(ok, rec.requests)),
    );
    let failed = format!(
        "{:<8} {:<7} {}",
        rec.failed,
        percent(rec.failed, rec.requests),
        kinds(&rec.by_kind, "  ")
    );
    row(&mut s, "failed", failed.trim_end());
    if !rec.db_codes.is_empty() {
        let codes = db_codes(&rec.by_kind, &rec.db_codes, "  ");
        row(&mut s, "db error codes", &codes);
    }
    row(&mut s, "latency (all)", &latency_line(&rec.overall));
    row(&mut s, "latency (ok)", &latency_line(&rec.overall_ok));
    if rec.before_faults.failed > 0 {
        let w = &rec.before_faults;
        row(
            &mut s,
            "failed before faults",
            &format!("{} ({})", w.failed, kinds(&w.by_kind, ", ")),
        );
    }
    row(
        &mut s,
        "state changes",
        &format!("{}, see events.csv", rec.events.len()),
    );
    clients_text(&mut s, &rec.clients);

    s.push_str(&super::data::data_text(r, row));
    s.push_str(&super::data::vips_text(r, row));

    if !r.faults.is_empty() {
        s.push_str("\n  faults\n");
    }
    for (i, f) in r.faults.iter().enumerate() {
        let _ = writeln!(
            s,
            "  #{} {} at {}s",
            i + 1,
            f.label,
            secs(f.at.0 as i128, 3)
        );
        fault_row(&mut s, "detected after", &detection_text(f));
        for a in &f.also_detected {
            let line = one_detection(&a.detection, a.formula.as_ref(), f.at);
            fault_row(&mut s, "then detected", &line);
        }
        fault_row(&mut s, "error window", &window_text(f));
        if !f.window.db_codes.is_empty() {
            let codes = db_codes(&f.window.by_kind, &f.window.db_codes, "  ");
            fault_row(&mut s, "db error codes", &codes);
        }
        if let (Some(a), Some(b)) = (f.window.first_end, f.window.last_end) {
            let seen = format!(
                "{}s .. {}s, the longest took {}s",
                secs(rel_ns(a, f.at), 3),
                secs(rel_ns(b, f.at), 3),
                secs(f.window.longest.0 as i128, 3)
            );
            fault_row(&mut s, "failures seen", &seen);
        }
        let after = format!(
            "{} (max {})",
            latency(f.p99_ms_after),
            latency(f.max_ms_after)
        );
        fault_row(&mut s, "p99 after", &after);
        if let Some(h) = &r.history {
            let lost = h.lost_between(f.at, segment_end(r, i));
            fault_row(&mut s, "acked writes lost", &lost.to_string());
        }
    }
    thresholds_text(&mut s, &r.thresholds);
    s
}

/// The `[thresholds]` block: each condition PASS or FAIL with its value.
fn thresholds_text(s: &mut String, checked: &[super::thresholds::Checked]) {
    if checked.is_empty() {
        return;
    }
    let crossed = super::thresholds::crossed(checked);
    let _ = writeln!(
        s,
        "\n  thresholds: {} of {} crossed{}",
        crossed,
        checked.len(),
        if crossed > 0 { " (exit code 1)" } else { "" }
    );
    let width = checked
        .iter()
        .map(|c| c.threshold.condition().chars().count())
        .max()
        .unwrap_or(0);
    for c in checked {
        let value = match &c.note {
            Some(note) => note.clone(),
            None => threshold_value(c.value),
        };
        let _ = writeln!(
            s,
            "     {}  {:<width$}  {value}",
            if c.pass { "PASS" } else { "FAIL" },
            c.threshold.condition()
        );
    }
}

/// A checked value: whole numbers whole, others to 6 significant digits.
fn threshold_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        crate::sweep::metrics::json_num(crate::sweep::table::round_sig(v, 6))
    }
}

/// One block per client when there are several (the totals above mix a
/// writer's answers with the users'): requests, failures by kind, the
/// latency of its successful requests.
fn clients_text(s: &mut String, clients: &[ClientStats]) {
    if clients.len() < 2 {
        return;
    }
    s.push_str("\n  clients\n");
    for c in clients {
        let mut line = format!(
            "{:<8} failed {} {}",
            c.requests,
            c.failed,
            percent(c.failed, c.requests)
        );
        if c.failed > 0 {
            let _ = write!(line, " ({})", kinds(&c.by_kind, ", "));
        }
        row(s, &c.name, &line);
        fault_row(s, "latency (ok)", &latency_line(&c.ok_latency));
    }
}

/// Where fault action `i`'s segment ends: the next action, or the run's end.
fn segment_end(r: &RunResult, i: usize) -> SimTime {
    r.faults.get(i + 1).map_or(SimTime(r.duration.0), |f| f.at)
}

// ---------------------------------------------------------------- JSON

/// Failure counts as an object in `FAILURE_KINDS` order, nonzero only (built by
/// hand so the order never depends on serde_json's map features).
struct Kinds<'a>(&'a [u64; KIND_COUNT]);

impl Serialize for Kinds<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let n = self.0.iter().filter(|&&c| c > 0).count();
        let mut m = ser.serialize_map(Some(n))?;
        for (k, &c) in self.0.iter().enumerate().filter(|&(_, &c)| c > 0) {
            m.serialize_entry(FAILURE_KINDS[k], &c)?;
        }
        m.end()
    }
}

/// The database errors behind the `db_*` failure kinds: kind -> a list of
/// `{code, meaning, count}`, kinds in `FAILURE_KINDS` order, codes in their
/// text order (so that runs compare line by line).
struct DbErrors<'a>(&'a DbCodes);

impl DbErrors<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[derive(Serialize)]
struct DbErrorJson<'a> {
    code: &'a str,
    meaning: &'static str,
    count: u64,
}

impl Serialize for DbErrors<'_> {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let by_kind: Vec<(usize, Vec<_>)> = (0..KIND_COUNT)
            .map(|k| {
                let mut v = self.0.of_kind(k);
                v.sort_by(|a, b| a.0.code.cmp(&b.0.code).then(a.0.cmp(&b.0)));
                (k, v)
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        let mut m = ser.serialize_map(Some(by_kind.len()))?;
        for (k, v) in &by_kind {
            let list: Vec<DbErrorJson<'_>> = v
                .iter()
                .map(|(e, count)| DbErrorJson {
                    code: e.code.as_str(),
                    meaning: e.meaning.name(),
                    count: *count,
                })
                .collect();
            m.serialize_entry(FAILURE_KINDS[*k], &list)?;
        }
        m.end()
    }
}

#[derive(Serialize)]
struct LatencyJson {
    count: u64,
    avg: f64,
    min: f64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

impl LatencyJson {
    fn of(h: &Histogram) -> LatencyJson {
        let q = |x: f64| round(x, 3);
        LatencyJson {
            count: h.count(),
            avg: q(h.mean_ms()),
            min: q(h.min_ms()),
            p50: q(h.quantile_ms(0.5)),
            p90: q(h.quantile_ms(0.9)),
            p95: q(h.quantile_ms(0.95)),
            p99: q(h.quantile_ms(0.99)),
            max: q(h.max_ms()),
        }
    }
}

#[derive(Serialize)]
struct LatencyPair {
    all: LatencyJson,
    ok: LatencyJson,
}

#[derive(Serialize)]
struct FormulaJson<'a> {
    lo_s: f64,
    hi_s: f64,
    formula: &'a str,
}

impl<'a> FormulaJson<'a> {
    fn of(f: Option<&'a FormulaRange>) -> Option<FormulaJson<'a>> {
        f.map(|f| FormulaJson {
            lo_s: f.lo.as_secs_f64(),
            hi_s: f.hi.as_secs_f64(),
            formula: &f.formula,
        })
    }
}

/// Seconds relative to `origin` (exact to the nanosecond, shortest rendering).
fn rel_s(t: SimTime, origin: SimTime) -> f64 {
    rel_ns(t, origin) as f64 / 1e9
}

#[derive(Serialize)]
struct WindowJson<'a> {
    failed: u64,
    by_kind: Kinds<'a>,
    #[serde(skip_serializing_if = "DbErrors::is_empty")]
    db_errors: DbErrors<'a>,
    first_start_s: Option<f64>,
    last_start_s: Option<f64>,
    first_end_s: Option<f64>,
    last_end_s: Option<f64>,
    longest_s: f64,
}

impl<'a> WindowJson<'a> {
    /// `None` when nothing failed; times relative to `origin`.
    fn of(w: &'a Window, origin: SimTime) -> Option<WindowJson<'a>> {
        (w.failed > 0).then(|| WindowJson {
            failed: w.failed,
            by_kind: Kinds(&w.by_kind),
            db_errors: DbErrors(&w.db_codes),
            first_start_s: w.first_start.map(|t| rel_s(t, origin)),
            last_start_s: w.last_start.map(|t| rel_s(t, origin)),
            first_end_s: w.first_end.map(|t| rel_s(t, origin)),
            last_end_s: w.last_end.map(|t| rel_s(t, origin)),
            longest_s: w.longest.as_secs_f64(),
        })
    }
}

#[derive(Serialize)]
struct AlsoJson<'a> {
    after_s: f64,
    by: &'a str,
    detail: &'a str,
    formula: Option<FormulaJson<'a>>,
}

#[derive(Serialize)]
struct FaultJson<'a> {
    label: &'a str,
    is_recovery: bool,
    at_s: f64,
    targets: &'a [String],
    detected_after_s: Option<f64>,
    detected_by: Option<&'a str>,
    detail: Option<&'a str>,
    formula_detect: Option<FormulaJson<'a>>,
    /// Later reactions of other products, each with its own formula.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    also_detected: Vec<AlsoJson<'a>>,
    window: Option<WindowJson<'a>>,
    p99_ms_after: f64,
    max_ms_after: f64,
    formula_window_end: Option<FormulaJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    lost_writes: Option<usize>,
}

#[derive(Serialize)]
struct ClientJson<'a> {
    name: &'a str,
    requests: u64,
    ok: u64,
    failed: u64,
    failed_by_kind: Kinds<'a>,
    latency_ms_ok: LatencyJson,
}

#[derive(Serialize)]
struct SummaryJson<'a> {
    hasim: &'static str,
    experiment: &'a str,
    description: &'a str,
    /// Present when the configuration warned (older files lack it).
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
    seed: u64,
    duration_s: f64,
    /// How the run started (older files lack it).
    start: StartJson,
    bucket_s: f64,
    requests: u64,
    ok: u64,
    failed: u64,
    failed_by_kind: Kinds<'a>,
    /// Present when a database answered with errors (older files lack it).
    #[serde(skip_serializing_if = "DbErrors::is_empty")]
    db_errors: DbErrors<'a>,
    latency_ms: LatencyPair,
    /// Each client's own figures, in experiment order.
    clients: Vec<ClientJson<'a>>,
    state_changes: usize,
    /// Failures before the first fault action, times from the run's start.
    failed_before_faults: Option<WindowJson<'a>>,
    faults: Vec<FaultJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<super::data::DataJson<'a>>,
    /// Intervals two hosts or more held one VIP at once (absent without).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    two_vip_holders: Vec<super::data::VipSplitJson<'a>>,
    /// The experiment's `[thresholds]`, checked (absent without).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    thresholds: Vec<ThresholdJson<'a>>,
}

#[derive(Serialize)]
struct ThresholdJson<'a> {
    condition: String,
    figure: &'a str,
    op: &'static str,
    bound: f64,
    /// `null` when the run has no value (then it fails).
    value: Option<f64>,
    pass: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
    /// `file:line` of the condition.
    at: &'a str,
}

#[derive(Serialize)]
struct StartJson {
    cold_start: bool,
    warm_up_s: f64,
    aligned: bool,
}

/// The same figures as [`summary_text`], as pretty-printed JSON (keys in a
/// fixed order, floats in their shortest exact rendering).
pub fn summary_json(r: &RunResult) -> String {
    let rec = &r.recorder;
    let faults = r
        .faults
        .iter()
        .enumerate()
        .map(|(i, f)| FaultJson {
            label: &f.label,
            is_recovery: f.is_recovery,
            at_s: f.at.as_secs_f64(),
            targets: &f.targets,
            detected_after_s: f.detected.as_ref().map(|d| rel_s(d.at, f.at)),
            detected_by: f.detected.as_ref().map(|d| d.by.as_str()),
            detail: f.detected.as_ref().map(|d| d.detail.as_str()),
            formula_detect: FormulaJson::of(f.formula_detect.as_ref()),
            also_detected: f
                .also_detected
                .iter()
                .map(|a| AlsoJson {
                    after_s: rel_s(a.detection.at, f.at),
                    by: &a.detection.by,
                    detail: &a.detection.detail,
                    formula: FormulaJson::of(a.formula.as_ref()),
                })
                .collect(),
            window: WindowJson::of(&f.window, f.at),
            p99_ms_after: round(f.p99_ms_after, 3),
            max_ms_after: round(f.max_ms_after, 3),
            formula_window_end: FormulaJson::of(f.formula_window_end.as_ref()),
            lost_writes: r
                .history
                .as_ref()
                .map(|h| h.lost_between(f.at, segment_end(r, i))),
        })
        .collect();
    let doc = SummaryJson {
        hasim: VERSION,
        experiment: &r.experiment,
        description: &r.description,
        warnings: &r.warnings,
        seed: r.seed,
        duration_s: r.duration.as_secs_f64(),
        start: StartJson {
            cold_start: r.start.is_cold(),
            warm_up_s: r.start.warm_up.as_secs_f64(),
            aligned: r.start.aligned,
        },
        bucket_s: rec.timeline.width.as_secs_f64(),
        requests: rec.requests,
        ok: rec.requests - rec.failed,
        failed: rec.failed,
        failed_by_kind: Kinds(&rec.by_kind),
        db_errors: DbErrors(&rec.db_codes),
        latency_ms: LatencyPair {
            all: LatencyJson::of(&rec.overall),
            ok: LatencyJson::of(&rec.overall_ok),
        },
        clients: rec
            .clients
            .iter()
            .map(|c| ClientJson {
                name: &c.name,
                requests: c.requests,
                ok: c.requests - c.failed,
                failed: c.failed,
                failed_by_kind: Kinds(&c.by_kind),
                latency_ms_ok: LatencyJson::of(&c.ok_latency),
            })
            .collect(),
        state_changes: rec.events.len(),
        failed_before_faults: WindowJson::of(&rec.before_faults, SimTime::ZERO),
        faults,
        data: super::data::data_json(r),
        two_vip_holders: super::data::vips_json(r),
        thresholds: r
            .thresholds
            .iter()
            .map(|c| ThresholdJson {
                condition: c.threshold.condition(),
                figure: &c.threshold.key,
                op: c.threshold.op.symbol(),
                bound: c.threshold.bound,
                value: (!c.value.is_nan()).then_some(c.value),
                pass: c.pass,
                note: c.note.as_deref(),
                at: &c.threshold.at,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("a summary always serializes");
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{sample, sample_with};
    use super::*;
    use serde_json::Value;

    #[test]
    fn text_has_counts_kinds_and_fault_lines() {
        let r = sample();
        let t = summary_text(&r);
        println!("{t}");
        assert!(t.starts_with("hasim 0.1.0 — experiment test-kill (seed 7, 10s simulated)\n"));
        assert!(
            t.contains("  requests.............: 100      10.0/s\n"),
            "{t}"
        );
        assert!(
            t.contains("  ok...................: 94       94.00%\n"),
            "{t}"
        );
        assert!(
            t.contains("  failed...............: 6        6.00%   503: 4  502: 1  refused: 1\n"),
            "{t}"
        );
        assert!(t.contains("  latency (all)........: avg="), "{t}");
        assert!(
            t.contains("state changes........: 3, see events.csv"),
            "{t}"
        );
        assert!(t.contains("  #1 kill s2 at 3.000s\n"), "{t}");
        assert!(t.contains(
            "     detected after.....: 1.500s by lb (Layer4 connection problem, info: \"Connection refused\", \
             check duration: 0ms); formula 1.000–2.000s  [U(0,inter) + fall*inter]\n"
        ), "{t}");
        assert!(
            t.contains(
                "     error window.......: -0.050s .. 1.400s (1.450s), 5 failed (503: 4, 502: 1); \
             formula end 0.500–1.000s  [detect - d]  (outside the formula's range)\n"
            ),
            "{t}"
        );
        assert!(
            t.contains("     failures seen......: 0.000s .. 1.405s, the longest took 0.050s\n"),
            "{t}"
        );
        assert!(
            t.contains("  #2 recover s2 at 7.000s\n     detected after.....: not detected\n"),
            "{t}"
        );
        assert!(
            t.contains(
                "     error window.......: 0.200s .. 0.200s (0.000s), 1 failed (refused: 1)\n"
            ),
            "{t}"
        );
    }

    #[test]
    fn a_failure_belongs_to_the_fault_in_force_when_it_was_issued() {
        use crate::metrics::Outcome;
        // Kill at 3 s, recovery at 7 s. A timeout issued at 6.5 s during the
        // outage that ends after the recovery is the kill's; a request in
        // flight when the kill struck (issued 2.9 s) is the kill's too; a
        // refusal issued after the recovery stays the recovery's.
        let r = sample_with(&[
            (6_500, 7_500, Outcome::Timeout),
            (2_900, 3_100, Outcome::Reset),
        ]);
        let (kill, recover) = (&r.recorder.windows[0], &r.recorder.windows[1]);
        let t = |ms: u64| Some(SimTime(ms * crate::engine::Dur::MS));
        assert_eq!(kill.failed, 7);
        assert_eq!((kill.first_start, kill.last_start), (t(2_900), t(6_500)));
        assert_eq!(kill.last_end, t(7_500));
        assert_eq!((recover.failed, recover.first_start), (1, t(7_200)));
        assert_eq!(r.recorder.before_faults.failed, 0);
    }

    /// Database errors in made-up codes: two meanings in one kind, and a
    /// second kind, split over the fault windows.
    fn with_db_errors() -> RunResult {
        use crate::metrics::Outcome;
        use crate::process::{DbErrorCode, Meaning};
        let e = |code, meaning| Outcome::Db(DbErrorCode::new(code, "", "", meaning).error);
        let (nr, cf, dl) = (
            e("E100", Meaning::NotReady),
            e("E200", Meaning::CommitFailed),
            e("X9", Meaning::Deadlock),
        );
        sample_with(&[
            (1_000, 1_001, dl),
            (3_600, 3_601, nr),
            (3_700, 3_701, cf),
            (3_800, 3_801, nr),
            (7_300, 7_301, nr),
        ])
    }

    #[test]
    fn text_breaks_database_failures_down_by_the_products_codes() {
        let t = summary_text(&with_db_errors());
        println!("{t}");
        assert!(
            t.contains("  failed...............: 11       10.48%  503: 4  db_not_ready: 4  502: 1  refused: 1  db_deadlock: 1
"),
            "{t}"
        );
        assert!(
            t.contains(
                "  db error codes.......: db_not_ready: 4 (E100: 3, E200: 1)  db_deadlock: 1 (X9: 1)
"
            ),
            "{t}"
        );
        // Each fault window lists its own.
        assert!(
            t.contains(
                "     db error codes.....: db_not_ready: 3 (E100: 2, E200: 1)
"
            ),
            "{t}"
        );
        assert!(
            t.contains(
                "     db error codes.....: db_not_ready: 1 (E100: 1)
"
            ),
            "{t}"
        );
        // Without database errors, no such line.
        assert!(!summary_text(&sample()).contains("db error codes"));
    }

    #[test]
    fn json_lists_the_codes_of_each_database_failure_kind() {
        let v: Value = serde_json::from_str(&summary_json(&with_db_errors())).unwrap();
        assert_eq!(v["failed_by_kind"]["db_not_ready"], 4);
        let nr = v["db_errors"]["db_not_ready"].as_array().unwrap();
        let got: Vec<(&str, &str, u64)> = nr
            .iter()
            .map(|c| {
                let s = |k: &str| c[k].as_str().unwrap();
                (s("code"), s("meaning"), c["count"].as_u64().unwrap())
            })
            .collect();
        assert_eq!(
            got,
            [("E100", "not_ready", 3), ("E200", "commit_failed", 1)]
        );
        assert_eq!(v["db_errors"]["db_deadlock"][0]["code"], "X9");
        assert_eq!(v["db_errors"].as_object().unwrap().len(), 2);
        assert_eq!(
            v["faults"][0]["window"]["db_errors"]["db_not_ready"][0]["count"],
            2
        );
        assert_eq!(
            v["failed_before_faults"]["db_errors"]["db_deadlock"][0]["count"],
            1
        );
        // The key follows failed_by_kind, and is absent without database errors.
        let s = summary_json(&with_db_errors());
        assert!(s.find("\"failed_by_kind\"").unwrap() < s.find("\"db_errors\"").unwrap());
        assert!(!summary_json(&sample()).contains("db_errors"));
    }

    #[test]
    fn json_parses_back_with_the_same_figures() {
        let r = sample();
        let v: Value = serde_json::from_str(&summary_json(&r)).unwrap();
        assert_eq!(v["experiment"], "test-kill");
        assert_eq!(v["seed"], 7);
        assert_eq!(v["duration_s"], 10.0);
        assert_eq!(v["requests"], 100);
        assert_eq!(v["ok"], 94);
        assert_eq!(v["failed"], 6);
        let kinds: Vec<(&String, &Value)> =
            v["failed_by_kind"].as_object().unwrap().iter().collect();
        assert_eq!(kinds.len(), 3);
        assert_eq!(v["failed_by_kind"]["503"], 4);
        assert_eq!(v["failed_by_kind"]["refused"], 1);
        assert_eq!(v["latency_ms"]["ok"]["count"], 94);
        assert!(v["latency_ms"]["all"]["max"].as_f64().unwrap() >= 50.0);
        let f0 = &v["faults"][0];
        assert_eq!(f0["label"], "kill s2");
        assert_eq!(f0["at_s"], 3.0);
        assert_eq!(f0["targets"][0], "s2");
        assert_eq!(f0["detected_after_s"], 1.5);
        assert_eq!(f0["detected_by"], "lb");
        assert_eq!(f0["formula_detect"]["lo_s"], 1.0);
        assert_eq!(f0["formula_detect"]["hi_s"], 2.0);
        assert_eq!(f0["window"]["failed"], 5);
        assert_eq!(f0["window"]["by_kind"]["502"], 1);
        assert_eq!(f0["window"]["first_start_s"], -0.05);
        assert_eq!(f0["window"]["last_start_s"], 1.4);
        assert_eq!(f0["formula_window_end"]["formula"], "detect - d");
        let f1 = &v["faults"][1];
        assert!(f1["detected_after_s"].is_null() && f1["detected_by"].is_null());
        assert!(f1["formula_detect"].is_null());
        assert_eq!(f1["window"]["failed"], 1);
        assert!(v["failed_before_faults"].is_null());
        // Key order is fixed.
        let s = summary_json(&r);
        assert!(s.find("\"experiment\"").unwrap() < s.find("\"seed\"").unwrap());
        assert!(s.find("\"503\"").unwrap() < s.find("\"refused\"").unwrap());
    }
}
