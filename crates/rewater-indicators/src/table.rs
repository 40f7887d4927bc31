//! Values of quantities by district × year, each with where it came from.

use crate::catalog::Catalog;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The district id of the whole region (全域).
pub const WHOLE_REGION: &str = "";

/// Where one value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A model run (the model's name).
    Model { model: String },
    /// Monitoring records.
    Monitoring,
    /// The statistics table: file and row (from 1, the header is row 1).
    Statistics { file: String, row: usize },
    /// The sum of the districts' values (an additive quantity with no whole-region value).
    SumOfDistricts { districts: usize },
    /// The river-outfall ledger's coverage counts.
    Ledger,
}

/// One value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantityValue {
    pub value: f64,
    pub origin: Origin,
}

/// Values by (district, year, quantity). District [`WHOLE_REGION`] is the whole region.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QuantityTable {
    values: BTreeMap<(String, i32, String), QuantityValue>,
}

impl QuantityTable {
    pub fn new() -> QuantityTable {
        QuantityTable::default()
    }

    /// Sets a value (replacing one of the same key).
    pub fn set(&mut self, district: &str, year: i32, quantity: &str, value: f64, origin: Origin) {
        self.values.insert(
            (district.to_string(), year, quantity.to_string()),
            QuantityValue { value, origin },
        );
    }

    /// The value reported for a key, if any.
    pub fn get(&self, district: &str, year: i32, quantity: &str) -> Option<&QuantityValue> {
        self.values
            .get(&(district.to_string(), year, quantity.to_string()))
    }

    /// Adds `other`'s values; where both have one, `other`'s wins (statistics over model).
    pub fn overlay(&mut self, other: &QuantityTable) {
        for (k, v) in &other.values {
            self.values.insert(k.clone(), v.clone());
        }
    }

    /// Every (district, year) with a value.
    pub fn keys(&self) -> Vec<(String, i32)> {
        let mut out: Vec<(String, i32)> = self
            .values
            .keys()
            .map(|(d, y, _)| (d.clone(), *y))
            .collect();
        out.dedup();
        out.sort();
        out.dedup();
        out
    }

    /// All values.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i32, &str, &QuantityValue)> {
        self.values
            .iter()
            .map(|((d, y, q), v)| (d.as_str(), *y, q.as_str(), v))
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Fills the whole region's value of each additive quantity that has district values but
    /// no whole-region value, with their sum (origin [`Origin::SumOfDistricts`]).
    pub fn fill_region_sums(&mut self, catalog: &Catalog) {
        let mut sums: BTreeMap<(i32, String), (f64, usize)> = BTreeMap::new();
        for ((d, y, q), v) in &self.values {
            if d != WHOLE_REGION && catalog.quantities.get(q).is_some_and(|q| q.additive) {
                let e = sums.entry((*y, q.clone())).or_insert((0.0, 0));
                e.0 += v.value;
                e.1 += 1;
            }
        }
        for ((y, q), (sum, n)) in sums {
            let key = (WHOLE_REGION.to_string(), y, q);
            self.values.entry(key).or_insert(QuantityValue {
                value: sum,
                origin: Origin::SumOfDistricts { districts: n },
            });
        }
    }
}
