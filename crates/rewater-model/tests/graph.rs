//! The model's own downstream graph: reachable sets computed by hand.

use rewater_model::parse_model;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn map(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

/// P → J1; J1 branches to pond K and user U1; K ⇄ J2 is a loop; J2 → R; a link to an
/// unknown node is ignored.
const BRANCH_AND_LOOP: &str = r#"format_version = 1
[model]
name = "g"
start = "2025-01-01"
days = 1

[[plant]]
id = "P"
capacity_m3_per_day = 10
influent_m3_per_day = 5

[[pond]]
id = "K"
capacity_m3 = 10
initial_volume_m3 = 0

[[junction]]
id = "J2"

[[junction]]
id = "J1"

[[user]]
id = "U1"
category = "urban_greening"
demand_m3_per_day = 1

[[river]]
id = "R"

[[link]]
from = "P"
to = "J1"
[[link]]
from = "J1"
to = "K"
[[link]]
from = "J1"
to = "U1"
[[link]]
from = "K"
to = "J2"
[[link]]
from = "J2"
to = "K"
[[link]]
from = "J2"
to = "R"
[[link]]
from = "K"
to = "Nowhere"
"#;

#[test]
fn node_ids_cover_every_kind_in_file_order() {
    let m = parse_model(BRANCH_AND_LOOP, "g.toml").unwrap();
    let ids: Vec<&str> = m.node_ids().collect();
    assert_eq!(ids, ["P", "K", "J2", "J1", "U1", "R"]);
}

#[test]
fn downstream_of_a_branch_and_a_loop() {
    let m = parse_model(BRANCH_AND_LOOP, "g.toml").unwrap();
    assert_eq!(
        m.downstream(),
        map(&[
            ("P", &["J1", "J2", "K", "R", "U1"]),
            ("J1", &["J2", "K", "R", "U1"]),
            // On the loop, each reaches the other but not itself.
            ("K", &["J2", "R"]),
            ("J2", &["K", "R"]),
            ("U1", &[]),
            ("R", &[]),
        ])
    );
}

#[test]
fn downstream_of_the_beijing_example() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/beijing-district/model.toml");
    let m = parse_model(&std::fs::read_to_string(&path).unwrap(), "model.toml").unwrap();
    assert_eq!(m.node_ids().count(), 14);
    let users = [
        "greening",
        "industrial-park",
        "power-cooling",
        "road-cleaning",
    ];
    let mut north: Vec<&str> = users.to_vec();
    north.extend([
        "landscape-lake",
        "network-north",
        "outfall-north",
        "pond",
        "river",
        "river-replenishment",
        "wetland",
    ]);
    north.sort();
    let mut south: Vec<&str> = users.to_vec();
    south.extend(["network-north", "outfall-south", "river-replenishment"]);
    south.sort();
    let none: &[&str] = &[];
    assert_eq!(
        m.downstream(),
        map(&[
            ("plant-north", &north),
            ("plant-south", &south),
            (
                "wetland",
                &["landscape-lake", "pond", "river", "river-replenishment"]
            ),
            ("pond", &["landscape-lake", "river"]),
            ("network-north", &users),
            ("power-cooling", none),
            ("industrial-park", none),
            ("greening", none),
            ("road-cleaning", none),
            ("landscape-lake", none),
            ("river-replenishment", none),
            ("river", none),
            ("outfall-north", none),
            ("outfall-south", none),
        ])
    );
}
