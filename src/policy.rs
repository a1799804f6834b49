//! [`Policy`]: which operations a client may call, and on which workspaces and repositories.
//! The transport checks it on every request it sends (each attempt, each page, each resumed
//! cursor), before credentials are attached; a refused request sends nothing, fails with
//! [`crate::Error::Denied`], and leaves a denied [`crate::audit::AuditRecord`].
//!
//! ```
//! use bitbucket_cloud::operations::{
//!     CREATE_PULL_REQUEST_COMMENT, GET_PULL_REQUEST, LIST_PULL_REQUEST_COMMENTS, LIST_PULL_REQUESTS,
//! };
//! use bitbucket_cloud::{Auth, Client, policy::Policy};
//!
//! // This agent may read pull requests and comment on them in ws/app, nothing else.
//! let policy = Policy::deny_all()
//!     .allow_operations([
//!         LIST_PULL_REQUESTS,
//!         GET_PULL_REQUEST,
//!         LIST_PULL_REQUEST_COMMENTS,
//!         CREATE_PULL_REQUEST_COMMENT,
//!     ])
//!     .only_in("ws/app");
//! let client = Client::builder()
//!     .auth(Auth::access_token("..."))
//!     .agent("review-bot")
//!     .policy(policy)
//!     .build()?;
//! # Ok::<(), bitbucket_cloud::Error>(())
//! ```
//!
//! # How rules combine
//!
//! 1. A `deny_*` rule that matches refuses the call, whatever else the policy says.
//! 2. [`Policy::deny_all`] refuses every operation no `allow_*` rule matches;
//!    [`Policy::allow_all`] allows them.
//! 3. When the policy has [`Policy::only_in`] (or [`Policy::only_in_project`]) rules, a call on
//!    a workspace, project or repository must be on one of them. Operations that act on no
//!    workspace (`get_current_user`, `list_workspaces`) are governed by steps 1 and 2 only.
//! 4. A call these steps refuse is still allowed when one of the policy's grants
//!    ([`Policy::grant`]) allows it, each with its own rules and resources; the `deny_*` rules
//!    of step 1 refuse it whatever the grants say.
//!
//! A client without a policy allows every operation. One check holds with or without a
//! policy, and no rule lifts it: a request's path must be an instance of its operation's path
//! template, under the client's base URL. A `next` link or a cursor given to `resume` that
//! leads to another operation, another repository's list or a file is refused, also for
//! operations that name no workspace; so is one whose query carries an `access_token`.
//!
//! # Access that differs from resource to resource
//!
//! One policy's `only_in` rules restrict all its allow rules at once. To give one agent
//! different access in different places, give each place its own policy and grant them:
//!
//! ```
//! use bitbucket_cloud::operations::{DELETE_BRANCH, MERGE_PULL_REQUEST};
//! use bitbucket_cloud::{Scope, policy::Policy};
//!
//! // Read pull requests anywhere in `acme`, merge them only in `acme/app`, and never delete a
//! // branch.
//! let policy = Policy::deny_all()
//!     .deny_operation(DELETE_BRANCH)
//!     .grant(Policy::deny_all().allow_scope(Scope::Pullrequest).only_in("acme"))
//!     .grant(Policy::deny_all().allow_operation(MERGE_PULL_REQUEST).only_in("acme/app"));
//!
//! let merge = &MERGE_PULL_REQUEST;
//! let decide = |path: &str| policy.decide(merge, merge.match_path(path).as_ref()).is_allowed();
//! assert!(decide("/repositories/acme/app/pullrequests/7/merge"));
//! assert!(!decide("/repositories/acme/web/pullrequests/7/merge"));
//! ```
//!
//! # Operations by constant or by name
//!
//! Rules name operations with the constants of [`crate::operations`]
//! (`operations::MERGE_PULL_REQUEST`), so a typo does not compile, or by their names as
//! strings (`"merge_pull_request"`), for policies read from configuration. A name that is not
//! an operation makes [`crate::ClientBuilder::build`] fail with the close names it knows.
//!
//! ```
//! use bitbucket_cloud::{operations, policy::Policy};
//!
//! // From a configuration file: the same policy as the constants give.
//! let denied: Vec<String> = vec!["delete_branch".into(), "merge_pull_request".into()];
//! assert_eq!(
//!     Policy::allow_all().deny_operations(&denied),
//!     Policy::allow_all().deny_operations([operations::DELETE_BRANCH, operations::MERGE_PULL_REQUEST]),
//! );
//! ```

