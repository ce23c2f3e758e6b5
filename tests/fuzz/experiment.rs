//! Fuzz target: experiment files. Any text is accepted or refused with a
//! `ConfigError` naming the file — never a panic, never a hang; an accepted
//! experiment describes itself (`--dry-run`) in output linear in its size,
//! and, when small, runs (shortened to 1 s).
//!
//! Corpus: `experiments/`, `tests/validation/`, and regressions in
//! `tests/fuzz/corpus/experiment/`. See `tests/fuzz/engine.rs` for the
//! knobs (`HASIM_FUZZ_INPUTS`, `HASIM_FUZZ_SEED`); `scripts/fuzz` runs
//! millions.

use crate::engine;

use engine::Verdict;
use hasim::config::spec::NodeKind;
use hasim::engine::{Dur, SimTime};
use hasim::products::client::config::LoadSpec;
use std::sync::atomic::{AtomicU64, Ordering};

fn corpus() -> Vec<String> {
    let mut c = Vec::new();
    for dir in [
        "experiments",
        "tests/validation",
        "tests/fuzz/corpus/experiment",
    ] {
        c.extend(engine::files(dir, &[".toml"]).into_iter().map(|(_, t)| t));
    }
    c
}

fn check(text: &str) -> Verdict {
    match hasim::config::parse(text, "fuzz.toml") {
        Err(e) => {
            let shown = e.to_string();
            // In the file, or in a preset it uses.
            assert!(
                shown.starts_with("error: fuzz.toml") || shown.starts_with("error: models/"),
                "{shown}"
            );
            assert!(!e.message.is_empty());
            Verdict::Refused
        }
        Ok(mut spec) => {
            let shown = hasim::describe::topology(&spec, 1);
            let limit = 4096 * (spec.nodes.len() + spec.faults.len()) + text.len() * 8 + 65536;
            assert!(
                shown.len() <= limit,
                "--dry-run prints {} bytes",
                shown.len()
            );
            // Run the small ones, shortened.
            let small = spec.nodes.len() <= 40
                && spec.nodes.values().all(|n| match &n.kind {
                    NodeKind::Client(c) => match &c.load {
                        LoadSpec::Open(o) => o.rate_steps.iter().all(|s| s.1 <= 2000.0),
                        LoadSpec::Closed(l) => l.vus <= 100,
                    },
                    _ => true,
                });
            if small {
                spec.duration = spec.duration.min(Dur::from_secs(1));
                let mut sim = hasim::sim::Sim::new(&spec, 1);
                // In 1 ms slices, within an event budget: a valid setting
                // that makes an event storm (a timer firing every few ns)
                // is counted and shown, not waited for.
                let mut t = SimTime::ZERO;
                while sim.run_until(t) {
                    if sim.events_handled() > MAX_EVENTS {
                        storm(text, sim.events_handled(), sim.now());
                        break;
                    }
                    t += Dur::from_ms(1);
                }
                let _ = sim.finish();
            }
            Verdict::Accepted
        }
    }
}

/// Events one shortened run may take (a healthy 1 s run takes far fewer).
const MAX_EVENTS: u64 = 3_000_000;

static STORMS: AtomicU64 = AtomicU64::new(0);

fn storm(text: &str, events: u64, now: SimTime) {
    if STORMS.fetch_add(1, Ordering::SeqCst) < 3 {
        println!(
            "fuzz_experiment: event storm: {events} events by {:.6}s simulated in:\n{text}\n---",
            now.as_secs_f64()
        );
    }
}

#[test]
fn fuzz_experiment() {
    engine::fuzz("fuzz_experiment", corpus(), 5000, check);
    let storms = STORMS.load(Ordering::SeqCst);
    println!("fuzz_experiment: {storms} accepted inputs made an event storm (run stopped)");
}
