//! Time the generated SWMM `.inp` case (`synthetic::swmm_inp`) with the fast routing:
//! `cargo run --release -p rewater-overflow --example swmm_bench -- SUBCATCHMENTS YEARS [DIR [MODE [TREES [ROUTING]]]]`
//! (the same case as `rewater-bench overflow --swmm`; with DIR the files are written there
//! and kept, for SWMM to run on). MODE `stream` (the default) times `simulate`, the routing
//! running while the runoff is computed (independent outfall trees routed in parallel);
//! `one` the same with the system routed as one network; `serial` times the runoff on all
//! cores, then the routing, each on its own. TREES (default 1): the catchments in that
//! many independent outfall trees (`synthetic::swmm_inp_trees`). ROUTING: fast (the
//! default), steady or kinwave.

use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let subcatchments: usize = args.next().as_deref().unwrap_or("100").parse()?;
    let years: u32 = args.next().as_deref().unwrap_or("10").parse()?;
    let keep = args.next().map(std::path::PathBuf::from);
    let mode = args.next().unwrap_or_else(|| "stream".into());
    if !["stream", "one", "serial"].contains(&mode.as_str()) {
        return Err(format!("mode '{mode}': stream, one or serial").into());
    }
    let serial = mode == "serial";
    let trees: usize = args.next().as_deref().unwrap_or("1").parse()?;
    // ROUTING (default fast): as `--routing`, e.g. `kinwave` for the file's own.
    let routing: rewater_overflow::network::FlowRouting =
        args.next().as_deref().unwrap_or("fast").parse()?;
    let dir = keep.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("rewater-swmm-bench-{}", std::process::id()))
    });
    std::fs::create_dir_all(&dir)?;
    let (text, rain) = rewater_overflow::synthetic::swmm_inp_trees(subcatchments, trees, years, 11);
    std::fs::write(dir.join("case.inp"), text)?;
    std::fs::write(dir.join("rain.dat"), rain)?;
    let t0 = Instant::now();
    let options = rewater_overflow::inp::ImportOptions {
        routing: Some(routing),
        ..Default::default()
    };
    let system = rewater_overflow::inp::load(&dir.join("case.inp"), &options)?;
    let t_load = t0.elapsed();
    let t1 = Instant::now();
    let (report, split) = if serial {
        let runoff = rewater_overflow::route::compute_runoff(&system);
        let t_runoff = t1.elapsed();
        let t2 = Instant::now();
        let report = rewater_overflow::results::simulate_with(&system, &runoff);
        let split = format!(
            "runoff {:.3} s, routing + statistics {:.3} s",
            t_runoff.as_secs_f64(),
            t2.elapsed().as_secs_f64()
        );
        (report, split)
    } else {
        let report = if mode == "one" {
            let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
            rewater_overflow::results::simulate_threads(&system, threads, 1)
        } else {
            rewater_overflow::simulate(&system)
        };
        let split = format!(
            "runoff with routing + statistics {:.3} s",
            t1.elapsed().as_secs_f64()
        );
        (report, split)
    };
    println!(
        "{} subcatchments, {} nodes, {} steps of {} s; load {:.3} s, {split}, total {:.3} s",
        system.subcatchments.len(),
        system.nodes.len(),
        system.clock.steps,
        system.clock.step_s,
        t_load.as_secs_f64(),
        t0.elapsed().as_secs_f64()
    );
    println!(
        "overflow {:.0} m³/yr, {:.2} events/yr, flooding {:.0} m³, skipped steps {}, continuity {:.2e} %, routed in {} parts",
        report.summary.overflow_m3_per_year,
        report.summary.overflow_events_per_year,
        report.balance.flooding_m3,
        report.balance.routing.skipped_steps,
        report.balance.routing_continuity_error_pct,
        report.balance.routing.parallel_parts
    );
    // Every figure to the bit, to compare modes and builds.
    println!(
        "digest runoff {:e} m³, overflow {:e} m³/yr, events {:e}/yr, flooding {:e} m³, to treatment {:e} m³",
        report.balance.runoff.runoff_m3,
        report.summary.overflow_m3_per_year,
        report.summary.overflow_events_per_year,
        report.balance.flooding_m3,
        report.balance.to_treatment_m3
    );
    if keep.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
