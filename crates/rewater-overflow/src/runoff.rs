//! Surface runoff from a subcatchment (汇水分区产汇流), equivalent to EPA SWMM 5's runoff
//! method: three sub-areas (impervious without depression storage, impervious with it,
//! pervious); depression storage emptied by evaporation; Horton or curve-number
//! infiltration with regeneration in dry weather; non-linear reservoir overland flow
//! q = (W/(n·A))·S^½·(d − ds)^(5/3) (SWMM 5.1 User's Manual EPA/600/R-14/413b, §3.2;
//! Reference Manual Vol. I, ch. 3–4).
//!
//! Differences from SWMM, chosen on purpose: the runoff of a step is the volume the
//! reservoir released during the step (so volume is conserved exactly; SWMM reports the
//! end-of-step rate), and long dry spells are skipped in one closed-form update.

pub use crate::evaporation::{EvapGrid, EvapWindow, Evaporation};
use crate::infiltration::InfilState;
use crate::reach::Reach;
use crate::series::SparseSeries;

#[path = "runoff_tail.rs"]
mod tail;

/// SWMM's exponent of the overland-flow equation.
const MANNING_EXP: f64 = 5.0 / 3.0;

/// Infiltration on the pervious sub-area.
#[derive(Debug, Clone, PartialEq)]
pub enum Infiltration {
    /// Horton: f = fmin + (f0 − fmin)·e^(−k·t), capacity regained in dry weather.
    Horton {
        f0_m_per_s: f64,
        fmin_m_per_s: f64,
        decay_per_s: f64,
        /// Days for a fully saturated soil to dry (98 % regeneration).
        dry_days: f64,
        /// Maximum infiltration volume, m (0 = none).
        max_m: f64,
    },
    /// SCS curve number as SWMM applies it continuously.
    CurveNumber { cn: f64, dry_days: f64 },
    /// Green–Ampt, plain or modified ([`crate::green_ampt`]).
    GreenAmpt(crate::green_ampt::GreenAmpt),
    /// No infiltration.
    None,
}

/// One subcatchment, in SI units.
#[derive(Debug, Clone)]
pub struct Subcatchment {
    pub name: String,
    /// Index of its rain gage.
    pub gage: usize,
    /// Index of the node that receives its runoff.
    pub outlet: usize,
    pub area_m2: f64,
    /// Impervious fraction 0–1.
    pub imperv: f64,
    pub width_m: f64,
    /// Slope, m/m.
    pub slope: f64,
    pub n_imperv: f64,
    pub n_perv: f64,
    pub ds_imperv_m: f64,
    pub ds_perv_m: f64,
    /// Fraction of the impervious area with no depression storage.
    pub zero_ds: f64,
    pub infiltration: Infiltration,
    /// Sewer lag from the catchment to its outlet node, s.
    pub lag_s: f64,
    /// Linear-reservoir constant of the sewer between catchment and outlet, s.
    pub reservoir_s: f64,
    /// Release each step the runoff rate at the step's end times the step, as SWMM 5
    /// reports and routes it (its `Voutflow`; slightly more than the water that left the
    /// surface on a rising hydrograph, which SWMM shows as its runoff continuity error).
    /// Set for `.inp` imports so that their figures compare with SWMM's; native cases
    /// release the exact volume.
    pub swmm_outflow: bool,
    /// Runoff of one sub-area routed over the other (SWMM's `[SUBAREAS]` RouteTo).
    pub subarea_route: SubareaRoute,
    /// The subcatchment this one's runoff runs onto (SWMM: an outlet that is a
    /// subcatchment); `outlet` is then the node that chain ends at.
    pub runon_to: Option<usize>,
}

/// Internal routing between a subcatchment's sub-areas: a fraction of one's runoff
/// becomes, a step later, inflow spread over the other (SWMM 5 `subcatch_getRunon`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum SubareaRoute {
    #[default]
    Outlet,
    /// Impervious runoff onto the pervious area.
    ToPervious { fraction: f64 },
    /// Pervious runoff onto the impervious area with depression storage.
    ToImpervious { fraction: f64 },
}

/// Water balance of one subcatchment's run, m³.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct RunoffBalance {
    pub rain_m3: f64,
    pub evaporation_m3: f64,
    pub infiltration_m3: f64,
    pub runoff_m3: f64,
    /// Water left on the surface at the end.
    pub surface_m3: f64,
    /// Runoff still in the sewer reach at the end.
    pub in_sewer_m3: f64,
    /// Runoff from other subcatchments that ran onto this one.
    pub runon_m3: f64,
}

