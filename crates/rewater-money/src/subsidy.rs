//! Rural O&M subsidies (农村污水设施运营维护补贴, 京政发〔2023〕6号 三(十二)) and the O&M subsidy
//! of mountain village water-supply stations (7号 六(二)1).
//!
//! **Facilities** (CSV/XLSX): `id`, `name`, `kind` (`plant` = 污水处理厂(站), `pipe` = 污水 /
//! 再生水 / 雨水管线), `district`, `township`, `area` (optional), `year`, and for plants
//! `volume_m3` (the year's treated volume, from monitoring flow totals or statistics),
//! `capacity_m3_d`, `process`, `base_rate` (optional: the bureau's own figure, which wins);
//! for pipes `length_m`. The subsidy base of a plant is volume × base rate, the rate chosen by
//! the base-rate rule set (by scale, process or district) and always within the plan's
//! 0.5–3.2 元/m³; of a pipe, length × 20 元/m·yr. The municipal subsidy is the base × the
//! area's share (70 %, 60 %, 50 %); the rest is not the municipality's.
//!
//! **Stations** (CSV/XLSX): `id`, `village`, `district`, `township`, `mountain`, `passed`
//! (达到规范化标准和考核要求), `year`, `villages` (default 1): 10万元 per village and year ×
//! 70 % / 60 % for passing mountain stations; plain-area stations are the district's.

use crate::areas::{AreaClass, Areas, Location, Setting};
use crate::rules::{BaseRateRule, Conditions, RuleBook, RuleKind, RuleSet};
use crate::sheet::{read_sheet, sheet_from_bytes, Col, Sheet};
use crate::table::{rule_note, Cell, Table};
use crate::{Confidence, InputError, Lang, MoneyError, Text};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const FACILITY_COLUMNS: &[Col] = &[
    Col {
        name: "id",
        aliases: &["编号"],
        required: true,
    },
    Col {
        name: "name",
        aliases: &["名称"],
        required: false,
    },
    Col {
        name: "kind",
        aliases: &["类别"],
        required: true,
    },
    Col {
        name: "district",
        aliases: &["区"],
        required: true,
    },
    Col {
        name: "township",
        aliases: &["乡镇", "街道"],
        required: false,
    },
    Col {
        name: "area",
        aliases: &["功能区"],
        required: false,
    },
    Col {
        name: "year",
        aliases: &["年份"],
        required: true,
    },
    Col {
        name: "volume_m3",
        aliases: &["处理水量", "处理水量(立方米)"],
        required: false,
    },
    Col {
        name: "site",
        aliases: &["站点", "监测站点"],
        required: false,
    },
    Col {
        name: "capacity_m3_d",
        aliases: &["规模", "设计规模(立方米/日)"],
        required: false,
    },
    Col {
        name: "process",
        aliases: &["工艺"],
        required: false,
    },
    Col {
        name: "base_rate",
        aliases: &["补贴基数", "补贴基数(元/立方米)"],
        required: false,
    },
    Col {
        name: "length_m",
        aliases: &["长度", "长度(米)"],
        required: false,
    },
];

pub const STATION_COLUMNS: &[Col] = &[
    Col {
        name: "id",
        aliases: &["编号"],
        required: true,
    },
    Col {
        name: "village",
        aliases: &["行政村", "村"],
        required: false,
    },
    Col {
        name: "district",
        aliases: &["区"],
        required: true,
    },
    Col {
        name: "township",
        aliases: &["乡镇"],
        required: false,
    },
    Col {
        name: "mountain",
        aliases: &["山区"],
        required: true,
    },
    Col {
        name: "passed",
        aliases: &["考核达标", "达到规范化标准"],
        required: true,
    },
    Col {
        name: "year",
        aliases: &["年份"],
        required: true,
    },
    Col {
        name: "villages",
        aliases: &["村数"],
        required: false,
    },
];

