//! `[EVAPORATION]`: constant or monthly rates; other forms are noted and taken as zero.

use super::parser::{Parser, Units};
use crate::runoff::Evaporation;
use crate::OverflowError;

pub(super) fn read_evaporation(
    p: &Parser,
    units: Units,
    start_s: i64,
    end_s: i64,
) -> Result<Evaporation, OverflowError> {
    let mut evap_monthly = [0.0; 12];
    let mut dry_only = false;
    for l in p.section("EVAPORATION") {
        match l.tokens[0].to_ascii_uppercase().as_str() {
            "CONSTANT" => evap_monthly = [p.num(l, 1, "evaporation rate")? * units.depth_mm(); 12],
            "MONTHLY" => {
                for (m, v) in evap_monthly.iter_mut().enumerate() {
                    *v = p.num(l, m + 1, "monthly evaporation")? * units.depth_mm();
                }
            }
            "DRY_ONLY" => {
                dry_only = l
                    .tokens
                    .get(1)
                    .is_some_and(|v| v.eq_ignore_ascii_case("YES"))
            }
            "RECOVERY" => {
                p.note("[EVAPORATION] RECOVERY pattern ignored".into());
            }
            other => {
                p.note(format!(
                    "[EVAPORATION] {other} is not supported; evaporation taken as zero unless CONSTANT or MONTHLY is also given"
                ));
            }
        }
    }
    Ok(Evaporation::monthly(evap_monthly, dry_only, start_s, end_s))
}
