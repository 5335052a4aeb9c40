//! Admission: how the process's file descriptors are shared, so that no kind of client can
//! take the ones the others need.
//!
//! The open-file limit is split three ways ([`Limits`]): SSE **streams** (`--max-streams`;
//! over it a stream is told to retry later), other **connections** (`--max-connections`:
//! connections waiting for a request head, and those hyper serves: pages, the API, files),
//! and a **reserve** the process keeps for itself (the database, check sockets and pipes,
//! the listener). Streams at their limit therefore never take what pages and the API need.
//!
//! Within the connection pool, a connection that is *waiting on its client* (no request
//! yet, or kept alive between requests) can be evicted: when the pool is full, a new
//! connection closes the longest-waiting idle one. So idle and half-open connections, however
//! many arrive, cannot keep a client that actually sends a request out: it is served, and the
//! idle ones are the ones closed. A connection with a request in flight is never evicted
//! (a slow body is bounded by `--body-timeout` instead); when every connection is busy, a
//! new one is answered 503 at once and closed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// How an open-file limit is shared (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub streams: usize,
    pub connections: usize,
    pub reserve: usize,
}

impl Limits {
    /// The default split of `open_files` descriptors: a reserve of 1/40 (128 to 1024), a
    /// connection pool of 1/20 (64 to 4096), the rest for streams (at least 16). At the
    /// machine's 20,000: 500 reserved, 1,000 connections, 18,500 streams.
    pub fn for_open_files(open_files: u64) -> Limits {
        let n = open_files.min(1 << 24) as usize;
        let reserve = (n / 40).clamp(128, 1024);
        let connections = (n / 20).clamp(64, 4096);
        let streams = n.saturating_sub(reserve + connections).max(16);
        Limits { streams, connections, reserve }
    }

    /// The process's soft open-file limit, raised to the hard one first where allowed (a
    /// service started with the common soft limit of 1024 would otherwise hold ~700 streams).
    pub fn open_file_limit() -> u64 {
        use rustix::process::{getrlimit, setrlimit, Resource};
        let limit = getrlimit(Resource::Nofile);
        if let (Some(soft), Some(hard)) = (limit.current, limit.maximum) {
            if soft < hard
                && setrlimit(Resource::Nofile, rustix::process::Rlimit { current: Some(hard), maximum: Some(hard) }).is_ok()
            {
                return hard;
            }
        }
        limit.current.unwrap_or(1 << 20)
    }
}

/// The connection pool: every open connection that is not (yet) a stream.
pub struct Admission {
    max: usize,
    pool: Mutex<Pool>,
    next_id: AtomicU64,
    /// Woken whenever a connection leaves (for admission and shutdown to wait on).
    left: Notify,
    pub evicted: AtomicU64,
    pub refused: AtomicU64,
}

#[derive(Default)]
struct Pool {
    /// By admission order; an evicted connection stays until it has closed (its descriptor
    /// is in use until then).
    open: BTreeMap<u64, Arc<Entry>>,
    /// How many of `open` are evicted and closing.
    closing: usize,
}

/// The longest a new connection waits for an evicted one to close before it is refused.
const EVICTION_WAIT: std::time::Duration = std::time::Duration::from_millis(100);

/// One admitted connection, as the pool sees it.
pub struct Entry {
    /// Requests in the server's hands (from their whole body until their response is
    /// sent); 0 means the connection is waiting on its client (for a head, or a body) and
    /// may be evicted.
    busy: AtomicUsize,
    /// Set before `close` is notified when the connection is evicted (not just stopping).
    evicted: std::sync::atomic::AtomicBool,
    /// Told to close: evicted, or the server is stopping.
    close: Notify,
}

/// A connection's place in the pool; freed when dropped (the connection ended, or became a
/// stream and is counted with the streams instead).
pub struct Ticket {
    pool: Arc<Admission>,
    id: u64,
    pub entry: Arc<Entry>,
}

impl Admission {
    pub fn new(max: usize) -> Arc<Admission> {
        Arc::new(Admission {
            max: max.max(1),
            pool: Mutex::new(Pool::default()),
            next_id: AtomicU64::new(0),
            left: Notify::new(),
            evicted: AtomicU64::new(0),
            refused: AtomicU64::new(0),
        })
    }

    /// A place for a new connection: free, or made free by evicting the longest-waiting idle
    /// connection (and waiting for it to close, so descriptors in use never exceed the pool).
    /// `None` when every connection in the pool has a request in flight.
    pub async fn admit(self: &Arc<Self>) -> Option<Ticket> {
        let deadline = tokio::time::Instant::now() + EVICTION_WAIT;
        loop {
            let left = self.left.notified();
            {
                let mut pool = self.pool.lock().unwrap();
                if pool.open.len() < self.max {
                    let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                    let entry = Arc::new(Entry { busy: AtomicUsize::new(0), evicted: false.into(), close: Notify::new() });
                    pool.open.insert(id, entry.clone());
                    return Some(Ticket { pool: self.clone(), id, entry });
                }
                if pool.closing == 0 {
                    // The oldest first: ids grow with admission, and an idle connection that
                    // has waited longest is the least likely to be about to send a request.
                    let Some(entry) = pool.open.values().find(|e| e.busy.load(Ordering::Acquire) == 0).cloned() else {
                        self.refused.fetch_add(1, Ordering::Relaxed);
                        return None;
                    };
                    entry.evicted.store(true, Ordering::Release);
                    entry.close.notify_one();
                    pool.closing += 1;
                    self.evicted.fetch_add(1, Ordering::Relaxed);
                }
            }
            if tokio::time::timeout_at(deadline, left).await.is_err() {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            }
        }
    }

