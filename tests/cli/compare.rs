//! `hasim compare` through the binary: a real difference (HAProxy checking
//! every 4 s instead of every second detects a kill later and fails more
//! requests) is called B worse; an irrelevant one is not; the outputs are
//! the same bytes at any thread count; two output folders compare as
//! single runs; one of each is bad input.

use crate::common;

use common::{hasim, names_in, show, text};
use std::fs;
use std::path::{Path, PathBuf};

fn scratch(test: &str) -> PathBuf {
    common::scratch_dir("compare", test)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}

/// 20 s at 50 requests/s through HAProxy (`inter` and `maxconn` given);
/// one server killed at 3 s and restarted at 12 s.
fn experiment(dir: &Path, name: &str, inter: &str, maxconn: u32) -> PathBuf {
    let p = dir.join(format!("{name}.toml"));
    fs::write(
        &p,
        format!(
            "[experiment]\nduration = \"20s\"\n\
             [network]\nlatency = {{ base = \"0.1ms\", jitter = \"0.5ms\" }}\n\
             [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 50\n\
             [balancers.lb]\npreset = \"haproxy-2.6\"\nmode = \"http\"\nservers = [\"s\"]\nmaxconn = {maxconn}\n\
             [balancers.lb.default_server]\ncheck = true\ninter = \"{inter}\"\nfall = 2\n\
             [servers.s]\ncount = 2\nservice = \"1ms\"\n\
             [[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"3s\"\nrecover_at = \"12s\"\n"
        ),
    )
    .unwrap();
    p
}

fn compare_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(dir.join("compare.json")).unwrap()).unwrap()
}

fn verdict<'v>(j: &'v serde_json::Value, figure: &str) -> &'v str {
    j["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["figure"] == figure)
        .unwrap_or_else(|| panic!("{figure} in {j}"))["verdict"]
        .as_str()
        .unwrap()
}

#[test]
fn a_slower_check_is_worse_beyond_noise_and_the_bytes_ignore_threads() {
    let tmp = scratch("real");
    let a = experiment(&tmp, "fast", "1s", 4096);
    let b = experiment(&tmp, "slow", "4s", 4096);
    let out1 = tmp.join("j1");
    let args = |out: &Path, j: &'static str| {
        vec![
            "compare".to_string(),
            path_str(&a).into(),
            path_str(&b).into(),
            "--replications".into(),
            "8".into(),
            "-j".into(),
            j.into(),
            "-o".into(),
            path_str(out).into(),
        ]
    };
    let run = |out: &Path, j| {
        let a = args(out, j);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        hasim(&tmp, &a)
    };
    let o = run(&out1, "1");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("balancers.lb.default_server.inter: 1s -> 4s\n"),
        "{stdout}"
    );
    assert!(stdout.contains("8 paired replications"), "{stdout}");
    assert_eq!(
        fs::read_to_string(out1.join("compare.txt")).unwrap(),
        stdout
    );
    let j = compare_json(&out1);
    assert_eq!(j["mode"], "paired replications");
    assert_eq!(j["settings"].as_array().unwrap().len(), 1, "{j}");
    for f in ["f1_detect_s", "f1_window_s", "failed", "error_window_s"] {
        assert_eq!(verdict(&j, f), "worse", "{f}: {stdout}");
    }
    let d = j["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["figure"] == "f1_detect_s")
        .unwrap();
    assert!(d["b_minus_a"]["ci95_lo"].as_f64().unwrap() > 1.0, "{d}");
    let mut files = names_in(&out1);
    files.sort();
    assert_eq!(
        files,
        [
            ".hasim-output",
            "compare.json",
            "compare.png",
            "compare.svg",
            "compare.txt"
        ]
    );
    assert_eq!(
        &fs::read(out1.join("compare.png")).unwrap()[..8],
        b"\x89PNG\r\n\x1a\n"
    );

    // Same bytes on two threads (the path in the text aside: -o differs).
    let out2 = tmp.join("j2");
    let o = run(&out2, "2");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    for f in ["compare.json", "compare.png", "compare.svg"] {
        assert!(
            fs::read(out1.join(f)).unwrap() == fs::read(out2.join(f)).unwrap(),
            "{f} differs between -j 1 and -j 2"
        );
    }
    let strip = |s: String| {
        s.replace("j1/compare.png", "")
            .replace("j2/compare.png", "")
    };
    assert_eq!(
        strip(fs::read_to_string(out1.join("compare.txt")).unwrap()),
        strip(fs::read_to_string(out2.join("compare.txt")).unwrap())
    );
    // The folder is hasim's own: a second comparison replaces it.
    let o = run(&out2, "2");
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn an_irrelevant_change_is_no_difference() {
    let tmp = scratch("irrelevant");
    let a = experiment(&tmp, "a", "1s", 4096);
    let b = experiment(&tmp, "b", "1s", 8192);
    let out = tmp.join("out");
    let o = hasim(
        &tmp,
        &[
            "compare",
            path_str(&a),
            path_str(&b),
            "--replications",
            "6",
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("balancers.lb.maxconn: 4096 -> 8192\n"),
        "{stdout}"
    );
    let j = compare_json(&out);
    for f in j["figures"].as_array().unwrap() {
        let v = f["verdict"].as_str().unwrap();
        assert!(v == "same" || v == "noise", "{f}: {stdout}");
    }
    assert!(stdout.contains("B better in 0, worse in 0"), "{stdout}");
    fs::remove_dir_all(&tmp).unwrap();
}

#[test]
fn two_output_folders_compare_as_single_runs() {
    let tmp = scratch("folders");
    let (a, b) = (
        experiment(&tmp, "fast", "1s", 4096),
        experiment(&tmp, "slow", "4s", 4096),
    );
    let (ra, rb) = (tmp.join("ra"), tmp.join("rb"));
    for (e, r) in [(&a, &ra), (&b, &rb)] {
        let o = hasim(
            &tmp,
            &["run", path_str(e), "-o", path_str(r), "--metrics", "-q"],
        );
        assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    }
    let out = tmp.join("out");
    let o = hasim(
        &tmp,
        &[
            "compare",
            path_str(&ra),
            path_str(&rb),
            "-o",
            path_str(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(stdout.contains("two single runs"), "{stdout}");
    assert!(stdout.contains("settings: not compared"), "{stdout}");
    let j = compare_json(&out);
    assert_eq!(j["mode"], "single runs");
    assert_eq!(verdict(&j, "f1_detect_s"), "worse");
    assert!(
        stdout.contains("B higher (one run each: no interval)"),
        "{stdout}"
    );

    // One of each: bad input, nothing written.
    let mixed = tmp.join("mixed");
    let o = hasim(
        &tmp,
        &[
            "compare",
            path_str(&a),
            path_str(&rb),
            "-o",
            path_str(&mixed),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("not one of each"), "{}", show(&o));
    assert!(!mixed.exists());
    // A bad experiment: exit 2 with its file and line.
    let bad = tmp.join("bad.toml");
    fs::write(&bad, "[experiment]\nduration = \"-1s\"\n").unwrap();
    let o = hasim(
        &tmp,
        &[
            "compare",
            path_str(&a),
            path_str(&bad),
            "-o",
            path_str(&mixed),
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(text(&o.stderr).contains("bad.toml:2"), "{}", show(&o));
    assert!(!mixed.exists());
    fs::remove_dir_all(&tmp).unwrap();
}
