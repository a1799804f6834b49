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
        let mut template = self.path.trim_start_matches('/').split('/').peekable();
        let mut actual = path.trim_start_matches('/').split('/');
        while let Some(part) = template.next() {
            let Some((prefix, rest)) = part.split_once('{') else {
                if actual.next() != Some(part) {
                    return false;
                }
                continue;
            };
            let (name, suffix) = rest.split_once('}').unwrap_or((rest, ""));
            if name == "path" && suffix.is_empty() && template.peek().is_none() {
                let rest = actual.collect::<Vec<_>>().join("/");
                return rest.strip_prefix(prefix).is_some_and(|p| !p.is_empty());
            }
            let value = actual
                .next()
                .and_then(|segment| segment.strip_prefix(prefix))
                .and_then(|segment| segment.strip_suffix(suffix));
            if value.is_none_or(str::is_empty) {
                return false;
            }
        }
        actual.next().is_none()
    }
}

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
