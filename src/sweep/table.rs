//! The tables of a sweep: `runs.csv` (one row per run), `points.csv` (one
//! row per point and metric) and `sweep.json` (what was swept). Tidy CSV:
//! one observation per row, one variable per column, so pandas or R read it
//! as it is. Numbers are written in their shortest exact form, so reading
//! `runs.csv` back gives the very values it was written from: that is how
//! `hasim merge` rebuilds the files of a single run byte for byte.

use super::metrics::{self, json_num};
use super::spec::Sweep;
use serde::{Deserialize, Serialize};

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
    pub file: String,
    pub experiment_file: String,
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
            file: s.file.clone(),
            experiment_file: s.experiment_file.clone(),
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
            .map(|(&v, p)| p.values[v].as_str())
            .collect()
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
        header.extend(info.params.iter().map(|p| p.key.clone()));
        header.extend(self.columns.iter().cloned());
        w.write_record(&header).expect("CSV into memory");
        for (r, vals) in self.rows.iter().zip(&self.values) {
            let mut rec = vec![r.point.to_string(), r.rep.to_string(), r.seed.to_string()];
            rec.extend(info.labels(r.point).iter().map(|s| s.to_string()));
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
    header.extend(info.params.iter().map(|p| p.key.clone()));
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
        rec.extend(info.labels(p.point).iter().map(|s| s.to_string()));
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
        // Beyond the table: the normal quantile with the first-order
        // Cornish-Fisher correction (within 0.001 of the exact value).
        _ => {
            let z = 1.959964;
            z + (z * z * z + z) / (4.0 * df as f64)
        }
    }
}

/// Reads a `runs.csv` written by [`Table::runs_csv`] back into rows (empty
/// cells are absent metrics). `params` is the number of parameter columns.
pub fn parse_runs_csv(text: &str, params: usize) -> Result<Vec<RunRow>, String> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r
        .headers()
        .map_err(|e| e.to_string())?
        .iter()
        .map(String::from)
        .collect();
    if header.len() < 3 + params || header[..3] != ["point", "replication", "seed"] {
        return Err("not a runs.csv of hasim sweep (header)".into());
    }
    let names = &header[3 + params..];
    let mut rows = Vec::new();
    for (line, rec) in r.records().enumerate() {
        let rec = rec.map_err(|e| e.to_string())?;
        let bad = |what: &str| format!("row {}: {what}", line + 2);
        let num = |i: usize| -> Result<u64, String> {
            rec.get(i)
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(&format!("`{}` is not a whole number", header[i])))
        };
        let mut metrics = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let c = rec.get(3 + params + k).unwrap_or("");
            if !c.is_empty() {
                let v: f64 = c
                    .parse()
                    .map_err(|_| bad(&format!("`{name}` = {c:?} is not a number")))?;
                metrics.push((name.clone(), v));
            } else {
                metrics.push((name.clone(), f64::NAN));
            }
        }
        rows.push(RunRow {
            point: num(0)? as usize,
            rep: num(1)? as u32,
            seed: num(2)?,
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
