//! Galera's registration: `type = "galera"` under `[databases.NAME]`.

use super::Galera;
use super::config::{self, GaleraSpec};
use crate::engine::Dur;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::describe::size;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::{Action, FaultAction, RESTART};
use crate::report::FormulaRange;
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};

/// The model keeps a member set in one 32-bit word whose top bit flags a
/// synced state, and view ids keep the member index in 5 bits.
const MAX_MEMBERS: u32 = 31;

impl Product for Galera {
    type Spec = GaleraSpec;
    const TYPE: &'static str = "galera";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("galera-26.4")];
    const ACTIONS: &'static [&'static Action] = &[&RESTART];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = true;
    const ERRORS: &'static [DbErrorCode] = super::errors::CODES;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<GaleraSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(node: &NodeSpec, spec: &GaleraSpec, cx: &mut BuildCx) -> (Galera, u32) {
        let (cluster, me, ids) = cx.cluster(node);
        (
            Galera::new(cluster, spec, me, &ids),
            crate::products::DB_BACKLOG,
        )
    }

    fn describe(o: &mut String, node: &NodeSpec, spec: &GaleraSpec) {
        crate::describe::cluster(o, node, &settings(spec));
    }

    /// clustercheck answers every path alike (200 iff Synced).
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The model starts formed: one Primary view of every member, Synced.
    fn formation(_: &GaleraSpec) -> Dur {
        Dur::ZERO
    }

    fn detection(
        _spec: &ExperimentSpec,
        node: &NodeSpec,
        g: &GaleraSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        super::formulas::detection(node, g, a, subjects)
    }

    fn check_count(n: u32) -> Result<(), String> {
        if n <= MAX_MEMBERS {
            return Ok(());
        }
        Err(format!(
            "a Galera cluster has at most {MAX_MEMBERS} members here, got {n}: the model keeps a \
             member set in one 32-bit word (with one bit for the synced flag); real clusters \
             beyond a dozen members are rare"
        ))
    }
}

/// Its settings in its own key names, for `--dry-run`.
fn settings(g: &GaleraSpec) -> Vec<(&'static str, String)> {
    let weights: Vec<String> = g.weights.iter().map(u32::to_string).collect();
    vec![
        ("max_connections", g.max_connections.to_string()),
        ("service", crate::process::dist::describe(&g.service)),
        ("apply", crate::process::dist::describe(&g.apply)),
        ("wsrep_dirty_reads", g.dirty_reads.to_string()),
        ("available_when_donor", g.available_when_donor.to_string()),
        ("conflict_rate", g.conflict_rate.to_string()),
        ("startup", g.startup.to_string()),
        ("evs.keepalive_period", g.keepalive_period.to_string()),
        ("evs.inactive_check_period", g.inactive_check_period.to_string()),
        ("evs.suspect_timeout", g.suspect_timeout.to_string()),
        ("evs.inactive_timeout", g.inactive_timeout.to_string()),
        ("evs.install_timeout", g.install_timeout.to_string()),
        ("evs.join_retrans_period", g.join_retrans_period.to_string()),
        ("evs.max_install_timeouts", g.max_install_timeouts.to_string()),
        ("pc.weight", weights.join("/")),
        ("pc.ignore_quorum", g.ignore_quorum.to_string()),
        ("pc.ignore_sb", g.ignore_sb.to_string()),
        ("pc.recovery", g.recovery.to_string()),
        ("gcs.fc_limit", g.fc_limit.to_string()),
        ("gcs.fc_factor", g.fc_factor.to_string()),
        ("gcs.fc_single_primary", g.fc_single_primary.to_string()),
        ("gcache.size", size(g.gcache_size)),
        ("writeset_size", size(g.writeset_size)),
        ("data_size", size(g.data_size)),
        ("sst_rate", format!("{}/s", size(g.sst_rate))),
        ("sst blocks the donor", g.sst_blocks_donor.to_string()),
    ]
}
