//! Redis Sentinel 7.0 (redis-sentinel.md; src/sentinel.c): each sentinel
//! PINGs every instance of its monitored group (master and replicas) every
//! min(down-after, 1 s) and sends INFO every 10 s (1 s to the replicas of
//! a master that is ODOWN or failing over, or that report a broken link).
//! An instance is SDOWN when its oldest unanswered PING is older than
//! `down-after-milliseconds`; a killed process resets the link, and the
//! reconnect a tick later queues a PING that starts that clock, while a
//! stopped or blackholed one starts it only at the next PING. The master is
//! ODOWN when `quorum` sentinels (itself included) say SDOWN, asked every
//! second with `is-master-down-by-addr`. A sentinel that sees ODOWN starts
//! a failover in a new epoch and asks for votes; each sentinel votes once
//! per epoch, for the first candidate that asks (a candidate votes for
//! itself, or for the one most others chose). The leader needs
//! max(quorum, majority of all sentinels) votes within min(10 s,
//! failover-timeout), else it gives up and does not try again for twice
//! the failover timeout. The leader picks a replica (priority, then
//! offset), sends REPLICAOF NO ONE, waits for INFO to show role:master,
//! reconfigures the other replicas `parallel-syncs` at a time, then
//! switches its configuration (+switch-master). Every sentinel publishes
//! its configuration (master, config epoch) every 2 s; a higher config
//! epoch wins, which is how the others switch. A replica that reports
//! role:master for more than 8 s while the master looks sane is converted
//! back (+convert-to-slave).
//!
//! Simplified: the sentinels and the group's replicas are known from the
//! start (the real ones discover them within seconds through INFO and
//! hello), hellos go straight to the other sentinels (not through a pub/sub
//! channel on every instance), no TILT mode, no scripts, no
//! `SENTINEL FAILOVER`, unanswered INFO is resent once a second rather than
//! every tick.

pub mod client;
pub mod config;
mod product;

use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::process::{Boot, CallRef, Ctx, DbErrorCode, Meaning, Msg, MsgKind, NodeId, Process, ReqKind};
use crate::products::redis::{NO_NODE, RedisMsg, RoleInfo};
use crate::products::{Timer, Wire};
use config::SentinelSpec;
use rand::Rng as _;

/// redis-py's `MasterNotFoundError`: no sentinel named a master that is up
/// (a client library's error, in the table of the product it is about).
pub const NO_MASTER: DbErrorCode = DbErrorCode::new(
    "NOMASTER",
    "MasterNotFoundError",
    "No master found for 'mymaster'",
    Meaning::NotReady,
);

/// `SENTINEL_PING_PERIOD`, also the reconnect period and
/// `SENTINEL_ASK_PERIOD`.
const PERIOD_1S: Dur = Dur::from_secs(1);
/// `SENTINEL_INFO_PERIOD`.
const INFO_PERIOD: Dur = Dur::from_secs(10);
/// `SENTINEL_PUBLISH_PERIOD`: hello.
const HELLO_PERIOD: Dur = Dur::from_secs(2);
/// `SENTINEL_ELECTION_TIMEOUT`.
const ELECTION_TIMEOUT: Dur = Dur::from_secs(10);
/// `SENTINEL_MAX_DESYNC` (ms).
const MAX_DESYNC_MS: u64 = 1000;
/// `SENTINEL_SLAVE_RECONF_TIMEOUT`.
const RECONF_TIMEOUT: Dur = Dur::from_secs(10);
/// An is-master-down-by-addr reply counts this long (5 x ask period).
const REPLY_VALIDITY: Dur = Dur::from_secs(5);

/// Sentinel's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentinelTimer {
    /// sentinelTimer: every 1/hz s, hz drawn in 10..=19 each time.
    Tick,
}

impl From<SentinelTimer> for Timer {
    fn from(t: SentinelTimer) -> Timer {
        Timer::Sentinel(t)
    }
}

