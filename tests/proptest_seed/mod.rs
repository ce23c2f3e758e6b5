//! Reproducible property tests. Every proptest in `tests/` takes its
//! configuration from `config`:
//! - the RNG seed is fixed (`DEFAULT_SEED`), so CI draws the same cases on
//!   every run and passes or fails for a reason, not by chance;
//! - `PROPTEST_RNG_SEED=N` runs with seed N instead (to replay a reported
//!   seed), `HASIM_PROPTEST_FRESH=1` with a fresh seed drawn from the OS
//!   (a new search); the seed in use is printed, and a failing test shows it;
//! - `PROPTEST_CASES=N` sets the number of cases;
//! - a failing case's seed is appended to `proptest-regressions/<test>.txt`
//!   (commit it), and those seeds are replayed before any new case
//!   (`PROPTEST_DISABLE_FAILURE_PERSISTENCE` turns the file off).

#![allow(dead_code)]

use proptest::test_runner::{Config, FileFailurePersistence, RngSeed};

/// The seed CI runs with.
pub const DEFAULT_SEED: u64 = 1;

/// The RNG seed of this run: fresh with `HASIM_PROPTEST_FRESH=1`, else
/// `PROPTEST_RNG_SEED`, else `DEFAULT_SEED`.
pub fn seed() -> u64 {
    let fresh = std::env::var("HASIM_PROPTEST_FRESH").is_ok_and(|v| !v.is_empty() && v != "0");
    if fresh {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        h.write_u128(t);
        return h.finish();
    }
    match std::env::var("PROPTEST_RNG_SEED") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("PROPTEST_RNG_SEED={v}: expected a u64")),
        Err(_) => DEFAULT_SEED,
    }
}

/// `PROPTEST_CASES`, else `default`.
pub fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// How to rerun with `seed`: printed at the start and in failure messages.
pub fn rerun(test: &str, seed: u64) -> String {
    format!(
        "proptest RNG seed {seed}; rerun with PROPTEST_RNG_SEED={seed} cargo test --test properties {test}"
    )
}

/// The configuration of a property of `tests/<test>.rs` that must hold:
/// fixed or fresh seed (printed), failures persisted to
/// `proptest-regressions/<test>.txt` and replayed first.
pub fn config(test: &'static str, default_cases: u32) -> (Config, u64) {
    let seed = seed();
    eprintln!("{}", rerun(test, seed));
    let path = format!(
        "{}/proptest-regressions/{test}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let path: &'static str = Box::leak(path.into_boxed_str());
    let persistence = std::env::var_os("PROPTEST_DISABLE_FAILURE_PERSISTENCE").is_none();
    let config = Config {
        cases: cases(default_cases),
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: persistence
            .then(|| Box::new(FileFailurePersistence::Direct(path)) as Box<_>),
        ..Config::default()
    };
    (config, seed)
}

/// The configuration of a search that must find a violation (an unsafe
/// setting): the same seed rules, nothing persisted (the failure is the
/// expected outcome).
pub fn config_expecting_failure(test: &'static str, default_cases: u32) -> (Config, u64) {
    let (mut config, seed) = config(test, default_cases);
    config.failure_persistence = None;
    (config, seed)
}
