//! The one error type of the configuration: where (file, line, column, key
//! path), what (expected vs found), and the offending source line with a caret.

/// An error in an experiment file (or in a preset it uses, or an override).
///
/// `line` and `column` are 1-based; both are 0 when there is no position (e.g.
/// the file cannot be read). `key` is the dotted key path of the offending
/// value (`balancers.lb.default_server.fall`), empty when none applies.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.render())]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
    /// The text of line `line`, for the excerpt under the message.
    pub source_line: Option<String>,
    /// Width of the caret underline (at least 1).
    pub width: usize,
}

impl ConfigError {
    /// An error without a position in the file.
    pub fn whole_file(file: &str, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: file.to_string(),
            line: 0,
            column: 0,
            key: String::new(),
            message: message.into(),
            source_line: None,
            width: 1,
        }
    }

    /// The one-line summary: `file:line:col: key: message`.
    pub fn headline(&self) -> String {
        let mut s = String::new();
        s.push_str(&self.file);
        if self.line > 0 {
            s.push_str(&format!(":{}:{}", self.line, self.column));
        }
        s.push_str(": ");
        if !self.key.is_empty() {
            s.push_str(&self.key);
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }

    fn render(&self) -> String {
        let mut out = format!("error: {}", self.headline());
        if let (Some(src), true) = (&self.source_line, self.line > 0) {
            let num = self.line.to_string();
            let pad = " ".repeat(num.len());
            let shown = src.replace('\t', " ");
            let lead = " ".repeat(self.column.saturating_sub(1));
            let carets = "^".repeat(self.width.max(1));
            out.push_str(&format!(
                "\n{pad} |\n{num} | {shown}\n{pad} | {lead}{carets}"
            ));
        }
        out
    }
}

/// Levenshtein distance over chars (small inputs only).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn suggest<'c, I>(word: &str, candidates: I) -> Option<&'c str>
where
    I: IntoIterator<Item = &'c str>,
{
    let lower = word.to_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    let mut best: Option<(usize, &'c str)> = None;
    for c in candidates {
        if c == word {
            continue;
        }
        let d = if c.to_lowercase() == lower {
            0
        } else {
            levenshtein(&lower, &c.to_lowercase())
        };
        // A candidate that merely shares nothing with a short word is no hint.
        if d > limit || d >= word.chars().count().max(c.chars().count()) {
            continue;
        }
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

/// `; did you mean `x`?` or nothing.
pub fn did_you_mean<'c, I>(word: &str, candidates: I) -> String
where
    I: IntoIterator<Item = &'c str>,
{
    match suggest(word, candidates) {
        Some(s) => format!("; did you mean `{s}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance() {
        assert_eq!(levenshtein("intr", "inter"), 1);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("same", "same"), 0);
    }

    #[test]
    fn suggestions() {
        let keys = ["inter", "fastinter", "downinter", "rise", "fall"];
        assert_eq!(suggest("intr", keys), Some("inter"));
        assert_eq!(suggest("fal", keys), Some("fall"));
        assert_eq!(suggest("Rise", keys), Some("rise"));
        assert_eq!(suggest("timeout", keys), None);
        assert_eq!(suggest("x", ["y"]), None);
    }

    #[test]
    fn display_has_position_key_and_caret() {
        let e = ConfigError {
            file: "experiments/x.toml".into(),
            line: 12,
            column: 8,
            key: "balancers.lb.default_server.fall".into(),
            message: "must be at least 1, got 0".into(),
            source_line: Some("fall = 0".into()),
            width: 1,
        };
        let s = e.to_string();
        assert!(s.starts_with(
            "error: experiments/x.toml:12:8: balancers.lb.default_server.fall: must be at least 1, got 0\n"
        ));
        assert!(s.contains("12 | fall = 0"));
        assert!(s.ends_with("   |        ^"));
    }

    #[test]
    fn display_without_position() {
        let e = ConfigError::whole_file("x.toml", "cannot read the file");
        assert_eq!(e.to_string(), "error: x.toml: cannot read the file");
    }
}