/// What sentinels say to each other and to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentinelMsg {
    /// The hello message: the sender's master for the group, its config
    /// epoch, and the sender's current epoch.
    Hello {
        master: NodeId,
        config_epoch: u32,
        current_epoch: u32,
    },
    /// SENTINEL is-master-down-by-addr, asking for a vote when `vote`.
    IsMasterDown {
        master: NodeId,
        epoch: u32,
        vote: bool,
    },
    /// Its reply: whether the master is SDOWN here, and this sentinel's
    /// vote ([`NO_NODE`] for none).
    IsMasterDownReply {
        master: NodeId,
        down: bool,
        leader: NodeId,
        leader_epoch: u32,
    },
    /// Sentinel -> client: the group's entry of SENTINEL MASTERS: the
    /// master's address and whether it is flagged s_down or o_down.
    MasterIs { master: NodeId, down: bool },
}

impl From<SentinelMsg> for MsgKind {
    fn from(m: SentinelMsg) -> MsgKind {
        MsgKind::Wire(Wire::Sentinel(m))
    }
}

/// The failover state machine (`SENTINEL_FAILOVER_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Failover {
    None,
    WaitStart,
    SelectSlave,
    SendSlaveofNoone,
    WaitPromotion,
    ReconfSlaves,
    UpdateConfig,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reconf {
    None,
    Sent(SimTime),
    InProg,
    Done,
}

/// A redis instance as this sentinel sees it.
#[derive(Clone, Copy, Debug)]
struct Inst {
    node: NodeId,
    connected: bool,
    link_gen: u32,
    last_reconn: Option<SimTime>,
    /// Send time of the oldest unanswered PING.
    act_ping: Option<SimTime>,
    last_ping: Option<SimTime>,
    last_pong: SimTime,
    last_avail: SimTime,
    sdown: bool,
    sdown_since: Option<SimTime>,
    info_at: Option<SimTime>,
    info_sent: Option<SimTime>,
    /// The last INFO.
    info: RoleInfo,
    role_reported_master: bool,
    role_reported_time: SimTime,
    /// The master it reported following, and since when.
    reported_master_of: NodeId,
    master_of_changed: SimTime,
    reconf: Reconf,
}

impl Inst {
    /// A new instance record (createSentinelRedisInstance): its link not
    /// connected yet, with a PING counted as pending from now.
    fn fresh(node: NodeId, now: SimTime, master: bool, link_gen: u32) -> Inst {
        Inst {
            node,
            connected: false,
            link_gen,
            last_reconn: None,
            act_ping: Some(now),
            last_ping: None,
            last_pong: now,
            last_avail: now,
            sdown: false,
            sdown_since: None,
            info_at: None,
            info_sent: None,
            info: RoleInfo {
                master,
                master_of: NO_NODE,
                link_up: false,
                offset: 0,
                priority: 100,
                link_down_s: 0,
            },
            role_reported_master: master,
            role_reported_time: now,
            reported_master_of: NO_NODE,
            master_of_changed: now,
            reconf: Reconf::None,
        }
    }

    fn no_down_for(&self, now: SimTime, d: Dur) -> bool {
        self.sdown_since.is_none_or(|t| now.since(t.min(now)) > d)
    }
}

/// Another sentinel.
#[derive(Clone, Copy, Debug)]
struct Peer {
    node: NodeId,
    down: bool,
    reply_at: Option<SimTime>,
    asked_at: Option<SimTime>,
    leader: NodeId,
    leader_epoch: u32,
}

#[derive(Clone)]
pub struct Sentinel {
    me: NodeId,
    spec: SentinelSpec,
    insts: Vec<Inst>,
    peers: Vec<Peer>,
    /// Index in `insts` of the master.
    master: usize,
    config_epoch: u32,
    current_epoch: u32,
    odown: bool,
    /// This sentinel's vote for the master's failover.
    leader: NodeId,
    leader_epoch: u32,
    failover: Failover,
    failover_epoch: u32,
    failover_start: Option<SimTime>,
    failover_state_change: SimTime,
    promoted: Option<usize>,
    last_hello: Option<SimTime>,
    delay_logged: bool,
}

impl Sentinel {
    pub fn new(spec: &SentinelSpec, me: NodeId, redis: &[NodeId], sentinels: &[NodeId]) -> Sentinel {
        Sentinel {
            me,
            spec: spec.clone(),
            insts: redis
                .iter()
                .enumerate()
                .map(|(i, &n)| Inst::fresh(n, SimTime::ZERO, i == 0, 0))
                .collect(),
            peers: sentinels
                .iter()
                .filter(|&&s| s != me)
                .map(|&node| Peer {
                    node,
                    down: false,
                    reply_at: None,
                    asked_at: None,
                    leader: NO_NODE,
                    leader_epoch: 0,
                })
                .collect(),
            master: 0,
            config_epoch: 0,
            current_epoch: 0,
            odown: false,
            leader: NO_NODE,
            leader_epoch: 0,
            failover: Failover::None,
            failover_epoch: 0,
            failover_start: None,
            failover_state_change: SimTime::ZERO,
            promoted: None,
            last_hello: None,
            delay_logged: false,
        }
    }

