//! Reclaimed-water unit cost (再生水单位成本) per plant from an engine run, and the price by
//! quality class (优质优价) against tap and groundwater, with the users' and the city's yearly
//! figures. Costs are yuan: the solver's `cost_per_m3` weights play no part.
//!
//! A plant's cost over the run: energy (treated m³ × the model's `energy_kwh_per_m3` × the
//! tariff), chemicals (元/m³ × treated), fixed O&M and the capital annuity
//! `capex · r / (1 − (1 + r)^−n)` (both per year, pro rata over the run's days); the unit
//! cost is the total over the treated volume. Users pay the price of their category's class;
//! their saving is the alternative's price (tap or groundwater) less that price, times the
//! water delivered; the city's balance is the revenue less the plants' and pipes' cost.
//!
//! Per supply route (plant → user, [`crate::routes`]): a pipe's own cost over the run
//! (pumping kWh/m³ × tariff × the m³ entering it, fixed O&M and its capital annuity, pro
//! rata) and the plants' costs are carried along the run's link flows to where the water
//! ends; the unit cost of a route is its yuan over the m³ that arrive.

use crate::routes::{End, FlowTotals};
use crate::rules::{CostParams, LinkCostParams, PriceRule, RuleBook, RuleKind};
use crate::table::{rule_note, Cell, Table};
use crate::{Confidence, Lang, MoneyError, Text};
use rewater_model::region::NodeKind;
use serde::Serialize;

pub const DEFAULT_COST_SET: &str = "reclaimed-cost";
pub const DEFAULT_PRICE_SET: &str = "reclaimed-price";

/// The yearly capital annuity of `capex` over `years` at `rate`.
pub fn annuity(capex: f64, rate: f64, years: u32) -> f64 {
    let n = years.max(1) as f64;
    if rate == 0.0 {
        capex / n
    } else {
        capex * rate / (1.0 - (1.0 + rate).powf(-n))
    }
}

/// One plant's cost over the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantCost {
    pub plant: String,
    pub district: String,
    pub params: CostParams,
    pub treated_m3: f64,
    pub energy_kwh: f64,
    pub energy_yuan: f64,
    pub chemicals_yuan: f64,
    pub om_yuan: f64,
    pub capital_yuan: f64,
    pub total_yuan: f64,
    /// None when nothing was treated.
    pub unit_yuan_per_m3: Option<f64>,
}

/// One user's water and money.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserPrice {
    pub user: String,
    pub category: String,
    pub class: Option<String>,
    pub delivered_m3: f64,
    pub price_yuan_per_m3: f64,
    pub revenue_yuan: f64,
    pub alternative_yuan_per_m3: Option<f64>,
    pub saving_yuan: f64,
}

/// One pipe's (model link's) water and own cost over the run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LinkCost {
    pub link: String,
    pub from: String,
    pub to: String,
    pub flow_m3: f64,
    pub arrived_m3: f64,
    pub loss_m3: f64,
    /// None: the cost set gives no figures for this pipe (its own cost is 0).
    pub params: Option<LinkCostParams>,
    pub pumping_kwh: f64,
    pub energy_yuan: f64,
    pub om_yuan: f64,
    pub capital_yuan: f64,
    pub total_yuan: f64,
}

/// One supply route: the water of one source (a plant, or a pond's water at the start of
/// the run) arriving at one end (a user, a river, unrouted, storage at the end), with the
/// source plant's cost shares and the pipes' yuan it carried.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteCost {
    pub source: String,
    /// True when the source is a pond's water at the start of the run (no plant cost).
    pub initial_storage: bool,
    pub source_district: String,
    pub end: End,
    /// The end node (user, river, plant or pond id).
    pub to: String,
    pub to_district: String,
    pub volume_m3: f64,
    pub energy_yuan: f64,
    pub chemicals_yuan: f64,
    pub om_yuan: f64,
    pub capital_yuan: f64,
    pub pipes_yuan: f64,
    pub total_yuan: f64,
    /// None when no water arrives.
    pub unit_yuan_per_m3: Option<f64>,
}

