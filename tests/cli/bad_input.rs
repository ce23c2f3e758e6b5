//! Bad experiment files: each must be refused with a message naming the file,
//! the line, the key path and what is wrong.

use hasim::config::{self, ConfigError};

const FILE: &str = "experiments/bad.toml";

fn refuse(text: &str) -> ConfigError {
    match config::parse(text, FILE) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// The Display names the file and line, the key path, and the gist.
fn assert_says(e: &ConfigError, line: usize, key: &str, gist: &str) {
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("error: {FILE}:{line}:")),
        "wrong file/line in:\n{shown}"
    );
    assert_eq!(e.line, line, "{shown}");
    if !key.is_empty() {
        assert!(
            shown.contains(&format!(": {key}: ")),
            "no key path `{key}` in:\n{shown}"
        );
        assert_eq!(e.key, key, "{shown}");
    }
    assert!(shown.contains(gist), "no `{gist}` in:\n{shown}");
    // The offending line and a caret under it.
    assert!(shown.contains(&format!("\n{line} | ")), "{shown}");
    assert!(
        shown.lines().last().unwrap().trim_end().ends_with('^'),
        "{shown}"
    );
}

/// A valid experiment; the tests below change one line each.
const BASE: &str = r#"[experiment]
duration = "30s"

[clients.web]
type = "open"
target = "lb"
rate = 100

[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]

[balancers.lb.default_server]
check = true
inter = "1s"
fall = 3

[servers.s]
count = 3
service = "5ms"
workers = 8

[[faults]]
kind = "kill"
target = "s2"
at = "10s"
recover_at = "20s"
"#;

/// BASE with line `line` (1-based) replaced.
fn with_line(line: usize, new: &str) -> String {
    let mut lines: Vec<&str> = BASE.lines().collect();
    lines[line - 1] = new;
    lines.join("\n") + "\n"
}

#[test]
fn base_is_valid() {
    let spec = config::parse(BASE, FILE).unwrap();
    assert_eq!(spec.nodes.len(), 5);
}

#[test]
fn unknown_key_suggests_the_closest() {
    let e = refuse(&with_line(15, "intr = \"1s\""));
    assert_says(
        &e,
        15,
        "balancers.lb.default_server.intr",
        "unknown key `intr`; did you mean `inter`?",
    );
    assert_eq!(e.column, 1);
}

#[test]
fn unknown_section_suggests_the_closest() {
    let e = refuse(&with_line(18, "[server.s]"));
    assert_says(
        &e,
        18,
        "server",
        "unknown key `server`; did you mean `servers`?",
    );
}

#[test]
fn wrong_type() {
    let e = refuse(&with_line(21, "workers = \"eight\""));
    assert_says(
        &e,
        21,
        "servers.s.workers",
        "expected an integer, found string \"eight\"",
    );
    assert_eq!(e.column, 11);
}

#[test]
fn bad_unit() {
    let e = refuse(&with_line(15, "inter = \"2 parsecs\""));
    assert_says(&e, 15, "balancers.lb.default_server.inter", "unknown unit");
}

#[test]
fn missing_unit() {
    let e = refuse(&with_line(20, "service = 5"));
    assert_says(&e, 20, "servers.s.service", "needs a unit");
    let e = refuse(&with_line(15, "inter = 2000"));
    assert_says(&e, 15, "balancers.lb.default_server.inter", "needs a unit");
}

#[test]
fn reference_to_a_missing_node_suggests_one() {
    let e = refuse(&with_line(6, "target = \"lbb\""));
    assert_says(
        &e,
        6,
        "clients.web.target",
        "no node named `lbb`; did you mean `lb`?",
    );
    let e = refuse(&with_line(11, "servers = [\"s\", \"t1\"]"));
    assert_says(
        &e,
        11,
        "balancers.lb.servers[1]",
        "no node named `t1`; did you mean `s1`?",
    );
}

