//! Redis 7 Cluster (redis-cluster.md, cluster.c of 7.0.15): masters own hash
//! slots, replicas copy them asynchronously, and the nodes judge each other
//! over the cluster bus.
//!
//! - **Bus**: `clusterCron` every 100 ms. Every 10th tick a node pings the
//!   peer with the oldest pong among 5 random ones; any peer whose last pong
//!   is older than NT/2 is pinged at once. Pings and pongs carry gossip about
//!   a few peers plus every peer the sender flags PFAIL; gossip advances a
//!   peer's `pong_received` (1 s resolution). A peer whose oldest unanswered
//!   ping is older than NT, with no data since, is flagged PFAIL.
//! - **FAIL**: a node that flags a peer PFAIL and holds failure reports (from
//!   gossip, valid 2·NT) from a majority of slot-owning masters (itself
//!   counted if it is a master) marks it FAIL and broadcasts it.
//! - **Election**: a replica whose master is FAIL waits 500 ms, plus
//!   U(0, 500 ms), plus rank x 1 s; then it bumps the epoch and asks every
//!   master for its vote; a master votes once per epoch and not twice
//!   within 2·NT for one failed master. A majority wins: the replica takes
//!   the slots with the new config epoch and tells everyone (a pong).
//!   Otherwise it retries after 2·max(2·NT, 2 s). Replicas with stale data
//!   (validity factor) and `cluster-replica-no-failover` do not run.
//! - **State**: `fail` while some slot's owner is FAIL (full coverage) or
//!   while the node sees fewer than a majority of masters reachable; a node
//!   in state `fail` answers CLUSTERDOWN. A master coming back from a
//!   minority waits the rejoin delay; a started master waits 2 s.
//! - **Data**: one log per shard. A master streams each write to its
//!   replicas as it commits it; a replica that sees a gap asks again. A
//!   master that learns a higher config epoch for its slots turns into a
//!   replica of the new owner and resynchronises from scratch, dropping
//!   what it took meanwhile. No persistence (`save ""`, `appendonly no`, as
//!   in the measured case): a restarted node comes back empty and keeps only
//!   nodes.conf (roles, epochs, slot owners).
//!
//! Simplified: no slot migration (no ASK), no replica migration, no manual
//! failover, no config-epoch collision handling; a link's reconnection is a
//! re-sent ping each cron tick while a peer is silent.

pub mod client;
pub mod config;
pub mod errors;
mod product;
pub mod slot;

use crate::data::{DataLog, FinalData};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::process::dist::Sampler;
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NodeId, Process, ReqKind};
use crate::products::{Timer, Wire};
use crate::protocols::sql::{Query, Sessions};
use config::RedisClusterSpec;
use rand::Rng as _;

/// `clusterCron`'s period (hz 10).
pub(super) const CRON: Dur = Dur::from_ms(100);
/// `CLUSTER_FAIL_REPORT_VALIDITY_MULT` and `CLUSTER_FAIL_UNDO_TIME_MULT`.
const FAIL_MULT: u64 = 2;
/// `CLUSTER_MIN_REJOIN_DELAY` .. `CLUSTER_MAX_REJOIN_DELAY`.
const MIN_REJOIN: Dur = Dur::from_ms(500);
const MAX_REJOIN: Dur = Dur::from_ms(5000);
/// `CLUSTER_WRITABLE_DELAY`: a started master stays in state fail this long.
pub(super) const WRITABLE_DELAY: Dur = Dur::from_ms(2000);
/// A member index that names no member.
pub const NONE: u8 = u8::MAX;

/// Redis Cluster's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RedisClusterTimer {
    /// `clusterCron`.
    Cron,
    /// A client command's service time is over.
    CommandDone(CallRef),
    /// Master: `repl-ping-replica-period` is over.
    ReplPing,
}

impl From<RedisClusterTimer> for Timer {
    fn from(t: RedisClusterTimer) -> Timer {
        Timer::RedisCluster(t)
    }
}

