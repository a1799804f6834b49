//! How requests are authenticated.
//!
//! | credential | constructor | header |
//! |---|---|---|
//! | API token (scripts, CI) | [`Auth::api_token`] | `Basic` with the Atlassian account email |
//! | repository, project or workspace access token | [`Auth::access_token`] | `Bearer` |
//! | app password (retired) | [`Auth::app_password`] | `Basic` with the Bitbucket user name |
//! | none (public resources) | [`Auth::anonymous`] | none |
//!
//! Secrets are held in [`secrecy::SecretString`] and never appear in `Debug` output, logs or
//! errors.

use std::fmt;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// The credentials a [`crate::Client`] sends. See the [module docs](self).
#[derive(Clone)]
pub struct Auth {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Anonymous,
    ApiToken {
        email: String,
        token: SecretString,
    },
    AccessToken(SecretString),
    AppPassword {
        username: String,
        password: SecretString,
    },
}

impl Auth {
    /// No credentials: only public resources are visible.
    pub fn anonymous() -> Self {
        Self {
            kind: Kind::Anonymous,
        }
    }

    /// An Atlassian API token, sent as HTTP Basic with the account's **email** as user name.
    /// The replacement for app passwords in scripts and CI; create one at
    /// <https://id.atlassian.com/manage-profile/security/api-tokens> with the Bitbucket scopes
    /// your calls need ([`crate::scopes::required_for`] lists them).
    ///
    /// ```
    /// let auth = bitbucket_cloud::Auth::api_token("me@example.com", "ATATT3x...");
    /// assert!(!format!("{auth:?}").contains("ATATT3x"));
    /// ```
    pub fn api_token(email: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            kind: Kind::ApiToken {
                email: email.into(),
                token: SecretString::from(token.into()),
            },
        }
    }

    /// A repository, project or workspace access token, sent as `Bearer`.
    pub fn access_token(token: impl Into<String>) -> Self {
        Self {
            kind: Kind::AccessToken(SecretString::from(token.into())),
        }
    }

    /// A Bitbucket app password, sent as HTTP Basic with the Bitbucket user name (not the
    /// email).
    #[deprecated(
        since = "0.1.0",
        note = "Bitbucket stopped creating app passwords on 9 September 2025 and disabled them on \
                9 June 2026; use Auth::api_token (an Atlassian API token with scopes) instead"
    )]
    pub fn app_password(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            kind: Kind::AppPassword {
                username: username.into(),
                password: SecretString::from(password.into()),
            },
        }
    }

    /// Sets the `Authorization` header of `request`, replacing any.
    pub(crate) fn authorize(&self, request: &mut reqwest::Request) -> Result<(), crate::Error> {
        let value = match &self.kind {
            Kind::Anonymous => {
                request.headers_mut().remove(AUTHORIZATION);
                return Ok(());
            }
            Kind::ApiToken { email, token } => basic(email, token.expose_secret()),
            Kind::AppPassword { username, password } => basic(username, password.expose_secret()),
            Kind::AccessToken(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            crate::Error::Config(format!(
                "{} contains characters not allowed in an HTTP header",
                self.describe()
            ))
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(())
    }

    /// What was sent, in words, for error hints: never the secret.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            Kind::Anonymous => "no credentials (anonymous)".into(),
            Kind::ApiToken { email, .. } => format!("an API token as `{email}` (HTTP Basic)"),
            Kind::AccessToken(_) => "an access token (Bearer)".into(),
            Kind::AppPassword { username, .. } => {
                format!("an app password as `{username}` (HTTP Basic)")
            }
        }
    }

    /// The usual mistake behind a 401 with these credentials.
    pub(crate) fn unauthorized_hint(&self) -> &'static str {
        match &self.kind {
            Kind::Anonymous => {
                "this resource needs credentials: set Auth::api_token or Auth::access_token"
            }
            Kind::ApiToken { .. } => {
                "check that the user name is the Atlassian account's email (not the Bitbucket \
                 username), that the token is not expired or revoked, and that it was created with \
                 Bitbucket scopes"
            }
            Kind::AccessToken(_) => "the access token is invalid, expired or revoked",
            Kind::AppPassword { .. } => {
                "app passwords were disabled on 9 June 2026: create an API token and use \
                 Auth::api_token with your Atlassian account email"
            }
        }
    }
}

fn basic(user: &str, secret: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Basic {encoded}")
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Anonymous => f.write_str("Auth::Anonymous"),
            Kind::ApiToken { email, .. } => f
                .debug_struct("Auth::ApiToken")
                .field("email", email)
                .field("token", &"[redacted]")
                .finish(),
            Kind::AccessToken(_) => f
                .debug_struct("Auth::AccessToken")
                .field("token", &"[redacted]")
                .finish(),
            Kind::AppPassword { username, .. } => f
                .debug_struct("Auth::AppPassword")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}
