//! HAProxy 2.6 (haproxy.md). This file: the request path — frontend
//! `maxconn` and listen queue, server `maxconn` and queues, `retries` with the
//! 1 s turn-around and `option redispatch`, what the client gets in http and
//! tcp mode, and what a DOWN/UP mark does to sessions. Beside it: server
//! selection (`balance.rs`), active and passive health (`checks.rs`), kept
//! connections (`kept.rs`), `slowstart` (`slowstart.rs`) and the timeouts
//! (`timeouts.rs`).

mod abort;
mod balance;
pub(crate) mod checks;
pub mod describe;
pub mod formulas;
mod kept;
mod slowstart;
mod timeouts;

pub mod config;
mod product;

use crate::engine::{DeadlineFifo, Dur, Rng, SimTime, Slab};
use crate::process::{Boot, Process};
use crate::process::{CallRef, Ctx, Msg, MsgKind, NO_PEER, NodeId, Req};
use crate::products::Timer;
use crate::products::haproxy::config::{Balance, HaproxyMode, HaproxySpec};
use balance::Pick;
use std::collections::VecDeque;

/// HAProxy's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaproxyTimer {
    /// The wake-up of the `timeout connect` deadlines.
    ConnectDeadline,
    /// The wake-up of the `timeout server` deadlines.
    ResponseDeadline,
    /// The wake-up of the `timeout queue` deadlines.
    QueueDeadline,
    /// The wake-up of the idle deadlines of kept client connections.
    IdleDeadline,
    /// `timeout server` of `attempt`, counted from its handshake or its
    /// request (later than its deadline in the FIFO).
    ResponseExact { attempt: CallRef },
    /// The turn-around of `session` is over: retry the same server, or
    /// another one when `redispatch`.
    Retry { session: CallRef, redispatch: bool },
    /// The next health check of server `server` starts (cancelled when
    /// rescheduled).
    CheckStart { server: u32 },
    /// The check task of server `server`'s check number `seq` wakes.
    CheckTimeout { server: u32, seq: u32 },
    /// The `slowstart` weight of server `server` is recomputed.
    Warmup { server: u32 },
    /// The `default` resolvers task runs (wakes an idle event loop).
    ResolversTick,
}

impl From<HaproxyTimer> for Timer {
    fn from(t: HaproxyTimer) -> Timer {
        Timer::Haproxy(t)
    }
}

/// Check replies carry the server index with this bit set in `CallRef::slot`.
const CHECK_BIT: u32 = 1 << 31;

#[derive(Clone)]
pub struct Srv {
    pub node: NodeId,
    pub name: String,
    pub weight: u32,
    pub backup: bool,
    pub maxconn: u32,
    /// Connections to it now.
    pub cur: u32,
    pub queue: VecDeque<CallRef>,
    pub rr_weight: i64,
    pub up: bool,
    pub check: checks::CheckState,
    pub slowstart: slowstart::Warmup,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Queued,
    Connecting,
    /// Waiting for the turn-around before retrying the same server.
    TurnAround,
    Established,
    /// A kept client connection between two requests (in tcp mode still
    /// bound to its server connection).
    Idle,
}

#[derive(Clone, Copy)]
struct Session {
    client: NodeId,
    client_call: CallRef,
    req: Req,
    srv: Option<u16>,
    phase: Phase,
    retries_done: u32,
    attempt: CallRef,
    /// The server's side of a kept server connection (tcp mode).
    server_peer: u32,
    /// Last activity of a kept connection (for the idle timeout).
    idle_since: SimTime,
    /// The client closed its side (its FIN came): without `option
    /// abortonclose` the request is still served, its answer meeting a
    /// closed socket.
    client_gone: bool,
}

