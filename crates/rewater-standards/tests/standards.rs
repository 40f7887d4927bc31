//! Values checked against the standards' own tables; each test names the table and row.

use rewater_standards::evaluate::{check_sample, classify, ClassifyError, ClassifyOptions};
use rewater_standards::input::{samples_from_csv, samples_from_json, series_from_csv};
use rewater_standards::standard::{Bound, Context, SamplingPoint, Standard, WaterBody};
use rewater_standards::{comply, Date, Factor, Reading, Standards, Unit};

fn f(code: &str) -> Factor {
    Factor::parse(code).unwrap()
}

fn mg(code: &str, v: f64) -> Reading {
    let factor = f(code);
    Reading::new(
        factor,
        v,
        if factor.code() == "w01001" {
            Unit::Ph
        } else {
            Unit::MgPerL
        },
    )
    .unwrap()
}

fn river() -> Context {
    Context {
        water_body: Some(WaterBody::River),
        ..Default::default()
    }
}

fn date(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn bundled_standards_load_with_their_tables() {
    let s = Standards::builtin();
    assert_eq!(s.all().len(), 8);
    let gb3838 = s.get("GB 3838-2002").unwrap();
    // GB 3838-2002 Table 1: 24 items, TP twice (river, lake): 26 rows × 5 classes.
    assert_eq!(gb3838.limits.len(), 130);
    assert_eq!(s.get("gb18918").unwrap().id, "GB18918-2002");
    assert_eq!(s.get("GB/T 18920-2020").unwrap().id, "GB/T18920-2020");
    // DB11/890-2012 values are recalled, not read: every row must stay marked unverified.
    let db11 = s.get("DB11/890-2012").unwrap();
    assert!(db11
        .limits
        .iter()
        .all(|l| l.confidence == rewater_standards::Confidence::Unverified));
}

#[test]
fn gb3838_table1_values() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    let lim = |class: &str, code: &str, ctx: &Context| {
        std.limit_for(std.class_index(class).unwrap(), f(code), ctx)
            .unwrap()
            .limit
            .bound
            .clone()
    };
    // Table 1 item 9 氨氮: I 0.15, III 1.0, V 2.0 mg/L.
    assert_eq!(lim("I", "nh3n", &river()), Bound::Max { value: 0.15 });
    assert_eq!(lim("III", "nh3n", &river()), Bound::Max { value: 1.0 });
    assert_eq!(lim("V", "nh3n", &river()), Bound::Max { value: 2.0 });
    // Table 1 item 10 总磷: river III 0.2, lake/reservoir III 0.05.
    assert_eq!(lim("III", "tp", &river()), Bound::Max { value: 0.2 });
    let lake = Context {
        water_body: Some(WaterBody::Lake),
        ..Default::default()
    };
    assert_eq!(lim("III", "tp", &lake), Bound::Max { value: 0.05 });
    // Table 1 item 4 溶解氧 is a minimum: I 7.5 (90 % saturation), V 2.
    assert_eq!(lim("I", "do", &river()), Bound::Min { value: 7.5 });
    assert_eq!(lim("V", "do", &river()), Bound::Min { value: 2.0 });
    // Table 1 item 11 总氮 (湖、库) applies to lakes only.
    assert!(std.limit_for(2, f("tn"), &river()).is_none());
    assert_eq!(lim("III", "tn", &lake), Bound::Max { value: 1.0 });
}

#[test]
fn single_factor_classification_takes_the_worst_factor() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    // pH 7.5 (I), DO 6.5 (II: ≥ 6), COD 18 (III: ≤ 20), NH3-N 0.4 (II: ≤ 0.5), TP 0.15 river (III: ≤ 0.2).
    let sample = [
        mg("ph", 7.5),
        mg("do", 6.5),
        mg("cod", 18.0),
        mg("nh3n", 0.4),
        mg("tp", 0.15),
    ];
    let c = classify(std, &sample, &river(), &ClassifyOptions::default()).unwrap();
    assert_eq!(c.label, "III");
    assert_eq!(c.limiting, vec![f("cod"), f("tp")]);
    assert_eq!(c.quality_zh.as_deref(), Some("良好"));
    let class_of = |code: &str| {
        c.factors
            .iter()
            .find(|x| x.factor == f(code))
            .unwrap()
            .label
            .clone()
    };
    assert_eq!(class_of("ph"), "I");
    assert_eq!(class_of("do"), "II");
    assert_eq!(class_of("nh3n"), "II");
    // No factor exceeds class III, so no exceedance multiples.
    assert!(c.factors.iter().all(|x| x.exceedance_multiple.is_none()));
}

