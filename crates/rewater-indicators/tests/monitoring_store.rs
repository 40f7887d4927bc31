//! Monitoring quantities read from a real SQLite monitoring store, hand-computed: a plant
//! outlet under GB 18918 1A (COD daily mean ≤ 50 mg/L) with one day compliant and one not, and
//! half of the second day's hours missing.

use rewater_indicators::monitoring::{monitoring_quantities, rates_from_store, MonitoringRates};
use rewater_store::prelude::*;
use rewater_store::{Device, FactorReading, IngestRules, Site, SqliteStore, Upload};
use rewater_time::Date;

const DAY1: i64 = 1_748_736_000; // 2025-06-01 00:00 wall clock

fn upload(t: i64, cod: f64) -> Upload {
    Upload {
        mn: "MNA".into(),
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
    }
}

#[test]
fn compliance_and_validity_counts_come_from_the_store() {
    let dir = std::env::temp_dir().join(format!("rewater-ind-mon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut s = SqliteStore::open(&dir.join("m.sqlite")).unwrap();
    s.set_ingest_rules(IngestRules {
        now_unix_s: Some(DAY1 + 10 * 86_400),
        ..IngestRules::default()
    });
    let site = |id: &str, district: &str, standard: Option<&str>| Site {
        id: id.into(),
        name: id.into(),
        kind: "plant_outlet".into(),
        standard: standard.map(str::to_string),
        district: district.into(),
        location: None,
        model_node: None,
    };
    s.put_site(&site("plant-n", "north", Some("GB18918-2002:1A")))
        .unwrap();
    s.put_site(&site("river-s", "south", None)).unwrap();
    s.put_device(&Device {
        mn: "MNA".into(),
        password_hash: rewater_store::hash_device_password("pw"),
        site_id: "plant-n".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: Vec::new(),
        disabled: false,
    })
    .unwrap();
    // Day 1: every hour, COD 40 (mean 40: compliant). Day 2: hours 0–11 only, COD 60.
    let mut batch: Vec<Upload> = (0..24).map(|h| upload(DAY1 + 3600 * h, 40.0)).collect();
    batch.extend((0..12).map(|h| upload(DAY1 + 86_400 + 3600 * h, 60.0)));
    s.ingest(&batch).unwrap();
    let until = Date::from_ymd(2025, 6, 2).unwrap();
    let rates = rates_from_store(
        &mut s,
        &rewater_standards::Standards::builtin(),
        2025,
        until,
    )
    .unwrap();
    assert_eq!(
        rates,
        vec![MonitoringRates {
            district: "north".into(),
            year: 2025,
            evaluated: 2,
            compliant: 1,
            // 06-01 00:00 to 06-03 00:00: 48 hourly records expected, 24 + 12 valid.
            expected: 48,
            valid: 36,
        }]
    );
    let t = monitoring_quantities(&rates).unwrap();
    let value = |q: &str| t.get("north", 2025, q).map(|v| v.value);
    assert_eq!(value("monitoring_compliant"), Some(1.0));
    assert_eq!(value("monitoring_records_expected"), Some(48.0));
    // Another year: nothing measured, so nothing reported (not 0 %).
    let none = rates_from_store(
        &mut s,
        &rewater_standards::Standards::builtin(),
        2024,
        until,
    )
    .unwrap();
    assert!(monitoring_quantities(&none)
        .unwrap()
        .get("north", 2024, "monitoring_evaluated")
        .is_none());
}
