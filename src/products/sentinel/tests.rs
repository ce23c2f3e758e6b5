//! Sentinel, Redis and the Sentinel-aware library through the whole
//! pipeline: experiment text, presets, readers, the run, the history.

use super::Sentinel;
use crate::products::Product;
use crate::products::redis::Redis;
use crate::products::redis::errors::READONLY;
use crate::report::RunResult;

fn run(text: &str, seed: u64) -> RunResult {
    let spec = crate::config::parse(text, "sentinel.toml").unwrap();
    let mut sim = crate::sim::Sim::new(&spec, seed);
    sim.run();
    sim.finish()
}

fn events<'a>(r: &'a RunResult, what: &str) -> Vec<(f64, &'a str)> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.detail.starts_with(what))
        .map(|e| (e.at.as_secs_f64(), e.component.as_str()))
        .collect()
}

#[test]
fn a_killed_master_is_failed_over_and_the_library_follows() {
    let r = run(Sentinel::EXAMPLE, 1);
    let sdown = events(&r, "+sdown master");
    let switch = events(&r, "+switch-master");
    // Killed at 5 s: SDOWN after down-after (5 s) + up to 0.2 s.
    assert!(sdown.iter().all(|&(t, _)| (10.0..10.3).contains(&t)), "{sdown:?}");
    // Every sentinel switches, within a few seconds of the SDOWN.
    assert_eq!(switch.len(), 3, "{switch:?}");
    assert!(switch.iter().all(|&(t, _)| t < 13.5), "{switch:?}");
    let fault = &r.faults[0];
    let end = fault.window.last_start.unwrap().secs_from(fault.at);
    assert!((5.0..7.5).contains(&end), "error window ends at {end}");
    let h = r.history.as_ref().unwrap();
    assert!(h.lost.is_empty(), "{:?}", h.lost);
    // The old master restarts empty as a master and is converted ~10 s later.
    let convert = events(&r, "+convert-to-slave");
    assert!(
        convert.first().is_some_and(|&(t, _)| (29.0..32.0).contains(&t)),
        "{convert:?}"
    );
    let split = &h.clusters[0].split_brain;
    assert_eq!(split.len(), 1, "writable old master: {split:?}");
}

#[test]
fn a_master_restarted_without_persistence_wipes_its_replicas() {
    // No sentinels: the replicas reconnect to the empty master and take
    // its (empty) dataset by full resync.
    let r = run(Redis::EXAMPLE, 1);
    let h = r.history.as_ref().unwrap();
    assert!(h.lost.len() > 200, "{} lost", h.lost.len());
    assert!(h.stale_reads > 0);
    // Writes sent to a replica: -READONLY.
    let kind = crate::metrics::Outcome::Db(READONLY.error)
        .failure_index()
        .unwrap();
    let codes = r.recorder.db_codes.of_kind(kind);
    assert!(codes.iter().any(|&(e, n)| e == READONLY.error && n > 0), "{codes:?}");
}

#[test]
fn with_persistence_the_restarted_master_keeps_its_data() {
    let text = Redis::EXAMPLE.replace("count = 3\n", "count = 3\npersistence = \"aof\"\n");
    let r = run(&text, 1);
    assert!(r.history.as_ref().unwrap().lost.is_empty());
}

const PARTITION: &str = include_str!("../../../experiments/sentinel-partition.toml");

#[test]
fn min_replicas_bounds_the_writes_an_isolated_master_loses() {
    let r = run(PARTITION, 1);
    let h = r.history.as_ref().unwrap();
    let ops = &r.recorder.history.as_ref().unwrap().ops;
    // Writes of client appa (client 0) and appb (client 1) lost.
    let lost_by = |client: u32| {
        h.lost
            .iter()
            .filter(|&&(op, _)| ops[op as usize].client == client)
            .count()
    };
    let (a, b) = (lost_by(0), lost_by(1));
    // a: the whole partition (40 s at 50/s) until the old master is
    // converted; b: about min-replicas-max-lag (10 s).
    assert!(a > 1800, "a lost {a}");
    assert!((300..700).contains(&b), "b lost {b}");
}

fn refused(text: &str) -> crate::config::ConfigError {
    crate::config::parse(text, "sentinel.toml").unwrap_err()
}

#[test]
fn a_quorum_larger_than_the_sentinels_is_refused() {
    let e = refused(&Sentinel::EXAMPLE.replace("quorum = 2", "quorum = 4"));
    assert_eq!(e.key, "databases.sentinel.quorum");
    assert!(e.message.contains("more than the 3 sentinels"), "{}", e.message);
    assert!(e.line > 0);
}

#[test]
fn a_sentinel_monitoring_what_is_not_a_redis_group_is_refused() {
    let e = refused(&Sentinel::EXAMPLE.replace("monitor = \"cache\"", "monitor = \"sentinel\""));
    assert_eq!(e.key, "databases.sentinel.monitor");
    assert!(e.message.contains("expected a redis cluster"), "{}", e.message);
    let e = refused(&Sentinel::EXAMPLE.replace("monitor = \"cache\"", "monitor = \"cahce\""));
    assert_eq!(e.key, "databases.sentinel.monitor");
    assert!(e.message.contains("no database cluster named `cahce`"), "{}", e.message);
}

