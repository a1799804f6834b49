//! The path of every request: the admission decision (own server, policy), credentials, the
//! attempt, rate-limit bookkeeping, retries (decided by the shared [`crate::retry`] rules),
//! and the decoding of the answer. The generated `send()`s and the page streams call
//! [`execute`]; the `send_streaming()`s of raw files, archives and diffs [`execute_streaming`].

use std::sync::PoisonError;
use std::time::Instant;

use bitbucket_core::body::{ERROR_BODY_LIMIT, read_prefix};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::audit::Outcome;
use crate::completion::Completion;
use crate::error::snippet;
use crate::operations::Operation;
use crate::policy::{Admission, Decision};
use crate::rate_limit::{self, RateLimit};
use crate::retry::Retryable;
use crate::{Client, Error};

/// A trailing `{path}` (a file's) keeps its slashes; see the function's docs.
pub(crate) use bitbucket_core::endpoint::encode_file_path;

/// A successful answer, read whole.
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// A successful answer whose body is still on its way: [`crate::body::Body`] reads it.
pub(crate) type Streamed = bitbucket_core::body::Streamed<Operation>;

/// A 2xx answer, its body read whole or left to the caller as the call asked.
enum Answered {
    Whole(Response),
    Stream(Streamed),
}

/// Sends `request` for `operation`, each attempt admitted and authenticated, retried as the
/// client's `RetryConfig` allows, in one `tracing` span. Returns the answer when it is 2xx.
pub(crate) async fn execute(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Response, Error> {
    match run(client, request, operation, false).await? {
        Answered::Whole(response) => Ok(response),
        Answered::Stream(streamed) => {
            let body = streamed
                .body
                .bytes()
                .await
                .map_err(|source| Error::transport(operation, source))?;
            Ok(Response {
                status: streamed.status,
                headers: streamed.headers,
                body,
            })
        }
    }
}

/// Like [`execute`], but a 2xx answer's body is left to the caller to stream: memory stays
/// bounded whatever its size.
pub(crate) async fn execute_streaming(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Streamed, Error> {
    match run(client, request, operation, true).await? {
        Answered::Stream(streamed) => Ok(streamed),
        Answered::Whole(response) => Err(Error::InvalidRequest {
            operation: operation.name,
            message: format!(
                "the {} answer was read before it could be streamed (a bug in \
                 bitbucket-data-center)",
                response.status
            ),
        }),
    }
}

/// [`attempts`], in the request's `tracing` span.
async fn run(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    stream: bool,
) -> Result<Answered, Error> {
    let span = tracing::info_span!(
        "bitbucket.request",
        operation = operation.name,
        method = %operation.method,
        path = operation.path,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    attempts(client, request, operation, stream, &span)
        .instrument(span.clone())
        .await
}

/// The decision on a request of `operation` to `url`: a URL off the client's API root (a
/// cursor or a link from the network) never gets credentials; a path that is not an instance
/// of the operation's template is refused, whatever the policy says; then the policy.
fn admit(client: &Client, url: &reqwest::Url, operation: &Operation) -> Admission {
    let state = &client.inner;
    if !state.is_own(url) {
        return Admission {
            path: url.path().to_string(),
            params: None,
            decision: Decision::Denied(format!(
                "its URL is not under the client's API root {} (credentials go nowhere else)",
                state.base
            )),
        };
    }
    let below = url
        .path()
        .strip_prefix(state.base.path().trim_end_matches('/'))
        .unwrap_or_default();
    let params = operation.match_path(below);
    let decision = if params.is_none() {
        Decision::Denied(format!(
            "its path {below} is not one of `{}` ({})",
            operation.name, operation.path
        ))
    } else {
        match &state.policy {
            Some(policy) => policy.decide(operation, params.as_ref()),
            None => Decision::Allowed,
        }
    };
    Admission {
        path: below.to_string(),
        params,
        decision,
    }
}

async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    stream: bool,
    span: &tracing::Span,
) -> Result<Answered, Error> {
    let state = &client.inner;
    let auditor = &state.auditor;
    let started = Instant::now();
    let mut retries = 0u32;
    // A body that is a stream (an upload) cannot be copied: sent once, never retried.
    let (once, mut request) = (request.try_clone().is_none(), Some(request));
    loop {
        let copy = request.as_ref().and_then(reqwest::Request::try_clone);
        let mut attempt = copy
            .or_else(|| request.take())
            .ok_or_else(|| Error::InvalidRequest {
                operation: operation.name,
                message: "the request body is a stream, which is sent only once".into(),
            })?;
        let number = retries.saturating_add(1);
        let method = attempt.method().clone();
        let admission = admit(client, attempt.url(), operation);
        if let Decision::Denied(reason) = &admission.decision {
            let error = Error::Denied {
                operation: operation.name,
                reason: reason.clone(),
            };
            auditor.denied(auditor.call(operation, &method, admission, number), None);
            return Err(error);
        }
        state
            .auth
            .apply(&mut attempt)
            .map_err(|message| Error::InvalidRequest {
                operation: operation.name,
                message,
            })?;
        span.record("attempt", number);
        let mut pending = auditor.pending(auditor.call(operation, &method, admission, number));
        let (failure, server_asked, outcome) = match client.client.execute(attempt).await {
            Err(source) => (
                Retryable::Connection,
                None,
                Err(Error::transport(operation, source)),
            ),
            Ok(mut response) => {
                let status = response.status();
                span.record("status", status.as_u16());
                pending.answered(status);
                let headers = response.headers().clone();
                if let Some(limit) = RateLimit::from_headers(&headers) {
                    *state
                        .rate_limit
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = Some(limit);
                }
                if status.is_success() && stream {
                    // The status and headers are in: the body is the caller's to read.
                    pending.finish(Outcome::Answered, None);
                    return Ok(Answered::Stream(Streamed {
                        status,
                        headers,
                        body: response,
                        operation,
                    }));
                }
                if status.is_success() {
                    return match response.bytes().await {
                        Ok(body) => {
                            pending.finish(Outcome::Answered, None);
                            Ok(Answered::Whole(Response {
                                status,
                                headers,
                                body,
                            }))
                        }
                        Err(source) => {
                            let error = Error::transport(operation, source);
                            pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                            Err(error)
                        }
                    };
                }
                // An error body that cannot be read is left out of the error.
                let body = read_prefix(&mut response, ERROR_BODY_LIMIT)
                    .await
                    .unwrap_or_default();
                let kind = if status == StatusCode::TOO_MANY_REQUESTS {
                    Some(Retryable::RateLimited)
                } else if status.is_server_error() {
                    Some(Retryable::ServerError)
                } else {
                    None
                };
                match kind {
                    None => {
                        let error = Error::api(operation, status, &body, None);
                        pending.finish(Outcome::Answered, Some(error.to_string()));
                        return Err(error);
                    }
                    Some(kind) => (kind, rate_limit::retry_after(&headers), Ok((status, body))),
                }
            }
        };
        match state
            .retry
            .next_delay(failure, &method, retries, server_asked, started.elapsed())
            .and_then(|wait| {
                (!once)
                    .then_some(wait)
                    .ok_or(crate::retry::GaveUp::SentOnce)
            }) {
            Ok(wait) => {
                match &outcome {
                    // An answer the client retries is not the call's failure.
                    Ok(_) => pending.finish(Outcome::Answered, None),
                    Err(error) => pending.finish(Outcome::NoAnswer, Some(error.to_string())),
                }
                tracing::debug!(?wait, "retrying");
                tokio::time::sleep(wait).await;
                retries = retries.saturating_add(1);
            }
            Err(gave_up) => {
                let (error, answered) = match outcome {
                    Ok((status, body)) => {
                        (Error::api(operation, status, &body, Some(gave_up)), true)
                    }
                    Err(Error::Transport {
                        operation, source, ..
                    }) => (
                        Error::Transport {
                            operation,
                            source,
                            gave_up: Some(gave_up),
                        },
                        false,
                    ),
                    Err(other) => (other, false),
                };
                let outcome = if answered {
                    Outcome::Answered
                } else {
                    Outcome::NoAnswer
                };
                pending.finish(outcome, Some(error.to_string()));
                return Err(error);
            }
        }
    }
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
        match Completion::accepted(self.status, &self.headers, &self.body) {
            Some(accepted) => Ok(accepted),
            None => self.json(operation).map(Completion::Done),
        }
    }
}
