//! A validated study: the decision variables, the scenarios' models, and how a design (one
//! value per variable) changes a model and what it costs.
//!
//! Every variable is a gene of the genome (`Vec<f64>`): a choice holds the option's index
//! (0, 1, …), a continuous variable its value. A design is applied to the parsed model of
//! each scenario and the result resolved as any model file is.

use crate::candidates::{
    check_constraints, check_money, outlet_bounds, upgrades, variables, Check,
};
use crate::study::*;
use rewater_model::{Model, Region};
use rewater_standards::Standards;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What a variable's values are.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VarKind {
    /// An index into `n` options.
    Choice { n: usize },
    /// A value between `min` and `max`.
    Continuous { min: f64, max: f64 },
}

/// One decision variable.
#[derive(Debug, Clone, Serialize)]
pub struct Variable {
    /// `wetland:ID:area_ha`, `pipe:LINK:dn` …
    pub id: String,
    pub label: Text,
    pub kind: VarKind,
    /// Option labels of a choice ("DN 600", "60 ha", "none" …).
    pub options: Vec<String>,
    #[serde(skip)]
    pub(crate) target: Target,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Target {
    WetlandArea(usize),
    WetlandBuilt(usize),
    Pond(usize),
    Pipe(usize),
    Plant(usize),
    Upgrade(usize),
    User(usize),
}

/// An objective besides cost (all of these are maximised).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Objective {
    ReuseRate,
    Reliability,
    ReliabilityPriority(u32),
    CompliantSupplyDays,
}

impl Objective {
    /// Parses an objective name of the study file.
    pub fn parse(s: &str) -> Option<Objective> {
        match s {
            "reuse_rate" => Some(Objective::ReuseRate),
            "reliability" => Some(Objective::Reliability),
            "compliant_supply_days" => Some(Objective::CompliantSupplyDays),
            _ => s
                .strip_prefix("reliability_priority_")
                .and_then(|p| p.parse().ok())
                .map(Objective::ReliabilityPriority),
        }
    }

    /// Column name in outputs.
    pub fn key(self) -> String {
        match self {
            Objective::ReuseRate => "reuse_rate".into(),
            Objective::Reliability => "reliability".into(),
            Objective::ReliabilityPriority(p) => format!("reliability_priority_{p}"),
            Objective::CompliantSupplyDays => "compliant_supply_days".into(),
        }
    }

    /// What a person reads.
    pub fn label(self) -> Text {
        match self {
            Objective::ReuseRate => Text {
                zh: "再生水利用率".into(),
                en: "Reclaimed-water utilisation rate".into(),
            },
            Objective::Reliability => Text {
                zh: "供水保证率".into(),
                en: "Supply reliability".into(),
            },
            Objective::ReliabilityPriority(p) => Text {
                zh: format!("第{p}优先级供水保证率"),
                en: format!("Supply reliability, priority {p}"),
            },
            Objective::CompliantSupplyDays => Text {
                zh: "用户达标供水天数（户均，每年）".into(),
                en: "Days of compliant supply (per user and year)".into(),
            },
        }
    }
}

/// One scenario ready to run: its parsed model and the text and folder to resolve it with.
#[derive(Debug, Clone)]
pub struct ScenarioModel {
    pub id: String,
    pub name: Text,
    pub model: Model,
    pub text: String,
    pub file: String,
    pub base: PathBuf,
    /// The scenario resolved as it is (the current design's region, with its node order).
    pub region: Region,
    /// Per effluent upgrade and option: the plant's effluent map after it.
    pub(crate) upgraded: Vec<Vec<BTreeMap<String, f64>>>,
}

/// A validated study.
#[derive(Debug)]
pub struct Problem {
    pub study: Study,
    pub file: String,
    pub variables: Vec<Variable>,
    pub objectives: Vec<Objective>,
    pub scenarios: Vec<ScenarioModel>,
    pub standards: Standards,
    /// (factor index, low, high) of the wetland-outlet standard, per scenario.
    pub outlet_bounds: Vec<Vec<(usize, f64, f64)>>,
    /// Reliability constraints as (priority, minimum).
    pub reliability_min: Vec<(u32, f64)>,
    /// Fingerprint of the study and model texts (checkpoints and workers check it).
    pub fingerprint: String,
}

