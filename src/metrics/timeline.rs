//! Per-bucket counts and latencies (the timeline CSV and plot).
//!
//! A request counts (ok, failed by kind) in the bucket it was *issued* in,
//! like the summary's error windows: a request sent during an outage that
//! fails after the recovery shows in the outage. Its latency goes to the
//! bucket it *ended* in — what clients lived through at that moment, and
//! cheap: requests are recorded when they end, and a run's clock only moves
//! forward, so the bucket that receives latencies only moves forward too:
//! one working histogram (3 % error) serves the open bucket and is reduced to
//! a few figures when the bucket closes. Failures are rare, so their counts
//! by kind sit in a side table of the buckets that have any: a bucket then
//! costs 48 bytes, whatever happened in it (a day at 1 s buckets: 4 MB).

#[cfg(test)]
use super::Outcome;
use super::histogram::Slot;
use super::{Histogram, KIND_COUNT};
use crate::engine::{Dur, SimTime};
use std::collections::BTreeMap;

/// The latency figures kept for one bucket.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BucketLatency {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

#[derive(Clone, Debug)]
pub struct Bucket {
    /// Requests *issued* in this bucket that ended ok (the failed ones:
    /// [`Timeline::failed`]).
    pub ok: u64,
    /// Latency of requests that ended in this bucket.
    pub latency: BucketLatency,
    /// Requests issued in this bucket.
    pub started: u64,
}

// A bucket per simulated second for days: keep it small.
const _: () = assert!(std::mem::size_of::<Bucket>() == 48);

pub struct Timeline {
    pub width: Dur,
    pub buckets: Vec<Bucket>,
    /// Failed requests by kind, of the buckets with any, by bucket index.
    failures: BTreeMap<usize, [u64; KIND_COUNT]>,
    /// Latencies of the bucket still open, and its index.
    working: Histogram,
    open: usize,
    /// The open bucket's instants [lo, hi) in ns (the last bucket's `hi` is
    /// `u64::MAX`: it takes everything later): most requests start and end
    /// in it, found without the two 64-bit divisions of [`Timeline::index`].
    open_lo: u64,
    open_hi: u64,
}

impl Timeline {
    pub fn new(end: SimTime, width: Dur) -> Timeline {
        let n = end.0.div_ceil(width.0.max(1)).max(1) as usize;
        let empty = Bucket {
            ok: 0,
            latency: BucketLatency::default(),
            started: 0,
        };
        let mut t = Timeline {
            width,
            buckets: vec![empty; n],
            failures: BTreeMap::new(),
            working: Histogram::new(5),
            open: 0,
            open_lo: 0,
            open_hi: 0,
        };
        (t.open_lo, t.open_hi) = t.bounds(0);
        t
    }

    #[inline]
    fn index(&self, t: SimTime) -> usize {
        ((t.0 / self.width.0) as usize).min(self.buckets.len() - 1)
    }

    /// The instants [lo, hi) in ns that [`Timeline::index`] maps to `i`.
    fn bounds(&self, i: usize) -> (u64, u64) {
        let lo = i as u64 * self.width.0;
        if i + 1 >= self.buckets.len() {
            (lo, u64::MAX)
        } else {
            (lo, lo + self.width.0)
        }
    }

    /// Records a request that ended at `end` (never earlier than the last one).
    #[cfg(test)]
    pub fn record(&mut self, start: SimTime, end: SimTime, latency: Dur, outcome: Outcome) {
        let slot = self.working.slot(latency);
        self.record_slot(start, end, slot, outcome.failure_index());
    }