impl RunoffBalance {
    pub fn add(&mut self, o: &RunoffBalance) {
        self.rain_m3 += o.rain_m3;
        self.evaporation_m3 += o.evaporation_m3;
        self.infiltration_m3 += o.infiltration_m3;
        self.runoff_m3 += o.runoff_m3;
        self.surface_m3 += o.surface_m3;
        self.in_sewer_m3 += o.in_sewer_m3;
        self.runon_m3 += o.runon_m3;
    }
}

#[derive(Debug, Clone)]
struct SubArea {
    frac: f64,
    ds: f64,
    /// W·S^½/(n·A) in m^(−2/3)/s; zero means runoff leaves at once (n = 0).
    alpha: f64,
    depth: f64,
    overland: OverlandCache,
}

/// Cube root to full double precision without the correctly rounded (and slow) library
/// routine: an estimate from the exponent bits, then two Halley steps (cubic convergence,
/// 3 % → 10⁻¹⁴).
fn cbrt(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x.cbrt();
    }
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    y
}

/// A rough x^p (within a few per cent) from the exponent bits, for choosing step counts.
fn rough_pow(x: f64, p: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return x.powf(p);
    }
    // log2 and exp2 linear in the mantissa: max error 0.086 in the exponent.
    let log2 = (x.to_bits() as f64) / (1u64 << 52) as f64 - 1023.0;
    let e = p * log2;
    f64::from_bits(((e + 1023.0) * (1u64 << 52) as f64) as u64)
}

/// One trapezoidal (implicit, second-order) step of dx/dt = i − α·x^(5/3). Solved for
/// w = x^(1/3), where the equation is a polynomial (w³ + h·α/2·w⁵ = b) and Newton needs
/// no roots; `z` is x^(1/3) on entry. Returns (x, x^(1/3)).
fn trapezoid_step(x: f64, z: f64, i: f64, alpha: f64, h: f64) -> (f64, f64) {
    let half = 0.5 * h * alpha;
    let base = x + h * i - half * x * z * z;
    if base <= 0.0 {
        return (0.0, 0.0);
    }
    // g(w) = w³ + half·w⁵ − base is convex and increasing for w > 0, so the iteration
    // converges from any start above zero.
    let mut w = if z > 1e-4 { z } else { cbrt(base) };
    // Halley's method (cubic convergence): usually two iterations from the last depth.
    for _ in 0..30 {
        let w2 = w * w;
        let hw4 = half * w2 * w2;
        let g = w2 * w + hw4 * w - base;
        let dg = 3.0 * w2 + 5.0 * hw4;
        let ddg = 6.0 * w + 20.0 * half * w2 * w;
        let next = w - 2.0 * g * dg / (2.0 * dg * dg - g * ddg);
        let next = if next <= 0.0 { 0.5 * w } else { next };
        // Cubic convergence: an update below 10⁻³ leaves an error near 10⁻⁹ of w, far inside
        // the 10⁻⁴ to which SWMM's own Runge–Kutta solver holds the step (ODETOL); 10⁻⁴
        // took a third iteration on most steps only to confirm the second (issue 14).
        let done = (next - w).abs() <= 1e-3 * w.max(1e-9);
        w = next;
        if done {
            break;
        }
    }
    (w * w * w, w)
}

/// Water depth above depression storage after `t` seconds of net inflow `i` (m/s).
#[cfg(test)]
fn integrate_overland(x0: f64, i: f64, alpha: f64, t: f64) -> f64 {
    integrate_overland_cached(x0, i, alpha, t, &mut OverlandCache::default())
}

/// What one step of a sub-area leaves for the next: the cube root of the depth it ended
/// with, and the last equilibrium-depth power (rain is constant over its interval).
#[derive(Debug, Clone, Default)]
struct OverlandCache {
    x: f64,
    z: f64,
    ratio: f64,
    xe23: f64,
    /// Below this i/α a step of at most the runoff step needs one sub-step whatever the
    /// rough power says (it is within −3 %…+7 % of the true one), so it is not taken;
    /// 0 until [`OverlandCache::for_step`] sets it.
    one_step_ratio: f64,
}

impl OverlandCache {
    /// A cache for a sub-area with coefficient `alpha` stepped at most `dt_s` at a time.
    fn for_step(alpha: f64, dt_s: f64) -> OverlandCache {
        let one_step_ratio = if alpha > 0.0 && dt_s > 0.0 {
            // t·(5/3)·α·1.1·ratio^0.4 ≤ 0.5 for every t ≤ dt_s.
            (0.5 / (1.1 * MANNING_EXP * alpha * dt_s)).powf(2.5)
        } else {
            0.0
        };
        OverlandCache {
            one_step_ratio,
            ..Default::default()
        }
    }

