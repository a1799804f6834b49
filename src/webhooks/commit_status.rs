//! The payload of `repo:commit_status_created` and `repo:commit_status_updated`: a build
//! reported its state on a commit.
//!
//! The supported operations do not reach the document's `commitstatus` schema, so it is
//! written here, as tolerant as the generated types.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::types::{Account, Commit, Link, Repository};

payload! {
    /// `repo:commit_status_created` and `repo:commit_status_updated`.
    pub struct CommitStatusEvent requires(commit_status) {
        /// Who reported the status.
        pub actor: Option<Account>,
        /// The repository of the commit.
        pub repository: Option<Repository>,
        /// The status.
        pub commit_status: Option<CommitStatus>,
    }
}

payload! {
    /// A build's status on a commit.
    pub struct CommitStatus {
        /// Identifies the status for its vendor (`BB-DEPLOY`); a later status with the same key
        /// replaces it.
        pub key: Option<String>,
        /// The state of the build.
        pub state: Option<CommitStatusState>,
        /// The build's name (`BB-DEPLOY-1`).
        pub name: Option<String>,
        /// What the build does (`Unit tests in Bamboo`).
        pub description: Option<String>,
        /// Where the build's details are.
        pub url: Option<String>,
        /// The ref that pointed to the commit when the status was created, when the reporter set
        /// it.
        pub refname: Option<String>,
        /// The kind of status (`build`).
        #[serde(rename = "type")]
        pub type_: Option<String>,
        /// The commit, when the payload includes it.
        pub commit: Option<Commit>,
        /// When the status was created (ISO 8601).
        pub created_on: Option<String>,
        /// When it was last updated (ISO 8601).
        pub updated_on: Option<String>,
        /// Links to the status and to its commit.
        pub links: Option<CommitStatusLinks>,
    }
}

impl CommitStatus {
    /// The hash of the commit: from `commit`, or else the last segment of the `commit` link.
    pub fn commit_hash(&self) -> Option<&str> {
        if let Some(hash) = self.commit.as_ref().and_then(|c| c.hash.as_deref()) {
            return Some(hash);
        }
        let href = self.links.as_ref()?.commit.as_ref()?.href.as_deref()?;
        href.trim_end_matches('/')
            .rsplit('/')
            .next()
            .filter(|s| !s.is_empty())
    }
}

payload! {
    /// The `links` of a [`CommitStatus`].
    pub struct CommitStatusLinks {
        /// The status in the API.
        #[serde(rename = "self")]
        pub self_: Option<Link>,
        /// The commit in the API.
        pub commit: Option<Link>,
    }
}

/// The state of a [`CommitStatus`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum CommitStatusState {
    /// The build passed.
    #[serde(rename = "SUCCESSFUL")]
    Successful,
    /// The build failed.
    #[serde(rename = "FAILED")]
    Failed,
    /// The build is running.
    #[serde(rename = "INPROGRESS")]
    InProgress,
    /// The build was stopped.
    #[serde(rename = "STOPPED")]
    Stopped,
    /// A value this version of the crate does not know (Bitbucket added it later), kept
    /// exactly as sent.
    #[serde(untagged)]
    Other(String),
}

impl fmt::Display for CommitStatusState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Successful => "SUCCESSFUL",
            Self::Failed => "FAILED",
            Self::InProgress => "INPROGRESS",
            Self::Stopped => "STOPPED",
            Self::Other(value) => value,
        })
    }
}
