//! php-fpm behind nginx, whole experiments: what a child killed by
//! `request_terminate_timeout` looks like to nginx's clients.

use crate::common;

use common::{kind, run};

/// Two pools, each calling its own database; db1 stops answering from 5 s
/// to 15 s, so php1's requests hang in their call until the master kills
/// the child (3 s, checked every 1 s).
fn topology() -> String {
    let pool = |n: u32| {
        format!(
            r#"
[apps.php{n}]
type = "php-fpm"
service = "2ms"
request_terminate_timeout = "3s"
[[apps.php{n}.calls]]
target = "db{n}"
timeout = "60s"
[servers.db{n}]
service = "1ms"
"#
        )
    };
    format!(
        r#"
[experiment]
duration = "25s"
[network]
latency = "0.1ms"
[clients.get]
type = "open"
target = "web"
rate = 40
timeout = "60s"
[clients.post]
type = "open"
target = "web"
rate = 10
method = "POST"
timeout = "60s"
[balancers.web]
preset = "nginx-1.22"
servers = ["php1", "php2"]
{}{}
[[faults]]
kind = "stop"
target = "db1"
at = "5s"
recover_at = "15s"
"#,
        pool(1),
        pool(2)
    )
}

#[test]
fn a_terminated_child_is_a_502_for_a_post_and_a_retry_elsewhere_for_a_get() {
    let r = run(&topology());
    let get = &r.recorder.clients[0];
    let post = &r.recorder.clients[1];
    // The killed child's connection closes without an answer: nginx's
    // "upstream prematurely closed connection" is an `error`, so a GET goes
    // to php2 (proxy_next_upstream error timeout) and succeeds, late.
    assert_eq!(get.failed, 0, "{:?}", get.by_kind);
    let slowest = get.ok_latency.max_ms();
    // At least one kill (T) before the retry; at most the outage (10 s:
    // php1's children all hang, later requests wait in its accept queue,
    // where the timeout does not run) plus one kill (T + heartbeat).
    assert!(
        (3_000.0..10_000.0 + 4_000.0).contains(&slowest),
        "slowest GET {slowest} ms"
    );
    // A POST was sent: nginx does not pass it on. 502.
    assert!(post.failed > 0);
    assert_eq!(post.failed, kind(&r, "502"));
    // Every failed POST is a killed child (some kills were GETs).
    let kills = r
        .recorder
        .events
        .iter()
        .filter(|e| e.component == "php1" && e.detail.contains("execution timed out"))
        .count();
    assert!(kills >= post.failed as usize, "{kills} kills");
}