#[derive(Clone, Copy)]
struct Attempt {
    session: CallRef,
    established_at: SimTime,
    /// When the request now awaited was sent (later requests on a kept
    /// connection); `timeout server` counts from the later of the two.
    sent_at: SimTime,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ConnFailure {
    /// RST, ICMP, EHOSTUNREACH: an asynchronous socket error.
    SocketError,
    /// `timeout connect` fired.
    Timeout,
}

#[derive(Clone)]
pub struct Haproxy {
    http: bool,
    balance: Balance,
    maxconn: u32,
    backlog: u32,
    actconn: u32,
    /// Connections completed by the kernel, waiting for `actconn < maxconn`,
    /// and whether their client has closed since (its FIN waits in the
    /// socket: HAProxy reads it with the request once it accepts).
    listen_queue: VecDeque<(NodeId, CallRef, Req, bool)>,
    timeout_connect: Option<Dur>,
    /// Inactivity bound while waiting for the reply: `timeout server`, and in
    /// tcp mode also `timeout client` (the shorter wins).
    timeout_response: Option<Dur>,
    timeout_queue: Option<Dur>,
    retries: u32,
    redispatch: bool,
    /// `option abortonclose` (see [`Haproxy::client_closed`]).
    abortonclose: bool,
    allbackups: bool,
    shutdown_sessions: bool,
    pub(super) servers: Vec<Srv>,
    candidates: Vec<usize>,
    equal_weights: bool,
    rr_next: usize,
    scratch: Vec<usize>,
    sessions: Slab<Session>,
    attempts: Slab<Attempt>,
    backend_queue: VecDeque<CallRef>,
    connect_deadlines: DeadlineFifo,
    response_deadlines: DeadlineFifo,
    queue_deadlines: DeadlineFifo,
    idle_deadlines: DeadlineFifo,
    /// Inactivity bound of a kept client connection between requests:
    /// `timeout client` (and in tcp mode `timeout server`, the shorter wins).
    timeout_idle: Option<Dur>,
    pub(super) checks: checks::CheckConfig,
    pub(super) wakes: checks::LoopWakes,
}

impl Haproxy {
    /// `servers` = (node, name) of each server in `spec.servers` order.
    pub fn new(spec: &HaproxySpec, servers: &[(NodeId, String)]) -> Haproxy {
        let timeout_response = match spec.mode {
            HaproxyMode::Http => spec.timeout_server,
            HaproxyMode::Tcp => match (spec.timeout_server, spec.timeout_client) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            },
        };
        let srvs: Vec<Srv> = spec
            .servers
            .iter()
            .zip(servers)
            .map(|(s, (node, name))| Srv {
                node: *node,
                name: name.clone(),
                weight: s.weight,
                backup: s.backup,
                maxconn: s.maxconn,
                cur: 0,
                queue: VecDeque::new(),
                rr_weight: 0,
                slowstart: slowstart::Warmup::new(s.slowstart_s),
                up: true,
                check: checks::CheckState::new(s),
            })
            .collect();
        let mut h = Haproxy {
            http: spec.mode == HaproxyMode::Http,
            balance: spec.balance,
            maxconn: spec.maxconn,
            backlog: spec.backlog,
            actconn: 0,
            listen_queue: VecDeque::new(),
            timeout_connect: spec.timeout_connect,
            timeout_response,
            timeout_queue: spec.timeout_queue.or(spec.timeout_connect),
            retries: spec.retries,
            redispatch: spec.redispatch,
            abortonclose: spec.abortonclose,
            allbackups: spec.allbackups,
            shutdown_sessions: spec.shutdown_sessions_on_marked_down,
            servers: srvs,
            candidates: Vec::new(),
            equal_weights: true,
            rr_next: 0,
            scratch: Vec::new(),
            sessions: Slab::default(),
            attempts: Slab::default(),
            backend_queue: VecDeque::new(),
            connect_deadlines: DeadlineFifo::default(),
            response_deadlines: DeadlineFifo::default(),
            queue_deadlines: DeadlineFifo::default(),
            idle_deadlines: DeadlineFifo::default(),
            timeout_idle: match spec.mode {
                HaproxyMode::Http => spec.timeout_client,
                HaproxyMode::Tcp => timeout_response,
            },
            checks: checks::CheckConfig {
                http: spec.check.is_l7(),
                timeout_check: spec.timeout_check,
                timeout_connect: spec.timeout_connect,
                spread: spec.spread_checks,
                observing: spec.servers.iter().any(|s| s.observe.is_some()),
            },
            wakes: checks::LoopWakes::default(),
        };
        h.refresh_candidates();
        h
    }

