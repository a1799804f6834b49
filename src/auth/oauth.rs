//! OAuth 2.0 consumers: the authorization-code flow, the client-credentials grant, and
//! access tokens renewed with the refresh-token grant.
//!
//! Bitbucket's token endpoint takes the consumer's key and secret as HTTP Basic and a form
//! body (`grant_type=refresh_token&refresh_token=...`), and answers
//! `{access_token, refresh_token, expires_in, scopes, token_type}`. Access tokens last two
//! hours.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use super::secret;
use crate::Error;
use crate::error::snippet;

/// Bitbucket's token endpoint.
pub const DEFAULT_TOKEN_URL: &str = "https://bitbucket.org/site/oauth2/access_token";

/// Where users are sent to grant a consumer access.
pub const DEFAULT_AUTHORIZE_URL: &str = "https://bitbucket.org/site/oauth2/authorize";

/// How long before its expiry an access token is renewed, unless
/// [`OAuth::refresh_margin`] says otherwise.
const DEFAULT_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// After a renewal fails for a passing reason (network, 5xx), requests that need a new token
/// fail with the same error for this long instead of each asking the token endpoint again.
const RENEWAL_COOLDOWN: Duration = Duration::from_secs(5);

type Callback = Arc<dyn Fn(&OAuthTokens) + Send + Sync>;

/// An OAuth 2.0 consumer (its key and secret) and, once the user has granted access, its
/// tokens. Pass it to [`crate::Auth::oauth`].
///
/// The three ways to start:
///
/// - **a user's tokens**, obtained once through [`OAuth::authorize_url`] and
///   [`OAuth::exchange_code`] and stored by the application: [`OAuth::tokens`];
/// - **a stored refresh token** alone: [`OAuth::refresh_token`]; the first request obtains an
///   access token;
/// - **nothing but the consumer**: requests use the client-credentials grant and act as the
///   consumer's owner (a bot).
///
/// In every case the access token is renewed shortly before it expires and once after a 401,
/// with one renewal in flight at a time; [`OAuth::on_refresh`] hands the new tokens to the
/// application so it can store them.
///
/// ```no_run
/// use bitbucket_cloud::{Auth, Client, OAuth};
///
/// # async fn run(code_from_callback: &str) -> Result<(), bitbucket_cloud::Error> {
/// let app = OAuth::new("consumer-key", "consumer-secret");
/// // 1. Send the user to this URL; Bitbucket redirects to the consumer's callback URL
/// //    with `?code=...&state=...`.
/// let url = app.authorize_url("random-state-to-check")?;
/// println!("open {url}");
/// // 2. Exchange the code for tokens, and store them.
/// let tokens = app.exchange_code(code_from_callback).await?;
/// // 3. Use them; renewed tokens are handed back for storage.
/// let client = Client::builder()
///     .auth(Auth::oauth(app.tokens(tokens).on_refresh(|new| {
///         // e.g. write new.access_token(), new.refresh_token(), new.expires_at() to storage
///         let _ = new;
///     })))
///     .build()?;
/// let me = client.get_current_user().send().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use]
pub struct OAuth {
    client_id: String,
    client_secret: SecretString,
    token_url: String,
    authorize_endpoint: String,
    redirect_uri: Option<String>,
    start: Start,
    refresh_margin: Duration,
    on_refresh: Option<Callback>,
    http: Option<reqwest::Client>,
}

#[derive(Clone)]
enum Start {
    ClientCredentials,
    Tokens(OAuthTokens),
    RefreshToken(SecretString),
}

