//! The summary of a run, and the comparison of two runs, as text for a person at a terminal,
//! written to any `std::io::Write` (a reader who goes away is an error for the caller).
//!
//! The texts are English, with the Chinese term beside a few indicators (再生水利用率,
//! 分质供水); model, category and user names come from the model file as written.

use crate::summary::Summary;
use std::io::{self, Write};

/// A volume with the unit a person reads best: ×10⁸ m³, ×10⁴ m³ or m³.
fn volume_text(m3: f64) -> String {
    if m3.abs() >= 1e8 {
        format!("{:.2} ×10⁸ m³", m3 / 1e8)
    } else if m3.abs() >= 1e4 {
        format!("{:.1} ×10⁴ m³", m3 / 1e4)
    } else {
        format!("{m3:.1} m³")
    }
}

/// A fraction as a percentage with one decimal, "—" when there is none.
fn percent_text(fraction: Option<f64>) -> String {
    fraction
        .map(|x| format!("{:.1} %", 100.0 * x))
        .unwrap_or_else(|| "—".into())
}

/// The totals, indicators, supply by category, users refused for quality, targets, balance
/// and solver figures of a run, one per line.
pub fn write_summary(w: &mut impl Write, s: &Summary) -> io::Result<()> {
    let m3 = volume_text;
    let pct = percent_text;
    writeln!(
        w,
        "{} — {} to {} ({} days, solver {})",
        s.model, s.start, s.end, s.days, s.solver
    )?;
    writeln!(w, "  influent               {}", m3(s.total_influent_m3))?;
    writeln!(w, "  treated                {}", m3(s.treated_m3))?;
    writeln!(w, "  bypassed               {}", m3(s.bypassed_m3))?;
    writeln!(w, "  demand                 {}", m3(s.demand_m3))?;
    writeln!(w, "  delivered              {}", m3(s.delivered_m3))?;
    writeln!(w, "  deficit                {}", m3(s.deficit_m3))?;
    writeln!(
        w,
        "  utilisation rate       {}   (再生水利用率 = delivered ÷ treated)",
        pct(s.utilisation_rate)
    )?;
    writeln!(w, "  supply reliability     {}", pct(s.supply_reliability))?;
    writeln!(w, "  discharged to rivers   {}", m3(s.discharged_total_m3))?;
    writeln!(
        w,
        "  energy                 {:.0} MWh",
        s.energy_kwh / 1000.0
    )?;
    writeln!(w, "  sludge                 {:.0} t DS", s.sludge_t_ds)?;
    for (k, v) in &s.displaced_m3 {
        writeln!(w, "  displaces {k:<12} {}", m3(*v))?;
    }
    writeln!(w, "  by category:")?;
    for (k, t) in &s.delivered_by_category {
        let r = (t.demand_m3 > 0.0).then(|| t.delivered_m3 / t.demand_m3);
        writeln!(
            w,
            "    {k:<22} {:>16} of {:>16}  ({})",
            m3(t.delivered_m3),
            m3(t.demand_m3),
            pct(r)
        )?;
    }
    let mut refused = s
        .users
        .iter()
        .filter(|(_, u)| u.days_refused_for_quality > 0)
        .peekable();
    if refused.peek().is_some() {
        writeln!(w, "  refused for quality (分质供水):")?;
        for (id, u) in refused {
            writeln!(
                w,
                "    {id:<22} {} days (standard {})",
                u.days_refused_for_quality,
                u.standard.as_deref().unwrap_or("-")
            )?;
        }
    }
    for (k, t) in &s.targets {
        writeln!(
            w,
            "  target {k}: {:.1} % — achieved {:.1} % — {}",
            100.0 * t.target,
            100.0 * t.achieved,
            if t.met { "met" } else { "NOT met" }
        )?;
    }
    writeln!(
        w,
        "  mass balance residual  {:.3e} m³ (relative {:.1e}; worst node-day {:.1e} m³)",
        s.mass_balance_residual_m3, s.mass_balance_relative, s.mass_balance_max_node_residual_m3
    )?;
    writeln!(
        w,
        "  solver: {} solves, {:.3} ms per day",
        s.stats.solves,
        1000.0 * s.stats.solve_seconds / s.days.max(1) as f64
    )?;
    for warning in &s.warnings {
        writeln!(w, "  warning: {warning}")?;
    }
    Ok(())
}

/// Runs A and B side by side: totals, indicators (%) and delivery per category, with B − A.
pub fn write_comparison(w: &mut impl Write, a: &Summary, b: &Summary) -> io::Result<()> {
    writeln!(w, "{:<28} {:>18} {:>18} {:>14}", "", "A", "B", "B − A")?;
    writeln!(w, "{:<28} {:>18} {:>18}", "model", a.model, b.model)?;
    let percent = |rate: Option<f64>| 100.0 * rate.unwrap_or(0.0);
    let rows: [(&str, f64, f64); 10] = [
        ("treated m³", a.treated_m3, b.treated_m3),
        ("bypassed m³", a.bypassed_m3, b.bypassed_m3),
        ("demand m³", a.demand_m3, b.demand_m3),
        ("delivered m³", a.delivered_m3, b.delivered_m3),
        ("deficit m³", a.deficit_m3, b.deficit_m3),
        (
            "discharged m³",
            a.discharged_total_m3,
            b.discharged_total_m3,
        ),
        (
            "utilisation rate %",
            percent(a.utilisation_rate),
            percent(b.utilisation_rate),
        ),
        (
            "supply reliability %",
            percent(a.supply_reliability),
            percent(b.supply_reliability),
        ),
        ("energy kWh", a.energy_kwh, b.energy_kwh),
        ("sludge t DS", a.sludge_t_ds, b.sludge_t_ds),
    ];
    for (name, x, y) in rows {
        writeln!(w, "{name:<28} {x:>18.1} {y:>18.1} {:>14.1}", y - x)?;
    }
    // Every category of either run, once, in order (a BTreeSet of both key sets).
    let categories: std::collections::BTreeSet<&String> = a
        .delivered_by_category
        .keys()
        .chain(b.delivered_by_category.keys())
        .collect();
    for c in categories {
        let delivered = |s: &Summary| {
            s.delivered_by_category
                .get(c)
                .map(|t| t.delivered_m3)
                .unwrap_or(0.0)
        };
        let (x, y) = (delivered(a), delivered(b));
        writeln!(
            w,
            "{:<28} {x:>18.1} {y:>18.1} {:>14.1}",
            format!("delivered {c}"),
            y - x
        )?;
    }
    Ok(())
}
