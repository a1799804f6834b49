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
use tokio::sync::Mutex;

use super::secret;
use crate::audit::{Outcome, Pending};
use crate::endpoint;
use crate::operations::Operation;
use crate::{Client, Error};

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
    accept_http: bool,
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
            accept_http: false,
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
    ///
    /// The consumer's secret and the refresh token are sent there, so it is checked like a
    /// client's base URL (when the client is built, and by [`OAuth::exchange_code`]):
    /// `https://`, or plain `http://` to loopback only (`127.0.0.0/8`, `::1`, `localhost`), with
    /// no user name, password, query or fragment. [`OAuth::danger_accept_http`] accepts plain
    /// `http://` elsewhere.
    ///
    /// ```
    /// use bitbucket_cloud::{Auth, Client, OAuth};
    ///
    /// let oauth = OAuth::new("key", "secret").token_url("http://bitbucket.org/site/oauth2/access_token");
    /// let refused = Client::builder().auth(Auth::oauth(oauth)).build().unwrap_err();
    /// assert!(refused.to_string().contains("OAuth token URL"));
    /// ```
    pub fn token_url(mut self, url: impl Into<String>) -> Self {
        self.token_url = url.into();
        self
    }

    /// The authorization page, `https://bitbucket.org/site/oauth2/authorize` by default;
    /// checked as [`OAuth::token_url`] is.
    pub fn authorize_endpoint(mut self, url: impl Into<String>) -> Self {
        self.authorize_endpoint = url.into();
        self
    }

    /// Accepts plain `http://` token and authorize URLs on hosts that are not loopback (a
    /// trusted internal network). The consumer's secret and the tokens then travel in clear
    /// text: never use it across the internet.
    pub fn danger_accept_http(mut self) -> Self {
        self.accept_http = true;
        self
    }

    /// Whether the token URL and authorize endpoint are acceptable; what is wrong otherwise.
    pub(crate) fn check_endpoints(&self) -> Result<(), String> {
        endpoint::check(&self.token_url, endpoint::Use::TokenUrl, self.accept_http)?;
        endpoint::check(
            &self.authorize_endpoint,
            endpoint::Use::AuthorizeEndpoint,
            self.accept_http,
        )?;
        Ok(())
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
    /// custom [`OAuth::authorize_endpoint`] is not acceptable (see [`OAuth::token_url`]).
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
        let mut url = endpoint::check(
            &self.authorize_endpoint,
            endpoint::Use::AuthorizeEndpoint,
            self.accept_http,
        )
        .map_err(Error::Config)?;
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
    ///
    /// Fails with [`Error::Config`] when the token URL is not acceptable (see
    /// [`OAuth::token_url`]); nothing is sent then.
    pub async fn exchange_code(&self, code: &str) -> Result<OAuthTokens, Error> {
        self.check_endpoints().map_err(Error::Config)?;
        let http = match &self.http {
            Some(http) => http.clone(),
            None => crate::client::default_http_client()?,
        };
        self.grant(&http, Grant::AuthorizationCode(code), None)
            .await
            .map_err(|refused| refused.into_error("oauth_exchange_code"))
    }

    /// Asks the token endpoint for tokens. `audit` is the client and operation the request is
    /// made for, which records it.
    async fn grant(
        &self,
        http: &reqwest::Client,
        grant: Grant<'_>,
        audit: Option<(&Client, &'static Operation)>,
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
        let mut pending = audit.map(|(client, operation)| {
            crate::audit::token_request(client, operation, grant.name(), &self.token_url)
        });
        let result = self
            .ask(http, &grant, &form, &secrets, pending.as_mut())
            .await;
        if let Some(pending) = pending {
            let outcome = match &result {
                Err(Refused {
                    answered: false, ..
                }) => Outcome::NoAnswer,
                _ => Outcome::Answered,
            };
            pending.finish(outcome, result.as_ref().err().map(|r| r.message.clone()));
        }
        result
    }

    /// The token request itself and the reading of its answer.
    async fn ask(
        &self,
        http: &reqwest::Client,
        grant: &Grant<'_>,
        form: &[(&str, &str)],
        secrets: &[&str],
        mut pending: Option<&mut Pending>,
    ) -> Result<OAuthTokens, Refused> {
        let response = http
            .post(&self.token_url)
            .basic_auth(&self.client_id, Some(self.client_secret.expose_secret()))
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form)
            .send()
            .await
            .map_err(|e| Refused {
                message: format!(
                    "could not reach the OAuth token endpoint {}: {}",
                    self.token_url,
                    describe_transport(e)
                ),
                permanent: false,
                answered: false,
            })?;
        let status = response.status();
        if let Some(pending) = pending.as_mut() {
            pending.answered(status);
        }
        let body = read_limited(response).await.map_err(|e| Refused {
            message: format!(
                "reading the answer of the OAuth token endpoint {} failed: {}",
                self.token_url,
                describe_transport(e)
            ),
            permanent: false,
            answered: false,
        })?;
        if let Some(pending) = pending {
            pending.read_whole();
        }
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
                message: redact(message, secrets),
                permanent,
                answered: true,
            });
        }
        // The body holds new secrets: what failed is named, the body never quoted.
        token_answer(&body).map_err(|problem| Refused {
            message: format!(
                "the OAuth token endpoint {} answered {status} with a body that is not a usable \
                 token: {problem}",
                self.token_url
            ),
            permanent: false,
            answered: true,
        })
    }
}

