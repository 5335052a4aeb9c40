//! How the browser reads snapshots: field by field from a parsed JSON document, without
//! serde (no serde_json and no derived `Deserialize` per struct in the wasm bundle). The
//! browser parses with its own `JSON.parse` and reads the result through [`Node`] for
//! `JsValue`; tests and the fuzz target read the same way from [`json::Value`](super::json::Value).
//! The server uses the derived impls; tests check that both read what the server writes
//! identically.

use super::{
    ComponentStatus, Impact, Incident, IncidentStatus, IncidentUpdate, Level, MaintenanceWindow, Override, Snapshot, StatusView,
};

/// A node of a parsed JSON document, as the decoder reads it.
pub trait Node: Sized {
    /// The member `key`; null (see [`Node::is_null`]) when absent or when this is not an object.
    fn get(&self, key: &str) -> Self;
    fn text(&self) -> Option<String>;
    /// An integer (a number without a fraction, within `i64`).
    fn int(&self) -> Option<i64>;
    /// Null, or absent.
    fn is_null(&self) -> bool;
    fn items(&self) -> Option<Vec<Self>>;
}

/// The browser's: a value `JSON.parse` returned.
#[cfg(feature = "hydrate")]
impl Node for wasm_bindgen::JsValue {
    fn get(&self, key: &str) -> Self {
        // `Reflect.get` throws on what is not an object: read as absent.
        js_sys::Reflect::get(self, &key.into()).unwrap_or(wasm_bindgen::JsValue::UNDEFINED)
    }

    fn text(&self) -> Option<String> {
        self.as_string()
    }

    fn int(&self) -> Option<i64> {
        // `as` saturates: a number past i64 is refused by the round trip.
        self.as_f64().map(|f| (f, f as i64)).filter(|&(f, i)| i as f64 == f).map(|(_, i)| i)
    }

    fn is_null(&self) -> bool {
        self.is_null() || self.is_undefined()
    }

    fn items(&self) -> Option<Vec<Self>> {
        js_sys::Array::is_array(self).then(|| js_sys::Array::from(self).iter().collect())
    }
}

/// The crate's own reader's (tests and fuzzing).
#[cfg(any(feature = "browser-json", test))]
impl Node for &super::json::Value {
    fn get(&self, key: &str) -> Self {
        &self[key]
    }

    fn text(&self) -> Option<String> {
        self.as_str().map(str::to_string)
    }

    fn int(&self) -> Option<i64> {
        self.as_i64()
    }

    fn is_null(&self) -> bool {
        super::json::Value::is_null(self)
    }

    fn items(&self) -> Option<Vec<Self>> {
        match self {
            super::json::Value::Array(items) => Some(items.iter().collect()),
            _ => None,
        }
    }
}

/// An optional integer: absent or null is `None`, anything else must be an integer.
fn opt_int<N: Node>(v: &N) -> Option<Option<i64>> {
    if v.is_null() {
        Some(None)
    } else {
        v.int().map(Some)
    }
}

fn list<N: Node, T>(v: &N, each: fn(&N) -> Option<T>) -> Option<Vec<T>> {
    if v.is_null() {
        return Some(Vec::new());
    }
    v.items()?.iter().map(each).collect()
}

fn text<N: Node>(v: &N) -> Option<String> {
    v.text()
}

/// One of a fixed set of names (a lookup: no error values built in the browser).
fn named<N: Node, T: Copy>(v: &N, all: &[T], as_str: fn(T) -> &'static str) -> Option<T> {
    let s = v.text()?;
    all.iter().copied().find(|x| as_str(*x) == s)
}

fn level<N: Node>(v: &N) -> Option<Level> {
    named(v, &Level::ALL, Level::as_str)
}

fn impact<N: Node>(v: &N) -> Option<Impact> {
    named(v, &Impact::ALL, Impact::as_str)
}

fn status<N: Node>(v: &N) -> Option<IncidentStatus> {
    named(v, &IncidentStatus::ALL, IncidentStatus::as_str)
}

