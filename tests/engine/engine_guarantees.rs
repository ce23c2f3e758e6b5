//! The engine's guarantees, one test each, asserted from what a run produces:
//! the per-request trace (start, end, outcome), the recorder's counts and the
//! components' state changes. Every experiment here is short and its instants
//! are exact (constant arrivals, constant service, fixed latency), so the
//! request each assertion is about is known to the nanosecond.

use hasim::config;
use hasim::metrics::{EventKind, FAILURE_KINDS, StateEvent};
use hasim::report::RunResult;
use hasim::sim::Sim;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

const S: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;

/// A `Write` the test keeps a handle on: the run's trace goes here.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One request as the client saw it (a trace row); instants in ns.
#[derive(Clone, Debug)]
struct Req {
    start: u64,
    end: u64,
    outcome: String,
}

impl Req {
    fn latency(&self) -> u64 {
        self.end - self.start
    }
    fn ok(&self) -> bool {
        self.outcome.starts_with('2') || self.outcome.starts_with('3')
    }
}

/// "12.345678901" (the trace's 9 decimals) -> ns, exactly.
fn ns(s: &str) -> u64 {
    let (whole, frac) = s.split_once('.').expect("seconds with decimals");
    assert_eq!(frac.len(), 9, "{s}");
    whole.parse::<u64>().unwrap() * S + frac.parse::<u64>().unwrap()
}

struct Run {
    result: RunResult,
    reqs: Vec<Req>,
}

impl Run {
    /// Requests issued in [from, to), in issue order.
    fn issued(&self, from: u64, to: u64) -> Vec<&Req> {
        self.reqs
            .iter()
            .filter(|r| r.start >= from && r.start < to)
            .collect()
    }
    fn at(&self, start: u64) -> &Req {
        let found: Vec<&Req> = self.reqs.iter().filter(|r| r.start == start).collect();
        assert_eq!(found.len(), 1, "requests issued at {start}ns: {found:?}");
        found[0]
    }
    fn failures(&self) -> Vec<&Req> {
        self.reqs.iter().filter(|r| !r.ok()).collect()
    }
    fn events(&self, kind: EventKind) -> Vec<&StateEvent> {
        self.result
            .recorder
            .events
            .iter()
            .filter(|e| e.kind == kind)
            .collect()
    }
    fn kind_count(&self, kind: &str) -> u64 {
        let i = FAILURE_KINDS.iter().position(|k| *k == kind).unwrap();
        self.result.recorder.by_kind[i]
    }
}

/// Parses `toml`, runs it with a trace, and checks the trace against the
/// recorder's own counts.
fn run(toml: &str) -> Run {
    let spec =
        config::parse(toml, "tests/engine_guarantees.toml").unwrap_or_else(|e| panic!("{e}"));
    let mut sim = Sim::new(&spec, spec.seed);
    let buf = Shared::default();
    sim.rec.trace = Some(Box::new(buf.clone()));
    sim.run();
    let result = sim.finish();
    let text = String::from_utf8(buf.0.borrow().clone()).unwrap();
    let mut reqs: Vec<Req> = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 10, "{l}");
            Req {
                start: ns(f[0]),
                end: ns(f[1]),
                outcome: f[3].to_string(),
            }
        })
        .collect();
    reqs.sort_by_key(|r| r.start);
    let rec = &result.recorder;
    assert_eq!(rec.requests, reqs.len() as u64);
    assert_eq!(rec.failed, reqs.iter().filter(|r| !r.ok()).count() as u64);
    assert_eq!(rec.by_kind.iter().sum::<u64>(), rec.failed);
    Run { result, reqs }
}

fn assert_within(what: &str, got: u64, lo: u64, hi: u64) {
    assert!(
        (lo..=hi).contains(&got),
        "{what}: {:.6}s not in [{:.6}s, {:.6}s]",
        got as f64 / 1e9,
        lo as f64 / 1e9,
        hi as f64 / 1e9
    );
}

