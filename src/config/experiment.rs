//! The experiment schema: reads the tree into an [`ExperimentSpec`] and checks
//! what no single value can show (references, duplicates, orderings).
//!
//! Two passes: the first registers every node name (expanding `count`) and
//! host, the second reads each section with references resolved.

use super::error::{ConfigError, did_you_mean};
use super::presets::{self, Preset};
use super::read::{BACKENDS, FAULTABLE, ReadCx, SERVING, Section, bytes};
use super::spec::*;
use super::table::{Entry, Item, Pos, Reader, Sources, Val};
use crate::engine::{Dur, SimTime};
use crate::faults::Action;
use crate::products::{self, ProductInfo};
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
    "vips",
    "faults",
    "thresholds",
];

/// `"6.1"`, `"6.8.0"` or `"5.10.0-28-amd64"`: (major, minor).
fn kernel_version(s: &str) -> Option<(u32, u32)> {
    let mut parts = s.split(['.', '-']);
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    (major >= 2).then_some((major, minor))
}

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
    /// Debian 12's kernel, on which the validation cases were measured.
    pub const KERNEL: &str = "6.1";
    /// net.ipv4.tcp_syn_linear_timeouts = 4 from Linux 6.5 (commit "tcp:
    /// make the first N SYN RTO backoffs linear"; ip-sysctl.rst); before
    /// 6.5 SYN timeouts double from the first.
    pub fn syn_linear_timeouts(kernel: (u32, u32)) -> u32 {
        if kernel >= (6, 5) { 4 } else { 0 }
    }
    /// TCP_RTO_MIN = 200ms (include/net/tcp.h).
    pub const RTO_MIN: Dur = Dur::from_ms(200);
}

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
    /// Database clusters in file order, with their product.
    databases: IndexMap<String, &'static str>,
    /// Each table's product and preset.
    products: IndexMap<String, (&'static ProductInfo, &'static Preset)>,
    /// Each VIP's daemons: (member node, the listener beside it).
    vips: IndexMap<String, Vec<(String, String)>>,
}

