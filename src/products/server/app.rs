//! The downstream calls of an app instance: each request, after its own
//! service time, calls other services (e.g. a database through HAProxy) one
//! after the other, holding its worker meanwhile (thread per request). A failed
//! call turns into the app's error answer (500 by default), as a real stack
//! propagates a DB error.
//!
//! Without `pool` every call opens a connection of its own. With `pool = N`
//! the app keeps up to N connections open to the target and reuses them, the
//! most recently returned first (a request waits for one when all are busy).
//! A pooled connection that breaks (RST, close, a timeout) is dropped from the
//! pool: the call on it, if any, fails; an idle one just goes (the pool sees
//! the closed socket). Through HAProxy in tcp mode a pooled connection is
//! bound to the server chosen when it was opened — which is why existing pool
//! connections to a dead database hang until a timeout.

use super::Inbound;
use super::ServerTimer;
use crate::engine::{DeadlineFifo, Dur, SimTime, Slab};
use crate::process::{Addr, CallRef, Ctx, Msg, MsgKind, NO_PEER, Req};
use crate::products::server::config::{CallSpec, ConnectionMode};
use std::collections::VecDeque;

#[derive(Clone)]
pub struct CallCfg {
    /// A node, or a VIP (resolved by the kernel at each send).
    pub target: Addr,
    pub count: u32,
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub pool: Option<u32>,
    pub error_status: u16,
    /// `op`: the call reads (idempotent) or writes whatever the request
    /// does; `None` passes the request's kind on.
    pub idempotent: Option<bool>,
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
            idempotent: spec.op.map(|o| o == super::config::CallOp::Read),
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
pub struct Downstream {
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
}

/// A request of the app that needs a downstream call.
#[derive(Clone, Copy)]
struct Work {
    inbound: CallRef,
    op: u32,
    idempotent: bool,
}

impl Work {
    fn of(inbound: CallRef, inb: &Inbound) -> Work {
        Work {
            inbound,
            op: inb.op,
            idempotent: inb.idempotent,
        }
    }
}

type Ended = (CallRef, Result<(), u16>);

impl Downstream {
    pub fn new(cfgs: Vec<CallCfg>) -> Downstream {
        let n = cfgs.len();
        Downstream {
            cfgs,
            out: Slab::default(),
            connect_deadlines: vec![DeadlineFifo::default(); n],
            read_deadlines: vec![DeadlineFifo::default(); n],
            idle: vec![Vec::new(); n],
            open: vec![0; n],
            waiting: vec![VecDeque::new(); n],
        }
    }

    pub fn has_calls(&self) -> bool {
        !self.cfgs.is_empty()
    }

    /// First call of request `me`.
    pub(super) fn begin(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Inbound) {
        inb.step = 0;
        inb.left = self.cfgs[0].count;
        self.issue(ctx, Work::of(me, inb), 0);
    }

    /// The current call succeeded; issues the next one. True when all are done.
    pub(super) fn next(&mut self, ctx: &mut Ctx, me: CallRef, inb: &mut Inbound) -> bool {
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
        let req = Req {
            keep: cfg.pool.is_some(),
            ..Req::work(cfg.idempotent.unwrap_or(w.idempotent), w.op)
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
            let wake = ServerTimer::ConnectDeadline { call: i as u32 };
            ctx.arm_with(&mut self.connect_deadlines[i], at, conn, wake);
        }
        let at = ctx.now + cfg.timeout;
        let wake = ServerTimer::ReadDeadline { call: i as u32 };
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
        let expired = if connect {
            let wake = ServerTimer::ConnectDeadline { call: i as u32 };
            ctx.expire_with(&mut self.connect_deadlines[i], wake)
        } else {
            let wake = ServerTimer::ReadDeadline { call: i as u32 };
            ctx.expire_with(&mut self.read_deadlines[i], wake)
        };
        let timeout = self.cfgs[i].timeout;
        let target = self.cfgs[i].target;
        let mut failed = Vec::new();
        for conn in expired {
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
}

/// `--dry-run`: an app as the experiment resolved it.
pub fn describe(o: &mut String, a: &super::config::AppSpec) {
    use crate::products::server::config::ConnectionMode;
    use std::fmt::Write;
    let calls: Vec<String> = a
        .calls
        .iter()
        .map(|c| {
            let conn = match c.connection {
                ConnectionMode::PerRequest => "a connection per call".to_string(),
                ConnectionMode::Pool { size } => format!("pool of {size}"),
            };
            let op = c.op.map(|o| format!(", op {}", o.name())).unwrap_or_default();
            format!(
                "{} x{} ({conn}, connect timeout {}, timeout {}, error {}{op})",
                c.target, c.count, c.connect_timeout, c.timeout, c.error_status
            )
        })
        .collect();
    let _ = writeln!(
        o,
        "{} workers, service {}, calls {}",
        a.server.workers,
        crate::process::dist::describe(&a.server.service),
        calls.join(", ")
    );
}
