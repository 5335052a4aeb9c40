//! Serving pages: each is the Leptos app (layout + live system-status partial) with the
//! page's server-rendered part ([`PageHtml`]) prepared here first: the uptime history on the
//! status page, the incident history, the admin area.

use crate::app::{shell, Page, PageHtml};
use crate::server::AppState;
use crate::server::time::duration_text;
use crate::status::{component_names, escape_html, timeline_html, utc_minute, ComponentStatus, Incident};
use axum::extract::{Query, Request, State};
use axum::response::{IntoResponse, Response};
use leptos::prelude::provide_context;
use std::fmt::Write;
use std::sync::Arc;

/// Renders the app for `req` with `html` as the page's server-rendered part.
pub async fn render(state: AppState, req: Request, html: Arc<str>) -> Response {
    let options = state.leptos_options.clone();
    let handler = leptos_axum::render_app_to_stream_with_context(
        move || {
            provide_context(state.clone());
            provide_context(PageHtml(html.clone()));
        },
        move || shell(options.clone()),
    );
    handler(req).await.into_response()
}

/// Headers of every admin page: never cached (it holds the CSRF token), never framed.
pub fn protect_admin(res: &mut Response) {
    use axum::http::{header, HeaderValue};
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
}

/// `GET /`, `GET /history`, `GET /admin`.
pub async fn page(State(state): State<AppState>, req: Request) -> Response {
    let page = Page::for_path(req.uri().path());
    let html: Arc<str> = match page {
        Page::Status => state.history.html(),
        Page::History => {
            let after = Query::<HistoryQuery>::try_from_uri(req.uri())
                .ok()
                .and_then(|q| Some((q.0.before?, q.0.before_id.unwrap_or(i64::MAX))));
            match incident_history(&state, after).await {
                Ok(html) => html.into(),
                Err(e) => {
                    tracing::error!("incident history: {e}");
                    "<p class=\"error\">The incident history could not be read; try again.</p>".into()
                }
            }
        }
        Page::Admin => {
            let done = req.uri().query().and_then(|q| {
                form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "done").and_then(|(_, v)| crate::server::admin::done_text(&v))
            });
            let notice = crate::server::admin::html::Notice { done: done.map(Into::into), ..Default::default() };
            crate::server::admin::page_html(&state, req.headers(), notice).await.into()
        }
        Page::NotFound => Arc::default(),
    };
    let mut res = render(state, req, html).await;
    if page == Page::Admin {
        protect_admin(&mut res);
    }
    res
}

#[derive(serde::Deserialize)]
pub struct HistoryQuery {
    /// Resolution time and id of the last incident of the previous page.
    before: Option<i64>,
    before_id: Option<i64>,
}

const HISTORY_PAGE: i64 = 25;

/// Resolved incidents, most recent first, `HISTORY_PAGE` at a time.
async fn incident_history(state: &AppState, after: Option<(i64, i64)>) -> Result<String, String> {
    let list = state.engine.store().resolved_incidents(after.unwrap_or((i64::MAX, 0)), HISTORY_PAGE + 1).await?;
    let mut html = String::from("<h1>Incident history</h1>");
    if list.is_empty() {
        html.push_str("<p class=\"empty\">No resolved incidents.</p>");
    }
    let more = list.len() as i64 > HISTORY_PAGE;
    let shown = &list[..list.len().min(HISTORY_PAGE as usize)];
    let current = state.hub.current();
    for i in shown {
        incident_html(&mut html, i, &current.snapshot.components);
    }
    if let (true, Some(last)) = (more, shown.last()) {
        let _ = write!(
            html,
            "<p><a class=\"older\" href=\"/history?before={}&amp;before_id={}\">Older incidents</a></p>",
            last.resolved_ms.unwrap_or(0),
            last.id
        );
    }
    Ok(html)
}

/// One incident with its whole timeline (server-rendered; text escaped).
/// Component ids are shown by their current names (the id, for a component since removed).
pub fn incident_html(html: &mut String, i: &Incident, components: &[ComponentStatus]) {
    let lasted = i.resolved_ms.map(|r| duration_text(r - i.started_ms)).unwrap_or_default();
    let _ = write!(
        html,
        "<article class=\"incident impact-{}\" id=\"incident-{}\" data-incident=\"{}\"><h2>{}</h2><p class=\"incident-meta\">Impact: {} · started {}",
        i.impact.as_str(),
        i.id,
        i.id,
        escape_html(&i.title),
        i.impact.as_str(),
        utc_minute(i.started_ms)
    );
    if let Some(r) = i.resolved_ms {
        let _ = write!(html, " · resolved {} after {lasted}", utc_minute(r));
    }
    if !i.components.is_empty() {
        let _ = write!(html, " · affected: {}", escape_html(&component_names(components, &i.components)));
    }
    let _ = write!(html, "</p><ol class=\"timeline\">{}</ol></article>", timeline_html(&i.updates));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::{Impact, IncidentStatus, IncidentUpdate};

    #[test]
    fn an_incident_renders_escaped_with_its_timeline() {
        let i = Incident {
            id: 9,
            title: "<img src=x onerror=alert(1)>".into(),
            impact: Impact::Minor,
            components: vec!["api".into()],
            status: IncidentStatus::Resolved,
            started_ms: 0,
            resolved_ms: Some(65 * 60_000),
            updates: vec![
                IncidentUpdate { at_ms: 65 * 60_000, status: IncidentStatus::Resolved, message: "fixed & \"done\"".into() },
                IncidentUpdate { at_ms: 0, status: IncidentStatus::Investigating, message: "<script>".into() },
            ],
        };
        let mut html = String::new();
        incident_html(&mut html, &i, &[ComponentStatus::named("api", "<api>")]);
        assert!(!html.contains("<img") && !html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
        assert!(html.contains("resolved 1970-01-01 01:05 UTC after 1 h 5 min"));
        assert_eq!(html.matches("<li>").count(), 2);
        assert!(html.contains("affected: &lt;api&gt;"), "names, escaped");
    }
}
