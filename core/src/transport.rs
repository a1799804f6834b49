//! The path of every request, the same in both products: each attempt admitted (the product's
//! [`Service::admit`]) and audited, given credentials, sent, its rate-limit headers noted,
//! and repeated as the shared [`crate::retry`] rules allow, in one `tracing` span.
//!
//! A product implements [`Service`] for its client: where its settings are, how it admits a
//! request and applies credentials, and the hints of its error answers. Its transport then calls
//! [`call`] (or [`attempts`] inside [`in_span`], when it follows redirects itself, as
//! `bitbucket-cloud` does).
//!
//! Each attempt leaves one audit record: a request the admission refuses is recorded as
//! denied and nothing is sent; a sent one is recorded with how it ended. Every attempt after
//! the first must end within the retry budget ([`RetryConfig::budget`]).

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use tracing::Instrument as _;

use crate::audit::{Audited, Auditor, Outcome, Pending};
use crate::body::{ERROR_BODY_LIMIT, read_prefix};
use crate::completion::Completion;
use crate::error::{ApiError, Details, Error};
use crate::policy::{Admission, Decision};
use crate::rate_limit::{self, RateLimit};
use crate::retry::{GaveUp, RetryConfig, Retryable};

/// What the shared loop needs of a product's client: its settings, its admission and
/// credentials, and its errors.
pub trait Service: Sync {
    /// The product's operation type.
    type Operation: Audited;
    /// The product's error body: the loop's errors are [`Error`]`<Self::Details>`.
    type Details: Details;
    /// What [`Service::authorize`] put on an attempt, handed back to
    /// [`Service::renew_after_unauthorized`] (an OAuth token's generation).
    type Credentials: Send;

    /// The HTTP client the attempts are sent with.
    fn http(&self) -> &reqwest::Client;
    /// When failed attempts are repeated.
    fn retry(&self) -> &RetryConfig;
    /// The client's audit settings.
    fn auditor(&self) -> &Arc<Auditor<Self::Operation>>;
    /// Where the client keeps the last rate-limit headers it saw.
    fn rate_limit(&self) -> &Mutex<Option<RateLimit>>;
    /// The operation's HTTP method and path template, named in the request's span.
    fn describe(operation: &Self::Operation) -> (&Method, &'static str);

    /// The decision on a request of `operation` to `url`, taken again for every attempt (a
    /// policy is consulted per request, and a URL from the network may lead elsewhere).
    fn admit(&self, operation: &'static Self::Operation, url: &Url) -> Admission;

    /// Puts the client's credentials on an admitted attempt (which may first fetch or renew
    /// an OAuth token).
    fn authorize(
        &self,
        request: &mut reqwest::Request,
        operation: &'static Self::Operation,
    ) -> impl Future<Output = Result<Self::Credentials, Error<Self::Details>>> + Send;

    /// After a 401 to an attempt that carried `credentials`: whether they are now renewed,
    /// so that the request is worth sending once more. Credentials that cannot be renewed
    /// (the default) say no.
    fn renew_after_unauthorized(
        &self,
        credentials: Self::Credentials,
        operation: &'static Self::Operation,
    ) -> impl Future<Output = Result<bool, Error<Self::Details>>> + Send {
        let _ = (credentials, operation);
        std::future::ready(Ok(false))
    }

    /// Whether a 3xx is handed back as [`Step::Redirect`] for the product to follow or
    /// refuse. When not (the default), a 3xx that reaches the loop is an error answer.
    fn follows_redirects(&self) -> bool {
        false
    }

    /// The largest body of `operation`'s 2xx answer read whole, when there is a limit (the
    /// default has none); a longer one is [`Error::TooLarge`].
    fn body_cap(&self, operation: &'static Self::Operation) -> Option<u64> {
        let _ = operation;
        None
    }

    /// The hint of an error answer to `operation`: what to do about it, in the product's
    /// terms (its credentials, the operation's needs).
    fn hint(&self, api: &ApiError<Self::Details>, operation: &'static Self::Operation) -> String;
}

/// An error answer the loop keeps (not retried, or retried no more): what an [`ApiError`] is
/// made of.
#[derive(Debug)]
pub struct Failure<O: 'static> {
    /// The operation whose answer it is.
    pub operation: &'static O,
    /// The answer's status.
    pub status: StatusCode,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// The beginning of the body (at most [`ERROR_BODY_LIMIT`] bytes).
    pub body: Bytes,
    /// The answer's rate-limit headers, when it had any.
    pub rate_limit: Option<RateLimit>,
    /// How long the server asked to wait (`Retry-After`).
    pub retry_after: Option<Duration>,
    /// How many times the request was sent.
    pub attempts: u32,
    /// Why a 429 or 5xx was not retried (again).
    pub gave_up: Option<GaveUp>,
}

/// How a 2xx answer's body is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// Whole (up to [`Service::body_cap`]).
    Whole,
    /// Not by the loop: the caller streams it.
    Stream,
}

/// A 2xx answer's body, as [`Read`] asked.
#[derive(Debug)]
pub enum Payload {
    /// Read whole.
    Whole(Bytes),
    /// Not read yet: the answer, to be streamed.
    Stream(reqwest::Response),
}

/// A 2xx answer.
#[derive(Debug)]
#[non_exhaustive]
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Payload,
}