/// A rural plant or a pipe.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Facility {
    pub id: String,
    pub name: String,
    pub pipe: bool,
    pub location: Location,
    pub year: i32,
    pub volume_m3: f64,
    /// The store's site measuring the plant's flow: its year's flow total is the volume when
    /// `volume_m3` is left empty ([`crate::store::fill_volumes`]).
    pub site: Option<String>,
    /// Whether the volume is still to be read from the store.
    pub volume_pending: bool,
    pub capacity_m3_d: Option<f64>,
    pub process: String,
    pub base_rate: Option<f64>,
    pub length_m: f64,
}

/// A village water-supply station.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Station {
    pub id: String,
    pub village: String,
    pub location: Location,
    pub passed: bool,
    pub year: i32,
    pub villages: f64,
}

pub fn read_facilities(path: &Path, areas: &Areas) -> Result<Vec<Facility>, InputError> {
    facilities_from_sheet(&read_sheet(path, FACILITY_COLUMNS)?, areas)
}

pub fn facilities_from_bytes(
    b: &[u8],
    file: &str,
    areas: &Areas,
) -> Result<Vec<Facility>, InputError> {
    facilities_from_sheet(&sheet_from_bytes(b, file, FACILITY_COLUMNS)?, areas)
}

fn facilities_from_sheet(sheet: &Sheet, areas: &Areas) -> Result<Vec<Facility>, InputError> {
    let mut out = Vec::new();
    for r in sheet.rows() {
        let pipe = match r.required("kind")? {
            "plant" | "station" | "污水处理厂" | "污水处理站" | "处理站" => false,
            "pipe" | "管线" | "管网" => true,
            k => return Err(r.err("kind", format!("'{k}' is not plant or pipe"))),
        };
        let area = match r.text("area") {
            "" => None,
            a => Some(
                AreaClass::parse(a)
                    .ok_or_else(|| r.err("area", format!("unknown area class '{a}'")))?,
            ),
        };
        let location = areas
            .locate(r.required("district")?, r.text("township"), area, None)
            .map_err(|m| r.err("district", m))?;
        let site = Some(r.text("site").to_string()).filter(|s| !s.is_empty());
        let (volume_m3, length_m, volume_pending) = if pipe {
            (0.0, r.number("length_m")?, false)
        } else {
            match (r.number_opt("volume_m3")?, &site) {
                (Some(v), _) => (v, 0.0, false),
                (None, Some(_)) => (0.0, 0.0, true),
                (None, None) => {
                    return Err(r.err("volume_m3", "empty (give the volume or the store's site)"))
                }
            }
        };
        out.push(Facility {
            id: r.required("id")?.to_string(),
            name: r.text("name").to_string(),
            pipe,
            location,
            year: r.year_opt("year")?.ok_or_else(|| r.err("year", "empty"))?,
            volume_m3,
            site,
            volume_pending,
            capacity_m3_d: r.number_opt("capacity_m3_d")?,
            process: r.text("process").to_string(),
            base_rate: r.number_opt("base_rate")?,
            length_m,
        });
    }
    Ok(out)
}

pub fn read_stations(path: &Path, areas: &Areas) -> Result<Vec<Station>, InputError> {
    stations_from_sheet(&read_sheet(path, STATION_COLUMNS)?, areas)
}

pub fn stations_from_bytes(
    b: &[u8],
    file: &str,
    areas: &Areas,
) -> Result<Vec<Station>, InputError> {
    stations_from_sheet(&sheet_from_bytes(b, file, STATION_COLUMNS)?, areas)
}

