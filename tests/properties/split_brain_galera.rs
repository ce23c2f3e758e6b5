//! Property tests (issue 3 item 6) over a 3-node Galera cluster with writes
//! to every node: random fault schedules (kill, stop, blackhole, one- and
//! two-way partitions, staggered kills; random instants, durations and
//! recoveries). With the defaults: never two groups accepting writes at once,
//! no acknowledged write lost. With `pc.ignore_quorum = true`: the search
//! must find a violation and shrink it to a short schedule.
//! `PROPTEST_CASES` scales the number of cases (default 200); the RNG seed
//! is fixed unless `HASIM_PROPTEST_FRESH=1` or `PROPTEST_RNG_SEED=N`
//! (`proptest_seed`); the seeds in `proptest-regressions/split_brain_galera.txt`
//! run first.

use crate::{proptest_seed, safety};

use proptest::prelude::*;
use proptest::test_runner::{TestError, TestRunner};
use std::fmt;

const NODES: [&str; 3] = ["g1", "g2", "g3"];

#[derive(Clone, Debug)]
enum Kind {
    Kill,
    Stop,
    Blackhole,
    /// Node `target` alone on one side.
    Partition,
    /// Packets from `target` to the others dropped.
    OneWay,
    /// `target` then the next node, `every` apart.
    Staggered {
        every: u32,
    },
}

#[derive(Clone, Debug)]
struct Fault {
    kind: Kind,
    target: usize,
    at: u32,
    /// Down time in seconds; None = never recovered.
    down: Option<u32>,
}

#[derive(Clone, Debug)]
struct Schedule(Vec<Fault>);

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        for x in &self.0 {
            let t = NODES[x.target];
            let what = match x.kind {
                Kind::Kill => format!("kill {t}"),
                Kind::Stop => format!("SIGSTOP {t}"),
                Kind::Blackhole => format!("blackhole {t}"),
                Kind::Partition => format!("partition {t} | others"),
                Kind::OneWay => format!("one-way partition {t} -> others dropped"),
                Kind::Staggered { every } => {
                    format!("kill {t} then {} {every}s later", NODES[(x.target + 1) % 3])
                }
            };
            match x.down {
                Some(d) => writeln!(f, "  at {:>2}s: {what}, recovered after {d}s", x.at)?,
                None => writeln!(f, "  at {:>2}s: {what}, never recovered", x.at)?,
            }
        }
        Ok(())
    }
}

fn fault() -> impl Strategy<Value = Fault> {
    let kind = prop_oneof![
        Just(Kind::Kill),
        Just(Kind::Stop),
        Just(Kind::Blackhole),
        Just(Kind::Partition),
        Just(Kind::OneWay),
        (1u32..10).prop_map(|every| Kind::Staggered { every }),
    ];
    (
        kind,
        0usize..3,
        2u32..40,
        proptest::option::weighted(0.8, 1u32..20),
    )
        .prop_map(|(kind, target, at, down)| Fault {
            kind,
            target,
            at,
            down,
        })
}

fn schedule() -> impl Strategy<Value = Schedule> {
    proptest::collection::vec(fault(), 1..4).prop_map(Schedule)
}

fn experiment(s: &Schedule, unsafe_quorum: bool) -> String {
    let mut t = String::from("[experiment]\nduration = \"60s\"\n[network]\nlatency = \"0.1ms\"\n");
    for n in NODES {
        t += &format!(
            "[clients.w{n}]\ntype = \"open\"\ntarget = \"{n}\"\nrate = 5\nmethod = \"POST\"\ntimeout = \"10s\"\n"
        );
    }
    t += "[databases.g]\ntype = \"galera\"\ncount = 3\n";
    if unsafe_quorum {
        t += "[databases.g.pc]\nignore_quorum = true\n";
    }
    for x in &s.0 {
        let n = NODES[x.target];
        let others: Vec<String> = (0..3)
            .filter(|&i| i != x.target)
            .map(|i| format!("\"{}\"", NODES[i]))
            .collect();
        t += "[[faults]]\n";
        t += &match x.kind {
            Kind::Kill => format!("kind = \"kill\"\ntarget = \"{n}\"\n"),
            Kind::Stop => format!("kind = \"stop\"\ntarget = \"{n}\"\n"),
            Kind::Blackhole => format!("kind = \"blackhole\"\ntarget = \"{n}\"\n"),
            Kind::Partition => format!(
                "kind = \"partition\"\ngroups = [[\"{n}\"], [{}]]\n",
                others.join(", ")
            ),
            Kind::OneWay => format!(
                "kind = \"partition\"\none_way = true\ngroups = [[\"{n}\"], [{}]]\n",
                others.join(", ")
            ),
            Kind::Staggered { .. } => {
                format!(
                    "kind = \"kill\"\ntargets = [\"{n}\", \"{}\"]\n",
                    NODES[(x.target + 1) % 3]
                )
            }
        };
        t += &format!("at = \"{}s\"\n", x.at);
        match (&x.kind, x.down) {
            (Kind::Staggered { every }, d) => {
                t += &format!("every = \"{every}s\"\n");
                if let Some(d) = d {
                    t += &format!("recover_after = \"{d}s\"\n");
                }
            }
            (_, Some(d)) => t += &format!("recover_at = \"{}s\"\n", x.at + d),
            (_, None) => {}
        }
    }
    t
}

/// Runs a schedule; Err describes the violated invariant.
fn check(s: &Schedule, unsafe_quorum: bool) -> Result<(), TestCaseError> {
    let r = safety::run_schedule(&experiment(s, unsafe_quorum))?;
    let h = r.history.expect("a database run has a history");
    safety::no_split_brain(&h)?;
    safety::no_lost_writes(&h)
}

#[test]
fn galera_never_splits_brain_nor_loses_acknowledged_writes() {
    let (config, rng_seed) = proptest_seed::config("split_brain_galera", 200);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&schedule(), |s| check(&s, false));
    if let Err(TestError::Fail(why, s)) = &result {
        panic!(
            "{why}\nminimal schedule:\n{s}\n{}\n{}",
            experiment(s, false),
            proptest_seed::rerun("split_brain_galera", rng_seed)
        );
    }
    result.unwrap();
}

#[test]
fn ignore_quorum_is_caught_splitting_brain_with_a_short_schedule() {
    let (config, rng_seed) = proptest_seed::config_expecting_failure("split_brain_galera", 200);
    let mut runner = TestRunner::new(config);
    match runner.run(&schedule(), |s| check(&s, true)) {
        Err(TestError::Fail(why, s)) => {
            println!("pc.ignore_quorum = true: {why}\nminimal schedule:\n{s}");
            assert!(s.0.len() <= 2, "shrunk to {} faults", s.0.len());
        }
        other => panic!(
            "expected a violation with pc.ignore_quorum = true, got {other:?}\n{}",
            proptest_seed::rerun("split_brain_galera", rng_seed)
        ),
    }
}