    /// Runs `f` with the session of a live attempt, retiring the attempt.
    fn with_attempt(&mut self, call: CallRef, f: impl FnOnce(&mut Self, CallRef)) {
        if let Some(a) = self.attempts.remove(call.slot, call.generation) {
            f(self, a.session);
        }
    }

    fn accept(
        &mut self,
        ctx: &mut Ctx,
        client: NodeId,
        client_call: CallRef,
        req: Req,
        client_gone: bool,
    ) {
        self.actconn += 1;
        let s = Session {
            client,
            client_call,
            req,
            srv: None,
            phase: Phase::Queued,
            retries_done: 0,
            attempt: CallRef::default(),
            server_peer: NO_PEER,
            idle_since: SimTime::ZERO,
            client_gone,
        };
        let sref = CallRef::new(self.sessions.insert(s));
        self.route(ctx, sref, client, client_gone);
    }

    /// Load-balances session `sref` and connects, queues or refuses it.
    fn dispatch(&mut self, ctx: &mut Ctx, sref: CallRef) {
        let Some((client, gone)) = self
            .sessions
            .get(sref.slot, sref.generation)
            .map(|s| (s.client, s.client_gone))
        else {
            return;
        };
        self.route(ctx, sref, client, gone);
    }

    /// [`Haproxy::dispatch`] of a live session from `client` (`gone`: it
    /// closed its side), without looking it up again.
    #[inline]
    fn route(&mut self, ctx: &mut Ctx, sref: CallRef, client: NodeId, gone: bool) {
        let abort = gone && self.abortonclose;
        match self.pick(client) {
            // back_try_conn_req(): an assigned stream whose client closed is
            // aborted before it connects (`back_may_abort_req()`), a queued
            // one in back_handle_st_que() — see `client_closed`.
            Pick::Server(_) if abort => self.client_abort(ctx, sref, "CC"),
            Pick::Queue if abort => self.client_abort(ctx, sref, "CQ"),
            Pick::Server(i) => self.connect(ctx, sref, i),
            Pick::Queue => {
                self.backend_queue.push_back(sref);
                self.arm_queue_timeout(ctx, sref);
            }
            Pick::NoServer => self.give_up(ctx, sref, "SC"),
        }
    }

    fn arm_queue_timeout(&mut self, ctx: &mut Ctx, sref: CallRef) {
        if let Some(s) = self.sessions.get_mut(sref.slot, sref.generation) {
            s.phase = Phase::Queued;
        }
        if let Some(tq) = self.timeout_queue {
            let at = ctx.now + tq;
            ctx.arm_with(
                &mut self.queue_deadlines,
                at,
                sref,
                HaproxyTimer::QueueDeadline,
            );
        }
    }

    /// Opens a connection attempt from session `sref` to server `i`.
    fn connect(&mut self, ctx: &mut Ctx, sref: CallRef, i: usize) {
        let Some(s) = self.sessions.get_mut(sref.slot, sref.generation) else {
            return;
        };
        let a = Attempt {
            session: sref,
            established_at: SimTime::NEVER,
            sent_at: ctx.now,
        };
        let aref = CallRef::new(self.attempts.insert(a));
        s.srv = Some(i as u16);
        s.phase = Phase::Connecting;
        s.attempt = aref;
        // In http mode the server connection ends with its request.
        let req = Req {
            keep: s.req.keep && !self.http,
            ..s.req
        };
        let srv = &mut self.servers[i];
        srv.cur += 1;
        ctx.send(srv.node, aref, MsgKind::Connect(req));
        if let Some(tc) = self.timeout_connect {
            let attempts = &self.attempts;
            self.connect_deadlines
                .trim(|d| attempts.contains(d.slot, d.generation));
            let at = ctx.now + tc;
            ctx.arm_with(
                &mut self.connect_deadlines,
                at,
                aref,
                HaproxyTimer::ConnectDeadline,
            );
        }
        self.arm_response_timeout(ctx, aref);
    }

    fn arm_response_timeout(&mut self, ctx: &mut Ctx, aref: CallRef) {
        if let Some(ts) = self.timeout_response {
            let attempts = &self.attempts;
            self.response_deadlines
                .trim(|d| attempts.contains(d.slot, d.generation));
            let at = ctx.now + ts;
            ctx.arm_with(
                &mut self.response_deadlines,
                at,
                aref,
                HaproxyTimer::ResponseDeadline,
            );
        }
    }

