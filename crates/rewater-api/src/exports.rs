//! Exports (issue 13): a site's series, and the daily and monthly compliance reports
//! (日报/月报) of a site, a district or every visible site — daily means, exceedances, online
//! and data-validity rates (see [`crate::daily`]) — as CSV (UTF-8 with a byte-order mark, so
//! that Excel reads the Chinese), XLSX (rust_xlsxwriter) or a printable HTML page, with
//! headings and names in Chinese or English.

use crate::daily::{site_days, DayFactor};
use crate::error::{bad, internal, ApiError, E400, E401, E403, E404};
use crate::extract::ApiQuery;
use crate::series::parse_time;
use crate::sites::{auth_read, visible_site};
use crate::{with_store, ApiState};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use rewater_standards::{Date, Factor};
use rewater_store::{Label, Site};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::IntoParams;

/// One cell of a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Num(f64),
    Text(String),
    Empty,
}

/// A table: a sheet of the workbook, a section of the page.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Html,
}

fn format_of(s: Option<&str>) -> Result<Format, ApiError> {
    match s.unwrap_or("csv") {
        "csv" => Ok(Format::Csv),
        "xlsx" => Ok(Format::Xlsx),
        "html" => Ok(Format::Html),
        o => Err(bad(format!("format: '{o}' is not csv, xlsx or html"))),
    }
}

fn zh(lang: &str) -> bool {
    lang != "en"
}

/// Names in one language: sites, districts and factors.
struct Names {
    zh: bool,
    labels: HashMap<(String, String), Label>,
}

impl Names {
    fn site(&self, s: &Site) -> String {
        match self.labels.get(&("site".into(), s.id.clone())) {
            Some(l) if self.zh && !l.name_zh.is_empty() => l.name_zh.clone(),
            Some(l) if !self.zh && !l.name_en.is_empty() => l.name_en.clone(),
            _ => s.name.clone(),
        }
    }
    fn district(&self, d: &str) -> String {
        match self.labels.get(&("district".into(), d.to_string())) {
            Some(l) if self.zh => l.name_zh.clone(),
            Some(l) => l.name_en.clone(),
            None => d.to_string(),
        }
    }
    fn factor(&self, code: &str) -> (String, String) {
        match Factor::parse(code) {
            Ok(f) => {
                let i = f.info();
                let n = if self.zh { i.name_zh } else { i.name_en };
                (n.to_string(), i.unit.as_str().to_string())
            }
            Err(_) => (code.to_string(), String::new()),
        }
    }
}

fn opt(x: Option<f64>) -> Cell {
    x.map_or(Cell::Empty, Cell::Num)
}

