//! Redis 7.0 with asynchronous replication (redis-sentinel.md; replication.c):
//! a master applies a write, answers it and streams it to its replicas,
//! which apply it in order; each replica acknowledges its offset every
//! second (REPLCONF ACK), which is all `min-replicas-to-write` judges.
//! Replicas refuse writes with -READONLY. A replica (re)connecting sends
//! PSYNC with its replication id and offset: the master continues the
//! stream when it knows that history (its own id, or the id it had as a
//! replica before a promotion, up to the offset of the promotion), else it
//! answers FULLRESYNC and the replica's data is replaced by the master's —
//! which is how a demoted master's acknowledged writes disappear.
//!
//! Sentinels (`type = "sentinel"`) talk to it over the same messages: PING,
//! INFO replication (role, master, link, offset, priority) and REPLICAOF,
//! which Sentinel sends with CONFIG REWRITE, so a node restarts in the role
//! it was last given. Without persistence a restarted node is empty.
//!
//! A Layer 7 health check (HAProxy's `tcp-check` ending in `expect string
//! role:master`) passes on a master only.
//!
//! Simplified: one command at a time per connection with a sampled service
//! time (no single-threaded event loop queue), the full sync's RDB transfer
//! takes the time of streaming its writes, no LOADING phase, no chained
//! replication (a replica asked for PSYNC does not answer), RDB snapshots
//! are not modelled (persistence is all or nothing).

pub mod config;
pub mod errors;
mod product;

use crate::config::spec::ClusterSpec;
use crate::data::{DataLog, FinalData};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::process::dist::Sampler;
use crate::process::{Boot, CallRef, Ctx, DbIds, Msg, MsgKind, NodeId, Process, ReqKind};
use crate::products::{Timer, Wire};
use crate::protocols::sql::{Query, Sessions};
use config::{Persistence, RedisSpec};

/// `RoleInfo::master_of` (and `ReplicaOf::master`) naming no node.
pub const NO_NODE: NodeId = NodeId::MAX;

/// REPLCONF ACK period and the replica's reconnect period (replicationCron
/// runs every second).
const REPL_CRON: Dur = Dur::from_secs(1);

/// Redis's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisTimer {
    /// A client command's service time is over.
    CommandDone(CallRef),
    /// replicationCron: ACKs, reconnects, pings, min-replicas.
    Cron,
}

impl From<RedisTimer> for Timer {
    fn from(t: RedisTimer) -> Timer {
        Timer::Redis(t)
    }
}

/// A node's answer to `INFO replication`, as a sentinel reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoleInfo {
    /// `role:master`.
    pub master: bool,
    /// `master_host`: the master a replica follows ([`NO_NODE`] for a master).
    pub master_of: NodeId,
    /// `master_link_status:up`.
    pub link_up: bool,
    /// `slave_repl_offset` / `master_repl_offset`.
    pub offset: u32,
    /// `slave_priority`.
    pub priority: u32,
    /// `master_link_down_since_seconds` (0 while the link is up; two bytes
    /// keep an event within its 48).
    pub link_down_s: u16,
}

/// The replication protocol between Redis nodes, and what sentinels send
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisMsg {
    /// Replica -> master: PSYNC <replid> <offset>.
    Psync { replid: u32, offset: u32 },
    /// Master -> replica: +FULLRESYNC: the replica drops its data; the
    /// master's writes follow from offset 1.
    FullResync { replid: u32 },
    /// Master -> replica: +CONTINUE: the writes after its offset follow.
    Continue { replid: u32 },
    /// Master -> replica: the write at `offset` (1-based).
    Write { offset: u32, op: u32 },
    /// Master -> replica: PING on an idle link.
    Ping,
    /// Replica -> master: REPLCONF ACK <offset>, every second.
    Ack { offset: u32 },
    /// Sentinel -> node: PING.
    SentinelPing,
    /// Node -> sentinel: +PONG.
    Pong,
    /// Sentinel -> node: INFO replication.
    Info,
    /// Node -> sentinel: the INFO reply.
    InfoReply(RoleInfo),
    /// Sentinel -> node: REPLICAOF `master` (NO ONE for [`NO_NODE`]), with
    /// CONFIG REWRITE and CLIENT KILL TYPE normal.
    ReplicaOf { master: NodeId },
}

