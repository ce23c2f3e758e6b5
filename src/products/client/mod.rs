//! Clients: open loop (a rate, constant or Poisson, with steps) and closed
//! loop like k6's constant-vus executor (virtual users repeating an iteration).
//! A client opens a new connection per request and records what it saw.

pub mod config;
pub mod driver;
mod product;

use crate::config::spec::{ExperimentSpec, NodeKind};

use crate::engine::{DeadlineFifo, Dur, Rng, SimTime, Slab};
use crate::metrics::{Outcome, RequestInfo};
use crate::process::{Boot, Process};
use crate::process::dist::Sampler;
use crate::process::{Addr, CallRef, Ctx, Msg, MsgKind, NO_PEER, NodeId, Req};
use crate::products::Timer;
use crate::products::client::config::{Arrivals, LoadSpec, StepSpec};
use driver::{DRIVER_BIT, Driver, DriverTimer, Release, Route, Verdict};
use rand_distr::{Distribution, Exp1};

/// Open-loop arrivals issued per event, and how far ahead at most (measured:
/// one event less per request: bench-large 16.8 s -> 14.2 s, same results).
const ARRIVAL_BATCH: u32 = 32;
const ARRIVAL_HORIZON: Dur = Dur::from_secs(1);

/// A client's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientTimer {
    /// Open loop: the next batch of arrivals is due.
    Arrival,
    /// Closed loop: virtual user `vu` ends a sleep (`epoch`: unless it
    /// was interrupted since).
    VuWake { vu: u32, epoch: u32 },
    /// Ramping VUs: the next change of the planned VU count is due.
    Ramp,
    /// Ramping VUs: `vu`'s graceful ramp-down (of `epoch`) is over.
    RampDownOver { vu: u32, epoch: u32 },
    /// The wake-up of the request deadlines.
    Timeout,
    /// A timer of the client's library.
    Driver(DriverTimer),
}

impl From<ClientTimer> for Timer {
    fn from(t: ClientTimer) -> Timer {
        Timer::Client(t)
    }
}

#[derive(Clone)]
pub struct Client {
    pub id: u32,
    /// Its library: where requests go (a node or a VIP, resolved by the
    /// kernel at each send, or wherever a cluster-aware library routes them).
    pub driver: Driver,
    pub start: SimTime,
    pub stop: SimTime,
    pub timeout: Dur,
    load: Load,
    calls: Slab<Call>,
    deadlines: DeadlineFifo,
    /// One per virtual user when it keeps its connection alive.
    kept: Vec<KeptConn>,
    /// The open loop's rate step in force over [lo, hi), as the mean gap in
    /// ns: found once per step, not by a search and a division per arrival.
    step_mean: (SimTime, SimTime, f64),
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
        ramp: Option<Ramp>,
    },
}

/// A ramping client's plan: (instant, VUs planned from then on).
#[derive(Clone)]
struct Ramp {
    schedule: Vec<(SimTime, u32)>,
    next: usize,
    graceful_ramp_down: Dur,
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
    state: VuState,
    /// Counts interruptions: a wake-up of an earlier epoch is stale.
    epoch: u32,
    /// Its request in flight, if any.
    current: Option<CallRef>,
}

/// k6's VU handle states, as ramping-vus drives them (lib/executor/vu_handle.go).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum VuState {
    /// Not planned: no iteration.
    #[default]
    Idle,
    /// Running iterations.
    Running,
    /// Ramped down: finishes its iteration, then idles (or is interrupted
    /// when the graceful ramp-down ends first).
    Draining,
}

/// A virtual user's kept connection (k6 reuses it between requests). Its
/// generation names it in messages; `current` is the request on it.
#[derive(Clone, Copy)]
struct KeptConn {
    generation: u32,
    open: bool,
    peer: u32,
    current: Option<CallRef>,
}

/// Slots of kept connections carry the VU index with this bit set.
const KEEP_BIT: u32 = 1 << 31;

