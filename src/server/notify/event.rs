//! What the notifier tells people: the events written to the outbox (with the change that
//! causes them), and a [`Notice`], an event with what a message needs to say it (the page,
//! the component's name, the incident as it stands).

use crate::model::{Incident, IncidentStatus, IncidentUpdate, Level};
use serde::{Deserialize, Serialize};

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A component's level changed (after the checks' damping).
    ComponentChanged,
    /// A component is still failing (an alert entry's `remind_every`).
    ComponentReminder,
    IncidentOpened,
    IncidentUpdated,
    IncidentResolved,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::ComponentChanged,
        EventKind::ComponentReminder,
        EventKind::IncidentOpened,
        EventKind::IncidentUpdated,
        EventKind::IncidentResolved,
    ];

    /// The stored name (`component.changed`), also the `meta.event` of a webhook.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ComponentChanged => "component.changed",
            EventKind::ComponentReminder => "component.reminder",
            EventKind::IncidentOpened => "incident.opened",
            EventKind::IncidentUpdated => "incident.updated",
            EventKind::IncidentResolved => "incident.resolved",
        }
    }

    pub fn named(name: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn is_incident(self) -> bool {
        matches!(self, EventKind::IncidentOpened | EventKind::IncidentUpdated | EventKind::IncidentResolved)
    }

    /// The kind of an incident event for an update moving the incident to `status`.
    pub fn of_update(opened: bool, status: IncidentStatus) -> EventKind {
        match (opened, status) {
            (true, _) => EventKind::IncidentOpened,
            (false, IncidentStatus::Resolved) => EventKind::IncidentResolved,
            (false, _) => EventKind::IncidentUpdated,
        }
    }
}

/// An event as stored in the outbox (`notify_events`).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: EventKind,
    pub at_ms: i64,
    /// Component events: the component and its levels before and after (a reminder: both
    /// the level it is still at).
    pub component: Option<String>,
    pub old_level: Option<Level>,
    pub new_level: Option<Level>,
    /// Incident events: the incident and the update announced.
    pub incident_id: Option<i64>,
    pub status: Option<IncidentStatus>,
    pub message: Option<String>,
    /// Only for this target (a reminder is for the entry that asked for it).
    pub target: Option<String>,
}

/// A new event, written with its cause.
#[derive(Clone, Debug, PartialEq)]
pub enum NewEvent {
    Component { kind: EventKind, component: String, old: Level, new: Level, target: Option<String> },
    Incident { kind: EventKind, incident_id: i64, status: IncidentStatus, message: String },
}

/// The page a notice is about.
#[derive(Clone, Debug, PartialEq)]
pub struct PageInfo {
    pub name: String,
    /// `https://status.example.com` (no trailing slash), if configured.
    pub url: Option<String>,
    /// The overall level now, and its words (the snapshot's message).
    pub level: Level,
    pub description: String,
}

/// A component event with the component's name.
#[derive(Clone, Debug, PartialEq)]
pub struct ComponentNotice {
    pub id: String,
    pub name: String,
    pub old: Level,
    pub new: Level,
    /// Since when it has been at `new` (reminders say how long).
    pub since_ms: i64,
}

/// An event with everything a message needs.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub event_id: i64,
    pub kind: EventKind,
    pub at_ms: i64,
    pub page: PageInfo,
    pub component: Option<ComponentNotice>,
    /// Incident events: the incident as it stands (updates newest first) and the update this
    /// event announces.
    pub incident: Option<Incident>,
    pub update: Option<IncidentUpdate>,
    /// The names of the incident's components (same order as `incident.components`).
    pub component_names: Vec<String>,
}

impl Notice {
    /// A one-line summary: `API: Operational → Major outage`, `Incident: Database slow (Investigating)`.
    pub fn headline(&self) -> String {
        match (&self.component, &self.incident) {
            (Some(c), _) if self.kind == EventKind::ComponentReminder => {
                format!("{} is still {}", c.name, c.new.label().to_lowercase())
            }
            (Some(c), _) => format!("{}: {} → {}", c.name, c.old.label(), c.new.label()),
            (None, Some(i)) => {
                let status = self.update.as_ref().map_or(i.status, |u| u.status);
                let verb = match self.kind {
                    EventKind::IncidentOpened => "New incident",
                    EventKind::IncidentResolved => "Resolved",
                    _ => "Update",
                };
                format!("{verb}: {} ({})", i.title, status.label())
            }
            (None, None) => self.page.description.clone(),
        }
    }

    /// The incident's status as this event announces it.
    pub fn incident_status(&self) -> Option<IncidentStatus> {
        let i = self.incident.as_ref()?;
        Some(self.update.as_ref().map_or(i.status, |u| u.status))
    }

    /// How bad what this notice tells is: a component's new level, an open incident's
    /// impact as a level (operational once resolved), else the page's level.
    pub fn level(&self) -> Level {
        match (&self.component, &self.incident) {
            (Some(c), _) => c.new,
            (None, Some(_)) if self.incident_status() == Some(IncidentStatus::Resolved) => Level::Operational,
            (None, Some(i)) => i.impact.level(),
            (None, None) => self.page.level,
        }
    }

    /// Whether this tells that something is fine again: a component back to operational,
    /// an incident resolved.
    pub fn is_recovery(&self) -> bool {
        match &self.component {
            Some(c) => self.kind == EventKind::ComponentChanged && c.new == Level::Operational && c.old != c.new,
            None => self.kind == EventKind::IncidentResolved,
        }
    }
}
