//! A typed async client for the [Bitbucket Data Center](https://www.atlassian.com/software/bitbucket/enterprise)
//! REST API (9.4), generated from Atlassian's OpenAPI document, with the same overlay as
//! [`bitbucket-cloud`](https://docs.rs/bitbucket-cloud) where the products agree.
//!
//! Every operation of the document (546) is a method of [`Client`] returning a builder; set
//! its parameters, then `send()`. Lists also have `stream()` (every item across pages) and
//! `pages()`. Names are the document's `operationId` in snake case, reviewed where upstream's
//! is unclear or clashes (`data-center/spec/operations.toml`).
//!
//! ```no_run
//! # async fn run() -> Result<(), bitbucket_data_center::Error> {
//! use bitbucket_data_center::{Auth, Client};
//! use futures_util::TryStreamExt as _;
//!
//! let client = Client::builder()
//!     .server_url("https://bitbucket.example.com")
//!     .auth(Auth::bearer("an HTTP access token"))
//!     .build()?;
//! let repos: Vec<_> = client
//!     .get_repositories_recently_accessed()
//!     .stream()
//!     .try_collect()
//!     .await?;
//! println!("{} repositories", repos.len());
//! # Ok(())
//! # }
//! ```
//!
//! # What it shares with `bitbucket-cloud`
//!
//! The generator (`generator/`), retries ([`retry`]), rate-limit headers ([`rate_limit`]),
//! the base-URL rules (`https://`, or loopback, or [`ClientBuilder::danger_accept_http`]),
//! redaction of secrets in `Debug`, webhook signatures ([`webhooks::verify`]),
//! [`Completion`], the matching of request paths against operation templates
//! ([`Operation::match_path`]), the audit records ([`audit`]), streamed bodies ([`body`]),
//! uploads ([`upload`]), the transport loop (attempts, credentials, retries, one audit record
//! per attempt), the error type ([`Error`], [`error::ApiError`]) and the page streams behind
//! [`pagination`] (ordered concurrent pages, bounded memory, limits, resume cursors) come from
//! the workspace's `bitbucket-core`. This crate gives Data Center's admission, error body and
//! hints, permissions and policy, and its `start`/`limit` paging strategy.
//!
//! # Permissions
//!
//! Each operation knows the permission it needs ([`Operation::permission`], from the
//! document's descriptions and Atlassian's documentation), and a [`Policy`] set on the client
//! decides before any request leaves whether the caller may send it.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Without any API feature, most of the overlay serves nothing.
#![cfg_attr(bitbucket_no_operations, allow(dead_code, unused_imports))]

mod generated;

pub mod audit;
pub mod auth;
pub mod body;
mod client;
pub mod error;
pub mod operations;
#[cfg_attr(not(bitbucket_lists), allow(dead_code))]
pub mod pagination;
pub mod permission;
pub mod policy;
mod transport;
pub mod upload;
pub mod webhooks;

// Shared with bitbucket-cloud (the `bitbucket-core` crate).
pub use bitbucket_core::{completion, rate_limit, retry};
use bitbucket_core::{endpoint, redact};

pub use auth::Auth;
pub use client::ClientBuilder;
pub use completion::Completion;
pub use error::Error;
pub use operations::Operation;
pub use permission::Permission;
pub use policy::Policy;

/// The Bitbucket Data Center client: every operation is a method returning a builder.
///
/// Build one with [`Client::builder`] or [`Client::from_env`]. Cloning is cheap; clones share
/// their connection pool, credentials and rate-limit state.
pub use generated::Client;

/// Builders for every operation, returned by the methods of [`Client`].
pub use generated::builder;

/// The document's schemas as Rust types (`RestPullRequest`, `RestRepository`, ...). Every
/// field is an `Option`, fields the document does not list are kept in `extra`, and each enum
/// has an `Other(String)` variant, so what a server sends decodes without loss.
pub use generated::types;
