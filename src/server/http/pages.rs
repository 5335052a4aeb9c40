//! Serving pages: each is the Leptos app (layout + live system-status partial) with the
//! page's own data ([`PageData`]) prepared here first: the uptime history on the status
//! page, the incident history, the admin area.

use crate::server::http::render_cache::{page_clock, Key, RenderCache};
use crate::server::store::StoreError;
use crate::server::stream::hub::Published;
use crate::server::AppState;
use crate::ui::history::HistoryPage;
use crate::ui::{shell, Page, PageContext, PageData};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use leptos::prelude::{provide_context, LeptosOptions};

/// The status a page is rendered with (the hub's latest snapshot and the server's clock, to
/// the second), and the page's data.
pub fn page_context(state: &AppState, data: PageData) -> PageContext {
    page_context_at(&state.hub.current(), page_clock(crate::server::clock::now_ms()), data)
}

/// The same for a given snapshot and clock.
fn page_context_at(current: &Published, now_ms: i64, data: PageData) -> PageContext {
    let status = crate::model::StatusView { snapshot: (*current.snapshot).clone(), server_now_ms: now_ms };
    // The snapshot's JSON as the hub encoded it at publishing, not encoded again per view.
    let snapshot_json = std::str::from_utf8(&current.json).expect("the hub encodes JSON as UTF-8");
    let status_json = status_view_json(snapshot_json, status.server_now_ms);
    PageContext { status, status_json, data }
}

/// A `StatusView` as JSON, around a snapshot already encoded.
fn status_view_json(snapshot_json: &str, server_now_ms: i64) -> String {
    format!("{{\"snapshot\":{snapshot_json},\"server_now_ms\":{server_now_ms}}}")
}

/// Renders the app for `req` with `data` as the page's own part.
pub async fn render(state: AppState, req: Request, data: PageData) -> Response {
    let page = page_context(&state, data);
    render_with(state, req, page).await
}

async fn render_with(state: AppState, req: Request, page: PageContext) -> Response {
    let options = bundle_for(&state.leptos_options, &page.data);
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(state.clone());
            provide_context(page.clone());
            crate::server::http::headers::page_policy();
        },
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}

/// The name `make build` gives the admin area's browser bundle (its islands; see
/// `ui::admin`), beside the public pages' bundle in the site's `pkg` folder.
const ADMIN_BUNDLE: &str = "statuscast_admin";

/// The site settings a page is rendered with: the admin area loads its own browser bundle
/// where the site has one; elsewhere (and in a build without it, such as `cargo leptos
/// watch`, where the admin area's forms work as plain form posts) the public one.
fn bundle_for(options: &LeptosOptions, data: &PageData) -> LeptosOptions {
    static ADMIN_BUILT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let admin_built = || {
        let pkg = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
        pkg.join(format!("{ADMIN_BUNDLE}.wasm")).exists()
    };
    let mut options = options.clone();
    if matches!(data, PageData::Admin(_)) && *ADMIN_BUILT.get_or_init(admin_built) {
        options.output_name = ADMIN_BUNDLE.into();
    }
    options
}

/// Headers of every admin page: never cached (it holds the CSRF token), never framed (its
/// policy says `frame-ancestors 'none'` too, see `headers`).
pub fn protect_admin(res: &mut Response) {
    use axum::http::{header, HeaderValue};
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

/// `GET /`, `GET /history`, `GET /admin`.
pub async fn page(State(state): State<AppState>, req: Request) -> Response {
    let page = Page::for_path(req.uri().path());
    if RenderCache::caches(page, req.uri().query()) {
        return cached_page(state, req, page).await;
    }
    let data = match page {
        Page::Status => PageData::Status(state.history.drawn(), super::subscribe::offer(&state)),
        Page::History => {
            let after = Query::<HistoryQuery>::try_from_uri(req.uri())
                .ok()
                .and_then(|q| Some((q.0.before?, q.0.before_id.unwrap_or(i64::MAX))));
            PageData::History(incident_history(&state, after).await.unwrap_or_else(|e| {
                tracing::error!("incident history: {e}");
                HistoryPage { failed: true, ..HistoryPage::default() }
            }))
        }
        Page::Admin => {
            let done = req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "done")
                    .and_then(|(_, v)| crate::server::http::admin::done_text(&v))
            });
            let notice = crate::ui::admin::Notice { done: done.map(Into::into), ..Default::default() };
            PageData::Admin(crate::server::http::admin::admin_view(&state, req.headers(), notice).await)
        }
        Page::NotFound | Page::Subscription => PageData::None,
    };
    let mut res = render(state, req, data).await;
    if page == Page::Admin {
        protect_admin(&mut res);
    }
    res
}

/// The status page or the history's first page, from the render cache (see `render_cache`).
async fn cached_page(state: AppState, req: Request, page: Page) -> Response {
    // Read first: an entry is never older than its key.
    let current = state.hub.current();
    let now = page_clock(crate::server::clock::now_ms());
    let (history, drawing) = match page {
        Page::Status => {
            let (drawn, drawing) = state.history.drawing();
            (Some(drawn), drawing)
        }
        _ => (None, 0),
    };
    let key = Key { version: current.version(), second: now.div_euclid(1000), drawing };
    let headers = req.headers().clone();
    let cache = state.pages.clone();
    let entry = cache
        .get(page, key, async move {
            let data = match history {
                Some(drawn) => PageData::Status(drawn, super::subscribe::offer(&state)),
                None => PageData::History(incident_history(&state, None).await.unwrap_or_else(|e| {
                    tracing::error!("incident history: {e}");
                    HistoryPage { failed: true, ..HistoryPage::default() }
                })),
            };
            let context = page_context_at(&current, now, data);
            render_with(state, req, context).await
        })
        .await;
    entry.respond(&headers)
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    /// Resolution time and id of the last incident of the previous page.
    before: Option<i64>,
    before_id: Option<i64>,
}

const HISTORY_PAGE: i64 = 25;

/// Resolved incidents, most recent first, `HISTORY_PAGE` at a time.
async fn incident_history(state: &AppState, after: Option<(i64, i64)>) -> Result<HistoryPage, StoreError> {
    let mut incidents = state.engine.store().resolved_incidents(after.unwrap_or((i64::MAX, 0)), HISTORY_PAGE + 1).await?;
    let more = incidents.len() as i64 > HISTORY_PAGE;
    incidents.truncate(HISTORY_PAGE as usize);
    let older = incidents.last().filter(|_| more).map(|last| (last.resolved_ms.unwrap_or(0), last.id));
    let components = state.hub.current().snapshot.components.clone();
    Ok(HistoryPage { incidents, components, older, failed: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Snapshot, StatusView};

    #[test]
    fn the_status_view_around_the_hubs_json_reads_back_as_serde_writes_it() {
        let mut snapshot = Snapshot::unknown();
        snapshot.message = "quoted \"<x>\"\n".into();
        snapshot.version = 9;
        let view = StatusView { snapshot: snapshot.clone(), server_now_ms: 77 };
        let built = status_view_json(&serde_json::to_string(&snapshot).unwrap(), 77);
        assert_eq!(StatusView::from_json(&built), Some(view.clone()));
        assert_eq!(serde_json::from_str::<serde_json::Value>(&built).unwrap(), serde_json::to_value(&view).unwrap());
    }
}
