//! Sentinel's registration: `type = "sentinel"` under `[databases.NAME]`.

use super::Sentinel;
use super::config::{self, SentinelSpec};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};

impl Product for Sentinel {
    type Spec = SentinelSpec;
    const TYPE: &'static str = "sentinel";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("sentinel-7.0")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    /// Sentinels hold the group's configuration, not client data.
    const HOLDS_CLIENT_DATA: bool = false;
    const ERRORS: &'static [DbErrorCode] = &[super::NO_MASTER];

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<SentinelSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &SentinelSpec, cx: &mut BuildCx) -> (Sentinel, u32) {
        let (_, me, ids) = cx.cluster(node);
        let redis = cx.ids(&spec.redis);
        // Sentinel's tcp-backlog: 511.
        (Sentinel::new(spec, me, &redis, &ids.members), 511)
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &SentinelSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(s: &SentinelSpec) -> Vec<(&'static str, String)> {
    vec![
        (
            "monitor",
            format!("{} (master {})", s.monitor, s.redis[0]),
        ),
        ("quorum", s.quorum.to_string()),
        ("down_after_milliseconds", s.down_after.to_string()),
        ("failover_timeout", s.failover_timeout.to_string()),
        ("parallel_syncs", s.parallel_syncs.to_string()),
    ]
}
