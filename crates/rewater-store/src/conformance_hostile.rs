//! Conformance checks for hostile input (issue 12): the DataTime window, values no water can
//! have, malformed fields, one bad upload among good ones, rejected-frame floods, and the
//! device register's version. Run by `conformance::run_all` on every backend.

use crate::*;

const T0: i64 = 1_767_225_600; // 2026-01-01 00:00 wall clock (Beijing)

fn reading(factor: &str, value: f64, flag: &str) -> FactorReading {
    FactorReading {
        factor: factor.into(),
        value: Some(value),
        min: None,
        max: None,
        cou: None,
        flag: Some(flag.into()),
    }
}

fn upload(mn: &str, t: i64, readings: Vec<FactorReading>) -> Upload {
    Upload {
        mn: mn.into(),
        cn: "2051".into(),
        data_time: t,
        pno: 1,
        received_at_ms: 1,
        peer: "127.0.0.1:6000".into(),
        raw: format!("##raw {mn} {t}"),
        readings,
    }
}

fn refused(o: &IngestOutcome) -> Option<RejectReason> {
    match o {
        IngestOutcome::Refused { reason } => Some(*reason),
        _ => None,
    }
}

/// Runs every hostile-input check (the store may hold data from earlier checks).
pub fn run_all(store: &mut dyn Store) {
    // The clock: one day after T0 (wall), so T0's hours are inside a 3-year window.
    let now_unix = T0 - 8 * 3600 + 86_400;
    store.set_ingest_rules(IngestRules {
        now_unix_s: Some(now_unix),
        ..IngestRules::default()
    });
    data_time_window(store, now_unix);
    values_no_water_has(store);
    malformed_fields_and_isolation(store);
    rejected_frames(store);
    register_version(store);
    random_hostile_batches(store, now_unix);
}

fn data_time_window(store: &mut dyn Store, now_unix: i64) {
    let now_wall = now_unix + 8 * 3600;
    let (lo, hi) = store.ingest_rules().window();
    assert_eq!(
        (lo, hi),
        (now_wall - ingest::DEFAULT_MAX_AGE_S, now_wall + 600)
    );
    let batch = vec![
        upload("WIN1", lo - 1, vec![reading("w01018", 10.0, "N")]),
        upload("WIN1", lo, vec![reading("w01018", 10.0, "N")]),
        upload("WIN1", hi, vec![reading("w01018", 10.0, "N")]),
        upload("WIN1", hi + 1, vec![reading("w01018", 10.0, "N")]),
        // Year 9999 and year 1900.
        upload("WIN1", 253_402_300_799, vec![reading("w01018", 10.0, "N")]),
        upload("WIN1", -2_208_988_800, vec![reading("w01018", 10.0, "N")]),
    ];
    let out = store.ingest(&batch).unwrap();
    let reasons: Vec<Option<RejectReason>> = out.iter().map(refused).collect();
    assert_eq!(
        reasons,
        [
            Some(RejectReason::DataTimeTooOld),
            None,
            None,
            Some(RejectReason::DataTimeAhead),
            Some(RejectReason::DataTimeAhead),
            Some(RejectReason::DataTimeTooOld),
        ]
    );
    // The far future never becomes the latest reading.
    let latest = store.latest("WIN1").unwrap();
    assert_eq!(latest.len(), 1);
    assert_eq!(latest[0].data_time, hi);
}

