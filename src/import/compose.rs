//! From the parts the readers found to one experiment file: node names,
//! links between tiers, the workload and faults (placeholders unless
//! `--clients`/`--fault` give them), and the list of what is not modelled.
//!
//! Links (each stated in a comment of the file it writes):
//! - a database cluster (Galera, Patroni) takes the place of the servers of
//!   the HAProxy backend that has as many servers as it has members, on its
//!   port (3306, 5432) or checked on Patroni's REST API port (8008);
//! - with an nginx and one HAProxy balancer, nginx's upstream servers are
//!   app instances that call HAProxy (the field reports' nginx -> apps ->
//!   HAProxy -> database);
//! - any other server is a plain `[servers.NAME]` with a placeholder
//!   service time;
//! - keepalived: with one balancer imported, it is duplicated per
//!   keepalived.conf (`lb1`, `lb2`..., ASSUMED: one per host) and listens on
//!   the VIP, which the clients target; otherwise the listeners are
//!   placeholder servers;
//! - ProxySQL links to the Galera cluster whose members include its
//!   `mysql_servers` addresses (else the one with as many members, ASSUMED).
//!   Without a my.cnf, its servers are a placeholder Galera cluster.

use super::writer::{Doc, Table, Val, quote};
use super::{BalancerKind, Found, ImportError, Options};
use crate::engine::parse_duration;
use std::collections::BTreeSet;
use std::path::PathBuf;

const PLACEHOLDER: &str = "PLACEHOLDER";

/// A name for a cluster kind (`[databases.NAME]`), members NAME1..n.
fn cluster_name(kind: &str) -> &'static str {
    match kind {
        "galera" => "galera",
        "patroni" => "pg",
        "redis" => "redis",
        "sentinel" => "sentinel",
        _ => "etcd",
    }
}

struct Names(BTreeSet<String>);

impl Names {
    /// `want`, or `want-2`, `want-3`, ... if taken.
    fn claim(&mut self, want: &str) -> String {
        let mut name = want.to_string();
        let mut i = 2;
        while self.0.contains(&name) {
            name = format!("{want}-{i}");
            i += 1;
        }
        self.0.insert(name.clone());
        name
    }
}

