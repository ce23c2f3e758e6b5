//! The experiment schema: reads the tree into an [`ExperimentSpec`] and checks
//! what no single value can show (references, duplicates, orderings).
//!
//! Two passes: the first registers every node name (expanding `count`) and
//! host, the second reads each section with references resolved.

use super::database as db;
use super::error::{ConfigError, did_you_mean};
use super::presets::{self, Preset, PresetKind};
use super::spec::*;
use super::table::{Entry, Item, Pos, Reader, Sources, Val, list_choices};
use crate::engine::{Dur, SimTime};
use indexmap::IndexMap;

/// Top-level tables.
const SECTIONS: &[&str] = &[
    "experiment",
    "network",
    "clients",
    "balancers",
    "apps",
    "servers",
    "databases",
    "faults",
];

/// Defaults of the `[network]` table: Linux kernel behaviour.
mod net_defaults {
    use crate::engine::Dur;
    /// One-way latency of a LAN hop (a switched datacentre network).
    pub const LATENCY: Dur = Dur::from_us(100);
    /// Neighbour resolution gives up after mcast_solicit (3) x retrans_time
    /// (1s): Documentation/networking/ip-sysctl.rst (neigh/default).
    pub const ARP_TIMEOUT: Dur = Dur::from_secs(3);
    /// TCP_TIMEOUT_INIT = 1s (include/net/tcp.h, RFC 6298).
    pub const SYN_RTO: Dur = Dur::from_secs(1);
    /// net.ipv4.tcp_syn_retries = 6 (ip-sysctl.rst).
    pub const SYN_RETRIES: u32 = 6;
    /// TCP_RTO_MIN = 200ms (include/net/tcp.h).
    pub const RTO_MIN: Dur = Dur::from_ms(200);
}

/// Defaults of an app's `[[apps.NAME.calls]]` entry: a generic database or
/// HTTP driver; no product default applies.
mod call_defaults {
    use crate::engine::Dur;
    pub const CONNECT_TIMEOUT: Dur = Dur::from_secs(5);
    pub const TIMEOUT: Dur = Dur::from_secs(30);
    pub const ERROR_STATUS: u16 = 500;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Section {
    Client,
    Balancer,
    App,
    Server,
    Database,
}

impl Section {
    fn key(self) -> &'static str {
        match self {
            Section::Client => "clients",
            Section::Balancer => "balancers",
            Section::App => "apps",
            Section::Server => "servers",
            Section::Database => "databases",
        }
    }
    fn noun(self) -> &'static str {
        match self {
            Section::Client => "a client",
            Section::Balancer => "a balancer",
            Section::App => "an app",
            Section::Server => "a server",
            Section::Database => "a database",
        }
    }
    fn plural(self) -> &'static str {
        match self {
            Section::Client => "clients",
            Section::Balancer => "balancers",
            Section::App => "apps",
            Section::Server => "servers",
            Section::Database => "databases",
        }
    }
}

const ALL_SECTIONS: [Section; 5] = [
    Section::Client,
    Section::Balancer,
    Section::App,
    Section::Server,
    Section::Database,
];
const SERVING: &[Section] = &[
    Section::Balancer,
    Section::App,
    Section::Server,
    Section::Database,
];
const BACKENDS: &[Section] = &[Section::App, Section::Server, Section::Database];

struct NodeInfo {
    section: Section,
    host: String,
    /// Where the host comes from (the `host` value or the node's key).
    host_at: Pos,
}

struct Group {
    section: Section,
    members: Vec<String>,
}

/// Every name of the experiment: nodes, `count` groups, hosts.
#[derive(Default)]
struct Registry {
    nodes: IndexMap<String, NodeInfo>,
    groups: IndexMap<String, Group>,
    /// Each claimed name: where and by what.
    claims: IndexMap<String, (Pos, String)>,
    hosts: Vec<String>,
    /// Database clusters in file order, with their `type`.
    databases: IndexMap<String, &'static str>,
}

struct Builder<'a> {
    src: &'a Sources,
    presets: &'a [(&'static Preset, Item)],
    reg: Registry,
    duration: Dur,
    warnings: std::cell::RefCell<Vec<String>>,
    /// Requests the open-loop clients read so far will issue.
    requests: std::cell::Cell<f64>,
}