fn values_no_water_has(store: &mut dyn Store) {
    // One hour of COD: 20 and 30 valid; the rest must not touch the aggregate.
    let hostile = [
        1e306,
        -1e306,
        1.7e308,
        1.7e308,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -5.0,
    ];
    let mut batch = vec![
        upload("VAL1", T0, vec![reading("w01018", 20.0, "N")]),
        upload("VAL1", T0 + 60, vec![reading("w01018", 30.0, "N")]),
    ];
    for (i, v) in hostile.iter().enumerate() {
        batch.push(upload(
            "VAL1",
            T0 + 120 + 60 * i as i64,
            vec![reading("w01018", *v, "N")],
        ));
    }
    // pH 15 is above its scale; a device's own flag M is kept on an implausible value.
    batch.push(upload(
        "VAL1",
        T0 + 1200,
        vec![reading("w01001", 15.0, "N")],
    ));
    batch.push(upload(
        "VAL1",
        T0 + 1260,
        vec![reading("w01001", -1.0, "M")],
    ));
    let out = store.ingest(&batch).unwrap();
    assert!(
        out.iter()
            .all(|o| matches!(o, IngestOutcome::Stored { .. })),
        "{out:?}"
    );
    let h = store
        .aggregates("VAL1", "w01018", Period::Hour, T0, T0 + 3600)
        .unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(
        (h[0].n, h[0].mean, h[0].min, h[0].max),
        (2, 25.0, 20.0, 30.0)
    );
    let s = store.series("VAL1", "w01018", T0, T0 + 3600, 3600).unwrap();
    assert_eq!(s, h);
    let stored = store
        .readings("VAL1", "w01018", &["2051"], T0, T0 + 3600)
        .unwrap();
    let got: Vec<(Option<f64>, Option<&str>)> = stored
        .iter()
        .map(|r| (r.value, r.flag.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(20.0), Some("N")),
            (Some(30.0), Some("N")),
            (Some(1e306), Some("T")),
            (Some(-1e306), Some("D")),
            (Some(1.7e308), Some("T")),
            (Some(1.7e308), Some("T")),
            (None, Some("D")),
            (None, Some("D")),
            (None, Some("D")),
            (Some(-5.0), Some("D")),
        ]
    );
    let ph = store
        .readings("VAL1", "w01001", &["2051"], T0, T0 + 3600)
        .unwrap();
    let ph: Vec<Option<&str>> = ph.iter().map(|r| r.flag.as_deref()).collect();
    assert_eq!(ph, [Some("T"), Some("M")]);
}

fn malformed_fields_and_isolation(store: &mut dyn Store) {
    let t = T0 + 7200;
    let good = |k: i64| upload("ISO1", t + 60 * k, vec![reading("w01018", 12.0, "N")]);
    let mut long_flag = good(1);
    long_flag.readings[0].flag = Some("N".repeat(500));
    let mut nul_factor = good(2);
    nul_factor.readings[0].factor = "w010\u{0}18".into();
    let mut nul_mn = good(3);
    nul_mn.mn = "ISO\u{0}1".into();
    let mut big_pno = good(4);
    big_pno.pno = u32::MAX;
    let mut bad_cn = good(5);
    bad_cn.cn = "20'1".into();
    let mut too_many = good(6);
    too_many.readings = (0..1001).map(|_| reading("w01018", 1.0, "N")).collect();
    let mut nul_raw = good(7);
    nul_raw.raw = "##0010QN=1\u{0}\u{0}CP=&&".into();
    nul_raw.peer = "127.0.0.1:1\u{0}".into();
    let batch = vec![
        good(0),
        long_flag,
        nul_factor,
        nul_mn,
        big_pno,
        bad_cn,
        too_many,
        nul_raw,
        good(8),
    ];
    let out = store.ingest(&batch).unwrap();
    let reasons: Vec<Option<RejectReason>> = out.iter().map(refused).collect();
    let bad = Some(RejectReason::BadUpload);
    assert_eq!(reasons, [None, bad, bad, bad, bad, bad, bad, None, None]);
    let stored = store
        .readings("ISO1", "w01018", &["2051"], t, t + 3600)
        .unwrap();
    assert_eq!(
        stored.iter().map(|r| r.data_time).collect::<Vec<_>>(),
        [t, t + 420, t + 480]
    );
    let h = store
        .aggregates("ISO1", "w01018", Period::Hour, t, t + 3600)
        .unwrap();
    assert_eq!((h[0].n, h[0].mean), (3, 12.0));
    // No flag longer than two letters is stored anywhere.
    assert!(store
        .latest("ISO1")
        .unwrap()
        .iter()
        .all(|r| r.flag.as_deref().is_none_or(|f| f.len() <= 2)));
}

fn frame(peer: &str, mn: Option<&str>, reason: RejectReason, at_ms: i64) -> RejectedFrame {
    RejectedFrame {
        received_at_ms: at_ms,
        peer: peer.into(),
        mn: mn.map(str::to_string),
        cn: None,
        raw: format!("##9999{}", "x".repeat(10_000)),
        reason,
        detail: "declared length 9999 but the data segment has 6 bytes".into(),
        repeats: 1,
    }
}

