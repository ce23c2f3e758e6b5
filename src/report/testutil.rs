//! A small hand-built run for the report tests.

use super::{Detection, FaultReport, FormulaRange, RunResult};
use crate::engine::{Dur, SimTime};
use crate::metrics::{EventKind, Outcome, Recorder};

fn t(ms: u64) -> SimTime {
    SimTime(ms * Dur::MS)
}

/// 10 s, 1 s buckets, `kill s2` at 3 s (5 failures, detected at 4.5 s) and
/// `recover s2` at 7 s (1 refused, not detected); 100 requests in all.
pub(crate) fn sample() -> RunResult {
    sample_with(&[])
}

/// [`sample`] with further failed requests (start ms, end ms, outcome) of
/// client 1.
pub(crate) fn sample_with(extra: &[(u64, u64, Outcome)]) -> RunResult {
    let mut rec = Recorder::new(
        SimTime::ZERO,
        t(10_000),
        Dur::from_secs(1),
        vec![(t(3_000), false), (t(7_000), true)],
    );
    // A run records requests in the order they end.
    let mut reqs: Vec<(u32, u64, u64, Outcome)> = (0..94u64)
        .map(|i| {
            let lat = if i == 50 { 50 } else { 5 };
            (0, i * 100, i * 100 + lat, Outcome::Ok(200))
        })
        .collect();
    let fails = [
        (2_950, 3_000, Outcome::Http(503)),
        (3_500, 3_505, Outcome::Http(503)),
        (4_000, 4_005, Outcome::Http(503)),
        (4_200, 4_205, Outcome::Http(502)),
        (4_400, 4_405, Outcome::Http(503)),
        (7_200, 7_201, Outcome::Refused),
    ];
    reqs.extend(fails.iter().chain(extra).map(|&(s, e, o)| (1, s, e, o)));
    reqs.sort_by_key(|r| r.2);
    for (client, s, e, o) in reqs {
        rec.record(client, t(s), t(e), o);
    }
    rec.close();
    rec.event(t(3_000), "faults", "s2", EventKind::Fault, "kill");
    let detail = "Layer4 connection problem, info: \"Connection refused\", check duration: 0ms";
    rec.event(t(4_500), "lb", "s2", EventKind::MarkedDown, detail);
    rec.event(t(7_000), "faults", "s2", EventKind::Recover, "restart");
    let faults = vec![
        FaultReport {
            label: "kill s2".into(),
            is_recovery: false,
            at: t(3_000),
            targets: vec!["s2".into()],
            also_detected: Vec::new(),
            detected: Some(Detection {
                at: t(4_500),
                by: "lb".into(),
                detail: detail.into(),
            }),
            window: rec.windows[0].clone(),
            p99_ms_after: rec.segment_latency[1].quantile_ms(0.99),
            max_ms_after: rec.segment_latency[1].max_ms(),
            formula_detect: Some(FormulaRange {
                lo: Dur::from_secs(1),
                hi: Dur::from_secs(2),
                formula: "U(0,inter) + fall*inter".into(),
            }),
            formula_window_end: Some(FormulaRange {
                lo: Dur::from_ms(500),
                hi: Dur::from_secs(1),
                formula: "detect - d".into(),
            }),
        },
        FaultReport {
            label: "recover s2".into(),
            is_recovery: true,
            at: t(7_000),
            targets: vec!["s2".into()],
            also_detected: Vec::new(),
            detected: None,
            window: rec.windows[1].clone(),
            p99_ms_after: rec.segment_latency[2].quantile_ms(0.99),
            max_ms_after: rec.segment_latency[2].max_ms(),
            formula_detect: None,
            formula_window_end: None,
        },
    ];
    RunResult {
        experiment: "test-kill".into(),
        description: "a killed server behind a balancer".into(),
        file: "experiments/test-kill.toml".into(),
        seed: 7,
        duration: Dur::from_secs(10),
        start: crate::config::spec::StartSpec::COLD,
        recorder: rec,
        faults,
        history: None,
        warnings: vec![],
        breakdowns: vec![],
        thresholds: vec![],
    }
}

/// A `Write` a test keeps a handle on (a run's trace goes here).
#[derive(Clone, Default)]
pub(crate) struct Shared(pub std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
