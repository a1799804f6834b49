//! Bitbucket's error answers: `{"type": "error", "error": {"message", "detail", "fields"}}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answer, shaped like Bitbucket's.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    body: Value,
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "type": "error", "error": { "message": message.into() } }),
            headers: Vec::new(),
        }
    }

    /// Adds `error.detail` (a sentence, or an object such as the scopes of a 403).
    pub fn detail(mut self, detail: impl Into<Value>) -> Self {
        self.body["error"]["detail"] = detail.into();
        self
    }

    /// Adds a per-field message to `error.fields`, as a 400 for a bad body has.
    pub fn field(mut self, name: &str, problem: &str) -> Self {
        if !self.body["error"]["fields"].is_object() {
            self.body["error"]["fields"] = json!({});
        }
        self.body["error"]["fields"][name] = json!([problem]);
        self
    }

    pub fn header(mut self, name: header::HeaderName, value: &str) -> Self {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    pub fn not_found(what: impl std::fmt::Display) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, format!("{what} not found"))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// The 404 of a URL no API is served at (Bitbucket's own wording).
    pub fn no_api() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "Resource not found")
            .detail("There is no API hosted at this URL")
    }

    /// A request body that is not JSON.
    pub fn invalid_body(problem: impl std::fmt::Display) -> Self {
        ApiError::bad_request(format!(
            "Bad request: the body is not valid JSON ({problem})"
        ))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}
