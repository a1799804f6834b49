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

    /// The 501 of an operation of the client this server does not serve: says which, so that
    /// a test fails with a clear message rather than a 404 that reads like missing data.
    pub fn not_served(op: &bitbucket_cloud::Operation) -> Self {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "bitbucket-cloud-local does not serve `{}` ({} {}) yet",
                op.name, op.method, op.path
            ),
        )
        .detail(
            "The operation exists on Bitbucket Cloud, but this local server has no handler for \
             it: LocalBitbucket::served_operations() and the crate's README list those it \
             serves. Test this call against a mock server (wiremock) instead, or ask for it to \
             be served.",
        )
    }

    /// The 405 of a path whose operations take other methods; `allowed` go in `Allow`.
    pub fn method_not_allowed(allowed: &[axum::http::Method]) -> Self {
        let allowed: Vec<&str> = allowed.iter().map(|m| m.as_str()).collect();
        let allowed = allowed.join(", ");
        ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "Method not allowed")
            .detail(format!("This URL takes {allowed}"))
            .header(header::ALLOW, &allowed)
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
