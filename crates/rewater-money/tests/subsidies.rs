//! Rural O&M subsidies (京政发〔2023〕6号 三(十二)) for each area share and each base-rate tier,
//! pipes at 20 元/m·yr, the 0.5–3.2 range enforced, a bureau's own rate rule, and the mountain
//! village water-supply stations (7号 六(二)1), all hand-computed.

use rewater_money::subsidy::{facilities_from_bytes, stations_from_bytes, subsidies, Subsidies};
use rewater_money::{Areas, Lang, RuleBook, RuleSet};

const FAC: &str =
    "id,kind,district,township,year,volume_m3,capacity_m3_d,process,base_rate,length_m\n";
const STA: &str = "id,village,district,township,mountain,passed,year,villages\n";

fn run(book: &RuleBook, rate_set: &str, fac: &str, sta: &str) -> Result<Subsidies, String> {
    let areas = Areas::bundled();
    let f = facilities_from_bytes(format!("{FAC}{fac}").as_bytes(), "f.csv", &areas)
        .map_err(|e| e.to_string())?;
    let s = stations_from_bytes(format!("{STA}{sta}").as_bytes(), "s.csv", &areas)
        .map_err(|e| e.to_string())?;
    subsidies(book, "jzf-2023-6", "jzf-2023-7", rate_set, &f, &s).map_err(|e| e.to_string())
}

fn fac<'a>(s: &'a Subsidies, id: &str) -> &'a rewater_money::subsidy::FacilitySubsidy {
    s.facilities.iter().find(|f| f.facility.id == id).unwrap()
}

#[test]
fn each_share_and_each_tier_hand_computed() {
    let book = RuleBook::bundled();
    let s = run(
        &book,
        "om-base-rate",
        "\
e1,plant,yanqing,,2024,10000,30,,,
t1,plant,tongzhou,永乐店镇,2024,20000,100,,,
p1,plant,daxing,,2024,100000,500,,,
c1,plant,haidian,,2024,300000,2000,,,
big,plant,shunyi,,2024,1000000,8000,,,
own,plant,shunyi,,2024,1000,,,2.8,
pipe1,pipe,miyun,,2024,,,,,1500
pipe2,pipe,fengtai,,2024,,,,,100
sjs,plant,shijingshan,,2024,1000,30,,,
core,plant,tongzhou,北苑街道,2024,1000,30,,,
",
        "",
    )
    .unwrap();
    // (id, rate, base yuan, share, municipal yuan)
    let want: &[(&str, f64, f64, Option<f64>, f64)] = &[
        ("e1", 3.2, 32_000.0, Some(0.7), 22_400.0), // 生态涵养区 70 %, < 50 m³/d
        ("t1", 2.4, 48_000.0, Some(0.7), 33_600.0), // 通州 outside the sub-centre plan 70 %
        ("p1", 1.6, 160_000.0, Some(0.6), 96_000.0), // 平原区 60 %, 200–1000 m³/d
        ("c1", 1.0, 300_000.0, Some(0.5), 150_000.0), // 朝海丰 50 %, 1000–5000 m³/d
        ("big", 0.5, 500_000.0, Some(0.6), 300_000.0), // ≥ 5000 m³/d: the range's floor
        ("own", 2.8, 2_800.0, Some(0.6), 1_680.0),  // the bureau's own figure wins
        ("pipe1", 20.0, 30_000.0, Some(0.7), 21_000.0), // 20 元/m·yr
        ("pipe2", 20.0, 2_000.0, Some(0.5), 1_000.0),
        ("sjs", 3.2, 3_200.0, None, 0.0),  // 石景山 rural: no clause
        ("core", 3.2, 3_200.0, None, 0.0), // inside the sub-centre plan: no clause
    ];
    for (id, rate, base, share, muni) in want {
        let f = fac(&s, id);
        assert_eq!(f.rate, *rate, "{id} rate");
        assert!(
            (f.base_yuan - base).abs() < 1e-6,
            "{id} base {}",
            f.base_yuan
        );
        assert_eq!(f.share, *share, "{id} share");
        assert!(
            (f.municipal_yuan - muni).abs() < 1e-6,
            "{id} municipal {}",
            f.municipal_yuan
        );
    }
    assert_eq!(fac(&s, "own").rate_from, "input");
    assert_eq!(fac(&s, "e1").rate_from, "rule:om-base-rate");
    assert!((s.by_district[&("shunyi".to_string(), 2024)].0 - 301_680.0).abs() < 1e-6);
    // The example base-rate rule is rewater's, not the bureau's: every output says so.
    let t = s.tables(&book, &Areas::bundled(), Lang::En);
    assert!(t.iter().all(|t| t.unverified));
    assert!(rewater_money::Table::csv_text(&t, Lang::En).contains("UNVERIFIED"));
}

