//! nginx 1.22 upstream (nginx.md): smooth weighted round robin, passive
//! failure accounting with `max_fails` / `fail_timeout` on nginx's whole-second
//! clock, per worker process unless a `zone` shares it, and the
//! `proxy_next_upstream` retry rule with its timeouts and tries.

pub mod describe;
pub mod formulas;

pub mod config;
mod product;

use crate::engine::{DeadlineFifo, Dur, Rng, SimTime, Slab};
use crate::metrics::EventKind;
use crate::process::NO_PEER;
use crate::process::{Boot, Process};
use crate::process::{CallRef, Ctx, Msg, MsgKind, NodeId, Req};
use crate::products::Timer;
use crate::products::nginx::config::{NextUpstream, NginxSpec};
use rand::Rng as _;

/// nginx's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NginxTimer {
    /// The wake-up of the `proxy_connect_timeout` deadlines.
    ConnectDeadline,
    /// The wake-up of the `proxy_read_timeout` deadlines.
    ReadDeadline,
    /// `proxy_read_timeout` of `attempt`, counted from its handshake (later
    /// than its deadline in the FIFO).
    ReadExact { attempt: CallRef },
    /// The wake-up of the `keepalive_timeout` deadlines.
    IdleDeadline,
}

impl From<NginxTimer> for Timer {
    fn from(t: NginxTimer) -> Timer {
        Timer::Nginx(t)
    }
}

#[derive(Clone)]
struct PeerCfg {
    node: NodeId,
    weight: i64,
    max_fails: u32,
    fail_timeout_s: u64,
    backup: bool,
}

/// `ngx_http_upstream_rr_peer_t`'s mutable part.
#[derive(Clone, Default)]
struct PeerState {
    fails: u32,
    checked: u64,
    accessed: u64,
    effective_weight: i64,
    current_weight: i64,
    /// Logged as disabled and not yet seen succeeding (for the event log only).
    disabled: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Failure {
    Error,
    Timeout,
    Status(u16),
}

#[derive(Clone, Copy)]
struct Request {
    client: NodeId,
    client_call: CallRef,
    worker: u16,
    idempotent: bool,
    op: u32,
    tried: u128,
    tries: u32,
    first_start: SimTime,
    peer: u16,
    attempt: CallRef,
    /// The client's kept connection the request came on, if any.
    conn: Option<CallRef>,
}

/// A client keep-alive connection: bound to the worker that accepted it.
#[derive(Clone, Copy)]
struct ClientConn {
    client: NodeId,
    call: CallRef,
    worker: u16,
    busy: bool,
    idle_since: SimTime,
}

#[derive(Clone, Copy)]
struct Attempt {
    req: CallRef,
    established_at: SimTime,
}

#[derive(Clone)]
pub struct Nginx {
    peers: Vec<PeerCfg>,
    /// One peer-state array per worker process, or one shared (`zone`).
    state: Vec<Vec<PeerState>>,
    workers: u32,
    single: bool,
    connect_timeout: Dur,
    read_timeout: Dur,
    next_upstream: NextUpstream,
    tries_limit: u32,
    next_upstream_timeout: Dur,
    /// `proxy_ignore_client_abort`.
    ignore_client_abort: bool,
    /// Phase of nginx's seconds clock (`ngx_time()`) relative to the run.
    clock_offset: Dur,
    requests: Slab<Request>,
    attempts: Slab<Attempt>,
    connect_deadlines: DeadlineFifo,
    read_deadlines: DeadlineFifo,
    /// `keepalive_timeout` (zero: client connections close after each reply).
    keepalive_timeout: Dur,
    conns: Slab<ClientConn>,
    idle_deadlines: DeadlineFifo,
}

impl Nginx {
    pub fn new(spec: &NginxSpec, nodes: &[NodeId], rng: &mut Rng) -> Nginx {
        let peers: Vec<PeerCfg> = spec
            .servers
            .iter()
            .zip(nodes)
            .map(|(s, &node)| PeerCfg {
                node,
                weight: s.weight as i64,
                max_fails: s.max_fails,
                fail_timeout_s: s.fail_timeout_s,
                backup: s.backup,
            })
            .collect();
        let fresh: Vec<PeerState> = peers
            .iter()
            .map(|p| PeerState {
                effective_weight: p.weight,
                ..PeerState::default()
            })
            .collect();
        let copies = if spec.zone {
            1
        } else {
            spec.worker_processes as usize
        };
        Nginx {
            single: peers.len() == 1,
            state: vec![fresh; copies],
            workers: spec.worker_processes,
            peers,
            connect_timeout: spec.proxy_connect_timeout,
            read_timeout: spec.proxy_read_timeout,
            next_upstream: spec.proxy_next_upstream,
            tries_limit: spec.proxy_next_upstream_tries,
            next_upstream_timeout: spec.proxy_next_upstream_timeout,
            ignore_client_abort: spec.proxy_ignore_client_abort,
            clock_offset: Dur(rng.random_range(0..Dur::S)),
            requests: Slab::default(),
            attempts: Slab::default(),
            connect_deadlines: DeadlineFifo::default(),
            read_deadlines: DeadlineFifo::default(),
            keepalive_timeout: spec.keepalive_timeout,
            conns: Slab::default(),
            idle_deadlines: DeadlineFifo::default(),
        }
    }