// ------------------------------------------------------------------ kill --

/// HAProxy (http, retries 0, no checks) over s1 and s2; s2 SIGKILLed at 10 s
/// and restarted at 20 s. 20 requests/s, each served in 150 ms.
const KILL: &str = r#"
[experiment]
duration = "30s"
[network]
latency = "0.1ms"
[clients.load]
type = "open"
target = "lb"
rate = 20
arrivals = "constant"
timeout = "10s"
[balancers.lb]
type = "haproxy"
mode = "http"
servers = ["s1", "s2"]
retries = 0
timeout_connect = "5s"
timeout_server = "5s"
[balancers.lb.default_server]
check = false
[servers.s1]
workers = 64
service = "150ms"
[servers.s2]
workers = 64
service = "150ms"
[[faults]]
kind = "kill"
target = "s2"
at = "10s"
recover_at = "20s"
"#;

#[test]
fn a_crashed_process_handles_nothing() {
    let r = run(KILL);
    let (kill, restart) = (10 * S, 20 * S);

    // Before the kill nothing fails; requests in service on s2 at the kill
    // are reset by its kernel: HAProxy answers 502 at once.
    let before = r.issued(0, kill);
    assert_eq!(before.len(), 200);
    let reset: Vec<&&Req> = before.iter().filter(|q| !q.ok()).collect();
    assert!(!reset.is_empty(), "no request was in service at the kill");
    for q in &reset {
        assert_eq!(q.outcome, "502", "{q:?}");
        // Issued 150 ms (plus two 0.1 ms hops) or less before the kill.
        assert!(q.start + 151 * MS > kill, "{q:?} was done before the kill");
        assert_within("502 seen", q.end, kill, kill + MS);
    }

    // While s2 is dead, every request routed to it is refused (503, no retry,
    // no check to take it out): round robin alternates, so exactly every other
    // request fails, one round trip after it was sent.
    let dead = r.issued(kill, restart);
    assert_eq!(dead.len(), 200);
    for pair in dead.windows(2) {
        assert_ne!(pair[0].ok(), pair[1].ok(), "not alternating: {pair:?}");
    }
    for q in dead.iter().filter(|q| !q.ok()) {
        assert_eq!(q.outcome, "503", "{q:?}");
        assert!(q.latency() < MS, "refused after a round trip: {q:?}");
    }
    assert_eq!(dead.iter().filter(|q| !q.ok()).count(), 100);
    assert_eq!(r.kind_count("503"), 100);
    assert_eq!(r.kind_count("502") as usize, reset.len());

    // Restarted, it serves again (its half of the requests succeed), and no
    // timer of its former life fires into the new one.
    let after = r.issued(restart, 30 * S);
    // (Requests still in service at the end are not recorded.)
    assert!(after.len() >= 196, "{}", after.len());
    assert!(after.iter().all(|q| q.ok()), "{:?}", r.failures());
    assert!(after.iter().all(|q| q.latency() < 151 * MS));
    assert_eq!(r.result.recorder.failed, 100 + reset.len() as u64);
}

// ------------------------------------------------------------------ stop --

/// A plain server with `backlog = 3` hit directly (no balancer), stopped
/// from 10 s to 20 s. `{rate}` and `{timeout}` vary per test.
fn stop_experiment(rate: u32, timeout: &str) -> String {
    format!(
        r#"
[experiment]
duration = "40s"
[network]
latency = "0.1ms"
[clients.load]
type = "open"
target = "s"
rate = {rate}
arrivals = "constant"
timeout = "{timeout}"
[servers.s]
workers = 8
service = "10ms"
backlog = 3
[[faults]]
kind = "stop"
target = "s"
at = "10s"
recover_at = "20s"
"#
    )
}

