//! A civil calendar date (proleptic Gregorian, years −9999…9999): days since 1970-01-01 for
//! cheap arithmetic, with the calendar itself (validation, year/month/day, day of year) from jiff.

use std::fmt;
use std::str::FromStr;

/// A calendar date. Stored as days since 1970-01-01 so that arithmetic is cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

/// A date string that is not `YYYY-MM-DD` or not a real day.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a date of the form YYYY-MM-DD")]
pub struct DateError(pub String);

impl Date {
    /// 1970-01-01, the origin of wall-clock seconds.
    pub const EPOCH: Date = Date(0);
    /// -9999-01-01, the first date jiff represents.
    pub const MIN: Date = Date(-4_371_587);
    /// 9999-12-31, the last date jiff represents.
    pub const MAX: Date = Date(2_932_896);

    /// The date of a wall-clock time given as seconds since 1970-01-01 00:00 (clamped to
    /// [`Date::MIN`]…[`Date::MAX`]).
    pub fn from_wall_seconds(s: i64) -> Date {
        Date::from_days(s.div_euclid(86_400))
    }

    fn from_days(days: i64) -> Date {
        Date(days.clamp(Date::MIN.0 as i64, Date::MAX.0 as i64) as i32)
    }

    /// Wall-clock seconds at the start of this date.
    pub fn wall_seconds(self) -> i64 {
        self.0 as i64 * 86_400
    }

    /// The date for a year, month (1–12) and day (1–31), if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        let (y, m, d) = (
            i16::try_from(year).ok()?,
            i8::try_from(month).ok()?,
            i8::try_from(day).ok()?,
        );
        jiff::civil::Date::new(y, m, d).ok().map(Date::from_civil)
    }

    /// The date of a jiff civil date.
    pub fn from_civil(d: jiff::civil::Date) -> Date {
        let secs = d.duration_since(civil_epoch()).as_secs();
        Date::from_days(secs.div_euclid(86_400))
    }

    /// This date as a jiff civil date.
    pub fn to_civil(self) -> jiff::civil::Date {
        let span = jiff::SignedDuration::from_secs(self.wall_seconds());
        civil_epoch().checked_add(span).unwrap_or(civil_epoch())
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let d = self.to_civil();
        (d.year() as i32, d.month() as u32, d.day() as u32)
    }

    /// Month, 1–12.
    pub fn month(self) -> u32 {
        self.to_civil().month() as u32
    }

    /// The date `days` later (or earlier when negative), saturating at the ends of the range.
    pub fn add_days(self, days: i32) -> Date {
        Date::from_days(self.0 as i64 + days as i64)
    }

    /// Whole days from `other` to `self`.
    pub fn days_since(self, other: Date) -> i32 {
        self.0 - other.0
    }

    /// Day of the year, 1–366.
    pub fn ordinal(self) -> u32 {
        self.to_civil().day_of_year() as u32
    }

    /// (month, day), for yearly windows such as 1 December – 31 March.
    pub fn month_day(self) -> (u32, u32) {
        let d = self.to_civil();
        (d.month() as u32, d.day() as u32)
    }
}

fn civil_epoch() -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
}

/// Days in a month of a year (0 for a month outside 1–12).
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match (i16::try_from(year), i8::try_from(month)) {
        (Ok(y), Ok(m)) if (1..=12).contains(&m) => jiff::civil::Date::new(y, m, 1)
            .map(|d| d.days_in_month() as u32)
            .unwrap_or(0),
        _ => 0,
    }
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.to_string());
        let t = s.trim();
        let mut parts = t.splitn(3, '-');
        let (y, m, d) = (
            parts.next().ok_or_else(err)?,
            parts.next().ok_or_else(err)?,
            parts.next().ok_or_else(err)?,
        );
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(err());
        }
        let y: i32 = y.parse().map_err(|_| err())?;
        let m: u32 = m.parse().map_err(|_| err())?;
        let d: u32 = d.parse().map_err(|_| err())?;
        Date::from_ymd(y, m, d).ok_or_else(err)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_known_days() {
        assert_eq!(Date::from_ymd(1970, 1, 1), Some(Date::EPOCH));
        // 2025-06-01 00:00 wall clock is 1 748 736 000 s; one second earlier is 2025-05-31.
        assert_eq!(
            Date::from_wall_seconds(1_748_736_000).to_string(),
            "2025-06-01"
        );
        assert_eq!(
            Date::from_wall_seconds(1_748_735_999).to_string(),
            "2025-05-31"
        );
        assert_eq!(Date::from_wall_seconds(-1).to_string(), "1969-12-31");
        assert_eq!(
            "2025-06-01".parse::<Date>().map(Date::wall_seconds),
            Ok(1_748_736_000)
        );
        assert_eq!(Date::from_ymd(2000, 3, 1).map(|d| d.0), Some(11_017));
        for days in -800_000..800_000i32 {
            if days % 97 != 0 {
                continue;
            }
            let d = Date(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
        assert_eq!("2024-02-29".parse::<Date>().map(|d| d.ordinal()), Ok(60));
        assert_eq!(Date::from_ymd(-9999, 1, 1), Some(Date::MIN));
        assert_eq!(Date::from_ymd(9999, 12, 31), Some(Date::MAX));
        assert_eq!(Date::from_wall_seconds(i64::MAX), Date::MAX);
        assert_eq!(Date::from_wall_seconds(i64::MIN), Date::MIN);
        assert_eq!(Date::MAX.add_days(i32::MAX), Date::MAX);
        assert_eq!(days_in_month(2024, 2), 29);
        assert_eq!(days_in_month(1900, 2), 28);
        assert_eq!(days_in_month(2000, 2), 29);
        assert_eq!(days_in_month(2025, 13), 0);
        assert!("2023-02-29".parse::<Date>().is_err());
        assert!("2023-2-1".parse::<Date>().is_err());
        assert_eq!(
            "2025-12-31"
                .parse::<Date>()
                .unwrap()
                .add_days(1)
                .to_string(),
            "2026-01-01"
        );
    }
}
