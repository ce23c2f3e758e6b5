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

/// The products' codes behind failures of one database kind
/// (`"db_not_ready"`, ...), most frequent first: (code, count).
pub fn db_codes(r: &RunResult, name: &str) -> Vec<(String, u64)> {
    let k = FAILURE_KINDS
        .iter()
        .position(|k| *k == name)
        .expect("a failure kind");
    r.recorder
        .db_codes
        .of_kind(k)
        .into_iter()
        .map(|(e, n)| (e.code.to_string(), n))
        .collect()
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

/// A fresh, empty folder for one test under the system's temp dir
/// (`hasim-<area>-<test>-<pid>`), with its real path (the temp dir may be
/// behind a symbolic link).
pub fn scratch_dir(area: &str, test: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("hasim-{area}-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::canonicalize(d).unwrap()
}

/// Every file under `dir`, recursively (relative path -> bytes).
pub fn snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The files of a sweep's output folder but hasim's manifest (which says
/// which command wrote it: sweep or merge).
pub fn sweep_snapshot(dir: &std::path::Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut s = snapshot(dir);
    s.remove(hasim::output::MANIFEST);
    s
}

/// Two sweep outputs hold the same files with the same bytes.
pub fn assert_same_sweep(a: &std::path::Path, b: &std::path::Path) {
    let (x, y) = (sweep_snapshot(a), sweep_snapshot(b));
    assert_eq!(
        x.keys().collect::<Vec<_>>(),
        y.keys().collect::<Vec<_>>(),
        "{} and {} hold other files",
        a.display(),
        b.display()
    );
    for (name, bytes) in &x {
        assert!(
            *bytes == y[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

/// The names in `dir`, sorted.
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}
