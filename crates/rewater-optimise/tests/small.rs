//! Small studies with fronts enumerated exhaustively: the search finds the same front;
//! parallel and serial searches agree; checkpoints resume to the same result.

use rewater_optimise::front::pareto_indices;
use rewater_optimise::nsga::hypervolume_2d;
use rewater_optimise::run::{all_designs, Evaluated};
use rewater_optimise::*;
use rewater_standards::Standards;
use std::path::{Path, PathBuf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/small")
        .join(name)
}

fn problem(name: &str) -> Problem {
    match Problem::load(&data(name), Standards::builtin()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("rewater-opt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Objective vectors of the feasible non-dominated designs, sorted.
fn front_of(archive: &[Evaluated]) -> Vec<Vec<f64>> {
    let mut f: Vec<Vec<f64>> = pareto_indices(archive)
        .into_iter()
        .map(|i| archive[i].evaluation.objectives.clone())
        .collect();
    f.sort_by(|a, b| a[0].total_cmp(&b[0]));
    f
}

#[test]
fn discrete_front_equals_the_enumerated_front() {
    let p = problem("study.toml");
    assert_eq!(p.variables.len(), 4);
    let all = all_designs(&p, 1000).expect("all choices");
    assert_eq!(all.len(), 3 * 4 * 2 * 2);
    let evs = Serial.evaluate_batch(&p, &all).unwrap();
    let archive: Vec<Evaluated> = all
        .into_iter()
        .zip(evs)
        .map(|(genome, evaluation)| Evaluated { genome, evaluation })
        .collect();
    let truth = front_of(&archive);
    assert!(truth.len() >= 4, "a front worth testing: {truth:?}");
    // Without the 2,000 m³/d expansion the plant bypasses 2,000 m³/d: never feasible.
    for i in pareto_indices(&archive) {
        assert_eq!(
            p.describe(&archive[i].genome)["plant:plant:added_m3_per_day"],
            "+2000 m3/d"
        );
    }
    let state = search(&p, &Serial, &RunOptions::default(), &mut |_| {}).unwrap();
    assert!(state.archive.len() < 48 + 1);
    assert_eq!(front_of(&state.archive), truth);
}

#[test]
fn hand_computed_cost_and_reuse_of_one_design() {
    let p = problem("study.toml");
    // 4 ha wetland, DN300, +2000 m³/d, park connected.
    let g = vec![2.0, 2.0, 1.0, 1.0];
    let (e, sums) = evaluate(&p, &g).unwrap();
    let crf = |r: f64, n: f64| r / (1.0 - (1.0 + r).powf(-n));
    let a = crf(0.05, 20.0);
    let cost = 4e6 * a
        + 4.0 * 20_000.0
        + 1.2e6 * 3.0 * a
        + 2000.0 * 1500.0 * a
        + 2000.0 * 30.0
        + 500_000.0 * a;
    assert!(
        (e.annual_cost_yuan - cost).abs() < 1e-6 * cost,
        "{} vs {cost}",
        e.annual_cost_yuan
    );
    // 10,000 m³/d treated; the pipe carries 4,000 (factory 3,000 + park 1,000 of 2,500);
    // the 4 ha wetland passes 4,000 m³/d, 3,000 to the stream: 7,000 of 10,000 reused.
    let s = &sums[0];
    assert!((s.treated_m3 - 10_000.0 * 20.0).abs() < 1e-6);
    assert!((e.objectives[1] - 0.7).abs() < 1e-9, "{}", e.objectives[1]);
    assert_eq!(e.violation, 0.0);
}

#[test]
fn parallel_search_equals_serial_and_resume_continues_the_same_run() {
    let p = problem("study.toml");
    let serial = search(&p, &Serial, &RunOptions::default(), &mut |_| {}).unwrap();
    let parallel = search(&p, &Parallel, &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(serial, parallel);
    // Stop after 5 generations, resume to the end: the same state as one run.
    let dir = tmp("resume");
    let cp = dir.join("checkpoint.json");
    let first = RunOptions {
        checkpoint: Some(cp.clone()),
        resume: false,
        generations: Some(5),
    };
    let half = search(&p, &Serial, &first, &mut |_| {}).unwrap();
    assert_eq!(half.generation, 5);
    let rest = RunOptions {
        checkpoint: Some(cp.clone()),
        resume: true,
        generations: None,
    };
    let mut seen = Vec::new();
    let resumed = search(&p, &Serial, &rest, &mut |pr| seen.push(pr.generation)).unwrap();
    assert_eq!(seen.first(), Some(&5));
    assert_eq!(resumed, serial);
    // The same seed again gives the same run; another seed another sequence.
    let again = search(&p, &Serial, &RunOptions::default(), &mut |_| {}).unwrap();
    assert_eq!(again, serial);
}

#[test]
fn continuous_front_has_the_hypervolume_of_a_fine_grid() {
    let p = problem("study_continuous.toml");
    let state = search(&p, &Parallel, &RunOptions::default(), &mut |_| {}).unwrap();
    let pts = |a: &[Evaluated]| -> Vec<(f64, f64)> {
        pareto_indices(a)
            .into_iter()
            .map(|i| {
                (
                    a[i].evaluation.objectives[0],
                    -a[i].evaluation.objectives[1],
                )
            })
            .collect()
    };
    let grid: Vec<Vec<f64>> = (0..=480)
        .map(|k| vec![0.2 + 0.01 * k as f64, 1.0])
        .chain([vec![0.2, 0.0]])
        .collect();
    let evs = Parallel.evaluate_batch(&p, &grid).unwrap();
    let truth: Vec<Evaluated> = grid
        .into_iter()
        .zip(evs)
        .map(|(genome, evaluation)| Evaluated { genome, evaluation })
        .collect();
    let tp = pts(&truth);
    let reference = (tp.iter().map(|x| x.0).fold(0.0, f64::max) * 1.1, 0.0);
    let hv_true = hypervolume_2d(&tp, reference);
    let hv = hypervolume_2d(&pts(&state.archive), reference);
    assert!(hv_true > 0.0);
    assert!(
        (hv - hv_true).abs() / hv_true < 0.01,
        "hypervolume {hv} vs {hv_true}"
    );
}

#[test]
fn outputs_are_written() {
    let p = problem("study.toml");
    let state = search(&p, &Parallel, &RunOptions::default(), &mut |_| {}).unwrap();
    let o = outcome(&p, &state.archive, state.generation, state.cache_hits).unwrap();
    let dir = tmp("out");
    rewater_optimise::output::write_outputs(&o, &dir).unwrap();
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("front.json")).unwrap()).unwrap();
    assert_eq!(json["front"].as_array().unwrap().len(), o.front.len());
    assert_eq!(json["front"][0]["summaries"].as_array().unwrap().len(), 1);
    let csv = std::fs::read_to_string(dir.join("front.csv")).unwrap();
    assert_eq!(csv.lines().count(), o.front.len() + 1);
    let html = std::fs::read_to_string(dir.join("front.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("再生水利用率") && html.contains("Reuse rate"));
    // Marginal cost along the cost–reuse front: extra cost over extra water.
    for (m, w) in o.marginal.iter().zip(o.points_cost_reuse.windows(2)) {
        let dc = w[1].annual_cost_yuan - w[0].annual_cost_yuan;
        let dv = w[1].delivered_m3_per_year - w[0].delivered_m3_per_year;
        assert!(dv > 0.0);
        assert!((m.yuan_per_m3.unwrap() - dc / dv).abs() < 1e-9);
    }
}

#[test]
fn a_checkpoint_of_another_study_or_with_a_bad_design_is_refused() {
    let p = problem("study.toml");
    let dir = tmp("badcp");
    let cp = dir.join("checkpoint.json");
    let opts = RunOptions {
        checkpoint: Some(cp.clone()),
        resume: false,
        generations: Some(1),
    };
    search(&p, &Serial, &opts, &mut |_| {}).unwrap();
    let text = std::fs::read_to_string(&cp).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["population"][0][1] = serde_json::json!(17.0);
    std::fs::write(&cp, v.to_string()).unwrap();
    let resume = RunOptions {
        resume: true,
        ..opts.clone()
    };
    let e = search(&p, &Serial, &resume, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("checkpoint.json") && e.contains("not a design"),
        "{e}"
    );
    v["fingerprint"] = serde_json::json!("0000");
    std::fs::write(&cp, v.to_string()).unwrap();
    let e = search(&p, &Serial, &resume, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("another study"), "{e}");
    std::fs::write(&cp, "{\"format\": 1, \"seed\": \"x\"}").unwrap();
    let e = search(&p, &Serial, &resume, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field 'seed'") || e.contains("fingerprint"),
        "{e}"
    );
}
