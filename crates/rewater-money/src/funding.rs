//! Construction funding shares (建设资金分担): a project list → who pays what, by project, by
//! payer and as a multi-year budget, under the funding rule sets chosen (by default both
//! bundled plans of seed 001: 京政发〔2023〕6号 三(十一) and 7号 六(一)(二)).
//!
//! Project list columns (CSV or XLSX; English or Chinese names): `id` (编号), `name` (名称),
//! `asset` (类型: reclamation_plant, sewer_pipe, reclaimed_pipe, overflow_storage, sludge,
//! drain_renewal, drain_upkeep, water_plant, supply_replacement, village_station_retrofit —
//! or any asset a user rule names), `district` (区), `township` (乡镇), `setting` (城乡:
//! urban/rural), `area` (功能区, optional: wins over the areas file), `mountain` (山区,
//! optional), `construction_yuan` (建设资金), `land_yuan` (征地拆迁资金, optional),
//! `length_m`, `capacity_m3_d` (optional, carried), `start_year` (开工年份), `years` (建设年限,
//! default 1). A project's costs are spread evenly over its years (rewater's choice: the
//! plans give no phasing).

use crate::areas::{AreaClass, Areas, Location, Setting};
use crate::rules::{Conditions, Part, Payer, RuleBook, RuleKind, RuleSet, ShareRule};
use crate::sheet::{read_sheet, sheet_from_bytes, Col, Sheet};
use crate::table::{rule_note, Cell, Table};
use crate::{Confidence, InputError, Lang, MoneyError, Text};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The bundled funding rule sets, in the order they are tried.
pub const DEFAULT_SETS: &[&str] = &["jzf-2023-6", "jzf-2023-7"];

/// The project list's columns.
pub const COLUMNS: &[Col] = &[
    Col {
        name: "id",
        aliases: &["编号", "项目编号"],
        required: true,
    },
    Col {
        name: "name",
        aliases: &["名称", "项目名称"],
        required: false,
    },
    Col {
        name: "asset",
        aliases: &["类型", "项目类型", "type"],
        required: true,
    },
    Col {
        name: "district",
        aliases: &["区", "所在区"],
        required: true,
    },
    Col {
        name: "township",
        aliases: &["乡镇", "街道", "乡镇(街道)"],
        required: false,
    },
    Col {
        name: "setting",
        aliases: &["城乡", "城镇/农村"],
        required: true,
    },
    Col {
        name: "area",
        aliases: &["功能区", "area_class"],
        required: false,
    },
    Col {
        name: "mountain",
        aliases: &["山区"],
        required: false,
    },
    Col {
        name: "construction_yuan",
        aliases: &["建设资金", "建设资金(元)", "construction"],
        required: true,
    },
    Col {
        name: "land_yuan",
        aliases: &["征地拆迁资金", "征地拆迁资金(元)", "land"],
        required: false,
    },
    Col {
        name: "length_m",
        aliases: &["长度", "长度(米)"],
        required: false,
    },
    Col {
        name: "capacity_m3_d",
        aliases: &["规模", "规模(立方米/日)", "capacity"],
        required: false,
    },
    Col {
        name: "start_year",
        aliases: &["开工年份", "年份", "year"],
        required: true,
    },
    Col {
        name: "years",
        aliases: &["建设年限", "年限"],
        required: false,
    },
];

/// One project of the list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub asset: String,
    pub location: Location,
    pub setting: Setting,
    pub construction_yuan: f64,
    pub land_yuan: f64,
    pub length_m: Option<f64>,
    pub capacity_m3_d: Option<f64>,
    pub start_year: i32,
    pub years: u32,
    /// The spreadsheet row.
    pub line: usize,
}

/// Reads a project list.
pub fn read_projects(path: &Path, areas: &Areas) -> Result<Vec<Project>, InputError> {
    projects_from_sheet(&read_sheet(path, COLUMNS)?, areas)
}

