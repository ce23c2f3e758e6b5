//! The annotated experiment file `hasim import` writes: TOML tables whose
//! every value carries a comment naming where it came from
//! (`timeout_connect = "5s"  # haproxy.cfg:6`).

use std::fmt::Write;

/// One value: its TOML text and the comment written after it.
#[derive(Clone, Debug, PartialEq)]
pub struct Val {
    pub toml: String,
    pub note: String,
}

impl Val {
    pub fn new(toml: impl Into<String>, note: impl Into<String>) -> Val {
        Val {
            toml: toml.into(),
            note: note.into(),
        }
    }
    /// A TOML string value.
    pub fn str(s: &str, note: impl Into<String>) -> Val {
        Val::new(quote(s), note)
    }
    /// A TOML array of strings.
    pub fn strs<S: AsRef<str>>(list: &[S], note: impl Into<String>) -> Val {
        let items: Vec<String> = list.iter().map(|s| quote(s.as_ref())).collect();
        Val::new(format!("[{}]", items.join(", ")), note)
    }
    /// The value as a string, if it is one (for the tests and the linker).
    pub fn as_str(&self) -> Option<String> {
        match self.toml.parse::<toml::Value>() {
            Ok(toml::Value::String(s)) => Some(s),
            _ => toml::from_str::<toml::Table>(&format!("v = {}", self.toml))
                .ok()
                .and_then(|t| t.get("v").and_then(|v| v.as_str().map(str::to_string))),
        }
    }
}

/// A TOML basic string with escapes.
pub fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A table (`[path]`) or an element of an array of tables (`[[path]]`).
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub path: String,
    pub array: bool,
    /// Comment lines written above the header.
    pub comment: Vec<String>,
    pub keys: Vec<(String, Val)>,
}

impl Table {
    pub fn new(path: impl Into<String>) -> Table {
        Table {
            path: path.into(),
            ..Table::default()
        }
    }
    /// Sets `key`, replacing an earlier value of it.
    pub fn set(&mut self, key: &str, v: Val) {
        match self.keys.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => self.keys.push((key.to_string(), v)),
        }
    }
    pub fn get(&self, key: &str) -> Option<&Val> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// The whole file: a header comment, the tables, a trailing comment block.
#[derive(Clone, Debug, Default)]
pub struct Doc {
    pub header: Vec<String>,
    pub tables: Vec<Table>,
    pub trailer: Vec<String>,
}

impl Doc {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for l in &self.header {
            comment_line(&mut out, l);
        }
        for t in &self.tables {
            if !out.is_empty() {
                out.push('\n');
            }
            for l in &t.comment {
                comment_line(&mut out, l);
            }
            if t.array {
                let _ = writeln!(out, "[[{}]]", t.path);
            } else {
                let _ = writeln!(out, "[{}]", t.path);
            }
            let width = t
                .keys
                .iter()
                .map(|(k, v)| k.len() + v.toml.len() + 3)
                .max()
                .unwrap_or(0)
                .min(48);
            for (k, v) in &t.keys {
                let line = format!("{k} = {}", v.toml);
                if v.note.is_empty() {
                    let _ = writeln!(out, "{line}");
                } else {
                    // A note is one line: newlines in it would end the comment.
                    let note = v.note.replace(['\n', '\r'], " ");
                    let _ = writeln!(out, "{line:<width$}  # {note}");
                }
            }
        }
        if !self.trailer.is_empty() {
            out.push('\n');
            for l in &self.trailer {
                comment_line(&mut out, l);
            }
        }
        out
    }
}

fn comment_line(out: &mut String, l: &str) {
    let l = l.replace(['\n', '\r'], " ");
    if l.is_empty() {
        out.push_str("#\n");
    } else {
        let _ = writeln!(out, "# {l}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_carry_their_source_and_the_text_is_toml() {
        let mut t = Table::new("balancers.haproxy");
        t.set("timeout_connect", Val::str("5s", "haproxy.cfg:6"));
        t.set("retries", Val::new("3", "haproxy.cfg:7"));
        t.set("retries", Val::new("2", "haproxy.cfg:9"));
        let doc = Doc {
            header: vec!["made by hasim import".into()],
            tables: vec![t],
            trailer: vec!["not modelled:".into(), "a\nb".into()],
        };
        let text = doc.render();
        assert!(
            text.contains("timeout_connect = \"5s\"  # haproxy.cfg:6"),
            "{text}"
        );
        assert!(text.contains("retries = 2"), "{text}");
        assert!(!text.contains("retries = 3"), "{text}");
        assert!(text.ends_with("# a b\n"), "{text}");
        let parsed: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(
            parsed["balancers"]["haproxy"]["retries"].as_integer(),
            Some(2)
        );
    }

    #[test]
    fn strings_are_escaped() {
        assert_eq!(quote("a\"b"), "'a\"b'");
        assert_eq!(Val::str("x\\y", "").as_str().as_deref(), Some("x\\y"));
        assert_eq!(Val::strs(&["a", "b"], "").toml, "[\"a\", \"b\"]");
    }
}
