//! Dynamic-wave routing against answers known without SWMM: uniform flow in a prismatic
//! channel is Manning's normal flow, the backwater (M1) profile behind a fixed outfall
//! stage follows the gradually-varied-flow equation, and the volumes of a storm
//! hydrograph balance.

use rewater_overflow::inp::{parse, ImportOptions};
use rewater_overflow::network::FlowRouting;
use rewater_overflow::route::{compute_runoff, route, Observer, StepView};
use rewater_overflow::System;

/// A chain of `n` rectangular open-channel conduits (2 m wide, 2 m deep, n = 0.015,
/// slope 0.001, 100 m each) from J0 to the outfall, fed at J0 by `inflow` (SWMM text),
/// ending in an outfall of `outfall` type.
fn channel(n: usize, outfall: &str, inflow: &str, extra: &str) -> System {
    let mut junctions = String::new();
    let mut conduits = String::new();
    let mut xsections = String::new();
    for i in 0..n {
        let z = 10.0 - 0.1 * i as f64;
        junctions += &format!("J{i} {z:.3} 3 0 0 0\n");
        let to = if i + 1 == n {
            "OUT".to_string()
        } else {
            format!("J{}", i + 1)
        };
        conduits += &format!("C{i} J{i} {to} 100 0.015 0 0 0 0\n");
        xsections += &format!("C{i} RECT_OPEN 2 2 0 0 1\n");
    }
    let z_out = 10.0 - 0.1 * n as f64;
    let text = format!(
        "[TITLE]\nchannel\n\n[OPTIONS]\nFLOW_UNITS CMS\nFLOW_ROUTING DYNWAVE\nSTART_DATE 06/01/2021\nSTART_TIME 00:00:00\nEND_DATE 06/01/2021\nEND_TIME 06:00:00\nROUTING_STEP 5\nINERTIAL_DAMPING PARTIAL\nNORMAL_FLOW_LIMITED BOTH\n{extra}\n\n[JUNCTIONS]\n{junctions}\n[OUTFALLS]\nOUT {z_out:.3} {outfall}\n\n[CONDUITS]\n{conduits}\n[XSECTIONS]\n{xsections}\n{inflow}\n"
    );
    let s = parse(
        &text,
        "channel.inp",
        std::path::Path::new("."),
        &ImportOptions::default(),
    )
    .expect("the channel file reads");
    assert_eq!(s.routed_by, FlowRouting::DynWave);
    s
}

/// Depths at the junctions at the end of the run.
struct LastDepths(Vec<f64>);
impl Observer for LastDepths {
    fn observe(&mut self, v: &StepView) {
        self.0.clear();
        self.0.extend_from_slice(v.node_depth);
    }
}

/// Normal depth of the 2 m rectangle at flow `q` (Manning, bisection).
fn normal_depth(q: f64) -> f64 {
    let (mut lo, mut hi) = (1e-6f64, 2.0f64);
    for _ in 0..100 {
        let y = 0.5 * (lo + hi);
        let a = 2.0 * y;
        let r = a / (2.0 + 2.0 * y);
        let qy = a * r.powf(2.0 / 3.0) * 0.001f64.sqrt() / 0.015;
        if qy < q {
            lo = y;
        } else {
            hi = y;
        }
    }
    0.5 * (lo + hi)
}

const STEADY: &str = "[DWF]\nJ0 FLOW 1.0\n";

#[test]
fn uniform_flow_is_manning_normal_flow() {
    // A NORMAL outfall holds the last conduit at normal depth; with a steady 1 m³/s the
    // whole channel runs at it.
    let s = channel(5, "NORMAL", STEADY, "");
    let runoff = compute_runoff(&s);
    let mut obs = LastDepths(Vec::new());
    let bal = route(&s, &runoff, &mut obs);
    let yn = normal_depth(1.0);
    for i in 0..5 {
        let y = obs.0[s.node_index(&format!("J{i}")).unwrap()];
        assert!(
            (y - yn).abs() < 0.01 * yn,
            "J{i}: depth {y:.4} m, normal {yn:.4} m"
        );
    }
    // What entered left or is in the channel, within SWMM's usual continuity error
    // (the filling of the empty channel gains 0.26 % here).
    let err = bal.continuity_error();
    assert!(
        err.abs() < 0.005,
        "continuity error {:.3} %: {bal:?}",
        err * 100.0
    );
    // At the end the channel holds its normal-depth volume: 500 m × 2 m × y_n.
    let held = 500.0 * 2.0 * yn;
    assert!((bal.in_sewers_m3 - held).abs() < 0.02 * held, "{bal:?}");
}

#[test]
fn backwater_behind_a_fixed_stage_follows_the_m1_curve() {
    // Outfall stage 1.5 m above its invert (normal depth at 1 m³/s is 0.52 m): the M1
    // profile by the standard step method over 1 km, in 1 m steps upstream.
    let n = 10;
    let z_out = 10.0 - 0.1 * n as f64;
    let s = channel(n, &format!("FIXED {:.3}", z_out + 1.5), STEADY, "");
    let runoff = compute_runoff(&s);
    let mut obs = LastDepths(Vec::new());
    route(&s, &runoff, &mut obs);
    let q = 1.0f64;
    let sf = |y: f64| {
        let a = 2.0 * y;
        let r = a / (2.0 + 2.0 * y);
        (q * 0.015 / (a * r.powf(2.0 / 3.0))).powi(2)
    };
    let fr2 = |y: f64| q * q / (9.81 * 4.0 * y * y * y);
    let mut y = 1.5;
    let mut profile = vec![y];
    for k in 1..=(100 * n) {
        // dy/dx (upstream positive x): −(S0 − Sf)/(1 − Fr²).
        let dydx = (0.001 - sf(y)) / (1.0 - fr2(y));
        y -= dydx;
        if k % 100 == 0 {
            profile.push(y);
        }
    }
    for i in 0..n {
        let expect = profile[n - i];
        let got = obs.0[s.node_index(&format!("J{i}")).unwrap()];
        assert!(
            (got - expect).abs() < 0.02 * expect,
            "J{i}: depth {got:.4} m, M1 profile {expect:.4} m"
        );
    }
}

#[test]
fn a_storm_hydrograph_balances() {
    // A 2-hour triangular inflow peaking at 3 m³/s through 5 conduits: everything that
    // went in came out or is still in the channel, within SWMM's usual continuity error.
    let inflow = "[INFLOWS]\nJ0 FLOW H FLOW 1 1\n\n[TIMESERIES]\nH 06/01/2021 00:30 0\nH 06/01/2021 01:30 3\nH 06/01/2021 02:30 0\n";
    let s = channel(5, "FREE", inflow, "VARIABLE_STEP 0.75\nMINIMUM_STEP 0.5");
    let runoff = compute_runoff(&s);
    let mut obs = LastDepths(Vec::new());
    let bal = route(&s, &runoff, &mut obs);
    let vin = 0.5 * 3.0 * 7200.0;
    assert!(
        (bal.external_m3 - vin).abs() < 1e-6 * vin,
        "{}",
        bal.external_m3
    );
    let out = bal.outfall_m3[s.node_index("OUT").unwrap()];
    let err = bal.continuity_error();
    assert!(err.abs() < 0.005, "continuity error {:.3} %", err * 100.0);
    assert!(out > 0.99 * vin, "{out} of {vin}");
}
