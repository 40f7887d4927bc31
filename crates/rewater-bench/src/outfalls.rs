//! The outfall ledger benchmark (issue 16): a generated ledger of 10,000 outfalls on a
//! 5,000-reach network written as CSV, imported (read, parsed, cross-checked and saved to a
//! SQLite store), a backward trace from the network's outlet section (every outfall is
//! upstream: the worst case), and filtered ledger pages over HTTP from the real router.

use anyhow::Result;
use rewater_outfalls::io::{self, Format, GenerateOptions};
use rewater_outfalls::network::Network;
use rewater_outfalls::trace::{backward, Exceedance};
use std::path::Path;
use std::time::Instant;

fn percentiles(mut t: Vec<f64>) -> serde_json::Value {
    t.sort_by(f64::total_cmp);
    let q = |p: f64| t[((t.len() as f64 * p).ceil() as usize).clamp(1, t.len()) - 1];
    serde_json::json!({"n": t.len(), "p50_ms": q(0.5), "p90_ms": q(0.9), "max_ms": q(1.0)})
}

pub fn run(outfalls: usize, reaches: usize, requests: usize, dir: &Path) -> Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir)?;
    let g = io::generate(&GenerateOptions {
        reaches,
        outfalls,
        sections_per_reach: 1,
        seed: 16,
    });
    let csv = dir.join("ledger-csv");
    io::export(&g, Format::Csv, &csv)?;
    let db = dir.join("ledger.sqlite");
    // Import = read the files, parse, cross-check, save every record as version 1.
    let t = Instant::now();
    let (ledger, report) = io::import(&Default::default(), &[&csv], Default::default())?;
    let parse_s = t.elapsed().as_secs_f64();
    let mut store = rewater_store::SqliteStore::open(&db)?;
    let out = rewater_outfalls::store::save_ledger(&mut store, &ledger, "bench", "generated", 0)?;
    let import_s = t.elapsed().as_secs_f64();
    anyhow::ensure!(
        report.outfalls == outfalls && out.new_versions > outfalls,
        "import incomplete"
    );
    // Backward trace from the outlet (all outfalls upstream), network built once.
    let t = Instant::now();
    let net = Network::build(&ledger).map_err(anyhow::Error::msg)?;
    let build_ms = t.elapsed().as_secs_f64() * 1000.0;
    let outlet = ledger
        .sections
        .iter()
        .find(|s| s.reach == ledger.reaches[0].id)
        .map(|s| s.id.clone())
        .unwrap_or_default();
    let q = Exceedance {
        section: outlet.clone(),
        factor: "cod".into(),
        observed_mg_per_l: Some(40.0),
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut ranked = 0;
    for _ in 0..20 {
        let t = Instant::now();
        let b = backward(&ledger, &net, &q)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        ranked = b.sources.len();
    }
    // Ledger pages over HTTP: district + search, district + class + compliance, search only.
    let api_store = rewater_store::SqliteStore::open(&db)?;
    let state = rewater_api::ApiState::new(
        Box::new(api_store),
        [("T".to_string(), "bench".to_string())]
            .into_iter()
            .collect(),
    );
    let rt = tokio::runtime::Runtime::new()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?.to_string();
    rt.spawn(async move {
        let _ = axum::serve(listener, rewater_api::router(state)).await;
    });
    let paths = [
        "/api/outfalls?district=d03&search=%E6%8E%92%E5%8F%A3%201&limit=50",
        "/api/outfalls?district=d07&class=other.combined_overflow&compliance=legal&limit=50",
        "/api/outfalls?search=0110105&limit=50&offset=100",
    ];
    for p in paths {
        let (status, _) = super::http_get(&addr, p, "T")?;
        anyhow::ensure!(status == 200, "{p}: HTTP {status}");
    }
    let mut page = Vec::new();
    for i in 0..requests {
        let t = Instant::now();
        let (status, _) = super::http_get(&addr, paths[i % paths.len()], "T")?;
        page.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status == 200, "HTTP {status}");
    }
    // The API's trace route: the first request loads and caches the ledger and network; the
    // following ones answer from the cache while the store is unchanged.
    let body = format!(r#"{{"section": "{outlet}", "observed_mg_per_l": 40}}"#);
    let t = Instant::now();
    let (status, _) = http_post(&addr, "/api/outfall-trace", "T", &body)?;
    anyhow::ensure!(status == 200, "trace: HTTP {status}");
    let first_trace_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut api_trace = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let (status, _) = http_post(&addr, "/api/outfall-trace", "T", &body)?;
        api_trace.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(status == 200, "trace: HTTP {status}");
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "api_trace_first_ms": first_trace_ms, "api_trace": percentiles(api_trace),
            "outfalls": outfalls, "reaches": reaches, "sections": ledger.sections.len(),
            "records_saved": out.new_versions,
            "import_parse_check_s": parse_s, "import_total_s": import_s,
            "network_build_ms": build_ms, "backward_trace": percentiles(times), "sources_ranked": ranked,
            "ledger_page": percentiles(page),
        }))?
    );
    Ok(())
}

fn http_post(addr: &str, path: &str, token: &str, body: &str) -> Result<(u16, usize)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr)?;
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    Ok((status, buf.len()))
}
