//! The Leptos application: the HTML shell, the layout (with the system-status partial on
//! every page) and the pages.

mod live;
mod status_page;
mod system_status;

pub use live::{LiveStatus, StreamState};
pub use system_status::SystemStatus;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = LiveStatus::provide();
    let title = move || {
        let level = live.snapshot.with(|s| s.level);
        format!("{} · statuscast", level.label())
    };

    view! {
        <Stylesheet id="leptos" href="/pkg/statuscast.css"/>
        <Title text=title/>
        <Router>
            <header class="site-header">
                <a class="brand" href="/">"statuscast"</a>
            </header>
            <SystemStatus/>
            <main>
                <Routes fallback=NotFound>
                    <Route path=StaticSegment("") view=status_page::StatusPage/>
                </Routes>
            </main>
            <footer class="site-footer">
                "Live over Server-Sent Events · "
                <a href="/api/v1/status">"JSON"</a>
            </footer>
        </Router>
    }
}

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
