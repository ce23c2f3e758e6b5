//! proxysql.cnf (ProxySQL 2.x, libconfig syntax): `[balancers.proxysql]
//! type = "proxysql"` over the Galera cluster its `mysql_servers` name. From
//! `mysql_variables` the monitor, connect and shun variables hasim models
//! (their names without `mysql-`, milliseconds as durations); from the
//! first `mysql_galera_hostgroups` row its hostgroups, `max_writers` and
//! `writer_is_also_reader`. Everything else is a warning.

use super::libconfig::{self, Setting, Value};
use super::time;
use super::writer::{Table, Val};
use super::{Found, ImportError, Origin};

/// One `mysql_servers` row.
#[derive(Clone, Debug)]
pub struct Server {
    pub address: String,
    pub port: Option<u16>,
    pub at: Origin,
}

/// What one proxysql.cnf says.
#[derive(Clone, Debug)]
pub struct Proxy {
    pub at: Origin,
    pub keys: Table,
    /// Rows of `mysql_servers`, one per address (the first hostgroup's line).
    pub servers: Vec<Server>,
    pub servers_at: Option<Origin>,
}

const MS: &[&str] = &[
    "monitor_galera_healthcheck_interval",
    "monitor_galera_healthcheck_timeout",
    "monitor_ping_interval",
    "monitor_ping_timeout",
    "connect_retries_delay",
    "connect_timeout_server",
    "connect_timeout_server_max",
];
const COUNTS: &[&str] = &[
    "monitor_galera_healthcheck_max_timeout_count",
    "monitor_ping_max_failures",
    "shun_on_failures",
    "shun_recovery_time_sec",
    "connect_retries_on_failure",
];
const HOSTGROUPS: &[&str] = &[
    "writer_hostgroup",
    "backup_writer_hostgroup",
    "reader_hostgroup",
    "offline_hostgroup",
    "max_writers",
    "writer_is_also_reader",
];

fn scalar<'a>(file: &str, s: &'a Setting) -> Result<&'a str, ImportError> {
    match &s.value {
        Value::Scalar(v) => Ok(v),
        _ => Err(ImportError::parse(
            file,
            s.line,
            format!("`{}` expects a number or a string", s.name),
        )),
    }
}

fn number(file: &str, s: &Setting) -> Result<u64, ImportError> {
    let v = scalar(file, s)?;
    let t = v.trim_end_matches(['L', 'l']);
    let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => t.parse().ok(),
    };
    n.ok_or_else(|| {
        ImportError::parse(
            file,
            s.line,
            format!("`{}` expects a whole number, found `{v}`", s.name),
        )
    })
}

fn shown(v: &Value) -> String {
    match v {
        Value::Scalar(s) => s.clone(),
        Value::Group(_) => "{ ... }".into(),
        Value::List(_) => "( ... )".into(),
    }
}

