//! The `hasim` command line: the binary's edge, where errors become messages
//! and exit codes (0 done, 1 a check failed, 2 bad input).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hasim::config::{self, spec::ExperimentSpec};
use hasim::engine::SimTime;
use hasim::report;
use hasim::sim::Sim;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "hasim",
    version,
    about = "Deterministic simulator of high-availability topologies: \
    predicts what clients see when part of a cluster fails."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one experiment: prints the summary and writes summary.txt,
    /// summary.json, timeline.csv, events.csv and timeline.png/.svg.
    Run(RunArgs),
    /// List the presets (the real software's defaults an experiment builds
    /// on), or print one with the source of every default.
    Presets {
        /// A preset's name, e.g. `haproxy-2.6`.
        name: Option<String>,
    },
    /// Run a parameter sweep (a `[sweep]` table, or a sweep file naming an
    /// experiment) in parallel: runs.csv, points.csv, sweep.json and plots.
    Sweep(SweepArgs),
    /// Join the outputs of `hasim sweep --shard` parts into exactly the files
    /// one run of the whole sweep writes.
    Merge {
        /// Output folders of the parts.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where the merged sweep goes (replaced as a whole).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Compare a run with its baseline: every metric old -> new with its
    /// tolerance, and an overlay plot of both timelines. Exit 1 when a metric
    /// is beyond tolerance.
    Diff(DiffArgs),
}

#[derive(clap::Args)]
struct SweepArgs {
    /// The sweep file, or an experiment file with a `[sweep]` table.
    file: PathBuf,
    /// Threads (default: every core).
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Run only part K of N (K from 0 to N-1): runs g with g % N == K.
    /// `hasim merge` joins the parts.
    #[arg(long, value_name = "K/N")]
    shard: Option<hasim::sweep::Shard>,
    /// Output folder (default: output/<sweep>/, or
    /// output/<sweep>.shard-K-of-N/ for a part). Replaced as a whole.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replications per point (replaces the sweep's `replications`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    replications: Option<u32>,
}

#[derive(clap::Args)]
struct DiffArgs {
    /// The baseline (tests/baselines/<experiment>.json).
    baseline: PathBuf,
    /// A `hasim run` output folder, or another baseline file.
    new: PathBuf,
    /// Write the baseline from NEW instead of comparing (keeps the
    /// tolerances of the current baseline).
    #[arg(long)]
    update: bool,
    /// Where the overlay plot goes (PNG; the SVG beside it). Default:
    /// NEW/diff.png.
    #[arg(long)]
    plot: Option<PathBuf>,
}

