//! OAuth scopes: the classic [`Scope`]s of OAuth consumers and access tokens, the granular
//! scopes of API tokens, and [`required_for`]: the least a token needs for a set of operations.
//!
//! ```
//! use bitbucket_cloud::{Scope, operations, scopes};
//!
//! let needs =
//!     scopes::required_for([operations::LIST_PULL_REQUESTS, operations::MERGE_PULL_REQUEST])?;
//! assert_eq!(needs.classic, [Scope::PullrequestWrite]);
//! assert_eq!(needs.granular, ["read:pullrequest:bitbucket", "write:pullrequest:bitbucket"]);
//! # Ok::<(), bitbucket_cloud::operations::UnknownOperation>(())
//! ```

use std::fmt;
use std::str::FromStr;

use crate::operations::{IntoOperation, Operation, UnknownOperation};

include!(concat!(env!("OUT_DIR"), "/scope.rs"));

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of Bitbucket's classic scopes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownScope(pub String);

impl fmt::Display for UnknownScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
        write!(
            f,
            "`{}` is not a Bitbucket OAuth scope; the scopes are: {}",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownScope {}

impl FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::ALL
            .iter()
            .copied()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
    }
}

impl Scope {
    /// The scopes Bitbucket grants along with this one, directly: a token with
    /// `pullrequest:write` may do what `pullrequest` and `repository:write` allow.
    ///
    /// Only implications Atlassian documents are listed, so a set reduced with them never
    /// lacks a scope it needs:
    ///
    /// - "Scopes for the Bitbucket Cloud REST API",
    ///   <https://developer.atlassian.com/cloud/bitbucket/bitbucket-cloud-rest-api-scopes/>:
    ///   `repository:write` "implies repository"; `repository:admin` "does not imply repository
    ///   or repository:write"; `pullrequest` "implies repository"; `pullrequest:write`
    ///   "implies pullrequest" and "implies repository:write"; `snippet:write` "implies the
    ///   Snippet Read scope"; `issue:write` "implies issue"; `team:write` "implies team";
    ///   `account` lets the app "see all email addresses".
    /// - "App password permissions" (the classic scopes of app passwords and access tokens),
    ///   <https://support.atlassian.com/bitbucket-cloud/docs/app-password-permissions/>:
    ///   `project` also grants "read access (repository) to all the repositories in the
    ///   projects".
    /// - The scope descriptions of the official OpenAPI document (`securitySchemes`):
    ///   `account:write` "Read and modify your account information", `pipeline:write` "Access
    ///   and rerun your repositories' build pipelines", `pipeline:variable` "Access your
    ///   repositories' build pipelines and configure their variables", `runner:write` "Access
    ///   and edit", `test:write` "Access and edit".
    ///
    /// Nothing documents that `repository:admin`, `repository:delete`, `project:admin`,
    /// `webhook` or `wiki` include another scope, nor that `pipeline:variable` includes
    /// `pipeline:write`, so they imply nothing here.
    pub fn implied(self) -> &'static [Scope] {
        match self {
            Scope::RepositoryWrite => &[Scope::Repository],
            Scope::Pullrequest => &[Scope::Repository],
            Scope::PullrequestWrite => &[Scope::Pullrequest, Scope::RepositoryWrite],
            Scope::Project => &[Scope::Repository],
            Scope::Account => &[Scope::Email],
            Scope::AccountWrite => &[Scope::Account],
            Scope::TeamWrite => &[Scope::Team],
            Scope::PipelineWrite | Scope::PipelineVariable => &[Scope::Pipeline],
            Scope::RunnerWrite => &[Scope::Runner],
            Scope::TestWrite => &[Scope::Test],
            Scope::IssueWrite => &[Scope::Issue],
            Scope::SnippetWrite => &[Scope::Snippet],
            _ => &[],
        }
    }

    /// Whether a token with this scope may do what `other` allows: the same scope, or one it
    /// implies, directly or through another ([`Scope::implied`]).
    ///
    /// ```
    /// use bitbucket_cloud::Scope;
    /// assert!(Scope::PullrequestWrite.implies(Scope::Repository));
    /// assert!(!Scope::RepositoryAdmin.implies(Scope::Repository));
    /// ```
    pub fn implies(self, other: Scope) -> bool {
        self == other || self.implied().iter().any(|s| s.implies(other))
    }
}

/// What a token needs for a set of operations: see [`required_for`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Requirements {
    /// The classic scopes (OAuth consumers, repository/project/workspace access tokens),
    /// without any that another of them implies, sorted by name.
    pub classic: Vec<Scope>,
    /// The granular scopes (API tokens), sorted. Granular scopes imply nothing (a
    /// `write:` scope does not include its `read:` one), so this is every scope the
    /// operations list.
    pub granular: Vec<&'static str>,
}

