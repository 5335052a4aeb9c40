//! How big the history database gets: simulates DAYS days of COMPONENTS components checked
//! every INTERVAL seconds through the real store (record + hourly prune), then prints the
//! database size. `make bench` runs it with 90 days, 50 components, 30 s. The simulation
//! skips fsync (the size is the same; the wall time is not that of a live server).
//!
//!     cargo run --release --features ssr --example history_size -- [days] [components] [interval_s]

use statuscast::server::store::{ResultRow, Store};
use statuscast::status::Level;

#[tokio::main]
async fn main() {
    let args: Vec<i64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let days = *args.first().unwrap_or(&90);
    let components = *args.get(1).unwrap_or(&50);
    let interval_ms = args.get(2).unwrap_or(&30) * 1000;
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Store::open_with(dir.path(), false).await.expect("store");
    let start_ms: i64 = 1_790_000_000_000;
    let end_ms = start_ms + days * 86_400_000;
    let wall = std::time::Instant::now();
    let mut t = start_ms;
    let mut results = 0u64;
    let mut next_prune = start_ms + 3_600_000;
    let mut batch = Vec::with_capacity(4096);
    while t < end_ms {
        for c in 0..components {
            // Mostly up, some latency variation, an outage now and then.
            let level = if (t / interval_ms + c) % 997 == 0 { Level::MajorOutage } else { Level::Operational };
            let latency = (level == Level::Operational).then(|| (20 + (t / 1000 + c) % 180) as u32);
            batch.push(ResultRow { component: format!("component-{c}"), at_ms: t, level, latency_ms: latency });
        }
        results += components as u64;
        if batch.len() >= 20_000 {
            store.record(&batch).await.expect("record");
            batch.clear();
        }
        t += interval_ms;
        if t >= next_prune {
            store.record(&batch).await.expect("record");
            batch.clear();
            store.prune(t).await.expect("prune");
            next_prune += 3_600_000;
        }
    }
    store.record(&batch).await.expect("record");
    store.prune(t).await.expect("prune");
    let bytes = store.size_bytes().await.expect("size");
    println!(
        "{{\"history\": {{\"days\": {days}, \"components\": {components}, \"interval_s\": {}, \"results\": {results}, \"db_mib\": {:.1}, \"seconds\": {:.0}}}}}",
        interval_ms / 1000,
        bytes as f64 / 1_048_576.0,
        wall.elapsed().as_secs_f64()
    );
}
