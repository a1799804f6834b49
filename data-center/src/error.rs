//! One error type for every call: what failed, the server's own words when it answered, and
//! a hint that says what to do.

use std::fmt;

use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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

/// An error answer of the server.
#[derive(Debug)]
#[non_exhaustive]
pub struct ApiError {
    /// The operation's name.
    pub operation: &'static str,
    /// The status.
    pub status: StatusCode,
    /// Bitbucket's `errors` (empty when the body is not Bitbucket's error shape).
    pub errors: Vec<ErrorMessage>,
    /// The start of the body, when it is not Bitbucket's error shape.
    pub snippet: Option<String>,
    /// Why the request was not repeated, for a status that can be retried.
    pub gave_up: Option<GaveUp>,
}

/// One entry of Bitbucket Data Center's error body:
/// `{"errors": [{"context": ..., "message": ..., "exceptionName": ...}]}`. Fields an exception
/// adds (`currentVersion`, `expectedVersion`, `pullRequest` for an out-of-date pull request)
/// are kept in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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

/// The error body as a whole (what [`ApiError::errors`] is read from).
#[derive(Deserialize)]
struct ErrorBody {
    errors: Option<Vec<Option<ErrorMessage>>>,
}

impl ApiError {
    /// What to do about it, by status.
    pub fn hint(&self) -> &'static str {
        match self.status.as_u16() {
            400 => "the server refused the request's parameters or body: see its message",
            401 => {
                "the credentials are missing, wrong or expired (an HTTP access token is sent as Auth::bearer)"
            }
            403 => {
                "the credentials lack the permission this operation needs (see operations::by_name(..).permission); an HTTP access token cannot call ADMIN or SYS_ADMIN operations"
            }
            404 => {
                "the project, repository or object does not exist, or the credentials cannot see it"
            }
            409 => {
                "the object changed or is in a state that forbids this (for a pull request, send its current `version`)"
            }
            429 => {
                "rate limited: the retry settings (RetryConfig) decide whether to wait and repeat"
            }
            500..=599 => "the server failed; it may succeed later",
            _ => "see the server's message",
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` failed with {}", self.operation, self.status)?;
        let messages: Vec<&str> = self
            .errors
            .iter()
            .filter_map(|e| e.message.as_deref())
            .collect();
        if !messages.is_empty() {
            write!(f, ": {}", messages.join("; "))?;
        } else if let Some(snippet) = self.snippet.as_deref().filter(|s| !s.is_empty()) {
            write!(f, ": {snippet}")?;
        }
        write!(f, " (hint: {})", self.hint())?;
        if let Some(gave_up) = &self.gave_up {
            write!(f, "; {gave_up}")?;
        }
        Ok(())
    }
}

impl Error {
    /// The status of an error answer.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(api) => Some(api.status),
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

    pub(crate) fn api(
        operation: &Operation,
        status: StatusCode,
        body: &[u8],
        gave_up: Option<GaveUp>,
    ) -> Self {
        let errors: Option<Vec<ErrorMessage>> = serde_json::from_slice::<ErrorBody>(body)
            .ok()
            .and_then(|b| b.errors)
            .map(|list| list.into_iter().flatten().collect());
        let snippet = errors.is_none().then(|| snippet(body));
        Error::Api(Box::new(ApiError {
            operation: operation.name,
            status,
            errors: errors.unwrap_or_default(),
            snippet,
            gave_up,
        }))
    }
}

pub(crate) use bitbucket_core::redact::snippet;
