//! Galera's eviction formula (evs_proto.cpp `check_inactive()`, evs_node.cpp
//! `InspectNode`): a member notices a silent peer at the first inactivity
//! check after its last message + `evs.suspect_timeout`, then the membership
//! round (JOIN exchange, INSTALL, PC state exchange) installs the new view.

use super::config::GaleraSpec;
use crate::config::spec::{FaultKind, NodeSpec};
use crate::faults::FaultAction;
use crate::report::FormulaRange;

/// When member `node` evicts a fellow member among `subjects` after fault
/// action `a`; `Some(None)` where it reacts without a formula (a restart's
/// clean LEAVE, a recovery's rejoin), `None` where it has nothing to notice.
pub fn detection(
    node: &NodeSpec,
    g: &GaleraSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    let cluster = node.cluster.as_ref()?;
    let peer_hit = cluster
        .members
        .iter()
        .any(|m| *m != node.name && subjects.contains(m));
    if !peer_hit {
        return None;
    }
    if a.recover {
        return Some(None);
    }
    match a.kind() {
        FaultKind::Kill
        | FaultKind::Stop
        | FaultKind::Blackhole
        | FaultKind::LinkDown {
            carries_traffic: true,
        }
        | FaultKind::PowerOff
        | FaultKind::Partition => {}
        FaultKind::LinkDown {
            carries_traffic: false,
        }
        | FaultKind::Slow
        | FaultKind::Action(_) => return Some(None),
    }
    // The peer's last message came at most one keepalive before the fault
    // (at the fault itself under write traffic); the check that suspects
    // it comes within one inactive_check_period; the round that follows
    // takes up to a JOIN retransmission.
    let lo = g.suspect_timeout.saturating_sub(g.keepalive_period);
    let hi = g.suspect_timeout + g.inactive_check_period + g.join_retrans_period;
    Some(Some(FormulaRange {
        lo,
        hi,
        formula: format!(
            "suspect_timeout - U(0,keepalive_period) + U(0,inactive_check_period) + round (<= join_retrans_period), suspect_timeout={}",
            g.suspect_timeout
        ),
    }))
}
