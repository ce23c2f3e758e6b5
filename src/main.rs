//! The `hasim` command line: the binary's edge, where errors become messages
//! and exit codes (0 done, 1 a check failed, 2 bad input).

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use hasim::config::{self, spec::ExperimentSpec};
use hasim::engine::SimTime;
use hasim::output::{Claim, OutputDir};
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
    /// Print only errors and warnings (no summary, progress or output lines;
    /// the files are written all the same).
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Run one experiment: prints the summary and writes summary.txt,
    /// summary.json, timeline.csv, events.csv, timeline.png/.svg and a
    /// zoomed fault-N.png/.svg per fault (and report.html with --html).
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
        /// Where the merged sweep goes (replaced as a whole if hasim wrote it).
        #[arg(short, long)]
        output: PathBuf,
        /// Replace the output folder even if hasim did not write it.
        #[arg(long)]
        force: bool,
    },
    /// Write report.html, one self-contained page (plots inlined, no
    /// network), into a run's or a sweep's output folder that hasim wrote.
    Report {
        /// The output folder of `hasim run` or `hasim sweep`.
        dir: PathBuf,
    },
    /// Compare a run with its baseline: every metric old -> new with its
    /// tolerance, and an overlay plot of both timelines. Exit 1 when a metric
    /// is beyond tolerance.
    Diff(DiffArgs),
    /// Is B better than A? Runs two experiments with the same seeds 1..N
    /// (or reads two `hasim run --metrics` output folders) and prints the
    /// settings that differ, each figure side by side with the 95% interval
    /// of the paired difference and a verdict; writes compare.txt,
    /// compare.json and an overlay compare.png/.svg.
    Compare(CompareArgs),
    /// Turn real configuration files (haproxy.cfg, nginx.conf, patroni.yml,
    /// a Galera my.cnf, etcd's flags) into an experiment file: their
    /// topology, each value with its file:line, the workload and faults as
    /// placeholders. What hasim does not model is listed as warnings.
    Import(ImportArgs),
    /// Print a shell completion script: `hasim completions bash >
    /// ~/.local/share/bash-completion/completions/hasim` (zsh: a file `_hasim`
    /// on `$fpath`; fish: `~/.config/fish/completions/hasim.fish`).
    Completions { shell: clap_complete::Shell },
}

/// `--quiet`: set once, before anything prints.
static QUIET: AtomicBool = AtomicBool::new(false);

fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
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
    /// output/<sweep>.shard-K-of-N/ for a part). Replaced as a whole if
    /// hasim wrote it; any other non-empty folder is refused.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replications per point (replaces the sweep's `replications`).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    replications: Option<u32>,
    /// Continue an interrupted sweep: run only the runs its journal lacks;
    /// the result is the same bytes as an uninterrupted sweep.
    #[arg(long)]
    resume: bool,
    /// Replace an output folder hasim did not write, or start over although
    /// an interrupted sweep left a journal.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct CompareArgs {
    /// A: an experiment file, or a `hasim run --metrics` output folder.
    a: PathBuf,
    /// B: the same kind as A.
    b: PathBuf,
    /// Runs per experiment, with seeds 1..N (paired: the same for A and B).
    #[arg(long, default_value_t = hasim::compare::DEFAULT_REPLICATIONS,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    replications: u32,
    /// Threads (default: every core); the output never depends on it.
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..=4096))]
    jobs: Option<u32>,
    /// Output folder (default: output/compare-<A>-vs-<B>/). Replaced as a
    /// whole if hasim wrote it; any other non-empty folder is refused.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace the output folder even if hasim did not write it.
    #[arg(long)]
    force: bool,
}

