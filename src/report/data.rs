//! The data-safety part of the summary: what the write-history checker found
//! (lost writes, failed-but-committed writes, stale reads, split-brain, time
//! without a writable primary), as text lines and as JSON.

use super::RunResult;
use super::fmt::{percent, round, secs};
use crate::engine::SimTime;
use crate::metrics::history::{HistoryReport, Interval};
use serde::Serialize;
use std::fmt::Write as _;

/// Intervals listed one by one before the rest are summed up.
const SHOWN: usize = 5;

fn intervals_text(h: &HistoryReport, list: &[Interval]) -> String {
    if list.is_empty() {
        return "none".to_string();
    }
    let total: f64 = list.iter().map(Interval::secs).sum();
    let mut s = format!("{total:.3} s in {}:", list.len());
    for i in list.iter().take(SHOWN) {
        let _ = write!(
            s,
            " {}s..{}s",
            secs(i.from.0 as i128, 3),
            secs(i.to.0 as i128, 3)
        );
        if !i.nodes.is_empty() {
            let _ = write!(s, " ({})", h.names(&i.nodes).join(" "));
        }
    }
    if list.len() > SHOWN {
        let _ = write!(s, " ...");
    }
    s
}

/// The `vips` block of summary.txt: each VIP's intervals of two holders at
/// once (a VRRP split brain); empty without VIPs.
pub fn vips_text(r: &RunResult, row: fn(&mut String, &str, &str)) -> String {
    let rec = &r.recorder;
    if rec.vips.is_empty() {
        return String::new();
    }
    let mut s = String::from("\n  vips (holders of each address)\n");
    for v in &rec.vips {
        let list: Vec<&crate::metrics::VipSplit> =
            rec.two_holders.iter().filter(|t| &t.vip == v).collect();
        let text = if list.is_empty() {
            "none".to_string()
        } else {
            let total: f64 = list.iter().map(|t| (t.to - t.from).as_secs_f64()).sum();
            let mut t = format!("{total:.3} s in {}:", list.len());
            for i in list.iter().take(SHOWN) {
                let _ = write!(
                    t,
                    " {}s..{}s ({})",
                    secs(i.from.0 as i128, 3),
                    secs(i.to.0 as i128, 3),
                    i.hosts.join(" ")
                );
            }
            if list.len() > SHOWN {
                t.push_str(" ...");
            }
            t
        };
        row(&mut s, &format!("two holders [{v}]"), &text);
    }
    s
}

#[derive(Serialize)]
pub struct VipSplitJson<'a> {
    vip: &'a str,
    from_s: f64,
    to_s: f64,
    hosts: &'a [String],
}

/// The intervals of two holders of one VIP, for summary.json.
pub fn vips_json(r: &RunResult) -> Vec<VipSplitJson<'_>> {
    r.recorder
        .two_holders
        .iter()
        .map(|t| VipSplitJson {
            vip: &t.vip,
            from_s: round(t.from.as_secs_f64(), 9),
            to_s: round(t.to.as_secs_f64(), 9),
            hosts: &t.hosts,
        })
        .collect()
}

/// The `data` block of summary.txt; empty without databases.
pub fn data_text(r: &RunResult, row: fn(&mut String, &str, &str)) -> String {
    let Some(h) = &r.history else {
        return String::new();
    };
    let mut s = String::from("\n  data (write history)\n");
    row(
        &mut s,
        "writes",
        &format!(
            "{:<8} ok {}, failed {}, indeterminate {}",
            h.writes, h.writes_ok, h.writes_failed, h.writes_indeterminate
        ),
    );
    let lost = match h.lost.first() {
        None => "0".to_string(),
        Some(&(_, first)) => format!(
            "{:<8} acknowledged {}s .. {}s",
            h.lost.len(),
            secs(first.0 as i128, 3),
            secs(h.lost.last().expect("nonempty").1.0 as i128, 3)
        ),
    };
    row(&mut s, "acked writes lost", &lost);
    row(
        &mut s,
        "failed but committed",
        &format!(
            "{:<8} ({} the client could not tell: timeout, reset)",
            h.failed_committed, h.indeterminate_committed
        ),
    );
    row(
        &mut s,
        "reads",
        &format!(
            "{:<8} stale {} {}",
            h.reads,
            h.stale_reads,
            percent(h.stale_reads, h.reads)
        ),
    );
    for c in &h.clusters {
        let label = |what: &str| {
            if h.clusters.len() > 1 {
                format!("{what} [{}]", c.name)
            } else {
                what.to_string()
            }
        };
        row(
            &mut s,
            &label("split-brain"),
            &intervals_text(h, &c.split_brain),
        );
        row(
            &mut s,
            &label("no writable primary"),
            &intervals_text(h, &c.no_primary),
        );
    }
    for b in &r.breakdowns {
        let _ = writeln!(s, "  failover phases of {}, {}:", b.cluster, b.title);
        for (phase, lo, hi) in &b.rows {
            let _ = writeln!(
                s,
                "     {:>7}s .. {:>7}s  {phase}",
                secs(lo.0 as i128, 3),
                secs(hi.0 as i128, 3)
            );
        }
    }
    s
}

