//! Loads a model and runs it in process without output, for profiling the engine alone:
//! `cargo run --release -p rewater-engine --example engine_run -- MODEL.toml`, or
//! `… -- gen PLANTS PONDS USERS YEARS DIR` to write the synthetic model `rewater-bench gen` writes.

use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: engine_run MODEL.toml");
        std::process::exit(2);
    };
    if path == "gen" {
        let n: Vec<String> = std::env::args().skip(2).collect();
        let num = |i: usize| n.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(1);
        let spec = rewater_model::synthetic::SyntheticSpec {
            plants: num(0) as usize,
            ponds: num(1) as usize,
            users: num(2) as usize,
            years: num(3) as u32,
            seed: 1,
        };
        let dir = std::path::PathBuf::from(n.get(4).cloned().unwrap_or_else(|| ".".into()));
        let model = rewater_model::synthetic::synthetic_model(&spec);
        let text = toml::to_string(&model).unwrap_or_default();
        if let Err(e) =
            std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(dir.join("model.toml"), text))
        {
            eprintln!("{e}");
            std::process::exit(1);
        }
        return;
    }
    let t0 = Instant::now();
    let standards = rewater_standards::Standards::builtin();
    let region = match rewater_model::load(std::path::Path::new(&path), &standards) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let t_load = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    match rewater_engine::run(&region) {
        Ok(s) => {
            if let Some(out) = std::env::args().nth(2) {
                let mut s = s.clone();
                s.stats.solve_seconds = 0.0;
                let text = serde_json::to_string_pretty(&s).unwrap_or_default();
                if let Err(e) = std::fs::write(&out, text) {
                    eprintln!("{out}: {e}");
                }
            }
            println!(
            "load {t_load:.3} s, run {:.3} s, solves {}, pivots {}, solve {:.3} s, delivered {:.1} m3",
            t1.elapsed().as_secs_f64(),
            s.stats.solves,
            s.stats.pivots,
            s.stats.solve_seconds,
            s.delivered_m3
        )
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
