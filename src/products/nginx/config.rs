//! `type = "nginx"` balancers: nginx 1.22's upstream and proxy modules
//! (defaults in `models/nginx-1.22.toml`).

use crate::config::read::{ReadCx, backup};
use crate::config::table::{Reader, Sources, list_choices};
use crate::config::{ConfigError, error::did_you_mean};
use crate::engine::Dur;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NextUpstream {
    pub error: bool,
    pub timeout: bool,
    pub http_500: bool,
    pub http_502: bool,
    pub http_503: bool,
    pub http_504: bool,
    pub non_idempotent: bool,
    pub off: bool,
}

/// nginx 1.22 upstream + proxy module.
#[derive(Clone, Debug)]
pub struct NginxSpec {
    /// `worker_processes`: failure state is per worker unless `zone` is set.
    pub worker_processes: u32,
    pub zone: bool,
    pub proxy_connect_timeout: Dur,
    pub proxy_read_timeout: Dur,
    /// How long an idle client keep-alive connection stays open (0 = none).
    pub keepalive_timeout: Dur,
    pub proxy_next_upstream: NextUpstream,
    /// 0 = unlimited.
    pub proxy_next_upstream_tries: u32,
    /// Zero = unlimited.
    pub proxy_next_upstream_timeout: Dur,
    /// `proxy_ignore_client_abort`: off = a client's close ends the request
    /// (499) and the upstream connection with it.
    pub proxy_ignore_client_abort: bool,
    pub servers: Vec<NginxServerSpec>,
}

#[derive(Clone, Debug)]
pub struct NginxServerSpec {
    pub name: String,
    pub weight: u32,
    pub max_fails: u32,
    /// Whole seconds, as nginx keeps it.
    pub fail_timeout_s: u64,
    pub backup: bool,
}

/// Reads a `type = "nginx"` balancer over its preset.
pub(crate) fn read<'a>(r: &mut Reader<'a>, cx: &ReadCx<'_, 'a>) -> Result<NginxSpec, ConfigError> {
    let servers = cx.servers(r)?;
    // The model keeps each request's tried servers in a 128-bit set.
    if servers.len() > 128 {
        return Err(r.error_at(
            "servers",
            format!(
                "at most 128 servers in an nginx upstream here, got {}",
                servers.len()
            ),
        ));
    }
    if let Some(item) = r.item("worker_processes")
        && item.as_str() == Some("auto")
    {
        return Err(r.error_at(
            "worker_processes",
            "`auto` means one worker per CPU core; write that number (failure state is per worker)",
        ));
    }
    let worker_processes = r.u32_range("worker_processes", 1, 1024)?;
    let zone = r.bool("zone")?;
    let proxy_connect_timeout = r.positive_duration("proxy_connect_timeout")?;
    let proxy_read_timeout = r.positive_duration("proxy_read_timeout")?;
    let keepalive_timeout = r.duration("keepalive_timeout")?;
    let proxy_next_upstream = next_upstream(cx.src(), r)?;
    let proxy_next_upstream_tries = r.u32_min("proxy_next_upstream_tries", 0)?;
    let proxy_next_upstream_timeout = r.duration("proxy_next_upstream_timeout")?;
    let proxy_ignore_client_abort = r.bool("proxy_ignore_client_abort")?;
    let servers = cx.per_server(r, &servers, |s, name, per_server| {
        let weight = s.u32_range("weight", 1, 1_000_000)?;
        let max_fails = s.u32_min("max_fails", 0)?;
        let ft = s.duration("fail_timeout")?;
        if ft.0 % Dur::S != 0 {
            let lo = ft.0 / Dur::S;
            return Err(s.error_at(
                "fail_timeout",
                format!(
                    "nginx keeps fail_timeout in whole seconds; got {ft} (write \"{lo}s\" or \"{}s\")",
                    lo + 1
                ),
            ));
        }
        let backup = backup(s, per_server)?;
        Ok(NginxServerSpec {
            name: name.to_string(),
            weight,
            max_fails,
            fail_timeout_s: ft.0 / Dur::S,
            backup,
        })
    })?;
    Ok(NginxSpec {
        worker_processes,
        zone,
        proxy_connect_timeout,
        proxy_read_timeout,
        keepalive_timeout,
        proxy_next_upstream,
        proxy_next_upstream_tries,
        proxy_next_upstream_timeout,
        proxy_ignore_client_abort,
        servers,
    })
}

/// The `proxy_next_upstream` conditions the model passes on (`hasim
/// import` warns of the others).
pub const NEXT_UPSTREAM_MODELLED: &[&str] = &[
    "error",
    "timeout",
    "http_500",
    "http_502",
    "http_503",
    "http_504",
    "non_idempotent",
    "off",
];

fn next_upstream(src: &Sources, r: &mut Reader<'_>) -> Result<NextUpstream, ConfigError> {
    const MODELLED: &[&str] = NEXT_UPSTREAM_MODELLED;
    const NOT_MODELLED: &[&str] = &["invalid_header", "http_403", "http_404", "http_429"];
    let key = "proxy_next_upstream";
    let item = r
        .item(key)
        .ok_or_else(|| r.missing(key, "e.g. [\"error\", \"timeout\"]"))?;
    let path = r.key_path(key);
    let list = src.as_string_list(item, &path)?;
    if list.is_empty() {
        return Err(src.error(&item.at, &path, "give at least one value, e.g. [\"off\"]"));
    }
    let mut n = NextUpstream {
        error: false,
        timeout: false,
        http_500: false,
        http_502: false,
        http_503: false,
        http_504: false,
        non_idempotent: false,
        off: false,
    };
    for (i, (v, at)) in list.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let flag = match *v {
            "error" => &mut n.error,
            "timeout" => &mut n.timeout,
            "http_500" => &mut n.http_500,
            "http_502" => &mut n.http_502,
            "http_503" => &mut n.http_503,
            "http_504" => &mut n.http_504,
            "non_idempotent" => &mut n.non_idempotent,
            "off" => &mut n.off,
            other if NOT_MODELLED.contains(&other) => {
                return Err(src.error(
                    at,
                    &p,
                    format!(
                        "`{other}` is valid in nginx but not modelled by hasim (use {})",
                        list_choices(MODELLED)
                    ),
                ));
            }
            other => {
                return Err(src.error(
                    at,
                    &p,
                    format!(
                        "expected one of {}, found {other:?}{}",
                        list_choices(MODELLED),
                        did_you_mean(other, MODELLED.iter().copied())
                    ),
                ));
            }
        };
        if *flag {
            return Err(src.error(at, &p, format!("`{v}` is listed twice")));
        }
        *flag = true;
    }
    if n.off && list.len() > 1 {
        return Err(src.error(
            &item.at,
            &path,
            "`off` cannot be combined with other values",
        ));
    }
    Ok(n)
}
