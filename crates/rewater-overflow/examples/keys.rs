fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                out.push(p.clone());
                walk(x, &p, out);
            }
        }
        serde_json::Value::Array(a) => {
            if let Some(x) = a.first() {
                walk(x, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}
fn main() {
    let path = std::path::PathBuf::from(std::env::args().nth(1).unwrap());
    let (system, design) = rewater_overflow::study::load(&path, &Default::default()).unwrap();
    let o = rewater_overflow::study::run(&system, &design);
    let v = rewater_overflow::output::json(&o);
    let mut out = Vec::new();
    walk(&v, "", &mut out);
    for p in out {
        println!("{p}");
    }
}
