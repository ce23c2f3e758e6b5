//! PostgreSQL's postmaster killed under Patroni (issue 10 point 5): the
//! leader keeps the key and restarts it in place (ha.py `recover()`): first
//! crash recovery in single-user mode (`_handle_crash_recovery` ->
//! rewind.py `ensure_clean_shutdown`, `postgres --single`: no listening
//! socket, the port stays closed), then a start as read-only, then the promotion
//! (25006 read-only until it is done). The start itself first keeps the port
//! closed (`start_time`: Patroni's spawn and the postmaster's set-up until
//! it listens), then answers 57P03 (`startup_time`). HAProxy keeps the server UP
//! (`/primary` answers 200 while Patroni holds the lock) and retries each
//! refused connect `retries` times, one second apart.

use hasim::metrics::EventKind;
use hasim::report::RunResult;
use hasim::sim::Sim;

const RATE: f64 = 50.0;
const KILL: f64 = 40.0;
const LOOP_WAIT: f64 = 10.0;
const CRASH_RECOVERY: f64 = 2.0;
const START: f64 = 1.5;
const STARTUP: f64 = 0.05;
const PROMOTE: f64 = 1.0;
/// HAProxy: `retries = 2`, a refused connect retried after 1 s.
const RETRY_SPAN: f64 = 2.0;

/// patroni.rs's cluster behind HAProxy, run for 70 s on Patroni 3.0.2; a
/// test appends its fault.
pub(crate) fn patroni_behind_haproxy() -> String {
    let base = super::patroni::BASE.replace("DURATION", "70s");
    format!("{base}preset = \"patroni-3.0.2\"\n")
}

fn text() -> String {
    format!(
        "{}[[faults]]\nkind = \"kill\"\nprocess = \"postgres\"\ntarget = \"pg1\"\nat = \"40s\"\n",
        patroni_behind_haproxy()
    )
}

fn first(r: &RunResult, what: &str) -> f64 {
    r.recorder
        .events
        .iter()
        .find(|e| e.component == "pg1" && e.detail.contains(what))
        .unwrap_or_else(|| panic!("no `{what}`"))
        .at
        .as_secs_f64()
}

fn code(r: &RunResult, kind: &str, code: &str) -> f64 {
    crate::common::db_codes(r, kind)
        .into_iter()
        .find(|(c, _)| c == code)
        .map_or(0.0, |(_, n)| n as f64)
}

fn near(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 0.15 * want + 3.0,
        "{what}: {got}, formula {want:.1}"
    );
}

#[test]
fn a_killed_postmaster_keeps_its_port_closed_through_crash_recovery_then_starts_and_promotes() {
    let spec = hasim::config::parse(&text(), "crash.toml").unwrap();
    for seed in 1..=4 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        // Noticed at the next HA cycle, within loop_wait of the kill.
        let d = first(&r, "crash recovery in a single user mode");
        assert!(
            (KILL..=KILL + LOOP_WAIT + 0.01).contains(&d),
            "seed {seed}: {d}"
        );
        let recovered = first(&r, "crash recovery finished");
        assert!(
            (recovered - (d + CRASH_RECOVERY)).abs() < 1e-6,
            "seed {seed}"
        );
        // The async executor wakes the loop: it starts at once.
        let readonly = first(&r, "starting as readonly because i had the session lock");
        assert!((readonly - recovered).abs() < 0.01, "seed {seed}");
        let started = first(&r, "started as a read-only replica");
        assert!(
            (started - (readonly + START + STARTUP)).abs() < 0.01,
            "seed {seed}"
        );
        let promoted = r
            .recorder
            .events
            .iter()
            .find(|e| e.component == "pg1" && e.kind == EventKind::Promoted)
            .unwrap()
            .at
            .as_secs_f64();
        assert!((promoted - (started + PROMOTE)).abs() < 0.01, "seed {seed}");
        // What the clients saw. The port opens at `open` (after crash
        // recovery and `start_time`); HAProxy tries a request issued at t at
        // t, t + 1, t + 2 (refused connects). All three before `open`:
        // "closed" (HAProxy's SC). Else the first try at or after `open`
        // lands in [open, open + 1): 57P03 if before `open + STARTUP`,
        // 25006 until the promotion is done `PROMOTE` later.
        let open = readonly + START;
        let closed = crate::common::kind(&r, "closed") as f64;
        near(
            closed,
            RATE * (open - RETRY_SPAN - KILL).max(0.0),
            &format!("seed {seed}: closed"),
        );
        // Issued in [open - 2, open): 2 s of requests spread over [open,
        // open + 1); issued in [open, open + STARTUP): at once.
        let starting = code(&r, "db_not_ready", "57P03");
        // Three passes over a 50 ms window at 20 ms spacing: 2-4 each,
        // by the phase of the arrivals against the window (7.5 on average).
        let passes = RETRY_SPAN + 1.0;
        assert!(
            starting >= passes && starting <= passes * (RATE * STARTUP + 2.0),
            "seed {seed}: 57P03 {starting}, formula {:.1}",
            passes * RATE * STARTUP
        );
        let read_only = code(&r, "db_read_only", "25006");
        near(
            read_only,
            RATE * (RETRY_SPAN * (1.0 - STARTUP) + PROMOTE),
            &format!("seed {seed}: 25006"),
        );
        let h = r.history.unwrap();
        assert!(h.lost.is_empty() && h.split_brain_secs() == 0.0);
    }
}

/// Issue 10 point 5b: the killed postmaster is an orphan (Patroni's
/// postmaster.py `pg_ctl_start` runs `Popen` in a child that exits), a
/// zombie until PID 1 reaps it, and psutil's `is_running()` is true for a
/// zombie: an HA cycle before the reap misses the death ("Error
/// communicating with PostgreSQL. Will try again later") and crash recovery
/// waits for the next cycle, `loop_wait` later. Measured on this VM
/// (tests/validation/patroni-kill-postmaster): cycles 0.15 and 0.92 s after
/// the kill missed it, 2.9, 6.5, 8.2 s did not; orphans reaped after 1.1-2.0 s.
#[test]
fn a_cycle_before_the_zombie_postmaster_is_reaped_misses_the_crash() {
    const REAP: f64 = 3.0;
    let text = text().replace(
        "dcs = \"etcd\"\n",
        "dcs = \"etcd\"\norphan_reap_time = \"3s\"\n",
    );
    let spec = hasim::config::parse(&text, "crash.toml").unwrap();
    let (mut missed, mut seen) = (0, 0);
    for seed in 1..=12 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        let d = first(&r, "crash recovery in a single user mode");
        let miss = r.recorder.events.iter().find(|e| {
            e.component == "pg1"
                && e.detail.contains("Error communicating with PostgreSQL")
                && e.at.as_secs_f64() >= KILL
        });
        match miss {
            Some(e) => {
                let c = e.at.as_secs_f64();
                assert!(c - KILL < REAP, "seed {seed}: missed at +{}", c - KILL);
                assert!((d - (c + LOOP_WAIT)).abs() < 1e-6, "seed {seed}");
                missed += 1;
            }
            None => {
                assert!(d - KILL >= REAP && d - KILL <= LOOP_WAIT, "seed {seed}");
                seen += 1;
            }
        }
    }
    assert!(missed > 0 && seen > 0, "missed {missed}, seen {seen}");
}
