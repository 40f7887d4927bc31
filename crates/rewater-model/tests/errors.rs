//! Bad model files give errors that name the file, the line, the node or link and the field.

use rewater_model::{load, ModelErrors};
use rewater_standards::Standards;
use std::path::PathBuf;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-model-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn load_text(
    name: &str,
    toml: &str,
    files: &[(&str, &str)],
) -> Result<rewater_model::Region, ModelErrors> {
    let d = dir(name);
    for (f, t) in files {
        std::fs::write(d.join(f), t).unwrap();
    }
    let p = d.join("model.toml");
    std::fs::write(&p, toml).unwrap();
    load(&p, &Standards::builtin())
}

const BASE: &str = r#"format_version = 1
[model]
name = "t"
start = "2025-01-01"
days = 3
factors = ["nh3n"]

[[plant]]
id = "P"
capacity_m3_per_day = 1000
influent_m3_per_day = 800

[[user]]
id = "U"
category = "urban_greening"
demand_m3_per_day = 100

[[river]]
id = "R"

[[link]]
from = "P"
to = "U"
"#;

fn one_error(name: &str, toml: &str, files: &[(&str, &str)]) -> String {
    let e = load_text(name, toml, files).unwrap_err();
    assert!(!e.0.is_empty());
    e.0[0].to_string()
}

#[test]
fn the_base_model_is_valid() {
    let r = load_text("base", BASE, &[]).unwrap();
    assert_eq!((r.nodes.len(), r.links.len(), r.days), (3, 1, 3));
}

#[test]
fn link_to_an_unknown_node() {
    let m = one_error(
        "unknown",
        &format!("{BASE}\n[[link]]\nfrom = \"P\"\nto = \"Lake\"\n"),
        &[],
    );
    assert!(
        m.contains("model.toml:")
            && m.contains("link P->Lake")
            && m.contains("field 'to'")
            && m.contains("unknown node 'Lake'"),
        "{m}"
    );
}

#[test]
fn negative_capacity() {
    let m = one_error(
        "negcap",
        &BASE.replace("capacity_m3_per_day = 1000", "capacity_m3_per_day = -5"),
        &[],
    );
    assert!(
        m.contains("model.toml:10:")
            && m.contains("plant P")
            && m.contains("field 'capacity_m3_per_day'"),
        "{m}"
    );
}

#[test]
fn unit_typo_in_a_field_name() {
    let m = one_error(
        "typo",
        &BASE.replace("demand_m3_per_day = 100", "demand_m3_per_dya = 100"),
        &[],
    );
    assert!(
        m.contains("model.toml:16") && m.contains("demand_m3_per_dya"),
        "{m}"
    );
}

#[test]
fn missing_csv_column_and_short_series() {
    let csv = "date,flow\n2025-01-01,1\n2025-01-02,2\n2025-01-03,3\n";
    let toml = BASE.replace(
        "influent_m3_per_day = 800",
        "influent_series = { csv = \"in.csv\", column = \"influent\" }",
    );
    let m = one_error("column", &toml, &[("in.csv", csv)]);
    assert!(
        m.contains("plant P")
            && m.contains("field 'influent_series'")
            && m.contains("in.csv:1")
            && m.contains("no column 'influent'"),
        "{m}"
    );

    let short = "date,influent\n2025-01-01,1\n2025-01-02,2\n";
    let m = one_error("short", &toml, &[("in.csv", short)]);
    assert!(
        m.contains("shorter than the horizon") && m.contains("2025-01-03"),
        "{m}"
    );

    let bad = "date,influent\n2025-01-01,1\n2025-01-02,x\n2025-01-03,3\n";
    let m = one_error("badnum", &toml, &[("in.csv", bad)]);
    assert!(
        m.contains("in.csv:3") && m.contains("'x' is not a number"),
        "{m}"
    );
}

#[test]
fn several_problems_are_all_reported() {
    let toml = BASE
        .replace("capacity_m3_per_day = 1000", "capacity_m3_per_day = -5")
        .replace("to = \"U\"", "to = \"X\"");
    let e = load_text("many", &toml, &[]).unwrap_err();
    assert_eq!(e.0.len(), 2, "{e}");
}

