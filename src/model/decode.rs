//! The browser's reader for snapshots: it decodes a [`json::Value`](super::json::Value) field
//! by field instead of using serde (no serde_json, no derived `Deserialize` per struct in
//! the wasm bundle). The server uses the derived impls; tests check that both read what the
//! server writes identically.

use super::json::Value;
use super::{
    ComponentStatus, Impact, Incident, IncidentStatus, IncidentUpdate, Level, MaintenanceWindow, Override, Snapshot, StatusView,
};

fn text(v: &Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

/// An optional integer: absent or null is `None`, anything else must be an integer.
fn opt_int(v: &Value) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        v => v.as_i64().map(Some),
    }
}

fn list<T>(v: &Value, each: fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    match v {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items.iter().map(each).collect(),
        _ => None,
    }
}

/// One of a fixed set of names (a lookup: no error values built in the browser).
fn named<T: Copy>(v: &Value, all: &[T], as_str: fn(T) -> &'static str) -> Option<T> {
    let s = v.as_str()?;
    all.iter().copied().find(|x| as_str(*x) == s)
}

fn level(v: &Value) -> Option<Level> {
    named(v, &Level::ALL, Level::as_str)
}

fn impact(v: &Value) -> Option<Impact> {
    named(v, &Impact::ALL, Impact::as_str)
}

fn status(v: &Value) -> Option<IncidentStatus> {
    named(v, &IncidentStatus::ALL, IncidentStatus::as_str)
}

fn component(v: &Value) -> Option<ComponentStatus> {
    Some(ComponentStatus {
        id: text(&v["id"])?,
        name: text(&v["name"])?,
        group: match &v["group"] {
            Value::Null => None,
            g => Some(text(g)?),
        },
        level: level(&v["level"])?,
        reason: text(&v["reason"])?,
        since_ms: v["since_ms"].as_i64()?,
        checked_at_ms: opt_int(&v["checked_at_ms"])?.unwrap_or(0),
        latency_ms: opt_int(&v["latency_ms"])?.map(|l| l as u32),
    })
}

fn operator_override(v: &Value) -> Option<Option<Override>> {
    if v.is_null() {
        return Some(None);
    }
    Some(Some(Override { level: level(&v["level"])?, message: text(&v["message"])?, set_at_ms: v["set_at_ms"].as_i64()? }))
}

fn update(v: &Value) -> Option<IncidentUpdate> {
    Some(IncidentUpdate { at_ms: v["at_ms"].as_i64()?, status: status(&v["status"])?, message: text(&v["message"])? })
}

fn incident(v: &Value) -> Option<Incident> {
    Some(Incident {
        id: v["id"].as_i64()?,
        title: text(&v["title"])?,
        impact: impact(&v["impact"])?,
        components: list(&v["components"], text)?,
        status: status(&v["status"])?,
        started_ms: v["started_ms"].as_i64()?,
        resolved_ms: opt_int(&v["resolved_ms"])?,
        updates: list(&v["updates"], update)?,
    })
}

fn window(v: &Value) -> Option<MaintenanceWindow> {
    Some(MaintenanceWindow {
        id: v["id"].as_i64()?,
        title: text(&v["title"])?,
        starts_ms: v["starts_ms"].as_i64()?,
        ends_ms: v["ends_ms"].as_i64()?,
        components: list(&v["components"], text)?,
    })
}

pub fn snapshot(v: &Value) -> Option<Snapshot> {
    Some(Snapshot {
        version: v["version"].as_u64()?,
        level: level(&v["level"])?,
        message: text(&v["message"])?,
        updated_at_ms: v["updated_at_ms"].as_i64()?,
        components: list(&v["components"], component)?,
        operator_override: operator_override(&v["override"])?,
        incidents: list(&v["incidents"], incident)?,
        maintenance: list(&v["maintenance"], window)?,
    })
}

pub fn status_view(v: &Value) -> Option<StatusView> {
    Some(StatusView { snapshot: snapshot(&v["snapshot"])?, server_now_ms: v["server_now_ms"].as_i64()? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> Snapshot {
        Snapshot {
            version: 42,
            level: Level::PartialOutage,
            message: "API <errors>\n\"quoted\"".into(),
            updated_at_ms: 1_700_000_000_000,
            components: vec![
                ComponentStatus {
                    id: "api".into(),
                    name: "API".into(),
                    group: Some("Web".into()),
                    level: Level::MajorOutage,
                    reason: "HTTP 503 in 84 ms".into(),
                    since_ms: 5,
                    checked_at_ms: 6,
                    latency_ms: Some(84),
                },
                ComponentStatus {
                    id: "disk".into(),
                    name: "Disk".into(),
                    group: None,
                    level: Level::Operational,
                    reason: String::new(),
                    since_ms: 1,
                    checked_at_ms: 0,
                    latency_ms: None,
                },
            ],
            operator_override: Some(Override { level: Level::PartialOutage, message: "m".into(), set_at_ms: 9 }),
            incidents: vec![Incident {
                id: 3,
                title: "Checkout".into(),
                impact: Impact::Major,
                components: vec!["api".into()],
                status: IncidentStatus::Identified,
                started_ms: 10,
                resolved_ms: None,
                updates: vec![
                    IncidentUpdate { at_ms: 12, status: IncidentStatus::Identified, message: "found".into() },
                    IncidentUpdate { at_ms: 10, status: IncidentStatus::Investigating, message: "looking".into() },
                ],
            }],
            maintenance: vec![MaintenanceWindow {
                id: 1,
                title: "DB".into(),
                starts_ms: 20,
                ends_ms: 30,
                components: vec!["disk".into()],
            }],
        }
    }

    #[test]
    fn reads_what_the_server_writes_like_the_derived_impl() {
        for s in [full(), Snapshot::unknown()] {
            let json = serde_json::to_string(&StatusView { snapshot: s.clone(), server_now_ms: 77 }).unwrap();
            let derived: StatusView = serde_json::from_str(&json).unwrap();
            let value = Value::parse(&json).unwrap();
            assert_eq!(status_view(&value), Some(derived.clone()));
            assert_eq!(Snapshot::from_json(&serde_json::to_string(&s).unwrap()), Some(s.clone()));
            assert_eq!(derived.snapshot, s);
        }
    }

    #[test]
    fn refuses_what_is_not_a_snapshot() {
        let mut v = serde_json::to_value(full()).unwrap();
        let read = |v: &serde_json::Value| snapshot(&Value::parse(&v.to_string()).unwrap());
        assert!(read(&v).is_some());
        v["components"][0]["level"] = "on_fire".into();
        assert!(read(&v).is_none());
        assert!(read(&serde_json::json!({"version": "1"})).is_none());
        assert!(read(&serde_json::json!([1, 2])).is_none());
        assert_eq!(Snapshot::from_json("{not json"), None);
    }
}
