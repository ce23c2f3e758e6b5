//! `hasim import`: real configuration files in, an experiment file out that
//! `hasim run` runs; every value annotated with its file:line, every
//! unmodelled directive warned; bad input refused with exit 2 and nothing
//! written.

use crate::common::{hasim, scratch_dir, show, text};
use hasim::config::spec::{ExperimentSpec, NodeKind};
use std::path::{Path, PathBuf};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(p)
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Imports `files` into `dir/exp.toml` (with `extra` flags), checks it
/// went well, runs it, and returns the experiment text and import's stderr.
fn import_and_run(dir: &Path, files: &[&str], extra: &[&str]) -> (String, String) {
    let out = dir.join("exp.toml");
    let paths: Vec<PathBuf> = files.iter().map(|f| fixture(f)).collect();
    let mut args: Vec<&str> = vec!["import"];
    args.extend(paths.iter().map(|p| s(p)));
    args.extend(["-o", s(&out)]);
    args.extend(extra);
    let o = hasim(dir, &args);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        o.stdout.is_empty(),
        "with -o nothing goes to stdout: {}",
        show(&o)
    );
    let toml = std::fs::read_to_string(&out).unwrap();
    let r = hasim(dir, &["run", s(&out), "-o", s(&dir.join("out")), "-q"]);
    assert_eq!(r.status.code(), Some(0), "{}\n{toml}", show(&r));
    assert!(dir.join("out/summary.txt").is_file());
    (toml, text(&o.stderr))
}

/// Every value of a balancer or database table says where it came from
/// (or that it is a placeholder), but the preset and type names.
fn every_value_is_annotated(toml: &str) {
    let mut in_product = false;
    for line in toml.lines() {
        if line.starts_with('[') {
            in_product = line.starts_with("[balancers.") || line.starts_with("[databases.");
            continue;
        }
        if !in_product || line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with("preset = ") || line.starts_with("type = ") {
            continue;
        }
        let (_, note) = line
            .split_once("  # ")
            .unwrap_or_else(|| panic!("no comment on `{line}`"));
        assert!(
            note.contains(':') || note.starts_with("PLACEHOLDER"),
            "`{line}`: the comment names no file:line"
        );
    }
}

#[test]
fn field_report_2_imports_and_runs() {
    let dir = scratch_dir("import", "report-2");
    let (toml, err) = import_and_run(&dir, &["report-2/haproxy.cfg", "report-2/nginx.conf"], &[]);
    every_value_is_annotated(&toml);
    assert!(
        toml.contains("haproxy.cfg:8: timeout connect 5000"),
        "{toml}"
    );
    assert!(
        toml.contains("[[apps.service1.calls]]\ntarget = \"haproxy\""),
        "{toml}"
    );
    assert!(toml.contains("PLACEHOLDER"), "{toml}");
    // Each unmodelled directive: a warning on stderr and a line at the end.
    for w in [
        "haproxy.cfg:3: `log stdout local0 debug`: not modelled",
        "haproxy.cfg:15: `stats enable`: not modelled",
        "nginx.conf:18: `stub_status on`: not modelled",
    ] {
        assert!(
            err.contains(&format!(
                "warning: {}",
                fixture("report-2").join(w).display()
            )),
            "no `{w}` in:\n{err}"
        );
        let tail = toml
            .split("# Not modelled")
            .nth(1)
            .expect("a list at the end");
        assert!(tail.contains(w), "no `{w}` at the end of:\n{toml}");
    }
}

