//! Physically plausible ranges of values, per factor, in the factor's HJ 212 unit.
//!
//! These are not instrument ranges or limits of a standard: they bound what water can hold, so
//! that a broken analyser or a hostile sender cannot put 1e306 or −1e306 into an hourly sum.
//! A value outside its range is stored with the HJ 212-2017 data flag it deserves (§6.6,
//! table of data flags): `T` (超测上限, above the measuring range) when too high, `D`
//! (故障, fault) when below the physical minimum (a negative concentration); a value that is not
//! a number is dropped and flagged `D`. Flagged readings never enter aggregates or series.
//!
//! Rationale of each bound (by the unit of the factor table in `rewater-standards`):
//! * mass concentrations ≥ 0 and ≤ 1,000,000 mg/L (1 kg/L: more than water's own mass per
//!   litre, so no aqueous sample exceeds it); µg/L and ng/L scaled;
//! * pH 0–14 (the scale of aqueous solutions that electrodes measure);
//! * water temperature −5 to 100 °C (liquid water at atmospheric pressure, with room for
//!   saline or supercooled samples);
//! * turbidity and colour ≥ 0 and ≤ 100,000 (NTU, Pt-Co degrees; far above what turbidimeters
//!   and colorimeters can read), dilution multiples ≤ 1,000,000;
//! * organisms ≤ 1e13 per litre (raw sewage carries about 1e10 faecal coliforms per litre);
//! * conductivity ≤ 1,000,000 µS/cm (saturated brine is about 250,000 µS/cm);
//! * flow ≥ 0 and ≤ 1e8 L/s or 1e10 m³/d (more than the Yangtze in flood, about 1e5 m³/s);
//! * radioactivity ≤ 1e9 Bq/L; cumulative amounts (`Cou`) ≥ 0 and ≤ 1e15.
//!
//! Factors outside the table are only required to be finite.

use rewater_standards::{Factor, Unit};
use std::collections::HashMap;

/// The lowest and highest plausible value of a factor (by its HJ 212-2017 code), if known.
pub fn plausible_range(factor_code: &str) -> Option<(f64, f64)> {
    static TABLE: std::sync::OnceLock<HashMap<&'static str, (f64, f64)>> =
        std::sync::OnceLock::new();
    TABLE
        .get_or_init(|| {
            Factor::all()
                .map(|f| (f.code(), range_of_unit(f.info().unit)))
                .collect()
        })
        .get(factor_code)
        .copied()
}

fn range_of_unit(unit: Unit) -> (f64, f64) {
    match unit {
        Unit::MgPerL => (0.0, 1e6),
        Unit::UgPerL => (0.0, 1e9),
        Unit::NgPerL => (0.0, 1e12),
        Unit::Ph => (0.0, 14.0),
        Unit::DegC => (-5.0, 100.0),
        Unit::Ntu | Unit::PtCo => (0.0, 1e5),
        Unit::Dilution => (0.0, 1e6),
        Unit::CountPerL | Unit::MpnPerL | Unit::CfuPerL => (0.0, 1e13),
        Unit::CountPer100mL | Unit::MpnPer100mL | Unit::CfuPer100mL => (0.0, 1e11),
        Unit::EggsPerL | Unit::EggsPer10L => (0.0, 1e6),
        Unit::BqPerL => (0.0, 1e9),
        Unit::MicroSiemensPerCm => (0.0, 1e6),
        Unit::LPerS => (0.0, 1e8),
        Unit::M3PerDay => (0.0, 1e10),
    }
}

/// Range of cumulative amounts (`-Cou`, loads and volumes).
pub const COU_RANGE: (f64, f64) = (0.0, 1e15);

/// The HJ 212 flag for a number against a range: None if plausible.
pub(crate) fn flag_for(v: f64, range: Option<(f64, f64)>) -> Option<&'static str> {
    if !v.is_finite() {
        return Some("D");
    }
    match range {
        Some((_, hi)) if v > hi => Some("T"),
        Some((lo, _)) if v < lo => Some("D"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_follow_the_factor_units() {
        assert_eq!(plausible_range("w01018"), Some((0.0, 1e6)));
        assert_eq!(plausible_range("w01001"), Some((0.0, 14.0)));
        assert_eq!(plausible_range("w01010"), Some((-5.0, 100.0)));
        assert_eq!(plausible_range("cod"), None, "aliases are not stored codes");
        assert_eq!(plausible_range("x99999"), None);
        assert_eq!(flag_for(1e306, plausible_range("w01018")), Some("T"));
        assert_eq!(flag_for(-1e306, plausible_range("w01018")), Some("D"));
        assert_eq!(flag_for(-0.1, plausible_range("w01018")), Some("D"));
        assert_eq!(flag_for(f64::NAN, None), Some("D"));
        assert_eq!(flag_for(f64::INFINITY, None), Some("D"));
        assert_eq!(flag_for(25.0, plausible_range("w01018")), None);
        assert_eq!(flag_for(-3.0, plausible_range("w01010")), None);
        assert_eq!(flag_for(1e300, None), None);
    }
}
