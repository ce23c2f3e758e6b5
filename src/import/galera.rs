//! A Galera node's my.cnf (MariaDB / Percona XtraDB Cluster): the members
//! from `wsrep_cluster_address`, `wsrep_provider_options` split into its
//! `evs.*`, `pc.*`, `gcs.*` and `gcache.*` keys (hasim's `[evs]`, `[pc]`,
//! `[gcs]`, `[gcache]` tables), `wsrep_sst_method`, `wsrep_dirty_reads`,
//! `max_connections`. No maintained Rust crate reads MySQL's option files
//! (`!include`, bare flags, `-`/`_` alike), so this is a small INI reader.

use super::time;
use super::writer::{Table, Val};
use super::{Cluster, Found, ImportError, Origin};
use std::path::Path;

/// What one node's my.cnf says.
#[derive(Clone, Debug)]
pub struct Node {
    pub at: Origin,
    /// gcomm:// addresses, and where.
    pub members: Option<(Vec<String>, Origin)>,
    pub keys: Table,
    /// `evs`, `pc`, `gcs`, `gcache`.
    pub subs: Vec<Table>,
    pub port: Option<u16>,
}

impl Node {
    fn sub(&mut self, name: &str) -> &mut Table {
        if let Some(i) = self.subs.iter().position(|t| t.path == name) {
            return &mut self.subs[i];
        }
        self.subs.push(Table::new(name));
        self.subs.last_mut().expect("pushed")
    }
}

/// Sections the server reads (the others are for clients and tools).
const SERVER: &[&str] = &[
    "mysqld", "galera", "mariadb", "mariadbd", "server", "wsrep", "sst",
];

pub fn read(file: &str, text: &str, found: &mut Found) -> Result<Node, ImportError> {
    let mut node = Node {
        at: Origin::new(file, 1),
        members: None,
        keys: Table::new(""),
        subs: Vec::new(),
        port: None,
    };
    read_into(Path::new(file), file, text, found, &mut node, 0)?;
    Ok(node)
}

fn read_into(
    path: &Path,
    file: &str,
    text: &str,
    found: &mut Found,
    node: &mut Node,
    depth: usize,
) -> Result<(), ImportError> {
    let mut section: Option<String> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let at = Origin::new(file, line);
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if let Some(inc) = l.strip_prefix("!include ") {
            let p = path.parent().unwrap_or(Path::new(".")).join(inc.trim());
            match super::read(&p) {
                Ok(t) if depth < 16 => {
                    let name = p.display().to_string();
                    read_into(&p, &name, &t, found, node, depth + 1)?;
                }
                _ => found.warn(at, format!("`{l}`: cannot read it; nothing from it is imported (give it to hasim import too)")),
            }
            continue;
        }
        if l.starts_with("!includedir") {
            found.warn(
                at,
                format!("`{l}`: not followed; give the files in it to hasim import"),
            );
            continue;
        }
        if let Some(rest) = l.strip_prefix('[') {
            let name = rest.strip_suffix(']').ok_or_else(|| {
                ImportError::parse(
                    file,
                    line,
                    format!("`{l}`: expected a section header such as [mysqld]"),
                )
            })?;
            section = Some(name.trim().to_string());
            continue;
        }
        let Some(sec) = &section else {
            return Err(ImportError::parse(
                file,
                line,
                format!("`{l}` is outside a section: expected a header such as [mysqld] first"),
            ));
        };
        let (key, value) = match l.split_once('=') {
            Some((k, v)) => (k.trim(), unquote(strip_comment(v.trim()))),
            None => (l, String::new()),
        };
        let key = key.replace('-', "_");
        let is_server = SERVER.contains(&sec.as_str())
            || sec.starts_with("mysqld-")
            || sec.starts_with("mariadb-");
        if !is_server {
            found.warn(
                at,
                format!("[{sec}] `{key}`: not modelled (a client or tool setting)"),
            );
            continue;
        }
        let note = format!("{at}: {key}");
        let err = |what: &str| {
            ImportError::parse(
                file,
                line,
                format!("`{key}`: expected {what}, found `{value}`"),
            )
        };
        match key.as_str() {
            "wsrep_cluster_address" => {
                let list = value
                    .strip_prefix("gcomm://")
                    .ok_or_else(|| err("gcomm://host1,host2,..."))?;
                let list = list.split('?').next().unwrap_or("");
                let members: Vec<String> = list
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect();
                if members.is_empty() {
                    found.warn(at.clone(), "`wsrep_cluster_address = gcomm://` (bootstrapping a new cluster) names no member");
                } else {
                    node.members = Some((members, at));
                }
            }
            "wsrep_provider_options" => provider_options(file, line, &value, node, found)?,
            "wsrep_sst_method" => {
                let m = if value == "xtrabackup-v2" {
                    "mariabackup"
                } else {
                    value.as_str()
                };
                if ["rsync", "mariabackup", "mysqldump", "clone"].contains(&m) {
                    let n = if m == value {
                        note
                    } else {
                        format!(
                            "{note} = {value} (a copy of the data while the donor runs, like mariabackup)"
                        )
                    };
                    node.keys.set("wsrep_sst_method", Val::str(m, n));
                } else {
                    found.warn(at, format!("`wsrep_sst_method = {value}`: not modelled"));
                }
            }
            "wsrep_dirty_reads" => {
                let b = bool_of(&value).ok_or_else(|| err("ON or OFF"))?;
                node.keys
                    .set("wsrep_dirty_reads", Val::new(b.to_string(), note));
            }
            "max_connections" => {
                let n: u32 = value.parse().map_err(|_| err("a number"))?;
                node.keys
                    .set("max_connections", Val::new(n.to_string(), note));
            }
            "port" => {
                node.port = value.parse().ok();
                found.warn(at, format!("`port = {value}`: addresses are not modelled (the port links HAProxy to this cluster)"));
            }
            _ => found.warn(at, format!("`{key}`: not modelled")),
        }
    }
    Ok(())
}

