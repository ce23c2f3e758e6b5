//! A client that gives up closes its connection: what HAProxy (`option
//! abortonclose`) and nginx (`proxy_ignore_client_abort`) do with its FIN,
//! seen in the writes of gone clients that still commit.

use hasim::report::RunResult;
use hasim::sim::Sim;

fn run(text: &str) -> RunResult {
    let spec = hasim::config::parse(text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

fn failed_but_committed(r: &RunResult) -> u64 {
    r.history.as_ref().unwrap().failed_committed
}

fn failed(r: &RunResult, client: &str) -> u64 {
    r.recorder
        .clients
        .iter()
        .find(|c| c.name == client)
        .unwrap()
        .failed
}

/// One server slot (`maxconn 1`), every statement 2 s: a patient client's
/// writes and 2 impatient POSTs/s queue for it; the impatient give up after 1 s.
fn haproxy_queue(option: &str) -> String {
    format!(
        r#"
[experiment]
duration = "60s"
[clients.patient]
type = "open"
target = "lb"
rate = 0.5
arrivals = "constant"
method = "POST"
timeout = "60s"
stop = "5s"
[clients.load]
type = "open"
target = "lb"
rate = 2
arrivals = "constant"
method = "POST"
timeout = "1s"
start = "100ms"
stop = "5s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "http"
servers = ["db"]
timeout_queue = "60s"
{option}
[balancers.lb.default_server]
maxconn = 1
[databases.db]
type = "mysql"
service = "2s"
"#
    )
}

#[test]
fn abortonclose_keeps_gone_clients_queued_writes_from_the_server() {
    let plain = run(&haproxy_queue(""));
    let abort = run(&haproxy_queue("option_abortonclose = true"));
    // Every impatient request times out either way.
    assert_eq!(failed(&plain, "load"), 10);
    assert_eq!(failed(&abort, "load"), 10);
    // Without the option every queued write of a gone client is still
    // forwarded, one slot at a time, and commits.
    assert_eq!(failed_but_committed(&plain), 10);
    // With it a queued stream is aborted (CQ) when its client's FIN comes;
    // only those forwarded in the last second of their client's wait reach
    // the server (then cut, CH, while the statement runs on).
    let reached = failed_but_committed(&abort);
    assert!((1..=3).contains(&reached), "{reached}");
    // The patient client's writes no longer wait behind the gone ones.
    let max = |r: &RunResult| {
        let c = r
            .recorder
            .clients
            .iter()
            .find(|c| c.name == "patient")
            .unwrap();
        c.ok_latency.max_ms()
    };
    assert!(max(&plain) > 15_000.0, "{}", max(&plain));
    assert!(max(&abort) < 3_000.0, "{}", max(&abort));
}

/// nginx before two databases, the first black-holed (its SYNs go
/// unanswered): a POST waits for `proxy_connect_timeout` (3 s) before nginx
/// tries the second, but its client gives up after 1 s.
fn nginx_connecting(option: &str) -> String {
    format!(
        r#"
[experiment]
duration = "20s"
[clients.load]
type = "open"
target = "web"
rate = 2
arrivals = "constant"
method = "POST"
timeout = "1s"
stop = "5s"
[balancers.web]
type = "nginx"
servers = ["a", "b"]
proxy_connect_timeout = "3s"
{option}
[databases.a]
type = "mysql"
service = "1ms"
[databases.b]
type = "mysql"
service = "1ms"
[[faults]]
kind = "blackhole"
target = "a"
at = "0s"
"#
    )
}

#[test]
fn nginx_drops_a_gone_clients_request_unless_it_ignores_client_aborts() {
    let off = run(&nginx_connecting(""));
    let on = run(&nginx_connecting("proxy_ignore_client_abort = true"));
    // Off (the default), a request finalized with 499 does not count as a
    // failure of `a` (ngx_http_upstream_finalize_request() frees the peer
    // with state 0): `a` is never disabled and keeps getting its turn, so
    // more requests time out than when the connect timeouts mark it failed.
    assert!(failed(&on, "load") > 0);
    assert!(failed(&off, "load") > failed(&on, "load"));
    // Off (the default): the client's close ends the request (499) and the
    // connection attempt; nothing reaches `b`.
    assert_eq!(failed_but_committed(&off), 0);
    // On: nginx goes on to `b` after the connect timeout and the write
    // commits for a client long gone.
    assert_eq!(failed_but_committed(&on), failed(&on, "load"));
}

/// Frontend `maxconn 1`, held 2 s by a patient client's write: 10 impatient
/// POSTs wait in the kernel's listen backlog and give up after 1 s.
fn haproxy_backlog(option: &str) -> String {
    format!(
        r#"
[experiment]
duration = "40s"
[clients.patient]
type = "open"
target = "lb"
rate = 0.1
arrivals = "constant"
method = "POST"
timeout = "60s"
stop = "1s"
[clients.load]
type = "open"
target = "lb"
rate = 10
arrivals = "constant"
method = "POST"
timeout = "1s"
start = "100ms"
stop = "1.05s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "http"
servers = ["db"]
maxconn = 1
backlog = 20
{option}
[databases.db]
type = "mysql"
service = "2s"
"#
    )
}

#[test]
fn a_gone_clients_connection_in_the_listen_backlog_is_accepted_with_its_fin() {
    let plain = run(&haproxy_backlog(""));
    let abort = run(&haproxy_backlog("option_abortonclose = true"));
    assert_eq!(failed(&plain, "load"), 10);
    assert_eq!(failed(&abort, "load"), 10);
    // Accepted once the patient's write is done, request and FIN read
    // together: without the option each is still forwarded and commits...
    assert_eq!(failed_but_committed(&plain), 10);
    // ...with it each is aborted before it connects (CC).
    assert_eq!(failed_but_committed(&abort), 0);
}

/// One php-fpm child (static), each script a 2 s write: 2 POSTs/s whose
/// clients give up after 1 s wait in the pool's accept queue, and their
/// closes reach it before any child accepted them.
fn php_queue() -> &'static str {
    r#"
[experiment]
duration = "60s"
[clients.load]
type = "open"
target = "php"
rate = 2
arrivals = "constant"
method = "POST"
timeout = "1s"
stop = "5s"
[apps.php]
type = "php-fpm"
service = "1ms"
pm.style = "static"
pm.max_children = 1
[[apps.php.calls]]
target = "db"
timeout = "60s"
[databases.db]
type = "mysql"
service = "2s"
"#
}

/// The FastCGI request sits in the connection's buffer ahead of the FIN:
/// the child that accepts a closed connection reads it and runs the script
/// (fastcgi.c fcgi_read_request; PHP notices a gone caller only on output),
/// so every gone client's write still commits, one child at a time.
#[test]
fn php_fpm_runs_the_script_of_a_connection_closed_in_its_accept_queue() {
    let r = run(php_queue());
    assert_eq!(failed(&r, "load"), 10);
    assert_eq!(failed_but_committed(&r), 10);
}
