//! The error both products return ([`Error`]), and its error answer ([`ApiError`]): the
//! status, headers, the body's beginning or the product's decoded error body, the operation,
//! the attempts, the rate-limit state and a hint. What differs by product is its error body
//! and its hints: the product's [`Details`] type reads the one, and the product's transport
//! gives the other when it makes the error ([`ApiError::new`]).
//!
//! Each product names them with its details (`bitbucket_cloud::Error`,
//! `bitbucket_cloud::ApiError`, `bitbucket_data_center::Error`,
//! `bitbucket_data_center::error::ApiError`), and an `ApiError` dereferences to them, so that
//! the product's own accessors (Cloud's `missing_scopes()`, Data Center's `errors`) are the
//! error's. A variant a product has no use for (Data Center follows no redirect itself) is
//! one it never returns.

use std::fmt;
use std::ops::Deref;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::audit::Audited;
use crate::rate_limit::RateLimit;
use crate::redact::snippet;
use crate::retry::GaveUp;
use crate::transport::Failure;

/// Everything a call can fail with. `D` is the product's error body ([`Details`]).
///
/// The server's own answers are [`Error::Api`], which keeps the status, headers, the error
/// body, the operation and a hint that says what to do; `Display` puts it all in one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error<D: Details> {
    /// The server answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError<D>>),

    /// The client's policy (or its origin and path checks) refused the call; nothing was sent.
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
    #[error("{operation}: {}{}", transport_summary(*.timed_out), gave_up_suffix(gave_up.as_ref()))]
    Transport {
        /// The operation being sent.
        operation: &'static str,
        /// Whether the time limit (the client builder's `timeout`) passed.
        timed_out: bool,
        /// The underlying failure (without its URL, whose query may hold a cursor).
        #[source]
        source: reqwest::Error,
        /// Why it was not repeated, when the retry rules said so.
        gave_up: Option<GaveUp>,
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

    /// A page's `next` link, or a cursor given to `resume`, points to another origin than the
    /// client's base URL; nothing was sent there, so no credentials left the client's origin.
    #[error(
        "{operation}: refusing to request a page from {origin}, which is not the client's origin \
         {expected}; credentials go only to the base URL's origin: check the client's base URL \
         (ClientBuilder::base_url), or that a resumed cursor comes from a client with the same one"
    )]
    ForeignNextLink {
        /// The paginated operation.
        operation: &'static str,
        /// The origin of the refused link.
        origin: String,
        /// The client's origin.
        expected: String,
    },

    /// A list's `next` links lead back to a page this stream already requested (a link to
    /// itself, or a cycle): the server's pagination is broken, and following it would send
    /// requests forever. The pages before were yielded; nothing more is requested.
    #[error(
        "{operation}: the list's `next` link leads back to a page this stream already requested \
         (after {pages} {}); stopped instead of requesting the same pages forever. The pages \
         before it were yielded; bound such lists with max_pages or max_items",
        if *pages == 1 { "page" } else { "pages" }
    )]
    PaginationLoop {
        /// The paginated operation.
        operation: &'static str,
        /// The pages received before the repeated link was seen.
        pages: u64,
    },

    /// The retry budget ran out while an attempt after the first was on its way; the attempt
    /// was abandoned. See [`crate::retry::RetryConfig::budget`].
    #[error(
        "{operation}: the retry budget of {:.1} s (RetryConfig::budget) ran out during attempt \
         {attempt}, which was abandoned; the request may or may not have been processed. Raise \
         the budget to let retries take longer",
        budget.as_secs_f64()
    )]
    BudgetExhausted {
        /// The operation being sent.
        operation: &'static str,
        /// The budget that ran out.
        budget: Duration,
        /// The attempt that was abandoned (2 for the first retry).
        attempt: u32,
    },

    /// The server answered with a redirect the client does not follow: one the operation does
    /// not declare, one that leads where that kind of redirect may not go, or too many in a
    /// row. Nothing was requested at `location`. (Cloud's; see its `operations::Redirect`.)
    #[error("{operation}: {status} redirect to {location} not followed: {reason}")]
    Redirect {
        /// The operation whose answer (or whose redirect's answer) this is.
        operation: &'static str,
        /// The status of the redirect.
        status: StatusCode,
        /// Where it pointed, without its query (which may hold a signature) and user
        /// information; `(none)` when the answer had no usable `Location`.
        location: String,
        /// Why it was not followed, and what to do.
        reason: String,
    },

    /// A JSON answer is larger than the client's limit (Cloud's `ClientBuilder::max_json_body`);
    /// reading stopped at the limit, so no more than that was held.
    #[error(
        "{operation}: the JSON answer is larger than the limit of {limit} bytes, and was not \
         read further. hint: ask for less (`pagelen`, `fields`, a narrower `q`), or raise the \
         limit with ClientBuilder::max_json_body"
    )]
    TooLarge {
        /// The operation whose answer it is.
        operation: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },

    /// The client is misconfigured (base URL, credentials in the environment, TLS, a policy
    /// rule).
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

/// `; ` and why a failure was not repeated, when the retry rules said so.
fn gave_up_suffix(gave_up: Option<&GaveUp>) -> String {
    gave_up.map(|g| format!("; {g}")).unwrap_or_default()
}

