//! The output folder of a command, handled so that hasim never deletes what it
//! did not write and never leaves half an output behind.
//!
//! - [`OutputDir::claim`] runs *before* anything is simulated: it refuses a
//!   path that is a file or a symbolic link, a folder that holds an input, the
//!   current folder or one of its ancestors, and a non-empty folder that is not
//!   hasim's own (unless `--force`); it takes the folder's lock and clears the
//!   leftovers of a killed earlier run.
//! - Everything is written into a staging folder beside the output
//!   ([`OutputDir::staging`]); [`OutputDir::commit`] writes the manifest and
//!   swaps the staging folder in, whole. Dropped without a commit (an error, an
//!   interruption), the staging folder is removed.
//!
//! "hasim's own" means: the folder has the manifest [`MANIFEST`], and every
//! entry in it is one the manifest lists. A file a user put into an output
//! folder therefore makes hasim refuse to replace it.

mod lock;

use lock::Lock;
use std::fs;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// The manifest hasim writes into every output folder: what wrote it and the
/// files it wrote, one per line.
pub const MANIFEST: &str = ".hasim-output";

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} exists and is not a folder; choose another output folder", path.display())]
    NotADirectory { path: PathBuf },
    #[error(
        "{} is a symbolic link; give the folder it points to, or another output folder",
        path.display()
    )]
    Symlink { path: PathBuf },
    #[error(
        "{} holds {what} that hasim did not write (`{entry}`); refusing to replace it. \
         Choose an empty or new output folder, or pass --force to replace it",
        path.display()
    )]
    Foreign {
        path: PathBuf,
        entry: String,
        what: &'static str,
    },
    #[error(
        "{} would delete the input {}; choose an output folder that does not hold the inputs",
        path.display(),
        input.display()
    )]
    HoldsInput { path: PathBuf, input: PathBuf },
    #[error(
        "{} is the current folder, one of its parents or the home folder; hasim never replaces it, even with --force",
        path.display()
    )]
    Protected { path: PathBuf },
    #[error(
        "{} is being written by another hasim (pid {pid}); wait for it to finish, or choose another output folder",
        path.display()
    )]
    Busy { path: PathBuf, pid: String },
    #[error("{}: an output folder needs a name (not `..` or `/`)", path.display())]
    NoName { path: PathBuf },
    #[error(
        "{} {what}; hasim adds files only to an output folder it wrote whole",
        path.display()
    )]
    NotOwn { path: PathBuf, what: String },
}

impl OutputError {
    pub(crate) fn io(path: &Path) -> impl FnOnce(std::io::Error) -> OutputError + '_ {
        move |error| OutputError::Io {
            path: path.to_path_buf(),
            error,
        }
    }

    /// Refusals about the path itself, found before anything ran: bad input
    /// (exit 2), as opposed to a write that failed.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, OutputError::Io { .. })
    }
}

/// What a command tells [`OutputDir::claim`].
#[derive(Clone, Debug, Default)]
pub struct Claim {
    /// Written into the manifest: `run`, `sweep`, `merge`...
    pub kind: &'static str,
    /// Replace a non-empty folder hasim did not write.
    pub force: bool,
    /// Files and folders the command reads: the output may never hold one.
    pub inputs: Vec<PathBuf>,
}

/// A claimed output folder: locked, with a fresh staging folder beside it.
#[derive(Debug)]
pub struct OutputDir {
    /// Resolved: where the swap happens.
    dir: PathBuf,
    staging: PathBuf,
    kind: String,
    committed: bool,
    _lock: Lock,
}

