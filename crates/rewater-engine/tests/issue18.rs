//! Issue 18, engine for optimisation: cost resolution, bypass as a decision, re-used and
//! parallel evaluations. Expected values worked out by hand in the comments.

use rewater_engine::sim::Simulation;
use rewater_engine::{evaluate_many, Summary};
use rewater_model::{NodeKind, Region};
use rewater_standards::Standards;
use std::path::Path;

const HEAD: &str = "format_version = 1\n[model]\nname = \"t\"\nstart = \"2025-01-01\"\n";

fn region(name: &str, toml: &str) -> Region {
    let dir = std::env::temp_dir().join(format!("rewater-issue18-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.toml");
    std::fs::write(&path, toml).unwrap();
    rewater_model::load(&path, &Standards::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

/// Two routes to one user differ by 0.0008 per m³ (0.0014 and 0.0006): at the old fixed
/// resolution of 0.001 both were 0.001, a tie. The scale is now chosen so that both costs are
/// held exactly (10⁴), and the cheap route, capped at 60 m³/d, carries 60 of the 100 m³/d.
#[test]
fn the_cost_scale_keeps_a_difference_finer_than_a_thousandth() {
    let r = region(
        "fine-costs",
        &format!(
            "{HEAD}days = 2\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 100\ninfluent_m3_per_day = 100\n\
             [[junction]]\nid = \"A\"\n[[junction]]\nid = \"B\"\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 100\n\
             [[link]]\nfrom = \"P\"\nto = \"A\"\n[[link]]\nfrom = \"A\"\nto = \"U\"\ncost_per_m3 = 0.0014\n\
             [[link]]\nfrom = \"P\"\nto = \"B\"\n[[link]]\nfrom = \"B\"\nto = \"U\"\ncost_per_m3 = 0.0006\ncapacity_m3_per_day = 60\n"
        ),
    );
    let mut sim = Simulation::new(&r).unwrap();
    assert_eq!(sim.cost_scale(), 1e4);
    let mut flows = Vec::new();
    struct Flows<'a>(&'a mut Vec<(f64, f64)>, usize, usize);
    impl rewater_engine::sim::DailySink for Flows<'_> {
        fn day(
            &mut self,
            _: &Simulation,
            _: rewater_standards::Date,
            _: &[rewater_engine::sim::NodeDay],
            links: &[rewater_engine::sim::LinkDay],
        ) -> std::io::Result<()> {
            self.0.push((links[self.1].flow_m3, links[self.2].flow_m3));
            Ok(())
        }
    }
    let au = r
        .links
        .iter()
        .position(|l| r.nodes[l.from].id == "A")
        .unwrap();
    let bu = r
        .links
        .iter()
        .position(|l| r.nodes[l.from].id == "B")
        .unwrap();
    let s = sim
        .run(Some(&mut Flows(&mut flows, au, bu)), &mut |_, _| {})
        .unwrap();
    assert_eq!(flows, vec![(40.0, 60.0); 2]);
    assert!(
        !s.warnings.iter().any(|w| w.contains("rounded")),
        "{:?}",
        s.warnings
    );
}

/// A penalty of 10⁹ per m³ on the river leaves integer headroom for a resolution of 10⁻⁷ per
/// m³ only (4 solver nodes: ((4+1)·c + 1)·(4+2) ≤ 2⁶³/4 gives c ≤ 7.7·10¹⁶, so 10⁹ × 10⁷).
/// A link cost of 0.123456789 per m³ is then held as 0.1234568, and the run's warnings name
/// the link and the field, in English and Chinese.
#[test]
fn a_cost_the_resolution_rounds_is_named_in_a_warning() {
    let r = region(
        "rounded-cost",
        &format!(
            "{HEAD}days = 1\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 100\ninfluent_m3_per_day = 100\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 100\n\
             [[river]]\nid = \"R\"\ncost_per_m3 = 1e9\n\
             [[link]]\nid = \"main\"\nfrom = \"P\"\nto = \"U\"\ncost_per_m3 = 0.123456789\n\
             [[link]]\nfrom = \"P\"\nto = \"R\"\n"
        ),
    );
    let mut sim = Simulation::new(&r).unwrap();
    assert_eq!(sim.cost_scale(), 1e7);
    let s = sim.run(None, &mut |_, _| {}).unwrap();
    let w: Vec<&String> = s
        .warnings
        .iter()
        .filter(|w| w.contains("rounded"))
        .collect();
    assert_eq!(w.len(), 1, "{:?}", s.warnings);
    assert!(
        w[0].starts_with(
            "link main: field 'cost_per_m3': 0.123456789 per m³ is rounded to 0.1234568"
        ),
        "{}",
        w[0]
    );
    assert!(w[0].contains("被舍入为 0.1234568"), "{}", w[0]);
    assert_eq!(s.delivered_m3, 100.0);
}

/// Plant: capacity 1000, influent 1200, bypass cost 50 per m³. User: 300 m³/d. River: 80 per
/// m³. 200 m³ exceed the capacity (bypassed, forced). Of the 1000 treated, 300 go to the user;
/// the other 700 can go to the river at 80 or be bypassed at 50: bypassed. So per day
/// bypassed 900, treated 300, discharged 0, bypass cost 900 × 50 = 45,000. With the river at
/// 20 per m³ the 700 are discharged instead: bypassed 200, treated 1000, cost 10,000.
#[test]
fn bypass_is_a_decision_at_the_plants_own_cost() {
    let model = |river_cost: f64| {
        format!(
            "{HEAD}days = 3\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 1200\nbypass_penalty_per_m3 = 50\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 300\n\
             [[river]]\nid = \"R\"\ncost_per_m3 = {river_cost}\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        )
    };
    let s = rewater_engine::run(&region("bypass-cheaper", &model(80.0))).unwrap();
    assert_eq!(s.plants["P"].bypassed_m3, 3.0 * 900.0);
    assert_eq!(s.plants["P"].treated_m3, 3.0 * 300.0);
    assert_eq!(s.plants["P"].unrouted_m3, 0.0);
    assert_eq!(s.plants["P"].days_bypassing, 3);
    assert_eq!(s.discharged_total_m3, 0.0);
    assert_eq!(s.bypass_penalty, 3.0 * 45_000.0);
    assert_eq!(s.delivered_m3, 900.0);
    assert!(s.mass_balance_relative <= 1e-12);
    let s = rewater_engine::run(&region("bypass-dearer", &model(20.0))).unwrap();
    assert_eq!(s.plants["P"].bypassed_m3, 3.0 * 200.0);
    assert_eq!(s.plants["P"].treated_m3, 3.0 * 1000.0);
    assert_eq!(s.discharged_total_m3, 3.0 * 700.0);
    assert_eq!(s.bypass_penalty, 3.0 * 10_000.0);
}

/// A plant with no outfall at all (the old "unrouted" case): what no user takes is bypassed
/// at the documented default of 100 per m³.
#[test]
fn a_plant_without_an_outfall_bypasses_at_the_default_cost() {
    let r = region(
        "no-outfall",
        &format!(
            "{HEAD}days = 1\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 500\ninfluent_m3_per_day = 400\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 150\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\n"
        ),
    );
    let s = rewater_engine::run(&r).unwrap();
    assert_eq!(s.bypassed_m3, 250.0);
    assert_eq!(s.treated_m3, 150.0);
    assert_eq!(
        s.bypass_penalty,
        250.0 * rewater_model::load::DEFAULT_BYPASS_PENALTY_PER_M3
    );
    assert_eq!(rewater_model::load::DEFAULT_BYPASS_PENALTY_PER_M3, 100.0);
}

fn example(name: &str) -> Region {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join("model.toml");
    rewater_model::load(&path, &Standards::builtin()).unwrap()
}

/// Designs of the Beijing-style example: link capacities and costs, wetland sizes and user
/// benefits scaled design by design, as an optimiser's evaluations would.
fn designs() -> Vec<Region> {
    let base = example("beijing-district");
    (0..6)
        .map(|k| {
            let mut r = base.clone();
            let f = 0.4 + 0.25 * k as f64;
            for l in &mut r.links {
                l.capacity_m3_per_day = l.capacity_m3_per_day.map(|c| c * f);
                l.cost_per_m3 *= 2.0 - f;
            }
            for n in &mut r.nodes {
                match &mut n.kind {
                    NodeKind::Wetland(w) => w.max_inflow_m3_per_day *= f,
                    NodeKind::Plant(p) => p.capacity_m3_per_day *= 0.8 + 0.1 * k as f64,
                    NodeKind::User(u) if k % 2 == 1 => u.benefit_per_m3 *= 1.5,
                    _ => {}
                }
            }
            r
        })
        .collect()
}

/// The summary as text, without the measured solve time (the only thing that may differ).
fn canonical(s: &Summary) -> String {
    let mut s = s.clone();
    s.stats.solve_seconds = 0.0;
    serde_json::to_string(&s).unwrap()
}

/// One simulation re-used for design after design gives, bit for bit, what a fresh
/// simulation of each design gives; and the designs differ (so the test can tell).
#[test]
fn a_reused_simulation_gives_what_a_fresh_one_gives() {
    let designs = designs();
    let fresh: Vec<String> = designs
        .iter()
        .map(|r| canonical(&rewater_engine::run(r).unwrap()))
        .collect();
    let mut sim = Simulation::new(&designs[designs.len() - 1]).unwrap();
    sim.run(None, &mut |_, _| {}).unwrap();
    for (r, want) in designs.iter().zip(&fresh) {
        sim.reset_for(r).unwrap();
        assert_eq!(&canonical(&sim.run(None, &mut |_, _| {}).unwrap()), want);
    }
    let distinct: std::collections::BTreeSet<&String> = fresh.iter().collect();
    assert_eq!(distinct.len(), designs.len());
}

/// A region of another network is refused, naming why.
#[test]
fn reset_for_refuses_another_network() {
    let a = example("beijing-district");
    let mut b = a.clone();
    b.links.pop();
    let mut sim = Simulation::new(&a).unwrap();
    let e = sim.reset_for(&b).err().unwrap().to_string();
    assert!(e.contains("not of the network"), "{e}");
}

/// Evaluations in parallel (rayon) give the serial results, in order; regions of two networks
/// mixed in one batch are fine too.
#[test]
fn parallel_evaluations_equal_serial_ones() {
    let mut regions = designs();
    regions.insert(2, example("lianyungang-city"));
    let serial: Vec<String> = regions
        .iter()
        .map(|r| canonical(&rewater_engine::run(r).unwrap()))
        .collect();
    let parallel: Vec<String> = evaluate_many(&regions)
        .into_iter()
        .map(|s| canonical(&s.unwrap()))
        .collect();
    assert_eq!(parallel, serial);
}
