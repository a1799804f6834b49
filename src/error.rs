//! [`Error`]: what went wrong with a call, and what to do about it.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::operations::Operation;
use crate::rate_limit::RateLimit;
use crate::types;

/// Everything a call can fail with.
///
/// Bitbucket's own answers are [`Error::Api`], which keeps the status, headers, Bitbucket's
/// error body and a hint that says what to do:
///
/// ```no_run
/// # async fn run(client: bitbucket_cloud::Client) {
/// match client.repo("ws", "app").get_pull_request().pull_request_id(7).send().await {
///     Ok(pr) => println!("{:?}", pr.title),
///     Err(bitbucket_cloud::Error::Api(e)) if e.status() == 404 => println!("no such PR"),
///     Err(e) => eprintln!("{e}"), // e.g. "get_pull_request: 403 Forbidden: ... hint: ..."
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bitbucket answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The client's policy refused the call; nothing was sent.
    #[error("{operation}: denied by the client's policy: {reason}")]
    Denied {
        /// The operation that was refused.
        operation: &'static str,
        /// Why, in words.
        reason: String,
    },

    /// The request could not be built: a required parameter is missing or a value does not
    /// convert.
    #[error("{operation}: invalid request: {message}")]
    InvalidRequest {
        /// The operation being built.
        operation: &'static str,
        /// What is wrong, e.g. "repo_slug was not initialized".
        message: String,
    },

    /// No answer came back: the connection failed or the time limit passed.
    #[error("{operation}: {}", transport_summary(*.timed_out))]
    Transport {
        /// The operation being sent.
        operation: &'static str,
        /// Whether the time limit ([`crate::ClientBuilder::timeout`]) passed.
        timed_out: bool,
        /// The underlying failure.
        #[source]
        source: reqwest::Error,
    },

    /// A successful answer whose body is not what the operation returns.
    #[error(
        "{operation}: the {status} response body does not decode ({source}); it starts with: {snippet}"
    )]
    Decode {
        /// The operation whose answer this is.
        operation: &'static str,
        /// The status of the answer.
        status: StatusCode,
        /// The beginning of the body.
        snippet: String,
        /// The decoding failure.
        #[source]
        source: serde_json::Error,
    },

    /// Credentials could not be obtained or refreshed (for example the OAuth token endpoint
    /// refused the refresh token).
    #[error("{operation}: authentication failed: {message}")]
    Auth {
        /// The operation that needed the credentials.
        operation: &'static str,
        /// What failed; never contains a secret.
        message: String,
    },

    /// A page's `next` link points to another origin than the client's base URL; it was not
    /// followed, so no credentials were sent there.
    #[error(
        "{operation}: refusing to follow a `next` link to {origin}, which is not the client's origin {expected}"
    )]
    ForeignNextLink {
        /// The paginated operation.
        operation: &'static str,
        /// The origin of the refused link.
        origin: String,
        /// The client's origin.
        expected: String,
    },

    /// The client is misconfigured (base URL, credentials in the environment, TLS).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn transport_summary(timed_out: bool) -> &'static str {
    if timed_out {
        "no answer within the time limit (ClientBuilder::timeout); the request may or may not have been processed"
    } else {
        "could not reach Bitbucket (connection, DNS or TLS failure)"
    }
}

impl Error {
    /// The HTTP status, when Bitbucket answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation that failed, when the error comes from one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => Some(e.operation),
            Error::Denied { operation, .. }
            | Error::InvalidRequest { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Auth { operation, .. }
            | Error::ForeignNextLink { operation, .. } => Some(operation),
            Error::Config(_) => None,
        }
    }

    /// Bitbucket's answer, when the error is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn invalid_request(operation: &Operation, error: progenitor_client::Error) -> Self {
        let message = match error {
            progenitor_client::Error::InvalidRequest(message) => message,
            other => other.to_string(),
        };
        Error::InvalidRequest {
            operation: operation.name,
            message,
        }
    }

    pub(crate) fn transport(operation: &Operation, source: reqwest::Error) -> Self {
        // reqwest errors may carry the URL, whose query could hold a cursor; drop it.
        let source = source.without_url();
        Error::Transport {
            operation: operation.name,
            timed_out: source.is_timeout(),
            source,
        }
    }
}

/// Bitbucket's answer to a failed call: status, headers, error body, and a hint.
pub struct ApiError {
    pub(crate) operation: &'static str,
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Option<types::Error>,
    pub(crate) snippet: String,
    pub(crate) hint: String,
    pub(crate) rate_limit: Option<RateLimit>,
    pub(crate) retry_after: Option<Duration>,
}

impl ApiError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The operation that failed (`merge_pull_request`).
    pub fn operation(&self) -> &'static str {
        self.operation
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Bitbucket's error body, when the answer carried one that decodes.
    pub fn body(&self) -> Option<&types::Error> {
        self.body.as_ref()
    }

    /// `error.message` of Bitbucket's error body.
    pub fn message(&self) -> Option<&str> {
        self.inner()?.message.as_deref()
    }

    /// `error.detail`: a sentence, or an object (a 403 names the scopes it lacked there).
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.inner()?.detail.as_ref()
    }

    /// `error.fields`: per-field messages of a rejected request body.
    pub fn fields(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.inner()?.fields.as_ref()
    }

    /// The beginning of the body when it is not Bitbucket's JSON error (text, HTML, empty).
    pub fn raw_body(&self) -> &str {
        &self.snippet
    }

    /// What to do about it, in a sentence or two.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// The scopes a 403 says the credentials lack (`detail.required` not in `detail.granted`).
    pub fn missing_scopes(&self) -> Vec<String> {
        missing_scopes(self.detail())
    }

    /// How long the server asked to wait (`Retry-After`), on a 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The rate-limit headers of this answer, when it had any.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    fn inner(&self) -> Option<&types::ErrorError> {
        self.body.as_ref()?.error.as_ref()
    }
}

