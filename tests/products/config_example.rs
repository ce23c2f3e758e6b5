//! A complete experiment file parses into the expected plain data, with the
//! presets filling what the file leaves out.

use hasim::config::{self, spec::*};
use hasim::engine::{Dur, SimTime};
use hasim::products::client::config::*;
use hasim::products::haproxy::config::*;
use hasim::products::server::config::*;

const EXAMPLE: &str = r#"
[experiment]
name = "full-stack"
description = "every section once"
duration = "45s"
seed = 42
bucket = "500ms"

[network]
latency = { base = "0.1ms", jitter = "20us", jitter_dist = "uniform" }
loss = 0.001
same_subnet = false
arp_timeout = "3s"
syn_rto = "1s"
syn_retries = 5
rto_min = "200ms"
[[network.links]]
between = ["haproxy-db", "db1"]
latency = "1ms"
loss = 0.01

[clients.users]
type = "open"
preset = "k6"
target = "web"
rate = 200
rate_steps = [ { at = "20s", rate = 400 }, { at = "30s", rate = 100 } ]
arrivals = "constant"
method = "POST"
timeout = "15s"
start = "1s"
stop = "40s"
host = "clients"

[clients.k6]
type = "closed"
target = "haproxy-db"
vus = 20
iteration = [
  { request = "POST" },
  { request = "GET", count = 5 },
  { sleep = "100ms" },
  { sleep = { dist = "exponential", mean = "50ms" } },
]
host = "clients"

[balancers.web]
preset = "nginx-1.22"
servers = ["app"]
worker_processes = 2
proxy_connect_timeout = "2s"
proxy_read_timeout = "5s"
proxy_next_upstream = ["error", "timeout", "http_502"]
proxy_next_upstream_timeout = "0"
[balancers.web.default_server]
max_fails = 2
[balancers.web.server.app3]
backup = true

[balancers.haproxy-db]
type = "haproxy"
servers = ["db1", "db2", "db3"]
mode = "tcp"
balance = "leastconn"
timeout_connect = "5s"
timeout_server = "10s"
timeout_client = "30s"
timeout_check = "1s"
option_redispatch = true
on_marked_down = "shutdown-sessions"
option_httpchk = "GET /health"
spread_checks = 5
[balancers.haproxy-db.default_server]
check = true
inter = "500ms"
rise = 3
maxconn = 32
[balancers.haproxy-db.server.db2]
downinter = "5s"
fall = 2
[balancers.haproxy-db.server.db3]
backup = true
weight = 10

[apps.app]
count = 3
workers = 16
queue_limit = 100
service = { dist = "lognormal", median = "2ms", p99 = "20ms" }
[[apps.app.calls]]
target = "haproxy-db"
count = 2
pool = 10
[[apps.app.calls]]
target = "cache"
timeout = "1s"
error_status = 503

[servers.db1]
workers = 4
service = { dist = "uniform", min = "1ms", max = "3ms" }
backlog = 128
[servers.db2]
service = "5ms"
host = "dbhost2"
[servers.db3]
service = { dist = "constant", value = "5ms" }
check_status = 503
[servers.cache]
service = { dist = "exponential", mean = "300us" }

[[faults]]
kind = "kill"
target = "db2"
at = "13s"
recover_after = "20s"

[[faults]]
kind = "power-off"
targets = ["app", "db1"]
at = "10s"
every = "5s"
recover_after = "3s"

[[faults]]
kind = "partition"
groups = [["haproxy-db"], ["db1", "dbhost2"]]
one_way = true
mtbf = "10m"
mttr = { dist = "exponential", mean = "30s" }
start = "5s"

[[faults]]
kind = "slow"
target = "cache"
factor = 10.0
at = "2s"
recover_at = "4s"
"#;

fn ms(n: u64) -> Dur {
    Dur::from_ms(n)
}
fn s(n: u64) -> Dur {
    Dur::from_secs(n)
}
fn at(n: u64) -> SimTime {
    SimTime(n * Dur::S)
}

