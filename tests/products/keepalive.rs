//! Keep-alive: k6's virtual users reuse their connection between requests
//! (k6's default), and what that does at the balancers.

use crate::common;

use common::{kind, run};

fn haproxy(keep_alive: bool) -> String {
    format!(
        r#"
[experiment]
duration = "20s"
[clients.k6]
type = "closed"
target = "lb"
vus = 10
timeout = "3s"
keep_alive = {keep_alive}
iteration = [ {{ request = "GET" }}, {{ sleep = "100ms" }} ]
[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]
maxconn = 5
timeout_client = "1s"
[servers.s]
count = 2
workers = 8
service = "2ms"
"#
    )
}

#[test]
fn kept_connections_hold_haproxy_maxconn_slots_while_their_users_sleep() {
    // Without keep-alive 10 users share 5 slots: each holds one for ~2 ms.
    let fresh = run(&haproxy(false));
    assert_eq!(fresh.recorder.failed, 0, "{:?}", fresh.recorder.by_kind);
    // With it, 5 users keep their slot through every sleep (shorter than
    // timeout client): the other 5 wait in the listen queue and time out.
    let kept = run(&haproxy(true));
    let timeouts = kind(&kept, "timeout");
    assert!(timeouts > 0, "{:?}", kept.recorder.by_kind);
    assert!(kept.recorder.requests < fresh.recorder.requests);
}

#[test]
fn nginx_closes_idle_keepalive_connections_and_users_reconnect_quietly() {
    let text = r#"
[experiment]
duration = "20s"
[clients.k6]
type = "closed"
target = "web"
vus = 4
iteration = [ { request = "GET" }, { sleep = "1500ms" } ]
[balancers.web]
preset = "nginx-1.22"
servers = ["s"]
keepalive_timeout = "1s"
[servers.s]
count = 2
workers = 4
service = "2ms"
"#;
    let r = run(text);
    assert_eq!(r.recorder.failed, 0, "{:?}", r.recorder.by_kind);
    assert!(r.recorder.requests >= 4 * 13);
}

#[test]
fn open_loop_clients_refuse_keep_alive() {
    let text = r#"
[experiment]
duration = "5s"
[clients.c]
type = "open"
target = "s"
rate = 10
keep_alive = true
[servers.s]
workers = 1
service = "1ms"
"#;
    let err = hasim::config::parse(text, "k.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("clients.c.keep_alive") && err.contains("closed"),
        "{err}"
    );
}
