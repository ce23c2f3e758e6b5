//! The models. Each node of an experiment is a process on a host running one
//! model; models talk only through messages and timers, dispatched by
//! [`crate::sim`] without dynamic dispatch (a plain `enum`).

pub mod app;
pub mod client;
pub mod db;
pub mod dist;
pub mod haproxy;
pub mod nginx;
pub mod process;
pub mod registry;
pub mod server;
pub mod timer;

pub use process::Process;
pub use registry::{MODELS, Model, Timer, Wire};
pub use timer::{NoTimer, RawTimer, TimerKey, TimerTable};

use crate::engine::{Deadline, DeadlineFifo, Dur, EventQueue, SimTime};
use crate::metrics::{EventKind, History, Outcome, Recorder};
use crate::net::{HostId, Network};

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
    /// history); proxies and apps pass it on, 0 for checks.
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
    /// The reply to the request.
    Response { status: u16 },
    /// RST on an established connection (the peer process died, or was cut).
    Reset,
    /// FIN with no reply (HAProxy tcp mode giving up, truncated response).
    Closed,
    /// A cluster protocol message between members of one database cluster
    /// (group communication, raft, replication, DCS calls) on their
    /// long-lived connections: `tag` says which, `a`, `b` and the message's
    /// `call` and `peer` words carry its fields. The kernel drops it at a dead
    /// process (the protocols judge liveness by silence, not by RSTs) and TCP
    /// does not retransmit it (the protocols resend on their own timers).
    Peer { tag: u8, a: u32, b: u32 },
    /// A cluster protocol message with its own type (see [`Wire`]); the
    /// kernel treats it as `Peer`.
    Wire(Wire),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg {
    pub from: NodeId,
    pub to: NodeId,
    /// The caller's reference: `to`'s when `to` is the caller (replies),
    /// `from`'s when `from` is the caller (connects).
    pub call: CallRef,
    /// The callee's slot of the connection: set by the callee in its replies
    /// on a kept connection, and by the caller in later `Request`s. The callee
    /// checks it against (`from`, `call`) before trusting it.
    pub peer: u32,
    pub kind: MsgKind,
    /// Retransmissions of this segment so far.
    pub retx: u8,
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
    /// A connection from the accept queue of a process that was stopped:
    /// the handshake is long done, the process now reads the request.
    Accept(Msg),
}

/// A model's view of the world while it handles one event.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub me: NodeId,
    pub incarnation: u32,
    /// Service-time multiplier of a `slow` fault (1.0 when healthy).
    pub slow: f64,
    pub queue: &'a mut EventQueue<Event>,
    pub net: &'a mut Network,
    pub hosts: &'a [HostId],
    pub names: &'a [String],
    pub rec: &'a mut Recorder,
    /// This process's cancellable timers.
    pub timers: &'a mut TimerTable,
}

