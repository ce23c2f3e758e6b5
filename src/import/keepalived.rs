//! keepalived.conf (keepalived 2.2): one file per host. Each `vrrp_instance`
//! is a `[vips.NAME]` with one `[vips.NAME.on.LISTENER]` per host's file:
//! `state`, `priority`, `advert_int`, `nopreempt`, `preempt_delay`,
//! `garp_master_delay`, `garp_master_repeat`, `garp_master_refresh`,
//! `higher_prio_send_advert`, `dont_track_primary`, `track_interface`
//! (the instance's `interface` is hasim's host interface, eth0),
//! `version` (or global_defs' `vrrp_version`), and the `vrrp_script` its
//! `track_script` names (`interval`, `timeout`, `fall`, `rise`, `weight`).
//! Blocks of words in braces with `#`/`!` comments, as keepalived's own
//! parser.c reads them; no Rust crate reads them, so the reader is small.

use super::time;
use super::writer::{Table, Val};
use super::{Found, ImportError, Origin};
use crate::engine::Dur;

/// One statement: its words and, if it opens a block, the block's.
#[derive(Clone, Debug)]
struct Stmt {
    line: usize,
    words: Vec<String>,
    block: Option<Vec<Stmt>>,
}

impl Stmt {
    fn text(&self) -> String {
        let mut t = self.words.join(" ");
        if self.block.is_some() {
            t.push_str(" { ... }");
        }
        t
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Open,
    Close,
    End,
}

fn tokens(file: &str, text: &str) -> Result<Vec<(usize, Tok)>, ImportError> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let line = i + 1;
        let mut chars = l.chars().peekable();
        let mut cur = String::new();
        let flush = |cur: &mut String, out: &mut Vec<(usize, Tok)>| {
            if !cur.is_empty() {
                out.push((line, Tok::Word(std::mem::take(cur))));
            }
        };
        while let Some(c) = chars.next() {
            match c {
                '#' | '!' if cur.is_empty() => break,
                '"' => {
                    let mut s = String::new();
                    let mut closed = false;
                    for d in chars.by_ref() {
                        if d == '"' {
                            closed = true;
                            break;
                        }
                        s.push(d);
                    }
                    if !closed {
                        return Err(ImportError::parse(file, line, "a quote is not closed"));
                    }
                    cur.push_str(&s);
                    if cur.is_empty() {
                        out.push((line, Tok::Word(String::new())));
                    }
                }
                '{' => {
                    flush(&mut cur, &mut out);
                    out.push((line, Tok::Open));
                }
                '}' => {
                    flush(&mut cur, &mut out);
                    out.push((line, Tok::Close));
                }
                c if c.is_whitespace() => flush(&mut cur, &mut out),
                c => cur.push(c),
            }
        }
        flush(&mut cur, &mut out);
        out.push((line, Tok::End));
    }
    Ok(out)
}

fn parse(file: &str, text: &str) -> Result<Vec<Stmt>, ImportError> {
    let toks = tokens(file, text)?;
    let mut pos = 0;
    let stmts = block(file, &toks, &mut pos, None)?;
    Ok(stmts)
}

fn block(
    file: &str,
    toks: &[(usize, Tok)],
    pos: &mut usize,
    opened: Option<usize>,
) -> Result<Vec<Stmt>, ImportError> {
    let mut out: Vec<Stmt> = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut start = 0;
    while *pos < toks.len() {
        let (line, t) = &toks[*pos];
        *pos += 1;
        match t {
            Tok::Word(w) => {
                if words.is_empty() {
                    start = *line;
                }
                words.push(w.clone());
            }
            Tok::End => {
                if !words.is_empty() {
                    out.push(Stmt {
                        line: start,
                        words: std::mem::take(&mut words),
                        block: None,
                    });
                }
            }
            Tok::Open => {
                let inner = block(file, toks, pos, Some(*line))?;
                if words.is_empty() {
                    // `{` on its own line opens the previous statement's block.
                    match out.last_mut() {
                        Some(s) if s.block.is_none() => s.block = Some(inner),
                        _ => return Err(ImportError::parse(file, *line, "`{` opens no block")),
                    }
                } else {
                    out.push(Stmt {
                        line: start,
                        words: std::mem::take(&mut words),
                        block: Some(inner),
                    });
                }
            }
            Tok::Close => {
                if opened.is_none() {
                    return Err(ImportError::parse(file, *line, "`}` closes no block"));
                }
                if !words.is_empty() {
                    out.push(Stmt {
                        line: start,
                        words: std::mem::take(&mut words),
                        block: None,
                    });
                }
                return Ok(out);
            }
        }
    }
    if let Some(l) = opened {
        return Err(ImportError::parse(
            file,
            l,
            "the `{` opened here is never closed",
        ));
    }
    Ok(out)
}

