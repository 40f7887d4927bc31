//! The behaviour every backend must show, run by each backend's tests against a real database.

use crate::*;

fn site(id: &str) -> Site {
    Site {
        id: id.into(),
        name: format!("site {id}"),
        kind: "plant_outlet".into(),
        standard: Some("GB18918-2002:1A".into()),
        district: "north".into(),
        location: Some([116.3, 40.0]),
        model_node: Some("plant-north".into()),
    }
}

fn upload(mn: &str, cn: &str, t: i64, values: &[(&str, f64, &str)]) -> Upload {
    Upload {
        mn: mn.into(),
        cn: cn.into(),
        data_time: t,
        pno: 1,
        received_at_ms: t * 1000 + 500,
        peer: "127.0.0.1:5000".into(),
        raw: format!("##raw {mn} {cn} {t}"),
        readings: values
            .iter()
            .map(|(f, v, flag)| FactorReading {
                factor: f.to_string(),
                value: Some(*v),
                min: None,
                max: None,
                cou: None,
                flag: Some(flag.to_string()),
            })
            .collect(),
    }
}

/// Runs every check on an empty store. Panics (test failure) on any difference.
pub fn run_all(store: &mut dyn Store) {
    store.migrate().expect("migrate twice is harmless");
    // The factor table holds the HJ 212 codes, units and 2005 codes.
    let factors = store.factors().unwrap();
    let nh3n = factors.iter().find(|f| f.0 == "w21003").unwrap();
    assert_eq!(
        (nh3n.1.as_str(), nh3n.3.as_str(), nh3n.4.as_deref()),
        ("氨氮", "mg/L", Some("060"))
    );
    assert_eq!(factors.iter().find(|f| f.0 == "w20111").unwrap().3, "µg/L");

    sites_and_devices(store);

    // Minute data for two hours: COD rises 10, 11, … per minute; one value flagged M.
    let t0 = 1_748_736_000; // 2025-06-01 00:00 wall clock
                            // A fixed clock two days later, so that these DataTimes stay inside the window.
    store.set_ingest_rules(IngestRules {
        now_unix_s: Some(t0 - 8 * 3600 + 2 * 86_400),
        ..IngestRules::default()
    });
    let mut batch = Vec::new();
    for m in 0..120 {
        let flag = if m == 30 { "M" } else { "N" };
        batch.push(upload(
            "MN1",
            "2051",
            t0 + 60 * m,
            &[("w01018", 10.0 + m as f64, flag), ("w21003", 0.5, "N")],
        ));
    }
    let out = store.ingest(&batch).unwrap();
    assert!(out
        .iter()
        .all(|o| matches!(o, IngestOutcome::Stored { .. })));
    assert_eq!(store.count_readings().unwrap(), 240);

    // A repeat of (MN, CN, DataTime, PNO), with a new raw text: stored once, the frame kept.
    let frames_before = store.count_frames().unwrap();
    let mut again = upload("MN1", "2051", t0 + 60 * 5, &[("w01018", 999.0, "N")]);
    again.raw = "##resent with a new QN".into();
    let first_id = match out[5] {
        IngestOutcome::Stored { frame_id } => frame_id,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        store.ingest(&[again]).unwrap(),
        vec![IngestOutcome::Duplicate { frame_id: first_id }]
    );
    assert_eq!(store.count_readings().unwrap(), 240);
    assert_eq!(store.count_frames().unwrap(), frames_before + 1);
    // Another PNO of the same time is a different upload.
    let mut part2 = upload("MN1", "2051", t0 + 60 * 5, &[("w21011", 0.2, "N")]);
    part2.pno = 2;
    assert!(matches!(
        store.ingest(&[part2]).unwrap()[0],
        IngestOutcome::Stored { .. }
    ));

    // Latest values per factor.
    let latest = store.latest("MN1").unwrap();
    let cod = latest.iter().find(|r| r.factor == "w01018").unwrap();
    assert_eq!((cod.data_time, cod.value), (t0 + 60 * 119, Some(129.0)));
    assert_eq!(latest.len(), 3);

    // Downsampled series: hourly means of valid values. Hour 0: minutes 0..59 without 30.
    let s = store.series("MN1", "w01018", t0, t0 + 7200, 3600).unwrap();
    assert_eq!(s.len(), 2);
    let hour0: Vec<f64> = (0..60)
        .filter(|m| *m != 30)
        .map(|m| 10.0 + m as f64)
        .collect();
    let mean0 = hour0.iter().sum::<f64>() / hour0.len() as f64;
    assert_eq!((s[0].t, s[0].n, s[0].min, s[0].max), (t0, 59, 10.0, 69.0));
    assert!((s[0].mean - mean0).abs() < 1e-9);
    assert!((s[1].mean - (70.0 + 129.0) / 2.0).abs() < 1e-9);
    // Kept aggregates agree with the series.
    let h = store
        .aggregates("MN1", "w01018", Period::Hour, t0, t0 + 7200)
        .unwrap();
    assert_eq!(h, s);
    let d = store
        .aggregates("MN1", "w01018", Period::Day, t0, t0 + 86_400)
        .unwrap();
    assert_eq!((d.len(), d[0].n), (1, 119));

    // A correction is a new record; the latest reading shows it; the original stays.
    let readings = store
        .readings("MN1", "w01018", &["2051"], t0 + 60 * 119, t0 + 7200)
        .unwrap();
    let last = &readings[0];
    let c1 = store
        .correct(last.id, 50.0, "analyser drift, lab check", "operator-1", 1)
        .unwrap();
    assert_eq!(store.count_readings().unwrap(), 242);
    let cod = store
        .latest("MN1")
        .unwrap()
        .into_iter()
        .find(|r| r.factor == "w01018")
        .unwrap();
    assert_eq!(
        (cod.id, cod.value, cod.corrects),
        (c1, Some(50.0), Some(last.id))
    );
    assert_eq!(cod.reason.as_deref(), Some("analyser drift, lab check"));
    // Correcting the original again corrects the latest version (no fork).
    let c2 = store
        .correct(last.id, 55.0, "second lab check", "operator-2", 2)
        .unwrap();
    let hist = store
        .readings("MN1", "w01018", &["2051"], t0 + 60 * 119, t0 + 7200)
        .unwrap();
    assert_eq!(hist.len(), 1);
    assert_eq!(
        (hist[0].id, hist[0].corrects, hist[0].value),
        (c2, Some(c1), Some(55.0))
    );
    // Aggregates follow the correction: hour 1 max is now 128.
    let h = store
        .aggregates("MN1", "w01018", Period::Hour, t0 + 3600, t0 + 7200)
        .unwrap();
    assert_eq!((h[0].max, h[0].n), (128.0, 60));
    let mean1 = ((60..119).map(|m| 10.0 + m as f64).sum::<f64>() + 55.0) / 60.0;
    assert!((h[0].mean - mean1).abs() < 1e-9);
    assert!(store.correct(last.id, 1.0, " ", "x", 3).is_err());
    assert!(store.correct(987_654, 1.0, "r", "x", 3).is_err());

    // Retention removes old frames but not readings.
    let frames = store.count_frames().unwrap();
    let purged = store.purge_frames(t0 * 1000 + 60 * 60 * 1000).unwrap();
    // The first hour's 60 uploads, the duplicate and PNO 2 of minute 5 (rejected frames are
    // counted apart, see `rejected_frames`).
    assert_eq!(purged, 62);
    assert_eq!(store.count_frames().unwrap(), frames - 62);
    assert_eq!(store.count_readings().unwrap(), 243);

    // Alerts: raised open, recovered by the engine, acknowledged and closed by people.
    let row = |factor: Option<&str>| NewAlertRow {
        site_id: "S1".into(),
        mn: Some("MN1".into()),
        kind: "exceedance".into(),
        factor: factor.map(str::to_string),
        severity: "warning".into(),
        message: "w01018 = 60 outside GB18918-2002:1A ≤ 50 mg/L".into(),
        data_time: t0,
        value: Some(60.0),
        limit: Some("≤ 50 mg/L".into()),
        raised_at_ms: 10,
    };
    let ids = store
        .raise_alerts(&[row(Some("w01018")), row(None)])
        .unwrap();
    assert_eq!(ids.len(), 2);
    store
        .recover_alerts(
            &[("S1".into(), "exceedance".into(), Some("w01018".into()))],
            20,
        )
        .unwrap();
    let a = store.alert(ids[0]).unwrap().unwrap();
    assert_eq!(
        (a.state, a.recovered_at_ms, a.value),
        (AlertState::Open, Some(20), Some(60.0))
    );
    assert_eq!(store.alert(ids[1]).unwrap().unwrap().recovered_at_ms, None);
    store
        .set_alert_state(
            ids[0],
            AlertState::Acknowledged,
            "operator-1",
            "checking the analyser",
            30,
        )
        .unwrap();
    assert!(store
        .set_alert_state(ids[0], AlertState::Open, "operator-1", "", 31)
        .is_err());
    assert!(store
        .set_alert_state(ids[0], AlertState::Closed, " ", "", 31)
        .is_err());
    store
        .set_alert_state(
            ids[0],
            AlertState::Closed,
            "operator-2",
            "lab result normal",
            40,
        )
        .unwrap();
    assert!(store
        .set_alert_state(ids[0], AlertState::Acknowledged, "x", "", 41)
        .is_err());
    let h = store.alert_history(ids[0]).unwrap();
    assert_eq!(
        h.iter()
            .map(|c| (c.state, c.who.as_str(), c.at_ms))
            .collect::<Vec<_>>(),
        vec![
            (AlertState::Acknowledged, "operator-1", 30),
            (AlertState::Closed, "operator-2", 40)
        ]
    );
    assert_eq!(
        store
            .alerts(Some(AlertState::Open), None, 10)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(store.alerts(None, Some("S1"), 10).unwrap()[0].id, ids[1]);
    assert!(store.alerts(None, Some("S2"), 10).unwrap().is_empty());
    assert!(store
        .set_alert_state(999_999, AlertState::Closed, "x", "", 1)
        .is_err());
    alert_pages(store, &ids);

    accounts_credentials_audit(store);
    crate::maintenance::conformance::run_all(store);
    crate::labels::conformance::run_all(store);
    crate::conformance_hostile::run_all(store);
    alert_feed(store);
    aggregates_recomputable(store);
}

/// Whatever waits for a fold (PostgreSQL with deferral), the kept aggregates are what the
/// readings say, before the fold and after it, and a second fold changes nothing.
fn aggregates_recomputable(store: &mut dyn Store) {
    assert_eq!(store.aggregates_differing().unwrap(), 0, "before the fold");
    let pending = store.aggregates_pending().unwrap();
    let mut folded = 0;
    loop {
        let r = store.fold_aggregates(7).unwrap();
        assert!(!r.busy, "no other connection folds here");
        if r.batches == 0 {
            break;
        }
        folded += r.batches;
    }
    assert_eq!(folded, pending);
    assert_eq!(store.aggregates_pending().unwrap(), 0);
    assert_eq!(store.aggregates_differing().unwrap(), 0, "after the fold");
    assert_eq!(store.fold_aggregates(7).unwrap().batches, 0);
    assert_eq!(
        store.aggregates_differing().unwrap(),
        0,
        "after a second fold"
    );
}

/// The alert feed of several gateways (issue 19): with `feed` on, each committed batch records
/// the frames it stored — not its duplicates — in order; `done` removes batches.
fn alert_feed(store: &mut dyn Store) {
    let t0 = 1_748_736_000 + 86_400;
    let rules = store.ingest_rules().clone();
    store.set_ingest_rules(IngestRules {
        now_unix_s: Some(t0 - 8 * 3600 + 86_400),
        feed: true,
        ..IngestRules::default()
    });
    let before = store.alert_feed_len().unwrap();
    let ups: Vec<Upload> = (0..3)
        .map(|k| upload("MNFEED", "2051", t0 + 60 * k, &[("w01018", 20.0, "N")]))
        .collect();
    let mut batch = ups.clone();
    batch.push(ups[0].clone());
    let out = store.ingest(&batch).unwrap();
    assert!(matches!(out[3], IngestOutcome::Duplicate { .. }), "{out:?}");
    // A batch of nothing but a duplicate records no feed row.
    store.ingest(&ups[1..2]).unwrap();
    assert_eq!(store.alert_feed_len().unwrap(), before + 1);
    let feed = store.alert_feed(1000).unwrap();
    let last = feed.last().unwrap();
    let raws: Vec<&str> = last.frames.iter().map(|f| f.raw.as_str()).collect();
    let want: Vec<String> = ups.iter().map(|u| u.raw.clone()).collect();
    assert_eq!(raws, want);
    assert_eq!(last.frames[0].mn.as_deref(), Some("MNFEED"));
    assert_eq!(last.frames[0].received_at_ms, ups[0].received_at_ms);
    let ids: Vec<i64> = feed.iter().map(|b| b.id).collect();
    store.done_alert_feed(&ids).unwrap();
    assert_eq!(store.alert_feed_len().unwrap(), 0);
    // Leadership: this connection takes it and keeps it.
    assert!(store.try_lead("alerts").unwrap());
    assert!(store.try_lead("alerts").unwrap());
    store.set_ingest_rules(rules);
}

/// Filtered, counted pages of alerts (after the two of the main check: `first` closed at S1,
/// the other open).
fn alert_pages(store: &mut dyn Store, first: &[i64]) {
    let row = |site: &str, kind: &str, severity: &str, at: i64| NewAlertRow {
        site_id: site.into(),
        mn: None,
        kind: kind.into(),
        factor: None,
        severity: severity.into(),
        message: format!("{kind} at {site}"),
        data_time: 0,
        value: None,
        limit: None,
        raised_at_ms: at,
    };
    // 30 more: S2 offline warnings at 100, 110, …; every third a stuck one at S1.
    let rows: Vec<NewAlertRow> = (0..30)
        .map(|i| match i % 3 {
            0 => row("S1", "stuck", "warning", 100 + 10 * i),
            _ => row("S2", "offline", "violation", 100 + 10 * i),
        })
        .collect();
    let ids = store.raise_alerts(&rows).unwrap();
    let page = |store: &mut dyn Store, f: AlertFilter| {
        let (list, total) = store.alert_page(&f).unwrap();
        (list.iter().map(|a| a.id).collect::<Vec<i64>>(), total)
    };
    // Everything, newest first, pages of 7.
    let (p1, total) = page(
        store,
        AlertFilter {
            limit: 7,
            ..Default::default()
        },
    );
    assert_eq!(total, 32);
    assert_eq!(p1, ids.iter().rev().take(7).copied().collect::<Vec<_>>());
    let (p5, _) = page(
        store,
        AlertFilter {
            limit: 7,
            offset: 28,
            ..Default::default()
        },
    );
    assert_eq!(p5, vec![ids[1], ids[0], first[1], first[0]]);
    // Oldest first.
    let (o, _) = page(
        store,
        AlertFilter {
            limit: 2,
            oldest_first: true,
            ..Default::default()
        },
    );
    assert_eq!(o, first.to_vec());
    // By site list, kind, severity, state and raise time.
    let s2 = Some(vec!["S2".to_string()]);
    assert_eq!(
        page(
            store,
            AlertFilter {
                site_ids: s2.clone(),
                ..Default::default()
            }
        )
        .1,
        20
    );
    assert_eq!(
        page(
            store,
            AlertFilter {
                site_ids: Some(vec![]),
                ..Default::default()
            }
        )
        .1,
        0
    );
    let kinds = Some(vec!["stuck".to_string(), "exceedance".to_string()]);
    assert_eq!(
        page(
            store,
            AlertFilter {
                kinds,
                ..Default::default()
            }
        )
        .1,
        12
    );
    let violation = Some("violation".to_string());
    assert_eq!(
        page(
            store,
            AlertFilter {
                severity: violation,
                ..Default::default()
            }
        )
        .1,
        20
    );
    let closed = Some(AlertState::Closed);
    assert_eq!(
        page(
            store,
            AlertFilter {
                state: closed,
                ..Default::default()
            }
        )
        .0,
        vec![first[0]]
    );
    // Raised in [200, 300): i = 10 … 19, of which S1 at i = 12, 15, 18.
    let window = AlertFilter {
        from_ms: Some(200),
        to_ms: Some(300),
        site_ids: Some(vec!["S1".to_string()]),
        ..Default::default()
    };
    assert_eq!(page(store, window).0, vec![ids[18], ids[15], ids[12]]);
}

/// Sites and devices, with upsert; devices keep a hash, source rules and the disabled switch.
fn sites_and_devices(store: &mut dyn Store) {
    // Sites and devices, with upsert.
    store.put_site(&site("S1")).unwrap();
    store.put_site(&site("S2")).unwrap();
    let mut s1 = site("S1");
    s1.name = "renamed".into();
    store.put_site(&s1).unwrap();
    let sites = store.sites().unwrap();
    assert_eq!(sites.len(), 2);
    assert_eq!(sites[0], s1);
    let dev = Device {
        mn: "MN1".into(),
        password_hash: hash_device_password("device-secret-1"),
        site_id: "S1".into(),
        lenient: true,
        accept_modbus_crc: false,
        allowed_peers: vec!["10.0.0.0/8".into(), "192.0.2.7".into()],
        disabled: false,
    };
    store.put_device(&dev).unwrap();
    store
        .put_device(&Device {
            mn: "MN2".into(),
            site_id: "S2".into(),
            allowed_peers: Vec::new(),
            ..dev.clone()
        })
        .unwrap();
    assert_eq!(store.devices().unwrap()[0], dev);
    assert_eq!(store.device("MN1").unwrap(), Some(dev.clone()));
    assert_eq!(store.device("nope").unwrap(), None);
    let got = store.device("MN2").unwrap().unwrap();
    assert!(got.allowed_peers.is_empty());
    assert!(verify_device_password(
        "device-secret-1",
        &got.password_hash
    ));
    // A plain-text password, a hostile MN or a bad address rule is refused.
    for bad in [
        Device {
            password_hash: "123456".into(),
            ..dev.clone()
        },
        Device {
            mn: "MN1'; DROP TABLE device; --".into(),
            ..dev.clone()
        },
        Device {
            allowed_peers: vec!["not-an-address".into()],
            ..dev.clone()
        },
    ] {
        assert!(store.put_device(&bad).is_err(), "{bad:?}");
    }
    assert_eq!(store.devices().unwrap().len(), 2);
}

fn accounts_credentials_audit(store: &mut dyn Store) {
    let mut op = Account {
        name: "op-north".into(),
        role: Role::Operator,
        district: Some("north".into()),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        disabled: false,
        created_at_ms: 5,
    };
    store.put_account(&op).unwrap();
    // An operator without a district, a hostile name: refused (an unknown role cannot even
    // be written: roles are typed, and "root" does not parse).
    assert!("root".parse::<Role>().is_err());
    for bad in [
        Account {
            district: None,
            ..op.clone()
        },
        Account {
            name: "a'; DROP TABLE account; --".into(),
            ..op.clone()
        },
    ] {
        assert!(store.put_account(&bad).is_err(), "{bad:?}");
    }
    op.disabled = true;
    store.put_account(&op).unwrap();
    assert_eq!(store.account("op-north").unwrap(), Some(op.clone()));
    assert_eq!(store.account("nobody").unwrap(), None);
    assert_eq!(store.accounts().unwrap().len(), 1);

    let session = Credential {
        secret_hash: "h1".into(),
        account: "op-north".into(),
        kind: CredentialKind::Session,
        csrf: "c1".into(),
        label: String::new(),
        created_at_ms: 100,
        expires_at_ms: Some(200),
    };
    store.put_credential(&session).unwrap();
    // The same secret twice is refused (it would be a collision of random secrets).
    assert!(store.put_credential(&session).is_err());
    assert_eq!(store.credential("h1", 150).unwrap(), Some(session.clone()));
    assert_eq!(store.credential("h1", 200).unwrap(), None, "expired");
    let token = Credential {
        secret_hash: "h2".into(),
        kind: CredentialKind::Token,
        csrf: String::new(),
        expires_at_ms: None,
        ..session.clone()
    };
    store.put_credential(&token).unwrap();
    assert!(store.credential("h2", i64::MAX).unwrap().is_some());
    store.delete_credential("h2").unwrap();
    assert_eq!(store.credential("h2", 0).unwrap(), None);
    // Expired sessions are purged; tokens without expiry stay.
    store
        .put_credential(&Credential {
            secret_hash: "h3".into(),
            expires_at_ms: None,
            ..token.clone()
        })
        .unwrap();
    assert_eq!(store.purge_credentials(199).unwrap(), 0);
    assert_eq!(store.purge_credentials(200).unwrap(), 1);
    assert!(store.credential("h3", 0).unwrap().is_some());
    revocation(store);

    for (i, action) in ["user.create", "alert.acknowledged"].iter().enumerate() {
        store
            .audit(&AuditEntry {
                at_ms: 1000 + i as i64,
                who: "admin".into(),
                action: action.to_string(),
                target: "x".into(),
                detail: "d".into(),
            })
            .unwrap();
    }
    assert!(store
        .audit(&AuditEntry {
            at_ms: 1,
            who: "".into(),
            action: "x".into(),
            target: "".into(),
            detail: "".into()
        })
        .is_err());
    let log = store.audit_log(10).unwrap();
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["alert.acknowledged", "user.create"]
    );
    assert_eq!(store.audit_log(1).unwrap().len(), 1);
}

