//! The server's registration: `[servers.NAME]` (a worker pool) and
//! `[apps.NAME]` (one that also calls downstream services).

use super::Server;
use crate::protocols::calls::{CallCfg, Downstream};
use super::config::{self, BackendSpec};
use crate::engine::Dur;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::NodeSpec;
use crate::config::table::Reader;
use crate::config::{ConfigError, Preset};
use crate::products::{BuildCx, Product};

impl Product for Server {
    type Spec = BackendSpec;
    const TYPE: &'static str = "server";
    const SECTIONS: &'static [Section] = &[Section::Server, Section::App];
    const PRESETS: &'static [Preset] = &[crate::preset!("server")];
    const EXAMPLE: &'static str = include_str!("example.toml");
    const HOLDS_CLIENT_DATA: bool = false;
    /// `[apps.NAME]` and `[servers.NAME]` without a `type` are this product.
    const DEFAULT_IN: &'static [Section] = &[Section::Server, Section::App];

    fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<BackendSpec, ConfigError> {
        config::read(r, cx)
    }

    fn build(_node: &NodeSpec, spec: &BackendSpec, cx: &mut BuildCx) -> (Server, u32) {
        match spec {
            BackendSpec::Server(s) => (Server::new(s, None), s.backlog),
            BackendSpec::App(a) => {
                let calls = a.calls.iter().map(|c| CallCfg::new(c, cx.addr(&c.target)));
                let app = Server::new(&a.server, Some(Downstream::new(calls.collect())));
                (app, a.server.backlog)
            }
        }
    }

    fn describe(o: &mut String, _node: &NodeSpec, spec: &BackendSpec) {
        match spec {
            BackendSpec::Server(s) => super::describe(o, s),
            BackendSpec::App(a) => super::describe_app(o, a),
        }
    }

    /// An app's health answer does not depend on the path.
    fn check_code(_path: &str) -> Result<u32, String> {
        Ok(0)
    }

    /// A server serves from its first instant.
    fn formation(_: &BackendSpec) -> Dur {
        Dur::ZERO
    }

    fn label(spec: &BackendSpec) -> &'static str {
        match spec {
            BackendSpec::Server(_) => "server",
            BackendSpec::App(_) => "app",
        }
    }
}
