//! XLSX: one workbook, one sheet per table (sheet names as the CSV files' stems). Read with
//! calamine, written with rust_xlsxwriter (numbers as numbers, the rest as text).

use super::{check_size, rows::numeric, Table, MAX_ROWS};
use crate::LedgerError;
use calamine::{open_workbook, Data, Reader, Xlsx};
use std::path::Path;

fn cell_text(c: &Data) -> Result<String, String> {
    Ok(match c {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(d) => {
            // Excel serial days from 1899-12-30.
            let days = d.as_f64().floor() as i32;
            let base = rewater_time::Date::from_ymd(1899, 12, 30).ok_or("date base")?;
            base.add_days(days).to_string()
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Error(e) => return Err(format!("the cell holds an Excel error ({e:?})")),
    })
}

/// Reads every sheet of a workbook as a table.
pub(super) fn read(path: &Path) -> Result<Vec<Table>, LedgerError> {
    let name = path.display().to_string();
    check_size(path)?;
    let mut wb: Xlsx<_> = open_workbook(path)
        .map_err(|e| LedgerError::file(&name, format!("not an XLSX workbook: {e}")))?;
    let mut out = Vec::new();
    for sheet in wb.sheet_names() {
        let file = format!("{name} [{sheet}]");
        let range = wb
            .worksheet_range(&sheet)
            .map_err(|e| LedgerError::file(&file, e.to_string()))?;
        if range.height() > MAX_ROWS + 1 {
            return Err(LedgerError::file(
                &file,
                format!("more than {MAX_ROWS} rows"),
            ));
        }
        let (row0, _) = range.start().unwrap_or((0, 0));
        let mut rows = range.rows();
        let Some(head) = rows.next() else { continue };
        let headers = head
            .iter()
            .map(|c| cell_text(c).unwrap_or_default())
            .collect();
        let mut table = Table {
            file: file.clone(),
            name: sheet.clone(),
            headers,
            rows: Vec::new(),
        };
        for (i, r) in rows.enumerate() {
            let line = row0 as usize + i + 2;
            let cells = r
                .iter()
                .map(cell_text)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| LedgerError::file(&format!("{file}:{line}"), e))?;
            table.rows.push((line, cells));
        }
        out.push(table);
    }
    Ok(out)
}

/// Writes one workbook with a sheet per table.
pub(super) fn write(tables: &[Table], path: &Path) -> Result<(), LedgerError> {
    let name = path.display().to_string();
    let err = |e: rust_xlsxwriter::XlsxError| LedgerError::file(&name, e.to_string());
    let mut wb = rust_xlsxwriter::Workbook::new();
    for t in tables {
        let ws = wb.add_worksheet();
        ws.set_name(&t.name).map_err(err)?;
        for (c, h) in t.headers.iter().enumerate() {
            ws.write_string(0, c as u16, h).map_err(err)?;
        }
        for (r, (_, cells)) in t.rows.iter().enumerate() {
            for (c, v) in cells.iter().enumerate() {
                if v.is_empty() {
                    continue;
                }
                let (row, col) = (r as u32 + 1, c as u16);
                match v.parse::<f64>() {
                    Ok(x) if numeric(&t.headers[c]) => ws.write_number(row, col, x).map_err(err)?,
                    _ => ws.write_string(row, col, v).map_err(err)?,
                };
            }
        }
    }
    wb.save(path).map_err(err)
}
