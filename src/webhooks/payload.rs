//! The payloads of pull request and issue events.
//!
//! Like [`crate::types`], every field is optional (Bitbucket's payloads vary with their age and
//! with the event), and fields not listed here are kept in `extra`, so decoding then encoding a
//! payload loses nothing.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::types::{Account, Comment, Issue, Pullrequest, PullrequestComment, Repository};

/// `pullrequest:created`, `pullrequest:updated`, `pullrequest:fulfilled` (merged) and
/// `pullrequest:rejected` (declined).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PullRequestEvent {
    /// Who caused the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The pull request, as it is after the event.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pullrequest: Option<Pullrequest>,
    /// The repository the pull request targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `pullrequest:approved` and `pullrequest:unapproved`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PullRequestApprovalEvent {
    /// Who approved or withdrew an approval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The pull request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pullrequest: Option<Pullrequest>,
    /// The repository the pull request targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// The approval given or withdrawn.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval: Option<Review>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `pullrequest:changes_request_created`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PullRequestChangesRequestEvent {
    /// Who requested changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The pull request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pullrequest: Option<Pullrequest>,
    /// The repository the pull request targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// The request for changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes_request: Option<Review>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An approval or a request for changes: who, and when.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Review {
    /// When, as Bitbucket wrote it (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Who.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<Account>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `pullrequest:comment_created`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PullRequestCommentEvent {
    /// Who commented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The pull request commented on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pullrequest: Option<Pullrequest>,
    /// The repository the pull request targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// The comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<PullrequestComment>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `issue:created`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueEvent {
    /// Who created the issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<Issue>,
    /// The repository whose tracker holds the issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `issue:updated`: the issue after the update, what changed, and the comment that came with
/// the change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueUpdatedEvent {
    /// Who updated the issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The issue, as it is after the update.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<Issue>,
    /// The repository whose tracker holds the issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// The comment posted with the update (its content may be empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    /// What changed, by field name (`status`, `title`, `assignee`, `priority`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<BTreeMap<String, Change>>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One changed field of an `issue:updated` event.
///
/// The values are whatever the field holds (a string for `status`, an account for `assignee`),
/// so they are JSON. Some entries are not old/new pairs (an added `attachment` is described
/// whole); their content is in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// The value before (`None` when it was unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// The value after (`None` when it is now unset).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `issue:comment_created`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueCommentEvent {
    /// Who commented.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The issue commented on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issue: Option<Issue>,
    /// The repository whose tracker holds the issue.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// The comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<Comment>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
