//! `[thresholds]`: pass/fail conditions on a run's figures, as k6 has them,
//! so that a CI pipeline can gate a configuration change on its predicted
//! failover. Each key names a figure, each value states a condition:
//!
//! ```toml
//! [thresholds]
//! failed = "< 50"                     # a figure of the whole run
//! error_window_s = "< 5"
//! lost_writes = "== 0"
//! p99_ms = ["< 500", "> 0"]           # several conditions on one figure
//! "clients.k6.failed" = "< 10"        # one client's figure
//! "faults.1.error_window_s" = "< 3"   # fault action #1's figure
//! ```
//!
//! - Whole-run figures are the names of `metrics.json` (`hasim run
//!   --metrics`; the same names sweeps tabulate): `requests`, `ok`, `failed`,
//!   `failed_<kind>`, `p50_ms`, `p99_ms`, `max_ms`, `error_window_s`,
//!   `false_failovers`, `lost_writes`, `failed_but_committed`,
//!   `stale_reads`, `split_brain_s`, `no_primary_s`, and the per-fault
//!   names `f<N>_...`.
//! - `clients.NAME.<figure>`: `requests`, `ok`, `failed`, `failed_<kind>`
//!   and `p50_ms`, `p99_ms`, `max_ms` of its successful requests (the
//!   figures of summary.json's `clients`).
//! - `faults.N.<figure>` (N as in the summary's `#N`, = `f<N>_<figure>`):
//!   `detect_s`, `window_s` (also spelt `error_window_s`),
//!   `window_start_s`, `window_end_s`, `failed`, `p50_after_ms`,
//!   `p99_after_ms`, `max_after_ms`, and `lost_writes` (acknowledged writes
//!   lost from this action to the next, as the summary's line).
//! - A condition is `"OP NUMBER"` with OP one of `<`, `<=`, `>`, `>=`, `==`,
//!   `!=`. A figure the run has no value for (a fault never detected, data
//!   figures without databases) fails every condition on it.
//!
//! Dotted keys may be written quoted or not: `clients.k6.failed = "< 10"`
//! (TOML makes nested tables of it) reads as `"clients.k6.failed"`.

use super::error::{ConfigError, did_you_mean};
use super::table::{Item, Key, Sources, Val, join};
use crate::metrics::FAILURE_KINDS;
use crate::sweep::metrics::metric_names;

/// A comparison of a threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    /// Longest first, so that `<=` is not read as `<`.
    const ALL: [(&'static str, Op); 6] = [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    pub fn symbol(self) -> &'static str {
        Op::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map(|(s, _)| *s)
            .expect("every op has a symbol")
    }

    /// Whether `value OP bound` holds; never for no value (NaN).
    pub fn holds(self, value: f64, bound: f64) -> bool {
        if value.is_nan() {
            return false;
        }
        match self {
            Op::Lt => value < bound,
            Op::Le => value <= bound,
            Op::Gt => value > bound,
            Op::Ge => value >= bound,
            Op::Eq => value == bound,
            Op::Ne => value != bound,
        }
    }
}

/// Which figure a threshold is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Figure {
    /// A name of `metrics.json` (per-fault names go to [`Figure::Fault`]).
    Run(String),
    Client {
        name: String,
        figure: String,
    },
    /// Fault action `index` (1-based) and a per-fault figure.
    Fault {
        index: usize,
        figure: String,
    },
}

/// One condition of `[thresholds]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Threshold {
    /// The key as the summary shows it: `failed`, `clients.k6.failed`.
    pub key: String,
    pub figure: Figure,
    pub op: Op,
    pub bound: f64,
    /// `file:line` of the condition, for messages.
    pub at: String,
}

impl Threshold {
    /// `failed < 50`.
    pub fn condition(&self) -> String {
        format!(
            "{} {} {}",
            self.key,
            self.op.symbol(),
            crate::sweep::metrics::json_num(self.bound)
        )
    }
}

