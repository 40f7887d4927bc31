//! Checking a study's candidates, constraints and money against its model: the decision
//! variables they give, and the effluent after each upgrade. Every error names its field.

use crate::problem::link_id;
use crate::problem::{Target, VarKind, Variable};
use crate::study::*;
use rewater_model::{Model, Region};
use rewater_standards::standard::Context;
use rewater_standards::{Bound, Factor, Standards};
use std::collections::BTreeMap;

pub(crate) struct Check<'a> {
    pub(crate) file: &'a str,
    pub(crate) errors: Vec<StudyError>,
}

impl Check<'_> {
    pub(crate) fn err(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.errors.push(StudyError {
            file: self.file.into(),
            line: None,
            field: field.into(),
            message: message.into(),
        });
    }
    pub(crate) fn nonneg(&mut self, field: String, v: f64) {
        if !(v.is_finite() && v >= 0.0) {
            self.err(field, format!("{v} must be a number ≥ 0"));
        }
    }
    pub(crate) fn share(&mut self, field: String, v: f64) {
        if !(v.is_finite() && (0.0..=1.0).contains(&v)) {
            self.err(field, format!("{v} must be between 0 and 1"));
        }
    }
    pub(crate) fn options(&mut self, field: String, v: &[f64]) {
        if v.is_empty() {
            self.err(field.clone(), "needs at least one option");
        }
        for (i, x) in v.iter().enumerate() {
            self.nonneg(format!("{field}[{i}]"), *x);
        }
    }
}

pub(crate) fn check_money(c: &mut Check, s: &Study) {
    c.share("costs.discount_rate".into(), s.costs.discount_rate);
    if s.costs.lifetime_years == 0 {
        c.err("costs.lifetime_years", "must be at least 1");
    }
    for (i, t) in s.report_targets.iter().enumerate() {
        c.share(format!("report_targets[{i}]"), *t);
    }
    let sr = &s.search;
    if sr.population < 4 || sr.population % 2 == 1 || sr.population > 10_000 {
        c.err(
            "search.population",
            format!("{} must be even, between 4 and 10000", sr.population),
        );
    }
    if sr.generations > 100_000 {
        c.err("search.generations", "at most 100000");
    }
}

pub(crate) fn check_constraints(c: &mut Check, k: &Constraints) -> Vec<(u32, f64)> {
    if let Some(v) = k.reuse_rate_min {
        c.share("constraints.reuse_rate_min".into(), v);
    }
    if let Some(v) = k.wetland_outlet_min_share {
        c.share("constraints.wetland_outlet_min_share".into(), v);
    }
    let mut out = Vec::new();
    for (p, v) in &k.reliability_min {
        let f = format!("constraints.reliability_min.{p}");
        c.share(f.clone(), *v);
        match p.parse::<u32>() {
            Ok(n) if n >= 1 => out.push((n, *v)),
            _ => c.err(f, format!("'{p}' is not a priority (1, 2, …)")),
        }
    }
    out
}