use std::fmt;

use crate::Scope;
use crate::operations::{self, IntoOperation, Operation, PathParams};

/// Which operations a client may call, and where. See the [module docs](self).
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Policy {
    allow_by_default: bool,
    allow: Vec<Rule>,
    deny: Vec<Rule>,
    resources: Vec<Resource>,
    /// Policies whose permissions this one adds ([`Policy::grant`]).
    grants: Vec<Policy>,
    /// Rules that name nothing the client knows; [`crate::ClientBuilder::build`] reports them.
    problems: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Operation(&'static str),
    Tag(&'static str),
    Scope(Scope),
}

/// A workspace, or one repository or project of it (at most one of `repo` and `project` is
/// set). Slugs and keys compare without regard to ASCII case, as Bitbucket's do.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Resource {
    workspace: String,
    repo: Option<String>,
    project: Option<String>,
}

impl Resource {
    /// Whether a call with these path parameters, on `workspace`, is on this resource.
    fn contains(&self, workspace: &str, params: &PathParams) -> bool {
        let same = |allowed: &String, given: Option<&str>| {
            given.is_some_and(|given| allowed.eq_ignore_ascii_case(given))
        };
        self.workspace.eq_ignore_ascii_case(workspace)
            && match (&self.repo, &self.project) {
                (Some(repo), _) => same(repo, params.get("repo_slug")),
                (None, Some(key)) => same(key, params.get("project_key")),
                (None, None) => true,
            }
    }

    /// Whether some call of `operation` could be on this resource.
    fn may_contain(&self, operation: &Operation) -> bool {
        match (&self.repo, &self.project) {
            (Some(_), _) => operation.has_param("repo_slug"),
            (None, Some(_)) => operation.has_param("project_key"),
            (None, None) => true,
        }
    }
}

impl fmt::Display for Resource {
    /// `ws` or `ws/repo`, as [`Policy::only_in`] takes it; `ws (project KEY)` for a project.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.workspace)?;
        match (&self.repo, &self.project) {
            (Some(repo), _) => write!(f, "/{repo}"),
            (None, Some(key)) => write!(f, " (project {key})"),
            (None, None) => Ok(()),
        }
    }
}

pub use bitbucket_core::policy::Decision;

impl Policy {
    /// Refuses every operation that no `allow_*` rule allows. The starting point for a bot or
    /// an agent: name what it may do.
    pub fn deny_all() -> Self {
        Self::new(false)
    }

    /// Allows every operation that no `deny_*` rule refuses.
    ///
    /// ```
    /// use bitbucket_cloud::{operations, policy::Policy};
    /// let no_destruction = Policy::allow_all()
    ///     .deny_operation(operations::DELETE_BRANCH)
    ///     .deny_operation(operations::DELETE_WEBHOOK)
    ///     .deny_operation(operations::MERGE_PULL_REQUEST);
    /// ```
    pub fn allow_all() -> Self {
        Self::new(true)
    }

