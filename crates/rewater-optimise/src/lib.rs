//! Planning optimisation (规划方案优化, issue 18): which wetlands, ponds, pipes, plant
//! expansions, effluent upgrades and user connections reach a reuse rate at least cost, with
//! wetland outlets at class V or better.
//!
//! A study file ([`study`]) names the model and the candidates with their costs; [`problem`]
//! validates it into decision variables and applies a design to the model; [`eval`] runs the
//! engine once per scenario (hydrological year) and scores cost, objectives and constraints;
//! [`nsga`] is the NSGA-II search, [`run`] the loop with cache, checkpoint and evaluators
//! (serial, rayon, or NATS JetStream workers with feature `nats`); [`front`] and [`output`]
//! give the Pareto front, the least-cost design per target and the marginal cost per m³ as
//! JSON, CSV and HTML. See docs/optimise.md.

pub mod candidates;
pub mod eval;
pub mod front;
pub mod nsga;
pub mod output;
pub mod problem;
pub mod run;
pub mod study;
#[cfg(feature = "nats")]
pub mod worker;

pub use eval::{evaluate, EvalError, Evaluation};
pub use front::{outcome, Outcome};
pub use problem::{Problem, StudyErrors};
pub use run::{
    search, Evaluator, Parallel, Progress, RunOptions, SearchError, SearchState, Serial,
};
pub use study::{parse_study, study_schema, Study, StudyError};
