//! Pay-for-performance months with deductions and removal bonuses (hand-computed), months read
//! from a SQLite monitoring store, and the reclaimed-water unit cost and prices of a known engine
//! run (examples/pilot-city: plant-east treats 26,276,320 m³ in 365 days at 0.38 kWh/m³).

use rewater_money::cost::{annuity, cost_of_run, DEFAULT_COST_SET, DEFAULT_PRICE_SET};
use rewater_money::fees::{fees, months_from_bytes};
use rewater_money::{Lang, RuleBook, RuleSet};

const HEAD: &str = "plant,month,treated_m3,evaluated,compliant,cod_in,cod_out,nh3n_in,nh3n_out\n";

#[test]
fn a_month_with_deductions_and_bonuses() {
    let book = RuleBook::bundled();
    let months = months_from_bytes(
        format!(
            "{HEAD}p1,2024-03,300000,30,28,250,30,30,1.5
p1,2024-04,310000,31,31,,,,
p1,2024-05,100000,0,0,,,,
p1,2024-06,100000,20,19,,,,
p1,2024-07,100000,31,20,,,,
"
        )
        .as_bytes(),
        "m.csv",
    )
    .unwrap();
    let f = fees(&book, "pfp-example", &months).unwrap();
    let m = |i: usize| &f.months[i];
    // March: 28/30 = 93.3 % → the 90 % tier, 10 % off 300,000 × 1.20 = 360,000; COD removed
    // (250 − 30) mg/L × 300,000 m³ = 66 t × 50 = 3,300; NH3-N 28.5 × 0.3 = 8.55 t × 500 = 4,275.
    assert_eq!(m(0).base_yuan, 360_000.0);
    assert_eq!(m(0).deduction, 0.10);
    assert!((m(0).deduction_yuan - 36_000.0).abs() < 1e-6);
    assert!(
        (m(0).bonuses[0].removed_t - 66.0).abs() < 1e-9
            && (m(0).bonuses[0].yuan - 3_300.0).abs() < 1e-6
    );
    assert!(
        (m(0).bonuses[1].removed_t - 8.55).abs() < 1e-9
            && (m(0).bonuses[1].yuan - 4_275.0).abs() < 1e-6
    );
    assert!((m(0).fee_yuan - 331_575.0).abs() < 1e-6);
    // April: all compliant, no bonus data: 372,000.
    assert_eq!((m(1).deduction, m(1).fee_yuan), (0.0, 372_000.0));
    // May: nothing evaluated: the largest deduction (20 %), not reported.
    assert_eq!((m(2).rate, m(2).deduction), (None, 0.20));
    assert!((m(2).fee_yuan - 96_000.0).abs() < 1e-6);
    // June: exactly 95 % is the 95 % tier.
    assert_eq!(m(3).deduction, 0.05);
    // July: 64.5 % → 20 %.
    assert_eq!(m(4).deduction, 0.20);
    let t = f.tables(&book, Lang::Zh);
    assert!(t[0].unverified, "the example contract is unverified");
    assert!(rewater_money::Table::csv_text(&t, Lang::Zh).contains("未报送"));
}

#[test]
fn a_plant_contract_of_its_own_and_hostile_months() {
    let mut book = RuleBook::bundled();
    let own = r#"
id = "pfp-2024"
version = "2024"
kind = "fees"
title = { zh = "合同", en = "contract" }
document = "某污水厂特许经营协议"
valid_from = "2024-01-01"
confidence = "verified"
[[contract]]
plant = "p2"
base_yuan_per_m3 = 0.9
compliance = [{ min_rate = 0.0, deduction = 0.3 }, { min_rate = 0.98, deduction = 0.0 }]
"#;
    book.add(RuleSet::parse(own, "c.toml").unwrap());
    let months = months_from_bytes(
        format!("{HEAD}p2,2024-01,1000,10,9,,,,\np9,2024-01,1000,10,10,,,,\n").as_bytes(),
        "m.csv",
    )
    .unwrap();
    let f = fees(&book, "pfp-2024", &months).unwrap();
    assert_eq!(f.months.len(), 1);
    assert!((f.months[0].fee_yuan - 630.0).abs() < 1e-9);
    assert_eq!(f.no_contract, vec!["p9".to_string()]);
    assert!(!f.tables(&book, Lang::En)[0].unverified);
    let bad = |body: &str| {
        months_from_bytes(format!("{HEAD}{body}").as_bytes(), "m.csv")
            .unwrap_err()
            .to_string()
    };
    assert!(bad("p,2024-01,1,10,11,,,,\n").contains("11 compliant of 10"));
    assert!(bad("p,2024-1x,1,10,1,,,,\n").contains("field month"));
    assert!(bad("p,2024-01,1,10.5,1,,,,\n").contains("whole count"));
    assert!(bad("p,2024-01,1,10,1,250,,,\n").contains("both"));
    assert!(bad("p,2024-01,1,10,1,,,,\np,2024-01,1,10,1,,,,\n").contains("twice"));
}

