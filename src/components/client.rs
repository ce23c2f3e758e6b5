//! Clients: open loop (a rate, constant or Poisson, with steps) and closed
//! loop like k6's constant-vus executor (virtual users repeating an iteration).
//! A client opens a new connection per request and records what it saw.

use super::dist::Sampler;
use super::{CallRef, Ctx, Msg, MsgKind, NodeId, Req, ReqKind, Timer};
use crate::config::spec::{Arrivals, LoadSpec, StepSpec};
use crate::engine::{Deadline, DeadlineFifo, Dur, Rng, SimTime, Slab};
use crate::metrics::Outcome;
use rand_distr::{Distribution, Exp1};

const ARRIVAL: u8 = 0;
const VU_WAKE: u8 = 1;
const TIMEOUT: u8 = 2;

#[derive(Clone)]
pub struct Client {
    pub id: u32,
    pub target: NodeId,
    pub start: SimTime,
    pub stop: SimTime,
    pub timeout: Dur,
    load: Load,
    calls: Slab<Call>,
    deadlines: DeadlineFifo,
}

#[derive(Clone)]
enum Load {
    Open {
        steps: Vec<(SimTime, f64)>,
        poisson: bool,
        idempotent: bool,
    },
    Closed {
        steps: Vec<Step>,
        vus: Vec<Vu>,
    },
}

#[derive(Clone)]
enum Step {
    Request { idempotent: bool, count: u32 },
    Sleep(Sampler),
}

#[derive(Clone, Copy, Default)]
struct Vu {
    step: usize,
    done_in_step: u32,
}

#[derive(Clone, Copy)]
struct Call {
    start: SimTime,
    vu: u32,
}

impl Client {
    pub fn new(
        id: u32,
        target: NodeId,
        start: SimTime,
        stop: SimTime,
        timeout: Dur,
        load: &LoadSpec,
    ) -> Client {
        let load = match load {
            LoadSpec::Open(o) => Load::Open {
                steps: o.rate_steps.clone(),
                poisson: o.arrivals == Arrivals::Poisson,
                idempotent: o.method.idempotent(),
            },
            LoadSpec::Closed(c) => Load::Closed {
                steps: c
                    .iteration
                    .iter()
                    .map(|s| match s {
                        StepSpec::Request { method, count } => Step::Request {
                            idempotent: method.idempotent(),
                            count: *count,
                        },
                        StepSpec::Sleep(d) => Step::Sleep(Sampler::new(d)),
                    })
                    .collect(),
                vus: vec![Vu::default(); c.vus as usize],
            },
        };
        Client {
            id,
            target,
            start,
            stop,
            timeout,
            load,
            calls: Slab::default(),
            deadlines: DeadlineFifo::default(),
        }
    }

    pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        match &self.load {
            Load::Open { poisson, .. } => {
                // A constant-rate load generator sends its first request at
                // once; a Poisson process waits a first random gap.
                let first = if *poisson {
                    self.start + self.gap(self.start, rng)
                } else {
                    self.start
                };
                ctx.timer(first, ARRIVAL, 0, 0);
            }
            Load::Closed { vus, .. } => {
                for v in 0..vus.len() as u32 {
                    ctx.timer(self.start, VU_WAKE, v, 0);
                }
            }
        }
    }

    /// Time to the next arrival of the open loop at instant `t`.
    fn gap(&self, t: SimTime, rng: &mut Rng) -> Dur {
        let Load::Open { steps, poisson, .. } = &self.load else {
            return Dur::ZERO;
        };
        let i = steps.partition_point(|&(at, _)| at <= t).max(1) - 1;
        let rate = steps[i].1;
        let mean_ns = 1e9 / rate;
        if *poisson {
            let x: f64 = Exp1.sample(rng);
            Dur((x * mean_ns) as u64)
        } else {
            Dur(mean_ns.round() as u64)
        }
    }

    fn issue(&mut self, ctx: &mut Ctx, vu: u32, idempotent: bool) {
        let call = CallRef::new(self.calls.insert(Call { start: ctx.now, vu }));
        ctx.rec.issued += 1;
        let req = Req::once(ReqKind::Work, idempotent);
        ctx.send(self.target, call, MsgKind::Connect(req));
        let d = Deadline {
            at: ctx.now + self.timeout,
            slot: call.slot,
            generation: call.generation,
        };
        let calls = &self.calls;
        self.deadlines
            .trim(|d| calls.contains(d.slot, d.generation));
        if let Some(at) = self.deadlines.push(d) {
            ctx.timer(at, TIMEOUT, 0, 0);
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, rng: &mut Rng, call: CallRef, outcome: Outcome) {
        let Some(c) = self.calls.remove(call.slot, call.generation) else {
            return;
        };
        ctx.rec.record(self.id, c.start, ctx.now, outcome);
        if matches!(self.load, Load::Closed { .. }) {
            self.advance_vu(ctx, rng, c.vu, true);
        }
    }

    /// Runs a virtual user's script until it waits (a request or a sleep).
    fn advance_vu(&mut self, ctx: &mut Ctx, rng: &mut Rng, v: u32, request_done: bool) {
        let Load::Closed { steps, vus } = &mut self.load else {
            return;
        };
        let vu = &mut vus[v as usize];
        if request_done {
            vu.done_in_step += 1;
        }
        loop {
            if vu.step >= steps.len() {
                // Iteration over: k6 starts the next one at once, until `stop`.
                vu.step = 0;
                vu.done_in_step = 0;
                if ctx.now >= self.stop {
                    return;
                }
            }
            match &steps[vu.step] {
                Step::Request { idempotent, count } => {
                    if vu.done_in_step < *count {
                        let idem = *idempotent;
                        if ctx.now >= self.stop {
                            return;
                        }
                        self.issue(ctx, v, idem);
                        return;
                    }
                    vu.step += 1;
                    vu.done_in_step = 0;
                }
                Step::Sleep(s) => {
                    if vu.done_in_step == 0 {
                        vu.done_in_step = 1;
                        let d = s.sample(rng);
                        ctx.timer(ctx.now + d, VU_WAKE, v, 0);
                        return;
                    }
                    vu.step += 1;
                    vu.done_in_step = 0;
                }
            }
        }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Timer) {
        match t.kind {
            ARRIVAL => {
                if ctx.now >= self.stop {
                    return;
                }
                let Load::Open { idempotent, .. } = self.load else {
                    return;
                };
                self.issue(ctx, 0, idempotent);
                let next = ctx.now + self.gap(ctx.now, rng);
                ctx.timer(next, ARRIVAL, 0, 0);
            }
            VU_WAKE => self.advance_vu(ctx, rng, t.a, false),
            TIMEOUT => {
                let mut expired = Vec::new();
                let next = self.deadlines.expire(ctx.now, |d| expired.push(d));
                for d in expired {
                    let call = CallRef {
                        slot: d.slot,
                        generation: d.generation,
                    };
                    self.finish(ctx, rng, call, Outcome::Timeout);
                }
                if let Some(at) = next {
                    ctx.timer(at, TIMEOUT, 0, 0);
                }
            }
            _ => {}
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        let outcome = match msg.kind {
            MsgKind::Response { status } => Outcome::from_status(status),
            MsgKind::Refused => Outcome::Refused,
            MsgKind::Reset => Outcome::Reset,
            MsgKind::Closed => Outcome::Closed,
            MsgKind::Unreachable => Outcome::Unreachable,
            MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close | MsgKind::Established => {
                return;
            }
        };
        self.finish(ctx, rng, msg.call, outcome);
    }

    pub fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    /// Requests still waiting for an answer, and the issue instant of the oldest.
    pub fn in_flight(&self) -> (u64, Option<SimTime>) {
        let oldest = self.calls.values().map(|c| c.start).min();
        (self.calls.len() as u64, oldest)
    }

    pub fn is_call_live(&self, call: CallRef) -> bool {
        self.calls.contains(call.slot, call.generation)
    }
}
