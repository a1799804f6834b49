//! The path of every request: credentials, the attempt itself, rate-limit bookkeeping,
//! retries, and the decoding of the answer. The generated `send()` methods and the pagination
//! streams call [`execute`].

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::audit::Call;
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
    let result = attempts(client, request, operation, started)
        .instrument(span.clone())
        .await;
    span.record("duration_ms", started.elapsed().as_millis() as u64);
    span.in_scope(|| call.finish(client, &result));
    result
}

async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    started: Instant,
) -> Result<Response, Error> {
    let state = &client.inner;
    let method = request.method().clone();
    let mut retries = 0u32;
    loop {
        let mut attempt = request.try_clone().ok_or_else(|| Error::InvalidRequest {
            operation: operation.name,
            message: "the request body is a stream and cannot be sent".into(),
        })?;
        state.auth.authorize(&mut attempt)?;
        tracing::Span::current().record("attempt", retries + 1);

        let response = match client.client.execute(attempt).await {
            Ok(response) => response,
            Err(error) => {
                if let Some(delay) = retry_delay(
                    client,
                    Retryable::Connection,
                    &method,
                    retries,
                    None,
                    started,
                ) {
                    tracing::debug!(error = %error.without_url(), ?delay, "connection failed; retrying");
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    continue;
                }
                return Err(Error::transport(operation, error));
            }
        };

        let status = response.status();
        let headers = response.headers().clone();
        tracing::Span::current().record("status", status.as_u16());
        let rate_limit = observe_rate_limit(client, &headers);
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => {
                if let Some(delay) = retry_delay(
                    client,
                    Retryable::Connection,
                    &method,
                    retries,
                    None,
                    started,
                ) {
                    tracing::debug!(error = %error.without_url(), ?delay, "reading the body failed; retrying");
                    tokio::time::sleep(delay).await;
                    retries += 1;
                    continue;
                }
                return Err(Error::transport(operation, error));
            }
        };

        if status.is_success() {
            return Ok(Response {
                status,
                headers,
                body,
            });
        }

        let server_asked = rate_limit::retry_after(&headers);
        let retryable = match status {
            StatusCode::TOO_MANY_REQUESTS => Some(Retryable::RateLimited),
            s if s.is_server_error() => Some(Retryable::ServerError),
            _ => None,
        };
        if let Some(kind) = retryable
            && let Some(delay) = retry_delay(client, kind, &method, retries, server_asked, started)
        {
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
        return Err(Failure {
            operation,
            status,
            headers,
            body: &body,
            credentials: &state.auth,
            rate_limit,
            retry_after: server_asked,
        }
        .into_error());
    }
}

/// The wait before the next attempt, or `None` when the failure is final: not retryable for
/// this method, out of retries, or the wait would end past the time budget.
fn retry_delay(
    client: &Client,
    kind: Retryable,
    method: &Method,
    retries: u32,
    server_asked: Option<Duration>,
    started: Instant,
) -> Option<Duration> {
    let config = &client.inner.retry;
    if !config.should_retry(kind, method, retries) {
        return None;
    }
    let delay = config.delay(retries + 1, server_asked);
    (started.elapsed() + delay <= config.budget_limit()).then_some(delay)
}

/// Records the answer's rate-limit headers on the client and warns when the limit is near.
fn observe_rate_limit(client: &Client, headers: &HeaderMap) -> Option<RateLimit> {
    let observed = RateLimit::from_headers(headers)?;
    if observed.near_limit {
        tracing::warn!(rate_limit = %observed, "Bitbucket reports the rate limit is near");
    }
    let mut last = client
        .inner
        .rate_limit
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    *last = Some(observed.clone());
    Some(observed)
}

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

    /// The body as text. Bytes that are not UTF-8 (a diff of a Latin-1 file) become U+FFFD.
    pub(crate) fn text(self, _operation: &Operation) -> Result<String, Error> {
        Ok(match String::from_utf8(self.body.to_vec()) {
            Ok(text) => text,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
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