/// The same from bytes (an upload).
pub fn projects_from_bytes(
    bytes: &[u8],
    file: &str,
    areas: &Areas,
) -> Result<Vec<Project>, InputError> {
    projects_from_sheet(&sheet_from_bytes(bytes, file, COLUMNS)?, areas)
}

fn projects_from_sheet(sheet: &Sheet, areas: &Areas) -> Result<Vec<Project>, InputError> {
    let mut out: Vec<Project> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in sheet.rows() {
        let id = r.required("id")?.to_string();
        if let Some(first) = seen.insert(id.clone(), r.line) {
            return Err(r.err("id", format!("project '{id}' already given in row {first}")));
        }
        let setting = Setting::parse(r.required("setting")?)
            .ok_or_else(|| r.err("setting", "not urban/rural (城镇/农村)"))?;
        let area = match r.text("area") {
            "" => None,
            a => Some(
                AreaClass::parse(a)
                    .ok_or_else(|| r.err("area", format!("unknown area class '{a}'")))?,
            ),
        };
        let location = areas
            .locate(
                r.required("district")?,
                r.text("township"),
                area,
                r.flag("mountain")?,
            )
            .map_err(|m| r.err("district", m))?;
        let years = match r.number_opt("years")? {
            None => 1,
            Some(y) if y.fract() == 0.0 && (1.0..=30.0).contains(&y) => y as u32,
            Some(y) => {
                return Err(r.err(
                    "years",
                    format!("{y} is not a whole number of years in 1–30"),
                ))
            }
        };
        out.push(Project {
            id,
            name: r.text("name").to_string(),
            asset: r.required("asset")?.to_string(),
            location,
            setting,
            construction_yuan: r.number("construction_yuan")?,
            land_yuan: r.number_or_zero("land_yuan")?,
            length_m: r.number_opt("length_m")?,
            capacity_m3_d: r.number_opt("capacity_m3_d")?,
            start_year: r
                .year_opt("start_year")?
                .ok_or_else(|| r.err("start_year", "empty"))?,
            years,
            line: r.line,
        });
    }
    Ok(out)
}

/// Which rule applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Applied {
    pub set: String,
    pub rule: String,
    pub clause: String,
    pub confidence: Confidence,
    pub note: Option<Text>,
}

/// What one payer pays of one project.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub payer: Payer,
    /// The district for a local payer (区政府, 区乡镇).
    pub district: Option<String>,
    /// `construction` or `land`.
    pub part: &'static str,
    pub fraction: f64,
    pub yuan: f64,
}

/// A project's shares.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProjectShares {
    pub project: Project,
    pub applied: Option<Applied>,
    pub lines: Vec<Line>,
    /// Yuan no rule assigns (no rule for the project, or land of a clause that does not
    /// mention land).
    pub unassigned_yuan: f64,
    /// Years of the project outside the rule set's validity.
    pub years_outside_validity: Vec<i32>,
}

/// The funding ledger.
#[derive(Debug, Clone, Serialize)]
pub struct Funding {
    pub sets: Vec<String>,
    pub projects: Vec<ProjectShares>,
    /// Total by (payer, district for local payers): construction, land.
    #[serde(serialize_with = "crate::pairs")]
    pub by_payer: BTreeMap<(Payer, Option<String>), (f64, f64)>,
    /// By year and (payer, district).
    #[serde(serialize_with = "crate::nested_pairs")]
    pub budget: BTreeMap<i32, BTreeMap<(Payer, Option<String>), f64>>,
    pub unassigned_yuan: f64,
    pub weakest: Confidence,
}

fn first_rule<'a>(sets: &[&'a RuleSet], p: &Project) -> Option<(&'a RuleSet, &'a ShareRule)> {
    sets.iter().find_map(|s| {
        s.share
            .iter()
            .find(|r| r.assets.contains(&p.asset) && r.holds(&p.location, Some(p.setting)))
            .map(|r| (*s, r))
    })
}

