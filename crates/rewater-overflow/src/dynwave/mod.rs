//! Dynamic-wave routing (动力波演算): the St Venant equations on the link–node network, by
//! the method of EPA SWMM 5 (Hydraulics Reference Manual Vol. II, EPA/600/R-17/111, ch. 4;
//! read in SWMM 5.2's `dynwave.c`, `dwflow.c`; this is our own implementation). Each step:
//! momentum per conduit for its flow from the heads at its ends (`conduit.rs`),
//! head-discharge relations for weirs, orifices, outlets and pumps (with submergence and
//! reverse flow), then continuity at each node for its new depth over its surface area
//! (the node's own plus half of each conduit's water surface); the two are iterated with
//! under-relaxation until every node's depth changes by less than HEAD_TOLERANCE or
//! MAX_TRIALS is reached. A node above the crown of its highest conduit is surcharged:
//! its head follows the sum of its links' dQ/dH (SWMM's EXTRAN method), or the conduits
//! carry a Preissmann slot (SURCHARGE_METHOD SLOT). Above its full depth plus surcharge
//! depth a node floods, or ponds over its ponded area (ALLOW_PONDING). Outfalls are
//! FREE, NORMAL, FIXED, TIDAL or TIMESERIES. The step is fixed or, with VARIABLE_STEP,
//! the Courant step of the fastest conduit within [MINIMUM_STEP, ROUTING_STEP].

pub mod conduit;
mod depths;
pub mod forcemain;
mod run;
pub mod section;
mod solver;

pub use run::route;

use section::Section;

/// Inertial damping of the momentum equation (`INERTIAL_DAMPING`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damping {
    None,
    Partial,
    Full,
}

/// `NORMAL_FLOW_LIMITED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormalFlowLimit {
    Slope,
    Froude,
    Both,
    Neither,
}

/// A conduit's flow class at the last iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlowClass {
    #[default]
    Dry,
    UpDry,
    DnDry,
    Subcritical,
    Supercritical,
    UpCritical,
    DnCritical,
}

/// Options of the dynamic-wave solver, from `[OPTIONS]`.
#[derive(Debug, Clone)]
pub struct DwOptions {
    /// ROUTING_STEP, s (may be fractional).
    pub routing_step_s: f64,
    /// VARIABLE_STEP (Courant factor; 0 = fixed step).
    pub courant: f64,
    /// MINIMUM_STEP, s.
    pub min_step_s: f64,
    /// LENGTHENING_STEP, s (0 = none).
    pub lengthening_step_s: f64,
    /// MIN_SURFAREA, m².
    pub min_surf_area_m2: f64,
    /// HEAD_TOLERANCE, m.
    pub head_tol_m: f64,
    pub max_trials: usize,
    pub damping: Damping,
    pub normal_flow: NormalFlowLimit,
    /// SURCHARGE_METHOD SLOT (else EXTRAN).
    pub slot: bool,
    pub allow_ponding: bool,
    /// `FORCE_MAIN_EQUATION`: the friction law of full force mains.
    pub force_main_equation: forcemain::ForceMainEquation,
}

impl Default for DwOptions {
    fn default() -> Self {
        DwOptions {
            routing_step_s: 20.0,
            courant: 0.0,
            min_step_s: 0.5,
            lengthening_step_s: 0.0,
            // SWMM's defaults: 12.566 ft² and 0.005 ft.
            min_surf_area_m2: 12.566 * 0.3048 * 0.3048,
            head_tol_m: 0.005 * 0.3048,
            max_trials: 8,
            damping: Damping::Partial,
            normal_flow: NormalFlowLimit::Both,
            slot: false,
            allow_ponding: false,
            force_main_equation: forcemain::ForceMainEquation::HazenWilliams,
        }
    }
}

/// How an outfall's water level is set.
#[derive(Debug, Clone)]
pub enum OutfallStage {
    /// The smaller of critical and normal depth in the conduit that feeds it.
    Free,
    /// Normal depth in that conduit.
    Normal,
    /// A fixed water-surface elevation, m.
    Fixed(f64),
    /// Elevation (m) by hour of the day, from a tidal curve.
    Tidal(Vec<(f64, f64)>),
    /// Elevation (m) against wall seconds.
    Series(Vec<(i64, f64)>),
}

