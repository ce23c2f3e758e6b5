//! Request outcomes, latency histograms, time buckets, state changes and the
//! per-fault error windows. Memory follows the run's length in buckets, never
//! the number of requests (unless a trace is asked for).

pub mod access;
pub mod histogram;
pub mod history;
pub mod outcome;
pub mod timeline;

pub use histogram::Histogram;
pub use history::History;
pub use outcome::{FAILURE_KINDS, KIND_COUNT, Outcome};
pub use timeline::{Bucket, Timeline};

use crate::engine::{Dur, SimTime};
use crate::process::{DbError, NodeId};
use std::io::Write;

/// A state change of a component, as it would log it.
#[derive(Clone, Debug, PartialEq)]
pub struct StateEvent {
    pub at: SimTime,
    /// Who changed its mind (e.g. the balancer `lb`, or `lb/worker1`).
    pub component: String,
    /// What it is about (e.g. the server `s2`).
    pub subject: String,
    pub kind: EventKind,
    /// Free text in the real software's words (check reason, duration...).
    pub detail: String,
}

/// Kinds of state change. `Down`-like kinds count as the detection of a fault
/// on their subject, `Up`-like ones as the detection of its recovery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A fault was injected (kill, stop, ...).
    Fault,
    /// A fault ended (restart, continue, link back).
    Recover,
    /// A balancer took a server out of rotation.
    MarkedDown,
    /// A balancer put a server back in rotation.
    MarkedUp,
    /// A cluster removed a member from its view (Galera eviction).
    Evicted,
    /// A member joined the cluster's view again.
    Joined,
    /// A node won an election (etcd raft leader, Patroni leader key).
    Elected,
    /// A database became the writable primary.
    Promoted,
    /// A primary stopped accepting writes.
    Demoted,
    /// A cluster or member lost its quorum (non-Primary, no raft leader).
    QuorumLost,
    /// Quorum is back.
    QuorumRegained,
    /// Every server of a balancer is down.
    NoServerLeft,
    /// A VRRP backup became MASTER and claimed the VIP.
    VipTakeover,
    /// Informational (a failed check, a probe).
    Info,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Fault => "fault",
            EventKind::Recover => "recover",
            EventKind::MarkedDown => "marked_down",
            EventKind::MarkedUp => "marked_up",
            EventKind::Evicted => "evicted",
            EventKind::Joined => "joined",
            EventKind::Elected => "elected",
            EventKind::Promoted => "promoted",
            EventKind::Demoted => "demoted",
            EventKind::QuorumLost => "quorum_lost",
            EventKind::QuorumRegained => "quorum_regained",
            EventKind::NoServerLeft => "no_server_left",
            EventKind::VipTakeover => "vip_takeover",
            EventKind::Info => "info",
        }
    }
    pub fn detects_fault(self) -> bool {
        matches!(
            self,
            EventKind::MarkedDown | EventKind::Evicted | EventKind::VipTakeover
        )
    }
    pub fn detects_recovery(self) -> bool {
        matches!(self, EventKind::MarkedUp | EventKind::VipTakeover)
    }
}

/// Database errors counted by the product's code: the breakdown of the
/// `db_*` failure kinds the summary prints. A run sees a handful of distinct
/// codes, so a list searched from the front costs less than a map.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DbCodes(Vec<(DbError, u64)>);

