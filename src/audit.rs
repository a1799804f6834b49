//! The audit trail: one [`AuditRecord`] per request, allowed or denied, emitted as a `tracing`
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
//! Each page of a paginated call is one request, hence one record, under the operation that
//! started the pagination. A request that cannot be built (a required parameter is missing)
//! never reaches the policy and is not recorded.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::operations::{Operation, PathParams};
use crate::policy::Decision;
use crate::transport::Response;
use crate::{Client, Error};

/// What the application does with each record: write it to a file, a database, a channel.
/// Called on the task that made the request, after the outcome is known; keep it quick.
pub(crate) type AuditSink = Arc<dyn Fn(&AuditRecord) + Send + Sync>;

/// One request of a client: who, what, where, whether the policy let it out, and how it
/// ended. Its `Display` is a sentence: "agent release-bot merged pull request 42 in ws/app:
/// allowed, 200 in 180 ms".
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct AuditRecord {
    /// The label set with [`crate::ClientBuilder::agent`].
    pub agent: Option<String>,
    /// The operation; for a page of a list, the operation that started the pagination.
    pub operation: &'static Operation,
    /// The HTTP method of the request.
    pub method: Method,
    /// The path under the base URL, as sent (percent-encoded), without the query, which may
    /// hold search terms and page cursors.
    pub path: String,
    /// The path's parameters (`workspace`, `repo_slug`, `pull_request_id`, ...), or `None`
    /// when the path does not match the operation's template.
    pub params: Option<PathParams>,
    /// Whether the policy let the request out.
    pub decision: Decision,
    /// The status of the final answer (after retries); `None` when denied or unanswered.
    pub status: Option<StatusCode>,
    /// Why the call failed, when it failed without an answer, or with one.
    pub error: Option<String>,
    /// From the policy check to the outcome, retries included.
    pub duration: Duration,
}

impl AuditRecord {
    /// Whether the call was allowed and Bitbucket answered with a 2xx.
    pub fn succeeded(&self) -> bool {
        self.decision.is_allowed() && self.status.is_some_and(|s| s.is_success())
    }
}

impl fmt::Display for AuditRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.agent {
            Some(agent) => write!(f, "agent {agent} ")?,
            None => f.write_str("the client ")?,
        }
        let (past, base) = verb(self.operation.name);
        let object = object(self.operation, self.params.as_ref(), &self.path);
        let millis = self.duration.as_millis();
        match (&self.decision, self.status) {
            (Decision::Denied(reason), _) => {
                write!(f, "tried to {base} {object}: denied: {reason}")
            }
            (Decision::Allowed, Some(status)) if status.is_success() => {
                write!(
                    f,
                    "{past} {object}: allowed, {} in {millis} ms",
                    status.as_u16()
                )
            }
            (Decision::Allowed, Some(status)) => write!(
                f,
                "tried to {base} {object}: allowed, {} in {millis} ms",
                status.as_u16()
            ),
            (Decision::Allowed, None) => {
                write!(
                    f,
                    "tried to {base} {object}: allowed, failed after {millis} ms"
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

/// One request on its way through [`crate::transport::execute`]: checked against the
/// policy when it starts, recorded when it ends.
pub(crate) struct Call {
    record: AuditRecord,
    started: Instant,
}

impl Call {
    /// Checks `request` against the client's policy. A refused request is recorded and
    /// returned as [`Error::Denied`]; nothing is sent.
    pub(crate) fn begin(
        client: &Client,
        request: &reqwest::Request,
        operation: &'static Operation,
    ) -> Result<Call, Error> {
        let started = Instant::now();
        let state = &client.inner;
        let url_path = request.url().path();
        let base_path = state.base.path().trim_end_matches('/');
        let path = url_path.strip_prefix(base_path).unwrap_or(url_path);
        let params = operation.match_path(path);
        let decision = match &state.policy {
            Some(policy) => policy.decide(operation, params.as_ref()),
            None => Decision::Allowed,
        };
        let call = Call {
            record: AuditRecord {
                agent: state.agent.clone(),
                operation,
                method: request.method().clone(),
                path: path.to_string(),
                params,
                decision,
                status: None,
                error: None,
                duration: Duration::ZERO,
            },
            started,
        };
        if let Decision::Denied(reason) = &call.record.decision {
            let error = Error::Denied {
                operation: operation.name,
                reason: reason.clone(),
            };
            call.emit(client);
            return Err(error);
        }
        Ok(call)
    }

    /// Records the outcome of an allowed request.
    pub(crate) fn finish(mut self, client: &Client, outcome: &Result<Response, Error>) {
        match outcome {
            Ok(response) => self.record.status = Some(response.status),
            Err(error) => {
                self.record.status = error.status();
                self.record.error = Some(error.to_string());
            }
        }
        self.emit(client);
    }

    fn emit(mut self, client: &Client) {
        self.record.duration = self.started.elapsed();
        let record = &self.record;
        let status = record.status.map(|s| s.as_u16());
        let duration_ms = record.duration.as_millis() as u64;
        let agent = record.agent.as_deref().unwrap_or("");
        match &record.decision {
            Decision::Allowed => tracing::info!(
                target: "bitbucket_cloud::audit",
                agent,
                operation = record.operation.name,
                method = %record.method,
                path = %record.path,
                decision = "allowed",
                status,
                duration_ms,
                "{record}"
            ),
            Decision::Denied(reason) => tracing::warn!(
                target: "bitbucket_cloud::audit",
                agent,
                operation = record.operation.name,
                method = %record.method,
                path = %record.path,
                decision = "denied",
                reason = %reason,
                duration_ms,
                "{record}"
            ),
        }
        if let Some(sink) = &client.inner.audit {
            sink(record);
        }
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
            decision,
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
