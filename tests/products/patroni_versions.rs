//! Patroni version presets (issue 10 point 7): 3.0.2's etcd3 `_update_leader`
//! puts the leader key without compare once it holds a new lease; 3.0.3
//! (PR #2693) and 3.3 use a transaction. The scenario of
//! `experiments/patroni-3.0.2-blackhole.toml`: the leader's host (pg1 and
//! its etcd member etcd1) cut off at 60 s, healed later.

use hasim::config::spec::NodeKind;
use hasim::engine::Dur;
use hasim::metrics::EventKind;
use hasim::report::RunResult;
use hasim::sim::Sim;

const CUT: f64 = 60.0;
const RATE: f64 = 50.0;

fn experiment(version: &str, heal: &str) -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/patroni-3.0.2-blackhole.toml"
    ))
    .unwrap();
    let text = text.split("\n[sweep]").next().unwrap().to_string();
    let text = text.replace(
        "preset = \"patroni-3.0.2\"",
        &format!("preset = \"patroni-{version}\""),
    );
    assert!(text.contains("recover_at = \"130s\""));
    text.replace("recover_at = \"130s\"", &format!("recover_at = \"{heal}\""))
}

fn run(text: &str, seed: u64) -> RunResult {
    let spec = hasim::config::parse(text, "v.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    sim.finish()
}

/// Instants of events of `kind` on `node` whose message contains `what`.
fn at(r: &RunResult, node: &str, kind: EventKind, what: &str) -> Vec<f64> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.kind == kind && e.component == node && e.detail.contains(what))
        .map(|e| e.at.as_secs_f64())
        .collect()
}

#[test]
fn v3_0_2_overwrites_the_new_leaders_key_after_the_heal_and_loses_what_it_acknowledged() {
    for seed in 1..=3 {
        let r = run(&experiment("3.0.2", "130s"), seed);
        let h = r.history.as_ref().unwrap();
        // The new primary (pg2 or pg3) promoted after the key expired.
        let promoted: Vec<f64> = ["pg2", "pg3"]
            .iter()
            .flat_map(|n| at(&r, n, EventKind::Promoted, "promoted"))
            .collect();
        assert_eq!(promoted.len(), 1, "seed {seed}: one new primary");
        let put = at(&r, "pg1", EventKind::Info, "a put without compare");
        assert_eq!(put.len(), 1, "seed {seed}: pg1's put");
        let put = put[0];
        assert!((130.0..135.0).contains(&put), "seed {seed}: put at {put}");
        // Every write the new primary acknowledged, from its promotion to
        // pg1's put, is gone: rate x that span, give or take the balancer's
        // switch to it.
        let first = h
            .lost
            .iter()
            .map(|l| l.1.as_secs_f64())
            .fold(f64::MAX, f64::min);
        let last = h.lost.iter().map(|l| l.1.as_secs_f64()).fold(0.0, f64::max);
        assert!(first >= promoted[0] && last <= put + 1.0, "seed {seed}");
        let expect = RATE * (last - first);
        let n = h.lost.len() as f64;
        assert!(
            (n - expect).abs() <= 0.05 * expect + 5.0,
            "seed {seed}: {n} lost, rate x span {expect:.0}"
        );
        assert!(n > 1000.0, "seed {seed}: thousands lost: {n}");
    }
}

#[test]
fn the_transaction_of_3_0_3_and_3_3_loses_nothing_in_the_same_runs() {
    for v in ["3.0.3", "3.3"] {
        for seed in 1..=3 {
            let r = run(&experiment(v, "130s"), seed);
            let h = r.history.as_ref().unwrap();
            assert!(h.lost.is_empty(), "{v} seed {seed}: {:?}", h.lost);
            assert_eq!(h.split_brain_secs(), 0.0, "{v} seed {seed}");
            assert!(at(&r, "pg1", EventKind::Info, "a put without compare").is_empty());
        }
    }
}

/// The demote after the DCS error is a fast shutdown run by the HA loop
/// itself: its shutdown checkpoint waits for the cut-off standbys until
/// wal_sender_timeout (60 s) after their last reply. With writes flowing,
/// the last reply is at the cut: pg1 starts as a replica at
/// cut + 60 s + start_time (1.5 s). A heal before that lets etcd1 catch up
/// before pg1 reads the cluster again: 3.0.2 loses nothing either.
#[test]
fn the_stuck_fast_shutdown_lasts_wal_sender_timeout_and_an_earlier_heal_loses_nothing() {
    for seed in 1..=3 {
        let r = run(&experiment("3.0.2", "115s"), seed);
        let started = at(&r, "pg1", EventKind::Info, "started as a read-only replica");
        let s = started[0];
        let expect = CUT + 60.0 + 1.5;
        assert!(
            (expect - 0.5..=expect + 0.1).contains(&s),
            "seed {seed}: pg1 restarted at {s}, formula {expect}"
        );
        let h = r.history.as_ref().unwrap();
        assert!(h.lost.is_empty(), "seed {seed}: {:?}", h.lost.len());
    }
}

#[test]
fn the_version_key_picks_the_mechanism_and_3_3_adjusts_the_timeouts() {
    let spec_of = |text: &str| {
        let spec = hasim::config::parse(text, "v.toml").unwrap_or_else(|e| panic!("{e}"));
        let p = spec
            .nodes
            .values()
            .find_map(|n| match &n.kind {
                NodeKind::Patroni(p) => Some(p.clone()),
                _ => None,
            })
            .unwrap();
        (p, spec.warnings)
    };
    let base = experiment("3.0.2", "130s");
    let (p, _) = spec_of(&base);
    assert!(p.version.unconditional_leader_put());
    // 3.3 raises ttl to its minimum of 20 s (config.py 3.2+); 3.0.2 keeps 10 s.
    let short = |v: &str| {
        experiment(v, "130s").replace(
            "dcs = \"etcd\"",
            "dcs = \"etcd\"\nttl = \"10s\"\nloop_wait = \"2s\"\nretry_timeout = \"3s\"",
        )
    };
    let (p, w) = spec_of(&short("3.3"));
    assert!(!p.version.unconditional_leader_put());
    assert_eq!(
        (p.ttl, p.loop_wait, p.retry_timeout),
        (Dur::from_secs(20), Dur::from_secs(2), Dur::from_secs(3))
    );
    assert!(w.iter().any(|w| w.contains("adjusts ttl")), "{w:?}");
    let (p, _) = spec_of(&short("3.0.2"));
    assert_eq!(p.ttl, Dur::from_secs(10));
    // A version the model does not know is refused at its key.
    let bad = base.replace("dcs = \"etcd\"", "dcs = \"etcd\"\nversion = \"3.1\"");
    let e = hasim::config::parse(&bad, "v.toml")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("v.toml:") && e.contains("databases.pg.version"),
        "{e}"
    );
    assert!(e.contains("3.0.2") && e.contains("3.3"), "{e}");
}