impl<D: Details> Error<D> {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status),
            Error::Decode { status, .. } | Error::Redirect { status, .. } => Some(*status),
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
            | Error::ForeignNextLink { operation, .. }
            | Error::PaginationLoop { operation, .. }
            | Error::BudgetExhausted { operation, .. }
            | Error::Redirect { operation, .. }
            | Error::TooLarge { operation, .. } => Some(operation),
            Error::Config(_) => None,
        }
    }

    /// The server's error answer, when the error is one.
    pub fn api(&self) -> Option<&ApiError<D>> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// No answer to a request of `operation`, or an answer whose body stopped arriving:
    /// `source`, without its URL (whose query may hold a search or a cursor).
    #[doc(hidden)]
    pub fn transport<O: Audited>(operation: &O, source: reqwest::Error) -> Self {
        Error::Transport {
            operation: operation.name(),
            timed_out: source.is_timeout(),
            source: source.without_url(),
            gave_up: None,
        }
    }

    /// A request of `operation` that the generated builder could not make: `error` is
    /// progenitor's.
    #[doc(hidden)]
    pub fn invalid_request<O: Audited>(operation: &O, error: progenitor_client::Error) -> Self {
        let message = match error {
            progenitor_client::Error::InvalidRequest(message) => message,
            other => other.to_string(),
        };
        Error::InvalidRequest {
            operation: operation.name(),
            message,
        }
    }
}

/// A product's error body, read from an error answer.
///
/// Its `Debug` is the error's: it must print no secret (the products print the server's JSON
/// through `redact::Shown`, which hides secret-named keys).
pub trait Details: fmt::Debug + Default + Send + Sync + 'static {
    /// The details of an error answer with this body; `None` when the body is not the
    /// product's error shape (text, HTML, empty), whose beginning the error keeps instead
    /// ([`ApiError::raw_body`]) while its details are the default.
    fn parse(body: &[u8]) -> Option<Self>;

    /// The server's own words, for the error's `Display` ("Branch not found (source)"); empty
    /// when it said nothing.
    fn summary(&self) -> String;
}

/// An answer with an error status: what the server said, and a hint that says what to do.
/// `Display` puts it all in one line, ready for a log:
///
/// ```text
/// get_project: 403 Forbidden: Your credentials lack one or more required privilege scopes.
/// hint: the credentials lack the scope `project`: create a token with it
/// ```
///
/// It dereferences to the product's [`Details`] (its decoded error body).
pub struct ApiError<D> {
    operation: &'static str,
    status: StatusCode,
    headers: HeaderMap,
    details: D,
    snippet: String,
    hint: String,
    rate_limit: Option<RateLimit>,
    retry_after: Option<Duration>,
    attempts: u32,
    gave_up: Option<GaveUp>,
}

impl<D: Details> ApiError<D> {
    /// The error of `failure`: its body read as `D`, and the hint `hint` gives for it (the
    /// product's: it knows the credentials and the operation's needs).
    pub fn new<O: Audited>(failure: Failure<O>, hint: impl FnOnce(&ApiError<D>) -> String) -> Self {
        let details = D::parse(&failure.body);
        let snippet = match details {
            Some(_) => String::new(),
            None => snippet(&failure.body),
        };
        let mut error = ApiError {
            operation: failure.operation.name(),
            status: failure.status,
            headers: failure.headers,
            details: details.unwrap_or_default(),
            snippet,
            hint: String::new(),
            rate_limit: failure.rate_limit,
            retry_after: failure.retry_after,
            attempts: failure.attempts,
            gave_up: failure.gave_up,
        };
        error.hint = hint(&error);
        error
    }
}

impl<D> ApiError<D> {
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

    /// The product's decoded error body (also reached through `Deref`).
    pub fn details(&self) -> &D {
        &self.details
    }

    /// The beginning of the body when it is not the product's JSON error (text, HTML,
    /// empty); empty when it is.
    pub fn raw_body(&self) -> &str {
        &self.snippet
    }

    /// What to do about it, in a sentence or two; empty when there is nothing to add.
    pub fn hint(&self) -> &str {
        &self.hint
    }

    /// How long the server asked to wait (`Retry-After`), on a 429 or 503.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// The rate-limit headers of this answer, when it had any.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }

    /// How many times the request was sent (retries included) before this answer was kept.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// Why a status that can be retried (429, 5xx) was not retried (again).
    pub fn gave_up(&self) -> Option<GaveUp> {
        self.gave_up
    }
}

impl<D> Deref for ApiError<D> {
    type Target = D;

    fn deref(&self) -> &D {
        &self.details
    }
}

impl<D: fmt::Debug> fmt::Debug for ApiError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // No headers (they may carry cookies) and no raw body beyond its quoted beginning.
        f.debug_struct("ApiError")
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("details", &self.details)
            .field("hint", &self.hint)
            .field("retry_after", &self.retry_after)
            .field("rate_limit", &self.rate_limit)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

impl<D: Details> fmt::Display for ApiError<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.status)?;
        if self.attempts > 1 {
            write!(f, " (after {} attempts)", self.attempts)?;
        }
        let summary = self.details.summary();
        let said = if summary.is_empty() {
            &self.snippet
        } else {
            &summary
        };
        if !said.is_empty() {
            write!(f, ": {said}")?;
        }
        if !self.hint.is_empty() {
            let separator = if said.ends_with('.') { " " } else { ". " };
            write!(f, "{separator}hint: {}", self.hint)?;
        }
        Ok(())
    }
}

impl<D: Details> std::error::Error for ApiError<D> {}
