//! Fuzz target: sweep files (an experiment with `[sweep]`, or a sweep file
//! naming its experiment). Any text is accepted or refused with a
//! `ConfigError` naming the file — never a panic, never a hang; an accepted
//! sweep builds its first and last points.
//!
//! Corpus: experiments with `[sweep]` and `tests/fuzz/corpus/sweep/`; the
//! sweep is read as if it were `experiments/fuzz-sweep.toml`, so that
//! `experiment = "app-tier-nginx.toml"` names a real file.

use crate::engine;

use engine::Verdict;

fn corpus() -> Vec<String> {
    let mut c: Vec<String> = engine::files("experiments", &[".toml"])
        .into_iter()
        .map(|(_, t)| t)
        .filter(|t| t.contains("[sweep"))
        .collect();
    c.extend(
        engine::files("tests/fuzz/corpus/sweep", &[".toml"])
            .into_iter()
            .map(|(_, t)| t),
    );
    c
}

fn check(text: &str) -> Verdict {
    // A mutated path must not read a device forever.
    if text.contains("/dev") || text.contains("/proc") {
        return Verdict::Refused;
    }
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/experiments/fuzz-sweep.toml");
    match hasim::sweep::spec::parse(text, file) {
        Err(e) => {
            assert!(e.to_string().starts_with("error: "), "{e}");
            assert!(!e.message.is_empty());
            Verdict::Refused
        }
        Ok(s) => {
            let n = s.points_len();
            assert!(n >= 1);
            for i in [0, n - 1] {
                let _ = s.point_labels(i);
                let _ = s.spec(i);
            }
            Verdict::Accepted
        }
    }
}

#[test]
fn fuzz_sweep() {
    engine::fuzz("fuzz_sweep", corpus(), 3000, check);
}
