//! The admin actions as server functions: each is posted by an `ActionForm` (see
//! [`super`]), with JavaScript as a call that answers JSON (no reload), without as a plain
//! form post to the same address. On the server, the admin router's guard has already
//! checked the session, the CSRF token and the origin (`server::http::admin::guard`); the
//! bodies hand the arguments to the one implementation of each action
//! (`server::http::admin::actions`). Ok is the words to show; an error is the refusal,
//! naming the field (`title: is required`). The `csrf` argument carries the form's token to
//! the guard (an `ActionForm` posts the arguments only).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::server::http::admin::{actions, answer_script, guarded, secure};

#[server(prefix = "/admin", endpoint = "login")]
pub async fn login(secret: String) -> Result<String, ServerFnError> {
    let (state, g) = guarded("")?;
    answer_script(actions::login(&state, &g, &secret, secure()).await)
}

#[server(prefix = "/admin", endpoint = "logout")]
pub async fn logout(csrf: String) -> Result<String, ServerFnError> {
    let (state, g) = guarded(&csrf)?;
    answer_script(actions::logout(&state, &g).await)
}

#[server(prefix = "/admin", endpoint = "incidents")]
pub async fn open_incident(
    csrf: String,
    title: String,
    impact: String,
    status: String,
    message: String,
    #[server(default)] components: Vec<String>,
) -> Result<String, ServerFnError> {
    let (state, _) = guarded(&csrf)?;
    let input = crate::server::domain::operator::IncidentInput { title, impact, components, status: Some(status), message };
    answer_script(actions::open_incident(&state, input).await)
}

#[server(prefix = "/admin", endpoint = "updates")]
pub async fn update_incident(
    csrf: String,
    id: String,
    status: String,
    message: String,
    #[server(default)] impact: String,
) -> Result<String, ServerFnError> {
    let (state, _) = guarded(&csrf)?;
    let input = crate::server::domain::operator::UpdateInput { status, message, impact: Some(impact) };
    answer_script(actions::update_incident(&state, &id, input).await)
}

#[server(prefix = "/admin", endpoint = "maintenance")]
pub async fn schedule_maintenance(
    csrf: String,
    title: String,
    starts_at: String,
    ends_at: String,
    #[server(default)] components: Vec<String>,
) -> Result<String, ServerFnError> {
    let (state, _) = guarded(&csrf)?;
    let input = crate::server::domain::operator::MaintenanceInput { title, starts_at, ends_at, components };
    answer_script(actions::schedule_maintenance(&state, input).await)
}

#[server(prefix = "/admin", endpoint = "maintenance/cancel")]
pub async fn cancel_maintenance(csrf: String, id: String) -> Result<String, ServerFnError> {
    let (state, _) = guarded(&csrf)?;
    answer_script(actions::cancel_maintenance(&state, &id).await)
}
