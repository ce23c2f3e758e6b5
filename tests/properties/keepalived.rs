//! Property tests (issue 13 point 6) over a keepalived pair holding VIP
//! `vip` in front of two HAProxy hosts, clients sending to the VIP: random
//! fault schedules (power-off of a balancer host, kill of an HAProxy the
//! `vrrp_script` tracks, clean restart of a keepalived; random instants and
//! recoveries) and random settings (`nopreempt`, `preempt_delay`, the
//! script's `weight`). Two holders of one VIP is the unsafe state: with
//! those faults it lasts at most the hop an advert takes to reach the other
//! daemon (a handover overlaps by that much). With partitions between the
//! pair and SIGSTOPs of a keepalived (a MASTER that falls silent but keeps
//! its address) allowed, the search must find two holders and shrink the
//! schedule to one such fault. `PROPTEST_CASES` scales the number of cases
//! (default 100); the RNG seed is fixed unless `HASIM_PROPTEST_FRESH=1` or
//! `PROPTEST_RNG_SEED=N` (`proptest_seed`).

use crate::proptest_seed;

use hasim::sim::Sim;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestError, TestRunner};
use std::fmt;

const LBS: [&str; 2] = ["lb1", "lb2"];

#[derive(Clone, Debug)]
enum Kind {
    PowerOff,
    /// SIGKILL of the HAProxy the script tracks.
    KillHaproxy,
    /// A clean keepalived restart (priority-0 advert).
    Restart,
    /// SIGSTOP of the keepalived daemon.
    Stop,
    /// The pair cannot hear each other.
    Partition,
}

#[derive(Clone, Debug)]
struct Fault {
    kind: Kind,
    target: usize,
    at: u32,
    down: u32,
}

#[derive(Clone, Debug)]
struct Settings {
    nopreempt: bool,
    preempt_delay: u32,
    /// None: no track_script.
    weight: Option<i32>,
}

#[derive(Clone, Debug)]
struct Schedule(Settings, Vec<Fault>);

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        writeln!(f, "  {:?}", self.0)?;
        for x in &self.1 {
            writeln!(
                f,
                "  at {:>2}s: {:?} {} for {}s",
                x.at, x.kind, LBS[x.target], x.down
            )?;
        }
        Ok(())
    }
}

fn fault(partitions: bool) -> impl Strategy<Value = Fault> {
    let kind = if partitions {
        prop_oneof![
            Just(Kind::PowerOff),
            Just(Kind::KillHaproxy),
            Just(Kind::Restart),
            Just(Kind::Stop),
            Just(Kind::Partition),
        ]
        .boxed()
    } else {
        prop_oneof![
            Just(Kind::PowerOff),
            Just(Kind::KillHaproxy),
            Just(Kind::Restart),
        ]
        .boxed()
    };
    (kind, 0usize..2, 5u32..40, 1u32..15).prop_map(|(kind, target, at, down)| Fault {
        kind,
        target,
        at,
        down,
    })
}

fn schedule(partitions: bool) -> impl Strategy<Value = Schedule> {
    let settings = (
        any::<bool>(),
        prop_oneof![Just(0u32), Just(3u32)],
        prop_oneof![Just(None), Just(Some(0)), Just(Some(-60))],
    )
        .prop_map(|(nopreempt, delay, weight)| Settings {
            nopreempt,
            preempt_delay: if nopreempt { 0 } else { delay },
            weight,
        });
    (settings, proptest::collection::vec(fault(partitions), 1..4)).prop_map(|(s, f)| Schedule(s, f))
}

