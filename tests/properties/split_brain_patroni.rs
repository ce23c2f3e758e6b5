//! Property tests: random fault schedules over 3 Patroni nodes + a 3-member
//! etcd behind HAProxy. Safe settings (synchronous_mode, the ttl rule kept):
//! never two primaries accepting writes, no acknowledged write lost. Unsafe
//! settings (async replication with lag, a large maximum_lag_on_failover):
//! the search must find a lost acknowledged write and shrink it.
//! PROPTEST_CASES scales the number of cases (default 200); the RNG seed is
//! fixed unless `HASIM_PROPTEST_FRESH=1` or `PROPTEST_RNG_SEED=N`
//! (`proptest_seed`); the schedules in `KNOWN` and the seeds in
//! `proptest-regressions/split_brain_patroni.txt` run first.
//!
//! Not in the safe schedules: SIGSTOP of a whole Patroni node (both
//! processes). A stopped primary resumed after its key expired acknowledges
//! the writes queued in its backlog before its HA loop demotes it: a real
//! split-brain that only a watchdog prevents, and a SIGSTOP freezes the
//! model's softdog timer with the node (the kernel has no hook for it).

use crate::proptest_seed;

use hasim::metrics::history::HistoryReport;
use hasim::sim::Sim;
use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};

const PG: [&str; 3] = ["pg1", "pg2", "pg3"];
const ETCD: [&str; 3] = ["etcd1", "etcd2", "etcd3"];

#[derive(Clone, Debug)]
enum F {
    Kill(usize),
    StopEtcd(usize),
    Blackhole(usize),
    /// Hosts (bit i = node i of PG ++ ETCD) on one side; `one_way` drops
    /// only from that side.
    Partition(u8, bool),
    /// Kill two Patroni nodes one after the other.
    Staggered(usize, usize, u32),
}

#[derive(Clone, Debug)]
struct Fault {
    f: F,
    at: u32,
    dur: u32,
}

fn all_nodes() -> Vec<&'static str> {
    PG.iter().chain(ETCD.iter()).copied().collect()
}

fn readable(s: &[Fault]) -> String {
    let mut out = String::new();
    for x in s {
        let what = match &x.f {
            F::Kill(i) => format!("kill {}", all_nodes()[*i]),
            F::StopEtcd(i) => format!("SIGSTOP {}", ETCD[*i]),
            F::Blackhole(i) => format!("blackhole {}", all_nodes()[*i]),
            F::Partition(m, ow) => {
                let (a, b) = split(*m);
                format!(
                    "partition{} [{}] | [{}]",
                    if *ow { " one-way" } else { "" },
                    a.join(" "),
                    b.join(" ")
                )
            }
            F::Staggered(a, b, e) => format!("kill {} then {} {e}s later", PG[*a], PG[*b]),
        };
        out += &format!("  at {:>3}s for {:>2}s: {what}\n", x.at, x.dur);
    }
    out
}

fn split(mask: u8) -> (Vec<&'static str>, Vec<&'static str>) {
    let nodes = all_nodes();
    let mut a: Vec<&str> = vec!["lb", "app"];
    let mut b = Vec::new();
    for (i, &n) in nodes.iter().enumerate() {
        if mask >> i & 1 == 1 {
            a.push(n)
        } else {
            b.push(n)
        }
    }
    (a, b)
}

/// The Patroni release the safe runs model: 3.3 (the leader key written by
/// a transaction). 3.0.2's plain put has its own tests below.
const FIXED: &str = "3.3";

