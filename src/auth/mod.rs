//! How requests are authenticated.
//!
//! | credential | constructor | header |
//! |---|---|---|
//! | API token (scripts, CI) | [`Auth::api_token`] | `Basic` with the Atlassian account email |
//! | repository, project or workspace access token | [`Auth::access_token`] | `Bearer` |
//! | OAuth 2.0 consumer (apps acting for users, bots) | [`Auth::oauth`] with [`OAuth`] | `Bearer`, renewed as needed |
//! | app password (retired) | [`Auth::app_password`] | `Basic` with the Bitbucket user name |
//! | none (public resources) | [`Auth::anonymous`] | none |
//!
//! Credentials are only sent to the origin of the client's base URL. Secrets are held in
//! [`secrecy::SecretString`] and never appear in `Debug` output, logs or errors.
//!
//! ```
//! use bitbucket_cloud::{Auth, Client};
//!
//! // CI: an Atlassian API token with the account's email.
//! let ci = Client::builder().auth(Auth::api_token("me@example.com", "ATATT3x...")).build()?;
//! // A bot with a repository access token.
//! let bot = Client::builder().auth(Auth::access_token("ATCTT3x...")).build()?;
//! assert!(!format!("{ci:?}{bot:?}").contains("ATATT3x"));
//! # Ok::<(), bitbucket_cloud::Error>(())
//! ```

mod oauth;

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

pub use oauth::{DEFAULT_AUTHORIZE_URL, DEFAULT_TOKEN_URL, OAuth, OAuthTokens};
#[cfg(test)]
pub(crate) use oauth::{token_answer, token_error_reason};

use crate::operations::Operation;
use crate::{Client, Error};

/// The credentials a [`crate::Client`] sends. See the [module docs](self).
///
/// Cloning is cheap; clones of an OAuth credential share its tokens, so a refresh made for
/// one request serves every clone.
///
/// ```
/// use bitbucket_cloud::{Auth, Client, OAuth};
///
/// let auth = match std::env::var("BITBUCKET_ACCESS_TOKEN") {
///     Ok(token) => Auth::access_token(token),
///     // A private OAuth consumer acting as its owner (client-credentials grant).
///     Err(_) => Auth::oauth(OAuth::new("consumer-key", "consumer-secret")),
/// };
/// let client = Client::builder().auth(auth).user_agent("release-bot/1.0").build()?;
/// # Ok::<(), bitbucket_cloud::Error>(())
/// ```
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
    OAuth(Arc<oauth::Session>),
    AppPassword {
        username: String,
        password: SecretString,
    },
}