#[test]
fn worse_than_class_v_with_exceedance_multiple() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    // NH3-N 2.5 > class V 2.0 → 劣V; multiple against class III (1.0): 2.5 / 1.0 − 1 = 1.5.
    let c = classify(
        std,
        &[mg("cod", 12.0), mg("nh3n", 2.5)],
        &river(),
        &ClassifyOptions::default(),
    )
    .unwrap();
    assert_eq!(c.label, "劣V");
    assert_eq!(c.class, None);
    assert_eq!(c.limiting, vec![f("nh3n")]);
    assert_eq!(c.quality_zh.as_deref(), Some("重度污染"));
    let nh3n = c.factors.iter().find(|x| x.factor == f("nh3n")).unwrap();
    assert!((nh3n.exceedance_multiple.unwrap() - 1.5).abs() < 1e-12);
    // A value equal to a limit meets it: COD 15 is class I (I and II share 15; the better wins).
    let c = classify(
        std,
        &[mg("cod", 15.0)],
        &river(),
        &ClassifyOptions::default(),
    )
    .unwrap();
    assert_eq!(c.label, "I");
}

#[test]
fn dissolved_oxygen_is_a_minimum() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    // DO 1.5 < class V minimum 2 → 劣V, and no exceedance multiple is computed for DO.
    let c = classify(
        std,
        &[mg("do", 1.5), mg("cod", 10.0)],
        &river(),
        &ClassifyOptions::default(),
    )
    .unwrap();
    assert_eq!(c.label, "劣V");
    assert_eq!(c.limiting, vec![f("do")]);
    assert_eq!(c.factors[0].exceedance_multiple, None);
    // DO 5.0 meets class III (≥ 5) but not II (≥ 6).
    let c = classify(std, &[mg("do", 5.0)], &river(), &ClassifyOptions::default()).unwrap();
    assert_eq!(c.label, "III");
}

#[test]
fn river_and_lake_tp_split_and_tn_rules() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    let sample = [mg("tp", 0.08), mg("tn", 1.2)];
    // River: TP 0.08 ≤ 0.1 → II; TN is not evaluated (reference item, and a lake item).
    let c = classify(std, &sample, &river(), &ClassifyOptions::default()).unwrap();
    assert_eq!(c.label, "II");
    assert!(c.not_evaluated.iter().any(|(x, _)| *x == f("tn")));
    // Lake: TP 0.08 ≤ 0.1 → IV (lake limits 0.01/0.025/0.05/0.1/0.2).
    let lake = Context {
        water_body: Some(WaterBody::Lake),
        ..Default::default()
    };
    let c = classify(std, &sample, &lake, &ClassifyOptions::default()).unwrap();
    assert_eq!(c.label, "IV");
    // With TN switched on for the lake: TN 1.2 ≤ 1.5 → IV too.
    let opts = ClassifyOptions {
        include: vec![f("tn")],
        ..Default::default()
    };
    let c = classify(std, &sample, &lake, &opts).unwrap();
    assert_eq!(
        c.factors
            .iter()
            .find(|x| x.factor == f("tn"))
            .unwrap()
            .label,
        "IV"
    );
    // No water body given: the strictest TP (lake) is used and flagged as assumed.
    let c = classify(
        std,
        &[mg("tp", 0.08)],
        &Context::default(),
        &ClassifyOptions::default(),
    )
    .unwrap();
    assert_eq!(c.label, "IV");
    assert!(c.factors[0].assumed);
}

