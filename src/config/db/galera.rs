//! `type = "galera"`: placeholder reader, being written.

use super::DbRead;
use crate::config::error::ConfigError;
use crate::config::table::Reader;

#[derive(Clone, Debug)]
pub struct GaleraSpec {}

pub(super) fn read(_r: &mut Reader, _ctx: &DbRead) -> Result<GaleraSpec, ConfigError> {
    Ok(GaleraSpec {})
}
