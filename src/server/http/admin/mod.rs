//! The admin area: `/admin`, behind a login (the admin password, or the admin token, from
//! the command line or the environment), with forms to open and update incidents and to
//! schedule and cancel maintenance.
//!
//! Every action is a server function (`crate::ui::admin::actions`) posted by an
//! `ActionForm`, and every action route answers both ways:
//! - with JavaScript, the server function's call (`Accept: application/json`): the result as
//!   JSON, shown in the page without a reload;
//! - without, a plain form post: `303` back to the dashboard, or the page again with the
//!   error and the values typed (`4xx`).
//!
//! [`guard`] runs before every action, whichever way it comes: the area must be enabled, the
//! post must come from this site, and (but for the login) it needs a live session and that
//! session's CSRF token. Sessions are stored, so a restart keeps operators logged in.
//! The actions themselves are the JSON API's (`server::domain::operator`).

pub mod session;

use crate::server::clock::now_ms;
use crate::server::domain::operator::{self, ActionError, IncidentInput, MaintenanceInput, UpdateInput};
use crate::server::http::error::{action_status, public_store_message, store_status};
use crate::server::secret::same_secret;
use crate::server::store::StoreError;
use crate::server::AppState;
use crate::ui::admin::{AdminView, Dashboard, Notice};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use leptos::prelude::*;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use session::{COOKIE, SESSION_TTL_MS};

const MAX_FORM_BYTES: usize = 64 * 1024;
pub const LOGIN_PATH: &str = "/admin/login";

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

async fn session_of(state: &AppState, headers: &HeaderMap) -> Option<(String, crate::server::store::StoredSession)> {
    let id = session::cookie_value(headers)?;
    let s = session::get(state.engine.store().as_ref(), &state.settings.session_key, &id, now_ms()).await?;
    Some((id, s))
}

/// The words for a `?done=` code after a successful action.
pub fn done_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "opened" => "Incident opened: every viewer sees it now.",
        "updated" => "Update posted.",
        "scheduled" => "Maintenance scheduled.",
        "cancelled" => "Maintenance window cancelled.",
        "unsubscribed" => "Subscriber removed.",
        "loggedout" => "Logged out.",
        "loggedin" => "Logged in.",
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
        Some((_, s)) => AdminView::Dashboard(Dashboard { csrf: s.csrf, notice, notifications: notifications_panel(state).await }),
    }
}

/// Subscribers (the newest 200) and the delivery log (the newest 100).
async fn notifications_panel(state: &AppState) -> crate::ui::admin::notifications::Panel {
    use crate::ui::admin::notifications::{DeliveryRow, Panel, SubscriberRow};
    let store = state.engine.store();
    let read = async {
        let (subscribers, total) = store.subscribers(200).await?;
        let log = store.delivery_log(100, false).await?;
        let counts = store.delivery_counts().await?;
        Ok::<_, crate::server::store::StoreError>((subscribers, total, log, counts))
    };
    let (subscribers, total, log, counts) = match read.await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("admin: reading the notifications: {e}");
            return Panel { failed_to_read: true, ..Panel::default() };
        }
    };
    let snapshot = state.hub.current().snapshot.clone();
    let names = |ids: &[String]| -> Vec<String> {
        ids.iter().map(|id| crate::model::component_name(&snapshot.components, id).to_string()).collect()
    };
    let addresses: std::collections::HashMap<String, String> =
        subscribers.iter().map(|s| (s.target(), s.address.clone())).collect();
    Panel {
        subscribers: subscribers
            .iter()
            .map(|s| SubscriberRow {
                id: s.id,
                channel: s.channel.as_str(),
                address: s.address.clone(),
                components: names(&s.components),
                confirmed: s.confirmed_ms.is_some(),
                created_ms: s.created_ms,
            })
            .collect(),
        subscriber_total: total,
        deliveries: log
            .into_iter()
            .map(|d| DeliveryRow {
                id: d.id,
                event: d.event.map_or("confirmation".to_string(), |k| k.as_str().to_string()),
                target: d
                    .target
                    .strip_prefix("notify:")
                    .map(|name| format!("[[notify]] {name}"))
                    .or_else(|| addresses.get(&d.target).cloned())
                    .unwrap_or(d.target),
                state: d.state,
                attempts: d.attempts,
                error: d.last_error,
                created_ms: d.created_ms,
                next_ms: d.next_ms,
            })
            .collect(),
        sent: counts.sent,
        failed: counts.failed,
        pending: counts.pending,
        failed_to_read: false,
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

/// A call of a server function by its browser client (an `ActionForm` with JavaScript), as
/// opposed to a plain form post.
fn from_script(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("application/json"))
}

