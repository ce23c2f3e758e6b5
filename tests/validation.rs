//! Conformance with the real software: each case of `shared/validation/`
//! (copied to `tests/validation/measured/`) is rebuilt as an experiment in
//! `tests/validation/<case>.toml`, run over as many seeds as there were trials,
//! and every prediction must fall inside the measured range over the trials,
//! widened by 10% or 0.3 s, whichever is larger (the pass rule of
//! `shared/validation/README.md`). Failed-request counts are widened by 10%.

use hasim::engine::SimTime;
use hasim::metrics::EventKind;
use hasim::report::RunResult;
use hasim::sim::Sim;
use std::path::Path;

/// Predicted figures of one run, relative to the first fault action.
#[derive(Debug)]
struct Prediction {
    failed: f64,
    first_failure_s: f64,
    last_failure_s: f64,
    detected_down_s: f64,
    recovered_up_s: f64,
    /// A database member took the leader role (Patroni's lock, ...).
    elected_s: f64,
    /// A database member was promoted (accepts writes).
    promoted_s: f64,
}

fn predict(r: &RunResult) -> Prediction {
    let fault = &r.faults[0];
    let rel = |t: Option<SimTime>, at: SimTime| t.map_or(f64::NAN, |t| t.secs_from(at));
    let recovery = r.faults.iter().find(|f| f.is_recovery);
    let event = |kind: EventKind| {
        r.recorder
            .events
            .iter()
            .find(|e| e.kind == kind && e.at >= fault.at)
            .map_or(f64::NAN, |e| e.at.secs_from(fault.at))
    };
    Prediction {
        failed: r.recorder.failed as f64,
        first_failure_s: rel(fault.window.first_start, fault.at),
        last_failure_s: rel(fault.window.last_start, fault.at),
        detected_down_s: rel(fault.detected.as_ref().map(|d| d.at), fault.at),
        recovered_up_s: recovery.map_or(f64::NAN, |f| rel(f.detected.as_ref().map(|d| d.at), f.at)),
        elected_s: event(EventKind::Elected),
        promoted_s: event(EventKind::Promoted),
    }
}

/// The measured values of one figure over the trials (NaN = did not
/// happen); `None` when the case did not measure it.
fn measured(case: &toml::Table, key: &str) -> Option<Vec<f64>> {
    let values = case["measured"].get(key)?.as_array()?;
    Some(
        values
            .iter()
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
            .collect(),
    )
}

/// The accepted range for a figure: measured min..max widened per the rule.
fn accepted(values: &[f64], is_count: bool) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return None; // never happened in the real runs: must not happen here
    }
    let (lo, hi) = v
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    if is_count {
        Some(((lo * 0.9).floor(), (hi * 1.1).ceil()))
    } else {
        let w = |x: f64| (x.abs() * 0.1).max(0.3);
        Some((lo - w(lo), hi + w(hi)))
    }
}

fn check_case(id: &str) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation");
    let case: toml::Table =
        std::fs::read_to_string(dir.join("measured").join(format!("{id}.toml")))
            .unwrap()
            .parse()
            .unwrap();
    let spec = hasim::config::load(&dir.join(format!("{id}.toml"))).unwrap();
    let trials = case["measured"]["trials"].as_integer().unwrap() as u64;
    let mut problems = Vec::new();
    for seed in 1..=trials {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let p = predict(&sim.finish());
        let figures = [
            ("requests_failed", p.failed, true),
            ("first_failure_s", p.first_failure_s, false),
            ("last_failure_s", p.last_failure_s, false),
            ("detected_down_s", p.detected_down_s, false),
            ("recovered_up_s", p.recovered_up_s, false),
            ("elected_s", p.elected_s, false),
            ("promoted_s", p.promoted_s, false),
        ];
        for (key, got, is_count) in figures {
            let Some(values) = measured(&case, key) else {
                continue; // not measured in this case
            };
            let range = accepted(&values, is_count);
            let ok = match range {
                None => got.is_nan(),
                Some((lo, hi)) => got >= lo && got <= hi,
            };
            println!("{id} seed {seed}: {key} predicted {got:.3}, measured {values:?}");
            if !ok {
                problems.push(format!(
                    "{id} seed {seed}: {key} = {got:.3} outside {range:?}"
                ));
            }
        }
    }
    problems
}

