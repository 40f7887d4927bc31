//! Errors of the ledger: every problem names its file, row and field where it has them.

use std::fmt;

/// One problem found in imported or entered data.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Problem {
    /// The file (or sheet, or "ledger" for cross-checks).
    pub file: String,
    /// 1-based row of the data (the header is row 1 in CSV and XLSX; features count from 1).
    pub row: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(
        file: &str,
        row: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Problem {
        Problem {
            file: file.to_string(),
            row,
            field: field.map(str::to_string),
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(r) = self.row {
            write!(f, ":{r}")?;
        }
        if let Some(c) = &self.field {
            write!(f, ": field '{c}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Errors of the ledger crate.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The data has problems; nothing was applied.
    #[error("{} problem(s), nothing applied:\n{}", .0.len(), list(.0))]
    Invalid(Vec<Problem>),
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("store: {0}")]
    Store(#[from] rewater_store::StoreError),
    #[error("{0}")]
    Other(String),
}

fn list(ps: &[Problem]) -> String {
    let mut s: Vec<String> = ps.iter().take(50).map(|p| format!("  {p}")).collect();
    if ps.len() > 50 {
        s.push(format!("  … and {} more", ps.len() - 50));
    }
    s.join("\n")
}

impl LedgerError {
    pub fn file(file: &str, message: impl Into<String>) -> LedgerError {
        LedgerError::File {
            file: file.to_string(),
            message: message.into(),
        }
    }

    /// The problems, if the error is about the data.
    pub fn problems(&self) -> &[Problem] {
        match self {
            LedgerError::Invalid(p) => p,
            _ => &[],
        }
    }
}
