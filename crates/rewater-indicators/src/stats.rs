//! The statistics table the bureau fills in (统计报表): one row per district × year ×
//! quantity, as CSV or XLSX (the first worksheet), for what is not simulated — villages
//! covered, pipe km built, sludge by disposal route, water supplied and billed…
//!
//! Columns (a header row first; English or Chinese names, any order): `district` (区; empty,
//! `*`, 全域 or 全市 = the whole region), `year` (年份), `quantity` (指标量, an id of
//! `indicators/quantities.toml` that the bureau may report), `value` (数值, a number ≥ 0) and,
//! optionally, `unit` (单位, checked against the quantity's) and `note` (备注, ignored). A row
//! left out is "not reported"; an empty value is refused (it would read as 0). Errors name
//! the file, the row (as a spreadsheet shows it, the header being row 1) and the field; the
//! whole file is refused on the first error (nothing is half-applied).

use crate::catalog::{Catalog, QuantityOrigin};
use crate::table::{Origin, QuantityTable, WHOLE_REGION};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The largest statistics file read.
pub const MAX_STATS_BYTES: u64 = 16 << 20;
/// The most rows (a district × year × quantity table is small).
pub const MAX_STATS_ROWS: usize = 200_000;
/// The most bytes an XLSX file may unpack to (a zip bomb is refused before it is unpacked,
/// by the workspace's one guard in rewater-standards).
pub use rewater_standards::xlsx::MAX_XLSX_UNPACKED_BYTES;

/// A statistics file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}{}: {message}", row.map(|r| format!(", row {r}")).unwrap_or_default(), field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct StatsError {
    pub file: String,
    /// Row as a spreadsheet shows it (header = 1).
    pub row: Option<usize>,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Col {
    District,
    Year,
    Quantity,
    Value,
    Unit,
    Note,
}

fn column(name: &str) -> Option<Col> {
    Some(match name.trim().to_lowercase().as_str() {
        "district" | "区" | "区县" | "地区" => Col::District,
        "year" | "年份" | "年" => Col::Year,
        "quantity" | "指标量" | "量" => Col::Quantity,
        "value" | "数值" | "值" => Col::Value,
        "unit" | "单位" => Col::Unit,
        "note" | "备注" => Col::Note,
        _ => return None,
    })
}

/// A cell as read: text, or a number from a spreadsheet.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => n.to_string(),
        }
    }
}

/// Reads a statistics file: `.xlsx` by its name or its zip signature, else CSV.
pub fn read_statistics(path: &Path, catalog: &Catalog) -> Result<QuantityTable, StatsError> {
    let file = path.display().to_string();
    let whole = |message: String| StatsError {
        file: file.clone(),
        row: None,
        field: None,
        message,
    };
    let meta = std::fs::metadata(path).map_err(|e| whole(e.to_string()))?;
    if !meta.is_file() {
        return Err(whole("not a regular file".into()));
    }
    if meta.len() > MAX_STATS_BYTES {
        return Err(whole(format!("larger than {MAX_STATS_BYTES} bytes")));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| whole(e.to_string()))?
        .take(MAX_STATS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| whole(e.to_string()))?;
    statistics_from_bytes(&bytes, &file, catalog)
}

/// [`read_statistics`] on bytes already read (`file` names them in errors).
pub fn statistics_from_bytes(
    bytes: &[u8],
    file: &str,
    catalog: &Catalog,
) -> Result<QuantityTable, StatsError> {
    let whole = |message: String| StatsError {
        file: file.to_string(),
        row: None,
        field: None,
        message,
    };
    if bytes.len() as u64 > MAX_STATS_BYTES {
        return Err(whole(format!("larger than {MAX_STATS_BYTES} bytes")));
    }
    let rows = if bytes.starts_with(b"PK\x03\x04") || file.to_lowercase().ends_with(".xlsx") {
        xlsx_rows(bytes, file, MAX_XLSX_UNPACKED_BYTES)?
    } else {
        csv_rows(bytes, file)?
    };
    table_from_rows(rows, file, catalog)
}

