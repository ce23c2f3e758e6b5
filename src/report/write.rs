//! Writes the output folder of one run, as a set: everything goes into a
//! sibling temporary folder first, which then replaces the old folder, so an
//! error never leaves a half-written output behind.

use super::RunResult;
use super::plot::timeline_plot;
use super::summary::{summary_json, summary_text};
use super::tables::{events_csv, timeline_csv};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot draw {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("{} exists and is not a directory", path.display())]
    NotADirectory { path: PathBuf },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
    move |source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The files of one run, in the order they are written.
pub const OUTPUT_FILES: [&str; 6] = [
    "summary.txt",
    "summary.json",
    "timeline.csv",
    "events.csv",
    "timeline.png",
    "timeline.svg",
];

/// Writes `summary.txt`, `summary.json`, `timeline.csv`, `events.csv`,
/// `timeline.png` and `timeline.svg` into `dir`, replacing it whole (its
/// parents are created). On error `dir` is left as it was.
pub fn write_all(r: &RunResult, dir: &Path) -> Result<(), ReportError> {
    write_set(dir, |tmp| {
        let text = |name: &str, body: String| {
            let p = tmp.join(name);
            fs::write(&p, body).map_err(io(&p))
        };
        text("summary.txt", summary_text(r))?;
        text("summary.json", summary_json(r))?;
        text("timeline.csv", timeline_csv(r))?;
        text("events.csv", events_csv(r))?;
        timeline_plot(r, &tmp.join("timeline.png"), &tmp.join("timeline.svg"))
    })
}

/// `<dir>.<tag>-<pid>-<n>` beside `dir` (unique within this process too, so
/// parallel runs never share one).
fn sibling(dir: &Path, tag: &str) -> Result<PathBuf, ReportError> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let name = dir.file_name().ok_or_else(|| ReportError::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "an output folder needs a name",
        ),
    })?;
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    Ok(dir.with_file_name(format!(
        "{}.{tag}-{}-{n}",
        name.to_string_lossy(),
        std::process::id()
    )))
}

fn remove_if_present(p: &Path) -> Result<(), ReportError> {
    match fs::remove_dir_all(p) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(p)(e)),
        _ => Ok(()),
    }
}

/// Fills a fresh temporary folder with `fill`, then puts it in place of `dir`.
pub(crate) fn write_set(
    dir: &Path,
    fill: impl FnOnce(&Path) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let existing = match fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => true,
        Ok(_) => {
            return Err(ReportError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(io(dir)(e)),
    };
    let tmp = sibling(dir, "tmp")?;
    remove_if_present(&tmp)?;
    fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    let filled = fill(&tmp).and_then(|()| {
        if !existing {
            return fs::rename(&tmp, dir).map_err(io(dir));
        }
        // Move the old folder aside, the new one in, then drop the old one;
        // if the second step fails, the old one goes back.
        let old = sibling(dir, "old")?;
        fs::rename(dir, &old).map_err(io(dir))?;
        if let Err(err) = fs::rename(&tmp, dir) {
            let _ = fs::rename(&old, dir);
            return Err(io(dir)(err));
        }
        // The new output is complete and in place: a leftover old copy is not
        // worth failing the run for.
        let _ = fs::remove_dir_all(&old);
        Ok(())
    });
    if filled.is_err() {
        let _ = fs::remove_dir_all(&tmp);
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("hasim-report-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    fn leftovers(parent: &Path) -> Vec<String> {
        fs::read_dir(parent)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp-") || n.contains(".old-"))
            .collect()
    }

    #[test]
    fn writes_six_files_with_identical_bytes_twice() {
        let base = scratch("twice");
        let (a, b) = (base.join("nested/a"), base.join("b"));
        write_all(&sample(), &a).unwrap();
        write_all(&sample(), &b).unwrap();
        for f in OUTPUT_FILES {
            let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
            assert!(!x.is_empty(), "{f} is empty");
            assert!(x == y, "{f} differs between two writes of the same run");
        }
        assert_eq!(fs::read_dir(&a).unwrap().count(), 6);
        let png = fs::read(a.join("timeline.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Rewriting replaces the folder whole: a stray file disappears.
        fs::write(a.join("stale.txt"), "old").unwrap();
        write_all(&sample(), &a).unwrap();
        assert!(!a.join("stale.txt").exists());
        assert_eq!(
            fs::read(a.join("summary.txt")).unwrap(),
            fs::read(b.join("summary.txt")).unwrap()
        );
        assert!(leftovers(&base).is_empty() && leftovers(&base.join("nested")).is_empty());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_no_output() {
        let base = scratch("fail");
        let file = base.join("a-file");
        fs::write(&file, "x").unwrap();
        let dir = file.join("out");
        assert!(matches!(
            write_all(&sample(), &dir),
            Err(ReportError::Io { .. })
        ));
        assert!(!dir.exists());
        // The output path is a file: refused, and left alone.
        assert!(matches!(
            write_all(&sample(), &file),
            Err(ReportError::NotADirectory { .. })
        ));
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
        assert!(leftovers(&base).is_empty());
        fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn an_error_midway_keeps_the_old_folder() {
        let base = scratch("midway");
        let dir = base.join("out");
        // No folder yet: nothing appears.
        let r = write_set(&dir, |tmp| {
            fs::write(tmp.join("summary.txt"), "half").unwrap();
            Err(ReportError::Plot {
                path: tmp.join("timeline.png"),
                message: "boom".into(),
            })
        });
        assert!(r.is_err());
        assert!(!dir.exists());
        // An old folder stays exactly as it was.
        write_all(&sample(), &dir).unwrap();
        let before = fs::read(dir.join("summary.txt")).unwrap();
        let r = write_set(&dir, |tmp| {
            fs::write(tmp.join("summary.txt"), "half").unwrap();
            Err(ReportError::Plot {
                path: tmp.join("timeline.png"),
                message: "boom".into(),
            })
        });
        let msg = r.unwrap_err().to_string();
        assert!(
            msg.starts_with("cannot draw ") && msg.ends_with("timeline.png: boom"),
            "{msg}"
        );
        assert_eq!(fs::read(dir.join("summary.txt")).unwrap(), before);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 6);
        assert!(leftovers(&base).is_empty());
        fs::remove_dir_all(&base).unwrap();
    }
}
