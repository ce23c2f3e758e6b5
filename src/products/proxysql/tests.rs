//! ProxySQL through the whole pipeline: the writer moving when its node is
//! lost, error 9001 while no writer is left, shunning, reads on the readers,
//! and the reader's refusals.

use crate::config::parse;
use crate::metrics::{EventKind, StateEvent};
use crate::report::RunResult;

const S: u64 = 1_000_000_000;

/// ProxySQL over three Galera nodes with writers and readers as clients,
/// `px` appended to its table, `extra` after everything.
fn topology(px: &str, extra: &str) -> String {
    format!(
        r#"[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.w]
type = "open"
target = "px"
rate = 50
method = "POST"
timeout = "30s"
[clients.r]
type = "open"
target = "px"
rate = 50
method = "GET"
timeout = "30s"
[balancers.px]
type = "proxysql"
galera = "g"
{px}
[databases.g]
type = "galera"
count = 3
{extra}"#
    )
}

fn run(text: &str) -> RunResult {
    let spec = parse(text, "px.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = crate::sim::Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

fn events<'r>(r: &'r RunResult, kind: EventKind, subject: &str) -> Vec<&'r StateEvent> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.component == "px" && e.kind == kind && e.subject == subject)
        .collect()
}

fn power_off_g1(at: u64, back: Option<u64>) -> String {
    let mut s = format!("[[faults]]\nkind = \"power-off\"\ntarget = \"g1\"\nat = \"{at}s\"\n");
    if let Some(b) = back {
        s += &format!("recover_at = \"{b}s\"\n");
    }
    s
}

#[test]
fn the_writer_moves_after_max_timeout_count_galera_checks_time_out() {
    let r = run(&topology("", &power_off_g1(20, None)));
    let promoted = events(&r, EventKind::Promoted, "g2");
    assert_eq!(promoted.len(), 1, "g2 becomes the writer once");
    let t = promoted[0].at.0;
    // Three checks (5 s apart) time out after 800 ms each: between
    // 2 x interval + timeout and 3 x interval + timeout after the loss.
    assert!(
        (20 * S + 10_800_000_000..=20 * S + 15_800_000_000).contains(&t),
        "moved at {t}"
    );
    // Never two writers: g1 left the writer hostgroup at that same instant.
    let offline = events(&r, EventKind::MarkedDown, "g1");
    assert!(offline.iter().any(|e| e.at.0 == t && e.detail.contains("offline")));
    // Writes queued for the lost writer got 9001 after connect_timeout_server_max.
    let h = r.history.as_ref().expect("history");
    assert_eq!(h.lost.len(), 0);
    let s = crate::report::summary::summary_text(&r);
    assert!(s.contains("9001"), "{s}");
}

#[test]
fn a_killed_writer_is_shunned_by_traffic_before_the_galera_check() {
    let text = topology("", "[[faults]]\nkind = \"kill\"\ntarget = \"g1\"\nat = \"20s\"\n");
    let r = run(&text);
    let shunned = events(&r, EventKind::MarkedDown, "g1");
    assert!(shunned[0].detail.contains("SHUNNED"), "{}", shunned[0].detail);
    // 5 refused connects within one second at 50 writes/s (and retries).
    assert!(shunned[0].at.0 < 21 * S, "shunned at {}", shunned[0].at.0);
}

#[test]
fn no_reader_means_9001_for_reads() {
    // writer_is_also_reader = 0 and every node writable: the reader
    // hostgroup stays empty, so every read waits connect_timeout_server_max.
    let r = run(&topology("writer_is_also_reader = 0", ""));
    let s = crate::report::summary::summary_text(&r);
    assert!(s.contains("9001"), "{s}");
    let r = run(&topology("writer_is_also_reader = 1", ""));
    let s = crate::report::summary::summary_text(&r);
    assert!(!s.contains("9001"), "{s}");
}

#[test]
fn bad_input_is_refused_with_file_line_and_key() {
    let err = |px: &str| parse(&topology(px, ""), "px.toml").expect_err("refused");
    let e = err("reader_hostgroup = 10");
    assert_eq!((e.key.as_str(), e.line), ("balancers.px.reader_hostgroup", 20));
    assert!(e.message.contains("writer_hostgroup"), "{}", e.message);
    let e = err("writer_is_also_reader = 3");
    assert_eq!(e.key, "balancers.px.writer_is_also_reader");
    let e = err("connect_timeout_server_max = \"500ms\"");
    assert_eq!(e.key, "balancers.px.connect_timeout_server_max");
    let e = err("max_transactions_behind = 10");
    assert!(e.message.contains("not modelled"), "{}", e.message);
    let e = err("servers = [\"g\"]");
    assert_eq!(e.key, "balancers.px.servers");
    let text = topology("", "").replace("galera = \"g\"", "galera = \"w\"");
    let e = parse(&text, "px.toml").expect_err("refused");
    assert_eq!(e.key, "balancers.px.galera");
}
