//! The downstream calls of an app: each request calls other services (e.g. a
//! database through HAProxy) one after the other, holding its worker
//! meanwhile (thread per request, or a php-fpm child). A failed call turns
//! into the app's error answer (500 by default), as a real stack propagates
//! a DB error. Spoken by the generic app (`server`) and by `php-fpm`; each
//! names its own timers through [`Wake`].
//!
//! Without `pool` every call opens a connection of its own. With `pool = N`
//! the app keeps up to N connections open to the target and reuses them, the
//! most recently returned first (a request waits for one when all are busy).
//! A pooled connection that breaks (RST, close, a timeout) is dropped from the
//! pool: the call on it, if any, fails; an idle one just goes (the pool sees
//! the closed socket). Through HAProxy in tcp mode a pooled connection is
//! bound to the server chosen when it was opened — which is why existing pool
//! connections to a dead database hang until a timeout.

use crate::config::ConfigError;
use crate::config::read::ReadCx;
use crate::config::table::Reader;
use crate::engine::{DeadlineFifo, Dur, SimTime, Slab};
use crate::process::{Addr, CallRef, Ctx, Msg, MsgKind, NO_PEER, Req};
use crate::products::Timer;
use std::collections::VecDeque;
use std::marker::PhantomData;

/// The timers a product wakes its calls' deadlines with: its own timer
/// enum's variants for call kind `call` (static dispatch: a type, no
/// function pointer).
pub trait Wake {
    /// The wake-up of the connect deadlines of call kind `call`.
    fn connect(call: u32) -> Timer;
    /// The wake-up of the read deadlines of call kind `call`.
    fn read(call: u32) -> Timer;
}

/// Where a request stands in its calls: the kind in progress and how many
/// of it are left, and what it passes on (the client operation, GET/POST).
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    pub step: u16,
    pub left: u32,
    pub op: u32,
    pub idempotent: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionMode {
    /// A new TCP connection per call.
    PerRequest,
    /// A pool of at most `size` connections; a call waits for a free one.
    Pool { size: u32 },
}

/// One `[[apps.NAME.calls]]` entry.
#[derive(Clone, Debug)]
pub struct CallSpec {
    pub target: String,
    /// Calls per incoming request, made one after the other.
    pub count: u32,
    /// The driver's connect timeout and read timeout.
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub connection: ConnectionMode,
    /// Status the app answers when this call fails (500 by default).
    pub error_status: u16,
    /// `op = "read" | "write"`: what the call does, whatever the client's
    /// request was (a session file written on every GET); absent, it reads
    /// or writes as the request does.
    pub op: Option<CallOp>,
}

/// A call's `op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOp {
    Read,
    Write,
}

impl CallOp {
    pub fn name(self) -> &'static str {
        match self {
            CallOp::Read => "read",
            CallOp::Write => "write",
        }
    }
}

/// Reads an app's `[[apps.NAME.calls]]`; `pool` is refused with `no_pool`
/// when the product cannot share connections between its workers.
pub fn read_calls<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
    no_pool: Option<&str>,
) -> Result<Vec<CallSpec>, ConfigError> {
    let own = cx.members();
    let mut calls = Vec::new();
    for mut c in r.array_of_tables("calls")? {
        let target = cx.target(&mut c, "target", "a call's target")?;
        if own.contains(&target) {
            return Err(c.error_at("target", format!("`{target}` would call itself")));
        }
        if let Some(why) = no_pool {
            c.reject("pool", why)?;
        }
        let call = CallSpec {
            target,
            count: c.u32_min_opt("count", 1)?.unwrap_or(1),
            connect_timeout: c
                .positive_duration_opt("connect_timeout")?
                .unwrap_or(call_defaults::CONNECT_TIMEOUT),
            timeout: c
                .positive_duration_opt("timeout")?
                .unwrap_or(call_defaults::TIMEOUT),
            connection: match c.u32_min_opt("pool", 1)? {
                Some(size) => ConnectionMode::Pool { size },
                None => ConnectionMode::PerRequest,
            },
            error_status: c
                .u32_range_opt("error_status", 100, 599)?
                .map(|s| s as u16)
                .unwrap_or(call_defaults::ERROR_STATUS),
            op: c.string_enum_opt("op", &["read", "write"])?.map(|o| {
                if o == "read" {
                    CallOp::Read
                } else {
                    CallOp::Write
                }
            }),
        };
        c.finish()?;
        calls.push(call);
    }
    Ok(calls)
}