/// A 2xx answer read whole, decoded by the products' generated `send()`s as their operation's
/// kind of answer says (`json`, `empty`, `bytes`, `text`, `completion`).
#[derive(Debug)]
pub struct Whole {
    /// Its status.
    pub status: StatusCode,
    /// Its headers.
    pub headers: HeaderMap,
    /// Its body.
    pub body: Bytes,
}

// A build whose features have no operation of some kind of answer leaves its decoder unused.
impl Whole {
    /// Decodes a JSON body; one that does not decode keeps a snippet for the caller.
    pub fn json<T, O, D>(self, operation: &O) -> Result<T, Error<D>>
    where
        T: serde::de::DeserializeOwned,
        O: Audited,
        D: Details,
    {
        serde_json::from_slice(&self.body).map_err(|source| Error::Decode {
            operation: operation.name(),
            status: self.status,
            snippet: crate::redact::snippet(&self.body),
            source,
        })
    }

    /// For operations that answer without a body.
    pub fn empty<O: Audited, D: Details>(self, _operation: &O) -> Result<(), Error<D>> {
        Ok(())
    }

    /// The body as sent.
    pub fn bytes<O: Audited, D: Details>(self, _operation: &O) -> Result<Bytes, Error<D>> {
        Ok(self.body)
    }

    /// The body as text. Bytes that are not UTF-8 (a diff of a Latin-1 file) become U+FFFD.
    pub fn text<O: Audited, D: Details>(self, _operation: &O) -> Result<String, Error<D>> {
        Ok(String::from_utf8_lossy(&self.body).into_owned())
    }

    /// A JSON result, or the 202 that says the work continues (its `Location` is the URL to
    /// poll).
    pub fn completion<T, O, D>(self, operation: &O) -> Result<Completion<T>, Error<D>>
    where
        T: serde::de::DeserializeOwned,
        O: Audited,
        D: Details,
    {
        match Completion::accepted(self.status, &self.headers, &self.body) {
            Some(accepted) => Ok(accepted),
            None => self.json(operation).map(Completion::Done),
        }
    }
}

/// What a request led to.
#[derive(Debug)]
// Made once per request and matched at once.
#[allow(clippy::large_enum_variant)]
pub enum Step {
    /// A 2xx answer.
    Done(Answer),
    /// A 3xx, when [`Service::follows_redirects`]: for the product to follow or refuse.
    Redirect {
        /// The redirect's status.
        status: StatusCode,
        /// Its `Location`, as sent.
        location: Option<String>,
    },
}

/// Sends `request` for `operation` in its own span ([`in_span`]), through [`attempts`].
/// Returns the 2xx answer, read as `read` says.
pub async fn call<S: Service>(
    service: &S,
    request: reqwest::Request,
    operation: &'static S::Operation,
    read: Read,
) -> Result<Answer, Error<S::Details>> {
    in_span::<S, _, _>(operation, |span| async move {
        match attempts(
            service,
            request,
            operation,
            None,
            read,
            Instant::now(),
            &span,
        )
        .await?
        {
            Step::Done(answer) => Ok(answer),
            Step::Redirect { status, .. } => Err(Error::InvalidRequest {
                operation: operation.name(),
                message: format!(
                    "the {status} redirect was handed back by a client that says it follows \
                     redirects, but it was sent with `call`, which does not (a bug)"
                ),
            }),
        }
    })
    .await
}

/// Runs the future `call` makes of the span, the whole of one call of `operation` (its
/// attempts, and the redirects it follows), in a `bitbucket.request` span that [`attempts`]
/// records the attempt number and status in (given the span: a subscriber need not track the
/// current one), and that ends with the call's duration.
pub fn in_span<S: Service, F: Future<Output = T>, T>(
    operation: &'static S::Operation,
    call: impl FnOnce(tracing::Span) -> F,
) -> impl Future<Output = T> {
    let (method, path) = S::describe(operation);
    let span = tracing::info_span!(
        "bitbucket.request",
        operation = operation.name(),
        method = %method,
        path,
        attempt = tracing::field::Empty,
        status = tracing::field::Empty,
        duration_ms = tracing::field::Empty,
    );
    // Boxed before anything awaits it: the retry state machine is large, and every typed
    // call's future (and the caller's, in turn) would carry it on the stack.
    let call = Box::pin(call(span.clone()));
    async move {
        let started = Instant::now();
        let result = call.instrument(span.clone()).await;
        span.record(
            "duration_ms",
            u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        );
        result
    }
}

