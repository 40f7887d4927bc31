//! Every bundled indicator computed on hand-built statistics and on a model run with
//! hand-checked values; unknown quantities give "not reported"; targets, trends, districts.

use rewater_indicators::monitoring::{monitoring_quantities, MonitoringRates};
use rewater_indicators::{
    scorecard, Catalog, Direction, Origin, QuantityTable, RowStatus, ScorecardOptions, TargetSet,
};
use rewater_standards::Standards;

fn stat() -> Origin {
    Origin::Statistics {
        file: "t.csv".into(),
        row: 2,
    }
}

/// Hand-built inputs for district "d1", 2025: every quantity of the catalogue.
fn inputs() -> Vec<(&'static str, f64)> {
    vec![
        ("wastewater_treated_m3", 9_000_000.0),
        ("wastewater_discharged_m3", 10_000_000.0),
        ("wastewater_treated_compliant_m3", 8_500_000.0),
        ("township_wastewater_treated_m3", 800_000.0),
        ("township_wastewater_discharged_m3", 1_000_000.0),
        ("wwtp_influent_bod5_t", 4_380.0),
        ("bod5_per_capita_g_per_person_day", 60.0),
        ("urban_population_persons", 250_000.0),
        ("treatment_capacity_m3_per_day", 300_000.0),
        ("treatment_capacity_added_m3_per_day", 70_000.0),
        ("plants_built_count", 3.0),
        ("plants_upgraded_count", 2.0),
        ("plants_count", 8.0),
        ("plants_meeting_1a_count", 6.0),
        ("reclaimed_used_m3", 2_700_000.0),
        ("reclaimed_demand_m3", 3_000_000.0),
        ("supply_days", 400.0),
        ("supply_days_compliant", 390.0),
        ("wetland_outlet_days", 360.0),
        ("wetland_outlet_days_class_v", 342.0),
        ("sludge_generated_t_ds", 1_000.0),
        ("sludge_harmless_t_ds", 970.0),
        ("sludge_local_reuse_t_ds", 250.0),
        ("rural_villages_count", 200.0),
        ("rural_villages_treated_count", 150.0),
        ("villages_sewage_works_built_count", 120.0),
        ("sewer_pipe_built_km", 42.5),
        ("sewer_pipe_renewed_km", 10.0),
        ("combined_sewer_rebuilt_km", 4.0),
        ("reclaimed_pipe_built_km", 12.0),
        ("overflow_storage_m3", 125_000.0),
        ("cso_outlets_count", 40.0),
        ("cso_outlets_compliant_count", 30.0),
        ("water_supply_capacity_m3_per_day", 1_300_000.0),
        ("max_day_demand_m3_per_day", 1_000_000.0),
        ("water_supplied_m3", 50_000_000.0),
        ("water_billed_m3", 46_000_000.0),
        ("smart_meters_count", 45_000.0),
        ("households_count", 50_000.0),
        ("industrial_water_reused_m3", 92_000.0),
        ("industrial_water_total_m3", 100_000.0),
        ("built_up_area_km2", 80.0),
        ("sponge_area_km2", 40.0),
        ("upgraded_sewerage_area_km2", 48.0),
        ("water_bodies_worse_than_v_count", 0.0),
        ("manure_generated_t", 2_000.0),
        ("manure_utilised_t", 1_900.0),
        ("outfalls_count", 50.0),
        ("outfalls_surveyed_count", 45.0),
        ("outfalls_monitored_count", 40.0),
        ("outfalls_traced_count", 30.0),
        ("outfalls_illegal_count", 8.0),
        ("outfalls_rectified_count", 6.0),
        ("outfalls_rectified_on_time_count", 4.0),
        ("outfalls_overdue_count", 1.0),
    ]
}

