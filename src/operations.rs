//! The supported operations as data: name, method, path, tags, scopes, pagination.
//!
//! The table is generated from the same document as the client, so it always matches it.
//! Each operation is a constant named after its method on [`crate::Client`]
//! ([`MERGE_PULL_REQUEST`] for `merge_pull_request`), and [`ALL`] lists them.
//! [`crate::scopes::required_for`] turns a list of operations into the scopes a token needs,
//! and [`crate::policy::Policy`] restricts a client to some of them.
//!
//! ```
//! use bitbucket_cloud::{operations, Scope};
//!
//! let merge = &operations::MERGE_PULL_REQUEST;
//! assert_eq!(merge.name, "merge_pull_request");
//! assert_eq!(merge.method, "POST");
//! assert_eq!(merge.scopes, &[Scope::PullrequestWrite]);
//! assert_eq!(operations::by_name("merge_pull_request"), Some(merge));
//! assert!(operations::ALL.iter().filter(|op| op.paginated).count() > 5);
//! ```
//!
//! # Naming operations: constants or strings
//!
//! Calls that take operations ([`Policy::allow_operation`](crate::policy::Policy::allow_operation),
//! [`Policy::deny_operation`](crate::policy::Policy::deny_operation),
//! [`required_for`](crate::scopes::required_for), ...) accept anything that is
//! [`IntoOperation`]: a constant of this module, checked by the compiler, or a name as a
//! string, checked when it is used, for names that come from a configuration file.
//!
//! ```
//! use bitbucket_cloud::operations::{GET_PULL_REQUEST, MERGE_PULL_REQUEST};
//! use bitbucket_cloud::{Scope, policy::Policy, scopes::required_for};
//!
//! // A typo here (`MERGE_PULLREQUEST`) does not compile.
//! let policy = Policy::deny_all().allow_operations([GET_PULL_REQUEST, MERGE_PULL_REQUEST]);
//! assert_eq!(required_for([MERGE_PULL_REQUEST])?.classic, [Scope::PullrequestWrite]);
//!
//! // Names read from a file work too; a typo there is an error that suggests the right name.
//! let from_config = vec!["get_pull_request".to_string(), "merge_pull_request".to_string()];
//! assert_eq!(Policy::deny_all().allow_operations(&from_config), policy);
//! assert!(required_for(["merge_pullrequest"]).is_err());
//! # Ok::<(), bitbucket_cloud::operations::UnknownOperation>(())
//! ```
//!
//! # Every operation and its scopes
//!
//! Classic scopes are those of OAuth consumers and of repository, project and workspace access
//! tokens; API tokens use the granular ones. An operation needs all the scopes of its row.
//!
#![doc = include_str!(concat!(env!("OUT_DIR"), "/operations.md"))]

use std::fmt;

use crate::Scope;

/// One operation of the Bitbucket API that the client supports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The method name on [`crate::Client`]: `merge_pull_request`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The path template under the base URL: `/repositories/{workspace}/{repo_slug}/pullrequests`.
    pub path: &'static str,
    /// The document's tags (`Pullrequests`, `Repositories`, ...).
    pub tags: &'static [&'static str],
    /// The document's one-line summary.
    pub summary: &'static str,
    /// The classic OAuth scopes it needs (OAuth consumers and access tokens).
    pub scopes: &'static [Scope],
    /// The granular scopes it needs (API tokens): `read:pullrequest:bitbucket`, ...
    pub granular_scopes: &'static [&'static str],
    /// Whether it returns a page of a list (`values`, `next`).
    pub paginated: bool,
    /// For a paginated operation, the largest `pagelen` it accepts (usually 100; 50 for pull
    /// requests): what `stream()` and `pages()` ask for unless the builder sets `pagelen`.
    pub max_pagelen: Option<u32>,
    /// Whether it takes a `page` query parameter, so pages can be asked for by number even
    /// when Bitbucket sends no `next` link (pipelines).
    pub(crate) page_parameter: bool,
    /// Whether the official document marks it deprecated.
    pub deprecated: bool,
    /// The cargo feature that generates its method on [`crate::Client`] (`pullrequests`,
    /// `pipelines`, ...): one per area of the API, named after the document's tags.
    pub feature: &'static str,
    /// What a success carries, and so what its `send()` returns.
    pub answer: Answer,
    /// Where it redirects, for an operation whose document answer is a redirect.
    pub redirect: Option<Redirect>,
}

