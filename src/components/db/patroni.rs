//! A PostgreSQL node managed by Patroni 3.0 with an etcd3 DCS.
//!
//! Two processes in one node: PostgreSQL (client sessions, the data log,
//! streaming replication, pg_rewind) and Patroni (the HA loop every
//! `loop_wait`, the leader key on an etcd lease with `ttl`, DCS calls retried
//! until `retry_timeout`, the leader race with the REST poll of the other
//! members, promotion, demotion, switchover, restart, synchronous_mode, the
//! REST API that HAProxy checks). Either process can be killed or stopped on
//! its own (`Admin::Process`).

mod breakdown;

pub use breakdown::{CheckTiming, failover_breakdown, for_cluster};

use super::etcd::{
    self, C_KEEPALIVE, C_PROPOSE, C_READ, C_RESP, C_STATE, NONE, OP_CREATE_LEADER,
    OP_DELETE_LEADER, OP_GRANT, OP_PUT_FAILOVER, OP_PUT_OPTIME, OP_PUT_SYNC, R_ERR, R_OK, op,
    pack2, unpack2,
};
use super::{Admin, DataLog, FinalData, Query, Sessions};
use crate::components::dist::Sampler;
use crate::components::{CallRef, Ctx, Msg, MsgKind, NodeId, Req, ReqKind};
use crate::config::spec::{DatabaseSpec, DbKind, Process};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::metrics::outcome::db;
use rand::Rng as _;

/// The REST endpoint HAProxy's `option httpchk` asks (api.py `do_GET`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckEndpoint {
    Primary,
    Replica,
    ReadOnly,
    Health,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchdogMode {
    Off,
    /// `automatic` or `required`: the softdog resets the host when Patroni
    /// has not pinged it for `ttl - safety_margin`.
    On,
}

// ---- Peer tags between Patroni nodes (replication, REST poll) ----
const WAL: u8 = 40;
const WAL_ACK: u8 = 41;
const STREAM_START: u8 = 42;
const STREAM_OK: u8 = 43;
const DIVERGED: u8 = 44;
const PROBE: u8 = 45;
const PROBE_ANS: u8 = 46;
const STATUS: u8 = 47;

// ---- timers ----
const T_CYCLE: u8 = 1;
const T_DCS: u8 = 2;
const T_QUERY: u8 = 3;
const T_WAL_SEND: u8 = 4;
const T_PG: u8 = 5;
const T_POLL: u8 = 6;
const T_WATCHDOG: u8 = 7;
const T_DCS_RETRY: u8 = 8;

// T_PG actions
const PG_START_DONE: u32 = 1;
const PG_STOP_DONE: u32 = 2;
const PG_PROMOTE_DONE: u32 = 3;