/// A posted form's fields. Lists are read from `name` and `name[]` alike (the forms use
/// `name[]`, as server functions read them; a script may send either).
#[derive(Clone, Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The fields of an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    pub fn one(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        let listed = format!("{name}[]");
        self.0.iter().filter(|(k, _)| *k == name || *k == listed).map(|(_, v)| v.clone()).collect()
    }

    /// The fields to show again in a refused form (not the CSRF token or a secret), lists
    /// under their plain names.
    fn echo(&self) -> Vec<(String, String)> {
        self.0
            .iter()
            .filter(|(k, _)| k != "csrf" && k != "secret")
            .map(|(k, v)| (k.trim_end_matches("[]").to_string(), v.clone()))
            .collect()
    }
}

/// What [`guard`] established for an admin post, for the action it protects.
#[derive(Clone, Debug)]
pub struct Guarded {
    /// The operator's session id (`None` for the login).
    pub session: Option<String>,
    /// The client's address (see `http::client`).
    pub client: std::net::IpAddr,
    /// The device cookie's value, if the browser sent one.
    pub device: Option<String>,
    pub fields: Fields,
}

/// A refused action: its status and what the operator is told.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
    /// Seconds to wait (a throttled login).
    pub retry_after: Option<u64>,
}

impl Refused {
    fn new(status: StatusCode, message: impl Into<String>) -> Refused {
        Refused { status, message: message.into(), retry_after: None }
    }
}

impl From<ActionError> for Refused {
    fn from(e: ActionError) -> Self {
        let message = match &e {
            ActionError::Store(s) | ActionError::Engine(crate::server::domain::engine::EngineError::Persist(s)) => {
                tracing::error!("{e}");
                format!("Not saved: {}.", public_store_message(s))
            }
            _ => e.to_string(),
        };
        Refused::new(action_status(&e), message)
    }
}

/// A done action: the code for its words ([`done_text`]) and a cookie to set.
#[derive(Debug)]
pub struct Done {
    pub code: &'static str,
    /// `Set-Cookie` values.
    pub cookies: Vec<String>,
}

impl Done {
    fn said(code: &'static str) -> Done {
        Done { code, cookies: Vec::new() }
    }

    /// The page to show next: the dashboard after a login, else the dashboard saying what
    /// was done.
    fn location(&self) -> String {
        match self.code {
            "loggedin" => "/admin".to_string(),
            code => format!("/admin?done={code}"),
        }
    }

    /// Login and logout change the page; the other actions answer in place.
    fn changes_page(&self) -> bool {
        matches!(self.code, "loggedin" | "loggedout")
    }
}

/// Answers a refusal the way the post came: a script gets the server function's error
/// (shown beside the form), a plain form post gets the page again.
async fn refuse(state: &AppState, headers: &HeaderMap, refused: Refused, form: Option<(&str, &Fields)>) -> Response {
    let mut res = if from_script(headers) {
        let error: ServerFnError = ServerFnError::from_server_fn_error(ServerFnErrorErr::ServerError(refused.message));
        (refused.status, error.ser()).into_response()
    } else {
        let notice = Notice {
            error: Some(refused.message),
            form: form.map(|(id, _)| id.to_string()),
            fields: form.map(|(_, f)| f.echo()).unwrap_or_default(),
            ..Notice::default()
        };
        page_with(state.clone(), headers, refused.status, notice).await
    };
    if let Some(wait) = refused.retry_after {
        res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(wait));
    }
    res
}

