//! php-fpm: one pool of PHP children behind a listening socket, as php-src's
//! sapi/fpm runs it (PHP 7.2, report 4's version; the rules are the same in
//! 8.x, where `pm.max_spawn_rate` became a setting).
//!
//! - **Children.** Each child serves one request at a time, from `accept()`
//!   to the answer. The master forks them by `pm` style
//!   (fpm_children.c `fpm_children_create_initial()`): `static` forks
//!   `pm.max_children` at start; `dynamic` forks `pm.start_servers`, then
//!   once a second (`FPM_IDLE_SERVER_MAINTENANCE_HEARTBEAT`, 1000 ms) runs
//!   fpm_process_ctl.c `fpm_pctl_perform_idle_server_maintenance()`: more
//!   idle children than `pm.max_spare_servers` -> one idle child is told to
//!   quit (the oldest) and the spawn rate goes back to 1; fewer than
//!   `pm.min_spare_servers` -> fork min(rate, min_spare - idle,
//!   max_children - running) and double the rate up to
//!   `FPM_MAX_SPAWN_RATE` (32; `pm.max_spawn_rate` since 8.1); otherwise the
//!   rate goes back to 1. `ondemand` forks none at start: a connection that
//!   finds no idle child makes the master fork one
//!   (`fpm_pctl_on_socket_accept()`), up to `pm.max_children`, and the
//!   maintenance tick ends the oldest idle child once it has been idle
//!   longer than `pm.process_idle_timeout`. A forked child accepts after
//!   `spawn_time` (the model's: fork plus the child's start-up). A child
//!   that has served `pm.max_requests` exits and the master forks its
//!   replacement (fpm_children.c `fpm_children_bury()`), as after a kill.
//! - **The accept queue.** Children call `accept()` on the pool's socket;
//!   a connection no child has taken waits in the kernel's accept queue,
//!   FIFO. It holds `listen.backlog` + 1 connections (Linux); beyond that
//!   the kernel drops the SYN and the caller's TCP retransmits it (nginx
//!   then sees `fastcgi_connect_timeout`). Linux also caps the backlog at
//!   `net.core.somaxconn`: give the effective value.
//! - **`request_terminate_timeout`.** The master checks its busy children
//!   every heartbeat, max(timeout / 3, 130 ms) (fpm_conf.c,
//!   `FPM_PCTL_MIN_HEARTBEAT`; fpm_process_ctl.c `fpm_pctl_heartbeat()`),
//!   and SIGTERMs a child whose request has run at least the timeout since
//!   the child accepted it (fpm_request.c `fpm_request_check_timed_out()`:
//!   whole seconds, `tv_sec >= terminate_timeout`): the kill lands in
//!   [T, T + heartbeat). The FastCGI connection closes without an answer
//!   (nginx: "upstream prematurely closed connection", a 502, or the next
//!   upstream for an idempotent request), the child's own connections
//!   close, and the master forks a replacement.
//! - **A request.** With `session.save_handler = "redis"` (phpredis) the
//!   child first reads the session (`session_start()`: a GET on a
//!   connection of its own to `session.save_path`), then does its own work
//!   (`service`), then its `[[apps.NAME.calls]]` in order (a connection per
//!   call), then writes the session (a SET at the end of the request,
//!   `session_write_close()` at shutdown) and answers. A session read that
//!   fails answers `session.error_status` (an app that needs its session,
//!   a login); a failed write is only PHP's warning "Failed to write
//!   session data" and the answer stands. Session locking
//!   (`redis.session.locking_enabled`, off by default) is not modelled.
//!   The session's GET and SET are not client operations of the write
//!   history (sessions are not the data it judges).
//!
//! Simplified: the master answers nothing itself (no `ping.path`, no
//! status page), so only L4 checks reach a pool; a child that the caller
//! gave up on runs its script to the end (PHP notices a gone client only
//! when it writes output); forking costs the master nothing; a kill of the
//! node kills master and children, and the restart forks afresh.

pub mod config;
mod product;
#[cfg(test)]
mod tests;

