//! Construction funding shares: every branch of seed 001 (京政发〔2023〕6号 三(十一) and 7号
//! 六(一)(二)), each area class × asset type, with hand-computed yuan; the multi-year budget;
//! hostile project lists; a user rule file replacing a bundled one.

use rewater_money::funding::{funding, projects_from_bytes, Funding, DEFAULT_SETS};
use rewater_money::{Areas, Confidence, Lang, RuleBook};
use std::collections::BTreeMap;

const HEADER: &str =
    "id,asset,district,township,setting,mountain,construction_yuan,land_yuan,start_year,years\n";

fn run(rows: &str) -> Funding {
    let areas = Areas::bundled();
    let projects =
        projects_from_bytes(format!("{HEADER}{rows}").as_bytes(), "p.csv", &areas).unwrap();
    funding(&RuleBook::bundled(), DEFAULT_SETS, &projects).unwrap()
}

/// A project's lines as "part:payer[@district]" → yuan, and the rule applied.
fn lines(f: &Funding, id: &str) -> (Option<String>, BTreeMap<String, f64>) {
    let s = f.projects.iter().find(|s| s.project.id == id).unwrap();
    let mut m = BTreeMap::new();
    for l in &s.lines {
        let key = match &l.district {
            Some(d) => format!("{}:{}@{d}", l.part, l.payer.id()),
            None => format!("{}:{}", l.part, l.payer.id()),
        };
        *m.entry(key).or_insert(0.0) += l.yuan;
    }
    if s.unassigned_yuan > 0.0 {
        m.insert("unassigned".into(), s.unassigned_yuan);
    }
    (s.applied.as_ref().map(|a| a.rule.clone()), m)
}

fn expect(f: &Funding, id: &str, rule: Option<&str>, want: &[(&str, f64)]) {
    let (r, got) = lines(f, id);
    assert_eq!(r.as_deref(), rule, "project {id}: rule");
    let want: BTreeMap<String, f64> = want.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(got.len(), want.len(), "project {id}: {got:?} vs {want:?}");
    for (k, v) in &want {
        let g = got
            .get(k)
            .unwrap_or_else(|| panic!("project {id}: no line {k} in {got:?}"));
        assert!((g - v).abs() < 1e-6, "project {id} {k}: {g} ≠ {v}");
    }
}

const ALL: &str = "\
c-plant,reclamation_plant,haidian,,urban,,100000000,20000000,2024,1
c-sewer,sewer_pipe,chaoyang,,urban,,30000000,4000000,2024,1
c-reclaimed,reclaimed_pipe,chaoyang,,urban,,30000000,4000000,2024,1
c-storage,overflow_storage,chaoyang,,urban,,30000000,4000000,2024,1
c-sludge,sludge,chaoyang,,urban,,30000000,4000000,2024,1
c-renewal,drain_renewal,chaoyang,,urban,,30000000,4000000,2024,1
hlg-sewer,sewer_pipe,昌平区,回龙观镇,urban,,10000000,2000000,2024,1
c-upkeep,drain_upkeep,xicheng,,urban,,5000000,1000000,2024,1
s-plant,reclamation_plant,tongzhou,永顺镇,urban,,80000000,10000000,2024,1
se-plant,reclamation_plant,tongzhou,永乐店镇,rural,,50000000,5000000,2024,1
s-sewer,sewer_pipe,tongzhou,,urban,,20000000,3000000,2024,1
s-rural,reclaimed_pipe,tongzhou,,rural,,10000000,2000000,2024,1
p-plant,reclamation_plant,shunyi,,urban,,60000000,5000000,2024,1
e-plant,reclamation_plant,miyun,,urban,,40000000,2000000,2024,1
e-sewer,sewer_pipe,miyun,,urban,,10000000,1000000,2024,1
p-reclaimed,reclaimed_pipe,daxing,,urban,,10000000,1000000,2024,1
r-plant,reclamation_plant,pinggu,,rural,,5000000,1000000,2024,1
rc-plant,reclamation_plant,haidian,,rural,,6000000,1000000,2024,1
e-rural,sewer_pipe,yanqing,,rural,,4000000,0,2024,1
cyf-rural,sewer_pipe,fengtai,,rural,,4000000,500000,2024,1
p-rural,sewer_pipe,shunyi,,rural,,4000000,500000,2024,1
sjs-rural,reclaimed_pipe,shijingshan,,rural,,4000000,0,2024,1
w-central,water_plant,dongcheng,,urban,,100000000,10000000,2024,1
w-replace,supply_replacement,haidian,,urban,,8000000,0,2024,1
w-core,water_plant,tongzhou,北苑街道,urban,,20000000,0,2024,1
w-key,water_plant,tongzhou,宋庄镇,rural,,20000000,1000000,2024,1
w-exp,water_plant,tongzhou,永乐店镇,rural,,20000000,1000000,2024,1
w-eco,water_plant,huairou,,urban,,20000000,1000000,2024,1
w-plain,water_plant,daxing,,urban,,20000000,1000000,2024,1
w-other-replace,supply_replacement,shunyi,,urban,,3000000,0,2024,1
v-70,village_station_retrofit,mentougou,,rural,是,1000000,100000,2024,1
v-60,village_station_retrofit,fangshan,河北镇,rural,,1000000,0,2024,1
v-plain,village_station_retrofit,shunyi,,rural,否,1000000,0,2024,1
none,overflow_storage,shunyi,,urban,,7000000,300000,2024,1
";