fn stations_from_sheet(sheet: &Sheet, areas: &Areas) -> Result<Vec<Station>, InputError> {
    let mut out = Vec::new();
    for r in sheet.rows() {
        let mountain = r
            .flag("mountain")?
            .ok_or_else(|| r.err("mountain", "empty"))?;
        let location = areas
            .locate(
                r.required("district")?,
                r.text("township"),
                None,
                Some(mountain),
            )
            .map_err(|m| r.err("district", m))?;
        out.push(Station {
            id: r.required("id")?.to_string(),
            village: r.text("village").to_string(),
            location,
            passed: r.flag("passed")?.ok_or_else(|| r.err("passed", "empty"))?,
            year: r.year_opt("year")?.ok_or_else(|| r.err("year", "empty"))?,
            villages: r.number_opt("villages")?.unwrap_or(1.0),
        });
    }
    Ok(out)
}

/// A facility's subsidy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FacilitySubsidy {
    pub facility: Facility,
    /// 元/m³ (plants) or 元/m·yr (pipes).
    pub rate: f64,
    /// Where the rate comes from: `input`, `rule:<set>` or `plan` (pipes).
    pub rate_from: String,
    pub base_yuan: f64,
    /// The municipal share, None when no rule covers the area.
    pub share: Option<f64>,
    pub rule: Option<String>,
    pub municipal_yuan: f64,
    pub confidence: Confidence,
}

/// A station's subsidy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationSubsidy {
    pub station: Station,
    pub base_yuan: f64,
    pub share: f64,
    pub municipal_yuan: f64,
    pub rule: Option<String>,
    /// Why nothing is paid (not passed, no rule).
    pub reason: Option<Text>,
}

/// The subsidies ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Subsidies {
    pub facilities: Vec<FacilitySubsidy>,
    pub stations: Vec<StationSubsidy>,
    /// By (district, year): facilities' municipal subsidy, stations' municipal subsidy.
    #[serde(serialize_with = "crate::pairs")]
    pub by_district: BTreeMap<(String, i32), (f64, f64)>,
    pub sets: Vec<String>,
    pub weakest: Confidence,
}

/// The base rate a rule gives a plant (before the range check).
pub fn rule_rate(rule: &BaseRateRule, f: &Facility) -> Option<f64> {
    match rule {
        BaseRateRule::Scale { tiers } => {
            let cap = f.capacity_m3_d?;
            tiers
                .iter()
                .find(|t| t.below_m3_per_day.is_none_or(|b| cap < b))
                .map(|t| t.rate)
        }
        BaseRateRule::Process { rates, default } => Some(*rates.get(&f.process).unwrap_or(default)),
        BaseRateRule::District { rates, default } => {
            Some(*rates.get(&f.location.district).unwrap_or(default))
        }
    }
}

