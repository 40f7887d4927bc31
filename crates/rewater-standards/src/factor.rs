//! Water-quality factors (监测因子) with their HJ 212-2017 codes.
//!
//! Codes come from HJ 212-2017 Appendix B Table B.1 (water) and, for turbidity, HJ 525-2009.
//! Factors the tables do not code (E. coli, chlorine, odour, …) get a rewater code that is a
//! plain word, so it can never clash with an HJ 212 `wNNNNN` code.

use crate::unit::Unit;
use std::fmt;

/// A factor known to rewater.
#[derive(Debug)]
pub struct FactorInfo {
    /// HJ 212 code (`w21003`) or rewater's own code.
    pub code: &'static str,
    /// Short names accepted in files and on the command line.
    pub aliases: &'static [&'static str],
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// The unit HJ 212 uses for the factor (or the usual one).
    pub unit: Unit,
    /// HJ/T 212-2005 code, where the 2005 table had one.
    pub code_2005: Option<&'static str>,
}

/// Index into the factor table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Factor(u16);

macro_rules! factors {
    ($(($code:literal, [$($alias:literal),*], $zh:literal, $en:literal, $unit:ident, $old:expr)),* $(,)?) => {
        /// The factor table.
        pub static FACTORS: &[FactorInfo] = &[
            $(FactorInfo { code: $code, aliases: &[$($alias),*], name_zh: $zh, name_en: $en, unit: Unit::$unit, code_2005: $old }),*
        ];
    };
}

