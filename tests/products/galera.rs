//! Galera model end to end: membership timings against galera.md's formulas,
//! quorum, the unsafe options, rejoin, and the galera-g1 validation case.

use crate::common;

use hasim::report::RunResult;
use hasim::sim::Sim;
use std::path::Path;

/// A 3-node cluster, clients writing to every node directly, `extra` TOML
/// appended (faults, option overrides).
fn cluster(extra: &str, db_extra: &str) -> String {
    format!(
        r#"
[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.w1]
type = "open"
target = "g1"
rate = 20
method = "POST"
timeout = "10s"
[clients.w2]
type = "open"
target = "g2"
rate = 20
method = "POST"
timeout = "10s"
[clients.w3]
type = "open"
target = "g3"
rate = 20
method = "POST"
timeout = "10s"
[databases.g]
type = "galera"
count = 3
{db_extra}
{extra}
"#
    )
}

fn run(text: &str, seed: u64) -> RunResult {
    let spec = hasim::config::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    sim.finish()
}

fn event_at(r: &RunResult, kind: &str, subject: &str) -> Option<f64> {
    r.recorder
        .events
        .iter()
        .find(|e| format!("{:?}", e.kind).eq_ignore_ascii_case(kind) && e.subject == subject)
        .map(|e| e.at.as_secs_f64())
}

#[test]
fn a_killed_node_is_evicted_after_suspect_timeout_plus_the_membership_round() {
    for seed in 1..=6 {
        let r = run(
            &cluster(
                "[[faults]]\nkind = \"kill\"\ntarget = \"g3\"\nat = \"20s\"",
                "",
            ),
            seed,
        );
        let t = event_at(&r, "Evicted", "g3").expect("evicted") - 20.0;
        // galera.md §2: suspect_timeout + U(0, inactive_check_period) + c,
        // c up to join_retrans_period: 5.0 .. 6.5 s.
        assert!((5.0..=6.6).contains(&t), "seed {seed}: evicted after {t}");
        let h = r.history.as_ref().unwrap();
        assert!(h.lost.is_empty(), "{:?}", h.lost);
        assert_eq!(h.split_brain_secs(), 0.0);
    }
}

#[test]
fn a_blackholed_or_stopped_node_is_evicted_like_a_killed_one() {
    for kind in ["blackhole", "stop", "power-off"] {
        let r = run(
            &cluster(
                &format!(
                    "[[faults]]\nkind = \"{kind}\"\ntarget = \"g2\"\nat = \"20s\"\nrecover_at = \"40s\""
                ),
                "",
            ),
            1,
        );
        let t = event_at(&r, "Evicted", "g2").expect("evicted") - 20.0;
        assert!((5.0..=6.6).contains(&t), "{kind}: evicted after {t}");
        let h = r.history.as_ref().unwrap();
        assert!(h.lost.is_empty(), "{kind}: {:?}", h.lost);
        assert_eq!(h.split_brain_secs(), 0.0, "{kind}");
    }
}

#[test]
fn a_clean_restart_changes_the_view_in_round_trips_and_rejoins_by_ist() {
    let r = run(
        &cluster(
            "[[faults]]\nkind = \"restart\"\ntarget = \"g3\"\nat = \"20s\"",
            "",
        ),
        1,
    );
    let t = event_at(&r, "Evicted", "g3").expect("view change") - 20.0;
    assert!(t < 0.05, "LEAVE: view after {t}");
    // Back after `startup` (2 s), IST, Synced.
    let j = event_at(&r, "Joined", "g3").expect("synced again") - 20.0;
    assert!((2.0..6.0).contains(&j), "synced after {j}");
    let ist = r
        .recorder
        .events
        .iter()
        .any(|e| e.detail.contains("IST to g3"));
    assert!(ist, "IST expected");
    let h = r.history.as_ref().unwrap();
    assert!(h.lost.is_empty());
}

#[test]
fn the_isolated_node_goes_non_primary_and_refuses_with_1047() {
    let r = run(
        &cluster(
            "[[faults]]\nkind = \"partition\"\ngroups = [[\"g1\"], [\"g2\", \"g3\"]]\nat = \"20s\"\nrecover_at = \"40s\"",
            "",
        ),
        1,
    );
    assert!(event_at(&r, "QuorumLost", "g1").is_some());
    let not_ready = common::kind(&r, "db_not_ready");
    assert!(not_ready > 0);
    // In Galera's own code, all the way to the summary (1047 for statements
    // on the non-Primary node, 1180 for the commits it was waiting on).
    let codes = common::db_codes(&r, "db_not_ready");
    assert_eq!(codes[0].0, "1047", "{codes:?}");
    let text = hasim::report::summary_text(&r);
    let want = format!("db_not_ready: {not_ready} (1047: {}", codes[0].1);
    assert!(text.contains(&want), "{text}");
    let h = r.history.as_ref().unwrap();
    assert!(h.lost.is_empty(), "{:?}", h.lost);
    assert_eq!(h.split_brain_secs(), 0.0);
    // It rejoins once the partition heals.
    let back = r.recorder.events.iter().any(|e| {
        e.at.as_secs_f64() > 40.0 && e.subject == "g1" && format!("{:?}", e.kind) == "Joined"
    });
    assert!(back, "g1 synced again after the partition healed");
}

