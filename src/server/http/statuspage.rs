//! The Statuspage-compatible public API, `/api/v2/…`: the documents Atlassian Statuspage
//! serves, field for field, so exporters, dashboards, chat bots and widgets written for it
//! read statuscast unchanged. Everything comes from the one snapshot (and, for the lists of
//! past incidents and of maintenance, the store).
//!
//! Mapping: our five levels are Statuspage's component statuses; the overall indicator is
//! `none` (operational), `minor` (degraded), `major` (partial outage), `critical` (major
//! outage) or `maintenance`; incident statuses and impacts are the same words. Component groups
//! are components with `group: true` and their members' ids. Times are RFC 3339 with
//! milliseconds, UTC.

use crate::model::{ComponentStatus, Incident, IncidentStatus, Level, MaintenanceWindow, Snapshot};
use crate::server::checks::config::Page;
use crate::server::http::error::ApiError;
use crate::server::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// The page's id in every document (Statuspage ids are opaque strings).
pub const PAGE_ID: &str = "statuscast";

/// `2026-12-02T06:43:34.120Z`.
pub fn time(ms: i64) -> String {
    let (y, m, d, rem) = crate::model::civil(ms);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem % 3600 / 60, rem % 60, ms.rem_euclid(1000))
}

fn page(p: &Page, fallback_url: &str, snapshot: &Snapshot) -> Value {
    json!({
        "id": PAGE_ID,
        "name": p.name,
        "url": p.url.as_deref().unwrap_or(fallback_url),
        "time_zone": "Etc/UTC",
        "updated_at": time(snapshot.updated_at_ms),
    })
}

/// The overall indicator and its words, as Statuspage says them.
pub fn status(snapshot: &Snapshot) -> Value {
    let open_incident = snapshot.incidents.iter().any(|i| i.status != IncidentStatus::Resolved);
    let (indicator, description) = indicator(snapshot.level, open_incident);
    json!({ "indicator": indicator, "description": description })
}

/// Statuspage's overall indicator (`none`, `minor`, `major`, `critical`, `maintenance`) and
/// its words for an overall level, with or without an unresolved incident.
pub(crate) fn indicator(level: Level, open_incident: bool) -> (&'static str, &'static str) {
    match level {
        // An incident open while every component is operational: Statuspage's "minor".
        Level::Operational if open_incident => ("minor", "Minor Service Outage"),
        Level::Operational => ("none", "All Systems Operational"),
        Level::DegradedPerformance => ("minor", "Partially Degraded Service"),
        Level::PartialOutage => ("major", "Partial System Outage"),
        Level::MajorOutage => ("critical", "Major System Outage"),
        Level::UnderMaintenance => ("maintenance", "Service Under Maintenance"),
    }
}

fn group_id(name: &str) -> String {
    let slug: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    format!("group-{slug}")
}

/// Components in page order, each group (as Statuspage shows it) before its first member.
pub fn components(snapshot: &Snapshot) -> Vec<Value> {
    let mut out = Vec::new();
    let mut groups: Vec<&str> = Vec::new();
    for c in &snapshot.components {
        if let Some(g) = c.group.as_deref() {
            if !groups.contains(&g) {
                groups.push(g);
                let members: Vec<&ComponentStatus> =
                    snapshot.components.iter().filter(|m| m.group.as_deref() == Some(g)).collect();
                let level = members.iter().map(|m| m.level).max().unwrap_or(Level::Operational);
                let since = members.iter().map(|m| m.since_ms).max().unwrap_or(0);
                out.push(json!({
                    "id": group_id(g),
                    "name": g,
                    "status": level.as_str(),
                    "created_at": time(since),
                    "updated_at": time(since),
                    "position": out.len() + 1,
                    "description": null,
                    "showcase": false,
                    "start_date": null,
                    "group_id": null,
                    "page_id": PAGE_ID,
                    "group": true,
                    "only_show_if_degraded": false,
                    "components": members.iter().map(|m| m.id.clone()).collect::<Vec<_>>(),
                }));
            }
        }
        out.push(component(c, out.len() + 1));
    }
    out
}

fn component(c: &ComponentStatus, position: usize) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "status": c.level.as_str(),
        "created_at": time(c.since_ms),
        "updated_at": time(c.since_ms.max(c.checked_at_ms)),
        "position": position,
        "description": if c.reason.is_empty() { Value::Null } else { Value::String(c.reason.clone()) },
        "showcase": true,
        "start_date": null,
        "group_id": c.group.as_deref().map(group_id),
        "page_id": PAGE_ID,
        "group": false,
        "only_show_if_degraded": false,
    })
}

fn affected(snapshot: &Snapshot, ids: &[String]) -> Vec<Value> {
    snapshot.components.iter().filter(|c| ids.contains(&c.id)).map(|c| component(c, 0)).map(without_position).collect()
}

fn without_position(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("position");
    }
    v
}

/// The id of `i.updates[n]` (newest first; numbered oldest first, from 1).
fn update_id(i: &Incident, n: usize) -> String {
    format!("{}-{}", i.id, i.updates.len() - n)
}

/// Where an incident is shown (the history lists it resolved or not).
pub(crate) fn shortlink(base: &str, incident_id: i64) -> String {
    format!("{base}/history#incident-{incident_id}")
}

/// An incident's updates as Statuspage lists them (in its API and its webhooks): newest first,
/// as the model holds them, numbered oldest first.
pub(crate) fn incident_updates(i: &Incident) -> Vec<Value> {
    i.updates
        .iter()
        .enumerate()
        .map(|(n, u)| {
            json!({
                "id": update_id(i, n),
                "status": u.status.as_str(),
                "body": u.message,
                "incident_id": i.id.to_string(),
                "created_at": time(u.at_ms),
                "updated_at": time(u.at_ms),
                "display_at": time(u.at_ms),
                "affected_components": null,
            })
        })
        .collect()
}

