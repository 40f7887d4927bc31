//! The combined-sewer system as both importers build it: nodes (junctions, flow
//! dividers 截流井, storage tanks 调蓄池, outfalls 排口) joined by links (sewers, weirs,
//! orifices, outlets, pumps), dry-weather flow patterns and control rules.

use crate::rain::RainSeries;
use crate::runoff::{Clock, Evaporation, Subcatchment};

/// Gravity, m/s².
pub const G: f64 = 9.81;

/// A rain gage.
#[derive(Debug, Clone)]
pub struct Gage {
    pub name: String,
    pub rain: RainSeries,
}

/// A node of the sewer system.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    /// Passes its inflow on at once.
    Junction,
    /// A flow divider (regulator): the diverted link takes what the rule gives it.
    Divider { diverted: usize, rule: DividerRule },
    /// A storage unit or tank.
    Storage(Storage),
    /// A terminal node: the treatment plant (`river` None) or an overflow outlet to a river.
    Outfall { river: Option<String> },
}

/// How a divider splits its inflow.
#[derive(Debug, Clone)]
pub enum DividerRule {
    /// Everything above the cutoff flow is diverted.
    Cutoff(f64),
    /// Everything above the other link's capacity is diverted.
    Overflow,
    /// Diverted flow as a function of inflow, piecewise linear.
    Tabular(Vec<(f64, f64)>),
    /// SWMM's weir divider: nothing below `qmin`, weir flow above.
    Weir {
        qmin: f64,
        height_m: f64,
        coeff: f64,
    },
}

/// A storage unit: area against depth (piecewise linear), what spills when it is full.
#[derive(Debug, Clone)]
pub struct Storage {
    /// (depth m, area m², volume m³) points from depth 0.
    pub table: Vec<(f64, f64, f64)>,
    pub max_depth_m: f64,
    pub init_depth_m: f64,
    /// Link that takes whatever exceeds the full volume (a tank's overflow); without one
    /// the excess is counted as flooding.
    pub spill: Option<usize>,
}

impl Storage {
    /// Piecewise-linear area table from (depth, area) points.
    pub fn from_areas(points: &[(f64, f64)], max_depth_m: f64, init_depth_m: f64) -> Storage {
        let mut pts: Vec<(f64, f64)> = points.to_vec();
        if pts.first().is_none_or(|p| p.0 > 0.0) {
            let a0 = pts.first().map(|p| p.1).unwrap_or(0.0);
            pts.insert(0, (0.0, a0));
        }
        let mut table = Vec::with_capacity(pts.len());
        let mut v = 0.0;
        for (i, &(d, a)) in pts.iter().enumerate() {
            if i > 0 {
                let (d0, a0) = pts[i - 1];
                v += (a0 + a) / 2.0 * (d - d0);
            }
            table.push((d, a, v));
        }
        Storage {
            table,
            max_depth_m,
            init_depth_m,
            spill: None,
        }
    }

    /// A prismatic tank of a volume and depth.
    pub fn prismatic(volume_m3: f64, depth_m: f64) -> Storage {
        let area = volume_m3 / depth_m;
        Storage::from_areas(&[(0.0, area), (depth_m, area)], depth_m, 0.0)
    }

    /// Area A0 + A1·d^A2 (SWMM's FUNCTIONAL storage), sampled finely.
    pub fn functional(a0: f64, a1: f64, a2: f64, max_depth_m: f64, init_depth_m: f64) -> Storage {
        let n = if a1 == 0.0 || a2 == 0.0 { 1 } else { 64 };
        let pts: Vec<(f64, f64)> = (0..=n)
            .map(|i| {
                let d = max_depth_m * i as f64 / n as f64;
                (d, a0 + a1 * d.powf(a2))
            })
            .collect();
        Storage::from_areas(&pts, max_depth_m, init_depth_m)
    }

    /// Multiply every area (and so every volume) by `factor`; depths stay.
    pub fn scale(&mut self, factor: f64) {
        for p in &mut self.table {
            p.1 *= factor;
            p.2 *= factor;
        }
    }

