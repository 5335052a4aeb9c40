//! Telling the people who are not looking: operator alerts (`[[notify]]` entries) and
//! viewers' subscriptions, through a durable outbox (`store::outbox`).
//!
//! ```text
//! cause ──(same transaction)──► event ──expand──► one delivery per target ──claim──► send
//! ```
//!
//! - **Causes.** An incident's opening, update or resolution writes its event in the
//!   incident's own transaction (the stores' `open_incident` / `update_incident`). A
//!   component's level is not stored with each snapshot, so its cause is the noted level
//!   (`notify_levels`): [`Notifier::note_levels_loop`] compares each published snapshot with
//!   it and writes the changes and their events in one transaction. A change published just
//!   before a crash is noted after the restart, from the first snapshot that shows it.
//! - **Expanding** an event writes its deliveries (the rules: [`rules`]) and marks it, in one
//!   transaction; only the instance that publishes expands and reminds.
//! - **Sending** ([`send`]): every instance claims due deliveries (a lease; another instance
//!   skips them), sends at most [`CONCURRENCY`] at once, each within 10 s, and records how
//!   each ended. Failures are retried 15 s later, doubling to at most an hour apart, and
//!   given up after 24 h. Each message carries its delivery's id (webhooks' `Idempotency-Key`,
//!   mails' `Message-ID`), so a receiver can drop the copy a crash between sending and
//!   recording may cause.
//!
//! None of it runs on the engine's path: publishing and streaming never wait for a sender.

pub mod address;
pub mod config;
pub mod deliver;
pub mod event;
pub mod mail;
pub mod payload;
pub mod rules;
mod send;
pub mod smtp;

use crate::model::Level;
use crate::server::checks::reload::Checks;
use crate::server::clock::now_ms;
use crate::server::domain::engine::Engine;
use crate::server::store::Store;
use event::{EventKind, NewEvent};
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Deliveries sent at once by one instance.
pub const CONCURRENCY: usize = 8;
/// Deliveries claimed at a time.
const CLAIM_BATCH: i64 = 32;
/// How long a claim holds: longer than a batch can take (`CLAIM_BATCH / CONCURRENCY` rounds
/// of at most 10 s each).
const LEASE_MS: i64 = 120_000;
/// How often the loops look without being woken (writes at other instances wake nobody here).
const POLL: Duration = Duration::from_secs(1);
/// How often reminders are considered.
const REMIND_EVERY: Duration = Duration::from_secs(15);
/// A confirmation mail is sent again for the same address at most this often.
pub const ASK_AGAIN_MS: i64 = 10 * 60_000;
/// Finished deliveries and old events are kept this long (the admin area's log).
pub const KEEP_MS: i64 = 30 * 86_400_000;

/// Counts of this process's attempts, for `/metrics` (the outbox's totals come from the store).
#[derive(Default)]
pub struct Stats {
    pub delivered: AtomicU64,
    pub errors: AtomicU64,
    pub given_up: AtomicU64,
}

pub struct Notifier {
    engine: Arc<Engine>,
    checks: Arc<Checks>,
    /// Viewers' webhooks may point at loopback and private addresses (`--allow-private-webhooks`).
    allow_private: bool,
    /// Whose claims are whose.
    instance: String,
    expand: Notify,
    sending: Notify,
    pub stats: Stats,
    transports: send::Transports,
}

impl Notifier {
    /// Starts the loops. A single instance first releases the claims a previous run of it
    /// left (it was killed while sending): nobody else can hold them.
    pub async fn start(engine: Arc<Engine>, checks: Arc<Checks>, allow_private: bool) -> Arc<Notifier> {
        let instance = match engine.cluster() {
            Some(c) => c.id().to_string(),
            None => {
                if let Err(e) = engine.store().release_claims().await {
                    tracing::warn!("notify: releasing old claims failed (they expire): {e}");
                }
                crate::server::secret::random_token()[..16].to_string()
            }
        };
        let notifier = Arc::new(Notifier {
            engine,
            checks,
            allow_private,
            instance,
            expand: Notify::new(),
            sending: Notify::new(),
            stats: Stats::default(),
            transports: send::Transports::new(),
        });
        tokio::spawn(notifier.clone().note_levels_loop());
        tokio::spawn(notifier.clone().expand_loop());
        tokio::spawn(notifier.clone().send_loop());
        tokio::spawn(notifier.clone().remind_loop());
        notifier
    }

