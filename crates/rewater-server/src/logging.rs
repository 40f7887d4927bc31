//! Log output for the services (日志): `tracing` events written to standard error as text or
//! as one JSON object per line (`--log-format json`, for log collectors), filtered by
//! `REWATER_LOG` (e.g. `info`, `warn,rewater_gateway=debug`; default `info`).

use std::str::FromStr;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl FromStr for LogFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<LogFormat, String> {
        match s {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log format '{s}' must be text or json")),
        }
    }
}

/// The filter from `REWATER_LOG`, or `default` when unset or unreadable (then said once).
fn filter(default: &str) -> Targets {
    let wanted = std::env::var("REWATER_LOG").ok();
    let spec = wanted.as_deref().unwrap_or(default);
    Targets::from_str(spec).unwrap_or_else(|_| {
        eprintln!("REWATER_LOG='{spec}' is not a log filter (e.g. info or warn,rewater_gateway=debug); using {default}");
        Targets::from_str(default).unwrap_or_default()
    })
}

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: LogFormat, default_filter: &str) {
    let filter = filter(default_filter);
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Text => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_writer(std::io::stderr)
                    .with_target(false),
            )
            .try_init(),
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr)
                    .with_current_span(false),
            )
            .try_init(),
    };
}