pub(crate) fn variables(c: &mut Check, s: &Study, m: &Model) -> Vec<Variable> {
    let mut vars = Vec::new();
    let t = |zh: String, en: String| Text { zh, en };
    for (i, w) in s.wetlands.iter().enumerate() {
        let f = format!("wetland[{i}]");
        if !m.wetlands.iter().any(|x| x.id == w.id) {
            c.err(
                format!("{f}.id"),
                format!("the model has no wetland '{}'", w.id),
            );
        }
        c.nonneg(format!("{f}.capex_yuan_per_ha"), w.capex_yuan_per_ha);
        c.nonneg(format!("{f}.fixed_capex_yuan"), w.fixed_capex_yuan);
        c.nonneg(format!("{f}.om_yuan_per_ha_year"), w.om_yuan_per_ha_year);
        let label = t(
            format!("湿地 {} 面积（公顷）", w.id),
            format!("Wetland {} area (ha)", w.id),
        );
        let id = format!("wetland:{}:area_ha", w.id);
        match (&w.area_ha, &w.area_options_ha) {
            (Some(r), None) => {
                if !(r.min.is_finite() && r.max.is_finite() && r.min > 0.0 && r.max > r.min) {
                    c.err(
                        format!("{f}.area_ha"),
                        format!("needs 0 < min < max (min {}, max {})", r.min, r.max),
                    );
                }
                vars.push(Variable {
                    id,
                    label,
                    kind: VarKind::Continuous {
                        min: r.min,
                        max: r.max,
                    },
                    options: vec![],
                    target: Target::WetlandArea(i),
                });
                vars.push(Variable {
                    id: format!("wetland:{}:built", w.id),
                    label: t(
                        format!("是否建设湿地 {}", w.id),
                        format!("Build wetland {}", w.id),
                    ),
                    kind: VarKind::Choice { n: 2 },
                    options: vec!["no".into(), "yes".into()],
                    target: Target::WetlandBuilt(i),
                });
            }
            (None, Some(o)) => {
                c.options(format!("{f}.area_options_ha"), o);
                let options = o
                    .iter()
                    .map(|a| {
                        if *a > 0.0 {
                            format!("{a} ha")
                        } else {
                            "none".into()
                        }
                    })
                    .collect();
                vars.push(Variable {
                    id,
                    label,
                    kind: VarKind::Choice { n: o.len().max(1) },
                    options,
                    target: Target::WetlandArea(i),
                });
            }
            _ => c.err(
                format!("{f}.area_ha"),
                "give exactly one of area_ha (a range) and area_options_ha",
            ),
        }
    }
    for (i, p) in s.ponds.iter().enumerate() {
        let f = format!("pond[{i}]");
        if !m.ponds.iter().any(|x| x.id == p.id) {
            c.err(
                format!("{f}.id"),
                format!("the model has no pond '{}'", p.id),
            );
        }
        c.options(format!("{f}.capacity_options_m3"), &p.capacity_options_m3);
        c.nonneg(format!("{f}.capex_yuan_per_m3"), p.capex_yuan_per_m3);
        c.nonneg(format!("{f}.fixed_capex_yuan"), p.fixed_capex_yuan);
        c.nonneg(format!("{f}.om_yuan_per_m3_year"), p.om_yuan_per_m3_year);
        vars.push(Variable {
            id: format!("pond:{}:capacity_m3", p.id),
            label: t(
                format!("调蓄库塘 {} 容量（m³）", p.id),
                format!("Pond {} capacity (m³)", p.id),
            ),
            kind: VarKind::Choice {
                n: p.capacity_options_m3.len().max(1),
            },
            options: p
                .capacity_options_m3
                .iter()
                .map(|x| {
                    if *x > 0.0 {
                        format!("{x} m3")
                    } else {
                        "none".into()
                    }
                })
                .collect(),
            target: Target::Pond(i),
        });
    }
    for (i, k) in s.pipe_catalogues.iter().enumerate() {
        let f = format!("pipe_catalogue[{i}]");
        if k.sizes.is_empty() {
            c.err(format!("{f}.size"), "needs at least one size");
        }
        for (j, z) in k.sizes.iter().enumerate() {
            c.nonneg(
                format!("{f}.size[{j}].capacity_m3_per_day"),
                z.capacity_m3_per_day,
            );
            c.nonneg(
                format!("{f}.size[{j}].capex_yuan_per_km"),
                z.capex_yuan_per_km,
            );
            c.nonneg(
                format!("{f}.size[{j}].om_yuan_per_km_year"),
                z.om_yuan_per_km_year,
            );
        }
    }
    for (i, p) in s.pipes.iter().enumerate() {
        let f = format!("pipe[{i}]");
        if !m.links.iter().any(|l| link_id(l) == p.link) {
            c.err(
                format!("{f}.link"),
                format!("the model has no link '{}'", p.link),
            );
        }
        c.nonneg(format!("{f}.length_km"), p.length_km);
        let Some(cat) = s.pipe_catalogues.iter().find(|k| k.id == p.catalogue) else {
            c.err(
                format!("{f}.catalogue"),
                format!("no pipe_catalogue '{}'", p.catalogue),
            );
            continue;
        };
        let mut options: Vec<String> = if p.may_omit {
            vec!["none".into()]
        } else {
            vec![]
        };
        options.extend(cat.sizes.iter().map(|z| format!("DN{}", z.dn)));
        vars.push(Variable {
            id: format!("pipe:{}:dn", p.link),
            label: t(
                format!("管道 {} 管径", p.link),
                format!("Pipe {} diameter", p.link),
            ),
            kind: VarKind::Choice {
                n: options.len().max(1),
            },
            options,
            target: Target::Pipe(i),
        });
    }
    for (i, p) in s.plant_expansions.iter().enumerate() {
        let f = format!("plant_expansion[{i}]");
        if !m.plants.iter().any(|x| x.id == p.plant) {
            c.err(
                format!("{f}.plant"),
                format!("the model has no plant '{}'", p.plant),
            );
        }
        c.options(
            format!("{f}.added_options_m3_per_day"),
            &p.added_options_m3_per_day,
        );
        c.nonneg(
            format!("{f}.capex_yuan_per_m3_per_day"),
            p.capex_yuan_per_m3_per_day,
        );
        c.nonneg(
            format!("{f}.om_yuan_per_m3_per_day_year"),
            p.om_yuan_per_m3_per_day_year,
        );
        vars.push(Variable {
            id: format!("plant:{}:added_m3_per_day", p.plant),
            label: t(
                format!("污水厂 {} 扩建规模（m³/d）", p.plant),
                format!("Plant {} added capacity (m³/d)", p.plant),
            ),
            kind: VarKind::Choice {
                n: p.added_options_m3_per_day.len().max(1),
            },
            options: p
                .added_options_m3_per_day
                .iter()
                .map(|x| format!("+{x} m3/d"))
                .collect(),
            target: Target::Plant(i),
        });
    }
    for (i, u) in s.effluent_upgrades.iter().enumerate() {
        let f = format!("effluent_upgrade[{i}]");
        if !m.plants.iter().any(|x| x.id == u.plant) {
            c.err(
                format!("{f}.plant"),
                format!("the model has no plant '{}'", u.plant),
            );
        }
        if u.options.is_empty() {
            c.err(format!("{f}.option"), "needs at least one option");
        }
        for (j, o) in u.options.iter().enumerate() {
            c.nonneg(
                format!("{f}.option[{j}].capex_yuan_per_m3_per_day"),
                o.capex_yuan_per_m3_per_day,
            );
            c.nonneg(
                format!("{f}.option[{j}].opex_yuan_per_m3"),
                o.opex_yuan_per_m3,
            );
        }
        let mut options = vec!["as built".to_string()];
        options.extend(u.options.iter().map(|o| o.standard.clone()));
        vars.push(Variable {
            id: format!("plant:{}:effluent", u.plant),
            label: t(
                format!("污水厂 {} 提标", u.plant),
                format!("Plant {} effluent upgrade", u.plant),
            ),
            kind: VarKind::Choice { n: options.len() },
            options,
            target: Target::Upgrade(i),
        });
    }
    for (i, u) in s.user_connections.iter().enumerate() {
        let f = format!("user_connection[{i}]");
        if !m.users.iter().any(|x| x.id == u.user) {
            c.err(
                format!("{f}.user"),
                format!("the model has no user '{}'", u.user),
            );
        }
        c.nonneg(format!("{f}.capex_yuan"), u.capex_yuan);
        c.nonneg(format!("{f}.om_yuan_per_year"), u.om_yuan_per_year);
        vars.push(Variable {
            id: format!("user:{}:connected", u.user),
            label: t(
                format!("是否接入用户 {}", u.user),
                format!("Connect user {}", u.user),
            ),
            kind: VarKind::Choice { n: 2 },
            options: vec!["no".into(), "yes".into()],
            target: Target::User(i),
        });
    }
    if vars.is_empty() {
        c.err("(top level)", "the study has no decision variable (wetland, pond, pipe, plant_expansion, effluent_upgrade, user_connection)");
    }
    vars
}

