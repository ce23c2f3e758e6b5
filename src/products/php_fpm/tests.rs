//! The pool through the whole pipeline: `pm.max_children` caps concurrency,
//! the accept queue holds `listen.backlog` + 1 and drops the rest,
//! `request_terminate_timeout` kills within one heartbeat of the limit and
//! the child comes back, dynamic forks at the doubling rate of
//! fpm_pctl_perform_idle_server_maintenance().

use super::{MAINTENANCE, heartbeat};
use crate::config::parse;
use crate::engine::Dur;
use crate::metrics::{EventKind, FAILURE_KINDS};
use crate::report::RunResult;

const S: u64 = 1_000_000_000;

fn run(text: &str) -> RunResult {
    let spec = parse(text, "php.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = crate::sim::Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

fn kind(r: &RunResult, name: &str) -> u64 {
    let i = FAILURE_KINDS.iter().position(|k| *k == name).expect("a kind");
    r.recorder.by_kind[i]
}

fn info<'r>(r: &'r RunResult, needle: &str) -> Vec<&'r crate::metrics::StateEvent> {
    r.recorder
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Info && e.detail.contains(needle))
        .collect()
}

/// `vus` closed-loop users straight at a php-fpm pool `pool` (its table's
/// lines), service fixed at `service`.
fn closed(vus: u32, duration: &str, pool: &str, extra: &str) -> String {
    format!(
        r#"[experiment]
duration = "{duration}"
aligned = true
[network]
latency = "0.1ms"
[clients.u]
type = "closed"
target = "php"
vus = {vus}
timeout = "600s"
[apps.php]
type = "php-fpm"
spawn_time = "1ms"
{pool}
{extra}"#
    )
}

#[test]
fn max_children_caps_how_many_requests_run_at_once() {
    // 100 ms each: N children serve N / 0.1 s a second, whatever the users.
    let served = |children: u32| {
        let pool = format!(
            "service = \"100ms\"\npm.style = \"static\"\npm.max_children = {children}"
        );
        run(&closed(20, "10s", &pool, "")).recorder.requests
    };
    let (three, ten) = (served(3), served(10));
    // 10 s x 3 / 0.1 s = 300 (less one round trip per request and the last
    // round in flight).
    assert!((280..=300).contains(&three), "3 children served {three}");
    assert!((940..=1000).contains(&ten), "10 children served {ten}");
}

#[test]
fn the_accept_queue_holds_backlog_plus_one_and_drops_the_rest() {
    // nginx in front gives up on a dropped SYN after its connect timeout
    // (500 ms, before TCP resends it at 1 s): 504. One child busy for 1 s,
    // `vus` connections at once: one accepted, backlog + 1 queued, the rest
    // dropped.
    let at = |backlog: u32, vus: u32| {
        let pool = format!(
            "service = \"1s\"\npm.style = \"static\"\npm.max_children = 1\nlisten.backlog = {backlog}"
        );
        let text = closed(vus, "900ms", &pool, "")
            .replace("target = \"php\"", "target = \"lb\"")
            + "[balancers.lb]\ntype = \"nginx\"\nservers = [\"php\"]\nproxy_connect_timeout = \"500ms\"\n";
        run(&text)
    };
    for backlog in [0, 2, 5] {
        let r = at(backlog, 10);
        let dropped = 10 - 1 - (backlog as u64 + 1);
        assert_eq!(kind(&r, "504"), dropped, "backlog {backlog}");
    }
    // Room for all: nothing dropped.
    assert_eq!(kind(&at(511, 10), "504"), 0);
}

