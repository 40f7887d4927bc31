//! Force mains (SWMM 5's `FORCE_MAIN` cross-section) under dynamic wave: a circular pipe
//! whose friction, when it runs full, follows Hazen-Williams or Darcy-Weisbach (the
//! `[OPTIONS]` `FORCE_MAIN_EQUATION H-W | D-W`, Hazen-Williams by default) instead of
//! Manning; partly full it uses Manning with an equivalent roughness. The method is SWMM
//! 5.2's (Hydraulics Reference Manual, Vol. II, §4 and its `forcmain.c`); written here in
//! SI units:
//!
//! - Hazen-Williams, V = 0.849·C·R^0.63·S^0.54 (1.318 in feet): the friction slope is
//!   S = (V / (0.849·C))^1.852 / R^1.1667, and the momentum equation's friction term
//!   g·S/|V|·Δt = g·|V|^0.852 / (0.849·C·L_f^0.54)^1.852 / R^1.1667·Δt, with L_f the
//!   lengthening factor (1 without `LENGTHENING_STEP`).
//! - Darcy-Weisbach, S = f·V² / (8·g·R): the term is f·|V| / (8·L_f·R)·Δt, with f from
//!   Swamee-Jain, f = 0.25 / log10(e/(3.7·4R) + 5.74/Re^0.9)², Re = 4·R·|V|/ν, laminar
//!   64/Re below Re 2000 and a straight line to the turbulent value at 4000 between.
//! - Partly full, Manning with n = 1.067/C·(D/S₀)^0.04 (Hazen-Williams) or
//!   n = √(f/185)·D^(1/6) with f at Re 10¹² (Darcy-Weisbach), D in feet as SWMM has it.

/// Which friction law a full force main follows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForceMainEquation {
    #[default]
    HazenWilliams,
    DarcyWeisbach,
}

/// Kinematic viscosity of water at 20 °C, m²/s (SWMM's 1.1·10⁻⁵ ft²/s).
const NU: f64 = 1.1e-5 * 0.3048 * 0.3048;
/// Hazen-Williams constant in SI units (1.318 in feet).
const HW_K: f64 = 0.849;

/// A force main's friction when full.
#[derive(Debug, Clone)]
pub struct ForceMain {
    pub equation: ForceMainEquation,
    /// Hazen-Williams C, or Darcy-Weisbach roughness height in m.
    pub coeff: f64,
    /// The constant part of the friction term (SWMM's roughness factor for full flow).
    factor: f64,
}

impl ForceMain {
    /// For a conduit lengthened by `length_factor` (1 when not lengthened).
    pub fn new(equation: ForceMainEquation, coeff: f64, length_factor: f64) -> ForceMain {
        let factor = match equation {
            ForceMainEquation::HazenWilliams => {
                crate::network::G / (HW_K * coeff * length_factor.powf(0.54)).powf(1.852)
            }
            ForceMainEquation::DarcyWeisbach => 1.0 / 8.0 / length_factor,
        };
        ForceMain {
            equation,
            coeff,
            factor,
        }
    }

    /// Manning's n used while the pipe is partly full, for diameter `d_m` and slope.
    pub fn equivalent_n(equation: ForceMainEquation, coeff: f64, d_m: f64, slope: f64) -> f64 {
        let d_ft = d_m / 0.3048;
        match equation {
            ForceMainEquation::HazenWilliams => {
                1.067 / coeff * (d_ft / slope.abs().max(1e-6)).powf(0.04)
            }
            ForceMainEquation::DarcyWeisbach => {
                let f = friction_factor(coeff, d_m / 4.0, 1e12);
                (f / 185.0).sqrt() * d_ft.powf(1.0 / 6.0)
            }
        }
    }

    /// The friction term of the momentum equation per unit time (g·S/|V|, 1/s), at
    /// velocity `v` (m/s, ≥ 0) and hydraulic radius `r` (m) of the full pipe.
    pub fn friction(&self, v: f64, r: f64) -> f64 {
        let r = r.max(1e-9);
        match self.equation {
            ForceMainEquation::HazenWilliams => self.factor * v.powf(0.852) / r.powf(1.1667),
            ForceMainEquation::DarcyWeisbach => {
                let re = 4.0 * r * v / NU;
                friction_factor(self.coeff, r, re) * self.factor * v / r
            }
        }
    }
}

/// Darcy-Weisbach friction factor for roughness height `e` and hydraulic radius `r` (m)
/// at Reynolds number `re`.
fn friction_factor(e: f64, r: f64, re: f64) -> f64 {
    let re = re.max(10.0);
    if re <= 2000.0 {
        64.0 / re
    } else if re < 4000.0 {
        let f = friction_factor(e, r, 4000.0);
        0.032 + (f - 0.032) * (re - 2000.0) / 2000.0
    } else {
        let mut x = e / 3.7 / (4.0 * r);
        if re < 1e10 {
            x += 5.74 / re.powf(0.9);
        }
        let l = x.log10();
        0.25 / (l * l)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hazen_williams_friction_gives_back_its_velocity() {
        // A full 0.5 m pipe (R = 0.125 m), C = 120, at the slope Hazen-Williams gives for
        // 1.2 m/s: g·S/V from the term must equal g·S/V from the formula.
        let (c, r, v): (f64, f64, f64) = (120.0, 0.125, 1.2);
        let s = (v / (HW_K * c * r.powf(0.63))).powf(1.0 / 0.54);
        let fm = ForceMain::new(ForceMainEquation::HazenWilliams, c, 1.0);
        let want = crate::network::G * s / v;
        assert!((fm.friction(v, r) - want).abs() < 1e-3 * want);
    }

    #[test]
    fn darcy_weisbach_friction_and_laminar_limit() {
        // A 0.3 m pipe, e = 0.25 mm, V = 1.5 m/s: Re = 4.4·10⁵ and Swamee-Jain
        // f = 0.25/log10(0.25e-3/(3.7·0.3) + 5.74/Re^0.9)² = 0.25/3.5638² = 0.0197 (by hand).
        let r = 0.075;
        let re = 4.0 * r * 1.5 / NU;
        let f = friction_factor(0.25e-3, r, re);
        assert!((f - 0.0197).abs() < 0.0001, "{f} at Re {re}");
        assert!((friction_factor(0.25e-3, r, 1000.0) - 0.064).abs() < 1e-12);
        let fm = ForceMain::new(ForceMainEquation::DarcyWeisbach, 0.25e-3, 1.0);
        assert!((fm.friction(1.5, r) - f * 1.5 / (8.0 * r)).abs() < 1e-9);
    }

    #[test]
    fn equivalent_manning_n_by_hand() {
        // 2 ft (0.6096 m) pipe, C = 100, slope 0.01: n = 1.067/100·(2/0.01)^0.04 = 0.01320.
        let n = ForceMain::equivalent_n(ForceMainEquation::HazenWilliams, 100.0, 0.6096, 0.01);
        assert!((n - 0.01320).abs() < 5e-5, "{n}");
    }
}
