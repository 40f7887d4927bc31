//! The bundled rule sets and areas: they load, every seed quote is in its seed, the 2014
//! compensation rule is marked unverified and the 2022 rule carries no formula.

use rewater_money::{Areas, Confidence, RuleBook, RuleKind};
use std::path::PathBuf;

/// The seeds beside the repository (`../shared/seeds`).
fn seeds() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/seeds")
}

/// Whitespace dropped and full-width punctuation folded to ASCII.
fn norm(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '，' => ',',
            '（' => '(',
            '）' => ')',
            '；' => ';',
            '：' => ':',
            '—' | '–' => '-',
            c => c,
        })
        .collect()
}

#[test]
fn every_bundled_file_loads() {
    let book = RuleBook::bundled();
    assert_eq!(book.sets.len(), RuleBook::bundled_files().len());
    assert_eq!(book.of_kind(RuleKind::Funding).len(), 2);
    let areas = Areas::bundled();
    assert_eq!(areas.districts.len(), 16);
}

#[test]
fn every_quote_is_in_its_seed() {
    let dir = seeds();
    if !dir.is_dir() {
        eprintln!(
            "seeds not found at {} (../shared/seeds beside the checkout): quote check skipped",
            dir.display()
        );
        return;
    }
    let book = RuleBook::bundled();
    let mut checked = 0;
    for s in book.sets.values() {
        let Some(seed) = &s.seed_file else { continue };
        let text = norm(&std::fs::read_to_string(dir.join(seed)).unwrap());
        let quotes = s
            .share
            .iter()
            .map(|r| (&r.id, &r.quote))
            .chain(s.om_share.iter().map(|r| (&r.id, &r.quote)))
            .chain(s.station.iter().map(|r| (&r.id, &r.quote)));
        for (id, q) in quotes {
            assert!(!q.is_empty(), "{}/{id}: no quote", s.id);
            assert!(
                text.contains(&norm(q)),
                "{}/{id}: quote not in {seed}: {q}",
                s.id
            );
            checked += 1;
        }
        if let Some(b) = &s.om_base {
            assert!(text.contains(&norm(&b.quote)), "{}: om_base quote", s.id);
            checked += 1;
        }
    }
    assert!(checked >= 30, "{checked} quotes checked");
}

#[test]
fn compensation_rules_say_what_is_not_confirmed() {
    let book = RuleBook::bundled();
    let r2014 = &book.sets["bj-compensation-2014"];
    let c = r2014.compensation.as_ref().unwrap();
    assert_eq!(c.per_class.value, 300_000.0);
    assert_eq!(c.per_class.confidence, Confidence::Reported);
    assert_eq!(c.per_class_no_worse_than_inflow.value, 150_000.0);
    assert_eq!(c.beyond_v_extra.confidence, Confidence::Unverified);
    assert_eq!(r2014.weakest(), Confidence::Unverified);
    assert!(r2014.in_force(2015) && r2014.in_force(2022) && !r2014.in_force(2023));
    let r2022 = &book.sets["bj-compensation-2022"];
    assert!(r2022.compensation.is_none());
    assert_eq!(r2022.confidence, Confidence::Unverified);
    assert!(r2022.in_force(2030));
}
