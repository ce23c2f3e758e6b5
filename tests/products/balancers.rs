//! Behaviours of the balancer and app models that the validation cases do not
//! cover, each from haproxy.md / nginx.md, asserted from what clients saw.

use crate::common;

use common::{Shared, kind, run};
use hasim::metrics::EventKind;
use hasim::sim::Sim;

/// Client -> HAProxy -> s1..s3, with `extra` appended to the balancer table
/// and `faults` at the end.
fn haproxy(balancer: &str, server: &str, faults: &str) -> String {
    format!(
        r#"
[experiment]
duration = "40s"
[clients.c]
type = "open"
target = "lb"
rate = 100
arrivals = "constant"
timeout = "30s"
[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]
retries = 0
{balancer}
[servers.s]
count = 3
workers = 8
service = "5ms"
{server}
{faults}
"#
    )
}

#[test]
fn haproxy_backup_server_takes_over_only_when_every_active_server_is_down() {
    let text = haproxy(
        "[balancers.lb.default_server]\ncheck = true\n[balancers.lb.server.s3]\nbackup = true",
        "",
        "[[faults]]\nkind = \"kill\"\ntargets = [\"s1\", \"s2\"]\nat = \"10s\"\nrecover_at = \"25s\"",
    );
    let r = run(&text);
    let downs: Vec<_> = r
        .recorder
        .events
        .iter()
        .filter(|e| e.kind == EventKind::MarkedDown)
        .collect();
    assert_eq!(downs.len(), 2);
    assert!(
        downs[1]
            .detail
            .contains("0 active and 1 backup servers left"),
        "{}",
        downs[1].detail
    );
    // Errors only until both actives are marked down, then the backup serves.
    let last = r.faults[0].window.last_end.unwrap();
    assert!(last <= downs[1].at, "failures after the backup took over");
    assert!(r.recorder.requests > 3900);
}

#[test]
fn haproxy_shutdown_sessions_cuts_sessions_on_a_server_marked_down() {
    // A stopped server behind an HTTP check: its sessions would wait for
    // `timeout server` (20 s); with shutdown-sessions they end at the DOWN mark.
    let with = |option: &str| {
        run(&haproxy(
            &format!(
                "timeout_server = \"20s\"\noption_httpchk = \"GET /\"\n{option}\n[balancers.lb.default_server]\ncheck = true"
            ),
            "",
            "[[faults]]\nkind = \"stop\"\ntarget = \"s2\"\nat = \"10s\"",
        ))
    };
    let plain = with("");
    let cut = with("on_marked_down = \"shutdown-sessions\"");
    assert!(kind(&plain, "504") > 0 && kind(&plain, "closed") == 0);
    assert!(kind(&cut, "closed") > 0, "{:?}", cut.recorder.by_kind);
    let down = cut.faults[0].detected.as_ref().unwrap().at;
    assert!(cut.faults[0].window.last_end.unwrap() <= down + hasim::engine::Dur::from_ms(1));
    assert!(cut.recorder.overall.max_ms() < plain.recorder.overall.max_ms());
}

#[test]
fn haproxy_tcp_mode_closes_where_http_mode_answers_503() {
    let faults = "[[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"10s\"";
    let tcp = run(&haproxy(
        "mode = \"tcp\"\n[balancers.lb.default_server]\ncheck = true",
        "",
        faults,
    ));
    let http = run(&haproxy(
        "[balancers.lb.default_server]\ncheck = true",
        "",
        faults,
    ));
    assert!(kind(&http, "503") > 0 && kind(&http, "closed") == 0);
    assert!(kind(&tcp, "closed") > 0 && kind(&tcp, "503") == 0);
}

#[test]
fn haproxy_timeout_queue_answers_503_when_server_maxconn_is_full() {
    // One connection per server, 50 ms of service at 100/s: the queue grows.
    let text = haproxy(
        "timeout_queue = \"200ms\"\n[balancers.lb.default_server]\nmaxconn = 1",
        "",
        "",
    )
    .replace("service = \"5ms\"", "service = \"50ms\"");
    let r = run(&text);
    assert!(kind(&r, "503") > 0, "{:?}", r.recorder.by_kind);
    let max = r.recorder.overall.max_ms();
    assert!(
        max < 260.0,
        "nobody waits much longer than timeout queue + service: {max}"
    );
}

