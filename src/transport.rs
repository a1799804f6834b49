//! The path of every request: the admission decision (policy, path checks), credentials,
//! the attempt itself, its audit record, rate-limit bookkeeping, retries, and the decoding of
//! the answer. The generated `send()` methods and the pagination streams call [`execute`].

use std::future::Future;
use std::sync::PoisonError;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::admission;
use crate::audit::{self, Outcome, Pending};
use crate::completion::Completion;
use crate::error::{Failure, snippet};
use crate::operations::Operation;
use crate::policy::Decision;
use crate::rate_limit::{self, RateLimit};
use crate::retry::Retryable;
use crate::{Client, Error};

/// How much of a failed answer's body is read: enough for any error Bitbucket sends, and a
/// bound on what a hostile server can make the client hold.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// A successful answer, read whole.
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// Sends `request` for `operation`: each attempt admitted (policy and path checks, see
/// [`admission`]), authenticated, audited, and retried as the client's [`RetryConfig`]
/// allows, in one `tracing` span. Returns the answer when its status is 2xx.
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
    let started = Instant::now();
    let result = attempts(client, request, operation, started, &span)
        .instrument(span.clone())
        .await;
    span.record(
        "duration_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    result
}

/// Sends attempts until one succeeds or the failure is final. Each attempt is admitted on
/// its own, gets credentials (an OAuth token may have been renewed meanwhile), and leaves
/// one audit record. Every attempt after the first must end within the retry budget.
async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    started: Instant,
    span: &tracing::Span,
) -> Result<Response, Error> {
    let state = &client.inner;
    let budget = state.retry.total_budget();
    // `None` when the budget is too large to be a point in time: no deadline then.
    let deadline = started
        .checked_add(budget)
        .map(tokio::time::Instant::from_std);
    let mut sent = 0u32;
    let mut retries = 0u32;
    let mut renewed_after_401 = false;
    loop {
        let mut attempt = request.try_clone().ok_or_else(|| Error::InvalidRequest {
            operation: operation.name,
            message: "the request body is a stream and cannot be sent".into(),
        })?;
        let number = sent.saturating_add(1);
        let method = attempt.method().clone();
        let admission = admission::admit(state, operation, attempt.url());
        if let Decision::Denied(reason) = &admission.decision {
            let error = Error::Denied {
                operation: operation.name,
                reason: reason.clone(),
            };
            audit::denied(client, operation, &method, admission, number);
            return Err(error);
        }
        // The first attempt is bounded by the client's timeout alone; the others by the budget.
        let deadline = deadline.filter(|_| number > 1);
        let out_of_budget = || Error::BudgetExhausted {
            operation: operation.name,
            budget,
            attempt: number,
        };
        // Admitted, so on the client's origin: credentials may go with it.
        let credentials = within(
            deadline,
            state.auth.authorize(&mut attempt, client, operation),
        )
        .await
        .ok_or_else(out_of_budget)??;
        sent = number;
        span.record("attempt", sent);

        let mut pending = Pending::request(client, operation, &method, admission, sent);
        let answer = match within(deadline, send(client, attempt, &mut pending, span)).await {
            Some(answer) => answer,
            None => {
                let error = out_of_budget();
                pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                return Err(error);
            }
        };
        let (status, headers, body) = match answer {
            Ok(answer) => answer,
            Err(error) => {
                let next = state.retry.next_delay(
                    Retryable::Connection,
                    &method,
                    retries,
                    None,
                    started.elapsed(),
                );
                let error = Error::transport(operation, error);
                pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                match next {
                    Ok(delay) => {
                        tracing::info!(%error, ?delay, retry = retries + 1, "no answer; retrying");
                        tokio::time::sleep(delay).await;
                        retries = retries.saturating_add(1);
                        continue;
                    }
                    Err(_) => return Err(error),
                }
            }
        };
        let rate_limit = observe_rate_limit(client, &headers);

        if status.is_success() {
            pending.finish(Outcome::Answered, None);
            return Ok(Response {
                status,
                headers,
                body,
            });
        }

        // A 401 means the request was not processed, so sending it again is safe for any
        // method; only once, so refused credentials are reported instead of looping.
        if status == StatusCode::UNAUTHORIZED && !renewed_after_401 {
            match state
                .auth
                .renew_after_unauthorized(credentials, client, operation)
                .await
            {
                Ok(true) => {
                    tracing::info!(
                        "401 with an OAuth token that is now renewed; sending once more"
                    );
                    pending.finish(Outcome::Answered, None);
                    renewed_after_401 = true;
                    continue;
                }
                Ok(false) => {}
                Err(error) => {
                    pending.finish(Outcome::Answered, Some(error.to_string()));
                    return Err(error);
                }
            }
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
                .next_delay(kind, &method, retries, server_asked, elapsed)
        });
        let gave_up = match next {
            Some(Ok(delay)) => {
                pending.finish(Outcome::Answered, None);
                tracing::info!(
                    status = status.as_u16(),
                    ?delay,
                    retry = retries + 1,
                    "retrying"
                );
                tokio::time::sleep(delay).await;
                retries = retries.saturating_add(1);
                continue;
            }
            Some(Err(reason)) => Some(reason),
            None => None,
        };
        let error = Failure {
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
        .into_error();
        pending.finish(Outcome::Answered, Some(error.to_string()));
        return Err(error);
    }
}

/// `future`'s output, or `None` when `deadline` passes first.
async fn within<F: Future>(deadline: Option<tokio::time::Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}

/// One attempt, read whole: status, headers and body (at most [`ERROR_BODY_LIMIT`] bytes of
/// a failed answer's). A failure comes without the request's URL, whose query (a cursor, a
/// search) must stay out of logs and errors.
async fn send(
    client: &Client,
    attempt: reqwest::Request,
    pending: &mut Pending,
    span: &tracing::Span,
) -> Result<(StatusCode, HeaderMap, Bytes), reqwest::Error> {
    let mut response = client
        .client
        .execute(attempt)
        .await
        .map_err(reqwest::Error::without_url)?;
    let status = response.status();
    span.record("status", status.as_u16());
    pending.answered(status);
    let headers = std::mem::take(response.headers_mut());
    let body = if status.is_success() {
        response.bytes().await
    } else {
        read_prefix(&mut response, ERROR_BODY_LIMIT).await
    }
    .map_err(reqwest::Error::without_url)?;
    pending.read_whole();
    Ok((status, headers, body))
}

/// The first `limit` bytes of the body; the rest is not read.
async fn read_prefix(response: &mut reqwest::Response, limit: usize) -> reqwest::Result<Bytes> {
    let mut body = BytesMut::new();
    while body.len() < limit {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = limit - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body.freeze())
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
