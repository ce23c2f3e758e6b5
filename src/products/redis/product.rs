//! Redis's registration: `type = "redis"` under `[databases.NAME]`.

use super::Redis;
use super::config::{self, Persistence, RedisSpec};
use crate::engine::Dur;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};

impl Product for Redis {
    type Spec = RedisSpec;
    const TYPE: &'static str = "redis";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("redis-7.0")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = true;
    const ERRORS: &'static [DbErrorCode] = super::errors::CODES;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<RedisSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &RedisSpec, cx: &mut BuildCx) -> (Redis, u32) {
        let (cluster, me, ids) = cx.cluster(node);
        // listen backlog: tcp-backlog 511.
        (Redis::new(cluster, spec, me, &ids), 511)
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &RedisSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }

    /// Its Layer 7 check (`role:master`) is a tcp-check: no path.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The model starts replicating: the replicas in sync with the master.
    fn formation(_: &RedisSpec) -> Dur {
        Dur::ZERO
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(r: &RedisSpec) -> Vec<(&'static str, String)> {
    vec![
        ("master", "member 1".to_string()),
        ("maxclients", r.maxclients.to_string()),
        ("service", crate::process::dist::describe(&r.service)),
        ("replica_read_only", r.replica_read_only.to_string()),
        (
            "replica_priority",
            r.replica_priority
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join("/"),
        ),
        ("min_replicas_to_write", r.min_replicas_to_write.to_string()),
        ("min_replicas_max_lag", r.min_replicas_max_lag.to_string()),
        (
            "repl_ping_replica_period",
            r.repl_ping_replica_period.to_string(),
        ),
        ("repl_timeout", r.repl_timeout.to_string()),
        (
            "persistence",
            match r.persistence {
                Persistence::None => "none",
                Persistence::Aof => "aof",
            }
            .to_string(),
        ),
    ]
}
