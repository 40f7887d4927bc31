//! Wall-clock time of overflow runs, on rewater's one time model ([`rewater_time`]).
//!
//! A time is an `i64` of *wall seconds*: seconds since 1970-01-01 00:00 of the local wall
//! clock, no zone applied (rain records and SWMM files are in local standard time). The
//! step clock of the hot loops stays that plain integer: a step is `start + k·step`, hours
//! and days are divisions, and nothing is allocated or looked up per step. The calendar —
//! which dates exist, year, month, day of week, formatting — is jiff's civil calendar
//! through [`rewater_time::Date`], asked at most once an hour (dry-weather patterns) or a
//! day (yearly tallies, evaporation) in those loops.

pub use rewater_time::{Date, DAY_S};

/// Parse `YYYY-MM-DD[ T]HH:MM[:SS]`, `YYYY-MM-DD`, `YYYY/MM/DD HH:MM` or SWMM's
/// `MM/DD/YYYY [HH:MM[:SS]]`.
pub fn parse_datetime(text: &str) -> Option<i64> {
    let text = text.trim();
    let (date, clock) = match text.find(['T', ' ']) {
        Some(i) => (&text[..i], text[i + 1..].trim()),
        None => (text, ""),
    };
    let day = parse_date(date)?;
    let secs = if clock.is_empty() {
        0
    } else {
        parse_clock(clock)?
    };
    Some(day.wall_seconds() + secs)
}

/// A date as `YYYY-MM-DD`, `YYYY/MM/DD` or `MM/DD/YYYY`.
pub fn parse_date(text: &str) -> Option<Date> {
    let parts: Vec<&str> = text.split(['-', '/']).collect();
    if parts.len() != 3 {
        return None;
    }
    let nums: Vec<i64> = parts
        .iter()
        .map(|p| p.trim().parse::<i64>().ok())
        .collect::<Option<_>>()?;
    let (y, m, d) = if parts[0].len() == 4 {
        (nums[0], nums[1], nums[2])
    } else {
        (nums[2], nums[0], nums[1])
    };
    if !(1..=9999).contains(&y) {
        return None;
    }
    Date::from_ymd(y as i32, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// `HH:MM[:SS]` (hours may exceed 24 for SWMM elapsed times) or decimal hours; at most
/// the longest simulation ([`crate::limits::MAX_HORIZON_S`]).
pub fn parse_clock(text: &str) -> Option<i64> {
    const MAX_H: i64 = crate::limits::MAX_HORIZON_S / 3600;
    let text = text.trim();
    if !text.contains(':') {
        let h: f64 = text.parse().ok()?;
        return (h.is_finite() && (0.0..=MAX_H as f64).contains(&h))
            .then(|| (h * 3600.0).round() as i64);
    }
    let mut parts = text.split(':');
    let h: i64 = parts.next()?.trim().parse().ok()?;
    let m: i64 = parts.next()?.trim().parse().ok()?;
    let s: f64 = match parts.next() {
        Some(s) => s.trim().parse().ok()?,
        None => 0.0,
    };
    if parts.next().is_some()
        || !(0..=MAX_H).contains(&h)
        || !(0..60).contains(&m)
        || !(0.0..60.0).contains(&s)
    {
        return None;
    }
    Some(h * 3600 + m * 60 + s.round() as i64)
}

/// A wall time's calendar fields, from one calendar lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    /// 1–12.
    pub month: usize,
    pub day: u32,
    /// 0 = Sunday … 6 = Saturday (SWMM's DAILY patterns start on Sunday).
    pub weekday: usize,
    /// 0–23.
    pub hour: usize,
    pub minute: usize,
}

/// The calendar fields of wall seconds `t`.
pub fn civil_of(t: i64) -> Civil {
    let date = Date::from_wall_seconds(t).to_civil();
    let s = t.rem_euclid(DAY_S);
    Civil {
        year: date.year() as i32,
        month: date.month() as usize,
        day: date.day() as u32,
        weekday: date.weekday().to_sunday_zero_offset() as usize,
        hour: (s / 3600) as usize,
        minute: (s / 60 % 60) as usize,
    }
}

/// `YYYY-MM-DD HH:MM`.
pub fn format_datetime(t: i64) -> String {
    let c = civil_of(t);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute
    )
}

