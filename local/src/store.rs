//! The in-memory Bitbucket: accounts, workspaces, projects and repositories with their
//! branches, commits, pull requests, issues, pipelines and webhooks. Plain data and the rules
//! that change it; HTTP lives in `routes`, JSON shapes in `render`.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::{clock, ids};

/// A file tree: path → content. Repositories here are small, so every commit keeps its whole
/// tree; diffs compare trees.
pub(crate) type Tree = BTreeMap<String, String>;

#[derive(Debug)]
pub(crate) struct Store {
    pub users: Vec<User>,
    pub workspaces: Vec<Workspace>,
    pub repos: Vec<Repo>,
    /// Application properties: (what they are on, app key, property name) → value. What they
    /// are on is `repo:{uuid}`, `commit:{repo uuid}:{hash}`, `pullrequest:{repo uuid}:{id}` or
    /// `user:{uuid}`.
    pub properties: HashMap<(String, String, String), serde_json::Value>,
    /// Deploy keys (of repositories and projects) and accounts' SSH keys.
    pub keys: Vec<AccessKey>,
    /// Accounts' own pipeline variables, by account.
    pub user_variables: Vec<(usize, Variable)>,
    /// Snippets of every workspace, oldest first.
    pub snippets: Vec<Snippet>,
    /// Accounts' GPG keys, oldest first.
    pub gpg_keys: Vec<GpgKey>,
}

/// A GPG public key an account added: its armored text as sent, and what it holds.
#[derive(Clone, Debug)]
pub(crate) struct GpgKey {
    pub owner: usize,
    pub armored: String,
    pub name: String,
    pub key: crate::openpgp::PublicKey,
    pub added_on: String,
}

/// A snippet: a small versioned set of files owned by a workspace. Only its files are
/// versioned; its title and privacy are not.
#[derive(Clone, Debug)]
pub(crate) struct Snippet {
    /// The short id in its URLs (`9qa8b`).
    pub id: String,
    /// The owning workspace's slug.
    pub workspace: String,
    pub creator: usize,
    pub title: String,
    pub is_private: bool,
    pub created_on: String,
    pub updated_on: String,
    /// Its commits, oldest first: the last is the head, each the parent of the next.
    pub revisions: Vec<SnippetRevision>,
    pub watchers: Vec<usize>,
    pub comments: Vec<SnippetComment>,
}

#[derive(Clone, Debug)]
pub(crate) struct SnippetRevision {
    pub hash: String,
    pub author: usize,
    pub message: String,
    pub date: String,
    /// File name → content (text or not).
    pub files: BTreeMap<String, axum::body::Bytes>,
}

#[derive(Clone, Debug)]
pub(crate) struct SnippetComment {
    pub id: u64,
    pub user: usize,
    pub raw: String,
    pub parent: Option<u64>,
    pub created_on: String,
    pub updated_on: String,
}

/// Whose an [`AccessKey`] is: a repository's or a project's (by `{uuid}`), or an account's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KeyOwner {
    Repo(String),
    Project(String),
    User(usize),
}

/// An SSH public key with its label.
#[derive(Clone, Debug)]
pub(crate) struct AccessKey {
    pub id: u64,
    pub uuid: String,
    pub owner: KeyOwner,
    /// `type base64` (the comment is kept apart).
    pub key: String,
    pub comment: String,
    pub label: String,
    pub created_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct User {
    pub uuid: String,
    pub account_id: String,
    pub nickname: String,
    pub display_name: String,
    pub email: String,
    pub created_on: String,
}

#[derive(Debug)]
pub(crate) struct Workspace {
    pub uuid: String,
    pub slug: String,
    pub name: String,
    pub is_private: bool,
    pub created_on: String,
    pub projects: Vec<Project>,
    /// Hooks that get the events of every repository of the workspace.
    pub hooks: Vec<Hook>,
    /// Pipeline variables of every repository of the workspace.
    pub pipeline_variables: Vec<Variable>,
    /// Self-hosted runners of every repository of the workspace.
    pub runners: Vec<Runner>,
    /// The workspace's groups (set up with `LocalBitbucket::create_group`).
    pub groups: Vec<Group>,
}

/// A group of a workspace's accounts, named in permissions.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub slug: String,
    pub name: String,
}

