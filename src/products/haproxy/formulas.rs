//! HAProxy's detection formulas: how long until its checks mark a failed
//! server down (`fall` failed checks, the first `inter` after the fault, the
//! rest `fastinter` apart), or a recovered one up (`rise` x `inter`) — the
//! health counter of src/check.c (`check_notify_failure`,
//! `check_notify_success`) and the task rescheduling of `process_chk` —
//! printed beside the simulated figures.

use crate::config::spec::{ExperimentSpec, FaultKind};

use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::products::haproxy::config::{HaproxyServerSpec, HaproxySpec};
use crate::products::haproxy::checks::RESOLVERS_TICK;
use crate::report::CheckTiming;
use crate::report::FormulaRange;

/// Detection (or, for a recovery, re-admission) of fault action `a` on one of
/// `subjects` by this HAProxy's checks: `None` when no checked server of it
/// is a subject (it does not react), `Some(None)` when it is the reacting
/// component but its checks do not fail for this fault.
pub fn detection(
    spec: &ExperimentSpec,
    h: &HaproxySpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    let s = h
        .servers
        .iter()
        .find(|s| subjects.contains(&s.name) && s.check)?;
    Some(check_detection(spec, h, s, a))
}

fn check_detection(
    spec: &ExperimentSpec,
    h: &HaproxySpec,
    s: &HaproxyServerSpec,
    a: &FaultAction,
) -> Option<FormulaRange> {
    let rtt = spec.network.latency.base.times(2);
    let c = match (h.timeout_check, h.timeout_connect) {
        (Some(_), Some(tc)) => s.inter.min(tc),
        _ => s.inter,
    };
    let http = h.check.is_l7();
    if a.recover {
        // T_up = U' + (rise-1)*fastinter, U' in [0, downinter + d_f].
        let lo = s.fastinter.times(s.rise as u64 - 1);
        let d_f = failing_check(a.kind(), http, c, h.timeout_check, spec)?;
        let hi = s.downinter + d_f + lo;
        let formula = format!("U(0,downinter+d) + (rise-1)*fastinter, d={d_f}");
        return Some(FormulaRange { lo, hi, formula });
    }
    let d = failing_check(a.kind(), http, c, h.timeout_check, spec)?.max(rtt);
    // A reply that never comes: a loop wake-up before connect + `timeout
    // check` ends it then (docs/haproxy-timeout-check.md), so the range
    // starts from it.
    let d_lo = match (a.kind(), h.timeout_check) {
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
    Some(FormulaRange { lo, hi, formula })
}

/// Duration of one failing check by fault kind (RST at once, a connect
/// timeout, an unanswered HTTP check: `timeout check` or `inter`); `None`
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
        // An unanswered HTTP check ends at the loop's first wake-up after
        // connect + `timeout check`: at most one resolvers tick later, and
        // never after the task's place in the tree, start + C (checks.rs
        // LoopWakes); this is the longest.
        FaultKind::Stop if http => Some(match tchk {
            Some(t) if t < c => c.min(t + RESOLVERS_TICK),
            Some(t) => t,
            None => c,
        }),
        FaultKind::Stop => None,
        FaultKind::Blackhole | FaultKind::Partition => Some(c),
        FaultKind::LinkDown { carries_traffic } => carries_traffic.then_some(c),
        FaultKind::PowerOff if spec.network.same_subnet => Some(c.min(spec.network.arp_timeout)),
        FaultKind::PowerOff => Some(c),
        FaultKind::Slow | FaultKind::Action(_) => None,
    }
}

/// `option redispatch` with retries hides refused connects to `subjects`.
pub fn hides_failures(h: &HaproxySpec, subjects: &[String]) -> bool {
    h.redispatch && h.retries > 0 && h.servers.iter().any(|s| subjects.contains(&s.name))
}

/// The checks this HAProxy runs on the first of `members` it checks.
pub fn check_timing(h: &HaproxySpec, members: &[String]) -> Option<CheckTiming> {
    h.servers
        .iter()
        .find(|s| members.contains(&s.name) && s.check)
        .map(|s| CheckTiming {
            inter: s.inter,
            fastinter: s.fastinter,
            rise: s.rise,
        })
}
