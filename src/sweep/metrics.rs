//! The figures of one run that sweeps tabulate and baselines compare: one
//! `(name, value)` list in a fixed order, computed from a [`RunResult`].
//!
//! `NaN` means "no value" (e.g. a fault nobody detected) and is written as an
//! empty CSV cell (JSON `null`). Per fault action `i` (1-based, as in the
//! summary's `#i`) names start with `f{i}_`. To add a metric, add a line to
//! [`run_metrics`]: names, columns, plots and baselines follow from it.

use crate::engine::SimTime;
use crate::metrics::history::HistoryReport;
use crate::metrics::{EventKind, FAILURE_KINDS, Histogram, Recorder};
use crate::report::{FaultReport, RunResult};

/// Plotted when a sweep names no `plot` (those the experiment has).
pub const DEFAULT_PLOTS: &[&str] = &[
    "error_window_s",
    "failed",
    "false_failovers",
    "f1_detect_s",
    "p99_ms",
];

/// A sweep of an experiment with `[thresholds]`: 1 for a run that crossed
/// at least one of them, else 0 (so in `points.csv`, `n x mean` runs of the
/// point crossed one). Not a figure of a single run's `metrics.json`.
pub const THRESHOLDS_CROSSED: &str = "thresholds_crossed";

/// A server marked down this long after its fault was recovered still
/// counts as the fault's doing (a check sent before the recovery can time
/// out after it), not as a false failover.
pub const FALSE_FAILOVER_GRACE_S: f64 = 30.0;

/// Every metric of a run, in column order.
pub fn run_metrics(r: &RunResult) -> Vec<(String, f64)> {
    collect(Some(r), r.faults.len())
}

/// The metric names of an experiment with `faults` fault actions, in order.
pub fn metric_names(faults: usize) -> Vec<String> {
    collect(None, faults).into_iter().map(|(n, _)| n).collect()
}

/// The one list of metrics: each with its name and how it is computed from
/// a run (`None`: only the names are wanted).
fn collect(r: Option<&RunResult>, faults: usize) -> Vec<(String, f64)> {
    let mut m = Metrics { r, out: Vec::new() };
    // Whole run.
    m.put("requests", |r| r.recorder.requests as f64);
    m.put("ok", |r| (r.recorder.requests - r.recorder.failed) as f64);
    m.put("failed", |r| r.recorder.failed as f64);
    for (k, name) in FAILURE_KINDS.iter().enumerate() {
        m.put(&format!("failed_{name}"), |r| r.recorder.by_kind[k] as f64);
    }
    m.latency("", "_ms", |r| Some(&r.recorder.overall));
    m.put("error_window_s", |r| {
        r.faults.iter().map(|f| window_ns(f).2).sum::<u64>() as f64 / 1e9
    });
    m.put("false_failovers", |r| false_failovers(r) as f64);
    // Data safety, from the write history (NaN without databases).
    let hist = |r: &RunResult, f: fn(&HistoryReport) -> f64| r.history.as_ref().map_or(f64::NAN, f);
    m.put("lost_writes", |r| hist(r, |h| h.lost.len() as f64));
    m.put("failed_but_committed", |r| {
        hist(r, |h| h.failed_committed as f64)
    });
    m.put("stale_reads", |r| hist(r, |h| h.stale_reads as f64));
    m.put("split_brain_s", |r| {
        hist(r, HistoryReport::split_brain_secs)
    });
    m.put("no_primary_s", |r| hist(r, HistoryReport::no_primary_secs));

    // Per fault action.
    for i in 0..faults {
        let p = format!("f{}_", i + 1);
        let f = |r: &RunResult| r.faults.get(i).cloned();
        m.put(&format!("{p}detect_s"), |r| {
            f(r).and_then(|f| Some(secs_from(f.detected?.at, f.at)))
                .unwrap_or(f64::NAN)
        });
        m.put(&format!("{p}window_start_s"), |r| {
            f(r).map_or(f64::NAN, |f| window(&f).0)
        });
        m.put(&format!("{p}window_end_s"), |r| {
            f(r).map_or(f64::NAN, |f| window(&f).1)
        });
        m.put(&format!("{p}window_s"), |r| {
            f(r).map_or(f64::NAN, |f| window(&f).2)
        });
        m.put(&format!("{p}failed"), |r| {
            f(r).map_or(f64::NAN, |f| f.window.failed as f64)
        });
        // Requests issued from this action to the next one.
        m.latency(&p, "_after_ms", |r| r.recorder.segment_latency.get(i + 1));
        // Add per-fault metrics here.
    }
    m.out
}