#[test]
fn plant_months_from_the_monitoring_store() {
    use rewater_store::prelude::*;
    use rewater_store::{Device, FactorReading, IngestRules, Site, SqliteStore, Upload};
    let dir = std::env::temp_dir().join(format!("rewater-money-fees-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = SqliteStore::open(&dir.join("m.sqlite")).unwrap();
    let day1 = rewater_time::Date::from_ymd(2025, 6, 1)
        .unwrap()
        .wall_seconds();
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(day1 + 5 * 86_400),
        ..IngestRules::default()
    });
    for (id, std) in [("out", Some("GB18918-2002:1A")), ("in", None)] {
        s.put_site(&Site {
            id: id.into(),
            name: id.into(),
            kind: "plant_outlet".into(),
            standard: std.map(str::to_string),
            district: "d".into(),
            location: None,
            model_node: None,
        })
        .unwrap();
        s.put_device(&Device {
            mn: format!("MN{id}"),
            password_hash: rewater_store::hash_device_password("pw"),
            site_id: id.into(),
            lenient: true,
            accept_modbus_crc: false,
            allowed_peers: Vec::new(),
            disabled: false,
        })
        .unwrap();
    }
    let up = |mn: &str, t: i64, f: &[(&str, f64)]| Upload {
        mn: mn.into(),
        cn: "2051".into(),
        data_time: t,
        pno: 1,
        received_at_ms: 1,
        peer: "127.0.0.1:1".into(),
        raw: String::new(),
        readings: f
            .iter()
            .map(|(c, v)| FactorReading {
                factor: c.to_string(),
                value: Some(*v),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            })
            .collect(),
    };
    // Outlet: 100 L/s both days (8,640 m³ a day); COD 40 on day 1 (≤ 50: compliant), 60 on day 2.
    // Inlet: COD 250.
    let mut batch = Vec::new();
    for h in 0..24 {
        batch.push(up(
            "MNout",
            day1 + 3600 * h,
            &[("w00000", 100.0), ("w01018", 40.0)],
        ));
        batch.push(up(
            "MNout",
            day1 + 86_400 + 3600 * h,
            &[("w00000", 100.0), ("w01018", 60.0)],
        ));
        batch.push(up("MNin", day1 + 3600 * h, &[("w01018", 250.0)]));
    }
    s.ingest(&batch).unwrap();
    let months = rewater_money::store::plant_months(
        &mut s,
        &rewater_standards::Standards::builtin(),
        "p1",
        "out",
        Some("in"),
        2025,
    )
    .unwrap();
    assert_eq!(months.len(), 1);
    let m = &months[0];
    assert_eq!(m.month, 6);
    assert!((m.treated_m3 - 17_280.0).abs() < 1e-6);
    assert_eq!((m.evaluated, m.compliant), (2, 1));
    let cod = rewater_standards::Factor::parse("cod").unwrap();
    assert_eq!(m.quality[&cod], (250.0, 50.0));
    let f = fees(&RuleBook::bundled(), "pfp-example", &months).unwrap();
    // 50 % compliant → 20 % off 17,280 × 1.2 = 20,736 → 16,588.8; COD removed 200 mg/L ×
    // 17,280 m³ = 3.456 t × 50 = 172.8.
    assert!((f.months[0].fee_yuan - (16_588.8 + 172.8)).abs() < 1e-6);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn unit_cost_and_prices_of_a_known_engine_run() {
    // 100 M yuan over 20 years at 5 %: 8,024,258.72 a year.
    assert!((annuity(1e8, 0.05, 20) - 8_024_258.719_069).abs() < 1e-3);
    assert_eq!(annuity(1e6, 0.0, 10), 1e5);
    let standards = rewater_standards::Standards::builtin();
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/pilot-city/model.toml");
    let region = rewater_model::load(&model, &standards).unwrap();
    let (summary, flows) = rewater_money::routes::run_with_flows(&region).unwrap();
    assert_eq!(summary.plants["plant-east"].treated_m3, 26_276_320.0);
    let book = RuleBook::bundled();
    let c = cost_of_run(
        &book,
        DEFAULT_COST_SET,
        DEFAULT_PRICE_SET,
        &region,
        &summary,
        &flows,
    )
    .unwrap();
    let p = &c.plants[0];
    // energy 26,276,320 × 0.38 = 9,985,001.6 kWh × 0.65 = 6,490,251.04; chemicals × 0.15 =
    // 3,941,448; O&M 2,000,000; annuity 8,024,258.72 → 20,455,957.76, 0.77849 元/m³.
    assert!((p.energy_kwh - 9_985_001.6).abs() < 1e-3);
    assert!((p.energy_yuan - 6_490_251.04).abs() < 1e-3);
    assert!((p.chemicals_yuan - 3_941_448.0).abs() < 1e-3);
    assert!((p.om_yuan - 2_000_000.0).abs() < 1e-6);
    assert!((p.total_yuan - 20_455_957.759_069).abs() < 1e-3);
    assert!((p.unit_yuan_per_m3.unwrap() - 0.778_494_011).abs() < 1e-8);
    // Prices: power plant 7.3e6 m³ × 3.5, greening 2,465,600 and road cleaning 730,000 × 1.0,
    // river replenishment 0 → 28,745,600; users' saving against 9.5 tap: 6 × 7.3e6 + 8.5 ×
    // 3,195,600 = 70,962,600; city balance 8,289,642.24.
    assert!((c.revenue_yuan - 28_745_600.0).abs() < 1e-3);
    assert!((c.users_saving_yuan - 70_962_600.0).abs() < 1e-3);
    assert!((c.city_balance_yuan - 8_289_642.240_93).abs() < 1e-3);
    // The bundled cost set has no pipe figures: the routes carry the plant's cost only. The
    // plant's water (through the wetland and the pond, mixed there with the pond's water at
    // the start) ends with the users, in the river or in the pond; all of its cost is in the
    // routes, and each user's routes add up to what it was delivered.
    assert_eq!(c.pipes_yuan, 0.0);
    let from_plant: f64 = c
        .routes
        .iter()
        .filter(|r| r.source == "plant-east")
        .map(|r| r.total_yuan)
        .sum();
    assert!(
        (from_plant - 20_455_957.759_069).abs() < 1e-3,
        "{from_plant}"
    );
    assert!(c
        .routes
        .iter()
        .any(|r| r.initial_storage && r.source == "pond"));
    for (id, u) in &summary.users {
        let got: f64 = c
            .routes
            .iter()
            .filter(|r| &r.to == id)
            .map(|r| r.volume_m3)
            .sum();
        assert!(
            (got - u.delivered_m3).abs() < 1e-3,
            "{id}: {got} vs {}",
            u.delivered_m3
        );
    }
    // Plant water reaching a user carries the plant's unit cost per m³ that left the plant;
    // the pond's water at the start carries none.
    for r in c.routes.iter().filter(|r| r.source == "plant-east") {
        assert!(r.unit_yuan_per_m3.unwrap() >= 0.778_494_011 - 1e-9, "{r:?}");
    }
    let t = c.tables(&book, Lang::En);
    assert!(
        t.iter().all(|t| t.unverified),
        "example cost and prices are unverified"
    );
    assert_eq!(
        t.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
        [
            "cost-plants",
            "cost-routes",
            "cost-pipes",
            "cost-users",
            "cost-city"
        ]
    );
}
