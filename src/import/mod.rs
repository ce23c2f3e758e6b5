//! `hasim import FILE...`: real configuration files in, an experiment file
//! out. Each format has its reader (`haproxy.rs`, `nginx.rs`, `patroni.rs`,
//! `galera.rs`, `etcd.rs`, `redis.rs` for redis.conf and sentinel.conf,
//! `keepalived.rs`, `proxysql.rs` with `libconfig.rs`) that turns a file into the parts of a topology —
//! balancers with their servers, database clusters — each value with the
//! file and line it came from; [`compose`] links the parts (nginx in front of
//! apps that call HAProxy, HAProxy in front of a database cluster) and
//! [`writer`] prints the annotated TOML. Every directive a reader does not
//! map is a [`Warning`] with its file and line: printed on stderr and listed
//! at the end of the experiment file, never dropped in silence.
//!
//! The result is checked by the experiment loader before anything is
//! written, so what `hasim import` writes, `hasim run` runs.

mod compose;
mod etcd;
mod galera;
mod haproxy;
mod keepalived;
mod libconfig;
mod nginx;
mod patroni;
mod proxysql;
mod redis;
mod time;
pub mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use writer::Table;

/// Why an import wrote nothing: bad input (exit 2) but for [`ImportError::Write`]
/// (exit 1); none leaves a file behind.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// A line of an input file is not what its format allows.
    #[error("{file}:{line}: {message}")]
    Parse {
        file: String,
        line: usize,
        message: String,
    },
    /// An input file cannot be read, or its format is not known.
    #[error("{file}: {message}")]
    File { file: String, message: String },
    /// A `--clients` or `--fault` value is malformed.
    #[error("{flag} {value:?}: {message}")]
    Flag {
        flag: &'static str,
        value: String,
        message: String,
    },
    /// The experiment built from the inputs does not load (e.g. a `--fault`
    /// naming a node the inputs do not have).
    #[error("the imported experiment does not load: {0}")]
    Invalid(String),
    /// The output file exists (and `--force` was not given), is an input,
    /// a folder or a symbolic link.
    #[error("{0}")]
    Output(String),
    /// Writing the output failed (disk full, no permission): not bad
    /// input, exit 1.
    #[error("{0}")]
    Write(String),
}

impl ImportError {
    /// Bad input (exit 2), as opposed to a failed write (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ImportError::Write(_))
    }
    pub(crate) fn parse(file: &str, line: usize, message: impl Into<String>) -> ImportError {
        ImportError::Parse {
            file: file.to_string(),
            line,
            message: message.into(),
        }
    }
}

/// Where a value or a directive came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

impl Origin {
    pub fn new(file: &str, line: usize) -> Origin {
        Origin {
            file: file.to_string(),
            line,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A directive that hasim does not model (or models only in part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub at: Origin,
    pub text: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.text)
    }
}

/// The product of a balancer found in the inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalancerKind {
    Haproxy,
    Nginx,
}

impl BalancerKind {
    fn preset(self) -> &'static str {
        match self {
            BalancerKind::Haproxy => "haproxy-2.6",
            BalancerKind::Nginx => "nginx-1.22",
        }
    }
}

/// A balancer: an HAProxy backend with its frontend, or an nginx upstream
/// with the proxy settings of the locations that pass to it.
#[derive(Clone, Debug)]
pub struct Balancer {
    pub kind: BalancerKind,
    /// The name the configuration gives it (backend, upstream).
    pub name: String,
    pub at: Origin,
    /// Keys of `[balancers.NAME]`.
    pub keys: Table,
    /// Keys of `[balancers.NAME.default_server]`.
    pub default_server: Table,
    pub servers: Vec<Backend>,
}

/// One server line of a balancer.
#[derive(Clone, Debug)]
pub struct Backend {
    /// A node name (letters, digits, `-`, `_`).
    pub name: String,
    /// As written: `mysql-slave1:3306`.
    pub address: String,
    pub port: Option<u16>,
    /// The health check's own port (HAProxy `port`), if any.
    pub check_port: Option<u16>,
    pub at: Origin,
    /// Keys of `[balancers.NAME.server.SERVER]`.
    pub keys: Table,
}

