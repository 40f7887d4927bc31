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