/// The cluster bus (and the replication link) between the members, and
/// the topology reply to a client library. Members by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusMsg {
    /// PING or PONG with the sender's header: its master (`NONE` if it is
    /// one), epochs and replication offset.
    Ping {
        pong: bool,
        replica_of: u8,
        config_epoch: u32,
        current_epoch: u32,
        offset: u32,
    },
    /// One gossip entry of the ping before it: the sender's view of `about`
    /// (its last pong in whole seconds).
    Gossip {
        about: u8,
        pfail: bool,
        fail: bool,
        pong_s: u32,
    },
    /// `about` is FAIL.
    Fail { about: u8 },
    /// A replica of `master` asks for a vote in `epoch`, claiming its
    /// master's slots as of `config_epoch`.
    AuthRequest {
        epoch: u32,
        master: u8,
        config_epoch: u32,
    },
    /// A master's vote.
    AuthAck { epoch: u32 },
    /// Shard `shard` belongs to `owner` since `config_epoch`: to a node
    /// that claims it with an older epoch.
    Update {
        shard: u8,
        owner: u8,
        config_epoch: u32,
    },
    /// Replica -> master: send everything after position `from`.
    Sync { from: u32 },
    /// Master -> replica: a replica ahead of its master starts over.
    FullSync,
    /// Master -> replica: the write at position `pos` (1-based) was `op`.
    Write { pos: u32, op: u32 },
    /// Master -> replica: the replication link's ping, with the log length.
    ReplPing { len: u32 },
    /// A node's reply to a topology query (CLUSTER SLOTS), one per range.
    Slots {
        first: u16,
        last: u16,
        master: NodeId,
        more: bool,
    },
}

impl From<BusMsg> for MsgKind {
    fn from(m: BusMsg) -> MsgKind {
        MsgKind::Wire(Wire::RedisCluster(m))
    }
}

/// One node's view of a peer.
#[derive(Clone, Copy, Debug)]
struct Peer {
    replica_of: u8,
    pfail: bool,
    fail: bool,
    fail_time: SimTime,
    ping_sent: Option<SimTime>,
    pong_received: SimTime,
    data_received: SimTime,
    /// As a master: when it last voted for a replica of this peer.
    voted_time: Option<SimTime>,
    offset: u32,
}

/// A shard (a slot range) and the master that owns it.
#[derive(Clone, Copy, Debug)]
struct Shard {
    owner: u8,
    config_epoch: u32,
}

#[derive(Clone)]
pub struct RedisCluster {
    me: NodeId,
    idx: u8,
    members: Vec<NodeId>,
    /// The history's data index of each shard.
    data_index: Vec<u32>,
    spec: RedisClusterSpec,
    service: Sampler,
    sessions: Sessions,
    log: DataLog,
    peers: Vec<Peer>,
    shards: Vec<Shard>,
    /// My master, or `NONE`.
    replica_of: u8,
    current_epoch: u32,
    config_epoch: u32,
    last_vote_epoch: u32,
    /// Failure reports: (about, reporter, when).
    reports: Vec<(u8, u8, SimTime)>,
    state_ok: bool,
    among_minority: Option<SimTime>,
    started: SimTime,
    ticks: u64,
    /// The first cron after a start pings every peer (new links).
    fresh_links: bool,
    auth_time: Option<SimTime>,
    auth_sent: bool,
    auth_count: u32,
    auth_epoch: u32,
    auth_rank: u32,
    cant_failover_logged: bool,
    /// Replica: last data or ping from the master.
    repl_last_io: SimTime,
    writable: bool,
}

/// The shard member `k` of `n` belongs to with `masters` masters.
fn shard_of_member(k: usize, masters: usize) -> usize {
    if k < masters { k } else { (k - masters) % masters }
}