#[test]
fn gb18918_temperature_bracket_and_construction_date() {
    let s = Standards::builtin();
    let (std, a1) = s.resolve("GB18918-2002:1A").unwrap();
    // Table 1 NH3-N 1A: 5 mg/L above 12 °C, 8 (bracket) at or below 12 °C.
    let warm = Context {
        water_temp_c: Some(15.0),
        ..Default::default()
    };
    let cold = Context {
        water_temp_c: Some(12.0),
        ..Default::default()
    };
    let nh3n6 = [mg("nh3n", 6.0)];
    assert!(!check_sample(std, a1, &nh3n6, &warm).unwrap().meets);
    assert!(check_sample(std, a1, &nh3n6, &cold).unwrap().meets);
    let unknown = check_sample(std, a1, &nh3n6, &Context::default()).unwrap();
    assert!(!unknown.meets && unknown.factors[0].assumed);
    // Table 1 TP 1A: 1 mg/L for plants built before 2006-01-01, 0.5 from then on.
    let tp = [mg("tp", 0.8)];
    let old = Context {
        plant_built: Some(date("2004-05-01")),
        ..Default::default()
    };
    let new = Context {
        plant_built: Some(date("2006-01-01")),
        ..Default::default()
    };
    assert!(check_sample(std, a1, &tp, &old).unwrap().meets);
    assert!(!check_sample(std, a1, &tp, &new).unwrap().meets);
    // Exceedance multiple: COD 60 against 1A 50 → 0.2.
    let c = check_sample(std, a1, &[mg("cod", 60.0)], &warm).unwrap();
    assert!((c.factors[0].exceedance_multiple.unwrap() - 0.2).abs() < 1e-12);
}

#[test]
fn db11_890_winter_window() {
    let s = Standards::builtin();
    let (std, b) = s.resolve("DB11/890-2012:existing_B").unwrap();
    // Existing plants B: NH3-N 8, and 15 from 1 December to 31 March.
    let sample = [mg("nh3n", 10.0)];
    let on = |d: &str| Context {
        date: Some(date(d)),
        ..Default::default()
    };
    assert!(
        check_sample(std, b, &sample, &on("2024-01-15"))
            .unwrap()
            .meets
    );
    assert!(
        check_sample(std, b, &sample, &on("2024-12-01"))
            .unwrap()
            .meets
    );
    assert!(
        check_sample(std, b, &sample, &on("2024-03-31"))
            .unwrap()
            .meets
    );
    assert!(
        !check_sample(std, b, &sample, &on("2024-04-01"))
            .unwrap()
            .meets
    );
    assert!(
        !check_sample(std, b, &sample, &on("2024-06-15"))
            .unwrap()
            .meets
    );
    assert!(
        check_sample(std, b, &sample, &on("2024-06-15"))
            .unwrap()
            .uses_unverified
    );
}

#[test]
fn gbt18920_chlorine_by_sampling_point_and_ecoli_absent() {
    let s = Standards::builtin();
    let (std, green) = s.resolve("GB/T18920-2020:urban_greening").unwrap();
    let cl = [mg("total_chlorine", 0.5)];
    let at = |p| Context {
        sampling_point: Some(p),
        ..Default::default()
    };
    // Table 1: total chlorine ≥ 1.0 at the outlet, 0.2–2.5 at the network end for greening.
    assert!(
        !check_sample(std, green, &cl, &at(SamplingPoint::Outlet))
            .unwrap()
            .meets
    );
    assert!(
        check_sample(std, green, &cl, &at(SamplingPoint::NetworkEnd))
            .unwrap()
            .meets
    );
    // E. coli must not be detected (limit 0 per 100 mL); 1 per L is 0.1 per 100 mL → fails.
    let e = Reading::new(f("e_coli"), 1.0, Unit::CfuPerL).unwrap();
    let c = check_sample(std, green, &[e], &Context::default()).unwrap();
    assert!(!c.meets);
    assert_eq!(c.factors[0].exceedance_multiple, None);
}