/// A self-hosted pipelines runner. Its OAuth client secret is answered once, when it is
/// created, and not kept.
#[derive(Clone, Debug)]
pub(crate) struct Runner {
    pub uuid: String,
    pub name: String,
    pub labels: Vec<String>,
    /// `UNREGISTERED` until a runner process would connect (never, here), or `DISABLED`.
    pub status: String,
    pub client_id: String,
    pub created_on: String,
    pub updated_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Project {
    pub uuid: String,
    pub key: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub created_on: String,
    pub updated_on: String,
    /// Accounts added as reviewers to new pull requests of the project's repositories.
    pub default_reviewers: Vec<usize>,
    /// The branching model of the project's repositories that inherit it.
    pub branching_model: BranchingModel,
    /// Permissions given explicitly on the project (`admin`, `create-repo`, `write`, `read`).
    pub user_permissions: Vec<(usize, String)>,
    /// Permissions given to groups on the project, by group slug.
    pub group_permissions: Vec<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct Repo {
    pub uuid: String,
    pub workspace: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub is_private: bool,
    pub language: String,
    pub has_issues: bool,
    pub has_wiki: bool,
    pub fork_policy: String,
    pub project_key: String,
    pub mainbranch: Option<String>,
    pub created_on: String,
    pub updated_on: String,
    pub branches: BTreeMap<String, String>,
    pub commits: HashMap<String, Commit>,
    /// Bumped by every new commit: parents always have a lower number, so sorting by it
    /// descending is a topological order, newest first (like `git log`).
    pub commit_seq: u64,
    pub pulls: Vec<PullRequest>,
    pub issues: Vec<Issue>,
    pub pipelines: Vec<Pipeline>,
    pub hooks: Vec<Hook>,
    pub next_comment_id: u64,
    /// Tag name → tag.
    pub tags: BTreeMap<String, Tag>,
    /// Build statuses reported on commits, oldest first.
    pub statuses: Vec<CommitStatus>,
    /// Commit hash → the accounts that approved it.
    pub commit_approvals: HashMap<String, Vec<usize>>,
    pub restrictions: Vec<BranchRestriction>,
    /// Accounts added as reviewers to every new pull request.
    pub default_reviewers: Vec<usize>,
    /// The repository's own branching model; see [`Store::branching_model`].
    pub branching_model: BranchingModel,
    /// Whether the repository uses its project's branching model rather than its own.
    pub inherits_branching_model: bool,
    pub pipelines_enabled: bool,
    pub pipeline_variables: Vec<Variable>,
    pub environments: Vec<Environment>,
    pub deployments: Vec<Deployment>,
    /// Accounts watching the repository (its creator from the start).
    pub watchers: Vec<usize>,
    /// The repository this one is a fork of: (workspace, slug, uuid).
    pub parent: Option<(String, String, String)>,
    pub next_task_id: u64,
    /// Comments on commits and on issues, oldest first (ids from `next_comment_id`).
    pub notes: Vec<Note>,
    /// Code Insights reports on commits, oldest first.
    pub reports: Vec<Report>,
    /// Permissions given explicitly (`admin`, `write`, `read`), by account; see
    /// [`Repo::permission`].
    pub user_permissions: Vec<(usize, String)>,
    /// Permissions given to the workspace's groups, by group slug.
    pub group_permissions: Vec<(String, String)>,
    pub pipeline_settings: PipelineSettings,
    /// The changes of the issues, oldest first.
    pub issue_changes: Vec<IssueChange>,
    /// Self-hosted runners of this repository.
    pub runners: Vec<Runner>,
    /// Issue export jobs, oldest first.
    pub issue_exports: Vec<IssueExport>,
    /// The issue tracker's components, milestones and versions, oldest first.
    pub components: Vec<TrackerItem>,
    pub milestones: Vec<TrackerItem>,
    pub versions: Vec<TrackerItem>,
}

/// An export of a repository's issues: it moves one phase each time its status is read
/// (accepted, started, done), as pipelines do.
#[derive(Clone, Debug)]
pub(crate) struct IssueExport {
    pub task_id: String,
    /// How many issues it exports.
    pub total: u64,
    /// How many times its status was read.
    pub polls: u8,
}

/// A component, milestone or version of an issue tracker: set up in the repository's settings
/// (Bitbucket's API only reads them), named by issues.
#[derive(Clone, Debug)]
pub(crate) struct TrackerItem {
    pub id: u64,
    pub name: String,
}

/// Which of an issue tracker's lists a [`TrackerItem`] is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrackerField {
    Component,
    Milestone,
    Version,
}

impl TrackerField {
    pub const ALL: [TrackerField; 3] = [
        TrackerField::Component,
        TrackerField::Milestone,
        TrackerField::Version,
    ];

    /// The field's name in an issue, and the item's `type`: `component`.
    pub fn key(self) -> &'static str {
        match self {
            TrackerField::Component => "component",
            TrackerField::Milestone => "milestone",
            TrackerField::Version => "version",
        }
    }

