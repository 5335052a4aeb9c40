//! The system-status partial, in the layout of every page.

use super::live::LiveStatus;
use crate::model::{age_text, until};
use leptos::prelude::*;

/// An island: it runs in the browser and follows the [`LiveStatus`] of the page's [`Live`](super::Live).
#[island]
pub fn SystemStatus() -> impl IntoView {
    let live = LiveStatus::expect();
    let snap = live.snapshot;
    let level = Memo::new(move |_| snap.with(|s| s.level));
    let stream = live.stream;
    // Active incidents and maintenance to come, one line each, linking to the status page.
    let notices = Memo::new(move |_| {
        snap.with(|s| {
            let incidents = s.incidents.iter().map(|i| {
                (
                    format!("incident-{}", i.id),
                    format!("impact-{}", i.impact.as_str()),
                    i.title.clone(),
                    i.status.label().to_string(),
                    0,
                )
            });
            let windows = s.maintenance.iter().map(|w| {
                (format!("maintenance-{}", w.id), "maintenance".to_string(), w.title.clone(), String::new(), w.starts_ms)
            });
            incidents.chain(windows).collect::<Vec<_>>()
        })
    });

    view! {
        <section
            id="system-status"
            class=move || format!("system-status level-{}", level.get().as_str())
            data-level=move || level.get().as_str()
            data-version=move || snap.with(|s| s.version.to_string())
            aria-label="System status"
        >
            <div class="status-summary" aria-live="polite" aria-atomic="true">
                <span class="status-icon" aria-hidden="true">{move || level.get().icon()}</span>
                <strong class="status-level">{move || level.get().label()}</strong>
                <span class="status-message">{move || snap.with(|s| s.message.clone())}</span>
            </div>
            <div class="status-meta">
                <span
                    class="status-updated"
                    data-updated-at=move || snap.with(|s| s.updated_at_ms.to_string())
                >
                    {move || age_text(snap.with(|s| s.updated_at_ms), live.now_ms.get())}
                </span>
                <span class="stream-state" data-stream=move || stream.get().as_str()>
                    <span class="stream-dot" aria-hidden="true"></span>
                    {move || stream.get().label()}
                </span>
            </div>
            <ul class="status-notices">
                {move || {
                    notices
                        .get()
                        .into_iter()
                        .map(|(anchor, class, title, status, starts_ms)| {
                            let when = move || match starts_ms {
                                0 => status.clone(),
                                t if t > live.now_ms.get() => format!("Maintenance {}", until(t, live.now_ms.get())),
                                _ => "Maintenance in progress".to_string(),
                            };
                            view! {
                                <li class=class data-notice=anchor.clone()>
                                    <a href=format!("/#{anchor}")>{title}</a>
                                    " · "
                                    <span class="notice-state">{when}</span>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
