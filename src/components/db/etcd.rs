//! An etcd 3.4 member: raft (heartbeats, randomized election timeout,
//! CheckQuorum, no PreVote, term/vote/log on disk), a tiny KV holding what
//! Patroni keeps in it (the leader key bound to a lease, `/optime/leader`,
//! `/failover`, `/sync`), leases with TTLs expired by the leader's lessor
//! every 500 ms and re-armed to TTL + election timeout by a new leader
//! (`lessor.Promote`), and watch notifications to Patroni nodes.
//!
//! Raft messages carry one log entry each (`APPEND`); a proposal is one
//! `u32` op (kind in the top 4 bits). Clients (Patroni) send requests with
//! ids in the `call` words; a follower forwards them to the leader it knows,
//! which answers the client directly. Without a leader, or when a proposal
//! does not commit, the request fails after the request timeout
//! (5 s + 2 x election timeout, "etcdserver: request timed out").

use super::{Admin, FinalData};
use crate::components::{CallRef, Ctx, Msg, MsgKind, NodeId, ReqKind};
use crate::config::spec::{DatabaseSpec, DbKind};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use rand::Rng as _;

// ---- message tags (etcd <-> etcd) ----
const VOTE_REQ: u8 = 1;
const VOTE_RESP: u8 = 2;
const APPEND: u8 = 3;
const APPEND_RESP: u8 = 4;
const HEARTBEAT: u8 = 5;
const HEARTBEAT_RESP: u8 = 6;
const FORWARD_PROPOSE: u8 = 7;
const FORWARD_KEEPALIVE: u8 = 8;
const FORWARD_READ: u8 = 9;

// ---- client protocol (Patroni <-> etcd) ----
/// A proposal: `a` = op. Answer `C_RESP`.
pub const C_PROPOSE: u8 = 20;
/// A lease keepalive: `a` = lease id. Answer `C_RESP` (`b` = ttl s).
pub const C_KEEPALIVE: u8 = 21;
/// A read of the cluster keys that also (re)creates the watch. Answer
/// `C_STATE`.
pub const C_READ: u8 = 22;
/// `a` = result (`R_OK`, `R_FAIL`, `R_ERR`), `b` = value; `call` echoes.
pub const C_RESP: u8 = 23;
/// The keys: `a` = leader key owner (`NONE`), `b` = `/optime/leader`,
/// `call.slot` = `/failover` (pack2 leader, candidate), `call.generation` =
/// `/sync` (pack2 leader, standby), `peer` = revision. Sent as the answer to
/// a read and as a watch notification.
pub const C_STATE: u8 = 24;

pub const R_OK: u32 = 0;
/// Compare failed (the key exists), lease not found.
pub const R_FAIL: u32 = 1;
/// "request timed out", "leader changed".
pub const R_ERR: u32 = 2;

pub const NONE: u32 = u32::MAX;

// ---- ops (4-bit kind, 28-bit value) ----
pub const OP_NOOP: u32 = 0;
/// Value: pack `node << 14 | ttl_secs`; the lease id is the entry's index.
pub const OP_GRANT: u32 = 1;
pub const OP_REVOKE: u32 = 2;
/// Create the leader key if absent, bound to lease `value` (its owner is
/// the lease's node): Patroni's `attempt_to_acquire_leader` transaction.
pub const OP_CREATE_LEADER: u32 = 3;
/// Delete the leader key if its owner is node `value`.
pub const OP_DELETE_LEADER: u32 = 4;
pub const OP_PUT_OPTIME: u32 = 5;
/// Value: pack2(leader, candidate); 0 clears.
pub const OP_PUT_FAILOVER: u32 = 6;
/// Value: pack2(leader, standby).
pub const OP_PUT_SYNC: u32 = 7;
/// Re-bind the leader key to lease `value` if the lease's node owns it
/// (a restarted Patroni with a new lease: etcd3.py `_update_leader`).
pub const OP_UPDATE_LEADER: u32 = 8;

pub const fn op(kind: u32, value: u32) -> u32 {
    kind << 28 | (value & 0x0fff_ffff)
}

/// Two node ids (or `NONE`) in 28 bits; 0 = empty.
pub const fn pack2(a: u32, b: u32) -> u32 {
    (a.wrapping_add(1) & 0x3fff) << 14 | (b.wrapping_add(1) & 0x3fff)
}

