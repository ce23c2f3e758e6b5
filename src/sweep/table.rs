//! The tables of a sweep: `runs.csv` (one row per run), `points.csv` (one
//! row per point and metric) and `sweep.json` (what was swept). Tidy CSV:
//! one observation per row, one variable per column, so pandas or R read it
//! as it is. Numbers are written in their shortest exact form, so reading
//! `runs.csv` back gives the very values it was written from: that is how
//! `hasim merge` rebuilds the files of a single run byte for byte.

use super::Shard;
use super::metrics::{self, json_num};
use super::spec::{MAX_RUNS, MAX_VALUES, Sweep};
use crate::engine::rng::derive_seed;
use serde::{Deserialize, Serialize};
use std::path::{Component, Path, PathBuf};

/// Most fault actions an experiment may have (so per-fault metric names,
/// `f<i>_...`, go up to this `i`).
const MAX_FAULT_ACTIONS: usize = 10_000;

/// Whether `name` is a metric hasim writes (see [`metrics::metric_names`]):
/// a whole-run name, or `f<i>_` and a per-fault name. Such names are plain
/// file names (letters, digits, `_`), as plot files need.
pub fn is_metric_name(name: &str) -> bool {
    if name == metrics::THRESHOLDS_CROSSED || metrics::metric_names(0).iter().any(|n| n == name) {
        return true;
    }
    let Some((head, rest)) = name.split_once('_') else {
        return false;
    };
    let index = head
        .strip_prefix('f')
        .filter(|d| !d.is_empty() && !d.starts_with('0') && d.bytes().all(|c| c.is_ascii_digit()))
        .and_then(|d| d.parse::<usize>().ok());
    index.is_some_and(|i| (1..=MAX_FAULT_ACTIONS).contains(&i))
        && metrics::metric_names(1)
            .iter()
            .any(|n| n.strip_prefix("f1_") == Some(rest))
}

/// Number of runs `g < runs` with `g % count == index`.
pub fn shard_len(runs: usize, s: Shard) -> usize {
    if s.index >= runs {
        0
    } else {
        (runs - s.index).div_ceil(s.count)
    }
}

