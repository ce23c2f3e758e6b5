//! A small reader of libconfig's syntax (what proxysql.cnf is written in):
//! `name = value;` settings, `{ ... }` groups, `[ ... ]` arrays and
//! `( ... )` lists, scalars (numbers, booleans, strings with adjacent
//! strings joined), `#`, `//` and `/* */` comments; each value with its line.
//! The crates that read libconfig bind the C library or were not reachable
//! to check (the registry search failed here), and the import needs every
//! value's line, so this is its own.

use super::ImportError;

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A number, a boolean or a string, as written (strings unquoted).
    Scalar(String),
    Group(Vec<Setting>),
    /// An array or a list.
    List(Vec<(usize, Value)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Setting {
    pub name: String,
    pub line: usize,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Punct(char),
}

fn lex(file: &str, text: &str) -> Result<Vec<(usize, Tok)>, ImportError> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    while i < c.len() {
        let ch = c[i];
        match ch {
            '\n' => {
                line += 1;
                i += 1;
            }
            _ if ch.is_whitespace() => i += 1,
            '#' => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if c.get(i + 1) == Some(&'*') => {
                let start = line;
                i += 2;
                loop {
                    if i + 1 >= c.len() {
                        return Err(ImportError::parse(
                            file,
                            start,
                            "a `/*` comment is never closed",
                        ));
                    }
                    if c[i] == '*' && c[i + 1] == '/' {
                        i += 2;
                        break;
                    }
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
            '"' => {
                let start = line;
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(&d) = c.get(i) else {
                        return Err(ImportError::parse(file, start, "a string is never closed"));
                    };
                    i += 1;
                    match d {
                        '"' => break,
                        '\\' => {
                            let e = c.get(i).copied().unwrap_or('\\');
                            i += 1;
                            s.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                'r' => '\r',
                                'f' => '\x0c',
                                other => other,
                            });
                        }
                        '\n' => {
                            line += 1;
                            s.push(d);
                        }
                        _ => s.push(d),
                    }
                }
                // Adjacent strings are one.
                match out.last_mut() {
                    Some((_, Tok::Str(prev))) => prev.push_str(&s),
                    _ => out.push((start, Tok::Str(s))),
                }
            }
            '=' | ':' | ';' | ',' | '{' | '}' | '[' | ']' | '(' | ')' => {
                out.push((line, Tok::Punct(ch)));
                i += 1;
            }
            _ if ch.is_ascii_alphanumeric() || "_-+.*".contains(ch) => {
                let mut s = String::new();
                while i < c.len() && (c[i].is_ascii_alphanumeric() || "_-+.*".contains(c[i])) {
                    s.push(c[i]);
                    i += 1;
                }
                out.push((line, Tok::Word(s)));
            }
            _ => {
                return Err(ImportError::parse(file, line, format!("unexpected `{ch}`")));
            }
        }
    }
    Ok(out)
}

struct P<'a> {
    file: &'a str,
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
}

