//! `rewater report` and `rewater tasks` as a user runs them: the pilot annual report as HTML
//! and PDF (its Chinese text and its charts checked in the PDF with pdftotext, from
//! poppler-utils), the English report, task status with progress from the store, evidence
//! refused by type, and the river-chief patrol check. Without Chromium or pdftotext the PDF
//! test says it skipped (and fails under CI).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rewater(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-cli-reports-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/beijing-district/model.toml")
        .display()
        .to_string()
}

/// The seed-003 pilot city (plant → constructed wetland → storage pond → users).
fn pilot_city() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/pilot-city/model.toml")
        .display()
        .to_string()
}

fn tools() -> bool {
    let have = |p: &str| Path::new(p).exists();
    let chromium = have("/usr/bin/chromium") || have("/usr/bin/chromium-browser");
    let pdftotext = Command::new("pdftotext").arg("-v").output().is_ok();
    if chromium && pdftotext {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "CI needs chromium and poppler-utils (pdftotext)"
    );
    eprintln!("SKIPPED: the PDF test needs chromium and pdftotext (apt-get install chromium poppler-utils fonts-wqy-zenhei)");
    false
}

fn pdf_text(pdf: &Path) -> String {
    let o = Command::new("pdftotext")
        .arg(pdf)
        .arg("-")
        .output()
        .unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_pilot_annual_report_is_written_as_html_and_pdf_with_its_chinese_text_and_charts() {
    if !tools() {
        return;
    }
    let dir = tmp("annual");
    let out = ok(&rewater(&[
        "report",
        "pilot-annual",
        &pilot_city(),
        "--out",
        dir.to_str().unwrap(),
        "--today",
        "2025-12-20",
    ]));
    let html_path = dir.join("pilot-annual.zh.html");
    let pdf_path = dir.join("pilot-annual.zh.pdf");
    assert_eq!(
        out,
        format!("{}\n{}\n", html_path.display(), pdf_path.display())
    );
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("<svg") && html.contains("逐月水量"));
    let pdf = std::fs::read(&pdf_path).unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf_path);
    for want in [
        "区域再生水循环利用试点工作年度报告",
        "一、系统概况",
        "二、水量",
        "三、人工湿地与调蓄库塘水质",
        "四、分类利用",
        "五、监测与事件",
        "六、存在问题与下一步工作",
        "2025-01-01 – 2025-12-31",
        "Ⅴ类限值",
        // Chart titles and legends are SVG text, so they are text in the PDF too.
        "逐月水量",
        "出水浓度（月均值）与Ⅴ类限值",
        "分类利用量",
        "调蓄库塘蓄水量（月末）",
    ] {
        assert!(text.contains(want), "the PDF lacks {want}:\n{text}");
    }
    // The COD row of the wetland: class V limit 40.00 and 365 of 365 days meeting it.
    assert!(
        text.contains("40.00") && text.contains("365 / 365"),
        "{text}"
    );
}

