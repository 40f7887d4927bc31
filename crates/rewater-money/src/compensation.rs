//! Water-ecology regional compensation (水生态区域补偿) between districts at boundary sections.
//!
//! **Sections** (CSV/XLSX): `id`, `name`, `river`, `upstream` (the district the water leaves),
//! `downstream` (the district it enters; empty, `exit` or 出境 for a section leaving the city),
//! `target` (the section's GB 3838 class, I–V), `inflow` (the section by which the water
//! entered the upstream district, if any: "no worse than the inflow" is judged against it),
//! `site` (the store's site measuring it, if any).
//!
//! **Monthly values** (CSV/XLSX, entered): `section`, `month` (YYYY-MM), `factor` (cod, nh3n,
//! tp or HJ 212 codes), `value` (mg/L, the month's mean); or from the store's daily means at
//! the section's site ([`crate::store::monthly_means`]). Entered values win.
//!
//! **The rule** ([`crate::rules::CompensationRule`], the 2014 shape as publicly reported):
//! each assessed factor's monthly class (GB 3838-2002, single-factor, for a river) against the
//! target: met → 0; worse by k classes (劣V counting as one class beyond V) → k × 300,000
//! yuan, or k × 150,000 when the exit's concentration is no higher than the inflow's; beyond
//! class V an extra charge (its size UNVERIFIED); factors summed. The upstream district pays
//! the downstream one; a section leaving the city pays the municipal pool (UNVERIFIED).

use crate::rules::{CompensationRule, RuleBook, RuleKind, RuleSet};
use crate::sheet::{read_sheet, sheet_from_bytes, Col, Sheet};
use crate::table::{rule_note, Cell, Table};
use crate::{Confidence, InputError, Lang, MoneyError, Text};
use rewater_standards::{Factor, Standard, Standards};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The default rule set.
pub const DEFAULT_SET: &str = "bj-compensation-2014";
/// Index of "worse than class V" (劣V) in the class scale 0 = I … 4 = V.
pub const BEYOND_V: usize = 5;
/// The payee of a section leaving the city.
pub const MUNICIPAL: &str = "municipal";

pub const SECTION_COLUMNS: &[Col] = &[
    Col {
        name: "id",
        aliases: &["编号", "断面编号"],
        required: true,
    },
    Col {
        name: "name",
        aliases: &["名称", "断面名称"],
        required: false,
    },
    Col {
        name: "river",
        aliases: &["河流"],
        required: false,
    },
    Col {
        name: "upstream",
        aliases: &["上游区"],
        required: true,
    },
    Col {
        name: "downstream",
        aliases: &["下游区"],
        required: false,
    },
    Col {
        name: "target",
        aliases: &["考核目标", "目标水质"],
        required: true,
    },
    Col {
        name: "inflow",
        aliases: &["入境断面"],
        required: false,
    },
    Col {
        name: "site",
        aliases: &["站点"],
        required: false,
    },
];

pub const VALUE_COLUMNS: &[Col] = &[
    Col {
        name: "section",
        aliases: &["断面", "断面编号"],
        required: true,
    },
    Col {
        name: "month",
        aliases: &["月份"],
        required: true,
    },
    Col {
        name: "factor",
        aliases: &["因子", "指标"],
        required: true,
    },
    Col {
        name: "value",
        aliases: &["浓度", "数值", "value_mg_l"],
        required: true,
    },
];

/// A boundary section.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub id: String,
    pub name: String,
    pub river: String,
    pub upstream: String,
    /// A district id, or [`MUNICIPAL`] for a section leaving the city.
    pub downstream: String,
    /// 0 = I … 4 = V.
    pub target: usize,
    pub inflow: Option<String>,
    pub site: Option<String>,
}

/// Monthly means: (section, month 1–12) → factor → mg/L.
pub type Values = BTreeMap<(String, u32), BTreeMap<Factor, f64>>;

