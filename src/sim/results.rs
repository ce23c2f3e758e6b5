//! From what was recorded to the figures of each fault action: when the
//! reacting component noticed, the error window, and the analytic range the
//! reference formulas give for the same figures.

use crate::config::spec::{ExperimentSpec, Fault, FaultKind};
use crate::engine::SimTime;
use crate::faults::FaultAction;
use crate::metrics::Recorder;
use crate::products;
use crate::report::{AlsoDetected, Detection, FaultReport, FormulaRange};

pub fn fault_reports(
    spec: &ExperimentSpec,
    actions: &[FaultAction],
    rec: &Recorder,
) -> Vec<FaultReport> {
    let subjects: Vec<Vec<String>> = actions.iter().map(|a| subjects(spec, a)).collect();
    actions
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mine = &subjects[i];
            // A detection that lands after the next action began is still
            // this one's, unless a later action touched the same nodes.
            let until = actions[i + 1..]
                .iter()
                .zip(&subjects[i + 1..])
                .find(|(_, s)| s.iter().any(|n| mine.contains(n)))
                .map_or(SimTime::NEVER, |(n, _)| n.at);
            let detections = detections(spec, rec, a, mine, until);
            let mut found = detections.iter();
            let first = found.next();
            let formula_detect = match first {
                // The formula of the component that noticed: a Galera
                // eviction is the EVS rule's, not a balancer's checks'.
                Some(d) => formula_of(spec, &d.by, a, mine),
                None => detection_formula(spec, a, mine),
            };
            let also = found
                .map(|d| AlsoDetected {
                    formula: formula_of(spec, &d.by, a, mine),
                    detection: d.clone(),
                })
                .collect();
            let hides_failures = hides_failures(spec, mine);
            FaultReport {
                label: a.label(),
                is_recovery: a.recover,
                at: a.at,
                targets: mine.clone(),
                detected: first.cloned(),
                also_detected: also,
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

/// The first reaction to action `a` of each product that reacted (a Galera
/// member evicting, then the balancer marking down), in time order.
fn detections(
    spec: &ExperimentSpec,
    rec: &Recorder,
    a: &FaultAction,
    subjects: &[String],
    until: SimTime,
) -> Vec<Detection> {
    let mut out: Vec<Detection> = Vec::new();
    let mut products: Vec<&str> = Vec::new();
    let reacting = rec.events.iter().filter(|e| {
        e.at >= a.at
            && e.at < until
            && subjects.contains(&e.subject)
            && if a.recover {
                e.kind.detects_recovery()
            } else {
                e.kind.detects_fault()
            }
    });
    for e in reacting {
        let product = product_of(spec, &e.component);
        if products.contains(&product) {
            continue;
        }
        products.push(product);
        out.push(Detection {
            at: e.at,
            by: e.component.clone(),
            detail: e.detail.clone(),
        });
    }
    out
}

/// The product of the node named `component` (or the node it is a part
/// of, `lb/worker1`).
fn product_of<'a>(spec: &ExperimentSpec, component: &'a str) -> &'a str {
    let name = component.split('/').next().unwrap_or(component);
    spec.nodes.get(name).map_or(name, |n| n.kind.product())
}

/// The detection formula of the node named `component` (or the node it
/// is a part of, `lb/worker1`), if its product has one for `a`.
fn formula_of(
    spec: &ExperimentSpec,
    component: &str,
    a: &FaultAction,
    subjects: &[String],
) -> Option<FormulaRange> {
    let name = component.split('/').next().unwrap_or(component);
    let n = spec.nodes.get(name)?;
    products::detection_formula(spec, n, a, subjects).flatten()
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
/// (one per cluster), except a cluster some fault took down whole (all its
/// members at one instant): nothing fails over then.
pub fn breakdowns(spec: &ExperimentSpec, actions: &[FaultAction]) -> Vec<crate::report::Breakdown> {
    let downed: Vec<Vec<String>> = actions
        .iter()
        .filter(|a| {
            !a.recover
                && matches!(
                    a.kind(),
                    FaultKind::Kill
                        | FaultKind::PowerOff
                        | FaultKind::Stop
                        | FaultKind::Blackhole
                        | FaultKind::LinkDown {
                            carries_traffic: true
                        }
                )
        })
        .map(|a| subjects(spec, a))
        .collect();
    let whole_cluster_down = |cluster: &str| {
        let members: Vec<&String> = spec
            .nodes
            .values()
            .filter(|n| n.cluster.as_ref().is_some_and(|c| c.cluster == cluster))
            .map(|n| &n.name)
            .collect();
        downed.iter().any(|d| members.iter().all(|m| d.contains(m)))
    };
    let mut out: Vec<crate::report::Breakdown> = Vec::new();
    for n in spec.nodes.values() {
        if let Some(b) = products::breakdown(spec, n)
            && !out.iter().any(|x| x.cluster == b.cluster)
            && !whole_cluster_down(&b.cluster)
        {
            out.push(b);
        }
    }
    out
}
