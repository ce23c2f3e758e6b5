//! `hasim compare A B`: is B better than A? Two experiment files are each
//! run with the same N seeds (1..N: paired replications, in parallel), and
//! every key figure is shown for both with its spread, the mean of the
//! paired difference B - A with its 95% interval (Student's t over the N
//! differences), and a verdict: B better, B worse, or no difference beyond
//! noise. Two output folders of `hasim run --metrics` (one run each) are
//! compared value by value, without intervals. First come the settings that
//! differ, each node's table resolved over its preset; last an overlay of
//! both timelines (seed 1) with their fault and detection marks.
//!
//! Every figure here is lower-is-better (failures, windows, detection
//! times, latency, data loss). The outputs are a pure function of the two
//! inputs and N: the thread count never shows.

use crate::config::settings::differences;
use crate::config::spec::ExperimentSpec;
use crate::output::{Claim, OutputDir};
use crate::report::{ReportError, RunResult};
use crate::sim::Sim;
use crate::sweep::SweepError;
use crate::sweep::diff::{self, Observed, Sides};
use crate::sweep::metrics::run_metrics;
use crate::sweep::table::{Stats, round_sig};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Replications per side unless `--replications` says otherwise.
pub const DEFAULT_REPLICATIONS: u32 = 20;

/// Whole-run figures compared, in this order.
const RUN_FIGURES: &[&str] = &[
    "failed",
    "error_window_s",
    "p99_ms",
    "max_ms",
    "false_failovers",
    "lost_writes",
    "failed_but_committed",
    "stale_reads",
    "split_brain_s",
    "no_primary_s",
];
/// Per fault action `N`, `fN_` and these.
const FAULT_FIGURES: &[&str] = &["detect_s", "window_s", "failed", "p99_after_ms"];

/// The files a comparison writes.
pub const FILES: [&str; 4] = ["compare.txt", "compare.json", "compare.png", "compare.svg"];

#[derive(Clone, Debug)]
pub struct Options {
    /// Runs per side (experiment files only).
    pub replications: u32,
    /// Threads (default: every core).
    pub jobs: Option<usize>,
    /// Default `output/compare-<a>-vs-<b>/`.
    pub output: Option<PathBuf>,
    pub force: bool,
}

/// What a comparison wrote.
#[derive(Debug)]
pub struct Outcome {
    pub text: String,
    pub dir: PathBuf,
    pub files: Vec<String>,
    /// Simulated runs (0 for output folders).
    pub runs: usize,
    pub threads: usize,
}

enum Input {
    Experiment(Box<ExperimentSpec>),
    Folder(Box<Observed>),
}

impl Input {
    fn load(p: &Path) -> Result<Input, SweepError> {
        if p.is_dir() {
            let mut o = diff::load(p)?;
            o.detections = folder_detections(p);
            if o.experiment.is_empty() {
                o.experiment = p
                    .file_name()
                    .map_or("run".into(), |n| n.to_string_lossy().into_owned());
            }
            Ok(Input::Folder(Box::new(o)))
        } else {
            Ok(Input::Experiment(Box::new(crate::sweep::load_base(p)?)))
        }
    }
    fn name(&self) -> &str {
        match self {
            Input::Experiment(s) => &s.name,
            Input::Folder(o) => &o.experiment,
        }
    }
}

/// Detection instants of a run's `summary.json` (none when unreadable).
fn folder_detections(dir: &Path) -> Vec<f64> {
    let v: Option<serde_json::Value> = std::fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let Some(faults) = v.as_ref().and_then(|v| v["faults"].as_array()) else {
        return Vec::new();
    };
    faults
        .iter()
        .filter_map(|f| Some(f["at_s"].as_f64()? + f["detected_after_s"].as_f64()?))
        .collect()
}

/// One figure compared.
#[derive(Clone, Debug)]
pub struct Row {
    pub metric: String,
    pub a: Stats,
    pub b: Stats,
    /// Of the paired differences B - A (runs where both have a value).
    pub diff: Stats,
    pub verdict: Verdict,
    /// The verdict in words.
    pub says: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Better,
    Worse,
    /// The interval of the difference holds 0.
    Noise,
    /// Equal in every run.
    Same,
    /// Too few values to tell, or values in different runs.
    Unclear,
}