/// Reads a token endpoint's answer, at most [`TOKEN_BODY_LIMIT`] bytes of it: a token answer
/// is a few hundred bytes, and a longer one is not read into memory.
async fn read_limited(mut response: reqwest::Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = TOKEN_BODY_LIMIT.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if room <= chunk.len() {
            break;
        }
    }
    Ok(body)
}

/// The longest token endpoint answer read.
const TOKEN_BODY_LIMIT: usize = 64 * 1024;

/// The tokens of a 2xx answer of the token endpoint, or which field is wrong. Tolerant of what
/// servers send (numbers as strings, `scope` or `scopes`, extra fields), strict about what
/// the client needs, and never quoting a value: they are secrets.
pub(crate) fn token_answer(body: &[u8]) -> Result<OAuthTokens, String> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|_| {
        format!(
            "the body is not JSON ({} bytes; expected {{\"access_token\": ..., \"expires_in\": ...}})",
            body.len()
        )
    })?;
    let serde_json::Value::Object(fields) = value else {
        return Err("the body is not a JSON object".to_string());
    };
    let access_token = match fields.get("access_token") {
        Some(serde_json::Value::String(token)) if !token.trim().is_empty() => token.trim(),
        Some(serde_json::Value::String(_)) => return Err("`access_token` is empty".to_string()),
        None | Some(serde_json::Value::Null) => {
            return Err("`access_token` is missing".to_string());
        }
        Some(_) => return Err("`access_token` is not a string".to_string()),
    };
    if !access_token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(
            "`access_token` holds characters that cannot be sent in an HTTP header".to_string(),
        );
    }
    let refresh_token = match fields.get("refresh_token") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(token)) if token.trim().is_empty() => None,
        Some(serde_json::Value::String(token)) => Some(token.trim()),
        Some(_) => return Err("`refresh_token` is not a string".to_string()),
    };
    let expires_in = match fields.get("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(value) => Some(seconds(value).ok_or_else(|| {
            "`expires_in` is not a number of seconds (a non-negative integer, or one written as \
             a string)"
                .to_string()
        })?),
    };
    // Bitbucket says `scopes`, space-separated; RFC 6749 says `scope`. They only inform, so a
    // value of another shape is ignored rather than refused.
    let scopes = fields
        .get("scopes")
        .or_else(|| fields.get("scope"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    Ok(OAuthTokens {
        access_token: SecretString::from(access_token.to_string()),
        refresh_token: refresh_token.map(|t| SecretString::from(t.to_string())),
        // A lifetime past what the clock can represent is no known expiry: the token is then
        // renewed after a 401.
        expires_at: expires_in
            .and_then(|seconds| SystemTime::now().checked_add(Duration::from_secs(seconds))),
        scopes,
    })
}

/// A number of seconds: a non-negative JSON integer, or a string of one (`"7200"`). A
/// fractional number is rounded down.
fn seconds(value: &serde_json::Value) -> Option<u64> {
    match value {
        serde_json::Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0)
                // Saturates at u64::MAX.
                .map(|f| f as u64)
        }),
        serde_json::Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("token_url", &endpoint::without_userinfo(&self.token_url))
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
    /// Whether the token endpoint answered (the audit record's outcome).
    answered: bool,
}

impl Refused {
    fn into_error(self, operation: &'static str) -> Error {
        Error::Auth {
            operation,
            message: self.message,
        }
    }
}

/// `error: error_description` of an RFC 6749 error body, or Bitbucket's own `error.message`:
/// the fields meant for people, shortened. Anything else in the body is not quoted (a token
/// endpoint's body may hold secrets), only its size.
pub(crate) fn token_error_reason(body: &[u8]) -> String {
    let value = serde_json::from_slice::<serde_json::Value>(body).unwrap_or_default();
    let code = value["error"].as_str();
    let description = value["error_description"]
        .as_str()
        .or_else(|| value["error"]["message"].as_str());
    match (code, description) {
        (Some(code), Some(description)) => format!("{}: {}", short(code), short(description)),
        (Some(text), None) | (None, Some(text)) => short(text),
        (None, None) if body.iter().all(u8::is_ascii_whitespace) => String::new(),
        (None, None) => format!(
            "a {}-byte body that is not an OAuth error (not quoted: it may hold secrets)",
            body.len()
        ),
    }
}