/// Per-fault figures besides the `f<N>_` metric names.
const EXTRA_FAULT_FIGURES: &[&str] = &["error_window_s", "lost_writes"];

/// The per-fault figures: `metrics.json`'s `f1_...` without the prefix,
/// then [`EXTRA_FAULT_FIGURES`].
pub fn fault_figures() -> Vec<String> {
    metric_names(1)
        .into_iter()
        .filter_map(|n| n.strip_prefix("f1_").map(String::from))
        .chain(EXTRA_FAULT_FIGURES.iter().map(|s| s.to_string()))
        .collect()
}

/// The figures of one client.
pub fn client_figures() -> Vec<String> {
    let mut v: Vec<String> = ["requests", "ok", "failed"].map(String::from).to_vec();
    v.extend(FAILURE_KINDS.iter().map(|k| format!("failed_{k}")));
    v.extend(["p50_ms", "p99_ms", "max_ms"].map(String::from));
    v
}

/// What [`read`] needs to know of the experiment.
pub(crate) struct Known<'k> {
    pub clients: &'k [String],
    /// Fault actions the run will have at most, when that is known before
    /// it runs (not with random faults).
    pub max_faults: Option<usize>,
}

/// Reads `[thresholds]` (the item under the top-level key), refusing
/// unknown figures, clients and faults, bad operators and bad numbers.
pub(crate) fn read(
    src: &Sources,
    item: &Item,
    known: &Known,
) -> Result<Vec<Threshold>, ConfigError> {
    let Val::Table(tab) = &item.val else {
        return Err(src.error(
            &item.at,
            "thresholds",
            format!(
                "expected a table (`[thresholds]` with lines such as `failed = \"< 50\"`), found {}",
                item.val.describe()
            ),
        ));
    };
    let mut flat: Vec<(String, &Key, &Item)> = Vec::new();
    flatten("", &tab.entries, &mut flat);
    let mut out = Vec::new();
    for (name, key, value) in flat {
        let path = join("thresholds", &name);
        let figure = figure(&name).map_err(|msg| src.error(&key.at, &path, msg))?;
        check_known(&figure, known).map_err(|msg| src.error(&key.at, &path, msg))?;
        let conditions: Vec<&Item> = match &value.val {
            Val::Array(items) if !items.is_empty() => items.iter().collect(),
            _ => vec![value],
        };
        for c in conditions {
            let (op, bound) = condition(c).map_err(|msg| src.error(&c.at, &path, msg))?;
            out.push(Threshold {
                key: name.clone(),
                figure: figure.clone(),
                op,
                bound,
                at: format!("{}:{}", src.get(c.at.src).name, src.line_of(&c.at)),
            });
        }
    }
    Ok(out)
}

/// `a.b.c = v` in any TOML spelling: (dotted name, key, value) per leaf.
fn flatten<'t>(
    prefix: &str,
    entries: &'t [(Key, Item)],
    out: &mut Vec<(String, &'t Key, &'t Item)>,
) {
    for (k, v) in entries {
        let name = if prefix.is_empty() {
            k.name.clone()
        } else {
            format!("{prefix}.{}", k.name)
        };
        match &v.val {
            Val::Table(t) => flatten(&name, &t.entries, out),
            _ => out.push((name, k, v)),
        }
    }
}

const EXPECTED: &str =
    "expected a condition such as \"< 50\": one of <, <=, >, >=, ==, != and a number";

