//! When a mount drops a brick (rpc/rpc-lib/src/rpc-clnt-ping.c, others.md
//! §3). A brick process killed on a live host: its kernel resets the
//! connection, the mount drops the brick one hop later. A brick whose host
//! vanished (blackhole, power-off, partition) or whose process is stopped:
//! the ping timer. Under traffic a ping is sent every `ping-timeout` (the
//! next one `ping-timeout` after the last answer), and the expiry timer,
//! armed when a ping leaves, disconnects `ping-timeout` after the last
//! thing sent or received. The last ping before the loss was answered; the
//! next leaves within one `ping-timeout` of the loss, unanswered; its expiry
//! `ping-timeout` later finds the link quiet if the app sent nothing since.
//! So: between `ping-timeout` and 2 x `ping-timeout` after the first request
//! sent to the brick after the loss (the chain restarts with it when no
//! request was outstanding; the formula allows 1 s for it); later only while
//! the app keeps sending to the brick, until the socket's send buffer is
//! full (each send pushes the expiry by up to a `ping-timeout`). Measured on
//! 10.3: 51.3 s with the default 42 s.

use crate::config::spec::{ExperimentSpec, FaultKind};
use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::products::glusterfs::config::MountSpec;
use crate::report::FormulaRange;

/// The formula's allowance for the first request sent to the brick after
/// the loss (the ping chain restarts with it when it had stopped).
const FIRST_SEND: Dur = Dur::from_secs(1);

pub fn detection(
    spec: &ExperimentSpec,
    m: &MountSpec,
    a: &FaultAction,
    subjects: &[String],
) -> Option<Option<FormulaRange>> {
    if a.recover || !m.bricks.iter().any(|s| subjects.contains(s)) {
        return None;
    }
    let rtt = spec.network.latency.base.times(2);
    let range = match a.kind() {
        FaultKind::Kill => FormulaRange {
            lo: Dur::ZERO,
            hi: rtt,
            formula: "connection reset by the brick's kernel: one hop".into(),
        },
        FaultKind::Blackhole
        | FaultKind::LinkDown {
            carries_traffic: true,
        }
        | FaultKind::PowerOff
        | FaultKind::Stop
        | FaultKind::Partition => {
            match ping_window(m.ping_timeout) {
                Some((lo, hi)) => FormulaRange {
                    lo,
                    hi: hi + FIRST_SEND + rtt,
                    formula: "ping timer: ping_timeout .. 2 x ping_timeout + 1 s + RTT \
                              (later while the app keeps sending to the brick, until its \
                              socket send buffer is full)"
                        .into(),
                },
                None => return Some(None),
            }
        }
        FaultKind::LinkDown {
            carries_traffic: false,
        }
        | FaultKind::Slow
        | FaultKind::Action(_) => return Some(None),
    };
    Some(Some(range))
}

/// How long after a brick's host vanished the ping timer drops it, when
/// the app stops sending to it at the loss: `None` with the timer off
/// (`ping-timeout` 0: only TCP would tell, after minutes).
pub fn ping_window(ping_timeout: Dur) -> Option<(Dur, Dur)> {
    if ping_timeout.is_zero() {
        return None;
    }
    Some((ping_timeout, ping_timeout.times(2)))
}
