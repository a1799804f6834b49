//! OAuth scopes: the classic [`Scope`]s of OAuth consumers and access tokens, and the granular
//! scopes of API tokens.

use std::fmt;
use std::str::FromStr;

include!(concat!(env!("OUT_DIR"), "/scope.rs"));

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of Bitbucket's classic scopes.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a Bitbucket OAuth scope (expected one of: repository, repository:write, pullrequest, ...)"
)]
pub struct UnknownScope(pub String);

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