    fn ping_period(&self) -> Dur {
        self.spec.down_after.min(PERIOD_1S)
    }

    fn master_node(&self) -> NodeId {
        self.insts[self.master].node
    }

    /// sentinelGetCurrentMasterAddress: the promoted replica once the
    /// leader reconfigures the others.
    fn current_master_addr(&self) -> NodeId {
        match self.promoted {
            Some(p) if self.failover >= Failover::ReconfSlaves => self.insts[p].node,
            _ => self.master_node(),
        }
    }

    fn call(&self, i: usize) -> CallRef {
        CallRef {
            slot: i as u32,
            generation: self.insts[i].link_gen,
        }
    }

    fn send(&mut self, ctx: &mut Ctx, i: usize, m: RedisMsg) {
        let call = self.call(i);
        ctx.send(self.insts[i].node, call, m.into());
    }

    fn send_ping(&mut self, ctx: &mut Ctx, i: usize) {
        let now = ctx.now;
        let inst = &mut self.insts[i];
        inst.last_ping = Some(now);
        inst.act_ping.get_or_insert(now);
        self.send(ctx, i, RedisMsg::SentinelPing);
    }

    fn info_period(&self, i: usize) -> Dur {
        let inst = &self.insts[i];
        let failing = self.odown || self.failover != Failover::None;
        if i != self.master && (failing || (inst.info_at.is_some() && !inst.info.master && !inst.info.link_up)) {
            PERIOD_1S
        } else {
            INFO_PERIOD
        }
    }

    fn log_inst(&self, ctx: &mut Ctx, i: usize, kind: EventKind, what: &str) {
        let role = if i == self.master { "master" } else { "slave" };
        let detail = format!("{what} {role} {}", ctx.name_of(self.insts[i].node));
        ctx.log(self.insts[i].node, kind, detail);
    }

    fn log_master(&self, ctx: &mut Ctx, what: &str) {
        let detail = format!(
            "{what} master {} {}",
            self.spec.monitor,
            ctx.name_of(self.master_node())
        );
        ctx.log(self.master_node(), EventKind::Info, detail);
    }

    /// sentinelReconnectInstance + sentinelSendPeriodicCommands.
    fn periodic(&mut self, ctx: &mut Ctx, i: usize) {
        let now = ctx.now;
        let p = self.ping_period();
        if !self.insts[i].connected {
            if self.insts[i]
                .last_reconn
                .is_some_and(|t| now.since(t) < PERIOD_1S)
            {
                return;
            }
            let inst = &mut self.insts[i];
            inst.last_reconn = Some(now);
            inst.connected = true;
            inst.link_gen = inst.link_gen.wrapping_add(1);
            self.send_ping(ctx, i);
        }
        let period = self.info_period(i);
        let inst = self.insts[i];
        let stale = inst.info_at.is_none_or(|t| now.since(t) > period);
        let resend = inst.info_sent.is_none_or(|t| now.since(t) >= period.min(PERIOD_1S));
        if stale && resend {
            self.insts[i].info_sent = Some(now);
            self.send(ctx, i, RedisMsg::Info);
        }
        let inst = self.insts[i];
        if now.since(inst.last_pong.min(now)) > p
            && inst.last_ping.is_none_or(|t| now.since(t) > Dur(p.0 / 2))
        {
            self.send_ping(ctx, i);
        }
    }