#[test]
fn units_convert_or_are_refused() {
    let s = Standards::builtin();
    let std = s.get("GB3838-2002").unwrap();
    // Table 1 item 17 汞: class I 0.00005 mg/L = 0.05 µg/L; class III 0.0001 mg/L.
    let hg = |v| Reading::new(f("hg"), v, Unit::UgPerL).unwrap();
    let opts = ClassifyOptions {
        only: Some(vec![f("hg")]),
        ..Default::default()
    };
    assert_eq!(
        classify(std, &[hg(0.05)], &river(), &opts).unwrap().label,
        "I"
    );
    assert_eq!(
        classify(std, &[hg(0.08)], &river(), &opts).unwrap().label,
        "III"
    );
    // Colour in Pt-Co degrees cannot be compared with GB 18918's dilution multiple.
    let (g, a1) = s.resolve("GB18918-2002:1A").unwrap();
    let colour = Reading::new(f("color"), 20.0, Unit::PtCo).unwrap();
    assert!(check_sample(g, a1, &[colour], &Context::default()).is_err());
    // A concentration in NTU is refused at once.
    assert!(Reading::new(f("cod"), 20.0, Unit::Ntu).is_err());
    assert!(Reading::new(f("cod"), -1.0, Unit::MgPerL).is_err());
    assert!(Reading::new(f("ph"), 15.0, Unit::Ph).is_err());
    assert!(Reading::new(f("water_temp"), -1.5, Unit::DegC).is_ok());
    let grades = s.get("GB18918-2002").unwrap();
    assert!(matches!(
        classify(
            grades,
            &[mg("cod", 1.0)],
            &river(),
            &ClassifyOptions::default()
        ),
        Err(ClassifyError::NotClassification(_))
    ));
}

#[test]
fn csv_and_json_samples_with_errors_that_name_the_place() {
    let csv = "id,water_body,ph,do,cod,nh3n,tp,hg[µg/L]\nS1,river,7.2,6.1,18,0.4,0.15,0.04\nS2,lake,8,,35,,0.3,\n";
    let samples = samples_from_csv(csv.as_bytes(), "in.csv").unwrap();
    assert_eq!(samples.len(), 2);
    assert_eq!(samples[0].readings.len(), 6);
    assert_eq!(samples[1].readings.len(), 3);
    assert_eq!(samples[1].context.water_body, Some(WaterBody::Lake));

    let e = samples_from_csv("id,cod,zzz\nA,1,2\n".as_bytes(), "in.csv").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (1, Some("zzz")));
    assert!(e
        .to_string()
        .starts_with("in.csv:1 (column 'zzz'): unknown factor"));
    let e = samples_from_csv("id,cod\nA,1\nB,-3\n".as_bytes(), "in.csv").unwrap_err();
    assert_eq!(e.line, 3);
    assert!(e.message.contains("negative"));
    let e = samples_from_csv("id,cod[mg/m3]\nA,1\n".as_bytes(), "x.csv").unwrap_err();
    assert!(e.message.contains("unknown unit"));
    // Mercury without a unit is refused: HJ 212 reports it in µg/L, limits are in mg/L.
    let e = samples_from_csv("hg\n0.1\n".as_bytes(), "x.csv").unwrap_err();
    assert!(e.message.contains("write the unit"));
    let e = samples_from_csv("id,cod\nA,abc\n".as_bytes(), "x.csv").unwrap_err();
    assert_eq!(e.line, 2);

    let json = r#"[{"id": "W1", "water_body": "river", "values": {"cod": 18, "hg": {"value": 0.04, "unit": "µg/L"}}}]"#;
    let s = samples_from_json(json, "in.json").unwrap();
    assert_eq!(s[0].readings[1].unit, Unit::UgPerL);
    let lines = "{\"values\": {\"cod\": 1}}\n{\"values\": {\"nope\": 1}}\n";
    let e = samples_from_json(lines, "in.jsonl").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (2, Some("nope")));
}

#[test]
fn standard_file_errors_name_file_and_line() {
    let good = "id = \"X-1\"\ntitle_zh = \"x\"\ntitle_en = \"x\"\nkind = \"uses\"\neffective_from = \"2020-01-01\"\naveraging = \"sample\"\nconfidence = \"low\"\n\n[[class]]\nid = \"a\"\nname_zh = \"a\"\nname_en = \"a\"\n";
    let ok = format!("{good}\n[[limit]]\nclass = \"a\"\nfactor = \"cod\"\ntype = \"max\"\nvalue = 40\nunit = \"mg/L\"\n");
    let s = Standard::parse(&ok, "contract.toml").unwrap();
    assert_eq!(s.limits[0].line, 14);
    // Missing unit.
    let bad =
        format!("{good}\n[[limit]]\nclass = \"a\"\nfactor = \"cod\"\ntype = \"max\"\nvalue = 40\n");
    let e = Standard::parse(&bad, "contract.toml").unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("contract.toml", Some(14)));
    assert!(e.message.contains("unit"));
    // Unknown factor.
    let bad = ok.replace("\"cod\"", "\"cud\"");
    assert!(Standard::parse(&bad, "c.toml")
        .unwrap_err()
        .to_string()
        .starts_with("c.toml:14: unknown factor 'cud'"));
    // Missing required field (no title_en) → toml error with a line.
    let bad = good.replace("title_en = \"x\"\n", "");
    let e = Standard::parse(&bad, "c.toml").unwrap_err();
    assert!(e.message.contains("title_en"), "{e}");
    // Negative limit, unknown class.
    assert!(Standard::parse(&ok.replace("value = 40", "value = -4"), "c.toml").is_err());
    assert!(Standard::parse(
        &ok.replace("class = \"a\"\nfactor", "class = \"b\"\nfactor"),
        "c.toml"
    )
    .unwrap_err()
    .to_string()
    .contains("class 'b'"));
    // A user file replaces a bundled one with the same id.
    let mut all = Standards::builtin();
    let local = ok.replace("X-1", "GB18918-2002");
    assert!(all.add(Standard::parse(&local, "local.toml").unwrap()));
    assert_eq!(all.get("GB18918-2002").unwrap().origin, "local.toml");
}

