//! What a run produces: the summary (text and JSON), CSV files and plots.
//! Figures about the run itself (wall time, events/s, memory) never go into
//! these files, which must be byte-identical for the same experiment and seed.

use crate::engine::{Dur, SimTime};
use crate::metrics::{Recorder, Window};

/// The analytic range a reference formula gives for a figure, printed beside
/// the simulated value so a user sees whether model and formula agree.
#[derive(Clone, Debug, PartialEq)]
pub struct FormulaRange {
    pub lo: Dur,
    pub hi: Dur,
    /// The formula with its symbols, e.g. `U(0,inter) + fall*d + (fall-1)*fastinter`.
    pub formula: String,
}

/// One fault action (an injection or a recovery) and what followed it.
#[derive(Clone, Debug)]
pub struct FaultReport {
    /// e.g. `kill s2`, `recover s2`, `partition [lb] | [s1 s2]`.
    pub label: String,
    pub is_recovery: bool,
    pub at: SimTime,
    pub targets: Vec<String>,
    /// First reaction of the component that must react (balancer marks the
    /// target down, or up for a recovery): when, who, and its words.
    pub detected: Option<Detection>,
    /// The first reaction of each other product that reacted after it
    /// (HAProxy marking a node DOWN after Galera evicted it), with its own
    /// formula.
    pub also_detected: Vec<AlsoDetected>,
    /// Failed requests attributed to this action (until the next one).
    pub window: Window,
    /// p99 and max latency (ms) of requests issued between this action and
    /// the next.
    pub p99_ms_after: f64,
    pub max_ms_after: f64,
    pub formula_detect: Option<FormulaRange>,
    pub formula_window_end: Option<FormulaRange>,
}

/// A later reaction to a fault by another product, and its formula.
#[derive(Clone, Debug, PartialEq)]
pub struct AlsoDetected {
    pub detection: Detection,
    pub formula: Option<FormulaRange>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub at: SimTime,
    pub by: String,
    pub detail: String,
}

/// Everything a run produced, ready to be written.
pub struct RunResult {
    pub experiment: String,
    pub description: String,
    pub file: String,
    pub seed: u64,
    pub duration: Dur,
    /// How the run started: formed after a warm-up, or cold.
    pub start: crate::config::spec::StartSpec,
    pub recorder: Recorder,
    pub faults: Vec<FaultReport>,
    /// The write-history checker's findings, when there are databases.
    pub history: Option<crate::metrics::history::HistoryReport>,
    /// Settings the real software accepts although they risk data, as the
    /// configuration warned about them (`file:line: key: risk`).
    pub warnings: Vec<String>,
    /// Reference breakdowns of a failover, phase by phase, for the clusters
    /// that have one (Patroni: ttl expiry, leader race, promotion, checks).
    pub breakdowns: Vec<Breakdown>,
    /// The experiment's `[thresholds]`, checked against this run.
    pub thresholds: Vec<thresholds::Checked>,
}

/// The health checks a balancer runs on a cluster member: `inter`,
/// `fastinter`, `rise` (HAProxy's names; the failover phases count them).
#[derive(Clone, Copy, Debug)]
pub struct CheckTiming {
    pub inter: crate::engine::Dur,
    pub fastinter: crate::engine::Dur,
    pub rise: u32,
}

/// The analytic phases of one cluster's failover: (phase, lo, hi).
#[derive(Clone, Debug, PartialEq)]
pub struct Breakdown {
    pub cluster: String,
    pub title: String,
    pub rows: Vec<(String, Dur, Dur)>,
}

mod data;
mod fmt;
pub mod html;
pub mod plot;
pub mod summary;
pub mod tables;
#[cfg(test)]
pub(crate) mod testutil;
pub mod thresholds;
pub mod write;

pub use plot::{fault_plots, timeline_plot};
pub use summary::{summary_json, summary_text};
pub use tables::{events_csv, timeline_csv};
pub use write::{OUTPUT_FILES, ReportError, output_files, write_all};
