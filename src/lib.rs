//! hasim — a deterministic discrete-event simulator of high-availability
//! topologies: balancers, app tiers and backends, with faults, predicting what
//! clients see.
//!
//! The folder tree is the architecture:
//! - [`engine`]: time, the event queue, random streams, timeouts, slabs;
//! - [`config`]: experiment files and presets -> validated plain data;
//! - [`net`]: hosts, links, partitions and what the kernel does with a packet;
//! - [`components`]: the models (client, haproxy, nginx, app, server);
//! - [`faults`]: the fault schedule;
//! - [`sim`]: one run: builds the model graph and drives the event loop;
//! - [`metrics`]: request outcomes, histograms, time buckets, state changes;
//! - [`output`]: output folders claimed before a run, staged, swapped in whole;
//! - [`report`]: summary, CSV, plots, analytic formulas beside simulated figures;
//! - [`sweep`]: parameter sweeps in parallel, their tables and plots, shards,
//!   baselines and `hasim diff`.

pub mod components;
pub mod config;
pub mod describe;
pub mod engine;
pub mod faults;
pub mod metrics;
pub mod net;
pub mod output;
pub mod report;
pub mod sim;
pub mod sweep;