factors![
    (
        "w00000",
        ["flow", "q"],
        "污水",
        "wastewater flow",
        LPerS,
        Some("B01")
    ),
    ("w01001", ["ph"], "pH值", "pH", Ph, Some("001")),
    (
        "w01002",
        ["color", "colour"],
        "色度",
        "colour",
        PtCo,
        Some("002")
    ),
    ("w01003", ["turbidity"], "浊度", "turbidity", Ntu, None),
    (
        "w01006",
        ["tds"],
        "溶解性总固体",
        "total dissolved solids",
        MgPerL,
        None
    ),
    ("w01009", ["do"], "溶解氧", "dissolved oxygen", MgPerL, None),
    (
        "w01010",
        ["water_temp", "temperature", "wt"],
        "水温",
        "water temperature",
        DegC,
        None
    ),
    (
        "w01012",
        ["ss", "tss"],
        "悬浮物",
        "suspended solids",
        MgPerL,
        Some("003")
    ),
    (
        "w01014",
        ["conductivity"],
        "电导率",
        "electrical conductivity",
        MicroSiemensPerCm,
        None
    ),
    (
        "w01017",
        ["bod5", "bod"],
        "五日生化需氧量",
        "five-day biochemical oxygen demand",
        MgPerL,
        Some("010")
    ),
    (
        "w01018",
        ["cod", "codcr"],
        "化学需氧量",
        "chemical oxygen demand (CODCr)",
        MgPerL,
        Some("011")
    ),
    (
        "w01019",
        ["codmn", "permanganate_index"],
        "高锰酸盐指数",
        "permanganate index (CODMn)",
        MgPerL,
        None
    ),
    (
        "w01020",
        ["toc"],
        "总有机碳",
        "total organic carbon",
        MgPerL,
        Some("015")
    ),
    (
        "w02003",
        ["fecal_coliform", "fecal_coliforms"],
        "粪大肠菌群",
        "fecal coliforms",
        CountPerL,
        Some("550")
    ),
    (
        "w02006",
        ["total_bacteria"],
        "细菌总数",
        "total bacterial count",
        CountPerL,
        None
    ),
    (
        "w19002",
        ["las"],
        "阴离子表面活性剂",
        "anionic surfactants (LAS)",
        MgPerL,
        Some("520")
    ),
    (
        "w20111",
        ["hg"],
        "总汞",
        "total mercury",
        UgPerL,
        Some("020")
    ),
    (
        "w20113",
        ["alkyl_hg"],
        "烷基汞",
        "alkyl mercury",
        NgPerL,
        Some("021")
    ),
    (
        "w20115",
        ["cd"],
        "总镉",
        "total cadmium",
        UgPerL,
        Some("022")
    ),
    (
        "w20116",
        ["cr_total", "cr"],
        "总铬",
        "total chromium",
        MgPerL,
        Some("023")
    ),
    (
        "w20117",
        ["cr6"],
        "六价铬",
        "hexavalent chromium",
        UgPerL,
        Some("024")
    ),
    (
        "w20119",
        ["as"],
        "总砷",
        "total arsenic",
        UgPerL,
        Some("026")
    ),
    ("w20120", ["pb"], "总铅", "total lead", UgPerL, Some("027")),
    (
        "w20121",
        ["ni"],
        "总镍",
        "total nickel",
        MgPerL,
        Some("028")
    ),
    (
        "w20122",
        ["cu"],
        "总铜",
        "total copper",
        MgPerL,
        Some("029")
    ),
    ("w20123", ["zn"], "总锌", "total zinc", MgPerL, Some("030")),
    (
        "w20124",
        ["mn"],
        "总锰",
        "total manganese",
        MgPerL,
        Some("031")
    ),
    ("w20125", ["fe"], "总铁", "total iron", MgPerL, Some("032")),
    (
        "w20128",
        ["se"],
        "总硒",
        "total selenium",
        UgPerL,
        Some("035")
    ),
    (
        "w21001",
        ["tn"],
        "总氮",
        "total nitrogen",
        MgPerL,
        Some("065")
    ),
    (
        "w21003",
        ["nh3n", "nh3-n", "nh4-n", "ammonia"],
        "氨氮",
        "ammonia nitrogen",
        MgPerL,
        Some("060")
    ),
    (
        "w21006",
        ["no2n", "nitrite"],
        "亚硝酸盐",
        "nitrite",
        MgPerL,
        Some("063")
    ),
    (
        "w21007",
        ["no3n", "nitrate"],
        "硝酸盐",
        "nitrate",
        MgPerL,
        Some("064")
    ),
    (
        "w21011",
        ["tp"],
        "总磷",
        "total phosphorus",
        MgPerL,
        Some("101")
    ),
    (
        "w21016",
        ["cyanide", "cn"],
        "氰化物",
        "cyanide",
        MgPerL,
        Some("070")
    ),
    (
        "w21017",
        ["fluoride", "f"],
        "氟化物",
        "fluoride",
        MgPerL,
        Some("072")
    ),
    (
        "w21019",
        ["sulfide"],
        "硫化物",
        "sulfide",
        MgPerL,
        Some("071")
    ),
    (
        "w21022",
        ["chloride", "cl"],
        "氯化物",
        "chloride",
        MgPerL,
        Some("090")
    ),
    ("w21038", ["sulfate"], "硫酸盐", "sulfate", MgPerL, None),
    (
        "w22001",
        ["petroleum", "oil"],
        "石油类",
        "petroleum",
        MgPerL,
        Some("080")
    ),
    (
        "w23002",
        ["volatile_phenol", "phenol"],
        "挥发酚",
        "volatile phenols",
        MgPerL,
        Some("110")
    ),
    (
        "e_coli",
        [],
        "大肠埃希氏菌",
        "Escherichia coli",
        MpnPer100mL,
        None
    ),
    (
        "animal_veg_oil",
        [],
        "动植物油",
        "animal and vegetable oils",
        MgPerL,
        None
    ),
    ("total_chlorine", [], "总氯", "total chlorine", MgPerL, None),
    (
        "residual_chlorine",
        ["free_chlorine"],
        "余氯",
        "residual chlorine",
        MgPerL,
        None
    ),
    ("odor", ["odour"], "嗅", "odour", MgPerL, None),
    (
        "appearance",
        [],
        "基本要求(外观)",
        "basic requirements (appearance)",
        MgPerL,
        None
    ),
    (
        "salinity",
        ["total_salt"],
        "全盐量",
        "total salt content",
        MgPerL,
        None
    ),
    ("silica", ["sio2"], "二氧化硅", "silica", MgPerL, None),
    (
        "total_hardness",
        ["hardness"],
        "总硬度",
        "total hardness (as CaCO3)",
        MgPerL,
        None
    ),
    (
        "total_alkalinity",
        ["alkalinity"],
        "总碱度",
        "total alkalinity (as CaCO3)",
        MgPerL,
        None
    ),
    (
        "helminth_eggs",
        ["roundworm_eggs"],
        "蛔虫卵数",
        "helminth (roundworm) eggs",
        EggsPer10L,
        None
    ),
    (
        "water_temp_weekly_rise",
        [],
        "水温(周平均最大温升)",
        "water temperature, max weekly mean rise",
        DegC,
        None
    ),
    (
        "water_temp_weekly_drop",
        [],
        "水温(周平均最大温降)",
        "water temperature, max weekly mean drop",
        DegC,
        None
    ),
    (
        "chla",
        ["chlorophyll_a"],
        "叶绿素a",
        "chlorophyll a",
        MgPerL,
        None
    ),
];