#[test]
fn other_reference_and_value_errors() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "stdclass",
            "category = \"urban_greening\"",
            "category = \"urban_greening\"\nstandard = \"GB/T18920-2020:lawn\"",
        ),
        ("factor", "factors = [\"nh3n\"]", "factors = [\"nh4\"]"),
        ("start", "start = \"2025-01-01\"", "start = \"2025-13-01\""),
        ("version", "format_version = 1", "format_version = 7"),
        (
            "terminal",
            "from = \"P\"\nto = \"U\"",
            "from = \"U\"\nto = \"R\"",
        ),
        (
            "monthly",
            "demand_m3_per_day = 100",
            "demand_m3_per_day = 100\ndemand_monthly_factors = [1, 2]",
        ),
    ];
    let expect = [
        "no class 'lawn'",
        "unknown factor 'nh4'",
        "'2025-13-01' is not a date",
        "version 7 is not supported",
        "terminal",
        "twelve numbers",
    ];
    for ((name, from, to), want) in cases.iter().zip(expect) {
        let m = one_error(name, &BASE.replace(from, to), &[]);
        assert!(m.contains(want), "{name}: {m}");
    }
}

#[test]
fn json_models_are_accepted_and_round_trip() {
    let model = rewater_model::parse_model(BASE, "m.toml").unwrap();
    let json = serde_json::to_string_pretty(&model).unwrap();
    let back = rewater_model::parse_model(&json, "m.json").unwrap();
    assert_eq!(
        serde_json::to_value(&model).unwrap(),
        serde_json::to_value(&back).unwrap()
    );
    let e = rewater_model::parse_model("{\"format_version\": 1}", "m.json").unwrap_err();
    assert!(e.to_string().contains("model"), "{e}");
}

#[test]
fn shipped_json_schema_is_current() {
    let path =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/rewater-model.schema.json");
    let shipped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("schema file")).unwrap();
    assert_eq!(
        shipped,
        rewater_model::json_schema(),
        "regenerate with: cargo run -p rewater-cli -- schema > schema/rewater-model.schema.json"
    );
}

/// Mutated model files load or fail with an error naming the file; never panic.
#[test]
fn mutated_models_never_panic() {
    let text = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../examples/wanzhou-river-city/model.toml"),
    )
    .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let d = dir("mutate");
    let path = d.join("model.toml");
    let mut state = 0x9E37_79B9u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let replacements = [
        "-1",
        "1e400",
        "\"\"",
        "nan",
        "[1, 2]",
        "{ csv = \"missing.csv\", column = \"x\" }",
        "\"P\"",
        "0",
    ];
    let standards = Standards::builtin();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let mut mutated: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for _ in 0..(1 + next() % 3) {
            let i = (next() % mutated.len() as u64) as usize;
            if let Some((key, _)) = mutated[i].split_once(" = ") {
                let r = replacements[(next() % replacements.len() as u64) as usize];
                mutated[i] = format!("{key} = {r}");
            } else if next() % 2 == 0 {
                mutated.remove(i);
            }
        }
        std::fs::write(&path, mutated.join("\n")).unwrap();
        match load(&path, &standards) {
            Ok(_) => ok += 1,
            Err(e) => {
                err += 1;
                assert!(e.0.iter().all(|x| x.file.ends_with("model.toml")), "{e}");
            }
        }
    }
    assert!(ok > 10 && err > 10, "ok {ok} err {err}");
}

#[test]
fn an_error_on_the_second_link_from_a_node_names_that_link_s_line() {
    let toml = format!("{BASE}\n[[link]]\nfrom = \"P\"\nto = \"Lake\"\n");
    let line = toml.lines().position(|l| l == "to = \"Lake\"").unwrap() + 1;
    assert_eq!(line, 27);
    let m = one_error("secondlink", &toml, &[]);
    assert!(m.contains("model.toml:27: link P->Lake: field 'to'"), "{m}");
}