#[derive(Clone, Copy)]
struct Call {
    start: SimTime,
    vu: u32,
    op: u32,
    idempotent: bool,
}

impl Client {
    pub fn new(
        id: u32,
        driver: Driver,
        start: SimTime,
        stop: SimTime,
        timeout: Dur,
        load: &LoadSpec,
    ) -> Client {
        let fresh = KeptConn {
            generation: 0,
            open: false,
            peer: NO_PEER,
            current: None,
        };
        // A library that routes each request picks its connection per
        // request; only a plain target keeps one per virtual user.
        let kept = match load {
            LoadSpec::Closed(c) if c.keep_alive && driver.is_direct() => {
                vec![fresh; c.vus as usize]
            }
            _ => Vec::new(),
        };
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
                ramp: c.ramp.as_ref().map(|r| Ramp {
                    schedule: r
                        .schedule()
                        .into_iter()
                        .map(|(d, n)| (start + d, n))
                        .collect(),
                    next: 0,
                    graceful_ramp_down: r.graceful_ramp_down,
                }),
            },
        };
        Client {
            id,
            driver,
            start,
            stop,
            timeout,
            load,
            calls: Slab::default(),
            deadlines: DeadlineFifo::default(),
            kept,
            step_mean: (SimTime::NEVER, SimTime::ZERO, 0.0),
        }
    }

    /// Time to the next arrival of the open loop at instant `t`.
    #[inline]
    fn gap(&mut self, t: SimTime, rng: &mut Rng) -> Dur {
        let Load::Open { steps, poisson, .. } = &self.load else {
            return Dur::ZERO;
        };
        let mean_ns = match self.step_mean {
            (lo, hi, mean_ns) if lo <= t && t < hi => mean_ns,
            _ => {
                let i = steps.partition_point(|&(at, _)| at <= t).max(1) - 1;
                let lo = if i == 0 { SimTime::ZERO } else { steps[i].0 };
                let hi = steps.get(i + 1).map_or(SimTime::NEVER, |s| s.0);
                self.step_mean = (lo, hi, 1e9 / steps[i].1);
                self.step_mean.2
            }
        };
        if *poisson {
            let x: f64 = Exp1.sample(rng);
            Dur((x * mean_ns) as u64)
        } else {
            Dur(mean_ns.round() as u64)
        }
    }

    /// Issues a request at instant `at` (now, or a known later arrival).
    fn issue(&mut self, ctx: &mut Ctx, rng: &mut Rng, at: SimTime, vu: u32, idempotent: bool) {
        // Operation ids are the global issue count: unique across clients.
        let op = ctx.issue_op();
        let call = CallRef::new(self.calls.insert(Call {
            start: at,
            vu,
            op,
            idempotent,
        }));
        if let Some(h) = ctx.history() {
            h.begin(op, self.id, at, !idempotent);
        }
        if let Load::Closed { vus, .. } = &mut self.load {
            vus[vu as usize].current = Some(call);
        }
        match self.kept.get_mut(vu as usize) {
            Some(k) => {
                // Reuse the VU's connection, or open a new one.
                k.current = Some(call);
                let req = Req {
                    keep: true,
                    ..Req::work(idempotent, op)
                };
                if !k.open {
                    k.generation = k.generation.wrapping_add(1);
                    k.open = true;
                    k.peer = NO_PEER;
                }
                let conn = CallRef {
                    slot: KEEP_BIT | vu,
                    generation: k.generation,
                };
                let kind = if k.peer == NO_PEER {
                    MsgKind::Connect(req)
                } else {
                    MsgKind::Request(req)
                };
                ctx.send_addr(at, self.driver.target(), conn, k.peer, kind);
            }
            None => {
                if let Route::To(addr) = self.driver.route(ctx, rng, call, op, !idempotent) {
                    let req = Req::work(idempotent, op);
                    ctx.send_addr(at, addr, call, NO_PEER, MsgKind::Connect(req));
                }
            }
        }
        let calls = &self.calls;
        self.deadlines
            .trim(|d| calls.contains(d.slot, d.generation));
        ctx.arm_with(
            &mut self.deadlines,
            at + self.timeout,
            call,
            ClientTimer::Timeout,
        );
    }

    /// Request `call` is over with `outcome`, answered by `via` (none: the
    /// client's own timeout, or its library gave up).
    fn finish(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        call: CallRef,
        outcome: Outcome,
        via: Option<NodeId>,
    ) {
        let Some(c) = self.calls.remove(call.slot, call.generation) else {
            return;
        };
        let info = RequestInfo {
            op: c.op,
            write: !c.idempotent,
            via,
        };
        ctx.record(self.id, c.start, outcome, info);
        let now = ctx.now;
        if let Some(h) = ctx.history() {
            h.end(c.op, now, outcome);
        }
        if matches!(self.load, Load::Closed { .. }) {
            self.advance_vu(ctx, rng, c.vu, true);
        }
    }

    /// Sends request `call` (again) on a new connection to `addr`.
    fn send(&mut self, ctx: &mut Ctx, call: CallRef, addr: Addr) {
        let Some(c) = self.calls.get(call.slot, call.generation) else {
            return;
        };
        let req = Req::work(c.idempotent, c.op);
        ctx.send_addr(ctx.now, addr, call, NO_PEER, MsgKind::Connect(req));
    }

    /// Requests the library let go: sent now, or failed. A request that
    /// timed out while held is gone already.
    fn release(&mut self, ctx: &mut Ctx, rng: &mut Rng, released: Vec<Release>) {
        for r in released {
            match r {
                Release::To(call, addr) => self.send(ctx, call, addr),
                Release::Fail(call, outcome) => self.finish(ctx, rng, call, outcome, None),
            }
        }
    }

    /// Runs a virtual user's script until it waits (a request or a sleep).
    fn advance_vu(&mut self, ctx: &mut Ctx, rng: &mut Rng, v: u32, request_done: bool) {
        let Load::Closed { steps, vus, .. } = &mut self.load else {
            return;
        };
        let vu = &mut vus[v as usize];
        if request_done {
            vu.done_in_step += 1;
            vu.current = None;
        }
        loop {
            if vu.step >= steps.len() {
                // Iteration over: k6 starts the next one at once, until
                // `stop`; a ramped-down VU stops here.
                vu.step = 0;
                vu.done_in_step = 0;
                if vu.state == VuState::Draining {
                    vu.state = VuState::Idle;
                    return;
                }
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
                        self.issue(ctx, rng, ctx.now, v, idem);
                        return;
                    }
                    vu.step += 1;
                    vu.done_in_step = 0;
                }
                Step::Sleep(s) => {
                    if vu.done_in_step == 0 {
                        vu.done_in_step = 1;
                        let d = s.sample(rng);
                        let epoch = vu.epoch;
                        ctx.at(ctx.now + d, ClientTimer::VuWake { vu: v, epoch });
                        return;
                    }
                    vu.step += 1;
                    vu.done_in_step = 0;
                }
            }
        }
    }

    /// constant-vus: every VU runs from the start.
    fn start_constant_vus(&mut self, ctx: &mut Ctx) {
        let Load::Closed { vus, .. } = &mut self.load else {
            return;
        };
        for (v, vu) in vus.iter_mut().enumerate() {
            vu.state = VuState::Running;
            let (vu, epoch) = (v as u32, vu.epoch);
            ctx.at(self.start, ClientTimer::VuWake { vu, epoch });
        }
    }

    /// Ramping VUs: the planned count changes now. VUs below it run (a
    /// draining one simply carries on, as k6 reuses it), those at or above
    /// it drain; then the next change is armed.
    fn ramp(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let Load::Closed {
            vus,
            ramp: Some(ramp),
            ..
        } = &mut self.load
        else {
            return;
        };
        let planned = ramp.schedule[ramp.next].1 as usize;
        ramp.next += 1;
        if let Some(&(at, _)) = ramp.schedule.get(ramp.next) {
            ctx.at(at, ClientTimer::Ramp);
        }
        let grace = ramp.graceful_ramp_down;
        let mut starting = Vec::new();
        for (v, vu) in vus.iter_mut().enumerate() {
            match (v < planned, vu.state) {
                (true, VuState::Idle) => {
                    vu.state = VuState::Running;
                    starting.push(v as u32);
                }
                (true, VuState::Draining) => vu.state = VuState::Running,
                (false, VuState::Running) => {
                    vu.state = VuState::Draining;
                    let (vu, epoch) = (v as u32, vu.epoch);
                    ctx.at(ctx.now + grace, ClientTimer::RampDownOver { vu, epoch });
                }
                _ => {}
            }
        }
        for v in starting {
            self.advance_vu(ctx, rng, v, false);
        }
    }

    /// The graceful ramp-down of `v` is over: a VU still in its iteration
    /// is interrupted (k6 cancels the iteration's context). Its request in
    /// flight is abandoned — the connection closed, nothing recorded, the
    /// write's fate left open in the history — and a sleep is cut short.
    fn interrupt(&mut self, ctx: &mut Ctx, v: u32, epoch: u32) {
        let Load::Closed { vus, .. } = &mut self.load else {
            return;
        };
        let vu = &mut vus[v as usize];
        if vu.state != VuState::Draining || vu.epoch != epoch {
            return;
        }
        vu.state = VuState::Idle;
        vu.epoch = vu.epoch.wrapping_add(1);
        vu.step = 0;
        vu.done_in_step = 0;
        let Some(call) = vu.current.take() else {
            return;
        };
        // A library holding it lets go of nothing: the call is gone below.
        self.abandon_connection(ctx, call);
        if let Some(c) = self.calls.remove(call.slot, call.generation) {
            let now = ctx.now;
            if let Some(h) = ctx.history() {
                h.end(c.op, now, Outcome::Timeout);
            }
        }
    }

    /// Requests still waiting for an answer, and the issue instant of the oldest.
    pub fn in_flight(&self) -> (u64, Option<SimTime>) {
        let oldest = self.calls.values().map(|c| c.start).min();
        (self.calls.len() as u64, oldest)
    }

    /// A client that gives up closes its socket: a FIN on the request's
    /// connection, to whatever it is connected to (k6 cancels the request's
    /// context and drops the connection; python's `asyncio.wait_for` cancels
    /// the read and the caller's `close()` sends the FIN). What the receiver
    /// does with it is its own model: HAProxy's `option abortonclose`,
    /// nginx's `proxy_ignore_client_abort`, a server that runs the request to
    /// the end anyway. A kept connection is closed with it (k6 drops it); a
    /// connection of its own is named by the call, the receiver's side being
    /// unknown (`NO_PEER`). A cluster-aware library's requests are its own
    /// (their connections are the library's), so only a plain target's are
    /// closed here.
    fn abandon_connection(&mut self, ctx: &mut Ctx, call: CallRef) {
        let Some(c) = self.calls.get(call.slot, call.generation) else {
            return;
        };
        let Some(k) = self.kept.get_mut(c.vu as usize) else {
            if self.driver.is_direct() {
                let to = self.driver.target();
                ctx.send_addr(ctx.now, to, call, NO_PEER, MsgKind::Close);
            }
            return;
        };
        if k.current != Some(call) {
            return;
        }
        let conn = CallRef {
            slot: KEEP_BIT | c.vu,
            generation: k.generation,
        };
        // Before the first answer the receiver's side is not known yet:
        // the FIN is named by the connection alone.
        ctx.send_addr(ctx.now, self.driver.target(), conn, k.peer, MsgKind::Close);
        k.open = false;
        k.current = None;
        k.generation = k.generation.wrapping_add(1);
    }
}

