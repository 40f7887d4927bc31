//! Outfall classes (HJ 1312-2023) and code rules (HJ 1235-2021 outfall codes, UNVERIFIED
//! layout; HJ 608-2017 outlet codes; GB 32100 unified social credit codes of dischargers),
//! from the data files in `data/` with their source and confidence.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

const CLASSES_TOML: &str = include_str!("../data/hj1312_classes.toml");
const RULES_TOML: &str = include_str!("../data/code_rules.toml");

/// One class or sub-class of HJ 1312-2023 (or "undetermined", ours).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutfallClass {
    pub id: String,
    #[serde(default)]
    pub parent: Option<String>,
    pub level: u8,
    pub zh: String,
    pub en: String,
    pub confidence: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Deserialize)]
struct ClassFile {
    #[serde(rename = "class")]
    classes: Vec<OutfallClass>,
}

/// One segment of a code rule.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Segment {
    pub zh: String,
    pub en: String,
    /// digit, upper, alnum, literal:X or set:XYZ.
    pub chars: String,
    pub len: usize,
}

/// A code layout as data.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CodeRule {
    pub id: String,
    pub zh: String,
    pub en: String,
    pub standard: String,
    /// Whether the layout was read in the standard; an unverified rule only warns.
    pub verified: bool,
    pub confidence: String,
    pub note: String,
    #[serde(rename = "segment")]
    pub segments: Vec<Segment>,
}

#[derive(Deserialize)]
struct RuleFile {
    #[serde(rename = "rule")]
    rules: Vec<CodeRule>,
}

/// The bundled class table.
pub fn classes() -> &'static [OutfallClass] {
    static C: OnceLock<Vec<OutfallClass>> = OnceLock::new();
    C.get_or_init(|| match toml::from_str::<ClassFile>(CLASSES_TOML) {
        Ok(f) => f.classes,
        Err(e) => {
            // The file is compiled in and checked by a test; an error here is a build defect.
            tracing::error!(error = %e, "data/hj1312_classes.toml");
            Vec::new()
        }
    })
}

/// A class by id.
pub fn class(id: &str) -> Option<&'static OutfallClass> {
    classes().iter().find(|c| c.id == id)
}

/// The bundled code rules.
pub fn code_rules() -> &'static [CodeRule] {
    static R: OnceLock<Vec<CodeRule>> = OnceLock::new();
    R.get_or_init(|| match toml::from_str::<RuleFile>(RULES_TOML) {
        Ok(f) => f.rules,
        Err(e) => {
            tracing::error!(error = %e, "data/code_rules.toml");
            Vec::new()
        }
    })
}

/// A code rule by id.
pub fn code_rule(id: &str) -> Option<&'static CodeRule> {
    code_rules().iter().find(|r| r.id == id)
}

fn char_ok(kind: &str, c: char) -> bool {
    match kind {
        "digit" => c.is_ascii_digit(),
        "upper" => c.is_ascii_uppercase(),
        "alnum" => c.is_ascii_digit() || c.is_ascii_uppercase(),
        k => {
            if let Some(l) = k.strip_prefix("literal:") {
                l.starts_with(c)
            } else if let Some(s) = k.strip_prefix("set:") {
                s.contains(c)
            } else {
                false
            }
        }
    }
}

impl CodeRule {
    /// Checks a code against the layout; the error names the first segment that fails.
    pub fn check(&self, code: &str) -> Result<(), String> {
        let chars: Vec<char> = code.chars().collect();
        let want: usize = self.segments.iter().map(|s| s.len).sum();
        let mut at = 0;
        for s in &self.segments {
            let part: String = chars.iter().skip(at).take(s.len).collect();
            if part.chars().count() < s.len || !part.chars().all(|c| char_ok(&s.chars, c)) {
                return Err(format!(
                    "'{code}' does not follow {} ({}): characters {}–{} should be {} ({}, {} {}), found '{part}'",
                    self.standard,
                    if self.verified { "verified layout" } else { "UNVERIFIED layout" },
                    at + 1,
                    at + s.len,
                    s.en,
                    s.zh,
                    s.len,
                    s.chars
                ));
            }
            at += s.len;
        }
        if chars.len() != want {
            return Err(format!(
                "'{code}' has {} characters; {} ({}) has {want}",
                chars.len(),
                self.en,
                self.standard
            ));
        }
        Ok(())
    }
}

/// Basic shape every identifier must have (whatever rule it follows): 1–64 characters,
/// no whitespace or control characters, no separators of our CSV lists (`;`, `|`).
pub fn check_identifier(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("empty".into());
    }
    if id.chars().count() > 64 {
        return Err(format!(
            "'{}…' is longer than 64 characters",
            id.chars().take(20).collect::<String>()
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ';' | '|'))
    {
        return Err(format!(
            "'{id}' contains {c:?} (no spaces, control characters, ';' or '|')"
        ));
    }
    Ok(())
}

