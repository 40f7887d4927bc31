//! Sparse flow series on the simulation's step grid: runoff is zero most of the time,
//! so a ten-year record at five-minute steps is kept as blocks of wet steps only.

/// Values on a step grid, zero outside the stored blocks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseSeries {
    blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
struct Block {
    start: usize,
    values: Vec<f32>,
}

impl Block {
    fn end(&self) -> usize {
        self.start + self.values.len()
    }
}

/// The steps with a value in any of these series, as ordered, merged `(start, end)` ranges.
pub(crate) fn busy_spans<'a>(
    series: impl Iterator<Item = &'a SparseSeries>,
) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = series
        .flat_map(|s| s.stored_ranges().map(|r| (r.start, r.end)))
        .collect();
    spans.sort_unstable();
    let mut busy: Vec<(usize, usize)> = Vec::new();
    for (a, b) in spans {
        match busy.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => busy.push((a, b)),
        }
    }
    busy
}

impl SparseSeries {
    /// Set the value of `step`, which must not be before the last step pushed.
    #[inline]
    pub fn push(&mut self, step: usize, value: f64) {
        debug_assert!(self.blocks.last().is_none_or(|b| step >= b.start));
        if value == 0.0 {
            return;
        }
        // The usual case, the step after the last one: inline.
        if let Some(b) = self.blocks.last_mut() {
            if b.end() == step {
                b.values.push(value as f32);
                return;
            }
        }
        self.push_new(step, value);
    }

    /// `push` of a step not right after the last one.
    #[inline(never)]
    fn push_new(&mut self, step: usize, value: f64) {
        match self.blocks.last_mut() {
            Some(b) if step < b.end() => {
                let i = step - b.start;
                b.values[i] += value as f32;
            }
            _ => self.blocks.push(Block {
                start: step,
                values: vec![value as f32],
            }),
        }
    }

    /// The step ranges that hold values (everything else is zero), in order.
    pub fn stored_ranges(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        self.blocks.iter().map(|b| b.start..b.end())
    }

    /// Add another series to this one.
    pub fn add(&mut self, other: &SparseSeries) {
        if other.blocks.is_empty() {
            return;
        }
        if self.blocks.is_empty() {
            self.blocks = other.blocks.clone();
            return;
        }
        // Union of the spans, then sum both into it.
        let mut spans: Vec<(usize, usize)> = self
            .blocks
            .iter()
            .chain(&other.blocks)
            .map(|b| (b.start, b.end()))
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::new();
        for (s, e) in spans {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        let mut out: Vec<Block> = merged
            .iter()
            .map(|&(s, e)| Block {
                start: s,
                values: vec![0.0; e - s],
            })
            .collect();
        for source in [&self.blocks, &other.blocks] {
            let mut j = 0;
            for b in source.iter() {
                while out[j].end() < b.end() {
                    j += 1;
                }
                let target = &mut out[j];
                let off = b.start - target.start;
                for (k, v) in b.values.iter().enumerate() {
                    target.values[off + k] += v;
                }
            }
        }
        self.blocks = out;
    }

    /// Sum of value × `step_s` (a volume when values are flows in m³/s).
    pub fn integral(&self, step_s: f64) -> f64 {
        self.blocks
            .iter()
            .flat_map(|b| b.values.iter())
            .map(|v| *v as f64 * step_s)
            .sum()
    }

    /// The same flows on another step grid starting at the same time: each new step holds
    /// the mean over its span, so volumes are kept exactly.
    pub fn regrid(&self, from_step_s: i64, to_step_s: i64, to_steps: usize) -> SparseSeries {
        if from_step_s == to_step_s {
            return self.clone();
        }
        let mut out = SparseSeries::default();
        let (from, to) = (from_step_s, to_step_s);
        for b in &self.blocks {
            let j0 = ((b.start as i64 * from) / to) as usize;
            let j1 = ((b.end() as i64 * from + to - 1) / to) as usize;
            let j1 = j1.min(to_steps);
            if j1 <= j0 {
                continue;
            }
            let mut acc = vec![0.0f64; j1 - j0];
            for (k, v) in b.values.iter().enumerate() {
                let a = (b.start + k) as i64 * from;
                let e = a + from;
                let mut j = (a / to) as usize;
                while j < j1 && (j as i64) * to < e {
                    let lo = a.max(j as i64 * to);
                    let hi = e.min((j as i64 + 1) * to);
                    acc[j - j0] += *v as f64 * (hi - lo) as f64 / to as f64;
                    j += 1;
                }
            }
            for (i, v) in acc.into_iter().enumerate() {
                out.push(j0 + i, v);
            }
        }
        out
    }

    /// The same values `by` steps later, cut at `steps`.
    pub fn shifted(&self, by: usize, steps: usize) -> SparseSeries {
        let mut out = SparseSeries::default();
        for b in &self.blocks {
            for (k, v) in b.values.iter().enumerate() {
                let step = b.start + k + by;
                if step >= steps {
                    return out;
                }
                out.push(step, *v as f64);
            }
        }
        out
    }

    /// Whether no step holds a value.
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    /// Number of stored (non-zero) steps.
    pub fn stored_steps(&self) -> usize {
        self.blocks.iter().map(|b| b.values.len()).sum()
    }

    /// A reader for increasing steps.
    pub fn cursor(&self) -> Cursor<'_> {
        let mut c = Cursor {
            series: self,
            block: 0,
            start: 0,
            values: Values::Borrowed(&[]),
            feed: None,
        };
        c.load();
        c
    }
}