impl Process for Client {
    type Timer = ClientTimer;

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    /// A client's load starts when the file says, whatever its uptime.
    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng, _boot: Boot) {
        match &self.load {
            &Load::Open { poisson, .. } => {
                // A constant-rate load generator sends its first request at
                // once; a Poisson process waits a first random gap.
                let first = if poisson {
                    self.start + self.gap(self.start, rng)
                } else {
                    self.start
                };
                ctx.at(first, ClientTimer::Arrival);
            }
            Load::Closed { ramp: Some(_), .. } => ctx.at(self.start, ClientTimer::Ramp),
            Load::Closed { .. } => self.start_constant_vus(ctx),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: ClientTimer) {
        match t {
            ClientTimer::Arrival => {
                let Load::Open { idempotent, .. } = self.load else {
                    return;
                };
                // Open-loop arrivals depend on nothing the run does, so one
                // event issues a batch, each request at its own instant (its
                // message leaves then; faults still judge it on arrival).
                let mut at = ctx.now;
                // A library that routes by what it knows decides at the
                // instant a request is issued, so it issues one per event.
                let batch = if self.driver.is_direct() {
                    ARRIVAL_BATCH
                } else {
                    1
                };
                for _ in 0..batch {
                    if at >= self.stop || at > ctx.now + ARRIVAL_HORIZON {
                        break;
                    }
                    self.issue(ctx, rng, at, 0, idempotent);
                    at += self.gap(at, rng);
                }
                if at < self.stop {
                    ctx.at(at, ClientTimer::Arrival);
                }
            }
            ClientTimer::VuWake { vu, epoch } => {
                if let Load::Closed { vus, .. } = &self.load
                    && vus[vu as usize].epoch == epoch
                {
                    self.advance_vu(ctx, rng, vu, false);
                }
            }
            ClientTimer::Ramp => self.ramp(ctx, rng),
            ClientTimer::RampDownOver { vu, epoch } => self.interrupt(ctx, vu, epoch),
            ClientTimer::Driver(t) => {
                let mut released = Vec::new();
                self.driver.on_timer(ctx, rng, t, &mut released);
                self.release(ctx, rng, released);
            }
            ClientTimer::Timeout => {
                let calls = &self.calls;
                ctx.expire_with(&mut self.deadlines, ClientTimer::Timeout, |c, _| {
                    calls.contains(c.slot, c.generation)
                });
                while let Some(call) = self.deadlines.next_due().map(CallRef::from) {
                    if self.calls.contains(call.slot, call.generation) {
                        self.driver.timed_out(ctx, rng, call);
                    }
                    self.abandon_connection(ctx, call);
                    self.finish(ctx, rng, call, Outcome::Timeout, None);
                }
            }
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        if msg.call.slot & (DRIVER_BIT | KEEP_BIT) == DRIVER_BIT {
            let mut released = Vec::new();
            self.driver.on_message(ctx, rng, msg, &mut released);
            self.release(ctx, rng, released);
            return;
        }
        let outcome = match msg.kind {
            MsgKind::Response { status } => Outcome::from_status(status),
            MsgKind::DbError(e) => Outcome::Db(e),
            MsgKind::Refused => Outcome::Refused,
            MsgKind::Reset => Outcome::Reset,
            MsgKind::Closed => Outcome::Closed,
            MsgKind::Unreachable => Outcome::Unreachable,
            MsgKind::Connect(_)
            | MsgKind::Request(_)
            | MsgKind::Close
            | MsgKind::Established
            | MsgKind::Wire(_) => {
                return;
            }
        };
        let call = if msg.call.slot & KEEP_BIT != 0 {
            let Some(k) = self.kept.get_mut((msg.call.slot & !KEEP_BIT) as usize) else {
                return;
            };
            if msg.call.generation != k.generation || !k.open {
                return;
            }
            // A reply that names the server's side keeps the connection open.
            match msg.kind {
                MsgKind::Response { .. } | MsgKind::DbError(_) if msg.peer != NO_PEER => {
                    k.peer = msg.peer
                }
                _ => k.open = false,
            }
            let Some(call) = k.current.take() else { return };
            call
        } else {
            msg.call
        };
        // k6 takes every answer as it is: no library to consult.
        if self.driver.is_direct() {
            return self.finish(ctx, rng, call, outcome, Some(msg.from));
        }
        if !self.calls.contains(call.slot, call.generation) {
            return;
        }
        match self.driver.verdict(ctx, rng, call, msg.from, outcome) {
            Verdict::Done(outcome) => self.finish(ctx, rng, call, outcome, Some(msg.from)),
            Verdict::Again(Route::To(addr)) => self.send(ctx, call, addr),
            Verdict::Again(Route::Hold) => {}
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, call: CallRef) -> bool {
        if call.slot & (DRIVER_BIT | KEEP_BIT) == DRIVER_BIT {
            return self.driver.is_call_live(call);
        }
        if call.slot & KEEP_BIT != 0 {
            return self
                .kept
                .get((call.slot & !KEEP_BIT) as usize)
                .is_some_and(|k| k.current.is_some() && k.generation == call.generation);
        }
        self.calls.contains(call.slot, call.generation)
    }
}

/// Requests per second the open-loop clients send to `target` at instant `at`
/// (closed-loop clients have no rate).
pub fn open_loop_rate(spec: &ExperimentSpec, target: &str, at: SimTime) -> f64 {
    spec.nodes
        .values()
        .filter_map(|n| match &n.kind {
            NodeKind::Client(c) if c.target == target => match &c.load {
                LoadSpec::Open(o) => {
                    let i = o.rate_steps.partition_point(|&(t, _)| t <= at).max(1) - 1;
                    Some(o.rate_steps[i].1)
                }
                LoadSpec::Closed(_) => None,
            },
            _ => None,
        })
        .sum()
}

/// `--dry-run`: a client as the experiment resolved it.
pub fn describe(o: &mut String, c: &config::ClientSpec) {
    use std::fmt::Write;
    let _ = match &c.library {
        config::Library::Direct => Ok(()),
        config::Library::RedisCluster {
            nodes,
            connect_timeout,
        } => write!(
            o,
            "[redis-cluster library: {} startup nodes, connect timeout {connect_timeout}] ",
            nodes.len()
        ),
        config::Library::RedisSentinel { sentinels, timeout } => write!(
            o,
            "[redis-sentinel library: asks {} sentinels in order, {timeout} each] ",
            sentinels.len()
        ),
    };
    let _ = match &c.load {
        LoadSpec::Open(l) => {
            let steps: Vec<String> = l
                .rate_steps
                .iter()
                .map(|(t, r)| format!("{r}/s from {}", Dur(t.0)))
                .collect();
            writeln!(
                o,
                "-> {} open loop {}, arrivals {}, timeout {}",
                c.target,
                steps.join(", "),
                match l.arrivals {
                    Arrivals::Constant => "constant",
                    Arrivals::Poisson => "poisson",
                },
                c.timeout
            )
        }
        LoadSpec::Closed(l) => {
            let vus = match &l.ramp {
                None => format!("{} VUs", l.vus),
                Some(r) => {
                    let stages: Vec<String> =
                        r.stages.iter().map(|(d, n)| format!("{n} in {d}")).collect();
                    format!(
                        "ramping VUs from {} to {} (graceful ramp-down {})",
                        r.start_vus,
                        stages.join(", then "),
                        r.graceful_ramp_down
                    )
                }
            };
            writeln!(
                o,
                "-> {} closed loop, {vus}, {} steps per iteration, timeout {}, keep-alive {}",
                c.target,
                l.iteration.len(),
                c.timeout,
                l.keep_alive
            )
        }
    };
}
