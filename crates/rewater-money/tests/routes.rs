//! Cost per supply route from a known engine run of a small model built here, hand-computed.
//!
//! Ten days. P1 (east) treats 1,000 m³/d at 0.5 kWh/m³, P2 (west) 400 m³/d at 0.4 kWh/m³.
//! P2's only way out is the junction J; J serves U1 (450 m³/d arriving through a pipe that
//! loses 10 %, so 500 m³/d enter it) and U2 (300 m³/d): 800 m³/d, 400 from each plant; P1's
//! other 600 m³/d go straight to the river R. A pipe J → R is never used (its solver weight
//! makes it the dearest way), so its own cost is unallocated.

use rewater_money::cost::{cost_of_model, RouteCost};
use rewater_money::routes::End;
use rewater_money::{Lang, RuleBook};

const MODEL: &str = r#"format_version = 1
[model]
name = "routes"
start = "2025-01-01"
days = 10

[[plant]]
id = "P1"
district = "east"
capacity_m3_per_day = 2000
influent_m3_per_day = 1000
energy_kwh_per_m3 = 0.5

[[plant]]
id = "P2"
district = "west"
capacity_m3_per_day = 1000
influent_m3_per_day = 400
energy_kwh_per_m3 = 0.4

[[junction]]
id = "J"

[[user]]
id = "U1"
category = "urban_greening"
demand_m3_per_day = 450
priority = 1
district = "west"

[[user]]
id = "U2"
category = "road_cleaning"
demand_m3_per_day = 300
priority = 1
district = "east"

[[river]]
id = "R"

[[link]]
from = "P1"
to = "J"

[[link]]
from = "P2"
to = "J"

[[link]]
from = "J"
to = "U1"
loss_fraction = 0.1

[[link]]
from = "J"
to = "U2"

[[link]]
from = "P1"
to = "R"

[[link]]
from = "J"
to = "R"
cost_per_m3 = 1.0
"#;

/// Both plants: 0.5 元/kWh, 0.1 元/m³ chemicals, 36,500 yuan O&M a year (1,000 in ten days),
/// no capex. Pipe J→U1 pumps 0.2 kWh/m³ at 0.5 and costs 3,650 a year to run; J→U2 costs
/// 36,500 of capital over one year at 0 %; J→R 365 a year to run.
const COST: &str = r#"id = "test-cost"
version = "1"
kind = "cost"
title = { zh = "测试", en = "test" }
document = "test"
valid_from = "2025-01-01"
confidence = "unverified"

[cost.default]
tariff_yuan_per_kwh = 0.5
chemicals_yuan_per_m3 = 0.1
om_yuan_per_year = 36500.0
capex_yuan = 0.0
lifetime_years = 20
discount_rate = 0.05

[[cost.link]]
id = "J->U1"
tariff_yuan_per_kwh = 0.5
pumping_kwh_per_m3 = 0.2
om_yuan_per_year = 3650.0

[[cost.link]]
id = "J->U2"
capex_yuan = 36500.0
lifetime_years = 1

[[cost.link]]
id = "J->R"
om_yuan_per_year = 365.0
"#;

fn setup() -> (rewater_model::Region, RuleBook) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("rewater-routes-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let model = dir.join("model.toml");
    std::fs::write(&model, MODEL).unwrap();
    let cost = dir.join("cost.toml");
    std::fs::write(&cost, COST).unwrap();
    let standards = rewater_standards::Standards::builtin();
    let region = rewater_model::load(&model, &standards).unwrap();
    let mut book = RuleBook::bundled();
    book.add_file(&cost).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (region, book)
}

fn route<'a>(routes: &'a [RouteCost], from: &str, to: &str) -> &'a RouteCost {
    routes
        .iter()
        .find(|r| r.source == from && r.to == to)
        .unwrap_or_else(|| panic!("no route {from} → {to}: {routes:#?}"))
}

