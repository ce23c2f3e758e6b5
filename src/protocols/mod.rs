//! Protocols more than one product speaks, used by both sides: the DCS API
//! between a cluster manager and its key-value store, and the SQL sessions a
//! database server holds for its clients; and the downstream calls apps make
//! (the generic app and php-fpm).

pub mod calls;
pub mod dcs;
pub mod sql;
