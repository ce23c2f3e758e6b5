//! Patroni + etcd + HAProxy: the failover phases against the reference
//! formulas over many seeds, the validation case patroni-p1 against the
//! real Patroni 3.0.2, and the process-level scenarios of
//! shared/reference/patroni-etcd.md §3.

use crate::common;

use hasim::config::spec::NodeKind;
use hasim::engine::{Dur, SimTime};
use hasim::metrics::EventKind;
use hasim::products::Model;
use hasim::products::patroni::failover_breakdown;
use hasim::report::CheckTiming;
use hasim::report::RunResult;
use hasim::sim::Sim;
use std::path::Path;

/// Three Patroni members on one etcd behind HAProxy (tcp, `GET /primary`),
/// 50 POSTs/s from 20 s; `DURATION` to fill in, the pg table last.
pub(crate) const BASE: &str = r#"
[experiment]
duration = "DURATION"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
target = "lb"
rate = 50
method = "POST"
timeout = "5s"
start = "20s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
timeout_connect = "4s"
retries = 2
option_httpchk = "GET /primary"
on_marked_down = "shutdown-sessions"
[balancers.lb.default_server]
check = true
inter = "3s"
fall = 3
rise = 2
[databases.etcd]
type = "etcd"
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
"#;

fn exp(duration: &str, extra_pg: &str, faults: &str) -> hasim::config::spec::ExperimentSpec {
    let text = format!("{}{extra_pg}\n{faults}", BASE.replace("DURATION", duration));
    hasim::config::parse(&text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

fn events(r: &RunResult, kind: EventKind, after: f64) -> Vec<(f64, String)> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.kind == kind && e.at.as_secs_f64() >= after)
        .map(|e| (e.at.as_secs_f64(), e.component.clone()))
        .collect()
}

fn last_update(sim: &Sim, name: &str) -> f64 {
    let n = sim.nodes.iter().find(|n| n.name == name).unwrap();
    match &n.model {
        // The model keeps engine time; the experiment counts from the origin.
        Model::Patroni(p) => p.last_lock_update().secs_from(sim.origin),
        _ => panic!("not patroni"),
    }
}

/// Leader host killed at 40 s over many seeds: every phase inside the
/// analytic range of failover_breakdown (issue 3 item 8).
#[test]
fn failover_phases_match_the_analytic_breakdown_over_many_seeds() {
    let spec = exp(
        "90s",
        "",
        "[[faults]]\nkind = \"kill\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let (p, e) = pg_specs(&spec);
    let check = CheckTiming {
        inter: Dur::from_secs(3),
        fastinter: Dur::from_secs(3),
        rise: 2,
    };
    let phases = failover_breakdown(&p, &e, false, Some(check));
    let total = phases.last().unwrap();
    let (mut lo_seen, mut hi_seen) = (f64::MAX, 0.0f64);
    for seed in 1..=40 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let x = 40.0 - last_update(&sim, "pg1");
        let r = sim.finish();
        let lock = events(&r, EventKind::Elected, 40.0)
            .into_iter()
            .find(|(_, c)| c.starts_with("pg"))
            .expect("a new leader")
            .0;
        let promoted = events(&r, EventKind::Promoted, 40.0)[0].0;
        let up = events(&r, EventKind::MarkedUp, lock)[0].0;
        // Expiry: ttl after the last update_lock, + <= 0.5 s lessor; the
        // replica is woken by the watch and the dead (refused) member costs ~0.
        let expiry_rel = lock - 40.0;
        assert!(
            expiry_rel >= 30.0 - x - 0.01 && expiry_rel <= 30.0 - x + 0.51,
            "seed {seed}: lock at +{expiry_rel:.3}, x = {x:.3}"
        );
        assert!(
            (20.0 - 0.01..=30.6).contains(&expiry_rel),
            "phase 1 in [ttl-loop_wait, ttl+0.5]"
        );
        let promote = promoted - lock;
        assert!(
            (0.99..=1.01).contains(&promote),
            "pg_ctl promote 1 s, got {promote}"
        );
        // /primary is 200 from the lock: UP after (rise-1) x fastinter .. + inter.
        let rise = up - lock;
        assert!(
            (3.0..=6.01).contains(&rise),
            "seed {seed}: HAProxy UP {rise:.3}s after the lock"
        );
        let t = up - 40.0;
        lo_seen = lo_seen.min(t);
        hi_seen = hi_seen.max(t);
        assert!(
            t >= total.1.as_secs_f64() - 0.01 && t <= total.2.as_secs_f64() + 0.01,
            "seed {seed}: total {t:.3} outside {:?}",
            (total.1, total.2)
        );
    }
    println!("breakdown: {phases:#?}\nsimulated total over 40 seeds: {lo_seen:.2}..{hi_seen:.2}");
}

