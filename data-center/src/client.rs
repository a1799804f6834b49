//! Building a [`Client`]: the server's URL, credentials, timeouts, retries, policy.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::audit::{AuditRecord, AuditSink, Auditor};
use crate::auth::Auth;
use crate::endpoint;
use crate::policy::Policy;
use crate::rate_limit::RateLimit;
use crate::retry::RetryConfig;
use crate::{Client, Error};

const DEFAULT_USER_AGENT: &str = concat!("bitbucket-data-center-rust/", env!("CARGO_PKG_VERSION"));
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// What every request of a client (and its clones) shares: the generated client's "inner".
pub(crate) type Shared = Arc<State>;

pub(crate) struct State {
    pub(crate) auth: Auth,
    pub(crate) retry: RetryConfig,
    /// `<server>/rest`, parsed once: credentials go to its origin, under its path, only.
    pub(crate) base: reqwest::Url,
    pub(crate) rate_limit: Mutex<Option<RateLimit>>,
    pub(crate) policy: Option<Policy>,
    /// The agent named in every audit record, and the application's sink.
    pub(crate) auditor: Arc<Auditor>,
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("State")
            .field("auth", &self.auth)
            .field("base", &self.base.as_str())
            .field("policy", &self.policy)
            .field("agent", &self.auditor.agent())
            .finish_non_exhaustive()
    }
}

impl State {
    /// Whether `url` is under the client's API root (same origin, path below `/rest`): the
    /// only place credentials are sent and pages are fetched from.
    pub(crate) fn is_own(&self, url: &reqwest::Url) -> bool {
        url.origin() == self.base.origin()
            && url
                .path()
                .strip_prefix(self.base.path().trim_end_matches('/'))
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }
}

/// Configures a [`Client`]. Start with [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use bitbucket_data_center::{Auth, Client, Permission, Policy};
///
/// let client = Client::builder()
///     .server_url("https://bitbucket.example.com")
///     .auth(Auth::bearer("an HTTP access token"))
///     .timeout(Duration::from_secs(20))
///     .policy(Policy::new().grant(Permission::RepoWrite))
///     .build()?;
/// # Ok::<(), bitbucket_data_center::Error>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    server_url: Option<String>,
    auth: Auth,
    user_agent: String,
    timeout: Duration,
    connect_timeout: Duration,
    retry: RetryConfig,
    http: Option<reqwest::Client>,
    policy: Option<Policy>,
    accept_http: bool,
    agent: Option<String>,
    audit: Option<AuditSink>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field(
                "server_url",
                &self.server_url.as_deref().map(endpoint::without_userinfo),
            )
            .field("auth", &self.auth)
            .field("timeout", &self.timeout)
            .field("retry", &self.retry)
            .field("policy", &self.policy)
            .field("agent", &self.agent)
            .field("audit", &self.audit.as_ref().map(|_| "set"))
            .finish_non_exhaustive()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        Self {
            server_url: None,
            auth: Auth::anonymous(),
            user_agent: DEFAULT_USER_AGENT.to_string(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            retry: RetryConfig::default(),
            http: None,
            policy: None,
            accept_http: false,
            agent: None,
            audit: None,
        }
    }
}

impl ClientBuilder {
    /// The server's URL, as users open it in a browser (`https://bitbucket.example.com`, or
    /// with its context path: `https://example.com/bitbucket`); the API is under its `/rest`.
    /// Required.
    ///
    /// [`ClientBuilder::build`] checks it, since every request carries credentials there: it
    /// must be `https://`, or plain `http://` to loopback (a local test server), and hold no
    /// user name, password, query or fragment. Plain `http://` to another host needs
    /// [`ClientBuilder::danger_accept_http`].
    ///
    /// ```
    /// use bitbucket_data_center::Client;
    ///
    /// assert!(Client::builder().server_url("http://127.0.0.1:7990").build().is_ok());
    /// let typo = Client::builder().server_url("http://bitbucket.example.com").build();
    /// assert!(typo.unwrap_err().to_string().contains("clear text"));
    /// ```
    pub fn server_url(mut self, url: impl Into<String>) -> Self {
        self.server_url = Some(url.into());
        self
    }

    /// Accepts a plain `http://` server URL on a host that is not loopback (a trusted internal
    /// network). Every request sends its credentials in clear text there.
    pub fn danger_accept_http(mut self) -> Self {
        self.accept_http = true;
        self
    }

    /// The credentials (anonymous by default).
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// The `User-Agent` header.
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// The time one attempt may take, from connecting to the end of the answer (30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// When failed attempts are repeated (see [`crate::retry`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// What the client may send (see [`Policy`]); without one, everything.
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// A label for whoever uses this client (`release-bot`), named in every audit record.
    pub fn agent(mut self, label: impl Into<String>) -> Self {
        self.agent = Some(label.into());
        self
    }