#[test]
fn a_stopped_process_completes_handshakes_until_its_backlog_is_full() {
    // Client timeout 2s, 2 requests/s.
    let r = run(&stop_experiment(2, "2s"));
    let (stop, cont) = (10 * S, 20 * S);
    assert!(r.issued(0, stop).iter().all(|q| q.ok()));

    // Every failure is a client timeout of a request issued while stopped.
    let failures = r.failures();
    assert!(!failures.is_empty());
    for q in &failures {
        assert_eq!(q.outcome, "timeout", "{q:?}");
        assert!(q.start >= stop && q.start < cont, "{q:?}");
        assert_eq!(q.latency(), 2 * S, "{q:?}");
    }
    // The first backlog + 1 = 4 connections were accepted by the kernel and
    // wait unanswered: they time out; so do the next ones, whose SYNs are
    // dropped and retransmitted after 1 s, still within the stop.
    let stopped = r.issued(stop, cont);
    assert_eq!(stopped.len(), 20);
    for q in &stopped[..18] {
        assert_eq!(q.outcome, "timeout", "{q:?}");
    }
    // Those issued in the last second have their SYN retransmitted after the
    // continue: still waiting then, they are served.
    for q in &stopped[18..] {
        assert!(q.ok(), "{q:?}");
        assert!(q.end > cont, "{q:?}");
        assert_within("served after SYN retransmit", q.latency(), S, S + 20 * MS);
    }
    // After the continue everything is served at once.
    let after = r.issued(cont, 40 * S);
    assert_eq!(after.len(), 40);
    for q in &after {
        assert!(q.ok(), "{q:?}");
        assert!(q.latency() < 11 * MS, "{q:?}");
    }
    assert_eq!(r.kind_count("timeout"), 18);
}

#[test]
fn a_stopped_process_backlog_holds_backlog_plus_one_then_syns_are_retransmitted() {
    // A client patient enough to see it: 1 request/s, timeout 30s.
    let r = run(&stop_experiment(1, "30s"));
    let cont = 20 * S;
    assert!(r.failures().is_empty(), "{:?}", r.failures());
    let stopped = r.issued(10 * S, cont);
    assert_eq!(stopped.len(), 10);
    // Requests at 10, 11, 12, 13 s sit in the accept queue (backlog 3 holds 4)
    // and are served the moment the process continues.
    for q in &stopped[..4] {
        // Read at the continue, served in 10 ms, answered one hop later.
        assert_eq!(q.end, cont + 10 * MS + 100_000, "{q:?}");
    }
    // The fifth SYN is dropped: Linux retransmits it 1, 3, 7, 15 s after the
    // first; the first retransmission after the continue gets in.
    let retx_delay = |q: &Req| q.latency() / S * S; // whole seconds
    let expect = [7, 7, 7, 3, 3, 1];
    for (q, want) in stopped[4..].iter().zip(expect) {
        assert_eq!(retx_delay(q), want * S, "{q:?}");
        assert_within(
            "retransmit latency",
            q.latency(),
            want * S,
            want * S + 20 * MS,
        );
    }
}

#[test]
fn linux_6_5_resends_the_first_syns_at_a_fixed_second() {
    // The same stop under kernel 6.8: tcp_syn_linear_timeouts = 4 keeps the
    // RTO at 1 s for five retransmissions (1, 2, 3, 4, 5 s after the first
    // SYN), then doubles (7, 11, ... s).
    let text = stop_experiment(1, "30s").replace(
        "latency = \"0.1ms\"",
        "latency = \"0.1ms\"\nkernel = \"6.8\"",
    );
    let r = run(&text);
    assert!(r.failures().is_empty(), "{:?}", r.failures());
    let stopped = r.issued(10 * S, 20 * S);
    let retx_delay = |q: &Req| q.latency() / S * S;
    let expect = [7, 5, 4, 3, 2, 1];
    for (q, want) in stopped[4..].iter().zip(expect) {
        assert_eq!(retx_delay(q), want * S, "{q:?}");
    }
}

// ------------------------------------------------------------- blackhole --