fn near(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn unit_cost_per_plant_and_route_of_a_known_run() {
    let (region, book) = setup();
    let c = cost_of_model(&book, "test-cost", "reclaimed-price", &region).unwrap();
    // The flows the engine reported, by link, over the ten days.
    let flow = |id: &str| c.links.iter().find(|l| l.link == id).unwrap();
    assert!(near(flow("P1->J").flow_m3, 4_000.0), "{:?}", c.links);
    assert!(near(flow("P2->J").flow_m3, 4_000.0));
    assert!(near(flow("J->U1").flow_m3, 5_000.0) && near(flow("J->U1").arrived_m3, 4_500.0));
    assert!(near(flow("J->U2").flow_m3, 3_000.0));
    assert!(near(flow("P1->R").flow_m3, 6_000.0));
    assert!(near(flow("J->R").flow_m3, 0.0));
    // Plants: P1 10,000 m³ × 0.5 kWh × 0.5 = 2,500 + chemicals 1,000 + O&M 1,000 = 4,500
    // (0.45 元/m³); P2 4,000 × 0.4 × 0.5 = 800 + 400 + 1,000 = 2,200 (0.55 元/m³).
    assert!(near(c.plants[0].total_yuan, 4_500.0) && near(c.plants[1].total_yuan, 2_200.0));
    assert!(near(c.plants[0].unit_yuan_per_m3.unwrap(), 0.45));
    assert!(near(c.plants[1].unit_yuan_per_m3.unwrap(), 0.55));
    // Pipes: J→U1 5,000 × 0.2 × 0.5 = 500 + 100 O&M = 600; J→U2 1,000 of capital; J→R 10.
    assert!(near(flow("J->U1").total_yuan, 600.0));
    assert!(near(flow("J->U2").capital_yuan, 1_000.0));
    assert!(near(flow("J->R").total_yuan, 10.0));
    assert!(near(c.pipes_yuan, 1_610.0) && near(c.unallocated_pipes_yuan, 10.0));
    assert!(near(c.cost_yuan, 6_700.0 + 1_610.0));
    // P1's 4,500 leave it by volume: 4,000 of 10,000 m³ to J (1,800), 6,000 to R (2,700).
    // J holds 1,800 of P1 and 2,200 of P2 over 8,000 m³ out, half from each plant: U1's pipe
    // takes 5/8 (P1 1,125, P2 1,375) and its 600 split half and half; U2's 3/8 (675, 825) and
    // its 1,000 half and half. U1 receives 2,250 m³ of each plant's water.
    let r = route(&c.routes, "P1", "U1");
    assert_eq!(r.end, End::User);
    assert!(near(r.volume_m3, 2_250.0));
    // 1,125 = 0.25 of P1: energy 625, chemicals 250, O&M 250.
    assert!(near(r.energy_yuan, 625.0) && near(r.chemicals_yuan, 250.0) && near(r.om_yuan, 250.0));
    assert!(near(r.pipes_yuan, 300.0) && near(r.total_yuan, 1_425.0));
    assert!(near(r.unit_yuan_per_m3.unwrap(), 1_425.0 / 2_250.0));
    assert_eq!(
        (r.source_district.as_str(), r.to_district.as_str()),
        ("east", "west")
    );
    let r = route(&c.routes, "P2", "U1");
    assert!(near(r.volume_m3, 2_250.0) && near(r.total_yuan, 1_375.0 + 300.0));
    assert!(near(r.unit_yuan_per_m3.unwrap(), 1_675.0 / 2_250.0));
    let r = route(&c.routes, "P1", "U2");
    assert!(near(r.volume_m3, 1_500.0) && near(r.total_yuan, 675.0 + 500.0));
    assert!(near(r.unit_yuan_per_m3.unwrap(), 1_175.0 / 1_500.0));
    let r = route(&c.routes, "P2", "U2");
    assert!(near(r.volume_m3, 1_500.0) && near(r.total_yuan, 825.0 + 500.0));
    let r = route(&c.routes, "P1", "R");
    assert_eq!(r.end, End::Discharged);
    assert!(near(r.volume_m3, 6_000.0) && near(r.total_yuan, 2_700.0));
    assert!(near(r.unit_yuan_per_m3.unwrap(), 0.45));
    assert_eq!(c.routes.len(), 5);
    // Nothing is lost: the routes hold every yuan but the unused pipe's.
    let held: f64 = c.routes.iter().map(|r| r.total_yuan).sum();
    assert!(near(held + c.unallocated_pipes_yuan, c.cost_yuan));

    // The table: one row a route plus the unallocated pipe, UNVERIFIED (an example set).
    let t = c.tables(&book, Lang::En);
    let routes = t.iter().find(|t| t.id == "cost-routes").unwrap();
    assert_eq!(routes.rows.len(), 6);
    assert!(routes.unverified);
    assert!(routes.heading(Lang::En).ends_with("[UNVERIFIED]"));
    let csv = rewater_money::Table::csv_text(&c.tables(&book, Lang::Zh), Lang::Zh);
    assert!(
        csv.contains("供水线路单位成本（水厂→用户） [UNVERIFIED]"),
        "{csv}"
    );
    assert!(
        csv.contains("P1,east,U1,用户,west,2250,625,250,250,0,300,1425,0.63"),
        "{csv}"
    );
}

#[test]
fn a_district_operator_sees_its_plants_routes_only() {
    let (region, book) = setup();
    let mut c = cost_of_model(&book, "test-cost", "reclaimed-price", &region).unwrap();
    c.only_district("west");
    assert_eq!(c.plants.len(), 1);
    assert!(c.routes.iter().all(|r| r.source == "P2"));
    assert_eq!(c.routes.len(), 2);
    assert!(c.links.iter().all(|l| l.from == "P2") && c.users.is_empty());
}

#[test]
fn a_pipe_figure_for_a_link_the_model_lacks_is_refused() {
    let (region, mut book) = setup();
    let mut s = book.sets["test-cost"].clone();
    let cost = s.cost.as_mut().unwrap();
    cost.link[0].id = "J->nowhere".into();
    book.add(s);
    let e = cost_of_model(&book, "test-cost", "reclaimed-price", &region).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rule set 'test-cost': [[cost.link]] 'J->nowhere': the model has no such link"
    );
}

