//! rewater's one notion of time (时间模型), on the maintained `jiff` crate.
//!
//! - [`Date`]: a calendar date (proleptic Gregorian, years −9999…9999), for daily simulation,
//!   standards' seasonal windows and report periods.
//! - *Wall seconds*: seconds since 1970-01-01 00:00 **of the local wall clock**, with no zone
//!   applied. Data loggers send local time (HJ 212 `DataTime`, Beijing time in China) and daily
//!   models count local days, so readings are keyed by wall seconds; a [`Zone`] converts them to
//!   and from instants (Unix seconds) for "now", for the API and for display.
//! - [`Zone`]: a named IANA time zone, `Asia/Shanghai` by default and configurable; the API
//!   speaks RFC 3339 with the zone's offset ([`Zone::rfc3339_wall`], [`Zone::rfc3339_ms`]) and
//!   accepts RFC 3339 ([`parse_rfc3339_ms`]).

mod date;

pub use date::{days_in_month, Date, DateError};

use jiff::tz::TimeZone;
use jiff::Timestamp;

/// The zone rewater uses unless configured otherwise (China Standard Time, UTC+8, no DST since 1991).
pub const DEFAULT_ZONE: &str = "Asia/Shanghai";

/// Seconds in a day.
pub const DAY_S: i64 = 86_400;

/// A time that cannot be read or has no meaning here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("unknown time zone '{0}' (an IANA name such as Asia/Shanghai or UTC)")]
    UnknownZone(String),
    #[error("'{0}' is not an RFC 3339 time with an offset (e.g. 2026-12-01T08:00:00+08:00)")]
    NotRfc3339(String),
    #[error("time {0} is outside the years −9999…9999")]
    OutOfRange(i64),
}

/// A named time zone for converting wall-clock times to instants and back.
#[derive(Debug, Clone)]
pub struct Zone {
    name: String,
    tz: TimeZone,
}

impl Default for Zone {
    fn default() -> Zone {
        Zone::shanghai()
    }
}

impl PartialEq for Zone {
    fn eq(&self, other: &Zone) -> bool {
        self.name == other.name
    }
}

impl Zone {
    /// Asia/Shanghai (the bundled database always has it; UTC+8 if it somehow did not).
    pub fn shanghai() -> Zone {
        Zone::named(DEFAULT_ZONE).unwrap_or_else(|_| Zone {
            name: DEFAULT_ZONE.to_string(),
            tz: TimeZone::fixed(jiff::tz::offset(8)),
        })
    }

    /// A zone by IANA name ("Asia/Shanghai", "UTC", "Asia/Urumqi").
    pub fn named(name: &str) -> Result<Zone, TimeError> {
        let name = name.trim();
        if name.is_empty() || name.len() > 64 {
            return Err(TimeError::UnknownZone(name.chars().take(64).collect()));
        }
        let tz = TimeZone::get(name).map_err(|_| TimeError::UnknownZone(name.to_string()))?;
        Ok(Zone {
            name: name.to_string(),
            tz,
        })
    }

    /// The IANA name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Wall seconds at the instant `unix_s` (seconds since 1970-01-01T00:00Z).
    /// Instants outside jiff's range are clamped to it.
    pub fn wall_seconds(&self, unix_s: i64) -> i64 {
        let ts = clamp_timestamp(unix_s);
        civil_to_wall(self.tz.to_datetime(ts))
    }

    /// The UTC offset in seconds at the instant `unix_s`.
    pub fn offset_s(&self, unix_s: i64) -> i64 {
        self.wall_seconds(unix_s) - clamp_timestamp(unix_s).as_second()
    }

    /// The instant (Unix seconds) of wall seconds `wall_s`; a wall time that occurs twice or
    /// never (DST changes) takes the earlier offset, as most data loggers do.
    pub fn unix_seconds(&self, wall_s: i64) -> i64 {
        let dt = wall_to_civil(wall_s);
        match self.tz.to_ambiguous_timestamp(dt).compatible() {
            Ok(ts) => ts.as_second(),
            Err(_) => wall_s - self.offset_s(wall_s),
        }
    }

    /// Wall seconds now.
    pub fn now_wall_seconds(&self) -> i64 {
        self.wall_seconds(Timestamp::now().as_second())
    }

    /// Today's date in this zone.
    pub fn today(&self) -> Date {
        Date::from_wall_seconds(self.now_wall_seconds())
    }

    /// RFC 3339 with this zone's offset for wall seconds: `2026-12-01T08:00:00+08:00`.
    pub fn rfc3339_wall(&self, wall_s: i64) -> String {
        self.rfc3339_unix(self.unix_seconds(wall_s))
    }

    /// RFC 3339 with this zone's offset for Unix seconds.
    pub fn rfc3339_unix(&self, unix_s: i64) -> String {
        let z = clamp_timestamp(unix_s).to_zoned_datetime(self.tz.clone());
        z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
    }

