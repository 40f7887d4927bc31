//! Uploaded models: tar extraction with bounded entry count and sizes, regular files and
//! folders only (no absolute paths, `..`, symlinks, hard links or devices), into the
//! upload's own directory. The model is then loaded with the model crate's confinement to
//! that directory (`rewater_model::LoadOptions::upload`).

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Bounds on one upload.
#[derive(Debug, Clone, Copy)]
pub struct UploadLimits {
    pub max_entries: usize,
    /// Per file (the model file or a CSV).
    pub max_file_bytes: u64,
    pub max_total_bytes: u64,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_entries: 256,
            max_file_bytes: 8 << 20,
            max_total_bytes: 16 << 20,
        }
    }
}

/// A path made only of plain names (a leading `./` is allowed); anything else is refused.
fn plain_relative(path: &Path) -> Result<PathBuf, String> {
    let shown = path.display();
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => return Err(format!("'{shown}': '..' is not allowed")),
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!("'{shown}': absolute paths are not allowed"))
            }
        }
    }
    Ok(out)
}

/// Extracts a tar archive into `dir` (which must be empty and the upload's own).
pub fn extract_tar(bytes: &[u8], dir: &Path, limits: &UploadLimits) -> Result<(), String> {
    let mut archive = tar::Archive::new(bytes);
    let entries = archive
        .entries()
        .map_err(|e| format!("not a tar archive: {e}"))?;
    let mut total: u64 = 0;
    for (i, entry) in entries.enumerate() {
        if i >= limits.max_entries {
            return Err(format!(
                "the archive has more than {} entries",
                limits.max_entries
            ));
        }
        let mut entry = entry.map_err(|e| format!("tar entry {}: {e}", i + 1))?;
        let raw = entry
            .path()
            .map_err(|e| format!("tar entry {}: {e}", i + 1))?
            .into_owned();
        let shown = raw.display().to_string();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let rel = plain_relative(&raw)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let target = dir.join(&rel);
        if kind.is_dir() {
            std::fs::create_dir_all(&target).map_err(|e| format!("'{shown}': {e}"))?;
            continue;
        }
        if !kind.is_file() {
            return Err(format!(
                "'{shown}': only regular files and folders are accepted (not links, devices or fifos)"
            ));
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| format!("'{shown}': {e}"))?;
        total = total.saturating_add(size);
        if size > limits.max_file_bytes || total > limits.max_total_bytes {
            return Err(format!(
                "'{shown}': files may have at most {} bytes each and {} together",
                limits.max_file_bytes, limits.max_total_bytes
            ));
        }
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("'{shown}': {e}"))?;
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&target)
            .map_err(|e| format!("'{shown}': {e}"))?;
        let copied = std::io::copy(&mut (&mut entry).take(size), &mut file)
            .map_err(|e| format!("'{shown}': {e}"))?;
        if copied != size {
            return Err(format!("'{shown}': the archive ends inside this file"));
        }
    }
    Ok(())
}

/// Puts the model file at `dir/model.toml`: `model` names it inside the archive; by default
/// `model.toml`, or the only folder's `model.toml` (whose contents then move up).
pub fn place_model(dir: &Path, model: Option<&str>) -> Result<(), String> {
    let root_model = dir.join("model.toml");
    if let Some(m) = model {
        let rel = plain_relative(Path::new(m))?;
        if rel.parent().is_some_and(|p| !p.as_os_str().is_empty()) {
            return Err(format!(
                "model: '{m}' must be at the top of the archive (series paths are relative to it)"
            ));
        }
        if !dir.join(&rel).is_file() {
            return Err(format!("model: '{m}' is not in the archive"));
        }
        if rel != Path::new("model.toml") {
            std::fs::rename(dir.join(&rel), &root_model).map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    if root_model.is_file() {
        return Ok(());
    }
    let entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .flatten()
        .collect();
    match entries.as_slice() {
        [only] if only.path().join("model.toml").is_file() => {
            let hoist = dir.join(".hoist");
            std::fs::rename(only.path(), &hoist).map_err(|e| e.to_string())?;
            for child in std::fs::read_dir(&hoist).map_err(|e| e.to_string())?.flatten() {
                std::fs::rename(child.path(), dir.join(child.file_name())).map_err(|e| e.to_string())?;
            }
            std::fs::remove_dir(&hoist).map_err(|e| e.to_string())
        }
        _ => Err("the archive has no model.toml at its top (or in its only folder); name it with ?model=".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("rewater-upload-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn tar_of(entries: &[(&str, tar::EntryType, &[u8], Option<&str>)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            // Write the raw name so that hostile paths reach the archive unchanged.
            let name = &mut h.as_old_mut().name;
            name[..path.len()].copy_from_slice(path.as_bytes());
            if let Some(l) = link {
                h.set_link_name(l).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn hostile_archives_are_refused() {
        let l = UploadLimits::default();
        let reg = tar::EntryType::Regular;
        for (path, kind, link, want) in [
            ("/etc/evil", reg, None, "absolute"),
            ("a/../../evil", reg, None, "'..'"),
            (
                "link",
                tar::EntryType::Symlink,
                Some("/etc/passwd"),
                "only regular",
            ),
            (
                "hard",
                tar::EntryType::Link,
                Some("/etc/passwd"),
                "only regular",
            ),
            ("dev", tar::EntryType::Char, None, "only regular"),
            ("fifo", tar::EntryType::Fifo, None, "only regular"),
        ] {
            let d = tmp("hostile");
            let e = extract_tar(&tar_of(&[(path, kind, b"x", link)]), &d, &l).unwrap_err();
            assert!(e.contains(want), "{path}: {e}");
            assert!(!std::path::Path::new("/etc/evil").exists());
        }
        let d = tmp("many");
        let names: Vec<String> = (0..300).map(|i| format!("f{i}")).collect();
        let many: Vec<_> = names
            .iter()
            .map(|n| (n.as_str(), reg, &b"x"[..], None))
            .collect();
        assert!(extract_tar(&tar_of(&many), &d, &l)
            .unwrap_err()
            .contains("more than 256"));
        let d = tmp("big");
        let small = UploadLimits {
            max_file_bytes: 10,
            ..l
        };
        let e = extract_tar(&tar_of(&[("big", reg, &[b'x'; 11], None)]), &d, &small).unwrap_err();
        assert!(e.contains("at most 10 bytes"), "{e}");
        // Garbage fails its header checksum.
        assert!(extract_tar(&[b'z'; 1024], &tmp("junk"), &l).is_err());
    }

    #[test]
    fn the_only_folder_moves_up() {
        let d = tmp("hoist");
        let reg = tar::EntryType::Regular;
        let t = tar_of(&[
            ("m/model.toml", reg, b"x", None),
            ("m/data/a.csv", reg, b"y", None),
        ]);
        extract_tar(&t, &d, &UploadLimits::default()).unwrap();
        place_model(&d, None).unwrap();
        assert!(d.join("model.toml").is_file() && d.join("data/a.csv").is_file());
        assert!(!d.join("m").exists());
    }
}