    /// The session's server connection is over: frees the server slot and
    /// hands it to the oldest waiting session.
    #[inline]
    fn release_server(&mut self, ctx: &mut Ctx, i: usize) {
        let srv = &mut self.servers[i];
        srv.cur = srv.cur.saturating_sub(1);
        // Nobody waits (no `maxconn` reached): the common case.
        if !srv.queue.is_empty() || !self.backend_queue.is_empty() {
            self.hand_over(ctx, i);
        }
    }

    /// Hands server `i`'s free slots to the oldest waiting sessions.
    #[inline(never)]
    fn hand_over(&mut self, ctx: &mut Ctx, i: usize) {
        while self.servers[i].has_room() {
            let next = self.servers[i].queue.pop_front().or_else(|| {
                if self.servers[i].up {
                    self.backend_queue.pop_front()
                } else {
                    None
                }
            });
            let Some(next) = next else { break };
            if self
                .sessions
                .get(next.slot, next.generation)
                .is_some_and(|s| s.phase == Phase::Queued)
            {
                self.connect(ctx, next, i);
            }
        }
    }

    /// Answers the client and ends the session.
    fn end_session(&mut self, ctx: &mut Ctx, sref: CallRef, answer: Option<MsgKind>) {
        let Some(s) = self.sessions.remove(sref.slot, sref.generation) else {
            return;
        };
        // A turn-around towards the same server keeps its slot (see
        // `connect_failed`); a redispatched one has no server.
        if matches!(
            s.phase,
            Phase::Established | Phase::Connecting | Phase::Idle | Phase::TurnAround
        ) && let Some(i) = s.srv
        {
            self.release_server(ctx, i as usize);
        }
        if let Some(answer) = answer {
            ctx.send(s.client, s.client_call, answer);
        }
        self.actconn -= 1;
        // A freed slot lets the kernel's oldest waiting connection in.
        while !self.listen_queue.is_empty() && self.actconn < self.maxconn {
            let Some((c, call, req, gone)) = self.listen_queue.pop_front() else {
                break;
            };
            self.accept(ctx, c, call, req, gone);
        }
    }

    /// Logs how session `sref`'s request ended, in HAProxy's termination
    /// state (its log's `%ts`: who ended it, then the phase it was in).
    fn log_end(&self, ctx: &mut Ctx, sref: CallRef, state: &str) {
        if !ctx.tracing() {
            return;
        }
        if let Some(s) = self.sessions.get(sref.slot, sref.generation) {
            let server = s.srv.map(|i| self.servers[i as usize].node);
            ctx.access(s.req.op, server, state);
        }
    }

    /// All attempts failed, or no server: 503 in http mode, a close in tcp.
    /// `state`: `SC` (refused, or no server), `sC` (connect timeout), `sQ`
    /// (queue timeout).
    fn give_up(&mut self, ctx: &mut Ctx, sref: CallRef, state: &str) {
        self.log_end(ctx, sref, state);
        let answer = if self.http {
            MsgKind::Response { status: 503 }
        } else {
            MsgKind::Closed
        };
        self.end_session(ctx, sref, Some(answer));
    }

