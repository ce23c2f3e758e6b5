//! Fuzz targets, one per parser (experiment, sweep file, sweep.json, baseline, the readers of `hasim import`): a bounded number of inputs here; scripts/fuzz runs millions.
//!
//! One test binary per area (fewer links, one build): each module below
//! was a test file of its own; `cargo test --test fuzz <module>::` runs one.

mod engine;

mod baseline;
mod experiment;
mod import;
mod sweep;
mod sweep_json;