    pub fn volume_at(&self, depth: f64) -> f64 {
        let t = &self.table;
        let i = t.partition_point(|p| p.0 <= depth).saturating_sub(1);
        let (d0, a0, v0) = t[i];
        let slope = match t.get(i + 1) {
            Some(&(d1, a1, _)) if d1 > d0 => (a1 - a0) / (d1 - d0),
            _ => 0.0,
        };
        let x = depth - d0;
        v0 + a0 * x + slope * x * x / 2.0
    }

    pub fn depth_at(&self, volume: f64) -> f64 {
        if volume <= 0.0 {
            return 0.0;
        }
        let t = &self.table;
        let i = t.partition_point(|p| p.2 <= volume).saturating_sub(1);
        let (d0, a0, v0) = t[i];
        let slope = match t.get(i + 1) {
            Some(&(d1, a1, _)) if d1 > d0 => (a1 - a0) / (d1 - d0),
            _ => 0.0,
        };
        let dv = volume - v0;
        let x = if slope.abs() < 1e-12 {
            if a0 > 0.0 {
                dv / a0
            } else {
                0.0
            }
        } else {
            // a0·x + s·x²/2 = dv
            (-a0 + (a0 * a0 + 2.0 * slope * dv).max(0.0).sqrt()) / slope
        };
        d0 + x
    }

    pub fn full_volume(&self) -> f64 {
        self.volume_at(self.max_depth_m)
    }
}

/// A link between two nodes.
#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    pub from: usize,
    pub to: usize,
    pub kind: LinkKind,
    /// Initial setting: 1 open / pump on, 0 closed / off, or a fraction.
    pub setting: f64,
}

#[derive(Debug, Clone)]
pub enum LinkKind {
    /// A sewer: carries up to its capacity, delayed by a lag and a linear reservoir.
    Conduit {
        capacity_m3_per_s: f64,
        lag_s: f64,
        reservoir_s: f64,
        /// How much it takes from a storage unit at its upstream end (None: the conduit
        /// does not leave a storage unit, or its section is unknown).
        inlet: Option<Box<StorageInlet>>,
        /// Its geometry for kinematic-wave routing (SWMM files), used when the system's
        /// `flow_routing` is KINWAVE.
        kinwave: Option<Box<crate::kinwave::KwConduit>>,
    },
    /// Weir from a storage unit (or a junction, where it takes what the sewers cannot).
    Weir {
        shape: WeirShape,
        crest_m: f64,
        coeff: f64,
        length_m: f64,
        /// tan of the side slope or of half the notch angle.
        slope_tan: f64,
        coeff2: f64,
        /// End contractions (0–2) of a transverse or trapezoidal weir: each shortens it
        /// by a tenth of the head.
        end_contractions: f64,
    },
    Orifice {
        bottom: bool,
        offset_m: f64,
        height_m: f64,
        width_m: f64,
        coeff: f64,
    },
    /// Q = c1·h^c2, or from a rating table (depth, flow).
    Outlet {
        offset_m: f64,
        c1: f64,
        c2: f64,
        table: Option<Vec<(f64, f64)>>,
    },
    Pump {
        curve: PumpCurve,
        startup_m: f64,
        shutoff_m: f64,
    },
    /// Takes the excess of a full storage unit.
    Spill,
}

