//! The audit trail: one [`AuditRecord`] for every HTTP request that left the process, and one
//! for every request the policy refused (which sends nothing). Each is emitted as a `tracing`
//! event (target `bitbucket_cloud::audit`) and given to the sink set with
//! [`crate::ClientBuilder::audit`].
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use bitbucket_cloud::{Client, audit::AuditRecord};
//!
//! let trail: Arc<Mutex<Vec<String>>> = Arc::default();
//! let sink = trail.clone();
//! let client = Client::builder()
//!     .agent("release-bot")
//!     .audit(move |record: &AuditRecord| sink.lock().unwrap().push(record.to_string()))
//!     .build()?;
//! // After a merge, `trail` holds a line such as
//! // "agent release-bot merged pull request 42 in ws/app: allowed, 200 in 180 ms".
//! # Ok::<(), bitbucket_cloud::Error>(())
//! ```
//!
//! # What is recorded
//!
//! A record is about one request, not one call: the decision on it is taken by the transport
//! for each request it sends (see [`crate::policy`]), and this module only records it.
//!
//! - **Retries**: each attempt is a record. A call answered 429, retried and then answered
//!   200 leaves two, with [`AuditRecord::attempt`] 1 and 2; the re-sending after an OAuth
//!   token was renewed following a 401 is an attempt too.
//! - **Pages**: each page of a paginated call is a record, under the operation that started
//!   the pagination (a resumed cursor included).
//! - **Cancelled requests**: a request whose call was dropped after it was sent (a
//!   `tokio::time::timeout` around the call, a stream dropped with pages on their way) is
//!   recorded with [`Outcome::Cancelled`] when it is dropped. Bitbucket may or may not have
//!   processed it.
//! - **OAuth token requests**: a request the client sends to the OAuth token endpoint to
//!   obtain or renew the access token a call needs is a record too, under the operation of
//!   that call, with [`AuditRecord::purpose`] [`Purpose::OAuthToken`] and the token
//!   endpoint's URL as [`AuditRecord::path`]. The policy does not govern these requests (they
//!   carry the consumer's credentials, not the call), so their decision is always
//!   [`Decision::Allowed`]; they are only sent for calls the policy let out. The code exchange
//!   of [`crate::OAuth::exchange_code`] runs outside any client and is not recorded.
//! - **Denied requests**: a request the policy refuses is recorded with
//!   [`Outcome::Denied`]; nothing was sent.
//!
//! A call that fails before any request leaves (a required parameter is missing, a renewal of
//! the OAuth token failed earlier and is still cooling down) leaves no record. A record holds
//! no secret, no query string and no part of a successful answer's body: an answer that does
//! not decode is the caller's [`Error::Decode`](crate::Error::Decode), and its record says
//! only its status.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode, Url};

use crate::Client;
use crate::admission::Admission;
use crate::client::{Shared, State};
use crate::operations::{Operation, PathParams};
use crate::policy::Decision;

/// What the application does with each record: write it to a file, a database, a channel.
/// Called on the task that made the request (or the one that dropped it), once its outcome is
/// known; keep it quick.
pub(crate) type AuditSink = Arc<dyn Fn(&AuditRecord) + Send + Sync>;

/// One request of a client: who, what, where, whether the policy let it out, and how it
/// ended. Its `Display` is a sentence: "agent release-bot merged pull request 42 in ws/app:
/// allowed, 200 in 180 ms".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditRecord {
    /// The label set with [`crate::ClientBuilder::agent`].
    pub agent: Option<String>,
    /// The operation; for a page of a list, the operation that started the pagination; for an
    /// OAuth token request, the operation whose call needed the token.
    pub operation: &'static Operation,
    /// Whether the request is the operation's own or one made to authenticate it.
    pub purpose: Purpose,
    /// The HTTP method of the request.
    pub method: Method,
    /// The path under the base URL, as sent (percent-encoded), without the query, which may
    /// hold search terms and page cursors. For an OAuth token request, the token endpoint's
    /// URL.
    pub path: String,
    /// The path's parameters (`workspace`, `repo_slug`, `pull_request_id`, ...), or `None`
    /// when the path does not match the operation's template (such a request is denied) and
    /// for OAuth token requests.
    pub params: Option<PathParams>,
    /// Whether the policy let the request out.
    pub decision: Decision,
    /// Which sending of the call's request this is: 1 for the first, 2 for the first retry,
    /// and so on. Each page counts its own attempts. Always 1 for an OAuth token request.
    pub attempt: u32,
    /// How the request ended.
    pub outcome: Outcome,
    /// The status of the answer; `None` when denied, unanswered, or cancelled before the
    /// status arrived.
    pub status: Option<StatusCode>,
    /// Why the request failed, when it did and the client knows why: the error the call
    /// returned, or why there was no answer. `None` for an answer the client retried.
    pub error: Option<String>,
    /// From the decision to the outcome of this request.
    pub duration: Duration,
}

