//! The journal of a sweep in progress: every finished run appended as it
//! finishes, so that an interruption — Ctrl-C, SIGTERM, even SIGKILL or a
//! node that goes away — loses no finished run, and `hasim sweep --resume`
//! runs only the missing ones.
//!
//! It lives beside the output folder, in `.<name>.partial/` (hidden, and
//! outside the folder that is replaced as a whole):
//! - `plan.json`: the `sweep.json` of the planned sweep (shard,
//!   replications, the input hash), written before any run; `--resume`
//!   refuses a journal whose plan differs from the sweep it is given;
//! - `journal`: text lines, each written with one `write` call as its run
//!   finishes. `names <metric>...` gives the metric names of the `run`
//!   lines after it; `run <point> <replication> <seed> <value>...` is one
//!   run, its values in Rust's shortest round-trip form (`{:?}`: the same
//!   `f64` reads back; `NaN` for no value). A last line without its line
//!   end was torn by a kill: it is ignored, and cut off before appending.
//!
//! The folder is removed once the complete output is committed.

use super::table::{RunRow, SweepInfo};
use crate::engine::rng::derive_seed;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The plan's file name in the journal folder.
pub const PLAN: &str = "plan.json";
/// The runs' file name in the journal folder.
pub const RUNS: &str = "journal";

/// The journal folder of output folder `out`: `.<name>.partial` beside it
/// (the parent resolved, so every spelling of `out` finds the same one).
pub fn location(out: &Path) -> io::Result<PathBuf> {
    let abs = std::path::absolute(out)?;
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            c => clean.push(c),
        }
    }
    let name = clean.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "an output folder needs a name")
    })?;
    let name = format!(".{}.partial", name.to_string_lossy());
    let parent = clean.parent().unwrap_or(Path::new("/"));
    let parent = fs::canonicalize(parent).unwrap_or_else(|_| parent.to_path_buf());
    Ok(parent.join(name))
}

/// What an existing journal folder holds.
#[derive(Debug)]
pub struct Found {
    /// The plan, as written (`None`: killed before it was written).
    pub plan: Option<String>,
    /// The complete lines' runs, unchecked (duplicates dropped).
    pub rows: Vec<RunRow>,
    /// Bytes of the journal up to the end of its last complete line.
    complete_len: u64,
}

/// Reads the journal folder `dir`; `Ok(None)` when there is none.
pub fn read(dir: &Path) -> Result<Option<Found>, String> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
        Ok(m) if !m.is_dir() => {
            return Err(format!(
                "{} is not a folder (hasim keeps the journal of an interrupted sweep there); move it away",
                dir.display()
            ));
        }
        Ok(_) => {}
    }
    let plan = match fs::read_to_string(dir.join(PLAN)) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", dir.join(PLAN).display())),
    };
    let runs = dir.join(RUNS);
    let text = match fs::read(&runs) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(format!("{}: {e}", runs.display())),
    };
    let (rows, complete_len) = parse(&text).map_err(|e| format!("{}: {e}", runs.display()))?;
    Ok(Some(Found {
        plan,
        rows,
        complete_len,
    }))
}

/// The runs of a journal's text and the length of its complete lines.
pub fn parse(text: &[u8]) -> Result<(Vec<RunRow>, u64), String> {
    let complete_len = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let whole = std::str::from_utf8(&text[..complete_len])
        .map_err(|_| "damaged (not text); pass --force to start over".to_string())?;
    let mut names: Option<Vec<String>> = None;
    let mut rows: Vec<RunRow> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in whole.lines().enumerate() {
        let bad = |what: &str| {
            format!(
                "line {}: {what}; the journal is damaged: pass --force to start over",
                i + 1
            )
        };
        let mut words = line.split(' ');
        match words.next() {
            Some("names") => names = Some(words.map(String::from).collect()),
            Some("run") => {
                let names = names.as_ref().ok_or_else(|| bad("a run before `names`"))?;
                let mut int = || words.next().and_then(|w| w.parse::<u64>().ok());
                let (point, rep, seed) = match (int(), int(), int()) {
                    (Some(p), Some(r), Some(s)) => (p, r, s),
                    _ => return Err(bad("expected `run <point> <replication> <seed>`")),
                };
                let point = usize::try_from(point).map_err(|_| bad("point out of range"))?;
                let rep = u32::try_from(rep).map_err(|_| bad("replication out of range"))?;
                let values: Vec<f64> = words
                    .map(str::parse::<f64>)
                    .collect::<Result<_, _>>()
                    .map_err(|_| bad("a value is not a number"))?;
                if values.len() != names.len() {
                    return Err(bad(&format!(
                        "{} values for {} names",
                        values.len(),
                        names.len()
                    )));
                }
                if seen.insert((point, rep)) {
                    rows.push(RunRow {
                        point,
                        rep,
                        seed,
                        metrics: names.iter().cloned().zip(values).collect(),
                    });
                }
            }
            _ => return Err(bad("not a journal line")),
        }
    }
    Ok((rows, complete_len as u64))
}

