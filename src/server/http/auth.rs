//! Who may call what. The JSON API's writes take an [`Operator`]: an axum extractor that
//! exists only for a request with the operator's Bearer token, so a handler that takes one
//! cannot run without it. (The admin area's forms use sessions: see [`super::admin`].)

use super::error::ApiError;
use crate::server::secret::same_secret;
use crate::server::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::trim)
}

/// Proof that the request carries the operator token.
#[derive(Clone, Copy, Debug)]
pub struct Operator;

impl Operator {
    pub fn check(state: &AppState, headers: &HeaderMap) -> Result<Operator, ApiError> {
        let Some(token) = state.settings.admin_token.as_deref() else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "the operator API is disabled: start statuscast with STATUSCAST_ADMIN_TOKEN (or --admin-token) set",
            ));
        };
        match bearer_token(headers) {
            None => Err(ApiError::new(StatusCode::UNAUTHORIZED, "missing Authorization: Bearer <token>")),
            Some(given) if same_secret(given.as_bytes(), token.as_bytes()) => Ok(Operator),
            Some(_) => Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid token")),
        }
    }
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Operator::check(state, &parts.headers)
    }
}