    fn store(&self) -> &Arc<dyn Store> {
        self.engine.store()
    }

    pub fn config(&self) -> config::NotifyConfig {
        self.checks.notify()
    }

    pub fn allow_private(&self) -> bool {
        self.allow_private
    }

    /// Something was written to the outbox here (an event, a confirmation mail).
    pub fn wake(&self) {
        self.expand.notify_one();
        self.sending.notify_one();
    }

    /// Notes the components' levels of each published snapshot (see the module's notes).
    async fn note_levels_loop(self: Arc<Self>) {
        let mut snapshots = self.engine.hub().subscribe();
        let mut noted: Option<Vec<(String, Level)>> = None;
        let mut incidents: Vec<(i64, usize)> = Vec::new();
        loop {
            let published = snapshots.borrow_and_update().clone();
            // An incident's event was written with it: expand it now, not at the next poll.
            let shown: Vec<(i64, usize)> = published.snapshot.incidents.iter().map(|i| (i.id, i.updates.len())).collect();
            if shown != incidents {
                incidents = shown;
                self.expand.notify_one();
            }
            // A component not checked yet (just started, or a new leader's first round) shows
            // a placeholder level: it says nothing, and is left as noted.
            let levels: Vec<(String, Level)> =
                published.snapshot.components.iter().filter(|c| c.checked_at_ms > 0).map(|c| (c.id.clone(), c.level)).collect();
            if self.engine.publishes() && published.version() > 0 && !levels.is_empty() && noted.as_ref() != Some(&levels) {
                match self.store().note_levels(published.version(), &levels, now_ms()).await {
                    Ok(events) => {
                        noted = Some(levels);
                        if !events.is_empty() {
                            self.expand.notify_one();
                        }
                    }
                    Err(e) => {
                        tracing::warn!("notify: noting the components' levels failed (tried again): {e}");
                        tokio::time::sleep(POLL).await;
                        continue;
                    }
                }
            }
            if snapshots.changed().await.is_err() {
                return;
            }
        }
    }