fn lines(parts: &[Part], amount: f64, part: &'static str, district: &str) -> Vec<Line> {
    parts
        .iter()
        .map(|x| Line {
            payer: x.payer,
            district: x.payer.is_local().then(|| district.to_string()),
            part,
            fraction: x.fraction,
            yuan: amount * x.fraction,
        })
        .collect()
}

/// The shares of one project under the first rule that applies.
pub fn shares_of(sets: &[&RuleSet], p: &Project) -> ProjectShares {
    let Some((set, rule)) = first_rule(sets, p) else {
        return ProjectShares {
            project: p.clone(),
            applied: None,
            lines: Vec::new(),
            unassigned_yuan: p.construction_yuan + p.land_yuan,
            years_outside_validity: Vec::new(),
        };
    };
    let mut ls = lines(
        &rule.construction,
        p.construction_yuan,
        "construction",
        &p.location.district,
    );
    let mut unassigned = 0.0;
    if rule.land.is_empty() {
        unassigned += p.land_yuan;
    } else {
        ls.extend(lines(&rule.land, p.land_yuan, "land", &p.location.district));
    }
    let years_outside_validity = (p.start_year..p.start_year + p.years as i32)
        .filter(|y| !set.in_force(*y))
        .collect();
    ProjectShares {
        project: p.clone(),
        applied: Some(Applied {
            set: set.id.clone(),
            rule: rule.id.clone(),
            clause: rule.clause.clone(),
            confidence: rule
                .confidence
                .min(set.confidence)
                .min(p.location.confidence),
            note: rule.note.clone(),
        }),
        lines: ls,
        unassigned_yuan: unassigned,
        years_outside_validity,
    }
}

/// The funding ledger of a project list under the rule sets `set_ids` (tried in order).
pub fn funding(
    book: &RuleBook,
    set_ids: &[&str],
    projects: &[Project],
) -> Result<Funding, MoneyError> {
    let sets = set_ids
        .iter()
        .map(|id| book.get(id, RuleKind::Funding))
        .collect::<Result<Vec<_>, _>>()?;
    let mut f = Funding {
        sets: set_ids.iter().map(|s| s.to_string()).collect(),
        projects: Vec::with_capacity(projects.len()),
        by_payer: BTreeMap::new(),
        budget: BTreeMap::new(),
        unassigned_yuan: 0.0,
        weakest: Confidence::Verified,
    };
    for p in projects {
        let s = shares_of(&sets, p);
        for l in &s.lines {
            let key = (l.payer, l.district.clone());
            let e = f.by_payer.entry(key.clone()).or_insert((0.0, 0.0));
            if l.part == "land" {
                e.1 += l.yuan;
            } else {
                e.0 += l.yuan;
            }
            let per_year = l.yuan / p.years as f64;
            for y in p.start_year..p.start_year + p.years as i32 {
                *f.budget
                    .entry(y)
                    .or_default()
                    .entry(key.clone())
                    .or_insert(0.0) += per_year;
            }
        }
        f.unassigned_yuan += s.unassigned_yuan;
        if let Some(a) = &s.applied {
            f.weakest = f.weakest.min(a.confidence);
        }
        f.projects.push(s);
    }
    Ok(f)
}

fn payer_label(payer: Payer, district: &Option<String>, areas: &Areas, lang: Lang) -> String {
    match district {
        Some(d) => format!("{}·{}", areas.name(d, lang), payer.name().get(lang)),
        None => payer.name().get(lang).to_string(),
    }
}

