//! The audit trail: one [`AuditRecord`] for every HTTP request that left the process, and one
//! for every request the policy refused (which sends nothing). Each is emitted as a `tracing`
//! event (target `bitbucket_data_center::audit`) and given to the sink set with
//! [`crate::ClientBuilder::audit`]. The records, and this machinery, are those of
//! `bitbucket-cloud` (shared through `bitbucket-core`).
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use bitbucket_data_center::{Client, audit::AuditRecord};
//!
//! let trail: Arc<Mutex<Vec<String>>> = Arc::default();
//! let sink = trail.clone();
//! let client = Client::builder()
//!     .server_url("https://bitbucket.example.com")
//!     .agent("release-bot")
//!     .audit(move |record: &AuditRecord| sink.lock().unwrap().push(record.to_string()))
//!     .build()?;
//! // After a merge, `trail` holds a line such as "agent release-bot merged pull request 42
//! // in PRJ/app: allowed, 200 in 180 ms".
//! # Ok::<(), bitbucket_data_center::Error>(())
//! ```
//!
//! # What is recorded
//!
//! A record is about one request, not one call: the decision on it is taken by the transport
//! for each request it sends (see [`crate::policy`]), and this module only records it.
//!
//! - **Retries**: each attempt is a record. A call answered 429, retried and then answered
//!   200 leaves two, with [`AuditRecord::attempt`] 1 and 2.
//! - **Pages**: each page of a paginated call is a record, under the operation that started
//!   the pagination.
//! - **Cancelled requests**: a request whose call was dropped after it was sent (a
//!   `tokio::time::timeout` around the call) is recorded with [`Outcome::Cancelled`] when it
//!   is dropped. The server may or may not have processed it.
//! - **Denied requests**: a request the policy refuses, or whose URL is not under the
//!   client's API root or not an instance of its operation's path, is recorded with
//!   [`Outcome::Denied`]; nothing was sent.
//!
//! A call that fails before any request leaves (a required parameter is missing) leaves no
//! record. A record holds no secret, no query string and no part of a successful answer's
//! body: its path is the request's path under `<server>/rest`, as sent, without the query.

use crate::operations::Operation;

/// How a request ended: see [`AuditRecord::outcome`].
pub use bitbucket_core::audit::Outcome;

/// One request of a client: who, what, where, whether the policy let it out, and how it
/// ended. Its `Display` is a sentence: "agent release-bot merged pull request 42 in PRJ/app:
/// allowed, 200 in 180 ms". Its fields are documented on the shared type.
pub type AuditRecord = bitbucket_core::audit::AuditRecord<Operation>;

/// Why a request was sent: see [`AuditRecord::purpose`]. Data Center's requests are all
/// [`Purpose::Call`]s of their operation.
pub type Purpose = bitbucket_core::audit::Purpose<Operation>;

/// What the application does with each record (see [`crate::ClientBuilder::audit`]).
pub(crate) type AuditSink = bitbucket_core::audit::Sink<Operation>;

/// A client's agent and sink.
pub(crate) type Auditor = bitbucket_core::audit::Auditor<Operation>;

impl bitbucket_core::audit::Audited for Operation {
    fn name(&self) -> &'static str {
        self.name
    }

    fn trace(record: &AuditRecord) {
        bitbucket_core::__audit_event!("bitbucket_data_center::audit", record);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::by_name;
    use crate::policy::{Admission, Decision};

    fn line(name: &str, path: &str, decision: Decision, status: Option<u16>) -> String {
        let op = by_name(name).unwrap();
        let admission = Admission {
            path: path.into(),
            params: op.match_path(path),
            decision,
        };
        let mut record =
            Auditor::new(Some("release-bot".into()), None).call(op, &op.method, admission, 1);
        record.outcome = bitbucket_core::audit::Outcome::Answered;
        record.status = status.map(|s| reqwest::StatusCode::from_u16(s).unwrap());
        record.duration = std::time::Duration::from_millis(180);
        record.to_string()
    }

    #[test]
    fn sentences_name_the_project_and_repository() {
        let ok = |name, path| line(name, path, Decision::Allowed, Some(200));
        let cases = [
            (
                "get_pull_request",
                "/api/latest/projects/PRJ/repos/app/pull-requests/42",
                "read pull request 42 in PRJ/app",
            ),
            (
                "get_repository",
                "/api/latest/projects/PRJ/repos/app",
                "read repository PRJ/app",
            ),
            (
                "get_project",
                "/api/latest/projects/PRJ",
                "read project PRJ",
            ),
        ];
        for (name, path, expected) in cases {
            let sentence = ok(name, path);
            assert!(
                sentence.starts_with(&format!(
                    "agent release-bot {expected}: allowed, 200 in 180 ms"
                )),
                "{sentence}"
            );
        }
        let denied = line(
            "get_pull_request",
            "/api/latest/projects/PRJ/repos/app/pull-requests/42",
            Decision::Denied("no rule allows it".into()),
            None,
        );
        assert_eq!(
            denied,
            "agent release-bot tried to read pull request 42 in PRJ/app: denied: no rule allows it"
        );
    }
}
