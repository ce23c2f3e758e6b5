//! An experiment's settings as flat `key path = value` pairs, each node's
//! table resolved over its preset (a key the file omits shows the preset's
//! value): what `hasim compare` lists where two experiments differ.

use super::read::Section;
use super::table::{Item, Tab, Val, join};
use crate::engine::parse_duration;

/// Every setting of the tree `root` in file order (then the preset's own
/// keys), `preset_of(name)` giving the preset table a node table named
/// `name` is read over. Durations are shown in one spelling (`2000ms` and
/// `2s` are both `2s`).
pub(crate) fn resolved<'a>(
    root: &'a Item,
    preset_of: impl Fn(&str) -> Option<&'a Item>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Some(tab) = root.as_table() else {
        return out;
    };
    for (k, v) in &tab.entries {
        let section = Section::ALL.iter().any(|s| s.key() == k.name);
        match (&v.val, section) {
            (Val::Table(nodes), true) => {
                for (nk, nv) in &nodes.entries {
                    let path = join(&k.name, &nk.name);
                    merged(&path, Some(nv), preset_of(&nk.name), &mut out);
                }
            }
            _ => merged(&join("", &k.name), Some(v), None, &mut out),
        }
    }
    out
}

/// `top` over `under` at `path`: tables merged key by key, anything else
/// from the first that has it.
fn merged(path: &str, top: Option<&Item>, under: Option<&Item>, out: &mut Vec<(String, String)>) {
    fn table(i: Option<&Item>) -> Option<&Tab> {
        i.and_then(Item::as_table)
    }
    match (top, under) {
        (Some(t), u) if t.as_table().is_some() && (u.is_none() || table(u).is_some()) => {
            let (tt, ut) = (table(Some(t)).expect("a table"), table(u));
            for key in keys(tt, ut) {
                merged(
                    &join(path, &key),
                    tt.get(&key),
                    ut.and_then(|u| u.get(&key)),
                    out,
                );
            }
        }
        (None, Some(u)) if u.as_table().is_some() => merged(path, Some(u), None, out),
        (Some(t), _) => value(path, t, out),
        (None, Some(u)) => value(path, u, out),
        (None, None) => {}
    }
}

fn keys(top: &Tab, under: Option<&Tab>) -> Vec<String> {
    let mut v: Vec<String> = top.entries.iter().map(|(k, _)| k.name.clone()).collect();
    for (k, _) in under.map_or(&[][..], |u| &u.entries[..]) {
        if !v.contains(&k.name) {
            v.push(k.name.clone());
        }
    }
    v
}

fn value(path: &str, item: &Item, out: &mut Vec<(String, String)>) {
    match &item.val {
        Val::Array(items) if !items.is_empty() && items.iter().all(|i| i.as_table().is_some()) => {
            for (i, it) in items.iter().enumerate() {
                merged(&format!("{path}[{i}]"), Some(it), None, out);
            }
        }
        _ => out.push((path.to_string(), render(item))),
    }
}

/// A value as a user reads it: strings bare, durations normalized.
fn render(item: &Item) -> String {
    match &item.val {
        Val::Str(s) => match parse_duration(s) {
            Ok(d) => d.to_string(),
            Err(_) => s.clone(),
        },
        Val::Int(i) => i.to_string(),
        Val::Float(f) => f.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Datetime(d) => d.clone(),
        Val::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|i| match &i.val {
                    Val::Str(s) => format!("{s:?}"),
                    _ => render(i),
                })
                .collect();
            format!("[{}]", parts.join(", "))
        }
        Val::Table(t) => {
            let parts: Vec<String> = t
                .entries
                .iter()
                .map(|(k, v)| format!("{} = {}", k.name, render(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
    }
}

/// The keys whose values differ between `a` and `b` (or that only one
/// has): (key, a's value, b's value), in `a`'s order, then `b`'s new keys.
pub fn differences(
    a: &[(String, String)],
    b: &[(String, String)],
) -> Vec<(String, Option<String>, Option<String>)> {
    let get =
        |l: &[(String, String)], k: &str| l.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut out = Vec::new();
    for (k, va) in a {
        let vb = get(b, k);
        if vb.as_deref() != Some(va.as_str()) {
            out.push((k.clone(), Some(va.clone()), vb));
        }
    }
    for (k, vb) in b {
        if get(a, k).is_none() {
            out.push((k.clone(), None, Some(vb.clone())));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> Vec<(String, String)> {
        crate::config::parse(text, "s.toml").unwrap().settings
    }

    const BASE: &str = "[experiment]\nduration = \"10s\"\n\
        [balancers.lb]\npreset = \"haproxy-2.6\"\nservers = [\"s\"]\n\
        [balancers.lb.default_server]\ncheck = true\ninter = \"2000ms\"\n\
        [servers.s]\ncount = 2\nservice = \"1ms\"\n\
        [[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"3s\"\n";

    #[test]
    fn presets_fill_in_and_durations_are_normalized() {
        let s = settings(BASE);
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("balancers.lb.default_server.inter"), Some("2s"));
        // From the preset: the file does not set it.
        assert_eq!(get("balancers.lb.default_server.fall"), Some("3"));
        assert_eq!(get("balancers.lb.servers"), Some("[\"s\"]"));
        assert_eq!(get("faults[0].target"), Some("s2"));
        assert_eq!(get("experiment.duration"), Some("10s"));
    }

    #[test]
    fn differences_are_the_changed_keys_only() {
        let a = settings(BASE);
        let b = settings(
            &BASE
                .replace("inter = \"2000ms\"", "inter = \"2s\"\nfall = 2")
                .replace("at = \"3s\"", "at = \"4s\"\nrecover_at = \"8s\""),
        );
        let d = differences(&a, &b);
        let keys: Vec<&str> = d.iter().map(|(k, _, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "balancers.lb.default_server.fall",
                "faults[0].at",
                "faults[0].recover_at"
            ]
        );
        assert_eq!(d[0].1.as_deref(), Some("3"));
        assert_eq!(d[0].2.as_deref(), Some("2"));
        assert_eq!(d[2].1, None);
        assert!(differences(&a, &a).is_empty());
    }
}
