//! etcd 3.4 members: raft election within [et, 2et) of the leader's loss,
//! no leader without a quorum, CheckQuorum step-down, and the leader key
//! lease seen through Patroni.

use hasim::engine::SimTime;
use hasim::metrics::EventKind;
use hasim::products::Model;
use hasim::sim::Sim;

fn spec(faults: &str) -> hasim::config::spec::ExperimentSpec {
    spec_for("40s", faults)
}

fn spec_for(duration: &str, faults: &str) -> hasim::config::spec::ExperimentSpec {
    let text = format!(
        r#"
[experiment]
duration = "{duration}"
[network]
latency = "0.2ms"
[databases.etcd]
type = "etcd"
count = 3
[databases.pg]
type = "patroni"
count = 2
dcs = "etcd"
{faults}
"#
    );
    hasim::config::parse(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn etcd_leaders(sim: &Sim) -> Vec<String> {
    sim.nodes
        .iter()
        .filter_map(|n| match &n.model {
            Model::Etcd(e) if e.is_leader() && n.state == hasim::sim::ProcState::Running => {
                Some(n.name.clone())
            }
            _ => None,
        })
        .collect()
}

fn elected_after(r: &hasim::report::RunResult, t: f64) -> Vec<(f64, String)> {
    r.recorder
        .events
        .iter()
        .filter(|e| {
            e.kind == EventKind::Elected
                && e.at.as_secs_f64() > t
                && e.component.starts_with("etcd")
        })
        .map(|e| (e.at.as_secs_f64(), e.component.clone()))
        .collect()
}

#[test]
fn three_members_elect_one_leader_at_start() {
    let mut sim = Sim::new(&spec(""), 1);
    sim.run_until(SimTime(5_000_000_000));
    assert_eq!(etcd_leaders(&sim).len(), 1, "{:?}", etcd_leaders(&sim));
}

#[test]
fn a_new_leader_within_one_to_two_election_timeouts_of_the_leaders_death() {
    // Find the leader at 10 s, kill it, and expect a new one after
    // [et, 2et) + an RTT (randomized election timeout, no PreVote).
    for seed in 1..=20 {
        let mut sim = Sim::new(&spec(""), seed);
        sim.run_until(SimTime(9_000_000_000));
        let leader = etcd_leaders(&sim).pop().expect("a leader");
        let text = format!("[[faults]]\nkind = \"kill\"\ntarget = \"{leader}\"\nat = \"10s\"\n");
        let mut sim = Sim::new(&spec(&text), seed);
        sim.run();
        let r = sim.finish();
        let e = elected_after(&r, 10.0);
        let (t, who) = e.first().expect("re-elected").clone();
        assert_ne!(who, leader);
        let after = t - 10.0;
        // The timeout runs from the last heartbeat (<= 100 ms before the
        // death): [et - heartbeat, 2 et) + the vote round trip.
        assert!(
            (0.9..2.01).contains(&after),
            "seed {seed}: new leader after {after}s"
        );
    }
}

#[test]
fn no_leader_without_a_quorum_and_a_leader_again_when_it_returns() {
    let faults = r#"
[[faults]]
kind = "kill"
targets = ["etcd1", "etcd2"]
at = "10s"
recover_at = "25s"
"#;
    let mut sim = Sim::new(&spec(faults), 3);
    sim.run_until(SimTime(20_000_000_000));
    assert!(etcd_leaders(&sim).is_empty(), "a lone member must not lead");
    sim.run();
    let r = sim.finish();
    assert!(
        !elected_after(&r, 25.0).is_empty(),
        "leader back after recovery"
    );
}

#[test]
fn a_partitioned_leader_steps_down_by_check_quorum() {
    // Cut the leader off: it steps down within 2 election timeouts
    // (CheckQuorum runs every election timeout), the majority elects.
    let mut sim = Sim::new(&spec(""), 5);
    sim.run_until(SimTime(9_000_000_000));
    let leader = etcd_leaders(&sim).pop().expect("a leader");
    let others: Vec<String> = ["etcd1", "etcd2", "etcd3", "pg1", "pg2"]
        .iter()
        .filter(|n| **n != leader)
        .map(|s| format!("\"{s}\""))
        .collect();
    let faults = format!(
        "[[faults]]\nkind = \"partition\"\ngroups = [[\"{leader}\"], [{}]]\nat = \"10s\"\n",
        others.join(", ")
    );
    let mut sim = Sim::new(&spec(&faults), 5);
    sim.run_until(SimTime(12_100_000_000));
    let leaders = etcd_leaders(&sim);
    assert_eq!(leaders.len(), 1, "{leaders:?}");
    assert_ne!(leaders[0], leader, "the cut-off leader stepped down");
    sim.run();
    let r = sim.finish();
    assert!(
        r.recorder
            .events
            .iter()
            .any(|e| e.component == leader && e.kind == EventKind::QuorumLost),
        "QuorumLost logged"
    );
}

#[test]
fn patroni_takes_the_leader_key_through_etcd() {
    let mut sim = Sim::new(&spec(""), 2);
    sim.run_until(SimTime(20_000_000_000));
    let keys: Vec<_> = sim
        .nodes
        .iter()
        .filter_map(|n| match &n.model {
            Model::Etcd(e) if e.is_leader() => Some(e.leader_key()),
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 1);
    let pg1 = sim.nodes.iter().position(|n| n.name == "pg1").unwrap() as u32;
    assert_eq!(keys[0], Some(pg1), "the bootstrap member holds the key");
}

#[test]
fn an_even_member_count_is_accepted_with_a_warning() {
    let text = "[experiment]\nduration = \"10s\"\n[databases.e]\ntype = \"etcd\"\ncount = 4\n";
    let spec = hasim::config::parse(text, "t.toml").expect("etcd accepts 4 members");
    assert_eq!(spec.warnings.len(), 1, "{:?}", spec.warnings);
    let w = &spec.warnings[0];
    assert!(
        w.starts_with("t.toml:5:") && w.contains("databases.e.count"),
        "{w}"
    );
    assert!(w.contains("need 3 for a quorum"), "{w}");
}

/// A raft leader SIGSTOPped past the Patroni leader's ttl and resumed cut
/// off with that Patroni node still believes it leads until CheckQuorum;
/// it serves the stale leader key, but lessor.Renew renews no expired
/// lease (it waits for the revocation or the step-down), so the demoted
/// Patroni, reading its own name in the key, does not promote again beside
/// the new primary (issue 8 point 8; tests/properties/regression.rs has the schedule
/// the property found).
#[test]
fn a_stale_leader_resumed_in_a_minority_renews_no_expired_lease() {
    for seed in 1..=5 {
        let mut sim = Sim::new(&spec(""), seed);
        sim.run_until(SimTime(9_000_000_000));
        let stale = etcd_leaders(&sim).pop().expect("a leader");
        let others: Vec<String> = ["etcd1", "etcd2", "etcd3", "pg2"]
            .iter()
            .filter(|n| **n != stale)
            .map(|s| format!("\"{s}\""))
            .collect();
        let faults = format!(
            "[[faults]]\nkind = \"stop\"\ntarget = \"{stale}\"\nat = \"10s\"\nrecover_at = \"45s\"\n\
             [[faults]]\nkind = \"partition\"\ngroups = [[\"pg1\", \"{stale}\"], [{}]]\nat = \"20s\"\nrecover_at = \"70s\"\n",
            others.join(", ")
        );
        let mut sim = Sim::new(&spec_for("80s", &faults), seed);
        sim.run();
        let r = sim.finish();
        let ev = |who: &str, kind: EventKind, from: f64, to: f64| {
            r.recorder
                .events
                .iter()
                .filter(|e| {
                    e.component == who && e.kind == kind && (from..to).contains(&e.at.as_secs_f64())
                })
                .count()
        };
        assert_eq!(ev("pg1", EventKind::Demoted, 20.0, 45.0), 1, "seed {seed}");
        assert_eq!(
            ev(&stale, EventKind::QuorumLost, 45.0, 48.0),
            1,
            "seed {seed}"
        );
        // The majority's new leader expires pg1's lease (when, depends on
        // the phase of the loops): pg2 promotes once, during the partition.
        assert_eq!(ev("pg2", EventKind::Promoted, 20.0, 70.0), 1, "seed {seed}");
        assert_eq!(
            ev("pg1", EventKind::Promoted, 45.0, 70.0),
            0,
            "seed {seed}: pg1 promoted again through the stale leader {stale}"
        );
        let h = r.history.expect("databases");
        assert_eq!(h.split_brain_secs(), 0.0, "seed {seed}");
    }
}