/// All problems of a study, each naming its field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct StudyErrors(pub Vec<StudyError>);

/// FNV-1a, for fingerprints (stable across builds and machines).
pub(crate) fn fnv(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

pub(crate) fn link_id(l: &rewater_model::Link) -> String {
    l.id.clone()
        .unwrap_or_else(|| format!("{}->{}", l.from, l.to))
}

fn read_model(path: &Path) -> Result<(Model, String), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = path.display().to_string();
    let model = rewater_model::parse_model(&text, &file).map_err(|e| e.to_string())?;
    Ok((model, text))
}

impl Problem {
    /// Reads and validates a study file and the models it names.
    pub fn load(path: &Path, standards: Standards) -> Result<Problem, StudyErrors> {
        let file = path.display().to_string();
        let one = |field: &str, message: String| {
            StudyErrors(vec![StudyError {
                file: file.clone(),
                line: None,
                field: field.into(),
                message,
            }])
        };
        let text = std::fs::read_to_string(path).map_err(|e| one("(file)", e.to_string()))?;
        let study = parse_study(&text, &file).map_err(|e| StudyErrors(vec![e]))?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Problem::new(study, &text, &file, &dir, standards)
    }

    /// Validates a parsed study; model paths are relative to `dir`.
    pub fn new(
        study: Study,
        text: &str,
        file: &str,
        dir: &Path,
        standards: Standards,
    ) -> Result<Problem, StudyErrors> {
        let mut c = Check {
            file,
            errors: Vec::new(),
        };
        let mut texts = vec![text.to_string()];
        let mut scenarios = Vec::new();
        let list: Vec<Scenario> = if study.scenarios.is_empty() {
            vec![Scenario {
                id: "model".into(),
                name: Text {
                    zh: "模型原样".into(),
                    en: "The model as it is".into(),
                },
                model: None,
                influent_factor: 1.0,
                demand_factor: 1.0,
                demand_factor_by_category: BTreeMap::new(),
            }]
        } else {
            study.scenarios.clone()
        };
        for (si, s) in list.iter().enumerate() {
            let (field, rel) = match &s.model {
                Some(m) => (format!("scenario[{si}].model"), m.as_str()),
                None => ("study.model".to_string(), study.study.model.as_str()),
            };
            let f = format!("scenario[{si}]");
            c.nonneg(format!("{f}.influent_factor"), s.influent_factor);
            c.nonneg(format!("{f}.demand_factor"), s.demand_factor);
            for (k, v) in &s.demand_factor_by_category {
                c.nonneg(format!("{f}.demand_factor_by_category.{k}"), *v);
                if !rewater_model::UserCategory::ALL
                    .iter()
                    .any(|u| u.as_str() == k)
                {
                    c.err(
                        format!("{f}.demand_factor_by_category.{k}"),
                        format!("unknown user category '{k}'"),
                    );
                }
            }
            let path = dir.join(rel);
            let (mut model, mtext) = match read_model(&path) {
                Ok(x) => x,
                Err(e) => {
                    c.err(field, e);
                    continue;
                }
            };
            scale_model(&mut model, s);
            let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
            let mfile = path.display().to_string();
            let region = match rewater_model::resolve(&model, &mtext, &mfile, &base, &standards) {
                Ok(r) => r,
                Err(e) => {
                    c.err(field, e.to_string());
                    continue;
                }
            };
            texts.push(mtext.clone());
            scenarios.push(ScenarioModel {
                id: s.id.clone(),
                name: s.name.clone(),
                model,
                text: mtext,
                file: mfile,
                base,
                region,
                upgraded: Vec::new(),
            });
        }
        if !c.errors.is_empty() {
            return Err(StudyErrors(c.errors));
        }
        let objectives: Vec<Objective> = study
            .objectives
            .iter()
            .enumerate()
            .filter_map(|(i, o)| {
                let p = Objective::parse(o);
                if p.is_none() {
                    c.err(
                        format!("objectives[{i}]"),
                        format!("unknown objective '{o}' (reuse_rate, reliability, reliability_priority_N, compliant_supply_days)"),
                    );
                }
                p
            })
            .collect();
        check_money(&mut c, &study);
        let reliability_min = check_constraints(&mut c, &study.constraints);
        let variables = variables(&mut c, &study, &scenarios[0].model);
        for sc in &mut scenarios {
            sc.upgraded = upgrades(&mut c, &study, sc, &standards);
        }
        let outlet_bounds = scenarios
            .iter()
            .map(|s| {
                outlet_bounds(
                    &mut c,
                    &study.constraints.wetland_outlet_standard,
                    &s.region,
                    &standards,
                )
            })
            .collect();
        if !c.errors.is_empty() {
            return Err(StudyErrors(c.errors));
        }
        let refs: Vec<&str> = texts.iter().map(|s| s.as_str()).collect();
        Ok(Problem {
            fingerprint: fnv(&refs),
            study,
            file: file.into(),
            variables,
            objectives,
            scenarios,
            standards,
            outlet_bounds,
            reliability_min,
        })
    }

