//! The search loop: evaluators (serial, rayon, or remote), the cache of evaluated designs,
//! checkpoints (JSON, written after every generation, resumed from), progress.

use crate::eval::{evaluate, EvalError, Evaluation};
use crate::nsga::{self, Rng};
use crate::problem::{Problem, VarKind};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Evaluates a batch of designs; results in the order of the designs.
pub trait Evaluator: Sync {
    fn evaluate_batch(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError>;
}

/// One design after the other.
pub struct Serial;

impl Evaluator for Serial {
    fn evaluate_batch(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError> {
        designs
            .iter()
            .map(|g| evaluate(p, g).map(|e| e.0))
            .collect()
    }
}

/// Designs in parallel on rayon's pool (results identical to [`Serial`]: each evaluation is
/// independent and deterministic, and the order is kept).
pub struct Parallel;

impl Evaluator for Parallel {
    fn evaluate_batch(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError> {
        designs
            .par_iter()
            .map(|g| evaluate(p, g).map(|e| e.0))
            .collect()
    }
}

/// The cache key of a genome (its exact bits).
pub fn key(g: &[f64]) -> Vec<u64> {
    g.iter().map(|x| x.to_bits()).collect()
}

/// One evaluated design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluated {
    pub genome: Vec<f64>,
    pub evaluation: Evaluation,
}

/// The state of a search, as checkpointed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchState {
    pub format: u32,
    pub fingerprint: String,
    pub seed: u64,
    pub population_size: usize,
    /// Generations done (0 after the initial population).
    pub generation: usize,
    pub rng: Rng,
    pub population: Vec<Vec<f64>>,
    /// Every design evaluated so far, in the order first evaluated.
    pub archive: Vec<Evaluated>,
    /// Designs asked for that were already in the archive.
    pub cache_hits: usize,
}

/// What the progress callback is told after each generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub generation: usize,
    pub generations: usize,
    pub evaluations: usize,
    pub cache_hits: usize,
    pub front_size: usize,
}

/// Why a search stopped.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error("checkpoint {path}: {message}")]
    Checkpoint { path: String, message: String },
}

/// Options of one search run.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Write the state here after every generation.
    pub checkpoint: Option<PathBuf>,
    /// Continue from the checkpoint if it exists.
    pub resume: bool,
    /// Override the study's generation count.
    pub generations: Option<usize>,
}

struct Archive {
    index: BTreeMap<Vec<u64>, usize>,
    state: SearchState,
}

impl Archive {
    fn get(&self, g: &[f64]) -> Option<&Evaluation> {
        self.index
            .get(&key(g))
            .map(|&i| &self.state.archive[i].evaluation)
    }

    /// Evaluates the designs not yet in the archive (each once), adds them.
    fn fill(
        &mut self,
        p: &Problem,
        ev: &dyn Evaluator,
        designs: &[Vec<f64>],
    ) -> Result<(), EvalError> {
        let mut todo: Vec<Vec<f64>> = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for g in designs {
            let k = key(g);
            if self.index.contains_key(&k) || !seen.insert(k) {
                self.state.cache_hits += 1;
            } else {
                todo.push(g.clone());
            }
        }
        if todo.is_empty() {
            return Ok(());
        }
        let evs = ev.evaluate_batch(p, &todo)?;
        for (g, e) in todo.into_iter().zip(evs) {
            self.index.insert(key(&g), self.state.archive.len());
            self.state.archive.push(Evaluated {
                genome: g,
                evaluation: e,
            });
        }
        Ok(())
    }

    fn objectives(&self, pop: &[Vec<f64>]) -> (Vec<Vec<f64>>, Vec<f64>) {
        pop.iter()
            .map(|g| {
                let e = self.get(g).expect("evaluated before ranking");
                (e.minimised(), e.violation)
            })
            .unzip()
    }
}

fn write_checkpoint(path: &Path, s: &SearchState) -> Result<(), SearchError> {
    let err = |m: String| SearchError::Checkpoint {
        path: path.display().to_string(),
        message: m,
    };
    let text = serde_json::to_vec(s).map_err(|e| err(e.to_string()))?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).map_err(|e| err(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| err(e.to_string()))
}

/// Reads a checkpoint, refusing one of another study or population size.
pub fn read_checkpoint(path: &Path, p: &Problem) -> Result<SearchState, SearchError> {
    let err = |m: String| SearchError::Checkpoint {
        path: path.display().to_string(),
        message: m,
    };
    let text = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    let de = &mut serde_json::Deserializer::from_slice(&text);
    let s: SearchState = serde_path_to_error::deserialize(de)
        .map_err(|e| err(format!("field '{}': {}", e.path(), e.inner())))?;
    if s.fingerprint != p.fingerprint {
        return Err(err(format!(
            "written for another study or model (fingerprint {} ≠ {})",
            s.fingerprint, p.fingerprint
        )));
    }
    if s.population_size != p.study.search.population || s.seed != p.study.search.seed {
        return Err(err("written with another population size or seed".into()));
    }
    let n = p.variables.len();
    if let Some(g) = s
        .population
        .iter()
        .chain(s.archive.iter().map(|a| &a.genome))
        .find(|g| !p.is_design(g))
    {
        return Err(err(format!(
            "{g:?} is not a design of this study ({n} variables in their ranges)"
        )));
    }
    Ok(s)
}