impl OAuth {
    /// The consumer's key (client id) and secret, from the workspace's settings (OAuth
    /// consumers). Without tokens, requests use the client-credentials grant.
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        Self {
            client_id: client_id.into().trim().to_string(),
            client_secret: secret(client_secret.into()),
            token_url: DEFAULT_TOKEN_URL.to_string(),
            authorize_endpoint: DEFAULT_AUTHORIZE_URL.to_string(),
            redirect_uri: None,
            start: Start::ClientCredentials,
            refresh_margin: DEFAULT_REFRESH_MARGIN,
            on_refresh: None,
            http: None,
        }
    }

    /// The user's tokens, as [`OAuth::exchange_code`] or an earlier refresh gave them.
    pub fn tokens(mut self, tokens: OAuthTokens) -> Self {
        self.start = Start::Tokens(tokens);
        self
    }

    /// Only a stored refresh token: the first request obtains an access token with it.
    pub fn refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.start = Start::RefreshToken(secret(refresh_token.into()));
        self
    }

    /// The token endpoint, `https://bitbucket.org/site/oauth2/access_token` by default.
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The authorization page, `https://bitbucket.org/site/oauth2/authorize` by default.
    pub fn authorize_endpoint(mut self, url: impl Into<String>) -> Self {
        self.authorize_endpoint = url.into();
        self
    }

    /// The `redirect_uri` sent with the authorization request and the code exchange. Without
    /// it, Bitbucket redirects to the consumer's callback URL; with it, the URL must start
    /// with the consumer's callback URL.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// How long before its expiry the access token is renewed (60 s by default), so that a
    /// request never leaves with a token that expires on the way.
    pub fn refresh_margin(mut self, margin: Duration) -> Self {
        self.refresh_margin = margin;
        self
    }

    /// Called with the new tokens after each renewal, so the application can store them (the
    /// refresh token may change). It runs while other requests wait for the new token: keep
    /// it short, and hand slow storage to a task.
    pub fn on_refresh(mut self, callback: impl Fn(&OAuthTokens) + Send + Sync + 'static) -> Self {
        self.on_refresh = Some(Arc::new(callback));
        self
    }

    /// The HTTP client [`OAuth::exchange_code`] uses (a default one otherwise). Renewals made
    /// for a [`crate::Client`]'s requests use that client's own connection pool.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// The page to send the user to: `{authorize endpoint}?client_id=..&response_type=code&state=..`.
    ///
    /// `state` comes back unchanged on the redirect; check it there (it protects against
    /// forged redirects). The scopes are those configured on the consumer. Fails only when a
    /// custom [`OAuth::authorize_endpoint`] is not a URL.
    ///
    /// ```
    /// let url = bitbucket_cloud::OAuth::new("key", "secret").authorize_url("s1")?;
    /// assert_eq!(
    ///     url.as_str(),
    ///     "https://bitbucket.org/site/oauth2/authorize?client_id=key&response_type=code&state=s1"
    /// );
    /// # Ok::<(), bitbucket_cloud::Error>(())
    /// ```
    pub fn authorize_url(&self, state: &str) -> Result<reqwest::Url, Error> {
        let mut url = reqwest::Url::parse(&self.authorize_endpoint).map_err(|e| {
            Error::Config(format!(
                "the OAuth authorize endpoint `{}` is not a URL: {e}",
                self.authorize_endpoint
            ))
        })?;
        {
            let mut query = url.query_pairs_mut();
            query
                .append_pair("client_id", &self.client_id)
                .append_pair("response_type", "code")
                .append_pair("state", state);
            if let Some(redirect) = &self.redirect_uri {
                query.append_pair("redirect_uri", redirect);
            }
        }
        Ok(url)
    }

    /// Exchanges the `code` Bitbucket passed to the callback URL for the user's tokens.
    /// Codes are single-use and short-lived.
    pub async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, Error> {
        let http = match &self.http {
            Some(http) => http.clone(),
            None => crate::client::default_http_client()?,
        };
        self.grant(&http, Grant::AuthorizationCode(code))
            .await
            .map_err(|refused| refused.into_error("oauth_exchange_code"))
    }

    /// Asks the token endpoint for tokens.
    async fn grant(
        &self,
        http: &reqwest::Client,
        grant: Grant<'_>,
    ) -> Result<OAuthTokens, Refused> {
        let mut form: Vec<(&str, &str)> = vec![("grant_type", grant.name())];
        let mut secrets: Vec<&str> = vec![self.client_secret.expose_secret()];
        match &grant {
            Grant::AuthorizationCode(code) => {
                form.push(("code", code));
                secrets.push(code);
                if let Some(redirect) = &self.redirect_uri {
                    form.push(("redirect_uri", redirect));
                }
            }
            Grant::RefreshToken(token) => {
                form.push(("refresh_token", token.expose_secret()));
                secrets.push(token.expose_secret());
            }
            Grant::ClientCredentials => {}
        }
        tracing::debug!(
            grant = grant.name(),
            "asking the OAuth token endpoint for a token"
        );
        let response = http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await
            .map_err(|e| Refused {
                message: format!(
                    "could not reach the OAuth token endpoint {}: {}",
                    self.token_url,
                    describe_transport(e)
                ),
                permanent: false,
            })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| Refused {
            message: format!(
                "reading the answer of the OAuth token endpoint {} failed: {}",
                self.token_url,
                describe_transport(e)
            ),
            permanent: false,
        })?;
        if !status.is_success() {
            let reason = token_error_reason(&body);
            let permanent =
                status.is_client_error() && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
            let message = format!(
                "the OAuth token endpoint {} refused the {} grant ({status}{}): {}",
                self.token_url,
                grant.name(),
                if reason.is_empty() {
                    String::new()
                } else {
                    format!(", {reason}")
                },
                if permanent {
                    grant.advice()
                } else {
                    "try again later"
                }
            );
            return Err(Refused {
                message: redact(message, &secrets),
                permanent,
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|e| Refused {
            message: redact(
                format!(
                    "the OAuth token endpoint {} answered {status} with a body that is not a token \
                     ({e}); it starts with: {}",
                    self.token_url,
                    snippet(&body)
                ),
                &secrets,
            ),
            permanent: false,
        })?;
        Ok(OAuthTokens {
            access_token: SecretString::from(answer.access_token),
            refresh_token: answer.refresh_token.map(SecretString::from),
            expires_at: answer
                .expires_in
                .map(|seconds| SystemTime::now() + Duration::from_secs(seconds)),
            scopes: answer
                .scopes
                .unwrap_or_default()
                .split([' ', ','])
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        })
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_url", &self.token_url)
            .field("redirect_uri", &self.redirect_uri)
            .field(
                "start",
                &match &self.start {
                    Start::ClientCredentials => "client credentials",
                    Start::Tokens(_) => "tokens",
                    Start::RefreshToken(_) => "refresh token",
                },
            )
            .field("refresh_margin", &self.refresh_margin)
            .finish_non_exhaustive()
    }
}

