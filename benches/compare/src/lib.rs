//! What the three implementations share: the scenarios of
//! shared/bench/scenarios.md, the arrival stream, the health-check rule, the
//! latency histogram and the one-line summary. Only the simulation loop
//! differs between them, so the timing compares the frameworks, not this.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1};

pub const NS_PER_S: u64 = 1_000_000_000;
/// Every hop (client->LB, LB->server and back): a constant 0.1 ms.
pub const HOP_NS: u64 = 100_000;
/// Arrivals drawn per client wake-up, as hasim's open client does.
pub const BATCH: usize = 32;
pub const WORKERS: u32 = 8;
pub const INTER_NS: u64 = 2 * NS_PER_S;
pub const FALL: u32 = 3;
pub const RISE: u32 = 2;

/// One crash: server index (0-based; hasim's `s2` is 1), down at, back at.
#[derive(Clone, Copy, Debug)]
pub struct Crash {
    pub server: usize,
    pub at_ns: u64,
    pub back_ns: u64,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub rate_per_s: f64,
    pub servers: usize,
    pub service_mean_ns: f64,
    pub end_ns: u64,
    pub crashes: Vec<Crash>,
}

impl Scenario {
    pub fn by_name(name: &str) -> Option<Scenario> {
        let s = |at: u64, back: u64, server: usize| Crash {
            server: server - 1,
            at_ns: at * NS_PER_S,
            back_ns: back * NS_PER_S,
        };
        let b1 = Scenario {
            name: "b1",
            rate_per_s: 1000.0,
            servers: 3,
            service_mean_ns: 4e6,
            end_ns: 3600 * NS_PER_S,
            crashes: vec![],
        };
        match name {
            "b1" | "bench-steady" => Some(b1),
            "b2" | "bench-failover" => Some(Scenario {
                name: "b2",
                crashes: vec![s(1800, 2400, 2)],
                ..b1
            }),
            "b3" | "bench-large" => Some(Scenario {
                name: "b3",
                rate_per_s: 10_000.0,
                servers: 50,
                service_mean_ns: 30e6,
                crashes: vec![s(600, 900, 7), s(1200, 1500, 19), s(1800, 2100, 33)],
                ..b1
            }),
            _ => None,
        }
    }

    /// The first check of server `i`: HAProxy spreads the first checks of a
    /// backend evenly over one `inter`.
    pub fn first_check_ns(&self, i: usize) -> u64 {
        INTER_NS * i as u64 / self.servers as u64
    }
}

/// `<scenario> [seed]` from the command line.
pub fn args() -> (Scenario, u64) {
    let mut a = std::env::args().skip(1);
    let name = a.next().unwrap_or_else(|| "b1".into());
    let seed = a.next().map_or(1, |s| s.parse().expect("seed: an integer"));
    let sc = Scenario::by_name(&name).unwrap_or_else(|| {
        eprintln!("unknown scenario {name}: b1, b2 or b3");
        std::process::exit(2)
    });
    (sc, seed)
}

/// Independent random stream `stream` of run `seed` (0: the clients, 1 + i:
/// server i).
pub fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(stream);
    r
}

/// An exponential sample of mean `mean_ns` in whole nanoseconds, drawn as
/// hasim draws it (rand_distr's ziggurat, truncated).
#[inline]
pub fn exp_ns<R: rand::Rng>(rng: &mut R, mean_ns: f64) -> u64 {
    let x: f64 = Exp1.sample(rng);
    (x * mean_ns) as u64
}

/// The balancer's view of one server's health (HAProxy's rise/fall):
/// down after FALL consecutive failed probes, up after RISE good ones.
#[derive(Clone, Copy, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Health {
    pub down: bool,
    streak: u32,
}

impl Health {
    /// Records one probe; true when the server's state changed.
    pub fn record(&mut self, ok: bool) -> bool {
        if ok != self.down {
            self.streak = 0;
            return false;
        }
        self.streak += 1;
        let need = if self.down { RISE } else { FALL };
        if self.streak < need {
            return false;
        }
        self.down = !self.down;
        self.streak = 0;
        true
    }
}

/// Round robin over the servers the balancer believes up.
pub fn next_up(health: &[Health], cursor: &mut usize) -> Option<usize> {
    let n = health.len();
    for _ in 0..n {
        let i = *cursor;
        *cursor = if i + 1 == n { 0 } else { i + 1 };
        if !health[i].down {
            return Some(i);
        }
    }
    None
}

/// One server host: 8 workers and an unbounded FIFO. Holds the send time of
/// each request it has (the only state a request needs). `epoch` changes at
/// each crash, so a completion scheduled before it is recognised as stale.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct Server {
    pub alive: bool,
    pub epoch: u32,
    busy: u8,
    slots: [u64; WORKERS as usize],
    queue: std::collections::VecDeque<u64>,
}

impl Server {
    pub fn new() -> Self {
        Server {
            alive: true,
            ..Server::default()
        }
    }

