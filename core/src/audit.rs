//! The audit machinery both products share: one [`AuditRecord`] for every HTTP request that
//! left a client, and one for every request its policy refused (which sends nothing). The
//! shared loop ([`crate::transport`]), and Cloud for its OAuth token requests and storage
//! redirects, make a [`Pending`] record for each request sent and finish it with its
//! [`Outcome`]; each finished record is emitted as a `tracing` event (target
//! `bitbucket_cloud::audit` or `bitbucket_data_center::audit`) and given to the sink set
//! with the product's `ClientBuilder::audit`.
//!
//! A record holds no secret: no header, no query string (which may hold search terms, page
//! cursors or a token), no part of a successful answer's body.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::path::PathParams;
use crate::policy::{Admission, Decision};

/// What an audit record needs of a product's operation type.
pub trait Audited: fmt::Debug + Send + Sync + Sized + 'static {
    /// The operation's method name on the client: `merge_pull_request`.
    fn name(&self) -> &'static str;

    /// Emits `record` as a `tracing` event under the product's target (see
    /// [`crate::__audit_event`]).
    fn trace(record: &AuditRecord<Self>);
}

/// What the application does with each record: write it to a file, a database, a channel.
/// Called on the task that made the request (or the one that dropped it), once its outcome is
/// known; keep it quick.
pub type Sink<O> = Arc<dyn Fn(&AuditRecord<O>) + Send + Sync>;

/// One request of a client: who, what, where, whether the policy let it out, and how it
/// ended. Its `Display` is a sentence: "agent release-bot merged pull request 42 in ws/app:
/// allowed, 200 in 180 ms".
///
/// `O` is the product's operation type: `bitbucket_cloud::audit::AuditRecord` and
/// `bitbucket_data_center::audit::AuditRecord` name this type with theirs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditRecord<O: 'static> {
    /// The label set with the client builder's `agent`.
    pub agent: Option<String>,
    /// The operation; for a page of a list, the operation that started the pagination; for an
    /// OAuth token request, the operation whose call needed the token.
    pub operation: &'static O,
    /// Whether the request is the operation's own or one made to authenticate it.
    pub purpose: Purpose<O>,
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
#[derive(Debug)]
#[non_exhaustive]
pub enum Purpose<O: 'static> {
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
        from: &'static O,
    },
    /// A request to a storage host that the operation's answer redirected to (a download, a
    /// finished step's log), sent without credentials. [`AuditRecord::path`] is the URL
    /// without its query, which holds the storage host's signature.
    Storage,
}

// By hand: derived, they would ask `O` to be `Copy` too.
impl<O> Clone for Purpose<O> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<O> Copy for Purpose<O> {}

impl<O: PartialEq> PartialEq for Purpose<O> {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Purpose::Call, Purpose::Call) | (Purpose::Storage, Purpose::Storage) => true,
            (Purpose::OAuthToken { grant: a }, Purpose::OAuthToken { grant: b }) => a == b,
            (Purpose::Redirected { from: a }, Purpose::Redirected { from: b }) => a == b,
            _ => false,
        }
    }
}

impl<O: Eq> Eq for Purpose<O> {}

/// How a request ended: see [`AuditRecord::outcome`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The policy refused it; nothing was sent.
    Denied,
    /// An answer came back: [`AuditRecord::status`] holds its status.
    Answered,
    /// It was sent and no answer came: the connection failed, or a time limit passed (the
    /// client's timeout, or the retry budget during a retry).
    NoAnswer,
    /// It was sent, then the call was dropped before its answer was read (a
    /// `tokio::time::timeout` around the call, a stream dropped with pages on their way).
    /// Bitbucket may or may not have processed it.
    Cancelled,
}

impl<O> AuditRecord<O> {
    /// Whether the request was allowed and Bitbucket answered with a 2xx.
    pub fn succeeded(&self) -> bool {
        self.decision.is_allowed()
            && self.outcome == Outcome::Answered
            && self.status.is_some_and(|s| s.is_success())
    }
}