impl RedisCluster {
    pub fn new(
        spec: &RedisClusterSpec,
        me: NodeId,
        members: Vec<NodeId>,
        data_index: Vec<u32>,
    ) -> RedisCluster {
        let m = spec.masters as usize;
        let idx = members.iter().position(|&x| x == me).expect("a member") as u8;
        let peers = (0..members.len())
            .map(|k| Peer {
                replica_of: if k < m {
                    NONE
                } else {
                    shard_of_member(k, m) as u8
                },
                pfail: false,
                fail: false,
                fail_time: SimTime::ZERO,
                ping_sent: None,
                pong_received: SimTime::ZERO,
                data_received: SimTime::ZERO,
                voted_time: None,
                offset: 0,
            })
            .collect();
        let shards = (0..m)
            .map(|s| Shard {
                owner: s as u8,
                // redis-cli --cluster create gives each master its own epoch.
                config_epoch: s as u32 + 1,
            })
            .collect();
        let k = idx as usize;
        RedisCluster {
            me,
            idx,
            data_index,
            service: Sampler::new(&spec.service),
            sessions: Sessions::new(spec.maxclients, errors::SESSION_ERRORS),
            log: DataLog::default(),
            peers,
            shards,
            replica_of: if k < m {
                NONE
            } else {
                shard_of_member(k, m) as u8
            },
            current_epoch: m as u32,
            config_epoch: if k < m { k as u32 + 1 } else { 0 },
            last_vote_epoch: 0,
            reports: Vec::new(),
            state_ok: false,
            among_minority: None,
            started: SimTime::ZERO,
            ticks: 0,
            fresh_links: true,
            auth_time: None,
            auth_sent: false,
            auth_count: 0,
            auth_epoch: 0,
            auth_rank: 0,
            cant_failover_logged: false,
            repl_last_io: SimTime::ZERO,
            writable: false,
            spec: spec.clone(),
            members,
        }
    }

    fn nt(&self) -> Dur {
        self.spec.node_timeout
    }

    fn my_shard(&self) -> usize {
        shard_of_member(self.idx as usize, self.shards.len())
    }

    fn is_master(&self) -> bool {
        self.replica_of == NONE
    }

    /// Whether member `k` owns a shard in this node's view.
    fn owns_slots(&self, k: u8) -> bool {
        self.shards.iter().any(|s| s.owner == k)
    }

    /// Masters owning slots (the failed ones included): the quorum's base.
    fn size(&self) -> usize {
        self.shards.iter().filter(|s| s.owner != NONE).count()
    }

    fn needed(&self) -> usize {
        self.size() / 2 + 1
    }

    fn send(&self, ctx: &mut Ctx, k: u8, m: BusMsg) {
        ctx.send(self.members[k as usize], CallRef::default(), m.into());
    }

    fn others(&self) -> impl Iterator<Item = u8> + use<> {
        let me = self.idx;
        (0..self.members.len() as u8).filter(move |&k| k != me)
    }

    fn header(&self, pong: bool) -> BusMsg {
        BusMsg::Ping {
            pong,
            replica_of: self.replica_of,
            config_epoch: self.config_epoch,
            current_epoch: self.current_epoch,
            offset: self.log.len() as u32,
        }
    }

    /// `clusterSendPing`: the header, then gossip about max(3, n/10)
    /// random peers and every peer flagged PFAIL.
    fn send_ping(&mut self, ctx: &mut Ctx, rng: &mut Rng, to: u8, pong: bool) {
        if !pong && self.peers[to as usize].ping_sent.is_none() {
            self.peers[to as usize].ping_sent = Some(ctx.now);
        }
        self.send(ctx, to, self.header(pong));
        let n = self.members.len();
        let wanted = (n / 10).max(3).min(n.saturating_sub(2));
        let mut picked: u64 = 0;
        let mut count = 0;
        for _ in 0..wanted * 3 {
            if count == wanted {
                break;
            }
            let k = rng.random_range(0..n) as u8;
            if k == self.idx || k == to || picked >> k & 1 == 1 || self.peers[k as usize].pfail
            {
                continue;
            }
            picked |= 1 << k;
            count += 1;
            self.gossip(ctx, to, k);
        }
        for k in 0..n as u8 {
            if k != to && k != self.idx && self.peers[k as usize].pfail {
                self.gossip(ctx, to, k);
            }
        }
    }

    fn gossip(&self, ctx: &mut Ctx, to: u8, k: u8) {
        let p = &self.peers[k as usize];
        let g = BusMsg::Gossip {
            about: k,
            pfail: p.pfail,
            fail: p.fail,
            pong_s: (p.pong_received.0 / 1_000_000_000) as u32,
        };
        self.send(ctx, to, g);
    }

    fn broadcast_pong(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        for k in self.others() {
            self.send_ping(ctx, rng, k, true);
        }
    }

