//! Generated systems of any size, for benchmarks and trials: a native case and an
//! equivalent SWMM input file, both on the synthetic hourly rain record.

use crate::rain::{synthetic_hourly, RainSeries, Random};
use std::fmt::Write as _;

/// Rain in SWMM's user-prepared file format, station STA1, millimetres.
pub fn swmm_rain_file(rain: &RainSeries) -> String {
    let mut out = String::new();
    for (i, v) in rain.depth_m.iter().enumerate() {
        if *v > 0.0 {
            let t = rain.start_s + i as i64 * rain.interval_s;
            let (y, m, d) = crate::time::Date::from_wall_seconds(t).ymd();
            let h = t.rem_euclid(86_400) / 3600;
            let _ = writeln!(out, "STA1 {y} {m} {d} {h} 0 {:.1}", v * 1000.0);
        }
    }
    out
}

struct Catchment {
    area_ha: f64,
    imperv_pct: f64,
    width_m: f64,
    slope_pct: f64,
}

fn catchments(n: usize, seed: u64) -> Vec<Catchment> {
    let mut rng = Random::new(seed);
    (0..n)
        .map(|_| {
            let area_ha = 5.0 + 45.0 * rng.uniform();
            Catchment {
                area_ha,
                imperv_pct: 35.0 + 50.0 * rng.uniform(),
                // Width ≈ area / flow length of 150–400 m.
                width_m: area_ha * 1e4 / (150.0 + 250.0 * rng.uniform()),
                slope_pct: 0.3 + 2.0 * rng.uniform(),
            }
        })
        .collect()
}

/// A native case: `subcatchments` catchments draining in groups of ten to regulators in
/// a chain to the plant; every other regulator has an offline tank. Returns the case
/// TOML (rain in `rain.csv`) and the rain CSV.
pub fn case(subcatchments: usize, years: u32, seed: u64) -> (String, String) {
    let rain = synthetic_hourly(2011, years, seed);
    let groups = subcatchments.div_ceil(10).max(1);
    let mut t = format!(
        "name = \"synthetic {subcatchments} subcatchments, {years} years\"\nstep_s = 300\nevaporation_mm_per_day = 3.0\nplant = \"WWTP\"\n\n[[gage]]\nname = \"G1\"\nfile = \"rain.csv\"\ninterval_s = 3600\n\n"
    );
    for (i, c) in catchments(subcatchments, seed).iter().enumerate() {
        let _ = write!(
            t,
            "[[subcatchment]]\nname = \"S{i}\"\noutlet = \"R{}\"\narea_ha = {:.2}\nimperv_pct = {:.1}\nwidth_m = {:.1}\nslope_pct = {:.2}\nhorton = {{ f0_mm_per_h = 76.2, fmin_mm_per_h = 3.81, decay_per_h = 4, dry_days = 7 }}\nlag_min = {}\nreservoir_min = 10\n\n",
            i / 10,
            c.area_ha,
            c.imperv_pct,
            c.width_m,
            c.slope_pct,
            5 + i % 7 * 3
        );
    }
    for g in 0..groups {
        let _ = write!(
            t,
            "[[dry_weather]]\nnode = \"R{g}\"\nbase_m3_per_s = 0.05\nhourly = [0.55, 0.45, 0.4, 0.38, 0.4, 0.55, 0.85, 1.2, 1.35, 1.3, 1.25, 1.2, 1.15, 1.1, 1.05, 1.05, 1.1, 1.2, 1.3, 1.35, 1.25, 1.1, 0.9, 0.7]\n\n"
        );
        let to = if g + 1 < groups {
            format!("to = \"R{}\"\nlag_min = 15\n", g + 1)
        } else {
            String::new()
        };
        let tank = if g % 2 == 0 {
            "tank = { volume_m3 = 8000, depth_m = 5, drain_m3_per_s = 0.1 }\n"
        } else {
            ""
        };
        let _ = write!(
            t,
            "[[regulator]]\nname = \"R{g}\"\n{to}interceptor_n0 = {}\nriver = \"River {}\"\n{tank}\n",
            2 + g % 4,
            g % 3
        );
    }
    (t, rain.to_csv())
}

