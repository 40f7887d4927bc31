//! Issue 18: `rewater validate` and `rewater run` print the plausibility warnings of a model
//! (item, field, English and Chinese) and still accept it.

use std::path::PathBuf;
use std::process::Command;

fn model(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-cli-issue18-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let path = d.join("model.toml");
    std::fs::write(
        &path,
        "format_version = 1\n[model]\nname = \"t\"\nstart = \"2025-01-01\"\ndays = 3\n\
         [[plant]]\nid = \"P\"\ncapacity_m3_per_day = 20\ninfluent_m3_per_day = 185000\n\
         [[user]]\nid = \"U\"\ncategory = \"urban_greening\"\ndemand_m3_per_day = 10\n\
         [[link]]\nfrom = \"P\"\nto = \"U\"\n",
    )
    .unwrap();
    path
}

fn rewater(args: &[&str]) -> (bool, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_rewater"))
        .args(args)
        .output()
        .unwrap();
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stdout).into_owned() + &String::from_utf8_lossy(&o.stderr),
    )
}

#[test]
fn validate_and_run_print_the_capacity_warning_with_its_field() {
    let path = model("capacity");
    let want = "plant P: field 'capacity_m3_per_day': capacity 20 m³/d is 9250 times smaller than the mean influent 185000 m³/d";
    let (ok, out) = rewater(&["validate", &path.display().to_string()]);
    assert!(ok, "{out}");
    assert!(out.contains(&format!("warning: {want}")), "{out}");
    assert!(out.contains("处理规模 20 m³/d"), "{out}");
    let dir = path.with_file_name("out");
    let (ok, out) = rewater(&[
        "run",
        &path.display().to_string(),
        "--out",
        &dir.display().to_string(),
        "--no-daily",
    ]);
    assert!(ok, "{out}");
    assert!(out.contains(want), "{out}");
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(summary.contains("capacity_m3_per_day"), "{summary}");
}
