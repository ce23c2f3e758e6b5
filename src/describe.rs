//! `--dry-run`: the resolved topology in words, after presets and defaults.

use crate::config::spec::{ExperimentSpec, LoadSpec, NodeKind};
use std::fmt::Write;

pub fn topology(spec: &ExperimentSpec, seed: u64) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "experiment {} ({}), {} simulated, seed {seed}",
        spec.name, spec.file, spec.duration
    );
    let _ = writeln!(
        o,
        "network: latency {:?}, loss {}",
        spec.network.latency, spec.network.loss
    );
    for n in spec.nodes.values() {
        let _ = write!(
            o,
            "  {:<14} {:<8} on host {:<10} ",
            n.name,
            n.kind.label(),
            n.host
        );
        let _ = match &n.kind {
            NodeKind::Client(c) => match &c.load {
                LoadSpec::Open(l) => writeln!(
                    o,
                    "-> {} open loop {:?} {:?}, timeout {}",
                    c.target,
                    l.rate_steps
                        .iter()
                        .map(|(t, r)| format!("{r}/s from {t:?}"))
                        .collect::<Vec<_>>(),
                    l.arrivals,
                    c.timeout
                ),
                LoadSpec::Closed(l) => writeln!(
                    o,
                    "-> {} closed loop, {} VUs, {} steps per iteration, timeout {}",
                    c.target,
                    l.vus,
                    l.iteration.len(),
                    c.timeout
                ),
            },
            NodeKind::Haproxy(h) => {
                let _ = writeln!(
                    o,
                    "mode {:?} balance {:?} maxconn {} retries {} redispatch {} timeouts connect {:?} server {:?} queue {:?} check {:?}",
                    h.mode,
                    h.balance,
                    h.maxconn,
                    h.retries,
                    h.redispatch,
                    h.timeout_connect,
                    h.timeout_server,
                    h.timeout_queue,
                    h.timeout_check
                );
                for s in &h.servers {
                    let _ = writeln!(
                        o,
                        "      server {:<10} weight {} maxconn {} backup {} check {} inter {} fastinter {} downinter {} rise {} fall {}",
                        s.name,
                        s.weight,
                        s.maxconn,
                        s.backup,
                        s.check,
                        s.inter,
                        s.fastinter,
                        s.downinter,
                        s.rise,
                        s.fall
                    );
                }
                Ok(())
            }
            NodeKind::Nginx(x) => {
                let _ = writeln!(
                    o,
                    "workers {} zone {} proxy_connect_timeout {} proxy_read_timeout {} next_upstream {:?} tries {} timeout {}",
                    x.worker_processes,
                    x.zone,
                    x.proxy_connect_timeout,
                    x.proxy_read_timeout,
                    x.proxy_next_upstream,
                    x.proxy_next_upstream_tries,
                    x.proxy_next_upstream_timeout
                );
                for s in &x.servers {
                    let _ = writeln!(
                        o,
                        "      server {:<10} weight {} max_fails {} fail_timeout {}s backup {}",
                        s.name, s.weight, s.max_fails, s.fail_timeout_s, s.backup
                    );
                }
                Ok(())
            }
            NodeKind::App(a) => writeln!(
                o,
                "{} workers, service {:?}, calls {:?}",
                a.server.workers,
                a.server.service,
                a.calls
                    .iter()
                    .map(|c| format!("{} x{}", c.target, c.count))
                    .collect::<Vec<_>>()
            ),
            NodeKind::Server(s) => writeln!(
                o,
                "{} workers, service {:?}, backlog {}",
                s.workers, s.service, s.backlog
            ),
        };
    }
    for f in &spec.faults {
        let _ = writeln!(o, "  fault {:?} on {:?} {:?}", f.kind, f.targets, f.timing);
    }
    o
}
