//! `[databases.NAME]`: one database cluster per table, its members named like
//! a `count` group (`pg1`, `pg2`, ...). `type` picks the product; each has its
//! own reader beside this file and its preset under `models/`.

use crate::products::{etcd, galera, mysql, patroni};

pub use etcd::config::EtcdSpec;
pub use galera::config::GaleraSpec;
pub use mysql::config::MysqlSpec;
pub use patroni::config::PatroniSpec;

use super::error::ConfigError;
use super::table::{Pos, Reader};

/// A member of a database cluster.
#[derive(Clone, Debug)]
pub struct DatabaseSpec {
    /// The cluster's name (the table's key).
    pub cluster: String,
    /// Index of the cluster among the experiment's databases, file order.
    pub cluster_index: u32,
    /// Every member, in order; a node finds its own place by name. Shared
    /// by the members (a cluster of n members holds one list, not n).
    pub members: std::sync::Arc<[String]>,
    pub kind: DbKind,
}

#[derive(Clone, Debug)]
pub enum DbKind {
    Galera(GaleraSpec),
    Mysql(MysqlSpec),
    Patroni(PatroniSpec),
    Etcd(EtcdSpec),
}

impl DbKind {
    pub fn label(&self) -> &'static str {
        match self {
            DbKind::Galera(_) => "galera",
            DbKind::Mysql(_) => "mysql",
            DbKind::Patroni(_) => "patroni",
            DbKind::Etcd(_) => "etcd",
        }
    }
}

/// The database types, as `type = "..."` names them.
pub const TYPES: &[&str] = &["galera", "mysql", "patroni", "etcd"];

/// Resolves `(name, position, key path, wanted type)` to a cluster's members.
pub type ClusterRef<'r> = dyn Fn(&str, &Pos, &str, &str) -> Result<Vec<String>, ConfigError> + 'r;

/// What a type's reader knows besides its table.
pub struct DbRead<'r> {
    pub cluster: &'r str,
    pub members: &'r [String],
    /// Resolves a reference to another database cluster of type `ty`, giving
    /// its members; the error names the key.
    pub cluster_ref: &'r ClusterRef<'r>,
    /// Records a warning about `key` of the table being read: a setting the
    /// real software accepts although it risks data.
    pub warn: &'r dyn Fn(&Reader, &str, String),
}

/// Reads the type-specific keys of a cluster table.
pub(crate) fn read(ty: &str, r: &mut Reader, ctx: &DbRead) -> Result<DbKind, ConfigError> {
    Ok(match ty {
        "galera" => DbKind::Galera(galera::config::read(r, ctx)?),
        "mysql" => DbKind::Mysql(mysql::config::read(r, ctx)?),
        "patroni" => DbKind::Patroni(patroni::config::read(r, ctx)?),
        _ => DbKind::Etcd(etcd::config::read(r, ctx)?),
    })
}
