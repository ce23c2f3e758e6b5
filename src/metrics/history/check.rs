//! The history checker: what the clients' operations and the nodes' writable
//! intervals say about data safety once the run is over.

use super::{History, NO_NODE, OpStatus};
use crate::engine::SimTime;

/// A stretch of time, with the nodes involved (for split-brain: the nodes
/// accepting writes in different groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interval {
    pub from: SimTime,
    pub to: SimTime,
    pub nodes: Vec<u32>,
}

impl Interval {
    pub fn secs(&self) -> f64 {
        (self.to - self.from).as_secs_f64()
    }
}

/// The data a cluster ends the run with: which writes survive.
pub struct ClusterFinal<'a> {
    /// True if the write with this operation id is in the cluster's final
    /// data (the data of the node(s) accepting writes at the end, or of the
    /// most advanced node when none does).
    pub holds: Box<dyn Fn(u32) -> bool + 'a>,
}

/// What the checker found, over every database cluster.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HistoryReport {
    pub writes: u64,
    pub writes_ok: u64,
    pub writes_failed: u64,
    pub writes_indeterminate: u64,
    pub reads: u64,
    pub stale_reads: u64,
    pub first_stale_read: Option<SimTime>,
    /// Acknowledged writes missing from the final data: (operation, when the
    /// client saw it acknowledged), in acknowledgement order.
    pub lost: Vec<(u32, SimTime)>,
    /// Writes the client saw fail or time out that are in the final data.
    pub failed_committed: u64,
    /// Of those, the ones the client could not know about (timeout, reset).
    pub indeterminate_committed: u64,
    pub clusters: Vec<ClusterSafety>,
    /// Names of the run's nodes, by node id (for the intervals' `nodes`).
    pub node_names: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClusterSafety {
    pub name: String,
    /// Two or more groups accepting writes at once.
    pub split_brain: Vec<Interval>,
    /// No node accepting writes.
    pub no_primary: Vec<Interval>,
}

impl ClusterSafety {
    pub fn split_brain_secs(&self) -> f64 {
        self.split_brain.iter().map(Interval::secs).sum()
    }
    pub fn no_primary_secs(&self) -> f64 {
        self.no_primary.iter().map(Interval::secs).sum()
    }
}

impl HistoryReport {
    /// Acknowledged writes lost among those acknowledged in [from, to).
    pub fn lost_between(&self, from: SimTime, to: SimTime) -> usize {
        self.lost
            .iter()
            .filter(|&&(_, at)| at >= from && at < to)
            .count()
    }

    /// The names of an interval's nodes.
    pub fn names(&self, nodes: &[u32]) -> Vec<&str> {
        nodes
            .iter()
            .map(|&n| self.node_names.get(n as usize).map_or("?", String::as_str))
            .collect()
    }

    pub fn split_brain_secs(&self) -> f64 {
        self.clusters
            .iter()
            .map(ClusterSafety::split_brain_secs)
            .sum()
    }
    pub fn no_primary_secs(&self) -> f64 {
        self.clusters
            .iter()
            .map(ClusterSafety::no_primary_secs)
            .sum()
    }
}

/// Checks the history of a run that ended at `end`. `cluster_of[node]` is the
/// cluster of each database node (None for other nodes); `finals[c]` holds
/// cluster `c`'s final data.
pub fn check(
    h: &History,
    end: SimTime,
    cluster_of: &[Option<u32>],
    finals: &[ClusterFinal],
) -> HistoryReport {
    let mut r = HistoryReport::default();
    for (op, o) in h.ops.iter().enumerate() {
        let op = op as u32;
        if o.served_by == NO_NODE && !o.write {
            continue;
        }
        if !o.write {
            if o.status == OpStatus::Ok {
                r.reads += 1;
                if o.stale {
                    r.stale_reads += 1;
                    r.first_stale_read = Some(r.first_stale_read.map_or(o.end, |f| f.min(o.end)));
                }
            }
            continue;
        }
        let cluster = cluster_of.get(o.served_by as usize).copied().flatten();
        if o.served_by == NO_NODE && o.status == OpStatus::Ok {
            // Acknowledged by something that is not a database: not ours.
            continue;
        }
        r.writes += 1;
        let held = cluster.is_some_and(|c| (finals[c as usize].holds)(op));
        match o.status {
            OpStatus::Ok => {
                r.writes_ok += 1;
                if !held {
                    r.lost.push((op, o.end));
                }
            }
            OpStatus::Failed => {
                r.writes_failed += 1;
                r.failed_committed += held as u64;
            }
            OpStatus::Indeterminate => {
                r.writes_indeterminate += 1;
                r.failed_committed += held as u64;
                r.indeterminate_committed += held as u64;
            }
            OpStatus::Pending => {}
        }
    }
    r.lost.sort_by_key(|&(op, at)| (at, op));
    r.clusters = (0..h.clusters.len() as u32)
        .filter(|&c| h.holds_data.get(c as usize).copied().unwrap_or(true))
        .map(|c| safety(h, c, end))
        .collect();
    r
}