impl From<RedisMsg> for MsgKind {
    fn from(m: RedisMsg) -> MsgKind {
        MsgKind::Wire(Wire::Redis(m))
    }
}

/// The replica side of the link to the master.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Link {
    /// Not connected: PSYNC again at the next cron.
    Down,
    /// PSYNC sent, no answer yet.
    Syncing,
    /// Streaming.
    Up,
}

/// A replica as its master knows it.
#[derive(Clone, Copy, Debug)]
struct Replica {
    node: NodeId,
    /// Its last REPLCONF ACK (or PSYNC).
    ack_at: SimTime,
    /// Its side of the link (the stream goes on it).
    call: CallRef,
}

#[derive(Clone)]
pub struct Redis {
    me: NodeId,
    cluster: u32,
    spec: RedisSpec,
    service: Sampler,
    sessions: Sessions,
    /// The writes this node holds: its dataset.
    log: DataLog,
    /// The master it follows; `None` when it is a master.
    master: Option<NodeId>,
    /// `replicaof` in its redis.conf (rewritten with every REPLICAOF a
    /// sentinel sends): the role it restarts in.
    configured_master: Option<NodeId>,
    replid: u32,
    /// The replication id it had before its promotion, valid up to
    /// `second_offset` (PSYNC continues from it).
    replid2: u32,
    second_offset: u32,
    /// Replication ids made so far (each new one is unique).
    ids_made: u32,
    link: Link,
    /// Since when the replica's link is down (`repl_down_since`).
    link_down_since: SimTime,
    /// Generation of the replica's link (its calls carry it).
    link_gen: u32,
    last_heard: SimTime,
    /// Master: its replicas.
    replicas: Vec<Replica>,
    last_ping: SimTime,
    /// Its `replica-priority`.
    priority: u32,
    /// Whether the history knows it as accepting writes.
    writable: bool,
    /// Sentinels and replicas connected to it (their links get a RST when
    /// it dies).
    peers: Vec<(NodeId, CallRef)>,
}

impl Redis {
    pub fn new(spec: &ClusterSpec, r: &RedisSpec, me: NodeId, ids: &DbIds) -> Redis {
        let first = ids.members[0];
        let master = (first != me).then_some(first);
        let mut redis = Redis {
            me,
            cluster: spec.cluster_index,
            service: Sampler::new(&r.service),
            sessions: Sessions::new(r.maxclients, errors::SESSION_ERRORS),
            spec: r.clone(),
            log: DataLog::default(),
            master,
            configured_master: master,
            replid: 0,
            replid2: 0,
            second_offset: 0,
            ids_made: 0,
            link: Link::Down,
            link_down_since: SimTime::ZERO,
            link_gen: 0,
            last_heard: SimTime::ZERO,
            replicas: Vec::new(),
            last_ping: SimTime::ZERO,
            priority: r.replica_priority[ids.members.iter().position(|&m| m == me).unwrap_or(0)],
            writable: false,
            peers: Vec::new(),
        };
        redis.replid = redis.new_replid();
        redis
    }

    /// A replication id no other node or life of this one has.
    fn new_replid(&mut self) -> u32 {
        self.ids_made += 1;
        self.me.wrapping_mul(1 << 20) ^ self.ids_made
    }

    fn offset(&self) -> u32 {
        self.log.len() as u32
    }

    fn is_master(&self) -> bool {
        self.master.is_none()
    }

    /// Replicas whose last ACK is within `min-replicas-max-lag`.
    fn good_replicas(&self, now: SimTime) -> u32 {
        let lag = self.spec.min_replicas_max_lag;
        self.replicas
            .iter()
            .filter(|r| now.since(r.ack_at.min(now)) <= lag)
            .count() as u32
    }

    fn takes_writes(&self, now: SimTime) -> bool {
        self.is_master()
            && (self.spec.min_replicas_to_write == 0
                || self.good_replicas(now) >= self.spec.min_replicas_to_write)
    }

