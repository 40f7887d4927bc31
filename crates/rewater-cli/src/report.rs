//! Plain-text reports for the terminal.

use rewater_engine::Summary;
use rewater_standards::standard::{Bound, Standard};
use rewater_standards::{Classification, ComplianceReport};
use std::io::Write;

fn m3(v: f64) -> String {
    if v.abs() >= 1e8 {
        format!("{:.2} ×10⁸ m³", v / 1e8)
    } else if v.abs() >= 1e4 {
        format!("{:.1} ×10⁴ m³", v / 1e4)
    } else {
        format!("{v:.1} m³")
    }
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.1} %", 100.0 * x))
        .unwrap_or_else(|| "—".into())
}

pub fn print_summary(s: &Summary) {
    println!(
        "{} — {} to {} ({} days, solver {})",
        s.model, s.start, s.end, s.days, s.solver
    );
    println!("  influent               {}", m3(s.total_influent_m3));
    println!("  treated                {}", m3(s.treated_m3));
    println!("  bypassed               {}", m3(s.bypassed_m3));
    println!("  demand                 {}", m3(s.demand_m3));
    println!("  delivered              {}", m3(s.delivered_m3));
    println!("  deficit                {}", m3(s.deficit_m3));
    println!(
        "  utilisation rate       {}   (再生水利用率 = delivered ÷ treated)",
        pct(s.utilisation_rate)
    );
    println!("  supply reliability     {}", pct(s.supply_reliability));
    println!("  discharged to rivers   {}", m3(s.discharged_total_m3));
    println!("  energy                 {:.0} MWh", s.energy_kwh / 1000.0);
    println!("  sludge                 {:.0} t DS", s.sludge_t_ds);
    for (k, v) in &s.displaced_m3 {
        println!("  displaces {k:<12} {}", m3(*v));
    }
    println!("  by category:");
    for (k, t) in &s.delivered_by_category {
        let r = if t.demand_m3 > 0.0 {
            Some(t.delivered_m3 / t.demand_m3)
        } else {
            None
        };
        println!(
            "    {k:<22} {:>16} of {:>16}  ({})",
            m3(t.delivered_m3),
            m3(t.demand_m3),
            pct(r)
        );
    }
    let refused: Vec<_> = s
        .users
        .iter()
        .filter(|(_, u)| u.days_refused_for_quality > 0)
        .collect();
    if !refused.is_empty() {
        println!("  refused for quality (分质供水):");
        for (id, u) in refused {
            println!(
                "    {id:<22} {} days (standard {})",
                u.days_refused_for_quality,
                u.standard.as_deref().unwrap_or("-")
            );
        }
    }
    for (k, t) in &s.targets {
        println!(
            "  target {k}: {:.1} % — achieved {:.1} % — {}",
            100.0 * t.target,
            100.0 * t.achieved,
            if t.met { "met" } else { "NOT met" }
        );
    }
    println!(
        "  mass balance residual  {:.3e} m³ (relative {:.1e}; worst node-day {:.1e} m³)",
        s.mass_balance_residual_m3, s.mass_balance_relative, s.mass_balance_max_node_residual_m3
    );
    println!(
        "  solver: {} solves, {:.3} ms per day",
        s.stats.solves,
        1000.0 * s.stats.solve_seconds / s.days.max(1) as f64
    );
    for w in &s.warnings {
        println!("  warning: {w}");
    }
}

pub fn print_comparison(a: &Summary, b: &Summary) {
    println!("{:<28} {:>18} {:>18} {:>14}", "", "A", "B", "B − A");
    println!("{:<28} {:>18} {:>18}", "model", a.model, b.model);
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
            100.0 * a.utilisation_rate.unwrap_or(0.0),
            100.0 * b.utilisation_rate.unwrap_or(0.0),
        ),
        (
            "supply reliability %",
            100.0 * a.supply_reliability.unwrap_or(0.0),
            100.0 * b.supply_reliability.unwrap_or(0.0),
        ),
        ("energy kWh", a.energy_kwh, b.energy_kwh),
        ("sludge t DS", a.sludge_t_ds, b.sludge_t_ds),
    ];
    for (name, x, y) in rows {
        println!("{name:<28} {x:>18.1} {y:>18.1} {:>14.1}", y - x);
    }
    let mut cats: Vec<&String> = a
        .delivered_by_category
        .keys()
        .chain(b.delivered_by_category.keys())
        .collect();
    cats.sort();
    cats.dedup();
    for c in cats {
        let x = a
            .delivered_by_category
            .get(c)
            .map(|t| t.delivered_m3)
            .unwrap_or(0.0);
        let y = b
            .delivered_by_category
            .get(c)
            .map(|t| t.delivered_m3)
            .unwrap_or(0.0);
        println!(
            "{:<28} {x:>18.1} {y:>18.1} {:>14.1}",
            format!("delivered {c}"),
            y - x
        );
    }
}