#[derive(clap::Args)]
struct ImportArgs {
    /// The configuration files, told apart by name or content.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Write the experiment here (default: print it). An existing file is
    /// replaced only with --force; an input file never.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    force: bool,
    /// The workload instead of a placeholder: `vus=N` (closed loop, like k6)
    /// or `rate=N` (requests/s), with `method=GET|POST`, `timeout=DUR`,
    /// `sleep=DUR`, `target=NODE`, comma-separated.
    #[arg(long, value_name = "SPEC")]
    clients: Option<String>,
    /// A fault instead of the placeholder, repeatable:
    /// `KIND:TARGET@AT[+RECOVER_AFTER]`, e.g. `power-off:db1@60s+30s`.
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,
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
    /// Output folder (default: output/<experiment name>/). Replaced as a
    /// whole if hasim wrote it; any other non-empty folder is refused.
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Replace the output folder even if hasim did not write it (never the
    /// current folder, its parents, the home folder or one holding the input).
    #[arg(long)]
    force: bool,
    /// Also write trace.csv: one row per request (start, end, client, outcome,
    /// latency). Large for long runs.
    #[arg(long)]
    trace: bool,
    /// Run twice, in two separate processes, and compare every output file
    /// byte for byte (summary, CSV, plots, metrics.json, and trace.csv with
    /// --trace); the first run's output is kept. Exit 1 and print the seed to
    /// reproduce if they differ.
    #[arg(long)]
    check_determinism: bool,
    /// Only validate the file and print the resolved topology.
    #[arg(long)]
    dry_run: bool,
    /// Also write metrics.json: the figures sweeps tabulate and `hasim diff`
    /// compares with a baseline.
    #[arg(long)]
    metrics: bool,
    /// Exit 0 although a `[thresholds]` condition is crossed (the
    /// determinism check's own runs).
    #[arg(long, hide = true)]
    no_threshold_exit: bool,
    /// Also write report.html: one self-contained page with the summary,
    /// the plots, every fault, data safety and the state changes.
    #[arg(long)]
    html: bool,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    QUIET.store(cli.quiet, Ordering::Relaxed);
    handle_signals();
    match cli.command {
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "hasim", &mut std::io::stdout());
            ExitCode::SUCCESS
        }
        Command::Presets { name } => presets(name.as_deref()),
        Command::Sweep(args) => sweep(&args),
        Command::Merge {
            dirs,
            output,
            force,
        } => merge(&dirs, &output, force),
        Command::Diff(args) => diff(&args),
        Command::Compare(args) => compare(&args),
        Command::Report { dir } => report_dir(&dir),
        Command::Import(args) => import(&args),
        Command::Run(args) => match run(&args) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(1)
            }
        },
    }
}

/// Set by the first Ctrl-C, SIGTERM or SIGHUP (what Slurm and Kubernetes
/// send): a run stops and writes nothing, a sweep stops starting runs and
/// writes the finished ones. A second signal exits at once, removing this
/// process's staging folders first.
static STOP: AtomicBool = AtomicBool::new(false);

fn handle_signals() {
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            hasim::output::remove_staging();
            std::process::exit(130);
        }
        eprintln!("\ninterrupted: stopping (signal again to quit at once)");
    });
}

fn presets(name: Option<&str>) -> ExitCode {
    match name {
        None => {
            for (product, p) in config::presets::all() {
                println!("{:<14} for {:<18} ({})", p.name, product.noun(), p.file);
            }
            ExitCode::SUCCESS
        }
        Some(n) => match config::presets::find(n) {
            Some((_, p)) => {
                print!("{}", p.text);
                ExitCode::SUCCESS
            }
            None => {
                let names: Vec<&str> = config::presets::all().map(|(_, p)| p.name).collect();
                // `hasim presets haproxy`: the product's own presets first.
                let of_product: Vec<&str> = config::presets::all()
                    .filter(|(product, p)| product.name == n || p.name.starts_with(n))
                    .map(|(_, p)| p.name)
                    .collect();
                let hint = match of_product.as_slice() {
                    [] => config::suggest(n, names.iter().copied())
                        .map_or(String::new(), |s| format!("; did you mean `{s}`?")),
                    [one] => format!("; did you mean `{one}`?"),
                    many => format!("; did you mean one of {}?", many.join(", ")),
                };
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
        return check_determinism(args, &spec, seed, &out_dir);
    }
    // The output folder is checked and locked before anything is simulated.
    let claim = Claim {
        kind: "run",
        force: args.force,
        inputs: vec![args.file.clone(), PathBuf::from(&spec.file)],
    };
    let out = match OutputDir::claim(&out_dir, &claim) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(if e.is_refusal() { 2 } else { 1 }));
        }
    };

    let started = Instant::now();
    let mut sim = Sim::new(&spec, seed);
    if args.trace {
        let p = out.staging().join("trace.csv");
        let f = std::fs::File::create(&p).with_context(|| format!("creating {}", p.display()))?;
        sim.start_trace(Box::new(BufWriter::new(f)));
    }
    if !run_with_progress(&mut sim, started) {
        // `out` is dropped: its staging folder (and the trace) goes with it.
        eprintln!("interrupted: the run did not finish; nothing was written");
        return Ok(ExitCode::from(130));
    }
    let events = sim.events_handled();
    let mut result = sim.finish();
    if let Some(mut w) = result.recorder.trace.take() {
        w.flush().context("writing trace.csv")?;
    }
    let wall = started.elapsed().as_secs_f64();

    // A finished run is written even if a signal comes now: it takes a moment.
    if !quiet() {
        print!("{}", report::summary_text(&result));
    }
    let dir = out.staging();
    report::write::write_files(&result, dir)
        .with_context(|| format!("writing {}", out_dir.display()))?;
    if args.metrics {
        let p = dir.join("metrics.json");
        std::fs::write(&p, hasim::sweep::metrics::metrics_json(&result))
            .with_context(|| format!("writing {}", p.display()))?;
    }
    if args.html {
        // From the files just written, as `hasim report` reads them.
        report::html::write_into(dir).with_context(|| format!("writing {}", out_dir.display()))?;
    }
    let stats = RunStats::new(events, wall);
    let p = dir.join("run.json");
    std::fs::write(&p, stats.json()).with_context(|| format!("writing {}", p.display()))?;
    out.commit()
        .with_context(|| format!("writing {}", out_dir.display()))?;
    if !quiet() {
        eprintln!("{}", stats.line());
        eprintln!("output: {}", out_dir.display());
    }
    Ok(threshold_exit(
        report::thresholds::crossed(&result.thresholds),
        args.no_threshold_exit,
    ))
}

