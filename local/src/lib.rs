//! A local Bitbucket Cloud for tests: a real HTTP server on `127.0.0.1`, in memory, that
//! speaks the operations of [`bitbucket_cloud`] the way Bitbucket does.
//!
//! Test your automation without a Bitbucket account or a network: start a [`LocalBitbucket`],
//! give it some data, make a token with the scopes your code should need, and point a
//! [`bitbucket_cloud::Client`] at [`LocalBitbucket::base_url`].
//!
//! ```
//! use bitbucket_cloud::{Auth, Client, Scope, types};
//! use bitbucket_cloud_local::LocalBitbucket;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), bitbucket_cloud::Error> {
//! let bb = LocalBitbucket::start().await;
//! bb.create_repository("acme", "app");
//! bb.push("acme", "app", "feature", "Add the feature", &[("src/feature.rs", "pub fn f() {}\n")]);
//!
//! let client = Client::builder()
//!     .base_url(bb.base_url())
//!     .auth(Auth::access_token(bb.token(&[Scope::PullrequestWrite])))
//!     .build()?;
//! let pr = client
//!     .repo("acme", "app")
//!     .create_pull_request()
//!     .body(types::PullRequest {
//!         title: Some("Add the feature".into()),
//!         source: Some(Box::new(types::PullRequestEndpoint {
//!             branch: Some(Box::new(types::PullRequestBranch {
//!                 name: Some("feature".into()),
//!                 ..Default::default()
//!             })),
//!             ..Default::default()
//!         })),
//!         ..Default::default()
//!     })
//!     .send()
//!     .await?;
//! assert_eq!(pr.id, Some(1));
//! # Ok(())
//! # }
//! ```
//!
//! # What it does like Bitbucket
//!
//! - **State**: workspaces (members and permissions), projects (with default reviewers),
//!   repositories (forks, watchers), branches and tags, commits (each with a file tree, so
//!   pull request diffs and diffstats are real; approvals; build statuses, one per key), pull
//!   requests (comments edited, deleted, resolved; tasks; activity; approvals and requested
//!   changes, withdrawn too; merge with a merge commit, squash or fast-forward, decline),
//!   issues (with attachments, and the tracker's components, milestones and versions, which
//!   [`LocalBitbucket::add_issue_component`] and its kin set up; an export is a job that
//!   moves one phase per status read to `SUCCESS`, though no archive is made), pipelines
//!   (steps, variables, configuration), deployment environments, deployments and their
//!   variables,
//!   branch restrictions, the branching model (of repositories and projects), default
//!   reviewers, webhooks (of repositories and workspaces), Code Insights reports and
//!   annotations, application properties, deploy and SSH keys, accounts' GPG keys (read as
//!   Bitbucket reads them: fingerprints, subkeys, expiry), repository and project
//!   permissions (of accounts and groups), code search over the main branches (of a
//!   workspace, or of an account's own), and snippets (files versioned as revisions, with
//!   comments and watchers; created and changed as `multipart/form-data` or JSON).
//!   Secured pipeline and deployment variables keep their value but never answer it; nor
//!   does the pipelines' SSH private key.
//! - **Pipelines** advance one state each time they or their steps are read: `PENDING`, then
//!   each step of the commit's `bitbucket-pipelines.yml` in turn (one `Build` step without
//!   one), then `COMPLETED` with the result of [`LocalBitbucket::set_pipeline_result`]
//!   (`SUCCESSFUL` by default); stopping one completes it as `STOPPED`. A step with
//!   `deployment:` deploys to that environment, and the deployment follows the pipeline; a
//!   successful pipeline saves its steps' `caches:` (whose content is an empty `.tar.gz` on
//!   the storage host: steps run no commands).
//! - **Branch restrictions are enforced**: `push` (creating branches, and
//!   [`LocalBitbucket::push`]), `delete`, `restrict_merges`, and the merge checks
//!   (`require_approvals_to_merge`, `require_default_reviewer_approvals_to_merge`,
//!   `require_passing_builds_to_merge`, `require_tasks_to_be_completed`,
//!   `require_no_changes_requested`) refuse what they forbid; `reset_pullrequest_approvals_on_change`
//!   withdraws approvals when the source changes. Default reviewers are added to new pull
//!   requests.
//! - **Files, downloads, logs and diffs**: a commit's files and directories (`format=meta`
//!   too; `…/src` alone lists the main branch's root), a file's history (following renames),
//!   commits made through `POST …/src` (multipart), downloads uploaded and served through
//!   a redirect to a storage host on a second loopback origin (so are issue attachments)
//!   ([`LocalBitbucket::storage_origin`], which refuses credentials), step logs (the build
//!   container's, too) that grow by a line on each read while the step runs (with `Range`)
//!   and are a 307 to storage once done, and `git diff` / `format-patch` text between
//!   commits; a pull request's diff and patch are a 302 to the repository's, as on
//!   Bitbucket.
//! - **Bodies**: `type` fields, `{uuid}` ids, `links` whose hrefs point at this server,
//!   timestamps, and Bitbucket's error bodies (`{"type": "error", "error": {...}}`).
//! - **Pagination**: numbered pages (`page=2`, `size`, `previous`) on most lists; opaque
//!   cursors on commits and `/user/workspaces`; `pagelen` honoured up to 100; `next` links
//!   keep the request's other parameters. `q` filters and `sort` work on every list.
//! - **Auth**: only the tokens made here are accepted. [`LocalBitbucket::token`] makes an
//!   access token (`Bearer`, classic scopes); [`LocalBitbucket::api_token`] an API token
//!   (HTTP Basic with the account's email, granular scopes). Each operation needs the scopes
//!   `bitbucket_cloud::operations` lists for it: a request without valid credentials gets a
//!   401, one whose scopes fall short a 403 whose `detail` names the scopes `required` and
//!   `granted`.
//! - **Faults**: latency, a 429 with `Retry-After` after N requests, 5xx answers on chosen
//!   operations; see [`Fault`].
//! - **Webhooks**: `repo:push` (branches and tags created or deleted, pull requests merged,
//!   [`LocalBitbucket::push`]), `repo:fork`, `repo:updated` (name, description or language
//!   changed), `repo:commit_status_created` and `:updated`, `repo:commit_comment_created`,
//!   `pullrequest:created`,
//!   `:updated`, `:approved`, `:unapproved`, `:changes_request_created`,
//!   `:changes_request_removed`, `:fulfilled`, `:rejected`, `:comment_created`,
//!   `:comment_updated`, `:comment_deleted`, `:comment_resolved`, `:comment_reopened`,
//!   `issue:created`, `issue:updated` and `issue:comment_created` are POSTed to the
//!   repository's hooks and its workspace's, signed with `X-Hub-Signature` when the hook has
//!   a secret. See [`LocalBitbucket::deliveries`]. The
//!   `Debug` of a [`Delivery`] and of a [`ReceivedWebhook`] prints no secret: hook URLs'
//!   credentials are hidden, and bodies print through the redacting `Debug` of
//!   [`bitbucket_cloud::webhooks::Event`].
//!
//! # What it does not serve
//!
//! An operation of [`bitbucket_cloud::operations::ALL`] it has no handler for answers
//! `501 Not Implemented` with a Bitbucket-shaped error body naming it, never a 404 that reads
//! like missing data: ``bitbucket-cloud-local does not serve `delete_app` (DELETE
//! /addon) yet``. [`LocalBitbucket::serves`] and
//! [`LocalBitbucket::served_operations`] say which it serves; so does its README.
//!
//! There is no git: commits are made with [`LocalBitbucket::push`] (so no push is ever
//! forced, and `force` restrictions never refuse one). All accounts see all workspaces: the
//! first account owns them (`admin` on every repository), the others are members with
//! `write` unless a repository permission says otherwise; permissions are reported, not
//! enforced beyond scopes and branch restrictions. Groups ([`LocalBitbucket::create_group`])
//! have no members: they are named in permissions only. Anonymous requests are refused even
//! for public repositories. No clock runs anything: pipeline schedules are kept but never
//! fire, and runners never connect.
//!
//! # Bad input, and how much it keeps
//!
//! Nothing a request sends takes the server down: malformed JSON, a `q` filter nested too deep
//! (more than 32 parentheses), a page number out of range, or a `pagelen` that is not a number
//! get a 400 with Bitbucket's error body; a handler that fails answers 500 and the server goes
//! on. What it keeps is bounded: the request log keeps the last 10,000 requests and the
//! delivery log the last 10,000 deliveries, and at most 1,000 deliveries wait to be sent (one
//! more is logged as not sent). [`Builder`] changes each bound.
//!
//! # Why a separate crate
//!
//! The server's dependencies (axum, hyper's server side) stay out of the builds of programs
//! that use `bitbucket-cloud`: add this crate under `[dev-dependencies]` only.