fn pg_specs(
    spec: &hasim::config::spec::ExperimentSpec,
) -> (
    hasim::products::patroni::config::PatroniSpec,
    hasim::products::etcd::config::EtcdSpec,
) {
    let mut p = None;
    let mut e = None;
    for n in spec.nodes.values() {
        match &n.kind {
            NodeKind::Patroni(x) => p = Some(x.clone()),
            NodeKind::Etcd(x) => e = Some(x.clone()),
            _ => {}
        }
    }
    (p.unwrap(), e.unwrap())
}

#[test]
fn a_config_breaking_the_ttl_rule_is_accepted_with_a_warning_naming_the_risk() {
    // Patroni 3.0.2 accepts it; the warning names the file, line and key.
    let bad = format!("{}ttl = \"20s\"\n", BASE.replace("DURATION", "30s"));
    let spec = hasim::config::parse(&bad, "t.toml").expect("accepted as 3.0.2 does");
    assert_eq!(spec.warnings.len(), 1);
    let w = &spec.warnings[0];
    assert!(
        w.starts_with("t.toml:") && w.contains("databases.pg.ttl"),
        "{w}"
    );
    assert!(
        w.contains("loop_wait + 2 x retry_timeout") && w.contains("two primaries"),
        "{w}"
    );
    assert!(w.contains("3.2"), "{w}");
    // The warning stays with the run's results, not only on stderr.
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let text = hasim::report::summary_text(&r);
    assert!(text.contains(&format!("warning: {w}")), "{text}");
    let json: serde_json::Value = serde_json::from_str(&hasim::report::summary_json(&r)).unwrap();
    assert_eq!(json["warnings"][0], w.as_str());
}

#[test]
fn postgres_crash_restarts_in_place_and_primary_keeps_answering_200() {
    let spec = exp(
        "70s",
        "",
        "[[faults]]\nkind = \"kill\"\nprocess = \"postgres\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    // No failover: pg1 keeps the key, promotes itself again.
    assert!(
        events(&r, EventKind::Elected, 40.0)
            .iter()
            .all(|(_, c)| !c.starts_with("pg"))
    );
    let p = events(&r, EventKind::Promoted, 40.0);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].1, "pg1");
    // Detected at the next cycle (< loop_wait) + crash recovery 1 s + start
    // 1.5 s + promote 1 s (the phases: tests/products/patroni_crash.rs).
    let t = p[0].0 - 40.0;
    assert!((3.5..=13.6).contains(&t), "back at +{t}");
    // HAProxy never marked it down: /primary stayed 200.
    assert!(events(&r, EventKind::MarkedDown, 40.0).is_empty());
    let h = r.history.unwrap();
    assert!(h.lost.is_empty() && h.split_brain_secs() == 0.0);
}

