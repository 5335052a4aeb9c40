//! The notifications' outbox in storage (see `server::notify`): events, the levels they were
//! noted at, subscribers, and deliveries with their claims. One implementation for both
//! backends ([`outbox_methods!`]): the SQL is the same but for row locks, which only
//! PostgreSQL has (`FOR UPDATE`, `SKIP LOCKED`); SQLite serialises writers with
//! `BEGIN IMMEDIATE` instead.
//!
//! Exactly one instance sends a delivery: it is claimed (a lease, `claimed_by`) in one
//! statement that skips rows another instance holds, and only the holder may finish it.

use super::StoreError;
use crate::model::{IncidentStatus, Level};
use crate::server::notify::event::{EventKind, NewEvent, StoredEvent};

/// How a viewer subscribed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriberChannel {
    Email,
    Webhook,
}

impl SubscriberChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberChannel::Email => "email",
            SubscriberChannel::Webhook => "webhook",
        }
    }
    fn named(s: &str) -> Result<Self, StoreError> {
        match s {
            "email" => Ok(SubscriberChannel::Email),
            "webhook" => Ok(SubscriberChannel::Webhook),
            other => Err(StoreError::Corrupt(format!("unknown subscriber channel {other:?}"))),
        }
    }
}

/// A validated new subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSubscriber {
    pub channel: SubscriberChannel,
    pub address: String,
    /// Empty: all.
    pub components: Vec<String>,
    /// The secret of its links (see `secret::random_token`).
    pub token: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub id: i64,
    pub channel: SubscriberChannel,
    pub address: String,
    pub components: Vec<String>,
    pub token: String,
    pub created_ms: i64,
    pub confirmed_ms: Option<i64>,
}

impl Subscriber {
    pub fn target(&self) -> String {
        format!("subscriber:{}", self.id)
    }
    /// Whether it wants an incident on these components (none: the whole page).
    pub fn wants(&self, components: &[String]) -> bool {
        self.components.is_empty() || components.is_empty() || components.iter().any(|c| self.components.contains(c))
    }
}

/// What `subscribe` did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscribed {
    /// New. An email subscriber's confirmation mail is queued with it; a webhook is confirmed.
    New(Subscriber),
    /// Already there, not confirmed: its confirmation mail was queued again (`true`), or not,
    /// as one was queued within `ask_again_ms`.
    Unconfirmed(Subscriber, bool),
    /// Already there and confirmed: nothing changed.
    Confirmed(Subscriber),
}

/// A delivery to write when expanding an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewDelivery {
    pub target: String,
    pub subscriber_id: Option<i64>,
    pub component: Option<String>,
}

/// A delivery claimed for sending, with its subscriber (if any). `event_id` None: a
/// subscriber's confirmation mail.
#[derive(Clone, Debug, PartialEq)]
pub struct Claim {
    pub id: i64,
    pub event_id: Option<i64>,
    pub target: String,
    pub subscriber: Option<Subscriber>,
    pub component: Option<String>,
    /// Including this one.
    pub attempts: i64,
    pub created_ms: i64,
}

/// How a delivery attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Try again at `next_ms`.
    Retry {
        next_ms: i64,
        error: String,
    },
    /// Given up (a permanent refusal, or retried for too long).
    Failed {
        error: String,
    },
}

/// One delivery, for the admin area's log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedDelivery {
    pub id: i64,
    pub event: Option<EventKind>,
    pub target: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_ms: i64,
    pub next_ms: i64,
    pub done_ms: Option<i64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryCounts {
    pub sent: i64,
    pub failed: i64,
    pub pending: i64,
}

