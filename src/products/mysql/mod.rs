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

pub mod config;
pub mod errors;
mod product;

use crate::config::spec::ClusterSpec;
use crate::data::{DataLog, FinalData};
use crate::engine::{Dur, Rng, SimTime};
use crate::faults::RESTART;
use crate::metrics::EventKind;
use crate::process::{Boot, Process};
use crate::process::dist::Sampler;
use crate::process::{Admin, DbIds};
use crate::process::{CallRef, Ctx, Msg, MsgKind, NodeId, ReqKind};
use crate::products::{Timer, Wire};
use crate::protocols::sql::{Query, Sessions};
use config::MysqlSpec;
use std::collections::VecDeque;

/// MySQL's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MysqlTimer {
    /// A client query's service time is over.
    QueryDone(CallRef),
    /// Replica: the SQL thread applied its current event.
    ApplyDone,
    /// Primary: send a heartbeat to every replica.
    Heartbeat,
    /// Replica: has the primary been silent for `slave_net_timeout`?
    LinkCheck,
    /// Primary: the semi-sync wait for binlog position `.0` is over.
    SemiSyncTimeout(u32),
}

impl From<MysqlTimer> for Timer {
    fn from(t: MysqlTimer) -> Timer {
        Timer::Mysql(t)
    }
}

/// The binlog replication protocol between a primary and its replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinlogMsg {
    /// Primary -> replica: the event at binlog position `pos` (1-based) wrote
    /// operation `op`, committed at `committed_ms` (for the lag).
    Event {
        pos: u32,
        op: u32,
        committed_ms: u32,
    },
    /// Primary -> replica: the primary's binlog length.
    Beat { len: u32 },
    /// Replica -> primary: send me everything after position `after`.
    Fetch { after: u32 },
    /// Replica -> primary (semi-sync): I have everything up to `upto`.
    Ack { upto: u32 },
}

impl From<BinlogMsg> for MsgKind {
    fn from(m: BinlogMsg) -> MsgKind {
        MsgKind::Wire(Wire::Binlog(m))
    }
}

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
    pub fn new(spec: &ClusterSpec, m: &MysqlSpec, me: NodeId, ids: &DbIds) -> Mysql {
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
            sessions: Sessions::new(m.max_connections, errors::SESSION_ERRORS),
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
        let fetch = BinlogMsg::Fetch {
            after: self.received,
        };
        ctx.send(self.primary, CallRef::default(), fetch.into());
    }

    fn on_binlog(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg, m: BinlogMsg) {
        match m {
            BinlogMsg::Event {
                pos,
                op,
                committed_ms,
            } if !self.is_primary() => {
                self.heard(ctx);
                let committed = SimTime(committed_ms as u64 * 1_000_000);
                if pos == self.received + 1 {
                    self.received = pos;
                    self.relay.push_back((op, committed));
                    self.ack(ctx);
                    self.apply_next(ctx, rng);
                } else if pos > self.received + 1 {
                    // A gap: events were lost on the way; ask again.
                    self.fetch(ctx);
                }
            }
            BinlogMsg::Beat { len } if !self.is_primary() => {
                self.heard(ctx);
                if len > self.received {
                    self.fetch(ctx);
                }
            }
            BinlogMsg::Fetch { after } if self.is_primary() => {
                for pos in after as usize..self.log.len() {
                    let op = self.log.get(pos).expect("in range");
                    self.send_event(ctx, msg.from, pos as u32 + 1, op);
                }
                let beat = BinlogMsg::Beat {
                    len: self.log.len() as u32,
                };
                ctx.send(msg.from, CallRef::default(), beat.into());
            }
            BinlogMsg::Ack { upto } if self.is_primary() => self.acked(ctx, upto),
            // A primary's message reaching a primary, or the reverse: a
            // node whose role changed since it was sent.
            BinlogMsg::Event { .. }
            | BinlogMsg::Beat { .. }
            | BinlogMsg::Fetch { .. }
            | BinlogMsg::Ack { .. } => {}
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
            let ack = BinlogMsg::Ack {
                upto: self.received,
            };
            ctx.send(self.primary, CallRef::default(), ack.into());
        }
    }

    fn send_event(&self, ctx: &mut Ctx, to: NodeId, pos: u32, op: u32) {
        // The commit instant rides along (ms) so replicas can tell their lag.
        let ev = BinlogMsg::Event {
            pos,
            op,
            committed_ms: (ctx.now.0 / 1_000_000) as u32,
        };
        ctx.send(to, CallRef::default(), ev.into());
    }

    /// The SQL thread: one event at a time.
    fn apply_next(&mut self, ctx: &mut Ctx, rng: &mut Rng) {
        if self.applying || self.relay.is_empty() {
            return;
        }
        self.applying = true;
        let mut d = self.apply.sample(rng);
        d = ctx.slowed(d);
        ctx.at(ctx.now + d, MysqlTimer::ApplyDone);
    }

    fn finish_query(&mut self, ctx: &mut Ctx, q: Query) {
        if !q.write {
            let log = &self.log;
            if let Some(h) = ctx.history() {
                h.read(q.op, self.me, |w| log.contains(w));
            }
            return self.sessions.ok(ctx, q.id);
        }
        if !self.is_primary() && self.spec.read_only {
            let e = errors::ER_OPTION_PREVENTS_STATEMENT.error;
            return self.sessions.fail(ctx, q.id, e);
        }
        self.log.push(q.op);
        let now = ctx.now;
        if let Some(h) = ctx.history() {
            h.committed(q.op, self.me, now);
        }
        if !self.is_primary() {
            // A write on a replica without read_only: it diverges silently.
            return self.sessions.ok(ctx, q.id);
        }
        let pos = self.log.len() as u32;
        for &r in &self.replicas {
            self.send_event(ctx, r, pos, q.op);
        }
        if self.semi_sync_on && !self.replicas.is_empty() {
            self.waiting.push_back((pos, q.id));
            let at = ctx.now + self.spec.semi_sync_timeout;
            ctx.at(at, MysqlTimer::SemiSyncTimeout(pos));
        } else {
            self.sessions.ok(ctx, q.id);
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
            self.sessions.ok(ctx, id);
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
            self.sessions.ok(ctx, id);
        }
    }

    /// The process died: sessions, the relay log's unapplied tail and the
    /// semi-sync waiters go; the data (InnoDB) stays.
    pub fn crash(&mut self) {
        self.sessions = Sessions::new(self.spec.max_connections, errors::SESSION_ERRORS);
        self.relay.clear();
        self.received = self.log.len() as u32;
        self.applying = false;
        self.link_up = true;
        self.waiting.clear();
    }
}

