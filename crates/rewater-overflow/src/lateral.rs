//! What reaches each node from outside the sewers (入流): every subcatchment's runoff —
//! computed first, on all cores, since it does not depend on the sewers (so tank sizing
//! re-runs only the routing) — and external inflows.

use crate::network::System;
use crate::runoff::{Forcing, RunoffBalance};
use crate::series::SparseSeries;

/// Runoff reaching each node (m³/s per step) and the surface water balance.
#[derive(Debug, Clone)]
pub struct Runoff {
    pub per_node: Vec<SparseSeries>,
    /// External time-series inflow reaching each node (m³/s per step).
    pub external: Vec<SparseSeries>,
    pub balance: RunoffBalance,
    /// When the routing runs while the runoff is computed ([`crate::stream`]): where the
    /// node runoff arrives (`per_node` is then empty).
    pub(crate) stream: Option<std::sync::Arc<crate::stream::Segments>>,
}

/// Compute every subcatchment's runoff, on all cores. Subcatchments that drain onto
/// others go first, level by level: their runoff (on the runoff grid, a step later, as in
/// SWMM) is the run-on of the next.
pub fn compute_runoff(system: &System) -> Runoff {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    compute_runoff_on(system, threads)
}

/// As [`compute_runoff`] on `threads` threads; the result does not depend on how many
/// (each subcatchment is run alone and the sums are taken in subcatchment order).
pub fn compute_runoff_on(system: &System, threads: usize) -> Runoff {
    let rclock = system.runoff_clock();
    let forcings: Vec<Forcing> = system
        .gages
        .iter()
        .map(|g| Forcing::new(&g.rain, &system.evaporation, rclock))
        .collect();
    let n = system.subcatchments.len();
    // Level: 0 for those nothing drains onto, else one more than their highest source.
    let mut level = vec![0usize; n];
    for _ in 0..n {
        let mut changed = false;
        for (k, sc) in system.subcatchments.iter().enumerate() {
            if let Some(to) = sc.runon_to.filter(|&t| t < n) {
                if level[to] < level[k] + 1 {
                    level[to] = level[k] + 1;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    let mut runon: Vec<Option<SparseSeries>> = vec![None; n];
    let mut per_node = vec![SparseSeries::default(); system.nodes.len()];
    let mut balance = RunoffBalance::default();
    let top = level.iter().copied().max().unwrap_or(0);
    for lv in 0..=top {
        let batch: Vec<usize> = (0..n).filter(|&k| level[k] == lv).collect();
        let mut done = run_batch(system, &forcings, rclock, &batch, &runon, threads);
        done.sort_unstable_by_key(|d| d.0);
        for (k, q, b) in done {
            balance.add(&b);
            let sc = &system.subcatchments[k];
            match sc.runon_to {
                Some(to) if to < n => {
                    runon[to]
                        .get_or_insert_with(SparseSeries::default)
                        .add(&q.shifted(1, rclock.steps));
                }
                _ => per_node[sc.outlet].add(&q.regrid(
                    rclock.step_s,
                    system.clock.step_s,
                    system.clock.steps,
                )),
            }
        }
    }
    let mut external = vec![SparseSeries::default(); system.nodes.len()];
    for inflow in &system.inflows {
        external[inflow.node].add(&inflow.on_clock(system.clock));
    }
    Runoff {
        per_node,
        external,
        balance,
        stream: None,
    }
}

/// Run the subcatchments `batch` in parallel; their runoff on the runoff grid.
fn run_batch(
    system: &System,
    forcings: &[Forcing],
    rclock: crate::runoff::Clock,
    batch: &[usize],
    runon: &[Option<SparseSeries>],
    threads: usize,
) -> Vec<(usize, SparseSeries, RunoffBalance)> {
    let threads = threads.clamp(1, batch.len().max(1));
    // The evaporation over the whole clock, once for every subcatchment: it is the
    // system's, the same in every gage's forcing.
    debug_assert!(forcings.windows(2).all(|f| f[0].evap == f[1].evap));
    let mut window = crate::runoff::EvapWindow::default();
    if let Some(f) = forcings.first() {
        f.evap_window(0, rclock.steps, &mut window);
    }
    let window = &window;
    // Subcatchments differ a lot in cost (rainy gage, slow pervious areas), so workers
    // take the next one from a shared counter rather than a fixed share.
    let next = std::sync::atomic::AtomicUsize::new(0);
    let next = &next;
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&k) = batch.get(i) else {
                            break;
                        };
                        let sc = &system.subcatchments[k];
                        let (q, b) = crate::runoff::simulate_in_window(
                            sc,
                            &forcings[sc.gage],
                            rclock,
                            runon[k].as_ref(),
                            window,
                        );
                        done.push((k, q, b));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            // A panic in a worker is a bug; re-raise it rather than lose its runoff.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}
