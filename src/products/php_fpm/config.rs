//! `[apps.NAME] type = "php-fpm"`: one php-fpm pool (php-fpm.conf's pool
//! keys) running a PHP app, with its sessions (php.ini's `session.*`) and
//! its downstream calls (`[[apps.NAME.calls]]`, as the generic app's).
//! Defaults and sources in `models/php-fpm-7.2.toml`.
//!
//! Key names are php-fpm.conf's and php.ini's. A dotted key is a sub-table
//! in TOML, so `pm.max_children = 5` inside `[apps.NAME]` reads as written;
//! php-fpm.conf's `pm = dynamic` is `pm.style = "dynamic"` here (TOML cannot
//! make `pm` both a value and a table; php-src calls it the PM style,
//! `PM_STYLE_DYNAMIC`).

use crate::config::ConfigError;
use crate::config::read::ReadCx;
use crate::config::spec::DistSpec;
use crate::config::table::Reader;
use crate::engine::Dur;
use crate::protocols::calls::{CallSpec, read_calls};

/// `pm`: how the master keeps its children (fpm_conf.c `PM_STYLE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PmStyle {
    /// `pm.max_children` children, always.
    Static,
    /// Between `pm.min_spare_servers` and `pm.max_spare_servers` idle
    /// children, adjusted once a second.
    Dynamic,
    /// No child until a connection waits; idle ones exit after
    /// `pm.process_idle_timeout`.
    Ondemand,
}