impl Requirements {
    fn of<'a>(ops: impl IntoIterator<Item = &'a Operation>) -> Self {
        let mut classic: Vec<Scope> = Vec::new();
        let mut granular: Vec<&'static str> = Vec::new();
        for op in ops {
            classic.extend(op.scopes);
            granular.extend(op.granular_scopes);
        }
        classic.sort();
        classic.dedup();
        let minimal = classic
            .iter()
            .copied()
            .filter(|s| !classic.iter().any(|t| t != s && t.implies(*s)))
            .collect();
        granular.sort_unstable();
        granular.dedup();
        Requirements {
            classic: minimal,
            granular,
        }
    }
}

impl fmt::Display for Requirements {
    /// Two lines: the classic scopes, then the granular ones.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |items: Vec<String>| {
            if items.is_empty() {
                "(none)".to_string()
            } else {
                items.join(" ")
            }
        };
        writeln!(
            f,
            "OAuth consumer or access token scopes: {}",
            list(self.classic.iter().map(Scope::to_string).collect())
        )?;
        write!(
            f,
            "API token scopes: {}",
            list(self.granular.iter().map(|s| s.to_string()).collect())
        )
    }
}

/// The least a token needs to call these operations: the smallest set of classic scopes that
/// covers them (a scope another one implies is left out, as Bitbucket grants it anyway), and
/// the granular scopes of an API token.
///
/// It never swaps scopes for a broader one: `pullrequest` and `repository:write` stay two
/// scopes rather than becoming `pullrequest:write`, which would also allow merging.
///
/// The operations are the constants of [`crate::operations`] or their names as strings
/// ([`IntoOperation`]). Fails on a name that is not a supported operation, naming the close
/// ones.
///
/// ```
/// use bitbucket_cloud::operations::{CREATE_BRANCH, GET_PULL_REQUEST, RUN_PIPELINE};
/// use bitbucket_cloud::{Scope, scopes::required_for};
///
/// let needs = required_for([GET_PULL_REQUEST, CREATE_BRANCH, RUN_PIPELINE])?;
/// assert_eq!(needs.classic, [Scope::Pipeline, Scope::Pullrequest, Scope::RepositoryWrite]);
/// println!("{needs}");
///
/// // Names work too (from a configuration file, say); a typo is an error with suggestions.
/// assert_eq!(required_for(["get_pull_request", "create_branch", "run_pipeline"])?, needs);
/// let typo = required_for(["merge_pullrequest"]).unwrap_err();
/// assert_eq!(typo.suggestions[0], "merge_pull_request");
/// # Ok::<(), bitbucket_cloud::operations::UnknownOperation>(())
/// ```
pub fn required_for<I>(operations: I) -> Result<Requirements, UnknownOperation>
where
    I: IntoIterator,
    I::Item: IntoOperation,
{
    let ops = operations
        .into_iter()
        .map(IntoOperation::into_operation)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Requirements::of(ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn implication_is_acyclic_and_transitive() {
        for &scope in Scope::ALL {
            for &implied in scope.implied() {
                assert!(
                    !implied.implies(scope),
                    "{scope} and {implied} imply each other"
                );
            }
        }
        assert!(Scope::PullrequestWrite.implies(Scope::Repository));
        assert!(Scope::AccountWrite.implies(Scope::Email));
        assert!(!Scope::Repository.implies(Scope::RepositoryWrite));
        assert!(!Scope::ProjectAdmin.implies(Scope::Project));
    }

    #[test]
    fn required_for_reduces_to_the_strongest_scopes() {
        let needs = required_for(["list_pull_requests", "merge_pull_request"]).unwrap();
        assert_eq!(needs.classic, [Scope::PullrequestWrite]);

        let needs = required_for(["list_commits", "create_branch"]).unwrap();
        assert_eq!(needs.classic, [Scope::RepositoryWrite]);

        // repository:admin does not read: both stay.
        let needs = required_for(["get_repository", "update_repository"]).unwrap();
        assert_eq!(needs.classic, [Scope::Repository, Scope::RepositoryAdmin]);

        let by_constant = required_for([
            &crate::operations::LIST_PULL_REQUESTS,
            &crate::operations::MERGE_PULL_REQUEST,
        ])
        .unwrap();
        assert_eq!(by_constant.classic, [Scope::PullrequestWrite]);

        let needs = required_for(Vec::<String>::new()).unwrap();
        assert!(needs.classic.is_empty() && needs.granular.is_empty());
        assert!(needs.to_string().contains("(none)"));
    }
}
