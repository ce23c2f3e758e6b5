//! `hasim run --html` and `hasim report DIR`: one self-contained report.html
//! beside the other outputs, the same bytes for the same experiment and seed,
//! written only into a folder hasim wrote.

use crate::common;

use common::{hasim, show, snapshot, text};
use std::fs;
use std::path::{Path, PathBuf};

const GALERA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/experiments/galera-haproxy.toml"
);
const SWEEP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/experiments/check-interval.toml"
);

fn scratch(test: &str) -> PathBuf {
    common::scratch_dir("html", test)
}

fn ok(o: std::process::Output) -> std::process::Output {
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    o
}

fn page(dir: &Path) -> String {
    fs::read_to_string(dir.join("report.html")).unwrap()
}

fn manifest(dir: &Path) -> String {
    fs::read_to_string(dir.join(hasim::output::MANIFEST)).unwrap()
}

/// The page loads nothing from elsewhere: no external style sheet, script,
/// font or image.
fn assert_self_contained(p: &str) {
    let without_svg_ns = p.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for remote in [
        "http://", "https://", "<link", "src=", "@import", "url(", "<img",
    ] {
        assert!(!without_svg_ns.contains(remote), "the page has {remote}");
    }
    assert!(p.contains("<meta name=\"viewport\""));
}

#[test]
fn run_html_writes_the_same_report_twice_and_report_rewrites_it_unchanged() {
    let tmp = scratch("run");
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    for d in [&a, &b] {
        ok(hasim(
            &tmp,
            &["run", GALERA, "--html", "-q", "-o", d.to_str().unwrap()],
        ));
    }
    let p = page(&a);
    assert!(p == page(&b), "report.html differs between two runs");
    assert!(manifest(&a).lines().any(|l| l == "report.html"));
    assert_self_contained(&p);
    // The timeline and a zoomed panel per fault that is not a recovery
    // (blackhole galera2, kill app2), inlined.
    assert_eq!(p.matches("<svg class=\"plot\"").count(), 3, "plots");
    for f in [
        "#1 blackhole galera2",
        "#2 unblackhole galera2",
        "#3 kill app2",
    ] {
        assert!(p.contains(f), "{f}");
    }
    for s in [
        "Error window",
        "Failed requests",
        "Lost writes",
        "Split-brain",
    ] {
        assert!(p.contains(&format!("<div class=\"k\">{s}</div>")), "{s}");
    }
    assert!(p.contains("Formula vs simulation") && p.contains("<ol class=\"events\">"));
    // No wall-clock figure: run.json's are not on the page.
    assert!(!p.contains("wall") && !p.contains("events/s"));

    // `hasim report` on the folder: the same bytes, the other files as they were.
    let before = snapshot(&a);
    let o = ok(hasim(&tmp, &["report", a.to_str().unwrap()]));
    assert!(
        text(&o.stdout).contains("report of the run"),
        "{}",
        show(&o)
    );
    assert_eq!(snapshot(&a), before);

    // A run without --html, reported afterwards: the page --html writes.
    let c = tmp.join("c");
    ok(hasim(
        &tmp,
        &["run", GALERA, "-q", "-o", c.to_str().unwrap()],
    ));
    assert!(!c.join("report.html").exists());
    ok(hasim(&tmp, &["report", c.to_str().unwrap(), "-q"]));
    assert!(page(&c) == p, "hasim report differs from run --html");
    // The determinism check compares report.html too.
    let o = ok(hasim(
        &tmp,
        &[
            "run",
            GALERA,
            "--html",
            "--check-determinism",
            "--force",
            "-o",
            c.to_str().unwrap(),
        ],
    ));
    assert!(text(&o.stdout).contains("report.html"), "{}", show(&o));
    // The folder stays hasim's own: the next run replaces it.
    ok(hasim(
        &tmp,
        &["run", GALERA, "-q", "-o", c.to_str().unwrap()],
    ));
    assert!(!c.join("report.html").exists());
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn report_on_a_sweep_folder_has_its_plots_and_a_sortable_table_of_points() {
    let tmp = scratch("sweep");
    let s = tmp.join("s");
    let dir = s.to_str().unwrap();
    ok(hasim(
        &tmp,
        &[
            "sweep",
            SWEEP,
            "--replications",
            "1",
            "-j",
            "2",
            "-q",
            "-o",
            dir,
        ],
    ));
    let svgs = fs::read_dir(&s)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".svg")
        })
        .count();
    let o = ok(hasim(&tmp, &["report", dir]));
    assert!(
        text(&o.stdout).contains("report of the sweep"),
        "{}",
        show(&o)
    );
    let p = page(&s);
    assert_self_contained(&p);
    assert_eq!(p.matches("<svg class=\"plot\"").count(), svgs, "every plot");
    // 10 inter values x 5 fall values: a row per point, sortable.
    assert!(p.contains("<table class=\"sortable\">"));
    assert_eq!(p.matches("<tr data-i=").count(), 50);
    assert!(p.contains("<th scope=\"col\" class=\"n\" title=\"balancers.haproxy.default_server.inter\"><button type=\"button\">inter</button></th>"), "{p}");
    assert!(manifest(&s).starts_with("hasim sweep output"));
    // Reported twice: the same bytes; the sweep can still replace its folder.
    ok(hasim(&tmp, &["report", dir, "-q"]));
    assert!(page(&s) == p);
    ok(hasim(
        &tmp,
        &[
            "sweep",
            SWEEP,
            "--replications",
            "1",
            "-j",
            "2",
            "-q",
            "-o",
            dir,
        ],
    ));
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn report_refuses_a_folder_hasim_did_not_write() {
    let tmp = scratch("refuse");
    // hasim's files copied into a folder of the user's: no manifest.
    let run = tmp.join("run");
    ok(hasim(
        &tmp,
        &["run", GALERA, "-q", "-o", run.to_str().unwrap()],
    ));
    let theirs = tmp.join("theirs");
    fs::create_dir(&theirs).unwrap();
    for f in ["summary.json", "events.csv", "timeline.svg"] {
        fs::copy(run.join(f), theirs.join(f)).unwrap();
    }
    // An output folder of hasim's with a file of the user's in it.
    fs::write(run.join("notes.md"), "mine").unwrap();
    // A folder with nothing of hasim's, and one that does not exist.
    let empty = tmp.join("empty");
    fs::create_dir(&empty).unwrap();
    let before = snapshot(&tmp);
    for (dir, says) in [
        (&theirs, "has no manifest"),
        (&run, "`notes.md`, which hasim did not write"),
        (&empty, "has no manifest"),
        (&tmp.join("missing"), "does not exist"),
    ] {
        let o = hasim(&tmp, &["report", dir.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o));
        assert!(text(&o.stderr).contains(says), "{}", show(&o));
        assert_eq!(snapshot(&tmp), before, "{} changed files", dir.display());
    }
    fs::remove_dir_all(&tmp).unwrap();
}
