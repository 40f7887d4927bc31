//! A civil calendar date (proleptic Gregorian), enough for daily simulation and standards.

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

    /// The date of a wall-clock time given as seconds since 1970-01-01 00:00.
    pub fn from_wall_seconds(s: i64) -> Date {
        Date(s.div_euclid(86_400) as i32)
    }

    /// Wall-clock seconds at the start of this date.
    pub fn wall_seconds(self) -> i64 {
        self.0 as i64 * 86_400
    }

    /// The date for a year, month (1–12) and day (1–31), if it exists.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        // Days from civil (H. Hinnant's public-domain algorithm).
        let y = if month <= 2 { year - 1 } else { year };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (month as i32 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + day as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Date(era * 146_097 + doe - 719_468))
    }

    /// Year, month, day.
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
        (year, month, day)
    }

    /// Month, 1–12.
    pub fn month(self) -> u32 {
        self.ymd().1
    }

    /// The date `days` later (or earlier when negative).
    pub fn add_days(self, days: i32) -> Date {
        Date(self.0 + days)
    }

    /// Whole days from `other` to `self`.
    pub fn days_since(self, other: Date) -> i32 {
        self.0 - other.0
    }

    /// Day of the year, 1–366.
    pub fn ordinal(self) -> u32 {
        let (y, _, _) = self.ymd();
        (self.days_since(Date::from_ymd(y, 1, 1).unwrap_or(self)) + 1) as u32
    }

    /// (month, day), for yearly windows such as 1 December – 31 March.
    pub fn month_day(self) -> (u32, u32) {
        let (_, m, d) = self.ymd();
        (m, d)
    }
}

/// Days in a month of a year.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
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
        for days in -800_000..800_000 {
            if days % 97 != 0 {
                continue;
            }
            let d = Date(days);
            let (y, m, dd) = d.ymd();
            assert_eq!(Date::from_ymd(y, m, dd), Some(d));
        }
        assert_eq!("2024-02-29".parse::<Date>().map(|d| d.ordinal()), Ok(60));
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