/// `path`'s last component (the whole of it when it has none).
fn file_name(path: &str) -> String {
    Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// `experiment` relative to the folder of `sweep_file`, with `/` between
/// components, whatever the working folder and however either was typed
/// (links in their folders resolved when they exist).
fn experiment_path(sweep_file: &str, experiment: &str) -> String {
    if sweep_file == experiment {
        return file_name(sweep_file);
    }
    let resolve = |p: &Path| {
        std::fs::canonicalize(p)
            .or_else(|_| std::path::absolute(p).map(|a| crate::output::normalize(&a)))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    let folder = |p: &Path| {
        resolve(
            p.parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
    };
    let dir = folder(Path::new(sweep_file));
    // The experiment's folder resolved, its name as written (a link named
    // in the sweep file stays that name).
    let target = folder(Path::new(experiment)).join(file_name(experiment));
    let rel = relative(&dir, &target);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

/// `target` as seen from the folder `base` (both absolute).
fn relative(base: &Path, target: &Path) -> PathBuf {
    let (b, t): (Vec<Component>, Vec<Component>) =
        (base.components().collect(), target.components().collect());
    let common = b.iter().zip(&t).take_while(|(x, y)| x == y).count();
    if common == 0 {
        return target.to_path_buf();
    }
    let mut out = PathBuf::new();
    for _ in common..b.len() {
        out.push("..");
    }
    for c in &t[common..] {
        out.push(c);
    }
    out
}

/// FNV-1a, 64 bits: a fixed hash (the same on every machine and build).
fn fnv1a64(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
}

/// See [`SweepInfo::input_hash`]. Line ends are normalized, so a checkout
/// with CRLF hashes as one with LF.
fn input_hash(s: &Sweep) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut put = |text: &str| {
        let text = text.replace("\r\n", "\n");
        fnv1a64(&mut h, &(text.len() as u64).to_le_bytes());
        fnv1a64(&mut h, text.as_bytes());
    };
    put(&s.experiment_text);
    for (k, v) in &s.set {
        put(k);
        put(v);
    }
    for p in &s.params {
        put(&p.key);
        for v in &p.values {
            put(&v.toml);
        }
    }
    format!("fnv1a64:{h:016x}")
}

/// One finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    pub point: usize,
    pub rep: u32,
    pub seed: u64,
    /// `(name, value)`, NaN for no value; any order, any subset.
    pub metrics: Vec<(String, f64)>,
}

/// What was swept, as `sweep.json` records it (and `hasim merge` checks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepInfo {
    pub hasim: String,
    pub sweep: String,
    /// The sweep file's name (without its folder: parts started from other
    /// folders, or with `./s.toml` or an absolute path, record the same).
    pub file: String,
    /// The experiment file, relative to the sweep file's folder (`/`
    /// separators); the sweep file's own name for an embedded `[sweep]`.
    pub experiment_file: String,
    /// What the runs are built from, whatever the paths: `fnv1a64:` and the
    /// hash of the experiment text (`[sweep]` blanked), `[sweep.set]` and
    /// every swept value, so parts of edited files do not merge.
    pub input_hash: String,
    pub seed: u64,
    pub mode: String,
    pub replications: u32,
    pub params: Vec<ParamInfo>,
    pub plot: Vec<String>,
    pub points: usize,
    pub runs: usize,
    /// `K/N` for one shard's part, `null` for the whole sweep.
    pub shard: Option<String>,
    /// Runs this output holds.
    pub runs_done: usize,
    /// Whether it holds every run it was asked for (false after Ctrl-C or
    /// when merged shards miss some).
    pub complete: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamInfo {
    pub key: String,
    pub values: Vec<String>,
    /// Numeric positions (seconds for durations), `null` when not numeric.
    pub nums: Vec<Option<f64>>,
    pub log: bool,
    pub duration: bool,
}

impl SweepInfo {
    pub fn new(s: &Sweep) -> SweepInfo {
        SweepInfo {
            hasim: env!("CARGO_PKG_VERSION").into(),
            sweep: s.name.clone(),
            file: file_name(&s.file),
            experiment_file: experiment_path(&s.file, &s.experiment_file),
            input_hash: input_hash(s),
            seed: s.seed,
            mode: s.mode.name().into(),
            replications: s.replications,
            params: s
                .params
                .iter()
                .map(|p| ParamInfo {
                    key: p.key.clone(),
                    values: p.values.iter().map(|v| v.label.clone()).collect(),
                    nums: p.values.iter().map(|v| v.num).collect(),
                    log: p.log,
                    duration: p.duration,
                })
                .collect(),
            plot: s.plot.clone(),
            points: s.points_len(),
            runs: s.points_len() * s.replications as usize,
            shard: None,
            runs_done: 0,
            complete: false,
        }
    }

    /// Index of each parameter's value at point `i` (as [`Sweep::point`]).
    pub fn point(&self, i: usize) -> Vec<usize> {
        if self.mode == "zip" {
            return vec![i; self.params.len()];
        }
        let mut out = vec![0; self.params.len()];
        let mut rest = i;
        for (k, p) in self.params.iter().enumerate().rev() {
            out[k] = rest % p.values.len().max(1);
            rest /= p.values.len().max(1);
        }
        out
    }

    pub fn labels(&self, i: usize) -> Vec<&str> {
        self.point(i)
            .iter()
            .zip(&self.params)
            .map(|(&v, p)| p.values.get(v).map_or("", String::as_str))
            .collect()
    }

    /// The CSV columns of the swept keys: each key's label, and beside a
    /// duration's its value in seconds (`<key>_s`), which spreadsheets and
    /// pandas sort and plot as a number.
    pub fn param_columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.params {
            out.push(p.key.clone());
            if p.duration {
                out.push(format!("{}_s", p.key));
            }
        }
        out
    }

    /// Point `i`'s cells under [`SweepInfo::param_columns`].
    pub fn param_cells(&self, i: usize) -> Vec<String> {
        let mut out = Vec::new();
        for ((&v, p), label) in self.point(i).iter().zip(&self.params).zip(self.labels(i)) {
            out.push(label.to_string());
            if p.duration {
                out.push(p.nums.get(v).copied().flatten().map_or(String::new(), cell));
            }
        }
        out
    }

    /// Runs this output was asked for: the whole sweep's, or its shard's.
    pub fn planned(&self) -> usize {
        match self.shard.as_deref().map(str::parse::<Shard>) {
            Some(Ok(s)) => shard_len(self.runs, s),
            _ => self.runs,
        }
    }

    /// Checks a `sweep.json` read back (a shard, a part to merge, a
    /// journal's plan) so that nothing built from it can index out of
    /// bounds, loop for ever or write outside its folder.
    pub fn validate(&self) -> Result<(), String> {
        if self.mode != "grid" && self.mode != "zip" {
            return Err(format!(
                "`mode` is {:?}; expected \"grid\" or \"zip\"",
                self.mode
            ));
        }
        if self.replications == 0 {
            return Err("`replications` is 0; at least 1".into());
        }
        let mut points: usize = 1;
        for (k, p) in self.params.iter().enumerate() {
            let at = format!("`params[{k}]` ({:?})", p.key);
            if p.key.is_empty() {
                return Err(format!("{at}: `key` is empty"));
            }
            if p.values.is_empty() || p.values.len() > MAX_VALUES {
                return Err(format!(
                    "{at}: {} values; from 1 to {MAX_VALUES}",
                    p.values.len()
                ));
            }
            if p.nums.len() != p.values.len() {
                return Err(format!(
                    "{at}: {} `nums` for {} `values`",
                    p.nums.len(),
                    p.values.len()
                ));
            }
            if p.nums.iter().flatten().any(|x| !x.is_finite()) {
                return Err(format!("{at}: a number in `nums` is not finite"));
            }
            points = match self.mode.as_str() {
                "zip" if k > 0 && p.values.len() != points => {
                    return Err(format!(
                        "{at}: {} values, but zipped with {points}",
                        p.values.len()
                    ));
                }
                "zip" => p.values.len(),
                _ => points.saturating_mul(p.values.len()),
            };
        }
        if self.points != points {
            return Err(format!(
                "`points` is {}, but the params make {points}",
                self.points
            ));
        }
        let runs = points.saturating_mul(self.replications as usize);
        if runs > MAX_RUNS {
            return Err(format!(
                "{runs} runs is more than the {MAX_RUNS} a sweep may have"
            ));
        }
        if self.runs != runs {
            return Err(format!(
                "`runs` is {}, but {points} points x {} replications make {runs}",
                self.runs, self.replications
            ));
        }
        if let Some(s) = &self.shard {
            let ok = s
                .parse::<Shard>()
                .is_ok_and(|p| p.to_string() == *s && p.count <= runs.max(1));
            if !ok {
                return Err(format!("`shard` is {s:?}; expected K/N with 0 <= K < N"));
            }
        }
        let planned = self.planned();
        if self.runs_done > planned || (self.complete && self.runs_done != planned) {
            return Err(format!(
                "`runs_done` is {} of {planned} planned runs with `complete`: {}",
                self.runs_done, self.complete
            ));
        }
        for (i, m) in self.plot.iter().enumerate() {
            if !is_metric_name(m) {
                return Err(format!(
                    "`plot[{i}]` is {m:?}, which is not a metric of hasim (plots are named after metrics)"
                ));
            }
            if self.plot[..i].contains(m) {
                return Err(format!("`plot` names {m:?} twice"));
            }
        }
        let hash = self.input_hash.strip_prefix("fnv1a64:").unwrap_or("");
        if hash.len() != 16 || !hash.bytes().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "`input_hash` is {:?}; expected fnv1a64: and 16 hex digits",
                self.input_hash
            ));
        }
        Ok(())
    }

    pub fn json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("sweep info serializes");
        s.push('\n');
        s
    }
}

