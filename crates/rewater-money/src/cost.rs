//! Reclaimed-water unit cost (再生水单位成本) per plant from an engine run, and the price by
//! quality class (优质优价) against tap and groundwater, with the users' and the city's yearly
//! figures. Costs are yuan: the solver's `cost_per_m3` weights play no part.
//!
//! A plant's cost over the run: energy (treated m³ × the model's `energy_kwh_per_m3` × the
//! tariff), chemicals (元/m³ × treated), fixed O&M and the capital annuity
//! `capex · r / (1 − (1 + r)^−n)` (both per year, pro rata over the run's days); the unit
//! cost is the total over the treated volume. Users pay the price of their category's class;
//! their saving is the alternative's price (tap or groundwater) less that price, times the
//! water delivered; the city's balance is the revenue less the plants' cost.

use crate::rules::{CostParams, PriceRule, RuleBook, RuleKind};
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

/// The cost and price ledger of a run.
#[derive(Debug, Clone, Serialize)]
pub struct CostLedger {
    pub days: usize,
    pub plants: Vec<PlantCost>,
    pub users: Vec<UserPrice>,
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

/// The cost and price ledger of an engine run of `region`.
pub fn cost_of_run(
    book: &RuleBook,
    cost_set: &str,
    price_set: &str,
    region: &rewater_model::Region,
    summary: &rewater_engine::Summary,
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
    let mut plants = Vec::new();
    for n in &region.nodes {
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
        plants.push(plant_cost(
            &n.id,
            &p.district,
            p.energy_kwh_per_m3,
            treated,
            summary.days,
            params,
        ));
    }
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
    let cost_yuan: f64 = plants.iter().map(|p| p.total_yuan).sum();
    let revenue_yuan: f64 = users.iter().map(|u| u.revenue_yuan).sum();
    Ok(CostLedger {
        days: summary.days,
        users_saving_yuan: users.iter().map(|u| u.saving_yuan).sum(),
        plants,
        users,
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

impl CostLedger {
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
        let mut out = vec![plants, users, city];
        for t in &mut out {
            t.notes = notes.clone();
            t.unverified = self.weakest == Confidence::Unverified;
        }
        out
    }
}
