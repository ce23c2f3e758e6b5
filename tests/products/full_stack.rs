//! experiments/full-stack.toml (field report 4) end to end: each tier's
//! fault checked against the mechanism that must show it, with the
//! models' formulas rather than recorded numbers.

use crate::common;

use common::{kind, run};
use hasim::engine::{Dur, SimTime};
use hasim::metrics::{EventKind, StateEvent};
use hasim::report::{FaultReport, RunResult};

const FULL_STACK: &str = include_str!("../../experiments/full-stack.toml");

fn fault<'r>(r: &'r RunResult, label: &str) -> &'r FaultReport {
    r.faults
        .iter()
        .find(|f| f.label == label)
        .unwrap_or_else(|| panic!("no fault `{label}`"))
}

fn event<'r>(
    r: &'r RunResult,
    component: &str,
    subject: &str,
    kind: EventKind,
    after: SimTime,
) -> &'r StateEvent {
    r.recorder
        .events
        .iter()
        .find(|e| {
            e.component == component && e.subject == subject && e.kind == kind && e.at >= after
        })
        .unwrap_or_else(|| panic!("no {kind:?} of {subject} by {component}"))
}

fn secs(d: Dur) -> f64 {
    d.0 as f64 / 1e9
}

/// One run serves every assertion (a few hundred ms in release, a few s in
/// debug).
#[test]
fn each_tier_fails_as_its_mechanism_says() {
    let r = run(FULL_STACK);

    // 1. The active HAProxy host is lost: lb2 claims the VIP within the
    // VRRP master-down formula; meanwhile the clients' SYNs go to lb1's MAC
    // and are lost, TCP resending them at 1 s and 3 s: nobody fails, the
    // slowest wait for the resend after the GARP.
    let f = fault(&r, "power-off lb1");
    let d = f.detected.as_ref().expect("lb2 takes over");
    let range = f.formula_detect.as_ref().expect("keepalived's formula");
    let took = d.at - f.at;
    assert!(
        range.lo <= took && took <= range.hi,
        "{} not in {range:?}",
        secs(took)
    );
    assert_eq!(f.window.failed, 0, "a VIP move costs latency, not errors");
    // A SYN sent just before the move is answered at its next resend: 1 s
    // or 3 s after it, plus the request's own time.
    assert!(
        f.max_ms_after >= 1000.0 && f.max_ms_after < 3000.0 + 1000.0,
        "max {} ms",
        f.max_ms_after
    );

    // 2. An nginx is killed: HAProxy (no `option redispatch`) retries the
    // refused connect on the same server and answers 503 until its L4 check
    // marks it DOWN, within its formula; none after.
    let f = fault(&r, "kill web1");
    let d = f.detected.as_ref().expect("lb1 marks web1 down");
    let range = f.formula_detect.as_ref().expect("HAProxy's formula");
    let took = d.at - f.at;
    assert!(
        range.lo <= took && took <= range.hi,
        "{} not in {range:?}",
        secs(took)
    );
    assert!(f.window.by_kind[2] > 0, "503s while web1 is still UP");
    assert!(
        f.window.last_start.expect("failures") <= d.at,
        "no 503 once web1 is DOWN"
    );

    // 3. A PHP host is lost: nginx's connects to it fail (EHOSTUNREACH
    // once ARP gives up) and go to the other backend, GET and POST alike
    // (nothing was sent). Only a request already sent to it can fail: it
    // waits for HAProxy's `timeout server` (50 s, before nginx's 60 s
    // fastcgi_read_timeout) and gets a 504.
    let f = fault(&r, "power-off backend1");
    for at in [f.window.first_start, f.window.last_start]
        .into_iter()
        .flatten()
    {
        assert!(at <= f.at, "a failure issued after the loss at {at:?}");
    }
    assert_eq!(f.window.failed, f.window.by_kind[3], "only 504s");
    if f.window.failed > 0 {
        // 50 s from HAProxy's send, plus the round trips before and after.
        let longest = f.window.longest;
        assert!(
            longest >= Dur::from_secs(50) && longest < Dur::from_ms(50_010),
            "HAProxy's timeout server, not nginx's 60 s: {}",
            secs(longest)
        );
    }
    assert!(
        f.detected
            .as_ref()
            .is_some_and(|d| d.detail.contains("temporarily disabled")),
        "nginx disables backend1"
    );

    // 4. The ProxySQL writer's Galera node is lost: writes already sent to
    // it fail (the app's 500 for ProxySQL's error) until ProxySQL has moved
    // the writer away; none are issued later than that.
    let f = fault(&r, "power-off percona1");
    let moved = event(&r, "proxysql1", "percona2", EventKind::Promoted, f.at);
    assert!(f.window.failed > 0);
    assert_eq!(f.window.failed, f.window.by_kind[0], "the app's 500s");
    assert!(f.window.last_start.expect("failures") <= moved.at);
    let no_primary = &r.history.as_ref().expect("databases").clusters;
    assert!(
        no_primary
            .iter()
            .all(|c| c.split_brain.is_empty() || c.name != "percona")
    );

    // 5. The Redis master's host is lost (with a sentinel): session reads
    // fail from when HAProxy marks the master DOWN (fall x inter) until
    // Sentinel has promoted a replica (after down-after-milliseconds) and
    // HAProxy's tcp-check marks it UP; not after.
    let f = fault(&r, "power-off redis1");
    let promoted = event(&r, "redis2", "redis2", EventKind::Promoted, f.at);
    let up = event(&r, "lb3", "redis2", EventKind::MarkedUp, f.at);
    let sentinel = r
        .breakdowns
        .iter()
        .find(|b| b.cluster == "redis")
        .expect("Sentinel's failover phases");
    let (_, lo, hi) = sentinel.rows.last().expect("a total").clone();
    let failover = promoted.at - f.at;
    assert!(
        lo <= failover && failover <= hi,
        "promotion {} s not in Sentinel's {}..{} s",
        secs(failover),
        secs(lo),
        secs(hi)
    );
    assert!(f.window.failed > 0);
    assert_eq!(
        f.window.failed, f.window.by_kind[0],
        "session reads fail: 500"
    );
    let last = f.window.last_start.expect("failures");
    assert!(
        last + Dur::from_secs(1) >= promoted.at,
        "errors last until the failover"
    );
    assert!(last <= up.at, "none once HAProxy sends to the new master");
    assert_eq!(kind(&r, "unreachable"), 0);
}