/// Resolved through the experiment loader: the balancers imported from
/// report 2's haproxy.cfg and nginx.conf are those of
/// experiments/mysql-replicas-k6.toml.
#[test]
fn field_report_2_gives_the_topology_of_mysql_replicas_k6() {
    let files = [
        fixture("report-2/haproxy.cfg"),
        fixture("report-2/nginx.conf"),
    ];
    let imported = hasim::import::import(&files, &Default::default()).unwrap();
    let ours = hasim::config::parse(&imported.toml, "imported.toml").unwrap();
    let theirs = hasim::config::load(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("experiments/mysql-replicas-k6.toml"),
    )
    .unwrap();
    let haproxy = |e: &ExperimentSpec| match &e.nodes["haproxy"].kind {
        NodeKind::Haproxy(h) => h.clone(),
        _ => panic!("haproxy is not an HAProxy"),
    };
    let (a, b) = (haproxy(&ours), haproxy(&theirs));
    assert_eq!(a.mode, b.mode);
    assert_eq!(a.balance, b.balance);
    assert_eq!(a.timeout_connect, b.timeout_connect);
    assert_eq!(a.timeout_client, b.timeout_client);
    assert_eq!(a.timeout_server, b.timeout_server);
    assert_eq!(a.timeout_queue, b.timeout_queue);
    assert_eq!(a.timeout_check, b.timeout_check);
    assert_eq!(a.retries, b.retries);
    assert_eq!(a.redispatch, b.redispatch);
    assert_eq!(a.check, b.check);
    assert_eq!(
        a.shutdown_sessions_on_marked_down,
        b.shutdown_sessions_on_marked_down
    );
    // The one difference: haproxy.cfg's `global maxconn 10000`, which the
    // experiment leaves at the preset's stand-in (no effect at 20 users).
    assert_eq!((a.maxconn, b.maxconn), (10_000, 4096));
    assert_eq!(a.servers.len(), 3);
    assert_eq!(a.servers.len(), b.servers.len());
    for (x, y) in a.servers.iter().zip(&b.servers) {
        assert_eq!(
            (
                x.check,
                x.maxconn,
                x.weight,
                x.backup,
                x.inter,
                x.fastinter,
                x.downinter,
                x.rise,
                x.fall
            ),
            (
                y.check,
                y.maxconn,
                y.weight,
                y.backup,
                y.inter,
                y.fastinter,
                y.downinter,
                y.rise,
                y.fall
            )
        );
    }
    let nginx = |e: &ExperimentSpec| match &e.nodes["nginx"].kind {
        NodeKind::Nginx(n) => n.clone(),
        _ => panic!("nginx is not an nginx"),
    };
    let (a, b) = (nginx(&ours), nginx(&theirs));
    assert_eq!(a.proxy_connect_timeout, b.proxy_connect_timeout);
    assert_eq!(a.proxy_read_timeout, b.proxy_read_timeout);
    assert_eq!(a.proxy_next_upstream, b.proxy_next_upstream);
    assert_eq!(a.proxy_next_upstream_tries, b.proxy_next_upstream_tries);
    assert_eq!(a.keepalive_timeout, b.keepalive_timeout);
    assert_eq!(a.zone, b.zone);
    // The report prints only the http block: no `worker_processes`, so
    // nginx's default 1; the experiment chose 2.
    assert_eq!((a.worker_processes, b.worker_processes), (1, 2));
    assert_eq!(a.servers.len(), 3);
    for (x, y) in a.servers.iter().zip(&b.servers) {
        assert_eq!(
            (x.weight, x.max_fails, x.fail_timeout_s, x.backup),
            (y.weight, y.max_fails, y.fail_timeout_s, y.backup)
        );
    }
    // nginx -> 3 apps -> HAProxy -> 3 backends, as in the experiment.
    for app in ["service1", "service2", "service3"] {
        let NodeKind::Server(hasim::products::server::config::BackendSpec::App(a)) =
            &ours.nodes[app].kind
        else {
            panic!("{app} is not an app");
        };
        assert_eq!(a.calls[0].target, "haproxy");
    }
}

#[test]
fn patroni_etcd_and_haproxy_import_and_run() {
    let dir = scratch_dir("import", "patroni");
    let (toml, err) = import_and_run(
        &dir,
        &[
            "patroni/haproxy.cfg",
            "patroni/patroni1.yml",
            "patroni/patroni2.yml",
            "patroni/patroni3.yml",
            "patroni/etcd.service",
        ],
        &[
            "--clients",
            "rate=50,method=POST,timeout=5s",
            "--fault",
            "power-off:pg1@60s",
        ],
    );
    every_value_is_annotated(&toml);
    for want in [
        "servers = [\"pg\"]",
        "nofailover = [\"pg3\"]",
        "option_httpchk = \"OPTIONS /primary\"",
        "ttl = \"30s\"",
        "patroni1.yml:19: bootstrap.dcs.ttl",
        "election_timeout = \"1s\"",
        "etcd.service:17: --election-timeout 1000",
        "count = 3",
        "kind = \"power-off\"",
        "rate = 50",
    ] {
        assert!(toml.contains(want), "no `{want}` in:\n{toml}");
    }
    assert!(
        err.contains(
            "patroni1.yml:38: `postgresql.authentication` (and everything under it): not modelled"
        ),
        "{err}"
    );
    assert!(
        !err.contains("zalando") && !toml.contains("zalando"),
        "passwords are never shown"
    );
}