/// Split-brain and no-primary intervals of cluster `c`, from the nodes'
/// writable changes (appended in time order).
fn safety(h: &History, c: u32, end: SimTime) -> ClusterSafety {
    let changes: Vec<_> = h.writable.iter().filter(|w| w.cluster == c).collect();
    let mut out = ClusterSafety {
        name: h.clusters[c as usize].clone(),
        ..ClusterSafety::default()
    };
    // Current group of each node that accepts writes.
    let mut current: Vec<(u32, u32)> = Vec::new();
    let mut split: Option<(SimTime, Vec<u32>)> = None;
    let mut none_since: Option<SimTime> = Some(SimTime::ZERO);
    let mut i = 0;
    while i < changes.len() {
        let at = changes[i].at;
        // Every change at one instant first, then judge the state.
        while i < changes.len() && changes[i].at == at {
            let w = changes[i];
            current.retain(|&(n, _)| n != w.node);
            if let Some(g) = w.group {
                current.push((w.node, g));
            }
            i += 1;
        }
        let mut groups: Vec<u32> = current.iter().map(|&(_, g)| g).collect();
        groups.sort_unstable();
        groups.dedup();
        match (groups.len() >= 2, split.take()) {
            (true, None) => split = Some((at, nodes_of(&current))),
            (true, Some((from, mut nodes))) => {
                nodes.extend(nodes_of(&current));
                nodes.sort_unstable();
                nodes.dedup();
                split = Some((from, nodes));
            }
            (false, Some((from, nodes))) => out.split_brain.push(Interval {
                from,
                to: at,
                nodes,
            }),
            (false, None) => {}
        }
        match (groups.is_empty(), none_since) {
            (true, None) => none_since = Some(at),
            (false, Some(from)) => {
                if at > from {
                    out.no_primary.push(Interval {
                        from,
                        to: at,
                        nodes: Vec::new(),
                    });
                }
                none_since = None;
            }
            _ => {}
        }
    }
    if let Some((from, nodes)) = split {
        out.split_brain.push(Interval {
            from,
            to: end,
            nodes,
        });
    }
    if let Some(from) = none_since
        && end > from
    {
        out.no_primary.push(Interval {
            from,
            to: end,
            nodes: Vec::new(),
        });
    }
    out
}

fn nodes_of(current: &[(u32, u32)]) -> Vec<u32> {
    let mut n: Vec<u32> = current.iter().map(|&(n, _)| n).collect();
    n.sort_unstable();
    n
}

#[cfg(test)]
mod tests {
    use super::super::History;
    use super::*;
    use crate::metrics::Outcome;

    fn t(ms: u64) -> SimTime {
        SimTime(ms * 1_000_000)
    }

    #[test]
    fn two_groups_at_once_is_split_brain_and_none_is_no_primary() {
        let mut h = History::new(vec!["pg".into()]);
        h.set_writable(t(0), 0, 1, Some(1));
        h.set_writable(t(1000), 0, 2, Some(2));
        h.set_writable(t(1500), 0, 1, None);
        h.set_writable(t(2000), 0, 2, None);
        h.set_writable(t(2500), 0, 3, Some(3));
        let r = check(&h, t(3000), &[], &[]);
        let c = &r.clusters[0];
        assert_eq!(c.split_brain.len(), 1);
        assert_eq!(
            (c.split_brain[0].from, c.split_brain[0].to),
            (t(1000), t(1500))
        );
        assert_eq!(c.split_brain[0].nodes, vec![1, 2]);
        assert_eq!(c.no_primary.len(), 1);
        assert_eq!(
            (c.no_primary[0].from, c.no_primary[0].to),
            (t(2000), t(2500))
        );
    }

    #[test]
    fn one_group_of_many_nodes_is_not_split_brain() {
        let mut h = History::new(vec!["galera".into()]);
        for n in 0..3 {
            h.set_writable(t(0), 0, n, Some(7));
        }
        let r = check(&h, t(10), &[], &[]);
        assert!(r.clusters[0].split_brain.is_empty());
        assert!(r.clusters[0].no_primary.is_empty());
    }

    #[test]
    fn acknowledged_writes_missing_from_the_final_data_are_lost() {
        let mut h = History::new(vec!["pg".into()]);
        for op in 0..4 {
            h.begin(op, 0, t(op as u64), true);
            h.committed(op, 0, t(op as u64));
        }
        h.end(0, t(10), Outcome::Ok(200));
        h.end(1, t(11), Outcome::Ok(200));
        h.end(2, t(12), Outcome::Timeout);
        h.end(3, t(13), Outcome::Http(503));
        let finals = [ClusterFinal {
            holds: Box::new(|op| op == 0 || op == 2),
        }];
        let r = check(&h, t(100), &[Some(0)], &finals);
        assert_eq!(r.lost, vec![(1, t(11))]);
        assert_eq!(r.writes, 4);
        assert_eq!(r.failed_committed, 1);
        assert_eq!(r.indeterminate_committed, 1);
    }
}
