//! A typed async client for the [Bitbucket Cloud REST API 2.0], generated from Atlassian's
//! official OpenAPI document and made trustworthy by a hand-written overlay: authentication,
//! errors that say what to do, retries and rate limits, pagination streams, scopes and access
//! policy, and webhooks.
//!
//! ```no_run
//! use bitbucket_cloud::{Auth, Client};
//!
//! # async fn run() -> Result<(), bitbucket_cloud::Error> {
//! let client = Client::builder()
//!     .auth(Auth::api_token("me@example.com", "ATATT..."))
//!     .build()?;
//! let me = client.get_current_user().send().await?;
//! println!("hello, {}", me.display_name.unwrap_or_default());
//!
//! let open = client
//!     .repo("my-workspace", "my-repo")
//!     .list_pull_requests()
//!     .state(vec![bitbucket_cloud::types::PullRequestState::Open])
//!     .send()
//!     .await?;
//! for pr in open.values.unwrap_or_default() {
//!     println!("#{} {}", pr.id.unwrap_or_default(), pr.title.unwrap_or_default());
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Every operation is a method on [`Client`] returning a builder (see [`builder`]); `send()`
//! returns the decoded value or an [`Error`]. Types are in [`types`], named after the
//! document's schemas. They accept what the real API sends: every field is optional, unknown
//! fields are kept in `extra`, and enums keep values they do not list in `Other`.
//!
//! Calls are authenticated with an [`Auth`] (API token, access token, [`OAuth`], anonymous),
//! retried as the [`retry::RetryConfig`] allows (429s, and 5xx and connection failures of
//! idempotent requests), and fail with an [`Error`] whose hint says what to do.
//!
//! # Least privilege
//!
//! Each operation knows its OAuth scopes: [`operations`] lists them all, and
//! [`scopes::required_for`] gives the least a token needs for the operations a bot calls. A
//! [`Policy`] set on the client ([`ClientBuilder::policy`]) refuses, before anything is sent,
//! whatever the bot should not do, and every request leaves an [`audit::AuditRecord`].
//!
//! ```
//! use bitbucket_cloud::{Client, Scope, policy::Policy, scopes};
//!
//! let needs = scopes::required_for(["list_pull_requests", "merge_pull_request"])?;
//! assert_eq!(needs.classic, [Scope::PullrequestWrite]);
//!
//! let client = Client::builder()
//!     .agent("release-bot")
//!     .policy(
//!         Policy::deny_all()
//!             .allow_operations(["list_pull_requests", "merge_pull_request"])
//!             .only_in("my-workspace/my-repo"),
//!     )
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Any operation, as JSON
//!
//! [`Client::operation`] calls any operation of [`operations`] with its parameters as data and
//! its answer as JSON, through the same policy, credentials, retries and audit as the typed
//! builders: see [`dynamic`]. With the feature `openapi`, [`openapi::DOCUMENT`] is the OpenAPI
//! document the client is generated from, for the schemas of those parameters and bodies.
//!
//! # Webhooks
//!
//! [`webhooks`] receives Bitbucket's webhook deliveries: it checks their signatures and types
//! their events (with an `axum` extractor behind the feature `axum`).
//!
//! [Bitbucket Cloud REST API 2.0]: https://developer.atlassian.com/cloud/bitbucket/rest/intro/
// Without the feature, the item is not in this build's docs: the link goes to docs.rs, which
// builds every feature.
#![cfg_attr(
    not(feature = "openapi"),
    doc = "[`openapi::DOCUMENT`]: https://docs.rs/bitbucket-cloud/latest/bitbucket_cloud/openapi/constant.DOCUMENT.html"
)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without any API feature, most of the overlay serves nothing.
#![cfg_attr(bitbucket_no_operations, allow(dead_code, unused_imports))]

mod generated;

mod admission;
pub mod audit;
pub mod auth;
pub mod body;
mod client;
pub mod dynamic;
pub mod error;
#[cfg(bitbucket_form_bodies)]
mod form;
mod handles;
#[cfg(feature = "pipelines")]
#[cfg_attr(docsrs, doc(cfg(feature = "pipelines")))]
pub mod logs;
#[cfg(feature = "openapi")]
pub mod openapi;
pub mod operations;
// The streams serve the generated lists, of which a build may have none.
#[cfg_attr(not(bitbucket_lists), allow(dead_code))]
pub mod pagination;
pub mod policy;
// Shared with bitbucket-data-center (the `bitbucket-core` crate).
pub use bitbucket_core::{completion, rate_limit, retry};
use bitbucket_core::{endpoint, redact};
#[cfg(test)]
mod properties;
pub mod scopes;
#[cfg(feature = "source")]
#[cfg_attr(docsrs, doc(cfg(feature = "source")))]
pub mod source;
mod transport;
#[cfg(any(feature = "source", feature = "downloads"))]
pub mod upload;
pub mod webhooks;

pub use auth::{Auth, OAuth, OAuthTokens};
pub use client::ClientBuilder;
pub use completion::Completion;
pub use error::Error;
pub use handles::{RepoHandle, WorkspaceHandle};
pub use operations::Operation;
pub use policy::Policy;
pub use scopes::Scope;

/// The Bitbucket Cloud client: every supported operation is a method returning a builder.
///
/// Build one with [`Client::builder`] or [`Client::from_env`]. Cloning is cheap and clones
/// share their connection pool, credentials and rate-limit state.
///
/// ```no_run
/// # async fn run() -> Result<(), bitbucket_cloud::Error> {
/// let client = bitbucket_cloud::Client::from_env()?;
/// let repo = client.repo("my-workspace", "my-repo").get_repository().send().await?;
/// println!("{}", repo.full_name.unwrap_or_default());
/// # Ok(())
/// # }
/// ```
pub use generated::Client;

/// Builders for every operation, returned by the methods of [`Client`]. Set parameters with
/// their methods, then call `send()`; paginated operations also have `stream()` and `pages()`.
pub use generated::builder;

/// The document's schemas as Rust types (`pullrequest` is [`types::PullRequest`]). Those an
/// operation uses come with its feature (see the crate's features); the docs say which.
///
/// They are tolerant of what Bitbucket really sends: every field is an `Option`, fields the
/// document does not list are kept in `extra` (so decoding then encoding loses nothing), as is
/// a field whose value does not fit its declared type (with a `tracing` warning that names it),
/// and each enum has an `Other(String)` variant for values added later. Structs implement
/// `Default`, so request bodies are written as `Type { field: Some(..), ..Default::default() }`.
/// A field holding another struct is an `Option<Box<_>>`: nested
/// inline, a pull request would weigh kilobytes and its decoding half a megabyte of stack in a
/// debug build; boxed, it weighs 360 bytes.
///
/// ```
/// use bitbucket_cloud::types::{PullRequestBranch, PullRequest, PullRequestEndpoint};
///
/// let body = PullRequest {
///     title: Some("Add the feature".into()),
///     source: Some(Box::new(PullRequestEndpoint {
///         branch: Some(Box::new(PullRequestBranch { name: Some("feature".into()), ..Default::default() })),
///         ..Default::default()
///     })),
///     ..Default::default()
/// };
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     serde_json::json!({"title": "Add the feature", "source": {"branch": {"name": "feature"}}}),
/// );
/// ```
pub use generated::types;
