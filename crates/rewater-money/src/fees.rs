//! Pay-for-performance fees (按效付费 / 按质付费): a plant's monthly service fee from its
//! operator contract (as data, [`crate::rules::Contract`]) and the month's monitoring:
//! treated volume × base price, less the deduction of the compliance tier the month reached,
//! plus a bonus per tonne of pollutant removed.
//!
//! Monthly input (CSV/XLSX, or [`crate::store::plant_months`] from the store): `plant`,
//! `month` (YYYY-MM), `treated_m3`, `evaluated` and `compliant` (days judged against the
//! plant's standard and days within it), and optionally `cod_in`, `cod_out`, `nh3n_in`,
//! `nh3n_out`, `tp_in`, `tp_out`, `tn_in`, `tn_out` (monthly mean mg/L). A month with nothing
//! evaluated takes the contract's last (largest) deduction and is flagged.

use crate::rules::{Contract, RuleBook, RuleKind};
use crate::sheet::{read_sheet, sheet_from_bytes, Col, Sheet};
use crate::table::{rule_note, Cell, Table};
use crate::{Confidence, InputError, Lang, MoneyError, Text};
use rewater_standards::Factor;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const DEFAULT_SET: &str = "pfp-example";

pub const COLUMNS: &[Col] = &[
    Col {
        name: "plant",
        aliases: &["污水厂", "厂"],
        required: true,
    },
    Col {
        name: "month",
        aliases: &["月份"],
        required: true,
    },
    Col {
        name: "treated_m3",
        aliases: &["处理水量"],
        required: true,
    },
    Col {
        name: "evaluated",
        aliases: &["考核天数"],
        required: true,
    },
    Col {
        name: "compliant",
        aliases: &["达标天数"],
        required: true,
    },
    Col {
        name: "cod_in",
        aliases: &[],
        required: false,
    },
    Col {
        name: "cod_out",
        aliases: &[],
        required: false,
    },
    Col {
        name: "nh3n_in",
        aliases: &[],
        required: false,
    },
    Col {
        name: "nh3n_out",
        aliases: &[],
        required: false,
    },
    Col {
        name: "tp_in",
        aliases: &[],
        required: false,
    },
    Col {
        name: "tp_out",
        aliases: &[],
        required: false,
    },
    Col {
        name: "tn_in",
        aliases: &[],
        required: false,
    },
    Col {
        name: "tn_out",
        aliases: &[],
        required: false,
    },
];

/// One plant's month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantMonth {
    pub plant: String,
    pub year: i32,
    pub month: u32,
    pub treated_m3: f64,
    pub evaluated: u64,
    pub compliant: u64,
    /// factor → (inflow mg/L, outflow mg/L).
    pub quality: BTreeMap<Factor, (f64, f64)>,
}

pub fn read_months(path: &Path) -> Result<Vec<PlantMonth>, InputError> {
    months_from_sheet(&read_sheet(path, COLUMNS)?)
}

pub fn months_from_bytes(b: &[u8], file: &str) -> Result<Vec<PlantMonth>, InputError> {
    months_from_sheet(&sheet_from_bytes(b, file, COLUMNS)?)
}

fn months_from_sheet(sheet: &Sheet) -> Result<Vec<PlantMonth>, InputError> {
    let mut out: Vec<PlantMonth> = Vec::new();
    for r in sheet.rows() {
        let m = r.required("month")?;
        let (year, month) = m
            .split_once('-')
            .and_then(|(y, mo)| Some((y.parse::<i32>().ok()?, mo.parse::<u32>().ok()?)))
            .filter(|(y, mo)| (1..=12).contains(mo) && (1900..=2200).contains(y))
            .ok_or_else(|| r.err("month", format!("'{m}' is not YYYY-MM")))?;
        let count = |name: &str| -> Result<u64, InputError> {
            let x = r.number(name)?;
            if x.fract() != 0.0 || x > 1e9 {
                return Err(r.err(name, format!("{x} is not a whole count")));
            }
            Ok(x as u64)
        };
        let (evaluated, compliant) = (count("evaluated")?, count("compliant")?);
        if compliant > evaluated {
            return Err(r.err(
                "compliant",
                format!("{compliant} compliant of {evaluated} evaluated"),
            ));
        }
        let mut quality = BTreeMap::new();
        for f in ["cod", "nh3n", "tp", "tn"] {
            let (i, o) = (
                r.number_opt(&format!("{f}_in"))?,
                r.number_opt(&format!("{f}_out"))?,
            );
            match (i, o) {
                (Some(i), Some(o)) => {
                    let factor = Factor::parse(f).map_err(|e| r.err(f, e.to_string()))?;
                    quality.insert(factor, (i, o));
                }
                (None, None) => {}
                _ => {
                    return Err(r.err(
                        &format!("{f}_in"),
                        "give both inflow and outflow, or neither",
                    ))
                }
            }
        }
        let plant = r.required("plant")?.to_string();
        if out
            .iter()
            .any(|p| p.plant == plant && p.year == year && p.month == month)
        {
            return Err(r.err("month", format!("{plant} {m} given twice")));
        }
        out.push(PlantMonth {
            plant,
            year,
            month,
            treated_m3: r.number("treated_m3")?,
            evaluated,
            compliant,
            quality,
        });
    }
    Ok(out)
}

