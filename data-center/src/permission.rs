//! Bitbucket Data Center's permissions, and which ones include others.

use std::fmt;
use std::str::FromStr;

/// A permission of Bitbucket Data Center, as the product names it (`Display` and `FromStr`
/// use that name: `REPO_READ`).
///
/// They are hierarchical: a higher one also passes where a lower one is needed
/// ([`Permission::implies`]): `REPO_WRITE` includes `REPO_READ`, a project permission includes
/// the same permission on the project's repositories, and the global `ADMIN` and `SYS_ADMIN`
/// include every project and repository permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Permission {
    /// Callable without credentials, when the instance allows anonymous access.
    Anonymous,
    /// Any signed-in user.
    Authenticated,
    /// A user who counts against the licence (global `LICENSED_USER`).
    LicensedUser,
    /// See the project (`PROJECT_VIEW`, implied by access to one of its repositories).
    ProjectView,
    /// Read the project and its repositories.
    ProjectRead,
    /// Write to the project's repositories.
    ProjectWrite,
    /// Administer the project.
    ProjectAdmin,
    /// Create projects (global `PROJECT_CREATE`).
    ProjectCreate,
    /// Read (clone, browse) the repository.
    RepoRead,
    /// Write to (push to, merge in) the repository.
    RepoWrite,
    /// Administer the repository.
    RepoAdmin,
    /// Create repositories in the project.
    RepoCreate,
    /// Global administrator.
    Admin,
    /// System administrator.
    SysAdmin,
    /// Neither the document nor Atlassian's documentation says; a [`crate::Policy`] allows
    /// such an operation only by its name.
    Unknown,
}

impl Permission {
    /// Every permission, in the order of their declaration.
    pub const ALL: &'static [Permission] = &[
        Permission::Anonymous,
        Permission::Authenticated,
        Permission::LicensedUser,
        Permission::ProjectView,
        Permission::ProjectRead,
        Permission::ProjectWrite,
        Permission::ProjectAdmin,
        Permission::ProjectCreate,
        Permission::RepoRead,
        Permission::RepoWrite,
        Permission::RepoAdmin,
        Permission::RepoCreate,
        Permission::Admin,
        Permission::SysAdmin,
        Permission::Unknown,
    ];

    /// The product's name for it: `REPO_READ`.
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Anonymous => "ANONYMOUS",
            Permission::Authenticated => "AUTHENTICATED",
            Permission::LicensedUser => "LICENSED_USER",
            Permission::ProjectView => "PROJECT_VIEW",
            Permission::ProjectRead => "PROJECT_READ",
            Permission::ProjectWrite => "PROJECT_WRITE",
            Permission::ProjectAdmin => "PROJECT_ADMIN",
            Permission::ProjectCreate => "PROJECT_CREATE",
            Permission::RepoRead => "REPO_READ",
            Permission::RepoWrite => "REPO_WRITE",
            Permission::RepoAdmin => "REPO_ADMIN",
            Permission::RepoCreate => "REPO_CREATE",
            Permission::Admin => "ADMIN",
            Permission::SysAdmin => "SYS_ADMIN",
            Permission::Unknown => "UNKNOWN",
        }
    }

    /// Whether holding `self` is enough where `needed` is required. [`Permission::Unknown`]
    /// is implied by nothing.
    ///
    /// ```
    /// use bitbucket_data_center::Permission::*;
    ///
    /// assert!(RepoWrite.implies(RepoRead));
    /// assert!(ProjectAdmin.implies(RepoWrite));
    /// assert!(Admin.implies(ProjectAdmin));
    /// assert!(!RepoAdmin.implies(ProjectRead));
    /// assert!(!SysAdmin.implies(Unknown));
    /// ```
    pub fn implies(self, needed: Permission) -> bool {
        use Permission::*;
        if needed == Unknown || self == Unknown {
            return false;
        }
        if self == needed || needed == Anonymous {
            return true;
        }
        // Every permission but anonymous access is held by a signed-in user.
        if needed == Authenticated {
            return self != Anonymous;
        }
        match self {
            SysAdmin => true,
            Admin => needed != SysAdmin,
            ProjectCreate => matches!(needed, LicensedUser),
            ProjectAdmin => matches!(
                needed,
                ProjectWrite
                    | ProjectRead
                    | ProjectView
                    | RepoCreate
                    | RepoAdmin
                    | RepoWrite
                    | RepoRead
            ),
            ProjectWrite => matches!(needed, ProjectRead | ProjectView | RepoWrite | RepoRead),
            ProjectRead => matches!(needed, ProjectView | RepoRead),
            RepoAdmin => matches!(needed, RepoWrite | RepoRead | ProjectView),
            RepoWrite => matches!(needed, RepoRead | ProjectView),
            RepoRead => matches!(needed, ProjectView),
            RepoCreate => matches!(needed, ProjectView | ProjectRead | RepoRead),
            Anonymous | Authenticated | LicensedUser | ProjectView | Unknown => false,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .iter()
            .copied()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a Bitbucket Data Center permission"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>(), Ok(*p));
        }
    }

    #[test]
    fn every_permission_implies_itself_but_unknown() {
        for p in Permission::ALL {
            assert_eq!(p.implies(*p), *p != Permission::Unknown);
        }
    }
}
