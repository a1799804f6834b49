//! The payload of `repo:push`: which branches and tags moved, from which commit to which.
//!
//! The document has no schema for it; what a receiver acts on (ref names, commit hashes,
//! created/closed/forced) is typed, and the rest kept in `extra`.

use crate::types::{Account, Commit, Repository};

payload! {
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
    pub struct PushEvent requires(push) {
        /// Who pushed.
        pub actor: Option<Account>,
        /// The repository pushed to.
        pub repository: Option<Repository>,
        /// What was pushed.
        pub push: Option<Push>,
    }
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

payload! {
    /// The `push` member of a `repo:push` payload.
    pub struct Push {
        /// One entry per ref that moved.
        pub changes: Option<Vec<PushChange>>,
    }
}

payload! {
    /// One ref's move in a push. Its `links` (to the diff and the commits) are in `extra`.
    pub struct PushChange {
        /// The ref after the push; `None` when it was deleted.
        pub new: Option<PushedRef>,
        /// The ref before the push; `None` when it was created.
        pub old: Option<PushedRef>,
        /// The ref was created by this push.
        pub created: Option<bool>,
        /// The ref was deleted by this push.
        pub closed: Option<bool>,
        /// The push was forced (history was rewritten).
        pub forced: Option<bool>,
        /// The most recent commits pushed to the ref (Bitbucket sends at most 5).
        pub commits: Option<Vec<Commit>>,
        /// `commits` holds only some of the commits pushed.
        pub truncated: Option<bool>,
    }
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

payload! {
    /// A branch or tag, and the commit it points to.
    pub struct PushedRef {
        /// `branch`, `tag`, `named_branch` or `bookmark`.
        #[serde(rename = "type")]
        pub type_: Option<String>,
        /// The branch or tag name.
        pub name: Option<String>,
        /// The commit it points to.
        pub target: Option<Commit>,
    }
}

impl PushedRef {
    /// The hash of the commit the ref points to.
    pub fn hash(&self) -> Option<&str> {
        self.target.as_ref().and_then(|c| c.hash.as_deref())
    }
}