/// A bonus line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bonus {
    pub factor: Factor,
    pub removed_t: f64,
    pub yuan: f64,
}

/// One month's fee.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthFee {
    pub month: PlantMonth,
    pub contract: String,
    pub base_yuan: f64,
    /// Compliance rate (None: nothing evaluated).
    pub rate: Option<f64>,
    pub deduction: f64,
    pub deduction_yuan: f64,
    pub bonuses: Vec<Bonus>,
    pub fee_yuan: f64,
}

/// The contract of a plant (its own, else `*`).
pub fn contract_for<'a>(contracts: &'a [Contract], plant: &str) -> Option<&'a Contract> {
    contracts
        .iter()
        .find(|c| c.plant == plant)
        .or_else(|| contracts.iter().find(|c| c.plant == "*"))
}

/// The fee of one month under a contract.
pub fn month_fee(c: &Contract, m: &PlantMonth) -> MonthFee {
    let base_yuan = m.treated_m3 * c.base_yuan_per_m3;
    let rate = (m.evaluated > 0).then(|| m.compliant as f64 / m.evaluated as f64);
    // The tier with the highest minimum the rate reaches, whatever the order of the file.
    let deduction = match rate {
        Some(r) => c
            .compliance
            .iter()
            .filter(|t| r >= t.min_rate - 1e-12)
            .max_by(|a, b| a.min_rate.total_cmp(&b.min_rate))
            .map(|t| t.deduction)
            .unwrap_or(0.0),
        None => c.compliance.iter().map(|t| t.deduction).fold(0.0, f64::max),
    };
    let bonuses: Vec<Bonus> = c
        .load_bonus
        .iter()
        .filter_map(|b| {
            let f = Factor::parse(&b.factor).ok()?;
            let (i, o) = m.quality.get(&f)?;
            let removed_t = (i - o).max(0.0) * m.treated_m3 / 1e6;
            Some(Bonus {
                factor: f,
                removed_t,
                yuan: removed_t * b.yuan_per_t,
            })
        })
        .collect();
    let deduction_yuan = base_yuan * deduction;
    MonthFee {
        month: m.clone(),
        contract: c.plant.clone(),
        base_yuan,
        rate,
        deduction,
        deduction_yuan,
        fee_yuan: base_yuan - deduction_yuan + bonuses.iter().map(|b| b.yuan).sum::<f64>(),
        bonuses,
    }
}

/// The fees ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Fees {
    pub set: String,
    pub months: Vec<MonthFee>,
    /// Plants without a contract.
    pub no_contract: Vec<String>,
    pub weakest: Confidence,
}

pub fn fees(book: &RuleBook, set_id: &str, months: &[PlantMonth]) -> Result<Fees, MoneyError> {
    let set = book.get(set_id, RuleKind::Fees)?;
    let mut out = Fees {
        set: set_id.into(),
        months: Vec::new(),
        no_contract: Vec::new(),
        weakest: set.weakest(),
    };
    for m in months {
        match contract_for(&set.contract, &m.plant) {
            Some(c) => out.months.push(month_fee(c, m)),
            None if !out.no_contract.contains(&m.plant) => out.no_contract.push(m.plant.clone()),
            None => {}
        }
    }
    Ok(out)
}

impl Fees {
    pub fn tables(&self, book: &RuleBook, lang: Lang) -> Vec<Table> {
        let mut t = Table::new(
            "fees-months",
            Text::new(
                "污水处理服务费按效付费（逐月）",
                "Pay-for-performance service fees by month",
            ),
            &[
                ("污水厂", "plant"),
                ("月份", "month"),
                ("处理水量(立方米)", "treated m³"),
                ("基本服务费(元)", "base yuan"),
                ("达标率", "compliance rate"),
                ("扣减比例", "deduction"),
                ("扣减(元)", "deduction yuan"),
                ("削减奖励(元)", "removal bonus yuan"),
                ("应付服务费(元)", "fee yuan"),
                ("合同", "contract"),
                ("可信度", "confidence"),
            ],
        );
        let conf = self.weakest.label(lang);
        for f in &self.months {
            t.rows.push(vec![
                Cell::text(&f.month.plant),
                Cell::text(format!("{}-{:02}", f.month.year, f.month.month)),
                Cell::Number(f.month.treated_m3),
                Cell::yuan(f.base_yuan),
                f.rate.map(Cell::Number).unwrap_or(Cell::text(match lang {
                    Lang::Zh => "未报送",
                    Lang::En => "not reported",
                })),
                Cell::Number(f.deduction),
                Cell::yuan(f.deduction_yuan),
                Cell::yuan(f.bonuses.iter().map(|b| b.yuan).sum()),
                Cell::yuan(f.fee_yuan),
                Cell::text(&f.contract),
                Cell::text(conf),
            ]);
        }
        let mut notes: Vec<Text> = book
            .sets
            .get(&self.set)
            .map(rule_note)
            .into_iter()
            .collect();
        if !self.no_contract.is_empty() {
            notes.push(Text::new(
                &format!("无合同的污水厂：{}", self.no_contract.join("、")),
                &format!("Plants without a contract: {}", self.no_contract.join(", ")),
            ));
        }
        t.notes = notes;
        t.unverified = self.weakest == Confidence::Unverified;
        vec![t]
    }
}
