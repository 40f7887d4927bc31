//! Repeated days (src/sim/repeat.rs): a day with the inputs of the day before, starting from
//! the state the day before started from, is copied instead of simulated. The results must be
//! those of simulating every day, bit for bit, on hand-made cases, the synthetic regions and
//! the bundled examples.

use rewater_engine::sim::{DailySink, LinkDay, NodeDay, Simulation};
use rewater_engine::Summary;
use rewater_model::Region;
use rewater_standards::{Date, Standards};
use std::path::Path;

const HEAD: &str = "format_version = 1\n[model]\nname = \"t\"\nstart = \"2025-01-01\"\n";

fn region(name: &str, toml: &str) -> Region {
    let dir = std::env::temp_dir().join(format!("rewater-repeat-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.toml");
    std::fs::write(&path, toml).unwrap();
    rewater_model::load(&path, &Standards::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

/// Every day's node and link results and qualities, as bits.
#[derive(Default)]
struct Days(Vec<u64>);

impl DailySink for Days {
    fn day(
        &mut self,
        sim: &Simulation,
        date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()> {
        self.0.push(date.wall_seconds() as u64);
        for n in nodes {
            let v = [
                n.inflow_m3,
                n.outflow_m3,
                n.storage_m3,
                n.demand_m3,
                n.delivered_m3,
                n.deficit_m3,
                n.treated_m3,
                n.bypassed_m3,
                n.discharged_m3,
                n.pond_loss_m3,
                n.balance_residual_m3,
            ];
            self.0.extend(v.iter().map(|x| x.to_bits()));
            self.0.push(u64::from(n.refused_for_quality));
            self.0.push(n.compliant.map_or(2, u64::from));
        }
        for l in links {
            self.0.extend([l.flow_m3.to_bits(), l.loss_m3.to_bits()]);
            self.0.push(u64::from(l.open));
        }
        for i in 0..nodes.len() {
            let c = sim
                .concentration(i)
                .iter()
                .chain(sim.inlet_concentration(i));
            self.0.extend(c.map(|x| x.to_bits()));
        }
        Ok(())
    }
}

/// Runs with and without repeated days; returns both summaries (stats cleared after checking
/// that only the solve counts differ) and the number of days copied.
fn both(r: &Region) -> (Summary, u64) {
    let run = |repeat: bool| {
        let mut sim = Simulation::new(r).unwrap();
        sim.set_repeat_days(repeat);
        let mut days = Days::default();
        let s = sim.run(Some(&mut days), &mut |_, _| {}).unwrap();
        (s, days)
    };
    let (mut with, days_with) = run(true);
    let (mut without, days_without) = run(false);
    assert_eq!(without.stats.repeated_days, 0);
    assert!(
        days_with.0 == days_without.0,
        "daily results differ with repeated days"
    );
    let repeated = with.stats.repeated_days;
    assert!(with.stats.solves + repeated >= without.stats.solves.min(r.days as u64));
    with.stats = Default::default();
    without.stats = Default::default();
    assert_eq!(with, without);
    (with, repeated)
}

/// A plant of 100 m³/d fills an empty pond of 200 m³ that serves a user of 60 m³/d: 40 m³ a
/// day is stored on days 1–5 (40, 80 … 200 m³), then the pond stays full and the river takes
/// the 40 m³. Day 6 is the first day that ends as it starts (no quality factors: the state is
/// the pond's storage); January's days 7–31 copy it.
/// In February the demand halves (monthly factor 0.5): day 32 is simulated (input change)
/// and, ending as it started, is copied by days 33–59. Simulated: 6 + 1 = 7 days, copied 52.
#[test]
fn a_filling_pond_settles_and_the_month_after_repeats() {
    let mut f = ["1.0"; 12];
    f[1] = "0.5";
    let r = region(
        "fill",
        &format!(
            "{HEAD}days = 59\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 100\n\
             [[pond]]\nid = \"Pond\"\ncapacity_m3 = 200\ninitial_volume_m3 = 0\n\
             [[user]]\nid = \"U\"\ncategory = \"road_cleaning\"\ndemand_m3_per_day = 60\ndemand_monthly_factors = [{}]\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"Pond\"\n[[link]]\nfrom = \"Pond\"\nto = \"U\"\n[[link]]\nfrom = \"Pond\"\nto = \"R\"\n",
            f.join(", ")
        ),
    );
    let (s, repeated) = both(&r);
    assert_eq!(repeated, 52);
    assert_eq!(s.ponds["Pond"].final_m3, 200.0);
    assert_eq!(s.users["U"].delivered_m3, 31.0 * 60.0 + 28.0 * 30.0);
    // Into the river: January 25 full days of 40 m³ + February 28 days of 70 m³.
    assert_eq!(s.discharged_m3["R"], 26.0 * 40.0 + 28.0 * 70.0);
}

/// A pond that loses water every day never starts two days alike while it drains: nothing is
/// copied until it is empty, and the results still equal simulating every day.
#[test]
fn a_draining_pond_is_never_copied_before_it_is_empty() {
    let r = region(
        "drain",
        &format!(
            "{HEAD}days = 20\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 0\n\
             [[pond]]\nid = \"Pond\"\ncapacity_m3 = 1000\ninitial_volume_m3 = 500\n\
             [[user]]\nid = \"U\"\ncategory = \"road_cleaning\"\ndemand_m3_per_day = 50\n\
             [[link]]\nfrom = \"P\"\nto = \"Pond\"\n[[link]]\nfrom = \"Pond\"\nto = \"U\"\n"
        ),
    );
    let (s, repeated) = both(&r);
    // 500 m³ last 10 days; day 11 finds the pond empty and ends empty: days 12–20 copy it.
    assert_eq!(s.users["U"].delivered_m3, 500.0);
    assert_eq!(repeated, 9);
}

/// Qualities that settle (a pond mixing and decaying) are part of the state: the days are
/// copied only once the pond's quality is a fixed point to the bit, and the results equal
/// simulating every day.
#[test]
fn a_pond_quality_that_settles_is_part_of_the_state() {
    let r = region(
        "quality",
        &format!(
            "{HEAD}days = 400\nfactors = [\"tp\"]\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 1000\neffluent_mg_per_l = {{ tp = 0.2 }}\n\
             [[pond]]\nid = \"Q\"\ncapacity_m3 = 10000\ninitial_volume_m3 = 10000\ninitial_mg_per_l = {{ tp = 1.0 }}\ndecay_per_day = {{ tp = 0.1 }}\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"Q\"\n[[link]]\nfrom = \"Q\"\nto = \"R\"\n"
        ),
    );
    let (_, repeated) = both(&r);
    // The quality converges geometrically to its fixed point and reaches it to the bit after
    // some hundred days at most; before that no day may be copied.
    assert!(repeated > 0 && repeated < 399, "{repeated}");
}

/// The synthetic regions (monthly demand factors, quality on) and the bundled examples (daily
/// series): the same results with and without repeated days.
#[test]
fn synthetic_regions_and_examples_give_the_same_results() {
    let standards = Standards::builtin();
    for (plants, ponds, users, years, quality) in [(4, 2, 30, 2, true), (6, 3, 60, 1, false)] {
        let spec = rewater_model::synthetic::SyntheticSpec {
            plants,
            ponds,
            users,
            years,
            seed: 7,
        };
        let mut model = rewater_model::synthetic::synthetic_model(&spec);
        if !quality {
            // As the pywr comparison runs it (tools/pywr_compare.py): no factors, no pond losses.
            model.model.factors.clear();
            for p in &mut model.ponds {
                p.evaporation_mm_per_day = 0.0;
                p.seepage_m3_per_day = 0.0;
                p.decay_per_day.clear();
                p.initial_mg_per_l.clear();
            }
            for p in &mut model.plants {
                p.effluent_mg_per_l.clear();
                p.influent_mg_per_l.clear();
                p.effluent_standard = None;
            }
            for w in &mut model.wetlands {
                w.pkc.clear();
            }
        }
        let text = toml::to_string(&model).unwrap();
        let r = rewater_model::resolve(&model, &text, "synthetic.toml", Path::new("."), &standards)
            .unwrap();
        let (_, repeated) = both(&r);
        // With quality, pond qualities converge geometrically and do not settle to the bit
        // within a month; without, the ponds fill and most days repeat.
        if !quality {
            assert!(
                repeated > r.days as u64 / 2,
                "{plants}/{ponds}/{users}: {repeated} of {} days copied",
                r.days
            );
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for ex in ["beijing-district", "lianyungang-city"] {
        let r = rewater_model::load(&root.join(ex).join("model.toml"), &standards)
            .unwrap_or_else(|e| panic!("{ex}: {e}"));
        both(&r);
    }
}
