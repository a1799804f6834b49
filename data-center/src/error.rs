//! One error type for every call (the one `bitbucket-cloud` returns too, from
//! `bitbucket-core`): what failed, the server's own words when it answered, and a hint that
//! says what to do. What is Data Center's: its error body ([`ErrorDetails`]) and its hints.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Why a call failed: the shared [`bitbucket_core::error::Error`] with Data Center's
/// [`ErrorDetails`] (the same type as `bitbucket_cloud::Error`, with Cloud's details). Its
/// variants and methods are documented there; Data Center never returns `Auth`,
/// `ForeignNextLink`, `PaginationLoop`, `Redirect` nor `TooLarge`.
pub type Error = bitbucket_core::error::Error<ErrorDetails>;

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
pub(crate) fn hint(api: &ApiError) -> String {
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
