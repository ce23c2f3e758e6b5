//! An etcd 3.4 member: raft (heartbeats, randomized election timeout,
//! CheckQuorum, no PreVote, term/vote/log on disk), a tiny KV holding what
//! Patroni keeps in it (the leader key bound to a lease, `/optime/leader`,
//! `/failover`, `/sync`), leases with TTLs expired by the leader's lessor
//! every 500 ms and re-armed to TTL + election timeout by a new leader
//! (`lessor.Promote`), and watch notifications to Patroni nodes.
//!
//! Raft messages ([`RaftMsg`]) carry one log entry each; an entry is one
//! [`DcsOp`]. Clients (Patroni) call through the DCS API ([`super::dcs`])
//! with their request ids in the `call` words; a follower forwards the calls
//! to the leader it knows, which answers the client directly. Without a
//! leader, or when a proposal does not commit, the request fails after the
//! request timeout (5 s + 2 x election timeout, "etcdserver: request timed
//! out").

pub mod config;
mod product;

use crate::data::FinalData;
use crate::engine::{Dur, Rng, SimTime};
use crate::faults::RESTART;
use crate::metrics::EventKind;
use crate::process::{Admin, DbIds};
use crate::process::{Boot, CallRef, Ctx, Msg, MsgKind, NodeId, Process, ReqKind, TimerKey};
use crate::products::{Timer, Wire};
use crate::protocols::dcs::{
    DcsMsg, DcsOp, DcsRequest, DcsResult, DcsState, Failover, NONE, SyncKey,
};
use config::EtcdSpec;
use rand::Rng as _;

/// etcd's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtcdTimer {
    /// A follower or candidate heard no leader for its randomized election
    /// timeout: it campaigns.
    Election,
    /// The leader's heartbeat to every follower.
    Heartbeat,
    /// The leader's CheckQuorum, every election timeout.
    CheckQuorum,
    /// The lessor's expiry check, and the held requests' timeouts.
    Lessor,
}

impl From<EtcdTimer> for Timer {
    fn from(t: EtcdTimer) -> Timer {
        Timer::Etcd(t)
    }
}

/// Raft between etcd members ([`Wire::Raft`]), and client calls a follower
/// forwards to its leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaftMsg {
    /// A candidate asks for a vote; its last entry is `last_index` of term
    /// `last_term`.
    VoteReq {
        term: u32,
        last_index: u32,
        last_term: u32,
    },
    VoteResp {
        term: u32,
        granted: bool,
    },
    /// Entry `index`, holding `op`. The entry fills the 16 bytes a wire
    /// message may have (`Event` is at most 48 bytes): the leader's term, the
    /// entry's and the previous entry's ride in the message's `call` and
    /// `peer` words ([`AppendTerms`]).
    Append {
        index: u32,
        op: DcsOp,
    },
    /// The follower has entry `index` (`ok`), or asks for the entries from
    /// `index` on.
    AppendResp {
        term: u32,
        ok: bool,
        index: u32,
    },
    /// The leader committed up to `commit`; its last entry is `last_index`,
    /// whose term rides in the message's `peer` word.
    Heartbeat {
        term: u32,
        commit: u32,
        last_index: u32,
    },
    /// The follower's last entry is `last_index` of term `last_term`.
    HeartbeatResp {
        term: u32,
        last_index: u32,
        last_term: u32,
    },
    /// A client's call, forwarded to the leader: `call` is the client's, and
    /// the client rides in the message's `peer` word.
    Forward(DcsRequest),
}

impl From<RaftMsg> for MsgKind {
    fn from(m: RaftMsg) -> MsgKind {
        MsgKind::Wire(Wire::Raft(m))
    }
}

/// The terms an [`RaftMsg::Append`] carries in its message's words.
#[derive(Clone, Copy, Debug)]
struct AppendTerms {
    /// The leader's.
    term: u32,
    /// The entry's.
    entry: u32,
    /// The entry before it's.
    prev: u32,
}

