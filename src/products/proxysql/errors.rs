//! The errors ProxySQL itself answers a client with (MySQL protocol error
//! packets; a backend's own errors, such as Galera's 1047, pass through).

use crate::process::{DbErrorCode, Meaning};

/// No connection to a server of the query's hostgroup within
/// `connect_timeout_server_max` (or after `connect_retries_on_failure`
/// failed attempts): MySQL_Session.cpp, "Max connect timeout reached while
/// reaching hostgroup %d after %llums".
pub const MAX_CONNECT_TIMEOUT: DbErrorCode = DbErrorCode::new(
    "9001",
    "ER_PROXYSQL_MAX_CONN_TIMEOUT",
    "Max connect timeout reached while reaching hostgroup %d after %llums",
    Meaning::NotReady,
);

/// The backend connection broke after the query was sent (the model has no
/// `query_retries_on_failure`): the client library's CR_SERVER_LOST, which
/// ProxySQL forwards.
pub const LOST_CONNECTION: DbErrorCode = DbErrorCode::new(
    "2013",
    "CR_SERVER_LOST",
    "Lost connection to MySQL server during query",
    Meaning::NotReady,
);

/// Every error ProxySQL itself answers with.
pub const ALL: &[DbErrorCode] = &[MAX_CONNECT_TIMEOUT, LOST_CONNECTION];