#[test]
fn the_library_needs_a_sentinel_group() {
    // `target` names what the library is given: the sentinel group.
    let e = refused(&Sentinel::EXAMPLE.replace(
        "target = \"sentinel\"\nlibrary",
        "target = \"cache\"\nlibrary",
    ));
    assert_eq!(e.key, "clients.app.target");
    assert!(e.message.contains("expected a sentinel cluster"), "{}", e.message);
    let e = refused(&Redis::EXAMPLE.replace(
        "target = \"cache1\"\n",
        "target = \"cache1\"\nsentinel_timeout = \"1s\"\n",
    ));
    assert_eq!(e.key, "clients.writer.sentinel_timeout");
}

#[test]
fn min_replicas_beyond_the_replicas_is_refused() {
    let e = refused(&Redis::EXAMPLE.replace("count = 3\n", "count = 3\nmin_replicas_to_write = 3\n"));
    assert_eq!(e.key, "databases.cache.min_replicas_to_write");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = run(Sentinel::EXAMPLE, 7);
    let b = run(Sentinel::EXAMPLE, 7);
    assert_eq!(a.recorder.events.len(), b.recorder.events.len());
    assert_eq!(a.recorder.failed, b.recorder.failed);
}

const FAILOVER: &str = include_str!("../../../experiments/sentinel-failover.toml");

#[test]
fn haproxy_role_master_check_marks_the_new_master_up_and_the_returning_old_one_too() {
    let r = run(FAILOVER, 1);
    let up: Vec<(f64, &str)> = r
        .recorder
        .events
        .iter()
        .filter(|e| e.component == "haproxy" && e.detail.contains("is UP"))
        .map(|e| (e.at.as_secs_f64(), e.subject.as_str()))
        .collect();
    // The promoted replica after its promotion, the old master once back
    // (power-on at 60 s), before it is converted.
    assert!(up.iter().any(|&(t, n)| n != "cache1" && (25.0..30.0).contains(&t)), "{up:?}");
    assert!(up.iter().any(|&(t, n)| n == "cache1" && (60.0..65.0).contains(&t)), "{up:?}");
    let down: Vec<&str> = r
        .recorder
        .events
        .iter()
        .filter(|e| e.component == "haproxy" && e.detail.contains("is DOWN"))
        .map(|e| e.detail.as_str())
        .collect();
    assert!(down.iter().any(|d| d.contains("Layer7 timeout")), "{down:?}");
    // Writes HAProxy sent to the old master are lost at its conversion.
    assert!(!r.history.as_ref().unwrap().lost.is_empty());
}

#[test]
fn a_role_master_check_beside_httpchk_is_refused() {
    let text = FAILOVER.replace(
        "tcp_check_expect = \"role:master\"",
        "tcp_check_expect = \"role:master\"\noption_httpchk = \"GET /\"",
    );
    let e = refused(&text);
    assert_eq!(e.key, "balancers.haproxy.tcp_check_expect");
}

#[test]
fn replica_priority_picks_the_replica_sentinel_promotes() {
    for (prio, promoted) in [("[100, 100, 50]", "cache3"), ("[100, 0, 100]", "cache3"), ("[100, 10, 100]", "cache2")] {
        let text = Sentinel::EXAMPLE.replace(
            "type = \"redis\"\ncount = 3\n",
            &format!("type = \"redis\"\ncount = 3\nreplica_priority = {prio}\n"),
        );
        let r = run(&text, 3);
        let p = events(&r, "+selected-slave");
        assert!(!p.is_empty());
        let sel = r
            .recorder
            .events
            .iter()
            .find(|e| e.detail.starts_with("+selected-slave"))
            .unwrap();
        assert_eq!(sel.subject, promoted, "{prio}");
    }
    let e = refused(&Sentinel::EXAMPLE.replace(
        "type = \"redis\"\ncount = 3\n",
        "type = \"redis\"\ncount = 3\nreplica_priority = [1, 2]\n",
    ));
    assert_eq!(e.key, "databases.cache.replica_priority");
}

#[test]
fn a_failed_election_blocks_the_next_attempt_for_twice_the_failover_timeout() {
    // The master's host is lost with sentinel1; sentinel2 and sentinel3
    // cannot reach each other: each reaches ODOWN alone (quorum 1), votes
    // for itself, gets 1 vote of the 2 needed and gives up after
    // min(10 s, failover-timeout); the next attempt waits 2 x 10 s.
    let text = Sentinel::EXAMPLE
        .replace("quorum = 2", "quorum = 1")
        .replace("failover_timeout = \"60s\"", "failover_timeout = \"10s\"")
        .replace(
            "[[faults]]\nkind = \"kill\"\ntarget = \"cache1\"\nat = \"5s\"\nrecover_at = \"20s\"\n",
            "[[faults]]\nkind = \"power-off\"\ntarget = \"cache1\"\nat = \"5s\"\n\
             [[faults]]\nkind = \"partition\"\ngroups = [[\"cache2\"], [\"cache3\"]]\nat = \"4s\"\nrecover_at = \"25s\"\n",
        );
    let r = run(&text, 1);
    let aborts = events(&r, "-failover-abort-not-elected");
    let tries = events(&r, "+try-failover");
    let switch = events(&r, "+switch-master");
    assert!(aborts.len() >= 2, "both candidates give up: {aborts:?}");
    let first = tries[0].0;
    assert!(aborts.iter().all(|&(t, _)| t >= first + 10.0), "{aborts:?}");
    // No new attempt by the same sentinel within 2 x failover-timeout.
    for &(t, who) in &tries {
        for &(u, w) in &tries {
            assert!(w != who || u <= t || u - t >= 19.0, "{tries:?}");
        }
    }
    // Healed at 25 s: the next attempt (20 s after the first) wins.
    assert!(switch.first().is_some_and(|&(t, _)| t > first + 20.0), "{switch:?} {tries:?}");
}