pub(super) struct Builder<'a> {
    pub(super) src: &'a Sources,
    presets: &'a [(&'static Preset, Item)],
    reg: Registry,
    pub(super) duration: Dur,
    warnings: std::cell::RefCell<Vec<String>>,
    /// Requests the open-loop clients read so far will issue.
    pub(super) requests: std::cell::Cell<f64>,
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
    let cold_start = ex.bool_opt("cold_start")?.unwrap_or(false);
    let aligned = ex.bool_opt("aligned")?;
    let warm_up = ex.duration_opt("warm_up")?;
    if cold_start && aligned == Some(false) {
        return Err(ex.error_at(
            "aligned",
            "a cold start boots every process at 0, so their timers are aligned: \
             drop `aligned = false` or `cold_start = true`",
        ));
    }
    let aligned = aligned.unwrap_or(false);
    if cold_start && warm_up.is_some() {
        return Err(ex.error_at(
            "warm_up",
            "a cold start has no warm-up: give `cold_start = true` or `warm_up`, not both",
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
    for sec in Section::ALL {
        for e in top.entries(sec.key())? {
            all.push((sec, e));
        }
    }
    all.sort_by_key(|(_, e)| (e.key_at.src.0, e.key_at.span.start));
    // VIPs last: their daemons run on their listeners' hosts.
    for (sec, e) in all.iter().filter(|(s, _)| *s != Section::Vip) {
        b.register(*sec, e)?;
    }
    for (_, e) in all.iter().filter(|(s, _)| *s == Section::Vip) {
        b.register_vip(e)?;
    }
    b.check_hosts()?;

    // [network]
    let network = b.network(&mut top.sub("network")?)?;

    // Pass 2: nodes, in section order, each section in file order.
    let mut nodes = IndexMap::new();
    for sec in Section::ALL {
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

    let start = if cold_start {
        StartSpec::COLD
    } else {
        StartSpec {
            warm_up: warm_up.unwrap_or_else(|| formation(&nodes)),
            aligned,
        }
    };

    // [thresholds]
    let thresholds = match top.item("thresholds") {
        None => Vec::new(),
        Some(item) => {
            let clients: Vec<String> = top
                .entries(Section::Client.key())?
                .into_iter()
                .map(|e| e.name)
                .collect();
            let random = faults
                .iter()
                .any(|f| matches!(f.timing, FaultTiming::Random { .. }));
            let max_faults = (!random).then(|| {
                faults
                    .iter()
                    .map(|f| fault_actions(f, duration).0 as usize)
                    .sum()
            });
            let known = super::thresholds::Known {
                clients: &clients,
                max_faults,
            };
            super::thresholds::read(src, item, &known)?
        }
    };

    let settings = super::settings::resolved(root, |name| {
        b.reg.products.get(name).map(|(_, p)| b.preset_item(p))
    });

    Ok(ExperimentSpec {
        file: file.to_string(),
        name,
        description,
        duration,
        seed,
        bucket,
        start,
        network,
        nodes,
        faults,
        thresholds,
        settings,
        warnings: b.warnings.into_inner(),
    })
}

/// The default warm-up: each product present forms once those it depends
/// on have, so the longest formation of each product, summed, bounds the
/// time the whole stack takes (etcd elects, then Patroni takes the key, then
/// HAProxy's checks find the primary).
fn formation(nodes: &IndexMap<String, NodeSpec>) -> Dur {
    let mut longest: IndexMap<&'static str, Dur> = IndexMap::new();
    for n in nodes.values() {
        let e = longest.entry(n.kind.product()).or_default();
        *e = (*e).max(n.kind.formation());
    }
    Dur(longest.values().map(|d| d.0).sum())
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
        let (product, preset) = self.choose_product(sec, &mut r)?;
        let count = match sec.counts() {
            true => r.u32_range_opt("count", 1, 10_000)?,
            false => None,
        };
        if let Some(n) = count
            && let Err(why) = (product.check_count)(n)
        {
            return Err(r.error_at("count", why));
        }
        if sec == Section::Database {
            self.reg.databases.insert(e.name.clone(), product.name);
        }
        self.reg.products.insert(e.name.clone(), (product, preset));
        let origin = format!("`[{}]`", e.path);
        match count {
            Some(n) => {
                r.reject(
                    "host",
                    "`host` cannot be combined with `count`: each instance runs on its own host, named after it, or on the one `hosts = [...]` names for it",
                )?;
                self.claim(&e.name, e.key_at, &e.path, origin.clone())?;
                let hosts = self.member_hosts(&mut r, n)?;
                let mut members = Vec::new();
                for i in 1..=n {
                    let name = format!("{}{i}", e.name);
                    self.claim(
                        &name,
                        e.key_at,
                        &e.path,
                        format!("{origin} with count = {n}"),
                    )?;
                    let (host, host_at) = match &hosts {
                        Some(h) => h[i as usize - 1].clone(),
                        None => (name.clone(), e.key_at.clone()),
                    };
                    self.add_host(&host);
                    self.reg.nodes.insert(
                        name.clone(),
                        NodeInfo {
                            section: sec,
                            host,
                            host_at,
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

    /// `[vips.NAME]`: the VIP's name (what clients target) and one daemon
    /// per `[vips.NAME.on.LISTENER]`, named `NAME-LISTENER`, on the
    /// listener's host. The listener is what the VIP reaches on that host.
    fn register_vip(&mut self, e: &Entry<'a>) -> Result<(), ConfigError> {
        if !valid_name(&e.name) {
            return Err(self.src.error(
                e.key_at,
                &e.path,
                format!(
                    "invalid VIP name `{}`: use letters, digits, `-` and `_`",
                    e.name
                ),
            ));
        }
        let mut r = Reader::new(self.src, &e.path, &[e.item]);
        let (product, preset) = self.choose_product(Section::Vip, &mut r)?;
        // `type = "keepalived"` may be written even while one product
        // serves the section: it reads like keepalived's own config.
        let types: Vec<&'static str> = products::in_section(Section::Vip).map(|p| p.name).collect();
        if let Some(t) = r.string_enum_opt("type", &types)?
            && t != product.name
        {
            return Err(r.error_at(
                "type",
                format!(
                    "type = \"{t}\" but preset `{}` is for {}",
                    preset.name,
                    product.noun()
                ),
            ));
        }
        self.reg.products.insert(e.name.clone(), (product, preset));
        let origin = format!("`[{}]`", e.path);
        self.claim(&e.name, e.key_at, &e.path, origin.clone())?;
        let on = r.entries("on")?;
        if on.len() < 2 {
            return Err(r.missing(
                "on",
                "a `[vips.NAME.on.LISTENER]` table for each of at least two listeners \
                 (e.g. the balancers lb1 and lb2) the VIP moves between",
            ));
        }
        let mut members: Vec<(String, String)> = Vec::new();
        let mut hosts: Vec<String> = Vec::new();
        for o in &on {
            let listener = self
                .resolve_nodes(
                    &o.name,
                    o.key_at,
                    &o.path,
                    SERVING,
                    "a VIP's listener",
                    false,
                )?
                .remove(0);
            let host = self.reg.nodes[&listener].host.clone();
            if hosts.contains(&host) {
                return Err(self.src.error(
                    o.key_at,
                    &o.path,
                    format!(
                        "`{listener}` runs on host `{host}`, which another listener of this VIP \
                         already uses: one listener per host"
                    ),
                ));
            }
            hosts.push(host.clone());
            let name = format!("{}-{listener}", e.name);
            self.claim(
                &name,
                o.key_at,
                &o.path,
                format!("{origin}, on `{listener}`"),
            )?;
            self.reg.nodes.insert(
                name.clone(),
                NodeInfo {
                    section: Section::Vip,
                    host,
                    host_at: o.key_at.clone(),
                },
            );
            members.push((name, listener));
        }
        self.reg.groups.insert(
            e.name.clone(),
            Group {
                section: Section::Vip,
                members: members.iter().map(|(m, _)| m.clone()).collect(),
            },
        );
        self.reg.vips.insert(e.name.clone(), members);
        Ok(())
    }

    /// A VIP's daemons and their listeners.
    pub(super) fn vip_members(&self, vip: &str) -> Vec<(String, String)> {
        self.reg.vips.get(vip).cloned().unwrap_or_default()
    }

    /// `hosts = [...]` of a `count` group: member i runs on host i, so
    /// losing one host takes every member placed there (a VM holding one
    /// shard's master and another's replica).
    fn member_hosts(
        &self,
        r: &mut Reader<'a>,
        n: u32,
    ) -> Result<Option<Vec<(String, Pos)>>, ConfigError> {
        let Some(item) = r.item("hosts") else {
            return Ok(None);
        };
        let path = r.key_path("hosts");
        let Val::Array(items) = &item.val else {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "expected an array of {n} host names, one per member, found {}",
                    item.val.describe()
                ),
            ));
        };
        if items.len() != n as usize {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "{} host names for count = {n}: name one host per member, in member order",
                    items.len()
                ),
            ));
        }
        let mut hosts = Vec::with_capacity(items.len());
        for (i, h) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            let name = self.src.as_string(h, &at)?;
            if !valid_name(name) {
                return Err(self.src.error(
                    &h.at,
                    &at,
                    format!("invalid host name `{name}`: use letters, digits, `-` and `_`"),
                ));
            }
            hosts.push((name.to_string(), h.at.clone()));
        }
        Ok(Some(hosts))
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
            let nouns: Vec<String> = allowed.iter().map(|s| s.noun().to_string()).collect();
            or_list(&nouns)
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
                        g.section.key(),
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
                        g.section.key(),
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
    pub(super) fn single_target(
        &self,
        r: &mut Reader<'a>,
        key: &'static str,
        allowed: &[Section],
        role: &str,
        vip_ok: bool,
    ) -> Result<String, ConfigError> {
        let item = r
            .item(key)
            .ok_or_else(|| r.missing(key, "the name of a balancer, app or server"))?;
        let path = r.key_path(key);
        let name = self.src.as_string(item, &path)?;
        if self.reg.vips.contains_key(name) {
            if !vip_ok {
                return Err(self.src.error(
                    &item.at,
                    &path,
                    format!(
                        "`{name}` is a VIP; only clients and apps send to VIPs so far: {role} \
                         must name a node"
                    ),
                ));
            }
            return Ok(name.to_string());
        }
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

    /// The product and preset of a `[section.NAME]` table: where several
    /// products share the section, `type` or a preset says which.
    fn choose_product(
        &self,
        sec: Section,
        r: &mut Reader<'a>,
    ) -> Result<(&'static ProductInfo, &'static Preset), ConfigError> {
        let candidates: Vec<&'static ProductInfo> = products::in_section(sec).collect();
        let named = self.named_preset(r, &candidates, sec.key())?;
        if let [only] = candidates[..] {
            return Ok((only, named.map_or(&only.presets[0], |(_, p)| p)));
        }
        let types: Vec<&str> = candidates.iter().map(|p| p.name).collect();
        let ty = r.string_enum_opt("type", &types)?;
        match (ty, named) {
            (Some(t), None) => {
                let p = products::find(t).expect("a listed type");
                Ok((p, &p.presets[0]))
            }
            (None, Some(found)) => Ok(found),
            (Some(t), Some((p, preset))) if p.name != t => Err(r.error_at(
                "preset",
                format!(
                    "preset `{}` is for {}, but type = \"{t}\"",
                    preset.name,
                    p.noun()
                ),
            )),
            (Some(_), Some(found)) => Ok(found),
            (None, None) => {
                if let Some(p) = candidates.iter().find(|p| p.default_in.contains(&sec)) {
                    return Ok((p, &p.presets[0]));
                }
                let quoted: Vec<String> = types.iter().map(|t| format!("\"{t}\"")).collect();
                let example = candidates[0].presets[0].name;
                Err(r.missing(
                    "type",
                    &format!("{}; or a `preset` such as \"{example}\"", or_list(&quoted)),
                ))
            }
        }
    }

    /// The preset named by `preset = "…"`, which must be one of `fitting`'s.
    fn named_preset(
        &self,
        r: &mut Reader<'a>,
        fitting: &[&'static ProductInfo],
        what: &str,
    ) -> Result<Option<(&'static ProductInfo, &'static Preset)>, ConfigError> {
        let Some(name) = r.string_opt("preset")? else {
            return Ok(None);
        };
        let Some((product, p)) = presets::find(name) else {
            let names: Vec<&str> = presets::all().map(|(_, p)| p.name).collect();
            let fitting: Vec<&str> = fitting
                .iter()
                .flat_map(|f| f.presets.iter().map(|p| p.name))
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
        if !fitting.iter().any(|f| std::ptr::eq(*f, product)) {
            return Err(r.error_at(
                "preset",
                format!("preset `{name}` is for {}, not for {what}", product.noun()),
            ));
        }
        Ok(Some((product, p)))
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
        let kernel = r.string_opt("kernel")?.unwrap_or(net_defaults::KERNEL);
        let Some(version) = kernel_version(kernel) else {
            return Err(r.error_at(
                "kernel",
                format!("expected a Linux version like \"6.1\" or \"6.8\", found {kernel:?}"),
            ));
        };
        let syn_linear_timeouts = match r.u32_range_opt("syn_linear_timeouts", 0, 127)? {
            Some(_) if version < (6, 5) => {
                return Err(r.error_at(
                    "syn_linear_timeouts",
                    format!(
                        "Linux {kernel} has no tcp_syn_linear_timeouts (added in 6.5): its SYN timeouts double from the first; say kernel = \"6.5\" or later"
                    ),
                ));
            }
            Some(n) => n,
            None => net_defaults::syn_linear_timeouts(version),
        };
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
            kernel: kernel.to_string(),
            syn_linear_timeouts,
            rto_min,
            links,
        })
    }

    // ------------------------------------------------------------ nodes --

    /// The node(s) of one `[section.NAME]` table (several with `count`),
    /// read by its product over its preset.
    fn node(&self, sec: Section, e: &Entry<'a>) -> Result<Vec<NodeSpec>, ConfigError> {
        let line = self.src.line_of(&e.item.at);
        let (product, preset) = self.reg.products[&e.name];
        let mut r = self.layered(e, preset);
        if products::in_section(sec).count() > 1 {
            r.allow(&["type"]);
        }
        let cx = ReadCx {
            b: self,
            e,
            section: sec,
        };
        let kind = (product.read)(&mut r, &cx)?;
        if sec == Section::Vip {
            r.allow(&["type"]);
            r.reject(
                "host",
                "a VIP's daemons run on their listeners' hosts: `[vips.NAME.on.LISTENER]`",
            )?;
        } else {
            r.allow(&["host"]);
        }
        if sec.counts() {
            r.allow(&["count", "hosts"]);
        } else {
            r.reject(
                "count",
                &format!(
                    "`count` only applies to apps, servers and databases, not to {}",
                    sec.key()
                ),
            )?;
        }
        r.finish()?;
        let names = self.members_of(&e.name);
        let cluster = match sec {
            Section::Database => Some(ClusterSpec {
                cluster: e.name.clone(),
                cluster_index: self
                    .reg
                    .databases
                    .get_index_of(&e.name)
                    .expect("registered") as u32,
                members: names.clone().into(),
            }),
            _ => None,
        };
        Ok(names
            .into_iter()
            .map(|name| NodeSpec {
                host: self.reg.nodes[&name].host.clone(),
                name,
                line,
                cluster: cluster.clone(),
                kind: kind.clone(),
            })
            .collect())
    }

    /// The node names table `name` declares: itself, or its `count` members.
    pub(super) fn members_of(&self, name: &str) -> Vec<String> {
        match self.reg.groups.get(name) {
            Some(g) => g.members.clone(),
            None => vec![name.to_string()],
        }
    }

    /// A balancer's `servers = [...]`, groups expanded, order kept.
    pub(super) fn balanced_servers(&self, r: &mut Reader<'a>) -> Result<Vec<String>, ConfigError> {
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
                if s == r.path().rsplit('.').next().unwrap_or_default() {
                    return Err(self
                        .src
                        .error(at, &p, format!("`{s}` is this balancer itself")));
                }
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
        Ok(servers)
    }

    /// Readers for each server: `[server.NAME]` over `default_server`.
    pub(super) fn per_server<T>(
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

    /// Resolves a reference to a database cluster of product `want`.
    pub(super) fn cluster_ref(
        &self,
        name: &str,
        at: &Pos,
        path: &str,
        want: &str,
    ) -> Result<Vec<String>, ConfigError> {
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
        Ok(self.members_of(name))
    }

    /// Records a warning about `key` of table `e` (read by `r`).
    pub(super) fn warn(&self, e: &Entry<'a>, r: &Reader, key: &str, risk: String) {
        let at = r.key_pos_of(key).unwrap_or(e.key_at);
        let (file, line) = (&self.src.get(at.src).name, self.src.line_of(at));
        let path = r.key_path(key);
        self.warnings
            .borrow_mut()
            .push(format!("{file}:{line}: {path}: {risk}"));
    }

    fn layered(&self, e: &Entry<'a>, preset: &'static Preset) -> Reader<'a> {
        let mut r = Reader::new(self.src, &e.path, &[e.item, self.preset_item(preset)]);
        r.allow(&["preset"]);
        r
    }

    // ----------------------------------------------------------- faults --

    fn fault(&self, f: &mut Reader<'a>) -> Result<FaultSpec, ConfigError> {
        let line = self.src.line_of(f.home());
        // The kernel's faults, then the operator actions products declare.
        let mut kinds: Vec<&'static str> = vec![
            "kill",
            "stop",
            "blackhole",
            "power-off",
            "link-down",
            "partition",
            "slow",
        ];
        for a in products::PRODUCTS.iter().flat_map(|p| p.actions) {
            if !kinds.contains(&a.name) {
                kinds.push(a.name);
            }
        }
        let kind_s = f.string_enum("kind", &kinds)?;
        let kind = match kind_s {
            "kill" => FaultKind::Kill,
            "stop" => FaultKind::Stop,
            "blackhole" => FaultKind::Blackhole,
            "power-off" => FaultKind::PowerOff,
            "link-down" => FaultKind::LinkDown {
                carries_traffic: true,
            },
            "partition" => FaultKind::Partition,
            "slow" => FaultKind::Slow,
            action => FaultKind::Action(
                products::PRODUCTS
                    .iter()
                    .flat_map(|p| p.actions)
                    .find(|a| a.name == action)
                    .expect("one of the listed kinds"),
            ),
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
                    FaultKind::Blackhole | FaultKind::PowerOff | FaultKind::LinkDown { .. } => {
                        self.resolve_hosts(name, at, &p)?
                    }
                    _ => self.resolve_nodes(
                        name,
                        at,
                        &p,
                        FAULTABLE,
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
        let interface = if let FaultKind::LinkDown { .. } = kind {
            let name = f.string_opt("interface")?;
            let name = name.unwrap_or(crate::net::HOST_INTERFACE);
            crate::net::IfName::new(name).ok_or_else(|| {
                f.error_at(
                    "interface",
                    format!(
                        "an interface name as Linux takes it (1 to 15 bytes, no '/', ':' or \
                         space): got {name:?}"
                    ),
                )
            })?
        } else {
            f.reject(
                "interface",
                "`interface` only applies to kind = \"link-down\"",
            )?;
            crate::net::IfName::host()
        };
        if let FaultKind::Action(action) = kind {
            for k in ["recover_at", "recover_after", "mtbf"] {
                f.reject(k, &format!("a {kind_s} has no recovery: it ends by itself"))?;
            }
            self.check_action_targets(f, action, &targets)?;
        }
        let candidate = self.candidate(f, kind, &targets)?;
        let timing = self.timing(f)?;
        f.finish()?;
        let fault = match kind {
            FaultKind::Kill => Fault::Kill { process },
            FaultKind::Stop => Fault::Stop { process },
            FaultKind::Blackhole => Fault::Blackhole,
            FaultKind::PowerOff => Fault::PowerOff,
            FaultKind::LinkDown { .. } => Fault::LinkDown { interface },
            FaultKind::Partition => Fault::Partition { groups, one_way },
            FaultKind::Slow => Fault::Slow { factor },
            FaultKind::Action(action) => Fault::Action { action, candidate },
        };
        Ok(FaultSpec {
            fault,
            targets,
            timing,
            line,
        })
    }

    /// The product of node `name`.
    pub(super) fn product_of(&self, name: &str) -> Option<&'static ProductInfo> {
        let table = self
            .reg
            .groups
            .iter()
            .find(|(_, g)| g.members.iter().any(|m| m == name))
            .map_or(name, |(t, _)| t.as_str());
        self.reg.products.get(table).map(|(p, _)| *p)
    }

    /// Names, with "or", of the products whose declarations `has` holds.
    fn products_with(has: impl Fn(&ProductInfo) -> bool) -> String {
        let names: Vec<String> = products::PRODUCTS
            .iter()
            .filter(|p| has(p))
            .map(|p| p.name.to_string())
            .collect();
        or_list(&names)
    }

    /// Every target of operator action `action` is a node whose product
    /// declares it.
    fn check_action_targets(
        &self,
        f: &mut Reader<'a>,
        action: &'static Action,
        targets: &[String],
    ) -> Result<(), ConfigError> {
        let declares = |p: &ProductInfo| p.actions.iter().any(|a| std::ptr::eq(*a, action));
        for t in targets {
            if !self.product_of(t).is_some_and(declares) {
                let key = if f.has("targets") {
                    "targets"
                } else {
                    "target"
                };
                return Err(f.error_at(
                    key,
                    format!(
                        "`{t}` is not a {} node: a {} applies to those",
                        Self::products_with(declares),
                        action.name
                    ),
                ));
            }
        }
        Ok(())
    }

    /// `process = "..."`: a kill or stop of one process of a node whose
    /// product runs several.
    fn fault_process(
        &self,
        f: &mut Reader<'a>,
        kind: FaultKind,
        targets: &[String],
    ) -> Result<Option<&'static str>, ConfigError> {
        if !f.has("process") {
            return Ok(None);
        }
        if !matches!(kind, FaultKind::Kill | FaultKind::Stop) {
            return Err(f.error_at("process", "`process` only applies to kill and stop"));
        }
        let all: Vec<&'static str> = products::PRODUCTS
            .iter()
            .flat_map(|p| p.processes.iter().copied())
            .collect();
        let name = f.string_enum("process", &all)?;
        let process = *all.iter().find(|p| **p == name).expect("listed");
        if let Some(t) = targets.iter().find(|t| {
            !self
                .product_of(t)
                .is_some_and(|p| p.processes.contains(&process))
        }) {
            return Err(f.error_at(
                "process",
                format!(
                    "`{t}` is not a {} node: only those run a separate `{process}` process",
                    Self::products_with(|p| p.processes.contains(&process))
                ),
            ));
        }
        Ok(Some(process))
    }

    /// An operator action's `candidate`: one of its targets.
    fn candidate(
        &self,
        f: &mut Reader<'a>,
        kind: FaultKind,
        targets: &[String],
    ) -> Result<Option<String>, ConfigError> {
        let FaultKind::Action(action) = kind else {
            f.reject(
                "candidate",
                "`candidate` only applies to operator actions such as kind = \"switchover\"",
            )?;
            return Ok(None);
        };
        if !action.candidate {
            f.reject(
                "candidate",
                &format!("a {} takes no `candidate`", action.name),
            )?;
            return Ok(None);
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

/// `"a"`, `"a" or "b"`, `"a", "b" or "c"`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}
