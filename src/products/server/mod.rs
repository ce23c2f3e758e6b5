//! A process with a pool of worker threads and a FIFO queue: a plain backend,
//! or an app instance when it has downstream calls (see
//! [`crate::protocols::calls`]).
//! Health checks are answered by the process's event loop without a worker.
//! Connections may be kept open for further requests (`Req::keep`, a client's
//! pool): one request at a time on each.

pub mod config;
mod product;

use crate::engine::{Rng, Slab};
use crate::process::{Boot, Process};
use crate::process::dist::Sampler;
use crate::process::{CallRef, Ctx, Msg, MsgKind, NodeId, ReqKind};
use crate::products::Timer;
use crate::products::server::config::ServerSpec;
use crate::protocols::calls::{Downstream, Progress, Wake};
use std::collections::VecDeque;

/// A server's timers, and an app's (its downstream calls' deadlines).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerTimer {
    /// The worker serving `request` is done with its service time.
    ServiceDone { request: CallRef },
    /// App: the wake-up of the connect deadlines of downstream call `call`.
    ConnectDeadline { call: u32 },
    /// App: the wake-up of the read deadlines of downstream call `call`.
    ReadDeadline { call: u32 },
}

impl From<ServerTimer> for Timer {
    fn from(t: ServerTimer) -> Timer {
        Timer::Server(t)
    }
}

/// The app's calls wake through the server's timers.
#[derive(Clone, Copy)]
pub struct AppWake;

impl Wake for AppWake {
    fn connect(call: u32) -> Timer {
        ServerTimer::ConnectDeadline { call }.into()
    }
    fn read(call: u32) -> Timer {
        ServerTimer::ReadDeadline { call }.into()
    }
}

#[derive(Clone)]
pub struct Server {
    workers: u32,
    busy: u32,
    queue: VecDeque<CallRef>,
    queue_limit: Option<u32>,
    service: Sampler,
    check_status: u16,
    /// Accepted connections, each with its request in progress if any.
    pub(super) inbound: Slab<Inbound>,
    /// Calls to other services made by each request (an app instance).
    pub(super) downstream: Option<Downstream<AppWake>>,
}

#[derive(Clone, Copy)]
pub(super) struct Inbound {
    pub caller: NodeId,
    pub call: CallRef,
    /// Kept open after the reply.
    pub keep: bool,
    /// A request is queued or in service on it.
    pub active: bool,
    pub working: bool,
    /// The caller closed the connection while its request was in service.
    pub closing: bool,
    /// The downstream call in progress, and the client operation and its
    /// kind, passed on to downstream calls.
    pub calls: Progress,
}

impl Server {
    pub fn new(spec: &ServerSpec, downstream: Option<Downstream<AppWake>>) -> Server {
        Server {
            workers: spec.workers,
            busy: 0,
            queue: VecDeque::new(),
            queue_limit: spec.queue_limit,
            service: Sampler::new(&spec.service),
            check_status: spec.check_status,
            inbound: Slab::default(),
            downstream,
        }
    }

    /// The accepted connection a message is about: `peer` names the slot,
    /// (`from`, `call`) must match what was accepted there.
    fn connection(&self, msg: &Msg) -> Option<CallRef> {
        let generation = self.inbound.generation_of(msg.peer)?;
        let inb = self.inbound.get(msg.peer, generation)?;
        (inb.caller == msg.from && inb.call == msg.call).then_some(CallRef {
            slot: msg.peer,
            generation,
        })
    }

    fn start_request(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef) {
        if self.busy < self.workers {
            self.work(ctx, rng, me);
        } else if self
            .queue_limit
            .is_some_and(|l| self.queue.len() as u32 >= l)
        {
            // Queue full: the server sheds the request at once.
            self.reply(ctx, rng, me, 503);
        } else {
            self.queue.push_back(me);
        }
    }

    /// A worker takes the request: service time, scaled by a `slow` fault.
    fn work(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef) {
        self.busy += 1;
        if let Some(inb) = self.inbound.get_mut(me.slot, me.generation) {
            inb.working = true;
        }
        let mut d = self.service.sample(rng);
        d = ctx.slowed(d);
        ctx.at(ctx.now + d, ServerTimer::ServiceDone { request: me });
    }

    /// A downstream call of request `me` ended: go on or answer.
    fn after_call(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef, ok: Result<(), u16>) {
        let Some(inb) = self.inbound.get_mut(me.slot, me.generation) else {
            return;
        };
        let d = self.downstream.as_mut().expect("only apps make calls");
        match ok {
            Err(status) => self.reply(ctx, rng, me, status),
            Ok(()) => {
                if d.next(ctx, me, &mut inb.calls) {
                    self.reply(ctx, rng, me, 200);
                }
            }
        }
    }