#[test]
fn ignore_quorum_lets_a_minority_accept_writes_split_brain() {
    let r = run(
        &cluster(
            "[[faults]]\nkind = \"partition\"\ngroups = [[\"g1\"], [\"g2\", \"g3\"]]\nat = \"20s\"\nrecover_at = \"40s\"",
            "[databases.g.pc]\nignore_quorum = true",
        ),
        1,
    );
    let h = r.history.as_ref().unwrap();
    assert!(
        h.split_brain_secs() > 10.0,
        "split-brain {}",
        h.split_brain_secs()
    );
    assert!(
        !h.lost.is_empty(),
        "the minority's acknowledged writes are lost at the merge"
    );
}

#[test]
fn a_two_two_split_is_non_primary_on_both_sides() {
    let text = cluster(
        "[[faults]]\nkind = \"partition\"\ngroups = [[\"g1\", \"g2\"], [\"g3\", \"g4\"]]\nat = \"20s\"\nrecover_at = \"40s\"",
        "",
    )
    .replace("count = 3", "count = 4");
    let r = run(&text, 1);
    assert!(event_at(&r, "QuorumLost", "g1").is_some());
    assert!(event_at(&r, "QuorumLost", "g3").is_some());
    let h = r.history.as_ref().unwrap();
    assert!(h.clusters[0].no_primary_secs() > 10.0);
    assert_eq!(h.split_brain_secs(), 0.0);
}

#[test]
fn pc_weight_keeps_the_heavy_side_primary() {
    let text = cluster(
        "[[faults]]\nkind = \"partition\"\ngroups = [[\"g1\", \"g2\"], [\"g3\", \"g4\"]]\nat = \"20s\"",
        "[databases.g.pc]\nweights = [2, 1, 1, 1]",
    )
    .replace("count = 3", "count = 4");
    let r = run(&text, 1);
    assert!(event_at(&r, "QuorumLost", "g1").is_none());
    assert!(event_at(&r, "QuorumLost", "g3").is_some());
}

#[test]
fn certification_conflicts_fail_with_deadlock_errors() {
    let r = run(&cluster("", "conflict_rate = 0.5"), 1);
    assert!(common::kind(&r, "db_deadlock") > 10);
    let quiet = run(&cluster("", ""), 1);
    assert_eq!(common::kind(&quiet, "db_deadlock"), 0);
}

#[test]
fn a_slow_node_throttles_writers_everywhere_through_flow_control() {
    let slow = |factor: f64| {
        let r = run(
            &cluster(
                &format!(
                    "[[faults]]\nkind = \"slow\"\ntarget = \"g3\"\nfactor = {factor}\nat = \"10s\""
                ),
                "apply = \"5ms\"",
            ),
            1,
        );
        r.recorder.segment_latency[1].quantile_ms(0.99)
    };
    // 60 write-sets/s at 5 ms x 40 = 200 ms each: g3's queue passes the
    // limit and every node's commits wait for it.
    assert!(
        slow(40.0) > 10.0 * slow(1.0),
        "{} vs {}",
        slow(40.0),
        slow(1.0)
    );
}

#[test]
fn a_restart_outside_the_gcache_needs_sst() {
    let r = run(
        &cluster(
            "[[faults]]\nkind = \"kill\"\ntarget = \"g3\"\nat = \"10s\"\nrecover_at = \"30s\"",
            "data_size = \"2G\"\n[databases.g.gcache]\nsize = \"100K\"",
        ),
        1,
    );
    assert!(
        r.recorder
            .events
            .iter()
            .any(|e| e.detail.contains("SST to g3"))
    );
    let j = event_at(&r, "Joined", "g3").expect("synced") - 30.0;
    // startup 2 s + the merge round (1..2 s) + 2 GiB at 100 MiB/s = 20.5 s.
    assert!((23.0..25.0).contains(&j), "synced after {j}");
}

// ------------------------------------------------------------ validation --

fn measured(case: &toml::Table, key: &str) -> Vec<f64> {
    case["measured"][key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
        .collect()
}

/// shared/validation/README.md: inside min..max widened by 10% or 0.3 s,
/// whichever is larger (counts: 10%).
fn accepted(values: &[f64], is_count: bool) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    if is_count {
        ((lo * 0.9).floor(), (hi * 1.1).ceil())
    } else {
        let w = |x: f64| (x.abs() * 0.1).max(0.3);
        (lo - w(lo), hi + w(hi))
    }
}

