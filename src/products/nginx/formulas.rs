//! nginx's detection formula (`max_fails` within `fail_timeout`, counted by
//! `ngx_http_upstream_free_round_robin_peer` in
//! ngx_http_upstream_round_robin.c): a failed upstream is
//! noticed by the first request routed to it, after the timeout its failure
//! takes.

use crate::config::spec::{ExperimentSpec, FaultKind};

use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::products::client::open_loop_rate;
use crate::products::nginx::config::NginxSpec;
use crate::report::FormulaRange;

/// Detection of fault action `a` on one of `subjects` by nginx `name`;
/// `None` for recoveries (nginx re-admits after fail_timeout, checked by the
/// simulation only), faults it cannot notice, and closed-loop load.
pub fn detection(
    spec: &ExperimentSpec,
    name: &str,
    x: &NginxSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<FormulaRange> {
    if a.recover || !x.servers.iter().any(|s| subjects.contains(&s.name)) {
        return None;
    }
    let rtt = spec.network.latency.base.times(2);
    let (t, what) = match a.kind() {
        FaultKind::Stop => (x.proxy_read_timeout, "proxy_read_timeout"),
        FaultKind::Blackhole
        | FaultKind::LinkDown {
            carries_traffic: true,
        }
        | FaultKind::Partition => {
            (x.proxy_connect_timeout, "proxy_connect_timeout")
        }
        FaultKind::Kill => (rtt, "RTT"),
        FaultKind::PowerOff
        | FaultKind::LinkDown {
            carries_traffic: false,
        }
        | FaultKind::Slow
        | FaultKind::Action(_) => {
            return None;
        }
    };
    // Within one round of its servers at the open-loop rate it receives.
    let rate = open_loop_rate(spec, name, a.at);
    if rate <= 0.0 {
        return None; // closed-loop load: when its next request comes is not known
    }
    let round = Dur::from_secs_f64(x.servers.len() as f64 / rate);
    let formula = format!("next request routed to it (within servers/rate = {round}) + {what}");
    Some(FormulaRange {
        lo: t,
        hi: t + round,
        formula,
    })
}

/// nginx passes a failed request on to the next server (proxy_next_upstream):
/// failures are hidden, so no window formula applies.
pub fn hides_failures() -> bool {
    true
}
