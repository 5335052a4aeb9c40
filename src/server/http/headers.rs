//! Security headers. Every response: `X-Content-Type-Options: nosniff`, a `Referrer-Policy`,
//! a Content-Security-Policy (pages get one naming their own fresh nonce, see [`page_policy`];
//! anything else a strict default), and `Strict-Transport-Security` when served over HTTPS
//! (a proxy's `X-Forwarded-Proto: https`, as for the session cookie's `Secure`).

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

/// For what is not a page (JSON, SVG, files): nothing may run or be framed.
const DEFAULT_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

/// Called while a page renders (in its Leptos context): gives the page a fresh nonce, which
/// Leptos puts on the hydration scripts, and sets the policy that allows exactly those: its
/// own scripts, wasm, styles, images and the stream from this origin; no plugins, no framing,
/// forms to this origin only.
pub fn page_policy() {
    use leptos::prelude::use_context;
    leptos::nonce::provide_nonce();
    let (Some(nonce), Some(res)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(v) = HeaderValue::from_str(&policy) {
        res.insert_header(header::CONTENT_SECURITY_POLICY, v);
    }
}

/// The middleware that adds them.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let https = req.headers().get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    // The site's files are typed by their extension; `.ts` (the bundle's TypeScript
    // declarations) would be guessed as an MPEG transport stream.
    let declarations = req.uri().path().starts_with("/pkg/") && req.uri().path().ends_with(".ts");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if declarations {
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    }
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if !h.contains_key(header::REFERRER_POLICY) {
        h.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    }
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DEFAULT_POLICY));
    }
    if https {
        h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    res
}

/// The longest path segment a file can have (NAME_MAX) and the longest path looked up.
const MAX_SEGMENT: usize = 255;
const MAX_PATH: usize = 2048;

/// A path no file or page can have (a segment over NAME_MAX, or over 2 KiB in all) is
/// answered as the 404 page it is, without asking the file system: the lookup would fail
/// with "File name too long" and log an error for every such request.
pub async fn overlong_paths(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if path.len() > MAX_PATH || path.split('/').any(|s| s.len() > MAX_SEGMENT) {
        *req.uri_mut() = axum::http::Uri::from_static("/-/not-found");
    }
    next.run(req).await
}
