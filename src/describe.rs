//! `--dry-run`: the resolved topology in words, after presets and defaults.

use crate::config::spec::{
    ConnectionMode, DistSpec, ExperimentSpec, FaultTiming, Jitter, LatencySpec, LoadSpec,
    NextUpstream, NodeKind,
};
use crate::engine::Dur;
use std::fmt::Write;

pub fn topology(spec: &ExperimentSpec, seed: u64) -> String {
    let mut o = String::new();
    let net = &spec.network;
    let _ = writeln!(
        o,
        "experiment {} ({}), {} simulated, seed {seed}",
        spec.name, spec.file, spec.duration
    );
    let _ = writeln!(
        o,
        "network: latency {}, loss {}, {} link overrides",
        latency(&net.latency),
        net.loss,
        net.links.len()
    );
    for n in spec.nodes.values() {
        let _ = write!(
            o,
            "  {:<14} {:<8} on host {:<10} ",
            n.name,
            n.kind.label(),
            n.host
        );
        // A cluster's members and settings once, at its first member: a
        // cluster of n members prints n short lines, not n lists of n.
        if let NodeKind::Database(d) = &n.kind
            && d.members.first() != Some(&n.name)
        {
            let _ = writeln!(
                o,
                "member of {} cluster `{}` (as above)",
                d.kind.label(),
                d.cluster
            );
            continue;
        }
        node(&mut o, &n.kind);
    }
    for f in &spec.faults {
        let who = if f.groups.is_empty() {
            f.targets.join(" ")
        } else {
            format!("{:?}", f.groups)
        };
        let _ = writeln!(o, "  fault {:?} on {who}: {}", f.kind, timing(&f.timing));
    }
    o
}

fn node(o: &mut String, kind: &NodeKind) {
    let _ = match kind {
        NodeKind::Database(d) => writeln!(
            o,
            "{} cluster `{}` of {} ({}): {:?}",
            d.kind.label(),
            d.cluster,
            d.members.len(),
            names(&d.members),
            d.kind
        ),
        NodeKind::Client(c) => match &c.load {
            LoadSpec::Open(l) => {
                let steps: Vec<String> = l
                    .rate_steps
                    .iter()
                    .map(|(t, r)| format!("{r}/s from {}", Dur(t.0)))
                    .collect();
                writeln!(
                    o,
                    "-> {} open loop {}, {:?} arrivals, timeout {}",
                    c.target,
                    steps.join(", "),
                    l.arrivals,
                    c.timeout
                )
            }
            LoadSpec::Closed(l) => writeln!(
                o,
                "-> {} closed loop, {} VUs, {} steps per iteration, timeout {}, keep-alive {}",
                c.target,
                l.vus,
                l.iteration.len(),
                c.timeout,
                l.keep_alive
            ),
        },
        NodeKind::Haproxy(h) => {
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
            Ok(())
        }
        NodeKind::Nginx(x) => {
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
            Ok(())
        }
        NodeKind::App(a) => {
            let calls: Vec<String> = a
                .calls
                .iter()
                .map(|c| {
                    let conn = match c.connection {
                        ConnectionMode::PerRequest => "a connection per call".to_string(),
                        ConnectionMode::Pool { size } => format!("pool of {size}"),
                    };
                    format!(
                        "{} x{} ({conn}, connect timeout {}, timeout {}, error {})",
                        c.target, c.count, c.connect_timeout, c.timeout, c.error_status
                    )
                })
                .collect();
            writeln!(
                o,
                "{} workers, service {}, calls {}",
                a.server.workers,
                dist(&a.server.service),
                calls.join(", ")
            )
        }
        NodeKind::Server(s) => writeln!(
            o,
            "{} workers, service {}, backlog {}",
            s.workers,
            dist(&s.service),
            s.backlog
        ),
    };
}

/// `a1, a2, a3`, or for many names the first few and the last:
/// `g1, g2, g3, g4, g5, …, g10000`.
pub fn names(list: &[String]) -> String {
    const SHOWN: usize = 5;
    if list.len() <= SHOWN + 2 {
        return list.join(", ");
    }
    format!(
        "{}, … ({} more), {}",
        list[..SHOWN].join(", "),
        list.len() - SHOWN - 1,
        list[list.len() - 1]
    )
}

fn opt(d: Option<Dur>) -> String {
    d.map_or_else(|| "unset".to_string(), |d| d.to_string())
}

fn latency(l: &LatencySpec) -> String {
    match l.jitter {
        Jitter::None => l.base.to_string(),
        Jitter::Uniform(j) => format!("{} + U(0,{j})", l.base),
        Jitter::Exponential(j) => format!("{} + Exp(mean {j})", l.base),
    }
}

fn dist(d: &DistSpec) -> String {
    match d {
        DistSpec::Constant(v) => v.to_string(),
        DistSpec::Exponential { mean } => format!("exponential(mean {mean})"),
        DistSpec::LogNormal { median, p99 } => format!("lognormal(median {median}, p99 {p99})"),
        DistSpec::Uniform { min, max } => format!("uniform({min}..{max})"),
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

fn timing(t: &FaultTiming) -> String {
    match t {
        FaultTiming::Fixed { at, recover_at } => match recover_at {
            Some(r) => format!("at {}, recovered at {}", Dur(at.0), Dur(r.0)),
            None => format!("at {}, never recovered", Dur(at.0)),
        },
        FaultTiming::Staggered {
            at,
            every,
            duration,
        } => {
            format!(
                "from {} every {every}, each for {}",
                Dur(at.0),
                opt(*duration)
            )
        }
        FaultTiming::Random { mtbf, mttr, start } => {
            format!(
                "random from {}: MTBF {mtbf}, MTTR {}",
                Dur(start.0),
                dist(mttr)
            )
        }
    }
}
