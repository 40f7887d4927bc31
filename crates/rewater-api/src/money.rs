//! Money (资金, issue 17): the rule sets, and the ledgers of rewater-money computed from the
//! tables a client sends (CSV text in JSON: project lists, rural facilities and stations,
//! boundary sections with monthly values, plants' months) or from the store (sections'
//! monthly means) and a scenario's run (reclaimed-water cost). Nothing is kept. Only bundled
//! rule sets are used (no file named over the network is opened). District operators get
//! their district's rows only: its projects, facilities and stations; the compensation
//! months where it pays or receives and its own settlement; its plants' costs.

use crate::auth::{authenticate, Principal};
use crate::error::{bad, internal, not_found, too_many, ApiResult, E400, E401, E404, E429};
use crate::extract::{ApiJson, ApiQuery};
use crate::scenarios::scenarios;
use crate::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_money::compensation::{Compensation, MUNICIPAL};
use rewater_money::{Areas, Lang, RuleBook, Table};
use rewater_store::Role;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::{IntoParams, ToSchema};

fn book() -> &'static RuleBook {
    static B: OnceLock<RuleBook> = OnceLock::new();
    B.get_or_init(RuleBook::bundled)
}

fn areas() -> &'static Areas {
    static A: OnceLock<Areas> = OnceLock::new();
    A.get_or_init(Areas::bundled)
}

fn lang(s: &Option<String>) -> Result<Lang, crate::error::ApiError> {
    s.as_deref().unwrap_or("zh").parse().map_err(bad)
}

/// The operator's district, None for others.
fn scope(p: &Principal) -> Option<String> {
    match p.role {
        Role::Operator => Some(p.district.clone().unwrap_or_default()),
        _ => None,
    }
}

fn district_name(d: &str, lang: Lang) -> String {
    if d == MUNICIPAL {
        match lang {
            Lang::Zh => "市级".into(),
            Lang::En => "municipal pool".into(),
        }
    } else {
        areas().name(d, lang)
    }
}

#[derive(Serialize, ToSchema)]
pub struct RuleSetView {
    pub id: String,
    pub version: String,
    /// funding, base_rate, compensation, fees, price, cost.
    pub kind: String,
    #[schema(value_type = Object)]
    pub title: rewater_money::Text,
    pub document: String,
    pub url: Option<String>,
    pub valid_from: String,
    pub valid_to: Option<String>,
    /// The weakest confidence of the set and its rules (unverified is shown as UNVERIFIED).
    pub confidence: String,
}

