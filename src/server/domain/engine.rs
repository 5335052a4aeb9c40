//! The status engine: merges what the sources report into one versioned snapshot.
//!
//! Every change goes through [`Engine`]: it derives the overall level, bumps the version and
//! publishes to the hub; an operator's change is on disk before it is acknowledged.
//!
//! Level changes (of the whole or of any component), the message and the override are
//! published at once. Changes of detail only (a check's reason, latency, time) are gathered
//! and published together by [`Engine::flush_details`], every few seconds, so a thousand
//! checks do not push a thousand events to every viewer.
//!
//! Versions are never reused across restarts without an fsync per change: the state file
//! holds a *reserved* version, a high-water mark above every version published. Crossing it
//! reserves the next [`VERSION_BLOCK`] (persisted before publishing); a restart starts above
//! the reservation. So publishing never waits for the disk, except once per block.
//!
//! The overall level follows [`overall::derive_overall`](super::overall::derive_overall).

use super::overall::derive_overall;
use crate::model::MaintenanceWindow;
use crate::model::{ComponentStatus, Incident, Level, Override, Snapshot};
use crate::server::clock::now_ms;
use crate::server::cluster::Cluster;
use crate::server::store::PersistedState;
use crate::server::store::Store;
use crate::server::store::StoreError;
use crate::server::stream::hub::{Hub, Published};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Why the engine did not publish a change.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The change (or the next version reservation) could not be stored: nothing was
    /// published, and the snapshot is as it was.
    #[error("the status change was not published: {0}")]
    Persist(#[from] StoreError),
    /// Several instances: a newer leadership term exists, so this instance's write was
    /// fenced out; nothing was published and it has stepped down.
    #[error("the status change was not published: leadership term {term} is over")]
    Deposed { term: i64 },
}

/// How many versions one reservation covers.
pub const VERSION_BLOCK: u64 = 1000;

/// What must reach viewers at once; everything else is detail.
fn significant(s: &Snapshot) -> impl PartialEq + '_ {
    let components: Vec<_> = s.components.iter().map(|c| (&c.id, &c.name, &c.group, c.level)).collect();
    (s.level, &s.message, &s.operator_override, components, &s.incidents, &s.maintenance)
}

/// The override an operator's request makes (`None`: cleared): one equal to the one in force
/// keeps its time.
pub fn next_override(current: Option<&Override>, operator: Option<(Level, String)>, now: i64) -> Option<Override> {
    let (level, message) = operator?;
    match current {
        Some(o) if o.level == level && o.message == message => Some(o.clone()),
        _ => Some(Override { level, message, set_at_ms: now }),
    }
}

struct EngineState {
    /// What the hub has (published); its components have maintenance applied.
    current: Snapshot,
    /// The components as the sources reported them.
    raw: Vec<ComponentStatus>,
    /// Which maintenance windows (those in the snapshot, not over yet) were active at the
    /// last change.
    active: Vec<i64>,
    /// Detail changes not published yet (built on `current`).
    pending: Option<Snapshot>,
    /// No published version is above this; it is on disk.
    reserved: u64,
    /// Several instances: the newest write (see `cluster::writes`) read into the snapshot,
    /// and the newest recorded with a stored snapshot.
    applied: u64,
    stored_applied: u64,
    /// Several instances: the term whose stored snapshot this state was adopted from (see
    /// [`Engine::adopt`]); it publishes only while its instance leads in that term.
    term: Option<i64>,
    /// Nothing published since the adoption (see [`Engine::announce`]).
    fresh: bool,
}

pub struct Engine {
    state: Mutex<EngineState>,
    hub: Hub,
    store: Arc<dyn Store>,
    /// Held by an operator action from its write to its publish, so two concurrent actions
    /// cannot publish their reads of the store in the wrong order.
    operator: Mutex<()>,
    /// Several instances on one PostgreSQL: only the leader publishes, each snapshot stored
    /// (fenced by the leader's term) before the hub has it.
    cluster: Option<Arc<Cluster>>,
}

