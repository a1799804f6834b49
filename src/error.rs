//! [`Error`]: what went wrong with a call, and what to do about it.

use std::fmt;
use std::time::Duration;

use bitbucket_core::transport::Failure;
use reqwest::StatusCode;

use crate::operations::Operation;
use crate::types;

/// Everything a call can fail with.
///
/// Bitbucket's own answers are [`Error::Api`], which keeps the status, headers, Bitbucket's
/// error body (`error.message`, `error.detail`, `error.fields`), the operation and a hint
/// that says what to do. `Display` puts it all in one line, ready for a CI log:
///
/// ```text
/// get_project: 403 Forbidden: Your credentials lack one or more required privilege scopes.
/// hint: the credentials lack the scope `project`: create a token (or configure the OAuth
/// consumer) with it
/// ```
///
/// ```no_run
/// use bitbucket_cloud::Error;
///
/// # async fn run(client: bitbucket_cloud::Client) {
/// match client.repo("ws", "app").get_pull_request().pull_request_id(7).send().await {
///     Ok(pr) => println!("{:?}", pr.title),
///     Err(Error::Api(e)) if e.status() == 404 => println!("no such PR (or no access to it)"),
///     Err(Error::Api(e)) if e.status() == 403 => {
///         eprintln!("missing scopes: {:?}; {}", e.missing_scopes(), e.hint())
///     }
///     Err(Error::Transport { timed_out: true, .. }) => eprintln!("Bitbucket did not answer in time"),
///     Err(e) => eprintln!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Bitbucket answered with an error status.
    #[error(transparent)]
    Api(Box<ApiError>),

    /// The client's policy refused the call; nothing was sent.
    #[error("{operation}: denied by the client's policy: {reason}")]
    Denied {
        /// The operation that was refused.
        operation: &'static str,
        /// Why, in words.
        reason: String,
    },

    /// The request could not be built: a required parameter is missing or a value does not
    /// convert.
    #[error("{operation}: invalid request: {message}")]
    InvalidRequest {
        /// The operation being built.
        operation: &'static str,
        /// What is wrong, e.g. "repo_slug was not initialized".
        message: String,
    },

    /// No answer came back: the connection failed or the time limit passed.
    #[error("{operation}: {}", transport_summary(*.timed_out))]
    Transport {
        /// The operation being sent.
        operation: &'static str,
        /// Whether the time limit ([`crate::ClientBuilder::timeout`]) passed.
        timed_out: bool,
        /// The underlying failure.
        #[source]
        source: reqwest::Error,
    },

    /// A successful answer whose body is not what the operation returns.
    #[error(
        "{operation}: the {status} response body does not decode ({source}); it starts with: {snippet}"
    )]
    Decode {
        /// The operation whose answer this is.
        operation: &'static str,
        /// The status of the answer.
        status: StatusCode,
        /// The beginning of the body.
        snippet: String,
        /// The decoding failure.
        #[source]
        source: serde_json::Error,
    },

    /// Credentials could not be obtained or refreshed (for example the OAuth token endpoint
    /// refused the refresh token).
    #[error("{operation}: authentication failed: {message}")]
    Auth {
        /// The operation that needed the credentials.
        operation: &'static str,
        /// What failed; never contains a secret.
        message: String,
    },

    /// A page's `next` link, or a cursor given to `resume`, points to another origin than the
    /// client's base URL; nothing was sent there, so no credentials left the client's origin.
    #[error(
        "{operation}: refusing to request a page from {origin}, which is not the client's origin \
         {expected}; credentials go only to the base URL's origin: check the client's base URL \
         (ClientBuilder::base_url), or that a resumed cursor comes from a client with the same one"
    )]
    ForeignNextLink {
        /// The paginated operation.
        operation: &'static str,
        /// The origin of the refused link.
        origin: String,
        /// The client's origin.
        expected: String,
    },

    /// A list's `next` links lead back to a page this stream already requested (a link to
    /// itself, or a cycle): the server's pagination is broken, and following it would send
    /// requests forever. The pages before were yielded; nothing more is requested.
    #[error(
        "{operation}: the list's `next` link leads back to a page this stream already requested \
         (after {pages} {}); stopped instead of requesting the same pages forever. The pages \
         before it were yielded; bound such lists with max_pages or max_items",
        if *pages == 1 { "page" } else { "pages" }
    )]
    PaginationLoop {
        /// The paginated operation.
        operation: &'static str,
        /// The pages received before the repeated link was seen.
        pages: u64,
    },

    /// The retry budget ran out while an attempt after the first was on its way; the attempt
    /// was abandoned. See [`crate::retry::RetryConfig::budget`].
    #[error(
        "{operation}: the retry budget of {:.1} s (RetryConfig::budget) ran out during attempt \
         {attempt}, which was abandoned; the request may or may not have been processed. Raise \
         the budget to let retries take longer",
        budget.as_secs_f64()
    )]
    BudgetExhausted {
        /// The operation being sent.
        operation: &'static str,
        /// The budget that ran out.
        budget: Duration,
        /// The attempt that was abandoned (2 for the first retry).
        attempt: u32,
    },

    /// Bitbucket answered with a redirect the client does not follow: one the operation does
    /// not declare, one that leads where that kind of redirect may not go, or too many in a
    /// row. Nothing was requested at `location`. See [`crate::operations::Redirect`].
    #[error("{operation}: {status} redirect to {location} not followed: {reason}")]
    Redirect {
        /// The operation whose answer (or whose redirect's answer) this is.
        operation: &'static str,
        /// The status of the redirect.
        status: StatusCode,
        /// Where it pointed, without its query (which may hold a signature) and user
        /// information; `(none)` when the answer had no usable `Location`.
        location: String,
        /// Why it was not followed, and what to do.
        reason: String,
    },

    /// A JSON answer is larger than the client's limit ([`crate::ClientBuilder::max_json_body`]);
    /// reading stopped at the limit, so no more than that was held.
    #[error(
        "{operation}: the JSON answer is larger than the limit of {limit} bytes, and was not \
         read further. hint: ask for less (`pagelen`, `fields`, a narrower `q`), or raise the \
         limit with ClientBuilder::max_json_body"
    )]
    TooLarge {
        /// The operation whose answer it is.
        operation: &'static str,
        /// The limit, in bytes.
        limit: u64,
    },

    /// The client is misconfigured (base URL, credentials in the environment, TLS).
    #[error("invalid client configuration: {0}")]
    Config(String),
}

