//! Who is calling, and whether their credentials' scopes allow the operation.
//!
//! Two kinds of credentials, as on Bitbucket Cloud: access tokens (`Bearer`, classic scopes
//! such as `pullrequest:write`) and API tokens (HTTP Basic with the account's email, granular
//! scopes such as `write:pullrequest:bitbucket`). The scopes each operation needs come from
//! the client's own operation table ([`bitbucket_cloud::operations`]).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode, header};
use base64::Engine as _;
use bitbucket_cloud::{Operation, Scope};
use serde_json::json;

use crate::errors::ApiError;

/// A registered credential: whose it is and what it may do.
#[derive(Clone, Debug)]
pub(crate) struct Credential {
    /// Index into `Store::users`.
    pub user: usize,
    pub grant: Grant,
}

#[derive(Clone, Debug)]
pub(crate) enum Grant {
    /// An access token's classic scopes.
    Classic(Vec<Scope>),
    /// An API token's granular scopes, and the email it must be sent with.
    Granular { email: String, scopes: Vec<String> },
}

/// Every credential the server accepts, by secret.
#[derive(Debug, Default)]
pub(crate) struct Credentials {
    by_secret: HashMap<String, Credential>,
}

impl Credentials {
    pub fn add(&mut self, secret: String, credential: Credential) {
        self.by_secret.insert(secret, credential);
    }

    pub fn revoke(&mut self, secret: &str) -> bool {
        self.by_secret.remove(secret).is_some()
    }

    /// The credential of the request's `Authorization` header, or Bitbucket's 401.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Credential, ApiError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                "Authentication is required: send an API token (HTTP Basic with your Atlassian \
                 account email) or an access token (Bearer)",
            ));
        };
        let value = value.to_str().unwrap_or_default();
        if let Some(token) = value.strip_prefix("Bearer ") {
            return match self.by_secret.get(token.trim()) {
                Some(c) if matches!(c.grant, Grant::Classic(_)) => Ok(c.clone()),
                _ => Err(unauthorized(
                    "Token is invalid, expired, or not supported for this endpoint.",
                )),
            };
        }
        if let Some(encoded) = value.strip_prefix("Basic ") {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok());
            let Some((user, secret)) = decoded.as_deref().and_then(|d| d.split_once(':')) else {
                return Err(unauthorized("Invalid HTTP Basic credentials"));
            };
            return match self.by_secret.get(secret) {
                Some(c) if matches!(&c.grant, Grant::Granular { email, .. } if email.eq_ignore_ascii_case(user)) => {
                    Ok(c.clone())
                }
                _ => Err(unauthorized(
                    "Invalid credentials: API tokens are sent with the Atlassian account's email as \
                     the user name",
                )),
            };
        }
        Err(unauthorized(
            "Unsupported authentication scheme: use HTTP Basic (API token) or Bearer (access token)",
        ))
    }
}

fn unauthorized(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, message).header(
        header::WWW_AUTHENTICATE,
        "Basic realm=\"Bitbucket.org HTTP\"",
    )
}

impl Credential {
    /// `Ok` when the credential's scopes cover `op`; otherwise Bitbucket's 403, whose
    /// `detail` names the scopes required and granted.
    pub fn authorize(&self, op: &Operation) -> Result<(), ApiError> {
        let (required, granted, allowed): (Vec<String>, Vec<String>, bool) = match &self.grant {
            Grant::Classic(scopes) => (
                op.scopes.iter().map(|s| s.to_string()).collect(),
                scopes.iter().map(|s| s.to_string()).collect(),
                op.scopes.iter().all(|s| covers(scopes, *s)),
            ),
            Grant::Granular { scopes, .. } => (
                op.granular_scopes.iter().map(|s| s.to_string()).collect(),
                scopes.clone(),
                op.granular_scopes
                    .iter()
                    .all(|s| scopes.iter().any(|g| g == s)),
            ),
        };
        if allowed {
            return Ok(());
        }
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Your credentials lack one or more required privilege scopes.",
        )
        .detail(json!({ "required": required, "granted": granted })))
    }
}

/// Whether the scopes granted cover `scope`, with the implications Bitbucket documents
/// (`pullrequest:write` covers `pullrequest` and `repository:write`, ...; see
/// [`Scope::implies`]).
fn covers(granted: &[Scope], scope: Scope) -> bool {
    granted.iter().any(|g| g.implies(scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_scopes_cover_reads() {
        let granted = [Scope::PullrequestWrite];
        for scope in [
            Scope::Pullrequest,
            Scope::Repository,
            Scope::RepositoryWrite,
        ] {
            assert!(covers(&granted, scope), "{scope}");
        }
        assert!(!covers(&granted, Scope::RepositoryAdmin));
        assert!(!covers(&[Scope::Repository], Scope::Pullrequest));
    }
}
