//! Overflow statistics (溢流统计): per outlet, per rain event and per year; events per
//! year; percent capture as the US EPA CSO Control Policy (59 FR 18688, 1994) defines it;
//! the rain depth threshold; tank filling and emptying.

use crate::network::{NodeKind, System};
use crate::rain::{RainEvent, RainSeries};
use crate::route::{RoutingBalance, StepView};
use crate::runoff::RunoffBalance;
use crate::time::{format_datetime, year_of};
use serde::Serialize;

/// Flow above which an outlet counts as overflowing for durations, m³/s (0.1 L/s).
const ACTIVE_FLOW: f64 = 1e-4;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub system: String,
    pub start: String,
    pub end: String,
    pub years: f64,
    pub step_s: i64,
    /// The routing method the input asks for, and the one rewater used.
    pub flow_routing: crate::network::FlowRouting,
    pub routed_by: crate::network::FlowRouting,
    pub inter_event_h: f64,
    /// Gage whose record defines the events.
    pub event_gage: String,
    pub rain_mm_per_year: f64,
    pub summary: Summary,
    pub outlets: Vec<OutletReport>,
    pub annual: Vec<YearReport>,
    pub events: Vec<EventReport>,
    pub tanks: Vec<TankReport>,
    pub balance: Balance,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub overflow_m3_per_year: f64,
    pub overflow_hours_per_year: f64,
    pub overflow_events_per_year: f64,
    pub max_overflow_events_in_a_year: usize,
    /// (wet-weather inflow − overflow) / wet-weather inflow, %.
    pub capture_pct: f64,
    pub largest_event_without_overflow_mm: Option<f64>,
    pub smallest_event_with_overflow_mm: Option<f64>,
    pub rain_events: usize,
    pub overflow_events: usize,
    /// Overflow before the first rain event (dry-weather overflow), m³.
    pub unattributed_overflow_m3: f64,
    /// Calendar years wholly inside the run, and the means over them alone (None when
    /// there is none).
    pub whole_years: usize,
    pub whole_year_mean: Option<WholeYearMean>,
}

