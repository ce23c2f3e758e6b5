//! Deadline FIFOs: cheap timeouts for the hot path.
//!
//! A component arms one timeout per request (connect, server, client timeout).
//! All timeouts of one kind in one component have the same length, so their
//! deadlines arrive in the order they were armed: a FIFO holds them, and only its
//! head needs an event in the global queue. A request that completes is not
//! removed; its entry is skipped when it reaches the head (its generation no
//! longer matches). Cost per request: one push, one pop — no heap operation.

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

    /// Called by the wake-up event: hands every expired entry to `expired`
    /// (which decides, by generation, whether it still matters) and returns the
    /// instant of the next wake-up to schedule, if any.
    pub fn expire(&mut self, now: SimTime, mut expired: impl FnMut(Deadline)) -> Option<SimTime> {
        self.armed_for = None;
        while let Some(&d) = self.q.front() {
            if d.at > now {
                break;
            }
            self.q.pop_front();
            expired(d);
        }
        let next = self.q.front().map(|d| d.at)?;
        self.armed_for = Some(next);
        Some(next)
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

    #[test]
    fn expire_hands_out_due_entries_in_order_and_rearms() {
        let mut f = DeadlineFifo::default();
        for i in 0..3 {
            f.push(Deadline {
                at: SimTime(10 * (i + 1)),
                slot: i as u32,
                generation: 0,
            });
        }
        let mut got = vec![];
        let next = f.expire(SimTime(20), |d| got.push(d.slot));
        assert_eq!(got, vec![0, 1]);
        assert_eq!(next, Some(SimTime(30)));
        assert_eq!(f.expire(SimTime(30), |_| {}), None);
        assert_eq!(
            f.push(Deadline {
                at: SimTime(40),
                slot: 9,
                generation: 0
            }),
            Some(SimTime(40))
        );
    }
}
