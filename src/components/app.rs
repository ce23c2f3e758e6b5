//! The downstream calls of an app instance: each request, after its own
//! service time, calls other services (e.g. a database through HAProxy) one
//! after the other, holding its worker meanwhile (thread per request). A failed
//! call turns into the app's error answer (500 by default), as a real stack
//! propagates a DB error.
//!
//! Simplification: every call opens its own connection. A `pool` bounds how
//! many calls of one kind are in flight at once (callers wait for a free
//! slot); connections are not kept open across calls.

use super::server::Inbound;
use super::{CallRef, Ctx, Msg, MsgKind, NodeId, Req, ReqKind, Timer};
use crate::config::spec::{CallSpec, ConnectionMode};
use crate::engine::{Deadline, DeadlineFifo, Dur, SimTime, Slab};
use std::collections::VecDeque;

const CONNECT_TIMEOUT: u8 = 1;
const READ_TIMEOUT: u8 = 2;

#[derive(Clone)]
pub struct CallCfg {
    pub target: NodeId,
    pub count: u32,
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub pool: Option<u32>,
    pub error_status: u16,
}

impl CallCfg {
    pub fn new(spec: &CallSpec, target: NodeId) -> CallCfg {
        CallCfg {
            target,
            count: spec.count,
            connect_timeout: spec.connect_timeout,
            timeout: spec.timeout,
            pool: match spec.connection {
                ConnectionMode::PerRequest => None,
                ConnectionMode::Pool { size } => Some(size),
            },
            error_status: spec.error_status,
        }
    }
}

#[derive(Clone, Copy)]
struct Out {
    inbound: CallRef,
    cfg: u16,
    established_at: SimTime,
}

#[derive(Clone)]
pub struct Downstream {
    cfgs: Vec<CallCfg>,
    out: Slab<Out>,
    connect_deadlines: Vec<DeadlineFifo>,
    read_deadlines: Vec<DeadlineFifo>,
    in_use: Vec<u32>,
    waiting: Vec<VecDeque<CallRef>>,
}

impl Downstream {
    pub fn new(cfgs: Vec<CallCfg>) -> Downstream {
        let n = cfgs.len();
        Downstream {
            cfgs,
            out: Slab::default(),
            connect_deadlines: vec![DeadlineFifo::default(); n],
            read_deadlines: vec![DeadlineFifo::default(); n],
            in_use: vec![0; n],
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
        self.issue(ctx, me, 0);
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
        self.issue(ctx, me, inb.step as usize);
        false
    }

    fn issue(&mut self, ctx: &mut Ctx, me: CallRef, i: usize) {
        if let Some(size) = self.cfgs[i].pool
            && self.in_use[i] >= size
        {
            self.waiting[i].push_back(me);
            return;
        }
        self.in_use[i] += 1;
        let cfg = &self.cfgs[i];
        let out = CallRef::new(self.out.insert(Out {
            inbound: me,
            cfg: i as u16,
            established_at: SimTime::NEVER,
        }));
        ctx.send(
            cfg.target,
            out,
            MsgKind::Connect(Req {
                kind: ReqKind::Work,
                idempotent: true,
            }),
        );
        let (ct, rt) = (ctx.now + cfg.connect_timeout, ctx.now + cfg.timeout);
        let out_ref = |at| Deadline {
            at,
            slot: out.slot,
            generation: out.generation,
        };
        if let Some(at) = self.connect_deadlines[i].push(out_ref(ct)) {
            ctx.timer(at, CONNECT_TIMEOUT, i as u32, 0);
        }
        if let Some(at) = self.read_deadlines[i].push(out_ref(rt)) {
            ctx.timer(at, READ_TIMEOUT, i as u32, 0);
        }
    }

    /// Ends call `out`; frees its pool slot for a waiting request.
    fn end(&mut self, ctx: &mut Ctx, out: CallRef) -> Option<(CallRef, u16)> {
        let o = self.out.remove(out.slot, out.generation)?;
        let i = o.cfg as usize;
        self.in_use[i] -= 1;
        if let Some(w) = self.waiting[i].pop_front() {
            self.issue(ctx, w, i);
        }
        Some((o.inbound, self.cfgs[i].error_status))
    }

    pub fn on_reply(&mut self, ctx: &mut Ctx, msg: Msg) -> Option<(CallRef, Result<(), u16>)> {
        let ok = match msg.kind {
            MsgKind::Response { status } => (200..400).contains(&status),
            MsgKind::Refused | MsgKind::Reset | MsgKind::Closed | MsgKind::Unreachable => false,
            MsgKind::Connect(_) | MsgKind::Established => return None,
        };
        let (inb, err) = self.end(ctx, msg.call)?;
        Some((inb, if ok { Ok(()) } else { Err(err) }))
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, t: Timer) -> Vec<(CallRef, Result<(), u16>)> {
        let i = t.a as usize;
        let mut expired = Vec::new();
        let fifo = match t.kind {
            CONNECT_TIMEOUT => &mut self.connect_deadlines[i],
            READ_TIMEOUT => &mut self.read_deadlines[i],
            _ => return Vec::new(),
        };
        if let Some(at) = fifo.expire(ctx.now, |d| expired.push(d)) {
            ctx.timer(at, t.kind, t.a, 0);
        }
        let mut failed = Vec::new();
        for d in expired {
            let out = CallRef {
                slot: d.slot,
                generation: d.generation,
            };
            let Some(o) = self.out.get(out.slot, out.generation) else {
                continue;
            };
            let connected = o.established_at <= ctx.now;
            if t.kind == CONNECT_TIMEOUT && connected {
                continue;
            }
            if let Some((inb, err)) = self.end(ctx, out) {
                failed.push((inb, Err(err)));
            }
        }
        failed
    }

    pub fn on_established(&mut self, call: CallRef, at: SimTime) {
        if let Some(o) = self.out.get_mut(call.slot, call.generation) {
            o.established_at = at;
        }
    }

    pub fn is_call_live(&self, call: CallRef) -> bool {
        self.out.contains(call.slot, call.generation)
    }
}