/// A cell: the shortest exact rendering, empty for no value.
pub fn cell(v: f64) -> String {
    match json_num(v).as_str() {
        "null" => String::new(),
        s => s.to_string(),
    }
}

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w
        .into_inner()
        .expect("a CSV writer into memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// Rows sorted by (point, replication), their metric columns, and each
/// row's values aligned to the columns (NaN where absent).
pub struct Table {
    pub rows: Vec<RunRow>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

impl Table {
    pub fn new(mut rows: Vec<RunRow>) -> Table {
        rows.sort_by_key(|r| (r.point, r.rep));
        let names: Vec<Vec<String>> = rows
            .iter()
            .map(|r| r.metrics.iter().map(|(n, _)| n.clone()).collect())
            .collect();
        let columns = metrics::columns(names.iter().map(Vec::as_slice));
        let values = rows
            .iter()
            .map(|r| {
                columns
                    .iter()
                    .map(|c| {
                        r.metrics
                            .iter()
                            .find(|(n, _)| n == c)
                            .map_or(f64::NAN, |(_, v)| *v)
                    })
                    .collect()
            })
            .collect();
        Table {
            rows,
            columns,
            values,
        }
    }

    /// `point,replication,seed,<param>...,<metric>...`
    pub fn runs_csv(&self, info: &SweepInfo) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["point".to_string(), "replication".into(), "seed".into()];
        header.extend(info.param_columns());
        header.extend(self.columns.iter().cloned());
        w.write_record(&header).expect("CSV into memory");
        for (r, vals) in self.rows.iter().zip(&self.values) {
            let mut rec = vec![r.point.to_string(), r.rep.to_string(), r.seed.to_string()];
            rec.extend(info.param_cells(r.point));
            rec.extend(vals.iter().map(|&v| cell(v)));
            w.write_record(&rec).expect("CSV into memory");
        }
        finish(w)
    }

    /// Per point (in order) and metric: the statistics of its replications.
    pub fn points(&self) -> Vec<PointStats> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.rows.len() {
            let point = self.rows[i].point;
            let mut j = i;
            while j < self.rows.len() && self.rows[j].point == point {
                j += 1;
            }
            for (c, name) in self.columns.iter().enumerate() {
                let xs: Vec<f64> = self.values[i..j]
                    .iter()
                    .map(|v| v[c])
                    .filter(|v| !v.is_nan())
                    .collect();
                out.push(PointStats {
                    point,
                    metric: name.clone(),
                    stats: Stats::of(&xs),
                });
            }
            i = j;
        }
        out
    }
}

