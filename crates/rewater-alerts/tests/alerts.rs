//! Each alert rule on hand-built data.

use rewater_alerts::*;
use rewater_standards::Standards;
use std::collections::HashMap;

const T0: i64 = 1_748_736_000; // 2025-06-01 00:00 wall clock

fn engine(
    sites: &[(&str, &str, &str, Option<&str>)],
    downstream: &HashMap<String, Vec<String>>,
) -> AlertEngine {
    let devices = sites
        .iter()
        .map(|(mn, site, std, node)| {
            (
                mn.to_string(),
                SiteRules {
                    site_id: site.to_string(),
                    standards: vec![std.to_string()],
                    model_node: node.map(str::to_string),
                },
            )
        })
        .collect();
    AlertEngine::new(
        Standards::builtin(),
        Settings {
            offline_after_s: 3 * 3600,
            stuck_after: 12,
            ..Settings::default()
        },
        devices,
        downstream,
    )
}

fn v<'a>(factor: &'a str, value: f64, flag: &'a str) -> Value<'a> {
    Value {
        factor,
        value: Some(value),
        flag: Some(flag),
    }
}

fn kinds(o: &Outcome) -> Vec<(AlertKind, Severity)> {
    o.raised.iter().map(|a| (a.key.kind, a.severity)).collect()
}

#[test]
fn reading_exceedance_is_raised_once_and_recovers() {
    let mut e = engine(&[("P", "plant", "GB18918-2002:1A", None)], &HashMap::new());
    // GB 18918 1A COD 50 mg/L; the standard judges daily means, so one reading is a warning.
    let o = e.on_upload("P", "2051", T0, &[v("w01018", 60.0, "N")], T0);
    assert_eq!(kinds(&o), vec![(AlertKind::Exceedance, Severity::Warning)]);
    assert!(o.raised[0].limit.as_deref().unwrap().contains("≤ 50"));
    assert!(e
        .on_upload("P", "2051", T0 + 60, &[v("w01018", 70.0, "N")], T0)
        .raised
        .is_empty());
    let o = e.on_upload("P", "2051", T0 + 120, &[v("w01018", 40.0, "N")], T0);
    assert_eq!(o.recovered.len(), 1);
    assert_eq!(o.recovered[0].kind, AlertKind::Exceedance);
}

#[test]
fn daily_mean_exceedance_is_a_violation_when_the_day_completes() {
    let mut e = engine(&[("P", "plant", "GB18918-2002:1A", None)], &HashMap::new());
    // Day 1: 45 and 65 → mean 55 > 50.
    e.on_upload("P", "2051", T0 + 3600, &[v("w01018", 45.0, "N")], T0);
    e.on_upload("P", "2051", T0 + 7200, &[v("w01018", 65.0, "N")], T0);
    let o = e.on_upload("P", "2051", T0 + 86_400, &[v("w01018", 30.0, "N")], T0);
    let daily: Vec<_> = o
        .raised
        .iter()
        .filter(|a| a.key.kind == AlertKind::DailyExceedance)
        .collect();
    assert_eq!(daily.len(), 1);
    assert_eq!(
        (daily[0].severity, daily[0].value, daily[0].data_time),
        (Severity::Violation, Some(55.0), T0)
    );
    // Day 2 mean 30 → recovered when day 3 starts.
    let o = e.on_upload("P", "2051", T0 + 2 * 86_400, &[v("w01018", 30.0, "N")], T0);
    assert!(o
        .recovered
        .iter()
        .any(|k| k.kind == AlertKind::DailyExceedance));
}

#[test]
fn surface_water_samples_are_judged_each_and_nh3n_follows_temperature() {
    let mut e = engine(
        &[
            ("R", "river", "GB3838-2002:III", None),
            ("P", "plant", "GB18918-2002:1A", None),
        ],
        &HashMap::new(),
    );
    let o = e.on_upload("R", "2011", T0, &[v("w21003", 1.2, "N")], T0);
    assert_eq!(
        kinds(&o),
        vec![(AlertKind::Exceedance, Severity::Violation)]
    );
    // GB 18918 1A NH3-N: 8 mg/L at ≤ 12 °C, 5 above.
    let o = e.on_upload(
        "P",
        "2051",
        T0,
        &[v("w21003", 6.0, "N"), v("w01010", 10.0, "N")],
        T0,
    );
    assert!(o.raised.is_empty(), "{o:?}");
    let o = e.on_upload(
        "P",
        "2051",
        T0 + 60,
        &[v("w21003", 6.0, "N"), v("w01010", 15.0, "N")],
        T0,
    );
    assert_eq!(o.raised.len(), 1);
}