/// What an operation's success carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Answer {
    /// A JSON value, decoded as the operation's response type.
    Json,
    /// Text: a diff, a patch, a log.
    Text,
    /// Raw bytes: a file.
    Bytes,
    /// Nothing.
    Empty,
}

/// Where an operation's redirect leads: the only redirects the client follows.
///
/// The HTTP client follows no redirect by itself; each 3xx is judged against this fact of its
/// operation. An operation without one fails with [`crate::Error::Redirect`], naming where
/// the answer pointed. [`Redirect::Storage`] is followed for a GET only, to `https://` (or
/// plain `http://` to loopback), without credentials or body, for at most 3 redirects in a
/// row. [`Redirect::To`] is followed only on the client's origin and only to an instance of
/// the named operation's path, as that operation: the client's policy judges it, credentials
/// go with it, and both requests leave an audit record
/// ([`crate::audit::Purpose::Redirected`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Redirect {
    /// To a file on a storage host (downloads, attachments, finished step logs).
    Storage,
    /// To another operation on the same origin (a pull request's diff leads to the
    /// repository's diff for the right spec), by name: its answer is this operation's.
    To(&'static str),
}

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

/// The operation with this name, if the client supports it.
pub fn by_name(name: &str) -> Option<&'static Operation> {
    ALL.iter().find(|op| op.name == name)
}

/// Something that names a supported operation: an [`Operation`] (one of this module's
/// constants, such as [`MERGE_PULL_REQUEST`], or an entry of [`ALL`]) or its name as a
/// string (`"merge_pull_request"`: `&str`, `String`, or anything else that is `AsRef<str>`).
///
/// A constant makes a typo a compile error; a string is checked when it is used, and a name
/// that is not an operation fails with an [`UnknownOperation`] that suggests close ones. See
/// [the module docs](self#naming-operations-constants-or-strings).
///
/// This trait is sealed: the crate implements it for the types above.
pub trait IntoOperation: sealed::Sealed {
    /// The operation this names, from [`ALL`].
    fn into_operation(self) -> Result<&'static Operation, UnknownOperation>;
}

impl<T: AsRef<str>> IntoOperation for T {
    fn into_operation(self) -> Result<&'static Operation, UnknownOperation> {
        let name = self.as_ref();
        by_name(name).ok_or_else(|| UnknownOperation::new(name))
    }
}

impl IntoOperation for Operation {
    fn into_operation(self) -> Result<&'static Operation, UnknownOperation> {
        (&self).into_operation()
    }
}

impl IntoOperation for &Operation {
    fn into_operation(self) -> Result<&'static Operation, UnknownOperation> {
        // Every `Operation` comes from the table (the type cannot be built outside the crate).
        self.name.into_operation()
    }
}

mod sealed {
    pub trait Sealed {}
    impl<T: AsRef<str>> Sealed for T {}
    impl Sealed for super::Operation {}
    impl Sealed for &super::Operation {}
}

