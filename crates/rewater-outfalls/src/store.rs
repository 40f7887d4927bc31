//! Saving and loading the ledger and the rectification records through the store's outfall
//! register (`rewater_store::OutfallStore`): one record per water body, reach, section,
//! outfall, channel, discharger, link and rectification, its body the record as JSON.
//! A save stores only what changed, as new versions with who and why; the store audits it.

use crate::rectify::Rectification;
use crate::*;
use rewater_store::{NewOutfallRecord, OutfallQuery, OutfallRecord, OutfallStore, PutOutcome};
use serde::Serialize;

/// Record kinds in the store.
pub const KINDS: &[&str] = &[
    "water_body",
    "reach",
    "section",
    "outfall",
    "channel",
    "discharger",
    "link",
];

fn rec<T: Serialize>(
    kind: &str,
    key: &str,
    district: Option<&str>,
    search: String,
    v: &T,
) -> Result<NewOutfallRecord, LedgerError> {
    Ok(NewOutfallRecord {
        kind: kind.into(),
        key: key.into(),
        district: district.map(str::to_string),
        search: search.to_lowercase(),
        body: serde_json::to_string(v).map_err(|e| LedgerError::Other(e.to_string()))?,
        retired: false,
    })
}

/// The search text of an outfall: code, name, class (id and names), district, reach,
/// responsible party, compliance, and `|class=…|`, `|compliance=…|` tokens for filters.
pub fn outfall_search(o: &Outfall) -> String {
    let c = classes::class(&o.class);
    format!(
        "{} {} {} {} {} {} {} {} |class={}| |compliance={}|",
        o.code,
        o.name,
        o.class,
        c.map_or("", |c| c.zh.as_str()),
        c.map_or("", |c| c.en.as_str()),
        o.district,
        o.reach,
        o.responsible,
        o.class,
        o.compliance.word()
    )
}

/// The ledger as store records.
pub fn records(l: &Ledger) -> Result<Vec<NewOutfallRecord>, LedgerError> {
    let mut out = Vec::new();
    for w in &l.water_bodies {
        out.push(rec(
            "water_body",
            &w.id,
            None,
            format!("{} {} {}", w.id, w.name_zh, w.name_en),
            w,
        )?);
    }
    for r in &l.reaches {
        out.push(rec(
            "reach",
            &r.id,
            r.district.as_deref(),
            format!("{} {}", r.id, r.name),
            r,
        )?);
    }
    for s in &l.sections {
        out.push(rec(
            "section",
            &s.id,
            s.district.as_deref(),
            format!("{} {}", s.id, s.name),
            s,
        )?);
    }
    for o in &l.outfalls {
        out.push(rec(
            "outfall",
            &o.code,
            Some(&o.district),
            outfall_search(o),
            o,
        )?);
    }
    for c in &l.channels {
        out.push(rec(
            "channel",
            &c.id,
            None,
            format!("{} {}", c.id, c.name),
            c,
        )?);
    }
    for d in &l.dischargers {
        out.push(rec(
            "discharger",
            &d.code,
            d.district.as_deref(),
            format!("{} {}", d.code, d.name),
            d,
        )?);
    }
    for k in &l.links {
        out.push(rec(
            "link",
            &format!("{}→{}", k.from, k.to),
            None,
            format!("{} {}", k.from, k.to),
            k,
        )?);
    }
    Ok(out)
}

/// Saves the ledger (only changed records become new versions).
pub fn save_ledger<S: OutfallStore + ?Sized>(
    s: &mut S,
    l: &Ledger,
    who: &str,
    reason: &str,
    at_ms: i64,
) -> Result<PutOutcome, LedgerError> {
    Ok(s.put_outfall_records(&records(l)?, who, reason, at_ms)?)
}

fn parse<T: serde::de::DeserializeOwned>(r: &OutfallRecord) -> Result<T, LedgerError> {
    serde_json::from_str(&r.body).map_err(|e| {
        LedgerError::Other(format!(
            "stored {} '{}' version {}: {e}",
            r.kind, r.key, r.version
        ))
    })
}

fn all<T: serde::de::DeserializeOwned, S: OutfallStore + ?Sized>(
    s: &mut S,
    kind: &str,
) -> Result<Vec<T>, LedgerError> {
    s.outfall_records(&OutfallQuery::all(kind))?
        .iter()
        .map(parse)
        .collect()
}

/// Loads the current ledger.
pub fn load_ledger<S: OutfallStore + ?Sized>(s: &mut S) -> Result<Ledger, LedgerError> {
    let mut l = Ledger {
        water_bodies: all(s, "water_body")?,
        reaches: all(s, "reach")?,
        sections: all(s, "section")?,
        outfalls: all(s, "outfall")?,
        channels: all(s, "channel")?,
        dischargers: all(s, "discharger")?,
        links: all(s, "link")?,
    };
    // Store order is by key; links' key is from→to, the ledger keeps them sorted as pairs.
    l.links.sort();
    Ok(l)
}

