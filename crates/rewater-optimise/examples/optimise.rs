//! The benchmark driver of docs/benchmarks.md: `cargo run --release -p rewater-optimise
//! --example optimise -- STUDY OUT [--serial]` runs a study as `rewater optimize` does
//! (without the CLI's service stack), writes the outputs and prints the timings.

use rewater_optimise::{outcome, output, search, Evaluator, Parallel, Problem, RunOptions, Serial};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(study), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: optimise STUDY OUT [--serial]".into());
    };
    let serial = args.iter().any(|a| a == "--serial");
    let t0 = Instant::now();
    let p = Problem::load(
        std::path::Path::new(study),
        rewater_standards::Standards::builtin(),
    )?;
    let ev: &dyn Evaluator = if serial { &Serial } else { &Parallel };
    let t1 = Instant::now();
    let opts = RunOptions {
        checkpoint: Some(std::path::Path::new(out).join("checkpoint.json")),
        ..Default::default()
    };
    std::fs::create_dir_all(out)?;
    let state = search(&p, ev, &opts, &mut |pr| {
        eprintln!(
            "generation {}/{}: {} designs, front {}, {:.1} s",
            pr.generation,
            pr.generations,
            pr.evaluations,
            pr.front_size,
            t1.elapsed().as_secs_f64()
        )
    })?;
    let t2 = Instant::now();
    let o = outcome(&p, &state.archive, state.generation, state.cache_hits)?;
    output::write_outputs(&o, std::path::Path::new(out))?;
    let t3 = Instant::now();
    println!(
        "variables {} scenarios {} evaluations {} cache_hits {} front {} cost_reuse_front {}",
        p.variables.len(),
        p.scenarios.len(),
        o.evaluations,
        o.cache_hits,
        o.front.len(),
        o.points_cost_reuse.len()
    );
    println!(
        "load {:.2} s, search {:.2} s ({:.1} ms per design-evaluation), outputs {:.2} s, total {:.2} s",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        (t2 - t1).as_secs_f64() * 1e3 / o.evaluations.max(1) as f64,
        (t3 - t2).as_secs_f64(),
        (t3 - t0).as_secs_f64()
    );
    for t in &o.targets {
        match t.point.and_then(|i| o.points_cost_reuse.get(i)) {
            Some(q) => println!(
                "target {:.2}: {:.0} yuan/year, reuse {:.4}",
                t.target, q.annual_cost_yuan, q.reuse_rate
            ),
            None => println!("target {:.2}: none", t.target),
        }
    }
    Ok(())
}