/// What a conduit leaving a storage unit draws from it: the normal (Manning) flow at the
/// water depth above its inlet offset, the full-flow capacity once that depth fills it —
/// as SWMM's steady and kinematic-wave routing take it.
#[derive(Debug, Clone)]
pub struct StorageInlet {
    /// Height of the conduit's invert above the storage bottom, m.
    pub offset_m: f64,
    /// (depth above the offset m, flow m³/s) from 0 to the full depth; beyond it the last
    /// flow.
    pub normal_flow: Vec<(f64, f64)>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WeirShape {
    Transverse,
    SideFlow,
    VNotch,
    Trapezoidal,
    /// Flow over a road (漫路堰): with a road width and surface, the discharge coefficient
    /// follows the FHWA curves by head (FHWA/RD-86/108, Fig. 10, as SWMM 5 uses them);
    /// otherwise it is the weir's own.
    Roadway {
        road_width_m: f64,
        gravel: bool,
    },
}

/// FHWA roadway discharge coefficients (ft^½/s) by head (ft), head/width ≤ 0.15.
const CR_LOW_PAVED: [(f64, f64); 4] = [(0.0, 2.85), (0.2, 2.95), (0.7, 3.03), (4.0, 3.05)];
const CR_LOW_GRAVEL: [(f64, f64); 8] = [
    (0.0, 2.5),
    (0.5, 2.7),
    (1.0, 2.8),
    (1.5, 2.9),
    (2.0, 2.98),
    (2.5, 3.02),
    (3.0, 3.03),
    (4.0, 3.05),
];
/// The same by head/width above 0.15.
const CR_HIGH_PAVED: [(f64, f64); 2] = [(0.15, 3.05), (0.25, 3.10)];
const CR_HIGH_GRAVEL: [(f64, f64); 2] = [(0.15, 2.95), (0.30, 3.10)];

/// A roadway's discharge coefficient in SI (m^½/s) at head `h_m` (free flow).
pub fn roadway_coeff(h_m: f64, road_width_m: f64, gravel: bool) -> f64 {
    let h_ft = h_m / 0.3048;
    let ratio = h_m / road_width_m;
    let cr = match (ratio <= 0.15, gravel) {
        (true, false) => interpolate(&CR_LOW_PAVED, h_ft),
        (true, true) => interpolate(&CR_LOW_GRAVEL, h_ft),
        (false, false) => interpolate(&CR_HIGH_PAVED, ratio),
        (false, true) => interpolate(&CR_HIGH_GRAVEL, ratio),
    };
    // ft^½/s → m^½/s.
    cr * 0.3048f64.sqrt()
}

/// Pump rate rules.
#[derive(Debug, Clone)]
pub enum PumpCurve {
    /// Pumps whatever flows in.
    Ideal,
    /// A constant rate (m³/s) while on.
    Constant(f64),
    /// Stepwise by wet-well volume (SWMM TYPE1).
    VolumeSteps(Vec<(f64, f64)>),
    /// Stepwise by depth (TYPE2).
    DepthSteps(Vec<(f64, f64)>),
    /// Continuous by depth (TYPE4).
    Depth(Vec<(f64, f64)>),
    /// Drain-back (回流): up to `rate`, but only the spare capacity of link `watch`
    /// below `capacity` (m³/s), so that emptying the tank never causes overflow.
    Spare {
        rate: f64,
        watch: usize,
        capacity: f64,
    },
}

/// Piecewise-linear interpolation, clamped at the ends.
pub fn interpolate(table: &[(f64, f64)], x: f64) -> f64 {
    match table {
        [] => 0.0,
        [only] => only.1,
        _ => {
            let i = table.partition_point(|p| p.0 <= x);
            if i == 0 {
                return table[0].1;
            }
            if i >= table.len() {
                return table[table.len() - 1].1;
            }
            let (x0, y0) = table[i - 1];
            let (x1, y1) = table[i];
            if x1 <= x0 {
                return y1;
            }
            y0 + (y1 - y0) * (x - x0) / (x1 - x0)
        }
    }
}

/// Step function: the y of the last x not above the argument.
pub fn step_lookup(table: &[(f64, f64)], x: f64) -> f64 {
    let i = table.partition_point(|p| p.0 <= x);
    if i == 0 {
        table.first().map(|p| p.1).unwrap_or(0.0)
    } else {
        table[i - 1].1
    }
}

impl LinkKind {
    /// Flow out of a node at `depth` (m) for a depth-driven link, before the setting.
    pub fn flow_at_depth(&self, depth: f64) -> f64 {
        match self {
            LinkKind::Weir {
                shape,
                crest_m,
                coeff,
                length_m,
                slope_tan,
                coeff2,
                end_contractions,
            } => {
                let h = depth - crest_m;
                if h <= 0.0 {
                    return 0.0;
                }
                let effective = (length_m - 0.1 * end_contractions * h).max(0.0);
                match shape {
                    WeirShape::Transverse => coeff * effective * h.powf(1.5),
                    WeirShape::Roadway {
                        road_width_m,
                        gravel,
                    } => {
                        let c = if *road_width_m > 0.0 {
                            roadway_coeff(h, *road_width_m, *gravel)
                        } else {
                            *coeff
                        };
                        c * length_m * h.powf(1.5)
                    }
                    WeirShape::SideFlow => coeff * length_m * h.powf(5.0 / 3.0),
                    WeirShape::VNotch => coeff * slope_tan * h.powf(2.5),
                    WeirShape::Trapezoidal => {
                        coeff * effective * h.powf(1.5) + coeff2 * slope_tan * h.powf(2.5)
                    }
                }
            }
            LinkKind::Orifice {
                bottom,
                offset_m,
                height_m,
                width_m,
                coeff,
            } => {
                let y = depth - offset_m;
                if y <= 0.0 {
                    return 0.0;
                }
                let area = height_m * width_m;
                if *bottom {
                    coeff * area * (2.0 * G * y).sqrt()
                } else if y < *height_m {
                    // Partly covered: flow through the wetted part under half its depth.
                    coeff * width_m * y * (G * y).sqrt()
                } else {
                    coeff * area * (2.0 * G * (y - height_m / 2.0)).sqrt()
                }
            }
            LinkKind::Outlet {
                offset_m,
                c1,
                c2,
                table,
            } => {
                let h = depth - offset_m;
                if h <= 0.0 {
                    return 0.0;
                }
                match table {
                    Some(t) => interpolate(t, h).max(0.0),
                    None => c1 * h.powf(*c2),
                }
            }
            LinkKind::Conduit {
                inlet: Some(inlet), ..
            } => {
                let y = depth - inlet.offset_m;
                if y <= 0.0 {
                    0.0
                } else {
                    interpolate(&inlet.normal_flow, y).max(0.0)
                }
            }
            _ => 0.0,
        }
    }