/// Compares the figures of `a`'s and `b`'s runs (run `i` of both with the
/// same seed when `paired`; one run each otherwise).
pub fn rows(a: &[Vec<(String, f64)>], b: &[Vec<(String, f64)>], paired: bool) -> Vec<Row> {
    let faults = a
        .iter()
        .chain(b)
        .map(|m| {
            (1..)
                .take_while(|i| m.iter().any(|(n, _)| *n == format!("f{i}_detect_s")))
                .count()
        })
        .max()
        .unwrap_or(0);
    let mut names: Vec<String> = RUN_FIGURES.iter().map(|s| s.to_string()).collect();
    for i in 1..=faults {
        names.extend(FAULT_FIGURES.iter().map(|f| format!("f{i}_{f}")));
    }
    let values = |runs: &[Vec<(String, f64)>], name: &str| -> Vec<f64> {
        runs.iter()
            .map(|m| {
                m.iter()
                    .find(|(n, _)| n == name)
                    .map_or(f64::NAN, |(_, v)| *v)
            })
            .collect()
    };
    names
        .into_iter()
        .filter_map(|name| {
            let (va, vb) = (values(a, &name), values(b, &name));
            let present = |v: &[f64]| {
                v.iter()
                    .copied()
                    .filter(|x| !x.is_nan())
                    .collect::<Vec<_>>()
            };
            let (pa, pb) = (present(&va), present(&vb));
            if pa.is_empty() && pb.is_empty() {
                return None;
            }
            let diffs: Vec<f64> = va
                .iter()
                .zip(&vb)
                .filter(|(x, y)| !x.is_nan() && !y.is_nan())
                .map(|(x, y)| y - x)
                .collect();
            let diff = tidy(Stats::of(&diffs));
            let (verdict, says) = judge(&name, pa.len(), pb.len(), va.len(), &diffs, &diff, paired);
            Some(Row {
                metric: name,
                a: tidy(Stats::of(&pa)),
                b: tidy(Stats::of(&pb)),
                diff,
                verdict,
                says,
            })
        })
        .collect()
}

/// Float noise of equal values (a spread of 1e-13 over identical runs)
/// made zero: a spread or half-interval below a billionth of the mean.
fn tidy(mut s: Stats) -> Stats {
    let scale = 1e-9 * s.mean.abs();
    let tiny = |x: f64| x.abs() <= scale;
    if tiny(s.sd) {
        s.sd = 0.0;
    }
    if tiny(s.mean - s.ci_lo) && tiny(s.ci_hi - s.mean) {
        s.ci_lo = s.mean;
        s.ci_hi = s.mean;
    }
    s
}

/// The verdict on one figure (lower is better).
fn judge(
    name: &str,
    ka: usize,
    kb: usize,
    runs: usize,
    diffs: &[f64],
    d: &Stats,
    paired: bool,
) -> (Verdict, String) {
    if ka != kb {
        let which = format!("A has a value in {ka} of {runs} runs, B in {kb}");
        // No detection time: never detected, the worst.
        if name.ends_with("detect_s") {
            return if kb < ka {
                (
                    Verdict::Worse,
                    format!("B worse: detected in {kb} of {runs} runs, A in {ka}"),
                )
            } else {
                (
                    Verdict::Better,
                    format!("B better: detected in {kb} of {runs} runs, A in {ka}"),
                )
            };
        }
        return (Verdict::Unclear, which);
    }
    if diffs.iter().all(|&x| x == 0.0) {
        let s = if paired { "same in every run" } else { "same" };
        return (Verdict::Same, s.into());
    }
    if !paired {
        return if d.mean < 0.0 {
            (
                Verdict::Better,
                "B lower (one run each: no interval)".into(),
            )
        } else {
            (
                Verdict::Worse,
                "B higher (one run each: no interval)".into(),
            )
        };
    }
    if diffs.len() < 2 {
        return (Verdict::Unclear, "one pair: no interval".into());
    }
    if d.ci_lo > 0.0 {
        (Verdict::Worse, "B worse".into())
    } else if d.ci_hi < 0.0 {
        (Verdict::Better, "B better".into())
    } else {
        (Verdict::Noise, "no difference beyond noise".into())
    }
}

/// A figure: whole numbers whole, others to 4 significant digits.
fn fig(x: f64) -> String {
    if x.is_nan() {
        "none".into()
    } else if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.0}")
    } else {
        format!("{}", round_sig(x, 4))
    }
}

fn signed(x: f64) -> String {
    if x > 0.0 {
        format!("+{}", fig(x))
    } else {
        fig(x)
    }
}

