//! Reading a model file and resolving it into a [`Region`], with errors that name the file,
//! the line, the node or link, and the field.

use crate::region::*;
use crate::series::{Profile, SeriesCache, SeriesError};
use crate::types::*;
use rewater_standards::standard::{Bound, Context};
use rewater_standards::{Date, Factor, Standards, Unit};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// A problem in a model file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: String,
    pub line: Option<usize>,
    /// "plant P1", "link P1->W1"…
    pub item: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        write!(f, ":")?;
        if let Some(i) = &self.item {
            write!(f, " {i}:")?;
        }
        if let Some(fl) = &self.field {
            write!(f, " field '{fl}':")?;
        }
        write!(f, " {}", self.message)
    }
}

impl std::error::Error for ModelError {}

/// All problems found in a model (validation reports every one it can, not just the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelErrors(pub Vec<ModelError>);

impl fmt::Display for ModelErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ModelErrors {}

/// Parses model text; TOML unless `file` ends in `.json`.
pub fn parse_model(text: &str, file: &str) -> Result<Model, ModelError> {
    let mk = |line: Option<usize>, message: String| ModelError {
        file: file.into(),
        line,
        item: None,
        field: None,
        message,
    };
    let model: Model = if file.ends_with(".json") {
        serde_json::from_str(text).map_err(|e| mk(Some(e.line()), e.to_string()))?
    } else {
        toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            mk(line, e.message().trim().to_string())
        })?
    };
    if model.format_version != FORMAT_VERSION {
        return Err(ModelError {
            field: Some("format_version".into()),
            ..mk(
                find_line(text, "format_version", None),
                format!(
                    "version {} is not supported; this build reads version {FORMAT_VERSION}",
                    model.format_version
                ),
            )
        });
    }
    Ok(model)
}

/// Reads, parses and resolves a model file.
pub fn load(path: &Path, standards: &Standards) -> Result<Region, ModelErrors> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        ModelErrors(vec![ModelError {
            file: file.clone(),
            line: None,
            item: None,
            field: None,
            message: format!("cannot read: {e}"),
        }])
    })?;
    let model = parse_model(&text, &file).map_err(|e| ModelErrors(vec![e]))?;
    let base = path.parent().unwrap_or(Path::new("."));
    resolve(&model, &text, &file, base, standards)
}

/// Line of the first line holding `key = "value"` (TOML) or `"key": "value"` (JSON), after
/// the line holding `after` if given.
fn find_line(text: &str, key: &str, value: Option<&str>) -> Option<usize> {
    text.lines()
        .position(|l| {
            let t = l.trim_start().trim_start_matches('"');
            t.starts_with(key) && value.is_none_or(|v| l.contains(&format!("\"{v}\"")))
        })
        .map(|i| i + 1)
}

struct Ctx<'a> {
    text: &'a str,
    file: &'a str,
    errors: Vec<ModelError>,
}

impl Ctx<'_> {
    fn err(&mut self, kind: &str, id: &str, field: &str, message: impl Into<String>) {
        let item_line = find_line(self.text, "id", Some(id))
            .or_else(|| find_line(self.text, "from", Some(id.split("->").next().unwrap_or(id))));
        // Prefer the field's own line inside the item's block (up to the next table header).
        let field_key = field.split('.').next().unwrap_or(field);
        let line = item_line.map(|start| {
            self.text
                .lines()
                .enumerate()
                .skip(start.saturating_sub(1))
                .take_while(|(i, l)| *i + 1 == start || !l.trim_start().starts_with('['))
                .find(|(_, l)| {
                    !field_key.is_empty()
                        && l.trim_start()
                            .trim_start_matches('"')
                            .starts_with(field_key)
                })
                .map(|(i, _)| i + 1)
                .unwrap_or(start)
        });
        self.errors.push(ModelError {
            file: self.file.to_string(),
            line,
            item: Some(format!("{kind} {id}")),
            field: (!field.is_empty()).then(|| field.to_string()),
            message: message.into(),
        });
    }

    fn series_err(&mut self, kind: &str, id: &str, field: &str, e: SeriesError) {
        let place = match e.line {
            Some(l) => format!("{}:{l}", e.file),
            None => e.file.clone(),
        };
        self.err(kind, id, field, format!("{place}: {}", e.message));
    }
}

