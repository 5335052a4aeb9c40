use super::{Incident, Level, MaintenanceWindow};
use serde::{Deserialize, Serialize};

/// One component's current state, as the status engine decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ComponentStatus {
    /// Stable identifier (`host.disk`), used in URLs and the API.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Optional group the component is shown under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub level: Level,
    /// Why it has that level, in words ("12 GiB free (48%)").
    pub reason: String,
    /// Unix time in milliseconds since when the component has been at this level.
    pub since_ms: i64,
    /// Unix time in milliseconds of the last check (0: not from a periodic check).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub checked_at_ms: i64,
    /// Response time of the last check, where it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u32>,
}

impl ComponentStatus {
    /// An operational component with nothing checked yet (for sources and tests to fill in).
    pub fn named(id: &str, name: &str) -> Self {
        ComponentStatus {
            id: id.into(),
            name: name.into(),
            group: None,
            level: Level::Operational,
            reason: String::new(),
            since_ms: 0,
            checked_at_ms: 0,
            latency_ms: None,
        }
    }
}

/// A component's name (its id stands for a component no longer there).
pub fn component_name<'a>(components: &'a [ComponentStatus], id: &'a str) -> &'a str {
    components.iter().find(|c| c.id == id).map_or(id, |c| c.name.as_str())
}

/// These components' names, joined with ", " (as [`component_name`]; the lookup is written
/// out here because calling it costs the browser bundle 89 B gzip, measured).
pub fn component_names(components: &[ComponentStatus], ids: &[String]) -> String {
    ids.iter()
        .map(|id| components.iter().find(|c| &c.id == id).map_or(id.as_str(), |c| c.name.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

/// An operator's override of the overall status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub level: Level,
    pub message: String,
    pub set_at_ms: i64,
}

/// The whole status at one version. One type for every view: SSR, SSE and JSON.
///
/// The browser reads it with [`super::decode`] (smaller than the derived impl in wasm).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(feature = "hydrate"), derive(Deserialize))]
pub struct Snapshot {
    /// Monotonic; bumped on every change, persisted, never reused after a restart.
    pub version: u64,
    /// Overall level.
    pub level: Level,
    /// Overall message (the operator's, or one derived from the components).
    pub message: String,
    /// Unix time in milliseconds of the change that produced this version.
    pub updated_at_ms: i64,
    pub components: Vec<ComponentStatus>,
    /// The operator override in force, if any.
    #[serde(rename = "override", default, skip_serializing_if = "Option::is_none")]
    pub operator_override: Option<Override>,
    /// Incidents not resolved yet, newest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<Incident>,
    /// Maintenance windows scheduled or in progress (not over, not cancelled), soonest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance: Vec<MaintenanceWindow>,
}

impl Snapshot {
    /// The placeholder shown before anything is known (version 0 is never published).
    pub fn unknown() -> Self {
        Snapshot {
            version: 0,
            level: Level::Operational,
            message: "Status not known yet".into(),
            updated_at_ms: 0,
            components: Vec::new(),
            operator_override: None,
            incidents: Vec::new(),
            maintenance: Vec::new(),
        }
    }
}

/// What a page is rendered from: the snapshot plus the server's clock at render time, so the
/// browser can compute "updated N s ago" against the server's clock (and render exactly the
/// same text during hydration as the server did).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(not(feature = "hydrate"), derive(Deserialize))]
pub struct StatusView {
    pub snapshot: Snapshot,
    pub server_now_ms: i64,
}

/// The browser reads snapshots without serde (see [`super::decode`]): parsed by its own
/// `JSON.parse`, or elsewhere (tests, fuzzing) by the crate's [`json`](super::json) reader.
#[cfg(any(feature = "hydrate", feature = "browser-json", test))]
impl Snapshot {
    /// A snapshot from the JSON the server writes (an SSE event's data); `None` if it is not one.
    pub fn from_json(text: &str) -> Option<Snapshot> {
        #[cfg(feature = "hydrate")]
        return super::decode::snapshot(&js_sys::JSON::parse(text).ok()?);
        #[cfg(not(feature = "hydrate"))]
        return super::decode::snapshot(&&super::json::Value::parse(text)?);
    }
}

#[cfg(any(feature = "hydrate", feature = "browser-json", test))]
impl StatusView {
    /// A status view from the JSON the server writes into the page; `None` if it is not one.
    pub fn from_json(text: &str) -> Option<StatusView> {
        #[cfg(feature = "hydrate")]
        return super::decode::status_view(&js_sys::JSON::parse(text).ok()?);
        #[cfg(not(feature = "hydrate"))]
        return super::decode::status_view(&&super::json::Value::parse(text)?);
    }
}

/// A span of whole seconds in the largest fitting unit: "4 s", "3 min", "5 h", "2 days".
fn span_text(secs: i64) -> String {
    let (n, unit) = match secs {
        0..=119 => (secs, "s"),
        120..=7199 => (secs / 60, "min"),
        7200..=172_799 => (secs / 3600, "h"),
        _ => (secs / 86_400, "days"),
    };
    format!("{n} {unit}")
}

/// "just now", "4 s ago", "3 min ago", ... for a past Unix time in milliseconds.
pub fn ago(then_ms: i64, now_ms: i64) -> String {
    match (now_ms - then_ms).max(0) / 1000 {
        0..=1 => "just now".into(),
        secs => format!("{} ago", span_text(secs)),
    }
}

/// "in 5 min", "in 3 h", ... for a future Unix time in milliseconds ("now" once it is past).
pub fn until(then_ms: i64, now_ms: i64) -> String {
    match (then_ms - now_ms).max(0) / 1000 {
        0 => "now".into(),
        secs => format!("in {}", span_text(secs)),
    }
}

/// "updated 4 s ago", or "never updated" before the first version.
pub fn age_text(updated_at_ms: i64, now_ms: i64) -> String {
    if updated_at_ms <= 0 {
        return "never updated".into();
    }
    format!("updated {}", ago(updated_at_ms, now_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn age_text_picks_a_readable_unit() {
        let t = 1_700_000_000_000;
        assert_eq!(age_text(t, t + 500), "updated just now");
        assert_eq!(age_text(t, t + 4_200), "updated 4 s ago");
        assert_eq!(age_text(t, t + 180_000), "updated 3 min ago");
        assert_eq!(age_text(t, t + 3 * 3_600_000), "updated 3 h ago");
        assert_eq!(age_text(t, t + 5 * 86_400_000), "updated 5 days ago");
        // A clock that runs behind never shows a negative age.
        assert_eq!(age_text(t, t - 9_000), "updated just now");
        assert_eq!(age_text(0, t), "never updated");
    }

    #[test]
    fn until_counts_down_to_now() {
        let t = 1_700_000_000_000;
        assert_eq!(until(t + 30_000, t), "in 30 s");
        assert_eq!(until(t + 600_000, t), "in 10 min");
        assert_eq!(until(t + 5 * 3_600_000, t), "in 5 h");
        assert_eq!(until(t + 3 * 86_400_000, t), "in 3 days");
        assert_eq!(until(t - 1, t), "now");
    }

    #[test]
    fn snapshot_json_uses_the_override_key() {
        let mut s = Snapshot::unknown();
        s.operator_override = Some(Override { level: Level::MajorOutage, message: "down".into(), set_at_ms: 1 });
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["override"]["level"], "major_outage");
        let back: Snapshot = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }
}