/// Exit 1 when a `[thresholds]` condition was crossed (after every output
/// was written), saying so on stderr.
fn threshold_exit(crossed: usize, ignore: bool) -> ExitCode {
    if crossed == 0 || ignore {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "{crossed} threshold{} crossed (see the summary's `thresholds`): exit 1",
        if crossed == 1 { "" } else { "s" }
    );
    ExitCode::from(1)
}

/// Runs to the end; on a terminal, after a second, shows simulated progress.
/// False when a signal stopped it first.
fn run_with_progress(sim: &mut Sim, started: Instant) -> bool {
    let tty = std::io::stderr().is_terminal() && !quiet();
    let end = sim.end.0;
    let step = (end / 200).max(1);
    let mut t = 0;
    let mut shown = false;
    while t < end {
        if STOP.load(Ordering::Relaxed) {
            return false;
        }
        t = t.saturating_add(step).min(end);
        sim.run_until(SimTime(t));
        if tty && started.elapsed().as_secs_f64() > 1.0 {
            shown = true;
            eprint!(
                "\r  simulated {:.1}s of {:.1}s ({:.0}%)   ",
                t as f64 / 1e9,
                end as f64 / 1e9,
                t as f64 * 100.0 / end as f64
            );
        }
    }
    if shown {
        eprintln!();
    }
    true
}

/// Runs the experiment in two separate processes at once — one writing the
/// real output folder, one a scratch folder under `TMPDIR` — and compares
/// every file they wrote but `run.json` (wall time and memory).
fn check_determinism(
    args: &RunArgs,
    spec: &ExperimentSpec,
    seed: u64,
    out_dir: &Path,
) -> Result<ExitCode> {
    let tmp = match scratch_root() {
        Ok(t) => t,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(2));
        }
    };
    let scratch = tmp.join(format!("hasim-determinism-{}", std::process::id()));
    let other = scratch.join(&spec.name);
    let result = (|| -> Result<Option<ExitCode>> {
        let exe = std::env::current_exe().context("finding the hasim binary")?;
        let child = |dir: &Path, force: bool| {
            let mut c = std::process::Command::new(&exe);
            c.arg("run")
                .arg(&args.file)
                .arg("--seed")
                .arg(seed.to_string())
                .arg("-o")
                .arg(dir)
                .arg("--metrics")
                .arg("--no-threshold-exit")
                .stdout(std::process::Stdio::null());
            if args.trace {
                c.arg("--trace");
            }
            if args.html {
                c.arg("--html");
            }
            if force {
                c.arg("--force");
            }
            c
        };
        std::fs::create_dir_all(&scratch)
            .with_context(|| format!("creating {}", scratch.display()))?;
        let mut a = child(out_dir, args.force)
            .spawn()
            .context("starting the first run")?;
        let mut b = child(&other, false)
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting the second run")?;
        let (sa, sb) = (a.wait()?, b.wait()?);
        if !sa.success() {
            return Ok(Some(ExitCode::from(
                sa.code().unwrap_or(1).clamp(1, 255) as u8
            )));
        }
        anyhow::ensure!(sb.success(), "the second run failed ({sb})");
        Ok(None)
    })();
    let verdict = match result {
        Ok(None) => compare_outputs(out_dir, &other),
        Ok(Some(code)) => Ok(Err(code)),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&scratch);
    let (compared, differ) = match verdict? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    if differ.is_empty() {
        println!(
            "determinism check passed: two processes with seed {seed} wrote identical bytes ({})",
            compared.join(", ")
        );
        Ok(threshold_exit(crossed_in(out_dir), args.no_threshold_exit))
    } else {
        for name in differ {
            eprintln!("determinism check FAILED: {name} differs between two runs with seed {seed}");
        }
        eprintln!(
            "reproduce with: hasim run {} --seed {seed} --check-determinism",
            args.file.display()
        );
        Ok(ExitCode::from(1))
    }
}

