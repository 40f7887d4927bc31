//! `[[user]]`: daily demand, priority and benefit, and the quality requirement taken from the
//! user's standard class (by default the one its category names).

use super::ctx::{ProfileFields, Resolver};
use super::MinMass;
use crate::region::{NodeKind, QualityRequirement, UserData};
use crate::types::User;
use rewater_standards::standard::{Bound, Context, SamplingPoint};

const KIND: &str = "user";
const DEMAND: ProfileFields = [
    "demand_m3_per_day",
    "demand_series",
    "demand_monthly_factors",
    "demand_daily_factors",
];

/// Default benefit per m³ for a priority: 1000 / priority (priority 1 → 1000, 2 → 500 …).
pub fn default_benefit(priority: u32) -> f64 {
    1000.0 / priority.max(1) as f64
}

impl Resolver<'_> {
    pub(super) fn user(&mut self, u: &User) {
        let demand = self.profile(
            KIND,
            &u.id,
            DEMAND,
            u.demand_m3_per_day,
            &u.demand_series,
            &u.demand_monthly_factors,
            &u.demand_daily_factors,
        );
        if u.priority == 0 {
            self.cx.err(
                KIND,
                &u.id,
                "priority",
                "must be 1 or more (1 is served first)",
            );
        }
        let requirement = self.requirement(u);
        let benefit = u
            .benefit_per_m3
            .unwrap_or_else(|| default_benefit(u.priority));
        if !benefit.is_finite() {
            self.cx
                .err(KIND, &u.id, "benefit_per_m3", "must be a finite number");
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
        self.add(KIND, &u.id, &u.name, u.location, NodeKind::User(data));
    }

    /// Bounds per tracked factor from the user's standard class, measured at the outlet;
    /// `none` means the user takes any water.
    fn requirement(&mut self, u: &User) -> Option<QualityRequirement> {
        let spec = u
            .standard
            .clone()
            .unwrap_or_else(|| u.category.default_standard().to_string());
        if spec.eq_ignore_ascii_case("none") {
            return None;
        }
        let (std, class) = match self.standards.resolve(&spec) {
            Ok(x) => x,
            Err(e) => {
                self.cx.err(KIND, &u.id, "standard", e);
                return None;
            }
        };
        let ctx = Context {
            sampling_point: Some(SamplingPoint::Outlet),
            ..Default::default()
        };
        let mut bounds = Vec::new();
        for (i, f) in self.factors.iter().enumerate() {
            let Some(sel) = std.limit_for(class, *f, &ctx) else {
                continue;
            };
            let Some(lu) = sel.limit.unit else { continue };
            let conv = |v: f64| lu.convert(v, f.info().unit.min_mass()).unwrap_or(v);
            match sel.limit.bound {
                Bound::Max { value } => bounds.push((i, f64::NEG_INFINITY, conv(value))),
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
}
