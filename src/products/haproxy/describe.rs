//! `--dry-run`: an HAProxy as the experiment resolved it.

use crate::engine::Dur;
use crate::products::haproxy::config::HaproxySpec;
use std::fmt::Write;

pub fn describe(o: &mut String, h: &HaproxySpec) {
    let _ = writeln!(
        o,
        "mode {:?}, balance {:?}, maxconn {}, retries {}, redispatch {}, timeout connect {} server {} queue {} check {}",
        h.mode,
        h.balance,
        h.maxconn,
        h.retries,
        h.redispatch,
        opt(h.timeout_connect),
        opt(h.timeout_server),
        opt(h.timeout_queue),
        opt(h.timeout_check)
    );
    for s in &h.servers {
        let _ = writeln!(
            o,
            "      server {:<10} weight {} maxconn {} backup {} check {} inter {} fastinter {} downinter {} rise {} fall {} slowstart {}s observe {} error-limit {} on-error {:?}",
            s.name,
            s.weight,
            s.maxconn,
            s.backup,
            s.check,
            s.inter,
            s.fastinter,
            s.downinter,
            s.rise,
            s.fall,
            s.slowstart_s,
            s.observe
                .map_or("off".to_string(), |o| format!("{o:?}").to_lowercase()),
            s.error_limit,
            s.on_error
        );
    }
}

fn opt(d: Option<Dur>) -> String {
    d.map_or_else(|| "unset".to_string(), |d| d.to_string())
}