    fn new(allow_by_default: bool) -> Self {
        Policy {
            allow_by_default,
            allow: Vec::new(),
            deny: Vec::new(),
            resources: Vec::new(),
            grants: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Allows one operation: its constant (`operations::MERGE_PULL_REQUEST`) or its method
    /// name on [`crate::Client`] (`"merge_pull_request"`). A name that is not an operation
    /// makes [`crate::ClientBuilder::build`] fail.
    ///
    /// ```
    /// use bitbucket_cloud::{operations, policy::Policy};
    /// let policy = Policy::deny_all().allow_operation(operations::GET_PULL_REQUEST);
    /// assert!(policy.decide(&operations::GET_PULL_REQUEST, None).is_allowed());
    /// assert!(!policy.decide(&operations::MERGE_PULL_REQUEST, None).is_allowed());
    /// ```
    pub fn allow_operation(mut self, operation: impl IntoOperation) -> Self {
        if let Some(rule) = self.operation_rule(operation) {
            self.allow.push(rule);
        }
        self
    }

    /// Allows each of these operations ([`Policy::allow_operation`]): constants or names.
    pub fn allow_operations<I>(self, operations: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoOperation,
    {
        operations
            .into_iter()
            .fold(self, |policy, operation| policy.allow_operation(operation))
    }

    /// Allows every operation with this tag of the official document (`Pullrequests`,
    /// `Pipelines`, `Issue tracker`, ...; ASCII case does not matter). The tags of each
    /// operation are in [`crate::operations`].
    pub fn allow_tag(mut self, tag: &str) -> Self {
        if let Some(rule) = self.tag_rule(tag) {
            self.allow.push(rule);
        }
        self
    }

    /// Allows what a token with the allowed scopes could do: every operation whose classic
    /// scopes are all granted by the scopes of the `allow_scope` rules, with the implications
    /// Bitbucket documents ([`Scope::implies`]: `pullrequest` also reads the repository).
    /// Operations that need no scope (`get_workspace`) are not allowed this way: name them.
    ///
    /// ```
    /// use bitbucket_cloud::{Scope, operations, policy::Policy};
    /// let policy = Policy::deny_all().allow_scope(Scope::Pullrequest);
    /// let allowed = |name| {
    ///     policy.decide(operations::by_name(name).unwrap(), None).is_allowed()
    /// };
    /// assert!(allowed("list_pull_requests"));
    /// assert!(allowed("list_commits")); // `repository`, which `pullrequest` implies
    /// assert!(!allowed("merge_pull_request")); // needs `pullrequest:write`
    /// ```
    pub fn allow_scope(mut self, scope: Scope) -> Self {
        self.allow.push(Rule::Scope(scope));
        self
    }

    /// Refuses one operation, whatever the other rules allow: its constant
    /// (`operations::DELETE_BRANCH`) or its name (`"delete_branch"`).
    pub fn deny_operation(mut self, operation: impl IntoOperation) -> Self {
        if let Some(rule) = self.operation_rule(operation) {
            self.deny.push(rule);
        }
        self
    }

    /// Refuses each of these operations ([`Policy::deny_operation`]): constants or names.
    pub fn deny_operations<I>(self, operations: I) -> Self
    where
        I: IntoIterator,
        I::Item: IntoOperation,
    {
        operations
            .into_iter()
            .fold(self, |policy, operation| policy.deny_operation(operation))
    }

    /// Refuses every operation with this tag, whatever the other rules allow.
    pub fn deny_tag(mut self, tag: &str) -> Self {
        if let Some(rule) = self.tag_rule(tag) {
            self.deny.push(rule);
        }
        self
    }

    /// Refuses every operation that needs this scope or one that implies it:
    /// `deny_scope(Scope::RepositoryWrite)` refuses `create_branch` and also
    /// `merge_pull_request` (its `pullrequest:write` implies `repository:write`).
    pub fn deny_scope(mut self, scope: Scope) -> Self {
        self.deny.push(Rule::Scope(scope));
        self
    }

    /// Restricts calls to a workspace (`"ws"`) or a repository (`"ws/repo"`); call it again
    /// to allow several. A repository rule does not allow the calls on its whole workspace
    /// (`list_repositories`, `get_workspace`). Resources are matched by the slug or `{uuid}`
    /// the call uses, so name them the way your code addresses them.
    pub fn only_in(mut self, resource: &str) -> Self {
        let parts: Vec<&str> = resource.trim().trim_matches('/').split('/').collect();
        match parts.as_slice() {
            [workspace] if !workspace.is_empty() => self.resources.push(Resource {
                workspace: workspace.to_string(),
                repo: None,
                project: None,
            }),
            [workspace, repo] if !workspace.is_empty() && !repo.is_empty() => {
                self.resources.push(Resource {
                    workspace: workspace.to_string(),
                    repo: Some(repo.to_string()),
                    project: None,
                })
            }
            _ => self.problems.push(format!(
                "only_in(\"{resource}\"): expected a workspace (\"ws\") or a repository (\"ws/repo\")"
            )),
        }
        self
    }

    /// Restricts calls to one project of a workspace: the operations on the project itself,
    /// those whose path names it (`/workspaces/{workspace}/projects/{project_key}/...`). Like
    /// [`Policy::only_in`], call it again (or call `only_in`) to allow several resources.
    ///
    /// The repositories of the project are not included: a repository's path does not say
    /// which project holds it, and repositories move between projects. Add each with
    /// `only_in("ws/repo")`, as listed by `list_repositories` with
    /// `q=project.key="KEY"`, and list them again when projects change.
    ///
    /// ```
    /// use bitbucket_cloud::{operations, policy::Policy};
    ///
    /// let policy = Policy::allow_all().only_in_project("acme", "PLAT").only_in("acme/api");
    /// let allowed = |name: &str, path: &str| {
    ///     let op = operations::by_name(name).unwrap();
    ///     policy.decide(op, op.match_path(path).as_ref()).is_allowed()
    /// };
    /// assert!(allowed("get_project", "/workspaces/acme/projects/PLAT"));
    /// assert!(!allowed("get_project", "/workspaces/acme/projects/WEB"));
    /// assert!(allowed("get_repository", "/repositories/acme/api"));
    /// assert!(!allowed("list_projects", "/workspaces/acme/projects"));
    /// ```
    pub fn only_in_project(mut self, workspace: &str, key: &str) -> Self {
        let (workspace, key) = (workspace.trim(), key.trim());
        let part = |s: &str| !s.is_empty() && !s.contains('/');
        if part(workspace) && part(key) {
            self.resources.push(Resource {
                workspace: workspace.to_string(),
                repo: None,
                project: Some(key.to_string()),
            });
        } else {
            self.problems.push(format!(
                "only_in_project(\"{workspace}\", \"{key}\"): expected a workspace and a project key, \
                 neither empty nor containing `/`"
            ));
        }
        self
    }

    /// Also allows what `grant` allows, with its own allow rules and resources: the way to
    /// give different access on different resources (see the [module docs](self)). This
    /// policy's `deny_*` rules still refuse what they match, and its `only_in` rules restrict
    /// its own allow rules only. The grant's problems (unknown names) are this policy's.
    pub fn grant(mut self, grant: Policy) -> Self {
        self.problems.extend(grant.problems.iter().cloned());
        self.grants.push(grant);
        self
    }

    /// Whether some call of `operation` may be allowed, on some resource: `false` means that
    /// every call of it is refused. What a gateway lists to an agent as the operations it may
    /// use.
    ///
    /// ```
    /// use bitbucket_cloud::{operations, policy::Policy};
    ///
    /// let policy = Policy::deny_all().allow_tag("Pullrequests").only_in("acme/app");
    /// let op = |name| operations::by_name(name).unwrap();
    /// assert!(policy.may_allow(op("merge_pull_request")));
    /// assert!(!policy.may_allow(op("get_workspace")));
    /// // A repository rule never allows a call on a whole workspace.
    /// let policy = Policy::allow_all().only_in("acme/app");
    /// assert!(!policy.may_allow(op("list_repositories")));
    /// ```
    pub fn may_allow(&self, operation: &Operation) -> bool {
        if self
            .deny
            .iter()
            .any(|rule| deny_reason(rule, operation).is_some())
        {
            return false;
        }
        let by_own_rules = (self.allow_by_default || self.allows(operation))
            && (self.resources.is_empty()
                || !operation.has_param("workspace")
                || self.resources.iter().any(|r| r.may_contain(operation)));
        by_own_rules || self.grants.iter().any(|grant| grant.may_allow(operation))
    }

    /// Whether this policy lets `operation` go out, given the path parameters of the request
    /// (`None` when its path could not be matched to the operation's template). The client
    /// calls this before every request, pages included; call it yourself to test a policy.
    ///
    /// ```
    /// use bitbucket_cloud::{operations, policy::Policy};
    /// let policy = Policy::allow_all().only_in("ws/app");
    /// let op = operations::by_name("get_repository").unwrap();
    /// let params = op.match_path("/repositories/ws/other").unwrap();
    /// let decision = policy.decide(op, Some(&params));
    /// assert!(!decision.is_allowed());
    /// assert!(decision.to_string().contains("only_in(\"ws/other\")"));
    /// ```
    pub fn decide(&self, operation: &Operation, params: Option<&PathParams>) -> Decision {
        if let Some(reason) = self
            .deny
            .iter()
            .find_map(|rule| deny_reason(rule, operation))
        {
            return Decision::Denied(reason);
        }
        let own = self.decide_own(operation, params);
        if own.is_allowed() || self.grants.is_empty() {
            return own;
        }
        let mut reason = None;
        for grant in &self.grants {
            match grant.decide(operation, params) {
                Decision::Allowed => return Decision::Allowed,
                // The most useful reason is that of a grant that allows the operation, but
                // not there.
                Decision::Denied(why) if reason.is_none() && grant.may_allow(operation) => {
                    reason = Some(why)
                }
                Decision::Denied(_) => {}
            }
        }
        reason.map_or(own, Decision::Denied)
    }

    /// Steps 2 and 3 of the [module docs](self): this policy's own allow rules and resources.
    fn decide_own(&self, operation: &Operation, params: Option<&PathParams>) -> Decision {
        if !self.allow_by_default && !self.allows(operation) {
            return Decision::Denied(self.not_allowed_reason(operation));
        }
        if self.resources.is_empty() || !operation.has_param("workspace") {
            return Decision::Allowed;
        }
        let Some(params) = params else {
            return Decision::Denied(format!(
                "the request path does not match `{}`, so the policy cannot tell which workspace \
                 it is for",
                operation.path
            ));
        };
        let Some(workspace) = params.get("workspace") else {
            return Decision::Denied(format!(
                "the request names no workspace, and the policy only allows {}",
                self.resource_list()
            ));
        };
        if self.resources.iter().any(|r| r.contains(workspace, params)) {
            return Decision::Allowed;
        }
        let target = params.resource().unwrap_or_else(|| workspace.to_string());
        let (what, fix) = match (params.get("repo_slug"), params.get("project_key")) {
            (Some(_), _) => (
                format!("repository `{target}`"),
                format!(".only_in(\"{target}\")"),
            ),
            (None, Some(key)) => (
                format!("project `{key}` of workspace `{workspace}`"),
                format!(".only_in_project(\"{workspace}\", \"{key}\")"),
            ),
            (None, None) => (
                format!("the whole workspace `{target}`"),
                format!(".only_in(\"{target}\")"),
            ),
        };
        Decision::Denied(format!(
            "`{}` acts on {what}, and the policy only allows {}; add {fix} to allow it",
            operation.name,
            self.resource_list()
        ))
    }

    /// What is wrong with the rules (names that are not operations or tags, malformed
    /// resources), for [`crate::ClientBuilder::build`].
    pub(crate) fn problems(&self) -> &[String] {
        &self.problems
    }

    fn operation_rule(&mut self, operation: impl IntoOperation) -> Option<Rule> {
        match operation.into_operation() {
            Ok(op) => Some(Rule::Operation(op.name)),
            Err(unknown) => {
                self.problems.push(unknown.to_string());
                None
            }
        }
    }

    fn tag_rule(&mut self, tag: &str) -> Option<Rule> {
        let known = operations::ALL
            .iter()
            .flat_map(|op| op.tags.iter().copied())
            .find(|t| t.eq_ignore_ascii_case(tag.trim()));
        if known.is_none() {
            let mut tags: Vec<&str> = operations::ALL
                .iter()
                .flat_map(|op| op.tags.iter().copied())
                .collect();
            tags.sort_unstable();
            tags.dedup();
            self.problems.push(format!(
                "`{tag}` is not a tag of any supported operation; the tags are: {}",
                tags.join(", ")
            ));
        }
        known.map(Rule::Tag)
    }

    fn allows(&self, operation: &Operation) -> bool {
        let granted = |needed: &Scope| {
            self.allow
                .iter()
                .any(|rule| matches!(rule, Rule::Scope(scope) if scope.implies(*needed)))
        };
        let by_scope = !operation.scopes.is_empty() && operation.scopes.iter().all(granted);
        by_scope
            || self.allow.iter().any(|rule| match rule {
                Rule::Operation(name) => *name == operation.name,
                Rule::Tag(tag) => operation.tags.contains(tag),
                Rule::Scope(_) => false,
            })
    }

    fn not_allowed_reason(&self, operation: &Operation) -> String {
        let mut fixes = vec![format!(".allow_operation(\"{}\")", operation.name)];
        fixes.extend(
            operation
                .tags
                .iter()
                .map(|tag| format!(".allow_tag(\"{tag}\")")),
        );
        fixes.extend(
            operation
                .scopes
                .iter()
                .map(|scope| format!(".allow_scope(Scope::{scope:?})")),
        );
        let needs = if operation.scopes.is_empty() {
            "it needs no scope".to_string()
        } else {
            let scopes: Vec<String> = operation.scopes.iter().map(|s| format!("`{s}`")).collect();
            format!("it needs {}", scopes.join(" and "))
        };
        format!(
            "the policy denies what no rule allows, and no rule allows `{}` ({needs}); allow it \
             with {}",
            operation.name,
            fixes.join(" or ")
        )
    }

    fn resource_list(&self) -> String {
        let names: Vec<String> = self.resources.iter().map(Resource::to_string).collect();
        names.join(", ")
    }
}

/// Why `rule`, a deny rule, refuses `operation`, if it does.
fn deny_reason(rule: &Rule, operation: &Operation) -> Option<String> {
    match rule {
        Rule::Operation(name) if *name == operation.name => Some(format!(
            "the rule deny_operation(\"{name}\") refuses it; remove that rule to allow it"
        )),
        Rule::Tag(tag) if operation.tags.contains(tag) => Some(format!(
            "`{}` is tagged `{tag}`, which the rule deny_tag(\"{tag}\") refuses; remove that rule \
             to allow it",
            operation.name
        )),
        Rule::Scope(denied) => operation
            .scopes
            .iter()
            .find(|needed| needed.implies(*denied))
            .map(|needed| {
                format!(
                    "`{}` needs `{needed}`, which the rule deny_scope(Scope::{denied:?}) refuses; \
                     remove that rule to allow it",
                    operation.name
                )
            }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(name: &str) -> &'static Operation {
        operations::by_name(name).unwrap()
    }

    fn decide(policy: &Policy, name: &str, path: &str) -> Decision {
        let op = op(name);
        policy.decide(op, op.match_path(path).as_ref())
    }

    #[test]
    fn deny_all_allows_only_what_rules_name() {
        let policy = Policy::deny_all()
            .allow_operation("list_pull_requests")
            .allow_tag("pipelines");
        assert!(policy.problems().is_empty());
        assert!(policy.decide(op("list_pull_requests"), None).is_allowed());
        assert!(policy.decide(op("stop_pipeline"), None).is_allowed());
        let Decision::Denied(reason) = policy.decide(op("merge_pull_request"), None) else {
            panic!("merge allowed")
        };
        assert!(
            reason.contains(".allow_operation(\"merge_pull_request\")")
                && reason.contains(".allow_scope(Scope::PullrequestWrite)"),
            "{reason}"
        );
    }

    #[test]
    fn scope_rules_follow_implications_but_not_scope_free_operations() {
        let policy = Policy::deny_all().allow_scope(Scope::PullrequestWrite);
        for name in ["merge_pull_request", "list_pull_requests", "create_branch"] {
            assert!(policy.decide(op(name), None).is_allowed(), "{name}");
        }
        for name in ["update_repository", "get_workspace", "list_pipelines"] {
            assert!(!policy.decide(op(name), None).is_allowed(), "{name}");
        }
    }

    #[test]
    fn deny_rules_win() {
        let policy = Policy::deny_all()
            .allow_tag("Pullrequests")
            .deny_scope(Scope::RepositoryWrite);
        let Decision::Denied(reason) = policy.decide(op("merge_pull_request"), None) else {
            panic!("merge allowed")
        };
        assert!(
            reason.contains("deny_scope(Scope::RepositoryWrite)"),
            "{reason}"
        );
        assert!(policy.decide(op("get_pull_request"), None).is_allowed());

        let policy = Policy::allow_all().deny_operation("delete_branch");
        assert!(!policy.decide(op("delete_branch"), None).is_allowed());
        assert!(policy.decide(op("get_branch"), None).is_allowed());
    }

    #[test]
    fn resources_restrict_calls_on_workspaces_and_repositories() {
        let policy = Policy::allow_all().only_in("ws/app").only_in("tools");
        let allowed = |name, path| decide(&policy, name, path).is_allowed();
        assert!(allowed("get_repository", "/repositories/ws/app"));
        assert!(allowed("get_repository", "/repositories/WS/App"));
        assert!(allowed("get_repository", "/repositories/tools/anything"));
        assert!(allowed("list_repositories", "/repositories/tools"));
        assert!(!allowed("get_repository", "/repositories/ws/other"));
        assert!(!allowed("list_repositories", "/repositories/ws"));
        assert!(!allowed("get_repository", "/repositories/ws/app/extra"));
        // No workspace: resource rules do not apply.
        assert!(allowed("get_current_user", "/user"));
        let reason = decide(&policy, "list_repositories", "/repositories/ws").to_string();
        assert!(reason.contains("the whole workspace `ws`"), "{reason}");
    }

    #[test]
    fn grants_add_access_on_their_own_resources() {
        let policy = Policy::deny_all()
            .deny_operation("delete_branch")
            .grant(
                Policy::deny_all()
                    .allow_scope(Scope::Pullrequest)
                    .only_in("acme"),
            )
            .grant(
                Policy::deny_all()
                    .allow_operations(["merge_pull_request", "delete_branch"])
                    .only_in("acme/app"),
            );
        assert!(policy.problems().is_empty());
        let allowed = |name, path| decide(&policy, name, path).is_allowed();
        assert!(allowed(
            "list_pull_requests",
            "/repositories/acme/web/pullrequests"
        ));
        assert!(allowed(
            "merge_pull_request",
            "/repositories/acme/app/pullrequests/1/merge"
        ));
        // The merge grant is for acme/app only; the reason comes from the grant that allows
        // the operation elsewhere.
        let reason = decide(
            &policy,
            "merge_pull_request",
            "/repositories/acme/web/pullrequests/1/merge",
        )
        .to_string();
        assert!(reason.contains("only allows acme/app"), "{reason}");
        // The top-level deny rule refuses what a grant allows.
        let reason = decide(
            &policy,
            "delete_branch",
            "/repositories/acme/app/refs/branches/old",
        )
        .to_string();
        assert!(
            reason.contains("deny_operation(\"delete_branch\")"),
            "{reason}"
        );
        // Nothing allows it anywhere: the reason says which rule would.
        let reason = decide(&policy, "get_workspace", "/workspaces/acme").to_string();
        assert!(
            reason.contains(".allow_operation(\"get_workspace\")"),
            "{reason}"
        );
        // Problems of a grant are the policy's.
        let policy = Policy::deny_all().grant(Policy::deny_all().allow_operation("merge"));
        assert_eq!(policy.problems().len(), 1, "{:?}", policy.problems());
    }

    #[test]
    fn project_resources_match_the_project_key() {
        let policy = Policy::allow_all().only_in_project("acme", "PLAT");
        let allowed = |name, path| decide(&policy, name, path).is_allowed();
        assert!(allowed("get_project", "/workspaces/acme/projects/PLAT"));
        assert!(allowed("get_project", "/workspaces/ACME/projects/plat"));
        assert!(!allowed("get_project", "/workspaces/other/projects/PLAT"));
        assert!(!allowed("list_projects", "/workspaces/acme/projects"));
        assert!(!allowed("get_repository", "/repositories/acme/app"));
        let reason = decide(&policy, "get_project", "/workspaces/acme/projects/WEB").to_string();
        assert!(
            reason.contains("project `WEB` of workspace `acme`")
                && reason.contains(".only_in_project(\"acme\", \"WEB\")")
                && reason.contains("acme (project PLAT)"),
            "{reason}"
        );
        let policy = Policy::allow_all()
            .only_in_project("acme/x", "PLAT")
            .only_in_project("acme", "");
        assert_eq!(policy.problems().len(), 2, "{:?}", policy.problems());
    }

    #[test]
    fn may_allow_tells_which_operations_some_call_could_use() {
        let policy = Policy::deny_all()
            .deny_operation("decline_pull_request")
            .grant(
                Policy::deny_all()
                    .allow_tag("Pullrequests")
                    .only_in("acme/app"),
            )
            .grant(
                Policy::deny_all()
                    .allow_operation("get_project")
                    .only_in("acme"),
            )
            .grant(
                Policy::deny_all()
                    .allow_operation("list_projects")
                    .only_in_project("acme", "PLAT"),
            );
        let may = |name| policy.may_allow(op(name));
        assert!(may("merge_pull_request"));
        assert!(may("get_project"));
        assert!(!may("decline_pull_request"), "denied everywhere");
        assert!(
            !may("list_projects"),
            "a project rule never matches a workspace-wide call"
        );
        assert!(!may("get_repository"));
        // Without resources, or for operations on no workspace, the allow rules decide.
        assert!(
            Policy::deny_all()
                .allow_operation("get_current_user")
                .may_allow(op("get_current_user"))
        );
        assert!(
            Policy::allow_all()
                .only_in("acme/app")
                .may_allow(op("get_current_user"))
        );
        assert!(
            !Policy::allow_all()
                .only_in("acme/app")
                .may_allow(op("get_workspace"))
        );
        assert!(
            Policy::allow_all()
                .only_in("acme")
                .may_allow(op("get_workspace"))
        );
        // may_allow agrees with decide wherever decide allows.
        for operation in operations::ALL {
            let path = operation.path.replace(['{', '}'], "");
            if policy
                .decide(operation, operation.match_path(&path).as_ref())
                .is_allowed()
            {
                assert!(policy.may_allow(operation), "{}", operation.name);
            }
        }
    }

    #[test]
    fn constants_and_names_make_the_same_rules() {
        use crate::operations::{DELETE_BRANCH, GET_PULL_REQUEST, LIST_PULL_REQUESTS};

        let by_constant = Policy::deny_all()
            .allow_operations([LIST_PULL_REQUESTS, GET_PULL_REQUEST])
            .deny_operation(DELETE_BRANCH);
        let by_name = Policy::deny_all()
            .allow_operations(vec![
                "list_pull_requests".to_string(),
                "get_pull_request".into(),
            ])
            .deny_operation("delete_branch");
        let by_reference = Policy::deny_all()
            .allow_operations(&[LIST_PULL_REQUESTS, GET_PULL_REQUEST])
            .deny_operations([&DELETE_BRANCH]);
        assert_eq!(by_constant, by_name);
        assert_eq!(by_constant, by_reference);
        assert!(by_constant.problems().is_empty());
        assert!(by_constant.decide(&GET_PULL_REQUEST, None).is_allowed());
        assert!(!by_constant.decide(&DELETE_BRANCH, None).is_allowed());

        // Constants and names mix across calls, and entries of `ALL` are operations too.
        let mixed = Policy::allow_all()
            .deny_operation(DELETE_BRANCH)
            .deny_operation("merge_pull_request")
            .deny_operations(
                operations::ALL
                    .iter()
                    .filter(|op| op.name.starts_with("delete_")),
            );
        assert!(!mixed.decide(op("merge_pull_request"), None).is_allowed());
        assert!(!mixed.decide(op("delete_webhook"), None).is_allowed());
        assert!(mixed.decide(op("get_branch"), None).is_allowed());
    }

    #[test]
    fn unknown_names_are_problems() {
        let policy = Policy::deny_all()
            .allow_operation("merge_pullrequest")
            .allow_tag("Pull requests")
            .only_in("a/b/c");
        let problems = policy.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("merge_pull_request"));
        assert!(problems[1].contains("Pullrequests"));
        assert!(problems[2].contains("a/b/c"));
    }
}
