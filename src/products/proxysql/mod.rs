//! ProxySQL 2.x in front of a Galera cluster (others.md §2): one
//! `mysql_galera_hostgroups` row, the Galera health check and the ping
//! monitor, passive shunning after connection errors, connection retries
//! bounded by `connect_timeout_server_max`, and error 9001 to the client when
//! its hostgroup has no usable server.
//!
//! Query rules are simplified to the usual read/write split: a write (POST)
//! goes to the writer hostgroup, a read (GET) to the reader hostgroup.
//!
//! What the model leaves out: `read_only` (the Galera model has none, so every
//! healthy node counts as `read_only = 0` and may write), `wsrep_desync` and
//! `wsrep_reject_queries`, `max_transactions_behind` (the Galera model exposes
//! no receive queue), `monitor_connect_*` (its failures are only logged by
//! ProxySQL), `query_retries_on_failure` (a query that loses its connection
//! after it was sent gets 2013), backend connection pooling, and ProxySQL's
//! admin interface.

mod config;
pub mod errors;
mod formulas;
mod product;
#[cfg(test)]
mod tests;

pub use config::ProxysqlSpec;

use crate::engine::{Dur, Rng, SimTime, Slab};
use crate::metrics::EventKind;
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NO_PEER, NodeId, Process, Req, ReqKind};
use crate::products::Timer;

/// Marks a monitor check's call reference (its slot in `checks`), apart
/// from the connection attempts' (slots in `attempts`).
const CHECK_BIT: u32 = 1 << 31;

/// ProxySQL's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxysqlTimer {
    /// A round of the Galera health check over every backend.
    GaleraRound,
    /// A round of the ping monitor over every backend.
    PingRound,
    /// A monitor check's timeout.
    CheckTimeout(CallRef),
    /// `connect_timeout_server` of one connection attempt.
    ConnectTimeout(CallRef),
    /// `connect_retries_delay` over: the query tries again.
    Retry(CallRef),
    /// `connect_timeout_server_max` of a query still without a connection.
    MaxTimeout(CallRef),
    /// `shun_recovery_time_sec` of backend `b` over.
    Unshun(u16),
}

impl From<ProxysqlTimer> for Timer {
    fn from(t: ProxysqlTimer) -> Timer {
        Timer::Proxysql(t)
    }
}

/// Where the Galera check put a backend.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Group {
    Writer,
    BackupWriter,
    Offline,
}

#[derive(Clone)]
struct Backend {
    node: NodeId,
    /// The last Galera check found it Synced, Primary and writable (or none
    /// has run yet: `mysql_servers` loads every node ONLINE).
    healthy: bool,
    group: Group,
    /// Consecutive Galera checks that timed out.
    timeouts: u32,
    /// Consecutive pings that failed.
    ping_fails: u32,
    /// SHUNNED until then.
    shunned_until: Option<SimTime>,
    /// Connection errors in the current second (`connect_error()`).
    err_second: u64,
    err_count: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CheckKind {
    Galera,
    Ping,
}

#[derive(Clone, Copy)]
struct Check {
    backend: u16,
    kind: CheckKind,
}

#[derive(Clone, Copy)]
struct Query {
    client: NodeId,
    client_call: CallRef,
    op: u32,
    write: bool,
    retries_left: u32,
    /// The attempt in flight, if any.
    attempt: Option<CallRef>,
    /// Waiting for a server of its hostgroup to become usable.
    waiting: bool,
}

#[derive(Clone, Copy)]
struct Attempt {
    query: CallRef,
    backend: u16,
    /// When its handshake completes (the query is sent then).
    established_at: SimTime,
}

#[derive(Clone)]
pub struct Proxysql {
    spec: ProxysqlSpec,
    backends: Vec<Backend>,
    checks: Slab<Check>,
    queries: Slab<Query>,
    attempts: Slab<Attempt>,
}

impl Proxysql {
    pub fn new(spec: &ProxysqlSpec, nodes: &[NodeId]) -> Proxysql {
        let mut p = Proxysql {
            spec: spec.clone(),
            backends: nodes
                .iter()
                .map(|&node| Backend {
                    node,
                    healthy: true,
                    group: Group::BackupWriter,
                    timeouts: 0,
                    ping_fails: 0,
                    shunned_until: None,
                    err_second: u64::MAX,
                    err_count: 0,
                })
                .collect(),
            checks: Slab::default(),
            queries: Slab::default(),
            attempts: Slab::default(),
        };
        p.assign_groups(None);
        p
    }

