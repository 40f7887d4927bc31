//! PDF by printing the report's HTML in headless Chromium (`--print-to-pdf`): no build cost,
//! the same layout as the HTML, CJK text from the system's fonts (Debian: fonts-wqy-zenhei).
//! See docs/reports.md for why this route and what it costs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one print may take before it is abandoned.
pub const PRINT_TIMEOUT: Duration = Duration::from_secs(60);

/// Failing to print.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "no Chromium to print the PDF (looked for $REWATER_CHROMIUM, /usr/bin/chromium, \
         /usr/bin/chromium-browser; Debian: apt-get install chromium fonts-wqy-zenhei)"
    )]
    NoChromium,
    #[error("{browser}: {message}")]
    Print { browser: String, message: String },
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The Chromium to print with: `$REWATER_CHROMIUM`, else Debian's.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("REWATER_CHROMIUM") {
        let p = PathBuf::from(p);
        return p.exists().then_some(p);
    }
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Prints the HTML file `html` to the PDF file `pdf`.
pub fn print(browser: &Path, html: &Path, pdf: &Path) -> Result<(), PdfError> {
    let err = |message: String| PdfError::Print {
        browser: browser.display().to_string(),
        message,
    };
    let html = std::fs::canonicalize(html).map_err(|source| PdfError::Io {
        path: html.display().to_string(),
        source,
    })?;
    // A profile of its own, so that prints may run side by side and leave nothing behind.
    let profile = std::env::temp_dir().join(format!(
        "rewater-pdf-{}-{}",
        std::process::id(),
        PROFILE_SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    let _ = std::fs::remove_file(pdf);
    // Chromium's messages go to a file: a pipe read only at the end could fill and stall it.
    let log_path = profile.with_extension("log");
    let log = std::fs::File::create(&log_path).map_err(|source| PdfError::Io {
        path: log_path.display().to_string(),
        source,
    })?;
    let mut child = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .map_err(|e| err(format!("cannot start: {e}")))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if started.elapsed() > PRINT_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                let _ = std::fs::remove_file(&log_path);
                return Err(err(format!("no PDF after {} s", PRINT_TIMEOUT.as_secs())));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(err(e.to_string())),
        }
    };
    let stderr = std::fs::read_to_string(&log_path).unwrap_or_default();
    let _ = std::fs::remove_file(&log_path);
    let _ = std::fs::remove_dir_all(&profile);
    let written = std::fs::metadata(pdf).map(|m| m.len()).unwrap_or(0);
    if !status.success() || written == 0 {
        let tail: String = stderr.lines().rev().take(5).collect::<Vec<_>>().join(" | ");
        return Err(err(format!("printing failed ({status}): {tail}")));
    }
    tracing::debug!(pdf = %pdf.display(), bytes = written, ms = started.elapsed().as_millis() as u64, "PDF printed");
    Ok(())
}

static PROFILE_SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