#[derive(Serialize, ToSchema)]
pub struct MoneyRulesBody {
    pub sets: Vec<RuleSetView>,
    /// Districts with their area classes and townships.
    #[schema(value_type = Object)]
    pub areas: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct MoneyExamplesBody {
    /// examples/money: invented input tables (CSV text) for each ledger.
    pub projects: String,
    pub facilities: String,
    pub stations: String,
    pub sections: String,
    pub values: String,
    pub months: String,
    /// The year of the example's monthly values.
    pub year: i32,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerBody {
    /// Tables: {id, title {zh,en}, columns [{zh,en}], rows [[cell]], notes [{zh,en}], unverified}.
    #[schema(value_type = Vec<Object>)]
    pub tables: Vec<Table>,
    /// Whether any figure rests on an unverified rule (shown as UNVERIFIED).
    pub unverified: bool,
    /// The district the rows were limited to (operators).
    pub district: Option<String>,
}

fn ledger(tables: Vec<Table>, district: Option<String>) -> Json<LedgerBody> {
    Json(LedgerBody {
        unverified: tables.iter().any(|t| t.unverified),
        tables,
        district,
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FundingRequest {
    /// The project list as CSV text (docs/money.md for its columns).
    pub projects: String,
    /// Funding rule sets tried in order (default jzf-2023-6, jzf-2023-7).
    #[serde(default)]
    pub sets: Vec<String>,
    pub lang: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubsidiesRequest {
    pub facilities: Option<String>,
    pub stations: Option<String>,
    pub rate_set: Option<String>,
    pub lang: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompensationRequest {
    /// Boundary sections as CSV text.
    pub sections: String,
    /// Entered monthly values as CSV text (section,month,factor,value); they win over the store's.
    pub values: Option<String>,
    pub year: i32,
    /// The rule set (default bj-compensation-2014).
    pub rule: Option<String>,
    /// Read the sections' monthly means from the store (their `site` column).
    #[serde(default)]
    pub from_store: bool,
    pub lang: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeesRequest {
    /// Plants' months as CSV text.
    pub months: String,
    pub contracts: Option<String>,
    pub lang: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct LangQuery {
    /// zh (default) or en.
    lang: Option<String>,
}

/// The bundled money rule sets with their documents, validity and confidence, and the areas.
#[utoipa::path(get, path = "/api/money/rules", tag = "money",
    responses((status = 200, description = "rule sets", body = MoneyRulesBody), E401))]
pub async fn rules(State(st): State<ApiState>, headers: HeaderMap) -> ApiResult<MoneyRulesBody> {
    authenticate(&st, &headers, &Method::GET).await?;
    let sets = book()
        .sets
        .values()
        .map(|s| RuleSetView {
            id: s.id.clone(),
            version: s.version.clone(),
            kind: serde_json::to_value(s.kind)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
            title: s.title.clone(),
            document: s.document.clone(),
            url: s.url.clone(),
            valid_from: s.valid_from.clone(),
            valid_to: s.valid_to.clone(),
            confidence: s.weakest().label(Lang::En).to_string(),
        })
        .collect();
    Ok(Json(MoneyRulesBody {
        sets,
        areas: serde_json::to_value(areas()).map_err(|e| internal(e.to_string()))?,
    }))
}

/// The example input tables of examples/money (invented figures).
#[utoipa::path(get, path = "/api/money/examples", tag = "money",
    responses((status = 200, description = "example tables", body = MoneyExamplesBody), E401))]
pub async fn examples(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<MoneyExamplesBody> {
    authenticate(&st, &headers, &Method::GET).await?;
    Ok(Json(MoneyExamplesBody {
        projects: include_str!("../../../examples/money/projects.csv").into(),
        facilities: include_str!("../../../examples/money/facilities.csv").into(),
        stations: include_str!("../../../examples/money/stations.csv").into(),
        sections: include_str!("../../../examples/money/sections.csv").into(),
        values: include_str!("../../../examples/money/values-2022.csv").into(),
        months: include_str!("../../../examples/money/months.csv").into(),
        year: 2022,
    }))
}

/// Construction funding shares of a project list: by project, by payer, by year.
#[utoipa::path(post, path = "/api/money/funding", tag = "money", request_body = FundingRequest,
    responses((status = 200, description = "the funding tables", body = LedgerBody), E400, E401))]
pub async fn funding(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(b): ApiJson<FundingRequest>,
) -> ApiResult<LedgerBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let lang = lang(&b.lang)?;
    let mut projects =
        rewater_money::funding::projects_from_bytes(b.projects.as_bytes(), "projects", areas())
            .map_err(|e| bad(e.to_string()))?;
    let d = scope(&p);
    if let Some(d) = &d {
        projects.retain(|x| &x.location.district == d);
    }
    let ids: Vec<&str> = if b.sets.is_empty() {
        rewater_money::funding::DEFAULT_SETS.to_vec()
    } else {
        b.sets.iter().map(String::as_str).collect()
    };
    let f =
        rewater_money::funding::funding(book(), &ids, &projects).map_err(|e| bad(e.to_string()))?;
    Ok(ledger(f.tables(book(), areas(), lang), d))
}

/// Rural O&M subsidies of plants and pipes, and village water-supply stations.
#[utoipa::path(post, path = "/api/money/subsidies", tag = "money", request_body = SubsidiesRequest,
    responses((status = 200, description = "the subsidy tables", body = LedgerBody), E400, E401))]
pub async fn subsidies(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SubsidiesRequest>,
) -> ApiResult<LedgerBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let lang = lang(&b.lang)?;
    let bad_ = |e: rewater_money::InputError| bad(e.to_string());
    let mut f = match &b.facilities {
        Some(t) => {
            rewater_money::subsidy::facilities_from_bytes(t.as_bytes(), "facilities", areas())
                .map_err(bad_)?
        }
        None => Vec::new(),
    };
    let mut s = match &b.stations {
        Some(t) => rewater_money::subsidy::stations_from_bytes(t.as_bytes(), "stations", areas())
            .map_err(bad_)?,
        None => Vec::new(),
    };
    let d = scope(&p);
    if let Some(d) = &d {
        f.retain(|x| &x.location.district == d);
        s.retain(|x| &x.location.district == d);
    }
    let rate = b.rate_set.as_deref().unwrap_or("om-base-rate");
    let l = rewater_money::subsidy::subsidies(book(), "jzf-2023-6", "jzf-2023-7", rate, &f, &s)
        .map_err(|e| bad(e.to_string()))?;
    Ok(ledger(l.tables(book(), areas(), lang), d))
}

/// Keeps what concerns district `d`: its months as payer or payee and its settlement.
fn limit_to(c: &mut Compensation, d: &str) {
    c.months.retain(|m| m.payer == d || m.payee == d);
    for m in c.matrix.values_mut() {
        m.retain(|(a, b), _| a == d || b == d);
    }
    c.matrix.retain(|_, m| !m.is_empty());
    c.settlement.retain(|k, _| k == d);
}

/// Water-ecology compensation of a year: monthly section results, the payer → payee matrix,
/// the annual settlement.
#[utoipa::path(post, path = "/api/money/compensation", tag = "money", request_body = CompensationRequest,
    responses((status = 200, description = "the compensation tables", body = LedgerBody), E400, E401))]
