//! `[servers.NAME]` and `[apps.NAME]`: worker pools with a FIFO queue; an
//! app also calls downstream services (defaults in `models/server.toml`).

use crate::config::ConfigError;
use crate::config::read::{ReadCx, Section};
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::Dur;

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectionMode {
    /// A new TCP connection per call.
    PerRequest,
    /// A pool of at most `size` connections; a call waits for a free one.
    Pool { size: u32 },
}

#[derive(Clone, Debug)]
pub struct CallSpec {
    pub target: String,
    /// Calls per incoming request, made one after the other.
    pub count: u32,
    /// The driver's connect timeout and read timeout.
    pub connect_timeout: Dur,
    pub timeout: Dur,
    pub connection: ConnectionMode,
    /// Status the app answers when this call fails (500 by default).
    pub error_status: u16,
    /// `op = "read" | "write"`: what the call does, whatever the client's
    /// request was (a session file written on every GET); absent, it reads
    /// or writes as the request does.
    pub op: Option<CallOp>,
}

/// A call's `op`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallOp {
    Read,
    Write,
}

impl CallOp {
    pub fn name(self) -> &'static str {
        match self {
            CallOp::Read => "read",
            CallOp::Write => "write",
        }
    }
}

/// Reads a `[servers.NAME]` or `[apps.NAME]` table over its preset.
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<BackendSpec, ConfigError> {
    let sec = cx.section();
    r.reject("type", &format!("{} have no `type`", sec.key()))?;
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
    let own = cx.members();
    let mut calls = Vec::new();
    for mut c in r.array_of_tables("calls")? {
        let target = cx.target(&mut c, "target", "a call's target")?;
        if own.contains(&target) {
            return Err(c.error_at("target", format!("`{target}` would call itself")));
        }
        let call = CallSpec {
            target,
            count: c.u32_min_opt("count", 1)?.unwrap_or(1),
            connect_timeout: c
                .positive_duration_opt("connect_timeout")?
                .unwrap_or(call_defaults::CONNECT_TIMEOUT),
            timeout: c
                .positive_duration_opt("timeout")?
                .unwrap_or(call_defaults::TIMEOUT),
            connection: match c.u32_min_opt("pool", 1)? {
                Some(size) => ConnectionMode::Pool { size },
                None => ConnectionMode::PerRequest,
            },
            error_status: c
                .u32_range_opt("error_status", 100, 599)?
                .map(|s| s as u16)
                .unwrap_or(call_defaults::ERROR_STATUS),
            op: c
                .string_enum_opt("op", &["read", "write"])?
                .map(|o| if o == "read" { CallOp::Read } else { CallOp::Write }),
        };
        c.finish()?;
        calls.push(call);
    }
    Ok(BackendSpec::App(AppSpec { server, calls }))
}

/// Defaults of an app's `[[apps.NAME.calls]]` entry: a generic database or
/// HTTP driver; no product default applies.
mod call_defaults {
    use crate::engine::Dur;
    pub const CONNECT_TIMEOUT: Dur = Dur::from_secs(5);
    pub const TIMEOUT: Dur = Dur::from_secs(30);
    pub const ERROR_STATUS: u16 = 500;
}