/// Defaults of an app's `[[apps.NAME.calls]]` entry: a generic database or
/// HTTP driver; no product default applies.
mod call_defaults {
    use crate::engine::Dur;
    pub const CONNECT_TIMEOUT: Dur = Dur::from_secs(5);
    pub const TIMEOUT: Dur = Dur::from_secs(30);
    pub const ERROR_STATUS: u16 = 500;
}

#[derive(Clone)]
pub struct CallCfg {
    /// A node, or a VIP (resolved by the kernel at each send).
    pub target: Addr,
    pub count: u32,
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub pool: Option<u32>,
    pub error_status: u16,
    /// Reads (`Some(true)`) or writes (`Some(false)`) whatever the client's
    /// request is (a session's GET and SET); `None`: as the client's request.
    pub idempotent: Option<bool>,
    /// The client operation passed on (`false`: the call is not one of the
    /// client's operations the write history judges, e.g. a session).
    pub pass_op: bool,
}

impl CallCfg {
    pub fn new(spec: &CallSpec, target: impl Into<Addr>) -> CallCfg {
        CallCfg {
            target: target.into(),
            count: spec.count,
            connect_timeout: spec.connect_timeout,
            timeout: spec.timeout,
            pool: match spec.connection {
                ConnectionMode::PerRequest => None,
                ConnectionMode::Pool { size } => Some(size),
            },
            error_status: spec.error_status,
            idempotent: spec.op.map(|o| o == CallOp::Read),
            pass_op: true,
        }
    }
}

#[derive(Clone, Copy)]
struct Out {
    /// The request the current call serves (when `busy`).
    inbound: CallRef,
    cfg: u16,
    busy: bool,
    /// Start of the current call (its read timeout counts from here).
    started: SimTime,
    established_at: SimTime,
    /// The callee's side of a kept connection, once it said so.
    peer: u32,
}

#[derive(Clone)]
pub struct Downstream<W: Wake> {
    cfgs: Vec<CallCfg>,
    /// Calls in flight, and the pools' connections (kept between calls).
    out: Slab<Out>,
    connect_deadlines: Vec<DeadlineFifo>,
    read_deadlines: Vec<DeadlineFifo>,
    /// Per call kind: idle pooled connections (last returned on top), how
    /// many connections are open, and requests waiting for one.
    idle: Vec<Vec<CallRef>>,
    open: Vec<u32>,
    waiting: Vec<VecDeque<Work>>,
    wake: PhantomData<W>,
}

/// A request of the app that needs a downstream call.
#[derive(Clone, Copy)]
struct Work {
    inbound: CallRef,
    op: u32,
    idempotent: bool,
}

impl Work {
    fn of(inbound: CallRef, inb: &Progress) -> Work {
        Work {
            inbound,
            op: inb.op,
            idempotent: inb.idempotent,
        }
    }
}

type Ended = (CallRef, Result<(), u16>);

/// The client operation id a call that is not a client operation carries:
/// beyond every operation the write history holds, so it judges nothing.
pub const NO_OP: u32 = crate::data::UNTRACKED;

impl<W: Wake> Downstream<W> {
    pub fn new(cfgs: Vec<CallCfg>) -> Downstream<W> {
        let n = cfgs.len();
        Downstream {
            cfgs,
            out: Slab::default(),
            connect_deadlines: vec![DeadlineFifo::default(); n],
            read_deadlines: vec![DeadlineFifo::default(); n],
            idle: vec![Vec::new(); n],
            open: vec![0; n],
            waiting: vec![VecDeque::new(); n],
            wake: PhantomData,
        }
    }

    pub fn has_calls(&self) -> bool {
        !self.cfgs.is_empty()
    }

    /// How many call kinds there are.
    pub fn kinds(&self) -> usize {
        self.cfgs.len()
    }

    /// First call of request `me`.
    pub fn begin(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Progress) {
        self.begin_step(ctx, me, inb, 0);
    }

    /// First call of kind `step` for request `me` (a product that does
    /// work between its kinds of calls drives them one kind at a time,
    /// with [`Downstream::next_in_step`]).
    pub fn begin_step(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Progress, step: u16) {
        inb.step = step;
        inb.left = self.cfgs[step as usize].count;
        self.issue(ctx, Work::of(me, inb), step as usize);
    }

    /// The current call succeeded; issues the next one of the same kind.
    /// True when the kind's calls are all done.
    pub fn next_in_step(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Progress) -> bool {
        inb.left -= 1;
        if inb.left == 0 {
            return true;
        }
        self.issue(ctx, Work::of(me, inb), inb.step as usize);
        false
    }