    /// The depth at and below which a depth-driven link carries nothing (its crest, offset
    /// or inlet offset, m); None for other links.
    pub fn threshold_m(&self) -> Option<f64> {
        match self {
            LinkKind::Weir { crest_m, .. } => Some(*crest_m),
            LinkKind::Orifice { offset_m, .. } | LinkKind::Outlet { offset_m, .. } => {
                Some(*offset_m)
            }
            LinkKind::Conduit {
                inlet: Some(inlet), ..
            } => Some(inlet.offset_m),
            _ => None,
        }
    }

    pub fn is_depth_driven(&self) -> bool {
        matches!(
            self,
            LinkKind::Weir { .. }
                | LinkKind::Orifice { .. }
                | LinkKind::Outlet { .. }
                | LinkKind::Conduit { inlet: Some(_), .. }
        )
    }
}

/// Dry-weather (sanitary) flow at a node: base × monthly × daily × hourly factors.
#[derive(Debug, Clone)]
pub struct DryWeatherFlow {
    pub node: usize,
    pub base_m3_per_s: f64,
    pub monthly: [f64; 12],
    /// Sunday first.
    pub daily: [f64; 7],
    pub hourly: [f64; 24],
    /// Replaces `hourly` on Saturdays and Sundays.
    pub weekend: Option<[f64; 24]>,
}

impl DryWeatherFlow {
    pub fn flat(node: usize, base_m3_per_s: f64) -> DryWeatherFlow {
        DryWeatherFlow {
            node,
            base_m3_per_s,
            monthly: [1.0; 12],
            daily: [1.0; 7],
            hourly: [1.0; 24],
            weekend: None,
        }
    }

    /// Flow at a time; patterns apply per clock hour as in SWMM.
    pub fn at(&self, t: i64) -> f64 {
        self.at_civil(&crate::time::civil_of(t))
    }