/// The outbox's operations; every backend has them (see [`outbox_methods!`]).
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    /// Notes the components' levels seen in snapshot `version`: in one transaction, an event
    /// for each that changed since last noted (a component never noted counts as
    /// operational), and the new levels. A version not above the last noted is ignored, so
    /// instances noting the same snapshot note it once. Returns the events written.
    async fn note_levels(&self, version: u64, levels: &[(String, Level)], now_ms: i64) -> Result<Vec<NewEvent>, StoreError>;
    /// Components noted at a level other than operational, with since when.
    async fn failing_components(&self) -> Result<Vec<(String, Level, i64)>, StoreError>;
    /// Writes one event (a reminder).
    async fn add_event(&self, event: &NewEvent, now_ms: i64) -> Result<i64, StoreError>;
    /// When the newest delivery to `target` about `component` was written.
    async fn last_delivery_about(&self, target: &str, component: &str) -> Result<Option<i64>, StoreError>;
    async fn event(&self, id: i64) -> Result<Option<StoredEvent>, StoreError>;
    /// Events whose deliveries are not written yet, oldest first.
    async fn unexpanded_events(&self, limit: i64) -> Result<Vec<StoredEvent>, StoreError>;
    /// Writes an event's deliveries (due at once) and marks it expanded, in one transaction;
    /// a delivery to a target that has one for this event already is not written again.
    async fn expand_event(&self, event_id: i64, deliveries: &[NewDelivery], now_ms: i64) -> Result<(), StoreError>;
    /// Claims up to `limit` due deliveries for `instance` until `now_ms + lease_ms` (skipping
    /// those another instance holds), counting an attempt each.
    async fn claim_deliveries(&self, instance: &str, now_ms: i64, lease_ms: i64, limit: i64) -> Result<Vec<Claim>, StoreError>;
    /// Records how attempts ended; only the instance holding a claim can finish it.
    async fn finish_deliveries(&self, instance: &str, outcomes: &[(i64, Outcome)], now_ms: i64) -> Result<(), StoreError>;
    /// Releases every claim (a single instance at start: the claims are its previous run's).
    async fn release_claims(&self) -> Result<u64, StoreError>;
    async fn delivery_counts(&self) -> Result<DeliveryCounts, StoreError>;
    /// Newest first; `failed_only`: only those given up and those being retried.
    async fn delivery_log(&self, limit: i64, failed_only: bool) -> Result<Vec<LoggedDelivery>, StoreError>;

    /// Adds a subscriber (an email one unconfirmed, with its confirmation mail queued in the
    /// same transaction; a webhook one confirmed). See [`Subscribed`].
    async fn subscribe(&self, new: &NewSubscriber, now_ms: i64, ask_again_ms: i64) -> Result<Subscribed, StoreError>;
    /// Confirms the subscriber with this token; None: no such subscriber.
    async fn confirm_subscriber(&self, token: &str, now_ms: i64) -> Result<Option<Subscriber>, StoreError>;
    /// Removes the subscriber with this token and its deliveries not sent yet.
    async fn unsubscribe(&self, token: &str) -> Result<Option<Subscriber>, StoreError>;
    /// Removes a subscriber by id (the admin area) and its deliveries not sent yet.
    async fn remove_subscriber(&self, id: i64) -> Result<bool, StoreError>;
    /// Confirmed subscribers (every one, for expanding an event).
    async fn confirmed_subscribers(&self) -> Result<Vec<Subscriber>, StoreError>;
    /// Newest first, at most `limit`, and how many there are.
    async fn subscribers(&self, limit: i64) -> Result<(Vec<Subscriber>, i64), StoreError>;
    /// Deletes finished deliveries and expanded events without pending deliveries, older
    /// than `before_ms`, and unconfirmed subscribers asked before it.
    async fn prune_outbox(&self, before_ms: i64) -> Result<u64, StoreError>;
}

pub(crate) type EventColumns = (
    i64,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);
pub(crate) const EVENT_COLUMNS: &str =
    "SELECT id, kind, at_ms, component, old_level, new_level, incident_id, status, message, target FROM notify_events";

fn level(s: Option<String>) -> Result<Option<Level>, StoreError> {
    s.map(|s| s.parse::<Level>().map_err(|_| StoreError::Corrupt(format!("unknown level {s:?} in notify_events")))).transpose()
}

pub(crate) fn event_of(c: EventColumns) -> Result<StoredEvent, StoreError> {
    let (id, kind, at_ms, component, old, new, incident_id, status, message, target) = c;
    let kind = EventKind::named(&kind).ok_or_else(|| StoreError::Corrupt(format!("unknown event kind {kind:?}")))?;
    let status = status
        .map(|s| s.parse::<IncidentStatus>().map_err(|_| StoreError::Corrupt(format!("unknown incident status {s:?}"))))
        .transpose()?;
    Ok(StoredEvent {
        id,
        kind,
        at_ms,
        component,
        old_level: level(old)?,
        new_level: level(new)?,
        incident_id,
        status,
        message,
        target,
    })
}

