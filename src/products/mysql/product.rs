//! Mysql's registration: `type = "mysql"` under `[databases.NAME]`.

use super::Mysql;
use super::config::{self, MysqlSpec};
use crate::engine::Dur;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::{Action, RESTART};
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};

impl Product for Mysql {
    type Spec = MysqlSpec;
    const TYPE: &'static str = "mysql";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("mariadb-10.11")];
    const ACTIONS: &'static [&'static Action] = &[&RESTART];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = true;
    const ERRORS: &'static [DbErrorCode] = super::errors::CODES;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<MysqlSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &MysqlSpec, cx: &mut BuildCx) -> (Mysql, u32) {
        let (cluster, me, ids) = cx.cluster(node);
        (
            Mysql::new(cluster, spec, me, &ids),
            crate::products::DB_BACKLOG,
        )
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &MysqlSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }

    /// The model's HTTP check answers every path alike.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The model starts replicating: replicas connected to the primary.
    fn formation(_: &MysqlSpec) -> Dur {
        Dur::ZERO
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(m: &MysqlSpec) -> Vec<(&'static str, String)> {
    vec![
        ("primary", format!("member {}", m.primary + 1)),
        ("max_connections", m.max_connections.to_string()),
        ("service", crate::process::dist::describe(&m.service)),
        ("apply", crate::process::dist::describe(&m.apply)),
        ("read_only", m.read_only.to_string()),
        ("slave_net_timeout", m.slave_net_timeout.to_string()),
        ("master_connect_retry", m.master_connect_retry.to_string()),
        ("rpl_semi_sync_master_enabled", m.semi_sync.to_string()),
        ("rpl_semi_sync_master_timeout", m.semi_sync_timeout.to_string()),
    ]
}