    fn on_cron(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.ticks += 1;
        let now = ctx.now;
        let nt = self.nt();
        let n = self.members.len();
        if std::mem::take(&mut self.fresh_links) {
            for k in self.others() {
                self.send_ping(ctx, rng, k, false);
            }
        }
        if self.ticks.is_multiple_of(10) {
            let mut best: Option<u8> = None;
            for _ in 0..5 {
                let k = rng.random_range(0..n) as u8;
                let p = &self.peers[k as usize];
                if k == self.idx || p.ping_sent.is_some() {
                    continue;
                }
                if best.is_none_or(|b| p.pong_received < self.peers[b as usize].pong_received) {
                    best = Some(k);
                }
            }
            if let Some(k) = best {
                self.send_ping(ctx, rng, k, false);
            }
        }
        for k in self.others() {
            let p = self.peers[k as usize];
            match p.ping_sent {
                None if now.since(p.pong_received.min(now)) > Dur(nt.0 / 2) => {
                    self.send_ping(ctx, rng, k, false);
                }
                // A peer that does not answer: its link is dropped and
                // re-created on the next tick, with the ping sent again on
                // it (`clusterNodeCronHandleReconnect`).
                Some(sent) if now.since(sent) > CRON.times(2) => {
                    self.send_ping(ctx, rng, k, false);
                }
                _ => {}
            }
            let p = &mut self.peers[k as usize];
            if let Some(sent) = p.ping_sent {
                let delay = now.since(sent).min(now.since(p.data_received.min(now)));
                if delay > nt && !p.pfail && !p.fail {
                    p.pfail = true;
                    ctx.log(
                        self.members[k as usize],
                        EventKind::Info,
                        "*** NODE possibly failing (PFAIL)",
                    );
                }
            }
        }
        self.handle_failover(ctx, rng);
        self.update_state(ctx);
        ctx.at(now + CRON, RedisClusterTimer::Cron);
    }

    /// `clusterUpdateState`.
    fn update_state(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        if self.is_master() && !self.state_ok && now.since(self.started) < WRITABLE_DELAY {
            return;
        }
        let mut ok = true;
        if self.spec.require_full_coverage {
            for s in &self.shards {
                if s.owner == NONE || (s.owner != self.idx && self.peers[s.owner as usize].fail) {
                    ok = false;
                }
            }
        }
        let reachable = self
            .shards
            .iter()
            .filter(|s| s.owner != NONE)
            .filter(|s| {
                let p = &self.peers[s.owner as usize];
                s.owner == self.idx || !(p.pfail || p.fail)
            })
            .count();
        if reachable < self.needed() {
            ok = false;
            self.among_minority = Some(now);
        }
        if ok == self.state_ok {
            return;
        }
        if ok && self.is_master() {
            let rejoin = self.nt().max(MIN_REJOIN).min(MAX_REJOIN);
            if self.among_minority.is_some_and(|t| now.since(t) < rejoin) {
                return;
            }
        }
        self.state_ok = ok;
        let (kind, text) = if ok {
            (EventKind::QuorumRegained, "Cluster state changed: ok")
        } else {
            (EventKind::QuorumLost, "Cluster state changed: fail")
        };
        ctx.log(self.me, kind, text);
        self.set_writable(ctx);
    }

    /// Tells the write history whether this node takes writes now.
    fn set_writable(&mut self, ctx: &mut Ctx) {
        let w = self.is_master() && self.state_ok && self.owns_slots(self.idx);
        if w == self.writable {
            return;
        }
        self.writable = w;
        let (now, me, c) = (ctx.now, self.me, self.data_index[self.my_shard()]);
        if let Some(h) = ctx.history() {
            h.set_writable(now, c, me, w.then_some(me));
        }
    }

    /// My rank among my master's replicas: how many have more data.
    fn rank(&self) -> u32 {
        let mine = self.log.len() as u32;
        self.others()
            .filter(|&k| {
                let p = &self.peers[k as usize];
                p.replica_of == self.replica_of && p.offset > mine
            })
            .count() as u32
    }

