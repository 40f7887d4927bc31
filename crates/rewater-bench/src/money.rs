//! `rewater-bench money`: a generated city year (issue 17) — 16 districts, boundary sections
//! in chains along rivers with a year of monthly COD/NH3-N/TP, a project list, rural sewage
//! stations and pipes, village water-supply stations and plants' months — written as CSV
//! files, then read and computed end to end: funding shares (by project, payer, year),
//! subsidies, compensation (monthly classes, matrix, settlement), fees, and every ledger's
//! tables as CSV text. Deterministic (a fixed LCG seed).

use anyhow::{anyhow, Result};
use rewater_money::{Areas, Lang, RuleBook, Table};
use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

/// The size of the generated city.
pub struct MoneyBench {
    pub sections: usize,
    pub projects: usize,
    pub stations: usize,
    pub repeat: usize,
    /// Users of the synthetic region of the cost timing (0: none).
    pub cost_users: usize,
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[((self.next() * v.len() as f64) as usize).min(v.len() - 1)]
    }
}

const ASSETS: &[(&str, &str)] = &[
    ("reclamation_plant", "urban"),
    ("sewer_pipe", "urban"),
    ("reclaimed_pipe", "urban"),
    ("sewer_pipe", "rural"),
    ("reclaimed_pipe", "rural"),
    ("overflow_storage", "urban"),
    ("sludge", "urban"),
    ("water_plant", "urban"),
    ("supply_replacement", "urban"),
    ("village_station_retrofit", "rural"),
    ("reclamation_plant", "rural"),
];

/// Writes the city's input tables into `dir`.
pub fn generate(b: &MoneyBench, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let areas = Areas::bundled();
    let districts: Vec<String> = areas.districts.keys().cloned().collect();
    let mut r = Lcg(17);
    let mut s =
        String::from("id,asset,district,setting,construction_yuan,land_yuan,start_year,years\n");
    for i in 0..b.projects {
        let (asset, setting) = *r.pick(ASSETS);
        let d = r.pick(&districts);
        let c = (1.0 + 99.0 * r.next()).round() * 1e6;
        let l = (c * 0.1 * r.next()).round();
        let y = 2023 + (r.next() * 3.0) as i32;
        let n = 1 + (r.next() * 3.0) as i32;
        writeln!(s, "P{i:04},{asset},{d},{setting},{c},{l},{y},{n}")?;
    }
    std::fs::write(dir.join("projects.csv"), s)?;
    let mut s = String::from("id,kind,district,year,volume_m3,capacity_m3_d,length_m\n");
    for i in 0..b.stations {
        let d = r.pick(&districts);
        let cap = (10.0 + 3000.0 * r.next() * r.next()).round();
        let vol = (cap * 365.0 * (0.5 + 0.4 * r.next())).round();
        writeln!(s, "F{i:04},plant,{d},2024,{vol},{cap},")?;
    }
    for i in 0..b.stations / 5 {
        let d = r.pick(&districts);
        writeln!(
            s,
            "L{i:04},pipe,{d},2024,,,{}",
            (100.0 + 5000.0 * r.next()).round()
        )?;
    }
    std::fs::write(dir.join("facilities.csv"), s)?;
    let mut s = String::from("id,district,mountain,passed,year,villages\n");
    for i in 0..b.stations / 3 {
        let d = r.pick(&districts);
        let m = if r.next() < 0.7 { "是" } else { "否" };
        let p = if r.next() < 0.85 { "是" } else { "否" };
        writeln!(s, "V{i:04},{d},{m},{p},2024,1")?;
    }
    std::fs::write(dir.join("stations.csv"), s)?;
    // Sections: rivers of five sections crossing districts in turn, the last leaving the city.
    let mut s = String::from("id,upstream,downstream,target,inflow\n");
    let mut v = String::from("section,month,factor,value\n");
    let per_river = 5;
    for i in 0..b.sections {
        let k = i % per_river;
        let river = i / per_river;
        let up = &districts[(river + k) % districts.len()];
        let down = if k == per_river - 1 {
            "出境".to_string()
        } else {
            districts[(river + k + 1) % districts.len()].clone()
        };
        let target = *r.pick(&["III", "IV", "V"]);
        let inflow = if k == 0 {
            String::new()
        } else {
            format!("S{:03}", i - 1)
        };
        writeln!(s, "S{i:03},{up},{down},{target},{inflow}")?;
        for m in 1..=12 {
            for (f, lo, hi) in [("cod", 12.0, 48.0), ("nh3n", 0.3, 2.6), ("tp", 0.05, 0.5)] {
                writeln!(
                    v,
                    "S{i:03},2022-{m:02},{f},{:.3}",
                    lo + (hi - lo) * r.next()
                )?;
            }
        }
    }
    std::fs::write(dir.join("sections.csv"), s)?;
    std::fs::write(dir.join("values.csv"), v)?;
    let mut s = String::from(
        "plant,month,treated_m3,evaluated,compliant,cod_in,cod_out,nh3n_in,nh3n_out\n",
    );
    for p in 0..60 {
        for m in 1..=12 {
            let c = 25 + (r.next() * 6.0) as u32;
            writeln!(
                s,
                "W{p:02},2024-{m:02},{},{c},{},{:.1},{:.1},{:.1},{:.2}",
                (1e5 + 9e5 * r.next()).round(),
                c - (r.next() * 3.0) as u32,
                250.0 + 100.0 * r.next(),
                15.0 + 20.0 * r.next(),
                30.0 + 10.0 * r.next(),
                0.5 + r.next()
            )?;
        }
    }
    std::fs::write(dir.join("months.csv"), s)?;
    Ok(())
}

