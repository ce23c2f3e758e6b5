//! The `hasim` binary as a user runs it: exit codes, outputs, bad input, sweeps, output safety, the HTML report.
//! The `hasim` binary as a user runs it: exit codes, outputs, bad input, sweeps, output safety, import.
//!
//! One test binary per area (fewer links, one build): each module below
//! was a test file of its own; `cargo test --test cli <module>::` runs one.

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod cli;
mod compare;
mod html;
mod import;
mod output_safety;
mod sweep;
mod sweep_resume;
mod thresholds;
