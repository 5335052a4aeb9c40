//! The one mapping from errors to HTTP: every JSON refusal is a 4xx/5xx with
//! `{"error": "...", "field": "..."}`, and every operator action's error has one status,
//! whether it came through the JSON API or the admin area. A database that cannot be
//! reached (PostgreSQL down or restarting) is `503 Service Unavailable` with a
//! `Retry-After`: nothing was stored, and the same request may be sent again.

use crate::server::domain::engine::EngineError;
use crate::server::domain::operator::ActionError;
use crate::server::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The HTTP status of a storage error: 503 while the database is unreachable, else 500.
pub fn store_status(e: &StoreError) -> StatusCode {
    if e.is_unavailable() {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

fn engine_status(e: &EngineError) -> StatusCode {
    match e {
        EngineError::Persist(e) => store_status(e),
        EngineError::Deposed { .. } => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The HTTP status of an operator action's error.
pub fn action_status(e: &ActionError) -> StatusCode {
    match e {
        ActionError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ActionError::NotFound(_) => StatusCode::NOT_FOUND,
        ActionError::Conflict(_) => StatusCode::CONFLICT,
        ActionError::Store(e) => store_status(e),
        ActionError::Engine(e) => engine_status(e),
    }
}

/// What a 503 says to wait before trying again, in seconds.
const RETRY_AFTER_S: &str = "5";

/// A refused JSON request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub field: Option<&'static str>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), field: None }
    }

    pub fn field(status: StatusCode, field: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, message: message.into(), field: Some(field) }
    }
}

impl From<ActionError> for ApiError {
    fn from(e: ActionError) -> Self {
        let status = action_status(&e);
        match e {
            ActionError::Invalid(f) => ApiError::field(status, f.field, f.to_string()),
            ActionError::Store(e) => e.into(),
            ActionError::Engine(e) => e.into(),
            other => ApiError::new(status, other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!("{e}");
        ApiError::new(store_status(&e), public_store_message(&e))
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        tracing::error!("{e}");
        match &e {
            EngineError::Persist(store) => ApiError::new(engine_status(&e), public_store_message(store)),
            EngineError::Deposed { .. } => {
                ApiError::new(engine_status(&e), "this instance stopped leading; nothing was published; try again shortly")
            }
        }
    }
}

/// What a client is told of a storage error: whether to try again, never the database's own
/// words (paths, SQL, driver errors), which go to the log.
pub fn public_store_message(e: &StoreError) -> String {
    if e.is_unavailable() {
        "the database is unavailable, nothing was stored; try again shortly".into()
    } else {
        "the database failed; nothing was stored (the server log has the cause)".into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(f) = self.field {
            body["field"] = json!(f);
        }
        let mut res = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"statuscast\""));
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::domain::operator::FieldError;

    #[test]
    fn each_action_error_has_one_status() {
        let invalid = ActionError::Invalid(FieldError { field: "title", message: "is required".into() });
        let api = ApiError::from(invalid);
        assert_eq!(
            (api.status, api.field, api.message.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("title"), "title: is required")
        );
        assert_eq!(ApiError::from(ActionError::NotFound("no incident 9".into())).status, StatusCode::NOT_FOUND);
        assert_eq!(ApiError::from(ActionError::Conflict("resolved".into())).status, StatusCode::CONFLICT);
        let failed = ApiError::from(ActionError::Store(StoreError::Corrupt("file is not a database: /srv/x.db".into())));
        assert_eq!(failed.status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!failed.message.contains("/srv/x.db"), "no internals: {}", failed.message);
    }
}