#[derive(clap::Args)]
struct RunArgs {
    /// The experiment file (TOML).
    file: PathBuf,
    /// Seed of the run (default: the experiment's `seed`, else 1). Same
    /// experiment + same seed = same output bytes.
    #[arg(long)]
    seed: Option<u64>,
    /// Output folder (default: output/<experiment name>/). Replaced as a whole.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Also write trace.csv: one row per request (start, end, client, outcome,
    /// latency). Large for long runs.
    #[arg(long)]
    trace: bool,
    /// Run twice and compare every output file byte for byte (summary, CSV,
    /// plots); exit 1 and print the seed to reproduce if they differ.
    #[arg(long)]
    check_determinism: bool,
    /// Only validate the file and print the resolved topology.
    #[arg(long)]
    dry_run: bool,
    /// Also write metrics.json: the figures sweeps tabulate and `hasim diff`
    /// compares with a baseline.
    #[arg(long)]
    metrics: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Presets { name } => presets(name.as_deref()),
        Command::Sweep(args) => sweep(&args),
        Command::Merge { dirs, output } => merge(&dirs, &output),
        Command::Diff(args) => diff(&args),
        Command::Run(args) => match run(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

fn presets(name: Option<&str>) -> ExitCode {
    match name {
        None => {
            for p in config::PRESETS {
                println!("{:<14} for {:<18} ({})", p.name, p.kind.noun(), p.file);
            }
            ExitCode::SUCCESS
        }
        Some(n) => match config::PRESETS.iter().find(|p| p.name == n) {
            Some(p) => {
                print!("{}", p.text);
                ExitCode::SUCCESS
            }
            None => {
                let names: Vec<&str> = config::PRESETS.iter().map(|p| p.name).collect();
                let hint = config::suggest(n, names.iter().copied())
                    .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
                eprintln!(
                    "error: no preset `{n}`{hint} (presets: {})",
                    names.join(", ")
                );
                ExitCode::from(2)
            }
        },
    }
}

fn run(args: &RunArgs) -> Result<ExitCode> {
    // A file with a `[sweep]` table (or a sweep file) runs its base point.
    let spec = match hasim::sweep::load_base(&args.file) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(2));
        }
    };
    for w in &spec.warnings {
        eprintln!("warning: {w}");
    }
    let seed = args.seed.unwrap_or(spec.seed);
    if args.dry_run {
        print!("{}", hasim::describe::topology(&spec, seed));
        return Ok(ExitCode::SUCCESS);
    }
    let out_dir = args
        .output
        .clone()
        .unwrap_or_else(|| Path::new("output").join(&spec.name));
    if args.check_determinism {
        return check_determinism(&spec, seed);
    }

    let started = Instant::now();
    let mut sim = Sim::new(&spec, seed);
    // Removed on every way out unless it is moved into the output folder.
    let trace = TempFile(out_dir.with_extension(format!("trace-{}.tmp", std::process::id())));
    if args.trace {
        if let Some(parent) = trace.0.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        let f = std::fs::File::create(&trace.0)
            .with_context(|| format!("creating {}", trace.0.display()))?;
        let mut w = BufWriter::new(f);
        writeln!(w, "start_s,end_s,client,outcome,latency_ms")?;
        sim.rec.trace = Some(Box::new(w));
    }
    run_with_progress(&mut sim, started);
    let events = sim.events_handled();
    let mut result = sim.finish();
    if let Some(mut w) = result.recorder.trace.take() {
        w.flush()?;
    }
    let wall = started.elapsed().as_secs_f64();

    print!("{}", report::summary_text(&result));
    report::write_all(&result, &out_dir)
        .with_context(|| format!("writing {}", out_dir.display()))?;
    if args.trace {
        let dest = out_dir.join("trace.csv");
        std::fs::rename(&trace.0, &dest)
            .with_context(|| format!("moving the trace to {}", dest.display()))?;
    }
    if args.metrics {
        std::fs::write(
            out_dir.join("metrics.json"),
            hasim::sweep::metrics::metrics_json(&result),
        )?;
    }
    let stats = RunStats::new(events, wall);
    std::fs::write(out_dir.join("run.json"), stats.json())?;
    eprintln!("{}", stats.line());
    eprintln!("output: {}", out_dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Runs to the end; on a terminal, after a second, shows simulated progress.
fn run_with_progress(sim: &mut Sim, started: Instant) {
    let tty = std::io::stderr().is_terminal();
    let end = sim.end;
    let step = (end.0 / 200).max(1);
    let mut t = 0;
    let mut shown = false;
    while t < end.0 {
        t = (t + step).min(end.0);
        sim.run_until(SimTime(t));
        if tty && started.elapsed().as_secs_f64() > 1.0 {
            shown = true;
            eprint!(
                "\r  simulated {:.1}s of {:.1}s ({:.0}%)   ",
                t as f64 / 1e9,
                end.0 as f64 / 1e9,
                t as f64 * 100.0 / end.0 as f64
            );
        }
    }
    if shown {
        eprintln!();
    }
}

fn check_determinism(spec: &ExperimentSpec, seed: u64) -> Result<ExitCode> {
    // Both runs are written in full (plots included) to scratch folders.
    let scratch = std::env::temp_dir().join(format!("hasim-determinism-{}", std::process::id()));
    let dirs = [scratch.join("a"), scratch.join("b")];
    let result = (|| -> Result<Vec<&'static str>> {
        for d in &dirs {
            let mut sim = Sim::new(spec, seed);
            sim.run();
            report::write_all(&sim.finish(), d)
                .with_context(|| format!("writing {}", d.display()))?;
        }
        let mut differ = Vec::new();
        for name in report::OUTPUT_FILES {
            if std::fs::read(dirs[0].join(name))? != std::fs::read(dirs[1].join(name))? {
                differ.push(name);
            }
        }
        Ok(differ)
    })();
    let _ = std::fs::remove_dir_all(&scratch);
    let differ = result?;
    if differ.is_empty() {
        println!(
            "determinism check passed: two runs with seed {seed} wrote identical bytes ({})",
            report::OUTPUT_FILES.join(", ")
        );
        Ok(ExitCode::SUCCESS)
    } else {
        for name in differ {
            eprintln!("determinism check FAILED: {name} differs between two runs with seed {seed}");
        }
        eprintln!(
            "reproduce with: hasim run {} --seed {seed} --check-determinism",
            spec.file
        );
        Ok(ExitCode::from(1))
    }
}

