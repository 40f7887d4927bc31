//! The outfall register (入河排污口台账) as versioned records: every put of a changed record
//! is a new version with who, when and why (corrections are new versions, never edits in
//! place); retiring a record is a version too. The store knows only kinds, keys, districts,
//! a search text and a JSON body: the ledger's types live in `rewater-outfalls`, which
//! depends on the store, not the other way round. Every batch is one transaction with one
//! audit entry.

use crate::{Result, StoreError};

/// One stored version of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct OutfallRecord {
    /// outfall, reach, section, water_body, channel, discharger, link, rectification…
    pub kind: String,
    pub key: String,
    /// 1 for the first version.
    pub version: i64,
    /// For scoping by district (operators see their district's).
    pub district: Option<String>,
    /// Lower-case text searched by [`OutfallQuery::search`].
    pub search: String,
    /// The record as JSON.
    pub body: String,
    /// A retired record (withdrawn from the ledger; its history stays).
    pub retired: bool,
    pub who: String,
    pub reason: String,
    pub at_ms: i64,
}

/// A record to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutfallRecord {
    pub kind: String,
    pub key: String,
    pub district: Option<String>,
    pub search: String,
    pub body: String,
    pub retired: bool,
}

/// Which current records to list.
#[derive(Debug, Clone, PartialEq)]
pub struct OutfallQuery {
    pub kind: String,
    pub district: Option<String>,
    /// A substring of the search text (case-insensitive).
    pub search: Option<String>,
    pub include_retired: bool,
    pub limit: i64,
    pub offset: i64,
}

impl OutfallQuery {
    /// Every current record of a kind.
    pub fn all(kind: &str) -> OutfallQuery {
        OutfallQuery {
            kind: kind.into(),
            district: None,
            search: None,
            include_retired: false,
            limit: i64::MAX,
            offset: 0,
        }
    }
}

/// What a put did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PutOutcome {
    pub new_versions: usize,
    /// Records equal to their current version (nothing stored).
    pub unchanged: usize,
}

/// The outfall register's operations.
pub trait OutfallStore {
    /// Stores the changed records as new versions, in one transaction with one audit entry
    /// (action `outfalls.put`, target the kinds); an error stores nothing.
    fn put_outfall_records(
        &mut self,
        records: &[NewOutfallRecord],
        who: &str,
        reason: &str,
        at_ms: i64,
    ) -> Result<PutOutcome>;
    /// Current versions of a kind, ordered by key.
    fn outfall_records(&mut self, q: &OutfallQuery) -> Result<Vec<OutfallRecord>>;
    /// How many current versions match (ignoring limit and offset).
    fn count_outfall_records(&mut self, q: &OutfallQuery) -> Result<i64>;
    /// The current version of one record (retired or not).
    fn outfall_record(&mut self, kind: &str, key: &str) -> Result<Option<OutfallRecord>>;
    /// Every version of one record, oldest first.
    fn outfall_record_history(&mut self, kind: &str, key: &str) -> Result<Vec<OutfallRecord>>;
    /// A stamp that changes whenever any record gets a new version: (rows, largest id).
    /// Rows are never deleted, so the count grows with every commit, also one whose id is
    /// lower than an id already seen (ids are handed out before commit).
    fn outfall_records_stamp(&mut self) -> Result<(i64, i64)>;
}

