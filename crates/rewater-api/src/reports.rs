//! Report generation and download (报告): the pilot annual and final reports, the
//! plan-progress report and district scorecards of a scenario model, in HTML and (when the
//! server has Chromium) PDF, with the task register's progress from the store. District
//! operators generate and download only their own district's scorecard.

use crate::auth::{authenticate, Principal};
use crate::error::{bad, forbidden, internal, not_found, ApiError, ApiResult};
use crate::error::{E400, E401, E403, E404};
use crate::extract::ApiJson;
use crate::scenarios::scenarios;
use crate::sites::auth_read;
use crate::tasks::download;
use crate::{with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::Json;
use rewater_reports::{Lang, ReportKind};
use rewater_store::tasks::ProgressFilter;
use rewater_store::Role;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use utoipa::ToSchema;

/// Reports kept by this server process (id → where and whose); the newest [`KEPT`].
struct Kept {
    dir: PathBuf,
    /// The district a district scorecard is of (operators may fetch only theirs).
    district: Option<String>,
    files: Vec<String>,
}

/// How many generated reports the server keeps for download.
pub const KEPT: usize = 50;

/// Report ids oldest first, and each report's record.
type KeptTable = (Vec<String>, HashMap<String, Kept>);

fn table() -> &'static Mutex<KeptTable> {
    static T: OnceLock<Mutex<KeptTable>> = OnceLock::new();
    T.get_or_init(Default::default)
}

/// A report kind with its names.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportKindView {
    /// pilot-annual, pilot-final, plan-progress, district.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportKindsBody {
    pub kinds: Vec<ReportKindView>,
    /// Scenario models a report can be made of.
    pub models: Vec<String>,
    /// Whether PDFs can be printed here (Chromium found).
    pub pdf: bool,
}

fn kind_label(k: ReportKind) -> &'static str {
    match k {
        ReportKind::PilotAnnual => "pilot_annual",
        ReportKind::PilotFinal => "pilot_final",
        ReportKind::PlanProgress => "plan_progress",
        ReportKind::District => "district_scorecard",
    }
}

/// The reports this server makes and the models it can make them of.
#[utoipa::path(get, path = "/api/reports", tag = "reports",
    responses((status = 200, description = "report kinds and models", body = ReportKindsBody), E401))]
