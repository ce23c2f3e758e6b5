//! `[servers.NAME]` and `[apps.NAME]`: worker pools with a FIFO queue; an
//! app also calls downstream services (defaults in `models/server.toml`).

use crate::config::ConfigError;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
pub use crate::protocols::calls::{CallSpec, ConnectionMode};
use crate::protocols::calls::read_calls;

/// A plain server or an app instance, as its section declares it.
#[derive(Clone, Debug)]
pub enum BackendSpec {
    Server(ServerSpec),
    App(AppSpec),
}

impl BackendSpec {
    /// The worker pool, queue and checks both have.
    pub fn server(&self) -> &ServerSpec {
        match self {
            BackendSpec::Server(s) => s,
            BackendSpec::App(a) => &a.server,
        }
    }
}

/// A process with worker threads and a FIFO queue: a plain backend.
#[derive(Clone, Debug)]
pub struct ServerSpec {
    pub workers: u32,
    /// Requests waiting for a worker; `None` = unbounded.
    pub queue_limit: Option<u32>,
    pub service: DistSpec,
    /// Listen backlog (accept queue) used while the process is stopped.
    pub backlog: u32,
    /// Status answered to health checks while running.
    pub check_status: u16,
}

/// An application instance: a server whose requests call downstream services.
#[derive(Clone, Debug)]
pub struct AppSpec {
    pub server: ServerSpec,
    pub calls: Vec<CallSpec>,
}

/// Reads a `[servers.NAME]` or `[apps.NAME]` table over its preset.
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<BackendSpec, ConfigError> {
    let sec = cx.section();
    if sec == Section::Server {
        r.reject("type", &format!("{} have no `type`", sec.key()))?;
    }
    // `[apps.NAME] type = "server"` was read choosing the product.
    let server = ServerSpec {
        workers: r.u32_min("workers", 1)?,
        queue_limit: r.u32_min_opt("queue_limit", 0)?,
        service: r.dist("service")?,
        backlog: r.u32_range("backlog", 0, 65_535)?,
        check_status: r.u32_range("check_status", 100, 599)? as u16,
    };
    if sec == Section::Server {
        r.reject(
            "calls",
            "only apps make calls; declare this node as `[apps.NAME]`",
        )?;
        return Ok(BackendSpec::Server(server));
    }
    let calls = read_calls(r, cx, None)?;
    Ok(BackendSpec::App(AppSpec { server, calls }))
}