fn csv_rows(bytes: &[u8], file: &str) -> Result<Vec<(usize, Vec<Cell>)>, StatsError> {
    let rows =
        rewater_standards::csv_rows::csv_rows(bytes, MAX_STATS_ROWS).map_err(|e| StatsError {
            file: file.to_string(),
            row: Some(e.line),
            field: None,
            message: e.message,
        })?;
    Ok(rows
        .into_iter()
        .map(|(row, cells)| (row, cells.into_iter().map(Cell::Text).collect()))
        .collect())
}

fn xlsx_rows(
    bytes: &[u8],
    file: &str,
    max_unpacked: u64,
) -> Result<Vec<(usize, Vec<Cell>)>, StatsError> {
    use calamine::{Data, Reader, Xlsx};
    let whole = |message: String| StatsError {
        file: file.to_string(),
        row: None,
        field: None,
        message,
    };
    // Refuse what unpacks to too much before anything is unpacked.
    rewater_standards::xlsx::check_unpacked_size(bytes, max_unpacked)
        .map_err(|e| whole(e.to_string()))?;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| whole(format!("not an XLSX file: {e}")))?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| whole("the workbook has no worksheet".into()))?
        .map_err(|e| whole(format!("the first worksheet cannot be read: {e}")))?;
    let (row0, _) = range.start().unwrap_or((0, 0));
    let mut out = Vec::new();
    for (i, r) in range.rows().enumerate() {
        let row = row0 as usize + i + 1;
        if out.len() > MAX_STATS_ROWS {
            return Err(StatsError {
                file: file.to_string(),
                row: Some(row),
                field: None,
                message: format!("more than {MAX_STATS_ROWS} rows"),
            });
        }
        let cells = r
            .iter()
            .map(|c| match c {
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Float(f) => Cell::Number(*f),
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Cell::Text(s.clone())
                }
                Data::Bool(b) => Cell::Text(b.to_string()),
                Data::DateTime(d) => Cell::Text(format!("date {}", d.as_f64())),
                Data::Error(e) => Cell::Text(format!("#{e:?}")),
                Data::Empty => Cell::Text(String::new()),
            })
            .collect();
        out.push((row, cells));
    }
    Ok(out)
}

