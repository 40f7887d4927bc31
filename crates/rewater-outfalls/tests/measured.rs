//! Outfall discharges from their data loggers: the newest valid flow and concentrations
//! replace the ledger's typical values; stale, flagged or missing readings leave them, and
//! each outfall's use says which.

mod common;

use rewater_outfalls::measured::apply_loggers;
use rewater_outfalls::network::Network;
use rewater_outfalls::trace::{backward, Exceedance};
use rewater_outfalls::Basis;
use rewater_store::Reading;

const O2: &str = "1101080002110108B0002";
const NOW: i64 = 1_780_000_000;

fn reading(factor: &str, value: f64, data_time: i64, flag: &str) -> Reading {
    Reading {
        id: 0,
        mn: "OUTFALLMN00000002".into(),
        factor: factor.into(),
        cn: "2061".into(),
        data_time,
        value: Some(value),
        min: None,
        max: None,
        cou: None,
        flag: Some(flag.into()),
        corrects: None,
        reason: None,
        changed_by: None,
        received_at_ms: 0,
    }
}

fn o2(l: &rewater_outfalls::Ledger) -> &rewater_outfalls::Outfall {
    l.outfall(O2).unwrap()
}

#[test]
fn the_loggers_newest_valid_readings_replace_typical_values() {
    let mut l = common::small_ledger();
    let mut asked = Vec::new();
    let uses = apply_loggers(&mut l, NOW, 86_400, |mn| {
        asked.push(mn.to_string());
        Ok::<_, ()>(vec![
            reading("w00000", 400.0, NOW - 600, "N"),
            reading("w01018", 35.0, NOW - 7200, "N"),
            reading("w01018", 40.0, NOW - 600, "N"),
            reading("w21003", 2.0, NOW - 600, "N"),
        ])
    })
    .unwrap();
    // Only O2 has a logger, asked once.
    assert_eq!(asked, ["OUTFALLMN00000002"]);
    assert_eq!(uses.len(), 1);
    assert_eq!(uses[0].data_time, Some(NOW - 600));
    assert_eq!(uses[0].kept, None);
    // 400 L/s = 0.4 m³/s; the newer of the two COD readings.
    let o = o2(&l);
    assert_eq!(o.flow_m3_per_s, Some(0.4));
    assert_eq!(o.conc_mg_per_l["cod"], 40.0);
    assert_eq!(o.conc_mg_per_l["nh3n"], 2.0);
    assert_eq!(o.discharge_basis, Basis::Measured);
    // The trace from S1 ranks O2 by its measured load: 0.4·40 = 16 g/s, 1800 m at 1 m/s,
    // decay 0.2/day: 16·e^(−0.2·1800/86400).
    let net = Network::build(&l).unwrap();
    let q = Exceedance {
        section: "S1".into(),
        factor: "cod".into(),
        ..Default::default()
    };
    let b = backward(&l, &net, &q).unwrap();
    assert_eq!(b.sources[0].outfall, O2);
    let want = 16.0 * (-0.2f64 * 1800.0 / 86_400.0).exp();
    assert!((b.sources[0].delivered_load_g_per_s - want).abs() < 1e-9);
}

#[test]
fn stale_flagged_or_partial_readings_keep_what_they_cannot_replace() {
    let typical = common::small_ledger();
    // Stale flow (older than the window): nothing taken.
    let mut l = typical.clone();
    let u = apply_loggers(&mut l, NOW, 3600, |_| {
        Ok::<_, ()>(vec![
            reading("w00000", 400.0, NOW - 7200, "N"),
            reading("w01018", 40.0, NOW - 60, "N"),
        ])
    })
    .unwrap();
    assert!(u[0].kept.as_deref().unwrap().contains("w00000"), "{u:?}");
    assert_eq!(o2(&l), o2(&typical));
    // Flagged COD (D: invalid) and no NH3-N: no concentration of the ledger → nothing taken.
    let mut l = typical.clone();
    let u = apply_loggers(&mut l, NOW, 3600, |_| {
        Ok::<_, ()>(vec![
            reading("w00000", 400.0, NOW - 60, "N"),
            reading("w01018", 40.0, NOW - 60, "D"),
        ])
    })
    .unwrap();
    assert!(u[0].taken.is_empty());
    assert_eq!(o2(&l), o2(&typical));
    // COD measured, NH3-N not: flow and COD taken, NH3-N typical, and it says so. O2's
    // typical values were marked measured in the ledger, so its basis stays measured.
    let mut l = typical.clone();
    let u = apply_loggers(&mut l, NOW, 3600, |_| {
        Ok::<_, ()>(vec![
            reading("w00000", 250.0, NOW - 60, "N"),
            reading("w01018", 44.0, NOW - 60, "N"),
        ])
    })
    .unwrap();
    assert_eq!(u[0].kept.as_deref(), Some("typical values kept for nh3n"));
    assert_eq!(o2(&l).flow_m3_per_s, Some(0.25));
    assert_eq!(o2(&l).conc_mg_per_l["cod"], 44.0);
    assert_eq!(o2(&l).conc_mg_per_l["nh3n"], 1.5);
    // A reading in the future (a logger clock ahead) is not used.
    let mut l = typical.clone();
    let u = apply_loggers(&mut l, NOW, 3600, |_| {
        Ok::<_, ()>(vec![
            reading("w00000", 400.0, NOW + 600, "N"),
            reading("w01018", 40.0, NOW + 600, "N"),
        ])
    })
    .unwrap();
    assert!(u[0].taken.is_empty());
    // A store error is passed on.
    let mut l = typical.clone();
    assert_eq!(
        apply_loggers(&mut l, NOW, 3600, |_| Err("down")),
        Err("down")
    );
}