/// `Ha.fetch_node_status()`: the REST poll of one member, no retry.
pub const REST_POLL_TIMEOUT: Dur = Dur(2 * Dur::S);
/// `Retry(max_delay=1)`: pause after a DCS error reply before retrying.
const DCS_RETRY_PAUSE: Dur = Dur(Dur::S);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pg {
    Down,
    Starting,
    Running,
    Stopping,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Primary,
    Replica,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Proc {
    Alive,
    Stopped,
    Dead,
}

/// What follows a PostgreSQL stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AfterStop {
    /// Restart in the same role (patronictl restart).
    Restart,
    /// Start as a read-only replica (demote).
    StartReplica,
    /// Demote for a switchover: release the key, then start as replica.
    ReleaseThenReplica,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Purpose {
    Grant,
    UpdateLock,
    Rebind,
    Optime,
    Touch,
    Read,
    Acquire,
    Release,
    Failover,
    Sync(u32),
}

#[derive(Clone, Copy, Debug)]
struct DcsReq {
    id: u32,
    kind: u8,
    a: u32,
    purpose: Purpose,
    deadline: SimTime,
    host: usize,
}

#[derive(Clone, Copy, Debug)]
struct Standby {
    node: NodeId,
    sent: u32,
    acked: u32,
    last_seen: SimTime,
}

#[derive(Clone, Copy, Debug)]
struct PollResult {
    node: NodeId,
    done: bool,
    ok: bool,
    flags: u32,
    wal: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Cache {
    leader: u32,
    optime: u32,
    failover: u32,
    sync: u32,
    revision: u32,
}

#[derive(Clone)]
struct Cfg {
    ttl: Dur,
    loop_wait: Dur,
    retry_timeout: Dur,
    attempt_timeout: Dur,
    max_lag_writes: u64,
    primary_start_timeout: Dur,
    sync_mode: bool,
    strict: bool,
    nofailover: Vec<bool>,
    endpoint: CheckEndpoint,
    watchdog: WatchdogMode,
    safety_margin: Dur,
    wal_sender_timeout: Dur,
    query: Sampler,
    repl: Sampler,
    promote: Sampler,
    start: Sampler,
    stop: Sampler,
}

#[derive(Clone)]
pub struct Patroni {
    me: NodeId,
    idx: usize,
    members: Vec<NodeId>,
    dcs: Vec<NodeId>,
    cluster: u32,
    cfg: Cfg,
    // ---- on disk ----
    log: DataLog,
    timeline: u32,
    // ---- PostgreSQL ----
    pg: Pg,
    pg_frozen: bool,
    role: Role,
    promoting: bool,
    pg_epoch: u32,
    after_stop: AfterStop,
    pg_down_since: SimTime,
    following: u32,
    stream_ok: bool,
    rewinding: Option<(u32, u32)>,
    standbys: Vec<Standby>,
    last_send_at: SimTime,
    sync_standby: u32,
    sessions: Sessions,
    max_connections: u32,
    in_service: Vec<Query>,
    held: Vec<Query>,
    waiting_sync: Vec<(CallRef, u32)>,
    writable: bool,
    // ---- Patroni ----
    patroni: Proc,
    life: u32,
    has_lock: bool,
    lock_valid_until: SimTime,
    last_lock_update: SimTime,
    lease: u32,
    rebind: bool,
    cache: Cache,
    cycle_running: bool,
    cycle_epoch: u32,
    cycle_started: SimTime,
    wake_pending: bool,
    dcs_host: usize,
    reqs: Vec<DcsReq>,
    next_req: u32,
    poll: Vec<PollResult>,
    poll_epoch: u32,
    switchover: Option<u32>,
    first: bool,
}

/// `_calculate_timeouts()` (dcs/etcd.py): the per-request timeout for
/// `hosts` etcd hosts within `retry_timeout`.
pub fn attempt_timeout(hosts: usize, retry_timeout: Dur) -> Dur {
    let t = retry_timeout.as_secs_f64();
    let mut nodes = hosts.max(1);
    let mut max_retries = 4 - nodes.min(3);
    let mut per_node = t;
    let mut retries = 1;
    while nodes > 0 {
        per_node = t / nodes as f64;
        if per_node >= 1.0 {
            while retries < max_retries && per_node / (retries + 1) as f64 >= 1.0 {
                retries += 1;
            }
            per_node /= retries as f64;
            break;
        }
        nodes -= 1;
        max_retries = 1;
    }
    Dur::from_secs_f64(per_node.max(0.001))
}

fn peer(tag: u8, a: u32, b: u32) -> MsgKind {
    MsgKind::Peer { tag, a, b }
}

impl Patroni {
    pub fn new(spec: &DatabaseSpec, me: NodeId, ids: &super::DbIds) -> Patroni {
        let DbKind::Patroni(p) = &spec.kind else {
            panic!("a Patroni node needs a Patroni spec");
        };
        let idx = ids.members.iter().position(|&m| m == me).expect("a member");
        let nofailover = spec
            .members
            .iter()
            .map(|m| p.nofailover.contains(m))
            .collect();
        let cfg = Cfg {
            ttl: p.ttl,
            loop_wait: p.loop_wait,
            retry_timeout: p.retry_timeout,
            attempt_timeout: attempt_timeout(ids.dcs.len(), p.retry_timeout),
            max_lag_writes: p.maximum_lag_on_failover / p.wal_per_write,
            primary_start_timeout: p.primary_start_timeout,
            sync_mode: p.synchronous_mode,
            strict: p.synchronous_mode_strict,
            nofailover,
            endpoint: p.check_endpoint,
            watchdog: p.watchdog,
            safety_margin: p.safety_margin,
            wal_sender_timeout: p.wal_sender_timeout,
            query: Sampler::new(&p.query_time),
            repl: Sampler::new(&p.replication_delay),
            promote: Sampler::new(&p.promote_time),
            start: Sampler::new(&p.start_time),
            stop: Sampler::new(&p.stop_time),
        };
        let bootstrap = idx == 0;
        Patroni {
            me,
            idx,
            members: ids.members.clone(),
            dcs: ids.dcs.clone(),
            cluster: spec.cluster_index,
            cfg,
            log: DataLog::default(),
            timeline: 1,
            pg: Pg::Running,
            pg_frozen: false,
            role: if bootstrap {
                Role::Primary
            } else {
                Role::Replica
            },
            promoting: false,
            pg_epoch: 0,
            after_stop: AfterStop::Restart,
            pg_down_since: SimTime::ZERO,
            following: if bootstrap { NONE } else { ids.members[0] },
            stream_ok: false,
            rewinding: None,
            standbys: Vec::new(),
            last_send_at: SimTime::ZERO,
            sync_standby: NONE,
            sessions: Sessions::new(p.max_connections),
            max_connections: p.max_connections,
            in_service: Vec::new(),
            held: Vec::new(),
            waiting_sync: Vec::new(),
            writable: false,
            patroni: Proc::Alive,
            life: 0,
            has_lock: false,
            lock_valid_until: SimTime::ZERO,
            last_lock_update: SimTime::ZERO,
            lease: NONE,
            rebind: false,
            cache: Cache {
                leader: NONE,
                ..Cache::default()
            },
            cycle_running: false,
            cycle_epoch: 0,
            cycle_started: SimTime::ZERO,
            wake_pending: false,
            dcs_host: idx,
            reqs: Vec::new(),
            next_req: 1,
            poll: Vec::new(),
            poll_epoch: 0,
            switchover: None,
            first: true,
        }
    }

    fn name<'c>(&self, ctx: &'c Ctx, n: NodeId) -> &'c str {
        &ctx.names[n as usize]
    }

    // ------------------------------------------------------------ start --

    pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.first {
            // Time zero: the cluster is already bootstrapped (member 1 the
            // primary, the others streaming from it); the daemons' HA loops
            // run with an arbitrary phase.
            self.first = false;
            self.pg = Pg::Running;
            self.update_writable(ctx);
            if self.role == Role::Replica {
                self.stream_start(ctx);
            }
            self.start_patroni(ctx, rng, true);
            return;
        }
        // A restart after the node (host or both processes) died: Patroni
        // starts PostgreSQL as a replica; the HA loop decides the rest.
        self.role = Role::Replica;
        self.following = NONE;
        self.pg = Pg::Down;
        self.start_patroni(ctx, rng, false);
        self.pg_start(ctx, rng, Role::Replica);
    }

    fn start_patroni(&mut self, ctx: &mut Ctx, rng: &mut Rng, random_phase: bool) {
        self.patroni = Proc::Alive;
        self.life = self.life.wrapping_add(1);
        self.has_lock = false;
        self.lock_valid_until = SimTime::ZERO;
        self.lease = NONE;
        self.rebind = true;
        self.reqs.clear();
        self.poll.clear();
        self.cycle_running = false;
        self.wake_pending = false;
        self.cycle_epoch = self.cycle_epoch.wrapping_add(1);
        let first = if random_phase {
            Dur(rng.random_range(0..self.cfg.loop_wait.0.max(1)))
        } else {
            Dur::ZERO
        };
        ctx.timer(ctx.now + first, T_CYCLE, self.cycle_epoch, 0);
    }

    // ------------------------------------------------------- PostgreSQL --

    fn update_writable(&mut self, ctx: &mut Ctx) {
        let w = self.pg == Pg::Running
            && !self.pg_frozen
            && self.role == Role::Primary
            && !self.promoting
            && self.sync_ok(ctx.now);
        if w != self.writable {
            self.writable = w;
            if let Some(h) = ctx.rec.history.as_mut() {
                h.set_writable(ctx.now, self.cluster, self.me, w.then_some(self.me));
            }
        }
    }

    /// A commit would be acknowledged: not waiting on a missing standby.
    fn sync_ok(&self, now: SimTime) -> bool {
        if !self.cfg.sync_mode {
            return true;
        }
        if self.sync_standby == NONE {
            return !self.cfg.strict;
        }
        self.standbys.iter().any(|s| {
            s.node == self.sync_standby && now.since(s.last_seen) < self.cfg.wal_sender_timeout
        })
    }

    fn pg_start(&mut self, ctx: &mut Ctx, rng: &mut Rng, role: Role) {
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        self.pg = Pg::Starting;
        self.role = role;
        self.promoting = false;
        self.update_writable(ctx);
        let d = self.cfg.start.sample(rng);
        ctx.timer(ctx.now + d, T_PG, self.pg_epoch, PG_START_DONE);
    }

    fn pg_stop(&mut self, ctx: &mut Ctx, rng: &mut Rng, then: AfterStop) {
        if matches!(self.pg, Pg::Down | Pg::Stopping) {
            return;
        }
        // Fast shutdown: sessions are terminated; walsenders deliver the
        // shutdown checkpoint (everything committed) to connected standbys.
        self.flush_wal(ctx);
        self.sessions.close_all(ctx);
        self.in_service.clear();
        self.held.clear();
        self.waiting_sync.clear();
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        self.pg = Pg::Stopping;
        self.after_stop = then;
        self.update_writable(ctx);
        let d = self.cfg.stop.sample(rng);
        ctx.timer(ctx.now + d, T_PG, self.pg_epoch, PG_STOP_DONE);
    }

    /// PostgreSQL dies (SIGKILL of the postmaster, watchdog reset).
    fn pg_crash(&mut self, ctx: &mut Ctx) {
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        self.pg = Pg::Down;
        self.pg_frozen = false;
        self.promoting = false;
        self.pg_down_since = ctx.now;
        self.sessions.reset_all(ctx);
        self.in_service.clear();
        self.held.clear();
        self.waiting_sync.clear();
        self.standbys.clear();
        self.stream_ok = false;
        self.update_writable(ctx);
    }

    fn on_pg_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, action: u32) {
        match action {
            PG_START_DONE => {
                self.pg = Pg::Running;
                if self.role == Role::Replica {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "postgres started as a read-only replica",
                    );
                    self.stream_start(ctx);
                }
                self.update_writable(ctx);
                self.wake(ctx);
            }
            PG_STOP_DONE => {
                self.pg = Pg::Down;
                self.standbys.clear();
                match self.after_stop {
                    AfterStop::Restart => {
                        let role = self.role;
                        self.pg_start(ctx, rng, role);
                    }
                    AfterStop::StartReplica => {
                        self.following = NONE;
                        self.pg_start(ctx, rng, Role::Replica);
                    }
                    AfterStop::ReleaseThenReplica => {
                        self.release_lock_and_restart_as_replica(ctx, rng)
                    }
                }
            }
            PG_WATCHDOG => {
                let deadline =
                    self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin);
                if self.patroni != Proc::Alive && self.role == Role::Primary && ctx.now >= deadline
                {
                    self.watchdog_reset(ctx, rng);
                }
            }
            PG_PROMOTE_DONE => {
                self.promoting = false;
                self.timeline += 1;
                ctx.log(
                    self.me,
                    EventKind::Promoted,
                    format!("postgres promoted, timeline {}", self.timeline),
                );
                self.update_writable(ctx);
                self.wake(ctx);
            }
            _ => {}
        }
    }

    fn promote(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.role == Role::Primary && !self.promoting {
            return;
        }
        self.role = Role::Primary;
        self.following = NONE;
        self.stream_ok = false;
        self.rewinding = None;
        self.sync_standby = NONE;
        if self.pg != Pg::Running {
            // Starting: promotes once started (next cycle).
            return;
        }
        self.promoting = true;
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        let d = self.cfg.promote.sample(rng);
        ctx.timer(ctx.now + d, T_PG, self.pg_epoch, PG_PROMOTE_DONE);
        self.update_writable(ctx);
    }

    fn on_query(&mut self, ctx: &mut Ctx, rng: &mut Rng, q: Query) {
        match self.pg {
            Pg::Starting | Pg::Stopping => {
                // 57P03 "the database system is starting up / shutting down".
                return self.sessions.reply(ctx, q.id, db::NOT_READY);
            }
            Pg::Down => return self.sessions.reply(ctx, q.id, db::NOT_READY),
            Pg::Running => {}
        }
        if self.pg_frozen {
            self.held.push(q);
            return;
        }
        self.in_service.push(q);
        let d = self.cfg.query.sample(rng);
        let d = Dur((d.0 as f64 * ctx.slow) as u64);
        ctx.timer(ctx.now + d, T_QUERY, q.id.slot, q.id.generation);
    }

    fn on_query_done(&mut self, ctx: &mut Ctx, rng: &mut Rng, id: CallRef) {
        let Some(k) = self.in_service.iter().position(|q| q.id == id) else {
            return;
        };
        let q = self.in_service.swap_remove(k);
        if !self.sessions.is_live(id) {
            return;
        }
        if !q.write {
            if let Some(h) = ctx.rec.history.as_mut() {
                let log = &self.log;
                h.read(q.op, self.me, |w| log.contains(w));
            }
            return self.sessions.reply(ctx, id, 200);
        }
        if self.role != Role::Primary || self.promoting {
            // 25006 "cannot execute INSERT in a read-only transaction".
            return self.sessions.reply(ctx, id, db::READ_ONLY);
        }
        self.log.push(q.op);
        let index = self.log.len() as u32;
        if let Some(h) = ctx.rec.history.as_mut() {
            h.committed(q.op, self.me, ctx.now);
        }
        let at = (ctx.now + self.cfg.repl.sample(rng)).max(self.last_send_at);
        self.last_send_at = at;
        ctx.timer(at, T_WAL_SEND, index, self.pg_epoch);
        let wait = self.cfg.sync_mode && (self.sync_standby != NONE || !self.async_allowed());
        if wait {
            let acked = self
                .standbys
                .iter()
                .find(|s| s.node == self.sync_standby)
                .map_or(0, |s| s.acked);
            if acked < index {
                self.waiting_sync.push((id, index));
                return;
            }
        }
        self.sessions.reply(ctx, id, 200);
    }

    /// Sends every write up to `upto` to the standbys that lack it.
    fn send_wal(&mut self, ctx: &mut Ctx, upto: u32) {
        let upto = upto.min(self.log.len() as u32);
        for s in &mut self.standbys {
            while s.sent < upto {
                s.sent += 1;
                let w = self.log.get(s.sent as usize - 1).expect("in log");
                ctx.send_peer(
                    s.node,
                    CallRef {
                        slot: self.timeline,
                        generation: 0,
                    },
                    0,
                    peer(WAL, s.sent, w),
                );
            }
        }
    }

    fn flush_wal(&mut self, ctx: &mut Ctx) {
        if self.role == Role::Primary {
            let n = self.log.len() as u32;
            self.send_wal(ctx, n);
        }
    }

    fn stream_start(&mut self, ctx: &mut Ctx) {
        if self.following == NONE || self.pg != Pg::Running || self.rewinding.is_some() {
            return;
        }
        let len = self.log.len() as u32;
        let last = if len == 0 {
            NONE
        } else {
            self.log.get(len as usize - 1).expect("len > 0")
        };
        ctx.send(
            self.following,
            CallRef::default(),
            peer(STREAM_START, len, last),
        );
    }

    fn on_replication(&mut self, ctx: &mut Ctx, from: NodeId, tag: u8, a: u32, b: u32) {
        if self.pg != Pg::Running || self.pg_frozen {
            return;
        }
        match tag {
            STREAM_START if self.role == Role::Primary => {
                let len = self.log.len() as u32;
                let prefix = a <= len && (a == 0 || self.log.get(a as usize - 1) == Some(b));
                if !prefix {
                    ctx.send(from, CallRef::default(), peer(DIVERGED, len, 0));
                    return;
                }
                self.standbys.retain(|s| s.node != from);
                self.standbys.push(Standby {
                    node: from,
                    sent: a,
                    acked: a,
                    last_seen: ctx.now,
                });
                ctx.send(from, CallRef::default(), peer(STREAM_OK, len, 0));
                let upto = self.log.len() as u32;
                self.send_wal(ctx, upto);
                self.update_writable(ctx);
            }
            STREAM_OK if from == self.following => self.stream_ok = true,
            DIVERGED if from == self.following && self.rewinding.is_none() => {
                let hi = a.min(self.log.len() as u32);
                self.rewinding = Some((0, hi));
                self.probe(ctx);
            }
            PROBE if self.role == Role::Primary => {
                let m = a == 0 || self.log.get(a as usize - 1) == Some(b);
                ctx.send(from, CallRef::default(), peer(PROBE_ANS, a, m as u32));
            }
            PROBE_ANS if from == self.following => {
                if let Some((lo, hi)) = self.rewinding {
                    let mid = (lo + hi).div_ceil(2);
                    if a != mid {
                        return;
                    }
                    self.rewinding = Some(if b == 1 { (mid, hi) } else { (lo, mid - 1) });
                    self.probe(ctx);
                }
            }
            WAL if from == self.following => {
                let len = self.log.len() as u32;
                if a == len + 1 {
                    self.log.push(b);
                } else if a > len + 1 {
                    self.stream_ok = false;
                    return self.stream_start(ctx);
                }
                let len = self.log.len() as u32;
                ctx.send(from, CallRef::default(), peer(WAL_ACK, len, 0));
            }
            WAL_ACK if self.role == Role::Primary => {
                if let Some(s) = self.standbys.iter_mut().find(|s| s.node == from) {
                    s.acked = s.acked.max(a);
                    s.last_seen = ctx.now;
                    if from == self.sync_standby {
                        let acked = s.acked;
                        let mut i = 0;
                        while i < self.waiting_sync.len() {
                            if self.waiting_sync[i].1 <= acked {
                                let (id, _) = self.waiting_sync.swap_remove(i);
                                self.sessions.reply(ctx, id, 200);
                            } else {
                                i += 1;
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// pg_rewind: finds the common prefix with the new primary by probing,
    /// then truncates to it and streams.
    fn probe(&mut self, ctx: &mut Ctx) {
        let Some((lo, hi)) = self.rewinding else {
            return;
        };
        if lo >= hi {
            self.rewinding = None;
            let len = self.log.len();
            if (lo as usize) < len {
                self.log.truncate(lo as usize);
                ctx.log(
                    self.me,
                    EventKind::Info,
                    format!(
                        "pg_rewind: discarded {} writes the new primary never had",
                        len - lo as usize
                    ),
                );
            }
            return self.stream_start(ctx);
        }
        let mid = (lo + hi).div_ceil(2);
        let w = self.log.get(mid as usize - 1).expect("mid <= len");
        ctx.send(self.following, CallRef::default(), peer(PROBE, mid, w));
    }

    // ----------------------------------------------------------- DCS ----

    fn dcs_call(&mut self, ctx: &mut Ctx, kind: u8, a: u32, purpose: Purpose) {
        let id = self.next_req;
        self.next_req = self.next_req.wrapping_add(1).max(1);
        let r = DcsReq {
            id,
            kind,
            a,
            purpose,
            deadline: ctx.now + self.cfg.retry_timeout,
            host: self.dcs_host,
        };
        self.reqs.push(r);
        self.dcs_send(ctx, r);
    }

    fn dcs_send(&mut self, ctx: &mut Ctx, r: DcsReq) {
        let to = self.dcs[r.host % self.dcs.len()];
        ctx.send(
            to,
            CallRef {
                slot: r.id,
                generation: self.life,
            },
            peer(r.kind, r.a, 0),
        );
        let at = (ctx.now + self.cfg.attempt_timeout).min(r.deadline);
        ctx.timer(at, T_DCS, r.id, self.life);
    }

    /// The attempt of request `id` failed (timeout or error): the next etcd
    /// host, until the deadline.
    fn dcs_retry(&mut self, ctx: &mut Ctx, rng: &mut Rng, id: u32, pause: Dur) {
        let Some(k) = self.reqs.iter().position(|r| r.id == id) else {
            return;
        };
        if ctx.now + pause >= self.reqs[k].deadline {
            let r = self.reqs.swap_remove(k);
            return self.dcs_done(ctx, rng, r.purpose, R_ERR, 0);
        }
        self.dcs_host = (self.reqs[k].host + 1) % self.dcs.len();
        self.reqs[k].host = self.dcs_host;
        if pause.is_zero() {
            let r = self.reqs[k];
            self.dcs_send(ctx, r);
        } else {
            // A fresh attempt after the pause: a new id ignores late replies.
            let new = self.next_req;
            self.next_req = self.next_req.wrapping_add(1).max(1);
            self.reqs[k].id = new;
            ctx.timer(ctx.now + pause, T_DCS_RETRY, new, self.life);
        }
    }

    fn on_dcs_resp(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        call: CallRef,
        result: u32,
        value: u32,
    ) {
        if call.generation != self.life {
            return;
        }
        let Some(k) = self.reqs.iter().position(|r| r.id == call.slot) else {
            return;
        };
        if result == R_ERR {
            return self.dcs_retry(ctx, rng, call.slot, DCS_RETRY_PAUSE);
        }
        let r = self.reqs.swap_remove(k);
        self.dcs_done(ctx, rng, r.purpose, result, value);
    }

    fn on_state(&mut self, ctx: &mut Ctx, rng: &mut Rng, from: NodeId, s: Cache) {
        if !self.dcs.contains(&from) {
            return;
        }
        if s.revision < self.cache.revision {
            return;
        }
        let before = self.cache.leader;
        self.cache = s;
        let read = self.reqs.iter().position(|r| r.purpose == Purpose::Read);
        if let Some(k) = read {
            self.reqs.swap_remove(k);
            return self.dcs_done(ctx, rng, Purpose::Read, R_OK, 0);
        }
        // The watch: a change of the leader key wakes the loop at once.
        if s.leader != before && !(self.has_lock && s.leader == self.me) {
            self.wake(ctx);
        }
    }

    fn dcs_done(&mut self, ctx: &mut Ctx, rng: &mut Rng, p: Purpose, result: u32, value: u32) {
        match p {
            Purpose::Grant => {
                if result == R_OK {
                    self.lease = value;
                    self.cycle_main(ctx, rng);
                } else {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "Error communicating with DCS (lease grant)",
                    );
                    self.cycle_end(ctx);
                }
            }
            Purpose::UpdateLock => match result {
                R_OK => {
                    self.has_lock = true;
                    self.last_lock_update = self.cycle_started;
                    self.lock_valid_until = self.cycle_started + self.cfg.ttl;
                    self.arm_watchdog(ctx);
                    self.leader_actions(ctx, rng);
                }
                R_ERR if !self.has_lock && self.role == Role::Replica => {
                    // A replica that found its own name in the key: the DCS
                    // error ends the cycle (_handle_dcs_error), no promotion.
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "Error communicating with DCS: failed to update leader lock, not promoting",
                    );
                    self.cycle_end(ctx);
                }
                R_ERR => {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "Error communicating with DCS: failed to update leader lock",
                    );
                    self.lose_lock(
                        ctx,
                        rng,
                        "demoting self because DCS is not accessible and I was a leader",
                    );
                    self.cycle_end(ctx);
                }
                _ => {
                    // The lease is gone: the key expired under us.
                    self.lease = NONE;
                    self.lose_lock(
                        ctx,
                        rng,
                        "demoting self because I do not have the lock and I was a leader",
                    );
                    self.cycle_end(ctx);
                }
            },
            Purpose::Rebind => {
                if result == R_OK {
                    self.rebind = false;
                }
            }
            Purpose::Read => {
                if result == R_OK {
                    self.decide(ctx, rng);
                } else {
                    ctx.log(self.me, EventKind::Info, "Error communicating with DCS");
                    if self.has_lock {
                        self.lose_lock(
                            ctx,
                            rng,
                            "demoting self because DCS is not accessible and I was a leader",
                        );
                    }
                    self.cycle_end(ctx);
                }
            }
            Purpose::Acquire => {
                if result == R_OK {
                    self.has_lock = true;
                    self.rebind = false;
                    self.cache.leader = self.me;
                    self.last_lock_update = ctx.now;
                    self.lock_valid_until = ctx.now + self.cfg.ttl;
                    self.arm_watchdog(ctx);
                    ctx.log(
                        self.me,
                        EventKind::Elected,
                        "acquired session lock as a leader",
                    );
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "promoted self to leader by acquiring session lock",
                    );
                    self.promote(ctx, rng);
                    if self.switchover.is_some() || self.cache.failover != 0 {
                        self.switchover = None;
                        self.dcs_call(ctx, C_PROPOSE, op(OP_PUT_FAILOVER, 0), Purpose::Failover);
                    }
                    let o = self.log.len() as u32;
                    self.dcs_call(ctx, C_PROPOSE, op(OP_PUT_OPTIME, o), Purpose::Optime);
                } else {
                    if value != NONE && result != R_ERR {
                        self.cache.leader = value;
                        ctx.log(
                            self.me,
                            EventKind::Info,
                            "following new leader after trying and failing to obtain lock",
                        );
                        self.follow(ctx, rng, value);
                    } else if result != R_ERR && value == NONE {
                        // Our lease is gone: grant a new one next cycle.
                        self.lease = NONE;
                    }
                }
                self.cycle_end(ctx);
            }
            Purpose::Sync(standby) => {
                if result == R_OK && self.role == Role::Primary {
                    self.sync_standby = standby;
                    self.cache.sync = pack2(self.me, standby);
                    self.release_sync_waiters(ctx);
                    self.update_writable(ctx);
                }
            }
            Purpose::Optime | Purpose::Touch | Purpose::Release | Purpose::Failover => {}
        }
    }

    /// Deletes the leader key if held, then starts postgres as a replica
    /// following nobody yet.
    fn release_lock_and_restart_as_replica(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.has_lock {
            self.has_lock = false;
            self.lock_valid_until = SimTime::ZERO;
            self.dcs_call(
                ctx,
                C_PROPOSE,
                op(OP_DELETE_LEADER, self.me),
                Purpose::Release,
            );
        }
        self.following = NONE;
        self.pg_start(ctx, rng, Role::Replica);
    }

    fn release_sync_waiters(&mut self, ctx: &mut Ctx) {
        let acked = if self.sync_standby == NONE {
            if self.async_allowed() { u32::MAX } else { 0 }
        } else {
            self.standbys
                .iter()
                .find(|s| s.node == self.sync_standby)
                .map_or(0, |s| s.acked)
        };
        let mut i = 0;
        while i < self.waiting_sync.len() {
            if self.waiting_sync[i].1 <= acked {
                let (id, _) = self.waiting_sync.swap_remove(i);
                self.sessions.reply(ctx, id, 200);
            } else {
                i += 1;
            }
        }
    }

    // ------------------------------------------------------- HA loop ----

    fn wake(&mut self, ctx: &mut Ctx) {
        if self.patroni != Proc::Alive {
            return;
        }
        if self.cycle_running {
            self.wake_pending = true;
        } else {
            self.cycle_epoch = self.cycle_epoch.wrapping_add(1);
            ctx.timer(ctx.now, T_CYCLE, self.cycle_epoch, 0);
        }
    }

    fn cycle_start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.cycle_running = true;
        self.wake_pending = false;
        self.cycle_started = ctx.now;
        self.cycle_epoch = self.cycle_epoch.wrapping_add(1);
        ctx.timer(ctx.now + self.cfg.loop_wait, T_CYCLE, self.cycle_epoch, 1);
        if self.lease == NONE {
            let ttl = (self.cfg.ttl.0 / Dur::S).clamp(2, 0x3fff) as u32;
            return self.dcs_call(
                ctx,
                C_PROPOSE,
                op(OP_GRANT, self.me << 14 | ttl),
                Purpose::Grant,
            );
        }
        self.cycle_main(ctx, rng);
    }

    fn cycle_main(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        // The replica side of the stream: status (hot standby feedback) and
        // a new attempt when not streaming.
        if self.role == Role::Replica && self.pg == Pg::Running && self.following != NONE {
            if self.stream_ok {
                let len = self.log.len() as u32;
                ctx.send(self.following, CallRef::default(), peer(WAL_ACK, len, 0));
            } else {
                self.stream_start(ctx);
            }
        }
        self.postgres_health(ctx, rng);
        if self.has_lock {
            // update_lock(): lease keepalive, then /optime/leader.
            if self.rebind {
                self.dcs_call(
                    ctx,
                    C_PROPOSE,
                    op(etcd::OP_UPDATE_LEADER, self.lease),
                    Purpose::Rebind,
                );
            }
            self.dcs_call(ctx, C_KEEPALIVE, self.lease, Purpose::UpdateLock);
            let o = self.log.len() as u32;
            self.dcs_call(ctx, C_PROPOSE, op(OP_PUT_OPTIME, o), Purpose::Optime);
        } else {
            // touch_member() keeps our lease; get_cluster() reads the keys.
            self.dcs_call(ctx, C_KEEPALIVE, self.lease, Purpose::Touch);
            self.dcs_call(ctx, C_READ, 0, Purpose::Read);
        }
    }

    /// PostgreSQL not running while Patroni is: restart it (in place for a
    /// lock holder within primary_start_timeout).
    fn postgres_health(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.pg != Pg::Down {
            return;
        }
        if self.has_lock && self.role == Role::Primary {
            let down = ctx.now.since(self.pg_down_since);
            if self.cfg.primary_start_timeout.is_zero() || down >= self.cfg.primary_start_timeout {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "releasing the leader lock: primary_start_timeout",
                );
                self.release_lock_and_restart_as_replica(ctx, rng);
            } else {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "starting as readonly because i had the session lock",
                );
                // Crash recovery, start read-only; promoted at the next
                // cycle (woken when the start finishes).
                self.pg_start(ctx, rng, Role::Replica);
                self.role = Role::Replica;
            }
        } else {
            ctx.log(self.me, EventKind::Info, "starting postgres as a replica");
            self.pg_start(ctx, rng, Role::Replica);
        }
    }

    fn lose_lock(&mut self, ctx: &mut Ctx, rng: &mut Rng, why: &str) {
        let was = self.has_lock;
        self.has_lock = false;
        self.lock_valid_until = SimTime::ZERO;
        if self.role == Role::Primary && matches!(self.pg, Pg::Running | Pg::Starting) {
            ctx.log(self.me, EventKind::Demoted, why.to_string());
            // demote('offline'): fast stop, start as a standby of nobody.
            self.pg_stop(ctx, rng, AfterStop::StartReplica);
        } else if was {
            ctx.log(self.me, EventKind::Info, why.to_string());
        }
    }

    /// The lock holder's part of a cycle, after update_lock succeeded.
    fn leader_actions(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.pg == Pg::Running && self.role == Role::Replica && !self.promoting {
            ctx.log(
                self.me,
                EventKind::Info,
                "promoted self to leader because I had the session lock",
            );
            self.promote(ctx, rng);
        }
        // Standbys silent for wal_sender_timeout are gone.
        let (now, t) = (ctx.now, self.cfg.wal_sender_timeout);
        self.standbys.retain(|s| now.since(s.last_seen) < t);
        if self.cfg.sync_mode && self.role == Role::Primary && self.pg == Pg::Running {
            self.manage_sync(ctx);
        }
        if let Some(c) = self.switchover
            && self.pg == Pg::Running
            && self.role == Role::Primary
            && !self.promoting
        {
            self.switchover = None;
            let cand = self.switchover_candidate(c);
            if cand != NONE {
                ctx.log(
                    self.me,
                    EventKind::Demoted,
                    format!(
                        "manual failover: demoting myself, candidate {}",
                        self.name(ctx, cand)
                    ),
                );
                self.dcs_call(
                    ctx,
                    C_PROPOSE,
                    op(OP_PUT_FAILOVER, pack2(self.me, cand)),
                    Purpose::Failover,
                );
                self.cache.failover = pack2(self.me, cand);
                self.pg_stop(ctx, rng, AfterStop::ReleaseThenReplica);
            } else {
                ctx.log(self.me, EventKind::Info, "switchover: no healthy candidate");
            }
        }
        self.update_writable(ctx);
        self.cycle_end(ctx);
    }

    fn switchover_candidate(&self, wanted: u32) -> u32 {
        let ok = |s: &Standby| !self.cfg.nofailover[self.member_index(s.node)];
        if wanted != NONE {
            return if self.standbys.iter().any(|s| s.node == wanted && ok(s)) {
                wanted
            } else {
                NONE
            };
        }
        if self.cfg.sync_mode && self.sync_standby != NONE {
            return self.sync_standby;
        }
        self.standbys
            .iter()
            .filter(|s| ok(s))
            .max_by_key(|s| (s.acked, u32::MAX - s.node))
            .map_or(NONE, |s| s.node)
    }

    fn member_index(&self, n: NodeId) -> usize {
        self.members.iter().position(|&m| m == n).unwrap_or(0)
    }

    /// synchronous_mode without a sync standby: a commit may be acknowledged
    /// without one only once /sync says so (leader = me, no standby), so no
    /// replica can promote over writes it never had. After a restart the key
    /// may still name the old standby: until it is rewritten, commits wait.
    fn async_allowed(&self) -> bool {
        !self.cfg.strict && self.cache.sync == pack2(self.me, NONE)
    }

    /// synchronous_mode: keep a streaming, caught-up standby in /sync.
    fn manage_sync(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let alive = |s: &Standby| now.since(s.last_seen) < self.cfg.wal_sender_timeout;
        let current_ok = self
            .standbys
            .iter()
            .any(|s| s.node == self.sync_standby && alive(s));
        if current_ok {
            return;
        }
        let len = self.log.len() as u32;
        let pick = self
            .standbys
            .iter()
            .filter(|s| alive(s) && s.acked >= len)
            .map(|s| s.node)
            .min();
        match pick {
            Some(n) => {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    format!(
                        "Assigning synchronous standby status to {}",
                        self.name(ctx, n)
                    ),
                );
                self.dcs_call(
                    ctx,
                    C_PROPOSE,
                    op(OP_PUT_SYNC, pack2(self.me, n)),
                    Purpose::Sync(n),
                );
            }
            None if !self.cfg.strict
                && (self.sync_standby != NONE || self.cache.sync != pack2(self.me, NONE)) =>
            {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "No standbys available: synchronous replication off",
                );
                self.dcs_call(
                    ctx,
                    C_PROPOSE,
                    op(OP_PUT_SYNC, pack2(self.me, NONE)),
                    Purpose::Sync(NONE),
                );
            }
            None => {
                // A new primary: /sync must name it (and no standby) so that
                // only it may promote; the old primary's entry is stale.
                if unpack2(self.cache.sync).0 != self.me {
                    self.dcs_call(
                        ctx,
                        C_PROPOSE,
                        op(OP_PUT_SYNC, pack2(self.me, NONE)),
                        Purpose::Sync(NONE),
                    );
                }
            }
        }
    }

    /// A non-holder read the cluster: follow, demote or race.
    fn decide(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let leader = self.cache.leader;
        if leader == self.me {
            // Our name in the key (a restarted Patroni, a demoted leader whose
            // key has not expired, or a stale serializable read): has_lock()
            // is true, but process_healthy_cluster() promotes only once
            // update_lock(True) succeeds (ha.py); else "not promoting because
            // failed to update leader lock in DCS".
            if self.rebind {
                self.dcs_call(
                    ctx,
                    C_PROPOSE,
                    op(etcd::OP_UPDATE_LEADER, self.lease),
                    Purpose::Rebind,
                );
            }
            return self.dcs_call(ctx, C_KEEPALIVE, self.lease, Purpose::UpdateLock);
        }
        if leader != NONE {
            if self.role == Role::Primary && matches!(self.pg, Pg::Running | Pg::Starting) {
                ctx.log(
                    self.me,
                    EventKind::Demoted,
                    "demoting self because I do not have the lock and I was a leader",
                );
                self.pg_stop(ctx, rng, AfterStop::StartReplica);
                self.following = leader;
            } else {
                self.follow(ctx, rng, leader);
            }
            return self.cycle_end(ctx);
        }
        self.race(ctx, rng);
    }

    fn follow(&mut self, ctx: &mut Ctx, _rng: &mut Rng, leader: u32) {
        if self.following != leader {
            self.following = leader;
            self.stream_ok = false;
            self.rewinding = None;
        }
        if self.role == Role::Replica && !self.stream_ok {
            self.stream_start(ctx);
        }
    }

    /// No leader key: is_healthiest_node(), then the race for the key.
    fn race(&mut self, ctx: &mut Ctx, _rng: &mut Rng) {
        if self.pg != Pg::Running || self.cfg.nofailover[self.idx] {
            return self.cycle_end(ctx);
        }
        let (_, fo_cand) = unpack2(self.cache.failover);
        let switchover = self.cache.failover != 0 && fo_cand != NONE;
        if switchover && fo_cand != self.me {
            // Manual failover to another member: let it take the key.
            return self.cycle_end(ctx);
        }
        let (sync_leader, sync_standby) = unpack2(self.cache.sync);
        if self.cfg.sync_mode
            && self.cache.sync != 0
            && sync_leader != NONE
            && self.me != sync_leader
            && self.me != sync_standby
        {
            return self.cycle_end(ctx);
        }
        if !switchover {
            let lag = (self.cache.optime as u64).saturating_sub(self.log.len() as u64);
            if lag > self.cfg.max_lag_writes {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "My wal position exceeds maximum replication lag",
                );
                return self.cycle_end(ctx);
            }
        }
        // Poll every other member's REST API in parallel.
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        self.poll.clear();
        for (i, &m) in self.members.iter().enumerate() {
            if m == self.me || self.cfg.nofailover[i] {
                continue;
            }
            self.poll.push(PollResult {
                node: m,
                done: false,
                ok: false,
                flags: 0,
                wal: 0,
            });
            ctx.send(
                m,
                CallRef {
                    slot: i as u32,
                    generation: self.poll_epoch,
                },
                MsgKind::Connect(Req::once(ReqKind::HttpCheck, true)),
            );
        }
        if self.poll.is_empty() {
            return self.race_decide(ctx);
        }
        ctx.timer(
            ctx.now + REST_POLL_TIMEOUT,
            T_POLL,
            self.poll_epoch,
            self.life,
        );
    }

    fn poll_answer(&mut self, ctx: &mut Ctx, call: CallRef, ok: bool, flags: u32, wal: u32) {
        if call.generation != self.poll_epoch || self.poll.is_empty() {
            return;
        }
        let Some(&m) = self.members.get(call.slot as usize) else {
            return;
        };
        if let Some(p) = self.poll.iter_mut().find(|p| p.node == m && !p.done) {
            *p = PollResult {
                node: m,
                done: true,
                ok,
                flags,
                wal,
            };
        }
        if self.poll.iter().all(|p| p.done) {
            self.race_decide(ctx);
        }
    }

    fn race_decide(&mut self, ctx: &mut Ctx) {
        let mine = self.log.len() as u32;
        let (sync_leader, _) = unpack2(self.cache.sync);
        let switchover = self.cache.failover != 0;
        let mut healthy = true;
        for p in std::mem::take(&mut self.poll) {
            if !p.ok {
                continue;
            }
            if p.flags & 1 != 0 && p.flags & 2 == 0 {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    format!("Primary ({}) is still alive", self.name(ctx, p.node)),
                );
                healthy = false;
            } else if p.wal > mine && !switchover && !(self.cfg.sync_mode && p.node == sync_leader)
            {
                healthy = false;
            }
        }
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        if !healthy || self.cache.leader != NONE || self.pg != Pg::Running || self.lease == NONE {
            return self.cycle_end(ctx);
        }
        self.dcs_call(
            ctx,
            C_PROPOSE,
            op(OP_CREATE_LEADER, self.lease),
            Purpose::Acquire,
        );
    }

    fn cycle_end(&mut self, ctx: &mut Ctx) {
        if !self.cycle_running {
            return;
        }
        // Requests still out (the race) end the cycle when answered.
        if self.reqs.iter().any(|r| {
            matches!(
                r.purpose,
                Purpose::Acquire | Purpose::UpdateLock | Purpose::Read | Purpose::Grant
            )
        }) || !self.poll.is_empty()
        {
            return;
        }
        self.cycle_running = false;
        if self.wake_pending {
            self.wake_pending = false;
            self.cycle_epoch = self.cycle_epoch.wrapping_add(1);
            ctx.timer(ctx.now, T_CYCLE, self.cycle_epoch, 0);
        }
    }

    fn arm_watchdog(&mut self, ctx: &mut Ctx) {
        if self.cfg.watchdog == WatchdogMode::On {
            let at = self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin);
            ctx.timer(at, T_WATCHDOG, self.life, 0);
        }
    }

    // -------------------------------------------------------- events ----

    pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                if self.patroni != Proc::Alive {
                    return; // a stopped Patroni does not answer
                }
                if self.members.contains(&msg.from) {
                    let mut flags = 0;
                    if self.pg == Pg::Running {
                        flags |= 1;
                    }
                    if self.role == Role::Replica || self.promoting {
                        flags |= 2;
                    }
                    let wal = self.log.len() as u32;
                    ctx.send(msg.from, msg.call, peer(STATUS, flags, wal));
                } else {
                    let status = self.rest_status(ctx.now);
                    ctx.send(msg.from, msg.call, MsgKind::Response { status });
                }
            }
            MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    self.on_query(ctx, rng, q);
                }
            }
            MsgKind::Refused | MsgKind::Unreachable if self.patroni == Proc::Alive => {
                self.poll_answer(ctx, msg.call, false, 0, 0);
            }
            MsgKind::Peer { tag, a, b } => match tag {
                STATUS if self.patroni == Proc::Alive => {
                    self.poll_answer(ctx, msg.call, true, a, b);
                }
                C_RESP if self.patroni == Proc::Alive => self.on_dcs_resp(ctx, rng, msg.call, a, b),
                C_STATE if self.patroni == Proc::Alive => {
                    let s = Cache {
                        leader: a,
                        optime: b,
                        failover: msg.call.slot,
                        sync: msg.call.generation,
                        revision: msg.peer,
                    };
                    self.on_state(ctx, rng, msg.from, s);
                }
                WAL..=PROBE_ANS => self.on_replication(ctx, msg.from, tag, a, b),
                _ => {}
            },
            _ => {}
        }
    }

    /// The REST answer for HAProxy's check (api.py do_GET).
    fn rest_status(&self, now: SimTime) -> u16 {
        let running = self.pg == Pg::Running;
        let leader = self.has_lock && self.lock_valid_until > now;
        let ok = match self.cfg.endpoint {
            CheckEndpoint::Primary => leader,
            CheckEndpoint::Replica => running && self.role == Role::Replica && !leader,
            CheckEndpoint::ReadOnly => leader || (running && self.role == Role::Replica),
            CheckEndpoint::Health => running,
        };
        if ok { 200 } else { 503 }
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: crate::components::RawTimer) {
        match t.kind {
            T_QUERY => self.on_query_done(
                ctx,
                rng,
                CallRef {
                    slot: t.a,
                    generation: t.b,
                },
            ),
            T_WAL_SEND if t.b == self.pg_epoch && self.role == Role::Primary => {
                self.send_wal(ctx, t.a)
            }
            T_PG if t.a == self.pg_epoch => self.on_pg_timer(ctx, rng, t.b),
            _ if self.patroni != Proc::Alive
                // Patroni's own timers wait while it is stopped; a killed
                // Patroni has none (its life counter moved on).
                && self.patroni == Proc::Stopped && t.kind == T_CYCLE && t.a == self.cycle_epoch =>
            {
                self.wake_pending = true;
            }
            // A killed Patroni runs no loop until it is restarted.
            T_CYCLE if self.patroni == Proc::Dead => {}
            T_CYCLE if t.a == self.cycle_epoch => {
                if self.cycle_running {
                    // The previous cycle is still waiting on the DCS.
                    self.wake_pending = true;
                } else {
                    self.cycle_start(ctx, rng);
                }
            }
            T_DCS if t.b == self.life => self.dcs_retry(ctx, rng, t.a, Dur::ZERO),
            T_DCS_RETRY if t.b == self.life => {
                if let Some(r) = self.reqs.iter().find(|r| r.id == t.a).copied() {
                    self.dcs_send(ctx, r);
                }
            }
            T_POLL if t.a == self.poll_epoch && t.b == self.life => {
                for p in &mut self.poll {
                    p.done = true;
                }
                self.race_decide(ctx);
            }
            T_WATCHDOG
                if t.a == self.life
                    && self.has_lock
                    && ctx.now
                        >= self.last_lock_update
                            + self.cfg.ttl.saturating_sub(self.cfg.safety_margin) =>
            {
                self.watchdog_reset(ctx, rng);
            }
            _ => {}
        }
    }

    fn watchdog_reset(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        ctx.log(
            self.me,
            EventKind::Demoted,
            "watchdog: host reset (Patroni did not ping it)",
        );
        self.pg_crash(ctx);
        self.role = Role::Replica;
        self.following = NONE;
        self.start_patroni(ctx, rng, false);
        self.pg_start(ctx, rng, Role::Replica);
    }

    pub fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    pub fn is_call_live(&self, call: CallRef) -> bool {
        call.generation == self.poll_epoch
            && self
                .members
                .get(call.slot as usize)
                .is_some_and(|&m| self.poll.iter().any(|p| p.node == m && !p.done))
    }

    pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.sessions.inbound_peers()
    }

    pub fn refuses(&self, kind: ReqKind) -> bool {
        match kind {
            ReqKind::HttpCheck => self.patroni == Proc::Dead,
            _ => self.pg == Pg::Down,
        }
    }

    /// The node died: the data on disk stays (the log, the timeline).
    pub fn crash(&mut self) {
        let (life, pg_epoch, cycle_epoch, poll_epoch, next_req) = (
            self.life,
            self.pg_epoch,
            self.cycle_epoch,
            self.poll_epoch,
            self.next_req,
        );
        self.pg = Pg::Down;
        self.pg_frozen = false;
        self.promoting = false;
        self.standbys.clear();
        self.sessions = Sessions::new(self.max_connections);
        self.in_service.clear();
        self.held.clear();
        self.waiting_sync.clear();
        self.writable = false;
        self.has_lock = false;
        self.lock_valid_until = SimTime::ZERO;
        self.lease = NONE;
        self.reqs.clear();
        self.poll.clear();
        self.switchover = None;
        self.stream_ok = false;
        self.rewinding = None;
        self.sync_standby = NONE;
        self.cycle_running = false;
        self.life = life.wrapping_add(1);
        self.pg_epoch = pg_epoch.wrapping_add(1);
        self.cycle_epoch = cycle_epoch.wrapping_add(1);
        self.poll_epoch = poll_epoch.wrapping_add(1);
        self.next_req = next_req;
        self.cache = Cache {
            leader: NONE,
            ..Cache::default()
        };
    }

    pub fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        match a {
            Admin::Switchover { candidate } => {
                if self.patroni == Proc::Alive && self.has_lock {
                    ctx.log(self.me, EventKind::Info, "switchover requested");
                    self.switchover = Some(candidate.unwrap_or(NONE));
                    self.wake(ctx);
                }
            }
            Admin::Restart => {
                if self.patroni != Proc::Alive || self.pg != Pg::Running {
                    return;
                }
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "restarting postgres (patronictl restart)",
                );
                self.pg_stop(ctx, rng, AfterStop::Restart);
            }
            Admin::Process {
                process: Process::Postgres,
                stop,
                recover,
            } => match (stop, recover) {
                (false, false) => {
                    if self.pg != Pg::Down {
                        ctx.log(self.me, EventKind::Info, "postgres killed");
                        self.pg_crash(ctx);
                    }
                }
                (false, true) => {
                    // Patroni restarts it itself; without Patroni, systemd
                    // does not (postgres runs under Patroni).
                }
                (true, false) => {
                    self.pg_frozen = true;
                    self.update_writable(ctx);
                }
                (true, true) => {
                    self.pg_frozen = false;
                    for q in std::mem::take(&mut self.held) {
                        self.on_query(ctx, rng, q);
                    }
                    self.update_writable(ctx);
                }
            },
            Admin::Process {
                process: Process::Patroni,
                stop,
                recover,
            } => match (stop, recover) {
                (false, false) => {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "patroni killed, postgres keeps running",
                    );
                    self.patroni = Proc::Dead;
                    self.life = self.life.wrapping_add(1);
                    self.reqs.clear();
                    self.poll.clear();
                    self.cycle_running = false;
                    self.has_lock = false;
                    self.watchdog_after_patroni_loss(ctx);
                }
                (false, true) => {
                    if self.patroni == Proc::Dead {
                        ctx.log(self.me, EventKind::Info, "patroni restarted");
                        self.start_patroni(ctx, rng, false);
                    }
                }
                (true, false) => {
                    if self.patroni == Proc::Alive {
                        self.patroni = Proc::Stopped;
                        self.watchdog_after_patroni_loss(ctx);
                    }
                }
                (true, true) => {
                    if self.patroni == Proc::Stopped {
                        self.patroni = Proc::Alive;
                        if !self.cycle_running {
                            self.cycle_epoch = self.cycle_epoch.wrapping_add(1);
                            ctx.timer(ctx.now, T_CYCLE, self.cycle_epoch, 0);
                        }
                    }
                }
            },
        }
    }

    /// Patroni stopped pinging the watchdog: the host resets when its
    /// timeout (ttl - safety_margin after the last ping) runs out.
    fn watchdog_after_patroni_loss(&mut self, ctx: &mut Ctx) {
        if self.cfg.watchdog == WatchdogMode::On && self.role == Role::Primary {
            let at = (self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin))
                .max(ctx.now);
            // A timer that survives Patroni's death: the kernel's softdog.
            ctx.timer(at, T_PG, self.pg_epoch, PG_WATCHDOG);
        }
    }

    pub fn final_data(&self) -> Option<FinalData<'_>> {
        Some(FinalData {
            cluster: self.cluster,
            writable: self.writable,
            log: &self.log,
        })
    }

    /// Tests: this node holds the leader key as far as it knows.
    pub fn is_leader(&self) -> bool {
        self.has_lock
    }

    /// Tests: PostgreSQL runs as a primary accepting writes.
    pub fn is_writable(&self) -> bool {
        self.writable
    }

    pub fn log(&self) -> &DataLog {
        &self.log
    }

    /// Tests: when this node last refreshed the leader key (cycle start).
    pub fn last_lock_update(&self) -> SimTime {
        self.last_lock_update
    }
}

const PG_WATCHDOG: u32 = 4;

// Until Patroni's methods move here from its inherent impl (they are being
// edited in parallel), the trait forwards to them.
impl crate::components::Process for Patroni {
    type Timer = crate::components::NoTimer;

    fn on_timer(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, t: crate::components::NoTimer) {
        match t {}
    }

    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        Patroni::start(self, ctx, rng)
    }
    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        Patroni::on_message(self, ctx, rng, msg)
    }
    fn on_raw_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: crate::components::RawTimer) {
        Patroni::on_timer(self, ctx, rng, t)
    }
    fn on_established(&mut self, call: CallRef, at: SimTime) {
        Patroni::on_established(self, call, at)
    }
    fn is_call_live(&self, call: CallRef) -> bool {
        Patroni::is_call_live(self, call)
    }
    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Patroni::inbound_peers(self)
    }
    fn crashed(&mut self, _pristine: &Self) {
        Patroni::crash(self)
    }
    fn refuses(&self, kind: ReqKind) -> bool {
        Patroni::refuses(self, kind)
    }
    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        Patroni::admin(self, ctx, rng, a)
    }
    fn final_data(&self) -> Option<FinalData<'_>> {
        Patroni::final_data(self)
    }
}
