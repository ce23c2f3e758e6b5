//! ProxySQL's detection formula: the Galera health check (every
//! `monitor_galera_healthcheck_interval`) moves a node whose mysqld is gone
//! to the offline hostgroup at its next check; one that does not answer at
//! all after `monitor_galera_healthcheck_max_timeout_count` checks timed out.
//! Traffic can shun a backend sooner (`shun_on_failures` connection errors
//! within a second), so the ranges start at zero.

use crate::config::spec::{ExperimentSpec, FaultKind};
use crate::faults::FaultAction;
use crate::products::proxysql::config::ProxysqlSpec;
use crate::report::FormulaRange;

pub fn detection(
    spec: &ExperimentSpec,
    x: &ProxysqlSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    if a.recover || !x.servers.iter().any(|s| subjects.contains(s)) {
        return None;
    }
    let rtt = spec.network.latency.base.times(2);
    let inter = x.monitor_galera_healthcheck_interval;
    let range = match a.kind() {
        // Refused at once (a killed mysqld), or answered 503 by clustercheck.
        FaultKind::Kill => FormulaRange {
            lo: crate::engine::Dur::ZERO,
            hi: inter + rtt,
            formula: "shunned by traffic, or the next Galera check: <= interval + RTT".into(),
        },
        FaultKind::Blackhole
        | FaultKind::LinkDown {
            carries_traffic: true,
        }
        | FaultKind::PowerOff
        | FaultKind::Stop => {
            let n = x.monitor_galera_healthcheck_max_timeout_count;
            FormulaRange {
                lo: crate::engine::Dur::ZERO,
                hi: inter.times(n as u64) + x.monitor_galera_healthcheck_timeout,
                formula: "shunned by traffic, or max_timeout_count checks timed out: \
                          <= max_timeout_count x interval + timeout"
                    .into(),
            }
        }
        // A partition between Galera nodes: the minority's clustercheck
        // answers 503 once it leaves the Primary Component.
        FaultKind::Partition
        | FaultKind::LinkDown {
            carries_traffic: false,
        }
        | FaultKind::Slow
        | FaultKind::Action(_) => return Some(None),
    };
    Some(Some(range))
}
