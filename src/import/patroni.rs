//! patroni.yml (Patroni 3.0): one file per member. The DCS settings
//! (`bootstrap.dcs.ttl`, `loop_wait`, `retry_timeout`,
//! `maximum_lag_on_failover`, `synchronous_mode`, ...), the PostgreSQL
//! parameters hasim models, `tags.nofailover`, `watchdog` and the etcd hosts.
//! YAML is read with saphyr (pure Rust, maintained, YAML 1.2), whose
//! `MarkedYaml` gives every node its line, so each value names its line.

use super::time;
use super::writer::{Table, Val};
use super::{Cluster, Found, ImportError, Origin, port_of};
use crate::engine::Dur;
use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, YamlData};

/// What one member's patroni.yml says.
#[derive(Clone, Debug)]
pub struct Member {
    pub at: Origin,
    pub keys: Table,
    pub nofailover: Option<Origin>,
    /// The etcd hosts (`etcd.hosts`, `etcd3.host`, ...) and where.
    pub etcd_hosts: Option<(Vec<String>, Origin)>,
    pub ports: Vec<u16>,
}

/// Parses YAML into its first document, with lines.
pub(crate) fn load<'a>(file: &str, text: &'a str) -> Result<Option<MarkedYaml<'a>>, ImportError> {
    let docs = MarkedYaml::load_from_str(text).map_err(|e| {
        ImportError::parse(
            file,
            e.marker().line(),
            format!(
                "not valid YAML: {} (column {})",
                e.info(),
                e.marker().col() + 1
            ),
        )
    })?;
    Ok(docs.into_iter().next())
}

fn scalar_text(n: &MarkedYaml) -> Option<String> {
    match &n.data {
        YamlData::Value(Scalar::String(s)) => Some(s.to_string()),
        YamlData::Value(Scalar::Integer(i)) => Some(i.to_string()),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.to_string()),
        YamlData::Value(Scalar::Boolean(b)) => Some(b.to_string()),
        YamlData::Representation(s, _, _) => Some(s.to_string()),
        _ => None,
    }
}

pub(crate) fn entries<'a, 'b>(
    n: &'b MarkedYaml<'a>,
) -> Option<Vec<(String, usize, &'b MarkedYaml<'a>)>> {
    match &n.data {
        YamlData::Mapping(m) => Some(
            m.iter()
                .map(|(k, v)| (scalar_text(k).unwrap_or_default(), k.span.start.line(), v))
                .collect(),
        ),
        _ => None,
    }
}

pub fn read(file: &str, text: &str, found: &mut Found) -> Result<Member, ImportError> {
    let mut m = Member {
        at: Origin::new(file, 1),
        keys: Table::new(""),
        nofailover: None,
        etcd_hosts: None,
        ports: Vec::new(),
    };
    let Some(doc) = load(file, text)? else {
        return Err(ImportError::parse(
            file,
            1,
            "the file is empty: expected Patroni's settings",
        ));
    };
    let Some(top) = entries(&doc) else {
        return Err(ImportError::parse(
            file,
            doc.span.start.line(),
            "expected a mapping of Patroni's settings (scope, bootstrap, postgresql, ...)",
        ));
    };
    walk(file, "", &top, &mut m, found)?;
    Ok(m)
}

