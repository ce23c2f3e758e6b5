//! Property tests: random fault schedules over Redis Sentinel (3 redis
//! nodes, 3 sentinels each on a redis node's host, quorum 2, a
//! Sentinel-aware client writing). Replication is asynchronous: Sentinel
//! bounds loss, it does not prevent it. What must hold with
//! `min-replicas-to-write 1` / `min-replicas-max-lag 10` and persistence:
//! every acknowledged write that is lost was acknowledged in the second
//! before a fault began or ended, or within max-lag + 5 s after (the 5 s for
//! a failover to finish), and once the faults are over the group converges
//! to one master (no split-brain left at the end).
//!
//! The search found the end of a fault to matter as much as its start: a
//! sentinel that was cut off still holds the master SDOWN when the network
//! heals, and another that has not yet had a PING answered agrees for up
//! to a second: the two reach ODOWN and fail over a master that is
//! reachable again, whose clients go on writing to it until it refuses
//! (-NOREPLICAS, max-lag after its replicas moved) or is converted
//! (the schedule in `proptest-regressions/split_brain_sentinel.txt`).
//!
//! Not in the safe schedules: overlapping faults. The search found (with
//! `PROPTEST_RNG_SEED=7`) a leader sentinel cut off together with the
//! replica it had just promoted: the other sentinels never hear of the
//! promotion, the old master keeps a good replica and its clients, and at
//! the heal the leader's higher config epoch wins: the old master is
//! converted and ~27 s of writes are lost, min-replicas or not. That is
//! Sentinel's own hazard, kept as a test below
//! (`a_leader_cut_off_with_the_replica_it_promoted_wins_at_the_heal`); the
//! safe schedules run their faults one after the other, 30 s apart.
//! Without min-replicas and persistence the search must find a loss beyond
//! that bound (an isolated master writing for the whole partition, or a
//! master restarted empty before a failover wiping its replicas) and shrink
//! it. PROPTEST_CASES scales the number of cases (default 100); the RNG seed
//! is fixed unless `HASIM_PROPTEST_FRESH=1` or `PROPTEST_RNG_SEED=N`.

use crate::proptest_seed;

use hasim::report::RunResult;
use hasim::sim::Sim;
use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};

const HOSTS: [&str; 3] = ["r1", "r2", "r3"];
/// `min-replicas-max-lag` of the safe setting, in seconds.
const MAX_LAG: u32 = 10;
/// The last fault ends before this; the run goes on to `END` (convergence:
/// down-after, election, +convert-to-slave 8-11 s after reachable).
const LAST: u32 = 130;
const END: u32 = 190;

#[derive(Clone, Debug)]
enum F {
    /// SIGKILL of redis node i (its sentinel keeps running).
    Kill(usize),
    /// SIGKILL of sentinel i.
    KillSentinel(usize),
    /// SIGSTOP of redis node i.
    Stop(usize),
    /// Host i (redis node and sentinel) black-holed.
    Blackhole(usize),
    /// Hosts with bit i set are cut off from the others; the client is on
    /// the side of r1.
    Partition(u8),
}

#[derive(Clone, Debug)]
struct Fault {
    f: F,
    at: u32,
    dur: u32,
}

fn sides(mask: u8) -> (Vec<String>, Vec<String>) {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (i, h) in HOSTS.iter().enumerate() {
        let side = if (mask >> i & 1 == 1) == (mask & 1 == 1) {
            &mut a
        } else {
            &mut b
        };
        side.push(h.to_string());
    }
    a.push("app".to_string());
    (a, b)
}

