//! CSV: a folder with one `<table>.csv` per table (UTF-8, header row; a BOM is skipped).

use super::{check_size, rows::TABLES, Table, MAX_ROWS};
use crate::LedgerError;
use std::path::Path;

/// Reads one `<table>.csv`.
pub(super) fn read_file(path: &Path) -> Result<Table, LedgerError> {
    let name = path.display().to_string();
    check_size(path)?;
    let table = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("")
        .to_string();
    let bytes = std::fs::read(path).map_err(|e| LedgerError::file(&name, e.to_string()))?;
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    let mut rd = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(bytes);
    let headers = rd
        .headers()
        .map_err(|e| LedgerError::file(&name, format!("header: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in rd.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            LedgerError::file(&format!("{name}:{line}"), format!("not CSV: {e}"))
        })?;
        if rows.len() >= MAX_ROWS {
            return Err(LedgerError::file(
                &name,
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        let line = rec.position().map_or(rows.len() + 2, |p| p.line() as usize);
        rows.push((line, rec.iter().map(str::to_string).collect()));
    }
    Ok(Table {
        file: name,
        name: table,
        headers,
        rows,
    })
}

/// Reads every `<table>.csv` of a folder (others are left alone).
pub(super) fn read_dir(dir: &Path) -> Result<Vec<Table>, LedgerError> {
    let mut out = Vec::new();
    for (t, _) in TABLES {
        let p = dir.join(format!("{t}.csv"));
        if p.exists() {
            out.push(read_file(&p)?);
        }
    }
    if out.is_empty() {
        return Err(LedgerError::file(
            &dir.display().to_string(),
            "no ledger CSV files (water_bodies.csv, reaches.csv, sections.csv, outfalls.csv, …)",
        ));
    }
    Ok(out)
}

/// Writes one CSV per table into a folder (created if needed).
pub(super) fn write_dir(tables: &[Table], dir: &Path) -> Result<(), LedgerError> {
    let dname = dir.display().to_string();
    std::fs::create_dir_all(dir).map_err(|e| LedgerError::file(&dname, e.to_string()))?;
    for t in tables {
        let p = dir.join(format!("{}.csv", t.name));
        let name = p.display().to_string();
        let err = |e: csv::Error| LedgerError::file(&name, e.to_string());
        let mut w = csv::Writer::from_path(&p).map_err(err)?;
        w.write_record(&t.headers).map_err(err)?;
        for (_, r) in &t.rows {
            w.write_record(r).map_err(err)?;
        }
        w.flush()
            .map_err(|e| LedgerError::file(&name, e.to_string()))?;
    }
    Ok(())
}