#[test]
fn galera_and_haproxy_import_and_run() {
    let dir = scratch_dir("import", "galera");
    let (toml, err) = import_and_run(&dir, &["galera/haproxy.cfg", "galera/my.cnf"], &[]);
    every_value_is_annotated(&toml);
    for want in [
        "servers = [\"galera\"]",
        "[databases.galera.evs]\nkeepalive_period = \"3s\"",
        "suspect_timeout = \"30s\"",
        "my.cnf:21: evs.inactive_timeout=PT1M",
        "[balancers.haproxy.server.galera3]\nbackup = true",
        "inter = \"12s\"",
        "balance = \"leastconn\"",
    ] {
        assert!(toml.contains(want), "no `{want}` in:\n{toml}");
    }
    assert!(
        err.contains("my.cnf:24: `pxc_strict_mode`: not modelled"),
        "{err}"
    );
}

#[test]
fn keepalived_pair_and_haproxy_import_and_run() {
    let dir = scratch_dir("import", "keepalived");
    let (toml, err) = import_and_run(
        &dir,
        &[
            "keepalived/keepalived-lb1.conf",
            "keepalived/keepalived-lb2.conf",
            "keepalived/haproxy.cfg",
        ],
        &[],
    );
    every_value_is_annotated(&toml);
    for want in [
        // The one HAProxy, once per keepalived host, and clients on the VIP.
        "ASSUMED: one HAProxy per keepalived.conf, on its host",
        "[balancers.lb1]",
        "[balancers.lb2]",
        "target = \"vi_1\"",
        "[vips.vi_1]\ntype = \"keepalived\"",
        "advert_int = \"1s\"",
        "keepalived-lb1.conf:30: advert_int 1 (and every other host's file)",
        "[vips.vi_1.vrrp_script]\ninterval = \"2s\"",
        "weight = -60",
        "track_script = true",
        "[vips.vi_1.on.lb1]\nstate = \"MASTER\"",
        "priority = 150",
        "[vips.vi_1.on.lb2]\nstate = \"BACKUP\"",
        "keepalived-lb2.conf:29: priority 100",
    ] {
        assert!(toml.contains(want), "no `{want}` in:\n{toml}");
    }
    for want in [
        "keepalived-lb1.conf:33: vrrp_instance VI_1 `authentication …`: not modelled",
        "keepalived-lb2.conf:43: vrrp_instance VI_1 `notify_master",
        "keepalived-lb1.conf:12: global_defs `router_id LVS_DEVEL`: not modelled",
    ] {
        assert!(err.contains(want), "no `{want}` in {err}");
    }
    // The instance's interface is the host's one interface (eth0), which
    // it tracks: modelled, so not warned.
    assert!(!err.contains("`interface eth0`"), "{err}");
    assert!(
        !err.contains("1111"),
        "the auth_pass is not repeated: {err}"
    );
    // One host's file alone: a PLACEHOLDER peer and placeholder listeners.
    let dir = scratch_dir("import", "keepalived-one");
    let (toml, _) = import_and_run(&dir, &["keepalived/keepalived-lb1.conf"], &[]);
    assert!(
        toml.contains("PLACEHOLDER: the peer's keepalived.conf was not given"),
        "{toml}"
    );
    assert!(toml.contains("[servers.lb2]"), "{toml}");
}

#[test]
fn proxysql_and_galera_import_and_run() {
    let dir = scratch_dir("import", "proxysql");
    let (toml, err) = import_and_run(
        &dir,
        &[
            "proxysql/proxysql.cnf",
            "proxysql/galera1.cnf",
            "proxysql/galera2.cnf",
            "proxysql/galera3.cnf",
        ],
        &[],
    );
    every_value_is_annotated(&toml);
    for want in [
        "[balancers.proxysql]\ntype = \"proxysql\"",
        "galera = \"galera\"",
        "mysql_servers 10.0.2.11:3306, 10.0.2.12:3306, 10.0.2.13:3306 are its members",
        "monitor_galera_healthcheck_interval = \"2s\"",
        "proxysql.cnf:36: monitor_galera_healthcheck_interval=2000",
        "connect_timeout_server = \"3s\"",
        "monitor_ping_interval = \"10s\"",
        "shun_on_failures = 5",
        "writer_is_also_reader = 2",
        "target = \"proxysql\"",
        "[databases.galera]\ntype = \"galera\"\ncount = 3",
    ] {
        assert!(toml.contains(want), "no `{want}` in:\n{toml}");
    }
    for want in [
        "proxysql.cnf:16: mysql_variables `threads = 4`: not modelled",
        "proxysql.cnf:32: mysql_variables `monitor_connect_interval = 60000`: not modelled",
        "proxysql.cnf:48: mysql_servers `max_connections = 100`: not modelled",
        "proxysql.cnf:63: mysql_galera_hostgroups `max_transactions_behind = 100`: not modelled",
        "proxysql.cnf:78: `mysql_query_rules`: not modelled",
        "proxysql.cnf:8: `admin_variables`: not modelled",
    ] {
        assert!(err.contains(want), "no `{want}` in {err}");
    }
    assert!(!err.contains("app-password"), "{err}");
    // proxysql.cnf alone: its servers are a PLACEHOLDER Galera cluster.
    let dir = scratch_dir("import", "proxysql-alone");
    let (toml, _) = import_and_run(&dir, &["proxysql/proxysql.cnf"], &[]);
    assert!(
        toml.contains("PLACEHOLDER: ProxySQL's mysql_servers"),
        "{toml}"
    );
}