    /// The list's path segment: `components`.
    pub fn segment(self) -> &'static str {
        match self {
            TrackerField::Component => "components",
            TrackerField::Milestone => "milestones",
            TrackerField::Version => "versions",
        }
    }

    pub fn items(self, repo: &Repo) -> &[TrackerItem] {
        match self {
            TrackerField::Component => &repo.components,
            TrackerField::Milestone => &repo.milestones,
            TrackerField::Version => &repo.versions,
        }
    }

    pub fn items_mut(self, repo: &mut Repo) -> &mut Vec<TrackerItem> {
        match self {
            TrackerField::Component => &mut repo.components,
            TrackerField::Milestone => &mut repo.milestones,
            TrackerField::Version => &mut repo.versions,
        }
    }

    /// The item `issue` names, by id.
    pub fn of(self, issue: &Issue) -> Option<u64> {
        match self {
            TrackerField::Component => issue.component,
            TrackerField::Milestone => issue.milestone,
            TrackerField::Version => issue.version,
        }
    }

    pub fn of_mut(self, issue: &mut Issue) -> &mut Option<u64> {
        match self {
            TrackerField::Component => &mut issue.component,
            TrackerField::Milestone => &mut issue.milestone,
            TrackerField::Version => &mut issue.version,
        }
    }
}

/// The rest of a repository's pipelines configuration.
#[derive(Clone, Default)]
pub(crate) struct PipelineSettings {
    /// The least build number the next pipeline gets (`update_pipeline_build_number`).
    pub next_build_number: u64,
    pub schedules: Vec<Schedule>,
    pub known_hosts: Vec<KnownHost>,
    /// The caches saved by successful pipelines, one per name (the newest).
    pub caches: Vec<Cache>,
    /// The SSH key pair pipelines use: (private key, public key). The private key is never
    /// answered.
    pub key_pair: Option<(String, String)>,
}

/// The private key is never printed.
impl std::fmt::Debug for PipelineSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineSettings")
            .field("next_build_number", &self.next_build_number)
            .field("schedules", &self.schedules)
            .field("known_hosts", &self.known_hosts)
            .field("caches", &self.caches)
            .field(
                "key_pair",
                &self
                    .key_pair
                    .as_ref()
                    .map(|(_, public)| ("[redacted]", public)),
            )
            .finish()
    }
}

