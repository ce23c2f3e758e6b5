//! Fuzz target: baselines (`tests/baselines/*.json`, read by `hasim diff`).
//! Any text is read or refused with an error — never a panic, never a
//! hang; a baseline that reads is compared with a real one both ways, the
//! comparison printed, and (one in 20) the overlay plot drawn.
//!
//! Corpus: `tests/baselines/` and `tests/fuzz/corpus/baseline/`.

use crate::engine;

use engine::Verdict;
use hasim::sweep::diff;
use std::cell::Cell;
use std::path::{Path, PathBuf};

fn corpus() -> Vec<String> {
    let mut c = Vec::new();
    for dir in ["tests/baselines", "tests/fuzz/corpus/baseline"] {
        c.extend(engine::files(dir, &[".json"]).into_iter().map(|(_, t)| t));
    }
    c
}

#[test]
fn fuzz_baseline() {
    let dir = std::env::temp_dir().join(format!("hasim-fuzz-baseline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input: PathBuf = dir.join("input.json");
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/baselines/app-tier-nginx.json");
    let real = diff::load(&real).unwrap();
    let accepted = Cell::new(0u64);
    engine::fuzz("fuzz_baseline", corpus(), 1500, |text| {
        std::fs::write(&input, text).unwrap();
        match diff::load(&input) {
            Err(e) => {
                assert!(!e.to_string().is_empty());
                Verdict::Refused
            }
            Ok(o) => {
                for (a, b) in [(&o, &real), (&real, &o)] {
                    let rows = diff::compare(a, b);
                    let _ = diff::report(&input, &input, a, b, &rows);
                }
                accepted.set(accepted.get() + 1);
                if accepted.get() % 20 == 1 {
                    diff::overlay(&o, &real, "fuzz", &dir.join("overlay.png")).unwrap();
                }
                let _ = diff::baseline_json(&o, Some(&real));
                Verdict::Accepted
            }
        }
    });
    let _ = std::fs::remove_dir_all(&dir);
}