/// Each indicator's value on [`inputs`], computed by hand.
const EXPECTED: [(&str, f64); 40] = [
    ("wastewater_treatment_rate", 90.0), // 9e6 / 1e7
    ("township_treatment_rate", 80.0),   // 0.8e6 / 1e6
    ("compliant_treatment_rate", 85.0),  // 8.5e6 / 1e7
    ("collection_rate_bod", 80.0),       // 4380 t = 4.38e9 g; /(60 × 365) = 200 000 PE; / 250 000
    ("treatment_capacity", 30.0),        // 300 000 m³/d = 30 万
    ("treatment_capacity_added", 7.0),
    ("plants_built", 3.0),
    ("plants_upgraded", 2.0),
    ("plants_1a_share", 75.0),               // 6 / 8
    ("reuse_rate", 30.0),                    // 2.7e6 / 9e6
    ("supply_reliability", 90.0),            // 2.7e6 / 3e6
    ("supply_quality_compliance", 97.5),     // 390 / 400
    ("wetland_class_v_rate", 95.0),          // 342 / 360
    ("monitoring_compliance_rate", 96.0),    // from monitoring: 480 / 500
    ("monitoring_data_validity_rate", 92.5), // 740 / 800
    ("sludge_harmless_rate", 97.0),
    ("sludge_local_reuse_rate", 25.0),
    ("rural_sewage_treatment_rate", 75.0),
    ("villages_sewage_works_built", 120.0),
    ("sewer_pipe_built", 42.5),
    ("sewer_pipe_renewed", 10.0),
    ("combined_sewer_rebuilt", 4.0),
    ("reclaimed_pipe_built", 12.0),
    ("overflow_storage", 12.5), // 125 000 m³ = 12.5 万
    ("cso_outlets_33mm_share", 75.0),
    ("water_supply_capacity", 130.0),
    ("leakage_rate", 8.0), // (5e7 − 4.6e7) / 5e7
    ("supply_safety_factor", 1.3),
    ("smart_meter_rate", 90.0),
    ("industrial_water_reuse_rate", 92.0),
    ("sponge_city_area_share", 50.0),
    ("upgraded_sewerage_area_share", 60.0),
    ("water_bodies_worse_than_v", 0.0),
    ("manure_utilisation_rate", 95.0),
    ("outfall_survey_rate", 90.0),                // 45 / 50
    ("outfall_monitoring_rate", 80.0),            // 40 / 50
    ("outfall_traceability_rate", 60.0),          // 30 / 50
    ("outfall_rectification_rate", 75.0),         // 6 / 8
    ("outfall_rectification_on_time_rate", 50.0), // 4 / 8
    ("outfalls_overdue", 1.0),
];

fn full_table() -> QuantityTable {
    let mut t = QuantityTable::new();
    for (q, v) in inputs() {
        t.set("d1", 2025, q, v, stat());
    }
    let mon = monitoring_quantities(&[MonitoringRates {
        district: "d1".into(),
        year: 2025,
        evaluated: 500,
        compliant: 480,
        expected: 800,
        valid: 740,
    }])
    .unwrap();
    t.overlay(&mon);
    t
}

#[test]
fn every_bundled_indicator_is_computed_on_hand_built_statistics() {
    let c = Catalog::bundled();
    assert_eq!(c.indicators.len(), EXPECTED.len());
    let card = scorecard(&c, &full_table(), &[], &ScorecardOptions::default());
    for (id, want) in EXPECTED {
        let r = card
            .row("d1", 2025, id)
            .unwrap_or_else(|| panic!("no row for {id}"));
        let got = r
            .value
            .unwrap_or_else(|| panic!("{id}: not reported: {:?}", r.missing));
        assert!(
            (got - want).abs() < 1e-9 * want.abs().max(1.0),
            "{id}: {got} ≠ {want}"
        );
        assert_eq!(r.status, RowStatus::NoTarget);
    }
    assert_eq!(card.rows.len(), EXPECTED.len());
}

