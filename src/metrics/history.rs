//! The write history: every client operation on a data tier with its start,
//! end, outcome and the node that served it; the instants each database node
//! started or stopped accepting writes. After the run, [`check`] turns it
//! into lost writes, failed-but-committed writes, stale reads, split-brain and
//! the time without a writable primary.
//!
//! Kept only when the experiment has databases: it grows with the number of
//! operations (32 bytes each), like a trace, which a history checker needs.

mod check;

pub use check::{ClusterFinal, ClusterSafety, HistoryReport, Interval, check};

use super::Outcome;
use crate::engine::SimTime;

/// `OpRecord::served_by` before any node served the operation.
pub const NO_NODE: u32 = u32::MAX;

/// How an operation ended, as the client can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpStatus {
    /// Still waiting at the end of the run.
    Pending,
    Ok,
    /// The system said no (an error reply, a refused connect): not applied.
    Failed,
    /// The client gave up or lost the connection after sending: the write
    /// may or may not have committed.
    Indeterminate,
}

impl OpStatus {
    /// Classifies a client outcome.
    pub fn of(outcome: Outcome) -> OpStatus {
        match outcome {
            Outcome::Ok(_) => OpStatus::Ok,
            Outcome::Timeout | Outcome::Reset | Outcome::Closed => OpStatus::Indeterminate,
            _ => OpStatus::Failed,
        }
    }
}

/// One client operation.
#[derive(Clone, Copy, Debug)]
pub struct OpRecord {
    pub start: SimTime,
    /// When the client saw it end (`NEVER` while pending).
    pub end: SimTime,
    pub client: u32,
    pub write: bool,
    pub status: OpStatus,
    /// The database node that committed the write or served the read.
    pub served_by: u32,
    /// The write committed on the node that served it (its first commit).
    pub committed: bool,
    /// A read that missed a write acknowledged before the read began.
    pub stale: bool,
}

// One per client operation of a database experiment, for the whole run (a
// day of field report 2 is 12.7 M of them): keep it small.
const _: () = assert!(std::mem::size_of::<OpRecord>() == 32);

/// A database node starts or stops accepting writes. `group` names the set of
/// nodes that replicate synchronously to each other (a Galera primary view,
/// a PostgreSQL primary's own id): two groups at once is split-brain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WritableChange {
    pub at: SimTime,
    pub cluster: u32,
    pub node: u32,
    pub group: Option<u32>,
}

/// Everything the history checker needs, collected while the run goes.
#[derive(Clone, Debug, Default)]
pub struct History {
    /// Indexed by operation id (the global issue count).
    pub ops: Vec<OpRecord>,
    /// Acknowledged writes in the order the clients saw them acknowledged.
    acks: Vec<(SimTime, u32)>,
    pub writable: Vec<WritableChange>,
    /// Names of the database clusters, by cluster index.
    pub clusters: Vec<String>,
    /// Whether each cluster holds client data (etcd holds none).
    pub holds_data: Vec<bool>,
    /// Nodes frozen (SIGSTOP) while accepting writes: (node, cluster, group).
    suspended: Vec<(u32, u32, u32)>,
    /// The experiment's 0 in engine time: instants are kept from here, and
    /// what happened in the warm-up before it is kept as at 0.
    origin: SimTime,
}

impl History {
    /// A history of data-holding clusters named `clusters`.
    pub fn new(clusters: Vec<String>) -> History {
        let holds_data = vec![true; clusters.len()];
        History::with_data(clusters, holds_data, SimTime::ZERO)
    }

    /// A history where only clusters with `holds_data[c]` get safety
    /// figures, counting time from `origin` (the end of the warm-up).
    pub fn with_data(clusters: Vec<String>, holds_data: Vec<bool>, origin: SimTime) -> History {
        History {
            clusters,
            holds_data,
            origin,
            ..History::default()
        }
    }

    /// Engine instant `at` as the experiment counts it.
    #[inline]
    fn rel(&self, at: SimTime) -> SimTime {
        SimTime(at.0.saturating_sub(self.origin.0))
    }

