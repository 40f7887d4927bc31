//! Hostile model files (issue 12, findings 2 and 9): series paths out of the model's directory,
//! special files, oversized files and horizons, and too many nodes or links. Each is refused
//! with an error naming the model file, line and field, never revealing what lies outside.

use rewater_model::{load, load_with, LoadOptions, ModelErrors, Region};
use rewater_standards::Standards;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-hostile-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const MODEL: &str = r#"format_version = 1
[model]
name = "t"
start = "2025-01-01"
days = 3

[[plant]]
id = "P"
capacity_m3_per_day = 1000
influent_series = { csv = "SERIES", column = "flow" }

[[user]]
id = "U"
category = "urban_greening"
demand_m3_per_day = 100

[[link]]
from = "P"
to = "U"
"#;

/// Line of `influent_series` in MODEL.
const SERIES_LINE: &str = "model.toml:10:";

const GOOD_CSV: &str = "date,flow\n2025-01-01,1\n2025-01-02,2\n2025-01-03,3\n";
/// Contents of a file outside the model's directory; no error may show them.
/// Its value has a decimal point so that no temporary path (with the process id) contains it.
const SECRET_CSV: &str = "date,flow,secret_column\n2025-01-01,1,31415.9265\n";

/// Writes the model with `series` as its CSV path into `dir` and loads it under `options`,
/// on a thread so that a load that blocks fails the test instead of hanging it.
fn load_series(dir: &Path, series: &str, options: Option<LoadOptions>) -> Result<Region, String> {
    let path = dir.join("model.toml");
    std::fs::write(&path, MODEL.replace("SERIES", series)).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let standards = Standards::builtin();
        let r = match options {
            Some(o) => load_with(&path, &standards, &o),
            None => load(&path, &standards),
        };
        let _ = tx.send(r.map_err(|e: ModelErrors| e.to_string()));
    });
    rx.recv_timeout(Duration::from_secs(20))
        .expect("loading must not block")
}

fn upload(dir: &Path) -> Option<LoadOptions> {
    Some(LoadOptions::upload(dir))
}

/// A directory beside the model's, holding a CSV an attacker would like to read.
fn outside_file(name: &str) -> PathBuf {
    let d = fresh_dir(&format!("{name}-outside"));
    let f = d.join("secret.csv");
    std::fs::write(&f, SECRET_CSV).unwrap();
    f
}

fn assert_refused(m: &str, want: &str) {
    assert!(
        m.contains(SERIES_LINE)
            && m.contains("plant P")
            && m.contains("field 'influent_series'")
            && m.contains(want),
        "{m}"
    );
    assert!(
        !m.contains("secret_column") && !m.contains("columns:") && !m.contains("15.9265"),
        "leaks: {m}"
    );
}

#[test]
fn a_confined_model_with_series_inside_its_directory_loads() {
    let d = fresh_dir("inside");
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(d.join("data/in.csv"), GOOD_CSV).unwrap();
    let r = load_series(&d, "data/in.csv", upload(&d)).unwrap();
    assert_eq!(r.days, 3);
    // A symbolic link that stays inside is fine.
    std::os::unix::fs::symlink(d.join("data/in.csv"), d.join("link.csv")).unwrap();
    let r = load_series(&d, "./link.csv", upload(&d)).unwrap();
    let rewater_model::NodeKind::Plant(p) = &r.nodes[0].kind else {
        panic!("plant first")
    };
    assert_eq!(p.influent_m3_per_day.at(2, 1), 3.0);
}

#[test]
fn the_beijing_example_loads_as_an_upload() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district");
    let r = load_with(
        &dir.join("model.toml"),
        &Standards::builtin(),
        &LoadOptions::upload(&dir),
    )
    .unwrap();
    assert_eq!(r.nodes.len(), 14);
}

