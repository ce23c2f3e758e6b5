//! The page of one run, from the files hasim wrote into its folder:
//! `summary.json` (every figure), `events.csv` (the state-change log),
//! `summary.txt`, `timeline.svg` and the zoomed panels `fault-N.svg`.

use super::HtmlError;
use super::escape::esc;
use super::page::{card, figure, kv_table, section, table, toc};
use crate::metrics::FAILURE_KINDS;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// State changes listed on the page at most; the rest are in events.csv.
pub const MAX_EVENTS: usize = 2000;

#[derive(Deserialize)]
struct Summary {
    hasim: String,
    experiment: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    warnings: Vec<String>,
    seed: u64,
    duration_s: f64,
    /// How the run started (older files lack it).
    start: Option<Start>,
    bucket_s: f64,
    requests: u64,
    ok: u64,
    failed: u64,
    failed_by_kind: BTreeMap<String, u64>,
    #[serde(default)]
    db_errors: BTreeMap<String, Vec<DbError>>,
    latency_ms: LatencyPair,
    #[serde(default)]
    clients: Vec<Client>,
    state_changes: u64,
    failed_before_faults: Option<Window>,
    faults: Vec<Fault>,
    data: Option<Data>,
    #[serde(default)]
    two_vip_holders: Vec<VipSplit>,
}

#[derive(Deserialize)]
struct Start {
    cold_start: bool,
    warm_up_s: f64,
    aligned: bool,
}

#[derive(Deserialize)]
struct DbError {
    code: String,
    count: u64,
}

#[derive(Deserialize)]
struct LatencyPair {
    all: Latency,
    ok: Latency,
}

#[derive(Deserialize)]
struct Latency {
    count: u64,
    avg: f64,
    min: f64,
    p50: f64,
    p90: f64,
    p95: f64,
    p99: f64,
    max: f64,
}

#[derive(Deserialize)]
struct Client {
    name: String,
    requests: u64,
    ok: u64,
    failed: u64,
    failed_by_kind: BTreeMap<String, u64>,
    latency_ms_ok: Latency,
}

#[derive(Deserialize)]
struct Formula {
    lo_s: f64,
    hi_s: f64,
    formula: String,
}

#[derive(Deserialize)]
struct Also {
    after_s: f64,
    by: String,
    detail: String,
    formula: Option<Formula>,
}

#[derive(Deserialize)]
struct Window {
    failed: u64,
    by_kind: BTreeMap<String, u64>,
    first_start_s: Option<f64>,
    last_start_s: Option<f64>,
    first_end_s: Option<f64>,
    last_end_s: Option<f64>,
    longest_s: f64,
}

#[derive(Deserialize)]
struct Fault {
    label: String,
    is_recovery: bool,
    at_s: f64,
    #[serde(default)]
    targets: Vec<String>,
    detected_after_s: Option<f64>,
    detected_by: Option<String>,
    detail: Option<String>,
    formula_detect: Option<Formula>,
    #[serde(default)]
    also_detected: Vec<Also>,
    window: Option<Window>,
    p99_ms_after: f64,
    max_ms_after: f64,
    formula_window_end: Option<Formula>,
    lost_writes: Option<u64>,
}

#[derive(Deserialize)]
struct Data {
    writes: u64,
    writes_ok: u64,
    writes_failed: u64,
    writes_indeterminate: u64,
    lost_writes: u64,
    #[serde(default)]
    lost: Vec<Lost>,
    failed_but_committed: u64,
    indeterminate_committed: u64,
    reads: u64,
    stale_reads: u64,
    first_stale_read_s: Option<f64>,
    #[serde(default)]
    clusters: Vec<Cluster>,
    #[serde(default)]
    failover_phases: Vec<Breakdown>,
}

#[derive(Deserialize)]
struct Lost {
    op: u64,
    acknowledged_s: f64,
}

#[derive(Deserialize)]
struct Cluster {
    name: String,
    split_brain_s: f64,
    split_brain: Vec<Interval>,
    no_primary_s: f64,
    no_primary: Vec<Interval>,
}

