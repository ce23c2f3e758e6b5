//! `--dry-run`: an HAProxy as the experiment resolved it.

use crate::engine::Dur;
use crate::products::haproxy::config::{
    Balance, CheckKind, HaproxyMode, HaproxyServerSpec, HaproxySpec, Observe, OnError,
};
use std::fmt::Write;

/// The resolved settings in haproxy.cfg's words: the proxy's line, then one
/// `server` line per server as haproxy.cfg writes it.
pub fn describe(o: &mut String, h: &HaproxySpec) {
    let mode = match h.mode {
        HaproxyMode::Http => "http",
        HaproxyMode::Tcp => "tcp",
    };
    let balance = match h.balance {
        Balance::RoundRobin => "roundrobin",
        Balance::LeastConn => "leastconn",
        Balance::First => "first",
        Balance::Source => "source",
    };
    let check = match &h.check {
        CheckKind::L4 => String::new(),
        CheckKind::Http { path } => format!(", option httpchk GET {path}"),
        CheckKind::TcpCheckRoleMaster => {
            ", option tcp-check (PING, info replication, expect role:master)".to_string()
        }
    };
    let _ = writeln!(
        o,
        "mode {mode}, balance {balance}, maxconn {}, retries {}, option redispatch {}, \
         timeout connect {} server {} client {} queue {} check {}{check}",
        h.maxconn,
        h.retries,
        on_off(h.redispatch),
        opt(h.timeout_connect),
        opt(h.timeout_server),
        opt(h.timeout_client),
        opt(h.timeout_queue),
        opt(h.timeout_check),
    );
    for s in &h.servers {
        let _ = writeln!(o, "      server {:<10}{}", s.name, server_params(s));
    }
}

/// A server's parameters as haproxy.cfg writes them (flags only when set).
fn server_params(s: &HaproxyServerSpec) -> String {
    let mut p = format!(" weight {} maxconn {}", s.weight, s.maxconn);
    if s.backup {
        p.push_str(" backup");
    }
    if s.check {
        p.push_str(&format!(
            " check inter {} fastinter {} downinter {} rise {} fall {}",
            s.inter, s.fastinter, s.downinter, s.rise, s.fall
        ));
    }
    if s.slowstart_s > 0 {
        p.push_str(&format!(" slowstart {}s", s.slowstart_s));
    }
    if let Some(observe) = s.observe {
        let layer = match observe {
            Observe::Layer4 => "layer4",
            Observe::Layer7 => "layer7",
        };
        let on_error = match s.on_error {
            OnError::Fastinter => "fastinter",
            OnError::FailCheck => "fail-check",
            OnError::SuddenDeath => "sudden-death",
            OnError::MarkDown => "mark-down",
        };
        p.push_str(&format!(
            " observe {layer} error-limit {} on-error {on_error}",
            s.error_limit
        ));
    }
    p
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

fn opt(d: Option<Dur>) -> String {
    d.map_or_else(|| "unset".to_string(), |d| d.to_string())
}