/// One `vrrp_instance` of one host's file.
#[derive(Clone, Debug)]
pub struct Instance {
    pub name: String,
    pub at: Origin,
    /// Keys of `[vips.NAME]` / `[vips.NAME.on.LISTENER]`.
    pub keys: Table,
    /// The `vrrp_script` table, if it tracks one.
    pub script: Option<Table>,
    /// `virtual_ipaddress`, as written.
    pub addresses: Vec<String>,
}

/// One host's keepalived.conf.
#[derive(Clone, Debug)]
pub struct Host {
    pub at: Origin,
    pub instances: Vec<Instance>,
}

struct Script {
    at: Origin,
    keys: Table,
}

fn num(file: &str, s: &Stmt, i: usize) -> Result<u64, ImportError> {
    let v = s.words.get(i).map(String::as_str).unwrap_or("");
    v.parse().map_err(|_| {
        ImportError::parse(
            file,
            s.line,
            format!("`{}` expects a whole number, found `{v}`", s.words[0]),
        )
    })
}

/// `track_interface` entries as `{ "NAME" = WEIGHT, ... }`, the
/// instance's own `interface` renamed to the host interface hasim models.
fn tracked_links(links: &[(String, i64, String)], own: Option<&str>) -> Val {
    let host = crate::net::HOST_INTERFACE;
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    for (name, weight, note) in links {
        let name = match Some(name.as_str()) == own {
            true => host,
            false => name.as_str(),
        };
        entries.push(format!("\"{name}\" = {weight}"));
        notes.push(note.clone());
    }
    if let Some(own) = own.filter(|o| *o != host) {
        notes.push(format!(
            "the instance's interface {own} is the host's interface {host} here"
        ));
    }
    Val::new(format!("{{ {} }}", entries.join(", ")), notes.join("; "))
}

fn int(file: &str, s: &Stmt, i: usize) -> Result<i64, ImportError> {
    let v = s.words.get(i).map(String::as_str).unwrap_or("");
    v.parse().map_err(|_| {
        ImportError::parse(
            file,
            s.line,
            format!("`{}` expects a number, found `{v}`", s.words[0]),
        )
    })
}

/// Seconds, fractions allowed (`advert_int 0.5` with VRRPv3).
fn seconds(file: &str, s: &Stmt) -> Result<String, ImportError> {
    let v = s.words.get(1).map(String::as_str).unwrap_or("");
    let f: f64 = v
        .parse()
        .ok()
        .filter(|f: &f64| f.is_finite() && *f >= 0.0 && *f < 1e9)
        .ok_or_else(|| {
            ImportError::parse(
                file,
                s.line,
                format!("`{}` expects seconds, found `{v}`", s.words[0]),
            )
        })?;
    Ok(time::toml(Dur((f * 1e9).round() as u64)))
}

/// A liveness check of a process: `killall -0 haproxy`, `pidof haproxy`,
/// `pgrep haproxy`, `systemctl is-active haproxy`.
fn is_liveness(script: &str) -> bool {
    let w: Vec<&str> = script.split_whitespace().collect();
    let cmd = w.first().map(|c| c.rsplit('/').next().unwrap_or(c));
    match (cmd, w.len()) {
        (Some("killall"), 3) => w[1] == "-0",
        (Some("pidof" | "pgrep"), 2..=3) => true,
        (Some("systemctl"), 3) => w[1] == "is-active",
        _ => false,
    }
}

