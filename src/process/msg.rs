//! What travels between processes: messages (a connect, a request, a reply,
//! a cluster protocol's message) and the events the queue holds.

use super::{DbError, TimerKey};
use crate::net::{Garp, VipId};
use crate::products::{Timer, Wire};

pub type NodeId = u32;

/// Identifies one exchange at the caller: a slot in the caller's slab and its
/// generation. Replies carry it back; a stale one is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct CallRef {
    pub slot: u32,
    pub generation: u32,
}

impl CallRef {
    pub fn new((slot, generation): (u32, u32)) -> CallRef {
        CallRef { slot, generation }
    }
}

/// What a connection's first request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReqKind {
    /// Real work: served by a worker.
    Work,
    /// A pure L4 health check: only the handshake matters.
    L4Check,
    /// An HTTP health check: answered by the process's event loop.
    HttpCheck,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Req {
    pub kind: ReqKind,
    /// GET-like; nginx never passes a sent non-idempotent request on.
    pub idempotent: bool,
    /// The caller keeps the connection open for further requests (a pool,
    /// keep-alive). A callee that does not keep connections answers with
    /// `peer = NO_PEER`, which closes it after the reply.
    pub keep: bool,
    /// The client operation this request serves (its id in the write
    /// history); proxies and apps pass it on. For an HTTP check, what the
    /// check asks: the checked product's code for the check's path
    /// ([`crate::products::Product::check_code`]), 0 when it has none.
    pub op: u32,
}

impl Req {
    /// A request on a connection of its own.
    pub const fn once(kind: ReqKind, idempotent: bool) -> Req {
        Req {
            kind,
            idempotent,
            keep: false,
            op: 0,
        }
    }

    /// An HTTP check of the path the checked product encoded as `code`.
    pub const fn http_check(code: u32) -> Req {
        Req {
            kind: ReqKind::HttpCheck,
            idempotent: true,
            keep: false,
            op: code,
        }
    }

    /// Real work for client operation `op` on a connection of its own.
    pub const fn work(idempotent: bool, op: u32) -> Req {
        Req {
            kind: ReqKind::Work,
            idempotent,
            keep: false,
            op,
        }
    }
}

/// `Msg::peer` when the receiver's side of the connection is not known.
pub const NO_PEER: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgKind {
    /// A SYN carrying the connection's request (the handshake is folded in).
    Connect(Req),
    /// A further request on an open connection (`peer` = the callee's side).
    Request(Req),
    /// The caller closes its connection (FIN); nothing answers it.
    Close,
    /// SYN-ACK, sent only for health checks, whose result it is.
    Established,
    /// RST in reply to a SYN: nothing listens (ECONNREFUSED).
    Refused,
    /// EHOSTUNREACH from the caller's own kernel: ARP for the host failed.
    Unreachable,
    /// The reply to the request (a database's OK is a 200).
    Response { status: u16 },
    /// A database's error reply to a statement, in the product's code with
    /// its meaning; proxies pass it on as it is.
    DbError(DbError),
    /// RST on an established connection (the peer process died, or was cut).
    Reset,
    /// FIN with no reply (HAProxy tcp mode giving up, truncated response).
    Closed,
    /// A cluster protocol message between members of one cluster (group
    /// communication, raft, replication, DCS calls) on their long-lived
    /// connections, in the protocol's own enum (see [`Wire`]). The kernel
    /// drops it at a dead process (the protocols judge liveness by silence,
    /// not by RSTs) and TCP does not retransmit it (the protocols resend on
    /// their own timers).
    Wire(Wire),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg {
    pub from: NodeId,
    /// The process it goes to: for a VIP, the one the sender's ARP cache
    /// named when it left (the sender itself before that).
    pub to: NodeId,
    /// The VIP it was sent to: the receiving host must hold it on arrival,
    /// and a retransmission is resolved again (`crate::net::vip`).
    pub vip: Option<VipId>,
    /// The caller's reference: `to`'s when `to` is the caller (replies),
    /// `from`'s when `from` is the caller (connects).
    pub call: CallRef,
    /// The callee's slot of the connection: set by the callee in its replies
    /// on a kept connection, and by the caller in later `Request`s. The callee
    /// checks it against (`from`, `call`) before trusting it.
    pub peer: u32,
    pub kind: MsgKind,
    /// Retransmissions of this segment so far. Two bytes, not one: beside
    /// `vip` it fills a word, which a new message writes in one store.
    pub retx: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Deliver(Msg),
    Timer {
        node: NodeId,
        incarnation: u32,
        /// [`TimerKey::NONE`] unless the timer can be cancelled.
        key: TimerKey,
        timer: Timer,
    },
    /// Apply fault action number `n`.
    Fault(u32),
    /// A message to a VIP leaves its sender's kernel now: resolved to a
    /// holder then (a later departure, a retransmission, a failed ARP).
    Depart(Msg),
    /// A gratuitous ARP reaches a host.
    Garp(Garp),
    /// A connection from the accept queue of a process that was stopped:
    /// the handshake is long done, the process now reads the request.
    Accept(Msg),
}

// Every event is copied in and out of the queue: keep it small (with the
// queue's 16-byte key, 48 bytes make one 64-byte entry).
const _: () = assert!(std::mem::size_of::<Event>() <= 48);
