//! The native case file (TOML): rain gages, subcatchments, dry-weather flow, and
//! regulators (截流井) each with an interceptor, an overflow outlet to a named river and
//! optionally a storage tank (调蓄池), offline or inline, with drain-back.
//! `docs/overflow.md` documents every field.

use crate::network::{
    DividerRule, DryWeatherFlow, EventOptions, Gage, Link, LinkKind, Node, NodeKind, PumpCurve,
    Storage, System,
};
use crate::rain::RainSeries;
use crate::runoff::{Clock, Evaporation, Infiltration, Subcatchment};
use crate::time::parse_datetime;
use crate::OverflowError;
use serde::Deserialize;
use std::collections::HashMap;
use std::path::Path;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// First simulated time (default: start of the first gage's record).
    pub start: Option<String>,
    /// End of the simulation (default: end of the first gage's record).
    pub end: Option<String>,
    #[serde(default = "default_step")]
    pub step_s: i64,
    #[serde(default = "default_inter_event")]
    pub inter_event_h: f64,
    #[serde(default = "default_min_overflow")]
    pub min_overflow_m3: f64,
    /// Constant evaporation, mm/day.
    #[serde(default)]
    pub evaporation_mm_per_day: Option<f64>,
    /// Monthly evaporation, mm/day, January first (instead of the constant).
    #[serde(default)]
    pub evaporation_monthly_mm_per_day: Option<[f64; 12]>,
    #[serde(default)]
    pub evaporation_dry_only: bool,
    /// Name of the treatment-plant outfall that interceptors lead to.
    #[serde(default = "default_plant")]
    pub plant: String,
    #[serde(default)]
    pub gage: Vec<GageSpec>,
    #[serde(default)]
    pub subcatchment: Vec<SubcatchmentSpec>,
    #[serde(default)]
    pub dry_weather: Vec<DryWeatherSpec>,
    #[serde(default)]
    pub regulator: Vec<RegulatorSpec>,
    #[serde(default)]
    pub junction: Vec<JunctionSpec>,
    #[serde(default)]
    pub design: crate::design::DesignParameters,
}

