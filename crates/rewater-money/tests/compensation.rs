//! Water-ecology compensation (the 2014 rule as reported): a test year over three sections in
//! a chain (海淀 → 朝阳 → 通州 → out of the city) exercising every branch — meets, one class
//! worse, two classes worse, beyond class V, missed but no worse than the inflow, pollutants
//! summed, a section leaving the city, a month not measured — hand-computed, and monthly means
//! read from a real SQLite monitoring store.

use rewater_money::compensation::{
    compensation, sections_from_bytes, values_from_bytes, Branch, Section, Values, MUNICIPAL,
};
use rewater_money::{Areas, Lang, RuleBook};
use rewater_standards::{Factor, Standards};

fn known(s: &str) -> Option<String> {
    Areas::bundled().district(s).map(|d| d.id.clone())
}

fn sections() -> Vec<Section> {
    let csv = "id,name,river,upstream,downstream,target,inflow,site
a,沙河闸,温榆河,海淀区,朝阳区,III,,
b,苇沟,温榆河,朝阳区,通州区,IV,a,
c,北关,北运河,通州区,出境,Ⅳ类,b,
";
    sections_from_bytes(csv.as_bytes(), "sections.csv", &known).unwrap()
}

/// Every section meets its target in every month (COD, NH3-N, TP), then the branch months.
fn values() -> Values {
    let mut csv = String::from("section,month,factor,value\n");
    let mut put =
        |s: &str, m: u32, f: &str, v: f64| csv.push_str(&format!("{s},2022-{m:02},{f},{v}\n"));
    let special: &[(&str, u32, &str, f64)] = &[
        ("a", 2, "cod", 25.0), // IV against III: one class worse
        ("a", 3, "cod", 35.0), // V: two classes worse
        ("a", 4, "cod", 45.0), // 劣V: three classes worse and beyond V
        ("b", 4, "cod", 50.0), // 劣V against IV, worse than its inflow (45)
        ("a", 5, "cod", 35.0), // V: two worse
        ("b", 5, "cod", 33.0), // V against IV, but no worse than the inflow (35)
        ("a", 6, "cod", 25.0), // IV: one worse
        ("a", 6, "nh3n", 1.2), // IV: one worse
        ("a", 6, "tp", 0.35),  // V: two worse (river TP)
        ("c", 7, "cod", 35.0), // V against IV leaving the city, worse than inflow (28)
    ];
    for m in 1..=12u32 {
        for (s, cod, nh3n, tp) in [
            ("a", 18.0, 0.8, 0.15),
            ("b", 28.0, 1.4, 0.28),
            ("c", 28.0, 1.4, 0.28),
        ] {
            if s == "a" && m == 8 {
                continue; // not measured
            }
            for (f, base) in [("cod", cod), ("nh3n", nh3n), ("tp", tp)] {
                let v = special
                    .iter()
                    .find(|x| x.0 == s && x.1 == m && x.2 == f)
                    .map(|x| x.3)
                    .unwrap_or(base);
                put(s, m, f, v);
            }
        }
    }
    values_from_bytes(csv.as_bytes(), "values.csv", 2022).unwrap()
}

fn month_yuan(c: &rewater_money::compensation::Compensation, s: &str, m: u32) -> f64 {
    c.months
        .iter()
        .find(|x| x.section == s && x.month == m)
        .unwrap()
        .yuan
}