    /// `ngx_time()`: whole seconds.
    fn now_s(&self, now: SimTime) -> u64 {
        (now.0 + self.clock_offset.0) / Dur::S
    }

    fn worker_state(&mut self, worker: u16) -> &mut Vec<PeerState> {
        let i = if self.state.len() == 1 {
            0
        } else {
            worker as usize
        };
        &mut self.state[i]
    }

    fn accept(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        client: NodeId,
        client_call: CallRef,
        req: Req,
    ) {
        // The kernel hands each new connection to one of the workers; a kept
        // connection stays with it.
        let worker = rng.random_range(0..self.workers) as u16;
        let conn = (req.keep && !self.keepalive_timeout.is_zero()).then(|| {
            let c = ClientConn {
                client,
                call: client_call,
                worker,
                busy: true,
                idle_since: ctx.now,
            };
            CallRef::new(self.conns.insert(c))
        });
        self.start_request(ctx, client, client_call, worker, req, conn);
    }

    /// A request on the client connection `conn` (if kept) handled by `worker`.
    fn start_request(
        &mut self,
        ctx: &mut Ctx,
        client: NodeId,
        client_call: CallRef,
        worker: u16,
        req: Req,
        conn: Option<CallRef>,
    ) {
        let backups = self.peers.iter().filter(|p| p.backup).count() as u32;
        let mut tries = self.peers.len() as u32 - backups + backups;
        if self.tries_limit > 0 {
            tries = tries.min(self.tries_limit);
        }
        let r = Request {
            client,
            client_call,
            worker,
            idempotent: req.idempotent,
            op: req.op,
            tried: 0,
            tries,
            first_start: ctx.now,
            peer: 0,
            attempt: CallRef::default(),
            conn,
        };
        let rref = CallRef::new(self.requests.insert(r));
        self.try_next_peer(ctx, rref);
    }

    /// `ngx_http_upstream_get_round_robin_peer()`: primaries, then backups.
    fn select(&mut self, now: SimTime, worker: u16, tried: u128) -> Option<usize> {
        let now_s = self.now_s(now);
        if self.single {
            return (tried & 1 == 0).then_some(0);
        }
        let si = if self.state.len() == 1 {
            0
        } else {
            worker as usize
        };
        let (peers, state) = (&self.peers, &mut self.state[si]);
        for backup_tier in [false, true] {
            let mut best: Option<(usize, i64)> = None;
            let mut total = 0i64;
            for (i, p) in peers.iter().enumerate() {
                if p.backup != backup_tier || tried & (1u128 << i) != 0 {
                    continue;
                }
                let s = &mut state[i];
                if p.max_fails > 0
                    && s.fails >= p.max_fails
                    && now_s.saturating_sub(s.checked) <= p.fail_timeout_s
                {
                    continue;
                }
                s.current_weight += s.effective_weight;
                total += s.effective_weight;
                if s.effective_weight < p.weight {
                    s.effective_weight += 1;
                }
                if best.is_none_or(|(_, w)| s.current_weight > w) {
                    best = Some((i, s.current_weight));
                }
            }
            if let Some((b, _)) = best {
                let s = &mut state[b];
                s.current_weight -= total;
                if now_s.saturating_sub(s.checked) > peers[b].fail_timeout_s {
                    s.checked = now_s; // a probe of a failed peer, or a routine refresh
                }
                return Some(b);
            }
        }
        None
    }

