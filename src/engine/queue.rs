//! The event queue: a binary min-heap on (time, scheduling sequence number).
//!
//! The sequence number makes the order total: two events at the same instant
//! come out in the order they were scheduled, whatever the heap's internals.
//! Popping is about a third of a run's time (perf, bench-large); a 4-ary heap
//! and a radix heap were tried and measured slower than std's `BinaryHeap`
//! (whose pop sifts the hole to the bottom first), so it stays.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    /// Time in the high 64 bits, sequence number in the low 64: one compare.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, o: &Self) -> bool {
        self.key == o.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that `BinaryHeap` (a max-heap) pops the earliest key.
    fn cmp(&self, o: &Self) -> Ordering {
        o.key.cmp(&self.key)
    }
}

/// Pending events of one run.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now: SimTime,
    popped: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            next_seq: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// The instant of the event being handled (the last one popped).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `at`. An instant in the past is moved to now:
    /// nothing may happen before the event that caused it.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let at = at.max(self.now);
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        self.heap.push(Entry { key, event });
    }

    /// Moves the clock to `t`, with nothing due before it: a test acts at `t`.
    #[cfg(test)]
    pub(crate) fn advance_to(&mut self, t: SimTime) {
        assert!(t >= self.now && self.peek_time().is_none_or(|p| p >= t));
        self.now = t;
    }

    /// Removes the earliest event and advances the clock to its instant.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let e = self.heap.pop()?;
        self.now = SimTime((e.key >> 64) as u64);
        self.popped += 1;
        Some((self.now, e.event))
    }

    /// Instant of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| SimTime((e.key >> 64) as u64))
    }

    /// Events handled so far (for the events/s figure).
    pub fn popped(&self) -> u64 {
        self.popped
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_instant_events_pop_in_scheduling_order() {
        let mut q = EventQueue::new();
        for i in 0..100u32 {
            q.schedule(SimTime(5), i);
        }
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn earlier_instants_pop_first_and_clock_never_goes_back() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(30), 'c');
        q.schedule(SimTime(10), 'a');
        q.schedule(SimTime(20), 'b');
        let mut last = SimTime::ZERO;
        let mut seen = String::new();
        while let Some((t, e)) = q.pop() {
            assert!(t >= last);
            last = t;
            seen.push(e);
        }
        assert_eq!(seen, "abc");
    }

    #[test]
    fn random_schedules_pop_in_time_then_scheduling_order() {
        use rand::Rng;
        let mut rng = crate::engine::rng::stream(5, "queue");
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        for i in 0..5000u32 {
            let t = rng.random_range(0..500u64);
            q.schedule(SimTime(t), i);
            expected.push((t, i));
        }
        expected.sort();
        let got: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn an_event_scheduled_in_the_past_runs_now_not_before() {
        let mut q = EventQueue::new();
        q.schedule(SimTime(100), 1);
        q.pop();
        q.schedule(SimTime(50), 2);
        assert_eq!(q.pop(), Some((SimTime(100), 2)));
    }
}
