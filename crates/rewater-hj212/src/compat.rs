//! HJ/T 212-2005 compatibility: old factor codes mapped to 2017 codes, with the unit change
//! where there is one.
//!
//! Per the project's HJ 212 notes (from both standards' tables): the 2005 codes 020 Hg,
//! 022 Cd, 024 Cr(VI), 026 As, 027 Pb, 034 Be and 035 Se were reported in mg/L; their 2017
//! codes (w20111, w20115, w20117, w20119, w20120, w20127, w20128) are in µg/L, so values are
//! multiplied by 1000. Other old codes keep their values.

use rewater_standards::Factor;

/// A 2005 code mapped to 2017.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mapped {
    pub factor: Factor,
    /// Multiply old values by this to get the 2017 unit.
    pub scale: f64,
}

const MG_TO_UG: &[&str] = &["020", "022", "024", "026", "027", "034", "035"];

/// Maps a subject code as sent (2017 `w…` code or 2005 code) to a factor.
pub fn map_code(code: &str) -> Option<Mapped> {
    if code.starts_with('w') {
        return Factor::parse(code)
            .ok()
            .map(|factor| Mapped { factor, scale: 1.0 });
    }
    let factor = Factor::from_2005_code(code)?;
    let scale = if MG_TO_UG.contains(&code) {
        1000.0
    } else {
        1.0
    };
    Some(Mapped { factor, scale })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_codes_map_with_units() {
        assert_eq!(
            map_code("060").map(|m| (m.factor.code(), m.scale)),
            Some(("w21003", 1.0))
        );
        assert_eq!(map_code("011").map(|m| m.factor.code()), Some("w01018"));
        assert_eq!(map_code("B01").map(|m| m.factor.code()), Some("w00000"));
        assert_eq!(
            map_code("020").map(|m| (m.factor.code(), m.scale)),
            Some(("w20111", 1000.0))
        );
        assert_eq!(map_code("w21011").map(|m| m.factor.code()), Some("w21011"));
        assert_eq!(map_code("a21026"), None);
        assert_eq!(map_code("999"), None);
    }
}
