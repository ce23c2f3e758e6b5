//! nginx's registration: `type = "nginx"` under `[balancers.NAME]`.

use super::config::{self, NginxSpec};
use super::{Nginx, describe, formulas};
use crate::engine::Dur;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::faults::FaultAction;
use crate::products::{BuildCx, Product};
use crate::report::FormulaRange;

/// nginx's default listen backlog (NGX_LISTEN_BACKLOG, 511 on Linux).
const BACKLOG: u32 = 511;

impl Product for Nginx {
    type Spec = NginxSpec;
    const TYPE: &'static str = "nginx";
    const SECTIONS: &'static [Section] = &[Section::Balancer];
    const PRESETS: &'static [Preset] = &[crate::preset!("nginx-1.22")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<NginxSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(_node: &NodeSpec, x: &NginxSpec, cx: &mut BuildCx) -> (Nginx, u32) {
        let servers: Vec<_> = x.servers.iter().map(|s| (cx.id)(&s.name)).collect();
        (Nginx::new(x, &servers, cx.rng), BACKLOG)
    }

    fn describe(o: &mut String, _node: &NodeSpec, x: &NginxSpec) {
        describe::describe(o, x)
    }

    /// A balancer checked by another answers by being alive.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// nginx has no active checks: nothing to settle.
    fn formation(_: &NginxSpec) -> Dur {
        Dur::ZERO
    }

    fn detection(
        spec: &ExperimentSpec,
        node: &NodeSpec,
        x: &NginxSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        formulas::detection(spec, &node.name, x, a, subjects).map(Some)
    }

    /// nginx retries the next upstream, hiding a dead server's failures.
    fn hides_failures(_x: &NginxSpec, _subjects: &[String]) -> bool {
        formulas::hides_failures()
    }
}
