//! Simulated time: integer nanoseconds, never floats, so that runs are exact
//! and reproducible on every machine.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant in simulated time, in nanoseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub u64);

impl Dur {
    pub const ZERO: Dur = Dur(0);
    pub const NS: u64 = 1;
    pub const US: u64 = 1_000;
    pub const MS: u64 = 1_000_000;
    pub const S: u64 = 1_000_000_000;

    pub const fn from_ms(ms: u64) -> Dur {
        Dur(ms * Self::MS)
    }
    pub const fn from_us(us: u64) -> Dur {
        Dur(us * Self::US)
    }
    pub const fn from_secs(s: u64) -> Dur {
        Dur(s * Self::S)
    }
    /// Rounds to the nearest nanosecond; negative or NaN input gives zero.
    pub fn from_secs_f64(s: f64) -> Dur {
        if s.is_finite() && s > 0.0 {
            Dur((s * 1e9).round() as u64)
        } else {
            Dur(0)
        }
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn as_ms_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
    pub fn saturating_sub(self, o: Dur) -> Dur {
        Dur(self.0.saturating_sub(o.0))
    }
    pub fn times(self, k: u64) -> Dur {
        Dur(self.0.saturating_mul(k))
    }
    pub fn min(self, o: Dur) -> Dur {
        Dur(self.0.min(o.0))
    }
    pub fn max(self, o: Dur) -> Dur {
        Dur(self.0.max(o.0))
    }
}

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const NEVER: SimTime = SimTime(u64::MAX);
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    /// Time elapsed since `earlier`; zero if `earlier` is later.
    pub fn since(self, earlier: SimTime) -> Dur {
        Dur(self.0.saturating_sub(earlier.0))
    }
    /// Seconds relative to `origin`, negative when before it.
    pub fn secs_from(self, origin: SimTime) -> f64 {
        (self.0 as i128 - origin.0 as i128) as f64 / 1e9
    }
}

impl Add<Dur> for SimTime {
    type Output = SimTime;
    fn add(self, d: Dur) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}
impl AddAssign<Dur> for SimTime {
    fn add_assign(&mut self, d: Dur) {
        self.0 = self.0.saturating_add(d.0);
    }
}
impl Sub<SimTime> for SimTime {
    type Output = Dur;
    fn sub(self, o: SimTime) -> Dur {
        self.since(o)
    }
}
impl Add for Dur {
    type Output = Dur;
    fn add(self, o: Dur) -> Dur {
        Dur(self.0.saturating_add(o.0))
    }
}

/// Parses `"500ms"`, `"2s"`, `"1.5s"`, `"5m"`, `"1h"`, `"100us"`, `"0"`.
/// A bare number is refused on purpose: a unit-less timeout is the most common
/// way to be off by a factor of 1000 (HAProxy reads `5000` as ms, nginx as s).
pub fn parse_duration(text: &str) -> Result<Dur, String> {
    let t = text.trim();
    if t == "0" {
        return Ok(Dur::ZERO);
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(|| format!("`{t}` has no unit (use ns, us, ms, s, m or h, e.g. \"500ms\")"))?;
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{t}` does not start with a number"))?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{t}` (use ns, us, ms, s, m or h)"
            ));
        }
    };
    Ok(Dur((value * scale).round() as u64))
}

impl fmt::Display for Dur {
    /// Shortest exact rendering: `2s`, `500ms`, `1.5s`, `100us`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        if n == 0 {
            write!(f, "0s")
        } else if n.is_multiple_of(Dur::S) {
            write!(f, "{}s", n / Dur::S)
        } else if n >= Dur::S {
            write!(f, "{:.3}s", n as f64 / 1e9)
        } else if n.is_multiple_of(Dur::MS) {
            write!(f, "{}ms", n / Dur::MS)
        } else if n >= Dur::MS {
            write!(f, "{:.3}ms", n as f64 / 1e6)
        } else if n.is_multiple_of(Dur::US) {
            write!(f, "{}us", n / Dur::US)
        } else {
            write!(f, "{n}ns")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units() {
        assert_eq!(parse_duration("500ms"), Ok(Dur::from_ms(500)));
        assert_eq!(parse_duration("2s"), Ok(Dur::from_secs(2)));
        assert_eq!(parse_duration("1.5s"), Ok(Dur::from_ms(1500)));
        assert_eq!(parse_duration("5m"), Ok(Dur::from_secs(300)));
        assert_eq!(parse_duration("100us"), Ok(Dur::from_us(100)));
        assert_eq!(parse_duration("0"), Ok(Dur::ZERO));
    }

    #[test]
    fn refuses_missing_or_bad_units() {
        assert!(parse_duration("5000").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("-1s").is_err());
    }

    #[test]
    fn displays_shortest_exact_form() {
        assert_eq!(Dur::from_secs(2).to_string(), "2s");
        assert_eq!(Dur::from_ms(500).to_string(), "500ms");
        assert_eq!(Dur::from_ms(1500).to_string(), "1.500s");
    }
}
