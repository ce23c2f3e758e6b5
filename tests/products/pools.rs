//! Connection pools: an app keeps connections to its database open through
//! HAProxy in tcp mode, each bound to the server chosen when it was opened.

use crate::common;

use common::kind;
use hasim::report::RunResult;
use hasim::sim::Sim;

/// `pool`: keys of the app's call (e.g. `pool = 8`, `timeout = "45s"`);
/// `haproxy_extra`: keys of the balancer's table.
fn run(pool: &str, haproxy_extra: &str, fault: &str) -> RunResult {
    let timeout = if pool.contains("timeout") {
        ""
    } else {
        "timeout = \"3s\""
    };
    let (client_timeout, server_timeout) = if haproxy_extra.contains("timeout_client") {
        ("", "")
    } else {
        ("timeout_client = \"50s\"", "timeout_server = \"50s\"")
    };
    let text = format!(
        r#"
[experiment]
duration = "40s"
[clients.c]
type = "open"
target = "app1"
rate = 800
arrivals = "constant"
timeout = "30s"
[apps.app1]
workers = 64
service = "1ms"
[[apps.app1.calls]]
target = "lb"
connect_timeout = "5s"
{timeout}
{pool}
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["db"]
timeout_connect = "5s"
{client_timeout}
{server_timeout}
{haproxy_extra}
[balancers.lb.default_server]
check = true
[servers.db]
count = 3
workers = 16
service = "5ms"
{fault}
"#
    );
    let spec = hasim::config::parse(&text, "pools.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

const POWER_OFF: &str = "[[faults]]\nkind = \"power-off\"\ntarget = \"db2\"\nat = \"10s\"";

#[test]
fn a_killed_database_fails_only_the_queries_in_flight_on_its_connections() {
    let r = run(
        "pool = 8",
        "",
        "[[faults]]\nkind = \"kill\"\ntarget = \"db2\"\nat = \"10s\"",
    );
    // RST on every connection to db2: the queries on them fail at once and
    // the idle ones leave the pool. A new connection sent to db2 before it is
    // marked down is refused 4 times by HAProxy (3 turn-arounds, 3 s).
    let w = &r.faults[0].window;
    let down = r.faults[0].detected.as_ref().expect("db2 marked down").at;
    assert!(
        r.recorder.failed > 0 && r.recorder.failed < 20,
        "{:?}",
        r.recorder.by_kind
    );
    assert!(w.last_end.unwrap() <= down + hasim::engine::Dur::from_ms(3001));
}

#[test]
fn pooled_connections_to_a_lost_host_hang_until_the_driver_times_out() {
    let pooled = run("pool = 8", "", POWER_OFF);
    let fresh = run("", "", POWER_OFF);
    // Pooled: queries on connections bound to db2 wait the driver's 3 s read
    // timeout; per-request connections to db2 wait HAProxy's retry loop
    // (EHOSTUNREACH after 3 s, 1 s turn-around, 4 attempts) until db2 is DOWN.
    let max_pooled = pooled.recorder.overall.max_ms();
    assert!(
        (3000.0..3100.0).contains(&max_pooled),
        "pooled max {max_pooled}"
    );
    assert!(
        fresh.recorder.overall.max_ms() > 3100.0,
        "fresh max {}",
        fresh.recorder.overall.max_ms()
    );
    assert!(kind(&pooled, "500") > 0);
    assert!(
        fresh.recorder.failed > pooled.recorder.failed,
        "{} vs {}",
        fresh.recorder.failed,
        pooled.recorder.failed
    );
}

#[test]
fn shutdown_sessions_frees_pooled_connections_when_the_server_is_marked_down() {
    // The app's read timeout (3 s) is longer than the check period; with a
    // 50 s driver timeout the difference is stark: without shutdown-sessions
    // the pooled queries to db2 hang until timeout server / the driver.
    let hang = run("pool = 8\ntimeout = \"45s\"", "", POWER_OFF);
    let cut = run(
        "pool = 8\ntimeout = \"45s\"",
        "on_marked_down = \"shutdown-sessions\"",
        POWER_OFF,
    );
    let down = cut.faults[0].detected.as_ref().expect("db2 marked down").at;
    assert!(cut.faults[0].window.last_end.unwrap() <= down + hasim::engine::Dur::from_ms(1));
    assert!(
        cut.recorder.overall.max_ms() < 13_000.0,
        "cut at DOWN: {}",
        cut.recorder.overall.max_ms()
    );
    assert!(
        hang.recorder.overall.max_ms() > 29_000.0,
        "hang: {}",
        hang.recorder.overall.max_ms()
    );
}

#[test]
fn pooled_connections_hold_server_maxconn_slots() {
    // 3 servers x maxconn 2 = 6 server connections; a pool of 12 needs more at
    // peak: the rest wait in HAProxy's queue, and time out there after 1 s.
    let text_pool = "pool = 12";
    let r = run(
        text_pool,
        "timeout_queue = \"1s\"\n[balancers.lb.server.db1]\nmaxconn = 2\n[balancers.lb.server.db2]\nmaxconn = 2\n[balancers.lb.server.db3]\nmaxconn = 2",
        "",
    );
    let slow = run(text_pool, "", "");
    assert_eq!(slow.recorder.failed, 0);
    // With 200/s and ~2 ms per query six connections suffice; the test is that
    // nothing breaks and nobody waits longer than the queue timeout.
    assert!(
        r.recorder.overall.max_ms() < 1100.0,
        "{}",
        r.recorder.overall.max_ms()
    );
}

#[test]
fn idle_pooled_connections_closed_by_haproxy_are_reopened_quietly() {
    let text = "pool = 8";
    // timeout client/server 200 ms: HAProxy closes each connection idle that long.
    let r = run(
        text,
        "timeout_client = \"200ms\"\ntimeout_server = \"200ms\"",
        "",
    );
    assert_eq!(r.recorder.failed, 0, "{:?}", r.recorder.by_kind);
}