#[test]
fn an_unknown_quantity_leaves_the_indicator_not_reported_never_zero() {
    let c = Catalog::bundled();
    let sets = vec![TargetSet::bundled("seed-000", &c).unwrap()];
    let mut t = QuantityTable::new();
    // Only the treated volume: the treatment rate lacks its denominator.
    t.set("", 2025, "wastewater_treated_m3", 1e6, stat());
    let card = scorecard(&c, &t, &sets, &ScorecardOptions::default());
    let r = card.row("", 2025, "wastewater_treatment_rate").unwrap();
    assert_eq!(r.value, None);
    assert_eq!(r.missing, vec!["wastewater_discharged_m3".to_string()]);
    assert_eq!(r.status, RowStatus::NotReported);
    assert_eq!(r.targets[0].status, RowStatus::NotReported);
    // A target with no quantity at all still has its row, not reported.
    let r = card.row("", 2025, "villages_sewage_works_built").unwrap();
    assert_eq!((r.value, r.status), (None, RowStatus::NotReported));
    // A 0 denominator is not a 0 % either.
    t.set("", 2025, "wastewater_discharged_m3", 0.0, stat());
    let card = scorecard(&c, &t, &sets, &ScorecardOptions::default());
    let r = card.row("", 2025, "wastewater_treatment_rate").unwrap();
    assert!(r.value.is_none() && r.division_by_zero);
    assert_eq!(r.status, RowStatus::NotReported);
}

#[test]
fn targets_are_judged_with_their_comparator_and_trends_follow_the_better_direction() {
    let c = Catalog::bundled();
    let sets = vec![
        TargetSet::bundled("seed-000", &c).unwrap(),
        TargetSet::bundled("seed-001", &c).unwrap(),
    ];
    let mut t = QuantityTable::new();
    for (y, treated, used) in [(2020, 9.6e6, 6.1e6), (2025, 9.7e6, 6.0e6)] {
        t.set("", y, "wastewater_treated_m3", treated, stat());
        t.set("", y, "wastewater_discharged_m3", 1e7, stat());
        t.set("", y, "reclaimed_used_m3", used, stat());
    }
    t.set("", 2025, "water_supplied_m3", 100.0, stat());
    t.set("", 2025, "water_billed_m3", 93.0, stat());
    let card = scorecard(&c, &t, &sets, &ScorecardOptions::default());
    assert_eq!(card.baseline_year, Some(2020));
    // 97 % against ≥ 98 % (both seeds): not met; trend +1 point since 2020's computed 96 %.
    let r = card.row("", 2025, "wastewater_treatment_rate").unwrap();
    assert!((r.value.unwrap() - 97.0).abs() < 1e-9);
    assert_eq!(r.targets.len(), 2);
    assert!(r.targets.iter().all(|t| t.status == RowStatus::NotMet));
    assert_eq!(r.status, RowStatus::NotMet);
    let b = r.baseline.as_ref().unwrap();
    assert_eq!((b.year, b.stated), (2020, false));
    let tr = r.trend.as_ref().unwrap();
    assert!((tr.change - 1.0).abs() < 1e-9);
    assert_eq!(tr.direction, Direction::Improving);
    // Reuse: 6.0/9.7 = 61.86 % vs 6.1/9.6 = 63.54 % in 2020 — worsening; the 2025 target is
    // qualitative ("稳步提升"), kept as such.
    let r = card.row("", 2025, "reuse_rate").unwrap();
    assert_eq!(r.status, RowStatus::Qualitative);
    assert_eq!(r.trend.as_ref().unwrap().direction, Direction::Worsening);
    // Leakage 7 % ≤ 8 %: met (lower is better).
    let r = card.row("", 2025, "leakage_rate").unwrap();
    assert!((r.value.unwrap() - 7.0).abs() < 1e-9);
    assert_eq!(r.status, RowStatus::Met);
    // Without computed 2020 values, the plan's stated baseline (≥ 95 %) is used, marked so.
    let mut t2025 = QuantityTable::new();
    t2025.set("", 2025, "wastewater_treated_m3", 9.9e6, stat());
    t2025.set("", 2025, "wastewater_discharged_m3", 1e7, stat());
    let card = scorecard(&c, &t2025, &sets[..1], &ScorecardOptions::default());
    let r = card.row("", 2025, "wastewater_treatment_rate").unwrap();
    assert_eq!(r.status, RowStatus::Met);
    let b = r.baseline.as_ref().unwrap();
    assert!(b.stated && b.value == 95.0);
    assert!((r.trend.as_ref().unwrap().change - 4.0).abs() < 1e-9);
    // Targets with no indicator are kept apart.
    let pilot = TargetSet::bundled("seed-003", &c).unwrap();
    let card = scorecard(&c, &t2025, &[pilot], &ScorecardOptions::default());
    let ids: Vec<&str> = card
        .other_targets
        .iter()
        .map(|o| o.target.id.as_str())
        .collect();
    assert_eq!(
        ids,
        [
            "pilot-goal",
            "pilot-duration",
            "annual-report",
            "final-report"
        ]
    );
}