    /// RFC 3339 with this zone's offset for Unix milliseconds (the milliseconds dropped:
    /// display and the API need seconds; stored values keep their milliseconds).
    pub fn rfc3339_ms(&self, unix_ms: i64) -> String {
        self.rfc3339_unix(unix_ms.div_euclid(1000))
    }
}

/// The instant an RFC 3339 time names, in Unix milliseconds. The offset is required
/// (`Z` or `±hh:mm`): a time without one is ambiguous.
pub fn parse_rfc3339_ms(s: &str) -> Result<i64, TimeError> {
    let t = s.trim();
    if t.len() > 40 {
        return Err(TimeError::NotRfc3339(t.chars().take(40).collect()));
    }
    t.parse::<Timestamp>()
        .map(Timestamp::as_millisecond)
        .map_err(|_| TimeError::NotRfc3339(t.to_string()))
}

/// Unix milliseconds now.
pub fn now_unix_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

fn clamp_timestamp(unix_s: i64) -> Timestamp {
    let s = unix_s.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn civil_to_wall(dt: jiff::civil::DateTime) -> i64 {
    let days = Date::from_civil(dt.date()).days_since(Date::EPOCH) as i64;
    days * DAY_S + dt.hour() as i64 * 3600 + dt.minute() as i64 * 60 + dt.second() as i64
}

fn wall_to_civil(wall_s: i64) -> jiff::civil::DateTime {
    let date = Date::from_wall_seconds(wall_s);
    let rest = wall_s
        .saturating_sub(date.wall_seconds())
        .clamp(0, DAY_S - 1);
    let t = jiff::civil::Time::new(
        (rest / 3600) as i8,
        (rest % 3600 / 60) as i8,
        (rest % 60) as i8,
        0,
    )
    .unwrap_or(jiff::civil::Time::MIN);
    date.to_civil().to_datetime(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shanghai_is_utc_plus_8() {
        let z = Zone::shanghai();
        // 2026-12-01T00:00:00Z = 1 796 083 200 s (hand: 20 788 days × 86 400).
        let unix = 20_788 * DAY_S;
        assert_eq!(Date::from_wall_seconds(unix).to_string(), "2026-12-01");
        assert_eq!(z.wall_seconds(unix), unix + 8 * 3600);
        assert_eq!(z.unix_seconds(unix + 8 * 3600), unix);
        assert_eq!(z.offset_s(unix), 28_800);
        assert_eq!(z.rfc3339_unix(unix), "2026-12-01T08:00:00+08:00");
        assert_eq!(z.rfc3339_wall(unix), "2026-12-01T00:00:00+08:00");
        assert_eq!(z.rfc3339_ms(unix * 1000 + 999), "2026-12-01T08:00:00+08:00");
        // China kept DST in 1986–1991: 1988-07-01 12:00 local was UTC+9.
        let wall_1988 = Date::from_ymd(1988, 7, 1).unwrap().wall_seconds() + 12 * 3600;
        assert_eq!(wall_1988 - z.unix_seconds(wall_1988), 9 * 3600);
    }

    #[test]
    fn other_zones_and_errors() {
        let utc = Zone::named("UTC").unwrap();
        assert_eq!(utc.wall_seconds(12_345), 12_345);
        assert_eq!(utc.rfc3339_unix(0), "1970-01-01T00:00:00+00:00");
        let urumqi = Zone::named("Asia/Urumqi").unwrap();
        assert_eq!(urumqi.offset_s(1_796_083_200), 6 * 3600);
        assert!(matches!(
            Zone::named("Mars/Olympus"),
            Err(TimeError::UnknownZone(_))
        ));
        assert!(Zone::named("").is_err());
        assert!(Zone::named(&"x".repeat(10_000)).is_err());
    }

    #[test]
    fn rfc3339_round_trip_and_refusals() {
        let z = Zone::shanghai();
        let ms = parse_rfc3339_ms("2026-12-01T08:00:00+08:00").unwrap();
        assert_eq!(ms, 1_796_083_200_000);
        assert_eq!(parse_rfc3339_ms("2026-12-01T00:00:00Z").unwrap(), ms);
        assert_eq!(z.rfc3339_ms(ms), "2026-12-01T08:00:00+08:00");
        for bad in [
            "2026-12-01T08:00:00",
            "2026-12-01",
            "yesterday",
            "",
            "-9223372036854775807",
        ] {
            assert!(parse_rfc3339_ms(bad).is_err(), "{bad}");
        }
        assert!(parse_rfc3339_ms(&"9".repeat(1000)).is_err());
    }

    #[test]
    fn extreme_instants_are_clamped_not_panics() {
        let z = Zone::shanghai();
        for s in [i64::MIN, i64::MAX, -1, 0] {
            let w = z.wall_seconds(s);
            let _ = z.unix_seconds(w);
            let _ = z.rfc3339_unix(s);
        }
        assert!(z.rfc3339_unix(i64::MAX).starts_with("9999-12-"));
    }
}
