//! Bad input never panics: random edits of valid experiment files either
//! parse (and then run) or give a ConfigError — never a panic.

use crate::proptest_seed;

use proptest::prelude::*;

const FILES: [&str; 3] = [
    include_str!("../../experiments/mysql-replicas-k6.toml"),
    include_str!("../../experiments/app-tier-nginx.toml"),
    include_str!("../validation/haproxy-http-kill-inter2.toml"),
];

const TOKENS: [&str; 16] = [
    "0",
    "-1",
    "\"\"",
    "\"0s\"",
    "\"-5s\"",
    "1e300",
    "true",
    "[]",
    "{}",
    "\"nope\"",
    "\"1ms\"",
    "18446744073709551615",
    "\"s9\"",
    "[[\"x\"]]",
    "nan",
    "\"999999h\"",
];

#[derive(Debug, Clone)]
enum Edit {
    DeleteLine(usize),
    DuplicateLine(usize),
    ReplaceValue(usize, usize),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        any::<usize>().prop_map(Edit::DeleteLine),
        any::<usize>().prop_map(Edit::DuplicateLine),
        (any::<usize>(), 0..TOKENS.len()).prop_map(|(l, t)| Edit::ReplaceValue(l, t)),
        any::<usize>().prop_map(Edit::Truncate),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for e in edits {
        if lines.is_empty() {
            break;
        }
        let n = lines.len();
        match *e {
            Edit::DeleteLine(i) => {
                lines.remove(i % n);
            }
            Edit::DuplicateLine(i) => {
                let l = lines[i % n].clone();
                lines.insert(i % n, l);
            }
            Edit::ReplaceValue(i, t) => {
                let l = &mut lines[i % n];
                if let Some(eq) = l.find('=') {
                    *l = format!("{}= {}", &l[..eq], TOKENS[t]);
                }
            }
            Edit::Truncate(i) => {
                let l = &mut lines[i % n];
                let cut = i % (l.len() + 1);
                l.truncate(
                    l.char_indices()
                        .map(|(k, _)| k)
                        .take_while(|&k| k <= cut)
                        .last()
                        .unwrap_or(0),
                );
            }
        }
    }
    lines.join("\n")
}

proptest! {
    #![proptest_config(proptest_seed::config("config_fuzz", 200).0)]

    #[test]
    fn edited_experiments_parse_or_fail_cleanly(file in 0..FILES.len(), edits in proptest::collection::vec(edit(), 1..4)) {
        let text = apply(FILES[file], &edits);
        match hasim::config::parse(&text, "fuzz.toml") {
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("error: fuzz.toml"), "{msg}");
            }
            Ok(mut spec) => {
                // Runs too, shortened so that the test stays fast.
                spec.duration = spec.duration.min(hasim::engine::Dur::from_secs(5));
                let mut sim = hasim::sim::Sim::new(&spec, 1);
                sim.run();
                let _ = sim.finish();
            }
        }
    }
}
