fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let text = std::fs::read_to_string(dir.join("swmm524_results.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let rows = rewater_overflow::peer::compare_dir(&dir, &v);
    print!("{}", rewater_overflow::peer::markdown_table(&rows));
    for r in &rows {
        if let Ok(f) = &r.rewater {
            eprintln!(
                "{}: ours {:?} swmm {:?} flood {} vs {:?}\n  notes {:?}",
                r.file, f.outfall_m3, r.swmm.outfall_m3, f.flooding_m3, r.swmm.flooding_m3, f.notes
            );
        }
    }
}