#[derive(Deserialize)]
struct Interval {
    from_s: f64,
    to_s: f64,
    #[serde(default)]
    nodes: Vec<String>,
}

#[derive(Deserialize)]
struct Breakdown {
    cluster: String,
    title: String,
    phases: Vec<Phase>,
}

#[derive(Deserialize)]
struct Phase {
    phase: String,
    lo_s: f64,
    hi_s: f64,
}

#[derive(Deserialize)]
struct VipSplit {
    vip: String,
    from_s: f64,
    to_s: f64,
    #[serde(default)]
    hosts: Vec<String>,
}

/// One row of events.csv.
struct Event {
    t_s: String,
    component: String,
    subject: String,
    event: String,
    detail: String,
}

/// Seconds with three decimals, never `-0.000`.
fn s3(x: f64) -> String {
    let s = format!("{x:.3}");
    if s == "-0.000" { "0.000".into() } else { s }
}

/// A latency in ms as the summary prints it: `5.24ms`, `15.64s`.
fn lat(ms: f64) -> String {
    super::super::fmt::latency(ms)
}

fn percent(part: u64, whole: u64) -> String {
    super::super::fmt::percent(part, whole)
}

/// Failure kinds largest first (ties in hasim's kind order), `503: 378, 502: 1`.
fn kinds(by_kind: &BTreeMap<String, u64>) -> String {
    let order = |k: &str| {
        FAILURE_KINDS
            .iter()
            .position(|x| *x == k)
            .unwrap_or(usize::MAX)
    };
    let mut v: Vec<(&String, &u64)> = by_kind.iter().filter(|(_, n)| **n > 0).collect();
    v.sort_by(|a, b| {
        b.1.cmp(a.1)
            .then(order(a.0).cmp(&order(b.0)))
            .then(a.0.cmp(b.0))
    });
    v.iter()
        .map(|(k, n)| format!("{k}: {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn read(dir: &Path, name: &str) -> Result<Option<String>, HtmlError> {
    let p = dir.join(name);
    match std::fs::read_to_string(&p) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(HtmlError::Io { path: p, error: e }),
    }
}

fn events(dir: &Path) -> Result<Vec<Event>, HtmlError> {
    let Some(text) = read(dir, "events.csv")? else {
        return Ok(Vec::new());
    };
    let bad = |e: String| HtmlError::Input(format!("{}: {e}", dir.join("events.csv").display()));
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| bad(e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    if header != ["t_s", "component", "subject", "event", "detail"] {
        return Err(bad(
            "not an events.csv hasim wrote: the header must be t_s,component,subject,event,detail"
                .into(),
        ));
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let f = |i: usize| rec.get(i).unwrap_or_default().to_string();
        out.push(Event {
            t_s: f(0),
            component: f(1),
            subject: f(2),
            event: f(3),
            detail: f(4),
        });
    }
    Ok(out)
}

/// The run page of the output folder `dir` (which holds `summary.json`).
pub fn render(dir: &Path) -> Result<String, HtmlError> {
    let json = read(dir, "summary.json")?
        .ok_or_else(|| HtmlError::Input(format!("{}: no summary.json", dir.display())))?;
    let sum: Summary = serde_json::from_str(&json).map_err(|e| {
        HtmlError::Input(format!(
            "{}: not a summary.json hasim wrote: {e}",
            dir.join("summary.json").display()
        ))
    })?;
    let events = events(dir)?;
    let svg = |name: &str| read(dir, name);

    let mut body = String::new();
    header(&mut body, &sum);
    let mut contents = vec![("summary", "Summary")];
    if !sum.faults.is_empty() {
        contents.push(("faults", "Faults"));
        contents.push(("formulas", "Formula vs simulation"));
    }
    contents.push(("data", "Data safety"));
    contents.push(("clients", "Clients"));
    contents.push(("events", "State changes"));
    contents.push(("text", "Plain-text summary"));
    let entries: Vec<(String, String)> = contents
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    body.push_str(&toc(&entries));

    body.push_str(&section(
        "summary",
        "Summary",
        &summary(&sum, svg("timeline.svg")?),
    ));
    if !sum.faults.is_empty() {
        let mut s = String::new();
        for (i, f) in sum.faults.iter().enumerate() {
            let panel = if f.is_recovery {
                None
            } else {
                svg(&format!("fault-{}.svg", i + 1))?
            };
            s.push_str(&fault(i + 1, f, panel.as_deref(), &sum));
        }
        body.push_str(&section("faults", "Faults", &s));
        body.push_str(&section(
            "formulas",
            "Formula vs simulation",
            &formulas(&sum.faults),
        ));
    }
    body.push_str(&section("data", "Data safety", &data(&sum)));
    body.push_str(&section("clients", "Clients", &clients(&sum)));
    body.push_str(&section(
        "events",
        "State changes",
        &event_list(&events, sum.state_changes),
    ));
    let text = read(dir, "summary.txt")?.unwrap_or_default();
    body.push_str(&section(
        "text",
        "Plain-text summary",
        &format!(
            "<details><summary>summary.txt, as hasim printed it</summary>\n<pre>{}</pre>\n</details>\n",
            esc(&text)
        ),
    ));
    footer(
        &mut body,
        &["summary.txt", "summary.json", "timeline.csv", "events.csv"],
    );
    Ok(super::page::page(
        &format!("{} — hasim report", sum.experiment),
        &body,
    ))
}

fn header(body: &mut String, sum: &Summary) {
    body.push_str("<header class=\"top\">\n");
    let _ = writeln!(
        body,
        "<p class=\"muted\">hasim {} · experiment report</p>\n<h1>{}</h1>",
        esc(&sum.hasim),
        esc(&sum.experiment)
    );
    for line in sum.description.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(body, "<p class=\"desc\">{}</p>", esc(line.trim()));
    }
    let _ = writeln!(
        body,
        "<p class=\"muted\">seed {} · {} s simulated · {} s buckets · {} state changes</p>",
        sum.seed,
        trim_num(sum.duration_s),
        trim_num(sum.bucket_s),
        sum.state_changes
    );
    if let Some(st) = &sum.start {
        let line = if st.cold_start {
            "cold start: every process boots at 0".to_string()
        } else {
            format!(
                "started formed: {} s of warm-up before 0 (no clients, no faults), {}",
                trim_num(st.warm_up_s),
                if st.aligned {
                    "every process booted at the same instant"
                } else {
                    "each process's timers at a phase drawn from the seed"
                }
            )
        };
        let _ = writeln!(body, "<p class=\"muted\">{}</p>", esc(&line));
    }
    for w in &sum.warnings {
        let _ = writeln!(body, "<p class=\"warn\">warning: {}</p>", esc(w));
    }
    body.push_str("</header>\n");
}

/// A number without trailing zeros: `300`, `0.5`.
fn trim_num(x: f64) -> String {
    let s = format!("{x:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

/// The error window of a fault in seconds: first to last failed issue.
fn window_s(f: &Fault) -> f64 {
    f.window
        .as_ref()
        .and_then(|w| Some(w.last_start_s? - w.first_start_s?))
        .unwrap_or(0.0)
}

fn summary(sum: &Summary, timeline: Option<String>) -> String {
    let mut s = String::from("<div class=\"cards\">\n");
    // Error window: the sum over faults, as sweeps tabulate `error_window_s`.
    let with_window: Vec<(usize, &Fault)> = sum
        .faults
        .iter()
        .enumerate()
        .filter(|(_, f)| f.window.as_ref().is_some_and(|w| w.failed > 0))
        .collect();
    let total: f64 = sum.faults.iter().map(window_s).sum();
    let sub = match with_window.as_slice() {
        [] if sum.faults.is_empty() => "no faults".to_string(),
        [] => "no fault made a request fail".to_string(),
        [(i, f)] => format!("#{} {}", i + 1, f.label),
        many => {
            let (i, f) = many
                .iter()
                .copied()
                .max_by(|a, b| window_s(a.1).total_cmp(&window_s(b.1)).then(b.0.cmp(&a.0)))
                .expect("nonempty");
            format!(
                "{} faults; longest #{} {} ({} s)",
                many.len(),
                i + 1,
                f.label,
                s3(window_s(f))
            )
        }
    };
    let tone = |bad: bool| if bad { "bad" } else { "good" };
    s.push_str(&card(
        "Error window",
        &if with_window.is_empty() {
            "none".into()
        } else {
            format!("{} s", s3(total))
        },
        &sub,
        tone(!with_window.is_empty()),
    ));
    s.push_str(&card(
        "Failed requests",
        &sum.failed.to_string(),
        &format!("{} of {}", percent(sum.failed, sum.requests), sum.requests),
        tone(sum.failed > 0),
    ));
    match &sum.data {
        Some(d) => {
            s.push_str(&card(
                "Lost writes",
                &d.lost_writes.to_string(),
                &format!("acknowledged, of {} writes", d.writes),
                tone(d.lost_writes > 0),
            ));
            let split: f64 =
                d.clusters.iter().map(|c| c.split_brain_s).sum::<f64>() + vip_split_s(sum);
            let n: usize = d
                .clusters
                .iter()
                .map(|c| c.split_brain.len())
                .sum::<usize>()
                + sum.two_vip_holders.len();
            s.push_str(&split_card(split, n));
            let np: f64 = d.clusters.iter().map(|c| c.no_primary_s).sum();
            let nn: usize = d.clusters.iter().map(|c| c.no_primary.len()).sum();
            s.push_str(&card(
                "No writable primary",
                &if nn == 0 {
                    "none".into()
                } else {
                    format!("{} s", s3(np))
                },
                &format!("{nn} interval{}", if nn == 1 { "" } else { "s" }),
                if nn == 0 { "good" } else { "" },
            ));
        }
        None => {
            s.push_str(&card(
                "Lost writes",
                "—",
                "no databases: no write history",
                "",
            ));
            if sum.two_vip_holders.is_empty() {
                s.push_str(&card("Split-brain", "—", "no databases or VIPs", ""));
            } else {
                s.push_str(&split_card(vip_split_s(sum), sum.two_vip_holders.len()));
            }
        }
    }
    s.push_str(&card(
        "p99 latency",
        &lat(sum.latency_ms.all.p99),
        &format!("max {}", lat(sum.latency_ms.all.max)),
        "",
    ));
    s.push_str("</div>\n");

    let mut rows = vec![
        (
            "requests".to_string(),
            format!(
                "{} ({:.1}/s)",
                sum.requests,
                if sum.duration_s > 0.0 {
                    sum.requests as f64 / sum.duration_s
                } else {
                    0.0
                }
            ),
        ),
        (
            "ok".into(),
            format!("{} ({})", sum.ok, percent(sum.ok, sum.requests)),
        ),
        (
            "failed".into(),
            if sum.failed == 0 {
                "0".into()
            } else {
                format!(
                    "{} ({}): {}",
                    sum.failed,
                    percent(sum.failed, sum.requests),
                    kinds(&sum.failed_by_kind)
                )
            },
        ),
    ];
    if !sum.db_errors.is_empty() {
        rows.push(("db error codes".into(), db_codes(&sum.db_errors)));
    }
    rows.push(("latency (all)".into(), latency_line(&sum.latency_ms.all)));
    rows.push(("latency (ok)".into(), latency_line(&sum.latency_ms.ok)));
    if let Some(w) = &sum.failed_before_faults {
        rows.push((
            "failed before faults".into(),
            format!("{} ({})", w.failed, kinds(&w.by_kind)),
        ));
    }
    s.push_str(&kv_table(&rows));
    s.push_str(&figure(
        timeline.as_deref(),
        "timeline.svg",
        &format!(
            "Timeline of {}: requests per second by issue time (ok green, failed red), latency p50/p99, fault actions (dashed), detections (solid), error windows shaded",
            sum.experiment
        ),
    ));
    s
}

fn vip_split_s(sum: &Summary) -> f64 {
    sum.two_vip_holders.iter().map(|v| v.to_s - v.from_s).sum()
}

fn split_card(total: f64, n: usize) -> String {
    card(
        "Split-brain",
        &if n == 0 {
            "none".into()
        } else {
            format!("{} s", s3(total))
        },
        &if n == 0 {
            "never two primaries".to_string()
        } else {
            format!("{n} interval{}", if n == 1 { "" } else { "s" })
        },
        if n == 0 { "good" } else { "bad" },
    )
}

fn db_codes(errors: &BTreeMap<String, Vec<DbError>>) -> String {
    let order = |k: &str| {
        FAILURE_KINDS
            .iter()
            .position(|x| *x == k)
            .unwrap_or(usize::MAX)
    };
    let mut kinds: Vec<(&String, &Vec<DbError>)> = errors.iter().collect();
    kinds.sort_by_key(|(k, _)| (order(k), (*k).clone()));
    kinds
        .iter()
        .map(|(k, list)| {
            let codes: Vec<String> = list
                .iter()
                .map(|e| format!("{}: {}", e.code, e.count))
                .collect();
            let total: u64 = list.iter().map(|e| e.count).sum();
            format!("{k}: {total} ({})", codes.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn latency_line(l: &Latency) -> String {
    if l.count == 0 {
        return "none".into();
    }
    format!(
        "avg {} · min {} · med {} · p90 {} · p95 {} · p99 {} · max {}",
        lat(l.avg),
        lat(l.min),
        lat(l.p50),
        lat(l.p90),
        lat(l.p95),
        lat(l.p99),
        lat(l.max)
    )
}

fn inside(f: &Formula, v: f64) -> bool {
    // The JSON holds exact nanoseconds; allow their float rounding.
    v >= f.lo_s - 1e-9 && v <= f.hi_s + 1e-9
}

fn fault(n: usize, f: &Fault, panel: Option<&str>, sum: &Summary) -> String {
    let class = if f.is_recovery {
        "fault recovery"
    } else {
        "fault"
    };
    let mut s = format!("<article class=\"{class}\" id=\"fault-{n}\">\n");
    let failed = f.window.as_ref().map_or(0, |w| w.failed);
    let tag = if f.is_recovery {
        "<span class=\"tag\">recovery</span>".to_string()
    } else if failed > 0 {
        format!("<span class=\"tag bad\">{failed} failed</span>")
    } else {
        "<span class=\"tag good\">no failed request</span>".to_string()
    };
    let _ = writeln!(
        s,
        "<h3>#{n} {} <span class=\"at\">at {} s</span> {tag}</h3>",
        esc(&f.label),
        s3(f.at_s)
    );
    let mut rows = Vec::new();
    let detected = match (f.detected_after_s, &f.detected_by) {
        (Some(t), Some(by)) => {
            let mut d = format!("{} s by {by}", s3(t));
            if let Some(detail) = f.detail.as_deref().filter(|d| !d.is_empty()) {
                let _ = write!(d, " ({detail})");
            }
            d
        }
        _ => "not detected".into(),
    };
    rows.push(("detected after".to_string(), detected));
    for a in &f.also_detected {
        let mut d = format!("{} s by {}", s3(a.after_s), a.by);
        if !a.detail.is_empty() {
            let _ = write!(d, " ({})", a.detail);
        }
        rows.push(("then detected".into(), d));
    }
    let window = match &f.window {
        Some(w) => match (w.first_start_s, w.last_start_s) {
            (Some(a), Some(b)) => format!(
                "{} s .. {} s ({} s), {} failed ({})",
                s3(a),
                s3(b),
                s3(b - a),
                w.failed,
                kinds(&w.by_kind)
            ),
            _ => format!("{} failed", w.failed),
        },
        None => "none".into(),
    };
    rows.push(("error window".into(), window));
    if let Some(w) = &f.window
        && let (Some(a), Some(b)) = (w.first_end_s, w.last_end_s)
    {
        rows.push((
            "failures seen".into(),
            format!(
                "{} s .. {} s, the longest took {} s",
                s3(a),
                s3(b),
                s3(w.longest_s)
            ),
        ));
    }
    rows.push((
        "p99 after".into(),
        format!("{} (max {})", lat(f.p99_ms_after), lat(f.max_ms_after)),
    ));
    if let Some(l) = f.lost_writes {
        rows.push(("acked writes lost".into(), l.to_string()));
    }
    if !f.targets.is_empty() {
        rows.push(("targets".into(), f.targets.join(", ")));
    }
    s.push_str(&kv_table(&rows));
    if !f.is_recovery {
        let caption = format!(
            "#{n} {} at {} s, zoomed ({}, seed {})",
            f.label,
            s3(f.at_s),
            sum.experiment,
            sum.seed
        );
        s.push_str(&figure(panel, &format!("fault-{n}.svg"), &caption));
    }
    s.push_str("</article>\n");
    s
}

/// One line per figure a formula predicts: the simulated value beside the
/// formula's range, and whether it falls inside.
fn formulas(faults: &[Fault]) -> String {
    let mut rows = Vec::new();
    for (i, f) in faults.iter().enumerate() {
        let label = format!("#{} {}", i + 1, f.label);
        let verdict = |fo: &Formula, v: Option<f64>| match v {
            Some(v) if inside(fo, v) => "inside".to_string(),
            Some(_) => "outside the range".to_string(),
            None => "no simulated value".to_string(),
        };
        if let Some(fo) = &f.formula_detect {
            let by = f.detected_by.as_deref().unwrap_or("");
            rows.push(vec![
                label.clone(),
                format!(
                    "detection{}",
                    if by.is_empty() {
                        String::new()
                    } else {
                        format!(" by {by}")
                    }
                ),
                f.detected_after_s
                    .map_or("not detected".into(), |v| format!("{} s", s3(v))),
                format!("{}–{} s", s3(fo.lo_s), s3(fo.hi_s)),
                fo.formula.clone(),
                verdict(fo, f.detected_after_s),
            ]);
        }
        for a in &f.also_detected {
            if let Some(fo) = &a.formula {
                rows.push(vec![
                    label.clone(),
                    format!("detection by {}", a.by),
                    format!("{} s", s3(a.after_s)),
                    format!("{}–{} s", s3(fo.lo_s), s3(fo.hi_s)),
                    fo.formula.clone(),
                    verdict(fo, Some(a.after_s)),
                ]);
            }
        }
        if let Some(fo) = &f.formula_window_end {
            let end = f.window.as_ref().and_then(|w| w.last_start_s);
            rows.push(vec![
                label.clone(),
                "error window end".into(),
                end.map_or("no failed request".into(), |v| format!("{} s", s3(v))),
                format!("{}–{} s", s3(fo.lo_s), s3(fo.hi_s)),
                fo.formula.clone(),
                verdict(fo, end),
            ]);
        }
    }
    if rows.is_empty() {
        return "<p class=\"muted\">No fault of this run has a reference formula.</p>\n".into();
    }
    let mut s = String::from(
        "<p>Each figure the simulation gives beside the range the product's reference formula gives (times from the fault action).</p>\n<div class=\"tw\"><table>\n<thead><tr><th scope=\"col\">fault</th><th scope=\"col\">figure</th><th scope=\"col\" class=\"n\">simulated</th><th scope=\"col\" class=\"n\">formula range</th><th scope=\"col\">formula</th><th scope=\"col\">agrees</th></tr></thead>\n<tbody>\n",
    );
    for r in &rows {
        let tone = if r[5] == "inside" { "good" } else { "bad" };
        let _ = writeln!(
            s,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"mono\">{}</td><td><span class=\"tag {tone}\">{}</span></td></tr>",
            esc(&r[0]),
            esc(&r[1]),
            esc(&r[2]),
            esc(&r[3]),
            esc(&r[4]),
            esc(&r[5])
        );
    }
    s.push_str("</tbody></table></div>\n");
    s
}

fn intervals(list: &[Interval]) -> String {
    if list.is_empty() {
        return "none".into();
    }
    let total: f64 = list.iter().map(|i| i.to_s - i.from_s).sum();
    let mut s = format!("{} s in {}:", s3(total), list.len());
    for i in list.iter().take(20) {
        let _ = write!(s, " {} s..{} s", s3(i.from_s), s3(i.to_s));
        if !i.nodes.is_empty() {
            let _ = write!(s, " ({})", i.nodes.join(" "));
        }
    }
    if list.len() > 20 {
        s.push_str(" ...");
    }
    s
}

fn data(sum: &Summary) -> String {
    let mut s = String::new();
    let Some(d) = &sum.data else {
        s.push_str("<p class=\"muted\">No databases in this run: no write history to check.</p>\n");
        if !sum.two_vip_holders.is_empty() {
            s.push_str(&vips(sum));
        }
        return s;
    };
    let mut rows = vec![
        (
            "writes".to_string(),
            format!(
                "{} (ok {}, failed {}, indeterminate {})",
                d.writes, d.writes_ok, d.writes_failed, d.writes_indeterminate
            ),
        ),
        (
            "acked writes lost".into(),
            match (d.lost.first(), d.lost.last()) {
                (Some(a), Some(b)) => format!(
                    "{} (acknowledged {} s .. {} s)",
                    d.lost_writes,
                    s3(a.acknowledged_s),
                    s3(b.acknowledged_s)
                ),
                _ => d.lost_writes.to_string(),
            },
        ),
        (
            "failed but committed".into(),
            format!(
                "{} ({} the client could not tell: timeout, reset)",
                d.failed_but_committed, d.indeterminate_committed
            ),
        ),
        (
            "reads".into(),
            format!(
                "{} (stale {}, {}){}",
                d.reads,
                d.stale_reads,
                percent(d.stale_reads, d.reads),
                d.first_stale_read_s
                    .map_or(String::new(), |t| format!("; first stale read {} s", s3(t)))
            ),
        ),
    ];
    for c in &d.clusters {
        let name = |what: &str| {
            if d.clusters.len() > 1 {
                format!("{what} [{}]", c.name)
            } else {
                what.to_string()
            }
        };
        rows.push((name("split-brain"), intervals(&c.split_brain)));
        rows.push((name("no writable primary"), intervals(&c.no_primary)));
    }
    s.push_str(&kv_table(&rows));
    if !d.lost.is_empty() {
        let shown: Vec<Vec<String>> = d
            .lost
            .iter()
            .take(50)
            .map(|l| vec![l.op.to_string(), s3(l.acknowledged_s)])
            .collect();
        let _ = writeln!(
            s,
            "<h3>Acknowledged writes lost{}</h3>",
            if d.lost.len() > 50 {
                " (the first 50)"
            } else {
                ""
            }
        );
        s.push_str(&table(
            &[("operation", true), ("acknowledged at (s)", true)],
            &shown,
        ));
    }
    for b in &d.failover_phases {
        let _ = writeln!(
            s,
            "<h3>Failover phases of {}, {}</h3>",
            esc(&b.cluster),
            esc(&b.title)
        );
        let rows: Vec<Vec<String>> = b
            .phases
            .iter()
            .map(|p| vec![p.phase.clone(), s3(p.lo_s), s3(p.hi_s)])
            .collect();
        s.push_str(&table(
            &[("phase", false), ("from (s)", true), ("to (s)", true)],
            &rows,
        ));
    }
    if !sum.two_vip_holders.is_empty() {
        s.push_str(&vips(sum));
    }
    s
}

fn vips(sum: &Summary) -> String {
    let rows: Vec<Vec<String>> = sum
        .two_vip_holders
        .iter()
        .map(|v| {
            vec![
                v.vip.clone(),
                s3(v.from_s),
                s3(v.to_s),
                s3(v.to_s - v.from_s),
                v.hosts.join(" "),
            ]
        })
        .collect();
    let mut s = String::from("<h3>A VIP held by two hosts at once</h3>\n");
    s.push_str(&table(
        &[
            ("VIP", false),
            ("from (s)", true),
            ("to (s)", true),
            ("for (s)", true),
            ("hosts", false),
        ],
        &rows,
    ));
    s
}

fn clients(sum: &Summary) -> String {
    if sum.clients.is_empty() {
        return "<p class=\"muted\">No clients.</p>\n".into();
    }
    let rows: Vec<Vec<String>> = sum
        .clients
        .iter()
        .map(|c| {
            let l = &c.latency_ms_ok;
            let q = |v: f64| {
                if l.count == 0 {
                    "—".to_string()
                } else {
                    lat(v)
                }
            };
            vec![
                c.name.clone(),
                c.requests.to_string(),
                c.ok.to_string(),
                c.failed.to_string(),
                percent(c.failed, c.requests),
                kinds(&c.failed_by_kind),
                q(l.p50),
                q(l.p95),
                q(l.p99),
                q(l.max),
            ]
        })
        .collect();
    let mut s = String::from(
        "<p>Each client's own requests (a background writer's fast answers do not hide the users' failures); latency of its successful requests.</p>\n",
    );
    s.push_str(&table(
        &[
            ("client", false),
            ("requests", true),
            ("ok", true),
            ("failed", true),
            ("failed %", true),
            ("failed by kind", false),
            ("p50 ok", true),
            ("p95 ok", true),
            ("p99 ok", true),
            ("max ok", true),
        ],
        &rows,
    ));
    s
}

/// The class of a state change's dot on the timeline.
fn event_class(event: &str) -> &'static str {
    match event {
        "fault" => "e-fault",
        "recover" => "e-recover",
        e if e.contains("down")
            || e.contains("lost")
            || e.contains("evicted")
            || e.contains("demoted") =>
        {
            "e-down"
        }
        e if e.contains("up") || e.contains("joined") => "e-up",
        e if e.contains("elected")
            || e.contains("promoted")
            || e.contains("leader")
            || e.contains("master") =>
        {
            "e-leader"
        }
        _ => "e-other",
    }
}

fn event_list(events: &[Event], count: u64) -> String {
    if events.is_empty() {
        return "<p class=\"muted\">No state changes.</p>\n".into();
    }
    let mut s = format!(
        "<p>Every state change, in time order ({count}): fault actions, components marked down or up, evictions, elections, promotions.{}</p>\n<ol class=\"events\">\n",
        if events.len() > MAX_EVENTS {
            format!(" The first {MAX_EVENTS} are listed; events.csv has them all.")
        } else {
            String::new()
        }
    );
    // The fault action each change follows: (its number, instant).
    let mut action: Option<(usize, f64)> = None;
    let mut actions = 0;
    for e in events.iter().take(MAX_EVENTS) {
        let t: Option<f64> = e.t_s.parse().ok().filter(|t: &f64| t.is_finite());
        let is_action = e.event == "fault" || e.event == "recover";
        if is_action {
            actions += 1;
            action = t.map(|t| (actions, t));
        }
        let shown_t = t.map_or_else(|| e.t_s.clone(), s3);
        let rel = match (action, t) {
            (Some((n, at)), Some(t)) if !is_action => {
                format!("<span class=\"rel\">+{} s after #{n}</span>", s3(t - at))
            }
            _ => String::new(),
        };
        let who = if e.component == e.subject || e.subject.is_empty() {
            e.component.clone()
        } else {
            format!("{} → {}", e.component, e.subject)
        };
        let _ = write!(
            s,
            "<li class=\"{}\"><time>{} s</time><span class=\"ev\">{}</span>{}{rel}",
            event_class(&e.event),
            esc(&shown_t),
            esc(&e.event.replace('_', " ")),
            esc(&who)
        );
        if !e.detail.is_empty() {
            let _ = write!(s, "<span class=\"detail\">{}</span>", esc(&e.detail));
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ol>\n");
    s
}

pub(super) fn footer(body: &mut String, files: &[&str]) {
    body.push_str("<footer>The files behind this page, in the same folder: ");
    let links: Vec<String> = files
        .iter()
        .map(|f| format!("<a href=\"{}\">{}</a>", esc(f), esc(f)))
        .collect();
    body.push_str(&links.join(", "));
    body.push_str(". Written by hasim; the same experiment and seed give the same page, byte for byte.</footer>\n");
}
