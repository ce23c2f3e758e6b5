//! The CSV files of a run: `timeline.csv` (one row per time bucket) and
//! `events.csv` (every state change, in the recorder's order).

use super::RunResult;
use super::fmt::secs;
use crate::engine::Dur;
use crate::metrics::FAILURE_KINDS;

fn finish(w: csv::Writer<Vec<u8>>) -> String {
    let bytes = w
        .into_inner()
        .expect("flushing a CSV writer into memory cannot fail");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// Decimals that show a multiple of `width` exactly (3 for whole ms).
fn decimals_for(width: Dur) -> u32 {
    if width.0.is_multiple_of(Dur::MS) {
        3
    } else if width.0.is_multiple_of(Dur::US) {
        6
    } else {
        9
    }
}

/// `t_s,started,ok,failed,<kind>...,p50_ms,p99_ms,max_ms`, one row per bucket;
/// `t_s` is the bucket's start; `started`, `ok` and the failures count the
/// requests issued in the bucket (by their outcome), the latency cells
/// describe the requests that ended in it (empty when none did).
pub fn timeline_csv(r: &RunResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    write_timeline_csv(r, &mut w).expect("CSV into memory");
    finish(w)
}

/// [`timeline_csv`] into `w` row by row: a day at 1 s buckets is 6 MB of
/// CSV that need not sit in memory while the file is written.
pub fn write_timeline_csv<W: std::io::Write>(
    r: &RunResult,
    w: &mut csv::Writer<W>,
) -> csv::Result<()> {
    let tl = &r.recorder.timeline;
    let mut header = vec!["t_s", "started", "ok", "failed"];
    header.extend(FAILURE_KINDS);
    header.extend(["p50_ms", "p99_ms", "max_ms"]);
    w.write_record(&header)?;
    let dec = decimals_for(tl.width);
    let mut rec: Vec<String> = Vec::with_capacity(header.len());
    for (i, b) in tl.buckets.iter().enumerate() {
        rec.clear();
        rec.push(secs(i as i128 * tl.width.0 as i128, dec));
        rec.push(b.started.to_string());
        rec.push(b.ok.to_string());
        let failed = tl.failed(i);
        rec.push(failed.iter().sum::<u64>().to_string());
        rec.extend(failed.iter().map(u64::to_string));
        if b.latency.count == 0 {
            rec.extend(["", "", ""].map(String::from));
        } else {
            rec.push(format!("{:.3}", b.latency.p50_ms));
            rec.push(format!("{:.3}", b.latency.p99_ms));
            rec.push(format!("{:.3}", b.latency.max_ms));
        }
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

/// `t_s,component,subject,event,detail`: every state change, with its
/// instant in seconds from the start (exact to the nanosecond).
pub fn events_csv(r: &RunResult) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["t_s", "component", "subject", "event", "detail"])
        .expect("CSV into memory");
    for e in &r.recorder.events {
        let t = secs(e.at.0 as i128, 9);
        w.write_record([
            t.as_str(),
            &e.component,
            &e.subject,
            e.kind.name(),
            &e.detail,
        ])
        .expect("CSV into memory");
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;

    #[test]
    fn timeline_has_a_row_per_bucket() {
        let r = sample();
        let csv = timeline_csv(&r);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "t_s,started,ok,failed,500,502,503,504,4xx,5xx_other,refused,reset,closed,timeout,unreachable,db_not_ready,db_read_only,db_deadlock,db_timeout,p50_ms,p99_ms,max_ms"
        );
        assert_eq!(lines.len(), 1 + 10);
        // Bucket [3 s, 4 s): 10 ok issued there and the 503 issued at 3.5 s;
        // the 503 issued at 2.95 s that ended at 3.000 counts at 2 s.
        assert!(
            lines[4].starts_with("3.000,11,10,1,0,0,1,0,0,0,0,0,0,0,0,"),
            "{}",
            lines[4]
        );
        assert!(lines[3].starts_with("2.000,11,10,1,0,0,1,"), "{}", lines[3]);
        // The last bucket: requests issued at 9.0 .. 9.3 s, 5 ms each.
        assert_eq!(
            lines[10],
            "9.000,4,4,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,5.000,5.000,5.000"
        );
        let cols = lines[0].split(',').count();
        assert!(lines.iter().all(|l| l.split(',').count() == cols));
    }

    #[test]
    fn events_escape_commas_and_quotes() {
        let r = sample();
        let csv = events_csv(&r);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], "t_s,component,subject,event,detail");
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[1], "3.000000000,faults,s2,fault,kill");
        assert_eq!(
            lines[2],
            "4.500000000,lb,s2,marked_down,\"Layer4 connection problem, info: \"\"Connection refused\"\", check duration: 0ms\""
        );
        let mut rd = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
        assert_eq!(&rows[1][4], r.recorder.events[1].detail);
    }
}
