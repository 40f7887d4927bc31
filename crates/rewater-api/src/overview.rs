//! The overview (总览): the region's network from the model, the visible sites with their
//! live status, and headline indicators for today and the model year; the same network and
//! sites as GeoJSON; and the standards browser.

use crate::auth::{authenticate, Principal};
use crate::error::{ApiResult, E401};
use crate::runs::{run_region, DailyResults};
use crate::sites::{judge_latest, SiteView};
use crate::{with_store, ApiState};
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::Json;
use rewater_engine::Summary;
use rewater_model::Region;
use rewater_standards::Date;
use rewater_store::AlertState;
use serde::Serialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// A node of the regional model on the map.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NodeView {
    pub id: String,
    pub name: String,
    /// plant, wetland, pond, junction, user, river, outfall.
    pub kind: String,
    /// [longitude, latitude].
    pub location: Option<[f64; 2]>,
}

/// A link between two nodes.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LinkView {
    pub id: String,
    pub from: String,
    pub to: String,
    /// Mean daily flow over the baseline run of the model, m³/d.
    pub flow_m3_per_d: Option<f64>,
}

/// The region drawn on the overview map, with a baseline run for the headline indicators.
#[derive(Debug, Clone)]
pub struct ModelView {
    pub name: String,
    pub nodes: Vec<NodeView>,
    pub links: Vec<LinkView>,
    pub summary: Summary,
    pub daily: DailyResults,
}

