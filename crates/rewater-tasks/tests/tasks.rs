//! The bundled registers load and cite their sources, status follows the date, hostile
//! register files are refused by file, task and field, and the river-chief check flags missed
//! patrols by level.

use rewater_store::tasks::{Patrol, Progress, RiverChief};
use rewater_tasks::register::{parse_departments, parse_register};
use rewater_tasks::*;
use rewater_time::Date;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

#[test]
fn the_bundled_registers_hold_the_seed_tasks() {
    let (deps, regs) = bundled().unwrap();
    let fyp = regs.iter().find(|r| r.id == "beijing-14fyp").unwrap();
    assert_eq!(fyp.tasks.len(), 48);
    assert_eq!(
        fyp.tasks.iter().map(|t| t.seq).collect::<Vec<_>>(),
        (1..=48).collect::<Vec<_>>()
    );
    // Measure 5: 900 villages, led by the water authority and the agriculture bureau.
    let m5 = fyp.task("5").unwrap();
    assert_eq!(m5.lead, ["water", "agriculture"]);
    assert_eq!(m5.cooperating, ["development", "ecology", "districts"]);
    assert_eq!(m5.indicator.as_deref(), Some("villages_sewage_works_built"));
    assert!(m5.title_zh.contains("900个以上村庄"));
    assert_eq!(m5.deadline, d("2025-12-31"));
    assert_eq!(m5.deadline_confidence, "plan-period");
    assert!(m5.source.contains("任务分工表, 第5项"), "{}", m5.source);
    // Measure 24 is the tax service's, with the finance bureau; 25 has no cooperating unit.
    assert_eq!(fyp.task("24").unwrap().lead, ["tax"]);
    assert!(fyp.task("25").unwrap().cooperating.is_empty());
    assert_eq!(
        fyp.task("48").unwrap().lead,
        ["financial_regulation", "water"]
    );
    assert_eq!(
        fyp.group(&fyp.task("22").unwrap().group).unwrap().key_zh,
        "(三) 破解污泥资源化利用难点"
    );

    let env = regs
        .iter()
        .find(|r| r.id == "beijing-2023-water-environment")
        .unwrap();
    assert_eq!(env.tasks.len(), 22);
    let t5 = env.task("5").unwrap();
    assert!(t5.quote.as_deref().unwrap().contains("50 万立方米"));
    assert!(t5.source.contains("京政发〔2023〕6号") && t5.source.ends_with("(四)"));
    assert_eq!(env.task("2").unwrap().lead, ["tongzhou"]);
    // The supply plan: 25 tasks; the first led by the water authority with Haidian, Fengtai
    // and the waterworks group; the smart-meter task serves the 90 % indicator.
    let supply = regs
        .iter()
        .find(|r| r.id == "beijing-2023-water-supply")
        .unwrap();
    assert_eq!(supply.tasks.len(), 25);
    let s1 = supply.task("1").unwrap();
    assert_eq!(s1.lead, ["water"]);
    assert_eq!(
        s1.cooperating,
        ["planning", "haidian", "fengtai", "water_group"]
    );
    assert!(s1.quote.as_deref().unwrap().contains("35 万立方米/日"));
    let meters = supply
        .tasks
        .iter()
        .find(|t| t.indicator.as_deref() == Some("smart_meter_rate"))
        .unwrap();
    assert!(meters.source.ends_with("五、(三)") && meters.title_zh.contains("90%"));
    for r in &regs {
        for t in &r.tasks {
            assert!(
                !t.title_en.is_empty() && !t.source.is_empty(),
                "{}/{}",
                r.id,
                t.id
            );
            for dep in t.lead.iter().chain(&t.cooperating) {
                assert!(!deps.name(dep, true).is_empty());
            }
        }
    }
    assert_eq!(deps.name("districts", false), "各区政府");
    assert_eq!(deps.by_zh("各区人民政府").unwrap().id, "districts");
}

fn progress(task: &str, percent: u8, done_on: Option<&str>, at_ms: i64) -> Progress {
    Progress {
        id: at_ms,
        register: "beijing-14fyp".into(),
        task: task.into(),
        district: None,
        percent,
        done_on: done_on.map(d),
        note: String::new(),
        who: "x".into(),
        at_ms,
        attachments: vec![],
    }
}