    fn try_next_peer(&mut self, ctx: &mut Ctx, rref: CallRef) {
        let Some(r) = self.requests.get(rref.slot, rref.generation).copied() else {
            return;
        };
        let Some(p) = self.select(ctx.now, r.worker, r.tried) else {
            // "no live upstreams": NGX_HTTP_UPSTREAM_FT_NOLIVE is never retried.
            ctx.access(r.op, None, "502");
            return self.finish(ctx, rref, 502);
        };
        let aref = CallRef::new(self.attempts.insert(Attempt {
            req: rref,
            established_at: SimTime::NEVER,
        }));
        let r = self
            .requests
            .get_mut(rref.slot, rref.generation)
            .expect("live");
        r.tried |= 1u128 << p;
        r.peer = p as u16;
        r.attempt = aref;
        let req = Req::work(r.idempotent, r.op);
        ctx.send(self.peers[p].node, aref, MsgKind::Connect(req));
        let attempts = &self.attempts;
        self.connect_deadlines
            .trim(|d| attempts.contains(d.slot, d.generation));
        self.read_deadlines
            .trim(|d| attempts.contains(d.slot, d.generation));
        let at = ctx.now + self.connect_timeout;
        ctx.arm_with(
            &mut self.connect_deadlines,
            at,
            aref,
            NginxTimer::ConnectDeadline,
        );
        let at = ctx.now + self.read_timeout;
        ctx.arm_with(&mut self.read_deadlines, at, aref, NginxTimer::ReadDeadline);
    }

    fn on_response(&mut self, ctx: &mut Ctx, aref: CallRef, status: u16) {
        let nu = self.next_upstream;
        let listed = match status {
            500 => nu.http_500,
            502 => nu.http_502,
            503 => nu.http_503,
            504 => nu.http_504,
            _ => false,
        };
        if listed {
            return self.attempt_failed(ctx, aref, Failure::Status(status));
        }
        let Some(a) = self.attempts.remove(aref.slot, aref.generation) else {
            return;
        };
        let Some(r) = self.requests.get(a.req.slot, a.req.generation).copied() else {
            return;
        };
        self.peer_succeeded(ctx, r.worker, r.peer as usize);
        self.log_try(ctx, r, status);
        self.finish(ctx, a.req, status);
    }

    /// `ngx_http_upstream_free_round_robin_peer()` on success.
    fn peer_succeeded(&mut self, ctx: &mut Ctx, worker: u16, p: usize) {
        let node = self.peers[p].node;
        let s = &mut self.worker_state(worker)[p];
        if s.accessed < s.checked {
            s.fails = 0;
        }
        if s.disabled && s.fails == 0 {
            s.disabled = false;
            ctx.log(
                node,
                EventKind::MarkedUp,
                format!("worker {worker}: request served again after a probe"),
            );
        }
    }

    /// `ngx_http_upstream_free_round_robin_peer()` with NGX_PEER_FAILED.
    fn peer_failed(&mut self, ctx: &mut Ctx, worker: u16, p: usize) {
        if self.single {
            return; // max_fails is ignored for a one-server upstream
        }
        let now_s = self.now_s(ctx.now);
        let cfg = self.peers[p].clone();
        let s = &mut self.worker_state(worker)[p];
        s.fails += 1;
        s.accessed = now_s;
        s.checked = now_s;
        if cfg.max_fails > 0 {
            s.effective_weight = (s.effective_weight - cfg.weight / cfg.max_fails as i64).max(0);
            if s.fails >= cfg.max_fails && !s.disabled {
                s.disabled = true;
                ctx.log(
                    cfg.node,
                    EventKind::MarkedDown,
                    format!("worker {worker}: upstream server temporarily disabled"),
                );
            }
        }
    }

    /// `ngx_http_upstream_next()`.
    fn attempt_failed(&mut self, ctx: &mut Ctx, aref: CallRef, failure: Failure) {
        let Some(a) = self.attempts.remove(aref.slot, aref.generation) else {
            return;
        };
        let Some(r) = self.requests.get_mut(a.req.slot, a.req.generation) else {
            return;
        };
        let sent = a.established_at <= ctx.now;
        r.tries = r.tries.saturating_sub(1);
        let r = *r;
        let counts = match failure {
            Failure::Error | Failure::Timeout => true,
            Failure::Status(_) => true, // only reached when listed in proxy_next_upstream
        };
        if counts {
            self.peer_failed(ctx, r.worker, r.peer as usize);
        }
        let status = match failure {
            Failure::Timeout => 504,
            Failure::Error => 502,
            Failure::Status(s) => s,
        };
        self.log_try(ctx, r, status);
        let nu = self.next_upstream;
        let allowed = !nu.off
            && match failure {
                Failure::Error => nu.error,
                Failure::Timeout => nu.timeout,
                Failure::Status(_) => true,
            }
            && (!sent || r.idempotent || nu.non_idempotent);
        let out_of_time = !self.next_upstream_timeout.is_zero()
            && ctx.now - r.first_start >= self.next_upstream_timeout;
        if r.tries == 0 || !allowed || out_of_time || self.single {
            return self.finish(ctx, a.req, status);
        }
        self.try_next_peer(ctx, a.req);
    }

