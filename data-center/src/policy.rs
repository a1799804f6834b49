//! What a client may send, decided before a request leaves (in the transport, for every
//! attempt, page and resumed cursor, before credentials are attached); a refused request
//! sends nothing, fails with [`crate::Error::Denied`], and leaves a denied
//! [`crate::audit::AuditRecord`].
//!
//! ```
//! use bitbucket_data_center::{Auth, Client, Permission, Policy};
//!
//! // This agent may read and write the repositories of project PLAT, and administer
//! // PLAT/api; nothing of any other project.
//! let policy = Policy::new()
//!     .grant(Permission::RepoAdmin)
//!     .only_in_project("PLAT")
//!     .only_in_repository("PLAT", "api");
//! let client = Client::builder()
//!     .server_url("https://bitbucket.example.com")
//!     .auth(Auth::bearer("..."))
//!     .agent("release-bot")
//!     .policy(policy)
//!     .build()?;
//! # Ok::<(), bitbucket_data_center::Error>(())
//! ```
//!
//! # How rules combine
//!
//! 1. An operation denied by name ([`Policy::deny_operation`]) is refused, whatever else the
//!    policy says; so is every operation but a `GET` or `HEAD` of a [`Policy::read_only`]
//!    policy.
//! 2. Otherwise it must be allowed by name ([`Policy::allow_operation`]) or by a granted
//!    permission that implies its own ([`Policy::grant`], [`crate::Permission::implies`]).
//! 3. When the policy has [`Policy::only_in_project`] or [`Policy::only_in_repository`]
//!    rules, a call whose path names a project (`{projectKey}`) must be on one of them: a
//!    project rule takes the project and every repository in it (a Data Center path names
//!    the project of a repository), a repository rule that repository only (not the calls on
//!    its whole project: `get_project`, `get_repositories`). Operations whose path names a
//!    project or repository only by its id (`/mirroring/latest/repos/{repoId}`) are refused,
//!    since the policy cannot tell which project they act on. Operations whose path names no
//!    project (`get_projects`, the search of `/api/latest/repos`, users, admin, dashboard)
//!    are governed by steps 1 and 2 only, as the workspace-free operations of
//!    `bitbucket-cloud`'s policy are: deny them by name, or grant no permission that allows
//!    them, when the agent must not see beyond its projects.
//!
//! Project keys (personal projects' `~user` keys included) and repository slugs compare
//! without regard to ASCII case, as Data Center resolves them. A client without a policy
//! allows every operation. One check holds with or without a policy, and no rule lifts it:
//! a request's path must be an instance of its operation's path template, under the client's
//! API root, without `.` or `..` segments. A `nextPageStart` or a cursor given to `resume()`
//! that leads to another project's list is decided like any other call, and refused.
//!
//! ```
//! use bitbucket_data_center::{Policy, Permission, operations};
//!
//! let policy = Policy::new()
//!     .grant(Permission::RepoWrite)
//!     .only_in_repository("PLAT", "api")
//!     .only_in_project("~alice");
//! let decide = |name: &str, path: &str| {
//!     let op = operations::by_name(name).unwrap();
//!     policy.decide(op, op.match_path(path).as_ref())
//! };
//! let merge = "/api/latest/projects/PLAT/repos/api/pull-requests/7/merge";
//! assert!(decide("merge_pull_request", merge).is_allowed());
//! let other = "/api/latest/projects/PLAT/repos/web/pull-requests/7/merge";
//! let denied = decide("merge_pull_request", other).to_string();
//! assert!(denied.contains(r#".only_in_repository("PLAT", "web")"#), "{denied}");
//! assert!(decide("get_repository", "/api/latest/projects/~ALICE/repos/notes").is_allowed());
//! ```

use std::collections::BTreeSet;
use std::fmt;

use bitbucket_core::path::template_params;

use crate::operations::{self, Operation, PathParams};
use crate::permission::Permission;

