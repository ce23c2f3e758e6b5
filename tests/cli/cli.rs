//! The `hasim` binary as a user runs it: exit codes, what it prints, what it
//! writes (and, on bad input, what it does not). Each test works in its own
//! folder under the system's temp dir, also used as the working directory so
//! that a default `output/` could never land in the repository.

use crate::common;

use common::{hasim, names_in, show, snapshot, text};
use hasim::report::OUTPUT_FILES;
use std::fs;
use std::path::{Path, PathBuf};

const VALIDATION: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/validation/haproxy-http-kill-inter2.toml"
);

/// A fresh, empty folder for one test.
fn scratch(test: &str) -> PathBuf {
    common::scratch_dir("cli", test)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

#[test]
fn run_prints_the_summary_and_writes_every_output_file() {
    let tmp = scratch("run");
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", VALIDATION, "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("requests"), "{}", show(&o));
    assert!(stdout.contains("detected after"), "{}", show(&o));
    // The printed summary is summary.txt.
    assert_eq!(fs::read_to_string(out.join("summary.txt")).unwrap(), stdout);
    for f in OUTPUT_FILES.iter().chain(&["run.json"]) {
        let p = out.join(f);
        assert!(p.is_file(), "{f} missing; {}", show(&o));
        assert!(fs::metadata(&p).unwrap().len() > 0, "{f} is empty");
    }
    let png = fs::read(out.join("timeline.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let svg = fs::read_to_string(out.join("timeline.svg")).unwrap();
    assert!(svg.contains("<svg"), "not an SVG");
    // Figures about the run itself go to run.json, not the outputs.
    let run_json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(run_json["events"].as_u64().unwrap() > 0, "{run_json}");
    // Exactly those files, and no temporary sibling left behind.
    let mut want: Vec<String> = OUTPUT_FILES.iter().map(|s| s.to_string()).collect();
    // The experiment kills one server: its zoomed panel.
    want.extend(["fault-1.png".into(), "fault-1.svg".into()]);
    want.push("run.json".into());
    want.push(".hasim-output".into());
    want.sort();
    assert_eq!(names_in(&out), want);
    assert_eq!(names_in(&tmp), ["out"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn trace_writes_one_row_per_request() {
    let tmp = scratch("trace");
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", VALIDATION, "-o", path_str(&out), "--trace"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let trace = fs::read_to_string(out.join("trace.csv")).unwrap();
    let mut lines = trace.lines();
    assert_eq!(
        lines.next(),
        Some("start_s,end_s,client,outcome,latency_ms,op,method,via,servers,termination")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 1000, "{} rows", rows.len());
    for r in &rows {
        assert_eq!(r.split(',').count(), 10, "{r}");
    }
    // One row per recorded request: as many as summary.json counts.
    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["requests"].as_u64(), Some(rows.len() as u64));
    // The trace's temporary file was moved in, not left beside the folder.
    assert_eq!(names_in(&tmp), ["out"]);
    fs::remove_dir_all(&tmp).unwrap();
}

/// PostgreSQL's errors reach every output in PostgreSQL's codes: the
/// summary's breakdown, summary.json's `db_errors` (adding up to
/// `failed_by_kind`) and the trace's outcome column.
#[test]
fn patroni_errors_show_their_sqlstates_in_every_output() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/patroni-etcd.toml");
    let tmp = scratch("sqlstates");
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", file, "-o", path_str(&out), "--trace"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let summary = fs::read_to_string(out.join("summary.txt")).unwrap();
    let line = summary
        .lines()
        .find(|l| l.starts_with("  db error codes...."))
        .unwrap_or_else(|| panic!("no db error codes line in\n{summary}"));
    assert!(
        line.contains("(25006: ") && line.contains("(57P03: "),
        "{line}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    let by_kind = json["failed_by_kind"].as_object().unwrap();
    let db_errors = json["db_errors"].as_object().unwrap();
    for (kind, codes) in db_errors {
        let sum: u64 = codes
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_u64().unwrap())
            .sum();
        assert_eq!(Some(sum), by_kind[kind].as_u64(), "{kind}");
    }
    assert_eq!(db_errors["db_read_only"][0]["code"], "25006");
    assert_eq!(db_errors["db_read_only"][0]["meaning"], "read_only");
    let trace = fs::read_to_string(out.join("trace.csv")).unwrap();
    let outcomes: std::collections::BTreeSet<&str> = trace
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert!(
        outcomes.contains("25006") && outcomes.contains("57P03"),
        "{outcomes:?}"
    );
    // No MySQL number stands in for a PostgreSQL error any more.
    assert!(
        !outcomes.contains("1047") && !outcomes.contains("1290"),
        "{outcomes:?}"
    );
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn dry_run_prints_the_topology_and_writes_nothing() {
    let tmp = scratch("dry-run");
    let out = tmp.join("out");
    let o = hasim(
        &tmp,
        &["run", VALIDATION, "-o", path_str(&out), "--dry-run"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = text(&o.stdout);
    for node in ["load", "lb", "s1", "s2", "s3"] {
        assert!(
            stdout.split_whitespace().any(|w| w == node),
            "node `{node}` not shown:\n{stdout}"
        );
    }
    assert!(stdout.contains("haproxy-http-kill-inter2"), "{stdout}");
    assert!(!out.exists(), "--dry-run created the output folder");
    assert!(names_in(&tmp).is_empty(), "{:?}", names_in(&tmp));
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn check_determinism_passes() {
    let tmp = scratch("check-determinism");
    let o = hasim(&tmp, &["run", VALIDATION, "--check-determinism"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        text(&o.stdout).contains("determinism check passed"),
        "{}",
        show(&o)
    );
    fs::remove_dir_all(&tmp).unwrap();
}

/// The validation experiment with one line replaced.
fn validation_with(from: &str, to: &str) -> (String, usize) {
    let src = fs::read_to_string(VALIDATION).unwrap();
    let line = src
        .lines()
        .position(|l| l == from)
        .unwrap_or_else(|| panic!("no line `{from}`"))
        + 1;
    let changed: Vec<&str> = src
        .lines()
        .map(|l| if l == from { to } else { l })
        .collect();
    (changed.join("\n") + "\n", line)
}

/// Runs `file` with `-o <tmp>/out`: exit 2, nothing created, stderr names
/// everything in `says`.
fn refused(tmp: &Path, file: &Path, says: &[String]) {
    let out = tmp.join("out");
    let before = names_in(tmp);
    let o = hasim(tmp, &["run", path_str(file), "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    let stderr = text(&o.stderr);
    for s in says {
        assert!(stderr.contains(s.as_str()), "no `{s}` in:\n{}", show(&o));
    }
    assert!(o.stdout.is_empty(), "{}", show(&o));
    assert!(!stderr.contains("panicked"), "{}", show(&o));
    assert!(!out.exists(), "the output folder was created");
    assert_eq!(names_in(tmp), before, "something was written");
}

#[test]
fn bad_input_exits_2_and_names_file_line_and_key() {
    let tmp = scratch("bad-input");

    // An unknown key.
    let (typo, line) = validation_with("inter = \"2s\"", "intr = \"2s\"");
    let f = tmp.join("typo.toml");
    fs::write(&f, typo).unwrap();
    refused(
        &tmp,
        &f,
        &[
            format!("{}:{line}:", f.display()),
            "balancers.lb.default_server.intr".into(),
            "did you mean `inter`?".into(),
        ],
    );

    // An impossible value.
    let (zero, line) = validation_with("fall = 3", "fall = 0");
    let f = tmp.join("fall.toml");
    fs::write(&f, zero).unwrap();
    refused(
        &tmp,
        &f,
        &[
            format!("{}:{line}:", f.display()),
            "balancers.lb.default_server.fall".into(),
            "at least 1".into(),
        ],
    );

    // Not TOML at all.
    let f = tmp.join("notes.toml");
    fs::write(&f, "[experiment]\nduration = \"10s\"\nthis is not toml\n").unwrap();
    refused(
        &tmp,
        &f,
        &[format!("{}:3:", f.display()), "invalid TOML".into()],
    );

    // No such file.
    let f = tmp.join("missing.toml");
    refused(&tmp, &f, &[f.display().to_string(), "cannot read".into()]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn bad_input_leaves_an_existing_output_folder_untouched() {
    let tmp = scratch("bad-input-existing");
    let out = tmp.join("out");
    // A previous, good run's output.
    let o = hasim(&tmp, &["run", VALIDATION, "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    fs::write(out.join("notes.txt"), "mine").unwrap();
    let before = snapshot(&out);
    let listing = names_in(&tmp);

    let (typo, _) = validation_with("inter = \"2s\"", "intr = \"2s\"");
    let f = tmp.join("typo.toml");
    fs::write(&f, typo).unwrap();
    for args in [
        vec!["run", path_str(&f), "-o", path_str(&out)],
        vec!["run", path_str(&f), "-o", path_str(&out), "--trace"],
        vec![
            "run",
            path_str(&f),
            "-o",
            path_str(&out),
            "--check-determinism",
        ],
        vec!["run", "missing.toml", "-o", path_str(&out)],
    ] {
        let o = hasim(&tmp, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}\n{}", show(&o));
        assert_eq!(snapshot(&out), before, "{args:?} changed the output folder");
        let mut expected = listing.clone();
        expected.push("typo.toml".into());
        expected.sort();
        assert_eq!(
            names_in(&tmp),
            expected,
            "{args:?} left something beside it"
        );
    }
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn help_mentions_every_flag() {
    let tmp = scratch("help");
    let o = hasim(&tmp, &["--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let top = text(&o.stdout);
    for s in ["run", "--help", "--version"] {
        assert!(
            top.contains(s),
            "`hasim --help` does not mention `{s}`:\n{top}"
        );
    }

    let o = hasim(&tmp, &["run", "--help"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let run = text(&o.stdout);
    for s in [
        "<FILE>",
        "--seed",
        "-o, --output",
        "--trace",
        "--check-determinism",
        "--dry-run",
        "--help",
    ] {
        assert!(
            run.contains(s),
            "`hasim run --help` does not mention `{s}`:\n{run}"
        );
    }
    assert!(names_in(&tmp).is_empty());
    fs::remove_dir_all(&tmp).unwrap();
}

/// A run whose output path is a file is refused before it runs (exit 2) and
/// leaves nothing behind, not even the trace it would have recorded.
#[test]
fn a_failed_write_leaves_no_trace_file_behind() {
    let tmp = scratch("failed-write");
    let out = tmp.join("out");
    fs::write(&out, "a file, not a folder").unwrap();
    let o = hasim(&tmp, &["run", VALIDATION, "-o", path_str(&out), "--trace"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("is not a folder"), "{}", show(&o));
    assert_eq!(fs::read_to_string(&out).unwrap(), "a file, not a folder");
    assert_eq!(names_in(&tmp), ["out"]);
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn presets_lists_and_prints_the_documented_defaults() {
    let tmp = scratch("presets");
    let list = hasim(&tmp, &["presets"]);
    assert!(list.status.success(), "{}", show(&list));
    for name in ["haproxy-2.6", "nginx-1.22", "k6", "server"] {
        assert!(text(&list.stdout).contains(name), "{}", show(&list));
    }
    let one = hasim(&tmp, &["presets", "haproxy-2.6"]);
    assert!(
        one.status.success() && text(&one.stdout).contains("inter = \"2s\""),
        "{}",
        show(&one)
    );
    let bad = hasim(&tmp, &["presets", "haproxy-2.5"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("did you mean `haproxy-2.6`"),
        "{}",
        show(&bad)
    );
}

#[test]
fn presets_suggests_a_products_preset_by_its_product_name() {
    let tmp = scratch("presets-product");
    for (asked, meant) in [("haproxy", "haproxy-2.6"), ("mysql", "mariadb-10.11")] {
        let o = hasim(&tmp, &["presets", asked]);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o));
        let want = format!("did you mean `{meant}`?");
        assert!(text(&o.stderr).contains(&want), "{}", show(&o));
    }
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn quiet_prints_nothing_but_writes_everything() {
    let tmp = scratch("quiet");
    let out = tmp.join("out");
    let o = hasim(&tmp, &["run", VALIDATION, "-q", "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stdout.is_empty() && o.stderr.is_empty(), "{}", show(&o));
    for f in OUTPUT_FILES {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    // Errors still speak.
    let bad = hasim(&tmp, &["run", "--quiet", "missing.toml"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(!bad.stderr.is_empty());
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn completions_are_printed_for_each_shell() {
    let tmp = scratch("completions");
    for shell in ["bash", "zsh", "fish"] {
        let o = hasim(&tmp, &["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
        let script = text(&o.stdout);
        for word in ["hasim", "sweep", "check-determinism"] {
            assert!(script.contains(word), "{shell}: no {word}");
        }
    }
    assert_eq!(hasim(&tmp, &["completions", "cmd"]).status.code(), Some(2));
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn diff_plot_takes_a_folder_or_a_png_name_and_says_so_otherwise() {
    let tmp = scratch("diff-plot");
    let out = tmp.join("out");
    let o = hasim(
        &tmp,
        &["run", VALIDATION, "-q", "--metrics", "-o", path_str(&out)],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let baseline = tmp.join("base.json");
    let u = hasim(
        &tmp,
        &["diff", "--update", path_str(&baseline), path_str(&out)],
    );
    assert_eq!(u.status.code(), Some(0), "{}", show(&u));
    let plots = tmp.join("plots");
    fs::create_dir(&plots).unwrap();
    let d = hasim(
        &tmp,
        &[
            "diff",
            path_str(&baseline),
            path_str(&out),
            "--plot",
            path_str(&plots),
        ],
    );
    assert_eq!(d.status.code(), Some(0), "{}", show(&d));
    assert!(plots.join("diff.png").is_file() && plots.join("diff.svg").is_file());
    let jpg = plots.join("x.jpg");
    let bad = hasim(
        &tmp,
        &[
            "diff",
            path_str(&baseline),
            path_str(&out),
            "--plot",
            path_str(&jpg),
        ],
    );
    assert_eq!(bad.status.code(), Some(2), "{}", show(&bad));
    assert!(
        text(&bad.stderr).contains("ending in .png"),
        "{}",
        show(&bad)
    );
    fs::remove_dir_all(&tmp).unwrap();
}
