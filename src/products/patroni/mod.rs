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
mod rest;

pub use breakdown::{failover_breakdown, for_cluster};

/// `patronictl switchover [--candidate]`, delivered to every member.
pub const SWITCHOVER: Action = Action {
    name: "switchover",
    candidate: true,
};
/// The two processes of a Patroni node: the manager and its PostgreSQL.
pub const POSTGRES: &str = "postgres";
pub const PATRONI: &str = "patroni";

pub mod config;
pub mod errors;
mod product;

use crate::config::spec::ClusterSpec;
use crate::data::{DataLog, FinalData};
use crate::engine::{Dur, Rng, SimTime};
use crate::faults::{Action, RESTART};
use crate::metrics::EventKind;
use crate::process::dist::Sampler;
use crate::process::{Admin, Boot, DbIds};
use crate::process::{CallRef, Ctx, Msg, MsgKind, NodeId, Req, ReqKind, TimerKey};
use crate::products::{Timer, Wire};
use crate::protocols::dcs::{
    DcsMsg, DcsOp, DcsRequest, DcsResult, DcsState, Failover, NONE, SyncKey,
};
use crate::protocols::sql::{Query, Sessions};
use config::PatroniSpec;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WatchdogMode {
    Off,
    /// `automatic` or `required`: the softdog resets the host when Patroni
    /// has not pinged it for `ttl - safety_margin`.
    On,
}

/// Patroni's (and its PostgreSQL's) timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatroniTimer {
    /// The HA loop's next cycle (`loop_wait`, or at once when woken).
    Cycle,
    /// The attempt of DCS request `id` timed out.
    DcsAttempt { id: u32 },
    /// The pause after a DCS error is over: request `id` goes out again.
    DcsRetry { id: u32 },
    /// The REST poll of the other members timed out.
    Poll,
    /// `patronictl switchover` reaches the REST API (`POST /switchover`)
    /// after the client's own start-up (`patronictl_time`).
    SwitchoverRequest { candidate: u32 },
    /// Has the watchdog been pinged within `ttl - safety_margin`? One is
    /// armed at each lock update and several are pending at once, each
    /// checking the latest update when it fires: they carry Patroni's `life`
    /// (a generation, bumped when Patroni dies or restarts) instead of keys.
    Watchdog { life: u32 },
    /// A client query's service time is over.
    QueryDone(CallRef),
    /// The REST API answers member `to`'s poll `call` (`rest_time` later).
    RestAnswer { to: NodeId, call: CallRef },
    /// Primary: send the WAL up to write `upto`. One per commit, so several
    /// are pending: a stop, start, promotion or crash of PostgreSQL (a new
    /// `pg_epoch`, a generation) drops them all.
    WalSend { upto: u32, pg_epoch: u32 },
    /// PostgreSQL finished starting, stopping or promoting.
    Pg(PgStep),
    /// The kernel's softdog, armed when Patroni stops pinging it: resets the
    /// host if it still runs a primary. It may be pending beside a start,
    /// stop or another softdog: it carries the `pg_epoch` it was armed in.
    Softdog { pg_epoch: u32 },
}

impl From<PatroniTimer> for Timer {
    fn from(t: PatroniTimer) -> Timer {
        Timer::Patroni(t)
    }
}

/// What PostgreSQL finished ([`PatroniTimer::Pg`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PgStep {
    /// Crash recovery in single-user mode finished (a clean shutdown).
    Recovered,
    /// ha.py `demote()`: the `time.sleep(2)` after releasing the key is over.
    Released,
    /// The switchover's fast shutdown is over and Patroni's poll of
    /// pg_controldata (every `STOP_POLLING_INTERVAL`) has seen it.
    ShutdownSeen,
    /// The postmaster opened its port: 57P03 until `startup_time` is over.
    Listening,
    Started,
    Stopped,
    Promoted,
}

/// Between Patroni members ([`Wire::Patroni`]): PostgreSQL streaming
/// replication and pg_rewind, and the REST API's answer to the other
/// members' poll.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatroniMsg {
    /// Primary -> standby: write `pos` (1-based) is `op`, on `timeline`.
    Wal { timeline: u32, pos: u32, op: u32 },
    /// Standby -> primary: I have `flushed` writes (also the status a
    /// streaming standby sends each cycle).
    WalAck { flushed: u32 },
    /// Primary -> standby: the shutdown checkpoint of a fast shutdown is at
    /// `len`; the standby confirms with [`PatroniMsg::WalAck`].
    ShutdownCheckpoint { len: u32 },
    /// Standby -> primary: stream to me; I have `len` writes, the last
    /// being `last`.
    StreamStart { len: u32, last: Option<u32> },
    /// Primary -> standby: streaming (the primary has `len` writes).
    StreamOk { len: u32 },
    /// Primary -> standby: your writes are not a prefix of my `len`.
    Diverged { len: u32 },
    /// pg_rewind, standby -> primary: is your write `pos` `op`?
    Probe { pos: u32, op: u32 },
    /// Primary -> standby: whether write `pos` matches.
    ProbeAnswer { pos: u32, matches: bool },
    /// The REST API's answer to a member's poll (`call` is the poll's):
    /// PostgreSQL runs, is a replica (or promoting), has `wal` writes.
    Status {
        running: bool,
        replica: bool,
        wal: u32,
    },
}

impl From<PatroniMsg> for MsgKind {
    fn from(m: PatroniMsg) -> MsgKind {
        MsgKind::Wire(Wire::Patroni(m))
    }
}

/// `Ha.fetch_node_status()`: the REST poll of one member, no retry.
pub const REST_POLL_TIMEOUT: Dur = Dur(2 * Dur::S);
/// ha.py `demote()`: `time.sleep(2)` after releasing the leader key.
const RELEASE_PAUSE: Dur = Dur(2 * Dur::S);
/// `Retry(max_delay=1)`: pause after a DCS error reply before retrying.
const DCS_RETRY_PAUSE: Dur = Dur(Dur::S);
/// postgresql/__init__.py (3.0.2) `STOP_POLLING_INTERVAL = 1`: `_do_stop`
/// reads pg_controldata once right after signalling the postmaster, then
/// every second while it runs, and demote's `on_shutdown` releases the key
/// only when it sees "shut down" (or after the postmaster is gone).
const STOP_POLLING_INTERVAL: Dur = Dur(Dur::S);

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

/// `pg_ctl stop -m MODE`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum StopMode {
    /// A shutdown checkpoint that every connected standby must confirm
    /// (PostgreSQL walsender.c `WalSndDone`: a walsender exits once the
    /// standby flushed everything sent, or when `wal_sender_timeout` ends it).
    Fast,
    /// No checkpoint, no wait for walsenders (Patroni's
    /// `demote('immediate-nolock')`).
    Immediate,
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
    /// `_update_leader` found its lease gone: a new lease, then the leader
    /// key written as the version does ([`Cfg::unconditional_put`]).
    Regrant,
    UpdateLockPut,
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
    req: DcsRequest,
    purpose: Purpose,
    deadline: SimTime,
    host: usize,
    /// The pending attempt timeout or retry pause.
    timer: Option<TimerKey>,
}

#[derive(Clone, Copy, Debug)]
struct Standby {
    node: NodeId,
    sent: u32,
    acked: u32,
    last_seen: SimTime,
}

/// A member's REST answer to the poll.
#[derive(Clone, Copy, Debug)]
struct MemberStatus {
    running: bool,
    replica: bool,
    wal: u32,
}

#[derive(Clone, Copy, Debug)]
struct PollResult {
    node: NodeId,
    done: bool,
    /// `None`: no answer (refused, unreachable, timed out).
    status: Option<MemberStatus>,
}

/// What Patroni knows of the keys before its first read.
const NO_KEYS: DcsState = DcsState {
    leader: NONE,
    optime: 0,
    failover: NONE,
    sync: SyncKey::EMPTY,
    revision: 0,
};

