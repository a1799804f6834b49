//! The payloads of repository events other than pushes and build statuses: `repo:fork`,
//! `repo:updated`, `repo:transfer` and `repo:commit_comment_created`.

use std::collections::BTreeMap;

use super::event::Shape;
use super::payload::Change;
use crate::types::{Account, Comment, Commit, Repository, Workspace};

payload! {
    /// `repo:fork`: a repository was forked.
    pub struct ForkEvent requires(fork) {
        /// Who forked it.
        pub actor: Option<Account>,
        /// The repository that was forked.
        pub repository: Option<Repository>,
        /// The new fork.
        pub fork: Option<Repository>,
    }
}

payload! {
    /// `repo:updated`: a repository's details (name, description, website, language, main
    /// branch...) changed.
    pub struct RepositoryUpdatedEvent requires(changes) {
        /// Who changed them.
        pub actor: Option<Account>,
        /// The repository, as it is after the change.
        pub repository: Option<Repository>,
        /// What changed, by field name (`name`, `full_name`, `description`, `website`,
        /// `language`, `links`, ...), each with its old and new value.
        pub changes: Option<BTreeMap<String, Change>>,
    }
}

payload! {
    /// `repo:transfer`: a repository moved to another workspace.
    ///
    /// The body must name where it came from: `previous_workspace`, or `previous_owner` as
    /// older deliveries did.
    pub struct RepositoryTransferEvent {
        /// Who transferred it.
        pub actor: Option<Account>,
        /// The repository, in its new workspace.
        pub repository: Option<Repository>,
        /// The workspace it was in.
        pub previous_workspace: Option<Workspace>,
        /// The account that owned it, in deliveries from before workspaces.
        pub previous_owner: Option<Account>,
    }
}

impl Shape for RepositoryTransferEvent {
    fn missing(&self) -> Option<&'static str> {
        (self.previous_workspace.is_none() && self.previous_owner.is_none())
            .then_some("previous_workspace")
    }
}

payload! {
    /// `repo:commit_comment_created`: a commit was commented on.
    pub struct CommitCommentEvent requires(comment, commit) {
        /// Who commented.
        pub actor: Option<Account>,
        /// The repository of the commit.
        pub repository: Option<Repository>,
        /// The comment (with `inline` when it is on a line of a file).
        pub comment: Option<Comment>,
        /// The commit commented on (often its `hash` only).
        pub commit: Option<Commit>,
    }
}
