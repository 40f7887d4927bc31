//! Hand-computed cases for the daily engine.

use rewater_engine::quality::pkc_outlet;
use rewater_engine::sim::{DailySink, LinkDay, NodeDay, Simulation};
use rewater_engine::Summary;
use rewater_model::{Pkc, Region};
use rewater_standards::{Date, Standards};
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-engine-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn region(name: &str, toml: &str, files: &[(&str, &str)]) -> Region {
    let dir = temp_dir(name);
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    let path = dir.join("model.toml");
    std::fs::write(&path, toml).unwrap();
    rewater_model::load(&path, &Standards::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

/// Keeps every day's node results in memory.
#[derive(Default)]
struct Days {
    nodes: Vec<Vec<NodeDay>>,
    links: Vec<Vec<LinkDay>>,
    conc: Vec<Vec<Vec<f64>>>,
}

impl DailySink for Days {
    fn day(
        &mut self,
        sim: &Simulation,
        _date: Date,
        nodes: &[NodeDay],
        links: &[LinkDay],
    ) -> std::io::Result<()> {
        self.nodes.push(nodes.to_vec());
        self.links.push(links.to_vec());
        self.conc.push(
            (0..nodes.len())
                .map(|i| sim.concentration(i).to_vec())
                .collect(),
        );
        Ok(())
    }
}

fn simulate(region: &Region) -> (Summary, Days) {
    let mut days = Days::default();
    let mut sim = Simulation::new(region).unwrap();
    let summary = sim.run(Some(&mut days), &mut |_, _| {}).unwrap();
    assert_balanced(&summary);
    (summary, days)
}

fn assert_balanced(s: &Summary) {
    let scale = (s.treated_m3 + s.storage_initial_m3).max(1.0);
    assert!(
        s.mass_balance_relative <= 1e-9,
        "region balance {}",
        s.mass_balance_residual_m3
    );
    assert!(
        s.mass_balance_max_node_residual_m3 <= 1e-9 * scale,
        "node balance {}",
        s.mass_balance_max_node_residual_m3
    );
}

fn node(r: &Region, id: &str) -> usize {
    r.nodes.iter().position(|n| n.id == id).unwrap()
}

const HEAD: &str = "format_version = 1\n[model]\nname = \"t\"\nstart = \"2025-01-01\"\n";

#[test]
fn link_capacity_limits_delivery_and_surplus_goes_to_the_river() {
    let r = region(
        "capacity",
        &format!(
            "{HEAD}days = 3\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 1000\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 500\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\ncapacity_m3_per_day = 300\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        ),
        &[],
    );
    let (s, days) = simulate(&r);
    let u = node(&r, "U");
    for d in &days.nodes {
        assert_eq!((d[u].delivered_m3, d[u].deficit_m3), (300.0, 200.0));
        assert_eq!(d[node(&r, "R")].discharged_m3, 700.0);
    }
    assert_eq!(s.delivered_m3, 900.0);
    assert_eq!(s.utilisation_rate, Some(0.3));
}

#[test]
fn priorities_and_explicit_benefits_decide_who_is_short() {
    let toml = |b_benefit: &str| {
        format!(
            "{HEAD}days = 2\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 600\n\
             [[user]]\nid = \"A\"\ncategory = \"industrial_cooling\"\ndemand_m3_per_day = 500\npriority = 1\n\
             [[user]]\nid = \"B\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 500\npriority = 2\n{b_benefit}\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"A\"\n[[link]]\nfrom = \"P\"\nto = \"B\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        )
    };
    let r = region("priority", &toml(""), &[]);
    let (s, _) = simulate(&r);
    assert_eq!(s.users["A"].delivered_m3, 1000.0);
    assert_eq!(s.users["B"].delivered_m3, 200.0);
    assert_eq!(s.delivered_by_priority[&2].deficit_m3, 800.0);
    // pywr-style explicit costs override the priority defaults.
    let r = region("priority-override", &toml("benefit_per_m3 = 5000\n"), &[]);
    let (s, _) = simulate(&r);
    assert_eq!(s.users["B"].delivered_m3, 1000.0);
    assert_eq!(s.users["A"].delivered_m3, 200.0);
}

#[test]
fn pond_fills_spills_and_drains() {
    let csv = "date,influent,demand\n2025-01-01,100,0\n2025-01-02,100,0\n2025-01-03,100,0\n2025-01-04,0,150\n2025-01-05,0,150\n";
    let r = region(
        "pond",
        &format!(
            "{HEAD}days = 5\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_series = {{ csv = \"s.csv\", column = \"influent\" }}\n\
             [[pond]]\nid = \"Pond\"\ncapacity_m3 = 250\ninitial_volume_m3 = 0\n\
             [[user]]\nid = \"U\"\ncategory = \"road_cleaning\"\ndemand_series = {{ csv = \"s.csv\", column = \"demand\" }}\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"Pond\"\n[[link]]\nfrom = \"Pond\"\nto = \"U\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n[[link]]\nfrom = \"Pond\"\nto = \"R\"\n"
        ),
        &[("s.csv", csv)],
    );
    let (s, days) = simulate(&r);
    let (p, u, riv) = (node(&r, "Pond"), node(&r, "U"), node(&r, "R"));
    let storage: Vec<f64> = days.nodes.iter().map(|d| d[p].storage_m3).collect();
    let delivered: Vec<f64> = days.nodes.iter().map(|d| d[u].delivered_m3).collect();
    let spilled: Vec<f64> = days.nodes.iter().map(|d| d[riv].discharged_m3).collect();
    // Stored water is worth more than spilled water; the pond fills to 250 and spills the rest,
    // then serves the user until empty.
    assert_eq!(storage, vec![100.0, 200.0, 250.0, 100.0, 0.0]);
    assert_eq!(delivered, vec![0.0, 0.0, 0.0, 150.0, 100.0]);
    assert_eq!(spilled, vec![0.0, 0.0, 50.0, 0.0, 0.0]);
    assert_eq!(s.users["U"].deficit_m3, 50.0);
    assert_eq!(s.ponds["Pond"].max_m3, 250.0);
}

#[test]
fn influent_above_capacity_is_bypassed_and_penalised() {
    let r = region(
        "bypass",
        &format!(
            "{HEAD}days = 10\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 1200\nbypass_penalty_per_m3 = 2.5\nenergy_kwh_per_m3 = 0.4\nsludge_t_ds_per_1e4_m3 = 1.0\n\
             [[river]]\nid = \"R\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        ),
        &[],
    );
    let (s, _) = simulate(&r);
    assert_eq!(
        (s.total_influent_m3, s.treated_m3, s.bypassed_m3),
        (12000.0, 10000.0, 2000.0)
    );
    assert_eq!(s.bypass_penalty, 5000.0);
    assert_eq!(s.plants["P"].days_bypassing, 10);
    assert!((s.energy_kwh - 4000.0).abs() < 1e-9);
    assert!((s.sludge_t_ds - 1.0).abs() < 1e-12);
}

/// P-k-C* written out independently of the engine's helper.
fn pkc_by_hand(
    c_in: f64,
    (k20, c_star, theta, p): (f64, f64, f64, f64),
    q_m3_d: f64,
    area: f64,
    t: f64,
) -> f64 {
    let q = 365.0 * q_m3_d / area;
    let k = k20 * theta.powf(t - 20.0);
    c_star + (c_in - c_star) / (1.0 + k / (p * q)).powf(p)
}

#[test]
fn wetland_outlet_follows_pkc_at_the_days_loading() {
    let r = region(
        "wetland",
        &format!(
            "{HEAD}days = 2\nfactors = [\"nh3n\", \"tp\", \"cod\"]\n\
             [[plant]]\nid = \"P\"\ncapacity_m3_per_day = 20000\ninfluent_m3_per_day = 10000\neffluent_mg_per_l = {{ nh3n = 5, tp = 0.5, cod = 30 }}\n\
             [[wetland]]\nid = \"W\"\ntype = \"free_water_surface\"\narea_m2 = 200000\nmax_hydraulic_loading_m_per_day = 0.1\ntemperature_c = 10\n\
             [[river]]\nid = \"R\"\n[[link]]\nfrom = \"P\"\nto = \"W\"\n[[link]]\nfrom = \"W\"\nto = \"R\"\n"
        ),
        &[],
    );
    let (_, days) = simulate(&r);
    let w = node(&r, "W");
    let c = &days.conc[1][w];
    // FWS NH4-N (K&W 2009): k 14.7 m/yr, C* 0, θ 1.04, P 3; TP: k 10, C* 0.002, θ 1.0, P 3.4.
    let nh3n = pkc_by_hand(5.0, (14.7, 0.0, 1.04, 3.0), 10_000.0, 200_000.0, 10.0);
    let tp = pkc_by_hand(0.5, (10.0, 0.002, 1.0, 3.4), 10_000.0, 200_000.0, 10.0);
    assert!((c[0] - nh3n).abs() < 1e-12, "{} vs {nh3n}", c[0]);
    assert!((c[1] - tp).abs() < 1e-12);
    // COD has no constants: it passes unchanged.
    assert_eq!(c[2], 30.0);
    let helper = pkc_outlet(
        5.0,
        &Pkc {
            k_m_per_yr: 14.7,
            c_star_mg_per_l: 0.0,
            theta: 1.04,
            p: 3.0,
        },
        10_000.0,
        200_000.0,
        10.0,
    );
    assert!((helper - nh3n).abs() < 1e-15);
    assert!(r.warnings.iter().any(|w| w.contains("cod")));
}

#[test]
fn user_is_refused_non_compliant_water_and_served_when_it_recovers() {
    // NH3-N 12 mg/L through a 10 ha FWS wetland at 36.5 m/yr: about 7.6 mg/L at 25 °C, 9.7 at
    // 5 °C. Urban greening (GB/T 18920-2020 Table 1) allows 8 mg/L.
    let temps = "date,t\n2025-01-01,5\n2025-01-02,25\n2025-01-03,5\n2025-01-04,25\n";
    let r = region(
        "refusal",
        &format!(
            "{HEAD}days = 4\nfactors = [\"nh3n\"]\n\
             [[plant]]\nid = \"P\"\ncapacity_m3_per_day = 20000\ninfluent_m3_per_day = 10000\neffluent_mg_per_l = {{ nh3n = 12 }}\n\
             [[wetland]]\nid = \"W\"\ntype = \"free_water_surface\"\narea_m2 = 100000\nmax_hydraulic_loading_m_per_day = 0.5\ntemperature_series = {{ csv = \"t.csv\", column = \"t\" }}\n\
             [[user]]\nid = \"G\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 2000\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"W\"\n[[link]]\nfrom = \"W\"\nto = \"G\"\n[[link]]\nfrom = \"W\"\nto = \"R\"\n"
        ),
        &[("t.csv", temps)],
    );
    let (s, days) = simulate(&r);
    let g = node(&r, "G");
    let delivered: Vec<f64> = days.nodes.iter().map(|d| d[g].delivered_m3).collect();
    assert_eq!(delivered, vec![0.0, 2000.0, 0.0, 2000.0]);
    let u = &s.users["G"];
    assert_eq!(
        (
            u.days_refused_for_quality,
            u.days_compliant_supply,
            u.days_noncompliant_supply
        ),
        (2, 2, 0)
    );
    assert_eq!(u.standard.as_deref(), Some("GB/T18920-2020:urban_greening"));
    let w = node(&r, "W");
    let cold = pkc_by_hand(12.0, (14.7, 0.0, 1.04, 3.0), 10_000.0, 100_000.0, 5.0);
    let warm = pkc_by_hand(12.0, (14.7, 0.0, 1.04, 3.0), 10_000.0, 100_000.0, 25.0);
    assert!(cold > 8.0 && warm < 8.0);
    assert!((days.conc[0][w][0] - cold).abs() < 1e-12 && (days.conc[1][w][0] - warm).abs() < 1e-12);
    assert_eq!(s.stats.days_quality_not_converged, 0);
}

#[test]
fn equitable_sharing_splits_a_shortage_in_proportion() {
    let toml = |eq: bool| {
        format!(
            "{HEAD}days = 1\nequitable_sharing = {eq}\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 120\n\
             [[user]]\nid = \"A\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 100\n\
             [[user]]\nid = \"B\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 60\n\
             [[link]]\nfrom = \"P\"\nto = \"A\"\n[[link]]\nfrom = \"P\"\nto = \"B\"\n"
        )
    };
    let (s, _) = simulate(&region("equity", &toml(true), &[]));
    // 120 of 160 demanded: 75 % each → A 75, B 45 (pieces of 1/8 of demand land exactly here).
    assert_eq!(
        (s.users["A"].delivered_m3, s.users["B"].delivered_m3),
        (75.0, 45.0)
    );
    let (s, _) = simulate(&region("no-equity", &toml(false), &[]));
    assert_eq!(s.users["A"].delivered_m3 + s.users["B"].delivered_m3, 120.0);
}

#[cfg(feature = "lp")]
#[test]
fn lossy_links_use_the_lp_backend_and_balance() {
    let toml = |solver: &str| {
        format!(
            "{HEAD}days = 3\nsolver = \"{solver}\"\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 150\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 80\n[[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\nloss_fraction = 0.2\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        )
    };
    let r = region("loss", &toml("auto"), &[]);
    let (s, days) = simulate(&r);
    assert_eq!(s.solver, "lp");
    // 80 delivered needs 100 sent: 20 lost, 50 to the river.
    assert!((s.users["U"].delivered_m3 - 240.0).abs() < 1e-6);
    assert!((s.link_losses_m3 - 60.0).abs() < 1e-6);
    assert!((days.links[0][0].flow_m3 - 100.0).abs() < 1e-6);
    assert!((s.discharged_total_m3 - 150.0).abs() < 1e-6);
    let r = region("loss-ns", &toml("network_simplex"), &[]);
    assert!(Simulation::new(&r).is_err());
}

#[test]
fn pond_mixes_completely_and_decays() {
    let r = region(
        "pondq",
        &format!(
            "{HEAD}days = 2\nfactors = [\"tp\"]\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 5000\ninfluent_m3_per_day = 1000\neffluent_mg_per_l = {{ tp = 0.2 }}\n\
             [[pond]]\nid = \"Q\"\ncapacity_m3 = 10000\ninitial_volume_m3 = 1000\ninitial_mg_per_l = {{ tp = 1.0 }}\ndecay_per_day = {{ tp = 0.1 }}\n\
             [[link]]\nfrom = \"P\"\nto = \"Q\"\n"
        ),
        &[],
    );
    let (_, days) = simulate(&r);
    let q = node(&r, "Q");
    // Day 1: (1000·1.0 + 1000·0.2) / 2000 = 0.6. Day 2 starts at 0.6·e^−0.1 in 2000 m³ and
    // takes 1000 m³ at 0.2.
    assert!((days.conc[0][q][0] - 0.6).abs() < 1e-12);
    let day2 = (2000.0 * 0.6 * (-0.1f64).exp() + 1000.0 * 0.2) / 3000.0;
    assert!((days.conc[1][q][0] - day2).abs() < 1e-12);
    assert_eq!(days.nodes[1][q].storage_m3, 3000.0);
}

#[test]
fn evaporation_concentrates_and_seepage_does_not() {
    let r = region(
        "evap",
        &format!(
            "{HEAD}days = 1\nfactors = [\"tn\"]\n\
             [[pond]]\nid = \"Q\"\ncapacity_m3 = 10000\ninitial_volume_m3 = 1000\ninitial_mg_per_l = {{ tn = 5 }}\nsurface_area_m2 = 10000\nevaporation_mm_per_day = 10\nseepage_m3_per_day = 100\n"
        ),
        &[],
    );
    let (s, days) = simulate(&r);
    // 100 m³ evaporates, 100 m³ seeps: 800 m³ left holding the mass of 900 m³ at 5 mg/L.
    assert_eq!(days.nodes[0][0].storage_m3, 800.0);
    assert!((days.conc[0][0][0] - 5.0 * 900.0 / 800.0).abs() < 1e-12);
    assert_eq!(s.pond_losses_m3, 200.0);
}

fn example(name: &str) -> Region {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .join("model.toml");
    rewater_model::load(&path, &Standards::builtin()).unwrap()
}

#[test]
fn examples_close_their_mass_balance_every_day() {
    for name in ["beijing-district", "lianyungang-city", "wanzhou-river-city"] {
        let r = example(name);
        let (s, days) = simulate(&r);
        for (d, nodes) in days.nodes.iter().enumerate() {
            for (i, n) in nodes.iter().enumerate() {
                let scale = n
                    .inflow_m3
                    .max(n.outflow_m3)
                    .max(n.treated_m3)
                    .max(n.storage_m3)
                    .max(1.0);
                assert!(
                    n.balance_residual_m3.abs() <= 1e-9 * scale,
                    "{name} day {d} node {}: {}",
                    r.nodes[i].id,
                    n.balance_residual_m3
                );
            }
        }
        // No user ever receives water that fails its standard.
        assert!(
            s.users.values().all(|u| u.days_noncompliant_supply == 0),
            "{name}"
        );
        if let Some(t) = s.targets.get("utilisation_rate") {
            assert_eq!(t.met, t.achieved >= t.target);
        }
    }
}

#[cfg(feature = "lp")]
#[test]
fn network_simplex_and_lp_agree_on_the_examples() {
    for name in ["beijing-district", "lianyungang-city"] {
        let mut r = example(name);
        r.days = 60;
        let (a, _) = simulate(&r);
        r.solver = rewater_model::SolverChoice::Lp;
        let (b, _) = simulate(&r);
        assert_eq!(b.solver, "lp");
        for (p, t) in &a.delivered_by_priority {
            let other = b.delivered_by_priority[p].delivered_m3;
            assert!(
                (t.delivered_m3 - other).abs() <= 1e-6 * t.delivered_m3.max(1.0),
                "{name} priority {p}: {} vs {other}",
                t.delivered_m3
            );
        }
    }
}

#[test]
fn random_synthetic_regions_balance_and_never_deliver_failing_water() {
    use rewater_model::synthetic::{synthetic_model, SyntheticSpec};
    for seed in 0..12u64 {
        let spec = SyntheticSpec {
            plants: 1 + (seed as usize % 5),
            ponds: seed as usize % 4,
            users: 5 + 7 * seed as usize,
            years: 1,
            seed,
        };
        let mut model = synthetic_model(&spec);
        model.model.days = Some(120);
        model.model.equitable_sharing = seed % 3 == 0;
        let text = toml_text(&model);
        let r = rewater_model::resolve(
            &model,
            &text,
            "synthetic.toml",
            std::path::Path::new("."),
            &Standards::builtin(),
        )
        .unwrap();
        let (s, days) = simulate(&r);
        assert!(
            s.users.values().all(|u| u.days_noncompliant_supply == 0),
            "seed {seed}"
        );
        assert_eq!(s.stats.days_quality_not_converged, 0, "seed {seed}");
        // Deliveries never exceed demand; storage stays within capacity.
        for d in &days.nodes {
            for (i, n) in r.nodes.iter().enumerate() {
                assert!(d[i].delivered_m3 <= d[i].demand_m3 + 1e-9);
                if let rewater_model::NodeKind::Pond(p) = &n.kind {
                    assert!(d[i].storage_m3 <= p.capacity_m3 + 1e-6 && d[i].storage_m3 >= 0.0);
                }
            }
        }
    }
}

fn toml_text(model: &rewater_model::Model) -> String {
    serde_json::to_string(model).unwrap()
}

/// Issue 18: series read from one CSV in one pass run exactly as from one file per column.
#[test]
fn series_from_one_csv_run_as_from_separate_files() {
    let toml = |inflow: &str, demand: &str, factor: &str| {
        format!(
            "{HEAD}days = 3\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\n\
             influent_series = {{ csv = \"{inflow}\", column = \"inflow\" }}\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\n\
             demand_series = {{ csv = \"{demand}\", column = \"demand\" }}\n\
             demand_daily_factors = {{ csv = \"{factor}\", column = \"factor\" }}\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        )
    };
    let one = "date,inflow,demand,factor\n2025-01-01,500,100,1\n2025-01-02,600,800,1\n2025-01-03,700,200,1.5\n";
    let shared = region(
        "one-csv",
        &toml("all.csv", "all.csv", "all.csv"),
        &[("all.csv", one)],
    );
    let separate = region(
        "three-csvs",
        &toml("in.csv", "demand.csv", "factor.csv"),
        &[
            (
                "in.csv",
                "date,inflow\n2025-01-01,500\n2025-01-02,600\n2025-01-03,700\n",
            ),
            (
                "demand.csv",
                "date,demand\n2025-01-01,100\n2025-01-02,800\n2025-01-03,200\n",
            ),
            (
                "factor.csv",
                "date,factor\n2025-01-01,1\n2025-01-02,1\n2025-01-03,1.5\n",
            ),
        ],
    );
    let (a, _) = simulate(&shared);
    let (b, _) = simulate(&separate);
    // Demand 100, 800, 300 against influent 500, 600, 700: 100 + 600 + 300 delivered.
    assert_eq!(a.delivered_m3, 1000.0);
    assert_eq!(a.users["U"].delivered_m3, 1000.0);
    let json = |s: &Summary| {
        let mut v = serde_json::to_value(s).unwrap();
        v["stats"]["solve_seconds"] = 0.into();
        v
    };
    assert_eq!(json(&a), json(&b));
}

#[test]
fn a_run_into_a_folder_writes_daily_csvs_only_when_asked_and_a_summary_read_back_alike() {
    let r = region(
        "to-dir",
        &format!(
            "{HEAD}days = 3\n[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 1000\n\
             [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 500\n\
             [[river]]\nid = \"R\"\n\
             [[link]]\nfrom = \"P\"\nto = \"U\"\n[[link]]\nfrom = \"P\"\nto = \"R\"\n"
        ),
        &[],
    );
    let out = temp_dir("to-dir").join("out/daily");
    let mut days_seen = Vec::new();
    let s = rewater_engine::run_to_dir(&r, &out, true, &mut |d, n| days_seen.push((d, n))).unwrap();
    assert_eq!(s.delivered_m3, 1500.0);
    assert_eq!(days_seen.last(), Some(&(3, 3)), "{days_seen:?}");
    // Header and one row per node (3) or link (2) and day.
    let rows = |f: &str| {
        std::fs::read_to_string(out.join(f))
            .unwrap()
            .lines()
            .count()
    };
    assert_eq!((rows("nodes.csv"), rows("links.csv")), (1 + 9, 1 + 6));
    // The same summary back (solve time aside: serde_json may round its last digit).
    let timeless = |mut s: Summary| {
        s.stats.solve_seconds = 0.0;
        s
    };
    assert_eq!(
        timeless(rewater_engine::read_summary(&out).unwrap()),
        timeless(s)
    );

    let only_summary = out.with_file_name("summary-only");
    rewater_engine::run_to_dir(&r, &only_summary, false, &mut |_, _| {}).unwrap();
    assert!(!only_summary.join("nodes.csv").exists());
    assert_eq!(
        rewater_engine::read_summary(&only_summary.join("summary.json"))
            .unwrap()
            .delivered_m3,
        1500.0
    );
    // A file where the folder should be: the error names the folder.
    let blocked = only_summary.join("summary.json").join("out");
    let e = rewater_engine::run_to_dir(&r, &blocked, false, &mut |_, _| {}).unwrap_err();
    assert_eq!(e.to_string(), format!("creating {}", blocked.display()));
    assert!(matches!(e, rewater_engine::RunToDirError::CreateDir { .. }));
}
