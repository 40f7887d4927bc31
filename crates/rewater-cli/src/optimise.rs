//! `rewater optimize STUDY --out DIR` and `rewater worker STUDY` (issue 18): the planning
//! optimisation of rewater-optimise, with a progress bar; evaluations locally (rayon) or on
//! NATS JetStream workers.

use crate::input_err;
use anyhow::{Context, Result};
use clap::Args;
use rewater_optimise::front::reuse_of;
use rewater_optimise::{Evaluator, Problem, RunOptions};
use rewater_standards::Standards;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

/// Flags of `rewater optimize`.
#[derive(Args)]
pub struct OptimizeArgs {
    /// The study file (TOML or JSON; see docs/optimise.md and `schema/study.schema.json`).
    pub study: PathBuf,
    /// Output folder: front.json, front.csv, cost_reuse.csv, front.html, checkpoint.json.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue from OUT/checkpoint.json (written after every generation).
    #[arg(long)]
    pub resume: bool,
    /// Generations (overrides the study's `search.generations`).
    #[arg(long)]
    pub generations: Option<usize>,
    /// Evaluate one design after the other (no rayon).
    #[arg(long)]
    pub serial: bool,
    /// Evaluate on `rewater worker`s through NATS JetStream at this address
    /// (e.g. nats://127.0.0.1:4222) instead of locally.
    #[arg(long)]
    pub nats: Option<String>,
    /// Subject prefix on NATS (the workers must use the same).
    #[arg(long, default_value = "rewater.opt")]
    pub namespace: String,
    /// No progress bar and no report on standard output.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Flags of `rewater worker`.
#[derive(Args)]
pub struct WorkerArgs {
    /// The study whose evaluations to serve (the same file and models as the coordinator's).
    pub study: PathBuf,
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    #[arg(long, default_value = "rewater.opt")]
    pub namespace: String,
    /// Jobs fetched and evaluated in parallel at a time (default: the number of CPUs).
    #[arg(long)]
    pub batch: Option<usize>,
    /// Stop after this many seconds without a job (default: run until interrupted).
    #[arg(long)]
    pub idle_exit: Option<u64>,
}

fn load(study: &std::path::Path, standards: &Standards) -> Result<Problem> {
    Problem::load(study, standards.clone()).map_err(input_err)
}

/// `rewater optimize`.
pub fn optimize(a: OptimizeArgs, standards: &Standards) -> Result<()> {
    let p = load(&a.study, standards)?;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let local_serial = rewater_optimise::Serial;
    let local = rewater_optimise::Parallel;
    #[cfg(feature = "nats")]
    let remote = match &a.nats {
        Some(url) => Some(
            rewater_optimise::worker::NatsEvaluator::connect(
                rewater_optimise::worker::NatsOptions {
                    url: url.clone(),
                    namespace: a.namespace.clone(),
                    ..Default::default()
                },
            )
            .map_err(anyhow::Error::new)?,
        ),
        None => None,
    };
    #[cfg(not(feature = "nats"))]
    if a.nats.is_some() {
        return Err(input_err(format!(
            "--nats: this build has no NATS support (build rewater-cli with feature nats); namespace {}",
            a.namespace
        )));
    }
    let ev: &dyn Evaluator = {
        #[cfg(feature = "nats")]
        {
            match &remote {
                Some(r) => r,
                None if a.serial => &local_serial,
                None => &local,
            }
        }
        #[cfg(not(feature = "nats"))]
        {
            if a.serial {
                &local_serial
            } else {
                &local
            }
        }
    };
    let generations = a.generations.unwrap_or(p.study.search.generations);
    let bar = (!a.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(generations as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} generation {pos}/{len} · {msg} · {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let opts = RunOptions {
        checkpoint: Some(a.out.join("checkpoint.json")),
        resume: a.resume,
        generations: a.generations,
    };
    let started = std::time::Instant::now();
    let state = rewater_optimise::search(&p, ev, &opts, &mut |pr| {
        if let Some(b) = &bar {
            b.set_position(pr.generation as u64);
            b.set_message(format!(
                "{} designs evaluated, {} cached, front {}",
                pr.evaluations, pr.cache_hits, pr.front_size
            ));
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let o = rewater_optimise::outcome(&p, &state.archive, state.generation, state.cache_hits)?;
    rewater_optimise::output::write_outputs(&o, &a.out)
        .with_context(|| format!("writing to {}", a.out.display()))?;
    if a.quiet {
        return Ok(());
    }
    let mut w = std::io::stdout().lock();
    writeln!(
        w,
        "{} / {}\n{} generations, {} designs evaluated ({} cache hits) in {:.1} s; Pareto front: {} designs, cost–reuse front: {}",
        o.study.zh,
        o.study.en,
        state.generation,
        o.evaluations,
        o.cache_hits,
        started.elapsed().as_secs_f64(),
        o.front.len(),
        o.points_cost_reuse.len()
    )?;
    for t in &o.targets {
        match t.point.and_then(|i| o.points_cost_reuse.get(i)) {
            Some(pt) => writeln!(
                w,
                "  reuse ≥ {:.0} % (利用率): least cost {:.0} yuan/year (capex {:.0}), reuse {:.1} %",
                t.target * 100.0,
                pt.annual_cost_yuan,
                pt.capex_yuan,
                reuse_of(&p, &pt.evaluation) * 100.0
            )?,
            None => writeln!(
                w,
                "  reuse ≥ {:.0} % (利用率): no feasible design found",
                t.target * 100.0
            )?,
        }
    }
    writeln!(w, "Outputs in {}", a.out.display())?;
    Ok(())
}

/// `rewater worker`.
#[cfg(feature = "nats")]
pub fn worker(a: WorkerArgs, standards: &Standards) -> Result<()> {
    use rewater_optimise::worker::{run_worker, NatsOptions, WorkerOptions};
    let p = load(&a.study, standards)?;
    let o = WorkerOptions {
        nats: NatsOptions {
            url: a.nats.clone(),
            namespace: a.namespace.clone(),
            ..Default::default()
        },
        batch: a.batch.unwrap_or_else(rayon_threads),
        stop: std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)),
        idle_exit: a.idle_exit.map(std::time::Duration::from_secs),
    };
    eprintln!(
        "rewater worker: study {} (fingerprint {}), {} at {}",
        a.study.display(),
        p.fingerprint,
        a.namespace,
        a.nats
    );
    let stats = run_worker(&p, &o, &mut |_| {})?;
    eprintln!(
        "rewater worker: {} jobs done, {} refused",
        stats.jobs, stats.rejected
    );
    Ok(())
}

#[cfg(feature = "nats")]
fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// `rewater worker` in a build without NATS.
#[cfg(not(feature = "nats"))]
pub fn worker(a: WorkerArgs, _standards: &Standards) -> Result<()> {
    Err(input_err(format!(
        "rewater worker {}: this build has no NATS support (feature nats)",
        a.study.display()
    )))
}