#[test]
fn haproxy_http_kill_inter2_matches_the_real_haproxy() {
    let p = check_case("haproxy-http-kill-inter2");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn haproxy_http_kill_retries_redispatch_matches_the_real_haproxy() {
    let p = check_case("haproxy-http-kill-retries-redispatch");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn nginx_kill_defaults_matches_the_real_nginx() {
    let p = check_case("nginx-kill-defaults");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn nginx_stop_defaults_matches_the_real_nginx() {
    let p = check_case("nginx-stop-defaults");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn haproxy_http_stop_httpchk_matches_the_real_haproxy_measured_here() {
    let p = check_case("haproxy-http-stop-httpchk");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn nginx_stop_post_matches_the_real_nginx_measured_here() {
    let p = check_case("nginx-stop-post");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn redis_cluster_kill_nt5000_matches_the_real_redis() {
    let p = check_case("redis-cluster-kill-nt5000");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn keepalived_stop_master_matches_the_real_keepalived_measured_here() {
    let p = check_case("keepalived-stop-master");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn redis_sentinel_kill_dam5000_matches_the_real_sentinel() {
    let p = check_case("redis-sentinel-kill-dam5000");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn keepalived_term_master_matches_the_real_keepalived_measured_here() {
    let p = check_case("keepalived-term-master");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn redis_sentinel_stop_dam5000_matches_the_real_sentinel_measured_here() {
    let p = check_case("redis-sentinel-stop-dam5000");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn redis_cluster_stop_nt5000_matches_the_real_redis_measured_here() {
    let p = check_case("redis-cluster-stop-nt5000");
    assert!(p.is_empty(), "{p:#?}");
}

/// A figure of a case without a fault: its key in the measured file, how
/// to read it from a run, and whether it is a count.
type Figure = (&'static str, fn(&RunResult) -> f64, bool);

/// The `load` client's failed requests.
fn load_failed(r: &RunResult) -> f64 {
    client(r, "load").failed as f64
}

fn client<'a>(r: &'a RunResult, name: &str) -> &'a hasim::metrics::ClientStats {
    r.recorder.clients.iter().find(|c| c.name == name).unwrap()
}

fn failed_but_committed(r: &RunResult) -> f64 {
    r.history.as_ref().map_or(0, |h| h.failed_committed) as f64
}

fn patient_p50_ms(r: &RunResult) -> f64 {
    client(r, "patient").ok_latency.quantile_ms(0.5)
}

fn patient_max_ms(r: &RunResult) -> f64 {
    client(r, "patient").ok_latency.max_ms()
}

/// The cases about clients that give up (no fault): each figure predicted
/// per seed must fall in the measured range, widened as `accepted` says
/// (latencies in ms, widened by 10% or 300 ms).
fn check_figures(id: &str, figures: &[Figure]) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation");
    let case: toml::Table =
        std::fs::read_to_string(dir.join("measured").join(format!("{id}.toml")))
            .unwrap()
            .parse()
            .unwrap();
    let spec = hasim::config::load(&dir.join(format!("{id}.toml"))).unwrap();
    let trials = case["measured"]["trials"].as_integer().unwrap() as u64;
    let mut problems = Vec::new();
    for seed in 1..=trials {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        for &(key, read, is_count) in figures {
            let values = measured(&case, key).unwrap_or_else(|| panic!("{id}: {key} measured"));
            let got = read(&r);
            let range = if is_count {
                accepted(&values, true)
            } else {
                // Milliseconds: the 0.3 s floor of the rule is 300 ms here.
                let s: Vec<f64> = values.iter().map(|v| v / 1000.0).collect();
                accepted(&s, false).map(|(lo, hi)| (lo * 1000.0, hi * 1000.0))
            };
            println!("{id} seed {seed}: {key} predicted {got:.3}, measured {values:?}");
            if !range.is_some_and(|(lo, hi)| got >= lo && got <= hi) {
                problems.push(format!(
                    "{id} seed {seed}: {key} = {got:.3} outside {range:?}"
                ));
            }
        }
    }
    problems
}

const QUEUE_FIGURES: &[Figure] = &[
    ("requests_failed", load_failed, true),
    ("failed_but_committed", failed_but_committed, true),
    ("patient_latency_ms_p50", patient_p50_ms, false),
    ("patient_latency_ms_max", patient_max_ms, false),
];

#[test]
fn haproxy_queue_client_gone_matches_the_real_haproxy_measured_here() {
    let p = check_figures("haproxy-queue-client-gone", QUEUE_FIGURES);
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn haproxy_queue_abortonclose_matches_the_real_haproxy_measured_here() {
    let p = check_figures("haproxy-queue-abortonclose", QUEUE_FIGURES);
    assert!(p.is_empty(), "{p:#?}");
}

const NGINX_ABORT_FIGURES: &[Figure] = &[
    ("requests_failed", load_failed, true),
    ("failed_but_committed", failed_but_committed, true),
];

#[test]
fn nginx_client_gone_matches_the_real_nginx_measured_here() {
    let p = check_figures("nginx-client-gone", NGINX_ABORT_FIGURES);
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn nginx_ignore_client_abort_matches_the_real_nginx_measured_here() {
    let p = check_figures("nginx-ignore-client-abort", NGINX_ABORT_FIGURES);
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn keepalived_link_down_of_its_own_interface_matches_the_real_keepalived_measured_here() {
    let p = check_case("keepalived-link-own");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn keepalived_unweighted_tracked_uplink_matches_the_real_keepalived_measured_here() {
    let p = check_case("keepalived-link-uplink");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn keepalived_weighted_tracked_uplink_matches_the_real_keepalived_measured_here() {
    let p = check_case("keepalived-link-weight");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn patroni_kill_postmaster_matches_the_real_patroni_measured_here() {
    let p = check_case("patroni-kill-postmaster");
    assert!(p.is_empty(), "{p:#?}");
}

#[test]
fn patroni_switchover_matches_the_real_patroni_measured_here() {
    let p = check_case("patroni-switchover");
    assert!(p.is_empty(), "{p:#?}");
}

/// Issue 10 point 7, measured here on Debian's Patroni 3.0.2 with 3 etcd
/// members (tests/validation/measured/patroni-3.0.2-blackhole.toml): the
/// leader's host cut off for H s. Each trial is one heal time, so the pass
/// rule is applied to the model's spread: over 4 seeds with the same heal,
/// a trial that lost nothing must lose nothing in every seed, and a trial's
/// loss must lie within the seeds' min..max widened by 10 %.
#[test]
fn patroni_3_0_2_blackhole_loses_what_the_real_patroni_lost_measured_here() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let case: toml::Table =
        std::fs::read_to_string(dir.join("tests/validation/measured/patroni-3.0.2-blackhole.toml"))
            .unwrap()
            .parse()
            .unwrap();
    let text =
        std::fs::read_to_string(dir.join("experiments/patroni-3.0.2-blackhole.toml")).unwrap();
    let text = text.split("\n[sweep]").next().unwrap();
    let heals = measured(&case, "heal_after_s").unwrap();
    let lost = measured(&case, "acked_writes_lost").unwrap();
    let mut problems = Vec::new();
    for (h, want) in heals.iter().zip(&lost) {
        // The model's cut is at 60 s; the heal to the whole second.
        let heal = format!("\"{}s\"", 60 + h.round() as u64);
        let o = [("faults[0].recover_at".to_string(), heal)];
        let spec = hasim::config::parse_with_overrides(text, "bh.toml", &o).unwrap();
        let got: Vec<f64> = (1..=4)
            .map(|seed| {
                let mut sim = Sim::new(&spec, seed);
                sim.run();
                sim.finish().history.unwrap().lost.len() as f64
            })
            .collect();
        let (lo, hi) = got
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        println!("heal {h:.0} s: measured {want} lost, predicted {got:?}");
        let ok = match *want == 0.0 {
            true => hi == 0.0,
            false => (lo * 0.9..=hi * 1.1).contains(want),
        };
        if !ok {
            problems.push(format!("heal {h:.0} s: measured {want}, predicted {got:?}"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
