//! Coordinates with their datum (坐标系). The ledger stores CGCS2000 or WGS84 longitude and
//! latitude in degrees (the two agree to a few centimetres, far below a survey's precision,
//! so they are kept as declared and not converted). GCJ-02 (the offset "Mars" coordinates of
//! Chinese web maps) is converted to WGS84 on import when a file declares it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A geodetic datum as declared in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Datum {
    #[serde(rename = "CGCS2000")]
    Cgcs2000,
    #[serde(rename = "WGS84")]
    Wgs84,
    /// Only on import: converted to WGS84.
    #[serde(rename = "GCJ-02")]
    Gcj02,
}

impl FromStr for Datum {
    type Err = String;
    fn from_str(s: &str) -> Result<Datum, String> {
        match s
            .trim()
            .to_ascii_uppercase()
            .replace(['_', ' '], "-")
            .as_str()
        {
            "CGCS2000" | "CGCS-2000" | "EPSG:4490" => Ok(Datum::Cgcs2000),
            "WGS84" | "WGS-84" | "EPSG:4326" => Ok(Datum::Wgs84),
            "GCJ-02" | "GCJ02" => Ok(Datum::Gcj02),
            other => Err(format!(
                "unknown datum '{other}' (CGCS2000, WGS84 or GCJ-02)"
            )),
        }
    }
}

impl fmt::Display for Datum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Datum::Cgcs2000 => "CGCS2000",
            Datum::Wgs84 => "WGS84",
            Datum::Gcj02 => "GCJ-02",
        })
    }
}

/// A point of the ledger: longitude, latitude (degrees) and datum (never GCJ-02).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lon: f64,
    pub lat: f64,
    pub datum: Datum,
}

/// China's extent with a margin (all ledger points must be inside: a point outside is
/// almost always swapped longitude/latitude or a projected coordinate).
pub const CHINA_LON: (f64, f64) = (73.0, 136.0);
pub const CHINA_LAT: (f64, f64) = (3.0, 54.0);

impl Location {
    /// A checked point; GCJ-02 input is converted to WGS84.
    pub fn new(lon: f64, lat: f64, datum: Datum) -> Result<Location, String> {
        if !lon.is_finite() || !lat.is_finite() {
            return Err(format!("coordinates must be numbers, got {lon}, {lat}"));
        }
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err(format!(
                "longitude {lon} / latitude {lat} are not degrees (projected coordinates?)"
            ));
        }
        if !(CHINA_LON.0..=CHINA_LON.1).contains(&lon)
            || !(CHINA_LAT.0..=CHINA_LAT.1).contains(&lat)
        {
            let hint = if (CHINA_LON.0..=CHINA_LON.1).contains(&lat)
                && (CHINA_LAT.0..=CHINA_LAT.1).contains(&lon)
            {
                " (longitude and latitude swapped?)"
            } else {
                ""
            };
            return Err(format!(
                "({lon}, {lat}) is outside China ({}–{} E, {}–{} N){hint}",
                CHINA_LON.0, CHINA_LON.1, CHINA_LAT.0, CHINA_LAT.1
            ));
        }
        Ok(match datum {
            Datum::Gcj02 => {
                let (lon, lat) = gcj02_to_wgs84(lon, lat);
                Location {
                    lon,
                    lat,
                    datum: Datum::Wgs84,
                }
            }
            d => Location { lon, lat, datum: d },
        })
    }
}

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn t_lat(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    r
}

fn t_lon(x: f64, y: f64) -> f64 {
    use std::f64::consts::PI;
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    r
}

/// WGS84 → GCJ-02 (the published forward transform).
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    use std::f64::consts::PI;
    let (x, y) = (lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sq = magic.sqrt();
    let dlat = t_lat(x, y) * 180.0 / ((A * (1.0 - EE)) / (magic * sq) * PI);
    let dlon = t_lon(x, y) * 180.0 / (A / sq * rad.cos() * PI);
    (lon + dlon, lat + dlat)
}

/// GCJ-02 → WGS84 by fixed-point iteration on the forward transform (to 1e-10 degrees).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let (mut wl, mut wa) = (lon, lat);
    for _ in 0..30 {
        let (gl, ga) = wgs84_to_gcj02(wl, wa);
        let (dl, da) = (gl - lon, ga - lat);
        wl -= dl;
        wa -= da;
        if dl.abs() < 1e-10 && da.abs() < 1e-10 {
            break;
        }
    }
    (wl, wa)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcj02_is_converted_back_to_wgs84_within_a_millimetre() {
        let (lon, lat) = (116.391_275, 39.907_5);
        let (gl, ga) = wgs84_to_gcj02(lon, lat);
        // The offset in Beijing is a few hundred metres (≈ +0.006° E, +0.001° N).
        assert!((0.005..0.0075).contains(&(gl - lon)), "{}", gl - lon);
        assert!((0.0005..0.0025).contains(&(ga - lat)), "{}", ga - lat);
        let p = Location::new(gl, ga, Datum::Gcj02).unwrap();
        assert_eq!(p.datum, Datum::Wgs84);
        assert!((p.lon - lon).abs() < 1e-8 && (p.lat - lat).abs() < 1e-8);
    }

    #[test]
    fn bad_coordinates_are_refused_with_a_reason() {
        assert!(Location::new(f64::NAN, 39.0, Datum::Wgs84)
            .unwrap_err()
            .contains("numbers"));
        assert!(Location::new(39.9, 116.4, Datum::Wgs84)
            .unwrap_err()
            .contains("not degrees"));
        assert!(Location::new(39.9, 100.0, Datum::Wgs84)
            .unwrap_err()
            .contains("not degrees"));
        let e = Location::new(40.0, 116.0, Datum::Wgs84).unwrap_err();
        assert!(e.contains("not degrees"), "{e}");
        let e = Location::new(45.0, 100.0, Datum::Wgs84);
        assert!(e.unwrap_err().contains("not degrees"));
        let e = Location::new(2.35, 48.85, Datum::Wgs84).unwrap_err();
        assert!(e.contains("outside China"), "{e}");
        let e = Location::new(30.0, 100.0, Datum::Wgs84);
        assert!(e.is_err());
        let e = Location::new(40.0, 80.0, Datum::Wgs84).unwrap_err();
        assert!(e.contains("swapped"), "{e}");
        assert_eq!("cgcs2000".parse::<Datum>(), Ok(Datum::Cgcs2000));
        assert!("BD-09".parse::<Datum>().is_err());
    }
}
