//! `type = "redis"`: redis-server with asynchronous replication, the first
//! member the master and the others its replicas (defaults in
//! `models/redis-7.0.toml`).

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::{Reader, Val};
use crate::engine::Dur;

/// What a restarted redis-server finds on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Persistence {
    /// `save ""` and `appendonly no`: it comes back empty.
    None,
    /// `appendonly yes`: it comes back with every write it had (the up to
    /// 1 s `appendfsync everysec` may lose is not modelled).
    Aof,
}

#[derive(Clone, Debug)]
pub struct RedisSpec {
    pub maxclients: u32,
    pub service: DistSpec,
    pub replica_read_only: bool,
    /// `replica-priority` of each member, in member order.
    pub replica_priority: Vec<u32>,
    pub min_replicas_to_write: u32,
    pub min_replicas_max_lag: Dur,
    pub repl_ping_replica_period: Dur,
    pub repl_timeout: Dur,
    pub persistence: Persistence,
}

pub(crate) fn read<'a>(r: &mut Reader<'a>, ctx: &ReadCx<'_, 'a>) -> Result<RedisSpec, ConfigError> {
    let replica_read_only = r.bool("replica_read_only")?;
    if !replica_read_only && ctx.members().len() > 1 {
        ctx.warn(
            r,
            "replica_read_only",
            "replicas with replica_read_only = false accept writes that the next full \
             resynchronisation discards (two writable nodes)"
                .to_string(),
        );
    }
    let min_replicas_to_write = r.u32_range("min_replicas_to_write", 0, 1000)?;
    let replicas = ctx.members().len().saturating_sub(1) as u32;
    if min_replicas_to_write > replicas {
        return Err(r.error_at(
            "min_replicas_to_write",
            format!(
                "the master of `{}` has {replicas} replicas: min_replicas_to_write = \
                 {min_replicas_to_write} refuses every write",
                ctx.name()
            ),
        ));
    }
    let persistence = match r.string_enum("persistence", &["none", "aof"])? {
        "aof" => Persistence::Aof,
        _ => Persistence::None,
    };
    Ok(RedisSpec {
        maxclients: r.u32_min("maxclients", 1)?,
        service: r.dist("service")?,
        replica_read_only,
        replica_priority: priorities(r, ctx)?,
        min_replicas_to_write,
        min_replicas_max_lag: r.positive_duration("min_replicas_max_lag")?,
        repl_ping_replica_period: r.positive_duration("repl_ping_replica_period")?,
        repl_timeout: r.positive_duration("repl_timeout")?,
        persistence,
    })
}

/// `replica_priority`: one value for every member, or one per member.
fn priorities<'a>(r: &mut Reader<'a>, ctx: &ReadCx<'_, 'a>) -> Result<Vec<u32>, ConfigError> {
    let n = ctx.members().len();
    let item = r.item("replica_priority");
    if let Some(Val::Array(list)) = item.map(|i| &i.val) {
        let path = r.key_path("replica_priority");
        if list.len() != n {
            return Err(r.error_at(
                "replica_priority",
                format!("one priority per member: `{}` has {n}, got {}", ctx.name(), list.len()),
            ));
        }
        return list
            .iter()
            .map(|e| Ok(ctx.src().as_int_range(e, &path, 0, 1_000_000)? as u32))
            .collect();
    }
    Ok(vec![r.u32_range("replica_priority", 0, 1_000_000)?; n])
}
