//! nginx.conf (nginx 1.22): a balancer per `upstream` block, with the
//! `proxy_*` settings in force where a `proxy_pass` names it (location, then
//! server, then http, as nginx inherits them) and `worker_processes`.
//! `include` is followed relative to the including file (globs in the file
//! name too); a file that cannot be read is reported. No maintained Rust
//! crate parses nginx.conf, so this is a small tokenizer (words, `"..."` and
//! `'...'` quoting, `\` escapes, `#` comments, `;`, `{`, `}`) and a tree.

use super::time;
use super::writer::{Table, Val};
use super::{
    Backend, Balancer, BalancerKind, Found, ImportError, Origin, host_of, node_name, port_of,
};
use std::path::{Path, PathBuf};

/// One directive with its arguments and, for a block, its children.
#[derive(Clone, Debug)]
struct Dir {
    name: String,
    args: Vec<String>,
    at: Origin,
    block: Option<Vec<Dir>>,
}

impl Dir {
    fn text(&self) -> String {
        let mut s = self.name.clone();
        for a in &self.args {
            s.push(' ');
            s.push_str(a);
        }
        s
    }
}

/// Reads one nginx.conf (and what it includes).
pub fn import(path: &Path, text: &str, found: &mut Found) -> Result<(), ImportError> {
    let file = path.display().to_string();
    let mut depth = 0;
    let tree = parse_file(path, &file, text, found, &mut depth)?;
    let mut cx = Cx {
        found,
        upstreams: Vec::new(),
        passes: Vec::new(),
        workers: None,
    };
    cx.main(&tree);
    cx.finish();
    Ok(())
}

#[derive(Debug, PartialEq)]
enum Tok {
    Word(String),
    Semi,
    Open,
    Close,
}

