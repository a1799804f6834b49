//! What an agent's rules allow, as the crate's [`Policy`]: access levels, the resources a rule
//! is about, and the tools an agent is shown.
//!
//! Each rule of the config becomes one policy, granted to the agent's policy
//! ([`Policy::grant`]): the operations the rule allows, restricted to its resource. The
//! agent's `deny` list and its tool selection (`areas`, `tools`) become `deny_operation` rules
//! of the agent's policy, which refuse whatever the grants allow. The agent's client carries
//! that policy, so the decision is taken in the crate's transport for every request; the tools
//! listed are the operations the policy may allow ([`Policy::may_allow`]).

use std::collections::BTreeMap;
use std::fmt;

use bitbucket_cloud::Scope;
use bitbucket_cloud::operations::{self, Operation};
use bitbucket_cloud::policy::Policy;

use crate::config::AgentConfig;

/// How much a rule allows on its resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Every operation that only reads: `GET`.
    Read,
    /// Reads, and the `POST`, `PUT` and `PATCH` operations that change content, not settings
    /// nor permissions: not those that need an administrative scope ([`ADMIN_SCOPES`]). No
    /// `DELETE`: name those in `operations`.
    Write,
    /// Every operation.
    Full,
}

/// Scopes whose operations `write` does not include: administration of repositories and
/// projects, deletion of repositories, account changes, pipeline variables (secrets), runners,
/// and webhooks (a webhook sends events to any URL).
pub const ADMIN_SCOPES: &[Scope] = &[
    Scope::RepositoryAdmin,
    Scope::RepositoryDelete,
    Scope::ProjectAdmin,
    Scope::AccountWrite,
    Scope::PipelineVariable,
    Scope::RunnerWrite,
    Scope::TeamWrite,
    Scope::Webhook,
];

impl Access {
    /// `read`, `write`, `full`.
    pub fn parse(text: &str) -> Option<Access> {
        match text {
            "read" => Some(Access::Read),
            "write" => Some(Access::Write),
            "full" => Some(Access::Full),
            _ => None,
        }
    }

    /// Whether this level includes `operation`.
    pub fn includes(self, operation: &Operation) -> bool {
        match self {
            Access::Read => is_read(operation),
            Access::Write => {
                is_read(operation)
                    || (matches!(operation.method.as_str(), "POST" | "PUT" | "PATCH")
                        && !operation.scopes.iter().any(|s| ADMIN_SCOPES.contains(s)))
            }
            Access::Full => true,
        }
    }
}

impl fmt::Display for Access {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Access::Read => "read",
            Access::Write => "write",
            Access::Full => "full",
        })
    }
}

/// Whether the operation only reads (`GET`, `HEAD`).
pub fn is_read(operation: &Operation) -> bool {
    matches!(operation.method.as_str(), "GET" | "HEAD")
}

/// What a rule is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// No resource: the operations that act on no workspace (`get_current_user`,
    /// `list_workspaces`).
    Account,
    /// `workspace = "*"`: every workspace, project and repository the credential reaches.
    AnyWorkspace,
    /// One workspace, with its projects and repositories.
    Workspace(String),
    /// One project: the operations on the project, and on the repositories it holds.
    Project {
        /// The workspace slug.
        workspace: String,
        /// The project key.
        key: String,
    },
    /// One repository.
    Repository {
        /// The workspace slug.
        workspace: String,
        /// The repository slug.
        repo: String,
    },
}

impl Target {
    /// Whether some call of `operation` is about this kind of resource.
    pub fn fits(&self, operation: &Operation) -> bool {
        let on_workspace = operation.has_param("workspace");
        match self {
            Target::Account => !on_workspace,
            Target::AnyWorkspace | Target::Workspace(_) => on_workspace,
            Target::Project { .. } => {
                on_workspace
                    && (operation.has_param("project_key") || operation.has_param("repo_slug"))
            }
            Target::Repository { .. } => on_workspace && operation.has_param("repo_slug"),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Account => f.write_str("the account (operations on no workspace)"),
            Target::AnyWorkspace => f.write_str("every workspace"),
            Target::Workspace(ws) => write!(f, "workspace {ws}"),
            Target::Project { workspace, key } => write!(f, "project {workspace}/{key}"),
            Target::Repository { workspace, repo } => write!(f, "repository {workspace}/{repo}"),
        }
    }
}

