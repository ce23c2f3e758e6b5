//! `type = "patroni"`: placeholder reader, being written.

use super::DbRead;
use crate::config::error::ConfigError;
use crate::config::table::Reader;

#[derive(Clone, Debug)]
pub struct PatroniSpec {
    /// The etcd members Patroni talks to (`dcs = "NAME"` of an etcd cluster).
    pub dcs: Vec<String>,
}

pub(super) fn read(r: &mut Reader, ctx: &DbRead) -> Result<PatroniSpec, ConfigError> {
    let name = r.string_opt("dcs")?.ok_or_else(|| {
        r.missing("dcs", "the etcd cluster Patroni uses, e.g. dcs = \"etcd\"")
    })?;
    let at = r.item("dcs").expect("read above").at.clone();
    let dcs = (ctx.cluster_ref)(name, &at, &r.key_path("dcs"), "etcd")?;
    Ok(PatroniSpec { dcs })
}