fn tokens(file: &str, text: &str) -> Result<Vec<(Tok, usize)>, ImportError> {
    let mut out = Vec::new();
    let mut line = 1;
    let mut chars = text.chars().peekable();
    let mut cur = String::new();
    let mut start = 1;
    let mut in_word = false;
    macro_rules! flush {
        () => {
            if in_word {
                out.push((Tok::Word(std::mem::take(&mut cur)), start));
                in_word = false;
            }
        };
    }
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                flush!();
                line += 1;
            }
            ' ' | '\t' | '\r' => flush!(),
            ';' => {
                flush!();
                out.push((Tok::Semi, line));
            }
            '{' => {
                flush!();
                out.push((Tok::Open, line));
            }
            '}' => {
                flush!();
                out.push((Tok::Close, line));
            }
            '#' if !in_word => {
                for n in chars.by_ref() {
                    if n == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '"' | '\'' if !in_word => {
                let open = line;
                start = line;
                let mut closed = false;
                while let Some(q) = chars.next() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    if q == '\n' {
                        line += 1;
                    }
                    if q == '\\' {
                        if let Some(x) = chars.next() {
                            cur.push(x);
                        }
                        continue;
                    }
                    cur.push(q);
                }
                if !closed {
                    return Err(ImportError::parse(
                        file,
                        open,
                        format!("unmatched quote: expected a closing {c}"),
                    ));
                }
                // A quoted word ends at its quote.
                out.push((Tok::Word(std::mem::take(&mut cur)), start));
            }
            '\\' => {
                if !in_word {
                    start = line;
                }
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            _ => {
                if !in_word {
                    start = line;
                }
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push((Tok::Word(cur), start));
    }
    Ok(out)
}

fn parse_file(
    path: &Path,
    file: &str,
    text: &str,
    found: &mut Found,
    depth: &mut usize,
) -> Result<Vec<Dir>, ImportError> {
    let toks = tokens(file, text)?;
    let mut i = 0;
    let dirs = parse_block(path, file, &toks, &mut i, false, found, depth)?;
    Ok(dirs)
}

fn parse_block(
    path: &Path,
    file: &str,
    toks: &[(Tok, usize)],
    i: &mut usize,
    nested: bool,
    found: &mut Found,
    depth: &mut usize,
) -> Result<Vec<Dir>, ImportError> {
    let mut out = Vec::new();
    let open_line = if *i > 0 { toks[*i - 1].1 } else { 1 };
    loop {
        let Some((t, line)) = toks.get(*i) else {
            if nested {
                return Err(ImportError::parse(
                    file,
                    open_line,
                    "this block has no closing `}`: expected `}` before the end of the file",
                ));
            }
            return Ok(out);
        };
        *i += 1;
        let name = match t {
            Tok::Close if nested => return Ok(out),
            Tok::Close => {
                return Err(ImportError::parse(
                    file,
                    *line,
                    "unexpected `}`: no block is open",
                ));
            }
            Tok::Semi => {
                return Err(ImportError::parse(
                    file,
                    *line,
                    "unexpected `;`: expected a directive name",
                ));
            }
            Tok::Open => {
                return Err(ImportError::parse(
                    file,
                    *line,
                    "unexpected `{`: expected a directive name before it",
                ));
            }
            Tok::Word(w) => w.clone(),
        };
        let at = Origin::new(file, *line);
        let mut args = Vec::new();
        loop {
            match toks.get(*i) {
                Some((Tok::Word(w), _)) => {
                    args.push(w.clone());
                    *i += 1;
                }
                Some((Tok::Semi, _)) => {
                    *i += 1;
                    if name == "include" {
                        out.extend(include(path, &at, &args, found, depth)?);
                    } else {
                        out.push(Dir {
                            name,
                            args,
                            at,
                            block: None,
                        });
                    }
                    break;
                }
                Some((Tok::Open, _)) => {
                    *i += 1;
                    let block = parse_block(path, file, toks, i, true, found, depth)?;
                    out.push(Dir {
                        name,
                        args,
                        at,
                        block: Some(block),
                    });
                    break;
                }
                Some((Tok::Close, l)) => {
                    return Err(ImportError::parse(
                        file,
                        *l,
                        format!("`{name}` is not ended: expected `;` before `}}`"),
                    ));
                }
                None => {
                    return Err(ImportError::parse(
                        file,
                        at.line,
                        format!("`{name}` is not ended: expected `;` or a block"),
                    ));
                }
            }
        }
    }
}

/// `include FILE;` relative to the including file; `*` and `?` in the last
/// part of the name match files (in name order, as nginx's glob does).
fn include(
    path: &Path,
    at: &Origin,
    args: &[String],
    found: &mut Found,
    depth: &mut usize,
) -> Result<Vec<Dir>, ImportError> {
    let [pattern] = args else {
        return Err(ImportError::parse(
            &at.file,
            at.line,
            "`include` expects one file name",
        ));
    };
    if *depth >= 16 {
        return Err(ImportError::parse(
            &at.file,
            at.line,
            "includes nest deeper than 16 files (an include loop?)",
        ));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    let full = base.join(pattern);
    let files: Vec<PathBuf> = if pattern.contains(['*', '?']) {
        let dir = full.parent().unwrap_or(Path::new(".")).to_path_buf();
        let pat = full
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| glob(&pat, &e.file_name().to_string_lossy()))
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        if v.is_empty() {
            found.warn(
                at.clone(),
                format!(
                    "`include {pattern}`: no file matches it here; nothing from it is imported"
                ),
            );
        }
        v
    } else {
        vec![full]
    };
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        match super::read(&f) {
            Ok(text) => {
                *depth += 1;
                out.extend(parse_file(&f, &name, &text, found, depth)?);
                *depth -= 1;
            }
            Err(_) => found.warn(
                at.clone(),
                format!("`include {pattern}`: cannot read {name}; nothing from it is imported (give it to hasim import beside this file)"),
            ),
        }
    }
    Ok(out)
}

fn glob(pat: &str, name: &str) -> bool {
    fn go(p: &[char], n: &[char]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some('*'), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some('?'), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pat.chars().collect();
    let n: Vec<char> = name.chars().collect();
    go(&p, &n)
}

/// The proxy settings in force at a place: inherited downwards.
#[derive(Clone, Debug, Default)]
struct Px {
    keys: Table,
}

struct Upstream {
    name: String,
    at: Origin,
    zone: Option<Origin>,
    servers: Vec<Backend>,
}

struct Cx<'a> {
    found: &'a mut Found,
    upstreams: Vec<Upstream>,
    /// (upstream name, settings where it is passed to, the proxy_pass).
    passes: Vec<(String, Px, Origin)>,
    workers: Option<Val>,
}