/// An event's columns as written: (kind, component, old, new, incident, status, message, target).
#[allow(clippy::type_complexity)]
pub(crate) fn event_values(
    e: &NewEvent,
) -> (
    &'static str,
    Option<&str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<&'static str>,
    Option<&str>,
    Option<&str>,
) {
    match e {
        NewEvent::Component { kind, component, old, new, target } => {
            (kind.as_str(), Some(component), Some(old.as_str()), Some(new.as_str()), None, None, None, target.as_deref())
        }
        NewEvent::Incident { kind, incident_id, status, message } => {
            (kind.as_str(), None, None, None, Some(*incident_id), Some(status.as_str()), Some(message), None)
        }
    }
}

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO notify_events (kind, at_ms, component, old_level, new_level, incident_id, status, message, target)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";

pub(crate) type SubscriberColumns = (i64, String, String, String, String, i64, Option<i64>);
pub(crate) const SUBSCRIBER_COLUMNS: &str =
    "SELECT id, channel, address, components_json, token, created_ms, confirmed_ms FROM subscribers";

pub(crate) fn subscriber_of(c: SubscriberColumns) -> Result<Subscriber, StoreError> {
    let (id, channel, address, components, token, created_ms, confirmed_ms) = c;
    let components =
        serde_json::from_str(&components).map_err(|e| StoreError::Corrupt(format!("subscriber {id}: components_json: {e}")))?;
    Ok(Subscriber { id, channel: SubscriberChannel::named(&channel)?, address, components, token, created_ms, confirmed_ms })
}

/// A whole subscriber row (`statuscast copy`), with `asked_ms` last.
pub(crate) const SUBSCRIBER_ROWS: &str =
    "SELECT id, channel, address, components_json, token, created_ms, confirmed_ms, asked_ms FROM subscribers ORDER BY id";
pub(crate) const INSERT_SUBSCRIBER_ROW: &str =
    "INSERT INTO subscribers (id, channel, address, components_json, token, created_ms, confirmed_ms, asked_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) fn subscriber_row_of(
    (id, channel, address, components, token, created, confirmed, asked): (
        i64,
        String,
        String,
        String,
        String,
        i64,
        Option<i64>,
        i64,
    ),
) -> Result<(Subscriber, i64), StoreError> {
    Ok((subscriber_of((id, channel, address, components, token, created, confirmed))?, asked))
}

pub(crate) type ClaimColumns = (
    i64,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<i64>,
);
pub(crate) const CLAIM_COLUMNS: &str = "SELECT d.id, d.event_id, d.target, d.component, d.attempts, d.created_ms,
            s.id, s.channel, s.address, s.components_json, s.token, s.created_ms, s.confirmed_ms
     FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id";

pub(crate) fn claim_of(c: ClaimColumns) -> Result<Claim, StoreError> {
    let (id, event_id, target, component, attempts, created_ms, sid, channel, address, components, token, screated, sconfirmed) =
        c;
    let subscriber = match (sid, channel, address, components, token, screated) {
        (Some(sid), Some(ch), Some(a), Some(cj), Some(t), Some(sc)) => Some(subscriber_of((sid, ch, a, cj, t, sc, sconfirmed))?),
        _ => None,
    };
    Ok(Claim { id, event_id, target, subscriber, component, attempts, created_ms })
}

pub(crate) type LogColumns = (i64, Option<String>, String, String, i64, Option<String>, i64, i64, Option<i64>);
pub(crate) const LOG_COLUMNS: &str =
    "SELECT d.id, e.kind, d.target, d.state, d.attempts, d.last_error, d.created_ms, d.next_ms, d.done_ms
     FROM deliveries d LEFT JOIN notify_events e ON e.id = d.event_id";

pub(crate) fn logged_of(c: LogColumns) -> LoggedDelivery {
    let (id, kind, target, state, attempts, last_error, created_ms, next_ms, done_ms) = c;
    LoggedDelivery {
        id,
        event: kind.as_deref().and_then(EventKind::named),
        target,
        state,
        attempts,
        last_error,
        created_ms,
        next_ms,
        done_ms,
    }
}

