//! Client libraries: where a request goes and what its answer means.
//!
//! k6 connects to its target and reports what came back. A cluster-aware
//! library (redis-py's `RedisCluster`, its Sentinel `master_for`) first
//! finds the node that serves the request, follows redirects, and refreshes
//! what it knows after an error — with exchanges of its own (a topology
//! query, asking the sentinels) that take network time and can time out.
//! A [`Driver`] is that library inside one client; the client keeps the
//! load, the deadlines and the records.
//!
//! A library that has to ask before it can send *holds* the request and
//! releases it later ([`Release`]); nothing is decided in zero time, so a
//! closed-loop virtual user can never spin at one instant.

use crate::engine::Rng;
use crate::metrics::Outcome;
use crate::process::{Addr, CallRef, Ctx, Msg, NodeId};
use crate::products::redis_cluster::client::{ClusterLib, LibTimer};
use crate::products::sentinel::client::{AskTimeout, SentinelLib};

/// One client's library.
#[derive(Clone)]
pub enum Driver {
    /// Connects to the target (a node or a VIP) for every request.
    Direct(Addr),
    /// redis-py's `RedisCluster`: a slot map, MOVED followed, the map
    /// refreshed after errors (`library = "redis-cluster"`).
    RedisCluster(ClusterLib),
    /// redis-py's `Sentinel.master_for`: asks the sentinels for the master.
    Sentinel(SentinelLib),
}

/// What the library does with a request now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// Connect to this address and send it.
    To(Addr),
    /// Keep it until the library knows where it goes (see [`Release`]).
    Hold,
}

/// What an answer means to the library.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The request is over: this is what the application sees.
    Done(Outcome),
    /// The library sends it again (a redirect it follows).
    Again(Route),
}

/// A held request the library lets go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Release {
    /// Send it now.
    To(CallRef, Addr),
    /// It fails with this outcome (no master known, too many redirects).
    Fail(CallRef, Outcome),
}

/// A library's own timers (its queries' timeouts, a delayed refresh).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriverTimer {
    RedisCluster(LibTimer),
    /// A sentinel's answer is overdue.
    Sentinel(AskTimeout),
}

/// A library's own exchanges carry this bit in their call slot, so the
/// client tells them from requests it issued.
pub const DRIVER_BIT: u32 = 1 << 30;

impl Driver {
    /// A library that follows no redirects and asks nobody: every request
    /// goes to the target and may be decided before it is sent (the open
    /// loop then issues a batch of arrivals per event).
    pub fn is_direct(&self) -> bool {
        matches!(self, Driver::Direct(_))
    }

    /// Where request `call` (client operation `op`, a write or not) goes now.
    pub fn route(
        &mut self,
        ctx: &mut Ctx,
        _rng: &mut Rng,
        call: CallRef,
        op: u32,
        _write: bool,
    ) -> Route {
        match self {
            Driver::Direct(a) => Route::To(*a),
            Driver::RedisCluster(l) => l.route(ctx, call, op),
            Driver::Sentinel(s) => s.route(ctx, call),
        }
    }

    /// What `outcome`, which `from` answered to request `call`, means.
    pub fn verdict(
        &mut self,
        ctx: &mut Ctx,
        _rng: &mut Rng,
        call: CallRef,
        from: NodeId,
        outcome: Outcome,
    ) -> Verdict {
        match self {
            Driver::Direct(_) => Verdict::Done(outcome),
            Driver::RedisCluster(l) => l.verdict(ctx, call, from, outcome),
            Driver::Sentinel(s) => s.verdict(outcome),
        }
    }

    /// The client gave up waiting for request `call` (its timeout).
    pub fn timed_out(&mut self, ctx: &mut Ctx, _rng: &mut Rng, call: CallRef) {
        match self {
            Driver::Direct(_) => {}
            Driver::RedisCluster(l) => l.timed_out(ctx, call),
            Driver::Sentinel(s) => s.timed_out(),
        }
    }

    /// A message of the library's own exchanges (call slot with
    /// [`DRIVER_BIT`]); held requests it lets go go to `released`.
    pub fn on_message(
        &mut self,
        ctx: &mut Ctx,
        _rng: &mut Rng,
        msg: Msg,
        released: &mut Vec<Release>,
    ) {
        match self {
            Driver::Direct(_) => {}
            Driver::RedisCluster(l) => l.on_message(ctx, msg, released),
            Driver::Sentinel(s) => s.on_message(ctx, msg, released),
        }
    }

    /// One of the library's timers came due.
    pub fn on_timer(
        &mut self,
        ctx: &mut Ctx,
        _rng: &mut Rng,
        t: DriverTimer,
        released: &mut Vec<Release>,
    ) {
        match (self, t) {
            (Driver::RedisCluster(l), DriverTimer::RedisCluster(t)) => {
                l.on_timer(ctx, t, released)
            }
            (Driver::Sentinel(s), DriverTimer::Sentinel(t)) => s.on_timer(ctx, t, released),
            // A library's timers are its own.
            (_, DriverTimer::RedisCluster(_) | DriverTimer::Sentinel(_)) => {}
        }
    }

    /// Whether the library's own exchange `call` is still waited for.
    pub fn is_call_live(&self, call: CallRef) -> bool {
        match self {
            Driver::Direct(_) => false,
            Driver::RedisCluster(l) => l.is_call_live(call),
            Driver::Sentinel(s) => s.is_call_live(call),
        }
    }

    /// Where a request's connection was opened, to close it (the address
    /// the last [`Route::To`] named).
    pub fn target(&self) -> Addr {
        match self {
            Driver::Direct(a) => *a,
            Driver::RedisCluster(l) => l.target(),
            Driver::Sentinel(s) => s.target(),
        }
    }
}
