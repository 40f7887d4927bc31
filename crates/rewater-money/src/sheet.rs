//! Input tables (project lists, plants, stations, sections, monthly values): CSV (UTF-8,
//! optional BOM) or XLSX (the first worksheet), a header row first, columns by English or
//! Chinese name in any order. Errors name the file, the row as a spreadsheet shows it (the
//! header is row 1) and the field; the whole file is refused on the first error.

use crate::InputError;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

/// The largest input file read.
pub const MAX_SHEET_BYTES: u64 = 16 << 20;
/// The most rows.
pub const MAX_SHEET_ROWS: usize = 200_000;
/// The most an XLSX file may unpack to (checked before unpacking, by the workspace's one
/// guard in rewater-standards).
pub use rewater_standards::xlsx::MAX_XLSX_UNPACKED_BYTES;

/// A column the reader knows: canonical name, accepted names, required.
pub struct Col {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// A table as read: its rows (spreadsheet row number, cells) and the column of each known
/// name.
#[derive(Debug)]
pub struct Sheet {
    pub file: String,
    pub rows: Vec<(usize, Vec<String>)>,
    cols: BTreeMap<&'static str, usize>,
}

/// One row of a [`Sheet`].
pub struct Row<'a> {
    pub file: &'a str,
    pub line: usize,
    cells: &'a [String],
    cols: &'a BTreeMap<&'static str, usize>,
}

impl<'a> Row<'a> {
    /// The trimmed text of a column ("" when absent or empty).
    pub fn text(&self, name: &str) -> &'a str {
        self.cols
            .get(name)
            .and_then(|&i| self.cells.get(i))
            .map(|s| s.trim())
            .unwrap_or("")
    }
    pub fn err(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError::at(self.file, self.line, field, message)
    }
    /// A required text.
    pub fn required(&self, name: &str) -> Result<&'a str, InputError> {
        let t = self.text(name);
        if t.is_empty() {
            return Err(self.err(name, "empty"));
        }
        Ok(t)
    }
    /// A number ≥ 0, or `None` when the cell is empty.
    pub fn number_opt(&self, name: &str) -> Result<Option<f64>, InputError> {
        let t = self.text(name).replace([',', '，'], "");
        if t.is_empty() {
            return Ok(None);
        }
        let x: f64 = t
            .parse()
            .map_err(|_| self.err(name, format!("'{t}' is not a number")))?;
        if !x.is_finite() || x < 0.0 {
            return Err(self.err(name, format!("{t} is not a finite number ≥ 0")));
        }
        Ok(Some(x))
    }
    /// A number ≥ 0 that must be there.
    pub fn number(&self, name: &str) -> Result<f64, InputError> {
        self.number_opt(name)?
            .ok_or_else(|| self.err(name, "empty (a value left out would read as 0)"))
    }
    /// A number ≥ 0, 0 when empty.
    pub fn number_or_zero(&self, name: &str) -> Result<f64, InputError> {
        Ok(self.number_opt(name)?.unwrap_or(0.0))
    }
    /// A whole year in 1900–2200, or `None`.
    pub fn year_opt(&self, name: &str) -> Result<Option<i32>, InputError> {
        let t = self.text(name);
        if t.is_empty() {
            return Ok(None);
        }
        let y: f64 = t
            .parse()
            .map_err(|_| self.err(name, format!("'{t}' is not a year")))?;
        if y.fract() != 0.0 || !(1900.0..=2200.0).contains(&y) {
            return Err(self.err(name, format!("{t} is not a year in 1900–2200")));
        }
        Ok(Some(y as i32))
    }
    /// A yes/no cell; `None` when empty.
    pub fn flag(&self, name: &str) -> Result<Option<bool>, InputError> {
        let t = self.text(name);
        Ok(match t.to_ascii_lowercase().as_str() {
            "" => None,
            "1" | "true" | "yes" | "y" | "是" | "√" => Some(true),
            "0" | "false" | "no" | "n" | "否" | "×" => Some(false),
            _ => return Err(self.err(name, format!("'{t}' is not yes/no (是/否)"))),
        })
    }
}

