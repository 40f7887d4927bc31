//! A small hand-computed ledger: reaches A (3.6 km at 0.5 m/s, 2 m³/s) and B (1.8 km at
//! 1 m/s, 2 m³/s) join into C (7.2 km at 0.5 m/s, 5 m³/s); COD decays at 0.2/day on all.
//! O1 on A at 1.8 km (0.1 m³/s × 50 mg/L = 5 g/s), O2 on B at 0 (0.2 × 30 = 6 g/s), O3 on C
//! at 3.6 km (0.05 × 100 = 5 g/s). Sections S1 at the top of C, S2 at its end.
#![allow(dead_code)]

use std::path::PathBuf;

pub const WATER_BODIES: &str = "id,name_zh,name_en,kind\nW1,清河,Qing River,river\n";
pub const REACHES: &str = "id,water_body,name,downstream,length_m,velocity_m_per_s,flow_m3_per_s,hydro_basis,decay_per_day,district,geometry
A,W1,清河上游,C,3600,0.5,2,measured,cod=0.2,north,116.30 40.05;116.32 40.04
B,W1,支流,C,1800,1,2,estimated,cod=0.2,north,
C,W1,清河下游,,7200,0.5,5,measured,cod=0.2,south,116.32 40.04;116.40 40.02
";
pub const SECTIONS: &str = "id,name,reach,chainage_m,district,lon,lat,datum,site_mn
S1,汇合口,C,0,north,116.32,40.04,WGS84,
S2,出境断面,C,7200,south,116.40,40.02,CGCS2000,SECTIONMN0000002
";
pub const OUTFALLS: &str = "code,name,class,district,lon,lat,datum,reach,chainage_m,approval,responsible,survey_level,survey_date,evidence,compliance,flow_m3_per_s,conc_mg_per_l,discharge_basis,monitored_on,site_mn,overflow_outlet,model_node
1101080001110108A0001,一号口,industrial.enterprise,north,116.31,40.045,WGS84,A,1800,京环审〔2024〕1号,甲公司,2,2025-03-01,photo1.jpg;photo2.jpg,legal,0.1,cod=50,measured,2025-05-01,,,
1101080002110108B0002,二号口,municipal_plant.plant,north,116.33,40.06,CGCS2000,B,0,,乙水厂,3,2025-03-02,,legal,0.2,cod=30;nh3n=1.5,measured,2025-05-02,OUTFALLMN00000002,,plant-north
1101080003110105X0003,三号口,undetermined,south,116.36,40.03,WGS84,C,3600,,,,,,illegal,0.05,cod=100,estimated,,,R1.overflow,
";
pub const CHANNELS: &str = "id,name,kind\nP1,一号管,pipe\n";
pub const DISCHARGERS: &str = "code,name,permit,outlets,district
91110108MA01ABCD1E,甲公司,91110108MA01ABCD1E001P,DW001;DW002,north
91110105MA02EFGH3J,丙厂,,DW001,south
";
pub const LINKS: &str = "from,to
91110108MA01ABCD1E,P1
P1,1101080001110108A0001
91110105MA02EFGH3J,1101080003110105X0003
";

pub fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-outfalls-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the small ledger as a folder of CSV files.
pub fn small_csv_dir(name: &str) -> PathBuf {
    let d = tmp(name);
    for (f, t) in [
        ("water_bodies", WATER_BODIES),
        ("reaches", REACHES),
        ("sections", SECTIONS),
        ("outfalls", OUTFALLS),
        ("channels", CHANNELS),
        ("dischargers", DISCHARGERS),
        ("links", LINKS),
    ] {
        std::fs::write(d.join(format!("{f}.csv")), t).unwrap();
    }
    d
}

pub fn small_ledger() -> rewater_outfalls::Ledger {
    // One folder per call: tests of a binary run in parallel.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = small_csv_dir(&format!("small-{n}"));
    let (l, _) =
        rewater_outfalls::io::import(&Default::default(), &[&d], Default::default()).unwrap();
    l
}
