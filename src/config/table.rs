//! A reader over a spanned TOML tree.
//!
//! The text is parsed with `toml::de::DeTable` (which keeps byte spans) and
//! copied into a small owned tree whose every key and value remembers the
//! source it came from (experiment file, preset, override) and its byte span.
//! A [`Reader`] reads one table through layers: the experiment's table first,
//! then the preset's; the first layer holding a key wins, and errors point into
//! the file that holds the offending value. Every getter records the key as
//! known; [`Reader::finish`] refuses keys nobody asked for, suggesting the
//! closest known key.

use super::error::{ConfigError, did_you_mean, suggest};
use super::spec::{DistSpec, Jitter, LatencySpec};
use crate::engine::{Dur, parse_duration};
use std::ops::Range;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

// ---------------------------------------------------------------- sources --

/// Index of a source text in [`Sources`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SrcId(pub usize);

/// Where a key or value is: a source and a byte span in it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pos {
    pub src: SrcId,
    pub span: Range<usize>,
}

pub struct Source {
    pub name: String,
    pub text: String,
    /// Byte offset of the start of every line.
    line_starts: Vec<usize>,
}

/// Every text taking part in one parse: the experiment, presets, overrides.
#[derive(Default)]
pub struct Sources {
    list: Vec<Source>,
}

impl Sources {
    pub fn add(&mut self, name: &str, text: &str) -> SrcId {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        self.list.push(Source {
            name: name.to_string(),
            text: text.to_string(),
            line_starts,
        });
        SrcId(self.list.len() - 1)
    }

    pub fn get(&self, id: SrcId) -> &Source {
        &self.list[id.0]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: SrcId, offset: usize) -> (usize, usize) {
        let s = self.get(id);
        let offset = offset.min(s.text.len());
        let line = s.line_starts.partition_point(|&st| st <= offset).max(1);
        let start = s.line_starts[line - 1];
        let col = s.text[start..floor_char(&s.text, offset)].chars().count() + 1;
        (line, col)
    }

    /// 1-based line of a position.
    pub fn line_of(&self, pos: &Pos) -> usize {
        self.line_col(pos.src, pos.span.start).0
    }

    /// Text of a 1-based line, without its line break.
    fn line_text(&self, id: SrcId, line: usize) -> &str {
        let s = self.get(id);
        let start = s.line_starts[line - 1];
        let end = s.line_starts.get(line).copied().unwrap_or(s.text.len());
        s.text[start..end].trim_end_matches(['\n', '\r'])
    }

    pub fn error(&self, pos: &Pos, key: &str, message: impl Into<String>) -> ConfigError {
        let (line, column) = self.line_col(pos.src, pos.span.start);
        let text = self.line_text(pos.src, line);
        let s = self.get(pos.src);
        let end = pos.span.end.clamp(pos.span.start, s.text.len());
        let span_text = &s.text[floor_char(&s.text, pos.span.start)..floor_char(&s.text, end)];
        let on_line = span_text.split('\n').next().unwrap_or("");
        let room = text.chars().count().saturating_sub(column - 1);
        let width = on_line.chars().count().min(room).max(1);
        ConfigError {
            file: s.name.clone(),
            line,
            column,
            key: key.to_string(),
            message: message.into(),
            source_line: Some(text.to_string()),
            width,
        }
    }
}

fn floor_char(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

// ------------------------------------------------------------------- tree --

#[derive(Clone, Debug)]
pub enum Val {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Datetime(String),
    Array(Vec<Item>),
    Table(Tab),
}

#[derive(Clone, Debug)]
pub struct Item {
    pub val: Val,
    pub at: Pos,
}

#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub at: Pos,
}

/// A table's entries in source order.
#[derive(Clone, Debug, Default)]
pub struct Tab {
    pub entries: Vec<(Key, Item)>,
}

impl Tab {
    pub fn get(&self, key: &str) -> Option<&Item> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
    fn get_mut(&mut self, key: &str) -> Option<&mut Item> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.name == key)
            .map(|(_, v)| v)
    }
    pub fn key_pos(&self, key: &str) -> Option<&Pos> {
        self.entries
            .iter()
            .find(|(k, _)| k.name == key)
            .map(|(k, _)| &k.at)
    }
}

impl Val {
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Str(_) => "a string",
            Val::Int(_) => "an integer",
            Val::Float(_) => "a float",
            Val::Bool(_) => "a boolean",
            Val::Datetime(_) => "a datetime",
            Val::Array(_) => "an array",
            Val::Table(_) => "a table",
        }
    }

    /// `integer 5`, `string "x"`, `an array`… for "found …" messages.
    pub fn describe(&self) -> String {
        match self {
            Val::Str(s) => format!("string {s:?}"),
            Val::Int(i) => format!("integer {i}"),
            Val::Float(f) => format!("float {f}"),
            Val::Bool(b) => format!("boolean {b}"),
            Val::Datetime(d) => format!("datetime {d}"),
            Val::Array(_) | Val::Table(_) => self.type_name().to_string(),
        }
    }
}

