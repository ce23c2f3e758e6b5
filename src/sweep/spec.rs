//! Sweep files: which experiment keys vary over which values, how the values
//! form points (grid or zip), how many replications each point gets.
//!
//! Two forms, both TOML:
//! - an experiment file with a `[sweep]` table (the experiment loader never
//!   sees that table: [`strip_sweep`] blanks it out, keeping every other
//!   line where it was, so error positions stay right);
//! - a sweep file: `experiment = "path.toml"` (relative to the sweep file)
//!   and a `[sweep]` table, nothing else.
//!
//! Every error is a [`ConfigError`] naming the file, line, column and key.

use crate::config::{self, ConfigError, spec::ExperimentSpec};
use crate::engine::parse_duration;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// The largest sweep accepted (points x replications).
pub const MAX_RUNS: usize = 10_000_000;

/// The most values a range may give.
pub const MAX_VALUES: usize = 1_000_000;

/// One value of a parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct Value {
    /// TOML text given to [`config::parse_with_overrides`], e.g. `"500ms"`.
    pub toml: String,
    /// How CSV files and plots show it, e.g. `500ms`.
    pub label: String,
    /// Position on a numeric axis: the number, or seconds for a duration;
    /// `None` for anything else (strings, tables, booleans).
    pub num: Option<f64>,
    /// Where the sweep file gives it (the list item, or the range).
    span: Range<usize>,
}

/// A swept key and its values, in order.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The key path as `parse_with_overrides` takes it.
    pub key: String,
    pub values: Vec<Value>,
    /// Values came from a log range: plots use a log axis.
    pub log: bool,
    /// Values are durations: plots say seconds.
    pub duration: bool,
    /// Where the values are written in the sweep file (for errors).
    at: Loc,
}

/// How several parameters combine into points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every combination; the first parameter varies slowest.
    Grid,
    /// The i-th values of every parameter together (equal lengths).
    Zip,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Grid => "grid",
            Mode::Zip => "zip",
        }
    }
}

/// A parsed, validated sweep.
#[derive(Clone, Debug)]
pub struct Sweep {
    /// Names the output folder `output/<name>/`.
    pub name: String,
    /// The file given on the command line.
    pub file: String,
    /// The experiment file the points are built from.
    pub experiment_file: String,
    /// Its text, with any `[sweep]` table blanked out.
    pub experiment_text: String,
    /// Fixed overrides applied to every point (`[sweep.set]`).
    pub set: Vec<(String, String)>,
    pub params: Vec<Param>,
    pub mode: Mode,
    pub replications: u32,
    /// Base seed: seeds derive from (seed, point, replication).
    pub seed: u64,
    /// Metrics to plot.
    pub plot: Vec<String>,
    set_at: Vec<Loc>,
    src: Src,
}

/// A place in the sweep file.
#[derive(Clone, Debug, PartialEq)]
struct Loc {
    span: Range<usize>,
    key: String,
}

/// The sweep file's text, for positions.
#[derive(Clone, Debug)]
struct Src {
    file: String,
    text: String,
}

impl Src {
    fn error(&self, span: &Range<usize>, key: &str, message: impl Into<String>) -> ConfigError {
        let start = span.start.min(self.text.len());
        let line_start = self.text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line = self.text[..start].matches('\n').count() + 1;
        let line_end = self.text[start..]
            .find('\n')
            .map_or(self.text.len(), |i| start + i);
        let line_text = self.text[line_start..line_end].trim_end_matches('\r');
        let column = self.text[line_start..start].chars().count() + 1;
        let end = span.end.clamp(start, line_end);
        let width = self.text[start..end].chars().count().max(1);
        ConfigError {
            file: self.file.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            source_line: Some(line_text.to_string()),
            width,
        }
    }
}

// ------------------------------------------------------------ tree --

/// A TOML value with its span, owned.
#[derive(Clone, Debug)]
struct Node {
    val: V,
    span: Range<usize>,
}

#[derive(Clone, Debug)]
enum V {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Node>),
    /// Entries in file order: (key, key span, value).
    Table(Vec<(String, Range<usize>, Node)>),
}

impl V {
    fn kind(&self) -> &'static str {
        match self {
            V::Str(_) => "a string",
            V::Int(_) => "an integer",
            V::Float(_) => "a float",
            V::Bool(_) => "a boolean",
            V::Datetime(_) => "a date-time",
            V::Array(_) => "an array",
            V::Table(_) => "a table",
        }
    }
}

fn parse_tree(src: &Src) -> Result<Node, ConfigError> {
    let doc = DeTable::parse(&src.text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        src.error(&span, "", format!("invalid TOML: {}", e.message().trim()))
    })?;
    let span = doc.span();
    Ok(Node {
        val: table(src, doc.into_inner())?,
        span,
    })
}

fn table(src: &Src, t: DeTable<'_>) -> Result<V, ConfigError> {
    let mut entries = Vec::new();
    for (k, v) in t {
        let span = k.span();
        let name = k.into_inner().into_owned();
        entries.push((name, span, node(src, v)?));
    }
    entries.sort_by_key(|e| e.1.start);
    Ok(V::Table(entries))
}

fn node(src: &Src, v: Spanned<DeValue<'_>>) -> Result<Node, ConfigError> {
    let span = v.span();
    let val = match v.into_inner() {
        DeValue::String(s) => V::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => V::Int(n),
            Err(_) => return Err(src.error(&span, "", "integer out of range")),
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => V::Float(x),
            Err(_) => return Err(src.error(&span, "", "invalid float")),
        },
        DeValue::Boolean(b) => V::Bool(b),
        DeValue::Datetime(d) => V::Datetime(d.to_string()),
        DeValue::Array(a) => {
            let mut items = Vec::new();
            for e in a.iter().cloned() {
                items.push(node(src, e)?);
            }
            V::Array(items)
        }
        DeValue::Table(t) => table(src, t)?,
    };
    Ok(Node { val, span })
}

fn get<'a>(t: &'a [(String, Range<usize>, Node)], key: &str) -> Option<&'a Node> {
    t.iter().find(|e| e.0 == key).map(|e| &e.2)
}