#[test]
fn a_symlink_out_of_the_directory_is_refused_without_telling_if_the_target_exists() {
    let d = fresh_dir("symlink");
    let secret = outside_file("symlink");
    std::os::unix::fs::symlink(&secret, d.join("in.csv")).unwrap();
    std::os::unix::fs::symlink(secret.with_file_name("missing.csv"), d.join("gone.csv")).unwrap();
    let existing = load_series(&d, "in.csv", upload(&d)).unwrap_err();
    assert_refused(&existing, "must stay inside the model's directory");
    let missing = load_series(&d, "gone.csv", upload(&d)).unwrap_err();
    assert_eq!(
        existing.replace("in.csv", "X"),
        missing.replace("gone.csv", "X")
    );
    // A link to a directory outside, then a file below it.
    std::os::unix::fs::symlink(secret.parent().unwrap(), d.join("up")).unwrap();
    let m = load_series(&d, "up/secret.csv", upload(&d)).unwrap_err();
    assert_refused(&m, "must stay inside the model's directory");
    let m2 = load_series(&d, "up/missing.csv", upload(&d)).unwrap_err();
    assert_eq!(m.replace("secret.csv", "X"), m2.replace("missing.csv", "X"));
}

#[test]
fn dot_dot_and_absolute_paths_are_refused_whether_or_not_they_exist() {
    let d = fresh_dir("dotdot");
    let secret = outside_file("dotdot");
    let name = secret
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap();
    let want = "series path must be relative, without '..'";
    let up = format!("../{name}/secret.csv");
    let m = load_series(&d, &up, upload(&d)).unwrap_err();
    assert_refused(&m, want);
    let m2 = load_series(&d, &format!("../{name}/missing.csv"), upload(&d)).unwrap_err();
    assert_eq!(m.replace("secret.csv", "X"), m2.replace("missing.csv", "X"));
    for p in [
        secret.to_str().unwrap(),
        "/etc/passwd",
        "data/../../x.csv",
        "C:\\\\data\\\\x.csv",
        "c:x.csv",
        "",
    ] {
        let m = load_series(&d, p, upload(&d)).unwrap_err();
        assert_refused(&m, want);
    }
}

#[test]
fn dev_zero_is_refused_confined_or_not() {
    let d = fresh_dir("devzero");
    let m = load_series(&d, "/dev/zero", upload(&d)).unwrap_err();
    assert_refused(&m, "series path must be relative");
    std::os::unix::fs::symlink("/dev/zero", d.join("zero.csv")).unwrap();
    let m = load_series(&d, "zero.csv", upload(&d)).unwrap_err();
    assert_refused(&m, "must stay inside the model's directory");
    // The operator's own CLI load: not confined, but still no endless read.
    let m = load_series(&d, "/dev/zero", None).unwrap_err();
    assert_refused(&m, "series file is not a regular file");
}

