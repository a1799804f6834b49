//! The path of every request: the shared loop of [`bitbucket_core::transport`] (attempts,
//! their audit records, credentials, rate-limit bookkeeping, retries, the JSON size limit),
//! given Cloud's admission (policy, path checks), credentials (OAuth renewal after a 401) and
//! hints; the redirects Cloud declares, followed around it; and the decoding of the answer.
//! The generated `send()` methods and the pagination streams call [`execute`]; the streamed
//! answers (files, logs, diffs) [`execute_streaming`].
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

use std::sync::{Arc, Mutex};
use std::time::Instant;

use bitbucket_core::audit::Auditor;
use bitbucket_core::body::read_prefix;
use bitbucket_core::retry::RetryConfig;
use bitbucket_core::transport::{self as shared, Payload, Read, Service, Step};
use reqwest::header::{self, HeaderMap};
use reqwest::{Method, StatusCode, Url};

use crate::admission::{self, Admission};
use crate::audit::{self, Outcome};
use crate::auth::Sent;
use crate::endpoint;
use crate::error::{ApiError, ErrorDetails, snippet};
use crate::operations::{self, Answer, Operation, Redirect};
use crate::rate_limit::RateLimit;
use crate::{Client, Error};

/// How many redirects one call follows, of all kinds together: Bitbucket's declared
/// redirects take one hop (two when storage redirects once more); more is a loop.
pub(crate) const MAX_REDIRECTS: u32 = 3;

/// A 2xx answer: status, headers, body as read, the operation whose answer it is, and the URL
/// that answered.
type Answered = (StatusCode, HeaderMap, Payload, &'static Operation, Url);

/// A successful answer whose body is still on its way: [`crate::body::Body`] reads it.
pub(crate) type Streamed = bitbucket_core::body::Streamed<Operation>;

/// A successful answer, read whole, with the decoders the generated `send()`s call.
pub(crate) type Response = shared::Whole;

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
    execute_at(client, request, operation)
        .await
        .map(|(response, ..)| response)
}

/// [`execute`], also saying which operation answered (the called one, or the one it
/// redirected to on the same origin, whose `next` links a list then follows) and the URL that
/// answered (after redirects).
pub(crate) async fn execute_at(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<(Response, &'static Operation, Url), Error> {
    let (status, headers, payload, operation, url) =
        run(client, request, operation, Read::Whole).await?;
    let body = match payload {
        Payload::Whole(body) => body,
        Payload::Stream(response) => response
            .bytes()
            .await
            .map_err(|e| Error::transport(operation, e.without_url()))?,
    };
    let response = Response {
        status,
        headers,
        body,
    };
    Ok((response, operation, url))
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
        Payload::Whole(_) => Err(Error::InvalidRequest {
            operation: operation.name,
            message: "the answer was read before it could be streamed (a bug in bitbucket-cloud)"
                .into(),
        }),
    }
}

/// The whole call, in its span: the operation's request, and the redirects it leads to.
async fn run(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
    read: Read,
) -> Result<Answered, Error> {
    let started = Instant::now();
    shared::in_span::<Sender, _, _>(operation, |span| {
        follow(client, request, operation, read, started, span)
    })
    .await
}

/// Sends the operation's request, then follows its redirects as its `redirect` fact allows.
async fn follow(
    client: &Client,
    mut request: reqwest::Request,
    mut operation: &'static Operation,
    read: Read,
    started: Instant,
    span: tracing::Span,
) -> Result<Answered, Error> {
    let state = &client.inner;
    let mut from: Option<&'static Operation> = None;
    let mut hops = 0u32;
    loop {
        let method = request.method().clone();
        let url = request.url().clone();
        let headers = request.headers().clone();
        let sender = Sender(client);
        let (status, location) = match shared::attempts(
            &sender, request, operation, from, read, started, &span,
        )
        .await?
        {
            Step::Done(answer) => {
                return Ok((answer.status, answer.headers, answer.body, operation, url));
            }
            Step::Redirect { status, location } => (status, location),
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

pub(crate) use bitbucket_core::endpoint::encode_file_path;

/// A client as the shared loop ([`bitbucket_core::transport`]) sees it. Cloud's part of the
/// loop: its admission ([`admission`]), its credentials (an OAuth token renewed after a 401),
/// the redirects it follows itself, the JSON size limit, and its errors.
struct Sender<'a>(&'a Client);

impl Service for Sender<'_> {
    type Operation = Operation;
    type Details = ErrorDetails;
    type Credentials = Sent;

    fn http(&self) -> &reqwest::Client {
        &self.0.client
    }

    fn retry(&self) -> &RetryConfig {
        &self.0.inner.retry
    }

    fn auditor(&self) -> &Arc<Auditor<Operation>> {
        &self.0.inner.auditor
    }

    fn rate_limit(&self) -> &Mutex<Option<RateLimit>> {
        &self.0.inner.rate_limit
    }

    fn describe(operation: &Operation) -> (&Method, &'static str) {
        (&operation.method, operation.path)
    }

    fn admit(&self, operation: &'static Operation, url: &Url) -> Admission {
        admission::admit(&self.0.inner, operation, url)
    }

    async fn authorize(
        &self,
        request: &mut reqwest::Request,
        operation: &'static Operation,
    ) -> Result<Sent, Error> {
        self.0
            .inner
            .auth
            .authorize(request, self.0, operation)
            .await
    }

    async fn renew_after_unauthorized(
        &self,
        credentials: Sent,
        operation: &'static Operation,
    ) -> Result<bool, Error> {
        self.0
            .inner
            .auth
            .renew_after_unauthorized(credentials, self.0, operation)
            .await
    }

    fn follows_redirects(&self) -> bool {
        true
    }

    fn body_cap(&self, operation: &'static Operation) -> Option<u64> {
        (operation.answer == Answer::Json).then_some(self.0.inner.max_json_body)
    }

    fn hint(&self, api: &ApiError, operation: &'static Operation) -> String {
        crate::error::hint(api, operation, &self.0.inner.auth)
    }
}