pub fn read(file: &str, text: &str, found: &mut Found) -> Result<(), ImportError> {
    let top = libconfig::parse(file, text)?;
    let mut p = Proxy {
        at: Origin::new(file, 1),
        keys: Table::new(""),
        servers: Vec::new(),
        servers_at: None,
    };
    let mut rows = 0;
    for s in &top {
        let at = Origin::new(file, s.line);
        match (s.name.as_str(), &s.value) {
            ("mysql_variables", Value::Group(vars)) => {
                for v in vars {
                    let vat = Origin::new(file, v.line);
                    let name = v.name.strip_prefix("mysql-").unwrap_or(&v.name);
                    let note = format!("{vat}: {}={}", v.name, shown(&v.value));
                    if MS.contains(&name) {
                        let n = number(file, v)?;
                        p.keys.set(name, Val::new(time::toml(time::ms(n)), note));
                    } else if COUNTS.contains(&name) {
                        let n = number(file, v)?;
                        p.keys.set(name, Val::new(n.to_string(), note));
                    } else {
                        found.warn(
                            vat,
                            format!("mysql_variables `{} = {}`: not modelled", v.name, shown(&v.value)),
                        );
                    }
                }
            }
            ("mysql_servers", Value::List(list)) => {
                p.servers_at = Some(at);
                for (line, row) in list {
                    let rat = Origin::new(file, *line);
                    let Value::Group(cols) = row else {
                        return Err(ImportError::parse(file, *line, "a `mysql_servers` row is a group `{ address=..., port=... }`"));
                    };
                    let mut address = None;
                    let mut port = None;
                    for c in cols {
                        match c.name.as_str() {
                            "address" | "hostname" => address = Some(scalar(file, c)?.to_string()),
                            "port" => {
                                port = Some(u16::try_from(number(file, c)?).map_err(|_| {
                                    ImportError::parse(file, c.line, "`port` expects 0 to 65535")
                                })?)
                            }
                            "hostgroup" | "hostgroup_id" | "comment" => {}
                            _ => found.warn(
                                Origin::new(file, c.line),
                                format!("mysql_servers `{} = {}`: not modelled", c.name, shown(&c.value)),
                            ),
                        }
                    }
                    let address = address.ok_or_else(|| {
                        ImportError::parse(file, *line, "a `mysql_servers` row without `address`")
                    })?;
                    // One backend per address: ProxySQL lists a node once per hostgroup.
                    if !p.servers.iter().any(|x| x.address == address && x.port == port) {
                        p.servers.push(Server { address, port, at: rat });
                    }
                }
            }
            ("mysql_galera_hostgroups", Value::List(list)) => {
                for (line, row) in list {
                    let rat = Origin::new(file, *line);
                    rows += 1;
                    if rows > 1 {
                        found.warn(rat, "a second mysql_galera_hostgroups row: one Galera cluster per ProxySQL is modelled; not imported");
                        continue;
                    }
                    let Value::Group(cols) = row else {
                        return Err(ImportError::parse(file, *line, "a `mysql_galera_hostgroups` row is a group `{ writer_hostgroup=..., ... }`"));
                    };
                    for c in cols {
                        let cat = Origin::new(file, c.line);
                        let note = format!("{cat}: {}={}", c.name, shown(&c.value));
                        match c.name.as_str() {
                            k if HOSTGROUPS.contains(&k) => {
                                let n = number(file, c)?;
                                p.keys.set(k, Val::new(n.to_string(), note));
                            }
                            "active" => {
                                if number(file, c)? == 0 {
                                    found.warn(cat, "mysql_galera_hostgroups `active=0`: the row is imported as active");
                                }
                            }
                            "comment" => {}
                            _ => found.warn(
                                cat,
                                format!("mysql_galera_hostgroups `{} = {}`: not modelled", c.name, shown(&c.value)),
                            ),
                        }
                    }
                }
            }
            ("mysql_query_rules", _) => found.warn(
                at,
                "`mysql_query_rules`: not modelled; the model's rules are the read/write split (POST to the writer hostgroup, GET to the reader hostgroup)",
            ),
            _ => found.warn(at, format!("`{}`: not modelled", s.name)),
        }
    }
    found.proxies.push(p);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CNF: &str = "datadir=\"/var/lib/proxysql\"\n\
mysql_variables=\n{\n  threads=4\n  monitor_password=\"s3cret\"\n  monitor_galera_healthcheck_interval=2000\n  shun_on_failures=3\n  connect_timeout_server=3000\n}\n\
mysql_servers =\n(\n  { address=\"10.0.0.1\", port=3306, hostgroup=10, max_connections=200 },\n  { address=\"10.0.0.1\", port=3306, hostgroup=11 },\n  { address=\"10.0.0.2\", port=3306, hostgroup=12 }\n)\n\
mysql_galera_hostgroups =\n(\n  { writer_hostgroup=10, backup_writer_hostgroup=12, reader_hostgroup=11, offline_hostgroup=13, active=1, max_writers=1, writer_is_also_reader=2, max_transactions_behind=100 }\n)\n";

    #[test]
    fn variables_rows_and_warnings() {
        let mut f = Found::default();
        read("proxysql.cnf", CNF, &mut f).unwrap();
        let p = &f.proxies[0];
        let k = |key: &str| p.keys.get(key).unwrap().toml.clone();
        assert_eq!(k("monitor_galera_healthcheck_interval"), "\"2s\"");
        assert_eq!(k("connect_timeout_server"), "\"3s\"");
        assert_eq!(k("shun_on_failures"), "3");
        assert_eq!(k("writer_is_also_reader"), "2");
        assert_eq!(
            p.keys.get("shun_on_failures").unwrap().note,
            "proxysql.cnf:7: shun_on_failures=3"
        );
        assert_eq!(p.servers.len(), 2);
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "proxysql.cnf:1: `datadir`: not modelled",
            "proxysql.cnf:4: mysql_variables `threads = 4`",
            "proxysql.cnf:12: mysql_servers `max_connections = 200`",
            "proxysql.cnf:18: mysql_galera_hostgroups `max_transactions_behind = 100`",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
        assert!(!w.iter().any(|x| x.contains("s3cret")), "{w:#?}");
    }

    #[test]
    fn bad_values_name_the_line() {
        let e = |t: &str| {
            read("p.cnf", t, &mut Found::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("mysql_variables = {\n shun_on_failures = \"many\"\n}\n"),
            "p.cnf:2: `shun_on_failures` expects a whole number, found `many`"
        );
        assert_eq!(
            e("mysql_servers = ( { port = 3306 } )\n"),
            "p.cnf:1: a `mysql_servers` row without `address`"
        );
    }
}