fn mean_sd(s: &Stats) -> String {
    if s.sd.is_nan() {
        fig(s.mean)
    } else {
        format!("{} ± {}", fig(s.mean), fig(s.sd))
    }
}

/// Keys of `[experiment]` that never make two experiments differ here: the
/// name and description, and the seed (compare runs seeds 1..N).
const IGNORED_SETTINGS: &[&str] = &[
    "experiment.name",
    "experiment.description",
    "experiment.seed",
];

type Setting = (String, Option<String>, Option<String>);

/// The report as text.
fn text(
    a: (&Path, &str),
    b: (&Path, &str),
    replications: Option<u32>,
    settings: Option<&[Setting]>,
    rows: &[Row],
    plot: &Path,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "hasim compare — A: {} ({})  vs  B: {} ({})",
        a.1,
        a.0.display(),
        b.1,
        b.0.display()
    );
    match replications {
        Some(n) => {
            let _ = writeln!(
                s,
                "  {n} paired replications: seeds 1..{n}, the same seed for A and B; \
                 95% interval of the mean paired difference B - A (Student's t)"
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  two single runs (output folders): values compared without intervals, \
                 so a difference may be noise; compare the experiment files for replications"
            );
        }
    }
    match settings {
        None => s.push_str("\n  settings: not compared (output folders hold no experiment file)\n"),
        Some([]) => s.push_str("\n  settings: the same (after presets)\n"),
        Some(list) => {
            s.push_str("\n  settings that differ (each node's table over its preset)\n");
            let v = |x: &Option<String>| x.clone().unwrap_or_else(|| "(not set)".into());
            for (k, x, y) in list {
                let _ = writeln!(s, "    {k}: {} -> {}", v(x), v(y));
            }
        }
    }
    let paired = replications.is_some();
    let (ha, hb) = if paired {
        ("A mean ± sd", "B mean ± sd")
    } else {
        ("A", "B")
    };
    let _ = write!(
        s,
        "\n  {:<22} {:>18}  {:>18}  {:>10}",
        "figure", ha, hb, "B - A"
    );
    if paired {
        let _ = write!(s, "  {:<22}", "95% interval of B - A");
    }
    s.push_str("  verdict\n");
    let mut quiet = 0;
    let mut count = [0usize; 5];
    for r in rows {
        let zero = |st: &Stats| st.mean == 0.0 && (st.sd.is_nan() || st.sd == 0.0);
        if r.verdict == Verdict::Same && zero(&r.a) && zero(&r.b) {
            quiet += 1;
            continue;
        }
        count[r.verdict as usize] += 1;
        let _ = write!(
            s,
            "  {:<22} {:>20}  {:>20}  {:>10}",
            r.metric,
            mean_sd(&r.a),
            mean_sd(&r.b),
            if r.diff.n == 0 {
                "".into()
            } else {
                signed(r.diff.mean)
            }
        );
        if paired {
            let ci = if r.diff.ci_lo.is_nan() {
                String::new()
            } else {
                format!("[{}, {}]", signed(r.diff.ci_lo), signed(r.diff.ci_hi))
            };
            let _ = write!(s, "  {ci:<22}");
        }
        let _ = writeln!(s, "  {}", r.says);
    }
    if quiet > 0 {
        let _ = writeln!(s, "  ({quiet} figures zero in both, not shown)");
    }
    let shown = rows.len() - quiet;
    let _ = writeln!(
        s,
        "\n  B better in {}, worse in {}, no difference beyond noise in {}, the same in {}{} (of {shown} figures; lower is better for each)",
        count[Verdict::Better as usize],
        count[Verdict::Worse as usize],
        count[Verdict::Noise as usize],
        count[Verdict::Same as usize],
        match count[Verdict::Unclear as usize] {
            0 => String::new(),
            n => format!(", unclear in {n}"),
        }
    );
    let _ = writeln!(
        s,
        "  overlay: {} (A dashed, B solid{})",
        plot.display(),
        if paired { "; seed 1 of each" } else { "" }
    );
    s
}

#[derive(Serialize)]
struct SideJson<'a> {
    input: String,
    experiment: &'a str,
}

#[derive(Serialize)]
struct StatsJson {
    n: usize,
    mean: Option<f64>,
    sd: Option<f64>,
}

impl StatsJson {
    fn of(s: &Stats) -> StatsJson {
        let num = |x: f64| x.is_finite().then(|| round_sig(x, 9));
        StatsJson {
            n: s.n,
            mean: num(s.mean),
            sd: num(s.sd),
        }
    }
}

