//! The errors PostgreSQL answers a statement with: SQLSTATEs, as clients
//! show them (`psql` with `\set VERBOSITY verbose`: `ERROR:  25006: cannot
//! execute INSERT in a read-only transaction`; libpq's PG_DIAG_SQLSTATE).
//! Names are the condition names of PostgreSQL's errcodes.txt.

use crate::process::{DbErrorCode, Meaning};
use crate::protocols::sql::SessionErrors;

/// A statement while PostgreSQL starts up (recovery not yet consistent),
/// shuts down, or is down under a running Patroni.
pub const CANNOT_CONNECT_NOW: DbErrorCode = DbErrorCode::new(
    "57P03",
    "cannot_connect_now",
    "the database system is starting up / the database system is shutting down",
    Meaning::NotReady,
);

/// A session with a statement in progress at a fast shutdown (`pg_ctl stop
/// -m fast`, which Patroni uses): the backend is terminated.
pub const ADMIN_SHUTDOWN: DbErrorCode = DbErrorCode::new(
    "57P01",
    "admin_shutdown",
    "terminating connection due to administrator command",
    Meaning::NotReady,
);

/// A write on a standby (or a primary being demoted).
pub const READ_ONLY_SQL_TRANSACTION: DbErrorCode = DbErrorCode::new(
    "25006",
    "read_only_sql_transaction",
    "cannot execute %s in a read-only transaction",
    Meaning::ReadOnly,
);

/// A connection beyond `max_connections`.
pub const TOO_MANY_CONNECTIONS: DbErrorCode = DbErrorCode::new(
    "53300",
    "too_many_connections",
    "sorry, too many clients already",
    Meaning::TooManyConnections,
);

/// Every error above.
pub const CODES: &[DbErrorCode] = &[
    CANNOT_CONNECT_NOW,
    ADMIN_SHUTDOWN,
    READ_ONLY_SQL_TRANSACTION,
    TOO_MANY_CONNECTIONS,
];

/// What the client sessions answer on their own.
pub const SESSION_ERRORS: SessionErrors = SessionErrors {
    too_many_connections: TOO_MANY_CONNECTIONS.error,
    shutting_down: ADMIN_SHUTDOWN.error,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure kind each code counts as (the columns of every output).
    #[test]
    fn each_code_counts_as_its_failure_kind() {
        let want = [
            ("57P03", "db_not_ready"),
            ("57P01", "db_not_ready"),
            ("25006", "db_read_only"),
            ("53300", "db_not_ready"),
        ];
        assert_eq!(crate::process::db_error::failure_kinds(CODES), want);
    }

    /// SQLSTATEs are five characters of digits and capitals.
    #[test]
    fn codes_are_sqlstates() {
        for c in CODES {
            let s = c.error.code.as_str();
            assert_eq!(s.len(), 5, "{c:?}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            );
        }
    }
}
