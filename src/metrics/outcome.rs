//! What a client saw for one request.

use crate::process::{DbError, Meaning};

/// The ways a request ends, as a client library reports them. HTTP statuses
/// outside 200..=399 and network errors are failures (k6's `http_req_failed`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Outcome {
    /// Status 200..=399.
    Ok(u16),
    /// A status >= 400.
    Http(u16),
    /// The connect was refused (RST in reply to SYN).
    Refused,
    /// The connection was reset after it was established.
    Reset,
    /// The connection closed with no reply (HAProxy tcp mode's failure).
    Closed,
    /// The client's own timeout fired.
    Timeout,
    /// EHOSTUNREACH / connect timeout at the client.
    Unreachable,
    /// A database's error reply, in the product's code.
    Db(DbError),
}

/// Failure kinds counted separately, in report order.
pub const FAILURE_KINDS: [&str; 15] = [
    "500",
    "502",
    "503",
    "504",
    "4xx",
    "5xx_other",
    "refused",
    "reset",
    "closed",
    "timeout",
    "unreachable",
    "db_not_ready",
    "db_read_only",
    "db_deadlock",
    "db_timeout",
];
pub const KIND_COUNT: usize = FAILURE_KINDS.len();

impl Outcome {
    #[inline]
    pub fn is_ok(self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// Index into the failure-kind counters; `None` for a success.
    #[inline]
    pub fn failure_index(self) -> Option<usize> {
        Some(match self {
            Outcome::Ok(_) => return None,
            Outcome::Http(500) => 0,
            Outcome::Http(502) => 1,
            Outcome::Http(503) => 2,
            Outcome::Http(504) => 3,
            Outcome::Http(s) if s < 500 => 4,
            Outcome::Http(_) => 5,
            Outcome::Refused => 6,
            Outcome::Reset => 7,
            Outcome::Closed => 8,
            Outcome::Timeout => 9,
            Outcome::Unreachable => 10,
            Outcome::Db(e) => db_kind(e.meaning),
        })
    }

    /// Name of a failure kind index.
    pub fn kind_name(i: usize) -> &'static str {
        FAILURE_KINDS[i]
    }

    /// A short label for traces.
    pub fn label(self) -> String {
        match self {
            Outcome::Ok(s) | Outcome::Http(s) => s.to_string(),
            Outcome::Db(e) => e.code.to_string(),
            o => Outcome::kind_name(o.failure_index().unwrap_or(0)).to_string(),
        }
    }

    /// Classifies an HTTP status as a client library does.
    #[inline]
    pub fn from_status(status: u16) -> Outcome {
        if (200..400).contains(&status) {
            Outcome::Ok(status)
        } else {
            Outcome::Http(status)
        }
    }
}

/// The failure kind a database error counts as. Kinds are coarser than
/// meanings: the kinds are the columns of every CSV and JSON output and of
/// the baselines, which a new meaning must not reshape; the summary shows
/// the codes within a kind.
#[inline]
pub const fn db_kind(m: Meaning) -> usize {
    match m {
        // A statement the cluster could not take, at this node: try another.
        Meaning::NotReady | Meaning::CommitFailed | Meaning::TooManyConnections => 11,
        Meaning::ReadOnly => 12,
        Meaning::Deadlock => 13,
        Meaning::LockWaitTimeout => 14,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::DbErrorCode;

    fn db(code: &str, meaning: Meaning) -> Outcome {
        Outcome::Db(DbErrorCode::new(code, "", "", meaning).error)
    }

    #[test]
    fn database_errors_count_by_meaning_and_trace_their_code() {
        let kind = |o: Outcome| Outcome::kind_name(o.failure_index().unwrap());
        assert_eq!(kind(db("57P03", Meaning::NotReady)), "db_not_ready");
        assert_eq!(kind(db("1180", Meaning::CommitFailed)), "db_not_ready");
        assert_eq!(
            kind(db("53300", Meaning::TooManyConnections)),
            "db_not_ready"
        );
        assert_eq!(kind(db("25006", Meaning::ReadOnly)), "db_read_only");
        assert_eq!(kind(db("1213", Meaning::Deadlock)), "db_deadlock");
        assert_eq!(kind(db("1205", Meaning::LockWaitTimeout)), "db_timeout");
        assert_eq!(db("57P03", Meaning::NotReady).label(), "57P03");
        assert_eq!(db("1047", Meaning::NotReady).label(), "1047");
    }

    #[test]
    fn statuses_are_http_whatever_their_number() {
        assert_eq!(Outcome::from_status(200), Outcome::Ok(200));
        assert_eq!(Outcome::from_status(503), Outcome::Http(503));
        assert_eq!(Outcome::from_status(1047), Outcome::Http(1047));
    }
}