fn walk(
    file: &str,
    prefix: &str,
    items: &[(String, usize, &MarkedYaml)],
    m: &mut Member,
    found: &mut Found,
) -> Result<(), ImportError> {
    for (k, line, v) in items {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        let at = Origin::new(file, *line);
        let text = scalar_text(v);
        let note = format!("{at}: {path}");
        let err = |what: &str| {
            ImportError::parse(
                file,
                *line,
                format!(
                    "`{path}`: expected {what}, found {}",
                    text.as_deref().unwrap_or("a block")
                ),
            )
        };
        let secs = |t: &Option<String>| t.as_deref().and_then(|s| s.parse::<u64>().ok());
        // The dynamic settings live under bootstrap.dcs (and may be given at
        // the top level too).
        let dcs = path.strip_prefix("bootstrap.dcs.").unwrap_or(&path);
        match dcs {
            "ttl" | "loop_wait" | "retry_timeout" | "watchdog.safety_margin" => {
                let key = dcs.trim_start_matches("watchdog.");
                let n = secs(&text).ok_or_else(|| err("a number of seconds"))?;
                m.keys.set(key, Val::new(time::toml(time::secs(n)), note));
            }
            "primary_start_timeout" | "master_start_timeout" => {
                let n = secs(&text).ok_or_else(|| err("a number of seconds"))?;
                m.keys.set(
                    "primary_start_timeout",
                    Val::new(time::toml(time::secs(n)), note),
                );
            }
            "maximum_lag_on_failover" => {
                let n = secs(&text).ok_or_else(|| err("a number of bytes"))?;
                m.keys
                    .set("maximum_lag_on_failover", Val::new(n.to_string(), note));
            }
            "synchronous_mode" | "synchronous_mode_strict" => {
                let b = yaml_bool(&text).ok_or_else(|| err("true or false"))?;
                m.keys.set(dcs, Val::new(b.to_string(), note));
            }
            "postgresql.parameters.max_connections" => {
                let n = secs(&text).ok_or_else(|| err("a number"))?;
                m.keys.set("max_connections", Val::new(n.to_string(), note));
            }
            "postgresql.parameters.wal_sender_timeout" => {
                let d = pg_time(text.as_deref().unwrap_or(""))
                    .ok_or_else(|| err("a time such as 60s or 60000 (ms)"))?;
                m.keys
                    .set("wal_sender_timeout", Val::new(time::toml(d), note));
            }
            "tags.nofailover" => {
                if yaml_bool(&text).ok_or_else(|| err("true or false"))? {
                    m.nofailover = Some(at);
                }
            }
            "watchdog.mode" => {
                let v = text.clone().unwrap_or_default();
                let mode = match v.as_str() {
                    "off" | "false" => "off",
                    "automatic" => "automatic",
                    "required" => "required",
                    _ => return Err(err("off, automatic or required")),
                };
                m.keys.set("watchdog", Val::str(mode, note));
            }
            "etcd.host" | "etcd.hosts" | "etcd3.host" | "etcd3.hosts" => {
                let hosts: Vec<String> = match &v.data {
                    YamlData::Sequence(s) => s.iter().filter_map(scalar_text).collect(),
                    _ => text
                        .clone()
                        .unwrap_or_default()
                        .split(',')
                        .map(|h| h.trim().to_string())
                        .filter(|h| !h.is_empty())
                        .collect(),
                };
                if hosts.is_empty() {
                    return Err(err("host:port (or a list of them)"));
                }
                m.etcd_hosts = Some((hosts, at));
            }
            "restapi.listen"
            | "restapi.connect_address"
            | "postgresql.listen"
            | "postgresql.connect_address" => {
                if let Some(p) = text.as_deref().and_then(port_of) {
                    m.ports.push(p);
                }
                found.warn(at, format!("`{path}`: addresses are not modelled (its port links HAProxy to this cluster)"));
            }
            "bootstrap"
            | "bootstrap.dcs"
            | "postgresql"
            | "postgresql.parameters"
            | "tags"
            | "watchdog"
            | "etcd"
            | "etcd3"
            | "restapi" => match entries(v) {
                Some(sub) => walk(file, &path, &sub, m, found)?,
                None => return Err(err("a mapping")),
            },
            _ => {
                let what = if entries(v).is_some() || matches!(v.data, YamlData::Sequence(_)) {
                    format!("`{path}` (and everything under it): not modelled")
                } else {
                    format!("`{path}`: not modelled")
                };
                found.warn(at, what);
            }
        }
    }
    Ok(())
}