    /// sentinelCheckSubjectivelyDown.
    fn check_sdown(&mut self, ctx: &mut Ctx, i: usize) {
        let now = ctx.now;
        let inst = self.insts[i];
        let elapsed = match inst.act_ping {
            Some(t) => now.since(t.min(now)),
            None if !inst.connected => now.since(inst.last_avail.min(now)),
            None => Dur::ZERO,
        };
        let role_wrong = i == self.master
            && !inst.role_reported_master
            && now.since(inst.role_reported_time.min(now))
                > self.spec.down_after + INFO_PERIOD.times(2);
        let down = elapsed > self.spec.down_after || role_wrong;
        if down && !inst.sdown {
            self.insts[i].sdown = true;
            self.insts[i].sdown_since = Some(now);
            let kind = if i == self.master {
                EventKind::MarkedDown
            } else {
                EventKind::Info
            };
            self.log_inst(ctx, i, kind, "+sdown");
        } else if !down && inst.sdown {
            self.insts[i].sdown = false;
            let kind = if i == self.master {
                EventKind::MarkedUp
            } else {
                EventKind::Info
            };
            self.log_inst(ctx, i, kind, "-sdown");
        }
    }

    /// sentinelCheckObjectivelyDown.
    fn check_odown(&mut self, ctx: &mut Ctx) {
        let sdown = self.insts[self.master].sdown;
        let votes = 1 + self.peers.iter().filter(|p| p.down).count() as u32;
        let odown = sdown && votes >= self.spec.quorum;
        if odown && !self.odown {
            self.odown = true;
            let what = format!("+odown #quorum {votes}/{}", self.spec.quorum);
            self.log_master(ctx, &what);
        } else if !odown && self.odown {
            self.odown = false;
            self.log_master(ctx, "-odown");
        }
    }

    /// sentinelStartFailoverIfNeeded + sentinelStartFailover.
    fn start_failover_if_needed(&mut self, ctx: &mut Ctx, rng: &mut Rng) -> bool {
        if !self.odown || self.failover != Failover::None {
            return false;
        }
        let block = self.spec.failover_timeout.times(2);
        if let Some(t) = self.failover_start
            && ctx.now < t + block
        {
            if !self.delay_logged {
                self.delay_logged = true;
                let what = format!(
                    "Next failover delay: I will not start a failover before {:.3}s",
                    (t + block).as_secs_f64()
                );
                ctx.log(self.master_node(), EventKind::Info, what);
            }
            return false;
        }
        self.failover = Failover::WaitStart;
        self.current_epoch += 1;
        self.failover_epoch = self.current_epoch;
        let what = format!("+new-epoch {}", self.current_epoch);
        ctx.log(self.me, EventKind::Info, what);
        self.failover_start = Some(ctx.now + Dur::from_ms(rng.random_range(0..MAX_DESYNC_MS)));
        self.failover_state_change = ctx.now;
        self.delay_logged = false;
        self.log_master(ctx, "+try-failover");
        true
    }

    /// sentinelAskMasterStateToOtherSentinels.
    fn ask_others(&mut self, ctx: &mut Ctx, forced: bool) {
        let now = ctx.now;
        for p in &mut self.peers {
            if p.reply_at.is_some_and(|t| now.since(t) > REPLY_VALIDITY) {
                p.down = false;
                p.leader = NO_NODE;
                p.reply_at = None;
            }
        }
        if !self.insts[self.master].sdown {
            return;
        }
        let ask = SentinelMsg::IsMasterDown {
            master: self.master_node(),
            epoch: self.current_epoch,
            vote: self.failover > Failover::None,
        };
        for p in &mut self.peers {
            let due = p.reply_at.is_none_or(|t| now.since(t) >= PERIOD_1S)
                && p.asked_at.is_none_or(|t| now.since(t) >= PERIOD_1S);
            if forced || due {
                p.asked_at = Some(now);
                ctx.send(p.node, CallRef::default(), ask.into());
            }
        }
    }

    /// sentinelVoteLeader: votes for `candidate` in `epoch` unless it voted
    /// in that epoch already; returns its vote.
    fn vote(&mut self, ctx: &mut Ctx, rng: &mut Rng, epoch: u32, candidate: NodeId) -> (NodeId, u32) {
        if epoch > self.current_epoch {
            self.current_epoch = epoch;
            let what = format!("+new-epoch {epoch}");
            ctx.log(self.me, EventKind::Info, what);
        }
        if self.leader_epoch < epoch && self.current_epoch <= epoch {
            self.leader = candidate;
            self.leader_epoch = self.current_epoch;
            let what = format!("+vote-for-leader {} {}", ctx.name_of(candidate), self.leader_epoch);
            ctx.log(candidate, EventKind::Info, what);
            if candidate != self.me {
                // Voting for another blocks this sentinel's own attempt.
                self.failover_start =
                    Some(ctx.now + Dur::from_ms(rng.random_range(0..MAX_DESYNC_MS)));
            }
        }
        (self.leader, self.leader_epoch)
    }

