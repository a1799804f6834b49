//! The path of every request: credentials, the attempt itself, rate-limit bookkeeping,
//! retries, and the decoding of the answer. The generated `send()` methods and the pagination
//! streams call [`execute`].

use std::sync::PoisonError;
use std::time::Instant;

use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::audit::Call;
use crate::auth::Sent;
use crate::completion::Completion;
use crate::error::{Failure, snippet};
use crate::operations::Operation;
use crate::rate_limit::{self, RateLimit};
use crate::retry::Retryable;
use crate::{Client, Error};

/// A successful answer, read whole.
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends `request` for `operation`: checked against the client's policy, authenticated,
/// retried as the client's [`RetryConfig`] allows, in one `tracing` span, and audited.
/// Returns the answer when its status is 2xx.
///
/// [`RetryConfig`]: crate::retry::RetryConfig
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
        duration_ms = tracing::field::Empty,
    );
    let call = span.in_scope(|| Call::begin(client, &request, operation))?;
    let started = Instant::now();
    let result = attempts(client, request, operation, started, &span)
        .instrument(span.clone())
        .await;
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| call.finish(client, &result));
    result
}

/// Sends attempts until one succeeds or the failure is final. Credentials are set on each
/// attempt (an OAuth token may have been renewed meanwhile) and only for the client's origin.
async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    started: Instant,
    span: &tracing::Span,
) -> Result<Response, Error> {
    let state = &client.inner;
    let to_our_origin = state.is_own_origin(request.url());
    let mut sent = 0u32;
    let mut retries = 0u32;
    let mut renewed_after_401 = false;
    loop {
        let mut attempt = request.try_clone().ok_or_else(|| Error::InvalidRequest {
            operation: operation.name,
            message: "the request body is a stream and cannot be sent".into(),
        })?;
        let credentials = if to_our_origin {
            state
                .auth
                .authorize(&mut attempt, &client.client, operation)
                .await?
        } else {
            attempt.headers_mut().remove(AUTHORIZATION);
            Sent::default()
        };
        sent += 1;
        span.record("attempt", sent);

        let (status, headers, body) = match send(client, attempt, span).await {
            Ok(answer) => answer,
            Err(error) => match state.retry.next_delay(
                Retryable::Connection,
                request.method(),
                retries,
                None,
                started.elapsed(),
            ) {
                Ok(delay) => {
                    tracing::info!(%error, ?delay, retry = retries + 1, "no answer; retrying");
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    continue;
                }
                Err(_) => return Err(Error::transport(operation, error)),
            },
        };
        let rate_limit = observe_rate_limit(client, &headers);

        if status.is_success() {
            return Ok(Response {
                status,
                headers,
                body,
            });
        }

        // A 401 means the request was not processed, so sending it again is safe for any
        // method; only once, so refused credentials are reported instead of looping.
        if status == StatusCode::UNAUTHORIZED
            && !renewed_after_401
            && state
                .auth
                .renew_after_unauthorized(credentials, &client.client, operation)
                .await?
        {
            tracing::info!("401 with an OAuth token that is now renewed; sending once more");
            renewed_after_401 = true;
            continue;
        }

        let server_asked = rate_limit::retry_after(&headers);
        let retryable = match status {
            StatusCode::TOO_MANY_REQUESTS => Some(Retryable::RateLimited),
            s if s.is_server_error() => Some(Retryable::ServerError),
            _ => None,
        };
        let next = retryable.map(|kind| {
            let elapsed = started.elapsed();
            state
                .retry
                .next_delay(kind, request.method(), retries, server_asked, elapsed)
        });
        let gave_up = match next {
            Some(Ok(delay)) => {
                tracing::info!(
                    status = status.as_u16(),
                    ?delay,
                    retry = retries + 1,
                    "retrying"
                );
                tokio::time::sleep(delay).await;
                retries += 1;
                continue;
            }
            Some(Err(reason)) => Some(reason),
            None => None,
        };
        return Err(Failure {
            operation,
            status,
            headers,
            body: &body,
            credentials: &state.auth,
            rate_limit,
            retry_after: server_asked,
            attempts: sent,
            gave_up,
        }
        .into_error());
    }
}

/// One attempt, read whole: status, headers and body. A failure comes without the request's
/// URL, whose query (a cursor, a search) must stay out of logs and errors.
async fn send(
    client: &Client,
    attempt: reqwest::Request,
    span: &tracing::Span,
) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
    let mut response = client
        .client
        .execute(attempt)
        .await
        .map_err(reqwest::Error::without_url)?;
    let status = response.status();
    span.record("status", status.as_u16());
    let headers = std::mem::take(response.headers_mut());
    let body = response
        .bytes()
        .await
        .map_err(reqwest::Error::without_url)?;
    Ok((status, headers, body))
}

/// Records the answer's rate-limit headers on the client, and warns when Bitbucket starts
/// saying the limit is near (once, not on every answer while it stays near).
fn observe_rate_limit(client: &Client, headers: &HeaderMap) -> Option<RateLimit> {
    let observed = RateLimit::from_headers(headers)?;
    let mut last = client
        .inner
        .rate_limit
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let was_near = last.as_ref().is_some_and(|l| l.near_limit);
    if observed.near_limit && !was_near {
        tracing::warn!(rate_limit = %observed, "Bitbucket reports the rate limit is near: slow down");
    }
    *last = Some(observed.clone());
    Some(observed)
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

    /// The body as text. Bytes that are not UTF-8 (a diff of a Latin-1 file) become U+FFFD.
    pub(crate) fn text(self, _operation: &Operation) -> Result<String, Error> {
        Ok(String::from_utf8_lossy(&self.body).into_owned())
    }

    /// A JSON result, or the 202 that says the work continues (its `Location` is the URL to
    /// poll).
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