    /// The Galera hostgroup logic: healthy nodes keep or take the writer
    /// role up to `max_writers` (current writers first, then in
    /// `mysql_servers` order), the other healthy ones are backup writers,
    /// unhealthy ones go offline. Logs each move when `ctx` is given.
    fn assign_groups(&mut self, mut ctx: Option<&mut Ctx>) {
        let max = self.spec.max_writers as usize;
        let mut writers: Vec<usize> = (0..self.backends.len())
            .filter(|&i| self.backends[i].healthy && self.backends[i].group == Group::Writer)
            .take(max)
            .collect();
        for i in 0..self.backends.len() {
            if writers.len() >= max {
                break;
            }
            if self.backends[i].healthy && !writers.contains(&i) {
                writers.push(i);
            }
        }
        for i in 0..self.backends.len() {
            let b = &self.backends[i];
            let group = if !b.healthy {
                Group::Offline
            } else if writers.contains(&i) {
                Group::Writer
            } else {
                Group::BackupWriter
            };
            if group == b.group {
                continue;
            }
            let (from, node) = (b.group, b.node);
            self.backends[i].group = group;
            if let Some(ctx) = ctx.as_deref_mut() {
                let (kind, what) = match group {
                    Group::Writer => (
                        EventKind::Promoted,
                        format!("moved to writer_hostgroup {}", self.spec.writer_hostgroup),
                    ),
                    Group::BackupWriter if from == Group::Offline => (
                        EventKind::MarkedUp,
                        format!(
                            "Galera check OK: back to backup_writer_hostgroup {}",
                            self.spec.backup_writer_hostgroup
                        ),
                    ),
                    Group::BackupWriter => (
                        EventKind::Demoted,
                        format!(
                            "moved to backup_writer_hostgroup {}",
                            self.spec.backup_writer_hostgroup
                        ),
                    ),
                    Group::Offline => (
                        EventKind::MarkedDown,
                        format!(
                            "Galera check failed: moved to offline_hostgroup {}",
                            self.spec.offline_hostgroup
                        ),
                    ),
                };
                ctx.log(node, kind, what);
            }
        }
        if let Some(ctx) = ctx {
            if !self.backends.iter().any(|b| b.group == Group::Writer) {
                ctx.log(
                    ctx.me,
                    EventKind::NoServerLeft,
                    format!("writer_hostgroup {} is empty", self.spec.writer_hostgroup),
                );
            }
            self.wake_waiting(ctx);
        }
    }

    /// Backend `i` is in the hostgroup a write (or a read) goes to.
    fn serves(&self, i: usize, write: bool) -> bool {
        let g = self.backends[i].group;
        if write {
            return g == Group::Writer;
        }
        match self.spec.writer_is_also_reader {
            0 => false,
            1 => g == Group::Writer || g == Group::BackupWriter,
            _ => g == Group::BackupWriter,
        }
    }

    fn usable(&self, i: usize, now: SimTime) -> bool {
        self.backends[i].shunned_until.is_none_or(|t| t <= now)
    }

    fn start_monitor_round(&mut self, ctx: &mut Ctx, kind: CheckKind) {
        let (timeout, req) = match kind {
            CheckKind::Galera => (
                self.spec.monitor_galera_healthcheck_timeout,
                Req::once(ReqKind::HttpCheck, true),
            ),
            CheckKind::Ping => (
                self.spec.monitor_ping_timeout,
                Req::once(ReqKind::L4Check, true),
            ),
        };
        for i in 0..self.backends.len() {
            let (slot, generation) = self.checks.insert(Check {
                backend: i as u16,
                kind,
            });
            let c = CallRef {
                slot: slot | CHECK_BIT,
                generation,
            };
            ctx.send(self.backends[i].node, c, MsgKind::Connect(req));
            ctx.at(ctx.now + timeout, ProxysqlTimer::CheckTimeout(c));
        }
    }

