//! Building a [`Client`]: base URL, credentials, timeouts, retries.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::audit::{self, AuditRecord, AuditSink, Auditor};
use crate::auth::Auth;
use crate::endpoint;
use crate::policy::Policy;
use crate::rate_limit::RateLimit;
use crate::retry::RetryConfig;
use crate::{Client, Error, RepoHandle, WorkspaceHandle};

/// Bitbucket Cloud's API root.
const DEFAULT_BASE_URL: &str = "https://api.bitbucket.org/2.0";

const DEFAULT_USER_AGENT: &str = concat!("bitbucket-cloud-rust/", env!("CARGO_PKG_VERSION"));
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JSON answer read by default: far above any page Bitbucket sends (a page of
/// 100 pull requests weighs about 1 MiB), far below what would hurt a small CI runner.
pub(crate) const DEFAULT_MAX_JSON_BODY: u64 = 64 * 1024 * 1024;

/// What every request of a client (and its clones) shares: the generated client's "inner".
pub(crate) type Shared = Arc<State>;

pub(crate) struct State {
    pub(crate) auth: Auth,
    pub(crate) retry: RetryConfig,
    /// The base URL, parsed once: its origin is the only one credentials are sent to.
    pub(crate) base: reqwest::Url,
    pub(crate) rate_limit: Mutex<Option<RateLimit>>,
    /// Checked before every request; `None` allows everything.
    pub(crate) policy: Option<Policy>,
    /// The agent named in every audit record, and the application's sink.
    pub(crate) auditor: Arc<Auditor>,
    /// The largest JSON answer read, in bytes ([`ClientBuilder::max_json_body`]).
    pub(crate) max_json_body: u64,
}

impl State {
    /// Whether `url` is on the base URL's origin (scheme, host, port): the only one credentials
    /// are sent to and pagination follows links to.
    pub(crate) fn is_own_origin(&self, url: &reqwest::Url) -> bool {
        url.origin() == self.base.origin()
    }
}

/// Configures a [`Client`]. Start with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use bitbucket_cloud::{Auth, Client, retry::RetryConfig};
///
/// let client = Client::builder()
///     .auth(Auth::access_token("repository-access-token"))
///     .user_agent("release-bot/1.2")
///     .timeout(Duration::from_secs(20))
///     .retry(RetryConfig::default().max_retries(5))
///     .build()?;
/// # Ok::<(), bitbucket_cloud::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    base_url: String,
    auth: Auth,
    user_agent: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    http: Option<reqwest::Client>,
    policy: Option<Policy>,
    agent: Option<String>,
    audit: Option<AuditSink>,
    accept_http: bool,
    max_json_body: u64,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            // Not checked yet: it may hold a password.
            .field("base_url", &endpoint::without_userinfo(&self.base_url))
            .field("auth", &self.auth)
            .field("user_agent", &self.user_agent)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("agent", &self.agent)
            .field("policy", &self.policy)
            .field("max_json_body", &self.max_json_body)
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_string(),
            auth: Auth::anonymous(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryConfig::default(),
            http: None,
            policy: None,
            agent: None,
            audit: None,
            accept_http: false,
            max_json_body: DEFAULT_MAX_JSON_BODY,
        }
    }
}