/// Tokens from Bitbucket's token endpoint. Store them (all three) to avoid asking the user
/// again; restore them with [`OAuthTokens::new`] and its `with_` methods.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// let tokens = bitbucket_cloud::OAuthTokens::new("s3cr3t-access")
///     .with_refresh_token("s3cr3t-refresh")
///     .with_expires_at(SystemTime::now() + Duration::from_secs(3600));
/// assert_eq!(tokens.refresh_token(), Some("s3cr3t-refresh"));
/// assert!(!format!("{tokens:?}").contains("s3cr3t"));
/// ```
#[derive(Clone)]
pub struct OAuthTokens {
    access_token: SecretString,
    refresh_token: Option<SecretString>,
    expires_at: Option<SystemTime>,
    scopes: Vec<String>,
}

impl OAuthTokens {
    /// An access token, with no known expiry and no refresh token.
    pub fn new(access_token: impl Into<String>) -> Self {
        Self {
            access_token: secret(access_token.into()),
            refresh_token: None,
            expires_at: None,
            scopes: Vec::new(),
        }
    }

    /// The refresh token that renews the access token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<String>) -> Self {
        self.refresh_token = Some(secret(refresh_token.into()));
        self
    }

    /// When the access token expires.
    pub fn with_expires_at(mut self, expires_at: SystemTime) -> Self {
        self.expires_at = Some(expires_at);
        self
    }

    /// The access token (store it as a secret).
    pub fn access_token(&self) -> &str {
        self.access_token.expose_secret()
    }

    /// The refresh token, when Bitbucket gave one (store it as a secret).
    pub fn refresh_token(&self) -> Option<&str> {
        self.refresh_token.as_ref().map(|t| t.expose_secret())
    }

    /// When the access token expires, when known.
    pub fn expires_at(&self) -> Option<SystemTime> {
        self.expires_at
    }

    /// The scopes the token endpoint said were granted (empty when it did not say).
    pub fn scopes(&self) -> &[String] {
        &self.scopes
    }
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