impl Engine {
    /// Starts from the persisted reservation and override; the first published snapshot gets
    /// a version above the reservation, so no version is ever reused.
    pub fn new(store: Arc<dyn Store>, persisted: PersistedState, hub: Hub) -> Self {
        let (level, message) = derive_overall(&[], &[], persisted.operator_override.as_ref());
        let current = Snapshot {
            version: persisted.version,
            level,
            message,
            updated_at_ms: 0,
            components: Vec::new(),
            operator_override: persisted.operator_override,
            incidents: Vec::new(),
            maintenance: Vec::new(),
        };
        let reserved = persisted.version;
        let state = EngineState {
            current,
            raw: Vec::new(),
            active: Vec::new(),
            pending: None,
            reserved,
            applied: 0,
            stored_applied: 0,
            term: None,
            fresh: false,
        };
        Engine { state: Mutex::new(state), hub, store, operator: Mutex::new(()), cluster: None }
    }

    /// An engine of one of several instances (see `server::cluster`): it publishes only while
    /// its instance leads, from the stored snapshot it was given by [`Engine::adopt`].
    pub fn clustered(store: Arc<dyn Store>, persisted: PersistedState, hub: Hub, cluster: Arc<Cluster>) -> Self {
        let mut engine = Engine::new(store, persisted, hub);
        engine.cluster = Some(cluster);
        engine
    }

    pub fn cluster(&self) -> Option<&Arc<Cluster>> {
        self.cluster.as_ref()
    }

    /// Whether this instance publishes (single instance: always; several: while leading).
    pub fn publishes(&self) -> bool {
        self.cluster.as_ref().is_none_or(|c| c.is_leader())
    }

    /// Whether `state` may be published: a single instance's always; one of several's while
    /// its instance leads in the term the state was adopted in (a leader that has claimed its
    /// term but not adopted the stored snapshot yet publishes nothing).
    fn leads(&self, state: &EngineState) -> bool {
        match &self.cluster {
            None => true,
            Some(c) => c.term().is_some_and(|t| state.term == Some(t)),
        }
    }

    /// Several instances: a new leader (of `term`) goes on from the newest stored snapshot
    /// (`None`: none yet), with versions above `floor`.
    pub async fn adopt(&self, term: i64, stored: Option<Snapshot>, floor: u64, applied: u64) {
        let mut state = self.state.lock().await;
        state.term = Some(term);
        state.fresh = true;
        let mut current = stored.unwrap_or_else(|| {
            let mut s = state.current.clone();
            s.updated_at_ms = 0; // nothing published yet: the first change is
            s
        });
        current.version = current.version.max(floor);
        state.raw = current.components.clone();
        state.active = crate::server::domain::maintenance::active_ids(&current.maintenance, now_ms());
        state.pending = None;
        state.reserved = current.version; // the first version published reserves a block
        state.current = current;
        state.applied = applied;
        state.stored_applied = applied;
    }

    /// Several instances: a new leader publishes a version of its own at once (what it
    /// adopted, with any details gathered since), unless it has published one already, so
    /// every instance sees the new term's version without waiting for a change.
    pub async fn announce(&self) -> Result<Snapshot, EngineError> {
        let mut state = self.state.lock().await;
        if !self.leads(&state) || !state.fresh {
            return Ok(state.current.clone());
        }
        let next = state.pending.take().unwrap_or_else(|| state.current.clone());
        self.publish_locked(&mut state, next).await
    }

