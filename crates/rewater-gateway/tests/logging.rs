//! Finding 11 (second half): 20,000 unknown-MN frames once printed 20,000 log lines in
//! 0.2 s. Refusals are now logged within a rate limit; the rest are counted.

mod common;

use common::*;
use rewater_gateway::Config;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tracing_subscriber::layer::SubscriberExt;

/// Counts the gateway's warnings (what an operator's log would show).
struct Count(Arc<AtomicU64>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Count {
    fn on_event(&self, e: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let m = e.metadata();
        if m.target().starts_with("rewater_gateway") && *m.level() <= tracing::Level::INFO {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_thousand_unknown_devices_do_not_print_twenty_thousand_lines() {
    let lines = Arc::new(AtomicU64::new(0));
    let subscriber = tracing_subscriber::registry().with(Count(lines.clone()));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    let path = tmp("logging");
    let config = Config {
        max_bad_frames: u32::MAX,
        housekeeping_every: Duration::from_millis(50),
        ..Config::default()
    };
    let gw = start(Box::new(store(&path)), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    let mut bytes = Vec::new();
    for i in 0..20_000 {
        let mn = format!("NOBODY{i:06}");
        bytes.extend_from_slice(
            upload(&mn, "x", 0, vec![("w01018", 1.0)])
                .frame()
                .as_bytes(),
        );
    }
    c.write_all(&bytes).await.unwrap();
    // An honest frame after them is answered, so all 20,000 were read.
    assert!(acked(&mut c, &frame(1)).await);
    let stats = gw.shutdown().await;
    assert_eq!(stats.rejected.load(Ordering::Relaxed), 20_000);
    let printed = lines.load(Ordering::Relaxed);
    // 20 lines a minute per reason, plus a few lines of start-up and shutdown.
    assert!(printed <= 30, "{printed} log lines");
    assert!(stats.log_lines_suppressed.load(Ordering::Relaxed) >= 19_980);
    // All of them are counted, by address (the MNs were invented).
    let mut s = rewater_store::SqliteStore::open(&path).unwrap();
    let counts = rewater_store::ReadingStore::rejected_counts(&mut s, 0, i64::MAX, 10).unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        (counts[0].source.as_str(), counts[0].count),
        ("127.0.0.1", 20_000)
    );
}
