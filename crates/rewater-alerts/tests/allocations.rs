//! The alert engine runs for every stored reading (issue 19: CPU per reading at province
//! scale). Once a device has been heard from, an upload inside its limits with nothing open
//! must not allocate: no keys built for recoveries that cannot happen, no owned strings to
//! find per-factor state. Counted with a counting global allocator in this test binary.

use rewater_alerts::{AlertEngine, Settings, SiteRules, Value};
use rewater_standards::Standards;
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_steady_upload_allocates_nothing() {
    let devices = (0..3)
        .map(|i| {
            let site = SiteRules {
                site_id: format!("plant-{i}"),
                standards: vec!["GB18918-2002:1A".into()],
                model_node: None,
            };
            (format!("MN{i}"), site)
        })
        .collect();
    let mut engine = AlertEngine::new(
        Standards::builtin(),
        Settings::default(),
        devices,
        &HashMap::new(),
    );
    let t0 = 1_748_736_000i64; // 2025-06-01 00:00 wall clock
    let upload = |cod: f64, ph: f64| {
        [
            Value {
                factor: "w01018",
                value: Some(cod),
                flag: Some("N"),
            },
            Value {
                factor: "w01001",
                value: Some(ph),
                flag: Some("N"),
            },
            Value {
                factor: "w00000",
                value: Some(cod * 3.0),
                flag: Some("N"),
            },
        ]
    };
    // First uploads: devices and factors are new, so their state is created.
    for i in 0..3 {
        let o = engine.on_upload(&format!("MN{i}"), "2051", t0, &upload(20.0, 7.0), t0 + 5);
        assert!(o.raised.is_empty() && o.recovered.is_empty());
    }
    let mns: Vec<String> = (0..3).map(|i| format!("MN{i}")).collect();
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for minute in 1..=30 {
        for mn in &mns {
            let t = t0 + 60 * minute;
            let x = 20.0 + minute as f64 * 0.5; // 20.5 … 35 mg/L, inside 50
                                                // pH changes too: a repeated value would count towards a stuck sensor.
            let o = engine.on_upload(mn, "2051", t, &upload(x, 7.0 + 0.01 * minute as f64), t + 5);
            assert!(o.raised.is_empty() && o.recovered.is_empty());
        }
    }
    let allocated = ALLOCATIONS.load(Ordering::Relaxed) - before;
    assert_eq!(
        allocated, 0,
        "90 steady uploads allocated {allocated} times"
    );
    // An exceedance still raises (and then allocates, as it must).
    let t = t0 + 60 * 31;
    let o = engine.on_upload("MN0", "2051", t, &upload(80.0, 7.2), t + 5);
    assert_eq!(o.raised.len(), 1, "{:?}", o.raised);
}
