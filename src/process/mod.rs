//! A process on a host: what travels between processes ([`Msg`]), the
//! narrow context a model sees ([`Ctx`]), its timers, and what the run asks
//! of every product's model: the [`Process`] trait. The
//! registry ([`crate::products`]) dispatches to it through an exhaustive
//! `match` over [`crate::products::Model`] — static dispatch, no `Box<dyn>` on the hot
//! path — so a product whose model lacks a required piece does not compile.

pub(crate) mod context;
pub mod db_error;
pub mod dist;
mod msg;
pub mod timer;

pub use crate::net::{Addr, IfName, VipId};
pub use context::Ctx;
pub use db_error::{DbError, DbErrorCode, Meaning};
pub use msg::{CallRef, Event, Msg, MsgKind, NO_PEER, NodeId, Req, ReqKind};
pub use timer::{TimerKey, TimerTable};

use crate::data::FinalData;
use crate::engine::{Dur, Rng, SimTime};
use rand::Rng as _;

/// Node ids of a cluster member's cluster, in configuration order (itself
/// included).
#[derive(Clone, Debug, Default)]
pub struct DbIds {
    pub members: Vec<NodeId>,
}

/// An operator's action on a node, or a fault of one of its processes, as
/// its product declared them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admin {
    /// Operator action `name` (one of the product's `ACTIONS`), with the
    /// member to hand over to if it takes one.
    Action {
        name: &'static str,
        candidate: Option<NodeId>,
    },
    /// SIGKILL (`stop = false`) or SIGSTOP (`stop = true`) of one of the
    /// product's `PROCESSES`; `recover` restarts or continues it.
    Process {
        process: &'static str,
        stop: bool,
        recover: bool,
    },
    /// The link of interface `interface` on this node's host went down or
    /// came up (a netlink RTM_NEWLINK; daemons that track no link ignore it).
    Link { interface: IfName, up: bool },
}

/// How long a process had been running when the run starts it: a periodic
/// timer of a process booted long before the experiment fires at a phase
/// nobody chose (`[experiment] aligned = false`, the default), so the seeds
/// of a sweep spread over a check interval as real runs do. Zero for a
/// process booted now: a restart, a cold start, or `aligned = true`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Boot {
    running_for: Dur,
}

impl Boot {
    /// A process started now.
    pub const FRESH: Boot = Boot {
        running_for: Dur::ZERO,
    };

    /// Longest uptime drawn: a day, many times any period a product has, so
    /// every phase is (nearly exactly) equally likely.
    const MAX_UPTIME: u64 = 86_400 * Dur::S;

    /// A process that has been running for a drawn time.
    pub fn drawn(rng: &mut Rng) -> Boot {
        Boot {
            running_for: Dur(rng.random_range(0..Self::MAX_UPTIME)),
        }
    }

    pub fn running_for(self) -> Dur {
        self.running_for
    }

    /// When a timer that fires at `offset` after boot and every `period`
    /// since fires first, from now: `offset` for a fresh process, else the
    /// next instant of that cycle, within one `period`.
    pub fn first(self, offset: Dur, period: Dur) -> Dur {
        if self.running_for.is_zero() || period.is_zero() {
            return offset;
        }
        let into = self.running_for.0 % period.0;
        Dur((offset.0 % period.0 + period.0 - into) % period.0)
    }
}

/// A model running as one process on a host. Required: what every product
/// must decide for itself (how it starts, reacts, and what a crash leaves);
/// provided: what most products do not do.
pub trait Process {
    /// The product's own timers (an enum). Wrapped into [`crate::products::Timer`] by
    /// the registry; the product writes `From<ItsTimer> for Timer`.
    type Timer: Copy + std::fmt::Debug + PartialEq + Eq;

    /// The process starts (at time zero, or on restart): first timers, each
    /// periodic one at the phase `boot` gives it.
    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng, boot: Boot);

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg);

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Self::Timer);

    /// The kernel completed the handshake of this node's call `call`; the
    /// SYN-ACK reaches it at `at`. Read only at or after `at`.
    fn on_established(&mut self, call: CallRef, at: SimTime);

    /// Whether this node still waits on its call `call` (a caller that gave up
    /// has closed its socket: its kernel stops retransmitting).
    fn is_call_live(&self, call: CallRef) -> bool;

    /// The peers of every connection this process accepted, for the RSTs its
    /// kernel sends when it dies.
    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)>;

    /// The process died and restarts: what it keeps. A stateless process
    /// becomes `pristine` (its state at time zero); a database keeps its disk.
    fn crashed(&mut self, pristine: &Self);

    /// The listen backlog is full: the kernel drops new SYNs.
    fn syn_backlog_full(&self) -> bool {
        false
    }

    /// Nothing listens on the port for `kind` although the process runs (a
    /// database server down under its running manager): the kernel refuses
    /// the SYN.
    fn refuses(&self, _kind: ReqKind) -> bool {
        false
    }

    /// An operator's action or a fault of one of the node's processes.
    /// Validation lets through only the actions a product accepts.
    fn admin(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _a: Admin) {}

    /// A database node's data at the end of the run.
    fn final_data(&self) -> Option<FinalData<'_>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: u64) -> Dur {
        Dur::from_ms(x)
    }

    #[test]
    fn a_fresh_process_fires_at_its_offset_and_a_running_one_where_its_cycle_stands() {
        let period = ms(2000);
        assert_eq!(Boot::FRESH.first(ms(500), period), ms(500));
        assert_eq!(Boot::FRESH.first(period, period), period);
        // 10.3 s up: 300 ms into its cycle.
        let up = Boot {
            running_for: ms(10_300),
        };
        assert_eq!(up.first(Dur::ZERO, period), ms(1700));
        assert_eq!(up.first(ms(500), period), ms(200));
        assert_eq!(up.first(ms(300), period), Dur::ZERO, "due now");
        assert_eq!(
            up.first(ms(400), Dur::ZERO),
            ms(400),
            "no cycle: the offset"
        );
    }

    #[test]
    fn drawn_uptimes_differ_by_stream_and_stay_under_a_day() {
        let mut a = crate::engine::rng::stream(1, "uptime/a");
        let mut b = crate::engine::rng::stream(1, "uptime/b");
        let (x, y) = (Boot::drawn(&mut a), Boot::drawn(&mut b));
        assert_ne!(x, y);
        assert!(x.running_for().0 < Boot::MAX_UPTIME && y.running_for().0 < Boot::MAX_UPTIME);
    }
}
