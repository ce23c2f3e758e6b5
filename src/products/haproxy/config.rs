//! `type = "haproxy"` balancers: HAProxy 2.6, keys as in haproxy.cfg with `-`
//! and spaces turned into `_` (defaults in `models/haproxy-2.6.toml`).

use crate::config::ConfigError;
use crate::config::read::{ReadCx, backup};
use crate::config::table::{Item, Reader, Sources};
use crate::engine::Dur;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HaproxyMode {
    Http,
    Tcp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balance {
    RoundRobin,
    LeastConn,
    First,
    Source,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckKind {
    /// Plain `check`: a TCP connect.
    L4,
    /// `option httpchk` with the request's path; 2xx/3xx pass.
    Http { path: String },
    /// `option tcp-check` with Redis's script: `tcp-check send PING`,
    /// `expect string +PONG`, `send info replication`, `expect string
    /// role:master` (`tcp_check_expect = "role:master"`). A master passes;
    /// a replica's `role:slave` does not match, and HAProxy waits for more
    /// data until the check times out (Layer7 timeout).
    TcpCheckRoleMaster,
}

impl CheckKind {
    /// The check sends a request and judges the answer (Layer 7).
    pub fn is_l7(&self) -> bool {
        !matches!(self, CheckKind::L4)
    }
}

/// HAProxy 2.6, keys as in haproxy.cfg with `-` and spaces turned into `_`.
#[derive(Clone, Debug)]
pub struct HaproxySpec {
    pub mode: HaproxyMode,
    pub balance: Balance,
    /// global `maxconn`.
    pub maxconn: u32,
    /// listen backlog of the frontend (default: maxconn).
    pub backlog: u32,
    pub timeout_connect: Option<Dur>,
    pub timeout_server: Option<Dur>,
    pub timeout_client: Option<Dur>,
    /// Default: timeout connect.
    pub timeout_queue: Option<Dur>,
    pub timeout_check: Option<Dur>,
    pub retries: u32,
    pub redispatch: bool,
    /// `option abortonclose`: a stream whose client closed is aborted while
    /// still queued or connecting (abort.rs).
    pub abortonclose: bool,
    /// `option allbackups`: every UP backup serves, not only the first.
    pub allbackups: bool,
    pub shutdown_sessions_on_marked_down: bool,
    pub check: CheckKind,
    /// global `spread-checks` percent (0..50).
    pub spread_checks: u32,
    pub servers: Vec<HaproxyServerSpec>,
}

#[derive(Clone, Debug)]
pub struct HaproxyServerSpec {
    /// Node name of the server.
    pub name: String,
    /// What its HTTP check's path asks it, in its product's code
    /// ([`crate::products::Product::check_code`]).
    pub check_code: u32,
    pub weight: u32,
    pub backup: bool,
    /// 0 = unlimited.
    pub maxconn: u32,
    pub check: bool,
    pub inter: Dur,
    pub fastinter: Dur,
    pub downinter: Dur,
    pub rise: u32,
    pub fall: u32,
    /// `slowstart` in whole seconds (HAProxy rounds it up); 0 = off.
    pub slowstart_s: u64,
    /// `fastinter` was given (on-error reschedules checks only then).
    pub fastinter_set: bool,
    /// Passive health from real traffic (`observe`), off when `None`.
    pub observe: Option<Observe>,
    pub error_limit: u32,
    pub on_error: OnError,
}

/// HAProxy `observe`: which errors of real traffic count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Observe {
    Layer4,
    Layer7,
}

/// HAProxy `on-error`: what `error-limit` consecutive errors do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    Fastinter,
    FailCheck,
    SuddenDeath,
    MarkDown,
}