/// The runs of `found` that belong to `plan` (the journal's plan being the
/// same): in range, in its shard, each with its derived seed. Anything else
/// means a damaged journal.
pub fn check(rows: &[RunRow], plan: &SweepInfo) -> Result<(), String> {
    let shard = plan
        .shard
        .as_deref()
        .and_then(|s| s.parse::<super::Shard>().ok());
    for r in rows {
        let g = r.point.saturating_mul(plan.replications as usize) + r.rep as usize;
        let ok = r.point < plan.points
            && r.rep < plan.replications
            && shard.is_none_or(|s| g % s.count == s.index)
            && r.seed == derive_seed(plan.seed, r.point as u64, u64::from(r.rep));
        if !ok {
            return Err(format!(
                "run (point {}, replication {}, seed {}) is not one of this sweep's; \
                 the journal is damaged: pass --force to start over",
                r.point, r.rep, r.seed
            ));
        }
    }
    Ok(())
}

/// Which top-level fields of two `sweep.json`s differ (for messages).
pub fn differences(a: &str, b: &str) -> Vec<String> {
    let parse = |t: &str| serde_json::from_str::<serde_json::Value>(t).ok();
    match (parse(a), parse(b)) {
        (Some(serde_json::Value::Object(x)), Some(serde_json::Value::Object(y))) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            keys.into_iter()
                .filter(|k| x.get(*k) != y.get(*k))
                .cloned()
                .collect()
        }
        _ => vec!["(unreadable plan)".into()],
    }
}

/// An open journal: appends runs from any thread.
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    w: Mutex<Writer>,
}

#[derive(Debug)]
struct Writer {
    file: File,
    /// The names of the last `names` line this process wrote.
    names: Option<Vec<String>>,
    /// The first write that failed: reported at the end.
    error: Option<io::Error>,
}