/// Listing and revoking an account's credentials.
fn revocation(store: &mut dyn Store) {
    let hash = |c: char| c.to_string().repeat(64);
    let cred = |h: String, kind, at| Credential {
        secret_hash: h,
        account: "op-north".into(),
        kind,
        csrf: String::new(),
        label: "l".into(),
        created_at_ms: at,
        expires_at_ms: None,
    };
    store.revoke_credentials("op-north", None).unwrap();
    for (c, kind, at) in [
        ('a', CredentialKind::Session, 10),
        ('b', CredentialKind::Token, 20),
        ('c', CredentialKind::Token, 30),
        ('d', CredentialKind::Session, 40),
    ] {
        store.put_credential(&cred(hash(c), kind, at)).unwrap();
    }
    let all = store.credentials_of("op-north").unwrap();
    assert_eq!(
        all.iter().map(|c| c.created_at_ms).collect::<Vec<_>>(),
        [40, 30, 20, 10],
        "newest first"
    );
    assert_eq!(all[1].public_id(), "cccccccccccccccc");
    assert!(store.credentials_of("nobody").unwrap().is_empty());
    // One token by its public id; another account's id or a malformed id revokes nothing.
    assert!(!store
        .revoke_credential("nobody", "cccccccccccccccc")
        .unwrap());
    assert!(!store.revoke_credential("op-north", "%").unwrap());
    assert!(!store.revoke_credential("op-north", "cccc").unwrap());
    assert!(store
        .revoke_credential("op-north", "cccccccccccccccc")
        .unwrap());
    assert!(!store
        .revoke_credential("op-north", "cccccccccccccccc")
        .unwrap());
    // Sessions only (a password change), then everything.
    assert_eq!(
        store
            .revoke_credentials("op-north", Some(CredentialKind::Session))
            .unwrap(),
        2
    );
    let left = store.credentials_of("op-north").unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, CredentialKind::Token);
    assert_eq!(store.revoke_credentials("op-north", None).unwrap(), 1);
    assert!(store.credentials_of("op-north").unwrap().is_empty());
}