    /// Tells the history when it starts or stops taking writes.
    fn update_writable(&mut self, ctx: &mut Ctx) {
        let want = self.takes_writes(ctx.now);
        if want != self.writable {
            self.writable = want;
            let (now, cluster, me) = (ctx.now, self.cluster, self.me);
            if let Some(h) = ctx.history() {
                h.set_writable(now, cluster, me, want.then_some(me));
            }
        }
    }

    fn remember_peer(&mut self, from: NodeId, call: CallRef) {
        match self.peers.iter_mut().find(|p| p.0 == from) {
            Some(p) => p.1 = call,
            None => self.peers.push((from, call)),
        }
    }

    fn link_call(&self) -> CallRef {
        CallRef {
            slot: 0,
            generation: self.link_gen,
        }
    }

    fn psync(&mut self, ctx: &mut Ctx) {
        let Some(m) = self.master else { return };
        self.link = Link::Syncing;
        let msg = RedisMsg::Psync {
            replid: self.replid,
            offset: self.offset(),
        };
        ctx.send(m, self.link_call(), msg.into());
    }

    fn link_down(&mut self, ctx: &mut Ctx, why: &'static str) {
        if self.link == Link::Up
            && let Some(m) = self.master
        {
            ctx.log(m, EventKind::Info, why);
        }
        if self.link == Link::Up {
            self.link_down_since = ctx.now;
        }
        self.link = Link::Down;
        self.link_gen = self.link_gen.wrapping_add(1);
    }

    /// REPLICAOF from a sentinel (`NO_NODE`: NO ONE).
    fn replicaof(&mut self, ctx: &mut Ctx, master: NodeId) {
        let master = (master != NO_NODE && master != self.me).then_some(master);
        if master == self.master {
            return;
        }
        // CLIENT KILL TYPE normal, in the same MULTI.
        self.sessions.reset_all(ctx);
        // A replica closes its link to the master it leaves (which drops it
        // from its replicas at once).
        if let Some(old) = self.master
            && self.link != Link::Down
        {
            ctx.send(old, self.link_call(), MsgKind::Close);
        }
        self.configured_master = master;
        match master {
            None => {
                // shiftReplicationId(): the old history stays valid up to
                // here for the other replicas' PSYNC.
                self.replid2 = self.replid;
                self.second_offset = self.offset();
                self.replid = self.new_replid();
                self.master = None;
                self.link = Link::Down;
                self.replicas.clear();
                ctx.log(self.me, EventKind::Promoted, "MASTER MODE enabled");
            }
            Some(m) => {
                let was_master = self.is_master();
                self.master = Some(m);
                self.replicas.clear();
                self.link_down(ctx, "Connection with master lost");
                let kind = if was_master {
                    EventKind::Demoted
                } else {
                    EventKind::Info
                };
                let detail = format!("REPLICAOF {} enabled", ctx.name_of(m));
                ctx.log(self.me, kind, detail);
                self.psync(ctx);
            }
        }
        self.update_writable(ctx);
    }