/// Runs (or resumes) the search; returns the final state (its archive holds every design).
pub fn search(
    p: &Problem,
    ev: &dyn Evaluator,
    opts: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SearchState, SearchError> {
    let so = &p.study.search;
    let n = so.population;
    let generations = opts.generations.unwrap_or(so.generations);
    let kinds: Vec<VarKind> = p.variables.iter().map(|v| v.kind.clone()).collect();
    let resumed = match (&opts.checkpoint, opts.resume) {
        (Some(path), true) if path.exists() => Some(read_checkpoint(path, p)?),
        _ => None,
    };
    let mut a = match resumed {
        Some(state) => {
            let index = state
                .archive
                .iter()
                .enumerate()
                .map(|(i, e)| (key(&e.genome), i))
                .collect();
            Archive { index, state }
        }
        None => {
            let mut rng = Rng::new(so.seed);
            let mut pop = Vec::with_capacity(n);
            if so.seed_current_design {
                pop.push(p.current_design());
            }
            while pop.len() < n {
                let mut g = nsga::random_genome(&kinds, &mut rng);
                p.repair(&mut g);
                pop.push(g);
            }
            let mut a = Archive {
                index: BTreeMap::new(),
                state: SearchState {
                    format: 1,
                    fingerprint: p.fingerprint.clone(),
                    seed: so.seed,
                    population_size: n,
                    generation: 0,
                    rng,
                    population: pop.clone(),
                    archive: Vec::new(),
                    cache_hits: 0,
                },
            };
            a.fill(p, ev, &pop)?;
            if let Some(path) = &opts.checkpoint {
                write_checkpoint(path, &a.state)?;
            }
            a
        }
    };
    let report = |a: &Archive, progress: &mut dyn FnMut(Progress)| {
        progress(Progress {
            generation: a.state.generation,
            generations,
            evaluations: a.state.archive.len(),
            cache_hits: a.state.cache_hits,
            front_size: crate::front::pareto_indices(&a.state.archive).len(),
        })
    };
    report(&a, progress);
    while a.state.generation < generations {
        let pop = a.state.population.clone();
        let (obj, viol) = a.objectives(&pop);
        let (rank, crowd) = nsga::rank_and_crowd(&obj, &viol);
        let mut kids = nsga::offspring(&pop, &rank, &crowd, &kinds, &mut a.state.rng);
        for k in &mut kids {
            p.repair(k);
        }
        a.fill(p, ev, &kids)?;
        // Parents and children without duplicates (duplicates only to fill up).
        let mut pool: Vec<Vec<f64>> = Vec::with_capacity(2 * n);
        let mut spare = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for g in pop.into_iter().chain(kids) {
            if seen.insert(key(&g)) {
                pool.push(g);
            } else {
                spare.push(g);
            }
        }
        let (obj, viol) = a.objectives(&pool);
        let mut next: Vec<Vec<f64>> = nsga::select(&obj, &viol, n)
            .into_iter()
            .map(|i| pool[i].clone())
            .collect();
        next.extend(spare.into_iter().take(n - next.len()));
        a.state.population = next;
        a.state.generation += 1;
        if let Some(path) = &opts.checkpoint {
            write_checkpoint(path, &a.state)?;
        }
        report(&a, progress);
    }
    Ok(a.state)
}

/// Every design of a study whose variables are all choices, if there are at most `limit`
/// (for exhaustive checks of small studies); `None` otherwise.
pub fn all_designs(p: &Problem, limit: usize) -> Option<Vec<Vec<f64>>> {
    let mut sizes = Vec::new();
    let mut total: usize = 1;
    for v in &p.variables {
        match v.kind {
            VarKind::Choice { n } => {
                sizes.push(n);
                total = total.checked_mul(n)?;
            }
            VarKind::Continuous { .. } => return None,
        }
    }
    if total > limit {
        return None;
    }
    let mut out = Vec::with_capacity(total);
    let mut g = vec![0usize; sizes.len()];
    for _ in 0..total {
        out.push(g.iter().map(|&x| x as f64).collect());
        for (x, n) in g.iter_mut().zip(&sizes) {
            *x += 1;
            if *x < *n {
                break;
            }
            *x = 0;
        }
    }
    Some(out)
}