#![warn(missing_docs)]

mod auth;
mod blobs;
mod clock;
mod diff;
mod errors;
mod faults;
mod filter;
mod ids;
mod openpgp;
mod paging;
mod receiver;
mod render;
mod routes;
mod seed;
mod store;
mod webhooks;

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bitbucket_cloud::{Operation, Scope};
use tokio::sync::oneshot;

pub use faults::Fault;
pub use receiver::{ReceivedWebhook, WebhookReceiver};
pub use seed::{Account, PushRefused};
pub use store::PipelineResult;
pub use webhooks::Delivery;

use auth::{Credential, Credentials, Grant};
use blobs::{Blobs, Storage};
use faults::Faults;
use render::Urls;
use routes::Routes;
use store::{Store, User};
use webhooks::Webhooks;

/// A running local Bitbucket. Stops when dropped.
///
/// See the [crate docs](crate) for what it serves.
pub struct LocalBitbucket {
    app: Arc<App>,
    addr: SocketAddr,
    /// Dropping it stops the server.
    _serving: oneshot::Sender<()>,
    /// Dropping it stops the storage host.
    _storage: oneshot::Sender<()>,
}

/// A request the server answered, as [`LocalBitbucket::requests`] lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServedRequest {
    /// The operation (`merge_pull_request`).
    pub operation: &'static str,
    /// The HTTP method.
    pub method: String,
    /// The path and query, e.g. `/2.0/repositories/acme/app/pullrequests?state=OPEN`.
    pub path: String,
    /// The status of the answer.
    pub status: u16,
}