/// Means over the calendar years wholly inside a run.
#[derive(Debug, Clone, Serialize)]
pub struct WholeYearMean {
    pub overflow_m3: f64,
    pub overflow_events: f64,
    pub overflow_hours: f64,
    pub rain_mm: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutletReport {
    pub name: String,
    pub river: String,
    pub total_m3: f64,
    pub m3_per_year: f64,
    pub hours_per_year: f64,
    pub events_per_year: f64,
    pub annual: Vec<OutletYear>,
    /// Discharge periods: runs of consecutive routing steps with flow > 0 at the outlet.
    pub spells: Vec<Spell>,
}

/// One discharge period of an outlet: consecutive routing steps with flow > 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spell {
    /// Start of the first step and end of the last, wall seconds (as `EventReport::start_s`).
    pub start_s: i64,
    pub end_s: i64,
    pub volume_m3: f64,
    pub peak_m3_per_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutletYear {
    pub year: i32,
    pub volume_m3: f64,
    pub hours: f64,
    pub events: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct YearReport {
    pub year: i32,
    pub rain_mm: f64,
    pub rain_events: usize,
    pub overflow_events: usize,
    pub overflow_m3: f64,
    pub overflow_hours: f64,
    pub wet_weather_m3: f64,
    pub capture_pct: f64,
    /// Fraction of the calendar year inside the run (1: a whole year).
    pub covered: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventReport {
    pub start: String,
    pub end: String,
    #[serde(skip)]
    pub start_s: i64,
    pub depth_mm: f64,
    pub peak_mm_per_h: f64,
    pub duration_h: f64,
    pub overflow_m3: f64,
    pub overflow_hours: f64,
    /// Overflow by outlet, in the order of `outlets`.
    pub outlet_m3: Vec<f64>,
    pub overflowed: bool,
    /// Peak volume of each tank in this event, in the order of `tanks`.
    pub tank_peak_m3: Vec<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TankReport {
    pub name: String,
    pub volume_m3: f64,
    pub events_used: usize,
    pub events_full: usize,
    /// Hours from the end of rain until empty, over events that used the tank.
    pub emptying_h_max: Option<f64>,
    pub emptying_h_mean: Option<f64>,
    /// Events after which the tank was still holding water when the next one began.
    pub not_empty_at_next_event: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct Balance {
    pub runoff: RunoffBalance,
    pub routing: RoutingBalance,
    pub to_treatment_m3: f64,
    pub overflow_m3: f64,
    pub flooding_m3: f64,
    pub routing_continuity_error_pct: f64,
}

/// The gage that defines events: the one serving the largest area.
pub fn event_gage(system: &System) -> usize {
    let mut area = vec![0.0; system.gages.len()];
    for s in &system.subcatchments {
        area[s.gage] += s.area_m2;
    }
    area.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// Collects statistics from each routing step.
pub struct Tally {
    events: Vec<RainEvent>,
    outfalls: Vec<usize>,
    tanks: Vec<(usize, f64)>,
    inter_event_s: i64,
    dt: f64,
    current: Option<usize>,
    // Per event.
    ev_outlet_m3: Vec<Vec<f64>>,
    ev_hours: Vec<f64>,
    ev_wet_m3: Vec<f64>,
    ev_tank_peak: Vec<Vec<f64>>,
    ev_tank_empty_at: Vec<Vec<Option<i64>>>,
    /// Volume in each tank when the event began (water a drain rule leaves behind).
    ev_tank_base: Vec<Vec<f64>>,
    unattributed_m3: f64,
    // Per year, per outlet: (volume, hours).
    year0: i32,
    outlet_year: Vec<Vec<(f64, f64)>>,
    year_hours: Vec<f64>,
    day: i64,
    year: usize,
    /// Tank volumes at the end of the previous step.
    tank_before: Vec<f64>,
    /// Per outlet: its closed spells and the one still running.
    spells: Vec<Vec<Spell>>,
    open_spell: Vec<Option<Spell>>,
}

impl Tally {
    pub fn new(system: &System, rain: &RainSeries) -> Tally {
        let events: Vec<RainEvent> = rain
            .events(system.events.inter_event_s)
            .into_iter()
            .filter(|e| {
                e.end_s > system.clock.start_s && e.start_s < system.clock.time(system.clock.steps)
            })
            .collect();
        let outfalls = system.overflow_outfalls();
        let tanks: Vec<(usize, f64)> = system
            .storages()
            .map(|(i, _)| (i, system.tank_capacity(i)))
            .collect();
        let year0 = year_of(system.clock.start_s);
        let years =
            (year_of(system.clock.time(system.clock.steps) - 1) - year0 + 1).max(1) as usize;
        let ne = events.len();
        Tally {
            inter_event_s: system.events.inter_event_s,
            dt: system.clock.step_s as f64,
            current: None,
            ev_outlet_m3: vec![vec![0.0; outfalls.len()]; ne],
            ev_hours: vec![0.0; ne],
            ev_wet_m3: vec![0.0; ne],
            ev_tank_peak: vec![vec![0.0; tanks.len()]; ne],
            ev_tank_empty_at: vec![vec![None; tanks.len()]; ne],
            ev_tank_base: vec![vec![0.0; tanks.len()]; ne],
            unattributed_m3: 0.0,
            year0,
            outlet_year: vec![vec![(0.0, 0.0); years]; outfalls.len()],
            year_hours: vec![0.0; years],
            day: i64::MIN,
            year: 0,
            tank_before: tanks
                .iter()
                .map(|&(i, _)| match &system.nodes[i].kind {
                    NodeKind::Storage(st) => st.volume_at(st.init_depth_m),
                    _ => 0.0,
                })
                .collect(),
            spells: vec![Vec::new(); outfalls.len()],
            open_spell: vec![None; outfalls.len()],
            events,
            outfalls,
            tanks,
        }
    }

    /// Extends outlet `k`'s running spell by the step at `t` with flow `q` > 0, or starts
    /// one (a skipped quiet stretch in between ends the previous one).
    fn extend_spell(&mut self, k: usize, t: i64, q: f64) {
        let end_s = t + self.dt as i64;
        let vol = q * self.dt;
        match &mut self.open_spell[k] {
            Some(s) if s.end_s == t => {
                s.end_s = end_s;
                s.volume_m3 += vol;
                s.peak_m3_per_s = s.peak_m3_per_s.max(q);
            }
            open => {
                if let Some(done) = open.take() {
                    self.spells[k].push(done);
                }
                *open = Some(Spell {
                    start_s: t,
                    end_s,
                    volume_m3: vol,
                    peak_m3_per_s: q,
                });
            }
        }
    }

    fn close_spell(&mut self, k: usize) {
        if let Some(done) = self.open_spell[k].take() {
            self.spells[k].push(done);
        }
    }

    /// Each event's start and the end of its window, in order (both ascending): the
    /// steps that may not go unobserved.
    pub(crate) fn windows(&self) -> Vec<(i64, i64)> {
        (0..self.events.len())
            .map(|e| (self.events[e].start_s, self.window_end(e)))
            .collect()
    }

    /// The end of event `e`'s window for wet-weather inflow (capture).
    fn window_end(&self, e: usize) -> i64 {
        (self.events[e].end_s + self.inter_event_s)
            .min(self.events.get(e + 1).map_or(i64::MAX, |n| n.start_s))
    }
}

/// A tank's levels for an event that began at volume `base`, of capacity `cap` (m³): above
/// the first it was used; at or below the second, once the event is over, it is empty.
fn tank_levels(base: f64, cap: f64) -> (f64, f64) {
    (base + (cap * 1e-3).max(1.0), base + cap * 1e-3)
}

impl crate::route::Observer for Tally {
    fn observe(&mut self, v: &StepView) {
        self.observe_step(v);
    }

    /// A draining step of a stretch `may_skip` allowed: no event starts in it and
    /// nothing overflows; only the tanks change.
    fn observe_storage(&mut self, _step: usize, time_s: i64, node_volume: &[f64]) {
        for k in 0..self.outfalls.len() {
            self.close_spell(k);
        }
        self.observe_tanks(time_s, node_volume);
    }

    /// What [`Tally::observe_tanks`] does at each step of the run, at once: the volumes
    /// only fall, so a tank's peak can only take the first step's volume, and its
    /// emptying time is the first step that meets the test (found by stepping the
    /// volume as the routing did).
    fn observe_storage_run(&mut self, run: &crate::route::DrainRun, node_volume: &[f64]) {
        let crate::route::DrainRun {
            step,
            steps,
            clock,
            draining,
        } = *run;
        if steps == 0 {
            return;
        }
        for k in 0..self.outfalls.len() {
            self.close_spell(k);
        }
        if let Some(e) = self.current {
            let end_s = self.events[e].end_s;
            let dt_s = self.dt as i64;
            for (k, &(node, cap)) in self.tanks.iter().enumerate() {
                let d = draining
                    .iter()
                    .find(|d| d.0 == node)
                    .map(|&(_, v0, take)| (v0, take));
                let vol_at = |v: f64| d.map_or(node_volume[node], |(_, take)| (v - take).max(0.0));
                let mut vol = vol_at(d.map_or(0.0, |(v0, _)| v0));
                let (used_level, empty_level) = tank_levels(self.ev_tank_base[e][k], cap);
                let peak = &mut self.ev_tank_peak[e][k];
                *peak = peak.max(vol);
                if *peak <= used_level || self.ev_tank_empty_at[e][k].is_some() {
                    continue;
                }
                for j in 0..steps {
                    let t = clock.time(step + j);
                    if t + dt_s >= end_s && vol <= empty_level {
                        self.ev_tank_empty_at[e][k] = Some(t + dt_s);
                        break;
                    }
                    vol = vol_at(vol);
                }
            }
        }
        for (k, &(node, _)) in self.tanks.iter().enumerate() {
            self.tank_before[k] = node_volume[node];
        }
    }

    /// Outside every event's window nothing that is quiet needs counting.
    fn may_skip(&self, t0_s: i64, t1_s: i64) -> bool {
        let first = self.current.unwrap_or(0);
        !(first..self.events.len())
            .take_while(|&e| self.events[e].start_s < t1_s)
            .any(|e| self.window_end(e) > t0_s)
    }
}

impl Tally {
    pub fn observe_step(&mut self, v: &StepView) {
        let t = v.time_s;
        let next = self.current.map_or(0, |c| c + 1);
        if next < self.events.len() && self.events[next].start_s <= t {
            self.current = Some(next);
            self.ev_tank_base[next].copy_from_slice(&self.tank_before);
        }
        let day = t.div_euclid(86_400);
        if day != self.day {
            self.day = day;
            self.year = ((year_of(t) - self.year0).max(0) as usize).min(self.year_hours.len() - 1);
        }
        let y = self.year;
        let mut any = false;
        let mut total = 0.0;
        for k in 0..self.outfalls.len() {
            let q = v.node_inflow[self.outfalls[k]];
            if q <= 0.0 {
                self.close_spell(k);
                continue;
            }
            self.extend_spell(k, t, q);
            let vol = q * self.dt;
            total += vol;
            self.outlet_year[k][y].0 += vol;
            if q > ACTIVE_FLOW {
                self.outlet_year[k][y].1 += self.dt / 3600.0;
                any = true;
            }
            if let Some(e) = self.current {
                self.ev_outlet_m3[e][k] += vol;
            }
        }
        if any {
            self.year_hours[y] += self.dt / 3600.0;
        }
        match self.current {
            None => self.unattributed_m3 += total,
            Some(e) => {
                if any {
                    self.ev_hours[e] += self.dt / 3600.0;
                }
                if t < self.window_end(e) {
                    self.ev_wet_m3[e] += v.system_inflow * self.dt;
                }
            }
        }
        self.observe_tanks(t, v.node_volume);
    }

    /// The tanks' part of a step: peaks, emptying times, volumes at the end of the step.
    fn observe_tanks(&mut self, t: i64, node_volume: &[f64]) {
        if let Some(e) = self.current {
            {
                let ev = &self.events[e];
                for (k, &(node, cap)) in self.tanks.iter().enumerate() {
                    let vol = node_volume[node];
                    let (used_level, empty_level) = tank_levels(self.ev_tank_base[e][k], cap);
                    let peak = &mut self.ev_tank_peak[e][k];
                    *peak = peak.max(vol);
                    if *peak > used_level
                        && t + self.dt as i64 >= ev.end_s
                        && vol <= empty_level
                        && self.ev_tank_empty_at[e][k].is_none()
                    {
                        self.ev_tank_empty_at[e][k] = Some(t + self.dt as i64);
                    }
                }
            }
        }
        for (k, &(node, _)) in self.tanks.iter().enumerate() {
            self.tank_before[k] = node_volume[node];
        }
    }

    /// Use, fullness and emptying time of each tank over the events.
    fn tank_reports(&self, tank_names: &[String]) -> Vec<TankReport> {
        self.tanks
            .iter()
            .enumerate()
            .map(|(k, &(_, cap))| {
                let mut used = 0;
                let mut full = 0;
                let mut not_empty = 0;
                let mut times = Vec::new();
                for (e, ev) in self.events.iter().enumerate() {
                    let peak = self.ev_tank_peak[e][k];
                    if peak <= tank_levels(self.ev_tank_base[e][k], cap).0 {
                        continue;
                    }
                    used += 1;
                    if peak >= cap * 0.999 {
                        full += 1;
                    }
                    match self.ev_tank_empty_at[e][k] {
                        Some(at) => times.push((at - ev.end_s).max(0) as f64 / 3600.0),
                        None => not_empty += 1,
                    }
                }
                TankReport {
                    name: tank_names[k].clone(),
                    volume_m3: cap,
                    events_used: used,
                    events_full: full,
                    emptying_h_max: times.iter().copied().reduce(f64::max),
                    emptying_h_mean: (!times.is_empty())
                        .then(|| times.iter().sum::<f64>() / times.len() as f64),
                    not_empty_at_next_event: not_empty,
                }
            })
            .collect()
    }

    pub fn finish(
        mut self,
        system: &System,
        rain: &RainSeries,
        gage_name: &str,
        runoff: RunoffBalance,
        routing: RoutingBalance,
    ) -> Report {
        let clock = system.clock;
        let end_s = clock.time(clock.steps);
        for k in 0..self.outfalls.len() {
            self.close_spell(k);
        }
        let mut spells = std::mem::take(&mut self.spells);
        let years = crate::time::calendar_years(clock.start_s, end_s);
        let min_m3 = system.events.min_overflow_m3;
        let n_years = self.year_hours.len();
        let tank_names: Vec<String> = self
            .tanks
            .iter()
            .map(|&(i, _)| system.nodes[i].name.clone())
            .collect();
        let events: Vec<EventReport> = self
            .events
            .iter()
            .enumerate()
            .map(|(e, ev)| {
                let total: f64 = self.ev_outlet_m3[e].iter().sum();
                EventReport {
                    start: format_datetime(ev.start_s),
                    end: format_datetime(ev.end_s),
                    start_s: ev.start_s,
                    depth_mm: ev.depth_mm,
                    peak_mm_per_h: ev.peak_mm_per_h,
                    duration_h: (ev.end_s - ev.start_s) as f64 / 3600.0,
                    overflow_m3: total,
                    overflow_hours: self.ev_hours[e],
                    outlet_m3: self.ev_outlet_m3[e].clone(),
                    overflowed: total >= min_m3,
                    tank_peak_m3: self.ev_tank_peak[e].clone(),
                }
            })
            .collect();
        let year_index = |t: i64| ((year_of(t) - self.year0).max(0) as usize).min(n_years - 1);
        let mut annual: Vec<YearReport> = (0..n_years)
            .map(|k| YearReport {
                year: self.year0 + k as i32,
                rain_mm: 0.0,
                rain_events: 0,
                overflow_events: 0,
                overflow_m3: self.outlet_year.iter().map(|o| o[k].0).sum(),
                overflow_hours: self.year_hours[k],
                wet_weather_m3: 0.0,
                capture_pct: 100.0,
                covered: crate::time::year_covered(self.year0 + k as i32, clock.start_s, end_s),
            })
            .collect();
        for (i, v) in rain.depth_m.iter().enumerate() {
            let t = rain.start_s + i as i64 * rain.interval_s;
            if *v > 0.0 && t >= clock.start_s && t < end_s {
                annual[year_index(t)].rain_mm += v * 1000.0;
            }
        }
        let mut outlet_events = vec![vec![0usize; n_years]; self.outfalls.len()];
        for (e, ev) in events.iter().enumerate() {
            let y = year_index(ev.start_s);
            annual[y].rain_events += 1;
            annual[y].wet_weather_m3 += self.ev_wet_m3[e];
            if ev.overflowed {
                annual[y].overflow_events += 1;
            }
            for (k, v) in ev.outlet_m3.iter().enumerate() {
                if *v >= min_m3 {
                    outlet_events[k][y] += 1;
                }
            }
        }
        for y in &mut annual {
            if y.wet_weather_m3 > 0.0 {
                y.capture_pct = 100.0 * (1.0 - y.overflow_m3 / y.wet_weather_m3);
            }
        }
        let outlets: Vec<OutletReport> = self
            .outfalls
            .iter()
            .enumerate()
            .map(|(k, &o)| {
                let river = match &system.nodes[o].kind {
                    NodeKind::Outfall { river: Some(r) } => r.clone(),
                    _ => String::new(),
                };
                let total: f64 = self.outlet_year[k].iter().map(|y| y.0).sum();
                let hours: f64 = self.outlet_year[k].iter().map(|y| y.1).sum();
                OutletReport {
                    name: system.nodes[o].name.clone(),
                    river,
                    total_m3: total,
                    m3_per_year: total / years,
                    hours_per_year: hours / years,
                    events_per_year: outlet_events[k].iter().sum::<usize>() as f64 / years,
                    annual: (0..n_years)
                        .map(|y| OutletYear {
                            year: self.year0 + y as i32,
                            volume_m3: self.outlet_year[k][y].0,
                            hours: self.outlet_year[k][y].1,
                            events: outlet_events[k][y],
                        })
                        .collect(),
                    spells: std::mem::take(&mut spells[k]),
                }
            })
            .collect();
        let tanks = self.tank_reports(&tank_names);
        let overflow_total: f64 = outlets.iter().map(|o| o.total_m3).sum();
        let wet_total: f64 = self.ev_wet_m3.iter().sum();
        let overflow_events = events.iter().filter(|e| e.overflowed).count();
        let whole: Vec<&YearReport> = annual.iter().filter(|y| y.covered >= 1.0 - 1e-12).collect();
        let summary = Summary {
            overflow_m3_per_year: overflow_total / years,
            overflow_hours_per_year: self.year_hours.iter().sum::<f64>() / years,
            overflow_events_per_year: overflow_events as f64 / years,
            max_overflow_events_in_a_year: annual
                .iter()
                .map(|y| y.overflow_events)
                .max()
                .unwrap_or(0),
            capture_pct: if wet_total > 0.0 {
                100.0 * (1.0 - overflow_total / wet_total)
            } else {
                100.0
            },
            largest_event_without_overflow_mm: events
                .iter()
                .filter(|e| !e.overflowed)
                .map(|e| e.depth_mm)
                .reduce(f64::max),
            smallest_event_with_overflow_mm: events
                .iter()
                .filter(|e| e.overflowed)
                .map(|e| e.depth_mm)
                .reduce(f64::min),
            rain_events: events.len(),
            overflow_events,
            unattributed_overflow_m3: self.unattributed_m3,
            whole_years: whole.len(),
            whole_year_mean: (!whole.is_empty()).then(|| {
                let n = whole.len() as f64;
                let mean =
                    |f: &dyn Fn(&YearReport) -> f64| whole.iter().map(|y| f(y)).sum::<f64>() / n;
                WholeYearMean {
                    overflow_m3: mean(&|y| y.overflow_m3),
                    overflow_events: mean(&|y| y.overflow_events as f64),
                    overflow_hours: mean(&|y| y.overflow_hours),
                    rain_mm: mean(&|y| y.rain_mm),
                }
            }),
        };
        let overflow_nodes = &self.outfalls;
        let to_treatment: f64 = system
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| matches!(n.kind, NodeKind::Outfall { river: None }))
            .map(|(i, _)| routing.outfall_m3[i])
            .sum();
        let flooding: f64 = routing.flooding_m3.iter().sum();
        let overflow_m3: f64 = overflow_nodes.iter().map(|&i| routing.outfall_m3[i]).sum();
        Report {
            system: system.name.clone(),
            start: format_datetime(clock.start_s),
            end: format_datetime(end_s),
            years,
            step_s: clock.step_s,
            flow_routing: system.flow_routing,
            routed_by: system.routed_by,
            inter_event_h: system.events.inter_event_s as f64 / 3600.0,
            event_gage: gage_name.to_string(),
            rain_mm_per_year: annual.iter().map(|y| y.rain_mm).sum::<f64>() / years,
            summary,
            outlets,
            annual,
            events,
            tanks,
            balance: Balance {
                runoff,
                routing_continuity_error_pct: routing.continuity_error() * 100.0,
                routing,
                to_treatment_m3: to_treatment,
                overflow_m3,
                flooding_m3: flooding,
            },
            notes: system.notes.clone(),
        }
    }
}

/// Simulate a system with runoff already computed (tank sizing re-routes it so), its
/// independent subnetworks in parallel on all cores ([`crate::subnetworks`]).
pub fn simulate_with(system: &System, runoff: &crate::route::Runoff) -> Report {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let g = event_gage(system);
    let rain = &system.gages[g].rain;
    let mut tally = Tally::new(system, rain);
    let routing = crate::subnetworks::route_into(system, runoff, &mut tally, threads);
    tally.finish(system, rain, &system.gages[g].name, runoff.balance, routing)
}

/// As [`simulate_with`]; `skip_quiet = false` routes every quiet dry-weather step too
/// (the results are the same; this is how that is checked).
pub fn simulate_routed(system: &System, runoff: &crate::route::Runoff, skip_quiet: bool) -> Report {
    let g = event_gage(system);
    let rain = &system.gages[g].rain;
    let mut tally = Tally::new(system, rain);
    let routing = crate::route::route_with(system, runoff, &mut tally, skip_quiet);
    tally.finish(system, rain, &system.gages[g].name, runoff.balance, routing)
}

/// Simulate a system: runoff, routing and statistics, on all cores (the routing runs
/// while the runoff is computed where it can; [`simulate_on`]).
pub fn simulate(system: &System) -> Report {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    simulate_on(system, if threads > 1 { threads } else { 0 })
}

/// As [`simulate`] with `workers` runoff threads beside the routing (0: the runoff first,
/// on one thread, then the routing). The report is the same to the bit for any number.
pub fn simulate_on(system: &System, workers: usize) -> Report {
    simulate_threads(system, workers, workers)
}

/// As [`simulate_on`] with independent subnetworks routed on up to `routing_threads`
/// threads (0 or 1: the system as one network; [`crate::subnetworks`]).
pub fn simulate_threads(system: &System, workers: usize, routing_threads: usize) -> Report {
    let g = event_gage(system);
    let rain = &system.gages[g].rain;
    let route = |runoff: &crate::route::Runoff| {
        let mut tally = Tally::new(system, rain);
        let routing = crate::subnetworks::route_into(system, runoff, &mut tally, routing_threads);
        (tally, routing)
    };
    let (tally, routing, balance) =
        match crate::stream::with_streamed_runoff(system, workers, |r| route(r)) {
            Some(((tally, routing), balance)) => (tally, routing, balance),
            None => {
                let runoff = crate::route::compute_runoff_on(system, workers.max(1));
                let (tally, routing) = route(&runoff);
                (tally, routing, runoff.balance)
            }
        };
    tally.finish(system, rain, &system.gages[g].name, balance, routing)
}