impl Journal {
    /// Starts a new journal in `dir` for `plan` (the planned sweep's
    /// `sweep.json`), removing any earlier one.
    pub fn create(dir: &Path, plan: &str) -> io::Result<Journal> {
        match fs::remove_dir_all(dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{PLAN}.tmp"));
        fs::write(&tmp, plan)?;
        fs::rename(&tmp, dir.join(PLAN))?;
        Self::open(dir, 0)
    }

    /// Continues the journal in `dir` that [`read`] gave `found`: cuts a
    /// torn last line off, then appends.
    pub fn resume(dir: &Path, found: &Found) -> io::Result<Journal> {
        Self::open(dir, found.complete_len)
    }

    fn open(dir: &Path, keep: u64) -> io::Result<Journal> {
        let path = dir.join(RUNS);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        file.set_len(keep)?;
        drop(file);
        let file = OpenOptions::new().append(true).open(&path)?;
        Ok(Journal {
            dir: dir.to_path_buf(),
            w: Mutex::new(Writer {
                file,
                names: None,
                error: None,
            }),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Appends one finished run (one `write`, so a kill leaves at most a
    /// torn last line). A failure is kept for [`Journal::finish`]; the
    /// return value says whether the journal still works.
    pub fn record(&self, row: &RunRow) -> bool {
        let mut w = match self.w.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        if w.error.is_some() {
            return false;
        }
        let mut line = String::new();
        let same = w
            .names
            .as_ref()
            .is_some_and(|n| n.iter().eq(row.metrics.iter().map(|(m, _)| m)));
        if !same {
            line.push_str("names");
            for (n, _) in &row.metrics {
                line.push(' ');
                line.push_str(n);
            }
            line.push('\n');
        }
        line.push_str(&format!("run {} {} {}", row.point, row.rep, row.seed));
        for (_, v) in &row.metrics {
            line.push_str(&format!(" {v:?}"));
        }
        line.push('\n');
        match w.file.write_all(line.as_bytes()) {
            Ok(()) => {
                if !same {
                    w.names = Some(row.metrics.iter().map(|(n, _)| n.clone()).collect());
                }
                true
            }
            Err(e) => {
                w.error = Some(e);
                false
            }
        }
    }

    /// The first write error, if any.
    pub fn finish(&self) -> io::Result<()> {
        let mut w = match self.w.lock() {
            Ok(w) => w,
            Err(p) => p.into_inner(),
        };
        match w.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Removes the journal folder (its runs are in a committed output).
    pub fn remove(self) -> io::Result<()> {
        let Journal { dir, w } = self;
        drop(w);
        fs::remove_dir_all(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(point: usize, rep: u32, vals: &[f64]) -> RunRow {
        RunRow {
            point,
            rep,
            seed: derive_seed(7, point as u64, u64::from(rep)),
            metrics: vals
                .iter()
                .enumerate()
                .map(|(i, &v)| (["requests", "failed", "f1_detect_s"][i].to_string(), v))
                .collect(),
        }
    }

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hasim-journal-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        d
    }

    /// Each row as text with its values' bits (NaN as one: no value).
    fn bits(rows: &[RunRow]) -> Vec<String> {
        rows.iter()
            .map(|r| {
                let m: Vec<String> = r
                    .metrics
                    .iter()
                    .map(|(n, v)| format!("{n}={:x}", if v.is_nan() { 1 } else { v.to_bits() }))
                    .collect();
                format!("{} {} {} {}", r.point, r.rep, r.seed, m.join(" "))
            })
            .collect()
    }

    #[test]
    fn runs_round_trip_exactly_and_a_torn_line_is_cut_off() {
        let d = scratch("torn");
        let j = Journal::create(&d, "{}").unwrap();
        let rows = vec![
            row(0, 0, &[0.1 + 0.2, 1e-300, f64::NAN]),
            row(0, 1, &[-0.0, 123456789.12345679, 5e-324]),
            row(2, 0, &[f64::MAX, 1.0 / 3.0, 2.5]),
        ];
        for r in &rows {
            assert!(j.record(r));
        }
        // Other names: a new `names` line.
        let mut other = row(1, 0, &[1.0, 2.0]);
        other.metrics.reverse();
        assert!(j.record(&other));
        j.finish().unwrap();
        drop(j);
        let found = read(&d).unwrap().unwrap();
        assert_eq!(found.plan.as_deref(), Some("{}"));
        let mut want = rows.clone();
        want.push(other.clone());
        assert_eq!(bits(&found.rows), bits(&want));
        assert_eq!(found.rows[1].metrics[0].1.to_bits(), (-0.0f64).to_bits());

        // A kill in the middle of a line: it is ignored, then cut off.
        let path = d.join(RUNS);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"run 3 0 12345 1.5 2").unwrap();
        drop(f);
        let found = read(&d).unwrap().unwrap();
        assert_eq!(found.rows.len(), 4);
        let j = Journal::resume(&d, &found).unwrap();
        assert!(j.record(&row(3, 1, &[1.0, 2.0, 3.0])));
        drop(j);
        let found = read(&d).unwrap().unwrap();
        assert_eq!(found.rows.len(), 5);
        assert_eq!((found.rows[4].point, found.rows[4].rep), (3, 1));
        Journal::resume(&d, &found).unwrap().remove().unwrap();
        assert!(read(&d).unwrap().is_none());
    }

    #[test]
    fn damage_is_refused_and_foreign_runs_found() {
        for (text, want) in [
            ("run 0 0 1 2\n", "a run before `names`"),
            ("names a\nrun 0 0\n", "expected `run"),
            ("names a b\nrun 0 0 1 2\n", "1 values for 2 names"),
            ("names a\nrun 0 0 1 x\n", "not a number"),
            ("names a\nwhat\n", "not a journal line"),
            (
                "names a\nrun 0 99999999999 1 2\n",
                "replication out of range",
            ),
        ] {
            let e = parse(text.as_bytes()).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        // A torn first line: nothing yet.
        assert_eq!(parse(b"names a b").unwrap().0.len(), 0);
        let plan = SweepInfo {
            hasim: "0".into(),
            sweep: "s".into(),
            file: "s.toml".into(),
            experiment_file: "e.toml".into(),
            input_hash: format!("fnv1a64:{:016x}", 0),
            seed: 7,
            mode: "grid".into(),
            replications: 2,
            params: Vec::new(),
            plot: Vec::new(),
            points: 3,
            runs: 6,
            shard: Some("1/2".into()),
            runs_done: 0,
            complete: false,
        };
        // g = 2 * point + rep; shard 1/2 holds the odd ones.
        assert!(check(&[row(0, 1, &[]), row(2, 1, &[])], &plan).is_ok());
        for r in [row(0, 0, &[]), row(3, 1, &[]), row(0, 2, &[])] {
            assert!(check(&[r], &plan).is_err());
        }
        let mut wrong_seed = row(1, 1, &[]);
        wrong_seed.seed += 1;
        assert!(check(&[wrong_seed], &plan).is_err());
        assert_eq!(
            differences(
                r#"{"a": 1, "shard": null, "replications": 2}"#,
                r#"{"a": 1, "shard": "0/2", "replications": 3}"#
            ),
            ["replications", "shard"]
        );
    }
}