    /// The genome of the model's current design (each choice at the option nearest to what
    /// the model has; continuous values clamped into their range).
    pub fn current_design(&self) -> Vec<f64> {
        let m = &self.scenarios[0].model;
        let nearest = |opts: &[f64], v: f64| {
            let mut best = 0;
            for (i, o) in opts.iter().enumerate() {
                if (o - v).abs() < (opts[best] - v).abs() {
                    best = i;
                }
            }
            best as f64
        };
        let s = &self.study;
        self.variables
            .iter()
            .map(|v| match v.target {
                Target::WetlandArea(i) => {
                    let c = &s.wetlands[i];
                    let cur = m
                        .wetlands
                        .iter()
                        .find(|w| w.id == c.id)
                        .map_or(0.0, |w| w.area_m2 / 1e4);
                    match (&c.area_options_ha, &v.kind) {
                        (Some(o), _) => nearest(o, cur),
                        (None, VarKind::Continuous { min, max }) => cur.clamp(*min, *max),
                        _ => 0.0,
                    }
                }
                Target::WetlandBuilt(_) => 1.0,
                Target::Pond(i) => {
                    let c = &s.ponds[i];
                    let cur = m
                        .ponds
                        .iter()
                        .find(|p| p.id == c.id)
                        .map_or(0.0, |p| p.capacity_m3);
                    nearest(&c.capacity_options_m3, cur)
                }
                Target::Pipe(i) => {
                    let c = &s.pipes[i];
                    let cap = m
                        .links
                        .iter()
                        .find(|l| link_id(l) == c.link)
                        .and_then(|l| l.capacity_m3_per_day)
                        .unwrap_or(f64::MAX);
                    let mut caps: Vec<f64> = if c.may_omit { vec![0.0] } else { vec![] };
                    caps.extend(
                        self.catalogue(&c.catalogue)
                            .iter()
                            .map(|z| z.capacity_m3_per_day),
                    );
                    nearest(&caps, cap.min(1e15))
                }
                Target::Plant(i) => nearest(&s.plant_expansions[i].added_options_m3_per_day, 0.0),
                Target::Upgrade(_) => 0.0,
                Target::User(_) => 1.0,
            })
            .collect()
    }

    /// The sizes of a catalogue (empty if unknown; validation has checked).
    pub fn catalogue(&self, id: &str) -> &[PipeSize] {
        self.study
            .pipe_catalogues
            .iter()
            .find(|c| c.id == id)
            .map_or(&[], |c| c.sizes.as_slice())
    }

    /// Whether a genome from outside (a checkpoint, a job) is a design of this study: one
    /// value per variable, choices whole and in range, continuous values finite and in range.
    pub fn is_design(&self, g: &[f64]) -> bool {
        g.len() == self.variables.len()
            && g.iter().zip(&self.variables).all(|(x, v)| match v.kind {
                VarKind::Choice { n } => x.fract() == 0.0 && *x >= 0.0 && *x < n as f64,
                VarKind::Continuous { min, max } => x.is_finite() && *x >= min && *x <= max,
            })
    }