fn experiment(s: &Schedule) -> String {
    let mut t = String::from(
        "[experiment]\nduration = \"70s\"\n[network]\nlatency = \"0.1ms\"\n\
         [clients.c]\ntype = \"open\"\ntarget = \"vip\"\nrate = 10\nstart = \"4s\"\ntimeout = \"5s\"\n\
         [servers.s]\nservice = \"1ms\"\n",
    );
    for lb in LBS {
        t += &format!("[balancers.{lb}]\ntype = \"haproxy\"\nservers = [\"s\"]\n");
    }
    let set = &s.0;
    t += "[vips.vip]\nadvert_int = \"1s\"\n";
    t += &format!(
        "nopreempt = {}\npreempt_delay = \"{}s\"\n",
        set.nopreempt, set.preempt_delay
    );
    if let Some(w) = set.weight {
        t += &format!(
            "track_script = true\n[vips.vip.vrrp_script]\ninterval = \"1s\"\nfall = 2\nrise = 2\nweight = {w}\n"
        );
    }
    t += "[vips.vip.on.lb1]\npriority = 150\n[vips.vip.on.lb2]\npriority = 100\n";
    for x in &s.1 {
        let lb = LBS[x.target];
        let (kind, target) = match x.kind {
            Kind::PowerOff => ("power-off", lb.to_string()),
            Kind::KillHaproxy => ("kill", lb.to_string()),
            Kind::Restart => ("restart", format!("vip-{lb}")),
            Kind::Stop => ("stop", format!("vip-{lb}")),
            Kind::Partition => ("partition", String::new()),
        };
        t += &format!("[[faults]]\nkind = \"{kind}\"\nat = \"{}s\"\n", x.at);
        match x.kind {
            Kind::Partition => {
                t += &format!(
                    "groups = [[\"lb1\"], [\"lb2\"]]\nrecover_at = \"{}s\"\n",
                    x.at + x.down
                )
            }
            Kind::Restart => t += &format!("target = \"{target}\"\n"),
            _ => {
                t += &format!(
                    "target = \"{target}\"\nrecover_at = \"{}s\"\n",
                    x.at + x.down
                )
            }
        }
    }
    t
}

/// The longest a VIP may have two holders: one hop (the advert of a
/// handover reaching the old MASTER), with margin.
const OVERLAP_S: f64 = 0.001;

fn check(s: &Schedule) -> Result<(), TestCaseError> {
    let text = experiment(s);
    let spec = hasim::config::parse(&text, "schedule.toml")
        .map_err(|e| TestCaseError::reject(format!("not a valid schedule: {e}")))?;
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    for t in &r.recorder.two_holders {
        let (from, to) = (t.from.as_secs_f64(), t.to.as_secs_f64());
        if to - from > OVERLAP_S {
            return Err(TestCaseError::fail(format!(
                "two holders of VIP {} from {from:.4}s to {to:.4}s ({})",
                t.vip,
                t.hosts.join(" ")
            )));
        }
    }
    Ok(())
}

#[test]
fn a_keepalived_pair_never_holds_its_vip_twice_without_a_partition() {
    let (config, rng_seed) = proptest_seed::config("keepalived", 100);
    let mut runner = TestRunner::new(config);
    let result = runner.run(&schedule(false), |s| check(&s));
    if let Err(TestError::Fail(why, s)) = &result {
        panic!(
            "{why}\nminimal schedule:\n{s}\n{}\n{}",
            experiment(s),
            proptest_seed::rerun("keepalived", rng_seed)
        );
    }
    result.unwrap();
}

#[test]
fn a_partition_between_the_pair_is_found_splitting_the_vip() {
    let (config, rng_seed) = proptest_seed::config_expecting_failure("keepalived", 100);
    let mut runner = TestRunner::new(config);
    match runner.run(&schedule(true), |s| check(&s)) {
        Err(TestError::Fail(why, s)) => {
            println!("{why}\nminimal schedule:\n{s}");
            assert_eq!(s.1.len(), 1, "shrunk to one fault: {s}");
            assert!(matches!(s.1[0].kind, Kind::Partition | Kind::Stop), "{s}");
        }
        other => panic!(
            "expected two holders under a partition, got {other:?}\n{}",
            proptest_seed::rerun("keepalived", rng_seed)
        ),
    }
}