    /// x^(1/3), from the last step when it ended at (to rounding) this depth.
    fn cube_root(&self, x: f64) -> f64 {
        if self.x > 0.0 && (x - self.x).abs() <= 4.0 * f64::EPSILON * self.x {
            self.z
        } else {
            cbrt(x)
        }
    }
}

/// The recession (`i` ≤ 0) of [`integrate_overland_cached`], in closed form: x^(−2/3)
/// grows linearly in time.
#[inline(always)]
fn recede(x0: f64, i: f64, alpha: f64, t: f64, c: &mut OverlandCache) -> f64 {
    let x = if x0 > 0.0 {
        let z = c.cube_root(x0);
        let y = 1.0 / (z * z) + (2.0 / 3.0) * alpha * t;
        1.0 / (y * y.sqrt())
    } else {
        0.0
    };
    let x1 = (x + i * t).max(0.0);
    // Keep x1^(1/3): SWMM's outflow needs it now, the next step starts from it.
    (c.x, c.z) = if x1 > 0.0 { (x1, cbrt(x1)) } else { (0.0, 0.0) };
    x1
}

fn integrate_overland_cached(x0: f64, i: f64, alpha: f64, t: f64, c: &mut OverlandCache) -> f64 {
    if i <= 0.0 {
        return recede(x0, i, alpha, t, c);
    }
    // Only sets the number of sub-steps, so a rough power will do.
    let ratio = i / alpha;
    let mut z = c.cube_root(x0);
    let m = if ratio <= c.one_step_ratio && t * MANNING_EXP * alpha * (z * z) < 0.49 {
        1
    } else {
        if ratio != c.ratio {
            c.ratio = ratio;
            c.xe23 = rough_pow(ratio, 0.4);
        }
        let rate = MANNING_EXP * alpha * c.xe23.max(z * z);
        (t * rate / 0.5).ceil().clamp(1.0, 64.0) as usize
    };
    let h = if m == 1 { t } else { t / m as f64 };
    let mut x = x0;
    for _ in 0..m {
        (x, z) = trapezoid_step(x, z, i, alpha, h);
    }
    (c.x, c.z) = (x, z);
    x
}

impl SubArea {
    /// A step's losses, then its overland flow, with water arriving at `inflow`, surface
    /// evaporation `surf_evap` and infiltration capacity `infil_rate` (m/s): the
    /// evaporation and infiltration used (m/s), and the depth of runoff released (m; None
    /// when the losses took everything on the surface).
    #[inline(always)]
    fn lose_and_flow(
        &mut self,
        inflow: f64,
        surf_evap: f64,
        infil_rate: f64,
        dt: f64,
        swmm_outflow: bool,
    ) -> (f64, f64, Option<f64>) {
        let moisture = self.depth / dt + inflow;
        if surf_evap + infil_rate >= moisture {
            // Everything on the surface is lost; split in proportion.
            let total = surf_evap + infil_rate;
            let share = if total > 0.0 { moisture / total } else { 0.0 };
            self.depth = 0.0;
            (surf_evap * share, infil_rate * share, None)
        } else {
            let ix = inflow - surf_evap - infil_rate;
            (
                surf_evap,
                infil_rate,
                Some(self.advance(ix, dt, swmm_outflow)),
            )
        }
    }

    /// Advance the ponded depth by one step with net inflow `ix` (m/s); return the
    /// depth of runoff released (m).
    fn advance(&mut self, ix: f64, dt: f64, swmm_outflow: bool) -> f64 {
        let ds = self.ds;
        if self.depth + ix * dt <= ds {
            self.depth = (self.depth + ix * dt).max(0.0);
            return 0.0;
        }
        let mut t = dt;
        if self.depth < ds {
            t -= (ds - self.depth) / ix;
            self.depth = ds;
        }
        let x0 = self.depth - ds;
        let x1 = if self.alpha > 0.0 {
            integrate_overland_cached(x0, ix, self.alpha, t, &mut self.overland)
        } else {
            0.0
        };
        self.release(ix, t, x0, x1, dt, swmm_outflow)
    }

    /// The end of an overland step of `t` s from `x0` to `x1` above depression storage:
    /// the new depth, and the runoff released (the balance's, or SWMM's outflow rate).
    #[inline(always)]
    fn release(&mut self, ix: f64, t: f64, x0: f64, x1: f64, dt: f64, swmm_outflow: bool) -> f64 {
        let released = (ix * t - (x1 - x0)).max(0.0);
        self.depth = self.ds + x1;
        if swmm_outflow && self.alpha > 0.0 {
            // x^(5/3) = x·(x^(1/3))²: the overland step that gave x1 kept its cube root.
            debug_assert_eq!(self.overland.x, x1);
            let z = self.overland.z;
            return self.alpha * x1 * z * z * dt;
        }
        released
    }
}

