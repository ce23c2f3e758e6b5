//! Parameter sweeps: any experiment key over a list, a range or a log range,
//! several keys as a grid or zipped, replications with seeds derived from
//! (base seed, point, replication); runs in parallel, writes tidy CSV and
//! plots; splits into shards that merge back to the same bytes.
//!
//! - [`spec`]: the `[sweep]` table and sweep files;
//! - [`metrics`]: the figures of one run ([`metrics::run_metrics`]);
//! - [`table`]: `runs.csv`, `points.csv`, `sweep.json`;
//! - [`plot`]: metric-by-parameter lines with bands, heatmaps;
//! - [`diff`]: baselines and `hasim diff` (regression plots in CI).
//!
//! A sweep's outputs are a pure function of (sweep file, experiment): the
//! thread count, the shard split and the order runs finish in never show.

pub mod diff;
pub mod metrics;
pub mod plot;
pub mod spec;
pub mod table;

pub use spec::{Sweep, load, load_base, strip_sweep};

use crate::config::ConfigError;
use crate::engine::rng::derive_seed;
use crate::report::ReportError;
use crate::report::write::write_set;
use crate::sim::Sim;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;
use table::{RunRow, SweepInfo, Table};

/// Part `index` (0-based) of `count` equal parts of a sweep: run `g` (in
/// point-major order, `g = point * replications + replication`) belongs to
/// part `g % count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("`{s}`: expected K/N with 0 <= K < N, e.g. 0/4");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (index, count): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How to run a sweep.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Threads (default: every core).
    pub jobs: Option<usize>,
    pub shard: Option<Shard>,
    /// Replaces the sweep's `replications`.
    pub replications: Option<u32>,
    /// Output folder (default `output/<sweep>/`, or
    /// `output/<sweep>.shard-K-of-N/` for a shard).
    pub output: Option<PathBuf>,
    /// Show a progress bar with ETA on stderr.
    pub progress: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// Bad input (exit 2): nothing ran, nothing was written.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Outputs that do not belong together (exit 2): nothing was written.
    #[error("error: {0}")]
    Input(String),
    /// Writing failed (exit 1): the output folder is as it was.
    #[error("error: {0}")]
    Report(#[from] ReportError),
}

/// What a sweep or a merge wrote.
#[derive(Debug)]
pub struct Outcome {
    pub dir: PathBuf,
    pub info: SweepInfo,
    /// Runs this invocation was to do (a shard's part, or all).
    pub planned: usize,
    pub files: Vec<String>,
    pub threads: usize,
    pub wall_s: f64,
    /// Ctrl-C stopped it before every planned run finished.
    pub interrupted: bool,
}

/// Runs the sweep in `path`; `stop` turning true (Ctrl-C) stops scheduling
/// runs, and the finished ones are written (`complete: false`).
pub fn run(path: &Path, opts: &Options, stop: &AtomicBool) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    let mut sweep = spec::load(path)?;
    if let Some(r) = opts.replications {
        sweep.replications = r.max(1);
    }
    let specs = sweep.specs()?;
    let dir = opts.output.clone().unwrap_or_else(|| {
        let name = match opts.shard {
            None => sweep.name.clone(),
            Some(s) => format!("{}.shard-{}-of-{}", sweep.name, s.index, s.count),
        };
        Path::new("output").join(name)
    });
    if dir.exists() && !dir.is_dir() {
        return Err(ReportError::NotADirectory { path: dir }.into());
    }

    let reps = sweep.replications as usize;
    let total = specs.len() * reps;
    let todo: Vec<(usize, u32)> = (0..total)
        .filter(|g| opts.shard.is_none_or(|s| g % s.count == s.index))
        .map(|g| (g / reps, (g % reps) as u32))
        .collect();
    let threads = opts
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = progress_bar(todo.len(), opts.progress);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Input(format!("cannot start {threads} threads: {e}")))?;
    let base = sweep.seed;
    let results: Vec<Option<RunRow>> = pool.install(|| {
        use rayon::prelude::*;
        todo.par_iter()
            .map(|&(point, rep)| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let seed = derive_seed(base, point as u64, rep as u64);
                let mut sim = Sim::new(&specs[point], seed);
                sim.run();
                let metrics = metrics::run_metrics(&sim.finish());
                bar.inc(1);
                Some(RunRow {
                    point,
                    rep,
                    seed,
                    metrics,
                })
            })
            .collect()
    });
    bar.finish_and_clear();
    let rows: Vec<RunRow> = results.into_iter().flatten().collect();
    let interrupted = rows.len() < todo.len();

    let mut info = SweepInfo::new(&sweep);
    info.shard = opts.shard.map(|s| s.to_string());
    info.runs_done = rows.len();
    info.complete = !interrupted;
    let files = write(&info, rows, &dir)?;
    Ok(Outcome {
        dir,
        info,
        planned: todo.len(),
        files,
        threads,
        wall_s: started.elapsed().as_secs_f64(),
        interrupted,
    })
}