/// A cache a successful pipeline step saved.
#[derive(Clone, Debug)]
pub(crate) struct Cache {
    pub uuid: String,
    pub name: String,
    pub pipeline: String,
    pub step: String,
    pub created_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Schedule {
    pub uuid: String,
    pub enabled: bool,
    pub ref_name: String,
    pub selector: (String, String),
    pub cron: String,
    pub created_on: String,
    pub updated_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct KnownHost {
    pub uuid: String,
    pub hostname: String,
    pub key_type: String,
    pub key: String,
}

/// A Code Insights report on a commit: the fields its reporter set (checked), and its
/// annotations.
#[derive(Clone, Debug)]
pub(crate) struct Report {
    pub uuid: String,
    pub commit: String,
    pub external_id: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub created_on: String,
    pub updated_on: String,
    pub annotations: Vec<Annotation>,
}

#[derive(Clone, Debug)]
pub(crate) struct Annotation {
    pub uuid: String,
    pub external_id: String,
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub created_on: String,
    pub updated_on: String,
}

/// What a [`Note`] comments on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NoteOn {
    /// A commit, by full hash.
    Commit(String),
    /// An issue, by id.
    Issue(u64),
}

/// A change of an issue (`/issues/{id}/changes`): what changed, by field name
/// (`{"old", "new"}`), and the message that came with it.
#[derive(Clone, Debug)]
pub(crate) struct IssueChange {
    pub id: u64,
    pub issue: u64,
    pub user: usize,
    pub changes: serde_json::Map<String, serde_json::Value>,
    pub message: String,
    pub created_on: String,
}

/// A comment on a commit or an issue.
#[derive(Clone, Debug)]
pub(crate) struct Note {
    pub id: u64,
    pub on: NoteOn,
    pub raw: String,
    pub user: usize,
    pub parent: Option<u64>,
    pub inline: Option<Inline>,
    pub created_on: String,
    pub updated_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Tag {
    pub name: String,
    pub target: String,
    pub message: String,
    pub tagger: usize,
    pub date: String,
}

#[derive(Clone, Debug)]
pub(crate) struct CommitStatus {
    pub uuid: String,
    pub commit: String,
    pub key: String,
    pub state: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub refname: Option<String>,
    pub created_on: String,
    pub updated_on: String,
}

/// A branch restriction: `kind` on the branches `pattern` (a glob) or `branch_type` (of the
/// branching model) matches, with the accounts exempted (for `push` and `restrict_merges`,
/// those allowed) and a number (`value`) for the kinds that take one.
#[derive(Clone, Debug)]
pub(crate) struct BranchRestriction {
    pub id: u64,
    pub kind: String,
    pub match_kind: String,
    pub pattern: String,
    pub branch_type: Option<String>,
    pub value: Option<i64>,
    pub users: Vec<usize>,
    pub groups: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct BranchingModel {
    pub development: Option<String>,
    pub production: Option<String>,
    pub production_enabled: bool,
    /// (kind, prefix, enabled): `feature`, `bugfix`, `release`, `hotfix`.
    pub types: Vec<(String, String, bool)>,
}

impl Default for BranchingModel {
    fn default() -> Self {
        BranchingModel {
            development: None,
            production: None,
            production_enabled: false,
            types: ["feature", "bugfix", "release", "hotfix"]
                .iter()
                .map(|k| (k.to_string(), format!("{k}/"), true))
                .collect(),
        }
    }
}

/// A pipeline or deployment variable. A secured one's value is never answered.
#[derive(Clone)]
pub(crate) struct Variable {
    pub uuid: String,
    pub key: String,
    pub value: String,
    pub secured: bool,
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("uuid", &self.uuid)
            .field("key", &self.key)
            .field(
                "value",
                if self.secured {
                    &"[redacted]"
                } else {
                    &self.value
                },
            )
            .field("secured", &self.secured)
            .finish()
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Environment {
    pub uuid: String,
    pub name: String,
    /// `Test`, `Staging` or `Production`.
    pub kind: String,
    pub rank: u64,
    pub locked: bool,
    pub variables: Vec<Variable>,
}

/// A deployment: a pipeline step deploying a commit to an environment. Its state is its
/// pipeline's.
#[derive(Clone, Debug)]
pub(crate) struct Deployment {
    pub uuid: String,
    /// The environment's `{uuid}`.
    pub environment: String,
    /// The pipeline's `{uuid}`.
    pub pipeline: String,
    /// The step's `{uuid}`.
    pub step: String,
    pub commit: String,
    pub created_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Commit {
    pub hash: String,
    pub seq: u64,
    pub message: String,
    /// Index into `Store::users`.
    pub author: usize,
    pub date: String,
    pub parents: Vec<String>,
    pub tree: Tree,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PrState {
    Open,
    Merged,
    Declined,
}

impl PrState {
    pub fn as_str(self) -> &'static str {
        match self {
            PrState::Open => "OPEN",
            PrState::Merged => "MERGED",
            PrState::Declined => "DECLINED",
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct PullRequest {
    pub id: u64,
    pub title: String,
    pub description: String,
    pub state: PrState,
    pub draft: bool,
    pub author: usize,
    pub source_branch: String,
    pub source_commit: String,
    pub destination_branch: String,
    pub destination_commit: String,
    pub close_source_branch: bool,
    pub reviewers: Vec<usize>,
    pub participants: Vec<Participant>,
    pub comments: Vec<Comment>,
    pub tasks: Vec<Task>,
    pub activity: Vec<Activity>,
    /// The task id of a merge answered `202` (`async=true`).
    pub merge_task: Option<String>,
    pub merge_commit: Option<String>,
    pub closed_by: Option<usize>,
    pub reason: String,
    pub created_on: String,
    pub updated_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Participant {
    pub user: usize,
    pub reviewer: bool,
    pub approved: bool,
    pub changes_requested: bool,
    pub participated_on: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Comment {
    pub id: u64,
    pub raw: String,
    pub user: usize,
    pub parent: Option<u64>,
    pub inline: Option<Inline>,
    pub created_on: String,
    pub updated_on: String,
    pub deleted: bool,
    /// Who resolved the comment's thread, and when.
    pub resolution: Option<(usize, String)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub id: u64,
    pub raw: String,
    pub creator: usize,
    pub comment: Option<u64>,
    pub resolved: Option<(usize, String)>,
    pub pending: bool,
    pub created_on: String,
    pub updated_on: String,
}

/// An entry of a pull request's activity, oldest first.
#[derive(Clone, Debug)]
pub(crate) enum Activity {
    /// The pull request was opened or changed: its state, title and description then.
    Update {
        user: usize,
        date: String,
        state: PrState,
        title: String,
        description: String,
    },
    Approval {
        user: usize,
        date: String,
    },
    ChangesRequested {
        user: usize,
        date: String,
    },
    Comment(u64),
}

#[derive(Clone, Debug)]
pub(crate) struct Inline {
    pub path: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub id: u64,
    pub title: String,
    pub content: String,
    pub kind: String,
    pub priority: String,
    pub state: String,
    pub reporter: usize,
    pub assignee: Option<usize>,
    /// The accounts that voted for the issue.
    pub voters: Vec<usize>,
    /// The accounts watching the issue (its reporter from the start).
    pub watchers: Vec<usize>,
    pub created_on: String,
    pub updated_on: String,
    pub edited_on: Option<String>,
    /// The tracker's component, milestone and version the issue names, by id.
    pub component: Option<u64>,
    pub milestone: Option<u64>,
    pub version: Option<u64>,
}

/// How a pipeline ends when it is not stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PipelineResult {
    /// `COMPLETED` / `SUCCESSFUL` (the default).
    #[default]
    Successful,
    /// `COMPLETED` / `FAILED`: a step failed.
    Failed,
    /// `COMPLETED` / `ERROR`: the pipeline could not run (e.g. invalid configuration).
    Error,
}

impl PipelineResult {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            PipelineResult::Successful => "SUCCESSFUL",
            PipelineResult::Failed => "FAILED",
            PipelineResult::Error => "ERROR",
        }
    }
}

/// Where a pipeline is. Each read of a pipeline moves it one step, so a client polling it
/// sees PENDING → IN_PROGRESS → COMPLETED without timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    Pending,
    Running,
    Completed(PipelineResult),
    Stopped,
}

#[derive(Clone, Debug)]
pub(crate) struct Pipeline {
    pub uuid: String,
    pub build_number: u64,
    pub creator: usize,
    pub ref_type: String,
    pub ref_name: String,
    pub commit: String,
    pub selector: Option<(String, String)>,
    /// The variables the pipeline was run with (a secured one's value is never answered nor
    /// printed).
    pub variables: Vec<Variable>,
    pub stage: Stage,
    pub outcome: PipelineResult,
    pub created_on: String,
    pub completed_on: Option<String>,
    pub build_seconds_used: u64,
    /// The steps, in order (at least one).
    pub steps: Vec<Step>,
    /// While running, the step that runs; once stopped, the step that was stopped.
    pub current_step: usize,
}

/// A step of a pipeline: from `bitbucket-pipelines.yml` when the commit has one, else one
/// `Build` step.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub uuid: String,
    pub name: String,
    pub script: Vec<String>,
    /// The environment the step deploys to (`deployment:` in the configuration).
    pub deployment: Option<String>,
    /// The caches the step keeps (`caches:` in the configuration): saved when the pipeline
    /// succeeds.
    pub caches: Vec<String>,
    pub started_on: Option<String>,
    pub completed_on: Option<String>,
}

impl Pipeline {
    /// One state forward, unless finished: `PENDING`, then each step `IN_PROGRESS` in turn,
    /// then `COMPLETED`.
    pub fn advance(&mut self) {
        let now = clock::now();
        self.stage = match self.stage {
            Stage::Pending => {
                self.current_step = 0;
                if let Some(step) = self.steps.first_mut() {
                    step.started_on = Some(now);
                }
                Stage::Running
            }
            Stage::Running => {
                if let Some(step) = self.steps.get_mut(self.current_step) {
                    step.completed_on = Some(now.clone());
                }
                if self.current_step + 1 < self.steps.len() {
                    self.current_step += 1;
                    self.steps[self.current_step].started_on = Some(now);
                    Stage::Running
                } else {
                    self.completed_on = Some(now);
                    self.build_seconds_used = 42;
                    Stage::Completed(self.outcome)
                }
            }
            done => done,
        };
    }
}

/// The steps of `bitbucket-pipelines.yml` (`config`): a reading of the usual layout (`- step:`
/// items with `name:`, `script:` and `caches:` lists and `deployment:`), not a YAML parser; a file without
/// steps gives one `Build` step.
pub(crate) fn steps(config: Option<&str>) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    // Inside a `script:` (true) or `caches:` (false) list, at this indentation.
    let mut in_list: Option<(usize, bool)> = None;
    for line in config.unwrap_or_default().lines() {
        let indent = line.len() - line.trim_start().len();
        let item = line.trim();
        if item.starts_with("- step") {
            steps.push(Step {
                uuid: ids::uuid(),
                name: String::new(),
                script: Vec::new(),
                deployment: None,
                caches: Vec::new(),
                started_on: None,
                completed_on: None,
            });
            in_list = None;
            continue;
        }
        let Some(step) = steps.last_mut() else {
            continue;
        };
        if let Some((depth, script)) = in_list {
            if indent > depth && item.starts_with("- ") {
                let entry = item[2..].trim().to_string();
                if script {
                    step.script.push(entry);
                } else {
                    step.caches.push(entry);
                }
                continue;
            }
            in_list = None;
        }
        let value = |key: &str| {
            item.strip_prefix(key)
                .map(|v| v.trim().trim_matches(['"', '\'']).to_string())
        };
        if let Some(name) = value("name:") {
            step.name = name;
        } else if let Some(env) = value("deployment:") {
            step.deployment = Some(env);
        } else if item.starts_with("script:") {
            in_list = Some((indent, true));
        } else if item.starts_with("caches:") {
            in_list = Some((indent, false));
        }
    }
    for (i, step) in steps.iter_mut().enumerate() {
        if step.name.is_empty() {
            step.name = format!("Step {}", i + 1);
        }
    }
    if steps.is_empty() {
        steps.push(Step {
            uuid: ids::uuid(),
            name: "Build".into(),
            script: vec!["echo \"Building\"".into()],
            deployment: None,
            caches: Vec::new(),
            started_on: None,
            completed_on: None,
        });
    }
    steps
}

#[derive(Clone)]
pub(crate) struct Hook {
    pub uuid: String,
    pub url: String,
    pub description: String,
    pub events: Vec<bitbucket_cloud::webhooks::EventKey>,
    pub active: bool,
    pub secret: Option<String>,
    pub created_at: String,
}

/// The secret is never printed; a URL's user info and query are hidden (they may hold
/// credentials).
impl std::fmt::Debug for Hook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hook")
            .field("uuid", &self.uuid)
            .field("url", &crate::webhooks::shown_url(&self.url))
            .field("description", &self.description)
            .field("events", &self.events)
            .field("active", &self.active)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl Store {
    pub fn new(owner: User) -> Self {
        Store {
            users: vec![owner],
            workspaces: Vec::new(),
            repos: Vec::new(),
            properties: HashMap::new(),
            keys: Vec::new(),
            user_variables: Vec::new(),
            snippets: Vec::new(),
            gpg_keys: Vec::new(),
        }
    }

    pub fn workspace(&self, name: &str) -> Option<&Workspace> {
        self.workspaces
            .iter()
            .find(|w| ids::same(&w.slug, name) || ids::same(&w.uuid, name))
    }

    pub fn workspace_mut(&mut self, name: &str) -> Option<&mut Workspace> {
        self.workspaces
            .iter_mut()
            .find(|w| ids::same(&w.slug, name) || ids::same(&w.uuid, name))
    }

    /// The workspace, created (with a default project) when missing.
    pub fn ensure_workspace(&mut self, slug: &str, name: Option<&str>) -> &mut Workspace {
        if self.workspace(slug).is_none() {
            let now = clock::now();
            self.workspaces.push(Workspace {
                uuid: ids::uuid(),
                slug: slug.to_string(),
                name: name.unwrap_or(slug).to_string(),
                is_private: true,
                created_on: now,
                projects: Vec::new(),
                hooks: Vec::new(),
                pipeline_variables: Vec::new(),
                runners: Vec::new(),
                groups: Vec::new(),
            });
        }
        let workspace = self.workspace_mut(slug).expect("just inserted");
        if let Some(name) = name {
            workspace.name = name.to_string();
        }
        workspace
    }

    pub fn repo_index(&self, workspace: &str, slug: &str) -> Option<usize> {
        let ws = self.workspace(workspace)?;
        self.repos.iter().position(|r| {
            r.workspace == ws.slug && (ids::same(&r.slug, slug) || ids::same(&r.uuid, slug))
        })
    }

    pub fn repo(&self, workspace: &str, slug: &str) -> Option<&Repo> {
        self.repo_index(workspace, slug).map(|i| &self.repos[i])
    }

    /// A new, empty repository (no branches, like one created on bitbucket.org), in
    /// `project_key` or the workspace's oldest project (created when the workspace has none).
    pub fn create_repo(
        &mut self,
        workspace: &str,
        slug: &str,
        project_key: Option<&str>,
    ) -> Result<&mut Repo, String> {
        let ws = self.ensure_workspace(workspace, None);
        let project = match project_key {
            Some(key) => ws
                .project(key)
                .ok_or_else(|| format!("project {key} not found in workspace {}", ws.slug))?
                .key
                .clone(),
            None => match ws.projects.first() {
                Some(p) => p.key.clone(),
                None => ensure_project(ws, "PROJ", "Untitled project").key.clone(),
            },
        };
        let ws_slug = ws.slug.clone();
        let now = clock::now();
        self.repos.push(Repo {
            uuid: ids::uuid(),
            workspace: ws_slug,
            slug: slug.to_string(),
            name: slug.to_string(),
            description: String::new(),
            is_private: true,
            language: String::new(),
            has_issues: true,
            has_wiki: false,
            fork_policy: "no_public_forks".into(),
            project_key: project,
            mainbranch: None,
            created_on: now.clone(),
            updated_on: now,
            branches: BTreeMap::new(),
            commits: HashMap::new(),
            commit_seq: 0,
            pulls: Vec::new(),
            issues: Vec::new(),
            pipelines: Vec::new(),
            hooks: Vec::new(),
            next_comment_id: 1,
            tags: BTreeMap::new(),
            statuses: Vec::new(),
            commit_approvals: HashMap::new(),
            restrictions: Vec::new(),
            default_reviewers: Vec::new(),
            branching_model: BranchingModel::default(),
            inherits_branching_model: false,
            pipelines_enabled: true,
            pipeline_variables: Vec::new(),
            environments: default_environments(),
            deployments: Vec::new(),
            watchers: vec![0],
            parent: None,
            next_task_id: 1,
            notes: Vec::new(),
            reports: Vec::new(),
            user_permissions: Vec::new(),
            group_permissions: Vec::new(),
            pipeline_settings: PipelineSettings::default(),
            issue_changes: Vec::new(),
            runners: Vec::new(),
            issue_exports: Vec::new(),
            components: Vec::new(),
            milestones: Vec::new(),
            versions: Vec::new(),
        });
        Ok(self.repos.last_mut().expect("just pushed"))
    }

    /// The branching model repository `index` follows: its project's when it inherits it,
    /// else its own.
    pub fn branching_model(&self, index: usize) -> BranchingModel {
        let repo = &self.repos[index];
        let project = self
            .workspace(&repo.workspace)
            .and_then(|ws| ws.project(&repo.project_key));
        match project {
            Some(project) if repo.inherits_branching_model => project.branching_model.clone(),
            _ => repo.branching_model.clone(),
        }
    }

    pub fn user_index(&self, uuid: &str) -> Option<usize> {
        self.users
            .iter()
            .position(|u| ids::same(&u.uuid, uuid) || u.account_id == uuid || u.nickname == uuid)
    }
}

impl Workspace {
    /// The project with this key or `{uuid}`.
    pub fn project(&self, key: &str) -> Option<&Project> {
        self.projects
            .iter()
            .find(|p| ids::same(&p.key, key) || ids::same(&p.uuid, key))
    }
}

/// The project `key` of `workspace`, created when missing.
pub(crate) fn ensure_project<'a>(ws: &'a mut Workspace, key: &str, name: &str) -> &'a mut Project {
    if let Some(i) = ws.projects.iter().position(|p| p.key == key) {
        return &mut ws.projects[i];
    }
    let now = clock::now();
    ws.projects.push(Project {
        uuid: ids::uuid(),
        key: key.to_string(),
        name: name.to_string(),
        description: String::new(),
        is_private: true,
        created_on: now.clone(),
        updated_on: now,
        default_reviewers: Vec::new(),
        branching_model: BranchingModel::default(),
        user_permissions: Vec::new(),
        group_permissions: Vec::new(),
    });
    ws.projects.last_mut().expect("just pushed")
}

impl Repo {
    /// What `user` may do here: the permission given explicitly, or else `admin` for the
    /// first account (which owns every workspace) and `write` for the others (every account
    /// is a member of every workspace).
    pub fn permission(&self, user: usize) -> &str {
        self.user_permissions
            .iter()
            .find(|(u, _)| *u == user)
            .map(|(_, p)| p.as_str())
            .unwrap_or(if user == 0 { "admin" } else { "write" })
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.workspace, self.slug)
    }

