//! Importing into the outfall ledger over HTTP (入河排污口台账导入): one file per request — a
//! table as CSV (its name says which: `outfalls.csv`, `reaches.csv`…), an XLSX workbook or a
//! GeoJSON file — merged onto the current ledger and checked as a whole; all or nothing, as
//! from the command line. Administrators only. The body is streamed to a private temporary
//! file, at most the import limit of the ledger crate, one import at a time, within a time
//! limit: a slow or endless upload cannot hold memory, disk or the import for long.

use crate::auth::authenticate;
use crate::error::{bad, internal, too_many, ApiError, ApiResult, E400, E401, E403, E413, E429};
use crate::extract::ApiQuery;
use crate::{audit, auth, with_store, ApiState};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::Json;
use http_body_util::BodyExt;
use rewater_outfalls::io::{self, ImportReport, MAX_FILE_BYTES};
use rewater_outfalls::store as ls;
use rewater_outfalls::CheckOptions;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};

/// How long one upload may take to arrive.
pub const IMPORT_UPLOAD_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Deserialize, IntoParams)]
pub struct ImportQuery {
    /// The file's name: TABLE.csv (water_bodies, reaches, sections, outfalls, channels,
    /// dischargers, links), NAME.xlsx or NAME.geojson.
    file: String,
    /// Outfall codes off the (UNVERIFIED) HJ 1235 layout refuse the import (default: warn).
    #[serde(default)]
    strict_codes: bool,
    /// Why (kept with every new version; default "import FILE").
    reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ImportBody {
    /// What the file held and the warnings (rewater_outfalls::io::ImportReport).
    #[schema(value_type = Object)]
    pub report: ImportReport,
    pub new_versions: usize,
    pub unchanged: usize,
}

/// A plain file name with a known extension; nothing that could leave the temporary folder.
fn checked_name(name: &str) -> Result<&str, ApiError> {
    let (stem, ext) = name
        .rsplit_once('.')
        .ok_or_else(|| bad("file: NAME.csv, NAME.xlsx or NAME.geojson"))?;
    let plain = !stem.is_empty()
        && stem.len() <= 64
        && stem
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !plain {
        return Err(bad(format!(
            "file: '{name}' — letters, digits, '_' and '-' before the extension only"
        )));
    }
    match ext.to_ascii_lowercase().as_str() {
        "csv" | "xlsx" | "geojson" | "json" => Ok(name),
        e => Err(bad(format!("file: '.{e}' (csv, xlsx or geojson)"))),
    }
}

/// Streams the body into `path`, refusing more than [`MAX_FILE_BYTES`].
async fn receive(body: Body, path: &Path) -> Result<u64, ApiError> {
    let mut f = std::fs::File::create(path).map_err(|e| internal(e.to_string()))?;
    let mut body = body;
    let mut n: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| bad(format!("reading the upload: {e}")))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        n += chunk.len() as u64;
        if n > MAX_FILE_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the file is larger than {} MiB", MAX_FILE_BYTES >> 20),
            ));
        }
        f.write_all(&chunk).map_err(|e| internal(e.to_string()))?;
    }
    f.sync_all().map_err(|e| internal(e.to_string()))?;
    Ok(n)
}

/// Removes the upload's folder however the request ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Import one file into the ledger (administrators): merged onto the current ledger, checked
/// whole, stored as new versions of what changed, audited. Errors name the file, row and field.
#[utoipa::path(post, path = "/api/outfalls/import", tag = "outfalls", params(ImportQuery),
    request_body(content = String, description = "the file's bytes", content_type = "application/octet-stream"),
    responses((status = 200, description = "imported", body = ImportBody), E400, E401, E403, E413, E429))]
pub async fn import(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ImportQuery>,
    body: Body,
) -> ApiResult<ImportBody> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let name = checked_name(&q.file)?.to_string();
    let reason = q.reason.unwrap_or_else(|| format!("import {name}"));
    if reason.trim().is_empty() || reason.chars().count() > 500 {
        return Err(bad("reason: 1–500 characters"));
    }
    let slots = st.ledgers.clone();
    let _slot = slots
        .import_slot
        .try_acquire()
        .map_err(|_| too_many("another ledger import is running", 5))?;
    let dir = TempDir(std::env::temp_dir().join(format!(
        "rewater-outfall-import-{}",
        auth::new_secret()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(16)
            .collect::<String>()
    )));
    std::fs::create_dir(&dir.0).map_err(|e| internal(e.to_string()))?;
    let path = dir.0.join(&name);
    tokio::time::timeout(IMPORT_UPLOAD_TIMEOUT, receive(body, &path))
        .await
        .map_err(|_| bad("the upload took longer than 120 s"))??;
    let strict = q.strict_codes;
    let who = p.name.clone();
    let cache = st.ledgers.clone();
    let (report, put) = with_store(&st, move |s| {
        let base = crate::outfalls::current_ledger(&cache, s)?;
        let (ledger, report) = io::import(
            &base,
            &[path.as_path()],
            CheckOptions {
                strict_codes: strict,
            },
        )
        .map_err(|e| bad(e.to_string()))?;
        let now = auth::now_ms();
        let put =
            ls::save_ledger(s, &ledger, &who, &reason, now).map_err(|e| bad(e.to_string()))?;
        audit(
            s,
            &who,
            "outfalls.import",
            &name,
            &format!("{} new versions", put.new_versions),
        );
        Ok((report, put))
    })
    .await?;
    drop(dir);
    Ok(Json(ImportBody {
        report,
        new_versions: put.new_versions,
        unchanged: put.unchanged,
    }))
}