/// The one check of every admin post, before its action runs (whichever way it comes): a
/// form body; the area enabled; the same site; and but for the login, a live session and
/// its CSRF token. The action finds the result as a [`Guarded`] request extension.
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != axum::http::Method::POST {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "expected a form (application/x-www-form-urlencoded)").into_response();
    }
    let Ok(bytes) = axum::body::to_bytes(body, MAX_FORM_BYTES).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "form too large").into_response();
    };
    let fields = Fields::parse(&bytes);
    let headers = &parts.headers;
    if !enabled(&state) {
        return refuse(&state, headers, Refused::new(StatusCode::FORBIDDEN, "The admin area is disabled."), None).await;
    }
    if cross_site(headers) {
        let refused = Refused::new(StatusCode::FORBIDDEN, "Refused: this form was posted from another site.");
        return refuse(&state, headers, refused, None).await;
    }
    let client = state.settings.trusted_proxies.client_of(&parts);
    let device = session::named_cookie(headers, session::DEVICE_COOKIE);
    let session = if parts.uri.path() == LOGIN_PATH {
        None
    } else {
        let Some((id, session)) = session_of(&state, headers).await else {
            let refused = Refused::new(StatusCode::UNAUTHORIZED, "Log in first (your session may have ended).");
            return refuse(&state, headers, refused, None).await;
        };
        if !same_secret(fields.one("csrf").as_bytes(), session.csrf.as_bytes()) {
            let message = "Refused: the form's CSRF token is missing or wrong. Reload the page and try again.";
            return refuse(&state, headers, Refused::new(StatusCode::FORBIDDEN, message), None).await;
        }
        Some(id)
    };
    parts.extensions.insert(Guarded { session, client, device, fields });
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The admin actions, each once: called by the server functions and by plain form posts.
pub mod actions {
    use super::*;

    pub async fn login(state: &AppState, g: &Guarded, secret: &str, secure: bool) -> Result<Done, Refused> {
        let now = now_ms();
        let store = state.engine.store().as_ref();
        let unavailable = |e: StoreError| {
            tracing::error!("{e}");
            Refused::new(store_status(&e), format!("Logins cannot be checked right now: {}.", public_store_message(&e)))
        };
        let device = match &g.device {
            Some(id) => session::known_device(store, &state.settings.session_key, id, now).await,
            None => None,
        };
        let who = device.clone().unwrap_or(session::Attempt::Address(g.client));
        if let Some(blocked) = session::login_blocked(store, &who, now).await.map_err(unavailable)? {
            let (wait_ms, message) = match blocked {
                session::Blocked::Own(ms) => {
                    let from = if device.is_some() { "this browser" } else { "your address" };
                    (ms, format!("Too many failed logins from {from}; try again in {} min.", (ms + 59_999) / 60_000))
                }
                session::Blocked::Overall(ms) => (
                    ms,
                    format!(
                        "Too many failed logins from many addresses; try again in {} s. A browser that has logged in here before is not held back.",
                        (ms + 999) / 1000
                    ),
                ),
            };
            tracing::debug!("admin login from {} refused unchecked: {blocked:?}", g.client);
            return Err(Refused {
                retry_after: Some((wait_ms / 1000 + 1) as u64),
                ..Refused::new(StatusCode::TOO_MANY_REQUESTS, message)
            });
        }
        if !secret_ok(state, secret) {
            session::login_failed(store, &who, now).await.map_err(unavailable)?;
            tracing::warn!("admin login refused for {}", g.client);
            return Err(Refused::new(StatusCode::UNAUTHORIZED, "Wrong password or token."));
        }
        session::login_succeeded(store, &who).await.map_err(unavailable)?;
        let stored = |e: StoreError| {
            tracing::error!("{e}");
            Refused::new(store_status(&e), format!("The session could not be stored: {}.", public_store_message(&e)))
        };
        let (id, _) = session::create(store, &state.settings.session_key, now).await.map_err(stored)?;
        let secure = if secure { "; Secure" } else { "" };
        let mut cookies =
            vec![format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}", SESSION_TTL_MS / 1000)];
        if device.is_none() {
            let device_id = session::remember_device(store, &state.settings.session_key, now).await.map_err(stored)?;
            cookies.push(format!(
                "{}={device_id}; HttpOnly; SameSite=Strict; Path=/admin; Max-Age={}{secure}",
                session::DEVICE_COOKIE,
                session::DEVICE_TTL_MS / 1000
            ));
        }
        tracing::info!("admin login from {}", g.client);
        Ok(Done { code: "loggedin", cookies })
    }