/// HAProxy over s1 and s2 with L4 checks (inter 2s, fall 3, rise 2),
/// `timeout connect 1s`, retries 0; host s2 blackholed from 10.025 s to 25 s.
const BLACKHOLE: &str = r#"
[experiment]
duration = "40s"
[network]
latency = "0.1ms"
[clients.load]
type = "open"
target = "lb"
rate = 20
arrivals = "constant"
timeout = "10s"
[balancers.lb]
type = "haproxy"
servers = ["s1", "s2"]
retries = 0
timeout_connect = "1s"
timeout_server = "5s"
[balancers.lb.default_server]
check = true
inter = "2s"
fall = 3
rise = 2
[servers.s1]
service = "5ms"
[servers.s2]
service = "5ms"
[[faults]]
kind = "blackhole"
target = "s2"
at = "10.025s"
recover_at = "25s"
"#;

#[test]
fn a_blackholed_host_answers_nothing() {
    let r = run(BLACKHOLE);
    let (hole, heal) = (10 * S + 25 * MS, 25 * S);
    let down = r.events(EventKind::MarkedDown);
    assert_eq!(down.len(), 1, "{down:?}");
    let down = down[0];
    assert_eq!(
        (down.component.as_str(), down.subject.as_str()),
        ("lb", "s2")
    );
    assert!(
        down.detail.contains("Layer4 timeout"),
        "detail: {}",
        down.detail
    );
    let marked_down = down.at.0;
    // Detection: fall = 3 checks time out, each after `inter` (2 s, no
    // `timeout check`), the next one starting `fastinter` (2 s) after the
    // end of the last; the first starts within `inter` of the blackhole.
    assert_within(
        "marked down",
        marked_down,
        hole + 10 * S,
        hole + 12 * S + 10 * MS,
    );

    // Every failure: a request sent to s2 after the blackhole and before it
    // was marked down, answered 503 when `timeout connect` (1 s) fired.
    let failures = r.failures();
    assert!(failures.len() > 20, "{}", failures.len());
    for q in &failures {
        assert_eq!(q.outcome, "503", "{q:?}");
        assert!(q.start >= hole && q.start < marked_down, "{q:?}");
        assert_within("503 latency", q.latency(), S, S + MS);
    }
    // Round robin: half of the requests in that span went to s2.
    let span = r.issued(hole, marked_down - S);
    let failed = span.iter().filter(|q| !q.ok()).count();
    assert!(
        failed.abs_diff(span.len() / 2) <= 1,
        "{failed} of {}",
        span.len()
    );

    // Back after the blackhole: checks pass again, rise = 2.
    let up = r.events(EventKind::MarkedUp);
    assert_eq!(up.len(), 1, "{up:?}");
    assert_within("marked up", up[0].at.0, heal, heal + 5 * S);
    assert!(r.issued(marked_down, 40 * S).iter().all(|q| q.ok()));
}

// ------------------------------------------------------------- power-off --

/// HAProxy (retries 0, timeout connect 5s, no checks) over s1, s2; host s2
/// powered off at 10.025 s, on again at 20 s. `{subnet}` = same_subnet.
fn power_off_experiment(same_subnet: bool) -> String {
    format!(
        r#"
[experiment]
duration = "30s"
[network]
latency = "0.1ms"
same_subnet = {same_subnet}
[clients.load]
type = "open"
target = "lb"
rate = 20
arrivals = "constant"
timeout = "10s"
[balancers.lb]
type = "haproxy"
servers = ["s1", "s2"]
retries = 0
timeout_connect = "5s"
timeout_server = "5s"
[balancers.lb.default_server]
check = false
[servers.s1]
service = "5ms"
[servers.s2]
service = "5ms"
[[faults]]
kind = "power-off"
target = "s2"
at = "10.025s"
recover_at = "20s"
"#
    )
}

