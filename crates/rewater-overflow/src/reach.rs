//! Sewer routing between a catchment or regulator and the next node: a pure translation
//! (lag) followed by a linear reservoir, both exact for flows constant over a step and
//! both conserving volume.

/// Translation by a lag that need not be a whole number of steps: each input is split
/// between the two output steps around the lag.
#[derive(Debug, Clone)]
pub struct DelayLine {
    /// The last `whole` inputs, the oldest at `head` (empty for a lag under one step).
    ring: Vec<f64>,
    head: usize,
    frac: f64,
    /// 1 − frac.
    keep: f64,
    /// The input that reached the lag at the last step: its share `frac` goes out now.
    last: f64,
    /// No lag at all: the output is the input.
    pass: bool,
}

impl DelayLine {
    pub fn new(lag_s: f64, step_s: f64) -> DelayLine {
        let steps = (lag_s / step_s).max(0.0);
        let whole = steps.floor() as usize;
        let frac = steps - whole as f64;
        DelayLine {
            ring: vec![0.0; whole],
            head: 0,
            frac,
            keep: 1.0 - frac,
            last: 0.0,
            pass: whole == 0 && frac == 0.0,
        }
    }

    /// Push this step's inflow and return this step's outflow: (1 − frac) of the input
    /// `whole` steps ago and frac of the one before it. Only the first is read from the ring
    /// (the second was read at the last step), one slot per step.
    #[inline]
    pub fn step(&mut self, inflow: f64) -> f64 {
        if self.pass {
            return inflow;
        }
        let now = match self.ring.get_mut(self.head) {
            Some(slot) => {
                let oldest = std::mem::replace(slot, inflow);
                self.head += 1;
                if self.head == self.ring.len() {
                    self.head = 0;
                }
                oldest
            }
            None => inflow,
        };
        let out = self.keep * now + self.frac * self.last;
        self.last = now;
        out
    }

    /// Volume (in flow × steps) still inside the line: the inputs still in the ring, and
    /// the share of the last one to reach the lag that goes out next step.
    pub fn held(&self) -> f64 {
        // (A line without lag never reads, so its `last` stays 0.)
        self.ring.iter().sum::<f64>() + self.frac * self.last
    }
}

/// A linear reservoir S = K·Q, solved exactly over each step.
#[derive(Debug, Clone)]
pub struct LinearReservoir {
    decay: f64,
    k_s: f64,
    /// Storage in flow × seconds (m³ when flows are m³/s).
    pub storage: f64,
    step_s: f64,
}

impl LinearReservoir {
    pub fn new(k_s: f64, step_s: f64) -> LinearReservoir {
        LinearReservoir {
            decay: if k_s > 0.0 {
                (-step_s / k_s).exp()
            } else {
                0.0
            },
            k_s: k_s.max(0.0),
            storage: 0.0,
            step_s,
        }
    }

    /// Mean outflow over a step with constant `inflow`.
    #[inline]
    pub fn step(&mut self, inflow: f64) -> f64 {
        if self.k_s == 0.0 {
            return inflow;
        }
        let eq = inflow * self.k_s;
        let s1 = eq + (self.storage - eq) * self.decay;
        let out = inflow - (s1 - self.storage) / self.step_s;
        self.storage = s1;
        out.max(0.0)
    }
}

/// Lag then linear reservoir.
#[derive(Debug, Clone)]
pub struct Reach {
    pub delay: DelayLine,
    pub reservoir: LinearReservoir,
}

impl Reach {
    pub fn new(lag_s: f64, k_s: f64, step_s: f64) -> Reach {
        Reach {
            delay: DelayLine::new(lag_s, step_s),
            reservoir: LinearReservoir::new(k_s, step_s),
        }
    }

    #[inline]
    pub fn step(&mut self, inflow: f64) -> f64 {
        let lagged = self.delay.step(inflow);
        self.reservoir.step(lagged)
    }

    /// Volume in transit (m³ for m³/s flows).
    pub fn held_m3(&self) -> f64 {
        self.delay.held() * self.reservoir.step_s + self.reservoir.storage
    }

    /// Whether every step's outflow is its inflow (no lag and no reservoir).
    pub fn passes_through(&self) -> bool {
        self.delay.pass && self.reservoir.k_s == 0.0
    }

    /// Practically empty: nothing left worth routing.
    pub fn is_empty(&self) -> bool {
        self.held_m3() < 1e-6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_line_gives_what_direct_indexing_gives() {
        // The ring read once per step, with the input kept from the last step, gives what
        // indexing a buffer `whole` and `whole + 1` entries behind its head gives, to the
        // bit; the volume held is what those entries still owe.
        for lag_s in [0.0, 30.0, 60.0, 95.5, 150.0, 600.0, 1234.5] {
            let mut d = DelayLine::new(lag_s, 60.0);
            let (whole, frac) = (d.ring.len(), d.frac);
            let n = whole + 2;
            let mut buf = vec![0.0f64; n];
            let mut head = 0usize;
            for k in 0..500 {
                let q = ((k * 7919) % 101) as f64 * 0.013 + if k % 37 == 0 { 5.0 } else { 0.0 };
                let got = d.step(q);
                let want = if whole == 0 && frac == 0.0 {
                    q
                } else {
                    buf[head] = q;
                    let at = |j: usize| (head + n - j) % n;
                    let out = (1.0 - frac) * buf[at(whole)] + frac * buf[at(whole + 1)];
                    head = (head + 1) % n;
                    out
                };
                assert_eq!(got.to_bits(), want.to_bits(), "lag {lag_s} s, step {k}");
                if !(whole == 0 && frac == 0.0) {
                    let behind = |j: usize| buf[(head + 2 * n - 1 - j) % n];
                    let owed = (0..whole).map(behind).sum::<f64>() + frac * behind(whole);
                    assert!((d.held() - owed).abs() < 1e-12, "lag {lag_s} s, step {k}");
                }
            }
        }
    }

    #[test]
    fn delay_splits_a_fractional_lag() {
        let mut d = DelayLine::new(150.0, 60.0); // 2.5 steps
        let out: Vec<f64> = [1.0, 0.0, 0.0, 0.0, 0.0]
            .iter()
            .map(|q| d.step(*q))
            .collect();
        assert_eq!(out, vec![0.0, 0.0, 0.5, 0.5, 0.0]);
        let mut d = DelayLine::new(120.0, 60.0);
        assert_eq!(d.step(3.0), 0.0);
        assert!((d.held() - 3.0).abs() < 1e-12);
        assert_eq!(d.step(0.0), 0.0);
        assert_eq!(d.step(0.0), 3.0);
        assert!(d.held().abs() < 1e-12);
    }

    #[test]
    fn reservoir_conserves_volume_and_matches_exponential() {
        let mut r = LinearReservoir::new(600.0, 60.0);
        let mut out = 0.0;
        for k in 0..2000 {
            out += r.step(if k < 10 { 1.0 } else { 0.0 }) * 60.0;
        }
        assert!((out + r.storage - 600.0).abs() < 1e-6);
        // Unit inflow for a long time reaches Q = I.
        let mut r = LinearReservoir::new(600.0, 60.0);
        let mut q = 0.0;
        for _ in 0..200 {
            q = r.step(2.0);
        }
        assert!((q - 2.0).abs() < 1e-6);
        // Analytic storage after 10 minutes of unit inflow: K·(1 − e^(−t/K)).
        let mut r = LinearReservoir::new(600.0, 60.0);
        for _ in 0..10 {
            r.step(1.0);
        }
        assert!((r.storage - 600.0 * (1.0 - (-1.0f64).exp())).abs() < 1e-9);
    }
}