    /// haproxy.md §6: retries, redispatch and the turn-around.
    fn connect_failed(&mut self, ctx: &mut Ctx, sref: CallRef, why: ConnFailure) {
        let Some(i) = self.session_server(sref) else {
            return;
        };
        let what = match why {
            ConnFailure::SocketError => "L4 unsuccessful connection",
            ConnFailure::Timeout => "L4 timeout",
        };
        self.health_adjust(ctx, i, Some(what), false);
        let up_count = self.active_up();
        let Some(s) = self.sessions.get_mut(sref.slot, sref.generation) else {
            return;
        };
        if s.retries_done >= self.retries {
            let state = match why {
                ConnFailure::SocketError => "SC",
                ConnFailure::Timeout => "sC",
            };
            return self.give_up(ctx, sref, state);
        }
        s.retries_done += 1;
        let last_retry = s.retries_done == self.retries;
        let rr_like = self.balance == Balance::RoundRobin;
        let srv_up = self.servers[i].up;
        let redispatch_now =
            self.redispatch && (!srv_up || last_retry || (rr_like && up_count > 1));
        let turn_around =
            why == ConnFailure::SocketError && (!redispatch_now || !rr_like || up_count <= 1);
        if redispatch_now {
            s.srv = None;
            s.phase = Phase::Queued;
            self.release_server(ctx, i);
            if turn_around {
                self.wait_turn_around(ctx, sref, true);
            } else {
                self.dispatch(ctx, sref);
            }
        } else if turn_around {
            // Stays assigned to (and counted on) the same server.
            self.wait_turn_around(ctx, sref, false);
        } else {
            self.servers[i].cur -= 1;
            self.connect(ctx, sref, i);
        }
    }

    /// min(timeout connect, 1 s) before the retry (`back_handle_st_cer()`).
    fn wait_turn_around(&mut self, ctx: &mut Ctx, sref: CallRef, redispatch: bool) {
        if let Some(s) = self.sessions.get_mut(sref.slot, sref.generation) {
            s.phase = Phase::TurnAround;
        }
        let pause = self
            .timeout_connect
            .map_or(Dur::from_secs(1), |tc| tc.min(Dur::from_secs(1)));
        let retry = HaproxyTimer::Retry {
            session: sref,
            redispatch,
        };
        ctx.at(ctx.now + pause, retry);
    }

    fn retry_now(&mut self, ctx: &mut Ctx, sref: CallRef, redispatch: bool) {
        let Some(s) = self.sessions.get(sref.slot, sref.generation) else {
            return;
        };
        if s.phase != Phase::TurnAround {
            return;
        }
        match (redispatch, s.srv) {
            (false, Some(i)) => {
                self.servers[i as usize].cur -= 1;
                self.connect(ctx, sref, i as usize);
            }
            _ => self.dispatch(ctx, sref),
        }
    }

    /// The server a session is assigned to.
    fn session_server(&self, sref: CallRef) -> Option<usize> {
        self.sessions
            .get(sref.slot, sref.generation)?
            .srv
            .map(|i| i as usize)
    }

    /// A server went DOWN: `on-marked-down shutdown-sessions` and requeueing.
    fn on_marked_down(&mut self, ctx: &mut Ctx, i: usize) {
        if self.shutdown_sessions {
            let victims: Vec<CallRef> = self
                .sessions
                .keys()
                .into_iter()
                .map(|(s, g)| CallRef {
                    slot: s,
                    generation: g,
                })
                .filter(|r| {
                    self.sessions.get(r.slot, r.generation).is_some_and(|s| {
                        s.srv == Some(i as u16)
                            && matches!(s.phase, Phase::Established | Phase::Idle)
                    })
                })
                .collect();
            for r in victims {
                self.log_end(ctx, r, "DD");
                self.close_session(ctx, r, Some(MsgKind::Closed));
            }
        }
        if self.redispatch {
            // pendconn_redistribute(): the server's queue moves to the backend.
            let moved: Vec<CallRef> = self.servers[i].queue.drain(..).collect();
            for r in moved {
                if let Some(s) = self.sessions.get_mut(r.slot, r.generation) {
                    s.srv = None;
                }
                self.dispatch(ctx, r);
            }
        }
    }

    /// A server came UP: waiting sessions may go to it.
    fn on_marked_up(&mut self, ctx: &mut Ctx, i: usize) {
        while self.servers[i].has_room() {
            let Some(next) = self.backend_queue.pop_front() else {
                break;
            };
            if self
                .sessions
                .get(next.slot, next.generation)
                .is_some_and(|s| s.phase == Phase::Queued)
            {
                self.dispatch(ctx, next);
            }
        }
    }
}

