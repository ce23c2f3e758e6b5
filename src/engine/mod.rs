//! The discrete-event engine: time, the event queue, seeded random streams,
//! timeouts and the slab that holds in-flight work.
//!
//! # Ordering guarantees (each has a test)
//! 1. Time is an integer number of nanoseconds ([`SimTime`]); no float ever
//!    decides an order. (`time` tests)
//! 2. Events run in order of their instant; events at the same instant run in
//!    the order they were scheduled. (`queue::tests::same_instant_events_pop_in_scheduling_order`)
//! 3. The clock never goes back, and an event scheduled for an instant already
//!    past runs at the current instant, never before the event that caused it:
//!    a component never sees a message from the future or the past.
//!    (`queue::tests::an_event_scheduled_in_the_past_runs_now_not_before`)
//! 4. Every component draws from its own stream derived from (seed, component
//!    name); adding a component leaves the others' draws unchanged. (`rng` tests)
//! 5. A crashed process handles nothing: messages to it are answered by its
//!    kernel (RST) or dropped, and its timers are discarded; a stopped process
//!    handles nothing until it is continued. (`tests/engine/engine_guarantees.rs`)
//! 6. A run is a pure function of (experiment, seed): nothing reads the wall
//!    clock, the environment or a hash map's iteration order while simulating.
//!    (`tests/engine/determinism.rs`)

pub mod deadline;
pub mod queue;
pub mod rng;
pub mod slab;
pub mod time;

pub use deadline::{Deadline, DeadlineFifo};
pub use queue::EventQueue;
pub use rng::Rng;
pub use slab::Slab;
pub use time::{Dur, SimTime, parse_duration};