/// Reads a `type = "haproxy"` balancer over its preset.
pub(crate) fn read<'a>(
    r: &mut Reader<'a>,
    cx: &ReadCx<'_, 'a>,
) -> Result<HaproxySpec, ConfigError> {
    let servers = cx.servers(r)?;
    let mode = match r.string_enum("mode", &["http", "tcp"])? {
        "http" => HaproxyMode::Http,
        _ => HaproxyMode::Tcp,
    };
    let balance = match r.string_enum("balance", &["roundrobin", "leastconn", "first", "source"])? {
        "roundrobin" => Balance::RoundRobin,
        "leastconn" => Balance::LeastConn,
        "first" => Balance::First,
        _ => Balance::Source,
    };
    let maxconn = r.u32_range("maxconn", 1, 100_000_000)?;
    let backlog = r.u32_min_opt("backlog", 1)?.unwrap_or(maxconn);
    let timeout_connect = r.positive_duration_opt("timeout_connect")?;
    let timeout_server = r.positive_duration_opt("timeout_server")?;
    let timeout_client = r.positive_duration_opt("timeout_client")?;
    let timeout_queue = r.positive_duration_opt("timeout_queue")?;
    let timeout_check = r.positive_duration_opt("timeout_check")?;
    let retries = r.u32_min("retries", 0)?;
    let redispatch = r.bool("option_redispatch")?;
    let abortonclose = r.bool("option_abortonclose")?;
    let allbackups = r.bool("option_allbackups")?;
    let shutdown_sessions_on_marked_down = r
        .string_enum_opt("on_marked_down", &["shutdown-sessions"])?
        .is_some();
    let check = match r.item("option_httpchk") {
        None => CheckKind::L4,
        Some(item) => httpchk(cx.src(), item, &r.key_path("option_httpchk"))?,
    };
    let check = match r.string_enum_opt("tcp_check_expect", &["role:master"])? {
        None => check,
        Some(_) if check != CheckKind::L4 => {
            return Err(r.error_at(
                "tcp_check_expect",
                "`tcp_check_expect` (option tcp-check) and `option_httpchk` are two check types: \
                 the last one in haproxy.cfg wins; keep one",
            ));
        }
        Some(_) if mode == HaproxyMode::Http => {
            return Err(r.error_at(
                "tcp_check_expect",
                "the role:master check is for Redis behind `mode = \"tcp\"`",
            ));
        }
        Some(_) => CheckKind::TcpCheckRoleMaster,
    };
    let spread_checks = r.u32_range("spread_checks", 0, 50)?;
    // What the check's path asks each server, in its product's terms.
    let mut check_codes = Vec::with_capacity(servers.len());
    for name in &servers {
        let code = match &check {
            CheckKind::Http { path } => cx
                .check_code(name, path)
                .map_err(|why| r.error_at("option_httpchk", format!("server {name}: {why}")))?,
            _ => 0,
        };
        check_codes.push(code);
    }
    let servers = cx.per_server(r, &servers, |s, name, per_server| {
        let weight = s.u32_range("weight", 0, 256)?;
        let backup = backup(s, per_server)?;
        // Slow start scales it in sixteenths, in 32 bits.
        let maxconn = s.u32_range("maxconn", 0, 100_000_000)?;
        let check = s.bool("check")?;
        let inter = s.positive_duration("inter")?;
        at_least_1ms(s, "inter", Some(inter))?;
        let fastinter_opt = s.positive_duration_opt("fastinter")?;
        at_least_1ms(s, "fastinter", fastinter_opt)?;
        let fastinter = fastinter_opt.unwrap_or(inter);
        let downinter_opt = s.positive_duration_opt("downinter")?;
        at_least_1ms(s, "downinter", downinter_opt)?;
        let downinter = downinter_opt.unwrap_or(inter);
        // HAProxy's health counter (rise + fall - 1) is an int.
        let rise = s.u32_range("rise", 1, 1_000_000_000)?;
        let fall = s.u32_range("fall", 1, 1_000_000_000)?;
        let observe = match s.string_enum_opt("observe", &["layer4", "layer7"])? {
            None => None,
            Some("layer4") => Some(Observe::Layer4),
            Some(_) => Some(Observe::Layer7),
        };
        let error_limit = s.u32_min("error_limit", 1)?;
        // srv_parse_slowstart(): stored in ms, used in whole seconds, rounded up.
        let slowstart_s = s
            .duration_opt("slowstart")?
            .map_or(0, |d| d.0.div_ceil(Dur::S));
        let on_error = match s.string_enum(
            "on_error",
            &["fastinter", "fail-check", "sudden-death", "mark-down"],
        )? {
            "fastinter" => OnError::Fastinter,
            "fail-check" => OnError::FailCheck,
            "sudden-death" => OnError::SuddenDeath,
            _ => OnError::MarkDown,
        };
        // `default_server` alone is read first, under no server's name.
        let at = servers.iter().position(|n| n == name);
        Ok(HaproxyServerSpec {
            check_code: at.map_or(0, |i| check_codes[i]),
            name: name.to_string(),
            weight,
            backup,
            maxconn,
            check,
            inter,
            fastinter,
            downinter,
            rise,
            fall,
            fastinter_set: fastinter_opt.is_some(),
            slowstart_s,
            observe,
            error_limit,
            on_error,
        })
    })?;
    Ok(HaproxySpec {
        mode,
        balance,
        maxconn,
        backlog,
        timeout_connect,
        timeout_server,
        timeout_client,
        timeout_queue,
        timeout_check,
        retries,
        redispatch,
        abortonclose,
        allbackups,
        shutdown_sessions_on_marked_down,
        check,
        spread_checks,
        servers,
    })
}

/// `option httpchk`: "GET /path" (or just "/path").
fn httpchk(src: &Sources, item: &Item, path: &str) -> Result<CheckKind, ConfigError> {
    let s = src.as_string(item, path)?;
    let parts: Vec<&str> = s.split_whitespace().collect();
    let uri = match parts.as_slice() {
        [uri] => *uri,
        [m, uri] if ["GET", "HEAD", "OPTIONS", "POST"].contains(m) => *uri,
        _ => "",
    };
    if !uri.starts_with('/') {
        return Err(src.error(
            &item.at,
            path,
            format!("expected \"GET /path\" (the method and URI of `option httpchk`), found {s:?}"),
        ));
    }
    Ok(CheckKind::Http {
        path: uri.to_string(),
    })
}

/// HAProxy's timers count milliseconds: a check interval below 1 ms does
/// not exist there (and would make the run handle a check every few ns).
fn at_least_1ms(r: &Reader, key: &str, d: Option<Dur>) -> Result<(), ConfigError> {
    match d {
        Some(d) if d < Dur::from_ms(1) => Err(r.error_at(
            key,
            format!(
                "must be at least 1ms (HAProxy counts check intervals in milliseconds), got {d}"
            ),
        )),
        _ => Ok(()),
    }
}