pub async fn compensation(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(b): ApiJson<CompensationRequest>,
) -> ApiResult<LedgerBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let lang = lang(&b.lang)?;
    if !(1900..=2200).contains(&b.year) {
        return Err(bad(format!("year {} outside 1900–2200", b.year)));
    }
    let known = |s: &str| areas().district(s).map(|d| d.id.clone());
    let sections =
        rewater_money::compensation::sections_from_bytes(b.sections.as_bytes(), "sections", &known)
            .map_err(|e| bad(e.to_string()))?;
    let entered = match &b.values {
        Some(t) => rewater_money::compensation::values_from_bytes(t.as_bytes(), "values", b.year)
            .map_err(|e| bad(e.to_string()))?,
        None => Default::default(),
    };
    let rule = b
        .rule
        .clone()
        .unwrap_or_else(|| rewater_money::compensation::DEFAULT_SET.into());
    let set = book()
        .get(&rule, rewater_money::RuleKind::Compensation)
        .map_err(|e| bad(e.to_string()))?;
    let values = if b.from_store {
        let factors: Vec<rewater_standards::Factor> = set
            .compensation
            .as_ref()
            .map(|c| {
                c.factors
                    .iter()
                    .filter_map(|f| rewater_standards::Factor::parse(f).ok())
                    .collect()
            })
            .unwrap_or_default();
        let secs = sections.clone();
        let year = b.year;
        let v = crate::with_store(&st, move |s| {
            rewater_money::store::monthly_means(s, &secs, &factors, year)
                .map_err(|e| internal(e.to_string()))
        })
        .await?;
        rewater_money::store::overlay(v, &entered)
    } else {
        entered
    };
    let mut c = rewater_money::compensation::compensation(
        book(),
        &rule,
        &st.standards,
        &sections,
        &values,
        b.year,
    )
    .map_err(|e| bad(e.to_string()))?;
    let d = scope(&p);
    if let Some(d) = &d {
        limit_to(&mut c, d);
    }
    Ok(ledger(
        c.tables(book(), &|x: &str| district_name(x, lang), lang),
        d,
    ))
}

/// Pay-for-performance monthly fees per plant under the operator contracts.
#[utoipa::path(post, path = "/api/money/fees", tag = "money", request_body = FeesRequest,
    responses((status = 200, description = "the fee table", body = LedgerBody), E400, E401))]
pub async fn fees(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
    ApiJson(b): ApiJson<FeesRequest>,
) -> ApiResult<LedgerBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let lang = lang(&b.lang)?;
    let months = rewater_money::fees::months_from_bytes(b.months.as_bytes(), "months")
        .map_err(|e| bad(e.to_string()))?;
    let set = b
        .contracts
        .as_deref()
        .unwrap_or(rewater_money::fees::DEFAULT_SET);
    let f = rewater_money::fees::fees(book(), set, &months).map_err(|e| bad(e.to_string()))?;
    Ok(ledger(f.tables(book(), lang), scope(&p)))
}

/// Reclaimed-water unit cost per plant and prices by quality class of a scenario's run
/// (operators: their district's plants only, without the users and the city's balance).
#[utoipa::path(get, path = "/api/scenarios/{name}/money/cost", tag = "money",
    params(("name" = String, Path, description = "scenario model"), LangQuery),
    responses((status = 200, description = "the cost tables", body = LedgerBody), E400, E401, E404, E429))]
pub async fn scenario_cost(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> ApiResult<LedgerBody> {
    let p = authenticate(&st, &headers, &Method::GET).await?;
    let lang = lang(&q.lang)?;
    let sc = scenarios(&st)?.clone();
    let m = sc
        .model(&name)?
        .ok_or_else(|| not_found(format!("no scenario model '{name}'")))?;
    let permit = st
        .heavy
        .cost
        .clone()
        .try_acquire_owned()
        .map_err(|_| too_many("another cost run is being computed", 5))?;
    let d = scope(&p);
    let d2 = d.clone();
    let tables = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let region = sc.load(&m).map_err(bad)?;
        if region.days > 36_600 {
            return Err(bad(format!("{} days: at most 36600", region.days)));
        }
        let mut c = rewater_money::cost::cost_of_model(
            book(),
            rewater_money::cost::DEFAULT_COST_SET,
            rewater_money::cost::DEFAULT_PRICE_SET,
            &region,
        )
        .map_err(|e| bad(e.to_string()))?;
        let mut t = c.tables(book(), lang);
        if let Some(d) = &d2 {
            // Their district's plants, the routes from them and the pipes out of them.
            c.only_district(d);
            t = c.tables(book(), lang);
            t.truncate(3);
        }
        Ok(t)
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    Ok(ledger(tables, d))
}
