//! `report.html`: one self-contained page of a run or a sweep — the key
//! figures, the plots inlined as SVG, the faults with their zoomed panels,
//! the formulas beside the simulated figures, data safety, the clients, the
//! state-change log; for a sweep its plots and a sortable table of points.
//! No network: no external style sheet, script or font.
//!
//! The page is built from the files hasim wrote into the output folder, never
//! from the run in memory, so `hasim run --html` and `hasim report DIR` give
//! the same bytes; it holds no wall-clock figure (not `run.json`), so the same
//! experiment and seed give the same page.

mod escape;
mod page;
mod run;
mod sweep;

pub use escape::esc;

use crate::output::{self, OutputError};
use std::path::{Path, PathBuf};

/// The page's file name, beside the other outputs.
pub const REPORT: &str = "report.html";

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    /// The folder is not an output hasim wrote, or a file in it is not as
    /// hasim writes it (bad input: nothing was written).
    #[error("{0}")]
    Input(String),
    #[error("{0}")]
    Output(#[from] OutputError),
    #[error("{}: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl HtmlError {
    /// Bad input (exit 2), as opposed to a write that failed.
    pub fn is_bad_input(&self) -> bool {
        match self {
            HtmlError::Input(_) => true,
            HtmlError::Output(o) => o.is_refusal(),
            HtmlError::Io { .. } => false,
        }
    }
}

/// What an output folder holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Run,
    Sweep,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Run => "run",
            Kind::Sweep => "sweep",
        }
    }
}

/// A run's folder has `summary.json`, a sweep's `sweep.json`.
pub fn kind_of(dir: &Path) -> Result<Kind, HtmlError> {
    if dir.join("summary.json").is_file() {
        Ok(Kind::Run)
    } else if dir.join("sweep.json").is_file() {
        Ok(Kind::Sweep)
    } else {
        Err(HtmlError::Input(format!(
            "{} holds neither summary.json (a run's output) nor sweep.json (a sweep's)",
            dir.display()
        )))
    }
}

/// The page of the run or sweep output folder `dir`.
pub fn render(dir: &Path) -> Result<String, HtmlError> {
    match kind_of(dir)? {
        Kind::Run => run::render(dir),
        Kind::Sweep => sweep::render(dir),
    }
}

/// Writes `report.html` into `dir`, a folder being written (a staging
/// folder: [`crate::output`] swaps it in whole).
pub fn write_into(dir: &Path) -> Result<(), HtmlError> {
    let page = render(dir)?;
    let p = dir.join(REPORT);
    std::fs::write(&p, page).map_err(|error| HtmlError::Io { path: p, error })
}

/// `hasim report DIR`: adds (or replaces) `report.html` in an output folder
/// hasim wrote, through [`output::amend`]: refused unless hasim wrote every
/// file in it; the folder is replaced whole, with its other files as they
/// were, or left as it was.
pub fn report_folder(dir: &Path) -> Result<Kind, HtmlError> {
    let mut kind = None;
    output::amend(dir, &[REPORT], |old: &Path, staging: &Path| {
        let k = kind_of(old)?;
        let page = render(old)?;
        let p = staging.join(REPORT);
        std::fs::write(&p, page).map_err(|error| HtmlError::Io { path: p, error })?;
        kind = Some(k);
        Ok::<(), HtmlError>(())
    })?;
    Ok(kind.expect("set when amend succeeds"))
}

#[cfg(test)]
mod tests;
