//! Incidents and their timelines of updates, in SQLite.

use super::outbox::insert_event;
use super::SqliteStore;
use crate::model::{Impact, Incident, IncidentStatus};
use crate::server::notify::event::{EventKind, NewEvent};
use crate::server::store::rows::{components_json, incident_of, IncidentColumns, UpdateColumns};
use crate::server::store::StoreError;
use crate::server::store::{NewIncident, NewUpdate, UpdateRefused};

pub(super) enum Which {
    All,
    One(i64),
    Active,
    ResolvedAfter(i64, i64),
    Since(i64),
}

/// One entry of an incident's timeline, inside the caller's transaction.
async fn add_update(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    incident_id: i64,
    at_ms: i64,
    status: IncidentStatus,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO incident_updates (incident_id, at_ms, status, message) VALUES (?, ?, ?, ?)")
        .bind(incident_id)
        .bind(at_ms)
        .bind(status.as_str())
        .bind(message)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

impl SqliteStore {
    /// Stores an incident with its first update, in one transaction.
    pub async fn open_incident(&self, new: &NewIncident, now_ms: i64) -> Result<Incident, StoreError> {
        let resolved = (new.status == IncidentStatus::Resolved).then_some(now_ms);
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, impact, components_json, status, started_ms, resolved_ms)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.title)
        .bind(new.impact.as_str())
        .bind(components_json(&new.components))
        .bind(new.status.as_str())
        .bind(now_ms)
        .bind(resolved)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::doing("writing the incident"))?;
        add_update(&mut tx, id, now_ms, new.status, &new.message).await.map_err(StoreError::doing("writing the incident"))?;
        // Its notification, in the same transaction (see `server::notify`).
        let event = NewEvent::Incident {
            kind: EventKind::IncidentOpened,
            incident_id: id,
            status: new.status,
            message: new.message.clone(),
        };
        insert_event(&mut tx, &event, now_ms).await.map_err(StoreError::doing("writing the incident"))?;
        tx.commit().await.map_err(StoreError::doing("writing the incident"))?;
        self.incident(id).await?.ok_or_else(|| StoreError::Corrupt(format!("incident {id} vanished after writing")))
    }

    /// Adds an update (and moves the incident to its status); a resolved incident takes no
    /// more updates. One transaction.
    pub async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused> {
        let failed = |e: sqlx::Error| UpdateRefused::Failed(StoreError::doing("writing the incident update")(e));
        // IMMEDIATE: the write lock from the start. A transaction that reads first and then
        // writes is refused at once (SQLITE_BUSY, no waiting) when the history writer
        // committed in between; this one waits for the lock instead (busy_timeout).
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(failed)?;
        let resolved: Option<Option<i64>> = sqlx::query_scalar("SELECT resolved_ms FROM incidents WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(failed)?;
        match resolved {
            None => return Err(UpdateRefused::NotFound),
            Some(Some(_)) => return Err(UpdateRefused::Resolved),
            Some(None) => {}
        }
        let resolved_ms = (update.status == IncidentStatus::Resolved).then_some(now_ms);
        sqlx::query("UPDATE incidents SET status = ?, impact = COALESCE(?, impact), resolved_ms = ? WHERE id = ?")
            .bind(update.status.as_str())
            .bind(update.impact.map(Impact::as_str))
            .bind(resolved_ms)
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(failed)?;
        add_update(&mut tx, id, now_ms, update.status, &update.message).await.map_err(failed)?;
        let event = NewEvent::Incident {
            kind: EventKind::of_update(false, update.status),
            incident_id: id,
            status: update.status,
            message: update.message.clone(),
        };
        insert_event(&mut tx, &event, now_ms).await.map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        match self.incident(id).await {
            Ok(Some(i)) => Ok(i),
            Ok(None) => Err(UpdateRefused::NotFound),
            Err(e) => Err(UpdateRefused::Failed(e)),
        }
    }

    pub async fn incident(&self, id: i64) -> Result<Option<Incident>, StoreError> {
        let mut list = self.select_incidents(Which::One(id), 1).await?;
        Ok(list.pop())
    }

    /// Incidents not resolved, newest first.
    pub async fn active_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        self.select_incidents(Which::Active, 1000).await
    }

    /// Resolved incidents, most recently resolved first, that come after `(resolved_ms, id)`
    /// in that order (for paging; `(i64::MAX, 0)` for the first page); at most `limit`.
    pub async fn resolved_incidents(&self, after: (i64, i64), limit: i64) -> Result<Vec<Incident>, StoreError> {
        self.select_incidents(Which::ResolvedAfter(after.0, after.1), limit).await
    }

    /// Incidents active at some time since `since_ms` (not resolved, or resolved after it),
    /// newest first.
    pub async fn incidents_since(&self, since_ms: i64) -> Result<Vec<Incident>, StoreError> {
        self.select_incidents(Which::Since(since_ms), 10_000).await
    }

    pub(super) async fn select_incidents(&self, which: Which, limit: i64) -> Result<Vec<Incident>, StoreError> {
        let (condition, args, order) = match which {
            Which::All => ("1", vec![], "id"),
            Which::One(id) => ("id = ?", vec![id], "id DESC"),
            Which::Active => ("resolved_ms IS NULL", vec![], "id DESC"),
            Which::ResolvedAfter(t, id) => {
                ("(resolved_ms < ? OR (resolved_ms = ? AND id < ?))", vec![t, t, id], "resolved_ms DESC, id DESC")
            }
            Which::Since(t) => ("(resolved_ms IS NULL OR resolved_ms >= ?)", vec![t], "id DESC"),
        };
        let sql = format!(
            "SELECT id, title, impact, components_json, status, started_ms, resolved_ms FROM incidents
             WHERE {condition} ORDER BY {order} LIMIT ?"
        );
        let mut query = sqlx::query_as::<_, IncidentColumns>(&sql);
        for arg in args {
            query = query.bind(arg);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await.map_err(StoreError::doing("reading incidents"))?;
        let mut incidents = Vec::with_capacity(rows.len());
        for r in rows {
            let updates: Vec<UpdateColumns> =
                sqlx::query_as("SELECT at_ms, status, message FROM incident_updates WHERE incident_id = ? ORDER BY id DESC")
                    .bind(r.0)
                    .fetch_all(&self.pool)
                    .await
                    .map_err(StoreError::doing("reading incident updates"))?;
            incidents.push(incident_of(r, updates)?);
        }
        Ok(incidents)
    }
}