impl Process for Mysql {
    type Timer = MysqlTimer;

    fn crashed(&mut self, _pristine: &Self) {
        self.crash();
    }

    fn start(&mut self, ctx: &mut Ctx, _rng: &mut Rng, boot: Boot) {
        self.last_heard = ctx.now;
        if self.is_primary() {
            self.semi_sync_on = self.spec.semi_sync;
            let now = ctx.now;
            if let Some(h) = ctx.history() {
                h.set_writable(now, self.cluster, self.me, Some(self.me));
            }
            let period = self.heartbeat_period();
            ctx.at(ctx.now + boot.first(period, period), MysqlTimer::Heartbeat);
        } else {
            // The IO thread connects and asks for what it lacks.
            self.fetch(ctx);
            ctx.at(ctx.now + self.spec.slave_net_timeout, MysqlTimer::LinkCheck);
        }
    }

    fn on_message(&mut self, ctx: &mut Ctx, rng: &mut Rng, msg: Msg) {
        match msg.kind {
            MsgKind::Wire(Wire::Binlog(m)) => self.on_binlog(ctx, rng, msg, m),
            MsgKind::Connect(req) if req.kind == ReqKind::HttpCheck => {
                // An HTTP check script (e.g. a lag check) sees a live server.
                ctx.send(msg.from, msg.call, MsgKind::Response { status: 200 });
            }
            _ => {
                if let Some(q) = self.sessions.on_message(ctx, &msg) {
                    let mut d = self.service.sample(rng);
                    d = ctx.slowed(d);
                    ctx.at(ctx.now + d, MysqlTimer::QueryDone(q.id));
                }
            }
        }
    }

    fn on_timer(&mut self, ctx: &mut Ctx, rng: &mut Rng, t: MysqlTimer) {
        match t {
            MysqlTimer::QueryDone(id) => {
                if let Some(q) = self.sessions.query(id) {
                    self.finish_query(ctx, q);
                }
            }
            MysqlTimer::ApplyDone => {
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
            MysqlTimer::Heartbeat => {
                let beat = BinlogMsg::Beat {
                    len: self.log.len() as u32,
                };
                for &r in &self.replicas {
                    ctx.send(r, CallRef::default(), beat.into());
                }
                ctx.at(ctx.now + self.heartbeat_period(), MysqlTimer::Heartbeat);
            }
            MysqlTimer::LinkCheck => {
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
                    ctx.at(
                        ctx.now + self.spec.master_connect_retry,
                        MysqlTimer::LinkCheck,
                    );
                } else {
                    let next = self.last_heard + self.spec.slave_net_timeout;
                    ctx.at(next, MysqlTimer::LinkCheck);
                }
            }
            MysqlTimer::SemiSyncTimeout(pos) => self.semi_sync_timeout(ctx, pos),
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
        if matches!(a, Admin::Action { name, .. } if name == RESTART.name) {
            self.sessions.close_all(ctx);
            self.crash();
            self.start(ctx, rng, Boot::FRESH);
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