/// Why a request was sent: see [`AuditRecord::purpose`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Purpose {
    /// A request of the record's operation (an attempt, or a page of its list).
    Call,
    /// A request to the OAuth token endpoint for the access token the operation's call needed.
    OAuthToken {
        /// The grant asked for: `refresh_token` or `client_credentials`.
        grant: &'static str,
    },
    /// A request of the record's operation made because `from` answered with a redirect to it
    /// on the same origin (a pull request's diff leads to the repository's diff). The record
    /// of `from`'s request, with its 3xx, comes just before.
    Redirected {
        /// The operation whose answer redirected here.
        from: &'static Operation,
    },
    /// A request to a storage host that the operation's answer redirected to (a download, a
    /// finished step's log), sent without credentials. [`AuditRecord::path`] is the URL
    /// without its query, which holds the storage host's signature.
    Storage,
}

/// How a request ended: see [`AuditRecord::outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The policy refused it; nothing was sent.
    Denied,
    /// An answer came back: [`AuditRecord::status`] holds its status.
    Answered,
    /// It was sent and no answer came: the connection failed, or a time limit passed
    /// ([`crate::ClientBuilder::timeout`], or the retry budget during a retry).
    NoAnswer,
    /// It was sent, then the call was dropped before its answer was read (a
    /// `tokio::time::timeout` around the call, a stream dropped with pages on their way).
    /// Bitbucket may or may not have processed it.
    Cancelled,
}

impl AuditRecord {
    /// Whether the request was allowed and Bitbucket answered with a 2xx.
    pub fn succeeded(&self) -> bool {
        self.decision.is_allowed()
            && self.outcome == Outcome::Answered
            && self.status.is_some_and(|s| s.is_success())
    }
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.agent {
            Some(agent) => write!(f, "agent {agent} ")?,
            None => f.write_str("the client ")?,
        }
        let (past, base, object) = match self.purpose {
            Purpose::Call | Purpose::Redirected { .. } => {
                let (past, base) = verb(self.operation.name);
                let object = object(self.operation, self.params.as_ref(), &self.path);
                (past, base, object)
            }
            Purpose::OAuthToken { grant } => (
                "obtained",
                "obtain",
                format!(
                    "an OAuth access token ({grant} grant) for `{}` from {}",
                    self.operation.name, self.path
                ),
            ),
            Purpose::Storage => (
                "downloaded",
                "download",
                format!(
                    "the answer of `{}` from storage at {} (without credentials)",
                    self.operation.name, self.path
                ),
            ),
        };
        let object = match self.purpose {
            Purpose::Redirected { from } => {
                format!("{object} (redirected from `{}`)", from.name)
            }
            _ => object,
        };
        let millis = self.duration.as_millis();
        let attempt = if self.attempt > 1 {
            format!(" (attempt {})", self.attempt)
        } else {
            String::new()
        };
        match (&self.decision, self.outcome, self.status) {
            (Decision::Denied(reason), _, _) => {
                write!(f, "tried to {base} {object}: denied: {reason}")
            }
            (Decision::Allowed, Outcome::Answered, Some(status)) if status.is_success() => {
                write!(
                    f,
                    "{past} {object}: allowed, {} in {millis} ms{attempt}",
                    status.as_u16()
                )
            }
            (Decision::Allowed, Outcome::Answered, Some(status)) => write!(
                f,
                "tried to {base} {object}: allowed, {} in {millis} ms{attempt}",
                status.as_u16()
            ),
            (Decision::Allowed, Outcome::Cancelled, _) => write!(
                f,
                "tried to {base} {object}: allowed, cancelled by the caller after {millis} ms{attempt} \
                 (Bitbucket may or may not have processed it)"
            ),
            (Decision::Allowed, _, _) => {
                write!(
                    f,
                    "tried to {base} {object}: allowed, failed after {millis} ms{attempt}"
                )?;
                match &self.error {
                    Some(error) => write!(f, ": {error}"),
                    None => Ok(()),
                }
            }
        }
    }
}