pub(crate) fn build(
    src: &Sources,
    root: &Item,
    presets: &[(&'static Preset, Item)],
    file: &str,
) -> Result<ExperimentSpec, ConfigError> {
    let mut top = Reader::new(src, "", &[root]);
    top.allow(SECTIONS);
    top.finish()?;

    // [experiment]
    if !top.has("experiment") {
        return Err(src.error(
            &root.at,
            "experiment",
            "missing table `[experiment]` (it needs at least `duration = \"…\"`)",
        ));
    }
    let mut ex = top.sub("experiment")?;
    let name = match ex.string_opt("name")? {
        Some(n) if n.is_empty() || n.contains(['/', '\\']) || n.starts_with('.') => {
            return Err(ex.error_at(
                "name",
                format!(
                    "{n:?} cannot name an output folder: use letters, digits, `-`, `_` and `.`"
                ),
            ));
        }
        Some(n) => n.to_string(),
        None => file_stem(file),
    };
    let description = ex.string_opt("description")?.unwrap_or("").to_string();
    let duration = ex.positive_duration("duration")?;
    let seed = ex.u64_opt("seed")?.unwrap_or(1);
    let bucket = ex
        .positive_duration_opt("bucket")?
        .unwrap_or(Dur::from_secs(1));
    let buckets = duration.0.div_ceil(bucket.0);
    if buckets > MAX_BUCKETS {
        let key = if ex.set_here("bucket") {
            "bucket"
        } else {
            "duration"
        };
        return Err(ex.error_at(
            key,
            format!(
                "experiment.duration {duration} in experiment.bucket of {bucket} makes {buckets} \
                 timeline buckets, {} of memory at {BUCKET_BYTES} bytes each; at most \
                 {MAX_BUCKETS} ({}) are allowed: make `bucket` longer (e.g. \"{}\") or \
                 `duration` shorter",
                bytes(buckets.saturating_mul(BUCKET_BYTES)),
                bytes(MAX_BUCKETS * BUCKET_BYTES),
                Dur(duration.0.div_ceil(MAX_BUCKETS).next_multiple_of(Dur::S)),
            ),
        ));
    }
    ex.finish()?;

    let mut b = Builder {
        src,
        presets,
        reg: Registry::default(),
        duration,
        warnings: Default::default(),
        requests: Default::default(),
    };

    // Pass 1: names and hosts, in file order (a clash is reported where the
    // second definition is).
    let mut all = Vec::new();
    for sec in ALL_SECTIONS {
        for e in top.entries(sec.key())? {
            all.push((sec, e));
        }
    }
    all.sort_by_key(|(_, e)| (e.key_at.src.0, e.key_at.span.start));
    for (sec, e) in &all {
        b.register(*sec, e)?;
    }
    b.check_hosts()?;

    // [network]
    let network = b.network(&mut top.sub("network")?)?;

    // Pass 2: nodes, in section order, each section in file order.
    let mut nodes = IndexMap::new();
    for sec in ALL_SECTIONS {
        for e in top.entries(sec.key())? {
            for n in b.node(sec, &e)? {
                nodes.insert(n.name.clone(), n);
            }
        }
    }

    // [[faults]]
    let mut faults = Vec::new();
    let mut actions = 0f64;
    for mut f in top.array_of_tables("faults")? {
        let spec = b.fault(&mut f)?;
        let (n, key) = fault_actions(&spec, duration);
        actions += n;
        if actions > MAX_FAULT_ACTIONS as f64 {
            return Err(f.error_at(
                key,
                format!(
                    "the faults up to this one make ~{actions:.0} fault actions (each kept with \
                     ~{FAULT_BYTES} bytes of per-fault figures: {}); at most {MAX_FAULT_ACTIONS} \
                     are allowed{}",
                    bytes((actions as u64).saturating_mul(FAULT_BYTES)),
                    if key == "mtbf" {
                        ": make `mtbf` longer or give fewer targets"
                    } else {
                        ""
                    }
                ),
            ));
        }
        faults.push(spec);
    }

    Ok(ExperimentSpec {
        file: file.to_string(),
        name,
        description,
        duration,
        seed,
        bucket,
        network,
        nodes,
        faults,
        warnings: b.warnings.into_inner(),
    })
}

/// Most timeline buckets a run may have: at [`BUCKET_BYTES`] each, 1 M
/// buckets is ~130 MB (a day at 1 s buckets is 86,400; 11 days fit).
const MAX_BUCKETS: u64 = 1_000_000;
/// Memory of one timeline bucket (counts by kind and latency figures).
const BUCKET_BYTES: u64 = 130;
/// Most fault actions (faults and recoveries) a run may have: each fault
/// instant keeps its own latency histogram and window.
const MAX_FAULT_ACTIONS: u64 = 10_000;
/// Memory of one fault instant's figures (a latency histogram and a window).
const FAULT_BYTES: u64 = 10_000;
/// Most requests an open-loop client may have waiting at once, at its
/// highest rate, if every request waited its whole timeout (a blackholed
/// target): each costs [`WAITING_BYTES`] (call, deadline, connection).
const MAX_WAITING: f64 = 5e6;
const WAITING_BYTES: u64 = 200;
/// About the size of one row of trace.csv.
const TRACE_ROW_BYTES: u64 = 60;
/// Most requests the open-loop clients may issue in a run: operations are
/// numbered in 32 bits.
const MAX_REQUESTS: f64 = u32::MAX as f64;
/// Galera members: the model's member sets are one `u32` whose top bit
/// flags a synced state, and view ids keep the member index in 5 bits.
const MAX_GALERA_MEMBERS: u32 = 31;

/// `1.3 GB`, `130 MB`, `12 kB`.
fn bytes(n: u64) -> String {
    let n = n as f64;
    for (unit, name) in [
        (1e15, "PB"),
        (1e12, "TB"),
        (1e9, "GB"),
        (1e6, "MB"),
        (1e3, "kB"),
    ] {
        if n >= unit {
            return format!("~{:.1} {name}", n / unit);
        }
    }
    format!("~{n:.0} bytes")
}

/// Expected number of actions of a fault (each fault and each recovery) and
/// the key that sets it.
fn fault_actions(f: &FaultSpec, duration: Dur) -> (f64, &'static str) {
    let targets = f.targets.len().max(1) as f64;
    match &f.timing {
        FaultTiming::Fixed { recover_at, .. } => (1.0 + recover_at.is_some() as u8 as f64, "at"),
        FaultTiming::Staggered { duration: d, .. } => {
            (targets * (1.0 + d.is_some() as u8 as f64), "every")
        }
        FaultTiming::Random { mtbf, start, .. } => {
            let span = duration.0.saturating_sub(start.0) as f64;
            (targets * 2.0 * (span / mtbf.0 as f64).ceil(), "mtbf")
        }
    }
}

/// HAProxy's timers count milliseconds: a check interval below 1 ms does
/// not exist there (and would make the run handle a check every few ns).
fn at_least_1ms(r: &Reader, key: &str, d: Option<Dur>) -> Result<(), ConfigError> {
    match d {
        Some(d) if d < Dur::from_ms(1) => Err(r.error_at(
            key,
            format!(
                "must be at least 1ms (HAProxy counts check intervals in milliseconds), got {d}"
            ),
        )),
        _ => Ok(()),
    }
}

fn file_stem(file: &str) -> String {
    std::path::Path::new(file)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string())
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl<'a> Builder<'a> {
    // ------------------------------------------------------------ names --

    fn claim(
        &mut self,
        name: &str,
        at: &Pos,
        path: &str,
        origin: String,
    ) -> Result<(), ConfigError> {
        if let Some((prev, by)) = self.reg.claims.get(name) {
            let (file, line) = (&self.src.get(prev.src).name, self.src.line_of(prev));
            return Err(self.src.error(
                at,
                path,
                format!("`{name}` is already defined ({by}, {file} line {line}); node names must be unique"),
            ));
        }
        self.reg
            .claims
            .insert(name.to_string(), (at.clone(), origin));
        Ok(())
    }

    fn add_host(&mut self, host: &str) {
        if !self.reg.hosts.iter().any(|h| h == host) {
            self.reg.hosts.push(host.to_string());
        }
    }

    fn register(&mut self, sec: Section, e: &Entry<'a>) -> Result<(), ConfigError> {
        if !valid_name(&e.name) {
            return Err(self.src.error(
                e.key_at,
                &e.path,
                format!(
                    "invalid node name `{}`: use letters, digits, `-` and `_`",
                    e.name
                ),
            ));
        }
        let mut r = Reader::new(self.src, &e.path, &[e.item]);
        let count = match sec {
            Section::App | Section::Server | Section::Database => {
                r.u32_range_opt("count", 1, 10_000)?
            }
            _ => None,
        };
        if sec == Section::Database {
            let ty = r.string_enum("type", db::TYPES)?;
            let ty = db::TYPES.iter().find(|t| **t == ty).expect("checked");
            if *ty == "galera"
                && let Some(n) = count
                && n > MAX_GALERA_MEMBERS
            {
                return Err(r.error_at(
                    "count",
                    format!(
                        "a Galera cluster has at most {MAX_GALERA_MEMBERS} members here, got {n}: \
                         the model keeps a member set in one 32-bit word (with one bit for the \
                         synced flag); real clusters beyond a dozen members are rare"
                    ),
                ));
            }
            self.reg.databases.insert(e.name.clone(), ty);
        }
        let origin = format!("`[{}]`", e.path);
        match count {
            Some(n) => {
                r.reject(
                    "host",
                    "`host` cannot be combined with `count`: each instance runs on its own host, named after it",
                )?;
                self.claim(&e.name, e.key_at, &e.path, origin.clone())?;
                let mut members = Vec::new();
                for i in 1..=n {
                    let name = format!("{}{i}", e.name);
                    self.claim(
                        &name,
                        e.key_at,
                        &e.path,
                        format!("{origin} with count = {n}"),
                    )?;
                    self.add_host(&name);
                    self.reg.nodes.insert(
                        name.clone(),
                        NodeInfo {
                            section: sec,
                            host: name.clone(),
                            host_at: e.key_at.clone(),
                        },
                    );
                    members.push(name);
                }
                self.reg.groups.insert(
                    e.name.clone(),
                    Group {
                        section: sec,
                        members,
                    },
                );
            }
            None => {
                self.claim(&e.name, e.key_at, &e.path, origin)?;
                let (host, host_at) = match r.item("host") {
                    Some(item) => {
                        let h = self.src.as_string(item, &r.key_path("host"))?;
                        if !valid_name(h) {
                            return Err(r.error_at(
                                "host",
                                format!(
                                    "invalid host name `{h}`: use letters, digits, `-` and `_`"
                                ),
                            ));
                        }
                        (h.to_string(), item.at.clone())
                    }
                    None => (e.name.clone(), e.key_at.clone()),
                };
                self.add_host(&host);
                self.reg.nodes.insert(
                    e.name.clone(),
                    NodeInfo {
                        section: sec,
                        host,
                        host_at,
                    },
                );
            }
        }
        Ok(())
    }

    /// A host named like a node must be that node's own host: otherwise a
    /// reference to the name would be ambiguous.
    fn check_hosts(&self) -> Result<(), ConfigError> {
        for (name, info) in &self.reg.nodes {
            if let Some(other) = self.reg.nodes.get(&info.host)
                && other.host != info.host
            {
                return Err(self.src.error(
                    &info.host_at,
                    &format!("{}.{name}.host", info.section.key()),
                    format!(
                        "host `{}` is also the name of node `{}`, which runs on host `{}`; name the host differently",
                        info.host, info.host, other.host
                    ),
                ));
            }
            if self.reg.groups.contains_key(&info.host) {
                return Err(self.src.error(
                    &info.host_at,
                    &format!("{}.{name}.host", info.section.key()),
                    format!("host `{}` is also the name of a group of nodes", info.host),
                ));
            }
        }
        Ok(())
    }

    fn all_names(&self) -> impl Iterator<Item = &str> {
        self.reg
            .nodes
            .keys()
            .chain(self.reg.groups.keys())
            .map(String::as_str)
    }

    /// Resolves a reference to nodes of the `allowed` sections; a group name
    /// gives all its members when `allow_group`.
    fn resolve_nodes(
        &self,
        name: &str,
        at: &Pos,
        path: &str,
        allowed: &[Section],
        role: &str,
        allow_group: bool,
    ) -> Result<Vec<String>, ConfigError> {
        let must = || {
            let nouns: Vec<&str> = allowed.iter().map(|s| s.noun()).collect();
            match nouns.len() {
                1 => nouns[0].to_string(),
                n => format!("{} or {}", nouns[..n - 1].join(", "), nouns[n - 1]),
            }
        };
        if let Some(info) = self.reg.nodes.get(name) {
            if !allowed.contains(&info.section) {
                return Err(self.src.error(
                    at,
                    path,
                    format!(
                        "`{name}` is {}; {role} must be {}",
                        info.section.noun(),
                        must()
                    ),
                ));
            }
            return Ok(vec![name.to_string()]);
        }
        if let Some(g) = self.reg.groups.get(name) {
            if !allow_group {
                return Err(self.src.error(
                    at,
                    path,
                    format!(
                        "`{name}` is a group of {} {} ({}); {role} must name one of them",
                        g.members.len(),
                        g.section.plural(),
                        crate::describe::names(&g.members)
                    ),
                ));
            }
            if !allowed.contains(&g.section) {
                return Err(self.src.error(
                    at,
                    path,
                    format!(
                        "`{name}` is a group of {}; {role} must be {}",
                        g.section.plural(),
                        must()
                    ),
                ));
            }
            return Ok(g.members.clone());
        }
        Err(self.src.error(
            at,
            path,
            format!(
                "no node named `{name}`{}",
                did_you_mean(name, self.all_names())
            ),
        ))
    }

    /// Resolves a host reference: a host name, a node (its host) or a group
    /// (its members' hosts).
    fn resolve_hosts(&self, name: &str, at: &Pos, path: &str) -> Result<Vec<String>, ConfigError> {
        if let Some(info) = self.reg.nodes.get(name) {
            return Ok(vec![info.host.clone()]);
        }
        if let Some(g) = self.reg.groups.get(name) {
            let mut hosts: Vec<String> = Vec::new();
            for m in &g.members {
                let h = &self.reg.nodes[m].host;
                if !hosts.contains(h) {
                    hosts.push(h.clone());
                }
            }
            return Ok(hosts);
        }
        if self.reg.hosts.iter().any(|h| h == name) {
            return Ok(vec![name.to_string()]);
        }
        let candidates = self
            .all_names()
            .chain(self.reg.hosts.iter().map(String::as_str));
        Err(self.src.error(
            at,
            path,
            format!(
                "no host or node named `{name}`{}",
                did_you_mean(name, candidates)
            ),
        ))
    }

    /// A single reference given as a string value of `key`.
    fn single_target(
        &self,
        r: &mut Reader<'a>,
        key: &'static str,
        allowed: &[Section],
        role: &str,
    ) -> Result<String, ConfigError> {
        let item = r
            .item(key)
            .ok_or_else(|| r.missing(key, "the name of a balancer, app or server"))?;
        let path = r.key_path(key);
        let name = self.src.as_string(item, &path)?;
        let mut v = self.resolve_nodes(name, &item.at, &path, allowed, role, false)?;
        Ok(v.remove(0))
    }

    // ---------------------------------------------------------- presets --

    fn preset_item(&self, p: &'static Preset) -> &'a Item {
        &self
            .presets
            .iter()
            .find(|(q, _)| q.name == p.name)
            .expect("all presets are loaded")
            .1
    }

    /// The preset named by `preset = "…"`, checked against `kinds`.
    fn named_preset(
        &self,
        r: &mut Reader<'a>,
        kinds: &[PresetKind],
        what: &str,
    ) -> Result<Option<&'static Preset>, ConfigError> {
        let Some(name) = r.string_opt("preset")? else {
            return Ok(None);
        };
        let Some(p) = presets::find(name) else {
            let names: Vec<&str> = presets::PRESETS.iter().map(|p| p.name).collect();
            let fitting: Vec<&str> = presets::PRESETS
                .iter()
                .filter(|p| kinds.contains(&p.kind))
                .map(|p| p.name)
                .collect();
            return Err(r.error_at(
                "preset",
                format!(
                    "unknown preset `{name}`{} (presets for {what}: {})",
                    did_you_mean(name, names),
                    fitting.join(", ")
                ),
            ));
        };
        if !kinds.contains(&p.kind) {
            return Err(r.error_at(
                "preset",
                format!("preset `{name}` is for {}, not for {what}", p.kind.noun()),
            ));
        }
        Ok(Some(p))
    }

    // ---------------------------------------------------------- network --

    fn network(&self, r: &mut Reader<'a>) -> Result<NetworkSpec, ConfigError> {
        let latency = r.latency_opt("latency")?.unwrap_or(LatencySpec {
            base: net_defaults::LATENCY,
            jitter: Jitter::None,
        });
        let loss = r.f64_range_opt("loss", 0.0, 1.0)?.unwrap_or(0.0);
        let same_subnet = r.bool_opt("same_subnet")?.unwrap_or(true);
        let arp_timeout = r
            .positive_duration_opt("arp_timeout")?
            .unwrap_or(net_defaults::ARP_TIMEOUT);
        let syn_rto = r
            .positive_duration_opt("syn_rto")?
            .unwrap_or(net_defaults::SYN_RTO);
        let syn_retries = r
            .u32_range_opt("syn_retries", 0, 127)?
            .unwrap_or(net_defaults::SYN_RETRIES);
        let rto_min = r
            .positive_duration_opt("rto_min")?
            .unwrap_or(net_defaults::RTO_MIN);
        let mut links: Vec<LinkSpec> = Vec::new();
        for mut l in r.array_of_tables("links")? {
            let item = l
                .item("between")
                .ok_or_else(|| l.missing("between", "two host names, e.g. [\"lb\", \"db1\"]"))?;
            let path = l.key_path("between");
            let names = self.src.as_string_list(item, &path)?;
            if names.len() != 2 {
                return Err(self.src.error(
                    &item.at,
                    &path,
                    format!(
                        "a link joins exactly two hosts, found {} names",
                        names.len()
                    ),
                ));
            }
            let mut ends = Vec::new();
            for (i, (n, at)) in names.iter().enumerate() {
                let p = format!("{path}[{i}]");
                let hosts = self.resolve_hosts(n, at, &p)?;
                if hosts.len() != 1 {
                    return Err(self.src.error(
                        at,
                        &p,
                        format!(
                            "`{n}` is a group of {} hosts; a link joins two single hosts",
                            hosts.len()
                        ),
                    ));
                }
                ends.push(hosts[0].clone());
            }
            if ends[0] == ends[1] {
                return Err(self.src.error(
                    &item.at,
                    &path,
                    format!(
                        "both ends are host `{}`; a link joins two different hosts",
                        ends[0]
                    ),
                ));
            }
            if links
                .iter()
                .any(|k| (k.a == ends[0] && k.b == ends[1]) || (k.a == ends[1] && k.b == ends[0]))
            {
                return Err(self.src.error(
                    &item.at,
                    &path,
                    format!(
                        "the link between `{}` and `{}` is given twice",
                        ends[0], ends[1]
                    ),
                ));
            }
            let latency = l.latency_opt("latency")?;
            let loss = l.f64_range_opt("loss", 0.0, 1.0)?;
            l.finish()?;
            links.push(LinkSpec {
                a: ends[0].clone(),
                b: ends[1].clone(),
                latency,
                loss,
            });
        }
        r.finish()?;
        Ok(NetworkSpec {
            latency,
            loss,
            same_subnet,
            arp_timeout,
            syn_rto,
            syn_retries,
            rto_min,
            links,
        })
    }

    // ------------------------------------------------------------ nodes --

    /// The node(s) of one `[section.NAME]` table (several with `count`).
    fn node(&self, sec: Section, e: &Entry<'a>) -> Result<Vec<NodeSpec>, ConfigError> {
        let line = self.src.line_of(&e.item.at);
        let (kind, mut r) = match sec {
            Section::Client => self.client(e)?,
            Section::Balancer => self.balancer(e)?,
            Section::App | Section::Server => self.backend(sec, e)?,
            Section::Database => self.database(e)?,
        };
        r.allow(&["host"]);
        if matches!(sec, Section::App | Section::Server | Section::Database) {
            r.allow(&["count"]);
        } else {
            r.reject(
                "count",
                &format!(
                    "`count` only applies to apps and servers, not to {}",
                    sec.plural()
                ),
            )?;
        }
        r.finish()?;
        let names = match self.reg.groups.get(&e.name) {
            Some(g) => g.members.clone(),
            None => vec![e.name.clone()],
        };
        Ok(names
            .into_iter()
            .map(|name| NodeSpec {
                host: self.reg.nodes[&name].host.clone(),
                name,
                line,
                kind: kind.clone(),
            })
            .collect())
    }

    fn layered(&self, e: &Entry<'a>, preset: &'static Preset) -> Reader<'a> {
        let mut r = Reader::new(self.src, &e.path, &[e.item, self.preset_item(preset)]);
        r.allow(&["preset"]);
        r
    }

    fn client(&self, e: &Entry<'a>) -> Result<(NodeKind, Reader<'a>), ConfigError> {
        let mut base = Reader::new(self.src, &e.path, &[e.item]);
        let preset = self
            .named_preset(&mut base, &[PresetKind::Client], "clients")?
            .unwrap_or(presets::default_for(PresetKind::Client));
        let mut r = self.layered(e, preset);
        let kind = r.string_enum("type", &["open", "closed"])?;
        let target = self.single_target(&mut r, "target", SERVING, "a client's target")?;
        let timeout = r.positive_duration("timeout")?;
        let start = r.duration_opt("start")?.unwrap_or(Dur::ZERO);
        if start >= self.duration {
            return Err(r.error_at(
                "start",
                format!(
                    "start ({start}) must be before the end of the experiment ({})",
                    self.duration
                ),
            ));
        }
        let stop = r.duration_opt("stop")?.unwrap_or(self.duration);
        if stop <= start {
            return Err(r.error_at(
                "stop",
                format!("stop ({stop}) must be after start ({start})"),
            ));
        }
        if stop > self.duration {
            return Err(r.error_at(
                "stop",
                format!(
                    "stop ({stop}) is after the end of the experiment ({})",
                    self.duration
                ),
            ));
        }
        let load = if kind == "open" {
            for k in ["vus", "iteration"] {
                r.reject(k, &format!("`{k}` only applies to type = \"closed\""))?;
            }
            // The k6 preset's keep_alive is for virtual users; an open-loop
            // client opens a connection per request and says so if asked.
            if r.set_here("keep_alive") {
                r.reject("keep_alive", "`keep_alive` only applies to type = \"closed\" (open-loop clients open a connection per request)")?;
            }
            r.has("keep_alive");
            let rate = request_rate(&mut r, "rate")?;
            let mut rate_steps = vec![(SimTime(start.0), rate)];
            for mut s in r.array_of_tables("rate_steps")? {
                let at = s.duration("at")?;
                let rate = request_rate(&mut s, "rate")?;
                s.finish()?;
                let prev = rate_steps.last().expect("first step").0;
                if at.0 <= prev.0 {
                    return Err(s.error_at(
                        "at",
                        format!(
                            "steps must come after start and after each other: {at} is not after {}",
                            Dur(prev.0)
                        ),
                    ));
                }
                if at >= stop {
                    return Err(s.error_at(
                        "at",
                        format!("the step at {at} is not before the client's stop ({stop})"),
                    ));
                }
                rate_steps.push((SimTime(at.0), rate));
            }
            let arrivals = match r.string_enum_opt("arrivals", &["constant", "poisson"])? {
                Some("constant") => Arrivals::Constant,
                _ => Arrivals::Poisson,
            };
            let method = method(
                r.string_enum_opt("method", &["GET", "POST"])?
                    .unwrap_or("GET"),
            );
            let max_rate = rate_steps.iter().map(|s| s.1).fold(0.0, f64::max);
            let waiting = max_rate * timeout.min(stop.saturating_sub(start)).as_secs_f64();
            if waiting > MAX_WAITING {
                // At the experiment's own key (the timeout may be a preset's).
                let key = if r.set_here("timeout") {
                    "timeout"
                } else {
                    "rate"
                };
                return Err(r.error_at(
                    key,
                    format!(
                        "at {max_rate} requests/s (`rate`) with a timeout of {timeout}, up to \
                         {waiting:.0} requests may wait at once when the target stops answering \
                         ({} at ~{WAITING_BYTES} bytes each); at most {MAX_WAITING:.0} are \
                         allowed: lower `rate` or `timeout`",
                        bytes((waiting as u64).saturating_mul(WAITING_BYTES))
                    ),
                ));
            }
            let mut requests = 0.0;
            for (i, &(at, rate)) in rate_steps.iter().enumerate() {
                let until = rate_steps.get(i + 1).map_or(SimTime(stop.0), |n| n.0);
                requests += rate * until.since(at).as_secs_f64();
            }
            self.requests.set(self.requests.get() + requests);
            if self.requests.get() > MAX_REQUESTS {
                return Err(r.error_at(
                    "rate",
                    format!(
                        "the open-loop clients up to this one issue ~{:.0} requests (`rate` x \
                         time); a run may issue at most {MAX_REQUESTS:.0} (requests are numbered \
                         in 32 bits; with --trace that is also ~{} of trace.csv): lower `rate` or \
                         the experiment's `duration`",
                        self.requests.get(),
                        bytes(
                            (self.requests.get().min(u64::MAX as f64) as u64)
                                .saturating_mul(TRACE_ROW_BYTES)
                        )
                    ),
                ));
            }
            LoadSpec::Open(OpenLoopSpec {
                rate_steps,
                arrivals,
                method,
            })
        } else {
            for k in ["rate", "rate_steps", "arrivals"] {
                r.reject(k, &format!("`{k}` only applies to type = \"open\""))?;
            }
            r.reject(
                "method",
                "a closed client gives the method per step: iteration = [{ request = \"POST\" }]",
            )?;
            let vus = r.u32_range("vus", 1, 1_000_000)?;
            let keep_alive = r.bool("keep_alive")?;
            let mut iteration = Vec::new();
            if r.has("iteration") {
                for mut s in r.array_of_tables("iteration")? {
                    let has_req = s.has("request");
                    let has_sleep = s.has("sleep");
                    let step = match (has_req, has_sleep) {
                        (true, true) => {
                            return Err(s.error_here(
                                "a step is either `request` or `sleep`; write two steps",
                            ));
                        }
                        (true, false) => StepSpec::Request {
                            method: method(s.string_enum("request", &["GET", "POST"])?),
                            count: s.u32_min_opt("count", 1)?.unwrap_or(1),
                        },
                        (false, true) => StepSpec::Sleep(s.dist("sleep")?),
                        (false, false) => {
                            return Err(s.error_here(
                                "a step needs `request = \"GET\"` (or \"POST\") or `sleep = \"100ms\"`",
                            ));
                        }
                    };
                    s.finish()?;
                    iteration.push(step);
                }
                if !iteration
                    .iter()
                    .any(|s| matches!(s, StepSpec::Request { .. }))
                {
                    return Err(r.error_at(
                        "iteration",
                        "an iteration needs at least one `request` step",
                    ));
                }
            } else {
                iteration.push(StepSpec::Request {
                    method: Method::Get,
                    count: 1,
                });
            }
            LoadSpec::Closed(ClosedLoopSpec {
                vus,
                iteration,
                keep_alive,
            })
        };
        Ok((
            NodeKind::Client(ClientSpec {
                target,
                start: SimTime(start.0),
                stop: SimTime(stop.0),
                timeout,
                load,
            }),
            r,
        ))
    }

    fn balancer(&self, e: &Entry<'a>) -> Result<(NodeKind, Reader<'a>), ConfigError> {
        let mut base = Reader::new(self.src, &e.path, &[e.item]);
        let ty = base.string_enum_opt("type", &["haproxy", "nginx"])?;
        let named = self.named_preset(
            &mut base,
            &[PresetKind::Haproxy, PresetKind::Nginx],
            "balancers",
        )?;
        let kind = match (ty, named) {
            (Some("haproxy"), None) => PresetKind::Haproxy,
            (Some(_), None) => PresetKind::Nginx,
            (None, Some(p)) => p.kind,
            (Some(t), Some(p)) => {
                let k = if t == "haproxy" {
                    PresetKind::Haproxy
                } else {
                    PresetKind::Nginx
                };
                if k != p.kind {
                    return Err(base.error_at(
                        "preset",
                        format!(
                            "preset `{}` is for {}, but type = \"{t}\"",
                            p.name,
                            p.kind.noun()
                        ),
                    ));
                }
                k
            }
            (None, None) => {
                return Err(base.missing(
                    "type",
                    "\"haproxy\" or \"nginx\"; or a `preset` such as \"haproxy-2.6\"",
                ));
            }
        };
        let preset = named.unwrap_or(presets::default_for(kind));
        let mut r = self.layered(e, preset);
        r.allow(&["type"]);

        // servers = [...], groups expanded, order kept.
        let item = r.item("servers").ok_or_else(|| {
            r.missing(
                "servers",
                "the apps or servers to balance over, e.g. [\"s1\", \"s2\"]",
            )
        })?;
        let path = r.key_path("servers");
        let names = self.src.as_string_list(item, &path)?;
        if names.is_empty() {
            return Err(self
                .src
                .error(&item.at, &path, "a balancer needs at least one server"));
        }
        let mut servers: Vec<String> = Vec::new();
        for (i, (n, at)) in names.iter().enumerate() {
            let p = format!("{path}[{i}]");
            for s in self.resolve_nodes(n, at, &p, BACKENDS, "a balancer's servers", true)? {
                if servers.contains(&s) {
                    return Err(self.src.error(
                        at,
                        &p,
                        format!("`{s}` is listed twice in `servers`"),
                    ));
                }
                servers.push(s);
            }
        }

        let kind = match kind {
            PresetKind::Haproxy => NodeKind::Haproxy(self.haproxy(&mut r, servers)?),
            _ => NodeKind::Nginx(self.nginx(&mut r, servers)?),
        };
        Ok((kind, r))
    }

    /// Readers for each server: `[server.NAME]` over `default_server`.
    fn per_server<T>(
        &self,
        r: &mut Reader<'a>,
        servers: &[String],
        read: impl Fn(&mut Reader<'a>, &str, bool) -> Result<T, ConfigError>,
    ) -> Result<Vec<T>, ConfigError> {
        let mut ds = r.sub("default_server")?;
        read(&mut ds, "", false)?;
        ds.finish()?;
        let overrides = r.entries("server")?;
        for o in &overrides {
            if !servers.contains(&o.name) {
                return Err(self.src.error(
                    o.key_at,
                    &o.path,
                    format!(
                        "`{}` is not one of this balancer's servers ({}){}",
                        o.name,
                        servers.join(", "),
                        did_you_mean(&o.name, servers.iter().map(String::as_str))
                    ),
                ));
            }
        }
        let mut out = Vec::new();
        for name in servers {
            let own = overrides.iter().find(|o| &o.name == name);
            let mut sr = match own {
                Some(o) => ds.stacked(o.path.clone(), Some(o.item)),
                None => ds.stacked(ds.path().to_string(), None),
            };
            out.push(read(&mut sr, name, true)?);
            sr.finish()?;
        }
        Ok(out)
    }

    fn haproxy(
        &self,
        r: &mut Reader<'a>,
        servers: Vec<String>,
    ) -> Result<HaproxySpec, ConfigError> {
        let mode = match r.string_enum("mode", &["http", "tcp"])? {
            "http" => HaproxyMode::Http,
            _ => HaproxyMode::Tcp,
        };
        let balance =
            match r.string_enum("balance", &["roundrobin", "leastconn", "first", "source"])? {
                "roundrobin" => Balance::RoundRobin,
                "leastconn" => Balance::LeastConn,
                "first" => Balance::First,
                _ => Balance::Source,
            };
        let maxconn = r.u32_range("maxconn", 1, 100_000_000)?;
        let backlog = r.u32_min_opt("backlog", 1)?.unwrap_or(maxconn);
        let timeout_connect = r.positive_duration_opt("timeout_connect")?;
        let timeout_server = r.positive_duration_opt("timeout_server")?;
        let timeout_client = r.positive_duration_opt("timeout_client")?;
        let timeout_queue = r.positive_duration_opt("timeout_queue")?;
        let timeout_check = r.positive_duration_opt("timeout_check")?;
        let retries = r.u32_min("retries", 0)?;
        let redispatch = r.bool("option_redispatch")?;
        let allbackups = r.bool("option_allbackups")?;
        let shutdown_sessions_on_marked_down = r
            .string_enum_opt("on_marked_down", &["shutdown-sessions"])?
            .is_some();
        let check = match r.item("option_httpchk") {
            None => CheckKind::L4,
            Some(item) => httpchk(self.src, item, &r.key_path("option_httpchk"))?,
        };
        let spread_checks = r.u32_range("spread_checks", 0, 50)?;
        let servers = self.per_server(r, &servers, |s, name, per_server| {
            let weight = s.u32_range("weight", 0, 256)?;
            let backup = backup(s, per_server)?;
            // Slow start scales it in sixteenths, in 32 bits.
            let maxconn = s.u32_range("maxconn", 0, 100_000_000)?;
            let check = s.bool("check")?;
            let inter = s.positive_duration("inter")?;
            at_least_1ms(s, "inter", Some(inter))?;
            let fastinter_opt = s.positive_duration_opt("fastinter")?;
            at_least_1ms(s, "fastinter", fastinter_opt)?;
            let fastinter = fastinter_opt.unwrap_or(inter);
            let downinter_opt = s.positive_duration_opt("downinter")?;
            at_least_1ms(s, "downinter", downinter_opt)?;
            let downinter = downinter_opt.unwrap_or(inter);
            // HAProxy's health counter (rise + fall - 1) is an int.
            let rise = s.u32_range("rise", 1, 1_000_000_000)?;
            let fall = s.u32_range("fall", 1, 1_000_000_000)?;
            let observe = match s.string_enum_opt("observe", &["layer4", "layer7"])? {
                None => None,
                Some("layer4") => Some(Observe::Layer4),
                Some(_) => Some(Observe::Layer7),
            };
            let error_limit = s.u32_min("error_limit", 1)?;
            // srv_parse_slowstart(): stored in ms, used in whole seconds, rounded up.
            let slowstart_s = s
                .duration_opt("slowstart")?
                .map_or(0, |d| d.0.div_ceil(Dur::S));
            let on_error = match s.string_enum(
                "on_error",
                &["fastinter", "fail-check", "sudden-death", "mark-down"],
            )? {
                "fastinter" => OnError::Fastinter,
                "fail-check" => OnError::FailCheck,
                "sudden-death" => OnError::SuddenDeath,
                _ => OnError::MarkDown,
            };
            Ok(HaproxyServerSpec {
                name: name.to_string(),
                weight,
                backup,
                maxconn,
                check,
                inter,
                fastinter,
                downinter,
                rise,
                fall,
                fastinter_set: fastinter_opt.is_some(),
                slowstart_s,
                observe,
                error_limit,
                on_error,
            })
        })?;
        Ok(HaproxySpec {
            mode,
            balance,
            maxconn,
            backlog,
            timeout_connect,
            timeout_server,
            timeout_client,
            timeout_queue,
            timeout_check,
            retries,
            redispatch,
            allbackups,
            shutdown_sessions_on_marked_down,
            check,
            spread_checks,
            servers,
        })
    }

    fn nginx(&self, r: &mut Reader<'a>, servers: Vec<String>) -> Result<NginxSpec, ConfigError> {
        // The model keeps each request's tried servers in a 128-bit set.
        if servers.len() > 128 {
            return Err(r.error_at(
                "servers",
                format!(
                    "at most 128 servers in an nginx upstream here, got {}",
                    servers.len()
                ),
            ));
        }
        if let Some(item) = r.item("worker_processes")
            && item.as_str() == Some("auto")
        {
            return Err(r.error_at(
                "worker_processes",
                "`auto` means one worker per CPU core; write that number (failure state is per worker)",
            ));
        }
        let worker_processes = r.u32_range("worker_processes", 1, 1024)?;
        let zone = r.bool("zone")?;
        let proxy_connect_timeout = r.positive_duration("proxy_connect_timeout")?;
        let proxy_read_timeout = r.positive_duration("proxy_read_timeout")?;
        let keepalive_timeout = r.duration("keepalive_timeout")?;
        let proxy_next_upstream = next_upstream(self.src, r)?;
        let proxy_next_upstream_tries = r.u32_min("proxy_next_upstream_tries", 0)?;
        let proxy_next_upstream_timeout = r.duration("proxy_next_upstream_timeout")?;
        let servers = self.per_server(r, &servers, |s, name, per_server| {
            let weight = s.u32_range("weight", 1, 1_000_000)?;
            let max_fails = s.u32_min("max_fails", 0)?;
            let ft = s.duration("fail_timeout")?;
            if ft.0 % Dur::S != 0 {
                let lo = ft.0 / Dur::S;
                return Err(s.error_at(
                    "fail_timeout",
                    format!(
                        "nginx keeps fail_timeout in whole seconds; got {ft} (write \"{lo}s\" or \"{}s\")",
                        lo + 1
                    ),
                ));
            }
            let backup = backup(s, per_server)?;
            Ok(NginxServerSpec {
                name: name.to_string(),
                weight,
                max_fails,
                fail_timeout_s: ft.0 / Dur::S,
                backup,
            })
        })?;
        Ok(NginxSpec {
            worker_processes,
            zone,
            proxy_connect_timeout,
            proxy_read_timeout,
            keepalive_timeout,
            proxy_next_upstream,
            proxy_next_upstream_tries,
            proxy_next_upstream_timeout,
            servers,
        })
    }

    /// `[servers.NAME]` and `[apps.NAME]`.
    fn backend(&self, sec: Section, e: &Entry<'a>) -> Result<(NodeKind, Reader<'a>), ConfigError> {
        let mut base = Reader::new(self.src, &e.path, &[e.item]);
        let preset = self
            .named_preset(&mut base, &[PresetKind::Server], sec.plural())?
            .unwrap_or(presets::default_for(PresetKind::Server));
        base.reject("type", &format!("{} have no `type`", sec.plural()))?;
        let mut r = self.layered(e, preset);
        let server = ServerSpec {
            workers: r.u32_min("workers", 1)?,
            queue_limit: r.u32_min_opt("queue_limit", 0)?,
            service: r.dist("service")?,
            backlog: r.u32_range("backlog", 0, 65_535)?,
            check_status: r.u32_range("check_status", 100, 599)? as u16,
        };
        if sec == Section::Server {
            r.reject(
                "calls",
                "only apps make calls; declare this node as `[apps.NAME]`",
            )?;
            return Ok((NodeKind::Server(server), r));
        }
        let own: Vec<String> = match self.reg.groups.get(&e.name) {
            Some(g) => g.members.clone(),
            None => vec![e.name.clone()],
        };
        let mut calls = Vec::new();
        for mut c in r.array_of_tables("calls")? {
            let target = self.single_target(&mut c, "target", SERVING, "a call's target")?;
            if own.contains(&target) {
                return Err(c.error_at("target", format!("`{target}` would call itself")));
            }
            let call = CallSpec {
                target,
                count: c.u32_min_opt("count", 1)?.unwrap_or(1),
                connect_timeout: c
                    .positive_duration_opt("connect_timeout")?
                    .unwrap_or(call_defaults::CONNECT_TIMEOUT),
                timeout: c
                    .positive_duration_opt("timeout")?
                    .unwrap_or(call_defaults::TIMEOUT),
                connection: match c.u32_min_opt("pool", 1)? {
                    Some(size) => ConnectionMode::Pool { size },
                    None => ConnectionMode::PerRequest,
                },
                error_status: c
                    .u32_range_opt("error_status", 100, 599)?
                    .map(|s| s as u16)
                    .unwrap_or(call_defaults::ERROR_STATUS),
            };
            c.finish()?;
            calls.push(call);
        }
        Ok((NodeKind::App(AppSpec { server, calls }), r))
    }

    // -------------------------------------------------------- databases --

    fn database(&self, e: &Entry<'a>) -> Result<(NodeKind, Reader<'a>), ConfigError> {
        let ty = self.reg.databases[&e.name];
        let kind = PresetKind::of_database(ty);
        let mut base = Reader::new(self.src, &e.path, &[e.item]);
        let preset = self
            .named_preset(&mut base, &[kind], &format!("{ty} databases"))?
            .unwrap_or(presets::default_for(kind));
        let mut r = self.layered(e, preset);
        r.allow(&["type"]);
        let members: Vec<String> = match self.reg.groups.get(&e.name) {
            Some(g) => g.members.clone(),
            None => vec![e.name.clone()],
        };
        let cluster_ref = |name: &str, at: &Pos, path: &str, want: &str| {
            match self.reg.databases.get(name) {
                Some(t) if *t == want => {}
                Some(t) => {
                    return Err(self.src.error(
                        at,
                        path,
                        format!("`{name}` is a {t} cluster; expected a {want} cluster"),
                    ));
                }
                None => {
                    let names = self.reg.databases.keys().map(String::as_str);
                    return Err(self.src.error(
                        at,
                        path,
                        format!(
                            "no database cluster named `{name}`{} (expected a {want} cluster)",
                            did_you_mean(name, names)
                        ),
                    ));
                }
            }
            Ok(match self.reg.groups.get(name) {
                Some(g) => g.members.clone(),
                None => vec![name.to_string()],
            })
        };
        let warn = |r: &Reader, key: &str, risk: String| {
            let at = r.key_pos_of(key).unwrap_or(e.key_at);
            let (file, line) = (&self.src.get(at.src).name, self.src.line_of(at));
            let path = r.key_path(key);
            self.warnings
                .borrow_mut()
                .push(format!("{file}:{line}: {path}: {risk}"));
        };
        let ctx = db::DbRead {
            cluster: &e.name,
            members: &members,
            cluster_ref: &cluster_ref,
            warn: &warn,
        };
        let kind = db::read(ty, &mut r, &ctx)?;
        let cluster_index = self
            .reg
            .databases
            .get_index_of(&e.name)
            .expect("registered") as u32;
        Ok((
            NodeKind::Database(DatabaseSpec {
                cluster: e.name.clone(),
                cluster_index,
                members: members.into(),
                kind,
            }),
            r,
        ))
    }

    // ----------------------------------------------------------- faults --

    fn fault(&self, f: &mut Reader<'a>) -> Result<FaultSpec, ConfigError> {
        let line = self.src.line_of(f.home());
        let kind_s = f.string_enum(
            "kind",
            &[
                "kill",
                "stop",
                "blackhole",
                "power-off",
                "partition",
                "slow",
                "switchover",
                "restart",
            ],
        )?;
        let kind = match kind_s {
            "kill" => FaultKind::Kill,
            "stop" => FaultKind::Stop,
            "blackhole" => FaultKind::Blackhole,
            "power-off" => FaultKind::PowerOff,
            "partition" => FaultKind::Partition,
            "switchover" => FaultKind::Switchover,
            "restart" => FaultKind::Restart,
            _ => FaultKind::Slow,
        };
        let mut targets = Vec::new();
        let mut groups = Vec::new();
        let mut one_way = false;
        if kind == FaultKind::Partition {
            for k in ["target", "targets"] {
                f.reject(
                    k,
                    "a partition names `groups` of hosts, e.g. groups = [[\"lb\"], [\"s1\", \"s2\"]]",
                )?;
            }
            groups = self.partition_groups(f)?;
            one_way = f.bool_opt("one_way")?.unwrap_or(false);
        } else {
            for k in ["groups", "one_way"] {
                f.reject(k, &format!("`{k}` only applies to kind = \"partition\""))?;
            }
            let refs: Vec<(&str, &Pos, String)> = match (f.item("target"), f.item("targets")) {
                (Some(_), Some(_)) => {
                    return Err(f.error_at("targets", "give `target` or `targets`, not both"));
                }
                (Some(item), None) => {
                    let p = f.key_path("target");
                    vec![(self.src.as_string(item, &p)?, &item.at, p)]
                }
                (None, Some(item)) => {
                    let p = f.key_path("targets");
                    let list = self.src.as_string_list(item, &p)?;
                    if list.is_empty() {
                        return Err(self.src.error(&item.at, &p, "`targets` is empty"));
                    }
                    list.into_iter()
                        .enumerate()
                        .map(|(i, (n, at))| (n, at, format!("{p}[{i}]")))
                        .collect()
                }
                (None, None) => {
                    return Err(
                        f.missing("target", "the node or host to fail, or `targets = [...]`")
                    );
                }
            };
            for (name, at, p) in refs {
                let resolved = match kind {
                    FaultKind::Blackhole | FaultKind::PowerOff => {
                        self.resolve_hosts(name, at, &p)?
                    }
                    _ => self.resolve_nodes(
                        name,
                        at,
                        &p,
                        SERVING,
                        &format!("the target of a {kind_s} fault"),
                        true,
                    )?,
                };
                for t in resolved {
                    if targets.contains(&t) {
                        return Err(self.src.error(at, &p, format!("`{t}` is targeted twice")));
                    }
                    targets.push(t);
                }
            }
        }
        let factor = if kind == FaultKind::Slow {
            f.f64_positive("factor")?
        } else {
            f.reject("factor", "`factor` only applies to kind = \"slow\"")?;
            1.0
        };
        let process = self.fault_process(f, kind, &targets)?;
        let candidate = self.switchover_candidate(f, kind, &targets)?;
        if matches!(kind, FaultKind::Switchover | FaultKind::Restart) {
            for k in ["recover_at", "recover_after", "mtbf"] {
                f.reject(k, &format!("a {kind_s} has no recovery: it ends by itself"))?;
            }
            for t in &targets {
                if self.db_type_of(t).is_none() {
                    return Err(f.error_at(
                        "target",
                        format!("`{t}` is not a database; a {kind_s} applies to database nodes"),
                    ));
                }
            }
        }
        let timing = self.timing(f)?;
        f.finish()?;
        Ok(FaultSpec {
            kind,
            targets,
            groups,
            one_way,
            factor,
            process,
            candidate,
            timing,
            line,
        })
    }

    /// The database type of node `name`, if it is a database member.
    fn db_type_of(&self, name: &str) -> Option<&'static str> {
        if self.reg.nodes.get(name)?.section != Section::Database {
            return None;
        }
        let cluster = self
            .reg
            .groups
            .iter()
            .find(|(_, g)| g.members.iter().any(|m| m == name))
            .map_or(name, |(c, _)| c.as_str());
        self.reg.databases.get(cluster).copied()
    }

    /// `process = "postgres" | "patroni"`: a kill or stop of one process of
    /// a Patroni node.
    fn fault_process(
        &self,
        f: &mut Reader<'a>,
        kind: FaultKind,
        targets: &[String],
    ) -> Result<Option<Process>, ConfigError> {
        if !f.has("process") {
            return Ok(None);
        }
        if !matches!(kind, FaultKind::Kill | FaultKind::Stop) {
            return Err(f.error_at("process", "`process` only applies to kill and stop"));
        }
        let p = match f.string_enum("process", &["postgres", "patroni"])? {
            "postgres" => Process::Postgres,
            _ => Process::Patroni,
        };
        if let Some(t) = targets
            .iter()
            .find(|t| self.db_type_of(t) != Some("patroni"))
        {
            return Err(f.error_at(
                "process",
                format!("`{t}` is not a Patroni node: only those run separate processes"),
            ));
        }
        Ok(Some(p))
    }

    /// A switchover's `candidate`: a member of the targeted cluster.
    fn switchover_candidate(
        &self,
        f: &mut Reader<'a>,
        kind: FaultKind,
        targets: &[String],
    ) -> Result<Option<String>, ConfigError> {
        if kind != FaultKind::Switchover {
            f.reject(
                "candidate",
                "`candidate` only applies to kind = \"switchover\"",
            )?;
            return Ok(None);
        }
        if let Some(t) = targets
            .iter()
            .find(|t| self.db_type_of(t) != Some("patroni"))
        {
            return Err(f.error_at(
                "target",
                format!("`{t}` is not a Patroni node: a switchover targets a Patroni cluster"),
            ));
        }
        let Some(c) = f.string_opt("candidate")? else {
            return Ok(None);
        };
        if !targets.iter().any(|t| t == c) {
            return Err(f.error_at(
                "candidate",
                format!("`{c}` is not one of the targets ({})", targets.join(", ")),
            ));
        }
        Ok(Some(c.to_string()))
    }

    fn partition_groups(&self, f: &mut Reader<'a>) -> Result<Vec<Vec<String>>, ConfigError> {
        let item = f
            .item("groups")
            .ok_or_else(|| f.missing("groups", "e.g. groups = [[\"lb\"], [\"s1\", \"s2\"]]"))?;
        let path = f.key_path("groups");
        let Val::Array(list) = &item.val else {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "expected an array of arrays of host names, found {}",
                    item.val.describe()
                ),
            ));
        };
        if list.len() < 2 {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "a partition needs at least two groups, found {}",
                    list.len()
                ),
            ));
        }
        let mut groups: Vec<Vec<String>> = Vec::new();
        for (gi, g) in list.iter().enumerate() {
            let gp = format!("{path}[{gi}]");
            let names = self.src.as_string_list(g, &gp)?;
            if names.is_empty() {
                return Err(self
                    .src
                    .error(&g.at, &gp, "a partition group cannot be empty"));
            }
            let mut hosts = Vec::new();
            for (i, (n, at)) in names.iter().enumerate() {
                let p = format!("{gp}[{i}]");
                for h in self.resolve_hosts(n, at, &p)? {
                    if hosts.contains(&h) || groups.iter().any(|g| g.contains(&h)) {
                        return Err(self.src.error(
                            at,
                            &p,
                            format!("host `{h}` is in the partition twice"),
                        ));
                    }
                    hosts.push(h);
                }
            }
            groups.push(hosts);
        }
        Ok(groups)
    }

    fn timing(&self, f: &mut Reader<'a>) -> Result<FaultTiming, ConfigError> {
        let end = self.duration;
        let check_at = |f: &Reader<'a>, key: &str, at: Dur| {
            if at >= end {
                Err(f.error_at(
                    key,
                    format!("{at} is not before the end of the experiment ({end})"),
                ))
            } else {
                Ok(())
            }
        };
        if f.has("mtbf") {
            for k in ["at", "every", "recover_at", "recover_after"] {
                f.reject(
                    k,
                    &format!(
                        "a random fault (`mtbf`) has no `{k}`: give `mtbf`, `mttr` and optionally `start`"
                    ),
                )?;
            }
            let mtbf = f.positive_duration("mtbf")?;
            let mttr = f.dist("mttr")?;
            let start = f.duration_opt("start")?.unwrap_or(Dur::ZERO);
            check_at(f, "start", start)?;
            return Ok(FaultTiming::Random {
                mtbf,
                mttr,
                start: SimTime(start.0),
            });
        }
        for k in ["mttr", "start"] {
            f.reject(
                k,
                &format!("`{k}` only applies to random faults (with `mtbf`)"),
            )?;
        }
        let at = f.duration("at")?;
        check_at(f, "at", at)?;
        if f.has("every") {
            f.reject(
                "recover_at",
                "with `every`, give each target's down time as `recover_after`",
            )?;
            let every = f.positive_duration("every")?;
            let duration = f.positive_duration_opt("recover_after")?;
            return Ok(FaultTiming::Staggered {
                at: SimTime(at.0),
                every,
                duration,
            });
        }
        let recover_at = f.duration_opt("recover_at")?;
        let recover_after = f.positive_duration_opt("recover_after")?;
        let recover_at = match (recover_at, recover_after) {
            (Some(_), Some(_)) => {
                return Err(f.error_at(
                    "recover_after",
                    "give `recover_at` or `recover_after`, not both",
                ));
            }
            (Some(r), None) => {
                if r <= at {
                    return Err(f.error_at(
                        "recover_at",
                        format!("recover_at ({r}) is not after the fault's `at` ({at})"),
                    ));
                }
                Some(SimTime(r.0))
            }
            (None, Some(d)) => Some(SimTime(at.0) + d),
            (None, None) => None,
        };
        Ok(FaultTiming::Fixed {
            at: SimTime(at.0),
            recover_at,
        })
    }
}