impl ClientBuilder {
    /// The API root, `https://api.bitbucket.org/2.0` by default. Point it at a local server in
    /// tests.
    ///
    /// [`ClientBuilder::build`] checks it, since every request carries credentials there: it
    /// must be `https://`, or plain `http://` to loopback (`127.0.0.0/8`, `::1`, `localhost`:
    /// a local test server), and hold no user name, password, query or fragment. Plain
    /// `http://` to another host needs [`ClientBuilder::danger_accept_http`].
    ///
    /// ```
    /// use bitbucket_cloud::Client;
    ///
    /// assert!(Client::builder().base_url("http://127.0.0.1:8080/2.0").build().is_ok());
    /// let typo = Client::builder().base_url("http://api.bitbucket.org/2.0").build();
    /// assert!(typo.unwrap_err().to_string().contains("clear text"));
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Accepts a plain `http://` base URL on a host that is not loopback (a trusted internal
    /// proxy or test network). Every request sends its credentials in clear text there:
    /// never use it across the internet.
    ///
    /// ```
    /// use bitbucket_cloud::Client;
    ///
    /// let client = Client::builder()
    ///     .base_url("http://bitbucket-proxy.internal/2.0")
    ///     .danger_accept_http()
    ///     .build()?;
    /// # Ok::<(), bitbucket_cloud::Error>(())
    /// ```
    pub fn danger_accept_http(mut self) -> Self {
        self.accept_http = true;
        self
    }

    /// How requests are authenticated; anonymous by default (public resources only).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The `User-Agent` header. Name your tool: it helps Atlassian support find your calls.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// The time limit of each attempt, from sending to the end of the body (30 s by default).
    /// Attempts after the first are also cut off when the retry budget runs out (see
    /// [`RetryConfig::budget`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The time limit to establish a connection (10 s by default).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How 429s, 5xx answers and connection failures are retried. See [`RetryConfig`].
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The largest JSON answer a call reads, in bytes: 64 MiB by default. A larger answer
    /// fails with [`Error::TooLarge`] once the limit is reached (or at once, when its
    /// `Content-Length` says so), without holding more than the limit. Files, logs and diffs
    /// are not JSON and not limited: stream them (`send_streaming()`, see [`crate::body`]).
    ///
    /// ```
    /// use bitbucket_cloud::Client;
    ///
    /// let client = Client::builder().max_json_body(8 * 1024 * 1024).build()?;
    /// # Ok::<(), bitbucket_cloud::Error>(())
    /// ```
    pub fn max_json_body(mut self, bytes: u64) -> Self {
        self.max_json_body = bytes;
        self
    }

    /// Uses this `reqwest::Client` (proxies, custom roots, ...). `timeout`, `connect_timeout`
    /// and `user_agent` are then the given client's own.
    ///
    /// Build it with `redirect(reqwest::redirect::Policy::none())`: the client follows the
    /// redirects Bitbucket declares itself, each one admitted by the policy and audited (see
    /// [`crate::operations::Redirect`]); a client that follows redirects on its own would
    /// fetch what the policy never judged.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// What this client may call, and where, checked before each request leaves the process.
    /// Without one, everything is allowed. See [`Policy`].
    ///
    /// ```
    /// use bitbucket_cloud::{Client, Scope, policy::Policy};
    ///
    /// let client = Client::builder()
    ///     .policy(Policy::deny_all().allow_scope(Scope::Pullrequest).only_in("ws/app"))
    ///     .build()?;
    /// # Ok::<(), bitbucket_cloud::Error>(())
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A label for whoever uses this client (`release-bot`), named in every audit record.
    pub fn agent(mut self, label: impl Into<String>) -> Self {
        self.agent = Some(label.into());
        self
    }

    /// Gives every [`AuditRecord`] to `sink`, besides the `tracing` event: one for each
    /// request that left the process (each attempt of a retried call, each page, each OAuth
    /// token request, and requests cancelled by dropping their call), and one for each request
    /// the policy refused. See [`crate::audit`].
    pub fn audit(mut self, sink: impl Fn(&AuditRecord) + Send + Sync + 'static) -> Self {
        self.audit = Some(Arc::new(sink));
        self
    }

    /// Builds the client. Fails on a base URL that [`ClientBuilder::base_url`] does not accept
    /// (the same rules hold for an OAuth token URL, see [`crate::OAuth::token_url`]), on a
    /// policy rule that names no operation or tag, or when the TLS backend cannot be
    /// initialised.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(problems) = self.policy.as_ref().map(Policy::problems)
            && !problems.is_empty()
        {
            return Err(Error::Config(format!("policy: {}", problems.join("; "))));
        }
        let base = endpoint::check(&self.base_url, endpoint::Use::BaseUrl, self.accept_http)
            .map_err(Error::Config)?;
        self.auth.check_endpoints().map_err(Error::Config)?;
        let trimmed = self.base_url.trim().trim_end_matches('/').to_string();
        let http = match self.http {
            Some(http) => http,
            None => http_client(&self.user_agent, self.timeout, self.connect_timeout)?,
        };
        Ok(Client {
            baseurl: trimmed,
            client: http,
            inner: Arc::new(State {
                auth: self.auth,
                retry: self.retry,
                base,
                rate_limit: Mutex::new(None),
                policy: self.policy,
                auditor: audit::auditor(self.agent, self.audit),
                max_json_body: self.max_json_body,
            }),
        })
    }
}

