//! Evaluations over NATS JetStream (feature `nats`), so that a study spreads over machines.
//!
//! The coordinator ([`NatsEvaluator`], an [`Evaluator`]) publishes one job per design to the
//! work-queue stream `{NAMESPACE}` on subject `{namespace}.jobs.{fingerprint}` and waits for
//! the answers on a core-NATS subject of its own. Workers ([`run_worker`]) share one durable
//! pull consumer per study (named by the study's fingerprint, so a worker started on another
//! study never takes these jobs), evaluate what they fetch with the same [`evaluate`] as a
//! local run, answer, then acknowledge; a job whose worker dies is delivered again after the
//! acknowledgement wait. Floats travel as shortest round-trip decimals, so a remote
//! evaluation equals a local one bit for bit.

use crate::eval::{evaluate, EvalError, Evaluation};
use crate::problem::Problem;
use crate::run::Evaluator;
use async_nats::jetstream::{self, consumer::pull, stream};
use futures_util::StreamExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A failure talking to NATS.
#[derive(Debug, thiserror::Error)]
#[error("NATS at {url}: {message}")]
pub struct NatsError {
    pub url: String,
    pub message: String,
}

/// Where the queue is.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// Server address, e.g. `nats://127.0.0.1:4222`.
    pub url: String,
    /// Subject prefix; the stream is named after it (dots → underscores, upper case).
    pub namespace: String,
    /// Give up on a batch when no answer came for this long.
    pub answer_timeout: Duration,
}

