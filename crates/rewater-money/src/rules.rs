//! Rule sets as versioned data: each file under `money/rules/` (embedded at build time) is
//! one rule set with its document, validity dates, confidence and rules, each rule with its
//! clause, quote (for a seed) and confidence. A user file of the same shape replaces the
//! bundled set of the same id, or adds a new one, without recompiling.

use crate::areas::{AreaClass, Location, Setting, MAX_FILE_BYTES};
use crate::{Confidence, InputError, MoneyError, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

const BUNDLED: &[(&str, &str)] = &[
    (
        "money/rules/jzf-2023-6-water-environment.toml",
        include_str!("../../../money/rules/jzf-2023-6-water-environment.toml"),
    ),
    (
        "money/rules/jzf-2023-7-water-supply.toml",
        include_str!("../../../money/rules/jzf-2023-7-water-supply.toml"),
    ),
    (
        "money/rules/om-base-rate-by-scale.toml",
        include_str!("../../../money/rules/om-base-rate-by-scale.toml"),
    ),
    (
        "money/rules/bj-compensation-2014.toml",
        include_str!("../../../money/rules/bj-compensation-2014.toml"),
    ),
    (
        "money/rules/bj-compensation-2022.toml",
        include_str!("../../../money/rules/bj-compensation-2022.toml"),
    ),
    (
        "money/rules/pfp-example.toml",
        include_str!("../../../money/rules/pfp-example.toml"),
    ),
    (
        "money/rules/reclaimed-price.toml",
        include_str!("../../../money/rules/reclaimed-price.toml"),
    ),
    (
        "money/rules/reclaimed-cost-example.toml",
        include_str!("../../../money/rules/reclaimed-cost-example.toml"),
    ),
];

/// What a rule set is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    Funding,
    BaseRate,
    Compensation,
    Fees,
    Price,
    Cost,
}

/// Who pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Payer {
    /// 市政府固定资产投资.
    MunicipalFai,
    /// 市级财政.
    MunicipalFinance,
    /// 所在区政府.
    District,
    /// 所在地区、乡镇政府共同承担 (no split stated).
    DistrictTownship,
    /// 特许经营主体.
    Concession,
    /// 市自来水集团.
    WaterGroup,
}

impl Payer {
    pub fn id(self) -> &'static str {
        match self {
            Payer::MunicipalFai => "municipal_fai",
            Payer::MunicipalFinance => "municipal_finance",
            Payer::District => "district",
            Payer::DistrictTownship => "district_township",
            Payer::Concession => "concession",
            Payer::WaterGroup => "water_group",
        }
    }
    pub fn name(self) -> Text {
        match self {
            Payer::MunicipalFai => {
                Text::new("市政府固定资产投资", "municipal fixed-asset investment")
            }
            Payer::MunicipalFinance => Text::new("市级财政", "municipal finance"),
            Payer::District => Text::new("区政府", "district government"),
            Payer::DistrictTownship => {
                Text::new("区、乡镇政府共同承担", "district and township jointly")
            }
            Payer::Concession => Text::new("特许经营主体", "concession holder"),
            Payer::WaterGroup => Text::new("市自来水集团", "Beijing Waterworks Group"),
        }
    }
    /// Whether the payer is the project's own district (or its townships).
    pub fn is_local(self) -> bool {
        matches!(self, Payer::District | Payer::DistrictTownship)
    }
}

/// One payer's part.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Part {
    pub payer: Payer,
    pub fraction: f64,
}

/// A rule's conditions on the place (every condition given must hold): area classes,
/// urban/rural settings, district ids, township tags, mountain or not.
pub trait Conditions {
    fn holds(&self, loc: &Location, setting: Option<Setting>) -> bool;
}

macro_rules! conditions {
    ($($t:ty),*) => {$(
        impl Conditions for $t {
            fn holds(&self, loc: &Location, setting: Option<Setting>) -> bool {
                (self.areas.is_empty() || self.areas.contains(&loc.class))
                    && (self.settings.is_empty()
                        || setting.is_some_and(|s| self.settings.contains(&s)))
                    && (self.districts.is_empty() || self.districts.contains(&loc.district))
                    && self.tags.iter().all(|t| loc.tags.contains(t))
                    && self.mountain.is_none_or(|m| m == loc.mountain)
            }
        }
    )*};
}
conditions!(ShareRule, OmShare, StationRule);