impl OutputDir {
    /// Checks `dir` (see the module's rules), locks it, clears leftovers of
    /// killed runs and creates the staging folder. Creates `dir`'s parents.
    pub fn claim(dir: &Path, claim: &Claim) -> Result<OutputDir, OutputError> {
        let existing = inspect(dir)?;
        // Named and placed by the resolved path, so `-o out/..` means the
        // folder it is, not a folder called `..`.
        let absolute = absolute(dir)?;
        let name = absolute
            .file_name()
            .ok_or_else(|| OutputError::NoName {
                path: dir.to_path_buf(),
            })?
            .to_string_lossy()
            .into_owned();
        refuse_protected(dir, &absolute)?;
        for input in &claim.inputs {
            if let Ok(i) = fs::canonicalize(input)
                && i.starts_with(&absolute)
            {
                return Err(OutputError::HoldsInput {
                    path: dir.to_path_buf(),
                    input: input.clone(),
                });
            }
        }
        if existing && !claim.force {
            check_own(dir)?;
        }
        let parent = absolute.parent().unwrap_or(Path::new("/")).to_path_buf();
        fs::create_dir_all(&parent).map_err(OutputError::io(&parent))?;
        let lock = Lock::take(&parent, &name, dir)?;
        clear_leftovers(&parent, &name);
        let staging = sibling(&absolute, "tmp");
        fs::create_dir(&staging).map_err(OutputError::io(&staging))?;
        register(&staging);
        Ok(OutputDir {
            dir: absolute,
            staging,
            kind: claim.kind.to_string(),
            committed: false,
            _lock: lock,
        })
    }

    /// The folder to write every file into before [`OutputDir::commit`].
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    /// Writes the manifest and puts the staging folder in place of the output
    /// folder (the old one, if any, is removed only once the new one is in).
    pub fn commit(mut self) -> Result<(), OutputError> {
        write_manifest(&self.staging, &self.kind)?;
        swap_in(&self.staging, &self.dir)?;
        unregister(&self.staging);
        self.committed = true;
        Ok(())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
            unregister(&self.staging);
        }
    }
}

/// Rewrites the existing output folder `dir` that hasim wrote, with files
/// added or replaced, through the same steps as a new output: `dir` is
/// claimed (refused unless its manifest lists every entry in it, and locked),
/// its files are carried into the staging folder (hard links where the file
/// system has them, else copies) but those named in `replace`, `add` writes
/// into the staging folder (reading the old folder, its first argument, as it
/// likes), and the staging folder is swapped in whole. The manifest keeps
/// what wrote the folder. A folder without a manifest is refused
/// ([`OutputError::Foreign`]), even an empty one.
pub fn amend<E: From<OutputError>>(
    dir: &Path,
    replace: &[&str],
    add: impl FnOnce(&Path, &Path) -> Result<(), E>,
) -> Result<(), E> {
    let not_own = |what: String| OutputError::NotOwn {
        path: dir.to_path_buf(),
        what,
    };
    if !inspect(dir)? {
        return Err(not_own("does not exist".into()).into());
    }
    let first = match fs::read_to_string(dir.join(MANIFEST)) {
        Ok(text) => text.lines().next().unwrap_or_default().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(not_own(format!("has no manifest ({MANIFEST})")).into());
        }
        Err(e) => return Err(OutputError::io(dir)(e).into()),
    };
    // `hasim <kind> output: ...`
    let kind = first
        .strip_prefix("hasim ")
        .and_then(|r| r.split_once(" output"))
        .map(|(k, _)| k.to_string())
        .filter(|k| !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .ok_or_else(|| not_own(format!("has a manifest ({MANIFEST}) hasim did not write")))?;
    if let Err(OutputError::Foreign { entry, .. }) = check_own(dir) {
        return Err(not_own(format!("holds `{entry}`, which hasim did not write")).into());
    }
    let mut out = OutputDir::claim(dir, &Claim::default())?;
    out.kind = kind;
    carry(dir, out.staging(), replace)?;
    add(dir, out.staging())?;
    Ok(out.commit()?)
}