fn yaml_bool(t: &Option<String>) -> Option<bool> {
    match t.as_deref()? {
        "true" | "True" | "TRUE" | "yes" | "on" => Some(true),
        "false" | "False" | "FALSE" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A PostgreSQL time parameter in ms: `60000`, `60s`, `1min`.
fn pg_time(s: &str) -> Option<Dur> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let n: u64 = s[..split].parse().ok()?;
    let scale = match s[split..].trim() {
        "" | "ms" => Dur::MS,
        "s" => Dur::S,
        "min" => 60 * Dur::S,
        "h" => 3600 * Dur::S,
        "d" => 86_400 * Dur::S,
        _ => return None,
    };
    Some(Dur(n.saturating_mul(scale)))
}

/// The members' files as one cluster: the first file's settings (a member
/// that says otherwise is reported), one member per file (three when one
/// file is given: a placeholder), `nofailover` by member.
pub fn cluster(files: Vec<Member>, found: &mut Found) -> Option<Cluster> {
    let first = files.first()?.clone();
    let n = if files.len() == 1 { 3 } else { files.len() };
    let count_note = if files.len() == 1 {
        format!(
            "PLACEHOLDER: {} is one member's file; give every member's to import each one's tags",
            first.at.file
        )
    } else {
        format!(
            "one member per patroni.yml: {}",
            files
                .iter()
                .map(|f| f.at.file.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let mut keys = Table::new("");
    let dcs_note = first.etcd_hosts.as_ref().map_or_else(
        || "the etcd cluster (no etcd hosts in patroni.yml)".to_string(),
        |(_, at)| at.to_string(),
    );
    keys.set("dcs", Val::str("etcd", dcs_note));
    for (k, v) in &first.keys.keys {
        keys.set(k, v.clone());
    }
    for f in &files[1..] {
        for (k, v) in &f.keys.keys {
            if keys.get(k).is_none_or(|w| w.toml != v.toml) {
                let line = v.note.split(": ").next().unwrap_or("").to_string();
                found.warn(
                    Origin::new(&f.at.file, line.rsplit(':').next().and_then(|l| l.parse().ok()).unwrap_or(1)),
                    format!("`{k} = {}` differs from the first member's file: hasim gives every member one setting (the first file's)", v.toml),
                );
            }
        }
    }
    let nofail: Vec<(usize, Origin)> = files
        .iter()
        .enumerate()
        .filter_map(|(i, f)| f.nofailover.clone().map(|a| (i + 1, a)))
        .collect();
    if !nofail.is_empty() {
        let idx: Vec<String> = nofail.iter().map(|(i, _)| i.to_string()).collect();
        let notes: Vec<String> = nofail
            .iter()
            .map(|(_, a)| format!("{a}: tags.nofailover"))
            .collect();
        // Indexes here; the composer names the members.
        keys.set(
            "nofailover",
            Val::new(format!("[{}]", idx.join(", ")), notes.join(", ")),
        );
    }
    let mut ports: Vec<u16> = files.iter().flat_map(|f| f.ports.clone()).collect();
    ports.extend([5432, 6432, 8008]);
    Some(Cluster {
        kind: "patroni",
        at: first.at.clone(),
        members: (1..=n).map(|i| format!("member {i}")).collect(),
        count_note,
        ports,
        keys,
        subtables: Vec::new(),
    })
}

/// The etcd hosts the first member names.
pub fn etcd_hosts(files: &[Member]) -> Option<(Vec<String>, Origin)> {
    files.iter().find_map(|f| f.etcd_hosts.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const YML: &str = r#"scope: batman
name: postgresql0

restapi:
  listen: 0.0.0.0:8008
  connect_address: 10.0.0.1:8008
etcd3:
  hosts: 10.0.0.10:2379,10.0.0.11:2379,10.0.0.12:2379

bootstrap:
  dcs:
    ttl: 30
    loop_wait: 10
    retry_timeout: 10
    maximum_lag_on_failover: 1048576
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters:
        max_connections: 200
        wal_sender_timeout: 30s
  initdb:
  - encoding: UTF8

postgresql:
  listen: 0.0.0.0:5432
  data_dir: /data/pg
  authentication:
    superuser:
      username: postgres
      password: secret

tags:
  nofailover: true
  noloadbalance: false
watchdog:
  mode: automatic
  safety_margin: 5
"#;

    #[test]
    fn dcs_settings_tags_and_hosts_with_lines() {
        let mut f = Found::default();
        let m = read("patroni.yml", YML, &mut f).unwrap();
        let k = |key: &str| m.keys.get(key).unwrap_or_else(|| panic!("{key}")).clone();
        assert_eq!(
            k("ttl"),
            Val::str("30s", "patroni.yml:12: bootstrap.dcs.ttl")
        );
        assert_eq!(k("loop_wait").toml, "\"10s\"");
        assert_eq!(k("maximum_lag_on_failover").toml, "1048576");
        assert_eq!(k("synchronous_mode").toml, "true");
        assert_eq!(k("max_connections").toml, "200");
        assert_eq!(k("wal_sender_timeout").toml, "\"30s\"");
        assert_eq!(k("watchdog").toml, "\"automatic\"");
        assert_eq!(k("safety_margin").toml, "\"5s\"");
        assert_eq!(m.nofailover.as_ref().unwrap().line, 34);
        let (hosts, at) = m.etcd_hosts.clone().unwrap();
        assert_eq!((hosts.len(), at.line), (3, 8));
        assert!(m.ports.contains(&8008) && m.ports.contains(&5432));
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "patroni.yml:1: `scope`: not modelled",
            "patroni.yml:18: `bootstrap.dcs.postgresql.use_pg_rewind`: not modelled",
            "patroni.yml:22: `bootstrap.initdb` (and everything under it)",
            "patroni.yml:28: `postgresql.authentication` (and everything under it)",
            "patroni.yml:35: `tags.noloadbalance`: not modelled",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
        assert!(
            !w.iter().any(|x| x.contains("secret")),
            "no values of unmodelled keys"
        );
        let c = cluster(vec![m.clone(), m], &mut f).unwrap();
        assert_eq!(c.members.len(), 2);
        assert_eq!(c.keys.get("nofailover").unwrap().toml, "[1, 2]");
    }

    #[test]
    fn bad_values_and_bad_yaml_name_the_line() {
        let mut f = Found::default();
        let e = read("p.yml", "bootstrap:\n  dcs:\n    ttl: soon\n", &mut f).unwrap_err();
        assert_eq!(
            e.to_string(),
            "p.yml:3: `bootstrap.dcs.ttl`: expected a number of seconds, found soon"
        );
        let e = read("p.yml", "a: [1, 2\nb: 3\n", &mut f)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("p.yml:") && e.contains("not valid YAML"),
            "{e}"
        );
        let e = read("p.yml", "- a\n- b\n", &mut f).unwrap_err().to_string();
        assert!(e.contains("expected a mapping"), "{e}");
    }

    #[test]
    fn field_report_5_excerpt() {
        // The report's excerpt starts with `...`, the YAML document end
        // marker: what follows is a document of its own.
        let mut f = Found::default();
        let text = include_str!("../../tests/fixtures/import/report-5/postgres.yml");
        match read("postgres.yml", text, &mut f) {
            Ok(_) => {
                let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
                assert!(
                    w.iter().any(|x| x.starts_with("postgres.yml:2: `pg_hba`")),
                    "{w:#?}"
                );
            }
            Err(e) => assert!(e.to_string().starts_with("postgres.yml:1:"), "{e}"),
        }
    }
}
