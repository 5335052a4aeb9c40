//! `/embed`: the live status widget as a page of its own, for sites that embed with an
//! `<iframe>`. Rendered with the current status (so it is right without scripts), then kept
//! live by `/embed.js` (`public/embed.js`, the same widget a site can load directly). Unlike
//! every other page it may be framed by any site.

use crate::server::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

const POLICY: &str =
    "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors *";

pub async fn page(State(state): State<AppState>) -> Response {
    let s = state.hub.current();
    let esc = crate::server::http::feeds::xml_escape;
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>html,body{{margin:0;background:transparent}}</style></head><body>\
         <div data-statuscast><a href=\"/\" target=\"_top\">{}</a></div>\
         <script src=\"/embed.js\" async></script></body></html>",
        esc(&state.checks.page().name),
        esc(&s.snapshot.message),
    );
    let mut res = axum::response::Html(html).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    res
}