/// A loop: P → K (a pond) ⇄ J → U. Over one day P treats 100 m³ into K; K sends 150 to J,
/// J 50 back to K and 100 to U (K starts and ends empty). Pipe K→J costs 15 yuan, J→U 30.
/// All of P's cost and both pipes' yuan end at U: K's share s = 1 + s·50/150 → 1.5, U gets
/// 1.5 × 100/150 = 1; J's pipe yuan q = 15 + q·50/150 → 22.5, U gets 15 of it, plus 30.
#[test]
fn a_loop_settles_by_sweeps_and_keeps_every_yuan() {
    let model = r#"format_version = 1
[model]
name = "loop"
start = "2025-01-01"
days = 1

[[plant]]
id = "P"
capacity_m3_per_day = 200
influent_m3_per_day = 100

[[pond]]
id = "K"
capacity_m3 = 1000
initial_volume_m3 = 0

[[junction]]
id = "J"

[[user]]
id = "U"
category = "urban_greening"
demand_m3_per_day = 100

[[link]]
from = "P"
to = "K"
[[link]]
from = "K"
to = "J"
[[link]]
from = "J"
to = "K"
[[link]]
from = "J"
to = "U"
"#;
    let dir = std::env::temp_dir().join(format!("rewater-routes-loop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.toml");
    std::fs::write(&path, model).unwrap();
    let region = rewater_model::load(&path, &rewater_standards::Standards::builtin()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let node = |id: &str| region.nodes.iter().position(|n| n.id == id).unwrap();
    let link = |id: &str| region.links.iter().position(|l| l.id == id).unwrap();
    let mut f = rewater_money::routes::FlowTotals::new(&region);
    f.days = 1;
    f.treated_m3[node("P")] = 100.0;
    f.delivered_m3[node("U")] = 100.0;
    for (id, m3) in [
        ("P->K", 100.0),
        ("K->J", 150.0),
        ("J->K", 50.0),
        ("J->U", 100.0),
    ] {
        f.link_flow_m3[link(id)] = m3;
        f.link_arrived_m3[link(id)] = m3;
    }
    let mut own = vec![0.0; region.links.len()];
    own[link("K->J")] = 15.0;
    own[link("J->U")] = 30.0;
    let t = rewater_money::routes::trace(&region, &f, &own).unwrap();
    assert!(
        t.sweeps > 2,
        "a loop needs more than one sweep: {}",
        t.sweeps
    );
    assert_eq!(t.routes.len(), 1, "{:?}", t.routes);
    let r = &t.routes[0];
    assert_eq!((r.end_node, r.end), (node("U"), End::User));
    assert!((r.volume_m3 - 100.0).abs() < 1e-9);
    assert!((r.plant_share - 1.0).abs() < 1e-9, "{}", r.plant_share);
    assert!((r.pipes_yuan - 45.0).abs() < 1e-9, "{}", r.pipes_yuan);
}
