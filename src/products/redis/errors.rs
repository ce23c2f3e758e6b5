//! The errors a Redis server answers a command with, as `redis-cli` prints
//! them (`(error) READONLY You can't write against a read only replica.`):
//! the code is the reply's first word.

use crate::process::{DbErrorCode, Meaning};
use crate::protocols::sql::SessionErrors;

/// A write on a replica with `replica-read-only yes` (server.c,
/// `shared.roslaveerr`).
pub const READONLY: DbErrorCode = DbErrorCode::new(
    "READONLY",
    "shared.roslaveerr",
    "READONLY You can't write against a read only replica.",
    Meaning::ReadOnly,
);

/// A write on a master with fewer than `min-replicas-to-write` replicas
/// that acknowledged within `min-replicas-max-lag` (server.c,
/// `shared.noreplicaserr`).
pub const NOREPLICAS: DbErrorCode = DbErrorCode::new(
    "NOREPLICAS",
    "shared.noreplicaserr",
    "NOREPLICAS Not enough good replicas to write.",
    Meaning::NotReady,
);

/// A connection beyond `maxclients` (networking.c, `acceptCommonHandler`).
pub const MAXCLIENTS: DbErrorCode = DbErrorCode::new(
    "ERR",
    "maxclients",
    "ERR max number of clients reached",
    Meaning::TooManyConnections,
);

/// Every error above.
pub const CODES: &[DbErrorCode] = &[READONLY, NOREPLICAS, MAXCLIENTS];

/// What the client sessions answer on their own. Redis closes its clients'
/// connections when it shuts down (no error reply), and the model has no
/// clean shutdown: `shutting_down` is never sent.
pub const SESSION_ERRORS: SessionErrors = SessionErrors {
    too_many_connections: MAXCLIENTS.error,
    shutting_down: MAXCLIENTS.error,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_counts_as_its_failure_kind() {
        let want = [
            ("READONLY", "db_read_only"),
            ("NOREPLICAS", "db_not_ready"),
            ("ERR", "db_not_ready"),
        ];
        assert_eq!(crate::process::db_error::failure_kinds(CODES), want);
    }
}