impl ModelView {
    pub fn new(region: &Region) -> Result<ModelView, String> {
        let (summary, daily) = run_region(region, &mut |_, _| {})?;
        let nodes = region
            .nodes
            .iter()
            .map(|n| NodeView {
                id: n.id.clone(),
                name: n.name.clone(),
                kind: n.kind.name().to_string(),
                location: n.location,
            })
            .collect();
        let links = region
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkView {
                id: l.id.clone(),
                from: region.nodes[l.from].id.clone(),
                to: region.nodes[l.to].id.clone(),
                flow_m3_per_d: daily.link_mean_m3_per_d.get(i).copied(),
            })
            .collect();
        Ok(ModelView {
            name: region.name.clone(),
            nodes,
            links,
            summary,
            daily,
        })
    }

    /// Indicators of the day with today's month and day in the baseline year.
    fn today(&self, today: Date) -> Option<DayIndicators> {
        let md = today.to_string().get(4..)?.to_string();
        let d = &self.daily;
        let i = d.dates.iter().position(|x| x.ends_with(&md))?;
        let util = (d.treated_m3[i] > 0.0).then(|| d.delivered_m3[i] / d.treated_m3[i]);
        Some(DayIndicators {
            date: d.dates[i].clone(),
            treated_m3: d.treated_m3[i],
            delivered_m3: d.delivered_m3[i],
            deficit_m3: d.deficit_m3[i],
            storage_m3: d.storage_m3[i],
            utilisation_rate: util,
        })
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayIndicators {
    /// The model day with today's month and day.
    pub date: String,
    pub treated_m3: f64,
    pub delivered_m3: f64,
    pub deficit_m3: f64,
    pub storage_m3: f64,
    pub utilisation_rate: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct YearIndicators {
    pub start: String,
    pub end: String,
    pub treated_m3: f64,
    pub delivered_m3: f64,
    pub deficit_m3: f64,
    /// 再生水利用率 = delivered ÷ treated.
    pub utilisation_rate: Option<f64>,
    pub supply_reliability: Option<f64>,
    /// The model's targets by name and whether the baseline meets them.
    pub targets: std::collections::BTreeMap<String, TargetView>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TargetView {
    pub target: f64,
    pub achieved: f64,
    pub met: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MonitoringIndicators {
    pub sites: usize,
    pub exceeding: usize,
    pub open_alerts: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Indicators {
    pub monitoring: MonitoringIndicators,
    pub year: Option<YearIndicators>,
    pub today: Option<DayIndicators>,
}

/// A site on the overview: ok, exceeding, alert or no_data.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SiteStatus {
    pub site: SiteView,
    pub status: String,
    pub open_alerts: usize,
    pub failing_factors: usize,
    /// Wall seconds of the newest reading.
    pub latest_time: Option<i64>,
    /// The same in RFC 3339.
    pub latest_at: Option<String>,
    /// The latest value of each factor with its checks.
    pub values: Vec<crate::sites::LatestValue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RegionView {
    pub name: String,
    pub nodes: Vec<NodeView>,
    pub links: Vec<LinkView>,
}

#[derive(Serialize, ToSchema)]
pub struct OverviewBody {
    pub user: Principal,
    pub region: Option<RegionView>,
    pub sites: Vec<SiteStatus>,
    pub indicators: Indicators,
    /// A map tile URL template, if configured.
    pub tile_url: Option<String>,
    /// The IANA zone every time is shown in.
    pub zone: String,
    /// Today in that zone (the wall clock, not the model year), YYYY-MM-DD, and now in RFC 3339.
    pub today: String,
    pub now: String,
}

/// The region's network, the visible sites with their status, and headline indicators.
#[utoipa::path(get, path = "/api/overview", tag = "overview",
    responses((status = 200, description = "the overview", body = OverviewBody), E401))]
pub async fn overview(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<OverviewBody> {
    let p = authenticate(&st, &headers, &method).await?;
    let p2 = p.clone();
    let (sites, alerts) = with_store(&st, move |s| {
        let sites: Vec<_> = s.sites()?.into_iter().filter(|x| p2.sees(x)).collect();
        let devices = s.devices()?;
        let mut out = Vec::new();
        for site in sites {
            let mut latest = Vec::new();
            for d in devices.iter().filter(|d| d.site_id == site.id) {
                latest.extend(s.latest(&d.mn)?);
            }
            out.push((site, latest));
        }
        Ok((out, s.alerts(Some(AlertState::Open), None, 10_000)?))
    })
    .await?;
    let mut open_by_site: HashMap<&str, usize> = HashMap::new();
    for a in &alerts {
        *open_by_site.entry(a.site_id.as_str()).or_default() += 1;
    }
    let (mut exceeding, mut open_total) = (0, 0);
    let site_list: Vec<SiteStatus> = sites
        .iter()
        .map(|(site, latest)| {
            let values = judge_latest(&st, site, latest);
            let fails = values
                .iter()
                .flat_map(|v| v.checks.iter())
                .filter(|c| !c.meets)
                .count();
            let open = open_by_site.get(site.id.as_str()).copied().unwrap_or(0);
            open_total += open;
            let status = if latest.is_empty() {
                "no_data"
            } else if fails > 0 {
                exceeding += 1;
                "exceeding"
            } else if open > 0 {
                "alert"
            } else {
                "ok"
            };
            let newest = latest.iter().map(|r| r.data_time).max();
            SiteStatus {
                site: SiteView::from(site),
                status: status.to_string(),
                open_alerts: open,
                failing_factors: fails,
                latest_time: newest,
                latest_at: newest.map(|t| st.zone.rfc3339_wall(t)),
                values,
            }
        })
        .collect();
    let model = st.platform.model.as_deref();
    let indicators = Indicators {
        monitoring: MonitoringIndicators {
            sites: site_list.len(),
            exceeding,
            open_alerts: open_total,
        },
        year: model.map(|m| YearIndicators {
            start: m.summary.start.clone(),
            end: m.summary.end.clone(),
            treated_m3: m.summary.treated_m3,
            delivered_m3: m.summary.delivered_m3,
            deficit_m3: m.summary.deficit_m3,
            utilisation_rate: m.summary.utilisation_rate,
            supply_reliability: m.summary.supply_reliability,
            targets: m
                .summary
                .targets
                .iter()
                .map(|(k, t)| {
                    let v = TargetView {
                        target: t.target,
                        achieved: t.achieved,
                        met: t.met,
                    };
                    (k.clone(), v)
                })
                .collect(),
        }),
        today: model.and_then(|m| m.today(st.zone.today())),
    };
    Ok(Json(OverviewBody {
        user: p,
        region: model.map(|m| RegionView {
            name: m.name.clone(),
            nodes: m.nodes.clone(),
            links: m.links.clone(),
        }),
        sites: site_list,
        indicators,
        tile_url: st.platform.tile_url.clone(),
        zone: st.zone.name().to_string(),
        today: st.zone.today().to_string(),
        now: st.zone.rfc3339_ms(crate::auth::now_ms()),
    }))
}

/// A GeoJSON geometry: Point ([lon, lat]) or LineString ([[lon, lat], …]).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", content = "coordinates")]
pub enum Geometry {
    Point([f64; 2]),
    LineString(Vec<[f64; 2]>),
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeatureProperties {
    /// node, link or site.
    pub layer: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Feature {
    /// Always "Feature".
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub geometry: Geometry,
    pub properties: FeatureProperties,
}

#[derive(Serialize, ToSchema)]
pub struct FeatureCollection {
    /// Always "FeatureCollection".
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub features: Vec<Feature>,
}

fn props(layer: &str, id: &str) -> FeatureProperties {
    FeatureProperties {
        layer: layer.into(),
        id: id.into(),
        name: None,
        kind: None,
        from: None,
        to: None,
        district: None,
        standard: None,
    }
}

fn feature(geometry: Geometry, properties: FeatureProperties) -> Feature {
    Feature {
        kind: "Feature",
        geometry,
        properties,
    }
}

/// The network and the visible sites as a GeoJSON FeatureCollection (for GIS tools):
/// nodes and sites as Points, links as LineStrings, coordinates [longitude, latitude].
#[utoipa::path(get, path = "/api/geojson", tag = "overview",
    responses((status = 200, description = "GeoJSON", body = FeatureCollection), E401))]
pub async fn geojson(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<FeatureCollection> {
    let p = authenticate(&st, &headers, &method).await?;
    let sites = with_store(&st, move |s| {
        Ok(s.sites()?
            .into_iter()
            .filter(|x| p.sees(x))
            .collect::<Vec<_>>())
    })
    .await?;
    let mut features = Vec::new();
    if let Some(m) = st.platform.model.as_deref() {
        let at: HashMap<&str, [f64; 2]> = m
            .nodes
            .iter()
            .filter_map(|n| Some((n.id.as_str(), n.location?)))
            .collect();
        for n in &m.nodes {
            if let Some(loc) = n.location {
                let mut pr = props("node", &n.id);
                pr.name = Some(n.name.clone());
                pr.kind = Some(n.kind.clone());
                features.push(feature(Geometry::Point(loc), pr));
            }
        }
        for l in &m.links {
            if let (Some(a), Some(b)) = (at.get(l.from.as_str()), at.get(l.to.as_str())) {
                let mut pr = props("link", &l.id);
                pr.from = Some(l.from.clone());
                pr.to = Some(l.to.clone());
                features.push(feature(Geometry::LineString(vec![*a, *b]), pr));
            }
        }
    }
    for s in &sites {
        if let Some(loc) = s.location {
            let mut pr = props("site", &s.id);
            pr.name = Some(s.name.clone());
            pr.kind = Some(s.kind.clone());
            pr.district = Some(s.district.clone());
            pr.standard = s.standard.clone();
            features.push(feature(Geometry::Point(loc), pr));
        }
    }
    Ok(Json(FeatureCollection {
        kind: "FeatureCollection",
        features,
    }))
}

/// A class, grade or use of a standard.
#[derive(Serialize, ToSchema)]
pub struct ClassView {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub quality_zh: Option<String>,
    pub quality_en: Option<String>,
}

/// One limit row of a standard.
#[derive(Serialize, ToSchema)]
pub struct LimitView {
    /// The class id, or "*" for every class.
    pub class: String,
    /// HJ 212 factor code, and the factor's names.
    pub factor: String,
    pub factor_name_zh: String,
    pub factor_name_en: String,
    /// {type: max|min|range|qualitative, …}.
    #[schema(value_type = Object)]
    pub bound: rewater_standards::standard::Bound,
    #[schema(value_type = Option<String>)]
    pub unit: Option<rewater_standards::Unit>,
    /// Conditions under which the limit applies (water body, temperature, dates…).
    #[schema(value_type = Object)]
    pub when: rewater_standards::standard::Conditions,
    #[schema(value_type = String)]
    pub confidence: rewater_standards::standard::Confidence,
    pub source: Option<String>,
    pub note: String,
}

/// One edition of a standard.
#[derive(Serialize, ToSchema)]
pub struct StandardView {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    #[schema(value_type = String)]
    pub kind: rewater_standards::standard::StandardKind,
    /// YYYY-MM-DD.
    pub issued: Option<String>,
    pub effective_from: String,
    pub effective_to: Option<String>,
    #[schema(value_type = Object)]
    pub averaging: rewater_standards::standard::Averaging,
    #[schema(value_type = String)]
    pub confidence: rewater_standards::standard::Confidence,
    pub sources: Vec<String>,
    pub classes: Vec<ClassView>,
    pub limits: Vec<LimitView>,
    /// The file it came from (`built-in:…` for the bundled ones).
    pub origin: String,
}

impl From<&rewater_standards::Standard> for StandardView {
    fn from(s: &rewater_standards::Standard) -> StandardView {
        let limits = s
            .limits
            .iter()
            .map(|l| LimitView {
                class: l
                    .class
                    .and_then(|c| s.classes.get(c))
                    .map_or_else(|| "*".to_string(), |c| c.id.clone()),
                factor: l.factor.code().to_string(),
                factor_name_zh: l.factor.info().name_zh.to_string(),
                factor_name_en: l.factor.info().name_en.to_string(),
                bound: l.bound.clone(),
                unit: l.unit,
                when: l.when.clone(),
                confidence: l.confidence,
                source: l.source.clone(),
                note: l.note.clone(),
            })
            .collect();
        StandardView {
            id: s.id.clone(),
            title_zh: s.title_zh.clone(),
            title_en: s.title_en.clone(),
            kind: s.kind,
            issued: s.issued.map(|d| d.to_string()),
            effective_from: s.effective_from.to_string(),
            effective_to: s.effective_to.map(|d| d.to_string()),
            averaging: s.averaging,
            confidence: s.confidence,
            sources: s.sources.clone(),
            classes: s
                .classes
                .iter()
                .map(|c| ClassView {
                    id: c.id.clone(),
                    name_zh: c.name_zh.clone(),
                    name_en: c.name_en.clone(),
                    quality_zh: c.quality_zh.clone(),
                    quality_en: c.quality_en.clone(),
                })
                .collect(),
            limits,
            origin: s.origin.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct StandardsBody {
    pub standards: Vec<StandardView>,
}

/// Every standard with its classes and limits, sources and confidence.
#[utoipa::path(get, path = "/api/standards", tag = "overview",
    responses((status = 200, description = "standards", body = StandardsBody), E401))]
pub async fn standards(
    State(st): State<ApiState>,
    method: Method,
    headers: HeaderMap,
) -> ApiResult<StandardsBody> {
    authenticate(&st, &headers, &method).await?;
    let standards = st.standards.all().iter().map(StandardView::from).collect();
    Ok(Json(StandardsBody { standards }))
}