    /// A commit by full hash or by a prefix of at least 7 digits (as Bitbucket accepts).
    pub fn commit(&self, hash: &str) -> Option<&Commit> {
        if let Some(c) = self.commits.get(hash) {
            return Some(c);
        }
        if hash.len() < 7 {
            return None;
        }
        let mut found = self.commits.values().filter(|c| c.hash.starts_with(hash));
        let first = found.next()?;
        found.next().is_none().then_some(first)
    }

    /// A branch name, tag-less ref or hash, resolved to a commit hash.
    pub fn resolve(&self, reference: &str) -> Option<String> {
        self.branches
            .get(reference)
            .cloned()
            .or_else(|| self.commit(reference).map(|c| c.hash.clone()))
    }

    /// Adds a commit with `parents` and `tree`; returns its hash.
    pub fn add_commit(
        &mut self,
        message: &str,
        author: usize,
        parents: Vec<String>,
        tree: Tree,
    ) -> String {
        self.commit_seq += 1;
        let hash = ids::commit_hash();
        self.commits.insert(
            hash.clone(),
            Commit {
                hash: hash.clone(),
                seq: self.commit_seq,
                message: message.to_string(),
                author,
                date: clock::now(),
                parents,
                tree,
            },
        );
        self.updated_on = clock::now();
        hash
    }