#[test]
fn reference_to_the_wrong_kind_of_node() {
    let e = refuse(&with_line(6, "target = \"web\""));
    assert_says(
        &e,
        6,
        "clients.web.target",
        "`web` is a client; a client's target must be a balancer, an app, a server or a database",
    );
    let e = refuse(&with_line(6, "target = \"s\""));
    assert_says(
        &e,
        6,
        "clients.web.target",
        "`s` is a group of 3 servers (s1, s2, s3)",
    );
}

#[test]
fn fall_zero() {
    let e = refuse(&with_line(16, "fall = 0"));
    assert_says(
        &e,
        16,
        "balancers.lb.default_server.fall",
        "must be at least 1, got 0",
    );
    assert_eq!(e.column, 8);
}

#[test]
fn negative_rate() {
    let e = refuse(&with_line(7, "rate = -5"));
    assert_says(&e, 7, "clients.web.rate", "must be greater than 0, got -5");
    let e = refuse(&with_line(7, "rate = 0"));
    assert_says(&e, 7, "clients.web.rate", "must be greater than 0, got 0");
}

#[test]
fn zero_duration() {
    let e = refuse(&with_line(2, "duration = \"0s\""));
    assert_says(&e, 2, "experiment.duration", "must be greater than zero");
}

#[test]
fn empty_file() {
    let e = refuse("");
    assert_eq!(e.line, 1);
    let shown = e.to_string();
    assert!(
        shown.starts_with(&format!("error: {FILE}:1:1: experiment: the file is empty")),
        "{shown}"
    );
    let e = refuse("  \n\n");
    assert!(e.to_string().contains("the file is empty"));
    // Only comments: valid TOML without an experiment.
    let e = refuse("# nothing here\n");
    assert!(
        e.to_string().contains("missing table `[experiment]`"),
        "{e}"
    );
}

#[test]
fn not_toml() {
    let e = refuse("[experiment]\nduration = \"30s\"\nthis is not toml\n");
    assert_says(&e, 3, "", "invalid TOML");
    let e = refuse("<html><body>oops</body></html>\n");
    assert_says(&e, 1, "", "invalid TOML");
}

#[test]
fn missing_file() {
    let path = std::path::Path::new("experiments/definitely-not-here.toml");
    let e = config::load(path).unwrap_err();
    let shown = e.to_string();
    assert!(
        shown.starts_with("error: experiments/definitely-not-here.toml: cannot read the file"),
        "{shown}"
    );
    assert_eq!(e.line, 0);
}

#[test]
fn unknown_preset() {
    let e = refuse(&with_line(10, "preset = \"haproxy-2.8\""));
    assert_says(
        &e,
        10,
        "balancers.lb.preset",
        "unknown preset `haproxy-2.8`; did you mean `haproxy-2.6`?",
    );
    let e = refuse(&with_line(10, "preset = \"k6\""));
    assert_says(
        &e,
        10,
        "balancers.lb.preset",
        "preset `k6` is for clients, not for balancers",
    );
}

#[test]
fn partition_naming_an_unknown_host() {
    let text = BASE.replace(
        "kind = \"kill\"\ntarget = \"s2\"",
        "kind = \"partition\"\ngroups = [[\"lb\"], [\"s1\", \"s22\"]]",
    );
    let e = refuse(&text);
    assert_says(
        &e,
        25,
        "faults[0].groups[1][1]",
        "no host or node named `s22`; did you mean `s2`?",
    );
}

#[test]
fn recovery_before_the_fault() {
    let e = refuse(&with_line(27, "recover_at = \"5s\""));
    assert_says(
        &e,
        27,
        "faults[0].recover_at",
        "recover_at (5s) is not after the fault's `at` (10s)",
    );
}

#[test]
fn node_name_defined_twice() {
    let text = BASE.to_string() + "\n[apps.s2]\nservice = \"1ms\"\n";
    let e = refuse(&text);
    assert_says(
        &e,
        29,
        "apps.s2",
        "`s2` is already defined (`[servers.s]` with count = 3",
    );
}

