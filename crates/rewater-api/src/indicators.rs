//! Indicators and targets (指标与目标): the indicator definitions, the bundled target sets and
//! a scenario's scorecard by district and year (rewater-indicators). District operators see
//! their district's rows only. A scorecard runs the scenario's model, one at a time (429 while
//! another is computed).

use crate::auth::authenticate;
use crate::error::{bad, internal, not_found, too_many, ApiResult, E400, E401, E404, E429};
use crate::extract::ApiQuery;
use crate::scenarios::scenarios;
use crate::ApiState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_indicators::{Catalog, ScorecardOptions, TargetSet};
use rewater_store::Role;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;
use utoipa::{IntoParams, ToSchema};

/// Days a scenario may have for a scorecard (100 years).
const MAX_DAYS: usize = 36_600;

fn catalog() -> &'static Catalog {
    static C: OnceLock<Catalog> = OnceLock::new();
    C.get_or_init(Catalog::bundled)
}

#[derive(Serialize, ToSchema)]
pub struct IndicatorsBody {
    /// Indicators: id, name {zh, en}, formula, unit, better, basis, source, confidence.
    #[schema(value_type = Vec<Object>)]
    pub indicators: Vec<rewater_indicators::Indicator>,
    /// Quantities the formulas use, by id.
    #[schema(value_type = Object)]
    pub quantities: serde_json::Value,
    /// Units and printed words, by id: {zh, en}.
    #[schema(value_type = Object)]
    pub units: serde_json::Value,
    #[schema(value_type = Object)]
    pub labels: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct TargetSetsBody {
    /// The bundled target sets with their targets (section and quote of the plan each).
    #[schema(value_type = Vec<Object>)]
    pub sets: Vec<TargetSet>,
}

#[derive(Serialize, ToSchema)]
pub struct ScorecardBody {
    /// The scorecard: rows by district and year (value, targets, status, baseline, trend).
    #[schema(value_type = Object)]
    pub scorecard: rewater_indicators::Scorecard,
}

#[derive(Deserialize, IntoParams)]
pub struct ScorecardQuery {
    /// Target sets, comma-separated (seed-000 … seed-004, ndrc-2021-13[/REGION]); default:
    /// the model's `[targets] sets`.
    targets: Option<String>,
    /// Baseline year of the trend (default: the first set's).
    baseline: Option<i32>,
}

/// The indicator definitions, their quantities, units and printed words.
#[utoipa::path(get, path = "/api/indicators", tag = "indicators",
    responses((status = 200, description = "indicator definitions", body = IndicatorsBody), E401))]
pub async fn indicators(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<IndicatorsBody> {
    authenticate(&st, &headers, &Method::GET).await?;
    let c = catalog();
    let json = |v: serde_json::Result<serde_json::Value>| v.map_err(|e| internal(e.to_string()));
    Ok(Json(IndicatorsBody {
        indicators: c.indicators.clone(),
        quantities: json(serde_json::to_value(&c.quantities))?,
        units: json(serde_json::to_value(&c.units))?,
        labels: json(serde_json::to_value(&c.labels))?,
    }))
}

/// The bundled target sets (seeds 000–004 and 发改环资〔2021〕13号).
#[utoipa::path(get, path = "/api/indicators/targets", tag = "indicators",
    responses((status = 200, description = "target sets", body = TargetSetsBody), E401))]
pub async fn target_sets(
    State(st): State<ApiState>,
    headers: HeaderMap,
) -> ApiResult<TargetSetsBody> {
    authenticate(&st, &headers, &Method::GET).await?;
    let sets = TargetSet::all_bundled(catalog()).map_err(|e| internal(e.to_string()))?;
    Ok(Json(TargetSetsBody { sets }))
}

/// The scorecard of a scenario's model by district and year against target sets. District
/// operators get their district's rows only.
#[utoipa::path(get, path = "/api/scenarios/{name}/scorecard", tag = "indicators",
    params(("name" = String, Path, description = "scenario model"), ScorecardQuery),
    responses((status = 200, description = "the scorecard", body = ScorecardBody), E400, E401, E404, E429))]
pub async fn scenario_scorecard(
    State(st): State<ApiState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    ApiQuery(q): ApiQuery<ScorecardQuery>,
) -> ApiResult<ScorecardBody> {
    let p = authenticate(&st, &headers, &Method::GET).await?;
    let sc = scenarios(&st)?.clone();
    let m = sc
        .model(&name)?
        .ok_or_else(|| not_found(format!("no scenario model '{name}'")))?;
    let permit = st
        .heavy
        .scorecard
        .clone()
        .try_acquire_owned()
        .map_err(|_| too_many("another scorecard is being computed", 5))?;
    let only_district = match p.role {
        Role::Operator => Some(p.district.clone().unwrap_or_default()),
        _ => None,
    };
    let card = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let region = sc.load(&m).map_err(bad)?;
        if region.days > MAX_DAYS {
            return Err(bad(format!(
                "{} days: a scorecard runs at most {MAX_DAYS}",
                region.days
            )));
        }
        let specs: Vec<String> = match &q.targets {
            Some(t) => t
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            None => region.targets.sets.clone(),
        };
        // Bundled sets only: a name from the network never opens a file (not even the
        // model's own sets, which the command line reads from files).
        let sets = specs
            .iter()
            .map(|s| TargetSet::resolve_bundled(s, catalog()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(e.to_string()))?;
        let options = ScorecardOptions {
            baseline_year: q.baseline,
            only_district,
            ..Default::default()
        };
        rewater_indicators::scorecard_for_region(
            &region,
            &sc.standards,
            catalog(),
            &[],
            &sets,
            &options,
        )
        .map(|(_, card)| card)
        .map_err(|e| internal(e.to_string()))
    })
    .await
    .map_err(|e| internal(e.to_string()))??;
    Ok(Json(ScorecardBody { scorecard: card }))
}