/// A factor name that matches nothing in the table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown factor '{0}' (use an HJ 212 code such as w21003 or a name such as nh3n, cod, tp; `rewater standards factors` lists them)")]
pub struct UnknownFactor(pub String);

impl Factor {
    /// Looks a factor up by HJ 212 code, 2005 code (with `old:` not needed when unambiguous),
    /// rewater code or alias, ignoring case.
    pub fn parse(s: &str) -> Result<Factor, UnknownFactor> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        FACTORS
            .iter()
            .position(|f| {
                f.code.eq_ignore_ascii_case(&lower) || f.aliases.iter().any(|a| *a == lower)
            })
            .map(|i| Factor(i as u16))
            .ok_or_else(|| UnknownFactor(t.to_string()))
    }

    /// Looks a factor up by its HJ/T 212-2005 code (e.g. `060` for NH3-N).
    pub fn from_2005_code(code: &str) -> Option<Factor> {
        FACTORS
            .iter()
            .position(|f| f.code_2005 == Some(code))
            .map(|i| Factor(i as u16))
    }

    /// The table entry.
    pub fn info(self) -> &'static FactorInfo {
        &FACTORS[self.0 as usize]
    }

    /// The code (HJ 212 where one exists).
    pub fn code(self) -> &'static str {
        self.info().code
    }

    /// Every factor.
    pub fn all() -> impl Iterator<Item = Factor> {
        (0..FACTORS.len() as u16).map(Factor)
    }

    /// Short readable name (first alias, else code).
    pub fn short_name(self) -> &'static str {
        self.info()
            .aliases
            .first()
            .copied()
            .unwrap_or(self.info().code)
    }

    /// True for factors whose values may be negative (temperatures).
    pub fn may_be_negative(self) -> bool {
        matches!(self.info().unit, Unit::DegC)
    }
}

impl fmt::Display for Factor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Factor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_aliases() {
        let nh3n = Factor::parse("w21003").unwrap();
        assert_eq!(Factor::parse("NH3-N").unwrap(), nh3n);
        assert_eq!(Factor::parse("nh3n").unwrap(), nh3n);
        assert_eq!(Factor::from_2005_code("060"), Some(nh3n));
        assert_eq!(nh3n.info().name_zh, "氨氮");
        assert!(Factor::parse("w99999").is_err());
        // Every code and alias is unique.
        let mut seen = std::collections::HashSet::new();
        for f in FACTORS {
            assert!(seen.insert(f.code.to_ascii_lowercase()), "{}", f.code);
            for a in f.aliases {
                assert!(seen.insert(a.to_string()), "{a}");
            }
        }
    }
}
