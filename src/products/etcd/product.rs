//! etcd's registration: `type = "etcd"` under `[databases.NAME]`.

use super::Etcd;
use super::config::{self, EtcdSpec};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::faults::{Action, RESTART};
use crate::products::{BuildCx, Product};

impl Product for Etcd {
    type Spec = EtcdSpec;
    const TYPE: &'static str = "etcd";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("etcd-3.4")];
    /// etcd only serves its clients' cluster state (Patroni's keys).
    const ACTIONS: &'static [&'static Action] = &[&RESTART];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<EtcdSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &EtcdSpec, cx: &mut BuildCx) -> (Etcd, u32) {
        let (_, me, ids) = cx.cluster(node);
        (Etcd::new(spec, me, &ids), crate::products::DB_BACKLOG)
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &EtcdSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }

    /// The model answers a check by being alive (etcd's `/health` path is
    /// not modelled apart).
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// A leader elected: the first campaign comes within two election
    /// timeouts (raft's randomized timeout), a split vote costs one more,
    /// and the leader's first heartbeat tells the others.
    fn formation(spec: &EtcdSpec) -> Dur {
        spec.election_timeout.times(3) + spec.heartbeat_interval
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(e: &EtcdSpec) -> Vec<(&'static str, String)> {
    vec![
        ("heartbeat_interval", e.heartbeat_interval.to_string()),
        ("election_timeout", e.election_timeout.to_string()),
    ]
}