/// How a [`LocalBitbucket`] starts: the bounds on what it keeps, and operations to withhold.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let bb = bitbucket_cloud_local::LocalBitbucket::builder()
///     .request_log_limit(100)
///     .delivery_queue_limit(10)
///     .start()
///     .await;
/// # let _ = bb; }
/// ```
#[derive(Clone, Debug)]
#[must_use]
pub struct Builder {
    request_log_limit: usize,
    delivery_log_limit: usize,
    delivery_queue_limit: usize,
    withheld: Vec<&'static str>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            request_log_limit: 10_000,
            delivery_log_limit: 10_000,
            delivery_queue_limit: 1_000,
            withheld: Vec::new(),
        }
    }
}

impl Builder {
    /// How many requests [`LocalBitbucket::requests`] keeps, the oldest dropped first
    /// (10,000 unless set; [`LocalBitbucket::requests_dropped`] counts those dropped).
    pub fn request_log_limit(mut self, requests: usize) -> Self {
        self.request_log_limit = requests;
        self
    }

    /// How many deliveries [`LocalBitbucket::deliveries`] keeps, the oldest dropped first
    /// (10,000 unless set).
    pub fn delivery_log_limit(mut self, deliveries: usize) -> Self {
        self.delivery_log_limit = deliveries;
        self
    }