fn rejected_frames(store: &mut dyn Store) {
    let hour_ms = 1_900_000_000_000i64 / 3_600_000 * 3_600_000;
    let hour_s = hour_ms / 1000;
    // A flood from one address: one count, three examples of 256 bytes.
    let flood: Vec<RejectedFrame> = (0..300)
        .map(|i| {
            frame(
                "198.51.100.7:4000",
                None,
                RejectReason::BadFrame,
                hour_ms + i,
            )
        })
        .collect();
    store.log_rejected(&flood[..100]).unwrap();
    store.log_rejected(&flood[100..]).unwrap();
    // Unknown MNs are counted by address; wrong passwords of a known device by its MN.
    let mut more: Vec<RejectedFrame> = (0..50)
        .map(|i| {
            let mn = format!("FAKE{i}");
            frame(
                "198.51.100.7:4001",
                Some(&mn),
                RejectReason::UnknownDevice,
                hour_ms + 10,
            )
        })
        .collect();
    more.push(frame(
        "203.0.113.1:5",
        Some("MN1"),
        RejectReason::WrongPassword,
        hour_ms + 20,
    ));
    store.log_rejected(&more).unwrap();
    // An entry standing for repeats counts them (a gateway counts floods in memory).
    let mut tally = frame(
        "198.51.100.7:4000",
        None,
        RejectReason::BadFrame,
        hour_ms + 5,
    );
    tally.repeats = 700;
    store.log_rejected(&[tally]).unwrap();
    let counts = store.rejected_counts(hour_s, hour_s + 3600, 100).unwrap();
    let got: Vec<(&str, RejectReason, i64, i64, i64)> = counts
        .iter()
        .map(|c| {
            (
                c.source.as_str(),
                c.reason,
                c.count,
                c.first_at_ms,
                c.last_at_ms,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "198.51.100.7",
                RejectReason::BadFrame,
                1000,
                hour_ms,
                hour_ms + 299
            ),
            (
                "198.51.100.7",
                RejectReason::UnknownDevice,
                50,
                hour_ms + 10,
                hour_ms + 10
            ),
            (
                "MN1",
                RejectReason::WrongPassword,
                1,
                hour_ms + 20,
                hour_ms + 20
            ),
        ]
    );
    let samples = store
        .rejected_samples(hour_s, "198.51.100.7", RejectReason::BadFrame)
        .unwrap();
    assert_eq!(samples.len(), REJECTED_SAMPLES_PER_KEY as usize);
    assert!(samples.iter().all(|s| s.head.len() == REJECTED_HEAD_BYTES));
    assert_eq!(samples[0].received_at_ms, hour_ms);
    assert_eq!(samples[0].peer, "198.51.100.7:4000");
    // Many addresses in one hour: past the cap they are counted together.
    let spray: Vec<RejectedFrame> = (0..1200)
        .map(|i| {
            let peer = format!("10.{}.{}.1:9", i / 250, i % 250);
            frame(&peer, None, RejectReason::BadFrame, hour_ms + 3_000_000)
        })
        .collect();
    store.log_rejected(&spray).unwrap();
    let counts = store
        .rejected_counts(hour_s, hour_s + 3600, 10_000)
        .unwrap();
    assert_eq!(counts.len() as i64, rejected::REJECTED_KEYS_PER_HOUR + 1);
    let other = counts
        .iter()
        .find(|c| c.source == rejected::OTHER_SOURCE)
        .unwrap();
    assert_eq!(other.count, 1200 - (rejected::REJECTED_KEYS_PER_HOUR - 3));
    assert_eq!(
        counts.iter().map(|c| c.count).sum::<i64>(),
        1000 + 50 + 1 + 1200
    );
    // Retention: everything of that hour goes.
    assert!(store.purge_rejected(hour_ms + 3_600_000).unwrap() > 1000);
    assert!(store
        .rejected_counts(hour_s, hour_s + 3600, 10)
        .unwrap()
        .is_empty());
}

fn register_version(store: &mut dyn Store) {
    let v0 = store.config_version().unwrap();
    let mut site = store.sites().unwrap().remove(0);
    site.standard = Some("GB3838-2002:IV".into());
    store.put_site(&site).unwrap();
    let v1 = store.config_version().unwrap();
    assert!(v1 > v0);
    let dev = store.device("MN1").unwrap().unwrap();
    store.put_device(&dev).unwrap();
    let v2 = store.config_version().unwrap();
    assert!(v2 > v1);
    // Password change and disabling, each moving the version on.
    assert!(store
        .set_device_password("MN1", &hash_device_password("new-secret-2"))
        .unwrap());
    assert!(store.set_device_password("MN1", "plain").is_err());
    assert!(!store
        .set_device_password("NOPE", &hash_device_password("x"))
        .unwrap());
    let d = store.device("MN1").unwrap().unwrap();
    assert!(verify_device_password("new-secret-2", &d.password_hash));
    assert!(!verify_device_password("device-secret-1", &d.password_hash));
    let v3 = store.config_version().unwrap();
    assert!(v3 > v2);
    assert!(store.set_device_disabled("MN1", true).unwrap());
    assert!(store.device("MN1").unwrap().unwrap().disabled);
    assert!(!store.set_device_disabled("NOPE", true).unwrap());
    assert!(store.config_version().unwrap() > v3);
    assert!(store.set_device_disabled("MN1", false).unwrap());
    assert!(!store.device("MN1").unwrap().unwrap().disabled);
}

