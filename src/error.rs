//! [`Error`]: what went wrong with a call, and what to do about it.

use std::fmt;

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
///
/// The shared [`bitbucket_core::error::Error`] with Cloud's [`ErrorDetails`]: its variants and
/// methods are documented there.
pub type Error = bitbucket_core::error::Error<ErrorDetails>;

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

/// What to do about `api`, an answer to `operation` sent with `credentials`: Cloud's hint.
pub(crate) fn hint(api: &ApiError, operation: &Operation, credentials: &crate::Auth) -> String {
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
