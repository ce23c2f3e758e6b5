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
//! - [`journal`]: finished runs kept as they finish, for `--resume`.
//!
//! What hasim reads back (`hasim merge`'s parts) goes through
//! [`read_part`]: [`table::parse_sweep_info`] and [`table::parse_runs_csv`]
//! check everything, so a crafted or damaged file is bad input (exit 2).
//!
//! A sweep's outputs are a pure function of (sweep file, experiment): the
//! thread count, the shard split and the order runs finish in never show.

pub mod diff;
pub mod journal;
pub mod metrics;
pub mod plot;
pub mod spec;
pub mod table;

pub use spec::{Sweep, load, load_base, strip_sweep};

use crate::config::ConfigError;
use crate::engine::rng::derive_seed;
use crate::output::{Claim, OutputDir};
use crate::report::ReportError;
use crate::sim::Sim;
use journal::Journal;
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
    /// Replace an output folder hasim did not write, or a complete earlier
    /// result with an interrupted one.
    pub force: bool,
    /// Continue an interrupted sweep: run only the runs its journal lacks.
    pub resume: bool,
    /// Told the plan (points, replications, runs, shard) once the sweep is
    /// checked and before any run starts, so that the caller can say what
    /// is about to happen before a long wait.
    pub on_plan: Option<fn(&SweepInfo)>,
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
    /// Of `info.runs_done`, the runs an earlier, interrupted invocation
    /// left in the journal (`--resume`).
    pub resumed: usize,
    pub files: Vec<String>,
    pub threads: usize,
    pub wall_s: f64,
    /// A signal (Ctrl-C, SIGTERM, SIGHUP) stopped it before every planned
    /// run finished.
    pub interrupted: bool,
    /// Interrupted: where the finished runs are kept for `--resume`.
    pub journal: Option<PathBuf>,
    /// Interrupted while the output folder held a complete earlier result:
    /// that was kept (nothing written; `--force` replaces it).
    pub kept_earlier: bool,
    /// With `[thresholds]`: (runs that crossed one, runs done).
    pub thresholds_crossed: Option<(usize, usize)>,
}

impl Outcome {
    /// What to tell the user after an interruption (empty otherwise).
    pub fn interruption_message(&self) -> String {
        if !self.interrupted {
            return String::new();
        }
        let journal = self.journal.as_ref().map_or(String::new(), |j| {
            format!(
                "; they are kept in {}: `hasim sweep --resume` runs the rest",
                j.display()
            )
        });
        if self.kept_earlier {
            format!(
                "interrupted: kept the complete earlier result in {} (--force replaces it with an incomplete one); {} finished runs{journal}",
                self.dir.display(),
                self.info.runs_done
            )
        } else {
            format!(
                "interrupted: wrote the {} finished runs; sweep.json says \"complete\": false{journal}",
                self.info.runs_done
            )
        }
    }
}