    /// sentinelGetLeader: the winner of `epoch`, voting on the way.
    fn get_leader(&mut self, ctx: &mut Ctx, rng: &mut Rng, epoch: u32) -> Option<NodeId> {
        // Tallies by candidate (a handful of sentinels: a small list).
        let mut tally: Vec<(NodeId, u32)> = Vec::with_capacity(self.peers.len() + 1);
        let incr = |tally: &mut Vec<(NodeId, u32)>, n: NodeId| -> u32 {
            match tally.iter_mut().find(|t| t.0 == n) {
                Some(t) => {
                    t.1 += 1;
                    t.1
                }
                None => {
                    tally.push((n, 1));
                    1
                }
            }
        };
        for p in &self.peers {
            if p.leader != NO_NODE && p.leader_epoch == self.current_epoch {
                incr(&mut tally, p.leader);
            }
        }
        let mut winner: Option<(NodeId, u32)> = None;
        for &(n, v) in &tally {
            if winner.is_none_or(|w| v > w.1) {
                winner = Some((n, v));
            }
        }
        let candidate = winner.map_or(self.me, |w| w.0);
        let (myvote, vote_epoch) = self.vote(ctx, rng, epoch, candidate);
        if myvote != NO_NODE && vote_epoch == epoch {
            let v = incr(&mut tally, myvote);
            if winner.is_none_or(|w| v > w.1) {
                winner = Some((myvote, v));
            }
        }
        let voters = self.peers.len() as u32 + 1;
        let (w, votes) = winner?;
        // voters / 2 + 1 votes: a majority of every sentinel known.
        (votes > voters / 2 && votes >= self.spec.quorum).then_some(w)
    }

    fn abort(&mut self, ctx: &mut Ctx, why: &str) {
        self.log_master(ctx, why);
        self.failover = Failover::None;
        self.failover_state_change = ctx.now;
        self.promoted = None;
        for inst in &mut self.insts {
            inst.reconf = Reconf::None;
        }
    }

    /// sentinelSelectSlave: the best replica to promote.
    fn select_slave(&self, now: SimTime) -> Option<usize> {
        let m = &self.insts[self.master];
        let max_link_down = m
            .sdown_since
            .map_or(Dur::ZERO, |t| now.since(t.min(now)))
            + self.spec.down_after.times(10);
        let info_validity = if m.sdown {
            PERIOD_1S.times(5)
        } else {
            INFO_PERIOD.times(3)
        };
        let mut best: Option<usize> = None;
        for (i, s) in self.insts.iter().enumerate() {
            let ok = i != self.master
                && !s.sdown
                && s.connected
                && now.since(s.last_avail.min(now)) <= PERIOD_1S.times(5)
                && s.info.priority != 0
                && s.info_at.is_some_and(|t| now.since(t) <= info_validity)
                && !s.info.master
                && Dur::from_secs(s.info.link_down_s as u64) <= max_link_down;
            if !ok {
                continue;
            }
            let better = match best {
                None => true,
                Some(b) => {
                    let b = &self.insts[b];
                    (s.info.priority, std::cmp::Reverse(s.info.offset), s.node)
                        < (b.info.priority, std::cmp::Reverse(b.info.offset), b.node)
                }
            };
            if better {
                best = Some(i);
            }
        }
        best
    }