struct Metrics<'a> {
    r: Option<&'a RunResult>,
    out: Vec<(String, f64)>,
}

impl<'a> Metrics<'a> {
    fn put(&mut self, name: &str, value: impl FnOnce(&'a RunResult) -> f64) {
        debug_assert!(!self.out.iter().any(|(n, _)| n == name), "{name} twice");
        let v = self.r.map_or(f64::NAN, value);
        self.out.push((name.to_string(), v));
    }
    /// `{prefix}p50{suffix}`, p99 and max; NaN when nothing finished.
    fn latency(
        &mut self,
        prefix: &str,
        suffix: &str,
        h: impl Fn(&'a RunResult) -> Option<&'a Histogram>,
    ) {
        let h = self.r.and_then(h).filter(|h| h.count() > 0);
        let q = |f: &dyn Fn(&Histogram) -> f64| h.map_or(f64::NAN, f);
        let (p50, p99, max) = (
            q(&|h| h.quantile_ms(0.5)),
            q(&|h| h.quantile_ms(0.99)),
            q(&|h| h.max_ms()),
        );
        self.put(&format!("{prefix}p50{suffix}"), |_| p50);
        self.put(&format!("{prefix}p99{suffix}"), |_| p99);
        self.put(&format!("{prefix}max{suffix}"), |_| max);
    }
}

fn secs_from(t: SimTime, origin: SimTime) -> f64 {
    (t.0 as i128 - origin.0 as i128) as f64 / 1e9
}

/// Error window of a fault action, relative to it: first and last failed
/// request's issue instants (NaN when none failed) and the length (0 then).
fn window(f: &FaultReport) -> (f64, f64, f64) {
    let (a, b, ns) = window_ns(f);
    match (a, b) {
        (Some(a), Some(b)) => (secs_from(a, f.at), secs_from(b, f.at), ns as f64 / 1e9),
        _ => (f64::NAN, f64::NAN, 0.0),
    }
}

/// The window's instants and its length in nanoseconds (0 when none).
fn window_ns(f: &FaultReport) -> (Option<SimTime>, Option<SimTime>, u64) {
    let (a, b) = (f.window.first_start, f.window.last_start);
    let len = match (a, b) {
        (Some(a), Some(b)) => b.0.saturating_sub(a.0),
        _ => 0,
    };
    (a, b, len)
}

/// "Marked down" events of servers no fault was acting on at that moment:
/// a fault acts on its targets (the nodes on a host it hit; every node of a
/// partition's groups) from its injection until [`FALSE_FAILOVER_GRACE_S`]
/// after the matching recovery.
pub fn false_failovers(r: &RunResult) -> u64 {
    let grace = (FALSE_FAILOVER_GRACE_S * 1e9) as u64;
    let explained = |subject: &str, at: SimTime| {
        r.faults.iter().enumerate().any(|(i, f)| {
            if f.is_recovery || f.at > at || !f.targets.iter().any(|t| t == subject) {
                return false;
            }
            // The first recovery of this subject after the injection.
            let recovered = r.faults[i + 1..]
                .iter()
                .find(|g| g.is_recovery && g.targets.iter().any(|t| t == subject));
            recovered.is_none_or(|g| at.0 <= g.at.0.saturating_add(grace))
        })
    };
    count_unexplained(&r.recorder, explained)
}

/// A server that answered its check with a refusal ("Layer7 wrong status":
/// a Patroni replica's 503 on /primary, a Galera donor's 503) was marked down
/// by design, not by jitter, loss or load.
fn count_unexplained(rec: &Recorder, explained: impl Fn(&str, SimTime) -> bool) -> u64 {
    rec.events
        .iter()
        .filter(|e| {
            e.kind == EventKind::MarkedDown
                && !e.detail.contains("Layer7 wrong status")
                && !explained(&e.subject, e.at)
        })
        .count() as u64
}

/// The fault index of a per-fault name (`f12_detect_s` -> 12).
fn fault_index(name: &str) -> Option<usize> {
    let rest = name.strip_prefix('f')?;
    let digits = rest.find('_')?;
    rest[..digits].parse().ok().filter(|&i| i > 0)
}

/// The columns for runs whose metric names are `lists`: the names of
/// [`metric_names`] for the largest fault count that any run has, in that
/// order, then any other name, sorted. The same set of names gives the same
/// columns whatever the lists' order (so shards merge to the same bytes).
pub fn columns<'a>(lists: impl IntoIterator<Item = &'a [String]>) -> Vec<String> {
    let mut all: std::collections::BTreeSet<&str> = Default::default();
    for l in lists {
        all.extend(l.iter().map(String::as_str));
    }
    // The template's order without building it for the largest index (a
    // crafted `f18446744073709551615_detect_s` must not ask for 2^64 names):
    // run-wide names in template order, then per-fault names by (index,
    // their place among fault 1's names), then the rest, sorted.
    let run_wide = metric_names(0);
    let per_fault: Vec<String> = metric_names(1)
        .into_iter()
        .filter_map(|n| n.strip_prefix("f1_").map(String::from))
        .collect();
    let mut out: Vec<String> = run_wide
        .iter()
        .filter(|n| all.contains(n.as_str()))
        .cloned()
        .collect();
    let mut faults: Vec<(usize, usize, &str)> = all
        .iter()
        .filter_map(|n| {
            let i = fault_index(n)?;
            let suffix = n.split_once('_')?.1;
            let place = per_fault.iter().position(|p| p == suffix)?;
            Some((i, place, *n))
        })
        .collect();
    faults.sort_unstable();
    out.extend(faults.iter().map(|(_, _, n)| n.to_string()));
    let placed: std::collections::BTreeSet<String> = out.iter().cloned().collect();
    out.extend(
        all.iter()
            .filter(|n| !placed.contains(**n))
            .map(|n| n.to_string()),
    );
    out
}

/// `{ "name": value, ... }` with `null` for no value, one per line, in order:
/// `metrics.json` of `hasim run`, read by `hasim diff`.
pub fn metrics_json(r: &RunResult) -> String {
    let m = run_metrics(r);
    let mut s = String::from("{\n");
    for (i, (n, v)) in m.iter().enumerate() {
        let comma = if i + 1 == m.len() { "" } else { "," };
        s.push_str(&format!(
            "  {}: {}{comma}\n",
            serde_json::Value::String(n.clone()),
            json_num(*v)
        ));
    }
    s.push_str("}\n");
    s
}

/// A number in its shortest exact rendering, `null` for NaN.
pub fn json_num(v: f64) -> String {
    if v.is_finite() {
        let v = if v == 0.0 { 0.0 } else { v };
        format!("{v}")
    } else {
        "null".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Dur;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * Dur::MS)
    }

