//! The words of the reports, from `labels.toml` (zh and en for every key).

use crate::Lang;
use std::collections::BTreeMap;
use std::sync::OnceLock;

const LABELS: &str = include_str!("../labels.toml");

#[derive(serde::Deserialize)]
struct Entry {
    zh: String,
    en: String,
}

fn table() -> &'static BTreeMap<String, Entry> {
    static T: OnceLock<BTreeMap<String, Entry>> = OnceLock::new();
    // The file is ours and checked by a test; a broken one shows keys instead of words.
    T.get_or_init(|| toml::from_str(LABELS).unwrap_or_default())
}

/// The word for `key` in `lang`; the key itself if the table lacks it (a test forbids that).
pub fn t(key: &str, lang: Lang) -> String {
    match table().get(key) {
        Some(e) if lang == Lang::En => e.en.clone(),
        Some(e) => e.zh.clone(),
        None => {
            tracing::warn!(key, "report label missing");
            key.to_string()
        }
    }
}

/// `t` with `{0}`, `{1}`, … replaced by `args`.
pub fn tf(key: &str, lang: Lang, args: &[&str]) -> String {
    let mut s = t(key, lang);
    for (i, a) in args.iter().enumerate() {
        s = s.replace(&format!("{{{i}}}"), a);
    }
    s
}

/// Whether the table parses and every entry has both languages.
pub fn check() -> Result<usize, String> {
    let t: BTreeMap<String, Entry> = toml::from_str(LABELS).map_err(|e| e.to_string())?;
    for (k, e) in &t {
        if e.zh.trim().is_empty() || e.en.trim().is_empty() {
            return Err(format!("label {k} lacks a language"));
        }
    }
    Ok(t.len())
}

/// Whether a key exists.
pub fn has(key: &str) -> bool {
    table().contains_key(key)
}
