//! Evaluating an experiment's `[thresholds]`
//! ([`crate::config::thresholds`]) on a finished run: each condition with
//! the value it was checked against, PASS or FAIL.

use super::RunResult;
use crate::config::thresholds::{Figure, Threshold};
use crate::metrics::FAILURE_KINDS;
use crate::sweep::metrics::run_metrics;

/// One condition checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Checked {
    pub threshold: Threshold,
    /// NaN when the run has no value for the figure.
    pub value: f64,
    pub pass: bool,
    /// Why there is no value, when there is none.
    pub note: Option<String>,
}

/// Checks every threshold against `r`, in the experiment's order.
pub fn evaluate(thresholds: &[Threshold], r: &RunResult) -> Vec<Checked> {
    if thresholds.is_empty() {
        return Vec::new();
    }
    let metrics = run_metrics(r);
    thresholds
        .iter()
        .map(|t| {
            let (value, note) = value_of(&t.figure, r, &metrics);
            // -0 (a sum of no intervals) reads as 0.
            let value = if value == 0.0 { 0.0 } else { value };
            Checked {
                pass: t.op.holds(value, t.bound),
                threshold: t.clone(),
                value,
                note: if value.is_nan() {
                    Some(note.unwrap_or_else(|| "no value".to_string()))
                } else {
                    None
                },
            }
        })
        .collect()
}

/// How many conditions failed.
pub fn crossed(checked: &[Checked]) -> usize {
    checked.iter().filter(|c| !c.pass).count()
}

fn value_of(f: &Figure, r: &RunResult, metrics: &[(String, f64)]) -> (f64, Option<String>) {
    let metric = |name: &str| {
        metrics
            .iter()
            .find(|(n, _)| n == name)
            .map_or(f64::NAN, |(_, v)| *v)
    };
    match f {
        Figure::Run(name) => {
            let v = metric(name);
            let note = (v.is_nan() && r.history.is_none() && is_data_figure(name))
                .then(|| "no value: the run has no databases (no write history)".to_string());
            (v, note)
        }
        Figure::Client { name, figure } => {
            let Some(c) = r.recorder.clients.iter().find(|c| &c.name == name) else {
                return (f64::NAN, Some(format!("no client `{name}` in this run")));
            };
            let h = &c.ok_latency;
            let lat = |q: f64| {
                if h.count() == 0 {
                    f64::NAN
                } else if q >= 1.0 {
                    h.max_ms()
                } else {
                    h.quantile_ms(q)
                }
            };
            let v = match figure.as_str() {
                "requests" => c.requests as f64,
                "ok" => (c.requests - c.failed) as f64,
                "failed" => c.failed as f64,
                "p50_ms" => lat(0.5),
                "p99_ms" => lat(0.99),
                "max_ms" => lat(1.0),
                k => FAILURE_KINDS
                    .iter()
                    .position(|n| k.strip_prefix("failed_") == Some(n))
                    .map_or(f64::NAN, |i| c.by_kind[i] as f64),
            };
            let note = v
                .is_nan()
                .then(|| format!("no value: no request of `{name}` succeeded"));
            (v, note)
        }
        Figure::Fault { index, figure } => {
            let Some(f) = r.faults.get(index - 1) else {
                return (
                    f64::NAN,
                    Some(format!(
                        "no value: the run had {} fault actions, no #{index}",
                        r.faults.len()
                    )),
                );
            };
            if figure == "lost_writes" {
                let Some(h) = &r.history else {
                    return (
                        f64::NAN,
                        Some("no value: the run has no databases (no write history)".into()),
                    );
                };
                let end = r
                    .faults
                    .get(*index)
                    .map_or(crate::engine::SimTime(r.duration.0), |n| n.at);
                return (h.lost_between(f.at, end) as f64, None);
            }
            let fig = if figure == "error_window_s" {
                "window_s"
            } else {
                figure
            };
            let v = metric(&format!("f{index}_{fig}"));
            let note = v.is_nan().then(|| match fig {
                "detect_s" => "no value: not detected".to_string(),
                _ => "no value".to_string(),
            });
            (v, note)
        }
    }
}

/// Figures of the write history (NaN without databases).
fn is_data_figure(name: &str) -> bool {
    matches!(
        name,
        "lost_writes" | "failed_but_committed" | "stale_reads" | "split_brain_s" | "no_primary_s"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(thresholds: &str) -> RunResult {
        let text = format!(
            "[experiment]\nduration = \"20s\"\n\
            [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 50\n\
            [balancers.lb]\npreset = \"haproxy-2.6\"\nmode = \"http\"\nservers = [\"s\"]\n\
            [balancers.lb.default_server]\ncheck = true\ninter = \"500ms\"\nfall = 2\n\
            [servers.s]\ncount = 2\nservice = \"1ms\"\n\
            [[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"3s\"\nrecover_at = \"7s\"\n\
            [thresholds]\n{thresholds}"
        );
        let spec = crate::config::parse(&text, "m.toml").unwrap();
        let mut sim = crate::sim::Sim::new(&spec, 1);
        sim.run();
        sim.finish()
    }

    #[test]
    fn each_figure_is_the_runs_own() {
        let r = run("failed = \"< 1000000\"\nrequests = \"< 1\"\n\
             \"clients.c.requests\" = \">= 1\"\n\"clients.c.p99_ms\" = \"> 0\"\n\
             \"faults.1.detect_s\" = \"< 60\"\n\"faults.2.error_window_s\" = \"== 0\"\n\
             lost_writes = \"== 0\"\n\"faults.1.lost_writes\" = \"== 0\"\n");
        let c = &r.thresholds;
        let pass: Vec<bool> = c.iter().map(|c| c.pass).collect();
        assert_eq!(pass, [true, false, true, true, true, true, false, false]);
        assert_eq!(c[0].value, r.recorder.failed as f64);
        assert_eq!(c[2].value, r.recorder.clients[0].requests as f64);
        let d = r.faults[0].detected.as_ref().unwrap();
        assert_eq!(c[4].value, (d.at.0 - r.faults[0].at.0) as f64 / 1e9);
        assert!(c[6].value.is_nan());
        assert!(c[6].note.as_deref().unwrap().contains("no databases"));
        assert!(c[7].note.as_deref().unwrap().contains("no databases"));
        assert_eq!(crossed(c), 3);
    }
}
