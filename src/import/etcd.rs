//! etcd's command-line flags, as a systemd unit's `ExecStart` or a file of
//! `--flags` (field report 5's `s1.service`): `--heartbeat-interval` and
//! `--election-timeout` (milliseconds), the members of `--initial-cluster`.

use super::writer::{Table, Val};
use super::{Cluster, Found, ImportError, Origin, patroni};

/// What one etcd member's flags say.
#[derive(Clone, Debug)]
pub struct Flags {
    pub at: Origin,
    pub keys: Table,
    pub members: Option<(usize, Origin)>,
}

pub fn read(file: &str, text: &str, found: &mut Found) -> Result<Flags, ImportError> {
    let mut out = Flags {
        at: Origin::new(file, 1),
        keys: Table::new(""),
        members: None,
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let at = Origin::new(file, line);
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if !l.contains("--") {
            if !(l.starts_with('[') && l.ends_with(']')) {
                found.warn(at, format!("`{l}`: not modelled"));
            }
            continue;
        }
        let words: Vec<&str> = l
            .split_whitespace()
            .map(|w| w.trim_end_matches('\\'))
            .filter(|w| !w.is_empty())
            .collect();
        let mut j = 0;
        while j < words.len() {
            let w = words[j];
            j += 1;
            let Some(flag) = w.strip_prefix("--") else {
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((n, v)) => (n, v.to_string()),
                None if words.get(j).is_some_and(|n| !n.starts_with("--")) => {
                    j += 1;
                    (flag, words[j - 1].to_string())
                }
                None => (flag, String::new()),
            };
            let note = format!("{at}: --{name} {value}");
            match name {
                "heartbeat-interval" | "election-timeout" => {
                    let ms: u64 = value.parse().map_err(|_| {
                        ImportError::parse(
                            file,
                            line,
                            format!("`--{name}` expects milliseconds, found `{value}`"),
                        )
                    })?;
                    out.keys.set(
                        &name.replace('-', "_"),
                        Val::new(super::time::toml(super::time::ms(ms)), note),
                    );
                }
                "initial-cluster" => {
                    let n = value.split(',').filter(|m| m.contains('=')).count();
                    if n == 0 {
                        return Err(ImportError::parse(
                            file,
                            line,
                            format!("`--initial-cluster` expects name=url,..., found `{value}`"),
                        ));
                    }
                    out.members = Some((n, at.clone()));
                }
                _ => found.warn(at.clone(), format!("`--{name}`: not modelled")),
            }
        }
    }
    Ok(out)
}

/// The etcd cluster: from the flags' files, or the hosts Patroni names.
pub fn cluster(
    flags: Vec<Flags>,
    patroni: &[patroni::Member],
    found: &mut Found,
) -> Option<Cluster> {
    let hosts = patroni::etcd_hosts(patroni);
    if flags.is_empty() && patroni.is_empty() {
        return None;
    }
    let (n, note, at) = match (flags.iter().find_map(|f| f.members.clone()), &hosts) {
        (Some((n, at)), _) => (n, format!("{at}: --initial-cluster"), at),
        (None, Some((h, at))) => (
            h.len(),
            format!("{at}: the etcd hosts Patroni names ({})", h.join(", ")),
            at.clone(),
        ),
        (None, None) => match flags.first() {
            Some(f) => (
                1,
                format!("{}: no --initial-cluster, one member", f.at.file),
                f.at.clone(),
            ),
            None => (
                1,
                "PLACEHOLDER: patroni.yml names no etcd hosts".into(),
                patroni[0].at.clone(),
            ),
        },
    };
    let mut keys = Table::new("");
    if let Some(f) = flags.first() {
        keys = f.keys.clone();
        for g in &flags[1..] {
            for (k, v) in &g.keys.keys {
                if keys.get(k).is_none_or(|w| w.toml != v.toml) {
                    found.warn(g.at.clone(), format!("`{k}` ({}) differs from the first etcd file's: the first one's is imported", v.note));
                }
            }
        }
    }
    Some(Cluster {
        kind: "etcd",
        at,
        members: (1..=n).map(|i| format!("member {i}")).collect(),
        count_note: note,
        ports: vec![2379],
        keys,
        subtables: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_report_5_flags() {
        let mut f = Found::default();
        let text = include_str!("../../tests/fixtures/import/report-5/s1-v2.service");
        let flags = read("s1-v2.service", text, &mut f).unwrap();
        assert!(flags.keys.keys.is_empty());
        let w: Vec<String> = f.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(
            w,
            [
                "s1-v2.service:1: `--listen-client-urls`: not modelled",
                "s1-v2.service:1: `--advertise-client-urls`: not modelled"
            ]
        );
        let c = cluster(vec![flags], &[], &mut f).unwrap();
        assert_eq!(c.members.len(), 1);
    }

    #[test]
    fn timing_flags_in_a_unit() {
        let mut f = Found::default();
        let unit = "[Service]\nRestart=always\nExecStart=/usr/bin/etcd --name s1 \\\n  --heartbeat-interval=250 --election-timeout 2500 \\\n  --initial-cluster s1=http://a:2380,s2=http://b:2380,s3=http://c:2380\n";
        let flags = read("s1.service", unit, &mut f).unwrap();
        assert_eq!(
            flags.keys.get("heartbeat_interval").unwrap().toml,
            "\"250ms\""
        );
        assert_eq!(
            flags.keys.get("election_timeout").unwrap().note,
            "s1.service:4: --election-timeout 2500"
        );
        assert_eq!(flags.members.as_ref().unwrap().0, 3);
        let e = read(
            "s1.service",
            "ExecStart=etcd --election-timeout 2s\n",
            &mut f,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "s1.service:1: `--election-timeout` expects milliseconds, found `2s`"
        );
    }
}