/// The effluent map of each upgrade option in a scenario: per tracked factor, the better of
/// the plant's current effluent and the class limit, then the option's own values.
pub(crate) fn upgrades(
    c: &mut Check,
    s: &Study,
    sc: &crate::problem::ScenarioModel,
    standards: &Standards,
) -> Vec<Vec<BTreeMap<String, f64>>> {
    let region = &sc.region;
    s.effluent_upgrades
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let current: Vec<f64> = region
                .nodes
                .iter()
                .find(|n| n.id == u.plant)
                .and_then(|n| match &n.kind {
                    rewater_model::NodeKind::Plant(p) => Some(p.effluent_mg_per_l.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| vec![f64::NAN; region.factors.len()]);
            u.options
                .iter()
                .enumerate()
                .map(|(j, o)| {
                    let mut out = BTreeMap::new();
                    match standards.resolve(&o.standard) {
                        Ok((std, class)) => {
                            for (k, f) in region.factors.iter().enumerate() {
                                let lim =
                                    std.limit_for(class, *f, &Context::default())
                                        .and_then(|sel| match (&sel.limit.bound, sel.limit.unit) {
                                            (Bound::Max { value }, Some(un)) => Some(
                                                un.convert(*value, model_unit(*f))
                                                    .unwrap_or(*value),
                                            ),
                                            _ => None,
                                        });
                                let v = match (current[k].is_nan(), lim) {
                                    (false, Some(l)) => current[k].min(l),
                                    (true, Some(l)) => l,
                                    (false, None) => current[k],
                                    (true, None) => continue,
                                };
                                out.insert(f.code().to_string(), v);
                            }
                        }
                        Err(e) => c.err(format!("effluent_upgrade[{i}].option[{j}].standard"), e),
                    }
                    for (k, v) in &o.effluent_mg_per_l {
                        let field =
                            format!("effluent_upgrade[{i}].option[{j}].effluent_mg_per_l.{k}");
                        match Factor::parse(k) {
                            Ok(f) => {
                                c.nonneg(field, *v);
                                out.insert(f.code().to_string(), *v);
                            }
                            Err(e) => c.err(field, e.to_string()),
                        }
                    }
                    out
                })
                .collect()
        })
        .collect()
}