#[test]
fn every_branch_of_seed_001_by_area_class_and_asset() {
    let f = run(ALL);
    // 6号 三(十一)1 中心城区、回龙观天通苑
    expect(
        &f,
        "c-plant",
        Some("central-reclamation-plant"),
        &[
            ("construction:concession", 100e6),
            ("land:municipal_fai", 10e6),
            ("land:district@haidian", 10e6),
        ],
    );
    for id in [
        "c-sewer",
        "c-reclaimed",
        "c-storage",
        "c-sludge",
        "c-renewal",
    ] {
        expect(
            &f,
            id,
            Some("central-pipes-storage-sludge"),
            &[
                ("construction:municipal_fai", 30e6),
                ("land:municipal_fai", 2e6),
                ("land:district@chaoyang", 2e6),
            ],
        );
    }
    expect(
        &f,
        "hlg-sewer",
        Some("central-pipes-storage-sludge"),
        &[
            ("construction:municipal_fai", 10e6),
            ("land:municipal_fai", 1e6),
            ("land:district@changping", 1e6),
        ],
    );
    expect(
        &f,
        "c-upkeep",
        Some("central-drain-upkeep"),
        &[("construction:municipal_finance", 5e6), ("unassigned", 1e6)],
    );
    // 三(十一)2 城市副中心及拓展区
    expect(
        &f,
        "s-plant",
        Some("subcentre-reclamation-plant"),
        &[
            ("construction:concession", 80e6),
            ("land:district@tongzhou", 10e6),
        ],
    );
    expect(
        &f,
        "se-plant",
        Some("subcentre-reclamation-plant"),
        &[
            ("construction:concession", 50e6),
            ("land:district@tongzhou", 5e6),
        ],
    );
    expect(
        &f,
        "s-sewer",
        Some("subcentre-urban-pipes"),
        &[
            ("construction:municipal_fai", 20e6),
            ("land:district@tongzhou", 3e6),
        ],
    );
    expect(
        &f,
        "s-rural",
        Some("subcentre-rural-backbone"),
        &[
            ("construction:municipal_fai", 7e6),
            ("construction:district@tongzhou", 3e6),
            ("land:district@tongzhou", 2e6),
        ],
    );
    // 三(十一)3 其他城镇地区
    expect(
        &f,
        "p-plant",
        Some("other-urban-reclamation-plant"),
        &[
            ("construction:concession", 60e6),
            ("land:district@shunyi", 5e6),
        ],
    );
    expect(
        &f,
        "e-plant",
        Some("other-urban-reclamation-plant"),
        &[
            ("construction:concession", 40e6),
            ("land:district@miyun", 2e6),
        ],
    );
    expect(
        &f,
        "e-sewer",
        Some("ecological-urban-pipes"),
        &[
            ("construction:municipal_fai", 9e6),
            ("construction:district@miyun", 1e6),
            ("land:district@miyun", 1e6),
        ],
    );
    expect(
        &f,
        "p-reclaimed",
        Some("plain-urban-pipes"),
        &[
            ("construction:municipal_fai", 7e6),
            ("construction:district@daxing", 3e6),
            ("land:district@daxing", 1e6),
        ],
    );
    // 三(十一)4 其他农村地区
    expect(
        &f,
        "r-plant",
        Some("rural-reclamation-plant"),
        &[
            ("construction:concession", 5e6),
            ("land:district_township@pinggu", 1e6),
        ],
    );
    expect(
        &f,
        "rc-plant",
        Some("rural-reclamation-plant"),
        &[
            ("construction:concession", 6e6),
            ("land:district_township@haidian", 1e6),
        ],
    );
    expect(
        &f,
        "e-rural",
        Some("ecological-rural-backbone"),
        &[
            ("construction:municipal_fai", 3.6e6),
            ("construction:district@yanqing", 0.4e6),
            ("land:district@yanqing", 0.0),
        ],
    );
    expect(
        &f,
        "cyf-rural",
        Some("cyf-rural-backbone"),
        &[
            ("construction:municipal_fai", 2e6),
            ("construction:district@fengtai", 2e6),
            ("land:district@fengtai", 0.5e6),
        ],
    );
    expect(
        &f,
        "p-rural",
        Some("other-rural-backbone"),
        &[
            ("construction:municipal_fai", 2.8e6),
            ("construction:district@shunyi", 1.2e6),
            ("land:district@shunyi", 0.5e6),
        ],
    );
    expect(
        &f,
        "sjs-rural",
        Some("other-rural-backbone"),
        &[
            ("construction:municipal_fai", 2.8e6),
            ("construction:district@shijingshan", 1.2e6),
            ("land:district@shijingshan", 0.0),
        ],
    );
    // 7号 六(一) 供水厂及供水管线
    expect(
        &f,
        "w-central",
        Some("central-water-plant"),
        &[
            ("construction:municipal_fai", 50e6),
            ("construction:water_group", 50e6),
            ("land:district@dongcheng", 10e6),
        ],
    );
    expect(
        &f,
        "w-replace",
        Some("central-water-plant"),
        &[
            ("construction:municipal_fai", 4e6),
            ("construction:water_group", 4e6),
            ("land:district@haidian", 0.0),
        ],
    );
    expect(
        &f,
        "w-core",
        Some("subcentre-key-towns-water-plant"),
        &[
            ("construction:municipal_fai", 10e6),
            ("construction:water_group", 10e6),
            ("land:district@tongzhou", 0.0),
        ],
    );
    expect(
        &f,
        "w-key",
        Some("subcentre-key-towns-water-plant-expansion"),
        &[
            ("construction:municipal_fai", 10e6),
            ("construction:water_group", 10e6),
            ("land:district@tongzhou", 1e6),
        ],
    );
    expect(
        &f,
        "w-exp",
        Some("subcentre-expansion-water-plant"),
        &[
            ("construction:municipal_fai", 14e6),
            ("construction:district@tongzhou", 6e6),
            ("land:district@tongzhou", 1e6),
        ],
    );
    expect(
        &f,
        "w-eco",
        Some("ecological-water-plant"),
        &[
            ("construction:municipal_fai", 18e6),
            ("construction:district@huairou", 2e6),
            ("land:district@huairou", 1e6),
        ],
    );
    expect(
        &f,
        "w-plain",
        Some("plain-water-plant"),
        &[
            ("construction:municipal_fai", 14e6),
            ("construction:district@daxing", 6e6),
            ("land:district@daxing", 1e6),
        ],
    );
    expect(
        &f,
        "w-other-replace",
        Some("other-supply-replacement"),
        &[
            ("construction:district@shunyi", 3e6),
            ("land:district@shunyi", 0.0),
        ],
    );
    // 7号 六(二) 村庄供水站标准化改造
    expect(
        &f,
        "v-70",
        Some("mountain-station-retrofit-70"),
        &[
            ("construction:municipal_finance", 0.7e6),
            ("construction:district@mentougou", 0.3e6),
            ("land:district@mentougou", 0.1e6),
        ],
    );
    expect(
        &f,
        "v-60",
        Some("mountain-station-retrofit-60"),
        &[
            ("construction:municipal_finance", 0.6e6),
            ("construction:district@fangshan", 0.4e6),
            ("land:district@fangshan", 0.0),
        ],
    );
    expect(
        &f,
        "v-plain",
        Some("plain-station-retrofit"),
        &[
            ("construction:district@shunyi", 1e6),
            ("land:district@shunyi", 0.0),
        ],
    );
    // No clause covers overflow storage outside the central city: unassigned, not invented.
    expect(&f, "none", None, &[("unassigned", 7.3e6)]);
    // Totals by payer add up to every yuan of the list.
    let total_in: f64 = f
        .projects
        .iter()
        .map(|s| s.project.construction_yuan + s.project.land_yuan)
        .sum();
    let total_out: f64 = f.by_payer.values().map(|(c, l)| c + l).sum::<f64>() + f.unassigned_yuan;
    assert!((total_in - total_out).abs() < 1e-3);
    // Townships listed as UNVERIFIED (回龙观, 永顺镇, 北苑, 河北镇) make the ledger unverified.
    assert_eq!(f.weakest, Confidence::Unverified);
}

