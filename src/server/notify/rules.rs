//! Who is told of an event: the `[[notify]]` entries whose rules want it and, for incidents,
//! the confirmed subscribers whose components it touches. Pure, so the rules are tested
//! without a store.

use super::config::Entry;
use super::event::{EventKind, StoredEvent};
use crate::server::store::outbox::{NewDelivery, Subscriber};

/// The deliveries an event makes. `incident_components`: the incident's components (incident
/// events only).
pub fn deliveries(
    event: &StoredEvent,
    entries: &[Entry],
    subscribers: &[Subscriber],
    incident_components: &[String],
) -> Vec<NewDelivery> {
    let mut out = Vec::new();
    let entry_delivery = |e: &Entry| NewDelivery { target: e.target(), subscriber_id: None, component: event.component.clone() };
    match event.kind {
        EventKind::ComponentChanged => {
            let (Some(c), Some(old), Some(new)) = (&event.component, event.old_level, event.new_level) else { return out };
            out.extend(entries.iter().filter(|e| e.wants_change(c, old, new)).map(entry_delivery));
        }
        EventKind::ComponentReminder => {
            let (Some(c), Some(level)) = (&event.component, event.new_level) else { return out };
            out.extend(
                entries
                    .iter()
                    .filter(|e| event.target.as_deref() == Some(e.target().as_str()) && e.covers(c) && e.alerting(level))
                    .map(entry_delivery),
            );
        }
        EventKind::IncidentOpened | EventKind::IncidentUpdated | EventKind::IncidentResolved => {
            out.extend(entries.iter().filter(|e| e.wants_incident(incident_components)).map(entry_delivery));
            out.extend(
                subscribers.iter().filter(|s| s.confirmed_ms.is_some() && s.wants(incident_components)).map(|s| NewDelivery {
                    target: s.target(),
                    subscriber_id: Some(s.id),
                    component: None,
                }),
            );
        }
    }
    out
}

/// How long to wait before attempt `attempts + 1`: 15 s, doubling, at most an hour.
pub fn backoff_ms(attempts: i64) -> i64 {
    let doublings = (attempts - 1).clamp(0, 20) as u32;
    (15_000i64 << doublings).min(3_600_000)
}

/// Retries stop once a delivery is this old.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3_600_000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{IncidentStatus, Level};
    use crate::server::notify::config::Channel;
    use crate::server::store::outbox::SubscriberChannel;

    fn entry(name: &str, components: Option<&[&str]>, min: Level, recovery: bool) -> Entry {
        Entry {
            name: name.into(),
            channel: Channel::Slack { url: "https://hooks.example/x".into() },
            components: components.map(|c| c.iter().map(|s| s.to_string()).collect()),
            min_level: min,
            recovery,
            remind_every: None,
            incidents: true,
        }
    }

    fn change(component: &str, old: Level, new: Level) -> StoredEvent {
        StoredEvent {
            id: 1,
            kind: EventKind::ComponentChanged,
            at_ms: 0,
            component: Some(component.into()),
            old_level: Some(old),
            new_level: Some(new),
            incident_id: None,
            status: None,
            message: None,
            target: None,
        }
    }

    fn targets(d: Vec<NewDelivery>) -> Vec<String> {
        d.into_iter().map(|d| d.target).collect()
    }

    #[test]
    fn level_changes_go_to_entries_by_component_and_lowest_level() {
        let entries =
            [entry("all", None, Level::DegradedPerformance, true), entry("api-major", Some(&["api"]), Level::MajorOutage, false)];
        let t = |c, old, new| targets(deliveries(&change(c, old, new), &entries, &[], &[]));
        assert_eq!(t("api", Level::Operational, Level::MajorOutage), ["notify:all", "notify:api-major"]);
        assert_eq!(t("db", Level::Operational, Level::MajorOutage), ["notify:all"], "not its component");
        assert_eq!(t("api", Level::Operational, Level::DegradedPerformance), ["notify:all"], "below its lowest level");
        // Recovery: only where asked for.
        assert_eq!(t("api", Level::MajorOutage, Level::Operational), ["notify:all"]);
        // Maintenance is not a failure, and a change within "fine" says nothing.
        assert!(t("api", Level::Operational, Level::UnderMaintenance).is_empty());
        assert_eq!(t("api", Level::PartialOutage, Level::MajorOutage), ["notify:all", "notify:api-major"], "worse");
    }

    #[test]
    fn incidents_go_to_entries_and_confirmed_subscribers_of_their_components() {
        let entries =
            [entry("all", None, Level::DegradedPerformance, true), entry("db", Some(&["db"]), Level::MajorOutage, true)];
        let sub = |id, components: &[&str], confirmed: bool| Subscriber {
            id,
            channel: SubscriberChannel::Email,
            address: format!("s{id}@example.com"),
            components: components.iter().map(|s| s.to_string()).collect(),
            token: format!("t{id}"),
            created_ms: 0,
            confirmed_ms: confirmed.then_some(1),
        };
        let subs = [sub(1, &[], true), sub(2, &["api"], true), sub(3, &["db"], true), sub(4, &[], false)];
        let event = StoredEvent {
            kind: EventKind::IncidentOpened,
            component: None,
            old_level: None,
            new_level: None,
            incident_id: Some(7),
            status: Some(IncidentStatus::Investigating),
            message: Some("looking".into()),
            ..change("x", Level::Operational, Level::Operational)
        };
        let t = targets(deliveries(&event, &entries, &subs, &["api".to_string()]));
        assert_eq!(t, ["notify:all", "subscriber:1", "subscriber:2"]);
        let whole_page = targets(deliveries(&event, &entries, &subs, &[]));
        assert_eq!(whole_page, ["notify:all", "notify:db", "subscriber:1", "subscriber:2", "subscriber:3"]);
    }

    #[test]
    fn retries_start_within_30_s_and_end_an_hour_apart() {
        assert_eq!(backoff_ms(1), 15_000);
        assert_eq!(backoff_ms(2), 30_000);
        assert_eq!(backoff_ms(9), 3_600_000);
        assert_eq!(backoff_ms(100), 3_600_000);
    }
}