impl Operation {
    /// The values of the path parameters in `path`, a request path under the base URL as sent
    /// (percent-encoded, without the query), or `None` when `path` is not an instance of this
    /// operation's template. A parameter that is empty, or that decodes to a `.` or `..` path
    /// segment (`%2E%2E`, `a%2F..%2Fb`), is not an instance: a server that decodes it could
    /// resolve the path to another resource.
    ///
    /// ```
    /// let op = bitbucket_cloud::operations::by_name("get_pull_request").unwrap();
    /// let params = op.match_path("/repositories/my-ws/my%20repo/pullrequests/42").unwrap();
    /// assert_eq!(params.get("repo_slug"), Some("my repo"));
    /// assert_eq!(params.get("pull_request_id"), Some("42"));
    /// assert!(op.match_path("/repositories/my-ws/my-repo/pullrequests").is_none());
    /// ```
    ///
    /// A trailing `{path}` (a file in a repository: `src/{commit}/{path}`) or `{spec}` (a
    /// diff's spec, which Bitbucket's own redirects write as `ws/repo:abc%0Ddef`) takes the
    /// rest of the path, slashes included; a `{path}` may be empty (the root directory). Their
    /// `.` and `..` segments are refused like any other parameter's.
    ///
    /// ```
    /// let op = bitbucket_cloud::operations::by_name("get_source").unwrap();
    /// let params = op.match_path("/repositories/ws/app/src/main/src/lib.rs").unwrap();
    /// assert_eq!(params.get("path"), Some("src/lib.rs"));
    /// assert!(op.match_path("/repositories/ws/app/src/main/src/%2E%2E/x").is_none());
    /// ```
    pub fn match_path(&self, path: &str) -> Option<PathParams> {
        bitbucket_core::path::match_template(self.path, self.rest_param(), SCOPE, path)
    }

    /// The name of the template's last parameter when it takes the rest of a path (`path`,
    /// `spec`): see [`Operation::match_path`].
    fn rest_param(&self) -> Option<&'static str> {
        ["path", "spec"]
            .into_iter()
            .find(|name| self.path.ends_with(&format!("/{{{name}}}")))
    }

    /// Whether the path template names this parameter (`workspace`, `repo_slug`, ...): whether
    /// its calls act on a workspace, a repository, a project.
    ///
    /// ```
    /// let op = bitbucket_cloud::operations::by_name("get_repository").unwrap();
    /// assert!(op.has_param("repo_slug"));
    /// assert!(!op.has_param("project_key"));
    /// ```
    pub fn has_param(&self, name: &str) -> bool {
        self.path.contains(&format!("{{{name}}}"))
    }
}

/// The parameters that say where a request acts (see [`PathParams::resource`]).
const SCOPE: (&str, &str) = ("workspace", "repo_slug");

/// The path parameters of one request, by name, in the order of the template.
///
/// Get them with [`Operation::match_path`]; audit records carry them
/// ([`crate::audit::AuditRecord::params`]).
pub use bitbucket_core::path::PathParams;

/// A name that is not one of the supported operations, with the names that are close to it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct UnknownOperation {
    /// The name as given.
    pub name: String,
    /// Supported names that look like it, closest first.
    pub suggestions: Vec<&'static str>,
}

