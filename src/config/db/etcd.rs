//! `type = "etcd"`: placeholder reader, being written.

use super::DbRead;
use crate::config::error::ConfigError;
use crate::config::table::Reader;

#[derive(Clone, Debug)]
pub struct EtcdSpec {}

pub(super) fn read(_r: &mut Reader, _ctx: &DbRead) -> Result<EtcdSpec, ConfigError> {
    Ok(EtcdSpec {})
}