#[test]
fn a_fifo_or_a_directory_is_refused_without_blocking() {
    let d = fresh_dir("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(d.join("pipe.csv"))
        .status()
        .unwrap();
    assert!(ok.success());
    for options in [upload(&d), None] {
        let m = load_series(&d, "pipe.csv", options).unwrap_err();
        assert_refused(&m, "series file is not a regular file");
    }
    std::fs::create_dir_all(d.join("data")).unwrap();
    let m = load_series(&d, "data", upload(&d)).unwrap_err();
    assert_refused(&m, "series file is not a regular file");
}

#[test]
fn an_oversized_series_is_refused_before_it_is_read() {
    let d = fresh_dir("big");
    // Sparse: 65 MiB that would take no time to refuse and long to read.
    let f = std::fs::File::create(d.join("big.csv")).unwrap();
    f.set_len(65 << 20).unwrap();
    let m = load_series(&d, "big.csv", upload(&d)).unwrap_err();
    assert_refused(&m, "larger than the limit of 67108864 bytes");
    // A small cap, on a well-formed file.
    std::fs::write(d.join("in.csv"), GOOD_CSV).unwrap();
    let small = LoadOptions {
        max_series_bytes: 20,
        ..LoadOptions::upload(&d)
    };
    let m = load_series(&d, "in.csv", Some(small)).unwrap_err();
    assert_refused(&m, "larger than the limit of 20 bytes");
}

/// A regular file whose contents outgrow its stated size (Linux reports 0 bytes for /proc
/// files): the bounded reader stops at the cap.
#[cfg(target_os = "linux")]
#[test]
fn a_file_longer_than_its_stated_size_stops_at_the_cap() {
    let d = fresh_dir("proc");
    let meta = std::fs::metadata("/proc/self/maps").unwrap();
    assert_eq!(meta.len(), 0);
    let capped = LoadOptions {
        max_series_bytes: 64,
        ..LoadOptions::default()
    };
    let m = load_series(&d, "/proc/self/maps", Some(capped)).unwrap_err();
    assert_refused(&m, "larger than the limit of 64 bytes");
}

#[test]
fn a_horizon_to_the_year_9999_is_refused() {
    let d = fresh_dir("end9999");
    let text = MODEL.replace("days = 3", "end = \"9999-12-31\"").replace(
        "influent_series = { csv = \"SERIES\", column = \"flow\" }",
        "influent_m3_per_day = 800",
    );
    let path = d.join("model.toml");
    std::fs::write(&path, text).unwrap();
    let e = load(&path, &Standards::builtin()).unwrap_err();
    assert_eq!(e.0.len(), 1, "{e}");
    let m = e.to_string();
    assert!(
        m.contains("model.toml:5:")
            && m.contains("field 'end'")
            && m.contains("2025-01-01 to 9999-12-31 is 2912808 days, more than the limit of 36600"),
        "{m}"
    );
    // The last day allowed still loads.
    let ok = MODEL.replace("days = 3", "end = \"2125-03-17\"").replace(
        "influent_series = { csv = \"SERIES\", column = \"flow\" }",
        "influent_m3_per_day = 800",
    );
    std::fs::write(&path, ok).unwrap();
    assert_eq!(load(&path, &Standards::builtin()).unwrap().days, 36_600);
    let days = MODEL.replace("days = 3", "days = 36601");
    std::fs::write(&path, days).unwrap();
    let m = load(&path, &Standards::builtin()).unwrap_err().to_string();
    assert!(m.contains("36601 is outside 1–36600"), "{m}");
}

#[test]
fn too_many_nodes_links_or_series_values_are_refused() {
    let d = fresh_dir("counts");
    std::fs::write(d.join("in.csv"), GOOD_CSV).unwrap();
    let few_nodes = LoadOptions {
        max_nodes: 1,
        ..LoadOptions::upload(&d)
    };
    let m = load_series(&d, "in.csv", Some(few_nodes)).unwrap_err();
    assert!(m.contains("2 nodes, more than the limit of 1"), "{m}");
    let no_links = LoadOptions {
        max_links: 0,
        ..LoadOptions::upload(&d)
    };
    let m = load_series(&d, "in.csv", Some(no_links)).unwrap_err();
    assert!(m.contains("1 links, more than the limit of 0"), "{m}");
    let few_values = LoadOptions {
        max_series_values: 2,
        ..LoadOptions::upload(&d)
    };
    let m = load_series(&d, "in.csv", Some(few_values)).unwrap_err();
    assert_refused(&m, "would hold more than 2 values");
}

#[test]
fn the_model_file_itself_must_be_a_regular_file_within_its_cap() {
    let standards = Standards::builtin();
    let m = load(Path::new("/dev/zero"), &standards)
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("/dev/zero") && m.contains("not a regular file"),
        "{m}"
    );
    let d = fresh_dir("modelcap");
    let path = d.join("model.toml");
    std::fs::write(&path, MODEL).unwrap();
    let small = LoadOptions {
        max_model_bytes: 100,
        ..LoadOptions::upload(&d)
    };
    let m = load_with(&path, &standards, &small)
        .unwrap_err()
        .to_string();
    assert!(m.contains("larger than the limit of 100 bytes"), "{m}");
}

/// Each listed problem searches the text for its line; a model with tens of thousands of
/// problems lists the first hundred and counts the rest, instead of scanning for each.
#[test]
fn tens_of_thousands_of_bad_links_are_counted_past_the_first_hundred() {
    let d = fresh_dir("manyerrors");
    let mut text = MODEL.replace(
        "influent_series = { csv = \"SERIES\", column = \"flow\" }",
        "influent_m3_per_day = 800",
    );
    for i in 0..50_000 {
        text.push_str(&format!("[[link]]\nfrom = \"P\"\nto = \"X{i}\"\n"));
    }
    let path = d.join("model.toml");
    std::fs::write(&path, text).unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(load(&path, &Standards::builtin()));
    });
    let e = rx
        .recv_timeout(Duration::from_secs(120))
        .expect("a model with many problems must load quickly")
        .unwrap_err();
    assert_eq!(e.0.len(), 101);
    let first = e.0[0].to_string();
    assert!(
        first.contains("link P->X0") && first.contains("field 'to'") && first.contains("'X0'"),
        "{first}"
    );
    assert_eq!(
        e.0[100].message,
        "and 49900 more problems (only the first 100 are listed)"
    );
}
