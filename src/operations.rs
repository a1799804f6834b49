//! The supported operations as data: name, method, path, tags, scopes, pagination.
//!
//! The table is generated from the same document as the client, so it always matches it.
//!
//! ```
//! use bitbucket_cloud::{operations, Scope};
//!
//! let merge = operations::by_name("merge_pull_request").unwrap();
//! assert_eq!(merge.method, "POST");
//! assert_eq!(merge.scopes, &[Scope::PullrequestWrite]);
//! assert!(operations::ALL.iter().filter(|op| op.paginated).count() > 5);
//! ```

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
    /// Whether the official document marks it deprecated.
    pub deprecated: bool,
}

include!(concat!(env!("OUT_DIR"), "/operations.rs"));

/// The operation with this name, if the client supports it.
pub fn by_name(name: &str) -> Option<&'static Operation> {
    ALL.iter().find(|op| op.name == name)
}