impl Default for NatsOptions {
    fn default() -> NatsOptions {
        NatsOptions {
            url: "nats://127.0.0.1:4222".into(),
            namespace: "rewater.opt".into(),
            answer_timeout: Duration::from_secs(600),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Job {
    fingerprint: String,
    index: usize,
    reply: String,
    genome: Vec<f64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Answer {
    index: usize,
    evaluation: Option<Evaluation>,
    error: Option<String>,
}

fn stream_name(ns: &str) -> String {
    ns.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

async fn connect(
    o: &NatsOptions,
) -> Result<(async_nats::Client, jetstream::Context, stream::Stream), NatsError> {
    let err = |m: String| NatsError {
        url: o.url.clone(),
        message: m,
    };
    let client = async_nats::connect(&o.url)
        .await
        .map_err(|e| err(format!("cannot connect: {e}")))?;
    let js = jetstream::new(client.clone());
    let st = js
        .get_or_create_stream(stream::Config {
            name: stream_name(&o.namespace),
            subjects: vec![format!("{}.jobs.>", o.namespace)],
            retention: stream::RetentionPolicy::WorkQueue,
            ..Default::default()
        })
        .await
        .map_err(|e| err(format!("stream {}: {e}", stream_name(&o.namespace))))?;
    Ok((client, js, st))
}

/// Evaluates batches on whatever workers serve the study.
pub struct NatsEvaluator {
    rt: tokio::runtime::Runtime,
    client: async_nats::Client,
    js: jetstream::Context,
    opts: NatsOptions,
    nonce: String,
    batch: AtomicU64,
}

impl NatsEvaluator {
    /// Connects (and creates the stream if needed).
    pub fn connect(opts: NatsOptions) -> Result<NatsEvaluator, NatsError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| NatsError {
                url: opts.url.clone(),
                message: e.to_string(),
            })?;
        let (client, js, _) = rt.block_on(connect(&opts))?;
        let nonce = format!(
            "{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        );
        Ok(NatsEvaluator {
            rt,
            client,
            js,
            opts,
            nonce,
            batch: AtomicU64::new(0),
        })
    }

    async fn batch_async(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError> {
        let remote = |m: String| EvalError::Remote(format!("{}: {m}", self.opts.url));
        let b = self.batch.fetch_add(1, Ordering::Relaxed);
        let reply = format!("{}.answers.{}.{}", self.opts.namespace, self.nonce, b);
        let mut sub = self
            .client
            .subscribe(reply.clone())
            .await
            .map_err(|e| remote(e.to_string()))?;
        let subject = format!("{}.jobs.{}", self.opts.namespace, p.fingerprint);
        for (index, g) in designs.iter().enumerate() {
            let job = Job {
                fingerprint: p.fingerprint.clone(),
                index,
                reply: reply.clone(),
                genome: g.clone(),
            };
            let body = serde_json::to_vec(&job).map_err(|e| remote(e.to_string()))?;
            self.js
                .publish(subject.clone(), body.into())
                .await
                .map_err(|e| remote(e.to_string()))?
                .await
                .map_err(|e| remote(e.to_string()))?;
        }
        let mut out: Vec<Option<Evaluation>> = vec![None; designs.len()];
        let mut missing = designs.len();
        while missing > 0 {
            let msg = tokio::time::timeout(self.opts.answer_timeout, sub.next())
                .await
                .map_err(|_| {
                    remote(format!(
                        "no answer for {:?} (is a `rewater worker` running on this study?)",
                        self.opts.answer_timeout
                    ))
                })?
                .ok_or_else(|| remote("subscription closed".into()))?;
            let a: Answer = serde_json::from_slice(&msg.payload)
                .map_err(|e| remote(format!("bad answer: {e}")))?;
            if let Some(e) = a.error {
                return Err(EvalError::Remote(e));
            }
            let (Some(slot), Some(ev)) = (out.get_mut(a.index), a.evaluation) else {
                return Err(remote(format!("answer for unknown job {}", a.index)));
            };
            if slot.is_none() {
                missing -= 1;
            }
            *slot = Some(ev);
        }
        Ok(out.into_iter().flatten().collect())
    }
}

impl Evaluator for NatsEvaluator {
    fn evaluate_batch(
        &self,
        p: &Problem,
        designs: &[Vec<f64>],
    ) -> Result<Vec<Evaluation>, EvalError> {
        self.rt.block_on(self.batch_async(p, designs))
    }
}

/// How a worker runs.
#[derive(Debug)]
pub struct WorkerOptions {
    pub nats: NatsOptions,
    /// Jobs fetched (and evaluated in parallel) at a time.
    pub batch: usize,
    /// Set to stop the worker (checked about every half second).
    pub stop: std::sync::Arc<AtomicBool>,
    /// Stop after this long without a job (never if none).
    pub idle_exit: Option<Duration>,
}

/// What a worker did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub jobs: usize,
    /// Jobs refused as unreadable (terminated, not retried).
    pub rejected: usize,
}

/// Serves a study's evaluations until stopped or idle; `on_jobs` is told the running count,
/// first 0 once the worker is connected and pulling (it is ready).
pub fn run_worker(
    p: &Problem,
    o: &WorkerOptions,
    on_jobs: &mut dyn FnMut(usize),
) -> Result<WorkerStats, NatsError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| NatsError {
            url: o.nats.url.clone(),
            message: e.to_string(),
        })?;
    rt.block_on(worker_loop(p, o, on_jobs))
}

async fn worker_loop(
    p: &Problem,
    o: &WorkerOptions,
    on_jobs: &mut dyn FnMut(usize),
) -> Result<WorkerStats, NatsError> {
    let err = |m: String| NatsError {
        url: o.nats.url.clone(),
        message: m,
    };
    let (client, _js, st) = connect(&o.nats).await?;
    let consumer = st
        .get_or_create_consumer(
            &p.fingerprint,
            pull::Config {
                durable_name: Some(p.fingerprint.clone()),
                filter_subject: format!("{}.jobs.{}", o.nats.namespace, p.fingerprint),
                ack_policy: jetstream::consumer::AckPolicy::Explicit,
                ack_wait: Duration::from_secs(300),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| err(format!("consumer {}: {e}", p.fingerprint)))?;
    on_jobs(0);
    let mut stats = WorkerStats::default();
    let mut last = Instant::now();
    while !o.stop.load(Ordering::Relaxed) {
        let mut msgs = consumer
            .fetch()
            .max_messages(o.batch.max(1))
            .expires(Duration::from_millis(500))
            .messages()
            .await
            .map_err(|e| err(e.to_string()))?;
        let mut got = Vec::new();
        while let Some(m) = msgs.next().await {
            got.push(m.map_err(|e| err(e.to_string()))?);
        }
        if got.is_empty() {
            if o.idle_exit.is_some_and(|d| last.elapsed() > d) {
                break;
            }
            continue;
        }
        last = Instant::now();
        let jobs: Vec<Option<Job>> = got
            .iter()
            .map(|m| {
                serde_json::from_slice::<Job>(&m.payload)
                    .ok()
                    .filter(|j| j.fingerprint == p.fingerprint && p.is_design(&j.genome))
            })
            .collect();
        let answers: Vec<Option<(String, Answer)>> = jobs
            .par_iter()
            .map(|j| {
                j.as_ref().map(|j| {
                    let r = evaluate(p, &j.genome);
                    let a = Answer {
                        index: j.index,
                        error: r.as_ref().err().map(|e| e.to_string()),
                        evaluation: r.ok().map(|x| x.0),
                    };
                    (j.reply.clone(), a)
                })
            })
            .collect();
        for (m, a) in got.iter().zip(answers) {
            match a {
                Some((reply, a)) => {
                    let body = serde_json::to_vec(&a).map_err(|e| err(e.to_string()))?;
                    client
                        .publish(reply, body.into())
                        .await
                        .map_err(|e| err(e.to_string()))?;
                    client.flush().await.map_err(|e| err(e.to_string()))?;
                    m.ack().await.map_err(|e| err(e.to_string()))?;
                    stats.jobs += 1;
                }
                None => {
                    m.ack_with(jetstream::AckKind::Term)
                        .await
                        .map_err(|e| err(e.to_string()))?;
                    stats.rejected += 1;
                }
            }
        }
        on_jobs(stats.jobs);
    }
    Ok(stats)
}

/// Deletes the namespace's stream (its queued jobs and consumers), e.g. after a test.
pub fn delete_stream(o: &NatsOptions) -> Result<(), NatsError> {
    let err = |m: String| NatsError {
        url: o.url.clone(),
        message: m,
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| err(e.to_string()))?;
    rt.block_on(async {
        let client = async_nats::connect(&o.url)
            .await
            .map_err(|e| err(e.to_string()))?;
        jetstream::new(client)
            .delete_stream(stream_name(&o.namespace))
            .await
            .map_err(|e| err(e.to_string()))?;
        Ok(())
    })
}
