//! One writer per output folder: an advisory lock (`flock`) on a hidden file
//! beside it, `.<name>.lock`, holding the writer's pid for the message a
//! second writer gets. The file is removed when the lock is released; a
//! writer that locked a file someone removed meanwhile tries again, so two
//! writers can never both believe they hold it.

use super::OutputError;
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug)]
pub(super) struct Lock {
    path: PathBuf,
    _file: File,
}

/// Lock files held by this process, for [`release_all`].
static HELD: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

impl Lock {
    /// Locks `<parent>/.<name>.lock` or says who holds it; `dir` names the
    /// output folder in the message.
    pub(super) fn take(parent: &Path, name: &str, dir: &Path) -> Result<Lock, OutputError> {
        let path = parent.join(format!(".{name}.lock"));
        loop {
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
                .map_err(OutputError::io(&path))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let mut pid = String::new();
                    let _ = file.read_to_string(&mut pid);
                    let pid = pid.trim();
                    return Err(OutputError::Busy {
                        path: dir.to_path_buf(),
                        pid: if pid.is_empty() { "?" } else { pid }.to_string(),
                    });
                }
                Err(TryLockError::Error(e)) => return Err(OutputError::io(&path)(e)),
            }
            if !same_file(&file, &path) {
                continue; // released and removed between our open and lock
            }
            file.set_len(0).map_err(OutputError::io(&path))?;
            file.rewind().map_err(OutputError::io(&path))?;
            write!(file, "{}", std::process::id()).map_err(OutputError::io(&path))?;
            if let Ok(mut h) = HELD.lock() {
                h.push(path.clone());
            }
            return Ok(Lock { path, _file: file });
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked: a waiter then finds its file unlinked.
        let _ = fs::remove_file(&self.path);
        if let Ok(mut h) = HELD.lock() {
            h.retain(|p| p != &self.path);
        }
    }
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Removes this process's lock files (the locks themselves end with it).
pub(super) fn release_all() {
    if let Ok(h) = HELD.lock() {
        for p in h.iter() {
            let _ = fs::remove_file(p);
        }
    }
}