fn toml_version(s: &[Fault], safe: bool, version: &str) -> String {
    let pg = if safe {
        format!("synchronous_mode = true\nreplication_delay = \"50ms\"\nversion = \"{version}\"\n")
    } else {
        format!(
            "replication_delay = \"300ms\"\nmaximum_lag_on_failover = 1073741824\nversion = \"{version}\"\n"
        )
    };
    let mut t = format!(
        r#"
[experiment]
duration = "150s"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
target = "lb"
rate = 20
method = "POST"
timeout = "5s"
start = "15s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
timeout_connect = "2s"
retries = 1
option_httpchk = "GET /primary"
on_marked_down = "shutdown-sessions"
[balancers.lb.default_server]
check = true
inter = "2s"
fall = 2
rise = 1
[databases.etcd]
type = "etcd"
count = 3
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
{pg}
"#
    );
    for x in s {
        let (at, rec) = (x.at, x.at + x.dur);
        match &x.f {
            F::Kill(i) => {
                t += &format!(
                    "[[faults]]\nkind = \"kill\"\ntarget = \"{}\"\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n",
                    all_nodes()[*i]
                )
            }
            F::StopEtcd(i) => {
                t += &format!(
                    "[[faults]]\nkind = \"stop\"\ntarget = \"{}\"\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n",
                    ETCD[*i]
                )
            }
            F::Blackhole(i) => {
                t += &format!(
                    "[[faults]]\nkind = \"blackhole\"\ntarget = \"{}\"\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n",
                    all_nodes()[*i]
                )
            }
            F::Partition(m, ow) => {
                let (a, b) = split(*m);
                if b.is_empty() {
                    continue;
                }
                let q = |v: &[&str]| {
                    v.iter()
                        .map(|n| format!("\"{n}\""))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                t += &format!(
                    "[[faults]]\nkind = \"partition\"\ngroups = [[{}], [{}]]\none_way = {ow}\nat = \"{at}s\"\nrecover_at = \"{rec}s\"\n",
                    q(&a),
                    q(&b)
                );
            }
            F::Staggered(a, b, e) => {
                if a == b {
                    continue;
                }
                t += &format!(
                    "[[faults]]\nkind = \"kill\"\ntargets = [\"{}\", \"{}\"]\nat = \"{at}s\"\nevery = \"{e}s\"\nrecover_after = \"{}s\"\n",
                    PG[*a], PG[*b], x.dur
                );
            }
        }
    }
    t
}

fn run(s: &[Fault], safe: bool, seed: u64) -> HistoryReport {
    run_version(s, safe, seed, FIXED)
}

fn run_version(s: &[Fault], safe: bool, seed: u64, version: &str) -> HistoryReport {
    let text = toml_version(s, safe, version);
    let spec = hasim::config::parse(&text, "prop.toml").unwrap_or_else(|e| panic!("{e}\n{text}"));
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    sim.finish().history.expect("databases")
}

fn fault() -> impl Strategy<Value = Fault> {
    let f = prop_oneof![
        (0..6usize).prop_map(F::Kill),
        (0..3usize).prop_map(F::StopEtcd),
        (0..6usize).prop_map(F::Blackhole),
        (1u8..63, any::<bool>()).prop_map(|(m, o)| F::Partition(m, o)),
        (0..3usize, 0..3usize, 1u32..30).prop_map(|(a, b, e)| F::Staggered(a, b, e)),
    ];
    (f, 20u32..100, 1u32..60).prop_map(|(f, at, dur)| Fault { f, at, dur })
}

/// Schedules the search found once (with the simulation seeds they failed
/// with), replayed before the random cases whatever the strategy becomes.
/// Each is fixed in the model and has its own test in `tests/properties/regression.rs`.
fn known() -> Vec<(Vec<Fault>, u64)> {
    vec![(
        // Issue 8: a demoted pg1 promoted again through etcd3, a stale raft
        // leader resumed in pg1's minority.
        vec![
            Fault {
                f: F::StopEtcd(2),
                at: 51,
                dur: 33,
            },
            Fault {
                f: F::Partition(0b01_1110, false),
                at: 70,
                dur: 35,
            },
        ],
        3,
    )]
}

fn violation(h: &HistoryReport) -> Option<String> {
    let sb = h.split_brain_secs();
    if sb > 0.0 || !h.lost.is_empty() {
        Some(format!(
            "split-brain {sb:.3}s, {} acknowledged writes lost (first {:?})",
            h.lost.len(),
            h.lost.first()
        ))
    } else {
        None
    }
}

#[test]
fn synchronous_mode_never_splits_nor_loses_acknowledged_writes() {
    const TEST: &str = "split_brain_patroni";
    for (s, seed) in known() {
        if let Some(v) = violation(&run(&s, true, seed)) {
            panic!("known schedule, seed {seed}:\n{}{v}", readable(&s));
        }
    }
    let (config, rng_seed) = proptest_seed::config(TEST, 200);
    let mut runner = TestRunner::new(config);
    let strategy = (proptest::collection::vec(fault(), 1..4), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        let h = run(&s, true, seed);
        prop_assert!(
            violation(&h).is_none(),
            "seed {seed}\n{}{}",
            readable(&s),
            violation(&h).unwrap()
        );
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
fn async_with_a_large_maximum_lag_loses_acknowledged_writes_and_the_search_finds_it() {
    let (config, rng_seed) = proptest_seed::config_expecting_failure("split_brain_patroni", 200);
    let mut runner = TestRunner::new(config);
    let strategy = (proptest::collection::vec(fault(), 1..4), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        let h = run(&s, false, seed);
        prop_assert!(violation(&h).is_none(), "{}", violation(&h).unwrap());
        Ok(())
    });
    match r {
        Err(TestError::Fail(why, (s, seed))) => {
            println!("found and shrunk (seed {seed}):\n{}{why}", readable(&s));
            assert!(s.len() <= 2, "shrunk to a short schedule");
        }
        other => panic!(
            "the unsafe setting should lose writes: {other:?}\n{}",
            proptest_seed::rerun("split_brain_patroni", rng_seed)
        ),
    }
}

/// The cut of one whole host (its Patroni node and the etcd member beside
/// it, which its Patroni talks to) from everything else, healed after
/// `dur`: the leader-host blackhole of issue 10 point 7.
fn host_cut() -> impl Strategy<Value = Fault> {
    (0..3usize, 20u32..40, 1u32..110).prop_map(|(i, at, dur)| Fault {
        // The mask names the side with the balancer and the clients.
        f: F::Partition(0b11_1111 & !((1 << i) | (1 << (3 + i))), false),
        at,
        dur,
    })
}

/// Patroni 3.0.2, safe settings otherwise (synchronous_mode): a cut
/// leader host: the search must find a lost
/// acknowledged write (the unconditional put over the new leader's key)
/// and shrink the schedule to the one cut.
#[test]
fn v3_0_2_loses_acknowledged_writes_after_a_leader_host_cut_and_the_search_finds_it() {
    let (config, rng_seed) = proptest_seed::config_expecting_failure("split_brain_patroni", 100);
    let mut runner = TestRunner::new(config);
    let strategy = (proptest::collection::vec(host_cut(), 1..3), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        let h = run_version(&s, true, seed, "3.0.2");
        prop_assert!(violation(&h).is_none(), "{}", violation(&h).unwrap());
        Ok(())
    });
    match r {
        Err(TestError::Fail(why, (s, seed))) => {
            println!("found and shrunk (seed {seed}):\n{}{why}", readable(&s));
            assert_eq!(s.len(), 1, "shrunk to the one cut");
            // The leader's host (pg1 + etcd1), cut for longer than ttl (a
            // new leader must have acknowledged writes), and healed about
            // when the stuck fast shutdown ends (wal_sender_timeout, 60 s,
            // after the standbys' last reply) or later: earlier, etcd1 has
            // caught up by pg1's next read.
            assert!(matches!(s[0].f, F::Partition(0b11_0110, false)), "{s:?}");
            assert!(s[0].dur > 50, "{s:?}");
        }
        other => panic!(
            "3.0.2's unconditional put should lose writes: {other:?}\n{}",
            proptest_seed::rerun("split_brain_patroni", rng_seed)
        ),
    }
}

/// The same cuts with the transaction of 3.0.3+ (the preset the safe runs
/// use): no split-brain, no acknowledged write lost.
#[test]
fn the_fixed_version_survives_the_same_host_cuts() {
    const TEST: &str = "split_brain_patroni";
    let (config, rng_seed) = proptest_seed::config(TEST, 100);
    let mut runner = TestRunner::new(config);
    let strategy = (proptest::collection::vec(host_cut(), 1..3), 1u64..1000);
    let r = runner.run(&strategy, |(s, seed)| {
        let h = run(&s, true, seed);
        prop_assert!(
            violation(&h).is_none(),
            "seed {seed}\n{}{}",
            readable(&s),
            violation(&h).unwrap()
        );
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