impl Funding {
    /// The tables: by project, by payer, the budget by year.
    pub fn tables(&self, book: &RuleBook, areas: &Areas, lang: Lang) -> Vec<Table> {
        let unverified = self.weakest == Confidence::Unverified;
        let notes: Vec<Text> = self
            .sets
            .iter()
            .filter_map(|id| book.sets.get(id))
            .map(rule_note)
            .collect();
        let mut by_project = Table::new(
            "funding-projects",
            Text::new(
                "建设资金分担（按项目）",
                "Construction funding shares by project",
            ),
            &[
                ("项目", "project"),
                ("名称", "name"),
                ("区", "district"),
                ("功能区", "area class"),
                ("城乡", "setting"),
                ("类型", "asset"),
                ("资金", "part"),
                ("承担方", "payer"),
                ("比例", "fraction"),
                ("金额(元)", "yuan"),
                ("依据", "clause"),
                ("可信度", "confidence"),
                ("说明", "note"),
            ],
        );
        for s in &self.projects {
            let p = &s.project;
            let base = vec![
                Cell::text(&p.id),
                Cell::text(&p.name),
                Cell::text(areas.name(&p.location.district, lang)),
                Cell::text(p.location.class.name().get(lang)),
                Cell::text(match (p.setting, lang) {
                    (Setting::Urban, Lang::Zh) => "城镇",
                    (Setting::Rural, Lang::Zh) => "农村",
                    (s, Lang::En) => s.id(),
                }),
                Cell::text(&p.asset),
            ];
            let (clause, conf, note) = match &s.applied {
                Some(a) => (
                    format!("{} {}", a.set, a.clause),
                    a.confidence.label(lang).to_string(),
                    a.note
                        .as_ref()
                        .map(|n| n.get(lang).to_string())
                        .unwrap_or_default(),
                ),
                None => (String::new(), String::new(), String::new()),
            };
            let mut note = note;
            if !s.years_outside_validity.is_empty() {
                let ys: Vec<String> = s
                    .years_outside_validity
                    .iter()
                    .map(|y| y.to_string())
                    .collect();
                let w = match lang {
                    Lang::Zh => format!("规则在{}年不在有效期内", ys.join("、")),
                    Lang::En => format!("rule set not in force in {}", ys.join(", ")),
                };
                note = if note.is_empty() {
                    w
                } else {
                    format!("{note}; {w}")
                };
            }
            for l in &s.lines {
                let mut row = base.clone();
                row.extend([
                    Cell::text(match (l.part, lang) {
                        ("land", Lang::Zh) => "征地拆迁",
                        (_, Lang::Zh) => "建设",
                        (p, Lang::En) => p,
                    }),
                    Cell::text(payer_label(l.payer, &l.district, areas, lang)),
                    Cell::Number(l.fraction),
                    Cell::yuan(l.yuan),
                    Cell::text(&clause),
                    Cell::text(&conf),
                    Cell::text(&note),
                ]);
                by_project.rows.push(row);
            }
            if s.unassigned_yuan > 0.0 || s.applied.is_none() {
                let mut row = base.clone();
                let why = match (&s.applied, lang) {
                    (None, Lang::Zh) => "无适用规则".to_string(),
                    (None, Lang::En) => "no rule applies".to_string(),
                    (Some(_), Lang::Zh) => "条款未提征地拆迁".to_string(),
                    (Some(_), Lang::En) => "the clause does not mention land".to_string(),
                };
                row.extend([
                    Cell::text(match lang {
                        Lang::Zh => "未分配",
                        Lang::En => "unassigned",
                    }),
                    Cell::Empty,
                    Cell::Empty,
                    Cell::yuan(s.unassigned_yuan),
                    Cell::text(&clause),
                    Cell::text(&conf),
                    Cell::text(why),
                ]);
                by_project.rows.push(row);
            }
        }
        let mut by_payer = Table::new(
            "funding-payers",
            Text::new("建设资金分担（按承担方）", "Construction funding by payer"),
            &[
                ("承担方", "payer"),
                ("建设(元)", "construction yuan"),
                ("征地拆迁(元)", "land yuan"),
                ("合计(元)", "total yuan"),
            ],
        );
        for ((payer, d), (c, l)) in &self.by_payer {
            by_payer.rows.push(vec![
                Cell::text(payer_label(*payer, d, areas, lang)),
                Cell::yuan(*c),
                Cell::yuan(*l),
                Cell::yuan(c + l),
            ]);
        }
        if self.unassigned_yuan > 0.0 {
            by_payer.rows.push(vec![
                Cell::text(match lang {
                    Lang::Zh => "未分配",
                    Lang::En => "unassigned",
                }),
                Cell::Empty,
                Cell::Empty,
                Cell::yuan(self.unassigned_yuan),
            ]);
        }
        let mut budget = Table::new(
            "funding-budget",
            Text::new("分年度资金预算", "Budget by year"),
            &[("年份", "year"), ("承担方", "payer"), ("金额(元)", "yuan")],
        );
        for (y, m) in &self.budget {
            for ((payer, d), v) in m {
                budget.rows.push(vec![
                    Cell::Number(*y as f64),
                    Cell::text(payer_label(*payer, d, areas, lang)),
                    Cell::yuan(*v),
                ]);
            }
        }
        let mut out = vec![by_project, by_payer, budget];
        for t in &mut out {
            t.notes = notes.clone();
            t.unverified = unverified;
        }
        out
    }

