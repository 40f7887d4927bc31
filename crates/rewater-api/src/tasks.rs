//! The task registers (任务台账): the plans' tasks with their status on a day, progress
//! updates with evidence files (佐证材料), their download, and the river-chief patrol check.
//! District operators see and report only their district's progress; viewers only look.
//! Every change is audited by the store in the same transaction.

use crate::auth::{authenticate, Principal};
use crate::error::{bad, forbidden, internal, not_found, ApiError, ApiResult};
use crate::error::{E400, E401, E403, E404};
use crate::extract::{ApiJson, ApiQuery};
use crate::sites::auth_read;
use crate::{with_store, ApiState};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use rewater_store::tasks::{AttachmentInfo, NewAttachment, NewPatrol, NewProgress, ProgressFilter};
use rewater_store::Role;
use rewater_tasks::{RiverChiefRules, Status};
use rewater_time::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A progress update carries at most this much JSON (one 5 MiB file, base64, fits).
pub const MAX_PROGRESS_BODY_BYTES: usize = 8 << 20;

/// A department (责任单位).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// A register (任务台账) of a plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegisterView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub source: String,
}

/// A task with its status on the day asked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TaskView {
    pub register: String,
    pub id: String,
    pub seq: u32,
    pub title_zh: String,
    pub title_en: String,
    /// Lead departments (ids).
    pub lead: Vec<String>,
    /// Cooperating departments (ids).
    pub cooperating: Vec<String>,
    pub deadline: String,
    /// stated or plan-period.
    pub deadline_confidence: String,
    pub indicator: Option<String>,
    pub source: String,
    pub quote: Option<String>,
    /// overdue, due_soon, on_track or done.
    pub status: String,
    pub percent: u8,
    pub done_on: Option<String>,
    /// Done after its deadline.
    pub late: bool,
    pub updates: usize,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TasksBody {
    /// The day the status is for.
    pub today: String,
    /// The district whose progress counts (operators: theirs; none: every update).
    pub district: Option<String>,
    pub registers: Vec<RegisterView>,
    pub departments: Vec<DepartmentView>,
    pub tasks: Vec<TaskView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    pub register: Option<String>,
    /// A department id: tasks it leads or cooperates on.
    pub department: Option<String>,
    /// overdue, due_soon, on_track, done.
    pub status: Option<String>,
    /// Administrators and viewers: count only this district's progress.
    pub district: Option<String>,
    /// YYYY-MM-DD (default: today in the server's zone).
    pub today: Option<String>,
}

/// The district whose progress a caller sees: an operator's own; others what they ask.
fn district_of(p: &Principal, asked: Option<String>) -> Result<Option<String>, ApiError> {
    match p.role {
        Role::Operator => {
            let mine = p.district.clone();
            if asked.is_some() && asked != mine {
                return Err(forbidden(format!(
                    "{} sees district '{}' only",
                    p.name,
                    mine.as_deref().unwrap_or("")
                )));
            }
            Ok(mine)
        }
        _ => Ok(asked),
    }
}

fn parse_day(s: Option<&str>, st: &ApiState, field: &str) -> Result<Date, ApiError> {
    match s {
        Some(s) => s
            .parse()
            .map_err(|_| bad(format!("{field}: '{s}' is not a date YYYY-MM-DD"))),
        None => Ok(st.zone.today()),
    }
}

fn bundled() -> Result<(rewater_tasks::Departments, Vec<rewater_tasks::Register>), ApiError> {
    rewater_tasks::bundled().map_err(|e| internal(e.to_string()))
}

