//! Property tests (proptest, fixed seed): split-brain and lost writes under random fault schedules, invariants, the schedules that found bugs, edited experiments.
//!
//! One test binary per area (fewer links, one build): each module below
//! was a test file of its own; `cargo test --test properties <module>::` runs one.

#[path = "../common/mod.rs"]
mod common;
#[path = "../proptest_seed/mod.rs"]
mod proptest_seed;

mod config_fuzz;
mod invariants;
mod keepalived;
mod proxysql_galera;
mod redis_cluster;
mod regression;
mod safety;
mod split_brain_galera;
mod split_brain_patroni;
mod split_brain_sentinel;