    /// `clusterHandleSlaveFailover`.
    fn handle_failover(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let m = self.replica_of;
        if m == NONE
            || !self.peers[m as usize].fail
            || self.spec.replica_no_failover
            || !self.owns_slots(m)
        {
            return;
        }
        let now = ctx.now;
        let nt = self.nt();
        let mut age = now.since(self.repl_last_io.min(now));
        if age > nt {
            age = age.saturating_sub(nt);
        }
        let factor = self.spec.validity_factor as u64;
        if factor > 0 && age > self.spec.repl_ping_replica_period + nt.times(factor) {
            if !std::mem::replace(&mut self.cant_failover_logged, true) {
                ctx.log(
                    self.me,
                    EventKind::Info,
                    "Currently unable to failover: Disconnected from master for longer than allowed",
                );
            }
            return;
        }
        let auth_timeout = nt.times(2).max(Dur::from_ms(2000));
        let retry = auth_timeout.times(2);
        let expired = self.auth_time.is_none_or(|t| now > t && now.since(t) > retry);
        if expired {
            self.auth_rank = self.rank();
            let delay = Dur::from_ms(500 + rng.random_range(0..500) + 1000 * self.auth_rank as u64);
            self.auth_time = Some(now + delay);
            self.auth_count = 0;
            self.auth_sent = false;
            ctx.log(
                self.me,
                EventKind::Info,
                format!(
                    "Start of election delayed for {} milliseconds (rank #{}, offset {})",
                    delay.0 / 1_000_000,
                    self.auth_rank,
                    self.log.len()
                ),
            );
            return;
        }
        let at = self.auth_time.expect("scheduled");
        if !self.auth_sent {
            let rank = self.rank();
            if rank > self.auth_rank {
                self.auth_time = Some(at + Dur::from_secs((rank - self.auth_rank) as u64));
                self.auth_rank = rank;
                return;
            }
        }
        if now < at || now.since(at) > auth_timeout {
            return;
        }
        if !self.auth_sent {
            self.current_epoch += 1;
            self.auth_epoch = self.current_epoch;
            self.auth_sent = true;
            let req = BusMsg::AuthRequest {
                epoch: self.current_epoch,
                master: m,
                config_epoch: self.shards[self.my_shard()].config_epoch,
            };
            for k in self.others() {
                self.send(ctx, k, req);
            }
            ctx.log(
                self.me,
                EventKind::Info,
                format!(
                    "Starting a failover election for epoch {}",
                    self.current_epoch
                ),
            );
            return;
        }
        if self.auth_count as usize >= self.needed() {
            self.take_over(ctx, rng);
        }
    }

    /// The election is won: my master's slots are mine.
    fn take_over(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let old = self.replica_of;
        let s = self.my_shard();
        self.replica_of = NONE;
        self.config_epoch = self.auth_epoch;
        self.shards[s] = Shard {
            owner: self.idx,
            config_epoch: self.auth_epoch,
        };
        self.peers[old as usize].replica_of = self.idx;
        self.auth_time = None;
        ctx.log(
            self.me,
            EventKind::Promoted,
            format!(
                "Failover election won: I'm the new master (configEpoch {})",
                self.config_epoch
            ),
        );
        self.broadcast_pong(ctx, rng);
        ctx.at(
            ctx.now + self.spec.repl_ping_replica_period,
            RedisClusterTimer::ReplPing,
        );
        self.update_state(ctx);
        self.set_writable(ctx);
    }

    fn on_bus(&mut self, ctx: &mut Ctx, rng: &mut Rng, from: u8, m: BusMsg) {
        self.peers[from as usize].data_received = ctx.now;
        match m {
            BusMsg::Ping {
                pong,
                replica_of,
                config_epoch,
                current_epoch,
                offset,
            } => {
                self.peers[from as usize].offset = offset;
                self.header_from(ctx, from, replica_of, config_epoch, current_epoch);
                if pong {
                    self.pong_from(ctx, from);
                } else {
                    self.send_ping(ctx, rng, from, true);
                }
                self.update_state(ctx);
            }
            BusMsg::Gossip {
                about,
                pfail,
                fail,
                pong_s,
            } => self.gossip_from(ctx, from, about, pfail, fail, pong_s),
            BusMsg::Fail { about } => {
                let p = &mut self.peers[about as usize];
                if about != self.idx && !p.fail {
                    p.fail = true;
                    p.pfail = false;
                    p.fail_time = ctx.now;
                    ctx.log(
                        self.members[about as usize],
                        EventKind::Info,
                        format!("FAIL message received from {}", ctx.name_of(self.members[from as usize])),
                    );
                    self.update_state(ctx);
                }
            }
            BusMsg::AuthRequest {
                epoch,
                master,
                config_epoch,
            } => self.vote(ctx, from, epoch, master, config_epoch),
            BusMsg::AuthAck { epoch } => {
                if self.owns_slots(from)
                    && self.peers[from as usize].replica_of == NONE
                    && epoch >= self.auth_epoch
                    && self.auth_sent
                {
                    self.auth_count += 1;
                    self.handle_failover(ctx, rng);
                }
            }
            BusMsg::Update {
                shard,
                owner,
                config_epoch,
            } => self.claim(ctx, shard as usize, owner, config_epoch),
            BusMsg::Sync { from: pos } => self.sync_from(ctx, from, pos),
            BusMsg::FullSync if from == self.replica_of => {
                self.log.truncate(0);
                self.send(ctx, from, BusMsg::Sync { from: 0 });
            }
            BusMsg::Write { pos, op } if from == self.replica_of => {
                self.repl_last_io = ctx.now;
                let len = self.log.len() as u32;
                if pos == len + 1 {
                    self.log.push(op);
                } else if pos > len + 1 {
                    self.send(ctx, from, BusMsg::Sync { from: len });
                }
            }
            BusMsg::ReplPing { len } if from == self.replica_of => {
                self.repl_last_io = ctx.now;
                let mine = self.log.len() as u32;
                if len < mine {
                    self.log.truncate(0);
                    self.send(ctx, from, BusMsg::Sync { from: 0 });
                } else if len > mine {
                    self.send(ctx, from, BusMsg::Sync { from: mine });
                }
            }
            // Replication from a node that is not (or no longer) my master,
            // and replies meant for clients.
            BusMsg::FullSync
            | BusMsg::Write { .. }
            | BusMsg::ReplPing { .. }
            | BusMsg::Slots { .. } => {}
        }
    }