/// A client's rules: deny by default; allow what the granted permissions cover and the
/// operations allowed by name; deny the operations denied by name, whatever else says; and,
/// with resource rules, only on those projects and repositories. See the
/// [module docs](self).
///
/// ```
/// use bitbucket_data_center::{Permission, Policy, operations};
///
/// let policy = Policy::new().grant(Permission::RepoRead).deny_operation("get_raw_file");
/// assert!(policy.allows(operations::by_name("get_pull_request").unwrap()));
/// assert!(!policy.allows(operations::by_name("merge_pull_request").unwrap()));
/// assert!(!policy.allows(operations::by_name("get_raw_file").unwrap()));
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct Policy {
    granted: BTreeSet<Permission>,
    allowed: BTreeSet<String>,
    denied: BTreeSet<String>,
    read_only: bool,
    resources: Vec<Resource>,
    /// Malformed resource rules, for [`crate::ClientBuilder::build`].
    malformed: Vec<String>,
}

/// The decision on one request, taken by the transport for each one it sends.
pub use bitbucket_core::policy::Decision;

/// The decision on one request, with what its audit record needs (path and parameters).
pub(crate) use bitbucket_core::policy::Admission;

/// The path parameter that names a call's project, and the one that names its repository.
const PROJECT: &str = "projectKey";
const REPOSITORY: &str = "repositorySlug";

/// Path parameters that name a project or a repository by id, which a resource rule cannot
/// check.
const BY_ID: &[&str] = &[
    "projectId",
    "repoId",
    "repositoryId",
    "externalRepositoryId",
];

/// A project, or one repository of it. Keys and slugs compare without regard to ASCII case.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Resource {
    project: String,
    repository: Option<String>,
}

impl Resource {
    /// Whether a call on project `key` (and repository `slug`, if it names one) is on this
    /// resource.
    fn contains(&self, key: &str, slug: Option<&str>) -> bool {
        self.project.eq_ignore_ascii_case(key)
            && match (&self.repository, slug) {
                (None, _) => true,
                (Some(allowed), Some(slug)) => allowed.eq_ignore_ascii_case(slug),
                (Some(_), None) => false,
            }
    }
}

impl fmt::Display for Resource {
    /// `project PLAT` or `repository PLAT/api`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repository {
            None => write!(f, "project {}", self.project),
            Some(slug) => write!(f, "repository {}/{slug}", self.project),
        }
    }
}

/// Whether `part` may name a project or a repository: not empty, no `/` or `\`, not `.` or
/// `..` (a server could resolve those to another path).
fn valid_part(part: &str) -> bool {
    !part.is_empty() && !part.contains(['/', '\\']) && part != "." && part != ".."
}

impl Policy {
    /// A policy that allows nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Allows every operation whose [`Operation::permission`] `permission` implies
    /// ([`Permission::implies`]).
    pub fn grant(mut self, permission: Permission) -> Self {
        self.granted.insert(permission);
        self
    }

    /// Allows the operation named `name`, whatever permission it needs (the way to allow an
    /// operation whose permission is [`Permission::Unknown`]).
    pub fn allow_operation(mut self, name: impl Into<String>) -> Self {
        self.allowed.insert(name.into());
        self
    }

    /// Denies the operation named `name`, whatever else allows it.
    pub fn deny_operation(mut self, name: impl Into<String>) -> Self {
        self.denied.insert(name.into());
        self
    }

    /// Denies every operation that is not a `GET` or `HEAD`, whatever else allows it.
    pub fn read_only(mut self) -> Self {
        self.read_only = true;
        self
    }

    /// Restricts the calls that name a project to the project with this key (`"PLAT"`, or a
    /// personal project's `"~alice"`) and its repositories; call it again, or call
    /// [`Policy::only_in_repository`], to allow several. Keys compare without regard to ASCII
    /// case. An empty key, one with `/` or `\`, `.` or `..` makes
    /// [`crate::ClientBuilder::build`] fail. See the [module docs](self) for the operations
    /// that name no project.
    ///
    /// ```
    /// use bitbucket_data_center::{Permission, Policy, operations};
    ///
    /// let policy = Policy::new().grant(Permission::ProjectRead).only_in_project("PLAT");
    /// let allowed = |name: &str, path: &str| {
    ///     let op = operations::by_name(name).unwrap();
    ///     policy.decide(op, op.match_path(path).as_ref()).is_allowed()
    /// };
    /// assert!(allowed("get_project", "/api/latest/projects/plat"));
    /// assert!(allowed("get_repository", "/api/latest/projects/PLAT/repos/api"));
    /// assert!(!allowed("get_repository", "/api/latest/projects/WEB/repos/api"));
    /// // Names no project: the permissions decide.
    /// assert!(allowed("get_projects", "/api/latest/projects"));
    /// ```
    pub fn only_in_project(mut self, key: &str) -> Self {
        let key = key.trim();
        if valid_part(key) {
            self.resources.push(Resource {
                project: key.to_string(),
                repository: None,
            });
        } else {
            self.malformed.push(format!(
                "only_in_project(\"{key}\"): expected a project key, not empty, without `/` or \
                 `\\`, and not `.` or `..`"
            ));
        }
        self
    }