/// A database cluster: `[databases.NAME]` and its sub-tables.
#[derive(Clone, Debug)]
pub struct Cluster {
    /// `galera`, `patroni`, `etcd`.
    pub kind: &'static str,
    pub at: Origin,
    /// Members, with the address each configuration names (for linking a
    /// balancer's servers to them), in order.
    pub members: Vec<String>,
    /// The count's source.
    pub count_note: String,
    /// The ports clients reach it on (3306, 5432, 2379) and the Patroni REST
    /// API's (8008).
    pub ports: Vec<u16>,
    pub keys: Table,
    /// `evs`, `pc`, `gcs`, `gcache`.
    pub subtables: Vec<Table>,
}

/// Everything read from the inputs.
#[derive(Clone, Debug, Default)]
pub struct Found {
    pub balancers: Vec<Balancer>,
    pub clusters: Vec<Cluster>,
    pub warnings: Vec<Warning>,
    /// keepalived's VIPs, and the keepalived.conf files (one per host).
    pub vips: Vec<keepalived::Vip>,
    pub vip_hosts: Vec<Origin>,
    /// ProxySQL instances (one per proxysql.cnf).
    pub proxies: Vec<proxysql::Proxy>,
}

impl Found {
    /// Records a warning; a quoted directive that holds a secret (`stats
    /// auth admin:pw`, `user x password y`) is cut after its keyword.
    pub(crate) fn warn(&mut self, at: Origin, text: impl Into<String>) {
        self.warnings.push(Warning {
            at,
            text: redact(&text.into()),
        });
    }
}

/// What `hasim import` was given besides the files.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--clients`: the workload (see [`compose::clients_flag`]).
    pub clients: Option<String>,
    /// `--fault`, repeatable: `KIND:TARGET@AT[+RECOVER]`.
    pub faults: Vec<String>,
}

/// The experiment and the warnings.
#[derive(Clone, Debug)]
pub struct Imported {
    pub toml: String,
    pub warnings: Vec<Warning>,
}

/// The formats `hasim import` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Haproxy,
    Nginx,
    Patroni,
    Galera,
    Etcd,
    Redis,
    Sentinel,
    Keepalived,
    Proxysql,
}

/// Tells the format by the file's name, then by its content.
pub fn detect(path: &Path, text: &str) -> Option<Format> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.contains("haproxy") {
        return Some(Format::Haproxy);
    }
    if name.contains("nginx") {
        return Some(Format::Nginx);
    }
    if name.contains("patroni") {
        return Some(Format::Patroni);
    }
    if name.contains("keepalived") {
        return Some(Format::Keepalived);
    }
    if name.contains("proxysql") {
        return Some(Format::Proxysql);
    }
    if name.contains("sentinel") || text.contains("sentinel monitor ") {
        return Some(Format::Sentinel);
    }
    if name.contains("redis") {
        return Some(Format::Redis);
    }
    if text.contains("wsrep_") || text.contains("wsrep-") {
        return Some(Format::Galera);
    }
    if text.contains("--initial-cluster")
        || text.contains("--listen-client-urls")
        || text.contains("--election-timeout")
        || text.contains("--heartbeat-interval")
    {
        return Some(Format::Etcd);
    }
    if text.contains("vrrp_instance") {
        return Some(Format::Keepalived);
    }
    if text.contains("mysql_servers")
        && (text.contains("mysql_variables") || text.contains("hostgroup"))
    {
        return Some(Format::Proxysql);
    }
    let lines = || {
        text.lines()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    };
    if lines().any(|l| {
        ["frontend ", "backend ", "listen ", "defaults"]
            .iter()
            .any(|k| l.starts_with(k))
            || l == "global"
    }) {
        return Some(Format::Haproxy);
    }
    if lines().any(|l| l.starts_with("upstream ") || l.starts_with("http {") || l == "http") {
        return Some(Format::Nginx);
    }
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    // Top-level keys only: unindented.
    let top = |keys: &[&str]| text.lines().any(|l| keys.iter().any(|k| l.starts_with(k)));
    if top(&["scope:", "bootstrap:", "loop_wait:", "restapi:"])
        || (yaml && top(&["postgresql:", "pg_hba:", "etcd:", "etcd3:"]))
    {
        return Some(Format::Patroni);
    }
    let starts = |keys: &[&str]| lines().any(|l| keys.iter().any(|k| l.starts_with(k)));
    if starts(&[
        "replicaof ",
        "slaveof ",
        "appendonly ",
        "maxmemory ",
        "repl-timeout ",
    ]) {
        return Some(Format::Redis);
    }
    None
}