    /// Several instances: the leader's reading of the operators' writes, including every write
    /// numbered up to `applied`.
    pub async fn refresh(
        &self,
        operator_override: Option<Override>,
        incidents: Vec<Incident>,
        windows: Vec<MaintenanceWindow>,
        applied: u64,
    ) -> Result<Snapshot, EngineError> {
        self.change_applying(applied, |snap, _| {
            snap.operator_override = operator_override;
            snap.incidents = incidents;
            snap.maintenance = windows;
        })
        .await
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Serialises operator actions (see the field).
    pub async fn operator_action(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.operator.lock().await
    }

    /// Updates (or adds) these components, keyed by id. A component's `since_ms` is kept
    /// while its level stays the same.
    pub async fn report_components(&self, reports: Vec<ComponentStatus>) -> Result<Snapshot, EngineError> {
        self.change(|snap, now| {
            for mut report in reports {
                match snap.components.iter_mut().find(|c| c.id == report.id) {
                    Some(existing) => {
                        if existing.level == report.level {
                            report.since_ms = existing.since_ms;
                        } else {
                            report.since_ms = now;
                        }
                        *existing = report;
                    }
                    None => {
                        report.since_ms = now;
                        snap.components.push(report);
                    }
                }
            }
        })
        .await
    }

    /// Removes these components (a reloaded configuration no longer has them).
    pub async fn remove_components(&self, ids: &[String]) -> Result<Snapshot, EngineError> {
        self.change(|snap, _| snap.components.retain(|c| !ids.contains(&c.id))).await
    }

    /// Sets or clears the operator override.
    pub async fn set_override(&self, operator: Option<(Level, String)>) -> Result<Snapshot, EngineError> {
        self.change(|snap, now| snap.operator_override = next_override(snap.operator_override.as_ref(), operator, now)).await
    }

    pub async fn current(&self) -> Snapshot {
        self.state.lock().await.current.clone()
    }

    /// Replaces the maintenance windows (from the store) and applies them.
    pub async fn set_maintenance(&self, windows: Vec<MaintenanceWindow>) -> Result<Snapshot, EngineError> {
        self.change(|snap, _| snap.maintenance = windows).await
    }

    /// Replaces the active incidents (from the store).
    pub async fn set_incidents(&self, incidents: Vec<Incident>) -> Result<Snapshot, EngineError> {
        self.change(|snap, _| snap.incidents = incidents).await
    }

    /// Applies windows that started or ended since the last change (called every second).
    pub async fn tick_maintenance(&self) -> Result<(), EngineError> {
        let due = {
            let state = self.state.lock().await;
            let windows = &state.pending.as_ref().unwrap_or(&state.current).maintenance;
            crate::server::domain::maintenance::active_ids(windows, now_ms()) != state.active
        };
        if due {
            self.change(|_, _| {}).await?;
        }
        Ok(())
    }

    /// Publishes gathered detail changes, if any.
    pub async fn flush_details(&self) -> Result<(), EngineError> {
        let mut state = self.state.lock().await;
        if !self.leads(&state) {
            return Ok(());
        }
        if let Some(pending) = state.pending.take() {
            self.publish_locked(&mut state, pending).await?;
        }
        Ok(())
    }

    /// Applies `edit` to a copy of the current snapshot. If anything visible changed, the
    /// version is bumped and the snapshot published. A change of the operator override is
    /// committed before it is published; if that fails, it is not published.
    async fn change(&self, edit: impl FnOnce(&mut Snapshot, i64)) -> Result<Snapshot, EngineError> {
        self.change_applying(0, edit).await
    }

    /// `change`, with the number of the newest write it includes (several instances).
    async fn change_applying(&self, applied: u64, edit: impl FnOnce(&mut Snapshot, i64)) -> Result<Snapshot, EngineError> {
        let mut state = self.state.lock().await;
        if !self.leads(&state) {
            // A follower: the leader publishes; this instance's hub follows the stored snapshot.
            return Ok((*self.hub.current().snapshot).clone());
        }
        state.applied = state.applied.max(applied);
        let now = now_ms();
        let mut next = state.pending.clone().unwrap_or_else(|| state.current.clone());
        next.components = std::mem::take(&mut state.raw);
        edit(&mut next, now);
        state.raw = next.components.clone();
        next.maintenance.retain(|w| w.ends_ms > now);
        next.components = crate::server::domain::maintenance::apply(&state.raw, &next.maintenance, now);
        state.active = crate::server::domain::maintenance::active_ids(&next.maintenance, now);
        let (level, message) = derive_overall(&next.components, &next.incidents, next.operator_override.as_ref());
        next.level = level;
        next.message = message;
        let first = state.current.updated_at_ms == 0;
        if !first && significant(&next) == significant(&state.current) {
            if next.components != state.current.components {
                state.pending = Some(next.clone());
            } else {
                state.pending = None;
            }
            if state.applied > state.stored_applied {
                // Nothing to see, but the writers wait to know it was read.
                self.store_applied(&mut state).await?;
            }
            return Ok(next);
        }
        state.pending = None;
        self.publish_locked(&mut state, next).await
    }

    /// Bumps the version of `next` and publishes it (see `change`). What must survive a
    /// restart is committed before anyone sees it: a new version reservation when the version
    /// crosses the old one, and any change of the operator override. If that fails, nothing
    /// is published and the snapshot stays as it was.
    async fn publish_locked(&self, state: &mut EngineState, mut next: Snapshot) -> Result<Snapshot, EngineError> {
        next.version = state.current.version + 1;
        next.updated_at_ms = now_ms();
        if let Some(cluster) = &self.cluster {
            return self.publish_stored(cluster, state, next).await;
        }
        let reserve = next.version > state.reserved;
        if reserve || next.operator_override != state.current.operator_override {
            let reserved = if reserve { next.version + VERSION_BLOCK - 1 } else { state.reserved };
            self.persist(reserved, &next).await?;
            state.reserved = reserved;
        }
        state.current = next.clone();
        self.hub.publish(next.clone());
        Ok(next)
    }

    /// Several instances: stores the snapshot, fenced by the leader's term, and only then
    /// publishes it here (the others load it when notified). Every version is stored, so no
    /// reservation is needed; the override was stored by the write that set it.
    async fn publish_stored(&self, cluster: &Cluster, state: &mut EngineState, next: Snapshot) -> Result<Snapshot, EngineError> {
        let term = state.term.filter(|t| cluster.term() == Some(*t));
        let term = term.ok_or(EngineError::Deposed { term: cluster.leader_term() })?;
        let published = Arc::new(Published::new(next.clone()));
        let json = std::str::from_utf8(&published.json).expect("JSON is UTF-8");
        let applied = state.applied;
        if !cluster.store().store_snapshot(term, next.version, json, applied, next.updated_at_ms).await? {
            cluster.depose(term);
            return Err(EngineError::Deposed { term });
        }
        state.stored_applied = applied;
        state.fresh = false;
        state.current = next.clone();
        self.hub.publish_if_newer(published);
        cluster.note_applied(applied);
        cluster.note_stored_version(next.version);
        if next.version > state.reserved {
            // Kept for a single instance started on this database later (see the store).
            let reserved = next.version + VERSION_BLOCK - 1;
            match cluster.store().save_reservation(reserved).await {
                Ok(()) => state.reserved = reserved,
                Err(e) => tracing::warn!("the version reservation was not raised (tried again with the next version): {e}"),
            }
        }
        Ok(next)
    }

    /// Several instances: records that the stored snapshot includes the writes read so far.
    async fn store_applied(&self, state: &mut EngineState) -> Result<(), EngineError> {
        let Some(cluster) = &self.cluster else { return Ok(()) };
        let term = state.term.filter(|t| cluster.term() == Some(*t));
        let term = term.ok_or(EngineError::Deposed { term: cluster.leader_term() })?;
        if !cluster.store().store_applied(term, state.applied).await? {
            cluster.depose(term);
            return Err(EngineError::Deposed { term });
        }
        state.stored_applied = state.applied;
        // The hub shows the stored version already (nothing visible changed).
        cluster.note_applied(state.applied);
        Ok(())
    }

    async fn persist(&self, reserved: u64, snapshot: &Snapshot) -> Result<(), EngineError> {
        let persisted = PersistedState { version: reserved, operator_override: snapshot.operator_override.clone() };
        Ok(self.store.save_state(&persisted).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(id: &str, level: Level) -> ComponentStatus {
        ComponentStatus {
            id: id.into(),
            name: id.to_uppercase(),
            group: None,
            level,
            reason: format!("{id} is {level}"),
            since_ms: 0,
            checked_at_ms: 0,
            latency_ms: None,
        }
    }

    async fn engine(dir: &std::path::Path) -> Engine {
        let store: Arc<dyn Store> = Arc::new(crate::server::store::SqliteStore::open(dir).await.unwrap());
        let persisted = store.load_state().await.unwrap();
        let hub = Hub::new(Snapshot::unknown());
        Engine::new(store, persisted, hub)
    }

    #[tokio::test]
    async fn versions_bump_only_on_change_and_survive_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path()).await;
        let s1 = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(s1.version, 1);
        let same = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(same.version, 1, "an identical report is not a change");
        let s2 = e.set_override(Some((Level::MajorOutage, "down".into()))).await.unwrap();
        assert_eq!((s2.version, s2.level), (2, Level::MajorOutage));
        assert_eq!(e.hub().current().version(), 2);
        let on_disk = e.store().load_state().await.unwrap();
        assert_eq!(on_disk.version, VERSION_BLOCK, "a block of versions is reserved");
        assert_eq!(on_disk.operator_override.unwrap().message, "down", "the override is on disk");
        drop(e);

        let e = engine(dir.path()).await;
        let s3 = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(s3.version, VERSION_BLOCK + 1, "starts above the reservation after a restart");
        assert_eq!(s3.level, Level::MajorOutage, "the override survives a restart");
        let s4 = e.set_override(None).await.unwrap();
        assert_eq!((s4.version, s4.level), (VERSION_BLOCK + 2, Level::Operational));
        assert!(e.store().load_state().await.unwrap().operator_override.is_none());
    }

    #[tokio::test]
    async fn crossing_the_reservation_reserves_the_next_block() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path()).await;
        for i in 0..(VERSION_BLOCK + 5) {
            let level = if i % 2 == 0 { Level::MajorOutage } else { Level::PartialOutage };
            e.set_override(Some((level, format!("m{i}")))).await.unwrap();
        }
        assert_eq!(e.current().await.version, VERSION_BLOCK + 5);
        let on_disk = e.store().load_state().await.unwrap();
        assert_eq!(on_disk.version, 2 * VERSION_BLOCK);
    }

    #[tokio::test]
    async fn detail_changes_wait_for_a_flush_but_level_changes_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path()).await;
        let v1 = e.report_components(vec![component("a", Level::Operational)]).await.unwrap().version;
        let mut detail = component("a", Level::Operational);
        detail.reason = "HTTP 200 in 12 ms".into();
        e.report_components(vec![detail]).await.unwrap();
        assert_eq!(e.hub().current().version(), v1, "a new reason alone is not pushed at once");
        e.flush_details().await.unwrap();
        let flushed = e.hub().current();
        assert_eq!(flushed.version(), v1 + 1);
        assert_eq!(flushed.snapshot.components[0].reason, "HTTP 200 in 12 ms");
        e.flush_details().await.unwrap();
        assert_eq!(e.hub().current().version(), v1 + 1, "nothing pending, nothing published");
        let down = e.report_components(vec![component("a", Level::MajorOutage)]).await.unwrap();
        assert_eq!(e.hub().current().version(), down.version, "a level change is pushed at once");
        assert_eq!(down.version, v1 + 2);
    }

    #[tokio::test]
    async fn maintenance_windows_start_and_end_on_time() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path()).await;
        e.report_components(vec![component("db", Level::MajorOutage), component("web", Level::Operational)]).await.unwrap();
        let now = now_ms();
        let w = MaintenanceWindow {
            id: 7,
            title: "Upgrade".into(),
            starts_ms: now + 150,
            ends_ms: now + 400,
            components: vec!["db".into()],
        };
        let before = e.set_maintenance(vec![w]).await.unwrap();
        assert_eq!(before.components[0].level, Level::MajorOutage, "not started yet");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        e.tick_maintenance().await.unwrap();
        let during = e.hub().current();
        assert_eq!(during.snapshot.components[0].level, Level::UnderMaintenance);
        assert_eq!(during.snapshot.level, Level::UnderMaintenance, "maintenance above the db's outage");
        // A report during the window is kept underneath and shows again afterwards.
        e.report_components(vec![component("db", Level::DegradedPerformance)]).await.unwrap();
        assert_eq!(e.hub().current().snapshot.components[0].level, Level::UnderMaintenance);
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        e.tick_maintenance().await.unwrap();
        let after = e.hub().current();
        assert_eq!(after.snapshot.components[0].level, Level::DegradedPerformance, "ends by itself");
    }

    #[tokio::test]
    async fn since_is_kept_while_a_component_is_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let e = engine(dir.path()).await;
        let first = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        let since = first.components[0].since_ms;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        e.report_components(vec![component("b", Level::Operational)]).await.unwrap();
        let now = e.current().await;
        assert_eq!(now.components[0].since_ms, since);
        assert_eq!(now.components.len(), 2);
    }

    #[tokio::test]
    async fn several_instances_only_the_adopted_term_publishes_and_a_deposed_leader_cannot() {
        use crate::server::cluster::{Cluster, Role};
        use crate::server::store::postgres::cluster::claim_term;
        use crate::server::store::postgres::throwaway::Throwaway;
        use sqlx::Connection;
        let url = Throwaway::shared().database().await;
        let pg = crate::server::store::PgStore::open(&url, &url).await.unwrap();
        let hub = Hub::new(Snapshot::unknown());
        let cluster = Cluster::new(pg.clone(), hub.clone());
        let store: Arc<dyn Store> = Arc::new(pg.clone());
        let e = Engine::clustered(store.clone(), store.load_state().await.unwrap(), hub.clone(), cluster.clone());

        // A follower publishes nothing.
        e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(hub.current().version(), 0);
        // Leading in a term whose stored snapshot it has not adopted yet: still nothing.
        let mut mine = sqlx::PgConnection::connect(&url).await.unwrap();
        let claimed = claim_term(&mut mine, "a").await.unwrap();
        cluster.set_role(Role::Leader { term: claimed.term });
        e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(hub.current().version(), 0);
        e.adopt(claimed.term, None, claimed.reserved, 0).await;
        let s1 = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        assert_eq!(hub.current().version(), s1.version);
        let stored = pg.stored_snapshot().await.unwrap();
        assert_eq!((stored.term, stored.version), (claimed.term, s1.version), "stored before shown");
        assert_eq!(stored.json.as_deref().map(str::as_bytes), Some(&hub.current().json[..]), "the same bytes");

        // Another instance claims the next term: this one's next write is fenced out.
        let mut theirs = sqlx::PgConnection::connect(&url).await.unwrap();
        let next = claim_term(&mut theirs, "b").await.unwrap();
        assert_eq!(next.term, claimed.term + 1);
        let refused = e.report_components(vec![component("a", Level::MajorOutage)]).await.unwrap_err();
        assert!(matches!(refused, EngineError::Deposed { term } if term == claimed.term), "{refused}");
        assert_eq!(cluster.role(), Role::Follower, "stepped down at once");
        assert_eq!(hub.current().version(), s1.version, "nothing published");
        assert_eq!(pg.stored_snapshot().await.unwrap().version, s1.version, "nothing stored");
    }

    #[tokio::test]
    async fn an_override_that_cannot_be_committed_is_never_published() {
        use crate::server::store::postgres::throwaway::Throwaway;
        let cluster = Throwaway::start();
        let url = cluster.database().await;
        let store: Arc<dyn Store> = Arc::new(crate::server::store::PgStore::open(&url, &url).await.unwrap());
        let e = Engine::new(store.clone(), store.load_state().await.unwrap(), Hub::new(Snapshot::unknown()));
        let before = e.report_components(vec![component("a", Level::Operational)]).await.unwrap();
        cluster.stop();
        let refused = e.set_override(Some((Level::MajorOutage, "down".into()))).await.unwrap_err();
        assert!(matches!(&refused, EngineError::Persist(s) if s.is_unavailable()), "{refused}");
        assert_eq!(e.hub().current().version(), before.version, "nothing published, not even for a moment");
        assert_eq!(e.current().await.operator_override, None);
        cluster.resume();
        let set = e.set_override(Some((Level::MajorOutage, "down".into()))).await.unwrap();
        assert_eq!(set.version, before.version + 1);
        assert_eq!(store.load_state().await.unwrap().operator_override.unwrap().message, "down", "committed");
    }
}
