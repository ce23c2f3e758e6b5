//! `type = "sentinel"`: Redis Sentinel processes monitoring one `type =
//! "redis"` group (defaults in `models/sentinel-7.0.toml`).

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct SentinelSpec {
    /// The redis group monitored (`sentinel monitor <name> ...`).
    pub monitor: String,
    /// Its members, the first the master at start.
    pub redis: Vec<String>,
    pub quorum: u32,
    pub down_after: Dur,
    pub failover_timeout: Dur,
    pub parallel_syncs: u32,
}

pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    ctx: &ReadCx<'_, 'a>,
) -> Result<SentinelSpec, ConfigError> {
    let monitor = r
        .string_opt("monitor")?
        .ok_or_else(|| r.missing("monitor", "the redis group the sentinels watch, e.g. monitor = \"cache\""))?;
    let at = r.item("monitor").expect("read above").at.clone();
    let redis = ctx.cluster_ref(monitor, &at, &r.key_path("monitor"), "redis")?;
    let sentinels = ctx.members().len() as u32;
    let quorum = r.u32_min("quorum", 1)?;
    if quorum > sentinels {
        return Err(r.error_at(
            "quorum",
            format!(
                "quorum {quorum} is more than the {sentinels} sentinels of `{}`: the master \
                 could never be agreed down (ODOWN), so no failover would ever start",
                ctx.name()
            ),
        ));
    }
    let down_after = r.positive_duration("down_after_milliseconds")?;
    let failover_timeout = r.positive_duration("failover_timeout")?;
    let parallel_syncs = r.u32_min("parallel_syncs", 1)?;
    if sentinels < 3 {
        ctx.warn(
            r,
            "count",
            format!(
                "{sentinels} sentinel(s): a failover needs a majority of them, so losing one \
                 (or the host it shares with the master) leaves none possible"
            ),
        );
    }
    Ok(SentinelSpec {
        monitor: monitor.to_string(),
        redis,
        quorum,
        down_after,
        failover_timeout,
        parallel_syncs,
    })
}