enum Grant<'a> {
    AuthorizationCode(&'a str),
    RefreshToken(SecretString),
    ClientCredentials,
}

impl Grant<'_> {
    fn name(&self) -> &'static str {
        match self {
            Grant::AuthorizationCode(_) => "authorization_code",
            Grant::RefreshToken(_) => "refresh_token",
            Grant::ClientCredentials => "client_credentials",
        }
    }

    /// What to do when the token endpoint refuses this grant.
    fn advice(&self) -> &'static str {
        match self {
            Grant::AuthorizationCode(_) => {
                "codes are single-use and expire within minutes, and redirect_uri must match the \
                 authorization request's: send the user through OAuth::authorize_url again"
            }
            Grant::RefreshToken(_) => {
                "the refresh token is invalid or was revoked (or the consumer's key or secret is \
                 wrong): authorize the application again and build the client with the new tokens"
            }
            Grant::ClientCredentials => {
                "check the consumer's key and secret, and that the consumer is marked private \
                 (Bitbucket requires it for the client-credentials grant)"
            }
        }
    }
}

/// A grant the token endpoint did not answer with tokens. `permanent` when asking again with
/// the same credentials cannot help (4xx).
struct Refused {
    message: String,
    permanent: bool,
}

impl Refused {
    fn into_error(self, operation: &'static str) -> Error {
        Error::Auth {
            operation,
            message: self.message,
        }
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
    /// Bitbucket says `scopes`, space-separated; RFC 6749 says `scope`.
    #[serde(default, alias = "scope")]
    scopes: Option<String>,
}

/// `error: error_description` of an RFC 6749 error body, Bitbucket's own `error.message`, or
/// the beginning of whatever else came back.
fn token_error_reason(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return snippet(body);
    };
    let code = value["error"].as_str();
    let description = value["error_description"]
        .as_str()
        .or_else(|| value["error"]["message"].as_str());
    match (code, description) {
        (Some(code), Some(description)) => format!("{code}: {description}"),
        (Some(text), None) | (None, Some(text)) => text.to_string(),
        (None, None) => snippet(body),
    }
}

/// A transport failure in words; the message already names the endpoint.
fn describe_transport(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return "no answer within the time limit".to_string();
    }
    let error = error.without_url();
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(&error);
    while let Some(inner) = cause {
        text.push_str(&format!(": {inner}"));
        cause = inner.source();
    }
    text
}

/// Removes any secret the token endpoint may have echoed.
fn redact(mut message: String, secrets: &[&str]) -> String {
    for secret in secrets.iter().filter(|s| s.len() >= 4) {
        message = message.replace(secret, "[redacted]");
    }
    message
}

/// The live token state of an [`OAuth`] credential, shared by clones of its `Auth`.
pub(crate) struct Session {
    /// The consumer, and how it started (kept for `Debug`).
    config: OAuth,
    /// Held across a renewal: requests that need a token wait for the one renewal in flight.
    state: Mutex<State>,
}

struct State {
    access: Option<SecretString>,
    refresh: Option<SecretString>,
    expires_at: Option<SystemTime>,
    /// Incremented by each renewal; tells a 401 to an old token from one to the current token.
    generation: u64,
    failure: Option<Failure>,
}

struct Failure {
    message: String,
    at: Instant,
    permanent: bool,
}

impl State {
    fn expires_within(&self, margin: Duration) -> bool {
        self.expires_at
            .is_some_and(|at| SystemTime::now() + margin >= at)
    }
}

impl Session {
    pub(crate) fn new(config: OAuth) -> Self {
        let (access, refresh, expires_at) = match &config.start {
            Start::ClientCredentials => (None, None, None),
            Start::Tokens(tokens) => (
                Some(tokens.access_token.clone()),
                tokens.refresh_token.clone(),
                tokens.expires_at,
            ),
            Start::RefreshToken(refresh) => (None, Some(refresh.clone()), None),
        };
        Self {
            config,
            state: Mutex::new(State {
                access,
                refresh,
                expires_at,
                generation: 0,
                failure: None,
            }),
        }
    }

