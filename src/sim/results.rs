//! From what was recorded to the figures of each fault action: when the
//! reacting component noticed, the error window, and the analytic range the
//! reference formulas give for the same figures.

use crate::config::spec::{ExperimentSpec, Fault, FaultKind};
use crate::engine::SimTime;
use crate::faults::FaultAction;
use crate::metrics::Recorder;
use crate::products;
use crate::report::{Detection, FaultReport, FormulaRange};

pub fn fault_reports(
    spec: &ExperimentSpec,
    actions: &[FaultAction],
    rec: &Recorder,
) -> Vec<FaultReport> {
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let subjects = subjects(spec, a);
            let until = actions.get(i + 1).map_or(SimTime::NEVER, |n| n.at);
            let detected = rec
                .events
                .iter()
                .filter(|e| e.at >= a.at && e.at < until && subjects.contains(&e.subject))
                .find(|e| {
                    if a.recover {
                        e.kind.detects_recovery()
                    } else {
                        e.kind.detects_fault()
                    }
                })
                .map(|e| Detection {
                    at: e.at,
                    by: e.component.clone(),
                    detail: e.detail.clone(),
                });
            let formula_detect = detection_formula(spec, a, &subjects);
            let hides_failures = hides_failures(spec, &subjects);
            FaultReport {
                label: a.label(),
                is_recovery: a.recover,
                at: a.at,
                targets: subjects.clone(),
                detected,
                window: rec.windows[i].clone(),
                p99_ms_after: rec.segment_latency[i + 1].quantile_ms(0.99),
                max_ms_after: rec.segment_latency[i + 1].max_ms(),
                formula_window_end: if a.recover || hides_failures || a.kind() != FaultKind::Kill {
                    None
                } else {
                    formula_detect.clone()
                },
                formula_detect,
            }
        })
        .collect()
}

/// The nodes a fault action is about (a host means the nodes on it).
fn subjects(spec: &ExperimentSpec, a: &FaultAction) -> Vec<String> {
    let hosts: Vec<&String> = match &a.what {
        Fault::Partition { groups, .. } => groups.iter().flatten().collect(),
        _ => a.targets.iter().collect(),
    };
    spec.nodes
        .values()
        .filter(|n| hosts.contains(&&n.name) || hosts.contains(&&n.host))
        .map(|n| n.name.clone())
        .collect()
}

/// A balancer in front of a subject retries elsewhere: failures are hidden.
fn hides_failures(spec: &ExperimentSpec, subjects: &[String]) -> bool {
    spec.nodes
        .values()
        .any(|n| products::hides_failures(n, subjects))
}

/// The formula of the first component that reacts to the fault.
fn detection_formula(
    spec: &ExperimentSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<FormulaRange> {
    spec.nodes
        .values()
        .find_map(|n| products::detection_formula(spec, n, a, subjects))
        .flatten()
}

/// The reference's failover phases for each cluster whose product has them
/// (one per cluster).
pub fn breakdowns(spec: &ExperimentSpec) -> Vec<crate::report::Breakdown> {
    let mut out: Vec<crate::report::Breakdown> = Vec::new();
    for n in spec.nodes.values() {
        if let Some(b) = products::breakdown(spec, n)
            && !out.iter().any(|x| x.cluster == b.cluster)
        {
            out.push(b);
        }
    }
    out
}