#[test]
fn primary_start_timeout_zero_fails_over_instead() {
    let spec = exp(
        "70s",
        "primary_start_timeout = \"0s\"",
        "[[faults]]\nkind = \"kill\"\nprocess = \"postgres\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let e = events(&r, EventKind::Elected, 40.0);
    assert!(e.iter().any(|(_, c)| c == "pg2" || c == "pg3"), "{e:?}");
    assert!(e[0].0 - 40.0 <= 10.5, "released at the next cycle");
}

#[test]
fn killing_patroni_alone_leaves_two_primaries_without_a_watchdog() {
    let spec = exp(
        "90s",
        "",
        "[[faults]]\nkind = \"kill\"\nprocess = \"patroni\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let h = r.history.unwrap();
    assert!(
        h.split_brain_secs() > 10.0,
        "scenario E: split brain {}",
        h.split_brain_secs()
    );
    // With the watchdog the host resets before the key expires.
    let spec = exp(
        "90s",
        "watchdog = \"required\"",
        "[[faults]]\nkind = \"kill\"\nprocess = \"patroni\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let h = sim.finish().history.unwrap();
    assert_eq!(h.split_brain_secs(), 0.0);
}

#[test]
fn a_leader_cut_off_from_etcd_demotes_before_its_key_expires() {
    let spec = exp(
        "100s",
        "",
        "[[faults]]\nkind = \"partition\"\ngroups = [[\"pg1\", \"lb\", \"app\"], [\"etcd\", \"pg2\", \"pg3\"]]\nat = \"40s\"\n",
    );
    for seed in 1..=5 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let x = 40.0 - last_update(&sim, "pg1");
        let r = sim.finish();
        let d = events(&r, EventKind::Demoted, 40.0);
        let t = d[0].0 - 40.0;
        // demote ~ (loop_wait - x) + retry_timeout (reference §3.C).
        assert!(
            (t - (10.0 - x + 10.0)).abs() < 0.2,
            "seed {seed}: demoted at +{t}, x {x}"
        );
        let h = r.history.unwrap();
        assert_eq!(h.split_brain_secs(), 0.0, "seed {seed}");
    }
}

#[test]
fn switchover_moves_the_key_in_seconds_and_loses_nothing() {
    let spec = exp(
        "60s",
        "",
        "[[faults]]\nkind = \"switchover\"\ntarget = \"pg\"\ncandidate = \"pg3\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let e = events(&r, EventKind::Elected, 40.0);
    assert_eq!(e[0].1, "pg3");
    // patronictl 1.5-2.6 s, the 0.5 s fast shutdown seen by the 1 s poll.
    assert!(e[0].0 - 40.0 < 3.7);
    let h = r.history.unwrap();
    assert!(h.lost.is_empty());
    assert_eq!(h.split_brain_secs(), 0.0);
}

/// The old primary refuses writes while HAProxy still sends them there:
/// PostgreSQL's SQLSTATEs, not MySQL numbers, in the counts and the summary.
#[test]
fn a_switchover_shows_postgres_codes_25006_and_57p03() {
    let spec = exp(
        "60s",
        "",
        "[[faults]]\nkind = \"switchover\"\ntarget = \"pg\"\ncandidate = \"pg3\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let read_only = common::kind(&r, "db_read_only");
    assert!(read_only > 0);
    assert_eq!(
        common::db_codes(&r, "db_read_only"),
        [("25006".to_string(), read_only)]
    );
    let not_ready = common::db_codes(&r, "db_not_ready");
    // Mostly "shutting down" (57P03) while the old primary stops; a session
    // busy at the fast shutdown is terminated (57P01).
    assert_eq!(not_ready[0].0, "57P03", "{not_ready:?}");
    assert!(
        not_ready.iter().all(|(c, _)| c == "57P03" || c == "57P01"),
        "{not_ready:?}"
    );
    let text = hasim::report::summary_text(&r);
    let want = format!("db_read_only: {read_only} (25006: {read_only})");
    assert!(text.contains(&want), "{text}");
    assert!(!text.contains("1290") && !text.contains("1047"), "{text}");
}

#[test]
fn synchronous_mode_loses_no_acknowledged_write_when_the_leader_dies() {
    let spec = exp(
        "90s",
        "synchronous_mode = true\nreplication_delay = \"300ms\"",
        "[[faults]]\nkind = \"kill\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let h = sim.finish().history.unwrap();
    assert!(h.lost.is_empty(), "{:?}", h.lost);
    assert!(h.writes_ok > 1000);
    // The same with async replication loses the writes in flight.
    let spec = exp(
        "90s",
        "replication_delay = \"300ms\"",
        "[[faults]]\nkind = \"kill\"\ntarget = \"pg1\"\nat = \"40s\"\n",
    );
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let h = sim.finish().history.unwrap();
    assert!(
        !h.lost.is_empty(),
        "async: the last ~300 ms of acknowledged writes are lost"
    );
}

// ------------------------------------------------------------ validation --

/// patroni-p1 with the pass rule of shared/validation/README.md: measured
/// min..max widened by 10% or 0.3 s (counts by 10%).
#[test]
fn patroni_p1_matches_the_real_patroni() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/validation");
    let case: toml::Table = std::fs::read_to_string(dir.join("measured/patroni-p1.toml"))
        .unwrap()
        .parse()
        .unwrap();
    let m = |k: &str| -> Vec<f64> {
        case["measured"][k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
            .collect()
    };
    let range = |v: &[f64], count: bool| {
        let lo = v.iter().cloned().fold(f64::MAX, f64::min);
        let hi = v.iter().cloned().fold(f64::MIN, f64::max);
        if count {
            ((lo * 0.9).floor(), (hi * 1.1).ceil())
        } else {
            let w = |x: f64| (x.abs() * 0.1).max(0.3);
            (lo - w(lo), hi + w(hi))
        }
    };
    // The dead leader's last lock refresh before the fault, from the logs
    // ("no action. I am (nX), the leader with the lock" lines): x.
    let measured_x = [8.400, 5.487, 3.924, 6.527, 3.879];
    let lock_plus_x: Vec<f64> = m("lock_acquired_s")
        .iter()
        .zip(measured_x)
        .map(|(l, x)| l + x)
        .collect();
    let spec = hasim::config::load(&dir.join("patroni-p1.toml")).unwrap();
    let mut problems = Vec::new();
    let mut phase_explained = Vec::new();
    for seed in 1..=5u64 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let fault = 30.0;
        let x = fault - last_update(&sim, "pg1");
        let r = sim.finish();
        let f = &r.faults[0];
        let rel = |t: Option<SimTime>| t.map_or(f64::NAN, |t| t.secs_from(f.at));
        let lock = events(&r, EventKind::Elected, fault)
            .iter()
            .find(|(_, c)| c.starts_with("pg"))
            .unwrap()
            .0
            - fault;
        let promoted = events(&r, EventKind::Promoted, fault)[0].0 - fault;
        let up = events(&r, EventKind::MarkedUp, fault)[0].0 - fault;
        let h = r.history.as_ref().unwrap();
        let closed = common::kind(&r, "closed") as f64;
        let failed = r.recorder.failed as f64;
        println!(
            "patroni-p1 seed {seed}: x {x:.2} failed {failed} (closed {closed}) first {:.3} last {:.3} down {:.3} lock {lock:.3} promoted {promoted:.3} up {up:.3} lost {}",
            rel(f.window.first_start),
            rel(f.window.last_start),
            rel(f.detected.as_ref().map(|d| d.at)),
            h.lost.len()
        );
        // Phase-free figures: strict.
        let strict = [
            (
                "detected_down_s",
                rel(f.detected.as_ref().map(|d| d.at)),
                false,
            ),
            ("first_failure_s", rel(f.window.first_start), false),
            ("lock_acquired_s + x", lock + x, false),
        ];
        for (k, got, count) in strict {
            let v = if k.starts_with("lock") {
                lock_plus_x.clone()
            } else {
                m(k)
            };
            let (lo, hi) = range(&v, count);
            if !(lo..=hi).contains(&got) {
                problems.push(format!(
                    "seed {seed}: {k} = {got:.3} outside {lo:.3}..{hi:.3}"
                ));
            }
        }
        if !h.lost.is_empty() || h.split_brain_secs() > 0.0 {
            problems.push(format!(
                "seed {seed}: lost {} split {}",
                h.lost.len(),
                h.split_brain_secs()
            ));
        }
        if closed < 0.9 * failed {
            problems.push(format!("seed {seed}: failures should be mostly closed"));
        }
        // Figures that follow the leader's loop phase x.
        let phased = [
            ("requests_failed", failed, true),
            ("last_failure_s", rel(f.window.last_start), false),
            ("lock_acquired_s", lock, false),
            ("promoted_s", promoted, false),
            ("lb_switched_s", up, false),
        ];
        for (k, got, count) in phased {
            let (lo, hi) = range(&m(k), count);
            if !(lo..=hi).contains(&got) {
                let msg =
                    format!("seed {seed}: {k} = {got:.3} outside {lo:.3}..{hi:.3} (x = {x:.2})");
                // The real trials' phases were x in 3.9..8.4 s.
                if (3.88..=8.4).contains(&x) {
                    problems.push(msg);
                } else {
                    phase_explained.push(msg);
                }
            }
        }
    }
    println!(
        "outside the measured range because the loop phase x was outside the trials' 3.9..8.4 s: {phase_explained:#?}"
    );
    assert!(problems.is_empty(), "{problems:#?}");
}

/// The reference's failover phases describe a failover: printed for a
/// cluster that lost its leader, not for one powered off as a whole.
#[test]
fn failover_phases_only_where_a_failover_can_happen() {
    let with_fault = |targets: &str| {
        let text = format!(
            r#"
[experiment]
duration = "60s"
[databases.etcd]
type = "etcd"
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
[[faults]]
kind = "power-off"
targets = {targets}
at = "20s"
"#
        );
        let spec = hasim::config::parse(&text, "p.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut sim = hasim::sim::Sim::new(&spec, 1);
        sim.run();
        sim.finish()
    };
    let one = with_fault(r#"["pg1"]"#);
    assert_eq!(one.breakdowns.len(), 1);
    assert!(hasim::report::summary_text(&one).contains("failover phases of pg"));
    let all = with_fault(r#"["pg1", "pg2", "pg3"]"#);
    assert!(all.breakdowns.is_empty());
    assert!(!hasim::report::summary_text(&all).contains("failover phases"));
}

/// The standard two-port layout: HAProxy `w` checks `/primary` for writes,
/// `r` checks `/replica` (with `extra_r` appended to its path) for reads.
fn two_ports(extra_pg: &str, replica_path: &str, faults: &str) -> String {
    format!(
        r#"[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.writer]
type = "open"
target = "w"
rate = 50
method = "POST"
timeout = "5s"
[clients.reader]
type = "open"
target = "r"
rate = 50
method = "GET"
timeout = "5s"
[balancers.w]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
option_httpchk = "GET /primary"
[balancers.w.default_server]
check = true
inter = "1s"
[balancers.r]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
option_httpchk = "GET {replica_path}"
[balancers.r.default_server]
check = true
inter = "1s"
[databases.etcd]
type = "etcd"
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
{extra_pg}
{faults}
"#
    )
}

/// Who served each client's operations: (writes by node name, reads by
/// node name).
fn served(sim: &Sim) -> (Vec<String>, Vec<String>) {
    let h = sim.rec.history.as_ref().expect("databases");
    let name = |n: u32| sim.nodes[n as usize].name.clone();
    let mut w: Vec<String> = Vec::new();
    let mut r: Vec<String> = Vec::new();
    for op in h.ops.iter().filter(|o| o.served_by != u32::MAX) {
        let list = if op.write { &mut w } else { &mut r };
        let n = name(op.served_by);
        if !list.contains(&n) {
            list.push(n);
        }
    }
    w.sort();
    r.sort();
    (w, r)
}

#[test]
fn two_ports_send_writes_to_the_primary_and_reads_to_the_replicas() {
    let spec = hasim::config::parse(&two_ports("", "/replica", ""), "t.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    assert_eq!(
        served(&sim),
        (vec!["pg1".into()], vec!["pg2".into(), "pg3".into()])
    );
    assert_eq!(sim.finish().recorder.failed, 0);
    // A tagged member leaves the read pool; /read-only takes the primary too.
    let tagged = two_ports("noloadbalance = [\"pg3\"]", "/replica", "");
    let mut sim = Sim::new(&hasim::config::parse(&tagged, "t.toml").unwrap(), 1);
    sim.run();
    assert_eq!(served(&sim).1, vec!["pg2".to_string()]);
    let ro = two_ports("", "/read-only", "");
    let mut sim = Sim::new(&hasim::config::parse(&ro, "t.toml").unwrap(), 1);
    sim.run();
    assert_eq!(served(&sim).1, vec!["pg1", "pg2", "pg3"]);
}

#[test]
fn the_read_port_follows_a_failover_and_the_old_primary_is_no_replica() {
    // pg1's host lost at 10 s: pg2 or pg3 promotes; /replica then answers
    // 503 on it, so reads end on the one replica left.
    let text = two_ports(
        "",
        "/replica",
        "[[faults]]\nkind = \"power-off\"\ntarget = \"pg1\"\nat = \"10s\"\n",
    );
    let mut sim = Sim::new(&hasim::config::parse(&text, "t.toml").unwrap(), 2);
    sim.run();
    let r = sim.finish();
    let promoted: Vec<String> = events(&r, EventKind::Promoted, 10.0)
        .into_iter()
        .map(|(_, c)| c)
        .collect();
    assert_eq!(promoted.len(), 1, "{promoted:?}");
    let marked_down = events(&r, EventKind::MarkedDown, 10.0);
    assert!(
        marked_down.iter().any(|(_, c)| c == "r")
            && r.recorder.events.iter().any(|e| e.component == "r"
                && e.subject == promoted[0]
                && e.kind == EventKind::MarkedDown),
        "the read port drops the new primary: {marked_down:?}"
    );
}

#[test]
fn a_check_path_patroni_does_not_serve_is_refused_at_its_key() {
    let err = |text: &str| hasim::config::parse(text, "t.toml").expect_err("refused");
    let e = err(&two_ports("", "/status", ""));
    assert_eq!(e.key, "balancers.r.option_httpchk");
    assert!(
        e.message.contains("503 whatever the node's state"),
        "{}",
        e.message
    );
    let e = err(&two_ports("", "/replica?tag_zone=a", ""));
    assert!(e.message.contains("tag queries"), "{}", e.message);
    let e = err(&two_ports("check_endpoint = \"/replica\"", "/replica", ""));
    assert_eq!(e.key, "databases.pg.check_endpoint");
    assert!(e.message.contains("option_httpchk"), "{}", e.message);
    // Lag bounds parse with Patroni's units.
    hasim::config::parse(&two_ports("", "/replica?lag=16MB", ""), "t.toml").unwrap();
}
