//! The ledger through the store: saved, loaded equal, corrected as a new version; filtered
//! pages; rectification records as versions.

mod common;

use rewater_outfalls::rectify::{FoundBy, Measure, Rectification, State};
use rewater_outfalls::store::*;
use rewater_outfalls::Compliance;
use rewater_store::SqliteStore;

#[test]
fn the_ledger_round_trips_through_the_store_and_corrections_are_versions() {
    let mut s = SqliteStore::memory().unwrap();
    let l = common::small_ledger();
    let out = save_ledger(&mut s, &l, "importer", "survey 2025", 1).unwrap();
    assert_eq!(out.new_versions, 1 + 3 + 2 + 3 + 1 + 2 + 3);
    assert_eq!(load_ledger(&mut s).unwrap(), l);
    // Saving again changes nothing; a corrected outfall is version 2 with who and why.
    assert_eq!(
        save_ledger(&mut s, &l, "importer", "again", 2)
            .unwrap()
            .new_versions,
        0
    );
    let mut l2 = l.clone();
    l2.outfalls[0].name = "一号口（更正）".into();
    assert_eq!(
        save_ledger(&mut s, &l2, "checker", "name corrected", 3)
            .unwrap()
            .new_versions,
        1
    );
    let h = history(&mut s, "outfall", &l.outfalls[0].code).unwrap();
    assert_eq!(
        h.iter()
            .map(|r| (r.version, r.who.as_str(), r.reason.as_str()))
            .collect::<Vec<_>>(),
        [
            (1, "importer", "survey 2025"),
            (2, "checker", "name corrected")
        ]
    );
    assert_eq!(load_ledger(&mut s).unwrap(), l2);
}

#[test]
fn ledger_pages_filter_by_district_search_class_and_compliance() {
    let mut s = SqliteStore::memory().unwrap();
    save_ledger(&mut s, &common::small_ledger(), "importer", "survey", 1).unwrap();
    let f = |district: Option<&str>,
             search: Option<&str>,
             class: Option<&str>,
             compliance: Option<Compliance>| OutfallFilter {
        district: district.map(String::from),
        search: search.map(String::from),
        class: class.map(String::from),
        compliance,
        limit: 10,
        offset: 0,
    };
    let names = |s: &mut SqliteStore, f: OutfallFilter| {
        let (n, p) = outfall_page(s, &f).unwrap();
        (n, p.into_iter().map(|o| o.name).collect::<Vec<_>>())
    };
    assert_eq!(
        names(&mut s, f(Some("north"), None, None, None)),
        (2, vec!["一号口".to_string(), "二号口".into()])
    );
    assert_eq!(
        names(&mut s, f(None, Some("水厂"), None, None)),
        (1, vec!["二号口".to_string()])
    );
    // By the class's Chinese name too.
    assert_eq!(
        names(&mut s, f(None, Some("城镇污水处理厂"), None, None)).0,
        1
    );
    assert_eq!(
        names(&mut s, f(None, None, Some("undetermined"), None)),
        (1, vec!["三号口".to_string()])
    );
    assert_eq!(
        names(&mut s, f(None, None, None, Some(Compliance::Illegal))),
        (1, vec!["三号口".to_string()])
    );
    assert_eq!(
        names(
            &mut s,
            f(Some("north"), Some("口"), None, Some(Compliance::Legal))
        )
        .0,
        2
    );
    assert_eq!(
        names(
            &mut s,
            f(
                Some("south"),
                None,
                Some("industrial.enterprise"),
                Some(Compliance::Legal)
            )
        )
        .0,
        0
    );
    let (n, p) = outfall_page(
        &mut s,
        &OutfallFilter {
            limit: 1,
            offset: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!((n, p.len(), p[0].name.as_str()), (3, 1, "三号口"));
}

#[test]
fn each_rectification_step_is_a_stored_version() {
    let mut s = SqliteStore::memory().unwrap();
    let d = "2025-09-30".parse().unwrap();
    let mut r = Rectification::open(
        "R1",
        "1101080003110105X0003",
        "south",
        FoundBy::Complaint,
        "直排",
        Measure::Ban,
        "南区",
        d,
        "inspector",
        1,
    )
    .unwrap();
    save_rectification(&mut s, &r, "inspector", "opened", 1).unwrap();
    r.advance(State::InProgress, "南区", 2, "", vec![]).unwrap();
    save_rectification(&mut s, &r, "南区", "in progress", 2).unwrap();
    assert_eq!(
        rectification(&mut s, "R1").unwrap().unwrap().state(),
        State::InProgress
    );
    assert_eq!(history(&mut s, "rectification", "R1").unwrap().len(), 2);
    assert_eq!(rectifications(&mut s, Some("south")).unwrap().len(), 1);
    assert!(rectifications(&mut s, Some("north")).unwrap().is_empty());
}