/// Parses a class written I–V, Ⅰ–Ⅴ, 1–5 (with or without 类 / "class").
pub fn parse_class(s: &str) -> Option<usize> {
    let t = s
        .trim()
        .trim_end_matches('类')
        .trim_start_matches("class")
        .trim();
    Some(match t.to_ascii_uppercase().as_str() {
        "I" | "Ⅰ" | "1" => 0,
        "II" | "Ⅱ" | "2" => 1,
        "III" | "Ⅲ" | "3" => 2,
        "IV" | "Ⅳ" | "4" => 3,
        "V" | "Ⅴ" | "5" => 4,
        _ => return None,
    })
}

/// The class's printed name.
pub fn class_name(c: usize) -> &'static str {
    ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ", "劣Ⅴ"]
        .get(c)
        .copied()
        .unwrap_or("?")
}

pub fn read_sections(
    path: &Path,
    known: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Section>, InputError> {
    sections_from_sheet(&read_sheet(path, SECTION_COLUMNS)?, known)
}

pub fn sections_from_bytes(
    b: &[u8],
    file: &str,
    known: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Section>, InputError> {
    sections_from_sheet(&sheet_from_bytes(b, file, SECTION_COLUMNS)?, known)
}

/// `known` maps a district as written to its id (None: unknown).
fn sections_from_sheet(
    sheet: &Sheet,
    known: &dyn Fn(&str) -> Option<String>,
) -> Result<Vec<Section>, InputError> {
    let mut out: Vec<Section> = Vec::new();
    for r in sheet.rows() {
        let id = r.required("id")?.to_string();
        if out.iter().any(|s| s.id == id) {
            return Err(r.err("id", format!("section '{id}' given twice")));
        }
        let up = r.required("upstream")?;
        let upstream =
            known(up).ok_or_else(|| r.err("upstream", format!("unknown district '{up}'")))?;
        let downstream = match r.text("downstream") {
            "" | "exit" | "出境" | "出市" | "市级" | "municipal" => MUNICIPAL.to_string(),
            d => known(d).ok_or_else(|| r.err("downstream", format!("unknown district '{d}'")))?,
        };
        if downstream == upstream {
            return Err(r.err("downstream", "the same district as upstream"));
        }
        let t = r.required("target")?;
        let target =
            parse_class(t).ok_or_else(|| r.err("target", format!("'{t}' is not a class I–V")))?;
        out.push(Section {
            id,
            name: r.text("name").to_string(),
            river: r.text("river").to_string(),
            upstream,
            downstream,
            target,
            inflow: Some(r.text("inflow").to_string()).filter(|s| !s.is_empty()),
            site: Some(r.text("site").to_string()).filter(|s| !s.is_empty()),
        });
    }
    for s in &out {
        if let Some(i) = &s.inflow {
            if !out.iter().any(|o| &o.id == i) {
                return Err(InputError::file(
                    &sheet.file,
                    format!(
                        "section '{}': inflow section '{i}' is not in the list",
                        s.id
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// Reads entered monthly values of one year.
pub fn read_values(path: &Path, year: i32) -> Result<Values, InputError> {
    values_from_sheet(&read_sheet(path, VALUE_COLUMNS)?, year)
}

pub fn values_from_bytes(b: &[u8], file: &str, year: i32) -> Result<Values, InputError> {
    values_from_sheet(&sheet_from_bytes(b, file, VALUE_COLUMNS)?, year)
}

fn values_from_sheet(sheet: &Sheet, year: i32) -> Result<Values, InputError> {
    let mut out = Values::new();
    for r in sheet.rows() {
        let m = r.required("month")?;
        let (y, mo) = m
            .split_once('-')
            .and_then(|(y, mo)| Some((y.parse::<i32>().ok()?, mo.parse::<u32>().ok()?)))
            .filter(|(_, mo)| (1..=12).contains(mo))
            .ok_or_else(|| r.err("month", format!("'{m}' is not YYYY-MM")))?;
        if y != year {
            continue;
        }
        let f = r.required("factor")?;
        let factor = Factor::parse(f).map_err(|e| r.err("factor", e.to_string()))?;
        let v = r.number("value")?;
        let slot = out
            .entry((r.required("section")?.to_string(), mo))
            .or_default();
        if slot.insert(factor, v).is_some() {
            return Err(r.err("value", format!("{m} {f} given twice for this section")));
        }
    }
    Ok(out)
}

/// Which branch of the rule a factor's month fell in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Branch {
    Meets,
    /// Worse than the target by this many classes.
    Worse(u32),
    /// Missed, but no worse than the inflow.
    NoWorseThanInflow(u32),
}

/// One factor of one section's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactorMonth {
    pub factor: Factor,
    pub value: f64,
    /// 0 = I … 4 = V, 5 = 劣V.
    pub class: usize,
    pub inflow_value: Option<f64>,
    pub branch: Branch,
    pub beyond_v: bool,
    pub yuan: f64,
}

/// One section's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SectionMonth {
    pub section: String,
    pub month: u32,
    pub payer: String,
    pub payee: String,
    pub factors: Vec<FactorMonth>,
    /// Factors without a value that month (not assessed: nothing charged).
    pub not_measured: Vec<Factor>,
    pub yuan: f64,
}

/// The compensation ledger of a year.
#[derive(Debug, Clone, Serialize)]
pub struct Compensation {
    pub set: String,
    pub year: i32,
    pub in_force: bool,
    pub months: Vec<SectionMonth>,
    /// month → (payer, payee) → yuan.
    #[serde(serialize_with = "crate::nested_pairs")]
    pub matrix: BTreeMap<u32, BTreeMap<(String, String), f64>>,
    /// district (or municipal) → (paid, received).
    pub settlement: BTreeMap<String, (f64, f64)>,
    pub weakest: Confidence,
}

/// The class of a value of `factor` in GB 3838 for a river (5 = 劣V); None when the standard
/// sets no limit for it.
pub fn class_of(std: &Standard, factor: Factor, value: f64) -> Option<usize> {
    use rewater_standards::{Context, WaterBody};
    let ctx = Context {
        water_body: Some(WaterBody::River),
        ..Default::default()
    };
    let reading = rewater_standards::Reading::new(factor, value, factor.info().unit).ok()?;
    let opts = rewater_standards::ClassifyOptions {
        only: Some(vec![factor]),
        ..Default::default()
    };
    let c = rewater_standards::classify(std, &[reading], &ctx, &opts).ok()?;
    if c.factors.is_empty() {
        return None;
    }
    Some(c.class.unwrap_or(BEYOND_V))
}

/// Assesses one factor's month.
pub fn assess(
    rule: &CompensationRule,
    target: usize,
    class: usize,
    value: f64,
    inflow: Option<f64>,
) -> (Branch, bool, f64) {
    if class <= target {
        return (Branch::Meets, false, 0.0);
    }
    let k = (class - target) as u32;
    let no_worse = inflow.is_some_and(|i| value <= i);
    let (branch, rate) = if no_worse {
        (
            Branch::NoWorseThanInflow(k),
            rule.per_class_no_worse_than_inflow.value,
        )
    } else {
        (Branch::Worse(k), rule.per_class.value)
    };
    let beyond = class == BEYOND_V;
    let extra = if beyond {
        rule.beyond_v_extra.value
    } else {
        0.0
    };
    (branch, beyond, k as f64 * rate + extra)
}

fn the_rule(set: &RuleSet) -> Result<&CompensationRule, MoneyError> {
    set.compensation.as_ref().ok_or_else(|| MoneyError::Rule {
        set: set.id.clone(),
        message: "carries no formula (not confirmed): give a rule file of the same id with a [compensation] table".into(),
    })
}

/// The compensation of a year under the rule set `set_id`.
pub fn compensation(
    book: &RuleBook,
    set_id: &str,
    standards: &Standards,
    sections: &[Section],
    values: &Values,
    year: i32,
) -> Result<Compensation, MoneyError> {
    let set = book.get(set_id, RuleKind::Compensation)?;
    let rule = the_rule(set)?;
    let std = standards
        .get(&rule.standard)
        .ok_or_else(|| MoneyError::Rule {
            set: set_id.into(),
            message: format!("standard '{}' is not known", rule.standard),
        })?;
    let factors = rule
        .factors
        .iter()
        .map(|f| Factor::parse(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| MoneyError::Rule {
            set: set_id.into(),
            message: e.to_string(),
        })?;
    let sum = rule.sum_over_factors.value != 0.0;
    let mut out = Compensation {
        set: set_id.to_string(),
        year,
        in_force: set.in_force(year),
        months: Vec::new(),
        matrix: BTreeMap::new(),
        settlement: BTreeMap::new(),
        weakest: set.weakest(),
    };
    for month in 1..=12u32 {
        for s in sections {
            let vals = values.get(&(s.id.clone(), month));
            let inflow = s
                .inflow
                .as_ref()
                .and_then(|i| values.get(&(i.clone(), month)));
            let mut sm = SectionMonth {
                section: s.id.clone(),
                month,
                payer: s.upstream.clone(),
                payee: s.downstream.clone(),
                factors: Vec::new(),
                not_measured: Vec::new(),
                yuan: 0.0,
            };
            for &f in &factors {
                let Some(&v) = vals.and_then(|m| m.get(&f)) else {
                    sm.not_measured.push(f);
                    continue;
                };
                let Some(class) = class_of(std, f, v) else {
                    sm.not_measured.push(f);
                    continue;
                };
                let iv = inflow.and_then(|m| m.get(&f)).copied();
                let (branch, beyond_v, yuan) = assess(rule, s.target, class, v, iv);
                sm.factors.push(FactorMonth {
                    factor: f,
                    value: v,
                    class,
                    inflow_value: iv,
                    branch,
                    beyond_v,
                    yuan,
                });
            }
            sm.yuan = if sum {
                sm.factors.iter().map(|f| f.yuan).sum()
            } else {
                sm.factors.iter().map(|f| f.yuan).fold(0.0, f64::max)
            };
            if sm.yuan > 0.0 {
                *out.matrix
                    .entry(month)
                    .or_default()
                    .entry((sm.payer.clone(), sm.payee.clone()))
                    .or_insert(0.0) += sm.yuan;
                out.settlement.entry(sm.payer.clone()).or_default().0 += sm.yuan;
                out.settlement.entry(sm.payee.clone()).or_default().1 += sm.yuan;
            }
            out.months.push(sm);
        }
    }
    Ok(out)
}

impl Compensation {
    /// The tables: section months, the monthly matrix, the annual settlement.
    pub fn tables(&self, book: &RuleBook, name: &dyn Fn(&str) -> String, lang: Lang) -> Vec<Table> {
        let notes: Vec<Text> = book
            .sets
            .get(&self.set)
            .map(rule_note)
            .into_iter()
            .collect();
        let unverified = self.weakest == Confidence::Unverified;
        let conf = self.weakest.label(lang).to_string();
        let mut detail = Table::new(
            "compensation-sections",
            Text::new("跨界断面逐月考核", "Boundary sections by month"),
            &[
                ("月份", "month"),
                ("断面", "section"),
                ("上游区(付)", "upstream (pays)"),
                ("下游(收)", "downstream (receives)"),
                ("因子", "factor"),
                ("浓度(mg/L)", "mg/L"),
                ("类别", "class"),
                ("入境浓度", "inflow mg/L"),
                ("情形", "branch"),
                ("补偿金(元)", "yuan"),
                ("可信度", "confidence"),
            ],
        );
        for m in &self.months {
            let month = format!("{}-{:02}", self.year, m.month);
            for f in &m.factors {
                let branch = match (f.branch, lang) {
                    (Branch::Meets, Lang::Zh) => "达标".to_string(),
                    (Branch::Meets, Lang::En) => "meets".to_string(),
                    (Branch::Worse(k), Lang::Zh) => format!("超标{k}个类别"),
                    (Branch::Worse(k), Lang::En) => format!("{k} class(es) worse"),
                    (Branch::NoWorseThanInflow(k), Lang::Zh) => {
                        format!("超标{k}个类别，不劣于入境")
                    }
                    (Branch::NoWorseThanInflow(k), Lang::En) => {
                        format!("{k} class(es) worse, no worse than inflow")
                    }
                };
                let branch = if f.beyond_v {
                    match lang {
                        Lang::Zh => format!("{branch}，劣Ⅴ类追加"),
                        Lang::En => format!("{branch}, beyond class V"),
                    }
                } else {
                    branch
                };
                detail.rows.push(vec![
                    Cell::text(&month),
                    Cell::text(&m.section),
                    Cell::text(name(&m.payer)),
                    Cell::text(name(&m.payee)),
                    Cell::text(f.factor.short_name()),
                    Cell::Number(f.value),
                    Cell::text(class_name(f.class)),
                    f.inflow_value.map(Cell::Number).unwrap_or(Cell::Empty),
                    Cell::text(branch),
                    Cell::yuan(f.yuan),
                    Cell::text(&conf),
                ]);
            }
            for f in &m.not_measured {
                detail.rows.push(vec![
                    Cell::text(&month),
                    Cell::text(&m.section),
                    Cell::text(name(&m.payer)),
                    Cell::text(name(&m.payee)),
                    Cell::text(f.short_name()),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::Empty,
                    Cell::text(match lang {
                        Lang::Zh => "未监测（不计）",
                        Lang::En => "not measured (not charged)",
                    }),
                    Cell::Empty,
                    Cell::text(&conf),
                ]);
            }
        }
        let mut matrix = Table::new(
            "compensation-matrix",
            Text::new("逐月补偿矩阵（付→收）", "Monthly payer → payee matrix"),
            &[
                ("月份", "month"),
                ("付款区", "payer"),
                ("收款方", "payee"),
                ("补偿金(元)", "yuan"),
                ("可信度", "confidence"),
            ],
        );
        for (month, m) in &self.matrix {
            for ((a, b), v) in m {
                matrix.rows.push(vec![
                    Cell::text(format!("{}-{month:02}", self.year)),
                    Cell::text(name(a)),
                    Cell::text(name(b)),
                    Cell::yuan(*v),
                    Cell::text(&conf),
                ]);
            }
        }
        let mut settle = Table::new(
            "compensation-settlement",
            Text::new("年度结算", "Annual settlement"),
            &[
                ("区", "district"),
                ("应缴(元)", "pays yuan"),
                ("应收(元)", "receives yuan"),
                ("净额(元)", "net yuan"),
                ("可信度", "confidence"),
            ],
        );
        for (d, (paid, got)) in &self.settlement {
            settle.rows.push(vec![
                Cell::text(name(d)),
                Cell::yuan(*paid),
                Cell::yuan(*got),
                Cell::yuan(got - paid),
                Cell::text(&conf),
            ]);
        }
        let mut extra = notes;
        if !self.in_force {
            extra.push(Text::new(
                &format!("注意：规则 {} 在{}年不在有效期内", self.set, self.year),
                &format!(
                    "Note: rule set {} is not in force in {}",
                    self.set, self.year
                ),
            ));
        }
        let mut out = vec![detail, matrix, settle];
        for t in &mut out {
            t.notes = extra.clone();
            t.unverified = unverified;
        }
        out
    }
}