    /// The sender's header: its epochs, its role, the slots it claims.
    fn header_from(&mut self, ctx: &mut Ctx, j: u8, replica_of: u8, config_epoch: u32, epoch: u32) {
        self.current_epoch = self.current_epoch.max(epoch).max(config_epoch);
        let s = shard_of_member(j as usize, self.shards.len());
        if replica_of != NONE {
            self.peers[j as usize].replica_of = replica_of;
            if self.shards[s].owner == j {
                // A master turned replica: its slots are unowned until
                // another claims them.
                self.shards[s].owner = NONE;
            }
            return;
        }
        self.peers[j as usize].replica_of = NONE;
        let cur = self.shards[s];
        if cur.owner == j {
            self.shards[s].config_epoch = cur.config_epoch.max(config_epoch);
        } else if cur.owner == NONE || config_epoch > cur.config_epoch {
            self.claim(ctx, s, j, config_epoch);
        } else if config_epoch < cur.config_epoch {
            let u = BusMsg::Update {
                shard: s as u8,
                owner: cur.owner,
                config_epoch: cur.config_epoch,
            };
            self.send(ctx, j, u);
        }
    }

    /// Shard `s` is `owner`'s since `config_epoch`, if newer than what this
    /// node knows (`clusterUpdateSlotsConfigWith`).
    fn claim(&mut self, ctx: &mut Ctx, s: usize, owner: u8, config_epoch: u32) {
        let cur = self.shards[s];
        if cur.owner == owner || (cur.owner != NONE && config_epoch <= cur.config_epoch) {
            return;
        }
        self.shards[s] = Shard {
            owner,
            config_epoch,
        };
        self.peers[owner as usize].replica_of = NONE;
        if cur.owner == self.idx {
            // My slots went to another master: I become its replica and
            // start over from its data (a full resync).
            self.replica_of = owner;
            self.auth_time = None;
            let detail = format!(
                "Configuration change detected. Reconfiguring myself as a replica of {}",
                ctx.name_of(self.members[owner as usize])
            );
            ctx.log(self.me, EventKind::Demoted, detail);
            self.set_writable(ctx);
            self.log.truncate(0);
            self.repl_last_io = ctx.now;
            self.send(ctx, owner, BusMsg::Sync { from: 0 });
        } else if self.replica_of != NONE && s == self.my_shard() && owner != self.idx {
            self.replica_of = owner;
            self.repl_last_io = ctx.now;
            let from = self.log.len() as u32;
            self.send(ctx, owner, BusMsg::Sync { from });
        }
        self.update_state(ctx);
    }

