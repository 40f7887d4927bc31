//! What a report needs from a model run, gathered day by day as the engine runs (a
//! `DailySink`), for the days of the reporting period only: monthly quantities, reuse by
//! category and district, plants, and the outlet quality of wetlands and ponds against
//! surface-water class V (GB 3838-2002 Ⅴ类, river limits; the seed-003 pilot criterion).

use rewater_engine::sim::{DailySink, LinkDay, NodeDay, Simulation};
use rewater_engine::Summary;
use rewater_model::{NodeKind, Region};
use rewater_standards::evaluate::judge;
use rewater_standards::{Bound, Context, Date, Factor, Standards, Unit, WaterBody};
use std::collections::BTreeMap;

/// Quantities of one month (or of the period), m³.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantities {
    pub influent_m3: f64,
    pub treated_m3: f64,
    pub bypassed_m3: f64,
    pub demand_m3: f64,
    pub delivered_m3: f64,
    pub discharged_m3: f64,
}

impl Quantities {
    /// 再生水利用率 = reclaimed water used ÷ sewage treated (None when nothing was treated).
    pub fn reuse_rate(&self) -> Option<f64> {
        (self.treated_m3 > 0.0).then(|| self.delivered_m3 / self.treated_m3)
    }
    pub fn reliability(&self) -> Option<f64> {
        (self.demand_m3 > 0.0).then(|| self.delivered_m3 / self.demand_m3)
    }
    fn add(&mut self, o: &Quantities) {
        self.influent_m3 += o.influent_m3;
        self.treated_m3 += o.treated_m3;
        self.bypassed_m3 += o.bypassed_m3;
        self.demand_m3 += o.demand_m3;
        self.delivered_m3 += o.delivered_m3;
        self.discharged_m3 += o.discharged_m3;
    }
}

/// A user over the period.
#[derive(Debug, Clone, PartialEq)]
pub struct UserTotals {
    pub id: String,
    pub name: String,
    /// Category as in model files (`urban_greening`).
    pub category: String,
    pub district: String,
    pub demand_m3: f64,
    pub delivered_m3: f64,
    pub days_refused_for_quality: u32,
}

/// A plant over the period.
#[derive(Debug, Clone, PartialEq)]
pub struct PlantTotals {
    pub id: String,
    pub name: String,
    pub capacity_m3_per_day: f64,
    pub treated_m3: f64,
    pub bypassed_m3: f64,
    pub days_bypassing: u32,
}

/// One factor's outlet quality at a wetland or pond against class V.
#[derive(Debug, Clone, PartialEq)]
pub struct FactorQuality {
    pub factor: Factor,
    /// The class V limit (mg/L), where GB 3838 sets a maximum for the factor.
    pub class_v_max_mg_per_l: Option<f64>,
    /// Days with outflow and a known concentration.
    pub days: u32,
    /// Of those, days at or below the class V limit (0 where there is no limit).
    pub days_meeting: u32,
    pub mean_mg_per_l: Option<f64>,
    pub max_mg_per_l: Option<f64>,
    /// Monthly means (None: no outflow that month).
    pub monthly_mg_per_l: Vec<Option<f64>>,
    sum: f64,
    month_sum: Vec<(f64, u32)>,
}

/// A wetland's or pond's outlet quality.
#[derive(Debug, Clone, PartialEq)]
pub struct OutletQuality {
    pub id: String,
    pub name: String,
    /// `wetland` or `pond`.
    pub kind: &'static str,
    pub factors: Vec<FactorQuality>,
    /// Pond storage at the end of each month (ponds only).
    pub storage_m3: Vec<Option<f64>>,
}

impl OutletQuality {
    /// Whether every factor with a class V limit met it on every day (稳定达到Ⅴ类). None when
    /// no factor could be judged.
    pub fn stably_class_v(&self) -> Option<bool> {
        let judged: Vec<_> = self
            .factors
            .iter()
            .filter(|f| f.class_v_max_mg_per_l.is_some() && f.days > 0)
            .collect();
        (!judged.is_empty()).then(|| judged.iter().all(|f| f.days_meeting == f.days))
    }
}