pub fn experiment(
    found: &mut Found,
    files: &[PathBuf],
    opts: &Options,
) -> Result<String, ImportError> {
    if found.balancers.is_empty()
        && found.clusters.is_empty()
        && found.vips.is_empty()
        && found.proxies.is_empty()
    {
        return Err(ImportError::File {
            file: files
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            message: "no balancer with servers and no database cluster found: nothing to simulate"
                .into(),
        });
    }
    let mut names = Names(BTreeSet::new());
    // keepalived: one host per keepalived.conf (two at least), the listener
    // on each the one imported balancer, duplicated per host (ASSUMED).
    let n_hosts = if found.vips.is_empty() {
        0
    } else {
        found.vip_hosts.len().max(2)
    };
    let dup = n_hosts > 0 && found.balancers.len() == 1;
    if dup {
        let b = found.balancers[0].clone();
        for _ in 1..n_hosts {
            found.balancers.push(b.clone());
        }
    }
    // Balancer names: `haproxy`, `nginx` when a product has one.
    let count = |k: BalancerKind| found.balancers.iter().filter(|b| b.kind == k).count();
    let (nh, nn) = (count(BalancerKind::Haproxy), count(BalancerKind::Nginx));
    let bal_names: Vec<String> = found
        .balancers
        .iter()
        .map(|b| {
            let (product, n) = match b.kind {
                BalancerKind::Haproxy => ("haproxy", nh),
                BalancerKind::Nginx => ("nginx", nn),
            };
            if dup {
                String::new()
            } else if n == 1 {
                names.claim(product)
            } else {
                names.claim(&format!("{product}-{}", super::node_name(&b.name)))
            }
        })
        .collect();
    let bal_names: Vec<String> = if dup {
        (1..=n_hosts)
            .map(|i| names.claim(&format!("lb{i}")))
            .collect()
    } else {
        bal_names
    };
    let cl_names: Vec<String> = found
        .clusters
        .iter()
        .map(|c| names.claim(cluster_name(c.kind)))
        .collect();
    let members: Vec<Vec<String>> = found
        .clusters
        .iter()
        .zip(&cl_names)
        .map(|(c, n)| {
            (1..=c.members.len())
                .map(|i| names.claim(&format!("{n}{i}")))
                .collect()
        })
        .collect();

    // Database clusters behind HAProxy backends.
    let mut linked: Vec<Option<usize>> = vec![None; found.balancers.len()];
    for (ci, c) in found.clusters.iter().enumerate() {
        if c.kind == "etcd" || c.kind == "sentinel" {
            continue;
        }
        let hit = found.balancers.iter().enumerate().position(|(bi, b)| {
            linked[bi].is_none()
                && b.kind == BalancerKind::Haproxy
                && b.servers.len() == c.members.len()
                && b.servers.iter().all(|s| {
                    s.port.is_some_and(|p| c.ports.contains(&p))
                        || s.check_port.is_some_and(|p| c.ports.contains(&p))
                })
        });
        if let Some(bi) = hit {
            linked[bi] = Some(ci);
        }
    }
    if dup {
        let l = linked[0];
        linked.iter_mut().for_each(|x| *x = l);
    }
    let proxy_names: Vec<String> = found
        .proxies
        .iter()
        .map(|_| names.claim("proxysql"))
        .collect();
    let vip_names: Vec<String> = found
        .vips
        .iter()
        .map(|v| names.claim(&super::node_name(&v.name).to_ascii_lowercase()))
        .collect();
    let listeners: Vec<String> = if dup {
        bal_names.clone()
    } else {
        (1..=n_hosts)
            .map(|i| names.claim(&format!("lb{i}")))
            .collect()
    };
    // nginx -> apps -> the one HAProxy.
    let haproxies: Vec<usize> = (0..found.balancers.len())
        .filter(|&i| found.balancers[i].kind == BalancerKind::Haproxy)
        .collect();
    let app_target = match (nn, haproxies.as_slice()) {
        (1.., [one]) => Some(bal_names[*one].clone()),
        _ => None,
    };

    let mut doc = Doc::default();
    let shown: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    doc.header = vec![
        format!("Made by `hasim import {}`.", shown.join(" ")),
        "The topology is what those files describe; each value names the file and line it".into(),
        "came from. PLACEHOLDER marks what they do not say (the workload, the faults, the".into(),
        "service times of servers and apps): edit those, then `hasim run` this file.".into(),
        "What hasim does not model is listed at the end.".into(),
    ];

    let mut exp = Table::new("experiment");
    exp.set(
        "description",
        Val::str(&format!("imported from {}", shown.join(", ")), ""),
    );
    exp.set(
        "duration",
        Val::str("180s", format!("{PLACEHOLDER}: how long to simulate")),
    );
    exp.set("seed", Val::new("1", ""));
    doc.tables.push(exp);

    let sentinel = found
        .clusters
        .iter()
        .position(|c| c.kind == "sentinel")
        .map(|i| cl_names[i].clone());
    // The entry point clients send to, and whether it leads to a database.
    let front = found
        .balancers
        .iter()
        .position(|b| b.kind == BalancerKind::Nginx)
        .or_else(|| haproxies.first().copied());
    let (entry, to_db) = match front {
        Some(i) => (
            bal_names[i].clone(),
            linked[i].is_some() || (app_target.is_some() && linked.iter().any(Option::is_some)),
        ),
        None => match found.clusters.iter().position(|c| c.kind != "etcd") {
            _ if sentinel.is_some() => (sentinel.clone().unwrap_or_default(), true),
            Some(ci) => (members[ci][0].clone(), true),
            None => (
                members
                    .first()
                    .and_then(|m| m.first())
                    .cloned()
                    .unwrap_or_default(),
                true,
            ),
        },
    };
    // Clients target the VIP when it moves between the balancers (or
    // between placeholder listeners, with nothing else to target).
    let entry = match vip_names.first() {
        Some(v) if dup || (front.is_none() && found.clusters.is_empty()) => v.clone(),
        _ => entry,
    };
    let (entry, to_db) = match proxy_names.first() {
        Some(p) if front.is_none() => (p.clone(), true),
        _ => (entry, to_db),
    };
    let library = (front.is_none() && sentinel.is_some()).then_some("redis-sentinel");
    doc.tables.push(clients(opts, &entry, to_db, library)?);

    let mut servers_out: Vec<Table> = Vec::new();
    let mut declared: BTreeSet<String> = BTreeSet::new();
    let mut first_backend: Option<String> = None;
    for (bi, b) in found.balancers.iter().enumerate() {
        let name = &bal_names[bi];
        let mut t = Table::new(format!("balancers.{name}"));
        t.comment.push(format!(
            "{} `{}` ({})",
            match b.kind {
                BalancerKind::Haproxy => "HAProxy backend",
                BalancerKind::Nginx => "nginx upstream",
            },
            b.name,
            b.at
        ));
        if dup {
            let file = &found.vip_hosts.get(bi).map_or_else(
                || "the peer's keepalived.conf (not given)".to_string(),
                |o| o.file.clone(),
            );
            t.comment.push(format!(
                "ASSUMED: one {} per keepalived.conf, on its host: this is the one beside {file}",
                match b.kind {
                    BalancerKind::Haproxy => "HAProxy",
                    BalancerKind::Nginx => "nginx",
                }
            ));
        }
        t.set("preset", Val::str(b.kind.preset(), ""));
        let server_names: Vec<String>;
        let mut renamed: Vec<String> = Vec::new();
        match linked[bi] {
            Some(ci) => {
                let c = &found.clusters[ci];
                server_names = vec![cl_names[ci].clone()];
                renamed = members[ci].clone();
                t.comment.push(format!(
                    "its servers are the {} members of [databases.{}] ({}), in order",
                    c.kind, cl_names[ci], c.at
                ));
            }
            None => {
                server_names = b
                    .servers
                    .iter()
                    .map(|s| {
                        let n = if cl_names.contains(&s.name)
                            || bal_names.contains(&s.name)
                            || members.iter().flatten().any(|m| *m == s.name)
                        {
                            format!("{}-server", s.name)
                        } else {
                            s.name.clone()
                        };
                        names.0.insert(n.clone());
                        n
                    })
                    .collect();
                renamed.clone_from(&server_names);
            }
        }
        let list: Vec<&str> = server_names.iter().map(String::as_str).collect();
        let addrs: Vec<String> = b.servers.iter().map(|s| s.address.clone()).collect();
        t.set(
            "servers",
            Val::strs(&list, format!("{}: {}", b.at, addrs.join(", "))),
        );
        for (k, v) in &b.keys.keys {
            t.set(k, v.clone());
        }
        doc.tables.push(t);
        let (dflt, per_server) = hoist(b);
        if !dflt.keys.is_empty() {
            let mut d = dflt;
            d.path = format!("balancers.{name}.default_server");
            doc.tables.push(d);
        }
        for ((s, keys), node) in b.servers.iter().zip(&per_server).zip(&renamed) {
            if !keys.keys.is_empty() {
                let mut st = keys.clone();
                st.path = format!("balancers.{name}.server.{node}");
                if *node != s.name {
                    st.comment.push(format!("server `{}` ({})", s.name, s.at));
                }
                doc.tables.push(st);
            }
        }
        if linked[bi].is_none() {
            for (s, node) in b.servers.iter().zip(&server_names) {
                if !declared.insert(node.clone()) {
                    continue;
                }
                let app = b.kind == BalancerKind::Nginx && app_target.is_some();
                let mut st = Table::new(format!("{}.{node}", if app { "apps" } else { "servers" }));
                st.comment
                    .push(format!("{} ({}), a server of {name}", s.address, s.at));
                st.set(
                    "service",
                    Val::new(
                        "{ dist = \"lognormal\", median = \"2ms\", p99 = \"20ms\" }",
                        format!("{PLACEHOLDER}: its service time (not in the configuration)"),
                    ),
                );
                if app && let Some(target) = &app_target {
                    servers_out.push(st);
                    let mut call = Table::new(format!("apps.{node}.calls"));
                    call.array = true;
                    call.set(
                        "target",
                        Val::str(
                            target,
                            format!(
                                "ASSUMED: the apps behind nginx call HAProxy ({})",
                                found.balancers[haproxies[0]].at
                            ),
                        ),
                    );
                    call.set(
                        "count",
                        Val::new("1", format!("{PLACEHOLDER}: calls per request")),
                    );
                    servers_out.push(call);
                } else {
                    if first_backend.is_none() && !app {
                        first_backend = Some(node.clone());
                    }
                    servers_out.push(st);
                }
            }
        }
    }
    doc.tables.extend(servers_out);

    // ProxySQL over the Galera cluster its mysql_servers name.
    for (pi, p) in found.proxies.iter().enumerate() {
        let mut t = Table::new(format!("balancers.{}", proxy_names[pi]));
        let addrs: Vec<String> = p
            .servers
            .iter()
            .map(|s| match s.port {
                Some(port) => format!("{}:{port}", s.address),
                None => s.address.clone(),
            })
            .collect();
        t.comment.push(format!("ProxySQL ({})", p.at));
        t.set("type", Val::str("proxysql", ""));
        let hosts: BTreeSet<&str> = p.servers.iter().map(|s| s.address.as_str()).collect();
        let galeras: Vec<usize> = (0..found.clusters.len())
            .filter(|&i| found.clusters[i].kind == "galera")
            .collect();
        let by_hosts = galeras.iter().copied().find(|&i| {
            let m: BTreeSet<&str> = found.clusters[i]
                .members
                .iter()
                .map(|m| super::host_of(m))
                .collect();
            !hosts.is_empty() && hosts.is_subset(&m)
        });
        let by_count = galeras
            .iter()
            .copied()
            .find(|&i| found.clusters[i].members.len() == hosts.len());
        let sat = p.servers_at.clone().unwrap_or_else(|| p.at.clone());
        let (ci, note) = match (by_hosts, by_count, galeras.first()) {
            (Some(i), _, _) => (
                i,
                format!("{sat}: mysql_servers {} are its members", addrs.join(", ")),
            ),
            (None, Some(i), _) => (
                i,
                format!(
                    "{sat}: mysql_servers {}: as many as its members (ASSUMED: the same nodes)",
                    addrs.join(", ")
                ),
            ),
            (None, None, Some(&i)) => {
                found.warnings.push(super::Warning {
                    at: sat.clone(),
                    text: format!(
                        "mysql_servers ({}) do not match the Galera cluster's members ({}): ProxySQL is linked to it anyway (ASSUMED)",
                        addrs.join(", "),
                        found.clusters[i].members.join(", ")
                    ),
                });
                (
                    i,
                    format!("{sat}: ASSUMED: the one Galera cluster imported"),
                )
            }
            (None, None, None) => {
                unreachable!("a placeholder Galera cluster is added with ProxySQL")
            }
        };
        t.set("galera", Val::str(&cl_names[ci], note));
        for (k, v) in &p.keys.keys {
            t.set(k, v.clone());
        }
        doc.tables.push(t);
    }

    // VIPs.
    if n_hosts > 0 && !dup {
        let why = if found.balancers.is_empty() {
            "no balancer was imported".to_string()
        } else {
            format!(
                "{} balancers were imported, so which one keepalived runs beside is not known",
                found.balancers.len()
            )
        };
        for (i, l) in listeners.iter().enumerate() {
            let mut st = Table::new(format!("servers.{l}"));
            st.comment.push(format!(
                "{PLACEHOLDER}: what keepalived runs beside on the host of {} ({why})",
                found
                    .vip_hosts
                    .get(i)
                    .map_or("the peer's keepalived.conf (not given)", |o| o
                        .file
                        .as_str())
            ));
            st.set(
                "service",
                Val::new(
                    "{ dist = \"lognormal\", median = \"2ms\", p99 = \"20ms\" }",
                    format!("{PLACEHOLDER}: its service time"),
                ),
            );
            doc.tables.push(st);
        }
        if let Some(o) = found.vip_hosts.first() {
            found.warnings.push(super::Warning {
                at: o.clone(),
                text: format!("keepalived's listeners are placeholder servers: {why}"),
            });
        }
    }
    for (vi, v) in found.vips.iter().enumerate() {
        let name = &vip_names[vi];
        let mut t = Table::new(format!("vips.{name}"));
        t.comment.push(format!(
            "keepalived vrrp_instance `{}` ({}): virtual_ipaddress {}",
            v.name,
            v.at,
            if v.addresses.is_empty() {
                "none".to_string()
            } else {
                v.addresses.join(", ")
            }
        ));
        t.set("type", Val::str("keepalived", ""));
        for (k, x) in &v.keys.keys {
            t.set(k, x.clone());
        }
        doc.tables.push(t);
        if let Some(s) = &v.script {
            let mut st = s.clone();
            st.path = format!("vips.{name}.vrrp_script");
            doc.tables.push(st);
        }
        for (hi, keys) in &v.on {
            let l = &listeners[*hi];
            let mut st = keys.clone();
            st.path = format!("vips.{name}.on.{l}");
            st.comment.push(match found.vip_hosts.get(*hi) {
                Some(o) => format!(
                    "the keepalived of {}, beside {l} (ASSUMED: on its host)",
                    o.file
                ),
                None => format!("{PLACEHOLDER}: the peer's keepalived, beside {l}"),
            });
            doc.tables.push(st);
        }
    }

    // Databases.
    for (ci, c) in found.clusters.iter().enumerate() {
        let name = &cl_names[ci];
        let mut t = Table::new(format!("databases.{name}"));
        t.comment.push(format!("{} cluster ({})", c.kind, c.at));
        t.set("type", Val::str(c.kind, ""));
        t.set(
            "count",
            Val::new(c.members.len().to_string(), c.count_note.clone()),
        );
        for (k, v) in &c.keys.keys {
            let v = if k == "nofailover" {
                // Member indexes (1-based) -> member names.
                let idx: Vec<usize> = v
                    .toml
                    .trim_matches(['[', ']'])
                    .split(',')
                    .filter_map(|s| s.trim().parse().ok())
                    .collect();
                let list: Vec<&str> = idx
                    .iter()
                    .filter_map(|i| members[ci].get(i - 1).map(String::as_str))
                    .collect();
                Val::strs(&list, v.note.clone())
            } else if k == "dcs" {
                let etcd = found
                    .clusters
                    .iter()
                    .position(|c| c.kind == "etcd")
                    .map_or("etcd".to_string(), |i| cl_names[i].clone());
                Val::str(&etcd, v.note.clone())
            } else {
                v.clone()
            };
            t.set(k, v);
        }
        if c.kind == "sentinel"
            && let Some(ri) = found.clusters.iter().position(|c| c.kind == "redis")
        {
            let note = c.keys.get("quorum").map_or_else(
                || "the Redis nodes the sentinels watch".to_string(),
                |q| q.note.clone(),
            );
            t.set("monitor", Val::str(&cl_names[ri], note));
            if members[ri].len() == members[ci].len() {
                t.set(
                    "hosts",
                    Val::strs(&members[ri], "ASSUMED: a sentinel beside each Redis node"),
                );
            }
        }
        doc.tables.push(t);
        for s in &c.subtables {
            let mut st = s.clone();
            st.path = format!("databases.{name}.{}", s.path);
            doc.tables.push(st);
        }
        if first_backend.is_none() && c.kind != "etcd" {
            first_backend = members[ci].first().cloned();
        }
    }

    // Faults.
    if opts.faults.is_empty() {
        let target = first_backend
            .or_else(|| members.iter().flatten().next().cloned())
            .or_else(|| listeners.first().cloned())
            .unwrap_or_default();
        let mut f = Table::new("faults");
        f.array = true;
        f.comment.push(format!(
            "{PLACEHOLDER}: the fault to predict; kinds: kill, stop, blackhole, power-off, partition, slow, restart, switchover"
        ));
        f.set("kind", Val::str("kill", PLACEHOLDER));
        f.set("target", Val::str(&target, PLACEHOLDER));
        f.set("at", Val::str("60s", PLACEHOLDER));
        f.set("recover_after", Val::str("60s", PLACEHOLDER));
        doc.tables.push(f);
    } else {
        for spec in &opts.faults {
            doc.tables.push(fault(spec)?);
        }
    }

    if !found.warnings.is_empty() {
        doc.trailer.push(format!(
            "Not modelled, so not imported ({}):",
            found.warnings.len()
        ));
        for w in &found.warnings {
            doc.trailer.push(format!("  {w}"));
        }
    }
    Ok(doc.render())
}

