//! Import and export of the ledger: a folder of CSV files (one per table), one XLSX workbook
//! (one sheet per table, calamine to read, rust_xlsxwriter to write), or one GeoJSON
//! FeatureCollection (property `layer` names the table). All three go through the same
//! tables of text cells, so each record is parsed by one function whatever the format.
//!
//! An import reads every file, parses every row and cross-checks the whole ledger (merged
//! with the one it extends) before anything is returned: a single bad row refuses the lot
//! (nothing half-applied), and every problem names its file, row and field. Files over
//! [`MAX_FILE_BYTES`] and tables over [`MAX_ROWS`] rows are refused before parsing.

mod csvio;
mod generate;
mod geojson;
mod rows;
mod xlsx;

use crate::{CheckOptions, Ledger, LedgerError, Problem};
use std::path::Path;

pub use generate::{generate, GenerateOptions};
pub use rows::TABLES;

/// Largest file read (64 MiB; a generated ledger of 10,000 outfalls is about 4 MB).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// Most rows in one table.
pub const MAX_ROWS: usize = 1_000_000;

/// A table of text cells as read from a file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// File (and sheet) name for messages.
    pub file: String,
    /// The table it holds (one of [`TABLES`]).
    pub name: String,
    pub headers: Vec<String>,
    /// (row number in the file, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// What an import found.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ImportReport {
    pub water_bodies: usize,
    pub reaches: usize,
    pub sections: usize,
    pub outfalls: usize,
    pub channels: usize,
    pub dischargers: usize,
    pub links: usize,
    /// Kept but worth a look (e.g. outfall codes not following the UNVERIFIED HJ 1235 layout).
    pub warnings: Vec<Problem>,
    /// Points converted from GCJ-02 to WGS84.
    pub converted_from_gcj02: usize,
}

/// The file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A folder of `<table>.csv`, or one such file.
    Csv,
    Xlsx,
    GeoJson,
}

impl Format {
    /// The format a path's name says (a folder is CSV).
    pub fn of(path: &Path) -> Result<Format, LedgerError> {
        if path.is_dir() {
            return Ok(Format::Csv);
        }
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some("geojson") | Some("json") => Ok(Format::GeoJson),
            _ => Err(LedgerError::file(
                &path.display().to_string(),
                "unknown format: a folder of CSV files, .csv, .xlsx or .geojson",
            )),
        }
    }
}

/// Refuses a file over the limit before reading it.
pub(crate) fn check_size(path: &Path) -> Result<(), LedgerError> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| LedgerError::file(&name, e.to_string()))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(LedgerError::file(
            &name,
            format!(
                "{} bytes is more than the {} MiB an import may read",
                meta.len(),
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    Ok(())
}

/// Reads the tables of one path (folder, CSV, XLSX or GeoJSON).
pub fn read_tables(path: &Path) -> Result<Vec<Table>, LedgerError> {
    match Format::of(path)? {
        Format::Csv if path.is_dir() => csvio::read_dir(path),
        Format::Csv => Ok(vec![csvio::read_file(path)?]),
        Format::Xlsx => xlsx::read(path),
        Format::GeoJson => geojson::read(path),
    }
}

/// Imports files on top of `base` (records with the same id are replaced): the new whole
/// ledger and a report, or every problem found (and nothing changed).
pub fn import(
    base: &Ledger,
    paths: &[&Path],
    opts: CheckOptions,
) -> Result<(Ledger, ImportReport), LedgerError> {
    let mut tables = Vec::new();
    for p in paths {
        tables.extend(read_tables(p)?);
    }
    import_tables(base, &tables, opts)
}

/// Imports tables already read (see [`import`]).
pub fn import_tables(
    base: &Ledger,
    tables: &[Table],
    opts: CheckOptions,
) -> Result<(Ledger, ImportReport), LedgerError> {
    let mut problems = Vec::new();
    let mut report = ImportReport::default();
    let fragment = rows::parse_tables(tables, &mut problems, &mut report);
    if !problems.is_empty() {
        return Err(LedgerError::Invalid(problems));
    }
    report.water_bodies = fragment.water_bodies.len();
    report.reaches = fragment.reaches.len();
    report.sections = fragment.sections.len();
    report.outfalls = fragment.outfalls.len();
    report.channels = fragment.channels.len();
    report.dischargers = fragment.dischargers.len();
    report.links = fragment.links.len();
    let mut ledger = base.clone();
    ledger.merge(fragment);
    let checked = ledger.check(opts);
    if !checked.problems.is_empty() {
        return Err(LedgerError::Invalid(checked.problems));
    }
    report.warnings = checked.warnings;
    Ok((ledger, report))
}

/// Writes the ledger: a folder of CSV files, an XLSX workbook or a GeoJSON file.
pub fn export(ledger: &Ledger, format: Format, path: &Path) -> Result<(), LedgerError> {
    let tables = rows::to_tables(ledger);
    match format {
        Format::Csv => csvio::write_dir(&tables, path),
        Format::Xlsx => xlsx::write(&tables, path),
        Format::GeoJson => geojson::write(&tables, path),
    }
}

/// The ledger as GeoJSON text (for the API's map layer).
pub fn to_geojson(ledger: &Ledger) -> serde_json::Value {
    geojson::collection(&rows::to_tables(ledger))
}
