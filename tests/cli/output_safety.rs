//! `-o` as a careless or unlucky user meets it (issue "Output safety"):
//! hasim never deletes what it did not write, checks the output folder before
//! simulating, writes every file or none, lets one writer at a time into a
//! folder, cleans up after a signal, and its determinism check runs two
//! processes and compares every file.

use crate::common;

use common::{hasim, names_in as names, show, snapshot, text};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const VALIDATION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/validation/haproxy-http-kill-inter2.toml"
);

fn scratch(test: &str) -> PathBuf {
    common::scratch_dir("out", test)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// A user's project folder: an experiment beside other files of theirs.
fn project(tmp: &Path) -> PathBuf {
    let proj = tmp.join("proj");
    fs::create_dir_all(proj.join("experiments")).unwrap();
    fs::copy(VALIDATION, proj.join("experiments/exp.toml")).unwrap();
    fs::write(proj.join("notes.md"), "my notes").unwrap();
    proj
}

fn refused_before_simulating(o: &std::process::Output, says: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", show(o));
    assert!(text(&o.stderr).contains(says), "{}", show(o));
    // Refused before the run: no summary was printed.
    assert!(text(&o.stdout).is_empty(), "{}", show(o));
}

#[test]
fn output_never_replaces_a_users_folder() {
    let tmp = scratch("users-folder");
    let proj = project(&tmp);
    let before = snapshot(&tmp);
    let exp = "experiments/exp.toml";
    // The project itself, its parent, `.`: the current folder or above.
    for out in [s(&proj), "../proj", ".", ".."] {
        for force in [false, true] {
            let mut args = vec!["run", exp, "-o", out];
            if force {
                args.push("--force");
            }
            let o = hasim(&proj, &args);
            refused_before_simulating(&o, "never replaces it");
            assert_eq!(snapshot(&tmp), before, "{args:?} changed files");
        }
    }
    // The folder holding the experiment, from outside.
    let o = hasim(
        &tmp,
        &["run", "proj/experiments/exp.toml", "-o", "proj", "--force"],
    );
    refused_before_simulating(&o, "would delete the input");
    let o = hasim(
        &tmp,
        &["run", "proj/experiments/exp.toml", "-o", "proj/experiments"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // Any other non-empty folder that hasim did not write.
    fs::create_dir_all(tmp.join("data")).unwrap();
    fs::write(tmp.join("data/results.csv"), "1,2").unwrap();
    let before = snapshot(&tmp);
    let o = hasim(&tmp, &["run", "proj/experiments/exp.toml", "-o", "data"]);
    refused_before_simulating(&o, "hasim did not write (`results.csv`)");
    assert!(text(&o.stderr).contains("--force"), "{}", show(&o));
    assert_eq!(snapshot(&tmp), before);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn files_and_links_are_refused_before_simulating() {
    let tmp = scratch("file-link");
    fs::write(tmp.join("file"), "x").unwrap();
    fs::create_dir_all(tmp.join("target")).unwrap();
    std::os::unix::fs::symlink(tmp.join("target"), tmp.join("link")).unwrap();
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "file"]);
    refused_before_simulating(&o, "is not a folder");
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "link", "--force"]);
    refused_before_simulating(&o, "symbolic link");
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "file/out"]);
    assert_ne!(o.status.code(), Some(0), "{}", show(&o));
    let e = text(&o.stderr);
    assert_eq!(e.matches("Not a directory").count(), 1, "said twice: {e}");
    assert!(e.contains("file"), "{e}");
    assert_eq!(names(&tmp), ["file", "link", "target"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn hasims_own_folder_is_replaced_whole_and_a_users_file_in_it_protects_it() {
    let tmp = scratch("own");
    let o = hasim(
        &tmp,
        &["run", VALIDATION, "-o", "out", "--metrics", "--trace"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let all = names(&tmp.join("out"));
    for f in ["run.json", "metrics.json", "trace.csv", ".hasim-output"] {
        assert!(all.contains(&f.to_string()), "{f} missing: {all:?}");
    }
    // `hasim diff` draws its overlay into the folder, which stays hasim's.
    let o = hasim(&tmp, &["diff", "--update", "base.json", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = hasim(&tmp, &["diff", "base.json", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(tmp.join("out/diff.png").is_file() && tmp.join("out/diff.svg").is_file());
    fs::remove_file(tmp.join("base.json")).unwrap();
    // Written again without --trace: the old trace goes with the old folder.
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!tmp.join("out/trace.csv").exists() && !tmp.join("out/diff.png").exists());
    // A file of the user's inside it: refused, then replaced with --force.
    fs::write(tmp.join("out/mine.txt"), "keep").unwrap();
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "out"]);
    refused_before_simulating(&o, "mine.txt");
    assert_eq!(
        fs::read_to_string(tmp.join("out/mine.txt")).unwrap(),
        "keep"
    );
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "out", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(!tmp.join("out/mine.txt").exists());
    assert_eq!(names(&tmp), ["out"], "staging or lock left behind");
    fs::remove_dir_all(&tmp).unwrap();
}

/// An experiment that runs long enough to be caught in the act.
fn long_experiment(tmp: &Path) -> PathBuf {
    let text = fs::read_to_string(VALIDATION)
        .unwrap()
        .replace("duration = \"48s\"", "duration = \"200000s\"");
    let f = tmp.join("long.toml");
    fs::write(&f, text).unwrap();
    f
}

fn spawn_run(tmp: &Path, file: &Path, out: &str, extra: &[&str]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["run", s(file), "-o", out])
        .args(extra)
        .current_dir(tmp)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the run has claimed its output (its staging folder exists).
fn wait_for_staging(tmp: &Path, name: &str) {
    let t0 = Instant::now();
    while !names(tmp)
        .iter()
        .any(|n| n.starts_with(&format!("{name}.tmp-")))
    {
        assert!(t0.elapsed() < Duration::from_secs(60), "never started");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn signal(child: &std::process::Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn a_second_writer_is_refused_and_a_signal_leaves_nothing_behind() {
    let tmp = scratch("lock-signal");
    let long = long_experiment(&tmp);
    let before = {
        let o = hasim(&tmp, &["run", VALIDATION, "-o", "out"]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        snapshot(&tmp.join("out"))
    };
    for sig in ["TERM", "INT"] {
        let first = spawn_run(&tmp, &long, "out", &["--trace"]);
        wait_for_staging(&tmp, "out");
        let second = hasim(&tmp, &["run", VALIDATION, "-o", "out"]);
        assert_eq!(second.status.code(), Some(2), "{}", show(&second));
        assert!(
            text(&second.stderr).contains(&format!("another hasim (pid {})", first.id())),
            "{}",
            show(&second)
        );
        signal(&first, sig);
        let o = first.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(130), "SIG{sig}: {}", show(&o));
        assert!(
            text(&o.stderr).contains("nothing was written"),
            "{}",
            show(&o)
        );
        // The earlier result is intact; no staging folder, trace or lock left.
        assert_eq!(snapshot(&tmp.join("out")), before, "SIG{sig}");
        assert_eq!(names(&tmp), ["long.toml", "out"], "SIG{sig}");
    }
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_killed_runs_staging_folder_is_cleared_by_the_next_run() {
    let tmp = scratch("sigkill");
    let long = long_experiment(&tmp);
    let mut first = spawn_run(&tmp, &long, "out", &["--trace"]);
    wait_for_staging(&tmp, "out");
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(names(&tmp).iter().any(|n| n.starts_with("out.tmp-")));
    let o = hasim(&tmp, &["run", VALIDATION, "-o", "out"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(names(&tmp), ["long.toml", "out"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn the_determinism_check_runs_two_processes_and_keeps_the_output() {
    let tmp = scratch("determinism");
    let o = hasim(
        &tmp,
        &[
            "run",
            VALIDATION,
            "-o",
            "out",
            "--check-determinism",
            "--trace",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let said = text(&o.stdout);
    for f in ["summary.txt", "timeline.png", "metrics.json", "trace.csv"] {
        assert!(said.contains(f), "{f} not compared: {said}");
    }
    assert!(said.contains("two processes"), "{said}");
    // -o honoured: the output is there, complete.
    for f in ["summary.json", "metrics.json", "trace.csv", "run.json"] {
        assert!(tmp.join("out").join(f).is_file(), "{f}");
    }
    // Its scratch folder goes where TMPDIR says, and is gone afterwards.
    let mytmp = tmp.join("mytmp");
    fs::create_dir_all(&mytmp).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["run", VALIDATION, "-o", "out", "--check-determinism"])
        .env("TMPDIR", &mytmp)
        .current_dir(&tmp)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(names(&mytmp).is_empty(), "{:?}", names(&mytmp));
    let o = Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["run", VALIDATION, "-o", "out2", "--check-determinism"])
        .env("TMPDIR", tmp.join("missing"))
        .current_dir(&tmp)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("TMPDIR"), "{}", show(&o));
    assert_eq!(names(&tmp), ["mytmp", "out"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn merge_never_replaces_the_folder_holding_its_parts() {
    let tmp = scratch("merge-parts");
    let exp = fs::read_to_string(VALIDATION)
        .unwrap()
        .replace("duration = \"48s\"", "duration = \"15s\"")
        + "\n[sweep]\nname = \"s\"\n[sweep.params]\n\"balancers.lb.default_server.fall\" = [2, 3]\n";
    fs::write(tmp.join("s.toml"), exp).unwrap();
    fs::create_dir_all(tmp.join("parts")).unwrap();
    for k in 0..2 {
        let shard = format!("{k}/2");
        let out = format!("parts/p{k}");
        let o = hasim(
            &tmp,
            &["sweep", "s.toml", "--shard", &shard, "-o", &out, "-j", "1"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    }
    let before = snapshot(&tmp);
    for force in [false, true] {
        let mut args = vec!["merge", "parts/p0", "parts/p1", "-o", "parts"];
        if force {
            args.push("--force");
        }
        let o = hasim(&tmp, &args);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o));
        assert!(
            text(&o.stderr).contains("would delete the input"),
            "{}",
            show(&o)
        );
        assert_eq!(snapshot(&tmp), before);
    }
    let o = hasim(&tmp, &["merge", "parts/p0", "parts/p1", "-o", "merged"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    fs::remove_dir_all(&tmp).unwrap();
}
