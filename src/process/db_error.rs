//! The errors a database answers a statement with. Each product names its
//! errors in its own codes (MySQL's 1047, PostgreSQL's SQLSTATE 57P03); what
//! a client can do about one — retry elsewhere, retry later, give up — does
//! not depend on the product, so every error also carries a [`Meaning`].
//! Metrics group failures by meaning; the summary prints the product's code
//! beside it, since that is what the user will find in the real logs.

use std::fmt;

/// What a database error tells its client, whatever the product calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Meaning {
    /// The server takes no statements now: starting up, shutting down, or
    /// cut off from its cluster's quorum. Another node, or the same one
    /// later, may serve the statement.
    NotReady,
    /// The commit was under way when the node lost its cluster; the server
    /// rolled it back.
    CommitFailed,
    /// The server refused the connection at `max_connections`.
    TooManyConnections,
    /// A write reached a node that takes none (a replica, or a demoted
    /// primary): it did nothing.
    ReadOnly,
    /// The transaction lost a conflict and was rolled back; retrying it is
    /// safe.
    Deadlock,
    /// The statement waited past the server's own limit and was given up.
    LockWaitTimeout,
}

impl Meaning {
    /// Its name in summary.json.
    pub fn name(self) -> &'static str {
        match self {
            Meaning::NotReady => "not_ready",
            Meaning::CommitFailed => "commit_failed",
            Meaning::TooManyConnections => "too_many_connections",
            Meaning::ReadOnly => "read_only",
            Meaning::Deadlock => "deadlock",
            Meaning::LockWaitTimeout => "lock_wait_timeout",
        }
    }
}

/// The longest code a product prints: Redis's `CLUSTERDOWN` needs 11;
/// MySQL's error numbers and PostgreSQL's SQLSTATEs need 5.
const CODE_LEN: usize = 11;

/// A product's own code for an error, as it prints it ("1047", "57P03"),
/// stored inline so that an error reply stays a small `Copy` value (no
/// pointer: see the size assertion on [`crate::process::Event`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code([u8; CODE_LEN]);

impl Code {
    /// Panics (at compile time, in a `const`) unless `code` is 1 to
    /// `CODE_LEN` printable ASCII characters.
    pub const fn new(code: &str) -> Code {
        let b = code.as_bytes();
        assert!(
            !b.is_empty() && b.len() <= CODE_LEN,
            "a code has 1..=11 bytes"
        );
        let mut out = [0u8; CODE_LEN];
        let mut i = 0;
        while i < b.len() {
            assert!(b[i].is_ascii_graphic(), "a code is printable ASCII");
            out[i] = b[i];
            i += 1;
        }
        Code(out)
    }

    pub fn as_str(&self) -> &str {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(CODE_LEN);
        // `new` admits ASCII only.
        std::str::from_utf8(&self.0[..len]).expect("ASCII")
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.as_str())
    }
}

/// An error reply as it travels ([`crate::process::MsgKind::DbError`]) and
/// as a client records it: the product's code and its meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DbError {
    pub meaning: Meaning,
    pub code: Code,
}

/// One entry of a product's error table: the code, the symbolic name and the
/// message the real software uses, and what it means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DbErrorCode {
    /// What the model sends.
    pub error: DbError,
    /// The name in the product's sources (`ER_LOCK_DEADLOCK`,
    /// `read_only_sql_transaction`).
    pub name: &'static str,
    /// The text the product prints (a pattern where it fills in details).
    pub message: &'static str,
}

impl DbErrorCode {
    pub const fn new(
        code: &str,
        name: &'static str,
        message: &'static str,
        meaning: Meaning,
    ) -> DbErrorCode {
        DbErrorCode {
            error: DbError {
                meaning,
                code: Code::new(code),
            },
            name,
            message,
        }
    }
}

/// Each code of `codes` with the failure kind it counts as (the columns of
/// every output), for the products' tests of their tables.
#[cfg(test)]
pub(crate) fn failure_kinds(codes: &'static [DbErrorCode]) -> Vec<(&'static str, &'static str)> {
    use crate::metrics::Outcome;
    codes
        .iter()
        .map(|c| {
            let k = Outcome::Db(c.error).failure_index().expect("a failure");
            (c.error.code.as_str(), Outcome::kind_name(k))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_prints_as_given() {
        for s in ["1047", "57P03", "CLUSTERDOWN", "X"] {
            let c = Code::new(s);
            assert_eq!(c.as_str(), s);
            assert_eq!(c.to_string(), s);
            assert_eq!(format!("{c:?}"), format!("{s:?}"));
        }
    }

    #[test]
    fn codes_order_as_their_text() {
        assert!(Code::new("1047") < Code::new("1180"));
        assert!(Code::new("25006") < Code::new("57P03"));
    }

    #[test]
    #[should_panic(expected = "1..=11 bytes")]
    fn an_overlong_code_is_refused() {
        Code::new("CLUSTERDOWN!");
    }

    #[test]
    #[should_panic(expected = "printable ASCII")]
    fn a_code_with_a_space_is_refused() {
        Code::new("10 47");
    }
}
