fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let s = rewater_overflow::inp::load(&path, &Default::default()).unwrap();
    for sc in &s.subcatchments {
        let (_, b) = rewater_overflow::runoff::simulate_subcatchment(
            sc,
            &s.gages[sc.gage].rain,
            &s.evaporation,
            s.runoff_clock(),
        );
        let mm = |v: f64| v / sc.area_m2 * 1000.0;
        println!(
            "{} rain {:.2} infil {:.2} runoff {:.2} surface {:.3}",
            sc.name,
            mm(b.rain_m3),
            mm(b.infiltration_m3),
            mm(b.runoff_m3),
            mm(b.surface_m3)
        );
    }
}