/// Hard-links (or copies) every entry of `from` into `to`, folders
/// recursively, but the manifest and the top-level names in `skip`.
fn carry(from: &Path, to: &Path, skip: &[&str]) -> Result<(), OutputError> {
    for e in fs::read_dir(from).map_err(OutputError::io(from))? {
        let e = e.map_err(OutputError::io(from))?;
        let name = e.file_name();
        let n = name.to_string_lossy();
        if n == MANIFEST || skip.iter().any(|s| *s == n) {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().map_err(OutputError::io(&src))?.is_dir() {
            fs::create_dir(&dst).map_err(OutputError::io(&dst))?;
            carry(&src, &dst, &[])?;
        } else if fs::hard_link(&src, &dst).is_err() {
            fs::copy(&src, &dst).map_err(OutputError::io(&src))?;
        }
    }
    Ok(())
}

/// Adds files written later into a committed output folder (e.g. `hasim
/// diff`'s plot) to its manifest, so the folder stays hasim's own.
pub fn add_to_manifest(dir: &Path, names: &[&str]) -> Result<(), OutputError> {
    let path = dir.join(MANIFEST);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(OutputError::io(&path)(e)),
    };
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    for n in names {
        if !lines.iter().skip(1).any(|l| l == n) {
            lines.push(n.to_string());
        }
    }
    let body = lines.join("\n") + "\n";
    let tmp = dir.join(format!("{MANIFEST}.tmp-{}", std::process::id()));
    fs::write(&tmp, body).map_err(OutputError::io(&tmp))?;
    fs::rename(&tmp, &path).map_err(OutputError::io(&path))
}