/// Reads and computes every ledger of the city's year; returns the CSV bytes written.
fn city_year(
    dir: &Path,
    book: &RuleBook,
    areas: &Areas,
    standards: &rewater_standards::Standards,
) -> Result<(usize, [usize; 4], f64)> {
    let projects = rewater_money::funding::read_projects(&dir.join("projects.csv"), areas)?;
    let f = rewater_money::funding::funding(book, rewater_money::funding::DEFAULT_SETS, &projects)
        .map_err(|e| anyhow!("{e}"))?;
    let mut tables = f.tables(book, areas, Lang::Zh);
    tables.push(f.budget_table(book, areas, Lang::Zh, None));
    let fac = rewater_money::subsidy::read_facilities(&dir.join("facilities.csv"), areas)?;
    let sta = rewater_money::subsidy::read_stations(&dir.join("stations.csv"), areas)?;
    let s = rewater_money::subsidy::subsidies(
        book,
        "jzf-2023-6",
        "jzf-2023-7",
        "om-base-rate",
        &fac,
        &sta,
    )
    .map_err(|e| anyhow!("{e}"))?;
    tables.extend(s.tables(book, areas, Lang::Zh));
    let known = |x: &str| areas.district(x).map(|d| d.id.clone());
    let secs = rewater_money::compensation::read_sections(&dir.join("sections.csv"), &known)?;
    let values = rewater_money::compensation::read_values(&dir.join("values.csv"), 2022)?;
    let c = rewater_money::compensation::compensation(
        book,
        "bj-compensation-2014",
        standards,
        &secs,
        &values,
        2022,
    )
    .map_err(|e| anyhow!("{e}"))?;
    tables.extend(c.tables(book, &|d: &str| areas.name(d, Lang::Zh), Lang::Zh));
    let months = rewater_money::fees::read_months(&dir.join("months.csv"))?;
    let fe = rewater_money::fees::fees(book, "pfp-example", &months).map_err(|e| anyhow!("{e}"))?;
    tables.extend(fe.tables(book, Lang::Zh));
    let text = Table::csv_text(&tables, Lang::Zh);
    let paid: f64 = c.settlement.values().map(|(p, _)| p).sum();
    Ok((
        text.len(),
        [
            projects.len(),
            fac.len() + sta.len(),
            secs.len(),
            c.months.iter().map(|m| m.factors.len()).sum(),
        ],
        paid,
    ))
}

