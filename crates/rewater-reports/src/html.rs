//! A report as a document of sections and blocks, written as one self-contained HTML file
//! (inline CSS and SVG, no script, no network) that prints to A4.

use crate::Lang;
use std::fmt::Write;

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// One block of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Para(String),
    /// A table: header cells, rows of cells.
    Table(Vec<String>, Vec<Vec<String>>),
    /// An inline SVG chart (already markup).
    Chart(String),
    List(Vec<String>),
    /// A note in small print.
    Note(String),
}

/// A titled section.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub title: String,
    pub blocks: Vec<Block>,
}

/// A whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    pub lang: Lang,
    pub title: String,
    /// Lines under the title (model, period, date, basis).
    pub meta: Vec<(String, String)>,
    pub sections: Vec<Section>,
}

const CSS: &str = r#"
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "WenQuanYi Zen Hei", "Noto Sans CJK SC", "Microsoft YaHei", sans-serif;
  font-size: 10.5pt; color: #1a1a1a; max-width: 180mm; margin: 0 auto; line-height: 1.5; }
h1 { font-size: 18pt; text-align: center; margin: 0 0 6mm; }
h2 { font-size: 13pt; border-bottom: 1px solid #2a6f97; color: #1d4e6b; margin: 7mm 0 3mm;
  break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm; break-inside: auto; }
th, td { border: 1px solid #9aa7b1; padding: 1mm 2mm; text-align: left; vertical-align: top; }
th { background: #e8eef2; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 0 4mm; margin: 0 0 4mm; }
dl.meta dt { color: #555; } dl.meta dd { margin: 0; }
figure { margin: 2mm 0 4mm; break-inside: avoid; } svg { max-width: 100%; height: auto; }
p.note { font-size: 8.5pt; color: #555; }
"#;

fn is_number(s: &str) -> bool {
    let t = s.trim_end_matches(['%', ' ']).replace(',', "");
    !t.is_empty() && t.parse::<f64>().is_ok()
}

/// Writes the document as HTML.
pub fn render(doc: &Doc) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let lang = if doc.lang == Lang::En { "en" } else { "zh-CN" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{CSS}</style></head><body>\n<h1>{}</h1>\n<dl class=\"meta\">",
        esc(&doc.title),
        esc(&doc.title)
    );
    for (k, v) in &doc.meta {
        let _ = write!(h, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
    }
    h.push_str("</dl>\n");
    for s in &doc.sections {
        let _ = writeln!(h, "<section><h2>{}</h2>", esc(&s.title));
        for b in &s.blocks {
            block(&mut h, b);
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body></html>\n");
    h
}

fn block(h: &mut String, b: &Block) {
    match b {
        Block::Para(p) => {
            let _ = writeln!(h, "<p>{}</p>", esc(p));
        }
        Block::Note(p) => {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", esc(p));
        }
        Block::List(items) => {
            h.push_str("<ul>");
            for i in items {
                let _ = write!(h, "<li>{}</li>", esc(i));
            }
            h.push_str("</ul>\n");
        }
        Block::Chart(svg) => {
            let _ = writeln!(h, "<figure>{svg}</figure>");
        }
        Block::Table(head, rows) => {
            h.push_str("<table><thead><tr>");
            for c in head {
                let _ = write!(h, "<th>{}</th>", esc(c));
            }
            h.push_str("</tr></thead><tbody>");
            for r in rows {
                h.push_str("<tr>");
                for c in r {
                    let class = if is_number(c) { " class=\"n\"" } else { "" };
                    let _ = write!(h, "<td{class}>{}</td>", esc(c));
                }
                h.push_str("</tr>");
            }
            h.push_str("</tbody></table>\n");
        }
    }
}