/// A setting every server line of a balancer gives alike moves to its
/// `default_server` table (the same for every server, shorter to read).
fn hoist(b: &super::Balancer) -> (Table, Vec<Table>) {
    let mut dflt = b.default_server.clone();
    let mut per: Vec<Table> = b.servers.iter().map(|s| s.keys.clone()).collect();
    let Some(first) = per.first().cloned() else {
        return (dflt, per);
    };
    if per.len() < 2 {
        return (dflt, per);
    }
    for (k, v) in &first.keys {
        if per
            .iter()
            .all(|t| t.get(k).is_some_and(|w| w.toml == v.toml))
        {
            dflt.set(
                k,
                Val::new(
                    v.toml.clone(),
                    format!("{} (and every other server line)", v.note),
                ),
            );
            for t in &mut per {
                t.keys.retain(|(x, _)| x != k);
            }
        }
    }
    (dflt, per)
}

/// `--clients`: `vus=N` (closed loop, like k6 constant-vus) or `rate=N`
/// (open loop, requests/s), with `method=GET|POST`, `timeout=DUR`,
/// `sleep=DUR` (closed loop think time), `target=NODE`, comma-separated.
fn clients(
    opts: &Options,
    entry: &str,
    to_db: bool,
    library: Option<&str>,
) -> Result<Table, ImportError> {
    let mut t = Table::new("clients.users");
    if let Some(l) = library {
        t.set(
            "library",
            Val::str(
                l,
                "the clients ask the sentinels for the master (redis-py's Sentinel)",
            ),
        );
    }
    let method = if to_db { "POST" } else { "GET" };
    let Some(spec) = &opts.clients else {
        t.comment.push(format!(
            "{PLACEHOLDER}: the workload (or `hasim import --clients vus=20` / `--clients rate=100`)"
        ));
        t.set("type", Val::str("open", PLACEHOLDER));
        t.set(
            "target",
            Val::str(entry, "the front of the imported topology"),
        );
        t.set(
            "rate",
            Val::new("20", format!("{PLACEHOLDER}: requests per second")),
        );
        t.set(
            "method",
            Val::str(method, format!("{PLACEHOLDER}: POST is a write")),
        );
        t.set("timeout", Val::str("10s", PLACEHOLDER));
        return Ok(t);
    };
    let bad = |m: String| ImportError::Flag {
        flag: "--clients",
        value: spec.clone(),
        message: m,
    };
    let mut vus = None;
    let mut rate = None;
    let mut method = method.to_string();
    let mut timeout = None;
    let mut sleep = None;
    let mut target = entry.to_string();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad(format!("`{part}`: expected KEY=VALUE")))?;
        let num = |v: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|n| *n > 0.0)
                .ok_or_else(|| bad(format!("`{k}` expects a positive number, got `{v}`")))
        };
        let dur = |v: &str| {
            parse_duration(v)
                .map(|_| v.to_string())
                .map_err(|m| bad(format!("`{k}`: {m}")))
        };
        match k {
            "vus" => vus = Some(num(v)? as u64),
            "rate" => rate = Some(num(v)?),
            "method" if v == "GET" || v == "POST" => method = v.to_string(),
            "method" => return Err(bad(format!("`method` is GET or POST, got `{v}`"))),
            "timeout" => timeout = Some(dur(v)?),
            "sleep" => sleep = Some(dur(v)?),
            "target" => target = v.to_string(),
            _ => {
                return Err(bad(format!(
                    "unknown `{k}`: expected vus, rate, method, timeout, sleep or target"
                )));
            }
        }
    }
    let note = format!("--clients {spec}");
    t.set("target", Val::str(&target, note.clone()));
    match (vus, rate) {
        (Some(n), None) => {
            t.set("type", Val::str("closed", note.clone()));
            t.set("preset", Val::str("k6", ""));
            t.set("vus", Val::new(n.to_string(), note.clone()));
            let sleep = sleep.unwrap_or_else(|| "1s".into());
            t.set(
                "iteration",
                Val::new(
                    format!(
                        "[ {{ request = {} }}, {{ sleep = {} }} ]",
                        quote(&method),
                        quote(&sleep)
                    ),
                    note.clone(),
                ),
            );
        }
        (None, Some(r)) => {
            if sleep.is_some() {
                return Err(bad("`sleep` is for closed loops (`vus=N`)".into()));
            }
            t.set("type", Val::str("open", note.clone()));
            t.set("rate", Val::new(r.to_string(), note.clone()));
            t.set("method", Val::str(&method, note.clone()));
        }
        _ => {
            return Err(bad(
                "give one of vus=N (closed loop) or rate=N (open loop)".into()
            ));
        }
    }
    if let Some(d) = timeout {
        t.set("timeout", Val::str(&d, note));
    }
    Ok(t)
}