/// A SWMM 5 input file of `subcatchments` catchments behind one cutoff divider with an
/// offline tank, overflow weir and drain-back pump rule, kinematic wave at 30 s, with
/// its rain file (`rain.dat`).
pub fn swmm_inp(subcatchments: usize, years: u32, seed: u64) -> (String, String) {
    let rain = synthetic_hourly(2011, years, seed);
    let cs = catchments(subcatchments, seed);
    let mut t = format!(
        "[TITLE]\nsynthetic {subcatchments} subcatchments, {years} years\n\n[OPTIONS]\nFLOW_UNITS CMS\nINFILTRATION HORTON\nFLOW_ROUTING KINWAVE\nSTART_DATE 01/01/2011\nSTART_TIME 00:00:00\nREPORT_START_DATE 01/01/2011\nREPORT_START_TIME 00:00:00\nEND_DATE 01/01/{}\nEND_TIME 00:00:00\nREPORT_STEP 01:00:00\nWET_STEP 00:01:00\nDRY_STEP 01:00:00\nROUTING_STEP 0:00:30\n\n[EVAPORATION]\nCONSTANT 3.0\n\n[RAINGAGES]\nRG1 INTENSITY 1:00 1.0 FILE \"rain.dat\" STA1 MM\n\n[SUBCATCHMENTS]\n",
        2011 + years
    );
    let mut area = 0.0;
    for (i, c) in cs.iter().enumerate() {
        area += c.area_ha;
        let _ = writeln!(
            t,
            "S{i} RG1 J{i} {:.2} {:.1} {:.1} {:.2} 0",
            c.area_ha, c.imperv_pct, c.width_m, c.slope_pct
        );
    }
    t.push_str("\n[SUBAREAS]\n");
    for i in 0..cs.len() {
        let _ = writeln!(t, "S{i} 0.015 0.15 1.5 5 25 OUTLET");
    }
    t.push_str("\n[INFILTRATION]\n");
    for i in 0..cs.len() {
        let _ = writeln!(t, "S{i} 76.2 3.81 4 7 0");
    }
    t.push_str("\n[JUNCTIONS]\n");
    for i in 0..cs.len() {
        let _ = writeln!(t, "J{i} {} 4 0 0 0", 30.0 + i as f64 * 0.5);
    }
    t.push_str("J_INT 15 4 0 0 0\n\n[DIVIDERS]\n");
    let dwf = 0.01 * cs.len() as f64;
    let _ = writeln!(t, "D1 20 C_TANK CUTOFF {:.4} 4 0 0 0", 3.0 * dwf);
    t.push_str("\n[OUTFALLS]\nWWTP 5 FREE\nRIVER 12 FREE\n\n[STORAGE]\n");
    let tank_area = (area * 60.0).round();
    let _ = writeln!(t, "T1 10 5.5 0 FUNCTIONAL 0 0 {tank_area}");
    t.push_str("\n[CONDUITS]\n");
    for i in 0..cs.len() {
        let to = if i == 0 {
            "D1".to_string()
        } else {
            format!("J{}", i - 1)
        };
        let _ = writeln!(t, "C{i} J{i} {to} 300 0.013 0 0");
    }
    t.push_str("C_INT D1 J_INT 200 0.013 0 0\nC_WW J_INT WWTP 500 0.013 0 0\nC_TANK D1 T1 50 0.013 0 0\n\n");
    t.push_str(
        "[WEIRS]\nW1 T1 RIVER TRANSVERSE 4.5 1.84 NO\n\n[PUMPS]\nP1 T1 J_INT PC1 OFF\n\n[CURVES]\n",
    );
    let _ = writeln!(t, "PC1 PUMP4 0 {:.4}\nPC1 10 {:.4}", dwf, dwf);
    t.push_str("\n[XSECTIONS]\n");
    // C{i} carries the runoff of S{i}…S{n-1}: full-flow capacity grows with D^(8/3), so
    // the diameter with the 3/8 power of the number of catchments upstream.
    for i in 0..cs.len() {
        let upstream = (cs.len() - i) as f64;
        let _ = writeln!(t, "C{i} CIRCULAR {:.2} 0 0 0 1", 1.5 * upstream.powf(0.375));
    }
    t.push_str("C_INT CIRCULAR 1.5 0 0 0 1\nC_WW CIRCULAR 1.5 0 0 0 1\nC_TANK CIRCULAR 4.0 0 0 0 1\nW1 RECT_OPEN 1.5 60 0 0\n\n[DWF]\n");
    for i in 0..cs.len() {
        let _ = writeln!(t, "J{i} FLOW 0.01");
    }
    let _ = write!(
        t,
        "\n[CONTROLS]\nRULE DRAIN\nIF NODE T1 DEPTH > 0.01\nAND LINK C_INT FLOW < {:.4}\nTHEN PUMP P1 STATUS = ON\nELSE PUMP P1 STATUS = OFF\n\n[REPORT]\nNODES RIVER\n",
        2.0 * dwf
    );
    (t, swmm_rain_file(&rain))
}