impl P<'_> {
    fn line(&self) -> usize {
        self.toks
            .get(self.pos)
            .or(self.toks.last())
            .map_or(1, |t| t.0)
    }
    fn err(&self, m: impl Into<String>) -> ImportError {
        ImportError::parse(self.file, self.line(), m)
    }
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }
    fn settings(&mut self, close: Option<char>) -> Result<Vec<Setting>, ImportError> {
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None if close.is_none() => return Ok(out),
                None => {
                    return Err(self.err(format!(
                        "expected `{}` before the end of the file",
                        close.unwrap_or('}')
                    )));
                }
                Some(Tok::Punct(c)) if Some(*c) == close => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(Tok::Word(w)) => {
                    let name = w.clone();
                    let line = self.line();
                    self.pos += 1;
                    match self.peek() {
                        Some(Tok::Punct('=' | ':')) => self.pos += 1,
                        _ => return Err(self.err(format!("expected `=` after `{name}`"))),
                    }
                    let value = self.value()?;
                    if let Some(Tok::Punct(';' | ',')) = self.peek() {
                        self.pos += 1;
                    }
                    out.push(Setting { name, line, value });
                }
                Some(t) => {
                    return Err(self.err(format!("expected a setting's name, found {}", shown(t))));
                }
            }
        }
    }
    fn value(&mut self) -> Result<Value, ImportError> {
        if self.depth > 64 {
            return Err(self.err("nested too deep"));
        }
        let t = self.peek().cloned();
        match t {
            Some(Tok::Word(w)) => {
                self.pos += 1;
                Ok(Value::Scalar(w))
            }
            Some(Tok::Str(s)) => {
                self.pos += 1;
                Ok(Value::Scalar(s))
            }
            Some(Tok::Punct('{')) => {
                self.pos += 1;
                self.depth += 1;
                let g = self.settings(Some('}'))?;
                self.depth -= 1;
                Ok(Value::Group(g))
            }
            Some(Tok::Punct(open @ ('[' | '('))) => {
                let close = if open == '[' { ']' } else { ')' };
                self.pos += 1;
                self.depth += 1;
                let mut items = Vec::new();
                loop {
                    if let Some(Tok::Punct(c)) = self.peek()
                        && *c == close
                    {
                        self.pos += 1;
                        break;
                    }
                    let line = self.line();
                    items.push((line, self.value()?));
                    match self.peek() {
                        Some(Tok::Punct(',')) => self.pos += 1,
                        Some(Tok::Punct(c)) if *c == close => {}
                        Some(t) => {
                            return Err(
                                self.err(format!("expected `,` or `{close}`, found {}", shown(t)))
                            );
                        }
                        None => {
                            return Err(
                                self.err(format!("expected `{close}` before the end of the file"))
                            );
                        }
                    }
                }
                self.depth -= 1;
                Ok(Value::List(items))
            }
            Some(t) => Err(self.err(format!("expected a value, found {}", shown(&t)))),
            None => Err(self.err("expected a value before the end of the file")),
        }
    }
}

fn shown(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("`{w}`"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Punct(c) => format!("`{c}`"),
    }
}

pub fn parse(file: &str, text: &str) -> Result<Vec<Setting>, ImportError> {
    let toks = lex(file, text)?;
    let mut p = P {
        file,
        toks,
        pos: 0,
        depth: 0,
    };
    p.settings(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_lists_and_lines() {
        let t = "# c\ndatadir=\"/var/lib/proxysql\"\nmysql_variables=\n{\n  threads=4 // c\n  monitor_username=\"mon\" \"itor\"\n}\n\
                 mysql_servers =\n(\n  { address=\"10.0.0.1\" , port=3306 , hostgroup=10 },\n  /* x\n y */ { address=\"10.0.0.2\"; port=3306; }\n)\n";
        let s = parse("p.cnf", t).unwrap();
        assert_eq!(s[0].name, "datadir");
        assert_eq!(s[0].line, 2);
        let Value::Group(g) = &s[1].value else {
            panic!()
        };
        assert_eq!(g[0].line, 5);
        assert_eq!(g[1].value, Value::Scalar("monitor".into()));
        let Value::List(l) = &s[2].value else {
            panic!()
        };
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].0, 10);
        assert_eq!(l[1].0, 12);
    }

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| parse("p.cnf", t).unwrap_err().to_string();
        assert_eq!(e("a = 1;\nb 2\n"), "p.cnf:2: expected `=` after `b`");
        assert_eq!(
            e("a = {\n b = 1;\n"),
            "p.cnf:2: expected `}` before the end of the file"
        );
        assert_eq!(e("a = \"x\n"), "p.cnf:1: a string is never closed");
        assert_eq!(e("a = ( 1 2 )"), "p.cnf:1: expected `,` or `)`, found `2`");
    }
}