fn table_from_rows(
    rows: Vec<(usize, Vec<Cell>)>,
    file: &str,
    catalog: &Catalog,
) -> Result<QuantityTable, StatsError> {
    let err = |row: usize, field: Option<&str>, message: String| StatsError {
        file: file.to_string(),
        row: Some(row),
        field: field.map(str::to_string),
        message,
    };
    // The header: the first row that is not empty.
    let mut iter = rows
        .into_iter()
        .filter(|(_, cells)| cells.iter().any(|c| !c.text().is_empty()));
    let Some((hrow, header)) = iter.next() else {
        return Err(StatsError {
            file: file.to_string(),
            row: None,
            field: None,
            message: "empty: no header row (district,year,quantity,value)".into(),
        });
    };
    let mut cols: Vec<Option<Col>> = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let name = h.text();
        let c = column(&name);
        if c.is_none() && !name.is_empty() {
            return Err(err(
                hrow,
                Some(&name),
                "unknown column (district, year, quantity, value, unit, note)".into(),
            ));
        }
        if c.is_some() && cols.contains(&c) {
            return Err(err(hrow, Some(&name), "column given twice".into()));
        }
        let _ = i;
        cols.push(c);
    }
    for need in [Col::District, Col::Year, Col::Quantity, Col::Value] {
        if !cols.contains(&Some(need)) {
            let name = match need {
                Col::District => "district",
                Col::Year => "year",
                Col::Quantity => "quantity",
                _ => "value",
            };
            return Err(err(hrow, Some(name), "missing column".into()));
        }
    }
    let mut table = QuantityTable::new();
    let mut seen: BTreeMap<(String, i32, String), usize> = BTreeMap::new();
    for (row, cells) in iter {
        let get = |c: Col| -> Option<&Cell> {
            cols.iter()
                .position(|x| *x == Some(c))
                .and_then(|i| cells.get(i))
        };
        if cells.len() > cols.len() && cells[cols.len()..].iter().any(|c| !c.text().is_empty()) {
            return Err(err(
                row,
                None,
                format!("{} cells, the header has {}", cells.len(), cols.len()),
            ));
        }
        let district = get(Col::District).map(Cell::text).unwrap_or_default();
        let district = match district.as_str() {
            "*" | "全域" | "全市" | "全区" => WHOLE_REGION.to_string(),
            _ => district,
        };
        if district.chars().count() > 64 || district.chars().any(char::is_control) {
            return Err(err(
                row,
                Some("district"),
                "at most 64 characters, no control characters".into(),
            ));
        }
        let year = match get(Col::Year) {
            Some(Cell::Number(n)) if n.fract() == 0.0 => *n as i64,
            Some(c) => c
                .text()
                .parse::<i64>()
                .map_err(|_| err(row, Some("year"), format!("'{}' is not a year", c.text())))?,
            None => return Err(err(row, Some("year"), "missing".into())),
        };
        if !(1949..=2100).contains(&year) {
            return Err(err(
                row,
                Some("year"),
                format!("{year} is not between 1949 and 2100"),
            ));
        }
        let year = year as i32;
        let qid = get(Col::Quantity).map(Cell::text).unwrap_or_default();
        let Some(q) = catalog.quantities.get(&qid) else {
            return Err(err(
                row,
                Some("quantity"),
                format!("unknown quantity '{qid}' (see indicators/quantities.toml)"),
            ));
        };
        if !q.origins.contains(&QuantityOrigin::Statistics) {
            return Err(err(
                row,
                Some("quantity"),
                format!(
                    "'{qid}' comes from model runs or monitoring, not from the statistics table"
                ),
            ));
        }
        let value = match get(Col::Value) {
            Some(Cell::Number(n)) => *n,
            Some(c) if c.text().is_empty() => {
                return Err(err(
                    row,
                    Some("value"),
                    "empty (leave the row out if the value is not known)".into(),
                ))
            }
            Some(c) => c.text().parse::<f64>().map_err(|_| {
                err(
                    row,
                    Some("value"),
                    format!("'{}' is not a number", c.text()),
                )
            })?,
            None => {
                return Err(err(
                    row,
                    Some("value"),
                    "empty (leave the row out if the value is not known)".into(),
                ))
            }
        };
        if !value.is_finite() || value < 0.0 {
            return Err(err(
                row,
                Some("value"),
                format!("{value} must be a finite number ≥ 0"),
            ));
        }
        if let Some(u) = get(Col::Unit).map(Cell::text).filter(|u| !u.is_empty()) {
            let known = catalog.units.get(&q.unit);
            let ok = u == q.unit || known.is_some_and(|k| k.zh == u || k.en == u);
            if !ok {
                return Err(err(
                    row,
                    Some("unit"),
                    format!("'{u}' is not the unit of {qid} ({})", q.unit),
                ));
            }
        }
        let key = (district.clone(), year, qid.clone());
        if let Some(first) = seen.get(&key) {
            return Err(err(
                row,
                Some("quantity"),
                format!("{qid} of district '{district}' in {year} is already given in row {first}"),
            ));
        }
        seen.insert(key, row);
        table.set(
            &district,
            year,
            &qid,
            value,
            Origin::Statistics {
                file: file.to_string(),
                row,
            },
        );
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn an_xlsx_that_unpacks_to_too_much_is_refused_before_unpacking() {
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut z = zip::ZipWriter::new(&mut buf);
            let opt = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            z.start_file("xl/worksheets/sheet1.xml", opt).unwrap();
            z.write_all(&vec![b' '; 3 << 20]).unwrap();
            z.finish().unwrap();
        }
        let bytes = buf.into_inner();
        let e = xlsx_rows(&bytes, "bomb.xlsx", 1 << 20).unwrap_err();
        assert_eq!(
            e.message,
            format!("unpacks to {} bytes, more than {}", 3 << 20, 1 << 20)
        );
        // Under the cap the same file is read on (and found not to be a workbook).
        let e = xlsx_rows(&bytes, "bomb.xlsx", 4 << 20).unwrap_err();
        assert!(e.message.starts_with("not an XLSX file"), "{e}");
    }
}
