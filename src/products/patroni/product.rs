//! Patroni's registration: `type = "patroni"` under `[databases.NAME]`
//! (PostgreSQL under Patroni, with an etcd cluster as its DCS).

use super::config::{self, PatroniSpec};
use super::{PATRONI, POSTGRES, Patroni, SWITCHOVER, for_cluster};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::{Action, RESTART};
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};
use crate::report::Breakdown;

impl Product for Patroni {
    type Spec = PatroniSpec;
    const TYPE: &'static str = "patroni";
    const SECTIONS: &'static [Section] = &[Section::Database];
    const PRESETS: &'static [Preset] = &[crate::preset!("patroni-3.0")];
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
        crate::describe::cluster(o, node, &spec.clone().into());
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