    /// sentinelFailoverStateMachine.
    fn failover_step(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let now = ctx.now;
        let ft = self.spec.failover_timeout;
        let since_change = now.since(self.failover_state_change.min(now));
        match self.failover {
            Failover::None | Failover::UpdateConfig => {}
            Failover::WaitStart => {
                let leader = self.get_leader(ctx, rng, self.failover_epoch);
                if leader != Some(self.me) {
                    let start = self.failover_start.unwrap_or(now);
                    let timeout = ELECTION_TIMEOUT.min(ft);
                    if now > start && now.since(start) > timeout {
                        self.abort(ctx, "-failover-abort-not-elected");
                    }
                    return;
                }
                self.log_master(ctx, "+elected-leader");
                self.failover = Failover::SelectSlave;
                self.failover_state_change = now;
            }
            Failover::SelectSlave => match self.select_slave(now) {
                None => self.abort(ctx, "-failover-abort-no-good-slave"),
                Some(s) => {
                    self.log_inst(ctx, s, EventKind::Info, "+selected-slave");
                    self.promoted = Some(s);
                    self.failover = Failover::SendSlaveofNoone;
                    self.failover_state_change = now;
                }
            },
            Failover::SendSlaveofNoone => {
                let s = self.promoted.expect("selected");
                if !self.insts[s].connected {
                    if since_change > ft {
                        self.abort(ctx, "-failover-abort-slave-timeout");
                    }
                    return;
                }
                self.send(ctx, s, RedisMsg::ReplicaOf { master: NO_NODE });
                self.log_master(ctx, "+failover-state-wait-promotion");
                self.failover = Failover::WaitPromotion;
                self.failover_state_change = now;
            }
            Failover::WaitPromotion => {
                if since_change > ft {
                    self.abort(ctx, "-failover-abort-slave-timeout");
                }
            }
            Failover::ReconfSlaves => {
                self.reconf_next(ctx);
                self.detect_end(ctx);
            }
        }
    }

    /// sentinelFailoverReconfNextSlave.
    fn reconf_next(&mut self, ctx: &mut Ctx) {
        let now = ctx.now;
        let promoted = self.promoted.expect("in reconf");
        let target = self.insts[promoted].node;
        let mut in_progress = self
            .insts
            .iter()
            .filter(|s| matches!(s.reconf, Reconf::Sent(_) | Reconf::InProg))
            .count() as u32;
        for i in 0..self.insts.len() {
            if in_progress >= self.spec.parallel_syncs {
                break;
            }
            if i == self.master || i == promoted || self.insts[i].reconf == Reconf::Done {
                continue;
            }
            if let Reconf::Sent(t) = self.insts[i].reconf
                && now.since(t) > RECONF_TIMEOUT
            {
                self.log_inst(ctx, i, EventKind::Info, "-slave-reconf-sent-timeout");
                self.insts[i].reconf = Reconf::Done;
                continue;
            }
            if self.insts[i].reconf != Reconf::None || !self.insts[i].connected {
                continue;
            }
            self.send(ctx, i, RedisMsg::ReplicaOf { master: target });
            self.insts[i].reconf = Reconf::Sent(now);
            self.log_inst(ctx, i, EventKind::Info, "+slave-reconf-sent");
            in_progress += 1;
        }
    }

    /// sentinelFailoverDetectEnd.
    fn detect_end(&mut self, ctx: &mut Ctx) {
        let promoted = self.promoted.expect("in reconf");
        if self.insts[promoted].sdown {
            return;
        }
        let not_done = (0..self.insts.len())
            .filter(|&i| i != self.master && i != promoted)
            .filter(|&i| self.insts[i].reconf != Reconf::Done && !self.insts[i].sdown)
            .count();
        let timeout = ctx.now.since(self.failover_state_change.min(ctx.now)) > self.spec.failover_timeout;
        if not_done == 0 || timeout {
            let what = if timeout {
                "+failover-end-for-timeout"
            } else {
                "+failover-end"
            };
            self.log_master(ctx, what);
            self.failover = Failover::UpdateConfig;
            self.failover_state_change = ctx.now;
        }
    }

    /// sentinelResetMasterAndChangeAddress: `node` is the master now; every
    /// instance record starts afresh.
    fn switch_master(&mut self, ctx: &mut Ctx, node: NodeId) {
        let Some(new) = self.insts.iter().position(|s| s.node == node) else {
            return;
        };
        let what = format!(
            "+switch-master {} {} {}",
            self.spec.monitor,
            ctx.name_of(self.master_node()),
            ctx.name_of(node)
        );
        ctx.log(node, EventKind::Info, what);
        self.master = new;
        let now = ctx.now;
        for (i, s) in self.insts.iter_mut().enumerate() {
            *s = Inst::fresh(s.node, now, i == new, s.link_gen.wrapping_add(1));
        }
        for p in &mut self.peers {
            p.down = false;
            p.reply_at = None;
        }
        self.odown = false;
        self.leader = NO_NODE;
        self.failover = Failover::None;
        self.failover_state_change = now;
        self.failover_start = None;
        self.promoted = None;
    }

