//! One run: the model graph built from an experiment, the event loop, the
//! kernel's part of networking (what a process's state does to a packet) and
//! the fault actions.

mod build;
mod kernel;
mod results;
mod vip;

pub use results::fault_reports;

use crate::config::spec::ExperimentSpec;
use crate::data::{self, DataLog, FinalData};
use crate::engine::{EventQueue, Rng, SimTime};
use crate::faults::FaultAction;
use crate::metrics::Recorder;
use crate::metrics::history::{self, ClusterFinal, HistoryReport};
use crate::net::{HostId, Network};
use crate::process::context::World;
use crate::process::{Ctx, Event, NodeId, TimerTable};
use crate::products::Model;
use crate::report::RunResult;

/// What a process is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcState {
    Running,
    /// SIGKILLed on a live host: its port refuses.
    Killed,
    /// SIGSTOPped: the kernel still completes handshakes into the backlog.
    Stopped,
    /// Its host is powered off.
    Off,
}

pub struct Node {
    pub name: String,
    pub host: HostId,
    pub state: ProcState,
    /// Bumped on every crash: timers of a former life are discarded.
    pub incarnation: u32,
    /// Events that reached a stopped process, replayed when it continues.
    pub frozen: Vec<Event>,
    /// Listen backlog (accept queue) size used while stopped; slots in use.
    pub backlog: u32,
    pub backlog_used: u32,
    pub slow: f64,
    pub model: Model,
    /// Its cancellable timers (cleared by a crash).
    pub timers: TimerTable,
    /// The model as built, to start afresh after a crash.
    pristine: Model,
    pub rng: Rng,
}

/// A run in progress.
pub struct Sim {
    pub queue: EventQueue<Event>,
    pub net: Network,
    pub nodes: Vec<Node>,
    hosts_of: Vec<HostId>,
    names: Vec<String>,
    pub rec: Recorder,
    pub actions: Vec<FaultAction>,
    /// The experiment's 0 in engine time: the end of the warm-up. Every
    /// instant the run reports or takes (`run_until`, `now`, `end`) counts
    /// from here.
    pub origin: SimTime,
    /// The end of the run: the experiment's duration.
    pub end: SimTime,
    /// The end of the run in engine time (`origin` + duration).
    engine_end: SimTime,
    pub seed: u64,
    spec: ExperimentSpec,
}

impl Sim {
    /// Builds the model graph of a validated experiment, run with `seed`.
    pub fn new(spec: &ExperimentSpec, seed: u64) -> Sim {
        build::build(spec, seed)
    }

    /// Handles every event up to the experiment's instant `until`
    /// (inclusive, never past the end of the run; the warm-up first); false
    /// when nothing is left to do before the end.
    pub fn run_until(&mut self, until: SimTime) -> bool {
        let until = (self.origin + crate::engine::Dur(until.0)).min(self.engine_end);
        while let Some((_, ev)) = self.queue.pop_until(until) {
            self.dispatch(ev);
        }
        self.queue.peek_time().is_some_and(|t| t <= self.engine_end)
    }

    /// Runs to the end.
    pub fn run(&mut self) {
        self.run_until(self.end);
    }