#[test]
fn stuck_sensor_device_flags_and_offline() {
    let mut e = engine(&[("P", "plant", "GB18918-2002:1A", None)], &HashMap::new());
    for i in 0..11 {
        assert!(e
            .on_upload("P", "2051", T0 + 60 * i, &[v("w21011", 0.3, "N")], T0)
            .raised
            .is_empty());
    }
    let o = e.on_upload("P", "2051", T0 + 660, &[v("w21011", 0.3, "N")], T0);
    assert_eq!(kinds(&o), vec![(AlertKind::Stuck, Severity::Warning)]);
    let o = e.on_upload("P", "2051", T0 + 720, &[v("w21011", 0.31, "N")], T0);
    assert_eq!(o.recovered[0].kind, AlertKind::Stuck);
    // A fault flag.
    let o = e.on_upload("P", "2051", T0 + 780, &[v("w21011", 0.31, "D")], T0);
    assert_eq!(kinds(&o), vec![(AlertKind::DeviceFlag, Severity::Warning)]);
    let o = e.on_upload("P", "2051", T0 + 840, &[v("w21011", 0.2, "N")], T0);
    assert_eq!(o.recovered[0].kind, AlertKind::DeviceFlag);
    // Offline: three hours of silence.
    assert!(e.on_tick(T0 + 3 * 3600).raised.is_empty());
    let o = e.on_tick(T0 + 3 * 3600 + 1);
    assert_eq!(kinds(&o), vec![(AlertKind::Offline, Severity::Warning)]);
    assert!(e.on_tick(T0 + 4 * 3600).raised.is_empty());
    let o = e.on_upload(
        "P",
        "2051",
        T0 + 900,
        &[v("w21011", 0.2, "N")],
        T0 + 4 * 3600,
    );
    assert!(o.recovered.iter().any(|k| k.kind == AlertKind::Offline));
    // A device not heard from since start-up.
    e.expect("P", T0);
}

