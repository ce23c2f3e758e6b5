//! Finished runs are never lost, and what `hasim merge` reads back is
//! checked: a sweep killed (SIGKILL) or stopped (SIGTERM, as Slurm and
//! Kubernetes do) midway and continued with `--resume` ends with the bytes
//! of an uninterrupted sweep; an interrupted re-run keeps a complete earlier
//! result; crafted or damaged `sweep.json` / `runs.csv` are refused with
//! exit 2; `sweep.json` does not depend on how the sweep file was named.

#![cfg(unix)]

use crate::common;

use common::{hasim, show, text};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use super::sweep::EXPERIMENT;

/// 3 x 2 points; REPS replaced per test.
const SWEEP: &str = r#"experiment = "small.toml"

[sweep]
name = "small-sweep"
replications = REPS
plot = ["f1_detect_s", "failed"]

[sweep.set]
"network.latency" = { base = "0.1ms", jitter = "1ms" }

[sweep.params]
"balancers.lb.default_server.inter" = { from = "200ms", to = "2s", points = 3, log = true }
"balancers.lb.default_server.fall" = [1, 3]
"#;

/// Replications of the long sweep: 6 x 400 = 2,400 runs, a few seconds on
/// one thread, so a signal lands midway.
const LONG: u32 = 400;

