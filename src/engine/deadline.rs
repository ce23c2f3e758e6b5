//! Deadline FIFOs: cheap timeouts for the hot path.
//!
//! A component arms one timeout per request (connect, server, client timeout).
//! All timeouts of one kind in one component have the same length, so their
//! deadlines arrive in the order they were armed: a FIFO holds them, and only
//! one of them needs an event in the global queue. A request that completes
//! is not removed: nearly every request completes long before its timeout,
//! so a removal per request would cost more than a look at each entry once.
//!
//! The pending wake-up is for the first entry that was still live when the
//! FIFO was last looked at: a wake-up hands out what is due, drops the
//! finished entries behind it (the owner's liveness check says which) and
//! re-arms at the first live one. A FIFO thus wakes about once per timeout
//! that could still expire, not once per request (field report 2's sweep
//! woke for nothing on 17 % of its events). A liveness check must be
//! monotone: an entry it calls finished may never become due again.
//!
//! A wake-up skipped this way did nothing but re-arm, so outputs stay the
//! same; two things could still tell: an event at the very instant of a live
//! deadline, scheduled between the old and the new re-arm, now comes after
//! the wake-up rather than before; and a stopped (SIGSTOP) process's frozen
//! wake-up is the first live deadline's, so on SIGCONT it runs after what
//! arrived before that deadline, no longer at the first finished one's
//! place. Neither moves a byte of the experiments and validation cases.

use super::time::SimTime;
use std::collections::VecDeque;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    pub at: SimTime,
    pub slot: u32,
    pub generation: u32,
}

#[derive(Default, Debug, Clone)]
pub struct DeadlineFifo {
    q: VecDeque<Deadline>,
    /// What the last wake-up found due, for its owner to take one at a time
    /// ([`DeadlineFifo::next_due`]) while it pushes and trims: a buffer
    /// reused from one wake-up to the next, not a new one each time.
    due: Vec<Deadline>,
    taken: usize,
    /// Instant for which a wake-up event is pending in the global queue, if any.
    armed_for: Option<SimTime>,
}

impl DeadlineFifo {
    /// Adds a deadline; returns `Some(at)` when the caller must schedule a
    /// wake-up at `at` (the FIFO had no pending wake-up).
    #[inline]
    pub fn push(&mut self, d: Deadline) -> Option<SimTime> {
        self.q.push_back(d);
        if self.armed_for.is_none() {
            self.armed_for = Some(d.at);
            Some(d.at)
        } else {
            None
        }
    }

    /// Called by the wake-up event: sets aside every entry due at `now` for
    /// [`DeadlineFifo::next_due`] (the owner decides, by generation, whether
    /// it still matters), drops the entries after them that `live` calls
    /// finished, and returns the instant of the next wake-up to schedule: the
    /// first live entry's, if any.
    pub fn expire(
        &mut self,
        now: SimTime,
        mut live: impl FnMut(&Deadline) -> bool,
    ) -> Option<SimTime> {
        self.armed_for = None;
        self.due.clear();
        self.taken = 0;
        while let Some(&d) = self.q.front() {
            if d.at > now {
                break;
            }
            self.q.pop_front();
            self.due.push(d);
        }
        self.trim(&mut live);
        let next = self.q.front().map(|d| d.at)?;
        self.armed_for = Some(next);
        Some(next)
    }

    /// The next entry the last wake-up found due, in deadline order.
    #[inline]
    pub fn next_due(&mut self) -> Option<Deadline> {
        let d = self.due.get(self.taken).copied()?;
        self.taken += 1;
        Some(d)
    }

    /// Drops entries whose request is gone from the front, so that memory stays
    /// bounded by what is in flight (called opportunistically).
    pub fn trim(&mut self, mut live: impl FnMut(&Deadline) -> bool) {
        while let Some(d) = self.q.front() {
            if live(d) {
                break;
            }
            self.q.pop_front();
        }
    }

    pub fn len(&self) -> usize {
        self.q.len()
    }

    pub fn is_empty(&self) -> bool {
        self.q.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_push_asks_for_a_wakeup() {
        let mut f = DeadlineFifo::default();
        assert_eq!(
            f.push(Deadline {
                at: SimTime(10),
                slot: 0,
                generation: 0
            }),
            Some(SimTime(10))
        );
        assert_eq!(
            f.push(Deadline {
                at: SimTime(20),
                slot: 1,
                generation: 0
            }),
            None
        );
    }

    fn at(t: u64, slot: u32) -> Deadline {
        Deadline {
            at: SimTime(t),
            slot,
            generation: 0,
        }
    }

    fn due(f: &mut DeadlineFifo) -> Vec<u32> {
        std::iter::from_fn(|| f.next_due())
            .map(|d| d.slot)
            .collect()
    }

    #[test]
    fn expire_hands_out_due_entries_in_order_and_rearms() {
        let mut f = DeadlineFifo::default();
        for i in 0..3 {
            f.push(at(10 * (i + 1), i as u32));
        }
        let next = f.expire(SimTime(20), |_| true);
        assert_eq!(due(&mut f), vec![0, 1]);
        assert_eq!(next, Some(SimTime(30)));
        assert_eq!(f.expire(SimTime(30), |_| true), None);
        assert_eq!(due(&mut f), vec![2]);
        assert_eq!(f.push(at(40, 9)), Some(SimTime(40)));
    }

    #[test]
    fn a_wakeup_skips_finished_entries_and_rearms_at_the_first_live_one() {
        let mut f = DeadlineFifo::default();
        for i in 0..6 {
            f.push(at(10 * (i + 1), i as u32));
        }
        // Slots 1, 2 and 4 finished: the wake-up at 10 re-arms at 40, not 20.
        let finished = [1, 2, 4];
        let next = f.expire(SimTime(10), |d| !finished.contains(&d.slot));
        assert_eq!(next, Some(SimTime(40)));
        assert_eq!(due(&mut f), vec![0]);
        assert_eq!(
            f.len(),
            3,
            "the finished entries before the live one are gone"
        );
        // A push while a wake-up is pending asks for none.
        assert_eq!(f.push(at(70, 6)), None);
        // Slot 3 finished since: the wake-up at 40 hands it out all the same
        // (it was due), skips slot 4 and re-arms at slot 5's deadline.
        let next = f.expire(SimTime(40), |d| !finished.contains(&d.slot));
        assert_eq!(due(&mut f), vec![3]);
        assert_eq!(next, Some(SimTime(60)));
    }

    #[test]
    fn a_wakeup_with_only_finished_entries_left_disarms() {
        let mut f = DeadlineFifo::default();
        f.push(at(10, 0));
        f.push(at(20, 1));
        assert_eq!(f.expire(SimTime(10), |_| false), None);
        assert_eq!(due(&mut f), vec![0]);
        assert!(f.is_empty());
        // Nothing pending: the next push asks for a wake-up.
        assert_eq!(f.push(at(30, 2)), Some(SimTime(30)));
    }

    #[test]
    fn entries_pushed_while_the_due_ones_are_taken_wait_for_the_next_wakeup() {
        let mut f = DeadlineFifo::default();
        f.push(at(10, 0));
        assert_eq!(f.expire(SimTime(10), |_| true), None);
        assert_eq!(f.next_due().map(|d| d.slot), Some(0));
        // The owner re-arms a timeout while handling the expired one.
        assert_eq!(f.push(at(20, 1)), Some(SimTime(20)));
        assert_eq!(f.next_due(), None);
        assert_eq!(f.expire(SimTime(20), |_| true), None);
        assert_eq!(due(&mut f), vec![1]);
    }
}