#[test]
fn redis_sentinel_and_haproxy_import_and_run() {
    let dir = scratch_dir("import", "redis");
    let (toml, err) = import_and_run(
        &dir,
        &[
            "redis/haproxy.cfg",
            "redis/redis.conf",
            "redis/sentinel.conf",
        ],
        &[],
    );
    every_value_is_annotated(&toml);
    for want in [
        "servers = [\"redis\"]",
        "tcp_check_expect = \"role:master\"",
        "persistence = \"aof\"",
        "min_replicas_to_write = 1",
        "down_after_milliseconds = \"5s\"",
        "sentinel.conf:7: sentinel down-after-milliseconds mymaster 5000",
        "monitor = \"redis\"",
    ] {
        assert!(toml.contains(want), "no `{want}` in:\n{toml}");
    }
    assert!(
        err.contains("redis.conf:7: `requirepass …`: not modelled"),
        "{err}"
    );
    assert!(
        !err.contains("s3cret") && !toml.contains("s3cret"),
        "passwords are never shown"
    );

    // Sentinels alone: Sentinel-aware clients, placeholder Redis nodes.
    let dir = scratch_dir("import", "sentinel");
    let (toml, _) = import_and_run(&dir, &["redis/sentinel.conf"], &[]);
    assert!(toml.contains("library = \"redis-sentinel\""), "{toml}");
    assert!(toml.contains("target = \"sentinel\""), "{toml}");
}

#[test]
fn field_report_5_files_import_and_run() {
    let dir = scratch_dir("import", "report-5");
    let (toml, err) = import_and_run(
        &dir,
        &["report-5/postgres.yml", "report-5/s1-v2.service"],
        &[],
    );
    assert!(
        toml.contains("[databases.pg]") && toml.contains("[databases.etcd]"),
        "{toml}"
    );
    assert!(
        err.contains("postgres.yml:2: `pg_hba` (and everything under it): not modelled"),
        "{err}"
    );
    assert!(
        err.contains("s1-v2.service:1: `--listen-client-urls`: not modelled"),
        "{err}"
    );
}

