//! The admin area: `/admin`, behind a login (the admin password, or the admin token, from
//! the command line or the environment), with forms to open and update incidents and to
//! schedule and cancel maintenance. The forms post to plain handlers here (no JavaScript
//! needed), each protected by the session cookie (`HttpOnly; SameSite=Strict`; sessions are
//! stored, so a restart keeps operators logged in), a per-session
//! CSRF token, and a same-origin check. The actions are the API's (`server::operator`).

pub mod session;

use crate::server::clock::now_ms;
use crate::server::domain::operator::{self, ActionError, IncidentInput, MaintenanceInput, UpdateInput};
use crate::server::secret::same_secret;
use crate::server::store::StoredSession as Session;
use crate::server::stream::conn::ClientAddr;
use crate::server::AppState;
use crate::ui::admin::{AdminView, Dashboard, Notice};
use axum::body::Body;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use session::{COOKIE, SESSION_TTL_MS};

const MAX_FORM_BYTES: usize = 64 * 1024;

fn enabled(state: &AppState) -> bool {
    state.settings.admin_password.is_some() || state.settings.admin_token.is_some()
}

/// The secret matches the admin password or the admin token.
fn secret_ok(state: &AppState, secret: &str) -> bool {
    let s = &state.settings;
    [s.admin_password.as_deref(), s.admin_token.as_deref()]
        .into_iter()
        .flatten()
        .fold(false, |ok, expected| ok | same_secret(secret.as_bytes(), expected.as_bytes()))
}

async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<(String, Session)> {
    let id = session::cookie_value(headers)?;
    let s = session::get(state.engine.store().as_ref(), &id, now_ms()).await?;
    Some((id, s))
}

/// The words for a `?done=` code after a successful post.
pub fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "opened" => "Incident opened: every viewer sees it now.",
        "updated" => "Update posted.",
        "scheduled" => "Maintenance scheduled.",
        "cancelled" => "Maintenance window cancelled.",
        "loggedout" => "Logged out.",
        _ => return None,
    })
}

/// What the admin page shows: the login form, or the dashboard.
pub async fn admin_view(state: &AppState, headers: &HeaderMap, notice: Notice) -> AdminView {
    if !enabled(state) {
        return AdminView::Disabled;
    }
    match session_of(state, headers).await {
        None => AdminView::Login(notice),
        Some((_, s)) => {
            let current = state.hub.current();
            let snap = &current.snapshot;
            AdminView::Dashboard(Dashboard {
                components: snap.components.clone(),
                incidents: snap.incidents.clone(),
                windows: snap.maintenance.clone(),
                csrf: s.csrf,
                notice,
            })
        }
    }
}

/// The admin page with `notice`, answered with `status` (a refused post).
async fn page_with(state: AppState, headers: &HeaderMap, status: StatusCode, notice: Notice) -> Response {
    let view = admin_view(&state, headers, notice).await;
    let req = Request::builder().method("GET").uri("/admin").body(Body::empty()).expect("a valid request");
    let mut res = crate::server::http::pages::render(state, req, crate::ui::PageData::Admin(view)).await;
    *res.status_mut() = status;
    crate::server::http::pages::protect_admin(&mut res);
    res
}

pub fn see_other(location: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(location).expect("a plain path"));
    res
}

/// Refuses a post that a browser says comes from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if matches!(fetch_site, Some("cross-site") | Some("same-site")) {
        return true;
    }
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin, host) {
        (Some("null"), _) => true,
        (Some(o), Some(h)) => o.split_once("://").map(|(_, rest)| rest) != Some(h),
        _ => false,
    }
}

fn secure_request(headers: &HeaderMap) -> bool {
    headers.get("x-forwarded-proto").and_then(|v| v.to_str().ok()) == Some("https")
}

struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    fn one(&self, name: &str) -> String {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.fields.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
    /// The fields to show again in a refused form (not the CSRF token or a secret).
    fn echo(&self) -> Vec<(String, String)> {
        self.fields.iter().filter(|(k, _)| k != "csrf" && k != "secret").cloned().collect()
    }
}