impl PmStyle {
    pub fn name(self) -> &'static str {
        match self {
            PmStyle::Static => "static",
            PmStyle::Dynamic => "dynamic",
            PmStyle::Ondemand => "ondemand",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PhpFpmSpec {
    pub pm: PmStyle,
    pub max_children: u32,
    /// Children forked at start (dynamic only; static forks
    /// `max_children`, ondemand none).
    pub start_servers: u32,
    pub min_spare_servers: u32,
    pub max_spare_servers: u32,
    /// Ondemand: an idle child older than this exits.
    pub process_idle_timeout: Dur,
    /// Requests a child serves before it exits and is replaced; 0 = never.
    pub max_requests: u32,
    /// Dynamic: the most children one maintenance tick forks (the spawn
    /// rate doubles from 1 up to this).
    pub max_spawn_rate: u32,
    /// `listen.backlog`: the accept queue requests wait in for a child.
    pub backlog: u32,
    /// The master kills a child whose request has run this long; zero = off.
    pub request_terminate_timeout: Dur,
    /// Fork to ready to accept (not a php-fpm key: the model's).
    pub spawn_time: Dur,
    /// The script's own work (CPU, local I/O), between reading the session
    /// and the downstream calls.
    pub service: DistSpec,
    pub session: Option<SessionSpec>,
    pub calls: Vec<CallSpec>,
}

/// `session.save_handler = "redis"` (phpredis): the session is read at
/// `session_start()` and written at the end of the request.
#[derive(Clone, Debug)]
pub struct SessionSpec {
    /// `session.save_path`: the Redis it connects to (a node, a balancer, a VIP).
    pub save_path: String,
    /// phpredis's `timeout` (in save_path's query string): connect timeout.
    pub timeout: Dur,
    /// phpredis's `read_timeout`.
    pub read_timeout: Dur,
    /// What the request answers when the session cannot be read.
    pub error_status: u16,
}

const NO_POOL: &str = "php-fpm children share no connections: each request opens its own \
                       (PHP's persistent connections are per child, not modelled)";

pub(crate) fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<PhpFpmSpec, ConfigError> {
    let mut pm_r = r.sub("pm")?;
    let pm = match pm_r.string_enum("style", &["static", "dynamic", "ondemand"])? {
        "static" => PmStyle::Static,
        "dynamic" => PmStyle::Dynamic,
        _ => PmStyle::Ondemand,
    };
    // fpm_conf.c fpm_conf_process_all_pools(): "pm.max_children must be a
    // positive value".
    let max_children = pm_r.u32_min("max_children", 1)?;
    let min_spare_servers = pm_r.u32_min("min_spare_servers", 1)?;
    let max_spare_servers = pm_r.u32_min("max_spare_servers", 1)?;
    let start_opt = pm_r.u32_min_opt("start_servers", 1)?;
    let process_idle_timeout = pm_r.positive_duration("process_idle_timeout")?;
    let max_requests = pm_r.u32_min("max_requests", 0)?;
    let max_spawn_rate = pm_r.u32_min("max_spawn_rate", 1)?;
    // The checks fpm_conf.c makes for `pm = dynamic` (it refuses to start).
    let start_servers = if pm == PmStyle::Dynamic {
        if min_spare_servers > max_children {
            return Err(pm_r.error_at(
                "min_spare_servers",
                format!(
                    "must not be greater than pm.max_children ({max_children}): php-fpm refuses to start"
                ),
            ));
        }
        if max_spare_servers > max_children {
            return Err(pm_r.error_at(
                "max_spare_servers",
                format!(
                    "must not be greater than pm.max_children ({max_children}): php-fpm refuses to start"
                ),
            ));
        }
        if max_spare_servers < min_spare_servers {
            return Err(pm_r.error_at(
                "max_spare_servers",
                format!(
                    "must not be less than pm.min_spare_servers ({min_spare_servers}): php-fpm refuses to start"
                ),
            ));
        }
        // Unset: min_spare + (max_spare - min_spare) / 2 (fpm_conf.c).
        let start =
            start_opt.unwrap_or(min_spare_servers + (max_spare_servers - min_spare_servers) / 2);
        if start < min_spare_servers || start > max_spare_servers {
            return Err(pm_r.error_at(
                "start_servers",
                format!(
                    "must not be less than pm.min_spare_servers ({min_spare_servers}) and not \
                     greater than pm.max_spare_servers ({max_spare_servers}): php-fpm refuses to start"
                ),
            ));
        }
        start
    } else {
        pm_r.reject(
            "start_servers",
            &format!("only pm.style = \"dynamic\" uses it (this pool is {})", pm.name()),
        )?;
        0
    };
    pm_r.finish()?;

    let mut listen = r.sub("listen")?;
    let backlog = listen.u32_range("backlog", 0, 65_535)?;
    listen.finish()?;
    let request_terminate_timeout = r.duration("request_terminate_timeout")?;
    let spawn_time = r.duration("spawn_time")?;
    let service = r.dist("service")?;

    let mut s = r.sub("session")?;
    let handler = s.string_enum("save_handler", &["files", "redis"])?;
    let session = match handler {
        "redis" => {
            if !s.has("save_path") {
                return Err(s.missing(
                    "save_path",
                    "the Redis the sessions live in: a node, a balancer or a VIP",
                ));
            }
            let save_path = cx.target(&mut s, "save_path", "session.save_path")?;
            Some(SessionSpec {
                save_path,
                timeout: s
                    .positive_duration_opt("timeout")?
                    .unwrap_or(session_defaults::TIMEOUT),
                read_timeout: s
                    .positive_duration_opt("read_timeout")?
                    .unwrap_or(session_defaults::READ_TIMEOUT),
                error_status: s
                    .u32_range_opt("error_status", 100, 599)?
                    .map_or(session_defaults::ERROR_STATUS, |v| v as u16),
            })
        }
        _ => {
            for k in ["save_path", "timeout", "read_timeout", "error_status"] {
                s.reject(
                    k,
                    "only session.save_handler = \"redis\" uses it: \"files\" keeps sessions on the local disk",
                )?;
            }
            None
        }
    };
    s.reject(
        "locking_enabled",
        "not modelled: phpredis's redis.session.locking_enabled is off by default, and the \
         model takes no session lock",
    )?;
    s.finish()?;
    r.reject(
        "workers",
        "php-fpm's children are pm.max_children (with pm.style), not workers",
    )?;
    r.reject(
        "queue_limit",
        "php-fpm queues in the listen socket's accept queue: listen.backlog",
    )?;
    let calls = read_calls(r, cx, Some(NO_POOL))?;
    if let Some(sess) = &session
        && cx.members().contains(&sess.save_path)
    {
        return Err(r.error_at("session", "session.save_path names this pool itself"));
    }
    Ok(PhpFpmSpec {
        pm,
        max_children,
        start_servers,
        min_spare_servers,
        max_spare_servers,
        process_idle_timeout,
        max_requests,
        max_spawn_rate,
        backlog,
        request_terminate_timeout,
        spawn_time,
        service,
        session,
        calls,
    })
}

/// The redis session handler's settings when unset (documented in
/// `models/php-fpm-7.2.toml`, which leaves them out because a "files"
/// pool refuses them).
mod session_defaults {
    use crate::engine::Dur;
    /// phpredis redis_session.c: `double timeout = 86400.0`.
    pub const TIMEOUT: Dur = Dur::from_secs(86_400);
    /// phpredis `read_timeout` 0: PHP's `default_socket_timeout`, 60 s.
    pub const READ_TIMEOUT: Dur = Dur::from_secs(60);
    /// The model's: a request whose session cannot be read fails.
    pub const ERROR_STATUS: u16 = 500;
}