/// The verbs of the operation names (`{verb}_{resource}`, see `spec/operations.toml`), in
/// the past and in the base form.
const VERBS: &[(&str, &str, &str)] = &[
    ("list", "listed", "list"),
    ("get", "read", "read"),
    ("create", "created", "create"),
    ("update", "updated", "update"),
    ("delete", "deleted", "delete"),
    ("merge", "merged", "merge"),
    ("approve", "approved", "approve"),
    ("decline", "declined", "decline"),
    (
        "request_changes_on",
        "requested changes on",
        "request changes on",
    ),
    ("run", "ran", "run"),
    ("stop", "stopped", "stop"),
];

fn split_verb(name: &str) -> Option<(&'static (&'static str, &'static str, &'static str), &str)> {
    VERBS.iter().find_map(|entry| {
        name.strip_prefix(entry.0)
            .and_then(|rest| rest.strip_prefix('_'))
            .map(|rest| (entry, rest))
    })
}

fn verb(name: &str) -> (&'static str, &'static str) {
    match split_verb(name) {
        Some((&(_, past, base), _)) => (past, base),
        None => ("called", "call"),
    }
}

/// "pull request 42 in ws/app", "comments of pull request 42 in ws/app", "repository ws/app".
fn object(op: &Operation, params: Option<&PathParams>, path: &str) -> String {
    let (creates, words) = match split_verb(op.name) {
        Some((entry, rest)) => (entry.0 == "create", rest.replace('_', " ")),
        None => return format!("`{}` on {path}", op.name),
    };
    let Some(params) = params else {
        return format!("{words} at {path}");
    };
    let mut phrase = words.clone();
    let ids: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| !matches!(*name, "workspace" | "repo_slug"))
        .collect();
    if let Some((param, value)) = ids.last() {
        let parent = param
            .trim_end_matches("_id")
            .trim_end_matches("_uuid")
            .trim_end_matches("_key")
            .replace('_', " ");
        phrase = match words.strip_prefix(&format!("{parent} ")) {
            // A part of the parent: "comments of pull request 42".
            Some(part) => {
                let preposition = if creates { "on" } else { "of" };
                format!("{part} {preposition} {parent} {value}")
            }
            None => format!("{words} {value}"),
        };
    }
    match params.resource() {
        // The resource itself: "repository ws/app", "workspace ws".
        Some(resource)
            if ids.is_empty() && matches!(words.as_str(), "repository" | "workspace") =>
        {
            format!("{words} {resource}")
        }
        Some(resource) => format!("{phrase} in {resource}"),
        None => phrase,
    }
}

/// The record of one request on its way: created when the request is handed to the HTTP
/// client, emitted once when its outcome is known, or, if the call is dropped first, when it
/// is dropped (as [`Outcome::Cancelled`]).
pub(crate) struct Pending {
    record: Option<AuditRecord>,
    started: Instant,
    state: Shared,
}

impl Pending {
    /// A request of a call, admitted as `admission` says, about to be sent.
    pub(crate) fn request(
        client: &Client,
        operation: &'static Operation,
        method: &Method,
        admission: Admission,
        attempt: u32,
    ) -> Pending {
        let record = call_record(client, operation, method, admission, attempt);
        Pending::new(client, record)
    }

    /// A request to the OAuth token endpoint `token_url` for the call of `operation`.
    pub(crate) fn token_request(
        client: &Client,
        operation: &'static Operation,
        grant: &'static str,
        token_url: &str,
    ) -> Pending {
        Pending::outside_the_api(
            client,
            operation,
            Purpose::OAuthToken { grant },
            Method::POST,
            token_url.to_string(),
        )
    }