    fn on_repl(&mut self, ctx: &mut Ctx, msg: Msg, m: RedisMsg) {
        match m {
            RedisMsg::Psync { replid, offset } if self.is_master() => {
                self.remember_peer(msg.from, msg.call);
                let now = ctx.now;
                match self.replicas.iter_mut().find(|r| r.node == msg.from) {
                    Some(r) => {
                        r.ack_at = now;
                        r.call = msg.call;
                    }
                    None => self.replicas.push(Replica {
                        node: msg.from,
                        ack_at: now,
                        call: msg.call,
                    }),
                }
                let known = (replid == self.replid && offset <= self.offset())
                    || (replid == self.replid2 && offset <= self.second_offset);
                let from = if known {
                    let c = RedisMsg::Continue {
                        replid: self.replid,
                    };
                    ctx.send(msg.from, msg.call, c.into());
                    offset
                } else {
                    let f = RedisMsg::FullResync {
                        replid: self.replid,
                    };
                    ctx.send(msg.from, msg.call, f.into());
                    0
                };
                for pos in from as usize..self.log.len() {
                    let op = self.log.get(pos).expect("in range");
                    let w = RedisMsg::Write {
                        offset: pos as u32 + 1,
                        op,
                    };
                    ctx.send(msg.from, msg.call, w.into());
                }
                self.update_writable(ctx);
            }
            RedisMsg::Ack { .. } if self.is_master() => {
                if let Some(r) = self.replicas.iter_mut().find(|r| r.node == msg.from) {
                    r.ack_at = ctx.now;
                }
                self.update_writable(ctx);
            }
            RedisMsg::FullResync { replid } | RedisMsg::Continue { replid }
                if self.master == Some(msg.from)
                    && msg.call == self.link_call()
                    && self.link == Link::Syncing =>
            {
                if matches!(m, RedisMsg::FullResync { .. }) {
                    // The master's dataset replaces this one.
                    self.log.truncate(0);
                    ctx.log(
                        msg.from,
                        EventKind::Info,
                        "Full resync from master: discarding previous dataset",
                    );
                } else {
                    ctx.log(msg.from, EventKind::Info, "Successful partial resynchronization with master");
                }
                self.replid = replid;
                self.link = Link::Up;
                self.last_heard = ctx.now;
            }
            RedisMsg::Write { offset, op }
                if self.master == Some(msg.from)
                    && msg.call == self.link_call()
                    && self.link == Link::Up =>
            {
                self.last_heard = ctx.now;
                if offset == self.offset() + 1 {
                    self.log.push(op);
                } else if offset > self.offset() + 1 {
                    // A gap: the stream lost something; sync again.
                    self.link_down(ctx, "Replication stream gap");
                    self.psync(ctx);
                }
            }
            RedisMsg::Ping
                if self.master == Some(msg.from)
                    && msg.call == self.link_call()
                    && self.link == Link::Up =>
            {
                self.last_heard = ctx.now;
            }
            RedisMsg::SentinelPing => {
                self.remember_peer(msg.from, msg.call);
                ctx.send(msg.from, msg.call, RedisMsg::Pong.into());
            }
            RedisMsg::Info => {
                self.remember_peer(msg.from, msg.call);
                let info = RoleInfo {
                    master: self.is_master(),
                    master_of: self.master.unwrap_or(NO_NODE),
                    link_up: self.link == Link::Up,
                    offset: self.offset(),
                    priority: self.priority,
                    link_down_s: match self.link {
                        Link::Up => 0,
                        _ => ctx
                            .now
                            .since(self.link_down_since.min(ctx.now))
                            .as_secs_f64()
                            .min(u16::MAX as f64) as u16,
                    },
                };
                ctx.send(msg.from, msg.call, RedisMsg::InfoReply(info).into());
            }
            RedisMsg::ReplicaOf { master } => self.replicaof(ctx, master),
            // Messages for another role (sent before a role change), or
            // replies only sentinels read.
            RedisMsg::Psync { .. }
            | RedisMsg::Ack { .. }
            | RedisMsg::FullResync { .. }
            | RedisMsg::Continue { .. }
            | RedisMsg::Write { .. }
            | RedisMsg::Ping
            | RedisMsg::Pong
            | RedisMsg::InfoReply(_) => {}
        }
    }

    fn cron(&mut self, ctx: &mut Ctx) {
        match self.master {
            Some(m) => match self.link {
                Link::Up if ctx.now.since(self.last_heard.min(ctx.now)) > self.spec.repl_timeout => {
                    self.link_down(ctx, "MASTER timeout: no data nor PING received");
                }
                Link::Up => {
                    let ack = RedisMsg::Ack {
                        offset: self.offset(),
                    };
                    ctx.send(m, self.link_call(), ack.into());
                }
                // Connecting again every second.
                Link::Down | Link::Syncing => {
                    self.link_gen = self.link_gen.wrapping_add(1);
                    self.psync(ctx);
                }
            },
            None => {
                if ctx.now.since(self.last_ping.min(ctx.now)) >= self.spec.repl_ping_replica_period {
                    self.last_ping = ctx.now;
                    for r in &self.replicas {
                        ctx.send(r.node, r.call, RedisMsg::Ping.into());
                    }
                }
                self.update_writable(ctx);
            }
        }
        ctx.at(ctx.now + REPL_CRON, RedisTimer::Cron);
    }

