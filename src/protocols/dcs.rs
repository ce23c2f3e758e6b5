//! The DCS API Patroni uses, as etcd serves it: the calls (a proposal to
//! the replicated key space, a lease keepalive, a read of the cluster keys
//! that also sets up the watch), their answers and the keys' state. Shared by
//! both sides: Patroni ([`super::patroni`]) calls, etcd ([`super::etcd`])
//! answers and also carries the proposals in its raft log.
//!
//! A call's `call` word is the caller's reference (request id, the caller's
//! life) and the answer echoes it.

use crate::process::{CallRef, Ctx, Msg, MsgKind, NodeId};
use crate::products::Wire;

/// No node (an empty key, no lease, nobody).
pub const NONE: NodeId = u32::MAX;

/// `/failover`: a switchover from `leader` to `candidate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failover {
    pub leader: NodeId,
    pub candidate: NodeId,
}

impl Failover {
    /// No `/failover` key.
    pub const EMPTY: Failover = Failover {
        leader: NONE,
        candidate: NONE,
    };
}

/// `/sync`: the primary `leader` acknowledges commits once `standby` has
/// them (`NONE`: without a standby).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncKey {
    pub leader: NodeId,
    pub standby: NodeId,
}

impl SyncKey {
    /// No `/sync` key.
    pub const EMPTY: SyncKey = SyncKey {
        leader: NONE,
        standby: NONE,
    };
}

/// A change of the key space: one raft log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcsOp {
    /// A new leader's empty entry (no revision).
    Noop,
    /// A lease of `ttl_secs` for `node`; its id is the entry's index.
    Grant { node: NodeId, ttl_secs: u32 },
    /// The lessor expired the lease.
    Revoke { lease: u32 },
    /// Create the leader key if absent, bound to `lease` (its owner is the
    /// lease's node): Patroni's `attempt_to_acquire_leader` transaction.
    CreateLeader { lease: u32 },
    /// Delete the leader key if its owner is `owner`.
    DeleteLeader { owner: NodeId },
    /// Patroni 3.0.3+ etcd3.py `_update_leader` (PR #2693): a transaction
    /// binding the leader key to `lease` if the key's value is the lease's
    /// node, else creating it if absent; it fails when another member holds
    /// the key.
    UpdateLeader { lease: u32 },
    /// Patroni 3.0.2 etcd3.py `_update_leader`: a plain put of the leader key
    /// as the lease's node, bound to `lease`, with no compare: it overwrites
    /// whoever holds the key. Fails only when the lease is unknown.
    PutLeader { lease: u32 },
    /// `/optime/leader`: the primary's WAL position (writes).
    PutOptime { optime: u32 },
    /// `/failover` ([`Failover::EMPTY`] clears it).
    PutFailover(Failover),
    /// `/sync`.
    PutSync(SyncKey),
}

/// A call of the DCS API.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcsRequest {
    /// A proposal. Answer [`DcsMsg::Resp`].
    Propose(DcsOp),
    /// A lease keepalive. Answer [`DcsMsg::Resp`] (`value` = TTL in s).
    Keepalive { lease: u32 },
    /// A read of the cluster keys that also (re)creates the watch. Answer
    /// [`DcsMsg::State`].
    Read,
}

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcsResult {
    Ok,
    /// Compare failed (the key exists), lease not found.
    Fail,
    /// "request timed out", "leader changed".
    Err,
}

/// The DCS API on the wire ([`Wire::Dcs`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DcsMsg {
    /// Patroni -> etcd: a call.
    Request(DcsRequest),
    /// etcd -> Patroni: the answer to a proposal or a keepalive. `value`: a
    /// granted lease's id, a keepalive's TTL (s), or the leader key's owner
    /// when a leader-key operation failed (`NONE` when the lease is gone).
    Resp { result: DcsResult, value: u32 },
    /// etcd -> Patroni: the keys, as the answer to a read and as a watch
    /// notification. Only part of [`DcsState`]: see [`DcsState::send`].
    State {
        leader: NodeId,
        optime: u32,
        revision: u32,
    },
}

impl From<DcsMsg> for MsgKind {
    fn from(m: DcsMsg) -> MsgKind {
        MsgKind::Wire(Wire::Dcs(m))
    }
}

impl From<DcsRequest> for MsgKind {
    fn from(r: DcsRequest) -> MsgKind {
        DcsMsg::Request(r).into()
    }
}

/// The cluster keys as Patroni reads them (`get_cluster()`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DcsState {
    /// The leader key's owner (`NONE`: no leader).
    pub leader: NodeId,
    /// `/optime/leader`.
    pub optime: u32,
    /// The candidate of `/failover` (`NONE`: no key; Patroni reads nothing
    /// else of it).
    pub failover: NodeId,
    pub sync: SyncKey,
    /// The key space's revision: an older state is stale.
    pub revision: u32,
}

impl DcsState {
    /// Sends the keys to `to`. Six words do not fit in the 16 bytes a wire
    /// message may have (`Event` is at most 48 bytes, and the kernel has no
    /// arena for large payloads yet): the `/failover` candidate and `/sync`
    /// ride in the message's `call` and `peer` words, which a notification
    /// does not otherwise use.
    pub fn send(&self, ctx: &mut Ctx, to: NodeId) {
        let words = CallRef {
            slot: self.failover,
            generation: self.sync.leader,
        };
        let m = DcsMsg::State {
            leader: self.leader,
            optime: self.optime,
            revision: self.revision,
        };
        ctx.send_peer(to, words, self.sync.standby, m.into());
    }

    /// The keys of `msg`, a [`DcsMsg::State`] (see [`DcsState::send`]).
    pub fn received(msg: &Msg) -> Option<DcsState> {
        let MsgKind::Wire(Wire::Dcs(DcsMsg::State {
            leader,
            optime,
            revision,
        })) = msg.kind
        else {
            return None;
        };
        Some(DcsState {
            leader,
            optime,
            failover: msg.call.slot,
            sync: SyncKey {
                leader: msg.call.generation,
                standby: msg.peer,
            },
            revision,
        })
    }
}
