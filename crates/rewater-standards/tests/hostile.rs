//! Malformed and hostile input: every parser returns an error or a value, never panics.

use rewater_standards::input::{samples_from_csv, samples_from_json, series_from_csv};
use rewater_standards::standard::Standard;
use rewater_standards::standard::BUILTIN_FILES;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const NASTY: &[&str] = &[
    "\u{0}",
    "\"",
    ",",
    "\n",
    "[",
    "]",
    "(",
    "µ",
    "劣",
    "-1e309",
    "NaN",
    "inf",
    "=",
    "{",
    "}",
    "\r\n",
    "..",
    "'",
    "\u{202e}",
    "9999-99-99",
    "[[limit]]",
    "mg/L",
];

/// Mutates `base` by deleting, duplicating and inserting nasty fragments at char boundaries.
fn mutate(base: &str, rng: &mut Rng) -> String {
    let mut s: Vec<char> = base.chars().collect();
    for _ in 0..(1 + rng.next() % 6) {
        if s.is_empty() {
            break;
        }
        let i = (rng.next() % s.len() as u64) as usize;
        match rng.next() % 4 {
            0 => {
                let j = (i + (rng.next() % 12) as usize).min(s.len());
                s.drain(i..j);
            }
            1 => {
                let piece: Vec<char> = NASTY[(rng.next() % NASTY.len() as u64) as usize]
                    .chars()
                    .collect();
                s.splice(i..i, piece);
            }
            2 => {
                let j = (i + (rng.next() % 20) as usize).min(s.len());
                let dup: Vec<char> = s[i..j].to_vec();
                s.splice(i..i, dup);
            }
            _ => s[i] = char::from_u32((rng.next() % 0x3000) as u32).unwrap_or('x'),
        }
    }
    s.into_iter().collect()
}

#[test]
fn sample_and_series_parsers_survive_mutations() {
    let csv = "id,water_body,date,ph,do,cod,nh3n,tp,hg[µg/L]\nS1,river,2025-01-01,7.2,6.1,18,0.4,0.15,0.04\nS2,lake,,8,,35,,0.3,\n";
    let json = r#"[{"id": "W1", "water_body": "river", "values": {"cod": 18, "hg": {"value": 0.04, "unit": "µg/L"}}}]"#;
    let series =
        "time,factor,value,unit,flag\n2025-06-01 08:00,cod,40,mg/L,N\n2025-06-02,ph,7,,M\n";
    let mut rng = Rng(0x1234_5678);
    let (mut ok, mut err) = (0, 0);
    for _ in 0..3000 {
        for r in [
            samples_from_csv(mutate(csv, &mut rng).as_bytes(), "x").map(|_| ()),
            samples_from_json(&mutate(json, &mut rng), "x").map(|_| ()),
            series_from_csv(mutate(series, &mut rng).as_bytes(), "x").map(|_| ()),
        ] {
            if r.is_ok() {
                ok += 1
            } else {
                err += 1
            }
        }
    }
    // Both outcomes occur: the mutations reach past the first check.
    assert!(ok > 100 && err > 100, "ok {ok} err {err}");
    // Random bytes.
    for _ in 0..500 {
        let bytes: Vec<u8> = (0..(rng.next() % 200)).map(|_| rng.next() as u8).collect();
        let _ = samples_from_csv(bytes.as_slice(), "x");
        let _ = series_from_csv(bytes.as_slice(), "x");
        let _ = samples_from_json(&String::from_utf8_lossy(&bytes), "x");
    }
}

#[test]
fn standard_files_survive_mutations() {
    let mut rng = Rng(99);
    let (_, text) = BUILTIN_FILES[1];
    for _ in 0..400 {
        if let Err(e) = Standard::parse(&mutate(text, &mut rng), "m.toml") {
            assert!(e.to_string().starts_with("m.toml"));
        }
    }
}
