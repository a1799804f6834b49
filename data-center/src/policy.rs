//! What a client may send, decided before a request leaves (in the transport, for every
//! page and retry).

use std::collections::BTreeSet;

use crate::operations::{self, Operation};
use crate::permission::Permission;

/// A client's rules: deny by default; allow what the granted permissions cover and the
/// operations allowed by name; deny the operations denied by name, whatever else says.
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
}

/// The decision on one request, taken by the transport for each one it sends.
pub use bitbucket_core::policy::Decision;

/// The decision on one request, with what its audit record needs (path and parameters).
pub(crate) use bitbucket_core::policy::Admission;

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

    /// Whether a request of `operation` may be sent.
    pub fn allows(&self, operation: &Operation) -> bool {
        self.decide(operation) == Decision::Allowed
    }

    pub(crate) fn decide(&self, operation: &Operation) -> Decision {
        if self.denied.contains(operation.name) {
            return Decision::Denied(format!("the policy denies `{}` by name", operation.name));
        }
        if self.read_only
            && !matches!(
                operation.method,
                reqwest::Method::GET | reqwest::Method::HEAD
            )
        {
            return Decision::Denied(format!(
                "the policy is read-only and `{}` is a {}",
                operation.name, operation.method
            ));
        }
        if self.allowed.contains(operation.name)
            || self.granted.iter().any(|p| p.implies(operation.permission))
        {
            return Decision::Allowed;
        }
        let granted: Vec<&str> = self.granted.iter().map(|p| p.as_str()).collect();
        Decision::Denied(if operation.permission == Permission::Unknown {
            format!(
                "nothing documents the permission `{}` needs; allow it by name \
                 (Policy::allow_operation)",
                operation.name
            )
        } else {
            format!(
                "`{}` needs {}, and the policy grants {}",
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

    /// Operation names in the rules that name no operation (a typo would silently allow or
    /// deny nothing): checked by [`crate::ClientBuilder::build`].
    pub(crate) fn problems(&self) -> Vec<String> {
        self.allowed
            .iter()
            .chain(&self.denied)
            .filter(|name| operations::by_name(name).is_none())
            .map(|name| format!("`{name}` is not an operation"))
            .collect()
    }
}