#[derive(Serialize)]
struct DiffJson {
    n: usize,
    mean: Option<f64>,
    ci95_lo: Option<f64>,
    ci95_hi: Option<f64>,
}

#[derive(Serialize)]
struct RowJson<'a> {
    figure: &'a str,
    a: StatsJson,
    b: StatsJson,
    b_minus_a: DiffJson,
    verdict: Verdict,
    says: &'a str,
}

#[derive(Serialize)]
struct SettingJson<'a> {
    key: &'a str,
    a: Option<&'a str>,
    b: Option<&'a str>,
}

#[derive(Serialize)]
struct CompareJson<'a> {
    hasim: &'static str,
    a: SideJson<'a>,
    b: SideJson<'a>,
    /// `paired replications` or `single runs`.
    mode: &'static str,
    replications: Option<u32>,
    /// `null` for output folders (no experiment file).
    settings: Option<Vec<SettingJson<'a>>>,
    figures: Vec<RowJson<'a>>,
}

fn json(
    a: (&Path, &str),
    b: (&Path, &str),
    replications: Option<u32>,
    settings: Option<&[Setting]>,
    rows: &[Row],
) -> String {
    let num = |x: f64| x.is_finite().then(|| round_sig(x, 9));
    let doc = CompareJson {
        hasim: env!("CARGO_PKG_VERSION"),
        a: SideJson {
            input: a.0.display().to_string(),
            experiment: a.1,
        },
        b: SideJson {
            input: b.0.display().to_string(),
            experiment: b.1,
        },
        mode: if replications.is_some() {
            "paired replications"
        } else {
            "single runs"
        },
        replications,
        settings: settings.map(|l| {
            l.iter()
                .map(|(k, x, y)| SettingJson {
                    key: k,
                    a: x.as_deref(),
                    b: y.as_deref(),
                })
                .collect()
        }),
        figures: rows
            .iter()
            .map(|r| RowJson {
                figure: &r.metric,
                a: StatsJson::of(&r.a),
                b: StatsJson::of(&r.b),
                b_minus_a: DiffJson {
                    n: r.diff.n,
                    mean: num(r.diff.mean),
                    ci95_lo: num(r.diff.ci_lo),
                    ci95_hi: num(r.diff.ci_hi),
                },
                verdict: r.verdict,
                says: &r.says,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&doc).expect("a comparison always serializes");
    s.push('\n');
    s
}

/// A run's timeline, faults and detections for the overlay.
fn observed(r: &RunResult) -> Observed {
    let csv = crate::report::timeline_csv(r);
    let duration_s = r.duration.as_secs_f64();
    Observed {
        experiment: r.experiment.clone(),
        seed: r.seed,
        duration_s,
        faults: r
            .faults
            .iter()
            .map(|f| (f.label.clone(), f.at.as_secs_f64()))
            .collect(),
        detections: r
            .faults
            .iter()
            .filter_map(|f| f.detected.as_ref().map(|d| d.at.as_secs_f64()))
            .collect(),
        timeline: diff::timeline_of(&csv, r.recorder.timeline.width.as_secs_f64(), duration_s)
            .unwrap_or_default(),
        ..Observed::default()
    }
}

type Runs = Vec<Vec<(String, f64)>>;
/// One finished run: its figures, and its overlay data for seed 1.
type Done = (Vec<(String, f64)>, Option<Observed>);

/// Runs both experiments with seeds 1..=n on `threads` threads: each
/// side's figures by seed, and its seed-1 run for the overlay. `None` when
/// `stop` turned true first.
fn simulate(
    a: &ExperimentSpec,
    b: &ExperimentSpec,
    n: u32,
    threads: usize,
    stop: &AtomicBool,
) -> Result<Option<[(Runs, Observed); 2]>, SweepError> {
    use rayon::prelude::*;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| SweepError::Input(format!("cannot start {threads} threads: {e}")))?;
    let tasks: Vec<(usize, u64)> = (0..2)
        .flat_map(|side| (1..=u64::from(n)).map(move |seed| (side, seed)))
        .collect();
    let done: Vec<Option<Done>> = pool.install(|| {
        tasks
            .par_iter()
            .map(|&(side, seed)| {
                if stop.load(Ordering::Relaxed) {
                    return None;
                }
                let mut sim = Sim::new(if side == 0 { a } else { b }, seed);
                sim.run();
                let r = sim.finish();
                Some((run_metrics(&r), (seed == 1).then(|| observed(&r))))
            })
            .collect()
    });
    let Some(done) = done.into_iter().collect::<Option<Vec<_>>>() else {
        return Ok(None);
    };
    let mut sides = done.chunks(n as usize).map(|c| {
        let obs = c[0].1.clone().expect("seed 1 keeps its run");
        (c.iter().map(|(m, _)| m.clone()).collect::<Runs>(), obs)
    });
    let a = sides.next().expect("side A");
    let b = sides.next().expect("side B");
    Ok(Some([a, b]))
}

/// `hasim compare A B`: reads both (refusing bad input before anything
/// runs), claims the output folder, runs or reads, writes `compare.txt`,
/// `compare.json` and `compare.png/.svg`. `Ok(None)`: interrupted by `stop`,
/// nothing written.
pub fn run(
    a_path: &Path,
    b_path: &Path,
    opts: &Options,
    stop: &AtomicBool,
) -> Result<Option<Outcome>, SweepError> {
    let (a, b) = (Input::load(a_path)?, Input::load(b_path)?);
    if matches!(a, Input::Experiment(_)) != matches!(b, Input::Experiment(_)) {
        return Err(SweepError::Input(format!(
            "{} and {}: compare two experiment files, or two output folders of `hasim run --metrics`, not one of each",
            a_path.display(),
            b_path.display()
        )));
    }
    // Two experiments of one name (a copy edited) go by their file names.
    let stem = |p: &Path| {
        p.file_stem().map_or_else(
            || p.display().to_string(),
            |s| s.to_string_lossy().into_owned(),
        )
    };
    let (an, bn) = if a.name() == b.name() && stem(a_path) != stem(b_path) {
        (stem(a_path), stem(b_path))
    } else {
        (a.name().to_string(), b.name().to_string())
    };
    let dir = opts
        .output
        .clone()
        .unwrap_or_else(|| Path::new("output").join(format!("compare-{an}-vs-{bn}")));
    let out = OutputDir::claim(
        &dir,
        &Claim {
            kind: "compare",
            force: opts.force,
            inputs: vec![a_path.to_path_buf(), b_path.to_path_buf()],
        },
    )
    .map_err(ReportError::from)?;
    let threads = opts
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let n = opts.replications.max(1);
    let (rows, settings, replications, oa, ob, runs) = match (&a, &b) {
        (Input::Experiment(sa), Input::Experiment(sb)) => {
            let Some([(ra, oa), (rb, ob)]) = simulate(sa, sb, n, threads, stop)? else {
                return Ok(None);
            };
            let keep = |l: &[(String, String)]| -> Vec<(String, String)> {
                l.iter()
                    .filter(|(k, _)| !IGNORED_SETTINGS.contains(&k.as_str()))
                    .cloned()
                    .collect()
            };
            let settings = differences(&keep(&sa.settings), &keep(&sb.settings));
            let rows = rows(&ra, &rb, true);
            (rows, Some(settings), Some(n), oa, ob, 2 * n as usize)
        }
        (Input::Folder(fa), Input::Folder(fb)) => {
            let rows = rows(
                std::slice::from_ref(&fa.metrics),
                std::slice::from_ref(&fb.metrics),
                false,
            );
            (rows, None, None, (**fa).clone(), (**fb).clone(), 0)
        }
        _ => unreachable!("checked above"),
    };
    let staging = out.staging();
    let shown_png = dir.join("compare.png");
    let body = text(
        (a_path, &an),
        (b_path, &bn),
        replications,
        settings.as_deref(),
        &rows,
        &shown_png,
    );
    let write = |name: &str, text: &str| {
        let p = staging.join(name);
        std::fs::write(&p, text).map_err(ReportError::io(&p))
    };
    write("compare.txt", &body)?;
    write(
        "compare.json",
        &json(
            (a_path, &an),
            (b_path, &bn),
            replications,
            settings.as_deref(),
            &rows,
        ),
    )?;
    let sides = Sides {
        old: "A",
        new: "B",
        title: format!(
            "A: {an} (dashed) vs B: {bn} (solid){}",
            if replications.is_some() {
                ", seed 1"
            } else {
                ""
            }
        ),
    };
    diff::overlay_sides(&oa, &ob, &sides, &staging.join("compare.png"))?;
    out.commit().map_err(ReportError::from)?;
    Ok(Some(Outcome {
        text: body,
        dir,
        files: FILES.iter().map(|s| s.to_string()).collect(),
        runs,
        threads,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(values: &[(&str, &[f64])]) -> Runs {
        let n = values[0].1.len();
        (0..n)
            .map(|i| values.iter().map(|(k, v)| (k.to_string(), v[i])).collect())
            .collect()
    }

    fn row<'r>(rows: &'r [Row], name: &str) -> &'r Row {
        rows.iter().find(|r| r.metric == name).unwrap()
    }

    #[test]
    fn verdicts_follow_the_paired_interval() {
        let a = runs(&[
            ("failed", &[10.0, 12.0, 11.0, 13.0]),
            ("p99_ms", &[5.0, 7.0, 6.0, 5.0]),
            ("f1_detect_s", &[4.0, 3.0, 5.0, 4.5]),
            ("error_window_s", &[0.0; 4]),
            ("max_ms", &[1.0, 2.0, 3.0, 4.0]),
        ]);
        let b = runs(&[
            // Always 5 fewer: better, whatever the spread of A.
            ("failed", &[5.0, 7.0, 6.0, 8.0]),
            // Up and down: noise.
            ("p99_ms", &[6.0, 6.0, 7.0, 4.0]),
            // Detected in 2 of 4 runs only: worse.
            ("f1_detect_s", &[1.0, f64::NAN, 1.0, f64::NAN]),
            ("error_window_s", &[0.0; 4]),
            ("max_ms", &[2.0, 3.0, 4.0, 5.5]),
        ]);
        let r = rows(&a, &b, true);
        assert_eq!(row(&r, "failed").verdict, Verdict::Better);
        assert_eq!(row(&r, "failed").diff.mean, -5.0);
        assert_eq!(row(&r, "failed").diff.ci_lo, -5.0);
        assert_eq!(row(&r, "p99_ms").verdict, Verdict::Noise);
        assert_eq!(row(&r, "f1_detect_s").verdict, Verdict::Worse);
        assert!(
            row(&r, "f1_detect_s")
                .says
                .contains("detected in 2 of 4 runs, A in 4")
        );
        assert_eq!(row(&r, "error_window_s").verdict, Verdict::Same);
        assert_eq!(row(&r, "max_ms").verdict, Verdict::Worse);
        // Figures nobody has are left out; per-fault ones follow the runs.
        assert!(r.iter().all(|x| x.metric != "lost_writes"));
        assert!(r.iter().any(|x| x.metric == "f1_detect_s"));
        let d = row(&r, "p99_ms").diff;
        // Differences 1, -1, 1, -1: mean 0, sd 1.1547, t(3) = 3.182.
        assert!((d.ci_hi - 3.182 * 1.1547005 / 2.0).abs() < 1e-6, "{d:?}");

        let t = text(
            (Path::new("a.toml"), "a"),
            (Path::new("b.toml"), "b"),
            Some(4),
            Some(&[("x.inter".into(), Some("2s".into()), Some("1s".into()))]),
            &r,
            Path::new("o/compare.png"),
        );
        assert!(t.contains("    x.inter: 2s -> 1s\n"), "{t}");
        assert!(t.contains("(1 figures zero in both, not shown)"), "{t}");
        assert!(
            t.contains("B better in 1, worse in 2, no difference beyond noise in 1"),
            "{t}"
        );
        let j: serde_json::Value = serde_json::from_str(&json(
            (Path::new("a.toml"), "a"),
            (Path::new("b.toml"), "b"),
            Some(4),
            None,
            &r,
        ))
        .unwrap();
        assert_eq!(j["figures"][0]["figure"], "failed");
        assert_eq!(j["figures"][0]["verdict"], "better");
        assert_eq!(j["figures"][0]["b_minus_a"]["mean"], -5.0);
    }

    #[test]
    fn single_runs_say_lower_or_higher_without_an_interval() {
        let a = runs(&[("failed", &[10.0]), ("p99_ms", &[5.0])]);
        let b = runs(&[("failed", &[4.0]), ("p99_ms", &[5.0])]);
        let r = rows(&a, &b, false);
        assert_eq!(row(&r, "failed").verdict, Verdict::Better);
        assert!(row(&r, "failed").says.contains("no interval"));
        assert_eq!(row(&r, "p99_ms").verdict, Verdict::Same);
        let t = text(
            (Path::new("a"), "a"),
            (Path::new("b"), "b"),
            None,
            None,
            &r,
            Path::new("c.png"),
        );
        assert!(t.contains("without intervals"), "{t}");
        assert!(t.contains("settings: not compared"), "{t}");
        assert!(!t.contains("95% interval of B - A"), "{t}");
    }
}