/// A filtered page of outfalls.
#[derive(Debug, Clone, Default)]
pub struct OutfallFilter {
    pub district: Option<String>,
    pub search: Option<String>,
    pub class: Option<String>,
    pub compliance: Option<Compliance>,
    pub limit: i64,
    pub offset: i64,
}

/// A page of the ledger list and the number of matches.
pub fn outfall_page<S: OutfallStore + ?Sized>(
    s: &mut S,
    f: &OutfallFilter,
) -> Result<(i64, Vec<Outfall>), LedgerError> {
    let mut tokens: Vec<String> = Vec::new();
    if let Some(c) = &f.class {
        tokens.push(format!("|class={c}|"));
    }
    if let Some(c) = f.compliance {
        tokens.push(format!("|compliance={}|", c.word()));
    }
    if let Some(t) = f.search.as_ref().filter(|t| !t.trim().is_empty()) {
        tokens.push(t.trim().to_string());
    }
    let q = |search: Option<String>, limit: i64, offset: i64| OutfallQuery {
        kind: "outfall".into(),
        district: f.district.clone(),
        search,
        include_retired: false,
        limit,
        offset,
    };
    if tokens.len() <= 1 {
        let q = q(tokens.pop(), f.limit, f.offset);
        let n = s.count_outfall_records(&q)?;
        let page = s
            .outfall_records(&q)?
            .iter()
            .map(parse)
            .collect::<Result<_, _>>()?;
        return Ok((n, page));
    }
    // Several filters: the first narrows in the store, the others in memory.
    let first = tokens.remove(0);
    let matched: Vec<OutfallRecord> = s
        .outfall_records(&q(Some(first), i64::MAX, 0))?
        .into_iter()
        .filter(|r| tokens.iter().all(|t| r.search.contains(&t.to_lowercase())))
        .collect();
    let n = matched.len() as i64;
    let page = matched
        .iter()
        .skip(f.offset.max(0) as usize)
        .take(f.limit.max(0) as usize)
        .map(parse)
        .collect::<Result<_, _>>()?;
    Ok((n, page))
}

/// Saves a rectification record (a new version per change of state).
pub fn save_rectification<S: OutfallStore + ?Sized>(
    s: &mut S,
    r: &Rectification,
    who: &str,
    reason: &str,
    at_ms: i64,
) -> Result<PutOutcome, LedgerError> {
    let rec = rec(
        "rectification",
        &r.id,
        Some(&r.district),
        format!(
            "{} {} {} {}",
            r.id, r.outfall, r.problem, r.responsible_unit
        ),
        r,
    )?;
    Ok(s.put_outfall_records(&[rec], who, reason, at_ms)?)
}

/// Rectification records (of one district, or all).
pub fn rectifications<S: OutfallStore + ?Sized>(
    s: &mut S,
    district: Option<&str>,
) -> Result<Vec<Rectification>, LedgerError> {
    let q = OutfallQuery {
        district: district.map(str::to_string),
        ..OutfallQuery::all("rectification")
    };
    s.outfall_records(&q)?.iter().map(parse).collect()
}

/// One rectification record.
pub fn rectification<S: OutfallStore + ?Sized>(
    s: &mut S,
    id: &str,
) -> Result<Option<Rectification>, LedgerError> {
    s.outfall_record("rectification", id)?
        .filter(|r| !r.retired)
        .as_ref()
        .map(parse)
        .transpose()
}

/// Saves spill years (kind `spill_year`, key `CODE:YEAR`): a recount replaces the year's
/// figures as a new version.
pub fn save_spill_years<S: OutfallStore + ?Sized>(
    s: &mut S,
    years: &[crate::spills::SpillYear],
    who: &str,
    reason: &str,
    at_ms: i64,
) -> Result<PutOutcome, LedgerError> {
    let recs = years
        .iter()
        .map(|y| {
            rec(
                "spill_year",
                &format!("{}:{}", y.outfall, y.year),
                Some(&y.district),
                format!("{} {} {}", y.outfall, y.year, y.source),
                y,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(s.put_outfall_records(&recs, who, reason, at_ms)?)
}

/// Spill years of one district (or all), of one year (or all), of one outfall (or all).
pub fn spill_years<S: OutfallStore + ?Sized>(
    s: &mut S,
    district: Option<&str>,
    year: Option<i32>,
    outfall: Option<&str>,
) -> Result<Vec<crate::spills::SpillYear>, LedgerError> {
    let q = OutfallQuery {
        district: district.map(str::to_string),
        ..OutfallQuery::all("spill_year")
    };
    let all: Vec<crate::spills::SpillYear> = s
        .outfall_records(&q)?
        .iter()
        .map(parse)
        .collect::<Result<_, _>>()?;
    Ok(all
        .into_iter()
        .filter(|y| year.is_none_or(|v| y.year == v))
        .filter(|y| outfall.is_none_or(|o| y.outfall == o))
        .collect())
}

/// Every stored version of a record, oldest first (who, when, why).
pub fn history<S: OutfallStore + ?Sized>(
    s: &mut S,
    kind: &str,
    key: &str,
) -> Result<Vec<OutfallRecord>, LedgerError> {
    Ok(s.outfall_record_history(kind, key)?)
}