#[test]
fn every_bundled_share_rule_is_exercised_by_the_branch_test() {
    let f = run(ALL);
    let used: Vec<String> = f
        .projects
        .iter()
        .filter_map(|s| s.applied.as_ref().map(|a| a.rule.clone()))
        .collect();
    let book = RuleBook::bundled();
    for id in DEFAULT_SETS {
        for r in &book.sets[*id].share {
            assert!(
                used.contains(&r.id),
                "rule {id}/{} has no test project",
                r.id
            );
        }
    }
}

#[test]
fn multi_year_budget_spreads_evenly_and_tables_say_unverified() {
    let f = run("a,sewer_pipe,daxing,,urban,,9000000,3000000,2024,3\nb,reclamation_plant,shunyi,,urban,,1000000,0,2025,1\n");
    // a: municipal 6.3e6 construction over 2024–26 (2.1e6 a year); daxing 2.7e6 + 3e6 land
    // (1.9e6 a year); b: concession 1e6 in 2025.
    let year = |y: i32, key: &str| -> f64 {
        f.budget[&y]
            .iter()
            .filter(|((p, d), _)| {
                format!(
                    "{}{}",
                    p.id(),
                    d.as_deref().map(|d| format!("@{d}")).unwrap_or_default()
                ) == key
            })
            .map(|(_, v)| *v)
            .sum()
    };
    assert!((year(2024, "municipal_fai") - 2.1e6).abs() < 1e-6);
    assert!((year(2026, "district@daxing") - 1.9e6).abs() < 1e-6);
    assert!((year(2025, "concession") - 1e6).abs() < 1e-6);
    assert!(!f.budget.contains_key(&2027));
    assert_eq!(f.district_budget("daxing").values().sum::<f64>(), 5.7e6);
    // District-default classes are inferred, the rules verified: not unverified.
    assert_eq!(f.weakest, Confidence::Inferred);
    let t = f.tables(&RuleBook::bundled(), &Areas::bundled(), Lang::Zh);
    assert_eq!(t.len(), 3);
    assert!(!t[0].unverified);
    let csv = rewater_money::Table::csv_text(&t, Lang::Zh);
    assert!(csv.contains("大兴区·区政府"), "{csv}");
    assert!(csv.contains("京政发〔2023〕6号"));
    // A project in an unverified township marks every table UNVERIFIED.
    let g = run("c,sewer_pipe,昌平区,回龙观镇,urban,,1000000,0,2024,1\n");
    let t = g.tables(&RuleBook::bundled(), &Areas::bundled(), Lang::En);
    assert!(t
        .iter()
        .all(|t| t.unverified && t.heading(Lang::En).ends_with("[UNVERIFIED]")));
}

