//! Several instances on one PostgreSQL database (`--database-url postgres://…`).
//!
//! - [`leader`]: one instance leads. It holds a session advisory lock on a connection of its
//!   own and claims a numbered term; it alone runs the checks, the maintenance clock, detail
//!   flushing and history writes ([`duties`]). Its snapshot writes are fenced by its term
//!   (`store::postgres::cluster`), so a deposed leader cannot publish.
//! - [`replicate`]: every instance listens for stored snapshots and feeds its own hub with the
//!   stored bytes, and loads the newest at once after its listener connection comes back.
//! - [`writes`]: a write made at any instance is stored, numbered and the leader woken; the
//!   answer waits until this instance's hub shows a snapshot that includes it.
//!
//! With SQLite none of this runs: the one instance is always the leader.

pub mod duties;
pub mod leader;
pub mod replicate;
pub mod writes;

use crate::server::store::PgStore;
use crate::server::stream::hub::Hub;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What this instance is now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Follower,
    Leader { term: i64 },
}

pub struct Cluster {
    store: PgStore,
    /// This process, as named in `cluster_state.holder` (random per start).
    id: String,
    role: watch::Sender<Role>,
    /// The highest change (see `writes`) included in what this instance's hub shows.
    applied: watch::Sender<u64>,
    /// The term of the newest stored snapshot this instance has seen (the leader's).
    leader_term: AtomicI64,
    /// The version of the newest stored snapshot this instance has seen.
    stored_version: AtomicU64,
    /// The last load of the newest snapshot failed (see `replicate`).
    load_failing: std::sync::atomic::AtomicBool,
    hub: Hub,
}

impl Cluster {
    pub fn new(store: PgStore, hub: Hub) -> Arc<Cluster> {
        let id = format!("{}-{:08x}", std::process::id(), fastrand::u32(..));
        Arc::new(Cluster {
            store,
            id,
            role: watch::channel(Role::Follower).0,
            applied: watch::channel(0).0,
            leader_term: AtomicI64::new(0),
            stored_version: AtomicU64::new(0),
            load_failing: std::sync::atomic::AtomicBool::new(false),
            hub,
        })
    }

    pub fn store(&self) -> &PgStore {
        &self.store
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn role(&self) -> Role {
        *self.role.borrow()
    }

    /// The term this instance leads in, if it leads.
    pub fn term(&self) -> Option<i64> {
        match self.role() {
            Role::Leader { term } => Some(term),
            Role::Follower => None,
        }
    }

    pub fn is_leader(&self) -> bool {
        self.term().is_some()
    }

    pub fn roles(&self) -> watch::Receiver<Role> {
        self.role.subscribe()
    }

    pub(crate) fn set_role(&self, role: Role) {
        self.role.send_replace(role);
        if let Role::Leader { term } = role {
            self.note_term(term);
        }
    }

    /// The newest leadership term this instance knows of.
    pub fn leader_term(&self) -> i64 {
        self.leader_term.load(Ordering::Relaxed)
    }

    /// The newest version the leader stored, as far as this instance knows.
    pub fn stored_version(&self) -> u64 {
        self.stored_version.load(Ordering::Relaxed)
    }

    pub(crate) fn note_stored_version(&self, version: u64) {
        self.stored_version.fetch_max(version, Ordering::Relaxed);
    }

    fn note_term(&self, term: i64) {
        self.leader_term.fetch_max(term, Ordering::Relaxed);
    }

    /// A write of `term` was fenced out: stop leading now.
    pub fn depose(&self, term: i64) {
        if self.term() == Some(term) {
            tracing::warn!("leadership: term {term} is over (a newer term exists); stepping down");
            self.set_role(Role::Follower);
        }
    }

    /// The highest change this instance's hub includes.
    pub fn applied(&self) -> u64 {
        *self.applied.borrow()
    }

    pub fn note_applied(&self, change: u64) {
        self.applied.send_if_modified(|a| {
            let newer = change > *a;
            if newer {
                *a = change;
            }
            newer
        });
    }

    /// Waits until this instance's hub includes `change`, at most `wait`; whether it does.
    pub async fn wait_applied(&self, change: u64, wait: Duration) -> bool {
        let mut rx = self.applied.subscribe();
        let reached = async { rx.wait_for(|a| *a >= change).await.is_ok() };
        tokio::time::timeout(wait, reached).await.unwrap_or(false)
    }
}