/// Sends attempts of `request` until one succeeds or the failure is final. Each attempt is
/// admitted on its own ([`Service::admit`]), gets credentials (an OAuth token may have been
/// renewed meanwhile), and leaves one audit record (marked as redirected `from` an operation,
/// when it is the target of a redirect). Every attempt after the first must end within the
/// retry budget, counted from `started`. `span` is the call's (see [`in_span`]).
///
/// A 401 is sent once more when [`Service::renew_after_unauthorized`] renewed the
/// credentials: it means the request was not processed, so this is safe for any method.
/// A request whose body is a stream (an upload) cannot be copied, so it is sent once and
/// never retried.
pub async fn attempts<S: Service>(
    service: &S,
    request: reqwest::Request,
    operation: &'static S::Operation,
    from: Option<&'static S::Operation>,
    read: Read,
    started: Instant,
    span: &tracing::Span,
) -> Result<Step, Error<S::Details>> {
    let retry = service.retry();
    let auditor = service.auditor();
    let budget = retry.total_budget();
    // `None` when the budget is too large to be a point in time: no deadline then.
    let deadline = started
        .checked_add(budget)
        .map(tokio::time::Instant::from_std);
    let mut sent = 0u32;
    let mut retries = 0u32;
    let mut renewed_after_401 = false;
    let once = request.try_clone().is_none();
    let mut request = Some(request);
    loop {
        let copy = request.as_ref().and_then(reqwest::Request::try_clone);
        let Some(mut attempt) = copy.or_else(|| request.take()) else {
            return Err(Error::InvalidRequest {
                operation: operation.name(),
                message: "the request body is a stream, which is sent once; it cannot be sent \
                          again"
                    .into(),
            });
        };
        let number = sent.saturating_add(1);
        let method = attempt.method().clone();
        let admission = service.admit(operation, attempt.url());
        if let Decision::Denied(reason) = &admission.decision {
            let error = Error::Denied {
                operation: operation.name(),
                reason: reason.clone(),
            };
            auditor.denied(auditor.call(operation, &method, admission, number), from);
            return Err(error);
        }
        // The first attempt is bounded by the client's timeout alone; the others by the budget.
        let deadline = deadline.filter(|_| number > 1);
        let out_of_budget = || Error::BudgetExhausted {
            operation: operation.name(),
            budget,
            attempt: number,
        };
        // Admitted: credentials may go with it.
        let credentials = within(deadline, service.authorize(&mut attempt, operation))
            .await
            .ok_or_else(out_of_budget)??;
        sent = number;
        span.record("attempt", sent);

        let mut pending = auditor.pending(auditor.call(operation, &method, admission, sent));
        pending.redirected_from(from);
        let cap = match read {
            Read::Whole => service.body_cap(operation),
            Read::Stream => None,
        };
        let follows = service.follows_redirects();
        let sending = send(service, attempt, &mut pending, span, read, cap, follows);
        let answer = match within(deadline, sending).await {
            Some(answer) => answer,
            None => {
                let error = out_of_budget();
                pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                return Err(error);
            }
        };
        let (status, headers, body) = match answer {
            Ok(answer) => answer,
            Err(source) => {
                let next = retry.next_delay(
                    Retryable::Connection,
                    &method,
                    retries,
                    None,
                    started.elapsed(),
                );
                match next {
                    Ok(delay) if !once => {
                        let error = Error::<S::Details>::transport(operation, source);
                        pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                        tracing::info!(%error, ?delay, retry = retries.saturating_add(1), "no answer; retrying");
                        tokio::time::sleep(delay).await;
                        retries = retries.saturating_add(1);
                        continue;
                    }
                    next => {
                        let error = Error::Transport {
                            operation: operation.name(),
                            timed_out: source.is_timeout(),
                            source,
                            // `Ok` here means a retry that an upload cannot have.
                            gave_up: Some(next.err().unwrap_or(GaveUp::SentOnce)),
                        };
                        pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                        return Err(error);
                    }
                }
            }
        };
        let rate_limit = observe_rate_limit(service.rate_limit(), &headers);

        if status.is_success() {
            let body = match body {
                Body::Whole(body) => Payload::Whole(body),
                Body::Stream(response) => Payload::Stream(response),
                Body::TooLarge(limit) => {
                    let error = Error::TooLarge {
                        operation: operation.name(),
                        limit,
                    };
                    pending.finish(Outcome::Answered, Some(error.to_string()));
                    return Err(error);
                }
            };
            pending.finish(Outcome::Answered, None);
            return Ok(Step::Done(Answer {
                status,
                headers,
                body,
            }));
        }
        if status.is_redirection() && follows {
            // Followed or refused by the product, as it decides.
            pending.finish(Outcome::Answered, None);
            let location = headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(Step::Redirect { status, location });
        }
        let body = match body {
            Body::Whole(body) => body,
            Body::Stream(_) | Body::TooLarge(_) => Bytes::new(),
        };

        // Only once, so that refused credentials are reported instead of looping.
        if status == StatusCode::UNAUTHORIZED && !renewed_after_401 && !once {
            match service
                .renew_after_unauthorized(credentials, operation)
                .await
            {
                Ok(true) => {
                    tracing::info!("401 with credentials that are now renewed; sending once more");
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
        // An upload would be retried but cannot be: the error says why.
        let next = retryable.map(|kind| match once {
            true => Err(GaveUp::SentOnce),
            false => retry.next_delay(kind, &method, retries, server_asked, started.elapsed()),
        });
        let gave_up = match next {
            Some(Ok(delay)) => {
                // An answer the client retries is not the call's failure.
                pending.finish(Outcome::Answered, None);
                tracing::info!(
                    status = status.as_u16(),
                    ?delay,
                    retry = retries.saturating_add(1),
                    "retrying"
                );
                tokio::time::sleep(delay).await;
                retries = retries.saturating_add(1);
                continue;
            }
            Some(Err(reason)) => Some(reason),
            None => None,
        };
        let failure = Failure {
            operation,
            status,
            headers,
            body,
            rate_limit,
            retry_after: server_asked,
            attempts: sent,
            gave_up,
        };
        let api = ApiError::new(failure, |api| service.hint(api, operation));
        let error = Error::Api(Box::new(api));
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

/// A body as [`send`] leaves it.
enum Body {
    Whole(Bytes),
    /// A 2xx body not read yet ([`Read::Stream`]).
    Stream(reqwest::Response),
    /// A 2xx body longer than the limit (this one); reading stopped there.
    TooLarge(u64),
}

/// One attempt: status, headers and body. A 2xx body is read as `read` says (up to `cap`
/// bytes), a failed answer's up to [`ERROR_BODY_LIMIT`] bytes, a redirect the product
/// follows not at all. A failure comes without the request's URL, whose query (a cursor, a
/// search) must stay out of logs and errors.
async fn send<S: Service>(
    service: &S,
    attempt: reqwest::Request,
    pending: &mut Pending<S::Operation>,
    span: &tracing::Span,
    read: Read,
    cap: Option<u64>,
    follows_redirects: bool,
) -> Result<(StatusCode, HeaderMap, Body), reqwest::Error> {
    let mut response = service
        .http()
        .execute(attempt)
        .await
        .map_err(reqwest::Error::without_url)?;
    let status = response.status();
    span.record("status", status.as_u16());
    pending.answered(status);
    let headers = std::mem::take(response.headers_mut());
    let body = if status.is_success() {
        match (read, cap) {
            (Read::Stream, _) => return Ok((status, headers, Body::Stream(response))),
            (Read::Whole, None) => Body::Whole(
                response
                    .bytes()
                    .await
                    .map_err(reqwest::Error::without_url)?,
            ),
            (Read::Whole, Some(cap)) => match read_capped(&mut response, cap)
                .await
                .map_err(reqwest::Error::without_url)?
            {
                Some(body) => Body::Whole(body),
                None => Body::TooLarge(cap),
            },
        }
    } else if status.is_redirection() && follows_redirects {
        Body::Whole(Bytes::new())
    } else {
        Body::Whole(
            read_prefix(&mut response, ERROR_BODY_LIMIT)
                .await
                .map_err(reqwest::Error::without_url)?,
        )
    };
    pending.read_whole();
    Ok((status, headers, body))
}

/// The body when it is at most `cap` bytes; `None`, having read no more than `cap` bytes,
/// when it is longer.
async fn read_capped(response: &mut reqwest::Response, cap: u64) -> reqwest::Result<Option<Bytes>> {
    if response.content_length().is_some_and(|length| length > cap) {
        return Ok(None);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        let total = u64::try_from(body.len())
            .unwrap_or(u64::MAX)
            .saturating_add(u64::try_from(chunk.len()).unwrap_or(u64::MAX));
        if total > cap {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}

/// Records the answer's rate-limit headers in `last`, and warns when the server starts
/// saying the limit is near (once, not on every answer while it stays near).
fn observe_rate_limit(last: &Mutex<Option<RateLimit>>, headers: &HeaderMap) -> Option<RateLimit> {
    let observed = RateLimit::from_headers(headers)?;
    let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
    let was_near = last.as_ref().is_some_and(|l| l.near_limit);
    if observed.near_limit && !was_near {
        tracing::warn!(rate_limit = %observed, "Bitbucket reports the rate limit is near: slow down");
    }
    *last = Some(observed.clone());
    Some(observed)
}