    /// sentinelRefreshInstanceInfo.
    fn on_info(&mut self, ctx: &mut Ctx, i: usize, info: RoleInfo) {
        let now = ctx.now;
        {
            let s = &mut self.insts[i];
            s.info_at = Some(now);
            s.info = info;
            if s.role_reported_master != info.master {
                s.role_reported_master = info.master;
                s.role_reported_time = now;
            }
            if s.reported_master_of != info.master_of {
                s.reported_master_of = info.master_of;
                s.master_of_changed = now;
            }
        }
        if i == self.master {
            return;
        }
        // The promoted replica reports role:master.
        if self.promoted == Some(i) && info.master && self.failover == Failover::WaitPromotion {
            self.log_inst(ctx, i, EventKind::Info, "+promoted-slave");
            self.config_epoch = self.failover_epoch;
            self.log_master(ctx, "+failover-state-reconf-slaves");
            self.failover = Failover::ReconfSlaves;
            self.failover_state_change = now;
            // sentinelForceHelloUpdateForMaster.
            self.hello(ctx);
            return;
        }
        let wait = HELLO_PERIOD.times(4);
        let sane = {
            let m = &self.insts[self.master];
            m.role_reported_master
                && !m.sdown
                && !self.odown
                && m.info_at.is_some_and(|t| now.since(t) < INFO_PERIOD.times(2))
        };
        let s = self.insts[i];
        if info.master
            && self.promoted != Some(i)
            && sane
            && s.no_down_for(now, wait)
            && now.since(s.role_reported_time.min(now)) > wait
        {
            let m = self.master_node();
            self.send(ctx, i, RedisMsg::ReplicaOf { master: m });
            self.log_inst(ctx, i, EventKind::MarkedUp, "+convert-to-slave");
            return;
        }
        if !info.master
            && info.master_of != self.master_node()
            && s.reconf == Reconf::None
            && self.failover == Failover::None
            && sane
            && s.no_down_for(now, wait)
            && now.since(s.master_of_changed.min(now)) > wait
        {
            let m = self.master_node();
            self.send(ctx, i, RedisMsg::ReplicaOf { master: m });
            self.log_inst(ctx, i, EventKind::Info, "+fix-slave-config");
            return;
        }
        // Replicas being reconfigured.
        if let Some(p) = self.promoted
            && !info.master
            && info.master_of == self.insts[p].node
        {
            if matches!(s.reconf, Reconf::Sent(_)) {
                self.insts[i].reconf = Reconf::InProg;
                self.log_inst(ctx, i, EventKind::Info, "+slave-reconf-inprog");
            }
            if self.insts[i].reconf == Reconf::InProg && info.link_up {
                self.insts[i].reconf = Reconf::Done;
                self.log_inst(ctx, i, EventKind::Info, "+slave-reconf-done");
            }
        }
    }

    fn hello(&mut self, ctx: &mut Ctx) {
        self.last_hello = Some(ctx.now);
        let h = SentinelMsg::Hello {
            master: self.current_master_addr(),
            config_epoch: self.config_epoch,
            current_epoch: self.current_epoch,
        };
        for p in &self.peers {
            ctx.send(p.node, CallRef::default(), h.into());
        }
    }

    fn tick(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        let now = ctx.now;
        // The master first, then its replicas (sentinelHandleDictOfRedisInstances).
        let m = self.master;
        self.periodic(ctx, m);
        self.check_sdown(ctx, m);
        self.check_odown(ctx);
        if self.start_failover_if_needed(ctx, rng) {
            self.ask_others(ctx, true);
        }
        self.failover_step(ctx, rng);
        self.ask_others(ctx, false);
        for i in 0..self.insts.len() {
            if i != self.master {
                self.periodic(ctx, i);
                self.check_sdown(ctx, i);
            }
        }
        if self.last_hello.is_none_or(|t| now.since(t) >= HELLO_PERIOD) {
            self.hello(ctx);
        }
        if self.failover == Failover::UpdateConfig {
            let p = self.promoted.expect("promoted");
            let node = self.insts[p].node;
            self.switch_master(ctx, node);
        }
        // server.hz = CONFIG_DEFAULT_HZ + rand() % CONFIG_DEFAULT_HZ.
        let hz = 10 + rng.random_range(0..10u64);
        ctx.at(now + Dur(1_000_000_000 / hz), SentinelTimer::Tick);
    }