/// The cost and price ledger of a run.
#[derive(Debug, Clone, Serialize)]
pub struct CostLedger {
    pub days: usize,
    pub plants: Vec<PlantCost>,
    pub links: Vec<LinkCost>,
    pub routes: Vec<RouteCost>,
    /// Own cost of pipes that carried no water over the run (in no route).
    pub unallocated_pipes_yuan: f64,
    pub users: Vec<UserPrice>,
    pub plants_yuan: f64,
    pub pipes_yuan: f64,
    /// Plants and pipes.
    pub cost_yuan: f64,
    pub revenue_yuan: f64,
    pub users_saving_yuan: f64,
    /// Revenue − cost (negative: what the city must cover).
    pub city_balance_yuan: f64,
    pub sets: Vec<String>,
    pub weakest: Confidence,
}

fn plant_cost(
    id: &str,
    district: &str,
    energy_per_m3: f64,
    treated: f64,
    days: usize,
    p: &CostParams,
) -> PlantCost {
    let years = days as f64 / 365.0;
    let energy_kwh = treated * energy_per_m3;
    let energy_yuan = energy_kwh * p.tariff_yuan_per_kwh;
    let chemicals_yuan = treated * p.chemicals_yuan_per_m3;
    let om_yuan = p.om_yuan_per_year * years;
    let capital_yuan = annuity(p.capex_yuan, p.discount_rate, p.lifetime_years) * years;
    let total_yuan = energy_yuan + chemicals_yuan + om_yuan + capital_yuan;
    PlantCost {
        plant: id.to_string(),
        district: district.to_string(),
        params: p.clone(),
        treated_m3: treated,
        energy_kwh,
        energy_yuan,
        chemicals_yuan,
        om_yuan,
        capital_yuan,
        total_yuan,
        unit_yuan_per_m3: (treated > 0.0).then(|| total_yuan / treated),
    }
}

fn price_of<'a>(rule: &'a PriceRule, category: &str) -> Option<&'a crate::rules::ClassPrice> {
    rule.classes
        .iter()
        .find(|c| c.categories.iter().any(|x| x == category))
}

fn link_cost(
    region: &rewater_model::Region,
    li: usize,
    flows: &FlowTotals,
    p: Option<&LinkCostParams>,
) -> LinkCost {
    let l = &region.links[li];
    let years = flows.days as f64 / 365.0;
    let flow = flows.link_flow_m3.get(li).copied().unwrap_or(0.0);
    let arrived = flows.link_arrived_m3.get(li).copied().unwrap_or(0.0);
    let (kwh, energy, om, capital) = match p {
        Some(p) => {
            let kwh = flow * p.pumping_kwh_per_m3;
            (
                kwh,
                kwh * p.tariff_yuan_per_kwh,
                p.om_yuan_per_year * years,
                annuity(p.capex_yuan, p.discount_rate, p.lifetime_years) * years,
            )
        }
        None => (0.0, 0.0, 0.0, 0.0),
    };
    LinkCost {
        link: l.id.clone(),
        from: region.nodes[l.from].id.clone(),
        to: region.nodes[l.to].id.clone(),
        flow_m3: flow,
        arrived_m3: arrived,
        loss_m3: flow - arrived,
        params: p.cloned(),
        pumping_kwh: kwh,
        energy_yuan: energy,
        om_yuan: om,
        capital_yuan: capital,
        total_yuan: energy + om + capital,
    }
}

fn district_of(region: &rewater_model::Region, i: usize) -> String {
    match &region.nodes[i].kind {
        NodeKind::Plant(p) => p.district.clone(),
        NodeKind::User(u) => u.district.clone(),
        _ => String::new(),
    }
}

