//! `rewater serve`, `rewater user` and `rewater hj212 sim`: flags mapped to the server crate's
//! configuration and the store's accounts; the work is done in `rewater-server`.

use anyhow::{Context, Result};
use rewater_server::{ServerConfig, Started};
use std::io::Write;

/// The service token: from `--api-token-file`, else `$REWATER_API_TOKEN`, else none (the
/// server makes one). Never from the command line, where `ps` would show it.
pub fn api_token(file: Option<&std::path::Path>) -> Result<Option<String>> {
    if let Some(p) = file {
        let text = std::fs::read_to_string(p)
            .with_context(|| format!("reading the API token from {}", p.display()))?;
        let t = text.trim().to_string();
        if t.len() < 16 {
            return Err(crate::input_err(format!(
                "{}: an API token needs at least 16 characters",
                p.display()
            )));
        }
        return Ok(Some(t));
    }
    Ok(std::env::var("REWATER_API_TOKEN")
        .ok()
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty()))
}

/// What `serve` prints once both ports listen (tests read the first lines).
fn print_started(s: &Started, db: &str) {
    let token = match &s.generated_token {
        Some(t) => format!("token: {t}, shown once"),
        None => "token supplied, not shown".to_string(),
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "rewater gateway (HJ 212) listening on {}, store {db}",
        s.gateway
    );
    let _ = writeln!(
        out,
        "rewater API listening on http://{}/api/ ({token})",
        s.api
    );
    let _ = writeln!(
        out,
        "rewater web platform on http://{}/ (accounts: `rewater user add`)",
        s.api
    );
    if let Some(r) = &s.registered_devices {
        let _ = writeln!(
            out,
            "data loggers registered: {} ({} …); password: {} (shown once; `rewater device passwd` changes it)",
            r.mns.len(),
            r.mns.first().map(String::as_str).unwrap_or(""),
            r.password
        );
    }
    let _ = out.flush();
}

/// `rewater serve`.
pub fn serve(config: ServerConfig) -> Result<()> {
    let db = config.db.clone();
    let stopped = rewater_server::run(config, |s| print_started(s, &db))?;
    println!(
        "stopped: {} connections, {} frames, {} uploads stored, {} duplicates, {} rejected, {} acknowledgements; server-side ack latency p50 ≤ {} ms, p99 ≤ {} ms",
        stopped.connections,
        stopped.frames,
        stopped.uploads_stored,
        stopped.duplicates,
        stopped.rejected,
        stopped.acks,
        stopped.ack_p50_ms,
        stopped.ack_p99_ms
    );
    Ok(())
}
