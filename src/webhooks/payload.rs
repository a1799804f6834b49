//! The payloads of pull request and issue events.
//!
//! Like [`crate::types`], every field is optional (Bitbucket's payloads vary with their age and
//! with the event), and fields not listed here are kept in `extra`, so decoding then encoding a
//! payload loses nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::types::{Account, Comment, Issue, PullRequest, PullRequestComment, Repository};

payload! {
    /// `pullrequest:created`, `pullrequest:updated`, `pullrequest:fulfilled` (merged) and
    /// `pullrequest:rejected` (declined).
    pub struct PullRequestEvent {
        /// Who caused the event.
        pub actor: Option<Account>,
        /// The pull request, as it is after the event.
        pub pullrequest: Option<PullRequest>,
        /// The repository the pull request targets.
        pub repository: Option<Repository>,
    }
}

payload! {
    /// `pullrequest:approved` and `pullrequest:unapproved`.
    pub struct PullRequestApprovalEvent {
        /// Who approved or withdrew an approval.
        pub actor: Option<Account>,
        /// The pull request.
        pub pullrequest: Option<PullRequest>,
        /// The repository the pull request targets.
        pub repository: Option<Repository>,
        /// The approval given or withdrawn.
        pub approval: Option<Review>,
    }
}

payload! {
    /// `pullrequest:changes_request_created`.
    pub struct PullRequestChangesRequestEvent {
        /// Who requested changes.
        pub actor: Option<Account>,
        /// The pull request.
        pub pullrequest: Option<PullRequest>,
        /// The repository the pull request targets.
        pub repository: Option<Repository>,
        /// The request for changes.
        pub changes_request: Option<Review>,
    }
}

payload! {
    /// An approval or a request for changes: who, and when.
    pub struct Review {
        /// When, as Bitbucket wrote it (ISO 8601).
        pub date: Option<String>,
        /// Who.
        pub user: Option<Account>,
    }
}

payload! {
    /// `pullrequest:comment_created`.
    pub struct PullRequestCommentEvent {
        /// Who commented.
        pub actor: Option<Account>,
        /// The pull request commented on.
        pub pullrequest: Option<PullRequest>,
        /// The repository the pull request targets.
        pub repository: Option<Repository>,
        /// The comment.
        pub comment: Option<PullRequestComment>,
    }
}

payload! {
    /// `issue:created`.
    pub struct IssueEvent {
        /// Who created the issue.
        pub actor: Option<Account>,
        /// The issue.
        pub issue: Option<Issue>,
        /// The repository whose tracker holds the issue.
        pub repository: Option<Repository>,
    }
}

payload! {
    /// `issue:updated`: the issue after the update, what changed, and the comment that came with
    /// the change.
    pub struct IssueUpdatedEvent {
        /// Who updated the issue.
        pub actor: Option<Account>,
        /// The issue, as it is after the update.
        pub issue: Option<Issue>,
        /// The repository whose tracker holds the issue.
        pub repository: Option<Repository>,
        /// The comment posted with the update (its content may be empty).
        pub comment: Option<Comment>,
        /// What changed, by field name (`status`, `title`, `assignee`, `priority`, ...).
        pub changes: Option<BTreeMap<String, Change>>,
    }
}

payload! {
    /// One changed field of an `issue:updated` event.
    ///
    /// The values are whatever the field holds (a string for `status`, an account for `assignee`),
    /// so they are JSON. Some entries are not old/new pairs (an added `attachment` is described
    /// whole); their content is in `extra`.
    pub struct Change {
        /// The value before (`None` when it was unset).
        pub old: Option<Value>,
        /// The value after (`None` when it is now unset).
        pub new: Option<Value>,
    }
}

payload! {
    /// `issue:comment_created`.
    pub struct IssueCommentEvent {
        /// Who commented.
        pub actor: Option<Account>,
        /// The issue commented on.
        pub issue: Option<Issue>,
        /// The repository whose tracker holds the issue.
        pub repository: Option<Repository>,
        /// The comment.
        pub comment: Option<Comment>,
    }
}