/// Conditions of `summary.json`'s `thresholds` that failed.
fn crossed_in(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| {
            v["thresholds"]
                .as_array()
                .map(|a| a.iter().filter(|c| c["pass"] == false).count())
        })
        .unwrap_or(0)
}

type Compared = std::result::Result<(Vec<String>, Vec<String>), ExitCode>;

/// The files of both folders but run.json: (compared, differing).
fn compare_outputs(a: &Path, b: &Path) -> Result<Compared> {
    let names = |d: &Path| -> Result<Vec<String>> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .with_context(|| format!("reading {}", d.display()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n != "run.json")
            .collect();
        v.sort();
        Ok(v)
    };
    let (na, nb) = (names(a)?, names(b)?);
    let mut differ: Vec<String> = na.iter().filter(|n| !nb.contains(n)).cloned().collect();
    differ.extend(nb.iter().filter(|n| !na.contains(n)).cloned());
    for n in na.iter().filter(|n| nb.contains(n)) {
        let read = |d: &Path| std::fs::read(d.join(n)).with_context(|| format!("reading {n}"));
        if read(a)? != read(b)? {
            differ.push(n.clone());
        }
    }
    Ok(Ok((na, differ)))
}

/// The user's temporary folder: `TMPDIR` when set, which must then exist.
fn scratch_root() -> std::result::Result<PathBuf, String> {
    match std::env::var_os("TMPDIR") {
        Some(t) if !t.is_empty() => {
            let p = PathBuf::from(&t);
            if p.is_dir() {
                Ok(p)
            } else {
                Err(format!(
                    "TMPDIR={} is not an existing folder; the determinism check needs one for its second run",
                    p.display()
                ))
            }
        }
        _ => Ok(std::env::temp_dir()),
    }
}

fn sweep(args: &SweepArgs) -> ExitCode {
    let opts = hasim::sweep::Options {
        jobs: args.jobs.map(|j| j as usize),
        shard: args.shard,
        replications: args.replications,
        output: args.output.clone(),
        progress: std::io::stderr().is_terminal() && !quiet(),
        force: args.force,
        resume: args.resume,
        // Before the progress bar: how much is about to run.
        on_plan: (!quiet()).then_some(announce_plan as fn(&_)),
    };
    match hasim::sweep::run(&args.file, &opts, &STOP) {
        Ok(o) if quiet() => {
            if o.interrupted {
                eprintln!("{}", o.interruption_message());
                return ExitCode::from(130);
            }
            ExitCode::SUCCESS
        }
        Ok(o) => {
            let i = &o.info;
            println!("{}", plan_line(i));
            if o.kept_earlier {
                println!(
                    "output: {} (unchanged: the complete earlier result)",
                    o.dir.display()
                );
            } else {
                println!("output: {} ({})", o.dir.display(), o.files.join(", "));
            }
            if let Some((crossed, runs)) = o.thresholds_crossed {
                println!(
                    "thresholds: crossed in {crossed} of {runs} runs (per point: thresholds_crossed in points.csv)"
                );
            }
            eprintln!(
                "sweep: {} of {} runs in {:.2}s wall on {} threads = {:.1} runs/s",
                i.runs_done,
                o.planned,
                o.wall_s,
                o.threads,
                i.runs_done as f64 / o.wall_s.max(1e-9)
            );
            if o.interrupted {
                eprintln!("{}", o.interruption_message());
                return ExitCode::from(130);
            }
            ExitCode::SUCCESS
        }
        Err(e) => sweep_error(e),
    }
}

fn announce_plan(i: &hasim::sweep::table::SweepInfo) {
    eprintln!("{}", plan_line(i));
}

fn plan_line(i: &hasim::sweep::table::SweepInfo) -> String {
    let part = i
        .shard
        .as_ref()
        .map_or(String::new(), |s| format!(", shard {s}"));
    let s = |n: usize| if n == 1 { "" } else { "s" };
    format!(
        "sweep {}: {} point{} x {} replication{} = {} run{}{part}",
        i.sweep,
        i.points,
        s(i.points),
        i.replications,
        s(i.replications as usize),
        i.runs,
        s(i.runs)
    )
}