#[test]
fn haproxy_balance_first_fills_the_first_server_before_the_next() {
    let r = run(&haproxy(
        "balance = \"first\"\n[balancers.lb.default_server]\nmaxconn = 100\ncheck = true",
        "",
        "[[faults]]\nkind = \"kill\"\ntarget = \"s3\"\nat = \"10s\"",
    ));
    // s3 never gets traffic: killing it costs nothing and nobody notices but the checks.
    assert_eq!(r.recorder.failed, 0);
}

fn nginx(upstream: &str, method: &str, faults: &str) -> String {
    format!(
        r#"
[experiment]
duration = "30s"
[clients.c]
type = "open"
target = "lb"
rate = 60
arrivals = "constant"
method = "{method}"
timeout = "30s"
[balancers.lb]
preset = "nginx-1.22"
servers = ["s"]
proxy_read_timeout = "2s"
proxy_connect_timeout = "1s"
{upstream}
[servers.s]
count = 3
workers = 8
service = "5ms"
{faults}
"#
    )
}

#[test]
fn nginx_passes_a_get_on_but_answers_504_to_a_sent_post() {
    let stop = "[[faults]]\nkind = \"stop\"\ntarget = \"s2\"\nat = \"10s\"";
    let get = run(&nginx("", "GET", stop));
    let post = run(&nginx("", "POST", stop));
    assert_eq!(get.recorder.failed, 0);
    assert!(kind(&post, "504") > 0, "{:?}", post.recorder.by_kind);
    // With non_idempotent the POST is passed on too.
    let allowed = run(&nginx(
        "proxy_next_upstream = [\"error\", \"timeout\", \"non_idempotent\"]",
        "POST",
        stop,
    ));
    assert_eq!(allowed.recorder.failed, 0);
}

#[test]
fn nginx_passes_a_refused_post_on_because_nothing_was_sent() {
    let r = run(&nginx(
        "",
        "POST",
        "[[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"10s\"",
    ));
    assert_eq!(r.recorder.failed, 0);
}

#[test]
fn nginx_answers_502_when_every_server_is_marked_failed() {
    let r = run(&nginx(
        "",
        "GET",
        "[[faults]]\nkind = \"kill\"\ntargets = [\"s1\", \"s2\", \"s3\"]\nat = \"10s\"\nrecover_at = \"20s\"",
    ));
    assert!(kind(&r, "502") > 0, "{:?}", r.recorder.by_kind);
    // "no live upstreams" answers at once, not after a timeout.
    assert!(
        r.recorder.overall.max_ms() < 10.0,
        "{}",
        r.recorder.overall.max_ms()
    );
}

#[test]
fn nginx_retries_an_upstream_500_only_when_http_500_is_listed() {
    // A server whose health is fine but answers 500 to everything: an app whose DB is gone.
    let text = |next: &str| {
        format!(
            r#"
[experiment]
duration = "20s"
[clients.c]
type = "open"
target = "lb"
rate = 50
arrivals = "constant"
[balancers.lb]
preset = "nginx-1.22"
servers = ["app1", "s"]
{next}
[apps.app1]
workers = 4
service = "1ms"
[[apps.app1.calls]]
target = "db"
connect_timeout = "1s"
[servers.db]
workers = 4
service = "1ms"
[servers.s]
workers = 4
service = "1ms"
[[faults]]
kind = "kill"
target = "db"
at = "5s"
"#
        )
    };
    let plain = run(&text(""));
    let retried = run(&text(
        "proxy_next_upstream = [\"error\", \"timeout\", \"http_500\"]",
    ));
    assert!(
        kind(&plain, "500") > 0,
        "the app turns the DB error into 500: {:?}",
        plain.recorder.by_kind
    );
    assert_eq!(retried.recorder.failed, 0, "{:?}", retried.recorder.by_kind);
}

