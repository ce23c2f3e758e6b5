//! Writes the files of one run into a folder. Where they go and how the
//! folder replaces an old one is [`crate::output`]'s business: commands write
//! into its staging folder and commit it whole.

use super::RunResult;
use super::plot::{fault_plot_files, fault_plots, timeline_plot};
use super::summary::{summary_json, summary_text};
use super::tables::{events_csv, write_timeline_csv};
use crate::output::{Claim, OutputDir, OutputError};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    // The I/O error is part of the message, not a `source`: printed with its
    // chain it would otherwise say the same thing twice.
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot draw {}: {message}", path.display())]
    Plot { path: PathBuf, message: String },
    #[error("{0}")]
    Output(#[from] OutputError),
}

impl ReportError {
    pub fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ReportError + '_ {
        move |error| ReportError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// The files every run writes, in the order they are written; a run with
/// faults also writes a zoomed panel per fault ([`output_files`]).
pub const OUTPUT_FILES: [&str; 6] = [
    "summary.txt",
    "summary.json",
    "timeline.csv",
    "events.csv",
    "timeline.png",
    "timeline.svg",
];

/// Every file [`write_files`] writes for `r`: [`OUTPUT_FILES`], then
/// `fault-N.png` and `fault-N.svg` for each fault action N (its number in
/// the summary) that is not a recovery.
pub fn output_files(r: &RunResult) -> Vec<String> {
    OUTPUT_FILES
        .iter()
        .map(|f| f.to_string())
        .chain(fault_plot_files(r))
        .collect()
}

/// Writes `summary.txt`, `summary.json`, `timeline.csv`, `events.csv`,
/// `timeline.png`, `timeline.svg` and the fault panels `fault-N.png/.svg`
/// into the existing folder `dir` (see [`output_files`]).
pub fn write_files(r: &RunResult, dir: &Path) -> Result<(), ReportError> {
    let text = |name: &str, body: String| {
        let p = dir.join(name);
        fs::write(&p, body).map_err(ReportError::io(&p))
    };
    text("summary.txt", summary_text(r))?;
    text("summary.json", summary_json(r))?;
    let p = dir.join("timeline.csv");
    let file = fs::File::create(&p).map_err(ReportError::io(&p))?;
    write_timeline_csv(
        r,
        &mut csv::Writer::from_writer(std::io::BufWriter::new(file)),
    )
    .map_err(|e| ReportError::io(&p)(e.into()))?;
    text("events.csv", events_csv(r))?;
    timeline_plot(r, &dir.join("timeline.png"), &dir.join("timeline.svg"))?;
    fault_plots(r, dir)
}

/// Writes the run's files as the output folder `dir`, replacing it whole if
/// it is hasim's own (see [`crate::output`]); on error `dir` is as it was.
pub fn write_all(r: &RunResult, dir: &Path) -> Result<(), ReportError> {
    let out = OutputDir::claim(
        dir,
        &Claim {
            kind: "run",
            ..Claim::default()
        },
    )?;
    write_files(r, out.staging())?;
    Ok(out.commit()?)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::sample;
    use super::*;
    use crate::output::MANIFEST;

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
            .filter(|n| n.contains(".tmp-") || n.contains(".old-") || n.ends_with(".lock"))
            .collect()
    }

    #[test]
    fn writes_every_file_with_identical_bytes_twice() {
        let base = scratch("twice");
        let (a, b) = (base.join("nested/a"), base.join("b"));
        write_all(&sample(), &a).unwrap();
        write_all(&sample(), &b).unwrap();
        let files = output_files(&sample());
        // One fault that is not a recovery: its zoomed panel.
        assert_eq!(files[OUTPUT_FILES.len()..], ["fault-1.png", "fault-1.svg"]);
        for f in files.iter().map(String::as_str).chain([MANIFEST]) {
            let (x, y) = (fs::read(a.join(f)).unwrap(), fs::read(b.join(f)).unwrap());
            assert!(!x.is_empty(), "{f} is empty");
            assert!(x == y, "{f} differs between two writes of the same run");
        }
        assert_eq!(fs::read_dir(&a).unwrap().count(), files.len() + 1);
        // The manifest lists them all, so the folder stays hasim's own.
        let manifest = fs::read_to_string(a.join(MANIFEST)).unwrap();
        for f in &files {
            assert!(manifest.lines().any(|l| l == f), "{f} not in the manifest");
        }
        let png = fs::read(a.join("timeline.png")).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        // Rewriting replaces hasim's own folder whole.
        write_all(&sample(), &a).unwrap();
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
        let e = write_all(&sample(), &dir).unwrap_err().to_string();
        // Named once, said once.
        assert_eq!(e.matches("Not a directory").count(), 1, "{e}");
        assert!(!dir.exists());
        // The output path is a file: refused, and left alone.
        assert!(matches!(
            write_all(&sample(), &file),
            Err(ReportError::Output(OutputError::NotADirectory { .. }))
        ));
        assert_eq!(fs::read_to_string(&file).unwrap(), "x");
        assert!(leftovers(&base).is_empty(), "{:?}", leftovers(&base));
        fs::remove_dir_all(&base).unwrap();
    }
}
