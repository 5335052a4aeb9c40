//! Viewers' subscriptions: the form's post (`POST /subscribe`, also JSON at
//! `POST /api/v1/subscriptions`), the confirmation link (`GET /subscribe/confirm`) and the
//! unsubscribe link (`GET /unsubscribe`, and `POST` for mail clients' one-click unsubscribe,
//! RFC 8058). Each step is answered with a page (or JSON) saying what happened; a refusal
//! says why and changes nothing.

use crate::server::http::error::ApiError;
use crate::server::http::pages;
use crate::server::notify::config::valid_email;
use crate::server::store::outbox::{NewSubscriber, Subscribed, Subscriber, SubscriberChannel};
use crate::server::AppState;
use crate::ui::subscribe::{SubscribeOffer, SubscriptionOutcome};
use crate::ui::PageData;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Most components one subscription may name.
const MAX_COMPONENTS: usize = 200;

/// Subscription requests one client address may make per window (each can send a mail to an
/// address it names: the limit keeps the page from being used to flood mailboxes).
const PER_CLIENT: u32 = 20;
const WINDOW_MS: i64 = 3_600_000;

/// Requests per client address in its current window (this instance's; a window starts at
/// the client's first request).
#[derive(Default)]
pub struct Throttle(std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (i64, u32)>>);

impl Throttle {
    /// Counts a request; false once the client is over its limit.
    fn admit(&self, client: std::net::IpAddr, now_ms: i64) -> bool {
        let mut clients = self.0.lock().unwrap();
        if clients.len() > 100_000 {
            clients.retain(|_, (start, _)| *start > now_ms - WINDOW_MS);
        }
        let entry = clients.entry(client).or_insert((now_ms, 0));
        if entry.0 <= now_ms - WINDOW_MS {
            *entry = (now_ms, 0);
        }
        entry.1 += 1;
        entry.1 <= PER_CLIENT
    }
}

fn throttle() -> &'static Throttle {
    static THROTTLE: std::sync::OnceLock<Throttle> = std::sync::OnceLock::new();
    THROTTLE.get_or_init(Throttle::default)
}

fn too_many() -> ApiError {
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many subscription requests from this address; try again in an hour")
}

/// What the status page's form offers, from the configuration in force.
pub fn offer(state: &AppState) -> SubscribeOffer {
    let subscriptions = state.notifier.config().subscriptions;
    let components = state.hub.current().snapshot.components.iter().map(|c| (c.id.clone(), c.name.clone())).collect();
    SubscribeOffer { email: subscriptions.email.is_some(), webhook: subscriptions.webhook, components }
}

/// A subscription request, from the form or the JSON API.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscribeInput {
    pub channel: Option<String>,
    pub address: String,
    #[serde(default)]
    pub components: Vec<String>,
}

impl SubscribeInput {
    /// From `channel=email&address=...&component=a&component=b`.
    fn from_form(body: &[u8]) -> SubscribeInput {
        let mut input = SubscribeInput::default();
        for (k, v) in form_urlencoded::parse(body) {
            match &*k {
                "channel" => input.channel = Some(v.into_owned()),
                "address" => input.address = v.into_owned(),
                "component" => input.components.push(v.into_owned()),
                _ => {}
            }
        }
        input
    }
}

/// What a subscription request did, in words.
enum Done {
    /// A confirmation mail is on its way.
    Asked,
    /// A confirmation mail went less than 10 minutes ago; none sent now.
    AskedRecently,
    /// A webhook: subscribed at once.
    Subscribed,
    AlreadySubscribed,
}

