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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{SupplyTotals, TargetResult, UserSummary};

    fn text(write: impl FnOnce(&mut Vec<u8>) -> io::Result<()>) -> String {
        let mut out = Vec::new();
        write(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn totals(demand_m3: f64, delivered_m3: f64) -> SupplyTotals {
        SupplyTotals {
            demand_m3,
            delivered_m3,
            deficit_m3: demand_m3 - delivered_m3,
        }
    }

    /// A ten-day run with volumes in each of the three display ranges.
    fn summary() -> Summary {
        let mut s = Summary {
            model: "Test".into(),
            start: "2025-01-01".into(),
            end: "2025-01-10".into(),
            days: 10,
            solver: "simplex".into(),
            total_influent_m3: 1.5e8,
            treated_m3: 123_456.0,
            bypassed_m3: 50.0,
            demand_m3: 80_000.0,
            delivered_m3: 60_000.0,
            deficit_m3: 20_000.0,
            utilisation_rate: Some(0.486),
            supply_reliability: None,
            discharged_total_m3: 63_456.0,
            energy_kwh: 12_345.0,
            sludge_t_ds: 7.4,
            mass_balance_residual_m3: 1.5e-6,
            mass_balance_relative: 1.2e-11,
            mass_balance_max_node_residual_m3: 3.0e-7,
            warnings: vec!["pond P1 starts empty".into()],
            ..Default::default()
        };
        s.displaced_m3.insert("groundwater".into(), 20_000.0);
        s.delivered_by_category
            .insert("industry".into(), totals(70_000.0, 56_000.0));
        s.delivered_by_category
            .insert("landscape".into(), totals(0.0, 0.0));
        s.users.insert(
            "U1".into(),
            UserSummary {
                days_refused_for_quality: 3,
                standard: Some("GB/T 19923-2005".into()),
                ..Default::default()
            },
        );
        s.users.insert("U2".into(), UserSummary::default());
        s.targets.insert(
            "utilisation_rate".into(),
            TargetResult {
                target: 0.5,
                achieved: 0.486,
                met: false,
            },
        );
        s.stats.solves = 10;
        s.stats.solve_seconds = 0.0125;
        s
    }

    #[test]
    fn a_summary_reads_in_m3_ten_thousands_and_hundred_millions() {
        let expected = "\
Test — 2025-01-01 to 2025-01-10 (10 days, solver simplex)
  influent               1.50 ×10⁸ m³
  treated                12.3 ×10⁴ m³
  bypassed               50.0 m³
  demand                 8.0 ×10⁴ m³
  delivered              6.0 ×10⁴ m³
  deficit                2.0 ×10⁴ m³
  utilisation rate       48.6 %   (再生水利用率 = delivered ÷ treated)
  supply reliability     —
  discharged to rivers   6.3 ×10⁴ m³
  energy                 12 MWh
  sludge                 7 t DS
  displaces groundwater  2.0 ×10⁴ m³
  by category:
    industry                    5.6 ×10⁴ m³ of      7.0 ×10⁴ m³  (80.0 %)
    landscape                        0.0 m³ of           0.0 m³  (—)
  refused for quality (分质供水):
    U1                     3 days (standard GB/T 19923-2005)
  target utilisation_rate: 50.0 % — achieved 48.6 % — NOT met
  mass balance residual  1.500e-6 m³ (relative 1.2e-11; worst node-day 3.0e-7 m³)
  solver: 10 solves, 1.250 ms per day
  warning: pond P1 starts empty
";
        assert_eq!(text(|w| write_summary(w, &summary())), expected);
    }

    #[test]
    fn without_refusals_the_quality_section_is_left_out() {
        let mut s = summary();
        s.users.clear();
        let out = text(|w| write_summary(w, &s));
        assert!(!out.contains("refused for quality"), "{out}");
        assert_eq!(out.lines().count(), 20);
    }

    #[test]
    fn a_comparison_gives_b_minus_a_and_every_category_of_either_run() {
        let a = summary();
        let mut b = summary();
        b.model = "Test B".into();
        b.delivered_m3 = 65_000.0;
        b.utilisation_rate = Some(0.5);
        b.delivered_by_category.remove("landscape");
        b.delivered_by_category
            .insert("agriculture".into(), totals(9_000.0, 4_000.0));
        let out = text(|w| write_comparison(w, &a, &b));
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2 + 10 + 3);
        assert_eq!(
            lines[0],
            format!("{:<28} {:>18} {:>18} {:>14}", "", "A", "B", "B − A")
        );
        assert_eq!(
            lines[1],
            format!("{:<28} {:>18} {:>18}", "model", "Test", "Test B")
        );
        let row =
            |name: &str, x: &str, y: &str, d: &str| format!("{name:<28} {x:>18} {y:>18} {d:>14}");
        assert_eq!(
            lines[5],
            row("delivered m³", "60000.0", "65000.0", "5000.0")
        );
        assert_eq!(lines[8], row("utilisation rate %", "48.6", "50.0", "1.4"));
        // Supply reliability unknown in both runs: shown as 0.
        assert_eq!(lines[9], row("supply reliability %", "0.0", "0.0", "0.0"));
        assert_eq!(
            lines[12],
            row("delivered agriculture", "0.0", "4000.0", "4000.0")
        );
        assert_eq!(
            lines[13],
            row("delivered industry", "56000.0", "56000.0", "0.0")
        );
        assert_eq!(lines[14], row("delivered landscape", "0.0", "0.0", "0.0"));
    }
}