/// What [`Auth::authorize`] put on a request, so that a 401 can be told apart from a token
/// that another request has already renewed.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sent {
    oauth_generation: Option<u64>,
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
    /// Surrounding whitespace (a newline left by reading a file) is removed.
    ///
    /// ```
    /// let auth = bitbucket_cloud::Auth::api_token("me@example.com", "ATATT3x...");
    /// assert!(!format!("{auth:?}").contains("ATATT3x"));
    /// ```
    pub fn api_token(email: impl Into<String>, token: impl Into<String>) -> Self {
        Self {
            kind: Kind::ApiToken {
                email: email.into().trim().to_string(),
                token: secret(token.into()),
            },
        }
    }

    /// A repository, project or workspace access token, sent as `Bearer`.
    ///
    /// ```
    /// let auth = bitbucket_cloud::Auth::access_token("ATCTT3x...");
    /// assert_eq!(format!("{auth:?}"), r#"Auth::AccessToken { token: "[redacted]" }"#);
    /// ```
    pub fn access_token(token: impl Into<String>) -> Self {
        Self {
            kind: Kind::AccessToken(secret(token.into())),
        }
    }

    /// An OAuth 2.0 consumer: its access token is sent as `Bearer` and renewed shortly before
    /// it expires, and once when Bitbucket answers 401, with one renewal at a time however
    /// many requests run. See [`OAuth`].
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use bitbucket_cloud::{Auth, OAuth, OAuthTokens};
    ///
    /// let tokens = OAuthTokens::new("access-token")
    ///     .with_refresh_token("refresh-token")
    ///     .with_expires_at(SystemTime::now() + Duration::from_secs(7200));
    /// let auth = Auth::oauth(
    ///     OAuth::new("consumer-key", "consumer-secret")
    ///         .tokens(tokens)
    ///         .on_refresh(|new| println!("store the new tokens; expiry {:?}", new.expires_at())),
    /// );
    /// assert!(!format!("{auth:?}").contains("consumer-secret"));
    /// ```
    pub fn oauth(oauth: OAuth) -> Self {
        Self {
            kind: Kind::OAuth(Arc::new(oauth::Session::new(oauth))),
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
                username: username.into().trim().to_string(),
                password: secret(password.into()),
            },
        }
    }

    /// Sets the `Authorization` header of `request`, replacing any; renews an OAuth token
    /// first when it is missing or about to expire (through `client`, which audits the token
    /// request).
    pub(crate) async fn authorize(
        &self,
        request: &mut reqwest::Request,
        client: &Client,
        operation: &'static Operation,
    ) -> Result<Sent, Error> {
        let mut sent = Sent::default();
        let value = match &self.kind {
            Kind::Anonymous => {
                request.headers_mut().remove(AUTHORIZATION);
                return Ok(sent);
            }
            Kind::ApiToken { email, token } => basic(email, token.expose_secret()),
            Kind::AppPassword { username, password } => basic(username, password.expose_secret()),
            Kind::AccessToken(token) => bearer(token.expose_secret()),
            Kind::OAuth(session) => {
                let (token, generation) = session.access_token(client, operation).await?;
                sent.oauth_generation = Some(generation);
                bearer(token.expose_secret())
            }
        };
        let mut value = HeaderValue::from_str(&value).map_err(|_| {
            Error::Config(format!(
                "{} contains characters not allowed in an HTTP header (a line break or control \
                 character inside the secret?)",
                self.describe()
            ))
        })?;
        value.set_sensitive(true);
        request.headers_mut().insert(AUTHORIZATION, value);
        Ok(sent)
    }

    /// After a 401 to a request authorized with `sent`: whether sending it once more may
    /// succeed, because the OAuth token has been renewed (by this call or by another request
    /// meanwhile). Fails when the renewal itself fails.
    pub(crate) async fn renew_after_unauthorized(
        &self,
        sent: Sent,
        client: &Client,
        operation: &'static Operation,
    ) -> Result<bool, Error> {
        match (&self.kind, sent.oauth_generation) {
            (Kind::OAuth(session), Some(generation)) => {
                session
                    .renew_after_unauthorized(generation, client, operation)
                    .await
            }
            _ => Ok(false),
        }
    }

    /// Whether the endpoints these credentials are sent to (an OAuth consumer's token URL) are
    /// acceptable; what is wrong otherwise.
    pub(crate) fn check_endpoints(&self) -> Result<(), String> {
        match &self.kind {
            Kind::OAuth(session) => session.config().check_endpoints(),
            _ => Ok(()),
        }
    }

    /// What was sent, in words, for error hints: never the secret.
    pub(crate) fn describe(&self) -> String {
        match &self.kind {
            Kind::Anonymous => "no credentials (anonymous)".into(),
            Kind::ApiToken { email, .. } => format!("an API token as `{email}` (HTTP Basic)"),
            Kind::AccessToken(_) => "an access token (Bearer)".into(),
            Kind::OAuth(session) => format!(
                "an OAuth access token of consumer `{}` (Bearer)",
                session.client_id()
            ),
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
            Kind::AccessToken(_) => {
                "the access token is invalid, expired or revoked (access tokens are sent as \
                 Bearer; an API token needs Auth::api_token with the account email instead)"
            }
            Kind::OAuth(_) => {
                "the access token was refused and could not be renewed into one that works (no \
                 refresh token, or the user revoked the consumer's access, or the consumer was \
                 deleted): authorize the application again (OAuth::authorize_url)"
            }
            Kind::AppPassword { .. } => {
                "app passwords were disabled on 9 June 2026: create an API token and use \
                 Auth::api_token with your Atlassian account email"
            }
        }
    }

    /// Which family of scopes these credentials are granted: API tokens use granular scopes
    /// (`read:repository:bitbucket`), the others the classic ones (`repository`).
    pub(crate) fn uses_granular_scopes(&self) -> bool {
        matches!(self.kind, Kind::ApiToken { .. })
    }

    pub(crate) fn is_anonymous(&self) -> bool {
        matches!(self.kind, Kind::Anonymous)
    }
}

/// Tokens never contain whitespace; a trailing newline from a file or a shell would only earn
/// a puzzling 401.
fn secret(value: String) -> SecretString {
    let trimmed = value.trim();
    if trimmed.len() == value.len() {
        SecretString::from(value)
    } else {
        SecretString::from(trimmed.to_string())
    }
}

fn basic(user: &str, secret: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Basic {encoded}")
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
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
            Kind::OAuth(session) => f.debug_tuple("Auth::OAuth").field(session).finish(),
            Kind::AppPassword { username, .. } => f
                .debug_struct("Auth::AppPassword")
                .field("username", username)
                .field("password", &"[redacted]")
                .finish(),
        }
    }
}
