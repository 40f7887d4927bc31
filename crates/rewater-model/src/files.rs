//! Opening the files a model names, as hostile input: limits on sizes and counts, regular files
//! only, and (for uploaded models) series paths confined to the model's own directory.
//!
//! Confinement is checked on the canonical path, so a symbolic link out of the directory is
//! caught; refusals never say whether a file outside the directory exists, and never show its
//! contents. Size caps are checked before reading and again while reading, so a file that grows
//! while it is read cannot exceed them.

use std::fs::File;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// 1 MiB.
const MIB: u64 = 1 << 20;

/// Limits and confinement for [`crate::load_with`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadOptions {
    /// When set, every series CSV path must be relative, without `..` or a drive or root, and
    /// resolve (after following symbolic links) to a regular file inside this directory.
    pub confine_to: Option<PathBuf>,
    /// Largest model file read, bytes.
    pub max_model_bytes: u64,
    /// Largest series CSV file read, bytes.
    pub max_series_bytes: u64,
    /// Most series values held at once: distinct (file, column) series × days.
    pub max_series_values: u64,
    /// Longest horizon, days (from `days` or from `start` to `end`).
    pub max_days: u32,
    /// Most nodes, of all kinds together.
    pub max_nodes: usize,
    /// Most links.
    pub max_links: usize,
}

impl Default for LoadOptions {
    /// Local files chosen by the operator (the CLI): not confined, generous but finite caps.
    fn default() -> LoadOptions {
        LoadOptions {
            confine_to: None,
            max_model_bytes: 64 * MIB,
            max_series_bytes: 1024 * MIB,
            // 1 GiB of f64.
            max_series_values: 128 * MIB,
            max_days: MAX_DAYS,
            max_nodes: 1_000_000,
            max_links: 4_000_000,
        }
    }
}

/// The format's longest horizon: a hundred years and a little.
pub const MAX_DAYS: u32 = 36_600;

impl LoadOptions {
    /// A model uploaded by a user, unpacked into `dir`: series confined to `dir`, caps sized
    /// for a shared server (64 MiB per CSV, 128 MiB of series values, 10,000 nodes).
    pub fn upload(dir: impl Into<PathBuf>) -> LoadOptions {
        LoadOptions {
            confine_to: Some(dir.into()),
            max_model_bytes: 4 * MIB,
            max_series_bytes: 64 * MIB,
            max_series_values: 16 * MIB,
            max_days: MAX_DAYS,
            max_nodes: 10_000,
            max_links: 50_000,
        }
    }
}

/// Why a file was refused; the text is for the user and reveals nothing outside the model's
/// directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refused(pub String);

/// The canonical confining directory, or a refusal if it cannot be resolved.
pub(crate) fn canonical_dir(dir: &Path) -> Result<PathBuf, Refused> {
    std::fs::canonicalize(dir)
        .map_err(|e| Refused(format!("the model's directory cannot be resolved: {e}")))
}

/// Checks a series path under confinement and gives the path to open.
pub(crate) fn confined_path(base: &Path, root: &Path, shown: &str) -> Result<PathBuf, Refused> {
    let outside = || Refused("series path must stay inside the model's directory".into());
    let rel = Path::new(shown);
    // Backslashes and colons are separators or drive prefixes elsewhere (Windows).
    let lexical_ok = !shown.is_empty()
        && !shown.contains(['\\', ':', '\0'])
        && rel
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if !lexical_ok {
        return Err(Refused(
            "series path must be relative, without '..', and stay inside the model's directory"
                .into(),
        ));
    }
    let joined = base.join(rel);
    match std::fs::canonicalize(&joined) {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err(outside()),
        Err(_) => {
            // A missing file may be named as such only if no symbolic link was followed on
            // the way: otherwise the answer would tell about a place outside the directory.
            let mut prefix = base.to_path_buf();
            for c in rel.components() {
                prefix.push(c);
                match std::fs::symlink_metadata(&prefix) {
                    Ok(m) if m.file_type().is_symlink() => return Err(outside()),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            Err(Refused("no such file in the model's directory".into()))
        }
    }
}

/// Opens `path` without blocking (a FIFO would otherwise wait for a writer), and reads it if
/// it is a regular file of at most `max_bytes`. `canonical`: the path was checked as canonical,
/// so a symbolic link found there now (swapped in since the check) is refused.
pub(crate) fn read_regular(
    path: &Path,
    max_bytes: u64,
    what: &str,
    canonical: bool,
) -> Result<Vec<u8>, Refused> {
    let file =
        open_nonblocking(path, canonical).map_err(|e| Refused(format!("cannot open: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Refused(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(Refused(format!("{what} is not a regular file")));
    }
    let too_big = || {
        Refused(format!(
            "{what} is larger than the limit of {max_bytes} bytes"
        ))
    };
    if meta.len() > max_bytes {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // One byte past the cap tells a file that grew while being read.
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Refused(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_big());
    }
    Ok(bytes)
}

#[cfg(unix)]
fn open_nonblocking(path: &Path, no_symlink: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let flags = libc::O_NONBLOCK | if no_symlink { libc::O_NOFOLLOW } else { 0 };
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path, _no_symlink: bool) -> std::io::Result<File> {
    File::open(path)
}