/// The cost and price ledger of an engine run of `region`, with each link's totals of the
/// same run ([`crate::routes::run_with_flows`]) for the cost per supply route.
pub fn cost_of_run(
    book: &RuleBook,
    cost_set: &str,
    price_set: &str,
    region: &rewater_model::Region,
    summary: &rewater_engine::Summary,
    flows: &FlowTotals,
) -> Result<CostLedger, MoneyError> {
    let cs = book.get(cost_set, RuleKind::Cost)?;
    let ps = book.get(price_set, RuleKind::Price)?;
    let missing = |set: &str, what: &str| MoneyError::Rule {
        set: set.into(),
        message: format!("has no [{what}]"),
    };
    let cost = cs.cost.as_ref().ok_or_else(|| missing(cost_set, "cost"))?;
    let price = ps
        .price
        .as_ref()
        .ok_or_else(|| missing(price_set, "price"))?;
    if flows.link_flow_m3.len() != region.links.len()
        || flows.treated_m3.len() != region.nodes.len()
    {
        return Err(MoneyError::Engine(
            "the link totals are not of this model".into(),
        ));
    }
    for l in &cost.link {
        if !region.links.iter().any(|x| x.id == l.id) {
            return Err(MoneyError::Rule {
                set: cost_set.into(),
                message: format!("[[cost.link]] '{}': the model has no such link", l.id),
            });
        }
    }
    let mut plants = Vec::new();
    let mut plant_of_node = vec![None; region.nodes.len()];
    for (i, n) in region.nodes.iter().enumerate() {
        let NodeKind::Plant(p) = &n.kind else {
            continue;
        };
        let treated = summary
            .plants
            .get(&n.id)
            .map(|s| s.treated_m3)
            .unwrap_or(0.0);
        let params = cost
            .plant
            .iter()
            .find(|c| c.id == n.id)
            .unwrap_or(&cost.default);
        plant_of_node[i] = Some(plants.len());
        plants.push(plant_cost(
            &n.id,
            &p.district,
            p.energy_kwh_per_m3,
            treated,
            summary.days,
            params,
        ));
    }
    let links: Vec<LinkCost> = (0..region.links.len())
        .map(|li| {
            let id = &region.links[li].id;
            let p = cost
                .link
                .iter()
                .find(|c| &c.id == id)
                .or(cost.link_default.as_ref());
            link_cost(region, li, flows, p)
        })
        .collect();
    let own: Vec<f64> = links.iter().map(|l| l.total_yuan).collect();
    let tr = crate::routes::trace(region, flows, &own)?;
    let routes = tr
        .routes
        .iter()
        .map(|r| {
            let src = &tr.sources[r.source];
            let pc = plant_of_node[src.node]
                .filter(|_| !src.initial_storage)
                .map(|k| &plants[k]);
            let part = |f: fn(&PlantCost) -> f64| pc.map(|p| f(p) * r.plant_share).unwrap_or(0.0);
            let (energy, chemicals, om, capital) = (
                part(|p| p.energy_yuan),
                part(|p| p.chemicals_yuan),
                part(|p| p.om_yuan),
                part(|p| p.capital_yuan),
            );
            let total = energy + chemicals + om + capital + r.pipes_yuan;
            RouteCost {
                source: region.nodes[src.node].id.clone(),
                initial_storage: src.initial_storage,
                source_district: district_of(region, src.node),
                end: r.end,
                to: region.nodes[r.end_node].id.clone(),
                to_district: district_of(region, r.end_node),
                volume_m3: r.volume_m3,
                energy_yuan: energy,
                chemicals_yuan: chemicals,
                om_yuan: om,
                capital_yuan: capital,
                pipes_yuan: r.pipes_yuan,
                total_yuan: total,
                unit_yuan_per_m3: (r.volume_m3 > 0.0).then(|| total / r.volume_m3),
            }
        })
        .collect();
    let mut users = Vec::new();
    for (id, u) in &summary.users {
        let class = price_of(price, &u.category);
        let p = class.map(|c| c.yuan_per_m3).unwrap_or(0.0);
        let alt = class.and_then(|c| match c.alternative.as_str() {
            "tap" => Some(price.tap_yuan_per_m3.value),
            "groundwater" => Some(price.groundwater_yuan_per_m3.value),
            _ => None,
        });
        users.push(UserPrice {
            user: id.clone(),
            category: u.category.clone(),
            class: class.map(|c| c.class.clone()),
            delivered_m3: u.delivered_m3,
            price_yuan_per_m3: p,
            revenue_yuan: p * u.delivered_m3,
            alternative_yuan_per_m3: alt,
            saving_yuan: alt.map(|a| (a - p) * u.delivered_m3).unwrap_or(0.0),
        });
    }
    let plants_yuan: f64 = plants.iter().map(|p| p.total_yuan).sum();
    let pipes_yuan: f64 = links.iter().map(|l| l.total_yuan).sum();
    let cost_yuan = plants_yuan + pipes_yuan;
    let revenue_yuan: f64 = users.iter().map(|u| u.revenue_yuan).sum();
    Ok(CostLedger {
        days: summary.days,
        users_saving_yuan: users.iter().map(|u| u.saving_yuan).sum(),
        plants,
        links,
        routes,
        unallocated_pipes_yuan: tr.unallocated_pipes_yuan,
        users,
        plants_yuan,
        pipes_yuan,
        cost_yuan,
        revenue_yuan,
        city_balance_yuan: revenue_yuan - cost_yuan,
        sets: vec![cost_set.into(), price_set.into()],
        weakest: cs
            .weakest()
            .min(ps.weakest())
            .min(price.tap_yuan_per_m3.confidence),
    })
}