fn transport_summary(timed_out: bool) -> &'static str {
    if timed_out {
        "no answer within the time limit (ClientBuilder::timeout); the request may or may not have been processed"
    } else {
        "could not reach Bitbucket (connection, DNS or TLS failure)"
    }
}

impl Error {
    /// The HTTP status, when Bitbucket answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::Api(e) => Some(e.status()),
            Error::Decode { status, .. } | Error::Redirect { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The operation that failed, when the error comes from one.
    pub fn operation(&self) -> Option<&'static str> {
        match self {
            Error::Api(e) => Some(e.operation()),
            Error::Denied { operation, .. }
            | Error::InvalidRequest { operation, .. }
            | Error::Transport { operation, .. }
            | Error::Decode { operation, .. }
            | Error::Auth { operation, .. }
            | Error::ForeignNextLink { operation, .. }
            | Error::PaginationLoop { operation, .. }
            | Error::BudgetExhausted { operation, .. }
            | Error::Redirect { operation, .. }
            | Error::TooLarge { operation, .. } => Some(operation),
            Error::Config(_) => None,
        }
    }

    /// Bitbucket's answer, when the error is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(e) => Some(e),
            _ => None,
        }
    }

    pub(crate) fn invalid_request(operation: &Operation, error: progenitor_client::Error) -> Self {
        let message = match error {
            progenitor_client::Error::InvalidRequest(message) => message,
            other => other.to_string(),
        };
        Error::InvalidRequest {
            operation: operation.name,
            message,
        }
    }

    /// `source` comes without its URL (see `transport::send`).
    pub(crate) fn transport(operation: &Operation, source: reqwest::Error) -> Self {
        Error::Transport {
            operation: operation.name,
            timed_out: source.is_timeout(),
            source,
        }
    }
}

