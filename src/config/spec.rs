//! Stage one of the configuration: plain data, close to the experiment file,
//! already validated (types, units, ranges, references) but not yet a model.
//! Every default is documented once, in the preset file of its product under
//! `models/`; these structs hold resolved values only.

use crate::engine::{Dur, SimTime};
use indexmap::IndexMap;

/// A whole experiment after parsing, preset merging and validation.
#[derive(Clone, Debug)]
pub struct ExperimentSpec {
    /// Path of the experiment file, for messages.
    pub file: String,
    pub name: String,
    pub description: String,
    pub duration: Dur,
    pub seed: u64,
    /// Width of a timeline bucket (default 1s).
    pub bucket: Dur,
    /// How the processes were started: formed before the experiment's 0
    /// (the default) or booted at 0 (`cold_start`).
    pub start: StartSpec,
    pub network: NetworkSpec,
    /// Every node in file order: clients, balancers, apps, servers.
    pub nodes: IndexMap<String, NodeSpec>,
    pub faults: Vec<FaultSpec>,
    /// `[thresholds]`: conditions on the run's figures, evaluated after it.
    pub thresholds: Vec<super::thresholds::Threshold>,
    /// Every setting of the file, each node's table resolved over its
    /// preset, as `(key path, value)` in file order ([`super::settings`]).
    pub settings: Vec<(String, String)>,
    /// Settings the real software accepts but that risk data: printed
    /// before the run (`file:line: key: risk`).
    pub warnings: Vec<String>,
}

/// The state the experiment starts in (`[experiment] cold_start`, `aligned`,
/// `warm_up`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartSpec {
    /// Simulated time run before the experiment's 0 with no clients and no
    /// faults, so the cluster is found formed: a leader elected, replicas
    /// streaming, the balancers' checks settled. Zero for a cold start.
    pub warm_up: Dur,
    /// Every process booted at the same instant (the start of the warm-up,
    /// or 0 on a cold start) instead of having run for a drawn time.
    pub aligned: bool,
}

impl StartSpec {
    /// Every process boots at 0 (today's bootstrap, seen by the clients).
    pub const COLD: StartSpec = StartSpec {
        warm_up: Dur::ZERO,
        aligned: true,
    };

    pub fn is_cold(&self) -> bool {
        self.warm_up.is_zero()
    }

    /// How the processes were started, in the experiment's words (the
    /// summary's and `--dry-run`'s line).
    pub fn describe(&self) -> String {
        if self.is_cold() {
            return "cold start: every process boots at 0 (cold_start = true)".to_string();
        }
        let phases = if self.aligned {
            "every process booted at the same instant (aligned = true)"
        } else {
            "each process's timers at a phase drawn from the seed"
        };
        format!(
            "started formed: {} of warm-up before 0 (no clients, no faults), {phases}",
            self.warm_up
        )
    }
}

#[derive(Clone, Debug)]
pub struct NetworkSpec {
    /// One-way latency of every hop unless a link says otherwise.
    pub latency: LatencySpec,
    /// Probability that one packet is lost (default 0).
    pub loss: f64,
    /// Hosts on one L2 subnet: a powered-off host fails connects with
    /// EHOSTUNREACH after the ARP timeout instead of silence (default true).
    pub same_subnet: bool,
    /// Linux neighbour resolution timeout: mcast_solicit x retrans_time (3 x 1s).
    pub arp_timeout: Dur,
    /// Linux initial SYN retransmission timeout (1s) and count (tcp_syn_retries 6).
    pub syn_rto: Dur,
    pub syn_retries: u32,
    /// The kernel the hosts run, as `[network] kernel` named it (default
    /// "6.1", Debian 12's, on which the validation cases were measured).
    pub kernel: String,
    /// net.ipv4.tcp_syn_linear_timeouts: SYNs retransmitted at a fixed
    /// `syn_rto` before the doubling starts, and added to `syn_retries`
    /// (Linux 6.5+: 4; older kernels have no such setting: 0).
    pub syn_linear_timeouts: u32,
    /// Linux minimum data RTO (200ms), doubled per retransmission.
    pub rto_min: Dur,
    pub links: Vec<LinkSpec>,
}

