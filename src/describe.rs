//! `--dry-run`: the resolved topology in words, after presets and defaults.

use crate::config::spec::{ExperimentSpec, Fault, FaultTiming, Jitter, LatencySpec, NodeSpec};
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
    let _ = writeln!(o, "{}", spec.start.describe());
    let _ = writeln!(
        o,
        "network: latency {}, loss {}, {} link overrides, Linux {} (SYN retransmissions: {} at {} then doubling, {} in all)",
        latency(&net.latency),
        net.loss,
        net.links.len(),
        net.kernel,
        net.syn_linear_timeouts + 1,
        net.syn_rto,
        net.syn_retries + net.syn_linear_timeouts
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
        if let Some(c) = &n.cluster
            && c.members.first() != Some(&n.name)
        {
            let _ = writeln!(
                o,
                "member of {} cluster `{}` (as above)",
                n.kind.label(),
                c.cluster
            );
            continue;
        }
        crate::products::describe(&mut o, n);
    }
    for f in &spec.faults {
        let who = match &f.fault {
            Fault::Partition { groups, one_way } => {
                let groups: Vec<String> = groups
                    .iter()
                    .map(|g| format!("[{}]", g.join(" ")))
                    .collect();
                groups.join(if *one_way { " -> " } else { " | " })
            }
            _ => f.targets.join(" "),
        };
        let kind = f.fault.kind().name();
        let _ = writeln!(o, "  fault {kind} on {who}: {}", timing(&f.timing));
    }
    if !spec.thresholds.is_empty() {
        let all: Vec<String> = spec.thresholds.iter().map(|t| t.condition()).collect();
        let _ = writeln!(
            o,
            "  thresholds (exit 1 when one is crossed): {}",
            all.join(", ")
        );
    }
    o
}

/// A database cluster's line, at its first member: its members and its
/// product's settings as resolved, in the product's own key names.
pub fn cluster(o: &mut String, n: &NodeSpec, settings: &[(&str, String)]) {
    let Some(c) = &n.cluster else { return };
    let keys: Vec<String> = settings.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(
        o,
        "{} cluster `{}` of {} ({}): {}",
        n.kind.label(),
        c.cluster,
        c.members.len(),
        names(&c.members),
        keys.join(", ")
    );
}

/// A size as the products write it: `128M`, `1G`, or bytes.
pub fn size(n: u64) -> String {
    for (unit, name) in [
        (1u64 << 40, "T"),
        (1 << 30, "G"),
        (1 << 20, "M"),
        (1 << 10, "K"),
    ] {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{}{name}", n / unit);
        }
    }
    n.to_string()
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

fn latency(l: &LatencySpec) -> String {
    match l.jitter {
        Jitter::None => l.base.to_string(),
        Jitter::Uniform(j) => format!("{} + U(0,{j})", l.base),
        Jitter::Exponential(j) => format!("{} + Exp(mean {j})", l.base),
    }
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
                crate::process::dist::describe(mttr)
            )
        }
    }
}

fn opt(d: Option<Dur>) -> String {
    d.map_or_else(|| "unset".to_string(), |d| d.to_string())
}
