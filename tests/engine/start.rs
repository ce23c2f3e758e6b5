//! How a run starts (issue 11 points 7 and 8): a cluster is found formed
//! after a warm-up unless `cold_start`, and each process's timers stand at a
//! phase drawn from the seed unless `aligned`.

use hasim::report::RunResult;
use hasim::sim::Sim;

/// Clients from 0 through HAProxy's `/primary` checks to Patroni + etcd,
/// the leader's host lost at 40 s; `experiment` adds keys to `[experiment]`.
fn patroni(experiment: &str) -> String {
    format!(
        r#"[experiment]
duration = "60s"
{experiment}
[network]
latency = "0.2ms"
[clients.app]
type = "open"
target = "lb"
rate = 50
method = "POST"
timeout = "5s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
option_httpchk = "GET /primary"
[balancers.lb.default_server]
check = true
inter = "3s"
fall = 3
rise = 2
[databases.etcd]
type = "etcd"
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
[[faults]]
kind = "power-off"
target = "pg1"
at = "40s"
"#
    )
}

fn run(text: &str, seed: u64) -> RunResult {
    let spec = hasim::config::parse(text, "start.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    sim.finish()
}

#[test]
fn a_patroni_cluster_starts_formed_and_fails_nothing_before_the_fault() {
    for seed in 1..=5 {
        let r = run(&patroni(""), seed);
        assert_eq!(
            r.recorder.before_faults.failed, 0,
            "seed {seed}: the leader is elected and HAProxy's checks settled at 0"
        );
        assert!(
            r.recorder.requests > 1900,
            "seed {seed}: the load ran from 0"
        );
        // The warm-up's own story (election, key, checks) is not the run's.
        assert!(
            r.recorder.events.iter().all(|e| e.at.as_secs_f64() >= 40.0),
            "seed {seed}: {:?}",
            r.recorder.events.first()
        );
    }
}

#[test]
fn a_cold_start_shows_the_bootstrap_to_the_clients() {
    let r = run(&patroni("cold_start = true"), 1);
    assert!(
        r.recorder.before_faults.failed > 100,
        "no server UP until the key is taken and rise checks pass: {}",
        r.recorder.before_faults.failed
    );
    assert!(r.recorder.events.iter().any(|e| e.at.as_secs_f64() < 20.0));
}

/// HAProxy in front of three servers, s2 killed at 30 s: the check that
/// finds it is at a phase of `inter` that the seed draws.
fn haproxy(experiment: &str) -> String {
    format!(
        r#"[experiment]
duration = "45s"
{experiment}
[clients.c]
type = "open"
target = "lb"
rate = 20
[balancers.lb]
preset = "haproxy-2.6"
mode = "http"
servers = ["s"]
[balancers.lb.default_server]
check = true
inter = "2s"
fall = 3
rise = 2
[servers.s]
count = 3
service = "1ms"
[[faults]]
kind = "kill"
target = "s2"
at = "30s"
"#
    )
}

fn detections(text: &str) -> Vec<f64> {
    (1..=20)
        .map(|seed| {
            let r = run(text, seed);
            let f = &r.faults[0];
            f.detected
                .as_ref()
                .expect("HAProxy notices")
                .at
                .secs_from(f.at)
        })
        .collect()
}

#[test]
fn drawn_phases_spread_detection_over_the_formulas_range_and_aligned_ones_do_not() {
    // Formula: U(0, inter) + (fall - 1) x inter after a refused connect
    // (d = 0): 4..6 s.
    let d = detections(&haproxy(""));
    let (lo, hi) = d
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(lo >= 4.0 - 1e-6 && hi <= 6.0 + 1e-6, "{d:?}");
    assert!(
        hi - lo > 1.4,
        "20 seeds cover most of the 2 s phase range: {d:?}"
    );
    let a = detections(&haproxy("aligned = true"));
    assert!(
        a.iter().all(|&x| x == a[0]),
        "aligned: the same phase every seed: {a:?}"
    );
}

#[test]
fn the_warm_up_is_each_products_formation_summed_or_as_given() {
    let spec = hasim::config::parse(&patroni(""), "start.toml").unwrap();
    // etcd 3 x 1 s + 100 ms, Patroni loop_wait + retry_timeout (10 + 10 s),
    // HAProxy (rise + 1) x (inter + C) with C = inter 3 s.
    assert_eq!(spec.start.warm_up.as_secs_f64(), 3.1 + 20.0 + 18.0);
    assert!(!spec.start.aligned);
    let spec = hasim::config::parse(&patroni("warm_up = \"2m\""), "start.toml").unwrap();
    assert_eq!(spec.start.warm_up.as_secs_f64(), 120.0);
    let spec = hasim::config::parse(&patroni("cold_start = true"), "start.toml").unwrap();
    assert!(spec.start.is_cold() && spec.start.aligned);
    let e = hasim::config::parse(
        &patroni("cold_start = true\nwarm_up = \"10s\""),
        "start.toml",
    )
    .expect_err("a cold start has no warm-up");
    assert_eq!((e.key.as_str(), e.line), ("experiment.warm_up", 4));
    let e = hasim::config::parse(&patroni("cold_start = true\naligned = false"), "start.toml")
        .expect_err("a cold start is aligned");
    assert_eq!((e.key.as_str(), e.line), ("experiment.aligned", 4));
}

#[test]
fn the_summary_says_how_the_run_started() {
    let r = run(&patroni(""), 1);
    let t = hasim::report::summary::summary_text(&r);
    assert!(t.contains("started formed: 41.100s of warm-up"), "{t}");
    let r = run(&patroni("cold_start = true"), 1);
    let t = hasim::report::summary::summary_text(&r);
    assert!(t.contains("cold start: every process boots at 0"), "{t}");
}
