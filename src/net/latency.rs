//! One-way latency of a link: a base plus optional jitter.

use crate::config::spec::{Jitter, LatencySpec};
use crate::engine::{Dur, Rng};
use rand::Rng as _;
use rand_distr::{Distribution, Exp};

#[derive(Clone, Copy, Debug)]
pub enum Latency {
    Constant(Dur),
    Uniform { base: Dur, max_extra: Dur },
    Exponential { base: Dur, mean_extra: f64 },
}

impl Latency {
    pub fn from_spec(s: &LatencySpec) -> Latency {
        match s.jitter {
            Jitter::None => Latency::Constant(s.base),
            Jitter::Uniform(max) => Latency::Uniform {
                base: s.base,
                max_extra: max,
            },
            Jitter::Exponential(mean) => Latency::Exponential {
                base: s.base,
                mean_extra: mean.0 as f64,
            },
        }
    }

    /// The latency, when it has no jitter.
    pub fn constant(&self) -> Option<Dur> {
        match *self {
            Latency::Constant(d) => Some(d),
            _ => None,
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> Dur {
        match *self {
            Latency::Constant(d) => d,
            Latency::Uniform { base, max_extra } => Dur(base.0 + rng.random_range(0..=max_extra.0)),
            Latency::Exponential { base, mean_extra } => {
                let x: f64 = Exp::new(1.0).expect("rate 1 is valid").sample(rng);
                Dur(base.0 + (x * mean_extra) as u64)
            }
        }
    }
}