/// A construction funding rule.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRule {
    pub id: String,
    pub clause: String,
    #[serde(default)]
    pub quote: String,
    pub confidence: Confidence,
    #[serde(default)]
    pub note: Option<Text>,
    #[serde(default)]
    pub areas: Vec<AreaClass>,
    #[serde(default)]
    pub settings: Vec<Setting>,
    #[serde(default)]
    pub districts: Vec<String>,
    /// Tags the place must all carry (a township's tags, e.g. `subcentre_key_town`).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub mountain: Option<bool>,
    pub assets: Vec<String>,
    pub construction: Vec<Part>,
    /// Land and relocation (征地拆迁); empty: the clause does not say.
    #[serde(default)]
    pub land: Vec<Part>,
}

/// The O&M subsidy bases of 三(十二).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OmBase {
    pub clause: String,
    #[serde(default)]
    pub quote: String,
    pub confidence: Confidence,
    pub plant_min_yuan_per_m3: f64,
    pub plant_max_yuan_per_m3: f64,
    pub pipe_yuan_per_m_year: f64,
}

/// The municipal share of O&M subsidies in an area.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OmShare {
    pub id: String,
    pub clause: String,
    #[serde(default)]
    pub quote: String,
    pub confidence: Confidence,
    #[serde(default)]
    pub areas: Vec<AreaClass>,
    #[serde(default)]
    pub settings: Vec<Setting>,
    #[serde(default)]
    pub districts: Vec<String>,
    /// Tags the place must all carry (a township's tags, e.g. `subcentre_key_town`).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub mountain: Option<bool>,
    pub municipal: f64,
}

/// The O&M subsidy of village water-supply stations.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StationRule {
    pub id: String,
    pub clause: String,
    #[serde(default)]
    pub quote: String,
    pub confidence: Confidence,
    #[serde(default)]
    pub areas: Vec<AreaClass>,
    #[serde(default)]
    pub settings: Vec<Setting>,
    #[serde(default)]
    pub districts: Vec<String>,
    /// Tags the place must all carry (a township's tags, e.g. `subcentre_key_town`).
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub mountain: Option<bool>,
    pub base_yuan_per_village_year: f64,
    pub municipal: f64,
}

/// One tier of a base rate by scale.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScaleTier {
    /// Design capacity below which the tier applies; none: every capacity (the last tier).
    #[serde(default)]
    pub below_m3_per_day: Option<f64>,
    pub rate: f64,
}

/// How the bureau chooses a plant's base rate within the range.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum BaseRateRule {
    /// By design capacity (tiers in increasing order of `below_m3_per_day`).
    Scale { tiers: Vec<ScaleTier> },
    /// By treatment process (an input column `process`), with a default.
    Process {
        rates: BTreeMap<String, f64>,
        default: f64,
    },
    /// By district id, with a default.
    District {
        rates: BTreeMap<String, f64>,
        default: f64,
    },
}

/// A figure with its own source and confidence.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Param {
    pub value: f64,
    pub confidence: Confidence,
    pub source: String,
}

/// A compensation formula of the 2014 shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationRule {
    /// The classification standard (GB 3838-2002).
    pub standard: String,
    /// The assessed factors (names or HJ 212 codes).
    pub factors: Vec<String>,
    /// Yuan per section, month and class of deterioration.
    pub per_class: Param,
    /// The same when the exit is no worse than its inflow.
    pub per_class_no_worse_than_inflow: Param,
    /// 1 when pollutants are summed (0: the worst pollutant only).
    pub sum_over_factors: Param,
    /// Extra yuan per factor and month beyond class V.
    pub beyond_v_extra: Param,
    /// Who receives the money of a section leaving the city (0: the municipal pool).
    pub exit_payee: Param,
}

/// One compliance tier of a contract.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplianceTier {
    pub min_rate: f64,
    pub deduction: f64,
}

/// A bonus per tonne of a pollutant removed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadBonus {
    pub factor: String,
    pub yuan_per_t: f64,
}

/// An operator contract (按效付费).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    /// Plant id, or `*` for every plant without a contract of its own.
    pub plant: String,
    pub base_yuan_per_m3: f64,
    /// Tiers (any order): the one with the highest minimum the month reaches applies.
    pub compliance: Vec<ComplianceTier>,
    #[serde(default)]
    pub load_bonus: Vec<LoadBonus>,
}