fn default_step() -> i64 {
    300
}
fn default_inter_event() -> f64 {
    6.0
}
fn default_min_overflow() -> f64 {
    1.0
}
fn default_plant() -> String {
    "plant".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GageSpec {
    pub name: String,
    /// CSV of `timestamp, mm`, relative to the case file.
    pub file: Option<String>,
    pub interval_s: Option<i64>,
    /// A generated record instead of a file (for trials and benchmarks).
    pub synthetic: Option<SyntheticRain>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticRain {
    pub start_year: i32,
    pub years: u32,
    #[serde(default)]
    pub seed: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubcatchmentSpec {
    pub name: String,
    pub gage: Option<String>,
    pub outlet: String,
    pub area_ha: f64,
    pub imperv_pct: f64,
    pub width_m: f64,
    pub slope_pct: f64,
    #[serde(default = "default_n_imperv")]
    pub n_imperv: f64,
    #[serde(default = "default_n_perv")]
    pub n_perv: f64,
    #[serde(default = "default_ds_imperv")]
    pub ds_imperv_mm: f64,
    #[serde(default = "default_ds_perv")]
    pub ds_perv_mm: f64,
    #[serde(default = "default_zero_ds")]
    pub zero_ds_pct: f64,
    pub horton: Option<HortonSpec>,
    pub curve_number: Option<CurveNumberSpec>,
    /// Sewer travel time from the catchment to its outlet, minutes.
    #[serde(default)]
    pub lag_min: f64,
    /// Linear-reservoir constant of that sewer, minutes.
    #[serde(default)]
    pub reservoir_min: f64,
}

fn default_n_imperv() -> f64 {
    0.015
}
fn default_n_perv() -> f64 {
    0.15
}
fn default_ds_imperv() -> f64 {
    1.5
}
fn default_ds_perv() -> f64 {
    5.0
}
fn default_zero_ds() -> f64 {
    25.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HortonSpec {
    pub f0_mm_per_h: f64,
    pub fmin_mm_per_h: f64,
    pub decay_per_h: f64,
    pub dry_days: f64,
    #[serde(default)]
    pub max_mm: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurveNumberSpec {
    pub cn: f64,
    pub dry_days: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DryWeatherSpec {
    pub node: String,
    pub base_m3_per_s: f64,
    pub hourly: Option<Vec<f64>>,
    pub weekend_hourly: Option<Vec<f64>>,
    /// Sunday first.
    pub daily: Option<Vec<f64>>,
    pub monthly: Option<Vec<f64>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegulatorSpec {
    pub name: String,
    /// Where the intercepted flow goes: a regulator, a junction or the plant (default).
    pub to: Option<String>,
    /// Interceptor travel time to `to`, minutes.
    #[serde(default)]
    pub lag_min: f64,
    /// Interception ratio n0: the interceptor carries (n0 + 1) × mean dry-weather flow
    /// from everything upstream.
    pub interceptor_n0: Option<f64>,
    /// Or a set interceptor capacity, m³/s.
    pub interceptor_m3_per_s: Option<f64>,
    /// Name of the overflow outlet (default `<name>.overflow`).
    pub outlet: Option<String>,
    pub river: String,
    pub tank: Option<TankSpec>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TankSpec {
    pub volume_m3: f64,
    #[serde(default = "default_tank_depth")]
    pub depth_m: f64,
    /// `offline` (fed by what the interceptor cannot take, drained back after the
    /// storm) or `inline` (all flow passes through; releases at the interceptor
    /// capacity).
    #[serde(default = "default_tank_kind")]
    pub kind: String,
    /// Drain-back pump rate, m³/s (offline tanks); drains only into spare
    /// interceptor capacity.
    pub drain_m3_per_s: Option<f64>,
}

fn default_tank_depth() -> f64 {
    5.0
}
fn default_tank_kind() -> String {
    "offline".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JunctionSpec {
    pub name: String,
    pub to: String,
    #[serde(default)]
    pub lag_min: f64,
    #[serde(default)]
    pub reservoir_min: f64,
}

/// Read a case file.
pub fn load(path: &Path) -> Result<System, OverflowError> {
    load_with_design(path).map(|(s, _)| s)
}

/// Read a case file and its design-formula parameters.
pub fn load_with_design(
    path: &Path,
) -> Result<(System, crate::design::DesignParameters), OverflowError> {
    let text = crate::limits::read_text(path)?;
    let file = path.display().to_string();
    let case: Case = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].lines().count().max(1))
            .unwrap_or(0);
        OverflowError::Input {
            file: file.clone(),
            line,
            message: e.message().to_string(),
        }
    })?;
    let system = build(&case, &file, path.parent().unwrap_or(Path::new(".")))?;
    Ok((system, case.design))
}

fn add_node(
    nodes: &mut Vec<Node>,
    index: &mut HashMap<String, usize>,
    file: &str,
    name: &str,
    kind: NodeKind,
) -> Result<usize, OverflowError> {
    if index.contains_key(name) {
        return Err(OverflowError::Case {
            file: file.to_string(),
            message: format!("the name '{name}' is used twice"),
        });
    }
    index.insert(name.to_string(), nodes.len());
    nodes.push(Node {
        name: name.to_string(),
        kind,
    });
    Ok(nodes.len() - 1)
}

fn pattern<const N: usize>(
    v: &Option<Vec<f64>>,
    what: &str,
    err: &dyn Fn(String) -> OverflowError,
) -> Result<Option<[f64; N]>, OverflowError> {
    match v {
        None => Ok(None),
        Some(v) => {
            let arr: [f64; N] = v
                .as_slice()
                .try_into()
                .map_err(|_| err(format!("{what} needs {N} factors, found {}", v.len())))?;
            if arr.iter().any(|x| !x.is_finite() || *x < 0.0) {
                return Err(err(format!("{what} factors must be zero or more")));
            }
            Ok(Some(arr))
        }
    }
}

/// Build a system from a parsed case; `dir` resolves relative rain files.
pub fn build(case: &Case, file: &str, dir: &Path) -> Result<System, OverflowError> {
    let err = |message: String| case_err(file, message);
    if case.step_s <= 0 || case.step_s > 3600 {
        return Err(err(format!("step_s = {} must be 1–3600 s", case.step_s)));
    }
    if case.gage.is_empty() {
        return Err(err("the case needs at least one [[gage]]".into()));
    }
    if !(case.inter_event_h > 0.0 && case.inter_event_h <= 24.0 * 366.0) {
        return Err(err(format!(
            "inter_event_h = {} must be above 0 and at most a year",
            case.inter_event_h
        )));
    }
    if !(case.min_overflow_m3 >= 0.0 && case.min_overflow_m3.is_finite()) {
        return Err(err(format!(
            "min_overflow_m3 = {} must be zero or more",
            case.min_overflow_m3
        )));
    }
    let gages = read_gages(case, file, dir)?;
    let (clock, evaporation) = clock_and_evaporation(case, file, &gages)?;
    let mut net = Net::new(case, file)?;
    let dry_weather = dry_weather(case, &net)?;
    let mean_dwf = net.mean_dwf(&dry_weather);
    for r in &case.regulator {
        net.regulator(r, &mean_dwf)?;
    }
    for j in &case.junction {
        net.links.push(Link {
            name: format!("{}.sewer", j.name),
            from: net.index[&j.name],
            to: net.index[&j.to],
            kind: LinkKind::Conduit {
                capacity_m3_per_s: f64::INFINITY,
                lag_s: j.lag_min * 60.0,
                reservoir_s: j.reservoir_min * 60.0,
                inlet: None,
                kinwave: None,
            },
            setting: 1.0,
        });
    }
    let subcatchments = subcatchments(case, file, &net.index)?;
    let system = System {
        name: case.name.clone(),
        clock,
        runoff_step_s: None,
        gages,
        evaporation,
        subcatchments,
        nodes: net.nodes,
        links: net.links,
        dry_weather,
        inflows: Vec::new(),
        rules: Vec::new(),
        events: EventOptions {
            inter_event_s: (case.inter_event_h * 3600.0) as i64,
            min_overflow_m3: case.min_overflow_m3,
        },
        flow_routing: crate::network::FlowRouting::Fast,
        routed_by: crate::network::FlowRouting::Fast,
        notes: net.notes,
        hydraulics: None,
    };
    crate::limits::check_system(&system).map_err(err)?;
    Ok(system)
}

fn case_err(file: &str, message: String) -> OverflowError {
    OverflowError::Case {
        file: file.to_string(),
        message,
    }
}

fn read_gages(case: &Case, file: &str, dir: &Path) -> Result<Vec<Gage>, OverflowError> {
    let mut gages: Vec<Gage> = Vec::new();
    let mut total = 0usize;
    for g in &case.gage {
        let rain = match (&g.file, &g.synthetic) {
            (Some(f), None) => RainSeries::from_csv(&dir.join(f), g.interval_s)?,
            (None, Some(s)) => {
                let max_years = crate::limits::MAX_HORIZON_YEARS as u32;
                if !(1..=max_years).contains(&s.years)
                    || !(1..=9999 - max_years as i32).contains(&s.start_year)
                {
                    return Err(case_err(
                        file,
                        format!(
                            "gage '{}': synthetic start_year = {}, years = {} must be within 1–{} and 1–{max_years}",
                            g.name,
                            s.start_year,
                            s.years,
                            9999 - max_years
                        ),
                    ));
                }
                // Every record is held at once: bound them together, before this one is made.
                let next = s.years as usize * 8784;
                if total.saturating_add(next) > crate::limits::MAX_RAIN_TOTAL {
                    return Err(case_err(
                        file,
                        format!(
                            "gage '{}': the rain records would hold over {} intervals together",
                            g.name,
                            crate::limits::MAX_RAIN_TOTAL
                        ),
                    ));
                }
                crate::rain::synthetic_hourly(s.start_year, s.years, s.seed)
            }
            _ => {
                return Err(case_err(
                    file,
                    format!("gage '{}': give either `file` or `synthetic`", g.name),
                ))
            }
        };
        total += rain.depth_m.len();
        gages.push(Gage {
            name: g.name.clone(),
            rain,
        });
    }
    Ok(gages)
}

/// The simulated span (default: the first gage's record) and the evaporation over it.
fn clock_and_evaporation(
    case: &Case,
    file: &str,
    gages: &[Gage],
) -> Result<(Clock, Evaporation), OverflowError> {
    let err = |message: String| case_err(file, message);
    let start_s = match &case.start {
        Some(s) => parse_datetime(s).ok_or_else(|| err(format!("start: '{s}' is not a date")))?,
        None => gages[0].rain.start_s,
    };
    let end_s = match &case.end {
        Some(s) => parse_datetime(s).ok_or_else(|| err(format!("end: '{s}' is not a date")))?,
        None => gages[0].rain.end_s(),
    };
    if end_s <= start_s {
        return Err(err("end must be after start".into()));
    }
    // The span is checked on the parsed dates, before anything is sized by it.
    let steps = crate::limits::steps(start_s, end_s, case.step_s)
        .map_err(|m| err(format!("start to end: {m}")))?;
    let clock = Clock {
        start_s,
        step_s: case.step_s,
        steps,
    };
    for (v, what) in case
        .evaporation_monthly_mm_per_day
        .iter()
        .flatten()
        .map(|v| (*v, "evaporation_monthly_mm_per_day"))
        .chain(
            case.evaporation_mm_per_day
                .map(|v| (v, "evaporation_mm_per_day")),
        )
    {
        if !(0.0..=1000.0).contains(&v) {
            return Err(err(format!("{what}: {v} is outside 0–1000 mm/day")));
        }
    }
    let monthly = match (
        case.evaporation_monthly_mm_per_day,
        case.evaporation_mm_per_day,
    ) {
        (Some(m), _) => m,
        (None, Some(c)) => [c; 12],
        (None, None) => [0.0; 12],
    };
    let evaporation = Evaporation::monthly(monthly, case.evaporation_dry_only, start_s, end_s);
    Ok((clock, evaporation))
}

fn dry_weather(case: &Case, net: &Net) -> Result<Vec<DryWeatherFlow>, OverflowError> {
    let mut dry_weather = Vec::new();
    for d in &case.dry_weather {
        let node = net.lookup(&d.node, "dry_weather: node".into())?;
        let derr = |m: String| net.err(format!("dry_weather at '{}': {m}", d.node));
        let mut f = DryWeatherFlow::flat(node, d.base_m3_per_s);
        if d.base_m3_per_s.is_nan() || d.base_m3_per_s < 0.0 {
            return Err(derr("base_m3_per_s must be zero or more".into()));
        }
        if let Some(h) = pattern::<24>(&d.hourly, "hourly", &derr)? {
            f.hourly = h;
        }
        f.weekend = pattern::<24>(&d.weekend_hourly, "weekend_hourly", &derr)?;
        if let Some(x) = pattern::<7>(&d.daily, "daily", &derr)? {
            f.daily = x;
        }
        if let Some(x) = pattern::<12>(&d.monthly, "monthly", &derr)? {
            f.monthly = x;
        }
        dry_weather.push(f);
    }
    Ok(dry_weather)
}

/// The network as it is assembled: the plant, regulators (with outlets and tanks) and
/// junctions, and each regulator's and junction's downstream node.
struct Net<'a> {
    file: &'a str,
    nodes: Vec<Node>,
    index: HashMap<String, usize>,
    downstream: HashMap<usize, usize>,
    links: Vec<Link>,
    notes: Vec<String>,
}

impl<'a> Net<'a> {
    fn new(case: &'a Case, file: &'a str) -> Result<Net<'a>, OverflowError> {
        let mut net = Net {
            file,
            nodes: vec![Node {
                name: case.plant.clone(),
                kind: NodeKind::Outfall { river: None },
            }],
            index: HashMap::from([(case.plant.clone(), 0)]),
            downstream: HashMap::new(),
            links: Vec::new(),
            notes: Vec::new(),
        };
        for r in &case.regulator {
            net.add_node(&r.name, NodeKind::Junction)?;
        }
        for j in &case.junction {
            net.add_node(&j.name, NodeKind::Junction)?;
        }
        // Downstream pointers for the dry-weather sums.
        for r in &case.regulator {
            let to = r.to.as_deref().unwrap_or(&case.plant);
            let next = net.lookup(to, format!("regulator '{}': to", r.name))?;
            net.downstream.insert(net.index[&r.name], next);
        }
        for j in &case.junction {
            let next = net.lookup(&j.to, format!("junction '{}': to", j.name))?;
            net.downstream.insert(net.index[&j.name], next);
        }
        for r in &case.regulator {
            crate::limits::check_lag(r.lag_min * 60.0, "lag_min")
                .map_err(|m| net.err(format!("regulator '{}': {m}", r.name)))?;
        }
        for j in &case.junction {
            for (v, what) in [(j.lag_min, "lag_min"), (j.reservoir_min, "reservoir_min")] {
                crate::limits::check_lag(v * 60.0, what)
                    .map_err(|m| net.err(format!("junction '{}': {m}", j.name)))?;
            }
        }
        net.refuse_loops()?;
        Ok(net)
    }

    /// The `to` pointers must lead to the plant: a loop is refused with its nodes in order.
    fn refuse_loops(&self) -> Result<(), OverflowError> {
        // 0 unvisited, 1 on the current path, 2 known to reach the plant.
        let mut state = vec![0u8; self.nodes.len()];
        for start in 0..self.nodes.len() {
            let mut path = Vec::new();
            let mut at = start;
            while state[at] == 0 {
                state[at] = 1;
                path.push(at);
                match self.downstream.get(&at) {
                    Some(&next) => at = next,
                    None => break,
                }
            }
            if state[at] == 1 && self.downstream.contains_key(&at) {
                let from = path.iter().position(|&p| p == at).unwrap_or(0);
                let names: Vec<&str> = path[from..]
                    .iter()
                    .chain(std::iter::once(&at))
                    .map(|&i| self.nodes[i].name.as_str())
                    .collect();
                return Err(self.err(format!(
                    "the `to` chain loops: {}; every chain must end at the plant",
                    names.join(" → ")
                )));
            }
            for p in path {
                state[p] = 2;
            }
        }
        Ok(())
    }

    fn err(&self, message: String) -> OverflowError {
        case_err(self.file, message)
    }

    fn add_node(&mut self, name: &str, kind: NodeKind) -> Result<usize, OverflowError> {
        add_node(&mut self.nodes, &mut self.index, self.file, name, kind)
    }

    fn lookup(&self, name: &str, what: String) -> Result<usize, OverflowError> {
        self.index.get(name).copied().ok_or_else(|| {
            self.err(format!(
                "{what}: '{name}' is not the plant, a regulator or a junction"
            ))
        })
    }

    /// Mean dry-weather flow through each node, m³/s, summed down the `to` chains.
    fn mean_dwf(&self, dry_weather: &[DryWeatherFlow]) -> Vec<f64> {
        let mut mean_dwf = vec![0.0; self.nodes.len()];
        for d in dry_weather {
            let q = d.mean();
            let mut at = d.node;
            // The chains end at the plant ([`Net::refuse_loops`]).
            loop {
                mean_dwf[at] += q;
                match self.downstream.get(&at) {
                    Some(&next) => at = next,
                    None => break,
                }
            }
        }
        mean_dwf
    }

    fn link(&mut self, name: String, from: usize, to: usize, kind: LinkKind) -> usize {
        self.links.push(Link {
            name,
            from,
            to,
            kind,
            setting: 1.0,
        });
        self.links.len() - 1
    }

    /// A regulator's interceptor, overflow outlet and tank as nodes and links.
    fn regulator(&mut self, r: &RegulatorSpec, mean_dwf: &[f64]) -> Result<(), OverflowError> {
        let rerr = |m: String| case_err(self.file, format!("regulator '{}': {m}", r.name));
        let node = self.index[&r.name];
        let to = self.downstream[&node];
        let capacity = match (r.interceptor_n0, r.interceptor_m3_per_s) {
            (Some(n0), None) if n0 >= 0.0 => (n0 + 1.0) * mean_dwf[node],
            (None, Some(q)) if q >= 0.0 => q,
            _ => {
                return Err(rerr(
                    "give one of interceptor_n0 (≥ 0) or interceptor_m3_per_s (≥ 0)".into(),
                ))
            }
        };
        if capacity == 0.0 {
            self.notes.push(format!(
                "regulator '{}': interceptor capacity is zero (no dry-weather flow upstream?)",
                r.name
            ));
        }
        let outlet_name = r.outlet.clone().unwrap_or(format!("{}.overflow", r.name));
        let outlet = self.add_node(
            &outlet_name,
            NodeKind::Outfall {
                river: Some(r.river.clone()),
            },
        )?;
        let interceptor = self.link(
            format!("{}.interceptor", r.name),
            node,
            to,
            LinkKind::Conduit {
                capacity_m3_per_s: f64::INFINITY,
                lag_s: r.lag_min * 60.0,
                reservoir_s: 0.0,
                inlet: None,
                kinwave: None,
            },
        );
        let Some(t) = &r.tank else {
            self.nodes[node].kind = NodeKind::Divider {
                diverted: self.links.len(),
                rule: DividerRule::Cutoff(capacity),
            };
            self.link(
                format!("{}.overflow", r.name),
                node,
                outlet,
                LinkKind::Spill,
            );
            return Ok(());
        };
        if !(t.volume_m3 > 0.0 && t.depth_m > 0.0 && (t.volume_m3 / t.depth_m).is_finite()) {
            return Err(rerr("tank volume_m3 and depth_m must be positive".into()));
        }
        if t.drain_m3_per_s
            .is_some_and(|q| !(q >= 0.0 && q.is_finite()))
        {
            return Err(rerr("tank drain_m3_per_s must be zero or more".into()));
        }
        let storage = Storage::prismatic(t.volume_m3, t.depth_m);
        let at = Regulated {
            node,
            to,
            outlet,
            interceptor,
            capacity,
        };
        match t.kind.as_str() {
            "offline" => self.offline_tank(r, t, storage, at),
            "inline" => self.inline_tank(r, storage, at),
            other => Err(rerr(format!(
                "tank kind '{other}' is not offline or inline"
            ))),
        }
    }

    /// Fed by what the interceptor cannot take, pumped back into its spare capacity.
    fn offline_tank(
        &mut self,
        r: &RegulatorSpec,
        t: &TankSpec,
        mut storage: Storage,
        at: Regulated,
    ) -> Result<(), OverflowError> {
        let tank = self.add_node(&format!("{}.tank", r.name), NodeKind::Junction)?;
        self.nodes[at.node].kind = NodeKind::Divider {
            diverted: self.links.len(),
            rule: DividerRule::Cutoff(at.capacity),
        };
        self.link(
            format!("{}.to_tank", r.name),
            at.node,
            tank,
            LinkKind::Spill,
        );
        storage.spill = Some(self.links.len());
        self.link(
            format!("{}.overflow", r.name),
            tank,
            at.outlet,
            LinkKind::Spill,
        );
        let drain = t.drain_m3_per_s.ok_or_else(|| {
            self.err(format!(
                "regulator '{}': an offline tank needs drain_m3_per_s (drain-back pump rate)",
                r.name
            ))
        })?;
        self.link(
            format!("{}.drain", r.name),
            tank,
            at.to,
            LinkKind::Pump {
                curve: PumpCurve::Spare {
                    rate: drain,
                    watch: at.interceptor,
                    capacity: at.capacity,
                },
                startup_m: 0.0,
                shutoff_m: 0.0,
            },
        );
        self.nodes[tank].kind = NodeKind::Storage(storage);
        Ok(())
    }

    /// The regulator itself holds the water; a throttle passes up to the interceptor
    /// capacity, the rest is stored, then spills.
    fn inline_tank(
        &mut self,
        r: &RegulatorSpec,
        mut storage: Storage,
        at: Regulated,
    ) -> Result<(), OverflowError> {
        // A pump has no lag, so the lag belongs on a junction after it.
        if r.lag_min > 0.0 {
            return Err(self.err(format!("regulator '{}': an inline tank's interceptor cannot have lag_min; put a junction after it", r.name)));
        }
        self.links[at.interceptor] = Link {
            name: format!("{}.throttle", r.name),
            from: at.node,
            to: at.to,
            kind: LinkKind::Pump {
                curve: PumpCurve::Constant(at.capacity),
                startup_m: 0.0,
                shutoff_m: 0.0,
            },
            setting: 1.0,
        };
        storage.spill = Some(self.links.len());
        self.link(
            format!("{}.overflow", r.name),
            at.node,
            at.outlet,
            LinkKind::Spill,
        );
        self.nodes[at.node].kind = NodeKind::Storage(storage);
        Ok(())
    }
}

/// Where a regulator's tank is connected.
struct Regulated {
    node: usize,
    to: usize,
    outlet: usize,
    interceptor: usize,
    capacity: f64,
}

fn subcatchments(
    case: &Case,
    file: &str,
    index: &HashMap<String, usize>,
) -> Result<Vec<Subcatchment>, OverflowError> {
    let gage_index: HashMap<&str, usize> = case
        .gage
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    let mut subcatchments = Vec::new();
    for s in &case.subcatchment {
        let serr = |m: String| case_err(file, format!("subcatchment '{}': {m}", s.name));
        let gage = match &s.gage {
            Some(g) => *gage_index
                .get(g.as_str())
                .ok_or_else(|| serr(format!("gage '{g}' is not defined")))?,
            None if case.gage.len() == 1 => 0,
            None => return Err(serr("name its gage (the case has several)".into())),
        };
        let outlet = *index.get(&s.outlet).filter(|&&i| i != 0).ok_or_else(|| {
            serr(format!(
                "outlet '{}' is not a regulator or junction",
                s.outlet
            ))
        })?;
        for (v, what, lo, hi) in [
            (s.area_ha, "area_ha", 0.0, f64::INFINITY),
            (s.imperv_pct, "imperv_pct", 0.0, 100.0),
            (s.width_m, "width_m", 0.0, f64::INFINITY),
            (s.slope_pct, "slope_pct", 0.0, 100.0),
            (s.zero_ds_pct, "zero_ds_pct", 0.0, 100.0),
            (s.ds_imperv_mm, "ds_imperv_mm", 0.0, 1000.0),
            (s.ds_perv_mm, "ds_perv_mm", 0.0, 1000.0),
        ] {
            if !(v >= lo && v <= hi) {
                return Err(serr(format!("{what} = {v} is outside {lo}–{hi}")));
            }
        }
        for (v, what) in [(s.lag_min, "lag_min"), (s.reservoir_min, "reservoir_min")] {
            crate::limits::check_lag(v * 60.0, what).map_err(&serr)?;
        }
        let infiltration = match (&s.horton, &s.curve_number) {
            (Some(h), None) => Infiltration::Horton {
                f0_m_per_s: h.f0_mm_per_h / 3.6e6,
                fmin_m_per_s: h.fmin_mm_per_h / 3.6e6,
                decay_per_s: h.decay_per_h / 3600.0,
                dry_days: h.dry_days,
                max_m: h.max_mm / 1000.0,
            },
            (None, Some(c)) => Infiltration::CurveNumber {
                cn: c.cn,
                dry_days: c.dry_days,
            },
            (None, None) if s.imperv_pct >= 100.0 => Infiltration::None,
            _ => {
                return Err(serr(
                    "give exactly one of `horton` or `curve_number`".into(),
                ))
            }
        };
        subcatchments.push(Subcatchment {
            name: s.name.clone(),
            gage,
            outlet,
            area_m2: s.area_ha * 1e4,
            imperv: s.imperv_pct / 100.0,
            width_m: s.width_m,
            slope: s.slope_pct / 100.0,
            n_imperv: s.n_imperv,
            n_perv: s.n_perv,
            ds_imperv_m: s.ds_imperv_mm / 1000.0,
            ds_perv_m: s.ds_perv_mm / 1000.0,
            zero_ds: s.zero_ds_pct / 100.0,
            infiltration,
            lag_s: s.lag_min * 60.0,
            reservoir_s: s.reservoir_min * 60.0,
            swmm_outflow: false,
            subarea_route: crate::runoff::SubareaRoute::Outlet,
            runon_to: None,
        });
    }
    Ok(subcatchments)
}