impl DbCodes {
    #[inline]
    pub fn add(&mut self, e: DbError) {
        match self.0.iter_mut().find(|(x, _)| *x == e) {
            Some((_, n)) => *n += 1,
            None => self.0.push((e, 1)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The errors counted as failure kind `kind`, most frequent first (ties
    /// by code, then meaning, so the order never depends on arrival).
    pub fn of_kind(&self, kind: usize) -> Vec<(DbError, u64)> {
        let mut v: Vec<(DbError, u64)> = self
            .0
            .iter()
            .copied()
            .filter(|(e, _)| outcome::db_kind(e.meaning) == kind)
            .collect();
        v.sort_by(|a, b| {
            b.1.cmp(&a.1)
                .then(a.0.code.cmp(&b.0.code))
                .then(a.0.cmp(&b.0))
        });
        v
    }
}

/// Failures attributed to one fault action (the segment from it to the next).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Window {
    pub failed: u64,
    pub by_kind: [u64; KIND_COUNT],
    /// The database errors among them, by code.
    pub db_codes: DbCodes,
    /// Issue instant of the first and last failed request.
    pub first_start: Option<SimTime>,
    pub last_start: Option<SimTime>,
    /// When the client saw them fail.
    pub first_end: Option<SimTime>,
    pub last_end: Option<SimTime>,
    /// The longest a failed request took to fail.
    pub longest: Dur,
}

impl Window {
    fn add(&mut self, start: SimTime, end: SimTime, kind: usize, db: Option<DbError>) {
        self.failed += 1;
        self.by_kind[kind] += 1;
        if let Some(e) = db {
            self.db_codes.add(e);
        }
        if self.first_end.is_none() {
            self.first_start = Some(start);
            self.first_end = Some(end);
        }
        // Requests end out of order: keep the earliest/latest issue instants.
        self.first_start = self.first_start.map(|s| s.min(start));
        self.last_start = Some(self.last_start.map_or(start, |s| s.max(start)));
        self.last_end = Some(self.last_end.map_or(end, |e| e.max(end)));
        self.longest = self.longest.max(end.since(start));
    }
}

/// What the trace shows of a request beside its figures.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestInfo {
    /// The client operation (its id in the write history).
    pub op: u32,
    /// Not idempotent (POST, a database write).
    pub write: bool,
    /// The node whose reply ended it (none: the client's own timeout).
    pub via: Option<NodeId>,
}

/// What one client saw, like a k6 scenario's own figures: a background
/// writer's fast answers must not hide that the users' requests failed.
#[derive(Clone, Debug)]
pub struct ClientStats {
    pub name: String,
    pub requests: u64,
    pub failed: u64,
    pub by_kind: [u64; KIND_COUNT],
    /// Latency of its successful requests.
    pub ok_latency: Histogram,
}

impl ClientStats {
    fn new(name: String) -> ClientStats {
        ClientStats {
            name,
            requests: 0,
            failed: 0,
            by_kind: [0; KIND_COUNT],
            ok_latency: Histogram::new(5),
        }
    }
}

/// Everything the clients saw, collected while the run goes.
pub struct Recorder {
    pub timeline: Timeline,
    /// Latency of every request, and of the successful ones: made by
    /// [`Recorder::close`] from `segment_latency` and `failed_latency`, so
    /// that a finished request touches one 9.5 KB histogram, not three.
    pub overall: Histogram,
    pub overall_ok: Histogram,
    /// Latency of the failed requests, and the extremes of the successful
    /// ones (which the difference of two histograms cannot tell).
    failed_latency: Histogram,
    ok_min: Dur,
    ok_max: Dur,
    /// Requests clients issued (finished or not).
    pub issued: u64,
    /// Requests that finished by the end of the run.
    pub requests: u64,
    pub failed: u64,
    pub by_kind: [u64; KIND_COUNT],
    /// The database errors among the failures, by code.
    pub db_codes: DbCodes,
    /// The same per client, in experiment order (a client's number).
    pub clients: Vec<ClientStats>,
    /// Instants of fault actions, ascending; see [`Recorder::blame`] for
    /// which one a failure belongs to.
    pub fault_instants: Vec<SimTime>,
    /// Which of them end a fault (restart, continue, heal).
    recoveries: Vec<bool>,
    /// Failures before the first fault action.
    pub before_faults: Window,
    pub windows: Vec<Window>,
    /// Latency of requests issued inside each fault's error window is known only
    /// afterwards, so the in-window histograms follow the issue instant's segment.
    /// Every request goes to one (0 when the run has no faults).
    pub segment_latency: Vec<Histogram>,
    pub events: Vec<StateEvent>,
    pub trace: Option<Box<dyn Write>>,
    /// The balancers' access log and the node names, while a trace is
    /// written (see [`Recorder::start_trace`]).
    pub access: Option<access::AccessLog>,
    names: Vec<String>,
    /// The write history, kept when the experiment has databases.
    pub history: Option<History>,
    /// The run's VIPs by name, and the intervals two hosts or more held
    /// one of them at once (filled when the run ends).
    pub vips: Vec<String>,
    pub two_holders: Vec<VipSplit>,
    /// The experiment's 0 in engine time (the end of the warm-up): every
    /// instant is kept from here; nothing before it is counted.
    origin: SimTime,
    end: SimTime,
}

/// Two hosts or more holding one VIP at once: a VRRP split brain.
#[derive(Clone, Debug, PartialEq)]
pub struct VipSplit {
    pub vip: String,
    pub from: SimTime,
    pub to: SimTime,
    pub hosts: Vec<String>,
}

impl Recorder {
    /// A recorder of the experiment from engine instant `origin` to `end`
    /// after it. `faults`: each fault action's instant (from `origin`),
    /// ascending, and whether it is a recovery.
    pub fn new(
        origin: SimTime,
        end: SimTime,
        bucket: Dur,
        faults: Vec<(SimTime, bool)>,
    ) -> Recorder {
        let n = faults.len();
        let (fault_instants, recoveries) = faults.into_iter().unzip();
        Recorder {
            timeline: Timeline::new(end, bucket),
            overall: Histogram::new(5),
            overall_ok: Histogram::new(5),
            failed_latency: Histogram::new(5),
            ok_min: Dur(u64::MAX),
            ok_max: Dur::ZERO,
            issued: 0,
            requests: 0,
            failed: 0,
            by_kind: [0; KIND_COUNT],
            db_codes: DbCodes::default(),
            clients: Vec::new(),
            fault_instants,
            recoveries,
            before_faults: Window::default(),
            windows: vec![Window::default(); n],
            segment_latency: vec![Histogram::new(5); n + 1],
            events: Vec::new(),
            trace: None,
            access: None,
            names: Vec::new(),
            history: None,
            vips: Vec::new(),
            two_holders: Vec::new(),
            origin,
            end,
        }
    }

    /// Engine instant `at` as the experiment counts it (0 at the origin).
    #[inline]
    pub fn rel(&self, at: SimTime) -> SimTime {
        SimTime(at.0.saturating_sub(self.origin.0))
    }

    /// Writes one row per request to `w` from now on, with what the
    /// balancers logged; `names` are the nodes' names by id.
    pub fn start_trace(&mut self, w: Box<dyn Write>, names: Vec<String>) {
        let _ = writeln!(
            self.trace.insert(w),
            "start_s,end_s,client,outcome,latency_ms,op,method,via,servers,termination"
        );
        self.access = Some(access::AccessLog::default());
        self.names = names;
    }

    /// The run is over: closes the open timeline bucket, sums the latency
    /// histograms, and gives a sole client the overall latencies it did not
    /// record twice.
    pub fn close(&mut self) {
        self.timeline.close();
        self.sum_latencies();
        if let [only] = self.clients.as_mut_slice() {
            only.ok_latency = self.overall_ok.clone();
        }
    }

    /// The overall histograms from the segments' (again from scratch if
    /// called twice): all requests, then all but the failed ones.
    fn sum_latencies(&mut self) {
        self.overall = Histogram::new(5);
        for s in &self.segment_latency {
            self.overall.merge(s);
        }
        self.overall_ok = self.overall.clone();
        self.overall_ok
            .remove(&self.failed_latency, self.ok_min, self.ok_max);
    }

    /// Names the clients: number i is `names[i]`.
    pub fn name_clients(&mut self, names: Vec<String>) {
        self.clients = names.into_iter().map(ClientStats::new).collect();
    }

    /// Client number `i`'s figures (created on first use for a recorder
    /// whose clients were never named: unit tests).
    #[inline]
    fn client(&mut self, i: u32) -> &mut ClientStats {
        let i = i as usize;
        if i >= self.clients.len() {
            let from = self.clients.len();
            self.clients
                .extend((from..=i).map(|n| ClientStats::new(n.to_string())));
        }
        &mut self.clients[i]
    }

    /// Index of the fault segment holding instant `t` (0 = before any fault).
    #[inline]
    fn segment(&self, t: SimTime) -> usize {
        self.fault_instants.partition_point(|&f| f <= t)
    }

    /// The fault segment a failed request issued at `start` and ended at
    /// `end` belongs to (0 = before any fault): the last action that struck
    /// before it ended — a kill that hit it in flight is its cause — except
    /// that a recovery causes nothing it did not see issued: a request sent
    /// during an outage that fails after the recovery is the outage's.
    #[inline]
    fn blame(&self, start: SimTime, end: SimTime) -> usize {
        let mut seg = self.segment(end);
        while seg > 0 && self.recoveries[seg - 1] && start < self.fault_instants[seg - 1] {
            seg -= 1;
        }
        seg
    }

    /// [`Recorder::record_request`] without trace details (unit tests).
    #[cfg(test)]
    pub fn record(&mut self, client: u32, start: SimTime, end: SimTime, outcome: Outcome) {
        self.record_request(client, start, end, outcome, RequestInfo::default());
    }

    /// One finished request, with what the trace shows beside its figures.
    /// Requests still in flight at the end are never recorded (the
    /// benchmark's rule), so only those ending by `end` count.
    #[inline]
    pub fn record_request(
        &mut self,
        client: u32,
        start: SimTime,
        end: SimTime,
        outcome: Outcome,
        info: RequestInfo,
    ) {
        let (start, end) = (self.rel(start), self.rel(end));
        if end > self.end {
            return;
        }
        let latency = end - start;
        // One slot and one failure kind for all the figures below.
        let slot = self.failed_latency.slot(latency);
        let kind = outcome.failure_index();
        self.requests += 1;
        self.timeline.record_slot(start, end, slot, kind);
        let seg = if self.fault_instants.is_empty() {
            0
        } else {
            self.segment(start)
        };
        self.segment_latency[seg].record_slot(slot);
        // With one client its latencies are the overall ones: copied at
        // the end instead of recorded twice (measured: 1.3 % of a run).
        let several = self.clients.len() > 1;
        let c = self.client(client);
        c.requests += 1;
        match kind {
            None if several => c.ok_latency.record_slot(slot),
            None => {}
            Some(k) => {
                c.failed += 1;
                c.by_kind[k] += 1;
            }
        }
        match kind {
            None => {
                self.ok_min = self.ok_min.min(latency);
                self.ok_max = self.ok_max.max(latency);
            }
            Some(k) => {
                self.failed_latency.record_slot(slot);
                self.failed += 1;
                self.by_kind[k] += 1;
                let db = match outcome {
                    Outcome::Db(e) => Some(e),
                    _ => None,
                };
                if let Some(e) = db {
                    self.db_codes.add(e);
                }
                match self.blame(start, end) {
                    0 => self.before_faults.add(start, end, k, db),
                    s => self.windows[s - 1].add(start, end, k, db),
                }
            }
        }
        if self.trace.is_some() {
            self.trace_row(client, start, end, outcome, info);
        }
    }

    /// Only with --trace: formatting per request is the point of a trace.
    #[cold]
    fn trace_row(
        &mut self,
        client: u32,
        start: SimTime,
        end: SimTime,
        outcome: Outcome,
        info: RequestInfo,
    ) {
        let entry = self.access.as_mut().and_then(|a| a.take(info.op, info.via));
        let name = |n: NodeId| self.names.get(n as usize).map_or("", String::as_str);
        let via = info.via.map_or("", name);
        let (servers, states) = match &entry {
            Some(e) => (
                e.servers
                    .iter()
                    .map(|&s| name(s))
                    .collect::<Vec<_>>()
                    .join(" "),
                e.states.join(" "),
            ),
            None => (String::new(), String::new()),
        };
        let client = &self.clients[client as usize].name;
        let method = if info.write { "POST" } else { "GET" };
        let Some(w) = self.trace.as_mut() else { return };
        let _ = writeln!(
            w,
            "{:.9},{:.9},{client},{},{:.3},{},{method},{via},{servers},{states}",
            start.as_secs_f64(),
            end.as_secs_f64(),
            outcome.label(),
            (end - start).as_ms_f64(),
            info.op,
        );
    }

    /// A component's state change (rare: formatting here is fine).
    pub fn event(
        &mut self,
        at: SimTime,
        component: &str,
        subject: &str,
        kind: EventKind,
        detail: impl Into<String>,
    ) {
        // The warm-up formed the cluster: its story starts at 0.
        if at < self.origin {
            return;
        }
        let at = self.rel(at);
        self.events.push(StateEvent {
            at,
            component: component.to_string(),
            subject: subject.to_string(),
            kind,
            detail: detail.into(),
        });
    }
}