#[test]
fn complete_example() {
    let spec = config::parse(EXAMPLE, "experiments/full.toml").unwrap();

    // [experiment]
    assert_eq!(spec.file, "experiments/full.toml");
    assert_eq!(spec.name, "full-stack");
    assert_eq!(spec.description, "every section once");
    assert_eq!(spec.duration, s(45));
    assert_eq!(spec.seed, 42);
    assert_eq!(spec.bucket, ms(500));

    // [network]
    let n = &spec.network;
    assert_eq!(
        n.latency,
        LatencySpec {
            base: Dur::from_us(100),
            jitter: Jitter::Uniform(Dur::from_us(20))
        }
    );
    assert_eq!(n.loss, 0.001);
    assert!(!n.same_subnet);
    assert_eq!(
        (n.arp_timeout, n.syn_rto, n.syn_retries, n.rto_min),
        (s(3), s(1), 5, ms(200))
    );
    assert_eq!(n.links.len(), 1);
    assert_eq!(
        (n.links[0].a.as_str(), n.links[0].b.as_str()),
        ("haproxy-db", "db1")
    );
    assert_eq!(n.links[0].latency.as_ref().unwrap().base, ms(1));
    assert_eq!(n.links[0].loss, Some(0.01));

    // Nodes: clients, balancers, apps, servers, each in file order; `count`
    // expanded into numbered instances.
    let names: Vec<&str> = spec.nodes.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "users",
            "k6",
            "web",
            "haproxy-db",
            "app1",
            "app2",
            "app3",
            "db1",
            "db2",
            "db3",
            "cache"
        ]
    );
    let users = &spec.nodes["users"];
    assert_eq!(users.host, "clients");
    assert_eq!(users.line, 22);
    assert_eq!(spec.nodes["app2"].host, "app2");
    assert_eq!(spec.nodes["app2"].line, spec.nodes["app1"].line);
    assert_eq!(spec.nodes["db2"].host, "dbhost2");
    assert_eq!(spec.nodes["db1"].host, "db1");

    // Open client.
    let NodeKind::Client(c) = &users.kind else {
        panic!("{:?}", users.kind)
    };
    assert_eq!(c.target, "web");
    assert_eq!((c.start, c.stop, c.timeout), (at(1), at(40), s(15)));
    let LoadSpec::Open(o) = &c.load else { panic!() };
    assert_eq!(
        o.rate_steps,
        vec![(at(1), 200.0), (at(20), 400.0), (at(30), 100.0)]
    );
    assert_eq!((o.arrivals, o.method), (Arrivals::Constant, Method::Post));

    // Closed client: k6's 60s timeout from the preset, stop = duration.
    let NodeKind::Client(c) = &spec.nodes["k6"].kind else {
        panic!()
    };
    assert_eq!(c.timeout, s(60));
    assert_eq!((c.start, c.stop), (SimTime::ZERO, at(45)));
    let LoadSpec::Closed(k) = &c.load else {
        panic!()
    };
    assert_eq!(k.vus, 20);
    assert_eq!(k.iteration.len(), 4);
    assert!(matches!(
        k.iteration[0],
        StepSpec::Request {
            method: Method::Post,
            count: 1
        }
    ));
    assert!(matches!(
        k.iteration[1],
        StepSpec::Request {
            method: Method::Get,
            count: 5
        }
    ));
    assert!(matches!(&k.iteration[2], StepSpec::Sleep(DistSpec::Constant(d)) if *d == ms(100)));
    assert!(
        matches!(&k.iteration[3], StepSpec::Sleep(DistSpec::Exponential { mean }) if *mean == ms(50))
    );

    // nginx: file values, preset defaults for the rest.
    let NodeKind::Nginx(x) = &spec.nodes["web"].kind else {
        panic!()
    };
    assert_eq!(x.worker_processes, 2);
    assert!(!x.zone);
    assert_eq!(
        (x.proxy_connect_timeout, x.proxy_read_timeout),
        (s(2), s(5))
    );
    let nu = x.proxy_next_upstream;
    assert!(nu.error && nu.timeout && nu.http_502);
    assert!(!nu.http_500 && !nu.http_503 && !nu.http_504 && !nu.non_idempotent && !nu.off);
    assert_eq!(x.proxy_next_upstream_tries, 0);
    assert_eq!(x.proxy_next_upstream_timeout, Dur::ZERO);
    let ns: Vec<(&str, u32, u32, u64, bool)> = x
        .servers
        .iter()
        .map(|v| {
            (
                v.name.as_str(),
                v.weight,
                v.max_fails,
                v.fail_timeout_s,
                v.backup,
            )
        })
        .collect();
    assert_eq!(
        ns,
        [
            ("app1", 1, 2, 10, false),
            ("app2", 1, 2, 10, false),
            ("app3", 1, 2, 10, true)
        ]
    );

    // HAProxy: preset type from `type`, defaults from haproxy-2.6.
    let NodeKind::Haproxy(h) = &spec.nodes["haproxy-db"].kind else {
        panic!()
    };
    assert_eq!((h.mode, h.balance), (HaproxyMode::Tcp, Balance::LeastConn));
    assert_eq!((h.maxconn, h.backlog), (4096, 4096));
    assert_eq!(h.timeout_connect, Some(s(5)));
    assert_eq!(h.timeout_server, Some(s(10)));
    assert_eq!(h.timeout_client, Some(s(30)));
    assert_eq!(
        h.timeout_queue, None,
        "unset = timeout connect, resolved by the model"
    );
    assert_eq!(h.timeout_check, Some(s(1)));
    assert_eq!(h.retries, 3);
    assert!(h.redispatch && h.shutdown_sessions_on_marked_down);
    assert_eq!(
        h.check,
        CheckKind::Http {
            path: "/health".into()
        }
    );
    assert_eq!(h.spread_checks, 5);
    let [d1, d2, d3] = &h.servers[..] else {
        panic!("{:?}", h.servers)
    };
    assert_eq!(d1.name, "db1");
    assert!(d1.check && !d1.backup);
    assert_eq!(
        (d1.inter, d1.fastinter, d1.downinter),
        (ms(500), ms(500), ms(500))
    );
    assert_eq!((d1.rise, d1.fall, d1.weight, d1.maxconn), (3, 3, 1, 32));
    assert_eq!(
        (d2.inter, d2.fastinter, d2.downinter),
        (ms(500), ms(500), s(5))
    );
    assert_eq!((d2.rise, d2.fall), (3, 2));
    assert!(d3.backup);
    assert_eq!((d3.weight, d3.fall, d3.maxconn), (10, 3, 32));

    // Apps: server keys + calls, defaults for the rest.
    let NodeKind::Server(BackendSpec::App(a)) = &spec.nodes["app3"].kind else {
        panic!()
    };
    assert_eq!((a.server.workers, a.server.queue_limit), (16, Some(100)));
    assert_eq!(
        a.server.service,
        DistSpec::LogNormal {
            median: ms(2),
            p99: ms(20)
        }
    );
    assert_eq!((a.server.backlog, a.server.check_status), (511, 200));
    assert_eq!(a.calls.len(), 2);
    let c0 = &a.calls[0];
    assert_eq!((c0.target.as_str(), c0.count), ("haproxy-db", 2));
    assert_eq!(
        (c0.connect_timeout, c0.timeout, c0.error_status),
        (s(5), s(30), 500)
    );
    assert_eq!(c0.connection, ConnectionMode::Pool { size: 10 });
    let c1 = &a.calls[1];
    assert_eq!(
        (c1.target.as_str(), c1.count, c1.timeout, c1.error_status),
        ("cache", 1, s(1), 503)
    );
    assert_eq!(c1.connection, ConnectionMode::PerRequest);

    // Servers.
    let NodeKind::Server(BackendSpec::Server(v)) = &spec.nodes["db1"].kind else {
        panic!()
    };
    assert_eq!((v.workers, v.backlog, v.queue_limit), (4, 128, None));
    assert_eq!(
        v.service,
        DistSpec::Uniform {
            min: ms(1),
            max: ms(3)
        }
    );
    let NodeKind::Server(BackendSpec::Server(v)) = &spec.nodes["db3"].kind else {
        panic!()
    };
    assert_eq!((v.workers, v.check_status), (8, 503));
    assert_eq!(v.service, DistSpec::Constant(ms(5)));

    // Faults.
    let f = &spec.faults;
    assert_eq!(f.len(), 4);
    assert_eq!(
        (&f[0].fault, f[0].targets.clone()),
        (&Fault::Kill { process: None }, vec!["db2".to_string()])
    );
    assert!(
        matches!(f[0].timing, FaultTiming::Fixed { at: a, recover_at: Some(r) } if a == at(13) && r == at(33))
    );
    assert_eq!(f[0].line, 112);
    assert_eq!(f[1].fault, Fault::PowerOff);
    assert_eq!(
        f[1].targets,
        ["app1", "app2", "app3", "db1"],
        "a group expands to its hosts"
    );
    assert!(
        matches!(f[1].timing, FaultTiming::Staggered { at: a, every, duration: Some(d) }
        if a == at(10) && every == s(5) && d == s(3))
    );
    assert_eq!(
        f[2].fault,
        Fault::Partition {
            groups: vec![
                vec!["haproxy-db".to_string()],
                vec!["db1".into(), "dbhost2".into()]
            ],
            one_way: true
        }
    );
    assert!(f[2].targets.is_empty());
    assert!(
        matches!(&f[2].timing, FaultTiming::Random { mtbf, mttr: DistSpec::Exponential { mean }, start }
        if *mtbf == s(600) && *mean == s(30) && *start == at(5))
    );
    assert_eq!(f[3].fault, Fault::Slow { factor: 10.0 });
    assert!(
        matches!(f[3].timing, FaultTiming::Fixed { at: a, recover_at: Some(r) } if a == at(2) && r == at(4))
    );
}