/// Runs the sweep in `path`; `stop` turning true (Ctrl-C, SIGTERM) stops
/// scheduling runs, and the finished ones are written (`complete: false`)
/// unless the output holds a complete earlier result (kept unless
/// `force`). Every finished run is also appended to a journal beside the
/// output ([`journal`]) as it finishes, so that `opts.resume` can run only
/// the missing ones after any interruption, even SIGKILL.
///
/// - A journal left by an interrupted sweep and no `resume`: refused
///   (exit 2) unless `force` (which starts over).
/// - `resume` with a journal of another plan (sweep, experiment,
///   replications, shard or hasim differ): refused, unless `force`.
/// - `resume` without a journal: the whole sweep runs (so a job script may
///   always pass `--resume`).
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
    let out = OutputDir::claim(
        &dir,
        &Claim {
            kind: "sweep",
            force: opts.force,
            inputs: vec![path.to_path_buf()],
        },
    )
    .map_err(ReportError::from)?;

    let mut plan = SweepInfo::new(&sweep);
    plan.shard = opts.shard.map(|s| s.to_string());
    let (jour, prior) = open_journal(&dir, &plan, opts)?;
    if let Some(announce) = opts.on_plan {
        announce(&plan);
    }

    let reps = sweep.replications as usize;
    let total = specs.len() * reps;
    let done: std::collections::HashSet<(usize, u32)> =
        prior.iter().map(|r| (r.point, r.rep)).collect();
    let planned: Vec<(usize, u32)> = (0..total)
        .filter(|g| opts.shard.is_none_or(|s| g % s.count == s.index))
        .map(|g| (g / reps, (g % reps) as u32))
        .collect();
    let todo: Vec<(usize, u32)> = planned
        .iter()
        .copied()
        .filter(|k| !done.contains(k))
        .collect();
    let threads = opts
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let bar = progress_bar(planned.len(), opts.progress);
    bar.inc(prior.len() as u64);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Input(format!("cannot start {threads} threads: {e}")))?;
    let base = sweep.seed;
    let broken = AtomicBool::new(false);
    let results: Vec<Option<RunRow>> = pool.install(|| {
        use rayon::prelude::*;
        todo.par_iter()
            .map(|&(point, rep)| {
                if stop.load(Ordering::Relaxed) || broken.load(Ordering::Relaxed) {
                    return None;
                }
                let seed = derive_seed(base, point as u64, rep as u64);
                let mut sim = Sim::new(&specs[point], seed);
                sim.run();
                let result = sim.finish();
                let mut m = metrics::run_metrics(&result);
                if !specs[point].thresholds.is_empty() {
                    let crossed = crate::report::thresholds::crossed(&result.thresholds);
                    m.push((metrics::THRESHOLDS_CROSSED.into(), f64::from(crossed > 0)));
                }
                let row = RunRow {
                    point,
                    rep,
                    seed,
                    metrics: m,
                };
                if !jour.record(&row) {
                    broken.store(true, Ordering::Relaxed);
                }
                bar.inc(1);
                Some(row)
            })
            .collect()
    });
    bar.finish_and_clear();
    jour.finish()
        .map_err(ReportError::io(&jour.dir().join(journal::RUNS)))?;
    let resumed = prior.len();
    let mut rows = prior;
    rows.extend(results.into_iter().flatten());
    let interrupted = rows.len() < planned.len();

    let mut info = plan;
    info.runs_done = rows.len();
    info.complete = !interrupted;
    let mut outcome = Outcome {
        dir,
        info,
        planned: planned.len(),
        resumed,
        files: Vec::new(),
        threads,
        wall_s: 0.0,
        interrupted,
        journal: None,
        kept_earlier: false,
        thresholds_crossed: crossed_runs(&rows),
    };
    if interrupted && !opts.force && holds_complete_result(&outcome.dir) {
        // Dropping `out` removes the staging folder; the journal stays.
        outcome.kept_earlier = true;
    } else {
        outcome.files = write(&outcome.info, rows, out)?;
    }
    if interrupted {
        outcome.journal = Some(jour.dir().to_path_buf());
    } else {
        let j = jour.dir().to_path_buf();
        jour.remove().map_err(ReportError::io(&j))?;
    }
    outcome.wall_s = started.elapsed().as_secs_f64();
    Ok(outcome)
}

/// Opens the journal of output folder `dir` for `plan`: a new one, or (with
/// `resume`) the one an interrupted sweep left, with its runs. See [`run`]
/// for the rules.
fn open_journal(
    dir: &Path,
    plan: &SweepInfo,
    opts: &Options,
) -> Result<(Journal, Vec<RunRow>), SweepError> {
    let jdir = journal::location(dir).map_err(ReportError::io(dir))?;
    let plan_json = plan.json();
    let found = journal::read(&jdir).map_err(SweepError::Input)?;
    let fresh = || -> Result<(Journal, Vec<RunRow>), SweepError> {
        let j = Journal::create(&jdir, &plan_json).map_err(ReportError::io(&jdir))?;
        Ok((j, Vec::new()))
    };
    let Some(found) = found else {
        return fresh();
    };
    let n = found.rows.len();
    if !opts.resume {
        if opts.force {
            return fresh();
        }
        return Err(SweepError::Input(format!(
            "an interrupted sweep left {n} finished run{} in {}: continue it with --resume, or pass --force to start over",
            if n == 1 { "" } else { "s" },
            jdir.display()
        )));
    }
    let Some(old) = &found.plan else {
        // Killed before its plan was written: nothing ran.
        return fresh();
    };
    if *old != plan_json {
        if opts.force {
            return fresh();
        }
        return Err(SweepError::Input(format!(
            "{} holds {n} finished runs of another sweep (its plan differs in: {}); \
             --resume continues only with the same sweep file, experiment, --replications, --shard and hasim; \
             pass --force to start over",
            jdir.display(),
            journal::differences(old, &plan_json).join(", ")
        )));
    }
    journal::check(&found.rows, plan)
        .map_err(|e| SweepError::Input(format!("{}: {e}", jdir.join(journal::RUNS).display())))?;
    let j = Journal::resume(&jdir, &found).map_err(ReportError::io(&jdir))?;
    Ok((j, found.rows))
}

