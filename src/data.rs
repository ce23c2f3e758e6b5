//! The data a database node holds, for the write history: the writes it
//! applied, in order ([`DataLog`]), and which node's data counts at the end
//! of a run ([`authoritative`]).

/// The operation id of a request that is no client operation (an app's
/// session read or write): a database applies it like any other, and the
/// write history judges nothing of it.
pub const UNTRACKED: u32 = u32::MAX;

/// The writes a node holds, in the order it applied them: its data. Writes
/// are named by the client operation that made them.
#[derive(Clone, Debug, Default)]
pub struct DataLog {
    entries: Vec<u32>,
    /// Membership bit per operation id, for stale-read and loss checks.
    present: Vec<u64>,
}

impl DataLog {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn entries(&self) -> &[u32] {
        &self.entries
    }

    pub fn get(&self, i: usize) -> Option<u32> {
        self.entries.get(i).copied()
    }

    pub fn contains(&self, op: u32) -> bool {
        let (w, b) = (op as usize / 64, op % 64);
        self.present.get(w).is_some_and(|x| x >> b & 1 == 1)
    }

    pub fn push(&mut self, op: u32) {
        if op == UNTRACKED {
            // In the log (offsets count it), not in the membership bits.
            self.entries.push(op);
            return;
        }
        let (w, b) = (op as usize / 64, op % 64);
        if self.present.len() <= w {
            self.present.resize(w + 1, 0);
        }
        self.present[w] |= 1 << b;
        self.entries.push(op);
    }

    /// Keeps the first `len` writes and forgets the rest (pg_rewind, a
    /// rejoining node discarding what the cluster never had).
    pub fn truncate(&mut self, len: usize) {
        for &op in &self.entries[len.min(self.entries.len())..] {
            if op == UNTRACKED {
                continue;
            }
            self.present[op as usize / 64] &= !(1 << (op % 64));
        }
        self.entries.truncate(len);
    }

    /// Becomes a copy of `other` (a full state transfer).
    pub fn copy_from(&mut self, other: &DataLog) {
        self.clone_from(other);
    }

    /// Length of the common prefix with `other`: where two histories diverge.
    pub fn common_prefix(&self, other: &DataLog) -> usize {
        self.entries
            .iter()
            .zip(&other.entries)
            .take_while(|(a, b)| a == b)
            .count()
    }
}

/// What a node's data is worth at the end of a run.
#[derive(Clone, Copy)]
pub struct FinalData<'a> {
    pub cluster: u32,
    /// It accepts writes at the end.
    pub writable: bool,
    pub log: &'a DataLog,
}

/// Picks a cluster's final data: the log of the nodes accepting writes at
/// the end (the longest, if a split left several), else the longest log.
pub fn authoritative<'a>(nodes: &[FinalData<'a>]) -> Option<&'a DataLog> {
    let writable = nodes.iter().filter(|n| n.writable).map(|n| n.log);
    let best = |it: &mut dyn Iterator<Item = &'a DataLog>| it.max_by_key(|l| l.len());
    best(&mut writable.clone()).or_else(|| best(&mut nodes.iter().map(|n| n.log)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncating_forgets_membership() {
        let mut l = DataLog::default();
        for op in [3, 70, 5] {
            l.push(op);
        }
        assert!(l.contains(70));
        l.truncate(1);
        assert!(l.contains(3) && !l.contains(70) && !l.contains(5));
        assert_eq!(l.len(), 1);
    }

    #[test]
    fn common_prefix_finds_the_divergence() {
        let (mut a, mut b) = (DataLog::default(), DataLog::default());
        for op in [1, 2, 3] {
            a.push(op);
        }
        for op in [1, 2, 9] {
            b.push(op);
        }
        assert_eq!(a.common_prefix(&b), 2);
    }
}