    /// Flow at a time given by its calendar fields (one lookup serves every source).
    pub fn at_civil(&self, c: &crate::time::Civil) -> f64 {
        let hourly = match (&self.weekend, c.weekday) {
            (Some(w), 0 | 6) => w[c.hour],
            _ => self.hourly[c.hour],
        };
        self.base_m3_per_s * self.monthly[c.month - 1] * self.daily[c.weekday] * hourly
    }

    /// Mean flow over a typical week (for interception ratios).
    pub fn mean(&self) -> f64 {
        let mut sum = 0.0;
        for d in 0..7 {
            for h in 0..24 {
                let hourly = match (&self.weekend, d) {
                    (Some(w), 0 | 6) => w[h],
                    _ => self.hourly[h],
                };
                sum += self.daily[d] * hourly;
            }
        }
        let monthly: f64 = self.monthly.iter().sum::<f64>() / 12.0;
        self.base_m3_per_s * monthly * sum / (7.0 * 24.0)
    }
}

/// An external inflow at a node (外部入流): flow (m³/s) against time, linear between
/// points and zero outside them, as SWMM interpolates an inflow time series.
#[derive(Debug, Clone)]
pub struct ExternalInflow {
    pub node: usize,
    /// (time s, m³/s), times increasing.
    pub points: Vec<(i64, f64)>,
}

impl ExternalInflow {
    /// Volume (m³) that has entered by time `t`, given the volume by each point.
    fn volume_by(&self, cumulative: &[f64], t: f64) -> f64 {
        let pts = &self.points;
        let i = pts.partition_point(|p| (p.0 as f64) <= t);
        if i == 0 {
            return 0.0;
        }
        if i == pts.len() {
            return cumulative[i - 1];
        }
        let ((t0, q0), (t1, q1)) = (
            (pts[i - 1].0 as f64, pts[i - 1].1),
            (pts[i].0 as f64, pts[i].1),
        );
        let qe = q0 + (q1 - q0) * (t - t0) / (t1 - t0);
        cumulative[i - 1] + (q0 + qe) / 2.0 * (t - t0)
    }

    /// The mean flow of each step of `clock` (exact volumes), zero steps left out.
    pub fn on_clock(&self, clock: crate::runoff::Clock) -> crate::series::SparseSeries {
        let mut out = crate::series::SparseSeries::default();
        let (Some(first), Some(last)) = (self.points.first(), self.points.last()) else {
            return out;
        };
        let dt = clock.step_s as f64;
        let k0 = ((first.0 - clock.start_s).div_euclid(clock.step_s)).max(0) as usize;
        let k1 = (((last.0 - clock.start_s).div_euclid(clock.step_s) + 1).max(0) as usize)
            .min(clock.steps);
        let mut cumulative = vec![0.0; self.points.len()];
        for i in 1..self.points.len() {
            let ((t0, q0), (t1, q1)) = (self.points[i - 1], self.points[i]);
            cumulative[i] = cumulative[i - 1] + (q0 + q1) / 2.0 * (t1 - t0) as f64;
        }
        let mut before = self.volume_by(&cumulative, clock.time(k0) as f64);
        for k in k0..k1 {
            let after = self.volume_by(&cumulative, clock.time(k + 1) as f64);
            out.push(k, (after - before) / dt);
            before = after;
        }
        out
    }
}

/// What a control-rule condition looks at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Subject {
    NodeDepth(usize),
    NodeVolume(usize),
    /// Lateral inflow (runoff and dry-weather flow) only — what SWMM's `NODE x INFLOW`
    /// means.
    NodeLateral(usize),
    LinkFlow(usize),
    LinkSetting(usize),
    /// Hours since the link last switched from closed to open (false while closed).
    LinkTimeOpen(usize),
    /// Hours since the link last switched from open to closed (false while open).
    LinkTimeClosed(usize),
    /// Hours since the simulation started.
    SimulationHours,
    /// Clock hour of the day, decimal.
    ClockHour,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Compare {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Compare {
    /// For times (hours), as SWMM compares them: `=` holds within half a step
    /// (`half_step_h`) before to half a step after, `<>` outside that.
    pub fn holds_time(self, a: f64, b: f64, half_step_h: f64) -> bool {
        match self {
            Compare::Eq => a >= b - half_step_h && a < b + half_step_h,
            Compare::Ne => !(a >= b - half_step_h && a < b + half_step_h),
            other => other.holds(a, b),
        }
    }

    pub fn holds(self, a: f64, b: f64) -> bool {
        match self {
            Compare::Lt => a < b,
            Compare::Le => a <= b,
            Compare::Gt => a > b,
            Compare::Ge => a >= b,
            Compare::Eq => (a - b).abs() < 1e-9,
            Compare::Ne => (a - b).abs() >= 1e-9,
        }
    }
}

/// One condition of a rule; `or` joins it to the previous ones with OR instead of AND.
#[derive(Debug, Clone, PartialEq)]
pub struct Premise {
    pub or: bool,
    pub subject: Subject,
    pub compare: Compare,
    pub value: f64,
}

/// Set a link's setting (1 on/open, 0 off/closed, or a fraction).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Action {
    pub link: usize,
    pub setting: f64,
    /// `SETTING = CURVE name`: the setting is this curve of the rule (in [`Rule::curves`])
    /// at the value its last condition read (SWMM's modulated control).
    pub curve: Option<usize>,
}

/// IF … THEN … ELSE … PRIORITY.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub premises: Vec<Premise>,
    pub then: Vec<Action>,
    pub otherwise: Vec<Action>,
    pub priority: f64,
    /// Control curves of its modulated actions: (value of the last condition, setting).
    pub curves: Vec<Vec<(f64, f64)>>,
}

