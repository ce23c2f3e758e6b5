//! What the mount answers a file operation with when AFR fails it. The app
//! sees the errno of the system call.

use crate::process::{DbErrorCode, Meaning};

/// Client quorum not met, or no brick connected: AFR fails the operation
/// with `afr_quorum_errno`, ENOTCONN in 10.3 (afr-common.c; older releases
/// answered EROFS). Measured on Debian 12's 10.3: a write with two of three
/// bricks' processes killed fails at once with ENOTCONN.
pub const ENOTCONN: DbErrorCode = DbErrorCode::new(
    "ENOTCONN",
    "ENOTCONN",
    "Transport endpoint is not connected (client quorum is not met)",
    Meaning::ReadOnly,
);

pub const ALL: &[DbErrorCode] = &[ENOTCONN];