fn readable(s: &[Fault]) -> String {
    let mut out = String::new();
    for x in s {
        let what = match &x.f {
            F::Kill(i) => format!("kill {}", HOSTS[*i]),
            F::KillSentinel(i) => format!("kill sentinel{}", i + 1),
            F::Stop(i) => format!("SIGSTOP {}", HOSTS[*i]),
            F::Blackhole(i) => format!("blackhole host {}", HOSTS[*i]),
            F::Partition(m) => {
                let (a, b) = sides(*m);
                format!("partition [{}] | [{}]", a.join(" "), b.join(" "))
            }
        };
        out += &format!("  at {:>3}s for {:>2}s: {what}\n", x.at, x.dur);
    }
    out
}

fn toml(s: &[Fault], safe: bool) -> String {
    let redis = if safe {
        format!(
            "min_replicas_to_write = 1\nmin_replicas_max_lag = \"{MAX_LAG}s\"\npersistence = \"aof\"\n"
        )
    } else {
        "persistence = \"none\"\n".to_string()
    };
    let mut t = format!(
        r#"
[experiment]
duration = "{END}s"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
target = "sentinel"
library = "redis-sentinel"
rate = 20
arrivals = "constant"
method = "POST"
timeout = "1s"
start = "10s"
[databases.r]
type = "redis"
count = 3
{redis}
[databases.sentinel]
type = "sentinel"
count = 3
hosts = ["r1", "r2", "r3"]
monitor = "r"
quorum = 2
down_after_milliseconds = "5s"
failover_timeout = "30s"
"#
    );
    for x in s {
        let (at, rec) = (x.at, x.at + x.dur);
        let (kind, target) = match &x.f {
            F::Kill(i) => ("kill", HOSTS[*i].to_string()),
            F::KillSentinel(i) => ("kill", format!("sentinel{}", i + 1)),
            F::Stop(i) => ("stop", HOSTS[*i].to_string()),
            F::Blackhole(i) => ("blackhole", HOSTS[*i].to_string()),
            F::Partition(m) => {
                let (a, b) = sides(*m);
                if b.is_empty() {
                    continue;
                }
                let q = |v: &[String]| {
                    v.iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                t += &format!(
                    "[[faults]]\nkind = \"partition\"\ngroups = [[{}], [{}]]\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n",
                    q(&a),
                    q(&b)
                );
                continue;
            }
        };
        t += &format!(
            "[[faults]]\nkind = \"{kind}\"\ntarget = \"{target}\"\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n"
        );
    }
    t
}

fn run(s: &[Fault], safe: bool, seed: u64) -> RunResult {
    let text = toml(s, safe);
    let spec = hasim::config::parse(&text, "prop.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    sim.finish()
}

fn fault() -> impl Strategy<Value = Fault> {
    let f = prop_oneof![
        (0..3usize).prop_map(F::Kill),
        (0..3usize).prop_map(F::KillSentinel),
        (0..3usize).prop_map(F::Stop),
        (0..3usize).prop_map(F::Blackhole),
        (1u8..7).prop_map(F::Partition),
    ];
    (f, 15u32..50, 1u32..20).prop_map(|(f, at, dur)| Fault { f, at, dur })
}

/// What must hold, or what went wrong.
fn violation(s: &[Fault], r: &RunResult) -> Option<String> {
    let h = r.history.as_ref().expect("databases");
    let bounded = |t: f64| {
        s.iter().any(|x| {
            [x.at, x.at + x.dur]
                .iter()
                .any(|&e| t >= e as f64 - 1.0 && t <= (e + MAX_LAG + 5) as f64)
        })
    };
    let unbounded: Vec<_> = h
        .lost
        .iter()
        .filter(|&&(_, t)| !bounded(t.as_secs_f64()))
        .collect();
    if let Some(&&(op, t)) = unbounded.first() {
        return Some(format!(
            "{} acknowledged writes lost, {} beyond max-lag + 5 s of a fault's start or end (first: op {op} acknowledged at {:.3}s)",
            h.lost.len(),
            unbounded.len(),
            t.as_secs_f64()
        ));
    }
    let end = END as f64;
    for c in &h.clusters {
        if let Some(i) = c
            .split_brain
            .iter()
            .find(|i| i.to.as_secs_f64() >= end - 1.0)
        {
            return Some(format!(
                "two masters still accept writes at the end: {:.3}s.. ({:?})",
                i.from.as_secs_f64(),
                i.nodes
            ));
        }
    }
    None
}

/// One or two faults, the second 30-39 s after the first ends.
fn sequential() -> impl Strategy<Value = Vec<Fault>> {
    (fault(), proptest::option::of(fault())).prop_map(|(a, b)| {
        let mut v = vec![a];
        if let Some(mut b) = b {
            b.at = v[0].at + v[0].dur + 30 + b.at % 10;
            v.push(b);
        }
        v
    })
}

#[test]
fn min_replicas_bounds_loss_and_sentinel_converges_to_one_master() {
    const TEST: &str = "split_brain_sentinel";
    let (config, rng_seed) = proptest_seed::config(TEST, 100);
    let mut runner = TestRunner::new(config);
    let strategy = (sequential(), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        assert!(s.iter().all(|x| x.at + x.dur <= LAST));
        let r = run(&s, true, seed);
        let v = violation(&s, &r);
        prop_assert!(v.is_none(), "seed {seed}\n{}{}", readable(&s), v.unwrap());
        Ok(())
    });
    if let Err(TestError::Fail(why, (s, seed))) = r {
        panic!(
            "violation with simulation seed {seed}:\n{}{why}\n{}",
            readable(&s),
            proptest_seed::rerun(TEST, rng_seed)
        );
    }
    r.unwrap();
}

#[test]
fn without_min_replicas_an_isolated_master_loses_more_and_the_search_finds_it() {
    let (config, rng_seed) = proptest_seed::config_expecting_failure("split_brain_sentinel", 100);
    let mut runner = TestRunner::new(config);
    let strategy = (proptest::collection::vec(fault(), 1..3), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        let r = run(&s, false, seed);
        let v = violation(&s, &r);
        prop_assert!(v.is_none(), "{}", v.unwrap());
        Ok(())
    });
    match r {
        Err(TestError::Fail(why, (s, seed))) => {
            println!("found and shrunk (seed {seed}):\n{}{why}", readable(&s));
            assert!(s.len() <= 2, "shrunk to a short schedule");
        }
        other => panic!(
            "the unsafe setting should lose writes: {other:?}\n{}",
            proptest_seed::rerun("split_brain_sentinel", rng_seed)
        ),
    }
}