fn component<N: Node>(v: &N) -> Option<ComponentStatus> {
    let group = v.get("group");
    Some(ComponentStatus {
        id: v.get("id").text()?,
        name: v.get("name").text()?,
        group: if group.is_null() { None } else { Some(group.text()?) },
        level: level(&v.get("level"))?,
        reason: v.get("reason").text()?,
        since_ms: v.get("since_ms").int()?,
        checked_at_ms: opt_int(&v.get("checked_at_ms"))?.unwrap_or(0),
        latency_ms: opt_int(&v.get("latency_ms"))?.map(|l| l as u32),
    })
}

fn operator_override<N: Node>(v: &N) -> Option<Option<Override>> {
    if v.is_null() {
        return Some(None);
    }
    Some(Some(Override {
        level: level(&v.get("level"))?,
        message: v.get("message").text()?,
        set_at_ms: v.get("set_at_ms").int()?,
    }))
}

fn update<N: Node>(v: &N) -> Option<IncidentUpdate> {
    Some(IncidentUpdate { at_ms: v.get("at_ms").int()?, status: status(&v.get("status"))?, message: v.get("message").text()? })
}

fn incident<N: Node>(v: &N) -> Option<Incident> {
    Some(Incident {
        id: v.get("id").int()?,
        title: v.get("title").text()?,
        impact: impact(&v.get("impact"))?,
        components: list(&v.get("components"), text)?,
        status: status(&v.get("status"))?,
        started_ms: v.get("started_ms").int()?,
        resolved_ms: opt_int(&v.get("resolved_ms"))?,
        updates: list(&v.get("updates"), update)?,
    })
}

fn window<N: Node>(v: &N) -> Option<MaintenanceWindow> {
    Some(MaintenanceWindow {
        id: v.get("id").int()?,
        title: v.get("title").text()?,
        starts_ms: v.get("starts_ms").int()?,
        ends_ms: v.get("ends_ms").int()?,
        components: list(&v.get("components"), text)?,
    })
}

pub fn snapshot<N: Node>(v: &N) -> Option<Snapshot> {
    Some(Snapshot {
        version: u64::try_from(v.get("version").int()?).ok()?,
        level: level(&v.get("level"))?,
        message: v.get("message").text()?,
        updated_at_ms: v.get("updated_at_ms").int()?,
        components: list(&v.get("components"), component)?,
        operator_override: operator_override(&v.get("override"))?,
        incidents: list(&v.get("incidents"), incident)?,
        maintenance: list(&v.get("maintenance"), window)?,
    })
}

pub fn status_view<N: Node>(v: &N) -> Option<StatusView> {
    Some(StatusView { snapshot: snapshot(&v.get("snapshot"))?, server_now_ms: v.get("server_now_ms").int()? })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::json::Value;

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
            assert_eq!(status_view(&&value), Some(derived.clone()));
            assert_eq!(Snapshot::from_json(&serde_json::to_string(&s).unwrap()), Some(s.clone()));
            assert_eq!(derived.snapshot, s);
        }
    }

    #[test]
    fn a_lone_surrogate_in_a_member_it_skips_is_no_reason_to_refuse() {
        // Found by the `json` fuzz target: serde skips unknown members without reading their
        // strings, and `JSON.parse` keeps lone surrogates; the reader must not refuse either.
        let text =
            r#"{"version":1,"level":"operational","message":"m","extra":"\ud83d\u0ed0","updated_at_ms":-2,"components":[]}"#;
        let served: Snapshot = serde_json::from_str(text).unwrap();
        assert_eq!(Snapshot::from_json(text), Some(served));
    }

    #[test]
    fn refuses_what_is_not_a_snapshot() {
        let mut v = serde_json::to_value(full()).unwrap();
        let read = |v: &serde_json::Value| snapshot(&&Value::parse(&v.to_string()).unwrap());
        assert!(read(&v).is_some());
        v["components"][0]["level"] = "on_fire".into();
        assert!(read(&v).is_none());
        assert!(read(&serde_json::json!({"version": "1"})).is_none());
        assert!(read(&serde_json::json!([1, 2])).is_none());
        assert_eq!(Snapshot::from_json("{not json"), None);
    }
}
