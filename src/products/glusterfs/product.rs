//! GlusterFS's registration: `type = "glusterfs"` under `[databases.NAME]`
//! (the volume, a brick per member) and `[balancers.NAME]` (its FUSE
//! mount, on the app's host).

use super::config::{self, GlusterSpec};
use super::{Brick, Glusterfs, Mount, errors, formulas};
use crate::config::read::{ReadCx, Section};
use crate::config::spec::{ExperimentSpec, NodeSpec};
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::engine::Dur;
use crate::faults::FaultAction;
use crate::process::DbErrorCode;
use crate::products::{BuildCx, Product};
use crate::report::FormulaRange;
use std::fmt::Write;

/// glusterfsd's listen backlog (the transport's `transport.listen-backlog`
/// default, 1024); the mount is reached through FUSE, not a socket.
const BACKLOG: u32 = 1024;

impl Product for Glusterfs {
    type Spec = GlusterSpec;
    const TYPE: &'static str = "glusterfs";
    const SECTIONS: &'static [Section] = &[Section::Database, Section::Balancer];
    const PRESETS: &'static [Preset] = &[crate::preset!("glusterfs-10")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    /// Files, not a commit log: the write history judges databases' logs;
    /// what the model keeps of a volume is its heal index (see mod.rs).
    const HOLDS_CLIENT_DATA: bool = false;
    const ERRORS: &'static [DbErrorCode] = errors::ALL;

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<GlusterSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(_node: &NodeSpec, spec: &GlusterSpec, cx: &mut BuildCx) -> (Glusterfs, u32) {
        match spec {
            GlusterSpec::Volume(v) => (Glusterfs::Brick(Brick::new(v)), BACKLOG),
            GlusterSpec::Mount(m) => (
                Glusterfs::Mount(Box::new(Mount::new(m, &cx.ids(&m.bricks)))),
                BACKLOG,
            ),
        }
    }

    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// The mount's first connects: one round trip.
    fn formation(_: &GlusterSpec) -> Dur {
        Dur::from_ms(100)
    }

    fn label(spec: &GlusterSpec) -> &'static str {
        match spec {
            GlusterSpec::Volume(_) => "glusterfs brick",
            GlusterSpec::Mount(_) => "glusterfs mount",
        }
    }

    fn describe(o: &mut String, _node: &NodeSpec, spec: &GlusterSpec) {
        match spec {
            GlusterSpec::Volume(v) => {
                let _ = writeln!(
                    o,
                    "brick of a replica volume: fop_time {}",
                    crate::process::dist::describe(&v.fop_time)
                );
            }
            GlusterSpec::Mount(m) => {
                let ping = match formulas::ping_window(m.ping_timeout) {
                    Some((lo, hi)) => format!(
                        "ping_timeout {}: a vanished brick is dropped {lo}..{hi} after the loss",
                        m.ping_timeout
                    ),
                    None => "ping_timeout 0: no ping timer".to_string(),
                };
                let _ = writeln!(
                    o,
                    "FUSE mount of `{}` ({}, replica {}): {ping}; quorum_type {}; \
                     reconnect every {}; {} files, heal {} per entry",
                    m.volume,
                    m.bricks.join(", "),
                    m.bricks.len(),
                    m.quorum.describe(),
                    super::RECONNECT,
                    m.files,
                    m.heal_entry_time,
                );
            }
        }
    }

    fn detection(
        spec: &ExperimentSpec,
        _node: &NodeSpec,
        own: &GlusterSpec,
        a: &FaultAction,
        subjects: &[String],
    ) -> Option<Option<FormulaRange>> {
        match own {
            GlusterSpec::Mount(m) => formulas::detection(spec, m, a, subjects),
            GlusterSpec::Volume(_) => None,
        }
    }
}