/// Input files are configuration files: small.
const MAX_INPUT: u64 = 16 << 20;

pub(crate) fn read(path: &Path) -> Result<String, ImportError> {
    crate::config::read_input(path, MAX_INPUT).map_err(|e| ImportError::File {
        file: path.display().to_string(),
        message: format!("cannot read it: {e}"),
    })
}

/// Reads every file and builds the experiment (checked by the loader).
pub fn import(files: &[PathBuf], opts: &Options) -> Result<Imported, ImportError> {
    let mut found = Found::default();
    let mut patroni = Vec::new();
    let mut galera = Vec::new();
    let mut etcd_flags = Vec::new();
    let mut redis_files = Vec::new();
    let mut sentinels = Vec::new();
    let mut ka_hosts = Vec::new();
    for path in files {
        let text = read(path)?;
        let file = path.display().to_string();
        let format = detect(path, &text).ok_or_else(|| ImportError::File {
            file: file.clone(),
            message: "cannot tell its format: hasim imports haproxy.cfg, nginx.conf, \
                      patroni.yml, a Galera my.cnf (wsrep_* settings), etcd's flags \
                      (a systemd unit or a file of --flags), redis.conf, sentinel.conf, \
                      keepalived.conf and proxysql.cnf; name the file after its product \
                      (e.g. haproxy.cfg)"
                .into(),
        })?;
        match format {
            Format::Haproxy => haproxy::import(&file, &text, &mut found)?,
            Format::Nginx => nginx::import(path, &text, &mut found)?,
            Format::Patroni => patroni.push(patroni::read(&file, &text, &mut found)?),
            Format::Galera => galera.push(galera::read(&file, &text, &mut found)?),
            Format::Etcd => etcd_flags.push(etcd::read(&file, &text, &mut found)?),
            Format::Redis => redis_files.push(redis::read_redis(&file, &text, &mut found)?),
            Format::Sentinel => sentinels.push(redis::read_sentinel(&file, &text, &mut found)?),
            Format::Keepalived => ka_hosts.push(keepalived::read(&file, &text, &mut found)?),
            Format::Proxysql => proxysql::read(&file, &text, &mut found)?,
        }
    }
    let etcd = etcd::cluster(etcd_flags, &patroni, &mut found);
    match galera::cluster(galera, &mut found) {
        Some(c) => found.clusters.push(c),
        None => {
            // ProxySQL's backends without their my.cnf: placeholders.
            if let Some(p) = found.proxies.first() {
                let n = p.servers.len().max(3);
                let at = p.servers_at.clone().unwrap_or_else(|| p.at.clone());
                let mut members: Vec<String> =
                    p.servers.iter().map(|s| s.address.clone()).collect();
                members.extend((members.len() + 1..=n).map(|i| format!("node {i}")));
                found.clusters.push(Cluster {
                    kind: "galera",
                    at: at.clone(),
                    members,
                    count_note: format!(
                        "PLACEHOLDER: ProxySQL's mysql_servers ({at}); give each node's my.cnf"
                    ),
                    ports: vec![3306],
                    keys: Table::new(""),
                    subtables: Vec::new(),
                });
            }
        }
    }
    if let Some(c) = etcd {
        found.clusters.push(c);
    }
    if let Some(c) = patroni::cluster(patroni, &mut found) {
        found.clusters.push(c);
    }
    let sentinel_at = sentinels.first().map(|s| s.at.clone());
    match redis::cluster("redis", redis_files, &mut found) {
        Some(c) => found.clusters.push(c),
        None => {
            // Sentinels monitor a master and its replicas: placeholders.
            if let Some(at) = sentinel_at {
                found.clusters.push(Cluster {
                    kind: "redis",
                    at,
                    members: (1..=3).map(|i| format!("member {i}")).collect(),
                    count_note: "PLACEHOLDER: the master and replicas sentinel.conf monitors (give their redis.conf)".into(),
                    ports: vec![6379],
                    keys: Table::new(""),
                    subtables: Vec::new(),
                });
            }
        }
    }
    if let Some(c) = redis::cluster("sentinel", sentinels, &mut found) {
        found.clusters.push(c);
    }
    found.vips = keepalived::vips(&ka_hosts, &mut found);
    found.vip_hosts = ka_hosts.iter().map(|h| h.at.clone()).collect();
    let toml = compose::experiment(&mut found, files, opts)?;
    if let Err(e) = crate::config::parse(&toml, "imported.toml") {
        return Err(ImportError::Invalid(explain(&e, &toml, files)));
    }
    Ok(Imported {
        toml,
        warnings: found.warnings,
    })
}