#[derive(Serialize)]
struct IntervalJson<'a> {
    from_s: f64,
    to_s: f64,
    nodes: Vec<&'a str>,
}

#[derive(Serialize)]
struct ClusterJson<'a> {
    name: &'a str,
    split_brain_s: f64,
    split_brain: Vec<IntervalJson<'a>>,
    no_primary_s: f64,
    no_primary: Vec<IntervalJson<'a>>,
}

#[derive(Serialize)]
struct LostJson {
    op: u32,
    acknowledged_s: f64,
}

#[derive(Serialize)]
struct PhaseJson<'a> {
    phase: &'a str,
    lo_s: f64,
    hi_s: f64,
}

#[derive(Serialize)]
struct BreakdownJson<'a> {
    cluster: &'a str,
    title: &'a str,
    phases: Vec<PhaseJson<'a>>,
}

#[derive(Serialize)]
pub(super) struct DataJson<'a> {
    writes: u64,
    writes_ok: u64,
    writes_failed: u64,
    writes_indeterminate: u64,
    lost_writes: usize,
    lost: Vec<LostJson>,
    failed_but_committed: u64,
    indeterminate_committed: u64,
    reads: u64,
    stale_reads: u64,
    first_stale_read_s: Option<f64>,
    clusters: Vec<ClusterJson<'a>>,
    failover_phases: Vec<BreakdownJson<'a>>,
}

fn s(t: SimTime) -> f64 {
    round(t.as_secs_f64(), 9)
}

fn intervals<'a>(h: &'a HistoryReport, list: &[Interval]) -> Vec<IntervalJson<'a>> {
    list.iter()
        .map(|i| IntervalJson {
            from_s: s(i.from),
            to_s: s(i.to),
            nodes: h.names(&i.nodes),
        })
        .collect()
}

pub(super) fn data_json(r: &RunResult) -> Option<DataJson<'_>> {
    let h = r.history.as_ref()?;
    Some(DataJson {
        writes: h.writes,
        writes_ok: h.writes_ok,
        writes_failed: h.writes_failed,
        writes_indeterminate: h.writes_indeterminate,
        lost_writes: h.lost.len(),
        lost: h
            .lost
            .iter()
            .map(|&(op, at)| LostJson {
                op,
                acknowledged_s: s(at),
            })
            .collect(),
        failed_but_committed: h.failed_committed,
        indeterminate_committed: h.indeterminate_committed,
        reads: h.reads,
        stale_reads: h.stale_reads,
        first_stale_read_s: h.first_stale_read.map(s),
        clusters: h
            .clusters
            .iter()
            .map(|c| ClusterJson {
                name: &c.name,
                split_brain_s: round(c.split_brain_secs(), 9),
                split_brain: intervals(h, &c.split_brain),
                no_primary_s: round(c.no_primary_secs(), 9),
                no_primary: intervals(h, &c.no_primary),
            })
            .collect(),
        failover_phases: r
            .breakdowns
            .iter()
            .map(|b| BreakdownJson {
                cluster: &b.cluster,
                title: &b.title,
                phases: b
                    .rows
                    .iter()
                    .map(|(p, lo, hi)| PhaseJson {
                        phase: p,
                        lo_s: lo.as_secs_f64(),
                        hi_s: hi.as_secs_f64(),
                    })
                    .collect(),
            })
            .collect(),
    })
}
