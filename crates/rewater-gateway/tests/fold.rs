//! The gateway's background fold of the hourly aggregates (issue 19) over real TCP: on
//! PostgreSQL the batches leave their readings pending and the fold thread adds them soon
//! after; the series read the same before and after; on SQLite nothing is deferred.

mod common;

use common::backend::{sync, wait_for, Backend};
use common::*;
use rewater_gateway::Config;
use rewater_store::prelude::*;
use rewater_store::Period;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::net::TcpStream;

async fn folded_after_the_acks(b: Backend, deferred: bool) {
    let config = Config {
        fold_every: Duration::from_millis(300),
        ..Config::default()
    };
    let gw = start(b.open(), config, None).await;
    let mut c = TcpStream::connect(&gw.addr).await.unwrap();
    // 30 minutes of COD 1, 2, … 30 in the first hour after the base time.
    for k in 0..30 {
        let f = upload("MN", "pw", k, vec![("w01018", (k + 1) as f64)]).frame();
        assert!(acked(&mut c, &f).await, "upload {k}");
    }
    let mut look = b.open();
    let t0 = base_time();
    let hour = |s: &mut Box<dyn Store>| {
        sync(|| {
            s.aggregates("MN", "w01018", Period::Hour, t0, t0 + 3600)
                .unwrap()
        })
        .into_iter()
        .map(|p| (p.t, p.n, p.mean, p.min, p.max))
        .collect::<Vec<_>>()
    };
    let want = vec![(t0, 30, 15.5, 1.0, 30.0)];
    assert_eq!(hour(&mut look), want, "right after the acknowledgements");
    let stats = gw.handle.stats();
    if deferred {
        wait_for("the fold", Duration::from_secs(10), || {
            sync(|| look.aggregates_pending().unwrap()) == 0
        })
        .await;
        assert!(stats.folded_batches.load(Ordering::Relaxed) > 0);
    }
    assert_eq!(hour(&mut look), want, "after the fold");
    assert_eq!(sync(|| look.aggregates_differing().unwrap()), 0);
    drop(c);
    let stats = gw.shutdown().await;
    assert_eq!(stats.stored.load(Ordering::Relaxed), 30);
    assert_eq!(sync(|| look.aggregates_pending().unwrap()), 0);
    if !deferred {
        assert_eq!(stats.folded_batches.load(Ordering::Relaxed), 0);
    }
    // The PostgreSQL client blocks: dropped off the async threads' duty.
    sync(move || {
        drop(look);
        drop(b);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_are_folded_after_the_acks_on_postgres() {
    let Some(b) = sync(|| Backend::postgres("fold")) else {
        return;
    };
    folded_after_the_acks(b, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregates_are_added_in_each_batch_on_sqlite() {
    folded_after_the_acks(Backend::sqlite("fold"), false).await;
}
