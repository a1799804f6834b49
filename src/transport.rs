//! The path of every request: the admission decision (policy, path checks), credentials,
//! the attempt itself, its audit record, rate-limit bookkeeping, retries, redirects, and the
//! decoding of the answer. The generated `send()` methods and the pagination streams call
//! [`execute`]; the streamed answers (files, logs, diffs) [`execute_streaming`].
//!
//! # Redirects
//!
//! The HTTP client follows none (`redirect::Policy::none()`): a redirect it followed would
//! escape the admission decision and the audit record, and a 307 would re-send the body
//! (a webhook's secret) to whatever origin it names. A 3xx is handled here, as the
//! operation's `redirect` fact (`spec/operations.toml`) says:
//!
//! - none declared: the answer is an [`Error::Redirect`] that says where it pointed;
//! - [`Redirect::Storage`]: followed for a GET only, to `https://` (or plain `http://` to
//!   loopback, for local servers), without credentials or body, and at most
//!   [`MAX_REDIRECTS`] hops; each hop is an audit record ([`Purpose::Storage`]);
//! - [`Redirect::To`]: followed on the client's origin as the named operation, when the
//!   target is an instance of its path: admitted (policy, path checks) and audited as that
//!   operation's request ([`Purpose::Redirected`]), with credentials since the origin is the
//!   same. A target that is not an instance of it is refused.
//!
//! [`Purpose::Storage`]: crate::audit::Purpose::Storage
//! [`Purpose::Redirected`]: crate::audit::Purpose::Redirected

use std::future::Future;
use std::sync::PoisonError;
use std::time::Instant;

use bitbucket_core::body::{ERROR_BODY_LIMIT, read_prefix};
use bytes::{Bytes, BytesMut};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use crate::admission;
use crate::audit::{self, Outcome, Pending};
use crate::completion::Completion;
use crate::endpoint;
use crate::error::{Failure, snippet};
use crate::operations::{self, Answer, Operation, Redirect};
use crate::policy::Decision;
use crate::rate_limit::{self, RateLimit};
use crate::retry::Retryable;
use crate::{Client, Error};

/// How many redirects one call follows, of all kinds together: Bitbucket's declared
/// redirects take one hop (two when storage redirects once more); more is a loop.
pub(crate) const MAX_REDIRECTS: u32 = 3;

/// How a 2xx answer's body is read.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    /// Whole, up to the client's JSON limit for a JSON answer.
    Whole,
    /// Not here: the caller streams it.
    Stream,
}

/// A body as [`send`] leaves it.
enum Payload {
    Whole(Bytes),
    /// A 2xx body not read yet ([`Read::Stream`]).
    Stream(reqwest::Response),
    /// A JSON body larger than the client's limit; reading stopped there.
    TooLarge,
}

/// What one operation's request led to.
// Made once per request and matched at once.
#[allow(clippy::large_enum_variant)]
enum Step {
    Done(StatusCode, HeaderMap, Payload),
    /// A 3xx, with its `Location` as sent.
    Redirect(StatusCode, Option<String>),
}

/// A 2xx answer: status, headers, body as read, the operation whose answer it is, and the URL
/// that answered.
type Answered = (StatusCode, HeaderMap, Payload, &'static Operation, Url);

/// A successful answer whose body is still on its way: [`crate::body::Body`] reads it.
pub(crate) type Streamed = bitbucket_core::body::Streamed<Operation>;

/// A successful answer, read whole.
pub(crate) struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The operation whose answer it is: the called one, or the one it redirected to on the
    /// same origin (whose `next` links a list then follows).
    pub operation: &'static Operation,
    /// The URL that answered (after redirects).
    pub url: Url,
}