    /// A monitor check ended: `Some(ok)` answered, `None` timed out.
    fn check_done(&mut self, ctx: &mut Ctx, c: CallRef, ok: Option<bool>) {
        let Some(check) = self.checks.remove(c.slot & !CHECK_BIT, c.generation) else {
            return;
        };
        let i = check.backend as usize;
        match check.kind {
            CheckKind::Galera => {
                let b = &mut self.backends[i];
                match ok {
                    Some(ok) => {
                        b.timeouts = 0;
                        b.healthy = ok;
                    }
                    None => {
                        b.timeouts += 1;
                        if b.timeouts >= self.spec.monitor_galera_healthcheck_max_timeout_count {
                            b.healthy = false;
                        }
                    }
                }
                self.assign_groups(Some(ctx));
            }
            CheckKind::Ping => {
                if ok == Some(true) {
                    self.backends[i].ping_fails = 0;
                    return;
                }
                self.backends[i].ping_fails += 1;
                if self.backends[i].ping_fails >= self.spec.monitor_ping_max_failures {
                    let n = self.backends[i].ping_fails;
                    self.shun(ctx, i, &format!("missed {n} heartbeats"));
                }
            }
        }
    }

    fn shun(&mut self, ctx: &mut Ctx, i: usize, why: &str) {
        if !self.usable(i, ctx.now) {
            return;
        }
        let until = ctx.now + Dur(Dur::S * self.spec.shun_recovery_time_sec as u64);
        self.backends[i].shunned_until = Some(until);
        ctx.log(
            self.backends[i].node,
            EventKind::MarkedDown,
            format!("SHUNNED: {why}"),
        );
        ctx.at(until, ProxysqlTimer::Unshun(i as u16));
    }

    /// `MySrvC::connect_error()`: `shun_on_failures` errors within one
    /// second shun the server.
    fn connect_error(&mut self, ctx: &mut Ctx, i: usize) {
        let sec = ctx.now.0 / Dur::S;
        let b = &mut self.backends[i];
        if b.err_second != sec {
            b.err_second = sec;
            b.err_count = 0;
        }
        b.err_count += 1;
        if b.err_count >= self.spec.shun_on_failures {
            let n = b.err_count;
            self.shun(ctx, i, &format!("{n} connection errors within one second"));
        }
    }

    fn accept(&mut self, ctx: &mut Ctx, client: NodeId, client_call: CallRef, req: Req) {
        let q = Query {
            client,
            client_call,
            op: req.op,
            write: !req.idempotent,
            retries_left: self.spec.connect_retries_on_failure,
            attempt: None,
            waiting: false,
        };
        let qref = CallRef::new(self.queries.insert(q));
        ctx.at(
            ctx.now + self.spec.connect_timeout_server_max,
            ProxysqlTimer::MaxTimeout(qref),
        );
        self.route(ctx, qref);
    }

    /// Picks a usable server of the query's hostgroup (at random: equal
    /// weights) and connects, or leaves the query waiting for one.
    fn route(&mut self, ctx: &mut Ctx, qref: CallRef) {
        let Some(q) = self.queries.get(qref.slot, qref.generation).copied() else {
            return;
        };
        let candidates: Vec<usize> = (0..self.backends.len())
            .filter(|&i| self.serves(i, q.write) && self.usable(i, ctx.now))
            .collect();
        let q = self
            .queries
            .get_mut(qref.slot, qref.generation)
            .expect("live");
        if candidates.is_empty() {
            q.waiting = true;
            return;
        }
        // A retry draws again (the attempt number is in the key).
        let i = candidates[pick(q.op ^ q.retries_left.rotate_left(16), candidates.len())];
        let aref = CallRef::new(self.attempts.insert(Attempt {
            query: qref,
            backend: i as u16,
            established_at: SimTime::NEVER,
        }));
        let q = self
            .queries
            .get_mut(qref.slot, qref.generation)
            .expect("live");
        q.waiting = false;
        q.attempt = Some(aref);
        let req = Req::work(!q.write, q.op);
        ctx.send(self.backends[i].node, aref, MsgKind::Connect(req));
        ctx.at(
            ctx.now + self.spec.connect_timeout_server,
            ProxysqlTimer::ConnectTimeout(aref),
        );
    }

