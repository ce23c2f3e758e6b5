//! HAProxy's registration: `type = "haproxy"` under `[balancers.NAME]`.

use super::config::{self, HaproxySpec};
use super::{Haproxy, describe, formulas};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::FaultAction;
use crate::products::{BuildCx, Product};
use crate::report::{CheckTiming, FormulaRange};

impl Product for Haproxy {
    type Spec = HaproxySpec;
    const TYPE: &'static str = "haproxy";
    const SECTIONS: &'static [Section] = &[Section::Balancer];
    const PRESETS: &'static [Preset] = &[crate::preset!("haproxy-2.6")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<HaproxySpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(_node: &NodeSpec, h: &HaproxySpec, cx: &mut BuildCx) -> (Haproxy, u32) {
        let servers: Vec<_> = h
            .servers
            .iter()
            .map(|s| ((cx.id)(&s.name), s.name.clone()))
            .collect();
        (Haproxy::new(h, &servers), h.backlog)
    }

    fn describe(o: &mut String, _node: &NodeSpec, h: &HaproxySpec) {
        describe::describe(o, h)
    }

    fn detection(
        spec: &ExperimentSpec,
        _node: &NodeSpec,
        h: &HaproxySpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        formulas::detection(spec, h, a, subjects)
    }

    fn hides_failures(h: &HaproxySpec, subjects: &[String]) -> bool {
        formulas::hides_failures(h, subjects)
    }

    fn check_timing(h: &HaproxySpec, members: &[String]) -> Option<CheckTiming> {
        formulas::check_timing(h, members)
    }
}
