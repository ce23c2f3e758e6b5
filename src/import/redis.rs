//! redis.conf and sentinel.conf (Redis 7.0): one file per node. redis.conf
//! gives `[databases.redis] type = "redis"` (`maxclients`,
//! `replica-read-only`, `replica-priority`, `min-replicas-to-write`,
//! `min-replicas-max-lag`, `repl-ping-replica-period`, `repl-timeout`,
//! `appendonly`), sentinel.conf `[databases.sentinel] type = "sentinel"`
//! (`sentinel monitor` quorum, `down-after-milliseconds`, `failover-timeout`,
//! `parallel-syncs`). Both are lines of words with `#` comments, as Redis's
//! own config.c reads them (quotes included), so the reader is small.

use super::time;
use super::writer::{Table, Val};
use super::{Cluster, Found, ImportError, Origin};

/// What one node's file says.
#[derive(Clone, Debug)]
pub struct Node {
    pub at: Origin,
    pub keys: Table,
    pub port: Option<u16>,
}

fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '"' | '\'') => {
                quote = Some(c);
                any = true;
            }
            (Some(q), _) if c == q => quote = None,
            (None, ' ' | '\t') => {
                if any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            _ => {
                cur.push(c);
                any = true;
            }
        }
    }
    if any {
        out.push(cur);
    }
    out
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str, Vec<String>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        (!t.is_empty() && !t.starts_with('#')).then(|| (i + 1, t, words(t)))
    })
}

fn num(file: &str, line: usize, w: &[String], i: usize) -> Result<u64, ImportError> {
    let s = w.get(i).map(String::as_str).unwrap_or("");
    s.parse().map_err(|_| {
        ImportError::parse(
            file,
            line,
            format!("`{}` expects a whole number, found `{s}`", w[0]),
        )
    })
}

fn yes_no(file: &str, line: usize, w: &[String]) -> Result<bool, ImportError> {
    match w.get(1).map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("yes") => Ok(true),
        Some("no") => Ok(false),
        _ => Err(ImportError::parse(
            file,
            line,
            format!("`{}` expects yes or no", w[0]),
        )),
    }
}

pub fn read_redis(file: &str, text: &str, found: &mut Found) -> Result<Node, ImportError> {
    let mut n = Node {
        at: Origin::new(file, 1),
        keys: Table::new(""),
        port: None,
    };
    for (line, raw, w) in lines(text) {
        let at = Origin::new(file, line);
        let note = format!("{at}: {raw}");
        let d = w[0].to_ascii_lowercase();
        match d.as_str() {
            "maxclients" => {
                let v = num(file, line, &w, 1)?;
                n.keys.set("maxclients", Val::new(v.to_string(), note));
            }
            "replica-read-only" | "slave-read-only" => {
                let v = yes_no(file, line, &w)?;
                n.keys
                    .set("replica_read_only", Val::new(v.to_string(), note));
            }
            "replica-priority" | "slave-priority" => {
                let v = num(file, line, &w, 1)?;
                n.keys
                    .set("replica_priority", Val::new(v.to_string(), note));
            }
            "min-replicas-to-write" | "min-slaves-to-write" => {
                let v = num(file, line, &w, 1)?;
                n.keys
                    .set("min_replicas_to_write", Val::new(v.to_string(), note));
            }
            "min-replicas-max-lag"
            | "min-slaves-max-lag"
            | "repl-ping-replica-period"
            | "repl-ping-slave-period"
            | "repl-timeout" => {
                let key = match d.as_str() {
                    "min-replicas-max-lag" | "min-slaves-max-lag" => "min_replicas_max_lag",
                    "repl-timeout" => "repl_timeout",
                    _ => "repl_ping_replica_period",
                };
                let v = num(file, line, &w, 1)?;
                n.keys.set(key, Val::new(time::toml(time::secs(v)), note));
            }
            "appendonly" => {
                let v = yes_no(file, line, &w)?;
                n.keys.set(
                    "persistence",
                    Val::str(if v { "aof" } else { "none" }, note),
                );
            }
            "port" => {
                n.port = u16::try_from(num(file, line, &w, 1)?).ok();
                found.warn(
                    at,
                    format!("`{raw}`: addresses are not modelled (the port links HAProxy to this cluster)"),
                );
            }
            _ => found.warn(at, format!("`{raw}`: not modelled")),
        }
    }
    Ok(n)
}