/// Set by Ctrl-C: a sweep stops scheduling runs and writes the finished ones.
static STOP: AtomicBool = AtomicBool::new(false);

fn sweep(args: &SweepArgs) -> ExitCode {
    // A second Ctrl-C does not wait for the runs in progress.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
        eprintln!(
            "\ninterrupted: finishing the runs in progress, then writing what finished (Ctrl-C again to quit now)"
        );
    });
    let opts = hasim::sweep::Options {
        jobs: args.jobs.map(|j| j as usize),
        shard: args.shard,
        replications: args.replications,
        output: args.output.clone(),
        progress: std::io::stderr().is_terminal(),
    };
    match hasim::sweep::run(&args.file, &opts, &STOP) {
        Ok(o) => {
            let i = &o.info;
            let part = o
                .info
                .shard
                .as_ref()
                .map_or(String::new(), |s| format!(", shard {s}"));
            println!(
                "sweep {}: {} points x {} replications = {} runs{part}",
                i.sweep, i.points, i.replications, i.runs
            );
            println!("output: {} ({})", o.dir.display(), o.files.join(", "));
            eprintln!(
                "sweep: {} of {} runs in {:.2}s wall on {} threads = {:.1} runs/s",
                i.runs_done,
                o.planned,
                o.wall_s,
                o.threads,
                i.runs_done as f64 / o.wall_s.max(1e-9)
            );
            if o.interrupted {
                eprintln!(
                    "interrupted: wrote the {} finished runs; sweep.json says \"complete\": false",
                    i.runs_done
                );
                return ExitCode::from(130);
            }
            ExitCode::SUCCESS
        }
        Err(e) => sweep_error(e),
    }
}

fn sweep_error(e: hasim::sweep::SweepError) -> ExitCode {
    use hasim::sweep::SweepError;
    eprintln!("{e}");
    match e {
        SweepError::Config(_) | SweepError::Input(_) => ExitCode::from(2),
        SweepError::Report(_) => ExitCode::from(1),
    }
}

fn merge(dirs: &[PathBuf], output: &Path) -> ExitCode {
    match hasim::sweep::merge(dirs, output) {
        Ok(o) => {
            println!(
                "merged {} folders: {} of {} runs{}",
                dirs.len(),
                o.info.runs_done,
                o.info.runs,
                if o.info.complete {
                    ""
                } else {
                    " (incomplete: some parts are missing)"
                }
            );
            println!("output: {} ({})", o.dir.display(), o.files.join(", "));
            ExitCode::SUCCESS
        }
        Err(e) => sweep_error(e),
    }
}

fn diff(args: &DiffArgs) -> ExitCode {
    use hasim::sweep::diff;
    if args.update {
        return match diff::update(&args.baseline, &args.new) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => sweep_error(e),
        };
    }
    match diff::diff(&args.baseline, &args.new, args.plot.as_deref()) {
        Ok(d) => {
            print!("{}", d.text);
            if d.beyond > 0 {
                eprintln!(
                    "{} metrics moved beyond tolerance; if the change is meant, update the baseline: \
                     hasim diff --update {} {}",
                    d.beyond,
                    args.baseline.display(),
                    args.new.display()
                );
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => sweep_error(e),
    }
}

/// A file that must not outlive the command unless moved away.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Figures about the run itself: never in the deterministic outputs.
struct RunStats {
    events: u64,
    wall_s: f64,
    peak_rss_mb: f64,
}

impl RunStats {
    fn new(events: u64, wall_s: f64) -> RunStats {
        RunStats {
            events,
            wall_s,
            peak_rss_mb: peak_rss_mb(),
        }
    }
    fn rate(&self) -> f64 {
        self.events as f64 / self.wall_s.max(1e-9)
    }
    fn line(&self) -> String {
        format!(
            "run: {} events in {:.3}s wall = {:.2}M events/s, peak memory {:.1} MB, 1 thread",
            self.events,
            self.wall_s,
            self.rate() / 1e6,
            self.peak_rss_mb
        )
    }
    fn json(&self) -> String {
        format!(
            "{{\"events\": {}, \"wall_s\": {:.3}, \"events_per_s\": {:.0}, \"peak_rss_mb\": {:.1}, \"threads\": 1}}\n",
            self.events,
            self.wall_s,
            self.rate(),
            self.peak_rss_mb
        )
    }
}

/// Peak resident set size (VmHWM) on Linux; 0 where unknown.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