/// Wall seconds at the start of January 1 of `year`.
pub fn year_start(year: i32) -> i64 {
    Date::from_ymd(year, 1, 1).map_or(0, |d| d.wall_seconds())
}

/// The fraction of calendar year `year` inside `[start_s, end_s)`.
pub fn year_covered(year: i32, start_s: i64, end_s: i64) -> f64 {
    let (a, b) = (year_start(year), year_start(year + 1));
    let inside = (end_s.min(b) - start_s.max(a)).max(0);
    inside as f64 / (b - a) as f64
}

/// The length of `[start_s, end_s)` in calendar years: each year counts the fraction of
/// it inside (a run of exactly 2002, or of 2000 with its 366 days, is 1 year).
pub fn calendar_years(start_s: i64, end_s: i64) -> f64 {
    if end_s <= start_s {
        return 0.0;
    }
    (year_of(start_s)..=year_of(end_s - 1))
        .map(|y| year_covered(y, start_s, end_s))
        .sum()
}

/// Calendar year of a time.
pub fn year_of(t: i64) -> i32 {
    civil_of(t).year
}

/// Month 1–12 of a time.
pub fn month_of(t: i64) -> usize {
    civil_of(t).month
}

/// Day of week, 0 = Sunday … 6 = Saturday.
pub fn weekday_of(t: i64) -> usize {
    civil_of(t).weekday
}

/// Hour of the day, 0–23 (no calendar needed).
pub fn hour_of(t: i64) -> usize {
    (t.rem_euclid(DAY_S) / 3600) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_years_count_each_year_by_its_own_length() {
        let t = |s: &str| parse_datetime(s).unwrap();
        // Exactly 2002, and exactly the leap year 2000: one year each (not 0.9993).
        assert_eq!(
            calendar_years(t("2002-01-01 00:00"), t("2003-01-01 00:00")),
            1.0
        );
        assert_eq!(
            calendar_years(t("2000-01-01 00:00"), t("2001-01-01 00:00")),
            1.0
        );
        // July 2001 to July 2003: half of 2001, all of 2002, half of 2003.
        let y = calendar_years(t("2001-07-02 12:00"), t("2003-07-02 12:00"));
        let want = (365.0 - 182.5) / 365.0 + 1.0 + 182.5 / 365.0;
        assert!((y - want).abs() < 1e-12, "{y}");
        assert_eq!(
            year_covered(2002, t("2001-07-02 12:00"), t("2003-07-02 12:00")),
            1.0
        );
        assert_eq!(
            year_covered(2004, t("2001-07-02 12:00"), t("2003-07-02 12:00")),
            0.0
        );
    }

    #[test]
    fn parses_the_usual_forms() {
        let t = parse_datetime("2021-07-01 06:30").unwrap();
        assert_eq!(format_datetime(t), "2021-07-01 06:30");
        assert_eq!(parse_datetime("07/01/2021 06:30:00"), Some(t));
        assert_eq!(parse_datetime("2021-07-01T06:30:00"), Some(t));
        assert_eq!(parse_datetime("2021/07/01 06:30"), Some(t));
        assert_eq!(parse_datetime("2021-02-30 00:00"), None);
        assert_eq!(parse_datetime("2021-07-01 06:75"), None);
        assert_eq!(parse_clock("1.5"), Some(5400));
        assert_eq!(parse_clock("30:00"), Some(108_000));
    }

    #[test]
    fn weekday_and_hour() {
        // 2021-07-04 was a Sunday.
        let t = parse_datetime("2021-07-04 13:10").unwrap();
        assert_eq!(weekday_of(t), 0);
        assert_eq!(hour_of(t), 13);
        assert_eq!(month_of(t), 7);
        assert_eq!(year_of(t), 2021);
        // Across the epoch and at the ends of the allowed years.
        assert_eq!(weekday_of(-1), 3, "1969-12-31 was a Wednesday");
        assert_eq!(format_datetime(-60), "1969-12-31 23:59");
        let t = parse_datetime("9999-12-31 23:00").unwrap();
        assert_eq!(civil_of(t).weekday, 5, "9999-12-31 is a Friday");
        assert_eq!(parse_date("10000-01-01"), None);
        assert_eq!(parse_date("0000-01-01"), None);
        assert_eq!(parse_clock("99999999999999:00"), None);
        assert_eq!(parse_clock("1e300"), None);
    }
}