    /// Answers request `me`; a kept connection stays, idle.
    fn reply(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef, status: u16) {
        let Some(inb) = self.inbound.get_mut(me.slot, me.generation) else {
            return;
        };
        let was_working = inb.working;
        if inb.closing || !inb.keep {
            let inb = self.inbound.remove(me.slot, me.generation).expect("found");
            if !inb.closing {
                ctx.send(inb.caller, inb.call, MsgKind::Response { status });
            }
        } else {
            inb.active = false;
            inb.working = false;
            let (caller, call) = (inb.caller, inb.call);
            ctx.send_peer(caller, call, me.slot, MsgKind::Response { status });
        }
        if was_working {
            self.busy -= 1;
            self.next_in_queue(ctx, rng);
        }
    }

    fn next_in_queue(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        while let Some(next) = self.queue.pop_front() {
            if self
                .inbound
                .get(next.slot, next.generation)
                .is_some_and(|i| i.active && !i.working)
            {
                self.work(ctx, rng, next);
                break;
            }
        }
    }
}

impl Process for Server {
    type Timer = ServerTimer;

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    fn start(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _boot: Boot) {}

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(req) => match req.kind {
                ReqKind::HttpCheck => {
                    let status = self.check_status;
                    ctx.send(msg.from, msg.call, MsgKind::Response { status });
                }
                ReqKind::L4Check => {}
                ReqKind::Work => {
                    let inb = Inbound {
                        caller: msg.from,
                        call: msg.call,
                        keep: req.keep,
                        active: true,
                        working: false,
                        closing: false,
                        calls: Progress {
                            step: 0,
                            left: 0,
                            op: req.op,
                            idempotent: req.idempotent,
                        },
                    };
                    let me = CallRef::new(self.inbound.insert(inb));
                    self.start_request(ctx, rng, me);
                }
            },
            MsgKind::Request(req) => match self.connection(&msg) {
                Some(me) => {
                    let inb = self.inbound.get_mut(me.slot, me.generation).expect("found");
                    if !inb.active {
                        inb.active = true;
                        inb.calls.op = req.op;
                        inb.calls.idempotent = req.idempotent;
                        self.start_request(ctx, rng, me);
                    }
                }
                None => ctx.send(msg.from, msg.call, MsgKind::Reset),
            },
            MsgKind::Close => {
                if let Some(me) = self.connection(&msg) {
                    let inb = self.inbound.get_mut(me.slot, me.generation).expect("found");
                    if inb.working {
                        inb.closing = true;
                    } else {
                        self.inbound.remove(me.slot, me.generation);
                    }
                }
            }
            _ => {
                if let Some(d) = self.downstream.as_mut()
                    && let Some((inb, ok)) = d.on_reply(ctx, msg)
                {
                    self.after_call(ctx, rng, inb, ok);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: ServerTimer) {
        match t {
            ServerTimer::ServiceDone { request: me } => match self.downstream.as_mut() {
                Some(d) if d.has_calls() => {
                    if let Some(inb) = self.inbound.get_mut(me.slot, me.generation) {
                        d.begin(ctx, me, &mut inb.calls);
                    }
                }
                _ => self.reply(ctx, rng, me, 200),
            },
            ServerTimer::ConnectDeadline { call } | ServerTimer::ReadDeadline { call } => {
                if let Some(d) = self.downstream.as_mut() {
                    let connect = matches!(t, ServerTimer::ConnectDeadline { .. });
                    for (inb, ok) in d.on_timer(ctx, call as usize, connect) {
                        self.after_call(ctx, rng, inb, ok);
                    }
                }
            }
        }
    }

    fn on_established(&mut self, call: CallRef, at: crate::engine::SimTime) {
        if let Some(d) = self.downstream.as_mut() {
            d.on_established(call, at);
        }
    }

    fn is_call_live(&self, call: CallRef) -> bool {
        self.downstream
            .as_ref()
            .is_some_and(|d| d.is_call_live(call))
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.inbound.values().map(|i| (i.caller, i.call)).collect()
    }
}

/// `--dry-run`: a server as the experiment resolved it.
pub fn describe(o: &mut String, s: &config::ServerSpec) {
    use std::fmt::Write;
    let _ = writeln!(
        o,
        "{} workers, service {}, backlog {}",
        s.workers,
        crate::process::dist::describe(&s.service),
        s.backlog
    );
}

/// `--dry-run`: an app as the experiment resolved it.
pub fn describe_app(o: &mut String, a: &config::AppSpec) {
    use std::fmt::Write;
    let calls = crate::protocols::calls::describe_calls(&a.calls);
    let _ = writeln!(
        o,
        "{} workers, service {}, calls {}",
        a.server.workers,
        crate::process::dist::describe(&a.server.service),
        calls.join(", ")
    );
}