/// A price band of a quality class.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassPrice {
    pub class: String,
    pub name: Text,
    pub yuan_per_m3: f64,
    /// The model's user categories priced by this class.
    #[serde(default)]
    pub categories: Vec<String>,
    /// What the user would otherwise buy: `tap`, `groundwater` or `none`.
    pub alternative: String,
}

/// Prices by quality class against tap and groundwater.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceRule {
    pub classes: Vec<ClassPrice>,
    pub tap_yuan_per_m3: Param,
    pub groundwater_yuan_per_m3: Param,
}

/// A plant's cost parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostParams {
    #[serde(default)]
    pub id: String,
    pub tariff_yuan_per_kwh: f64,
    pub chemicals_yuan_per_m3: f64,
    pub om_yuan_per_year: f64,
    pub capex_yuan: f64,
    pub lifetime_years: u32,
    pub discount_rate: f64,
}

/// A pipe's (a model link's) own cost parameters: pumping energy per m³ entering the link at
/// a tariff, fixed O&M and the capital annuity of its capex. Omitted figures are 0.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkCostParams {
    /// The model link's id ("FROM->TO" unless the model names it); empty for the default.
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub tariff_yuan_per_kwh: f64,
    #[serde(default)]
    pub pumping_kwh_per_m3: f64,
    #[serde(default)]
    pub om_yuan_per_year: f64,
    #[serde(default)]
    pub capex_yuan: f64,
    #[serde(default = "one_year")]
    pub lifetime_years: u32,
    #[serde(default)]
    pub discount_rate: f64,
}

fn one_year() -> u32 {
    1
}

/// Cost parameters: a default and per plant; pipes by link id, and a default for the rest
/// (none: a pipe without figures costs nothing of its own).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CostRule {
    pub default: CostParams,
    #[serde(default)]
    pub plant: Vec<CostParams>,
    #[serde(default)]
    pub link_default: Option<LinkCostParams>,
    #[serde(default)]
    pub link: Vec<LinkCostParams>,
}

/// A rule set (one file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSet {
    pub id: String,
    pub version: String,
    pub kind: RuleKind,
    pub title: Text,
    pub document: String,
    #[serde(default)]
    pub url: Option<String>,
    pub valid_from: String,
    #[serde(default)]
    pub valid_to: Option<String>,
    pub confidence: Confidence,
    #[serde(default)]
    pub seed_file: Option<String>,
    #[serde(default)]
    pub share: Vec<ShareRule>,
    #[serde(default)]
    pub om_base: Option<OmBase>,
    #[serde(default)]
    pub om_share: Vec<OmShare>,
    #[serde(default)]
    pub station: Vec<StationRule>,
    #[serde(default)]
    pub base_rate: Option<BaseRateRule>,
    #[serde(default)]
    pub compensation: Option<CompensationRule>,
    #[serde(default)]
    pub contract: Vec<Contract>,
    #[serde(default)]
    pub price: Option<PriceRule>,
    #[serde(default)]
    pub cost: Option<CostRule>,
    /// The file it came from.
    #[serde(skip_deserializing, default)]
    pub file: String,
}

fn year_of(date: &str) -> Option<i32> {
    let mut it = date.split('-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if it.next().is_some() {
        return None;
    }
    let (y, m, d) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    rewater_time::Date::from_ymd(y, m, d).map(|_| y)
}

fn fraction_ok(x: f64) -> bool {
    x.is_finite() && (0.0..=1.0).contains(&x)
}

impl RuleSet {
    /// Parses and checks a rule set.
    pub fn parse(text: &str, file: &str) -> Result<RuleSet, InputError> {
        let mut s: RuleSet =
            toml::from_str(text).map_err(|e| InputError::file(file, e.to_string()))?;
        s.file = file.to_string();
        s.check()
            .map_err(|m| InputError::file(file, format!("rule set '{}': {m}", s.id)))?;
        Ok(s)
    }

    /// The first year the set is in force.
    pub fn first_year(&self) -> i32 {
        year_of(&self.valid_from).unwrap_or(i32::MIN)
    }

    /// The last year (none: still in force).
    pub fn last_year(&self) -> Option<i32> {
        self.valid_to.as_deref().and_then(year_of)
    }

    /// Whether the set is in force in (any part of) `year`.
    pub fn in_force(&self, year: i32) -> bool {
        year >= self.first_year() && self.last_year().is_none_or(|l| year <= l)
    }