impl<O: Audited> fmt::Display for AuditRecord<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.agent {
            Some(agent) => write!(f, "agent {agent} ")?,
            None => f.write_str("the client ")?,
        }
        let name = self.operation.name();
        let (past, base, object) = match self.purpose {
            Purpose::Call | Purpose::Redirected { .. } => {
                let (past, base) = verb(name);
                (past, base, object(name, self.params.as_ref(), &self.path))
            }
            Purpose::OAuthToken { grant } => (
                "obtained",
                "obtain",
                format!(
                    "an OAuth access token ({grant} grant) for `{name}` from {}",
                    self.path
                ),
            ),
            Purpose::Storage => (
                "downloaded",
                "download",
                format!(
                    "the answer of `{name}` from storage at {} (without credentials)",
                    self.path
                ),
            ),
        };
        let object = match self.purpose {
            Purpose::Redirected { from } => {
                format!("{object} (redirected from `{}`)", from.name())
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

/// The verbs of the operation names (`{verb}_{resource}`), in the past and in the base form.
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

/// `pullRequestId` as `pull_request_id` (Data Center's parameters are in camel case).
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// "pull request 42 in ws/app", "comments of pull request 42 in ws/app", "repository ws/app".
fn object(name: &str, params: Option<&PathParams>, path: &str) -> String {
    let (creates, words) = match split_verb(name) {
        Some((entry, rest)) => (entry.0 == "create", rest.replace('_', " ")),
        None => return format!("`{name}` on {path}"),
    };
    let Some(params) = params else {
        return format!("{words} at {path}");
    };
    let mut phrase = words.clone();
    let ids: Vec<(&str, &str)> = params
        .iter()
        .filter(|(name, _)| !params.is_scope(name))
        .collect();
    if let Some((param, value)) = ids.last() {
        let parent = snake(param)
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
        // The resource itself: "repository ws/app", "workspace ws", "project KEY".
        Some(resource)
            if ids.is_empty()
                && matches!(words.as_str(), "repository" | "workspace" | "project") =>
        {
            format!("{words} {resource}")
        }
        Some(resource) => format!("{phrase} in {resource}"),
        None => phrase,
    }
}

/// A client's audit settings: the agent named in its records and the application's sink.
pub struct Auditor<O: 'static> {
    agent: Option<String>,
    sink: Option<Sink<O>>,
}

impl<O> fmt::Debug for Auditor<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auditor")
            .field("agent", &self.agent)
            .field("sink", &self.sink.as_ref().map(|_| "set"))
            .finish()
    }
}

impl<O: Audited> Auditor<O> {
    /// Records labelled `agent`, given to `sink` (as well as emitted as `tracing` events).
    pub fn new(agent: Option<String>, sink: Option<Sink<O>>) -> Arc<Self> {
        Arc::new(Auditor { agent, sink })
    }

    /// The label named in every record.
    pub fn agent(&self) -> Option<&str> {
        self.agent.as_deref()
    }