    /// Restricts the calls that name a project to this repository of project `key`; call it
    /// again, or call [`Policy::only_in_project`], to allow several. A repository rule does
    /// not allow the calls on its whole project (`get_project`, `get_repositories`). Keys and
    /// slugs compare without regard to ASCII case; a malformed one (empty, with `/` or `\`,
    /// `.` or `..`) makes [`crate::ClientBuilder::build`] fail.
    ///
    /// ```
    /// use bitbucket_data_center::{Permission, Policy, operations};
    ///
    /// let policy = Policy::new().grant(Permission::RepoRead).only_in_repository("PLAT", "api");
    /// let allowed = |name: &str, path: &str| {
    ///     let op = operations::by_name(name).unwrap();
    ///     policy.decide(op, op.match_path(path).as_ref()).is_allowed()
    /// };
    /// assert!(allowed("get_pull_request", "/api/latest/projects/PLAT/repos/api/pull-requests/1"));
    /// assert!(!allowed("get_pull_request", "/api/latest/projects/PLAT/repos/web/pull-requests/1"));
    /// ```
    pub fn only_in_repository(mut self, key: &str, slug: &str) -> Self {
        let (key, slug) = (key.trim(), slug.trim());
        if valid_part(key) && valid_part(slug) {
            self.resources.push(Resource {
                project: key.to_string(),
                repository: Some(slug.to_string()),
            });
        } else {
            self.malformed.push(format!(
                "only_in_repository(\"{key}\", \"{slug}\"): expected a project key and a \
                 repository slug, neither empty, with `/` or `\\`, nor `.` or `..`"
            ));
        }
        self
    }

    /// Whether some call of `operation` may be allowed: its operation rules allow it and,
    /// when the policy has resource rules, some call of it could be on one of them (repository
    /// rules alone never allow `get_project`, which acts on a whole project, and no resource
    /// rule allows an operation that names its repository by id). `false` means every call
    /// of it is refused; the decision on one request is [`Policy::decide`]'s.
    pub fn allows(&self, operation: &Operation) -> bool {
        if self.decide_rules(operation).is_some() {
            return false;
        }
        if self.resources.is_empty() {
            return true;
        }
        let has = |name: &str| template_params(operation.path).any(|p| p == name);
        if has(PROJECT) {
            has(REPOSITORY) || self.resources.iter().any(|r| r.repository.is_none())
        } else {
            !BY_ID.iter().any(|name| has(name))
        }
    }