pub fn read_sentinel(file: &str, text: &str, found: &mut Found) -> Result<Node, ImportError> {
    let mut n = Node {
        at: Origin::new(file, 1),
        keys: Table::new(""),
        port: None,
    };
    for (line, raw, w) in lines(text) {
        let at = Origin::new(file, line);
        let note = format!("{at}: {raw}");
        let sub = w.get(1).map(|s| s.to_ascii_lowercase()).unwrap_or_default();
        if !w[0].eq_ignore_ascii_case("sentinel") {
            found.warn(at, format!("`{raw}`: not modelled"));
            continue;
        }
        match sub.as_str() {
            "monitor" => {
                if w.len() != 6 {
                    return Err(ImportError::parse(
                        file,
                        line,
                        "`sentinel monitor` expects <master-name> <ip> <port> <quorum>",
                    ));
                }
                let q = num(file, line, &w, 5)?;
                n.keys.set("quorum", Val::new(q.to_string(), note));
            }
            "down-after-milliseconds" | "failover-timeout" => {
                let ms = num(file, line, &w, 3)?;
                let key = sub.replace('-', "_");
                n.keys.set(&key, Val::new(time::toml(time::ms(ms)), note));
            }
            "parallel-syncs" => {
                let v = num(file, line, &w, 3)?;
                n.keys.set("parallel_syncs", Val::new(v.to_string(), note));
            }
            _ => found.warn(at, format!("`{raw}`: not modelled")),
        }
    }
    Ok(n)
}

/// The nodes' files as one cluster of `kind` (`redis`, `sentinel`): the
/// first file's settings (another's differing one reported), one member
/// per file (three when one file is given: a placeholder).
pub fn cluster(kind: &'static str, nodes: Vec<Node>, found: &mut Found) -> Option<Cluster> {
    let first = nodes.first()?.clone();
    let n = if nodes.len() == 1 { 3 } else { nodes.len() };
    let count_note = if nodes.len() == 1 {
        format!(
            "PLACEHOLDER: {} is one node's file; give every node's",
            first.at.file
        )
    } else {
        let files: Vec<&str> = nodes.iter().map(|f| f.at.file.as_str()).collect();
        format!("one member per file: {}", files.join(", "))
    };
    for other in &nodes[1..] {
        for (k, v) in &other.keys.keys {
            if first.keys.get(k).is_none_or(|w| w.toml != v.toml) {
                found.warn(
                    other.at.clone(),
                    format!(
                        "`{k} = {}` ({}) differs from the first file's: the first file's is imported",
                        v.toml, v.note
                    ),
                );
            }
        }
    }
    let mut ports: Vec<u16> = nodes.iter().filter_map(|x| x.port).collect();
    ports.push(if kind == "redis" { 6379 } else { 26379 });
    Some(Cluster {
        kind,
        at: first.at.clone(),
        members: (1..=n).map(|i| format!("member {i}")).collect(),
        count_note,
        ports,
        keys: first.keys.clone(),
        subtables: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_conf() {
        let mut f = Found::default();
        let t = "bind 0.0.0.0\nport 6379\nmaxclients 5000\nreplica-read-only yes\nreplica-priority 50\n\
                 min-replicas-to-write 1\nmin-replicas-max-lag 10\nrepl-timeout 30\nappendonly yes\nsave 900 1\n";
        let n = read_redis("redis.conf", t, &mut f).unwrap();
        let k = |key: &str| n.keys.get(key).unwrap().toml.clone();
        assert_eq!(k("maxclients"), "5000");
        assert_eq!(k("replica_priority"), "50");
        assert_eq!(k("min_replicas_max_lag"), "\"10s\"");
        assert_eq!(k("repl_timeout"), "\"30s\"");
        assert_eq!(k("persistence"), "\"aof\"");
        assert_eq!(
            n.keys.get("maxclients").unwrap().note,
            "redis.conf:3: maxclients 5000"
        );
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            w.contains(&"redis.conf:10: `save 900 1`: not modelled".to_string()),
            "{w:#?}"
        );
        let e = read_redis("redis.conf", "appendonly maybe\n", &mut f).unwrap_err();
        assert_eq!(
            e.to_string(),
            "redis.conf:1: `appendonly` expects yes or no"
        );
    }

    #[test]
    fn sentinel_conf() {
        let mut f = Found::default();
        let t = "port 26379\nsentinel monitor mymaster 127.0.0.1 6379 2\n\
                 sentinel down-after-milliseconds mymaster 5000\nsentinel failover-timeout mymaster 60000\n\
                 sentinel parallel-syncs mymaster 1\nsentinel auth-pass mymaster s3cret\n";
        let n = read_sentinel("sentinel.conf", t, &mut f).unwrap();
        let k = |key: &str| n.keys.get(key).unwrap().toml.clone();
        assert_eq!(k("quorum"), "2");
        assert_eq!(k("down_after_milliseconds"), "\"5s\"");
        assert_eq!(k("failover_timeout"), "\"60s\"");
        assert_eq!(k("parallel_syncs"), "1");
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            w.iter()
                .any(|x| x.starts_with("sentinel.conf:6: `sentinel auth-pass …`")),
            "{w:#?}"
        );
        assert!(!w.iter().any(|x| x.contains("s3cret")));
        let e = read_sentinel("s.conf", "sentinel monitor m 1.2.3.4 6379\n", &mut f).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.conf:1: `sentinel monitor` expects")
        );
    }
}
