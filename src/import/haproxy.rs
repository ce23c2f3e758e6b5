//! haproxy.cfg (HAProxy 2.6's configuration.txt): `global`, `defaults`,
//! `frontend`, `backend` and `listen` sections; a balancer per backend (or
//! listen) that has servers, with the client-side settings of the frontend
//! that uses it. No maintained Rust crate parses haproxy.cfg, so this is a
//! small line reader: words split on blanks, `"..."` and `'...'` quoting,
//! `\` escapes, `#` comments, and the `.if`/`.elif`/`.else`/`.endif` blocks
//! of 2.4+ (simple conditions evaluated for 2.6, others reported).

use super::time;
use super::writer::{Table, Val};
use super::{Backend, Balancer, BalancerKind, Found, ImportError, Origin, node_name, port_of};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sec {
    Global,
    Defaults,
    Frontend,
    Backend,
    Listen,
    /// A section hasim has no use for (`resolvers`, `peers`, `userlist`, ...).
    Other,
}

/// One proxy section with what it inherited from `defaults`.
#[derive(Clone, Debug)]
struct Proxy {
    sec: Sec,
    name: String,
    at: Origin,
    keys: Table,
    /// Keys this section set itself (not inherited).
    own: Vec<String>,
    dflt: Table,
    servers: Vec<Backend>,
    default_backend: Option<(String, Origin)>,
    /// `option tcp-check` and its `tcp-check` rules, for the Redis role check.
    tcp_check: Option<Origin>,
    tcp_rules: Vec<(Origin, String)>,
}

impl Proxy {
    fn new(sec: Sec, name: &str, at: Origin, defaults: &Proxy) -> Proxy {
        Proxy {
            sec,
            name: name.to_string(),
            at,
            own: Vec::new(),
            servers: Vec::new(),
            default_backend: None,
            ..defaults.clone()
        }
    }
    fn set(&mut self, key: &str, v: Val) {
        self.keys.set(key, v);
        self.own.push(key.to_string());
    }
}

/// Reads one haproxy.cfg into balancers and warnings.
pub fn import(file: &str, text: &str, found: &mut Found) -> Result<(), ImportError> {
    let mut cx = Cx {
        file,
        found,
        global: Table::new(""),
        defaults: empty(file),
        proxies: Vec::new(),
        cur: None,
        conds: Vec::new(),
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let words = split(raw).map_err(|m| ImportError::parse(file, line, m))?;
        if words.is_empty() {
            continue;
        }
        if words[0].starts_with('.') {
            cx.directive(line, &words)?;
            continue;
        }
        if !cx.active() {
            continue;
        }
        cx.line(line, raw.trim(), &words)?;
    }
    if let Some(c) = cx.conds.last() {
        return Err(ImportError::parse(
            file,
            c.at.line,
            "this `.if` has no `.endif`: expected `.endif` before the end of the file",
        ));
    }
    cx.close();
    cx.finish();
    Ok(())
}

fn empty(file: &str) -> Proxy {
    Proxy {
        sec: Sec::Defaults,
        name: String::new(),
        at: Origin::new(file, 0),
        keys: Table::new(""),
        own: Vec::new(),
        dflt: Table::new(""),
        servers: Vec::new(),
        default_backend: None,
        tcp_check: None,
        tcp_rules: Vec::new(),
    }
}

struct Cond {
    at: Origin,
    /// The enclosing block is read.
    parent: bool,
    /// A branch of this block was taken already.
    taken: bool,
    /// The current branch is read.
    active: bool,
}

struct Cx<'a> {
    file: &'a str,
    found: &'a mut Found,
    global: Table,
    defaults: Proxy,
    proxies: Vec<Proxy>,
    cur: Option<Proxy>,
    conds: Vec<Cond>,
}