/// Options for events and results.
#[derive(Debug, Clone, Copy)]
pub struct EventOptions {
    /// Dry time that separates two rain events, s.
    pub inter_event_s: i64,
    /// Overflow below this volume (m³) in an event does not count as an overflow event.
    pub min_overflow_m3: f64,
}

impl Default for EventOptions {
    fn default() -> Self {
        EventOptions {
            inter_event_s: 6 * 3600,
            min_overflow_m3: 1.0,
        }
    }
}

/// A whole system ready to simulate.
#[derive(Debug, Clone)]
pub struct System {
    pub name: String,
    /// The routing clock.
    pub clock: Clock,
    /// Runoff step, s, when it differs from the routing step (SWMM's `WET_STEP`); runoff
    /// is then computed on its own grid and spread onto the routing steps by volume.
    pub runoff_step_s: Option<i64>,
    pub gages: Vec<Gage>,
    pub evaporation: Evaporation,
    pub subcatchments: Vec<Subcatchment>,
    pub nodes: Vec<Node>,
    pub links: Vec<Link>,
    pub dry_weather: Vec<DryWeatherFlow>,
    /// External inflows from time series (SWMM's `[INFLOWS]`; their baselines are in
    /// `dry_weather`).
    pub inflows: Vec<ExternalInflow>,
    pub rules: Vec<Rule>,
    pub events: EventOptions,
    /// The routing method the input asks for (SWMM's `FLOW_ROUTING`).
    pub flow_routing: FlowRouting,
    /// The method rewater routes it by: kinematic wave or steady flow as the file asks,
    /// the fast routing (lag, capacity, storage) for dynamic-wave files and native cases,
    /// or what `--routing` chose.
    pub routed_by: FlowRouting,
    /// What an importer approximated or ignored, for the user to read.
    pub notes: Vec<String>,
    /// Node and link hydraulics for dynamic-wave routing (SWMM files), used when
    /// `routed_by` is DYNWAVE.
    pub hydraulics: Option<Box<crate::dynwave::Hydraulics>>,
}

/// SWMM's flow-routing methods (`FLOW_ROUTING`), and rewater's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlowRouting {
    /// rewater's screening routing: lag, capacity and storage (native cases).
    #[default]
    Fast,
    Steady,
    KinWave,
    DynWave,
}

impl std::str::FromStr for FlowRouting {
    type Err = String;

