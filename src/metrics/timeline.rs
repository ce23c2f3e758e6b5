//! Per-bucket counts and latencies (the timeline CSV and plot).

use super::{Histogram, KIND_COUNT, Outcome};
use crate::engine::{Dur, SimTime};

#[derive(Clone, Debug)]
pub struct Bucket {
    /// Requests that *ended* in this bucket, by outcome.
    pub ok: u64,
    pub failed: [u64; KIND_COUNT],
    /// Latency of requests that ended in this bucket (coarse: 12.5% error).
    pub latency: Histogram,
    /// Requests issued in this bucket.
    pub started: u64,
}

pub struct Timeline {
    pub width: Dur,
    pub buckets: Vec<Bucket>,
}

impl Timeline {
    pub fn new(end: SimTime, width: Dur) -> Timeline {
        let n = end.0.div_ceil(width.0.max(1)).max(1) as usize;
        let empty = Bucket {
            ok: 0,
            failed: [0; KIND_COUNT],
            latency: Histogram::new(3),
            started: 0,
        };
        Timeline {
            width,
            buckets: vec![empty; n],
        }
    }

    #[inline]
    fn index(&self, t: SimTime) -> usize {
        ((t.0 / self.width.0) as usize).min(self.buckets.len() - 1)
    }

    #[inline]
    pub fn record(&mut self, start: SimTime, end: SimTime, latency: Dur, outcome: Outcome) {
        let s = self.index(start);
        self.buckets[s].started += 1;
        let e = self.index(end);
        let b = &mut self.buckets[e];
        b.latency.record(latency);
        match outcome.failure_index() {
            None => b.ok += 1,
            Some(k) => b.failed[k] += 1,
        }
    }
}