impl Cx<'_> {
    fn at(&self, line: usize) -> Origin {
        Origin::new(self.file, line)
    }
    fn note(&self, line: usize, what: &str) -> String {
        format!("{}:{line}: {what}", self.file)
    }
    fn err(&self, line: usize, m: impl Into<String>) -> ImportError {
        ImportError::parse(self.file, line, m)
    }
    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.active)
    }

    /// `.if`, `.elif`, `.else`, `.endif`, `.diag`/`.notice`/`.warning`/`.alert`.
    fn directive(&mut self, line: usize, w: &[String]) -> Result<(), ImportError> {
        let cond = w[1..].join(" ");
        match w[0].as_str() {
            ".if" => {
                let parent = self.active();
                let v = self.eval(line, &cond, parent);
                self.conds.push(Cond {
                    at: self.at(line),
                    parent,
                    taken: v,
                    active: parent && v,
                });
            }
            ".elif" => {
                let Some(c) = self.conds.last() else {
                    return Err(self.err(line, "`.elif` without an `.if` before it"));
                };
                let (parent, taken) = (c.parent, c.taken);
                let v = !taken && self.eval(line, &cond, parent && !taken);
                let c = self.conds.last_mut().expect("checked");
                c.active = parent && v;
                c.taken |= v;
            }
            ".else" => {
                let Some(c) = self.conds.last_mut() else {
                    return Err(self.err(line, "`.else` without an `.if` before it"));
                };
                c.active = c.parent && !c.taken;
                c.taken = true;
            }
            ".endif" => {
                if self.conds.pop().is_none() {
                    return Err(self.err(line, "`.endif` without an `.if` before it"));
                }
            }
            ".diag" | ".notice" | ".warning" | ".alert" => {
                if self.active() {
                    let at = self.at(line);
                    self.found.warn(
                        at,
                        format!(
                            "`{}` prints a message when HAProxy starts: not modelled",
                            w[0]
                        ),
                    );
                }
            }
            other => {
                return Err(self.err(
                    line,
                    format!(
                        "unknown directive `{other}`: expected .if, .elif, .else, .endif, .diag, .notice, .warning or .alert"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// A condition of `.if`: numbers, `version_atleast()`/`version_before()`
    /// (against 2.6), `streq()`/`strneq()` of literals, `!`. Anything else
    /// (environment variables, `defined()`, `feature()`) cannot be known
    /// here: reported, and the branch is read.
    fn eval(&mut self, line: usize, cond: &str, report: bool) -> bool {
        let known = eval_cond(cond.trim());
        if report {
            let at = self.at(line);
            match known {
                Some(v) => self.found.warn(
                    at,
                    format!(
                        "`.if {cond}` evaluated as {v} for HAProxy 2.6: the lines of the {} branch are imported",
                        if v { "true" } else { "false" }
                    ),
                ),
                None => self.found.warn(
                    at,
                    format!(
                        "`.if {cond}` depends on the environment HAProxy starts in: read as true (check the imported values)"
                    ),
                ),
            }
        }
        known.unwrap_or(true)
    }

    fn close(&mut self) {
        if let Some(p) = self.cur.take() {
            match p.sec {
                Sec::Defaults => self.defaults = p,
                Sec::Global | Sec::Other => {}
                _ => self.proxies.push(p),
            }
        }
    }

    fn line(&mut self, line: usize, raw: &str, w: &[String]) -> Result<(), ImportError> {
        let kw = w[0].as_str();
        let name = w.get(1).cloned().unwrap_or_default();
        let sec = match kw {
            "global" => Some(Sec::Global),
            "defaults" => Some(Sec::Defaults),
            "frontend" => Some(Sec::Frontend),
            "backend" => Some(Sec::Backend),
            "listen" => Some(Sec::Listen),
            "resolvers" | "peers" | "userlist" | "program" | "cache" | "mailers"
            | "http-errors" | "ring" | "fcgi-app" | "crt-store" | "traces" => Some(Sec::Other),
            _ => None,
        };
        if let Some(sec) = sec {
            self.close();
            let at = self.at(line);
            if matches!(sec, Sec::Frontend | Sec::Backend | Sec::Listen) && name.is_empty() {
                return Err(self.err(line, format!("`{kw}` needs a name, e.g. `{kw} app`")));
            }
            match sec {
                Sec::Other => {
                    self.found.warn(
                        at.clone(),
                        format!("section `{raw}` is not modelled: its lines are not imported"),
                    );
                }
                Sec::Defaults if w.len() > 2 || w.get(1).is_some_and(|n| n == "from") => {
                    self.found.warn(
                        at.clone(),
                        "`defaults ... from`: not modelled (read as a plain defaults section)",
                    );
                }
                Sec::Frontend | Sec::Backend | Sec::Listen if w.len() > 2 => {
                    self.found.warn(
                        at.clone(),
                        format!("`{raw}`: the words after the name are not modelled"),
                    );
                }
                _ => {}
            }
            let base = if sec == Sec::Defaults {
                empty(self.file)
            } else {
                self.defaults.clone()
            };
            self.cur = Some(Proxy::new(sec, &name, at, &base));
            if sec == Sec::Defaults {
                // A new defaults section starts from nothing (configuration.txt 4).
                if let Some(p) = &mut self.cur {
                    p.keys = Table::new("");
                    p.dflt = Table::new("");
                }
            }
            return Ok(());
        }
        let Some(sec) = self.cur.as_ref().map(|p| p.sec) else {
            return Err(self.err(
                line,
                format!(
                    "`{kw}` outside a section: expected a section keyword first (global, defaults, frontend, backend, listen)"
                ),
            ));
        };
        let at = self.at(line);
        match sec {
            Sec::Other => {
                self.found.warn(at, format!("`{raw}`: not modelled"));
                Ok(())
            }
            Sec::Global => self.global_line(line, raw, w),
            _ => self.proxy_line(line, raw, w),
        }
    }

    fn global_line(&mut self, line: usize, raw: &str, w: &[String]) -> Result<(), ImportError> {
        let at = self.at(line);
        match w[0].as_str() {
            "maxconn" => {
                let n = self.int(line, w, 1, "maxconn")?;
                let v = Val::new(n.to_string(), self.note(line, raw));
                self.global.set("maxconn", v);
            }
            "spread-checks" => {
                let n = self.int(line, w, 1, "spread-checks")?;
                let v = Val::new(n.to_string(), self.note(line, raw));
                self.global.set("spread_checks", v);
            }
            _ => self.found.warn(at, format!("`{raw}`: not modelled")),
        }
        Ok(())
    }

    fn int(&self, line: usize, w: &[String], i: usize, what: &str) -> Result<u64, ImportError> {
        let s = w.get(i).map(String::as_str).unwrap_or("");
        s.parse::<u64>().map_err(|_| {
            self.err(
                line,
                format!("`{what}` expects a whole number, found `{s}`"),
            )
        })
    }

    fn time(
        &self,
        line: usize,
        s: Option<&String>,
        what: &str,
    ) -> Result<crate::engine::Dur, ImportError> {
        let s = s.map(String::as_str).unwrap_or("");
        time::haproxy(s).map_err(|m| self.err(line, format!("`{what}`: {m}")))
    }

    fn proxy_line(&mut self, line: usize, raw: &str, w: &[String]) -> Result<(), ImportError> {
        let at = self.at(line);
        let note = self.note(line, raw);
        let sec = self.cur.as_ref().map(|p| p.sec).expect("in a section");
        let kw = w[0].as_str();
        let arg = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
        let mut set: Option<(&str, Val)> = None;
        match kw {
            "mode" => match arg(1) {
                "http" | "tcp" => set = Some(("mode", Val::str(arg(1), note))),
                other => {
                    return Err(self.err(line, format!("`mode` expects http or tcp, found `{other}`")));
                }
            },
            "balance" => match arg(1) {
                "roundrobin" | "leastconn" | "first" | "source" => {
                    if w.len() > 2 {
                        self.found.warn(at, format!("`{raw}`: the words after `{}` are not modelled", arg(1)));
                    }
                    set = Some(("balance", Val::str(arg(1), note)));
                }
                "" => return Err(self.err(line, "`balance` needs an algorithm, e.g. roundrobin")),
                other => self.found.warn(
                    at,
                    format!(
                        "`balance {other}` is not modelled (hasim has roundrobin, leastconn, first, source): left at roundrobin"
                    ),
                ),
            },
            "timeout" => {
                let which = arg(1);
                let key = match which {
                    "connect" => Some("timeout_connect"),
                    "server" => Some("timeout_server"),
                    "client" => Some("timeout_client"),
                    "queue" => Some("timeout_queue"),
                    "check" => Some("timeout_check"),
                    "" => return Err(self.err(line, "`timeout` needs a name, e.g. `timeout connect 5s`")),
                    _ => None,
                };
                match key {
                    Some(key) => {
                        let d = self.time(line, w.get(2), raw)?;
                        if d.0 == 0 {
                            self.found.warn(at, format!("`{raw}`: 0 means no timeout in HAProxy; left unset"));
                        } else {
                            set = Some((key, Val::new(time::toml(d), note)));
                        }
                    }
                    None => self.found.warn(at, format!("`{raw}`: not modelled")),
                }
            }
            "contimeout" | "clitimeout" | "srvtimeout" => {
                return Err(self.err(
                    line,
                    format!("`{kw}` was removed in HAProxy 2.1: expected `timeout connect|client|server`"),
                ));
            }
            "retries" => {
                let n = self.int(line, w, 1, "retries")?;
                set = Some(("retries", Val::new(n.to_string(), note)));
            }
            "backlog" => {
                let n = self.int(line, w, 1, "backlog")?;
                set = Some(("backlog", Val::new(n.to_string(), note)));
            }
            "default_backend" => {
                if let Some(p) = &mut self.cur {
                    p.default_backend = Some((arg(1).to_string(), at));
                }
            }
            "use_backend" => self.found.warn(
                at,
                format!("`{raw}`: content switching is not modelled (the default_backend is imported)"),
            ),
            "option" | "no" => return self.option(line, raw, w),
            "http-check" => self.http_check(line, raw, w),
            "tcp-check" => {
                if let Some(p) = &mut self.cur {
                    p.tcp_rules.push((at, raw.to_string()));
                }
            }
            "default-server" => {
                let params = self.server_params(line, &w[1..])?;
                let p = self.cur.as_mut().expect("in a section");
                for (k, v) in params.keys.keys {
                    p.dflt.set(&k, v);
                }
            }
            "server" => {
                if sec == Sec::Frontend {
                    return Err(self.err(line, "`server` lines belong in a backend or listen section"));
                }
                let (Some(name), Some(addr)) = (w.get(1), w.get(2)) else {
                    return Err(self.err(line, "`server` expects a name and an address, e.g. `server db1 10.0.0.1:3306 check`"));
                };
                let params = self.server_params(line, &w[3..])?;
                let b = Backend {
                    name: node_name(name),
                    address: addr.clone(),
                    port: port_of(addr),
                    check_port: params.check_port,
                    at,
                    keys: params.keys,
                };
                self.cur.as_mut().expect("in a section").servers.push(b);
            }
            _ => self.found.warn(at, format!("`{raw}`: not modelled")),
        }
        if let Some((k, v)) = set {
            self.cur.as_mut().expect("in a section").set(k, v);
        }
        Ok(())
    }

    fn option(&mut self, line: usize, raw: &str, w: &[String]) -> Result<(), ImportError> {
        let at = self.at(line);
        let note = self.note(line, raw);
        let (neg, w) = if w[0] == "no" {
            (true, &w[1..])
        } else {
            (false, w)
        };
        if w.first().map(String::as_str) != Some("option") {
            self.found.warn(at, format!("`{raw}`: not modelled"));
            return Ok(());
        }
        let arg = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
        let p = self.cur.as_mut().expect("in a section");
        match arg(1) {
            "redispatch" => p.set("option_redispatch", Val::new((!neg).to_string(), note)),
            "allbackups" => p.set("option_allbackups", Val::new((!neg).to_string(), note)),
            "abortonclose" => p.set("option_abortonclose", Val::new((!neg).to_string(), note)),
            "httpchk" if !neg => {
                let req = match &w[2..] {
                    [] => "OPTIONS /".to_string(),
                    [uri] => format!("OPTIONS {uri}"),
                    [m, uri, ..] => format!("{m} {uri}"),
                };
                if w.len() > 4 {
                    self.found.warn(
                        at,
                        format!(
                            "`{raw}`: the HTTP version and headers of the check are not modelled"
                        ),
                    );
                }
                let p = self.cur.as_mut().expect("in a section");
                p.set("option_httpchk", Val::str(&req, note));
            }
            "tcp-check" if !neg => p.tcp_check = Some(at),
            "mysql-check" | "pgsql-check" | "redis-check" | "ldap-check" | "smtpchk"
            | "ssl-hello-chk" | "spop-check" | "external-check" => self.found.warn(
                at,
                format!(
                    "`{raw}`: this check is not modelled; hasim's checks stay TCP connects (L4)"
                ),
            ),
            _ => self.found.warn(at, format!("`{raw}`: not modelled")),
        }
        Ok(())
    }

    fn http_check(&mut self, line: usize, raw: &str, w: &[String]) {
        let at = self.at(line);
        let arg = |i: usize| w.get(i).map(String::as_str).unwrap_or("");
        match arg(1) {
            // 2.2+: `http-check send meth GET uri /health`.
            "send" => {
                let mut meth = None;
                let mut uri = None;
                let mut other = false;
                let mut i = 2;
                while i < w.len() {
                    match w[i].as_str() {
                        "meth" => meth = w.get(i + 1).cloned(),
                        "uri" => uri = w.get(i + 1).cloned(),
                        _ => other = true,
                    }
                    i += 2;
                }
                let note = self.note(line, raw);
                let p = self.cur.as_mut().expect("in a section");
                let old = p.keys.get("option_httpchk").and_then(Val::as_str);
                let (om, ou) = old
                    .as_deref()
                    .and_then(|o| o.split_once(' '))
                    .map_or(("OPTIONS".to_string(), "/".to_string()), |(m, u)| {
                        (m.to_string(), u.to_string())
                    });
                let req = format!("{} {}", meth.unwrap_or(om), uri.unwrap_or(ou));
                p.set("option_httpchk", Val::str(&req, note));
                if other {
                    self.found
                        .warn(at, format!("`{raw}`: only meth and uri are modelled"));
                }
            }
            "expect" => self.found.warn(
                at,
                format!(
                    "`{raw}`: not modelled; a hasim HTTP check passes on any 2xx or 3xx status"
                ),
            ),
            _ => self.found.warn(at, format!("`{raw}`: not modelled")),
        }
    }

    fn server_params(&mut self, line: usize, w: &[String]) -> Result<Params, ImportError> {
        let mut out = Params {
            keys: Table::new(""),
            check_port: None,
        };
        let at = self.at(line);
        let mut i = 0;
        while i < w.len() {
            let kw = w[i].as_str();
            let val = w.get(i + 1);
            let note = |s: &str| self.note(line, s);
            let flag = |k: &str, v: bool| (k.to_string(), Val::new(v.to_string(), note(kw)));
            let mut takes = 1;
            let mapped: Option<(String, Val)> = match kw {
                "check" => Some(flag("check", true)),
                "no-check" => Some(flag("check", false)),
                "backup" => Some(flag("backup", true)),
                "no-backup" => Some(flag("backup", false)),
                "inter" | "fastinter" | "downinter" | "slowstart" => {
                    takes = 2;
                    let d = self.time(line, val, kw)?;
                    let shown = format!("{kw} {}", val.map_or("", |v| v));
                    Some((kw.to_string(), Val::new(time::toml(d), note(&shown))))
                }
                "rise" | "fall" | "maxconn" | "weight" | "error-limit" => {
                    takes = 2;
                    let n = self.int(line, w, i + 1, kw)?;
                    let shown = format!("{kw} {n}");
                    Some((kw.replace('-', "_"), Val::new(n.to_string(), note(&shown))))
                }
                "observe" | "on-error" => {
                    takes = 2;
                    let v = val.map(String::as_str).unwrap_or("");
                    Some((
                        kw.replace('-', "_"),
                        Val::str(v, note(&format!("{kw} {v}"))),
                    ))
                }
                "on-marked-down" => {
                    takes = 2;
                    let v = val.map(String::as_str).unwrap_or("");
                    if v == "shutdown-sessions" {
                        let note = note(&format!("{kw} {v}"));
                        let p = self.cur.as_mut().expect("in a section");
                        p.set("on_marked_down", Val::str(v, note));
                    } else {
                        self.found
                            .warn(at.clone(), format!("`{kw} {v}`: not modelled"));
                    }
                    None
                }
                "port" => {
                    takes = 2;
                    let n = self.int(line, w, i + 1, "port")?;
                    out.check_port = u16::try_from(n).ok();
                    self.found.warn(
                        at.clone(),
                        format!("`port {n}`: the check's own port is not modelled (hasim checks the node; the port helps link HAProxy to a database cluster)"),
                    );
                    None
                }
                _ if ZERO_ARG.contains(&kw) => {
                    takes = 1;
                    self.found
                        .warn(at.clone(), format!("server option `{kw}`: not modelled"));
                    None
                }
                _ => {
                    takes = 2;
                    let v = val.map(String::as_str).unwrap_or("");
                    self.found.warn(
                        at.clone(),
                        format!("server option `{kw} {v}`: not modelled"),
                    );
                    None
                }
            };
            if takes == 2 && val.is_none() {
                return Err(self.err(line, format!("`{kw}` expects a value after it")));
            }
            if let Some((k, v)) = mapped {
                out.keys.set(&k, v);
            }
            i += takes;
        }
        Ok(out)
    }

    /// Pairs frontends with their backends and hands over the balancers.
    fn finish(&mut self) {
        let proxies = std::mem::take(&mut self.proxies);
        let mut used = vec![false; proxies.len()];
        let mut out: Vec<Balancer> = Vec::new();
        for (bi, b) in proxies.iter().enumerate() {
            if !matches!(b.sec, Sec::Backend | Sec::Listen) {
                continue;
            }
            if b.servers.is_empty() {
                self.found.warn(
                    b.at.clone(),
                    format!(
                        "{} `{}` has no server line: not imported",
                        sec_name(b.sec),
                        b.name
                    ),
                );
                continue;
            }
            let fronts: Vec<usize> = proxies
                .iter()
                .enumerate()
                .filter(|(_, f)| {
                    f.sec == Sec::Frontend
                        && f.default_backend
                            .as_ref()
                            .is_some_and(|(n, _)| *n == b.name)
                })
                .map(|(i, _)| i)
                .collect();
            let front = if b.sec == Sec::Listen {
                None
            } else {
                fronts.first().copied()
            };
            for &f in &fronts {
                used[f] = true;
            }
            if fronts.len() > 1 {
                self.found.warn(
                    b.at.clone(),
                    format!(
                        "backend `{}` is the default of {} frontends: one balancer, with the client settings of the first",
                        b.name,
                        fronts.len()
                    ),
                );
            }
            if b.sec == Sec::Backend && fronts.is_empty() {
                self.found.warn(
                    b.at.clone(),
                    format!("backend `{}` is no frontend's default_backend: imported as a balancer of its own", b.name),
                );
            }
            used[bi] = true;
            let mut warns = Vec::new();
            out.push(self.balancer(b, front.map(|f| &proxies[f]), &mut warns));
            for (at, text) in warns {
                self.found.warn(at, text);
            }
        }
        for (i, p) in proxies.iter().enumerate() {
            if used[i] {
                continue;
            }
            let why = match &p.default_backend {
                Some((n, _))
                    if proxies
                        .iter()
                        .any(|b| b.name == *n && b.sec == Sec::Backend) =>
                {
                    continue;
                }
                Some((n, _)) => format!("its default_backend `{n}` is not in the file"),
                None => "it has no default_backend".to_string(),
            };
            if p.sec == Sec::Frontend {
                self.found.warn(
                    p.at.clone(),
                    format!("frontend `{}` is not imported: {why}", p.name),
                );
            }
        }
        self.found.balancers.extend(out);
    }

    fn balancer(
        &self,
        b: &Proxy,
        front: Option<&Proxy>,
        warnings: &mut Vec<(Origin, String)>,
    ) -> Balancer {
        let mut keys = Table::new("");
        for (k, v) in &self.global.keys {
            keys.set(k, v.clone());
        }
        for (k, v) in &b.keys.keys {
            keys.set(k, v.clone());
        }
        if let Some(f) = front {
            // The client side is the frontend's: its mode, timeout client, backlog.
            for (k, v) in &f.keys.keys {
                let client_side = matches!(k.as_str(), "mode" | "timeout_client" | "backlog");
                if client_side && (f.own.contains(k) || !b.own.contains(k)) {
                    keys.set(k, v.clone());
                }
            }
        }
        if keys.get("mode").is_none() {
            keys.set(
                "mode",
                Val::str(
                    "tcp",
                    format!("{}: no `mode`, HAProxy's default is tcp", self.file),
                ),
            );
        }
        // The Redis role check: `option tcp-check` + `expect string role:master`.
        if let Some(tc) = &b.tcp_check {
            let role = b.tcp_rules.iter().find(|(_, r)| r.contains("role:master"));
            match role {
                Some((at, r)) => keys.set(
                    "tcp_check_expect",
                    Val::str("role:master", format!("{at}: {r}")),
                ),
                None => warnings.push((
                    tc.clone(),
                    "`option tcp-check` without `expect string role:master`: not modelled; checks stay TCP connects".to_string(),
                )),
            }
            for (at, r) in &b.tcp_rules {
                if role.is_none_or(|(a, _)| a != at) {
                    warnings.push((
                        at.clone(),
                        format!("`{r}`: only the Redis role:master rule is modelled"),
                    ));
                }
            }
        } else {
            for (at, r) in &b.tcp_rules {
                warnings.push((
                    at.clone(),
                    format!("`{r}` without `option tcp-check`: not modelled"),
                ));
            }
        }
        let mut bal = Balancer {
            kind: BalancerKind::Haproxy,
            name: b.name.clone(),
            at: b.at.clone(),
            keys,
            default_server: b.dflt.clone(),
            servers: b.servers.clone(),
        };
        bal.keys.keys.retain(|(k, _)| !k.is_empty());
        bal
    }
}

fn sec_name(s: Sec) -> &'static str {
    match s {
        Sec::Backend => "backend",
        Sec::Listen => "listen",
        Sec::Frontend => "frontend",
        Sec::Defaults => "defaults",
        Sec::Global => "global",
        Sec::Other => "section",
    }
}

struct Params {
    keys: Table,
    check_port: Option<u16>,
}

/// Server options that take no value (configuration.txt 5.2).
const ZERO_ARG: &[&str] = &[
    "agent-check",
    "allow-0rtt",
    "check-send-proxy",
    "check-ssl",
    "check-via-socks4",
    "disabled",
    "enabled",
    "force-sslv3",
    "force-tlsv10",
    "force-tlsv11",
    "force-tlsv12",
    "force-tlsv13",
    "no-agent-check",
    "no-check-ssl",
    "no-send-proxy",
    "no-send-proxy-v2",
    "no-ssl",
    "no-ssl-reuse",
    "no-sslv3",
    "no-tfo",
    "no-tls-tickets",
    "no-tlsv10",
    "no-tlsv11",
    "no-tlsv12",
    "no-tlsv13",
    "no-verifyhost",
    "non-stick",
    "send-proxy",
    "send-proxy-v2",
    "send-proxy-v2-ssl",
    "send-proxy-v2-ssl-cn",
    "ssl",
    "ssl-reuse",
    "stick",
    "tfo",
    "tls-tickets",
];

/// Splits a line into words: blanks separate, `#` starts a comment, `"..."`
/// and `'...'` quote, `\` escapes the next character.
fn split(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '#' => break,
            ' ' | '\t' => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some('r') => cur.push('\r'),
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some(x) => cur.push(x),
                    None => {}
                }
            }
            '"' | '\'' => {
                in_word = true;
                let mut closed = false;
                while let Some(q) = chars.next() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    if q == '\\' && c == '"' {
                        if let Some(x) = chars.next() {
                            cur.push(x);
                        }
                        continue;
                    }
                    cur.push(q);
                }
                if !closed {
                    return Err(format!("unmatched quote: expected a closing {c}"));
                }
            }
            _ => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

/// `.if` conditions that do not depend on the environment.
fn eval_cond(c: &str) -> Option<bool> {
    if let Some(rest) = c.strip_prefix('!') {
        return eval_cond(rest.trim()).map(|v| !v);
    }
    if let Ok(n) = c.parse::<i64>() {
        return Some(n != 0);
    }
    let (f, args) = c.strip_suffix(')')?.split_once('(')?;
    let args: Vec<&str> = args.split(',').map(str::trim).collect();
    if args.iter().any(|a| a.contains('$')) {
        return None;
    }
    let version = |v: &str| -> Option<Vec<u32>> { v.split('.').map(|p| p.parse().ok()).collect() };
    match (f.trim(), args.as_slice()) {
        ("version_atleast", [v]) => Some(vec![2, 6] >= version(v)?),
        ("version_before", [v]) => Some(vec![2, 6] < version(v)?),
        ("streq", [a, b]) => Some(a == b),
        ("strneq", [a, b]) => Some(a != b),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Found {
        let mut f = Found::default();
        import("haproxy.cfg", text, &mut f).unwrap();
        f
    }
    fn key<'a>(t: &'a Table, k: &str) -> &'a str {
        &t.get(k).unwrap_or_else(|| panic!("no {k} in {t:?}")).toml
    }

    #[test]
    fn words_quotes_and_comments() {
        assert_eq!(
            split("  server a b:1 check # c").unwrap(),
            ["server", "a", "b:1", "check"]
        );
        assert_eq!(
            split(r#"option httpchk "GET /x" a\ b"#).unwrap(),
            ["option", "httpchk", "GET /x", "a b"]
        );
        assert_eq!(split("x 'a#b'").unwrap(), ["x", "a#b"]);
        assert!(split("x \"open").is_err());
    }

    #[test]
    fn field_report_2() {
        let f = read(include_str!(
            "../../tests/fixtures/import/report-2/haproxy.cfg"
        ));
        assert_eq!(f.balancers.len(), 1);
        let b = &f.balancers[0];
        assert_eq!(b.name, "servers");
        assert_eq!(key(&b.keys, "mode"), "\"tcp\"");
        assert_eq!(key(&b.keys, "balance"), "\"roundrobin\"");
        assert_eq!(key(&b.keys, "maxconn"), "10000");
        assert_eq!(key(&b.keys, "timeout_connect"), "\"5s\"");
        assert_eq!(key(&b.keys, "timeout_client"), "\"50s\"");
        assert_eq!(
            b.keys.get("timeout_connect").unwrap().note,
            "haproxy.cfg:8: timeout connect 5000"
        );
        let names: Vec<&str> = b.servers.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["mysql-slave1", "mysql-slave2", "mysql-slave3"]);
        assert_eq!(key(&b.servers[0].keys, "maxconn"), "32");
        assert_eq!(key(&b.servers[0].keys, "check"), "true");
        assert_eq!(b.servers[0].port, Some(3306));
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "haproxy.cfg:3: `log stdout local0 debug`: not modelled",
            "haproxy.cfg:7: `option tcplog`: not modelled",
            "haproxy.cfg:15: `stats enable`: not modelled",
            "haproxy.cfg:12: frontend `stats` is not imported: it has no default_backend",
            "haproxy.cfg:20: `bind *:4400`: not modelled",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
    }

    #[test]
    fn option_abortonclose_and_its_negation() {
        let f = read(
            "defaults\n mode http\n option abortonclose\nlisten web\n bind :80\n server s1 10.0.0.1:80\n",
        );
        assert_eq!(key(&f.balancers[0].keys, "option_abortonclose"), "true");
        let f = read(
            "defaults\n mode http\n option abortonclose\nlisten web\n bind :80\n no option abortonclose\n server s1 10.0.0.1:80\n",
        );
        assert_eq!(key(&f.balancers[0].keys, "option_abortonclose"), "false");
    }

    #[test]
    fn defaults_server_options_and_checks() {
        let f = read(
            "defaults\n mode http\n timeout connect 2s\n default-server inter 3s fall 2\n retries 2\n option redispatch\n\
             listen pg\n bind :5000\n option httpchk GET /primary\n http-check expect status 200\n\
             default-server on-marked-down shutdown-sessions rise 3\n\
             server pg1 10.0.0.1:5432 check port 8008 backup weight 10 fastinter 500 slowstart 30s\n\
             server pg2 10.0.0.2:5432 maxconn 100 check inter 1s verify none ssl\n",
        );
        let b = &f.balancers[0];
        assert_eq!(key(&b.keys, "mode"), "\"http\"");
        assert_eq!(key(&b.keys, "option_httpchk"), "\"GET /primary\"");
        assert_eq!(key(&b.keys, "option_redispatch"), "true");
        assert_eq!(key(&b.keys, "retries"), "2");
        assert_eq!(key(&b.keys, "on_marked_down"), "\"shutdown-sessions\"");
        assert_eq!(key(&b.default_server, "inter"), "\"3s\"");
        assert_eq!(key(&b.default_server, "fall"), "2");
        assert_eq!(key(&b.default_server, "rise"), "3");
        let s = &b.servers[0];
        assert_eq!(s.check_port, Some(8008));
        assert_eq!(key(&s.keys, "fastinter"), "\"500ms\"");
        assert_eq!(key(&s.keys, "slowstart"), "\"30s\"");
        assert_eq!(key(&s.keys, "weight"), "10");
        assert_eq!(key(&s.keys, "backup"), "true");
        assert_eq!(key(&b.servers[1].keys, "inter"), "\"1s\"");
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "haproxy.cfg:10: `http-check expect status 200`",
            "haproxy.cfg:12: `port 8008`",
            "haproxy.cfg:13: server option `verify none`",
            "haproxy.cfg:13: server option `ssl`",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
    }

    #[test]
    fn if_blocks_are_evaluated_or_reported() {
        let f = read(
            "backend b\n.if version_atleast(2.4)\n timeout server 1s\n.else\n timeout server 2s\n.endif\n\
             .if defined(PROD)\n retries 5\n.elif 1\n retries 6\n.endif\n\
             .if 0\n balance leastconn\n.endif\n server s a:1\n",
        );
        let b = &f.balancers[0];
        assert_eq!(key(&b.keys, "timeout_server"), "\"1s\"");
        assert_eq!(key(&b.keys, "retries"), "5");
        assert!(b.keys.get("balance").is_none());
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            w.iter()
                .any(|x| x
                    .starts_with("haproxy.cfg:2: `.if version_atleast(2.4)` evaluated as true")),
            "{w:#?}"
        );
        assert!(
            w.iter()
                .any(|x| x
                    .starts_with("haproxy.cfg:7: `.if defined(PROD)` depends on the environment")),
            "{w:#?}"
        );
    }

    #[test]
    fn redis_role_check() {
        let f = read(
            "backend redis\n mode tcp\n option tcp-check\n tcp-check send PING\\r\\n\n\
             tcp-check expect string +PONG\n tcp-check send info\\ replication\\r\\n\n\
             tcp-check expect string role:master\n server r1 a:6379 check\n",
        );
        assert_eq!(
            key(&f.balancers[0].keys, "tcp_check_expect"),
            "\"role:master\""
        );
    }

    #[test]
    fn bad_lines_name_file_line_and_what_was_expected() {
        let e = |t: &str| {
            let mut f = Found::default();
            import("haproxy.cfg", t, &mut f).unwrap_err().to_string()
        };
        assert_eq!(
            e("backend b\n server s a:1 inter fast\n"),
            "haproxy.cfg:2: `inter`: expected a time such as 5000 (ms) or 5s, found `fast`"
        );
        assert!(
            e("backend b\n server s\n")
                .starts_with("haproxy.cfg:2: `server` expects a name and an address")
        );
        assert!(e("maxconn 1\n").starts_with("haproxy.cfg:1: `maxconn` outside a section"));
        assert!(e("backend b\n.if 1\n").starts_with("haproxy.cfg:2: this `.if` has no `.endif`"));
        assert!(
            e("backend b\n rise 2\n server s a:1 rise x\n")
                .starts_with("haproxy.cfg:3: `rise` expects a whole number")
        );
        assert!(e("defaults\n mode health\n").contains("expects http or tcp"));
        assert!(e("backend b\n server s a:1 weight\n").contains("`weight` expects"));
    }
}
