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

pub use crate::net::{Addr, VipId};
pub use context::Ctx;
pub use db_error::{DbError, DbErrorCode, Meaning};
pub use msg::{CallRef, Event, Msg, MsgKind, NO_PEER, NodeId, Req, ReqKind};
pub use timer::{TimerKey, TimerTable};

use crate::data::FinalData;
use crate::engine::{Rng, SimTime};

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
}

/// A model running as one process on a host. Required: what every product
/// must decide for itself (how it starts, reacts, and what a crash leaves);
/// provided: what most products do not do.
pub trait Process {
    /// The product's own timers (an enum). Wrapped into [`crate::products::Timer`] by
    /// the registry; the product writes `From<ItsTimer> for Timer`.
    type Timer: Copy + std::fmt::Debug + PartialEq + Eq;

    /// The process starts (at time zero, or on restart): first timers.
    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng);

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
