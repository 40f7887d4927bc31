//! The bundled definitions and target sets: they load, every target cites its section and
//! quote, and (where the seeds are on this machine) every quote is in its seed.

use rewater_indicators::{Catalog, TargetSet};
use std::path::Path;

/// The seeds beside the repository (`../shared/seeds`).
fn seeds() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds")
}

#[test]
fn the_bundled_catalogue_loads_and_every_formula_uses_known_quantities() {
    let c = Catalog::bundled();
    assert_eq!(c.indicators.len(), 40);
    for i in &c.indicators {
        assert!(!i.name.zh.is_empty() && !i.name.en.is_empty(), "{}", i.id);
        assert!(!i.source.document.is_empty(), "{} has no source", i.id);
        for q in i.formula().unwrap().quantities() {
            assert!(c.quantities.contains_key(q), "{}: {q}", i.id);
        }
        assert!(c.units.contains_key(&i.unit), "{}", i.id);
    }
    // Every quantity is used by some indicator or is a per-category detail.
    for q in c.quantities.keys() {
        let used = c
            .indicators
            .iter()
            .any(|i| i.formula().unwrap().quantities().contains(&q.as_str()));
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
            // A figure read straight from the plan appears in its quote (else the reading is
            // written down as an interpretation).
            if let (Some((_, v)), None) = (t.quantitative(), &t.interpretation) {
                let quote = squeeze(&t.quote);
                assert!(
                    quote.contains(&v.to_string()),
                    "{}/{}: {v} not in “{}”",
                    s.id,
                    t.id,
                    t.quote
                );
            }
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
    let seeds = seeds();
    if !seeds.is_dir() {
        eprintln!(
            "!!! SKIPPED: {} is absent, the seed quotes were NOT checked !!!",
            seeds.display()
        );
        assert!(
            std::env::var("CI").as_deref() != Ok("1"),
            "{} is required under CI=1",
            seeds.display()
        );
        return;
    }
    let c = Catalog::bundled();
    let mut checked = 0;
    for s in TargetSet::all_bundled(&c).unwrap() {
        let Some(file) = &s.seed_file else { continue };
        let text = squeeze(&std::fs::read_to_string(seeds.join(file)).unwrap());
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

fn tmp(name: &str, text: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-ind-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn definitions_from_a_file_replace_bundled_ones_and_bad_ones_are_named() {
    // The reuse rate on a basis that leaves river replenishment out, and a new indicator.
    let p = tmp(
        "defs.toml",
        r#"
[[indicator]]
id = "reuse_rate"
name = { zh = "再生水利用率（不含河道补水）", en = "reuse rate without river replenishment" }
formula = "(reclaimed_used_m3 - reclaimed_used_river_replenishment_m3) / wastewater_treated_m3 * 100"
unit = "percent"
better = "higher"
basis = { zh = "本地口径", en = "local basis" }
source = { document = "local rule" }
confidence = "inferred"

[[indicator]]
id = "energy_per_m3"
name = { zh = "吨水电耗", en = "electricity per m³ treated" }
formula = "energy_kwh / wastewater_treated_m3"
unit = "ratio"
better = "lower"
basis = { zh = "电耗÷处理量", en = "kWh ÷ m³ treated" }
source = { document = "own" }
confidence = "inferred"
"#,
    );
    let c = Catalog::bundled_with(&p).unwrap();
    assert_eq!(c.indicators.len(), 41);
    let r = c.indicator("reuse_rate").unwrap();
    assert_eq!(r.name.en, "reuse rate without river replenishment");
    assert_eq!(
        r.formula().unwrap().quantities(),
        [
            "reclaimed_used_m3",
            "reclaimed_used_river_replenishment_m3",
            "wastewater_treated_m3"
        ]
    );
    // Same position as before (the scorecard keeps the catalogue's order).
    assert_eq!(
        c.indicators.iter().position(|i| i.id == "reuse_rate"),
        Catalog::bundled()
            .indicators
            .iter()
            .position(|i| i.id == "reuse_rate")
    );
    let bad = [
        (
            "formula = \"no_such_q / 2\"",
            "indicator 'x', field formula: unknown quantity 'no_such_q'",
        ),
        (
            "formula = \"(energy_kwh\"",
            "indicator 'x', field formula: formula '(energy_kwh', character 12",
        ),
        (
            "formula = \"energy_kwh\"\nunit = \"furlongs\"",
            "field unit: unknown unit 'furlongs'",
        ),
    ];
    for (line, want) in bad {
        let unit = if line.contains("unit =") {
            ""
        } else {
            "unit = \"ratio\"\n"
        };
        let text = format!("[[indicator]]\nid = \"x\"\nname = {{ zh = \"x\", en = \"x\" }}\n{line}\n{unit}better = \"lower\"\nbasis = {{ zh = \"\", en = \"\" }}\nsource = {{ document = \"d\" }}\nconfidence = \"inferred\"\n");
        let p = tmp("bad.toml", &text);
        let e = Catalog::bundled_with(&p).unwrap_err().to_string();
        assert!(
            e.starts_with(&p.display().to_string()) && e.contains(want),
            "{e}"
        );
    }
    let p = tmp("junk.toml", "[[indicator]]\nid = 3\n");
    assert!(Catalog::bundled_with(&p).is_err());
}

#[test]
fn a_target_set_from_a_file_is_checked() {
    let c = Catalog::bundled();
    let head = "id = \"local\"\ntitle = { zh = \"本地\", en = \"local\" }\ndocument = \"d\"\nregion = { zh = \"某市\", en = \"a city\" }\n";
    let good = format!("{head}[[target]]\nid = \"t\"\nindicator = \"reuse_rate\"\nyear = 2026\ncomparator = \"ge\"\nvalue = 30\nsection = \"一\"\nquote = \"再生水利用率达到30%\"\nconfidence = \"verified\"\n");
    let p = tmp("local.toml", &good);
    let s = TargetSet::resolve(&p.display().to_string(), &c).unwrap();
    assert_eq!(s.targets[0].value, Some(30.0));
    for (from, to, want) in [
        (
            "section = \"一\"",
            "section = \" \"",
            "field section: is empty",
        ),
        (
            "quote = \"再生水利用率达到30%\"",
            "quote = \"\"",
            "field quote: is empty",
        ),
        (
            "indicator = \"reuse_rate\"",
            "indicator = \"nope\"",
            "unknown indicator 'nope'",
        ),
        ("value = 30\n", "", "give comparator and a finite value"),
        ("year = 2026", "year = 3026", "field year: 3026"),
    ] {
        let p = tmp("bad-set.toml", &good.replace(from, to));
        let e = TargetSet::resolve(&p.display().to_string(), &c)
            .unwrap_err()
            .to_string();
        assert!(e.contains("target 't'") && e.contains(want), "{e}");
    }
    let e = TargetSet::resolve("seed-000/atlantis", &c).unwrap_err();
    assert!(e.to_string().contains("seed-000/atlantis"), "{e}");
    let only_jjj = TargetSet::resolve("ndrc-2021-13/beijing-tianjin-hebei", &c).unwrap();
    assert_eq!(only_jjj.targets.len(), 1);
    assert_eq!(only_jjj.targets[0].value, Some(35.0));
}