#[test]
fn defaults_without_optional_sections() {
    let spec = config::parse(
        r#"[experiment]
duration = "10s"
[clients.c]
type = "open"
target = "lb"
rate = 5
[balancers.lb]
type = "haproxy"
servers = ["s1"]
[balancers.ng]
type = "nginx"
servers = ["s1"]
[servers.s1]
service = "1ms"
"#,
        "experiments/small.toml",
    )
    .unwrap();
    assert_eq!(
        (spec.name.as_str(), spec.seed, spec.bucket),
        ("small", 1, s(1))
    );
    assert_eq!(spec.network.latency.base, Dur::from_us(100));
    assert_eq!(spec.network.latency.jitter, Jitter::None);
    assert_eq!((spec.network.loss, spec.network.same_subnet), (0.0, true));
    assert_eq!(
        (spec.network.syn_retries, spec.network.rto_min),
        (6, ms(200))
    );
    let NodeKind::Client(c) = &spec.nodes["c"].kind else {
        panic!()
    };
    assert_eq!(c.timeout, s(60), "k6 preset applies by default");
    let LoadSpec::Open(o) = &c.load else { panic!() };
    assert_eq!((o.arrivals, o.method), (Arrivals::Poisson, Method::Get));
    let NodeKind::Haproxy(h) = &spec.nodes["lb"].kind else {
        panic!()
    };
    assert_eq!(
        (h.mode, h.balance, h.retries, h.redispatch),
        (HaproxyMode::Http, Balance::RoundRobin, 3, false)
    );
    assert_eq!((h.timeout_connect, h.timeout_check), (None, None));
    assert_eq!(h.check, CheckKind::L4);
    let v = &h.servers[0];
    assert!(!v.check, "HAProxy checks are off unless asked for");
    assert_eq!(
        (v.inter, v.fastinter, v.downinter, v.rise, v.fall, v.weight),
        (s(2), s(2), s(2), 2, 3, 1)
    );
    let NodeKind::Nginx(x) = &spec.nodes["ng"].kind else {
        panic!()
    };
    assert_eq!(
        (
            x.worker_processes,
            x.proxy_connect_timeout,
            x.proxy_read_timeout
        ),
        (1, s(60), s(60))
    );
    assert!(
        x.proxy_next_upstream.error
            && x.proxy_next_upstream.timeout
            && !x.proxy_next_upstream.http_502
    );
    assert_eq!(
        (
            x.servers[0].max_fails,
            x.servers[0].fail_timeout_s,
            x.servers[0].weight
        ),
        (1, 10, 1)
    );
    assert!(spec.faults.is_empty());
}