fn scratch(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("hasim-resume-{test}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("small.toml"), EXPERIMENT).unwrap();
    fs::write(d.join("sweep.toml"), SWEEP.replace("REPS", "3")).unwrap();
    fs::write(
        d.join("long.toml"),
        SWEEP.replace("REPS", &LONG.to_string()),
    )
    .unwrap();
    d
}

fn ok(o: Output) -> Output {
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    o
}

fn refused(o: Output, want: &str) -> String {
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(err.contains(want), "wanted {want:?}\n{}", show(&o));
    assert!(err.starts_with("error: "), "{err}");
    err
}

fn spawn(d: &Path, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(args)
        .current_dir(d)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Finished runs in the journal of output folder `out` (in `d`).
fn journaled(d: &Path, out: &str) -> usize {
    fs::read_to_string(d.join(format!(".{out}.partial/journal")))
        .map_or(0, |t| t.lines().filter(|l| l.starts_with("run ")).count())
}

/// Sends `signal` once the journal of `out` holds some runs (midway).
fn signal_midway(d: &Path, child: Child, out: &str, signal: &str) -> Output {
    let start = Instant::now();
    while journaled(d, out) < 50 {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no runs journaled"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait_with_output().unwrap()
}

fn info(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&fs::read(dir.join("sweep.json")).unwrap()).unwrap()
}

#[test]
fn sigkill_then_resume_gives_the_bytes_of_one_sweep() {
    let d = scratch("kill");
    ok(hasim(&d, &["sweep", "long.toml", "-j", "2", "-o", "whole"]));
    assert!(!d.join(".whole.partial").exists(), "journal left behind");

    let child = spawn(&d, &["sweep", "long.toml", "-j", "1", "-o", "out"]);
    let o = signal_midway(&d, child, "out", "-KILL");
    assert_eq!(o.status.code(), None, "{}", show(&o));
    let kept = journaled(&d, "out");
    assert!(
        kept >= 50 && kept < 6 * LONG as usize,
        "{kept} runs journaled"
    );
    // Nothing half-written in place of the output.
    assert!(!d.join("out").exists());

    // Starting over by accident is refused; another plan is refused.
    let err = refused(
        hasim(&d, &["sweep", "long.toml", "-o", "out"]),
        "an interrupted sweep left",
    );
    assert!(err.contains("--resume") && err.contains("--force"), "{err}");
    let err = refused(
        hasim(
            &d,
            &[
                "sweep",
                "long.toml",
                "-o",
                "out",
                "--resume",
                "--replications",
                "2",
            ],
        ),
        "of another sweep",
    );
    assert!(err.contains("replications"), "{err}");
    assert!(!d.join("out").exists());

    let o = ok(hasim(
        &d,
        &["sweep", "long.toml", "-j", "2", "-o", "out", "--resume"],
    ));
    assert!(
        text(&o.stdout).contains(&format!("= {} runs", 6 * LONG)),
        "{}",
        show(&o)
    );
    common::assert_same_sweep(&d.join("whole"), &d.join("out"));
    assert!(!d.join(".out.partial").exists(), "journal left behind");
    // No leftovers of the killed run beside it.
    let mut names: Vec<String> = fs::read_dir(&d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["long.toml", "out", "small.toml", "sweep.toml", "whole"]
    );
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sigterm_writes_the_finished_runs_and_resume_completes_them() {
    let d = scratch("term");
    let child = spawn(&d, &["sweep", "long.toml", "-j", "1", "-o", "out"]);
    let o = signal_midway(&d, child, "out", "-TERM");
    assert_eq!(o.status.code(), Some(130), "{}", show(&o));
    let err = text(&o.stderr);
    assert!(
        err.contains("wrote the") && err.contains(".out.partial") && err.contains("--resume"),
        "{err}"
    );
    let i = info(&d.join("out"));
    assert_eq!(i["complete"], false);
    let done = i["runs_done"].as_u64().unwrap() as usize;
    assert_eq!(done, journaled(&d, "out"));
    assert_eq!(
        text(&fs::read(d.join("out/runs.csv")).unwrap())
            .lines()
            .count(),
        done + 1
    );

    // A shard of the same sweep has its own journal and output.
    ok(hasim(
        &d,
        &["sweep", "sweep.toml", "--shard", "0/2", "-o", "part"],
    ));

    ok(hasim(
        &d,
        &["sweep", "long.toml", "-j", "2", "-o", "out", "--resume"],
    ));
    ok(hasim(&d, &["sweep", "long.toml", "-j", "2", "-o", "whole"]));
    common::assert_same_sweep(&d.join("whole"), &d.join("out"));
    assert!(!d.join(".out.partial").exists());

    // --resume with nothing to resume runs the whole sweep.
    ok(hasim(
        &d,
        &["sweep", "sweep.toml", "-o", "fresh", "--resume"],
    ));
    assert_eq!(info(&d.join("fresh"))["complete"], true);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn an_interrupted_rerun_keeps_a_complete_earlier_result() {
    let d = scratch("keep");
    ok(hasim(&d, &["sweep", "long.toml", "-j", "2", "-o", "out"]));
    let before = common::sweep_snapshot(&d.join("out"));

    let child = spawn(&d, &["sweep", "long.toml", "-j", "1", "-o", "out"]);
    let o = signal_midway(&d, child, "out", "-TERM");
    assert_eq!(o.status.code(), Some(130), "{}", show(&o));
    assert!(
        common::sweep_snapshot(&d.join("out")) == before,
        "complete result replaced"
    );
    let err = text(&o.stderr);
    assert!(
        err.contains("kept the complete earlier result") && err.contains("--resume"),
        "{err}"
    );
    let kept = journaled(&d, "out");
    assert!(kept >= 50, "{kept}");

    // The journal still resumes, to the same bytes.
    ok(hasim(
        &d,
        &["sweep", "long.toml", "-j", "2", "-o", "out", "--resume"],
    ));
    assert!(common::sweep_snapshot(&d.join("out")) == before);

    // With --force, an interrupted re-run does replace it.
    let child = spawn(
        &d,
        &["sweep", "long.toml", "-j", "1", "-o", "out", "--force"],
    );
    let o = signal_midway(&d, child, "out", "-TERM");
    assert_eq!(o.status.code(), Some(130), "{}", show(&o));
    assert_eq!(info(&d.join("out"))["complete"], false);
    // And --force without --resume starts over, dropping the journal.
    ok(hasim(&d, &["sweep", "sweep.toml", "-o", "out", "--force"]));
    assert!(!d.join(".out.partial").exists());
    assert_eq!(info(&d.join("out"))["runs"], 18);
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn sweep_json_does_not_depend_on_how_the_file_was_named() {
    let d = scratch("paths");
    fs::create_dir_all(d.join("sub")).unwrap();
    let abs = d.join("sweep.toml");
    let abs = abs.to_str().unwrap();
    ok(hasim(
        &d,
        &["sweep", "sweep.toml", "--shard", "0/3", "-o", "p0"],
    ));
    ok(hasim(
        &d,
        &["sweep", "./sweep.toml", "--shard", "1/3", "-o", "p1"],
    ));
    ok(hasim(
        &d.join("sub"),
        &["sweep", abs, "--shard", "2/3", "-o", "../p2"],
    ));
    ok(hasim(
        &d.join("sub"),
        &["sweep", "../sweep.toml", "--shard", "2/3", "-o", "../p2b"],
    ));
    let json = |p: &str| fs::read(d.join(p).join("sweep.json")).unwrap();
    let strip = |p: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(&json(p)).unwrap();
        for k in ["shard", "runs_done"] {
            v[k] = serde_json::Value::Null;
        }
        v
    };
    assert_eq!(strip("p0"), strip("p1"));
    assert_eq!(strip("p0"), strip("p2"));
    assert!(json("p2") == json("p2b"));
    let i = info(&d.join("p0"));
    assert_eq!(i["file"], "sweep.toml");
    assert_eq!(i["experiment_file"], "small.toml");
    ok(hasim(&d, &["merge", "p0", "p1", "p2", "-o", "merged"]));
    ok(hasim(&d, &["sweep", "sweep.toml", "-o", "whole"]));
    common::assert_same_sweep(&d.join("whole"), &d.join("merged"));

    // An edited experiment is another sweep, whatever the paths say.
    fs::write(
        d.join("small.toml"),
        EXPERIMENT.replace("rate = 40", "rate = 41"),
    )
    .unwrap();
    ok(hasim(
        &d,
        &["sweep", "sweep.toml", "--shard", "1/3", "-o", "edited"],
    ));
    refused(
        hasim(&d, &["merge", "p0", "edited", "p2", "-o", "mixed"]),
        "input_hash",
    );
    assert!(!d.join("mixed").exists());
    fs::remove_dir_all(&d).unwrap();
}

#[test]
fn crafted_or_damaged_parts_are_refused_with_exit_2() {
    let d = scratch("crafted");
    ok(hasim(
        &d,
        &["sweep", "sweep.toml", "--shard", "0/2", "-o", "good"],
    ));
    ok(hasim(&d, &["merge", "good", "-o", "merged"]));
    let json = fs::read_to_string(d.join("good/sweep.json")).unwrap();
    let csv = fs::read_to_string(d.join("good/runs.csv")).unwrap();
    let edit = |v: &mut serde_json::Value, path: &[&str], to: serde_json::Value| {
        let mut at = v;
        for k in path {
            at = match k.parse::<usize>() {
                Ok(i) => &mut at[i],
                Err(_) => &mut at[*k],
            };
        }
        *at = to;
    };
    use serde_json::json;
    let info_cases: Vec<(&[&str], serde_json::Value, &str)> = vec![
        (&["plot"], json!(["../escaped"]), "not a metric of hasim"),
        (&["plot"], json!(["/tmp/escaped"]), "not a metric of hasim"),
        (&["plot"], json!(["failed", "failed"]), "twice"),
        (
            &["plot"],
            json!(["f99999999999999999999_detect_s"]),
            "not a metric",
        ),
        (
            &["params", "0", "values"],
            json!(["200ms"]),
            "3 `nums` for 1 `values`",
        ),
        (
            &["points"],
            json!(5),
            "`points` is 5, but the params make 6",
        ),
        (&["params", "0", "values"], json!([]), "values; from 1"),
        (
            &["params", "1", "nums"],
            json!([1.0]),
            "1 `nums` for 2 `values`",
        ),
        (&["params"], json!([]), "but the params make 1"),
        (&["points"], json!(18446744073709551615u64), "`points` is"),
        (&["runs"], json!(1_000_000_000_000u64), "`runs` is"),
        (&["replications"], json!(0), "`replications` is 0"),
        (&["replications"], json!(4_000_000_000u64), "more than the"),
        (&["runs_done"], json!(10), "`runs_done` is 10 of 9"),
        (&["runs_done"], json!(3), "`complete`: true"),
        (&["shard"], json!("5/3"), "`shard` is"),
        (&["shard"], json!("0/0"), "`shard` is"),
        (&["mode"], json!("spiral"), "`mode` is"),
        (&["input_hash"], json!("../x"), "`input_hash`"),
        (&["seed"], json!(-1), "not a sweep's sweep.json"),
    ];
    let check = |what: &str, sweep_json: &str, runs_csv: &str, want: &str| {
        let part = d.join("bad");
        let _ = fs::remove_dir_all(&part);
        fs::create_dir_all(&part).unwrap();
        fs::write(part.join("sweep.json"), sweep_json).unwrap();
        fs::write(part.join("runs.csv"), runs_csv).unwrap();
        let o = hasim(&d, &["merge", "bad", "-o", "out"]);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", show(&o));
        let err = text(&o.stderr);
        assert!(err.contains(want), "{what}: wanted {want:?}\n{}", show(&o));
        assert!(err.starts_with("error: "), "{what}: {err}");
        assert!(!err.contains("panicked"), "{what}: {err}");
        assert!(!d.join("out").exists(), "{what}: written");
    };
    for (path, to, want) in info_cases {
        let mut v: serde_json::Value = serde_json::from_str(&json).unwrap();
        edit(&mut v, path, to.clone());
        let text = serde_json::to_string_pretty(&v).unwrap();
        check(&format!("{path:?} = {to}"), &text, &csv, want);
        check(&format!("{path:?} = {to}"), &text, &csv, "bad/sweep.json");
    }
    for cut in [0, 1, json.len() / 2, json.len() - 3] {
        check(
            &format!("sweep.json cut at {cut}"),
            &json[..cut],
            &csv,
            "bad/sweep.json",
        );
    }
    check("sweep.json not text", "\u{0}\u{ff}", &csv, "bad/sweep.json");

    let lines: Vec<&str> = csv.lines().collect();
    let header = lines[0];
    let row = lines[1];
    let cells: Vec<&str> = row.split(',').collect();
    let with_cell = |i: usize, v: &str| {
        let mut c = cells.clone();
        c[i] = v;
        format!("{header}\n{}\n", c.join(","))
    };
    let fewer = format!("{header}\n{}\n", cells[..cells.len() - 1].join(","));
    let csv_cases: Vec<(String, String, &str)> = vec![
        ("empty".into(), String::new(), "header"),
        (
            "cut mid-row".into(),
            csv[..csv.len() - 7].to_string(),
            "bad/runs.csv",
        ),
        ("a cell short".into(), fewer, "bad/runs.csv"),
        (
            "huge point".into(),
            with_cell(0, "18446744073709551615"),
            "outside the sweep",
        ),
        (
            "point beyond u64".into(),
            with_cell(0, "99999999999999999999999"),
            "not a whole number",
        ),
        (
            "replication beyond u32".into(),
            with_cell(1, "4294967296"),
            "outside the sweep",
        ),
        ("another seed".into(), with_cell(2, "1"), "is not the seed"),
        (
            "another value".into(),
            with_cell(3, "7s"),
            "but point 0 has",
        ),
        (
            "seconds that disagree with the label".into(),
            with_cell(4, "7"),
            "default_server.inter_s` is \"7\"",
        ),
        (
            "infinite metric".into(),
            with_cell(6, "1e999"),
            "is not a number",
        ),
        ("NaN metric".into(), with_cell(6, "NaN"), "is not a number"),
        (
            "huge metric".into(),
            with_cell(6, "1e300"),
            "is not a number",
        ),
        (
            "text metric".into(),
            with_cell(6, "many"),
            "is not a number",
        ),
        (
            "unknown metric".into(),
            csv.replacen(",requests,", ",f999999999_detect_s,", 1),
            "not a metric of hasim",
        ),
        (
            "metric twice".into(),
            csv.replacen(",ok,", ",requests,", 1),
            "appears twice",
        ),
        (
            "swept key renamed".into(),
            csv.replacen("default_server.fall", "default_server.rise", 1),
            "not the runs.csv of this sweep",
        ),
        (
            "fewer runs than sweep.json says".into(),
            format!("{header}\n{row}\n"),
            "sweep.json says `runs_done`",
        ),
    ];
    for (what, runs_csv, want) in csv_cases {
        check(&what, &json, &runs_csv, want);
    }
    // A missing runs.csv, or a folder in its place.
    let part = d.join("bad");
    fs::remove_file(part.join("runs.csv")).unwrap();
    refused(hasim(&d, &["merge", "bad", "-o", "out"]), "bad/runs.csv");
    fs::create_dir(part.join("runs.csv")).unwrap();
    refused(hasim(&d, &["merge", "bad", "-o", "out"]), "not a file");
    // Nothing escaped the folders.
    assert!(!d.join("escaped.png").exists() && !Path::new("/tmp/escaped.png").exists());
    fs::remove_dir_all(&d).unwrap();
}