    fn wake_waiting(&mut self, ctx: &mut Ctx) {
        let waiting: Vec<CallRef> = self
            .queries
            .keys()
            .into_iter()
            .map(CallRef::new)
            .filter(|r| self.queries.get(r.slot, r.generation).is_some_and(|q| q.waiting))
            .collect();
        for q in waiting {
            self.route(ctx, q);
        }
    }

    /// A connection attempt failed before the query was sent: count the
    /// error, retry after `connect_retries_delay` while retries and
    /// `connect_timeout_server_max` allow.
    fn attempt_failed(&mut self, ctx: &mut Ctx, aref: CallRef) {
        let Some(a) = self.attempts.remove(aref.slot, aref.generation) else {
            return;
        };
        self.connect_error(ctx, a.backend as usize);
        let Some(q) = self.queries.get_mut(a.query.slot, a.query.generation) else {
            return;
        };
        q.attempt = None;
        if q.retries_left == 0 {
            return self.fail(ctx, a.query, errors::MAX_CONNECT_TIMEOUT);
        }
        q.retries_left -= 1;
        ctx.at(
            ctx.now + self.spec.connect_retries_delay,
            ProxysqlTimer::Retry(a.query),
        );
    }

    fn reply(&mut self, ctx: &mut Ctx, qref: CallRef, kind: MsgKind) {
        let Some(q) = self.queries.remove(qref.slot, qref.generation) else {
            return;
        };
        if let Some(a) = q.attempt {
            self.attempts.remove(a.slot, a.generation);
        }
        ctx.send_peer(q.client, q.client_call, NO_PEER, kind);
    }

    fn fail(&mut self, ctx: &mut Ctx, qref: CallRef, e: crate::process::DbErrorCode) {
        if ctx.tracing()
            && let Some(q) = self.queries.get(qref.slot, qref.generation)
        {
            ctx.access(q.op, None, e.error.code.as_str());
        }
        self.reply(ctx, qref, MsgKind::DbError(e.error));
    }

