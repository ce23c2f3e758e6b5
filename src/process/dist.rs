//! Sampling service and think times.

use crate::config::spec::DistSpec;
use crate::engine::{Dur, Rng};
use rand::Rng as _;
use rand_distr::{Distribution, Exp, LogNormal};

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874;

#[derive(Clone, Copy, Debug)]
pub enum Sampler {
    Constant(Dur),
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
    Uniform(Dur, Dur),
}

impl Sampler {
    pub fn new(spec: &DistSpec) -> Sampler {
        match *spec {
            DistSpec::Constant(d) => Sampler::Constant(d),
            DistSpec::Exponential { mean } => Sampler::Exponential(
                Exp::new(1.0 / mean.0.max(1) as f64).expect("mean > 0 validated"),
            ),
            DistSpec::LogNormal { median, p99 } => {
                let mu = (median.0.max(1) as f64).ln();
                let sigma = ((p99.0.max(1) as f64).ln() - mu).max(0.0) / Z99;
                Sampler::LogNormal(LogNormal::new(mu, sigma).expect("sigma >= 0 validated"))
            }
            DistSpec::Uniform { min, max } => Sampler::Uniform(min, max),
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> Dur {
        match self {
            Sampler::Constant(d) => *d,
            Sampler::Exponential(e) => Dur(e.sample(rng) as u64),
            Sampler::LogNormal(l) => Dur(l.sample(rng) as u64),
            Sampler::Uniform(a, b) => Dur(rng.random_range(a.0..=b.0.max(a.0))),
        }
    }
}

/// A distribution in words, for `--dry-run`.
pub fn describe(d: &DistSpec) -> String {
    match d {
        DistSpec::Constant(v) => v.to_string(),
        DistSpec::Exponential { mean } => format!("exponential(mean {mean})"),
        DistSpec::LogNormal { median, p99 } => format!("lognormal(median {median}, p99 {p99})"),
        DistSpec::Uniform { min, max } => format!("uniform({min}..{max})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_hits_its_median_and_p99() {
        let spec = DistSpec::LogNormal {
            median: Dur::from_ms(5),
            p99: Dur::from_ms(50),
        };
        let s = Sampler::new(&spec);
        let mut rng = crate::engine::rng::stream(3, "t");
        let mut v: Vec<u64> = (0..200_000).map(|_| s.sample(&mut rng).0).collect();
        v.sort_unstable();
        let med = v[v.len() / 2] as f64 / 1e6;
        let p99 = v[v.len() * 99 / 100] as f64 / 1e6;
        assert!((med - 5.0).abs() < 0.1, "median {med}");
        assert!((p99 - 50.0).abs() < 2.5, "p99 {p99}");
    }

    #[test]
    fn exponential_has_its_mean() {
        let s = Sampler::new(&DistSpec::Exponential {
            mean: Dur::from_ms(4),
        });
        let mut rng = crate::engine::rng::stream(3, "t");
        let n = 200_000;
        let mean = (0..n).map(|_| s.sample(&mut rng).0 as f64).sum::<f64>() / n as f64 / 1e6;
        assert!((mean - 4.0).abs() < 0.05, "mean {mean}");
    }
}
