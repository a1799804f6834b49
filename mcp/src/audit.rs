//! One audit record per tool call, appended as a JSON line to the gateway's audit file and
//! emitted as a `tracing` event (target `bitbucket_cloud_mcp::audit`).
//!
//! A call's decision and status come from the crate's own audit records
//! ([`bitbucket_cloud::audit::AuditRecord`]): the policy decision is taken in the client's
//! transport, once per request, and the gateway sums up a call's requests in one line. Calls
//! the gateway refuses before sending anything (an unknown tool, malformed arguments, a spent
//! budget, a missing key) are recorded too.
//!
//! A line looks like this (one line in the file):
//!
//! ```json
//! {"time":"2026-03-02T10:15:04.212Z","agent":"release-bot","tool":"merge_pull_request",
//!  "operation":"merge_pull_request","resource":"acme/website","decision":"allowed",
//!  "status":200,"requests":1,"duration_ms":41}
//! ```
//!
//! Records never hold a secret: no key, no credential, no argument values but the resource,
//! no request body.

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bitbucket_cloud::audit::AuditRecord;
use bitbucket_cloud::operations::PathParams;
use bitbucket_cloud::policy::Decision as PolicyDecision;
use serde::Serialize;

/// Whether a call was let through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The policy allowed every request of the call.
    Allowed,
    /// The policy, the agent's tool list or its budget refused it; nothing was sent.
    Denied,
    /// The call was malformed (arguments that do not fit the tool); nothing was sent.
    Rejected,
}

/// One tool call.
#[derive(Clone, Debug, Serialize)]
pub struct CallRecord {
    /// When the call arrived (UTC, RFC 3339 with milliseconds).
    pub time: String,
    /// The agent, or `None` for a request refused for its key.
    pub agent: Option<String>,
    /// The tool called.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    /// The Bitbucket operation behind the tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<&'static str>,
    /// `workspace`, `workspace/repository` or `workspace/project:KEY`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    /// Whether it was let through.
    pub decision: Decision,
    /// Why it was denied or rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The status of Bitbucket's last answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Requests sent to Bitbucket.
    pub requests: u32,
    /// From the call's arrival to its result.
    pub duration_ms: u64,
    /// What kind of failure the call ended in (`api`, `transport`, `budget`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

impl CallRecord {
    /// A record of a call that arrived now.
    pub fn new(agent: Option<&str>, tool: Option<&str>) -> CallRecord {
        CallRecord {
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            agent: agent.map(str::to_string),
            tool: tool.map(str::to_string),
            operation: None,
            resource: None,
            decision: Decision::Rejected,
            reason: None,
            status: None,
            requests: 0,
            duration_ms: 0,
            error: None,
        }
    }

    /// Sets the duration.
    pub fn took(mut self, duration: Duration) -> CallRecord {
        self.duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX);
        self
    }
}

/// Where records go: the JSON-lines file, if any, and `tracing`.
#[derive(Clone, Debug, Default)]
pub struct AuditLog {
    file: Option<Arc<(PathBuf, Mutex<File>)>>,
}

impl AuditLog {
    /// Records to `tracing` only.
    pub fn tracing_only() -> AuditLog {
        AuditLog::default()
    }

    /// Appends to the file at `path` (created if needed), and to `tracing`.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(AuditLog {
            file: Some(Arc::new((path.to_path_buf(), Mutex::new(file)))),
        })
    }

    /// The file records are appended to.
    pub fn path(&self) -> Option<&Path> {
        self.file.as_ref().map(|f| f.0.as_path())
    }

    /// Writes one record.
    pub fn record(&self, record: &CallRecord) {
        let decision = match record.decision {
            Decision::Allowed => "allowed",
            Decision::Denied => "denied",
            Decision::Rejected => "rejected",
        };
        tracing::info!(
            target: "bitbucket_cloud_mcp::audit",
            agent = record.agent.as_deref().unwrap_or("-"),
            tool = record.tool.as_deref().unwrap_or("-"),
            operation = record.operation.unwrap_or("-"),
            resource = record.resource.as_deref().unwrap_or("-"),
            decision,
            reason = record.reason.as_deref().unwrap_or(""),
            status = record.status,
            requests = record.requests,
            duration_ms = record.duration_ms,
            error = record.error.unwrap_or(""),
            "tool call"
        );
        let Some(file) = &self.file else { return };
        let mut line = match serde_json::to_vec(record) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(%e, "an audit record does not serialize");
                return;
            }
        };
        line.push(b'\n');
        // One write of the whole line to a file opened for appending: lines of concurrent
        // calls never interleave.
        let mut file_guard = file.1.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = file_guard.write_all(&line) {
            tracing::error!(path = %file.0.display(), %e, "cannot append to the audit log");
        }
    }
}

tokio::task_local! {
    /// The call whose requests are under way on this task.
    static TRAIL: Arc<Mutex<Trail>>;
}

/// What the crate's audit records said about one call's requests.
#[derive(Clone, Debug, Default)]
pub(crate) struct Trail {
    /// Requests the policy let out.
    pub requests: u32,
    /// The policy's reason, if it refused one.
    pub denied: Option<String>,
    /// The last answer's status.
    pub status: Option<u16>,
    /// The resource of the last request.
    pub resource: Option<String>,
}

impl Trail {
    /// Runs `call` with its requests' records gathered into a new trail.
    pub(crate) async fn follow<F: Future>(call: F) -> (F::Output, Trail) {
        let trail = Arc::new(Mutex::new(Trail::default()));
        let output = TRAIL.scope(trail.clone(), call).await;
        let trail = trail.lock().unwrap_or_else(PoisonError::into_inner).clone();
        (output, trail)
    }

    /// Adds a record of the crate's to the trail of the call running on this task, if any.
    /// The crate calls its audit sink on the task that made the request.
    pub(crate) fn observe(record: &AuditRecord) {
        let _ = TRAIL.try_with(|trail| {
            let mut trail = trail.lock().unwrap_or_else(PoisonError::into_inner);
            match &record.decision {
                PolicyDecision::Allowed => trail.requests = trail.requests.saturating_add(1),
                PolicyDecision::Denied(reason) => trail.denied = Some(reason.clone()),
            }
            if let Some(status) = record.status {
                trail.status = Some(status.as_u16());
            }
            if let Some(resource) = record.params.as_ref().and_then(resource) {
                trail.resource = Some(resource);
            }
        });
    }
}

/// `ws`, `ws/repo` or `ws/project:KEY` from a request's path parameters.
pub fn resource(params: &PathParams) -> Option<String> {
    let workspace = params.get("workspace")?;
    Some(match (params.get("repo_slug"), params.get("project_key")) {
        (Some(repo), _) => format!("{workspace}/{repo}"),
        (None, Some(key)) => format!("{workspace}/project:{key}"),
        (None, None) => workspace.to_string(),
    })
}