    /// A real 20 s run: kill s2 at 3 s, restart at 7 s, behind HAProxy.
    fn run() -> RunResult {
        // Cold: the test adds marks at engine instants, the run's own.
        let text = "[experiment]\nduration = \"20s\"\ncold_start = true\n\
            [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 50\n\
            [balancers.lb]\npreset = \"haproxy-2.6\"\nmode = \"http\"\nservers = [\"s\"]\n\
            [balancers.lb.default_server]\ncheck = true\ninter = \"500ms\"\nfall = 2\n\
            [servers.s]\ncount = 2\nservice = \"1ms\"\n\
            [[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"3s\"\nrecover_at = \"7s\"\n";
        let spec = crate::config::parse(text, "m.toml").unwrap();
        let mut sim = crate::sim::Sim::new(&spec, 1);
        sim.run();
        sim.finish()
    }

    fn get(m: &[(String, f64)], name: &str) -> f64 {
        m.iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name}"))
            .1
    }

    #[test]
    fn figures_agree_with_the_run() {
        let r = run();
        let m = run_metrics(&r);
        let rec = &r.recorder;
        assert_eq!(get(&m, "requests"), rec.requests as f64);
        assert_eq!(get(&m, "failed"), rec.failed as f64);
        assert_eq!(get(&m, "ok") + get(&m, "failed"), get(&m, "requests"));
        let kinds: f64 = FAILURE_KINDS
            .iter()
            .map(|k| get(&m, &format!("failed_{k}")))
            .sum();
        assert_eq!(kinds, get(&m, "failed"));
        let f1 = &r.faults[0];
        let d = f1.detected.as_ref().expect("HAProxy notices a kill");
        assert_eq!(get(&m, "f1_detect_s"), (d.at.0 - f1.at.0) as f64 / 1e9);
        assert_eq!(get(&m, "f1_failed"), f1.window.failed as f64);
        let w = get(&m, "f1_window_s");
        if f1.window.failed > 0 {
            let (a, b) = (get(&m, "f1_window_start_s"), get(&m, "f1_window_end_s"));
            assert!((w - (b - a)).abs() < 1e-12);
        } else {
            assert!(w == 0.0 && get(&m, "f1_window_start_s").is_nan());
        }
        assert!(get(&m, "p50_ms") > 0.0 && get(&m, "p99_ms") <= get(&m, "max_ms"));
        assert_eq!(get(&m, "false_failovers"), 0.0);
    }

    #[test]
    fn false_failovers_are_marks_no_fault_explains() {
        let mut r = run();
        let base = false_failovers(&r);
        let fault_at = r.faults[0].at;
        let mut mark = |ms: u64, subject: &str| {
            r.recorder
                .event(t(ms), "lb", subject, EventKind::MarkedDown, "");
        };
        mark(5_000, "s1"); // healthy server: false
        mark(4_000, "s2"); // killed: explained
        mark(8_000, "s2"); // 1 s after its restart: within the grace
        mark(19_000, "s2"); // 12 s after: still within 30 s
        assert_eq!(false_failovers(&r), base + 1);
        // Before the fault, the killed server was healthy too.
        r.recorder.event(
            SimTime(fault_at.0 - 1),
            "lb",
            "s2",
            EventKind::MarkedDown,
            "",
        );
        assert_eq!(false_failovers(&r), base + 2);
    }

    #[test]
    fn names_follow_run_metrics_and_columns_are_canonical() {
        let m = run_metrics(&run());
        let names: Vec<String> = m.iter().map(|(n, _)| n.clone()).collect();
        assert_eq!(names, metric_names(2));
        assert!(metric_names(0).iter().all(|n| fault_index(n).is_none()));
        // The order of columns() is the template's, computed without it.
        let names = metric_names(3);
        let mut shuffled = names.clone();
        shuffled.reverse();
        shuffled.push("zz_custom".into());
        let mut want = names.clone();
        want.push("zz_custom".into());
        assert_eq!(columns([shuffled.as_slice()]), want);
        // A crafted index costs nothing.
        let huge = vec!["f18446744073709551615_detect_s".to_string()];
        assert_eq!(columns([huge.as_slice()]), huge);
        let one = metric_names(1);
        let two = metric_names(2);
        let extra = vec!["zz_new".to_string()];
        let a = columns([one.as_slice(), two.as_slice(), extra.as_slice()]);
        let b = columns([extra.as_slice(), two.as_slice(), one.as_slice()]);
        assert_eq!(a, b);
        assert_eq!(&a[..two.len()], two.as_slice());
        assert_eq!(a.last().unwrap(), "zz_new");
        for name in DEFAULT_PLOTS {
            assert!(two.iter().any(|n| n == name), "{name}");
        }
    }

    #[test]
    fn json_has_nulls_and_keeps_the_order() {
        let mut r = run();
        r.faults[1].detected = None;
        let j = metrics_json(&r);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert!(v["f2_detect_s"].is_null());
        assert!(v["f1_detect_s"].as_f64().unwrap() > 0.0);
        assert!(j.find("\"requests\"").unwrap() < j.find("\"f1_detect_s\"").unwrap());
    }
}