    /// Whether this policy lets a request of `operation` go out, given the path parameters
    /// of the request (`None` when its path could not be matched to the operation's
    /// template). The client calls this before every request it sends, pages included; call
    /// it yourself to test a policy.
    ///
    /// ```
    /// use bitbucket_data_center::{Permission, Policy, operations};
    ///
    /// let policy = Policy::new().grant(Permission::RepoRead).only_in_project("PLAT");
    /// let op = operations::by_name("get_raw_file").unwrap();
    /// let params = op.match_path("/api/latest/projects/WEB/repos/api/raw/README.md");
    /// let decision = policy.decide(op, params.as_ref());
    /// assert!(!decision.is_allowed());
    /// assert!(decision.to_string().contains(r#".only_in_project("WEB")"#));
    /// ```
    pub fn decide(&self, operation: &Operation, params: Option<&PathParams>) -> Decision {
        if let Some(reason) = self.decide_rules(operation) {
            return Decision::Denied(reason);
        }
        if self.resources.is_empty() {
            return Decision::Allowed;
        }
        let names_project = template_params(operation.path).any(|p| p == PROJECT);
        if !names_project {
            return match template_params(operation.path).find(|p| BY_ID.contains(p)) {
                Some(by_id) => Decision::Denied(format!(
                    "`{}` names its project or repository by id (`{{{by_id}}}`), so a policy \
                     that only allows {} cannot tell where it acts; only a policy without \
                     only_in_project/only_in_repository rules allows it",
                    operation.name,
                    self.resource_list()
                )),
                None => Decision::Allowed,
            };
        }
        let Some(params) = params else {
            return Decision::Denied(format!(
                "the request path does not match `{}`, so the policy cannot tell which project \
                 it is for",
                operation.path
            ));
        };
        let Some(key) = params.get(PROJECT) else {
            return Decision::Denied(format!(
                "the request names no project, and the policy only allows {}",
                self.resource_list()
            ));
        };
        let slug = params.get(REPOSITORY);
        if self.resources.iter().any(|r| r.contains(key, slug)) {
            return Decision::Allowed;
        }
        let (what, fix) = match slug {
            Some(slug) => (
                format!("repository `{key}/{slug}`"),
                format!(
                    ".only_in_repository(\"{key}\", \"{slug}\") or .only_in_project(\"{key}\")"
                ),
            ),
            None => (
                format!("the whole project `{key}`"),
                format!(".only_in_project(\"{key}\")"),
            ),
        };
        Decision::Denied(format!(
            "`{}` acts on {what}, and the policy only allows {}; add {fix} to allow it",
            operation.name,
            self.resource_list()
        ))
    }

    /// Steps 1 and 2 of the [module docs](self): why the operation rules refuse `operation`,
    /// if they do.
    fn decide_rules(&self, operation: &Operation) -> Option<String> {
        if self.denied.contains(operation.name) {
            return Some(format!(
                "the policy denies `{}` by name (deny_operation); remove that rule to allow it",
                operation.name
            ));
        }
        if self.read_only
            && !matches!(
                operation.method,
                reqwest::Method::GET | reqwest::Method::HEAD
            )
        {
            return Some(format!(
                "the policy is read-only and `{}` is a {}",
                operation.name, operation.method
            ));
        }
        if self.allowed.contains(operation.name)
            || self.granted.iter().any(|p| p.implies(operation.permission))
        {
            return None;
        }
        let granted: Vec<&str> = self.granted.iter().map(|p| p.as_str()).collect();
        Some(if operation.permission == Permission::Unknown {
            format!(
                "nothing documents the permission `{}` needs; allow it by name \
                 (Policy::allow_operation)",
                operation.name
            )
        } else {
            format!(
                "`{}` needs {}, and the policy grants {}; grant it (Policy::grant) or allow it \
                 by name (Policy::allow_operation)",
                operation.name,
                operation.permission,
                if granted.is_empty() {
                    "nothing".to_string()
                } else {
                    granted.join(", ")
                }
            )
        })
    }

    fn resource_list(&self) -> String {
        let names: Vec<String> = self.resources.iter().map(Resource::to_string).collect();
        names.join(", ")
    }

