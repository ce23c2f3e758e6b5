//! What a client saw for one request.

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
}

/// Failure kinds counted separately, in report order.
pub const FAILURE_KINDS: [&str; 11] = [
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