/// `"< 5"` -> (Lt, 5); a message saying what was expected otherwise.
fn condition(item: &Item) -> Result<(Op, f64), String> {
    let Val::Str(s) = &item.val else {
        return Err(format!(
            "{EXPECTED}, in quotes; found {}",
            item.val.describe()
        ));
    };
    let t = s.trim();
    let Some((sym, op)) = Op::ALL.iter().find(|(sym, _)| t.starts_with(sym)) else {
        let hint = if t.starts_with('=') || t.starts_with("=<") || t.starts_with("=>") {
            " (equality is `==`)"
        } else {
            ""
        };
        return Err(format!("{EXPECTED}; found {s:?}{hint}"));
    };
    let num = t[sym.len()..].trim();
    let bound: f64 = num
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| {
            format!(
                "{EXPECTED}; `{num}` in {s:?} is not a number (figures carry their unit in their name: `error_window_s = \"< 5\"` is seconds)"
            )
        })?;
    Ok((*op, bound))
}

/// Which figure `name` is, or why it is none.
fn figure(name: &str) -> Result<Figure, String> {
    let run = metric_names(0);
    if run.iter().any(|n| n == name) {
        return Ok(Figure::Run(name.to_string()));
    }
    let faults = fault_figures();
    if let Some(rest) = name.strip_prefix("clients.") {
        let Some((client, fig)) = rest.rsplit_once('.') else {
            return Err(format!(
                "`{name}`: expected `clients.NAME.FIGURE`, e.g. `clients.k6.failed`"
            ));
        };
        let figs = client_figures();
        if !figs.iter().any(|f| f == fig) {
            return Err(format!(
                "unknown figure `{fig}` of a client{} (a client's figures: {})",
                did_you_mean(fig, figs.iter().map(String::as_str)),
                figs.join(", ")
            ));
        }
        return Ok(Figure::Client {
            name: client.to_string(),
            figure: fig.to_string(),
        });
    }
    if let Some(rest) = name.strip_prefix("faults.") {
        let (n, fig) = rest.split_once('.').unwrap_or((rest, ""));
        let index = n
            .parse::<usize>()
            .ok()
            .filter(|&i| i >= 1)
            .ok_or_else(|| {
                format!(
                    "`{name}`: expected `faults.N.FIGURE` with N a fault action's number in the summary (#1, #2, ...), e.g. `faults.1.detect_s`"
                )
            })?;
        if !faults.iter().any(|f| f == fig) {
            return Err(format!(
                "unknown figure `{fig}` of a fault action{} (a fault action's figures: {})",
                did_you_mean(fig, faults.iter().map(String::as_str)),
                faults.join(", ")
            ));
        }
        return Ok(Figure::Fault {
            index,
            figure: fig.to_string(),
        });
    }
    // metrics.json's own per-fault names: f2_detect_s.
    if crate::sweep::table::is_metric_name(name)
        && let Some((head, fig)) = name.split_once('_')
        && let Ok(index) = head[1..].parse::<usize>()
    {
        return Ok(Figure::Fault {
            index,
            figure: fig.to_string(),
        });
    }
    let mut all: Vec<String> = run.clone();
    all.extend(["clients.NAME.", "faults.N."].map(String::from));
    Err(format!(
        "unknown figure `{name}`{} (figures: {}; `clients.NAME.FIGURE` for one client, `faults.N.FIGURE` for fault action #N)",
        did_you_mean(name, run.iter().map(String::as_str)),
        run.join(", ")
    ))
}

