//! The errors a Redis Cluster node answers a command with: the first word of
//! the reply, as redis-cli and the client libraries print it
//! (`(error) CLUSTERDOWN The cluster is down`).

use crate::process::{DbErrorCode, Meaning};
use crate::protocols::sql::SessionErrors;

/// The node's cluster state is `fail` (a slot uncovered with
/// `cluster-require-full-coverage yes`, or the node sees a minority of
/// masters); with `cluster-allow-reads-when-down yes` reads still pass and
/// writes get "... and only accepts read commands".
pub const CLUSTERDOWN: DbErrorCode = DbErrorCode::new(
    "CLUSTERDOWN",
    "CLUSTERDOWN",
    "The cluster is down (or: The cluster is down and only accepts read commands)",
    Meaning::NotReady,
);

/// The key's slot is served by another node (cluster.c
/// `getNodeByQuery`): a cluster client follows it; it counts as a failure
/// only when the library gives up (16 redirects).
pub const MOVED: DbErrorCode = DbErrorCode::new(
    "MOVED",
    "MOVED",
    "MOVED <slot> <ip>:<port>",
    Meaning::NotReady,
);

/// More clients than `maxclients` (10000).
pub const MAXCLIENTS: DbErrorCode = DbErrorCode::new(
    "ERR",
    "ERR max number of clients reached",
    "max number of clients reached",
    Meaning::TooManyConnections,
);

/// A node that is loading its dataset (after a restart) or going away.
pub const LOADING: DbErrorCode = DbErrorCode::new(
    "LOADING",
    "LOADING",
    "Redis is loading the dataset in memory",
    Meaning::NotReady,
);

/// Every error above.
pub const CODES: &[DbErrorCode] = &[CLUSTERDOWN, MOVED, MAXCLIENTS, LOADING];

/// What the client sessions answer on their own.
pub const SESSION_ERRORS: SessionErrors = SessionErrors {
    too_many_connections: MAXCLIENTS.error,
    shutting_down: LOADING.error,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_counts_as_its_failure_kind() {
        let want = [
            ("CLUSTERDOWN", "db_not_ready"),
            ("MOVED", "db_not_ready"),
            ("ERR", "db_not_ready"),
            ("LOADING", "db_not_ready"),
        ];
        assert_eq!(crate::process::db_error::failure_kinds(CODES), want);
    }
}
