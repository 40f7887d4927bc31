//! Names of sites and districts in Chinese and English (点位、区的中英文名称), and whether a
//! site is a supply point disclosed on the public page (issue 13). Kept beside the site register
//! rather than in it, so that a site without a label still shows its one `name`, and districts
//! (which have no table of their own) get names too. A change is audited and moves the register
//! version.

use crate::Result;

/// What a label names.
pub const LABEL_KINDS: [&str; 2] = ["site", "district"];

/// The names of a site or a district.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Label {
    /// "site" or "district".
    pub kind: String,
    /// The site id or the district code.
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// A site: shown on the public disclosure page (供水点公开); ignored for districts.
    #[serde(default)]
    pub public: bool,
}

impl Label {
    /// Checks the label; the field at fault in the error.
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(crate::StoreError::Invalid(m));
        if !LABEL_KINDS.contains(&self.kind.as_str()) {
            return bad(format!(
                "kind: '{}' is neither site nor district",
                self.kind
            ));
        }
        if self.id.trim().is_empty() || self.id.len() > 64 {
            return bad("id: 1–64 characters".into());
        }
        for (field, v) in [("name_zh", &self.name_zh), ("name_en", &self.name_en)] {
            if v.chars().count() > 200 || v.chars().any(char::is_control) {
                return bad(format!(
                    "{field}: at most 200 characters, no control characters"
                ));
            }
        }
        Ok(())
    }
}

/// The register of labels.
pub trait LabelStore {
    /// Creates or replaces the label of (kind, id), audited as `who`. Moves the register version.
    fn put_label(&mut self, label: &Label, who: &str, at_ms: i64) -> Result<()>;
    /// Every label, by kind and id.
    fn labels(&mut self) -> Result<Vec<Label>>;
}

/// Checks every backend must pass (called from the store conformance run).
pub mod conformance {
    use super::*;
    use crate::Store;

    pub fn run_all(s: &mut dyn Store) {
        let v0 = s.config_version().unwrap();
        let l = |kind: &str, id: &str, zh: &str, public: bool| Label {
            kind: kind.into(),
            id: id.into(),
            name_zh: zh.into(),
            name_en: format!("{id} (en)"),
            public,
        };
        s.put_label(&l("district", "north", "北区", false), "admin", 1)
            .unwrap();
        s.put_label(&l("site", "S1", "一号点", true), "admin", 2)
            .unwrap();
        // Replaced, not duplicated.
        s.put_label(&l("site", "S1", "一号供水点", true), "admin", 3)
            .unwrap();
        assert!(
            s.config_version().unwrap() > v0,
            "the register version moves"
        );
        let all = s.labels().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].kind, "district");
        assert_eq!(all[1].name_zh, "一号供水点");
        assert!(all[1].public);
        assert!(s
            .put_label(&l("river", "x", "河", false), "admin", 4)
            .is_err());
        assert!(s
            .put_label(&l("site", "", "空", false), "admin", 4)
            .is_err());
        assert!(s
            .put_label(&l("site", "S2", "a\u{7}b", false), "admin", 4)
            .is_err());
        assert!(s
            .audit_log(50)
            .unwrap()
            .iter()
            .any(|e| e.action == "label.put" && e.target == "site S1"));
    }
}
