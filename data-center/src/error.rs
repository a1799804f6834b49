//! One error type for every call: what failed, the server's own words when it answered, and
//! a hint that says what to do.

use std::fmt;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use bitbucket_core::transport::Failure;

use crate::operations::Operation;
use crate::retry::GaveUp;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The client's configuration is refused (a base URL, a policy rule, TLS).
    #[error("configuration: {0}")]
    Config(String),
    /// The request could not be built from the builder's parameters.
    #[error("`{operation}`: the request could not be built: {message}")]
    InvalidRequest {
        /// The operation's name.
        operation: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The client's [`crate::Policy`] (or the origin check) refused the request; nothing was
    /// sent.
    #[error("`{operation}` was not sent: {reason}")]
    Denied {
        /// The operation's name.
        operation: &'static str,
        /// Why.
        reason: String,
    },
    /// The server answered with an error status.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// The request did not get an answer (connection, TLS, timeout).
    #[error("`{operation}`: no answer ({source}){}", gave_up.map(|g| format!("; {g}")).unwrap_or_default())]
    Transport {
        /// The operation's name.
        operation: &'static str,
        /// Why the last attempt failed (without its URL).
        #[source]
        source: reqwest::Error,
        /// Why it was not repeated.
        gave_up: Option<GaveUp>,
    },
    /// The retry budget ran out while an attempt after the first was on its way; the attempt
    /// was abandoned. See [`crate::retry::RetryConfig::budget`].
    #[error(
        "`{operation}`: the retry budget of {:.1} s (RetryConfig::budget) ran out during attempt \
         {attempt}, which was abandoned; the request may or may not have been processed. Raise \
         the budget to let retries take longer",
        budget.as_secs_f64()
    )]
    BudgetExhausted {
        /// The operation's name.
        operation: &'static str,
        /// The budget that ran out.
        budget: std::time::Duration,
        /// The attempt that was abandoned (2 for the first retry).
        attempt: u32,
    },
    /// The answer is not what the operation returns.
    #[error("`{operation}`: the {status} answer could not be decoded ({source}): {snippet}")]
    Decode {
        /// The operation's name.
        operation: &'static str,
        /// Its status.
        status: StatusCode,
        /// The start of the body.
        snippet: String,
        /// The decoder's complaint.
        #[source]
        source: serde_json::Error,
    },
}

/// An error answer of the server: status, headers, the server's `errors`, and a hint. The
/// shared [`bitbucket_core::error::ApiError`] with Data Center's [`ErrorDetails`], which it
/// dereferences to (so `api.errors` is the server's list).
pub type ApiError = bitbucket_core::error::ApiError<ErrorDetails>;

/// Bitbucket Data Center's error body, as an [`ApiError`] holds it.
#[derive(Default)]
#[non_exhaustive]
pub struct ErrorDetails {
    /// Bitbucket's `errors` (empty when the body is not Bitbucket's error shape).
    pub errors: Vec<ErrorMessage>,
}

/// One entry of Bitbucket Data Center's error body:
/// `{"errors": [{"context": ..., "message": ..., "exceptionName": ...}]}`. Fields an exception
/// adds (`currentVersion`, `expectedVersion`, `pullRequest` for an out-of-date pull request)
/// are kept in `extra`.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ErrorMessage {
    /// The field the error is about, if one is.
    pub context: Option<String>,
    /// What went wrong, for people.
    pub message: Option<String>,
    /// The server's exception class (`com.atlassian.bitbucket.pull.PullRequestOutOfDateException`).
    pub exception_name: Option<String>,
    /// Everything else the entry holds.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl fmt::Debug for ErrorMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorMessage")
            .field("context", &self.context)
            .field("message", &self.message)
            .field("exception_name", &self.exception_name)
            // The server's JSON, with secret-named keys redacted like the generated types'.
            .field("extra", &crate::redact::Shown(&self.extra))
            .finish()
    }
}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetails")
            .field("errors", &self.errors)
            .finish()
    }
}

/// The error body as a whole (what [`ErrorDetails::errors`] is read from).
#[derive(Deserialize)]
struct ErrorBody {
    errors: Option<Vec<Option<ErrorMessage>>>,
}

impl bitbucket_core::error::Details for ErrorDetails {
    fn parse(body: &[u8]) -> Option<Self> {
        let errors = serde_json::from_slice::<ErrorBody>(body).ok()?.errors?;
        Some(ErrorDetails {
            errors: errors.into_iter().flatten().collect(),
        })
    }

    /// The entries' messages, joined with `; `.
    fn summary(&self) -> String {
        self.errors
            .iter()
            .filter_map(|e| e.message.as_deref())
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// What to do about `api`, by status: Data Center's hint.
fn hint(api: &ApiError) -> String {
    let hint = match api.status().as_u16() {
        400 => "the server refused the request's parameters or body: see its message",
        401 => {
            "the credentials are missing, wrong or expired (an HTTP access token is sent as \
             Auth::bearer)"
        }
        403 => {
            "the credentials lack the permission this operation needs (see \
             operations::by_name(..).permission); an HTTP access token cannot call ADMIN or \
             SYS_ADMIN operations"
        }
        404 => "the project, repository or object does not exist, or the credentials cannot see it",
        409 => {
            "the object changed or is in a state that forbids this (for a pull request, send \
             its current `version`)"
        }
        429 => "rate limited: the retry settings (RetryConfig) decide whether to wait and repeat",
        500..=599 => "the server failed; it may succeed later",
        _ => "see the server's message",
    };
    match api.gave_up() {
        // Why a 429 or 5xx was not repeated.
        Some(gave_up) => format!("{hint}; {gave_up}"),
        None => hint.to_string(),
    }
}

impl Error {
    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status()),
            Error::Decode { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation that failed, when the error comes from one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(api) => Some(api.operation()),
            Error::InvalidRequest { operation, .. }
            | Error::Denied { operation, .. }
            | Error::Transport { operation, .. }
            | Error::BudgetExhausted { operation, .. }
            | Error::Decode { operation, .. } => Some(operation),
            Error::Config(_) => None,
        }
    }

    /// The server's error answer, when the error is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(api) => Some(api),
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

    /// No answer, or an answer whose body stopped arriving: `source` without its URL, whose
    /// query may hold a search or a cursor.
    pub(crate) fn transport(operation: &Operation, source: reqwest::Error) -> Self {
        Error::Transport {
            operation: operation.name,
            source: source.without_url(),
            gave_up: None,
        }
    }

    /// The error of an error answer the transport kept, with Data Center's hint.
    pub(crate) fn answered(failure: Failure<Operation>) -> Self {
        Error::Api(Box::new(ApiError::new(failure, hint)))
    }
}

pub(crate) use bitbucket_core::redact::snippet;