fn sweep_error(e: hasim::sweep::SweepError) -> ExitCode {
    use hasim::report::ReportError;
    use hasim::sweep::SweepError;
    eprintln!("{e}");
    match e {
        SweepError::Config(_) | SweepError::Input(_) => ExitCode::from(2),
        SweepError::Report(ReportError::Output(o)) if o.is_refusal() => ExitCode::from(2),
        SweepError::Report(_) => ExitCode::from(1),
    }
}

fn merge(dirs: &[PathBuf], output: &Path, force: bool) -> ExitCode {
    match hasim::sweep::merge(dirs, output, force) {
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

fn compare(args: &CompareArgs) -> ExitCode {
    let opts = hasim::compare::Options {
        replications: args.replications,
        jobs: args.jobs.map(|j| j as usize),
        output: args.output.clone(),
        force: args.force,
    };
    let started = Instant::now();
    match hasim::compare::run(&args.a, &args.b, &opts, &STOP) {
        Ok(Some(o)) => {
            if !quiet() {
                print!("{}", o.text);
                if o.runs > 0 {
                    eprintln!(
                        "compare: {} runs in {:.2}s wall on {} threads",
                        o.runs,
                        started.elapsed().as_secs_f64(),
                        o.threads
                    );
                }
                eprintln!("output: {} ({})", o.dir.display(), o.files.join(", "));
            }
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("interrupted: the comparison did not finish; nothing was written");
            ExitCode::from(130)
        }
        Err(e) => sweep_error(e),
    }
}

/// `hasim report DIR`.
fn report_dir(dir: &Path) -> ExitCode {
    match report::html::report_folder(dir) {
        Ok(kind) => {
            if !quiet() {
                println!(
                    "report of the {} in {}: {}",
                    kind.name(),
                    dir.display(),
                    dir.join(report::html::REPORT).display()
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
    }
}

fn import(args: &ImportArgs) -> ExitCode {
    use hasim::import;
    let opts = import::Options {
        clients: args.clients.clone(),
        faults: args.faults.clone(),
    };
    let result = import::import(&args.files, &opts).and_then(|imported| {
        if let Some(out) = &args.output {
            import::write_output(out, &imported.toml, &args.files, args.force)?;
        }
        Ok(imported)
    });
    match result {
        Ok(imported) => {
            for w in &imported.warnings {
                eprintln!("warning: {w}");
            }
            match &args.output {
                None => print!("{}", imported.toml),
                Some(out) if !quiet() => eprintln!(
                    "wrote {} ({} directives not modelled, listed at its end); next: hasim run {}",
                    out.display(),
                    imported.warnings.len(),
                    out.display()
                ),
                Some(_) => {}
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(if e.is_bad_input() { 2 } else { 1 })
        }
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
    let args = &match with_plot_file(args) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("error: {msg}");
            return ExitCode::from(2);
        }
    };
    match diff::diff(&args.baseline, &args.new, args.plot.as_deref()) {
        Ok(d) => {
            if !quiet() {
                print!("{}", d.text);
            }
            if let Err(e) = record_plot(args) {
                eprintln!("error: {e}");
                return ExitCode::from(1);
            }
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

/// `--plot` names a PNG file; a folder gets `diff.png` inside it.
fn with_plot_file(args: &DiffArgs) -> Result<DiffArgs, String> {
    let plot = match &args.plot {
        Some(p) if p.is_dir() => Some(p.join("diff.png")),
        Some(p) if p.extension().is_none_or(|e| !e.eq_ignore_ascii_case("png")) => {
            return Err(format!(
                "--plot {}: give a file name ending in .png (the SVG goes beside it) or a folder",
                p.display()
            ));
        }
        other => other.clone(),
    };
    Ok(DiffArgs {
        baseline: args.baseline.clone(),
        new: args.new.clone(),
        update: args.update,
        plot,
    })
}

/// The overlay plot joins the manifest of the hasim output folder it was
/// drawn into, which therefore stays replaceable by the next run.
fn record_plot(args: &DiffArgs) -> Result<(), hasim::output::OutputError> {
    let png = match &args.plot {
        Some(p) => p.clone(),
        None if args.new.is_dir() => args.new.join("diff.png"),
        None => return Ok(()),
    };
    let (Some(dir), Some(name)) = (png.parent(), png.file_name()) else {
        return Ok(());
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let png_name = name.to_string_lossy().into_owned();
    let svg = png.with_extension("svg");
    let svg_name = svg
        .file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned());
    hasim::output::add_to_manifest(dir, &[&png_name, &svg_name])
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
