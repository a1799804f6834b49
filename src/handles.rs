//! Handles that fill in path parameters, so a bot working on one repository does not repeat
//! them: `client.repo("ws", "app").list_pull_requests()`.

use crate::Client;

/// The operations of one repository. Get one with [`Client::repo`].
#[derive(Clone, Debug)]
pub struct RepoHandle<'a> {
    // Read by the generated methods, of which a build without repository operations has none.
    #[allow(dead_code)]
    client: &'a Client,
    workspace: String,
    repo_slug: String,
}

impl<'a> RepoHandle<'a> {
    pub(crate) fn new(client: &'a Client, workspace: String, repo_slug: String) -> Self {
        Self {
            client,
            workspace,
            repo_slug,
        }
    }

    /// The client the handle's calls go through.
    #[allow(dead_code)]
    pub(crate) fn client(&self) -> &'a Client {
        self.client
    }

    /// The workspace (slug or `{uuid}`).
    pub fn workspace_slug(&self) -> &str {
        &self.workspace
    }

    /// The repository (slug or `{uuid}`).
    pub fn repo_slug(&self) -> &str {
        &self.repo_slug
    }
}

/// The operations of one workspace. Get one with [`Client::workspace`].
#[derive(Clone, Debug)]
pub struct WorkspaceHandle<'a> {
    client: &'a Client,
    workspace: String,
}

impl<'a> WorkspaceHandle<'a> {
    pub(crate) fn new(client: &'a Client, workspace: String) -> Self {
        Self { client, workspace }
    }

    /// The workspace (slug or `{uuid}`).
    pub fn slug(&self) -> &str {
        &self.workspace
    }

    /// A handle on one of the workspace's repositories.
    pub fn repo(&self, repo_slug: impl Into<String>) -> RepoHandle<'a> {
        RepoHandle::new(self.client, self.workspace.clone(), repo_slug.into())
    }
}

include!(concat!(env!("OUT_DIR"), "/handles.rs"));