pub fn read(file: &str, text: &str, found: &mut Found) -> Result<Host, ImportError> {
    let stmts = parse(file, text)?;
    let mut version: Option<Val> = None;
    let mut scripts: Vec<(String, Script)> = Vec::new();
    let mut raw_instances: Vec<&Stmt> = Vec::new();
    for s in &stmts {
        let at = Origin::new(file, s.line);
        match (s.words[0].as_str(), &s.block) {
            ("global_defs", Some(b)) => {
                for g in b {
                    let gat = Origin::new(file, g.line);
                    if g.words[0] == "vrrp_version" {
                        let v = num(file, g, 1)?;
                        version = Some(Val::new(v.to_string(), format!("{gat}: {}", g.text())));
                    } else {
                        found.warn(gat, format!("global_defs `{}`: not modelled", g.text()));
                    }
                }
            }
            ("vrrp_script", Some(b)) => {
                let name = s.words.get(1).cloned().ok_or_else(|| {
                    ImportError::parse(file, s.line, "`vrrp_script` expects a name")
                })?;
                let mut keys = Table::new("vrrp_script");
                for d in b {
                    let dat = Origin::new(file, d.line);
                    let note = format!("{dat}: {}", d.text());
                    match d.words[0].as_str() {
                        "script" => {
                            let cmd = d.words[1..].join(" ");
                            if !is_liveness(&cmd) {
                                found.warn(
                                    dat,
                                    format!("vrrp_script {name} `script \"{cmd}\"`: not a process liveness check; the model runs it as a liveness check of the listener"),
                                );
                            }
                        }
                        "interval" | "timeout" => {
                            keys.set(&d.words[0], Val::new(seconds(file, d)?, note));
                        }
                        "fall" | "rise" => {
                            let v = num(file, d, 1)?;
                            keys.set(&d.words[0], Val::new(v.to_string(), note));
                        }
                        "weight" => {
                            let v = int(file, d, 1)?;
                            if d.words.len() > 2 {
                                found.warn(
                                    dat,
                                    format!("vrrp_script {name} `{}`: `{}` not modelled (the weight is imported)", d.text(), d.words[2..].join(" ")),
                                );
                            }
                            keys.set("weight", Val::new(v.to_string(), note));
                        }
                        _ => found.warn(
                            dat,
                            format!("vrrp_script {name} `{}`: not modelled", d.text()),
                        ),
                    }
                }
                scripts.push((name, Script { at, keys }));
            }
            ("vrrp_instance", Some(_)) => raw_instances.push(s),
            _ => found.warn(at, format!("`{}`: not modelled", s.text())),
        }
    }
    let mut instances = Vec::new();
    for s in raw_instances {
        let at = Origin::new(file, s.line);
        let name =
            s.words.get(1).cloned().ok_or_else(|| {
                ImportError::parse(file, s.line, "`vrrp_instance` expects a name")
            })?;
        let mut keys = Table::new("");
        if let Some(v) = &version {
            keys.set("version", v.clone());
        }
        let mut script = None;
        let mut addresses = Vec::new();
        let mut own_interface: Option<String> = None;
        let mut links: Vec<(String, i64, String)> = Vec::new();
        for d in s.block.as_deref().unwrap_or(&[]) {
            let dat = Origin::new(file, d.line);
            let note = format!("{dat}: {}", d.text());
            match d.words[0].as_str() {
                "state" => {
                    let v = d
                        .words
                        .get(1)
                        .map(|w| w.to_ascii_uppercase())
                        .unwrap_or_default();
                    if v != "MASTER" && v != "BACKUP" {
                        return Err(ImportError::parse(
                            file,
                            d.line,
                            format!("`state` expects MASTER or BACKUP, found `{v}`"),
                        ));
                    }
                    keys.set("state", Val::str(&v, note));
                }
                "priority" | "garp_master_repeat" | "version" => {
                    let v = num(file, d, 1)?;
                    keys.set(&d.words[0], Val::new(v.to_string(), note));
                }
                "advert_int" | "preempt_delay" | "garp_master_delay" | "garp_master_refresh" => {
                    keys.set(&d.words[0], Val::new(seconds(file, d)?, note));
                }
                "nopreempt" => keys.set("nopreempt", Val::new("true", note)),
                "higher_prio_send_advert" => {
                    // A bare keyword means true (vrrp_parser.c check_true_false).
                    let on = d
                        .words
                        .get(1)
                        .is_none_or(|w| w != "false" && w != "off" && w != "no");
                    keys.set("higher_prio_send_advert", Val::new(on.to_string(), note));
                }
                "preempt" => keys.set("nopreempt", Val::new("false", note)),
                "interface" if d.words.len() == 2 => own_interface = Some(d.words[1].clone()),
                "dont_track_primary" => keys.set("dont_track_primary", Val::new("true", note)),
                "track_interface" => {
                    for t in d.block.as_deref().unwrap_or(&[]) {
                        let tat = Origin::new(file, t.line);
                        let weight = match t.words.get(1).map(String::as_str) {
                            None => 0,
                            Some("weight") if t.words.len() == 3 => int(file, t, 2)?,
                            Some(_) => {
                                found.warn(tat, format!("track_interface `{}`: only `NAME` or `NAME weight W` is modelled; not imported", t.text()));
                                continue;
                            }
                        };
                        links.push((t.words[0].clone(), weight, format!("{tat}: {}", t.text())));
                    }
                }
                "virtual_ipaddress" => {
                    for a in d.block.as_deref().unwrap_or(&[]) {
                        addresses.push(a.words[0].clone());
                        if a.words.len() > 1 {
                            found.warn(
                                Origin::new(file, a.line),
                                format!("virtual_ipaddress `{}`: only the address is imported (devices, labels and scopes are not modelled)", a.text()),
                            );
                        }
                    }
                }
                "track_script" => {
                    let tracked = d.block.as_deref().unwrap_or(&[]);
                    for (i, t) in tracked.iter().enumerate() {
                        let tat = Origin::new(file, t.line);
                        if i > 0 {
                            found.warn(tat, format!("track_script `{}`: one script per instance is modelled; only the first is imported", t.text()));
                            continue;
                        }
                        let Some((_, sc)) = scripts.iter().find(|(n, _)| *n == t.words[0]) else {
                            found.warn(
                                tat,
                                format!(
                                    "track_script `{}`: no vrrp_script of that name in {file}",
                                    t.words[0]
                                ),
                            );
                            continue;
                        };
                        let mut table = sc.keys.clone();
                        if t.words.get(1).map(String::as_str) == Some("weight") {
                            let v = int(file, t, 2)?;
                            table.set(
                                "weight",
                                Val::new(v.to_string(), format!("{tat}: {}", t.text())),
                            );
                        }
                        if table.get("interval").is_none() {
                            table.set(
                                "interval",
                                Val::str(
                                    "1s",
                                    format!(
                                        "{}: vrrp_script {} (keepalived's default interval)",
                                        sc.at, t.words[0]
                                    ),
                                ),
                            );
                        }
                        keys.set(
                            "track_script",
                            Val::new("true", format!("{tat}: {}", t.text())),
                        );
                        script = Some(table);
                    }
                }
                _ => found.warn(
                    dat,
                    format!("vrrp_instance {name} `{}`: not modelled", d.text()),
                ),
            }
        }
        if !links.is_empty() {
            keys.set(
                "track_interface",
                tracked_links(&links, own_interface.as_deref()),
            );
        }
        instances.push(Instance {
            name,
            at,
            keys,
            script,
            addresses,
        });
    }
    Ok(Host {
        at: Origin::new(file, 1),
        instances,
    })
}

