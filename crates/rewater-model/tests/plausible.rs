//! Issue 18: plausibility warnings name the item and the field, in English and Chinese, and
//! come through the validation report (`Region::warnings`, printed by `rewater validate` and
//! `rewater run`) without stopping the model.

use rewater_model::Region;
use rewater_standards::Standards;

const HEAD: &str = "format_version = 1\n[model]\nname = \"t\"\nstart = \"2025-01-01\"\ndays = 31\nfactors = [\"cod\", \"tp\", \"hg\"]\n";

fn load(name: &str, body: &str) -> Region {
    let dir = std::env::temp_dir().join(format!("rewater-plausible-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.toml");
    std::fs::write(&path, format!("{HEAD}{body}")).unwrap();
    rewater_model::load(&path, &Standards::builtin()).unwrap_or_else(|e| panic!("{e}"))
}

fn codes(r: &Region) -> Vec<(String, String, String)> {
    r.findings
        .iter()
        .map(|f| (f.code.clone(), f.item.clone(), f.field.clone()))
        .collect()
}

const USER: &str = "[[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 100\n[[link]]\nfrom = \"P\"\nto = \"U\"\n";

/// 20 m³/d against 185,000 m³/d of influent (capacity typed in 10⁴ m³/d): 9,250 times smaller.
#[test]
fn a_capacity_far_below_the_influent_warns_naming_the_field() {
    let r = load(
        "capacity",
        &format!(
            "[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 20\ninfluent_m3_per_day = 185000\n{USER}"
        ),
    );
    assert_eq!(
        codes(&r),
        [(
            "capacity_far_below_influent".into(),
            "plant P".into(),
            "capacity_m3_per_day".into()
        )]
    );
    let f = &r.findings[0];
    assert_eq!(
        f.en,
        "capacity 20 m³/d is 9250 times smaller than the mean influent 185000 m³/d: a unit mistake (m³/d against 10⁴ m³/d)?"
    );
    assert!(f.zh.contains("处理规模 20 m³/d"), "{}", f.zh);
    assert!(
        r.warnings.iter().any(|w| w
            .starts_with("plant P: field 'capacity_m3_per_day': capacity 20 m³/d")
            && w.contains(" / 处理规模")),
        "{:?}",
        r.warnings
    );
}

/// A capacity 5,000 times the influent warns too; 1.25 times (an ordinary margin) does not.
#[test]
fn a_capacity_far_above_the_influent_warns_and_an_ordinary_one_does_not() {
    let r = load(
        "capacity-above",
        &format!("[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 500000\ninfluent_m3_per_day = 100\n{USER}"),
    );
    assert_eq!(codes(&r)[0].0, "capacity_far_above_influent");
    let r = load(
        "capacity-ok",
        &format!(
            "[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 125\ninfluent_m3_per_day = 100\n{USER}"
        ),
    );
    assert!(r.findings.is_empty(), "{:?}", r.findings);
}

/// TP 300 and Hg 50 in effluent (µg/L typed as mg/L) warn, naming the factor's field; COD 30
/// does not. Influent may hold 10 times the effluent maximum: TP 300 < 1,000 there passes.
#[test]
fn micrograms_typed_as_milligrams_warn_naming_the_factor() {
    let r = load(
        "ug",
        &format!(
            "[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 800\n\
             effluent_mg_per_l = {{ cod = 30, tp = 300, hg = 50 }}\ninfluent_mg_per_l = {{ tp = 300 }}\n{USER}"
        ),
    );
    assert_eq!(
        codes(&r),
        [
            (
                "concentration_implausible".into(),
                "plant P".into(),
                "effluent_mg_per_l.hg".into()
            ),
            (
                "concentration_implausible".into(),
                "plant P".into(),
                "effluent_mg_per_l.tp".into()
            ),
        ]
    );
    assert_eq!(
        r.findings[1].en,
        "300 mg/L of tp is above the 100 mg/L that plant effluent plausibly holds: given in µg/L?"
    );
    assert!(r.findings[1].zh.contains("µg/L"), "{}", r.findings[1].zh);
}

/// A wetland of 20 m² (20 ha meant), a pond of 5 m² (5 ha meant) and a pond whose capacity
/// over its area is 500 m deep each warn, naming the area field.
#[test]
fn hectares_typed_as_square_metres_warn_naming_the_area() {
    let r = load(
        "ha",
        &format!(
            "[[plant]]\nid = \"P\"\ncapacity_m3_per_day = 1000\ninfluent_m3_per_day = 800\n\
             [[wetland]]\nid = \"W\"\ntype = \"free_water_surface\"\narea_m2 = 20\nmax_hydraulic_loading_m_per_day = 0.1\n\
             [[pond]]\nid = \"S\"\ncapacity_m3 = 50000\ninitial_volume_m3 = 0\nsurface_area_m2 = 5\n\
             [[pond]]\nid = \"D\"\ncapacity_m3 = 500000\ninitial_volume_m3 = 0\nsurface_area_m2 = 1000\n\
             [[pond]]\nid = \"OK\"\ncapacity_m3 = 500000\ninitial_volume_m3 = 0\nsurface_area_m2 = 150000\n\
             {USER}[[link]]\nfrom = \"P\"\nto = \"W\"\n[[link]]\nfrom = \"W\"\nto = \"S\"\n[[link]]\nfrom = \"P\"\nto = \"D\"\n[[link]]\nfrom = \"P\"\nto = \"OK\"\n"
        ),
    );
    assert_eq!(
        codes(&r),
        [
            (
                "area_too_small".into(),
                "wetland W".into(),
                "area_m2".into()
            ),
            (
                "area_too_small".into(),
                "pond S".into(),
                "surface_area_m2".into()
            ),
            (
                "pond_too_deep".into(),
                "pond D".into(),
                "surface_area_m2".into()
            ),
        ]
    );
    assert_eq!(
        r.findings[0].en,
        "20 m² is smaller than any treatment wetland of this kind (100 m²): given in ha (1 ha = 10,000 m²)?"
    );
    assert!(
        r.findings[2].en.contains("is 500 m deep"),
        "{}",
        r.findings[2].en
    );
}

/// The bundled examples have none of these mistakes: no plausibility finding.
#[test]
fn the_examples_raise_no_plausibility_finding() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    for name in [
        "beijing-district",
        "lianyungang-city",
        "pilot-city",
        "wanzhou-river-city",
    ] {
        let path = root.join(name).join("model.toml");
        if !path.exists() {
            continue;
        }
        let r = rewater_model::load(&path, &Standards::builtin()).unwrap();
        assert!(r.findings.is_empty(), "{name}: {:?}", r.findings);
    }
}