impl Cx<'_> {
    fn not_modelled(&mut self, d: &Dir) {
        let what = if d.block.is_some() {
            format!(
                "block `{} {{ ... }}`: not modelled (its directives are not imported)",
                d.text()
            )
        } else {
            format!("`{}`: not modelled", d.text())
        };
        self.found.warn(d.at.clone(), what);
    }

    fn main(&mut self, dirs: &[Dir]) {
        for d in dirs {
            match (d.name.as_str(), &d.block) {
                ("worker_processes", None) => {
                    let note = format!("{}: {}", d.at, d.text());
                    match d.args.first().map(String::as_str) {
                        Some("auto") => {
                            self.workers = Some(Val::new(
                                "2",
                                format!(
                                    "PLACEHOLDER: {note} (one worker per CPU core): give the core count"
                                ),
                            ));
                        }
                        Some(n) if n.parse::<u32>().is_ok_and(|n| n >= 1) => {
                            self.workers = Some(Val::new(n, note));
                        }
                        _ => self.found.warn(
                            d.at.clone(),
                            format!("`{}`: expected a number or auto; not imported", d.text()),
                        ),
                    }
                }
                ("http", Some(b)) => self.http(b),
                ("events", Some(b)) => {
                    for e in b {
                        self.not_modelled(e);
                    }
                }
                _ => self.not_modelled(d),
            }
        }
    }

    /// A `proxy_*` or `keepalive_timeout` directive into `px`; false if it
    /// is not one hasim models.
    fn proxy(&mut self, d: &Dir, px: &mut Px) -> bool {
        let note = format!("{}: {}", d.at, d.text());
        let arg = d.args.first().map(String::as_str).unwrap_or("");
        let time = |s: &str| time::nginx(s);
        match d.name.as_str() {
            "proxy_connect_timeout"
            | "proxy_read_timeout"
            | "proxy_next_upstream_timeout"
            | "keepalive_timeout" => {
                match time(arg) {
                    Ok(t) if t.0 == 0 && d.name != "proxy_next_upstream_timeout" => {
                        if d.name == "keepalive_timeout" {
                            px.keys.set(&d.name, Val::str("0", note));
                        } else {
                            self.found.warn(
                                d.at.clone(),
                                format!("`{}`: a zero timeout is not modelled", d.text()),
                            );
                        }
                    }
                    Ok(t) => {
                        px.keys.set(&d.name, Val::new(time::toml(t), note));
                        if d.args.len() > 1 {
                            self.found.warn(
                            d.at.clone(),
                            format!("`{}`: the second value (the Keep-Alive header's) is not modelled", d.text()),
                        );
                        }
                    }
                    Err(m) => self
                        .found
                        .warn(d.at.clone(), format!("`{}`: {m}; not imported", d.text())),
                }
            }
            "proxy_ignore_client_abort" => match arg {
                "on" | "off" => px
                    .keys
                    .set(&d.name, Val::new((arg == "on").to_string(), note)),
                _ => self.found.warn(
                    d.at.clone(),
                    format!("`{}`: expected on or off; not imported", d.text()),
                ),
            },
            "proxy_next_upstream_tries" => match arg.parse::<u32>() {
                Ok(n) => px.keys.set(&d.name, Val::new(n.to_string(), note)),
                Err(_) => self.found.warn(
                    d.at.clone(),
                    format!("`{}`: expected a number; not imported", d.text()),
                ),
            },
            "proxy_next_upstream" => {
                const MODELLED: &[&str] = crate::products::nginx::config::NEXT_UPSTREAM_MODELLED;
                let (ok, not): (Vec<&String>, Vec<&String>) =
                    d.args.iter().partition(|a| MODELLED.contains(&a.as_str()));
                if !not.is_empty() {
                    let list: Vec<&str> = not.iter().map(|s| s.as_str()).collect();
                    self.found.warn(
                        d.at.clone(),
                        format!(
                            "`{}`: {} not modelled (left out)",
                            d.text(),
                            list.join(", ")
                        ),
                    );
                }
                if ok.is_empty() {
                    return true;
                }
                px.keys.set(&d.name, Val::strs(&ok, note));
            }
            _ => return false,
        }
        true
    }

    fn http(&mut self, dirs: &[Dir]) {
        let mut px = Px::default();
        // Settings first: nginx inherits the block's, wherever they stand.
        for d in dirs.iter().filter(|d| d.block.is_none()) {
            if !self.proxy(d, &mut px) {
                self.not_modelled(d);
            }
        }
        for d in dirs.iter().filter(|d| d.block.is_some()) {
            let b = d.block.as_deref().unwrap_or(&[]);
            match d.name.as_str() {
                "upstream" => self.upstream(d, b),
                "server" => self.location(b, &px),
                _ => self.not_modelled(d),
            }
        }
    }

    /// A `server` or `location` block: its settings, its proxy_pass, the
    /// locations inside it.
    fn location(&mut self, dirs: &[Dir], outer: &Px) {
        let mut px = outer.clone();
        for d in dirs.iter().filter(|d| d.block.is_none()) {
            if d.name == "proxy_pass" {
                continue;
            }
            if !self.proxy(d, &mut px) {
                self.not_modelled(d);
            }
        }
        for d in dirs {
            match (&d.block, d.name.as_str()) {
                (None, "proxy_pass") => {
                    let target = d.args.first().map(String::as_str).unwrap_or("");
                    let rest = target
                        .strip_prefix("http://")
                        .or_else(|| target.strip_prefix("https://"))
                        .unwrap_or(target);
                    let name = rest.split('/').next().unwrap_or("");
                    self.passes
                        .push((name.to_string(), px.clone(), d.at.clone()));
                }
                (Some(b), "location") => self.location(b, &px),
                (Some(_), _) => self.not_modelled(d),
                _ => {}
            }
        }
    }

    fn upstream(&mut self, d: &Dir, dirs: &[Dir]) {
        let name = d.args.first().cloned().unwrap_or_default();
        let mut up = Upstream {
            name: name.clone(),
            at: d.at.clone(),
            zone: None,
            servers: Vec::new(),
        };
        for s in dirs {
            match (s.name.as_str(), &s.block) {
                ("server", None) => self.server(&mut up, s),
                ("zone", None) => up.zone = Some(s.at.clone()),
                ("keepalive", None) => self.found.warn(
                    s.at.clone(),
                    format!("`{}`: upstream keep-alive connections are not modelled (a connection per request)", s.text()),
                ),
                ("least_conn" | "ip_hash" | "hash" | "random", None) => self.found.warn(
                    s.at.clone(),
                    format!("`{}`: not modelled; hasim's nginx balances by weighted round robin", s.text()),
                ),
                _ => self.not_modelled(s),
            }
        }
        self.upstreams.push(up);
    }

    fn server(&mut self, up: &mut Upstream, s: &Dir) {
        let Some(addr) = s.args.first() else {
            self.found
                .warn(s.at.clone(), "`server` without an address: not imported");
            return;
        };
        let mut keys = Table::new("");
        let mut down = false;
        for p in &s.args[1..] {
            let note = format!("{}: {p}", s.at);
            let (k, v) = p.split_once('=').unwrap_or((p.as_str(), ""));
            match k {
                "weight" | "max_fails" if v.parse::<u32>().is_ok() => {
                    keys.set(k, Val::new(v, note));
                }
                "fail_timeout" => match time::nginx(v) {
                    Ok(t) => {
                        let secs = t.0.div_ceil(crate::engine::Dur::S);
                        if t.0 % crate::engine::Dur::S != 0 {
                            self.found.warn(
                                s.at.clone(),
                                format!("`{p}`: nginx keeps fail_timeout in whole seconds; imported as {secs}s"),
                            );
                        }
                        keys.set(k, Val::str(&format!("{secs}s"), note));
                    }
                    Err(m) => self
                        .found
                        .warn(s.at.clone(), format!("`{p}`: {m}; not imported")),
                },
                "backup" => keys.set("backup", Val::new("true", note)),
                "down" => down = true,
                _ => self
                    .found
                    .warn(s.at.clone(), format!("server option `{p}`: not modelled")),
            }
        }
        if down {
            self.found.warn(
                s.at.clone(),
                format!(
                    "`server {addr} ... down`: permanently unavailable, so left out of the servers"
                ),
            );
            return;
        }
        let host = host_of(addr.strip_prefix("unix:").unwrap_or(addr));
        let is_ip = host.chars().all(|c| c.is_ascii_digit() || c == '.') || host.contains(':');
        let name = if is_ip || addr.starts_with("unix:") || host == "localhost" {
            format!("{}{}", node_name(&up.name), up.servers.len() + 1)
        } else {
            node_name(host)
        };
        up.servers.push(Backend {
            name,
            address: addr.clone(),
            port: port_of(addr),
            check_port: None,
            at: s.at.clone(),
            keys,
        });
    }

    fn finish(&mut self) {
        let ups = std::mem::take(&mut self.upstreams);
        for (name, _, at) in &self.passes {
            if !ups.iter().any(|u| u.name == *name) && !name.starts_with('$') {
                self.found.warn(
                    at.clone(),
                    format!("`proxy_pass` to `{name}`, which is no upstream block: not imported (a single server needs no balancing)"),
                );
            }
        }
        for up in ups {
            if up.servers.is_empty() {
                self.found.warn(
                    up.at.clone(),
                    format!("upstream `{}` has no server: not imported", up.name),
                );
                continue;
            }
            let passes: Vec<&(String, Px, Origin)> = self
                .passes
                .iter()
                .filter(|(n, _, _)| *n == up.name)
                .collect();
            let mut keys = Table::new("");
            if let Some(w) = &self.workers {
                keys.set("worker_processes", w.clone());
            }
            if let Some(z) = &up.zone {
                keys.set(
                    "zone",
                    Val::new(
                        "true",
                        format!("{z}: zone (failure state shared by the workers)"),
                    ),
                );
            }
            match passes.first() {
                None => self.found.warn(
                    up.at.clone(),
                    format!("upstream `{}` is named by no proxy_pass: imported with nginx's default proxy settings", up.name),
                ),
                Some((_, px, _)) => {
                    for (k, v) in &px.keys.keys {
                        keys.set(k, v.clone());
                    }
                    for (_, other, at) in &passes[1..] {
                        let differs = other.keys.keys.iter().map(|(k, v)| (k, &v.toml)).ne(px
                            .keys
                            .keys
                            .iter()
                            .map(|(k, v)| (k, &v.toml)));
                        if differs {
                            self.found.warn(
                                at.clone(),
                                format!(
                                    "this proxy_pass to `{}` has other proxy settings than the first one: the first one's are imported",
                                    up.name
                                ),
                            );
                        }
                    }
                }
            }
            self.found.balancers.push(Balancer {
                kind: BalancerKind::Nginx,
                name: up.name,
                at: up.at,
                keys,
                default_server: Table::new(""),
                servers: up.servers,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_at(path: &Path, text: &str) -> Result<Found, ImportError> {
        let mut f = Found::default();
        import(path, text, &mut f)?;
        Ok(f)
    }
    fn read(text: &str) -> Found {
        read_at(Path::new("nginx.conf"), text).unwrap()
    }
    fn warnings(f: &Found) -> Vec<String> {
        f.warnings.iter().map(|w| w.to_string()).collect()
    }
    fn has(w: &[String], needle: &str) {
        assert!(
            w.iter().any(|x| x.starts_with(needle)),
            "{needle} not in {w:#?}"
        );
    }

    #[test]
    fn field_report_2() {
        let f = read(include_str!(
            "../../tests/fixtures/import/report-2/nginx.conf"
        ));
        assert_eq!(f.balancers.len(), 1);
        let b = &f.balancers[0];
        assert_eq!(b.name, "service");
        let names: Vec<&str> = b.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["service1", "service2", "service3"]);
        assert_eq!(b.servers[1].address, "127.0.0.1:9082");
        assert_eq!(b.servers[1].at.line, 4);
        let w = warnings(&f);
        has(&w, "nginx.conf:9: `listen 0.0.0.0:9080`: not modelled");
        has(&w, "nginx.conf:18: `stub_status on`: not modelled");
        has(&w, "nginx.conf:19: `access_log on`: not modelled");
    }

    #[test]
    fn proxy_ignore_client_abort_is_on_or_off() {
        let conf = |v: &str| {
            format!(
                "events {{}}\nhttp {{\n  upstream app {{ server a:80; }}\n  server {{\n    \
                 proxy_ignore_client_abort {v};\n    location / {{ proxy_pass http://app; }}\n  }}\n}}\n"
            )
        };
        let k = |f: &Found| {
            f.balancers[0]
                .keys
                .get("proxy_ignore_client_abort")
                .map(|v| v.toml.clone())
        };
        assert_eq!(k(&read(&conf("on"))).as_deref(), Some("true"));
        assert_eq!(k(&read(&conf("off"))).as_deref(), Some("false"));
        let f = read(&conf("yes"));
        assert_eq!(k(&f), None);
        has(
            &warnings(&f),
            "nginx.conf:5: `proxy_ignore_client_abort yes`: expected on or off",
        );
    }

    #[test]
    fn proxy_settings_are_inherited_and_units_are_seconds() {
        let f = read(
            "worker_processes 4;\nevents { worker_connections 1024; }\n\
             http {\n  proxy_connect_timeout 2;\n  keepalive_timeout 65 60;\n\
               upstream app {\n    zone app 64k;\n    server app1:8080 weight=2 max_fails=3 fail_timeout=30s;\n\
                 server app2:8080 backup;\n    server app3:8080 down;\n    server 10.0.0.4:8080 max_conns=10 fail_timeout=1500ms;\n    keepalive 16;\n  }\n\
               server {\n    proxy_read_timeout 5s;\n    location / {\n      proxy_next_upstream error timeout http_502 invalid_header;\n\
                   proxy_next_upstream_tries 2;\n      proxy_pass http://app;\n    }\n  }\n}\n",
        );
        let b = &f.balancers[0];
        let k = |t: &Table, key: &str| t.get(key).unwrap().toml.clone();
        assert_eq!(k(&b.keys, "worker_processes"), "4");
        assert_eq!(k(&b.keys, "zone"), "true");
        assert_eq!(k(&b.keys, "proxy_connect_timeout"), "\"2s\"");
        assert_eq!(k(&b.keys, "proxy_read_timeout"), "\"5s\"");
        assert_eq!(k(&b.keys, "keepalive_timeout"), "\"65s\"");
        assert_eq!(
            k(&b.keys, "proxy_next_upstream"),
            "[\"error\", \"timeout\", \"http_502\"]"
        );
        assert_eq!(k(&b.keys, "proxy_next_upstream_tries"), "2");
        let names: Vec<&str> = b.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["app1", "app2", "app3"],
            "app3 down is left out, 10.0.0.4 named by the upstream"
        );
        assert_eq!(k(&b.servers[0].keys, "weight"), "2");
        assert_eq!(k(&b.servers[0].keys, "fail_timeout"), "\"30s\"");
        assert_eq!(k(&b.servers[1].keys, "backup"), "true");
        assert_eq!(k(&b.servers[2].keys, "fail_timeout"), "\"2s\"");
        let w = warnings(&f);
        has(&w, "nginx.conf:2: `worker_connections 1024`: not modelled");
        has(&w, "nginx.conf:10: `server app3:8080 ... down`");
        has(&w, "nginx.conf:11: server option `max_conns=10`");
        has(
            &w,
            "nginx.conf:11: `fail_timeout=1500ms`: nginx keeps fail_timeout in whole seconds",
        );
        has(&w, "nginx.conf:12: `keepalive 16`: upstream keep-alive");
        has(
            &w,
            "nginx.conf:5: `keepalive_timeout 65 60`: the second value",
        );
        has(
            &w,
            "nginx.conf:17: `proxy_next_upstream error timeout http_502 invalid_header`: invalid_header not modelled",
        );
    }

    #[test]
    fn includes_are_followed_or_reported() {
        let dir = std::env::temp_dir().join(format!("hasim-import-nginx-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("conf.d")).unwrap();
        std::fs::write(
            dir.join("conf.d/up.conf"),
            "upstream api {\n  server api1:80;\n}\n",
        )
        .unwrap();
        let main = dir.join("nginx.conf");
        let text = "http {\n  include conf.d/*.conf;\n  include missing.conf;\n  server { location / { proxy_pass http://api; } }\n}\n";
        let f = read_at(&main, text).unwrap();
        assert_eq!(f.balancers[0].name, "api");
        assert!(
            f.balancers[0].servers[0]
                .at
                .to_string()
                .ends_with("conf.d/up.conf:2")
        );
        let w = warnings(&f);
        assert!(
            w.iter()
                .any(|x| x.contains("nginx.conf:3: `include missing.conf`: cannot read")),
            "{w:#?}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn parse_errors_name_file_line_and_what_was_expected() {
        let e = |t: &str| read_at(Path::new("nginx.conf"), t).unwrap_err().to_string();
        assert_eq!(
            e("http {\n  upstream a {\n    server x:1\n  }\n}\n"),
            "nginx.conf:4: `server` is not ended: expected `;` before `}`"
        );
        assert_eq!(
            e("http {\n"),
            "nginx.conf:1: this block has no closing `}`: expected `}` before the end of the file"
        );
        assert_eq!(e("}\n"), "nginx.conf:1: unexpected `}`: no block is open");
        assert!(e("x \"a;\n").starts_with("nginx.conf:1: unmatched quote"));
    }
}
