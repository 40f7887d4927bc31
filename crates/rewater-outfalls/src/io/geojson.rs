//! GeoJSON: one FeatureCollection; each feature's `layer` property names its table, the
//! other properties are the table's columns. Points are outfalls and sections (their
//! coordinates fill lon/lat), LineStrings reaches (their geometry); other tables have a null
//! geometry. RFC 7946 coordinates are WGS84: a feature may say otherwise with a `datum`
//! property (CGCS2000, or GCJ-02 to have it converted).

use super::{check_size, rows::numeric, Table, MAX_ROWS};
use crate::LedgerError;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn coords(v: &Value) -> Option<Vec<f64>> {
    v.as_array()?.iter().map(Value::as_f64).collect()
}

/// Reads features into one table per layer.
pub(super) fn read(path: &Path) -> Result<Vec<Table>, LedgerError> {
    let name = path.display().to_string();
    check_size(path)?;
    let bytes = std::fs::read(path).map_err(|e| LedgerError::file(&name, e.to_string()))?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|e| {
        LedgerError::file(&format!("{name}:{}", e.line()), format!("not JSON: {e}"))
    })?;
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .filter(|_| doc.get("type").and_then(Value::as_str) == Some("FeatureCollection"))
        .ok_or_else(|| LedgerError::file(&name, "not a GeoJSON FeatureCollection"))?;
    if features.len() > MAX_ROWS {
        return Err(LedgerError::file(
            &name,
            format!("more than {MAX_ROWS} features"),
        ));
    }
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (i, f) in features.iter().enumerate() {
        let at = format!("{name} feature {}", i + 1);
        let props = f
            .get("properties")
            .and_then(Value::as_object)
            .ok_or_else(|| LedgerError::file(&at, "no properties"))?;
        let layer = props.get("layer").and_then(Value::as_str).ok_or_else(|| {
            LedgerError::file(&at, "no 'layer' property (outfalls, sections, reaches, …)")
        })?;
        let mut cells: Vec<(String, String)> = props
            .iter()
            .filter(|(k, _)| *k != "layer")
            .map(|(k, v)| (k.clone(), text(v)))
            .collect();
        let geom = f.get("geometry").filter(|g| !g.is_null());
        if let Some(g) = geom {
            let kind = g.get("type").and_then(Value::as_str).unwrap_or("");
            let c = g.get("coordinates").unwrap_or(&Value::Null);
            match kind {
                "Point" => {
                    let p = coords(c)
                        .filter(|p| p.len() >= 2)
                        .ok_or_else(|| LedgerError::file(&at, "a Point needs [lon, lat]"))?;
                    cells.retain(|(k, _)| k != "lon" && k != "lat");
                    cells.push(("lon".into(), format!("{}", p[0])));
                    cells.push(("lat".into(), format!("{}", p[1])));
                    if !cells.iter().any(|(k, _)| k == "datum") {
                        cells.push(("datum".into(), "WGS84".into()));
                    }
                }
                "LineString" => {
                    let line: Vec<String> = c
                        .as_array()
                        .ok_or_else(|| LedgerError::file(&at, "a LineString needs coordinates"))?
                        .iter()
                        .map(|p| {
                            coords(p)
                                .filter(|p| p.len() >= 2)
                                .map(|p| format!("{} {}", p[0], p[1]))
                        })
                        .collect::<Option<_>>()
                        .ok_or_else(|| {
                            LedgerError::file(&at, "a LineString's points are [lon, lat]")
                        })?;
                    cells.retain(|(k, _)| k != "geometry" && k != "datum");
                    cells.push(("geometry".into(), line.join(";")));
                }
                other => {
                    return Err(LedgerError::file(
                        &at,
                        format!("geometry '{other}' (Point or LineString)"),
                    ))
                }
            }
        }
        let t = tables.entry(layer.to_string()).or_insert_with(|| Table {
            file: name.clone(),
            name: layer.to_string(),
            ..Table::default()
        });
        let mut row = vec![String::new(); t.headers.len()];
        for (k, v) in cells {
            match t.headers.iter().position(|h| *h == k) {
                Some(j) => row[j] = v,
                None => {
                    t.headers.push(k);
                    for (_, r) in &mut t.rows {
                        r.push(String::new());
                    }
                    row.push(v);
                }
            }
        }
        t.rows.push((i + 1, row));
    }
    Ok(tables.into_values().collect())
}

/// The tables as a FeatureCollection.
pub(super) fn collection(tables: &[Table]) -> Value {
    let mut features = Vec::new();
    for t in tables {
        let col = |n: &str| t.headers.iter().position(|h| h == n);
        let (lon, lat, geo) = (col("lon"), col("lat"), col("geometry"));
        for (_, r) in &t.rows {
            let mut props = Map::new();
            props.insert("layer".into(), json!(t.name));
            for (h, v) in t.headers.iter().zip(r) {
                if matches!(h.as_str(), "lon" | "lat" | "geometry") || v.is_empty() {
                    continue;
                }
                let val = match v.parse::<f64>() {
                    Ok(x) if numeric(h) => json!(x),
                    _ => json!(v),
                };
                props.insert(h.clone(), val);
            }
            let geometry = match (lon.map(|i| &r[i]), lat.map(|i| &r[i]), geo.map(|i| &r[i])) {
                (Some(x), Some(y), _) if !x.is_empty() => {
                    json!({"type": "Point", "coordinates": [x.parse::<f64>().unwrap_or(0.0), y.parse::<f64>().unwrap_or(0.0)]})
                }
                (_, _, Some(g)) if !g.is_empty() => {
                    let pts: Vec<Value> = g
                        .split(';')
                        .map(|p| {
                            let v: Vec<f64> = p
                                .split_whitespace()
                                .filter_map(|s| s.parse().ok())
                                .collect();
                            json!(v)
                        })
                        .collect();
                    json!({"type": "LineString", "coordinates": pts})
                }
                _ => Value::Null,
            };
            features.push(json!({"type": "Feature", "properties": props, "geometry": geometry}));
        }
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// Writes the collection.
pub(super) fn write(tables: &[Table], path: &Path) -> Result<(), LedgerError> {
    let name = path.display().to_string();
    let text = serde_json::to_string_pretty(&collection(tables))
        .map_err(|e| LedgerError::file(&name, e.to_string()))?;
    std::fs::write(path, text).map_err(|e| LedgerError::file(&name, e.to_string()))
}