const USCC_CHARS: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// Checks a unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters of
/// `0-9A-HJ-NPQRTUWXY`, the 18th a check character (weights 3^(i) mod 31, check = 31 − sum
/// mod 31). Confidence: medium (the algorithm as widely published; GB 32100 not read here).
pub fn check_credit_code(code: &str) -> Result<(), String> {
    let v: Vec<u32> = code
        .chars()
        .map(|c| USCC_CHARS.find(c).map(|i| i as u32))
        .collect::<Option<_>>()
        .ok_or_else(|| {
            format!("'{code}': a credit code uses only 0-9 and A-Y without I, O, S, V, Z")
        })?;
    if v.len() != 18 {
        return Err(format!(
            "'{code}' has {} characters; a credit code has 18",
            v.len()
        ));
    }
    let sum: u32 = v.iter().zip(USCC_WEIGHTS).map(|(a, w)| a * w).sum();
    let check = (31 - sum % 31) % 31;
    if v[17] != check {
        return Err(format!(
            "'{code}': check character should be '{}' (GB 32100)",
            USCC_CHARS.as_bytes()[check as usize] as char
        ));
    }
    Ok(())
}

/// A discharger code (排污单位编码, HJ 608-2017): the credit code, optionally followed by a
/// 3-digit serial and a letter (e.g. `…001P`, the permit's code).
pub fn check_discharger_code(code: &str) -> Result<(), String> {
    let head: String = code.chars().take(18).collect();
    check_credit_code(&head)?;
    let tail: Vec<char> = code.chars().skip(18).collect();
    match tail.as_slice() {
        [] => Ok(()),
        [a, b, c, l] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() && l.is_ascii_uppercase() => Ok(()),
        _ => Err(format!(
            "'{code}': after the 18-character credit code HJ 608 allows a 3-digit serial and a letter (e.g. 001P)"
        )),
    }
}

/// Makes a valid credit code from 17 characters (tests and generators).
pub fn credit_code_with_check(first17: &str) -> Option<String> {
    let v: Vec<u32> = first17
        .chars()
        .map(|c| USCC_CHARS.find(c).map(|i| i as u32))
        .collect::<Option<_>>()?;
    if v.len() != 17 {
        return None;
    }
    let sum: u32 = v.iter().zip(USCC_WEIGHTS).map(|(a, w)| a * w).sum();
    let check = ((31 - sum % 31) % 31) as usize;
    Some(format!("{first17}{}", USCC_CHARS.as_bytes()[check] as char))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_class_table_loads_with_its_four_classes_and_undetermined() {
        let top: Vec<&str> = classes()
            .iter()
            .filter(|c| c.level == 1)
            .map(|c| c.zh.as_str())
            .collect();
        assert_eq!(
            top,
            [
                "工业排污口",
                "城镇污水处理厂排污口",
                "农业排口",
                "其他排口",
                "类型待定"
            ]
        );
        for c in classes() {
            if let Some(p) = &c.parent {
                assert!(class(p).is_some(), "{} has unknown parent {p}", c.id);
            }
            assert!(!c.en.is_empty() && !c.zh.is_empty());
        }
        assert_eq!(
            class("other.port").map(|c| c.zh.as_str()),
            Some("港口码头排口")
        );
        assert!(class("other.combined_overflow").unwrap().confidence == "low");
    }

    #[test]
    fn outlet_codes_follow_hj608_and_errors_name_the_segment() {
        let r = code_rule("hj608_outlet").unwrap();
        assert!(r.check("DW001").is_ok());
        assert!(r.check("DA123").is_ok());
        let e = r.check("DX001").unwrap_err();
        assert!(e.contains("environment letter"), "{e}");
        let e = r.check("DW01").unwrap_err();
        assert!(e.contains("serial number"), "{e}");
        assert!(r.check("DW0011").unwrap_err().contains("has 6 characters"));
        let o = code_rule("hj1235_outfall").unwrap();
        assert!(!o.verified);
        assert!(o.check("1101000001110105B0001").is_ok());
        assert!(o
            .check("110100000111010B0001")
            .unwrap_err()
            .contains("UNVERIFIED"));
    }

    #[test]
    fn credit_codes_carry_their_gb32100_check_character() {
        // A published example code (Tencent Technology (Shenzhen)): 9144030071526726XG.
        assert!(check_credit_code("9144030071526726XG").is_ok());
        let e = check_credit_code("9144030071526726XH").unwrap_err();
        assert!(e.contains("should be 'G'"), "{e}");
        assert!(check_credit_code("9144030071526726X")
            .unwrap_err()
            .contains("17 characters"));
        assert!(check_credit_code("9144030071526726IG").is_err());
        let made = credit_code_with_check("91110105MA01ABCD0").unwrap();
        assert!(check_credit_code(&made).is_ok());
        assert!(check_discharger_code(&format!("{made}001P")).is_ok());
        assert!(check_discharger_code(&format!("{made}01P")).is_err());
    }

    #[test]
    fn identifiers_refuse_spaces_and_list_separators() {
        assert!(check_identifier("R-1").is_ok());
        assert!(check_identifier("a b").is_err());
        assert!(check_identifier("a;b").is_err());
        assert!(check_identifier("").is_err());
        assert!(check_identifier(&"x".repeat(65)).is_err());
    }
}
