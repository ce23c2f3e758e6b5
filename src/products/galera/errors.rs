//! The errors a Galera node (MariaDB / Percona XtraDB Cluster) answers a
//! statement with: MySQL error numbers, as `mysql` prints them
//! (`ERROR 1047 (08S01): WSREP has not yet prepared node for application use`).

use crate::process::{DbErrorCode, Meaning};
use crate::protocols::sql::SessionErrors;

/// A connection beyond `max_connections`.
pub const ER_CON_COUNT_ERROR: DbErrorCode = DbErrorCode::new(
    "1040",
    "ER_CON_COUNT_ERROR",
    "Too many connections",
    Meaning::TooManyConnections,
);

/// Any statement on a node outside the Primary Component, or not yet synced
/// (reads too, unless `wsrep_dirty_reads`): wsrep_ready is OFF.
pub const ER_UNKNOWN_COM_ERROR: DbErrorCode = DbErrorCode::new(
    "1047",
    "ER_UNKNOWN_COM_ERROR",
    "WSREP has not yet prepared node for application use",
    Meaning::NotReady,
);

/// A statement in progress when mysqld shuts down cleanly (it kills the
/// client threads).
pub const ER_SERVER_SHUTDOWN: DbErrorCode = DbErrorCode::new(
    "1053",
    "ER_SERVER_SHUTDOWN",
    "Server shutdown in progress",
    Meaning::NotReady,
);

/// A commit that was waiting for total order or certification when its node
/// left the Primary Component.
pub const ER_ERROR_DURING_COMMIT: DbErrorCode = DbErrorCode::new(
    "1180",
    "ER_ERROR_DURING_COMMIT",
    "Got error %M during COMMIT",
    Meaning::CommitFailed,
);

/// `wsrep_sync_wait` past `causal_read_timeout`. The model has no
/// `wsrep_sync_wait` yet, so it never answers this; listed so that the day
/// it does, the error already counts as `db_timeout`.
pub const ER_LOCK_WAIT_TIMEOUT: DbErrorCode = DbErrorCode::new(
    "1205",
    "ER_LOCK_WAIT_TIMEOUT",
    "Lock wait timeout exceeded; try restarting transaction",
    Meaning::LockWaitTimeout,
);

/// The loser of a certification conflict (a brute-force abort).
pub const ER_LOCK_DEADLOCK: DbErrorCode = DbErrorCode::new(
    "1213",
    "ER_LOCK_DEADLOCK",
    "Deadlock found when trying to get lock; try restarting transaction",
    Meaning::Deadlock,
);

/// Every error above.
pub const CODES: &[DbErrorCode] = &[
    ER_CON_COUNT_ERROR,
    ER_UNKNOWN_COM_ERROR,
    ER_SERVER_SHUTDOWN,
    ER_ERROR_DURING_COMMIT,
    ER_LOCK_WAIT_TIMEOUT,
    ER_LOCK_DEADLOCK,
];

/// What the client sessions answer on their own.
pub const SESSION_ERRORS: SessionErrors = SessionErrors {
    too_many_connections: ER_CON_COUNT_ERROR.error,
    shutting_down: ER_SERVER_SHUTDOWN.error,
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The failure kind each code counts as: these name the columns of every
    /// output, so a code must not move between them unnoticed.
    #[test]
    fn each_code_counts_as_its_failure_kind() {
        let want = [
            ("1040", "db_not_ready"),
            ("1047", "db_not_ready"),
            ("1053", "db_not_ready"),
            ("1180", "db_not_ready"),
            ("1205", "db_timeout"),
            ("1213", "db_deadlock"),
        ];
        assert_eq!(crate::process::db_error::failure_kinds(CODES), want);
    }

    #[test]
    fn names_are_mysqls() {
        for c in CODES {
            assert!(c.name.starts_with("ER_"), "{c:?}");
            assert_eq!(c.error.code.as_str().len(), 4, "{c:?}");
        }
    }
}