/// Simulation clock: `steps` steps of `step_s` seconds from `start_s`.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub start_s: i64,
    pub step_s: i64,
    pub steps: usize,
}

impl Clock {
    pub fn time(&self, step: usize) -> i64 {
        self.start_s + step as i64 * self.step_s
    }
}

/// Rain and evaporation on the step grid, shared by every subcatchment of a gage.
#[derive(Debug, Clone)]
pub struct Forcing {
    /// Steps with rain, ascending.
    pub wet_steps: Vec<u32>,
    /// Rain depth (m) in each of the `wet_steps` (every other step has none: a record of
    /// years at a minute's step is mostly dry, and an array of every step is megabytes
    /// to fill and fault in).
    pub wet_rain_m: Vec<f64>,
    /// Evaporation depth (m) before each step, on demand ([`Forcing::evap_window`] for
    /// a stretch of steps): the system's, the same for every gage.
    pub evap: EvapGrid,
    pub evap_dry_only: bool,
}

impl Forcing {
    pub fn new(rain: &crate::rain::RainSeries, evap: &Evaporation, clock: Clock) -> Forcing {
        // The rain visits only its wet steps; the evaporation is every step's.
        let (wet_steps, wet_rain_m) = Self::rain(rain, clock);
        Forcing {
            wet_steps,
            wet_rain_m,
            evap: evap.grid(clock.start_s, clock.step_s),
            evap_dry_only: evap.dry_only,
        }
    }

    /// The evaporation depths before steps `first..=last` (a run from `first` to `last`
    /// reads them), in `window`'s memory.
    pub fn evap_window(&self, first: usize, last: usize, window: &mut EvapWindow) {
        self.evap.fill(first, last, window);
    }

    /// The steps with rain and the rain depth in each (any other step's is ±0).
    fn rain(rain: &crate::rain::RainSeries, clock: Clock) -> (Vec<u32>, Vec<f64>) {
        // The same values as cumulative_at / depth_between at every step boundary.
        rain.wet_steps_on(clock.start_s, clock.step_s, clock.steps)
    }
}

/// Run one subcatchment over the whole clock: its inflow to the outlet node (m³/s, mean
/// over each step) and its water balance.
pub fn simulate_subcatchment(
    sc: &Subcatchment,
    rain: &crate::rain::RainSeries,
    evap: &Evaporation,
    clock: Clock,
) -> (SparseSeries, RunoffBalance) {
    simulate_with_forcing(sc, &Forcing::new(rain, evap, clock), clock)
}

/// As [`simulate_subcatchment`], with the gage's forcing already on the step grid.
pub fn simulate_with_forcing(
    sc: &Subcatchment,
    forcing: &Forcing,
    clock: Clock,
) -> (SparseSeries, RunoffBalance) {
    simulate_with_runon(sc, forcing, clock, None)
}

/// As [`simulate_with_forcing`], with `runon` (m³/s per step) from other subcatchments
/// spread evenly over this one's sub-areas.
pub fn simulate_with_runon(
    sc: &Subcatchment,
    forcing: &Forcing,
    clock: Clock,
    runon: Option<&SparseSeries>,
) -> (SparseSeries, RunoffBalance) {
    let mut evap = EvapWindow::default();
    forcing.evap_window(0, clock.steps, &mut evap);
    simulate_in_window(sc, forcing, clock, runon, &evap)
}

/// As [`simulate_with_runon`], with the forcing's evaporation of the whole clock already
/// in `evap` (shared by the subcatchments of a gage).
pub(crate) fn simulate_in_window(
    sc: &Subcatchment,
    forcing: &Forcing,
    clock: Clock,
    runon: Option<&SparseSeries>,
    evap: &EvapWindow,
) -> (SparseSeries, RunoffBalance) {
    let mut run = SubRun::new(sc, forcing, clock, runon);
    let mut out = SparseSeries::default();
    run.run_to(clock.steps, &mut out, evap);
    (out, run.finish())
}

/// One subcatchment's run that can be taken a stretch of steps at a time (for routing
/// that starts before all the runoff is known): [`SubRun::run_to`] then continues exactly
/// where the last call stopped, so the steps come out the same however they are split.
pub struct SubRun<'a> {
    sc: &'a Subcatchment,
    forcing: &'a Forcing,
    clock: Clock,
    runon: Option<crate::series::Cursor<'a>>,
    /// Flow (m/s over each sub-area) one sub-area passed to another last step.
    passed: [f64; 3],
    areas: [SubArea; 3],
    infil: InfilState,
    /// The sewer reach to the outlet; None when it passes flow on unchanged (no lag, no
    /// reservoir: the usual case of a SWMM file).
    reach: Option<Reach>,
    /// Each sub-area's area, m².
    area_m2: [f64; 3],
    bal: RunoffBalance,
    /// Position in the forcing's wet steps.
    w: usize,
    /// The next step to compute (may be past a stretch's end after a dry skip).
    step: usize,
}

