//! Units of water-quality measurements, with conversion only where it is meaningful.
//!
//! Mass concentrations convert among mg/L, µg/L and ng/L; organism counts among per-L and
//! per-100 mL (1 per 100 mL = 10 per L). CFU, MPN and plain counts (个) are treated as the same
//! measure, as the standards themselves do ("MPN/100 mL or CFU/100 mL" in GB/T 18920-2020,
//! 个/100 mL in GB 5084-2005 becoming MPN/L in GB 5084-2021). Colour in Pt-Co degrees and colour
//! as a dilution multiple (GB 18918) are different methods and never convert.

use std::fmt;

/// A unit of measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    MgPerL,
    UgPerL,
    NgPerL,
    Ntu,
    /// Platinum-cobalt colour degrees (度, Hazen).
    PtCo,
    /// Colour as a dilution multiple (稀释倍数).
    Dilution,
    CountPerL,
    CountPer100mL,
    MpnPerL,
    MpnPer100mL,
    CfuPerL,
    CfuPer100mL,
    EggsPerL,
    EggsPer10L,
    /// pH has no unit.
    Ph,
    DegC,
    BqPerL,
    MicroSiemensPerCm,
    LPerS,
    M3PerDay,
}

/// What a unit measures; only units of one kind convert into each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    MassConcentration,
    Turbidity,
    ColourPtCo,
    ColourDilution,
    Organisms,
    Eggs,
    Ph,
    Temperature,
    Radioactivity,
    Conductivity,
    Flow,
}

/// A unit that cannot be parsed or a conversion that has no meaning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("unknown unit '{0}' (expected e.g. mg/L, µg/L, NTU, Pt-Co, dilution, CFU/L, MPN/100mL, pH, °C)")]
    Unknown(String),
    #[error("cannot convert {from} to {to}: they measure different things")]
    Incompatible { from: Unit, to: Unit },
}

impl Unit {
    /// Parses a unit as written in standards, data files and loggers (case and spaces ignored).
    pub fn parse(s: &str) -> Result<Unit, UnitError> {
        let n: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let n = n
            .replace(['μ', 'µ'], "u")
            .replace('³', "3")
            .replace('℃', "°c");
        Ok(match n.as_str() {
            "mg/l" => Unit::MgPerL,
            "ug/l" => Unit::UgPerL,
            "ng/l" => Unit::NgPerL,
            "ntu" => Unit::Ntu,
            "pt-co" | "ptco" | "度" | "degree" | "degrees" | "hazen" | "铂钴色度单位" => {
                Unit::PtCo
            }
            "dilution" | "dilutionmultiple" | "倍" | "稀释倍数" => Unit::Dilution,
            "count/l" | "个/l" => Unit::CountPerL,
            "count/100ml" | "个/100ml" => Unit::CountPer100mL,
            "mpn/l" => Unit::MpnPerL,
            "mpn/100ml" => Unit::MpnPer100mL,
            "cfu/l" => Unit::CfuPerL,
            "cfu/100ml" => Unit::CfuPer100mL,
            "eggs/l" => Unit::EggsPerL,
            "eggs/10l" | "个/10l" | "count/10l" => Unit::EggsPer10L,
            "ph" | "dimensionless" | "无量纲" => Unit::Ph,
            "°c" | "degc" | "c" => Unit::DegC,
            "bq/l" => Unit::BqPerL,
            "us/cm" => Unit::MicroSiemensPerCm,
            "l/s" => Unit::LPerS,
            "m3/d" | "m3/day" => Unit::M3PerDay,
            _ => return Err(UnitError::Unknown(s.to_string())),
        })
    }

    /// What the unit measures.
    pub fn kind(self) -> Kind {
        use Unit::*;
        match self {
            MgPerL | UgPerL | NgPerL => Kind::MassConcentration,
            Ntu => Kind::Turbidity,
            PtCo => Kind::ColourPtCo,
            Dilution => Kind::ColourDilution,
            CountPerL | CountPer100mL | MpnPerL | MpnPer100mL | CfuPerL | CfuPer100mL => {
                Kind::Organisms
            }
            EggsPerL | EggsPer10L => Kind::Eggs,
            Ph => Kind::Ph,
            DegC => Kind::Temperature,
            BqPerL => Kind::Radioactivity,
            MicroSiemensPerCm => Kind::Conductivity,
            LPerS | M3PerDay => Kind::Flow,
        }
    }

    /// Factor to the base unit of the kind (mg/L, per L, eggs per L, m³/d).
    fn scale(self) -> f64 {
        use Unit::*;
        match self {
            UgPerL => 1e-3,
            NgPerL => 1e-6,
            CountPer100mL | MpnPer100mL | CfuPer100mL => 10.0,
            EggsPer10L => 0.1,
            LPerS => 86.4,
            _ => 1.0,
        }
    }

    /// Converts `value` from this unit to `to`.
    pub fn convert(self, value: f64, to: Unit) -> Result<f64, UnitError> {
        if self == to {
            return Ok(value);
        }
        if self.kind() != to.kind() {
            return Err(UnitError::Incompatible { from: self, to });
        }
        Ok(value * self.scale() / to.scale())
    }

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        use Unit::*;
        match self {
            MgPerL => "mg/L",
            UgPerL => "µg/L",
            NgPerL => "ng/L",
            Ntu => "NTU",
            PtCo => "Pt-Co",
            Dilution => "dilution",
            CountPerL => "count/L",
            CountPer100mL => "count/100mL",
            MpnPerL => "MPN/L",
            MpnPer100mL => "MPN/100mL",
            CfuPerL => "CFU/L",
            CfuPer100mL => "CFU/100mL",
            EggsPerL => "eggs/L",
            EggsPer10L => "eggs/10L",
            Ph => "pH",
            DegC => "°C",
            BqPerL => "Bq/L",
            MicroSiemensPerCm => "µS/cm",
            LPerS => "L/s",
            M3PerDay => "m3/d",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Unit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_within_a_kind() {
        assert_eq!(
            Unit::parse("µg/L").unwrap().convert(1500.0, Unit::MgPerL),
            Ok(1.5)
        );
        assert_eq!(Unit::parse("ug/l").unwrap(), Unit::UgPerL);
        assert_eq!(Unit::parse("μg/L").unwrap(), Unit::UgPerL); // Greek mu, not the micro sign
        assert!((Unit::MgPerL.convert(0.0001, Unit::NgPerL).unwrap() - 100.0).abs() < 1e-9);
        // GB 5084: 4000 per 100 mL (2005) = 40000 MPN/L (2021).
        assert_eq!(
            Unit::CountPer100mL.convert(4000.0, Unit::MpnPerL),
            Ok(40000.0)
        );
        assert_eq!(Unit::EggsPer10L.convert(20.0, Unit::EggsPerL), Ok(2.0));
        assert_eq!(Unit::LPerS.convert(1.0, Unit::M3PerDay), Ok(86.4));
        assert_eq!(Unit::parse("℃").unwrap(), Unit::DegC);
    }

    #[test]
    fn refuses_meaningless_conversions() {
        assert!(matches!(
            Unit::MgPerL.convert(1.0, Unit::Ntu),
            Err(UnitError::Incompatible { .. })
        ));
        assert!(Unit::PtCo.convert(30.0, Unit::Dilution).is_err());
        assert!(Unit::Ph.convert(7.0, Unit::MgPerL).is_err());
        assert!(matches!(Unit::parse("mg/m3"), Err(UnitError::Unknown(_))));
        assert!(Unit::parse("mgl").is_err());
    }
}