    /// [`Timeline::record`] with the latency's histogram slot and the
    /// outcome's failure kind, which the recorder has found already.
    #[inline]
    pub fn record_slot(
        &mut self,
        start: SimTime,
        end: SimTime,
        latency: Slot,
        kind: Option<usize>,
    ) {
        if !(self.open_lo..self.open_hi).contains(&end.0) {
            self.open_at(self.index(end));
        }
        let s = if (self.open_lo..self.open_hi).contains(&start.0) {
            self.open
        } else {
            self.index(start)
        };
        self.working.record_slot(latency);
        let b = &mut self.buckets[s];
        b.started += 1;
        match kind {
            None => b.ok += 1,
            Some(k) => self.failures.entry(s).or_insert([0; KIND_COUNT])[k] += 1,
        }
    }

    /// Closes the open bucket and opens bucket `e` (a request ended there).
    #[cold]
    #[inline(never)]
    fn open_at(&mut self, e: usize) {
        if e != self.open {
            self.close();
            self.open = e;
        }
        (self.open_lo, self.open_hi) = self.bounds(e);
    }

    /// Requests issued in bucket `i` that failed, by kind.
    pub fn failed(&self, i: usize) -> [u64; KIND_COUNT] {
        self.failures.get(&i).copied().unwrap_or([0; KIND_COUNT])
    }

    /// Reduces the open bucket's latencies to its figures (also at the end).
    pub fn close(&mut self) {
        let h = &self.working;
        if h.count() > 0 {
            self.buckets[self.open].latency = BucketLatency {
                count: h.count(),
                p50_ms: h.quantile_ms(0.5),
                p99_ms: h.quantile_ms(0.99),
                max_ms: h.max_ms(),
            };
            self.working = Histogram::new(5);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_keep_the_figures_of_their_own_requests() {
        let mut t = Timeline::new(SimTime(3_000_000_000), Dur::from_secs(1));
        for ms in 1..=100 {
            t.record(
                SimTime(0),
                SimTime(500_000_000),
                Dur::from_ms(ms),
                Outcome::Ok(200),
            );
        }
        t.record(
            SimTime(0),
            SimTime(2_500_000_000),
            Dur::from_ms(7),
            Outcome::Http(503),
        );
        t.close();
        let b = &t.buckets;
        assert_eq!(b[0].latency.count, 100);
        assert!((b[0].latency.p50_ms - 50.0).abs() < 2.0 && b[0].latency.max_ms == 100.0);
        assert_eq!(b[1].latency.count, 0);
        // The 503 issued at 0 s counts at 0 s; its latency ended at 2.5 s.
        assert_eq!((b[2].latency.count, b[2].latency.max_ms), (1, 7.0));
        assert_eq!((t.failed(0)[2], t.failed(2)[2]), (1, 0));
        assert_eq!((b[0].started, b[0].ok), (101, 100));
    }

    #[test]
    fn the_open_buckets_bounds_find_the_buckets_divisions_find() {
        // 2.5 buckets of 1 s: the last one (from 2 s) takes everything later.
        let mut t = Timeline::new(SimTime(2_500_000_000), Dur::from_secs(1));
        let ends = [
            0,
            999_999_999,
            1_000_000_000,
            1_500_000_000,
            2_000_000_000,
            9_000_000_000,
        ];
        for (k, &end) in ends.iter().enumerate() {
            for start in [
                0,
                999_999_999,
                1_000_000_000,
                1_999_999_999,
                2_000_000_000,
                5_000_000_000,
            ] {
                if start > end {
                    continue;
                }
                let (s, e) = (t.index(SimTime(start)), t.index(SimTime(end)));
                let before = t.buckets[s].started;
                t.record(
                    SimTime(start),
                    SimTime(end),
                    Dur(end - start),
                    Outcome::Ok(200),
                );
                assert_eq!(t.buckets[s].started, before + 1, "start {start} end {end}");
                assert_eq!(t.open, e, "end {end} ({k})");
                assert_eq!((t.open_lo, t.open_hi), t.bounds(e));
            }
        }
        assert_eq!(t.bounds(2), (2_000_000_000, u64::MAX));
        assert_eq!(t.buckets.iter().map(|b| b.started).sum::<u64>(), 20);
    }
}