impl Process for Haproxy {
    type Timer = HaproxyTimer;

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        self.schedule_first_checks(ctx, boot);
    }

    fn syn_backlog_full(&self) -> bool {
        self.listen_queue.len() as u32 >= self.backlog
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        self.loop_woke(ctx, rng);
        // Replies to HAProxy's own calls carry HAProxy's references; a
        // client's Connect/Request/Close carries the client's (whose bits may
        // look alike).
        let from_client = matches!(
            msg.kind,
            MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close
        );
        if msg.call.slot & CHECK_BIT != 0 && !from_client {
            let idx = (msg.call.slot & !CHECK_BIT) as usize;
            return self.on_check_reply(ctx, rng, idx, msg.call.generation, msg.kind);
        }
        match msg.kind {
            MsgKind::Connect(req) => {
                if self.actconn < self.maxconn {
                    self.accept(ctx, msg.from, msg.call, req, false);
                } else {
                    // Not accepted: waits in the kernel's listen queue.
                    self.listen_queue.push_back((msg.from, msg.call, req, false));
                }
            }
            MsgKind::Response { .. } | MsgKind::DbError(_) => {
                self.server_answered(ctx, msg.call, msg.kind, msg.peer)
            }
            MsgKind::Request(req) => self.client_request(ctx, &msg, req),
            MsgKind::Close => self.client_closed(ctx, &msg),
            MsgKind::Reset | MsgKind::Closed => {
                let answer = if self.http {
                    MsgKind::Response { status: 502 }
                } else {
                    msg.kind
                };
                self.with_attempt(msg.call, |h, s| {
                    if let Some(i) = h.session_server(s) {
                        h.health_adjust(ctx, i, Some("L7 invalid response"), true);
                    }
                    h.log_end(ctx, s, "SH");
                    h.end_session(ctx, s, Some(answer))
                });
            }
            MsgKind::Refused | MsgKind::Unreachable => {
                self.with_attempt(msg.call, |h, s| {
                    h.connect_failed(ctx, s, ConnFailure::SocketError)
                });
            }
            MsgKind::Established | MsgKind::Wire(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: HaproxyTimer) {
        self.loop_woke(ctx, rng);
        match t {
            HaproxyTimer::ResolversTick => self.resolvers_tick(),
            HaproxyTimer::ConnectDeadline => self.connect_expired(ctx),
            HaproxyTimer::ResponseDeadline => self.response_expired(ctx),
            HaproxyTimer::QueueDeadline => self.queue_expired(ctx),
            HaproxyTimer::IdleDeadline => self.idle_expired(ctx),
            HaproxyTimer::ResponseExact { attempt } => {
                if self
                    .response_deadline(attempt)
                    .is_some_and(|at| at <= ctx.now)
                {
                    self.response_timed_out(ctx, attempt);
                }
            }
            HaproxyTimer::Retry {
                session,
                redispatch,
            } => self.retry_now(ctx, session, redispatch),
            HaproxyTimer::CheckStart { server } => self.start_check(ctx, server as usize),
            HaproxyTimer::Warmup { server } => self.warmup_tick(ctx, server as usize),
            HaproxyTimer::CheckTimeout { server, seq } => {
                self.check_timed_out(ctx, rng, server as usize, seq)
            }
        }
    }

    fn on_established(&mut self, call: CallRef, at: SimTime) {
        if let Some(a) = self.attempts.get_mut(call.slot, call.generation)
            && let Some(s) = self.sessions.get_mut(a.session.slot, a.session.generation)
        {
            a.established_at = at;
            s.phase = Phase::Established;
            // `observe`: a successful connection clears the error count.
            // Only `observe` reads it: without it, the write would keep a
            // cold line of every server in bench-large's working set.
            if self.checks.observing
                && let Some(i) = s.srv
            {
                self.servers[i as usize].check.consecutive_errors = 0;
            }
        }
    }

    fn is_call_live(&self, call: CallRef) -> bool {
        if call.slot & CHECK_BIT != 0 {
            let i = (call.slot & !CHECK_BIT) as usize;
            return self
                .servers
                .get(i)
                .is_some_and(|s| s.check.in_flight && s.check.seq == call.generation);
        }
        self.attempts.contains(call.slot, call.generation)
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        let mut peers: Vec<(NodeId, CallRef)> = self
            .sessions
            .values()
            .map(|s| (s.client, s.client_call))
            .collect();
        peers.extend(self.listen_queue.iter().map(|&(c, call, _, _)| (c, call)));
        peers
    }
}
