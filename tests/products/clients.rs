//! Clients as k6 runs them: ramping-vus stages and their graceful ramp-down.

use crate::common;

/// One server answering in exactly `service`, VUs with no sleep.
fn ramping(service: &str, start_vus: u32, stages: &str, grace: &str) -> String {
    format!(
        r#"
[experiment]
duration = "10s"
[network]
latency = "0.1ms"
[clients.k6]
type = "closed"
target = "s"
start_vus = {start_vus}
stages = {stages}
graceful_ramp_down = "{grace}"
[servers.s]
service = "{service}"
workers = 16
"#
    )
}

/// 0 -> 4 VUs over 4 s then 4 held for 4 s: VU k starts at k s and runs
/// until 8 s, 10 requests a second each: (7 + 6 + 5 + 4) x 10, less the
/// last one of each VU still in flight at the end.
#[test]
fn ramp_up_starts_vus_on_k6s_schedule() {
    let r = common::run(&ramping(
        "100ms",
        0,
        r#"[{ duration = "4s", target = 4 }, { duration = "4s", target = 4 }]"#,
        "30s",
    ));
    let done = r.recorder.requests;
    assert!((216..=220).contains(&done), "{done} requests");
    assert_eq!(r.recorder.failed, 0);
    let first = r.recorder.clients[0].requests;
    assert_eq!(first, done);
}

/// 4 -> 0 VUs over 4 s: k6 stops VU 4 at 1 s, VU 3 at 2 s, VU 2 at 3 s
/// and VU 1 at 4 s. A 1 s request started at 0 ends just after 1 s, so
/// with no graceful ramp-down each VU is interrupted in its last request
/// (0 + 1 + 2 + 3 answered); with k6's 30 s each finishes it (1 + 2 + 3 + 4).
#[test]
fn ramp_down_interrupts_only_after_the_grace() {
    let stages = r#"[{ duration = "4s", target = 0 }]"#;
    let cut = common::run(&ramping("1s", 4, stages, "0s"));
    assert_eq!(cut.recorder.requests, 6);
    assert_eq!(
        cut.recorder.failed, 0,
        "an interrupted request is not a failure"
    );
    let graceful = common::run(&ramping("1s", 4, stages, "30s"));
    assert_eq!(graceful.recorder.requests, 10);
}

/// A ramped-down VU that is planned again before its iteration ends is
/// reused (k6's VU handle goes back to running): 2 -> 1 -> 2 within one
/// 3 s request neither idles it (3 answers) nor starts a second loop on it
/// (5 or more).
#[test]
fn a_draining_vu_planned_again_carries_on() {
    let r = common::run(&ramping(
        "3s",
        2,
        r#"[{ duration = "1s", target = 1 }, { duration = "1s", target = 2 }, { duration = "4s", target = 2 }]"#,
        "30s",
    ));
    // VU 2 is ramped down at 1 s and planned again at 2 s, inside its
    // first request (0..3 s): both VUs answer at 3 s and 6 s.
    assert_eq!(r.recorder.requests, 4);
}