fn finite_nonneg(v: f64) -> bool {
    v.is_finite() && v >= 0.0
}

/// Default P-k-C* parameters: Kadlec & Wallace (2009), *Treatment Wetlands* 2nd ed., 50th
/// percentile k at 20 °C with C* and P, as transcribed in the project's reference tables; θ are
/// the Kadlec & Knight (1996) defaults. BOD5 uses the 0–30 mg/L (tertiary) band, right for
/// polishing plant effluent. No constants exist for COD, for TP in subsurface wetlands or for
/// nitrogen in vertical-flow wetlands: such factors pass through unless the model gives them.
pub fn default_pkc(t: WetlandType, factor: Factor) -> Option<Pkc> {
    let p = |k: f64, c: f64, theta: f64, p: f64| {
        Some(Pkc {
            k_m_per_yr: k,
            c_star_mg_per_l: c,
            theta,
            p,
        })
    };
    match (t, factor.code()) {
        (WetlandType::FreeWaterSurface, "w21003") => p(14.7, 0.0, 1.04, 3.0),
        (WetlandType::FreeWaterSurface, "w21001") => p(12.6, 1.5, 1.05, 3.0),
        (WetlandType::FreeWaterSurface, "w21011") => p(10.0, 0.002, 1.0, 3.4),
        (WetlandType::FreeWaterSurface, "w01017") => p(33.0, 2.0, 1.0, 1.0),
        // C* 40 cfu/100 mL = 400 per L.
        (WetlandType::FreeWaterSurface, "w02003") => p(83.0, 400.0, 1.0, 3.0),
        (WetlandType::HorizontalSubsurface, "w21003") => p(11.4, 0.0, 1.04, 6.0),
        (WetlandType::HorizontalSubsurface, "w21001") => p(8.4, 1.0, 1.05, 6.0),
        (WetlandType::HorizontalSubsurface, "w01017") => p(86.0, 1.0, 1.0, 3.0),
        (WetlandType::HorizontalSubsurface, "w02003") => p(103.0, 0.0, 1.0, 6.0),
        (WetlandType::Vertical, "w01017") => p(63.0, 0.0, 1.0, 6.0),
        _ => None,
    }
}

/// Default benefit per m³ for a priority: 1000 / priority (priority 1 → 1000, 2 → 500 …).
pub fn default_benefit(priority: u32) -> f64 {
    1000.0 / priority.max(1) as f64
}

/// Default value of water kept in a pond, per m³: below every user benefit up to priority 100,
/// above spilling to a river (cost 0).
pub const DEFAULT_POND_VALUE_PER_M3: f64 = 10.0;
/// Default bypass penalty per m³ (reported in the objective).
pub const DEFAULT_BYPASS_PENALTY_PER_M3: f64 = 100.0;