fn rate(x: Option<f64>) -> Cell {
    x.map_or(Cell::Empty, |v| Cell::Num((v * 1000.0).round() / 10.0))
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

fn verdict(zh: bool, m: Option<bool>) -> Cell {
    match (m, zh) {
        (Some(true), true) => text("达标"),
        (Some(false), true) => text("超标"),
        (Some(true), false) => text("meets"),
        (Some(false), false) => text("exceeds"),
        (None, _) => Cell::Empty,
    }
}

fn heads(zh: bool, list: &[(&str, &str)]) -> Vec<String> {
    list.iter()
        .map(|(z, e)| if zh { z } else { e }.to_string())
        .collect()
}

const DAY_HEADS: [(&str, &str); 14] = [
    ("日期", "date"),
    ("点位", "site"),
    ("区", "district"),
    ("因子", "factor"),
    ("代码", "code"),
    ("单位", "unit"),
    ("日均值", "daily mean"),
    ("最小值", "min"),
    ("最大值", "max"),
    ("标准", "standard"),
    ("限值", "limit"),
    ("评价", "verdict"),
    ("在线率 %", "online rate %"),
    ("有效数据率 %", "data validity %"),
];

fn day_row(n: &Names, site: &Site, d: &DayFactor) -> Vec<Cell> {
    let (fname, unit) = n.factor(&d.factor);
    vec![
        text(&d.date),
        text(n.site(site)),
        text(n.district(&site.district)),
        text(fname),
        text(&d.factor),
        text(unit),
        opt(d.mean.map(|m| (m * 1000.0).round() / 1000.0)),
        opt(d.min),
        opt(d.max),
        d.standard.clone().map_or(Cell::Empty, Cell::Text),
        d.limit.clone().map_or(Cell::Empty, Cell::Text),
        verdict(n.zh, d.meets),
        rate(d.online_rate),
        rate(d.validity_rate),
    ]
}

/// The monthly summary of one site's factor: days with a mean, exceedance days, compliance
/// rate (达标率 = days meeting ÷ days judged), mean of the daily means, mean validity.
fn summary_row(n: &Names, site: &Site, factor: &str, days: &[&DayFactor]) -> Vec<Cell> {
    let (fname, unit) = n.factor(factor);
    let judged: Vec<bool> = days.iter().filter_map(|d| d.meets).collect();
    let exceed = judged.iter().filter(|m| !**m).count();
    let means: Vec<f64> = days.iter().filter_map(|d| d.mean).collect();
    let validity: Vec<f64> = days.iter().filter_map(|d| d.validity_rate).collect();
    let avg = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    vec![
        text(n.site(site)),
        text(n.district(&site.district)),
        text(fname),
        text(factor),
        text(unit),
        Cell::Num(means.len() as f64),
        Cell::Num(judged.len() as f64),
        Cell::Num(exceed as f64),
        rate((!judged.is_empty()).then(|| (judged.len() - exceed) as f64 / judged.len() as f64)),
        opt(avg(&means).map(|m| (m * 1000.0).round() / 1000.0)),
        rate(avg(&validity)),
    ]
}

const SUMMARY_HEADS: [(&str, &str); 11] = [
    ("点位", "site"),
    ("区", "district"),
    ("因子", "factor"),
    ("代码", "code"),
    ("单位", "unit"),
    ("有数据天数", "days with data"),
    ("评价天数", "days judged"),
    ("超标天数", "exceedance days"),
    ("达标率 %", "compliance rate %"),
    ("月均值", "monthly mean"),
    ("平均有效数据率 %", "mean data validity %"),
];

fn csv_field(s: &str) -> String {
    // Quote when needed; a leading = + - @ would be a formula to a spreadsheet: prefix '.
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<f64>().is_err() {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn cell_text(c: &Cell) -> String {
    match c {
        Cell::Num(x) => x.to_string(),
        Cell::Text(s) => s.clone(),
        Cell::Empty => String::new(),
    }
}

/// The tables as CSV: each table's name on a line of its own before its header when there
/// are several; UTF-8 with a byte-order mark.
pub fn to_csv(tables: &[Table]) -> String {
    let mut out = String::from("\u{feff}");
    for (i, t) in tables.iter().enumerate() {
        if tables.len() > 1 {
            if i > 0 {
                out.push_str("\r\n");
            }
            out.push_str(&csv_field(&format!("# {}", t.name)));
            out.push_str("\r\n");
        }
        let line = |cells: Vec<String>| {
            cells
                .iter()
                .map(|c| csv_field(c))
                .collect::<Vec<_>>()
                .join(",")
        };
        out.push_str(&line(t.headers.clone()));
        out.push_str("\r\n");
        for r in &t.rows {
            out.push_str(&line(r.iter().map(cell_text).collect()));
            out.push_str("\r\n");
        }
    }
    out
}

/// The tables as an XLSX workbook, one sheet each (numbers as numbers).
pub fn to_xlsx(tables: &[Table]) -> Result<Vec<u8>, ApiError> {
    let err = |e: rust_xlsxwriter::XlsxError| internal(format!("xlsx: {e}"));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for t in tables {
        let ws = wb.add_worksheet();
        let name: String = t
            .name
            .chars()
            .filter(|c| !"[]:*?/\\".contains(*c))
            .take(31)
            .collect();
        ws.set_name(&name).map_err(err)?;
        for (c, h) in t.headers.iter().enumerate() {
            ws.write_string_with_format(0, c as u16, h, &bold)
                .map_err(err)?;
        }
        for (r, cells) in t.rows.iter().enumerate() {
            for (c, v) in cells.iter().enumerate() {
                let (row, col) = (r as u32 + 1, c as u16);
                match v {
                    Cell::Num(x) => ws.write_number(row, col, *x).map(|_| ()),
                    Cell::Text(s) => ws.write_string(row, col, s).map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(err)?;
            }
        }
    }
    wb.save_to_buffer().map_err(err)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The tables as a printable HTML page (A4 landscape; inline styles only, no script).
pub fn to_html(title: &str, note: &str, tables: &[Table], lang: &str) -> String {
    let mut out = format!(
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title><style>\
         @page {{ size: A4 landscape; margin: 12mm; }} body {{ font: 12px sans-serif; }} \
         table {{ border-collapse: collapse; width: 100%; margin-bottom: 16px; }} \
         th, td {{ border: 1px solid #999; padding: 2px 4px; }} th {{ background: #eee; }} \
         td.n {{ text-align: right; }} tr {{ break-inside: avoid; }}</style></head><body><h1>{}</h1><p>{}</p>",
        if zh(lang) { "zh-CN" } else { "en" },
        esc(title),
        esc(title),
        esc(note)
    );
    for t in tables {
        out.push_str(&format!("<h2>{}</h2><table><tr>", esc(&t.name)));
        for h in &t.headers {
            out.push_str(&format!("<th>{}</th>", esc(h)));
        }
        out.push_str("</tr>");
        for r in &t.rows {
            out.push_str("<tr>");
            for c in r {
                match c {
                    Cell::Num(x) => out.push_str(&format!("<td class=\"n\">{x}</td>")),
                    other => out.push_str(&format!("<td>{}</td>", esc(&cell_text(other)))),
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>");
    out
}

fn respond(
    format: Format,
    file: &str,
    title: &str,
    note: &str,
    tables: &[Table],
    lang: &str,
) -> Result<Response, ApiError> {
    let (mime, body, ext) = match format {
        Format::Csv => (
            "text/csv; charset=utf-8",
            to_csv(tables).into_bytes(),
            "csv",
        ),
        Format::Xlsx => (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            to_xlsx(tables)?,
            "xlsx",
        ),
        Format::Html => (
            "text/html; charset=utf-8",
            to_html(title, note, tables, lang).into_bytes(),
            "html",
        ),
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, mime.to_string());
    if format == Format::Html {
        set(
            h,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'".into(),
        );
    } else {
        set(
            h,
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}.{ext}\""),
        );
    }
    Ok(r)
}

/// The ASCII-safe part of a name, for a file name.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    /// daily (日报: one day) or monthly (月报: one month, with a summary).
    kind: String,
    /// The day of a daily report (YYYY-MM-DD).
    date: Option<String>,
    /// The month of a monthly report (YYYY-MM).
    month: Option<String>,
    /// One site; or
    site: Option<String>,
    /// one district's sites; neither: every site the caller sees.
    district: Option<String>,
    /// csv (default), xlsx or html (printable).
    format: Option<String>,
    /// zh (default) or en: headings and names.
    lang: Option<String>,
}

/// The first day and length of a report.
fn report_days(q: &ReportQuery) -> Result<(Date, i64, String), ApiError> {
    match q.kind.as_str() {
        "daily" => {
            let d = q
                .date
                .as_deref()
                .ok_or_else(|| bad("date: needed for a daily report"))?;
            let day: Date = d
                .parse()
                .map_err(|_| bad(format!("date: '{d}' is not YYYY-MM-DD")))?;
            Ok((day, 1, day.to_string()))
        }
        "monthly" => {
            let m = q
                .month
                .as_deref()
                .ok_or_else(|| bad("month: needed for a monthly report"))?;
            let first: Date = format!("{m}-01")
                .parse()
                .map_err(|_| bad(format!("month: '{m}' is not YYYY-MM")))?;
            let (y, mo, _) = first.ymd();
            let days = rewater_standards::date::days_in_month(y, mo) as i64;
            Ok((first, days, m.to_string()))
        }
        o => Err(bad(format!("kind: '{o}' is not daily or monthly"))),
    }
}

/// A daily or monthly compliance report (日报/月报) of a site, a district or every visible site:
/// each site's factors day by day (daily mean, min, max, the limit and the verdict, online
/// rate, 有效数据率), and for a month a summary (days judged, exceedance days, 达标率, mean).
#[utoipa::path(get, path = "/api/exports/report", tag = "series", params(ReportQuery),
    responses((status = 200, description = "the report: text/csv, XLSX or text/html by `format`", content_type = "application/octet-stream", body = Vec<u8>),
        E400, E401, E403, E404))]
pub async fn report_export(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ReportQuery>,
) -> Result<Response, ApiError> {
    let p = auth_read(&st, &headers).await?;
    let format = format_of(q.format.as_deref())?;
    let lang = q.lang.clone().unwrap_or_else(|| "zh".into());
    if lang != "zh" && lang != "en" {
        return Err(bad(format!("lang: '{lang}' is not zh or en")));
    }
    let (first, days, period) = report_days(&q)?;
    let (site, district) = (q.site.clone(), q.district.clone());
    let st2 = st.clone();
    let (rows, names) = with_store(&st, move |s| {
        let mut chosen: Vec<Site> = match &site {
            Some(id) => vec![visible_site(s, &p, id)?.0],
            None => s.sites()?.into_iter().filter(|x| p.sees(x)).collect(),
        };
        if let Some(d) = &district {
            chosen.retain(|x| &x.district == d);
        }
        let devices = s.devices()?;
        let mut rows = Vec::new();
        for site in chosen {
            let mns: Vec<String> = devices
                .iter()
                .filter(|d| d.site_id == site.id)
                .map(|d| d.mn.clone())
                .collect();
            let d = site_days(&st2, s, &site, &mns, first, days)?;
            rows.push((site, d));
        }
        let labels = s.labels()?;
        Ok((rows, labels))
    })
    .await?;
    let names = Names {
        zh: zh(&lang),
        labels: names
            .into_iter()
            .map(|l| ((l.kind.clone(), l.id.clone()), l))
            .collect(),
    };
    let z = names.zh;
    let mut detail = Table {
        name: if z { "逐日明细" } else { "days" }.into(),
        headers: heads(z, &DAY_HEADS),
        rows: Vec::new(),
    };
    let mut summary = Table {
        name: if z { "月度汇总" } else { "summary" }.into(),
        headers: heads(z, &SUMMARY_HEADS),
        rows: Vec::new(),
    };
    for (site, list) in &rows {
        for d in list {
            detail.rows.push(day_row(&names, site, d));
        }
        let mut factors: Vec<&str> = list.iter().map(|d| d.factor.as_str()).collect();
        factors.dedup();
        for f in factors {
            let of: Vec<&DayFactor> = list.iter().filter(|d| d.factor == f).collect();
            summary.rows.push(summary_row(&names, site, f, &of));
        }
    }
    let scope = match (&q.site, &q.district) {
        (Some(s), _) => rows.first().map_or(s.clone(), |(x, _)| names.site(x)),
        (None, Some(d)) => names.district(d),
        _ => (if z { "全部点位" } else { "all sites" }).to_string(),
    };
    let monthly = q.kind == "monthly";
    let title = match (z, monthly) {
        (true, false) => format!("水质监测日报 {period} · {scope}"),
        (true, true) => format!("水质监测月报 {period} · {scope}"),
        (false, false) => format!("Daily monitoring report {period} · {scope}"),
        (false, true) => format!("Monthly monitoring report {period} · {scope}"),
    };
    let note = if z {
        "日均值为有效（标记 N）实时/分钟数据的算术平均，按点位首个标准当日限值评价；在线率 = 有数据小时 ÷ 应有小时，有效数据率 = 有效小时 ÷ 应有小时（每日 24 小时，参照 HJ 356-2019，条款未核实）。"
    } else {
        "Daily means are arithmetic means of valid (flag N) real-time/minute values, judged against the day's limit of the site's first standard; online rate = hours with data ÷ expected hours, data validity = valid hours ÷ expected hours (24 a day, after HJ 356-2019; clause UNVERIFIED)."
    };
    let tables = if monthly {
        vec![summary, detail]
    } else {
        vec![detail]
    };
    let file = format!(
        "rewater-{}-{}-{}",
        q.kind,
        file_part(&period),
        file_part(q.site.as_deref().or(q.district.as_deref()).unwrap_or("all"))
    );
    respond(format, &file, &title, note, &tables, &lang)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SeriesExportQuery {
    site: String,
    /// HJ 212 code or name.
    factor: String,
    /// Start and end (exclusive): RFC 3339, YYYY-MM-DD or wall seconds; at most 62 days.
    from: String,
    to: String,
    /// csv (default) or xlsx.
    format: Option<String>,
    /// zh (default) or en.
    lang: Option<String>,
}

/// A site's readings of one factor (real-time and minute data) with their flags.
#[utoipa::path(get, path = "/api/exports/series", tag = "series", params(SeriesExportQuery),
    responses((status = 200, description = "the readings: text/csv or XLSX by `format`", content_type = "application/octet-stream", body = Vec<u8>),
        E400, E401, E403, E404))]
pub async fn series_export(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SeriesExportQuery>,
) -> Result<Response, ApiError> {
    let p = auth_read(&st, &headers).await?;
    let format = format_of(q.format.as_deref())?;
    if format == Format::Html {
        return Err(bad("format: a series is exported as csv or xlsx"));
    }
    let factor = Factor::parse(&q.factor)
        .map_err(|e| bad(format!("factor: {e}")))?
        .code()
        .to_string();
    let (from, to) = (
        parse_time(&st, "from", &q.from)?,
        parse_time(&st, "to", &q.to)?,
    );
    match to.checked_sub(from) {
        Some(d) if d > 0 && d <= crate::daily::MAX_DAYS * 86_400 => {}
        _ => return Err(bad("from/to: positive and at most 62 days")),
    }
    let (id, f2) = (q.site.clone(), factor.clone());
    let readings = with_store(&st, move |s| {
        let (_, mns) = visible_site(s, &p, &id)?;
        let mut out = Vec::new();
        for mn in mns {
            out.extend(s.readings(&mn, &f2, &["2011", "2051"], from, to)?);
        }
        Ok(out)
    })
    .await?;
    let z = q.lang.as_deref() != Some("en");
    let unit = Factor::parse(&factor)
        .map(|f| f.info().unit.as_str())
        .unwrap_or("");
    let t = Table {
        name: factor.clone(),
        headers: heads(
            z,
            &[
                ("时间", "time"),
                ("数采仪", "device"),
                ("代码", "code"),
                ("数值", "value"),
                ("单位", "unit"),
                ("标记", "flag"),
            ],
        ),
        rows: readings
            .iter()
            .map(|r| {
                vec![
                    text(st.zone.rfc3339_wall(r.data_time)),
                    text(&r.mn),
                    text(&r.factor),
                    opt(r.value),
                    text(unit),
                    text(r.flag.clone().unwrap_or_default()),
                ]
            })
            .collect(),
    };
    let file = format!("rewater-series-{}-{}", file_part(&q.site), factor);
    respond(format, &file, "", "", &[t], if z { "zh" } else { "en" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            name: "x".into(),
            headers: vec!["a".into(), "b".into()],
            rows: vec![
                vec![text("=cmd|'/c calc'!A1"), Cell::Num(-1.5)],
                vec![text("a,\"b\""), Cell::Empty],
            ],
        };
        let csv = to_csv(&[t]);
        assert!(csv.starts_with('\u{feff}'));
        assert!(csv.contains("'=cmd|'/c calc'!A1,-1.5\r\n"), "{csv}");
        assert!(csv.contains("\"a,\"\"b\"\"\",\r\n"), "{csv}");
    }

    #[test]
    fn html_escapes() {
        let t = Table {
            name: "<b>".into(),
            headers: vec!["h".into()],
            rows: vec![vec![text("<script>")]],
        };
        let h = to_html("t", "n", &[t], "zh");
        assert!(!h.contains("<script>") && h.contains("&lt;script&gt;"));
    }
}
