//! Same experiment + same seed = same output bytes, whatever else runs in the
//! process: a second run, another simulation interleaved step by step, or
//! another thread. The experiment exercises every random stream: Poisson
//! arrivals, exponential latency jitter, packet loss, nginx and HAProxy, and
//! random (MTBF/MTTR) faults.

use hasim::config::{self, spec::ExperimentSpec};
use hasim::engine::SimTime;
use hasim::report::{self, OUTPUT_FILES, RunResult};
use hasim::sim::Sim;
use std::path::PathBuf;

const MIXED: &str = r#"
[experiment]
name = "determinism-mixed"
duration = "40s"
seed = 7

[network]
latency = { base = "0.1ms", jitter = "50us", jitter_dist = "exponential" }
loss = 0.01

[clients.users]
type = "open"
target = "web"
rate = 40
arrivals = "poisson"
timeout = "5s"

[clients.direct]
type = "open"
target = "lb"
rate = 20
arrivals = "poisson"
method = "POST"
timeout = "5s"

[balancers.web]
preset = "nginx-1.22"
servers = ["app"]
worker_processes = 2
proxy_connect_timeout = "1s"
proxy_read_timeout = "2s"

[apps.app]
count = 2
workers = 16
service = { dist = "exponential", mean = "2ms" }
[[apps.app.calls]]
target = "lb"
connect_timeout = "1s"
timeout = "3s"

[balancers.lb]
preset = "haproxy-2.6"
servers = ["db"]
timeout_connect = "1s"
timeout_server = "3s"
retries = 1
[balancers.lb.default_server]
check = true
inter = "1s"

[servers.db]
count = 3
workers = 8
service = { dist = "lognormal", median = "1ms", p99 = "10ms" }

[[faults]]
kind = "kill"
targets = ["db1", "db2"]
mtbf = "8s"
mttr = { dist = "exponential", mean = "3s" }

[[faults]]
kind = "stop"
target = "app1"
mtbf = "12s"
mttr = "2s"
"#;

/// A second, different experiment, to interleave with the first.
const OTHER: &str = r#"
[experiment]
duration = "30s"
seed = 3
[network]
latency = { base = "0.2ms", jitter = "0.1ms" }
loss = 0.005
[clients.load]
type = "closed"
target = "lb"
vus = 5
iteration = [{ request = "GET" }, { sleep = { dist = "exponential", mean = "50ms" } }]
timeout = "5s"
[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]
[balancers.lb.default_server]
check = true
[servers.s]
count = 2
service = { dist = "exponential", mean = "5ms" }
[[faults]]
kind = "blackhole"
target = "s1"
mtbf = "10s"
mttr = "4s"
"#;

fn spec(text: &str) -> ExperimentSpec {
    config::parse(text, "tests/determinism.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// The four deterministic text outputs of a run.
fn outputs(r: &RunResult) -> [String; 4] {
    [
        report::summary_text(r),
        report::summary_json(r),
        report::timeline_csv(r),
        report::events_csv(r),
    ]
}

const NAMES: [&str; 4] = ["summary.txt", "summary.json", "timeline.csv", "events.csv"];

fn run(spec: &ExperimentSpec, seed: u64) -> [String; 4] {
    let mut sim = Sim::new(spec, seed);
    sim.run();
    outputs(&sim.finish())
}

fn assert_same(a: &[String; 4], b: &[String; 4], what: &str) {
    for ((x, y), name) in a.iter().zip(b).zip(NAMES) {
        assert!(x == y, "{name} differs: {what}");
    }
}

/// The experiment does what it claims: faults of both kinds happen, requests
/// fail and succeed, balancers change their minds.
#[test]
fn the_mixed_experiment_exercises_every_random_stream() {
    let s = spec(MIXED);
    let mut sim = Sim::new(&s, s.seed);
    sim.run();
    let r = sim.finish();
    let rec = &r.recorder;
    assert!(rec.requests > 1500, "{}", rec.requests);
    assert!(rec.failed > 0 && rec.failed < rec.requests);
    let labels: Vec<&str> = r.faults.iter().map(|f| f.label.as_str()).collect();
    for verb in ["kill db1", "kill db2", "stop app1", "restart", "continue"] {
        assert!(
            labels.iter().any(|l| l.starts_with(verb)),
            "no `{verb}` in {labels:?}"
        );
    }
    assert!(
        rec.events.iter().any(|e| e.component == "lb"),
        "HAProxy never changed its mind"
    );
}

#[test]
fn same_experiment_and_seed_give_identical_bytes() {
    let s = spec(MIXED);
    let a = run(&s, s.seed);
    let b = run(&s, s.seed);
    assert_same(&a, &b, "two runs, same seed");
    // Also when the spec is parsed again from the text.
    assert_same(&a, &run(&spec(MIXED), 7), "re-parsed spec");
}

#[test]
fn a_different_seed_gives_different_bytes() {
    let s = spec(MIXED);
    let a = run(&s, 7);
    let b = run(&s, 8);
    // timeline.csv and events.csv do not print the seed: they differ only if
    // the run did.
    for i in 0..4 {
        assert_ne!(a[i], b[i], "{} is the same with seeds 7 and 8", NAMES[i]);
    }
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "hasim-determinism-{tag}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn two_runs_written_to_two_folders_give_identical_files() {
    // MIXED, and a run with databases: its fault panels take their finer
    // bins from the request history.
    let galera = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/experiments/galera-haproxy.toml"
    ))
    .unwrap();
    for (k, text) in [MIXED, galera.as_str()].into_iter().enumerate() {
        let s = spec(text);
        let base = scratch(&format!("write-all-{k}"));
        let dirs = [base.join("a"), base.join("b")];
        let mut files = Vec::new();
        for d in &dirs {
            let mut sim = Sim::new(&s, s.seed);
            sim.run();
            let r = sim.finish();
            files = report::output_files(&r);
            report::write_all(&r, d).unwrap();
        }
        assert!(
            files.len() > OUTPUT_FILES.len(),
            "no fault panel: {files:?}"
        );
        for f in &files {
            let x = std::fs::read(dirs[0].join(f)).unwrap();
            let y = std::fs::read(dirs[1].join(f)).unwrap();
            assert!(!x.is_empty(), "{f} is empty");
            assert!(x == y, "{f} differs between two runs with the same seed");
        }
        std::fs::remove_dir_all(&base).unwrap();
    }
}

