//! `type = "proxysql"` balancers: ProxySQL 2.x in front of a Galera cluster,
//! with one `mysql_galera_hostgroups` row (defaults and sources in
//! `models/proxysql-2.x.toml`). Variable names are ProxySQL's without the
//! `mysql-` prefix (`mysql-monitor_ping_interval` -> `monitor_ping_interval`).

use crate::config::ConfigError;
use crate::config::read::ReadCx;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct ProxysqlSpec {
    /// The Galera cluster behind it (`galera = "NAME"`).
    pub galera: String,
    /// Its members, in `mysql_servers` order (the order writers are picked in).
    pub servers: Vec<String>,
    pub writer_hostgroup: u32,
    pub backup_writer_hostgroup: u32,
    pub reader_hostgroup: u32,
    pub offline_hostgroup: u32,
    pub max_writers: u32,
    /// 0: writers and backup writers are not readers; 1: both are; 2: only
    /// backup writers are.
    pub writer_is_also_reader: u32,
    pub monitor_galera_healthcheck_interval: Dur,
    pub monitor_galera_healthcheck_timeout: Dur,
    pub monitor_galera_healthcheck_max_timeout_count: u32,
    pub monitor_ping_interval: Dur,
    pub monitor_ping_timeout: Dur,
    pub monitor_ping_max_failures: u32,
    pub shun_on_failures: u32,
    pub shun_recovery_time_sec: u32,
    pub connect_retries_on_failure: u32,
    pub connect_retries_delay: Dur,
    pub connect_timeout_server: Dur,
    pub connect_timeout_server_max: Dur,
}

/// Reads a `type = "proxysql"` balancer over its preset.
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<ProxysqlSpec, ConfigError> {
    r.reject(
        "servers",
        "ProxySQL's backends are a Galera cluster's members: write galera = \"NAME\"",
    )?;
    let galera = r.string_opt("galera")?.ok_or_else(|| {
        r.missing(
            "galera",
            "the Galera cluster behind it (`mysql_galera_hostgroups`), e.g. galera = \"db\"",
        )
    })?;
    let at = r.item("galera").expect("read above").at.clone();
    let servers = cx.cluster_ref(galera, &at, &r.key_path("galera"), "galera")?;
    r.reject(
        "max_transactions_behind",
        "not modelled: the Galera model exposes no wsrep_local_recv_queue to compare it with",
    )?;
    let writer_hostgroup = r.u32_min("writer_hostgroup", 0)?;
    let backup_writer_hostgroup = r.u32_min("backup_writer_hostgroup", 0)?;
    let reader_hostgroup = r.u32_min("reader_hostgroup", 0)?;
    let offline_hostgroup = r.u32_min("offline_hostgroup", 0)?;
    // mysql_galera_hostgroups' CHECKs: the four hostgroups differ.
    let groups = [
        ("writer_hostgroup", writer_hostgroup),
        ("backup_writer_hostgroup", backup_writer_hostgroup),
        ("reader_hostgroup", reader_hostgroup),
        ("offline_hostgroup", offline_hostgroup),
    ];
    for (i, (k, v)) in groups.iter().enumerate() {
        if let Some((other, _)) = groups[..i].iter().find(|(_, w)| w == v) {
            return Err(r.error_at(
                k,
                format!("hostgroup {v} is also the {other}: the four hostgroups must differ"),
            ));
        }
    }
    let max_writers = r.u32_min("max_writers", 0)?;
    let writer_is_also_reader = r.u32_range("writer_is_also_reader", 0, 2)?;
    let monitor_galera_healthcheck_interval =
        r.positive_duration("monitor_galera_healthcheck_interval")?;
    let monitor_galera_healthcheck_timeout =
        r.positive_duration("monitor_galera_healthcheck_timeout")?;
    let monitor_galera_healthcheck_max_timeout_count =
        r.u32_min("monitor_galera_healthcheck_max_timeout_count", 1)?;
    let monitor_ping_interval = r.positive_duration("monitor_ping_interval")?;
    let monitor_ping_timeout = r.positive_duration("monitor_ping_timeout")?;
    let monitor_ping_max_failures = r.u32_min("monitor_ping_max_failures", 1)?;
    let shun_on_failures = r.u32_min("shun_on_failures", 1)?;
    let shun_recovery_time_sec = r.u32_range("shun_recovery_time_sec", 0, 31_536_000)?;
    let connect_retries_on_failure = r.u32_range("connect_retries_on_failure", 0, 1000)?;
    let connect_retries_delay = r.duration("connect_retries_delay")?;
    let connect_timeout_server = r.positive_duration("connect_timeout_server")?;
    let connect_timeout_server_max = r.positive_duration("connect_timeout_server_max")?;
    if connect_timeout_server_max < connect_timeout_server {
        return Err(r.error_at(
            "connect_timeout_server_max",
            format!(
                "{connect_timeout_server_max} is below connect_timeout_server \
                 ({connect_timeout_server}): it bounds all the attempts together"
            ),
        ));
    }
    Ok(ProxysqlSpec {
        galera: galera.to_string(),
        servers,
        writer_hostgroup,
        backup_writer_hostgroup,
        reader_hostgroup,
        offline_hostgroup,
        max_writers,
        writer_is_also_reader,
        monitor_galera_healthcheck_interval,
        monitor_galera_healthcheck_timeout,
        monitor_galera_healthcheck_max_timeout_count,
        monitor_ping_interval,
        monitor_ping_timeout,
        monitor_ping_max_failures,
        shun_on_failures,
        shun_recovery_time_sec,
        connect_retries_on_failure,
        connect_retries_delay,
        connect_timeout_server,
        connect_timeout_server_max,
    })
}
