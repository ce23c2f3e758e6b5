//! hasim — a deterministic discrete-event simulator of high-availability
//! topologies: balancers, app tiers and backends, with faults, predicting what
//! clients see.
//!
//! The folder tree is the architecture:
//! - [`engine`]: time, the event queue, random streams, timeouts, slabs;
//! - [`config`]: experiment files and presets -> validated plain data;
//! - [`net`]: hosts, links, partitions and what the kernel does with a packet;
//! - [`process`]: a process on a host: messages, timers, the narrow context a
//!   model sees, the [`process::Process`] trait every model implements;
//! - [`products`]: the registry and one folder per product (its config
//!   reader, model, wire, formulas);
//! - [`protocols`]: protocols several products speak (the DCS API, SQL
//!   sessions);
//! - [`data`]: the writes a database node holds, for the write history;
//! - [`faults`]: the fault schedule;
//! - [`import`]: `hasim import`: real configuration files to an experiment;
//! - [`sim`]: one run: builds the model graph and drives the event loop;
//! - [`metrics`]: request outcomes, histograms, time buckets, state changes;
//! - [`output`]: output folders claimed before a run, staged, swapped in whole;
//! - [`report`]: summary, CSV, plots, analytic formulas beside simulated figures;
//! - [`sweep`]: parameter sweeps in parallel, their tables and plots, shards,
//!   baselines and `hasim diff`;
//! - [`compare`]: `hasim compare`, two configurations side by side over
//!   paired replications.

pub mod compare;
pub mod config;
pub mod data;
pub mod describe;
pub mod engine;
pub mod faults;
pub mod import;
pub mod metrics;
pub mod net;
pub mod output;
pub mod process;
pub mod products;
pub mod protocols;
pub mod report;
pub mod sim;
pub mod sweep;
