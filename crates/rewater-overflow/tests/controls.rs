//! Control rules SWMM's own test files use (issue 14): TIMEOPEN / TIMECLOSED premises,
//! `=` on times within half a step, and `SETTING = CURVE` (a modulated control).

use rewater_overflow::inp::{parse, ImportOptions};
use rewater_overflow::route::{compute_runoff, route, Observer, StepView};
use std::path::Path;

/// A 100 m² storage unit, 2 m of water at the start, draining through orifice O1 (closed
/// at the start) to OUT1, with the rules given.
fn tank(rules: &str) -> rewater_overflow::System {
    let text = format!(
        "[OPTIONS]\nFLOW_UNITS CMS\nSTART_DATE 06/01/2021\nEND_DATE 06/01/2021\nEND_TIME 04:00\nWET_STEP 0:01:00\nROUTING_STEP 60\n\
         [STORAGE]\nST1 10 3 2 FUNCTIONAL 0 0 100\n[OUTFALLS]\nOUT1 9 FREE\n\
         [ORIFICES]\nO1 ST1 OUT1 BOTTOM 0 0.6\n[XSECTIONS]\nO1 RECT_CLOSED 0.05 0.05\n\
         [CONTROLS]\nRULE R0\nIF SIMULATION TIME = 0:00\nTHEN ORIFICE O1 SETTING = 0\n{rules}\n\
         [CURVES]\nC1 CONTROL 0 1 0.5 1 0.51 0 9 0\n"
    );
    parse(&text, "tank.inp", Path::new("."), &ImportOptions::default()).unwrap()
}

/// First and last time (hours after the start) with flow into OUT1.
struct Window {
    node: usize,
    start_s: i64,
    first_h: Option<f64>,
    last_h: Option<f64>,
}

impl Observer for Window {
    fn observe(&mut self, v: &StepView) {
        if v.node_inflow[self.node] > 0.0 {
            let h = (v.time_s - self.start_s) as f64 / 3600.0;
            self.first_h.get_or_insert(h);
            self.last_h = Some(h);
        }
    }
}

fn window(s: &rewater_overflow::System) -> (f64, f64) {
    let mut w = Window {
        node: s.node_index("OUT1").unwrap(),
        start_s: s.clock.start_s,
        first_h: None,
        last_h: None,
    };
    route(s, &compute_runoff(s), &mut w);
    (w.first_h.unwrap(), w.last_h.unwrap())
}

#[test]
fn timeopen_closes_the_orifice_half_an_hour_after_it_opened() {
    // Rules act on the state at the end of the step before: opened at the 1:00 step, the
    // orifice passes water from 1:00 up to the step at which TIMEOPEN reaches 0:30.
    let s = tank(
        "RULE R1\nIF SIMULATION TIME = 1:00\nTHEN ORIFICE O1 SETTING = 1\n\
         RULE R2\nIF ORIFICE O1 TIMEOPEN >= 0:30\nTHEN ORIFICE O1 SETTING = 0\nPRIORITY 5\n",
    );
    assert_eq!(s.clock.step_s, 60);
    let (first, last) = window(&s);
    assert!((first - 1.0).abs() < 1e-9, "opens at {first} h");
    assert!(
        (last - (1.5 - 1.0 / 60.0)).abs() < 1e-9,
        "last flow at {last} h"
    );
}

#[test]
fn timeclosed_reopens_and_a_control_curve_modulates() {
    // Closed at the start: TIMECLOSED = 2:00 opens it (within half a step of 2 h); the
    // curve keeps it open while TIMEOPEN ≤ 0.5 h and shuts it after 0.51 h.
    let s = tank(
        "RULE R1\nIF ORIFICE O1 TIMECLOSED = 2:00\nTHEN ORIFICE O1 SETTING = 1\n\
         RULE R2\nIF ORIFICE O1 TIMEOPEN > 0:00\nTHEN ORIFICE O1 SETTING = CURVE C1\n",
    );
    let (first, last) = window(&s);
    assert!((first - 2.0).abs() < 1e-9, "opens at {first} h");
    assert!(last > 2.45 && last < 2.55, "closes at {last} h");
}