#[test]
fn rates_outside_the_plan_range_are_refused() {
    let book = RuleBook::bundled();
    let e = run(
        &book,
        "om-base-rate",
        "x,plant,daxing,,2024,100,,,3.5,\n",
        "",
    )
    .unwrap_err();
    assert!(
        e.contains("outside 0.5–3.2") && e.contains("三、(十二)"),
        "{e}"
    );
    let e = run(&book, "om-base-rate", "x,plant,daxing,,2024,100,,,,\n", "").unwrap_err();
    assert!(e.contains("capacity_m3_d"), "{e}");
    let e = run(&book, "om-base-rate", "x,pipe,daxing,,2024,,,,,\n", "").unwrap_err();
    assert!(e.contains("length_m"), "{e}");
    let e = run(&book, "om-base-rate", "x,tank,daxing,,2024,1,,,,\n", "").unwrap_err();
    assert!(e.contains("field kind"), "{e}");
}

#[test]
fn a_bureau_rule_by_process_or_district() {
    let mut book = RuleBook::bundled();
    let by_process = r#"
id = "bureau-rate"
version = "2024"
kind = "base_rate"
title = { zh = "某区补贴基数", en = "a district's base rates" }
document = "区水务局通知"
valid_from = "2024-01-01"
confidence = "verified"
[base_rate]
by = "process"
rates = { mbr = 2.6, a2o = 1.2 }
default = 1.8
"#;
    book.add(RuleSet::parse(by_process, "bureau.toml").unwrap());
    let s = run(
        &book,
        "bureau-rate",
        "m,plant,daxing,,2024,1000,,mbr,,\nx,plant,daxing,,2024,1000,,wetland,,\n",
        "",
    )
    .unwrap();
    assert_eq!(fac(&s, "m").rate, 2.6);
    assert_eq!(fac(&s, "x").rate, 1.8);
    assert!((fac(&s, "m").municipal_yuan - 1560.0).abs() < 1e-9);
    assert!(!s.tables(&book, &Areas::bundled(), Lang::Zh)[0].unverified);
    let by_district = by_process.replace(
        "by = \"process\"\nrates = { mbr = 2.6, a2o = 1.2 }",
        "by = \"district\"\nrates = { daxing = 0.9 }",
    );
    book.add(RuleSet::parse(&by_district, "bureau.toml").unwrap());
    let s = run(
        &book,
        "bureau-rate",
        "m,plant,daxing,,2024,1000,,mbr,,\nh,plant,haidian,,2024,1000,,,,\n",
        "",
    )
    .unwrap();
    assert_eq!(fac(&s, "m").rate, 0.9);
    assert_eq!(fac(&s, "h").rate, 1.8);
    // A rule whose rate leaves the range is refused when applied.
    let high = by_process.replace("default = 1.8", "default = 4.0");
    book.add(RuleSet::parse(&high, "bureau.toml").unwrap());
    assert!(run(
        &book,
        "bureau-rate",
        "x,plant,daxing,,2024,1000,,other,,\n",
        ""
    )
    .unwrap_err()
    .contains("outside"));
}