    /// `$upstream_addr` and `$upstream_status`: one entry per try.
    fn log_try(&self, ctx: &mut Ctx, r: Request, status: u16) {
        if ctx.tracing() {
            ctx.access(r.op, Some(self.peers[r.peer as usize].node), &status.to_string());
        }
    }

    fn finish(&mut self, ctx: &mut Ctx, rref: CallRef, status: u16) {
        let Some(r) = self.requests.remove(rref.slot, rref.generation) else {
            return;
        };
        let answer = MsgKind::Response { status };
        match r
            .conn
            .and_then(|c| self.conns.get_mut(c.slot, c.generation).map(|k| (c, k)))
        {
            Some((c, k)) => {
                k.busy = false;
                k.idle_since = ctx.now;
                ctx.send_peer(r.client, r.client_call, c.slot, answer);
                let at = ctx.now + self.keepalive_timeout;
                ctx.arm_with(&mut self.idle_deadlines, at, c, NginxTimer::IdleDeadline);
            }
            None => ctx.send_peer(r.client, r.client_call, NO_PEER, answer),
        }
    }

    /// The kept client connection a message is about (checked against its sender).
    fn client_conn(&self, msg: &Msg) -> Option<CallRef> {
        let generation = self.conns.generation_of(msg.peer)?;
        let k = self.conns.get(msg.peer, generation)?;
        (k.client == msg.from && k.call == msg.call).then_some(CallRef {
            slot: msg.peer,
            generation,
        })
    }

    /// The client closed its connection (`msg` is its FIN). nginx 1.22
    /// watches the client's connection while it waits for the upstream
    /// (ngx_http_upstream_init_request() installs
    /// ngx_http_upstream_rd_check_broken_connection() unless
    /// `proxy_ignore_client_abort`): on EOF it finalizes the request with
    /// NGX_HTTP_CLIENT_CLOSED_REQUEST (499 in the log), closing the upstream
    /// connection — or, between two tries, making no further one
    /// (ngx_http_upstream_check_broken_connection()). The upstream, which
    /// may already have the request, decides itself whether to go on. With
    /// `proxy_ignore_client_abort on` nothing happens: the request goes on,
    /// tries included, and its answer meets a closed socket.
    fn client_closed(&mut self, ctx: &mut Ctx, msg: &Msg) {
        let conn = self.client_conn(msg);
        let rref = self
            .requests
            .iter()
            .find(|(_, _, r)| match conn {
                Some(c) => r.conn == Some(c),
                None => r.client == msg.from && r.client_call == msg.call,
            })
            .map(|(slot, generation, _)| CallRef { slot, generation });
        if let Some(rref) = rref {
            if self.ignore_client_abort {
                if let Some(r) = self.requests.get_mut(rref.slot, rref.generation) {
                    // Its answer has nobody to go to: no kept connection.
                    r.conn = None;
                }
            } else {
                let r = self.requests.remove(rref.slot, rref.generation).expect("found");
                if let Some(a) = self.attempts.remove(r.attempt.slot, r.attempt.generation)
                    && a.established_at <= ctx.now
                {
                    ctx.send(self.peers[r.peer as usize].node, r.attempt, MsgKind::Close);
                }
                self.log_try(ctx, r, 499);
            }
        }
        if let Some(c) = conn {
            self.conns.remove(c.slot, c.generation);
        }
    }

    fn deadlines(&mut self, connect: bool) -> &mut DeadlineFifo {
        if connect {
            &mut self.connect_deadlines
        } else {
            &mut self.read_deadlines
        }
    }

