//! Patroni's registration: `type = "patroni"` under `[databases.NAME]`
//! (PostgreSQL under Patroni, with an etcd cluster as its DCS).

use super::config::{self, PatroniSpec};
use super::{PATRONI, POSTGRES, Patroni, SWITCHOVER, WatchdogMode, for_cluster};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::faults::{Action, RESTART};
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};
use crate::report::Breakdown;

impl Product for Patroni {
    type Spec = PatroniSpec;
    const TYPE: &'static str = "patroni";
    const SECTIONS: &'static [Section] = &[Section::Database];
    /// One preset per release whose mechanisms differ (`version`), and
    /// `patroni-3.0`, the name experiment files used before: Debian 12's 3.0.2.
    const PRESETS: &'static [Preset] = &[
        crate::preset!("patroni-3.0.2"),
        crate::preset!("patroni-3.0.3"),
        crate::preset!("patroni-3.3"),
        Preset {
            name: "patroni-3.0",
            file: "models/patroni-3.0.2.toml",
            text: include_str!("../../../models/patroni-3.0.2.toml"),
        },
    ];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = true;
    const ERRORS: &'static [DbErrorCode] = super::errors::CODES;
    const ACTIONS: &'static [&'static Action] = &[&SWITCHOVER, &RESTART];
    const PROCESSES: &'static [&'static str] = &[POSTGRES, PATRONI];

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<PatroniSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &PatroniSpec, cx: &mut BuildCx) -> (Patroni, u32) {
        let (cluster, me, ids) = cx.cluster(node);
        let dcs = cx.ids(&spec.dcs);
        (
            Patroni::new(cluster, spec, me, &ids, dcs),
            crate::products::DB_BACKLOG,
        )
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &PatroniSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }

    /// The REST API's endpoints, routed as api.py's `do_GET` does.
    fn check_code(path: &str) -> Result<u32, String> {
        super::rest::code(path)
    }

    /// The leader key taken: the bootstrapping member's first HA cycle comes
    /// within `loop_wait`, its DCS writes retry for up to `retry_timeout`.
    fn formation(spec: &PatroniSpec) -> Dur {
        spec.loop_wait + spec.retry_timeout
    }

    fn breakdown(spec: &ExperimentSpec, node: &NodeSpec, own: &PatroniSpec) -> Option<Breakdown> {
        let cluster = node.cluster.as_ref()?;
        let check = spec
            .nodes
            .values()
            .find_map(|b| crate::products::check_timing(b, &cluster.members));
        for_cluster(spec, cluster, own, check)
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(p: &PatroniSpec) -> Vec<(&'static str, String)> {
    let list = |v: &[String]| format!("[{}]", v.join(", "));
    vec![
        ("version", p.version.name().to_string()),
        ("dcs", list(&p.dcs)),
        ("ttl", p.ttl.to_string()),
        ("loop_wait", p.loop_wait.to_string()),
        ("retry_timeout", p.retry_timeout.to_string()),
        ("maximum_lag_on_failover", p.maximum_lag_on_failover.to_string()),
        ("primary_start_timeout", p.primary_start_timeout.to_string()),
        ("synchronous_mode", p.synchronous_mode.to_string()),
        ("synchronous_mode_strict", p.synchronous_mode_strict.to_string()),
        ("nofailover", list(&p.nofailover)),
        ("noloadbalance", list(&p.noloadbalance)),
        (
            "watchdog",
            match p.watchdog {
                WatchdogMode::Off => "off",
                WatchdogMode::On => "automatic",
            }
            .to_string(),
        ),
        ("safety_margin", p.safety_margin.to_string()),
        ("max_connections", p.max_connections.to_string()),
        ("wal_sender_timeout", p.wal_sender_timeout.to_string()),
        ("wal_per_write", p.wal_per_write.to_string()),
        ("query_time", crate::process::dist::describe(&p.query_time)),
        ("replication_delay", crate::process::dist::describe(&p.replication_delay)),
        ("promote_time", crate::process::dist::describe(&p.promote_time)),
        ("start_time", crate::process::dist::describe(&p.start_time)),
        ("startup_time", crate::process::dist::describe(&p.startup_time)),
        ("stop_time", crate::process::dist::describe(&p.stop_time)),
        (
            "crash_recovery_time",
            crate::process::dist::describe(&p.crash_recovery_time),
        ),
        (
            "patronictl_time",
            crate::process::dist::describe(&p.patronictl_time),
        ),
        (
            "orphan_reap_time",
            crate::process::dist::describe(&p.orphan_reap_time),
        ),
        ("rest_time", crate::process::dist::describe(&p.rest_time)),
    ]
}

