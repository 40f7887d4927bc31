//! Plausibility checks: values that are valid but look like a unit mistake (a capacity in
//! 10⁴ m³/d against an influent in m³/d, µg/L typed as mg/L, hectares typed as m²). They warn,
//! naming the item and the field, and do not stop the model. Thresholds and texts:
//! `data/findings.toml`.

use crate::findings::{self, num, Finding};
use crate::region::{Node, NodeKind};
use crate::types::{Model, QualityMap};
use rewater_standards::Date;

/// The findings of every check, in file order (plants, wetlands, ponds).
pub(super) fn check(model: &Model, nodes: &[Node], start: Date, days: usize) -> Vec<Finding> {
    let Some(limits) = findings::limits() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    // Each day's month once, not once per plant (a date's month is a civil-date conversion).
    let months: Vec<u32> = (0..days)
        .map(|d| start.add_days(d as i32).month())
        .collect();
    for node in nodes {
        let NodeKind::Plant(p) = &node.kind else {
            continue;
        };
        let item = format!("plant {}", node.id);
        let mean = mean_influent(&p.influent_m3_per_day, &months);
        let cap = p.capacity_m3_per_day;
        let values = |ratio: f64| {
            vec![
                ("capacity", num(cap)),
                ("influent", num(mean)),
                ("ratio", num(ratio)),
            ]
        };
        if mean > 0.0 && mean > limits.capacity_ratio * cap {
            let ratio = if cap > 0.0 { mean / cap } else { f64::INFINITY };
            out.push(findings::finding(
                "capacity_far_below_influent",
                &item,
                "capacity_m3_per_day",
                &values(ratio),
            ));
        } else if mean > 0.0 && cap > limits.capacity_above_ratio * mean {
            out.push(findings::finding(
                "capacity_far_above_influent",
                &item,
                "capacity_m3_per_day",
                &values(cap / mean),
            ));
        }
    }
    for p in &model.plants {
        let item = format!("plant {}", p.id);
        concentrations(
            &mut out,
            &item,
            "effluent_mg_per_l",
            &p.effluent_mg_per_l,
            1.0,
            "plant effluent",
            "出水",
        );
        concentrations(
            &mut out,
            &item,
            "influent_mg_per_l",
            &p.influent_mg_per_l,
            limits.influent_factor,
            "plant influent",
            "进水",
        );
    }
    for w in &model.wetlands {
        if w.area_m2 > 0.0 && w.area_m2 < limits.wetland_min_area_m2 {
            out.push(findings::finding(
                "area_too_small",
                &format!("wetland {}", w.id),
                "area_m2",
                &[
                    ("area", num(w.area_m2)),
                    ("kind", "treatment wetland".into()),
                    ("kind_zh", "人工湿地".into()),
                    ("min", num(limits.wetland_min_area_m2)),
                ],
            ));
        }
    }
    for p in &model.ponds {
        let item = format!("pond {}", p.id);
        if p.surface_area_m2 > 0.0 && p.surface_area_m2 < limits.pond_min_area_m2 {
            out.push(findings::finding(
                "area_too_small",
                &item,
                "surface_area_m2",
                &[
                    ("area", num(p.surface_area_m2)),
                    ("kind", "storage pond".into()),
                    ("kind_zh", "调蓄塘".into()),
                    ("min", num(limits.pond_min_area_m2)),
                ],
            ));
        } else if p.surface_area_m2 > 0.0
            && p.capacity_m3 / p.surface_area_m2 > limits.pond_max_depth_m
        {
            out.push(findings::finding(
                "pond_too_deep",
                &item,
                "surface_area_m2",
                &[
                    ("capacity", num(p.capacity_m3)),
                    ("area", num(p.surface_area_m2)),
                    ("depth", num(p.capacity_m3 / p.surface_area_m2)),
                ],
            ));
        }
        concentrations(
            &mut out,
            &item,
            "initial_mg_per_l",
            &p.initial_mg_per_l,
            1.0,
            "stored reclaimed water",
            "调蓄再生水",
        );
    }
    out
}

/// Mean daily influent over the horizon.
fn mean_influent(profile: &crate::series::Profile, months: &[u32]) -> f64 {
    if months.is_empty() {
        return 0.0;
    }
    let total: f64 = months
        .iter()
        .enumerate()
        .map(|(d, &month)| profile.at(d, month))
        .sum();
    total / months.len() as f64
}

/// Concentrations above the plausible maximum of their factor (× `factor`).
fn concentrations(
    out: &mut Vec<Finding>,
    item: &str,
    field: &str,
    values: &QualityMap,
    factor: f64,
    what: &str,
    what_zh: &str,
) {
    for (name, &v) in values {
        let short = rewater_standards::Factor::parse(name)
            .map(|f| f.short_name().to_string())
            .unwrap_or_else(|_| name.clone());
        let Some(max) = findings::effluent_max_mg_per_l(&short) else {
            continue;
        };
        let max = max * factor;
        if v.is_finite() && v > max {
            out.push(findings::finding(
                "concentration_implausible",
                item,
                &format!("{field}.{name}"),
                &[
                    ("value", num(v)),
                    ("factor", short.clone()),
                    ("max", num(max)),
                    ("what", what.into()),
                    ("what_zh", what_zh.into()),
                ],
            ));
        }
    }
}
