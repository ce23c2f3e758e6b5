//! `hasim sweep`, `hasim merge` and `hasim diff` through the binary: the same
//! bytes at any thread count, shards that merge into the bytes of one run,
//! bad sweep input refused with nothing written, Ctrl-C keeping finished
//! runs, and baselines that pass or fail. Each test works in its own folder.

use crate::common;

use common::{hasim, show, text};
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A small experiment: 20 s, one killed server behind HAProxy, restarted.
pub(crate) const EXPERIMENT: &str = r#"[experiment]
name = "small"
duration = "20s"
seed = 3

[clients.c]
type = "open"
target = "lb"
rate = 40

[balancers.lb]
preset = "haproxy-2.6"
mode = "http"
servers = ["s"]
[balancers.lb.default_server]
check = true

[servers.s]
count = 2
service = "2ms"

[[faults]]
kind = "kill"
target = "s2"
at = "5s"
recover_at = "12s"
"#;

/// 3 x 2 points x 3 replications, with jitter fixed for every point.
const SWEEP: &str = r#"experiment = "small.toml"

[sweep]
name = "small-sweep"
replications = 3
plot = ["f1_detect_s", "failed"]

[sweep.set]
"network.latency" = { base = "0.1ms", jitter = "1ms" }

[sweep.params]
"balancers.lb.default_server.inter" = { from = "200ms", to = "2s", points = 3, log = true }
"balancers.lb.default_server.fall" = [1, 3]
"#;

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hasim-sweep-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("small.toml"), EXPERIMENT).unwrap();
    fs::write(d.join("sweep.toml"), SWEEP).unwrap();
    d
}

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    o
}

#[test]
fn one_and_two_threads_write_the_same_bytes() {
    let d = scratch("threads");
    let o = ok(hasim(&d, &["sweep", "sweep.toml", "-j", "1", "-o", "j1"]));
    assert!(text(&o.stdout).contains("6 points x 3 replications = 18 runs"));
    // Not a terminal: no progress bar, but the plan comes before the runs.
    assert!(!text(&o.stderr).contains("ETA"), "{}", show(&o));
    let err = text(&o.stderr);
    let plan = err
        .find("sweep small-sweep: 6 points x 3 replications = 18 runs\n")
        .unwrap_or_else(|| panic!("no plan on stderr: {}", show(&o)));
    assert!(plan < err.find("runs in").unwrap(), "{}", show(&o));
    let q = ok(hasim(&d, &["sweep", "sweep.toml", "-q", "-o", "quiet"]));
    assert!(!text(&q.stderr).contains("points x"), "{}", show(&q));
    ok(hasim(&d, &["sweep", "sweep.toml", "-j", "2", "-o", "j2"]));
    common::assert_same_sweep(&d.join("j1"), &d.join("j2"));

    let files = common::sweep_snapshot(&d.join("j1"));
    for f in [
        "sweep.json",
        "runs.csv",
        "points.csv",
        "f1_detect_s.png",
        "f1_detect_s.svg",
        "f1_detect_s-heatmap.png",
        "failed-heatmap.svg",
    ] {
        assert!(files.contains_key(f), "{f} missing: {:?}", files.keys());
    }
    let runs = text(&files["runs.csv"]);
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 19, "{runs}");
    assert!(lines[0].starts_with(
        "point,replication,seed,balancers.lb.default_server.inter,balancers.lb.default_server.inter_s,balancers.lb.default_server.fall,requests,ok,failed,"
    ));
    assert!(lines[0].contains(",false_failovers,lost_writes,failed_but_committed,stale_reads,split_brain_s,no_primary_s,f1_detect_s,"));
    assert!(lines[1].starts_with("0,0,"), "{}", lines[1]);
    assert!(lines[4].contains(",200ms,0.2,3,"), "{}", lines[4]);
    assert!(lines[18].starts_with("5,2,") && lines[18].contains(",2s,2,3,"));
    // Seeds differ by point and replication.
    let seeds: std::collections::BTreeSet<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').nth(2).unwrap())
        .collect();
    assert_eq!(seeds.len(), 18);
    let points = text(&files["points.csv"]);
    assert!(points.starts_with(
        "point,balancers.lb.default_server.inter,balancers.lb.default_server.inter_s,balancers.lb.default_server.fall,metric,n,mean,sd,p5,p50,p95,ci95_lo,ci95_hi\n"
    ));
    assert!(points.contains("\n0,200ms,0.2,1,requests,3,"), "{points}");
    let info: serde_json::Value = serde_json::from_slice(&files["sweep.json"]).unwrap();
    assert_eq!(info["runs"], 18);
    assert_eq!(info["complete"], true);
    assert_eq!(info["params"][0]["values"][1], "632ms");

    // --replications replaces the file's count.
    let o = ok(hasim(
        &d,
        &["sweep", "sweep.toml", "--replications", "1", "-o", "r1"],
    ));
    assert!(text(&o.stdout).contains("= 6 runs"), "{}", show(&o));
    fs::remove_dir_all(&d).unwrap();
}

