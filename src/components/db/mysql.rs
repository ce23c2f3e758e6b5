//! MySQL / MariaDB asynchronous replication (mysql-replication.md): one
//! primary writes its binary log, each replica's IO thread streams it and a
//! single SQL thread applies it one event at a time, so lag grows whenever
//! writes arrive faster than they apply. Replicas are `read_only`. Nothing
//! fails over: when the primary is gone, writes fail until it is back.
//!
//! The replication link: the primary pushes each event and, when idle, a
//! heartbeat every `slave_net_timeout / 2`; a replica that hears nothing for
//! `slave_net_timeout` declares the link dead and asks again every
//! `master_connect_retry`. A replica that sees a gap in positions asks for
//! the missing events, so lost or partitioned events are fetched again.
//! Semi-synchronous replication (`rpl_semi_sync_master_enabled`) holds each
//! commit's reply until one replica has the event, or until
//! `rpl_semi_sync_master_timeout`, after which the primary falls back to
//! asynchronous replication until a replica catches up.

use super::{Admin, DataLog, DbIds, FinalData, Query, Sessions};
use crate::components::Process;
use crate::components::dist::Sampler;
use crate::components::{CallRef, Ctx, Msg, MsgKind, NodeId, ReqKind, Timer};
use crate::config::spec::{DatabaseSpec, DbKind, MysqlSpec};
use crate::engine::{Dur, Rng, SimTime};
use crate::metrics::EventKind;
use crate::metrics::outcome::db;
use std::collections::VecDeque;

// Timers.
const QUERY_DONE: u8 = 0;
const APPLY_DONE: u8 = 1;
const HEARTBEAT: u8 = 2;
const LINK_CHECK: u8 = 3;
const SEMI_SYNC_TIMEOUT: u8 = 4;

// Peer message tags.
/// Primary -> replica: binlog event `a` = position (1-based), `b` = op;
/// `call.slot` = commit instant in ms (for the lag).
const EVENT: u8 = 1;
/// Primary -> replica: `a` = the primary's binlog length.
const BEAT: u8 = 2;
/// Replica -> primary: send me everything after position `a`.
const FETCH: u8 = 3;
/// Replica -> primary (semi-sync): I have everything up to position `a`.
const ACK: u8 = 4;

#[derive(Clone)]
pub struct Mysql {
    me: NodeId,
    cluster: u32,
    primary: NodeId,
    replicas: Vec<NodeId>,
    spec: MysqlSpec,
    service: Sampler,
    apply: Sampler,
    sessions: Sessions,
    /// Committed (primary) or applied (replica) writes: the node's data.
    log: DataLog,
    /// Replica: events received (relay log) but not applied yet, with the
    /// primary's commit instant.
    relay: VecDeque<(u32, SimTime)>,
    /// Replica: highest binlog position received.
    received: u32,
    applying: bool,
    last_heard: SimTime,
    link_up: bool,
    /// Primary: commits waiting for a semi-sync ACK, by binlog position.
    waiting: VecDeque<(u32, CallRef)>,
    semi_sync_on: bool,
    /// Largest replication lag seen (replica), for the log.
    max_lag: Dur,
}

impl Mysql {
    pub fn new(spec: &DatabaseSpec, me: NodeId, ids: &DbIds) -> Mysql {
        let DbKind::Mysql(m) = &spec.kind else {
            unreachable!("built from a mysql cluster")
        };
        let primary = ids.members[m.primary];
        Mysql {
            me,
            cluster: spec.cluster_index,
            primary,
            replicas: ids
                .members
                .iter()
                .copied()
                .filter(|&n| n != primary)
                .collect(),
            service: Sampler::new(&m.service),
            apply: Sampler::new(&m.apply),
            sessions: Sessions::new(m.max_connections),
            semi_sync_on: m.semi_sync,
            spec: m.clone(),
            log: DataLog::default(),
            relay: VecDeque::new(),
            received: 0,
            applying: false,
            last_heard: SimTime::ZERO,
            link_up: true,
            waiting: VecDeque::new(),
            max_lag: Dur::ZERO,
        }
    }

    fn is_primary(&self) -> bool {
        self.me == self.primary
    }

    /// MASTER_HEARTBEAT_PERIOD defaults to half of slave_net_timeout.
    fn heartbeat_period(&self) -> Dur {
        Dur(self.spec.slave_net_timeout.0 / 2)
    }

    fn fetch(&mut self, ctx: &mut Ctx) {
        // Unapplied relay-log events are kept; ask for what follows them.
        let peer = MsgKind::Peer {
            tag: FETCH,
            a: self.received,
            b: 0,
        };
        ctx.send(self.primary, CallRef::default(), peer);
    }

