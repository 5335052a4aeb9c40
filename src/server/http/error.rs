//! The one mapping from errors to HTTP: every JSON refusal is a 4xx/5xx with
//! `{"error": "...", "field": "..."}`, and every operator action's error has one status,
//! whether it came through the JSON API or the admin area.

use crate::server::domain::engine::EngineError;
use crate::server::domain::operator::ActionError;
use crate::server::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The HTTP status of an operator action's error.
pub fn action_status(e: &ActionError) -> StatusCode {
    match e {
        ActionError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        ActionError::NotFound(_) => StatusCode::NOT_FOUND,
        ActionError::Conflict(_) => StatusCode::CONFLICT,
        ActionError::Store(_) | ActionError::Engine(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

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
            other => ApiError::new(status, other.to_string()),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        tracing::error!("{e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        tracing::error!("{e}");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
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
        let failed = ActionError::Store(StoreError::Corrupt("x".into()));
        assert_eq!(ApiError::from(failed).status, StatusCode::INTERNAL_SERVER_ERROR);
    }
}
