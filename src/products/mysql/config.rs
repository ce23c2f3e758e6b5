//! `type = "mysql"`: MariaDB / MySQL asynchronous replication, one primary and
//! read-only replicas (defaults in `models/mariadb-10.11.toml`).

use crate::config::error::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::Dur;

#[derive(Clone, Debug)]
pub struct MysqlSpec {
    /// Index of the primary among the members.
    pub primary: usize,
    pub max_connections: u32,
    pub service: DistSpec,
    pub apply: DistSpec,
    pub read_only: bool,
    pub slave_net_timeout: Dur,
    pub master_connect_retry: Dur,
    pub semi_sync: bool,
    pub semi_sync_timeout: Dur,
}

pub(crate) fn read<'a>(r: &mut Reader<'a>, ctx: &ReadCx<'_, 'a>) -> Result<MysqlSpec, ConfigError> {
    let primary = match r.string_opt("primary")? {
        None => 0,
        Some(p) => ctx.members().iter().position(|m| m == p).ok_or_else(|| {
            r.error_at(
                "primary",
                format!(
                    "`{p}` is not a member of `{}` (members: {})",
                    ctx.name(),
                    ctx.members().join(", ")
                ),
            )
        })?,
    };
    let read_only = r.bool("read_only")?;
    if !read_only && ctx.members().len() > 1 {
        ctx.warn(
            r,
            "read_only",
            "replicas with read_only = false accept writes that never reach the primary: \
             the data diverges silently (two writable nodes)"
                .to_string(),
        );
    }
    Ok(MysqlSpec {
        primary,
        max_connections: r.u32_min("max_connections", 1)?,
        service: r.dist("service")?,
        apply: r.dist("apply")?,
        read_only,
        slave_net_timeout: r.positive_duration("slave_net_timeout")?,
        master_connect_retry: r.positive_duration("master_connect_retry")?,
        semi_sync: r.bool("rpl_semi_sync_master_enabled")?,
        semi_sync_timeout: r.positive_duration("rpl_semi_sync_master_timeout")?,
    })
}
