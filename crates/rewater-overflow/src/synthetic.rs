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
    swmm_inp_trees(subcatchments, 1, years, seed)
}

/// As [`swmm_inp`] with the catchments shared out over `trees` independent outfall trees
/// (a city-wide model's drainage districts), each with its own divider, tank, weir,
/// drain-back rule, plant outfall and river outfall. The first tree's names are those of
/// [`swmm_inp`] (the same file for one tree); tree k's carry the suffix `_k`.
pub fn swmm_inp_trees(
    subcatchments: usize,
    trees: usize,
    years: u32,
    seed: u64,
) -> (String, String) {
    let rain = synthetic_hourly(2011, years, seed);
    let cs = catchments(subcatchments, seed);
    let trees = trees.clamp(1, subcatchments.max(1));
    let title = if trees > 1 {
        format!("{subcatchments} subcatchments in {trees} outfall trees, {years} years")
    } else {
        format!("{subcatchments} subcatchments, {years} years")
    };
    let mut t = format!(
        "[TITLE]\nsynthetic {title}\n\n[OPTIONS]\nFLOW_UNITS CMS\nINFILTRATION HORTON\nFLOW_ROUTING KINWAVE\nSTART_DATE 01/01/2011\nSTART_TIME 00:00:00\nREPORT_START_DATE 01/01/2011\nREPORT_START_TIME 00:00:00\nEND_DATE 01/01/{}\nEND_TIME 00:00:00\nREPORT_STEP 01:00:00\nWET_STEP 00:01:00\nDRY_STEP 01:00:00\nROUTING_STEP 0:00:30\n\n[EVAPORATION]\nCONSTANT 3.0\n\n[RAINGAGES]\nRG1 INTENSITY 1:00 1.0 FILE \"rain.dat\" STA1 MM\n\n[SUBCATCHMENTS]\n",
        2011 + years
    );
    // Tree k: the catchments first(k)..first(k + 1), and its names' suffix.
    let first = |k: usize| k * cs.len() / trees;
    let sfx = |k: usize| {
        if k == 0 {
            String::new()
        } else {
            format!("_{k}")
        }
    };
    let tree_of = |i: usize| (0..trees).rev().find(|&k| first(k) <= i).unwrap_or(0);
    for (i, c) in cs.iter().enumerate() {
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
        let _ = writeln!(
            t,
            "J{i} {} 4 0 0 0",
            30.0 + (i - first(tree_of(i))) as f64 * 0.5
        );
    }
    let dwf = |k: usize| 0.01 * (first(k + 1) - first(k)) as f64;
    for k in 0..trees {
        let _ = writeln!(t, "J_INT{} 15 4 0 0 0", sfx(k));
    }
    t.push_str("\n[DIVIDERS]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(t, "D1{s} 20 C_TANK{s} CUTOFF {:.4} 4 0 0 0", 3.0 * dwf(k));
    }
    t.push_str("\n[OUTFALLS]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(t, "WWTP{s} 5 FREE\nRIVER{s} 12 FREE");
    }
    t.push_str("\n[STORAGE]\n");
    for k in 0..trees {
        let area: f64 = cs[first(k)..first(k + 1)].iter().map(|c| c.area_ha).sum();
        let tank_area = (area * 60.0).round();
        let _ = writeln!(t, "T1{} 10 5.5 0 FUNCTIONAL 0 0 {tank_area}", sfx(k));
    }
    t.push_str("\n[CONDUITS]\n");
    for i in 0..cs.len() {
        let k = tree_of(i);
        let to = if i == first(k) {
            format!("D1{}", sfx(k))
        } else {
            format!("J{}", i - 1)
        };
        let _ = writeln!(t, "C{i} J{i} {to} 300 0.013 0 0");
    }
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(
            t,
            "C_INT{s} D1{s} J_INT{s} 200 0.013 0 0\nC_WW{s} J_INT{s} WWTP{s} 500 0.013 0 0\nC_TANK{s} D1{s} T1{s} 50 0.013 0 0"
        );
    }
    t.push_str("\n[WEIRS]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(t, "W1{s} T1{s} RIVER{s} TRANSVERSE 4.5 1.84 NO");
    }
    t.push_str("\n[PUMPS]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(t, "P1{s} T1{s} J_INT{s} PC1{s} OFF");
    }
    t.push_str("\n[CURVES]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(t, "PC1{s} PUMP4 0 {:.4}\nPC1{s} 10 {:.4}", dwf(k), dwf(k));
    }
    t.push_str("\n[XSECTIONS]\n");
    // C{i} carries the runoff of S{i}… to the end of its tree: full-flow capacity grows
    // with D^(8/3), so the diameter with the 3/8 power of the catchments upstream.
    for i in 0..cs.len() {
        let upstream = (first(tree_of(i) + 1) - i) as f64;
        let _ = writeln!(t, "C{i} CIRCULAR {:.2} 0 0 0 1", 1.5 * upstream.powf(0.375));
    }
    for k in 0..trees {
        let s = sfx(k);
        let _ = writeln!(
            t,
            "C_INT{s} CIRCULAR 1.5 0 0 0 1\nC_WW{s} CIRCULAR 1.5 0 0 0 1\nC_TANK{s} CIRCULAR 4.0 0 0 0 1\nW1{s} RECT_OPEN 1.5 60 0 0"
        );
    }
    t.push_str("\n[DWF]\n");
    for i in 0..cs.len() {
        let _ = writeln!(t, "J{i} FLOW 0.01");
    }
    t.push_str("\n[CONTROLS]\n");
    for k in 0..trees {
        let s = sfx(k);
        let _ = write!(
            t,
            "RULE DRAIN{s}\nIF NODE T1{s} DEPTH > 0.01\nAND LINK C_INT{s} FLOW < {:.4}\nTHEN PUMP P1{s} STATUS = ON\nELSE PUMP P1{s} STATUS = OFF\n\n",
            2.0 * dwf(k)
        );
    }
    t.push_str("[REPORT]\nNODES");
    for k in 0..trees {
        let _ = write!(t, " RIVER{}", sfx(k));
    }
    t.push('\n');
    (t, swmm_rain_file(&rain))
}