#[test]
fn power_off_on_the_same_subnet_fails_connects_with_ehostunreach_after_3s() {
    let r = run(&power_off_experiment(true));
    let (off, on) = (10 * S + 25 * MS, 20 * S);
    let failures = r.failures();
    // Every request routed to s2 while it was off: half of them.
    let issued = r.issued(off, on).len();
    assert!(
        failures.len().abs_diff(issued / 2) <= 1,
        "{} of {issued}",
        failures.len()
    );
    for q in &failures {
        assert_eq!(q.outcome, "503", "{q:?}");
        assert!(q.start >= off && q.start < on, "{q:?}");
        // ARP gives up after 3 x 1 s: EHOSTUNREACH, HAProxy does not retry.
        assert_within("503 latency", q.latency(), 3 * S, 3 * S + MS);
    }
    assert!(r.issued(on, 30 * S).iter().all(|q| q.ok()));
}

#[test]
fn power_off_on_another_subnet_is_silence_until_the_connect_timeout() {
    let r = run(&power_off_experiment(false));
    let (off, on) = (10 * S + 25 * MS, 20 * S);
    let failures = r.failures();
    assert!(!failures.is_empty());
    for q in &failures {
        assert_eq!(q.outcome, "503", "{q:?}");
        assert!(q.start >= off && q.start < on, "{q:?}");
        // No EHOSTUNREACH: SYNs vanish, `timeout connect` (5 s) decides.
        assert_within("503 latency", q.latency(), 5 * S, 5 * S + MS);
    }
}

// ------------------------------------------------------------- partition --

/// HAProxy -> s1 over a 50 ms link; each request takes 500 ms. A request
/// issued at 10 s is answered by s1 at 10.5511 s; its response reaches the
/// balancer at 10.6011 s. A one-way partition s1 -> lb starts at 10.56 s,
/// while that response is on the wire, and heals at 16 s.
const PARTITION: &str = r#"
[experiment]
duration = "30s"
[network]
latency = "1ms"
[[network.links]]
between = ["lb", "s1"]
latency = "50ms"
[clients.load]
type = "open"
target = "lb"
rate = 1
arrivals = "constant"
timeout = "10s"
[balancers.lb]
type = "haproxy"
servers = ["s1"]
retries = 0
timeout_connect = "1s"
timeout_server = "2s"
[servers.s1]
service = "500ms"
[[faults]]
kind = "partition"
groups = [["s1"], ["lb"]]
one_way = true
at = "10.56s"
recover_at = "16s"
"#;

#[test]
fn a_partition_catches_messages_in_flight() {
    let r = run(PARTITION);
    assert!(r.issued(0, 10 * S).iter().all(|q| q.ok()));
    let q = r.at(10 * S);
    // Sent before the partition, due after it: dropped on arrival, and its
    // retransmissions (200 ms, 400 ms, ...) too until HAProxy's `timeout
    // server` (2 s from the established connection at 10.101 s) gives 504.
    assert_eq!(q.outcome, "504", "{q:?}");
    assert_within(
        "504 latency",
        q.latency(),
        2 * S + 100 * MS,
        2 * S + 104 * MS,
    );
    // Long after the heal everything works again.
    assert!(r.issued(17 * S, 30 * S).iter().all(|q| q.ok()));
}

/// design.md: a host "partitioned away" answers a new connect with nothing,
/// so the sender's connect timeout fires. With the one-way partition
/// s1 -> lb, the SYN reaches s1 but its SYN-ACK cannot reach lb: HAProxy's
/// `timeout connect` (1 s, retries 0) should answer 503.
#[test]
fn a_partition_blocks_the_handshake_of_new_connections() {
    let r = run(PARTITION);
    let q = r.at(12 * S);
    assert_eq!(q.outcome, "503", "{q:?}");
    assert_within("503 latency", q.latency(), S, S + 3 * MS);
}

// ---------------------------------------------------------- same instant --

