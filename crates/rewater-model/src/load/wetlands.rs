//! `[[wetland]]`: area and hydraulic loading, water temperature, P-k-C* parameters per factor
//! (given or the published defaults).

use super::ctx::{finite_nonneg, Resolver};
use crate::region::{NodeKind, WetlandData};
use crate::series::Profile;
use crate::types::{Pkc, Wetland, WetlandType};
use rewater_standards::Factor;

const KIND: &str = "wetland";

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

impl Resolver<'_> {
    pub(super) fn wetland(&mut self, w: &Wetland) {
        if !(w.area_m2.is_finite() && w.area_m2 > 0.0) {
            self.cx
                .err(KIND, &w.id, "area_m2", format!("{} must be > 0", w.area_m2));
        }
        if !(w.max_hydraulic_loading_m_per_day.is_finite()
            && w.max_hydraulic_loading_m_per_day > 0.0)
        {
            self.cx.err(
                KIND,
                &w.id,
                "max_hydraulic_loading_m_per_day",
                format!("{} must be > 0", w.max_hydraulic_loading_m_per_day),
            );
        }
        let temperature = self.temperature(w);
        let pkc = self.pkc(w);
        let data = WetlandData {
            wetland_type: w.wetland_type,
            area_m2: w.area_m2,
            max_inflow_m3_per_day: w.area_m2 * w.max_hydraulic_loading_m_per_day,
            temperature_c: temperature,
            pkc,
        };
        self.add(KIND, &w.id, &w.name, w.location, NodeKind::Wetland(data));
    }

    /// Water temperature, °C: at most one of a constant, twelve monthly values and a series
    /// (20 °C, the rate constants' reference, if none).
    fn temperature(&mut self, w: &Wetland) -> Profile {
        match (
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
            (None, None, Some(s)) => self
                .series(KIND, &w.id, "temperature_series", s)
                .unwrap_or_else(|| Profile::constant(20.0)),
            (None, None, None) => Profile::constant(20.0),
            _ => {
                self.cx.err(KIND, &w.id, "temperature_c", "give at most one of temperature_c, temperature_monthly_c (twelve values), temperature_series");
                Profile::constant(20.0)
            }
        }
    }

    /// P-k-C* parameters per tracked factor: the defaults, overridden by the model's.
    fn pkc(&mut self, w: &Wetland) -> Vec<Option<Pkc>> {
        let mut pkc: Vec<Option<Pkc>> = self
            .factors
            .iter()
            .map(|f| default_pkc(w.wetland_type, *f))
            .collect();
        for (name, par) in &w.pkc {
            match self.factor_index(name) {
                Ok(i) => {
                    let nonneg = [par.k_m_per_yr, par.c_star_mg_per_l]
                        .iter()
                        .all(|x| finite_nonneg(*x));
                    let positive = [par.theta, par.p].iter().all(|x| x.is_finite() && *x > 0.0);
                    if !(nonneg && positive) {
                        self.cx.err(
                            KIND,
                            &w.id,
                            &format!("pkc.{name}"),
                            "k_m_per_yr and c_star_mg_per_l must be ≥ 0, theta and p > 0",
                        );
                    }
                    pkc[i] = Some(*par);
                }
                Err(e) => self.cx.err(KIND, &w.id, "pkc", e),
            }
        }
        for (i, f) in self.factors.iter().enumerate() {
            if pkc[i].is_none() {
                self.warnings.push(format!(
                    "wetland {}: no P-k-C* parameters for {} ({:?}); it passes unchanged",
                    w.id,
                    f.short_name(),
                    w.wetland_type
                ));
            }
        }
        pkc
    }
}