#[test]
fn compliance_over_a_series() {
    let s = Standards::builtin();
    let (std, a1) = s.resolve("GB18918-2002:1A").unwrap();
    // GB 18918 1A COD 50 mg/L against the daily mean of valid readings.
    let csv = "time,factor,value,unit,flag
2025-06-01 08:00,cod,40,mg/L,N
2025-06-01 16:00,cod,60,mg/L,N
2025-06-02 08:00,cod,55,mg/L,N
2025-06-02 16:00,cod,57,,N
2025-06-03 08:00,cod,100,mg/L,M
2025-06-03 16:00,cod,30,mg/L,N
2025-06-04 08:00,cod,61,mg/L,
2025-06-05 08:00,cod,52,mg/L,N
2025-06-05 09:00,ph,5.5,,N
2025-06-05 10:00,ph,7.5,,N
2025-06-06 08:00,cod,-0.5,mg/L,D
";
    let series = series_from_csv(csv.as_bytes(), "s.csv").unwrap();
    let r = comply(std, a1, &series, &Context::default()).unwrap();
    let cod = r.factors.iter().find(|x| x.factor == f("cod")).unwrap();
    // Days: 06-01 mean 50 (meets, equal), 06-02 56 (fails), 06-03 30 (the M reading is
    // excluded), 06-04 61 (fails), 06-05 52 (fails).
    assert_eq!(cod.days_with_data, 5);
    assert_eq!(cod.exceedance_days, 3);
    assert_eq!(cod.compliance_rate, Some(0.4));
    assert_eq!(cod.longest_exceedance_run_days, 2);
    assert_eq!(cod.worst_value, Some(61.0));
    assert_eq!(cod.worst_date, Some(date("2025-06-04")));
    assert_eq!(r.excluded_by_flag.get(&'M'), Some(&1));
    assert_eq!(r.excluded_by_flag.get(&'D'), Some(&1));
    // pH is checked on the day's extremes: 5.5 is outside 6–9 even though the mean 6.5 is not.
    let ph = r.factors.iter().find(|x| x.factor == f("ph")).unwrap();
    assert_eq!((ph.days_with_data, ph.exceedance_days), (1, 1));
    // A bad time is reported with its line.
    let e =
        series_from_csv("time,factor,value\n2025-13-01,cod,1\n".as_bytes(), "s.csv").unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (2, Some("time")));
}

#[test]
fn compliance_uses_daily_temperature_for_the_nh3n_bracket() {
    let s = Standards::builtin();
    let (std, a1) = s.resolve("GB18918-2002:1A").unwrap();
    let csv = "time,factor,value
2025-01-10,nh3n,7
2025-01-10,water_temp,10
2025-07-10,nh3n,7
2025-07-10,water_temp,22
";
    let series = series_from_csv(csv.as_bytes(), "s.csv").unwrap();
    let r = comply(std, a1, &series, &Context::default()).unwrap();
    let n = r.factors.iter().find(|x| x.factor == f("nh3n")).unwrap();
    // 7 ≤ 8 in January (10 °C); 7 > 5 in July (22 °C).
    assert_eq!(n.exceedance_dates, vec![date("2025-07-10")]);
    assert!(!n.limit_assumed);
}
