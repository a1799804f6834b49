//! The path of every request: the shared loop of [`bitbucket_core::transport`] (attempts,
//! audit records, credentials, rate-limit bookkeeping, retries), given Data Center's
//! admission (own server, path template, policy) and errors, and the decoding of the answer.
//! The generated `send()`s and the page streams call [`execute`]; the `send_streaming()`s of
//! raw files, archives and diffs [`execute_streaming`].

use bitbucket_core::audit::Auditor;
use bitbucket_core::retry::RetryConfig;
use bitbucket_core::transport::{self as shared, Payload, Read, Service};
use reqwest::Method;

use crate::error::{ApiError, ErrorDetails};
use crate::operations::Operation;
use crate::policy::{Admission, Decision};
use crate::rate_limit::RateLimit;
use crate::{Client, Error};

/// A trailing `{path}` (a file's) keeps its slashes; see the function's docs.
pub(crate) use bitbucket_core::endpoint::encode_file_path;

/// A successful answer, read whole, with the decoders the generated `send()`s call.
pub(crate) type Response = shared::Whole;

/// A successful answer whose body is still on its way: [`crate::body::Body`] reads it.
pub(crate) type Streamed = bitbucket_core::body::Streamed<Operation>;

/// Sends `request` for `operation` through the shared loop ([`bitbucket_core::transport`]):
/// each attempt admitted and authenticated, retried as the client's `RetryConfig` allows, in
/// one `tracing` span. Returns the answer when it is 2xx.
pub(crate) async fn execute(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Response, Error> {
    let answer = shared::call(&Sender(client), request, operation, Read::Whole).await?;
    let body = match answer.body {
        Payload::Whole(body) => body,
        Payload::Stream(response) => response
            .bytes()
            .await
            .map_err(|source| Error::transport(operation, source))?,
    };
    Ok(Response {
        status: answer.status,
        headers: answer.headers,
        body,
    })
}

/// Like [`execute`], but a 2xx answer's body is left to the caller to stream: memory stays
/// bounded whatever its size.
pub(crate) async fn execute_streaming(
    client: &Client,
    request: reqwest::Request,
    operation: &'static Operation,
) -> Result<Streamed, Error> {
    let answer = shared::call(&Sender(client), request, operation, Read::Stream).await?;
    match answer.body {
        Payload::Stream(body) => Ok(Streamed {
            status: answer.status,
            headers: answer.headers,
            body,
            operation,
        }),
        // `Read::Stream` leaves every 2xx body unread.
        Payload::Whole(_) => Err(Error::InvalidRequest {
            operation: operation.name,
            message: format!(
                "the {} answer was read before it could be streamed (a bug in \
                 bitbucket-data-center)",
                answer.status
            ),
        }),
    }
}

/// A client as the shared loop sees it. Data Center's part of the loop: its admission, its
/// credentials (no renewal: a token or password is what it is) and its errors. Redirects are
/// the HTTP client's to follow (it drops credentials on a redirect to another origin).
struct Sender<'a>(&'a Client);

impl Service for Sender<'_> {
    type Operation = Operation;
    type Details = ErrorDetails;
    type Credentials = ();

    fn http(&self) -> &reqwest::Client {
        &self.0.client
    }

    fn retry(&self) -> &RetryConfig {
        &self.0.inner.retry
    }

    fn auditor(&self) -> &std::sync::Arc<Auditor<Operation>> {
        &self.0.inner.auditor
    }

    fn rate_limit(&self) -> &std::sync::Mutex<Option<RateLimit>> {
        &self.0.inner.rate_limit
    }

    fn describe(operation: &Operation) -> (&Method, &'static str) {
        (&operation.method, operation.path)
    }

    fn admit(&self, operation: &'static Operation, url: &reqwest::Url) -> Admission {
        admit(self.0, url, operation)
    }

    async fn authorize(
        &self,
        request: &mut reqwest::Request,
        operation: &'static Operation,
    ) -> Result<(), Error> {
        self.0
            .inner
            .auth
            .apply(request)
            .map_err(|message| Error::InvalidRequest {
                operation: operation.name,
                message,
            })
    }

    fn hint(&self, api: &ApiError, _operation: &'static Operation) -> String {
        crate::error::hint(api)
    }
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
