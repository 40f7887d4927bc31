//! Live counters of a running gateway.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of a running gateway.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    /// Connections refused by the global or the per-address limit.
    pub refused_connections: AtomicU64,
    /// Connections closed for too many bad frames in a row, or idle/handshake timeouts.
    pub closed_connections: AtomicU64,
    pub frames: AtomicU64,
    pub stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub rejected: AtomicU64,
    pub garbage_bytes: AtomicU64,
    pub acks: AtomicU64,
    pub readings: AtomicU64,
    /// Log lines about refusals left out by the rate limit.
    pub log_lines_suppressed: AtomicU64,
    /// Times the device register was reloaded from the store (its version moved).
    pub reloads: AtomicU64,
    /// Frames delayed because their device exceeded its pace.
    pub paced_frames: AtomicU64,
    /// 1012 (set time) requests sent: on connect and for clock drift.
    pub time_calibrations: AtomicU64,
    /// Times this gateway took the cluster's alert leadership.
    pub leaderships: AtomicU64,
    /// Uploads evaluated from the store's alert feed (cluster leader).
    pub feed_uploads: AtomicU64,
    /// Requests sent to loggers (history requests and logger commands).
    pub platform_requests: AtomicU64,
    /// History requests (补发) sent for gaps, and gaps found filled after one.
    pub history_requests: AtomicU64,
    pub gaps_filled: AtomicU64,
    /// Split packets: parts received, whole records stored, records dropped at the timeout.
    pub split_parts: AtomicU64,
    pub split_records: AtomicU64,
    pub split_incomplete: AtomicU64,
    /// Device passwords hashed (SHA-256): a device's first frame, a changed password, a wrong
    /// one; a password that verified before is compared without hashing.
    pub password_hashes: AtomicU64,
    /// Batches whose readings the background fold added to the hourly aggregates.
    pub folded_batches: AtomicU64,
    /// Time from a frame's arrival to its 9014 being written, as a histogram.
    pub ack_latency: LatencyHistogram,
}

/// Upper bounds (ms) of the latency histogram buckets; the last bucket is open.
pub const LATENCY_BOUNDS_MS: [f64; 16] = [
    0.5, 1.0, 2.0, 3.0, 5.0, 7.5, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 75.0, 100.0, 200.0, 500.0,
];

/// A lock-free latency histogram.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    counts: [AtomicU64; 17],
}

impl LatencyHistogram {
    pub fn record(&self, ms: f64) {
        let i = LATENCY_BOUNDS_MS
            .iter()
            .position(|b| ms <= *b)
            .unwrap_or(LATENCY_BOUNDS_MS.len());
        self.counts[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The bucket bound at or below which a share `q` of the samples lie (∞ past the last).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let counts: Vec<u64> = self
            .counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let target = (q * total as f64).ceil() as u64;
        let mut acc = 0;
        for (i, c) in counts.iter().enumerate() {
            acc += c;
            if acc >= target {
                return LATENCY_BOUNDS_MS.get(i).copied().unwrap_or(f64::INFINITY);
            }
        }
        f64::INFINITY
    }
}
