//! Redis Cluster's registration: `type = "redis-cluster"` under
//! `[databases.NAME]`.

use super::RedisCluster;
use super::config::{self, RedisClusterSpec};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, Fault, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};
use crate::report::{Breakdown, FormulaRange};

/// Members are numbered in a byte (with one value kept for "none"), and
/// gossip picks peers from a 64-bit set.
const MAX_MEMBERS: u32 = 64;

impl Product for RedisCluster {
    type Spec = RedisClusterSpec;
    const TYPE: &'static str = "redis-cluster";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("redis-cluster-7.0")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = true;
    const ERRORS: &'static [DbErrorCode] = super::errors::CODES;

    fn read<'a>(
        r: &mut Reader<'a>,
        cx: &ReadCx<'_, 'a>,
    ) -> Result<RedisClusterSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &RedisClusterSpec, cx: &mut BuildCx) -> (RedisCluster, u32) {
        let (cluster, me, ids) = cx.cluster(node);
        let data = (0..spec.masters)
            .map(|s| cx.data_index(cluster, s))
            .collect();
        (
            RedisCluster::new(spec, me, ids.members, data),
            crate::products::DB_BACKLOG,
        )
    }

    /// Its check is the topology query: no path.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// State ok everywhere: a started master stays in state fail for
    /// `CLUSTER_WRITABLE_DELAY`, then clusterCron's next tick updates it;
    /// the replicas' first sync is a round trip.
    fn formation(_: &RedisClusterSpec) -> Dur {
        super::WRITABLE_DELAY + super::CRON.times(2)
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &RedisClusterSpec) {
        let mut s = settings(spec);
        if let Some(c) = &node.cluster {
            let m = spec.masters as usize;
            let replicas: Vec<String> = (m..c.members.len())
                .map(|k| format!("{} of {}", c.members[k], c.members[(k - m) % m]))
                .collect();
            let layout = match replicas.is_empty() {
                true => "no replicas".to_string(),
                false => format!("replicas {}", replicas.join(", ")),
            };
            s.insert(1, ("layout", layout));
        }
        crate::describe::cluster(o, node, &s);
    }

    fn check_count(n: u32) -> Result<(), String> {
        if n <= MAX_MEMBERS {
            return Ok(());
        }
        Err(format!(
            "a Redis Cluster has at most {MAX_MEMBERS} members here, got {n}: the model numbers \
             members in a byte and picks gossip from a 64-bit set"
        ))
    }

    /// One data log per shard: lost writes and split-brain are judged per
    /// slot range.
    fn data_shards(spec: &RedisClusterSpec) -> u32 {
        spec.masters
    }

    /// The surviving masters flag a dead or cut-off member PFAIL NT after
    /// their first unanswered ping (sent within NT/2 of its last pong), and
    /// FAIL follows with the next gossip from a master that agrees
    /// (redis-cluster.md §2): NT .. 2 x NT.
    fn detection(
        _spec: &ExperimentSpec,
        node: &NodeSpec,
        own: &RedisClusterSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        let cluster = node.cluster.as_ref()?;
        let hit = cluster.members.iter().any(|m| subjects.contains(m));
        if a.recover || !hit || subjects.contains(&node.name) {
            return None;
        }
        match a.what {
            Fault::Kill { .. } | Fault::Stop { .. } | Fault::PowerOff | Fault::Blackhole => {}
            _ => return Some(None),
        }
        let nt = own.node_timeout;
        Some(Some(FormulaRange {
            lo: nt,
            hi: nt.times(2) + Dur::from_ms(200),
            formula: "NT + U(0, NT/2) + gossip (<= NT/2)".to_string(),
        }))
    }

    /// A master lost (redis-cluster.md §2-3): PFAIL, FAIL, the election.
    fn breakdown(
        _spec: &ExperimentSpec,
        node: &NodeSpec,
        own: &RedisClusterSpec,
    ) -> Option<Breakdown> {
        let cluster = node.cluster.as_ref()?;
        if cluster.members.len() as u32 <= own.masters {
            return None; // no replica: nothing fails over
        }
        Some(Breakdown {
            cluster: cluster.cluster.clone(),
            title: "a master lost (PFAIL, FAIL by gossip, replica election)".into(),
            rows: failover_breakdown(own),
        })
    }
}

/// The phases of a master's failover, each from the end of the previous
/// one, and the total from the fault.
pub fn failover_breakdown(s: &RedisClusterSpec) -> Vec<(String, Dur, Dur)> {
    let nt = s.node_timeout;
    let cron = super::CRON;
    let mut v: Vec<(String, Dur, Dur)> = vec![
        (
            "PFAIL: first unanswered ping (within NT/2 of the last pong) + NT".into(),
            nt,
            nt + Dur(nt.0 / 2) + cron,
        ),
        (
            "FAIL: the next gossip from a master that agrees (quorum of masters)".into(),
            Dur::ZERO,
            Dur(nt.0 / 2),
        ),
        (
            "election: 500 ms + U(0, 500 ms) + rank x 1 s (CLUSTERDOWN meanwhile)".into(),
            Dur::from_ms(500),
            Dur::from_ms(1000) + cron,
        ),
    ];
    let lo = v.iter().fold(Dur::ZERO, |a, x| a + x.1);
    let hi = v.iter().fold(Dur::ZERO, |a, x| a + x.2);
    v.push(("total (from the fault)".into(), lo, hi));
    v
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(s: &RedisClusterSpec) -> Vec<(&'static str, String)> {
    vec![
        ("masters", s.masters.to_string()),
        ("cluster_node_timeout", s.node_timeout.to_string()),
        (
            "cluster_replica_validity_factor",
            s.validity_factor.to_string(),
        ),
        (
            "repl_ping_replica_period",
            s.repl_ping_replica_period.to_string(),
        ),
        (
            "cluster_require_full_coverage",
            s.require_full_coverage.to_string(),
        ),
        (
            "cluster_allow_reads_when_down",
            s.allow_reads_when_down.to_string(),
        ),
        (
            "cluster_replica_no_failover",
            s.replica_no_failover.to_string(),
        ),
        ("maxclients", s.maxclients.to_string()),
        ("service", crate::process::dist::describe(&s.service)),
    ]
}
