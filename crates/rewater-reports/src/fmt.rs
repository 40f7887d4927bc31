//! Numbers as a report writes them.

use crate::Lang;

/// A volume in m³ with thousands separators (no decimals).
pub fn m3(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// A share, or "not reported".
pub fn pct_or(v: Option<f64>, lang: Lang) -> String {
    v.map(pct)
        .unwrap_or_else(|| crate::labels::t("not_reported", lang))
}

/// A concentration with 2 significant decimals.
pub fn mg(v: Option<f64>, lang: Lang) -> String {
    v.map(|v| format!("{v:.2}"))
        .unwrap_or_else(|| crate::labels::t("not_reported", lang))
}

/// A month label: "3月" / "Mar 2025".
pub fn month(d: rewater_time::Date, lang: Lang) -> String {
    let (y, m, _) = d.ymd();
    match lang {
        Lang::Zh => format!("{m}月"),
        Lang::En => {
            const M: [&str; 12] = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ];
            format!("{} {y}", M[(m as usize).saturating_sub(1).min(11)])
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn volumes_and_shares() {
        assert_eq!(super::m3(1_234_567.4), "1,234,567");
        assert_eq!(super::m3(999.0), "999");
        assert_eq!(super::m3(-1000.0), "-1,000");
        assert_eq!(super::pct(0.7049), "70.5 %");
    }
}