/// Whether `dir/sweep.json` says it holds every run it was asked for.
fn holds_complete_result(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("sweep.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|v| v["complete"] == serde_json::Value::Bool(true))
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
fn write(info: &SweepInfo, rows: Vec<RunRow>, out: OutputDir) -> Result<Vec<String>, ReportError> {
    let t = Table::new(rows);
    let mut files = Vec::new();
    let tmp = out.staging();
    let mut text = |name: &str, body: String| {
        let p = tmp.join(name);
        std::fs::write(&p, body).map_err(ReportError::io(&p))?;
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
    out.commit()?;
    Ok(files)
}

/// Reads one output folder of `hasim sweep` (a shard's part, or a whole or
/// interrupted sweep) back: its `sweep.json` parsed and checked
/// ([`table::parse_sweep_info`]) and its `runs.csv` rows, each checked to
/// be a run of that sweep ([`table::parse_runs_csv`]). Anything crafted or
/// damaged is [`SweepError::Input`] (exit 2) naming the file.
pub fn read_part(dir: &Path) -> Result<(SweepInfo, Vec<RunRow>), SweepError> {
    /// Far beyond any sweep.json hasim writes (a million values, quoted).
    const MAX_INFO_BYTES: u64 = 256 << 20;
    let read = |p: PathBuf| -> Result<String, SweepError> {
        let bad = |e: String| SweepError::Input(format!("{}: {e}", p.display()));
        let meta = std::fs::metadata(&p).map_err(|e| bad(e.to_string()))?;
        if !meta.is_file() {
            return Err(bad("not a file".into()));
        }
        if p.ends_with("sweep.json") && meta.len() > MAX_INFO_BYTES {
            return Err(bad(format!(
                "{} bytes; a sweep.json hasim writes is far smaller",
                meta.len()
            )));
        }
        std::fs::read_to_string(&p).map_err(|e| bad(e.to_string()))
    };
    let json = dir.join("sweep.json");
    let info = table::parse_sweep_info(&read(json.clone())?)
        .map_err(|e| SweepError::Input(format!("{}: {e}", json.display())))?;
    let csv = dir.join("runs.csv");
    let rows = table::parse_runs_csv(&read(csv.clone())?, &info)
        .map_err(|e| SweepError::Input(format!("{}: {e}", csv.display())))?;
    if rows.len() != info.runs_done {
        return Err(SweepError::Input(format!(
            "{}: {} runs, but sweep.json says `runs_done`: {}",
            csv.display(),
            rows.len(),
            info.runs_done
        )));
    }
    Ok((info, rows))
}

/// Joins the outputs of shards (or of interrupted runs) of one sweep into
/// `out`: exactly the files a single run of the whole sweep writes.
pub fn merge(dirs: &[PathBuf], out: &Path, force: bool) -> Result<Outcome, SweepError> {
    let started = Instant::now();
    if dirs.is_empty() {
        return Err(SweepError::Input("nothing to merge".into()));
    }
    let claimed = OutputDir::claim(
        out,
        &Claim {
            kind: "merge",
            force,
            inputs: dirs.to_vec(),
        },
    )
    .map_err(ReportError::from)?;
    let mut info: Option<SweepInfo> = None;
    let mut rows: Vec<(RunRow, &PathBuf)> = Vec::new();
    for d in dirs {
        let (i, part) = read_part(d)?;
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
                    "{} holds another sweep than {} (sweep.json differs beyond `shard`, `runs_done` and `complete`: {})",
                    d.display(),
                    dirs[0].display(),
                    journal::differences(&first.json(), &i.json()).join(", ")
                )));
            }
            Some(_) => {}
        }
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
    let files = write(&info, kept, claimed)?;
    Ok(Outcome {
        dir: out.to_path_buf(),
        planned: info.runs,
        info,
        resumed: 0,
        files,
        threads: 1,
        wall_s: started.elapsed().as_secs_f64(),
        interrupted: false,
        journal: None,
        kept_earlier: false,
        thresholds_crossed: None,
    })
}

/// (runs that crossed a threshold, runs that have the column), when any has.
fn crossed_runs(rows: &[RunRow]) -> Option<(usize, usize)> {
    let flags: Vec<bool> = rows
        .iter()
        .filter_map(|r| {
            r.metrics
                .iter()
                .find(|(n, _)| n == metrics::THRESHOLDS_CROSSED)
                .map(|(_, v)| *v > 0.0)
        })
        .collect();
    (!flags.is_empty()).then(|| (flags.iter().filter(|&&c| c).count(), flags.len()))
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