/// The loader's refusal of an imported experiment, in terms of the inputs:
/// the file:line the offending value came from (its comment), else the
/// input files (a preset's default that the inputs' values contradict).
fn explain(e: &crate::config::ConfigError, toml: &str, files: &[PathBuf]) -> String {
    let from = (e.file == "imported.toml")
        .then(|| toml.lines().nth(e.line.saturating_sub(1)))
        .flatten()
        .and_then(|l| l.split_once("  # "))
        .map(|(_, note)| note.to_string());
    let inputs: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    match from {
        Some(note) => format!("{note}: hasim refuses it: {}: {}", e.key, e.message),
        None => format!(
            "{}: hasim refuses the values they give with its defaults: {}: {} (set it in the input)",
            inputs.join(", "),
            e.key,
            e.message
        ),
    }
}

/// Writes `text` to `out` through a temporary file beside it and a rename,
/// so a reader never sees half a file. An existing file is replaced only with
/// `force`; an input file, a folder or a symbolic link never.
pub fn write_output(
    out: &Path,
    text: &str,
    inputs: &[PathBuf],
    force: bool,
) -> Result<(), ImportError> {
    let shown = out.display();
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    };
    if inputs.iter().any(|i| same(i, out)) {
        return Err(ImportError::Output(format!(
            "refusing to write {shown}: it is one of the input files"
        )));
    }
    match std::fs::symlink_metadata(out) {
        Ok(m) if m.is_dir() => {
            return Err(ImportError::Output(format!(
                "refusing to write {shown}: it is a folder; give a file name such as {shown}/imported.toml"
            )));
        }
        Ok(m) if m.file_type().is_symlink() => {
            return Err(ImportError::Output(format!(
                "refusing to write {shown}: it is a symbolic link"
            )));
        }
        Ok(_) if !force => {
            return Err(ImportError::Output(format!(
                "refusing to overwrite {shown}: it exists (pass --force to replace it)"
            )));
        }
        _ => {}
    }
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ImportError::Output(format!("{shown}: not a file name")))?;
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let fail = |e: std::io::Error| ImportError::Write(format!("cannot write {shown}: {e}"));
    let result = std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, out));
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    Ok(())
}