#[derive(Clone)]
struct Cfg {
    /// Patroni 3.0.2's plain put of the leader key (`config::Version`).
    unconditional_put: bool,
    ttl: Dur,
    loop_wait: Dur,
    retry_timeout: Dur,
    attempt_timeout: Dur,
    max_lag_writes: u64,
    primary_start_timeout: Dur,
    sync_mode: bool,
    strict: bool,
    nofailover: Vec<bool>,
    noloadbalance: bool,
    wal_per_write: u64,
    watchdog: WatchdogMode,
    safety_margin: Dur,
    wal_sender_timeout: Dur,
    query: Sampler,
    repl: Sampler,
    promote: Sampler,
    start: Sampler,
    startup: Sampler,
    stop: Sampler,
    crash_recovery: Sampler,
    patronictl: Sampler,
    orphan_reap: Sampler,
    rest: Sampler,
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
    /// Starting: the postmaster has opened its port (PostgreSQL
    /// postmaster.c opens the listen sockets before it forks the startup
    /// process; until then a connect is refused, then answered 57P03 "the
    /// database system is starting up" until the startup process reaches a
    /// consistent state).
    listening: bool,
    /// When the running fast shutdown was signalled (the start of
    /// `_do_stop`'s pg_controldata polls).
    stop_signalled: SimTime,
    role: Role,
    promoting: bool,
    /// The generation of the PostgreSQL timers that may be several
    /// ([`PatroniTimer::WalSend`], [`PatroniTimer::Softdog`]).
    pg_epoch: u32,
    /// The pending start, stop or promotion.
    pg_timer: Option<TimerKey>,
    after_stop: AfterStop,
    /// A fast shutdown waits for its walsenders: each connected standby must
    /// confirm the shutdown checkpoint (WAL position `shutdown_lsn`) or be
    /// silent for `wal_sender_timeout` (its deadline here).
    shutdown_wait: Vec<(NodeId, SimTime)>,
    shutdown_lsn: u32,
    /// The stop's own time (`stop_time`) is over.
    stop_due: bool,
    /// `demote('offline')` runs in the HA loop itself (async_req=False):
    /// the cycle lasts until PostgreSQL has stopped.
    demote_blocking: bool,
    pg_down_since: SimTime,
    /// The killed postmaster is a zombie until then (`orphan_reap_time`):
    /// psutil's `is_running()` still says it runs.
    pg_reaped_at: SimTime,
    /// pg_control says "in production": PostgreSQL died as a primary and
    /// has not been through crash recovery since.
    crashed_in_production: bool,
    /// Crash recovery in single-user mode is running (`postgres --single`:
    /// no listening socket, so the port stays closed).
    recovering: bool,
    /// `demote()` sleeps 2 s after releasing the key before it starts
    /// PostgreSQL as a replica.
    release_pause: bool,
    /// The poll under way is the switchover's check of its candidate
    /// (`is_failover_possible`), not the leader race.
    poll_for_switchover: Option<u32>,
    /// The poll under way is demote's `on_shutdown` check of the candidate
    /// (ha.py: `is_failover_possible(..., cluster_lsn=checkpoint_location)`)
    /// before the key is released.
    poll_for_release: bool,
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
    cache: DcsState,
    /// Patroni's last read of the cluster succeeded (`dcs.cluster` is set).
    dcs_ok: bool,
    cycle_running: bool,
    cycle_timer: Option<TimerKey>,
    cycle_started: SimTime,
    wake_pending: bool,
    dcs_host: usize,
    reqs: Vec<DcsReq>,
    next_req: u32,
    poll: Vec<PollResult>,
    /// The poll's calls' generation.
    poll_epoch: u32,
    poll_timer: Option<TimerKey>,
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

impl Patroni {
    /// `dcs`: the etcd members it talks to.
    pub fn new(
        spec: &ClusterSpec,
        p: &PatroniSpec,
        me: NodeId,
        ids: &DbIds,
        dcs: Vec<NodeId>,
    ) -> Patroni {
        let idx = ids.members.iter().position(|&m| m == me).expect("a member");
        let nofailover = spec
            .members
            .iter()
            .map(|m| p.nofailover.contains(m))
            .collect();
        let cfg = Cfg {
            unconditional_put: p.version.unconditional_leader_put(),
            ttl: p.ttl,
            loop_wait: p.loop_wait,
            retry_timeout: p.retry_timeout,
            attempt_timeout: attempt_timeout(dcs.len(), p.retry_timeout),
            max_lag_writes: p.maximum_lag_on_failover / p.wal_per_write,
            primary_start_timeout: p.primary_start_timeout,
            sync_mode: p.synchronous_mode,
            strict: p.synchronous_mode_strict,
            nofailover,
            noloadbalance: p.noloadbalance.contains(&spec.members[idx]),
            wal_per_write: p.wal_per_write,
            watchdog: p.watchdog,
            safety_margin: p.safety_margin,
            wal_sender_timeout: p.wal_sender_timeout,
            query: Sampler::new(&p.query_time),
            repl: Sampler::new(&p.replication_delay),
            promote: Sampler::new(&p.promote_time),
            start: Sampler::new(&p.start_time),
            startup: Sampler::new(&p.startup_time),
            stop: Sampler::new(&p.stop_time),
            crash_recovery: Sampler::new(&p.crash_recovery_time),
            patronictl: Sampler::new(&p.patronictl_time),
            orphan_reap: Sampler::new(&p.orphan_reap_time),
            rest: Sampler::new(&p.rest_time),
        };
        let bootstrap = idx == 0;
        Patroni {
            me,
            idx,
            members: ids.members.clone(),
            dcs,
            cluster: spec.cluster_index,
            cfg,
            log: DataLog::default(),
            timeline: 1,
            pg: Pg::Running,
            pg_frozen: false,
            listening: false,
            stop_signalled: SimTime::ZERO,
            role: if bootstrap {
                Role::Primary
            } else {
                Role::Replica
            },
            promoting: false,
            pg_epoch: 0,
            pg_timer: None,
            after_stop: AfterStop::Restart,
            shutdown_wait: Vec::new(),
            shutdown_lsn: 0,
            stop_due: false,
            demote_blocking: false,
            pg_down_since: SimTime::ZERO,
            pg_reaped_at: SimTime::ZERO,
            crashed_in_production: false,
            recovering: false,
            release_pause: false,
            poll_for_switchover: None,
            poll_for_release: false,
            following: if bootstrap { NONE } else { ids.members[0] },
            stream_ok: false,
            rewinding: None,
            standbys: Vec::new(),
            last_send_at: SimTime::ZERO,
            sync_standby: NONE,
            sessions: Sessions::new(p.max_connections, errors::SESSION_ERRORS),
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
            cache: NO_KEYS,
            cycle_running: false,
            cycle_timer: None,
            cycle_started: SimTime::ZERO,
            wake_pending: false,
            dcs_host: idx,
            reqs: Vec::new(),
            next_req: 1,
            poll: Vec::new(),
            poll_epoch: 0,
            poll_timer: None,
            switchover: None,
            first: true,
            dcs_ok: true,
        }
    }

    // ------------------------------------------------------------ start --

    /// Patroni's daemon starts; its HA loop first runs after `first`.
    fn start_patroni(&mut self, ctx: &mut Ctx, first: Dur) {
        self.patroni = Proc::Alive;
        self.life = self.life.wrapping_add(1);
        self.has_lock = false;
        self.lock_valid_until = SimTime::ZERO;
        self.lease = NONE;
        self.rebind = true;
        self.forget_calls(ctx);
        self.cycle_running = false;
        self.demote_blocking = false;
        self.wake_pending = false;
        let at = ctx.now + first;
        ctx.rearm(&mut self.cycle_timer, at, PatroniTimer::Cycle);
    }

    /// Patroni's process ends (or starts afresh): its DCS requests and its
    /// poll go, with their timers.
    fn forget_calls(&mut self, ctx: &mut Ctx) {
        for r in self.reqs.drain(..) {
            if let Some(k) = r.timer {
                ctx.cancel(k);
            }
        }
        self.poll.clear();
        if let Some(k) = self.poll_timer.take() {
            ctx.cancel(k);
        }
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
            let now = ctx.now;
            if let Some(h) = ctx.history() {
                h.set_writable(now, self.cluster, self.me, w.then_some(self.me));
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
        self.listening = false;
        self.role = role;
        self.promoting = false;
        self.update_writable(ctx);
        // Patroni's start (a multiprocessing child, pg_ctl_start's Popen)
        // and the postmaster's own set-up until it listens: refused.
        let d = self.cfg.start.sample(rng);
        let at = ctx.now + d;
        ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Listening));
    }