#[derive(Clone, Debug)]
pub struct LinkSpec {
    /// Host names; the link applies in both directions.
    pub a: String,
    pub b: String,
    pub latency: Option<LatencySpec>,
    pub loss: Option<f64>,
}

/// One-way latency: `base` plus optional non-negative jitter.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencySpec {
    pub base: Dur,
    pub jitter: Jitter,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Jitter {
    None,
    /// Uniform in [0, max].
    Uniform(Dur),
    /// Exponential with this mean.
    Exponential(Dur),
}

/// A service or think time distribution.
#[derive(Clone, Debug, PartialEq)]
pub enum DistSpec {
    Constant(Dur),
    Exponential {
        mean: Dur,
    },
    /// Log-normal given its median and 99th percentile.
    LogNormal {
        median: Dur,
        p99: Dur,
    },
    Uniform {
        min: Dur,
        max: Dur,
    },
    /// Measured quantiles (from `min` to `max`), sampled by linear
    /// interpolation between them: never beyond what was measured.
    Empirical(Box<Quantiles>),
}

/// Quantiles of a measured distribution: `(probability, value)` pairs with
/// both ascending, the first at 0 (`min`), the last at 1 (`max`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Quantiles {
    points: [(f64, Dur); Quantiles::KEYS.len()],
    len: usize,
}

impl Quantiles {
    /// The keys a measured distribution may give, with their probability.
    pub const KEYS: [(&'static str, f64); 13] = [
        ("min", 0.0),
        ("p1", 0.01),
        ("p5", 0.05),
        ("p10", 0.10),
        ("p25", 0.25),
        ("p50", 0.50),
        ("p75", 0.75),
        ("p90", 0.90),
        ("p95", 0.95),
        ("p99", 0.99),
        ("p99_9", 0.999),
        ("p99_99", 0.9999),
        ("max", 1.0),
    ];

    /// From the given `(probability, value)` pairs, ascending in both (the
    /// reader checks it), `min` first and `max` last.
    pub fn new(given: &[(f64, Dur)]) -> Quantiles {
        let mut points = [(0.0, Dur::ZERO); Quantiles::KEYS.len()];
        points[..given.len()].copy_from_slice(given);
        Quantiles {
            points,
            len: given.len(),
        }
    }

    pub fn points(&self) -> &[(f64, Dur)] {
        &self.points[..self.len]
    }

    pub fn min(&self) -> Dur {
        self.points[0].1
    }

    pub fn max(&self) -> Dur {
        self.points[self.len - 1].1
    }

    /// The value at probability `u` in [0, 1): linear between the two
    /// quantiles around it.
    pub fn at(&self, u: f64) -> Dur {
        let p = self.points();
        let i = p.partition_point(|&(q, _)| q <= u).clamp(1, p.len() - 1);
        let ((q0, v0), (q1, v1)) = (p[i - 1], p[i]);
        let f = if q1 > q0 { (u - q0) / (q1 - q0) } else { 0.0 };
        Dur(v0.0 + ((v1.0 - v0.0) as f64 * f.clamp(0.0, 1.0)).round() as u64)
    }
}

#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    /// Host the process runs on (defaults to the node's own name).
    pub host: String,
    /// 1-based line of the node's table in the experiment file (for messages).
    pub line: usize,
    /// The cluster of a database member.
    pub cluster: Option<ClusterSpec>,
    pub kind: NodeKind,
}

/// The cluster a database node is a member of (`[databases.NAME]`).
#[derive(Clone, Debug)]
pub struct ClusterSpec {
    /// The cluster's name (the table's key).
    pub cluster: String,
    /// Index of the cluster among the experiment's databases, file order.
    pub cluster_index: u32,
    /// Every member, in order; a node finds its own place by name. Shared
    /// by the members (a cluster of n members holds one list, not n).
    pub members: std::sync::Arc<[String]>,
}

