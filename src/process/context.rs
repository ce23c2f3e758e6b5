//! A model's narrow view of the run while it handles one event: the time,
//! its own identity, sending, timers (with keys that cancel them), the write
//! history and the event log. The queue, the network and the recorder stay
//! behind private fields: a model cannot reach them.

use super::{CallRef, Event, Msg, MsgKind, NO_PEER, NodeId, TimerKey, TimerTable};
use crate::engine::{Deadline, DeadlineFifo, Dur, EventQueue, SimTime};
use crate::metrics::{EventKind, History, Outcome, Recorder, RequestInfo};
use crate::net::{Addr, Garp, HostId, Network, VipId};
use crate::products::Timer;

impl From<Deadline> for CallRef {
    #[inline]
    fn from(d: Deadline) -> CallRef {
        CallRef {
            slot: d.slot,
            generation: d.generation,
        }
    }
}

/// A model's view of the world while it handles one event.
pub struct Ctx<'a> {
    pub now: SimTime,
    pub me: NodeId,
    /// Service-time multiplier of a `slow` fault (1.0 when healthy).
    pub slow: f64,
    incarnation: u32,
    queue: &'a mut EventQueue<Event>,
    net: &'a mut Network,
    hosts: &'a [HostId],
    names: &'a [String],
    rec: &'a mut Recorder,
    /// This process's cancellable timers.
    timers: &'a mut TimerTable,
}

/// What the run lends a model for one event ([`Ctx::new`]).
pub(crate) struct World<'a> {
    pub queue: &'a mut EventQueue<Event>,
    pub net: &'a mut Network,
    pub hosts: &'a [HostId],
    pub names: &'a [String],
    pub rec: &'a mut Recorder,
}