    /// Every commit reachable from `heads`.
    pub fn reachable(&self, heads: &[String]) -> HashSet<String> {
        let mut seen = HashSet::new();
        let mut stack: Vec<String> = heads.to_vec();
        while let Some(hash) = stack.pop() {
            if !seen.insert(hash.clone()) {
                continue;
            }
            if let Some(c) = self.commits.get(&hash) {
                stack.extend(c.parents.iter().cloned());
            }
        }
        seen
    }

    /// Commits reachable from `include` but not from `exclude`, newest first.
    pub fn log(&self, include: &[String], exclude: &[String]) -> Vec<&Commit> {
        let excluded = self.reachable(exclude);
        let mut commits: Vec<&Commit> = self
            .reachable(include)
            .into_iter()
            .filter(|h| !excluded.contains(h))
            .filter_map(|h| self.commits.get(&h))
            .collect();
        commits.sort_by_key(|c| std::cmp::Reverse(c.seq));
        commits
    }

    /// The newest commit reachable from both `a` and `b`.
    pub fn merge_base(&self, a: &str, b: &str) -> Option<String> {
        let from_b = self.reachable(&[b.to_string()]);
        self.log(&[a.to_string()], &[])
            .into_iter()
            .find(|c| from_b.contains(&c.hash))
            .map(|c| c.hash.clone())
    }