impl Ctx<'_> {
    /// Sends a message to `to`; it arrives after the link's latency.
    #[inline]
    pub fn send(&mut self, to: NodeId, call: CallRef, kind: MsgKind) {
        self.send_peer(to, call, NO_PEER, kind);
    }

    /// Sends a message on a connection whose callee-side slot is `peer`.
    #[inline]
    pub fn send_peer(&mut self, to: NodeId, call: CallRef, peer: u32, kind: MsgKind) {
        self.send_at(self.now, to, call, peer, kind);
    }

    /// Sends a message that leaves at `at` (not before now): an open-loop
    /// client issues a batch of arrivals whose instants it already knows.
    #[inline]
    pub fn send_at(&mut self, at: SimTime, to: NodeId, call: CallRef, peer: u32, kind: MsgKind) {
        let d = self
            .net
            .delay(self.hosts[self.me as usize], self.hosts[to as usize]);
        let msg = Msg {
            from: self.me,
            to,
            call,
            peer,
            kind,
            retx: 0,
        };
        self.queue
            .schedule(at.max(self.now) + d, Event::Deliver(msg));
    }

    /// Sets timer `t` of this process to fire at `at` (discarded if the
    /// process dies first).
    #[inline]
    pub fn at(&mut self, at: SimTime, t: impl Into<Timer>) {
        self.schedule_timer(at, TimerKey::NONE, t.into());
    }

    /// Sets timer `t` to fire after `d`.
    #[inline]
    pub fn after(&mut self, d: Dur, t: impl Into<Timer>) {
        self.at(self.now + d, t);
    }

    /// Sets timer `t` to fire at `at`, with a key that cancels it.
    #[inline]
    pub fn at_cancellable(&mut self, at: SimTime, t: impl Into<Timer>) -> TimerKey {
        let key = self.timers.arm();
        self.schedule_timer(at, key, t.into());
        key
    }

    /// Sets timer `t` to fire after `d`, with a key that cancels it.
    #[inline]
    pub fn after_cancellable(&mut self, d: Dur, t: impl Into<Timer>) -> TimerKey {
        self.at_cancellable(self.now + d, t)
    }

    /// Cancels the timer of `key` (nothing if it already fired or was
    /// cancelled, or was armed before a crash).
    #[inline]
    pub fn cancel(&mut self, key: TimerKey) {
        self.timers.cancel(key);
    }

    /// Cancels the timer in `slot`, if any, and arms `t` at `at` in its place.
    #[inline]
    pub fn rearm(&mut self, slot: &mut Option<TimerKey>, at: SimTime, t: impl Into<Timer>) {
        if let Some(k) = slot.take() {
            self.cancel(k);
        }
        *slot = Some(self.at_cancellable(at, t));
    }

    #[inline]
    fn schedule_timer(&mut self, at: SimTime, key: TimerKey, timer: Timer) {
        let ev = Event::Timer {
            node: self.me,
            incarnation: self.incarnation,
            key,
            timer,
        };
        self.queue.schedule(at, ev);
    }

    /// An untyped timer (`kind`, `a`, `b`), for models not yet on typed
    /// timers.
    #[inline]
    pub fn timer(&mut self, at: SimTime, kind: u8, a: u32, b: u32) {
        self.at(at, Timer::Raw(RawTimer { kind, a, b }));
    }

    /// Adds `call`'s deadline at `at` to `fifo`, and schedules the FIFO's
    /// wake-up (timer `kind` with argument `a`) when none is pending.
    #[inline]
    pub fn arm(&mut self, fifo: &mut DeadlineFifo, at: SimTime, call: CallRef, kind: u8, a: u32) {
        self.arm_with(fifo, at, call, Timer::Raw(RawTimer { kind, a, b: 0 }));
    }

    /// Adds `call`'s deadline at `at` to `fifo`, and schedules the FIFO's
    /// wake-up timer `wake` when none is pending.
    #[inline]
    pub fn arm_with(
        &mut self,
        fifo: &mut DeadlineFifo,
        at: SimTime,
        call: CallRef,
        wake: impl Into<Timer>,
    ) {
        let d = Deadline {
            at,
            slot: call.slot,
            generation: call.generation,
        };
        if let Some(at) = fifo.push(d) {
            self.at(at, wake);
        }
    }

    /// The wake-up of `fifo` fired: takes the deadlines now due (the caller
    /// decides, by generation, which still matter) and re-arms the wake-up.
    pub fn expire(&mut self, fifo: &mut DeadlineFifo, kind: u8, a: u32) -> Vec<CallRef> {
        self.expire_with(fifo, Timer::Raw(RawTimer { kind, a, b: 0 }))
    }

    /// The wake-up `wake` of `fifo` fired: takes the deadlines now due and
    /// re-arms the wake-up.
    pub fn expire_with(&mut self, fifo: &mut DeadlineFifo, wake: impl Into<Timer>) -> Vec<CallRef> {
        let mut due = Vec::new();
        let next = fifo.expire(self.now, |d| {
            due.push(CallRef {
                slot: d.slot,
                generation: d.generation,
            })
        });
        if let Some(at) = next {
            self.at(at, wake);
        }
        due
    }

    /// Logs a state change of this component about `subject`.
    pub fn log(&mut self, subject: NodeId, kind: EventKind, detail: impl Into<String>) {
        let (me, subj) = (&self.names[self.me as usize], &self.names[subject as usize]);
        self.rec.event(self.now, me, subj, kind, detail);
    }

    /// The write history, when the experiment has databases: what a
    /// database commits, serves and when it accepts writes.
    #[inline]
    pub fn history(&mut self) -> Option<&mut History> {
        self.rec.history.as_mut()
    }

    /// The name of node `n`, as the experiment file gives it.
    pub fn name_of(&self, n: NodeId) -> &str {
        &self.names[n as usize]
    }

    /// A new client operation: its id (the count of operations so far).
    #[inline]
    pub fn issue_op(&mut self) -> u32 {
        let op = self.rec.issued as u32;
        self.rec.issued += 1;
        op
    }

    /// A client's request ended with `outcome` (issued at `start`).
    #[inline]
    pub fn record(&mut self, client: u32, start: SimTime, outcome: Outcome) {
        self.rec.record(client, start, self.now, outcome);
    }
}

// Every event is copied in and out of the queue: keep it small (with the
// queue's 16-byte key, 48 bytes make one 64-byte entry).
const _: () = assert!(std::mem::size_of::<Event>() <= 48);
