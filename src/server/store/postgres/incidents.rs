//! Incidents and their timelines of updates, in PostgreSQL.

use super::outbox::insert_event;
use super::PgStore;
use crate::model::{Impact, Incident, IncidentStatus};
use crate::server::notify::event::{EventKind, NewEvent};
use crate::server::store::rows::{components_json, incident_of, IncidentColumns, UpdateColumns};
use crate::server::store::StoreError;
use crate::server::store::{NewIncident, NewUpdate, UpdateRefused};

/// One entry of an incident's timeline, inside the caller's transaction.
async fn add_update(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    incident_id: i64,
    at_ms: i64,
    status: IncidentStatus,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO incident_updates (incident_id, at_ms, status, message) VALUES ($1, $2, $3, $4)")
        .bind(incident_id)
        .bind(at_ms)
        .bind(status.as_str())
        .bind(message)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) const COLUMNS: &str = "SELECT id, title, impact, components_json, status, started_ms, resolved_ms FROM incidents";

impl PgStore {
    /// Stores an incident with its first update, in one transaction.
    pub async fn open_incident(&self, new: &NewIncident, now_ms: i64) -> Result<Incident, StoreError> {
        let doing = StoreError::doing("writing the incident");
        let resolved = (new.status == IncidentStatus::Resolved).then_some(now_ms);
        let mut tx = self.pool.begin().await.map_err(doing)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, impact, components_json, status, started_ms, resolved_ms)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
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
    /// more updates. One transaction; the incident's row is locked from the check to the
    /// write, so two instances cannot both update a resolving incident.
    pub async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused> {
        let failed = |e: sqlx::Error| UpdateRefused::Failed(StoreError::doing("writing the incident update")(e));
        let mut tx = self.pool.begin().await.map_err(failed)?;
        let resolved: Option<Option<i64>> = sqlx::query_scalar("SELECT resolved_ms FROM incidents WHERE id = $1 FOR UPDATE")
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
        sqlx::query("UPDATE incidents SET status = $1, impact = COALESCE($2, impact), resolved_ms = $3 WHERE id = $4")
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
        let sql = format!("{COLUMNS} WHERE id = $1");
        Ok(self.with_updates(sqlx::query_as(&sql).bind(id).fetch_all(&self.pool).await).await?.pop())
    }

    /// Incidents not resolved, newest first.
    pub async fn active_incidents(&self) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("{COLUMNS} WHERE resolved_ms IS NULL ORDER BY id DESC LIMIT 1000");
        self.with_updates(sqlx::query_as(&sql).fetch_all(&self.pool).await).await
    }

    /// Resolved incidents, most recently resolved first, that come after `(resolved_ms, id)`
    /// in that order (for paging; `(i64::MAX, 0)` for the first page); at most `limit`.
    pub async fn resolved_incidents(&self, after: (i64, i64), limit: i64) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("{COLUMNS} WHERE (resolved_ms, id) < ($1, $2) ORDER BY resolved_ms DESC, id DESC LIMIT $3");
        let query = sqlx::query_as(&sql).bind(after.0).bind(after.1).bind(limit);
        self.with_updates(query.fetch_all(&self.pool).await).await
    }

    /// Incidents active at some time since `since_ms` (not resolved, or resolved after it),
    /// newest first.
    pub async fn incidents_since(&self, since_ms: i64) -> Result<Vec<Incident>, StoreError> {
        let sql = format!("{COLUMNS} WHERE resolved_ms IS NULL OR resolved_ms >= $1 ORDER BY id DESC LIMIT 10000");
        let query = sqlx::query_as(&sql).bind(since_ms);
        self.with_updates(query.fetch_all(&self.pool).await).await
    }

    /// The incidents of a query's rows, each with its timeline (one query for all of them).
    pub(super) async fn with_updates(
        &self,
        rows: Result<Vec<IncidentColumns>, sqlx::Error>,
    ) -> Result<Vec<Incident>, StoreError> {
        let rows = rows.map_err(StoreError::doing("reading incidents"))?;
        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let updates: Vec<(i64, i64, String, String)> = sqlx::query_as(
            "SELECT incident_id, at_ms, status, message FROM incident_updates WHERE incident_id = ANY($1) ORDER BY id DESC",
        )
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(StoreError::doing("reading incident updates"))?;
        let mut by_incident: std::collections::HashMap<i64, Vec<UpdateColumns>> = Default::default();
        for (incident, at_ms, status, message) in updates {
            by_incident.entry(incident).or_default().push((at_ms, status, message));
        }
        rows.into_iter()
            .map(|r| {
                let updates = by_incident.remove(&r.0).unwrap_or_default();
                incident_of(r, updates)
            })
            .collect()
    }
}