    /// Snaps a genome onto the variables' domains (rounds choices, clamps values).
    pub fn repair(&self, g: &mut [f64]) {
        for (x, v) in g.iter_mut().zip(&self.variables) {
            match v.kind {
                VarKind::Choice { n } => *x = x.round().clamp(0.0, (n - 1) as f64),
                VarKind::Continuous { min, max } => *x = x.clamp(min, max),
            }
        }
    }

    /// A person's reading of a design: variable id → the chosen value.
    pub fn describe(&self, g: &[f64]) -> BTreeMap<String, String> {
        let gone = self.not_built(g);
        self.variables
            .iter()
            .zip(g)
            .map(|(v, x)| {
                if let Some(n) = self.idle_because(v, &gone) {
                    return (v.id.clone(), format!("none ({n} not built)"));
                }
                let s = match v.kind {
                    VarKind::Choice { .. } => {
                        v.options.get(*x as usize).cloned().unwrap_or_default()
                    }
                    VarKind::Continuous { .. } => format!("{x:.3}"),
                };
                (v.id.clone(), s)
            })
            .collect()
    }

    /// Wetlands and ponds a design leaves out.
    pub fn not_built(&self, g: &[f64]) -> Vec<String> {
        let s = &self.study;
        let mut out = Vec::new();
        for (v, &x) in self.variables.iter().zip(g) {
            match v.target {
                Target::WetlandArea(i) => {
                    let c = &s.wetlands[i];
                    let ha = c.area_options_ha.as_ref().map_or(x, |o| o[x as usize]);
                    if ha <= 0.0 || !wetland_built(&self.variables, g, i) {
                        out.push(c.id.clone());
                    }
                }
                Target::Pond(i) if s.ponds[i].capacity_options_m3[x as usize] <= 0.0 => {
                    out.push(s.ponds[i].id.clone())
                }
                _ => {}
            }
        }
        out
    }