/// The tasks of the bundled registers with their status (operators: by their district's
/// progress).
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, description = "tasks with status", body = TasksBody), E400, E401, E403))]
pub async fn tasks(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<TaskQuery>,
) -> ApiResult<TasksBody> {
    let p = auth_read(&st, &headers).await?;
    let district = district_of(&p, q.district)?;
    let today = parse_day(q.today.as_deref(), &st, "today")?;
    let status = q
        .status
        .as_deref()
        .map(|s| {
            Status::parse(s)
                .ok_or_else(|| bad(format!("status: '{s}' (overdue, due_soon, on_track, done)")))
        })
        .transpose()?;
    let (deps, regs) = bundled()?;
    if let Some(d) = q.department.as_deref().filter(|d| deps.by_id(d).is_none()) {
        return Err(bad(format!("department: no department '{d}'")));
    }
    let filter = ProgressFilter {
        district: district.clone(),
        ..Default::default()
    };
    let progress = with_store(&st, move |s| Ok(s.progress(&filter)?)).await?;
    let mut tasks = Vec::new();
    for r in regs
        .iter()
        .filter(|r| q.register.as_ref().is_none_or(|x| *x == r.id))
    {
        for row in rewater_tasks::task_rows(r, &progress, today) {
            let wanted = status.is_none_or(|s| s == row.status)
                && q.department.as_ref().is_none_or(|d| row.task.involves(d));
            if wanted {
                tasks.push(task_view(row));
            }
        }
    }
    Ok(Json(TasksBody {
        today: today.to_string(),
        district,
        registers: regs
            .iter()
            .map(|r| RegisterView {
                id: r.id.clone(),
                name_zh: r.name_zh.clone(),
                name_en: r.name_en.clone(),
                source: r.source.clone(),
            })
            .collect(),
        departments: deps
            .list
            .iter()
            .map(|d| DepartmentView {
                id: d.id.clone(),
                name_zh: d.zh.first().cloned().unwrap_or_default(),
                name_en: d.en.clone(),
            })
            .collect(),
        tasks,
    }))
}

fn task_view(row: rewater_tasks::TaskRow) -> TaskView {
    let t = row.task;
    TaskView {
        register: row.register,
        id: t.id,
        seq: t.seq,
        title_zh: t.title_zh,
        title_en: t.title_en,
        lead: t.lead,
        cooperating: t.cooperating,
        deadline: t.deadline.to_string(),
        deadline_confidence: t.deadline_confidence,
        indicator: t.indicator,
        source: t.source,
        quote: t.quote,
        status: row.status.id().to_string(),
        percent: row.percent,
        done_on: row.done_on.map(|d| d.to_string()),
        late: row.late,
        updates: row.updates,
    }
}

/// A progress update as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProgressView {
    pub id: i64,
    pub register: String,
    pub task: String,
    pub district: Option<String>,
    pub percent: u8,
    pub done_on: Option<String>,
    pub note: String,
    pub who: String,
    /// RFC 3339 in the server's zone.
    pub time: String,
    pub attachments: Vec<AttachmentView>,
}

/// An evidence file; download it from `url`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AttachmentView {
    pub id: i64,
    pub name: String,
    pub media_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub url: String,
}

fn attachment_view(a: AttachmentInfo) -> AttachmentView {
    AttachmentView {
        url: format!("/api/attachments/{}", a.id),
        id: a.id,
        name: a.name,
        media_type: a.media_type,
        size_bytes: a.size_bytes,
        sha256: a.sha256,
    }
}

fn progress_view(st: &ApiState, p: rewater_store::tasks::Progress) -> ProgressView {
    ProgressView {
        id: p.id,
        register: p.register,
        task: p.task,
        district: p.district,
        percent: p.percent,
        done_on: p.done_on.map(|d| d.to_string()),
        note: p.note,
        who: p.who,
        time: st.zone.rfc3339_ms(p.at_ms),
        attachments: p.attachments.into_iter().map(attachment_view).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressBody {
    pub progress: Vec<ProgressView>,
}

/// The progress updates of a task, oldest first (operators: their district's).
#[utoipa::path(get, path = "/api/tasks/{register}/{task}/progress", tag = "tasks",
    params(("register" = String, Path), ("task" = String, Path)),
    responses((status = 200, description = "progress updates", body = ProgressBody), E401, E404))]
pub async fn task_progress(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path((register, task)): Path<(String, String)>,
) -> ApiResult<ProgressBody> {
    let p = auth_read(&st, &headers).await?;
    find_task(&register, &task)?;
    let filter = ProgressFilter {
        register: Some(register),
        task: Some(task),
        district: district_of(&p, None)?,
    };
    let list = with_store(&st, move |s| Ok(s.progress(&filter)?)).await?;
    let progress = list.into_iter().map(|p| progress_view(&st, p)).collect();
    Ok(Json(ProgressBody { progress }))
}

