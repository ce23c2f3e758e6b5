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
    pub network: NetworkSpec,
    /// Every node in file order: clients, balancers, apps, servers.
    pub nodes: IndexMap<String, NodeSpec>,
    pub faults: Vec<FaultSpec>,
    /// Settings the real software accepts but that risk data: printed
    /// before the run (`file:line: key: risk`).
    pub warnings: Vec<String>,
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
}

#[derive(Clone, Debug)]
pub struct NodeSpec {
    pub name: String,
    /// Host the process runs on (defaults to the node's own name).
    pub host: String,
    /// 1-based line of the node's table in the experiment file (for messages).
    pub line: usize,
    pub kind: NodeKind,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Client(ClientSpec),
    Haproxy(HaproxySpec),
    Nginx(NginxSpec),
    App(AppSpec),
    Server(ServerSpec),
    /// A member of a database cluster (`[databases.NAME]`).
    Database(DatabaseSpec),
}

impl NodeKind {
    pub fn label(&self) -> &'static str {
        match self {
            NodeKind::Client(_) => "client",
            NodeKind::Haproxy(_) => "haproxy",
            NodeKind::Nginx(_) => "nginx",
            NodeKind::App(_) => "app",
            NodeKind::Server(_) => "server",
            NodeKind::Database(d) => d.kind.label(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    /// nginx and HTTP semantics: POST (and LOCK, PATCH) are not idempotent.
    pub fn idempotent(self) -> bool {
        matches!(self, Method::Get)
    }
}

#[derive(Clone, Debug)]
pub struct ClientSpec {
    pub target: String,
    pub start: SimTime,
    /// End of issuing new requests (default: experiment duration).
    pub stop: SimTime,
    /// Per-request timeout; k6's default is 60s (models/k6.toml).
    pub timeout: Dur,
    pub load: LoadSpec,
}

#[derive(Clone, Debug)]
pub enum LoadSpec {
    Open(OpenLoopSpec),
    Closed(ClosedLoopSpec),
}

#[derive(Clone, Debug)]
pub struct OpenLoopSpec {
    /// (from instant, requests per second); first entry at `start`.
    pub rate_steps: Vec<(SimTime, f64)>,
    pub arrivals: Arrivals,
    pub method: Method,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrivals {
    Constant,
    Poisson,
}

/// k6 constant-vus: each virtual user runs `iteration` again and again.
#[derive(Clone, Debug)]
pub struct ClosedLoopSpec {
    pub vus: u32,
    pub iteration: Vec<StepSpec>,
    /// Each virtual user keeps its connection open between requests (k6's
    /// default; `noConnectionReuse` turns it off).
    pub keep_alive: bool,
}

#[derive(Clone, Debug)]
pub enum StepSpec {
    /// `count` requests in a row to the client's target.
    Request { method: Method, count: u32 },
    /// `sleep()`.
    Sleep(DistSpec),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaproxyMode {
    Http,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    RoundRobin,
    LeastConn,
    First,
    Source,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckKind {
    /// Plain `check`: a TCP connect.
    L4,
    /// `option httpchk` with the request's path; 2xx/3xx pass.
    Http { path: String },
}

/// HAProxy 2.6, keys as in haproxy.cfg with `-` and spaces turned into `_`.
#[derive(Clone, Debug)]
pub struct HaproxySpec {
    pub mode: HaproxyMode,
    pub balance: Balance,
    /// global `maxconn`.
    pub maxconn: u32,
    /// listen backlog of the frontend (default: maxconn).
    pub backlog: u32,
    pub timeout_connect: Option<Dur>,
    pub timeout_server: Option<Dur>,
    pub timeout_client: Option<Dur>,
    /// Default: timeout connect.
    pub timeout_queue: Option<Dur>,
    pub timeout_check: Option<Dur>,
    pub retries: u32,
    pub redispatch: bool,
    /// `option allbackups`: every UP backup serves, not only the first.
    pub allbackups: bool,
    pub shutdown_sessions_on_marked_down: bool,
    pub check: CheckKind,
    /// global `spread-checks` percent (0..50).
    pub spread_checks: u32,
    pub servers: Vec<HaproxyServerSpec>,
}

#[derive(Clone, Debug)]
pub struct HaproxyServerSpec {
    /// Node name of the server.
    pub name: String,
    pub weight: u32,
    pub backup: bool,
    /// 0 = unlimited.
    pub maxconn: u32,
    pub check: bool,
    pub inter: Dur,
    pub fastinter: Dur,
    pub downinter: Dur,
    pub rise: u32,
    pub fall: u32,
    /// `slowstart` in whole seconds (HAProxy rounds it up); 0 = off.
    pub slowstart_s: u64,
    /// `fastinter` was given (on-error reschedules checks only then).
    pub fastinter_set: bool,
    /// Passive health from real traffic (`observe`), off when `None`.
    pub observe: Option<Observe>,
    pub error_limit: u32,
    pub on_error: OnError,
}

/// HAProxy `observe`: which errors of real traffic count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    Layer4,
    Layer7,
}

/// HAProxy `on-error`: what `error-limit` consecutive errors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    Fastinter,
    FailCheck,
    SuddenDeath,
    MarkDown,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextUpstream {
    pub error: bool,
    pub timeout: bool,
    pub http_500: bool,
    pub http_502: bool,
    pub http_503: bool,
    pub http_504: bool,
    pub non_idempotent: bool,
    pub off: bool,
}

/// nginx 1.22 upstream + proxy module.
#[derive(Clone, Debug)]
pub struct NginxSpec {
    /// `worker_processes`: failure state is per worker unless `zone` is set.
    pub worker_processes: u32,
    pub zone: bool,
    pub proxy_connect_timeout: Dur,
    pub proxy_read_timeout: Dur,
    /// How long an idle client keep-alive connection stays open (0 = none).
    pub keepalive_timeout: Dur,
    pub proxy_next_upstream: NextUpstream,
    /// 0 = unlimited.
    pub proxy_next_upstream_tries: u32,
    /// Zero = unlimited.
    pub proxy_next_upstream_timeout: Dur,
    pub servers: Vec<NginxServerSpec>,
}

#[derive(Clone, Debug)]
pub struct NginxServerSpec {
    pub name: String,
    pub weight: u32,
    pub max_fails: u32,
    /// Whole seconds, as nginx keeps it.
    pub fail_timeout_s: u64,
    pub backup: bool,
}

/// A process with worker threads and a FIFO queue: a plain backend.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub workers: u32,
    /// Requests waiting for a worker; `None` = unbounded.
    pub queue_limit: Option<u32>,
    pub service: DistSpec,
    /// Listen backlog (accept queue) used while the process is stopped.
    pub backlog: u32,
    /// Status answered to health checks while running.
    pub check_status: u16,
}

/// An application instance: a server whose requests call downstream services.
#[derive(Clone, Debug)]
pub struct AppSpec {
    pub server: ServerSpec,
    pub calls: Vec<CallSpec>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionMode {
    /// A new TCP connection per call.
    PerRequest,
    /// A pool of at most `size` connections; a call waits for a free one.
    Pool { size: u32 },
}

#[derive(Clone, Debug)]
pub struct CallSpec {
    pub target: String,
    /// Calls per incoming request, made one after the other.
    pub count: u32,
    /// The driver's connect timeout and read timeout.
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub connection: ConnectionMode,
    /// Status the app answers when this call fails (500 by default).
    pub error_status: u16,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// SIGKILL: the host is up, the port refuses.
    Kill,
    /// SIGSTOP: the kernel still completes handshakes until the backlog is full.
    Stop,
    /// Packets to and from the host are dropped (firewall, cable, VM paused).
    Blackhole,
    /// Power off: processes die silently; on a shared subnet, connects fail
    /// with EHOSTUNREACH after the ARP timeout.
    PowerOff,
    /// Hosts split in groups; `one_way` drops only from group 0 to the others.
    Partition,
    /// An operator's switchover of a Patroni cluster to `candidate` (or to
    /// the healthiest replica): `patronictl switchover`.
    Switchover,
    /// A clean restart of a database (`patronictl restart`, `systemctl
    /// restart mariadb`): staggered over members, a rolling restart.
    Restart,
    /// Service times multiplied by `factor`.
    Slow,
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
    pub kind: FaultKind,
    /// Node names (kill, stop, slow) or host names (blackhole, power-off).
    pub targets: Vec<String>,
    /// Partition groups of host names.
    pub groups: Vec<Vec<String>>,
    pub one_way: bool,
    pub factor: f64,
    /// One process of a database node rather than all of it: `postgres` or
    /// `patroni` on a Patroni node (kill, stop).
    pub process: Option<Process>,
    /// A switchover's chosen member.
    pub candidate: Option<String>,
    pub timing: FaultTiming,
    /// Line of the `[[faults]]` entry (for messages).
    pub line: usize,
}

/// A process inside a database node that runs several.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Process {
    Postgres,
    Patroni,
}

impl Process {
    pub fn name(self) -> &'static str {
        match self {
            Process::Postgres => "postgres",
            Process::Patroni => "patroni",
        }
    }
}

pub use super::database::{DatabaseSpec, DbKind, EtcdSpec, GaleraSpec, MysqlSpec, PatroniSpec};