/// Sends `request` for `operation`: each attempt admitted (policy and path checks, see
/// [`admission`]), authenticated, audited, and retried as the client's [`RetryConfig`]
/// allows, redirects handled as the module docs say, in one `tracing` span. Returns the
/// answer, read whole, when its status is 2xx.
///
/// [`RetryConfig`]: crate::retry::RetryConfig
pub(crate) async fn execute(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Response, Error> {
    let (status, headers, payload, operation, url) =
        run(client, request, operation, Read::Whole).await?;
    let body = match payload {
        Payload::Whole(body) => body,
        Payload::Stream(response) => response
            .bytes()
            .await
            .map_err(|e| Error::transport(operation, e.without_url()))?,
        Payload::TooLarge => return Err(too_large(client, operation)),
    };
    Ok(Response {
        status,
        headers,
        body,
        operation,
        url,
    })
}

/// Like [`execute`], but a 2xx answer's body is left to the caller to stream: memory stays
/// bounded whatever its size, and no size limit applies.
pub(crate) async fn execute_streaming(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Streamed, Error> {
    let (status, headers, payload, operation, _) =
        run(client, request, operation, Read::Stream).await?;
    match payload {
        Payload::Stream(body) => Ok(Streamed {
            status,
            headers,
            body,
            operation,
        }),
        // `Read::Stream` leaves every 2xx body unread.
        Payload::Whole(_) | Payload::TooLarge => Err(Error::InvalidRequest {
            operation: operation.name,
            message: "the answer was read before it could be streamed (a bug in bitbucket-cloud)"
                .into(),
        }),
    }
}

fn too_large(client: &Client, operation: &Operation) -> Error {
    Error::TooLarge {
        operation: operation.name,
        limit: client.inner.max_json_body,
    }
}

/// The whole call, in its span: the operation's request, and the redirects it leads to.
async fn run(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    read: Read,
) -> Result<Answered, Error> {
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
    // Boxed: the retry and redirect state machine is large, and every typed call's future
    // (and the caller's, in turn) would carry it on the stack.
    let result = Box::pin(follow(client, request, operation, read, started, &span))
        .instrument(span.clone())
        .await;
    span.record(
        "duration_ms",
        u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    );
    result
}

/// Sends the operation's request, then follows its redirects as its `redirect` fact allows.
async fn follow(
    client: &Client,
    mut request: reqwest::Request,
    mut operation: &'static Operation,
    read: Read,
    started: Instant,
    span: &tracing::Span,
) -> Result<Answered, Error> {
    let state = &client.inner;
    let mut from: Option<&'static Operation> = None;
    let mut hops = 0u32;
    loop {
        let method = request.method().clone();
        let url = request.url().clone();
        let headers = request.headers().clone();
        let (status, location) =
            match attempts(client, request, operation, from, read, started, span).await? {
                Step::Done(status, headers, payload) => {
                    return Ok((status, headers, payload, operation, url));
                }
                Step::Redirect(status, location) => (status, location),
            };
        hops = hops.saturating_add(1);
        let target = location.as_deref().and_then(|l| url.join(l).ok());
        let where_to = shown(target.as_ref(), location.as_deref());
        let refuse = |reason: String| Error::Redirect {
            operation: operation.name,
            status,
            location: where_to.clone(),
            reason,
        };
        if hops > MAX_REDIRECTS {
            return Err(refuse(format!(
                "more than {MAX_REDIRECTS} redirects in a row (a loop, or a server that \
                 misbehaves)"
            )));
        }
        let Some(target) = target else {
            return Err(refuse(
                "the answer has no Location header that is a URL".to_string(),
            ));
        };
        match operation.redirect {
            None => {
                return Err(refuse(format!(
                    "`{}` declares no redirect, so none is followed: a redirect there would \
                     escape the client's policy and audit. If Bitbucket really redirects this \
                     call, report it so that the operation declares it",
                    operation.name
                )));
            }
            Some(Redirect::Storage) => {
                return storage(
                    client, operation, &method, &headers, target, status, hops, read,
                )
                .await;
            }
            Some(Redirect::To(name)) => {
                if method != Method::GET {
                    return Err(refuse(format!(
                        "only a GET follows a redirect; a {method} would send its body again"
                    )));
                }
                let Some(next) = operations::by_name(name) else {
                    return Err(refuse(format!(
                        "`{name}` is not an operation of this client"
                    )));
                };
                if !state.is_own_origin(&target) {
                    return Err(refuse(format!(
                        "it leaves the client's origin ({}), and `{}` redirects only to `{name}` \
                         on the same origin",
                        state.base.origin().ascii_serialization(),
                        operation.name
                    )));
                }
                if admission::admit(state, next, &target).params.is_none() {
                    return Err(refuse(format!(
                        "the target matches no operation: `{}` redirects only to an instance of \
                         `{}` (`{name}`)",
                        operation.name, next.path
                    )));
                }
                request = follow_up(Method::GET, target, &headers);
                from = Some(operation);
                operation = next;
            }
        }
    }
}

/// `url` (or the `Location` as sent, when it is not one) as errors show it: without user
/// information and query, which may hold a storage host's signature.
fn shown(url: Option<&Url>, location: Option<&str>) -> String {
    match (url, location) {
        (Some(url), _) => {
            let mut url = url.clone();
            let _ = url.set_username("");
            let _ = url.set_password(None);
            url.set_query(None);
            url.set_fragment(None);
            url.to_string()
        }
        (None, Some(location)) => {
            let location = location.split(['?', '#']).next().unwrap_or_default();
            endpoint::without_userinfo(location)
                .chars()
                .take(200)
                .collect()
        }
        (None, None) => "(none)".to_string(),
    }
}

/// The request a redirect leads to: `method` to `url`, without a body, with only the headers
/// of `headers` that shape an answer (`Accept`, `Range`, conditionals), never credentials.
fn follow_up(method: Method, url: Url, headers: &HeaderMap) -> reqwest::Request {
    let mut request = reqwest::Request::new(method, url);
    for name in [
        header::ACCEPT,
        header::RANGE,
        header::IF_RANGE,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
    ] {
        for value in headers.get_all(&name) {
            request.headers_mut().append(name.clone(), value.clone());
        }
    }
    request
}

/// Follows a redirect to storage: GET only, to `https://` (plain `http://` to loopback), no
/// credentials, no body, each hop audited, at most [`MAX_REDIRECTS`] hops in all.
#[allow(clippy::too_many_arguments)]
async fn storage(
    client: &Client,
    operation: &'static Operation,
    method: &Method,
    headers: &HeaderMap,
    mut url: Url,
    mut status: StatusCode,
    mut hops: u32,
    read: Read,
) -> Result<Answered, Error> {
    loop {
        let refuse = |status: StatusCode, url: &Url, reason: String| Error::Redirect {
            operation: operation.name,
            status,
            location: shown(Some(url), None),
            reason,
        };
        if *method != Method::GET {
            return Err(refuse(
                status,
                &url,
                format!(
                    "only a GET follows a redirect to storage; a {method} would send its body \
                     to another host"
                ),
            ));
        }
        if let Err(reason) = storage_url(&url) {
            return Err(refuse(status, &url, reason));
        }
        let mut pending = audit::storage(client, operation, &url);
        let request = follow_up(Method::GET, url.clone(), headers);
        let mut response = match client.client.execute(request).await {
            Ok(response) => response,
            Err(error) => {
                let error = Error::transport(operation, error.without_url());
                pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                return Err(error);
            }
        };
        status = response.status();
        pending.answered(status);
        let answer_headers = std::mem::take(response.headers_mut());
        if status.is_redirection() {
            pending.finish(Outcome::Answered, None);
            hops = hops.saturating_add(1);
            let location = answer_headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok());
            let next = location.and_then(|l| url.join(l).ok());
            if hops > MAX_REDIRECTS {
                return Err(Error::Redirect {
                    operation: operation.name,
                    status,
                    location: shown(next.as_ref(), location),
                    reason: format!(
                        "more than {MAX_REDIRECTS} redirects in a row (a loop, or a server that \
                         misbehaves)"
                    ),
                });
            }
            let Some(next) = next else {
                return Err(refuse(
                    status,
                    &url,
                    "the storage host redirected without a Location that is a URL".into(),
                ));
            };
            url = next;
            continue;
        }
        if !status.is_success() {
            let body = read_prefix(&mut response, 512).await.unwrap_or_default();
            let error = refuse(
                status,
                &url,
                format!(
                    "the storage host answered {status}{}",
                    if body.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", snippet(&body))
                    }
                ),
            );
            pending.finish(Outcome::Answered, Some(error.to_string()));
            return Err(error);
        }
        let payload = match read {
            Read::Stream => Payload::Stream(response),
            Read::Whole => match response.bytes().await {
                Ok(body) => Payload::Whole(body),
                Err(error) => {
                    let error = Error::transport(operation, error.without_url());
                    pending.finish(Outcome::NoAnswer, Some(error.to_string()));
                    return Err(error);
                }
            },
        };
        pending.finish(Outcome::Answered, None);
        return Ok((status, answer_headers, payload, operation, url));
    }
}