/// One rule of an agent: what it allows, where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// An access level, if the rule gives one.
    pub access: Option<Access>,
    /// Operations allowed by name.
    pub operations: Vec<&'static Operation>,
    /// Operations allowed because these scopes would allow them ([`Policy::allow_scope`]).
    pub scopes: Vec<Scope>,
    /// Where.
    pub target: Target,
    /// The rule's line in the config file.
    pub line: usize,
}

impl Rule {
    /// The operations this rule allows, on its kind of resource; only reads when the agent is
    /// read-only.
    pub fn operations(&self, read_only: bool) -> Vec<&'static Operation> {
        let by_scope = self
            .scopes
            .iter()
            .fold(Policy::deny_all(), |p, s| p.allow_scope(*s));
        operations::ALL
            .iter()
            .filter(|op| self.target.fits(op))
            .filter(|op| !read_only || is_read(op))
            .filter(|op| {
                self.access.is_some_and(|a| a.includes(op))
                    || self.operations.iter().any(|o| o.name == op.name)
                    || (!self.scopes.is_empty() && by_scope.may_allow(op))
            })
            .collect()
    }

    /// The rule as a policy: its operations, on its resource. `project_repos` are the
    /// repositories of the rule's project, when it is about one.
    pub fn policy(&self, read_only: bool, project_repos: &[String]) -> Policy {
        let names: Vec<&str> = self
            .operations(read_only)
            .iter()
            .map(|op| op.name)
            .collect();
        let policy = Policy::deny_all().allow_operations(names);
        match &self.target {
            Target::Account | Target::AnyWorkspace => policy,
            Target::Workspace(ws) => policy.only_in(ws),
            Target::Repository { workspace, repo } => {
                policy.only_in(&format!("{workspace}/{repo}"))
            }
            Target::Project { workspace, key } => project_repos
                .iter()
                .fold(policy.only_in_project(workspace, key), |p, repo| {
                    p.only_in(&format!("{workspace}/{repo}"))
                }),
        }
    }
}

/// The repositories of each project some rule names, by `(workspace, key)`.
pub type ProjectRepos = BTreeMap<(String, String), Vec<String>>;

/// The agent's policy: each rule granted, then its `deny` list and everything outside its tool
/// selection refused.
pub fn agent_policy(agent: &AgentConfig, projects: &ProjectRepos) -> Policy {
    let refused = operations::ALL
        .iter()
        .filter(|op| agent.deny.iter().any(|d| d.name == op.name) || !agent.selects(op));
    let mut policy = refused.fold(Policy::deny_all(), |p, op| p.deny_operation(op.name));
    for rule in &agent.rules {
        let repos = match &rule.target {
            Target::Project { workspace, key } => projects
                .get(&(workspace.clone(), key.clone()))
                .map(Vec::as_slice)
                .unwrap_or_default(),
            _ => &[],
        };
        policy = policy.grant(rule.policy(agent.read_only, repos));
    }
    policy
}

/// The operations `agent` is shown as tools, sorted by name: those its policy may allow. A
/// project rule shows the operations on repositories whether or not the project holds any
/// yet (its repositories are listed at run time; the list of tools does not change).
pub fn agent_tools(agent: &AgentConfig) -> Vec<&'static Operation> {
    let mut projects = ProjectRepos::new();
    for rule in &agent.rules {
        if let Target::Project { workspace, key } = &rule.target {
            // Any repository stands for those the project will hold.
            projects.insert(
                (workspace.clone(), key.clone()),
                vec![format!("{{repositories of {key}}}")],
            );
        }
    }
    visible_operations(&agent_policy(agent, &projects))
}

/// The operations a client with `policy` may call somewhere, sorted by name.
pub fn visible_operations(policy: &Policy) -> Vec<&'static Operation> {
    operations::ALL
        .iter()
        .filter(|op| policy.may_allow(op))
        .collect()
}