fn method(s: &str) -> Method {
    if s == "POST" {
        Method::Post
    } else {
        Method::Get
    }
}

/// `backup` is a per-server key: refused in `default_server`.
fn backup(s: &mut Reader<'_>, per_server: bool) -> Result<bool, ConfigError> {
    if per_server {
        Ok(s.bool_opt("backup")?.unwrap_or(false))
    } else {
        s.reject(
            "backup",
            "`backup` is set per server: `[balancers.NAME.server.SERVER]` backup = true",
        )?;
        Ok(false)
    }
}

/// `option httpchk`: "GET /path" (or just "/path").
fn httpchk(src: &Sources, item: &Item, path: &str) -> Result<CheckKind, ConfigError> {
    let s = src.as_string(item, path)?;
    let parts: Vec<&str> = s.split_whitespace().collect();
    let uri = match parts.as_slice() {
        [uri] => *uri,
        [m, uri] if ["GET", "HEAD", "OPTIONS", "POST"].contains(m) => *uri,
        _ => "",
    };
    if !uri.starts_with('/') {
        return Err(src.error(
            &item.at,
            path,
            format!("expected \"GET /path\" (the method and URI of `option httpchk`), found {s:?}"),
        ));
    }
    Ok(CheckKind::Http {
        path: uri.to_string(),
    })
}

