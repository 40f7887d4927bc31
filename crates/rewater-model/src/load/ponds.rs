//! `[[pond]]`: storage volumes, evaporation and seepage, first-order decay per factor.

use super::ctx::{finite_nonneg, Resolver};
use crate::region::{NodeKind, PondData};
use crate::types::Pond;

/// Default value of water kept in a pond, per m³: below every user benefit up to priority 100,
/// above spilling to a river (cost 0).
pub const DEFAULT_POND_VALUE_PER_M3: f64 = 10.0;

const KIND: &str = "pond";

impl Resolver<'_> {
    pub(super) fn pond(&mut self, p: &Pond) {
        if !(p.capacity_m3.is_finite() && p.capacity_m3 > 0.0) {
            self.cx.err(
                KIND,
                &p.id,
                "capacity_m3",
                format!("{} must be > 0", p.capacity_m3),
            );
        }
        for (f, v) in [
            ("min_volume_m3", p.min_volume_m3),
            ("initial_volume_m3", p.initial_volume_m3),
        ] {
            if !(finite_nonneg(v) && v <= p.capacity_m3) {
                self.cx
                    .err(KIND, &p.id, f, "must be between 0 and capacity_m3");
            }
        }
        for (f, v) in [
            ("surface_area_m2", p.surface_area_m2),
            ("evaporation_mm_per_day", p.evaporation_mm_per_day),
            ("seepage_m3_per_day", p.seepage_m3_per_day),
        ] {
            if !finite_nonneg(v) {
                self.cx.err(KIND, &p.id, f, format!("{v} must be ≥ 0"));
            }
        }
        let mut decay = vec![0.0; self.factors.len()];
        for (name, r) in &p.decay_per_day {
            match self.factor_index(name) {
                Ok(i) if finite_nonneg(*r) => decay[i] = *r,
                Ok(_) => self
                    .cx
                    .err(KIND, &p.id, &format!("decay_per_day.{name}"), "must be ≥ 0"),
                Err(e) => self.cx.err(KIND, &p.id, "decay_per_day", e),
            }
        }
        let initial = self.quality_vec(KIND, &p.id, "initial_mg_per_l", &p.initial_mg_per_l);
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
        self.add(KIND, &p.id, &p.name, p.location, NodeKind::Pond(data));
    }
}