    pub fn open(&self) -> usize {
        self.pool.lock().unwrap().open.len()
    }

    /// Tells every connection to close (idle ones at once, busy ones after their response)
    /// and waits up to `wait` for them to go.
    pub async fn close_all(&self, wait: std::time::Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = self.left.notified();
            {
                let pool = self.pool.lock().unwrap();
                if pool.open.is_empty() {
                    return;
                }
                for entry in pool.open.values() {
                    entry.close.notify_one();
                }
            }
            if tokio::time::timeout_at(deadline, left).await.is_err() {
                return;
            }
        }
    }
}

impl Entry {
    /// Resolves when this connection is told to close.
    pub async fn closing(&self) {
        self.close.notified().await
    }

    /// Whether the close asked for is an eviction (a connection waiting on its client, to be
    /// dropped at once) rather than the server stopping (finish what is in flight).
    pub fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    pub fn is_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Marks a request in flight until the returned guard is dropped.
    pub fn busy(self: &Arc<Self>) -> Busy {
        self.busy.fetch_add(1, Ordering::AcqRel);
        Busy(self.clone())
    }
}

/// A request in flight (see [`Entry::busy`]).
pub struct Busy(Arc<Entry>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut pool = self.pool.pool.lock().unwrap();
        if pool.open.remove(&self.id).is_some_and(|e| e.evicted()) {
            pool.closing -= 1;
        }
        drop(pool);
        self.pool.left.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_split_with_room_for_pages_and_the_process() {
        assert_eq!(Limits::for_open_files(20_000), Limits { streams: 18_500, connections: 1_000, reserve: 500 });
        assert_eq!(Limits::for_open_files(1_024), Limits { streams: 832, connections: 64, reserve: 128 });
        assert_eq!(Limits::for_open_files(1_048_576), Limits { streams: 1_043_456, connections: 4_096, reserve: 1_024 });
        let tiny = Limits::for_open_files(100);
        assert_eq!(tiny.streams, 16);
        for n in [256u64, 4_096, 20_000, 65_536, 1 << 20] {
            let l = Limits::for_open_files(n);
            assert!(l.streams + l.connections + l.reserve <= n as usize, "{n}: {l:?}");
        }
    }

    #[tokio::test]
    async fn a_full_pool_evicts_its_longest_idle_connection_and_never_a_busy_one() {
        let pool = Admission::new(3);
        let first = pool.admit().await.unwrap();
        let second = pool.admit().await.unwrap();
        let third = pool.admit().await.unwrap();
        let _in_flight = first.entry.busy();
        // The second (the oldest idle one) is told to close; the new one is admitted once it has.
        let admitting = tokio::spawn({
            let pool = pool.clone();
            async move { pool.admit().await }
        });
        tokio::time::timeout(std::time::Duration::from_secs(5), second.entry.closing())
            .await
            .expect("the oldest idle is evicted");
        assert!(second.entry.evicted());
        drop(second);
        let fourth = admitting.await.unwrap().expect("admitted in the evicted one's place");
        assert_eq!(pool.open(), 3);
        assert_eq!(pool.evicted.load(Ordering::Relaxed), 1);
        let told = |t: &Ticket| futures_util::FutureExt::now_or_never(t.entry.closing()).is_some();
        assert!(!told(&first) && !told(&third) && !told(&fourth), "the busy and the newer were left alone");
        let _b3 = third.entry.busy();
        let _b4 = fourth.entry.busy();
        assert!(pool.admit().await.is_none(), "every connection busy: refused at once");
        assert_eq!(pool.refused.load(Ordering::Relaxed), 1);
        drop(first);
        assert!(pool.admit().await.is_some(), "a place freed by a connection that ended");
    }

    #[tokio::test]
    async fn an_evicted_connection_that_does_not_close_makes_the_new_one_wait_then_refused() {
        let pool = Admission::new(1);
        let _stuck = pool.admit().await.unwrap();
        let started = std::time::Instant::now();
        assert!(pool.admit().await.is_none());
        assert!(started.elapsed() >= EVICTION_WAIT, "waited for the eviction");
        assert_eq!(pool.open(), 1, "descriptors in use never exceed the pool");
    }

    #[tokio::test]
    async fn close_all_waits_for_connections_to_leave() {
        let pool = Admission::new(8);
        let ticket = pool.admit().await.unwrap();
        let leaving = tokio::spawn(async move {
            ticket.entry.closing().await;
            drop(ticket);
        });
        pool.close_all(std::time::Duration::from_secs(5)).await;
        assert_eq!(pool.open(), 0);
        leaving.await.unwrap();
    }
}