/// `point,<param>...,metric,n,mean,sd,p5,p50,p95,ci95_lo,ci95_hi`
pub fn points_csv(info: &SweepInfo, points: &[PointStats]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["point".to_string()];
    header.extend(info.param_columns());
    header.extend(
        [
            "metric", "n", "mean", "sd", "p5", "p50", "p95", "ci95_lo", "ci95_hi",
        ]
        .map(String::from),
    );
    w.write_record(&header).expect("CSV into memory");
    for p in points {
        let s = &p.stats;
        let mut rec = vec![p.point.to_string()];
        rec.extend(info.param_cells(p.point));
        rec.push(p.metric.clone());
        rec.push(s.n.to_string());
        rec.extend(
            [s.mean, s.sd, s.p5, s.p50, s.p95, s.ci_lo, s.ci_hi]
                .iter()
                .map(|&v| cell(round_sig(v, 9))),
        );
        w.write_record(&rec).expect("CSV into memory");
    }
    finish(w)
}

/// Rounds to `sig` significant digits (for derived figures: no float noise).
pub fn round_sig(x: f64, sig: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{:.*e}", (sig - 1) as usize, x)
        .parse()
        .unwrap_or(x)
}

pub struct PointStats {
    pub point: usize,
    pub metric: String,
    pub stats: Stats,
}

/// Summary of one metric over a point's replications; NaN where undefined
/// (no value at all; sd and interval with fewer than two).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stats {
    pub n: usize,
    pub mean: f64,
    pub sd: f64,
    pub p5: f64,
    pub p50: f64,
    pub p95: f64,
    pub ci_lo: f64,
    pub ci_hi: f64,
}