    fn pg_stop(&mut self, ctx: &mut Ctx, rng: &mut Rng, then: AfterStop, mode: StopMode) {
        if matches!(self.pg, Pg::Down | Pg::Stopping) {
            return;
        }
        // Sessions are terminated; the walsenders deliver what was committed.
        self.flush_wal(ctx);
        self.sessions.close_all(ctx);
        self.in_service.clear();
        self.held.clear();
        self.waiting_sync.clear();
        self.shutdown_wait.clear();
        self.stop_due = false;
        if mode == StopMode::Fast && self.role == Role::Primary && !self.promoting {
            // The shutdown checkpoint goes to each connected standby; the
            // postmaster exits once every walsender has it confirmed or has
            // timed out (wal_sender_timeout after the standby's last reply).
            let len = self.log.len() as u32;
            self.shutdown_lsn = len;
            for s in &self.standbys {
                let deadline = s.last_seen + self.cfg.wal_sender_timeout;
                self.shutdown_wait.push((s.node, deadline));
                let m = PatroniMsg::ShutdownCheckpoint { len };
                ctx.send(s.node, CallRef::default(), m.into());
            }
        }
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        self.pg = Pg::Stopping;
        self.stop_signalled = ctx.now;
        self.after_stop = then;
        self.update_writable(ctx);
        let d = self.cfg.stop.sample(rng);
        let at = ctx.now + d;
        ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Stopped));
    }

    /// The stop's own time is over, or a walsender finished: the postmaster
    /// exits once both hold.
    fn stop_progress(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.pg != Pg::Stopping || !self.stop_due {
            return;
        }
        let now = ctx.now;
        self.shutdown_wait.retain(|&(_, deadline)| deadline > now);
        if let Some(d) = self.shutdown_wait.iter().map(|w| w.1).min() {
            return ctx.rearm(&mut self.pg_timer, d, PatroniTimer::Pg(PgStep::Stopped));
        }
        if let Some(k) = self.pg_timer.take() {
            ctx.cancel(k);
        }
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
                // _do_stop polled pg_controldata at the signal and then each
                // STOP_POLLING_INTERVAL: the key goes at the first poll that
                // finds the shutdown over.
                let step = STOP_POLLING_INTERVAL.0;
                let since = now.since(self.stop_signalled).0;
                let polls = since.div_ceil(step);
                let at = self.stop_signalled + Dur(polls * step);
                self.release_pause = true;
                ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::ShutdownSeen));
            }
        }
        if self.demote_blocking {
            self.demote_blocking = false;
            self.cycle_end(ctx);
        }
    }

    /// PostgreSQL dies (SIGKILL of the postmaster, watchdog reset).
    fn pg_crash(&mut self, ctx: &mut Ctx) {
        self.pg_epoch = self.pg_epoch.wrapping_add(1);
        if let Some(k) = self.pg_timer.take() {
            ctx.cancel(k);
        }
        self.pg = Pg::Down;
        self.pg_frozen = false;
        self.promoting = false;
        self.shutdown_wait.clear();
        self.crashed_in_production |= self.role == Role::Primary;
        self.recovering = false;
        self.release_pause = false;
        self.pg_down_since = ctx.now;
        self.pg_reaped_at = ctx.now;
        if self.demote_blocking {
            self.demote_blocking = false;
            self.cycle_end(ctx);
        }
        self.sessions.reset_all(ctx);
        self.in_service.clear();
        self.held.clear();
        self.waiting_sync.clear();
        self.standbys.clear();
        self.stream_ok = false;
        self.update_writable(ctx);
    }

    fn on_pg_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, step: PgStep) {
        match step {
            PgStep::ShutdownSeen => {
                // on_shutdown: is the candidate still fit (a REST poll, 2 s
                // timeout)? The key goes either way: released there, or
                // after the postmaster exits (`if not status['released']`).
                self.pg_timer = None;
                let cand = self.cache.failover;
                if cand != NONE && cand != self.me && self.patroni == Proc::Alive {
                    self.poll_for_release = true;
                    self.poll_candidate(ctx, cand);
                } else {
                    self.release_pause = false;
                    self.release_lock_and_restart_as_replica(ctx, rng);
                }
            }
            PgStep::Listening => {
                self.listening = true;
                let at = ctx.now + self.cfg.startup.sample(rng);
                ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Started));
            }
            PgStep::Released => {
                self.pg_timer = None;
                self.release_pause = false;
                self.pg_start(ctx, rng, Role::Replica);
            }
            PgStep::Recovered => {
                // ensure_clean_shutdown() returned: the async executor
                // wakes the HA loop, whose next recover() starts PostgreSQL.
                self.pg_timer = None;
                self.recovering = false;
                self.crashed_in_production = false;
                ctx.log(self.me, EventKind::Info, "crash recovery finished");
                self.wake(ctx);
            }
            PgStep::Started => {
                self.pg = Pg::Running;
                self.crashed_in_production = false;
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
            PgStep::Stopped => {
                self.pg_timer = None;
                self.stop_due = true;
                self.stop_progress(ctx, rng);
            }
            PgStep::Promoted => {
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
        }
    }

    /// The softdog fired: it resets the host when Patroni has not pinged it
    /// in time and the node still runs a primary.
    fn softdog(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let deadline = self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin);
        if self.patroni != Proc::Alive && self.role == Role::Primary && ctx.now >= deadline {
            self.watchdog_reset(ctx, rng);
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
        let at = ctx.now + d;
        ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Promoted));
        self.update_writable(ctx);
    }

    fn on_query(&mut self, ctx: &mut Ctx, rng: &mut Rng, q: Query) {
        match self.pg {
            Pg::Starting | Pg::Stopping | Pg::Down => {
                let e = errors::CANNOT_CONNECT_NOW.error;
                return self.sessions.fail(ctx, q.id, e);
            }
            Pg::Running => {}
        }
        if self.pg_frozen {
            self.held.push(q);
            return;
        }
        self.in_service.push(q);
        let d = self.cfg.query.sample(rng);
        let d = ctx.slowed(d);
        ctx.at(ctx.now + d, PatroniTimer::QueryDone(q.id));
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
            let log = &self.log;
            if let Some(h) = ctx.history() {
                h.read(q.op, self.me, |w| log.contains(w));
            }
            return self.sessions.ok(ctx, id);
        }
        if self.role != Role::Primary || self.promoting {
            let e = errors::READ_ONLY_SQL_TRANSACTION.error;
            return self.sessions.fail(ctx, id, e);
        }
        self.log.push(q.op);
        let index = self.log.len() as u32;
        let now = ctx.now;
        if let Some(h) = ctx.history() {
            h.committed(q.op, self.me, now);
        }
        let at = (ctx.now + self.cfg.repl.sample(rng)).max(self.last_send_at);
        self.last_send_at = at;
        let send = PatroniTimer::WalSend {
            upto: index,
            pg_epoch: self.pg_epoch,
        };
        ctx.at(at, send);
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
        self.sessions.ok(ctx, id);
    }

    /// Sends every write up to `upto` to the standbys that lack it.
    fn send_wal(&mut self, ctx: &mut Ctx, upto: u32) {
        let upto = upto.min(self.log.len() as u32);
        for s in &mut self.standbys {
            while s.sent < upto {
                s.sent += 1;
                let w = self.log.get(s.sent as usize - 1).expect("in log");
                let m = PatroniMsg::Wal {
                    timeline: self.timeline,
                    pos: s.sent,
                    op: w,
                };
                ctx.send(s.node, CallRef::default(), m.into());
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
        let last = len
            .checked_sub(1)
            .map(|i| self.log.get(i as usize).expect("in log"));
        let m = PatroniMsg::StreamStart { len, last };
        ctx.send(self.following, CallRef::default(), m.into());
    }

    fn on_replication(&mut self, ctx: &mut Ctx, rng: &mut Rng, from: NodeId, m: PatroniMsg) {
        if self.pg == Pg::Stopping
            && !self.pg_frozen
            && let PatroniMsg::WalAck { flushed } = m
        {
            // A walsender of the fast shutdown got its standby's flush.
            let lsn = self.shutdown_lsn;
            if flushed >= lsn {
                self.shutdown_wait.retain(|w| w.0 != from);
                self.stop_progress(ctx, rng);
            }
            return;
        }
        if self.pg != Pg::Running || self.pg_frozen {
            return;
        }
        match m {
            PatroniMsg::StreamStart { len: a, last } if self.role == Role::Primary => {
                let len = self.log.len() as u32;
                let prefix = a <= len && (a == 0 || self.log.get(a as usize - 1) == last);
                if !prefix {
                    let m = PatroniMsg::Diverged { len };
                    ctx.send(from, CallRef::default(), m.into());
                    return;
                }
                self.standbys.retain(|s| s.node != from);
                self.standbys.push(Standby {
                    node: from,
                    sent: a,
                    acked: a,
                    last_seen: ctx.now,
                });
                ctx.send(
                    from,
                    CallRef::default(),
                    PatroniMsg::StreamOk { len }.into(),
                );
                let upto = self.log.len() as u32;
                self.send_wal(ctx, upto);
                self.update_writable(ctx);
            }
            PatroniMsg::StreamOk { .. } if from == self.following => self.stream_ok = true,
            PatroniMsg::ShutdownCheckpoint { .. }
                if from == self.following && self.role == Role::Replica =>
            {
                let flushed = self.log.len() as u32;
                let m = PatroniMsg::WalAck { flushed };
                ctx.send(from, CallRef::default(), m.into());
            }
            PatroniMsg::Diverged { len } if from == self.following && self.rewinding.is_none() => {
                let hi = len.min(self.log.len() as u32);
                self.rewinding = Some((0, hi));
                self.probe(ctx);
            }
            PatroniMsg::Probe { pos, op } if self.role == Role::Primary => {
                let matches = pos == 0 || self.log.get(pos as usize - 1) == Some(op);
                let m = PatroniMsg::ProbeAnswer { pos, matches };
                ctx.send(from, CallRef::default(), m.into());
            }
            PatroniMsg::ProbeAnswer { pos, matches } if from == self.following => {
                if let Some((lo, hi)) = self.rewinding {
                    let mid = (lo + hi).div_ceil(2);
                    if pos != mid {
                        return;
                    }
                    self.rewinding = Some(if matches { (mid, hi) } else { (lo, mid - 1) });
                    self.probe(ctx);
                }
            }
            PatroniMsg::Wal { timeline, pos, op } if from == self.following => {
                // A standby follows its primary's timeline switch
                // (recovery_target_timeline = 'latest').
                self.timeline = self.timeline.max(timeline);
                let len = self.log.len() as u32;
                if pos == len + 1 {
                    self.log.push(op);
                } else if pos > len + 1 {
                    self.stream_ok = false;
                    return self.stream_start(ctx);
                }
                let flushed = self.log.len() as u32;
                ctx.send(
                    from,
                    CallRef::default(),
                    PatroniMsg::WalAck { flushed }.into(),
                );
            }
            PatroniMsg::WalAck { flushed } if self.role == Role::Primary => {
                if let Some(s) = self.standbys.iter_mut().find(|s| s.node == from) {
                    s.acked = s.acked.max(flushed);
                    s.last_seen = ctx.now;
                    if from == self.sync_standby {
                        let acked = s.acked;
                        let mut i = 0;
                        while i < self.waiting_sync.len() {
                            if self.waiting_sync[i].1 <= acked {
                                let (id, _) = self.waiting_sync.swap_remove(i);
                                self.sessions.ok(ctx, id);
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
        let op = self.log.get(mid as usize - 1).expect("mid <= len");
        let m = PatroniMsg::Probe { pos: mid, op };
        ctx.send(self.following, CallRef::default(), m.into());
    }

    // ----------------------------------------------------------- DCS ----

    fn dcs_call(&mut self, ctx: &mut Ctx, req: DcsRequest, purpose: Purpose) {
        let id = self.next_req;
        self.next_req = self.next_req.wrapping_add(1).max(1);
        let r = DcsReq {
            id,
            req,
            purpose,
            deadline: ctx.now + self.cfg.retry_timeout,
            host: self.dcs_host,
            timer: None,
        };
        self.reqs.push(r);
        self.dcs_send(ctx, self.reqs.len() - 1);
    }

    fn propose(&mut self, ctx: &mut Ctx, o: DcsOp, purpose: Purpose) {
        self.dcs_call(ctx, DcsRequest::Propose(o), purpose);
    }

    /// Sends request `reqs[k]` to its etcd host, with its attempt timeout.
    fn dcs_send(&mut self, ctx: &mut Ctx, k: usize) {
        let r = self.reqs[k];
        let to = self.dcs[r.host % self.dcs.len()];
        let call = CallRef {
            slot: r.id,
            generation: self.life,
        };
        ctx.send(to, call, r.req.into());
        let at = (ctx.now + self.cfg.attempt_timeout).min(r.deadline);
        let t = PatroniTimer::DcsAttempt { id: r.id };
        ctx.rearm(&mut self.reqs[k].timer, at, t);
    }

    /// Request `reqs[k]` is over: its timer goes.
    fn dcs_remove(&mut self, ctx: &mut Ctx, k: usize) -> DcsReq {
        let r = self.reqs.swap_remove(k);
        if let Some(t) = r.timer {
            ctx.cancel(t);
        }
        r
    }

    /// The attempt of request `id` failed (timeout or error): the next etcd
    /// host, until the deadline.
    fn dcs_retry(&mut self, ctx: &mut Ctx, rng: &mut Rng, id: u32, pause: Dur) {
        let Some(k) = self.reqs.iter().position(|r| r.id == id) else {
            return;
        };
        if ctx.now + pause >= self.reqs[k].deadline {
            let r = self.dcs_remove(ctx, k);
            return self.dcs_done(ctx, rng, r.purpose, DcsResult::Err, 0);
        }
        self.dcs_host = (self.reqs[k].host + 1) % self.dcs.len();
        self.reqs[k].host = self.dcs_host;
        if pause.is_zero() {
            self.dcs_send(ctx, k);
        } else {
            // A fresh attempt after the pause: a new id ignores late replies.
            let new = self.next_req;
            self.next_req = self.next_req.wrapping_add(1).max(1);
            self.reqs[k].id = new;
            let at = ctx.now + pause;
            let t = PatroniTimer::DcsRetry { id: new };
            ctx.rearm(&mut self.reqs[k].timer, at, t);
        }
    }

    fn on_dcs_resp(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        call: CallRef,
        result: DcsResult,
        value: u32,
    ) {
        if call.generation != self.life {
            return;
        }
        let Some(k) = self.reqs.iter().position(|r| r.id == call.slot) else {
            return;
        };
        if result == DcsResult::Err {
            return self.dcs_retry(ctx, rng, call.slot, DCS_RETRY_PAUSE);
        }
        let r = self.dcs_remove(ctx, k);
        self.dcs_done(ctx, rng, r.purpose, result, value);
    }

    fn on_state(&mut self, ctx: &mut Ctx, rng: &mut Rng, from: NodeId, s: DcsState) {
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
            self.dcs_remove(ctx, k);
            return self.dcs_done(ctx, rng, Purpose::Read, DcsResult::Ok, 0);
        }
        // The watch: a change of the leader key wakes the loop at once.
        if s.leader != before && !(self.has_lock && s.leader == self.me) {
            self.wake(ctx);
        }
    }

    fn dcs_done(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        p: Purpose,
        result: DcsResult,
        value: u32,
    ) {
        match p {
            Purpose::Grant => {
                if result == DcsResult::Ok {
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
                DcsResult::Ok => {
                    self.has_lock = true;
                    self.last_lock_update = self.cycle_started;
                    self.lock_valid_until = self.cycle_started + self.cfg.ttl;
                    self.arm_watchdog(ctx);
                    self.leader_actions(ctx, rng);
                }
                DcsResult::Err if !self.has_lock && self.role == Role::Replica => {
                    // A replica that found its own name in the key: the DCS
                    // error ends the cycle (_handle_dcs_error), no promotion.
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "Error communicating with DCS: failed to update leader lock, not promoting",
                    );
                    self.cycle_end(ctx);
                }
                DcsResult::Err => {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "Error communicating with DCS: failed to update leader lock",
                    );
                    self.lose_lock(
                        ctx,
                        rng,
                        "demoting self because DCS is not accessible and I was a leader",
                        true,
                    );
                    self.cycle_end(ctx);
                }
                DcsResult::Fail => {
                    // The lease is gone (it expired while we were cut off):
                    // `_do_refresh_lease(force=True)` grants a new one, then
                    // `_update_leader` writes the key with it, since the
                    // view this cycle read gives the key our old lease.
                    self.lease = NONE;
                    let secs = (self.cfg.ttl.0 / Dur::S).max(2);
                    let grant = DcsOp::Grant {
                        node: self.me,
                        ttl_secs: u32::try_from(secs).unwrap_or(u32::MAX),
                    };
                    self.propose(ctx, grant, Purpose::Regrant);
                }
            },
            Purpose::Regrant => {
                if result == DcsResult::Ok {
                    self.lease = value;
                    self.rebind = false;
                    let op = self.leader_put(value);
                    self.propose(ctx, op, Purpose::UpdateLockPut);
                } else {
                    self.lock_update_failed(ctx, rng, result);
                }
            }
            Purpose::UpdateLockPut => {
                if result == DcsResult::Ok {
                    if self.cfg.unconditional_put && !self.has_lock {
                        ctx.log(
                            self.me,
                            EventKind::Info,
                            "leader key written with a new lease (3.0.2: a put without compare)",
                        );
                    }
                    self.has_lock = true;
                    self.cache.leader = self.me;
                    self.last_lock_update = self.cycle_started;
                    self.lock_valid_until = self.cycle_started + self.cfg.ttl;
                    self.arm_watchdog(ctx);
                    self.leader_actions(ctx, rng);
                } else {
                    self.lock_update_failed(ctx, rng, result);
                }
            }
            Purpose::Rebind => {
                if result == DcsResult::Ok {
                    self.rebind = false;
                }
            }
            Purpose::Read => {
                self.dcs_ok = result == DcsResult::Ok;
                if result == DcsResult::Ok {
                    self.decide(ctx, rng);
                } else {
                    ctx.log(self.me, EventKind::Info, "Error communicating with DCS");
                    if self.has_lock {
                        self.lose_lock(
                            ctx,
                            rng,
                            "demoting self because DCS is not accessible and I was a leader",
                            true,
                        );
                    }
                    self.cycle_end(ctx);
                }
            }
            Purpose::Acquire => {
                if result == DcsResult::Ok {
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
                    if self.switchover.is_some() || self.cache.failover != NONE {
                        self.switchover = None;
                        let clear = DcsOp::PutFailover(Failover::EMPTY);
                        self.propose(ctx, clear, Purpose::Failover);
                    }
                    let optime = self.log.len() as u32;
                    self.propose(ctx, DcsOp::PutOptime { optime }, Purpose::Optime);
                } else {
                    if value != NONE && result != DcsResult::Err {
                        self.cache.leader = value;
                        ctx.log(
                            self.me,
                            EventKind::Info,
                            "following new leader after trying and failing to obtain lock",
                        );
                        self.follow(ctx, rng, value);
                    } else if result != DcsResult::Err && value == NONE {
                        // Our lease is gone: grant a new one next cycle.
                        self.lease = NONE;
                    }
                }
                self.cycle_end(ctx);
            }
            Purpose::Sync(standby) => {
                if result == DcsResult::Ok && self.role == Role::Primary {
                    self.sync_standby = standby;
                    self.cache.sync = SyncKey {
                        leader: self.me,
                        standby,
                    };
                    self.release_sync_waiters(ctx);
                    self.update_writable(ctx);
                }
            }
            Purpose::Optime | Purpose::Touch | Purpose::Release | Purpose::Failover => {}
        }
    }

    /// `_update_leader`'s write of the leader key bound to `lease`, as the
    /// version does it: 3.0.2 a put without compare, 3.0.3+ the transaction.
    fn leader_put(&self, lease: u32) -> DcsOp {
        if self.cfg.unconditional_put {
            DcsOp::PutLeader { lease }
        } else {
            DcsOp::UpdateLeader { lease }
        }
    }

    /// `update_lock()` returned False (the key is another member's) or
    /// raised (DCS error): demote, or for a replica just do not promote.
    fn lock_update_failed(&mut self, ctx: &mut Ctx, rng: &mut Rng, result: DcsResult) {
        if result == DcsResult::Err {
            if !self.has_lock && self.role == Role::Replica {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "Error communicating with DCS: failed to update leader lock, not promoting",
                );
            } else {
                self.lose_lock(
                    ctx,
                    rng,
                    "demoting self because DCS is not accessible and I was a leader",
                    true,
                );
            }
        } else {
            self.lose_lock(
                ctx,
                rng,
                "demoting self because I do not have the lock and I was a leader",
                false,
            );
        }
        self.cycle_end(ctx);
    }

    /// Deletes the leader key if held, then starts postgres as a replica
    /// following nobody yet.
    fn release_lock_and_restart_as_replica(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.has_lock {
            self.has_lock = false;
            self.lock_valid_until = SimTime::ZERO;
            let owner = self.me;
            self.propose(ctx, DcsOp::DeleteLeader { owner }, Purpose::Release);
        }
        self.following = NONE;
        // ha.py demote() with release (graceful, immediate):
        // `time.sleep(2)  # Give a time to somebody to take the leader lock`,
        // then it starts PostgreSQL as a replica.
        self.release_pause = true;
        let at = ctx.now + RELEASE_PAUSE;
        ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Released));
        let _ = rng;
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
                self.sessions.ok(ctx, id);
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
            let now = ctx.now;
            ctx.rearm(&mut self.cycle_timer, now, PatroniTimer::Cycle);
        }
    }

    fn cycle_start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.cycle_running = true;
        self.wake_pending = false;
        self.cycle_started = ctx.now;
        let at = ctx.now + self.cfg.loop_wait;
        ctx.rearm(&mut self.cycle_timer, at, PatroniTimer::Cycle);
        if self.lease == NONE {
            // Whole seconds; validation keeps ttl at 2 s or more.
            let secs = (self.cfg.ttl.0 / Dur::S).max(2);
            let grant = DcsOp::Grant {
                node: self.me,
                ttl_secs: u32::try_from(secs).unwrap_or(u32::MAX),
            };
            return self.propose(ctx, grant, Purpose::Grant);
        }
        self.cycle_main(ctx, rng);
    }

    fn cycle_main(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        // The replica side of the stream: status (hot standby feedback) and
        // a new attempt when not streaming.
        if self.role == Role::Replica && self.pg == Pg::Running && self.following != NONE {
            if self.stream_ok {
                let flushed = self.log.len() as u32;
                let m = PatroniMsg::WalAck { flushed };
                ctx.send(self.following, CallRef::default(), m.into());
            } else {
                self.stream_start(ctx);
            }
        }
        if self.has_lock && self.cache.leader != NONE && self.cache.leader != self.me {
            // The watch shows another member's name in the key (a 3.0.2 put
            // over ours): `has_lock()` reads the cluster view, so this cycle
            // takes the non-holder path and demotes (ha.py
            // process_healthy_cluster: "demoting self because I do not have
            // the lock and I was a leader").
            self.has_lock = false;
            self.lock_valid_until = SimTime::ZERO;
        }
        self.postgres_health(ctx, rng);
        if self.has_lock {
            // update_lock(): lease keepalive, then /optime/leader.
            let lease = self.lease;
            if self.rebind {
                let op = self.leader_put(lease);
                self.propose(ctx, op, Purpose::Rebind);
            }
            self.dcs_call(ctx, DcsRequest::Keepalive { lease }, Purpose::UpdateLock);
            let optime = self.log.len() as u32;
            self.propose(ctx, DcsOp::PutOptime { optime }, Purpose::Optime);
        } else {
            // touch_member() keeps our lease; get_cluster() reads the keys.
            let lease = self.lease;
            self.dcs_call(ctx, DcsRequest::Keepalive { lease }, Purpose::Touch);
            self.dcs_call(ctx, DcsRequest::Read, Purpose::Read);
        }
    }

    /// PostgreSQL not running while Patroni is: restart it (in place for a
    /// lock holder within primary_start_timeout).
    fn postgres_health(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.pg != Pg::Down || self.recovering || self.release_pause {
            return;
        }
        if ctx.now < self.pg_reaped_at {
            // The killed postmaster is still a zombie: is_running() (psutil
            // Process.is_running, true for a zombie) passes, so
            // ha.py _run_cycle skips recover(); the leader's update_lock()
            // refreshes the key, its last_operation() query fails, and the
            // cycle ends in `except PostgresConnectionException`.
            ctx.log(
                self.me,
                EventKind::Info,
                "Error communicating with PostgreSQL. Will try again later",
            );
            return;
        }
        let holder = self.has_lock && self.role == Role::Primary;
        let down = ctx.now.since(self.pg_down_since);
        let fail_over = holder
            && (self.cfg.primary_start_timeout.is_zero() || down >= self.cfg.primary_start_timeout);
        if self.crashed_in_production && !fail_over {
            // ha.py recover(): pg_control says "in production" and pg_rewind
            // is usable (the model's assumption), so _handle_crash_recovery()
            // runs rewind.py ensure_clean_shutdown(): `postgres --single`,
            // which opens no port: clients keep being refused until the
            // start that follows.
            ctx.log(
                self.me,
                EventKind::Info,
                "doing crash recovery in a single user mode",
            );
            self.recovering = true;
            let at = ctx.now + self.cfg.crash_recovery.sample(rng);
            ctx.rearm(&mut self.pg_timer, at, PatroniTimer::Pg(PgStep::Recovered));
            return;
        }
        if holder {
            if fail_over {
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
                // Start read-only (after the crash recovery above, if it
                // died as a primary); promoted at the next cycle (woken when
                // the start finishes).
                self.pg_start(ctx, rng, Role::Replica);
                self.role = Role::Replica;
            }
        } else {
            ctx.log(self.me, EventKind::Info, "starting postgres as a replica");
            self.pg_start(ctx, rng, Role::Replica);
        }
    }

    fn lose_lock(&mut self, ctx: &mut Ctx, rng: &mut Rng, why: &str, offline: bool) {
        let was = self.has_lock;
        self.has_lock = false;
        self.lock_valid_until = SimTime::ZERO;
        if self.role == Role::Primary && matches!(self.pg, Pg::Running | Pg::Starting) {
            ctx.log(self.me, EventKind::Demoted, why.to_string());
            // demote('offline') after a DCS error: a fast stop run by the
            // HA loop itself (ha.py `demote`, async_req=False), so the cycle
            // lasts as long as the shutdown; demote('immediate-nolock') when
            // the key is gone: an immediate stop in the async executor.
            if offline {
                self.pg_stop(ctx, rng, AfterStop::StartReplica, StopMode::Fast);
                self.demote_blocking = self.pg == Pg::Stopping;
            } else {
                self.pg_stop(ctx, rng, AfterStop::StartReplica, StopMode::Immediate);
            }
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
                // api.py do_POST_switchover wrote /failover; the woken loop's
                // process_manual_failover_from_leader() asks the candidate's
                // REST API first (is_failover_possible -> fetch_nodes_statuses,
                // 2 s timeout), in the cycle, before demoting.
                let f = Failover {
                    leader: self.me,
                    candidate: cand,
                };
                self.propose(ctx, DcsOp::PutFailover(f), Purpose::Failover);
                self.cache.failover = cand;
                self.poll_for_switchover = Some(cand);
                self.poll_candidate(ctx, cand);
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
        !self.cfg.strict && self.cache.sync == self.sync_alone()
    }

    /// `/sync` naming this node with no standby.
    fn sync_alone(&self) -> SyncKey {
        SyncKey {
            leader: self.me,
            standby: NONE,
        }
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
            // synchronous_standby_names already names it (set before /sync,
            // below): write /sync if that failed or is still to be written.
            let k = SyncKey {
                leader: self.me,
                standby: self.sync_standby,
            };
            let pending = self
                .reqs
                .iter()
                .any(|r| matches!(r.purpose, Purpose::Sync(_)));
            if self.cache.sync != k && !pending {
                self.propose(ctx, DcsOp::PutSync(k), Purpose::Sync(self.sync_standby));
            }
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
                    format!("Assigning synchronous standby status to {}", ctx.name_of(n)),
                );
                // process_sync_replication(): set_synchronous_standby_names()
                // before write_sync_state() when adding a standby, so every
                // commit from now on waits for it, even if the /sync write
                // lands in etcd without its answer reaching us.
                self.sync_standby = n;
                self.update_writable(ctx);
                let k = SyncKey {
                    leader: self.me,
                    standby: n,
                };
                self.propose(ctx, DcsOp::PutSync(k), Purpose::Sync(n));
            }
            None if !self.cfg.strict
                && (self.sync_standby != NONE || self.cache.sync != self.sync_alone()) =>
            {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "No standbys available: synchronous replication off",
                );
                let k = self.sync_alone();
                self.propose(ctx, DcsOp::PutSync(k), Purpose::Sync(NONE));
            }
            None => {
                // A new primary: /sync must name it (and no standby) so that
                // only it may promote; the old primary's entry is stale.
                if self.cache.sync.leader != self.me {
                    let k = self.sync_alone();
                    self.propose(ctx, DcsOp::PutSync(k), Purpose::Sync(NONE));
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
            let lease = self.lease;
            if self.rebind {
                let op = self.leader_put(lease);
                self.propose(ctx, op, Purpose::Rebind);
            }
            let keepalive = DcsRequest::Keepalive { lease };
            return self.dcs_call(ctx, keepalive, Purpose::UpdateLock);
        }
        if leader != NONE {
            if self.role == Role::Primary && matches!(self.pg, Pg::Running | Pg::Starting) {
                ctx.log(
                    self.me,
                    EventKind::Demoted,
                    "demoting self because I do not have the lock and I was a leader",
                );
                self.pg_stop(ctx, rng, AfterStop::StartReplica, StopMode::Immediate);
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
        let fo_cand = self.cache.failover;
        let switchover = fo_cand != NONE;
        if switchover && fo_cand != self.me {
            // Manual failover to another member: let it take the key.
            return self.cycle_end(ctx);
        }
        let SyncKey {
            leader: sync_leader,
            standby: sync_standby,
        } = self.cache.sync;
        if self.cfg.sync_mode
            && self.cache.sync != SyncKey::EMPTY
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
        // Poll every other member's REST API in parallel. With a /sync key
        // in synchronous_mode only its leader and standby are polled:
        // is_healthiest_node() passes _is_healthiest_node() just the members
        // sync.matches() (ha.py 3.0.2), so a member outside /sync (a former
        // primary back with WAL the cluster never acknowledged) cannot veto
        // the sync standby.
        let sync_only = self.cfg.sync_mode && !switchover && sync_leader != NONE;
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        self.poll.clear();
        for i in 0..self.members.len() {
            let m = self.members[i];
            if m == self.me || self.cfg.nofailover[i] {
                continue;
            }
            if sync_only && m != sync_leader && m != sync_standby {
                continue;
            }
            self.poll_member(ctx, i);
        }
        if self.poll.is_empty() {
            return self.race_decide(ctx);
        }
        let at = ctx.now + REST_POLL_TIMEOUT;
        ctx.rearm(&mut self.poll_timer, at, PatroniTimer::Poll);
    }

    /// A fresh round of REST polls: the candidate's alone, answered within
    /// REST_POLL_TIMEOUT.
    fn poll_candidate(&mut self, ctx: &mut Ctx, cand: NodeId) {
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        self.poll.clear();
        self.poll_member(ctx, self.member_index(cand));
        let at = ctx.now + REST_POLL_TIMEOUT;
        ctx.rearm(&mut self.poll_timer, at, PatroniTimer::Poll);
    }

    /// Asks member `i`'s REST API for its status (one poll call).
    fn poll_member(&mut self, ctx: &mut Ctx, i: usize) {
        let m = self.members[i];
        self.poll.push(PollResult {
            node: m,
            done: false,
            status: None,
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

    /// The switchover candidate answered (or did not): demote('graceful')
    /// if it runs as a replica, else give up and clear /failover (ha.py
    /// "manual failover: no healthy members found, failover is not possible").
    fn switchover_checked(&mut self, ctx: &mut Ctx, rng: &mut Rng, cand: u32) {
        let healthy = std::mem::take(&mut self.poll)
            .iter()
            .any(|p| p.node == cand && p.status.is_some_and(|s| s.running && s.replica));
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        if let Some(k) = self.poll_timer.take() {
            ctx.cancel(k);
        }
        let still = self.has_lock && self.pg == Pg::Running && self.role == Role::Primary;
        if healthy && still && !self.promoting {
            ctx.log(
                self.me,
                EventKind::Demoted,
                format!(
                    "manual failover: demoting myself, candidate {}",
                    ctx.name_of(cand)
                ),
            );
            self.pg_stop(ctx, rng, AfterStop::ReleaseThenReplica, StopMode::Fast);
        } else {
            ctx.log(
                self.me,
                EventKind::Info,
                "manual failover: no healthy members found, failover is not possible",
            );
            self.cache.failover = NONE;
            let clear = DcsOp::PutFailover(Failover::EMPTY);
            self.propose(ctx, clear, Purpose::Failover);
        }
        self.cycle_end(ctx);
    }

    fn poll_answer(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        call: CallRef,
        status: Option<MemberStatus>,
    ) {
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
                status,
            };
        }
        if self.poll.iter().all(|p| p.done) {
            self.poll_done(ctx, rng);
        }
    }

    /// Every polled member answered or the poll timed out.
    fn poll_done(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if std::mem::take(&mut self.poll_for_release) {
            self.poll.clear();
            self.poll_epoch = self.poll_epoch.wrapping_add(1);
            if let Some(k) = self.poll_timer.take() {
                ctx.cancel(k);
            }
            self.release_pause = false;
            return self.release_lock_and_restart_as_replica(ctx, rng);
        }
        match self.poll_for_switchover.take() {
            Some(cand) => self.switchover_checked(ctx, rng, cand),
            None => self.race_decide(ctx),
        }
    }

    fn race_decide(&mut self, ctx: &mut Ctx) {
        let mine = self.log.len() as u32;
        let sync_leader = self.cache.sync.leader;
        let switchover = self.cache.failover != NONE;
        let mut healthy = true;
        for p in std::mem::take(&mut self.poll) {
            let Some(st) = p.status else {
                continue;
            };
            if st.running && !st.replica {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    format!("Primary ({}) is still alive", ctx.name_of(p.node)),
                );
                healthy = false;
            } else if st.wal > mine && !switchover && !(self.cfg.sync_mode && p.node == sync_leader)
            {
                healthy = false;
            }
        }
        self.poll_epoch = self.poll_epoch.wrapping_add(1);
        if let Some(k) = self.poll_timer.take() {
            ctx.cancel(k);
        }
        if !healthy || self.cache.leader != NONE || self.pg != Pg::Running || self.lease == NONE {
            return self.cycle_end(ctx);
        }
        let lease = self.lease;
        self.propose(ctx, DcsOp::CreateLeader { lease }, Purpose::Acquire);
    }

    fn cycle_end(&mut self, ctx: &mut Ctx) {
        if !self.cycle_running || self.demote_blocking {
            return;
        }
        // Requests still out (the race) end the cycle when answered.
        if self.reqs.iter().any(|r| {
            matches!(
                r.purpose,
                Purpose::Acquire
                    | Purpose::UpdateLock
                    | Purpose::Regrant
                    | Purpose::UpdateLockPut
                    | Purpose::Read
                    | Purpose::Grant
            )
        }) || !self.poll.is_empty()
        {
            return;
        }
        self.cycle_running = false;
        if self.wake_pending {
            self.wake_pending = false;
            let now = ctx.now;
            ctx.rearm(&mut self.cycle_timer, now, PatroniTimer::Cycle);
        }
    }

    fn arm_watchdog(&mut self, ctx: &mut Ctx) {
        if self.cfg.watchdog == WatchdogMode::On {
            let at = self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin);
            ctx.at(at, PatroniTimer::Watchdog { life: self.life });
        }
    }

    // -------------------------------------------------------- events ----

    /// The REST API's answer to a balancer's check `code` ([`rest`]).
    fn rest_status(&self, now: SimTime, code: u32) -> u16 {
        let replica = self.role == Role::Replica && !self.promoting;
        let behind = (self.cache.optime as u64).saturating_sub(self.log.len() as u64);
        // api.py's liveness: the loop ran within ttl on a running primary,
        // within 2 x ttl elsewhere.
        let primary = !replica && self.pg == Pg::Running;
        let threshold = self.cfg.ttl.times(if primary { 1 } else { 2 });
        let state = rest::NodeState {
            leader: self.has_lock && self.lock_valid_until > now,
            running: self.pg == Pg::Running,
            replica,
            noloadbalance: self.cfg.noloadbalance,
            lag_bytes: behind.saturating_mul(self.cfg.wal_per_write),
            dcs_reachable: self.dcs_ok,
            synchronous: self.cache.sync.standby == self.me,
            loop_alive: now.since(self.cycle_started) < threshold + self.cfg.loop_wait,
        };
        rest::status(code, &state)
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
        self.start_patroni(ctx, Dur::ZERO);
        self.pg_start(ctx, rng, Role::Replica);
    }

    /// The node died: the data on disk stays (the log, the timeline).
    pub fn crash(&mut self) {
        // The kernel forgets the process's timers: the keys are stale.
        let (life, pg_epoch, poll_epoch, next_req) =
            (self.life, self.pg_epoch, self.poll_epoch, self.next_req);
        self.pg = Pg::Down;
        self.pg_frozen = false;
        self.promoting = false;
        self.standbys.clear();
        self.sessions = Sessions::new(self.max_connections, errors::SESSION_ERRORS);
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
        self.demote_blocking = false;
        self.shutdown_wait.clear();
        self.recovering = false;
        self.release_pause = false;
        self.poll_for_switchover = None;
        self.poll_for_release = false;
        self.life = life.wrapping_add(1);
        self.pg_epoch = pg_epoch.wrapping_add(1);
        self.poll_epoch = poll_epoch.wrapping_add(1);
        self.next_req = next_req;
        self.cache = NO_KEYS;
    }

    /// Patroni stopped pinging the watchdog: the host resets when its
    /// timeout (ttl - safety_margin after the last ping) runs out.
    fn watchdog_after_patroni_loss(&mut self, ctx: &mut Ctx) {
        if self.cfg.watchdog == WatchdogMode::On && self.role == Role::Primary {
            let at = (self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin))
                .max(ctx.now);
            // A timer that survives Patroni's death: the kernel's softdog.
            let pg_epoch = self.pg_epoch;
            ctx.at(at, PatroniTimer::Softdog { pg_epoch });
        }
    }

    /// The REST API's status for member `to`'s poll `call`.
    fn rest_answer(&mut self, ctx: &mut Ctx, to: NodeId, call: CallRef) {
        if self.patroni != Proc::Alive {
            return;
        }
        let m = PatroniMsg::Status {
            running: self.pg == Pg::Running,
            replica: self.role == Role::Replica || self.promoting,
            wal: self.log.len() as u32,
        };
        ctx.send(to, call, m.into());
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

impl crate::process::Process for Patroni {
    type Timer = PatroniTimer;

    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng, boot: Boot) {
        if self.first {
            // The first start: the cluster is already bootstrapped (member 1
            // the primary, the others streaming from it); a daemon running
            // before the run is somewhere in its loop (`loop_wait` start to
            // start).
            self.first = false;
            self.pg = Pg::Running;
            self.update_writable(ctx);
            if self.role == Role::Replica {
                self.stream_start(ctx);
            }
            self.start_patroni(ctx, boot.first(Dur::ZERO, self.cfg.loop_wait));
            return;
        }
        // A restart after the node (host or both processes) died: Patroni
        // starts PostgreSQL as a replica; the HA loop decides the rest.
        self.role = Role::Replica;
        self.following = NONE;
        self.pg = Pg::Down;
        self.start_patroni(ctx, Dur::ZERO);
        self.pg_start(ctx, rng, Role::Replica);
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                if self.patroni != Proc::Alive {
                    return; // a stopped Patroni does not answer
                }
                if self.members.contains(&msg.from) {
                    // api.py do_GET /patroni: a query to PostgreSQL, then
                    // the JSON; `rest_time` on top of the round trip.
                    let d = self.cfg.rest.sample(rng);
                    if d.is_zero() {
                        self.rest_answer(ctx, msg.from, msg.call);
                    } else {
                        let t = PatroniTimer::RestAnswer {
                            to: msg.from,
                            call: msg.call,
                        };
                        ctx.at(ctx.now + d, t);
                    }
                } else {
                    let status = self.rest_status(ctx.now, req.op);
                    ctx.send(msg.from, msg.call, MsgKind::Response { status });
                }
            }
            MsgKind::Connect(_) | MsgKind::Request(_) | MsgKind::Close => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    self.on_query(ctx, rng, q);
                }
            }
            MsgKind::Refused | MsgKind::Unreachable if self.patroni == Proc::Alive => {
                self.poll_answer(ctx, rng, msg.call, None);
            }
            MsgKind::Wire(Wire::Patroni(PatroniMsg::Status {
                running,
                replica,
                wal,
            })) if self.patroni == Proc::Alive => {
                let st = MemberStatus {
                    running,
                    replica,
                    wal,
                };
                self.poll_answer(ctx, rng, msg.call, Some(st));
            }
            // A stopped or killed Patroni does not poll.
            MsgKind::Wire(Wire::Patroni(PatroniMsg::Status { .. })) => {}
            MsgKind::Wire(Wire::Patroni(m)) => self.on_replication(ctx, rng, msg.from, m),
            MsgKind::Wire(Wire::Dcs(m)) if self.patroni == Proc::Alive => match m {
                DcsMsg::Resp { result, value } => {
                    self.on_dcs_resp(ctx, rng, msg.call, result, value)
                }
                DcsMsg::State { .. } => {
                    if let Some(s) = DcsState::received(&msg) {
                        self.on_state(ctx, rng, msg.from, s);
                    }
                }
                DcsMsg::Request(_) => {}
            },
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: PatroniTimer) {
        match t {
            PatroniTimer::QueryDone(id) => self.on_query_done(ctx, rng, id),
            PatroniTimer::RestAnswer { to, call } => self.rest_answer(ctx, to, call),
            PatroniTimer::WalSend { upto, pg_epoch } => {
                if pg_epoch == self.pg_epoch && self.role == Role::Primary {
                    self.send_wal(ctx, upto)
                }
            }
            PatroniTimer::Pg(step) => self.on_pg_timer(ctx, rng, step),
            PatroniTimer::Softdog { pg_epoch } => {
                if pg_epoch == self.pg_epoch {
                    self.softdog(ctx, rng)
                }
            }
            PatroniTimer::Cycle => match self.patroni {
                // Patroni's own timers wait while it is stopped.
                Proc::Stopped => self.wake_pending = true,
                // A killed Patroni runs no loop until it is restarted.
                Proc::Dead => {}
                Proc::Alive if self.cycle_running => {
                    // The previous cycle is still waiting on the DCS.
                    self.wake_pending = true;
                }
                Proc::Alive => self.cycle_start(ctx, rng),
            },
            PatroniTimer::DcsAttempt { id } => self.dcs_retry(ctx, rng, id, Dur::ZERO),
            PatroniTimer::DcsRetry { id } => {
                if let Some(k) = self.reqs.iter().position(|r| r.id == id) {
                    self.dcs_send(ctx, k);
                }
            }
            PatroniTimer::SwitchoverRequest { candidate } => {
                if self.patroni == Proc::Alive && self.has_lock {
                    ctx.log(self.me, EventKind::Info, "switchover requested");
                    self.switchover = Some(candidate);
                    self.wake(ctx);
                }
            }
            PatroniTimer::Poll => {
                for p in &mut self.poll {
                    p.done = true;
                }
                self.poll_done(ctx, rng);
            }
            PatroniTimer::Watchdog { life } => {
                let deadline =
                    self.last_lock_update + self.cfg.ttl.saturating_sub(self.cfg.safety_margin);
                if life == self.life && self.has_lock && ctx.now >= deadline {
                    self.watchdog_reset(ctx, rng);
                }
            }
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, call: CallRef) -> bool {
        call.generation == self.poll_epoch
            && self
                .members
                .get(call.slot as usize)
                .is_some_and(|&m| self.poll.iter().any(|p| p.node == m && !p.done))
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.sessions.inbound_peers()
    }

    fn refuses(&self, kind: ReqKind) -> bool {
        match kind {
            ReqKind::HttpCheck => self.patroni == Proc::Dead,
            _ => self.pg == Pg::Down || (self.pg == Pg::Starting && !self.listening),
        }
    }

    fn crashed(&mut self, _pristine: &Self) {
        self.crash();
    }

    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        match a {
            Admin::Action { name, candidate } if name == SWITCHOVER.name => {
                // patronictl starts, reads its configuration and the cluster,
                // then POSTs /switchover to the leader: the client's own time.
                let candidate = candidate.unwrap_or(NONE);
                let at = ctx.now + self.cfg.patronictl.sample(rng);
                ctx.at(at, PatroniTimer::SwitchoverRequest { candidate });
            }
            Admin::Action { name, .. } if name == RESTART.name => {
                if self.patroni != Proc::Alive || self.pg != Pg::Running {
                    return;
                }
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "restarting postgres (patronictl restart)",
                );
                self.pg_stop(ctx, rng, AfterStop::Restart, StopMode::Fast);
            }
            Admin::Process {
                process,
                stop,
                recover,
            } if process == POSTGRES => match (stop, recover) {
                (false, false) => {
                    if self.pg != Pg::Down {
                        ctx.log(self.me, EventKind::Info, "postgres killed");
                        self.pg_crash(ctx);
                        // An orphan of Patroni's start: a zombie until PID 1
                        // reaps it.
                        self.pg_reaped_at = ctx.now + self.cfg.orphan_reap.sample(rng);
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
                process,
                stop,
                recover,
            } if process == PATRONI => match (stop, recover) {
                (false, false) => {
                    ctx.log(
                        self.me,
                        EventKind::Info,
                        "patroni killed, postgres keeps running",
                    );
                    self.patroni = Proc::Dead;
                    self.life = self.life.wrapping_add(1);
                    self.forget_calls(ctx);
                    self.cycle_running = false;
                    self.has_lock = false;
                    self.watchdog_after_patroni_loss(ctx);
                }
                (false, true) => {
                    if self.patroni == Proc::Dead {
                        ctx.log(self.me, EventKind::Info, "patroni restarted");
                        self.start_patroni(ctx, Dur::ZERO);
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
                            let now = ctx.now;
                            ctx.rearm(&mut self.cycle_timer, now, PatroniTimer::Cycle);
                        }
                    }
                }
            },
            // Validation lets through only what `product.rs` declares.
            Admin::Action { .. } | Admin::Process { .. } | Admin::Link { .. } => {}
        }
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        Some(FinalData {
            cluster: self.cluster,
            writable: self.writable,
            log: &self.log,
        })
    }
}
