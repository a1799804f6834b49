//! Giving the server data without the API: accounts, workspaces, projects, repositories and
//! pushes (the API has no way to make commits, just as Bitbucket's needs git for that).

use serde_json::json;

use crate::store::{self, Repo, Store, TrackerField, TrackerItem, Tree, User};
use crate::{LocalBitbucket, clock, ids};

/// An account of the local server.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Account {
    /// `{uuid}`.
    pub uuid: String,
    /// The Atlassian account id.
    pub account_id: String,
    /// The nickname (`ada`).
    pub nickname: String,
    /// The display name (`Ada Lovelace`).
    pub display_name: String,
    /// The email API tokens are sent with.
    pub email: String,
}

impl From<&User> for Account {
    fn from(user: &User) -> Self {
        Account {
            uuid: user.uuid.clone(),
            account_id: user.account_id.clone(),
            nickname: user.nickname.clone(),
            display_name: user.display_name.clone(),
            email: user.email.clone(),
        }
    }
}

/// The account every server starts with.
pub(crate) fn default_owner() -> User {
    User {
        uuid: ids::uuid(),
        account_id: ids::account_id(),
        nickname: "ada".into(),
        display_name: "Ada Lovelace".into(),
        email: "ada@example.com".into(),
        created_on: clock::now(),
    }
}

impl LocalBitbucket {
    /// Creates the workspace `slug` named `name` (or renames it if it exists).
    pub fn create_workspace(&self, slug: &str, name: &str) {
        self.app.store().ensure_workspace(slug, Some(name));
    }

    /// Creates the project `key` in `workspace` (creating the workspace if needed).
    pub fn create_project(&self, workspace: &str, key: &str, name: &str) {
        let mut store = self.app.store();
        let ws = store.ensure_workspace(workspace, None);
        store::ensure_project(ws, key, name).name = name.to_string();
    }

    /// Creates the repository `workspace/slug` with a `main` branch holding one commit (a
    /// `README.md`), creating the workspace and a project if needed. Does nothing if the
    /// repository exists. Returns the hash of `main`'s head.
    pub fn create_repository(&self, workspace: &str, slug: &str) -> String {
        let mut store = self.app.store();
        let owner = 0;
        if store.repo(workspace, slug).is_none() {
            let repo = store
                .create_repo(workspace, slug, None)
                .expect("the default project always exists");
            let tree = Tree::from([("README.md".to_string(), format!("# {slug}\n"))]);
            let hash = repo.add_commit("Initial commit", owner, Vec::new(), tree);
            repo.branches.insert("main".into(), hash);
            repo.mainbranch = Some("main".into());
        }
        let repo = store.repo(workspace, slug).expect("exists now");
        repo.mainbranch
            .as_ref()
            .and_then(|b| repo.branches.get(b))
            .cloned()
            .unwrap_or_default()
    }

    /// Creates the group `slug` named `name` in `workspace` (creating the workspace if needed),
    /// or renames it, for repository and project group permissions (`…/permissions-config/
    /// groups/{slug}`). Groups have no members here: their permissions are reported, not
    /// enforced.
    pub fn create_group(&self, workspace: &str, slug: &str, name: &str) {
        let mut store = self.app.store();
        let ws = store.ensure_workspace(workspace, None);
        match ws.groups.iter_mut().find(|g| g.slug == slug) {
            Some(group) => group.name = name.to_string(),
            None => ws.groups.push(store::Group {
                slug: slug.to_string(),
                name: name.to_string(),
            }),
        }
    }

    /// Adds the component `name` to the issue tracker of `workspace/repo` (created as
    /// [`LocalBitbucket::create_repository`] creates it, when missing), for issues to name
    /// (`"component": {"name": ...}`). Bitbucket sets components up in the repository's
    /// settings, and its API only reads them. Returns its id: the existing one's when the
    /// tracker has the name already.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let bb = bitbucket_cloud_local::LocalBitbucket::start().await;
    /// let ui = bb.add_issue_component("acme", "app", "UI");
    /// assert_eq!(bb.add_issue_component("acme", "app", "UI"), ui);
    /// # }
    /// ```
    pub fn add_issue_component(&self, workspace: &str, repo: &str, name: &str) -> u64 {
        self.add_tracker_item(workspace, repo, TrackerField::Component, name)
    }

    /// Adds the milestone `name` to the issue tracker of `workspace/repo`, as
    /// [`LocalBitbucket::add_issue_component`] adds a component.
    pub fn add_issue_milestone(&self, workspace: &str, repo: &str, name: &str) -> u64 {
        self.add_tracker_item(workspace, repo, TrackerField::Milestone, name)
    }

    /// Adds the version `name` to the issue tracker of `workspace/repo`, as
    /// [`LocalBitbucket::add_issue_component`] adds a component.
    pub fn add_issue_version(&self, workspace: &str, repo: &str, name: &str) -> u64 {
        self.add_tracker_item(workspace, repo, TrackerField::Version, name)
    }