impl UnknownOperation {
    pub(crate) fn new(name: &str) -> Self {
        let wanted = name.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        let mut close: Vec<(usize, &'static str)> = ALL
            .iter()
            .map(|op| (edit_distance(&wanted, op.name), op.name))
            .filter(|(distance, candidate)| {
                *distance <= 3 || (wanted.len() >= 4 && candidate.contains(wanted.as_str()))
            })
            .collect();
        close.sort();
        UnknownOperation {
            name: name.to_string(),
            suggestions: close.into_iter().take(5).map(|(_, n)| n).collect(),
        }
    }
}

impl fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` is not a supported operation", self.name)?;
        match self.suggestions.as_slice() {
            [] => write!(
                f,
                "; bitbucket_cloud::operations::ALL lists the {} there are",
                ALL.len()
            ),
            [one] => write!(f, "; did you mean `{one}`?"),
            many => {
                let names: Vec<String> = many.iter().map(|n| format!("`{n}`")).collect();
                write!(f, "; did you mean one of {}?", names.join(", "))
            }
        }
    }
}

/// Levenshtein distance, for suggestions; the names are short.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_matches_an_instance_of_itself() {
        for op in ALL {
            // Every `{name}` becomes `x%2Fy`.
            let mut path = String::new();
            let mut rest = op.path;
            while let Some(open) = rest.find('{') {
                path.push_str(&rest[..open]);
                path.push_str("x%2Fy");
                rest = &rest[open + rest[open..].find('}').unwrap() + 1..];
            }
            path.push_str(rest);
            let params = op
                .match_path(&path)
                .unwrap_or_else(|| panic!("{}: {path}", op.name));
            assert!(params.iter().all(|(_, v)| v == "x/y"), "{}", op.name);
            let extra = op.match_path(&format!("{path}/extra"));
            if op.path.ends_with("/{path}") || op.path.ends_with("/{spec}") {
                // A file path takes the rest of the path.
                let params = extra.unwrap();
                let last = params.iter().last().unwrap().1;
                assert_eq!(last, "x/y/extra", "{}", op.name);
            } else {
                assert!(extra.is_none(), "{}", op.name);
            }
        }
    }

    #[test]
    fn a_segment_may_hold_several_parameters() {
        let op = by_name("get_issue_export_status").unwrap();
        let params = op
            .match_path("/repositories/ws/app/issues/export/my-issues-repo-issues-7.zip")
            .unwrap();
        assert_eq!(params.get("repo_name"), Some("my-issues-repo"));
        assert_eq!(params.get("task_id"), Some("7"));
        assert!(
            op.match_path("/repositories/ws/app/issues/export/repo-issues-.zip")
                .is_none()
        );
        assert!(
            op.match_path("/repositories/ws/app/issues/export/repo-7.zip")
                .is_none()
        );
    }

    #[test]
    fn empty_or_foreign_segments_do_not_match() {
        let op = by_name("get_repository").unwrap();
        assert!(op.match_path("/repositories/ws/").is_none());
        assert!(op.match_path("/repositories/ws").is_none());
        assert!(op.match_path("/workspaces/ws/app").is_none());
        assert!(op.match_path("repositories/ws/app").is_none());
        assert!(op.match_path("/repositories/ws/%2E%2E").is_none());
        assert!(op.match_path("/repositories/ws/.").is_none());
        let branch = by_name("get_branch").unwrap();
        assert!(
            branch
                .match_path("/repositories/ws/app/refs/branches/a%2F..%2F..%2Fother")
                .is_none()
        );
        assert!(
            branch
                .match_path("/repositories/ws/app/refs/branches/feature%2Fv1..2")
                .is_some()
        );
    }

    #[test]
    fn constants_and_names_resolve_to_the_same_entry() {
        let by_constant = MERGE_PULL_REQUEST.into_operation().unwrap();
        assert!(std::ptr::eq(
            by_constant,
            by_name("merge_pull_request").unwrap()
        ));
        assert!(std::ptr::eq(
            (&MERGE_PULL_REQUEST).into_operation().unwrap(),
            by_constant
        ));
        assert!(std::ptr::eq(
            "merge_pull_request".into_operation().unwrap(),
            by_constant
        ));
        assert!(std::ptr::eq(
            String::from("merge_pull_request").into_operation().unwrap(),
            by_constant
        ));
        for op in ALL {
            assert!(
                std::ptr::eq(op.into_operation().unwrap(), op),
                "{}",
                op.name
            );
        }
        let typo = "merge_pullrequest".into_operation().unwrap_err();
        assert_eq!(typo.suggestions.first(), Some(&"merge_pull_request"));
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let e = UnknownOperation::new("list_pullrequests");
        assert_eq!(e.suggestions.first(), Some(&"list_pull_requests"));
        assert!(e.to_string().contains("did you mean"), "{e}");
        let e = UnknownOperation::new("merge");
        assert!(e.suggestions.contains(&"merge_pull_request"), "{e:?}");
        let e = UnknownOperation::new("frobnicate_everything");
        assert!(e.suggestions.is_empty());
        assert!(e.to_string().contains("operations::ALL"), "{e}");
    }
}