    /// `fast`, `steady`, `kinwave` or `dynwave`.
    fn from_str(s: &str) -> Result<FlowRouting, String> {
        match s.to_ascii_lowercase().as_str() {
            "fast" => Ok(FlowRouting::Fast),
            "steady" => Ok(FlowRouting::Steady),
            "kinwave" => Ok(FlowRouting::KinWave),
            "dynwave" => Ok(FlowRouting::DynWave),
            other => Err(format!(
                "routing '{other}' is not fast, steady, kinwave or dynwave"
            )),
        }
    }
}

impl FlowRouting {
    /// The keyword SWMM writes for it (`FAST` for rewater's own).
    pub fn keyword(self) -> &'static str {
        match self {
            FlowRouting::Fast => "FAST",
            FlowRouting::Steady => "STEADY",
            FlowRouting::KinWave => "KINWAVE",
            FlowRouting::DynWave => "DYNWAVE",
        }
    }
}

impl System {
    /// The clock runoff is computed on: the routing clock, or the same span at
    /// `runoff_step_s`.
    pub fn runoff_clock(&self) -> Clock {
        match self.runoff_step_s {
            Some(step_s) if step_s > 0 && step_s != self.clock.step_s => {
                let span = self.clock.steps as i64 * self.clock.step_s;
                Clock {
                    start_s: self.clock.start_s,
                    step_s,
                    steps: ((span + step_s - 1) / step_s) as usize,
                }
            }
            _ => self.clock,
        }
    }

