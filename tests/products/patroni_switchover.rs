//! `patronictl switchover` (issue 10 point 6), phased as Patroni 3.0.2 runs
//! it: the client's own start-up (`patronictl_time`) before its
//! `POST /switchover` (api.py) reaches the leader; the woken HA loop checks
//! the candidate's REST API (ha.py process_manual_failover_from_leader ->
//! is_failover_possible), then `demote('graceful')`: a fast shutdown whose
//! checkpoint the standbys confirm, the key released at the first of
//! `_do_stop`'s pg_controldata polls (one at the signal, then every
//! `STOP_POLLING_INTERVAL` = 1 s) that sees it shut down, `time.sleep(2)`, and
//! only then PostgreSQL started as a replica. The candidate, woken by its
//! watch, polls the others, takes the key and promotes.

use hasim::sim::Sim;

const AT: f64 = 40.0;
const STOP: f64 = 0.5;
/// `STOP_POLLING_INTERVAL`: the 0.5 s stop is seen at the poll 1 s after the signal.
const POLL: f64 = 1.0;
const PAUSE: f64 = 2.0;
const START: f64 = 1.5;
const STARTUP: f64 = 0.05;
const PROMOTE: f64 = 1.0;
/// A few network round trips (latency 0.1 ms): REST checks, DCS writes.
const RTTS: f64 = 0.01;

fn text() -> String {
    format!(
        "{}[[faults]]\nkind = \"switchover\"\ntarget = \"pg\"\ncandidate = \"pg2\"\nat = \"40s\"\n",
        super::patroni_crash::patroni_behind_haproxy()
    )
}

#[test]
fn a_switchover_waits_for_patronictl_checks_the_candidate_and_pauses_after_the_release() {
    let spec = hasim::config::parse(&text(), "so.toml").unwrap_or_else(|e| panic!("{e}"));
    for seed in 1..=4 {
        let mut sim = Sim::new(&spec, seed);
        sim.run();
        let r = sim.finish();
        let at = |node: &str, what: &str| {
            r.recorder
                .events
                .iter()
                .find(|e| {
                    e.component == node && e.detail.contains(what) && e.at.as_secs_f64() >= AT
                })
                .unwrap_or_else(|| panic!("seed {seed}: no `{what}` on {node}"))
                .at
                .as_secs_f64()
        };
        // patronictl's own 1.5-2.6 s before the leader hears of it.
        let req = at("pg1", "switchover requested") - AT;
        assert!((1.5..=2.6).contains(&req), "seed {seed}: request at +{req}");
        // The candidate's REST check: a round trip, then the demote.
        let demote = at("pg1", "manual failover: demoting myself") - AT;
        assert!(demote - req > 0.0 && demote - req < RTTS, "seed {seed}");
        // Fast shutdown, release; the candidate polls the others (all
        // answer at once) and takes the key.
        let elected = at("pg2", "acquired session lock") - AT;
        let release = demote + (STOP / POLL).ceil() * POLL;
        assert!(
            elected >= release && elected - release < RTTS,
            "seed {seed}: key taken at +{elected}, released at ~+{release}"
        );
        let promoted = at("pg2", "postgres promoted") - AT;
        assert!((promoted - (elected + PROMOTE)).abs() < RTTS, "seed {seed}");
        // The old primary sleeps 2 s after the release, then starts.
        let back = at("pg1", "started as a read-only replica") - AT;
        assert!(
            (back - (release + PAUSE + START + STARTUP)).abs() < RTTS,
            "seed {seed}: pg1 back at +{back}, formula +{}",
            release + PAUSE + START + STARTUP
        );
        let h = r.history.unwrap();
        assert!(h.lost.is_empty() && h.split_brain_secs() == 0.0);
    }
}