/// Bitbucket's answer to a failed call: status, headers, error body, and a hint. The shared
/// [`bitbucket_core::error::ApiError`] with Cloud's [`ErrorDetails`], which it dereferences
/// to: `message()`, `detail()`, `fields()`, `missing_scopes()` and `body()` are theirs.
pub type ApiError = bitbucket_core::error::ApiError<ErrorDetails>;

/// Bitbucket Cloud's error body (`{"type": "error", "error": {"message", "detail", "fields"}}`),
/// as an [`ApiError`] holds it; empty when the answer carried none that decodes.
#[derive(Default)]
pub struct ErrorDetails {
    body: Option<types::ErrorBody>,
}

impl ErrorDetails {
    /// Bitbucket's error body, when the answer carried one that decodes.
    pub fn body(&self) -> Option<&types::ErrorBody> {
        self.body.as_ref()
    }

    /// `error.message` of Bitbucket's error body.
    pub fn message(&self) -> Option<&str> {
        self.inner()?.message.as_deref()
    }

    /// `error.detail`: a sentence, or an object (a 403 names the scopes it lacked there).
    pub fn detail(&self) -> Option<&serde_json::Value> {
        self.inner()?.detail.as_ref()
    }

    /// `error.fields`: per-field messages of a rejected request body.
    pub fn fields(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.inner()?.fields.as_ref()
    }

    /// The scopes a 403 says the credentials lack (`detail.required` not in `detail.granted`).
    pub fn missing_scopes(&self) -> Vec<String> {
        missing_scopes(self.detail())
    }

    fn inner(&self) -> Option<&types::ErrorDetail> {
        self.body.as_ref()?.error.as_deref()
    }
}

impl fmt::Debug for ErrorDetails {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ErrorDetails")
            .field("message", &self.message())
            // Bitbucket's JSON, with secret-named keys redacted like the generated types'.
            .field("detail", &self.detail().map(crate::redact::Shown))
            .field("fields", &self.fields().map(crate::redact::Shown))
            .finish()
    }
}

impl bitbucket_core::error::Details for ErrorDetails {
    fn parse(body: &[u8]) -> Option<Self> {
        serde_json::from_slice::<types::ErrorBody>(body)
            .ok()
            .filter(|e| e.error.is_some())
            .map(|body| ErrorDetails { body: Some(body) })
    }

    /// "message (detail); field: problem", each part when there is one.
    fn summary(&self) -> String {
        let message = self.message().unwrap_or_default();
        let mut parts = Vec::new();
        match (message, self.detail()) {
            ("", _) => {}
            (message, Some(serde_json::Value::String(detail))) => {
                parts.push(format!("{message} ({detail})"))
            }
            (message, _) => parts.push(message.to_string()),
        }
        for (name, problem) in self.fields().into_iter().flatten() {
            let problem = match problem {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(items) => items
                    .iter()
                    .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.to_string(),
            };
            let field = format!("{name}: {problem}");
            // Bitbucket often repeats the field's problem in the message.
            if !message.contains(&field) {
                parts.push(field);
            }
        }
        parts.join("; ")
    }
}

fn missing_scopes(detail: Option<&serde_json::Value>) -> Vec<String> {
    let Some(detail) = detail else {
        return Vec::new();
    };
    let list = |key: &str| -> Vec<String> {
        detail[key]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .map(str::to_string)
            .collect()
    };
    let granted = list("granted");
    list("required")
        .into_iter()
        .filter(|s| !granted.contains(s))
        .collect()
}

pub(crate) use bitbucket_core::redact::snippet;

/// The error of an error answer the transport kept, with Cloud's hint: what the operation
/// needs and what `credentials` are.
pub(crate) fn api(failure: Failure<Operation>, credentials: &crate::Auth) -> Error {
    let operation = failure.operation;
    Error::Api(Box::new(ApiError::new(failure, |api| {
        hint(api, operation, credentials)
    })))
}

