//! From what was recorded to the figures of each fault action: when the
//! reacting component noticed, the error window, and the analytic range the
//! reference formulas give for the same figures.

use crate::config::spec::{CheckKind, ExperimentSpec, FaultKind, LoadSpec, NodeKind};
use crate::engine::{Dur, SimTime};
use crate::faults::FaultAction;
use crate::metrics::Recorder;
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
                formula_window_end: if a.recover || hides_failures || a.kind != FaultKind::Kill {
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
    let hosts: Vec<&String> = if a.kind == FaultKind::Partition {
        a.groups.iter().flatten().collect()
    } else {
        a.targets.iter().collect()
    };
    spec.nodes
        .values()
        .filter(|n| hosts.contains(&&n.name) || hosts.contains(&&n.host))
        .map(|n| n.name.clone())
        .collect()
}

/// HAProxy with `option redispatch` and retries hides refused connects.
fn hides_failures(spec: &ExperimentSpec, subjects: &[String]) -> bool {
    spec.nodes.values().any(|n| match &n.kind {
        NodeKind::Haproxy(h) => {
            h.redispatch && h.retries > 0 && h.servers.iter().any(|s| subjects.contains(&s.name))
        }
        NodeKind::Nginx(_) => true,
        _ => false,
    })
}

/// haproxy.md §4 and nginx.md §4, for the first balancer in front of a subject.
fn detection_formula(
    spec: &ExperimentSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<FormulaRange> {
    let rtt = spec.network.latency.base.times(2);
    for n in spec.nodes.values() {
        match &n.kind {
            NodeKind::Haproxy(h) => {
                let Some(s) = h
                    .servers
                    .iter()
                    .find(|s| subjects.contains(&s.name) && s.check)
                else {
                    continue;
                };
                let c = match (h.timeout_check, h.timeout_connect) {
                    (Some(_), Some(tc)) => s.inter.min(tc),
                    _ => s.inter,
                };
                let http = matches!(h.check, CheckKind::Http { .. });
                if a.recover {
                    // T_up = U' + (rise-1)*fastinter, U' in [0, downinter + d_f].
                    let lo = s.fastinter.times(s.rise as u64 - 1);
                    let d_f = failing_check(a.kind, http, c, h.timeout_check, spec)?;
                    let hi = s.downinter + d_f + lo;
                    let formula = format!("U(0,downinter+d) + (rise-1)*fastinter, d={d_f}");
                    return Some(FormulaRange { lo, hi, formula });
                }
                let d = failing_check(a.kind, http, c, h.timeout_check, spec)?.max(rtt);
                // A reply that never comes: 2.6.12 may honour a shorter
                // `timeout check` (docs/haproxy-timeout-check.md), so the
                // range starts from it.
                let d_lo = match (a.kind, h.timeout_check) {
                    (FaultKind::Stop, Some(t)) if http => t.min(d),
                    _ => d,
                };
                let gaps = s.fastinter.times(s.fall as u64 - 1);
                let lo = d_lo.times(s.fall as u64) + gaps;
                let hi = s.inter + d.times(s.fall as u64) + gaps;
                let shown = if d_lo == d {
                    format!("{d}")
                } else {
                    format!("{d_lo}..{d}")
                };
                let formula = format!("U(0,inter) + fall*d + (fall-1)*fastinter, d={shown}");
                return Some(FormulaRange { lo, hi, formula });
            }
            NodeKind::Nginx(x) => {
                if a.recover || !x.servers.iter().any(|s| subjects.contains(&s.name)) {
                    continue;
                }
                let (t, what) = match a.kind {
                    FaultKind::Stop => (x.proxy_read_timeout, "proxy_read_timeout"),
                    FaultKind::Blackhole | FaultKind::Partition => {
                        (x.proxy_connect_timeout, "proxy_connect_timeout")
                    }
                    FaultKind::Kill => (rtt, "RTT"),
                    _ => continue,
                };
                // nginx notices on the first request it routes there: within
                // one round of its servers at the open-loop rate it receives.
                let rate = open_loop_rate(spec, &n.name, a.at);
                if rate <= 0.0 {
                    continue; // closed-loop load: when its next request comes is not known
                }
                let round = Dur::from_secs_f64(x.servers.len() as f64 / rate);
                let formula =
                    format!("next request routed to it (within servers/rate = {round}) + {what}");
                return Some(FormulaRange {
                    lo: t,
                    hi: t + round,
                    formula,
                });
            }
            _ => {}
        }
    }
    None
}

/// Duration of one failing check by fault kind (haproxy.md §2 table); `None`
/// when checks do not fail (a stopped process behind a pure L4 check).
fn failing_check(
    kind: FaultKind,
    http: bool,
    c: Dur,
    tchk: Option<Dur>,
    spec: &ExperimentSpec,
) -> Option<Dur> {
    match kind {
        FaultKind::Kill => Some(Dur::ZERO),
        FaultKind::Stop if http => Some(c.max(tchk.unwrap_or(Dur::ZERO))),
        FaultKind::Stop => None,
        FaultKind::Blackhole | FaultKind::Partition => Some(c),
        FaultKind::PowerOff if spec.network.same_subnet => Some(c.min(spec.network.arp_timeout)),
        FaultKind::PowerOff => Some(c),
        FaultKind::Slow | FaultKind::Switchover | FaultKind::Restart => None,
    }
}

/// Requests per second the open-loop clients send to `target` at instant `at`.
fn open_loop_rate(spec: &ExperimentSpec, target: &str, at: SimTime) -> f64 {
    spec.nodes
        .values()
        .filter_map(|n| match &n.kind {
            NodeKind::Client(c) if c.target == target => match &c.load {
                LoadSpec::Open(o) => {
                    let i = o.rate_steps.partition_point(|&(t, _)| t <= at).max(1) - 1;
                    Some(o.rate_steps[i].1)
                }
                LoadSpec::Closed(_) => None,
            },
            _ => None,
        })
        .sum()
}

/// The reference's failover phases for each Patroni cluster, with the check
/// timing of the HAProxy in front of it if there is one.
pub fn breakdowns(spec: &ExperimentSpec) -> Vec<crate::report::Breakdown> {
    use crate::components::db::patroni::{CheckTiming, failover_breakdown};
    use crate::config::spec::{DbKind, NodeKind};
    let mut out: Vec<crate::report::Breakdown> = Vec::new();
    for n in spec.nodes.values() {
        let NodeKind::Database(d) = &n.kind else {
            continue;
        };
        let DbKind::Patroni(p) = &d.kind else {
            continue;
        };
        if out.iter().any(|b| b.cluster == d.cluster) {
            continue;
        }
        let etcd = spec.nodes.values().find_map(|e| match &e.kind {
            NodeKind::Database(x) if p.dcs.contains(&e.name) => match &x.kind {
                DbKind::Etcd(s) => Some(s),
                _ => None,
            },
            _ => None,
        });
        let Some(etcd) = etcd else { continue };
        let check = spec.nodes.values().find_map(|b| match &b.kind {
            NodeKind::Haproxy(h) => h
                .servers
                .iter()
                .find(|s| d.members.contains(&s.name) && s.check)
                .map(|s| CheckTiming {
                    inter: s.inter,
                    fastinter: s.fastinter,
                    rise: s.rise,
                }),
            _ => None,
        });
        out.push(crate::report::Breakdown {
            cluster: d.cluster.clone(),
            title: "leader host lost (patroni-etcd.md §3.A)".into(),
            rows: failover_breakdown(p, etcd, false, check),
        });
    }
    out
}