impl Stats {
    pub fn of(xs: &[f64]) -> Stats {
        let n = xs.len();
        if n == 0 {
            return Stats {
                n,
                mean: f64::NAN,
                sd: f64::NAN,
                p5: f64::NAN,
                p50: f64::NAN,
                p95: f64::NAN,
                ci_lo: f64::NAN,
                ci_hi: f64::NAN,
            };
        }
        let mean = xs.iter().sum::<f64>() / n as f64;
        let (sd, half) = if n >= 2 {
            let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1) as f64;
            let sd = var.sqrt();
            (sd, t975(n - 1) * sd / (n as f64).sqrt())
        } else {
            (f64::NAN, f64::NAN)
        };
        let mut sorted = xs.to_vec();
        sorted.sort_by(f64::total_cmp);
        Stats {
            n,
            mean,
            sd,
            p5: quantile(&sorted, 0.05),
            p50: quantile(&sorted, 0.5),
            p95: quantile(&sorted, 0.95),
            ci_lo: mean - half,
            ci_hi: mean + half,
        }
    }
}

/// Linear interpolation between order statistics (R's type 7, numpy's
/// default) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The 97.5% quantile of Student's t with `df` degrees of freedom (for a
/// two-sided 95% confidence interval of a mean).
pub fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => T[df - 1],
        // Beyond the table: the normal quantile with the Cornish-Fisher
        // expansion to second order (within 1e-4 of the exact value; the
        // first order alone was 0.003 off at 31).
        _ => {
            let z: f64 = 1.959964;
            let n = df as f64;
            let g1 = (z.powi(3) + z) / 4.0;
            let g2 = (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / 96.0;
            z + g1 / n + g2 / (n * n)
        }
    }
}

/// Parses and checks a `sweep.json` ([`SweepInfo::validate`]): the one way
/// hasim reads one back (`hasim merge`, the fuzz target).
pub fn parse_sweep_info(text: &str) -> Result<SweepInfo, String> {
    let info: SweepInfo =
        serde_json::from_str(text).map_err(|e| format!("not a sweep's sweep.json: {e}"))?;
    info.validate()
        .map_err(|e| format!("not a sweep.json hasim wrote: {e}"))?;
    Ok(info)
}

/// The largest magnitude a metric read back may have: far beyond any run's
/// figure, small enough that sums over [`MAX_RUNS`] runs stay finite.
pub const MAX_METRIC: f64 = 1e200;

