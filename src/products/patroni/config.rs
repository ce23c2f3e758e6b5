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

/// `version`: the Patroni release whose mechanisms the model follows. Not a
/// number the model computes with: each variant switches a code path the
/// releases differ in (see [`Version::unconditional_leader_put`],
/// [`Version::adjusts_timeouts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    /// 3.0.2 (Debian 12's `patroni` 3.0.2-1): etcd3 `_update_leader` puts the
    /// leader key unconditionally once it holds a new lease.
    V3_0_2,
    /// 3.0.3: `_update_leader` is a transaction (PR #2693); the timeouts are
    /// still taken as given.
    V3_0_3,
    /// 3.3: the transaction, and since 3.2.0 `loop_wait`, `retry_timeout`,
    /// `ttl` adjusted to their minimums and to `loop_wait + 2 x retry_timeout
    /// <= ttl` (config.py `_validate_and_adjust_timeouts`).
    V3_3,
}

impl Version {
    pub const NAMES: &'static [&'static str] = &["3.0.2", "3.0.3", "3.3"];

    pub fn name(self) -> &'static str {
        match self {
            Version::V3_0_2 => "3.0.2",
            Version::V3_0_3 => "3.0.3",
            Version::V3_3 => "3.3",
        }
    }

    /// v3.0.2 patroni/dcs/etcd3.py `_update_leader`: after the forced lease
    /// refresh, when the lease differs from the one the cached cluster view
    /// gives the leader key, `self._client.put(self.leader_path, self._name,
    /// self._lease)`, a put with no compare: it overwrites whoever holds the
    /// key. v3.0.3 (commit 1c7bf2f5, PR #2693) replaced it with
    /// `txn(compare value == name -> put, else txn(create_revision == 0 -> put))`.
    pub fn unconditional_leader_put(self) -> bool {
        self == Version::V3_0_2
    }

    /// 3.2.0 (docs/releases.rst, "Enforce loop_wait + 2*retry_timeout <= ttl
    /// rule and hard-code minimal possible values"); before it the values are
    /// used as given.
    pub fn adjusts_timeouts(self) -> bool {
        self == Version::V3_3
    }
}

#[derive(Clone, Debug)]
pub struct PatroniSpec {
    pub version: Version,
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
    /// From Patroni's start of the postmaster until it listens (refused).
    pub start_time: DistSpec,
    /// From the port opening until it accepts connections (57P03 meanwhile).
    pub startup_time: DistSpec,
    pub stop_time: DistSpec,
    /// Crash recovery in single-user mode after PostgreSQL died as a primary
    /// (ha.py `_handle_crash_recovery`): the port stays closed meanwhile.
    pub crash_recovery_time: DistSpec,
    /// `patronictl switchover`'s own time until its `POST /switchover`
    /// reaches the leader's REST API (start-up, configuration, DCS read).
    pub patronictl_time: DistSpec,
    /// How long the killed postmaster stays a zombie before the host's init
    /// reaps it. Patroni starts the postmaster from a child that exits
    /// (postmaster.py `pg_ctl_start`: `os.setsid()`, `subprocess.Popen`), so
    /// its parent is PID 1; until PID 1 reaps it, psutil's `is_running()` is
    /// true for the zombie and the HA loop does not see PostgreSQL down.
    pub orphan_reap_time: DistSpec,
    /// A member's REST API answering another member's poll (api.py
    /// `do_GET` /patroni: a query to its PostgreSQL, then the JSON), on top
    /// of the network round trip.
    pub rest_time: DistSpec,
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
    let version = match r.string_enum("version", Version::NAMES)? {
        "3.0.2" => Version::V3_0_2,
        "3.0.3" => Version::V3_0_3,
        _ => Version::V3_3,
    };
    let mut ttl = r.positive_duration("ttl")?;
    let mut loop_wait = r.positive_duration("loop_wait")?;
    let mut retry_timeout = r.positive_duration("retry_timeout")?;
    if version.adjusts_timeouts() {
        let given = (ttl, loop_wait, retry_timeout);
        (ttl, loop_wait, retry_timeout) = adjust_timeouts(ttl, loop_wait, retry_timeout);
        if given != (ttl, loop_wait, retry_timeout) {
            ctx.warn(
                r,
                "ttl",
                format!(
                    "Patroni {} adjusts ttl / loop_wait / retry_timeout {} / {} / {} to {ttl} / {loop_wait} / \
                     {retry_timeout} (minimums 20s / 1s / 3s and loop_wait + 2 x retry_timeout <= ttl)",
                    version.name(),
                    given.0,
                    given.1,
                    given.2
                ),
            );
        }
    }
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
        version,
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
        startup_time: r.dist("startup_time")?,
        stop_time: r.dist("stop_time")?,
        crash_recovery_time: r.dist("crash_recovery_time")?,
        patronictl_time: r.dist("patronictl_time")?,
        orphan_reap_time: r.dist("orphan_reap_time")?,
        rest_time: r.dist("rest_time")?,
    })
}

/// Patroni 3.2+ config.py `_validate_and_adjust_timeouts`: each value raised
/// to its minimum (`loop_wait` 1 s, `retry_timeout` 3 s, `ttl` 20 s), then
/// `loop_wait` reduced, and `retry_timeout` too when `loop_wait` is already
/// 1 s, until `loop_wait + 2 x retry_timeout <= ttl`. Patroni's values are
/// whole seconds: `(ttl - 1) // 2` rounds down to one.
pub fn adjust_timeouts(ttl: Dur, loop_wait: Dur, retry_timeout: Dur) -> (Dur, Dur, Dur) {
    let one = Dur::from_secs(1);
    let loop_wait = loop_wait.max(one);
    let retry_timeout = retry_timeout.max(Dur::from_secs(3));
    let ttl = ttl.max(Dur::from_secs(20));
    if one + retry_timeout.times(2) > ttl {
        let secs = (ttl.0 - one.0) / 2 / Dur::S;
        (ttl, one, Dur::from_secs(secs))
    } else if loop_wait + retry_timeout.times(2) > ttl {
        (ttl, ttl.saturating_sub(retry_timeout.times(2)), retry_timeout)
    } else {
        (ttl, loop_wait, retry_timeout)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> Dur {
        Dur::from_secs(n)
    }

    #[test]
    fn timeouts_are_adjusted_as_config_py_does_from_3_2() {
        // The defaults pass unchanged.
        assert_eq!(adjust_timeouts(s(30), s(10), s(10)), (s(30), s(10), s(10)));
        // ttl raised to 20 s; loop_wait reduced to ttl - 2 x retry_timeout.
        assert_eq!(adjust_timeouts(s(10), s(2), s(5)), (s(20), s(2), s(5)));
        assert_eq!(adjust_timeouts(s(30), s(15), s(10)), (s(30), s(10), s(10)));
        // retry_timeout too large even with loop_wait 1: (ttl - 1) // 2.
        assert_eq!(adjust_timeouts(s(20), s(10), s(10)), (s(20), s(1), s(9)));
        // Minimums.
        assert_eq!(
            adjust_timeouts(s(25), Dur::from_ms(500), s(1)),
            (s(25), s(1), s(3))
        );
    }
}
