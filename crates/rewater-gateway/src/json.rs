//! The JSON form of an upload, for transports that carry whole messages (MQTT). One object:
//!
//! ```json
//! {"mn": "RW0001", "pw": "secret", "cn": "2051", "data_time": "20250601120000", "pno": 1,
//!  "readings": {"w01018": {"avg": 23.5, "min": 20.1, "max": 25.0, "flag": "N"},
//!               "w00000": {"avg": 12.0, "cou": 800.0}}}
//! ```
//!
//! `cn` is the HJ 212 command (2011 real-time, 2051 minute, 2061 hourly, 2031 daily; default
//! 2051), `data_time` the HJ 212 `DataTime` (`YYYYMMDDhhmmss`, the device's wall clock), `pno`
//! optional (1). Each reading takes `rtd` (2011) or `avg`, and optionally `min`, `max`, `cou`
//! and `flag` (HJ 212 data flag); 2005 factor codes are mapped as for TCP frames. The same
//! checks apply as to frames: the device's MN and password, then the store's rules.

use rewater_hj212::compat::map_code;
use rewater_hj212::DataTime;
use rewater_store::{FactorReading, Upload};
use std::collections::BTreeMap;

/// Largest JSON upload taken (an HJ 212 frame is at most 10 KB).
pub const MAX_JSON_BYTES: usize = 16 * 1024;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonUpload {
    mn: String,
    #[serde(default)]
    pw: String,
    #[serde(default = "minute_cn")]
    cn: String,
    data_time: String,
    #[serde(default)]
    pno: Option<u32>,
    readings: BTreeMap<String, JsonReading>,
}

fn minute_cn() -> String {
    "2051".into()
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonReading {
    rtd: Option<f64>,
    avg: Option<f64>,
    min: Option<f64>,
    max: Option<f64>,
    cou: Option<f64>,
    flag: Option<String>,
}

/// Why a JSON upload was not taken.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum JsonError {
    #[error("JSON upload of {0} bytes, more than {MAX_JSON_BYTES}")]
    TooLarge(usize),
    #[error("not a JSON upload: {0}")]
    Syntax(String),
    #[error("data_time '{0}' is not YYYYMMDDhhmmss")]
    DataTime(String),
    #[error("no reading with a value")]
    NoReadings,
}

/// Parses a JSON upload; returns it with the password it carries.
pub fn parse(payload: &[u8], peer: &str) -> Result<(Upload, String), JsonError> {
    if payload.len() > MAX_JSON_BYTES {
        return Err(JsonError::TooLarge(payload.len()));
    }
    let j: JsonUpload =
        serde_json::from_slice(payload).map_err(|e| JsonError::Syntax(e.to_string()))?;
    let t = DataTime::parse(&j.data_time)
        .ok_or_else(|| JsonError::DataTime(j.data_time.chars().take(32).collect()))?;
    let realtime = j.cn == "2011";
    let readings: Vec<FactorReading> = j
        .readings
        .iter()
        .map(|(code, r)| {
            let (code, scale) = match map_code(code) {
                Some(m) => (m.factor.code().to_string(), m.scale),
                None => (code.to_string(), 1.0),
            };
            let first = if realtime {
                r.rtd.or(r.avg)
            } else {
                r.avg.or(r.rtd)
            };
            FactorReading {
                factor: code,
                value: first.map(|v| v * scale),
                min: r.min.map(|v| v * scale),
                max: r.max.map(|v| v * scale),
                cou: r.cou,
                flag: r.flag.clone(),
            }
        })
        .filter(|r| r.value.is_some() || r.cou.is_some())
        .collect();
    if readings.is_empty() {
        return Err(JsonError::NoReadings);
    }
    let upload = Upload {
        mn: j.mn,
        cn: j.cn,
        data_time: t.wall_seconds(),
        pno: j.pno.unwrap_or(1),
        received_at_ms: crate::writer::now_ms(),
        peer: peer.to_string(),
        raw: String::from_utf8_lossy(payload).into_owned(),
        readings,
    };
    Ok((upload, j.pw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_upload_reads_as_the_frame_would() {
        let p = br#"{"mn": "RW1", "pw": "x", "data_time": "20250601120000",
            "readings": {"w01018": {"avg": 23.5, "min": 20.0, "max": 25.0, "flag": "N"}, "020": {"avg": 0.5}}}"#;
        let (u, pw) = parse(p, "mqtt").unwrap();
        assert_eq!(pw, "x");
        assert_eq!((u.mn.as_str(), u.cn.as_str(), u.pno), ("RW1", "2051", 1));
        // 2025-06-01 12:00:00 wall clock = 20,240 days + 12 h.
        assert_eq!(u.data_time, 20_240 * 86_400 + 12 * 3600);
        let cod = u.readings.iter().find(|r| r.factor == "w01018").unwrap();
        assert_eq!(
            (cod.value, cod.min, cod.max),
            (Some(23.5), Some(20.0), Some(25.0))
        );
        // The 2005 code 020 (mercury, mg/L) is w20111 in µg/L: × 1000, as for frames.
        let hg = u.readings.iter().find(|r| r.factor != "w01018").unwrap();
        assert_eq!((hg.factor.as_str(), hg.value), ("w20111", Some(500.0)));
    }

    #[test]
    fn hostile_json_is_refused_with_a_reason() {
        let big = vec![b' '; MAX_JSON_BYTES + 1];
        assert_eq!(
            parse(&big, "p").unwrap_err(),
            JsonError::TooLarge(MAX_JSON_BYTES + 1)
        );
        for bad in [
            &b"not json"[..],
            b"[]",
            b"{\"mn\": 5}",
            b"{\"mn\": \"A\", \"data_time\": \"2025\", \"readings\": {}}",
            b"{\"mn\": \"A\", \"data_time\": \"20250601120000\", \"readings\": {}}",
            b"{\"mn\": \"A\", \"data_time\": \"20250601120000\", \"readings\": {\"w01018\": {\"avg\": 1e999}}}",
            b"{\"mn\": \"A\", \"data_time\": \"20250601120000\", \"readings\": {\"w01018\": {}}}",
            b"{\"mn\": \"A\", \"data_time\": \"20250601120000\", \"evil\": 1, \"readings\": {}}",
            b"\xff\xfe{",
        ] {
            assert!(parse(bad, "p").is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