#[test]
fn task_status_changes_with_the_date() {
    let deadline = d("2025-12-31");
    assert_eq!(status_of(deadline, None, d("2025-06-01")), Status::OnTrack);
    // 2025-10-02 is exactly 90 days before the deadline; 2025-10-01 is 91.
    assert_eq!(status_of(deadline, None, d("2025-10-01")), Status::OnTrack);
    assert_eq!(status_of(deadline, None, d("2025-10-02")), Status::DueSoon);
    assert_eq!(status_of(deadline, None, d("2025-12-31")), Status::DueSoon);
    assert_eq!(status_of(deadline, None, d("2026-01-01")), Status::Overdue);
    // Done on 2025-11-30: due soon the day before, done from that day on, never overdue.
    let done = Some(d("2025-11-30"));
    assert_eq!(status_of(deadline, done, d("2025-11-29")), Status::DueSoon);
    assert_eq!(status_of(deadline, done, d("2025-11-30")), Status::Done);
    assert_eq!(status_of(deadline, done, d("2027-01-01")), Status::Done);

    let (_, regs) = bundled().unwrap();
    let fyp = &regs[0];
    let updates = [
        progress("1", 40, None, 1),
        progress("1", 100, Some("2025-03-01"), 2),
        progress("2", 100, Some("2026-02-01"), 3),
        progress("3", 60, None, 4),
    ];
    let rows = task_rows(fyp, &updates, d("2026-03-01"));
    assert_eq!(rows.len(), 48);
    assert_eq!(
        (rows[0].status, rows[0].percent, rows[0].updates),
        (Status::Done, 100, 2)
    );
    assert!(!rows[0].late);
    assert_eq!(rows[1].status, Status::Done);
    assert!(rows[1].late, "done a month after its deadline");
    assert_eq!((rows[2].status, rows[2].percent), (Status::Overdue, 60));
    let c = StatusCounts::of(&rows);
    assert_eq!((c.done, c.overdue, c.due_soon, c.on_track), (2, 46, 0, 0));
    // A year earlier every task not yet done is on track.
    let c = StatusCounts::of(&task_rows(fyp, &updates, d("2025-01-15")));
    assert_eq!((c.done, c.on_track), (0, 48));
    let c = StatusCounts::of(&task_rows(fyp, &updates, d("2025-11-15")));
    assert_eq!((c.done, c.due_soon), (1, 47));
}

const DEPS: &str = r#"
[[department]]
id = "water"
zh = ["市水务局"]
en = "Water"
"#;

fn register_with(task: &str) -> String {
    format!(
        r#"
[register]
id = "r"
name_zh = "测试"
name_en = "test"
short_zh = "测"
short_en = "t"
source = "seed 000"
default_deadline = "2025-12-31"
deadline_confidence = "plan-period"
[[group]]
id = "g"
goal_zh = "目标"
goal_en = "goal"
key_zh = "任务"
key_en = "task"
{task}
"#
    )
}

const GOOD: &str = r#"
[[task]]
seq = 1
group = "g"
title_zh = "甲"
title_en = "A"
lead = ["市水务局"]
cooperating = []
"#;

#[test]
fn hostile_register_files_are_refused_by_file_task_and_field() {
    let deps = parse_departments("deps.toml", DEPS).unwrap();
    let ok = parse_register("r.toml", &register_with(GOOD), &deps).unwrap();
    assert_eq!(ok.tasks[0].lead, ["water"]);
    let cases = [
        (
            GOOD.replace("[\"市水务局\"]", "[\"市不存在局\"]"),
            "r.toml: task 1: field `lead`: unknown department '市不存在局'",
        ),
        (
            format!("{GOOD}{GOOD}"),
            "r.toml: task 1: field `seq`: appears twice",
        ),
        (
            GOOD.replace("group = \"g\"", "group = \"h\""),
            "r.toml: task 1: field `group`: no group 'h'",
        ),
        (
            GOOD.replace(
                "cooperating = []",
                "cooperating = []\ndeadline = \"2025-13-01\"",
            ),
            "r.toml: task 1: field `deadline`: '2025-13-01' is not a date YYYY-MM-DD",
        ),
        (
            GOOD.replace("lead = [\"市水务局\"]", "lead = []"),
            "r.toml: task 1: field `lead`: a task needs at least one lead department",
        ),
        (
            GOOD.replace("seq = 1", "seq = 1\nowner = \"x\""),
            "unknown field `owner`",
        ),
    ];
    for (task, want) in cases {
        let e = parse_register("r.toml", &register_with(&task), &deps)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}\nshould contain\n{want}");
    }
}

fn chief(level: &str, since: &str) -> RiverChief {
    RiverChief {
        id: format!("{level}-1"),
        name: "李四".into(),
        level: level.into(),
        water_body: "凉水河".into(),
        district: Some("north".into()),
        since: d(since),
    }
}

fn patrols(chief: &str, days: &[&str]) -> Vec<Patrol> {
    days.iter()
        .enumerate()
        .map(|(i, s)| Patrol {
            id: i as i64,
            chief: chief.into(),
            on: d(s),
            note: String::new(),
            who: chief.into(),
            at_ms: 0,
        })
        .collect()
}