    fn on_sentinel(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg, m: SentinelMsg) {
        match m {
            SentinelMsg::Hello {
                master,
                config_epoch,
                current_epoch,
            } => {
                if current_epoch > self.current_epoch {
                    self.current_epoch = current_epoch;
                    let what = format!("+new-epoch {current_epoch}");
                    ctx.log(self.me, EventKind::Info, what);
                }
                if config_epoch > self.config_epoch {
                    self.config_epoch = config_epoch;
                    if master != self.master_node() {
                        let what = format!("+config-update-from sentinel {}", ctx.name_of(msg.from));
                        ctx.log(self.me, EventKind::Info, what);
                        self.switch_master(ctx, master);
                    }
                }
            }
            SentinelMsg::IsMasterDown {
                master,
                epoch,
                vote,
            } => {
                let mine = master == self.master_node();
                let down = mine && self.insts[self.master].sdown;
                let (leader, leader_epoch) = if mine && vote {
                    self.vote(ctx, rng, epoch, msg.from)
                } else {
                    (NO_NODE, 0)
                };
                let r = SentinelMsg::IsMasterDownReply {
                    master,
                    down,
                    leader,
                    leader_epoch,
                };
                ctx.send(msg.from, CallRef::default(), r.into());
            }
            SentinelMsg::IsMasterDownReply {
                master,
                down,
                leader,
                leader_epoch,
            } => {
                if master != self.master_node() {
                    return;
                }
                if let Some(p) = self.peers.iter_mut().find(|p| p.node == msg.from) {
                    p.down = down;
                    p.reply_at = Some(ctx.now);
                    if leader != NO_NODE {
                        p.leader = leader;
                        p.leader_epoch = leader_epoch;
                    }
                }
            }
            SentinelMsg::MasterIs { .. } => {}
        }
    }
}

/// The sentinel timer's period at its default hz (10).
const FIRST_TICK: Dur = Dur::from_ms(100);

impl Process for Sentinel {
    type Timer = SentinelTimer;

    /// Sentinel keeps its configuration file (sentinel.conf, rewritten on
    /// every change): a restart keeps the master and epochs, not the links.
    fn crashed(&mut self, _pristine: &Self) {
        self.failover = Failover::None;
        self.promoted = None;
        self.odown = false;
        self.last_hello = None;
        for s in &mut self.insts {
            s.connected = false;
            s.link_gen = s.link_gen.wrapping_add(1);
        }
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        let now = ctx.now;
        let master = self.master;
        for (i, s) in self.insts.iter_mut().enumerate() {
            *s = Inst::fresh(s.node, now, i == master, s.link_gen.wrapping_add(1));
        }
        // The timer's first tick: its phase is the process's own (its ticks
        // then come every 1/hz, hz redrawn each time).
        ctx.at(now + boot.first(Dur::ZERO, FIRST_TICK), SentinelTimer::Tick);
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::Sentinel(m)) => self.on_sentinel(ctx, rng, msg, m),
            MsgKind::Wire(Wire::Redis(m)) => {
                let i = msg.call.slot as usize;
                if self.insts.get(i).is_none_or(|s| s.node != msg.from || s.link_gen != msg.call.generation) {
                    return;
                }
                match m {
                    RedisMsg::Pong => {
                        let s = &mut self.insts[i];
                        s.last_avail = ctx.now;
                        s.last_pong = ctx.now;
                        s.act_ping = None;
                    }
                    RedisMsg::InfoReply(info) => self.on_info(ctx, i, info),
                    _ => {}
                }
            }
            // The instance died: its kernel reset the link.
            MsgKind::Reset => {
                let i = msg.call.slot as usize;
                if let Some(s) = self.insts.get_mut(i)
                    && s.node == msg.from
                    && s.link_gen == msg.call.generation
                {
                    s.connected = false;
                }
            }
            // SENTINEL MASTERS from a client library.
            MsgKind::Connect(req) if req.kind == ReqKind::Work => {
                let m = &self.insts[self.master];
                let a = SentinelMsg::MasterIs {
                    master: m.node,
                    down: m.sdown || self.odown,
                };
                ctx.send(msg.from, msg.call, a.into());
            }
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: SentinelTimer) {
        match t {
            SentinelTimer::Tick => self.tick(ctx, rng),
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests;