    /// How many webhook deliveries may wait to be sent (1,000 unless set). A delivery beyond
    /// that is not sent; [`LocalBitbucket::deliveries`] lists it with no attempt and says why.
    pub fn delivery_queue_limit(mut self, deliveries: usize) -> Self {
        self.delivery_queue_limit = deliveries.max(1);
        self
    }

    /// Answers these operations 501, as it answers those it does not serve: to check that code
    /// copes when an operation is unavailable, or that a test uses no more than it means to.
    ///
    /// # Panics
    ///
    /// When a name is not an operation of `bitbucket_cloud::operations` (a typo would
    /// otherwise withhold nothing).
    pub fn withhold<'a>(mut self, operations: impl IntoIterator<Item = &'a str>) -> Self {
        for name in operations {
            let op = bitbucket_cloud::operations::by_name(name).unwrap_or_else(|| {
                panic!(
                    "Builder::withhold: `{name}` is not an operation of bitbucket-cloud \
                     (see bitbucket_cloud::operations::ALL)"
                )
            });
            self.withheld.push(op.name);
        }
        self
    }

    /// Starts the server (see [`LocalBitbucket::start`]).
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound; [`Builder::try_start`] returns the error instead.
    pub async fn start(self) -> LocalBitbucket {
        match self.try_start().await {
            Ok(bb) => bb,
            Err(e) => panic!("LocalBitbucket could not listen on 127.0.0.1: {e}"),
        }
    }

    /// Like [`Builder::start`], returning the error when no port can be bound.
    pub async fn try_start(self) -> std::io::Result<LocalBitbucket> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let web = format!("http://{addr}");
        // The storage host that downloads and finished step logs redirect to: another origin.
        let storage_listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let storage = Arc::new(Storage::new(format!(
            "http://{}",
            storage_listener.local_addr()?
        )));
        let owner = seed::default_owner();
        let app = Arc::new(App {
            store: Mutex::new(Store::new(owner)),
            credentials: Mutex::new(Credentials::default()),
            faults: Mutex::new(Faults::default()),
            requests: Mutex::new(RequestLog {
                kept: VecDeque::new(),
                limit: self.request_log_limit,
                dropped: 0,
            }),
            pipeline_result: Mutex::new(PipelineResult::default()),
            webhooks: Webhooks::start(self.delivery_queue_limit, self.delivery_log_limit),
            routes: Routes::new(&self.withheld),
            blobs: Mutex::new(Blobs::default()),
            storage: Arc::clone(&storage),
            urls: Urls {
                api: format!("{web}/2.0"),
                web,
            },
        });
        let router = routes::router(Arc::clone(&app));
        Ok(LocalBitbucket {
            app,
            addr,
            _serving: serve("LocalBitbucket", listener, router),
            _storage: serve(
                "LocalBitbucket's storage host",
                storage_listener,
                blobs::router(storage),
            ),
        })
    }
}

/// What the request handlers share.
pub(crate) struct App {
    store: Mutex<Store>,
    credentials: Mutex<Credentials>,
    faults: Mutex<Faults>,
    requests: Mutex<RequestLog>,
    pipeline_result: Mutex<PipelineResult>,
    webhooks: Webhooks,
    routes: Routes,
    /// Downloads and step logs.
    blobs: Mutex<Blobs>,
    /// The storage host they are served from.
    storage: Arc<Storage>,
    urls: Urls,
}

/// The last requests answered.
struct RequestLog {
    kept: VecDeque<ServedRequest>,
    limit: usize,
    dropped: u64,
}

/// Serves `router` on `listener` in the background until the returned sender is dropped.
/// `name` says whose server stopped, should it fail.
fn serve(
    name: &'static str,
    listener: tokio::net::TcpListener,
    router: axum::Router,
) -> oneshot::Sender<()> {
    let (serving, stop) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            // Resolves (with `Err`) when the sender is dropped.
            let _ = stop.await;
        });
        if let Err(e) = server.await {
            eprintln!("{name} stopped: {e}");
        }
    });
    serving
}

