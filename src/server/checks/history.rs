//! Writes check results to the store: in batches (one transaction every 200 ms at most, so a
//! thousand checks cost a handful of commits), and, while the database is unavailable (a
//! PostgreSQL restart, a lost connection), held in memory and written once it is back. What
//! is held is bounded: past [`PENDING_LIMIT`] results the oldest are dropped and counted.
//! One writer serves every configuration the checks are reloaded with.

use crate::server::store::{ResultRow, Store};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Results held while the database cannot be written (1,000 checks every 10 s: 17 minutes).
pub const PENDING_LIMIT: usize = 100_000;
/// How long after a failed write the next try is made.
const RETRY: Duration = Duration::from_secs(1);

/// What `/metrics` shows of the writer.
#[derive(Default)]
pub struct HistoryStats {
    /// Results waiting to be written (held while the database is unavailable).
    pub pending: AtomicU64,
    pub written: AtomicU64,
    /// Results dropped: the oldest, past the limit while the database was unavailable, or a
    /// batch the database refused for good.
    pub dropped: AtomicU64,
}

#[derive(Clone)]
pub struct HistoryWriter {
    tx: mpsc::Sender<ResultRow>,
    pub stats: Arc<HistoryStats>,
}

impl HistoryWriter {
    /// Starts the writer's task; it ends when every handle is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> HistoryWriter {
        HistoryWriter::spawn_with_limit(store, PENDING_LIMIT)
    }

    pub fn spawn_with_limit(store: Arc<dyn Store>, limit: usize) -> HistoryWriter {
        let (tx, rx) = mpsc::channel::<ResultRow>(65_536);
        let stats = Arc::new(HistoryStats::default());
        tokio::spawn(write_loop(store, rx, stats.clone(), limit));
        HistoryWriter { tx, stats }
    }

    /// Queues a result; false if the writer is too far behind to take it (it is dropped).
    pub fn push(&self, row: ResultRow) -> bool {
        let taken = self.tx.try_send(row).is_ok();
        if !taken {
            self.stats.dropped.fetch_add(1, Relaxed);
        }
        taken
    }
}

async fn write_loop(store: Arc<dyn Store>, mut rx: mpsc::Receiver<ResultRow>, stats: Arc<HistoryStats>, limit: usize) {
    let mut pending: VecDeque<ResultRow> = VecDeque::new();
    let mut failing = false;
    let mut batch = Vec::new();
    loop {
        if pending.is_empty() {
            if rx.recv_many(&mut batch, 4096).await == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        } else {
            // Retrying: wait a little, taking what arrives meanwhile.
            tokio::time::sleep(RETRY).await;
        }
        while let Ok(row) = rx.try_recv() {
            batch.push(row);
        }
        pending.extend(batch.drain(..));
        let over = pending.len().saturating_sub(limit);
        if over > 0 {
            pending.drain(..over);
            stats.dropped.fetch_add(over as u64, Relaxed);
        }
        let rows = pending.make_contiguous();
        match store.record(rows).await {
            Ok(()) => {
                if failing {
                    tracing::info!("check history: the database is back; {} held results written", rows.len());
                }
                stats.written.fetch_add(rows.len() as u64, Relaxed);
                pending.clear();
                failing = false;
            }
            Err(e) if e.is_unavailable() => {
                if !failing {
                    tracing::error!("check history: the database is unavailable, holding results (at most {limit}): {e}");
                }
                failing = true;
            }
            Err(e) => {
                tracing::error!("check history not written ({} results dropped): {e}", rows.len());
                stats.dropped.fetch_add(rows.len() as u64, Relaxed);
                pending.clear();
            }
        }
        stats.pending.store(pending.len() as u64, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level;
    use crate::server::store::postgres::throwaway::Throwaway;
    use crate::server::store::{PgStore, Span, SqliteStore};

    fn result(at_ms: i64) -> ResultRow {
        ResultRow { component: "api".into(), at_ms, level: Level::Operational, latency_ms: None }
    }

    async fn until(what: &str, check: impl Fn() -> bool) {
        for _ in 0..300 {
            if check() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{what}: not within 30 s");
    }

    #[tokio::test]
    async fn results_are_written_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let writer = HistoryWriter::spawn(store.clone());
        for i in 0..500 {
            assert!(writer.push(result(i * 1000)));
        }
        let stats = writer.stats.clone();
        for _ in 0..50 {
            if stats.written.load(Relaxed) == 500 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(stats.written.load(Relaxed), 500);
        let minutes: i64 = store.history("api", Span::Minute, 0).await.unwrap().iter().map(|b| b.samples).sum();
        assert_eq!(minutes, 500);
    }

    #[tokio::test]
    async fn while_the_database_is_down_the_newest_results_are_held_and_written_when_it_is_back() {
        let cluster = Throwaway::start();
        let url = cluster.database().await;
        let store: Arc<dyn Store> = Arc::new(PgStore::open(&url, &url).await.unwrap());
        cluster.stop();
        let writer = HistoryWriter::spawn_with_limit(store.clone(), 10);
        let stats = writer.stats.clone();
        for i in 0..25 {
            writer.push(result(i * 60_000));
        }
        until("results held", || stats.pending.load(Relaxed) == 10).await;
        assert_eq!(stats.dropped.load(Relaxed), 15, "past the limit, the oldest are dropped and counted");
        assert_eq!(stats.written.load(Relaxed), 0);
        cluster.resume();
        until("held results written", || stats.written.load(Relaxed) == 10).await;
        assert_eq!(stats.pending.load(Relaxed), 0);
        let minutes = store.history("api", Span::Minute, 0).await.unwrap();
        let starts: Vec<i64> = minutes.iter().map(|b| b.start_ms).collect();
        assert_eq!(starts, (15..25).map(|i| i * 60_000).collect::<Vec<_>>(), "the newest ten, each once");
    }
}
