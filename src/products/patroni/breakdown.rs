//! The analytic phases of a Patroni + etcd + HAProxy failover after the
//! leader's host is lost, for the summary and for checking the simulation:
//! the leader key's ttl after its last `update_lock` (patroni/ha.py,
//! etcd's lessor: lease/lessor.go), the replicas' next HA loop and leader
//! race (ha.py `is_healthiest_node`), the promotion, then HAProxy's checks
//! marking the new primary UP (`rise` x `inter`, src/check.c).

use crate::config::spec::DistSpec;
use crate::engine::Dur;
use crate::products::etcd::config::EtcdSpec;
use crate::products::patroni::config::PatroniSpec;
use crate::report::CheckTiming;

/// A range a distribution mostly covers: constant d..d, uniform min..max,
/// others median-ish..p99-ish.
fn span(d: &DistSpec) -> (Dur, Dur) {
    match *d {
        DistSpec::Constant(x) => (x, x),
        DistSpec::Uniform { min, max } => (min, max),
        DistSpec::Exponential { mean } => (Dur::ZERO, Dur((mean.0 as f64 * 4.6) as u64)),
        DistSpec::LogNormal { median, p99 } => (median, p99),
        DistSpec::Empirical(ref q) => (q.min(), q.max()),
    }
}

/// Phases of the write outage after the leader host dies at t0, each as
/// (phase, lo, hi) measured from the end of the previous phase, plus a last
/// "total" row from t0. `etcd_leader_lost`: the host also ran the etcd raft
/// leader (adds an election and the lease re-arm of lessor.Promote).
/// `check`: HAProxy checking `/primary` (adds the rise of the new primary).
pub fn failover_breakdown(
    p: &PatroniSpec,
    etcd: &EtcdSpec,
    etcd_leader_lost: bool,
    check: Option<CheckTiming>,
) -> Vec<(String, Dur, Dur)> {
    let mut v: Vec<(String, Dur, Dur)> = Vec::new();
    let lessor = Dur::from_ms(500);
    v.push((
        "leader key expires (ttl after the last update_lock, + lessor check)".into(),
        p.ttl.saturating_sub(p.loop_wait),
        p.ttl + lessor,
    ));
    if etcd_leader_lost {
        v.push((
            "etcd elects a new leader; lessor.Promote re-arms leases (+election timeout)".into(),
            etcd.election_timeout + etcd.election_timeout,
            etcd.election_timeout.times(2) + etcd.election_timeout,
        ));
    }
    v.push((
        "replicas notice (watch on the leader key)".into(),
        Dur::ZERO,
        Dur::ZERO,
    ));
    v.push((
        "REST poll of the other members (refused ~0, black-holed 2 s)".into(),
        Dur::ZERO,
        super::REST_POLL_TIMEOUT,
    ));
    let (plo, phi) = span(&p.promote_time);
    v.push(("pg_ctl promote".into(), plo, phi));
    if let Some(c) = check {
        // /primary answers 200 from the lock on: the first good check comes
        // within inter, then rise - 1 more at fastinter.
        let rest = c.fastinter.times(c.rise.saturating_sub(1) as u64);
        v.push((
            "HAProxy marks the new primary UP ((rise-1) x fastinter .. + inter, from the lock)"
                .into(),
            rest.saturating_sub(phi),
            rest + c.inter,
        ));
    }
    let lo = v.iter().fold(Dur::ZERO, |a, x| a + x.1);
    let hi = v.iter().fold(Dur::ZERO, |a, x| a + x.2);
    v.push(("total (from the fault)".into(), lo, hi));
    v
}

/// The breakdown of Patroni cluster `d` (with its DCS looked up in `spec`)
/// for the summary; `check`: the balancer checks in front of it, if any.
/// `None` when its DCS is not an etcd cluster of the experiment.
pub fn for_cluster(
    spec: &crate::config::spec::ExperimentSpec,
    d: &crate::config::spec::ClusterSpec,
    p: &PatroniSpec,
    check: Option<CheckTiming>,
) -> Option<crate::report::Breakdown> {
    use crate::products::NodeKind;
    let etcd = spec.nodes.values().find_map(|e| match &e.kind {
        NodeKind::Etcd(s) if p.dcs.contains(&e.name) => Some(s),
        _ => None,
    })?;
    Some(crate::report::Breakdown {
        cluster: d.cluster.clone(),
        title: "leader host lost (ttl expiry, leader race, promotion, checks)".into(),
        rows: failover_breakdown(p, etcd, false, check),
    })
}
