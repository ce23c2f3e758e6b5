//! The page of a sweep, from the files hasim wrote into its folder:
//! `sweep.json` and `runs.csv` read back as `hasim merge` reads them
//! ([`crate::sweep::read_part`]), the plots `<metric>*.svg`, and a sortable
//! table with a row per point.

use super::HtmlError;
use super::escape::esc;
use super::page::{Cell, Header, figure, kv_table, section, sortable_table, toc};
use crate::sweep::plot::short;
use crate::sweep::table::{PointStats, SweepInfo, Table};
use std::fmt::Write as _;
use std::path::Path;

/// Figures every point row shows beside the sweep's own plotted metrics.
const KEY_METRICS: [&str; 5] = [
    "failed",
    "error_window_s",
    "p99_ms",
    "lost_writes",
    "split_brain_s",
];

/// The sweep page of the output folder `dir` (which holds `sweep.json`).
pub fn render(dir: &Path) -> Result<String, HtmlError> {
    let (info, rows) = crate::sweep::read_part(dir).map_err(|e| HtmlError::Input(e.to_string()))?;
    let table = Table::new(rows);
    let points = table.points();
    let metrics = shown_metrics(&info, &table.columns);

    let mut body = String::from("<header class=\"top\">\n");
    let _ = writeln!(
        body,
        "<p class=\"muted\">hasim {} · sweep report</p>\n<h1>{}</h1>",
        esc(&info.hasim),
        esc(&info.sweep)
    );
    let params: Vec<String> = info
        .params
        .iter()
        .map(|p| format!("{} ({} values)", p.key, p.values.len()))
        .collect();
    let _ = writeln!(
        body,
        "<p class=\"desc\">{} over {}</p>",
        esc(&info.experiment_file),
        esc(&params.join(" × "))
    );
    body.push_str("</header>\n");
    body.push_str(&toc(&[
        ("overview".into(), "Overview".into()),
        ("plots".into(), "Plots".into()),
        ("points".into(), "Points".into()),
    ]));

    let mut rows = vec![
        ("sweep file".to_string(), info.file.clone()),
        ("experiment".into(), info.experiment_file.clone()),
        ("mode".into(), info.mode.clone()),
        ("base seed".into(), info.seed.to_string()),
        (
            "runs".into(),
            format!(
                "{} points × {} replication{} = {} runs; this output holds {}{}",
                info.points,
                info.replications,
                if info.replications == 1 { "" } else { "s" },
                info.runs,
                info.runs_done,
                if info.complete { "" } else { " (incomplete)" }
            ),
        ),
    ];
    if let Some(s) = &info.shard {
        rows.push(("shard".into(), s.clone()));
    }
    for p in &info.params {
        rows.push((p.key.clone(), p.values.join(", ")));
    }
    body.push_str(&section("overview", "Overview", &kv_table(&rows)));

    let mut plots = String::new();
    for m in &info.plot {
        for f in plot_files(dir, m)? {
            let text = std::fs::read_to_string(dir.join(&f)).map_err(|error| HtmlError::Io {
                path: dir.join(&f),
                error,
            })?;
            let caption = if f.contains("-heatmap") {
                format!("{m}: mean per point, as a heat map")
            } else {
                format!("{m} by the swept keys")
            };
            plots.push_str(&figure(Some(&text), &f, &caption));
        }
    }
    if plots.is_empty() {
        plots.push_str("<p class=\"muted\">This sweep drew no plots.</p>\n");
    } else {
        plots = format!("<div class=\"plots\">\n{plots}</div>\n");
    }
    body.push_str(&section("plots", "Plots", &plots));

    let mut pts = format!(
        "<p>One row per point: {}. Click a header to sort.</p>\n",
        if info.replications > 1 {
            "the mean over its replications, with the 95% interval of the mean"
        } else {
            "the figures of its run"
        }
    );
    pts.push_str(&points_table(&info, &points, &metrics));
    body.push_str(&section("points", "Points", &pts));
    super::run::footer(&mut body, &["sweep.json", "runs.csv", "points.csv"]);
    Ok(super::page::page(
        &format!("{} — hasim sweep report", info.sweep),
        &body,
    ))
}