fn hint(api: &ApiError, operation: &Operation, credentials: &crate::Auth) -> String {
    let gave_up = api
        .gave_up()
        .map(|g| g.to_string())
        .unwrap_or_else(|| "it was not retried".to_string());
    match api.status().as_u16() {
        400 | 422 => match api.fields() {
            Some(fields) if !fields.is_empty() => {
                let names: Vec<&String> = fields.keys().collect();
                format!(
                    "Bitbucket rejected the request's {}: correct {} and send it again",
                    quoted(&names),
                    it_or_them(&names)
                )
            }
            _ => String::new(),
        },
        409 => "the resource changed while the request was processed (for a merge: a branch \
                moved, or the pull request has conflicts); fetch it again, check its state, \
                and send the request again if it still applies"
            .to_string(),
        401 => format!(
            "Bitbucket did not accept {}: {}",
            credentials.describe(),
            credentials.unauthorized_hint()
        ),
        403 => forbidden_hint(api, operation, credentials),
        404 => "Bitbucket answers 404 both for what does not exist and for private resources \
                the credentials cannot see: check the workspace, repository and id, and that \
                the credentials have access"
            .to_string(),
        429 => {
            let wait = match api.retry_after() {
                Some(wait) => format!(
                    "it asked to wait {} s (Retry-After)",
                    wait.as_secs_f64().ceil()
                ),
                None => "it sent no Retry-After".to_string(),
            };
            let state = match api.rate_limit() {
                Some(rl) => format!(", and reports a limit of {rl}"),
                None => String::new(),
            };
            format!(
                "Bitbucket is rate-limiting these credentials: {wait}{state}; {gave_up}. Make \
                 fewer concurrent calls, use larger pages (pagelen), or raise RetryConfig::budget"
            )
        }
        500..=599 => format!(
            "Bitbucket had a server-side problem; {gave_up}. If it lasts, see \
             https://bitbucket.status.atlassian.com"
        ),
        _ => String::new(),
    }
}

/// Names the scope the body says is missing, or else the scopes this operation needs in the
/// family these credentials use.
fn forbidden_hint(api: &ApiError, op: &Operation, credentials: &crate::Auth) -> String {
    let missing = api.missing_scopes();
    let granular = credentials.uses_granular_scopes();
    if !missing.is_empty() {
        let mut hint = format!(
            "the credentials lack the {}: create a token (or configure the OAuth consumer) with \
             {}",
            scopes(&missing),
            it_or_them(&missing)
        );
        if granular && !op.granular_scopes.is_empty() {
            hint.push_str(&format!(
                "; as API-token scopes: {}",
                quoted(op.granular_scopes)
            ));
        }
        return hint;
    }
    if credentials.is_anonymous() {
        return format!(
            "{} needs credentials: set Auth::api_token or Auth::access_token",
            op.name
        );
    }
    let needs = if granular {
        needs(op.name, op.granular_scopes)
    } else {
        needs(op.name, op.scopes)
    };
    format!(
        "{needs}the account behind {} must have the permission the call needs (read, write or \
         admin) on this resource",
        credentials.describe()
    )
}

/// "`op` needs the scopes `a`, `b` (check the token has them), and ", or nothing when it needs
/// none.
fn needs<T: fmt::Display>(operation: &str, needed: &[T]) -> String {
    if needed.is_empty() {
        return String::new();
    }
    format!(
        "{operation} needs the {} (check the token has {}), and ",
        scopes(needed),
        it_or_them(needed)
    )
}

/// `` `a`, `b` ``.
fn quoted<T: fmt::Display>(list: &[T]) -> String {
    list.iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `` scope `a` `` or `` scopes `a`, `b` ``.
fn scopes<T: fmt::Display>(list: &[T]) -> String {
    let plural = if list.len() == 1 { "" } else { "s" };
    format!("scope{plural} {}", quoted(list))
}

/// The pronoun for `list` in "correct it", "create a token with them".
fn it_or_them<T>(list: &[T]) -> &'static str {
    if list.len() == 1 { "it" } else { "them" }
}
