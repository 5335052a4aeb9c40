//! The live status: the [`Live`] island holds the snapshot a page was rendered with and, in
//! the browser, follows `/connect_to_sse`. The islands inside it (the system-status partial,
//! the live parts of the status page) read it as context.
//!
//! A browser opens one stream for all its tabs of the site ([`tabs`]: the tab holding a Web
//! Lock opens the `EventSource`, [`stream`], and passes what it hears to the others on a
//! `BroadcastChannel`); without those APIs each tab opens its own.
//!
//! The snapshot reaches the browser as JSON in a `data-status` attribute (escaped by
//! `view!`), read with the crate's own small JSON reader: island props would be read with
//! serde_json, which costs the bundle about 35 KiB gzip.

use crate::model::{Snapshot, StatusView};
use leptos::prelude::*;

/// The id of the element whose `data-status` holds the page's [`StatusView`] as JSON.
const STATUS_DATA_ID: &str = "status-data";

/// The status the page was rendered with: on the server, the page's; in the browser, read
/// back from the page.
fn initial_status() -> (StatusView, String) {
    #[cfg(feature = "ssr")]
    {
        match use_context::<super::PageContext>() {
            Some(page) => (page.status, page.status_json),
            None => {
                let status = StatusView { snapshot: Snapshot::unknown(), server_now_ms: 0 };
                let json = serde_json::to_string(&status).expect("a status view always serialises");
                (status, json)
            }
        }
    }
    #[cfg(not(feature = "ssr"))]
    {
        let json = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.get_element_by_id(STATUS_DATA_ID))
            .and_then(|e| e.get_attribute("data-status"))
            .unwrap_or_default();
        let status = StatusView::from_json(&json).unwrap_or(StatusView { snapshot: Snapshot::unknown(), server_now_ms: 0 });
        (status, json)
    }
}

/// The root of everything live on a page: provides [`LiveStatus`] to the islands among its
/// children, opens the stream, and keeps the tab's title on the current level (see
/// [`LiveStatus::accept`]). Its children are rendered on the server; only the islands among
/// them run in the browser.
#[island]
pub fn Live(children: Children) -> impl IntoView {
    let (initial, json) = initial_status();
    LiveStatus::provide(initial, &json);
    view! {
        <div id=STATUS_DATA_ID hidden data-status=json></div>
        {children()}
    }
}

/// The state of the browser's stream, mirroring `EventSource.readyState` and its events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamState {
    /// Server-rendered, no script running (JavaScript off, or not hydrated yet).
    Static,
    Connecting,
    Live,
    /// The connection dropped; the browser is retrying.
    Reconnecting,
    /// The browser gave up (the server refused the stream); it will not retry.
    Offline,
}

impl StreamState {
    pub fn as_str(self) -> &'static str {
        match self {
            StreamState::Static => "static",
            StreamState::Connecting => "connecting",
            StreamState::Live => "live",
            StreamState::Reconnecting => "reconnecting",
            StreamState::Offline => "offline",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StreamState::Static => "as of page load",
            StreamState::Connecting => "connecting…",
            StreamState::Live => "live",
            StreamState::Reconnecting => "reconnecting…",
            StreamState::Offline => "offline (will not retry; reload the page)",
        }
    }
}

/// Shared by the partial and the pages through context.
#[derive(Clone, Copy)]
pub struct LiveStatus {
    pub snapshot: RwSignal<Snapshot>,
    pub stream: RwSignal<StreamState>,
    /// The server's clock as best known here, in Unix milliseconds; ticks once a second in
    /// the browser. Starts at the server's render time, so hydration sees the same text.
    pub now_ms: RwSignal<i64>,
}

impl LiveStatus {
    /// Creates the signals from the snapshot the server rendered with, provides them as
    /// context, and in the browser follows the stream (`json`: the page's status as rendered,
    /// which this tab passes on to others if it leads).
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    fn provide(initial: StatusView, json: &str) -> Self {
        let live = LiveStatus {
            snapshot: RwSignal::new(initial.snapshot),
            stream: RwSignal::new(StreamState::Static),
            now_ms: RwSignal::new(initial.server_now_ms),
        };
        provide_context(live);
        #[cfg(feature = "hydrate")]
        {
            let server_now_ms = initial.server_now_ms;
            let json = json.to_string();
            // Effects run only in the browser, after hydration (and this one reads no signal:
            // it runs once).
            Effect::new(move |_| tabs::follow(live, server_now_ms, &json));
        }
        live
    }

    pub fn expect() -> Self {
        expect_context::<LiveStatus>()
    }

    /// Shows `next` unless it is not newer than what is shown. Returns whether it was shown.
    pub fn accept(&self, next: Snapshot) -> bool {
        let newer = self.snapshot.with_untracked(|s| next.version > s.version);
        if newer {
            // The tab's title names the current level (set here, not by an effect: smaller).
            #[cfg(feature = "hydrate")]
            if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
                doc.set_title(&super::title_for(next.level));
            }
            self.snapshot.set(next);
        }
        newer
    }
}

#[cfg(feature = "hydrate")]
mod stream;
#[cfg(feature = "hydrate")]
mod tabs;