    /// The district's own payments by year (区政府 and 区乡镇), for the district report.
    pub fn district_budget(&self, district: &str) -> BTreeMap<i32, f64> {
        let mut out = BTreeMap::new();
        for (y, m) in &self.budget {
            let v: f64 = m
                .iter()
                .filter(|((_, d), _)| d.as_deref() == Some(district))
                .map(|(_, v)| v)
                .sum();
            if v != 0.0 {
                out.insert(*y, v);
            }
        }
        out
    }
}

impl Funding {
    /// The budget by the projects' districts and year: what the municipality (固定资产投资 and
    /// 市级财政), the district (and its townships) and others (concession holders, the
    /// waterworks group) pay, for the district budget tables of the reports.
    pub fn budget_by_district(&self) -> BTreeMap<(String, i32), [f64; 3]> {
        let mut out: BTreeMap<(String, i32), [f64; 3]> = BTreeMap::new();
        for s in &self.projects {
            let p = &s.project;
            for l in &s.lines {
                let slot = match l.payer {
                    Payer::MunicipalFai | Payer::MunicipalFinance => 0,
                    Payer::District | Payer::DistrictTownship => 1,
                    Payer::Concession | Payer::WaterGroup => 2,
                };
                for y in p.start_year..p.start_year + p.years as i32 {
                    out.entry((p.location.district.clone(), y)).or_default()[slot] +=
                        l.yuan / p.years as f64;
                }
            }
        }
        out
    }

    /// [`Funding::budget_by_district`] as a table (one district, or all).
    pub fn budget_table(
        &self,
        book: &RuleBook,
        areas: &Areas,
        lang: Lang,
        district: Option<&str>,
    ) -> Table {
        let mut t = Table::new(
            "funding-district-budget",
            Text::new(
                "区级建设资金预算（按项目所在区、年度）",
                "District construction budget (by the projects' district and year)",
            ),
            &[
                ("区", "district"),
                ("年份", "year"),
                ("市级(元)", "municipal yuan"),
                ("区及乡镇(元)", "district and townships yuan"),
                ("特许经营主体等(元)", "concession holders etc. yuan"),
                ("合计(元)", "total yuan"),
            ],
        );
        for ((d, y), v) in self.budget_by_district() {
            if district.is_some_and(|x| x != d) {
                continue;
            }
            t.rows.push(vec![
                Cell::text(areas.name(&d, lang)),
                Cell::Number(y as f64),
                Cell::yuan(v[0]),
                Cell::yuan(v[1]),
                Cell::yuan(v[2]),
                Cell::yuan(v.iter().sum()),
            ]);
        }
        t.notes = self
            .sets
            .iter()
            .filter_map(|id| book.sets.get(id))
            .map(rule_note)
            .collect();
        t.unverified = self.weakest == Confidence::Unverified;
        t
    }
}
