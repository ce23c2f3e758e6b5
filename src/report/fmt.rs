//! Number formatting shared by the report files: fixed decimals, no locale,
//! integer arithmetic where the value is an integer count of nanoseconds, so
//! the same run always gives the same bytes.

use crate::engine::SimTime;
use crate::metrics::{DbCodes, FAILURE_KINDS, KIND_COUNT};

/// `t - origin` in signed nanoseconds.
pub(crate) fn rel_ns(t: SimTime, origin: SimTime) -> i128 {
    t.0 as i128 - origin.0 as i128
}

/// Seconds with `decimals` (0..=9) decimals from signed nanoseconds, rounded
/// half away from zero, exactly (no float); never prints `-0.000`.
pub(crate) fn secs(ns: i128, decimals: u32) -> String {
    let decimals = decimals.min(9);
    let scale = 10i128.pow(9 - decimals);
    let q = (ns.abs() + scale / 2) / scale;
    let sign = if ns < 0 && q != 0 { "-" } else { "" };
    if decimals == 0 {
        return format!("{sign}{q}");
    }
    let unit = 10i128.pow(decimals);
    format!("{sign}{}.{:0w$}", q / unit, q % unit, w = decimals as usize)
}

/// A latency given in milliseconds: `5.24ms` below one second, `15.64s` above.
pub(crate) fn latency(ms: f64) -> String {
    if !ms.is_finite() {
        "n/a".to_string()
    } else if ms < 999.995 {
        format!("{ms:.2}ms")
    } else {
        format!("{:.2}s", ms / 1e3)
    }
}

/// `part` as a percentage of `whole`, two decimals.
pub(crate) fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        "0.00%".to_string()
    } else {
        format!("{:.2}%", part as f64 * 100.0 / whole as f64)
    }
}

/// Nonzero failure kinds, largest count first (ties in report order), as
/// `503: 378<sep>502: 1`.
pub(crate) fn kinds(by_kind: &[u64; KIND_COUNT], sep: &str) -> String {
    let mut v: Vec<(usize, u64)> = by_kind
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.iter()
        .map(|&(k, n)| format!("{}: {n}", FAILURE_KINDS[k]))
        .collect::<Vec<_>>()
        .join(sep)
}

/// The product codes behind the nonzero database failure kinds, kinds in the
/// order of [`kinds`], codes most frequent first, as
/// `db_not_ready: 412 (1047: 400, 1180: 12)<sep>db_deadlock: 3 (1213: 3)`;
/// empty without database errors.
pub(crate) fn db_codes(by_kind: &[u64; KIND_COUNT], codes: &DbCodes, sep: &str) -> String {
    let mut v: Vec<(usize, u64)> = by_kind
        .iter()
        .copied()
        .enumerate()
        .filter(|&(_, n)| n > 0)
        .collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.iter()
        .filter_map(|&(k, n)| {
            let of_kind = codes.of_kind(k);
            (!of_kind.is_empty()).then(|| {
                let list: Vec<String> = of_kind
                    .iter()
                    .map(|(e, c)| format!("{}: {c}", e.code))
                    .collect();
                format!("{}: {n} ({})", FAILURE_KINDS[k], list.join(", "))
            })
        })
        .collect::<Vec<_>>()
        .join(sep)
}

/// Rounds to `decimals` decimals for JSON (shortest float rendering after).
pub(crate) fn round(x: f64, decimals: i32) -> f64 {
    let p = 10f64.powi(decimals);
    let r = (x * p).round() / p;
    // A tiny negative rounds to -0.0, which JSON and text print as "-0".
    if r == 0.0 { 0.0 } else { r }
}

/// An axis tick: up to three decimals, trailing zeros dropped.
pub(crate) fn tick(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn rounding_never_gives_negative_zero() {
        let r = super::round(-1e-12, 9);
        assert!(r == 0.0 && r.is_sign_positive());
        assert_eq!(serde_json::to_string(&r).unwrap(), "0.0");
        assert_eq!(super::round(-0.0015, 3), -0.002);
    }

    use super::*;

    #[test]
    fn seconds_are_exact_and_signed() {
        assert_eq!(secs(5_667_000_000, 3), "5.667");
        assert_eq!(secs(-5_000_000, 3), "-0.005");
        assert_eq!(secs(-400_000, 3), "0.000");
        assert_eq!(secs(1_999_500_000, 3), "2.000");
        assert_eq!(secs(-1_999_500_000, 3), "-2.000");
        assert_eq!(secs(13_000_000_000, 0), "13");
        assert_eq!(secs(1, 9), "0.000000001");
    }

    #[test]
    fn latencies_switch_unit_at_one_second() {
        assert_eq!(latency(6.1), "6.10ms");
        assert_eq!(latency(999.99), "999.99ms");
        assert_eq!(latency(999.999), "1.00s");
        assert_eq!(latency(15_640.0), "15.64s");
    }

    #[test]
    fn kinds_are_sorted_by_count() {
        let mut k = [0; KIND_COUNT];
        k[1] = 1;
        k[2] = 378;
        k[6] = 1;
        assert_eq!(kinds(&k, "  "), "503: 378  502: 1  refused: 1");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(10.0), "10");
        assert_eq!(tick(-0.0001), "0");
    }
}
