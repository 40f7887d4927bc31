//! Planning-optimisation studies in process (issue 18 item 6): the Beijing study beside the
//! bundled model is listed; a small run's final front equals what rewater-optimise gives run
//! directly with the same study, seed, population and generations; hostile requests (unknown
//! study, too many generations, odd population, unknown field, a second run at once, viewers,
//! no login) are refused naming the field; a run is cancelled.

mod common;

use common::*;
use rewater_api::optimise::cost_reuse_indices;
use rewater_optimise::front::pareto_indices;
use rewater_optimise::{Problem, RunOptions, Serial};
use std::path::Path;
use std::time::{Duration, Instant};

fn wait_finished(a: &str, id: u64) -> serde_json::Value {
    let t0 = Instant::now();
    loop {
        let r = api(a, "GET", &format!("/api/optimise/runs/{id}"), "");
        assert_eq!(r.status, 200, "{}", r.body);
        let b = r.json();
        if b["status"] != "running" {
            return b;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "run {id} did not finish"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn genomes(points: &serde_json::Value) -> Vec<Vec<f64>> {
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["genome"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

#[test]
fn a_small_study_run_gives_the_front_of_a_direct_run() {
    let server = serve("optimise-front", Default::default());
    let a = &server.addr;
    let list = api(a, "GET", "/api/optimise/studies", "").json();
    let s = &list["studies"][0];
    assert_eq!(s["name"], "beijing-district");
    assert_eq!(s["population"], 60);
    assert_eq!(s["generations"], 30);
    assert_eq!(s["seed"], 2026);
    assert!(s["title_zh"].as_str().unwrap().contains("北京"), "{s}");
    let r = api(
        a,
        "POST",
        "/api/optimise/runs",
        r#"{"study":"beijing-district","generations":4,"population":12}"#,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["id"].as_u64().unwrap();
    let b = wait_finished(a, id);
    assert_eq!(b["status"], "done", "{b}");
    assert_eq!(b["generation"], 4);

    // The same study run directly.
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/beijing-district/optimise.toml");
    let mut p = Problem::load(&path, rewater_standards::Standards::builtin()).unwrap();
    p.study.search.population = 12;
    let opts = RunOptions {
        generations: Some(4),
        ..RunOptions::default()
    };
    let st = rewater_optimise::search(&p, &Serial, &opts, &mut |_| {}).unwrap();
    assert_eq!(
        b["evaluations"].as_u64().unwrap() as usize,
        st.archive.len()
    );
    assert_eq!(b["cache_hits"].as_u64().unwrap() as usize, st.cache_hits);
    assert_eq!(b["cloud"].as_array().unwrap().len(), st.archive.len());
    let front: Vec<Vec<f64>> = pareto_indices(&st.archive)
        .into_iter()
        .map(|i| st.archive[i].genome.clone())
        .collect();
    assert!(front.len() >= 2, "a front of {} designs", front.len());
    assert_eq!(genomes(&b["front"]), front);
    let cr = cost_reuse_indices(&p, &st.archive);
    assert_eq!(
        genomes(&b["cost_reuse"]),
        cr.iter()
            .map(|&i| st.archive[i].genome.clone())
            .collect::<Vec<_>>()
    );
    for (pt, &i) in b["cost_reuse"].as_array().unwrap().iter().zip(&cr) {
        let e = &st.archive[i].evaluation;
        assert_eq!(pt["annual_cost_yuan"].as_f64().unwrap(), e.annual_cost_yuan);
        assert_eq!(pt["capex_yuan"].as_f64().unwrap(), e.capex_yuan);
        assert_eq!(
            pt["reuse_rate"].as_f64().unwrap(),
            rewater_optimise::front::reuse_of(&p, e)
        );
        // Each design names every variable.
        assert_eq!(
            pt["design"].as_object().unwrap().len(),
            b["variables"].as_array().unwrap().len()
        );
    }
    // The least cost per target: the first cost–reuse point reaching it.
    for t in b["targets"].as_array().unwrap() {
        let target = t["target"].as_f64().unwrap();
        let want = b["cost_reuse"]
            .as_array()
            .unwrap()
            .iter()
            .position(|q| q["reuse_rate"].as_f64().unwrap() >= target - 1e-12);
        assert_eq!(t["point"].as_u64().map(|x| x as usize), want, "{t}");
    }
    // `since` sends only the later designs.
    let later = api(a, "GET", &format!("/api/optimise/runs/{id}?since=20"), "").json();
    assert_eq!(
        later["cloud"].as_array().unwrap().len(),
        st.archive.len() - 20
    );
    // The list shows the run.
    let list = api(a, "GET", "/api/optimise/studies", "").json();
    assert_eq!(list["runs"][0]["id"].as_u64(), Some(id));
    assert_eq!(list["runs"][0]["status"], "done");
}

#[test]
fn hostile_study_requests_are_refused() {
    let server = serve("optimise-hostile", Default::default());
    let a = &server.addr;
    let post = |body: &str| api(a, "POST", "/api/optimise/runs", body);
    let r = post(r#"{"study":"../../etc/passwd"}"#);
    assert_eq!(r.status, 404, "{}", r.body);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .starts_with("study: no study"));
    let r = post(r#"{"study":"beijing-district","generations":100000}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("generations: 100000"), "{}", r.body);
    let r = post(r#"{"study":"beijing-district","population":7}"#);
    assert_eq!(r.status, 400);
    assert!(r.body.contains("population: 7 must be even"), "{}", r.body);
    let r = post(r#"{"study":"beijing-district","population":-2}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("population"), "{}", r.body);
    let r = post(r#"{"study":"beijing-district","seeds":1}"#);
    assert_eq!(r.status, 400, "{}", r.body);
    assert!(r.body.contains("seeds"), "{}", r.body);
    // No login, and a viewer.
    let r = request(
        a,
        "POST",
        "/api/optimise/runs",
        &[],
        br#"{"study":"beijing-district"}"#,
    );
    assert_eq!(r.status, 401);
    assert_eq!(
        request(a, "GET", "/api/optimise/studies", &[], b"").status,
        401
    );
    let viewer = login(a, VIEWER.0, VIEWER.1);
    let r = as_session(
        a,
        &viewer,
        "POST",
        "/api/optimise/runs",
        r#"{"study":"beijing-district"}"#,
    );
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(
        as_session(a, &viewer, "GET", "/api/optimise/studies", "").status,
        200
    );
    // One run at a time; a long one is cancelled.
    let r = post(r#"{"study":"beijing-district","generations":200,"population":200}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let id = r.json()["id"].as_u64().unwrap();
    let r = post(r#"{"study":"beijing-district","generations":1,"population":4}"#);
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    let r = as_session(
        a,
        &viewer,
        "POST",
        &format!("/api/optimise/runs/{id}/cancel"),
        "",
    );
    assert_eq!(r.status, 403);
    let r = api(a, "POST", &format!("/api/optimise/runs/{id}/cancel"), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let b = wait_finished(a, id);
    assert_eq!(b["status"], "cancelled", "{b}");
    assert!(b["generation"].as_u64().unwrap() < 200);
    let r = api(a, "POST", &format!("/api/optimise/runs/{id}/cancel"), "");
    assert_eq!(r.status, 400);
    assert_eq!(api(a, "GET", "/api/optimise/runs/999", "").status, 404);
    // After the cancel a new run may start.
    let r = post(r#"{"study":"beijing-district","generations":0,"population":4}"#);
    assert_eq!(r.status, 200, "{}", r.body);
    let b = wait_finished(a, r.json()["id"].as_u64().unwrap());
    assert_eq!(b["status"], "done");
    assert_eq!(b["evaluations"], 4);
}