#[test]
fn galera_g1_matches_the_real_cluster() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation");
    let case_file = dir.join("measured/galera-g1.toml");
    let case: toml::Table = std::fs::read_to_string(&case_file)
        .unwrap()
        .parse()
        .unwrap();
    let spec = hasim::config::load(&dir.join("galera-g1.toml")).unwrap();
    let mut problems = Vec::new();
    for seed in 1..=4 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        let f = &r.faults[0];
        let rel = |t: f64| t - f.at.as_secs_f64();
        let view = rel(event_at(&r, "Evicted", "g3").unwrap_or(f64::NAN));
        let down = rel(event_at(&r, "MarkedDown", "g3").unwrap_or(f64::NAN));
        let h = r.history.as_ref().unwrap();
        let figures = [
            ("requests_failed", r.recorder.failed as f64, true),
            (
                "failed_but_committed",
                h.indeterminate_committed as f64,
                true,
            ),
            ("view_size2_logged_s", view, false),
            ("detected_down_s", down, false),
            (
                "first_failure_s",
                f.window.first_start.map_or(f64::NAN, |t| t.secs_from(f.at)),
                false,
            ),
            (
                "last_failure_s",
                f.window.last_start.map_or(f64::NAN, |t| t.secs_from(f.at)),
                false,
            ),
        ];
        for (key, got, is_count) in figures {
            let values = measured(&case, key);
            let (lo, hi) = accepted(&values, is_count);
            println!("galera-g1 seed {seed}: {key} predicted {got:.3}, measured {values:?}");
            if !(lo..=hi).contains(&got) {
                problems.push(format!(
                    "seed {seed}: {key} = {got:.3} outside {lo:.3}..{hi:.3}"
                ));
            }
        }
        if !h.lost.is_empty() {
            problems.push(format!(
                "seed {seed}: {} acknowledged writes lost (measured 0)",
                h.lost.len()
            ));
        }
        if h.split_brain_secs() > 0.0 {
            problems.push(format!("seed {seed}: split-brain (measured none)"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_quorum_that_can_never_be_reached_is_refused() {
    let text = "[experiment]\nduration = \"10s\"\n[databases.g]\ntype = \"galera\"\ncount = 3\n[databases.g.pc]\nweights = [0, 0, 0]\n";
    let err = hasim::config::parse(text, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("t.toml:7:") && err.contains("databases.g.pc.weights"),
        "{err}"
    );
    assert!(err.contains("no component can ever be Primary"), "{err}");
}

// ------------------------------------------------- the node cut off alone --

/// The instant (s) of the first event of `kind` about `subject` with `detail`
/// containing `what`.
fn event_with(r: &RunResult, kind: &str, subject: &str, what: &str) -> Option<f64> {
    r.recorder
        .events
        .iter()
        .find(|e| {
            format!("{:?}", e.kind).eq_ignore_ascii_case(kind)
                && e.subject == subject
                && e.detail.contains(what)
        })
        .map(|e| e.at.as_secs_f64())
}

/// g3 cut off alone at 20 s while a client writes to it (its peers' last
/// messages are the answers to its own write-sets, so both fall silent at
/// the cut, within one write interval): `evs`/`extra` override the timers.
fn lone(evs: &str, seed: u64) -> RunResult {
    let text = format!(
        r#"
[experiment]
duration = "40s"
[network]
latency = "0.1ms"
[clients.w3]
type = "open"
target = "g3"
rate = 20
arrivals = "constant"
method = "POST"
timeout = "30s"
[databases.g]
type = "galera"
count = 3
[databases.g.evs]
{evs}
[[faults]]
kind = "partition"
groups = [["g1", "g2"], ["g3"]]
at = "20s"
"#
    );
    run(&text, seed)
}

#[test]
fn the_lone_node_installs_its_non_primary_view_one_join_retransmission_after_gathering() {
    // evs_proto.cpp: check_inactive() declares both silent peers inactive
    // at one check and shift_to(S_GATHER) sends a JOIN it does not handle;
    // handle_retrans_timer() resends and handles it join_retrans_period
    // later, the consensus of one is reached, INSTALL -> OPERATIONAL, and
    // pc_proto.cpp finds no quorum (1 of 3). So, from the fault at t0 with
    // the peers last heard in [t0 - 1/rate, t0]:
    //   gather  = first check after last + suspect  in (t0 + S - 0.05, t0 + S + P]
    //   non-Primary = gather + J exactly.
    let cases = [
        ("", 5.0, 0.5, 1.0),
        (
            "suspect_timeout = \"3s\"\njoin_retrans_period = \"2s\"\ninactive_check_period = \"1s\"\nkeepalive_period = \"1s\"",
            3.0,
            1.0,
            2.0,
        ),
        ("join_retrans_period = \"300ms\"", 5.0, 0.5, 0.3),
    ];
    for (evs, s, p, j) in cases {
        for seed in 1..=4 {
            let r = lone(evs, seed);
            let gather = event_with(&r, "Info", "g3", "OPERATIONAL -> GATHER")
                .unwrap_or_else(|| panic!("{evs:?} seed {seed}: no GATHER"))
                - 20.0;
            let non_primary = event_at(&r, "QuorumLost", "g3")
                .unwrap_or_else(|| panic!("{evs:?} seed {seed}: never non-Primary"))
                - 20.0;
            assert!(
                gather > s - 0.05 - 1e-9 && gather <= s + p + 1e-3,
                "{evs:?} seed {seed}: GATHER at {gather}, formula ({}, {}]",
                s - 0.05,
                s + p
            );
            assert!(
                (non_primary - gather - j).abs() < 1e-3,
                "{evs:?} seed {seed}: non-Primary {non_primary} = GATHER {gather} + {}, want + {j}",
                non_primary - gather
            );
            // The majority keeps a Primary view; never two sides writing.
            assert!(event_at(&r, "QuorumLost", "g1").is_none());
            let h = r.history.as_ref().unwrap();
            assert_eq!(h.split_brain_secs(), 0.0, "{evs:?} seed {seed}");
            assert!(h.lost.is_empty(), "{evs:?} seed {seed}: {:?}", h.lost);
        }
    }
}

#[test]
fn the_lone_node_stalls_writes_until_its_view_then_fails_them_with_1180() {
    let r = lone("", 1);
    let non_primary = event_at(&r, "QuorumLost", "g3").expect("non-Primary") - 20.0;
    let codes = common::db_codes(&r, "db_not_ready");
    let n1180 = codes
        .iter()
        .find(|(c, _)| c == "1180")
        .map_or(0, |(_, n)| *n);
    // Every write started from the cut to the view hung (20/s).
    let want = (non_primary * 20.0).round() as u64;
    assert!(
        n1180.abs_diff(want) <= 2,
        "1180: {n1180}, view at {non_primary}: ~{want} expected; {codes:?}"
    );
    let n1047 = codes
        .iter()
        .find(|(c, _)| c == "1047")
        .map_or(0, |(_, n)| *n);
    assert!(n1047 > 150, "{codes:?}");
}

#[test]
fn galera_partition_lone_matches_the_real_cluster() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation");
    let case: toml::Table =
        std::fs::read_to_string(dir.join("measured/galera-partition-lone.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let spec = hasim::config::load(&dir.join("galera-partition-lone.toml")).unwrap();
    let trials = case["measured"]["trials"].as_integer().unwrap() as u64;
    let mut problems = Vec::new();
    for seed in 1..=trials {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        let f = &r.faults[0];
        let rel = |t: Option<f64>| t.map_or(f64::NAN, |t| t - f.at.as_secs_f64());
        let codes = common::db_codes(&r, "db_not_ready");
        let n1180 = codes
            .iter()
            .find(|(c, _)| c == "1180")
            .map_or(0, |(_, n)| *n);
        let figures = [
            (
                "target_gather_logged_s",
                rel(event_with(&r, "Info", "g3", "OPERATIONAL -> GATHER")),
                false,
            ),
            (
                "target_nonprimary_logged_s",
                rel(event_at(&r, "QuorumLost", "g3")),
                false,
            ),
            (
                "view_size2_logged_s",
                rel(event_at(&r, "Evicted", "g3")),
                false,
            ),
            ("stalled_commits_failed_1180", n1180 as f64, true),
            ("requests_failed", r.recorder.failed as f64, true),
            (
                "first_failure_s",
                f.window.first_start.map_or(f64::NAN, |t| t.secs_from(f.at)),
                false,
            ),
        ];
        for (key, got, is_count) in figures {
            let values = measured(&case, key);
            let (lo, hi) = accepted(&values, is_count);
            println!(
                "galera-partition-lone seed {seed}: {key} predicted {got:.3}, measured {values:?}"
            );
            if !(lo..=hi).contains(&got) {
                problems.push(format!(
                    "seed {seed}: {key} = {got:.3} outside {lo:.3}..{hi:.3}"
                ));
            }
        }
        let h = r.history.as_ref().unwrap();
        if h.split_brain_secs() > 0.0 {
            problems.push(format!("seed {seed}: split-brain (measured none)"));
        }
        if !h.lost.is_empty() {
            problems.push(format!("seed {seed}: {} writes lost", h.lost.len()));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