impl AppendTerms {
    fn words(self) -> (CallRef, u32) {
        let call = CallRef {
            slot: self.entry,
            generation: self.prev,
        };
        (call, self.term)
    }

    fn of(msg: &Msg) -> AppendTerms {
        AppendTerms {
            term: msg.peer,
            entry: msg.call.slot,
            prev: msg.call.generation,
        }
    }
}

/// The lessor's expiry check period (lease/lessor.go runLoop).
pub const LESSOR_CHECK: Dur = Dur(500 * Dur::MS);
/// Entries sent to one follower per heartbeat at most (raft MaxInflight-ish).
const MAX_BATCH: u32 = 256;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Follower,
    Candidate,
    Leader,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    term: u32,
    op: DcsOp,
}

#[derive(Clone, Copy, Debug)]
struct Lease {
    id: u32,
    node: u32,
    ttl: Dur,
    /// Only the leader's lessor expires leases.
    expiry: SimTime,
    revoking: bool,
}

/// The key space (the bbolt backend: on disk).
#[derive(Clone, Debug)]
struct Kv {
    leader: u32,
    leader_lease: u32,
    optime: u32,
    failover: Failover,
    sync: SyncKey,
    revision: u32,
    leases: Vec<Lease>,
}

impl Default for Kv {
    fn default() -> Kv {
        Kv {
            leader: NONE,
            leader_lease: NONE,
            optime: 0,
            failover: Failover::EMPTY,
            sync: SyncKey::EMPTY,
            revision: 1,
            leases: Vec::new(),
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    index: u32,
    term: u32,
    client: NodeId,
    call: CallRef,
    at: SimTime,
}

#[derive(Clone)]
pub struct Etcd {
    me: NodeId,
    peers: Vec<NodeId>,
    heartbeat: Dur,
    election: Dur,
    req_timeout: Dur,
    // on disk
    term: u32,
    voted_for: u32,
    log: Vec<Entry>,
    commit: u32,
    applied: u32,
    kv: Kv,
    // volatile
    role: Role,
    leader: u32,
    /// The pending election timeout (follower, candidate).
    election_timer: Option<TimerKey>,
    /// The leader's pending heartbeat and CheckQuorum.
    heartbeat_timer: Option<TimerKey>,
    check_quorum_timer: Option<TimerKey>,
    lessor_timer: Option<TimerKey>,
    last_heard: SimTime,
    votes: u32,
    next: Vec<u32>,
    matched: Vec<u32>,
    active: Vec<bool>,
    pending: Vec<Pending>,
    watchers: Vec<NodeId>,
    /// Requests held while no leader is known: (client, call, request,
    /// since).
    held: Vec<(NodeId, CallRef, DcsRequest, SimTime)>,
    /// Keepalives of an expired lease, waiting on the leader for its
    /// revocation or for the leader to step down: (client, call, lease).
    renewing: Vec<(NodeId, CallRef, u32)>,
    lost_logged: bool,
}

impl Etcd {
    pub fn new(e: &EtcdSpec, me: NodeId, ids: &DbIds) -> Etcd {
        let peers: Vec<NodeId> = ids.members.iter().copied().filter(|&m| m != me).collect();
        let n = peers.len();
        Etcd {
            me,
            peers,
            heartbeat: e.heartbeat_interval,
            election: e.election_timeout,
            req_timeout: e.request_timeout(),
            term: 0,
            voted_for: NONE,
            log: Vec::new(),
            commit: 0,
            applied: 0,
            kv: Kv::default(),
            role: Role::Follower,
            leader: NONE,
            election_timer: None,
            heartbeat_timer: None,
            check_quorum_timer: None,
            lessor_timer: None,
            last_heard: SimTime::ZERO,
            votes: 0,
            next: vec![1; n],
            matched: vec![0; n],
            active: vec![false; n],
            pending: Vec::new(),
            watchers: Vec::new(),
            held: Vec::new(),
            renewing: Vec::new(),
            lost_logged: false,
        }
    }

    fn quorum(&self) -> usize {
        let members = self.peers.len() + 1;
        members / 2 + 1
    }

    fn last_index(&self) -> u32 {
        self.log.len() as u32
    }

    fn term_at(&self, index: u32) -> u32 {
        if index == 0 {
            0
        } else {
            self.log.get(index as usize - 1).map_or(0, |e| e.term)
        }
    }

    fn peer_index(&self, node: NodeId) -> Option<usize> {
        self.peers.iter().position(|&p| p == node)
    }

    /// Cancels the leader's timers and a pending election timeout.
    fn cancel_role_timers(&mut self, ctx: &mut Ctx) {
        for k in [
            self.election_timer.take(),
            self.heartbeat_timer.take(),
            self.check_quorum_timer.take(),
        ]
        .into_iter()
        .flatten()
        {
            ctx.cancel(k);
        }
    }

    fn reset_election(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.cancel_role_timers(ctx);
        let d = self.election.0 + rng.random_range(0..self.election.0.max(1));
        let at = ctx.now + Dur(d);
        self.election_timer = Some(ctx.at_cancellable(at, EtcdTimer::Election));
    }

    fn become_follower(&mut self, ctx: &mut Ctx, rng: &mut Rng, term: u32, leader: u32) {
        let was_leader = self.role == Role::Leader;
        if term > self.term {
            self.term = term;
            self.voted_for = NONE;
        }
        self.role = Role::Follower;
        if leader != NONE && self.leader != leader {
            self.leader = leader;
            self.lost_logged = false;
            self.release_held(ctx);
        } else if leader == NONE {
            self.leader = NONE;
        }
        if was_leader {
            // "etcdserver: leader changed": proposals in flight fail.
            for p in std::mem::take(&mut self.pending) {
                ctx.send(p.client, p.call, resp(DcsResult::Err, 0));
            }
            for l in &mut self.kv.leases {
                l.expiry = SimTime::NEVER;
                l.revoking = false;
            }
            // Renewals waiting on an expired lease get ErrNotPrimary and
            // are forwarded to the next leader (v3_server.go LeaseRenew).
            for (client, call, lease) in std::mem::take(&mut self.renewing) {
                let req = DcsRequest::Keepalive { lease };
                self.held.push((client, call, req, ctx.now));
            }
            if self.leader != NONE {
                self.release_held(ctx);
            }
        }
        self.reset_election(ctx, rng);
    }

    fn campaign(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.role = Role::Candidate;
        self.term += 1;
        self.voted_for = self.me;
        self.votes = 1;
        if self.leader != NONE && !self.lost_logged {
            // A member that had a leader and lost it ("lost leader").
            self.lost_logged = true;
            ctx.log(
                self.me,
                EventKind::QuorumLost,
                format!(
                    "lost leader; is starting a new election at term {}",
                    self.term
                ),
            );
        }
        self.leader = NONE;
        self.reset_election(ctx, rng);
        if self.votes as usize >= self.quorum() {
            return self.become_leader(ctx, rng);
        }
        let req = RaftMsg::VoteReq {
            term: self.term,
            last_index: self.last_index(),
            last_term: self.term_at(self.last_index()),
        };
        for i in 0..self.peers.len() {
            ctx.send(self.peers[i], CallRef::default(), req.into());
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx, _rng: &mut Rng) {
        self.role = Role::Leader;
        self.leader = self.me;
        self.lost_logged = false;
        self.cancel_role_timers(ctx);
        let n = self.peers.len();
        self.next = vec![self.last_index() + 1; n];
        self.matched = vec![0; n];
        self.active = vec![false; n];
        ctx.log(
            self.me,
            EventKind::Elected,
            format!("elected leader at term {}", self.term),
        );
        // lessor.Promote(electionTimeout): every lease gets TTL + et.
        for l in &mut self.kv.leases {
            l.expiry = ctx.now + l.ttl + self.election;
            l.revoking = false;
        }
        self.append(ctx, DcsOp::Noop);
        self.release_held(ctx);
        self.heartbeat_tick(ctx);
        let at = ctx.now + self.election;
        self.check_quorum_timer = Some(ctx.at_cancellable(at, EtcdTimer::CheckQuorum));
    }

    /// Appends an op to the leader's log; returns its index.
    fn append(&mut self, ctx: &mut Ctx, o: DcsOp) -> u32 {
        self.log.push(Entry {
            term: self.term,
            op: o,
        });
        let idx = self.last_index();
        if self.peers.is_empty() {
            self.advance_commit(ctx);
        } else {
            for i in 0..self.peers.len() {
                self.send_entries(ctx, i);
            }
        }
        idx
    }

    fn send_entries(&mut self, ctx: &mut Ctx, i: usize) {
        let to = self.peers[i];
        let from = self.next[i].max(1);
        let upto = self.last_index().min(from + MAX_BATCH - 1);
        for idx in from..=upto {
            let e = self.log[idx as usize - 1];
            let terms = AppendTerms {
                term: self.term,
                entry: e.term,
                prev: self.term_at(idx - 1),
            };
            let (call, peer) = terms.words();
            let m = RaftMsg::Append {
                index: idx,
                op: e.op,
            };
            ctx.send_peer(to, call, peer, m.into());
        }
        if upto >= from {
            self.next[i] = upto + 1;
        }
    }

    fn heartbeat_tick(&mut self, ctx: &mut Ctx) {
        let (li, lt) = (self.last_index(), self.term_at(self.last_index()));
        let beat = RaftMsg::Heartbeat {
            term: self.term,
            commit: self.commit,
            last_index: li,
        };
        for i in 0..self.peers.len() {
            ctx.send_peer(self.peers[i], CallRef::default(), lt, beat.into());
        }
        let at = ctx.now + self.heartbeat;
        ctx.rearm(&mut self.heartbeat_timer, at, EtcdTimer::Heartbeat);
        // Proposals that did not commit in time fail.
        let limit = self.req_timeout;
        let now = ctx.now;
        self.pending.retain(|p| {
            if now.since(p.at) >= limit {
                ctx.send(p.client, p.call, resp(DcsResult::Err, 0));
                false
            } else {
                true
            }
        });
    }

    fn advance_commit(&mut self, ctx: &mut Ctx) {
        let mut m: Vec<u32> = self.matched.clone();
        m.push(self.last_index());
        m.sort_unstable_by(|a, b| b.cmp(a));
        let n = m[self.quorum() - 1];
        if n > self.commit && self.term_at(n) == self.term {
            self.commit = n;
            self.apply(ctx);
        }
    }

    fn apply(&mut self, ctx: &mut Ctx) {
        while self.applied < self.commit {
            self.applied += 1;
            let idx = self.applied;
            let e = self.log[idx as usize - 1];
            let (result, value) = self.apply_op(ctx, idx, e.op);
            if self.role == Role::Leader
                && let Some(k) = self.pending.iter().position(|p| p.index == idx)
            {
                let p = self.pending.swap_remove(k);
                let r = if p.term == e.term {
                    result
                } else {
                    DcsResult::Err
                };
                ctx.send(p.client, p.call, resp(r, value));
            }
        }
    }

    fn apply_op(&mut self, ctx: &mut Ctx, idx: u32, o: DcsOp) -> (DcsResult, u32) {
        let before = (self.kv.leader, self.kv.failover, self.kv.sync);
        let r = match o {
            DcsOp::Grant { node, ttl_secs } => {
                let ttl = Dur::from_secs(ttl_secs as u64);
                let expiry = if self.role == Role::Leader {
                    ctx.now + ttl
                } else {
                    SimTime::NEVER
                };
                self.kv.leases.push(Lease {
                    id: idx,
                    node,
                    ttl,
                    expiry,
                    revoking: false,
                });
                (DcsResult::Ok, idx)
            }
            DcsOp::Revoke { lease } => {
                self.kv.leases.retain(|l| l.id != lease);
                // Renewals that waited for the revocation: lease not found.
                self.renewing.retain(|&(client, call, id)| {
                    if id == lease {
                        ctx.send(client, call, resp(DcsResult::Fail, 0));
                    }
                    id != lease
                });
                if self.kv.leader_lease == lease {
                    self.kv.leader = NONE;
                    self.kv.leader_lease = NONE;
                }
                (DcsResult::Ok, 0)
            }
            DcsOp::CreateLeader { lease } => match self.kv.leases.iter().find(|l| l.id == lease) {
                Some(l) if self.kv.leader == NONE => {
                    self.kv.leader = l.node;
                    self.kv.leader_lease = lease;
                    (DcsResult::Ok, 0)
                }
                Some(_) => (DcsResult::Fail, self.kv.leader),
                None => (DcsResult::Fail, NONE),
            },
            DcsOp::DeleteLeader { owner } => {
                if self.kv.leader == owner {
                    self.kv.leader = NONE;
                    self.kv.leader_lease = NONE;
                    (DcsResult::Ok, 0)
                } else {
                    (DcsResult::Fail, self.kv.leader)
                }
            }
            DcsOp::UpdateLeader { lease } => match self.kv.leases.iter().find(|l| l.id == lease) {
                Some(l) if self.kv.leader == l.node || self.kv.leader == NONE => {
                    self.kv.leader = l.node;
                    self.kv.leader_lease = lease;
                    (DcsResult::Ok, 0)
                }
                Some(_) => (DcsResult::Fail, self.kv.leader),
                None => (DcsResult::Fail, NONE),
            },
            DcsOp::PutLeader { lease } => match self.kv.leases.iter().find(|l| l.id == lease) {
                Some(l) => {
                    self.kv.leader = l.node;
                    self.kv.leader_lease = lease;
                    (DcsResult::Ok, 0)
                }
                // A put bound to an unknown lease: "requested lease not found".
                None => (DcsResult::Fail, NONE),
            },
            DcsOp::PutOptime { optime } => {
                self.kv.optime = optime;
                (DcsResult::Ok, 0)
            }
            DcsOp::PutFailover(f) => {
                self.kv.failover = f;
                (DcsResult::Ok, 0)
            }
            DcsOp::PutSync(k) => {
                self.kv.sync = k;
                (DcsResult::Ok, 0)
            }
            DcsOp::Noop => (DcsResult::Ok, 0),
        };
        if o != DcsOp::Noop {
            self.kv.revision += 1;
        }
        if (self.kv.leader, self.kv.failover, self.kv.sync) != before {
            for i in 0..self.watchers.len() {
                let w = self.watchers[i];
                self.send_state(ctx, w);
            }
        }
        r
    }

    fn send_state(&self, ctx: &mut Ctx, to: NodeId) {
        let s = DcsState {
            leader: self.kv.leader,
            optime: self.kv.optime,
            failover: self.kv.failover.candidate,
            sync: self.kv.sync,
            revision: self.kv.revision,
        };
        s.send(ctx, to);
    }

    fn release_held(&mut self, ctx: &mut Ctx) {
        for (client, call, req, _) in std::mem::take(&mut self.held) {
            self.client_request(ctx, client, call, req);
        }
    }

    /// A client request (direct or forwarded).
    fn client_request(&mut self, ctx: &mut Ctx, client: NodeId, call: CallRef, req: DcsRequest) {
        if req == DcsRequest::Read {
            if self.watchers.contains(&client) {
                // The client's watch is open on this member: Patroni reads
                // the cluster from its watch-fed cache (etcd3.py KVCache,
                // `get_cluster` returns `_kv_cache.copy()` while the cache is
                // ready), i.e. what this member applied and streamed, leader
                // or not. A member cut off from its quorum streams nothing
                // new: the view stays stale while the watch connection lives.
                return self.send_state(ctx, client);
            }
            // The first read builds the cache (a linearizable range through
            // the leader, KVCache._build_cache) and opens the watch here.
            self.watchers.push(client);
        }
        if self.role != Role::Leader {
            if self.leader == NONE || self.leader == self.me {
                self.held.push((client, call, req, ctx.now));
                return;
            }
            ctx.send_peer(self.leader, call, client, RaftMsg::Forward(req).into());
            return;
        }
        match req {
            DcsRequest::Propose(o) => {
                self.pending.push(Pending {
                    index: self.last_index() + 1,
                    term: self.term,
                    client,
                    call,
                    at: ctx.now,
                });
                self.append(ctx, o);
            }
            DcsRequest::Keepalive { lease } => {
                let now = ctx.now;
                match self.kv.leases.iter_mut().find(|l| l.id == lease) {
                    // lessor.Renew: an expired lease is not renewed; the
                    // request waits until it is revoked (lease not found) or
                    // this member stops being the leader. A stale leader
                    // cut off from its quorum thus renews no expired lease.
                    Some(l) if l.expiry <= now => self.renewing.push((client, call, lease)),
                    Some(l) => {
                        l.expiry = now + l.ttl;
                        let ttl = (l.ttl.0 / Dur::S) as u32;
                        ctx.send(client, call, resp(DcsResult::Ok, ttl));
                    }
                    None => ctx.send(client, call, resp(DcsResult::Fail, 0)),
                }
            }
            DcsRequest::Read => self.send_state(ctx, client),
        }
    }

    fn on_raft(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: &Msg, m: RaftMsg) {
        match m {
            // The client rides in `peer` (see `RaftMsg::Forward`).
            RaftMsg::Forward(req) => self.client_request(ctx, msg.peer, msg.call, req),
            RaftMsg::VoteReq {
                term,
                last_index,
                last_term,
            } => self.on_vote_req(ctx, rng, msg.from, term, last_index, last_term),
            RaftMsg::VoteResp { term, granted } => {
                if term > self.term {
                    self.become_follower(ctx, rng, term, NONE);
                } else if self.role == Role::Candidate && term == self.term && granted {
                    self.votes += 1;
                    if self.votes as usize >= self.quorum() {
                        self.become_leader(ctx, rng);
                    }
                }
            }
            RaftMsg::Append { index, op } => {
                let terms = AppendTerms::of(msg);
                if !self.heard_leader(ctx, rng, msg.from, terms.term, true) {
                    return;
                }
                self.on_append(ctx, msg.from, index, terms.entry, terms.prev, op);
            }
            RaftMsg::Heartbeat {
                term,
                commit,
                last_index,
            } => {
                if !self.heard_leader(ctx, rng, msg.from, term, false) {
                    return;
                }
                // Commit what is known to match the leader (its last
                // entry's term rides in `peer`).
                let (li, lt) = (last_index, msg.peer);
                if self.last_index() >= li && self.term_at(li) == lt {
                    self.commit = self.commit.max(commit.min(li));
                    self.apply(ctx);
                }
                let mine = self.last_index();
                let r = RaftMsg::HeartbeatResp {
                    term: self.term,
                    last_index: mine,
                    last_term: self.term_at(mine),
                };
                ctx.send(msg.from, CallRef::default(), r.into());
            }
            RaftMsg::AppendResp { term, ok, index } => {
                let Some(i) = self.leader_hears(ctx, rng, msg.from, term) else {
                    return;
                };
                if ok {
                    self.matched[i] = self.matched[i].max(index);
                    self.advance_commit(ctx);
                } else {
                    // Rejected: resend from the follower's hint.
                    self.next[i] = index.max(self.matched[i] + 1).max(1);
                    self.send_entries(ctx, i);
                }
            }
            RaftMsg::HeartbeatResp {
                term,
                last_index,
                last_term,
            } => {
                let Some(i) = self.leader_hears(ctx, rng, msg.from, term) else {
                    return;
                };
                // The follower's last entry: in sync with us up to there?
                let (fi, ft) = (last_index, last_term);
                if fi <= self.last_index() && self.term_at(fi) == ft {
                    self.matched[i] = self.matched[i].max(fi);
                    self.advance_commit(ctx);
                    if fi < self.last_index() {
                        self.next[i] = fi + 1;
                        self.send_entries(ctx, i);
                    }
                } else {
                    self.next[i] = (fi.min(self.last_index())).max(self.matched[i] + 1);
                    self.send_entries(ctx, i);
                }
            }
        }
    }

    /// An append or heartbeat from `from` in `term`: whether to take it (a
    /// stale leader is told the current term).
    fn heard_leader(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        from: NodeId,
        term: u32,
        append: bool,
    ) -> bool {
        if term < self.term {
            let r = if append {
                RaftMsg::AppendResp {
                    term: self.term,
                    ok: false,
                    index: 0,
                }
            } else {
                RaftMsg::HeartbeatResp {
                    term: self.term,
                    last_index: 0,
                    last_term: 0,
                }
            };
            ctx.send(from, CallRef::default(), r.into());
            return false;
        }
        if term > self.term || self.role != Role::Follower || self.leader != from {
            self.become_follower(ctx, rng, term, from);
        } else {
            self.reset_election(ctx, rng);
        }
        self.last_heard = ctx.now;
        true
    }

    /// A follower's answer in `term`: the follower's index when this member
    /// leads in that term.
    fn leader_hears(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        from: NodeId,
        term: u32,
    ) -> Option<usize> {
        if term > self.term {
            self.become_follower(ctx, rng, term, NONE);
            return None;
        }
        if self.role != Role::Leader || term < self.term {
            return None;
        }
        let i = self.peer_index(from)?;
        self.active[i] = true;
        Some(i)
    }

    fn on_vote_req(
        &mut self,
        ctx: &mut Ctx,
        rng: &mut Rng,
        from: NodeId,
        term: u32,
        li: u32,
        lt: u32,
    ) {
        // CheckQuorum: a member that heard from a leader within the election
        // timeout ignores a campaign (raft.go Step, "inLease").
        let in_lease = self.leader != NONE
            && (self.role == Role::Leader || ctx.now.since(self.last_heard) < self.election);
        if term > self.term && in_lease {
            return;
        }
        if term > self.term {
            self.become_follower(ctx, rng, term, NONE);
        }
        let (my_li, my_lt) = (self.last_index(), self.term_at(self.last_index()));
        let up_to_date = lt > my_lt || (lt == my_lt && li >= my_li);
        let grant =
            term == self.term && (self.voted_for == NONE || self.voted_for == from) && up_to_date;
        if grant {
            self.voted_for = from;
            self.reset_election(ctx, rng);
        }
        let r = RaftMsg::VoteResp {
            term: self.term,
            granted: grant,
        };
        ctx.send(from, CallRef::default(), r.into());
    }

    fn on_append(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        idx: u32,
        eterm: u32,
        prev_term: u32,
        o: DcsOp,
    ) {
        let nack = |ctx: &mut Ctx, hint: u32, term: u32| {
            let r = RaftMsg::AppendResp {
                term,
                ok: false,
                index: hint,
            };
            ctx.send(from, CallRef::default(), r.into());
        };
        if idx == 0 || idx > self.last_index() + 1 {
            return nack(ctx, self.last_index() + 1, self.term);
        }
        if self.term_at(idx - 1) != prev_term {
            // Our entry before it is not the leader's: go back one.
            self.log.truncate(idx as usize - 1);
            return nack(ctx, idx - 1, self.term);
        }
        if self.last_index() >= idx {
            if self.term_at(idx) != eterm {
                self.log.truncate(idx as usize - 1);
                self.log.push(Entry { term: eterm, op: o });
            }
        } else {
            self.log.push(Entry { term: eterm, op: o });
        }
        let r = RaftMsg::AppendResp {
            term: self.term,
            ok: true,
            index: idx,
        };
        ctx.send(from, CallRef::default(), r.into());
    }

    /// Keeps the raft HardState, the log and the backend; forgets the rest.
    pub fn crash(&mut self) {
        self.role = Role::Follower;
        self.leader = NONE;
        self.pending.clear();
        self.watchers.clear();
        self.held.clear();
        self.renewing.clear();
        self.votes = 0;
        for l in &mut self.kv.leases {
            l.expiry = SimTime::NEVER;
            l.revoking = false;
        }
    }

    /// The raft leader this member knows (tests).
    pub fn known_leader(&self) -> Option<NodeId> {
        (self.leader != NONE).then_some(self.leader)
    }

    pub fn is_leader(&self) -> bool {
        self.role == Role::Leader
    }

    pub fn term(&self) -> u32 {
        self.term
    }

    /// The owner of the leader key in this member's applied state.
    pub fn leader_key(&self) -> Option<NodeId> {
        (self.kv.leader != NONE).then_some(self.kv.leader)
    }
}

fn resp(result: DcsResult, value: u32) -> MsgKind {
    DcsMsg::Resp { result, value }.into()
}

impl Process for Etcd {
    type Timer = EtcdTimer;

    /// A member starts a follower with a randomized election timeout (raft's
    /// own draw); the lessor's checks run on ticks from its start.
    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng, boot: Boot) {
        self.role = Role::Follower;
        self.leader = NONE;
        self.last_heard = ctx.now;
        self.reset_election(ctx, rng);
        let at = ctx.now + boot.first(LESSOR_CHECK, LESSOR_CHECK);
        ctx.rearm(&mut self.lessor_timer, at, EtcdTimer::Lessor);
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::Dcs(DcsMsg::Request(req))) => {
                self.client_request(ctx, msg.from, msg.call, req)
            }
            MsgKind::Wire(Wire::Raft(m)) => self.on_raft(ctx, rng, &msg, m),
            _ => {}
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: EtcdTimer) {
        match t {
            EtcdTimer::Election if self.role != Role::Leader => self.campaign(ctx, rng),
            EtcdTimer::Heartbeat if self.role == Role::Leader => self.heartbeat_tick(ctx),
            EtcdTimer::CheckQuorum if self.role == Role::Leader => {
                let heard = 1 + self.active.iter().filter(|&&x| x).count();
                if heard < self.quorum() {
                    ctx.log(
                        self.me,
                        EventKind::QuorumLost,
                        "stepped down to follower since quorum is not active",
                    );
                    self.lost_logged = true;
                    let term = self.term;
                    self.become_follower(ctx, rng, term, NONE);
                } else {
                    self.active.iter_mut().for_each(|x| *x = false);
                    let at = ctx.now + self.election;
                    ctx.rearm(&mut self.check_quorum_timer, at, EtcdTimer::CheckQuorum);
                }
            }
            EtcdTimer::Lessor => {
                let at = ctx.now + LESSOR_CHECK;
                ctx.rearm(&mut self.lessor_timer, at, EtcdTimer::Lessor);
                // Held requests (no leader) fail after the request timeout.
                let (now, limit) = (ctx.now, self.req_timeout);
                self.held.retain(|&(client, call, _, since)| {
                    if now.since(since) >= limit {
                        ctx.send(client, call, resp(DcsResult::Err, 0));
                        false
                    } else {
                        true
                    }
                });
                if self.role == Role::Leader {
                    let expired: Vec<u32> = self
                        .kv
                        .leases
                        .iter_mut()
                        .filter(|l| !l.revoking && l.expiry <= now)
                        .map(|l| {
                            l.revoking = true;
                            l.id
                        })
                        .collect();
                    for lease in expired {
                        self.append(ctx, DcsOp::Revoke { lease });
                    }
                }
            }
            EtcdTimer::Election | EtcdTimer::Heartbeat | EtcdTimer::CheckQuorum => {}
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }

    fn refuses(&self, kind: ReqKind) -> bool {
        // Nothing but the cluster protocol talks to etcd here.
        kind == ReqKind::Work
    }

    fn crashed(&mut self, _pristine: &Self) {
        self.crash();
    }

    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        if matches!(a, Admin::Action { name, .. } if name == RESTART.name) {
            // systemctl restart etcd: a clean stop and start, disk kept. The
            // old process's timers go with it (cancelled by `start`).
            ctx.log(self.me, EventKind::Info, "restarting etcd");
            self.crash();
            self.start(ctx, rng, Boot::FRESH);
        }
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        None
    }
}