/// Validates and stores a subscription (an email one with its confirmation mail).
async fn subscribe(state: &AppState, input: SubscribeInput) -> Result<Done, ApiError> {
    let config = state.notifier.config().subscriptions;
    let refuse = |field: &'static str, message: String| ApiError::field(StatusCode::UNPROCESSABLE_ENTITY, field, message);
    let address = input.address.trim().to_string();
    let channel = match input.channel.as_deref() {
        Some("email") => SubscriberChannel::Email,
        Some("webhook") => SubscriberChannel::Webhook,
        None if address.starts_with("http://") || address.starts_with("https://") => SubscriberChannel::Webhook,
        None => SubscriberChannel::Email,
        Some(other) => return Err(refuse("channel", format!("{other:?} is not a way to subscribe: use email or webhook"))),
    };
    if !config.any() {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "this page does not take subscriptions"));
    }
    match channel {
        SubscriberChannel::Email if config.email.is_none() => {
            return Err(refuse("channel", "this page does not take email subscriptions".into()))
        }
        SubscriberChannel::Webhook if !config.webhook => {
            return Err(refuse("channel", "this page does not take webhook subscriptions".into()))
        }
        SubscriberChannel::Email if !valid_email(&address) => {
            return Err(refuse("address", "is not an email address like you@example.com".into()))
        }
        SubscriberChannel::Webhook => {
            if address.len() > 2000 {
                return Err(refuse("address", "is longer than 2000 characters".into()));
            }
            crate::server::notify::address::check_public(&address, state.notifier.allow_private())
                .await
                .map_err(|e| refuse("address", e.to_string()))?;
        }
        SubscriberChannel::Email => {}
    }
    let known = &state.hub.current().snapshot.components;
    let mut components = input.components;
    components.retain(|c| !c.is_empty());
    components.sort();
    components.dedup();
    if components.len() > MAX_COMPONENTS {
        return Err(refuse("components", format!("names more than {MAX_COMPONENTS} components")));
    }
    if let Some(unknown) = components.iter().find(|c| !known.iter().any(|k| &k.id == *c)) {
        return Err(refuse("components", format!("{unknown:?} is not a component of this page")));
    }
    let new = NewSubscriber { channel, address, components, token: crate::server::secret::random_token() };
    let done = state
        .engine
        .store()
        .subscribe(&new, crate::server::clock::now_ms(), crate::server::notify::ASK_AGAIN_MS)
        .await
        .map_err(ApiError::from)?;
    state.notifier.wake();
    Ok(match (channel, done) {
        (SubscriberChannel::Email, Subscribed::New(_)) | (_, Subscribed::Unconfirmed(_, true)) => Done::Asked,
        (_, Subscribed::Unconfirmed(_, false)) => Done::AskedRecently,
        (SubscriberChannel::Webhook, Subscribed::New(_)) => Done::Subscribed,
        (_, Subscribed::Confirmed(_)) => Done::AlreadySubscribed,
    })
}

impl Done {
    fn words(&self) -> (&'static str, &'static str) {
        match self {
            Done::Asked => {
                ("confirmation_sent", "We sent a confirmation link to that address. Follow it to start receiving notifications.")
            }
            Done::AskedRecently => (
                "confirmation_pending",
                "A confirmation link was sent to that address a few minutes ago. Follow it to start receiving notifications.",
            ),
            Done::Subscribed => ("subscribed", "Subscribed: this address will receive incident notifications."),
            Done::AlreadySubscribed => ("already_subscribed", "That address is already subscribed."),
        }
    }
}

/// Renders a subscription page with `status`.
async fn page(state: AppState, req: Request, status: StatusCode, outcome: SubscriptionOutcome) -> Response {
    let mut res = pages::render(state, req, PageData::Subscription(outcome)).await;
    *res.status_mut() = status;
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    res
}

/// `POST /subscribe` (the form).
pub async fn form(State(state): State<AppState>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let admitted = throttle().admit(state.settings.trusted_proxies.client_of(&parts), crate::server::clock::now_ms());
    let req = Request::from_parts(parts, Body::empty());
    if !admitted {
        let outcome = refused(format!("{}.", too_many().message), None);
        return page(state, req, StatusCode::TOO_MANY_REQUESTS, outcome).await;
    }
    let input = match axum::body::to_bytes(body, 16 * 1024).await {
        Ok(bytes) => SubscribeInput::from_form(&bytes),
        Err(_) => {
            let outcome = refused("The form was too large.".into(), Some(offer(&state)));
            return page(state, req, StatusCode::PAYLOAD_TOO_LARGE, outcome).await;
        }
    };
    match subscribe(&state, input).await {
        Ok(done) => {
            let outcome =
                SubscriptionOutcome { ok: true, title: "Subscribed".into(), message: done.words().1.into(), offer: None };
            let outcome = match done {
                Done::Asked | Done::AskedRecently => SubscriptionOutcome { title: "Check your inbox".into(), ..outcome },
                _ => outcome,
            };
            page(state, req, StatusCode::OK, outcome).await
        }
        Err(e) => {
            let status = e.status;
            let message = match e.field {
                Some(field) => format!("The {field} {}.", e.message.trim_end_matches('.')),
                None => format!("{}.", e.message.trim_end_matches('.')),
            };
            let outcome = refused(message, Some(offer(&state)).filter(|o| o.email || o.webhook));
            page(state, req, status, outcome).await
        }
    }
}