impl<'a> SubRun<'a> {
    pub fn new(
        sc: &'a Subcatchment,
        forcing: &'a Forcing,
        clock: Clock,
        runon: Option<&'a SparseSeries>,
    ) -> SubRun<'a> {
        let imperv_area = sc.imperv * sc.area_m2;
        let perv_area = (1.0 - sc.imperv) * sc.area_m2;
        let alpha = |n: f64, area: f64| {
            if n > 0.0 && area > 0.0 {
                sc.width_m / area * sc.slope.max(0.0).sqrt() / n
            } else {
                0.0
            }
        };
        let sub = |frac: f64, ds: f64, alpha: f64| SubArea {
            frac,
            ds,
            alpha,
            depth: 0.0,
            overland: OverlandCache::for_step(alpha, clock.step_s as f64),
        };
        SubRun {
            sc,
            forcing,
            clock,
            runon: runon.map(|s| s.cursor()),
            passed: [0.0; 3],
            areas: [
                sub(sc.imperv * sc.zero_ds, 0.0, alpha(sc.n_imperv, imperv_area)),
                sub(
                    sc.imperv * (1.0 - sc.zero_ds),
                    sc.ds_imperv_m,
                    alpha(sc.n_imperv, imperv_area),
                ),
                sub(1.0 - sc.imperv, sc.ds_perv_m, alpha(sc.n_perv, perv_area)),
            ],
            infil: InfilState::new(&sc.infiltration),
            reach: Some(Reach::new(sc.lag_s, sc.reservoir_s, clock.step_s as f64))
                .filter(|r| !r.passes_through()),
            area_m2: [
                sc.imperv * sc.zero_ds * sc.area_m2,
                sc.imperv * (1.0 - sc.zero_ds) * sc.area_m2,
                (1.0 - sc.imperv) * sc.area_m2,
            ],
            bal: RunoffBalance::default(),
            w: 0,
            step: 0,
        }
    }

    /// The subcatchment this run is of.
    pub fn subcatchment(&self) -> &'a Subcatchment {
        self.sc
    }

    /// The water balance at the end of the run.
    pub fn finish(self) -> RunoffBalance {
        let mut bal = self.bal;
        bal.surface_m3 = self
            .areas
            .iter()
            .map(|a| a.depth * a.frac * self.sc.area_m2)
            .sum();
        bal.in_sewer_m3 = self.reach.as_ref().map_or(0.0, |r| r.held_m3());
        bal
    }

    /// Compute the steps before `end` (at most the clock's), pushing each step's inflow
    /// to the outlet node (m³/s) onto `out`; `evap` holds the forcing's evaporation
    /// depths from the next step to compute through `end` ([`Forcing::evap_window`]).
    pub fn run_to(&mut self, end: usize, out: &mut SparseSeries, evap: &EvapWindow) {
        // The usual subcatchment (no run-on, no sewer reach, runoff of every sub-area to
        // the outlet) has its own copy of the loop without those branches.
        let plain = self.runon.is_none()
            && self.reach.is_none()
            && self.sc.subarea_route == SubareaRoute::Outlet
            && self.passed == [0.0; 3];
        if plain {
            self.run_steps::<true>(end, out, evap);
        } else {
            self.run_steps::<false>(end, out, evap);
        }
    }

    /// [`SubRun::run_to`]; `PLAIN`: no run-on, no reach and nothing passed between the
    /// sub-areas (the same arithmetic, fewer branches).
    fn run_steps<const PLAIN: bool>(
        &mut self,
        end: usize,
        out: &mut SparseSeries,
        evap: &EvapWindow,
    ) {
        let end = end.min(self.clock.steps);
        let (sc, forcing, clock) = (self.sc, self.forcing, self.clock);
        let (mut w, mut step, mut passed) = (self.w, self.step, self.passed);
        let SubRun {
            runon,
            areas,
            infil,
            reach,
            area_m2,
            bal,
            ..
        } = self;
        let dt = clock.step_s as f64;
        let wet = &forcing.wet_steps;
        while step < end {
            // The first wet step at or after this one: its rain, if it is this one.
            // (A dry step's depth is ±0, which the step treats as 0.)
            while w < wet.len() && (wet[w] as usize) < step {
                w += 1;
            }
            let rain_depth = match wet.get(w) {
                Some(&s) if s as usize == step => forcing.wet_rain_m[w],
                _ => 0.0,
            };
            let resting = rain_depth == 0.0
                && areas[2].depth == 0.0
                && areas.iter().all(|a| a.depth <= a.ds)
                && (PLAIN
                    || reach.as_ref().is_none_or(|r| r.is_empty())
                        && runon.is_none()
                        && passed == [0.0; 3]);
            if PLAIN && !resting && rain_depth == 0.0 {
                // After the rain, until the run rests: the same steps with fewer
                // branches (runoff_tail.rs).
                let next_wet = wet.get(w).map_or(usize::MAX, |&s| s as usize);
                let to = end.min(next_wet);
                let tail = tail::Tail {
                    forcing,
                    evap,
                    area_m2,
                    dt,
                    swmm_outflow: sc.swmm_outflow,
                };
                let past = tail.run(areas, infil, bal, step, to, out);
                if past > step {
                    step = past;
                    continue;
                }
            }
            if resting {
                while w < wet.len() && (wet[w] as usize) < step {
                    w += 1;
                }
                let next = wet.get(w).map_or(clock.steps, |&s| s as usize);
                if next > step + 1 {
                    let e = evap.at(&forcing.evap, next) - evap.at(&forcing.evap, step);
                    for a in areas.iter_mut().take(2) {
                        let lost = a.depth.min(e);
                        bal.evaporation_m3 += lost * a.frac * sc.area_m2;
                        a.depth -= lost;
                    }
                    infil.regenerate((next - step) as f64 * dt);
                    step = next;
                    continue;
                }
            }
            let precip = rain_depth / dt;
            let evap_rate = if forcing.evap_dry_only && precip > 0.0 {
                0.0
            } else {
                (evap.at(&forcing.evap, step + 1) - evap.at(&forcing.evap, step)) / dt
            };
            // Without run-on the rate is +0 and the total stays as it is.
            let runon_rate = match runon.as_mut().filter(|_| !PLAIN) {
                Some(c) => {
                    let r = c.get(step) / sc.area_m2;
                    bal.runon_m3 += r * dt * sc.area_m2;
                    r
                }
                None => 0.0,
            };
            let mut sub_released = [0.0f64; 3];
            for (k, a) in areas.iter_mut().enumerate() {
                if a.frac <= 0.0 {
                    continue;
                }
                let area = area_m2[k];
                let inflow = precip + runon_rate + if PLAIN { 0.0 } else { passed[k] };
                let surf_evap = (a.depth / dt).min(evap_rate);
                let infil_rate = if k == 2 {
                    infil.rate(dt, inflow, a.depth)
                } else {
                    0.0
                };
                let (evap_used, infil_used, released) =
                    a.lose_and_flow(inflow, surf_evap, infil_rate, dt, sc.swmm_outflow);
                if let Some(r) = released {
                    sub_released[k] = r * area;
                }
                bal.evaporation_m3 += evap_used * dt * area;
                bal.infiltration_m3 += infil_used * dt * area;
            }
            // What goes to the outlet, and what runs over the other sub-area next step.
            let released_m3 = if PLAIN {
                sub_released.iter().sum()
            } else {
                passed = [0.0; 3];
                match sc.subarea_route {
                    SubareaRoute::Outlet => sub_released.iter().sum(),
                    SubareaRoute::ToPervious { fraction } if areas[2].frac > 0.0 => {
                        let imperv = sub_released[0] + sub_released[1];
                        passed[2] = imperv * fraction / dt / (areas[2].frac * sc.area_m2);
                        imperv * (1.0 - fraction) + sub_released[2]
                    }
                    SubareaRoute::ToImpervious { fraction } if areas[1].frac > 0.0 => {
                        passed[1] = sub_released[2] * fraction / dt / (areas[1].frac * sc.area_m2);
                        sub_released[0] + sub_released[1] + sub_released[2] * (1.0 - fraction)
                    }
                    _ => sub_released.iter().sum(),
                }
            };
            bal.rain_m3 += rain_depth * sc.area_m2;
            bal.runoff_m3 += released_m3;
            let q = match reach.as_mut().filter(|_| !PLAIN) {
                Some(r) => r.step(released_m3 / dt),
                None => released_m3 / dt,
            };
            out.push(step, q);
            step += 1;
        }
        (self.w, self.step, self.passed) = (w, step, passed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::DAY_S;

    #[test]
    fn stepped_rain_and_evaporation_equal_the_direct_values() {
        let rain = crate::rain::RainSeries::from_mm(7_200, 3_600, &[0.0, 2.5, 0.3, 0.0, 7.1]);
        let evap = Evaporation::monthly(
            [1., 2., 3., 4., 5., 6., 7., 6., 5., 4., 3., 2.],
            false,
            0,
            40 * DAY_S,
        );
        for (t0, step) in [
            (0, 60),
            (-600, 300),
            (3_000, 7_200),
            (5 * DAY_S + 17, 3_601),
        ] {
            let n = 2_000;
            let r = rain.cumulative_every(t0, step, n);
            let e = evap.depth_every(t0, step, n);
            for k in 0..n {
                let t = t0 + k as i64 * step;
                assert_eq!(
                    r[k].to_bits(),
                    rain.cumulative_at(t).to_bits(),
                    "rain at {t}"
                );
                assert_eq!(
                    e[k].to_bits(),
                    evap.depth_to(t).to_bits(),
                    "evaporation at {t}"
                );
            }
        }
    }

    #[test]
    fn the_plain_loop_steps_as_the_general_one() {
        // A subcatchment of the usual kind (no run-on, no reach, all sub-areas to the
        // outlet) through a year of rain: both copies of the step loop, to the bit.
        let mut sc = impervious(12.0);
        sc.imperv = 0.6;
        sc.zero_ds = 0.25;
        sc.ds_imperv_m = 0.0015;
        sc.ds_perv_m = 0.005;
        sc.swmm_outflow = true;
        sc.infiltration = Infiltration::Horton {
            f0_m_per_s: 76.2 / 3.6e6,
            fmin_m_per_s: 3.81 / 3.6e6,
            decay_per_s: 4.0 / 3600.0,
            dry_days: 7.0,
            max_m: 0.0,
        };
        let rain = crate::rain::synthetic_hourly(2011, 1, 11);
        let evap = Evaporation::monthly([3.0; 12], false, rain.start_s, rain.end_s());
        let clock = Clock {
            start_s: rain.start_s,
            step_s: 60,
            steps: ((rain.end_s() - rain.start_s) / 60) as usize,
        };
        let forcing = Forcing::new(&rain, &evap, clock);
        let (mut plain, mut general) = (
            SubRun::new(&sc, &forcing, clock, None),
            SubRun::new(&sc, &forcing, clock, None),
        );
        let (mut qp, mut qg) = (SparseSeries::default(), SparseSeries::default());
        // In two stretches, as the streamed runoff takes them.
        let mut evap = EvapWindow::default();
        forcing.evap_window(0, clock.steps, &mut evap);
        for end in [clock.steps / 3, clock.steps] {
            plain.run_steps::<true>(end, &mut qp, &evap);
            general.run_steps::<false>(end, &mut qg, &evap);
        }
        assert!(
            qp.stored_steps() > 10_000,
            "{} steps with runoff",
            qp.stored_steps()
        );
        assert_eq!(qp, qg);
        let (bp, bg) = (plain.finish(), general.finish());
        for (a, b) in [
            (bp.runoff_m3, bg.runoff_m3),
            (bp.infiltration_m3, bg.infiltration_m3),
            (bp.evaporation_m3, bg.evaporation_m3),
            (bp.surface_m3, bg.surface_m3),
        ] {
            assert_eq!(a.to_bits(), b.to_bits());
        }
    }

    #[test]
    fn fast_cube_root_and_rough_power() {
        for &x in &[1e-12, 3.7e-7, 0.001, 0.5, 1.0, 2.0, 27.0, 1e9] {
            let c = cbrt(x);
            assert!((c - f64::cbrt(x)).abs() <= 1e-14 * f64::cbrt(x), "{x}: {c}");
            let p = rough_pow(x, 0.4);
            assert!((p / x.powf(0.4) - 1.0).abs() < 0.07, "{x}: {p}");
        }
        assert_eq!(cbrt(0.0), 0.0);
    }
    use crate::rain::RainSeries;

    fn impervious(area_ha: f64) -> Subcatchment {
        Subcatchment {
            name: "S".into(),
            gage: 0,
            outlet: 0,
            area_m2: area_ha * 1e4,
            imperv: 1.0,
            width_m: 200.0,
            slope: 0.01,
            n_imperv: 0.015,
            n_perv: 0.1,
            ds_imperv_m: 0.0,
            ds_perv_m: 0.0,
            zero_ds: 1.0,
            infiltration: Infiltration::None,
            lag_s: 0.0,
            reservoir_s: 0.0,
            swmm_outflow: false,
            subarea_route: SubareaRoute::Outlet,
            runon_to: None,
        }
    }

    fn clock(hours: i64, step_s: i64) -> Clock {
        Clock {
            start_s: 0,
            step_s,
            steps: (hours * 3600 / step_s) as usize,
        }
    }

    fn no_evap(hours: i64) -> Evaporation {
        Evaporation::monthly([0.0; 12], false, 0, hours * 3600)
    }

    #[test]
    fn steady_rain_reaches_equilibrium_and_conserves_volume() {
        // 10 mm/h for 6 h on 1 ha impervious, then 18 h dry.
        let mut mm = vec![0.0; 24];
        mm[..6].fill(10.0);
        let rain = RainSeries::from_mm(0, 3600, &mm);
        let sc = impervious(1.0);
        let (q, bal) = simulate_subcatchment(&sc, &rain, &no_evap(24), clock(24, 60));
        // At equilibrium outflow equals rain: 10 mm/h × 1 ha = 0.02778 m³/s.
        let mut c = q.cursor();
        let peak = c.get(6 * 60 - 1);
        assert!((peak - 0.1 / 3.6).abs() < 1e-4, "{peak}");
        // Equilibrium depth (i/α)^(3/5): surface holds the rest.
        let runoff = q.integral(60.0);
        assert!((bal.rain_m3 - 600.0).abs() < 1e-6);
        assert!(
            (runoff + bal.surface_m3 - 600.0).abs() < 1e-3,
            "{runoff} {}",
            bal.surface_m3
        );
        assert!((runoff - bal.runoff_m3).abs() < 1e-3);
    }

    #[test]
    fn recession_follows_the_closed_form() {
        // Start from a known ponded depth with no rain: x(t) = (x0^(-2/3) + 2/3·α·t)^(-3/2).
        let alpha = 0.02;
        let x0: f64 = 0.005;
        let x = integrate_overland(x0, 0.0, alpha, 3600.0);
        let exact = (x0.powf(-2.0 / 3.0) + 2.0 / 3.0 * alpha * 3600.0).powf(-1.5);
        assert!((x - exact).abs() < 1e-12);
        // The implicit rising limb against a fine explicit reference.
        let i = 10.0 / 1000.0 / 3600.0;
        let mut xr = 0.0;
        let h = 0.01;
        for _ in 0..(1200.0 / h) as usize {
            xr += h * (i - alpha * f64::powf(xr, 5.0 / 3.0));
        }
        let xt = integrate_overland(0.0, i, alpha, 1200.0);
        assert!((xt - xr).abs() / xr < 5e-3, "{xt} {xr}");
    }

    #[test]
    fn depression_storage_and_evaporation() {
        // 1 mm of rain on an area with 1.5 mm depression storage: no runoff, and the
        // water evaporates at 2.4 mm/day over the following days.
        let mut sc = impervious(1.0);
        sc.zero_ds = 0.0;
        sc.ds_imperv_m = 0.0015;
        let mut mm = vec![0.0; 72];
        mm[0] = 1.0;
        let rain = RainSeries::from_mm(0, 3600, &mm);
        let evap = Evaporation::monthly([2.4; 12], false, 0, 72 * 3600);
        let (q, bal) = simulate_subcatchment(&sc, &rain, &evap, clock(72, 300));
        assert_eq!(q.integral(300.0), 0.0);
        assert!(
            (bal.evaporation_m3 - 10.0).abs() < 1e-6,
            "{}",
            bal.evaporation_m3
        );
        assert!(bal.surface_m3.abs() < 1e-9);
    }

    #[test]
    fn pervious_balance_closes() {
        let mut sc = impervious(5.0);
        sc.imperv = 0.4;
        sc.zero_ds = 0.25;
        sc.ds_imperv_m = 0.0015;
        sc.ds_perv_m = 0.005;
        sc.infiltration = Infiltration::Horton {
            f0_m_per_s: 50.0 / 3.6e6,
            fmin_m_per_s: 5.0 / 3.6e6,
            decay_per_s: 4.0 / 3600.0,
            dry_days: 5.0,
            max_m: 0.0,
        };
        sc.lag_s = 600.0;
        sc.reservoir_s = 900.0;
        let rain = crate::rain::synthetic_hourly(2001, 1, 3);
        let end = rain.end_s();
        let evap = Evaporation::monthly([3.0; 12], false, rain.start_s, end);
        let clock = Clock {
            start_s: rain.start_s,
            step_s: 300,
            steps: ((end - rain.start_s) / 300) as usize,
        };
        let (q, bal) = simulate_subcatchment(&sc, &rain, &evap, clock);
        let out = q.integral(300.0);
        let residual = bal.rain_m3
            - bal.evaporation_m3
            - bal.infiltration_m3
            - out
            - bal.surface_m3
            - bal.in_sewer_m3;
        assert!(
            residual.abs() < 1e-6 * bal.rain_m3,
            "residual {residual} of {}",
            bal.rain_m3
        );
        assert!((bal.rain_m3 - rain.total_mm() / 1000.0 * sc.area_m2).abs() < 1e-3);
        assert!(
            out > 0.2 * bal.rain_m3 && out < 0.6 * bal.rain_m3,
            "{out} {}",
            bal.rain_m3
        );
    }
}