/// The value as TOML text (strings quoted and escaped, floats with a point).
fn to_toml(n: &Node) -> String {
    fn conv(n: &Node) -> toml::Value {
        match &n.val {
            V::Str(s) => toml::Value::String(s.clone()),
            V::Int(i) => toml::Value::Integer(*i),
            V::Float(f) => toml::Value::Float(*f),
            V::Bool(b) => toml::Value::Boolean(*b),
            V::Datetime(d) => d
                .parse::<toml::value::Datetime>()
                .map_or_else(|_| toml::Value::String(d.clone()), toml::Value::Datetime),
            V::Array(a) => toml::Value::Array(a.iter().map(conv).collect()),
            V::Table(t) => {
                toml::Value::Table(t.iter().map(|(k, _, v)| (k.clone(), conv(v))).collect())
            }
        }
    }
    conv(n).to_string()
}

// ------------------------------------------------------------ strip --

/// Lines (0-based, inclusive ranges) that hold `[sweep]` keys or values.
fn sweep_lines(text: &str, root: &Node) -> Vec<Range<usize>> {
    fn line_of(text: &str, offset: usize) -> usize {
        text[..offset.min(text.len())].matches('\n').count()
    }
    fn walk(text: &str, n: &Node, out: &mut Vec<Range<usize>>) {
        match &n.val {
            // A table's own span may be just its header; its keys and values
            // say where its lines are.
            V::Table(t) => {
                for (_, kspan, v) in t {
                    out.push(line_of(text, kspan.start)..line_of(text, kspan.end) + 1);
                    walk(text, v, out);
                }
            }
            _ => out.push(line_of(text, n.span.start)..line_of(text, n.span.end) + 1),
        }
    }
    let mut out = Vec::new();
    if let V::Table(t) = &root.val {
        for (k, kspan, v) in t {
            if k == "sweep" {
                out.push(line_of(text, kspan.start)..line_of(text, kspan.end) + 1);
                walk(text, v, &mut out);
            }
        }
    }
    out
}

/// `text` with the lines of its `[sweep]` table emptied (line numbers of the
/// rest unchanged), or `None` when it has none or is not valid TOML.
pub fn strip_sweep(text: &str) -> Option<String> {
    let src = Src {
        file: String::new(),
        text: text.to_string(),
    };
    let root = parse_tree(&src).ok()?;
    let lines = sweep_lines(text, &root);
    if lines.is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (i, line) in text.split_inclusive('\n').enumerate() {
        if lines.iter().any(|r| r.contains(&i)) {
            if line.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push_str(line);
        }
    }
    Some(out)
}

// ------------------------------------------------------------ load --

/// What a file given to `hasim run` or `hasim sweep` is.
enum Form {
    /// A plain experiment (no `[sweep]`).
    Plain,
    /// An experiment with a `[sweep]` table.
    Embedded { stripped: String },
    /// A sweep file naming its experiment.
    Named { experiment: PathBuf },
}

fn form(src: &Src, root: &Node) -> Result<Form, ConfigError> {
    let V::Table(top) = &root.val else {
        return Ok(Form::Plain);
    };
    if let Some(e) = get(top, "experiment")
        && !matches!(e.val, V::Table(_))
    {
        let V::Str(path) = &e.val else {
            return Err(src.error(
                &e.span,
                "experiment",
                format!(
                    "expected the path of an experiment file (a string), found {}",
                    e.val.kind()
                ),
            ));
        };
        for (k, kspan, _) in top {
            if k != "experiment" && k != "sweep" {
                return Err(src.error(
                    kspan,
                    k,
                    "a sweep file holds only `experiment = \"…\"` and `[sweep]`; \
                     put experiment keys in the experiment file or under [sweep.set]",
                ));
            }
        }
        let base = Path::new(&src.file).parent().unwrap_or(Path::new(""));
        return Ok(Form::Named {
            experiment: base.join(path),
        });
    }
    if get(top, "sweep").is_none() {
        return Ok(Form::Plain);
    }
    match strip_sweep(&src.text) {
        Some(stripped) => Ok(Form::Embedded { stripped }),
        None => Ok(Form::Plain),
    }
}

fn read(path: &Path) -> Result<Src, ConfigError> {
    let file = path.display().to_string();
    let text = config::read_input(path, config::MAX_INPUT_BYTES)
        .map_err(|e| ConfigError::whole_file(&file, format!("cannot read the file: {e}")))?;
    Ok(Src { file, text })
}