#[test]
fn targets_of_a_plan_area_with_nothing_reported_are_listed_apart() {
    let c = Catalog::bundled();
    let sets = vec![TargetSet::bundled("seed-001", &c).unwrap()];
    let mut t = QuantityTable::new();
    t.set("", 2025, "sewer_pipe_built_km", 150.0, stat());
    let card = scorecard(&c, &t, &sets, &ScorecardOptions::default());
    assert_eq!(card.districts, [""]);
    // 169 km for the whole city: not met with 150.
    assert_eq!(
        card.row("", 2025, "sewer_pipe_built").unwrap().status,
        RowStatus::NotMet
    );
    let central: Vec<&str> = card
        .unmatched_district_targets
        .iter()
        .filter(|o| o.target.district == "central-city")
        .map(|o| o.target.id.as_str())
        .collect();
    assert!(central.contains(&"central-sewer-built-2025"), "{central:?}");
    // Once the bureau reports anything for 中心城区, its targets become rows.
    t.set("central-city", 2025, "sewer_pipe_built_km", 40.0, stat());
    let card = scorecard(&c, &t, &sets, &ScorecardOptions::default());
    let r = card.row("central-city", 2025, "sewer_pipe_built").unwrap();
    assert_eq!((r.value, r.status), (Some(40.0), RowStatus::Met));
    assert_eq!(r.district_name.zh, "中心城区");
    assert_eq!(
        card.row("central-city", 2025, "combined_sewer_rebuilt")
            .unwrap()
            .status,
        RowStatus::NotReported
    );
    assert!(card
        .unmatched_district_targets
        .iter()
        .all(|o| o.target.district != "central-city"));
}

#[test]
fn a_district_operator_sees_only_the_district() {
    let c = Catalog::bundled();
    let mut t = full_table();
    t.set("d2", 2025, "sewer_pipe_built_km", 3.0, stat());
    t.fill_region_sums(&c);
    // The whole region sums the additive quantity of both districts.
    let all = scorecard(&c, &t, &[], &ScorecardOptions::default());
    assert_eq!(
        all.row("", 2025, "sewer_pipe_built").unwrap().value,
        Some(45.5)
    );
    assert_eq!(all.districts, ["", "d1", "d2"]);
    let only = scorecard(
        &c,
        &t,
        &[],
        &ScorecardOptions {
            only_district: Some("d2".into()),
            ..Default::default()
        },
    );
    assert!(only.rows.iter().all(|r| r.district == "d2"));
    assert_eq!(only.rows.len(), 1);
}

const TINY: &str = r#"
format_version = 1
[model]
name = "tiny"
start = "2024-12-27"
days = 10
factors = ["cod", "nh3n", "tp"]
[targets]
sets = ["ndrc-2021-13/water-short-cities"]
[[plant]]
id = "p"
district = "a"
capacity_m3_per_day = 2000
influent_m3_per_day = 1000
effluent_mg_per_l = { cod = 30, nh3n = 1.5, tp = 0.3 }
energy_kwh_per_m3 = 0.5
sludge_t_ds_per_1e4_m3 = 0.8
[[wetland]]
id = "w"
type = "free_water_surface"
area_m2 = 100000
max_hydraulic_loading_m_per_day = 1
temperature_c = 20
[[user]]
id = "u"
category = "river_replenishment"
demand_m3_per_day = 400
district = "b"
standard = "none"
[[river]]
id = "r"
[[link]]
from = "p"
to = "w"
capacity_m3_per_day = 400
[[link]]
from = "w"
to = "u"
[[link]]
from = "p"
to = "r"
"#;