/// Locks `mutex`, ignoring poisoning: a panicking handler must not take the server down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn blobs(&self) -> MutexGuard<'_, Blobs> {
        lock(&self.blobs)
    }

    /// Adds `request` to the log, dropping the oldest beyond the limit.
    pub(crate) fn record(&self, request: ServedRequest) {
        let mut log = lock(&self.requests);
        if log.limit == 0 {
            log.dropped = log.dropped.saturating_add(1);
            return;
        }
        while log.kept.len() >= log.limit {
            log.kept.pop_front();
            log.dropped = log.dropped.saturating_add(1);
        }
        log.kept.push_back(request);
    }
}

impl LocalBitbucket {
    /// Starts a server on `127.0.0.1` on a free port, with one account (see
    /// [`LocalBitbucket::account`]) and nothing else. Must be called within a Tokio runtime.
    /// [`LocalBitbucket::builder`] sets bounds and withholds operations.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound; [`LocalBitbucket::try_start`] returns the error
    /// instead.
    pub async fn start() -> LocalBitbucket {
        Builder::default().start().await
    }

    /// Like [`LocalBitbucket::start`], returning the error when no port can be bound.
    pub async fn try_start() -> std::io::Result<LocalBitbucket> {
        Builder::default().try_start().await
    }

    /// A [`Builder`], to change what the server keeps or withhold operations.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// Whether the server serves the operation `name` (of `bitbucket_cloud::operations`);
    /// any other answers 501.
    ///
    /// ```
    /// use bitbucket_cloud_local::LocalBitbucket;
    /// assert!(LocalBitbucket::serves("merge_pull_request"));
    /// assert!(!LocalBitbucket::serves("no_such_operation"));
    /// ```
    pub fn serves(name: &str) -> bool {
        bitbucket_cloud::operations::by_name(name).is_some() && routes::serves(name)
    }