#[test]
fn request_terminate_timeout_kills_within_a_heartbeat_and_the_child_comes_back() {
    // The script calls a server that is stopped from 5 s to 9 s: requests
    // stuck on it are killed T..T + heartbeat after their child accepted
    // them (the connection closes: the client sees `closed`), and once the
    // server is back the replacement children serve again.
    let t = Dur::from_secs(3);
    let hb = heartbeat(t);
    assert_eq!(hb, Dur::from_secs(1), "3 s / 3");
    let pool = "service = \"1ms\"\npm.style = \"static\"\npm.max_children = 2\n\
                request_terminate_timeout = \"3s\"\n[[apps.php.calls]]\ntarget = \"db\"\ntimeout = \"60s\"";
    let extra = "[servers.db]\nservice = \"1ms\"\n\
                 [[faults]]\nkind = \"stop\"\ntarget = \"db\"\nat = \"5s\"\nrecover_at = \"9s\"";
    let r = run(&closed(2, "20s", pool, extra));
    let kills = info(&r, "execution timed out");
    assert!(!kills.is_empty());
    assert_eq!(kind(&r, "closed") as usize, kills.len());
    let w = &r.recorder.windows[0];
    // Every killed request was accepted at once (a child was free) just
    // before or after the stop: each took [T, T + heartbeat).
    assert!(w.longest >= t && w.longest < t + hb, "took {}", w.longest);
    // The first kill: within [5 s + T, 5 s + T + hb + one round trip).
    let first = kills[0].at.0;
    assert!(
        (5 * S + t.0..5 * S + t.0 + hb.0 + S / 100).contains(&first),
        "first kill at {first}"
    );
    // Children came back: requests succeed again after the recovery.
    let after = r.recorder.windows[1].failed;
    assert_eq!(after, 0, "no failure after the server is back");
    assert!(r.recorder.requests - r.recorder.failed > 10_000);
}

#[test]
fn dynamic_forks_at_a_rate_doubling_each_second_up_to_max_children() {
    // 60 start_servers all busy at once (200 users, 30 s each): every
    // maintenance tick finds 0 idle < min_spare 60 and forks min(rate,
    // 60 - idle, 100 - running), the rate doubling: 1, 2, 4, 8, 16, then
    // the 9 left to max_children.
    let pool = "service = \"30s\"\npm.style = \"dynamic\"\npm.max_children = 100\n\
                pm.min_spare_servers = 60\npm.max_spare_servers = 60\npm.start_servers = 60";
    let r = run(&closed(200, "10s", pool, ""));
    let forks = info(&r, "have been created dynamically");
    let counts: Vec<u32> = forks
        .iter()
        .map(|e| e.detail.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(counts, [1, 2, 4, 8, 16, 9]);
    for w in forks.windows(2) {
        assert_eq!(w[1].at.0 - w[0].at.0, MAINTENANCE.0, "one tick apart");
    }
    assert_eq!(
        info(&r, "server reached pm.max_children setting (100)").len(),
        1,
        "warned once"
    );
    // Ondemand forks per waiting connection, at once: 20 users, 20 children.
    let pool = "service = \"100ms\"\npm.style = \"ondemand\"\npm.max_children = 50";
    let r = run(&closed(20, "1s", pool, ""));
    // 20 in parallel for 1 s at 100 ms each (+ a 1 ms fork first).
    assert!((180..=200).contains(&r.recorder.requests), "{}", r.recorder.requests);
}

#[test]
fn a_child_that_served_max_requests_is_replaced_after_a_fork() {
    // One child, 1 ms a request, a fork takes 100 ms: recycling after every
    // request leaves ~1 s / 101 ms requests; never recycling, ~1 s / 1.2 ms.
    let served = |max_requests: u32| {
        let pool = format!(
            "service = \"1ms\"\npm.style = \"static\"\npm.max_children = 1\n\
             pm.max_requests = {max_requests}"
        );
        let text = closed(1, "1s", &pool, "").replace("spawn_time = \"1ms\"", "spawn_time = \"100ms\"");
        run(&text).recorder.requests
    };
    let (recycled, kept) = (served(1), served(0));
    assert!((9..=10).contains(&recycled), "recycled every request: {recycled}");
    // 1 s / (1 ms + a 0.2 ms round trip) = 833.
    assert!((800..=840).contains(&kept), "never recycled: {kept}");
}