async fn read_form(req: Request) -> Result<(HeaderMap, Option<ClientAddr>, Form), Response> {
    let (parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err((StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected a form (application/x-www-form-urlencoded)").into_response());
    }
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response())?;
    let fields = form_urlencoded::parse(&bytes).into_owned().collect();
    Ok((parts.headers, parts.extensions.get::<ClientAddr>().copied(), Form { fields }))
}

fn error_notice(message: String, form: &str, f: &Form) -> Notice {
    Notice { error: Some(message), form: Some(form.to_string()), fields: f.echo(), ..Notice::default() }
}

/// The admin page again, with `message` as the error, answered with `status`.
async fn refuse(state: &AppState, headers: &HeaderMap, status: StatusCode, message: impl Into<String>) -> Response {
    page_with(state.clone(), headers, status, Notice { error: Some(message.into()), ..Notice::default() }).await
}

/// Refuses any post while the admin area is disabled, and posts from another site.
async fn open_and_same_site(state: &AppState, headers: &HeaderMap) -> Result<(), Response> {
    if !enabled(state) {
        return Err(refuse(state, headers, StatusCode::FORBIDDEN, "The admin area is disabled.").await);
    }
    if cross_site(headers) {
        return Err(refuse(state, headers, StatusCode::FORBIDDEN, "Refused: this form was posted from another site.").await);
    }
    Ok(())
}

/// Session, same-origin and CSRF checks for a form post; the refusal is a full page.
async fn guard(state: &AppState, headers: &HeaderMap, form: &Form) -> Result<(String, Session), Response> {
    open_and_same_site(state, headers).await?;
    let Some((id, session)) = session_of(state, headers).await else {
        return Err(refuse(state, headers, StatusCode::UNAUTHORIZED, "Log in first (your session may have ended).").await);
    };
    if !same_secret(form.one("csrf").as_bytes(), session.csrf.as_bytes()) {
        let message = "Refused: the form's CSRF token is missing or wrong. Reload the page and try again.";
        return Err(refuse(state, headers, StatusCode::FORBIDDEN, message).await);
    }
    Ok((id, session))
}

/// A form post that passed the session, same-origin and CSRF checks.
async fn guarded_form(state: &AppState, req: Request) -> Result<(HeaderMap, Form), Response> {
    let (headers, _, form) = read_form(req).await?;
    guard(state, &headers, &form).await?;
    Ok((headers, form))
}

/// `POST /admin/login` (`secret`).
pub async fn login(State(state): State<AppState>, req: Request) -> Response {
    let (headers, addr, form) = match read_form(req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Err(res) = open_and_same_site(&state, &headers).await {
        return res;
    }
    let refuse = |status, message: String| refuse(&state, &headers, status, message);
    let ip = addr.map(|a| a.0.ip()).unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
    let now = now_ms();
    if let Some(wait_ms) = state.login_throttle.blocked_for(ip, now) {
        let minutes = (wait_ms + 59_999) / 60_000;
        let mut res = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed logins from your address; try again in {minutes} min."),
        )
        .await;
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait_ms / 1000 + 1));
        return res;
    }
    if !secret_ok(&state, &form.one("secret")) {
        state.login_throttle.failed(ip, now);
        tracing::warn!("admin login refused for {ip}");
        return refuse(StatusCode::UNAUTHORIZED, "Wrong password or token.".into()).await;
    }
    state.login_throttle.succeeded(ip);
    let id = match session::create(state.engine.store().as_ref(), now).await {
        Ok((id, _)) => id,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, format!("The session could not be stored: {e}")).await,
    };
    let secure = if secure_request(&headers) { "; Secure" } else { "" };
    let cookie = format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", SESSION_TTL_MS / 1000);
    let mut res = see_other("/admin");
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("hex and ascii"));
    tracing::info!("admin login from {ip}");
    res
}

