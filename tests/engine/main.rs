//! The engine's guarantees: event order, timers, determinism at any thread count.
//!
//! One test binary per area (fewer links, one build): each module below
//! was a test file of its own; `cargo test --test engine <module>::` runs one.

#[path = "../common/mod.rs"]
mod common;

mod determinism;
mod engine_guarantees;
mod per_client;
mod start;
