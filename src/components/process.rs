//! What the run asks of every product's model: the [`Process`] trait. The
//! registry ([`super::registry`]) dispatches to it through an exhaustive
//! `match` over [`super::Model`] — static dispatch, no `Box<dyn>` on the hot
//! path — so a product whose model lacks a required piece does not compile.

use super::db::{Admin, FinalData};
use super::{CallRef, Ctx, Msg, NodeId, ReqKind};
use crate::engine::{Rng, SimTime};

/// A model running as one process on a host. Required: what every product
/// must decide for itself (how it starts, reacts, and what a crash leaves);
/// provided: what most products do not do.
pub trait Process {
    /// The product's own timers (an enum). Wrapped into [`super::Timer`] by
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
