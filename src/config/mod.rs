//! Experiment files: parse, merge presets, validate, explain errors.
pub mod spec;