    /// Where every [`AuditRecord`] goes: one for each request the client sends (each attempt
    /// and each page) and one for each request its policy refused, which sends nothing. The
    /// records are also `tracing` events (target `bitbucket_data_center::audit`). They hold
    /// no credential and no query string. See [`crate::audit`].
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use bitbucket_data_center::{Client, Permission, Policy};
    ///
    /// let (records, trail) = mpsc::channel();
    /// let client = Client::builder()
    ///     .server_url("https://bitbucket.example.com")
    ///     .agent("nightly-report")
    ///     .policy(Policy::new().grant(Permission::RepoRead))
    ///     .audit(move |record| {
    ///         let _ = records.send(record.to_string());
    ///     })
    ///     .build()?;
    /// # drop((client, trail));
    /// # Ok::<(), bitbucket_data_center::Error>(())
    /// ```
    pub fn audit(mut self, sink: impl Fn(&AuditRecord) + Send + Sync + 'static) -> Self {
        self.audit = Some(Arc::new(sink));
        self
    }

    /// A `reqwest::Client` of the caller's (proxies, certificates); the builder's user agent
    /// and timeouts are then that client's.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Builds the client. Fails without a server URL, on one [`ClientBuilder::server_url`]
    /// does not accept, on a policy rule that names no operation, or when the TLS backend
    /// cannot be initialised.
    pub fn build(self) -> Result<Client, Error> {
        if let Some(problems) = self.policy.as_ref().map(Policy::problems)
            && !problems.is_empty()
        {
            return Err(Error::Config(format!("policy: {}", problems.join("; "))));
        }
        let server = self.server_url.ok_or_else(|| {
            Error::Config(
                "no server URL: set ClientBuilder::server_url (https://bitbucket.example.com)"
                    .into(),
            )
        })?;
        endpoint::check(&server, endpoint::Use::ServerUrl, self.accept_http)
            .map_err(Error::Config)?;
        let root = format!("{}/rest", server.trim().trim_end_matches('/'));
        let base = reqwest::Url::parse(&root)
            .map_err(|e| Error::Config(format!("the server URL `{root}`: {e}")))?;
        let http = match self.http {
            Some(http) => http,
            None => {
                install_crypto_provider();
                reqwest::Client::builder()
                    .user_agent(self.user_agent)
                    .timeout(self.timeout)
                    .connect_timeout(self.connect_timeout)
                    .build()
                    .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?
            }
        };
        Ok(Client {
            baseurl: root,
            client: http,
            inner: Arc::new(State {
                auth: self.auth,
                retry: self.retry,
                base,
                rate_limit: Mutex::new(None),
                policy: self.policy,
                auditor: Auditor::new(self.agent, self.audit),
            }),
        })
    }
}

/// With the `rustls` feature, reqwest needs a process-wide crypto provider: install ring's
/// unless the application installed one.
fn install_crypto_provider() {
    #[cfg(feature = "rustls")]
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err means another thread installed one meanwhile, which is just as good.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

impl Client {
    /// A builder; [`ClientBuilder::server_url`] is required.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from the environment: `BITBUCKET_SERVER_URL`, and
    /// `BITBUCKET_TOKEN` (an HTTP access token, as Bearer) or `BITBUCKET_USER` with
    /// `BITBUCKET_PASSWORD` (basic). Fails, naming the variables, when the URL or the
    /// credentials are missing.
    pub fn from_env() -> Result<Client, Error> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let server = var("BITBUCKET_SERVER_URL")
            .ok_or_else(|| Error::Config("BITBUCKET_SERVER_URL is not set".into()))?;
        let auth = match (
            var("BITBUCKET_TOKEN"),
            var("BITBUCKET_USER"),
            var("BITBUCKET_PASSWORD"),
        ) {
            (Some(token), _, _) => Auth::bearer(token),
            (None, Some(user), Some(password)) => Auth::basic(user, password),
            _ => {
                return Err(Error::Config(
                    "no credentials: set BITBUCKET_TOKEN, or BITBUCKET_USER and BITBUCKET_PASSWORD"
                        .into(),
                ));
            }
        };
        Client::builder().server_url(server).auth(auth).build()
    }

    /// The rate-limit state of the last answer that carried one, if any.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        self.inner
            .rate_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The API root requests go to: `<server>/rest`.
    pub fn api_root(&self) -> &str {
        &self.baseurl
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("api_root", &self.baseurl)
            .field("state", &self.inner)
            .finish_non_exhaustive()
    }
}