fn check_known(f: &Figure, known: &Known) -> Result<(), String> {
    match f {
        Figure::Run(_) => Ok(()),
        Figure::Client { name, .. } => {
            if known.clients.iter().any(|c| c == name) {
                Ok(())
            } else {
                Err(format!(
                    "no client `{name}`{} (clients: {})",
                    did_you_mean(name, known.clients.iter().map(String::as_str)),
                    if known.clients.is_empty() {
                        "none".to_string()
                    } else {
                        known.clients.join(", ")
                    }
                ))
            }
        }
        Figure::Fault { index, .. } => match known.max_faults {
            Some(m) if *index > m => Err(format!(
                "no fault action #{index}: the experiment has {m} (each fault and each recovery is one, numbered as in the summary)"
            )),
            _ => Ok(()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<Vec<Threshold>, ConfigError> {
        let text = format!(
            "[experiment]\nduration = \"10s\"\n\
             [clients.k6]\ntarget = \"s\"\nrate = 10\ntype = \"open\"\n\
             [servers.s]\nservice = \"1ms\"\n\
             [[faults]]\nkind = \"kill\"\ntarget = \"s\"\nat = \"3s\"\nrecover_at = \"6s\"\n\
             [thresholds]\n{body}"
        );
        crate::config::parse(&text, "t.toml").map(|s| s.thresholds)
    }

    #[test]
    fn conditions_parse_in_every_spelling() {
        let t = parse(
            "failed = \"< 50\"\nerror_window_s = \"<=5.5\"\nlost_writes = \"== 0\"\n\
             p99_ms = [\"< 500\", \">0\"]\n\"clients.k6.failed\" = \"!= 3\"\n\
             faults.1.error_window_s = \" >= 1e-3 \"\nf2_detect_s = \"> 1\"\n",
        )
        .unwrap();
        let c: Vec<String> = t.iter().map(Threshold::condition).collect();
        assert_eq!(
            c,
            [
                "failed < 50",
                "error_window_s <= 5.5",
                "lost_writes == 0",
                "p99_ms < 500",
                "p99_ms > 0",
                "clients.k6.failed != 3",
                "faults.1.error_window_s >= 0.001",
                "f2_detect_s > 1"
            ]
        );
        assert_eq!(
            t[5].figure,
            Figure::Client {
                name: "k6".into(),
                figure: "failed".into()
            }
        );
        assert_eq!(
            t[7].figure,
            Figure::Fault {
                index: 2,
                figure: "detect_s".into()
            }
        );
        assert_eq!(t[0].at, "t.toml:15");
    }

    #[test]
    fn bad_thresholds_name_line_key_and_what_was_expected() {
        let err = |body: &str| parse(body).unwrap_err();
        let e = err("faild = \"< 50\"\n");
        assert_eq!((e.line, e.key.as_str()), (15, "thresholds.faild"));
        assert!(e.message.contains("did you mean `failed`?"), "{e}");
        let e = err("failed = \"=< 50\"\n");
        assert!(e.message.contains("one of <, <="), "{e}");
        let e = err("failed = \"< fifty\"\n");
        assert!(e.message.contains("`fifty`") && e.message.contains("not a number"));
        let e = err("failed = 50\n");
        assert!(e.message.contains("found integer 50"), "{e}");
        let e = err("\"clients.k7.failed\" = \"< 1\"\n");
        assert_eq!(e.key, "thresholds.\"clients.k7.failed\"");
        assert!(
            e.message.contains("no client `k7`; did you mean `k6`?"),
            "{e}"
        );
        let e = err("\"faults.3.detect_s\" = \"< 1\"\n");
        assert!(
            e.message
                .contains("no fault action #3: the experiment has 2"),
            "{e}"
        );
        let e = err("\"faults.1.detect\" = \"< 1\"\n");
        assert!(e.message.contains("did you mean `detect_s`?"), "{e}");
        let e = err("\"faults.x.detect_s\" = \"< 1\"\n");
        assert!(e.message.contains("faults.N.FIGURE"), "{e}");
        let e = parse("").map(|t| t.len()).unwrap();
        assert_eq!(e, 0);
    }

    #[test]
    fn ops_hold_and_no_value_fails() {
        assert!(Op::Lt.holds(1.0, 2.0) && !Op::Lt.holds(2.0, 2.0));
        assert!(Op::Le.holds(2.0, 2.0) && Op::Ge.holds(2.0, 2.0));
        assert!(Op::Eq.holds(0.0, 0.0) && Op::Ne.holds(1.0, 0.0));
        assert!(Op::Gt.holds(3.0, 2.0));
        for op in Op::ALL.map(|(_, o)| o) {
            assert!(!op.holds(f64::NAN, 0.0), "{op:?}");
        }
    }
}
