//! Study-file errors name the field (serde path) and, for TOML, the line.

use rewater_optimise::{parse_study, Problem, StudyErrors};
use rewater_standards::Standards;
use std::path::Path;

const GOOD: &str = include_str!("data/small/study.toml");

fn parse_err(text: &str) -> rewater_optimise::StudyError {
    match parse_study(text, "study.toml") {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

fn validate(text: &str) -> StudyErrors {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small");
    let study = match parse_study(text, "study.toml") {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    match Problem::new(study, text, "study.toml", &dir, Standards::builtin()) {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    }
}

#[test]
fn the_good_study_parses() {
    assert!(parse_study(GOOD, "study.toml").is_ok());
}

#[test]
fn a_wrong_type_names_the_nested_field_and_line() {
    let text = GOOD.replace(
        "area_options_ha = [0, 2, 4]",
        "area_options_ha = [0, \"two\", 4]",
    );
    let e = parse_err(&text);
    assert_eq!(e.field, "wetland[0].area_options_ha[1]", "{e}");
    let line = GOOD
        .lines()
        .position(|l| l.starts_with("area_options_ha"))
        .unwrap()
        + 1;
    assert_eq!(e.line, Some(line), "{e}");
    assert!(
        e.to_string().starts_with(&format!(
            "study.toml:{line}: field 'wetland[0].area_options_ha[1]'"
        )),
        "{e}"
    );
}

#[test]
fn an_unknown_field_is_named() {
    let text = GOOD.replace(
        "capex_yuan_per_ha = 1000000",
        "capex_yuan_per_ha = 1000000\ncost = 3",
    );
    let e = parse_err(&text);
    assert_eq!(e.field, "wetland[0].cost", "{e}");
    assert!(e.message.contains("unknown field"), "{e}");
}

#[test]
fn a_missing_field_in_a_catalogue_size_is_named() {
    let text = GOOD.replacen("capacity_m3_per_day = 4000\n", "", 1);
    let e = parse_err(&text);
    assert_eq!(e.field, "pipe_catalogue[0].size[1]", "{e}");
    assert!(e.message.contains("capacity_m3_per_day"), "{e}");
}

#[test]
fn json_studies_name_the_field_too() {
    let text = r#"{"format_version": 1, "study": {"name": {"zh": "x", "en": "x"}, "model": "model.toml"},
        "pond": [{"id": "p", "capacity_options_m3": [1000], "capex_yuan_per_m3": "cheap"}]}"#;
    let e = match parse_study(text, "study.json") {
        Ok(_) => panic!("accepted"),
        Err(e) => e,
    };
    assert_eq!(e.field, "pond[0].capex_yuan_per_m3", "{e}");
    assert_eq!(e.line, Some(2));
}

#[test]
fn references_to_the_model_and_bad_values_are_named() {
    let text = GOOD
        .replace("id = \"wetland\"", "id = \"marsh\"")
        .replace("catalogue = \"ductile\"", "catalogue = \"steel\"")
        .replace(
            "capex_yuan_per_m3_per_day = 1500",
            "capex_yuan_per_m3_per_day = -1500",
        )
        .replace("user = \"park\"", "user = \"zoo\"")
        .replace("discount_rate = 0.05", "discount_rate = 5")
        .replace(
            "no_bypass = true",
            "no_bypass = true\nreuse_rate_min = 1.5\nreliability_min = { first = 0.9 }",
        );
    let e = validate(&text);
    let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
    for f in [
        "wetland[0].id",
        "pipe[0].catalogue",
        "plant_expansion[0].capex_yuan_per_m3_per_day",
        "user_connection[0].user",
        "costs.discount_rate",
        "constraints.reuse_rate_min",
        "constraints.reliability_min.first",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
    assert!(
        e.to_string().contains("the model has no wetland 'marsh'"),
        "{e}"
    );
}

#[test]
fn objectives_standards_and_scenarios_are_checked() {
    let text = GOOD.replace("format_version = 1", "format_version = 1\nobjectives = [\"reuse_rate\", \"happiness\"]")
        .replace("no_bypass = true", "no_bypass = true\nwetland_outlet_standard = \"GB3838-2002:VII\"")
        + "\n[[effluent_upgrade]]\nplant = \"plant\"\n[[effluent_upgrade.option]]\nstandard = \"GB18918-2002:1Z\"\ncapex_yuan_per_m3_per_day = 300\n\
           \n[[scenario]]\nid = \"dry\"\nname = { zh = \"枯水年\", en = \"Dry year\" }\ndemand_factor_by_category = { lawns = 1.2 }\n";
    let e = validate(&text);
    let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
    assert!(
        fields.contains(&"scenario[0].demand_factor_by_category.lawns"),
        "{fields:?}"
    );
    // Scenario errors stop validation before the rest; fix it and look again.
    let e = validate(&text.replace("lawns", "urban_greening"));
    let fields: Vec<&str> = e.0.iter().map(|x| x.field.as_str()).collect();
    for f in [
        "objectives[1]",
        "constraints.wetland_outlet_standard",
        "effluent_upgrade[0].option[0].standard",
    ] {
        assert!(fields.contains(&f), "{f} not in {fields:?}");
    }
}

#[test]
fn a_missing_model_names_the_study_field() {
    let e = validate(&GOOD.replace("model = \"model.toml\"", "model = \"nowhere.toml\""));
    assert_eq!(e.0[0].field, "study.model");
}