/// The experiment `hasim run` runs for `path`: a plain experiment as
/// [`config::load`] reads it; an experiment with a `[sweep]` table without
/// that table; for a sweep file, the experiment it names with `[sweep.set]`
/// applied, named `<sweep>-base`.
pub fn load_base(path: &Path) -> Result<ExperimentSpec, ConfigError> {
    let src = read(path)?;
    // Anything that is not plainly a sweep goes to the experiment loader,
    // which has the better message for a broken file.
    let Ok(root) = parse_tree(&src) else {
        return config::parse(&src.text, &src.file);
    };
    match form(&src, &root)? {
        Form::Plain => config::parse(&src.text, &src.file),
        Form::Embedded { .. } | Form::Named { .. } => {
            let s = load(path)?;
            let mut overrides = s.set.clone();
            if matches!(form(&src, &root)?, Form::Named { .. }) {
                overrides.push(("experiment.name".into(), quote(&format!("{}-base", s.name))));
            }
            s.parse_point(&overrides, None)
        }
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Reads and validates the sweep in `path` (either form); every point is
/// parsed, so a bad value is refused before anything runs.
pub fn load(path: &Path) -> Result<Sweep, ConfigError> {
    parse_src(read(path)?)
}

/// Like [`load`], for a sweep given as text; `file` names it in messages
/// and is where a sweep file's `experiment = "…"` path is relative to.
pub fn parse(text: &str, file: &str) -> Result<Sweep, ConfigError> {
    parse_src(Src {
        file: file.to_string(),
        text: text.to_string(),
    })
}

fn parse_src(src: Src) -> Result<Sweep, ConfigError> {
    if src.text.trim().is_empty() {
        return Err(ConfigError::whole_file(
            &src.file,
            "the file is empty; a sweep needs a `[sweep]` table",
        ));
    }
    let root = parse_tree(&src)?;
    let (experiment_file, experiment_text, default_name) = match form(&src, &root)? {
        Form::Plain => {
            return Err(src.error(
                &(0..0),
                "sweep",
                "no `[sweep]` table: a sweep needs one, with `replications = N` for N seeds of \
                 this experiment and/or `[sweep.params]` for the keys to vary \
                 (e.g. \"balancers.lb.default_server.inter\" = [\"1s\", \"2s\"])",
            ));
        }
        Form::Embedded { stripped } => {
            // The experiment itself must be valid on its own.
            let spec = config::parse(&stripped, &src.file)?;
            (src.file.clone(), stripped, format!("{}-sweep", spec.name))
        }
        Form::Named { experiment } => {
            let e = read(&experiment).map_err(|err| {
                let V::Table(top) = &root.val else {
                    return err;
                };
                let at = get(top, "experiment").map_or(0..0, |n| n.span.clone());
                src.error(&at, "experiment", format!("{}: {}", err.file, err.message))
            })?;
            let text = match strip_sweep(&e.text) {
                Some(t) => t,
                None => e.text,
            };
            let stem = Path::new(&src.file)
                .file_stem()
                .map_or("sweep".into(), |s| s.to_string_lossy().into_owned());
            (e.file, text, stem)
        }
    };
    let V::Table(top) = &root.val else {
        unreachable!("a document is a table")
    };
    let sweep = get(top, "sweep").ok_or_else(|| {
        src.error(
            &root.span,
            "sweep",
            "missing table `[sweep]` (with `replications` and/or `[sweep.params]`)",
        )
    })?;
    let V::Table(sw) = &sweep.val else {
        return Err(src.error(
            &sweep.span,
            "sweep",
            format!("expected a table, found {}", sweep.val.kind()),
        ));
    };
    const KEYS: [&str; 7] = [
        "name",
        "replications",
        "mode",
        "seed",
        "plot",
        "set",
        "params",
    ];
    for (k, kspan, _) in sw {
        if !KEYS.contains(&k.as_str()) {
            return Err(src.error(
                kspan,
                &format!("sweep.{k}"),
                format!(
                    "unknown key{} (known: {})",
                    config::suggest(k, KEYS)
                        .map_or(String::new(), |s| format!("; did you mean `{s}`?")),
                    KEYS.join(", ")
                ),
            ));
        }
    }

    let name = match get(sw, "name") {
        None => default_name,
        Some(n) => match &n.val {
            V::Str(s)
                if !s.is_empty()
                    && !s.starts_with('.')
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) =>
            {
                s.clone()
            }
            _ => {
                return Err(src.error(
                    &n.span,
                    "sweep.name",
                    "expected a name for the output folder: letters, digits, `-`, `_` and `.`",
                ));
            }
        },
    };
    let replications = match get(sw, "replications") {
        None => 1,
        Some(n) => match n.val {
            V::Int(i) if (1..=1_000_000).contains(&i) => i as u32,
            _ => {
                return Err(src.error(
                    &n.span,
                    "sweep.replications",
                    format!("expected an integer from 1 to 1000000, found {}", shown(n)),
                ));
            }
        },
    };
    let mode = match get(sw, "mode") {
        None => Mode::Grid,
        Some(n) => match &n.val {
            V::Str(s) if s == "grid" => Mode::Grid,
            V::Str(s) if s == "zip" => Mode::Zip,
            _ => {
                return Err(src.error(
                    &n.span,
                    "sweep.mode",
                    format!("expected \"grid\" or \"zip\", found {}", shown(n)),
                ));
            }
        },
    };
    let seed = match get(sw, "seed") {
        None => None,
        Some(n) => match n.val {
            V::Int(i) if i >= 0 => Some(i as u64),
            _ => {
                return Err(src.error(
                    &n.span,
                    "sweep.seed",
                    format!("expected a non-negative integer, found {}", shown(n)),
                ));
            }
        },
    };
    let mut plot = Vec::new();
    let mut plot_at = Vec::new();
    if let Some(n) = get(sw, "plot") {
        let bad = || {
            src.error(
                &n.span,
                "sweep.plot",
                "expected a list of metric names, e.g. [\"error_window_s\", \"false_failovers\"]",
            )
        };
        let V::Array(items) = &n.val else {
            return Err(bad());
        };
        for i in items {
            let V::Str(s) = &i.val else { return Err(bad()) };
            plot.push(s.clone());
            plot_at.push(i.span.clone());
        }
    }

    let mut set = Vec::new();
    let mut set_at = Vec::new();
    if let Some(n) = get(sw, "set") {
        let V::Table(t) = &n.val else {
            return Err(src.error(
                &n.span,
                "sweep.set",
                "expected a table of fixed overrides, e.g. \"network.latency\" = { base = \"0.1ms\", jitter = \"2ms\" }",
            ));
        };
        let mut flat = Vec::new();
        flatten(t, "", &mut flat, &|_| false);
        for (key, kspan, v) in flat {
            set.push((key.clone(), to_toml(v)));
            set_at.push(Loc {
                span: kspan.start..v.span.end,
                key,
            });
        }
    }

    // No swept key is N replications of the experiment itself: one point.
    let params_node = get(sw, "params");
    let params_span = params_node.map_or(sweep.span.clone(), |n| n.span.clone());
    let mut flat = Vec::new();
    if let Some(params_node) = params_node {
        let V::Table(pt) = &params_node.val else {
            return Err(src.error(
                &params_node.span,
                "sweep.params",
                format!("expected a table, found {}", params_node.val.kind()),
            ));
        };
        flatten(pt, "", &mut flat, &|t| get(t, "from").is_some());
        flat.sort_by_key(|(_, kspan, _)| kspan.start);
    }
    let tables = experiment_text.parse::<toml::Table>().ok();
    if let Some(tables) = &tables {
        for (key, at) in flat
            .iter()
            .map(|(k, kspan, _)| (k, kspan))
            .chain(set_at.iter().map(|l| (&l.key, &l.span)))
        {
            if let Some(msg) = missing_table(tables, key) {
                return Err(src.error(at, key, msg));
            }
        }
    }
    let mut params: Vec<Param> = Vec::new();
    for (key, kspan, v) in flat {
        if key == "experiment.seed" {
            return Err(src.error(
                &kspan,
                &key,
                "the seed of every run derives from (sweep seed, point, replication): \
                 use `replications` for more seeds and `seed` for another base",
            ));
        }
        if params.iter().any(|p| p.key == key) {
            return Err(src.error(&kspan, &key, "this key is swept twice"));
        }
        if set.iter().any(|(k, _)| *k == key) {
            return Err(src.error(&kspan, &key, "this key is also fixed under [sweep.set]"));
        }
        params.push(param(&src, key, v)?);
    }
    if mode == Mode::Zip
        && let Some(p) = params
            .iter()
            .find(|p| p.values.len() != params[0].values.len())
    {
        return Err(src.error(
            &p.at.span,
            &p.key,
            format!(
                "mode = \"zip\" pairs the i-th values of every key: this key has {} values, `{}` has {}",
                p.values.len(),
                params[0].key,
                params[0].values.len()
            ),
        ));
    }

    let base_seed = match seed {
        Some(s) => s,
        None => config::parse_with_overrides(&experiment_text, &experiment_file, &[])
            .map(|s| s.seed)
            .unwrap_or(1),
    };
    let mut s = Sweep {
        name,
        file: src.file.clone(),
        experiment_file,
        experiment_text,
        set,
        params,
        mode,
        replications,
        seed: base_seed,
        plot,
        set_at,
        src,
    };
    let runs = s.points_len().saturating_mul(s.replications as usize);
    if runs > MAX_RUNS {
        return Err(s.src.error(
            &params_span,
            "sweep.params",
            format!("{runs} runs is more than the {MAX_RUNS} a sweep may have"),
        ));
    }
    // The fixed overrides alone.
    s.parse_point(&s.set.clone(), None)?;
    let n_faults = s.base_fault_actions()?;
    let known = super::metrics::metric_names(n_faults);
    if s.plot.is_empty() {
        s.plot = super::metrics::DEFAULT_PLOTS
            .iter()
            .filter(|m| known.iter().any(|k| k == *m))
            .map(|m| m.to_string())
            .collect();
    }
    for (m, at) in s.plot.iter().zip(&plot_at) {
        if !known.contains(m) {
            let hint = config::suggest(m, known.iter().map(String::as_str))
                .map_or(String::new(), |h| format!("; did you mean `{h}`?"));
            return Err(s.src.error(
                at,
                "sweep.plot",
                format!(
                    "no metric `{m}`{hint} (metrics of this experiment: {})",
                    known.join(", ")
                ),
            ));
        }
    }
    Ok(s)
}

/// The sections whose tables are named (`[balancers.NAME]`), with the noun
/// a message uses for one of them.
const NAMED: [(&str, &str); 5] = [
    ("clients", "client"),
    ("balancers", "balancer"),
    ("apps", "app"),
    ("servers", "server"),
    ("databases", "database"),
];

/// Why `key` cannot apply to the experiment `tables`: it goes into a named
/// table the experiment lacks. The override would otherwise create that
/// table, and the experiment loader would complain about its missing
/// `type`, which hides the typo. A whole table (`"servers.extra" = {...}`)
/// may be new: that is how `[sweep.set]` adds one.
fn missing_table(tables: &toml::Table, key: &str) -> Option<String> {
    let mut parts = key.splitn(3, '.');
    let (section, name, _inside) = (parts.next()?, parts.next()?, parts.next()?);
    let noun = NAMED.iter().find(|(s, _)| *s == section)?.1;
    let name = name.split('[').next().unwrap_or(name);
    let have: Vec<&str> = tables
        .get(section)
        .and_then(toml::Value::as_table)
        .map_or(Vec::new(), |t| t.keys().map(String::as_str).collect());
    if have.contains(&name) {
        return None;
    }
    if have.is_empty() {
        return Some(format!(
            "no {noun} `{name}`: the experiment has no [{section}] table"
        ));
    }
    // With one table, that one is what was meant.
    let guess =
        config::suggest(name, have.iter().copied()).or_else(|| (have.len() == 1).then(|| have[0]));
    let hint = guess.map_or(String::new(), |h| format!(" (did you mean `{h}`?)"));
    Some(format!(
        "no {noun} `{name}`; the {section} are: {}{hint}",
        have.join(", ")
    ))
}

/// A short rendering of a value for messages.
fn shown(n: &Node) -> String {
    match &n.val {
        V::Str(s) => format!("string {s:?}"),
        V::Int(i) => format!("integer {i}"),
        V::Float(f) => format!("float {f}"),
        V::Bool(b) => format!("boolean {b}"),
        other => other.kind().to_string(),
    }
}

/// A table's entries: (key, key span, value).
type Entries = [(String, Range<usize>, Node)];

/// Leaves of a table as (dotted key path, key span, value); a table for
/// which `is_leaf` holds is a leaf.
fn flatten<'a>(
    t: &'a Entries,
    prefix: &str,
    out: &mut Vec<(String, Range<usize>, &'a Node)>,
    is_leaf: &dyn Fn(&Entries) -> bool,
) {
    for (k, kspan, v) in t {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match &v.val {
            // A quoted key path (`"network.latency"`) names the value whole.
            V::Table(sub) if !k.contains(['.', '[']) && !is_leaf(sub) => {
                flatten(sub, &path, out, is_leaf)
            }
            _ => out.push((path, kspan.clone(), v)),
        }
    }
}

// ------------------------------------------------------------ values --

/// A duration as the shortest exact string in the largest unit that keeps
/// it short: `1.5s`, `31.6ms`, `250us`.
pub fn fmt_duration(ns: u64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    for (unit, name) in [
        (3_600_000_000_000u64, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
    ] {
        // Hours and minutes only when whole.
        if ns >= unit && (unit <= 1_000_000_000 || ns.is_multiple_of(unit)) {
            let whole = ns / unit;
            let frac = ns % unit;
            if frac == 0 {
                return format!("{whole}{name}");
            }
            let digits = unit.ilog10() as usize;
            let f = format!("{frac:0digits$}");
            return format!("{whole}.{}{name}", f.trim_end_matches('0'));
        }
    }
    format!("{ns}ns")
}

/// `x` rounded to `sig` significant digits.
fn round_sig(x: f64, sig: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let p = 10f64.powi(sig - 1 - x.abs().log10().floor() as i32);
    (x * p).round() / p
}

/// A float as TOML writes it and as a label.
fn float_value(x: f64) -> Value {
    let x = round_sig(x, 12);
    let toml = toml::Value::Float(x).to_string();
    Value {
        label: format!("{x}"),
        toml,
        num: Some(x),
        span: 0..0,
    }
}

fn int_value(i: i64) -> Value {
    Value {
        toml: i.to_string(),
        label: i.to_string(),
        num: Some(i as f64),
        span: 0..0,
    }
}

fn duration_value(ns: u64) -> Value {
    let label = fmt_duration(ns);
    Value {
        toml: quote(&label),
        num: Some(ns as f64 / 1e9),
        label,
        span: 0..0,
    }
}

fn param(src: &Src, key: String, v: &Node) -> Result<Param, ConfigError> {
    let at = Loc {
        span: v.span.clone(),
        key: key.clone(),
    };
    let err = |span: &Range<usize>, msg: String| src.error(span, &key, msg);
    match &v.val {
        V::Array(items) => {
            if items.is_empty() {
                return Err(err(&v.span, "expected at least one value".into()));
            }
            if items.len() > MAX_VALUES {
                return Err(err(
                    &v.span,
                    format!(
                        "{} values; a list may have at most {MAX_VALUES}",
                        items.len()
                    ),
                ));
            }
            let mut values = Vec::new();
            let mut seen = std::collections::HashSet::new();
            let mut durations = true;
            for i in items {
                let val = match &i.val {
                    V::Str(s) => match parse_duration(s) {
                        Ok(d) => Value {
                            toml: quote(s),
                            label: s.clone(),
                            num: Some(d.0 as f64 / 1e9),
                            span: 0..0,
                        },
                        Err(_) => {
                            durations = false;
                            Value {
                                toml: quote(s),
                                label: s.clone(),
                                num: None,
                                span: 0..0,
                            }
                        }
                    },
                    V::Int(n) => {
                        durations = false;
                        int_value(*n)
                    }
                    V::Float(f) => {
                        durations = false;
                        Value {
                            toml: to_toml(i),
                            label: format!("{f}"),
                            num: Some(*f),
                            span: 0..0,
                        }
                    }
                    V::Datetime(_) => {
                        return Err(err(&i.span, "a date-time is no experiment value".into()));
                    }
                    _ => {
                        durations = false;
                        let t = to_toml(i);
                        Value {
                            toml: t.clone(),
                            label: t,
                            num: None,
                            span: 0..0,
                        }
                    }
                };
                let val = Value {
                    span: i.span.clone(),
                    ..val
                };
                if !seen.insert(val.toml.clone()) {
                    return Err(err(&i.span, format!("{} is listed twice", val.label)));
                }
                values.push(val);
            }
            Ok(Param {
                key: key.clone(),
                values,
                log: false,
                duration: durations,
                at,
            })
        }
        V::Table(t) => range(src, &key, v, t, at),
        _ => Err(err(
            &v.span,
            format!(
                "expected a list of values, a range {{ from, to, step }} or a log range \
                 {{ from, to, points, log = true }}, found {}",
                shown(v)
            ),
        )),
    }
}

/// A number or a duration, as given in a range.
#[derive(Clone, Copy)]
enum Bound {
    Int(i64),
    Float(f64),
    Ns(u64),
}

impl Bound {
    fn f(self) -> f64 {
        match self {
            Bound::Int(i) => i as f64,
            Bound::Float(f) => f,
            Bound::Ns(n) => n as f64,
        }
    }
}

fn range(
    src: &Src,
    key: &str,
    v: &Node,
    t: &[(String, Range<usize>, Node)],
    at: Loc,
) -> Result<Param, ConfigError> {
    const KEYS: [&str; 5] = ["from", "to", "step", "points", "log"];
    let err = |span: &Range<usize>, msg: String| src.error(span, key, msg);
    for (k, kspan, _) in t {
        if !KEYS.contains(&k.as_str()) {
            let hint = config::suggest(k, KEYS)
                .map_or(String::new(), |s| format!("; did you mean `{s}`?"));
            return Err(err(
                kspan,
                format!(
                    "unknown key `{k}` in a range{hint} (a range is {{ from, to, step }} or {{ from, to, points, log = true }})"
                ),
            ));
        }
    }
    let bound = |name: &str| -> Result<Bound, ConfigError> {
        let n = get(t, name).ok_or_else(|| {
            err(
                &v.span,
                format!("a range needs `{name}` (e.g. {{ from = \"500ms\", to = \"10s\", step = \"500ms\" }})"),
            )
        })?;
        match &n.val {
            V::Int(i) => Ok(Bound::Int(*i)),
            V::Float(f) => Ok(Bound::Float(*f)),
            V::Str(s) => parse_duration(s).map(|d| Bound::Ns(d.0)).map_err(|e| {
                err(
                    &n.span,
                    format!("`{name}`: expected a number or a duration such as \"500ms\": {e}"),
                )
            }),
            _ => Err(err(
                &n.span,
                format!(
                    "`{name}`: expected a number or a duration such as \"500ms\", found {}",
                    shown(n)
                ),
            )),
        }
    };
    let from = bound("from")?;
    let to = bound("to")?;
    for (name, b) in [("from", from), ("to", to)] {
        if !b.f().is_finite() {
            let at = get(t, name).map_or(&v.span, |n| &n.span);
            return Err(err(
                at,
                format!("`{name}` must be a finite number, got {}", b.f()),
            ));
        }
    }
    let is_dur = matches!(from, Bound::Ns(_));
    if is_dur != matches!(to, Bound::Ns(_)) {
        return Err(err(
            &v.span,
            "`from` and `to` must both be durations (\"500ms\") or both numbers".into(),
        ));
    }
    if from.f() > to.f() {
        return Err(err(&v.span, "`from` must not be greater than `to`".into()));
    }
    let log = match get(t, "log") {
        None => false,
        Some(n) => match n.val {
            V::Bool(b) => b,
            _ => {
                return Err(err(
                    &n.span,
                    format!("`log`: expected true or false, found {}", shown(n)),
                ));
            }
        },
    };
    let step = get(t, "step");
    let points = get(t, "points");
    let values: Vec<Value> = match (step, points) {
        (Some(_), Some(p)) => {
            return Err(err(&p.span, "give `step` or `points`, not both".into()));
        }
        (None, None) => {
            return Err(err(
                &v.span,
                "a range needs `step` (linear) or `points` (with `log = true` for a log range)"
                    .into(),
            ));
        }
        (Some(sn), None) => {
            if log {
                return Err(err(
                    &sn.span,
                    "a log range takes `points`, not `step`".into(),
                ));
            }
            let step = bound("step")?;
            if is_dur != matches!(step, Bound::Ns(_)) {
                return Err(err(
                    &sn.span,
                    "`step` must be of the same kind as `from` and `to` (a duration or a number)"
                        .into(),
                ));
            }
            // Not `step <= 0`, so that NaN is refused too.
            if !(step.f() > 0.0 && step.f().is_finite()) {
                return Err(err(
                    &sn.span,
                    format!(
                        "`step` must be a finite number greater than zero, got {}",
                        step.f()
                    ),
                ));
            }
            // Finite or +inf (from -1e308 to 1e308): never NaN.
            let span = (to.f() - from.f()) / step.f();
            let count = (span * (1.0 + 1e-12) + 1e-9).floor() + 1.0;
            if count > MAX_VALUES as f64 {
                return Err(err(
                    &sn.span,
                    format!(
                        "from {:?} to {:?} by {:?} is {} values; a range may have at most {MAX_VALUES}",
                        from.f(),
                        to.f(),
                        step.f(),
                        if count < 1e15 {
                            format!("{count:.0}")
                        } else {
                            format!("{count:.3e}")
                        }
                    ),
                ));
            }
            // A step too small to move `from` (1e-300 on 1.0) would give the
            // same value forever.
            if from.f() + step.f() == from.f() || to.f() - step.f() == to.f() {
                return Err(err(
                    &sn.span,
                    format!(
                        "`step` {:?} is too small to change `from` {:?} or `to` {:?} in 64-bit floats",
                        step.f(),
                        from.f(),
                        to.f()
                    ),
                ));
            }
            let count = count as usize;
            match (from, step) {
                (Bound::Ns(a), Bound::Ns(s)) => (0..count as u64)
                    .map(|i| duration_value(a.saturating_add(i.saturating_mul(s))))
                    .collect(),
                (Bound::Int(a), Bound::Int(s)) => match to {
                    Bound::Int(_) => (0..count as i64)
                        .map(|i| int_value(a.saturating_add(i.saturating_mul(s))))
                        .collect(),
                    _ => (0..count)
                        .map(|i| float_value(a as f64 + i as f64 * s as f64))
                        .collect(),
                },
                (a, s) => (0..count)
                    .map(|i| float_value(a.f() + i as f64 * s.f()))
                    .collect(),
            }
        }
        (None, Some(pn)) => {
            let n = match pn.val {
                V::Int(n) if (2..=100_000).contains(&n) => n as usize,
                _ => {
                    return Err(err(
                        &pn.span,
                        format!(
                            "`points`: expected an integer from 2 to 100000, found {}",
                            shown(pn)
                        ),
                    ));
                }
            };
            if log && from.f() <= 0.0 {
                return Err(err(
                    &v.span,
                    "a log range needs `from` greater than zero".into(),
                ));
            }
            let ints = matches!((from, to), (Bound::Int(_), Bound::Int(_)));
            let mut vals: Vec<Value> = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for i in 0..n {
                let f = i as f64 / (n - 1) as f64;
                let x = if i == 0 {
                    from.f()
                } else if i == n - 1 {
                    to.f()
                } else if log {
                    // Three significant digits: 31.6ms, not 31.622776ms.
                    round_sig(from.f() * (to.f() / from.f()).powf(f), 3)
                } else {
                    from.f() + (to.f() - from.f()) * f
                };
                let val = if is_dur {
                    duration_value(x.round() as u64)
                } else if ints {
                    int_value(x.round() as i64)
                } else {
                    float_value(x)
                };
                if seen.insert(val.toml.clone()) {
                    vals.push(val);
                }
            }
            vals
        }
    };
    let values = values
        .into_iter()
        .map(|x| Value {
            span: v.span.clone(),
            ..x
        })
        .collect();
    Ok(Param {
        key: key.to_string(),
        values,
        log,
        duration: is_dur,
        at,
    })
}

// ------------------------------------------------------------ points --

impl Sweep {
    /// Number of points.
    pub fn points_len(&self) -> usize {
        match self.mode {
            Mode::Grid => self
                .params
                .iter()
                .fold(1usize, |n, p| n.saturating_mul(p.values.len())),
            Mode::Zip => self.params.first().map_or(1, |p| p.values.len()),
        }
    }

    /// Index of each parameter's value at point `i`.
    pub fn point(&self, i: usize) -> Vec<usize> {
        match self.mode {
            Mode::Zip => vec![i; self.params.len()],
            Mode::Grid => {
                let mut out = vec![0; self.params.len()];
                let mut rest = i;
                for (k, p) in self.params.iter().enumerate().rev() {
                    out[k] = rest % p.values.len();
                    rest /= p.values.len();
                }
                out
            }
        }
    }

    /// The labels of point `i`'s values, one per parameter.
    pub fn point_labels(&self, i: usize) -> Vec<&str> {
        self.point(i)
            .iter()
            .zip(&self.params)
            .map(|(&v, p)| p.values[v].label.as_str())
            .collect()
    }

    /// The overrides of point `i`: the fixed ones, then the swept keys.
    pub fn overrides(&self, i: usize) -> Vec<(String, String)> {
        let mut o = self.set.clone();
        for (&v, p) in self.point(i).iter().zip(&self.params) {
            o.push((p.key.clone(), p.values[v].toml.clone()));
        }
        o
    }

    /// The experiment of point `i`.
    pub fn spec(&self, i: usize) -> Result<ExperimentSpec, ConfigError> {
        self.parse_point(&self.overrides(i), Some(i))
    }

    /// Every point's experiment, or the first error (positioned in the
    /// sweep file when a swept or fixed value is at fault).
    pub fn specs(&self) -> Result<Vec<ExperimentSpec>, ConfigError> {
        use rayon::prelude::*;
        (0..self.points_len())
            .into_par_iter()
            .map(|i| self.spec(i))
            .collect()
    }

    fn parse_point(
        &self,
        overrides: &[(String, String)],
        point: Option<usize>,
    ) -> Result<ExperimentSpec, ConfigError> {
        config::parse_with_overrides(&self.experiment_text, &self.experiment_file, overrides)
            .map_err(|e| self.relocate(e, point))
    }

    /// An error about an override points at the value in the sweep file; an
    /// error elsewhere in the experiment says which point caused it.
    fn relocate(&self, e: ConfigError, point: Option<usize>) -> ConfigError {
        let assignments = point.map(|i| {
            self.params
                .iter()
                .zip(self.point_labels(i))
                .map(|(p, l)| format!("{} = {l}", p.key))
                .collect::<Vec<_>>()
                .join(", ")
        });
        if e.file == "override" {
            let loc = self
                .params
                .iter()
                .map(|p| &p.at)
                .chain(&self.set_at)
                .find(|l| e.key == l.key || e.key.starts_with(&format!("{}.", l.key)))
                .or_else(|| {
                    self.params
                        .iter()
                        .map(|p| &p.at)
                        .find(|l| l.key.starts_with(&e.key))
                });
            if let Some(loc) = loc {
                let value = point.and_then(|i| {
                    let k = self.params.iter().position(|p| p.at == *loc)?;
                    Some(&self.params[k].values[self.point(i)[k]])
                });
                let span = value.map_or(&loc.span, |v| &v.span);
                let what = value.map_or(String::new(), |v| format!("value {}: ", v.label));
                return self.src.error(span, &e.key, format!("{what}{}", e.message));
            }
        }
        match assignments {
            Some(a) if !a.is_empty() => ConfigError {
                message: format!("{} (at sweep point {a})", e.message),
                ..e
            },
            _ => e,
        }
    }

    /// How many fault actions the base point has (per-fault metric names).
    fn base_fault_actions(&self) -> Result<usize, ConfigError> {
        let spec = self.parse_point(&self.set.clone(), None)?;
        let end = crate::engine::SimTime(spec.duration.0);
        Ok(crate::faults::expand(&spec.faults, spec.seed, end).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXP: &str = "[experiment]\nname = \"t\"\nduration = \"10s\"\nseed = 5\n\
        [clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 10\n\
        [balancers.lb]\npreset = \"haproxy-2.6\"\nservers = [\"s\"]\n\
        [servers.s]\ncount = 2\nservice = \"1ms\"\n";

    fn write(name: &str, text: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hasim-sweep-spec-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn durations_format_short_and_exact() {
        assert_eq!(fmt_duration(1_500_000_000), "1.5s");
        assert_eq!(fmt_duration(31_600_000), "31.6ms");
        assert_eq!(fmt_duration(500_000_000), "500ms");
        assert_eq!(fmt_duration(120_000_000_000), "2m");
        assert_eq!(fmt_duration(90_000_000_000), "90s");
        assert_eq!(fmt_duration(250_000), "250us");
        assert_eq!(fmt_duration(7), "7ns");
        for ns in [1_500_000_000u64, 31_600_000, 250_000, 7, 90_000_000_000] {
            assert_eq!(parse_duration(&fmt_duration(ns)).unwrap().0, ns);
        }
    }

    #[test]
    fn strip_keeps_line_numbers_and_drops_the_sweep() {
        let text = format!(
            "{EXP}[sweep]\nreplications = 2\nplot = [\n  \"failed\",\n]\n\
             [sweep.params]\n\"balancers.lb.default_server.fall\" = [1, 2]\n[servers.t]\nservice = \"1ms\"\n"
        );
        let s = strip_sweep(&text).unwrap();
        assert_eq!(s.lines().count(), text.lines().count());
        assert!(!s.contains("sweep") && !s.contains("failed"));
        assert!(s.contains("[servers.t]"));
        assert_eq!(strip_sweep(EXP), None);
    }

    #[test]
    fn grid_zip_ranges_and_logs() {
        let p = write(
            "grid.toml",
            &format!(
                "{EXP}[sweep]\nreplications = 3\n[sweep.params]\n\
                 \"balancers.lb.default_server.inter\" = {{ from = \"10ms\", to = \"10s\", points = 4, log = true }}\n\
                 balancers.lb.default_server.fall = {{ from = 1, to = 5, step = 2 }}\n"
            ),
        );
        let s = load(&p).unwrap();
        assert_eq!(s.name, "t-sweep");
        assert_eq!(s.seed, 5);
        let labels: Vec<&str> = s.params[0]
            .values
            .iter()
            .map(|v| v.label.as_str())
            .collect();
        assert_eq!(labels, ["10ms", "100ms", "1s", "10s"]);
        assert!(s.params[0].log && s.params[0].duration);
        assert_eq!(s.params[0].values[1].toml, "\"100ms\"");
        assert_eq!(s.params[1].key, "balancers.lb.default_server.fall");
        let labels: Vec<&str> = s.params[1]
            .values
            .iter()
            .map(|v| v.label.as_str())
            .collect();
        assert_eq!(labels, ["1", "3", "5"]);
        assert_eq!(s.points_len(), 12);
        assert_eq!(s.point(0), [0, 0]);
        assert_eq!(s.point(4), [1, 1]);
        assert_eq!(s.point_labels(11), ["10s", "5"]);
        assert_eq!(s.specs().unwrap().len(), 12);
        let o = s.overrides(5);
        assert_eq!(
            o[0],
            (
                "balancers.lb.default_server.inter".into(),
                "\"100ms\"".into()
            )
        );

        let p = write(
            "zip.toml",
            &format!(
                "{EXP}[sweep]\nmode = \"zip\"\n[sweep.params]\n\
                 \"balancers.lb.default_server.inter\" = [\"1s\", \"2s\"]\n\
                 \"balancers.lb.default_server.fall\" = [1, 2]\n"
            ),
        );
        let s = load(&p).unwrap();
        assert_eq!(s.points_len(), 2);
        assert_eq!(s.point_labels(1), ["2s", "2"]);
        let f = write(
            "floats.toml",
            &format!(
                "{EXP}[sweep.params]\n\"network.loss\" = {{ from = 0.0, to = 0.3, step = 0.1 }}\n"
            ),
        );
        let s = load(&f).unwrap();
        let labels: Vec<&str> = s.params[0]
            .values
            .iter()
            .map(|v| v.label.as_str())
            .collect();
        assert_eq!(labels, ["0", "0.1", "0.2", "0.3"]);
        assert_eq!(s.params[0].values[0].toml, "0.0");
    }

    #[test]
    fn replications_alone_are_one_point_of_the_experiment() {
        for mode in ["grid", "zip"] {
            let s = parse(
                &format!("{EXP}[sweep]\nreplications = 20\nmode = \"{mode}\"\n"),
                "seeds.toml",
            )
            .unwrap();
            assert!(s.params.is_empty());
            assert_eq!((s.points_len(), s.replications), (1, 20));
            assert_eq!(s.point(0), Vec::<usize>::new());
            let specs = s.specs().unwrap();
            assert_eq!(specs.len(), 1);
            assert_eq!(specs[0].name, "t");
        }
        let s = parse(&format!("{EXP}[sweep]\n[sweep.params]\n"), "s.toml").unwrap();
        assert_eq!((s.points_len(), s.replications), (1, 1));
    }

    #[test]
    fn a_key_into_a_missing_table_names_the_tables_there_are() {
        let n = EXP.lines().count();
        let e = err(&format!(
            "{EXP}[sweep.params]\n\"balancers.haproxy.default_server.inter\" = [\"1s\"]\n"
        ));
        assert_eq!(
            (e.line, e.key.as_str()),
            (n + 2, "balancers.haproxy.default_server.inter")
        );
        assert_eq!(
            e.message,
            "no balancer `haproxy`; the balancers are: lb (did you mean `lb`?)"
        );
        let e = err(&format!(
            "{EXP}[sweep.set]\n\"servers.x.count\" = 3\n[sweep.params]\n\"balancers.lb.default_server.fall\" = [1]\n"
        ));
        assert_eq!((e.line, e.key.as_str()), (n + 2, "servers.x.count"));
        assert!(
            e.message.starts_with("no server `x`; the servers are: s"),
            "{e}"
        );
        let e = err(&format!(
            "{EXP}[sweep.params]\n\"databases.db.ttl\" = [1]\n"
        ));
        assert_eq!(
            e.message,
            "no database `db`: the experiment has no [databases] table"
        );
        let tables: toml::Table = EXP.parse().unwrap();
        assert_eq!(missing_table(&tables, "servers.extra"), None);
        assert_eq!(missing_table(&tables, "network.loss"), None);
    }

    #[test]
    fn a_named_experiment_with_fixed_overrides() {
        let e = write("named-exp.toml", EXP);
        let p = write(
            "named.toml",
            &format!(
                "experiment = \"{}\"\n[sweep]\nseed = 9\n[sweep.set]\n\"network.latency\" = {{ base = \"0.1ms\", jitter = \"2ms\" }}\n\
                 [sweep.params]\n\"balancers.lb.default_server.fall\" = [1, 2]\n",
                e.file_name().unwrap().to_string_lossy()
            ),
        );
        let s = load(&p).unwrap();
        assert_eq!((s.name.as_str(), s.seed), ("named", 9));
        assert_eq!(s.set[0].0, "network.latency");
        let base = load_base(&p).unwrap();
        assert_eq!(base.name, "named-base");
        assert_eq!(load_base(&e).unwrap().name, "t");
    }

    /// What `hasim sweep` refuses: the file, or a point's experiment.
    fn err(text: &str) -> ConfigError {
        // A name per text: tests run in parallel and must not read each
        // other's file.
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        text.hash(&mut h);
        let dir = format!("bad-{:016x}", h.finish());
        std::fs::create_dir_all(write("probe", "").with_file_name(&dir)).unwrap();
        match load(&write(&format!("{dir}/bad.toml"), text)) {
            Err(e) => e,
            Ok(s) => s.specs().map(|_| ()).unwrap_err(),
        }
    }

    /// Ranges that used to hang or overflow: a step too small to move
    /// `from`, infinite or NaN bounds, more values than a sweep may run.
    #[test]
    fn degenerate_ranges_are_refused_at_their_key() {
        let key = "balancers.lb.default_server.fall";
        let range = |r: &str| parse(&format!("{EXP}[sweep.params]\n\"{key}\" = {r}\n"), "s.toml");
        for (r, gist) in [
            (
                "{ from = 1.0, to = 2.0, step = 1e-300 }",
                "1.000e300 values",
            ),
            (
                "{ from = 1e17, to = 1.00000000000000064e17, step = 4.0 }",
                "too small to change",
            ),
            (
                "{ from = 0.0, to = inf, step = 1e-300 }",
                "`to` must be a finite number",
            ),
            (
                "{ from = nan, to = 1.0, step = 0.5 }",
                "`from` must be a finite number",
            ),
            (
                "{ from = 0.0, to = 1.0, step = nan }",
                "`step` must be a finite number",
            ),
            (
                "{ from = 0.0, to = 1.0, step = inf }",
                "`step` must be a finite number",
            ),
            (
                "{ from = 0, to = 9000000000000000000, step = 1 }",
                "a range may have at most",
            ),
            (
                "{ from = 0.0, to = 1e300, step = 1e-300 }",
                "a range may have at most",
            ),
            (
                "{ from = \"1ns\", to = \"10000h\", step = \"1ns\" }",
                "a range may have at most",
            ),
        ] {
            let e = range(r).unwrap_err();
            assert_eq!(e.key, key, "{r}: {e}");
            assert!(e.message.contains(gist), "{r}: {e}");
        }
        let list: Vec<String> = (0..20_000).map(|i| i.to_string()).collect();
        let started = std::time::Instant::now();
        let e = range(&format!("[{}, 7]", list.join(", "))).unwrap_err();
        assert!(e.message.contains("7 is listed twice"), "{e}");
        assert!(
            started.elapsed().as_secs() < 5,
            "duplicate check is quadratic"
        );
    }

    #[test]
    fn bad_input_names_file_line_key_and_expectation() {
        let n = EXP.lines().count();
        let e = err(&format!(
            "{EXP}[sweep.params]\n\"balancers.lb.default_server.fall\" = [1, 0]\n"
        ));
        assert_eq!(
            (e.line, e.key.as_str()),
            (n + 2, "balancers.lb.default_server.fall")
        );
        assert!(e.file.ends_with("bad.toml"));
        assert!(
            e.message.contains("value 0: must be at least 1, got 0"),
            "{e}"
        );

        let e = err(&format!(
            "{EXP}[sweep.params]\n\"balancers.lb.default_server.intr\" = [\"1s\"]\n"
        ));
        assert!(e.message.contains("did you mean `inter`"), "{e}");
        assert_eq!(e.line, n + 2);

        let e = err(&format!(
            "{EXP}[sweep.params]\n\"balancers.lb.default_server.inter\" = {{ from = \"1s\", to = \"5s\" }}\n"
        ));
        assert!(e.message.contains("needs `step`"), "{e}");
        let e = err(&format!(
            "{EXP}[sweep.params]\n\"balancers.lb.default_server.inter\" = {{ from = \"1s\", to = 5, step = 1 }}\n"
        ));
        assert!(e.message.contains("both be durations"), "{e}");
        let e = err(&format!(
            "{EXP}[sweep]\nmode = \"zip\"\n[sweep.params]\na.b = [1, 2]\nc.d = [1]\n"
        ));
        assert!(e.message.contains("this key has 1 values"), "{e}");
        let e = err(&format!(
            "{EXP}[sweep]\nreplication = 2\n[sweep.params]\na = [1]\n"
        ));
        assert!(e.message.contains("did you mean `replications`"), "{e}");
        assert_eq!(e.key, "sweep.replication");
        let e = err(&format!(
            "{EXP}[sweep]\nplot = [\"error_windw_s\"]\n[sweep.params]\n\"balancers.lb.default_server.fall\" = [1]\n"
        ));
        assert!(e.message.contains("did you mean `error_window_s`"), "{e}");
        let e = err(EXP);
        assert!(e.message.contains("no `[sweep]` table"), "{e}");
        assert!(e.message.contains("replications = N"), "{e}");
        let e = err(&format!(
            "{EXP}[sweep.params]\n\"experiment.seed\" = [1, 2]\n"
        ));
        assert!(e.message.contains("replications"), "{e}");
    }
}