    /// The current call succeeded; issues the next one. True when all are done.
    pub fn next(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Progress) -> bool {
        inb.left -= 1;
        while inb.left == 0 {
            inb.step += 1;
            if inb.step as usize >= self.cfgs.len() {
                return true;
            }
            inb.left = self.cfgs[inb.step as usize].count;
        }
        self.issue(ctx, Work::of(me, inb), inb.step as usize);
        false
    }

    /// Makes a call of kind `i` for request `me`: on an idle pooled
    /// connection, on a new one, or later when the pool is exhausted.
    fn issue(&mut self, ctx: &mut Ctx, w: Work, i: usize) {
        let cfg = &self.cfgs[i];
        let me = w.inbound;
        // A call reads or writes as the client's request does (GET / POST).
        let op = if cfg.pass_op { w.op } else { NO_OP };
        let req = Req {
            keep: cfg.pool.is_some(),
            ..Req::work(cfg.idempotent.unwrap_or(w.idempotent), op)
        };
        if let Some(conn) = self.idle[i].pop() {
            let o = self
                .out
                .get_mut(conn.slot, conn.generation)
                .expect("idle connections are live");
            o.busy = true;
            o.inbound = me;
            o.started = ctx.now;
            ctx.send_addr(ctx.now, cfg.target, conn, o.peer, MsgKind::Request(req));
            self.arm(ctx, i, conn, false);
            return;
        }
        if cfg.pool.is_some_and(|size| self.open[i] >= size) {
            self.waiting[i].push_back(w);
            return;
        }
        self.open[i] += 1;
        let o = Out {
            inbound: me,
            cfg: i as u16,
            busy: true,
            started: ctx.now,
            established_at: SimTime::NEVER,
            peer: NO_PEER,
        };
        let conn = CallRef::new(self.out.insert(o));
        ctx.send_addr(ctx.now, cfg.target, conn, NO_PEER, MsgKind::Connect(req));
        self.arm(ctx, i, conn, true);
    }

    /// Arms the read timeout of a call (and the connect timeout of a new connection).
    fn arm(&mut self, ctx: &mut Ctx, i: usize, conn: CallRef, connecting: bool) {
        let cfg = &self.cfgs[i];
        if connecting {
            let at = ctx.now + cfg.connect_timeout;
            let wake = W::connect(i as u32);
            ctx.arm_with(&mut self.connect_deadlines[i], at, conn, wake);
        }
        let at = ctx.now + cfg.timeout;
        let wake = W::read(i as u32);
        ctx.arm_with(&mut self.read_deadlines[i], at, conn, wake);
    }

    /// Drops connection `conn` (broken, timed out, or not kept by the callee);
    /// the call on it, if any, fails with the app's error status.
    fn drop_conn(&mut self, ctx: &mut Ctx, conn: CallRef) -> Option<Ended> {
        let o = self.out.remove(conn.slot, conn.generation)?;
        let i = o.cfg as usize;
        self.open[i] -= 1;
        self.idle[i].retain(|c| *c != conn);
        let failed = o.busy.then(|| (o.inbound, Err(self.cfgs[i].error_status)));
        self.serve_waiting(ctx, i);
        failed
    }

    fn serve_waiting(&mut self, ctx: &mut Ctx, i: usize) {
        if let Some(w) = self.waiting[i].pop_front() {
            self.issue(ctx, w, i);
        }
    }

    pub fn on_reply(&mut self, ctx: &mut Ctx, msg: Msg) -> Option<Ended> {
        let conn = msg.call;
        let ok = match msg.kind {
            MsgKind::Response { status } => (200..400).contains(&status),
            // The app answers a failed statement with its own error status.
            MsgKind::DbError(_) => false,
            MsgKind::Refused | MsgKind::Reset | MsgKind::Closed | MsgKind::Unreachable => {
                return self.drop_conn(ctx, conn);
            }
            MsgKind::Connect(_)
            | MsgKind::Request(_)
            | MsgKind::Close
            | MsgKind::Established
            | MsgKind::Wire(_) => {
                return None;
            }
        };
        let o = self.out.get_mut(conn.slot, conn.generation)?;
        if !o.busy {
            return None;
        }
        let i = o.cfg as usize;
        let result = if ok {
            Ok(())
        } else {
            Err(self.cfgs[i].error_status)
        };
        let inbound = o.inbound;
        if self.cfgs[i].pool.is_some() && msg.peer != NO_PEER {
            // Back to the pool, idle.
            o.busy = false;
            o.peer = msg.peer;
            self.idle[i].push(conn);
            self.serve_waiting(ctx, i);
        } else {
            let o = self.out.remove(conn.slot, conn.generation).expect("found");
            self.open[o.cfg as usize] -= 1;
            self.serve_waiting(ctx, i);
        }
        Some((inbound, result))
    }