/// Runs the engine on `region` and computes its cost and price ledger.
pub fn cost_of_model(
    book: &RuleBook,
    cost_set: &str,
    price_set: &str,
    region: &rewater_model::Region,
) -> Result<CostLedger, MoneyError> {
    let (summary, flows) = crate::routes::run_with_flows(region)?;
    cost_of_run(book, cost_set, price_set, region, &summary, &flows)
}

impl CostLedger {
    /// Keeps what a district operator sees: the district's plants, the routes from them
    /// and the pipes out of them (no users, no city balance).
    pub fn only_district(&mut self, d: &str) {
        let plants: Vec<String> = self
            .plants
            .iter()
            .filter(|p| p.district == d)
            .map(|p| p.plant.clone())
            .collect();
        self.plants.retain(|p| p.district == d);
        self.routes
            .retain(|r| !r.initial_storage && plants.contains(&r.source));
        self.links.retain(|l| plants.contains(&l.from));
        self.users.clear();
    }

    pub fn tables(&self, book: &RuleBook, lang: Lang) -> Vec<Table> {
        let mut plants = Table::new(
            "cost-plants",
            Text::new("再生水厂单位成本", "Reclaimed-water unit cost by plant"),
            &[
                ("再生水厂", "plant"),
                ("区", "district"),
                ("处理水量(立方米)", "treated m³"),
                ("电耗(千瓦时)", "energy kWh"),
                ("电费(元)", "energy yuan"),
                ("药剂(元)", "chemicals yuan"),
                ("运维(元)", "O&M yuan"),
                ("折旧年金(元)", "capital annuity yuan"),
                ("总成本(元)", "total yuan"),
                ("单位成本(元/立方米)", "yuan per m³"),
            ],
        );
        for p in &self.plants {
            plants.rows.push(vec![
                Cell::text(&p.plant),
                Cell::text(&p.district),
                Cell::Number(p.treated_m3),
                Cell::Number(p.energy_kwh),
                Cell::yuan(p.energy_yuan),
                Cell::yuan(p.chemicals_yuan),
                Cell::yuan(p.om_yuan),
                Cell::yuan(p.capital_yuan),
                Cell::yuan(p.total_yuan),
                p.unit_yuan_per_m3.map(Cell::Number).unwrap_or(Cell::Empty),
            ]);
        }
        let mut routes = Table::new(
            "cost-routes",
            Text::new(
                "供水线路单位成本（水厂→用户）",
                "Unit cost by supply route (plant → user)",
            ),
            &[
                ("水源", "source"),
                ("水源所在区", "source district"),
                ("去向", "end"),
                ("去向类别", "end kind"),
                ("去向所在区", "end district"),
                ("到达水量(立方米)", "arriving m³"),
                ("电费(元)", "energy yuan"),
                ("药剂(元)", "chemicals yuan"),
                ("运维(元)", "O&M yuan"),
                ("折旧年金(元)", "capital annuity yuan"),
                ("管道(元)", "pipes yuan"),
                ("总成本(元)", "total yuan"),
                ("单位成本(元/立方米)", "yuan per m³"),
            ],
        );
        for r in &self.routes {
            let source = if r.initial_storage {
                format!(
                    "{} {}",
                    r.source,
                    Text::new("（期初蓄水）", "(water at the start)").get(lang)
                )
            } else {
                r.source.clone()
            };
            routes.rows.push(vec![
                Cell::text(source),
                Cell::text(&r.source_district),
                Cell::text(&r.to),
                Cell::text(r.end.label().get(lang)),
                Cell::text(&r.to_district),
                Cell::Number(r.volume_m3),
                Cell::yuan(r.energy_yuan),
                Cell::yuan(r.chemicals_yuan),
                Cell::yuan(r.om_yuan),
                Cell::yuan(r.capital_yuan),
                Cell::yuan(r.pipes_yuan),
                Cell::yuan(r.total_yuan),
                r.unit_yuan_per_m3.map(Cell::Number).unwrap_or(Cell::Empty),
            ]);
        }
        if self.unallocated_pipes_yuan > 0.0 {
            let mut row = vec![Cell::Empty; 13];
            row[3] = Cell::text(
                Text::new(
                    "未分摊：无水的管道",
                    "unallocated: pipes that carried no water",
                )
                .get(lang),
            );
            row[10] = Cell::yuan(self.unallocated_pipes_yuan);
            row[11] = Cell::yuan(self.unallocated_pipes_yuan);
            routes.rows.push(row);
        }
        let mut links = Table::new(
            "cost-pipes",
            Text::new("管道水量与自身成本", "Pipes: water and own cost"),
            &[
                ("管道", "pipe"),
                ("起点", "from"),
                ("终点", "to"),
                ("进入水量(立方米)", "entering m³"),
                ("到达水量(立方米)", "arriving m³"),
                ("漏损(立方米)", "lost m³"),
                ("泵送电耗(千瓦时)", "pumping kWh"),
                ("电费(元)", "energy yuan"),
                ("运维(元)", "O&M yuan"),
                ("折旧年金(元)", "capital annuity yuan"),
                ("总成本(元)", "total yuan"),
            ],
        );
        for l in &self.links {
            links.rows.push(vec![
                Cell::text(&l.link),
                Cell::text(&l.from),
                Cell::text(&l.to),
                Cell::Number(l.flow_m3),
                Cell::Number(l.arrived_m3),
                Cell::Number(l.loss_m3),
                Cell::Number(l.pumping_kwh),
                Cell::yuan(l.energy_yuan),
                Cell::yuan(l.om_yuan),
                Cell::yuan(l.capital_yuan),
                Cell::yuan(l.total_yuan),
            ]);
        }
        let mut users = Table::new(
            "cost-users",
            Text::new(
                "分质价格与用户节省",
                "Price by quality class and users' saving",
            ),
            &[
                ("用户", "user"),
                ("类别", "category"),
                ("价格档", "price class"),
                ("供水量(立方米)", "delivered m³"),
                ("价格(元/立方米)", "price yuan/m³"),
                ("水费(元)", "revenue yuan"),
                ("替代水价(元/立方米)", "alternative yuan/m³"),
                ("用户节省(元)", "saving yuan"),
            ],
        );
        for u in &self.users {
            users.rows.push(vec![
                Cell::text(&u.user),
                Cell::text(&u.category),
                Cell::text(u.class.clone().unwrap_or_default()),
                Cell::Number(u.delivered_m3),
                Cell::Number(u.price_yuan_per_m3),
                Cell::yuan(u.revenue_yuan),
                u.alternative_yuan_per_m3
                    .map(Cell::Number)
                    .unwrap_or(Cell::Empty),
                Cell::yuan(u.saving_yuan),
            ]);
        }
        let mut city = Table::new(
            "cost-city",
            Text::new("城市收支", "The city's balance"),
            &[("项目", "item"), ("金额(元)", "yuan")],
        );
        for (zh, en, v) in [
            ("再生水厂成本", "plants' cost", self.plants_yuan),
            ("管道自身成本", "pipes' own cost", self.pipes_yuan),
            ("再生水总成本", "cost of reclaimed water", self.cost_yuan),
            ("再生水水费收入", "revenue", self.revenue_yuan),
            (
                "收支差额（负数为需财政补足）",
                "balance (negative: to be covered)",
                self.city_balance_yuan,
            ),
            ("用户节省", "users' saving", self.users_saving_yuan),
        ] {
            city.rows
                .push(vec![Cell::text(Text::new(zh, en).get(lang)), Cell::yuan(v)]);
        }
        let notes: Vec<Text> = self
            .sets
            .iter()
            .filter_map(|s| book.sets.get(s))
            .map(rule_note)
            .collect();
        let route_note = Text::new(
            "线路分摊：水厂成本随其处理水量、管道成本随进入管道的水量，按各节点的混合比例沿实际流量分到水的去向；途中漏损的水不分摊成本（由到达的水承担）；排河、无出路、期末蓄存的水分得其份额，不计入用户（docs/money.md）",
            "Routes: a plant's cost follows the water it treated, a pipe's own cost the water entering it, shared at each node by the mix and carried along the run's flows to where the water ends; water lost on the way keeps no cost (the arriving water carries it); water discharged, unrouted or left in storage takes its share, not loaded onto users (docs/money.md)",
        );
        let mut out = vec![plants, routes, links, users, city];
        for t in &mut out {
            t.notes = notes.clone();
            t.unverified = self.weakest == Confidence::Unverified;
        }
        out[1].notes.push(route_note);
        out
    }
}
