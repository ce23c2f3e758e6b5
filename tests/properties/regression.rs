//! One test per bug found, so that none comes back. Bugs whose test lives
//! with the guarantee it broke: `engine_guarantees.rs`
//! (`a_partition_blocks_the_handshake_of_new_connections`,
//! `a_caller_that_gave_up_sends_no_more_syn_retransmissions`,
//! `run_until_says_when_the_run_is_over`) and `cli.rs`
//! (`a_failed_write_leaves_no_trace_file_behind`).

use crate::common;

use hasim::sim::Sim;

const BASE: &str = r#"
[experiment]
duration = "2s"
[clients.c]
type = "open"
target = "s"
rate = 100
arrivals = "constant"
start = "1s"
[servers.s]
workers = 1
service = "1ms"
"#;

/// A constant-rate load generator sends its first request when it starts,
/// not one interval later (it put the validation case's kill between the
/// wrong two requests).
#[test]
fn constant_arrivals_start_at_the_start_instant() {
    let spec = hasim::config::parse(BASE, "r.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    let trace = common::Shared::default();
    sim.rec.trace = Some(Box::new(trace.clone()));
    sim.run();
    let text = String::from_utf8(trace.0.borrow().clone()).unwrap();
    let first_start = text
        .lines()
        .next()
        .and_then(|l| l.split(',').next())
        .unwrap();
    assert_eq!(
        first_start, "1.000000000",
        "the first request leaves at start"
    );
}

/// `rate = 1e300` made the inter-arrival gap round to zero and the run never
/// ended; such rates are refused now.
#[test]
fn an_absurd_rate_is_refused_instead_of_running_forever() {
    let text = BASE.replace("rate = 100", "rate = 1e300");
    let err = hasim::config::parse(&text, "r.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("clients.c.rate") && err.contains("at most"),
        "{err}"
    );
}

/// A VU's kept connection is named with the high bit of its slot set, like
/// HAProxy's health-check replies: HAProxy took the VU's second request for a
/// check reply and dropped it, so every kept connection hung.
#[test]
fn a_kept_client_connection_is_not_taken_for_a_health_check_reply() {
    let text = r#"
[experiment]
duration = "5s"
[clients.k6]
type = "closed"
target = "lb"
vus = 2
keep_alive = true
iteration = [ { request = "GET" }, { sleep = "100ms" } ]
[balancers.lb]
preset = "haproxy-2.6"
servers = ["s"]
[balancers.lb.default_server]
check = true
[servers.s]
workers = 2
service = "1ms"
"#;
    let spec = hasim::config::parse(text, "r.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    let r = sim.finish();
    assert_eq!(r.recorder.failed, 0);
    assert!(r.recorder.requests > 80, "{}", r.recorder.requests);
}

/// The network kept a host-by-host matrix: 10,000 servers asked for gigabytes.
/// It is linear in hosts now; an nginx upstream's tried-set holds 128 servers,
/// and more are refused with a message instead of a panic.
#[test]
fn many_hosts_fit_and_big_nginx_upstreams_are_refused_cleanly() {
    let text = |lb: &str, count: u32| {
        format!(
            "[experiment]\nduration = \"1s\"\n[clients.c]\ntype = \"open\"\ntarget = \"lb\"\nrate = 1000\n\
             [balancers.lb]\npreset = \"{lb}\"\nservers = [\"s\"]\n[servers.s]\ncount = {count}\nworkers = 1\nservice = \"1ms\"\n"
        )
    };
    let spec = hasim::config::parse(&text("haproxy-2.6", 5000), "r.toml").unwrap();
    let mut sim = Sim::new(&spec, 1);
    sim.run();
    assert!(sim.finish().recorder.requests > 900);
    let err = hasim::config::parse(&text("nginx-1.22", 200), "r.toml")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("balancers.lb.servers") && err.contains("at most 128"),
        "{err}"
    );
}

/// Found by `split_brain_patroni` on a fresh seed (issue 8 point 8): etcd3,
/// the raft leader, SIGSTOPped at 51 s for 33 s; at 70 s a partition for
/// 35 s leaves pg1 (the primary) alone with etcd3. pg1 demoted at ≈ 81 s
/// (update_lock failed); etcd3 resumed at 84 s still believing it led
/// (until CheckQuorum at ≈ 85 s) and answered pg1's read with its stale
/// leader key, pg1; pg1 promoted itself "because I had the session lock"
/// without update_lock and stayed writable until its next cycle failed,
/// 0.9–1.3 s beside pg2 promoted on the majority side. Real Patroni 3.0.2
/// promotes only after update_lock(True) succeeds (ha.py
/// process_healthy_cluster), and etcd 3.4 renews no expired lease
/// (lease/lessor.go Renew waits for the revocation or the demotion), so
/// neither happens now. The seeds are those the schedule split with.
#[test]
fn a_demoted_patroni_does_not_promote_again_through_a_stale_etcd_leader() {
    let text = r#"
[experiment]
duration = "150s"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
target = "lb"
rate = 20
method = "POST"
timeout = "5s"
start = "15s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
timeout_connect = "2s"
retries = 1
option_httpchk = "GET /primary"
on_marked_down = "shutdown-sessions"
[balancers.lb.default_server]
check = true
inter = "2s"
fall = 2
rise = 1
[databases.etcd]
type = "etcd"
count = 3
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
synchronous_mode = true
replication_delay = "50ms"
[[faults]]
kind = "stop"
target = "etcd3"
at = "51s"
recover_at = "84s"
[[faults]]
kind = "partition"
groups = [["lb", "app", "pg2", "pg3", "etcd1", "etcd2"], ["pg1", "etcd3"]]
one_way = false
at = "70s"
recover_at = "105s"
"#;
    let spec = hasim::config::parse(text, "r.toml").unwrap();
    for seed in [3, 31, 55, 92] {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        let pg1_promoted = r.recorder.events.iter().any(|e| {
            e.component == "pg1"
                && e.kind == hasim::metrics::EventKind::Promoted
                && (70.0..105.0).contains(&e.at.as_secs_f64())
        });
        assert!(!pg1_promoted, "seed {seed}: pg1 promoted in the minority");
        let h = r.history.expect("databases");
        assert_eq!(h.split_brain_secs(), 0.0, "seed {seed}");
        assert!(h.lost.is_empty(), "seed {seed}: {:?}", h.lost);
    }
}

/// Found by `split_brain_patroni` on a fresh seed (its seed is in
/// `proptest-regressions/split_brain_patroni.txt`): pg1, the
/// primary, is cut from the etcd majority at 32 s for 57 s with the balancer
/// and pg3; it demotes at ≈ 46 s holding writes it could not acknowledge
/// (its sync standby pg2 is on the other side). pg2 promotes at ≈ 59 s,
/// finds no standby and turns synchronous replication off (/sync = pg2,
/// none: non-strict synchronous_mode). After the heal it acknowledges 5
/// writes asynchronously, then is killed at 90 s (pg3 since 77 s). /sync
/// lets only pg2 promote. The model had pg2, back at 123 s, poll every
/// member and withdraw because pg1's unacknowledged WAL is ahead of its own,
/// so the run ended with no primary and the checker took pg1's longer log.
/// Patroni 3.0.2 `is_healthiest_node()` passes `_is_healthiest_node()` only
/// the members `cluster.sync.matches()` (the /sync leader and standbys):
/// pg2 polls nobody, promotes, and pg1 and pg3 rewind.
#[test]
fn patroni_async_writes_acked_after_a_heal_then_the_primary_dies() {
    assert_safe(
        &patroni_sync(
            r#"[[faults]]
kind = "partition"
groups = [["lb", "app", "pg1", "pg3", "etcd3"], ["pg2", "etcd1", "etcd2"]]
one_way = false
at = "32s"
recover_at = "89s"
[[faults]]
kind = "kill"
targets = ["pg3", "pg2"]
at = "77s"
every = "13s"
recover_after = "33s"
"#,
        ),
        93,
    );
}

/// Found by `split_brain_patroni` on a fresh 5,000-case search (its seed is in
/// `proptest-regressions/split_brain_patroni.txt`), simulation seed 321: pg1,
/// the primary, is cut from the etcd majority (and its sync standby pg2) at
/// 22 s for 6 s and keeps writing what it cannot acknowledge; it is killed at
/// 36 s holding 100 writes nobody else has. pg2 promotes at 59.5 s, names pg3
/// in /sync at 60.5 s and acknowledges 53 writes pg3 has flushed, then is
/// killed at 63 s. At 91 s pg3, the /sync standby, polled every member,
/// found pg1 (back as a replica, never rewound) ahead and withdrew; no one
/// promoted and the checker took pg1's longer log. Patroni 3.0.2 polls only
/// the /sync members in synchronous_mode (`is_healthiest_node()`): pg3 promotes
/// and pg1 rewinds its 100 unacknowledged writes away.
#[test]
fn patroni_sync_standby_is_not_vetoed_by_a_former_primary_outside_sync() {
    assert_safe(
        &patroni_sync(
            r#"[[faults]]
kind = "partition"
groups = [["lb", "app", "pg1", "etcd1"], ["pg2", "pg3", "etcd2", "etcd3"]]
one_way = false
at = "22s"
recover_at = "28s"
[[faults]]
kind = "kill"
targets = ["pg1", "pg2"]
at = "36s"
every = "27s"
recover_after = "30s"
"#,
        ),
        321,
    );
}

/// Found by a fresh `split_brain_patroni` search (simulation seed 385):
/// etcd2 blackholed 53-74 s, pg1 killed at 51 s and pg2 at 75 s (32 s each).
/// pg2, just promoted, picked pg3 as sync standby at 74 s, but the /sync
/// write's answer was lost in the etcd turmoil, and the model only named pg3
/// in synchronous_standby_names once that answer came: it acknowledged 4
/// writes pg3 never had, which pg3's later promotion discarded. Patroni 3.0's
/// process_sync_replication() sets synchronous_standby_names before
/// write_sync_state() when adding a standby.
#[test]
fn patroni_names_its_sync_standby_before_writing_sync() {
    assert_safe(
        &patroni_sync(
            r#"[[faults]]
kind = "blackhole"
target = "etcd2"
at = "53s"
recover_at = "74s"
[[faults]]
kind = "kill"
targets = ["pg1", "pg2"]
at = "51s"
every = "24s"
recover_after = "32s"
"#,
        ),
        385,
    );
}

/// Found by `split_brain_galera` on a fresh seed (its seed is in
/// `proptest-regressions/split_brain_galera.txt`, commented out there while
/// this was open): g3 blackholed from 2 s to
/// 12 s, and from 8 s on everything g2 sends is dropped (a one-way partition
/// never healed). The view {g1, g2} was installed at 8.28 s; g2 got g1's
/// state, counted its own at once, went Primary, delivered the write-sets
/// both had received and acknowledged 31 of its own; g1 never got g2's state,
/// stayed non-Primary and formed {g1, g3} at 13.4 s without them. The PC
/// states travel SAFE (`pc_proto.cpp` `send_state`, O_SAFE): g2's own state
/// is never delivered while g1 cannot receive it, so g2 acknowledges nothing.
#[test]
fn galera_one_way_partition_never_healed_with_a_blackholed_member() {
    assert_safe(
        &galera3(
            r#"[[faults]]
kind = "partition"
one_way = true
groups = [["g2"], ["g1", "g3"]]
at = "8s"
[[faults]]
kind = "blackhole"
target = "g3"
at = "2s"
recover_at = "12s"
"#,
        ),
        1,
    );
}

/// Open, the mirror of the case above (built by hand, not found by the
/// search: its fault instants are whole seconds): from 8.28368 s everything
/// g1 sends is dropped, one message latency after g2 received g1's state in
/// the view {g1, g2} installed at 8.2835 s. g1 gets g2's report that it has
/// every state and goes Primary, delivering (and acknowledging 27 of its
/// own) the write-sets both had received; g1's report never reaches g2,
/// which stays undecided, evicts g1, and forms a Primary {g2, g3} at 13.4 s
/// as two of the last Primary's three members, without those write-sets.
/// Real Galera differs twice: EVS delivers the old view's messages in the
/// transitional configuration at the install itself (`evs_proto.cpp`
/// `deliver_trans`), on both; and nodes that all left the Primary through a
/// configuration without quorum re-form one only with every member of the
/// last Primary present (`pc_proto.cpp` `is_prim`, "re-bootstrapping prim
/// from partitioned components"), so {g2, g3} would stay non-Primary.
#[test]
/// Since the checker counts a write lost only if no node holds it when no
/// node accepts writes at the end, this passes: g1 still holds the 27
/// writes. That rule is lenient here (g1 would be resynchronised from the
/// others), so the case stays open and ignored.
#[ignore = "open: a Primary decided on one side only, one latency before a one-way cut, loses writes (hidden by the lenient no-primary rule)"]
fn galera_one_way_cut_of_the_representative_right_after_the_state_exchange() {
    assert_safe(
        &galera3(
            r#"[[faults]]
kind = "partition"
one_way = true
groups = [["g1"], ["g2", "g3"]]
at = "8.28368s"
[[faults]]
kind = "blackhole"
target = "g3"
at = "2s"
recover_at = "12s"
"#,
        ),
        1,
    );
}

/// Three Patroni nodes in synchronous_mode with three etcd members behind an
/// HAProxy routing writes to `/primary`, 20 POST/s from 15 s, for 150 s (the
/// cluster of `split_brain_patroni`), with `faults` appended.
fn patroni_sync(faults: &str) -> String {
    format!("{PATRONI_SYNC}{faults}")
}

const PATRONI_SYNC: &str = r#"[experiment]
duration = "150s"
[network]
latency = "0.1ms"
[clients.app]
type = "open"
target = "lb"
rate = 20
method = "POST"
timeout = "5s"
start = "15s"
[balancers.lb]
preset = "haproxy-2.6"
mode = "tcp"
servers = ["pg"]
timeout_connect = "2s"
retries = 1
option_httpchk = "GET /primary"
on_marked_down = "shutdown-sessions"
[balancers.lb.default_server]
check = true
inter = "2s"
fall = 2
rise = 1
[databases.etcd]
type = "etcd"
count = 3
[databases.pg]
type = "patroni"
count = 3
dcs = "etcd"
synchronous_mode = true
replication_delay = "50ms"
"#;

/// Three Galera nodes, each written by its own client at 5 POST/s, for 60 s,
/// with `faults` appended.
fn galera3(faults: &str) -> String {
    format!("{GALERA3}{faults}")
}

const GALERA3: &str = r#"
[experiment]
duration = "60s"
[network]
latency = "0.1ms"
[clients.wg1]
type = "open"
target = "g1"
rate = 5
method = "POST"
timeout = "10s"
[clients.wg2]
type = "open"
target = "g2"
rate = 5
method = "POST"
timeout = "10s"
[clients.wg3]
type = "open"
target = "g3"
rate = 5
method = "POST"
timeout = "10s"
[databases.g]
type = "galera"
count = 3
"#;

/// Runs `text` with simulation `seed`: never two groups writable, no
/// acknowledged write lost.
fn assert_safe(text: &str, seed: u64) {
    let spec = hasim::config::parse(text, "r.toml").unwrap();
    let mut sim = Sim::new(&spec, seed);
    sim.run();
    let h = sim.finish().history.expect("databases");
    assert_eq!(h.split_brain_secs(), 0.0);
    assert!(h.lost.is_empty(), "{:?}", h.lost);
}