impl Sheet {
    /// The rows with their columns.
    pub fn rows(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|(line, cells)| Row {
            file: &self.file,
            line: *line,
            cells,
            cols: &self.cols,
        })
    }
}

/// Reads a table file: `.xlsx` by its name or its zip signature, else CSV.
pub fn read_sheet(path: &Path, cols: &[Col]) -> Result<Sheet, InputError> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputError::file(&file, e.to_string()))?;
    if !meta.is_file() {
        return Err(InputError::file(&file, "not a regular file"));
    }
    if meta.len() > MAX_SHEET_BYTES {
        return Err(InputError::file(
            &file,
            format!("larger than {MAX_SHEET_BYTES} bytes"),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(|e| InputError::file(&file, e.to_string()))?
        .take(MAX_SHEET_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| InputError::file(&file, e.to_string()))?;
    sheet_from_bytes(&bytes, &file, cols)
}

/// [`read_sheet`] on bytes already read (`file` names them in errors).
pub fn sheet_from_bytes(bytes: &[u8], file: &str, cols: &[Col]) -> Result<Sheet, InputError> {
    if bytes.len() as u64 > MAX_SHEET_BYTES {
        return Err(InputError::file(
            file,
            format!("larger than {MAX_SHEET_BYTES} bytes"),
        ));
    }
    let mut rows = if bytes.starts_with(b"PK\x03\x04") || file.to_lowercase().ends_with(".xlsx") {
        xlsx_rows(bytes, file)?
    } else {
        csv_rows(bytes, file)?
    };
    if rows.is_empty() {
        return Err(InputError::file(file, "empty: no header row"));
    }
    let (_, header) = rows.remove(0);
    let mut map = BTreeMap::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim();
        if h.is_empty() {
            continue;
        }
        let lower = h.to_lowercase();
        let Some(c) = cols
            .iter()
            .find(|c| c.name == lower || c.aliases.iter().any(|a| *a == h || *a == lower))
        else {
            return Err(InputError::at(file, 1, h, "unknown column"));
        };
        if map.insert(c.name, i).is_some() {
            return Err(InputError::at(file, 1, h, "column given twice"));
        }
    }
    for c in cols.iter().filter(|c| c.required) {
        if !map.contains_key(c.name) {
            return Err(InputError::at(file, 1, c.name, "missing column"));
        }
    }
    let width = header.len();
    for (line, cells) in &rows {
        if cells.iter().skip(width).any(|c| !c.trim().is_empty()) {
            return Err(InputError::at(
                file,
                *line,
                "",
                "more cells than the header has",
            ));
        }
    }
    rows.retain(|(_, cells)| cells.iter().any(|c| !c.trim().is_empty()));
    Ok(Sheet {
        file: file.to_string(),
        rows,
        cols: map,
    })
}

fn csv_rows(bytes: &[u8], file: &str) -> Result<Vec<(usize, Vec<String>)>, InputError> {
    rewater_standards::csv_rows::csv_rows(bytes, MAX_SHEET_ROWS)
        .map_err(|e| InputError::at(file, e.line, "", e.message))
}

fn xlsx_rows(bytes: &[u8], file: &str) -> Result<Vec<(usize, Vec<String>)>, InputError> {
    use calamine::{Data, Reader, Xlsx};
    let whole = |m: String| InputError::file(file, m);
    rewater_standards::xlsx::check_unpacked_size(bytes, MAX_XLSX_UNPACKED_BYTES)
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
        if out.len() > MAX_SHEET_ROWS {
            return Err(InputError::at(
                file,
                row,
                "",
                format!("more than {MAX_SHEET_ROWS} rows"),
            ));
        }
        let cells = r
            .iter()
            .map(|c| match c {
                Data::Empty => String::new(),
                Data::String(s) => s.clone(),
                Data::Float(f) => f.to_string(),
                Data::Int(n) => n.to_string(),
                Data::Bool(b) => b.to_string(),
                other => other.to_string(),
            })
            .collect();
        out.push((row, cells));
    }
    Ok(out)
}