/// Checks a batch before any SQL: who and why are given, kinds and keys are not empty, no
/// record appears twice.
pub(crate) fn check_batch(records: &[NewOutfallRecord], who: &str, reason: &str) -> Result<()> {
    crate::check_who(who)?;
    if reason.trim().is_empty() {
        return Err(StoreError::Invalid(
            "a change of the outfall register needs a reason".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for r in records {
        if r.kind.trim().is_empty() || r.key.trim().is_empty() {
            return Err(StoreError::Invalid(
                "an outfall record needs a kind and a key".into(),
            ));
        }
        if !seen.insert((r.kind.as_str(), r.key.as_str())) {
            return Err(StoreError::Invalid(format!(
                "{} '{}' appears twice in one batch",
                r.kind, r.key
            )));
        }
    }
    Ok(())
}

/// The audit detail of a batch.
pub(crate) fn audit_detail(
    records: &[NewOutfallRecord],
    out: PutOutcome,
    reason: &str,
) -> (String, String) {
    let mut kinds: Vec<&str> = records.iter().map(|r| r.kind.as_str()).collect();
    kinds.sort();
    kinds.dedup();
    let keys: Vec<&str> = records.iter().take(5).map(|r| r.key.as_str()).collect();
    (
        kinds.join(","),
        format!(
            "{} new version(s), {} unchanged: {}{}; {reason}",
            out.new_versions,
            out.unchanged,
            keys.join(", "),
            if records.len() > 5 { ", …" } else { "" }
        ),
    )
}

/// `%`, `_` and `\` escaped for LIKE … ESCAPE '\'.
pub(crate) fn like_pattern(s: &str) -> String {
    let mut p = String::from("%");
    for c in s.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The conformance suite of the outfall register, run on every backend.
#[doc(hidden)]
pub fn conformance(s: &mut dyn OutfallStore) {
    let rec = |key: &str, district: &str, body: &str| NewOutfallRecord {
        kind: "outfall".into(),
        key: key.into(),
        district: Some(district.into()),
        search: format!("{key} {body}").to_lowercase(),
        body: body.into(),
        retired: false,
    };
    // Refused batches store nothing.
    assert!(s
        .put_outfall_records(&[rec("A", "north", "{}")], "", "import", 1)
        .is_err());
    assert!(s
        .put_outfall_records(&[rec("A", "north", "{}")], "me", " ", 1)
        .is_err());
    assert!(s
        .put_outfall_records(
            &[rec("A", "north", "{}"), rec("A", "north", "{}")],
            "me",
            "x",
            1
        )
        .is_err());
    assert_eq!(
        s.count_outfall_records(&OutfallQuery::all("outfall"))
            .unwrap(),
        0
    );
    let stamp0 = s.outfall_records_stamp().unwrap();
    assert_eq!(stamp0.0, 0);
    let out = s
        .put_outfall_records(
            &[
                rec("A", "north", r#"{"n":"清河 1"}"#),
                rec("B", "south", r#"{"n":"Wen_Yu 100%"}"#),
                rec("C", "north", r#"{"n":"c"}"#),
            ],
            "importer",
            "first survey",
            10,
        )
        .unwrap();
    assert_eq!(
        out,
        PutOutcome {
            new_versions: 3,
            unchanged: 0
        }
    );
    // The same again: nothing new. A correction: version 2, the first kept.
    let again = s
        .put_outfall_records(
            &[rec("A", "north", r#"{"n":"清河 1"}"#)],
            "importer",
            "again",
            20,
        )
        .unwrap();
    assert_eq!(
        again,
        PutOutcome {
            new_versions: 0,
            unchanged: 1
        }
    );
    // Three rows: the stamp moved from empty; an unchanged put leaves it; a correction moves it.
    let stamp1 = s.outfall_records_stamp().unwrap();
    assert_eq!(stamp1.0, 3);
    assert!(stamp1.1 > stamp0.1);
    s.put_outfall_records(
        &[rec("A", "north", r#"{"n":"清河 1号"}"#)],
        "checker",
        "name corrected",
        30,
    )
    .unwrap();
    let stamp2 = s.outfall_records_stamp().unwrap();
    assert_eq!(stamp2.0, 4);
    assert!(stamp2.1 > stamp1.1);
    let h = s.outfall_record_history("outfall", "A").unwrap();
    assert_eq!(
        h.iter()
            .map(|r| (r.version, r.body.as_str(), r.who.as_str(), r.at_ms))
            .collect::<Vec<_>>(),
        [
            (1, r#"{"n":"清河 1"}"#, "importer", 10),
            (2, r#"{"n":"清河 1号"}"#, "checker", 30)
        ]
    );
    assert_eq!(h[1].reason, "name corrected");
    assert_eq!(
        s.outfall_record("outfall", "A").unwrap().unwrap().version,
        2
    );
    assert!(s.outfall_record("outfall", "Z").unwrap().is_none());
    // Listing: current versions only, by key; district, search (case, LIKE wildcards literal), paging.
    let keys = |s: &mut dyn OutfallStore, q: OutfallQuery| {
        s.outfall_records(&q)
            .unwrap()
            .into_iter()
            .map(|r| r.key)
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(s, OutfallQuery::all("outfall")), ["A", "B", "C"]);
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                district: Some("north".into()),
                ..OutfallQuery::all("outfall")
            }
        ),
        ["A", "C"]
    );
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                search: Some("清河".into()),
                ..OutfallQuery::all("outfall")
            }
        ),
        ["A"]
    );
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                search: Some("WEN_yu".into()),
                ..OutfallQuery::all("outfall")
            }
        ),
        ["B"]
    );
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                search: Some("100%".into()),
                ..OutfallQuery::all("outfall")
            }
        ),
        ["B"]
    );
    assert!(keys(
        s,
        OutfallQuery {
            search: Some("1_0".into()),
            ..OutfallQuery::all("outfall")
        }
    )
    .is_empty());
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                limit: 1,
                offset: 1,
                ..OutfallQuery::all("outfall")
            }
        ),
        ["B"]
    );
    assert_eq!(
        s.count_outfall_records(&OutfallQuery {
            district: Some("north".into()),
            limit: 1,
            ..OutfallQuery::all("outfall")
        })
        .unwrap(),
        2
    );
    assert!(keys(s, OutfallQuery::all("section")).is_empty());
    // Retiring is a version; the record leaves the list but keeps its history.
    s.put_outfall_records(
        &[NewOutfallRecord {
            retired: true,
            ..rec("C", "north", r#"{"n":"c"}"#)
        }],
        "checker",
        "closed (取缔)",
        40,
    )
    .unwrap();
    assert_eq!(keys(s, OutfallQuery::all("outfall")), ["A", "B"]);
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                include_retired: true,
                ..OutfallQuery::all("outfall")
            }
        ),
        ["A", "B", "C"]
    );
    assert_eq!(s.outfall_record_history("outfall", "C").unwrap().len(), 2);
    // A record may move district in a new version.
    s.put_outfall_records(
        &[rec("B", "north", r#"{"n":"Wen_Yu 100%"}"#)],
        "checker",
        "boundary",
        50,
    )
    .unwrap();
    assert_eq!(
        keys(
            s,
            OutfallQuery {
                district: Some("south".into()),
                ..OutfallQuery::all("outfall")
            }
        ),
        Vec::<String>::new()
    );
}
