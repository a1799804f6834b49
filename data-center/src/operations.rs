#![doc = include_str!(concat!(env!("OUT_DIR"), "/operations.md"))]

use crate::Permission;

/// What the crate knows of one operation of the API. The table is generated from
/// `spec/operations.toml` (through the trimmed document); [`ALL`] lists every operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Operation {
    /// The method name on [`crate::Client`]: `get_pull_request`.
    pub name: &'static str,
    /// The HTTP method.
    pub method: reqwest::Method,
    /// The path template under `<server>/rest`: `/api/latest/projects/{projectKey}`.
    pub path: &'static str,
    /// The document's tags (`Pull Requests`, `Repository`, ...).
    pub tags: &'static [&'static str],
    /// The document's one-line summary.
    pub summary: &'static str,
    /// The least permission it needs, as the document or Atlassian's documentation says
    /// ([`Permission::Unknown`] when neither does).
    pub permission: Permission,
    /// Other ways to be allowed (`SELF`: the caller is the user in the path; `AUTHOR`: the
    /// caller wrote the pull request; ...). The [`crate::Policy`] does not grant these.
    pub also_allowed: &'static [&'static str],
    /// Whether it answers a page (`start`/`limit`, `isLastPage`, `nextPageStart`).
    pub paginated: bool,
    /// Whether Atlassian marks it deprecated.
    pub deprecated: bool,
    /// The cargo feature that generates its method.
    pub feature: &'static str,
    /// What a success carries.
    pub answer: Answer,
}

/// What a successful answer carries, and so what `send()` returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Answer {
    /// JSON, decoded into the operation's type.
    Json,
    /// Text (a raw diff).
    Text,
    /// Bytes (a raw file, an archive, an image).
    Bytes,
    /// Nothing.
    Empty,
}

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

/// The operation named `name` (its method name on [`crate::Client`]).
///
/// ```
/// let op = bitbucket_data_center::operations::by_name("get_pull_request").unwrap();
/// assert_eq!(op.permission, bitbucket_data_center::Permission::RepoRead);
/// ```
pub fn by_name(name: &str) -> Option<&'static Operation> {
    ALL.binary_search_by(|op| op.name.cmp(name))
        .ok()
        .map(|i| &ALL[i])
}

impl Operation {
    /// Whether `path` (a request's path under `<server>/rest`, without the query) is one this
    /// operation's template describes: each `{parameter}` matches a non-empty part of one
    /// segment, between the literal text around it in the template (`{pullRequestId}.patch`),
    /// except a final `{path}` parameter, which matches the rest, slashes and all
    /// (`compare/diff{path}`).
    pub fn matches_path(&self, path: &str) -> bool {
        self.match_path(path).is_some()
    }

    /// The values of the path parameters in `path` (a request's path under `<server>/rest`,
    /// as sent, without the query), decoded; `None` when `path` is not an instance of this
    /// operation's template. A parameter that is empty, or that decodes to a `.` or `..`
    /// segment (`%2E%2E`), is not an instance: the server could resolve it elsewhere.
    ///
    /// ```
    /// let op = bitbucket_data_center::operations::by_name("get_pull_request").unwrap();
    /// let params = op
    ///     .match_path("/api/latest/projects/PRJ/repos/my%20repo/pull-requests/7")
    ///     .unwrap();
    /// assert_eq!(params.get("repositorySlug"), Some("my repo"));
    /// assert_eq!(params.get("pullRequestId"), Some("7"));
    /// assert_eq!(params.resource().as_deref(), Some("PRJ/my repo"));
    /// ```
    pub fn match_path(&self, path: &str) -> Option<PathParams> {
        let rest = self.path.ends_with("{path}").then_some("path");
        let params = bitbucket_core::path::match_template(self.path, rest, SCOPE, path)?;
        // A file's path names a file (`raw/{path}`, `compare/diff{path}`): the root is not one.
        (params.get("path") != Some("")).then_some(params)
    }
}

/// The parameters that say where a request acts (see [`PathParams::resource`]).
const SCOPE: (&str, &str) = ("projectKey", "repositorySlug");

/// The path parameters of one request, by name, in the order of the template.
///
/// Get them with [`Operation::match_path`]; audit records carry them
/// ([`crate::audit::AuditRecord::params`]).
pub use bitbucket_core::path::PathParams;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_whole_and_sorted() {
        assert_eq!(ALL.len(), 546);
        assert!(ALL.windows(2).all(|w| w[0].name < w[1].name));
    }

    #[test]
    fn paths_match_their_templates() {
        let op = by_name("get_pull_request").unwrap();
        assert!(op.matches_path("/api/latest/projects/P/repos/r/pull-requests/7"));
        assert!(!op.matches_path("/api/latest/projects/P/repos/r/pull-requests/7/merge"));
        assert!(!op.matches_path("/api/latest/projects/P/repos//pull-requests/7"));
        let raw = by_name("get_raw_file").unwrap();
        assert!(raw.matches_path("/api/latest/projects/P/repos/r/raw/src/main.rs"));
        // A parameter with literal text around it in its segment.
        let patch = by_name("get_pull_request_patch").unwrap();
        assert!(patch.matches_path("/api/latest/projects/P/repos/r/pull-requests/7.patch"));
        assert!(!patch.matches_path("/api/latest/projects/P/repos/r/pull-requests/.patch"));
        assert!(!patch.matches_path("/api/latest/projects/P/repos/r/pull-requests/7.diff"));
        let diff = by_name("get_compare_diff").unwrap();
        assert!(diff.matches_path("/api/latest/projects/P/repos/r/compare/diff/src/main.rs"));
        assert!(!diff.matches_path("/api/latest/projects/P/repos/r/compare/diff"));
        assert!(!diff.matches_path("/api/latest/projects/P/repos/r/compare/stat/src/main.rs"));
    }
}