    fn finish(&mut self, ctx: &mut Ctx, q: Query) {
        if !q.write {
            let log = &self.log;
            if let Some(h) = ctx.history() {
                h.read(q.op, self.me, |w| log.contains(w));
            }
            return self.sessions.ok(ctx, q.id);
        }
        if !self.is_master() && self.spec.replica_read_only {
            return self.sessions.fail(ctx, q.id, errors::READONLY.error);
        }
        if self.is_master() && !self.takes_writes(ctx.now) {
            self.update_writable(ctx);
            return self.sessions.fail(ctx, q.id, errors::NOREPLICAS.error);
        }
        self.log.push(q.op);
        let now = ctx.now;
        if let Some(h) = ctx.history() {
            h.committed(q.op, self.me, now);
        }
        if self.is_master() {
            let w = RedisMsg::Write {
                offset: self.offset(),
                op: q.op,
            };
            for r in &self.replicas {
                ctx.send(r.node, r.call, w.into());
            }
        }
        self.sessions.ok(ctx, q.id);
    }
}

impl Process for Redis {
    type Timer = RedisTimer;

    /// A restart: the role its config file names; without persistence an
    /// empty dataset and a new replication id.
    fn crashed(&mut self, _pristine: &Self) {
        self.sessions = Sessions::new(self.spec.maxclients, errors::SESSION_ERRORS);
        if self.spec.persistence == Persistence::None {
            self.log.truncate(0);
        }
        self.replid = self.new_replid();
        self.replid2 = 0;
        self.second_offset = 0;
        self.master = self.configured_master;
        self.link = Link::Down;
        self.link_gen = self.link_gen.wrapping_add(1);
        self.replicas.clear();
        self.writable = false;
        self.peers.clear();
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        self.last_heard = ctx.now;
        self.link_down_since = ctx.now;
        self.last_ping = ctx.now;
        self.update_writable(ctx);
        self.psync(ctx);
        // replicationCron runs on serverCron's ticks, counted from the
        // process's start.
        ctx.at(ctx.now + boot.first(Dur::ZERO, REPL_CRON), RedisTimer::Cron);
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::Redis(m)) => self.on_repl(ctx, msg, m),
            // A replica left (REPLICAOF elsewhere): it is no longer counted.
            MsgKind::Close
                if self
                    .replicas
                    .iter()
                    .any(|r| r.node == msg.from && r.call == msg.call) =>
            {
                self.replicas.retain(|r| r.node != msg.from);
                self.update_writable(ctx);
            }
            // The master died: its kernel reset the replication link.
            MsgKind::Reset if self.master == Some(msg.from) && msg.call == self.link_call() => {
                self.link_down(ctx, "Connection with master lost");
            }
            // HAProxy's tcp-check: PING / +PONG / info replication / expect
            // role:master, the one Layer 7 check Redis set-ups run. A
            // replica's role:slave does not match and the connection stays
            // open: HAProxy waits for more until its Layer7 timeout.
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                if self.is_master() {
                    ctx.send(msg.from, msg.call, MsgKind::Response { status: 200 });
                }
            }
            _ => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    let mut d = self.service.sample(rng);
                    d = ctx.slowed(d);
                    ctx.at(ctx.now + d, RedisTimer::CommandDone(q.id));
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, _rng: &mut Rng, t: RedisTimer) {
        match t {
            RedisTimer::CommandDone(id) => {
                if let Some(q) = self.sessions.query(id) {
                    self.finish(ctx, q);
                }
            }
            RedisTimer::Cron => self.cron(ctx),
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        let mut v = self.sessions.inbound_peers();
        v.extend_from_slice(&self.peers);
        v
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        Some(FinalData {
            cluster: self.cluster,
            writable: self.is_master(),
            log: &self.log,
        })
    }
}