    async fn expand_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(POLL, self.expand.notified()).await;
            if !self.engine.publishes() {
                continue;
            }
            if let Err(e) = self.expand_pending().await {
                tracing::warn!("notify: writing deliveries failed (tried again): {e}");
            }
        }
    }

    /// Writes the deliveries of every event not expanded yet.
    async fn expand_pending(&self) -> Result<(), crate::server::store::StoreError> {
        loop {
            let events = self.store().unexpanded_events(32).await?;
            if events.is_empty() {
                return Ok(());
            }
            let config = self.config();
            let subscribers = if events.iter().any(|e| e.kind.is_incident()) {
                self.store().confirmed_subscribers().await?
            } else {
                Vec::new()
            };
            for event in events {
                let components = match event.incident_id {
                    Some(id) => self.store().incident(id).await?.map(|i| i.components).unwrap_or_default(),
                    None => Vec::new(),
                };
                let deliveries = rules::deliveries(&event, &config.entries, &subscribers, &components);
                self.store().expand_event(event.id, &deliveries, now_ms()).await?;
            }
            self.sending.notify_one();
        }
    }

    async fn send_loop(self: Arc<Self>) {
        loop {
            let _ = tokio::time::timeout(POLL, self.sending.notified()).await;
            loop {
                let claims = match self.store().claim_deliveries(&self.instance, now_ms(), LEASE_MS, CLAIM_BATCH).await {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!("notify: claiming deliveries failed (tried again): {e}");
                        break;
                    }
                };
                if claims.is_empty() {
                    break;
                }
                let full = claims.len() as i64 == CLAIM_BATCH;
                let this: &Notifier = &self;
                let outcomes: Vec<_> = futures_util::stream::iter(claims)
                    .map(|claim| async move { (claim.id, this.attempt(&claim).await) })
                    .buffer_unordered(CONCURRENCY)
                    .collect()
                    .await;
                self.record(&outcomes).await;
                if !full {
                    break;
                }
            }
        }
    }

    /// Records how the attempts ended, trying for a while if the database is away (until
    /// then the claims hold; past their lease they are sent again, with the same ids).
    async fn record(&self, outcomes: &[(i64, crate::server::store::outbox::Outcome)]) {
        for wait in [0, 1, 2, 4, 8, 16] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            match self.store().finish_deliveries(&self.instance, outcomes, now_ms()).await {
                Ok(()) => return,
                Err(e) => tracing::warn!("notify: recording {} deliveries failed: {e}", outcomes.len()),
            }
        }
    }

    /// One attempt, and what follows it: done, again later, or given up.
    async fn attempt(&self, claim: &crate::server::store::outbox::Claim) -> crate::server::store::outbox::Outcome {
        use crate::server::store::outbox::Outcome;
        match self.transports.deliver(self, claim).await {
            Ok(()) => {
                self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                Outcome::Sent
            }
            Err(failure) => {
                self.stats.errors.fetch_add(1, Ordering::Relaxed);
                let next_ms = now_ms() + rules::backoff_ms(claim.attempts);
                if failure.retryable && next_ms - claim.created_ms <= rules::GIVE_UP_AFTER_MS {
                    tracing::info!(
                        "notify: delivery {} to {} failed, again in {} s: {}",
                        claim.id,
                        claim.target,
                        (next_ms - now_ms()) / 1000,
                        failure.error
                    );
                    Outcome::Retry { next_ms, error: failure.error }
                } else {
                    self.stats.given_up.fetch_add(1, Ordering::Relaxed);
                    let error = if failure.retryable {
                        format!("given up after {} attempts in 24 h: {}", claim.attempts, failure.error)
                    } else {
                        failure.error
                    };
                    tracing::warn!("notify: delivery {} to {} failed: {error}", claim.id, claim.target);
                    Outcome::Failed { error }
                }
            }
        }
    }

    /// Entries with `remind_every` hear again of a component still failing.
    async fn remind_loop(self: Arc<Self>) {
        let mut ticker = tokio::time::interval(REMIND_EVERY);
        loop {
            ticker.tick().await;
            if !self.engine.publishes() {
                continue;
            }
            if let Err(e) = self.remind().await {
                tracing::warn!("notify: reminders: {e}");
            }
        }
    }

    async fn remind(&self) -> Result<(), crate::server::store::StoreError> {
        let config = self.config();
        if config.entries.iter().all(|e| e.remind_every.is_none()) {
            return Ok(());
        }
        let failing = self.store().failing_components().await?;
        let now = now_ms();
        for entry in &config.entries {
            let Some(every) = entry.remind_every else { continue };
            for (component, level, since) in &failing {
                if !entry.covers(component) || !entry.alerting(*level) {
                    continue;
                }
                let last = self.store().last_delivery_about(&entry.target(), component).await?.unwrap_or(*since).max(*since);
                if now - last >= every.as_millis() as i64 {
                    let event = NewEvent::Component {
                        kind: EventKind::ComponentReminder,
                        component: component.clone(),
                        old: *level,
                        new: *level,
                        target: Some(entry.target()),
                    };
                    self.store().add_event(&event, now).await?;
                    self.expand.notify_one();
                }
            }
        }
        Ok(())
    }

    /// Deletes what is past [`KEEP_MS`] (hourly, with the history).
    pub async fn prune(store: &dyn Store, now_ms: i64) {
        match store.prune_outbox(now_ms - KEEP_MS).await {
            Ok(n) if n > 0 => tracing::info!("notify: pruned {n} old deliveries, events and unconfirmed subscribers"),
            Ok(_) => {}
            Err(e) => tracing::error!("notify: pruning failed: {e}"),
        }
    }
}