fn missing_scopes(detail: Option<&serde_json::Value>) -> Vec<String> {
    let Some(detail) = detail else {
        return Vec::new();
    };
    let list = |key: &str| -> Vec<String> {
        detail[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect()
    };
    let granted = list("granted");
    list("required")
        .into_iter()
        .filter(|s| !granted.contains(s))
        .collect()
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("message", &self.message())
            .field("detail", &self.detail())
            .field("fields", &self.fields())
            .field("hint", &self.hint)
            .field("retry_after", &self.retry_after)
            .field("rate_limit", &self.rate_limit)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.status)?;
        match (self.message(), self.detail()) {
            (Some(message), Some(serde_json::Value::String(detail))) => {
                write!(f, ": {message} ({detail})")?
            }
            (Some(message), _) => write!(f, ": {message}")?,
            (None, _) if !self.snippet.is_empty() => write!(f, ": {}", self.snippet)?,
            (None, _) => {}
        }
        if let Some(fields) = self.fields() {
            for (name, problem) in fields {
                match problem {
                    serde_json::Value::String(s) => write!(f, "; {name}: {s}")?,
                    other => write!(f, "; {name}: {other}")?,
                }
            }
        }
        if !self.hint.is_empty() {
            write!(f, ". hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// What the transport knows of a failed answer, turned into an [`ApiError`] with a hint.
pub(crate) struct Failure<'a> {
    pub operation: &'a Operation,
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: &'a [u8],
    pub credentials: &'a crate::Auth,
    pub rate_limit: Option<RateLimit>,
    pub retry_after: Option<Duration>,
}

/// How much of a body that is not Bitbucket's JSON error is kept.
const SNIPPET_CHARS: usize = 200;

pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

impl Failure<'_> {
    pub(crate) fn into_error(self) -> Error {
        let body: Option<types::Error> = serde_json::from_slice::<types::Error>(self.body)
            .ok()
            .filter(|e| e.error.is_some());
        let snippet = if body.is_some() {
            String::new()
        } else {
            snippet(self.body)
        };
        let detail = body
            .as_ref()
            .and_then(|b| b.error.as_ref())
            .and_then(|e| e.detail.as_ref());
        let hint = self.hint(detail);
        Error::Api(Box::new(ApiError {
            operation: self.operation.name,
            status: self.status,
            headers: self.headers,
            body,
            snippet,
            hint,
            rate_limit: self.rate_limit,
            retry_after: self.retry_after,
        }))
    }

    fn hint(&self, detail: Option<&serde_json::Value>) -> String {
        let op = self.operation;
        match self.status.as_u16() {
            401 => format!(
                "Bitbucket did not accept {}: {}",
                self.credentials.describe(),
                self.credentials.unauthorized_hint()
            ),
            403 => {
                let missing = missing_scopes(detail);
                if !missing.is_empty() {
                    format!(
                        "the credentials lack the scope{} {}; create a token with {} (or grant the \
                         OAuth consumer that permission)",
                        if missing.len() == 1 { "" } else { "s" },
                        quoted(&missing),
                        if missing.len() == 1 { "it" } else { "them" }
                    )
                } else {
                    let classic: Vec<String> = op.scopes.iter().map(|s| s.to_string()).collect();
                    let granular: Vec<String> =
                        op.granular_scopes.iter().map(|s| s.to_string()).collect();
                    format!(
                        "{} needs {} (OAuth and access tokens) or {} (API tokens), and the account \
                         must have permission on the resource",
                        op.name,
                        if classic.is_empty() {
                            "no particular scope".to_string()
                        } else {
                            quoted(&classic)
                        },
                        if granular.is_empty() {
                            "no particular scope".to_string()
                        } else {
                            quoted(&granular)
                        },
                    )
                }
            }
            404 => {
                "Bitbucket answers 404 both for what does not exist and for private resources the \
                    credentials cannot see: check the workspace, repository and id, and that the \
                    credentials have access"
                    .to_string()
            }
            429 => {
                let wait = match self.retry_after {
                    Some(wait) => {
                        format!("the server asked to wait {} s", wait.as_secs_f32().ceil())
                    }
                    None => "the server gave no Retry-After".to_string(),
                };
                let state = match &self.rate_limit {
                    Some(rl) => format!("; rate limit: {rl}"),
                    None => String::new(),
                };
                format!(
                    "rate limited ({wait}{state}); the retry budget (RetryConfig::budget) ran out: \
                     slow down, use larger pages (pagelen), or raise the budget"
                )
            }
            500..=599 => {
                let retried = if op.method == reqwest::Method::POST {
                    "POST requests are never retried automatically (a merge or pipeline run must not \
                     happen twice): check whether it took effect before repeating it"
                } else {
                    "retries (RetryConfig) did not get a success; try again later"
                };
                format!("Bitbucket had a server-side problem; {retried}")
            }
            _ => String::new(),
        }
    }
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