    fn pong_from(&mut self, ctx: &mut Ctx, j: u8) {
        let now = ctx.now;
        let nt = self.nt();
        let owns = self.owns_slots(j);
        let p = &mut self.peers[j as usize];
        p.pong_received = now;
        p.ping_sent = None;
        if p.pfail {
            p.pfail = false;
            ctx.log(self.members[j as usize], EventKind::Info, "Clear PFAIL: node is reachable again");
        } else if p.fail {
            // `clearNodeFailureIfNeeded`: a replica or a slotless master at
            // once, a master with slots after 2 x NT.
            let undo = p.replica_of != NONE || !owns || now.since(p.fail_time) > nt.times(FAIL_MULT);
            if undo {
                p.fail = false;
                ctx.log(
                    self.members[j as usize],
                    EventKind::MarkedUp,
                    "Clear FAIL state for node: it is reachable again",
                );
            }
        }
    }

    fn gossip_from(&mut self, ctx: &mut Ctx, s: u8, k: u8, pfail: bool, fail: bool, pong_s: u32) {
        if k == self.idx {
            return;
        }
        let now = ctx.now;
        if self.peers[s as usize].replica_of == NONE {
            self.reports.retain(|r| !(r.0 == k && r.1 == s));
            if pfail || fail {
                self.reports.push((k, s, now));
                self.mark_failing(ctx, k);
            }
        }
        let p = &mut self.peers[k as usize];
        let pong = SimTime(pong_s as u64 * 1_000_000_000);
        let reported = self.reports.iter().any(|r| r.0 == k);
        if !pfail && !fail && p.ping_sent.is_none() && !reported && pong > p.pong_received && pong <= now {
            p.pong_received = pong;
        }
    }

    /// `markNodeAsFailingIfNeeded`.
    fn mark_failing(&mut self, ctx: &mut Ctx, k: u8) {
        let p = self.peers[k as usize];
        if !p.pfail || p.fail {
            return;
        }
        let now = ctx.now;
        let validity = self.nt().times(FAIL_MULT);
        self.reports.retain(|r| now.since(r.2) <= validity);
        let mut failures = self.reports.iter().filter(|r| r.0 == k).count();
        if self.is_master() {
            failures += 1;
        }
        if failures < self.needed() {
            return;
        }
        let p = &mut self.peers[k as usize];
        p.fail = true;
        p.pfail = false;
        p.fail_time = now;
        ctx.log(
            self.members[k as usize],
            EventKind::Evicted,
            "Marking node as failing (quorum reached)",
        );
        for j in self.others() {
            self.send(ctx, j, BusMsg::Fail { about: k });
        }
        self.update_state(ctx);
    }

    /// `clusterSendFailoverAuthIfNeeded`.
    fn vote(&mut self, ctx: &mut Ctx, j: u8, epoch: u32, master: u8, config_epoch: u32) {
        self.current_epoch = self.current_epoch.max(epoch);
        if !self.is_master() || !self.owns_slots(self.idx) {
            return;
        }
        if epoch < self.current_epoch || self.last_vote_epoch == self.current_epoch {
            return;
        }
        let now = ctx.now;
        let m = &self.peers[master as usize];
        if !m.fail || m.voted_time.is_some_and(|t| now.since(t) < self.nt().times(2)) {
            return;
        }
        let s = shard_of_member(master as usize, self.shards.len());
        if self.shards[s].config_epoch > config_epoch {
            return;
        }
        self.last_vote_epoch = self.current_epoch;
        self.peers[master as usize].voted_time = Some(now);
        self.send(ctx, j, BusMsg::AuthAck { epoch });
    }

    /// A replica asks for the writes after `pos`.
    fn sync_from(&mut self, ctx: &mut Ctx, j: u8, pos: u32) {
        if !self.is_master() {
            return;
        }
        self.peers[j as usize].replica_of = self.idx;
        let len = self.log.len() as u32;
        if pos > len {
            self.send(ctx, j, BusMsg::FullSync);
            return;
        }
        for p in pos..len {
            let op = self.log.get(p as usize).expect("in range");
            self.send(ctx, j, BusMsg::Write { pos: p + 1, op });
        }
    }

