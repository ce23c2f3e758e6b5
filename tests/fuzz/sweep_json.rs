//! Fuzz target: the `sweep.json` and `runs.csv` of a sweep's output, as
//! `hasim merge` reads them back ([`hasim::sweep::read_part`]: the JSON
//! parsed and checked, each row checked to be a run of that sweep). Any
//! pair of texts is read or refused with an error — never a panic, never a
//! hang.
//!
//! An input is the two files joined by [`SPLIT`]. Corpus: the output of a
//! small sweep run at the start (so that it follows the current format),
//! and `tests/fuzz/corpus/sweep_json/`.

use crate::engine;

use engine::Verdict;
use std::path::Path;

const SPLIT: &str = "\n=== runs.csv ===\n";

fn sweep_output(tmp: &Path) -> Option<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let sweep = Path::new(root).join("tests/fuzz/corpus/sweep/embedded-zip.toml");
    let out = tmp.join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(["sweep", &sweep.to_string_lossy(), "-j", "1", "-o"])
        .arg(&out)
        .output()
        .ok()?;
    if !o.status.success() {
        eprintln!("sweep failed: {}", String::from_utf8_lossy(&o.stderr));
        return None;
    }
    let json = std::fs::read_to_string(out.join("sweep.json")).ok()?;
    let csv = std::fs::read_to_string(out.join("runs.csv")).ok()?;
    Some(format!("{json}{SPLIT}{csv}"))
}

#[test]
fn fuzz_sweep_json() {
    let tmp = std::env::temp_dir().join(format!("hasim-fuzz-sweep-json-{}", std::process::id()));
    let part = tmp.join("part");
    std::fs::create_dir_all(&part).unwrap();
    let mut corpus: Vec<String> = engine::files("tests/fuzz/corpus/sweep_json", &[".txt"])
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    corpus.extend(sweep_output(&tmp));
    engine::fuzz("fuzz_sweep_json", corpus, 1500, |text| {
        let (json, csv) = text.split_once(SPLIT).unwrap_or((text, ""));
        std::fs::write(part.join("sweep.json"), json).unwrap();
        std::fs::write(part.join("runs.csv"), csv).unwrap();
        match hasim::sweep::read_part(&part) {
            Err(e) => {
                assert!(!e.to_string().is_empty());
                Verdict::Refused
            }
            Ok((info, rows)) => {
                assert_eq!(rows.len(), info.runs_done);
                Verdict::Accepted
            }
        }
    });
    let _ = std::fs::remove_dir_all(&tmp);
}