#[test]
fn a_project_outside_the_plan_period_is_flagged() {
    let f = run("a,sewer_pipe,daxing,,urban,,1000000,0,2025,2\n");
    assert_eq!(f.projects[0].years_outside_validity, vec![2026]);
    let csv = rewater_money::Table::csv_text(
        &f.tables(&RuleBook::bundled(), &Areas::bundled(), Lang::En),
        Lang::En,
    );
    assert!(csv.contains("not in force in 2026"), "{csv}");
}

#[test]
fn hostile_project_lists_are_refused_with_row_and_field() {
    let areas = Areas::bundled();
    let bad = |body: &str| {
        projects_from_bytes(body.as_bytes(), "p.csv", &areas)
            .unwrap_err()
            .to_string()
    };
    assert!(bad("id,asset\n").contains("missing column"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,-5,0,2024,1\n"
    ))
    .contains("row 2, field construction_yuan"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,NaN,0,2024,1\n"
    ))
    .contains("construction_yuan"));
    assert!(
        bad(&format!("{HEADER}a,sewer_pipe,daxing,,town,,5,0,2024,1\n")).contains("field setting")
    );
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,atlantis,,urban,,5,0,2024,1\n"
    ))
    .contains("unknown district"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,5,0,2024,1\na,sewer_pipe,daxing,,urban,,5,0,2024,1\n"
    ))
    .contains("already given in row 2"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,5,0,99999,1\n"
    ))
    .contains("start_year"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,5,0,2024,1000\n"
    ))
    .contains("years"));
    assert!(bad(&format!("{HEADER}a,sewer_pipe,daxing,,urban,,,0,2024,1\n")).contains("empty"));
    assert!(bad(&format!(
        "{HEADER}a,sewer_pipe,daxing,,urban,,5,0,2024,1,extra\n"
    ))
    .contains("more cells"));
    assert!(
        bad("id,asset,district,setting,construction_yuan,start_year,bogus\n")
            .contains("unknown column")
    );
    let mut latin1 = HEADER.as_bytes().to_vec();
    latin1.extend(b"a,sewer_pipe,daxing,\xff\xfe,urban,,5,0,2024,1\n");
    assert!(projects_from_bytes(&latin1, "p.csv", &areas)
        .unwrap_err()
        .to_string()
        .contains("UTF-8"));
    assert!(projects_from_bytes(b"PK\x03\x04garbage", "p.xlsx", &areas)
        .unwrap_err()
        .to_string()
        .contains("XLSX"));
    // Chinese headers and a BOM are accepted.
    let zh = "\u{feff}编号,类型,区,城乡,建设资金,开工年份\nz,sewer_pipe,大兴区,城镇,100,2024\n";
    assert_eq!(
        projects_from_bytes(zh.as_bytes(), "p.csv", &areas).unwrap()[0]
            .location
            .district,
        "daxing"
    );
}

