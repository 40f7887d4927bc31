//! Names for people (issue 13): the factor table (Chinese and English names, units, the HJ 212
//! code as the secondary label) and the Chinese and English names of sites and districts, with
//! the public flag of supply points; administrators set them. The pages render every name from
//! here, in the page's language.

use crate::auth::authenticate;
use crate::error::{bad, ApiResult, E400, E401, E403};
use crate::extract::ApiJson;
use crate::sites::auth_read;
use crate::{auth, with_store, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_standards::Factor;
use rewater_store::Label;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One factor of the factor table.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FactorName {
    /// HJ 212 code (`w01018`), or rewater's own code where HJ 212 has none.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// The unit the values are in (mg/L, L/s, …).
    pub unit: String,
}

/// Names of a site or district.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelView {
    /// "site" or "district".
    pub kind: String,
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A site shown on the public disclosure page.
    #[serde(default)]
    pub public: bool,
}

impl From<Label> for LabelView {
    fn from(l: Label) -> LabelView {
        LabelView {
            kind: l.kind,
            id: l.id,
            name_zh: l.name_zh,
            name_en: l.name_en,
            public: l.public,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LabelsBody {
    pub factors: Vec<FactorName>,
    pub sites: Vec<LabelView>,
    pub districts: Vec<LabelView>,
}

/// Every factor's names and unit.
pub fn factor_names() -> Vec<FactorName> {
    Factor::all()
        .map(|f| {
            let i = f.info();
            FactorName {
                code: i.code.to_string(),
                name_zh: i.name_zh.to_string(),
                name_en: i.name_en.to_string(),
                unit: i.unit.as_str().to_string(),
            }
        })
        .collect()
}

/// The factor table and the names of sites and districts.
#[utoipa::path(get, path = "/api/labels", tag = "sites",
    responses((status = 200, description = "names by language", body = LabelsBody), E401))]
pub async fn labels(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult<LabelsBody> {
    auth_read(&st, &headers).await?;
    let all = with_store(&st, |s| Ok(s.labels()?)).await?;
    let (sites, districts): (Vec<Label>, Vec<Label>) =
        all.into_iter().partition(|l| l.kind == "site");
    Ok(Json(LabelsBody {
        factors: factor_names(),
        sites: sites.into_iter().map(LabelView::from).collect(),
        districts: districts.into_iter().map(LabelView::from).collect(),
    }))
}

/// Set the names of a site or district (administrators); audited.
#[utoipa::path(put, path = "/api/labels", tag = "sites", request_body = LabelView,
    responses((status = 200, description = "the label as stored", body = LabelView), E400, E401, E403))]
pub async fn put_label(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(l): ApiJson<LabelView>,
) -> ApiResult<LabelView> {
    let p = authenticate(&st, &headers, &method).await?;
    p.require_admin()?;
    let label = Label {
        kind: l.kind,
        id: l.id,
        name_zh: l.name_zh,
        name_en: l.name_en,
        public: l.public,
    };
    label.check().map_err(|e| bad(e.to_string()))?;
    let stored = label.clone();
    with_store(&st, move |s| {
        s.put_label(&label, &p.name, auth::now_ms())?;
        Ok(())
    })
    .await?;
    Ok(Json(LabelView::from(stored)))
}