/// Runs `a` and `b` in alternation, `step` of simulated time each turn, to
/// their ends. (The loop goes by `end`, not by `run_until`'s return value:
/// that stays `true` while events past the end are pending.)
fn interleaved(a: &mut Sim, b: &mut Sim, step: u64) {
    let end = a.end.max(b.end);
    let mut t = 0;
    while t < end.0 {
        t = (t + step).min(end.0);
        a.run_until(SimTime(t));
        b.run_until(SimTime(t));
    }
}

#[test]
fn interleaved_simulations_share_no_hidden_state() {
    let (m, o) = (spec(MIXED), spec(OTHER));
    let alone_m = run(&m, m.seed);
    let alone_o = run(&o, o.seed);

    // Two different experiments, 100 ms each turn.
    let (mut a, mut b) = (Sim::new(&m, m.seed), Sim::new(&o, o.seed));
    interleaved(&mut a, &mut b, 100_000_000);
    assert_same(&outputs(&a.finish()), &alone_m, "mixed, interleaved");
    assert_same(&outputs(&b.finish()), &alone_o, "other, interleaved");

    // The same experiment twice, built one after the other, in odd steps.
    let (mut a, mut b) = (Sim::new(&m, m.seed), Sim::new(&m, m.seed));
    interleaved(&mut a, &mut b, 7_777_777);
    assert_same(&outputs(&a.finish()), &alone_m, "first copy");
    assert_same(&outputs(&b.finish()), &alone_m, "second copy");
}

#[test]
fn run_until_in_steps_equals_one_run() {
    let m = spec(MIXED);
    let mut sim = Sim::new(&m, m.seed);
    let mut t = 0;
    while t < sim.end.0 {
        t += 333_333_333;
        sim.run_until(SimTime(t));
    }
    assert_same(&outputs(&sim.finish()), &run(&m, m.seed), "in steps");
}

#[test]
fn simulations_on_two_threads_at_once_give_identical_bytes() {
    let m = spec(MIXED);
    let alone = run(&m, m.seed);
    let barrier = std::sync::Barrier::new(2);
    let results: Vec<[String; 4]> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let (m, barrier) = (&m, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    run(m, m.seed)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_same(&results[0], &results[1], "two threads");
    assert_same(&results[0], &alone, "thread vs main thread");
}

/// Every shipped experiment except the long benchmarks, run twice on two
/// threads at once: the same bytes, databases and write history included.
#[test]
fn every_shipped_experiment_is_deterministic_across_threads() {
    let mut files: Vec<PathBuf> = std::fs::read_dir("experiments")
        .expect("experiments/")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.ends_with(".toml") && !name.starts_with("bench-")
        })
        .collect();
    files.sort();
    for f in files {
        let Ok(spec) = config::load(&f) else {
            continue; // a sweep file: its runs are checked by tests/cli/sweep.rs
        };
        let seed = spec.seed;
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| run(&spec, seed));
            let b = s.spawn(|| run(&spec, seed));
            (a.join().expect("run"), b.join().expect("run"))
        });
        assert_same(&a, &b, &f.display().to_string());
    }
}