/// A one-entry zip whose central directory declares `declared` unpacked bytes (a zip bomb's
/// claim, without the bytes).
fn declared_zip(declared: u32) -> Vec<u8> {
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut buf);
        let opt = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        z.start_file("xl/worksheets/sheet1.xml", opt).unwrap();
        z.write_all(b" ").unwrap();
        z.finish().unwrap();
    }
    let mut b = buf.into_inner();
    let at = b
        .windows(4)
        .position(|w| w == b"PK\x01\x02")
        .expect("a central directory entry");
    b[at + 24..at + 28].copy_from_slice(&declared.to_le_bytes());
    b
}

#[test]
fn an_xlsx_that_would_unpack_to_too_much_is_refused_by_the_shared_guard() {
    let areas = Areas::bundled();
    let max = rewater_money::sheet::MAX_XLSX_UNPACKED_BYTES;
    assert_eq!(max, rewater_standards::xlsx::MAX_XLSX_UNPACKED_BYTES);
    let e = projects_from_bytes(&declared_zip(200 << 20), "p.xlsx", &areas).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("p.xlsx: unpacks to {} bytes, more than {max}", 200u64 << 20)
    );
    // Under the cap the file is read on (and found not to be a workbook).
    let e = projects_from_bytes(&declared_zip(1), "p.xlsx", &areas).unwrap_err();
    assert!(e.to_string().contains("not an XLSX file"), "{e}");
}

