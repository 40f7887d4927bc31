//! The district's outfall self-report (各区入河排污口监督管理情况自查报告, due each 31 January)
//! as a download: Markdown, HTML or PDF (printed by the server's Chromium), with the year's
//! coverage, "dynamic zero", overdue records and the overflow outlets' spills. Operators get
//! their own district's only.

use crate::error::{bad, forbidden, internal, ApiError, E400, E401, E403};
use crate::extract::ApiQuery;
use crate::sites::auth_read;
use crate::tasks::download;
use crate::{auth, with_store, ApiState};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use rewater_outfalls::store as ls;
use rewater_reports::Lang;
use rewater_store::Role;
use serde::Deserialize;
use std::sync::OnceLock;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct SelfReportQuery {
    /// The district (operators: their own, the default).
    district: Option<String>,
    /// The reported year (default: last year, as the report is due on 31 January).
    year: Option<i32>,
    /// zh (default) or en.
    lang: Option<String>,
    /// html (default), md or pdf.
    format: Option<String>,
}

/// One PDF print at a time: each is a Chromium process.
fn print_slot() -> &'static tokio::sync::Semaphore {
    static S: OnceLock<tokio::sync::Semaphore> = OnceLock::new();
    S.get_or_init(|| tokio::sync::Semaphore::new(1))
}

/// The district self-report on river outfalls for a year, as a file.
#[utoipa::path(get, path = "/api/outfall-report", tag = "outfalls", params(SelfReportQuery),
    responses((status = 200, description = "the report as an attachment (text/markdown, text/html or application/pdf)", content_type = "application/octet-stream", body = Vec<u8>), E400, E401, E403))]
pub async fn self_report(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<SelfReportQuery>,
) -> Result<Response, ApiError> {
    let p = auth_read(&st, &headers).await?;
    let today = st.zone.today();
    let year = q.year.unwrap_or(today.ymd().0 - 1);
    if !(1990..=2200).contains(&year) {
        return Err(bad("year: 1990–2200"));
    }
    let lang = match q.lang.as_deref() {
        None => Lang::Zh,
        Some(l) => Lang::parse(l).ok_or_else(|| bad(format!("lang: '{l}' (zh or en)")))?,
    };
    let format = q.format.unwrap_or_else(|| "html".into());
    if !["html", "md", "pdf"].contains(&format.as_str()) {
        return Err(bad(format!("format: '{format}' (html, md or pdf)")));
    }
    let district = match (p.role, q.district) {
        (Role::Operator, None) => p.district.clone().unwrap_or_default(),
        (_, Some(d)) => d,
        (_, None) => return Err(bad("district: which district's report")),
    };
    if p.role == Role::Operator && p.district.as_deref() != Some(district.as_str()) {
        return Err(forbidden(format!(
            "{} may have the report of district '{}' only",
            p.name,
            p.district.as_deref().unwrap_or("")
        )));
    }
    let offset = st.zone.offset_s(auth::now_ms() / 1000);
    let cache = st.ledgers.clone();
    let d = district.clone();
    let report = with_store(&st, move |s| {
        let l = crate::outfalls::current_ledger(&cache, s)?;
        if !l.outfalls.iter().any(|o| o.district == d) {
            return Err(bad(format!("district: no outfall of '{d}' in the ledger")));
        }
        let recs = ls::rectifications(s, Some(&d)).map_err(|e| bad(e.to_string()))?;
        let spills =
            ls::spill_years(s, Some(&d), Some(year), None).map_err(|e| bad(e.to_string()))?;
        Ok(
            rewater_outfalls::report::self_report_data(&l, &recs, &d, year, today, offset)
                .with_spills(&spills),
        )
    })
    .await?;
    let stem = format!("outfall-self-report-{district}-{year}.{}", lang.code());
    match format.as_str() {
        "md" => {
            let text = rewater_outfalls::report::markdown(&report, lang.code());
            download(
                "text/markdown; charset=utf-8",
                &format!("{stem}.md"),
                text.into_bytes(),
            )
        }
        "html" => {
            let doc = rewater_reports::outfalls::self_report_doc(&report, lang);
            let html = rewater_reports::html::render(&doc);
            download(
                "text/html; charset=utf-8",
                &format!("{stem}.html"),
                html.into_bytes(),
            )
        }
        _ => {
            let browser = rewater_reports::pdf::find_chromium()
                .ok_or_else(|| bad("format: this server has no Chromium to print PDFs"))?;
            let _slot = print_slot()
                .acquire()
                .await
                .map_err(|e| internal(e.to_string()))?;
            let name = format!("{stem}.pdf");
            let bytes = tokio::task::spawn_blocking(move || {
                let doc = rewater_reports::outfalls::self_report_doc(&report, lang);
                let dir = std::env::temp_dir().join(format!(
                    "rewater-outfall-report-{}",
                    auth::new_secret()
                        .chars()
                        .filter(char::is_ascii_alphanumeric)
                        .take(16)
                        .collect::<String>()
                ));
                let written = rewater_reports::write(&doc, &dir, "report", Some(&browser));
                let bytes = written.map_err(|e| internal(e.to_string())).and_then(|w| {
                    let pdf = w.pdf.ok_or_else(|| internal("no PDF printed"))?;
                    std::fs::read(&pdf).map_err(|e| internal(e.to_string()))
                });
                let _ = std::fs::remove_dir_all(&dir);
                bytes
            })
            .await
            .map_err(|e| internal(e.to_string()))??;
            download("application/pdf", &name, bytes)
        }
    }
}
