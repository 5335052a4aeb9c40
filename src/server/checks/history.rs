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
    use crate::server::store::{Span, SqliteStore};

    #[tokio::test]
    async fn results_are_written_in_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path()).await.unwrap());
        let writer = HistoryWriter::spawn(store.clone());
        for i in 0..500 {
            assert!(writer.push(ResultRow {
                component: "api".into(),
                at_ms: i * 1000,
                level: Level::Operational,
                latency_ms: None
            }));
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
}