/// `POST /admin/logout`.
pub async fn logout(State(state): State<AppState>, req: Request) -> Response {
    let (headers, _, form) = match read_form(req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let (id, _) = match guard(&state, &headers, &form).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    if let Err(e) = session::end(state.engine.store().as_ref(), &id).await {
        tracing::error!("{e}");
    }
    let mut res = see_other("/admin?done=loggedout");
    let expire = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0");
    res.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&expire).expect("ascii"));
    res
}

/// The answer to an action: back to the dashboard, or the page again with the error.
async fn outcome<T>(
    state: AppState,
    headers: &HeaderMap,
    result: Result<T, ActionError>,
    done: &str,
    form_id: &str,
    form: &Form,
) -> Response {
    match result {
        Ok(_) => see_other(&format!("/admin?done={done}")),
        Err(e) => {
            let status = crate::server::http::error::action_status(&e);
            page_with(state, headers, status, error_notice(e.to_string(), form_id, form)).await
        }
    }
}

/// `POST /admin/incidents`.
pub async fn open_incident(State(state): State<AppState>, req: Request) -> Response {
    let (headers, form) = match guarded_form(&state, req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let input = IncidentInput {
        title: form.one("title"),
        impact: form.one("impact"),
        components: form.all("components"),
        status: Some(form.one("status")),
        message: form.one("message"),
    };
    let result = operator::open_incident(&state.engine, &input).await;
    outcome(state, &headers, result, "opened", "open", &form).await
}

/// `POST /admin/incidents/{id}/updates`.
pub async fn update_incident(State(state): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let (headers, form) = match guarded_form(&state, req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let input = UpdateInput { status: form.one("status"), message: form.one("message"), impact: Some(form.one("impact")) };
    let result = operator::update_incident(&state.engine, id, &input).await;
    outcome(state, &headers, result, "updated", &format!("update-{id}"), &form).await
}

/// A `datetime-local` value (`2026-12-01T22:00`, read as UTC) as RFC 3339; anything else
/// is passed on as typed, for the validation to name.
fn local_input_as_utc(v: &str) -> String {
    let v = v.trim();
    match v.len() {
        16 => format!("{v}:00Z"),
        19 if !v.ends_with('Z') => format!("{v}Z"),
        _ => v.to_string(),
    }
}

/// `POST /admin/maintenance`.
pub async fn schedule_maintenance(State(state): State<AppState>, req: Request) -> Response {
    let (headers, form) = match guarded_form(&state, req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let input = MaintenanceInput {
        title: form.one("title"),
        starts_at: local_input_as_utc(&form.one("starts_at")),
        ends_at: local_input_as_utc(&form.one("ends_at")),
        components: form.all("components"),
    };
    let result = operator::schedule_maintenance(&state.engine, &input).await;
    outcome(state, &headers, result, "scheduled", "maintenance", &form).await
}

/// `POST /admin/maintenance/{id}/cancel`.
pub async fn cancel_maintenance(State(state): State<AppState>, Path(id): Path<i64>, req: Request) -> Response {
    let (headers, form) = match guarded_form(&state, req).await {
        Ok(v) => v,
        Err(res) => return res,
    };
    let result = operator::cancel_maintenance(&state.engine, id).await;
    outcome(state, &headers, result, "cancelled", "cancel", &form).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cross_site_posts_are_recognised() {
        assert!(!cross_site(&headers(&[("host", "status.example"), ("origin", "https://status.example")])));
        assert!(cross_site(&headers(&[("host", "status.example"), ("origin", "https://evil.example")])));
        assert!(cross_site(&headers(&[("origin", "null")])));
        assert!(cross_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!cross_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(!cross_site(&HeaderMap::new()), "curl sends neither");
    }

    #[test]
    fn datetime_local_values_are_read_as_utc() {
        assert_eq!(local_input_as_utc("2026-12-01T22:00"), "2026-12-01T22:00:00Z");
        assert_eq!(local_input_as_utc("2026-12-01T22:00:30"), "2026-12-01T22:00:30Z");
        assert_eq!(local_input_as_utc("2026-12-01T22:00:00Z"), "2026-12-01T22:00:00Z");
        assert_eq!(local_input_as_utc("soon"), "soon");
    }
}