/// No values at all (what a cursor of streamed runoff borrows: nothing).
pub(crate) static EMPTY: SparseSeries = SparseSeries { blocks: Vec::new() };

/// Where a cursor over runoff that arrives in segments ([`crate::stream`]) finds the rest.
struct Feed<'a> {
    segments: &'a crate::stream::Segments,
    node: usize,
    /// The segment `owned` is of (usize::MAX: none yet).
    segment: usize,
    /// This node's runoff in that segment, taken from it (each block's values move to
    /// the cursor as it reaches them).
    owned: SparseSeries,
}

/// The current block's values: borrowed from the series read, or owned when taken from a
/// segment of streamed runoff.
enum Values<'a> {
    Borrowed(&'a [f32]),
    Owned(Vec<f32>),
}

impl Values<'_> {
    #[inline]
    fn as_slice(&self) -> &[f32] {
        match self {
            Values::Borrowed(s) => s,
            Values::Owned(v) => v,
        }
    }
}

/// Reads a [`SparseSeries`] at non-decreasing steps in amortised constant time.
pub struct Cursor<'a> {
    series: &'a SparseSeries,
    block: usize,
    /// The current block's first step and values (empty past the last block), kept at
    /// hand: routing reads every runoff node at every step.
    start: usize,
    values: Values<'a>,
    feed: Option<Feed<'a>>,
}