/// The plotted metrics, then the key figures, each once, those the runs have.
fn shown_metrics(info: &SweepInfo, columns: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for m in info.plot.iter().map(String::as_str).chain(KEY_METRICS) {
        if columns.iter().any(|c| c == m) && !out.iter().any(|o| o == m) {
            out.push(m.to_string());
        }
    }
    out
}

/// `<metric>.svg`, `<metric>-N.svg`, `<metric>-heatmap*.svg` in `dir`, sorted.
fn plot_files(dir: &Path, metric: &str) -> Result<Vec<String>, HtmlError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|error| HtmlError::Io {
        path: dir.to_path_buf(),
        error,
    })?;
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name.strip_suffix(".svg") else {
            continue;
        };
        if stem == metric
            || stem
                .strip_prefix(metric)
                .is_some_and(|r| r.starts_with('-'))
        {
            out.push(name);
        }
    }
    // `failed.svg` before `failed-heatmap.svg`; panels in number order.
    out.sort_by_key(|n| {
        let stem = n.trim_end_matches(".svg").to_string();
        let heat = stem.contains("-heatmap");
        let num: u64 = stem
            .rsplit('-')
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(0);
        (heat, num, stem)
    });
    Ok(out)
}

pub(super) fn points_table(info: &SweepInfo, points: &[PointStats], metrics: &[String]) -> String {
    let mut headers = vec![Header::new("point", true)];
    // A swept key by its last part (`inter`) when that names it alone.
    let last = |k: &str| k.rsplit('.').next().unwrap_or(k).to_string();
    for p in &info.params {
        let numeric = p.nums.iter().all(Option::is_some);
        let short = last(&p.key);
        let unique = info.params.iter().filter(|q| last(&q.key) == short).count() == 1;
        let mut h = Header::new(if unique { short } else { p.key.clone() }, numeric);
        h.title = Some(p.key.clone());
        headers.push(h);
    }
    if info.replications > 1 {
        headers.push(Header::new("runs", true));
    }
    for m in metrics {
        headers.push(Header::new(m.clone(), true));
    }
    let mut ids: Vec<usize> = points.iter().map(|p| p.point).collect();
    ids.dedup();
    let rows: Vec<Vec<Cell>> = ids
        .iter()
        .map(|&pt| {
            let mut row = vec![Cell::num(pt as f64, pt.to_string())];
            for (p, &v) in info.params.iter().zip(&info.point(pt)) {
                let label = p.values.get(v).cloned().unwrap_or_default();
                row.push(match p.nums.get(v).copied().flatten() {
                    Some(x) if p.nums.iter().all(Option::is_some) => Cell::num(x, label),
                    _ => Cell::text(label),
                });
            }
            let of = |m: &str| points.iter().find(|s| s.point == pt && s.metric == m);
            if info.replications > 1 {
                let n = metrics.first().and_then(|m| of(m)).map_or(0, |s| s.stats.n);
                row.push(Cell::num(n as f64, n.to_string()));
            }
            for m in metrics {
                row.push(match of(m) {
                    Some(s) if s.stats.n > 0 => {
                        let st = &s.stats;
                        let mut c = Cell::num(st.mean, short(st.mean));
                        if st.n > 1 && st.ci_lo.is_finite() {
                            c.text = format!(
                                "{} [{}, {}]",
                                short(st.mean),
                                short(st.ci_lo),
                                short(st.ci_hi)
                            );
                        }
                        c
                    }
                    _ => Cell::num(f64::NAN, ""),
                });
            }
            row
        })
        .collect();
    let mut s = sortable_table(&headers, &rows);
    if info.replications > 1 {
        s.push_str("<p class=\"muted\">Cells: mean [95% interval of the mean].</p>\n");
    }
    s
}
