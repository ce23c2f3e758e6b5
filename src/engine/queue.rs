//! The event queue: a binary min-heap on (time, scheduling sequence number),
//! beside a few FIFO lanes for events a constant delay after now.
//!
//! The sequence number makes the order total: two events at the same instant
//! come out in the order they were scheduled, whatever the heap's internals.
//! Popping was about a third of a run's time (perf, bench-large); a 4-ary heap
//! and a radix heap were tried and measured slower than std's `BinaryHeap`
//! (whose pop sifts the hole to the bottom first).
//!
//! Lanes: an event scheduled `d` after now, for a `d` declared with
//! [`EventQueue::add_lane`], goes to that delay's FIFO instead of the heap.
//! Now never goes back and sequence numbers only grow, so each lane is
//! created sorted by (time, sequence number); popping the smallest key among
//! the heap's top and the lanes' heads gives exactly the order of one heap.
//! A jitter-free network hop is such an event: in a balancer tier three of a
//! request's five events never touch the heap.
//!
//! The sorted lane: [`EventQueue::schedule_sorted`] appends an event to one
//! more FIFO when its key is above the FIFO's last (so the FIFO stays sorted
//! by construction), else puts it in the heap. Open-loop arrivals, issued in
//! batches in time order, go there: in bench-steady the heap then holds one
//! of a request's five events instead of two. Which of the two structures
//! holds an event never changes the order in which it pops.
//!
//! The FIFOs start empty and grow to the power of two their most events
//! need: a ring cycles through its whole buffer, and a 256-entry one (16 KB
//! of 64-byte entries) per lane swept L1 with a few events in it (cachegrind
//! on bench-large: most of the event loop's write misses).

use super::time::{Dur, SimTime};
use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

/// At most this many lanes: each one costs a compare on every pop.
const MAX_LANES: usize = 4;

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

/// The events scheduled `delay` after their scheduling instant, in key order.
struct Lane<E> {
    delay: u64,
    fifo: VecDeque<Entry<E>>,
}

/// Where the earliest pending event is.
#[derive(Clone, Copy)]
enum Head {
    Heap,
    Lane(usize),
    Sorted,
}