/// `--fault KIND:TARGET@AT[+RECOVER_AFTER]`, e.g. `power-off:mysql3@60s+30s`.
fn fault(spec: &str) -> Result<Table, ImportError> {
    let bad = |m: &str| ImportError::Flag {
        flag: "--fault",
        value: spec.to_string(),
        message: format!(
            "{m}; expected KIND:TARGET@AT[+RECOVER_AFTER], e.g. power-off:db1@60s+30s"
        ),
    };
    let (kind, rest) = spec
        .split_once(':')
        .ok_or_else(|| bad("no `:` after the kind"))?;
    const KINDS: &[&str] = &[
        "kill",
        "stop",
        "blackhole",
        "power-off",
        "restart",
        "switchover",
    ];
    if !KINDS.contains(&kind) {
        return Err(bad(&format!(
            "unknown kind `{kind}` (here: {}; partition and slow need more keys: edit the file)",
            KINDS.join(", ")
        )));
    }
    let (target, when) = rest
        .split_once('@')
        .ok_or_else(|| bad("no `@` before the instant"))?;
    if target.is_empty() {
        return Err(bad("no target"));
    }
    let (at, recover) = match when.split_once('+') {
        Some((a, r)) => (a, Some(r)),
        None => (when, None),
    };
    for d in std::iter::once(at).chain(recover) {
        parse_duration(d).map_err(|m| bad(&m))?;
    }
    let note = format!("--fault {spec}");
    let mut f = Table::new("faults");
    f.array = true;
    f.set("kind", Val::str(kind, note.clone()));
    f.set("target", Val::str(target, note.clone()));
    f.set("at", Val::str(at, note.clone()));
    if let Some(r) = recover {
        f.set("recover_after", Val::str(r, note));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_fault_flags() {
        let o = |c: &str| Options {
            clients: Some(c.into()),
            faults: vec![],
        };
        let t = clients(&o("vus=20,sleep=200ms"), "nginx", false, None).unwrap();
        assert_eq!(t.get("type").unwrap().toml, "\"closed\"");
        assert_eq!(t.get("vus").unwrap().toml, "20");
        assert!(t.get("iteration").unwrap().toml.contains("\"200ms\""));
        let t = clients(&o("rate=50,method=POST,timeout=5s"), "haproxy", false, None).unwrap();
        assert_eq!(t.get("rate").unwrap().toml, "50");
        assert_eq!(t.get("method").unwrap().toml, "\"POST\"");
        for bad in [
            "vus=0",
            "rate=x",
            "vus=2,rate=3",
            "method=PUT",
            "timeout=5",
            "foo=1",
            "x",
        ] {
            assert!(clients(&o(bad), "n", false, None).is_err(), "{bad}");
        }
        let f = fault("power-off:mysql3@60s+30s").unwrap();
        assert_eq!(f.get("kind").unwrap().toml, "\"power-off\"");
        assert_eq!(f.get("recover_after").unwrap().toml, "\"30s\"");
        for bad in [
            "explode:a@1s",
            "kill:a",
            "kill:@1s",
            "kill:a@60",
            "kill a@1s",
        ] {
            assert!(fault(bad).is_err(), "{bad}");
        }
    }
}
