//! The payload of `repo:push`: which branches and tags moved, from which commit to which.
//!
//! The document has no schema for it; what a receiver acts on (ref names, commit hashes,
//! created/closed/forced) is typed, and the rest kept in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::types::{Account, Commit, Repository};

/// `repo:push`: one or more refs were pushed, created or deleted.
///
/// ```
/// # fn handle(push: &bitbucket_cloud::webhooks::PushEvent) {
/// for change in push.changes() {
///     match (&change.old, &change.new) {
///         (_, Some(new)) => println!("{} is now at {:?}", new.name.as_deref().unwrap_or("?"), new.hash()),
///         (Some(old), None) => println!("{} was deleted", old.name.as_deref().unwrap_or("?")),
///         (None, None) => {}
///     }
/// }
/// # }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushEvent {
    /// Who pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<Account>,
    /// The repository pushed to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repository: Option<Repository>,
    /// What was pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<Push>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PushEvent {
    /// The ref changes of the push (empty when the payload has none).
    pub fn changes(&self) -> &[PushChange] {
        self.push
            .as_ref()
            .and_then(|p| p.changes.as_deref())
            .unwrap_or_default()
    }
}

/// The `push` member of a `repo:push` payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Push {
    /// One entry per ref that moved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changes: Option<Vec<PushChange>>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One ref's move in a push.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushChange {
    /// The ref after the push; `None` when it was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<PushedRef>,
    /// The ref before the push; `None` when it was created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<PushedRef>,
    /// The ref was created by this push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<bool>,
    /// The ref was deleted by this push.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub closed: Option<bool>,
    /// The push was forced (history was rewritten).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forced: Option<bool>,
    /// The most recent commits pushed to the ref (Bitbucket sends at most 5).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commits: Option<Vec<Commit>>,
    /// `commits` holds only some of the commits pushed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    /// Fields this version does not list (`links` to the diff and the commits), as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PushChange {
    /// The name of the ref that moved: the new one's, or the deleted one's.
    pub fn ref_name(&self) -> Option<&str> {
        self.new
            .as_ref()
            .or(self.old.as_ref())
            .and_then(|r| r.name.as_deref())
    }
}

/// A branch or tag, and the commit it points to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PushedRef {
    /// `branch`, `tag`, `named_branch` or `bookmark`.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// The branch or tag name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The commit it points to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Commit>,
    /// Fields this version does not list, as sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl PushedRef {
    /// The hash of the commit the ref points to.
    pub fn hash(&self) -> Option<&str> {
        self.target.as_ref().and_then(|c| c.hash.as_deref())
    }
}