fn next_upstream(src: &Sources, r: &mut Reader<'_>) -> Result<NextUpstream, ConfigError> {
    const MODELLED: &[&str] = &[
        "error",
        "timeout",
        "http_500",
        "http_502",
        "http_503",
        "http_504",
        "non_idempotent",
        "off",
    ];
    const NOT_MODELLED: &[&str] = &["invalid_header", "http_403", "http_404", "http_429"];
    let key = "proxy_next_upstream";
    let item = r
        .item(key)
        .ok_or_else(|| r.missing(key, "e.g. [\"error\", \"timeout\"]"))?;
    let path = r.key_path(key);
    let list = src.as_string_list(item, &path)?;
    if list.is_empty() {
        return Err(src.error(&item.at, &path, "give at least one value, e.g. [\"off\"]"));
    }
    let mut n = NextUpstream {
        error: false,
        timeout: false,
        http_500: false,
        http_502: false,
        http_503: false,
        http_504: false,
        non_idempotent: false,
        off: false,
    };
    for (i, (v, at)) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let flag = match *v {
            "error" => &mut n.error,
            "timeout" => &mut n.timeout,
            "http_500" => &mut n.http_500,
            "http_502" => &mut n.http_502,
            "http_503" => &mut n.http_503,
            "http_504" => &mut n.http_504,
            "non_idempotent" => &mut n.non_idempotent,
            "off" => &mut n.off,
            other if NOT_MODELLED.contains(&other) => {
                return Err(src.error(
                    at,
                    &p,
                    format!(
                        "`{other}` is valid in nginx but not modelled by hasim (use {})",
                        list_choices(MODELLED)
                    ),
                ));
            }
            other => {
                return Err(src.error(
                    at,
                    &p,
                    format!(
                        "expected one of {}, found {other:?}{}",
                        list_choices(MODELLED),
                        did_you_mean(other, MODELLED.iter().copied())
                    ),
                ));
            }
        };
        if *flag {
            return Err(src.error(at, &p, format!("`{v}` is listed twice")));
        }
        *flag = true;
    }
    if n.off && list.len() > 1 {
        return Err(src.error(
            &item.at,
            &path,
            "`off` cannot be combined with other values",
        ));
    }
    Ok(n)
}

/// Highest open-loop rate accepted: at 10 M requests/s one simulated second
/// is already ~60 M events; beyond it a typo (`1e30`) would run forever.
const MAX_RATE: f64 = 1e7;

/// A request rate: a number > 0 and at most [`MAX_RATE`] per second.
fn request_rate(r: &mut Reader, key: &'static str) -> Result<f64, ConfigError> {
    let rate = r.f64_positive(key)?;
    if rate > MAX_RATE {
        return Err(r.error_at(
            key,
            format!("at most {MAX_RATE:.0} requests per second, got {rate}"),
        ));
    }
    Ok(rate)
}