#[test]
fn the_required_patrol_frequencies_are_those_of_seed_001() {
    let rules = RiverChiefRules::bundled().unwrap();
    let f = |id: &str| {
        let l = rules.level(id).unwrap();
        (l.period, l.at_least)
    };
    assert_eq!(f("city_chief"), (PatrolPeriod::Year, 1));
    assert_eq!(f("city_executive"), (PatrolPeriod::Year, 2));
    assert_eq!(f("city_basin"), (PatrolPeriod::Year, 2));
    assert_eq!(f("district_chief"), (PatrolPeriod::Quarter, 1));
    assert_eq!(f("district_basin"), (PatrolPeriod::Quarter, 1));
    assert_eq!(f("township"), (PatrolPeriod::Month, 1));
    assert_eq!(f("village"), (PatrolPeriod::Week, 1));
    assert!(rules.source.contains("二、(四)"));
}

#[test]
fn a_village_chief_with_no_patrol_in_a_week_is_flagged() {
    let rules = RiverChiefRules::bundled().unwrap();
    // In office from Wednesday 2025-01-01: the first full week is Mon 6 – Sun 12 January.
    let c = chief("village", "2025-01-01");
    // Patrols in the weeks of 6 and 20 January, none in the week of 13–19 January.
    let ps = patrols("village-1", &["2025-01-02", "2025-01-08", "2025-01-20"]);
    let found = check_patrols(&rules, &c, &ps, d("2024-01-01"), d("2025-01-27")).unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        (found[0].from, found[0].to),
        (d("2025-01-13"), d("2025-01-19"))
    );
    assert_eq!((found[0].patrols, found[0].required), (0, 1));
    // The week of 27 January has not ended on the 27th: not yet flagged; on 3 February it is.
    let found = check_patrols(&rules, &c, &ps, d("2024-01-01"), d("2025-02-03")).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[1].from, d("2025-01-27"));
    // A patrol that week clears it.
    let mut ps2 = ps.clone();
    ps2.extend(patrols("village-1", &["2025-01-15"]));
    let found = check_patrols(&rules, &c, &ps2, d("2024-01-01"), d("2025-01-27")).unwrap();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn other_levels_are_checked_by_their_own_period() {
    let rules = RiverChiefRules::bundled().unwrap();
    // A city executive chief with one patrol in 2025 falls short of two.
    let c = chief("city_executive", "2024-12-01");
    let ps = patrols("city_executive-1", &["2025-05-01"]);
    let found = check_patrols(&rules, &c, &ps, d("2020-01-01"), d("2026-01-05")).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(
        (
            found[0].from,
            found[0].to,
            found[0].patrols,
            found[0].required
        ),
        (d("2025-01-01"), d("2025-12-31"), 1, 2)
    );
    // A district chief who patrolled in Q1 and Q3 2025 misses Q2.
    let c = chief("district_chief", "2025-01-01");
    let ps = patrols("district_chief-1", &["2025-02-01", "2025-08-01"]);
    let found = check_patrols(&rules, &c, &ps, d("2020-01-01"), d("2025-10-01")).unwrap();
    assert_eq!(
        found.iter().map(|f| f.from).collect::<Vec<_>>(),
        [d("2025-04-01")]
    );
    // A township chief: February 2024 (leap year) ends on the 29th.
    let c = chief("township", "2024-01-01");
    let ps = patrols("township-1", &["2024-01-31", "2024-03-01"]);
    let found = check_patrols(&rules, &c, &ps, d("2020-01-01"), d("2024-03-31")).unwrap();
    assert_eq!(
        found.iter().map(|f| (f.from, f.to)).collect::<Vec<_>>(),
        [(d("2024-02-01"), d("2024-02-29"))]
    );
    let e = check_patrols(
        &rules,
        &chief("emperor", "2024-01-01"),
        &[],
        d("2024-01-01"),
        d("2025-01-01"),
    )
    .unwrap_err();
    assert!(e.contains("unknown level 'emperor'"), "{e}");
}

/// Every task's related indicator is one of the indicator catalog's (issue 15 part A).
#[test]
fn every_related_indicator_is_in_the_catalog() {
    let catalog = rewater_indicators::Catalog::bundled();
    let (_, regs) = bundled().unwrap();
    let mut n = 0;
    for r in &regs {
        for t in &r.tasks {
            if let Some(id) = &t.indicator {
                assert!(
                    catalog.indicator(id).is_some(),
                    "{}/{}: no indicator '{id}'",
                    r.id,
                    t.id
                );
                n += 1;
            }
        }
    }
    assert_eq!(n, 32);
}
