//! The errors a MariaDB server of a replication topology answers a statement
//! with: MySQL error numbers, as `mysql` prints them
//! (`ERROR 1290 (HY000): The MariaDB server is running with the --read-only
//! option so it cannot execute this statement`).

use crate::process::{DbErrorCode, Meaning};
use crate::protocols::sql::SessionErrors;

/// A connection beyond `max_connections`.
pub const ER_CON_COUNT_ERROR: DbErrorCode = DbErrorCode::new(
    "1040",
    "ER_CON_COUNT_ERROR",
    "Too many connections",
    Meaning::TooManyConnections,
);

/// A statement in progress when mysqld shuts down cleanly (it kills the
/// client threads).
pub const ER_SERVER_SHUTDOWN: DbErrorCode = DbErrorCode::new(
    "1053",
    "ER_SERVER_SHUTDOWN",
    "Server shutdown in progress",
    Meaning::NotReady,
);

/// A write on a `read_only` replica.
pub const ER_OPTION_PREVENTS_STATEMENT: DbErrorCode = DbErrorCode::new(
    "1290",
    "ER_OPTION_PREVENTS_STATEMENT",
    "The MariaDB server is running with the --read-only option so it cannot execute this statement",
    Meaning::ReadOnly,
);

/// Every error above.
pub const CODES: &[DbErrorCode] = &[
    ER_CON_COUNT_ERROR,
    ER_SERVER_SHUTDOWN,
    ER_OPTION_PREVENTS_STATEMENT,
];

/// What the client sessions answer on their own.
pub const SESSION_ERRORS: SessionErrors = SessionErrors {
    too_many_connections: ER_CON_COUNT_ERROR.error,
    shutting_down: ER_SERVER_SHUTDOWN.error,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure kind each code counts as (the columns of every output).
    #[test]
    fn each_code_counts_as_its_failure_kind() {
        let want = [
            ("1040", "db_not_ready"),
            ("1053", "db_not_ready"),
            ("1290", "db_read_only"),
        ];
        assert_eq!(crate::process::db_error::failure_kinds(CODES), want);
    }
}