    /// Runs a client's command once its service time is over.
    fn execute(&mut self, ctx: &mut Ctx, q: Query) {
        if !self.state_ok && (q.write || !self.spec.allow_reads_when_down) {
            return self.sessions.fail(ctx, q.id, errors::CLUSTERDOWN.error);
        }
        let s = slot::shard_of(slot::of_op(q.op), self.shards.len() as u16) as usize;
        if self.shards[s].owner != self.idx {
            return self.sessions.fail(ctx, q.id, errors::MOVED.error);
        }
        if !q.write {
            // Judged against this shard's writes only: a write to another
            // shard's key is not this read's to see.
            let (log, n) = (&self.log, self.shards.len() as u16);
            if let Some(h) = ctx.history() {
                let other = |w| slot::shard_of(slot::of_op(w), n) as usize != s;
                h.read(q.op, self.me, |w| other(w) || log.contains(w));
            }
            return self.sessions.ok(ctx, q.id);
        }
        self.log.push(q.op);
        let (now, me) = (ctx.now, self.me);
        if let Some(h) = ctx.history() {
            h.committed(q.op, me, now);
        }
        let pos = self.log.len() as u32;
        for k in self.others() {
            if self.peers[k as usize].replica_of == self.idx {
                self.send(ctx, k, BusMsg::Write { pos, op: q.op });
            }
        }
        self.sessions.ok(ctx, q.id);
    }

    /// CLUSTER SLOTS: one reply per shard, its range and owner.
    fn slots_reply(&self, ctx: &mut Ctx, msg: &Msg) {
        let n = self.shards.len() as u16;
        for (i, s) in self.shards.iter().enumerate() {
            let (first, last) = slot::range(i as u16, n);
            let master = match s.owner {
                NONE => crate::process::NO_PEER,
                o => self.members[o as usize],
            };
            let r = BusMsg::Slots {
                first,
                last,
                master,
                more: i + 1 < self.shards.len(),
            };
            ctx.send(msg.from, msg.call, r.into());
        }
    }
}

impl Process for RedisCluster {
    type Timer = RedisClusterTimer;

    fn crashed(&mut self, _pristine: &Self) {
        // nodes.conf is kept (roles, epochs, slot owners, votes); the
        // dataset is not (no RDB, no AOF).
        self.sessions = Sessions::new(self.spec.maxclients, errors::SESSION_ERRORS);
        self.log = DataLog::default();
        self.reports.clear();
        self.auth_time = None;
        self.auth_sent = false;
        self.writable = false;
        self.state_ok = false;
        self.among_minority = None;
        self.fresh_links = true;
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        let now = ctx.now;
        self.started = now;
        self.repl_last_io = now;
        for p in &mut self.peers {
            p.ping_sent = None;
            p.pong_received = now;
            p.data_received = now;
            p.pfail = false;
        }
        // clusterCron on serverCron's ticks, from the process's start.
        ctx.at(now + boot.first(Dur::ZERO, CRON), RedisClusterTimer::Cron);
        if self.is_master() {
            let period = self.spec.repl_ping_replica_period;
            ctx.at(
                now + boot.first(period, period),
                RedisClusterTimer::ReplPing,
            );
        } else {
            let from = self.log.len() as u32;
            self.send(ctx, self.replica_of, BusMsg::Sync { from });
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::RedisCluster(m)) => {
                if let Some(k) = self.members.iter().position(|&x| x == msg.from) {
                    self.on_bus(ctx, rng, k as u8, m);
                }
            }
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => self.slots_reply(ctx, &msg),
            _ => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    let mut d = self.service.sample(rng);
                    d = ctx.slowed(d);
                    ctx.at(ctx.now + d, RedisClusterTimer::CommandDone(q.id));
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: RedisClusterTimer) {
        match t {
            RedisClusterTimer::Cron => self.on_cron(ctx, rng),
            RedisClusterTimer::CommandDone(id) => {
                if let Some(q) = self.sessions.query(id) {
                    self.execute(ctx, q);
                }
            }
            RedisClusterTimer::ReplPing => {
                if !self.is_master() {
                    return;
                }
                let ping = BusMsg::ReplPing {
                    len: self.log.len() as u32,
                };
                for k in self.others() {
                    if self.peers[k as usize].replica_of == self.idx {
                        self.send(ctx, k, ping);
                    }
                }
                ctx.at(
                    ctx.now + self.spec.repl_ping_replica_period,
                    RedisClusterTimer::ReplPing,
                );
            }
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.sessions.inbound_peers()
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        Some(FinalData {
            cluster: self.data_index[self.my_shard()],
            writable: self.writable,
            log: &self.log,
        })
    }
}

#[cfg(test)]
mod tests;