#[test]
fn values_out_of_range() {
    let e = refuse(&(BASE.to_string() + "[network]\nloss = 1.5\n"));
    assert_says(&e, 29, "network.loss", "must be between 0 and 1, got 1.5");
    let e = refuse(&with_line(
        20,
        "service = { dist = \"lognormal\", median = \"5ms\", p99 = \"2ms\" }",
    ));
    assert_says(
        &e,
        20,
        "servers.s.service.p99",
        "must not be below the median",
    );
    let e = refuse(&with_line(16, "spread_checks = 51"));
    // spread_checks is a backend key, not a default-server one.
    assert_says(
        &e,
        16,
        "balancers.lb.default_server.spread_checks",
        "unknown key",
    );
    let e = refuse(&with_line(11, "servers = [\"s\"]\nspread_checks = 51"));
    assert_says(
        &e,
        12,
        "balancers.lb.spread_checks",
        "must be at most 50, got 51",
    );
    let e = refuse(&with_line(21, "workers = 0"));
    assert_says(&e, 21, "servers.s.workers", "must be at least 1, got 0");
}

#[test]
fn nginx_fail_timeout_must_be_whole_seconds() {
    let text = BASE
        .replace("preset = \"haproxy-2.6\"", "type = \"nginx\"")
        .replace(
            "check = true\ninter = \"1s\"\nfall = 3",
            "fail_timeout = \"1.5s\"\nmax_fails = 2\nweight = 1",
        );
    let e = refuse(&text);
    assert_says(
        &e,
        14,
        "balancers.lb.default_server.fail_timeout",
        "whole seconds; got 1.500s (write \"1s\" or \"2s\")",
    );
}

#[test]
fn option_that_does_not_apply() {
    let e = refuse(&with_line(7, "vus = 10"));
    assert_says(
        &e,
        7,
        "clients.web.vus",
        "`vus` only applies to type = \"closed\"",
    );
}

#[test]
fn overrides_name_their_key_path() {
    let o = |k: &str, v: &str| (k.to_string(), v.to_string());
    let e = config::parse_with_overrides(
        BASE,
        FILE,
        &[o("balancers.lb.default_server.inter", "\"0s\"")],
    )
    .unwrap_err();
    let shown = e.to_string();
    assert!(shown.starts_with("error: override:1:"), "{shown}");
    assert!(
        shown.contains("balancers.lb.default_server.inter: must be greater than zero"),
        "{shown}"
    );
    assert!(
        shown.contains("1 | balancers.lb.default_server.inter = \"0s\""),
        "{shown}"
    );
}

// ------------------------------------------------------------------------
// Accepted input never crashes (issue 8, point 4): what validation used to
// let through and the run then panicked on, hung on or ran out of memory on.

#[test]
fn galera_of_more_than_31_members_is_refused_at_count() {
    let text = BASE.to_string() + "\n[databases.g]\ntype = \"galera\"\ncount = 32\n";
    let e = refuse(&text);
    assert_says(
        &e,
        31,
        "databases.g.count",
        "at most 31 members here, got 32",
    );
    // 31 members are accepted.
    let ok = BASE.to_string() + "\n[databases.g]\ntype = \"galera\"\ncount = 31\n";
    config::parse(&ok, FILE).unwrap();
}

#[test]
fn too_many_timeline_buckets_name_both_keys_and_the_memory() {
    let e = refuse(&with_line(2, "duration = \"10s\"\nbucket = \"1ns\""));
    assert_says(&e, 3, "experiment.bucket", "10000000000 timeline buckets");
    assert!(e.message.contains("experiment.duration"), "{e}");
    assert!(e.message.contains("~1.3 TB"), "{e}");
    // Without `bucket`, the duration is at fault.
    let e = refuse(&with_line(2, "duration = \"10000h\""));
    assert_says(&e, 2, "experiment.duration", "36000000 timeline buckets");
    // A day at 1 s buckets is fine.
    config::parse(&with_line(2, "duration = \"24h\""), FILE).unwrap();
}