impl<'a> Ctx<'a> {
    /// The context of node `me` (in its life `incarnation`) at `now`.
    pub(crate) fn new(
        now: SimTime,
        me: NodeId,
        incarnation: u32,
        slow: f64,
        world: World<'a>,
        timers: &'a mut TimerTable,
    ) -> Ctx<'a> {
        Ctx {
            now,
            me,
            slow,
            incarnation,
            queue: world.queue,
            net: world.net,
            hosts: world.hosts,
            names: world.names,
            rec: world.rec,
            timers,
        }
    }

    /// Whether the link of this host's interface `name` is up (what a
    /// daemon reads from netlink when it starts).
    pub fn link_up(&self, name: crate::net::IfName) -> bool {
        self.net.hosts[self.hosts[self.me as usize] as usize].link_up(name)
    }

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
            vip: None,
            call,
            peer,
            kind,
            retx: 0,
        };
        // Leaving now, it arrives a hop after now: the hop's lane (if the
        // latency is constant). A later departure is an open-loop client's
        // batch of arrivals, in time order: the queue's sorted lane.
        if at <= self.now {
            self.queue.schedule_after(d, Event::Deliver(msg));
        } else {
            self.queue.schedule_sorted(at + d, Event::Deliver(msg));
        }
    }

    /// [`Ctx::send_at`] to an address: a node, or the holder of a VIP as
    /// this host's ARP cache sees it when the message leaves. Messages to
    /// nodes keep their own methods, which pay nothing for VIPs.
    #[inline]
    pub fn send_addr(&mut self, at: SimTime, to: Addr, call: CallRef, peer: u32, kind: MsgKind) {
        match to {
            Addr::Node(n) => self.send_at(at, n, call, peer, kind),
            Addr::Vip(v) => self.send_to_vip(at, v, call, peer, kind),
        }
    }

    /// A message to a VIP goes where this host's ARP cache points when it
    /// leaves: now, or at its departure (the kernel resolves it then, and
    /// fails it if ARP does). Off the hot path of node addresses.
    #[cold]
    #[inline(never)]
    fn send_to_vip(&mut self, at: SimTime, v: VipId, call: CallRef, peer: u32, kind: MsgKind) {
        let me = self.hosts[self.me as usize];
        let resolved = if at <= self.now {
            self.net.resolve(v, me, self.now)
        } else {
            None
        };
        let msg = Msg {
            from: self.me,
            // The sender itself until the kernel resolves it.
            to: resolved.unwrap_or(self.me),
            vip: Some(v),
            call,
            peer,
            kind,
            retx: 0,
        };
        match resolved {
            Some(to) => {
                let d = self.net.delay(me, self.hosts[to as usize]);
                self.queue.schedule_after(d, Event::Deliver(msg));
            }
            None => self.queue.schedule(at, Event::Depart(msg)),
        }
    }

    /// This host takes VIP `v` and announces it with a burst of `copies`
    /// gratuitous ARPs, which reaches every other host one hop later unless
    /// random loss eats every copy (a partition drops it on arrival).
    /// Claiming again re-announces (a second burst).
    pub fn claim_vip(&mut self, v: VipId, copies: u32) {
        let me = self.hosts[self.me as usize];
        self.net.vips.claim(v, me);
        self.net.vips.track(self.now);
        for to in 0..self.net.hosts.len() as HostId {
            if to != me && (0..copies.max(1)).any(|_| !self.net.lost(me, to)) {
                let d = self.net.delay(me, to);
                let garp = Event::Garp(Garp {
                    vip: v,
                    from: me,
                    to,
                });
                self.queue.schedule_after(d, garp);
            }
        }
    }

    /// This host gives VIP `v` up. Nothing is announced: other hosts keep
    /// sending here until a new holder's GARP reaches them, and this host
    /// drops those packets.
    pub fn release_vip(&mut self, v: VipId) {
        let me = self.hosts[self.me as usize];
        self.net.vips.release(v, me);
        self.net.vips.track(self.now);
    }

    /// Sets timer `t` of this process to fire at `at` (discarded if the
    /// process dies first).
    #[inline]
    pub fn at(&mut self, at: SimTime, t: impl Into<Timer>) {
        self.schedule_timer(at, TimerKey::NONE, t.into());
    }

    /// Sets timer `t` to fire at `at`, with a key that cancels it.
    #[inline]
    pub fn at_cancellable(&mut self, at: SimTime, t: impl Into<Timer>) -> TimerKey {
        let key = self.timers.arm();
        self.schedule_timer(at, key, t.into());
        key
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

    /// The wake-up `wake` of `fifo` fired: sets the deadlines now due aside
    /// (take them with [`DeadlineFifo::next_due`]), drops the finished ones
    /// after them and re-arms the wake-up at the first that `live` (given its
    /// call and deadline) says may still time out: a check that, once false,
    /// stays false.
    #[inline]
    pub fn expire_with(
        &mut self,
        fifo: &mut DeadlineFifo,
        wake: impl Into<Timer>,
        mut live: impl FnMut(CallRef, SimTime) -> bool,
    ) {
        if let Some(at) = fifo.expire(self.now, |d| live(CallRef::from(*d), d.at)) {
            self.at(at, wake);
        }
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
    pub fn record(&mut self, client: u32, start: SimTime, outcome: Outcome, info: RequestInfo) {
        self.rec
            .record_request(client, start, self.now, outcome, info);
    }

    /// Service time `d` as this process takes it now: longer under a
    /// `slow` fault.
    #[inline]
    pub fn slowed(&self, d: Dur) -> Dur {
        if self.slow == 1.0 {
            d
        } else {
            Dur((d.0 as f64 * self.slow) as u64)
        }
    }

    /// A trace is written: worth formatting what only the trace shows.
    #[inline]
    pub fn tracing(&self) -> bool {
        self.rec.access.is_some()
    }

    /// This balancer tried `server` for client operation `op` (`None`: no
    /// server was available) and the try ended `state`, in the product's
    /// access-log words. Kept only while a trace is written.
    #[inline]
    pub fn access(&mut self, op: u32, server: Option<NodeId>, state: &str) {
        if let Some(a) = self.rec.access.as_mut() {
            a.log(op, self.me, server, state);
        }
    }
}
