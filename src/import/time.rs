//! Times as each product writes them, to hasim durations. HAProxy reads a
//! bare number as milliseconds (`timeout connect 5000`), nginx as seconds
//! (`proxy_read_timeout 60`), Galera as ISO 8601 (`PT5S`).

use crate::engine::Dur;

/// HAProxy (src/tools.c parse_time_err): an integer with an optional unit,
/// `us`, `ms`, `s`, `m`, `h`, `d`; no unit = milliseconds.
pub fn haproxy(text: &str) -> Result<Dur, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("expected a time such as 5000 (ms) or 5s, found `{text}`"))?;
    let scale = match unit {
        "" | "ms" => Dur::MS,
        "us" => Dur::US,
        "s" => Dur::S,
        "m" => 60 * Dur::S,
        "h" => 3600 * Dur::S,
        "d" => 86_400 * Dur::S,
        u => {
            return Err(format!(
                "unknown time unit `{u}` in `{text}` (HAProxy: us, ms, s, m, h, d)"
            ));
        }
    };
    Ok(Dur(n.saturating_mul(scale)))
}

/// nginx (src/core/ngx_parse.c ngx_parse_time): parts like `1m30s`, units
/// `ms`, `s`, `m`, `h`, `d`, `w`, `M`, `y`; no unit = seconds.
pub fn nginx(text: &str) -> Result<Dur, String> {
    let bad = || format!("expected a time such as 60 (s), 500ms or 1m30s, found `{text}`");
    if text.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let split = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if split == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..split].parse().map_err(|_| bad())?;
        rest = &rest[split..];
        let ulen = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let scale = match &rest[..ulen] {
            "ms" => Dur::MS,
            "" | "s" => Dur::S,
            "m" => 60 * Dur::S,
            "h" => 3600 * Dur::S,
            "d" => 86_400 * Dur::S,
            "w" => 7 * 86_400 * Dur::S,
            "M" => 30 * 86_400 * Dur::S,
            "y" => 365 * 86_400 * Dur::S,
            _ => return Err(bad()),
        };
        rest = &rest[ulen..];
        total = total.saturating_add(n.saturating_mul(scale));
    }
    Ok(Dur(total))
}

/// Galera's provider options: ISO 8601 durations (`PT5S`, `PT1.5S`, `PT1M`,
/// `P1D`); galerautils also takes a plain number of seconds.
pub fn iso8601(text: &str) -> Result<Dur, String> {
    let bad = || format!("expected an ISO 8601 duration such as PT5S, found `{text}`");
    if let Ok(s) = text.parse::<f64>() {
        return if s >= 0.0 {
            Ok(Dur((s * 1e9).round() as u64))
        } else {
            Err(bad())
        };
    }
    let body = text.strip_prefix('P').ok_or_else(bad)?;
    let mut total = 0f64;
    let mut in_time = false;
    let mut num = String::new();
    let mut any = false;
    for c in body.chars() {
        match c {
            'T' if !in_time && num.is_empty() => in_time = true,
            '0'..='9' | '.' => num.push(c),
            _ => {
                let n: f64 = num.parse().map_err(|_| bad())?;
                num.clear();
                any = true;
                total += n * match (c, in_time) {
                    ('D', false) => 86_400.0,
                    ('W', false) => 7.0 * 86_400.0,
                    ('H', true) => 3600.0,
                    ('M', true) => 60.0,
                    ('S', true) => 1.0,
                    _ => return Err(bad()),
                };
            }
        }
    }
    if !num.is_empty() || !any {
        return Err(bad());
    }
    Ok(Dur((total * 1e9).round() as u64))
}

/// Whole seconds, saturating (the loader refuses what is too long).
pub fn secs(n: u64) -> Dur {
    Dur(n.saturating_mul(Dur::S))
}

/// Whole milliseconds, saturating.
pub fn ms(n: u64) -> Dur {
    Dur(n.saturating_mul(Dur::MS))
}

/// The duration as hasim writes it (`"5s"`, `"500ms"`).
pub fn toml(d: Dur) -> String {
    super::writer::quote(&d.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn haproxy_reads_a_bare_number_as_milliseconds() {
        assert_eq!(haproxy("5000").unwrap(), Dur::from_secs(5));
        assert_eq!(haproxy("2s").unwrap(), Dur::from_secs(2));
        assert_eq!(haproxy("500ms").unwrap(), Dur::from_ms(500));
        assert_eq!(haproxy("1m").unwrap(), Dur::from_secs(60));
        assert_eq!(haproxy("100us").unwrap(), Dur(100_000));
        assert!(haproxy("5x").unwrap_err().contains("unknown time unit"));
        assert!(haproxy("").is_err());
        assert!(haproxy("1.5s").is_err());
    }

    #[test]
    fn nginx_reads_a_bare_number_as_seconds() {
        assert_eq!(nginx("60").unwrap(), Dur::from_secs(60));
        assert_eq!(nginx("500ms").unwrap(), Dur::from_ms(500));
        assert_eq!(nginx("1m30s").unwrap(), Dur::from_secs(90));
        assert_eq!(nginx("1h").unwrap(), Dur::from_secs(3600));
        assert!(nginx("abc").is_err());
        assert!(nginx("").is_err());
        assert!(nginx("5q").is_err());
    }

    #[test]
    fn galera_reads_iso_8601() {
        assert_eq!(iso8601("PT5S").unwrap(), Dur::from_secs(5));
        assert_eq!(iso8601("PT1.5S").unwrap(), Dur::from_ms(1500));
        assert_eq!(iso8601("PT1M30S").unwrap(), Dur::from_secs(90));
        assert_eq!(iso8601("P1D").unwrap(), Dur::from_secs(86_400));
        assert_eq!(iso8601("3").unwrap(), Dur::from_secs(3));
        assert!(iso8601("5S").is_err());
        assert!(iso8601("PT").is_err());
        assert!(iso8601("PTS").is_err());
    }
}