/// Everything a report uses from a run.
#[derive(Debug, Clone)]
pub struct RunData {
    pub model: String,
    pub from: Date,
    pub to: Date,
    pub days: u32,
    /// First day of each month of the period.
    pub months: Vec<Date>,
    pub monthly: Vec<Quantities>,
    pub total: Quantities,
    /// Demand and delivered per category (as in model files).
    pub by_category: BTreeMap<String, Quantities>,
    /// Demand and delivered per district of the users.
    pub by_district: BTreeMap<String, Quantities>,
    pub users: Vec<UserTotals>,
    pub plants: Vec<PlantTotals>,
    pub outlets: Vec<OutletQuality>,
    /// The whole run's summary (solver, warnings).
    pub summary: Summary,
}

/// Failing to gather a run.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error("{0}")]
    Engine(#[from] rewater_engine::EngineError),
    #[error("the reporting period {from} – {to} lies outside the model's {start} – {end}")]
    Period {
        from: Date,
        to: Date,
        start: Date,
        end: Date,
    },
}

struct Sink {
    from: Date,
    to: Date,
    data: RunData,
    class_v: Vec<Option<f64>>,
}

fn month_start(d: Date) -> Date {
    let (y, m, _) = d.ymd();
    Date::from_ymd(y, m, 1).unwrap_or(d)
}

impl DailySink for Sink {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        _links: &[LinkDay],
    ) -> std::io::Result<()> {
        if date < self.from || date > self.to {
            return Ok(());
        }
        let d = &mut self.data;
        d.days += 1;
        let m0 = month_start(date);
        if d.months.last() != Some(&m0) {
            d.months.push(m0);
            d.monthly.push(Quantities::default());
            for o in d.outlets.iter_mut() {
                o.storage_m3.push(None);
                for f in o.factors.iter_mut() {
                    f.month_sum.push((0.0, 0));
                }
            }
        }
        let mi = d.months.len() - 1;
        let mut day = Quantities::default();
        let (mut ui, mut pi, mut oi) = (0, 0, 0);
        for (i, n) in sim.region.nodes.iter().enumerate() {
            let nd = &nodes[i];
            match &n.kind {
                NodeKind::Plant(_) => {
                    day.influent_m3 += nd.influent_m3;
                    day.treated_m3 += nd.treated_m3;
                    day.bypassed_m3 += nd.bypassed_m3;
                    let p = &mut d.plants[pi];
                    p.treated_m3 += nd.treated_m3;
                    p.bypassed_m3 += nd.bypassed_m3;
                    p.days_bypassing += u32::from(nd.bypassed_m3 > 1e-9);
                    pi += 1;
                }
                NodeKind::User(u) => {
                    day.demand_m3 += nd.demand_m3;
                    day.delivered_m3 += nd.delivered_m3;
                    let q = Quantities {
                        demand_m3: nd.demand_m3,
                        delivered_m3: nd.delivered_m3,
                        ..Default::default()
                    };
                    d.by_category
                        .entry(u.category.as_str().to_string())
                        .or_default()
                        .add(&q);
                    d.by_district.entry(u.district.clone()).or_default().add(&q);
                    let t = &mut d.users[ui];
                    t.demand_m3 += nd.demand_m3;
                    t.delivered_m3 += nd.delivered_m3;
                    t.days_refused_for_quality += u32::from(nd.refused_for_quality);
                    ui += 1;
                }
                NodeKind::River(_) | NodeKind::Outfall(_) => day.discharged_m3 += nd.inflow_m3,
                NodeKind::Wetland(_) | NodeKind::Pond(_) => {
                    let o = &mut d.outlets[oi];
                    oi += 1;
                    if matches!(n.kind, NodeKind::Pond(_)) {
                        o.storage_m3[mi] = Some(nd.storage_m3);
                    }
                    if nd.outflow_m3 <= 1e-9 {
                        continue;
                    }
                    let conc = sim.concentration(i);
                    for (k, f) in o.factors.iter_mut().enumerate() {
                        let c = conc[k];
                        if !c.is_finite() {
                            continue;
                        }
                        f.days += 1;
                        f.sum += c;
                        f.max_mg_per_l = Some(f.max_mg_per_l.map_or(c, |m| m.max(c)));
                        f.month_sum[mi].0 += c;
                        f.month_sum[mi].1 += 1;
                        if self.class_v[k].is_some_and(|l| c <= l + 1e-12) {
                            f.days_meeting += 1;
                        }
                    }
                }
                NodeKind::Junction => {}
            }
        }
        d.monthly[mi].add(&day);
        d.total.add(&day);
        Ok(())
    }
}