/// Resolves a parsed model; `base` is the folder CSV paths are relative to.
pub fn resolve(
    model: &Model,
    text: &str,
    file: &str,
    base: &Path,
    standards: &Standards,
) -> Result<Region, ModelErrors> {
    let mut cx = Ctx {
        text,
        file,
        errors: Vec::new(),
    };
    let mut warnings = Vec::new();
    let info = &model.model;

    let start: Option<Date> = match info.start.parse() {
        Ok(d) => Some(d),
        Err(e) => {
            cx.err("model", &info.name, "start", e.to_string());
            None
        }
    };
    let days: usize = match (info.days, &info.end, start) {
        (Some(d), None, _) if (1..=36_600).contains(&d) => d as usize,
        (Some(d), None, _) => {
            cx.err(
                "model",
                &info.name,
                "days",
                format!("{d} is outside 1–36600"),
            );
            1
        }
        (None, Some(end), Some(s)) => match end.parse::<Date>() {
            Ok(e) if e >= s => (e.days_since(s) + 1) as usize,
            Ok(_) => {
                cx.err("model", &info.name, "end", "end is before start");
                1
            }
            Err(err) => {
                cx.err("model", &info.name, "end", err.to_string());
                1
            }
        },
        (None, Some(_), None) => 1,
        _ => {
            cx.err(
                "model",
                &info.name,
                "days",
                "give exactly one of 'days' and 'end'",
            );
            1
        }
    };
    // An invalid start is already reported; carry on to report the rest.
    let start = start.unwrap_or(Date::EPOCH);

    let mut factors = Vec::new();
    for f in &info.factors {
        match Factor::parse(f) {
            Ok(x) if factors.contains(&x) => cx.err(
                "model",
                &info.name,
                "factors",
                format!("'{f}' is listed twice"),
            ),
            Ok(x) => factors.push(x),
            Err(e) => cx.err("model", &info.name, "factors", e.to_string()),
        }
    }
    let factor_index = |name: &str| -> Result<usize, String> {
        let f = Factor::parse(name).map_err(|e| e.to_string())?;
        factors
            .iter()
            .position(|x| *x == f)
            .ok_or_else(|| format!("factor '{name}' is not tracked; add it to model.factors"))
    };
    let quality_vec =
        |cx: &mut Ctx, kind: &str, id: &str, field: &str, map: &QualityMap| -> Vec<f64> {
            let mut v = vec![f64::NAN; factors.len()];
            for (k, c) in map {
                match factor_index(k) {
                    Ok(i) if finite_nonneg(*c) => v[i] = *c,
                    Ok(_) => cx.err(
                        kind,
                        id,
                        &format!("{field}.{k}"),
                        format!("{c} is not a concentration ≥ 0"),
                    ),
                    Err(e) => cx.err(kind, id, field, e),
                }
            }
            v
        };
    if quality_vec_unused(&factors) {
        warnings.push(
            "model.factors is empty: no water quality is tracked and no user is refused water"
                .into(),
        );
    }

    let mut cache = SeriesCache::new(base, start, days);
    let profile = |cache: &mut SeriesCache,
                   cx: &mut Ctx,
                   kind: &str,
                   id: &str,
                   names: [&str; 4],
                   constant: Option<f64>,
                   series: &Option<SeriesRef>,
                   monthly: &Option<Vec<f64>>,
                   daily: &Option<SeriesRef>|
     -> Profile {
        let mut p = match (constant, series) {
            (Some(c), None) => {
                if !finite_nonneg(c) {
                    cx.err(kind, id, names[0], format!("{c} must be a number ≥ 0"));
                }
                Profile::constant(c)
            }
            (None, Some(s)) => match cache.get(&s.csv, &s.column) {
                Ok(v) => {
                    if let Some(bad) = v.iter().position(|x| *x < 0.0) {
                        cx.err(
                            kind,
                            id,
                            names[1],
                            format!(
                                "{}: value {} on {} is negative",
                                s.csv,
                                v[bad],
                                start.add_days(bad as i32)
                            ),
                        );
                    }
                    Profile::series(v)
                }
                Err(e) => {
                    cx.series_err(kind, id, names[1], e);
                    Profile::constant(0.0)
                }
            },
            _ => {
                cx.err(
                    kind,
                    id,
                    names[0],
                    format!("give exactly one of '{}' and '{}'", names[0], names[1]),
                );
                Profile::constant(0.0)
            }
        };
        if let Some(m) = monthly {
            if m.len() != 12 || m.iter().any(|x| !finite_nonneg(*x)) {
                cx.err(
                    kind,
                    id,
                    names[2],
                    "needs twelve numbers ≥ 0 (January first)",
                );
            } else {
                let mut a = [0.0; 12];
                a.copy_from_slice(m);
                p = p.with_monthly(a);
            }
        }
        if let Some(d) = daily {
            match cache.get(&d.csv, &d.column) {
                Ok(v) => p = p.with_daily(v),
                Err(e) => cx.series_err(kind, id, names[3], e),
            }
        }
        p
    };

    let mut nodes: Vec<Node> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut add = |cx: &mut Ctx,
                   nodes: &mut Vec<Node>,
                   kind: &str,
                   id: &str,
                   name: &str,
                   location: Option<[f64; 2]>,
                   k: NodeKind| {
        if id.trim().is_empty() {
            cx.err(kind, id, "id", "must not be empty");
        }
        if ids.contains_key(id) {
            cx.err(kind, id, "id", format!("'{id}' is used by another node"));
        }
        ids.insert(id.to_string(), nodes.len());
        nodes.push(Node {
            id: id.to_string(),
            name: name.to_string(),
            location,
            kind: k,
        });
    };

    for p in &model.plants {
        let k = "plant";
        if !finite_nonneg(p.capacity_m3_per_day) {
            cx.err(
                k,
                &p.id,
                "capacity_m3_per_day",
                format!("{} must be a number ≥ 0", p.capacity_m3_per_day),
            );
        }
        let names = [
            "influent_m3_per_day",
            "influent_series",
            "influent_monthly_factors",
            "influent_daily_factors",
        ];
        let influent = match (&p.sewershed, p.influent_m3_per_day, &p.influent_series) {
            (Some(s), None, None) => {
                if !finite_nonneg(s.population)
                    || !finite_nonneg(s.l_per_person_day)
                    || !finite_nonneg(s.industrial_m3_per_day)
                {
                    cx.err(
                        k,
                        &p.id,
                        "sewershed",
                        "population, l_per_person_day and industrial_m3_per_day must be ≥ 0",
                    );
                }
                let c = s.population * s.l_per_person_day / 1000.0 + s.industrial_m3_per_day;
                profile(
                    &mut cache,
                    &mut cx,
                    k,
                    &p.id,
                    names,
                    Some(c),
                    &None,
                    &p.influent_monthly_factors,
                    &p.influent_daily_factors,
                )
            }
            (Some(_), _, _) => {
                cx.err(
                    k,
                    &p.id,
                    "sewershed",
                    "give only one of influent_m3_per_day, influent_series, sewershed",
                );
                Profile::constant(0.0)
            }
            (None, c, s) => profile(
                &mut cache,
                &mut cx,
                k,
                &p.id,
                names,
                c,
                s,
                &p.influent_monthly_factors,
                &p.influent_daily_factors,
            ),
        };
        let built = p.built.as_ref().and_then(|b| match b.parse::<Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                cx.err(k, &p.id, "built", e.to_string());
                None
            }
        });
        let mut effluent =
            quality_vec(&mut cx, k, &p.id, "effluent_mg_per_l", &p.effluent_mg_per_l);
        if let Some(spec) = &p.effluent_standard {
            match standards.resolve(spec) {
                Ok((std, class)) => {
                    let ctx = Context {
                        plant_built: built,
                        ..Default::default()
                    };
                    for (i, f) in factors.iter().enumerate() {
                        if !effluent[i].is_nan() {
                            continue;
                        }
                        if let Some(sel) = std.limit_for(class, *f, &ctx) {
                            if let (Bound::Max { value }, Some(u)) =
                                (&sel.limit.bound, sel.limit.unit)
                            {
                                effluent[i] = u
                                    .convert(*value, f.info().unit.min_mass())
                                    .unwrap_or(*value);
                            }
                        }
                    }
                }
                Err(e) => cx.err(k, &p.id, "effluent_standard", e),
            }
        }
        for (i, f) in factors.iter().enumerate() {
            if effluent[i].is_nan() {
                warnings.push(format!("plant {}: no effluent value for tracked factor {} (treated as unknown, never refused)", p.id, f.short_name()));
            }
        }
        let influent_q = quality_vec(&mut cx, k, &p.id, "influent_mg_per_l", &p.influent_mg_per_l);
        let data = PlantData {
            capacity_m3_per_day: p.capacity_m3_per_day,
            influent_m3_per_day: influent,
            effluent_mg_per_l: effluent,
            influent_mg_per_l: influent_q,
            energy_kwh_per_m3: p.energy_kwh_per_m3,
            sludge_t_ds_per_1e4_m3: p.sludge_t_ds_per_1e4_m3,
            bypass_penalty_per_m3: p
                .bypass_penalty_per_m3
                .unwrap_or(DEFAULT_BYPASS_PENALTY_PER_M3),
            built,
        };
        if !finite_nonneg(p.energy_kwh_per_m3) || !finite_nonneg(p.sludge_t_ds_per_1e4_m3) {
            cx.err(
                k,
                &p.id,
                "energy_kwh_per_m3",
                "energy and sludge rates must be ≥ 0",
            );
        }
        add(
            &mut cx,
            &mut nodes,
            k,
            &p.id,
            &p.name,
            p.location,
            NodeKind::Plant(data),
        );
    }

    for w in &model.wetlands {
        let k = "wetland";
        if !(w.area_m2.is_finite() && w.area_m2 > 0.0) {
            cx.err(k, &w.id, "area_m2", format!("{} must be > 0", w.area_m2));
        }
        if !(w.max_hydraulic_loading_m_per_day.is_finite()
            && w.max_hydraulic_loading_m_per_day > 0.0)
        {
            cx.err(
                k,
                &w.id,
                "max_hydraulic_loading_m_per_day",
                format!("{} must be > 0", w.max_hydraulic_loading_m_per_day),
            );
        }
        let temperature = match (
            w.temperature_c,
            &w.temperature_monthly_c,
            &w.temperature_series,
        ) {
            (Some(t), None, None) => Profile::constant(t),
            (None, Some(m), None) if m.len() == 12 && m.iter().all(|x| x.is_finite()) => {
                let mut a = [0.0; 12];
                a.copy_from_slice(m);
                Profile::constant(1.0).with_monthly(a)
            }
            (None, None, Some(s)) => match cache.get(&s.csv, &s.column) {
                Ok(v) => Profile::series(v),
                Err(e) => {
                    cx.series_err(k, &w.id, "temperature_series", e);
                    Profile::constant(20.0)
                }
            },
            (None, None, None) => Profile::constant(20.0),
            _ => {
                cx.err(k, &w.id, "temperature_c", "give at most one of temperature_c, temperature_monthly_c (twelve values), temperature_series");
                Profile::constant(20.0)
            }
        };
        let mut pkc: Vec<Option<Pkc>> = factors
            .iter()
            .map(|f| default_pkc(w.wetland_type, *f))
            .collect();
        for (name, par) in &w.pkc {
            match factor_index(name) {
                Ok(i) => {
                    let nonneg = [par.k_m_per_yr, par.c_star_mg_per_l]
                        .iter()
                        .all(|x| finite_nonneg(*x));
                    let positive = [par.theta, par.p].iter().all(|x| x.is_finite() && *x > 0.0);
                    if !(nonneg && positive) {
                        cx.err(
                            k,
                            &w.id,
                            &format!("pkc.{name}"),
                            "k_m_per_yr and c_star_mg_per_l must be ≥ 0, theta and p > 0",
                        );
                    }
                    pkc[i] = Some(*par);
                }
                Err(e) => cx.err(k, &w.id, "pkc", e),
            }
        }
        for (i, f) in factors.iter().enumerate() {
            if pkc[i].is_none() {
                warnings.push(format!(
                    "wetland {}: no P-k-C* parameters for {} ({:?}); it passes unchanged",
                    w.id,
                    f.short_name(),
                    w.wetland_type
                ));
            }
        }
        let data = WetlandData {
            wetland_type: w.wetland_type,
            area_m2: w.area_m2,
            max_inflow_m3_per_day: w.area_m2 * w.max_hydraulic_loading_m_per_day,
            temperature_c: temperature,
            pkc,
        };
        add(
            &mut cx,
            &mut nodes,
            k,
            &w.id,
            &w.name,
            w.location,
            NodeKind::Wetland(data),
        );
    }

    for p in &model.ponds {
        let k = "pond";
        if !(p.capacity_m3.is_finite() && p.capacity_m3 > 0.0) {
            cx.err(
                k,
                &p.id,
                "capacity_m3",
                format!("{} must be > 0", p.capacity_m3),
            );
        }
        if !(finite_nonneg(p.min_volume_m3) && p.min_volume_m3 <= p.capacity_m3) {
            cx.err(
                k,
                &p.id,
                "min_volume_m3",
                "must be between 0 and capacity_m3",
            );
        }
        if !(finite_nonneg(p.initial_volume_m3) && p.initial_volume_m3 <= p.capacity_m3) {
            cx.err(
                k,
                &p.id,
                "initial_volume_m3",
                "must be between 0 and capacity_m3",
            );
        }
        for (f, v) in [
            ("surface_area_m2", p.surface_area_m2),
            ("evaporation_mm_per_day", p.evaporation_mm_per_day),
            ("seepage_m3_per_day", p.seepage_m3_per_day),
        ] {
            if !finite_nonneg(v) {
                cx.err(k, &p.id, f, format!("{v} must be ≥ 0"));
            }
        }
        let mut decay = vec![0.0; factors.len()];
        for (name, r) in &p.decay_per_day {
            match factor_index(name) {
                Ok(i) if finite_nonneg(*r) => decay[i] = *r,
                Ok(_) => cx.err(k, &p.id, &format!("decay_per_day.{name}"), "must be ≥ 0"),
                Err(e) => cx.err(k, &p.id, "decay_per_day", e),
            }
        }
        let initial = quality_vec(&mut cx, k, &p.id, "initial_mg_per_l", &p.initial_mg_per_l);
        let data = PondData {
            capacity_m3: p.capacity_m3,
            min_volume_m3: p.min_volume_m3,
            initial_volume_m3: p.initial_volume_m3,
            evaporation_m3_per_day: p.surface_area_m2 * p.evaporation_mm_per_day / 1000.0,
            seepage_m3_per_day: p.seepage_m3_per_day,
            decay_per_day: decay,
            initial_mg_per_l: initial,
            value_per_m3: p.value_per_m3.unwrap_or(DEFAULT_POND_VALUE_PER_M3),
        };
        add(
            &mut cx,
            &mut nodes,
            k,
            &p.id,
            &p.name,
            p.location,
            NodeKind::Pond(data),
        );
    }

    for j in &model.junctions {
        add(
            &mut cx,
            &mut nodes,
            "junction",
            &j.id,
            &j.name,
            j.location,
            NodeKind::Junction,
        );
    }

    for u in &model.users {
        let k = "user";
        let names = [
            "demand_m3_per_day",
            "demand_series",
            "demand_monthly_factors",
            "demand_daily_factors",
        ];
        let demand = profile(
            &mut cache,
            &mut cx,
            k,
            &u.id,
            names,
            u.demand_m3_per_day,
            &u.demand_series,
            &u.demand_monthly_factors,
            &u.demand_daily_factors,
        );
        if u.priority == 0 {
            cx.err(
                k,
                &u.id,
                "priority",
                "must be 1 or more (1 is served first)",
            );
        }
        let spec = u
            .standard
            .clone()
            .unwrap_or_else(|| u.category.default_standard().to_string());
        let requirement = if spec.eq_ignore_ascii_case("none") {
            None
        } else {
            match standards.resolve(&spec) {
                Ok((std, class)) => {
                    let ctx = Context {
                        sampling_point: Some(rewater_standards::standard::SamplingPoint::Outlet),
                        ..Default::default()
                    };
                    let mut bounds = Vec::new();
                    for (i, f) in factors.iter().enumerate() {
                        let Some(sel) = std.limit_for(class, *f, &ctx) else {
                            continue;
                        };
                        let Some(lu) = sel.limit.unit else { continue };
                        let conv = |v: f64| lu.convert(v, f.info().unit.min_mass()).unwrap_or(v);
                        match sel.limit.bound {
                            Bound::Max { value } => {
                                bounds.push((i, f64::NEG_INFINITY, conv(value)))
                            }
                            Bound::Min { value } => bounds.push((i, conv(value), f64::INFINITY)),
                            Bound::Range { low, high } => bounds.push((i, conv(low), conv(high))),
                            Bound::Qualitative { .. } => {}
                        }
                    }
                    Some(QualityRequirement {
                        label: format!("{}:{}", std.id, std.classes[class].id),
                        bounds,
                    })
                }
                Err(e) => {
                    cx.err(k, &u.id, "standard", e);
                    None
                }
            }
        };
        let benefit = u
            .benefit_per_m3
            .unwrap_or_else(|| default_benefit(u.priority));
        if !benefit.is_finite() {
            cx.err(k, &u.id, "benefit_per_m3", "must be a finite number");
        }
        let data = UserData {
            category: u.category,
            demand_m3_per_day: demand,
            priority: u.priority.max(1),
            requirement,
            displaces: u.displaces,
            benefit_per_m3: benefit,
            district: u.district.clone(),
        };
        add(
            &mut cx,
            &mut nodes,
            k,
            &u.id,
            &u.name,
            u.location,
            NodeKind::User(data),
        );
    }

    for r in &model.rivers {
        if !r.cost_per_m3.is_finite() {
            cx.err("river", &r.id, "cost_per_m3", "must be a finite number");
        }
        let d = ReceivingData {
            river: r.river.clone(),
            cost_per_m3: r.cost_per_m3,
        };
        add(
            &mut cx,
            &mut nodes,
            "river",
            &r.id,
            &r.name,
            r.location,
            NodeKind::River(d),
        );
    }
    for o in &model.outfalls {
        if let Some(r) = &o.river {
            if !model.rivers.iter().any(|x| &x.id == r) {
                cx.err("outfall", &o.id, "river", format!("unknown river '{r}'"));
            }
        }
        let d = ReceivingData {
            river: o.river.clone(),
            cost_per_m3: o.cost_per_m3,
        };
        add(
            &mut cx,
            &mut nodes,
            "outfall",
            &o.id,
            &o.name,
            o.location,
            NodeKind::Outfall(d),
        );
    }

    let mut links = Vec::new();
    for l in &model.links {
        let id =
            l.id.clone()
                .unwrap_or_else(|| format!("{}->{}", l.from, l.to));
        let k = "link";
        let from = ids.get(&l.from).copied();
        let to = ids.get(&l.to).copied();
        if from.is_none() {
            cx.err(k, &id, "from", format!("unknown node '{}'", l.from));
        }
        if to.is_none() {
            cx.err(k, &id, "to", format!("unknown node '{}'", l.to));
        }
        if let Some(c) = l.capacity_m3_per_day {
            if !finite_nonneg(c) {
                cx.err(
                    k,
                    &id,
                    "capacity_m3_per_day",
                    format!("{c} must be a number ≥ 0"),
                );
            }
        }
        if !l.cost_per_m3.is_finite() {
            cx.err(k, &id, "cost_per_m3", "must be a finite number");
        }
        if !(l.loss_fraction.is_finite() && (0.0..1.0).contains(&l.loss_fraction)) {
            cx.err(
                k,
                &id,
                "loss_fraction",
                format!("{} must be in [0, 1)", l.loss_fraction),
            );
        }
        if let (Some(f), Some(t)) = (from, to) {
            if f == t {
                cx.err(k, &id, "to", "a link cannot return to its own node");
            }
            if matches!(
                nodes[f].kind,
                NodeKind::User(_) | NodeKind::River(_) | NodeKind::Outfall(_)
            ) {
                cx.err(
                    k,
                    &id,
                    "from",
                    format!(
                        "{} '{}' is terminal: water cannot leave it",
                        nodes[f].kind.name(),
                        l.from
                    ),
                );
            }
            if matches!(nodes[t].kind, NodeKind::Plant(_)) {
                cx.err(
                    k,
                    &id,
                    "to",
                    format!(
                        "plant '{}' takes influent from its sewershed, not from links",
                        l.to
                    ),
                );
            }
            if links.iter().any(|x: &RegionLink| x.id == id) {
                cx.err(
                    k,
                    &id,
                    "id",
                    "link id is used twice (give the links distinct 'id's)",
                );
            }
            links.push(RegionLink {
                id,
                from: f,
                to: t,
                capacity_m3_per_day: l.capacity_m3_per_day,
                cost_per_m3: l.cost_per_m3,
                loss_fraction: l.loss_fraction,
            });
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        if matches!(n.kind, NodeKind::User(_)) && !links.iter().any(|l| l.to == i) {
            warnings.push(format!("user {}: no link supplies it", n.id));
        }
    }
    for t in [
        model.targets.utilisation_rate,
        model.targets.supply_reliability,
    ]
    .into_iter()
    .flatten()
    {
        if !(0.0..=1.0).contains(&t) {
            cx.err(
                "targets",
                "",
                "",
                format!("target {t} must be a share between 0 and 1"),
            );
        }
    }
    if info.quality_iterations == 0 || info.quality_iterations > 50 {
        cx.err("model", &info.name, "quality_iterations", "must be 1–50");
    }
    if !cx.errors.is_empty() {
        return Err(ModelErrors(cx.errors));
    }
    Ok(Region {
        name: info.name.clone(),
        start,
        days,
        factors,
        nodes,
        links,
        equitable_sharing: info.equitable_sharing,
        solver: info.solver,
        quality_iterations: info.quality_iterations,
        targets: model.targets.clone(),
        warnings,
    })
}

fn quality_vec_unused(factors: &[Factor]) -> bool {
    factors.is_empty()
}

trait MinMass {
    /// The unit quality vectors use for a factor: mg/L for mass concentrations, else the
    /// factor's own unit.
    fn min_mass(self) -> Unit;
}

impl MinMass for Unit {
    fn min_mass(self) -> Unit {
        if self.kind() == rewater_standards::unit::Kind::MassConcentration {
            Unit::MgPerL
        } else {
            self
        }
    }
}