    /// A request to a storage host at `url` (its query left out of the record) that
    /// `operation`'s answer redirected to.
    pub(crate) fn storage(client: &Client, operation: &'static Operation, url: &Url) -> Pending {
        let mut shown = url.clone();
        shown.set_query(None);
        shown.set_fragment(None);
        Pending::outside_the_api(
            client,
            operation,
            Purpose::Storage,
            Method::GET,
            shown.to_string(),
        )
    }

    /// A request for `operation`'s call to somewhere other than the API (`path` is its URL):
    /// allowed, since the call was, and not judged by the policy itself.
    fn outside_the_api(
        client: &Client,
        operation: &'static Operation,
        purpose: Purpose,
        method: Method,
        path: String,
    ) -> Pending {
        Pending::new(
            client,
            AuditRecord {
                agent: client.inner.agent.clone(),
                operation,
                purpose,
                method,
                path,
                params: None,
                decision: Decision::Allowed,
                attempt: 1,
                outcome: Outcome::Cancelled,
                status: None,
                error: None,
                duration: Duration::ZERO,
            },
        )
    }

    /// Marks the record as that of a request made because `from` redirected to it.
    pub(crate) fn redirected_from(&mut self, from: Option<&'static Operation>) {
        if let (Some(record), Some(from)) = (&mut self.record, from) {
            record.purpose = Purpose::Redirected { from };
        }
    }

    fn new(client: &Client, record: AuditRecord) -> Pending {
        Pending {
            record: Some(record),
            started: Instant::now(),
            state: client.inner.clone(),
        }
    }

    /// The status arrived (the body may still be on its way).
    pub(crate) fn answered(&mut self, status: StatusCode) {
        if let Some(record) = &mut self.record {
            record.status = Some(status);
        }
    }

    /// The whole answer arrived: dropped from now on, the request is recorded as answered.
    pub(crate) fn read_whole(&mut self) {
        if let Some(record) = &mut self.record {
            record.outcome = Outcome::Answered;
        }
    }

