//! The shipped study schema is current, and the examples' studies load and validate.

use rewater_optimise::{study_schema, Problem};
use rewater_standards::Standards;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn shipped_study_schema_is_current() {
    let path = root().join("schema/rewater-study.schema.json");
    let now = study_schema();
    if std::env::var("REWATER_WRITE_SCHEMA").is_ok() {
        let text = serde_json::to_string_pretty(&now).unwrap() + "\n";
        std::fs::write(&path, text).unwrap();
    }
    let shipped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap();
    assert_eq!(
        shipped, now,
        "regenerate with: REWATER_WRITE_SCHEMA=1 cargo test -p rewater-optimise --test examples"
    );
}

#[test]
fn example_studies_validate() {
    for (study, vars, scenarios) in [
        ("examples/beijing-district/optimise.toml", 18, 3),
        ("examples/lianyungang-city/optimise.toml", 10, 2),
    ] {
        let p = Problem::load(&root().join(study), Standards::builtin())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.variables.len(), vars, "{study}");
        assert_eq!(p.scenarios.len(), scenarios, "{study}");
        // The current design is a design of the study (one value per variable, in range).
        let mut g = p.current_design();
        let before = g.clone();
        p.repair(&mut g);
        assert_eq!(g, before, "{study}");
    }
}

#[test]
fn pipes_and_sizes_of_what_is_not_built_cost_nothing() {
    let p = Problem::load(
        &root().join("examples/beijing-district/optimise.toml"),
        Standards::builtin(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut g = p.current_design();
    let at = |id: &str| p.variables.iter().position(|v| v.id == id).unwrap();
    let (_, built_cost, items) = p.fixed_cost(&g);
    assert!(items.iter().any(|i| i.0 == "pipe:plant-north->wetland:dn"));
    g[at("wetland:wetland:built")] = 0.0;
    let (_, cost, items) = p.fixed_cost(&g);
    for id in [
        "wetland:wetland:area_ha",
        "pipe:plant-north->wetland:dn",
        "pipe:wetland->river-replenishment:dn",
    ] {
        assert!(!items.iter().any(|i| i.0 == id), "{id} costed: {items:?}");
        assert_eq!(p.describe(&g)[id], "none (wetland not built)");
    }
    assert!(cost < built_cost);
    // The pipe to the lake hangs on the pond.
    g[at("pond:pond:capacity_m3")] = 0.0;
    assert_eq!(
        p.describe(&g)["pipe:pond->landscape-lake:dn"],
        "none (pond not built)"
    );
    // And the model run has neither.
    let m = p.apply(0, &g);
    assert!(m.wetlands.is_empty() && m.ponds.is_empty());
    assert!(!m
        .links
        .iter()
        .any(|l| l.to == "wetland" || l.from == "pond"));
}
