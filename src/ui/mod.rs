//! The Leptos application: the HTML shell, the layout (with the system-status partial on
//! every page) and the pages.
//!
//! Leptos runs in islands mode: pages are rendered on the server only, and just the islands
//! run in the browser: [`Live`] (the page's one stream), the [`SystemStatus`] partial, and the
//! status page's live board, in the public pages' bundle; the admin area's forms, in a bundle
//! of their own that only the admin area loads. Everything else (uptime bars, incident
//! history) ships no code. This module never imports server code: the server hands each
//! page its data as [`PageData`].

#[cfg(any(feature = "ssr", feature = "hydrate-admin"))]
pub mod admin;
pub mod cards;
mod fresh;
pub mod history;
mod live;
mod status_page;
#[cfg(feature = "ssr")]
pub mod subscribe;
mod system_status;
pub mod uptime;

pub use live::{Live, LiveStatus, StreamState};
pub use system_status::SystemStatus;

use crate::model::StatusView;
#[cfg(feature = "ssr")]
use leptos::{either::EitherOf5, prelude::*};

/// The document title for a level ("Partial outage · statuscast").
pub fn title_for(level: crate::model::Level) -> String {
    format!("{} · statuscast", level.label())
}

/// The status a page is rendered with, and what the page shows besides it; provided by the
/// server for each page it renders.
#[derive(Clone, Debug)]
pub struct PageContext {
    pub status: StatusView,
    /// `status` as JSON, for the browser to read back (the server builds it from the JSON the
    /// hub encoded once for the snapshot).
    pub status_json: String,
    pub data: PageData,
}

/// The server-rendered part of each page.
#[derive(Clone, Debug)]
pub enum PageData {
    /// The status page's history (drawn once a minute, shared by every view).
    /// With the subscription form's choices (ssr only: the form ships no code).
    #[cfg(feature = "ssr")]
    Status(uptime::DrawnHistory, subscribe::SubscribeOffer),
    /// A subscription step's answer.
    #[cfg(feature = "ssr")]
    Subscription(subscribe::SubscriptionOutcome),
    History(history::HistoryPage),
    #[cfg(any(feature = "ssr", feature = "hydrate-admin"))]
    Admin(admin::AdminView),
    /// The 404 page, and pages rendered without data.
    None,
}

/// The HTML document around the app (rendered on the server only).
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let title = use_context::<PageContext>().map(|page| title_for(page.status.snapshot.level));
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title.unwrap_or_else(|| "statuscast".into())}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="alternate" type="application/atom+xml" title="Status history (Atom)" href="/history.atom"/>
                <link rel="alternate" type="application/rss+xml" title="Status history (RSS)" href="/history.rss"/>
                <link id="leptos" rel="stylesheet" href="/pkg/statuscast.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options islands=true/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The layout: header, the live root (system-status partial and the page), footer.
#[cfg(feature = "ssr")]
#[component]
pub fn App() -> impl IntoView {
    let data = use_context::<PageContext>().map(|p| p.data).unwrap_or(PageData::None);
    view! {
        <header class="site-header">
            <a class="brand" href="/">"statuscast"</a>
        </header>
        <Live>
            <SystemStatus/>
            <main>
                <PageMain data/>
            </main>
        </Live>
        <footer class="site-footer">
            "Live over Server-Sent Events · "
            <a href="/history">"Incident history"</a>
            " · "
            <a href="/api/v1/status">"JSON"</a>
            " · "
            <a href="/admin">"Operators"</a>
        </footer>
    }
}

/// The page itself. Built inside [`Live`]'s children, so that the islands in it find the
/// page's [`LiveStatus`] (a component runs under the owner it is built in).
#[cfg(feature = "ssr")]
#[component]
fn PageMain(data: PageData) -> impl IntoView {
    match (Page::current(), data) {
        (Page::Status, PageData::Status(history, offer)) => EitherOf5::A(view! { <status_page::StatusPage history offer/> }),
        (Page::History, PageData::History(page)) => EitherOf5::B(view! { <history::IncidentHistory page/> }),
        (Page::Admin, PageData::Admin(view)) => EitherOf5::C(view! { <admin::AdminPage view/> }),
        (Page::Subscription, PageData::Subscription(outcome)) => EitherOf5::D(view! { <subscribe::SubscriptionPage outcome/> }),
        _ => EitherOf5::E(NotFound()),
    }
}

/// The pages. Routing is by path, on the server (axum routes) and in the browser (the
/// location at hydration); pages are full loads, so no client-side router is shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Status,
    /// Resolved incidents.
    History,
    /// The operators' area (login, incidents, maintenance).
    Admin,
    /// Subscribing, confirming, unsubscribing.
    Subscription,
    NotFound,
}

impl Page {
    pub fn for_path(path: &str) -> Page {
        match path {
            "/" | "" => Page::Status,
            "/history" => Page::History,
            "/subscribe" | "/subscribe/confirm" | "/unsubscribe" => Page::Subscription,
            // A refused admin form is answered at its own address (`/admin/incidents`, ...).
            p if p == "/admin" || p.starts_with("/admin/") => Page::Admin,
            _ => Page::NotFound,
        }
    }

    /// The page for the request being rendered (pages are rendered on the server only).
    #[cfg(feature = "ssr")]
    fn current() -> Page {
        let path = use_context::<axum::http::request::Parts>().map(|p| p.uri.path().to_string());
        Page::for_path(path.as_deref().unwrap_or("/"))
    }
}

#[cfg(feature = "ssr")]
#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
        res.set_status(axum::http::StatusCode::NOT_FOUND);
    }
    view! {
        <section class="not-found">
            <h1>"Page not found"</h1>
            <p><a href="/">"Back to the status page"</a></p>
        </section>
    }
}
