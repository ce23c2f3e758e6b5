//! `--dry-run`: an nginx upstream as the experiment resolved it.

use crate::products::nginx::config::{NextUpstream, NginxSpec};
use std::fmt::Write;

pub fn describe(o: &mut String, x: &NginxSpec) {
    let _ = writeln!(
        o,
        "{} workers, zone {}, proxy_connect_timeout {}, proxy_read_timeout {}, proxy_next_upstream {}, tries {}, timeout {}, keepalive_timeout {}",
        x.worker_processes,
        x.zone,
        x.proxy_connect_timeout,
        x.proxy_read_timeout,
        next_upstream(&x.proxy_next_upstream),
        x.proxy_next_upstream_tries,
        x.proxy_next_upstream_timeout,
        x.keepalive_timeout
    );
    for s in &x.servers {
        let _ = writeln!(
            o,
            "      server {:<10} weight {} max_fails {} fail_timeout {}s backup {}",
            s.name, s.weight, s.max_fails, s.fail_timeout_s, s.backup
        );
    }
}

fn next_upstream(n: &NextUpstream) -> String {
    if n.off {
        return "off".into();
    }
    let flags = [
        (n.error, "error"),
        (n.timeout, "timeout"),
        (n.http_500, "http_500"),
        (n.http_502, "http_502"),
        (n.http_503, "http_503"),
        (n.http_504, "http_504"),
        (n.non_idempotent, "non_idempotent"),
    ];
    flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(" ")
}