    /// The record of a request of `operation`'s call admitted as `admission` says, before
    /// its outcome is known.
    pub fn call(
        &self,
        operation: &'static O,
        method: &Method,
        admission: Admission,
        attempt: u32,
    ) -> AuditRecord<O> {
        AuditRecord {
            agent: self.agent.clone(),
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

    /// The record of a request for `operation`'s call to somewhere other than the API (`url`,
    /// without its query): allowed, since the call was, and not judged by the policy itself.
    pub fn outside_the_api(
        &self,
        operation: &'static O,
        purpose: Purpose<O>,
        method: Method,
        url: String,
    ) -> AuditRecord<O> {
        AuditRecord {
            agent: self.agent.clone(),
            operation,
            purpose,
            method,
            path: url,
            params: None,
            decision: Decision::Allowed,
            attempt: 1,
            outcome: Outcome::Cancelled,
            status: None,
            error: None,
            duration: Duration::ZERO,
        }
    }

    /// `record` on its way: emitted when finished, or when dropped.
    pub fn pending(self: &Arc<Self>, record: AuditRecord<O>) -> Pending<O> {
        Pending {
            record: Some(record),
            started: Instant::now(),
            auditor: self.clone(),
        }
    }

    /// Records a request the policy refused; nothing was sent.
    pub fn denied(&self, mut record: AuditRecord<O>, redirected_from: Option<&'static O>) {
        record.outcome = Outcome::Denied;
        if let Some(from) = redirected_from {
            record.purpose = Purpose::Redirected { from };
        }
        self.emit(&record);
    }

    /// The `tracing` event of a record, and the application's sink.
    pub fn emit(&self, record: &AuditRecord<O>) {
        O::trace(record);
        if let Some(sink) = &self.sink {
            sink(record);
        }
    }
}

/// The record of one request on its way: created when the request is handed to the HTTP
/// client, emitted once when its outcome is known, or, if the call is dropped first, when it
/// is dropped (as [`Outcome::Cancelled`], or [`Outcome::Answered`] after
/// [`Pending::read_whole`]).
pub struct Pending<O: Audited> {
    record: Option<AuditRecord<O>>,
    started: Instant,
    auditor: Arc<Auditor<O>>,
}

impl<O: Audited> Pending<O> {
    /// Marks the record as that of a request made because `from` redirected to it.
    pub fn redirected_from(&mut self, from: Option<&'static O>) {
        if let (Some(record), Some(from)) = (&mut self.record, from) {
            record.purpose = Purpose::Redirected { from };
        }
    }

    /// The status arrived (the body may still be on its way).
    pub fn answered(&mut self, status: StatusCode) {
        if let Some(record) = &mut self.record {
            record.status = Some(status);
        }
    }

    /// The whole answer arrived: dropped from now on, the request is recorded as answered.
    pub fn read_whole(&mut self) {
        if let Some(record) = &mut self.record {
            record.outcome = Outcome::Answered;
        }
    }

    /// Records the outcome: an answer (whose status [`Pending::answered`] noted), or none;
    /// with the reason it failed, when it did.
    pub fn finish(mut self, outcome: Outcome, error: Option<String>) {
        if let Some(mut record) = self.record.take() {
            record.outcome = outcome;
            record.error = error;
            record.duration = self.started.elapsed();
            self.auditor.emit(&record);
        }
    }
}

impl<O: Audited> Drop for Pending<O> {
    fn drop(&mut self) {
        // Not finished: the call was dropped while this request was on its way (`Cancelled`,
        // as the record starts), or after its answer arrived (`Answered`).
        if let Some(mut record) = self.record.take() {
            record.duration = self.started.elapsed();
            self.auditor.emit(&record);
        }
    }
}

/// The fields of a record's `tracing` event that are not the record's own: used by
/// [`crate::__audit_event`].
#[doc(hidden)]
pub fn event_fields<O>(record: &AuditRecord<O>) -> (&str, &'static str, &'static str, u64) {
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
    let duration_ms = u64::try_from(record.duration.as_millis()).unwrap_or(u64::MAX);
    (agent, outcome, purpose, duration_ms)
}

/// Emits an [`AuditRecord`] as a `tracing` event under `target` (a literal: `tracing` keeps
/// it in a static), `info` when allowed, `warn` when denied. Each product's
/// [`Audited::trace`] calls it with its own target.
#[doc(hidden)]
#[macro_export]
macro_rules! __audit_event {
    ($target:literal, $record:expr) => {{
        let record = $record;
        let (agent, outcome, purpose, duration_ms) = $crate::audit::event_fields(record);
        let operation = $crate::audit::Audited::name(record.operation);
        let status = record.status.map(|s| s.as_u16());
        match &record.decision {
            $crate::policy::Decision::Allowed => $crate::__tracing::info!(
                target: $target,
                agent,
                operation,
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
            $crate::policy::Decision::Denied(reason) => $crate::__tracing::warn!(
                target: $target,
                agent,
                operation,
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
    }};
}