fn refused(message: String, offer: Option<SubscribeOffer>) -> SubscriptionOutcome {
    SubscriptionOutcome { ok: false, title: "Not subscribed".into(), message, offer }
}

/// `POST /api/v1/subscriptions`: `{"channel": "email"|"webhook", "address": "...", "components": [...]}`.
pub async fn api(State(state): State<AppState>, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    if !throttle().admit(state.settings.trusted_proxies.client_of(&parts), crate::server::clock::now_ms()) {
        return Err(too_many());
    }
    let body = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "the body is larger than 16 KiB"))?;
    let input: SubscribeInput = crate::server::http::api::json_body(&parts.headers, &body)?;
    let done = subscribe(&state, input).await?;
    let (status, message) = done.words();
    let code = if matches!(done, Done::Subscribed | Done::Asked) { StatusCode::ACCEPTED } else { StatusCode::OK };
    Ok((code, Json(serde_json::json!({ "status": status, "message": message }))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_requests_per_window_then_waits() {
        let t = Throttle::default();
        let (a, b) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        for _ in 0..PER_CLIENT {
            assert!(t.admit(a, 1_000));
        }
        assert!(!t.admit(a, 2_000), "over the limit");
        assert!(t.admit(b, 2_000), "another client is not held back");
        assert!(t.admit(a, 1_000 + WINDOW_MS), "a new window");
    }
}

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

fn bad_link() -> SubscriptionOutcome {
    refused("This link is not valid (any more): the subscription may have been removed.".into(), None)
}

/// A link's token: absent, empty or too long is no subscriber's.
fn token_of(q: TokenQuery) -> Option<String> {
    q.token.filter(|t| !t.is_empty() && t.len() <= 128)
}

/// Answers a link with what it did to its subscriber (`done`: title and words), or why not.
async fn answer_link(
    state: AppState,
    req: Request,
    found: Result<Option<Subscriber>, crate::server::store::StoreError>,
    done: impl FnOnce(&Subscriber) -> (&'static str, String),
) -> Response {
    match found {
        Ok(Some(s)) => {
            let (title, message) = done(&s);
            let outcome = SubscriptionOutcome { ok: true, title: title.into(), message, offer: None };
            page(state, req, StatusCode::OK, outcome).await
        }
        Ok(None) => page(state, req, StatusCode::NOT_FOUND, bad_link()).await,
        Err(e) => {
            let status = crate::server::http::error::store_status(&e);
            page(state, req, status, refused(crate::server::http::error::public_store_message(&e), None)).await
        }
    }
}

/// `GET /subscribe/confirm?token=...`.
pub async fn confirm(State(state): State<AppState>, Query(q): Query<TokenQuery>, req: Request) -> Response {
    let found = match token_of(q) {
        Some(token) => state.engine.store().confirm_subscriber(&token, crate::server::clock::now_ms()).await,
        None => Ok(None),
    };
    answer_link(state, req, found, |s| {
        (
            "Subscription confirmed",
            format!("{} will receive incident notifications. Every mail has a link to unsubscribe.", s.address),
        )
    })
    .await
}

/// `GET /unsubscribe?token=...`: one click, no account.
pub async fn unsubscribe(State(state): State<AppState>, Query(q): Query<TokenQuery>, req: Request) -> Response {
    let found = match token_of(q) {
        Some(token) => state.engine.store().unsubscribe(&token).await,
        None => Ok(None),
    };
    answer_link(state, req, found, |s| ("Unsubscribed", format!("{} will receive no more notifications.", s.address))).await
}

/// `POST /unsubscribe?token=...` (RFC 8058: the mail client posts `List-Unsubscribe=One-Click`).
pub async fn one_click(State(state): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    let Some(token) = token_of(q) else { return (StatusCode::NOT_FOUND, "no such subscription\n").into_response() };
    match state.engine.store().unsubscribe(&token).await {
        Ok(Some(_)) => (StatusCode::OK, "unsubscribed\n").into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such subscription\n").into_response(),
        Err(e) => (crate::server::http::error::store_status(&e), "try again later\n").into_response(),
    }
}