    /// The element a variable depends on when that element is not built (a wetland's area
    /// when the wetland is left out, a pipe to or from a node left out): it then has no
    /// effect and costs nothing.
    fn idle_because<'a>(&self, v: &Variable, gone: &'a [String]) -> Option<&'a str> {
        let s = &self.study;
        match v.target {
            Target::WetlandArea(i) | Target::WetlandBuilt(i) => gone
                .iter()
                .find(|n| **n == s.wetlands[i].id)
                .map(|n| n.as_str()),
            Target::Pipe(i) => {
                let l = self.scenarios[0]
                    .model
                    .links
                    .iter()
                    .find(|l| link_id(l) == s.pipes[i].link)?;
                gone.iter()
                    .find(|n| **n == l.from || **n == l.to)
                    .map(|n| n.as_str())
            }
            _ => None,
        }
    }

    /// The model of scenario `si` with design `g` applied.
    pub fn apply(&self, si: usize, g: &[f64]) -> Model {
        let sc = &self.scenarios[si];
        let mut m = sc.model.clone();
        let s = &self.study;
        let mut remove_nodes: Vec<String> = Vec::new();
        let mut remove_links: Vec<String> = Vec::new();
        for (v, &x) in self.variables.iter().zip(g) {
            match v.target {
                Target::WetlandArea(i) => {
                    let c = &s.wetlands[i];
                    let ha = c.area_options_ha.as_ref().map_or(x, |o| o[x as usize]);
                    if ha <= 0.0 {
                        remove_nodes.push(c.id.clone());
                    } else if let Some(w) = m.wetlands.iter_mut().find(|w| w.id == c.id) {
                        w.area_m2 = ha * 1e4;
                    }
                }
                Target::WetlandBuilt(i) => {
                    if x < 0.5 {
                        remove_nodes.push(s.wetlands[i].id.clone());
                    }
                }
                Target::Pond(i) => {
                    let c = &s.ponds[i];
                    let cap = c.capacity_options_m3[x as usize];
                    if cap <= 0.0 {
                        remove_nodes.push(c.id.clone());
                    } else if let Some(p) = m.ponds.iter_mut().find(|p| p.id == c.id) {
                        // Same depth and the same fill fractions at the new size.
                        let r = cap / p.capacity_m3;
                        p.capacity_m3 = cap;
                        p.min_volume_m3 *= r;
                        p.initial_volume_m3 = (p.initial_volume_m3 * r).min(cap);
                        p.surface_area_m2 *= r;
                    }
                }
                Target::Pipe(i) => {
                    let c = &s.pipes[i];
                    let k = x as usize;
                    let k = if c.may_omit {
                        k.checked_sub(1)
                    } else {
                        Some(k)
                    };
                    match k {
                        None => remove_links.push(c.link.clone()),
                        Some(k) => {
                            let cap = self.catalogue(&c.catalogue)[k].capacity_m3_per_day;
                            if let Some(l) = m.links.iter_mut().find(|l| link_id(l) == c.link) {
                                l.capacity_m3_per_day = Some(cap);
                            }
                        }
                    }
                }
                Target::Plant(i) => {
                    let c = &s.plant_expansions[i];
                    if let Some(p) = m.plants.iter_mut().find(|p| p.id == c.plant) {
                        p.capacity_m3_per_day += c.added_options_m3_per_day[x as usize];
                    }
                }
                Target::Upgrade(i) => {
                    if x >= 1.0 {
                        let c = &s.effluent_upgrades[i];
                        if let Some(p) = m.plants.iter_mut().find(|p| p.id == c.plant) {
                            p.effluent_mg_per_l = sc.upgraded[i][x as usize - 1].clone();
                            p.effluent_standard = Some(c.options[x as usize - 1].standard.clone());
                        }
                    }
                }
                Target::User(i) => {
                    if x < 0.5 {
                        let u = &s.user_connections[i].user;
                        for l in m.links.iter_mut().filter(|l| &l.to == u) {
                            l.capacity_m3_per_day = Some(0.0);
                        }
                    }
                }
            }
        }
        m.wetlands.retain(|w| !remove_nodes.contains(&w.id));
        m.ponds.retain(|p| !remove_nodes.contains(&p.id));
        m.links.retain(|l| {
            !remove_nodes.contains(&l.from)
                && !remove_nodes.contains(&l.to)
                && !remove_links.contains(&link_id(l))
        });
        m
    }

    /// Capital (yuan) and annualised cost (yuan/year) of a design, without the running costs
    /// that depend on the simulated flows; each item as (variable id, capex, annual).
    pub fn fixed_cost(&self, g: &[f64]) -> (f64, f64, Vec<(String, f64, f64)>) {
        let s = &self.study;
        let r = s.costs.discount_rate;
        let life = |l: Option<u32>| l.unwrap_or(s.costs.lifetime_years);
        let mut items = Vec::new();
        let mut add = |id: &str, capex: f64, om: f64, l: Option<u32>| {
            if capex > 0.0 || om > 0.0 {
                let a = rewater_money::cost::annuity(capex, r, life(l)) + om;
                items.push((id.to_string(), capex, a));
            }
        };
        let m = &self.scenarios[0].model;
        let gone = self.not_built(g);
        for (v, &x) in self.variables.iter().zip(g) {
            if self.idle_because(v, &gone).is_some() {
                continue;
            }
            match v.target {
                Target::WetlandArea(i) => {
                    let c = &s.wetlands[i];
                    let ha = c.area_options_ha.as_ref().map_or(x, |o| o[x as usize]);
                    let built = ha > 0.0 && wetland_built(&self.variables, g, i);
                    if built {
                        let capex = c.fixed_capex_yuan + c.capex_yuan_per_ha * ha;
                        add(&v.id, capex, c.om_yuan_per_ha_year * ha, c.lifetime_years);
                    }
                }
                Target::WetlandBuilt(_) => {}
                Target::Pond(i) => {
                    let c = &s.ponds[i];
                    let cap = c.capacity_options_m3[x as usize];
                    if cap > 0.0 {
                        let capex = c.fixed_capex_yuan + c.capex_yuan_per_m3 * cap;
                        add(&v.id, capex, c.om_yuan_per_m3_year * cap, c.lifetime_years);
                    }
                }
                Target::Pipe(i) => {
                    let c = &s.pipes[i];
                    let k = if c.may_omit {
                        (x as usize).checked_sub(1)
                    } else {
                        Some(x as usize)
                    };
                    if let Some(z) = k.and_then(|k| self.catalogue(&c.catalogue).get(k)) {
                        let capex = z.capex_yuan_per_km * c.length_km;
                        add(
                            &v.id,
                            capex,
                            z.om_yuan_per_km_year * c.length_km,
                            c.lifetime_years,
                        );
                    }
                }
                Target::Plant(i) => {
                    let c = &s.plant_expansions[i];
                    let q = c.added_options_m3_per_day[x as usize];
                    add(
                        &v.id,
                        c.capex_yuan_per_m3_per_day * q,
                        c.om_yuan_per_m3_per_day_year * q,
                        c.lifetime_years,
                    );
                }
                Target::Upgrade(i) => {
                    if x >= 1.0 {
                        let c = &s.effluent_upgrades[i];
                        let o = &c.options[x as usize - 1];
                        let cap = m
                            .plants
                            .iter()
                            .find(|p| p.id == c.plant)
                            .map_or(0.0, |p| p.capacity_m3_per_day)
                            + self.expansion_of(&c.plant, g);
                        add(
                            &v.id,
                            o.capex_yuan_per_m3_per_day * cap,
                            0.0,
                            c.lifetime_years,
                        );
                    }
                }
                Target::User(i) => {
                    if x >= 0.5 {
                        let c = &s.user_connections[i];
                        add(&v.id, c.capex_yuan, c.om_yuan_per_year, c.lifetime_years);
                    }
                }
            }
        }
        let capex = items.iter().map(|i| i.1).sum();
        let annual = items.iter().map(|i| i.2).sum();
        (capex, annual, items)
    }

    /// Capacity a design adds at `plant`, m³/d.
    fn expansion_of(&self, plant: &str, g: &[f64]) -> f64 {
        self.variables
            .iter()
            .zip(g)
            .map(|(v, &x)| match v.target {
                Target::Plant(i) if self.study.plant_expansions[i].plant == plant => {
                    self.study.plant_expansions[i].added_options_m3_per_day[x as usize]
                }
                _ => 0.0,
            })
            .sum()
    }

    /// Per effluent upgrade: (plant id, running cost per m³ of the chosen option), if chosen.
    pub fn upgrade_opex(&self, g: &[f64]) -> Vec<(String, f64)> {
        self.variables
            .iter()
            .zip(g)
            .filter_map(|(v, &x)| match v.target {
                Target::Upgrade(i) if x >= 1.0 => {
                    let c = &self.study.effluent_upgrades[i];
                    Some((c.plant.clone(), c.options[x as usize - 1].opex_yuan_per_m3))
                }
                _ => None,
            })
            .collect()
    }
}

fn wetland_built(vars: &[Variable], g: &[f64], i: usize) -> bool {
    vars.iter()
        .zip(g)
        .all(|(v, &x)| !matches!(v.target, Target::WetlandBuilt(j) if j == i) || x >= 0.5)
}

/// A scenario's scaling of influent and demand, as monthly factors.
fn scale_model(m: &mut Model, s: &Scenario) {
    let scale = |f: &mut Option<Vec<f64>>, k: f64| {
        if k != 1.0 {
            let v = f.get_or_insert_with(|| vec![1.0; 12]);
            v.iter_mut().for_each(|x| *x *= k);
        }
    };
    for p in &mut m.plants {
        scale(&mut p.influent_monthly_factors, s.influent_factor);
    }
    for u in &mut m.users {
        let k = s.demand_factor
            * s.demand_factor_by_category
                .get(u.category.as_str())
                .copied()
                .unwrap_or(1.0);
        scale(&mut u.demand_monthly_factors, k);
    }
}