#[test]
fn haproxy_observe_layer4_marks_a_refusing_server_down_from_real_traffic() {
    // Checks every 10 s would take 20-30 s with fall 3; s2 gets ~33 requests/s.
    let detect = |on_error: &str| {
        let r = run(&haproxy(
            &format!(
                "[balancers.lb.default_server]\ncheck = true\ninter = \"10s\"\nobserve = \"layer4\"\nerror_limit = 10\non_error = \"{on_error}\""
            ),
            "",
            "[[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"10s\"",
        ));
        let d = r.faults[0].detected.clone().expect("detected");
        (d.at.secs_from(r.faults[0].at), d.detail, r.recorder.failed)
    };
    let (t, detail, failed) = detect("mark-down");
    // 10 errors at 1 in 3 of 100/s: ~0.3 s.
    assert!((0.25..0.35).contains(&t), "mark-down after {t}");
    assert!(
        detail.contains("Health analyze") && detail.contains("10 consecutive errors"),
        "{detail}"
    );
    assert_eq!(failed, 10, "exactly the error-limit requests fail");
    // fail-check: each 10 errors count as one failed check; fall 3 -> 30 errors.
    let (t, _, failed) = detect("fail-check");
    assert!((0.85..0.95).contains(&t), "fail-check after {t}");
    assert_eq!(failed, 30);
    // sudden-death: health to rise+1, minus one; the next failure (check or
    // 10 more errors) marks it down -> 20 errors.
    let (t, _, _) = detect("sudden-death");
    assert!((0.55..0.65).contains(&t), "sudden-death after {t}");
}

