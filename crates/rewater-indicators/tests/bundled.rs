//! The bundled definitions and target sets: they load, every target cites its section and
//! quote, and (where the seeds are on this machine) every quote is in its seed.

use rewater_indicators::{Catalog, TargetSet};
use std::path::Path;

const SEEDS: &str = "/work/shared/seeds";

#[test]
fn the_bundled_catalogue_loads_and_every_formula_uses_known_quantities() {
    let c = Catalog::bundled();
    assert_eq!(c.indicators.len(), 34);
    for i in &c.indicators {
        assert!(!i.name.zh.is_empty() && !i.name.en.is_empty(), "{}", i.id);
        assert!(!i.source.document.is_empty(), "{} has no source", i.id);
        for q in i.formula().quantities() {
            assert!(c.quantities.contains_key(q), "{}: {q}", i.id);
        }
        assert!(c.units.contains_key(&i.unit), "{}", i.id);
    }
    // Every quantity is used by some indicator or is a per-category detail.
    for q in c.quantities.keys() {
        let used = c
            .indicators
            .iter()
            .any(|i| i.formula().quantities().contains(&q.as_str()));
        assert!(
            used || q.starts_with("reclaimed_used_")
                || [
                    "wastewater_influent_m3",
                    "wastewater_bypassed_m3",
                    "energy_kwh",
                    "reclaimed_discharged_m3"
                ]
                .contains(&q.as_str()),
            "quantity {q} is used by no indicator"
        );
    }
}

#[test]
fn each_seed_has_a_target_set_and_every_target_cites_its_section() {
    let c = Catalog::bundled();
    let sets = TargetSet::all_bundled(&c).unwrap();
    let ids: Vec<&str> = sets.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "seed-000",
            "seed-001",
            "seed-002",
            "seed-003",
            "seed-004",
            "ndrc-2021-13"
        ]
    );
    for s in &sets {
        assert!(!s.targets.is_empty(), "{}", s.id);
        for t in &s.targets {
            assert!(
                !t.section.trim().is_empty() && !t.quote.trim().is_empty(),
                "{}/{}",
                s.id,
                t.id
            );
            assert!(
                t.quantitative().is_some() != t.qualitative.is_some(),
                "{}/{}",
                s.id,
                t.id
            );
        }
    }
    let by = |id: &str| sets.iter().find(|s| s.id == id).unwrap();
    // Seed 002 (Wanzhou) states no reuse-rate figure: its reuse target is qualitative.
    let wanzhou_reuse: Vec<_> = by("seed-002")
        .targets
        .iter()
        .filter(|t| t.indicator.as_deref() == Some("reuse_rate"))
        .collect();
    assert_eq!(wanzhou_reuse.len(), 1);
    assert!(wanzhou_reuse[0].quantitative().is_none());
    // A few figures, hand-read from the seeds.
    let value = |set: &str, id: &str| {
        by(set)
            .targets
            .iter()
            .find(|t| t.id == id)
            .and_then(|t| t.value)
            .unwrap()
    };
    assert_eq!(value("seed-000", "capacity-2025"), 800.0);
    assert_eq!(value("seed-000", "reuse-2035"), 70.0);
    assert_eq!(value("seed-001", "capacity-added-2025"), 73.0);
    assert_eq!(value("seed-001", "leakage-2025"), 8.0);
    assert_eq!(value("seed-002", "sludge-harmless-2025"), 97.0);
    assert_eq!(value("seed-003", "wetland-class-v"), 100.0);
    assert_eq!(value("seed-004", "capacity-2025"), 72.0);
    assert_eq!(value("ndrc-2021-13", "reuse-jjj-2025"), 35.0);
    // The plan's areas add up (seed 001: 20 + 7 + 39 + 7 = 73; 39 + 40 + 20 + 70 = 169).
    let sum = |ind: &str| -> f64 {
        by("seed-001")
            .targets
            .iter()
            .filter(|t| t.indicator.as_deref() == Some(ind) && !t.district.is_empty())
            .filter_map(|t| t.value)
            .sum()
    };
    assert_eq!(sum("treatment_capacity_added"), 73.0);
    assert_eq!(sum("sewer_pipe_built"), 169.0);
    assert_eq!(sum("combined_sewer_rebuilt"), 50.0);
    assert_eq!(sum("reclaimed_pipe_built"), 170.0);
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

#[test]
fn every_seed_quote_is_in_its_seed() {
    if !Path::new(SEEDS).is_dir() {
        eprintln!("!!! SKIPPED: {SEEDS} is absent, the seed quotes were NOT checked !!!");
        assert!(
            std::env::var("CI").as_deref() != Ok("1"),
            "{SEEDS} is required under CI=1"
        );
        return;
    }
    let c = Catalog::bundled();
    let mut checked = 0;
    for s in TargetSet::all_bundled(&c).unwrap() {
        let Some(file) = &s.seed_file else { continue };
        let text = squeeze(&std::fs::read_to_string(Path::new(SEEDS).join(file)).unwrap());
        for t in &s.targets {
            assert!(
                text.contains(&squeeze(&t.quote)),
                "{}/{}: quote not in {file}: {}",
                s.id,
                t.id,
                t.quote
            );
            checked += 1;
        }
        for b in &s.baselines {
            assert!(
                text.contains(&squeeze(&b.quote)),
                "{} baseline {}: {}",
                s.id,
                b.indicator,
                b.quote
            );
            checked += 1;
        }
    }
    assert!(checked > 60, "{checked}");
}