    /// A request sent at `t0` arrives: the worker slot it starts on, or
    /// None when it waits in the queue.
    #[inline]
    pub fn arrive(&mut self, t0: u64) -> Option<u8> {
        if self.busy == u8::MAX {
            self.queue.push_back(t0);
            return None;
        }
        let slot = self.busy.trailing_ones() as u8;
        self.busy |= 1 << slot;
        self.slots[slot as usize] = t0;
        Some(slot)
    }

    /// Worker `slot` finished: the finished request's send time, and whether
    /// the slot took the next queued request (then schedule its completion).
    #[inline]
    pub fn done(&mut self, slot: u8) -> (u64, bool) {
        let t0 = self.slots[slot as usize];
        match self.queue.pop_front() {
            Some(next) => {
                self.slots[slot as usize] = next;
                (t0, true)
            }
            None => {
                self.busy &= !(1 << slot);
                (t0, false)
            }
        }
    }

    /// The process dies: every request it holds fails now (send times
    /// returned); completions already scheduled become stale.
    pub fn crash(&mut self) -> Vec<u64> {
        let mut lost: Vec<u64> = (0..WORKERS as usize)
            .filter(|&s| self.busy & (1 << s) != 0)
            .map(|s| self.slots[s])
            .collect();
        lost.extend(self.queue.drain(..));
        self.busy = 0;
        self.alive = false;
        self.epoch += 1;
        lost
    }

    pub fn recover(&mut self) {
        self.alive = true;
    }
}

/// Log-linear latency histogram: 512 sub-buckets per power of two (relative
/// error under 0.2 %), plus the exact sum for the mean.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    pub ok: u64,
    pub failed: u64,
    sum_ns: u128,
    buckets: Vec<u64>,
}

const SUB_BITS: u32 = 9;
const SUB: u64 = 1 << SUB_BITS;

impl Default for Stats {
    fn default() -> Self {
        Stats {
            ok: 0,
            failed: 0,
            sum_ns: 0,
            buckets: vec![0; (64 - SUB_BITS as usize + 1) * SUB as usize],
        }
    }
}

impl Stats {
    #[inline]
    pub fn ok(&mut self, latency_ns: u64) {
        self.ok += 1;
        self.sum_ns += latency_ns as u128;
        self.buckets[bucket(latency_ns)] += 1;
    }

    #[inline]
    pub fn failed(&mut self) {
        self.failed += 1;
    }

    /// The latency below which `q` of the good requests fall (bucket middle), ns.
    pub fn quantile_ns(&self, q: f64) -> f64 {
        let want = (q * self.ok as f64).ceil() as u64;
        let mut seen = 0;
        for (b, &c) in self.buckets.iter().enumerate() {
            seen += c;
            if c > 0 && seen >= want {
                let (lo, width) = bucket_bounds(b);
                return lo as f64 + width as f64 / 2.0;
            }
        }
        0.0
    }

    /// The one output line; `events` where the framework counts them.
    pub fn print(&self, sc: &Scenario, impl_name: &str, events: Option<u64>) {
        let mean_ms = if self.ok > 0 {
            self.sum_ns as f64 / self.ok as f64 / 1e6
        } else {
            0.0
        };
        let events = events.map_or("-".to_string(), |e| e.to_string());
        println!(
            "{impl_name} {} requests={} failed={} mean_ms={mean_ms:.2} p99_ms={:.2} events={events}",
            sc.name,
            self.ok + self.failed,
            self.failed,
            self.quantile_ns(0.99) / 1e6,
        );
    }
}

#[inline]
fn bucket(v: u64) -> usize {
    if v < SUB {
        return v as usize;
    }
    // v >> shift lies in [SUB, 2 SUB): SUB buckets per power of two.
    let shift = 63 - v.leading_zeros() - SUB_BITS;
    ((shift as u64 + 1) * SUB + (v >> shift) - SUB) as usize
}

fn bucket_bounds(b: usize) -> (u64, u64) {
    let b = b as u64;
    if b < SUB {
        return (b, 1);
    }
    let shift = b / SUB - 1;
    ((b % SUB + SUB) << shift, 1 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_hold_their_values() {
        for v in [
            0u64,
            1,
            127,
            128,
            129,
            255,
            256,
            1000,
            4_400_000,
            18_690_000,
            u64::MAX / 4,
        ] {
            let (lo, w) = bucket_bounds(bucket(v));
            assert!(lo <= v && v < lo + w, "{v}: [{lo}, {})", lo + w);
        }
        let mut last = 0;
        for v in 0..100_000u64 {
            let b = bucket(v);
            assert!(b >= last);
            last = b;
        }
    }

    #[test]
    fn health_follows_rise_and_fall() {
        let mut h = Health::default();
        assert!(!h.record(false) && !h.record(false) && h.record(false));
        assert!(h.down);
        assert!(!h.record(true) && h.record(true));
        assert!(!h.down);
    }
}