pub const fn unpack2(v: u32) -> (u32, u32) {
    (
        (v >> 14 & 0x3fff).wrapping_sub(1),
        (v & 0x3fff).wrapping_sub(1),
    )
}

// ---- timers ----
const T_ELECTION: u8 = 1;
const T_HEARTBEAT: u8 = 2;
const T_LESSOR: u8 = 3;
const T_CHECK_QUORUM: u8 = 4;

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
    op: u32,
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
    failover: u32,
    sync: u32,
    revision: u32,
    leases: Vec<Lease>,
}

impl Default for Kv {
    fn default() -> Kv {
        Kv {
            leader: NONE,
            leader_lease: NONE,
            optime: 0,
            failover: 0,
            sync: 0,
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
    epoch: u32,
    life: u32,
    last_heard: SimTime,
    votes: u32,
    next: Vec<u32>,
    matched: Vec<u32>,
    active: Vec<bool>,
    pending: Vec<Pending>,
    watchers: Vec<NodeId>,
    /// Requests held while no leader is known: (client, call, kind, a, since).
    held: Vec<(NodeId, CallRef, u8, u32, SimTime)>,
    /// Keepalives of an expired lease, waiting on the leader for its
    /// revocation or for the leader to step down: (client, call, lease).
    renewing: Vec<(NodeId, CallRef, u32)>,
    lost_logged: bool,
}

impl Etcd {
    pub fn new(spec: &DatabaseSpec, me: NodeId, ids: &super::DbIds) -> Etcd {
        let DbKind::Etcd(e) = &spec.kind else {
            panic!("an etcd node needs an etcd spec");
        };
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
            epoch: 0,
            life: 0,
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

    pub fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.role = Role::Follower;
        self.leader = NONE;
        self.last_heard = ctx.now;
        self.reset_election(ctx, rng);
        ctx.timer(ctx.now + LESSOR_CHECK, T_LESSOR, self.life, 0);
    }

    fn reset_election(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        self.epoch = self.epoch.wrapping_add(1);
        let d = self.election.0 + rng.random_range(0..self.election.0.max(1));
        ctx.timer(ctx.now + Dur(d), T_ELECTION, self.epoch, 0);
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
                ctx.send(p.client, p.call, peer(C_RESP, R_ERR, 0));
            }
            for l in &mut self.kv.leases {
                l.expiry = SimTime::NEVER;
                l.revoking = false;
            }
            // Renewals waiting on an expired lease get ErrNotPrimary and
            // are forwarded to the next leader (v3_server.go LeaseRenew).
            for (client, call, id) in std::mem::take(&mut self.renewing) {
                self.held.push((client, call, C_KEEPALIVE, id, ctx.now));
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
        let (li, lt) = (self.last_index(), self.term_at(self.last_index()));
        for i in 0..self.peers.len() {
            let to = self.peers[i];
            ctx.send_peer(
                to,
                CallRef {
                    slot: lt,
                    generation: 0,
                },
                0,
                MsgKind::Peer {
                    tag: VOTE_REQ,
                    a: self.term,
                    b: li,
                },
            );
        }
    }

    fn become_leader(&mut self, ctx: &mut Ctx, _rng: &mut Rng) {
        self.role = Role::Leader;
        self.leader = self.me;
        self.lost_logged = false;
        self.epoch = self.epoch.wrapping_add(1);
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
        self.append(ctx, op(OP_NOOP, 0));
        self.release_held(ctx);
        self.heartbeat_tick(ctx);
        ctx.timer(ctx.now + self.election, T_CHECK_QUORUM, self.epoch, 0);
    }

    /// Appends an op to the leader's log; returns its index.
    fn append(&mut self, ctx: &mut Ctx, o: u32) -> u32 {
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
            ctx.send_peer(
                to,
                CallRef {
                    slot: e.term,
                    generation: self.term_at(idx - 1),
                },
                e.op,
                MsgKind::Peer {
                    tag: APPEND,
                    a: self.term,
                    b: idx,
                },
            );
        }
        if upto >= from {
            self.next[i] = upto + 1;
        }
    }

    fn heartbeat_tick(&mut self, ctx: &mut Ctx) {
        let (li, lt) = (self.last_index(), self.term_at(self.last_index()));
        for i in 0..self.peers.len() {
            ctx.send_peer(
                self.peers[i],
                CallRef {
                    slot: li,
                    generation: lt,
                },
                0,
                MsgKind::Peer {
                    tag: HEARTBEAT,
                    a: self.term,
                    b: self.commit,
                },
            );
        }
        ctx.timer(ctx.now + self.heartbeat, T_HEARTBEAT, self.epoch, 0);
        // Proposals that did not commit in time fail.
        let limit = self.req_timeout;
        let now = ctx.now;
        self.pending.retain(|p| {
            if now.since(p.at) >= limit {
                ctx.send(p.client, p.call, peer(C_RESP, R_ERR, 0));
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
                let r = if p.term == e.term { result } else { R_ERR };
                ctx.send(p.client, p.call, peer(C_RESP, r, value));
            }
        }
    }

    fn apply_op(&mut self, ctx: &mut Ctx, idx: u32, o: u32) -> (u32, u32) {
        let (kind, v) = (o >> 28, o & 0x0fff_ffff);
        let before = (self.kv.leader, self.kv.failover, self.kv.sync);
        let r = match kind {
            OP_GRANT => {
                let ttl = Dur::from_secs((v & 0x3fff) as u64);
                let expiry = if self.role == Role::Leader {
                    ctx.now + ttl
                } else {
                    SimTime::NEVER
                };
                self.kv.leases.push(Lease {
                    id: idx,
                    node: v >> 14,
                    ttl,
                    expiry,
                    revoking: false,
                });
                (R_OK, idx)
            }
            OP_REVOKE => {
                self.kv.leases.retain(|l| l.id != v);
                // Renewals that waited for the revocation: lease not found.
                self.renewing.retain(|&(client, call, id)| {
                    if id == v {
                        ctx.send(client, call, peer(C_RESP, R_FAIL, 0));
                    }
                    id != v
                });
                if self.kv.leader_lease == v {
                    self.kv.leader = NONE;
                    self.kv.leader_lease = NONE;
                }
                (R_OK, 0)
            }
            OP_CREATE_LEADER => match self.kv.leases.iter().find(|l| l.id == v) {
                Some(l) if self.kv.leader == NONE => {
                    self.kv.leader = l.node;
                    self.kv.leader_lease = v;
                    (R_OK, 0)
                }
                Some(_) => (R_FAIL, self.kv.leader),
                None => (R_FAIL, NONE),
            },
            OP_DELETE_LEADER => {
                if self.kv.leader == v {
                    self.kv.leader = NONE;
                    self.kv.leader_lease = NONE;
                    (R_OK, 0)
                } else {
                    (R_FAIL, self.kv.leader)
                }
            }
            OP_UPDATE_LEADER => match self.kv.leases.iter().find(|l| l.id == v) {
                Some(l) if self.kv.leader == l.node => {
                    self.kv.leader_lease = v;
                    (R_OK, 0)
                }
                _ => (R_FAIL, self.kv.leader),
            },
            OP_PUT_OPTIME => {
                self.kv.optime = v;
                (R_OK, 0)
            }
            OP_PUT_FAILOVER => {
                self.kv.failover = v;
                (R_OK, 0)
            }
            OP_PUT_SYNC => {
                self.kv.sync = v;
                (R_OK, 0)
            }
            _ => (R_OK, 0),
        };
        if kind != OP_NOOP {
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
        ctx.send_peer(
            to,
            CallRef {
                slot: self.kv.failover,
                generation: self.kv.sync,
            },
            self.kv.revision,
            MsgKind::Peer {
                tag: C_STATE,
                a: self.kv.leader,
                b: self.kv.optime,
            },
        );
    }

    fn release_held(&mut self, ctx: &mut Ctx) {
        for (client, call, kind, a, _) in std::mem::take(&mut self.held) {
            self.client_request(ctx, client, call, kind, a);
        }
    }

    /// A client request (direct or forwarded).
    fn client_request(&mut self, ctx: &mut Ctx, client: NodeId, call: CallRef, kind: u8, a: u32) {
        if self.role != Role::Leader {
            if self.leader == NONE || self.leader == self.me {
                self.held.push((client, call, kind, a, ctx.now));
                return;
            }
            let tag = match kind {
                C_PROPOSE => FORWARD_PROPOSE,
                C_KEEPALIVE => FORWARD_KEEPALIVE,
                _ => FORWARD_READ,
            };
            ctx.send_peer(self.leader, call, client, MsgKind::Peer { tag, a, b: 0 });
            return;
        }
        match kind {
            C_PROPOSE => {
                self.pending.push(Pending {
                    index: self.last_index() + 1,
                    term: self.term,
                    client,
                    call,
                    at: ctx.now,
                });
                self.append(ctx, a);
            }
            C_KEEPALIVE => {
                let now = ctx.now;
                match self.kv.leases.iter_mut().find(|l| l.id == a) {
                    // lessor.Renew: an expired lease is not renewed; the
                    // request waits until it is revoked (lease not found) or
                    // this member stops being the leader. A stale leader
                    // cut off from its quorum thus renews no expired lease.
                    Some(l) if l.expiry <= now => self.renewing.push((client, call, a)),
                    Some(l) => {
                        l.expiry = now + l.ttl;
                        let ttl = (l.ttl.0 / Dur::S) as u32;
                        ctx.send(client, call, peer(C_RESP, R_OK, ttl));
                    }
                    None => ctx.send(client, call, peer(C_RESP, R_FAIL, 0)),
                }
            }
            _ => {
                if !self.watchers.contains(&client) {
                    self.watchers.push(client);
                }
                self.send_state(ctx, client);
            }
        }
    }

    pub fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        let MsgKind::Peer { tag, a, b } = msg.kind else {
            return;
        };
        match tag {
            C_PROPOSE | C_KEEPALIVE | C_READ => {
                self.client_request(ctx, msg.from, msg.call, tag, a)
            }
            FORWARD_PROPOSE | FORWARD_KEEPALIVE | FORWARD_READ => {
                let kind = match tag {
                    FORWARD_PROPOSE => C_PROPOSE,
                    FORWARD_KEEPALIVE => C_KEEPALIVE,
                    _ => C_READ,
                };
                self.client_request(ctx, msg.peer, msg.call, kind, a)
            }
            VOTE_REQ => self.on_vote_req(ctx, rng, msg.from, a, b, msg.call.slot),
            VOTE_RESP => {
                if a > self.term {
                    self.become_follower(ctx, rng, a, NONE);
                } else if self.role == Role::Candidate && a == self.term && b == 1 {
                    self.votes += 1;
                    if self.votes as usize >= self.quorum() {
                        self.become_leader(ctx, rng);
                    }
                }
            }
            APPEND | HEARTBEAT => {
                if a < self.term {
                    let resp = if tag == APPEND {
                        APPEND_RESP
                    } else {
                        HEARTBEAT_RESP
                    };
                    ctx.send(msg.from, CallRef::default(), peer(resp, self.term, 0));
                    return;
                }
                if a > self.term || self.role != Role::Follower || self.leader != msg.from {
                    self.become_follower(ctx, rng, a, msg.from);
                } else {
                    self.reset_election(ctx, rng);
                }
                self.last_heard = ctx.now;
                if tag == APPEND {
                    self.on_append(
                        ctx,
                        msg.from,
                        b,
                        msg.call.slot,
                        msg.call.generation,
                        msg.peer,
                    );
                } else {
                    // Heartbeat: commit what is known to match the leader.
                    let (li, lt) = (msg.call.slot, msg.call.generation);
                    if self.last_index() >= li && self.term_at(li) == lt {
                        self.commit = self.commit.max(b.min(li));
                        self.apply(ctx);
                    }
                    let mine = self.last_index();
                    ctx.send_peer(
                        msg.from,
                        CallRef {
                            slot: self.term_at(mine),
                            generation: 0,
                        },
                        0,
                        MsgKind::Peer {
                            tag: HEARTBEAT_RESP,
                            a: self.term,
                            b: mine,
                        },
                    );
                }
            }
            APPEND_RESP | HEARTBEAT_RESP => {
                if a > self.term {
                    return self.become_follower(ctx, rng, a, NONE);
                }
                if self.role != Role::Leader || a < self.term {
                    return;
                }
                let Some(i) = self.peer_index(msg.from) else {
                    return;
                };
                self.active[i] = true;
                if tag == APPEND_RESP {
                    if msg.call.slot == 1 {
                        self.matched[i] = self.matched[i].max(b);
                        self.advance_commit(ctx);
                    } else {
                        // Rejected: resend from the follower's hint.
                        self.next[i] = b.max(self.matched[i] + 1).max(1);
                        self.send_entries(ctx, i);
                    }
                } else {
                    // The follower's last entry: in sync with us up to there?
                    let (fi, ft) = (b, msg.call.slot);
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
            _ => {}
        }
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
        ctx.send(
            from,
            CallRef::default(),
            peer(VOTE_RESP, self.term, grant as u32),
        );
    }

    fn on_append(
        &mut self,
        ctx: &mut Ctx,
        from: NodeId,
        idx: u32,
        eterm: u32,
        prev_term: u32,
        o: u32,
    ) {
        let nack = |ctx: &mut Ctx, hint: u32, term: u32| {
            ctx.send(from, CallRef::default(), peer(APPEND_RESP, term, hint));
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
        let ack = CallRef {
            slot: 1,
            generation: 0,
        };
        ctx.send(from, ack, peer(APPEND_RESP, self.term, idx));
    }

    pub fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: crate::components::RawTimer) {
        match t.kind {
            T_ELECTION if t.a == self.epoch && self.role != Role::Leader => self.campaign(ctx, rng),
            T_HEARTBEAT if t.a == self.epoch && self.role == Role::Leader => {
                self.heartbeat_tick(ctx)
            }
            T_CHECK_QUORUM if t.a == self.epoch && self.role == Role::Leader => {
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
                    ctx.timer(ctx.now + self.election, T_CHECK_QUORUM, self.epoch, 0);
                }
            }
            T_LESSOR if t.a == self.life => {
                ctx.timer(ctx.now + LESSOR_CHECK, T_LESSOR, self.life, 0);
                // Held requests (no leader) fail after the request timeout.
                let (now, limit) = (ctx.now, self.req_timeout);
                self.held.retain(|&(client, call, _, _, since)| {
                    if now.since(since) >= limit {
                        ctx.send(client, call, peer(C_RESP, R_ERR, 0));
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
                    for id in expired {
                        self.append(ctx, op(OP_REVOKE, id));
                    }
                }
            }
            _ => {}
        }
    }

    pub fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    pub fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    pub fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Vec::new()
    }

    pub fn refuses(&self, kind: ReqKind) -> bool {
        // Nothing but the cluster protocol talks to etcd here.
        kind == ReqKind::Work
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

    pub fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        if a == Admin::Restart {
            // systemctl restart etcd: a clean stop and start, disk kept.
            ctx.log(self.me, EventKind::Info, "restarting etcd");
            self.crash();
            self.life = self.life.wrapping_add(1);
            self.start(ctx, rng);
        }
    }

    pub fn final_data(&self) -> Option<FinalData<'_>> {
        None
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

fn peer(tag: u8, a: u32, b: u32) -> MsgKind {
    MsgKind::Peer { tag, a, b }
}

// Until Etcd's methods move here from its inherent impl (they are being
// edited in parallel), the trait forwards to them.
impl crate::components::Process for Etcd {
    type Timer = crate::components::NoTimer;

    fn on_timer(&mut self, _ctx: &mut Ctx, _rng: &mut Rng, t: crate::components::NoTimer) {
        match t {}
    }

    fn start(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        Etcd::start(self, ctx, rng)
    }
    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        Etcd::on_message(self, ctx, rng, msg)
    }
    fn on_raw_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: crate::components::RawTimer) {
        Etcd::on_timer(self, ctx, rng, t)
    }
    fn on_established(&mut self, call: CallRef, at: SimTime) {
        Etcd::on_established(self, call, at)
    }
    fn is_call_live(&self, call: CallRef) -> bool {
        Etcd::is_call_live(self, call)
    }
    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        Etcd::inbound_peers(self)
    }
    fn crashed(&mut self, _pristine: &Self) {
        Etcd::crash(self)
    }
    fn refuses(&self, kind: ReqKind) -> bool {
        Etcd::refuses(self, kind)
    }
    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        Etcd::admin(self, ctx, rng, a)
    }
    fn final_data(&self) -> Option<FinalData<'_>> {
        Etcd::final_data(self)
    }
}