    fn idle_expired(&mut self, ctx: &mut Ctx) {
        let (conns, ka, now) = (&self.conns, self.keepalive_timeout, ctx.now);
        // Only the deadline of a connection's latest idle spell counts; a busy
        // one goes idle again later, with a later deadline.
        ctx.expire_with(&mut self.idle_deadlines, NginxTimer::IdleDeadline, |c, at| {
            conns
                .get(c.slot, c.generation)
                .is_some_and(|k| k.idle_since + ka == at && (!k.busy || k.idle_since == now))
        });
        while let Some(d) = self.idle_deadlines.next_due().map(CallRef::from) {
            let Some(k) = self.conns.get(d.slot, d.generation).copied() else {
                continue;
            };
            if !k.busy && k.idle_since + self.keepalive_timeout <= ctx.now {
                self.conns.remove(d.slot, d.generation);
                ctx.send(k.client, k.call, MsgKind::Closed);
            }
        }
    }
}

impl Process for Nginx {
    type Timer = NginxTimer;

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    fn start(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, _boot: Boot) {}

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            // Checked by a balancer in front of it (report 4's HAProxy):
            // answered by the worker, from a location of its own.
            MsgKind::Connect(req) if req.kind == crate::process::ReqKind::HttpCheck => {
                ctx.send(msg.from, msg.call, MsgKind::Response { status: 200 });
            }
            MsgKind::Connect(req) => self.accept(ctx, rng, msg.from, msg.call, req),
            MsgKind::Response { status } => self.on_response(ctx, msg.call, status),
            // An SQL error is no HTTP response: nginx's `invalid_header`,
            // which the model counts as `error`.
            MsgKind::Refused
            | MsgKind::Unreachable
            | MsgKind::Reset
            | MsgKind::Closed
            | MsgKind::DbError(_) => self.attempt_failed(ctx, msg.call, Failure::Error),
            MsgKind::Request(req) => match self.client_conn(&msg) {
                Some(c) => {
                    let k = self.conns.get_mut(c.slot, c.generation).expect("found");
                    if !k.busy {
                        k.busy = true;
                        let worker = k.worker;
                        self.start_request(ctx, msg.from, msg.call, worker, req, Some(c));
                    }
                }
                // A connection it does not know (closed, or before a restart): RST.
                None => ctx.send(msg.from, msg.call, MsgKind::Reset),
            },
            MsgKind::Close => self.client_closed(ctx, &msg),
            MsgKind::Established | MsgKind::Wire(_) => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _rng: &mut Rng, t: NginxTimer) {
        match t {
            NginxTimer::ConnectDeadline | NginxTimer::ReadDeadline => {
                let connect = t == NginxTimer::ConnectDeadline;
                let attempts = &self.attempts;
                if connect {
                    // An attempt is established once: one established by
                    // its deadline never times out connecting.
                    ctx.expire_with(&mut self.connect_deadlines, t, |a, at| {
                        attempts
                            .get(a.slot, a.generation)
                            .is_some_and(|a| a.established_at > at)
                    });
                } else {
                    ctx.expire_with(&mut self.read_deadlines, t, |a, _| {
                        attempts.contains(a.slot, a.generation)
                    });
                }
                while let Some(aref) = self.deadlines(connect).next_due().map(CallRef::from) {
                    let Some(a) = self.attempts.get(aref.slot, aref.generation).copied() else {
                        continue;
                    };
                    if connect {
                        if a.established_at > ctx.now {
                            self.attempt_failed(ctx, aref, Failure::Timeout);
                        }
                    } else if a.established_at != SimTime::NEVER {
                        // proxy_read_timeout counts from when the request was sent.
                        let exact = a.established_at + self.read_timeout;
                        if exact <= ctx.now {
                            self.attempt_failed(ctx, aref, Failure::Timeout);
                        } else {
                            ctx.at(exact, NginxTimer::ReadExact { attempt: aref });
                        }
                    }
                }
            }
            NginxTimer::IdleDeadline => self.idle_expired(ctx),
            NginxTimer::ReadExact { attempt } => {
                self.attempt_failed(ctx, attempt, Failure::Timeout)
            }
        }
    }

    fn on_established(&mut self, call: CallRef, at: SimTime) {
        if let Some(a) = self.attempts.get_mut(call.slot, call.generation) {
            a.established_at = at;
        }
    }

    fn is_call_live(&self, call: CallRef) -> bool {
        self.attempts.contains(call.slot, call.generation)
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        let kept = self
            .conns
            .values()
            .filter(|k| !k.busy)
            .map(|k| (k.client, k.call));
        self.requests
            .values()
            .map(|r| (r.client, r.client_call))
            .chain(kept)
            .collect()
    }
}
