//! GlusterFS 10, a replica volume and its FUSE mount (gluster/glusterfs tag
//! v10.3; shared/reference/others.md §3).
//!
//! A brick (`glusterfsd`, one per volume member) serves file operations
//! after its `fop_time`. Everything that decides what an app sees runs in
//! the mount, the FUSE client on the app's host, as in GlusterFS:
//!
//! - one connection per brick (protocol/client). A brick whose process
//!   dies on a live host is dropped at once: its kernel resets the
//!   connection. One whose host vanished is dropped by the rpc-clnt ping
//!   timer (rpc/rpc-lib/src/rpc-clnt-ping.c): a ping goes out when a
//!   request is submitted and none is under way, and again `ping-timeout`
//!   after each answered one while requests are outstanding; the expiry
//!   timer, armed `ping-timeout` after a ping is sent, disconnects unless
//!   something was received or sent within the last `ping-timeout`
//!   (`rpc_clnt_ping_timer_expired`), and re-arms itself otherwise. So a
//!   brick lost under traffic is dropped between one and two
//!   `ping-timeout`s after the loss, later while the app keeps sending to
//!   it. Pending operations on a dropped brick fail there and AFR goes on
//!   with the others. Reconnects every 3 s (`rpc_clnt_reconnect`).
//! - AFR (xlators/cluster/afr): a write goes to every connected brick and
//!   is answered when all have answered (or were dropped); without quorum
//!   among the connected bricks (before) or among those that succeeded
//!   (after, `afr_handle_quorum`) it fails with ENOTCONN
//!   (`afr_quorum_errno`; measured: ENOTCONN, not EROFS, on 10.3). A read
//!   goes to one brick, the file's hash among the connected ones
//!   (`read-hash-mode` 1), and to the next one if that brick is dropped.
//! - pending heal: a write that missed a brick leaves its file in that
//!   brick's index; when the brick reconnects the entries are healed one
//!   after the other, `heal_entry_time` each (index heal on CHILD_UP).
//!
//! Left out: server-side quorum (`cluster.server-quorum-type`, off by
//! default), glusterd and the portmap step of a reconnect, the TCP user
//! timeout (`client.tcp-user-timeout` is 0 on a 10.3 volume), the socket
//! send buffer's size in bytes (it holds [`SNDBUF_FRAMES`] requests; the
//! ones beyond do not refresh the ping timer's `last_sent`), reads avoiding bricks pending heal for the file, the
//! 600 s `cluster.heal-timeout` crawl, file contents (split-brain is not
//! judged: the volume's nodes do not hold client data for the write
//! history).

pub mod config;
pub mod errors;
pub mod formulas;
mod product;
#[cfg(test)]
mod tests;

use crate::engine::{Dur, Rng, SimTime, Slab};
use crate::metrics::EventKind;
use crate::process::dist::Sampler;
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NodeId, Process, Req, ReqKind};
use crate::products::Timer;
use config::{MountSpec, Quorum, VolumeSpec};
use std::collections::BTreeSet;

/// rpc_clnt_reconnect: a dropped brick is tried again every 3 s.
pub const RECONNECT: Dur = Dur::from_secs(3);

/// Requests a connection's socket takes unacknowledged before it blocks:
/// Linux's initial send buffer (`tcp_wmem` 16 KB) over ~1 KB per small file
/// operation. A brick host that vanished acknowledges nothing: after this
/// many requests to it, sends stop refreshing the ping timer's `last_sent`.
pub const SNDBUF_FRAMES: u32 = 16;

/// What a mount sends a brick on their connection: requests on a kept TCP
/// connection (the kernel retransmits them, so a short cut delays them by
/// the RTO backoff, as it does the real RPC), answered with the request's
/// number in the answer's `peer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Frame {
    /// A file operation (`write`: it changes the file), numbered `id`.
    Fop { id: u32, write: bool },
    /// rpc-clnt's GF_DUMP_PING.
    Ping,
}

/// The number a ping's answer carries.
const PING: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlusterTimer {
    /// Mount: try brick `b` again.
    Reconnect { b: u8 },
    /// Mount: `rpc_clnt_start_ping` of brick `b`.
    StartPing { b: u8 },
    /// Mount: `rpc_clnt_ping_timer_expired` of brick `b`.
    PingExpired { b: u8 },
    /// Mount: one entry of brick `b` healed.
    Healed { b: u8 },
}