#[test]
fn durations_beyond_64_bit_nanoseconds_are_refused_at_their_key() {
    let e = refuse(&with_line(2, "duration = \"99999999999999999999h\""));
    assert_says(&e, 2, "experiment.duration", "is too long");
    let e = refuse(&with_line(15, "inter = \"1e30s\""));
    assert_says(&e, 15, "balancers.lb.default_server.inter", "unit");
    let e = refuse(&with_line(15, "inter = \"10001h\""));
    assert_says(
        &e,
        15,
        "balancers.lb.default_server.inter",
        "at most 10000h",
    );
}

#[test]
fn open_loop_waiting_requests_and_request_count_are_bounded() {
    let e = refuse(&with_line(7, "rate = 10000000\ntimeout = \"1h\""));
    assert_says(&e, 8, "clients.web.timeout", "requests may wait at once");
    assert!(e.message.contains("GB"), "{e}");
    let e = refuse(
        &with_line(2, "duration = \"10000h\"\nbucket = \"1h\"")
            .replace("rate = 100\n", "rate = 1000000\ntimeout = \"1s\"\n"),
    );
    assert_says(
        &e,
        8,
        "clients.web.rate",
        "requests are numbered in 32 bits",
    );
}

#[test]
fn random_faults_are_bounded() {
    let text = BASE.replace(
        "at = \"10s\"\nrecover_at = \"20s\"",
        "mtbf = \"1ns\"\nmttr = \"1ms\"",
    );
    let e = refuse(&text);
    assert_says(&e, 26, "faults[0].mtbf", "fault actions");
}

#[test]
fn integer_out_of_range_empty_and_duplicate_keys_name_the_key_path() {
    let e = refuse(&with_line(21, "workers = 99999999999999999999"));
    assert_says(&e, 21, "servers.s.workers", "integer out of range");
    let e = refuse(&with_line(11, "servers = [\"s\", 99999999999999999999]"));
    assert_says(&e, 11, "balancers.lb.servers[1]", "integer out of range");
    let e = refuse(&with_line(21, "\"\" = 8"));
    assert_says(&e, 21, "servers.s.\"\"", "unknown key");
    let e = refuse(&with_line(21, "service = \"6ms\""));
    assert_says(&e, 21, "servers.s.service", "duplicate key");
    let e = refuse(&with_line(18, "[balancers.lb]"));
    assert_says(&e, 18, "balancers.lb", "duplicate key");
}

#[test]
fn dry_run_of_a_big_cluster_is_linear() {
    let text = BASE.to_string() + "\n[databases.m]\ntype = \"mysql\"\ncount = 10000\n";
    let spec = config::parse(&text, FILE).unwrap();
    let shown = hasim::describe::topology(&spec, 1);
    // Each member a short line; the list once, abridged.
    assert!(shown.len() < 2_000_000, "{} bytes", shown.len());
    assert!(
        shown.contains("m1, m2, m3, m4, m5, … (9994 more), m10000"),
        "{}",
        &shown[..2000]
    );
    assert!(shown.contains("m9999 ") && shown.contains("member of mysql cluster `m` (as above)\n"));
}

#[test]
fn haproxy_values_the_run_cannot_hold_are_refused() {
    // A check every nanosecond; HAProxy counts milliseconds.
    let e = refuse(&with_line(15, "inter = \"1ns\""));
    assert_says(&e, 15, "balancers.lb.default_server.inter", "at least 1ms");
    // rise + fall - 1 overflowed 32 bits in the run.
    let e = refuse(&with_line(16, "fall = 4294967295"));
    assert_says(
        &e,
        16,
        "balancers.lb.default_server.fall",
        "at most 1000000000",
    );
    // Slow start scales maxconn in sixteenths.
    let e = refuse(&with_line(16, "fall = 3\nmaxconn = 4294967295"));
    assert_says(
        &e,
        17,
        "balancers.lb.default_server.maxconn",
        "at most 100000000",
    );
}