    fn on_peer(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg, tag: u8, a: u32, b: u32) {
        match tag {
            EVENT if !self.is_primary() => {
                self.heard(ctx);
                let committed = SimTime(msg.call.slot as u64 * 1_000_000);
                if a == self.received + 1 {
                    self.received = a;
                    self.relay.push_back((b, committed));
                    self.ack(ctx);
                    self.apply_next(ctx, rng);
                } else if a > self.received + 1 {
                    // A gap: events were lost on the way; ask again.
                    self.fetch(ctx);
                }
            }
            BEAT if !self.is_primary() => {
                self.heard(ctx);
                if a > self.received {
                    self.fetch(ctx);
                }
            }
            FETCH if self.is_primary() => {
                let from = a as usize;
                for pos in from..self.log.len() {
                    let op = self.log.get(pos).expect("in range");
                    self.send_event(ctx, msg.from, pos as u32 + 1, op);
                }
                let beat = MsgKind::Peer {
                    tag: BEAT,
                    a: self.log.len() as u32,
                    b: 0,
                };
                ctx.send(msg.from, CallRef::default(), beat);
            }
            ACK if self.is_primary() => self.acked(ctx, a),
            _ => {}
        }
    }

    fn heard(&mut self, ctx: &mut Ctx) {
        self.last_heard = ctx.now;
        if !self.link_up {
            self.link_up = true;
            ctx.log(
                self.primary,
                EventKind::Info,
                "Slave I/O thread: connected to master",
            );
        }
    }

    fn ack(&mut self, ctx: &mut Ctx) {
        if self.spec.semi_sync {
            let ack = MsgKind::Peer {
                tag: ACK,
                a: self.received,
                b: 0,
            };
            ctx.send(self.primary, CallRef::default(), ack);
        }
    }

    fn send_event(&self, ctx: &mut Ctx, to: NodeId, pos: u32, op: u32) {
        // The commit instant rides along (ms) so replicas can tell their lag.
        let ms = (ctx.now.0 / 1_000_000) as u32;
        let call = CallRef {
            slot: ms,
            generation: 0,
        };
        let ev = MsgKind::Peer {
            tag: EVENT,
            a: pos,
            b: op,
        };
        ctx.send(to, call, ev);
    }

    /// The SQL thread: one event at a time.
    fn apply_next(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.applying || self.relay.is_empty() {
            return;
        }
        self.applying = true;
        let mut d = self.apply.sample(rng);
        if ctx.slow != 1.0 {
            d = Dur((d.0 as f64 * ctx.slow) as u64);
        }
        ctx.timer(ctx.now + d, APPLY_DONE, 0, 0);
    }

    fn finish_query(&mut self, ctx: &mut Ctx, q: Query) {
        if !q.write {
            let log = &self.log;
            if let Some(h) = ctx.rec.history.as_mut() {
                h.read(q.op, self.me, |w| log.contains(w));
            }
            return self.sessions.reply(ctx, q.id, 200);
        }
        if !self.is_primary() && self.spec.read_only {
            return self.sessions.reply(ctx, q.id, db::READ_ONLY);
        }
        self.log.push(q.op);
        if let Some(h) = ctx.rec.history.as_mut() {
            h.committed(q.op, self.me, ctx.now);
        }
        if !self.is_primary() {
            // A write on a replica without read_only: it diverges silently.
            return self.sessions.reply(ctx, q.id, 200);
        }
        let pos = self.log.len() as u32;
        for &r in &self.replicas {
            self.send_event(ctx, r, pos, q.op);
        }
        if self.semi_sync_on && !self.replicas.is_empty() {
            self.waiting.push_back((pos, q.id));
            let at = ctx.now + self.spec.semi_sync_timeout;
            ctx.timer(at, SEMI_SYNC_TIMEOUT, pos, 0);
        } else {
            self.sessions.reply(ctx, q.id, 200);
        }
    }

    /// A replica has everything up to `pos`: release those commits.
    fn acked(&mut self, ctx: &mut Ctx, pos: u32) {
        if !self.semi_sync_on && self.spec.semi_sync && pos as usize >= self.log.len() {
            // A replica caught up: semi-sync switches back on.
            self.semi_sync_on = true;
            ctx.log(
                self.me,
                EventKind::Info,
                "Semi-sync replication switched ON",
            );
        }
        while self.waiting.front().is_some_and(|&(p, _)| p <= pos) {
            let (_, id) = self.waiting.pop_front().expect("checked");
            self.sessions.reply(ctx, id, 200);
        }
    }

    /// No ACK within rpl_semi_sync_master_timeout: fall back to async.
    fn semi_sync_timeout(&mut self, ctx: &mut Ctx, pos: u32) {
        if !self.waiting.iter().any(|&(p, _)| p == pos) {
            return;
        }
        self.semi_sync_on = false;
        ctx.log(
            self.me,
            EventKind::Info,
            "Timeout waiting for reply of binlog; semi-sync replication switched OFF",
        );
        for (_, id) in std::mem::take(&mut self.waiting) {
            self.sessions.reply(ctx, id, 200);
        }
    }