fn strip_comment(v: &str) -> &str {
    if v.starts_with('"') || v.starts_with('\'') {
        return v;
    }
    match v.find(" #") {
        Some(i) => v[..i].trim_end(),
        None => v,
    }
}

fn unquote(v: &str) -> String {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|s| s.strip_suffix(q)) {
            return inner.to_string();
        }
    }
    v.to_string()
}

fn bool_of(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "" | "1" | "on" | "true" | "yes" => Some(true),
        "0" | "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// `evs.suspect_timeout=PT5S; pc.weight=2; gcache.size=1G`.
fn provider_options(
    file: &str,
    line: usize,
    value: &str,
    node: &mut Node,
    found: &mut Found,
) -> Result<(), ImportError> {
    let at = Origin::new(file, line);
    for opt in value.split(';').map(str::trim).filter(|o| !o.is_empty()) {
        let (k, v) = opt.split_once('=').ok_or_else(|| {
            ImportError::parse(
                file,
                line,
                format!("wsrep_provider_options: `{opt}`: expected KEY=VALUE"),
            )
        })?;
        let (k, v) = (k.trim(), v.trim());
        let note = format!("{at}: {k}={v}");
        let err = |what: &str| {
            ImportError::parse(
                file,
                line,
                format!("wsrep_provider_options: `{k}`: expected {what}, found `{v}`"),
            )
        };
        let (sub, key) = k.split_once('.').unwrap_or(("", k));
        match (sub, key) {
            (
                "evs",
                "keepalive_period"
                | "inactive_check_period"
                | "suspect_timeout"
                | "inactive_timeout"
                | "install_timeout"
                | "join_retrans_period",
            ) => {
                let d = time::iso8601(v).map_err(|m| {
                    ImportError::parse(file, line, format!("wsrep_provider_options: `{k}`: {m}"))
                })?;
                node.sub("evs").set(key, Val::new(time::toml(d), note));
            }
            ("evs", "max_install_timeouts") | ("pc", "weight") | ("gcs", "fc_limit") => {
                let n: u32 = v.parse().map_err(|_| err("a whole number"))?;
                node.sub(sub).set(key, Val::new(n.to_string(), note));
            }
            ("pc", "ignore_quorum" | "ignore_sb" | "recovery")
            | ("gcs", "fc_single_primary" | "fc_master_slave") => {
                let b = bool_of(v)
                    .filter(|_| !v.is_empty())
                    .ok_or_else(|| err("true or false"))?;
                let key = if key == "fc_master_slave" {
                    "fc_single_primary"
                } else {
                    key
                };
                node.sub(sub).set(key, Val::new(b.to_string(), note));
            }
            ("gcs", "fc_factor") => {
                let f: f64 = v
                    .parse()
                    .ok()
                    .filter(|f: &f64| (0.0..=1.0).contains(f))
                    .ok_or_else(|| err("a number from 0 to 1"))?;
                node.sub("gcs").set(key, Val::new(f.to_string(), note));
            }
            ("gcache", "size") => {
                let ok = v
                    .trim_end_matches(['K', 'k', 'M', 'm', 'G', 'g', 'T', 't'])
                    .parse::<f64>()
                    .is_ok_and(|n| n > 0.0);
                if !ok {
                    return Err(err("a size such as 128M"));
                }
                node.sub("gcache").set("size", Val::str(v, note));
            }
            _ => found.warn(
                at.clone(),
                format!("wsrep_provider_options `{k}`: not modelled"),
            ),
        }
    }
    Ok(())
}

/// The nodes' files as one cluster: the members of the first
/// `wsrep_cluster_address`; the settings of the first file (another node's
/// differing setting is reported), but `pc.weight` per member.
pub fn cluster(nodes: Vec<Node>, found: &mut Found) -> Option<Cluster> {
    let first = nodes.first()?.clone();
    let (members, count_note) = match nodes.iter().find_map(|n| n.members.clone()) {
        Some((m, at)) => {
            let note = format!("{at}: wsrep_cluster_address ({})", m.join(", "));
            (m, note)
        }
        None => {
            let n = nodes.len().max(3);
            found.warn(
                first.at.clone(),
                format!("no wsrep_cluster_address: {n} members assumed (PLACEHOLDER)"),
            );
            (
                (1..=n).map(|i| format!("node {i}")).collect(),
                "PLACEHOLDER: no wsrep_cluster_address".into(),
            )
        }
    };
    let mut keys = first.keys.clone();
    keys.path.clear();
    let mut subs = first.subs.clone();
    for n in &nodes[1..] {
        for (k, v) in &n.keys.keys {
            if keys.get(k).is_none_or(|w| w.toml != v.toml) {
                found.warn(n.at.clone(), format!("`{k} = {}` ({}) differs from the first node's file: the first file's is imported", v.toml, v.note));
            }
        }
        for t in &n.subs {
            for (k, v) in &t.keys {
                if t.path == "pc" && k == "weight" {
                    continue;
                }
                let same = subs
                    .iter()
                    .find(|s| s.path == t.path)
                    .and_then(|s| s.get(k))
                    .is_some_and(|w| w.toml == v.toml);
                if !same {
                    found.warn(n.at.clone(), format!("`{}.{k} = {}` ({}) differs from the first node's file: the first file's is imported", t.path, v.toml, v.note));
                }
            }
        }
    }
    // pc.weight per node, when the nodes' files differ.
    let weights: Vec<Option<Val>> = nodes
        .iter()
        .map(|n| {
            n.subs
                .iter()
                .find(|s| s.path == "pc")
                .and_then(|s| s.get("weight"))
                .cloned()
        })
        .collect();
    if nodes.len() == members.len()
        && weights
            .iter()
            .any(|w| w.as_ref().map(|v| &v.toml) != weights[0].as_ref().map(|v| &v.toml))
    {
        let list: Vec<String> = weights
            .iter()
            .map(|w| w.as_ref().map_or("1".into(), |v| v.toml.clone()))
            .collect();
        let notes: Vec<String> = weights
            .iter()
            .filter_map(|w| w.as_ref().map(|v| v.note.clone()))
            .collect();
        if let Some(pc) = subs.iter_mut().find(|s| s.path == "pc") {
            pc.keys.retain(|(k, _)| k != "weight");
        }
        match subs.iter_mut().find(|s| s.path == "pc") {
            Some(pc) => pc.set(
                "weights",
                Val::new(
                    format!("[{}]", list.join(", ")),
                    format!("pc.weight per node: {}", notes.join(", ")),
                ),
            ),
            None => {
                let mut pc = Table::new("pc");
                pc.set(
                    "weights",
                    Val::new(
                        format!("[{}]", list.join(", ")),
                        format!("pc.weight per node: {}", notes.join(", ")),
                    ),
                );
                subs.push(pc);
            }
        }
    }
    let mut ports: Vec<u16> = nodes.iter().filter_map(|n| n.port).collect();
    ports.extend([3306, 4567, 9200]);
    Some(Cluster {
        kind: "galera",
        at: first.at.clone(),
        members,
        count_note,
        ports,
        keys,
        subtables: subs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CNF: &str = "[client]\nsocket=/var/run/mysqld/mysqld.sock\n\n[mysqld]\nbinlog_format=ROW\nmax_connections = 500\n\
[galera]\nwsrep_on=ON\nwsrep_provider=/usr/lib/galera/libgalera_smm.so\nwsrep_cluster_address=\"gcomm://10.0.0.1,10.0.0.2,10.0.0.3\"\n\
wsrep_provider_options=\"evs.suspect_timeout=PT10S; evs.inactive_timeout=PT30S; evs.keepalive_period=PT1.5S; pc.weight=2; pc.ignore_sb=false; gcs.fc_limit=64; gcs.fc_factor=0.8; gcache.size=1G; ist.recv_addr=10.0.0.1\"\n\
wsrep-sst-method = mariabackup\nwsrep_dirty_reads=ON\n";

    #[test]
    fn members_and_provider_options_with_lines() {
        let mut f = Found::default();
        let n = read("my.cnf", CNF, &mut f).unwrap();
        let c = cluster(vec![n], &mut f).unwrap();
        assert_eq!(c.members.len(), 3);
        assert!(c.count_note.starts_with("my.cnf:10: wsrep_cluster_address"));
        let sub = |s: &str, k: &str| {
            c.subtables
                .iter()
                .find(|t| t.path == s)
                .unwrap()
                .get(k)
                .unwrap()
                .clone()
        };
        assert_eq!(
            sub("evs", "suspect_timeout"),
            Val::str("10s", "my.cnf:11: evs.suspect_timeout=PT10S")
        );
        assert_eq!(sub("evs", "keepalive_period").toml, "\"1.500s\"");
        assert_eq!(sub("pc", "weight").toml, "2");
        assert_eq!(sub("pc", "ignore_sb").toml, "false");
        assert_eq!(sub("gcs", "fc_limit").toml, "64");
        assert_eq!(sub("gcs", "fc_factor").toml, "0.8");
        assert_eq!(sub("gcache", "size").toml, "\"1G\"");
        assert_eq!(c.keys.get("max_connections").unwrap().toml, "500");
        assert_eq!(
            c.keys.get("wsrep_sst_method").unwrap().toml,
            "\"mariabackup\""
        );
        assert_eq!(c.keys.get("wsrep_dirty_reads").unwrap().toml, "true");
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "my.cnf:2: [client] `socket`",
            "my.cnf:5: `binlog_format`: not modelled",
            "my.cnf:9: `wsrep_provider`: not modelled",
            "my.cnf:11: wsrep_provider_options `ist.recv_addr`: not modelled",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
    }

    #[test]
    fn weights_per_node_when_the_files_differ() {
        let mut f = Found::default();
        let node = |w: u32| {
            let t = format!(
                "[mysqld]\nwsrep_cluster_address=gcomm://a,b,c\nwsrep_provider_options=\"pc.weight={w}\"\n"
            );
            read("n.cnf", &t, &mut Found::default()).unwrap()
        };
        let c = cluster(vec![node(1), node(1), node(3)], &mut f).unwrap();
        let pc = c.subtables.iter().find(|t| t.path == "pc").unwrap();
        assert_eq!(pc.get("weights").unwrap().toml, "[1, 1, 3]");
        assert!(pc.get("weight").is_none());
    }

    #[test]
    fn bad_lines_name_the_line() {
        let e = |t: &str| {
            read("my.cnf", t, &mut Found::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("wsrep_on=ON\n"),
            "my.cnf:1: `wsrep_on=ON` is outside a section: expected a header such as [mysqld] first"
        );
        assert_eq!(
            e("[mysqld]\nwsrep_provider_options=\"evs.suspect_timeout=5s\"\n"),
            "my.cnf:2: wsrep_provider_options: `evs.suspect_timeout`: expected an ISO 8601 duration such as PT5S, found `5s`"
        );
        assert!(e("[mysqld]\nwsrep_cluster_address=10.0.0.1\n").contains("expected gcomm://"));
        assert!(e("[mysqld\n").contains("expected a section header"));
    }
}