/// A small deterministic generator (SplitMix64) for the random batches.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// True once in `n` draws.
    fn one_in(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[(self.next() % xs.len() as u64) as usize]
    }
}

/// Batches of random hostile uploads: the store never fails a batch, keeps no non-number,
/// no long flag, and every kept aggregate is made of plausible valid values.
fn random_hostile_batches(store: &mut dyn Store, now_unix: i64) {
    let mut rng = Mix(12);
    let values = [
        0.0,
        12.5,
        -0.0,
        -1.0,
        1e6,
        1.000001e6,
        1e306,
        -1e306,
        1.7e308,
        f64::MAX,
        f64::MIN,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN_POSITIVE,
        7.0,
        15.0,
    ];
    let flags = ["N", "M", "T", "D", "", "NN", "NNN", "\u{0}", "N\u{0}", "中"];
    let factors = [
        "w01018",
        "w01001",
        "w01010",
        "w21003",
        "x99999",
        "w010\u{0}18",
        "",
        "中文",
    ];
    let cns = ["2051", "2011", "2061", "20\u{0}1", "99999", ""];
    let now_wall = now_unix + 8 * 3600;
    let times = [
        now_wall - 3600,
        now_wall - 7200,
        now_wall + 601,
        now_wall - ingest::DEFAULT_MAX_AGE_S - 1,
        i64::MIN,
        i64::MAX,
    ];
    let mut outcomes = (0, 0, 0);
    for b in 0..30 {
        let batch: Vec<Upload> = (0..64)
            .map(|i| {
                let readings = (0..rng.next() % 5)
                    .map(|_| {
                        let flag = rng
                            .pick(&flags)
                            .repeat(if rng.one_in(20) { 300 } else { 1 });
                        FactorReading {
                            factor: rng.pick(&factors).to_string(),
                            value: Some(*rng.pick(&values)).filter(|_| !rng.one_in(8)),
                            min: Some(*rng.pick(&values)).filter(|_| rng.one_in(2)),
                            max: None,
                            cou: Some(*rng.pick(&values)).filter(|_| rng.one_in(3)),
                            flag: Some(flag).filter(|_| !rng.one_in(6)),
                        }
                    })
                    .collect();
                Upload {
                    mn: format!("RND{}", rng.next() % 4),
                    cn: rng.pick(&cns).to_string(),
                    data_time: rng
                        .pick(&times)
                        .saturating_add(60 * ((b * 64 + i) % 50) as i64),
                    pno: if rng.one_in(10) { 70_000 } else { 1 },
                    received_at_ms: 1,
                    peer: "127.0.0.1:1\u{0}".into(),
                    raw: format!("##\u{0}{}", "\u{0}".repeat((rng.next() % 40) as usize)),
                    readings,
                }
            })
            .collect();
        let out = store
            .ingest(&batch)
            .expect("a hostile batch never fails as a whole");
        assert_eq!(out.len(), batch.len());
        for o in out {
            match o {
                IngestOutcome::Stored { .. } => outcomes.0 += 1,
                IngestOutcome::Duplicate { .. } => outcomes.1 += 1,
                IngestOutcome::Refused { .. } => outcomes.2 += 1,
            }
        }
    }
    assert!(
        outcomes.0 > 50 && outcomes.1 > 0 && outcomes.2 > 100,
        "{outcomes:?}"
    );
    for m in 0..4 {
        let mn = format!("RND{m}");
        for r in store.latest(&mn).unwrap() {
            assert!(r.value.is_none_or(f64::is_finite), "{r:?}");
            assert!(
                r.flag
                    .as_deref()
                    .is_none_or(|f| f.len() <= 2 && !f.contains('\0')),
                "{r:?}"
            );
        }
        for f in ["w01018", "w01001", "w01010", "w21003", "x99999"] {
            let range = plausible::plausible_range(f).unwrap_or((f64::MIN, f64::MAX));
            for p in store
                .aggregates(&mn, f, Period::Hour, i64::MIN / 2, i64::MAX / 2)
                .unwrap()
            {
                assert!(p.n > 0 && p.mean.is_finite(), "{mn} {f} {p:?}");
                assert!(p.min >= range.0 && p.max <= range.1, "{mn} {f} {p:?}");
            }
        }
    }
}
