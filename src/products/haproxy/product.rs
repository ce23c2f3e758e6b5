//! HAProxy's registration: `type = "haproxy"` under `[balancers.NAME]`.

use super::config::{self, HaproxySpec};
use super::{Haproxy, describe, formulas};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
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

    /// A balancer checked by another answers by being alive.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// Checks settled: a server whose first check fails (a replica, or a
    /// primary not yet elected) is DOWN at once from the start-up state and
    /// needs `rise` checks at its slowest interval to come UP; each check
    /// may last its deadline C. Plus `spread-checks`' widest stretch.
    fn formation(h: &HaproxySpec) -> Dur {
        let deadline = |s: &config::HaproxyServerSpec| match (h.timeout_check, h.timeout_connect) {
            (Some(_), Some(tc)) => s.inter.min(tc),
            _ => s.inter,
        };
        let spread = |d: Dur| Dur(d.0 + d.0 * u64::from(h.spread_checks) / 100);
        let settle = |s: &config::HaproxyServerSpec| {
            let slowest = s.inter.max(s.fastinter).max(s.downinter);
            (spread(slowest) + deadline(s)).times(u64::from(s.rise) + 1)
        };
        h.servers
            .iter()
            .filter(|s| s.check)
            .map(settle)
            .max()
            .unwrap_or(Dur::ZERO)
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
