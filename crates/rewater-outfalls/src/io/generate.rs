//! A generated ledger (tests and benchmarks): a random tree of reaches draining to reach 0,
//! outfalls spread over the reaches, sections at reach ends, dischargers behind a third of
//! the outfalls (some through a channel), codes that follow the bundled rules.

use crate::geo::{Datum, Location};
use crate::*;
use std::collections::BTreeMap;

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct GenerateOptions {
    pub reaches: usize,
    pub outfalls: usize,
    /// Sections per reach (at its downstream end, then evenly above it).
    pub sections_per_reach: usize,
    pub seed: u64,
}

struct Rng(u64);

impl Rng {
    fn f(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: usize) -> usize {
        ((self.f() * n as f64) as usize).min(n.saturating_sub(1))
    }
}

const CLASSES: &[&str] = &[
    "industrial.enterprise",
    "municipal_plant.plant",
    "agricultural.livestock",
    "other.urban_storm",
    "other.combined_overflow",
    "undetermined",
];

/// Generates a ledger that passes [`Ledger::check`].
pub fn generate(o: &GenerateOptions) -> Ledger {
    let mut rng = Rng(o.seed.wrapping_mul(2_654_435_761).wrapping_add(1));
    let mut l = Ledger::default();
    l.water_bodies.push(WaterBody {
        id: "W0".into(),
        name_zh: "生成河".into(),
        name_en: "Generated river".into(),
        kind: "river".into(),
    });
    let districts: Vec<String> = (1..=16).map(|d| format!("d{d:02}")).collect();
    for i in 0..o.reaches {
        let down = if i == 0 {
            None
        } else {
            Some(format!("R{:05}", rng.below(i)))
        };
        let mut decay = BTreeMap::new();
        decay.insert("cod".to_string(), 0.1 + 0.3 * rng.f());
        decay.insert("nh3n".to_string(), 0.05 + 0.2 * rng.f());
        l.reaches.push(Reach {
            id: format!("R{i:05}"),
            water_body: "W0".into(),
            name: format!("河段 {i}"),
            downstream: down,
            length_m: 500.0 + 4_500.0 * rng.f(),
            velocity_m_per_s: 0.2 + 0.8 * rng.f(),
            flow_m3_per_s: 1.0 + 20.0 * rng.f(),
            hydro_basis: if rng.f() < 0.5 {
                Basis::Measured
            } else {
                Basis::Estimated
            },
            decay_per_day: decay,
            district: Some(districts[i % districts.len()].clone()),
            geometry: Vec::new(),
        });
    }
    for r in 0..o.reaches {
        let len = l.reaches[r].length_m;
        for k in 0..o.sections_per_reach {
            let ch = len * (1.0 - k as f64 / o.sections_per_reach as f64);
            l.sections.push(Section {
                id: format!("S{r:05}-{k}"),
                name: format!("断面 {r}-{k}"),
                reach: l.reaches[r].id.clone(),
                chainage_m: ch,
                district: l.reaches[r].district.clone(),
                location: None,
                site_mn: None,
            });
        }
    }
    for k in 0..o.outfalls {
        let r = if o.outfalls <= o.reaches {
            k
        } else {
            rng.below(o.reaches)
        };
        let reach = &l.reaches[r % o.reaches.max(1)];
        let district = reach.district.clone().unwrap_or_default();
        let class = CLASSES[k % CLASSES.len()];
        let code = format!(
            "{:010}{:06}{}{:04}",
            k / 10_000,
            110_101 + k % 16,
            ["A", "B", "C", "X"][k % 4],
            k % 10_000
        );
        let mut conc = BTreeMap::new();
        conc.insert("cod".to_string(), 20.0 + 180.0 * rng.f());
        conc.insert("nh3n".to_string(), 1.0 + 20.0 * rng.f());
        l.outfalls.push(Outfall {
            code: code.clone(),
            name: format!("排口 {k}"),
            class: class.into(),
            district,
            location: Location {
                lon: 116.0 + rng.f(),
                lat: 39.5 + rng.f(),
                datum: Datum::Cgcs2000,
            },
            reach: reach.id.clone(),
            chainage_m: reach.length_m * 0.9 * rng.f(),
            approval: (k % 3 == 0).then(|| format!("审批〔2024〕{k}号")),
            responsible: format!("责任单位 {}", k % 50),
            survey_level: Some(1 + (k % 3) as u8),
            survey_date: rewater_time::Date::from_ymd(2025, 1 + (k % 12) as u32, 1),
            evidence: Vec::new(),
            compliance: if k % 17 == 0 {
                Compliance::Illegal
            } else {
                Compliance::Legal
            },
            flow_m3_per_s: Some(0.01 + 0.5 * rng.f()),
            conc_mg_per_l: conc,
            discharge_basis: if k % 2 == 0 {
                Basis::Measured
            } else {
                Basis::Estimated
            },
            monitored_on: (k % 4 != 0)
                .then(|| rewater_time::Date::from_ymd(2025, 6, 1))
                .flatten(),
            site_mn: None,
            overflow_outlet: None,
            model_node: None,
        });
        if k % 3 == 0 {
            let first17 = format!("9111{:04}MA{:07}", 100 + k % 16, k);
            if let Some(d) = classes::credit_code_with_check(&first17) {
                if k % 2 == 0 {
                    let ch = format!("P{k:05}");
                    l.channels.push(Channel {
                        id: ch.clone(),
                        name: format!("管道 {k}"),
                        kind: "pipe".into(),
                    });
                    l.links.push(Link {
                        from: d.clone(),
                        to: ch.clone(),
                    });
                    l.links.push(Link { from: ch, to: code });
                } else {
                    l.links.push(Link {
                        from: d.clone(),
                        to: code,
                    });
                }
                l.dischargers.push(Discharger {
                    code: d,
                    name: format!("单位 {k}"),
                    permit: None,
                    outlets: vec!["DW001".into()],
                    district: None,
                });
            }
        }
    }
    // Sorted by id, as an import leaves it.
    let mut sorted = Ledger::default();
    sorted.merge(l);
    sorted
}