    fn check(&self) -> Result<(), String> {
        if self.id.is_empty() || self.id.len() > 64 {
            return Err("id must be 1–64 characters".into());
        }
        if year_of(&self.valid_from).is_none() {
            return Err(format!(
                "valid_from '{}' is not a date YYYY-MM-DD",
                self.valid_from
            ));
        }
        if let Some(t) = &self.valid_to {
            if year_of(t).is_none() {
                return Err(format!("valid_to '{t}' is not a date YYYY-MM-DD"));
            }
            if t.as_str() < self.valid_from.as_str() {
                return Err("valid_to is before valid_from".into());
            }
        }
        for r in &self.share {
            for (what, parts) in [("construction", &r.construction), ("land", &r.land)] {
                if parts.iter().any(|p| !fraction_ok(p.fraction)) {
                    return Err(format!("share '{}', {what}: a fraction outside 0–1", r.id));
                }
                let sum: f64 = parts.iter().map(|p| p.fraction).sum();
                if !parts.is_empty() && (sum - 1.0).abs() > 1e-9 {
                    return Err(format!(
                        "share '{}', {what}: fractions add up to {sum}, not 1",
                        r.id
                    ));
                }
            }
            if r.construction.is_empty() || r.assets.is_empty() {
                return Err(format!(
                    "share '{}': no construction parts or no assets",
                    r.id
                ));
            }
        }
        if let Some(b) = &self.om_base {
            let ok = b.plant_min_yuan_per_m3.is_finite()
                && b.plant_min_yuan_per_m3 >= 0.0
                && b.plant_max_yuan_per_m3 >= b.plant_min_yuan_per_m3
                && b.pipe_yuan_per_m_year.is_finite()
                && b.pipe_yuan_per_m_year >= 0.0;
            if !ok {
                return Err("om_base: the range or the pipe rate is not valid".into());
            }
        }
        for (id, m) in self
            .om_share
            .iter()
            .map(|r| (&r.id, r.municipal))
            .chain(self.station.iter().map(|r| (&r.id, r.municipal)))
        {
            if !fraction_ok(m) {
                return Err(format!("'{id}': municipal share {m} outside 0–1"));
            }
        }
        if self.station.iter().any(|r| {
            !(r.base_yuan_per_village_year.is_finite() && r.base_yuan_per_village_year >= 0.0)
        }) {
            return Err("station: a base that is not a number ≥ 0".into());
        }
        if let Some(BaseRateRule::Scale { tiers }) = &self.base_rate {
            if tiers.last().is_none_or(|t| t.below_m3_per_day.is_some()) {
                return Err("base_rate: the last tier must have no `below_m3_per_day`".into());
            }
        }
        if let Some(c) = &self.compensation {
            for p in [
                &c.per_class,
                &c.per_class_no_worse_than_inflow,
                &c.beyond_v_extra,
            ] {
                if !(p.value.is_finite() && p.value >= 0.0) {
                    return Err("compensation: an amount that is not a number ≥ 0".into());
                }
            }
            for f in &c.factors {
                rewater_standards::Factor::parse(f).map_err(|e| e.to_string())?;
            }
        }
        if let Some(c) = &self.cost {
            for p in std::iter::once(&c.default).chain(&c.plant) {
                let ok = [
                    p.tariff_yuan_per_kwh,
                    p.chemicals_yuan_per_m3,
                    p.om_yuan_per_year,
                    p.capex_yuan,
                ]
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0)
                    && (1..=200).contains(&p.lifetime_years)
                    && p.discount_rate.is_finite()
                    && (0.0..1.0).contains(&p.discount_rate);
                if !ok {
                    return Err(format!("cost '{}': a figure out of range", p.id));
                }
            }
            for p in c.link_default.iter().chain(&c.link) {
                let ok = [
                    p.tariff_yuan_per_kwh,
                    p.pumping_kwh_per_m3,
                    p.om_yuan_per_year,
                    p.capex_yuan,
                ]
                .iter()
                .all(|x| x.is_finite() && *x >= 0.0)
                    && (1..=200).contains(&p.lifetime_years)
                    && p.discount_rate.is_finite()
                    && (0.0..1.0).contains(&p.discount_rate);
                if !ok {
                    return Err(format!("cost link '{}': a figure out of range", p.id));
                }
            }
        }
        if let Some(p) = &self.price {
            for c in &p.classes {
                let ok = c.yuan_per_m3.is_finite()
                    && c.yuan_per_m3 >= 0.0
                    && ["tap", "groundwater", "none"].contains(&c.alternative.as_str());
                if !ok {
                    return Err(format!(
                        "price class '{}': a price < 0 or an alternative not tap/groundwater/none",
                        c.class
                    ));
                }
            }
        }
        for c in &self.contract {
            let ok = c.base_yuan_per_m3.is_finite()
                && c.base_yuan_per_m3 >= 0.0
                && c.compliance
                    .iter()
                    .all(|t| fraction_ok(t.min_rate) && fraction_ok(t.deduction))
                && c.load_bonus
                    .iter()
                    .all(|b| b.yuan_per_t.is_finite() && b.yuan_per_t >= 0.0);
            if !ok {
                return Err(format!(
                    "contract '{}': a price, rate or deduction out of range",
                    c.plant
                ));
            }
            for b in &c.load_bonus {
                rewater_standards::Factor::parse(&b.factor).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The weakest confidence of the set and of everything in it.
    pub fn weakest(&self) -> Confidence {
        let mut c = self.confidence;
        for r in &self.share {
            c = c.min(r.confidence);
        }
        for r in &self.om_share {
            c = c.min(r.confidence);
        }
        for r in &self.station {
            c = c.min(r.confidence);
        }
        if let Some(x) = &self.compensation {
            for p in [
                &x.per_class,
                &x.per_class_no_worse_than_inflow,
                &x.sum_over_factors,
                &x.beyond_v_extra,
                &x.exit_payee,
            ] {
                c = c.min(p.confidence);
            }
        }
        c
    }
}

/// Reads a small text file (rules, areas, sections), refusing what is not a regular file or
/// is too large.
pub fn read_text(path: &Path) -> Result<String, InputError> {
    let file = path.display().to_string();
    let meta = std::fs::metadata(path).map_err(|e| InputError::file(&file, e.to_string()))?;
    if !meta.is_file() {
        return Err(InputError::file(&file, "not a regular file"));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(InputError::file(
            &file,
            format!("larger than {MAX_FILE_BYTES} bytes"),
        ));
    }
    let mut s = String::new();
    std::fs::File::open(path)
        .map_err(|e| InputError::file(&file, e.to_string()))?
        .take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut s)
        .map_err(|e| InputError::file(&file, format!("not UTF-8 text: {e}")))?;
    Ok(s)
}

/// The rule sets in use, by id.
#[derive(Debug, Clone, Serialize)]
pub struct RuleBook {
    pub sets: BTreeMap<String, RuleSet>,
}

impl RuleBook {
    /// The bundled rule sets (checked by the tests).
    pub fn bundled() -> RuleBook {
        let mut sets = BTreeMap::new();
        for (file, text) in BUNDLED {
            match RuleSet::parse(text, file) {
                Ok(s) => {
                    sets.insert(s.id.clone(), s);
                }
                Err(e) => tracing::error!(error = %e, "bundled money rules"),
            }
        }
        RuleBook { sets }
    }

