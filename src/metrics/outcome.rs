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
    /// A database error reply (one of the `db` codes below).
    Db(u16),
}

/// Database errors travel as reply statuses of 1000 and more: MySQL error
/// numbers, with PostgreSQL's SQLSTATEs mapped to the MySQL error of the same
/// meaning.
pub mod db {
    /// ER_UNKNOWN_COM_ERROR 1047 "WSREP has not yet prepared node for
    /// application use" (Galera non-Primary); PostgreSQL 57P03 "the database
    /// system is starting up / shutting down".
    pub const NOT_READY: u16 = 1047;
    /// ER_ERROR_DURING_COMMIT 1180 "Not connected to Primary Component": a
    /// commit that was waiting when its node left the Primary Component.
    pub const COMMIT_FAILED: u16 = 1180;
    /// ER_LOCK_WAIT_TIMEOUT 1205 (wsrep_sync_wait past causal_read_timeout).
    pub const LOCK_WAIT_TIMEOUT: u16 = 1205;
    /// ER_LOCK_DEADLOCK 1213: a Galera certification conflict.
    pub const DEADLOCK: u16 = 1213;
    /// ER_OPTION_PREVENTS_STATEMENT 1290 (--read-only); PostgreSQL 25006
    /// "cannot execute INSERT in a read-only transaction".
    pub const READ_ONLY: u16 = 1290;
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
            Outcome::Db(db::READ_ONLY) => 12,
            Outcome::Db(db::DEADLOCK) => 13,
            Outcome::Db(db::LOCK_WAIT_TIMEOUT) => 14,
            Outcome::Db(_) => 11,
        })
    }

    /// Name of a failure kind index.
    pub fn kind_name(i: usize) -> &'static str {
        FAILURE_KINDS[i]
    }

    /// A short label for traces.
    pub fn label(self) -> String {
        match self {
            Outcome::Ok(s) | Outcome::Http(s) | Outcome::Db(s) => s.to_string(),
            o => Outcome::kind_name(o.failure_index().unwrap_or(0)).to_string(),
        }
    }

    /// Classifies an HTTP status as a client library does.
    #[inline]
    pub fn from_status(status: u16) -> Outcome {
        if (200..400).contains(&status) {
            Outcome::Ok(status)
        } else if status >= 1000 {
            Outcome::Db(status)
        } else {
            Outcome::Http(status)
        }
    }
}