/// An HTTP client with the crate's defaults, for calls made outside a [`Client`] (the OAuth
/// code exchange).
pub(crate) fn default_http_client() -> Result<reqwest::Client, Error> {
    http_client(DEFAULT_USER_AGENT, DEFAULT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT)
}

fn http_client(
    user_agent: &str,
    timeout: Duration,
    connect_timeout: Duration,
) -> Result<reqwest::Client, Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .connect_timeout(connect_timeout)
        // Redirects are the transport's to follow, each admitted and audited.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))
}

/// With the `rustls` feature, reqwest needs a process-wide crypto provider: install ring's
/// unless the application installed one.
fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed a provider between the check and here, which
        // is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl Client {
    /// A builder with the defaults: `https://api.bitbucket.org/2.0`, anonymous, retries on.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client authenticated from the environment:
    ///
    /// - `BITBUCKET_EMAIL` and `BITBUCKET_API_TOKEN`: an API token ([`Auth::api_token`]);
    /// - otherwise `BITBUCKET_ACCESS_TOKEN`: an access token ([`Auth::access_token`]).
    ///
    /// `BITBUCKET_BASE_URL`, when set, replaces the default API root; it is checked as
    /// [`ClientBuilder::base_url`] says (`https://`, or `http://` to loopback only). Fails,
    /// naming the variables, when none of the credentials is set or the base URL is refused.
    pub fn from_env() -> Result<Client, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let auth = match (
            var("BITBUCKET_EMAIL"),
            var("BITBUCKET_API_TOKEN"),
            var("BITBUCKET_ACCESS_TOKEN"),
        ) {
            (Some(email), Some(token), _) => Auth::api_token(email, token),
            (None, Some(_), _) => {
                return Err(Error::Config(
                    "BITBUCKET_API_TOKEN is set but BITBUCKET_EMAIL is not: set it to the \
                     Atlassian account's email, which API tokens authenticate with as user name"
                        .into(),
                ));
            }
            (_, None, Some(token)) => Auth::access_token(token),
            _ => {
                return Err(Error::Config(
                    "no credentials in the environment: set BITBUCKET_EMAIL and BITBUCKET_API_TOKEN \
                     (an API token), or BITBUCKET_ACCESS_TOKEN (a repository, project or workspace \
                     access token)"
                        .into(),
                ));
            }
        };
        let mut builder = Client::builder().auth(auth);
        let from_env = var("BITBUCKET_BASE_URL");
        if let Some(url) = &from_env {
            builder = builder.base_url(url.clone());
        }
        builder.build().map_err(|error| match (error, from_env) {
            (Error::Config(message), Some(_)) if message.contains("base URL") => {
                Error::Config(format!("BITBUCKET_BASE_URL: {message}"))
            }
            (error, _) => error,
        })
    }

    /// The operations of one repository, with `workspace` and `repo_slug` filled in.
    ///
    /// ```no_run
    /// # async fn run(client: bitbucket_cloud::Client) -> Result<(), bitbucket_cloud::Error> {
    /// let repo = client.repo("my-workspace", "my-repo");
    /// let pr = repo.get_pull_request().pull_request_id(42).send().await?;
    /// repo.approve_pull_request().pull_request_id(42).send().await?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn repo(
        &self,
        workspace: impl Into<String>,
        repo_slug: impl Into<String>,
    ) -> RepoHandle<'_> {
        RepoHandle::new(self, workspace.into(), repo_slug.into())
    }

    /// The operations of one workspace, with `workspace` filled in.
    pub fn workspace(&self, workspace: impl Into<String>) -> WorkspaceHandle<'_> {
        WorkspaceHandle::new(self, workspace.into())
    }

    /// The API root this client sends requests to.
    pub fn base_url(&self) -> &str {
        &self.baseurl
    }

    /// The rate-limit state of the last response that carried `X-RateLimit-*` headers.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner
            .rate_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.baseurl)
            .field("auth", &self.inner.auth)
            .field("retry", &self.inner.retry)
            .field("agent", &self.inner.auditor.agent())
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}
