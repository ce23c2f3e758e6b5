//! Galera's registration: `type = "galera"` under `[databases.NAME]`.

use super::Galera;
use super::config::{self, GaleraSpec};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::{Action, RESTART};
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
        crate::describe::cluster(o, node, &spec.clone().into());
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
