//! Sentinel's registration: `type = "sentinel"` under `[databases.NAME]`.

use super::Sentinel;
use super::config::{self, SentinelSpec};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::engine::Dur;
use crate::report::Breakdown;
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

    /// Sentinels serve no HTTP checks.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The sentinels start knowing the master, its replicas and each
    /// other (no discovery is modelled), with nothing flagged down.
    fn formation(_: &SentinelSpec) -> Dur {
        Dur::ZERO
    }

    fn breakdown(_spec: &ExperimentSpec, _node: &NodeSpec, own: &SentinelSpec) -> Option<Breakdown> {
        Some(Breakdown {
            cluster: own.monitor.clone(),
            title: format!(
                "Sentinel failover of `{}` after its master is lost (redis-sentinel.md §2-3)",
                own.monitor
            ),
            rows: failover_breakdown(own),
        })
    }
}

/// The reference's phases from the master's loss to the switch, each from
/// the end of the previous one, and their total. The timer runs at 10-19 Hz
/// (a tick is up to 0.1 s).
pub fn failover_breakdown(s: &SentinelSpec) -> Vec<(String, Dur, Dur)> {
    let tick = Dur::from_ms(100);
    let period = s.down_after.min(Dur::from_secs(1));
    let others = (s.redis.len() as u64).saturating_sub(2);
    let batches = others.div_ceil(s.parallel_syncs.max(1) as u64);
    let mut v: Vec<(String, Dur, Dur)> = vec![
        (
            "SDOWN: down-after after the first unanswered PING (killed: the reconnect's, \
             at once; host lost or stopped: the next one, within the ping period)"
                .into(),
            s.down_after,
            s.down_after + period + tick,
        ),
        (
            "ODOWN: the quorum-th sentinel's SDOWN, is-master-down-by-addr every 1 s".into(),
            Dur::ZERO,
            Dur::from_secs(1) + tick,
        ),
        (
            "votes, leader, replica selected, REPLICAOF NO ONE (state-machine ticks)".into(),
            Dur::ZERO,
            tick.times(3),
        ),
        (
            "promotion seen by INFO (every 1 s): +promoted-slave, forced hello: the \
             other sentinels switch"
                .into(),
            Dur::ZERO,
            Dur::from_secs(1) + tick,
        ),
        (
            format!(
                "{others} other replica(s) reconfigured, parallel-syncs {} (INFO every 1 s): \
                 +failover-end, the leader's +switch-master",
                s.parallel_syncs
            ),
            Dur::ZERO,
            (Dur::from_secs(1) + tick).times(batches),
        ),
    ];
    let lo = v.iter().fold(Dur::ZERO, |a, x| a + x.1);
    let hi = v.iter().fold(Dur::ZERO, |a, x| a + x.2);
    v.push(("total (from the fault)".into(), lo, hi));
    v
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