#[test]
fn the_final_report_in_english_states_the_pilot_completion() {
    let dir = tmp("final");
    ok(&rewater(&[
        "report",
        "pilot-final",
        &example(),
        "--out",
        dir.to_str().unwrap(),
        "--lang",
        "en",
        "--no-pdf",
    ]));
    let html = std::fs::read_to_string(dir.join("pilot-final.en.html")).unwrap();
    assert!(html.contains("Regional reclaimed-water recycling pilot: final report"));
    assert!(html.contains("7. Completion of the pilot scheme"));
    assert!(html.contains("Pilot period 365 days"));
    assert!(!dir.join("pilot-final.en.pdf").exists());
    // Bad input exits 2 with a reason.
    let o = rewater(&["report", "yearly", &example(), "--out", "x", "--no-pdf"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown report 'yearly'"));
    let o = rewater(&[
        "report",
        "district",
        &example(),
        "--out",
        dir.to_str().unwrap(),
        "--no-pdf",
        "--district",
        "east",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("not one of the model's districts (north, south)"));
    let o = rewater(&[
        "report",
        "pilot-annual",
        &example(),
        "--out",
        dir.to_str().unwrap(),
        "--no-pdf",
        "--year",
        "2030",
    ]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn task_progress_with_evidence_changes_the_status_in_list_and_report() {
    let dir = tmp("tasks");
    let db = dir.join("store.sqlite");
    let db = db.to_str().unwrap();
    let evidence = dir.join("验收.pdf");
    std::fs::write(&evidence, b"%PDF-1.4\n%evidence\n").unwrap();
    let fake = dir.join("fake.pdf");
    std::fs::write(&fake, b"MZ\x90\x00 not a pdf").unwrap();
    // Measure 5 of seed 000 (900 villages) done on 2025-11-30, with a PDF as evidence.
    let out = ok(&rewater(&[
        "tasks",
        "update",
        "beijing-14fyp",
        "5",
        "--percent",
        "100",
        "--done-on",
        "2025-11-30",
        "--note",
        "900 个村庄完成",
        "--district",
        "north",
        "--attach",
        evidence.to_str().unwrap(),
        "--who",
        "op-north",
        "--db",
        db,
    ]));
    assert!(out.contains("recorded for beijing-14fyp/5"), "{out}");
    // A file that claims to be a PDF but is not is refused, nothing is stored.
    let o = rewater(&[
        "tasks",
        "update",
        "beijing-14fyp",
        "6",
        "--percent",
        "10",
        "--attach",
        fake.to_str().unwrap(),
        "--who",
        "op",
        "--db",
        db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("declared application/pdf but its content is")
    );
    let o = rewater(&[
        "tasks",
        "update",
        "beijing-14fyp",
        "99",
        "--percent",
        "1",
        "--who",
        "x",
        "--db",
        db,
    ]);
    assert_eq!(o.status.code(), Some(2));

    let list = |today: &str, status: &str| {
        ok(&rewater(&[
            "tasks",
            "list",
            "--register",
            "beijing-14fyp",
            "--status",
            status,
            "--today",
            today,
            "--db",
            db,
        ]))
    };
    // Before the deadline quarter everything else is on track; after it, overdue.
    assert_eq!(list("2025-12-01", "done").lines().count(), 1);
    assert!(list("2025-12-01", "done").starts_with("beijing-14fyp/5\t已完成\t2025-12-31\t100 %"));
    assert_eq!(list("2025-12-01", "due_soon").lines().count(), 47);
    assert_eq!(list("2025-06-01", "on_track").lines().count(), 48);
    assert_eq!(list("2026-01-01", "overdue").lines().count(), 47);
    let status = ok(&rewater(&[
        "tasks",
        "status",
        "--today",
        "2026-01-01",
        "--db",
        db,
        "--en",
    ]));
    assert!(
        status.contains(": 48 tasks; overdue 47, due soon 0, on track 0, done 1"),
        "{status}"
    );
    assert!(status.contains(": 22 tasks; overdue 22"), "{status}");
    assert!(status.contains(": 25 tasks; overdue 25"), "{status}");
    // The agriculture bureau leads or cooperates on measures 5, 6, 9, 12, 21, 29, 36 and 41.
    let agri = ok(&rewater(&[
        "tasks",
        "list",
        "--register",
        "beijing-14fyp",
        "--department",
        "agriculture",
    ]));
    let ids: Vec<&str> = agri
        .lines()
        .map(|l| l.split('\t').next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "beijing-14fyp/5",
            "beijing-14fyp/6",
            "beijing-14fyp/9",
            "beijing-14fyp/12",
            "beijing-14fyp/21",
            "beijing-14fyp/29",
            "beijing-14fyp/36",
            "beijing-14fyp/41"
        ]
    );
    // The plan-progress report counts the done task from the same store.
    ok(&rewater(&[
        "report",
        "plan-progress",
        &example(),
        "--out",
        dir.to_str().unwrap(),
        "--no-pdf",
        "--today",
        "2026-01-01",
        "--db",
        db,
    ]));
    let html = std::fs::read_to_string(dir.join("plan-progress.zh.html")).unwrap();
    assert!(
        html.contains("<td class=\"n\">48</td><td class=\"n\">47</td><td class=\"n\">0</td><td class=\"n\">0</td><td class=\"n\">1</td>"),
        "{html}"
    );
}

#[test]
fn a_village_chief_with_no_patrol_in_a_week_is_reported() {
    let dir = tmp("patrol");
    let db = dir.join("store.sqlite");
    let db = db.to_str().unwrap();
    ok(&rewater(&[
        "tasks",
        "chief",
        "v-01",
        "--name",
        "王五",
        "--level",
        "village",
        "--water-body",
        "北小河",
        "--district",
        "north",
        "--since",
        "2025-03-03",
        "--who",
        "admin",
        "--db",
        db,
    ]));
    let o = rewater(&[
        "tasks",
        "chief",
        "x",
        "--name",
        "n",
        "--level",
        "emperor",
        "--water-body",
        "w",
        "--since",
        "2025-03-03",
        "--who",
        "admin",
        "--db",
        db,
    ]);
    assert_eq!(o.status.code(), Some(2));
    for on in ["2025-03-04", "2025-03-18"] {
        ok(&rewater(&[
            "tasks", "patrol", "v-01", "--on", on, "--who", "v-01", "--db", db,
        ]));
    }
    // Weeks of 3, 10 and 17 March have ended by the 24th: the week of 10–16 March had none.
    let out = ok(&rewater(&[
        "tasks",
        "patrol-check",
        "--today",
        "2025-03-24",
        "--db",
        db,
    ]));
    assert_eq!(
        out,
        "v-01\t王五\tvillage\t2025-03-10 – 2025-03-16\t0/1\n1 period(s) short of the required patrols (1 chiefs checked)\n"
    );
}