#[test]
fn a_leader_cut_off_with_the_replica_it_promoted_wins_at_the_heal() {
    // Host r1 black-holed 22-28 s: sentinel2 is elected as r1 comes back,
    // and the partition at 28 s cuts it off with r2, which it promotes.
    let s = [
        Fault {
            f: F::Blackhole(0),
            at: 22,
            dur: 6,
        },
        Fault {
            f: F::Partition(2),
            at: 28,
            dur: 17,
        },
    ];
    // Whether sentinel2 wins the vote as r1 returns depends on where the
    // sentinels' timers stand (their phase is drawn per seed): the first
    // seed where it does must show the loss.
    let found = (1..=60).find_map(|seed| {
        let r = run(&s, true, seed);
        let switched: Vec<f64> = r
            .recorder
            .events
            .iter()
            .filter(|e| e.detail.starts_with("+switch-master r r1 r2"))
            .map(|e| e.at.as_secs_f64())
            .collect();
        // The leader switches alone; the others follow its hello at the heal.
        let alone = switched.iter().any(|&t| t < 45.0) && switched.iter().any(|&t| t >= 45.0);
        alone.then_some((seed, r))
    });
    let (seed, r) = found.expect("in 60 seeds the leader cut off with r2 switches alone");
    let v = violation(&s, &r)
        .unwrap_or_else(|| panic!("seed {seed}: the writes to r1 after 28 s are lost"));
    assert!(v.contains("beyond max-lag"), "seed {seed}: {v}");
}