pub fn write_classification(
    w: &mut impl Write,
    id: &str,
    c: &Classification,
) -> std::io::Result<()> {
    let limiting: Vec<String> = c
        .limiting
        .iter()
        .map(|f| {
            let fc = c.factors.iter().find(|x| x.factor == *f);
            match fc.and_then(|x| x.exceedance_multiple) {
                Some(m) => format!("{} (超标 {m:.2} 倍)", f.short_name()),
                None => f.short_name().to_string(),
            }
        })
        .collect();
    writeln!(
        w,
        "{id}: {} {}{} — limiting: {}{}",
        c.standard,
        c.label,
        c.quality_zh
            .as_deref()
            .map(|q| format!(" ({q})"))
            .unwrap_or_default(),
        limiting.join(", "),
        if c.uses_unverified {
            " [uses UNVERIFIED limits]"
        } else {
            ""
        }
    )
}

pub fn print_compliance(r: &ComplianceReport) {
    println!(
        "{} {} ({:?}), {} to {}",
        r.standard,
        r.class,
        r.averaging,
        r.first_date.map(|d| d.to_string()).unwrap_or_default(),
        r.last_date.map(|d| d.to_string()).unwrap_or_default()
    );
    println!(
        "{:<10} {:>6} {:>10} {:>11} {:>12} {:>12}  worst day",
        "factor", "days", "exceed.", "达标率", "longest run", "worst"
    );
    for f in &r.factors {
        println!(
            "{:<10} {:>6} {:>10} {:>11} {:>12} {:>12}  {}",
            f.factor.short_name(),
            f.days_with_data,
            f.exceedance_days,
            pct(f.compliance_rate),
            f.longest_exceedance_run_days,
            f.worst_value.map(|v| format!("{v:.3}")).unwrap_or_default(),
            f.worst_date.map(|d| d.to_string()).unwrap_or_default()
        );
    }
    if !r.excluded_by_flag.is_empty() {
        let parts: Vec<String> = r
            .excluded_by_flag
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect();
        println!("excluded readings by flag: {}", parts.join(", "));
    }
    if r.uses_unverified {
        println!("note: some limits used are UNVERIFIED (not read in the official text)");
    }
}

fn bound_text(b: &Bound) -> String {
    match b {
        Bound::Max { value } => format!("≤ {value}"),
        Bound::Min { value } => format!("≥ {value}"),
        Bound::Range { low, high } => format!("{low}–{high}"),
        Bound::Qualitative { requirement } => requirement.clone(),
    }
}

pub fn print_standard(s: &Standard) {
    println!("{} {} / {}", s.id, s.title_zh, s.title_en);
    println!(
        "kind {:?}, effective from {}, averaging {:?}, confidence {:?}",
        s.kind, s.effective_from, s.averaging, s.confidence
    );
    for src in &s.sources {
        println!("source: {src}");
    }
    println!(
        "{:<28} {:<16} {:<14} {:<10} {:<11} condition",
        "class", "factor", "limit", "unit", "confidence"
    );
    for l in &s.limits {
        let class = l
            .class
            .map(|c| s.classes[c].id.clone())
            .unwrap_or_else(|| "(all)".into());
        let mut cond = Vec::new();
        let w = &l.when;
        if let Some(b) = w.water_body {
            cond.push(format!("{b:?}").to_lowercase());
        }
        if let Some(t) = w.water_temp_c_above {
            cond.push(format!("water > {t} °C"));
        }
        if let Some(t) = w.water_temp_c_at_most {
            cond.push(format!("water ≤ {t} °C"));
        }
        if let Some(((m1, d1), (m2, d2))) = w.date_window {
            cond.push(format!("{m1:02}-{d1:02}..{m2:02}-{d2:02}"));
        }
        if let Some(d) = w.plant_built_before {
            cond.push(format!("built before {d}"));
        }
        if let Some(d) = w.plant_built_from {
            cond.push(format!("built from {d}"));
        }
        if let Some(p) = w.sampling_point {
            cond.push(format!("{p:?}").to_lowercase());
        }
        let conf = format!("{:?}", l.confidence).to_lowercase();
        println!(
            "{:<28} {:<16} {:<14} {:<10} {:<11} {}",
            class,
            format!("{} {}", l.factor.code(), l.factor.short_name()),
            bound_text(&l.bound),
            l.unit.map(|u| u.as_str()).unwrap_or(""),
            if conf == "unverified" {
                "UNVERIFIED".to_string()
            } else {
                conf
            },
            cond.join(", ")
        );
    }
}

pub fn standard_json(s: &Standard) -> serde_json::Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    if let Some(limits) = v.get_mut("limits").and_then(|l| l.as_array_mut()) {
        for (l, lim) in limits.iter_mut().zip(&s.limits) {
            l["class"] = serde_json::Value::String(
                lim.class
                    .map(|c| s.classes[c].id.clone())
                    .unwrap_or_else(|| "*".into()),
            );
        }
    }
    v
}