fn progress_bar(len: usize, show: bool) -> indicatif::ProgressBar {
    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "  {bar:40.cyan/blue} {pos}/{len} runs  elapsed {elapsed}  ETA {eta}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Writes the output folder as a set: `sweep.json` and `runs.csv`; for a
/// whole sweep (not a shard) also `points.csv` and the plots.
fn write(info: &SweepInfo, rows: Vec<RunRow>, dir: &Path) -> Result<Vec<String>, ReportError> {
    let t = Table::new(rows);
    let mut files = Vec::new();
    write_set(dir, |tmp| {
        let mut text = |name: &str, body: String| {
            let p = tmp.join(name);
            std::fs::write(&p, body).map_err(|source| ReportError::Io { path: p, source })?;
            files.push(name.to_string());
            Ok::<(), ReportError>(())
        };
        text("sweep.json", info.json())?;
        text("runs.csv", t.runs_csv(info))?;
        if info.shard.is_none() {
            let points = t.points();
            text("points.csv", table::points_csv(info, &points))?;
            files.extend(plot::draw_all(info, &points, tmp)?);
        }
        Ok(())
    })?;
    Ok(files)
}

/// Joins the outputs of shards (or of interrupted runs) of one sweep into
/// `out`: exactly the files a single run of the whole sweep writes.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    if dirs.is_empty() {
        return Err(SweepError::Input("nothing to merge".into()));
    }
    let read = |p: PathBuf| {
        std::fs::read_to_string(&p).map_err(|e| SweepError::Input(format!("{}: {e}", p.display())))
    };
    let mut info: Option<SweepInfo> = None;
    let mut rows: Vec<(RunRow, &PathBuf)> = Vec::new();
    for d in dirs {
        let text = read(d.join("sweep.json"))?;
        let i: SweepInfo = serde_json::from_str(&text).map_err(|e| {
            SweepError::Input(format!(
                "{}: not a sweep's sweep.json: {e}",
                d.join("sweep.json").display()
            ))
        })?;
        let same = |a: &SweepInfo| {
            let strip = |x: &SweepInfo| SweepInfo {
                shard: None,
                runs_done: 0,
                complete: false,
                ..x.clone()
            };
            strip(a) == strip(&i)
        };
        match &info {
            None => info = Some(i.clone()),
            Some(first) if !same(first) => {
                return Err(SweepError::Input(format!(
                    "{} holds another sweep than {} (sweep.json differs beyond `shard`, `runs_done` and `complete`)",
                    d.display(),
                    dirs[0].display()
                )));
            }
            Some(_) => {}
        }
        let csv = read(d.join("runs.csv"))?;
        let part = table::parse_runs_csv(&csv, i.params.len())
            .map_err(|e| SweepError::Input(format!("{}: {e}", d.join("runs.csv").display())))?;
        rows.extend(part.into_iter().map(|r| (r, d)));
    }
    let mut info = info.expect("at least one folder");
    rows.sort_by_key(|(r, _)| (r.point, r.rep));
    let mut kept: Vec<RunRow> = Vec::with_capacity(rows.len());
    let mut from: Vec<&PathBuf> = Vec::with_capacity(rows.len());
    for (r, d) in rows {
        if r.point >= info.points || r.rep >= info.replications {
            return Err(SweepError::Input(format!(
                "{}: run (point {}, replication {}) is outside the sweep",
                d.display(),
                r.point,
                r.rep
            )));
        }
        if let Some(last) = kept.last()
            && (last.point, last.rep) == (r.point, r.rep)
        {
            // Shards may have different columns: compare the values present.
            let values = |x: &RunRow| {
                let mut v: Vec<(String, u64)> = x
                    .metrics
                    .iter()
                    .filter(|m| !m.1.is_nan())
                    .map(|(n, v)| (n.clone(), v.to_bits()))
                    .collect();
                v.sort();
                v
            };
            if last.seed != r.seed || values(last) != values(&r) {
                return Err(SweepError::Input(format!(
                    "run (point {}, replication {}) differs between {} and {}",
                    r.point,
                    r.rep,
                    from.last().expect("kept with it").display(),
                    d.display()
                )));
            }
            continue;
        }
        kept.push(r);
        from.push(d);
    }
    info.shard = None;
    info.runs_done = kept.len();
    info.complete = kept.len() == info.runs;
    let files = write(&info, kept, out)?;
    Ok(Outcome {
        dir: out.to_path_buf(),
        planned: info.runs,
        info,
        files,
        threads: 1,
        wall_s: started.elapsed().as_secs_f64(),
        interrupted: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("1/4".parse::<Shard>(), Ok(Shard { index: 1, count: 4 }));
        for bad in ["4/4", "1", "a/b", "0/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
