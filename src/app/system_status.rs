//! The system-status partial, in the layout of every page.

use super::live::LiveStatus;
use crate::status::age_text;
use leptos::prelude::*;

#[component]
pub fn SystemStatus() -> impl IntoView {
    let live = LiveStatus::expect();
    let snap = live.snapshot;
    let level = Memo::new(move |_| snap.with(|s| s.level));
    let stream = live.stream;

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
        </section>
    }
}
