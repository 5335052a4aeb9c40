//! How big the history database gets: simulates DAYS days of COMPONENTS components checked
//! every INTERVAL seconds through the real store (record + hourly prune), then prints the
//! database size and times the status page's history (queries and drawing) from it.
//! `make bench` runs it with 90 days, 50 components, 30 s, once per backend: `sqlite` (a
//! temporary file; the simulation skips fsync, which changes the wall time, not the size)
//! or `postgres` (a throwaway cluster, see `store::postgres::throwaway`; vacuumed after each
//! simulated hour, as autovacuum would be in that time).
//!
//!     cargo run --release --features ssr --example history_size -- [days] [components] [interval_s] [sqlite|postgres]

use statuscast::model::{ComponentStatus, Level};
use statuscast::server::http::uptime;
use statuscast::server::store::postgres::throwaway::Throwaway;
use statuscast::server::store::{PgStore, ResultRow, Span, SqliteStore, Store};

/// The store under test, with what keeps its data alive.
enum Backend {
    Sqlite(SqliteStore, #[allow(dead_code)] tempfile::TempDir),
    Postgres(PgStore, #[allow(dead_code)] Throwaway),
}

impl Backend {
    async fn open(name: &str) -> Backend {
        match name {
            "sqlite" => {
                let dir = tempfile::tempdir().expect("temp dir");
                Backend::Sqlite(SqliteStore::open_with(dir.path(), false).await.expect("store"), dir)
            }
            "postgres" => {
                let cluster = Throwaway::start();
                let url = cluster.database().await;
                Backend::Postgres(PgStore::open(&url, &url).await.expect("store"), cluster)
            }
            other => panic!("unknown backend {other:?}: sqlite or postgres"),
        }
    }

    fn store(&self) -> &dyn Store {
        match self {
            Backend::Sqlite(s, _) => s,
            Backend::Postgres(s, _) => s,
        }
    }

    /// After each simulated hour's pruning: PostgreSQL's autovacuum would have run by then
    /// (it wakes every minute), so the simulation vacuums where a live server's would.
    async fn hourly(&self) {
        if let Backend::Postgres(s, _) = self {
            s.vacuum().await.expect("vacuum");
        }
    }

    async fn size_bytes(&self) -> i64 {
        match self {
            Backend::Sqlite(s, _) => s.size_bytes().await.expect("size"),
            Backend::Postgres(s, _) => s.size_bytes().await.expect("size"),
        }
    }
}

#[tokio::main]
async fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<i64> = words.iter().filter_map(|a| a.parse().ok()).collect();
    let days = *args.first().unwrap_or(&90);
    let components = *args.get(1).unwrap_or(&50);
    let interval_ms = args.get(2).unwrap_or(&30) * 1000;
    let name = words.iter().find(|w| w.parse::<i64>().is_err()).map_or("sqlite", String::as_str);
    let backend = Backend::open(name).await;
    let store = backend.store();
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
            backend.hourly().await;
            next_prune += 3_600_000;
        }
    }
    store.record(&batch).await.expect("record");
    store.prune(t).await.expect("prune");
    let bytes = backend.size_bytes().await;
    let seconds = wall.elapsed().as_secs_f64();

    // The status page's history (90-day bars, 24 h charts) for all of them, as the server
    // renders it once a minute: the queries and the rendering, timed.
    let list: Vec<ComponentStatus> =
        (0..components).map(|c| ComponentStatus::named(&format!("component-{c}"), &format!("Component {c}"))).collect();
    let render = std::time::Instant::now();
    let ids: Vec<String> = list.iter().map(|c| c.id.clone()).collect();
    let day_rows = store.history_of(&ids, Span::Day, t - uptime::DAYS * 86_400_000, 86_400_000).await.expect("days");
    let minute_rows = store.history_of(&ids, Span::Minute, t - 86_400_000, 300_000).await.expect("minutes");
    let incidents = store.incidents_since(t - uptime::DAYS * 86_400_000).await.expect("incidents");
    let history = std::sync::Arc::new(uptime::build(&list, &day_rows, &minute_rows, &incidents, t));
    let render_ms = render.elapsed().as_secs_f64() * 1000.0;
    // Drawn through `view!` once a minute (timed on its own); a page view reuses the HTML.
    let draw = std::time::Instant::now();
    let drawn = statuscast::ui::uptime::DrawnHistory::draw(history);
    let draw_ms = draw.elapsed().as_secs_f64() * 1000.0;
    let per_view = std::time::Instant::now();
    let html = {
        use leptos::prelude::*;
        view! { <statuscast::ui::uptime::DrawnUptime drawn/> }.to_html()
    };
    let view_ms = per_view.elapsed().as_secs_f64() * 1000.0;
    let gzip = gzip_len(html.as_bytes());
    println!(
        "{{\"history\": {{\"backend\": \"{name}\", \"days\": {days}, \"components\": {components}, \"interval_s\": {}, \"results\": {results}, \"db_mib\": {:.1}, \"seconds\": {seconds:.0}, \"render_ms\": {render_ms:.1}, \"draw_ms\": {draw_ms:.1}, \"per_view_ms\": {view_ms:.2}, \"html_kib\": {:.1}, \"html_gzip_kib\": {:.1}}}}}",
        interval_ms / 1000,
        bytes as f64 / 1_048_576.0,
        html.len() as f64 / 1024.0,
        gzip as f64 / 1024.0,
    );
}

/// Bytes of `data` after `gzip -9` (what a browser downloads with compression on).
fn gzip_len(data: &[u8]) -> usize {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-9c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    child.stdin.take().expect("stdin").write_all(data).expect("write");
    child.wait_with_output().expect("gzip output").stdout.len()
}
