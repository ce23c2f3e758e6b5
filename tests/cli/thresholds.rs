//! `[thresholds]` through the binary: a crossed condition exits 1 with every
//! output written, satisfied ones exit 0, a bad one is bad input (exit 2,
//! file:line:key, nothing written); sweeps count the runs that crossed.

use crate::common;

use common::{hasim, names_in, show, text};
use std::fs;
use std::path::{Path, PathBuf};

fn scratch(test: &str) -> PathBuf {
    common::scratch_dir("thresholds", test)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// 20 s, HAProxy checking every second, one server killed at 3 s and
/// restarted at 12 s: detection takes 1-2 s (fall 2).
fn experiment(thresholds: &str) -> String {
    format!(
        "[experiment]\nname = \"th\"\nduration = \"20s\"\n\
         [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 50\n\
         [balancers.lb]\npreset = \"haproxy-2.6\"\nmode = \"http\"\nservers = [\"s\"]\n\
         [balancers.lb.default_server]\ncheck = true\ninter = \"1s\"\nfall = 2\n\
         [servers.s]\ncount = 2\nservice = \"1ms\"\n\
         [[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"3s\"\nrecover_at = \"12s\"\n\
         [thresholds]\n{thresholds}"
    )
}

fn write(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("th.toml");
    fs::write(&p, experiment(body)).unwrap();
    p
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_crossed_threshold_exits_1_after_writing_every_output() {
    let tmp = scratch("crossed");
    let file = write(
        &tmp,
        "failed = \"< 100000\"\n\"faults.1.detect_s\" = \"< 0.5\"\n\"clients.c.p99_ms\" = \"< 1000\"\n",
    );
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", path_str(&file), "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("thresholds: 1 of 3 crossed"), "{stdout}");
    assert!(stdout.contains("FAIL  faults.1.detect_s < 0.5"), "{stdout}");
    assert!(stdout.contains("PASS  failed < 100000"), "{stdout}");
    assert!(
        text(&o.stderr).contains("1 threshold crossed"),
        "{}",
        show(&o)
    );
    // Nothing lost: every file, the summary as printed.
    assert_eq!(fs::read_to_string(out.join("summary.txt")).unwrap(), stdout);
    for f in hasim::report::OUTPUT_FILES.iter().chain(&["run.json"]) {
        assert!(out.join(f).is_file(), "{f} missing; {}", show(&o));
    }
    let s = summary(&out);
    let t = s["thresholds"].as_array().unwrap();
    assert_eq!(t.len(), 3);
    assert_eq!(t[1]["condition"], "faults.1.detect_s < 0.5");
    assert_eq!(t[1]["pass"], false);
    let detected = s["faults"][0]["detected_after_s"].as_f64().unwrap();
    assert_eq!(t[1]["value"].as_f64().unwrap(), detected);
    assert_eq!(t[0]["value"].as_f64(), s["failed"].as_f64());
    assert_eq!(t[0]["pass"], true);

    // The determinism check keeps the verdict.
    let o = hasim(
        &tmp,
        &[
            "run",
            path_str(&file),
            "-o",
            path_str(&out),
            "--check-determinism",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("determinism check passed"),
        "{}",
        show(&o)
    );
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn satisfied_thresholds_exit_0() {
    let tmp = scratch("satisfied");
    let file = write(
        &tmp,
        "failed = [\"< 100000\", \">= 0\"]\nfaults.1.error_window_s = \"< 5\"\n\
         \"faults.1.detect_s\" = \"<= 2\"\nrequests = \"> 900\"\n",
    );
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", path_str(&file), "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("thresholds: 0 of 5 crossed\n"),
        "{}",
        show(&o)
    );
    let s = summary(&out);
    assert!(
        s["thresholds"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["pass"] == true)
    );
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_bad_threshold_is_bad_input_with_file_line_and_key() {
    let tmp = scratch("bad");
    let cases = [
        (
            "failed = \"=< 5\"",
            "thresholds.failed",
            "one of <, <=, >, >=, ==, !=",
        ),
        ("failed = \"< five\"", "thresholds.failed", "not a number"),
        (
            "error_windows = \"< 5\"",
            "thresholds.error_windows",
            "did you mean `error_window_s`?",
        ),
        (
            "\"clients.k6.failed\" = \"< 5\"",
            "thresholds.\"clients.k6.failed\"",
            "no client `k6`",
        ),
        (
            "\"faults.9.detect_s\" = \"< 5\"",
            "thresholds.\"faults.9.detect_s\"",
            "no fault action #9",
        ),
    ];
    for (line, key, want) in cases {
        let file = write(&tmp, &format!("{line}\n"));
        let out = tmp.join("out");
        let o = hasim(&tmp, &["run", path_str(&file), "-o", path_str(&out)]);
        assert_eq!(o.status.code(), Some(2), "{line}: {}", show(&o));
        let err = text(&o.stderr);
        let head = "th.toml:25:";
        assert!(
            err.contains(head) && err.contains(key) && err.contains(want),
            "{line}: {err}"
        );
        assert!(!out.exists(), "{line}: nothing is written on bad input");
    }
    assert_eq!(names_in(&tmp), ["th.toml"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn a_sweep_counts_the_runs_that_crossed() {
    let tmp = scratch("sweep");
    let mut body = experiment("\"faults.1.detect_s\" = \"< 1.5\"\n");
    body.push_str("[sweep]\nreplications = 4\n[sweep.params]\n\"balancers.lb.default_server.inter\" = [\"200ms\", \"3s\"]\n");
    let file = tmp.join("th.toml");
    fs::write(&file, body).unwrap();
    let out = tmp.join("out");
    let o = hasim(
        &tmp,
        &["sweep", path_str(&file), "-o", path_str(&out), "-j", "2"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("thresholds: crossed in 4 of 8 runs"),
        "{}",
        show(&o)
    );
    let points = fs::read_to_string(out.join("points.csv")).unwrap();
    let rows: Vec<&str> = points
        .lines()
        .filter(|l| l.contains(",thresholds_crossed,"))
        .collect();
    assert_eq!(rows.len(), 2, "{points}");
    // inter 200ms: detected within 0.4 s, never crossed; 3s: 3-6 s, always.
    assert!(rows[0].contains(",thresholds_crossed,4,0,"), "{}", rows[0]);
    assert!(rows[1].contains(",thresholds_crossed,4,1,"), "{}", rows[1]);
    fs::remove_dir_all(&tmp).unwrap();
}

/// The README's `[thresholds]` example is valid in an experiment with a
/// client `k6` and a fault.
#[test]
fn the_readme_example_parses() {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("```toml\n[thresholds]")
        .expect("thresholds example in README")
        + "```toml\n".len();
    let end = start + readme[start..].find("```").unwrap();
    let text = experiment("").replace("[clients.c]", "[clients.k6]")
        + &readme[start..end].replacen("[thresholds]\n", "", 1);
    let spec = hasim::config::parse(&text, "README.md").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(spec.thresholds.len(), 7);
}