pub fn incident(snapshot: &Snapshot, base: &str, i: &Incident) -> Value {
    let updated = i.updates.iter().map(|u| u.at_ms).max().unwrap_or(i.started_ms);
    let monitoring = i.updates.iter().filter(|u| u.status == IncidentStatus::Monitoring).map(|u| u.at_ms).min();
    let updates = incident_updates(i);
    json!({
        "id": i.id.to_string(),
        "name": i.title,
        "status": i.status.as_str(),
        "impact": i.impact.as_str(),
        "shortlink": shortlink(base, i.id),
        "created_at": time(i.started_ms),
        "updated_at": time(updated),
        "monitoring_at": monitoring.map(time),
        "resolved_at": i.resolved_ms.map(time),
        "started_at": time(i.started_ms),
        "page_id": PAGE_ID,
        "components": affected(snapshot, &i.components),
        "incident_updates": updates,
    })
}

pub fn maintenance(snapshot: &Snapshot, base: &str, w: &MaintenanceWindow, now_ms: i64) -> Value {
    let status = if now_ms < w.starts_ms {
        "scheduled"
    } else if now_ms < w.ends_ms {
        "in_progress"
    } else {
        "completed"
    };
    json!({
        "id": format!("m{}", w.id),
        "name": w.title,
        "status": status,
        "impact": "maintenance",
        "shortlink": format!("{base}/#maintenance-{}", w.id),
        "created_at": time(w.starts_ms),
        "updated_at": time(w.starts_ms),
        "monitoring_at": null,
        "resolved_at": (status == "completed").then(|| time(w.ends_ms)),
        "started_at": time(w.starts_ms),
        "page_id": PAGE_ID,
        "components": affected(snapshot, &w.components),
        "incident_updates": [],
        "scheduled_for": time(w.starts_ms),
        "scheduled_until": time(w.ends_ms),
    })
}

/// What each document needs: the snapshot, the page settings, its base address, the time.
struct Ctx {
    snapshot: std::sync::Arc<crate::server::stream::hub::Published>,
    page: Page,
    base: String,
    now_ms: i64,
}

fn ctx(state: &AppState, headers: &HeaderMap) -> Ctx {
    let page = state.checks.page();
    let base = page.url.clone().unwrap_or_else(|| {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).filter(|h| h.chars().all(|c| c.is_ascii_graphic()));
        format!("http://{}", host.map(str::to_string).unwrap_or_else(|| state.leptos_options.site_addr.to_string()))
    });
    Ctx { snapshot: state.hub.current(), page, base, now_ms: crate::server::clock::now_ms() }
}

impl Ctx {
    fn s(&self) -> &Snapshot {
        &self.snapshot.snapshot
    }
    fn page(&self) -> Value {
        page(&self.page, &self.base, self.s())
    }
    fn unresolved(&self) -> Vec<Value> {
        self.s()
            .incidents
            .iter()
            .filter(|i| i.status != IncidentStatus::Resolved)
            .map(|i| incident(self.s(), &self.base, i))
            .collect()
    }
    fn maintenances(&self, keep: impl Fn(&MaintenanceWindow) -> bool) -> Vec<Value> {
        self.s().maintenance.iter().filter(|w| keep(w)).map(|w| maintenance(self.s(), &self.base, w, self.now_ms)).collect()
    }
}

pub async fn summary(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({
        "page": c.page(),
        "components": components(c.s()),
        "incidents": c.unresolved(),
        "scheduled_maintenances": c.maintenances(|w| c.now_ms < w.ends_ms),
        "status": status(c.s()),
    });
    axum::Json(body).into_response()
}

pub async fn status_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({ "page": c.page(), "status": status(c.s()) });
    axum::Json(body).into_response()
}

pub async fn components_json(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({ "page": c.page(), "components": components(c.s()) });
    axum::Json(body).into_response()
}

pub async fn unresolved(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({ "page": c.page(), "incidents": c.unresolved() });
    axum::Json(body).into_response()
}

/// The last 50 incidents: unresolved ones (newest first), then the most recently resolved.
pub async fn incidents(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let c = ctx(&state, &headers);
    let store = state.engine.store();
    let mut list = store.active_incidents().await?;
    let room = 50usize.saturating_sub(list.len());
    if room > 0 {
        list.extend(store.resolved_incidents((i64::MAX, 0), room as i64).await?);
    }
    list.truncate(50);
    let incidents: Vec<Value> = list.iter().map(|i| incident(c.s(), &c.base, i)).collect();
    Ok(axum::Json(json!({ "page": c.page(), "incidents": incidents })).into_response())
}

/// The 50 most recent maintenance windows (completed ones too), the latest start first.
pub async fn maintenances(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let c = ctx(&state, &headers);
    let windows = state.engine.store().recent_maintenance(50).await?;
    let list: Vec<Value> = windows.iter().map(|w| maintenance(c.s(), &c.base, w, c.now_ms)).collect();
    Ok(axum::Json(json!({ "page": c.page(), "scheduled_maintenances": list })).into_response())
}

pub async fn upcoming(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({ "page": c.page(), "scheduled_maintenances": c.maintenances(|w| c.now_ms < w.starts_ms) });
    axum::Json(body).into_response()
}

pub async fn active(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = ctx(&state, &headers);
    let body = json!({ "page": c.page(), "scheduled_maintenances": c.maintenances(|w| w.active_at(c.now_ms)) });
    axum::Json(body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_have_milliseconds_in_utc() {
        assert_eq!(time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(time(1_764_657_814_120), "2025-12-02T06:43:34.120Z");
    }
}