#[test]
fn haproxy_slowstart_ramps_a_returning_server_up_instead_of_flooding_it() {
    // s2 is slow after its restart (50 ms instead of 5 ms), so the requests it
    // serves can be told apart: count them in the 3 s after it is marked UP.
    let slow_after_up = |slowstart: &str| {
        let text = haproxy(
            &format!("[balancers.lb.default_server]\ncheck = true\ninter = \"1s\"\n{slowstart}"),
            "",
            "[[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"5s\"\nrecover_at = \"15s\"\n\
             [[faults]]\nkind = \"slow\"\ntarget = \"s2\"\nfactor = 10.0\nat = \"15s\"",
        );
        let spec = hasim::config::parse(&text, "s.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Sim::new(&spec, 1);
        let trace = Shared::default();
        sim.rec.trace = Some(Box::new(trace.clone()));
        sim.run();
        let r = sim.finish();
        let up = r
            .recorder
            .events
            .iter()
            .find(|e| e.kind == EventKind::MarkedUp)
            .expect("marked up")
            .at
            .as_secs_f64();
        let text = String::from_utf8(trace.0.borrow().clone()).unwrap();
        text.lines()
            .map(|l| l.split(',').collect::<Vec<_>>())
            .filter(|f| {
                let start: f64 = f[0].parse().unwrap();
                let latency: f64 = f[4].parse().unwrap();
                start >= up && start < up + 3.0 && latency > 40.0
            })
            .count()
    };
    let flooded = slow_after_up("");
    let ramped = slow_after_up("slowstart = \"10s\"");
    // 100 req/s in all: a third (~100 in 3 s) without slowstart; with a 10 s
    // ramp s2 gets 1/16, 2/16, 4/16 of a share in its first seconds.
    assert!(
        (90..=110).contains(&flooded),
        "without slowstart: {flooded}"
    );
    assert!(
        ramped > 0 && ramped * 4 < flooded,
        "with slowstart: {ramped} vs {flooded}"
    );
}

#[test]
fn haproxy_leastconn_sends_less_to_a_slow_server_and_source_pins_a_client() {
    // s2 slow from the start: roundrobin still gives it a third; leastconn
    // gives it what it can take (fewer requests wait behind its slowness).
    let slow = "[[faults]]\nkind = \"slow\"\ntarget = \"s2\"\nfactor = 40.0\nat = \"0s\"";
    let rr = run(&haproxy("", "", slow));
    let lc = run(&haproxy("balance = \"leastconn\"", "", slow));
    assert!(
        lc.recorder.overall.quantile_ms(0.9) < rr.recorder.overall.quantile_ms(0.9),
        "leastconn p90 {} vs roundrobin {}",
        lc.recorder.overall.quantile_ms(0.9),
        rr.recorder.overall.quantile_ms(0.9)
    );
    // source: one client address maps to one server, so killing each server
    // in turn hurts that client in exactly one of the three runs.
    let hurt: Vec<bool> = ["s1", "s2", "s3"]
        .iter()
        .map(|s| {
            let r = run(&haproxy(
                "balance = \"source\"\n[balancers.lb.default_server]\ncheck = true",
                "",
                &format!("[[faults]]\nkind = \"kill\"\ntarget = \"{s}\"\nat = \"10s\""),
            ));
            r.recorder.failed > 0
        })
        .collect();
    assert_eq!(hurt.iter().filter(|h| **h).count(), 1, "{hurt:?}");
}

#[test]
fn haproxy_allbackups_spreads_over_every_backup_instead_of_the_first() {
    // s1 active, s2 and s3 backups; s1 dies, then s3: it only mattered if it
    // was serving, i.e. with option allbackups.
    let failures_when_s3_dies = |allbackups: bool| {
        let r = run(&haproxy(
            &format!(
                "option_allbackups = {allbackups}\n[balancers.lb.default_server]\ncheck = true\n\
                 [balancers.lb.server.s2]\nbackup = true\n[balancers.lb.server.s3]\nbackup = true"
            ),
            "",
            "[[faults]]\nkind = \"kill\"\ntarget = \"s1\"\nat = \"5s\"\n\
             [[faults]]\nkind = \"kill\"\ntarget = \"s3\"\nat = \"20s\"",
        ));
        r.faults[1].window.failed
    };
    assert_eq!(failures_when_s3_dies(false), 0);
    assert!(failures_when_s3_dies(true) > 0);
}

/// The trace reads like the balancers' access logs: the server chosen and
/// HAProxy's termination state (`--` served, `SC` refused by a killed
/// server with no retries left), nginx's `$upstream_status` per try.
#[test]
fn the_trace_shows_the_server_and_termination_state_like_an_access_log() {
    let traced = |text: &str| {
        let spec = hasim::config::parse(text, "t.toml").unwrap_or_else(|e| panic!("{e}"));
        let mut sim = Sim::new(&spec, 1);
        let trace = Shared::default();
        sim.start_trace(Box::new(trace.clone()));
        sim.run();
        sim.finish();
        let text = String::from_utf8(trace.0.borrow().clone()).unwrap();
        text.lines()
            .skip(1)
            .map(|l| l.split(',').map(str::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    let rows = traced(&haproxy(
        "[balancers.lb.default_server]\ncheck = true",
        "",
        "[[faults]]\nkind = \"kill\"\ntarget = \"s2\"\nat = \"10s\"",
    ));
    // start,end,client,outcome,latency,op,method,via,servers,termination
    let refused: Vec<_> = rows.iter().filter(|f| f[3] == "503").collect();
    assert!(!refused.is_empty());
    for f in &refused {
        assert_eq!(
            (f[7].as_str(), f[8].as_str(), f[9].as_str()),
            ("lb", "s2", "SC"),
            "{f:?}"
        );
    }
    let served = rows.iter().find(|f| f[3] == "200").unwrap();
    assert_eq!(
        (served[6].as_str(), served[7].as_str(), served[9].as_str()),
        ("GET", "lb", "--")
    );
    assert!(served[8].starts_with('s'));

    // nginx passes a GET on to the next server: both tries are logged.
    let rows = traced(
        r#"
[experiment]
duration = "20s"
[clients.c]
type = "open"
target = "web"
rate = 100
arrivals = "constant"
timeout = "30s"
[balancers.web]
type = "nginx"
servers = ["s"]
[servers.s]
count = 2
service = "5ms"
[[faults]]
kind = "kill"
target = "s2"
at = "10s"
"#,
    );
    let retried = rows
        .iter()
        .find(|f| f[9] == "502 200")
        .expect("a request that nginx passed on");
    assert_eq!((retried[3].as_str(), retried[8].as_str()), ("200", "s2 s1"));
}