#[test]
fn plant_exceedance_warns_downstream_sites() {
    let nodes: Vec<String> = ["plant-north", "wetland", "pond", "greening", "river"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let links = [(0, 1), (1, 2), (0, 3), (2, 4)];
    let down = downstream_map(&nodes, &links);
    assert_eq!(
        down["plant-north"],
        vec!["wetland", "pond", "greening", "river"]
    );
    let mut e = engine(
        &[
            ("P", "plant-outlet", "GB18918-2002:1A", Some("plant-north")),
            ("W", "wetland-outlet", "GB3838-2002:IV", Some("wetland")),
            (
                "G",
                "greening-supply",
                "GB/T18920-2020:urban_greening",
                Some("greening"),
            ),
        ],
        &down,
    );
    // One alert for the cause, on the plant outlet, naming the sites at risk.
    let o = e.on_upload("P", "2051", T0, &[v("w01018", 80.0, "N")], T0);
    let risk: Vec<&NewAlert> = o
        .raised
        .iter()
        .filter(|a| a.key.kind == AlertKind::DownstreamRisk)
        .collect();
    assert_eq!(risk.len(), 1);
    assert_eq!(risk[0].key.site_id, "plant-outlet");
    assert!(
        risk[0]
            .message
            .ends_with("2 downstream site(s) at risk: greening-supply, wetland-outlet"),
        "{}",
        risk[0].message
    );
    // More exceeding readings: no second copy.
    let o = e.on_upload("P", "2051", T0 + 30, &[v("w01018", 85.0, "N")], T0);
    assert!(o.raised.is_empty());
    // An upload without COD (the exceedance stays open): the risk stays.
    let o = e.on_upload("P", "2051", T0 + 45, &[v("w21003", 1.0, "N")], T0);
    assert!(o.recovered.is_empty());
    // Back inside the limit less its hysteresis: the exceedance and the risk recover.
    let o = e.on_upload("P", "2051", T0 + 60, &[v("w01018", 20.0, "N")], T0);
    let kinds: Vec<AlertKind> = o.recovered.iter().map(|k| k.kind).collect();
    assert!(kinds.contains(&AlertKind::Exceedance), "{kinds:?}");
    assert_eq!(
        o.recovered
            .iter()
            .filter(|k| k.kind == AlertKind::DownstreamRisk)
            .count(),
        1
    );
}

#[test]
fn new_rules_apply_without_a_new_engine_and_keep_open_episodes() {
    // 1A: COD ≤ 50 mg/L; 1B: COD ≤ 60 mg/L.
    let mut e = engine(&[("P", "plant", "GB18918-2002:1A", None)], &HashMap::new());
    let o = e.on_upload("P", "2051", T0, &[v("w01018", 55.0, "N")], T0);
    assert_eq!(kinds(&o), vec![(AlertKind::Exceedance, Severity::Warning)]);
    let rules = |std: &str| {
        vec![(
            "P".to_string(),
            SiteRules {
                site_id: "plant".into(),
                standards: vec![std.to_string()],
                model_node: None,
            },
        )]
    };
    e.set_rules(rules("GB18918-2002:1B"), &HashMap::new());
    // The open episode is remembered; under 1B 55 is within the limit but not within the
    // limit less its 10 % hysteresis (54), so it stays open; 50 clears it.
    assert_eq!(e.active().count(), 1);
    let o = e.on_upload("P", "2051", T0 + 30, &[v("w01018", 55.0, "N")], T0);
    assert!(o.recovered.is_empty() && o.raised.is_empty());
    let o = e.on_upload("P", "2051", T0 + 60, &[v("w01018", 50.0, "N")], T0);
    assert_eq!(o.recovered.len(), 1);
    assert!(o.raised.is_empty());
    // Back to 1A: the same value is an exceedance again.
    e.set_rules(rules("GB18918-2002:1A"), &HashMap::new());
    let o = e.on_upload("P", "2051", T0 + 120, &[v("w01018", 55.0, "N")], T0);
    assert_eq!(kinds(&o), vec![(AlertKind::Exceedance, Severity::Warning)]);
}

/// Device P at a plant outlet under GB 18918 1A, with these settings.
fn plant_1a(settings: Settings) -> AlertEngine {
    let rules = SiteRules {
        site_id: "plant".into(),
        standards: vec!["GB18918-2002:1A".into()],
        model_node: None,
    };
    AlertEngine::new(
        Standards::builtin(),
        settings,
        vec![("P".into(), rules)],
        &HashMap::new(),
    )
}

/// GB 18918 1A COD ≤ 50 mg/L with 10 % hysteresis: raised above 50, kept open at 48 and
/// through values hovering at the limit (no flapping), cleared only at or below 45.
#[test]
fn an_exceedance_clears_only_inside_the_limit_less_the_hysteresis() {
    let mut e = engine(&[("P", "plant", "GB18918-2002:1A", None)], &HashMap::new());
    let o = e.on_upload("P", "2051", T0, &[v("w01018", 60.0, "N")], T0);
    assert_eq!(o.raised.len(), 1);
    let (mut raised, mut recovered) = (0, 0);
    for k in 1..=100 {
        let x = if k % 2 == 0 { 51.0 } else { 46.0 };
        let o = e.on_upload("P", "2051", T0 + 60 * k, &[v("w01018", x, "N")], T0);
        raised += o.raised.len();
        recovered += o.recovered.len();
    }
    assert_eq!(
        (raised, recovered),
        (0, 0),
        "hovering at the limit does not flap"
    );
    let o = e.on_upload("P", "2051", T0 + 60 * 101, &[v("w01018", 45.5, "N")], T0);
    assert!(o.recovered.is_empty(), "45.5 is above 50 × 0.9");
    let o = e.on_upload("P", "2051", T0 + 60 * 102, &[v("w01018", 45.0, "N")], T0);
    assert_eq!(o.recovered.len(), 1);
    assert_eq!(o.recovered[0].kind, AlertKind::Exceedance);
    // Without hysteresis the same series flaps on every pair of readings.
    let mut e = plant_1a(Settings {
        hysteresis: 0.0,
        ..Settings::default()
    });
    let raised: usize = (0..100)
        .map(|k| {
            let x = if k % 2 == 0 { 51.0 } else { 46.0 };
            e.on_upload("P", "2051", T0 + 60 * k, &[v("w01018", x, "N")], T0)
                .raised
                .len()
        })
        .sum();
    assert_eq!(raised, 50);
}

/// With a minimum duration of 10 minutes an exceedance is raised only once it has lasted 10
/// minutes of data time, dated from its first reading; a shorter one leaves nothing.
#[test]
fn an_exceedance_is_raised_only_after_its_minimum_duration() {
    let mut e = plant_1a(Settings {
        min_duration_s: 600,
        ..Settings::default()
    });
    let up = |e: &mut AlertEngine, dt: i64, x: f64| {
        e.on_upload("P", "2051", T0 + dt, &[v("w01018", x, "N")], T0)
    };
    // Five minutes above, then back inside: nothing raised.
    assert!(up(&mut e, 0, 60.0).raised.is_empty());
    assert!(up(&mut e, 300, 60.0).raised.is_empty());
    assert!(up(&mut e, 360, 40.0).raised.is_empty());
    // A new exceedance from 420 s: raised at 1,020 s, dated 420 s with its first value.
    assert!(up(&mut e, 420, 61.0).raised.is_empty());
    assert!(up(&mut e, 720, 70.0).raised.is_empty());
    let o = up(&mut e, 1020, 65.0);
    assert_eq!(o.raised.len(), 1);
    assert_eq!(o.raised[0].data_time, T0 + 420);
    assert_eq!(o.raised[0].value, Some(61.0));
    assert!(up(&mut e, 1080, 66.0).raised.is_empty());
}

/// A maintenance window suppresses the device's alerts: readings dated inside it or arriving
/// inside it raise nothing, its silence is not "offline"; data flagged M (maintenance) raise
/// nothing at any time; after the window the same reading raises its alert.
#[test]
fn maintenance_windows_and_flag_m_suppress_alerts() {
    let mut e = plant_1a(Settings::default());
    let unix0 = T0 - 8 * 3600; // the same instant as T0 on the Beijing wall clock
    e.set_maintenance(vec![Maintenance {
        mn: "P".into(),
        from_wall_s: T0,
        to_wall_s: T0 + 3600,
        from_unix_s: unix0,
        to_unix_s: unix0 + 3600,
    }]);
    // COD 80 (limit 50) during the window, by data time and by arrival.
    let o = e.on_upload("P", "2051", T0 + 60, &[v("w01018", 80.0, "N")], unix0 + 60);
    assert!(o.raised.is_empty(), "{:?}", o.raised);
    // Dated before the window but arriving inside it (补发 while serviced).
    let o = e.on_upload(
        "P",
        "2051",
        T0 - 600,
        &[v("w01018", 80.0, "N")],
        unix0 + 120,
    );
    assert!(o.raised.is_empty());
    // Flag M outside the window: no device-flag alert.
    let o = e.on_upload(
        "P",
        "2051",
        T0 + 7200,
        &[v("w01018", 80.0, "M")],
        unix0 + 7200,
    );
    assert!(o.raised.is_empty(), "{:?}", o.raised);
    // After the window, flag N: the exceedance is raised.
    let o = e.on_upload(
        "P",
        "2051",
        T0 + 7260,
        &[v("w01018", 80.0, "N")],
        unix0 + 7260,
    );
    assert_eq!(kinds(&o), vec![(AlertKind::Exceedance, Severity::Warning)]);
    // Another flag (D, fault) is still a device-flag alert.
    let o = e.on_upload(
        "P",
        "2051",
        T0 + 7320,
        &[v("w01018", 80.0, "D")],
        unix0 + 7320,
    );
    assert_eq!(kinds(&o), vec![(AlertKind::DeviceFlag, Severity::Warning)]);
    // Silence during a 6-hour window is not "offline" (3 h); after the window it is.
    let mut quiet = plant_1a(Settings::default());
    quiet.set_maintenance(vec![Maintenance {
        mn: "P".into(),
        from_wall_s: T0,
        to_wall_s: T0 + 6 * 3600,
        from_unix_s: unix0,
        to_unix_s: unix0 + 6 * 3600,
    }]);
    quiet.on_upload("P", "2051", T0, &[v("w01018", 20.0, "N")], unix0);
    assert!(quiet.on_tick(unix0 + 4 * 3600).raised.is_empty());
    let o = quiet.on_tick(unix0 + 7 * 3600);
    assert_eq!(kinds(&o), vec![(AlertKind::Offline, Severity::Warning)]);
    // Without the window, the first reading would have raised.
    let mut plain = plant_1a(Settings::default());
    let o = plain.on_upload("P", "2051", T0 + 60, &[v("w01018", 80.0, "N")], unix0 + 60);
    assert_eq!(o.raised.len(), 1);
}