/// What a `[[faults]]` entry does, with the data only that kind has.
#[derive(Clone, Debug, PartialEq)]
pub enum Fault {
    /// SIGKILL: the host is up, the port refuses. `process`: one process of
    /// a node that runs several, as its product names it.
    Kill { process: Option<&'static str> },
    /// SIGSTOP: the kernel still completes handshakes until the backlog is
    /// full.
    Stop { process: Option<&'static str> },
    /// Packets to and from the host are dropped (firewall, cable, VM paused).
    Blackhole,
    /// Power off: processes die silently; on a shared subnet, connects fail
    /// with EHOSTUNREACH after the ARP timeout.
    PowerOff,
    /// `ip link set IFACE down`: the host's network interface
    /// ([`crate::net::HOST_INTERFACE`]) cuts it off both ways, as a blackhole,
    /// and the daemons on the host see the link go (netlink); another name
    /// carries nothing hasim models, only what tracks it notices.
    LinkDown { interface: crate::net::IfName },
    /// Hosts split in groups; `one_way` drops only from group 0 to the
    /// others.
    Partition {
        groups: Vec<Vec<String>>,
        one_way: bool,
    },
    /// Service times multiplied by `factor`.
    Slow { factor: f64 },
    /// An operator action its targets' product declared (a switchover, a
    /// restart), with the member to hand over to if it takes one.
    Action {
        action: &'static crate::faults::Action,
        candidate: Option<String>,
    },
}

/// A fault's kind without its data, for matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    Kill,
    Stop,
    Blackhole,
    PowerOff,
    /// `carries_traffic`: the host's own interface (a cut like a
    /// blackhole); otherwise only the daemons tracking the link notice.
    LinkDown {
        carries_traffic: bool,
    },
    Partition,
    Slow,
    Action(&'static crate::faults::Action),
}

impl Fault {
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::Kill { .. } => FaultKind::Kill,
            Fault::Stop { .. } => FaultKind::Stop,
            Fault::Blackhole => FaultKind::Blackhole,
            Fault::PowerOff => FaultKind::PowerOff,
            Fault::LinkDown { interface } => FaultKind::LinkDown {
                carries_traffic: *interface == crate::net::IfName::host(),
            },
            Fault::Partition { .. } => FaultKind::Partition,
            Fault::Slow { .. } => FaultKind::Slow,
            Fault::Action { action, .. } => FaultKind::Action(action),
        }
    }

    /// The one process of its targets it acts on, if not all of them.
    pub fn process(&self) -> Option<&'static str> {
        match self {
            Fault::Kill { process } | Fault::Stop { process } => *process,
            _ => None,
        }
    }
}

impl FaultKind {
    /// `kind = "..."` as the experiment file spells it.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Kill => "kill",
            FaultKind::Stop => "stop",
            FaultKind::Blackhole => "blackhole",
            FaultKind::PowerOff => "power-off",
            FaultKind::LinkDown { .. } => "link-down",
            FaultKind::Partition => "partition",
            FaultKind::Slow => "slow",
            FaultKind::Action(a) => a.name,
        }
    }
}

#[derive(Clone, Debug)]
pub enum FaultTiming {
    /// At `at`, recovered at `recover_at` if given.
    Fixed {
        at: SimTime,
        recover_at: Option<SimTime>,
    },
    /// One target after the other: the i-th at `at + i*every`.
    Staggered {
        at: SimTime,
        every: Dur,
        duration: Option<Dur>,
    },
    /// Repeated failures: up-times drawn from an exponential with mean `mtbf`,
    /// down-times from `mttr`, from `start` to the end of the run.
    Random {
        mtbf: Dur,
        mttr: DistSpec,
        start: SimTime,
    },
}

#[derive(Clone, Debug)]
pub struct FaultSpec {
    pub fault: Fault,
    /// Node names (kill, stop, slow, actions) or host names (blackhole,
    /// power-off); none for a partition (its groups say).
    pub targets: Vec<String>,
    pub timing: FaultTiming,
    /// Line of the `[[faults]]` entry (for messages).
    pub line: usize,
}

pub use crate::products::NodeKind;