pub fn run(b: MoneyBench, dir: &Path) -> Result<()> {
    let t = Instant::now();
    generate(&b, dir)?;
    let t_gen = t.elapsed();
    let book = RuleBook::bundled();
    let areas = Areas::bundled();
    let standards = rewater_standards::Standards::builtin();
    let mut times: Vec<Duration> = Vec::new();
    let mut last = (0, [0; 4], 0.0);
    for _ in 0..b.repeat.max(1) {
        let t = Instant::now();
        last = city_year(dir, &book, &areas, &standards)?;
        times.push(t.elapsed());
    }
    let best = times
        .iter()
        .min()
        .copied()
        .unwrap_or_default()
        .as_secs_f64();
    let mean = times.iter().map(Duration::as_secs_f64).sum::<f64>() / times.len() as f64;
    let (bytes, [p, st, se, assessed], paid) = last;
    println!("money city year: {} districts, {se} sections ({assessed} factor-months assessed), {p} projects, {st} rural facilities and village stations", areas.districts.len());
    println!(
        "  generated inputs in {:.3} s ({})",
        t_gen.as_secs_f64(),
        dir.display()
    );
    println!("  read + compute + tables (CSV, {bytes} bytes): best {best:.3} s, mean {mean:.3} s over {} runs", times.len());
    println!("  compensation paid in the year: {paid:.0} yuan (tools/money_peer.py recomputes it)");
    println!(
        "  target < 1 s: {}",
        if best < 1.0 { "met" } else { "NOT met" }
    );
    if b.cost_users > 0 {
        cost_of_routes(&b, &book, &standards)?;
    }
    Ok(())
}

/// Times the cost per plant and per supply route of a synthetic region's year: the engine
/// run with the link totals (once), then the ledger — plants, pipes (every pipe pumping
/// 0.1 kWh/m³ at 0.65 元/kWh, so that pipe yuan travel), the trace along the flows, users,
/// tables — repeated.
fn cost_of_routes(
    b: &MoneyBench,
    book: &RuleBook,
    standards: &rewater_standards::Standards,
) -> Result<()> {
    use rewater_model::synthetic::{synthetic_model, SyntheticSpec};
    let spec = SyntheticSpec {
        plants: (b.cost_users / 40).max(1),
        ponds: b.cost_users / 66,
        users: b.cost_users,
        years: 1,
        seed: 17,
    };
    let model = synthetic_model(&spec);
    let text = toml::to_string(&model)?;
    let region = rewater_model::resolve(&model, &text, "synthetic.toml", Path::new("."), standards)
        .map_err(|e| anyhow!("{e}"))?;
    let mut book = book.clone();
    let mut set = book
        .sets
        .get(rewater_money::cost::DEFAULT_COST_SET)
        .cloned()
        .ok_or_else(|| anyhow!("no bundled cost set"))?;
    if let Some(c) = set.cost.as_mut() {
        c.link_default = Some(rewater_money::rules::LinkCostParams {
            tariff_yuan_per_kwh: 0.65,
            pumping_kwh_per_m3: 0.1,
            ..Default::default()
        });
    }
    book.add(set);
    let t = Instant::now();
    let (summary, flows) =
        rewater_money::routes::run_with_flows(&region).map_err(|e| anyhow!("{e}"))?;
    let t_run = t.elapsed().as_secs_f64();
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..b.repeat.max(1) {
        let t = Instant::now();
        let c = rewater_money::cost::cost_of_run(
            &book,
            rewater_money::cost::DEFAULT_COST_SET,
            rewater_money::cost::DEFAULT_PRICE_SET,
            &region,
            &summary,
            &flows,
        )
        .map_err(|e| anyhow!("{e}"))?;
        let tables = c.tables(&book, Lang::Zh);
        let csv = Table::csv_text(&tables, Lang::Zh);
        times.push(t.elapsed().as_secs_f64());
        last = Some((c, csv.len()));
    }
    let best = times.iter().copied().fold(f64::INFINITY, f64::min);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    if let Some((c, bytes)) = last {
        let held: f64 = c.routes.iter().map(|r| r.total_yuan).sum();
        println!(
            "money cost of a synthetic year: {} nodes, {} links ({} plants, {} ponds, {} users); engine run with link totals {t_run:.3} s",
            region.nodes.len(),
            region.links.len(),
            spec.plants,
            spec.ponds,
            spec.users
        );
        println!(
            "  plants + pipes + routes + tables (CSV, {bytes} bytes): best {best:.3} s, mean {mean:.3} s over {} runs; {} routes",
            times.len(),
            c.routes.len()
        );
        println!(
            "  cost {:.2} yuan, in the routes {:.2} (+ unallocated pipes {:.2})",
            c.cost_yuan, held, c.unallocated_pipes_yuan
        );
    }
    Ok(())
}