#[test]
fn a_test_year_exercises_every_branch() {
    let book = RuleBook::bundled();
    let c = compensation(
        &book,
        "bj-compensation-2014",
        &Standards::builtin(),
        &sections(),
        &values(),
        2022,
    )
    .unwrap();
    assert!(c.in_force);
    let cod = Factor::parse("cod").unwrap();
    let branch = |s: &str, m: u32| {
        let sm = c
            .months
            .iter()
            .find(|x| x.section == s && x.month == m)
            .unwrap();
        sm.factors
            .iter()
            .find(|f| f.factor == cod)
            .map(|f| (f.branch, f.beyond_v, f.class))
    };
    // meets
    assert_eq!(branch("a", 1), Some((Branch::Meets, false, 2)));
    assert_eq!(month_yuan(&c, "a", 1), 0.0);
    // one class worse: 300,000
    assert_eq!(branch("a", 2), Some((Branch::Worse(1), false, 3)));
    assert_eq!(month_yuan(&c, "a", 2), 300_000.0);
    // two classes worse: 600,000
    assert_eq!(branch("a", 3), Some((Branch::Worse(2), false, 4)));
    assert_eq!(month_yuan(&c, "a", 3), 600_000.0);
    // beyond class V: 3 × 300,000 + the (unverified) extra 300,000
    assert_eq!(branch("a", 4), Some((Branch::Worse(3), true, 5)));
    assert_eq!(month_yuan(&c, "a", 4), 1_200_000.0);
    assert_eq!(branch("b", 4), Some((Branch::Worse(2), true, 5)));
    assert_eq!(month_yuan(&c, "b", 4), 900_000.0);
    // missed but no worse than the inflow: 150,000 per class
    assert_eq!(
        branch("b", 5),
        Some((Branch::NoWorseThanInflow(1), false, 4))
    );
    assert_eq!(month_yuan(&c, "b", 5), 150_000.0);
    assert_eq!(month_yuan(&c, "a", 5), 600_000.0);
    // pollutants summed: COD 300k + NH3-N 300k + TP 600k
    assert_eq!(month_yuan(&c, "a", 6), 1_200_000.0);
    // leaving the city: to the municipal pool
    let m7 = c
        .months
        .iter()
        .find(|x| x.section == "c" && x.month == 7)
        .unwrap();
    assert_eq!((m7.payee.as_str(), m7.yuan), (MUNICIPAL, 300_000.0));
    // not measured: nothing charged, the factors listed
    let m8 = c
        .months
        .iter()
        .find(|x| x.section == "a" && x.month == 8)
        .unwrap();
    assert_eq!((m8.yuan, m8.not_measured.len()), (0.0, 3));
    // The matrix and the settlement.
    let pair = |m: u32, a: &str, b: &str| {
        c.matrix
            .get(&m)
            .and_then(|x| x.get(&(a.to_string(), b.to_string())))
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(pair(4, "haidian", "chaoyang"), 1_200_000.0);
    assert_eq!(pair(4, "chaoyang", "tongzhou"), 900_000.0);
    assert_eq!(pair(1, "haidian", "chaoyang"), 0.0);
    assert_eq!(c.settlement["haidian"], (3_900_000.0, 0.0));
    assert_eq!(c.settlement["chaoyang"], (1_050_000.0, 3_900_000.0));
    assert_eq!(c.settlement["tongzhou"], (300_000.0, 1_050_000.0));
    assert_eq!(c.settlement[MUNICIPAL], (0.0, 300_000.0));
    // Every output of the rule says UNVERIFIED (the extra beyond V and the exit payee).
    let areas = Areas::bundled();
    let name = |d: &str| {
        if d == MUNICIPAL {
            "市级".to_string()
        } else {
            areas.name(d, Lang::Zh)
        }
    };
    let t = c.tables(&book, &name, Lang::Zh);
    assert_eq!(t.len(), 3);
    assert!(t.iter().all(|t| t.unverified));
    let csv = rewater_money::Table::csv_text(&t, Lang::Zh);
    assert!(
        csv.contains("年度结算 [UNVERIFIED]")
            && csv.contains("海淀区")
            && csv.contains("京政办发〔2014〕57号"),
        "{csv}"
    );
    assert!(csv.contains("劣Ⅴ类追加") && csv.contains("不劣于入境"));
}

#[test]
fn the_2022_rule_has_no_formula_and_years_outside_validity_are_flagged() {
    let book = RuleBook::bundled();
    let e = compensation(
        &book,
        "bj-compensation-2022",
        &Standards::builtin(),
        &sections(),
        &values(),
        2023,
    )
    .unwrap_err();
    assert!(e.to_string().contains("no formula"), "{e}");
    let c = compensation(
        &book,
        "bj-compensation-2014",
        &Standards::builtin(),
        &sections(),
        &Values::new(),
        2023,
    )
    .unwrap();
    assert!(!c.in_force);
    let t = c.tables(&book, &|d: &str| d.to_string(), Lang::En);
    assert!(t[2]
        .notes
        .iter()
        .any(|n| n.en.contains("not in force in 2023")));
}

#[test]
fn hostile_sections_and_values() {
    let bad = |csv: &str| {
        sections_from_bytes(csv.as_bytes(), "s.csv", &known)
            .unwrap_err()
            .to_string()
    };
    assert!(bad("id,upstream,downstream,target\na,海淀区,朝阳区,VI\n").contains("field target"));
    assert!(bad("id,upstream,downstream,target\na,海淀区,海淀区,III\n").contains("same district"));
    assert!(
        bad("id,upstream,downstream,target\na,Gotham,朝阳区,III\n").contains("unknown district")
    );
    assert!(
        bad("id,upstream,downstream,target,inflow\na,海淀区,朝阳区,III,zz\n")
            .contains("inflow section 'zz'")
    );
    let badv = |csv: &str| {
        values_from_bytes(csv.as_bytes(), "v.csv", 2022)
            .unwrap_err()
            .to_string()
    };
    assert!(badv("section,month,factor,value\na,2022-13,cod,1\n").contains("field month"));
    assert!(badv("section,month,factor,value\na,2022-01,unobtainium,1\n").contains("field factor"));
    assert!(badv("section,month,factor,value\na,2022-01,cod,-1\n").contains("field value"));
    assert!(
        badv("section,month,factor,value\na,2022-01,cod,1\na,2022-01,cod,2\n").contains("twice")
    );
    // Other years are left out.
    assert!(values_from_bytes(
        b"section,month,factor,value\na,2021-01,cod,1\n",
        "v.csv",
        2022
    )
    .unwrap()
    .is_empty());
}

#[test]
fn monthly_means_from_the_monitoring_store() {
    use rewater_store::prelude::*;
    use rewater_store::{Device, FactorReading, IngestRules, Site, SqliteStore, Upload};
    let dir = std::env::temp_dir().join(format!("rewater-money-comp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = SqliteStore::open(&dir.join("m.sqlite")).unwrap();
    let day1 = rewater_time::Date::from_ymd(2022, 1, 10)
        .unwrap()
        .wall_seconds();
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(day1 + 5 * 86_400),
        ..IngestRules::default()
    });
    s.put_site(&Site {
        id: "sec-a".into(),
        name: "沙河闸".into(),
        kind: "river_section".into(),
        standard: Some("GB3838-2002:III".into()),
        district: "haidian".into(),
        location: None,
        model_node: None,
    })
    .unwrap();
    s.put_device(&Device {
        mn: "MNSEC".into(),
        password_hash: rewater_store::hash_device_password("pw"),
        site_id: "sec-a".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })
    .unwrap();
    let up = |t: i64, cod: f64| Upload {
        mn: "MNSEC".into(),
        cn: "2051".into(),
        data_time: t,
        pno: 1,
        received_at_ms: 1,
        peer: "127.0.0.1:1".into(),
        raw: String::new(),
        readings: vec![FactorReading {
            factor: "w01018".into(),
            value: Some(cod),
            min: None,
            max: None,
            cou: None,
            flag: Some("N".into()),
        }],
    };
    // Day 1: COD 30 all day; day 2: 40 for half the day. Monthly mean of the day means: 35 (V).
    let mut batch: Vec<Upload> = (0..24).map(|h| up(day1 + 3600 * h, 30.0)).collect();
    batch.extend((0..12).map(|h| up(day1 + 86_400 + 3600 * h, 40.0)));
    s.ingest(&batch).unwrap();
    let mut secs = sections();
    secs[0].site = Some("sec-a".into());
    let factors: Vec<Factor> = ["cod", "nh3n", "tp"]
        .iter()
        .map(|f| Factor::parse(f).unwrap())
        .collect();
    let v = rewater_money::store::monthly_means(&mut s, &secs, &factors, 2022).unwrap();
    let cod = Factor::parse("cod").unwrap();
    assert!((v[&("a".to_string(), 1)][&cod] - 35.0).abs() < 1e-9);
    assert!(!v.contains_key(&("a".to_string(), 2)));
    let c = compensation(
        &RuleBook::bundled(),
        "bj-compensation-2014",
        &Standards::builtin(),
        &secs,
        &v,
        2022,
    )
    .unwrap();
    assert_eq!(month_yuan(&c, "a", 1), 600_000.0); // V against III, NH3-N and TP not measured
                                                   // An entered value wins over the store's.
    let entered = values_from_bytes(
        b"section,month,factor,value\na,2022-01,cod,18\n",
        "v.csv",
        2022,
    )
    .unwrap();
    let both = rewater_money::store::overlay(v, &entered);
    let c = compensation(
        &RuleBook::bundled(),
        "bj-compensation-2014",
        &Standards::builtin(),
        &secs,
        &both,
        2022,
    )
    .unwrap();
    assert_eq!(month_yuan(&c, "a", 1), 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}
