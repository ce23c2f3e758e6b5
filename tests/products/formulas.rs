//! The reference formulas (shared/reference/haproxy.md §4, §6, nginx.md §4)
//! checked against simulated timings: the fault instant is swept over a whole
//! check period so that every phase of the check schedule is exercised.

use hasim::config::parse_with_overrides;
use hasim::report::RunResult;
use hasim::sim::Sim;

const BASE: &str = r#"
[experiment]
name = "formula"
duration = "60s"
[network]
latency = "0.1ms"
[clients.load]
type = "open"
target = "lb"
rate = 100
arrivals = "constant"
timeout = "60s"
[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]
retries = 0
[balancers.lb.default_server]
check = true
[servers.s]
count = 3
workers = 16
service = "2ms"
[[faults]]
kind = "kill"
target = "s2"
at = "20s"
recover_at = "40s"
"#;

fn run(overrides: &[(&str, &str)]) -> RunResult {
    let o: Vec<(String, String)> = overrides
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let spec = parse_with_overrides(BASE, "formula.toml", &o).unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    sim.finish()
}

/// Detection times of the fault and of its recovery, each relative to its
/// action, for 25 fault instants spread over `period`.
struct Detections {
    down: Vec<f64>,
    up: Vec<f64>,
}

fn detections(overrides: &[(&str, &str)], period_ms: u64) -> Detections {
    let (down, up) = (0..25)
        .map(|k| {
            let at = format!("\"{}ms\"", 20_000 + k * period_ms / 25);
            let back = format!("\"{}ms\"", 40_000 + k * period_ms / 25);
            let mut o = overrides.to_vec();
            o.push(("faults.0.at", &at));
            o.push(("faults.0.recover_at", &back));
            let r = run(&o);
            let d = |i: usize| {
                let f = &r.faults[i];
                f.detected
                    .as_ref()
                    .map_or(f64::NAN, |d| d.at.secs_from(f.at))
            };
            (d(0), d(1))
        })
        .unzip();
    Detections { down, up }
}

fn assert_within(values: &[f64], lo: f64, hi: f64, what: &str) {
    let eps = 0.005; // scheduling of a few network hops
    for v in values {
        assert!(
            *v >= lo - eps && *v <= hi + eps,
            "{what}: {v:.3}s outside the formula's {lo}..{hi}s (all: {values:?})"
        );
    }
    let spread = values.iter().cloned().fold(f64::MIN, f64::max)
        - values.iter().cloned().fold(f64::MAX, f64::min);
    assert!(
        spread > (hi - lo) * 0.5,
        "{what}: the phase sweep should cover the range, spread {spread:.3}"
    );
}

#[test]
fn haproxy_marks_a_refusing_server_down_after_fall_checks() {
    // defaults I = F = 2s, fall 3, RST: d ~ 0 -> 4..6 s; up: U(0, D + d) + (rise-1)F = 2..4 s
    let d = detections(&[], 2000);
    assert_within(&d.down, 4.0, 6.0, "down");
    assert_within(&d.up, 2.0, 4.0, "up");
}

#[test]
fn haproxy_fastinter_shortens_detection() {
    // inter 1s fastinter 200ms fall 3, RST: 0.4..1.4 s (haproxy.md §4)
    let o = [
        ("balancers.lb.default_server.inter", "\"1s\""),
        ("balancers.lb.default_server.fastinter", "\"200ms\""),
    ];
    let d = detections(&o, 1000);
    assert_within(&d.down, 0.4, 1.4, "down");
}

#[test]
fn haproxy_black_holed_server_costs_inter_per_check() {
    // no `timeout check`: C = inter; black hole: d = C -> fall*C + (fall-1)*F .. + I
    let o = [
        ("faults.0.kind", "\"blackhole\""),
        ("balancers.lb.default_server.inter", "\"500ms\""),
    ];
    let d = detections(&o, 500);
    assert_within(&d.down, 2.5, 3.0, "down");
}

#[test]
fn haproxy_timeout_check_does_not_shorten_a_check_below_the_connect_bound() {
    // 2.6.12: C = min(inter, timeout connect) = 2s; timeout check 500ms changes nothing
    // for a black hole: 3*2 + 2*2 .. + 2 = 10..12 s.
    let o = [
        ("faults.0.kind", "\"blackhole\""),
        ("balancers.lb.timeout_connect", "\"5s\""),
        ("balancers.lb.timeout_check", "\"500ms\""),
    ];
    let d = detections(&o, 2000);
    assert_within(&d.down, 10.0, 12.0, "down");
}