/// Whether `dir` is an existing folder (false: absent). Files and symbolic
/// links are refused.
fn inspect(dir: &Path) -> Result<bool, OutputError> {
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => Err(OutputError::Symlink {
            path: dir.to_path_buf(),
        }),
        Ok(m) if m.is_dir() => Ok(true),
        Ok(_) => Err(OutputError::NotADirectory {
            path: dir.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(OutputError::io(dir)(e)),
    }
}

/// `dir` made absolute with its existing part resolved (symbolic links in
/// the parents followed), so it compares with canonical input paths.
fn absolute(dir: &Path) -> Result<PathBuf, OutputError> {
    let abs = std::path::absolute(dir).map_err(OutputError::io(dir))?;
    // Resolve the longest existing ancestor; append the rest as written.
    let mut rest = Vec::new();
    let mut head = abs.as_path();
    loop {
        if let Ok(c) = fs::canonicalize(head) {
            let mut out = c;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(normalize(&out));
        }
        match (head.parent(), head.file_name()) {
            (Some(p), Some(n)) => {
                rest.push(n.to_os_string());
                head = p;
            }
            _ => return Ok(normalize(&abs)),
        }
    }
}

/// Removes `.` and resolves `..` lexically, without looking at the disk
/// (right where no symbolic link can intervene, e.g. in the part of a path
/// that does not exist yet).
pub(crate) fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn refuse_protected(dir: &Path, absolute: &Path) -> Result<(), OutputError> {
    let protected = std::env::current_dir()
        .ok()
        .and_then(|c| fs::canonicalize(c).ok())
        .is_some_and(|cwd| cwd.starts_with(absolute))
        || std::env::var_os("HOME")
            .and_then(|h| fs::canonicalize(h).ok())
            .is_some_and(|home| home == absolute)
        || absolute.parent().is_none();
    if protected {
        return Err(OutputError::Protected {
            path: dir.to_path_buf(),
        });
    }
    Ok(())
}

/// Refuses a non-empty folder unless its manifest lists every entry.
fn check_own(dir: &Path) -> Result<(), OutputError> {
    let entries: Vec<String> = fs::read_dir(dir)
        .map_err(OutputError::io(dir))?
        .map(|e| {
            e.map(|e| e.file_name().to_string_lossy().into_owned())
                .map_err(OutputError::io(dir))
        })
        .collect::<Result<_, _>>()?;
    if entries.is_empty() {
        return Ok(());
    }
    let listed = match fs::read_to_string(dir.join(MANIFEST)) {
        Ok(text) => parse_manifest(&text),
        Err(_) => {
            let mut e = entries;
            e.sort();
            return Err(OutputError::Foreign {
                path: dir.to_path_buf(),
                entry: e.swap_remove(0),
                what: "files",
            });
        }
    };
    let mut foreign: Vec<&String> = entries
        .iter()
        .filter(|e| *e != MANIFEST && !listed.iter().any(|l| top_level(l) == e.as_str()))
        .collect();
    foreign.sort();
    match foreign.first() {
        None => Ok(()),
        Some(e) => Err(OutputError::Foreign {
            path: dir.to_path_buf(),
            entry: (*e).clone(),
            what: "a file",
        }),
    }
}

fn top_level(listed: &str) -> &str {
    listed.split('/').next().unwrap_or(listed)
}

/// The file names a manifest lists (its first line says what wrote it).
fn parse_manifest(text: &str) -> Vec<String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

fn write_manifest(staging: &Path, kind: &str) -> Result<(), OutputError> {
    let mut files = Vec::new();
    list_files(staging, "", &mut files)?;
    files.sort();
    let mut body = format!("hasim {kind} output: the files below were written by hasim\n");
    for f in files {
        body.push_str(&f);
        body.push('\n');
    }
    let p = staging.join(MANIFEST);
    fs::write(&p, body).map_err(OutputError::io(&p))
}

fn list_files(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), OutputError> {
    for e in fs::read_dir(dir).map_err(OutputError::io(dir))? {
        let e = e.map_err(OutputError::io(dir))?;
        let name = format!("{prefix}{}", e.file_name().to_string_lossy());
        if e.file_type().map_err(OutputError::io(dir))?.is_dir() {
            list_files(&e.path(), &format!("{name}/"), out)?;
        } else if name != MANIFEST {
            out.push(name);
        }
    }
    Ok(())
}

/// Puts `staging` in place of `dir`: the old folder moves aside, the new one
/// in, then the old one goes; if the second step fails the old one returns.
fn swap_in(staging: &Path, dir: &Path) -> Result<(), OutputError> {
    if !dir.exists() {
        return fs::rename(staging, dir).map_err(OutputError::io(dir));
    }
    let old = sibling(dir, "old");
    fs::rename(dir, &old).map_err(OutputError::io(dir))?;
    if let Err(err) = fs::rename(staging, dir) {
        let _ = fs::rename(&old, dir);
        return Err(OutputError::io(dir)(err));
    }
    // The new output is complete and in place: a leftover old copy is not
    // worth failing the command for (the next claim clears it).
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

/// `<dir>.<tag>-<pid>-<n>` beside `dir` (unique within this process too, so
/// parallel writers never share one).
fn sibling(dir: &Path, tag: &str) -> PathBuf {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    dir.with_file_name(format!("{name}.{tag}-{}-{n}", std::process::id()))
}

/// Removes staging and set-aside folders of `name` left by a killed run. Only
/// called under the lock, so none of them can belong to a live hasim.
fn clear_leftovers(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let prefixes = [format!("{name}.tmp-"), format!("{name}.old-")];
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        let rest = prefixes.iter().find_map(|p| n.strip_prefix(p.as_str()));
        // Our own names only: `<pid>-<n>`, digits and one dash.
        if rest.is_some_and(|r| {
            r.split_once('-').is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            })
        }) {
            let _ = fs::remove_dir_all(e.path());
        }
    }
}

/// Staging folders alive in this process, for a signal handler that must exit
/// at once ([`remove_staging`]).
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn register(p: &Path) {
    if let Ok(mut v) = LIVE.lock() {
        v.push(p.to_path_buf());
    }
}

fn unregister(p: &Path) {
    if let Ok(mut v) = LIVE.lock() {
        v.retain(|x| x != p);
    }
}

/// Removes every staging folder and lock of this process: for a second
/// Ctrl-C, which exits without unwinding.
pub fn remove_staging() {
    if let Ok(v) = LIVE.lock() {
        for p in v.iter() {
            let _ = fs::remove_dir_all(p);
        }
    }
    lock::release_all();
}

#[cfg(test)]
mod tests;
