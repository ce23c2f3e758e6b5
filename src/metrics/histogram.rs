//! A log-linear histogram of durations (HDR-like): values in microseconds,
//! `2^SUB` linear sub-buckets per power of two, so the relative error is below
//! 2^-SUB. Recording is a few integer instructions: no float, no allocation.

use crate::engine::Dur;

#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    sub_bits: u32,
    counts: Vec<u64>,
    total: u64,
    sum_us: u128,
    max_us: u64,
    min_us: u64,
}

/// A value in microseconds and its bucket (see [`Histogram::slot`]).
#[derive(Clone, Copy, Debug)]
pub struct Slot {
    us: u64,
    index: usize,
}

/// Values up to 2^40 us (about 12 days) are distinct; larger ones clamp.
const MAX_EXP: u32 = 40;

impl Histogram {
    /// `sub_bits` = 5 gives < 3.2% error (overall figures); 3 gives < 12.5%
    /// (per-bucket figures of the timeline, kept small on purpose).
    pub fn new(sub_bits: u32) -> Histogram {
        let buckets = ((MAX_EXP - sub_bits + 2) << sub_bits) as usize;
        Histogram {
            sub_bits,
            counts: vec![0; buckets],
            total: 0,
            sum_us: 0,
            max_us: 0,
            min_us: u64::MAX,
        }
    }

    #[inline]
    fn index(&self, v: u64) -> usize {
        let s = self.sub_bits;
        let v = v.min((1u64 << MAX_EXP) - 1);
        if v < (1 << s) {
            return v as usize;
        }
        let exp = 63 - v.leading_zeros(); // >= s
        let shift = exp - s;
        let mantissa = (v >> shift) as usize - (1usize << s);
        (((shift + 1) as usize) << s) + mantissa
    }

    /// Lowest value of bucket `i` (inverse of `index`).
    fn bucket_low(&self, i: usize) -> u64 {
        let s = self.sub_bits as usize;
        if i < (1 << s) {
            return i as u64;
        }
        let shift = (i >> s) - 1;
        let mantissa = (i & ((1 << s) - 1)) + (1 << s);
        (mantissa as u64) << shift
    }

    #[inline]
    pub fn record(&mut self, d: Dur) {
        self.record_slot(self.slot(d));
    }

    /// Where `d` goes in a histogram of these `sub_bits`: found once for a
    /// value recorded in two histograms alike (a finished request's latency).
    #[inline]
    pub fn slot(&self, d: Dur) -> Slot {
        let us = d.0 / 1_000;
        Slot {
            us,
            index: self.index(us),
        }
    }

    /// Records the value of `s`, a slot of a histogram with the same
    /// `sub_bits` as this one.
    #[inline]
    pub fn record_slot(&mut self, s: Slot) {
        debug_assert_eq!(s.index, self.index(s.us));
        self.counts[s.index] += 1;
        self.total += 1;
        self.sum_us += s.us as u128;
        self.max_us = self.max_us.max(s.us);
        self.min_us = self.min_us.min(s.us);
    }

    /// Adds `o`'s values: the histogram of both sets of values, exactly
    /// (counts add, extremes combine).
    pub fn merge(&mut self, o: &Histogram) {
        debug_assert_eq!(self.sub_bits, o.sub_bits);
        for (c, oc) in self.counts.iter_mut().zip(&o.counts) {
            *c += oc;
        }
        self.total += o.total;
        self.sum_us += o.sum_us;
        self.max_us = self.max_us.max(o.max_us);
        self.min_us = self.min_us.min(o.min_us);
    }

    /// Takes `o`'s values, a subset of these, out again: exactly what
    /// recording the rest alone would have given. Counts subtract; the
    /// extremes of the rest, which counts cannot tell, are `min` and `max`
    /// (tracked by the caller).
    pub fn remove(&mut self, o: &Histogram, min: Dur, max: Dur) {
        debug_assert_eq!(self.sub_bits, o.sub_bits);
        for (c, oc) in self.counts.iter_mut().zip(&o.counts) {
            *c -= oc;
        }
        self.total -= o.total;
        self.sum_us -= o.sum_us;
        let empty = Histogram::new(0);
        (self.min_us, self.max_us) = if self.total == 0 {
            (empty.min_us, empty.max_us)
        } else {
            (min.0 / 1_000, max.0 / 1_000)
        };
    }

    pub fn count(&self) -> u64 {
        self.total
    }
    /// Mean in milliseconds (0 when empty).
    pub fn mean_ms(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.sum_us as f64 / self.total as f64 / 1e3
        }
    }

    pub fn max_ms(&self) -> f64 {
        self.max_us as f64 / 1e3
    }

    pub fn min_ms(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.min_us as f64 / 1e3
        }
    }

    /// The value at quantile `q` in [0, 1], in milliseconds: the midpoint of
    /// the bucket holding the rank, clamped to the observed min and max.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let rank = ((q.clamp(0.0, 1.0) * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                let lo = self.bucket_low(i);
                let hi = self.bucket_low(i + 1);
                let mid = (lo + hi.saturating_sub(1)) as f64 / 2.0;
                let mid = mid.clamp(self.min_us as f64, self.max_us as f64);
                return mid / 1e3;
            }
        }
        self.max_ms()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_and_bucket_low_are_inverse_and_monotone() {
        let h = Histogram::new(5);
        let mut last = 0;
        for v in [0u64, 1, 31, 32, 33, 63, 64, 1000, 123_456, 1 << 39] {
            let i = h.index(v);
            assert!(i >= last);
            last = i;
            assert!(h.bucket_low(i) <= v && v < h.bucket_low(i + 1), "v={v}");
        }
    }

    #[test]
    fn quantiles_are_within_the_promised_error() {
        let mut h = Histogram::new(5);
        for ms in 1..=1000u64 {
            h.record(Dur::from_ms(ms));
        }
        for (q, want) in [(0.5, 500.0), (0.95, 950.0), (0.99, 990.0)] {
            let got = h.quantile_ms(q);
            assert!((got - want).abs() / want < 0.032, "q={q}: {got} vs {want}");
        }
        assert_eq!(h.max_ms(), 1000.0);
        assert!((h.mean_ms() - 500.5).abs() < 1e-9);
    }

    /// The recorder sums segments and takes the failed requests out again:
    /// both must give exactly what recording each set alone gives.
    #[test]
    fn merge_and_remove_give_exactly_the_histogram_of_the_set() {
        use rand::Rng;
        let mut rng = crate::engine::rng::stream(3, "histogram");
        let (mut all, mut failed, mut ok) =
            (Histogram::new(5), Histogram::new(5), Histogram::new(5));
        let (mut ok_min, mut ok_max) = (Dur(u64::MAX), Dur::ZERO);
        let mut halves = [Histogram::new(5), Histogram::new(5)];
        for i in 0..10_000 {
            let d = Dur(rng.random_range(0..5_000_000_000));
            halves[i % 2].record(d);
            if rng.random_range(0..10) == 0 {
                failed.record(d);
            } else {
                ok.record(d);
                (ok_min, ok_max) = (ok_min.min(d), ok_max.max(d));
            }
        }
        all.merge(&halves[0]);
        all.merge(&halves[1]);
        let mut rest = all.clone();
        rest.remove(&failed, ok_min, ok_max);
        assert_eq!(rest, ok);
        rest.remove(&ok, Dur(u64::MAX), Dur::ZERO);
        assert_eq!(rest, Histogram::new(5), "nothing left: an empty histogram");
    }
}
