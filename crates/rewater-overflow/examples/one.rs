fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let step: Option<i64> = std::env::args().nth(2).map(|s| s.parse().unwrap());
    let s = rewater_overflow::inp::load(
        &path,
        &rewater_overflow::inp::ImportOptions {
            step_s: step,
            ..Default::default()
        },
    )
    .unwrap();
    let t = std::time::Instant::now();
    let r = rewater_overflow::route::compute_runoff(&s);
    eprintln!(
        "{:?} gage intervals {:?}",
        r.balance,
        s.gages
            .iter()
            .map(|g| (g.rain.interval_s, g.rain.total_mm()))
            .collect::<Vec<_>>()
    );
    let f = rewater_overflow::peer::run_system(&s);
    eprintln!("{:?} in {:?}", f, t.elapsed());
}