/// The subsidies of facilities and stations under the funding set `om_set` (its `om_base`,
/// `om_share` and `station` rules; 京政发〔2023〕6号 and 7号 by default) and the base-rate
/// set `rate_set`.
pub fn subsidies(
    book: &RuleBook,
    om_set: &str,
    station_set: &str,
    rate_set: &str,
    facilities: &[Facility],
    stations: &[Station],
) -> Result<Subsidies, MoneyError> {
    let om = book.get(om_set, RuleKind::Funding)?;
    let st = book.get(station_set, RuleKind::Funding)?;
    let rate = book.get(rate_set, RuleKind::BaseRate)?;
    let base = om.om_base.as_ref().ok_or_else(|| MoneyError::Rule {
        set: om_set.into(),
        message: "has no [om_base]".into(),
    })?;
    let rule = rate.base_rate.as_ref().ok_or_else(|| MoneyError::Rule {
        set: rate_set.into(),
        message: "has no [base_rate]".into(),
    })?;
    let mut out = Subsidies {
        facilities: Vec::new(),
        stations: Vec::new(),
        by_district: BTreeMap::new(),
        sets: vec![
            om_set.to_string(),
            station_set.to_string(),
            rate_set.to_string(),
        ],
        weakest: Confidence::Verified,
    };
    for f in facilities {
        if f.volume_pending {
            return Err(MoneyError::Input(crate::InputError::file(
                "facilities",
                format!(
                    "plant '{}': no volume (read it from the store with its site)",
                    f.id
                ),
            )));
        }
        let (r, from, mut conf) = if f.pipe {
            (
                base.pipe_yuan_per_m_year,
                "plan".to_string(),
                base.confidence,
            )
        } else if let Some(r) = f.base_rate {
            (r, "input".to_string(), Confidence::Verified)
        } else {
            let r = rule_rate(rule, f).ok_or_else(|| MoneyError::Rule {
                set: rate_set.into(),
                message: format!(
                    "no rate for plant '{}' (a scale rule needs its capacity_m3_d)",
                    f.id
                ),
            })?;
            (r, format!("rule:{rate_set}"), rate.weakest())
        };
        if !f.pipe && !(base.plant_min_yuan_per_m3..=base.plant_max_yuan_per_m3).contains(&r) {
            return Err(MoneyError::Rule {
                set: rate_set.into(),
                message: format!(
                    "plant '{}': base rate {r} outside {}–{} 元/m³ ({} {})",
                    f.id,
                    base.plant_min_yuan_per_m3,
                    base.plant_max_yuan_per_m3,
                    om.id,
                    base.clause
                ),
            });
        }
        let base_yuan = if f.pipe {
            f.length_m * r
        } else {
            f.volume_m3 * r
        };
        let share_rule = om
            .om_share
            .iter()
            .find(|s| s.holds(&f.location, Some(Setting::Rural)));
        let share = share_rule.map(|s| s.municipal);
        if let Some(s) = share_rule {
            conf = conf.min(s.confidence);
        }
        conf = conf.min(f.location.confidence);
        let municipal_yuan = base_yuan * share.unwrap_or(0.0);
        out.by_district
            .entry((f.location.district.clone(), f.year))
            .or_default()
            .0 += municipal_yuan;
        out.weakest = out.weakest.min(conf);
        out.facilities.push(FacilitySubsidy {
            facility: f.clone(),
            rate: r,
            rate_from: from,
            base_yuan,
            share,
            rule: share_rule.map(|s| format!("{} {} {}", om.id, s.clause, s.id)),
            municipal_yuan,
            confidence: conf,
        });
    }
    for s in stations {
        let rule = st.station.iter().find(|r| r.holds(&s.location, None));
        let (base_yuan, share, reason) = match rule {
            None => (0.0, 0.0, Some(Text::new("无适用规则", "no rule applies"))),
            Some(_) if !s.passed => (
                0.0,
                0.0,
                Some(Text::new(
                    "未达到规范化标准和考核要求",
                    "did not pass the standardisation test",
                )),
            ),
            Some(r) => (r.base_yuan_per_village_year * s.villages, r.municipal, None),
        };
        let municipal_yuan = base_yuan * share;
        out.by_district
            .entry((s.location.district.clone(), s.year))
            .or_default()
            .1 += municipal_yuan;
        out.stations.push(StationSubsidy {
            station: s.clone(),
            base_yuan,
            share,
            municipal_yuan,
            rule: rule.map(|r| format!("{} {} {}", st.id, r.clause, r.id)),
            reason,
        });
    }
    Ok(out)
}

