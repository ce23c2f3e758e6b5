use super::{Found, ImportError};
pub fn read(_file: &str, _text: &str, _found: &mut Found) -> Result<(), ImportError> {
    Ok(())
}
