//! The Leptos application: the HTML shell, the layout (with the system-status partial on
//! every page) and the pages.

mod live;
mod status_page;
mod system_status;

pub use live::{LiveStatus, StreamState};
pub use system_status::SystemStatus;

use leptos::either::EitherOf3;
use leptos::prelude::*;

/// The document title for a level ("Partial outage · statuscast").
pub fn title_for(level: crate::status::Level) -> String {
    format!("{} · statuscast", level.label())
}

/// The HTML document around the app (server only: the browser hydrates the body).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let title = use_context::<crate::server::AppState>().map(|state| title_for(state.hub.current().snapshot.level));
    #[cfg(not(feature = "ssr"))]
    let title: Option<String> = None;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>{title.unwrap_or_else(|| "statuscast".into())}</title>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link id="leptos" rel="stylesheet" href="/pkg/statuscast.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    #[cfg_attr(not(feature = "hydrate"), allow(unused_variables))]
    let live = LiveStatus::provide();
    // The tab title follows the status (in the browser; the server writes it in the shell).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let title = title_for(live.snapshot.with(|s| s.level));
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });

    let page = match Page::current() {
        Page::Status => EitherOf3::A(status_page::StatusPage()),
        Page::History | Page::Admin => EitherOf3::B(view! { <ServerHtml class="server-page"/> }),
        Page::NotFound => EitherOf3::C(NotFound()),
    };

    view! {
        <header class="site-header">
            <a class="brand" href="/">"statuscast"</a>
        </header>
        <SystemStatus/>
        <main>{page}</main>
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

/// The pages. Routing is by path, on the server (axum routes) and in the browser (the
/// location at hydration); pages are full loads, so no client-side router is shipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    Status,
    /// Resolved incidents.
    History,
    /// The operators' area (login, incidents, maintenance).
    Admin,
    NotFound,
}

impl Page {
    pub fn for_path(path: &str) -> Page {
        match path {
            "/" | "" => Page::Status,
            "/history" => Page::History,
            // A refused admin form is answered at its own address (`/admin/incidents`, ...).
            p if p == "/admin" || p.starts_with("/admin/") => Page::Admin,
            _ => Page::NotFound,
        }
    }

    /// The page for the request being rendered (server) or the document (browser).
    fn current() -> Page {
        #[cfg(feature = "ssr")]
        let path = use_context::<axum::http::request::Parts>().map(|p| p.uri.path().to_string());
        #[cfg(not(feature = "ssr"))]
        let path = web_sys::window().and_then(|w| w.location().pathname().ok());
        Page::for_path(path.as_deref().unwrap_or("/"))
    }
}

/// HTML that only the server renders (history charts, the admin area, the incident
/// history): the browser keeps what the server sent and ships no code to build it. The page
/// handler provides it as [`PageHtml`].
#[component]
pub fn ServerHtml(class: &'static str) -> impl IntoView {
    #[cfg(feature = "ssr")]
    let html = use_context::<PageHtml>().map(|p| p.0).unwrap_or_default();
    #[cfg(not(feature = "ssr"))]
    let html = String::new();
    view! { <div class=class inner_html=html></div> }
}

/// The server-rendered part of the page being served (shared, not copied: the status page's
/// history is the same for every view).
#[derive(Clone, Debug, Default)]
pub struct PageHtml(pub std::sync::Arc<str>);

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