/// A client straight to a server, zero latency, 10 requests/s served in
/// exactly 100 ms: the request issued at 4.9 s completes at 5.0 s, the
/// instant of the kill; the one issued at 6.0 s arrives at the instant of the
/// restart.
const SAME_INSTANT: &str = r#"
[experiment]
duration = "10s"
[network]
latency = 0
[clients.load]
type = "open"
target = "s"
rate = 10
arrivals = "constant"
timeout = "5s"
[servers.s]
workers = 8
service = "100ms"
[[faults]]
kind = "kill"
target = "s"
at = "5s"
recover_at = "6s"
"#;

#[test]
fn a_fault_at_the_same_instant_as_other_events_applies_first() {
    let r = run(SAME_INSTANT);
    let ms = |m: u64| m * MS;
    // Done at 4.9 s, before the kill.
    assert_eq!(r.at(ms(4800)).outcome, "200");
    assert_eq!(r.at(ms(4800)).end, ms(4900));
    // Its service would end at 5.0 s, the kill's instant: the kill comes
    // first, the reply is never sent, the kernel resets the connection.
    let q = r.at(ms(4900));
    assert_eq!((q.outcome.as_str(), q.end), ("reset", ms(5000)), "{q:?}");
    // Issued (and arriving) at the kill's instant: refused.
    let q = r.at(ms(5000));
    assert_eq!((q.outcome.as_str(), q.end), ("refused", ms(5000)), "{q:?}");
    for q in r.issued(ms(5000), ms(6000)) {
        assert_eq!(q.outcome, "refused", "{q:?}");
    }
    // Arriving at the restart's instant: the new process takes it.
    let q = r.at(ms(6000));
    assert_eq!((q.outcome.as_str(), q.end), ("200", ms(6100)), "{q:?}");
    assert_eq!(r.result.recorder.failed, 11);
    assert_eq!(r.kind_count("reset"), 1);
    assert_eq!(r.kind_count("refused"), 10);
}

/// A caller that gave up has closed its socket: its kernel sends no more SYN
/// retransmissions (kernel.rs `continue_process` also skips such connects).
/// Server `s` (1 worker, 3 s per request, backlog 0) is stopped from 1 s to
/// 10 s. Client `gone` (timeout 2 s) sends at 5, 6, 7, 8 s: the SYNs of 7 s
/// and 8 s are dropped and retransmitted at +1 s and +3 s; both callers have
/// given up (at 9 s and 10 s) before their second retransmission (10.0003 s,
/// 11.0003 s). Client `probe` sends one request at 10.5 s to the running,
/// idle server: it should take 3 s.
#[test]
fn a_caller_that_gave_up_sends_no_more_syn_retransmissions() {
    let r = run(r#"
[experiment]
duration = "20s"
[network]
latency = "0.1ms"
[clients.gone]
type = "open"
target = "s"
rate = 1
arrivals = "constant"
timeout = "2s"
start = "5s"
stop = "8.5s"
[clients.probe]
type = "open"
target = "s"
rate = 1
arrivals = "constant"
timeout = "15s"
start = "10.5s"
stop = "10.6s"
[servers.s]
workers = 1
service = "3s"
backlog = 0
[[faults]]
kind = "stop"
target = "s"
at = "1s"
recover_at = "10s"
"#);
    let probe = r.at(10 * S + 500 * MS);
    assert_eq!(probe.outcome, "200");
    // Measured: 5.5 s, queued behind the phantom request of the caller gone at 9 s.
    assert_within("probe latency", probe.latency(), 3 * S, 3 * S + MS);
}

/// `Sim::run_until` documents "false when the run is over"; a caller driving
/// a run in steps (`while sim.run_until(t) { t += step }`) relies on it.
#[test]
fn run_until_says_when_the_run_is_over() {
    let spec = config::parse(SAME_INSTANT, "t.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let end = sim.end;
    assert!(
        !sim.run_until(end),
        "the run is over, run_until says it is not"
    );
}
