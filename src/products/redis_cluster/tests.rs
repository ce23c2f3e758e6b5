//! Redis Cluster through the whole pipeline: config, the registry, the
//! kernel's faults, the client library and the write history.

use super::*;
use crate::config::spec::ExperimentSpec;
use crate::products::Product;
use crate::report::RunResult;

/// 3 masters + 3 replicas on 3 hosts (as the example), NT 5 s, a writer
/// through the cluster library; `db` and `faults` are appended to the
/// database table and the file.
fn experiment(db: &str, faults: &str) -> String {
    format!(
        r#"
[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
library = "redis-cluster"
target = "rc"
rate = 100
method = "POST"
timeout = "1s"
start = "3s"
host = "vm1"
[databases.rc]
type = "redis-cluster"
count = 6
replicas_per_master = 1
hosts = ["vm1", "vm2", "vm3", "vm2", "vm3", "vm1"]
cluster_node_timeout = "5s"
{db}
{faults}
"#
    )
}

fn run(text: &str) -> RunResult {
    let spec = crate::config::parse(text, "rc.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = crate::sim::Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

fn parse_err(text: &str) -> crate::config::ConfigError {
    crate::config::parse(text, "rc.toml").unwrap_err()
}

fn events(r: &RunResult, kind: EventKind) -> Vec<(f64, &str, &str)> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.kind == kind)
        .map(|e| (e.at.as_secs_f64(), e.component.as_str(), e.subject.as_str()))
        .collect()
}

fn code_count(r: &RunResult, code: &str) -> u64 {
    let kind = crate::metrics::Outcome::Db(errors::CLUSTERDOWN.error)
        .failure_index()
        .expect("a failure");
    r.recorder
        .db_codes
        .of_kind(kind)
        .into_iter()
        .filter(|(e, _)| e.code.as_str() == code)
        .map(|(_, n)| n)
        .sum()
}

fn spec_of() -> RedisClusterSpec {
    let spec = crate::config::parse(&experiment("", ""), "rc.toml").expect("valid");
    match &spec.nodes["rc1"].kind {
        crate::products::NodeKind::RedisCluster(s) => s.clone(),
        _ => panic!("not a redis-cluster node"),
    }
}

const KILL_B: &str = "[[faults]]\nkind = \"kill\"\ntarget = \"rc2\"\nat = \"10s\"\n";

#[test]
fn the_layout_is_that_of_redis_cli() {
    let spec: ExperimentSpec = crate::config::parse(RedisCluster::EXAMPLE, "x.toml").unwrap();
    let crate::products::NodeKind::RedisCluster(s) = &spec.nodes["rc1"].kind else {
        panic!()
    };
    assert_eq!(s.masters, 3);
    assert_eq!(s.node_timeout, Dur::from_secs(5));
    // Member 4 (on vm2) replicates master 1 (on vm1), and so on.
    assert_eq!(shard_of_member(3, 3), 0);
    assert_eq!(shard_of_member(4, 3), 1);
    assert_eq!(shard_of_member(5, 3), 2);
    assert_eq!(spec.nodes["rc4"].host, "vm2");
}

#[test]
fn a_killed_master_is_failed_by_quorum_and_its_replica_takes_over() {
    let r = run(&experiment("", KILL_B));
    let fail = events(&r, EventKind::Evicted);
    let (t, _, about) = fail[0];
    assert_eq!(about, "rc2");
    // NT .. 2 x NT after the kill.
    assert!((15.0..=20.2).contains(&t), "FAIL at {t}");
    let promoted = events(&r, EventKind::Promoted);
    assert_eq!(promoted.len(), 1);
    let (p, who, _) = promoted[0];
    assert_eq!(who, "rc5", "B's replica");
    // 500 ms + U(0, 500 ms) + rank 0, on a cron tick.
    assert!(p - t >= 0.5 && p - t <= 1.2, "elected {:.3}s after FAIL", p - t);
    // Within the reference's phases (from the kill at 10 s).
    let rows = product::failover_breakdown(&spec_of());
    let (_, lo, hi) = rows.last().expect("a total");
    let took = Dur::from_secs_f64(p - 10.0);
    assert!(*lo <= took && took <= *hi, "{took} not in {lo}..{hi}");
    // B's slots refused until then, every slot CLUSTERDOWN in between.
    assert!(code_count(&r, "CLUSTERDOWN") > 0);
    assert!(r.recorder.failed > 0);
    let h = r.history.as_ref().unwrap();
    assert!(h.lost.is_empty(), "{:?}", h.lost);
    assert_eq!(h.clusters.len(), 3, "one data log per shard");
    assert!(h.clusters.iter().all(|c| c.split_brain.is_empty()));
}

#[test]
fn the_restarted_old_master_rejoins_as_a_replica_of_the_new_one() {
    let faults = "[[faults]]\nkind = \"kill\"\ntarget = \"rc2\"\nat = \"10s\"\nrecover_at = \"30s\"\n";
    let r = run(&experiment("", faults));
    let demoted = events(&r, EventKind::Demoted);
    assert_eq!(demoted.len(), 1);
    assert_eq!(demoted[0].1, "rc2");
    assert!(demoted[0].0 >= 30.0 && demoted[0].0 < 30.3, "{demoted:?}");
    let up = events(&r, EventKind::MarkedUp);
    assert!(up.iter().any(|e| e.2 == "rc2" && e.0 < 30.3), "{up:?}");
    // The new master keeps serving: nothing fails after the restart.
    let f = &r.faults[1];
    assert_eq!(f.window.failed, 0, "{:?}", f.window);
    assert!(r.history.as_ref().unwrap().lost.is_empty());
}

#[test]
fn without_full_coverage_only_the_dead_slots_fail() {
    let r = run(&experiment("cluster_require_full_coverage = false", KILL_B));
    assert_eq!(code_count(&r, "CLUSTERDOWN"), 0);
    assert!(r.recorder.failed > 0, "B's slots refused until the failover");
}

#[test]
fn no_failover_keeps_the_slots_down_and_the_cluster_down() {
    let r = run(&experiment("cluster_replica_no_failover = true", KILL_B));
    assert!(events(&r, EventKind::Promoted).is_empty());
    // Full coverage: from FAIL on, every slot answers CLUSTERDOWN.
    let down = code_count(&r, "CLUSTERDOWN");
    assert!(down > 2_000, "{down} CLUSTERDOWN");
}

#[test]
fn a_stale_replica_does_not_fail_over() {
    // B's replica (on vm3) hears nothing from B (vm2) from 5 s on; B dies
    // at 30 s. At FAIL its data is ~20 s old, beyond 1 s + 5 s x 1.
    let db = "cluster_replica_validity_factor = 1\nrepl_ping_replica_period = \"1s\"";
    let faults = "[[faults]]\nkind = \"partition\"\ngroups = [[\"vm2\"], [\"vm3\"]]\nat = \"5s\"\n\
                  [[faults]]\nkind = \"kill\"\ntarget = \"rc2\"\nat = \"30s\"\n";
    let r = run(&experiment(db, faults));
    assert!(events(&r, EventKind::Evicted).iter().any(|e| e.2 == "rc2"));
    assert!(events(&r, EventKind::Promoted).is_empty());
    // With the default factor (10) it would.
    let r = run(&experiment("repl_ping_replica_period = \"1s\"", faults));
    assert_eq!(events(&r, EventKind::Promoted).len(), 1);
}

#[test]
fn a_master_cut_off_in_a_minority_takes_writes_until_it_sees_it_then_loses_them() {
    // vm1 (master A and C's replica) alone with the client, for 30 s.
    let faults = "[[faults]]\nkind = \"partition\"\ngroups = [[\"vm1\"], [\"vm2\", \"vm3\"]]\nat = \"10s\"\nrecover_at = \"40s\"\n";
    let r = run(&experiment("", faults));
    // The majority fails A over to its replica on vm2.
    assert!(
        events(&r, EventKind::Promoted)
            .iter()
            .any(|e| e.1 == "rc4")
    );
    // A stops taking writes once it flags the other masters PFAIL.
    let lost = events(&r, EventKind::QuorumLost);
    let a_down = lost.iter().find(|e| e.1 == "rc1").expect("A goes to fail");
    assert!(a_down.0 > 15.0 && a_down.0 < 18.0, "{a_down:?}");
    // Healed: A turns into a replica of the new master and drops what it
    // took meanwhile.
    assert!(events(&r, EventKind::Demoted).iter().any(|e| e.1 == "rc1"));
    let h = r.history.as_ref().unwrap();
    assert!(!h.lost.is_empty());
    assert!(h.lost.iter().all(|&(_, at)| at.as_secs_f64() > 10.0 && at.as_secs_f64() < 18.0));
    // Only A's slots: the others' writes timed out on the minority side.
    assert!(
        h.lost
            .iter()
            .all(|&(op, _)| slot::shard_of(slot::of_op(op), 3) == 0)
    );
}

#[test]
fn bad_layouts_are_refused_with_their_key() {
    let e = parse_err(&experiment("", "").replace("replicas_per_master = 1", "replicas_per_master = 3"));
    assert_eq!(e.key, "databases.rc.replicas_per_master");
    let e = parse_err(&experiment("", "").replace("replicas_per_master = 1", "masters = 2"));
    assert!(e.to_string().contains("at least 3 masters"), "{e}");
    let e = parse_err(&experiment("masters = 3", ""));
    assert!(e.to_string().contains("not both"), "{e}");
}

#[test]
fn a_cluster_library_needs_a_redis_cluster_target() {
    let text = experiment("", "").replace("target = \"rc\"", "target = \"rc1\"");
    let e = parse_err(&text);
    assert_eq!(e.key, "clients.app.target");
    let text = experiment("", "").replace("library = \"redis-cluster\"\n", "connect_timeout = \"1s\"\n");
    let e = parse_err(&text);
    assert_eq!(e.key, "clients.app.connect_timeout");
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let text = experiment("", KILL_B);
    let a = crate::report::summary_json(&run(&text));
    assert_eq!(a, crate::report::summary_json(&run(&text)));
}

#[test]
fn reads_pass_while_the_cluster_is_down_when_allowed() {
    let reader = "[clients.reader]\ntype = \"open\"\nlibrary = \"redis-cluster\"\ntarget = \"rc\"\n\
                  rate = 100\ntimeout = \"1s\"\nstart = \"3s\"\nhost = \"vm1\"\n";
    let text = |allow: bool| {
        let db = format!("cluster_replica_no_failover = true\ncluster_allow_reads_when_down = {allow}");
        format!("{}{reader}", experiment(&db, KILL_B))
    };
    let h = |r: &RunResult| r.history.as_ref().unwrap().reads;
    let (denied, allowed) = (run(&text(false)), run(&text(true)));
    // B stays down: every slot is down from FAIL on; reads of A's and C's
    // slots still pass when allowed.
    assert!(h(&allowed) > h(&denied) + 1_000, "{} vs {}", h(&allowed), h(&denied));
}
