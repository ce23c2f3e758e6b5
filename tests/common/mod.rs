//! Helpers shared by the integration tests (each test file is its own crate,
//! so not every file uses every helper).
#![allow(dead_code)]

use hasim::metrics::FAILURE_KINDS;
use hasim::report::RunResult;
use hasim::sim::Sim;

/// Parses an experiment given as text and runs it with seed 1.
pub fn run(text: &str) -> RunResult {
    let spec = hasim::config::parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

/// Failed requests of one kind (`"503"`, `"timeout"`, ...).
pub fn kind(r: &RunResult, name: &str) -> u64 {
    r.recorder.by_kind[FAILURE_KINDS
        .iter()
        .position(|k| *k == name)
        .expect("a failure kind")]
}

/// A `Write` the test keeps a handle on, for the per-request trace.
#[derive(Clone, Default)]
pub struct Shared(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs the `hasim` binary in `cwd`.
pub fn hasim(cwd: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_hasim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("running hasim")
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Exit code, stdout and stderr, for messages.
pub fn show(o: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}