/// A VIP: one `vrrp_instance` name across the hosts' files.
#[derive(Clone, Debug)]
pub struct Vip {
    pub name: String,
    pub at: Origin,
    pub addresses: Vec<String>,
    /// Keys every instance gives alike.
    pub keys: Table,
    pub script: Option<Table>,
    /// Per host (index into the files): its own keys.
    pub on: Vec<(usize, Table)>,
}

/// Groups the hosts' instances by name; a key every instance gives alike
/// moves to the shared table. One host alone gets a PLACEHOLDER peer.
pub fn vips(hosts: &[Host], found: &mut Found) -> Vec<Vip> {
    let mut out: Vec<Vip> = Vec::new();
    for (hi, h) in hosts.iter().enumerate() {
        for inst in &h.instances {
            let i = match out.iter().position(|v| v.name == inst.name) {
                Some(i) => i,
                None => {
                    out.push(Vip {
                        name: inst.name.clone(),
                        at: inst.at.clone(),
                        addresses: inst.addresses.clone(),
                        keys: Table::new(""),
                        script: inst.script.clone(),
                        on: Vec::new(),
                    });
                    out.len() - 1
                }
            };
            let v = &mut out[i];
            if v.on.iter().any(|(x, _)| *x == hi) {
                found.warn(
                    inst.at.clone(),
                    format!(
                        "a second vrrp_instance {} in one file: not imported",
                        inst.name
                    ),
                );
                continue;
            }
            match (&v.script, &inst.script) {
                (Some(a), Some(b))
                    if a.keys
                        .iter()
                        .map(|(k, x)| (k, &x.toml))
                        .ne(b.keys.iter().map(|(k, x)| (k, &x.toml))) =>
                {
                    found.warn(inst.at.clone(), format!("vrrp_instance {}: its vrrp_script differs from {}'s: the first file's is imported", inst.name, v.at));
                }
                (None, Some(b)) => v.script = Some(b.clone()),
                _ => {}
            }
            v.on.push((hi, inst.keys.clone()));
        }
    }
    for v in &mut out {
        let placeholder_peer = v.on.len() == 1;
        if placeholder_peer {
            let (hi, own) = v.on[0].clone();
            let p: u64 = own
                .get("priority")
                .and_then(|x| x.toml.parse().ok())
                .unwrap_or(100);
            let mut peer = Table::new("");
            peer.set(
                "state",
                Val::str(
                    "BACKUP",
                    format!(
                        "PLACEHOLDER: the peer's keepalived.conf was not given ({})",
                        v.at
                    ),
                ),
            );
            peer.set(
                "priority",
                Val::new(
                    p.saturating_sub(50).max(1).to_string(),
                    "PLACEHOLDER: the peer's priority",
                ),
            );
            for (k, x) in &own.keys {
                if k != "state" && k != "priority" {
                    peer.set(k, x.clone());
                }
            }
            let other = (0..hosts.len().max(2)).find(|x| *x != hi).unwrap_or(1);
            v.on.push((other, peer));
        }
        // Keys every instance gives alike are shared.
        let first = v.on[0].1.clone();
        for (k, val) in &first.keys {
            if v.on
                .iter()
                .all(|(_, t)| t.get(k).is_some_and(|w| w.toml == val.toml))
                && k != "state"
                && k != "priority"
            {
                let note = if placeholder_peer {
                    format!("{} (ASSUMED alike on the peer)", val.note)
                } else {
                    format!("{} (and every other host's file)", val.note)
                };
                v.keys.set(k, Val::new(val.toml.clone(), note));
                for (_, t) in &mut v.on {
                    t.keys.retain(|(x, _)| x != k);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = "! Configuration File for keepalived\n\
global_defs {\n   router_id LVS_DEVEL\n   vrrp_version 2\n}\n\
vrrp_script chk_haproxy {\n    script \"killall -0 haproxy\"\n    interval 2\n    fall 2\n    rise 2\n    weight -20\n}\n\
vrrp_instance VI_1 {\n    state MASTER\n    interface eth0\n    virtual_router_id 51\n    priority 150\n    advert_int 1\n\
    authentication {\n        auth_type PASS\n        auth_pass s3cret\n    }\n    virtual_ipaddress {\n        192.168.200.16\n    }\n\
    track_script {\n        chk_haproxy\n    }\n}\n";

    #[test]
    fn instances_scripts_and_warnings() {
        let mut f = Found::default();
        let h = read("ka.conf", CONF, &mut f).unwrap();
        let i = &h.instances[0];
        assert_eq!(i.name, "VI_1");
        let k = |key: &str| i.keys.get(key).unwrap().toml.clone();
        assert_eq!(k("state"), "\"MASTER\"");
        assert_eq!(k("priority"), "150");
        assert_eq!(k("advert_int"), "\"1s\"");
        assert_eq!(k("version"), "2");
        assert_eq!(k("track_script"), "true");
        assert_eq!(
            i.keys.get("priority").unwrap().note,
            "ka.conf:17: priority 150"
        );
        let s = i.script.as_ref().unwrap();
        assert_eq!(s.get("interval").unwrap().toml, "\"2s\"");
        assert_eq!(s.get("weight").unwrap().toml, "-20");
        assert_eq!(i.addresses, vec!["192.168.200.16"]);
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        for needle in [
            "ka.conf:3: global_defs `router_id LVS_DEVEL`",
            "ka.conf:19: vrrp_instance VI_1 `authentication",
        ] {
            assert!(
                w.iter().any(|x| x.starts_with(needle)),
                "{needle} not in {w:#?}"
            );
        }
        assert!(!w.iter().any(|x| x.contains("s3cret")));
    }

    #[test]
    fn track_interface_and_dont_track_primary() {
        let conf = "vrrp_instance VI_1 {\n    interface ens192\n    priority 150\n    dont_track_primary\n\
    track_interface {\n        ens192 weight -30\n        ens224\n        bond0 weight 10 reverse\n    }\n}\n";
        let mut f = Found::default();
        let h = read("ka.conf", conf, &mut f).unwrap();
        let k = |key: &str| h.instances[0].keys.get(key).unwrap().clone();
        assert_eq!(k("dont_track_primary").toml, "true");
        let t = k("track_interface");
        assert_eq!(t.toml, "{ \"eth0\" = -30, \"ens224\" = 0 }");
        assert!(
            t.note.contains("ka.conf:6: ens192 weight -30"),
            "{}",
            t.note
        );
        assert!(
            t.note.contains("ens192 is the host's interface eth0"),
            "{}",
            t.note
        );
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert!(
            w.iter()
                .any(|x| x.starts_with("ka.conf:8: track_interface `bond0 weight 10 reverse`")),
            "{w:#?}"
        );
    }

    #[test]
    fn higher_prio_send_advert_bare_or_with_a_value() {
        for (line, want) in [
            ("higher_prio_send_advert", "true"),
            ("higher_prio_send_advert false", "false"),
        ] {
            let conf = CONF.replace(
                "    advert_int 1\n",
                &format!("    advert_int 1\n    {line}\n"),
            );
            let mut f = Found::default();
            let h = read("ka.conf", &conf, &mut f).unwrap();
            let v = h.instances[0].keys.get("higher_prio_send_advert").unwrap();
            assert_eq!(v.toml, want, "{line}");
        }
    }

    #[test]
    fn scripts_that_are_not_liveness_checks_are_warned() {
        assert!(is_liveness("killall -0 haproxy"));
        assert!(is_liveness("/usr/bin/pidof nginx"));
        assert!(is_liveness("systemctl is-active haproxy"));
        assert!(!is_liveness("/etc/keepalived/check.sh"));
        let mut f = Found::default();
        let t = "vrrp_script c {\n script \"curl -f http://localhost/\"\n}\n";
        read("k.conf", t, &mut f).unwrap();
        assert!(
            f.warnings[0]
                .to_string()
                .contains("runs it as a liveness check")
        );
    }

    #[test]
    fn hosts_share_what_they_give_alike() {
        let mut f = Found::default();
        let a = read("a.conf", CONF, &mut f).unwrap();
        let b = read(
            "b.conf",
            &CONF.replace("MASTER", "BACKUP").replace("150", "100"),
            &mut f,
        )
        .unwrap();
        let v = vips(&[a, b], &mut f);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].keys.get("advert_int").unwrap().toml, "\"1s\"");
        assert_eq!(v[0].on[1].1.get("priority").unwrap().toml, "100");
        assert!(v[0].on[0].1.get("advert_int").is_none());
    }

    #[test]
    fn bad_files_name_the_line() {
        let e = |t: &str| {
            read("k.conf", t, &mut Found::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            e("vrrp_instance A {\n priority x\n}\n"),
            "k.conf:2: `priority` expects a whole number, found `x`"
        );
        assert_eq!(
            e("vrrp_instance A {\n state UP\n"),
            "k.conf:1: the `{` opened here is never closed"
        );
        assert_eq!(e("}\n"), "k.conf:1: `}` closes no block");
        assert_eq!(
            e("vrrp_instance A {\n state MAYBE\n}\n"),
            "k.conf:2: `state` expects MASTER or BACKUP, found `MAYBE`"
        );
    }
}