/// Pending events of one run.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    lanes: Vec<Lane<E>>,
    /// Events of [`EventQueue::schedule_sorted`] that kept it in key order.
    sorted: VecDeque<Entry<E>>,
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
            lanes: Vec::new(),
            sorted: VecDeque::new(),
            next_seq: 0,
            now: SimTime::ZERO,
            popped: 0,
        }
    }

    /// Gives events scheduled `d` after now a FIFO of their own (a constant
    /// network latency). A delay already declared, or one past
    /// [`MAX_LANES`], changes nothing: those events use the heap, in the
    /// same order.
    pub fn add_lane(&mut self, d: Dur) {
        if self.lanes.len() < MAX_LANES && !self.lanes.iter().any(|l| l.delay == d.0) {
            self.lanes.push(Lane {
                delay: d.0,
                fifo: VecDeque::new(),
            });
        }
    }

    /// The instant of the event being handled (the last one popped).
    #[inline]
    pub fn now(&self) -> SimTime {
        self.now
    }

    #[inline]
    fn next_key(&mut self, at: SimTime) -> u128 {
        let key = ((at.0 as u128) << 64) | self.next_seq as u128;
        self.next_seq += 1;
        key
    }

    /// Schedules `event` at `at`. An instant in the past is moved to now:
    /// nothing may happen before the event that caused it.
    #[inline]
    pub fn schedule(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at.max(self.now));
        self.heap.push(Entry { key, event });
    }

    /// [`EventQueue::schedule`], for a caller whose successive events are
    /// mostly in time order (a batch of arrivals): the sorted lane takes
    /// `event` when it is later than the lane's last, the heap otherwise.
    #[inline]
    pub fn schedule_sorted(&mut self, at: SimTime, event: E) {
        let key = self.next_key(at.max(self.now));
        if self.sorted.back().is_none_or(|b| b.key < key) {
            self.sorted.push_back(Entry { key, event });
        } else {
            self.heap.push(Entry { key, event });
        }
    }

    /// Schedules `event` at now + `d`: in `d`'s lane when it has one, else
    /// in the heap (the same order either way).
    #[inline]
    pub fn schedule_after(&mut self, d: Dur, event: E) {
        let key = self.next_key(self.now + d);
        match self.lanes.iter_mut().find(|l| l.delay == d.0) {
            Some(lane) => {
                debug_assert!(lane.fifo.back().is_none_or(|b| b.key < key));
                lane.fifo.push_back(Entry { key, event });
            }
            None => self.heap.push(Entry { key, event }),
        }
    }

    /// Moves the clock to `t`, with nothing due before it: a test acts at `t`.
    #[cfg(test)]
    pub(crate) fn advance_to(&mut self, t: SimTime) {
        assert!(t >= self.now && self.peek_time().is_none_or(|p| p >= t));
        self.now = t;
    }

    /// Where the earliest event is and its key, if any is pending.
    #[inline]
    fn head(&self) -> Option<(Head, u128)> {
        let mut best = self.heap.peek().map(|e| (Head::Heap, e.key));
        for (i, lane) in self.lanes.iter().enumerate() {
            if let Some(f) = lane.fifo.front()
                && best.is_none_or(|(_, k)| f.key < k)
            {
                best = Some((Head::Lane(i), f.key));
            }
        }
        if let Some(f) = self.sorted.front()
            && best.is_none_or(|(_, k)| f.key < k)
        {
            best = Some((Head::Sorted, f.key));
        }
        best
    }

    /// Removes the earliest event and advances the clock to its instant.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let (head, _) = self.head()?;
        Some(self.take(head))
    }

    /// [`EventQueue::pop`], if the earliest event is due at `until` or
    /// before: one look at the heads instead of a peek and a pop.
    #[inline]
    pub fn pop_until(&mut self, until: SimTime) -> Option<(SimTime, E)> {
        let (head, key) = self.head()?;
        if (key >> 64) as u64 > until.0 {
            return None;
        }
        Some(self.take(head))
    }

    #[inline]
    fn take(&mut self, head: Head) -> (SimTime, E) {
        let e = match head {
            Head::Heap => self.heap.pop(),
            Head::Lane(i) => self.lanes[i].fifo.pop_front(),
            Head::Sorted => self.sorted.pop_front(),
        }
        .expect("the head is pending");
        self.now = SimTime((e.key >> 64) as u64);
        self.popped += 1;
        (self.now, e.event)
    }

    /// Instant of the earliest pending event.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.head().map(|(_, k)| SimTime((k >> 64) as u64))
    }

    /// Events handled so far (for the events/s figure).
    pub fn popped(&self) -> u64 {
        self.popped
    }

    pub fn len(&self) -> usize {
        self.heap.len() + self.sorted.len() + self.lanes.iter().map(|l| l.fifo.len()).sum::<usize>()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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

    /// A queue with lanes for 100 and 250 ns.
    fn laned() -> EventQueue<u32> {
        let mut q = EventQueue::new();
        q.add_lane(Dur(100));
        q.add_lane(Dur(250));
        q
    }

    #[test]
    fn lane_and_heap_events_at_one_instant_pop_in_scheduling_order() {
        let mut q = laned();
        q.schedule(SimTime(100), 0);
        q.schedule_after(Dur(100), 1);
        q.schedule(SimTime(100), 2);
        q.schedule_after(Dur(100), 3);
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, [0, 1, 2, 3]);
    }

    #[test]
    fn lanes_interleave_with_the_heap_by_time_then_sequence() {
        let mut q = laned();
        q.schedule_after(Dur(250), 0); // 250
        q.schedule_after(Dur(100), 1); // 100
        q.schedule(SimTime(175), 2);
        q.schedule_after(Dur(7), 3); // no lane: heap, at 7
        q.schedule(SimTime(250), 4); // ties with 0, scheduled after it
        assert_eq!(q.len(), 5);
        assert_eq!(q.peek_time(), Some(SimTime(7)));
        let got: Vec<(u64, u32)> = std::iter::from_fn(|| q.pop().map(|(t, e)| (t.0, e))).collect();
        assert_eq!(got, [(7, 3), (100, 1), (175, 2), (250, 0), (250, 4)]);
        assert!(q.is_empty());
    }

    #[test]
    fn pop_until_leaves_later_events() {
        let mut q = laned();
        q.schedule_after(Dur(100), 1);
        q.schedule(SimTime(300), 2);
        assert_eq!(q.pop_until(SimTime(99)), None);
        assert_eq!(q.pop_until(SimTime(100)), Some((SimTime(100), 1)));
        assert_eq!(q.pop_until(SimTime(299)), None);
        assert_eq!(q.peek_time(), Some(SimTime(300)));
        assert_eq!(q.pop_until(SimTime(300)), Some((SimTime(300), 2)));
        assert_eq!(q.pop_until(SimTime(u64::MAX)), None);
    }

    #[test]
    fn declaring_a_lane_twice_or_past_the_limit_changes_nothing() {
        let mut q: EventQueue<u32> = EventQueue::new();
        for d in [5, 5, 6, 7, 8, 9, 10] {
            q.add_lane(Dur(d));
        }
        assert_eq!(q.lanes.len(), MAX_LANES);
        q.schedule_after(Dur(10), 1); // no lane left for 10: the heap
        q.schedule_after(Dur(5), 2);
        assert_eq!(q.heap.len(), 1);
        assert_eq!(q.pop(), Some((SimTime(5), 2)));
        assert_eq!(q.pop(), Some((SimTime(10), 1)));
    }

    /// A simulation's shape: each popped event schedules a few more, at
    /// random instants or a lane's delay after now, with many ties. The
    /// laned queue pops exactly what one heap pops.
    #[test]
    fn lanes_pop_exactly_what_one_heap_pops() {
        use rand::Rng;
        let mut rng = crate::engine::rng::stream(7, "lanes");
        let mut laned = laned();
        let mut plain: EventQueue<u32> = EventQueue::new();
        for i in 0..20u32 {
            laned.schedule(SimTime(i as u64 * 3), i);
            plain.schedule(SimTime(i as u64 * 3), i);
        }
        let mut next = 20u32;
        let mut sorted_at = 0u64;
        let mut most_sorted = 0;
        for _ in 0..50_000 {
            let a = laned.pop();
            assert_eq!(a, plain.pop());
            if a.is_none() {
                break;
            }
            // About 100 pending: enough for lanes and heap to interleave.
            let n = if laned.len() < 100 {
                2
            } else {
                rng.random_range(0..2)
            };
            for _ in 0..n {
                match rng.random_range(0..6) {
                    0 => {
                        let at = SimTime(laned.now().0 + rng.random_range(0..300));
                        laned.schedule(at, next);
                        plain.schedule(at, next);
                    }
                    // Mostly increasing instants, sometimes not: both the
                    // sorted lane and the heap take some.
                    4 | 5 => {
                        sorted_at = (sorted_at + rng.random_range(0..40)).max(laned.now().0);
                        let at = if rng.random_range(0..5) == 0 {
                            laned.now().0 + rng.random_range(0..300)
                        } else {
                            sorted_at
                        };
                        laned.schedule_sorted(SimTime(at), next);
                        plain.schedule(SimTime(at), next);
                    }
                    k => {
                        let d = Dur([0, 100, 250, 100][k]);
                        laned.schedule_after(d, next);
                        plain.schedule(plain.now() + d, next);
                    }
                }
                next += 1;
            }
            assert_eq!(laned.len(), plain.len());
            most_sorted = most_sorted.max(laned.sorted.len());
        }
        assert!(next > 40_000, "the schedule kept going: {next}");
        assert!(
            most_sorted > 10,
            "the sorted lane held events: {most_sorted}"
        );
    }
}