/// `replications = N` and nothing swept: N seeds of the experiment itself,
/// one point, in every output.
#[test]
fn replications_without_a_swept_key_run_the_base_experiment() {
    let d = scratch("seeds");
    let seeds = "experiment = \"small.toml\"\n[sweep]\nreplications = 4\nplot = [\"failed\"]\n";
    fs::write(d.join("seeds.toml"), seeds).unwrap();
    let o = ok(hasim(&d, &["sweep", "seeds.toml", "-j", "2", "-o", "s"]));
    assert!(
        text(&o.stderr).contains("sweep seeds: 1 point x 4 replications = 4 runs"),
        "{}",
        show(&o)
    );
    let files = common::sweep_snapshot(&d.join("s"));
    let runs = text(&files["runs.csv"]);
    let lines: Vec<&str> = runs.lines().collect();
    assert_eq!(lines.len(), 5, "{runs}");
    assert!(
        lines[0].starts_with("point,replication,seed,requests,"),
        "{runs}"
    );
    assert!(lines[4].starts_with("0,3,"), "{runs}");
    let points = text(&files["points.csv"]);
    assert!(points.starts_with("point,metric,n,mean,"), "{points}");
    assert!(points.contains("\n0,failed,4,"), "{points}");
    let info: serde_json::Value = serde_json::from_slice(&files["sweep.json"]).unwrap();
    assert_eq!(
        (info["points"].clone(), info["runs"].clone()),
        (1.into(), 4.into())
    );
    // Shards of it merge back into the same bytes.
    for k in 0..2 {
        let shard = format!("{k}/2");
        ok(hasim(
            &d,
            &[
                "sweep",
                "seeds.toml",
                "--shard",
                &shard,
                "-o",
                &format!("p{k}"),
            ],
        ));
    }
    ok(hasim(&d, &["merge", "p0", "p1", "-o", "m"]));
    common::assert_same_sweep(&d.join("s"), &d.join("m"));
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn shards_merge_into_the_bytes_of_one_run() {
    let d = scratch("shards");
    ok(hasim(&d, &["sweep", "sweep.toml", "-o", "whole"]));
    for k in 0..3 {
        ok(hasim(
            &d,
            &[
                "sweep",
                "sweep.toml",
                "--shard",
                &format!("{k}/3"),
                "-j",
                "1",
            ],
        ));
    }
    let part = d.join("output/small-sweep.shard-1-of-3");
    let names: Vec<String> = common::sweep_snapshot(&part).into_keys().collect();
    assert_eq!(names, ["runs.csv", "sweep.json"]);
    assert_eq!(
        text(&fs::read(part.join("runs.csv")).unwrap())
            .lines()
            .count(),
        7
    );
    // Merged in any order.
    let o = ok(hasim(
        &d,
        &[
            "merge",
            "output/small-sweep.shard-2-of-3",
            "output/small-sweep.shard-0-of-3",
            "output/small-sweep.shard-1-of-3",
            "-o",
            "merged",
        ],
    ));
    assert!(text(&o.stdout).contains("18 of 18 runs"), "{}", show(&o));
    common::assert_same_sweep(&d.join("whole"), &d.join("merged"));

    // Two parts only: written, but marked incomplete.
    let o = ok(hasim(
        &d,
        &[
            "merge",
            "output/small-sweep.shard-0-of-3",
            "output/small-sweep.shard-1-of-3",
            "-o",
            "partial",
        ],
    ));
    assert!(text(&o.stdout).contains("12 of 18 runs (incomplete"));
    let info: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("partial/sweep.json")).unwrap()).unwrap();
    assert_eq!(info["complete"], false);

    // A part of another sweep is refused, and nothing is written.
    fs::write(d.join("other.toml"), SWEEP.replace("[1, 3]", "[1, 2]")).unwrap();
    ok(hasim(
        &d,
        &["sweep", "other.toml", "--shard", "0/3", "-o", "other"],
    ));
    let o = hasim(
        &d,
        &[
            "merge",
            "output/small-sweep.shard-1-of-3",
            "other",
            "-o",
            "mixed",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("another sweep"), "{}", show(&o));
    assert!(!d.join("mixed").exists());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn bad_sweep_input_exits_2_and_writes_nothing() {
    let d = scratch("bad");
    let cases = [
        // (replace, with, expected in the message)
        (
            "\"balancers.lb.default_server.fall\" = [1, 3]",
            "\"balancers.lb.default_server.fall\" = [1, 0]",
            "bad.toml:13:42: balancers.lb.default_server.fall: value 0: must be at least 1, got 0",
        ),
        (
            "\"balancers.lb.default_server.fall\" = [1, 3]",
            "\"balancers.lb.default_server.fal\" = [1, 3]",
            "did you mean `fall`?",
        ),
        (
            "points = 3, log = true",
            "step = 3",
            "bad.toml:12:75: balancers.lb.default_server.inter: `step` must be of the same kind",
        ),
        (
            "replications = 3",
            "replications = 0",
            "bad.toml:5:16: sweep.replications: expected an integer from 1",
        ),
        (
            "jitter = \"1ms\"",
            "jitter = \"1 parsec\"",
            "network.latency.jitter",
        ),
        (
            "experiment = \"small.toml\"",
            "experiment = \"nope.toml\"",
            "nope.toml: cannot read the file",
        ),
        (
            "plot = [\"f1_detect_s\", \"failed\"]",
            "plot = [\"faild\"]",
            "no metric `faild`; did you mean `failed`?",
        ),
        (
            "\"balancers.lb.default_server.fall\"",
            "\"balancers.haproxy.default_server.fall\"",
            "bad.toml:13:1: balancers.haproxy.default_server.fall: no balancer `haproxy`; the balancers are: lb (did you mean `lb`?)",
        ),
    ];
    for (from, to, want) in cases {
        assert!(SWEEP.contains(from), "{from}");
        fs::write(d.join("bad.toml"), SWEEP.replace(from, to)).unwrap();
        let o = hasim(&d, &["sweep", "bad.toml"]);
        assert_eq!(o.status.code(), Some(2), "{to}: {}", show(&o));
        let err = text(&o.stderr);
        assert!(err.contains(want), "{to}: wanted {want:?}\n{}", show(&o));
        assert!(err.starts_with("error: "), "{err}");
        assert!(!d.join("output").exists(), "{to}: output written");
    }
    let o = hasim(&d, &["sweep", "small.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("no `[sweep]` table"),
        "{}",
        show(&o)
    );
    let o = hasim(&d, &["sweep", "sweep.toml", "--shard", "3/3"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(!d.join("output").exists());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn run_takes_the_base_point_of_a_sweep() {
    let d = scratch("base");
    // A sweep file: the named experiment with [sweep.set], named <sweep>-base.
    let o = ok(hasim(&d, &["run", "sweep.toml", "-o", "base", "--metrics"]));
    assert!(
        text(&o.stdout).contains("experiment small-sweep-base (seed 3"),
        "{}",
        show(&o)
    );
    let m: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("base/metrics.json")).unwrap()).unwrap();
    assert!(m["requests"].as_f64().unwrap() > 500.0);
    assert!(m["f1_detect_s"].as_f64().unwrap() > 0.0);
    // An experiment with a [sweep] table runs as if it had none.
    let embedded = format!(
        "{EXPERIMENT}\n[sweep]\nreplications = 2\n[sweep.params]\n\"balancers.lb.default_server.fall\" = [1, 2]\n"
    );
    fs::write(d.join("embedded.toml"), embedded).unwrap();
    ok(hasim(&d, &["run", "embedded.toml", "-o", "a", "--metrics"]));
    ok(hasim(&d, &["run", "small.toml", "-o", "b", "--metrics"]));
    for f in ["summary.json", "timeline.csv", "events.csv", "metrics.json"] {
        assert!(
            fs::read(d.join("a").join(f)).unwrap() == fs::read(d.join("b").join(f)).unwrap(),
            "{f}"
        );
    }
    // And sweeps as `small-sweep` by default, into output/small-sweep/.
    let o = ok(hasim(&d, &["sweep", "embedded.toml", "-j", "2"]));
    assert!(
        text(&o.stdout).contains("sweep small-sweep: 2 points x 2 replications"),
        "{}",
        show(&o)
    );
    assert!(d.join("output/small-sweep/points.csv").exists());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn diff_passes_on_the_same_run_and_fails_beyond_tolerance() {
    let d = scratch("diff");
    // Without --metrics there is nothing to compare.
    ok(hasim(&d, &["run", "small.toml", "-o", "out"]));
    let o = hasim(&d, &["diff", "--update", "baselines/small.json", "out"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("hasim run --metrics"),
        "{}",
        show(&o)
    );
    assert!(!d.join("baselines").exists());
    ok(hasim(&d, &["run", "small.toml", "-o", "out", "--metrics"]));
    let o = ok(hasim(
        &d,
        &["diff", "--update", "baselines/small.json", "out"],
    ));
    assert!(text(&o.stdout).contains("baseline written"), "{}", show(&o));
    let o = ok(hasim(&d, &["diff", "baselines/small.json", "out"]));
    let s = text(&o.stdout);
    assert!(s.contains("PASS: 0 of "), "{s}");
    assert!(s.contains("requests"), "{s}");
    assert!(d.join("out/diff.png").exists() && d.join("out/diff.svg").exists());

    // Another model: the new run detects later and fails more.
    let slower = EXPERIMENT.replace("check = true", "check = true\ninter = \"5s\"");
    fs::write(d.join("small.toml"), slower).unwrap();
    ok(hasim(&d, &["run", "small.toml", "-o", "new", "--metrics"]));
    let o = hasim(
        &d,
        &[
            "diff",
            "baselines/small.json",
            "new",
            "--plot",
            "plots/overlay.png",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let s = text(&o.stdout);
    assert!(
        s.contains("f1_detect_s") && s.contains("<< beyond tolerance"),
        "{s}"
    );
    assert!(s.contains("FAIL: "), "{s}");
    assert!(
        text(&o.stderr).contains("hasim diff --update"),
        "{}",
        show(&o)
    );
    assert!(d.join("plots/overlay.png").exists() && d.join("plots/overlay.svg").exists());

    // Edited tolerances survive an update.
    let b = fs::read_to_string(d.join("baselines/small.json")).unwrap();
    let edited = b.replacen("\"abs\": 3,", "\"abs\": 7,", 1);
    assert_ne!(b, edited);
    fs::write(d.join("baselines/small.json"), &edited).unwrap();
    ok(hasim(
        &d,
        &["diff", "--update", "baselines/small.json", "new"],
    ));
    let again = fs::read_to_string(d.join("baselines/small.json")).unwrap();
    assert!(again.contains("\"abs\": 7,"), "{again}");
    ok(hasim(&d, &["diff", "baselines/small.json", "new"]));

    // A baseline of another experiment, or a missing folder: bad input.
    let o = hasim(&d, &["diff", "baselines/small.json", "nowhere"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    fs::remove_dir_all(&d).unwrap();
}

#[cfg(unix)]
#[test]
fn ctrl_c_writes_the_finished_runs() {
    let d = scratch("interrupt");
    fs::write(
        d.join("long.toml"),
        SWEEP
            .replace("replications = 3", "replications = 2000")
            .replace("name = \"small-sweep\"", "name = \"long\""),
    )
    .unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["sweep", "long.toml", "-j", "1", "-o", "long"])
        .current_dir(&d)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", show(&o));
    assert!(text(&o.stderr).contains("interrupted"), "{}", show(&o));
    let info: serde_json::Value =
        serde_json::from_slice(&fs::read(d.join("long/sweep.json")).unwrap()).unwrap();
    assert_eq!(info["complete"], false);
    let done = info["runs_done"].as_u64().unwrap();
    assert!(done < 12_000, "{done}");
    let rows = text(&fs::read(d.join("long/runs.csv")).unwrap())
        .lines()
        .count() as u64;
    assert_eq!(rows, done + 1);
    assert!(d.join("long/points.csv").exists());
    fs::remove_dir_all(&d).unwrap();
}