    pub fn next_pull_id(&self) -> u64 {
        self.pulls.iter().map(|p| p.id).max().unwrap_or(0) + 1
    }

    pub fn next_build_number(&self) -> u64 {
        self.pipelines
            .iter()
            .map(|p| p.build_number)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
            .max(self.pipeline_settings.next_build_number)
    }
}

impl PullRequest {
    /// The participant entry of `user`, added when missing.
    pub fn participant(&mut self, user: usize) -> &mut Participant {
        if let Some(i) = self.participants.iter().position(|p| p.user == user) {
            return &mut self.participants[i];
        }
        self.participants.push(Participant {
            user,
            reviewer: self.reviewers.contains(&user),
            approved: false,
            changes_requested: false,
            participated_on: clock::now(),
        });
        self.participants.last_mut().expect("just pushed")
    }
}

/// The three environments a repository starts with on Bitbucket.
fn default_environments() -> Vec<Environment> {
    [
        ("Test", "Test"),
        ("Staging", "Staging"),
        ("Production", "Production"),
    ]
    .iter()
    .enumerate()
    .map(|(rank, (name, kind))| Environment {
        uuid: ids::uuid(),
        name: name.to_string(),
        kind: kind.to_string(),
        rank: rank as u64,
        locked: false,
        variables: Vec::new(),
    })
    .collect()
}

/// Whether `name` matches the glob `pattern` (`*` any run of characters, `?` one), as branch
/// restrictions match branches.
pub(crate) fn glob(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // Iterative matching with backtracking to the last `*`: linear space, no recursion.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn pipeline_steps_from_the_configuration() {
        let config = "pipelines:\n  default:\n    - step:\n        name: Build\n        script:\n          - cargo build\n          - cargo test\n    - step:\n        name: Deploy\n        deployment: production\n        script:\n          - ./deploy.sh\n";
        let steps = super::steps(Some(config));
        assert_eq!(steps.len(), 2);
        assert_eq!(steps[0].name, "Build");
        assert_eq!(steps[0].script, ["cargo build", "cargo test"]);
        assert_eq!(steps[1].deployment.as_deref(), Some("production"));
        let cached = super::steps(Some(
            "- step:\n    caches:\n      - cargo\n    script:\n      - make\n",
        ));
        assert_eq!(cached[0].caches, ["cargo"]);
        assert_eq!(cached[0].script, ["make"]);
        assert_eq!(super::steps(None)[0].name, "Build");
    }

    #[test]
    fn globs() {
        assert!(glob("*", "main"));
        assert!(glob("release/*", "release/1.0"));
        assert!(!glob("release/*", "main"));
        assert!(glob("ma?n", "main"));
        assert!(glob("main", "main"));
        assert!(!glob("main", "main2"));
        assert!(glob("*-hotfix", "x-y-hotfix"));
    }
}
