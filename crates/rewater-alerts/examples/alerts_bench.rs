//! CPU per reading of the alert engine alone, as the gateway's writer calls it: `DEVICES`
//! loggers (each its own site under GB 18918-2002 class 1A) send `UPLOADS` minute uploads
//! (CN 2051) of six factors in turn, with values inside the limits and changing (no alert,
//! no stuck sensor), as in the province-scale ingest benchmark (issue 19).
//!
//! `cargo run --release -p rewater-alerts --example alerts_bench -- [DEVICES] [UPLOADS]`

use rewater_alerts::{AlertEngine, Settings, SiteRules, Value};
use rewater_standards::Standards;
use std::collections::HashMap;
use std::time::Instant;

fn main() {
    let arg = |i: usize, d: usize| {
        std::env::args()
            .nth(i)
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let (devices, uploads) = (arg(1, 10_000), arg(2, 40));
    let mns: Vec<String> = (0..devices).map(|i| format!("8888{i:010}")).collect();
    let rules = mns
        .iter()
        .enumerate()
        .map(|(i, mn)| {
            let site = SiteRules {
                site_id: format!("site-{i}"),
                standards: vec!["GB18918-2002:1A".into()],
                model_node: None,
            };
            (mn.clone(), site)
        })
        .collect();
    let mut engine = AlertEngine::new(
        Standards::builtin(),
        Settings::default(),
        rules,
        &HashMap::new(),
    );
    // COD, NH3-N, TP, TN (limits of class 1A), pH (6–9) and flow (no limit).
    let factors = ["w01018", "w21003", "w21011", "w21001", "w01001", "w00000"];
    let limits = [50.0, 5.0, 0.5, 15.0, 0.0, 100.0];
    let t0 = 1_748_736_000i64;
    let start = Instant::now();
    let (mut readings, mut raised) = (0usize, 0usize);
    let mut values: Vec<Value> = Vec::with_capacity(factors.len());
    for u in 0..uploads {
        for (d, mn) in mns.iter().enumerate() {
            // Inside every limit, different from the last value.
            values.clear();
            values.extend(
                factors
                    .iter()
                    .zip(limits)
                    .enumerate()
                    .map(|(k, (f, lim))| Value {
                        factor: f,
                        value: Some(if *f == "w01001" {
                            6.5 + 0.04 * ((u + d) % 40) as f64
                        } else {
                            lim * (0.3 + 0.01 * ((u + d + k) % 40) as f64)
                        }),
                        flag: Some("N"),
                    }),
            );
            let t = t0 + 60 * u as i64;
            let out = engine.on_upload(mn, "2051", t, &values, t + 5);
            raised += out.raised.len();
            readings += values.len();
        }
    }
    let s = start.elapsed().as_secs_f64();
    println!(
        "{devices} loggers × {uploads} uploads: {readings} readings in {s:.3} s, {:.3} µs per reading, {raised} alerts raised",
        s * 1e6 / readings as f64
    );
}