fn find_task(register: &str, task: &str) -> Result<(), ApiError> {
    let (_, regs) = bundled()?;
    let r = regs
        .iter()
        .find(|r| r.id == register)
        .ok_or_else(|| not_found(format!("no register '{register}'")))?;
    r.task(task)
        .map(|_| ())
        .ok_or_else(|| not_found(format!("register {register} has no task '{task}'")))
}

/// An evidence file in a progress update: its bytes in base64.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAttachmentBody {
    pub name: String,
    /// application/pdf, image/png, image/jpeg, text/plain or text/csv (checked against
    /// the content).
    pub media_type: String,
    pub content_base64: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProgressBody {
    /// 0–100.
    pub percent: u8,
    /// The day the task was completed (needs percent 100), YYYY-MM-DD.
    pub done_on: Option<String>,
    #[serde(default)]
    pub note: String,
    /// Operators: their own district (the default); others: any or none (whole region).
    pub district: Option<String>,
    #[serde(default)]
    pub attachments: Vec<NewAttachmentBody>,
}

/// Report progress on a task, with evidence (operators: for their district only); audited.
#[utoipa::path(post, path = "/api/tasks/{register}/{task}/progress", tag = "tasks",
    params(("register" = String, Path), ("task" = String, Path)), request_body = NewProgressBody,
    responses((status = 200, description = "the stored update", body = ProgressView), E400, E401, E403, E404))]
pub async fn add_progress(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path((register, task)): Path<(String, String)>,
    ApiJson(b): ApiJson<NewProgressBody>,
) -> ApiResult<ProgressView> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    find_task(&register, &task)?;
    let district = match p.role {
        Role::Operator => district_of(&p, b.district)?,
        _ => b.district,
    };
    let mut attachments = Vec::with_capacity(b.attachments.len());
    for (i, a) in b.attachments.into_iter().enumerate() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(a.content_base64.as_bytes())
            .map_err(|e| bad(format!("attachments[{i}].content_base64: {e}")))?;
        attachments.push(NewAttachment {
            name: a.name,
            media_type: a.media_type,
            bytes,
        });
    }
    let done_on = b
        .done_on
        .as_deref()
        .map(|d| parse_day(Some(d), &st, "done_on"))
        .transpose()?;
    let new = NewProgress {
        register: register.clone(),
        task: task.clone(),
        district,
        percent: b.percent,
        done_on,
        note: b.note,
        who: p.name.clone(),
        at_ms: crate::auth::now_ms(),
        attachments,
    };
    let stored = with_store(&st, move |s| {
        let id = s.add_progress(&new)?;
        let f = ProgressFilter {
            register: Some(register),
            task: Some(task),
            district: None,
        };
        s.progress(&f)?
            .into_iter()
            .find(|p| p.id == id)
            .ok_or_else(|| internal("the stored update is gone"))
    })
    .await?;
    Ok(Json(progress_view(&st, stored)))
}

/// Download an evidence file (operators: of their district's updates only).
#[utoipa::path(get, path = "/api/attachments/{id}", tag = "tasks", params(("id" = i64, Path)),
    responses((status = 200, description = "the file, as an attachment", content_type = "application/octet-stream", body = Vec<u8>), E401, E403, E404))]
pub async fn attachment(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let p = auth_read(&st, &headers).await?;
    let a = with_store(&st, move |s| Ok(s.attachment(id)?))
        .await?
        .ok_or_else(|| not_found(format!("no attachment {id}")))?;
    if p.role == Role::Operator && a.district != p.district {
        return Err(forbidden(format!(
            "attachment {id} belongs to another district"
        )));
    }
    download(&a.info.media_type, &a.info.name, a.bytes)
}

/// A file answer with its type and a download name (RFC 6266, UTF-8 name percent-encoded).
pub(crate) fn download(media_type: &str, name: &str, bytes: Vec<u8>) -> Result<Response, ApiError> {
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!("attachment; filename=\"download\"; filename*=UTF-8''{encoded}");
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(media_type).map_err(|e| internal(e.to_string()))?,
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).map_err(|e| internal(e.to_string()))?,
    );
    Ok(r)
}