    fn add_tracker_item(
        &self,
        workspace: &str,
        slug: &str,
        field: TrackerField,
        name: &str,
    ) -> u64 {
        self.create_repository(workspace, slug);
        let mut store = self.app.store();
        let index = store.repo_index(workspace, slug).expect("exists now");
        let items = field.items_mut(&mut store.repos[index]);
        if let Some(item) = items.iter().find(|i| i.name == name) {
            return item.id;
        }
        let id = items
            .iter()
            .map(|i| i.id)
            .max()
            .unwrap_or(0)
            .saturating_add(1);
        items.push(TrackerItem {
            id,
            name: name.to_string(),
        });
        id
    }

    /// Commits `files` (path, content; an empty content deletes the file) on `branch` of
    /// `workspace/repo` with `message`, as the [account](LocalBitbucket::account) pushing it.
    /// The branch starts from the main branch when it does not exist; the repository is
    /// created when it does not exist. Delivers `repo:push` to the repository's hooks.
    /// Returns the new commit's hash.
    ///
    /// # Panics
    ///
    /// When a branch restriction refuses the push (see [`LocalBitbucket::try_push_as`], which
    /// returns the refusal instead).
    pub fn push(
        &self,
        workspace: &str,
        repo: &str,
        branch: &str,
        message: &str,
        files: &[(&str, &str)],
    ) -> String {
        match self.try_push_as(&self.account(), workspace, repo, branch, message, files) {
            Ok(hash) => hash,
            Err(refused) => panic!("LocalBitbucket::push: {refused}"),
        }
    }

    /// Like [`LocalBitbucket::push`], as `account`, returning Bitbucket's refusal when a
    /// branch restriction forbids the push (a `push` restriction on the branch that does not
    /// list the account) instead of panicking.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let bb = bitbucket_cloud_local::LocalBitbucket::start().await;
    /// let hash = bb.try_push_as(&bb.account(), "acme", "app", "main", "Docs", &[("a.md", "a\n")]);
    /// assert!(hash.is_ok());
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// When `account` belongs to another server.
    pub fn try_push_as(
        &self,
        account: &Account,
        workspace: &str,
        repo: &str,
        branch: &str,
        message: &str,
        files: &[(&str, &str)],
    ) -> Result<String, PushRefused> {
        self.create_repository(workspace, repo);
        let mut store = self.app.store();
        let Some(user) = store.user_index(&account.uuid) else {
            panic!(
                "{} ({}) is not an account of this LocalBitbucket",
                account.display_name, account.uuid
            );
        };
        let index = store.repo_index(workspace, repo).expect("created above");
        crate::routes::check_push(&store, index, branch, user).map_err(|_| PushRefused {
            message: format!(
                "remote: You are not allowed to push to branch {branch}: a branch restriction \
                 of {workspace}/{repo} permits only the users and groups it names"
            ),
        })?;
        let r = &mut store.repos[index];
        let old = r.branches.get(branch).cloned();
        let parent = old.clone().or_else(|| {
            r.mainbranch
                .as_ref()
                .and_then(|main| r.branches.get(main))
                .cloned()
        });
        let mut tree = parent
            .as_ref()
            .and_then(|p| r.commits.get(p))
            .map(|c| c.tree.clone())
            .unwrap_or_default();
        for (path, content) in files {
            if content.is_empty() {
                tree.remove(*path);
            } else {
                tree.insert(path.to_string(), content.to_string());
            }
        }
        let hash = r.add_commit(message, user, parent.into_iter().collect(), tree);
        r.branches.insert(branch.to_string(), hash.clone());
        crate::routes::after_push(&mut store, index, branch);
        let change = push_change(
            &self.app.urls,
            &store,
            index,
            branch,
            old.as_deref(),
            Some(&hash),
        );
        crate::routes::emit_push(&self.app, &store, index, user, vec![change]);
        Ok(hash)
    }
}

/// A push a branch restriction refused, with the message Bitbucket's git server gives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushRefused {
    message: String,
}

impl std::fmt::Display for PushRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PushRefused {}

/// One entry of a `repo:push` payload's `push.changes`: the branch before and after.
pub(crate) fn push_change(
    urls: &crate::render::Urls,
    store: &Store,
    repo_index: usize,
    branch: &str,
    old: Option<&str>,
    new: Option<&str>,
) -> serde_json::Value {
    let repo: &Repo = &store.repos[repo_index];
    let state = |hash: Option<&str>| {
        hash.and_then(|h| repo.commits.get(h)).map(|c| {
            json!({
                "type": "branch",
                "name": branch,
                "target": urls.commit(store, repo, c),
                "links": {
                    "self": { "href": format!("{}/refs/branches/{branch}", urls.repo_api(repo)) },
                },
            })
        })
    };
    let commits: Vec<_> = match new {
        Some(new) => repo
            .log(
                &[new.to_string()],
                &old.map(str::to_string).into_iter().collect::<Vec<_>>(),
            )
            .into_iter()
            .take(5)
            .map(|c| urls.commit(store, repo, c))
            .collect(),
        None => Vec::new(),
    };
    json!({
        "old": state(old),
        "new": state(new),
        "created": old.is_none(),
        "closed": new.is_none(),
        "forced": false,
        "truncated": false,
        "commits": commits,
    })
}