impl Item {
    pub fn as_table(&self) -> Option<&Tab> {
        match &self.val {
            Val::Table(t) => Some(t),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.val {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Parses a whole TOML document of source `src` into a tree.
pub fn parse_document(sources: &Sources, src: SrcId) -> Result<Item, ConfigError> {
    let text = sources.get(src).text.as_str();
    let doc = DeTable::parse(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim();
        let key = if message.starts_with("duplicate key") {
            duplicate_key_path(text, &span)
        } else {
            String::new()
        };
        sources.error(&Pos { src, span }, &key, format!("invalid TOML: {message}"))
    })?;
    let span = doc.span();
    let tab = convert_table(sources, src, 0, "", doc.into_inner())?;
    Ok(Item {
        val: Val::Table(tab),
        at: Pos { src, span },
    })
}

fn convert_table(
    sources: &Sources,
    src: SrcId,
    offset: usize,
    path: &str,
    t: DeTable<'_>,
) -> Result<Tab, ConfigError> {
    let mut entries = Vec::new();
    for (k, v) in t {
        let at = shift(src, offset, k.span());
        let name = k.into_inner().into_owned();
        let item = convert(sources, src, offset, &join(path, &name), v)?;
        entries.push((Key { name, at }, item));
    }
    entries.sort_by_key(|(k, _): &(Key, Item)| k.at.span.start);
    Ok(Tab { entries })
}

/// The key path of a "duplicate key" error at `span`: the table header in
/// force at that line (`[a.b]`, `[[faults]]`) and the key there. A header
/// that is itself the duplicate is its own path.
fn duplicate_key_path(text: &str, span: &Range<usize>) -> String {
    let start = floor_char(text, span.start);
    let end = floor_char(text, span.end.max(start));
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    let header_of = |l: &str| -> Option<String> {
        let l = l.trim();
        let inner = l.strip_prefix("[[").map_or_else(
            || l.strip_prefix('[').and_then(|r| r.split(']').next()),
            |r| r.split("]]").next(),
        )?;
        Some(
            inner
                .split('.')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join("."),
        )
    };
    if line.starts_with('[') {
        return header_of(line).unwrap_or_default();
    }
    let header = text[..line_start]
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .and_then(header_of)
        .unwrap_or_default();
    text[start..end]
        .split('.')
        .map(|k| k.trim().trim_matches(['"', '\'']))
        .fold(header, |p, k| join(&p, k))
}

fn shift(src: SrcId, offset: usize, span: Range<usize>) -> Pos {
    Pos {
        src,
        span: span.start + offset..span.end + offset,
    }
}

/// Converts the value at key path `path` (named in errors).
fn convert(
    sources: &Sources,
    src: SrcId,
    offset: usize,
    path: &str,
    v: Spanned<DeValue<'_>>,
) -> Result<Item, ConfigError> {
    let at = shift(src, offset, v.span());
    let val = match v.into_inner() {
        DeValue::String(s) => Val::Str(s.into_owned()),
        DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
            Ok(n) => Val::Int(n),
            Err(_) => {
                return Err(sources.error(
                    &at,
                    path,
                    format!(
                        "integer out of range: `{}` does not fit in 64 bits (from {} to {})",
                        i.as_str(),
                        i64::MIN,
                        i64::MAX
                    ),
                ));
            }
        },
        DeValue::Float(f) => match f.as_str().parse::<f64>() {
            Ok(x) => Val::Float(x),
            Err(_) => return Err(sources.error(&at, path, "invalid float")),
        },
        DeValue::Boolean(b) => Val::Bool(b),
        DeValue::Datetime(d) => Val::Datetime(d.to_string()),
        DeValue::Array(a) => {
            let mut items = Vec::new();
            for (n, e) in a.iter().cloned().enumerate() {
                items.push(convert(sources, src, offset, &format!("{path}[{n}]"), e)?);
            }
            Val::Array(items)
        }
        DeValue::Table(t) => Val::Table(convert_table(sources, src, offset, path, t)?),
    };
    Ok(Item { val, at })
}

// -------------------------------------------------------------- overrides --

/// One step of an override's key path: a table key or an array index.
enum Step {
    Key(String),
    Index(usize),
}

/// `a.b[2].c` or `a.b.2.c` -> steps.
fn split_path(path: &str) -> Option<Vec<Step>> {
    let mut steps = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if name.is_empty() && rest.is_empty() {
            return None;
        }
        if !name.is_empty() {
            if name.chars().all(|c| c.is_ascii_digit()) && !steps.is_empty() {
                steps.push(Step::Index(name.parse().ok()?));
            } else {
                steps.push(Step::Key(name.trim_matches('"').to_string()));
            }
        }
        while !rest.is_empty() {
            let close = rest.find(']')?;
            steps.push(Step::Index(rest[1..close].trim().parse().ok()?));
            rest = &rest[close + 1..];
            if !rest.is_empty() && !rest.starts_with('[') {
                return None;
            }
        }
    }
    (!steps.is_empty()).then_some(steps)
}

/// Sets `path` (dotted key path) to the TOML value `value` in `root`.
/// Missing tables on the way are created; errors name the key path.
pub fn apply_override(
    sources: &mut Sources,
    root: &mut Item,
    path: &str,
    value: &str,
) -> Result<(), ConfigError> {
    let prefix = format!("{path} = ");
    let src = sources.add("override", &format!("{prefix}{value}"));
    let sources = &*sources;
    let whole = Pos {
        src,
        span: 0..path.len(),
    };
    let steps = split_path(path.trim()).ok_or_else(|| {
        sources.error(
            &whole,
            path,
            "invalid key path (expected keys separated by dots, e.g. `balancers.lb.default_server.inter`)",
        )
    })?;
    let parsed = DeValue::parse(value).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        sources.error(
            &shift(src, prefix.len(), span),
            path,
            format!("invalid TOML value: {}", e.message().trim()),
        )
    })?;
    let new = convert(sources, src, prefix.len(), path, parsed)?;

    let mut cur = root;
    let mut walked = String::new();
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        let here = walked.clone();
        match step {
            Step::Key(k) => {
                walked = if walked.is_empty() {
                    k.clone()
                } else {
                    format!("{walked}.{k}")
                };
            }
            Step::Index(n) => walked = format!("{walked}[{n}]"),
        }
        let kind = cur.val.type_name();
        cur = match (&mut cur.val, step) {
            (Val::Table(t), Step::Key(k)) => {
                if last {
                    match t.get_mut(k) {
                        Some(slot) => *slot = new,
                        None => t.entries.push((
                            Key {
                                name: k.clone(),
                                at: whole.clone(),
                            },
                            new,
                        )),
                    }
                    return Ok(());
                }
                if t.get(k).is_none() {
                    t.entries.push((
                        Key {
                            name: k.clone(),
                            at: whole.clone(),
                        },
                        Item {
                            val: Val::Table(Tab::default()),
                            at: whole.clone(),
                        },
                    ));
                }
                t.get_mut(k).expect("just inserted")
            }
            (Val::Array(a), Step::Index(n)) => {
                let len = a.len();
                let Some(slot) = a.get_mut(*n) else {
                    return Err(sources.error(
                        &whole,
                        path,
                        format!("`{here}` has {len} entries; there is no index {n}"),
                    ));
                };
                if last {
                    *slot = new;
                    return Ok(());
                }
                slot
            }
            (_, Step::Index(n)) => {
                return Err(sources.error(
                    &whole,
                    path,
                    format!("cannot index `{here}` with [{n}]: it is {kind}, not an array"),
                ));
            }
            (_, Step::Key(k)) => {
                return Err(sources.error(
                    &whole,
                    path,
                    format!("cannot set `{k}` in `{here}`: it is {kind}, not a table"),
                ));
            }
        };
    }
    unreachable!("the loop returns at the last step")
}

