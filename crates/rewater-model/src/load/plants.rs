//! `[[plant]]`: influent (constant, series or sewershed), effluent quality given or taken from
//! a standard class, energy and sludge rates.

use super::ctx::{finite_nonneg, ProfileFields, Resolver};
use super::MinMass;
use crate::region::{NodeKind, PlantData};
use crate::series::Profile;
use crate::types::Plant;
use rewater_standards::standard::{Bound, Context};
use rewater_standards::Date;

/// Default bypass penalty per m³ (reported in the objective).
pub const DEFAULT_BYPASS_PENALTY_PER_M3: f64 = 100.0;

const KIND: &str = "plant";
const INFLUENT: ProfileFields = [
    "influent_m3_per_day",
    "influent_series",
    "influent_monthly_factors",
    "influent_daily_factors",
];

impl Resolver<'_> {
    pub(super) fn plant(&mut self, p: &Plant) {
        if !finite_nonneg(p.capacity_m3_per_day) {
            self.cx.err(
                KIND,
                &p.id,
                "capacity_m3_per_day",
                format!("{} must be a number ≥ 0", p.capacity_m3_per_day),
            );
        }
        let influent = self.influent(p);
        let built = p.built.as_ref().and_then(|b| match b.parse::<Date>() {
            Ok(d) => Some(d),
            Err(e) => {
                self.cx.err(KIND, &p.id, "built", e.to_string());
                None
            }
        });
        let effluent = self.effluent(p, built);
        for (i, f) in self.factors.iter().enumerate() {
            if effluent[i].is_nan() {
                self.warnings.push(format!("plant {}: no effluent value for tracked factor {} (treated as unknown, never refused)", p.id, f.short_name()));
            }
        }
        let influent_q = self.quality_vec(KIND, &p.id, "influent_mg_per_l", &p.influent_mg_per_l);
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
            district: p.district.clone(),
        };
        if !finite_nonneg(p.energy_kwh_per_m3) || !finite_nonneg(p.sludge_t_ds_per_1e4_m3) {
            self.cx.err(
                KIND,
                &p.id,
                "energy_kwh_per_m3",
                "energy and sludge rates must be ≥ 0",
            );
        }
        self.add(KIND, &p.id, &p.name, p.location, NodeKind::Plant(data));
    }

    /// Daily influent from exactly one of a constant, a series and a sewershed.
    fn influent(&mut self, p: &Plant) -> Profile {
        match (&p.sewershed, p.influent_m3_per_day, &p.influent_series) {
            (Some(s), None, None) => {
                if !finite_nonneg(s.population)
                    || !finite_nonneg(s.l_per_person_day)
                    || !finite_nonneg(s.industrial_m3_per_day)
                {
                    self.cx.err(
                        KIND,
                        &p.id,
                        "sewershed",
                        "population, l_per_person_day and industrial_m3_per_day must be ≥ 0",
                    );
                }
                let c = s.population * s.l_per_person_day / 1000.0 + s.industrial_m3_per_day;
                self.profile(
                    KIND,
                    &p.id,
                    INFLUENT,
                    Some(c),
                    &None,
                    &p.influent_monthly_factors,
                    &p.influent_daily_factors,
                )
            }
            (Some(_), _, _) => {
                self.cx.err(
                    KIND,
                    &p.id,
                    "sewershed",
                    "give only one of influent_m3_per_day, influent_series, sewershed",
                );
                Profile::constant(0.0)
            }
            (None, c, s) => self.profile(
                KIND,
                &p.id,
                INFLUENT,
                c,
                s,
                &p.influent_monthly_factors,
                &p.influent_daily_factors,
            ),
        }
    }

    /// Effluent per tracked factor: given values first, then the standard class's maxima.
    fn effluent(&mut self, p: &Plant, built: Option<Date>) -> Vec<f64> {
        let mut effluent = self.quality_vec(KIND, &p.id, "effluent_mg_per_l", &p.effluent_mg_per_l);
        let Some(spec) = &p.effluent_standard else {
            return effluent;
        };
        match self.standards.resolve(spec) {
            Ok((std, class)) => {
                let ctx = Context {
                    plant_built: built,
                    ..Default::default()
                };
                for (i, f) in self.factors.iter().enumerate() {
                    if !effluent[i].is_nan() {
                        continue;
                    }
                    if let Some(sel) = std.limit_for(class, *f, &ctx) {
                        if let (Bound::Max { value }, Some(u)) = (&sel.limit.bound, sel.limit.unit)
                        {
                            effluent[i] = u
                                .convert(*value, f.info().unit.min_mass())
                                .unwrap_or(*value);
                        }
                    }
                }
            }
            Err(e) => self.cx.err(KIND, &p.id, "effluent_standard", e),
        }
        effluent
    }
}