    /// Requests the clients still wait for, and the issue instant of the oldest.
    pub fn clients_in_flight(&self) -> (u64, Option<SimTime>) {
        let mut count = 0;
        let mut oldest: Option<SimTime> = None;
        for n in &self.nodes {
            if let Model::Client(c) = &n.model {
                let (k, o) = c.in_flight();
                count += k;
                let o = o.map(|t| self.rec.rel(t));
                oldest = match (oldest, o) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
        }
        (count, oldest)
    }

    pub fn events_handled(&self) -> u64 {
        self.queue.popped()
    }

    /// The experiment's current instant (0 during the warm-up).
    pub fn now(&self) -> SimTime {
        self.rec.rel(self.queue.now())
    }

    #[inline]
    fn dispatch(&mut self, ev: Event) {
        match ev {
            Event::Deliver(msg) => self.deliver(msg),
            Event::Timer {
                node,
                incarnation,
                key,
                timer,
            } => {
                let n = &mut self.nodes[node as usize];
                if n.incarnation != incarnation {
                    return;
                }
                match n.state {
                    ProcState::Running => {}
                    ProcState::Stopped => return n.frozen.push(ev),
                    ProcState::Killed | ProcState::Off => return,
                }
                if !n.timers.fire(key) {
                    return; // cancelled
                }
                self.with_node(node, |m, ctx, rng| m.on_timer(ctx, rng, timer));
            }
            Event::Fault(i) => self.apply_fault(i as usize),
            Event::Depart(msg) => self.depart(msg),
            Event::Garp(g) => self.gratuitous_arp(g),
            Event::Accept(msg) => match self.nodes[msg.to as usize].state {
                ProcState::Running => {
                    self.with_node(msg.to, |m, ctx, rng| m.on_message(ctx, rng, msg))
                }
                ProcState::Stopped => self.nodes[msg.to as usize].frozen.push(ev),
                ProcState::Killed | ProcState::Off => {}
            },
        }
    }

    /// Runs `f` on node `id`'s model with a context. Forced inline: with the
    /// VIP arms in the event loop LLVM stopped inlining it (measured with
    /// cachegrind on bench-steady: 0.7% more instructions per run).
    #[inline(always)]
    fn with_node(&mut self, id: NodeId, f: impl FnOnce(&mut Model, &mut Ctx, &mut Rng)) {
        let now = self.queue.now();
        let node = &mut self.nodes[id as usize];
        let world = World {
            queue: &mut self.queue,
            net: &mut self.net,
            hosts: &self.hosts_of,
            names: &self.names,
            rec: &mut self.rec,
        };
        let mut ctx = Ctx::new(
            now,
            id,
            node.incarnation,
            node.slow,
            world,
            &mut node.timers,
        );
        f(&mut node.model, &mut ctx, &mut node.rng);
    }

    /// Writes a row per request to `w` (`--trace`), with what the
    /// balancers logged about it.
    pub fn start_trace(&mut self, w: Box<dyn std::io::Write>) {
        self.rec.start_trace(w, self.names.clone());
    }

    /// Ends the run: the figures of every fault action, ready to write.
    pub fn finish(mut self) -> RunResult {
        self.rec.close();
        self.rec.vips = self.net.vips.names.clone();
        let origin = self.origin;
        self.rec.two_holders = self
            .net
            .vips
            .two_holders_until(self.engine_end)
            .into_iter()
            .filter(|t| t.to > origin)
            .map(|t| crate::metrics::VipSplit {
                vip: self.net.vips.names[t.vip.index()].clone(),
                from: self.rec.rel(t.from),
                to: self.rec.rel(t.to),
                hosts: t
                    .hosts
                    .iter()
                    .map(|&h| self.net.hosts[h as usize].name.clone())
                    .collect(),
            })
            .collect();
        let faults = results::fault_reports(&self.spec, &self.actions, &self.rec);
        let history = self.check_history();
        let breakdowns = results::breakdowns(&self.spec, &self.actions);
        let mut result = RunResult {
            experiment: self.spec.name.clone(),
            description: self.spec.description.clone(),
            file: self.spec.file.clone(),
            seed: self.seed,
            duration: self.spec.duration,
            start: self.spec.start,
            recorder: self.rec,
            faults,
            history,
            warnings: self.spec.warnings.clone(),
            breakdowns,
            thresholds: Vec::new(),
        };
        result.thresholds = crate::report::thresholds::evaluate(&self.spec.thresholds, &result);
        result
    }

    /// Runs the history checker over the databases' final data.
    fn check_history(&self) -> Option<HistoryReport> {
        let h = self.rec.history.as_ref()?;
        let finals: Vec<FinalData> = self
            .nodes
            .iter()
            .filter_map(|n| n.model.final_data())
            .collect();
        let cluster_of: Vec<Option<u32>> = self
            .nodes
            .iter()
            .map(|n| n.model.final_data().map(|f| f.cluster))
            .collect();
        let per_cluster: Vec<ClusterFinal> = (0..h.clusters.len() as u32)
            .map(|c| {
                let members: Vec<FinalData> =
                    finals.iter().filter(|f| f.cluster == c).copied().collect();
                // With no node accepting writes at the end, the next primary
                // is not chosen yet: a write is lost only if no disk holds it.
                let log = data::authoritative(&members);
                let logs: Vec<&DataLog> = members.iter().map(|m| m.log).collect();
                let undecided = !members.iter().any(|m| m.writable);
                ClusterFinal {
                    holds: Box::new(move |op| {
                        if undecided {
                            logs.iter().any(|l| l.contains(op))
                        } else {
                            log.is_some_and(|l| l.contains(op))
                        }
                    }),
                }
            })
            .collect();
        let mut report = history::check(h, self.end, &cluster_of, &per_cluster);
        report.node_names = self.names.clone();
        Some(report)
    }
}