    /// The operations the server serves, in the order of `bitbucket_cloud::operations::ALL`
    /// (by name). Every other operation answers 501 naming itself.
    pub fn served_operations() -> impl Iterator<Item = &'static Operation> {
        bitbucket_cloud::operations::ALL
            .iter()
            .filter(|op| routes::serves(op.name))
    }

    /// The API root to give [`bitbucket_cloud::ClientBuilder::base_url`]:
    /// `http://127.0.0.1:PORT/2.0`.
    pub fn base_url(&self) -> String {
        self.app.urls.api.clone()
    }

    /// The origin of the storage host that downloads and finished step logs redirect to
    /// (`http://127.0.0.1:PORT`, another port than the API's), as Bitbucket redirects them
    /// to its storage. It refuses requests that carry an `Authorization` header.
    pub fn storage_origin(&self) -> &str {
        &self.app.storage.origin
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A new access token for the [account](LocalBitbucket::account) with these classic
    /// scopes, for [`bitbucket_cloud::Auth::access_token`] (sent as `Bearer`).
    ///
    /// Scopes imply others as on Bitbucket: a write scope its read scope, `pullrequest`
    /// `repository`, `pullrequest:write` `repository:write`.
    pub fn token(&self, scopes: &[Scope]) -> String {
        self.token_for(&self.account(), scopes)
    }

    /// A new access token for `account` (see [`LocalBitbucket::add_account`]).
    ///
    /// # Panics
    ///
    /// When `account` belongs to another server.
    pub fn token_for(&self, account: &Account, scopes: &[Scope]) -> String {
        let secret = format!("ATCTT3xLocal{}", ids::hex(uuid::Uuid::new_v4().as_bytes()));
        self.register(&secret, account, Grant::Classic(scopes.to_vec()));
        secret
    }

    /// A new API token for the [account](LocalBitbucket::account) with these granular
    /// scopes (`read:pullrequest:bitbucket`, ...), for
    /// [`bitbucket_cloud::Auth::api_token`] together with the account's email.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let bb = bitbucket_cloud_local::LocalBitbucket::start().await;
    /// let token = bb.api_token(&["read:user:bitbucket"]);
    /// let auth = bitbucket_cloud::Auth::api_token(bb.account().email, token);
    /// # let _ = auth; }
    /// ```
    pub fn api_token(&self, scopes: &[&str]) -> String {
        self.api_token_for(&self.account(), scopes)
    }

    /// A new API token for `account`.
    ///
    /// # Panics
    ///
    /// When `account` belongs to another server.
    pub fn api_token_for(&self, account: &Account, scopes: &[&str]) -> String {
        let secret = format!("ATATT3xLocal{}", ids::hex(uuid::Uuid::new_v4().as_bytes()));
        self.register(
            &secret,
            account,
            Grant::Granular {
                email: account.email.clone(),
                scopes: scopes.iter().map(|s| s.to_string()).collect(),
            },
        );
        secret
    }

    fn register(&self, secret: &str, account: &Account, grant: Grant) {
        let Some(user) = self.app.store().user_index(&account.uuid) else {
            panic!(
                "{} ({}) is not an account of this LocalBitbucket: use one from \
                 LocalBitbucket::account or LocalBitbucket::add_account",
                account.display_name, account.uuid
            );
        };
        lock(&self.app.credentials).add(secret.to_string(), Credential { user, grant });
    }

    /// Revokes a token: requests with it get a 401 from now on. Returns whether it existed.
    pub fn revoke(&self, token: &str) -> bool {
        lock(&self.app.credentials).revoke(token)
    }

    /// The account the tokens of [`LocalBitbucket::token`] and
    /// [`LocalBitbucket::api_token`] belong to (`GET /user`).
    pub fn account(&self) -> Account {
        Account::from(&self.app.store().users[0])
    }

    /// Adds another account (a reviewer, a bot), for [`LocalBitbucket::token_for`].
    pub fn add_account(&self, nickname: &str, display_name: &str) -> Account {
        let user = User {
            uuid: ids::uuid(),
            account_id: ids::account_id(),
            nickname: nickname.to_string(),
            display_name: display_name.to_string(),
            email: format!("{nickname}@example.com"),
            created_on: clock::now(),
        };
        let account = Account::from(&user);
        self.app.store().users.push(user);
        account
    }

    /// Adds a fault. Faults stay until [`LocalBitbucket::clear_faults`] (a
    /// [`Fault::server_error`] also ends once used up).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use bitbucket_cloud_local::{Fault, LocalBitbucket};
    /// let bb = LocalBitbucket::start().await;
    /// bb.inject(Fault::server_error("merge_pull_request").status(503));
    /// # }
    /// ```
    pub fn inject(&self, fault: Fault) {
        lock(&self.app.faults).add(fault);
    }

    /// Removes every fault.
    pub fn clear_faults(&self) {
        lock(&self.app.faults).clear();
    }

    /// How pipelines run from now on end (when not stopped): `SUCCESSFUL` by default.
    pub fn set_pipeline_result(&self, result: PipelineResult) {
        *lock(&self.app.pipeline_result) = result;
    }

    /// The API requests answered so far that matched an operation, oldest first: the last
    /// 10,000 (see [`Builder::request_log_limit`]).
    pub fn requests(&self) -> Vec<ServedRequest> {
        lock(&self.app.requests).kept.iter().cloned().collect()
    }

    /// How many requests [`LocalBitbucket::requests`] no longer lists, having kept its limit.
    pub fn requests_dropped(&self) -> u64 {
        lock(&self.app.requests).dropped
    }

    /// The webhook deliveries made so far, oldest first: the last 10,000 (see
    /// [`Builder::delivery_log_limit`]). Deliveries are made in the background;
    /// [`LocalBitbucket::webhooks_idle`] waits for those under way.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.app.webhooks.log()
    }

    /// Resolves once every webhook delivery queued so far has been made (or given up after
    /// its attempts).
    pub async fn webhooks_idle(&self) {
        self.app.webhooks.idle().await
    }
}

impl std::fmt::Debug for LocalBitbucket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalBitbucket")
            .field("base_url", &self.app.urls.api)
            .finish_non_exhaustive()
    }
}
