//! `type = "patroni"`: PostgreSQL managed by Patroni 3.0 with an etcd DCS.
//! Keys are Patroni's own (`ttl`, `loop_wait`, ...) and PostgreSQL's
//! (`max_connections`, `wal_sender_timeout`); the rest are the model's
//! service times.

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::{Reader, Val};
use crate::engine::Dur;

pub use crate::products::patroni::WatchdogMode;

#[derive(Clone, Debug)]
pub struct PatroniSpec {
    /// The etcd members Patroni talks to (`dcs = "NAME"` of an etcd cluster).
    pub dcs: Vec<String>,
    pub ttl: Dur,
    pub loop_wait: Dur,
    pub retry_timeout: Dur,
    pub maximum_lag_on_failover: u64,
    pub primary_start_timeout: Dur,
    pub synchronous_mode: bool,
    pub synchronous_mode_strict: bool,
    /// Members with the `nofailover` tag.
    pub nofailover: Vec<String>,
    /// Members with the `noloadbalance` tag (`/replica` answers 503).
    pub noloadbalance: Vec<String>,
    pub watchdog: WatchdogMode,
    pub safety_margin: Dur,
    pub max_connections: u32,
    pub wal_sender_timeout: Dur,
    /// WAL bytes one client write adds (lag in bytes = writes x this).
    pub wal_per_write: u64,
    pub query_time: DistSpec,
    pub replication_delay: DistSpec,
    pub promote_time: DistSpec,
    pub start_time: DistSpec,
    pub stop_time: DistSpec,
}

pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    ctx: &ReadCx<'_, 'a>,
) -> Result<PatroniSpec, ConfigError> {
    let name = r
        .string_opt("dcs")?
        .ok_or_else(|| r.missing("dcs", "the etcd cluster Patroni uses, e.g. dcs = \"etcd\""))?;
    let at = r.item("dcs").expect("read above").at.clone();
    let dcs = ctx.cluster_ref(name, &at, &r.key_path("dcs"), "etcd")?;
    let ttl = r.positive_duration("ttl")?;
    let loop_wait = r.positive_duration("loop_wait")?;
    let retry_timeout = r.positive_duration("retry_timeout")?;
    if loop_wait + retry_timeout.times(2) > ttl {
        // Patroni 3.0.2 accepts it (3.2.0 enforces the rule): simulate it,
        // and say what it risks.
        ctx.warn(
            r,
            "ttl",
            format!(
                "loop_wait + 2 x retry_timeout ({loop_wait} + 2 x {retry_timeout}) exceeds ttl ({ttl}): \
                 a primary cut off from etcd may still be writable when its leader key expires and a \
                 replica promotes (two primaries, lost writes); Patroni 3.0.2 accepts this, 3.2 refuses it"
            ),
        );
    }
    if ttl < Dur::from_secs(2) {
        // etcd's minimum lease TTL is ceil(1.5 x election timeout) = 2 s.
        return Err(r.error_at("ttl", "etcd grants leases of at least 2s (min lease TTL)"));
    }
    let maximum_lag_on_failover = r.u64_opt("maximum_lag_on_failover")?.unwrap_or(1_048_576);
    let primary_start_timeout = r.duration("primary_start_timeout")?;
    let synchronous_mode = r.bool("synchronous_mode")?;
    let synchronous_mode_strict = r.bool("synchronous_mode_strict")?;
    let nofailover = tagged(r, ctx, "nofailover")?;
    let noloadbalance = tagged(r, ctx, "noloadbalance")?;
    r.reject(
        "check_endpoint",
        "the endpoint a check asks is its own: give the balancer's `option_httpchk` the \
         path (\"GET /primary\", \"GET /replica?lag=16MB\", ...) instead",
    )?;
    let watchdog = match r.string_enum("watchdog", &["off", "automatic", "required"])? {
        "off" => WatchdogMode::Off,
        _ => WatchdogMode::On,
    };
    let safety_margin = r.duration("safety_margin")?;
    if watchdog == WatchdogMode::On && safety_margin >= ttl {
        return Err(r.error_at("safety_margin", "must be shorter than ttl"));
    }
    let max_connections = r.u32_min("max_connections", 1)?;
    let wal_sender_timeout = r.positive_duration("wal_sender_timeout")?;
    let wal_per_write = r.u64_opt("wal_per_write")?.unwrap_or(128).max(1);
    Ok(PatroniSpec {
        dcs,
        ttl,
        loop_wait,
        retry_timeout,
        maximum_lag_on_failover,
        primary_start_timeout,
        synchronous_mode,
        synchronous_mode_strict,
        nofailover,
        noloadbalance,
        watchdog,
        safety_margin,
        max_connections,
        wal_sender_timeout,
        wal_per_write,
        query_time: r.dist("query_time")?,
        replication_delay: r.dist("replication_delay")?,
        promote_time: r.dist("promote_time")?,
        start_time: r.dist("start_time")?,
        stop_time: r.dist("stop_time")?,
    })
}

/// A Patroni tag given as the list of members that carry it: `key = [...]`.
fn tagged<'a>(
    r: &mut Reader<'a>,
    ctx: &ReadCx<'_, 'a>,
    key: &'static str,
) -> Result<Vec<String>, ConfigError> {
    let Some(item) = r.item(key) else {
        return Ok(Vec::new());
    };
    let Val::Array(list) = &item.val else {
        return Err(r.error_at(key, "expected an array of member names"));
    };
    let mut out = Vec::new();
    for e in list {
        let Some(s) = e.as_str() else {
            return Err(r.error_at(key, "expected an array of member names"));
        };
        if !ctx.members().iter().any(|m| m == s) {
            return Err(r.error_at(
                key,
                format!(
                    "`{s}` is not a member of {} ({})",
                    ctx.name(),
                    ctx.members().join(", ")
                ),
            ));
        }
        out.push(s.to_string());
    }
    Ok(out)
}