#[test]
fn village_water_supply_stations() {
    let book = RuleBook::bundled();
    let s = run(
        &book,
        "om-base-rate",
        "",
        "\
s1,东村,mentougou,,是,是,2024,2
s2,西村,changping,,是,是,2024,
s3,南村,miyun,,是,否,2024,1
s4,北村,shunyi,,否,是,2024,1
s5,中村,daxing,,是,是,2024,1
",
    )
    .unwrap();
    let st = |id: &str| s.stations.iter().find(|x| x.station.id == id).unwrap();
    assert_eq!(
        (st("s1").base_yuan, st("s1").municipal_yuan),
        (200_000.0, 140_000.0)
    ); // 2 villages × 10万 × 70 %
    assert_eq!(
        (st("s2").base_yuan, st("s2").municipal_yuan),
        (100_000.0, 60_000.0)
    ); // 昌平山区 60 %
    assert_eq!(st("s3").municipal_yuan, 0.0);
    assert!(st("s3")
        .reason
        .as_ref()
        .unwrap()
        .en
        .contains("did not pass"));
    assert_eq!(st("s4").municipal_yuan, 0.0); // 平原区: the district's
    assert_eq!(
        st("s4").rule.as_deref(),
        Some("jzf-2023-7 六、(二)2 plain-station-om")
    );
    assert_eq!(st("s5").municipal_yuan, 0.0); // 大兴 is not named for mountain villages
    assert!(st("s5").rule.is_none());
    assert_eq!(s.by_district[&("mentougou".to_string(), 2024)].1, 140_000.0);
}

#[test]
fn a_plant_volume_from_the_store_flow_total() {
    use rewater_store::prelude::*;
    use rewater_store::{Device, FactorReading, IngestRules, Site, SqliteStore, Upload};
    let dir = std::env::temp_dir().join(format!("rewater-money-sub-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = SqliteStore::open(&dir.join("m.sqlite")).unwrap();
    let day1 = rewater_time::Date::from_ymd(2024, 5, 1)
        .unwrap()
        .wall_seconds();
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(day1 + 5 * 86_400),
        ..IngestRules::default()
    });
    s.put_site(&Site {
        id: "st".into(),
        name: "村站".into(),
        kind: "plant_outlet".into(),
        standard: None,
        district: "yanqing".into(),
        location: None,
        model_node: None,
    })
    .unwrap();
    s.put_device(&Device {
        mn: "MNST".into(),
        password_hash: rewater_store::hash_device_password("pw"),
        site_id: "st".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })
    .unwrap();
    // 0.5 L/s for two days: 2 × 43.2 m³.
    let batch: Vec<Upload> = (0..48)
        .map(|h| Upload {
            mn: "MNST".into(),
            cn: "2051".into(),
            data_time: day1 + 3600 * h,
            pno: 1,
            received_at_ms: 1,
            peer: "127.0.0.1:1".into(),
            raw: String::new(),
            readings: vec![FactorReading {
                factor: "w00000".into(),
                value: Some(0.5),
                min: None,
                max: None,
                cou: None,
                flag: Some("N".into()),
            }],
        })
        .collect();
    s.ingest(&batch).unwrap();
    let areas = Areas::bundled();
    let csv = "id,kind,district,year,volume_m3,capacity_m3_d,site\nv,plant,yanqing,2024,,30,st\n";
    let mut f = facilities_from_bytes(csv.as_bytes(), "f.csv", &areas).unwrap();
    assert!(f[0].volume_pending);
    let book = RuleBook::bundled();
    assert!(
        subsidies(&book, "jzf-2023-6", "jzf-2023-7", "om-base-rate", &f, &[])
            .unwrap_err()
            .to_string()
            .contains("no volume")
    );
    rewater_money::store::fill_volumes(&mut s, &mut f).unwrap();
    assert!((f[0].volume_m3 - 86.4).abs() < 1e-9);
    let l = subsidies(&book, "jzf-2023-6", "jzf-2023-7", "om-base-rate", &f, &[]).unwrap();
    // 86.4 m³ × 3.2 元/m³ × 70 %.
    assert!((l.facilities[0].municipal_yuan - 86.4 * 3.2 * 0.7).abs() < 1e-9);
    let mut g = facilities_from_bytes(
        b"id,kind,district,year,volume_m3,capacity_m3_d,site\nv,plant,yanqing,2023,,30,st\n",
        "f.csv",
        &areas,
    )
    .unwrap();
    assert!(rewater_money::store::fill_volumes(&mut s, &mut g)
        .unwrap_err()
        .to_string()
        .contains("no flow in 2023"));
    let _ = std::fs::remove_dir_all(&dir);
}
