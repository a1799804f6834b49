//! The error answer both products return ([`ApiError`]): the status, headers, the body's
//! beginning or the product's decoded error body, the operation, the attempts, the
//! rate-limit state and a hint. What differs by product is its error body and its hints: the
//! product's [`Details`] type reads the one, and the product's transport gives the other when
//! it makes the error ([`ApiError::new`]).
//!
//! Each product names it with its details (`bitbucket_cloud::ApiError`,
//! `bitbucket_data_center::error::ApiError`), and an `ApiError` dereferences to them, so that
//! the product's own accessors (Cloud's `missing_scopes()`, Data Center's `errors`) are the
//! error's.

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