#[test]
fn a_model_run_gives_hand_checked_quantities_by_district_and_year() {
    let c = Catalog::bundled();
    let standards = Standards::builtin();
    let model = rewater_model::parse_model(TINY, "tiny.toml").unwrap();
    let region = rewater_model::resolve(
        &model,
        TINY,
        "tiny.toml",
        std::path::Path::new("."),
        &standards,
    )
    .unwrap();
    let sets =
        rewater_indicators::resolve_sets(&region.targets.sets, std::path::Path::new("."), &c)
            .unwrap();
    let (summary, card) = rewater_indicators::scorecard_for_region(
        &region,
        &standards,
        &c,
        &[],
        &sets,
        &ScorecardOptions::default(),
    )
    .unwrap();
    assert_eq!(summary.treated_m3, 10_000.0);
    assert_eq!(card.years, [2024, 2025]);
    // 2024-12-27 … 31 (5 days) and 2025-01-01 … 05 (5 days): 5 000 m³ treated, 2 000 m³
    // delivered in each year; reuse 40 %, in the plant's district only the plant's side.
    let v = |d: &str, y: i32, id: &str| card.row(d, y, id).and_then(|r| r.value);
    for y in [2024, 2025] {
        assert_eq!(v("", y, "reuse_rate"), Some(40.0));
        assert_eq!(v("", y, "supply_reliability"), Some(100.0));
        assert_eq!(v("", y, "treatment_capacity"), Some(0.2));
        assert_eq!(v("a", y, "treatment_capacity"), Some(0.2));
        // District a has the plant but no user (its reuse rate cannot be computed and has no
        // target: no row); b the user but no plant.
        assert!(card.row("a", y, "reuse_rate").is_none());
        assert_eq!(v("b", y, "supply_reliability"), Some(100.0));
        // COD 30 ≤ 40, NH3-N 1.5 ≤ 2, TP 0.3 ≤ 0.4 (river): the wetland meets class V daily.
        assert_eq!(v("", y, "wetland_class_v_rate"), Some(100.0));
    }
    // 2025 reuse 40 % ≥ 25 %: met; 2024 has no target.
    assert_eq!(
        card.row("", 2025, "reuse_rate").unwrap().status,
        RowStatus::Met
    );
    assert_eq!(
        card.row("", 2024, "reuse_rate").unwrap().status,
        RowStatus::NoTarget
    );
    // Sludge generated: 5 000 m³ / 10⁴ × 0.8 = 0.4 t DS a year; with the bureau's harmless
    // tonnage (0.3 t DS) the rate is 75 %.
    assert!(card.row("", 2025, "sludge_harmless_rate").is_none());
    let mut stats = QuantityTable::new();
    stats.set("", 2025, "sludge_harmless_t_ds", 0.3, stat());
    let (_, card) = rewater_indicators::scorecard_for_region(
        &region,
        &standards,
        &c,
        &[&stats],
        &sets,
        &ScorecardOptions::default(),
    )
    .unwrap();
    let r = card.row("", 2025, "sludge_harmless_rate").unwrap();
    assert!((r.value.unwrap() - 75.0).abs() < 1e-9, "{:?}", r.value);
    assert_eq!(r.origins.len(), 2, "{:?}", r.origins);
}

#[test]
fn monitoring_counts_that_do_not_add_up_are_refused() {
    let bad = MonitoringRates {
        district: "d".into(),
        year: 2025,
        evaluated: 10,
        compliant: 11,
        expected: 0,
        valid: 0,
    };
    let e = monitoring_quantities(std::slice::from_ref(&bad)).unwrap_err();
    assert!(
        e.to_string().contains("11 compliant of 10 evaluated"),
        "{e}"
    );
    let ok = MonitoringRates {
        compliant: 5,
        ..bad
    };
    assert!(monitoring_quantities(&[ok.clone(), ok.clone()]).is_err());
    // Nothing evaluated: no quantities (not reported), not 0 %.
    let none = MonitoringRates {
        evaluated: 0,
        compliant: 0,
        ..ok
    };
    assert!(monitoring_quantities(&[none]).unwrap().is_empty());
}