/// Whether a storage redirect may go to `url`: `https://`, or plain `http://` to loopback
/// (a local test server), and no user information.
fn storage_url(url: &Url) -> Result<(), String> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err("a storage URL with a user name or password is not followed".into());
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if endpoint::is_loopback(url) => Ok(()),
        scheme => Err(format!(
            "storage is followed only over https:// (or plain http:// to loopback), not {scheme}://"
        )),
    }
}

/// Sends attempts until one succeeds or the failure is final. Each attempt is admitted on
/// its own, gets credentials (an OAuth token may have been renewed meanwhile), and leaves
/// one audit record. Every attempt after the first must end within the retry budget.
///
/// A request whose body is a stream (an upload) cannot be copied, so it is sent once and
/// never retried.
async fn attempts(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    from: Option<&'static Operation>,
    read: Read,
    started: Instant,
    span: &tracing::Span,
) -> Result<Step, Error> {
    let state = &client.inner;
    let budget = state.retry.total_budget();
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
                operation: operation.name,
                message: "the request body is a stream, which is sent once; it cannot be sent \
                          again"
                    .into(),
            });
        };
        let number = sent.saturating_add(1);
        let method = attempt.method().clone();
        let admission = admission::admit(state, operation, attempt.url());
        if let Decision::Denied(reason) = &admission.decision {
            let error = Error::Denied {
                operation: operation.name,
                reason: reason.clone(),
            };
            audit::denied(client, operation, &method, admission, number, from);
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

        let mut pending = audit::request(client, operation, &method, admission, sent);
        pending.redirected_from(from);
        let cap = (read == Read::Whole && operation.answer == Answer::Json)
            .then_some(state.max_json_body);
        let answer = match within(
            deadline,
            send(client, attempt, &mut pending, span, read, cap),
        )
        .await
        {
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
                    Ok(delay) if !once => {
                        tracing::info!(%error, ?delay, retry = retries + 1, "no answer; retrying");
                        tokio::time::sleep(delay).await;
                        retries = retries.saturating_add(1);
                        continue;
                    }
                    _ => return Err(error),
                }
            }
        };
        let rate_limit = observe_rate_limit(client, &headers);

        if status.is_success() {
            if let Payload::TooLarge = body {
                let error = too_large(client, operation);
                pending.finish(Outcome::Answered, Some(error.to_string()));
                return Err(error);
            }
            pending.finish(Outcome::Answered, None);
            return Ok(Step::Done(status, headers, body));
        }
        if status.is_redirection() {
            // Followed or refused by the caller, as the operation declares.
            pending.finish(Outcome::Answered, None);
            let location = headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            return Ok(Step::Redirect(status, location));
        }
        let body = match body {
            Payload::Whole(body) => body,
            Payload::Stream(_) | Payload::TooLarge => Bytes::new(),
        };

        // A 401 means the request was not processed, so sending it again is safe for any
        // method; only once, so refused credentials are reported instead of looping.
        if status == StatusCode::UNAUTHORIZED && !renewed_after_401 && !once {
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
            _ if once => None,
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

pub(crate) use bitbucket_core::endpoint::encode_file_path;

/// `future`'s output, or `None` when `deadline` passes first.
async fn within<F: Future>(deadline: Option<tokio::time::Instant>, future: F) -> Option<F::Output> {
    match deadline {
        None => Some(future.await),
        Some(deadline) => tokio::time::timeout_at(deadline, future).await.ok(),
    }
}

/// One attempt: status, headers and body. A 2xx body is read as `read` says (a JSON one up
/// to `cap` bytes), a failed answer's up to [`ERROR_BODY_LIMIT`] bytes, a redirect's not at
/// all. A failure comes without the request's URL, whose query (a cursor, a search) must
/// stay out of logs and errors.
async fn send(
    client: &Client,
    attempt: reqwest::Request,
    pending: &mut Pending,
    span: &tracing::Span,
    read: Read,
    cap: Option<u64>,
) -> Result<(StatusCode, HeaderMap, Payload), reqwest::Error> {
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
        match (read, cap) {
            (Read::Stream, _) => return Ok((status, headers, Payload::Stream(response))),
            (Read::Whole, None) => Payload::Whole(
                response
                    .bytes()
                    .await
                    .map_err(reqwest::Error::without_url)?,
            ),
            (Read::Whole, Some(cap)) => match read_capped(&mut response, cap)
                .await
                .map_err(reqwest::Error::without_url)?
            {
                Some(body) => Payload::Whole(body),
                None => Payload::TooLarge,
            },
        }
    } else if status.is_redirection() {
        Payload::Whole(Bytes::new())
    } else {
        Payload::Whole(
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
        match Completion::accepted(self.status, &self.headers, &self.body) {
            Some(accepted) => Ok(accepted),
            None => self.json(operation).map(Completion::Done),
        }
    }
}