    /// Records the outcome: an answer (whose status [`Pending::answered`] noted), or none;
    /// with the reason it failed, when it did.
    pub(crate) fn finish(mut self, outcome: Outcome, error: Option<String>) {
        if let Some(mut record) = self.record.take() {
            record.outcome = outcome;
            record.error = error;
            record.duration = self.started.elapsed();
            emit(&self.state, &record);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        // Not finished: the call was dropped while this request was on its way (`Cancelled`,
        // as the record starts), or after its answer arrived (`Answered`).
        if let Some(mut record) = self.record.take() {
            record.duration = self.started.elapsed();
            emit(&self.state, &record);
        }
    }
}

/// Records a request the policy refused; nothing was sent.
pub(crate) fn denied(
    client: &Client,
    operation: &'static Operation,
    method: &Method,
    admission: Admission,
    attempt: u32,
    redirected_from: Option<&'static Operation>,
) {
    let mut record = call_record(client, operation, method, admission, attempt);
    record.outcome = Outcome::Denied;
    if let Some(from) = redirected_from {
        record.purpose = Purpose::Redirected { from };
    }
    emit(&client.inner, &record);
}

/// The record of a request of `operation`'s call, before its outcome is known.
fn call_record(
    client: &Client,
    operation: &'static Operation,
    method: &Method,
    admission: Admission,
    attempt: u32,
) -> AuditRecord {
    AuditRecord {
        agent: client.inner.agent.clone(),
        operation,
        purpose: Purpose::Call,
        method: method.clone(),
        path: admission.path,
        params: admission.params,
        decision: admission.decision,
        attempt,
        // Until the outcome is known: what a drop before then means.
        outcome: Outcome::Cancelled,
        status: None,
        error: None,
        duration: Duration::ZERO,
    }
}

/// The `tracing` event of a record, and the application's sink.
fn emit(state: &State, record: &AuditRecord) {
    let status = record.status.map(|s| s.as_u16());
    let duration_ms = u64::try_from(record.duration.as_millis()).unwrap_or(u64::MAX);
    let agent = record.agent.as_deref().unwrap_or("");
    let outcome = match record.outcome {
        Outcome::Denied => "denied",
        Outcome::Answered => "answered",
        Outcome::NoAnswer => "no answer",
        Outcome::Cancelled => "cancelled",
    };
    let purpose = match record.purpose {
        Purpose::Call => "call",
        Purpose::OAuthToken { .. } => "oauth token",
        Purpose::Redirected { .. } => "redirect",
        Purpose::Storage => "storage",
    };
    match &record.decision {
        Decision::Allowed => tracing::info!(
            target: "bitbucket_cloud::audit",
            agent,
            operation = record.operation.name,
            purpose,
            method = %record.method,
            path = %record.path,
            decision = "allowed",
            attempt = record.attempt,
            outcome,
            status,
            duration_ms,
            "{record}"
        ),
        Decision::Denied(reason) => tracing::warn!(
            target: "bitbucket_cloud::audit",
            agent,
            operation = record.operation.name,
            purpose,
            method = %record.method,
            path = %record.path,
            decision = "denied",
            reason = %reason,
            attempt = record.attempt,
            outcome,
            duration_ms,
            "{record}"
        ),
    }
    if let Some(sink) = &state.audit {
        sink(record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::by_name;

    fn line(name: &str, path: &str, decision: Decision, status: Option<u16>) -> String {
        let op = by_name(name).unwrap();
        AuditRecord {
            agent: Some("release-bot".into()),
            operation: op,
            method: op.method.clone(),
            path: path.into(),
            params: op.match_path(path),
            outcome: if decision.is_allowed() {
                Outcome::Answered
            } else {
                Outcome::Denied
            },
            decision,
            purpose: Purpose::Call,
            attempt: 1,
            status: status.map(|s| StatusCode::from_u16(s).unwrap()),
            error: None,
            duration: Duration::from_millis(180),
        }
        .to_string()
    }

    #[test]
    fn sentences() {
        let ok = |name, path| line(name, path, Decision::Allowed, Some(200));
        assert_eq!(
            ok(
                "merge_pull_request",
                "/repositories/ws/app/pullrequests/42/merge"
            ),
            "agent release-bot merged pull request 42 in ws/app: allowed, 200 in 180 ms"
        );
        let cases = [
            (
                "list_pull_requests",
                "/repositories/ws/app/pullrequests",
                "listed pull requests in ws/app",
            ),
            (
                "list_pull_request_comments",
                "/repositories/ws/app/pullrequests/7/comments",
                "listed comments of pull request 7 in ws/app",
            ),
            (
                "create_pull_request_comment",
                "/repositories/ws/app/pullrequests/7/comments",
                "created comment on pull request 7 in ws/app",
            ),
            (
                "get_pull_request_diff",
                "/repositories/ws/app/pullrequests/7/diff",
                "read diff of pull request 7 in ws/app",
            ),
            (
                "request_changes_on_pull_request",
                "/repositories/ws/app/pullrequests/7/request-changes",
                "requested changes on pull request 7 in ws/app",
            ),
            (
                "delete_branch",
                "/repositories/ws/app/refs/branches/old",
                "deleted branch old in ws/app",
            ),
            (
                "get_repository",
                "/repositories/ws/app",
                "read repository ws/app",
            ),
            ("get_workspace", "/workspaces/ws", "read workspace ws"),
            (
                "list_projects",
                "/workspaces/ws/projects",
                "listed projects in ws",
            ),
            (
                "run_pipeline",
                "/repositories/ws/app/pipelines",
                "ran pipeline in ws/app",
            ),
            ("get_current_user", "/user", "read current user"),
        ];
        for (name, path, expected) in cases {
            let sentence = ok(name, path);
            assert!(
                sentence.contains(&format!(" {expected}: allowed")),
                "{sentence}"
            );
        }
        assert_eq!(
            line(
                "merge_pull_request",
                "/repositories/ws/app/pullrequests/42/merge",
                Decision::Denied("no rule allows it".into()),
                None
            ),
            "agent release-bot tried to merge pull request 42 in ws/app: denied: no rule allows it"
        );
        assert!(
            line(
                "merge_pull_request",
                "/repositories/ws/app/pullrequests/42/merge",
                Decision::Allowed,
                Some(409)
            )
            .contains("tried to merge pull request 42 in ws/app: allowed, 409 in 180 ms")
        );
    }
}