    /// The wake-up of the connect (`connect`) or read deadlines of call `i`.
    pub fn on_timer(&mut self, ctx: &mut Ctx, i: usize, connect: bool) -> Vec<Ended> {
        let (out, now, timeout) = (&self.out, ctx.now, self.cfgs[i].timeout);
        if connect {
            // A connection is established once: one established by its
            // deadline never times out connecting.
            let fifo = &mut self.connect_deadlines[i];
            ctx.expire_with(fifo, W::connect(i as u32), |c, at| {
                out.get(c.slot, c.generation)
                    .is_some_and(|o| o.established_at > at)
            });
        } else {
            // Only the deadline of a connection's current call counts; an
            // idle connection's next call starts later, with a later one.
            let fifo = &mut self.read_deadlines[i];
            ctx.expire_with(fifo, W::read(i as u32), |c, at| {
                out.get(c.slot, c.generation)
                    .is_some_and(|o| o.started + timeout == at && (o.busy || o.started == now))
            });
        }
        let target = self.cfgs[i].target;
        let mut failed = Vec::new();
        while let Some(conn) = self.fifo(i, connect).next_due().map(CallRef::from) {
            let Some(o) = self.out.get(conn.slot, conn.generation).copied() else {
                continue;
            };
            let due = if connect {
                o.busy && o.established_at > ctx.now
            } else {
                // An entry of an earlier call on a pooled connection is stale.
                o.busy && o.started + timeout <= ctx.now
            };
            if !due {
                continue;
            }
            if o.established_at <= ctx.now {
                // The driver gives up on the connection and closes it.
                ctx.send_addr(ctx.now, target, conn, o.peer, MsgKind::Close);
            }
            failed.extend(self.drop_conn(ctx, conn));
        }
        failed
    }

    fn fifo(&mut self, i: usize, connect: bool) -> &mut DeadlineFifo {
        if connect {
            &mut self.connect_deadlines[i]
        } else {
            &mut self.read_deadlines[i]
        }
    }

    pub fn on_established(&mut self, call: CallRef, at: SimTime) {
        if let Some(o) = self.out.get_mut(call.slot, call.generation) {
            o.established_at = at;
        }
    }

    pub fn is_call_live(&self, call: CallRef) -> bool {
        self.out
            .get(call.slot, call.generation)
            .is_some_and(|o| o.busy)
    }

    /// Request `me` is abandoned (its worker process was killed): the
    /// kernel closes its call's connection — FIN once established, the
    /// SYN's retransmissions stop before. Per-request connections only: a
    /// pooled one outlives its request. Rare (a kill), so it scans.
    pub fn abandon(&mut self, ctx: &mut Ctx, me: CallRef) {
        let mine: Option<CallRef> = self.out.iter().find_map(|(slot, generation, o)| {
            (o.busy && o.inbound == me).then_some(CallRef { slot, generation })
        });
        let Some(conn) = mine else { return };
        let o = *self.out.get(conn.slot, conn.generation).expect("found");
        let i = o.cfg as usize;
        debug_assert!(
            self.cfgs[i].pool.is_none(),
            "only per-request calls are abandoned"
        );
        if o.established_at <= ctx.now {
            ctx.send_addr(ctx.now, self.cfgs[i].target, conn, o.peer, MsgKind::Close);
        }
        self.out.remove(conn.slot, conn.generation);
        self.open[i] -= 1;
        self.serve_waiting(ctx, i);
    }
}

/// `--dry-run`: an app's calls, one phrase each.
pub fn describe_calls(calls: &[CallSpec]) -> Vec<String> {
    calls
        .iter()
        .map(|c| {
            let conn = match c.connection {
                ConnectionMode::PerRequest => "a connection per call".to_string(),
                ConnectionMode::Pool { size } => format!("pool of {size}"),
            };
            let op =
                c.op.map(|o| format!(", op {}", o.name()))
                    .unwrap_or_default();
            format!(
                "{} x{} ({conn}, connect timeout {}, timeout {}, error {}{op})",
                c.target, c.count, c.connect_timeout, c.timeout, c.error_status
            )
        })
        .collect()
}