    pub(crate) fn client_id(&self) -> &str {
        &self.config.client_id
    }

    /// Whether a new access token can be obtained: with a refresh token, or with the
    /// client-credentials grant when the consumer was given no user tokens.
    fn can_renew(&self, state: &State) -> bool {
        state.refresh.is_some() || matches!(self.config.start, Start::ClientCredentials)
    }

    /// The access token to send, renewed first when missing or expiring within the margin,
    /// and its generation.
    pub(crate) async fn access_token(
        &self,
        http: &reqwest::Client,
        operation: &'static str,
    ) -> Result<(SecretString, u64), Error> {
        let mut state = self.state.lock().await;
        let stale = state.access.is_none() || state.expires_within(self.config.refresh_margin);
        if stale
            && self.can_renew(&state)
            && let Err(error) = self.renew(&mut state, http, operation).await
        {
            // A token that has not expired yet still works: use it while it lasts.
            if state.access.is_none() || state.expires_within(Duration::ZERO) {
                return Err(error);
            }
            tracing::warn!(%error, "renewing the OAuth access token failed; using the current one until it expires");
        }
        match &state.access {
            Some(access) => Ok((access.clone(), state.generation)),
            // Unreachable in practice: without an access token, renewal either succeeded or
            // returned its error above.
            None => Err(Error::Auth {
                operation,
                message: "no OAuth access token: give OAuth::tokens or OAuth::refresh_token".into(),
            }),
        }
    }

    /// After a 401 to the token of `generation`: renews it unless another request already
    /// did. `Ok(true)` when a newer token is there to try.
    pub(crate) async fn renew_after_unauthorized(
        &self,
        generation: u64,
        http: &reqwest::Client,
        operation: &'static str,
    ) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        if state.generation != generation {
            return Ok(true);
        }
        if !self.can_renew(&state) {
            return Ok(false);
        }
        self.renew(&mut state, http, operation).await?;
        Ok(true)
    }

    /// One renewal, with the lock held: concurrent requests wait for its outcome.
    async fn renew(
        &self,
        state: &mut State,
        http: &reqwest::Client,
        operation: &'static str,
    ) -> Result<(), Error> {
        if let Some(failure) = &state.failure
            && (failure.permanent || failure.at.elapsed() < RENEWAL_COOLDOWN)
        {
            return Err(Error::Auth {
                operation,
                message: failure.message.clone(),
            });
        }
        let grant = match &state.refresh {
            Some(refresh) => Grant::RefreshToken(refresh.clone()),
            None => Grant::ClientCredentials,
        };
        match self.config.grant(http, grant).await {
            Ok(mut tokens) => {
                if tokens.refresh_token.is_none() {
                    // Bitbucket keeps the refresh token valid when it does not send a new one.
                    tokens.refresh_token = state.refresh.clone();
                }
                state.access = Some(tokens.access_token.clone());
                state.refresh = tokens.refresh_token.clone();
                state.expires_at = tokens.expires_at;
                state.generation += 1;
                state.failure = None;
                tracing::debug!(
                    generation = state.generation,
                    "renewed the OAuth access token"
                );
                if let Some(callback) = &self.config.on_refresh {
                    callback(&tokens);
                }
                Ok(())
            }
            Err(refused) => {
                state.failure = Some(Failure {
                    message: refused.message.clone(),
                    at: Instant::now(),
                    permanent: refused.permanent,
                });
                Err(refused.into_error(operation))
            }
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_reasons_of_the_token_endpoint() {
        assert_eq!(
            token_error_reason(
                br#"{"error":"invalid_grant","error_description":"Invalid refresh_token"}"#
            ),
            "invalid_grant: Invalid refresh_token"
        );
        assert_eq!(
            token_error_reason(br#"{"type":"error","error":{"message":"Bad consumer"}}"#),
            "Bad consumer"
        );
        assert_eq!(
            token_error_reason(b"<html>oops</html>"),
            "<html>oops</html>"
        );
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        assert_eq!(
            redact("bad token abcdef".into(), &["abcdef", ""]),
            "bad token [redacted]"
        );
    }
}