#[test]
fn without_o_it_prints_and_with_o_it_never_overwrites_unasked() {
    let dir = scratch_dir("import", "output");
    let cfg = fixture("report-2/haproxy.cfg");
    let o = hasim(&dir, &["import", s(&cfg)]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(text(&o.stdout).contains("[balancers.haproxy]"));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "nothing written"
    );

    let out = dir.join("mine.toml");
    std::fs::write(&out, "# my own notes\n").unwrap();
    let o = hasim(&dir, &["import", s(&cfg), "-o", "mine.toml"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("refusing to overwrite mine.toml: it exists (pass --force"),
        "{}",
        show(&o)
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "# my own notes\n");

    let o = hasim(&dir, &["import", s(&cfg), "-o", "mine.toml", "--force"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(
        std::fs::read_to_string(&out)
            .unwrap()
            .contains("[balancers.haproxy]")
    );

    // An input is never replaced, even with --force; a folder neither.
    let copy = dir.join("haproxy.cfg");
    std::fs::copy(&cfg, &copy).unwrap();
    let o = hasim(
        &dir,
        &["import", "haproxy.cfg", "-o", "haproxy.cfg", "--force"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    assert!(
        text(&o.stderr).contains("it is one of the input files"),
        "{}",
        show(&o)
    );
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&cfg).unwrap());
    std::fs::create_dir(dir.join("sub")).unwrap();
    let o = hasim(&dir, &["import", "haproxy.cfg", "-o", "sub", "--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn bad_input_exits_2_names_file_and_line_and_writes_nothing() {
    let dir = scratch_dir("import", "bad");
    let write = |name: &str, t: &str| std::fs::write(dir.join(name), t).unwrap();
    let refused = |args: &[&str], says: &str| {
        let o = hasim(&dir, args);
        assert_eq!(o.status.code(), Some(2), "{}", show(&o));
        assert!(
            text(&o.stderr).contains(says),
            "no `{says}` in {}",
            show(&o)
        );
        assert!(!dir.join("out.toml").exists(), "nothing is written");
    };
    write(
        "haproxy.cfg",
        "backend db\n  server db1 10.0.0.1:3306 check inter fast\n",
    );
    refused(
        &["import", "haproxy.cfg", "-o", "out.toml"],
        "error: haproxy.cfg:2: `inter`: expected a time such as 5000 (ms) or 5s, found `fast`",
    );
    // A value the file allows but hasim refuses: named by its file:line.
    write(
        "haproxy.cfg",
        "backend db\n  server db1 10.0.0.1:3306 check rise 0\n",
    );
    refused(
        &["import", "haproxy.cfg", "-o", "out.toml"],
        "error: the imported experiment does not load: haproxy.cfg:2: rise 0: hasim refuses it: \
         balancers.haproxy.server.db1.rise: must be at least 1, got 0",
    );
    write(
        "nginx.conf",
        "http {\n  upstream a {\n    server x:1\n  }\n}\n",
    );
    refused(
        &["import", "nginx.conf", "-o", "out.toml"],
        "error: nginx.conf:4: `server` is not ended: expected `;` before `}`",
    );
    write("patroni.yml", "bootstrap:\n  dcs:\n    ttl: [1\n");
    refused(
        &["import", "patroni.yml", "-o", "out.toml"],
        "error: patroni.yml:",
    );
    write(
        "my.cnf",
        "[mysqld]\nwsrep_provider_options=\"evs.suspect_timeout=5s\"\n",
    );
    refused(
        &["import", "my.cnf", "-o", "out.toml"],
        "error: my.cnf:2: wsrep_provider_options: `evs.suspect_timeout`: expected an ISO 8601 duration",
    );
    write(
        "keepalived.conf",
        "vrrp_instance VI_1 {\n    state MASTER\n    priority high\n}\n",
    );
    refused(
        &["import", "keepalived.conf", "-o", "out.toml"],
        "error: keepalived.conf:3: `priority` expects a whole number, found `high`",
    );
    write(
        "keepalived.conf",
        "vrrp_instance VI_1 {\n    state MASTER\n",
    );
    refused(
        &["import", "keepalived.conf", "-o", "out.toml"],
        "error: keepalived.conf:1: the `{` opened here is never closed",
    );
    write(
        "proxysql.cnf",
        "mysql_servers =\n(\n  { address=\"10.0.0.1\", port=3306 },\n  { address= }\n)\n",
    );
    refused(
        &["import", "proxysql.cnf", "-o", "out.toml"],
        "error: proxysql.cnf:4: expected a value, found `}`",
    );
    write(
        "proxysql.cnf",
        "mysql_variables =\n{\n  shun_on_failures = \"many\"\n}\n",
    );
    refused(
        &["import", "proxysql.cnf", "-o", "out.toml"],
        "error: proxysql.cnf:3: `shun_on_failures` expects a whole number, found `many`",
    );
    write("notes.txt", "hello\n");
    refused(
        &["import", "notes.txt", "-o", "out.toml"],
        "notes.txt: cannot tell its format",
    );
    refused(
        &["import", "missing.cfg", "-o", "out.toml"],
        "missing.cfg: cannot read it",
    );
    let cfg = fixture("report-2/haproxy.cfg");
    refused(
        &[
            "import",
            s(&cfg),
            "-o",
            "out.toml",
            "--fault",
            "kill:nosuch@10s",
        ],
        "no node named `nosuch`",
    );
    refused(
        &[
            "import",
            s(&cfg),
            "-o",
            "out.toml",
            "--fault",
            "kill:mysql-slave1",
        ],
        "--fault \"kill:mysql-slave1\": no `@` before the instant",
    );
    refused(
        &[
            "import",
            s(&cfg),
            "-o",
            "out.toml",
            "--clients",
            "vus=20,rate=3",
        ],
        "--clients \"vus=20,rate=3\": give one of vus=N",
    );
}
