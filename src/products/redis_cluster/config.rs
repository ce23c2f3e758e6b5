//! `type = "redis-cluster"`: Redis 7 Cluster, masters owning hash slots and
//! their replicas (defaults in `models/redis-cluster-7.0.toml`).

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct RedisClusterSpec {
    /// Masters (shards): members 1..=masters; member `masters + k` is a
    /// replica of master `k % masters` (one host per member with `hosts`).
    pub masters: u32,
    pub node_timeout: Dur,
    pub validity_factor: u32,
    pub repl_ping_replica_period: Dur,
    pub require_full_coverage: bool,
    pub allow_reads_when_down: bool,
    pub replica_no_failover: bool,
    pub maxclients: u32,
    pub service: DistSpec,
}

/// `redis-cli --cluster create` refuses fewer masters.
const MIN_MASTERS: u32 = 3;

pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<RedisClusterSpec, ConfigError> {
    let count = cx.members().len() as u32;
    let masters = r.u32_min_opt("masters", 1)?;
    let per = r.u32_range_opt("replicas_per_master", 0, 16)?;
    let masters = match (masters, per) {
        (Some(_), Some(_)) => {
            return Err(r.error_at(
                "replicas_per_master",
                "give `masters` or `replicas_per_master`, not both",
            ));
        }
        (Some(m), None) => {
            if m > count {
                return Err(r.error_at(
                    "masters",
                    format!("{m} masters but `{}` has {count} members", cx.name()),
                ));
            }
            m
        }
        (None, Some(p)) => {
            if !count.is_multiple_of(p + 1) {
                return Err(r.error_at(
                    "replicas_per_master",
                    format!(
                        "{count} members do not split into masters with {p} replicas each \
                         (count must be a multiple of {})",
                        p + 1
                    ),
                ));
            }
            count / (p + 1)
        }
        (None, None) => count,
    };
    if masters < MIN_MASTERS {
        let key = if r.set_here("masters") {
            "masters"
        } else if r.set_here("replicas_per_master") {
            "replicas_per_master"
        } else {
            "count"
        };
        return Err(r.error_at(
            key,
            format!(
                "a Redis Cluster needs at least {MIN_MASTERS} masters (redis-cli --cluster \
                 create refuses fewer: a failover needs votes from a majority of them), got \
                 {masters}"
            ),
        ));
    }
    let node_timeout = r.positive_duration("cluster_node_timeout")?;
    let validity_factor = r.u32_range("cluster_replica_validity_factor", 0, 1_000_000)?;
    let replica_no_failover = r.bool("cluster_replica_no_failover")?;
    if replica_no_failover && masters < count {
        cx.warn(
            r,
            "cluster_replica_no_failover",
            "no replica fails over: a master's slots stay down until it is back".to_string(),
        );
    }
    Ok(RedisClusterSpec {
        masters,
        node_timeout,
        validity_factor,
        repl_ping_replica_period: r.positive_duration("repl_ping_replica_period")?,
        require_full_coverage: r.bool("cluster_require_full_coverage")?,
        allow_reads_when_down: r.bool("cluster_allow_reads_when_down")?,
        replica_no_failover,
        maxclients: r.u32_min("maxclients", 1)?,
        service: r.dist("service")?,
    })
}