/// A device or a pipe named as an input could be read forever: refused.
#[cfg(unix)]
#[test]
fn a_file_that_never_ends_is_refused() {
    let e = config::load(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    let dir = std::env::temp_dir().join(format!("hasim-devzero-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sweep = dir.join("s.toml");
    std::fs::write(
        &sweep,
        "experiment = \"/dev/zero\"\n[sweep]\n[sweep.params]\n\"network.loss\" = [0.0]\n",
    )
    .unwrap();
    let e = hasim::sweep::load(&sweep).unwrap_err();
    assert!(e.to_string().contains("not a regular file"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn hosts_of_a_group_name_one_host_per_member() {
    let e = refuse(&with_line(19, "count = 3\nhosts = [\"vm1\", \"vm2\"]"));
    assert_says(&e, 20, "servers.s.hosts", "2 host names for count = 3");
    let e = refuse(&with_line(
        19,
        "count = 3\nhosts = [\"vm1\", \"vm 2\", \"vm1\"]",
    ));
    assert_says(&e, 20, "servers.s.hosts[1]", "invalid host name `vm 2`");
    let e = refuse(&with_line(19, "count = 3\nhosts = \"vm1\""));
    assert_says(
        &e,
        20,
        "servers.s.hosts",
        "expected an array of 3 host names",
    );
    // Placed on shared hosts, a power-off of one host takes both members.
    let ok = with_line(19, "count = 3\nhosts = [\"vm1\", \"vm2\", \"vm1\"]");
    let spec = config::parse(&ok, FILE).unwrap();
    let hosts: Vec<&str> = ["s1", "s2", "s3"]
        .iter()
        .map(|n| spec.nodes[*n].host.as_str())
        .collect();
    assert_eq!(hosts, ["vm1", "vm2", "vm1"]);
}

#[test]
fn ramping_client_refuses_constant_keys() {
    let closed = BASE.replace(
        "type = \"open\"\ntarget = \"lb\"\nrate = 100",
        "type = \"closed\"\ntarget = \"lb\"\nstages = [{ duration = \"10s\", target = 5 }]\nvus = 5",
    );
    let e = refuse(&closed);
    assert_says(
        &e,
        8,
        "clients.web.vus",
        "a ramping client gives `start_vus` and `stages`",
    );
    let long = BASE.replace(
        "type = \"open\"\ntarget = \"lb\"\nrate = 100",
        "type = \"closed\"\ntarget = \"lb\"\nstart = \"5s\"\nstages = [{ duration = \"30s\", target = 5 }]",
    );
    let e = refuse(&long);
    assert_says(
        &e,
        8,
        "clients.web.stages",
        "start (5s) + the stages (30s) end after the experiment (30s)",
    );
}

#[test]
fn abort_options_want_a_boolean() {
    // HAProxy's `option abortonclose` is on or off.
    let text = BASE.replace(
        "servers = [\"s\"]\n",
        "servers = [\"s\"]\noption_abortonclose = \"yes\"\n",
    );
    let e = refuse(&text);
    assert_says(
        &e,
        12,
        "balancers.lb.option_abortonclose",
        "expected true or false, found string \"yes\"",
    );
    // nginx's `proxy_ignore_client_abort` likewise.
    let text = "[experiment]\nduration = \"30s\"\n[clients.web]\ntype = \"open\"\ntarget = \"lb\"\n\
                rate = 100\n[balancers.lb]\ntype = \"nginx\"\nservers = [\"s\"]\n\
                proxy_ignore_client_abort = 1\n[servers.s]\nservice = \"5ms\"\n";
    let e = refuse(text);
    assert_says(
        &e,
        10,
        "balancers.lb.proxy_ignore_client_abort",
        "expected true or false, found integer 1",
    );
}