    pub async fn logout(state: &AppState, g: &Guarded) -> Result<Done, Refused> {
        if let Some(id) = &g.session {
            if let Err(e) = session::end(state.engine.store().as_ref(), &state.settings.session_key, id).await {
                tracing::error!("{e}");
            }
        }
        Ok(Done { code: "loggedout", cookies: vec![format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")] })
    }

    pub async fn open_incident(state: &AppState, input: IncidentInput) -> Result<Done, Refused> {
        operator::open_incident(&state.engine, &input).await?;
        Ok(Done::said("opened"))
    }

    /// `id` as the form sent it.
    pub async fn update_incident(state: &AppState, id: &str, input: UpdateInput) -> Result<Done, Refused> {
        operator::update_incident(&state.engine, parse_id(id)?, &input).await?;
        Ok(Done::said("updated"))
    }

    /// `starts_at` and `ends_at` as the form sent them (`datetime-local`, read as UTC).
    pub async fn schedule_maintenance(state: &AppState, mut input: MaintenanceInput) -> Result<Done, Refused> {
        input.starts_at = local_input_as_utc(&input.starts_at);
        input.ends_at = local_input_as_utc(&input.ends_at);
        operator::schedule_maintenance(&state.engine, &input).await?;
        Ok(Done::said("scheduled"))
    }

    /// `id` as the form sent it.
    pub async fn cancel_maintenance(state: &AppState, id: &str) -> Result<Done, Refused> {
        operator::cancel_maintenance(&state.engine, parse_id(id)?).await?;
        Ok(Done::said("cancelled"))
    }

    /// Removes a viewer's subscription (and its deliveries not sent yet).
    pub async fn remove_subscriber(state: &AppState, id: &str) -> Result<Done, Refused> {
        match state.engine.store().remove_subscriber(parse_id(id)?).await.map_err(ActionError::Store)? {
            true => Ok(Done::said("unsubscribed")),
            false => Err(ActionError::NotFound(format!("no subscriber {}", id.trim())).into()),
        }
    }

    /// An id field, or the refusal naming it.
    fn parse_id(v: &str) -> Result<i64, Refused> {
        v.trim().parse().map_err(|_| Refused::new(StatusCode::UNPROCESSABLE_ENTITY, format!("id: {v:?} is not an id")))
    }
}

/// A `datetime-local` value (`2026-12-01T22:00`, read as UTC) as RFC 3339; anything else
/// is passed on as typed, for the validation to name.
pub fn local_input_as_utc(v: &str) -> String {
    let v = v.trim();
    match v.len() {
        16 => format!("{v}:00Z"),
        19 if !v.ends_with('Z') => format!("{v}Z"),
        _ => v.to_string(),
    }
}

/// The answer to a server function's call: the words of what was done, a cookie to set, a
/// page to go to (login, logout); or the refusal's status and message.
pub fn answer_script(result: Result<Done, Refused>) -> Result<String, ServerFnError> {
    let response = expect_context::<leptos_axum::ResponseOptions>();
    match result {
        Ok(done) => {
            for cookie in &done.cookies {
                response.append_header(header::SET_COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
            }
            if done.changes_page() {
                leptos_axum::redirect(&done.location());
            }
            Ok(done_text(done.code).unwrap_or("Done.").to_string())
        }
        Err(refused) => {
            response.set_status(refused.status);
            if let Some(wait) = refused.retry_after {
                response.insert_header(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            Err(ServerFnError::ServerError(refused.message))
        }
    }
}

/// What the guard established, for a server function (`csrf` is the token the function was
/// posted with: the guard checked it against the session before the function ran).
pub fn guarded(csrf: &str) -> Result<(AppState, Guarded), ServerFnError> {
    let _ = csrf;
    let state = expect_context::<AppState>();
    let parts = expect_context::<axum::http::request::Parts>();
    match parts.extensions.get::<Guarded>().cloned() {
        Some(guarded) => Ok((state, guarded)),
        None => Err(ServerFnError::ServerError("this action is served only behind the admin guard".into())),
    }
}

/// Whether the request came over HTTPS (behind a proxy): the session cookie is `Secure` then.
pub fn secure() -> bool {
    use_context::<axum::http::request::Parts>().is_some_and(|p| secure_request(&p.headers))
}

/// Every admin action route: a server function's call goes to Leptos, a plain form post is
/// read here; both run the same [`actions`].
pub async fn action(State(state): State<AppState>, req: Request) -> Response {
    if from_script(req.headers()) {
        let context = {
            let state = state.clone();
            move || provide_context(state.clone())
        };
        let mut res = leptos_axum::handle_server_fns_with_context(context, req).await.into_response();
        crate::server::http::pages::protect_admin(&mut res);
        return res;
    }
    let headers = req.headers().clone();
    let path = req.uri().path().to_string();
    let Some(g) = req.extensions().get::<Guarded>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let f = &g.fields;
    let (form_id, result) = match path.as_str() {
        LOGIN_PATH => ("login".to_string(), actions::login(&state, &g, &f.one("secret"), secure_request(&headers)).await),
        "/admin/logout" => ("logout".to_string(), actions::logout(&state, &g).await),
        "/admin/incidents" => {
            let input = IncidentInput {
                title: f.one("title"),
                impact: f.one("impact"),
                components: f.all("components"),
                status: Some(f.one("status")),
                message: f.one("message"),
            };
            ("open".to_string(), actions::open_incident(&state, input).await)
        }
        "/admin/updates" => {
            let input = UpdateInput { status: f.one("status"), message: f.one("message"), impact: Some(f.one("impact")) };
            let id = f.one("id");
            (format!("update-{}", id.trim()), actions::update_incident(&state, &id, input).await)
        }
        "/admin/maintenance" => {
            let input = MaintenanceInput {
                title: f.one("title"),
                starts_at: f.one("starts_at"),
                ends_at: f.one("ends_at"),
                components: f.all("components"),
            };
            ("maintenance".to_string(), actions::schedule_maintenance(&state, input).await)
        }
        "/admin/maintenance/cancel" => ("cancel".to_string(), actions::cancel_maintenance(&state, &f.one("id")).await),
        "/admin/subscribers/remove" => ("subscriber".to_string(), actions::remove_subscriber(&state, &f.one("id")).await),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    match result {
        Ok(done) => {
            let mut res = see_other(&done.location());
            for cookie in &done.cookies {
                res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_str(cookie).expect("ascii"));
            }
            res
        }
        Err(refused) => refuse(&state, &headers, refused, Some((&form_id, f))).await,
    }
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

    #[test]
    fn lists_are_read_with_and_without_brackets_and_secrets_are_not_echoed() {
        let f = Fields(vec![
            ("components[]".into(), "a".into()),
            ("components".into(), "b".into()),
            ("csrf".into(), "x".into()),
            ("title".into(), "t".into()),
        ]);
        assert_eq!(f.all("components"), ["a", "b"]);
        assert_eq!(
            f.echo(),
            vec![("components".to_string(), "a".to_string()), ("components".into(), "b".into()), ("title".into(), "t".into())]
        );
    }

    #[test]
    fn script_calls_are_told_from_form_posts() {
        assert!(from_script(&headers(&[("accept", "application/json")])));
        assert!(!from_script(&headers(&[("accept", "text/html,application/xhtml+xml")])));
        assert!(!from_script(&HeaderMap::new()));
    }
}
