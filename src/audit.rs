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
//!   [`Decision::Allowed`](crate::policy::Decision::Allowed); they are only sent for calls
//!   the policy let out. The code exchange of [`crate::OAuth::exchange_code`] runs outside
//!   any client and is not recorded.
//! - **Denied requests**: a request the policy refuses is recorded with
//!   [`Outcome::Denied`]; nothing was sent.
//!
//! A call that fails before any request leaves (a required parameter is missing, a renewal of
//! the OAuth token failed earlier and is still cooling down) leaves no record. A record holds
//! no secret, no query string and no part of a successful answer's body: an answer that does
//! not decode is the caller's [`Error::Decode`](crate::Error::Decode), and its record says
//! only its status.

use std::sync::Arc;

use reqwest::{Method, Url};

use crate::Client;
use crate::operations::Operation;

/// How a request ended: see [`AuditRecord::outcome`].
pub use bitbucket_core::audit::Outcome;

/// One request of a client: who, what, where, whether the policy let it out, and how it
/// ended. Its `Display` is a sentence: "agent release-bot merged pull request 42 in ws/app:
/// allowed, 200 in 180 ms". Its fields are documented on the shared type.
pub type AuditRecord = bitbucket_core::audit::AuditRecord<Operation>;

/// Why a request was sent: see [`AuditRecord::purpose`]: a call of the record's operation,
/// a request for an OAuth token, a redirect followed on the same origin, or a download from
/// storage.
pub type Purpose = bitbucket_core::audit::Purpose<Operation>;

/// What the application does with each record (see [`crate::ClientBuilder::audit`]).
pub(crate) type AuditSink = bitbucket_core::audit::Sink<Operation>;

/// A client's agent and sink.
pub(crate) type Auditor = bitbucket_core::audit::Auditor<Operation>;

/// The record of one request on its way (see [`bitbucket_core::audit::Pending`]).
pub(crate) type Pending = bitbucket_core::audit::Pending<Operation>;

impl bitbucket_core::audit::Audited for Operation {
    fn name(&self) -> &'static str {
        self.name
    }

    fn trace(record: &AuditRecord) {
        bitbucket_core::__audit_event!("bitbucket_cloud::audit", record);
    }
}

/// The auditor of a client built with `agent` and `sink`.
pub(crate) fn auditor(agent: Option<String>, sink: Option<AuditSink>) -> Arc<Auditor> {
    Auditor::new(agent, sink)
}

/// A request to the OAuth token endpoint `token_url` for the call of `operation`.
pub(crate) fn token_request(
    client: &Client,
    operation: &'static Operation,
    grant: &'static str,
    token_url: &str,
) -> Pending {
    let auditor = &client.inner.auditor;
    auditor.pending(auditor.outside_the_api(
        operation,
        Purpose::OAuthToken { grant },
        Method::POST,
        token_url.to_string(),
    ))
}

/// A request to a storage host at `url` (its query left out of the record) that
/// `operation`'s answer redirected to.
pub(crate) fn storage(client: &Client, operation: &'static Operation, url: &Url) -> Pending {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let auditor = &client.inner.auditor;
    auditor.pending(auditor.outside_the_api(
        operation,
        Purpose::Storage,
        Method::GET,
        shown.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admission::Admission;
    use crate::operations::by_name;
    use crate::policy::Decision;

    fn line(name: &str, path: &str, decision: Decision, status: Option<u16>) -> String {
        let op = by_name(name).unwrap();
        let outcome = if decision.is_allowed() {
            Outcome::Answered
        } else {
            Outcome::Denied
        };
        let admission = Admission {
            path: path.into(),
            params: op.match_path(path),
            decision,
        };
        let mut record =
            auditor(Some("release-bot".into()), None).call(op, &op.method, admission, 1);
        record.outcome = outcome;
        record.status = status.map(|s| reqwest::StatusCode::from_u16(s).unwrap());
        record.duration = std::time::Duration::from_millis(180);
        record.to_string()
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
