//! Sampling service and think times.

use crate::config::spec::{DistSpec, Quantiles};
use crate::engine::{Dur, Rng};
use rand::Rng as _;
use rand_distr::{Distribution, Exp, LogNormal};

/// z of the 99th percentile of the standard normal.
const Z99: f64 = 2.326_347_874;

#[derive(Clone, Debug)]
pub enum Sampler {
    Constant(Dur),
    Exponential(Exp<f64>),
    LogNormal(LogNormal<f64>),
    Uniform(Dur, Dur),
    /// Boxed: the table is 13 quantiles, the other kinds a word or two.
    Empirical(Box<Quantiles>),
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
            DistSpec::Empirical(ref q) => Sampler::Empirical(q.clone()),
        }
    }

    #[inline]
    pub fn sample(&self, rng: &mut Rng) -> Dur {
        match self {
            Sampler::Constant(d) => *d,
            Sampler::Exponential(e) => Dur(e.sample(rng) as u64),
            Sampler::LogNormal(l) => Dur(l.sample(rng) as u64),
            Sampler::Uniform(a, b) => Dur(rng.random_range(a.0..=b.0.max(a.0))),
            Sampler::Empirical(q) => q.at(rng.random::<f64>()),
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
        DistSpec::Empirical(q) => {
            let names = Quantiles::KEYS
                .iter()
                .filter(|(_, p)| q.points().iter().any(|(x, _)| x == p));
            let parts: Vec<String> = names
                .zip(q.points())
                .map(|((k, _), (_, v))| format!("{k} {v}"))
                .collect();
            format!("empirical({})", parts.join(", "))
        }
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
    fn an_empirical_distribution_hits_its_quantiles_and_stays_within_min_and_max() {
        let q = Quantiles::new(&[
            (0.0, Dur::from_ms(1)),
            (0.5, Dur::from_ms(3)),
            (0.9, Dur::from_ms(8)),
            (0.99, Dur::from_ms(60)),
            (1.0, Dur::from_ms(200)),
        ]);
        let s = Sampler::new(&DistSpec::Empirical(Box::new(q)));
        let mut rng = crate::engine::rng::stream(3, "t");
        let mut v: Vec<u64> = (0..200_000).map(|_| s.sample(&mut rng).0).collect();
        v.sort_unstable();
        let at = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)] as f64 / 1e6;
        assert!((at(0.5) - 3.0).abs() < 0.05, "p50 {}", at(0.5));
        assert!((at(0.9) - 8.0).abs() < 0.2, "p90 {}", at(0.9));
        assert!((at(0.99) - 60.0).abs() < 3.0, "p99 {}", at(0.99));
        assert!(v[0] >= Dur::from_ms(1).0 && *v.last().unwrap() <= Dur::from_ms(200).0);
        // Linear between quantiles: the middle of p50..p90 is at p70.
        assert_eq!(q.at(0.7), Dur::from_ms(5) + Dur(500_000));
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