    /// A client issued operation `op` (ids are dense, in issue order).
    pub fn begin(&mut self, op: u32, client: u32, at: SimTime, write: bool) {
        let at = self.rel(at);
        debug_assert_eq!(op as usize, self.ops.len(), "operation ids are dense");
        self.ops.push(OpRecord {
            start: at,
            end: SimTime::NEVER,
            client,
            write,
            status: OpStatus::Pending,
            served_by: NO_NODE,
            committed: false,
            stale: false,
        });
    }

    /// The client saw operation `op` end.
    pub fn end(&mut self, op: u32, at: SimTime, outcome: Outcome) {
        let at = self.rel(at);
        let Some(r) = self.ops.get_mut(op as usize) else {
            return;
        };
        r.end = at;
        r.status = OpStatus::of(outcome);
        if r.write && r.status == OpStatus::Ok {
            self.acks.push((at, op));
        }
    }

    /// Write `op` committed on `node` (the first commit counts: the node that
    /// took the client's write, not the replicas applying it later).
    pub fn committed(&mut self, op: u32, node: u32, _at: SimTime) {
        if let Some(r) = self.ops.get_mut(op as usize)
            && !r.committed
        {
            r.committed = true;
            r.served_by = node;
        }
    }

    /// Node `node` serves read `op` now; `sees(w)` tells whether its data
    /// holds write `w`. The read is stale if it misses the last write the
    /// clients saw acknowledged before the read began.
    pub fn read(&mut self, op: u32, node: u32, sees: impl Fn(u32) -> bool) {
        let Some(r) = self.ops.get(op as usize) else {
            return;
        };
        let before = self.acked_before(r.start);
        let stale = before > 0 && !sees(self.acks[before - 1].1);
        let r = &mut self.ops[op as usize];
        r.served_by = node;
        r.stale = stale;
    }

    /// Node `node` of cluster `cluster` now accepts writes for `group`, or
    /// none (`None`). Repeating the current state is harmless.
    pub fn set_writable(&mut self, at: SimTime, cluster: u32, node: u32, group: Option<u32>) {
        // A frozen node's state changes only where it will resume: another
        // member may retire its view meanwhile.
        if let Some(i) = self.suspended.iter().position(|s| s.0 == node) {
            match group {
                Some(g) => self.suspended[i].2 = g,
                None => {
                    self.suspended.remove(i);
                }
            }
            return;
        }
        self.push_writable(at, cluster, node, group);
    }

    fn push_writable(&mut self, at: SimTime, cluster: u32, node: u32, group: Option<u32>) {
        let at = self.rel(at);
        let current = self
            .writable
            .iter()
            .rev()
            .find(|c| c.node == node)
            .and_then(|c| c.group);
        if current != group {
            self.writable.push(WritableChange {
                at,
                cluster,
                node,
                group,
            });
        }
    }

    /// The group node `node` accepts writes for now, if any.
    fn current(&self, node: u32) -> Option<(u32, u32)> {
        let c = self.writable.iter().rev().find(|c| c.node == node)?;
        c.group.map(|g| (c.cluster, g))
    }

    /// No node can accept writes for `group` any more (a Galera view that a
    /// member left can deliver nothing): its holders stop, frozen ones too.
    pub fn retire_group(&mut self, at: SimTime, cluster: u32, group: u32) {
        self.suspended
            .retain(|&(_, c, g)| !(c == cluster && g == group));
        let holders: Vec<u32> = self
            .writable
            .iter()
            .filter(|c| c.cluster == cluster)
            .map(|c| c.node)
            .collect();
        for node in holders {
            if self.current(node) == Some((cluster, group)) {
                self.push_writable(at, cluster, node, None);
            }
        }
    }

    /// The process of `node` was stopped: it acknowledges nothing until it
    /// is continued, when it is as it was.
    pub fn suspend(&mut self, at: SimTime, node: u32) {
        if let Some((cluster, group)) = self.current(node)
            && !self.suspended.iter().any(|s| s.0 == node)
        {
            self.suspended.push((node, cluster, group));
            self.push_writable(at, cluster, node, None);
        }
    }

    pub fn resume(&mut self, at: SimTime, node: u32) {
        if let Some(i) = self.suspended.iter().position(|s| s.0 == node) {
            let (node, cluster, group) = self.suspended.remove(i);
            self.push_writable(at, cluster, node, Some(group));
        }
    }