#[test]
fn a_user_rule_file_replaces_the_bundled_set_without_recompiling() {
    let dir = std::env::temp_dir().join(format!("rewater-money-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = RuleBook::bundled_files()
        .iter()
        .find(|(f, _)| f.contains("jzf-2023-6"))
        .unwrap()
        .1;
    // The bureau's variant: plain-area urban pipes at 80 %.
    let changed = text.replacen(
        "construction = [{ payer = \"municipal_fai\", fraction = 0.7 }, { payer = \"district\", fraction = 0.3 }]\nland = [{ payer = \"district\", fraction = 1.0 }]\n\n# ---- 三、(十一)4",
        "construction = [{ payer = \"municipal_fai\", fraction = 0.8 }, { payer = \"district\", fraction = 0.2 }]\nland = [{ payer = \"district\", fraction = 1.0 }]\n\n# ---- 三、(十一)4",
        1,
    ).replace("version = \"2023\"", "version = \"2023-bureau\"");
    assert_ne!(changed, text);
    let p = dir.join("mine.toml");
    std::fs::write(&p, &changed).unwrap();
    let mut book = RuleBook::bundled();
    book.add_file(&p).unwrap();
    assert_eq!(book.sets["jzf-2023-6"].version, "2023-bureau");
    let areas = Areas::bundled();
    let projects = projects_from_bytes(
        format!("{HEADER}a,sewer_pipe,daxing,,urban,,1000,0,2024,1\n").as_bytes(),
        "p.csv",
        &areas,
    )
    .unwrap();
    let f = funding(&book, DEFAULT_SETS, &projects).unwrap();
    assert_eq!(f.projects[0].lines[0].yuan, 800.0);
    // A rule file whose fractions do not add up is refused, naming the rule.
    std::fs::write(
        &p,
        changed.replacen("fraction = 0.8 }", "fraction = 0.9 }", 1),
    )
    .unwrap();
    let e = book.add_file(&p).unwrap_err().to_string();
    assert!(
        e.contains("plain-urban-pipes") && e.contains("not 1"),
        "{e}"
    );
    // Unknown keys and bad dates are refused.
    std::fs::write(
        &p,
        text.replacen(
            "valid_from = \"2023-01-01\"",
            "valid_from = \"2023-13-01\"",
            1,
        ),
    )
    .unwrap();
    assert!(book
        .add_file(&p)
        .unwrap_err()
        .to_string()
        .contains("valid_from"));
    std::fs::write(
        &p,
        text.replacen(
            "clause = \"三、(十一)1\"",
            "clause = \"三、(十一)1\"\nbogus = 1",
            1,
        ),
    )
    .unwrap();
    assert!(book.add_file(&p).unwrap_err().to_string().contains("bogus"));
    let _ = std::fs::remove_dir_all(&dir);
}