/// At most [`REASON_CHARS`] characters of `text`, on one line.
fn short(text: &str) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match line.char_indices().nth(REASON_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// How much of an error description of the token endpoint is quoted.
const REASON_CHARS: usize = 200;

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
        // A margin past what the clock can represent covers any expiry.
        self.expires_at.is_some_and(|at| {
            SystemTime::now()
                .checked_add(margin)
                .is_none_or(|soon| soon >= at)
        })
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

    pub(crate) fn config(&self) -> &OAuth {
        &self.config
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
        client: &Client,
        operation: &'static Operation,
    ) -> Result<(SecretString, u64), Error> {
        let mut state = self.state.lock().await;
        let stale = state.access.is_none() || state.expires_within(self.config.refresh_margin);
        if stale
            && self.can_renew(&state)
            && let Err(error) = self.renew(&mut state, client, operation).await
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
                operation: operation.name,
                message: "no OAuth access token: give OAuth::tokens or OAuth::refresh_token".into(),
            }),
        }
    }

    /// After a 401 to the token of `generation`: renews it unless another request already
    /// did. `Ok(true)` when a newer token is there to try.
    pub(crate) async fn renew_after_unauthorized(
        &self,
        generation: u64,
        client: &Client,
        operation: &'static Operation,
    ) -> Result<bool, Error> {
        let mut state = self.state.lock().await;
        if state.generation != generation {
            return Ok(true);
        }
        if !self.can_renew(&state) {
            return Ok(false);
        }
        self.renew(&mut state, client, operation).await?;
        Ok(true)
    }

    /// One renewal, with the lock held: concurrent requests wait for its outcome.
    async fn renew(
        &self,
        state: &mut State,
        client: &Client,
        operation: &'static Operation,
    ) -> Result<(), Error> {
        if let Some(failure) = &state.failure
            && (failure.permanent || failure.at.elapsed() < RENEWAL_COOLDOWN)
        {
            return Err(Error::Auth {
                operation: operation.name,
                message: failure.message.clone(),
            });
        }
        let grant = match &state.refresh {
            Some(refresh) => Grant::RefreshToken(refresh.clone()),
            None => Grant::ClientCredentials,
        };
        match self
            .config
            .grant(&client.client, grant, Some((client, operation)))
            .await
        {
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
                Err(refused.into_error(operation.name))
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
        // Anything else is not quoted: a token endpoint's body may hold secrets.
        let reason = token_error_reason(b"<html>access_token=s3cr3t</html>");
        assert!(!reason.contains("s3cr3t"), "{reason}");
        assert!(reason.contains("32-byte"), "{reason}");
        assert_eq!(token_error_reason(b""), "");
    }

    #[test]
    fn token_answers_name_the_field_that_fails_and_never_a_value() {
        let ok =
            token_answer(br#"{"access_token":"a","expires_in":"7200","scopes":"x y"}"#).unwrap();
        assert_eq!(ok.access_token(), "a");
        assert_eq!(ok.scopes(), ["x", "y"]);
        assert!(ok.expires_at().is_some());
        let huge = token_answer(br#"{"access_token":"a","expires_in":18446744073709551615}"#);
        assert!(huge.is_ok());
        for (body, field) in [
            (
                &br#"{"access_token":"SECRET","expires_in":"soon"}"#[..],
                "`expires_in`",
            ),
            (
                br#"{"access_token":"SECRET","expires_in":-5}"#,
                "`expires_in`",
            ),
            (
                br#"{"access_token":"SECRET","refresh_token":7}"#,
                "`refresh_token`",
            ),
            (
                br#"{"access_token":7,"refresh_token":"SECRET"}"#,
                "`access_token`",
            ),
            (br#"{"access_token":"SEC RET"}"#, "`access_token`"),
            (
                br#"{"refresh_token":"SECRET"}"#,
                "`access_token` is missing",
            ),
            (br#"SECRET"#, "not JSON"),
            (br#"["SECRET"]"#, "not a JSON object"),
        ] {
            let problem = token_answer(body).map(|_| ()).unwrap_err();
            assert!(problem.contains(field), "{problem}");
            assert!(!problem.contains("SECRET"), "{problem}");
        }
    }

    #[test]
    fn echoed_secrets_are_redacted() {
        assert_eq!(
            redact("bad token abcdef".into(), &["abcdef", ""]),
            "bad token [redacted]"
        );
    }
}