/// Hydraulic data of a node.
#[derive(Debug, Clone)]
pub struct DwNode {
    pub invert_m: f64,
    /// Depth from the invert to the rim (at least to the crown of its links), m.
    pub full_depth_m: f64,
    /// Extra depth a sealed manhole takes under pressure before it floods, m.
    pub sur_depth_m: f64,
    pub ponded_m2: f64,
    pub init_depth_m: f64,
    /// Some for outfalls.
    pub outfall: Option<OutfallStage>,
    /// Outfall with a flap gate (no flow back in).
    pub flap_gate: bool,
}

/// Hydraulic data of a conduit (per barrel where it matters).
#[derive(Debug, Clone)]
pub struct DwConduit {
    pub section: Section,
    pub length_m: f64,
    /// Length used in the momentum equation (lengthened for LENGTHENING_STEP).
    pub mod_length: f64,
    /// g·n² (with the roughness adjusted for lengthening).
    pub rough_factor: f64,
    /// √slope / n: normal flow = β·A·R^(2/3), per barrel.
    pub beta: f64,
    pub barrels: f64,
    /// Maximum flow (all barrels), 0 = none.
    pub q_limit: f64,
    pub loss_inlet: f64,
    pub loss_outlet: f64,
    pub loss_avg: f64,
    /// A flap gate stops reverse flow.
    pub flap_gate: bool,
    /// A force main's friction law when it runs full (SWMM's FORCE_MAIN).
    pub force_main: Option<forcemain::ForceMain>,
}

impl DwConduit {
    pub fn has_losses(&self) -> bool {
        self.loss_inlet > 0.0 || self.loss_outlet > 0.0 || self.loss_avg > 0.0
    }
}

/// Hydraulic data of a link.
#[derive(Debug, Clone)]
pub struct DwLink {
    /// Heights of the link's ends above its nodes' inverts, m.
    pub offset1_m: f64,
    pub offset2_m: f64,
    /// Full height (conduit depth, orifice or weir opening; 0 for pumps and outlets), m.
    pub height_m: f64,
    /// Some for conduits with a known section.
    pub conduit: Option<Box<DwConduit>>,
    /// A weir or orifice with a flap gate, or an outlet (flow only downstream).
    pub flap_gate: bool,
    /// A weir that flows as an orifice once its opening is submerged (Surcharge YES).
    pub can_surcharge: bool,
}

/// What dynamic-wave routing needs beyond [`crate::network::System`], by node and link
/// index.
#[derive(Debug, Clone)]
pub struct Hydraulics {
    pub nodes: Vec<DwNode>,
    pub links: Vec<DwLink>,
    pub options: DwOptions,
}

impl DwConduit {
    /// A conduit from its section and Manning data; `slope` is its invert drop over
    /// length (signed), `routing_step_s`/`lengthening_step_s` as in [`DwOptions`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        section: Section,
        length_m: f64,
        n: f64,
        slope: f64,
        barrels: f64,
        q_limit: f64,
        routing_step_s: f64,
        lengthening_step_s: f64,
    ) -> DwConduit {
        let mut factor = 1.0;
        if lengthening_step_s > 0.0 {
            // SWMM's Courant lengthening: the conduit is made as long as a wave travels in
            // the lengthening step at full flow, with roughness reduced to keep its
            // full-flow capacity.
            let v_full = slope.abs().sqrt() / n * section.s_full() / section.a_full.max(1e-12);
            let y_hyd = section.a_full / section.width(section.y_full * 0.999).max(1e-9);
            let y_hyd = if section.closed {
                section.y_full
            } else {
                y_hyd
            };
            let t = routing_step_s.min(lengthening_step_s);
            let ratio = ((crate::network::G * y_hyd).sqrt() + v_full) * t / length_m;
            factor = ratio.max(1.0);
        }
        let (slope, n) = (slope / factor, n / factor.sqrt());
        DwConduit {
            length_m,
            mod_length: length_m * factor,
            rough_factor: crate::network::G * n * n,
            beta: slope.abs().sqrt() / n,
            barrels,
            q_limit,
            loss_inlet: 0.0,
            loss_outlet: 0.0,
            loss_avg: 0.0,
            flap_gate: false,
            force_main: None,
            section,
        }
    }
}
