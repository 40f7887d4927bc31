//! Monthly values read from the monitoring store (rewater-store, no PostgreSQL client here):
//! boundary sections' monthly means for compensation, plants' monthly volume and compliance
//! for pay-for-performance fees. A month's mean is the mean of the days' means the store keeps
//! (a day counts once, however many readings it had); a month without a day is "not measured".

use crate::compensation::{Section, Values};
use crate::fees::PlantMonth;
use crate::MoneyError;
use rewater_standards::{Factor, Standards};
use rewater_store::{Period, Store};
use std::collections::BTreeMap;

fn month_bounds(year: i32, month: u32) -> Option<(i64, i64)> {
    let a = rewater_time::Date::from_ymd(year, month, 1)?;
    let b = if month == 12 {
        rewater_time::Date::from_ymd(year + 1, 1, 1)?
    } else {
        rewater_time::Date::from_ymd(year, month + 1, 1)?
    };
    Some((a.wall_seconds(), b.wall_seconds()))
}

fn err(e: impl std::fmt::Display) -> MoneyError {
    MoneyError::Store(e.to_string())
}

/// Daily means of a site's factor in `[from, to)` from every data logger of the site.
fn day_means(
    store: &mut dyn Store,
    site: &str,
    factor: Factor,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, f64)>, MoneyError> {
    let mut out = Vec::new();
    for d in store
        .devices()
        .map_err(err)?
        .into_iter()
        .filter(|d| d.site_id == site)
    {
        for p in store
            .aggregates(&d.mn, factor.code(), Period::Day, from, to)
            .map_err(err)?
        {
            out.push((p.t, p.mean));
        }
    }
    Ok(out)
}

/// The monthly means of `factors` at the sections' sites in `year`.
pub fn monthly_means(
    store: &mut dyn Store,
    sections: &[Section],
    factors: &[Factor],
    year: i32,
) -> Result<Values, MoneyError> {
    let mut out = Values::new();
    for s in sections {
        let Some(site) = &s.site else { continue };
        for month in 1..=12 {
            let Some((a, b)) = month_bounds(year, month) else {
                continue;
            };
            for &f in factors {
                let days = day_means(store, site, f, a, b)?;
                if days.is_empty() {
                    continue;
                }
                let mean = days.iter().map(|(_, v)| v).sum::<f64>() / days.len() as f64;
                out.entry((s.id.clone(), month))
                    .or_default()
                    .insert(f, mean);
            }
        }
    }
    Ok(out)
}

/// Entered values over the store's (entered values win).
pub fn overlay(store_values: Values, entered: &Values) -> Values {
    let mut out = store_values;
    for (k, m) in entered {
        out.entry(k.clone())
            .or_default()
            .extend(m.iter().map(|(f, v)| (*f, *v)));
    }
    out
}

/// A plant's months from the store: treated volume from the outlet site's flow (w00000,
/// L/s: a day's mean × 86.4 m³), compliance as one evaluation per day and factor its
/// standard limits (the daily mean judged against the limit of that day, as the indicators
/// count it), and the monthly means of COD, NH3-N, TP and TN at the inlet and outlet sites.
pub fn plant_months(
    store: &mut dyn Store,
    standards: &Standards,
    plant: &str,
    outlet_site: &str,
    inlet_site: Option<&str>,
    year: i32,
) -> Result<Vec<PlantMonth>, MoneyError> {
    let site = store
        .sites()
        .map_err(err)?
        .into_iter()
        .find(|s| s.id == outlet_site)
        .ok_or_else(|| MoneyError::Store(format!("no site '{outlet_site}'")))?;
    let spec = site.standards().first().map(|s| s.to_string());
    let resolved = spec.as_deref().and_then(|s| standards.resolve(s).ok());
    let flow = Factor::parse("w00000").map_err(err)?;
    let quality: Vec<Factor> = ["cod", "nh3n", "tp", "tn"]
        .iter()
        .filter_map(|f| Factor::parse(f).ok())
        .collect();
    let mut out = Vec::new();
    for month in 1..=12 {
        let Some((a, b)) = month_bounds(year, month) else {
            continue;
        };
        let treated_m3: f64 = day_means(store, outlet_site, flow, a, b)?
            .iter()
            .map(|(_, v)| v * 86.4)
            .sum();
        let (mut evaluated, mut compliant) = (0u64, 0u64);
        if let Some((std, class)) = resolved {
            for f in std.factors() {
                for (t, mean) in day_means(store, outlet_site, f, a, b)? {
                    let ctx = rewater_standards::Context {
                        date: Some(rewater_time::Date::from_wall_seconds(t)),
                        ..Default::default()
                    };
                    let Some(sel) = std.limit_for(class, f, &ctx) else {
                        continue;
                    };
                    if let Ok(Some(v)) =
                        rewater_standards::evaluate::judge(sel.limit, mean, f.info().unit)
                    {
                        evaluated += 1;
                        compliant += u64::from(v.meets);
                    }
                }
            }
        }
        let mut q = BTreeMap::new();
        if let Some(inlet) = inlet_site {
            for &f in &quality {
                let i = day_means(store, inlet, f, a, b)?;
                let o = day_means(store, outlet_site, f, a, b)?;
                if !i.is_empty() && !o.is_empty() {
                    let m = |v: &[(i64, f64)]| v.iter().map(|x| x.1).sum::<f64>() / v.len() as f64;
                    q.insert(f, (m(&i), m(&o)));
                }
            }
        }
        if treated_m3 > 0.0 || evaluated > 0 {
            out.push(PlantMonth {
                plant: plant.to_string(),
                year,
                month,
                treated_m3,
                evaluated,
                compliant,
                quality: q,
            });
        }
    }
    Ok(out)
}

/// Fills the volume of every plant whose `volume_m3` was left empty from its site's flow
/// (w00000, L/s): the sum over the facility's year of the days' means × 86.4 m³. A plant whose
/// site has no flow that year is refused (its volume is not known, not 0).
pub fn fill_volumes(
    store: &mut dyn Store,
    facilities: &mut [crate::subsidy::Facility],
) -> Result<(), MoneyError> {
    let flow = Factor::parse("w00000").map_err(err)?;
    for f in facilities.iter_mut().filter(|f| f.volume_pending) {
        let Some(site) = f.site.clone() else { continue };
        let (Some(a), Some(b)) = (
            rewater_time::Date::from_ymd(f.year, 1, 1),
            rewater_time::Date::from_ymd(f.year + 1, 1, 1),
        ) else {
            continue;
        };
        let days = day_means(store, &site, flow, a.wall_seconds(), b.wall_seconds())?;
        if days.is_empty() {
            return Err(MoneyError::Store(format!(
                "plant '{}': site '{site}' has no flow in {}",
                f.id, f.year
            )));
        }
        f.volume_m3 = days.iter().map(|(_, v)| v * 86.4).sum();
        f.volume_pending = false;
    }
    Ok(())
}