impl From<GlusterTimer> for Timer {
    fn from(t: GlusterTimer) -> Timer {
        Timer::Glusterfs(t)
    }
}

#[derive(Clone)]
pub enum Glusterfs {
    Brick(Brick),
    Mount(Box<Mount>),
}

/// A brick process: serves operations, and holds the mounts' connections
/// (its kernel resets them when it dies).
#[derive(Clone)]
pub struct Brick {
    fop_time: Sampler,
    mounts: Vec<(NodeId, CallRef)>,
}

impl Brick {
    pub fn new(v: &VolumeSpec) -> Brick {
        Brick {
            fop_time: Sampler::new(&v.fop_time),
            mounts: Vec::new(),
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(_) => {
                self.mounts.retain(|(n, _)| *n != msg.from);
                self.mounts.push((msg.from, msg.call));
                ctx.send_peer(msg.from, msg.call, 0, MsgKind::Response { status: 200 });
            }
            MsgKind::Close => self.mounts.retain(|&(n, c)| (n, c) != (msg.from, msg.call)),
            MsgKind::Request(req) if req.op == PING => {
                ctx.send_peer(msg.from, msg.call, PING, MsgKind::Response { status: 200 });
            }
            MsgKind::Request(req) => {
                let d = ctx.slowed(self.fop_time.sample(rng));
                let done = MsgKind::Response { status: 200 };
                ctx.send_at(ctx.now + d, msg.from, msg.call, req.op, done);
            }
            _ => {}
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    Down,
    Connecting,
    Up,
}

/// The mount's connection to one brick, with its rpc-clnt ping state.
#[derive(Clone, Debug)]
struct BrickConn {
    node: NodeId,
    link: Link,
    /// Connection number: the `generation` of its CallRef (slot = brick).
    conn: u32,
    /// Requests sent and not answered (pings included): `saved_frames`.
    frames: u32,
    last_sent: SimTime,
    last_received: SimTime,
    /// The ping timer (start or expiry), when armed: `ping_started`.
    ping: Option<crate::process::TimerKey>,
    /// Files written while this brick was not: its pending heal index.
    pending: BTreeSet<u32>,
    healing: bool,
    heal_started: SimTime,
    /// A reconnect attempt is scheduled.
    reconnecting: bool,
}

/// A file operation of the app in progress.
#[derive(Clone, Copy, Debug)]
struct Fop {
    /// The app's request it serves.
    request: CallRef,
    write: bool,
    file: u32,
    /// Bricks whose answer it waits for, and those that answered.
    waiting: u32,
    done: u32,
    /// Bricks a read tried.
    tried: u32,
}

/// An app's connection to the mount (a request at a time on it).
#[derive(Clone, Copy, Debug)]
struct Request {
    caller: NodeId,
    call: CallRef,
    keep: bool,
    active: bool,
}

/// The FUSE client.
#[derive(Clone)]
pub struct Mount {
    ping_timeout: Dur,
    quorum: Quorum,
    files: u32,
    heal_entry_time: Dur,
    bricks: Vec<BrickConn>,
    fops: Slab<Fop>,
    requests: Slab<Request>,
    /// Whether client quorum held at the last change (for its events).
    quorate: bool,
}

impl Mount {
    pub fn new(m: &MountSpec, bricks: &[NodeId]) -> Mount {
        Mount {
            ping_timeout: m.ping_timeout,
            quorum: m.quorum,
            files: m.files,
            heal_entry_time: m.heal_entry_time,
            bricks: bricks
                .iter()
                .map(|&node| BrickConn {
                    node,
                    link: Link::Down,
                    conn: 0,
                    frames: 0,
                    last_sent: SimTime::ZERO,
                    last_received: SimTime::ZERO,
                    ping: None,
                    pending: BTreeSet::new(),
                    healing: false,
                    heal_started: SimTime::ZERO,
                    reconnecting: false,
                })
                .collect(),
            fops: Slab::default(),
            requests: Slab::default(),
            quorate: false,
        }
    }

    fn n(&self) -> u32 {
        self.bricks.len() as u32
    }

    /// The connected bricks, a bit each.
    fn up(&self) -> u32 {
        self.bricks
            .iter()
            .enumerate()
            .filter(|(_, c)| c.link == Link::Up)
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    /// Entries pending heal, over every brick.
    pub fn pending_heal(&self) -> usize {
        self.bricks.iter().map(|c| c.pending.len()).sum()
    }

    fn conn_ref(&self, b: usize) -> CallRef {
        CallRef {
            slot: b as u32,
            generation: self.bricks[b].conn,
        }
    }

    fn connect(&mut self, ctx: &mut Ctx, b: usize) {
        let c = &mut self.bricks[b];
        c.conn += 1;
        c.link = Link::Connecting;
        let req = Req {
            keep: true,
            ..Req::once(ReqKind::Work, true)
        };
        let (node, call) = (c.node, self.conn_ref(b));
        ctx.send(node, call, MsgKind::Connect(req));
        self.arm_reconnect(ctx, b);
    }

    /// rpc_clnt_reconnect's timer: one chain per brick.
    fn arm_reconnect(&mut self, ctx: &mut Ctx, b: usize) {
        if !self.bricks[b].reconnecting {
            self.bricks[b].reconnecting = true;
            ctx.at(ctx.now + RECONNECT, GlusterTimer::Reconnect { b: b as u8 });
        }
    }

    /// Sends a frame (an operation or a ping) to brick `b`.
    fn submit(&mut self, ctx: &mut Ctx, b: usize, m: Frame) {
        let call = self.conn_ref(b);
        let c = &mut self.bricks[b];
        // Written into the socket (MSG_SENT, `last_sent`) while the send
        // buffer has room; a dead peer acknowledges nothing, so it fills.
        if c.frames < SNDBUF_FRAMES {
            c.last_sent = ctx.now;
        }
        c.frames += 1;
        let req = match m {
            Frame::Fop { id, write } => Req {
                keep: true,
                ..Req::work(!write, id)
            },
            Frame::Ping => Req {
                keep: true,
                ..Req::work(true, PING)
            },
        };
        ctx.send_peer(c.node, call, 0, MsgKind::Request(req));
        // rpc_clnt_check_and_start_ping, after every submit.
        if c.ping.is_none() && m != Frame::Ping {
            self.start_ping(ctx, b);
        }
    }

    /// rpc_clnt_start_ping: nothing while no request is outstanding (the
    /// next submit starts it again); else the expiry timer and a ping.
    fn start_ping(&mut self, ctx: &mut Ctx, b: usize) {
        let c = &mut self.bricks[b];
        if let Some(k) = c.ping.take() {
            ctx.cancel(k);
        }
        if self.ping_timeout.is_zero() || c.frames == 0 || c.link != Link::Up {
            return;
        }
        let at = ctx.now + self.ping_timeout;
        c.ping = Some(ctx.at_cancellable(at, GlusterTimer::PingExpired { b: b as u8 }));
        self.submit(ctx, b, Frame::Ping);
    }

    fn ping_expired(&mut self, ctx: &mut Ctx, b: usize) {
        let pt = self.ping_timeout;
        let c = &mut self.bricks[b];
        c.ping = None;
        if c.link != Link::Up {
            return;
        }
        if ctx.now < c.last_received + pt || ctx.now < c.last_sent + pt {
            // "ping timer expired but transport activity detected"
            let at = ctx.now + pt;
            c.ping = Some(ctx.at_cancellable(at, GlusterTimer::PingExpired { b: b as u8 }));
            return;
        }
        let detail = format!(
            "server has not responded in the last {} seconds, disconnecting",
            pt.as_secs_f64()
        );
        self.disconnect(ctx, b, detail);
    }

    /// The connection to brick `b` is gone: its pending operations fail
    /// there, AFR goes on with the other bricks.
    fn disconnect(&mut self, ctx: &mut Ctx, b: usize, detail: String) {
        let was_up = self.bricks[b].link == Link::Up;
        let c = &mut self.bricks[b];
        if let Some(k) = c.ping.take() {
            ctx.cancel(k);
        }
        c.link = Link::Down;
        c.frames = 0;
        c.healing = false;
        c.conn += 1;
        let node = c.node;
        if !was_up {
            return;
        }
        ctx.log(node, EventKind::MarkedDown, detail);
        self.arm_reconnect(ctx, b);
        self.quorum_changed(ctx);
        let bit = 1u32 << b;
        let hit: Vec<(u32, u32)> = self
            .fops
            .keys()
            .into_iter()
            .filter(|&(s, g)| self.fops.get(s, g).is_some_and(|f| f.waiting & bit != 0))
            .collect();
        for (slot, generation) in hit {
            let f = self.fops.get_mut(slot, generation).expect("listed");
            f.waiting &= !bit;
            self.progress(ctx, CallRef { slot, generation });
        }
    }

    fn quorum_changed(&mut self, ctx: &mut Ctx) {
        let q = self.quorum.met(self.up(), self.n());
        if q == self.quorate {
            return;
        }
        self.quorate = q;
        let me = ctx.me;
        match q {
            true => ctx.log(me, EventKind::QuorumRegained, "Client-quorum is met"),
            false => ctx.log(me, EventKind::QuorumLost, "Client-quorum is not met"),
        }
    }

    fn connected(&mut self, ctx: &mut Ctx, b: usize) {
        let c = &mut self.bricks[b];
        c.link = Link::Up;
        c.frames = 0;
        c.last_received = ctx.now;
        let node = c.node;
        ctx.log(node, EventKind::MarkedUp, "Connected, attached to remote volume");
        self.quorum_changed(ctx);
        self.start_heal(ctx, b);
    }

    /// Index heal when brick `b` comes up (CHILD_UP).
    fn start_heal(&mut self, ctx: &mut Ctx, b: usize) {
        let c = &mut self.bricks[b];
        if c.healing || c.pending.is_empty() || c.link != Link::Up {
            return;
        }
        c.healing = true;
        c.heal_started = ctx.now;
        let (node, n) = (c.node, c.pending.len());
        ctx.log(node, EventKind::Info, format!("{n} entries pending heal"));
        ctx.at(ctx.now + self.heal_entry_time, GlusterTimer::Healed { b: b as u8 });
    }

    fn healed(&mut self, ctx: &mut Ctx, b: usize) {
        let c = &mut self.bricks[b];
        if !c.healing || c.link != Link::Up {
            return;
        }
        c.pending.pop_first();
        if c.pending.is_empty() {
            c.healing = false;
            let took = ctx.now.since(c.heal_started);
            let node = c.node;
            ctx.log(node, EventKind::Info, format!("0 entries pending heal: healed in {took}"));
            return;
        }
        ctx.at(ctx.now + self.heal_entry_time, GlusterTimer::Healed { b: b as u8 });
    }

    /// An app's request: a read or a write of one file.
    fn begin(&mut self, ctx: &mut Ctx, request: CallRef, req: Req) {
        let write = !req.idempotent;
        let file = req.op % self.files;
        let up = self.up();
        if up == 0 || (write && !self.quorum.met(up, self.n())) {
            return self.answer(ctx, request, Err(errors::ENOTCONN));
        }
        let f = Fop {
            request,
            write,
            file,
            waiting: 0,
            done: 0,
            tried: 0,
        };
        let id = CallRef::new(self.fops.insert(f));
        if write {
            for b in 0..self.bricks.len() {
                if up & 1 << b != 0 {
                    self.fops.get_mut(id.slot, id.generation).expect("new").waiting |= 1 << b;
                    self.submit(ctx, b, Frame::Fop { id: id.slot, write });
                }
            }
        } else {
            self.read_next(ctx, id);
        }
    }

    /// Sends read `id` to the next connected brick it has not tried, the
    /// file's hash among them (`read-hash-mode` 1); fails without one.
    fn read_next(&mut self, ctx: &mut Ctx, id: CallRef) {
        let up = self.up();
        let f = self.fops.get(id.slot, id.generation).copied().expect("live");
        let free: Vec<usize> = (0..self.bricks.len())
            .filter(|b| up & 1 << b != 0 && f.tried & 1 << b == 0)
            .collect();
        if free.is_empty() {
            self.fops.remove(id.slot, id.generation);
            return self.answer(ctx, f.request, Err(errors::ENOTCONN));
        }
        let b = free[f.file as usize % free.len()];
        let f = self.fops.get_mut(id.slot, id.generation).expect("live");
        f.tried |= 1 << b;
        f.waiting = 1 << b;
        self.submit(ctx, b, Frame::Fop { id: id.slot, write: false });
    }

    /// Fop `id` lost a brick or got an answer: done when nothing is awaited.
    fn progress(&mut self, ctx: &mut Ctx, id: CallRef) {
        let Some(f) = self.fops.get(id.slot, id.generation).copied() else {
            return;
        };
        if f.waiting != 0 {
            return;
        }
        if !f.write {
            if f.done != 0 {
                self.fops.remove(id.slot, id.generation);
                return self.answer(ctx, f.request, Ok(()));
            }
            return self.read_next(ctx, id);
        }
        self.fops.remove(id.slot, id.generation);
        if f.done == 0 || !self.quorum.met(f.done, self.n()) {
            return self.answer(ctx, f.request, Err(errors::ENOTCONN));
        }
        // The bricks that missed it need the file healed.
        for b in 0..self.bricks.len() {
            if f.done & 1 << b == 0 {
                self.bricks[b].pending.insert(f.file);
                self.start_heal(ctx, b);
            }
        }
        self.answer(ctx, f.request, Ok(()));
    }

    fn answer(&mut self, ctx: &mut Ctx, me: CallRef, r: Result<(), crate::process::DbErrorCode>) {
        let Some(q) = self.requests.get_mut(me.slot, me.generation) else {
            return;
        };
        let kind = match r {
            Ok(()) => MsgKind::Response { status: 200 },
            Err(e) => MsgKind::DbError(e.error),
        };
        if q.keep {
            q.active = false;
            ctx.send_peer(q.caller, q.call, me.slot, kind);
        } else {
            let q = self.requests.remove(me.slot, me.generation).expect("found");
            ctx.send(q.caller, q.call, kind);
        }
    }

    /// Which of this mount's requests a message on an app connection is.
    fn request_of(&self, msg: &Msg) -> Option<CallRef> {
        let generation = self.requests.generation_of(msg.peer)?;
        let q = self.requests.get(msg.peer, generation)?;
        (q.caller == msg.from && q.call == msg.call).then_some(CallRef {
            slot: msg.peer,
            generation,
        })
    }

    /// A message from brick `b` on its current connection.
    fn on_brick_message(&mut self, ctx: &mut Ctx, b: usize, msg: Msg) {
        match msg.kind {
            MsgKind::Response { .. } if self.bricks[b].link == Link::Connecting => {
                self.connected(ctx, b)
            }
            MsgKind::Refused | MsgKind::Unreachable if self.bricks[b].link == Link::Connecting => {
                self.bricks[b].link = Link::Down;
            }
            MsgKind::Reset | MsgKind::Closed => {
                self.disconnect(ctx, b, "disconnected from the brick (connection reset)".into())
            }
            MsgKind::Response { .. } => {
                let c = &mut self.bricks[b];
                if c.link != Link::Up {
                    return;
                }
                c.last_received = ctx.now;
                c.frames = c.frames.saturating_sub(1);
                if msg.peer == PING {
                    // rpc_clnt_ping_cbk: the next ping in ping-timeout.
                    let at = ctx.now + self.ping_timeout;
                    let c = &mut self.bricks[b];
                    if let Some(k) = c.ping.take() {
                        ctx.cancel(k);
                    }
                    c.ping = Some(ctx.at_cancellable(at, GlusterTimer::StartPing { b: b as u8 }));
                    return;
                }
                let (id, bit) = (msg.peer, 1u32 << b);
                let Some(generation) = self.fops.generation_of(id) else {
                    return;
                };
                let Some(f) = self.fops.get_mut(id, generation) else {
                    return;
                };
                if f.waiting & bit == 0 {
                    return;
                }
                f.waiting &= !bit;
                f.done |= bit;
                self.progress(ctx, CallRef { slot: id, generation });
            }
            _ => {}
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, msg: Msg) {
        // The mount's own connections to bricks: slot = brick, generation =
        // connection number.
        let b = msg.call.slot as usize;
        let brick_msg = msg.to == ctx.me
            && b < self.bricks.len()
            && self.bricks[b].node == msg.from
            && !matches!(msg.kind, MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close);
        if brick_msg {
            if msg.call.generation == self.bricks[b].conn {
                self.on_brick_message(ctx, b, msg);
            }
            return;
        }
        match msg.kind {
            MsgKind::Connect(req) => match req.kind {
                ReqKind::HttpCheck => ctx.send(msg.from, msg.call, MsgKind::Response { status: 200 }),
                ReqKind::L4Check => {}
                ReqKind::Work => {
                    let q = Request {
                        caller: msg.from,
                        call: msg.call,
                        keep: req.keep,
                        active: true,
                    };
                    let me = CallRef::new(self.requests.insert(q));
                    self.begin(ctx, me, req);
                }
            },
            MsgKind::Request(req) => match self.request_of(&msg) {
                Some(me) => {
                    let q = self.requests.get_mut(me.slot, me.generation).expect("found");
                    if !q.active {
                        q.active = true;
                        self.begin(ctx, me, req);
                    }
                }
                None => ctx.send(msg.from, msg.call, MsgKind::Reset),
            },
            MsgKind::Close => {
                // The app gave up or is done: a pending operation still
                // completes on the bricks; its answer goes nowhere.
                if let Some(me) = self.request_of(&msg) {
                    self.requests.remove(me.slot, me.generation);
                }
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, t: GlusterTimer) {
        match t {
            GlusterTimer::Reconnect { b } => {
                let b = b as usize;
                self.bricks[b].reconnecting = false;
                if self.bricks[b].link != Link::Up {
                    self.connect(ctx, b);
                }
            }
            GlusterTimer::StartPing { b } => {
                self.bricks[b as usize].ping = None;
                self.start_ping(ctx, b as usize)
            }
            GlusterTimer::PingExpired { b } => self.ping_expired(ctx, b as usize),
            GlusterTimer::Healed { b } => self.healed(ctx, b as usize),
        }
    }
}

impl Process for Glusterfs {
    type Timer = GlusterTimer;

    /// A mount connects to every brick. One that has run for a while has a
    /// ping chain whose phase follows its traffic since it was mounted,
    /// which nobody chose: its first `rpc_clnt_start_ping` comes at a
    /// phase `boot` draws, and until then submits do not start one.
    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        if let Glusterfs::Mount(m) = self {
            let pt = m.ping_timeout;
            for b in 0..m.bricks.len() {
                m.connect(ctx, b);
                if !pt.is_zero() {
                    let at = ctx.now + boot.first(Dur::ZERO, pt);
                    let t = GlusterTimer::StartPing { b: b as u8 };
                    m.bricks[b].ping = Some(ctx.at_cancellable(at, t));
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match self {
            Glusterfs::Brick(b) => b.on_message(ctx, rng, msg),
            Glusterfs::Mount(m) => m.on_message(ctx, msg),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _rng: &mut Rng, t: GlusterTimer) {
        if let Glusterfs::Mount(m) = self {
            m.on_timer(ctx, t);
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    /// A mount's connect to a brick is wanted while it is the current one.
    fn is_call_live(&self, call: CallRef) -> bool {
        match self {
            Glusterfs::Brick(_) => false,
            Glusterfs::Mount(m) => m
                .bricks
                .get(call.slot as usize)
                .is_some_and(|c| c.conn == call.generation && c.link == Link::Connecting),
        }
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        match self {
            Glusterfs::Brick(b) => b.mounts.clone(),
            Glusterfs::Mount(m) => m.requests.values().map(|q| (q.caller, q.call)).collect(),
        }
    }

    /// A brick keeps nothing but its disk; a mount restarts empty, except
    /// the heal index, which lives on the bricks' disks.
    fn crashed(&mut self, pristine: &Self) {
        let kept: Vec<BTreeSet<u32>> = match self {
            Glusterfs::Mount(m) => m.bricks.iter().map(|c| c.pending.clone()).collect(),
            Glusterfs::Brick(_) => Vec::new(),
        };
        self.clone_from(pristine);
        if let Glusterfs::Mount(m) = self {
            for (c, p) in m.bricks.iter_mut().zip(kept) {
                c.pending = p;
            }
        }
    }
}