/// Reads a `runs.csv` written by [`Table::runs_csv`] for `info` back into
/// rows (empty cells are absent metrics). Every row must be a run of the
/// sweep (point and replication in range, in `info`'s shard, its seed the
/// derived one, its parameter cells the point's values); every column a
/// metric of hasim, named once.
pub fn parse_runs_csv(text: &str, info: &SweepInfo) -> Result<Vec<RunRow>, String> {
    let columns = info.param_columns();
    let params = columns.len();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    if header.len() < 3 + params
        || header[..3] != ["point", "replication", "seed"]
        || header[3..3 + params] != columns[..]
    {
        return Err(format!(
            "not the runs.csv of this sweep: the header must start with point,replication,seed and the swept keys' {params} columns"
        ));
    }
    let names = &header[3 + params..];
    for (k, n) in names.iter().enumerate() {
        if !is_metric_name(n) {
            return Err(format!(
                "column {}: `{n}` is not a metric of hasim",
                4 + params + k
            ));
        }
        if names[..k].contains(n) {
            return Err(format!("column {}: `{n}` appears twice", 4 + params + k));
        }
    }
    let shard = info.shard.as_deref().and_then(|s| s.parse::<Shard>().ok());
    let mut rows = Vec::new();
    for (line, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| e.to_string())?;
        let bad = |what: String| format!("row {}: {what}", line + 2);
        let num = |i: usize| -> Result<u64, String> {
            rec.get(i)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(format!("`{}` is not a whole number", header[i])))
        };
        let (point, rep, seed) = (num(0)?, num(1)?, num(2)?);
        let point = usize::try_from(point)
            .ok()
            .filter(|&p| p < info.points)
            .ok_or_else(|| {
                bad(format!(
                    "point {point} is outside the sweep's {}",
                    info.points
                ))
            })?;
        let rep = u32::try_from(rep)
            .ok()
            .filter(|&r| r < info.replications)
            .ok_or_else(|| {
                bad(format!(
                    "replication {rep} is outside the sweep's {}",
                    info.replications
                ))
            })?;
        let g = point * info.replications as usize + rep as usize;
        if let Some(s) = shard
            && g % s.count != s.index
        {
            return Err(bad(format!(
                "run (point {point}, replication {rep}) is not in shard {s}"
            )));
        }
        if seed != derive_seed(info.seed, point as u64, u64::from(rep)) {
            return Err(bad(format!(
                "seed {seed} is not the seed of point {point}, replication {rep}"
            )));
        }
        let cells = info.param_cells(point);
        for (k, want) in cells.iter().enumerate() {
            if rec.get(3 + k) != Some(want.as_str()) {
                return Err(bad(format!(
                    "`{}` is {:?}, but point {point} has {want:?}",
                    columns[k],
                    rec.get(3 + k).unwrap_or("")
                )));
            }
        }
        let mut metrics = Vec::with_capacity(names.len());
        for (k, name) in names.iter().enumerate() {
            let c = rec.get(3 + params + k).unwrap_or("");
            let v = if c.is_empty() {
                f64::NAN
            } else {
                c.parse::<f64>()
                    .ok()
                    .filter(|v| v.abs() <= MAX_METRIC)
                    .ok_or_else(|| {
                        bad(format!(
                            "`{name}` = {c:?} is not a number of at most {MAX_METRIC:e}"
                        ))
                    })?
            };
            metrics.push((name.clone(), v));
        }
        rows.push(RunRow {
            point,
            rep,
            seed,
            metrics,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_few_values() {
        let s = Stats::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(s.n, 4);
        assert_eq!(s.mean, 2.5);
        assert!((s.sd - 1.2909944487358056).abs() < 1e-12);
        assert!((s.p5 - 1.15).abs() < 1e-12);
        assert_eq!(s.p50, 2.5);
        assert!((s.p95 - 3.85).abs() < 1e-12);
        let half = 3.182 * s.sd / 2.0;
        assert!((s.ci_lo - (2.5 - half)).abs() < 1e-12 && (s.ci_hi - (2.5 + half)).abs() < 1e-12);
        let one = Stats::of(&[7.0]);
        assert_eq!((one.mean, one.p5, one.p95), (7.0, 7.0, 7.0));
        assert!(one.sd.is_nan() && one.ci_lo.is_nan());
        assert!(Stats::of(&[]).mean.is_nan());
        assert!((t975(1000) - 1.962).abs() < 1e-3);
    }

    /// Student's t 97.5% quantiles (R's `qt(0.975, df)`): the table, and
    /// the expansion beyond it.
    #[test]
    fn t_quantiles_match_the_exact_values() {
        assert!(t975(0).is_nan());
        for (df, exact) in [
            (1, 12.706205),
            (2, 4.302653),
            (5, 2.570582),
            (19, 2.093024),
            (30, 2.042272),
            (31, 2.039513),
            (40, 2.021075),
            (60, 2.000298),
            (120, 1.979930),
            (1000, 1.962339),
            (1_000_000, 1.959966),
        ] {
            let t = t975(df);
            assert!((t - exact).abs() < 1e-3 / 2.0, "df {df}: {t} vs {exact}");
            if df > 30 {
                assert!((t - exact).abs() < 1e-4, "df {df}: {t} vs {exact}");
            }
        }
        // Decreasing towards the normal quantile.
        assert!((1..200).all(|d| t975(d + 1) < t975(d)));
    }

    #[test]
    fn plot_names_are_metrics_and_never_paths() {
        for good in ["failed", "p99_ms", "f1_detect_s", "f10000_p99_after_ms"] {
            assert!(is_metric_name(good), "{good}");
        }
        for bad in [
            "",
            "../escaped",
            "/tmp/x",
            "failed/..",
            "f0_detect_s",
            "f01_detect_s",
            "f10001_detect_s",
            "f99999999999999999999999_detect_s",
            "f1_",
            "f1_failed_s",
            "requests.png",
        ] {
            assert!(!is_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn the_experiment_is_recorded_relative_to_the_sweep_file() {
        fn p(s: &str) -> &Path {
            Path::new(s)
        }
        assert_eq!(relative(p("/a/b"), p("/a/b/c.toml")), p("c.toml"));
        assert_eq!(relative(p("/a/b"), p("/a/x/c.toml")), p("../x/c.toml"));
        assert_eq!(relative(p("/a/b"), p("/c.toml")), p("../../c.toml"));
        assert_eq!(file_name("./x/s.toml"), "s.toml");
        assert_eq!(experiment_path("s.toml", "s.toml"), "s.toml");
        // Neither file exists: resolved lexically from the working folder.
        let rel = experiment_path("./nowhere/s.toml", "./nowhere/../exp/e.toml");
        assert_eq!(rel, "../exp/e.toml");
        let abs = std::path::absolute("nowhere").unwrap();
        let typed = format!("{}/s.toml", abs.display());
        let exp = format!("{}/./e.toml", abs.display());
        assert_eq!(experiment_path(&typed, &exp), "e.toml");
    }

    #[test]
    fn shard_lengths_add_up() {
        for runs in 0..20 {
            for count in 1..6 {
                let sum: usize = (0..count)
                    .map(|index| shard_len(runs, Shard { index, count }))
                    .sum();
                assert_eq!(sum, runs);
                for index in 0..count {
                    let n = (0..runs).filter(|g| g % count == index).count();
                    assert_eq!(shard_len(runs, Shard { index, count }), n);
                }
            }
        }
    }

    /// A swept duration gets a seconds column beside its label, in both
    /// CSV files, and `hasim merge` reads it back.
    #[test]
    fn durations_get_a_seconds_column() {
        let sweep = super::super::spec::parse(
            "[experiment]\nname = \"t\"\nduration = \"1s\"\n\
             [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 10\n\
             [balancers.lb]\npreset = \"haproxy-2.6\"\nservers = [\"s\"]\n\
             [servers.s]\nservice = \"1ms\"\n\
             [sweep]\n[sweep.params]\n\"balancers.lb.default_server.inter\" = [\"500ms\", \"2s\"]\n\
             \"balancers.lb.default_server.fall\" = [1]\n",
            "s.toml",
        )
        .unwrap();
        let mut info = SweepInfo::new(&sweep);
        let key = "balancers.lb.default_server.inter";
        assert_eq!(
            info.param_columns(),
            [
                key.to_string(),
                format!("{key}_s"),
                "balancers.lb.default_server.fall".into()
            ]
        );
        assert_eq!(info.param_cells(1), ["2s", "2", "1"]);
        let rows: Vec<RunRow> = (0..2)
            .map(|point| RunRow {
                point,
                rep: 0,
                seed: derive_seed(info.seed, point as u64, 0),
                metrics: vec![("failed".into(), point as f64)],
            })
            .collect();
        let t = Table::new(rows.clone());
        let csv = t.runs_csv(&info);
        assert!(
            csv.starts_with(&format!("point,replication,seed,{key},{key}_s,")),
            "{csv}"
        );
        assert!(csv.contains(",500ms,0.5,1,0\n"), "{csv}");
        info.runs_done = 2;
        assert_eq!(parse_runs_csv(&csv, &info).unwrap(), rows);
        let points = points_csv(&info, &t.points());
        assert!(points.contains("\n1,2s,2,1,failed,1,1,"), "{points}");
        // A label that disagrees with its seconds is refused.
        let bad = csv.replace(",500ms,0.5,", ",500ms,0.6,");
        assert!(parse_runs_csv(&bad, &info).unwrap_err().contains("_s`"));
    }

    #[test]
    fn cells_are_exact_and_parse_back() {
        for v in [0.1 + 0.2, 1e-9, 12345678.0, 2.5, -0.0, 1.0 / 3.0] {
            let c = cell(v);
            assert_eq!(c.parse::<f64>().unwrap(), if v == 0.0 { 0.0 } else { v });
        }
        assert_eq!(cell(3.0), "3");
        assert_eq!(cell(-0.0), "0");
        assert_eq!(cell(f64::NAN), "");
        assert_eq!(round_sig(0.1 + 0.2, 9), 0.3);
    }
}
