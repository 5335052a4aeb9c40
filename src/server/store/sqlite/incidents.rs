//! Incidents and their timelines of updates, in SQLite.

use super::SqliteStore;
use crate::model::{Impact, Incident, IncidentStatus, IncidentUpdate};
use crate::server::store::StoreError;
use crate::server::store::{NewIncident, NewUpdate, UpdateRefused};
use sqlx::Row;

enum Which {
    One(i64),
    Active,
    ResolvedAfter(i64, i64),
    Since(i64),
}

fn parse<T: std::str::FromStr>(v: &str, what: &str) -> Result<T, StoreError> {
    v.parse().map_err(|_| StoreError::Corrupt(format!("stored incident has an unreadable {what} {v:?}")))
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
        let components = serde_json::to_string(&new.components).expect("serialises");
        let resolved = (new.status == IncidentStatus::Resolved).then_some(now_ms);
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO incidents (title, impact, components_json, status, started_ms, resolved_ms)
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(&new.title)
        .bind(new.impact.as_str())
        .bind(components)
        .bind(new.status.as_str())
        .bind(now_ms)
        .bind(resolved)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::doing("writing the incident"))?;
        add_update(&mut tx, id, now_ms, new.status, &new.message).await.map_err(StoreError::doing("writing the incident"))?;
        tx.commit().await.map_err(StoreError::doing("writing the incident"))?;
        self.incident(id).await?.ok_or_else(|| StoreError::Corrupt(format!("incident {id} vanished after writing")))
    }

    /// Adds an update (and moves the incident to its status); a resolved incident takes no
    /// more updates. One transaction.
    pub async fn update_incident(&self, id: i64, update: &NewUpdate, now_ms: i64) -> Result<Incident, UpdateRefused> {
        let failed = |e: sqlx::Error| UpdateRefused::Failed(StoreError::doing("writing the incident update")(e));
        let mut tx = self.pool.begin().await.map_err(failed)?;
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

    async fn select_incidents(&self, which: Which, limit: i64) -> Result<Vec<Incident>, StoreError> {
        let (condition, args, order) = match which {
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
        let mut query = sqlx::query(&sql);
        for arg in args {
            query = query.bind(arg);
        }
        let rows = query.bind(limit).fetch_all(&self.pool).await.map_err(StoreError::doing("reading incidents"))?;
        let mut incidents = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.get(0);
            let components: String = r.get(3);
            incidents.push(Incident {
                id,
                title: r.get(1),
                impact: parse(r.get::<&str, _>(2), "impact")?,
                components: serde_json::from_str(&components)
                    .map_err(|e| StoreError::Corrupt(format!("stored incident {id}: {e}")))?,
                status: parse(r.get::<&str, _>(4), "status")?,
                started_ms: r.get(5),
                resolved_ms: r.get(6),
                updates: self.incident_updates(id).await?,
            });
        }
        Ok(incidents)
    }

    async fn incident_updates(&self, id: i64) -> Result<Vec<IncidentUpdate>, StoreError> {
        let rows = sqlx::query("SELECT at_ms, status, message FROM incident_updates WHERE incident_id = ? ORDER BY id DESC")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(StoreError::doing("reading incident updates"))?;
        rows.iter()
            .map(|r| Ok(IncidentUpdate { at_ms: r.get(0), status: parse(r.get::<&str, _>(1), "status")?, message: r.get(2) }))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(title: &str) -> NewIncident {
        NewIncident {
            title: title.into(),
            impact: Impact::Major,
            components: vec!["api".into()],
            status: IncidentStatus::Investigating,
            message: "We are looking into <errors>.\nMore soon.".into(),
        }
    }

    #[tokio::test]
    async fn incidents_round_trip_through_their_timeline_and_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).await.unwrap();
        let a = store.open_incident(&new("API errors"), 1_000).await.unwrap();
        let b = store.open_incident(&new("Slow logins"), 2_000).await.unwrap();
        assert_eq!((a.status, a.started_ms, a.updates.len()), (IncidentStatus::Investigating, 1_000, 1));
        assert_eq!(a.updates[0].message, "We are looking into <errors>.\nMore soon.");
        let up = NewUpdate { status: IncidentStatus::Identified, message: "A bad deploy.".into(), impact: Some(Impact::Minor) };
        let a2 = store.update_incident(a.id, &up, 3_000).await.unwrap();
        assert_eq!((a2.status, a2.impact), (IncidentStatus::Identified, Impact::Minor));
        assert_eq!(
            a2.updates.iter().map(|u| u.status).collect::<Vec<_>>(),
            [IncidentStatus::Identified, IncidentStatus::Investigating]
        );
        let active: Vec<i64> = store.active_incidents().await.unwrap().iter().map(|i| i.id).collect();
        assert_eq!(active, [b.id, a.id], "newest first");

        let done = NewUpdate { status: IncidentStatus::Resolved, message: "Rolled back.".into(), impact: None };
        let a3 = store.update_incident(a.id, &done, 4_000).await.unwrap();
        assert_eq!((a3.resolved_ms, a3.impact), (Some(4_000), Impact::Minor));
        assert!(matches!(store.update_incident(a.id, &done, 5_000).await.unwrap_err(), UpdateRefused::Resolved));
        assert!(matches!(store.update_incident(999, &done, 5_000).await.unwrap_err(), UpdateRefused::NotFound));
        drop(store);

        let store = SqliteStore::open(dir.path()).await.unwrap();
        assert_eq!(store.active_incidents().await.unwrap().iter().map(|i| i.id).collect::<Vec<_>>(), [b.id]);
        let resolved = store.resolved_incidents((i64::MAX, 0), 10).await.unwrap();
        assert_eq!(resolved, vec![a3], "kept whole across a reopen");
        assert!(store.resolved_incidents((4_000, a.id), 10).await.unwrap().is_empty(), "paging after the last one");
        assert_eq!(store.resolved_incidents((4_000, a.id + 1), 10).await.unwrap().len(), 1, "same time, lower id");
        let ids = |v: Vec<Incident>| v.iter().map(|i| i.id).collect::<Vec<_>>();
        assert_eq!(ids(store.incidents_since(4_000).await.unwrap()), [b.id, a.id], "resolved at 4,000: in the window");
        assert_eq!(ids(store.incidents_since(4_001).await.unwrap()), [b.id]);
    }
}