/// Bounds of the wetland-outlet class for a region's factors (river, outlet).
pub(crate) fn outlet_bounds(
    c: &mut Check,
    spec: &str,
    region: &Region,
    standards: &Standards,
) -> Vec<(usize, f64, f64)> {
    let (std, class) = match standards.resolve(spec) {
        Ok(x) => x,
        Err(e) => {
            c.err("constraints.wetland_outlet_standard", e);
            return Vec::new();
        }
    };
    let ctx = Context {
        water_body: Some(rewater_standards::WaterBody::River),
        sampling_point: Some(rewater_standards::standard::SamplingPoint::Outlet),
        ..Default::default()
    };
    let mut out = Vec::new();
    for (i, f) in region.factors.iter().enumerate() {
        let Some(sel) = std.limit_for(class, *f, &ctx) else {
            continue;
        };
        let Some(lu) = sel.limit.unit else { continue };
        let conv = |v: f64| lu.convert(v, model_unit(*f)).unwrap_or(v);
        match sel.limit.bound {
            Bound::Max { value } => out.push((i, f64::NEG_INFINITY, conv(value))),
            Bound::Min { value } => out.push((i, conv(value), f64::INFINITY)),
            Bound::Range { low, high } => out.push((i, conv(low), conv(high))),
            Bound::Qualitative { .. } => {}
        }
    }
    out
}

/// The unit the model's quality vectors use for a factor: mg/L for mass concentrations, else
/// the factor's own unit (as the model loader does).
fn model_unit(f: Factor) -> rewater_standards::Unit {
    let u = f.info().unit;
    if u.kind() == rewater_standards::unit::Kind::MassConcentration {
        rewater_standards::Unit::MgPerL
    } else {
        u
    }
}