/// 2.6.12, HTTP check, stopped server: the check connects, and its new
/// expiry (connect + `timeout check`) is seen at the event loop's next
/// wake-up. Under traffic the loop wakes every few ms: d = 500 ms, so
/// detection = U(0, inter) + 3 x 0.5 + 2 x 2 = 5.5 .. 7.5 s.
#[test]
fn haproxy_timeout_check_under_traffic_ends_a_check_at_its_expiry() {
    let o = [
        ("faults.0.kind", "\"stop\""),
        ("balancers.lb.option_httpchk", "\"GET /health\""),
        ("balancers.lb.timeout_connect", "\"5s\""),
        ("balancers.lb.timeout_check", "\"500ms\""),
    ];
    let d = detections(&o, 2000);
    assert_within(&d.down, 5.5, 7.52, "down");
}

/// The same idle (one server, a request every 20 s): only the `default`
/// resolvers task wakes the loop, once a second, so a check lasts from
/// 500 ms to 1.5 s (measured here with nbthread 1: 501..1002 ms) — never
/// the 2 s of the task's place in the timer tree, and not always 500 ms.
#[test]
fn haproxy_timeout_check_when_idle_waits_for_the_resolvers_tick() {
    let o: Vec<(String, String)> = [
        ("faults.0.kind", "\"stop\""),
        ("faults.0.target", "\"s1\""),
        ("servers.s.count", "1"),
        ("clients.load.rate", "0.05"),
        ("balancers.lb.option_httpchk", "\"GET /health\""),
        ("balancers.lb.timeout_connect", "\"5s\""),
        ("balancers.lb.timeout_check", "\"500ms\""),
        // The DOWN message shows the first failing check's duration.
        ("balancers.lb.default_server.fall", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let spec = parse_with_overrides(BASE, "formula.toml", &o).unwrap_or_else(|e| panic!("{e}"));
    // Each seed boots the process at another uptime: another phase of the
    // checks against the resolvers task.
    let durations: Vec<u64> = (1..=12)
        .map(|seed| {
            let mut sim = Sim::new(&spec, seed);
            sim.run();
            let r = sim.finish();
            let d = r.faults[0].detected.as_ref().expect("detected");
            let ms = d
                .detail
                .split("check duration: ")
                .nth(1)
                .expect("a duration");
            let digits: String = ms.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().expect("ms")
        })
        .collect();
    assert!(
        durations.iter().all(|d| (500..=1502).contains(d)),
        "{durations:?}"
    );
    assert!(durations.iter().any(|d| *d > 600), "{durations:?}");
    assert!(durations.iter().any(|d| *d < 600), "{durations:?}");
}

#[test]
fn haproxy_http_check_detects_a_stopped_process_by_l7_timeout() {
    let o = [
        ("faults.0.kind", "\"stop\""),
        ("balancers.lb.option_httpchk", "\"GET /health\""),
    ];
    let d = detections(&o, 2000);
    assert_within(&d.down, 10.0, 12.0, "down");
}

#[test]
fn haproxy_l4_check_never_sees_a_stopped_process_with_room_in_its_backlog() {
    let r = run(&[("faults.0.kind", "\"stop\""), ("servers.s.backlog", "4096")]);
    assert!(r.faults[0].detected.is_none(), "{:?}", r.faults[0].detected);
}

#[test]
fn haproxy_retries_on_a_refusing_server_cost_one_second_each() {
    // retries 3, no redispatch, RST: the request fails after 3 turn-arounds = 3 s (§6)
    let r = run(&[("balancers.lb.retries", "3")]);
    let max = r.recorder.overall.max_ms();
    assert!((max - 3000.0).abs() < 10.0, "max latency {max} ms");
    assert!(r.recorder.by_kind[2] > 0, "503s expected");
}

#[test]
fn haproxy_retries_on_a_lost_host_take_arp_timeouts_and_turn_arounds() {
    // field report 2: power-off on the subnet -> EHOSTUNREACH after 3 s, 4 attempts
    // + 3 turn-arounds = 15 s (the 15.64 s max latency k6 saw).
    let r = run(&[
        ("balancers.lb.retries", "3"),
        ("balancers.lb.timeout_connect", "\"5s\""),
        ("faults.0.kind", "\"power-off\""),
    ]);
    let max = r.recorder.overall.max_ms();
    assert!((max - 15000.0).abs() < 20.0, "max latency {max} ms");
    let d = r.faults[0].detected.as_ref().unwrap();
    assert!(
        d.detail.contains("Layer4 timeout, check duration: 2000ms"),
        "{}",
        d.detail
    );
}

#[test]
fn nginx_detects_a_stopped_upstream_after_proxy_read_timeout() {
    let text = BASE
        .replace(
            "preset = \"haproxy-2.6\"",
            "preset = \"nginx-1.22\"\nproxy_read_timeout = \"3s\"",
        )
        .replace(
            "retries = 0\n[balancers.lb.default_server]\ncheck = true\n",
            "",
        )
        .replace("kind = \"kill\"", "kind = \"stop\"");
    let spec = hasim::config::parse(&text, "nginx.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let d = r.faults[0]
        .detected
        .as_ref()
        .unwrap()
        .at
        .secs_from(r.faults[0].at);
    // + the time until the first request is routed to it: 3 servers at 100/s -> < 30 ms
    assert!((3.0..3.031).contains(&d), "detected after {d}");
    assert_eq!(r.recorder.failed, 0, "GETs are passed to the next server");
}

#[test]
fn haproxy_global_maxconn_queues_clients_in_the_kernel_instead_of_failing() {
    // haproxy.md §6: at maxconn the listener stops accepting; clients wait in
    // the listen queue (backlog = maxconn), then their SYNs are dropped and
    // retransmitted after 1 s. No 503.
    let r = run(&[
        ("balancers.lb.maxconn", "2"),
        ("clients.load.rate", "400"),
        ("servers.s.service", "\"6ms\""),
        ("faults.0.kind", "\"slow\""),
        ("faults.0.factor", "1.0"),
    ]);
    assert_eq!(r.recorder.failed, 0, "{:?}", r.recorder.by_kind);
    assert!(
        r.recorder.overall.max_ms() >= 1000.0,
        "some SYNs wait for a retransmission"
    );
}

/// Galera behind HAProxy, a member black-holed: the summary credits the
/// detection to the member that evicted it, with the EVS formula, and
/// HAProxy's own DOWN follows on its own line with the checks' formula.
#[test]
fn each_detecting_component_shows_its_own_formula() {
    let text = r#"
[experiment]
duration = "40s"
[clients.app]
type = "open"
target = "lb"
rate = 50
method = "POST"
timeout = "10s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["g"]
[balancers.lb.default_server]
check = true
inter = "2s"
[databases.g]
type = "galera"
count = 3
[[faults]]
kind = "blackhole"
target = "g2"
at = "10s"
"#;
    let spec = hasim::config::parse(text, "g.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    let f = &r.faults[0];
    let d = f.detected.as_ref().expect("detected");
    assert!(d.by.starts_with('g'), "a Galera member evicts first: {d:?}");
    let formula = f.formula_detect.as_ref().expect("the EVS formula");
    assert!(formula.formula.contains("suspect_timeout"), "{formula:?}");
    let after = d.at.secs_from(f.at);
    assert!(formula.lo.as_secs_f64() <= after && after <= formula.hi.as_secs_f64());
    let lb = f
        .also_detected
        .iter()
        .find(|a| a.detection.by == "lb")
        .expect("HAProxy's DOWN on its own line");
    assert!(
        lb.formula.as_ref().unwrap().formula.contains("fall"),
        "{lb:?}"
    );
    // One line per product: the other member's eviction is not repeated.
    assert_eq!(f.also_detected.len(), 1, "{:?}", f.also_detected);
    let summary = hasim::report::summary_text(&r);
    assert!(summary.contains("then detected"), "{summary}");
}

/// Rolling kills 1 s apart: each member's detection lands after the next
/// kill began, and still belongs to its own kill.
#[test]
fn a_detection_after_the_next_fault_began_stays_with_its_fault() {
    let r = run(&[
        (
            "faults",
            r#"[{ kind = "kill", targets = ["s1", "s2"], at = "20s", every = "1s" }]"#,
        ),
        ("balancers.lb.default_server.inter", "\"2s\""),
    ]);
    assert_eq!(r.faults.len(), 2);
    for f in &r.faults {
        let d = f
            .detected
            .as_ref()
            .unwrap_or_else(|| panic!("{} undetected", f.label));
        assert_eq!(d.by, "lb");
        // fall 3 x inter 2 s: well after the next kill, 1 s later.
        assert!(d.at.secs_from(f.at) > 1.0, "{f:?}");
    }
}