    /// The process died: sessions, the relay log's unapplied tail and the
    /// semi-sync waiters go; the data (InnoDB) stays.
    pub fn crash(&mut self) {
        self.sessions = Sessions::new(self.spec.max_connections);
        self.relay.clear();
        self.received = self.log.len() as u32;
        self.applying = false;
        self.link_up = true;
        self.waiting.clear();
    }
}

impl Process for Mysql {
    fn crashed(&mut self, _pristine: &Self) {
        self.crash();
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng) {
        self.last_heard = ctx.now;
        if self.is_primary() {
            self.semi_sync_on = self.spec.semi_sync;
            if let Some(h) = ctx.rec.history.as_mut() {
                h.set_writable(ctx.now, self.cluster, self.me, Some(self.me));
            }
            ctx.timer(ctx.now + self.heartbeat_period(), HEARTBEAT, 0, 0);
        } else {
            // The IO thread connects and asks for what it lacks.
            self.fetch(ctx);
            ctx.timer(ctx.now + self.spec.slave_net_timeout, LINK_CHECK, 0, 0);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Peer { tag, a, b } => self.on_peer(ctx, rng, msg, tag, a, b),
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                // An HTTP check script (e.g. a lag check) sees a live server.
                ctx.send(msg.from, msg.call, MsgKind::Response { status: 200 });
            }
            _ => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    let mut d = self.service.sample(rng);
                    if ctx.slow != 1.0 {
                        d = Dur((d.0 as f64 * ctx.slow) as u64);
                    }
                    ctx.timer(ctx.now + d, QUERY_DONE, q.id.slot, q.id.generation);
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: Timer) {
        match t.kind {
            QUERY_DONE => {
                let id = CallRef {
                    slot: t.a,
                    generation: t.b,
                };
                if let Some(q) = self.sessions.query(id) {
                    self.finish_query(ctx, q);
                }
            }
            APPLY_DONE => {
                self.applying = false;
                if let Some((op, committed)) = self.relay.pop_front() {
                    self.log.push(op);
                    let lag = ctx.now - committed.min(ctx.now);
                    if lag > self.max_lag + Dur::from_secs(1) {
                        self.max_lag = lag;
                        let detail = format!("Seconds_Behind_Master {}", lag.0 / 1_000_000_000);
                        ctx.log(self.me, EventKind::Info, detail);
                    }
                }
                self.apply_next(ctx, rng);
            }
            HEARTBEAT => {
                let beat = MsgKind::Peer {
                    tag: BEAT,
                    a: self.log.len() as u32,
                    b: 0,
                };
                for &r in &self.replicas {
                    ctx.send(r, CallRef::default(), beat);
                }
                ctx.timer(ctx.now + self.heartbeat_period(), HEARTBEAT, 0, 0);
            }
            LINK_CHECK => {
                let silent = ctx.now - self.last_heard.min(ctx.now);
                if silent >= self.spec.slave_net_timeout {
                    if self.link_up {
                        self.link_up = false;
                        ctx.log(
                            self.primary,
                            EventKind::Info,
                            "Slave I/O thread: error reconnecting to master (slave_net_timeout)",
                        );
                    }
                    self.fetch(ctx);
                    ctx.timer(ctx.now + self.spec.master_connect_retry, LINK_CHECK, 0, 0);
                } else {
                    let next = self.last_heard + self.spec.slave_net_timeout;
                    ctx.timer(next, LINK_CHECK, 0, 0);
                }
            }
            SEMI_SYNC_TIMEOUT => self.semi_sync_timeout(ctx, t.a),
            _ => {}
        }
    }

    fn on_established(&mut self, _call: CallRef, _at: SimTime) {}

    fn is_call_live(&self, _call: CallRef) -> bool {
        false
    }

    fn inbound_peers(&self) -> Vec<(NodeId, CallRef)> {
        self.sessions.inbound_peers()
    }

    fn refuses(&self, _kind: ReqKind) -> bool {
        false
    }

    /// A clean restart: clients get an error, the node comes back at once.
    fn admin(&mut self, ctx: &mut Ctx, rng: &mut Rng, a: Admin) {
        if a == Admin::Restart {
            self.sessions.close_all(ctx);
            self.crash();
            self.start(ctx, rng);
        }
    }

    fn final_data(&self) -> Option<FinalData<'_>> {
        Some(FinalData {
            cluster: self.cluster,
            writable: self.is_primary() || !self.spec.read_only,
            log: &self.log,
        })
    }
}