/// The level changes between what was noted and what is seen (unseen: operational).
pub(crate) fn changes(noted: &[(String, String)], seen: &[(String, Level)]) -> Vec<(String, Level, Level)> {
    seen.iter()
        .filter_map(|(component, new)| {
            let old = noted.iter().find(|(c, _)| c == component).and_then(|(_, l)| l.parse().ok()).unwrap_or(Level::Operational);
            (old != *new).then(|| (component.clone(), old, *new))
        })
        .collect()
}

/// Implements [`Outbox`] for a store with a `pool` and a `write_tx()` (a transaction that
/// holds the write lock from its start); `$lock` is the row-lock clause (`FOR UPDATE` on
/// PostgreSQL, nothing on SQLite) and `$skip` the one that skips rows another holds.
macro_rules! outbox_methods {
    ($store:ty, $lock:literal, $skip:literal) => {
        #[async_trait::async_trait]
        impl $crate::server::store::outbox::Outbox for $store {
            async fn note_levels(
                &self,
                version: u64,
                levels: &[(String, $crate::model::Level)],
                now_ms: i64,
            ) -> Result<Vec<$crate::server::notify::event::NewEvent>, $crate::server::store::StoreError> {
                use $crate::server::notify::event::{EventKind, NewEvent};
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("noting the components' levels");
                let mut tx = self.write_tx().await.map_err(doing)?;
                let cursor: i64 = sqlx::query_scalar(concat!("SELECT version FROM notify_cursor WHERE id = 1", $lock))
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(doing)?;
                if version as i64 <= cursor {
                    return Ok(Vec::new());
                }
                let noted: Vec<(String, String)> =
                    sqlx::query_as("SELECT component, level FROM notify_levels").fetch_all(&mut *tx).await.map_err(doing)?;
                let mut events = Vec::new();
                for (component, old, new) in changes(&noted, levels) {
                    sqlx::query(
                        "INSERT INTO notify_levels (component, level, since_ms) VALUES ($1, $2, $3)
                         ON CONFLICT (component) DO UPDATE SET level = excluded.level, since_ms = excluded.since_ms",
                    )
                    .bind(&component)
                    .bind(new.as_str())
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(doing)?;
                    let event = NewEvent::Component { kind: EventKind::ComponentChanged, component, old, new, target: None };
                    insert_event(&mut tx, &event, now_ms).await.map_err(doing)?;
                    events.push(event);
                }
                sqlx::query("UPDATE notify_cursor SET version = $1 WHERE id = 1")
                    .bind(version as i64)
                    .execute(&mut *tx)
                    .await
                    .map_err(doing)?;
                tx.commit().await.map_err(doing)?;
                Ok(events)
            }

            async fn failing_components(
                &self,
            ) -> Result<Vec<(String, $crate::model::Level, i64)>, $crate::server::store::StoreError> {
                let doing = $crate::server::store::StoreError::doing("reading the noted levels");
                let rows: Vec<(String, String, i64)> =
                    sqlx::query_as("SELECT component, level, since_ms FROM notify_levels WHERE level <> 'operational'")
                        .fetch_all(&self.pool)
                        .await
                        .map_err(doing)?;
                Ok(rows.into_iter().filter_map(|(c, l, s)| Some((c, l.parse().ok()?, s))).collect())
            }

            async fn add_event(
                &self,
                event: &$crate::server::notify::event::NewEvent,
                now_ms: i64,
            ) -> Result<i64, $crate::server::store::StoreError> {
                let doing = $crate::server::store::StoreError::doing("writing a notification event");
                let mut tx = self.pool.begin().await.map_err(doing)?;
                let id = insert_event(&mut tx, event, now_ms).await.map_err(doing)?;
                tx.commit().await.map_err(doing)?;
                Ok(id)
            }

            async fn last_delivery_about(
                &self,
                target: &str,
                component: &str,
            ) -> Result<Option<i64>, $crate::server::store::StoreError> {
                sqlx::query_scalar("SELECT MAX(created_ms) FROM deliveries WHERE target = $1 AND component = $2")
                    .bind(target)
                    .bind(component)
                    .fetch_one(&self.pool)
                    .await
                    .map_err($crate::server::store::StoreError::doing("reading the deliveries"))
            }

            async fn event(
                &self,
                id: i64,
            ) -> Result<Option<$crate::server::notify::event::StoredEvent>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let row: Option<EventColumns> = sqlx::query_as(&format!("{EVENT_COLUMNS} WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err($crate::server::store::StoreError::doing("reading an event"))?;
                row.map(event_of).transpose()
            }

            async fn unexpanded_events(
                &self,
                limit: i64,
            ) -> Result<Vec<$crate::server::notify::event::StoredEvent>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let rows: Vec<EventColumns> =
                    sqlx::query_as(&format!("{EVENT_COLUMNS} WHERE NOT expanded ORDER BY id LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::server::store::StoreError::doing("reading the events"))?;
                rows.into_iter().map(event_of).collect()
            }

            async fn expand_event(
                &self,
                event_id: i64,
                deliveries: &[$crate::server::store::outbox::NewDelivery],
                now_ms: i64,
            ) -> Result<(), $crate::server::store::StoreError> {
                let doing = $crate::server::store::StoreError::doing("writing an event's deliveries");
                let mut tx = self.write_tx().await.map_err(doing)?;
                let pending: Option<bool> =
                    sqlx::query_scalar(concat!("SELECT NOT expanded FROM notify_events WHERE id = $1", $lock))
                        .bind(event_id)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(doing)?;
                if pending != Some(true) {
                    return Ok(()); // expanded already (by another instance), or gone
                }
                for chunk in deliveries.chunks(500) {
                    let mut insert = sqlx::QueryBuilder::new(
                        "INSERT INTO deliveries (event_id, target, subscriber_id, component, state, attempts, next_ms, created_ms) ",
                    );
                    insert.push_values(chunk, |mut row, d| {
                        row.push_bind(event_id)
                            .push_bind(&d.target)
                            .push_bind(d.subscriber_id)
                            .push_bind(&d.component)
                            .push_bind("pending")
                            .push_bind(0i64)
                            .push_bind(now_ms)
                            .push_bind(now_ms);
                    });
                    insert.push(" ON CONFLICT (event_id, target) DO NOTHING");
                    insert.build().execute(&mut *tx).await.map_err(doing)?;
                }
                sqlx::query("UPDATE notify_events SET expanded = TRUE WHERE id = $1")
                    .bind(event_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(doing)?;
                tx.commit().await.map_err(doing)
            }

            async fn claim_deliveries(
                &self,
                instance: &str,
                now_ms: i64,
                lease_ms: i64,
                limit: i64,
            ) -> Result<Vec<$crate::server::store::outbox::Claim>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("claiming deliveries");
                // Looked for first without the write lock: the sender asks every second.
                let due: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM deliveries WHERE state = 'pending' AND next_ms <= $1 AND (lease_ms IS NULL OR lease_ms <= $1) LIMIT 1",
                )
                .bind(now_ms)
                .fetch_optional(&self.pool)
                .await
                .map_err(doing)?;
                if due.is_none() {
                    return Ok(Vec::new());
                }
                let mut tx = self.write_tx().await.map_err(doing)?;
                let ids: Vec<i64> = sqlx::query_scalar(concat!(
                    "SELECT id FROM deliveries WHERE state = 'pending' AND next_ms <= $1 AND (lease_ms IS NULL OR lease_ms <= $1)
                     ORDER BY next_ms, id LIMIT $2",
                    $skip
                ))
                .bind(now_ms)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await
                .map_err(doing)?;
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
                sqlx::query(&format!(
                    "UPDATE deliveries SET lease_ms = $1, claimed_by = $2, attempts = attempts + 1 WHERE id IN ({list})"
                ))
                .bind(now_ms + lease_ms)
                .bind(instance)
                .execute(&mut *tx)
                .await
                .map_err(doing)?;
                let rows: Vec<ClaimColumns> = sqlx::query_as(&format!("{CLAIM_COLUMNS} WHERE d.id IN ({list}) ORDER BY d.id"))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(doing)?;
                tx.commit().await.map_err(doing)?;
                rows.into_iter().map(claim_of).collect()
            }

            async fn finish_deliveries(
                &self,
                instance: &str,
                outcomes: &[(i64, $crate::server::store::outbox::Outcome)],
                now_ms: i64,
            ) -> Result<(), $crate::server::store::StoreError> {
                use $crate::server::store::outbox::Outcome;
                let doing = $crate::server::store::StoreError::doing("recording deliveries");
                let mut tx = self.pool.begin().await.map_err(doing)?;
                for (id, outcome) in outcomes {
                    let (state, next_ms, error, done) = match outcome {
                        Outcome::Sent => ("sent", now_ms, None, Some(now_ms)),
                        Outcome::Retry { next_ms, error } => ("pending", *next_ms, Some(error.as_str()), None),
                        Outcome::Failed { error } => ("failed", now_ms, Some(error.as_str()), Some(now_ms)),
                    };
                    sqlx::query(
                        "UPDATE deliveries SET state = $1, next_ms = $2, last_error = COALESCE($3, last_error), done_ms = $4,
                                lease_ms = NULL, claimed_by = NULL
                         WHERE id = $5 AND claimed_by = $6 AND state = 'pending'",
                    )
                    .bind(state)
                    .bind(next_ms)
                    .bind(error)
                    .bind(done)
                    .bind(id)
                    .bind(instance)
                    .execute(&mut *tx)
                    .await
                    .map_err(doing)?;
                }
                tx.commit().await.map_err(doing)
            }

            async fn release_claims(&self) -> Result<u64, $crate::server::store::StoreError> {
                Ok(sqlx::query("UPDATE deliveries SET lease_ms = NULL, claimed_by = NULL WHERE state = 'pending' AND claimed_by IS NOT NULL")
                    .execute(&self.pool)
                    .await
                    .map_err($crate::server::store::StoreError::doing("releasing claims"))?
                    .rows_affected())
            }

            async fn delivery_counts(
                &self,
            ) -> Result<$crate::server::store::outbox::DeliveryCounts, $crate::server::store::StoreError> {
                let rows: Vec<(String, i64)> = sqlx::query_as("SELECT state, COUNT(*) FROM deliveries GROUP BY state")
                    .fetch_all(&self.pool)
                    .await
                    .map_err($crate::server::store::StoreError::doing("counting deliveries"))?;
                let mut counts = $crate::server::store::outbox::DeliveryCounts::default();
                for (state, n) in rows {
                    match state.as_str() {
                        "sent" => counts.sent = n,
                        "failed" => counts.failed = n,
                        _ => counts.pending += n,
                    }
                }
                Ok(counts)
            }

            async fn delivery_log(
                &self,
                limit: i64,
                failed_only: bool,
            ) -> Result<Vec<$crate::server::store::outbox::LoggedDelivery>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let filter = if failed_only { "WHERE d.state = 'failed' OR d.last_error IS NOT NULL" } else { "" };
                let rows: Vec<LogColumns> =
                    sqlx::query_as(&format!("{LOG_COLUMNS} {filter} ORDER BY d.created_ms DESC, d.id DESC LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::server::store::StoreError::doing("reading the delivery log"))?;
                Ok(rows.into_iter().map(logged_of).collect())
            }

            async fn subscribe(
                &self,
                new: &$crate::server::store::outbox::NewSubscriber,
                now_ms: i64,
                ask_again_ms: i64,
            ) -> Result<$crate::server::store::outbox::Subscribed, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("writing the subscription");
                let mut tx = self.write_tx().await.map_err(doing)?;
                let existing: Option<SubscriberColumns> =
                    sqlx::query_as(&format!("{SUBSCRIBER_COLUMNS} WHERE channel = $1 AND address = $2{}", $lock))
                        .bind(new.channel.as_str())
                        .bind(&new.address)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(doing)?;
                let email = new.channel == SubscriberChannel::Email;
                let outcome = match existing {
                    Some(row) => {
                        let subscriber = subscriber_of(row)?;
                        if subscriber.confirmed_ms.is_some() {
                            return Ok(Subscribed::Confirmed(subscriber));
                        }
                        let asked: i64 = sqlx::query_scalar("SELECT asked_ms FROM subscribers WHERE id = $1")
                            .bind(subscriber.id)
                            .fetch_one(&mut *tx)
                            .await
                            .map_err(doing)?;
                        if asked > now_ms - ask_again_ms {
                            return Ok(Subscribed::Unconfirmed(subscriber, false));
                        }
                        sqlx::query("UPDATE subscribers SET asked_ms = $1, components_json = $2 WHERE id = $3")
                            .bind(now_ms)
                            .bind($crate::server::store::rows::components_json(&new.components))
                            .bind(subscriber.id)
                            .execute(&mut *tx)
                            .await
                            .map_err(doing)?;
                        Subscribed::Unconfirmed(Subscriber { components: new.components.clone(), ..subscriber }, true)
                    }
                    None => {
                        let confirmed = (!email).then_some(now_ms);
                        let id: i64 = sqlx::query_scalar(
                            "INSERT INTO subscribers (channel, address, components_json, token, created_ms, confirmed_ms, asked_ms)
                             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                        )
                        .bind(new.channel.as_str())
                        .bind(&new.address)
                        .bind($crate::server::store::rows::components_json(&new.components))
                        .bind(&new.token)
                        .bind(now_ms)
                        .bind(confirmed)
                        .bind(now_ms)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(doing)?;
                        Subscribed::New(Subscriber {
                            id,
                            channel: new.channel,
                            address: new.address.clone(),
                            components: new.components.clone(),
                            token: new.token.clone(),
                            created_ms: now_ms,
                            confirmed_ms: confirmed,
                        })
                    }
                };
                if email {
                    let id = match &outcome {
                        Subscribed::New(s) | Subscribed::Unconfirmed(s, _) | Subscribed::Confirmed(s) => s.id,
                    };
                    sqlx::query(
                        "INSERT INTO deliveries (event_id, target, subscriber_id, state, attempts, next_ms, created_ms)
                         VALUES (NULL, $1, $2, 'pending', 0, $3, $3)",
                    )
                    .bind(format!("subscriber:{id}"))
                    .bind(id)
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await
                    .map_err(doing)?;
                }
                tx.commit().await.map_err(doing)?;
                Ok(outcome)
            }

            async fn confirm_subscriber(
                &self,
                token: &str,
                now_ms: i64,
            ) -> Result<Option<$crate::server::store::outbox::Subscriber>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("confirming the subscription");
                sqlx::query("UPDATE subscribers SET confirmed_ms = $1 WHERE token = $2 AND confirmed_ms IS NULL")
                    .bind(now_ms)
                    .bind(token)
                    .execute(&self.pool)
                    .await
                    .map_err(doing)?;
                let row: Option<SubscriberColumns> = sqlx::query_as(&format!("{SUBSCRIBER_COLUMNS} WHERE token = $1"))
                    .bind(token)
                    .fetch_optional(&self.pool)
                    .await
                    .map_err(doing)?;
                row.map(subscriber_of).transpose()
            }

            async fn unsubscribe(
                &self,
                token: &str,
            ) -> Result<Option<$crate::server::store::outbox::Subscriber>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("removing the subscription");
                let mut tx = self.write_tx().await.map_err(doing)?;
                let row: Option<SubscriberColumns> = sqlx::query_as(&format!("{SUBSCRIBER_COLUMNS} WHERE token = $1{}", $lock))
                    .bind(token)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(doing)?;
                let Some(row) = row else { return Ok(None) };
                let subscriber = subscriber_of(row)?;
                remove(&mut tx, subscriber.id).await.map_err(doing)?;
                tx.commit().await.map_err(doing)?;
                Ok(Some(subscriber))
            }

            async fn remove_subscriber(&self, id: i64) -> Result<bool, $crate::server::store::StoreError> {
                let doing = $crate::server::store::StoreError::doing("removing the subscriber");
                let mut tx = self.write_tx().await.map_err(doing)?;
                let removed = remove(&mut tx, id).await.map_err(doing)?;
                tx.commit().await.map_err(doing)?;
                Ok(removed)
            }

            async fn confirmed_subscribers(
                &self,
            ) -> Result<Vec<$crate::server::store::outbox::Subscriber>, $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let rows: Vec<SubscriberColumns> =
                    sqlx::query_as(&format!("{SUBSCRIBER_COLUMNS} WHERE confirmed_ms IS NOT NULL ORDER BY id"))
                        .fetch_all(&self.pool)
                        .await
                        .map_err($crate::server::store::StoreError::doing("reading the subscribers"))?;
                rows.into_iter().map(subscriber_of).collect()
            }

            async fn subscribers(
                &self,
                limit: i64,
            ) -> Result<(Vec<$crate::server::store::outbox::Subscriber>, i64), $crate::server::store::StoreError> {
                use $crate::server::store::outbox::*;
                let doing = $crate::server::store::StoreError::doing("reading the subscribers");
                let rows: Vec<SubscriberColumns> =
                    sqlx::query_as(&format!("{SUBSCRIBER_COLUMNS} ORDER BY created_ms DESC, id DESC LIMIT $1"))
                        .bind(limit)
                        .fetch_all(&self.pool)
                        .await
                        .map_err(doing)?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subscribers").fetch_one(&self.pool).await.map_err(doing)?;
                Ok((rows.into_iter().map(subscriber_of).collect::<Result<_, _>>()?, total))
            }

            async fn prune_outbox(&self, before_ms: i64) -> Result<u64, $crate::server::store::StoreError> {
                let doing = $crate::server::store::StoreError::doing("pruning the outbox");
                let mut n = 0;
                for statement in [
                    "DELETE FROM deliveries WHERE state <> 'pending' AND created_ms < $1",
                    "DELETE FROM notify_events WHERE expanded AND at_ms < $1
                       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = notify_events.id)",
                    "DELETE FROM subscribers WHERE confirmed_ms IS NULL AND asked_ms < $1
                       AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = subscribers.id AND d.state = 'pending')",
                ] {
                    n += sqlx::query(statement).bind(before_ms).execute(&self.pool).await.map_err(doing)?.rows_affected();
                }
                Ok(n)
            }
        }

        /// One event, inside the caller's transaction.
        pub(super) async fn insert_event(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::server::store::outbox::Backend>::Db>,
            event: &$crate::server::notify::event::NewEvent,
            now_ms: i64,
        ) -> Result<i64, sqlx::Error> {
            let (kind, component, old, new, incident, status, message, target) =
                $crate::server::store::outbox::event_values(event);
            sqlx::query_scalar($crate::server::store::outbox::INSERT_EVENT)
                .bind(kind)
                .bind(now_ms)
                .bind(component)
                .bind(old)
                .bind(new)
                .bind(incident)
                .bind(status)
                .bind(message)
                .bind(target)
                .fetch_one(&mut **tx)
                .await
        }

        /// Whole subscriber rows, ids kept (`statuscast copy`), inside the caller's transaction.
        pub(super) async fn insert_subscribers(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::server::store::outbox::Backend>::Db>,
            subscribers: &[($crate::server::store::outbox::Subscriber, i64)],
        ) -> Result<(), sqlx::Error> {
            for (sub, asked_ms) in subscribers {
                sqlx::query($crate::server::store::outbox::INSERT_SUBSCRIBER_ROW)
                    .bind(sub.id)
                    .bind(sub.channel.as_str())
                    .bind(&sub.address)
                    .bind($crate::server::store::rows::components_json(&sub.components))
                    .bind(&sub.token)
                    .bind(sub.created_ms)
                    .bind(sub.confirmed_ms)
                    .bind(asked_ms)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }

        /// A subscriber and its deliveries not sent yet, inside the caller's transaction.
        async fn remove(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::server::store::outbox::Backend>::Db>,
            id: i64,
        ) -> Result<bool, sqlx::Error> {
            sqlx::query("DELETE FROM deliveries WHERE subscriber_id = $1 AND state = 'pending'").bind(id).execute(&mut **tx).await?;
            let removed = sqlx::query("DELETE FROM subscribers WHERE id = $1").bind(id).execute(&mut **tx).await?;
            Ok(removed.rows_affected() > 0)
        }
    };
}
pub(crate) use outbox_methods;

/// Which sqlx database a store is (for [`outbox_methods!`]).
pub trait Backend {
    type Db: sqlx::Database;
}