/// The class V maximum (mg/L) of each tracked factor, river limits (GB 3838-2002 Table 1).
pub fn class_v_limits(factors: &[Factor], standards: &Standards) -> Vec<Option<f64>> {
    let Ok((std, class)) = standards.resolve("GB3838-2002:V") else {
        return vec![None; factors.len()];
    };
    let ctx = Context {
        water_body: Some(WaterBody::River),
        ..Context::default()
    };
    factors
        .iter()
        .map(|&f| {
            let sel = std.limit_for(class, f, &ctx)?;
            match sel.limit.bound {
                Bound::Max { value } => {
                    // The limit in mg/L (the model's unit): 1 mg/L expressed in the limit's unit.
                    let one = judge(sel.limit, 1.0, Unit::MgPerL).ok()??;
                    Some(value / one.value_in_limit_unit)
                }
                _ => None,
            }
        })
        .collect()
}

/// Runs `region` and gathers the days in `[from, to]` (the whole run when None).
pub fn collect(
    region: &Region,
    standards: &Standards,
    period: Option<(Date, Date)>,
) -> Result<RunData, CollectError> {
    let start = region.start;
    let end = start.add_days(region.days as i32 - 1);
    let (from, to) = period.unwrap_or((start, end));
    if to < start || from > end || to < from {
        return Err(CollectError::Period {
            from,
            to,
            start,
            end,
        });
    }
    let class_v = class_v_limits(&region.factors, standards);
    let mut users = Vec::new();
    let mut plants = Vec::new();
    let mut outlets = Vec::new();
    for n in &region.nodes {
        match &n.kind {
            NodeKind::User(u) => users.push(UserTotals {
                id: n.id.clone(),
                name: n.name.clone(),
                category: u.category.as_str().to_string(),
                district: u.district.clone(),
                demand_m3: 0.0,
                delivered_m3: 0.0,
                days_refused_for_quality: 0,
            }),
            NodeKind::Plant(p) => plants.push(PlantTotals {
                id: n.id.clone(),
                name: n.name.clone(),
                capacity_m3_per_day: p.capacity_m3_per_day,
                treated_m3: 0.0,
                bypassed_m3: 0.0,
                days_bypassing: 0,
            }),
            NodeKind::Wetland(_) | NodeKind::Pond(_) => outlets.push(OutletQuality {
                id: n.id.clone(),
                name: n.name.clone(),
                kind: n.kind.name(),
                factors: region
                    .factors
                    .iter()
                    .zip(&class_v)
                    .map(|(&factor, &limit)| FactorQuality {
                        factor,
                        class_v_max_mg_per_l: limit,
                        days: 0,
                        days_meeting: 0,
                        mean_mg_per_l: None,
                        max_mg_per_l: None,
                        monthly_mg_per_l: vec![],
                        sum: 0.0,
                        month_sum: vec![],
                    })
                    .collect(),
                storage_m3: vec![],
            }),
            _ => {}
        }
    }
    let mut sink = Sink {
        from,
        to,
        class_v,
        data: RunData {
            model: region.name.clone(),
            from: if from < start { start } else { from },
            to: if to > end { end } else { to },
            days: 0,
            months: vec![],
            monthly: vec![],
            total: Quantities::default(),
            by_category: BTreeMap::new(),
            by_district: BTreeMap::new(),
            users,
            plants,
            outlets,
            summary: Summary::default(),
        },
    };
    let mut sim = rewater_engine::Simulation::new(region)?;
    let summary = sim.run(Some(&mut sink), &mut |_, _| {})?;
    let mut data = sink.data;
    data.summary = summary;
    for o in data.outlets.iter_mut() {
        for f in o.factors.iter_mut() {
            f.mean_mg_per_l = (f.days > 0).then(|| f.sum / f.days as f64);
            f.monthly_mg_per_l = f
                .month_sum
                .iter()
                .map(|&(s, n)| (n > 0).then(|| s / n as f64))
                .collect();
        }
    }
    Ok(data)
}
