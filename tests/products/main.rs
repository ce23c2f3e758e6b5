//! Each product's model against its reference: balancers, pools, databases, formulas, the experiment-file examples.
//!
//! One test binary per area (fewer links, one build): each module below
//! was a test file of its own; `cargo test --test products <module>::` runs one.

#[path = "../common/mod.rs"]
mod common;

mod abort;
mod balancers;
mod clients;
mod config_example;
mod etcd;
mod formulas;
mod full_stack;
mod galera;
mod glusterfs;
mod keepalive;
mod mysql;
mod patroni;
mod patroni_crash;
mod patroni_switchover;
mod patroni_versions;
mod php_fpm;
mod pools;
mod readme_example;
mod registry;