impl<'a> Cursor<'a> {
    /// A reader of node `node`'s runoff while it arrives segment by segment; it waits for
    /// a segment that is not ready yet, and takes each one's runoff of the node (the
    /// node's only reader: a second would find nothing).
    pub(crate) fn streamed(segments: &'a crate::stream::Segments, node: usize) -> Cursor<'a> {
        Cursor {
            series: &EMPTY,
            block: 0,
            start: usize::MAX,
            values: Values::Borrowed(&[]),
            feed: Some(Feed {
                segments,
                node,
                segment: usize::MAX,
                owned: SparseSeries::default(),
            }),
        }
    }

    fn blocks(&self) -> usize {
        match &self.feed {
            Some(f) => f.owned.blocks.len(),
            None => self.series.blocks.len(),
        }
    }

    fn load(&mut self) {
        let series: &'a SparseSeries = self.series;
        (self.start, self.values) = match &mut self.feed {
            Some(f) => match f.owned.blocks.get_mut(self.block) {
                Some(b) => (b.start, Values::Owned(std::mem::take(&mut b.values))),
                None => (usize::MAX, Values::Borrowed(&[])),
            },
            None => match series.blocks.get(self.block) {
                Some(b) => (b.start, Values::Borrowed(&b.values)),
                None => (usize::MAX, Values::Borrowed(&[])),
            },
        };
    }

    #[inline]
    pub fn get(&mut self, step: usize) -> f64 {
        let values = self.values.as_slice();
        if step.wrapping_sub(self.start) < values.len() {
            return values[step - self.start] as f64;
        }
        if self.start > step && (self.start != usize::MAX || self.feed.is_none()) {
            // Before the next block (most dry steps): zero. (A streamed cursor's next
            // block is in the segment it reads, so `step` is in that segment too.)
            return 0.0;
        }
        self.seek(step)
    }

    /// `get` past the current block: the next blocks, or the next segments.
    #[inline(never)]
    fn seek(&mut self, step: usize) -> f64 {
        loop {
            while self.block < self.blocks() && self.start + self.values.as_slice().len() <= step {
                self.block += 1;
                self.load();
            }
            if let Some(i) = step.checked_sub(self.start) {
                if let Some(&v) = self.values.as_slice().get(i) {
                    return v as f64;
                }
            }
            // Not in this series; with runoff arriving in segments, `step` may be in a
            // later one.
            let Some(f) = &mut self.feed else {
                return 0.0;
            };
            let segments: &'a crate::stream::Segments = f.segments;
            let seg = segments.segment_of(step);
            if seg == f.segment || step >= segments.steps() {
                return 0.0;
            }
            // Segments passed over in a quiet stretch are not read: free them too.
            let first = f.segment.wrapping_add(1);
            for passed in first..seg {
                if let Some(s) = segments.ready(passed) {
                    drop(s.take_node(f.node));
                }
            }
            f.segment = seg;
            f.owned = segments.wait(seg).take_node(f.node);
            self.block = 0;
            self.load();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense(s: &SparseSeries, n: usize) -> Vec<f64> {
        let mut c = s.cursor();
        (0..n).map(|i| c.get(i)).collect()
    }

    #[test]
    fn push_add_and_read() {
        let mut a = SparseSeries::default();
        a.push(2, 1.0);
        a.push(3, 2.0);
        a.push(7, 4.0);
        let mut b = SparseSeries::default();
        b.push(3, 10.0);
        b.push(4, 10.0);
        b.push(9, 1.0);
        a.add(&b);
        assert_eq!(
            dense(&a, 11),
            vec![0.0, 0.0, 1.0, 12.0, 10.0, 0.0, 0.0, 4.0, 0.0, 1.0, 0.0]
        );
        assert!((a.integral(2.0) - 2.0 * 28.0).abs() < 1e-9);
        assert_eq!(a.stored_steps(), 5);
    }

    #[test]
    fn regrid_keeps_volumes() {
        let mut a = SparseSeries::default();
        a.push(1, 3.0); // 300–600 s at 3 m³/s
        a.push(2, 6.0); // 600–900 s
                        // Onto 120 s steps: 240–360 s holds 60 s of 3 → 1.5; 600–720 is all 6.
        let b = a.regrid(300, 120, 10);
        let d = dense(&b, 10);
        assert!(
            (d[2] - 1.5).abs() < 1e-6 && (d[5] - 6.0).abs() < 1e-6,
            "{d:?}"
        );
        assert!((a.integral(300.0) - b.integral(120.0)).abs() < 1e-3);
        // Onto 900 s steps: one step with the mean (900 + 1800)/900 = 3.
        let c = a.regrid(300, 900, 2);
        assert!((dense(&c, 2)[0] - 3.0).abs() < 1e-6);
    }
}