pub async fn report_kinds(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<ReportKindsBody> {
    auth_read(&st, &headers).await?;
    let models = match st.platform.scenarios.as_ref() {
        Some(sc) => sc
            .models
            .lock()
            .map_err(|_| internal("models lock poisoned"))?
            .iter()
            .map(|m| m.name.clone())
            .collect(),
        None => vec![],
    };
    Ok(Json(ReportKindsBody {
        kinds: ReportKind::ALL
            .iter()
            .map(|&k| ReportKindView {
                id: k.id().to_string(),
                name_zh: rewater_reports::labels::t(kind_label(k), Lang::Zh),
                name_en: rewater_reports::labels::t(kind_label(k), Lang::En),
            })
            .collect(),
        models,
        pdf: rewater_reports::pdf::find_chromium().is_some(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    /// pilot-annual, pilot-final, plan-progress or district.
    pub kind: String,
    /// A scenario model's name.
    pub model: String,
    /// zh (default) or en.
    pub lang: Option<String>,
    /// For a district scorecard (operators: their own, the default).
    pub district: Option<String>,
    /// For the annual report: the calendar year.
    pub year: Option<i32>,
    /// Also print a PDF (default true when the server has Chromium).
    pub pdf: Option<bool>,
}

/// A generated file to download.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportFile {
    pub name: String,
    pub media_type: String,
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReportBody {
    pub id: String,
    pub files: Vec<ReportFile>,
}

fn check_access(
    p: &Principal,
    kind: ReportKind,
    district: &Option<String>,
) -> Result<(), ApiError> {
    if p.role != Role::Operator {
        return Ok(());
    }
    if kind != ReportKind::District || *district != p.district {
        return Err(forbidden(format!(
            "{} may make the scorecard of district '{}' only",
            p.name,
            p.district.as_deref().unwrap_or("")
        )));
    }
    Ok(())
}

fn media(name: &str) -> &'static str {
    if name.ends_with(".pdf") {
        "application/pdf"
    } else {
        "text/html; charset=utf-8"
    }
}

/// Generate a report of a scenario model (with the store's task progress and alerts).
#[utoipa::path(post, path = "/api/reports", tag = "reports", request_body = NewReport,
    responses((status = 200, description = "the generated files", body = ReportBody), E400, E401, E403, E404))]
pub async fn generate_report(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(r): ApiJson<NewReport>,
) -> ApiResult<ReportBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let kind = ReportKind::parse(&r.kind).ok_or_else(|| {
        bad(format!(
            "kind: '{}' (pilot-annual, pilot-final, plan-progress, district)",
            r.kind
        ))
    })?;
    let lang = match r.lang.as_deref() {
        None => Lang::Zh,
        Some(l) => Lang::parse(l).ok_or_else(|| bad(format!("lang: '{l}' (zh or en)")))?,
    };
    let district = match (p.role, &r.district) {
        (Role::Operator, None) if kind == ReportKind::District => p.district.clone(),
        _ => r.district.clone(),
    };
    check_access(&p, kind, &district)?;
    let sc = scenarios(&st)?.clone();
    let model = sc
        .model(&r.model)?
        .ok_or_else(|| not_found(format!("no model '{}'", r.model)))?;
    let (progress, alerts, sites) = with_store(&st, |s| {
        Ok((
            s.progress(&ProgressFilter::default())?,
            s.alerts(None, None, 100_000)?,
            s.sites()?,
        ))
    })
    .await?;
    let browser = match r.pdf {
        Some(false) => None,
        _ => rewater_reports::pdf::find_chromium(),
    };
    if r.pdf == Some(true) && browser.is_none() {
        return Err(bad("pdf: this server has no Chromium to print PDFs"));
    }
    let id = crate::auth::new_secret()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect::<String>();
    let dir = sc.dir.join("reports").join(&id);
    let req = rewater_reports::generate::Request {
        kind,
        lang,
        district: district.clone(),
        year: r.year,
        today: st.zone.today(),
        browser,
        progress,
        alerts: Some(alerts),
        sites,
        indicators: None,
        model_dir: model
            .path
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
    };
    let model_name = model.name.clone();
    let gen_dir = dir.clone();
    let written = tokio::task::spawn_blocking(move || {
        let region = sc.load(&model).map_err(bad)?;
        // An uploaded model names bundled target sets only: no file outside its folder is read.
        if model.uploaded && region.targets.sets.iter().any(|s| s.ends_with(".toml")) {
            return Err(bad("an uploaded model may use bundled target sets only"));
        }
        rewater_reports::generate::generate(&region, &model_name, &sc.standards, req, &gen_dir)
            .map_err(|e| match e {
                rewater_reports::ReportError::NoDistrict { .. }
                | rewater_reports::ReportError::UnknownDistrict { .. }
                | rewater_reports::ReportError::Collect(_) => bad(e.to_string()),
                e => internal(e.to_string()),
            })
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    let files: Vec<String> = std::iter::once(written.html)
        .chain(written.pdf)
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    tracing::info!(who = %p.name, kind = kind.id(), id = %id, "report generated");
    crate::with_store(&st, {
        let (who, target, detail) = (
            p.name.clone(),
            id.clone(),
            format!("{} {}", kind.id(), r.model),
        );
        move |s| {
            crate::audit(s, &who, "report.generate", &target, &detail);
            Ok(())
        }
    })
    .await?;
    let body = ReportBody {
        id: id.clone(),
        files: files
            .iter()
            .map(|n| ReportFile {
                name: n.clone(),
                media_type: media(n).to_string(),
                url: format!("/api/reports/{id}/{n}"),
            })
            .collect(),
    };
    let mut t = table()
        .lock()
        .map_err(|_| internal("reports lock poisoned"))?;
    t.0.push(id.clone());
    t.1.insert(
        id,
        Kept {
            dir,
            district: if kind == ReportKind::District {
                district
            } else {
                None
            },
            files,
        },
    );
    while t.0.len() > KEPT {
        let old = t.0.remove(0);
        if let Some(k) = t.1.remove(&old) {
            let _ = std::fs::remove_dir_all(&k.dir);
        }
    }
    Ok(Json(body))
}

/// Download a generated report file.
#[utoipa::path(get, path = "/api/reports/{id}/{file}", tag = "reports",
    params(("id" = String, Path), ("file" = String, Path)),
    responses((status = 200, description = "the file", content_type = "application/octet-stream", body = Vec<u8>), E401, E403, E404))]
pub async fn report_file(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path((id, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let p = auth_read(&st, &headers).await?;
    let path = {
        let t = table()
            .lock()
            .map_err(|_| internal("reports lock poisoned"))?;
        let k =
            t.1.get(&id)
                .ok_or_else(|| not_found(format!("no report '{id}'")))?;
        // Only the names this server wrote: no path from the request reaches the disk.
        if !k.files.contains(&file) {
            return Err(not_found(format!("report {id} has no file '{file}'")));
        }
        if p.role == Role::Operator && (k.district.is_none() || k.district != p.district) {
            return Err(forbidden(format!(
                "report {id} is not of {}'s district",
                p.name
            )));
        }
        k.dir.join(&file)
    };
    let bytes = tokio::task::spawn_blocking(move || {
        std::fs::read(&path).map_err(|e| internal(format!("{}: {e}", path.display())))
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    download(media(&file), &file, bytes)
}
