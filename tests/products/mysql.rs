//! MySQL / MariaDB asynchronous replication (shared/reference/mysql-replication.md):
//! read-only replicas, lag that grows with the write load, stale reads, no
//! automatic failover, semi-synchronous commits.

use crate::common;

use common::{kind, run};
use hasim::metrics::history::HistoryReport;

/// A primary fed by a writer, and a reader on replica `db2`; `extra` is
/// appended to the database table.
fn topology(write_rate: u32, read_target: &str, extra: &str, faults: &str) -> String {
    format!(
        r#"
[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.writer]
type = "open"
target = "db1"
rate = {write_rate}
method = "POST"
timeout = "5s"
[clients.reader]
type = "open"
target = "{read_target}"
rate = 100
timeout = "5s"
[databases.db]
type = "mysql"
count = 3
service = {{ dist = "constant", value = "1ms" }}
apply = {{ dist = "constant", value = "2ms" }}
{extra}
{faults}
"#
    )
}

fn history(r: &hasim::report::RunResult) -> &HistoryReport {
    r.history
        .as_ref()
        .expect("a database experiment keeps a history")
}

#[test]
fn lag_and_stale_reads_grow_with_the_write_rate() {
    // One SQL thread at 2 ms per event applies at most 500 writes/s.
    let light = run(&topology(50, "db2", "", ""));
    let heavy = run(&topology(600, "db2", "", ""));
    let (l, h) = (history(&light), history(&heavy));
    assert!(l.reads > 5_000 && h.reads > 5_000);
    let (lf, hf) = (
        l.stale_reads as f64 / l.reads as f64,
        h.stale_reads as f64 / h.reads as f64,
    );
    // Light load: a read is stale only within a few ms of a write.
    assert!(lf < 0.3, "light load stale fraction {lf}");
    // Past the apply rate the replica falls further behind every second.
    assert!(hf > 0.95, "heavy load stale fraction {hf}");
    assert!(
        light
            .recorder
            .events
            .iter()
            .all(|e| !e.detail.contains("Seconds_Behind_Master 5"))
    );
    assert!(
        heavy
            .recorder
            .events
            .iter()
            .any(|e| e.detail.starts_with("Seconds_Behind_Master")),
        "the growing lag is logged"
    );
}

#[test]
fn reads_on_the_primary_are_never_stale() {
    let r = run(&topology(200, "db1", "", ""));
    let h = history(&r);
    assert!(h.reads > 5_000);
    assert_eq!(h.stale_reads, 0);
}

#[test]
fn writes_to_a_replica_fail_with_read_only() {
    let text = topology(50, "db2", "", "").replace(
        "[clients.writer]\ntype = \"open\"\ntarget = \"db1\"",
        "[clients.writer]\ntype = \"open\"\ntarget = \"db2\"",
    );
    let r = run(&text);
    assert!(kind(&r, "db_read_only") > 2_900, "{:?}", r.recorder.by_kind);
    assert_eq!(history(&r).writes_ok, 0);
}

#[test]
fn a_dead_primary_is_not_replaced() {
    let faults = "[[faults]]\nkind = \"kill\"\ntarget = \"db1\"\nat = \"20s\"";
    let r = run(&topology(50, "db2", "", faults));
    let h = history(&r);
    // Every write after the kill is refused; reads on the replica go on.
    assert!(kind(&r, "refused") >= 39 * 50, "{:?}", r.recorder.by_kind);
    let no_primary = h.no_primary_secs();
    assert!(
        (no_primary - 40.0).abs() < 0.01,
        "no writable primary for {no_primary} s"
    );
    assert!(h.lost.is_empty());
    assert!(
        r.recorder
            .events
            .iter()
            .all(|e| e.kind.name() != "promoted")
    );
}

#[test]
fn a_replica_back_from_a_crash_catches_up() {
    // Even healthy, a read on the replica misses the write acknowledged just
    // before it while the SQL thread still applies it (2 ms of each 20 ms).
    let calm = history(&run(&topology(50, "db2", "", ""))).stale_reads;
    let faults =
        "[[faults]]\nkind = \"kill\"\ntarget = \"db2\"\nat = \"10s\"\nrecover_after = \"20s\"";
    let r = run(&topology(50, "db2", "", faults));
    let h = history(&r);
    // While db2 is down its reads are refused; after the restart it fetches
    // the 1,000 writes it missed in 2 s and its reads are fresh again.
    assert!(kind(&r, "refused") >= 19 * 100);
    let extra = h.stale_reads as f64 - calm as f64 * 40.0 / 60.0;
    assert!(
        (100.0..=300.0).contains(&extra),
        "stale reads beyond the calm rate: {extra} (calm {calm})"
    );
    assert!(h.lost.is_empty());
}

#[test]
fn a_partitioned_replica_fetches_what_it_missed_when_the_link_returns() {
    let calm = history(&run(&topology(50, "db2", "", ""))).stale_reads;
    let faults = r#"[[faults]]
kind = "partition"
groups = [["db1"], ["db2"]]
at = "10s"
recover_after = "5s""#;
    let r = run(&topology(50, "db2", "", faults));
    let h = history(&r);
    // Every read of the 5 s cut is stale (500); after the heal the next event
    // shows the gap, the replica asks for the rest at once and applies the
    // 250 missed writes in 0.5 s.
    let extra = h.stale_reads as i64 - calm as i64;
    assert!(
        (450..=650).contains(&extra),
        "stale beyond calm: {extra} (calm {calm})"
    );
}

#[test]
fn semi_sync_holds_commits_until_a_replica_has_them_then_gives_up() {
    let faults = r#"[[faults]]
kind = "partition"
groups = [["db1"], ["db2", "db3"]]
at = "10s"
recover_after = "30s""#;
    let r = run(&topology(
        50,
        "db1",
        "rpl_semi_sync_master_enabled = true\nrpl_semi_sync_master_timeout = \"3s\"",
        faults,
    ));
    // Writes in the first 3 s of the cut wait for the timeout (latency ~3 s,
    // within the 5 s client timeout), then the primary goes asynchronous.
    assert!(r.recorder.overall.max_ms() > 2_900.0);
    assert!(
        r.recorder
            .events
            .iter()
            .any(|e| e.detail.contains("semi-sync replication switched OFF"))
    );
    assert!(
        r.recorder
            .events
            .iter()
            .any(|e| e.detail.contains("Semi-sync replication switched ON")),
        "back on once a replica caught up after the heal"
    );
    assert_eq!(kind(&r, "timeout"), 0);
}

#[test]
fn a_primary_that_is_not_a_member_is_refused() {
    let text = topology(50, "db2", "primary = \"db9\"", "");
    let err = hasim::config::parse(&text, "test.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test.toml:") && err.contains("databases.db.primary"),
        "{err}"
    );
    assert!(err.contains("`db9` is not a member of `db`"), "{err}");
}

#[test]
fn writable_replicas_are_accepted_with_a_warning_naming_the_risk() {
    let text = topology(50, "db2", "read_only = false", "");
    let spec = hasim::config::parse(&text, "test.toml").expect("MariaDB accepts it");
    assert_eq!(spec.warnings.len(), 1);
    let w = &spec.warnings[0];
    assert!(
        w.starts_with("test.toml:") && w.contains("databases.db.read_only"),
        "{w}"
    );
    assert!(w.contains("diverges silently"), "{w}");
}
