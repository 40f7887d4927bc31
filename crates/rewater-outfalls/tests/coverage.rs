//! Coverage by district and river on the small ledger, with rectification records.

mod common;

use rewater_outfalls::coverage::{coverage, Coverage};
use rewater_outfalls::rectify::{
    dynamic_zero, without_record, FoundBy, Measure, Rectification, State,
};
use rewater_time::Date;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// An open record for O3 (south), due 2025-09-30.
fn south_record() -> Rectification {
    Rectification::open(
        "R1",
        "1101080003110105X0003",
        "south",
        FoundBy::Inspection,
        "借道排污",
        Measure::Regulate,
        "南区水务局",
        d("2025-09-30"),
        "inspector",
        0,
    )
    .unwrap()
}

#[test]
fn coverage_counts_surveyed_monitored_traced_and_rectified_by_district_and_river() {
    let l = common::small_ledger();
    // O3 (south, illegal) has no record yet: it must show up.
    assert_eq!(without_record(&l, &[]), ["1101080003110105X0003"]);
    let mut r = south_record();
    let rep = coverage(
        &l,
        std::slice::from_ref(&r),
        2025,
        d("2025-10-01"),
        8 * 3600,
    );
    let north = &rep.by_district["north"];
    assert_eq!(
        *north,
        Coverage {
            outfalls: 2,
            surveyed: 2,
            monitored: 2,
            traced: 1,
            ..Default::default()
        }
    );
    let south = &rep.by_district["south"];
    assert_eq!(
        *south,
        Coverage {
            outfalls: 1,
            surveyed: 0,
            monitored: 0,
            traced: 1,
            illegal: 1,
            rectified: 0,
            rectified_on_time: 0,
            overdue: 1
        }
    );
    assert_eq!(rep.by_water_body["W1"].outfalls, 3);
    assert_eq!(rep.total.traced, 2);
    assert_eq!(
        Coverage::share(rep.total.traced, rep.total.outfalls),
        Some(2.0 / 3.0)
    );
    assert_eq!(
        dynamic_zero(std::slice::from_ref(&r), d("2025-10-01")).len(),
        1
    );
    // Signed off on 2025-09-30 15:00 UTC = 23:00 in Beijing: on time.
    let t = d("2025-09-30").wall_seconds() * 1000 + 15 * 3_600_000;
    r.advance(
        State::Done,
        "南区水务局",
        t - 60_000,
        "完成规范化整治",
        vec!["after.jpg".into()],
    )
    .unwrap();
    r.advance(State::SignedOff, "市生态环境局", t, "销号", vec![])
        .unwrap();
    let rep = coverage(
        &l,
        std::slice::from_ref(&r),
        2025,
        d("2025-10-01"),
        8 * 3600,
    );
    assert_eq!(
        (
            rep.by_district["south"].rectified,
            rep.by_district["south"].rectified_on_time,
            rep.by_district["south"].overdue
        ),
        (1, 1, 0)
    );
    // The same sign-off at UTC+10 falls on 1 October: late.
    let rep = coverage(
        &l,
        std::slice::from_ref(&r),
        2025,
        d("2025-10-01"),
        10 * 3600,
    );
    assert_eq!(rep.by_district["south"].rectified_on_time, 0);
    // A survey dated after the year does not count for it.
    assert_eq!(
        coverage(&l, &[], 2024, d("2024-12-31"), 0).total.surveyed,
        0
    );
}

#[test]
fn the_district_self_report_gives_the_figures_in_both_languages() {
    let l = common::small_ledger();
    let r = south_record();
    let zh = rewater_outfalls::report::self_report(
        &l,
        std::slice::from_ref(&r),
        "south",
        2025,
        d("2025-10-01"),
        8 * 3600,
        "zh",
    );
    assert!(
        zh.starts_with("# south 2025 年度入河排污口监督管理情况自查报告"),
        "{zh}"
    );
    assert!(zh.contains("报送截止：2026-01-31"), "{zh}");
    assert!(zh.contains("| 违规排污口 | 1 | 100.0 % |"), "{zh}");
    assert!(zh.contains("违规排污口动态清零：未实现"), "{zh}");
    assert!(
        zh.contains("R1 (1101080003110105X0003, 2025-09-30)"),
        "{zh}"
    );
    assert!(zh.contains("| 清河 | 1 | 0 | 0 | 1 |"), "{zh}");
    let en = rewater_outfalls::report::self_report(
        &l,
        &[],
        "north",
        2025,
        d("2025-10-01"),
        8 * 3600,
        "en",
    );
    assert!(
        en.contains("| Surveyed | 2 | 100.0 % |")
            && en.contains("| Traced to a discharger or channel | 1 | 50.0 % |"),
        "{en}"
    );
    assert!(
        en.contains("Dynamic zero of illegal outfalls: achieved"),
        "{en}"
    );
    assert!(en.contains("| Qing River | 2 | 2 | 2 | 1 |"), "{en}");
}