/// Words after one that names a secret are not repeated in a warning.
fn redact(text: &str) -> String {
    const SECRET: &[&str] = &["pass", "secret", "token", "auth"];
    let mut out = String::new();
    for (i, part) in text.split('`').enumerate() {
        if i > 0 {
            out.push('`');
        }
        let words: Vec<&str> = part.split(' ').collect();
        let cut = (i % 2 == 1)
            .then(|| {
                words.iter().position(|w| {
                    let w = w.to_ascii_lowercase();
                    SECRET.iter().any(|s| w.contains(s))
                })
            })
            .flatten();
        match cut {
            Some(k) if k + 1 < words.len() => {
                out.push_str(&words[..=k].join(" "));
                out.push_str(" …");
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// A node name from a configuration's name for a server: letters, digits,
/// `-` and `_`; anything else becomes `-`.
pub(crate) fn node_name(raw: &str) -> String {
    let s: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "server".into() } else { s }
}

/// `host:port` -> port; `[::1]:80` too.
pub(crate) fn port_of(addr: &str) -> Option<u16> {
    let (_, p) = addr.rsplit_once(':')?;
    p.parse().ok()
}

/// `host:port` -> host.
pub(crate) fn host_of(addr: &str) -> &str {
    let a = addr.strip_prefix('[').unwrap_or(addr);
    match a.rsplit_once(':') {
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => h,
        Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => h.trim_end_matches(']'),
        _ => a.trim_end_matches(']'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_name_then_content() {
        let d = |n: &str, t: &str| detect(Path::new(n), t);
        assert_eq!(d("x/haproxy.cfg", ""), Some(Format::Haproxy));
        assert_eq!(d("lb.cfg", "global\n  maxconn 1\n"), Some(Format::Haproxy));
        assert_eq!(d("site.conf", "upstream a {\n}\n"), Some(Format::Nginx));
        assert_eq!(d("my.cnf", "[mysqld]\nwsrep_on=ON\n"), Some(Format::Galera));
        assert_eq!(d("pg.yml", "scope: x\n"), Some(Format::Patroni));
        assert_eq!(
            d("postgres.yml", "...\npg_hba:\n- local all\n"),
            Some(Format::Patroni)
        );
        assert_eq!(d("ci.yml", "jobs:\n  pg_hba:\n"), None);
        assert_eq!(
            d("s1.service", "--listen-client-urls http://a:2379"),
            Some(Format::Etcd)
        );
        assert_eq!(d("notes.txt", "hello"), None);
        assert_eq!(
            d("6379.conf", "port 6379\nreplicaof 10.0.0.1 6379\n"),
            Some(Format::Redis)
        );
        assert_eq!(
            d("s.conf", "sentinel monitor m 10.0.0.1 6379 2\n"),
            Some(Format::Sentinel)
        );
        assert_eq!(d("sentinel.conf", ""), Some(Format::Sentinel));
        assert_eq!(d("lb1/keepalived.conf", ""), Some(Format::Keepalived));
        assert_eq!(
            d("vrrp.conf", "vrrp_instance VI_1 {\n}\n"),
            Some(Format::Keepalived)
        );
        assert_eq!(d("proxysql.cnf", ""), Some(Format::Proxysql));
        assert_eq!(
            d(
                "p.cnf",
                "mysql_servers = (\n { address=\"a\", hostgroup=1 }\n)\n"
            ),
            Some(Format::Proxysql)
        );
    }

    #[test]
    fn secrets_are_not_repeated_in_warnings() {
        assert_eq!(
            redact("`stats auth admin:s3cret`: not modelled"),
            "`stats auth …`: not modelled"
        );
        assert_eq!(
            redact("`user bob password $5$abc`: not modelled"),
            "`user bob password …`: not modelled"
        );
        assert_eq!(
            redact("`log global`: not modelled"),
            "`log global`: not modelled"
        );
    }

    #[test]
    fn names_and_addresses() {
        assert_eq!(node_name("mysql-slave1"), "mysql-slave1");
        assert_eq!(node_name("db.example:1"), "db-example-1");
        assert_eq!(port_of("127.0.0.1:9081"), Some(9081));
        assert_eq!(host_of("127.0.0.1:9081"), "127.0.0.1");
        assert_eq!(host_of("[::1]:80"), "::1");
        assert_eq!(host_of("db1"), "db1");
    }
}
