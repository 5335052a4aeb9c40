//! The system-status partial, in the layout of every page.

use super::fresh::Fresh;
use super::live::{LiveStatus, StreamState};
use crate::model::{age_text, until, Snapshot};
use leptos::prelude::*;

/// An island: it runs in the browser and follows the [`LiveStatus`] of the page's [`Live`](super::Live).
///
/// Drawn whole from the snapshot, the stream state and the clock in one reactive closure: on
/// a change Leptos compares the new drawing with the old one and touches only what differs.
/// One closure instead of one per attribute and text keeps the browser bundle small.
#[island]
pub fn SystemStatus() -> impl IntoView {
    let live = LiveStatus::expect();
    Fresh(move || {
        let (now, stream) = (live.now_ms.get(), live.stream.get());
        live.snapshot.with(|s| partial(s, now, stream))
    })
}

fn partial(s: &Snapshot, now: i64, stream: StreamState) -> impl IntoView {
    let level = s.level;
    // Active incidents and maintenance to come, one line each, linking to the status page.
    let incidents = s.incidents.iter().map(|i| {
        (format!("incident-{}", i.id), format!("impact-{}", i.impact.as_str()), i.title.clone(), i.status.label().to_string())
    });
    let windows = s.maintenance.iter().map(|w| {
        let when = if w.starts_ms > now {
            format!("Maintenance {}", until(w.starts_ms, now))
        } else {
            "Maintenance in progress".to_string()
        };
        (format!("maintenance-{}", w.id), "maintenance".to_string(), w.title.clone(), when)
    });
    let notices = incidents
        .chain(windows)
        .map(|(anchor, class, title, when)| {
            view! {
                <li class=class data-notice=anchor.clone()>
                    <a href=format!("/#{anchor}")>{title}</a>
                    " · "
                    <span class="notice-state">{when}</span>
                </li>
            }
        })
        .collect_view();
    view! {
        <section
            id="system-status"
            class=format!("system-status level-{}", level.as_str())
            data-level=level.as_str()
            data-version=s.version.to_string()
            aria-label="System status"
        >
            <div class="status-summary" aria-live="polite" aria-atomic="true">
                <span class="status-icon" aria-hidden="true">{level.icon()}</span>
                <strong class="status-level">{level.label()}</strong>
                <span class="status-message">{s.message.clone()}</span>
            </div>
            <div class="status-meta">
                <span class="status-updated" data-updated-at=s.updated_at_ms.to_string()>
                    {age_text(s.updated_at_ms, now)}
                </span>
                <span class="stream-state" data-stream=stream.as_str()>
                    <span class="stream-dot" aria-hidden="true"></span>
                    {stream.label()}
                </span>
            </div>
            <ul class="status-notices">{notices}</ul>
        </section>
    }
}