impl Subsidies {
    /// The tables: facilities, stations, by district and year.
    pub fn tables(&self, book: &RuleBook, areas: &Areas, lang: Lang) -> Vec<Table> {
        let notes: Vec<Text> = self
            .sets
            .iter()
            .filter_map(|id| book.sets.get(id))
            .map(rule_note)
            .collect();
        let unverified = self.weakest == Confidence::Unverified;
        let mut fac = Table::new(
            "subsidies-facilities",
            Text::new("农村污水设施运营维护补贴", "Rural sewage O&M subsidies"),
            &[
                ("编号", "id"),
                ("名称", "name"),
                ("区", "district"),
                ("年份", "year"),
                ("类别", "kind"),
                ("水量(立方米)或长度(米)", "m³ or m"),
                ("补贴基数", "base rate"),
                ("基数来源", "rate from"),
                ("补贴基数额(元)", "base yuan"),
                ("市级比例", "municipal share"),
                ("市级补贴(元)", "municipal yuan"),
                ("依据", "rule"),
                ("可信度", "confidence"),
            ],
        );
        for s in &self.facilities {
            let f = &s.facility;
            fac.rows.push(vec![
                Cell::text(&f.id),
                Cell::text(&f.name),
                Cell::text(areas.name(&f.location.district, lang)),
                Cell::Number(f.year as f64),
                Cell::text(match (f.pipe, lang) {
                    (true, Lang::Zh) => "管线",
                    (false, Lang::Zh) => "处理厂(站)",
                    (true, Lang::En) => "pipe",
                    (false, Lang::En) => "plant",
                }),
                Cell::Number(if f.pipe { f.length_m } else { f.volume_m3 }),
                Cell::Number(s.rate),
                Cell::text(&s.rate_from),
                Cell::yuan(s.base_yuan),
                s.share.map(Cell::Number).unwrap_or(Cell::Empty),
                Cell::yuan(s.municipal_yuan),
                Cell::text(s.rule.clone().unwrap_or_else(|| match lang {
                    Lang::Zh => "无适用规则".into(),
                    Lang::En => "no rule applies".into(),
                })),
                Cell::text(s.confidence.label(lang)),
            ]);
        }
        let mut sta = Table::new(
            "subsidies-stations",
            Text::new(
                "山区村庄供水站运营经费补贴",
                "Mountain village water-supply station O&M subsidies",
            ),
            &[
                ("编号", "id"),
                ("行政村", "village"),
                ("区", "district"),
                ("年份", "year"),
                ("山区", "mountain"),
                ("考核达标", "passed"),
                ("基数(元)", "base yuan"),
                ("市级比例", "municipal share"),
                ("市级补贴(元)", "municipal yuan"),
                ("依据", "rule"),
                ("说明", "note"),
            ],
        );
        for s in &self.stations {
            let t = &s.station;
            let yn = |b: bool| match (b, lang) {
                (true, Lang::Zh) => "是",
                (false, Lang::Zh) => "否",
                (true, Lang::En) => "yes",
                (false, Lang::En) => "no",
            };
            sta.rows.push(vec![
                Cell::text(&t.id),
                Cell::text(&t.village),
                Cell::text(areas.name(&t.location.district, lang)),
                Cell::Number(t.year as f64),
                Cell::text(yn(t.location.mountain)),
                Cell::text(yn(t.passed)),
                Cell::yuan(s.base_yuan),
                Cell::Number(s.share),
                Cell::yuan(s.municipal_yuan),
                Cell::text(s.rule.clone().unwrap_or_default()),
                Cell::text(
                    s.reason
                        .as_ref()
                        .map(|r| r.get(lang).to_string())
                        .unwrap_or_default(),
                ),
            ]);
        }
        let mut dist = Table::new(
            "subsidies-districts",
            Text::new(
                "市级运营补贴（按区、年份）",
                "Municipal O&M subsidies by district and year",
            ),
            &[
                ("区", "district"),
                ("年份", "year"),
                ("污水设施(元)", "sewage facilities yuan"),
                ("供水站(元)", "water stations yuan"),
                ("合计(元)", "total yuan"),
            ],
        );
        for ((d, y), (a, b)) in &self.by_district {
            dist.rows.push(vec![
                Cell::text(areas.name(d, lang)),
                Cell::Number(*y as f64),
                Cell::yuan(*a),
                Cell::yuan(*b),
                Cell::yuan(a + b),
            ]);
        }
        let mut out = vec![fac, sta, dist];
        for t in &mut out {
            t.notes = notes.clone();
            t.unverified = unverified;
        }
        out
    }
}

/// The rule set and its base-rate rule, for printing.
pub fn describe_rate(set: &RuleSet) -> String {
    serde_json::to_string(&set.base_rate).unwrap_or_default()
}