    /// The backend's answer (or loss) on attempt `aref`.
    fn on_backend(&mut self, ctx: &mut Ctx, aref: CallRef, kind: MsgKind) {
        let Some(a) = self.attempts.get(aref.slot, aref.generation).copied() else {
            return;
        };
        match kind {
            MsgKind::Response { .. } | MsgKind::DbError(_) => {
                if ctx.tracing()
                    && let Some(q) = self.queries.get(a.query.slot, a.query.generation)
                {
                    let node = self.backends[a.backend as usize].node;
                    ctx.access(q.op, Some(node), "done");
                }
                self.reply(ctx, a.query, kind)
            }
            MsgKind::Refused | MsgKind::Unreachable if a.established_at > ctx.now => {
                self.attempt_failed(ctx, aref)
            }
            // Lost after the query was sent: no query retry in the model.
            _ => {
                self.connect_error(ctx, a.backend as usize);
                self.fail(ctx, a.query, errors::LOST_CONNECTION)
            }
        }
    }
}

/// A uniform pick among `n`, from the query's id and attempt (ProxySQL draws with
/// `rand()` weighted by `weight`; all weights are equal here).
fn pick(key: u32, n: usize) -> usize {
    // A multiplicative hash of the operation keeps the pick deterministic
    // without threading the random stream through every call site.
    ((key as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 33) as usize % n
}

impl Process for Proxysql {
    type Timer = ProxysqlTimer;

    fn crashed(&mut self, pristine: &Self) {
        self.clone_from(pristine);
    }

    /// The monitor threads run their rounds every interval from the
    /// process's start.
    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        let g = self.spec.monitor_galera_healthcheck_interval;
        let p = self.spec.monitor_ping_interval;
        let galera = ctx.now + boot.first(Dur::ZERO, g);
        ctx.at(galera, ProxysqlTimer::GaleraRound);
        ctx.at(ctx.now + boot.first(Dur::ZERO, p), ProxysqlTimer::PingRound);
    }

    fn on_message(&mut self, ctx: &mut Ctx, _rng: &mut Rng, msg: Msg) {
        match msg.kind {
            // From clients (whose own references may carry any bit).
            MsgKind::Connect(req) if req.kind == ReqKind::Work => {
                self.accept(ctx, msg.from, msg.call, req)
            }
            MsgKind::Connect(_) | MsgKind::Close | MsgKind::Wire(_) => {}
            // Requests on a kept connection: the model keeps none.
            MsgKind::Request(_) => ctx.send(msg.from, msg.call, MsgKind::Reset),
            // From backends: a monitor check's answer, or an attempt's.
            kind if msg.call.slot & CHECK_BIT != 0 => {
                let Some(c) = self
                    .checks
                    .get(msg.call.slot & !CHECK_BIT, msg.call.generation)
                    .copied()
                else {
                    return;
                };
                if msg.from != self.backends[c.backend as usize].node {
                    return;
                }
                let ok = match (c.kind, kind) {
                    // The handshake of the health query: its answer follows.
                    (CheckKind::Galera, MsgKind::Established) => return,
                    (CheckKind::Galera, MsgKind::Response { status }) => status == 200,
                    (CheckKind::Ping, MsgKind::Established) => true,
                    _ => false,
                };
                self.check_done(ctx, msg.call, Some(ok));
            }
            MsgKind::Established => {}
            kind => self.on_backend(ctx, msg.call, kind),
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _rng: &mut Rng, t: ProxysqlTimer) {
        match t {
            ProxysqlTimer::GaleraRound => {
                self.start_monitor_round(ctx, CheckKind::Galera);
                let at = ctx.now + self.spec.monitor_galera_healthcheck_interval;
                ctx.at(at, ProxysqlTimer::GaleraRound);
            }
            ProxysqlTimer::PingRound => {
                self.start_monitor_round(ctx, CheckKind::Ping);
                ctx.at(ctx.now + self.spec.monitor_ping_interval, ProxysqlTimer::PingRound);
            }
            ProxysqlTimer::CheckTimeout(c) => self.check_done(ctx, c, None),
            ProxysqlTimer::ConnectTimeout(a) => {
                if self
                    .attempts
                    .get(a.slot, a.generation)
                    .is_some_and(|x| x.established_at > ctx.now)
                {
                    self.attempt_failed(ctx, a);
                }
            }
            ProxysqlTimer::Retry(q) => {
                if self
                    .queries
                    .get(q.slot, q.generation)
                    .is_some_and(|x| x.attempt.is_none() && !x.waiting)
                {
                    self.route(ctx, q);
                }
            }
            ProxysqlTimer::MaxTimeout(q) => {
                // Still without a connection to its hostgroup.
                if self
                    .queries
                    .get(q.slot, q.generation)
                    .is_some_and(|x| {
                        x.attempt.is_none_or(|a| {
                            self.attempts
                                .get(a.slot, a.generation)
                                .is_none_or(|a| a.established_at > ctx.now)
                        })
                    })
                {
                    self.fail(ctx, q, errors::MAX_CONNECT_TIMEOUT);
                }
            }
            ProxysqlTimer::Unshun(i) => {
                let i = i as usize;
                if self.backends[i].shunned_until.is_some_and(|t| t <= ctx.now) {
                    self.backends[i].shunned_until = None;
                    self.backends[i].ping_fails = 0;
                    self.backends[i].err_count = 0;
                    ctx.log(
                        self.backends[i].node,
                        EventKind::MarkedUp,
                        "shun_recovery_time_sec over: ONLINE again",
                    );
                    self.wake_waiting(ctx);
                }
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
            || (call.slot & CHECK_BIT != 0
                && self.checks.contains(call.slot & !CHECK_BIT, call.generation))
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.queries
            .values()
            .map(|q| (q.client, q.client_call))
            .collect()
    }
}
