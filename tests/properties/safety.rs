//! What the split-brain property tests share: running a generated schedule
//! and the two safety checks on its write history.

use hasim::metrics::history::HistoryReport;
use hasim::report::RunResult;
use hasim::sim::Sim;
use proptest::test_runner::TestCaseError;

/// Runs the experiment a schedule wrote (seed 1); a text the configuration
/// refuses is not a valid case (rejected, not failed).
pub fn run_schedule(text: &str) -> Result<RunResult, TestCaseError> {
    let spec = hasim::config::parse(text, "schedule.toml")
        .map_err(|e| TestCaseError::reject(format!("not a valid schedule: {e}")))?;
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    Ok(sim.finish())
}

/// Never two groups accepting writes at once (the first cluster).
pub fn no_split_brain(h: &HistoryReport) -> Result<(), TestCaseError> {
    match h.clusters[0].split_brain.first() {
        None => Ok(()),
        Some(i) => Err(TestCaseError::fail(format!(
            "split-brain: two groups accepted writes from {:.3}s to {:.3}s (nodes {:?}); {} acknowledged writes lost",
            i.from.as_secs_f64(),
            i.to.as_secs_f64(),
            i.nodes,
            h.lost.len()
        ))),
    }
}

/// No acknowledged write lost.
pub fn no_lost_writes(h: &HistoryReport) -> Result<(), TestCaseError> {
    match h.lost.first() {
        None => Ok(()),
        Some((op, at)) => Err(TestCaseError::fail(format!(
            "{} acknowledged writes lost (first: op {op} acknowledged at {:.3}s)",
            h.lost.len(),
            at.as_secs_f64()
        ))),
    }
}
