//! The path of every request: the admission decision (own server, policy), credentials, the
//! attempt, rate-limit bookkeeping, retries (decided by the shared [`crate::retry`] rules),
//! and the decoding of the answer. The generated `send()`s and the page streams call
//! [`execute`].

use std::sync::PoisonError;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::completion::Completion;
use crate::error::snippet;
use crate::operations::Operation;
use crate::policy::Decision;
use crate::rate_limit::{self, RateLimit};
use crate::retry::Retryable;
use crate::{Client, Error};

/// A trailing `{path}` (a file's) keeps its slashes; see the function's docs.
pub(crate) use bitbucket_core::endpoint::encode_file_path;

/// How much of a failed answer's body is read: enough for any error Bitbucket sends, and a
/// bound on what a hostile server can make the client hold.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A successful answer, read whole.
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends `request` for `operation`, each attempt admitted and authenticated, retried as the
/// client's `RetryConfig` allows, in one `tracing` span. Returns the answer when it is 2xx.
pub(crate) async fn execute(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Response, Error> {
    let span = tracing::info_span!(
        "bitbucket.request",
        operation = operation.name,
        method = %operation.method,
        path = operation.path,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    attempts(client, request, operation, &span)
        .instrument(span.clone())
        .await
}

/// Why a request may not leave, if it may not: a URL off the client's API root (a cursor or
/// a link from the network) never gets credentials; then the policy.
fn admit(client: &Client, url: &reqwest::Url, operation: &Operation) -> Result<(), String> {
    let state = &client.inner;
    if !state.is_own(url) {
        return Err(format!(
            "its URL is not under the client's API root {} (credentials go nowhere else)",
            state.base
        ));
    }
    let below = url
        .path()
        .strip_prefix(state.base.path().trim_end_matches('/'))
        .unwrap_or_default();
    if !operation.matches_path(below) {
        return Err(format!(
            "its path {below} is not one of `{}` ({})",
            operation.name, operation.path
        ));
    }
    match state.policy.as_ref().map(|p| p.decide(operation)) {
        Some(Decision::Denied(reason)) => Err(reason),
        _ => Ok(()),
    }
}

async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    span: &tracing::Span,
) -> Result<Response, Error> {
    let state = &client.inner;
    let started = Instant::now();
    let mut retries = 0u32;
    loop {
        let mut attempt = request.try_clone().ok_or_else(|| Error::InvalidRequest {
            operation: operation.name,
            message: "the request body is a stream and cannot be sent".into(),
        })?;
        admit(client, attempt.url(), operation).map_err(|reason| Error::Denied {
            operation: operation.name,
            reason,
        })?;
        state
            .auth
            .apply(&mut attempt)
            .map_err(|message| Error::InvalidRequest {
                operation: operation.name,
                message,
            })?;
        span.record("attempt", retries.saturating_add(1));
        let method = attempt.method().clone();
        let (failure, server_asked, outcome) = match client.client.execute(attempt).await {
            Err(source) => (
                Retryable::Connection,
                None,
                Err(Error::Transport {
                    operation: operation.name,
                    source: source.without_url(),
                    gave_up: None,
                }),
            ),
            Ok(response) => {
                let status = response.status();
                span.record("status", status.as_u16());
                let headers = response.headers().clone();
                if let Some(limit) = RateLimit::from_headers(&headers) {
                    *state
                        .rate_limit
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(limit);
                }
                if status.is_success() {
                    let body = response.bytes().await.map_err(|source| Error::Transport {
                        operation: operation.name,
                        source: source.without_url(),
                        gave_up: None,
                    })?;
                    return Ok(Response {
                        status,
                        headers,
                        body,
                    });
                }
                let body = read_limited(response).await;
                let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                    Some(Retryable::RateLimited)
                } else if status.is_server_error() {
                    Some(Retryable::ServerError)
                } else {
                    None
                };
                match kind {
                    None => return Err(Error::api(operation, status, &body, None)),
                    Some(kind) => (kind, rate_limit::retry_after(&headers), Ok((status, body))),
                }
            }
        };
        match state
            .retry
            .next_delay(failure, &method, retries, server_asked, started.elapsed())
        {
            Ok(wait) => {
                tracing::debug!(?wait, "retrying");
                tokio::time::sleep(wait).await;
                retries = retries.saturating_add(1);
            }
            Err(gave_up) => {
                return Err(match outcome {
                    Ok((status, body)) => Error::api(operation, status, &body, Some(gave_up)),
                    Err(Error::Transport {
                        operation, source, ..
                    }) => Error::Transport {
                        operation,
                        source,
                        gave_up: Some(gave_up),
                    },
                    Err(other) => other,
                });
            }
        }
    }
}

/// At most [`ERROR_BODY_LIMIT`] bytes of an error answer; what cannot be read is left out.
async fn read_limited(mut response: reqwest::Response) -> Bytes {
    let mut body = BytesMut::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ERROR_BODY_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= ERROR_BODY_LIMIT {
            break;
        }
    }
    body.freeze()
}

// One decoder per kind of answer (`operations::Answer`), called by the generated `send()`s:
// a build whose features have no operation of some kind leaves its decoder unused.
#[allow(dead_code)]
impl Response {
    /// Decodes a JSON body.
    pub(crate) fn json<T: DeserializeOwned>(self, operation: &Operation) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            operation: operation.name,
            status: self.status,
            snippet: snippet(&self.body),
            source,
        })
    }

    /// For operations that answer without a body.
    pub(crate) fn empty(self, _operation: &Operation) -> Result<(), Error> {
        Ok(())
    }

    /// The body as sent.
    pub(crate) fn bytes(self, _operation: &Operation) -> Result<Bytes, Error> {
        Ok(self.body)
    }

    /// The body as text; bytes that are not UTF-8 become U+FFFD.
    pub(crate) fn text(self, _operation: &Operation) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(&self.body).into_owned())
    }

    /// A JSON result, or the 202 that says the work continues.
    pub(crate) fn completion<T: DeserializeOwned>(
        self,
        operation: &Operation,
    ) -> Result<Completion<T>, Error> {
        if self.status == StatusCode::ACCEPTED && self.body.iter().all(u8::is_ascii_whitespace) {
            let status_url = self
                .headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(Completion::Accepted { status_url });
        }
        self.json(operation).map(Completion::Done)
    }
}