/// A river chief with the periods short of the required patrols.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiverChiefView {
    pub id: String,
    pub name: String,
    pub level: String,
    pub level_zh: String,
    pub level_en: String,
    pub water_body: String,
    pub district: Option<String>,
    pub since: String,
    /// Periods (from, to, patrols, required) with too few patrols.
    pub short: Vec<ShortPeriod>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ShortPeriod {
    pub from: String,
    pub to: String,
    pub patrols: u32,
    pub required: u32,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RiverChiefsBody {
    pub today: String,
    /// The rule's source (seed 001).
    pub source: String,
    pub chiefs: Vec<RiverChiefView>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ChiefQuery {
    /// Check periods ended by this day, YYYY-MM-DD (default today).
    pub today: Option<String>,
}

/// River chiefs (operators: of their district) with their missed patrol periods.
#[utoipa::path(get, path = "/api/river-chiefs", tag = "tasks", params(ChiefQuery),
    responses((status = 200, description = "river chiefs and patrol check", body = RiverChiefsBody), E400, E401))]
pub async fn river_chiefs(
    State(st): State<ApiState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ChiefQuery>,
) -> ApiResult<RiverChiefsBody> {
    let p = auth_read(&st, &headers).await?;
    let today = parse_day(q.today.as_deref(), &st, "today")?;
    let rules = RiverChiefRules::bundled().map_err(|e| internal(e.to_string()))?;
    let district = district_of(&p, None)?;
    let (chiefs, patrols) = with_store(&st, move |s| {
        let chiefs = s.river_chiefs(district.as_deref())?;
        let from = chiefs.iter().map(|c| c.since).min().unwrap_or(today);
        Ok((chiefs, s.patrols(None, from, today)?))
    })
    .await?;
    let mut out = Vec::with_capacity(chiefs.len());
    for c in chiefs {
        let short = rewater_tasks::check_patrols(&rules, &c, &patrols, c.since, today)
            .map_err(bad)?
            .into_iter()
            .map(|f| ShortPeriod {
                from: f.from.to_string(),
                to: f.to.to_string(),
                patrols: f.patrols,
                required: f.required,
            })
            .collect();
        let level = rules.level(&c.level);
        out.push(RiverChiefView {
            level_zh: level.map(|l| l.zh.clone()).unwrap_or_default(),
            level_en: level.map(|l| l.en.clone()).unwrap_or_default(),
            id: c.id,
            name: c.name,
            level: c.level,
            water_body: c.water_body,
            district: c.district,
            since: c.since.to_string(),
            short,
        });
    }
    Ok(Json(RiverChiefsBody {
        today: today.to_string(),
        source: rules.source,
        chiefs: out,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatrolBody {
    /// YYYY-MM-DD.
    pub on: String,
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PatrolId {
    pub id: i64,
}

/// Log a patrol of a river chief (operators: of their district); audited.
#[utoipa::path(post, path = "/api/river-chiefs/{id}/patrols", tag = "tasks",
    params(("id" = String, Path)), request_body = NewPatrolBody,
    responses((status = 200, description = "the patrol's id", body = PatrolId), E400, E401, E403, E404))]
pub async fn log_patrol(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<NewPatrolBody>,
) -> ApiResult<PatrolId> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_writer()?;
    let on = parse_day(Some(&b.on), &st, "on")?;
    let who = p.name.clone();
    let id = with_store(&st, move |s| {
        let chief = s
            .river_chiefs(None)?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| not_found(format!("no river chief '{id}'")))?;
        if p.role == Role::Operator && chief.district != p.district {
            return Err(forbidden(format!(
                "river chief {id} is of another district"
            )));
        }
        Ok(s.log_patrol(&NewPatrol {
            chief: id,
            on,
            note: b.note,
            who,
            at_ms: crate::auth::now_ms(),
        })?)
    })
    .await?;
    Ok(Json(PatrolId { id }))
}

/// The larger body limit of the progress route (evidence files in base64).
pub(crate) fn evidence_body(
    r: utoipa_axum::router::UtoipaMethodRouter<ApiState>,
) -> utoipa_axum::router::UtoipaMethodRouter<ApiState> {
    let (schemas, paths, method_router) = r;
    let method_router = method_router.layer(axum::extract::DefaultBodyLimit::max(
        MAX_PROGRESS_BODY_BYTES,
    ));
    (schemas, paths, method_router)
}