    /// The process of `node` died: it accepts nothing until it says so again.
    pub fn crashed(&mut self, at: SimTime, node: u32) {
        self.suspended.retain(|s| s.0 != node);
        if let Some((cluster, _)) = self.current(node) {
            self.push_writable(at, cluster, node, None);
        }
    }

    /// The acknowledged write last seen by clients before `t`, if any.
    pub fn last_ack_before(&self, t: SimTime) -> Option<(SimTime, u32)> {
        let i = self.acked_before(self.rel(t));
        (i > 0).then(|| self.acks[i - 1])
    }

    /// How many writes were acknowledged before experiment instant `t`.
    /// A read asks about its own start, a moment ago: galloping back from
    /// the newest ack finds it in a step or two where a binary search over
    /// the whole run took ~15 (measured: 3/4 of MySQL's per-query cost).
    fn acked_before(&self, t: SimTime) -> usize {
        let acks = &self.acks;
        let (mut lo, mut step) = (acks.len(), 1);
        while lo > 0 && acks[lo - 1].0 >= t {
            let hi = lo;
            lo = lo.saturating_sub(step);
            if acks[lo].0 < t {
                return lo + acks[lo..hi].partition_point(|&(at, _)| at < t);
            }
            step *= 2;
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64) -> SimTime {
        SimTime(s * 1_000_000_000)
    }

    #[test]
    fn a_read_that_misses_an_earlier_acknowledged_write_is_stale() {
        let mut h = History::new(vec!["db".into()]);
        h.begin(0, 0, t(1), true);
        h.end(0, t(2), Outcome::Ok(200));
        h.begin(1, 0, t(3), false);
        h.read(1, 7, |w| w != 0);
        assert!(h.ops[1].stale);
        h.begin(2, 0, t(3), false);
        h.read(2, 7, |_| true);
        assert!(!h.ops[2].stale);
        assert_eq!(h.ops[2].served_by, 7);
    }

    #[test]
    fn galloping_back_finds_what_a_binary_search_finds() {
        // Acks at 0, 0, 1, 1, 1, 2, ... ns (ties included), probed at every instant.
        for len in 0..40u64 {
            let mut h = History::new(vec!["db".into()]);
            h.acks = (0..len).map(|i| (SimTime(i * 2 / 5), i as u32)).collect();
            for probe in 0..len / 2 + 3 {
                let at = SimTime(probe);
                let expected = h.acks.partition_point(|&(a, _)| a < at);
                assert_eq!(h.acked_before(at), expected, "{len} acks, probe {probe}");
            }
        }
    }

    #[test]
    fn a_read_begun_before_the_ack_is_not_stale() {
        let mut h = History::new(vec!["db".into()]);
        h.begin(0, 0, t(1), true);
        h.begin(1, 0, t(1), false);
        h.end(0, t(2), Outcome::Ok(200));
        h.read(1, 7, |_| false);
        assert!(!h.ops[1].stale);
    }

    #[test]
    fn timeouts_and_resets_are_indeterminate_errors_are_failures() {
        assert_eq!(OpStatus::of(Outcome::Timeout), OpStatus::Indeterminate);
        assert_eq!(OpStatus::of(Outcome::Closed), OpStatus::Indeterminate);
        assert_eq!(OpStatus::of(Outcome::Refused), OpStatus::Failed);
        assert_eq!(OpStatus::of(Outcome::Http(503)), OpStatus::Failed);
    }

    #[test]
    fn a_frozen_node_resumes_its_group_unless_it_was_retired_meanwhile() {
        let mut h = History::new(vec!["db".into()]);
        h.set_writable(t(0), 0, 1, Some(7));
        h.set_writable(t(0), 0, 2, Some(7));
        h.suspend(t(1), 1);
        h.suspend(t(1), 2);
        h.set_writable(t(2), 0, 2, None);
        h.resume(t(3), 1);
        h.resume(t(3), 2);
        assert_eq!(h.current(1), Some((0, 7)));
        assert_eq!(h.current(2), None);
    }

    #[test]
    fn repeating_a_writable_state_records_nothing() {
        let mut h = History::new(vec!["db".into()]);
        h.set_writable(t(0), 0, 1, Some(1));
        h.set_writable(t(1), 0, 1, Some(1));
        h.set_writable(t(2), 0, 1, None);
        assert_eq!(h.writable.len(), 2);
    }
}
