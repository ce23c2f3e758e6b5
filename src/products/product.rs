//! What a product registers: the [`Product`] trait. Its model's run is the
//! [`Process`] trait; this is everything around the run — the name an
//! experiment gives it, the sections it is declared in, its presets, its
//! config reader, how a node's model is built, the `--dry-run` line, the
//! analytic formulas and the operator actions it accepts.
//!
//! Required items are what every product must decide; provided ones are what
//! most products do not have (formulas, operator actions).

use super::{BuildCx, NodeKind};
use crate::config::ConfigError;
use crate::config::presets::Preset;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::engine::Dur;
use crate::faults::{Action, FaultAction};
use crate::process::{DbErrorCode, Process};
use crate::report::{Breakdown, CheckTiming, FormulaRange};

/// A product as the registry knows it. Implemented by the product's model.
pub trait Product: Process + Sized {
    /// Its settings after reading and validation (its own key names).
    type Spec: Clone + std::fmt::Debug + Into<NodeKind>;

    /// `type = "..."` in the experiment, and its name in messages.
    const TYPE: &'static str;

    /// The sections its nodes are declared in.
    const SECTIONS: &'static [Section];

    /// Its preset files under `models/`; the first is the default.
    const PRESETS: &'static [Preset];

    /// Its nodes hold client data the write history checks.
    const HOLDS_CLIENT_DATA: bool;

    /// The smallest experiment that shows it working (its folder's
    /// `example.toml`): the registry-wide tests parse, describe and run
    /// every product's example.
    const EXAMPLE: &'static str;

    /// Reads its table (already layered over the preset); the caller
    /// rejects keys left unread.
    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<Self::Spec, ConfigError>;

    /// Builds node `node`'s model: (model, listen backlog).
    fn build(node: &NodeSpec, spec: &Self::Spec, cx: &mut BuildCx) -> (Self, u32);

    /// `--dry-run`: the node as the experiment resolved it.
    fn describe(o: &mut String, node: &NodeSpec, spec: &Self::Spec);

    /// What an HTTP health check of `path` (with its query string) asks
    /// this product, as a code the balancer sends in the check
    /// ([`crate::process::Req::http_check`]); `Err` says why the path is
    /// not one it serves. A product whose check answer does not depend on
    /// the path (a clustercheck script) accepts every path as 0.
    fn check_code(path: &str) -> Result<u32, String>;

    /// How long this node takes, booted with its cluster, to reach the
    /// state production finds it in (a leader elected, checks settled) once
    /// the products it depends on have: the warm-up before the experiment's
    /// 0 is the sum over the products present of their longest formation.
    /// Zero for a product whose model starts formed.
    fn formation(spec: &Self::Spec) -> Dur;

    /// Its name in `--dry-run` (a section's word, where one product serves
    /// two sections).
    fn label(_spec: &Self::Spec) -> &'static str {
        Self::TYPE
    }

    /// The sections in which a table that names no `type` (nor a preset)
    /// is this product, though other products share the section: the one
    /// the section meant before they came (`[apps.NAME]` is the generic
    /// app). At most one product per section.
    const DEFAULT_IN: &'static [Section] = &[];

    /// Operator actions it accepts as faults (`kind = "switchover"`), which
    /// reach its model as [`crate::process::Admin::Action`].
    const ACTIONS: &'static [&'static Action] = &[];

    /// Its processes a kill or stop may name (`process = "postgres"`) when
    /// a node runs several; they reach its model as
    /// [`crate::process::Admin::Process`].
    const PROCESSES: &'static [&'static str] = &[];

    /// The errors its replies can carry: its own codes, each with the
    /// meaning metrics group it under.
    const ERRORS: &'static [DbErrorCode] = &[];

    /// How many data logs its cluster holds: a sharded database keeps one
    /// per shard, and the write history judges lost writes and split-brain
    /// per shard ([`BuildCx::data_index`]).
    fn data_shards(_spec: &Self::Spec) -> u32 {
        1
    }

    /// Refuses a `count` the model cannot hold, saying why.
    fn check_count(_count: u32) -> Result<(), String> {
        Ok(())
    }

    /// The reference formula for how long this node takes to notice fault
    /// action `a` on `subjects`: `None` when it does not react to it,
    /// `Some(None)` when it reacts but no formula applies.
    fn detection(
        _spec: &ExperimentSpec,
        _node: &NodeSpec,
        _own: &Self::Spec,
        _a: &FaultAction,
        _subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        None
    }

    /// This node hides the failures of `subjects` from its clients (retries
    /// elsewhere), so no error-window formula applies.
    fn hides_failures(_own: &Self::Spec, _subjects: &[String]) -> bool {
        false
    }

    /// The health checks this node runs on the first of `members` it checks.
    fn check_timing(_own: &Self::Spec, _members: &[String]) -> Option<CheckTiming> {
        None
    }

    /// The VIP this node moves between hosts and the listener it claims it
    /// for (a VRRP daemon): the run creates the VIP, served on each of its
    /// daemons' hosts by that daemon's listener.
    fn vip(_node: &NodeSpec, _own: &Self::Spec) -> Option<(String, String)> {
        None
    }

    /// The reference's failover phases of this node's cluster.
    fn breakdown(_spec: &ExperimentSpec, _node: &NodeSpec, _own: &Self::Spec) -> Option<Breakdown> {
        None
    }
}

/// A product's entry in [`super::PRODUCTS`]: what config plumbing and the
/// registry-wide tests need without knowing the type.
pub struct ProductInfo {
    pub name: &'static str,
    pub sections: &'static [Section],
    pub presets: &'static [Preset],
    pub holds_client_data: bool,
    pub default_in: &'static [Section],
    pub example: &'static str,
    pub actions: &'static [&'static Action],
    pub processes: &'static [&'static str],
    pub errors: &'static [DbErrorCode],
    pub read:
        for<'a, 'b, 'r> fn(&'r mut Reader<'a>, &'r ReadCx<'b, 'a>) -> Result<NodeKind, ConfigError>,
    pub check_count: fn(u32) -> Result<(), String>,
    pub check_code: fn(&str) -> Result<u32, String>,
}

impl ProductInfo {
    pub const fn of<P: Product>() -> ProductInfo {
        ProductInfo {
            name: P::TYPE,
            sections: P::SECTIONS,
            presets: P::PRESETS,
            holds_client_data: P::HOLDS_CLIENT_DATA,
            default_in: P::DEFAULT_IN,
            example: P::EXAMPLE,
            actions: P::ACTIONS,
            processes: P::PROCESSES,
            errors: P::ERRORS,
            read: read_as::<P>,
            check_count: P::check_count,
            check_code: P::check_code,
        }
    }

    /// What its presets configure, in messages: "haproxy balancers", or
    /// "servers and apps" for the only product of its sections.
    pub fn noun(&self) -> String {
        let sections: Vec<&str> = self.sections.iter().map(|s| s.key()).collect();
        let alone = self
            .sections
            .iter()
            .all(|s| super::in_section(*s).count() == 1);
        match alone {
            true => sections.join(" and "),
            false => format!("{} {}", self.name, sections.join(" and ")),
        }
    }
}

fn read_as<'a, P: Product>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<NodeKind, ConfigError> {
    Ok(P::read(r, cx)?.into())
}