    /// The files bundled, as (path, text): for tests and `rewater money rules`.
    pub fn bundled_files() -> &'static [(&'static str, &'static str)] {
        BUNDLED
    }

    /// Adds a rule set, replacing one of the same id.
    pub fn add(&mut self, s: RuleSet) {
        self.sets.insert(s.id.clone(), s);
    }

    /// Adds the rule set of a user file.
    pub fn add_file(&mut self, path: &Path) -> Result<&RuleSet, InputError> {
        let text = read_text(path)?;
        let s = RuleSet::parse(&text, &path.display().to_string())?;
        let id = s.id.clone();
        self.add(s);
        Ok(&self.sets[&id])
    }

    /// A set by id, of the given kind.
    pub fn get(&self, id: &str, kind: RuleKind) -> Result<&RuleSet, MoneyError> {
        match self.sets.get(id) {
            Some(s) if s.kind == kind => Ok(s),
            Some(s) => Err(MoneyError::Rule {
                set: id.into(),
                message: format!("is a {:?} rule set, not {kind:?}", s.kind),
            }),
            None => Err(MoneyError::Rule {
                set: id.into(),
                message: format!(
                    "unknown rule set (known: {})",
                    self.sets.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            }),
        }
    }

    /// The sets of a kind, in id order.
    pub fn of_kind(&self, kind: RuleKind) -> Vec<&RuleSet> {
        self.sets.values().filter(|s| s.kind == kind).collect()
    }
}