use crate::engine::{Dur, Rng, SimTime, Slab};
use crate::metrics::EventKind;
use crate::process::dist::Sampler;
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NodeId, Process, ReqKind};
use crate::products::Timer;
use crate::protocols::calls::{Downstream, Progress, Wake};
use config::{PhpFpmSpec, PmStyle};
use std::collections::VecDeque;

/// Period of the master's maintenance of the pool's children
/// (fpm_process_ctl.h `FPM_IDLE_SERVER_MAINTENANCE_HEARTBEAT`, 1000 ms).
pub const MAINTENANCE: Dur = Dur::from_secs(1);
/// The shortest request-timeout heartbeat (fpm_process_ctl.h
/// `FPM_PCTL_MIN_HEARTBEAT`, 130 ms).
pub const MIN_HEARTBEAT: Dur = Dur::from_ms(130);

/// How often the master checks its busy children against
/// `request_terminate_timeout` (fpm_conf.c: timeout in ms / 3, at least
/// `FPM_PCTL_MIN_HEARTBEAT`).
pub fn heartbeat(request_terminate_timeout: Dur) -> Dur {
    let third = Dur::from_ms(request_terminate_timeout.0 / Dur::MS / 3);
    third.max(MIN_HEARTBEAT)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhpTimer {
    /// The script's own work of the request on connection `conn` is done.
    ServiceDone { conn: CallRef },
    /// Child `child` (forked as generation `generation`) is ready to accept.
    Spawned { child: u16, generation: u32 },
    /// The master's once-a-second pool maintenance.
    Maintenance,
    /// The master's request-timeout heartbeat.
    Heartbeat,
    /// The connect deadlines of call kind `call` (session read, calls,
    /// session write).
    ConnectDeadline { call: u32 },
    /// The read deadlines of call kind `call`.
    ReadDeadline { call: u32 },
}

impl From<PhpTimer> for Timer {
    fn from(t: PhpTimer) -> Timer {
        Timer::PhpFpm(t)
    }
}

#[derive(Clone, Copy)]
pub struct PhpWake;

impl Wake for PhpWake {
    fn connect(call: u32) -> Timer {
        PhpTimer::ConnectDeadline { call }.into()
    }
    fn read(call: u32) -> Timer {
        PhpTimer::ReadDeadline { call }.into()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChildState {
    /// No process in this slot.
    Empty,
    /// Forked, not yet accepting.
    Spawning,
    Idle,
    /// Serving the request on this connection.
    Busy(CallRef),
}

#[derive(Clone, Copy, Debug)]
struct Child {
    state: ChildState,
    /// Counts forks into this slot: a `Spawned` timer of an earlier fork
    /// is stale.
    generation: u32,
    /// Forked at (the master picks the oldest idle child to end).
    started: SimTime,
    /// Its last request ended (or it became ready).
    last_activity: SimTime,
    served: u32,
}

/// Where a request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// In the accept queue.
    Queued,
    /// A child reads the session / works / calls.
    Calls,
    Service,
}

#[derive(Clone, Copy)]
struct Conn {
    caller: NodeId,
    call: CallRef,
    phase: Phase,
    child: u16,
    /// When the child accepted it (the request timeout counts from here).
    accepted: SimTime,
    calls: Progress,
    /// The caller closed its side: the script runs on, the answer is lost.
    closing: bool,
}

#[derive(Clone)]
pub struct PhpFpm {
    spec: PoolCfg,
    service: Sampler,
    calls: Downstream<PhpWake>,
    /// Call kinds: the session read (if any) is kind 0, the app's calls
    /// follow, the session write (if any) is the last.
    session: bool,
    session_error: u16,
    children: Vec<Child>,
    /// Idle children, the one idle longest first (the kernel hands a
    /// connection to the first waiter in `accept()`).
    idle: VecDeque<u16>,
    /// Children not `Empty` (php-fpm's `running_children`).
    running: u32,
    spawning: u32,
    spawn_rate: u32,
    /// The max_children warning was logged (php-fpm's `warn_max_children`).
    warned: bool,
    conns: Slab<Conn>,
    /// Connections no child has accepted yet, in arrival order.
    accept_queue: VecDeque<CallRef>,
    /// Connections in the accept queue, those whose caller closed too (the
    /// kernel keeps them until a child accepts them).
    queued: u32,
}

/// The pool's settings as the model uses them.
#[derive(Clone, Copy)]
struct PoolCfg {
    pm: PmStyle,
    max_children: u32,
    start_servers: u32,
    min_spare: u32,
    max_spare: u32,
    idle_timeout: Dur,
    max_requests: u32,
    max_spawn_rate: u32,
    backlog: u32,
    terminate: Dur,
    spawn_time: Dur,
}

impl PhpFpm {
    pub fn new(spec: &PhpFpmSpec, calls: Downstream<PhpWake>) -> PhpFpm {
        let empty = Child {
            state: ChildState::Empty,
            generation: 0,
            started: SimTime::ZERO,
            last_activity: SimTime::ZERO,
            served: 0,
        };
        PhpFpm {
            spec: PoolCfg {
                pm: spec.pm,
                max_children: spec.max_children,
                start_servers: spec.start_servers,
                min_spare: spec.min_spare_servers,
                max_spare: spec.max_spare_servers,
                idle_timeout: spec.process_idle_timeout,
                max_requests: spec.max_requests,
                max_spawn_rate: spec.max_spawn_rate,
                backlog: spec.backlog,
                terminate: spec.request_terminate_timeout,
                spawn_time: spec.spawn_time,
            },
            service: Sampler::new(&spec.service),
            calls,
            session: spec.session.is_some(),
            session_error: spec.session.as_ref().map_or(500, |s| s.error_status),
            children: vec![empty; spec.max_children as usize],
            idle: VecDeque::with_capacity(spec.max_children as usize),
            running: 0,
            spawning: 0,
            spawn_rate: 1,
            warned: false,
            conns: Slab::default(),
            accept_queue: VecDeque::new(),
            queued: 0,
        }
    }

    /// Children alive (forked, not yet exited).
    pub fn running(&self) -> u32 {
        self.running
    }

    /// Children serving a request.
    pub fn busy(&self) -> u32 {
        self.running - self.spawning - self.idle.len() as u32
    }

    /// Connections waiting in the accept queue.
    pub fn queued(&self) -> u32 {
        self.queued
    }

    /// Forks `n` children into empty slots; each accepts after `spawn_time`.
    fn fork(&mut self, ctx: &mut Ctx, n: u32) {
        let mut left = n;
        for (i, c) in self.children.iter_mut().enumerate() {
            if left == 0 {
                break;
            }
            if c.state != ChildState::Empty {
                continue;
            }
            c.state = ChildState::Spawning;
            c.generation = c.generation.wrapping_add(1);
            c.started = ctx.now;
            c.served = 0;
            self.running += 1;
            self.spawning += 1;
            left -= 1;
            let t = PhpTimer::Spawned {
                child: i as u16,
                generation: c.generation,
            };
            ctx.at(ctx.now + self.spec.spawn_time, t);
        }
    }

    /// A child exits (idle kill, `pm.max_requests`, a request timeout).
    fn exit(&mut self, child: u16) {
        let c = &mut self.children[child as usize];
        match c.state {
            ChildState::Idle => self.idle.retain(|&i| i != child),
            ChildState::Spawning => self.spawning -= 1,
            ChildState::Busy(_) | ChildState::Empty => {}
        }
        if c.state != ChildState::Empty {
            self.running -= 1;
        }
        c.state = ChildState::Empty;
    }

    /// Child `child` waits in `accept()`: it takes the oldest queued
    /// connection, or goes idle.
    fn child_ready(&mut self, ctx: &mut Ctx, rng: &mut Rng, child: u16) {
        self.children[child as usize].last_activity = ctx.now;
        while let Some(conn) = self.accept_queue.pop_front() {
            let Some(c) = self.conns.get(conn.slot, conn.generation) else {
                continue;
            };
            if c.phase != Phase::Queued {
                continue;
            }
            self.queued -= 1;
            return self.accept(ctx, rng, child, conn);
        }
        self.children[child as usize].state = ChildState::Idle;
        self.idle.push_back(child);
    }

    /// Child `child` accepted connection `me`: the request starts.
    fn accept(&mut self, ctx: &mut Ctx, rng: &mut Rng, child: u16, me: CallRef) {
        self.children[child as usize].state = ChildState::Busy(me);
        let c = self.conns.get_mut(me.slot, me.generation).expect("queued");
        c.child = child;
        c.accepted = ctx.now;
        if self.session {
            c.phase = Phase::Calls;
            self.calls.begin_step(ctx, me, &mut c.calls, 0);
        } else {
            self.work(ctx, rng, me);
        }
    }

    /// The script's own work, scaled by a `slow` fault.
    fn work(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef) {
        let c = self.conns.get_mut(me.slot, me.generation).expect("live");
        c.phase = Phase::Service;
        let d = ctx.slowed(self.service.sample(rng));
        ctx.at(ctx.now + d, PhpTimer::ServiceDone { conn: me });
    }

    /// The script's work is done: its calls, then the session write.
    fn after_service(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef) {
        let first = u16::from(self.session);
        if (first as usize) < self.calls.kinds() {
            let c = self.conns.get_mut(me.slot, me.generation).expect("live");
            c.phase = Phase::Calls;
            self.calls.begin_step(ctx, me, &mut c.calls, first);
        } else {
            self.answer(ctx, rng, me, 200);
        }
    }

    /// A call of request `me` ended.
    fn after_call(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef, ok: Result<(), u16>) {
        let Some(c) = self.conns.get_mut(me.slot, me.generation) else {
            return;
        };
        let step = c.calls.step as usize;
        let last = self.calls.kinds() - 1;
        let session_write = self.session && step == last && step > 0;
        let status = match ok {
            Ok(()) => None,
            // PHP warns, the answer stands.
            Err(_) if session_write => None,
            Err(_) if self.session && step == 0 => Some(self.session_error),
            Err(s) => Some(s),
        };
        if let Some(s) = status {
            return self.answer(ctx, rng, me, s);
        }
        let done = match ok {
            Ok(()) => self.calls.next_in_step(ctx, me, &mut c.calls),
            Err(_) => true,
        };
        if !done {
            return;
        }
        if self.session && step == 0 {
            self.work(ctx, rng, me);
        } else if step < last {
            self.calls.begin_step(ctx, me, &mut c.calls, step as u16 + 1);
        } else {
            self.answer(ctx, rng, me, 200);
        }
    }

    /// Request `me` is answered; its child is free (or exits after
    /// `pm.max_requests`).
    fn answer(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef, status: u16) {
        let Some(c) = self.conns.remove(me.slot, me.generation) else {
            return;
        };
        if !c.closing {
            // FastCGI without keep-conn: the connection closes with the answer.
            ctx.send(c.caller, c.call, MsgKind::Response { status });
        }
        let child = c.child;
        let ch = &mut self.children[child as usize];
        ch.served += 1;
        if self.spec.max_requests > 0 && ch.served >= self.spec.max_requests {
            self.exit(child);
            self.fork(ctx, 1);
            return;
        }
        self.child_ready(ctx, rng, child);
    }

    /// A new connection: a child takes it, or it waits in the accept queue.
    fn arrive(&mut self, ctx: &mut Ctx, rng: &mut Rng, me: CallRef) {
        if let Some(child) = self.idle.pop_front() {
            return self.accept(ctx, rng, child, me);
        }
        self.accept_queue.push_back(me);
        self.queued += 1;
        // fpm_pctl_on_socket_accept(): no idle child, room for one more.
        if self.spec.pm == PmStyle::Ondemand {
            if self.running < self.spec.max_children {
                self.warned = false;
                self.fork(ctx, 1);
            } else {
                self.warn_max_children(ctx);
            }
        }
    }

    /// fpm_pctl_perform_idle_server_maintenance(), for this pool.
    fn maintain(&mut self, ctx: &mut Ctx) {
        let idle = self.idle.len() as u32;
        // The idle child forked first.
        let oldest = self
            .idle
            .iter()
            .copied()
            .min_by_key(|&i| (self.children[i as usize].started, i));
        match self.spec.pm {
            PmStyle::Static => {}
            PmStyle::Ondemand => {
                if let Some(i) = oldest {
                    let last = self.children[i as usize].last_activity;
                    if ctx.now.since(last) > self.spec.idle_timeout {
                        self.exit(i);
                    }
                }
            }
            PmStyle::Dynamic => {
                if idle > self.spec.max_spare
                    && let Some(i) = oldest
                {
                    self.exit(i);
                    self.spawn_rate = 1;
                } else if idle < self.spec.min_spare && self.running >= self.spec.max_children {
                    self.warn_max_children(ctx);
                    self.spawn_rate = 1;
                } else if idle < self.spec.min_spare {
                    let room = self.spec.max_children - self.running;
                    let n = self.spawn_rate.min(self.spec.min_spare - idle).min(room);
                    if n == 0 {
                        self.warn_max_children(ctx);
                        self.spawn_rate = 1;
                    } else {
                        self.warned = false;
                        let me = ctx.me;
                        ctx.log(
                            me,
                            EventKind::Info,
                            format!(
                                "{n} child(ren) have been created dynamically (spawn rate {}, {idle} idle, {} running)",
                                self.spawn_rate, self.running
                            ),
                        );
                        self.fork(ctx, n);
                        if self.spawn_rate < self.spec.max_spawn_rate {
                            self.spawn_rate = (self.spawn_rate * 2).min(self.spec.max_spawn_rate);
                        }
                    }
                } else {
                    self.spawn_rate = 1;
                }
            }
        }
        ctx.at(ctx.now + MAINTENANCE, PhpTimer::Maintenance);
    }

    /// "server reached pm.max_children setting (N), consider raising it",
    /// once until a fork succeeds again (php-fpm's `warn_max_children`).
    fn warn_max_children(&mut self, ctx: &mut Ctx) {
        if self.warned {
            return;
        }
        self.warned = true;
        let me = ctx.me;
        let n = self.spec.max_children;
        ctx.log(
            me,
            EventKind::Info,
            format!("server reached pm.max_children setting ({n}), consider raising it"),
        );
    }

    /// fpm_pctl_check_request_timeout(): SIGTERM to every child whose
    /// request has run `request_terminate_timeout` (whole seconds).
    fn check_timeouts(&mut self, ctx: &mut Ctx) {
        let limit = self.spec.terminate.0 / Dur::S;
        for i in 0..self.children.len() {
            let ChildState::Busy(me) = self.children[i].state else {
                continue;
            };
            let Some(c) = self.conns.get(me.slot, me.generation).copied() else {
                continue;
            };
            let secs = ctx.now.since(c.accepted).0 / Dur::S;
            if secs < limit {
                continue;
            }
            // The child dies: the kernel closes its sockets.
            self.calls.abandon(ctx, me);
            self.conns.remove(me.slot, me.generation);
            if !c.closing {
                ctx.send(c.caller, c.call, MsgKind::Closed);
            }
            let me_node = ctx.me;
            ctx.log(
                me_node,
                EventKind::Info,
                "child execution timed out (request_terminate_timeout), terminating",
            );
            self.exit(i as u16);
            // fpm_children_bury(): the master forks its replacement.
            self.fork(ctx, 1);
        }
        let hb = heartbeat(self.spec.terminate);
        ctx.at(ctx.now + hb, PhpTimer::Heartbeat);
    }
}

impl Process for PhpFpm {
    type Timer = PhpTimer;

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    /// fpm_children_create_initial(): static forks every child, dynamic
    /// `pm.start_servers`, ondemand none; the master's two timers start
    /// at a phase `boot` gives them.
    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        let n = match self.spec.pm {
            PmStyle::Static => self.spec.max_children,
            PmStyle::Dynamic => self.spec.start_servers,
            PmStyle::Ondemand => 0,
        };
        self.fork(ctx, n);
        if self.spec.pm != PmStyle::Static {
            let first = boot.first(MAINTENANCE, MAINTENANCE);
            ctx.at(ctx.now + first, PhpTimer::Maintenance);
        }
        if !self.spec.terminate.is_zero() {
            let hb = heartbeat(self.spec.terminate);
            ctx.at(ctx.now + boot.first(hb, hb), PhpTimer::Heartbeat);
        }
    }

    /// The accept queue is full: the kernel drops the SYN (it holds
    /// `listen.backlog` + 1 connections, as the kernel's own for a stopped
    /// process).
    fn syn_backlog_full(&self) -> bool {
        self.queued > self.spec.backlog
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(req) => match req.kind {
                // php-fpm answers no HTTP check (product::check_code
                // refuses them); an L4 check is the kernel's.
                ReqKind::HttpCheck | ReqKind::L4Check => {}
                ReqKind::Work => {
                    let c = Conn {
                        caller: msg.from,
                        call: msg.call,
                        phase: Phase::Queued,
                        child: 0,
                        accepted: SimTime::NEVER,
                        calls: Progress {
                            step: 0,
                            left: 0,
                            op: req.op,
                            idempotent: req.idempotent,
                        },
                        closing: false,
                    };
                    let me = CallRef::new(self.conns.insert(c));
                    self.arrive(ctx, rng, me);
                }
            },
            // FastCGI connections are not kept (nginx's fastcgi_keep_conn
            // is off by default): a further request on one is a stale peer.
            MsgKind::Request(_) => ctx.send(msg.from, msg.call, MsgKind::Reset),
            MsgKind::Close => {
                let found = self
                    .conns
                    .iter()
                    .find(|(_, _, c)| c.caller == msg.from && c.call == msg.call)
                    .map(|(s, g, _)| CallRef::new((s, g)));
                // Even a connection no child has accepted yet holds the
                // whole FastCGI request in its receive buffer, ahead of the
                // FIN: it keeps its place in the accept queue, and the child
                // that accepts it reads the request (fastcgi.c
                // fcgi_read_request) and runs the script; PHP notices the
                // gone caller only when it writes output (main.c
                // php_handle_aborted_connection from the SAPI's write).
                if let Some(me) = found {
                    self.conns.get_mut(me.slot, me.generation).expect("found").closing = true;
                }
            }
            _ => {
                if let Some((me, ok)) = self.calls.on_reply(ctx, msg) {
                    self.after_call(ctx, rng, me, ok);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: PhpTimer) {
        match t {
            PhpTimer::ServiceDone { conn } => {
                if self
                    .conns
                    .get(conn.slot, conn.generation)
                    .is_some_and(|c| c.phase == Phase::Service)
                {
                    self.after_service(ctx, rng, conn);
                }
            }
            PhpTimer::Spawned { child, generation } => {
                let c = &mut self.children[child as usize];
                if c.state == ChildState::Spawning && c.generation == generation {
                    self.spawning -= 1;
                    self.child_ready(ctx, rng, child);
                }
            }
            PhpTimer::Maintenance => self.maintain(ctx),
            PhpTimer::Heartbeat => self.check_timeouts(ctx),
            PhpTimer::ConnectDeadline { call } | PhpTimer::ReadDeadline { call } => {
                let connect = matches!(t, PhpTimer::ConnectDeadline { .. });
                for (me, ok) in self.calls.on_timer(ctx, call as usize, connect) {
                    self.after_call(ctx, rng, me, ok);
                }
            }
        }
    }

    fn on_established(&mut self, call: CallRef, at: SimTime) {
        self.calls.on_established(call, at);
    }

    fn is_call_live(&self, call: CallRef) -> bool {
        self.calls.is_call_live(call)
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.conns.values().map(|c| (c.caller, c.call)).collect()
    }
}