    /// Each node's stored volume at the start (m³): a storage unit's at its initial depth,
    /// 0 for every other node.
    pub fn initial_volumes_m3(&self) -> Vec<f64> {
        self.nodes
            .iter()
            .map(|nd| match &nd.kind {
                NodeKind::Storage(s) => s.volume_at(s.init_depth_m),
                _ => 0.0,
            })
            .collect()
    }

    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.links.iter().position(|l| l.name == name)
    }

    /// Re-grid the clock to `step_s` over the same span, within the limits of
    /// [`crate::limits`].
    pub fn set_step(&mut self, step_s: i64) -> Result<(), String> {
        if !(1..=3600).contains(&step_s) {
            return Err(format!("step {step_s} s must be 1–3600 s"));
        }
        let end_s = self.clock.time(self.clock.steps);
        let steps = crate::limits::steps(self.clock.start_s, end_s, step_s)?;
        self.clock = Clock {
            start_s: self.clock.start_s,
            step_s,
            steps,
        };
        crate::limits::check_system(self)
    }

    /// A directed cycle of links, in order (each link's `to` is the next one's `from`),
    /// if the network has one. Flows are routed downstream in one pass, so a cycle has
    /// no meaning here (SWMM's kinematic-wave routing refuses them too: its error 131).
    pub fn find_cycle(&self) -> Option<Vec<usize>> {
        let n = self.nodes.len();
        let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, l) in self.links.iter().enumerate() {
            out[l.from].push(i);
        }
        // Depth-first; `on_path[node]` is its place on the current path.
        let mut done = vec![false; n];
        let mut on_path = vec![usize::MAX; n];
        for root in 0..n {
            if done[root] {
                continue;
            }
            // (node, next outgoing link to try, link that led here)
            let mut stack: Vec<(usize, usize, usize)> = vec![(root, 0, usize::MAX)];
            on_path[root] = 0;
            while let Some(&mut (node, ref mut next, _)) = stack.last_mut() {
                let Some(&l) = out[node].get(*next) else {
                    done[node] = true;
                    on_path[node] = usize::MAX;
                    stack.pop();
                    continue;
                };
                *next += 1;
                let to = self.links[l].to;
                if on_path[to] != usize::MAX {
                    let mut cycle: Vec<usize> =
                        stack[on_path[to] + 1..].iter().map(|e| e.2).collect();
                    cycle.push(l);
                    return Some(cycle);
                }
                if !done[to] {
                    on_path[to] = stack.len();
                    stack.push((to, 0, l));
                }
            }
        }
        None
    }

    /// A cycle from [`System::find_cycle`] as node names, `A → B → A`.
    pub fn cycle_text(&self, cycle: &[usize]) -> String {
        let mut names: Vec<&str> = cycle
            .iter()
            .map(|&l| self.nodes[self.links[l].from].name.as_str())
            .collect();
        if let Some(&first) = names.first() {
            names.push(first);
        }
        names.join(" → ")
    }

    /// Storage units (tanks).
    pub fn storages(&self) -> impl Iterator<Item = (usize, &Storage)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| match &n.kind {
                NodeKind::Storage(s) => Some((i, s)),
                _ => None,
            })
    }

    /// Usable volume of a storage node: up to its lowest weir crest if a weir leaves it,
    /// else its full depth.
    pub fn tank_capacity(&self, node: usize) -> f64 {
        let NodeKind::Storage(st) = &self.nodes[node].kind else {
            return 0.0;
        };
        let crest = self
            .links
            .iter()
            .filter(|l| l.from == node)
            .filter_map(|l| match l.kind {
                LinkKind::Weir { crest_m, .. } => Some(crest_m),
                _ => None,
            })
            .fold(st.max_depth_m, f64::min);
        st.volume_at(crest.max(0.0))
    }

    /// Overflow outlets (outfalls to a river).
    pub fn overflow_outfalls(&self) -> Vec<usize> {
        self.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, NodeKind::Outfall { river: Some(_) }))
            .map(|(i, _)| i)
            .collect()
    }

    /// Area of all subcatchments, m².
    pub fn area_m2(&self) -> f64 {
        self.subcatchments.iter().map(|s| s.area_m2).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_volume_and_depth_invert() {
        // A cone-like tank: area 100 m² at the bottom, 300 m² at 4 m.
        let s = Storage::from_areas(&[(0.0, 100.0), (4.0, 300.0)], 4.0, 0.0);
        // V(4) = (100 + 300)/2 · 4 = 800.
        assert!((s.full_volume() - 800.0).abs() < 1e-9);
        // V(2) = 100·2 + 50·4/2 = 300 (area slope 50 m²/m).
        assert!((s.volume_at(2.0) - 300.0).abs() < 1e-9);
        for d in [0.0, 0.3, 1.7, 2.0, 3.99] {
            assert!((s.depth_at(s.volume_at(d)) - d).abs() < 1e-9);
        }
        let f = Storage::functional(0.0, 2.0, 1.0, 3.0, 0.0); // A = 2d → V = d²
        assert!((f.volume_at(3.0) - 9.0).abs() < 1e-9);
    }

    #[test]
    fn weir_and_orifice_formulas() {
        let w = LinkKind::Weir {
            shape: WeirShape::Transverse,
            crest_m: 2.0,
            coeff: 1.84,
            length_m: 3.0,
            slope_tan: 0.0,
            coeff2: 0.0,
            end_contractions: 0.0,
        };
        assert_eq!(w.flow_at_depth(1.9), 0.0);
        // 1.84 · 3 · 0.25^1.5 = 0.69
        assert!((w.flow_at_depth(2.25) - 0.69).abs() < 1e-12);
        let o = LinkKind::Orifice {
            bottom: true,
            offset_m: 0.0,
            height_m: 0.5,
            width_m: 0.5,
            coeff: 0.6,
        };
        // 0.6 · 0.25 · √(2·9.81·2)
        assert!((o.flow_at_depth(2.0) - 0.15 * (39.24f64).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn dry_weather_patterns_apply_per_hour() {
        let mut d = DryWeatherFlow::flat(0, 0.1);
        d.hourly[7] = 1.5;
        let mut weekend = [1.0; 24];
        weekend[7] = 0.5;
        d.weekend = Some(weekend);
        // 2021-07-05 was a Monday, 2021-07-04 a Sunday.
        let mon = crate::time::parse_datetime("2021-07-05 07:30").unwrap();
        let sun = crate::time::parse_datetime("2021-07-04 07:30").unwrap();
        assert!((d.at(mon) - 0.15).abs() < 1e-12);
        assert!((d.at(sun) - 0.05).abs() < 1e-12);
    }
}