// ----------------------------------------------------------------- reader --

struct Layer<'a> {
    tab: &'a Tab,
    /// Whether `finish` looks for unknown keys in this layer.
    check: bool,
}

/// Reads one table of the schema through its layers.
pub struct Reader<'a> {
    pub src: &'a Sources,
    path: String,
    layers: Vec<Layer<'a>>,
    /// Where "missing key" errors point: the nearest table header.
    home: Pos,
    known: Vec<&'static str>,
    /// Keys refused with a reason by [`Reader::reject`] (not suggested).
    rejected: Vec<&'static str>,
}

/// `a.b` + `c` -> `a.b.c`; a key that is not bare TOML (empty, or with
/// other characters than letters, digits, `-` and `_`) is quoted:
/// `a.""`, `a."x y"`.
pub fn join(path: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if path.is_empty() {
        key
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Reader<'a> {
    /// A reader over `tables` (first wins), all checked for unknown keys.
    /// Every item must be a table; others are skipped.
    pub fn new(src: &'a Sources, path: impl Into<String>, tables: &[&'a Item]) -> Reader<'a> {
        let home = tables.first().map(|t| t.at.clone()).unwrap_or(Pos {
            src: SrcId(0),
            span: 0..0,
        });
        Reader {
            src,
            path: path.into(),
            layers: tables
                .iter()
                .filter_map(|t| t.as_table())
                .map(|tab| Layer { tab, check: true })
                .collect(),
            home,
            known: Vec::new(),
            rejected: Vec::new(),
        }
    }

    /// A reader over `top` (checked) stacked on this reader's layers (not
    /// checked again), e.g. a per-server table over `default_server`.
    pub fn stacked(&self, path: impl Into<String>, top: Option<&'a Item>) -> Reader<'a> {
        let mut layers: Vec<Layer<'a>> = top
            .and_then(|t| t.as_table())
            .map(|tab| Layer { tab, check: true })
            .into_iter()
            .collect();
        layers.extend(self.layers.iter().map(|l| Layer {
            tab: l.tab,
            check: false,
        }));
        Reader {
            src: self.src,
            path: path.into(),
            layers,
            home: top.map(|t| t.at.clone()).unwrap_or(self.home.clone()),
            known: Vec::new(),
            rejected: Vec::new(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn home(&self) -> &Pos {
        &self.home
    }
    pub fn key_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    fn mark(&mut self, key: &'static str) {
        if !self.known.contains(&key) {
            self.known.push(key);
        }
    }

    /// Records keys as known without reading them.
    pub fn allow(&mut self, keys: &[&'static str]) {
        for k in keys {
            self.mark(k);
        }
    }

    /// The raw value of `key` from the first layer that has it.
    pub fn item(&mut self, key: &'static str) -> Option<&'a Item> {
        self.mark(key);
        self.layers.iter().find_map(|l| l.tab.get(key))
    }

    /// Whether the table itself (not a preset under it) sets `key`.
    pub fn set_here(&self, key: &str) -> bool {
        self.layers
            .first()
            .is_some_and(|l| l.tab.get(key).is_some())
    }

    /// Whether any layer has `key` (the key counts as known).
    pub fn has(&mut self, key: &'static str) -> bool {
        self.item(key).is_some()
    }

    /// An error at the value of `key` (or at the table if it is absent).
    pub fn error_at(&self, key: &str, message: impl Into<String>) -> ConfigError {
        let pos = self
            .layers
            .iter()
            .find_map(|l| l.tab.get(key))
            .map(|i| &i.at)
            .unwrap_or(&self.home);
        self.src.error(pos, &self.key_path(key), message)
    }

    /// Where the value of `key` is (the first layer that has it).
    pub fn key_pos_of(&self, key: &str) -> Option<&Pos> {
        self.layers
            .iter()
            .find_map(|l| l.tab.get(key))
            .map(|i| &i.at)
    }

    /// An error at this table.
    pub fn error_here(&self, message: impl Into<String>) -> ConfigError {
        self.src.error(&self.home, &self.path, message)
    }

    pub fn missing(&self, key: &str, what: &str) -> ConfigError {
        self.src.error(
            &self.home,
            &self.key_path(key),
            format!("missing key `{key}` ({what})"),
        )
    }

    /// Refuses `key` if a checked layer has it, with the reason.
    pub fn reject(&mut self, key: &'static str, why: &str) -> Result<(), ConfigError> {
        if !self.rejected.contains(&key) {
            self.rejected.push(key);
        }
        for l in &self.layers {
            if l.check
                && let Some(p) = l.tab.key_pos(key)
            {
                return Err(self.src.error(p, &self.key_path(key), why.to_string()));
            }
        }
        Ok(())
    }

    /// Refuses every key nobody read, suggesting the closest known one.
    pub fn finish(&self) -> Result<(), ConfigError> {
        for l in &self.layers {
            if !l.check {
                continue;
            }
            for (k, _) in &l.tab.entries {
                let name = k.name.as_str();
                if self.known.contains(&name) || self.rejected.contains(&name) {
                    continue;
                }
                let hint = match suggest(&k.name, self.known.iter().copied()) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None if self.known.is_empty() => String::new(),
                    None => {
                        let mut ks = self.known.clone();
                        ks.sort_unstable();
                        format!(" (known keys: {})", ks.join(", "))
                    }
                };
                return Err(self.src.error(
                    &k.at,
                    &self.key_path(&k.name),
                    format!("unknown key `{}`{hint}", k.name),
                ));
            }
        }
        Ok(())
    }

    // -- sub-tables ------------------------------------------------------

    /// The sub-table `key` through all layers (possibly with no layer).
    pub fn sub(&mut self, key: &'static str) -> Result<Reader<'a>, ConfigError> {
        self.mark(key);
        let path = self.key_path(key);
        let mut layers = Vec::new();
        let mut home = None;
        for l in &self.layers {
            if let Some(item) = l.tab.get(key) {
                match &item.val {
                    Val::Table(tab) => {
                        home.get_or_insert_with(|| item.at.clone());
                        layers.push(Layer {
                            tab,
                            check: l.check,
                        });
                    }
                    other => {
                        return Err(self.src.error(
                            &item.at,
                            &path,
                            format!("expected a table, found {}", other.describe()),
                        ));
                    }
                }
            }
        }
        Ok(Reader {
            src: self.src,
            path,
            layers,
            home: home.unwrap_or_else(|| self.home.clone()),
            known: Vec::new(),
            rejected: Vec::new(),
        })
    }

    /// The entries of table `key` (first layer having it), each a table:
    /// `[servers.NAME]` sections, per-server overrides.
    pub fn entries(&mut self, key: &'static str) -> Result<Vec<Entry<'a>>, ConfigError> {
        let path = self.key_path(key);
        let Some(item) = self.item(key) else {
            return Ok(Vec::new());
        };
        let Val::Table(tab) = &item.val else {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "expected a table of named entries (`[{path}.NAME]`), found {}",
                    item.val.describe()
                ),
            ));
        };
        let mut out = Vec::new();
        for (k, v) in &tab.entries {
            let p = join(&path, &k.name);
            if v.as_table().is_none() {
                return Err(self.src.error(
                    &v.at,
                    &p,
                    format!("expected a table (`[{p}]`), found {}", v.val.describe()),
                ));
            }
            out.push(Entry {
                name: k.name.clone(),
                key_at: &k.at,
                item: v,
                path: p,
            });
        }
        Ok(out)
    }

    /// The array of tables `key` (`[[faults]]`, `[{..}, {..}]`), each read
    /// by its own reader with path `key[i]`.
    pub fn array_of_tables(&mut self, key: &'static str) -> Result<Vec<Reader<'a>>, ConfigError> {
        let path = self.key_path(key);
        let Some(item) = self.item(key) else {
            return Ok(Vec::new());
        };
        let Val::Array(items) = &item.val else {
            return Err(self.src.error(
                &item.at,
                &path,
                format!(
                    "expected an array of tables (`[[{path}]]` or `[{{ … }}]`), found {}",
                    item.val.describe()
                ),
            ));
        };
        let mut out = Vec::new();
        for (i, e) in items.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if e.as_table().is_none() {
                return Err(self.src.error(
                    &e.at,
                    &p,
                    format!("expected a table, found {}", e.val.describe()),
                ));
            }
            out.push(Reader::new(self.src, p, &[e]));
        }
        Ok(out)
    }

    // -- scalar getters --------------------------------------------------

    fn with<T>(
        &mut self,
        key: &'static str,
        f: impl FnOnce(&Sources, &'a Item, &str) -> Result<T, ConfigError>,
    ) -> Result<Option<T>, ConfigError> {
        match self.item(key) {
            Some(item) => f(self.src, item, &self.key_path(key)).map(Some),
            None => Ok(None),
        }
    }

    fn need<T>(&self, key: &str, v: Option<T>, what: &str) -> Result<T, ConfigError> {
        v.ok_or_else(|| self.missing(key, what))
    }

    pub fn string_opt(&mut self, key: &'static str) -> Result<Option<&'a str>, ConfigError> {
        self.with(key, |s, i, p| s.as_string(i, p))
    }

    pub fn bool_opt(&mut self, key: &'static str) -> Result<Option<bool>, ConfigError> {
        self.with(key, |s, i, p| s.as_bool(i, p))
    }
    pub fn bool(&mut self, key: &'static str) -> Result<bool, ConfigError> {
        let v = self.bool_opt(key)?;
        self.need(key, v, "true or false")
    }

    /// An integer in [min, max].
    pub fn int_range_opt(
        &mut self,
        key: &'static str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>, ConfigError> {
        self.with(key, |s, i, p| s.as_int_range(i, p, min, max))
    }

    pub fn u32_range_opt(
        &mut self,
        key: &'static str,
        min: u32,
        max: u32,
    ) -> Result<Option<u32>, ConfigError> {
        Ok(self
            .int_range_opt(key, min.into(), max.into())?
            .map(|v| v as u32))
    }
    pub fn u32_range(&mut self, key: &'static str, min: u32, max: u32) -> Result<u32, ConfigError> {
        let v = self.u32_range_opt(key, min, max)?;
        self.need(key, v, &format!("an integer from {min} to {max}"))
    }
    pub fn u32_min_opt(&mut self, key: &'static str, min: u32) -> Result<Option<u32>, ConfigError> {
        self.u32_range_opt(key, min, u32::MAX)
    }
    pub fn u32_min(&mut self, key: &'static str, min: u32) -> Result<u32, ConfigError> {
        let v = self.u32_min_opt(key, min)?;
        self.need(key, v, &format!("an integer, at least {min}"))
    }
    pub fn u64_opt(&mut self, key: &'static str) -> Result<Option<u64>, ConfigError> {
        Ok(self.int_range_opt(key, 0, i64::MAX)?.map(|v| v as u64))
    }

    /// A number (integer or float) in [lo, hi].
    pub fn f64_range_opt(
        &mut self,
        key: &'static str,
        lo: f64,
        hi: f64,
    ) -> Result<Option<f64>, ConfigError> {
        self.with(key, |s, i, p| s.as_f64_range(i, p, lo, hi))
    }
    /// A finite number > 0.
    pub fn f64_positive_opt(&mut self, key: &'static str) -> Result<Option<f64>, ConfigError> {
        self.with(key, |s, i, p| s.as_f64_positive(i, p))
    }
    pub fn f64_positive(&mut self, key: &'static str) -> Result<f64, ConfigError> {
        let v = self.f64_positive_opt(key)?;
        self.need(key, v, "a number greater than 0")
    }

    /// One of `choices`.
    pub fn string_enum_opt(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
    ) -> Result<Option<&'static str>, ConfigError> {
        self.with(key, |s, i, p| s.as_enum(i, p, choices))
    }
    pub fn string_enum(
        &mut self,
        key: &'static str,
        choices: &[&'static str],
    ) -> Result<&'static str, ConfigError> {
        let v = self.string_enum_opt(key, choices)?;
        self.need(key, v, &format!("one of {}", list_choices(choices)))
    }

    /// A duration (`"500ms"`; integer 0 is zero).
    pub fn duration_opt(&mut self, key: &'static str) -> Result<Option<Dur>, ConfigError> {
        self.with(key, |s, i, p| s.as_duration(i, p))
    }
    pub fn duration(&mut self, key: &'static str) -> Result<Dur, ConfigError> {
        let v = self.duration_opt(key)?;
        self.need(key, v, "a duration such as \"500ms\"")
    }
    /// A duration > 0.
    pub fn positive_duration_opt(&mut self, key: &'static str) -> Result<Option<Dur>, ConfigError> {
        self.with(key, |s, i, p| {
            let d = s.as_duration(i, p)?;
            if d.is_zero() {
                Err(s.error(&i.at, p, "must be greater than zero, got 0"))
            } else {
                Ok(d)
            }
        })
    }
    pub fn positive_duration(&mut self, key: &'static str) -> Result<Dur, ConfigError> {
        let v = self.positive_duration_opt(key)?;
        self.need(key, v, "a duration greater than zero, such as \"500ms\"")
    }

    /// A distribution: a duration string (constant) or a `{ dist = … }` table.
    pub fn dist_opt(&mut self, key: &'static str) -> Result<Option<DistSpec>, ConfigError> {
        self.with(key, |s, i, p| s.as_dist(i, p))
    }
    pub fn dist(&mut self, key: &'static str) -> Result<DistSpec, ConfigError> {
        let v = self.dist_opt(key)?;
        self.need(
            key,
            v,
            "a duration such as \"5ms\" or a table such as { dist = \"exponential\", mean = \"5ms\" }",
        )
    }

    /// A latency: a duration string or `{ base, jitter, jitter_dist }`.
    pub fn latency_opt(&mut self, key: &'static str) -> Result<Option<LatencySpec>, ConfigError> {
        self.with(key, |s, i, p| s.as_latency(i, p))
    }
}

/// One `[section.NAME]` table.
pub struct Entry<'a> {
    pub name: String,
    pub key_at: &'a Pos,
    pub item: &'a Item,
    pub path: String,
}

pub fn list_choices(choices: &[&str]) -> String {
    let quoted: Vec<String> = choices.iter().map(|c| format!("\"{c}\"")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

// ------------------------------------------------------------ conversions --

/// The longest duration accepted anywhere: 10,000 h (417 days). Simulated
/// time is u64 nanoseconds (584 years); this leaves room for sums of many
/// durations without overflow, and refuses typos such as `"99999999999h"`
/// that would otherwise saturate.
pub const MAX_DURATION: Dur = Dur(10_000 * 3600 * Dur::S);

impl Sources {
    fn wrong_type(&self, item: &Item, path: &str, expected: &str) -> ConfigError {
        self.error(
            &item.at,
            path,
            format!("expected {expected}, found {}", item.val.describe()),
        )
    }

    pub fn as_string<'i>(&self, item: &'i Item, path: &str) -> Result<&'i str, ConfigError> {
        item.as_str()
            .ok_or_else(|| self.wrong_type(item, path, "a string"))
    }

    pub fn as_bool(&self, item: &Item, path: &str) -> Result<bool, ConfigError> {
        match item.val {
            Val::Bool(b) => Ok(b),
            _ => Err(self.wrong_type(item, path, "true or false")),
        }
    }

    pub fn as_int_range(
        &self,
        item: &Item,
        path: &str,
        min: i64,
        max: i64,
    ) -> Result<i64, ConfigError> {
        let Val::Int(v) = item.val else {
            return Err(self.wrong_type(item, path, "an integer"));
        };
        if v < min {
            Err(self.error(&item.at, path, format!("must be at least {min}, got {v}")))
        } else if v > max {
            Err(self.error(&item.at, path, format!("must be at most {max}, got {v}")))
        } else {
            Ok(v)
        }
    }

    pub fn as_f64(&self, item: &Item, path: &str) -> Result<f64, ConfigError> {
        let v = match item.val {
            Val::Int(i) => i as f64,
            Val::Float(f) => f,
            _ => return Err(self.wrong_type(item, path, "a number")),
        };
        if v.is_finite() {
            Ok(v)
        } else {
            Err(self.error(&item.at, path, format!("must be a finite number, got {v}")))
        }
    }

    pub fn as_f64_range(
        &self,
        item: &Item,
        path: &str,
        lo: f64,
        hi: f64,
    ) -> Result<f64, ConfigError> {
        let v = self.as_f64(item, path)?;
        if v < lo || v > hi {
            Err(self.error(
                &item.at,
                path,
                format!("must be between {lo} and {hi}, got {v}"),
            ))
        } else {
            Ok(v)
        }
    }

    pub fn as_f64_positive(&self, item: &Item, path: &str) -> Result<f64, ConfigError> {
        let v = self.as_f64(item, path)?;
        if v <= 0.0 {
            Err(self.error(&item.at, path, format!("must be greater than 0, got {v}")))
        } else {
            Ok(v)
        }
    }

    pub fn as_enum(
        &self,
        item: &Item,
        path: &str,
        choices: &[&'static str],
    ) -> Result<&'static str, ConfigError> {
        let expected = format!("one of {}", list_choices(choices));
        let s = item
            .as_str()
            .ok_or_else(|| self.wrong_type(item, path, &expected))?;
        match choices.iter().find(|c| **c == s) {
            Some(c) => Ok(c),
            None => Err(self.error(
                &item.at,
                path,
                format!(
                    "expected {expected}, found {s:?}{}",
                    did_you_mean(s, choices.iter().copied())
                ),
            )),
        }
    }

    pub fn as_string_list<'i>(
        &self,
        item: &'i Item,
        path: &str,
    ) -> Result<Vec<(&'i str, &'i Pos)>, ConfigError> {
        let Val::Array(items) = &item.val else {
            return Err(self.wrong_type(item, path, "an array of strings"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, e)| {
                e.as_str()
                    .map(|s| (s, &e.at))
                    .ok_or_else(|| self.wrong_type(e, &format!("{path}[{i}]"), "a string"))
            })
            .collect()
    }

    pub fn as_duration(&self, item: &Item, path: &str) -> Result<Dur, ConfigError> {
        match &item.val {
            Val::Str(s) => match parse_duration(s) {
                Err(m) => Err(self.error(&item.at, path, format!("invalid duration: {m}"))),
                Ok(d) if d > MAX_DURATION => Err(self.error(
                    &item.at,
                    path,
                    format!(
                        "`{}` is too long: a duration may be at most {}h ({} days; \
                         simulated time counts nanoseconds in 64 bits)",
                        s.trim(),
                        MAX_DURATION.0 / (3600 * Dur::S),
                        MAX_DURATION.0 / (86_400 * Dur::S)
                    ),
                )),
                Ok(d) => Ok(d),
            },
            Val::Int(0) => Ok(Dur::ZERO),
            Val::Int(n) => Err(self.error(
                &item.at,
                path,
                format!(
                    "a duration needs a unit: write \"{n}s\" or \"{n}ms\", not the bare number {n}"
                ),
            )),
            Val::Float(f) => Err(self.error(
                &item.at,
                path,
                format!(
                    "a duration needs a unit: write \"{f}s\" or \"{f}ms\", not the bare number {f}"
                ),
            )),
            _ => Err(self.wrong_type(item, path, "a duration such as \"500ms\"")),
        }
    }

    pub fn as_dist(&self, item: &Item, path: &str) -> Result<DistSpec, ConfigError> {
        if item.as_table().is_none() {
            return match item.val {
                Val::Str(_) | Val::Int(_) | Val::Float(_) => {
                    Ok(DistSpec::Constant(self.as_duration(item, path)?))
                }
                _ => Err(self.wrong_type(
                    item,
                    path,
                    "a duration such as \"5ms\" or a table such as { dist = \"exponential\", mean = \"5ms\" }",
                )),
            };
        }
        let mut r = Reader::new(self, path, &[item]);
        let kind = r.string_enum(
            "dist",
            &[
                "constant",
                "exponential",
                "lognormal",
                "uniform",
                "empirical",
            ],
        )?;
        let d = match kind {
            "constant" => DistSpec::Constant(r.duration("value")?),
            "exponential" => DistSpec::Exponential {
                mean: r.positive_duration("mean")?,
            },
            "lognormal" => {
                let median = r.positive_duration("median")?;
                let p99 = r.positive_duration("p99")?;
                if p99 < median {
                    return Err(r.error_at(
                        "p99",
                        format!("p99 ({p99}) must not be below the median ({median})"),
                    ));
                }
                DistSpec::LogNormal { median, p99 }
            }
            "empirical" => DistSpec::Empirical(Box::new(quantiles(&mut r)?)),
            _ => {
                let min = r.duration("min")?;
                let max = r.duration("max")?;
                if max < min {
                    return Err(
                        r.error_at("max", format!("max ({max}) must not be below min ({min})"))
                    );
                }
                DistSpec::Uniform { min, max }
            }
        };
        r.finish()?;
        Ok(d)
    }

    pub fn as_latency(&self, item: &Item, path: &str) -> Result<LatencySpec, ConfigError> {
        if item.as_table().is_none() {
            return match item.val {
                Val::Str(_) | Val::Int(_) | Val::Float(_) => Ok(LatencySpec {
                    base: self.as_duration(item, path)?,
                    jitter: Jitter::None,
                }),
                _ => Err(self.wrong_type(
                    item,
                    path,
                    "a duration such as \"0.1ms\" or a table such as { base = \"0.1ms\", jitter = \"20us\" }",
                )),
            };
        }
        let mut r = Reader::new(self, path, &[item]);
        let base = r.duration("base")?;
        let jitter = r.duration_opt("jitter")?.unwrap_or(Dur::ZERO);
        let dist = r
            .string_enum_opt("jitter_dist", &["uniform", "exponential"])?
            .unwrap_or("uniform");
        r.finish()?;
        let jitter = match (jitter.is_zero(), dist) {
            (true, _) => Jitter::None,
            (false, "exponential") => Jitter::Exponential(jitter),
            (false, _) => Jitter::Uniform(jitter),
        };
        Ok(LatencySpec { base, jitter })
    }
}

/// `{ dist = "empirical", min = ..., p50 = ..., ..., max = ... }`: measured
/// quantiles, `min` and `max` required, each not below the one before.
fn quantiles(r: &mut Reader<'_>) -> Result<crate::config::spec::Quantiles, ConfigError> {
    use crate::config::spec::Quantiles;
    let mut given: Vec<(f64, Dur, &'static str)> = Vec::new();
    for (key, q) in Quantiles::KEYS {
        let v = match key {
            "min" | "max" => Some(r.duration(key)?),
            _ => r.duration_opt(key)?,
        };
        if let Some(v) = v {
            if let Some(&(_, before, bkey)) = given.last()
                && v < before
            {
                return Err(r.error_at(
                    key,
                    format!("{key} ({v}) must not be below {bkey} ({before}): quantiles ascend"),
                ));
            }
            given.push((q, v, key));
        }
    }
    let pairs: Vec<(f64, Dur)> = given.iter().map(|&(q, v, _)| (q, v)).collect();
    Ok(Quantiles::new(&pairs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> (Sources, Item) {
        let mut s = Sources::default();
        let id = s.add("t.toml", text);
        let root = parse_document(&s, id).unwrap();
        (s, root)
    }

    #[test]
    fn byte_offsets_become_lines_and_char_columns() {
        let mut s = Sources::default();
        let id = s.add("t.toml", "a = 1\n\nbé = \"x\"\r\nc = 2");
        assert_eq!(s.line_col(id, 0), (1, 1));
        assert_eq!(s.line_col(id, 4), (1, 5));
        assert_eq!(s.line_col(id, 6), (2, 1));
        assert_eq!(s.line_col(id, 7), (3, 1));
        // `=` after a two-byte `é`: byte 11, char column 4.
        assert_eq!(s.line_col(id, 11), (3, 4));
        assert_eq!(s.line_col(id, 18), (4, 1));
        assert_eq!(s.line_col(id, 999), (4, 6));
        let e = s.error(
            &Pos {
                src: id,
                span: 13..16,
            },
            "bé",
            "m",
        );
        assert_eq!(e.source_line.as_deref(), Some("bé = \"x\""));
        assert_eq!((e.line, e.column, e.width), (3, 6, 3));
    }

    #[test]
    fn values_keep_spans_and_order() {
        let (s, root) = load("[b]\nz = 1\na = \"2s\"\n[a]\nx = true\n");
        let t = root.as_table().unwrap();
        let names: Vec<&str> = t.entries.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(names, ["b", "a"], "file order, not sorted");
        let b = t.get("b").unwrap();
        assert_eq!(s.line_of(&b.at), 1);
        let inner: Vec<&str> = b
            .as_table()
            .unwrap()
            .entries
            .iter()
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(inner, ["z", "a"]);
        let a = b.as_table().unwrap().get("a").unwrap();
        assert_eq!(s.line_col(a.at.src, a.at.span.start), (3, 5));
    }

    #[test]
    fn syntax_errors_have_positions() {
        let mut s = Sources::default();
        let id = s.add("bad.toml", "[x]\nfoo = \n");
        let e = parse_document(&s, id).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("bad.toml", 2));
        assert!(e.message.starts_with("invalid TOML"), "{e}");
    }

    #[test]
    fn layered_lookup_prefers_the_first_layer_and_points_into_the_right_file() {
        let mut s = Sources::default();
        let exp = s.add("exp.toml", "[lb]\ninter = \"500ms\"\n[lb.ds]\nrise = 5\n");
        let pre = s.add(
            "models/p.toml",
            "inter = \"2s\"\nfall = 3\nrise = 2\n[ds]\nrise = 2\nfall = 0\n",
        );
        let exp_root = parse_document(&s, exp).unwrap();
        let pre_root = parse_document(&s, pre).unwrap();
        let lb = exp_root.as_table().unwrap().get("lb").unwrap();
        let mut r = Reader::new(&s, "lb", &[lb, &pre_root]);
        assert_eq!(r.duration("inter").unwrap(), Dur::from_ms(500));
        assert_eq!(r.u32_min("fall", 1).unwrap(), 3);
        let mut ds = r.sub("ds").unwrap();
        assert_eq!(ds.u32_min("rise", 1).unwrap(), 5);
        let e = ds.u32_min("fall", 1).unwrap_err();
        assert_eq!(e.file, "models/p.toml");
        assert_eq!(e.line, 6);
        assert_eq!(e.key, "lb.ds.fall");
        assert!(e.message.contains("at least 1, got 0"));
        // Preset key `rise` at the top level was never read: unknown.
        let e = r.finish().unwrap_err();
        assert!(e.message.contains("unknown key `rise`"), "{e}");
        assert_eq!(e.file, "models/p.toml");
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let (s, root) = load("inter = \"1s\"\nintr = \"2s\"\n");
        let mut r = Reader::new(&s, "lb", &[&root]);
        r.duration("inter").unwrap();
        r.u32_min_opt("fall", 1).unwrap();
        let e = r.finish().unwrap_err();
        assert_eq!(e.message, "unknown key `intr`; did you mean `inter`?");
        assert_eq!((e.line, e.column), (2, 1));
        assert_eq!(e.key, "lb.intr");
    }

    #[test]
    fn durations() {
        let (s, root) = load(
            "a = \"500ms\"\nb = 0\nc = 5000\nd = \"5 parsecs\"\ne = 1.5\nf = true\ng = \"0s\"\n",
        );
        let mut r = Reader::new(&s, "", &[&root]);
        assert_eq!(r.duration("a").unwrap(), Dur::from_ms(500));
        assert_eq!(r.duration("b").unwrap(), Dur::ZERO);
        let e = r.duration("c").unwrap_err();
        assert!(e.message.contains("needs a unit"), "{e}");
        let e = r.duration("d").unwrap_err();
        assert!(e.message.contains("unknown unit"), "{e}");
        assert!(
            r.duration("e")
                .unwrap_err()
                .message
                .contains("needs a unit")
        );
        assert!(
            r.duration("f")
                .unwrap_err()
                .message
                .contains("found boolean true")
        );
        assert!(
            r.positive_duration("g")
                .unwrap_err()
                .message
                .contains("greater than zero")
        );
        assert!(
            r.duration("h")
                .unwrap_err()
                .message
                .contains("missing key `h`")
        );
    }

    #[test]
    fn distributions_and_latencies() {
        let (s, root) = load(concat!(
            "a = \"5ms\"\n",
            "b = { dist = \"lognormal\", median = \"5ms\", p99 = \"50ms\" }\n",
            "c = { dist = \"lognormal\", median = \"5ms\", p99 = \"1ms\" }\n",
            "d = { dist = \"exponentail\", mean = \"1ms\" }\n",
            "e = { base = \"1ms\", jitter = \"20us\", jitter_dist = \"exponential\" }\n",
            "f = { dist = \"uniform\", min = \"1ms\", max = \"3ms\", mean = \"2ms\" }\n",
        ));
        let mut r = Reader::new(&s, "n", &[&root]);
        assert_eq!(r.dist("a").unwrap(), DistSpec::Constant(Dur::from_ms(5)));
        assert_eq!(
            r.dist("b").unwrap(),
            DistSpec::LogNormal {
                median: Dur::from_ms(5),
                p99: Dur::from_ms(50)
            }
        );
        let e = r.dist("c").unwrap_err();
        assert_eq!(e.key, "n.c.p99");
        assert!(e.message.contains("below the median"));
        let e = r.dist("d").unwrap_err();
        assert!(e.message.contains("did you mean `exponential`?"), "{e}");
        assert_eq!(
            r.latency_opt("e").unwrap().unwrap(),
            LatencySpec {
                base: Dur::from_ms(1),
                jitter: Jitter::Exponential(Dur::from_us(20))
            }
        );
        let e = r.dist("f").unwrap_err();
        assert!(e.message.contains("unknown key `mean`"), "{e}");
    }

    #[test]
    fn overrides_replace_insert_and_index() {
        let mut s = Sources::default();
        let id = s.add(
            "t.toml",
            "[lb.ds]\ninter = \"2s\"\n[[faults]]\nat = \"1s\"\n",
        );
        let mut root = parse_document(&s, id).unwrap();
        apply_override(&mut s, &mut root, "lb.ds.inter", "\"500ms\"").unwrap();
        apply_override(&mut s, &mut root, "lb.ds.fall", "5").unwrap();
        apply_override(&mut s, &mut root, "faults[0].at", "\"3s\"").unwrap();
        apply_override(&mut s, &mut root, "faults.0.kind", "\"kill\"").unwrap();
        let t = root.as_table().unwrap();
        let ds = t.get("lb").unwrap().as_table().unwrap().get("ds").unwrap();
        let mut r = Reader::new(&s, "lb.ds", &[ds]);
        assert_eq!(r.duration("inter").unwrap(), Dur::from_ms(500));
        assert_eq!(r.u32_min("fall", 1).unwrap(), 5);
        let e = r.u32_min("fall", 6).unwrap_err();
        assert_eq!(e.file, "override");
        assert_eq!(e.key, "lb.ds.fall");
        assert_eq!(e.column, "lb.ds.fall = ".len() + 1);
        let e = apply_override(&mut s, &mut root, "lb.ds.inter.x", "1").unwrap_err();
        assert!(e.message.contains("not a table"), "{e}");
        let e = apply_override(&mut s, &mut root, "faults[3].at", "1").unwrap_err();
        assert!(e.message.contains("no index 3"), "{e}");
        let e = apply_override(&mut s, &mut root, "lb.ds.inter", "500ms").unwrap_err();
        assert!(e.message.starts_with("invalid TOML value"), "{e}");
    }
}
