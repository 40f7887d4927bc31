//! The one output shape of every ledger: a titled table with zh/en headings, typed cells,
//! the rule sets used and whether anything in it is unverified; written as CSV (UTF-8 with
//! BOM, so spreadsheet programs read the Chinese) or XLSX (numbers as numbers).

use crate::{Lang, Text};
use serde::Serialize;
use std::path::Path;

/// A cell.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Number(f64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// Yuan, rounded to fen.
    pub fn yuan(x: f64) -> Cell {
        Cell::Number(crate::fen(x))
    }
    fn render(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number(x) => {
                let r = (x * 100.0).round() / 100.0;
                if r.fract() == 0.0 {
                    format!("{r:.0}")
                } else {
                    format!("{r}")
                }
            }
            Cell::Empty => String::new(),
        }
    }
}

/// A table of a ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// A short id (`funding-by-project`), also the worksheet name.
    pub id: String,
    pub title: Text,
    pub columns: Vec<Text>,
    pub rows: Vec<Vec<Cell>>,
    /// Notes printed under the table (the rule sets used, their documents and confidence).
    pub notes: Vec<Text>,
    /// Whether a figure of the table rests on an unverified rule (printed as UNVERIFIED).
    pub unverified: bool,
}

impl Table {
    pub fn new(id: &str, title: Text, columns: &[(&str, &str)]) -> Table {
        Table {
            id: id.to_string(),
            title,
            columns: columns.iter().map(|(zh, en)| Text::new(zh, en)).collect(),
            rows: Vec::new(),
            notes: Vec::new(),
            unverified: false,
        }
    }

    /// The title with the UNVERIFIED mark when it applies.
    pub fn heading(&self, lang: Lang) -> String {
        if self.unverified {
            format!("{} [UNVERIFIED]", self.title.get(lang))
        } else {
            self.title.get(lang).to_string()
        }
    }

    /// Writes the table as CSV: a first line with the heading, then the header row, the
    /// rows and the notes.
    pub fn write_csv(&self, w: &mut dyn std::io::Write, lang: Lang) -> std::io::Result<()> {
        let mut out = csv::WriterBuilder::new().flexible(true).from_writer(w);
        let io = |e: csv::Error| std::io::Error::other(e.to_string());
        out.write_record([self.heading(lang)]).map_err(io)?;
        out.write_record(self.columns.iter().map(|c| c.get(lang).to_string()))
            .map_err(io)?;
        for r in &self.rows {
            out.write_record(r.iter().map(Cell::render)).map_err(io)?;
        }
        for n in &self.notes {
            out.write_record([n.get(lang)]).map_err(io)?;
        }
        out.flush()
    }

    /// The CSV text of several tables, a blank line between them, with a BOM.
    pub fn csv_text(tables: &[Table], lang: Lang) -> String {
        let mut buf: Vec<u8> = b"\xEF\xBB\xBF".to_vec();
        for (i, t) in tables.iter().enumerate() {
            if i > 0 {
                buf.push(b'\n');
            }
            // Writing into a Vec cannot fail.
            let _ = t.write_csv(&mut buf, lang);
        }
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Writes tables as one workbook, a sheet each.
    pub fn write_xlsx(tables: &[Table], path: &Path, lang: Lang) -> Result<(), crate::InputError> {
        let name = path.display().to_string();
        let err = |e: rust_xlsxwriter::XlsxError| crate::InputError::file(&name, e.to_string());
        let mut wb = rust_xlsxwriter::Workbook::new();
        for t in tables {
            let ws = wb.add_worksheet();
            let sheet: String = t.id.chars().take(31).collect();
            ws.set_name(&sheet).map_err(err)?;
            ws.write_string(0, 0, t.heading(lang)).map_err(err)?;
            for (c, h) in t.columns.iter().enumerate() {
                ws.write_string(1, c as u16, h.get(lang)).map_err(err)?;
            }
            for (r, row) in t.rows.iter().enumerate() {
                for (c, v) in row.iter().enumerate() {
                    let (rr, cc) = (r as u32 + 2, c as u16);
                    match v {
                        Cell::Text(s) => ws.write_string(rr, cc, s).map_err(err)?,
                        Cell::Number(x) => ws.write_number(rr, cc, crate::fen(*x)).map_err(err)?,
                        Cell::Empty => continue,
                    };
                }
            }
            let base = t.rows.len() as u32 + 3;
            for (i, n) in t.notes.iter().enumerate() {
                ws.write_string(base + i as u32, 0, n.get(lang))
                    .map_err(err)?;
            }
        }
        wb.save(path).map_err(err)
    }
}

/// The note naming a rule set, its document, validity and confidence.
pub fn rule_note(s: &crate::RuleSet) -> Text {
    let weakest = s.weakest();
    let to = s.valid_to.clone().unwrap_or_default();
    Text {
        zh: format!(
            "规则：{} {}（{}，{}—{}，可信度：{}）",
            s.id,
            s.version,
            s.document,
            s.valid_from,
            to,
            weakest.label(Lang::Zh)
        ),
        en: format!(
            "Rules: {} {} ({}, {} to {}, confidence: {})",
            s.id,
            s.version,
            s.document,
            s.valid_from,
            if to.is_empty() { "—" } else { &to },
            weakest.label(Lang::En)
        ),
    }
}