    /// Operation names in the rules that name no operation (a typo would silently allow or
    /// deny nothing), and malformed resource rules: checked by [`crate::ClientBuilder::build`].
    pub(crate) fn problems(&self) -> Vec<String> {
        self.allowed
            .iter()
            .chain(&self.denied)
            .filter(|name| operations::by_name(name).is_none())
            .map(|name| format!("`{name}` is not an operation"))
            .chain(self.malformed.iter().cloned())
            .collect()
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
    fn operation_rules_decide_without_resources() {
        let policy = Policy::new()
            .grant(Permission::RepoRead)
            .allow_operation("get_compare_diff")
            .deny_operation("get_raw_file");
        assert!(policy.problems().is_empty());
        assert!(policy.allows(op("get_pull_request")));
        assert!(policy.allows(op("get_compare_diff")));
        assert!(!policy.allows(op("merge_pull_request")));
        let reason = decide(
            &policy,
            "get_raw_file",
            "/api/latest/projects/P/repos/r/raw/a",
        );
        assert!(reason.to_string().contains("deny_operation"), "{reason}");
        let reason = policy.decide(op("merge_pull_request"), None).to_string();
        assert!(
            reason.contains("REPO_WRITE") && reason.contains("Policy::grant"),
            "{reason}"
        );
        let read_only = Policy::new().grant(Permission::SysAdmin).read_only();
        assert!(!read_only.allows(op("delete_repository")));
        assert!(read_only.allows(op("get_repository")));
    }

    #[test]
    fn project_rules_take_the_project_and_its_repositories() {
        let policy = Policy::new()
            .grant(Permission::SysAdmin)
            .allow_operation("get_user")
            .allow_operation("get_project_by_id")
            .only_in_project("PLAT")
            .only_in_project("~alice");
        let allowed = |name, path| decide(&policy, name, path).is_allowed();
        assert!(allowed("get_project", "/api/latest/projects/PLAT"));
        assert!(allowed("get_project", "/api/latest/projects/plat"));
        assert!(allowed(
            "get_repository",
            "/api/latest/projects/PLAT/repos/api"
        ));
        assert!(allowed(
            "get_repository",
            "/api/latest/projects/~ALICE/repos/notes"
        ));
        assert!(allowed(
            "get_raw_file",
            "/api/latest/projects/PLAT/repos/api/raw/src/main.rs"
        ));
        assert!(allowed(
            "get_pull_request",
            "/api/latest/projects/PLAT/repos/api/pull-requests/1"
        ));
        assert!(!allowed("get_project", "/api/latest/projects/WEB"));
        assert!(!allowed("get_project", "/api/latest/projects/~bob"));
        assert!(!allowed(
            "get_repository",
            "/api/latest/projects/WEB/repos/api"
        ));
        // `..` never reaches the policy as a project.
        assert!(!allowed(
            "get_repository",
            "/api/latest/projects/PLAT%2F..%2FWEB/repos/api"
        ));
        // Names no project: the operation rules decide.
        assert!(allowed("get_projects", "/api/latest/projects"));
        assert!(allowed("get_user", "/api/latest/users/bob"));
        // Names it by id: refused.
        let reason = decide(&policy, "get_project_by_id", "/mirroring/latest/projects/7");
        assert!(
            reason.to_string().contains("by id (`{projectId}`)"),
            "{reason}"
        );
        assert!(!policy.allows(op("get_project_by_id")));
        // No parameters to decide on.
        assert!(!policy.decide(op("get_project"), None).is_allowed());
    }

    #[test]
    fn repository_rules_take_that_repository_only() {
        let policy = Policy::new()
            .grant(Permission::SysAdmin)
            .only_in_repository("PLAT", "api");
        let allowed = |name, path| decide(&policy, name, path).is_allowed();
        assert!(allowed(
            "get_repository",
            "/api/latest/projects/PLAT/repos/api"
        ));
        assert!(allowed(
            "get_repository",
            "/api/latest/projects/plat/repos/API"
        ));
        assert!(!allowed(
            "get_repository",
            "/api/latest/projects/PLAT/repos/web"
        ));
        assert!(!allowed(
            "get_repository",
            "/api/latest/projects/WEB/repos/api"
        ));
        assert!(!allowed("get_project", "/api/latest/projects/PLAT"));
        assert!(!allowed(
            "get_repositories",
            "/api/latest/projects/PLAT/repos"
        ));
        // Whether some call could be allowed: not a project-wide one.
        assert!(policy.allows(op("get_repository")));
        assert!(!policy.allows(op("get_project")));
        assert!(policy.allows(op("get_projects")));
        let reason = decide(&policy, "get_project", "/api/latest/projects/PLAT").to_string();
        assert!(
            reason.contains("the whole project `PLAT`")
                && reason.contains("only allows repository PLAT/api")
                && reason.contains(".only_in_project(\"PLAT\")"),
            "{reason}"
        );
    }

    #[test]
    fn malformed_rules_are_problems() {
        let policy = Policy::new()
            .allow_operation("merge")
            .only_in_project(" ")
            .only_in_project("..")
            .only_in_project("A/B")
            .only_in_repository("PLAT", ".")
            .only_in_repository("PLAT", "a\\b")
            .only_in_project("OK")
            .only_in_repository("OK", "fine");
        assert_eq!(policy.problems().len(), 6, "{:?}", policy.problems());
    }
}
