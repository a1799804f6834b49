//! What the workspace's API crates share, whatever the product: `bitbucket-cloud` and
//! `bitbucket-data-center` re-export these modules, so users meet them as
//! `bitbucket_cloud::retry::RetryConfig` or `bitbucket_data_center::retry::RetryConfig`.
//!
//! - [`retry`]: when a failed attempt is repeated, and after how long;
//! - [`rate_limit`]: the `X-RateLimit-*` and `Retry-After` headers;
//! - [`signature`]: webhook signatures (`X-Hub-Signature: sha256=...`, the same in both
//!   products);
//! - [`completion`]: an answer that may still be running (`202 Accepted`);
//! - [`endpoint`]: which base URLs credentials may go to (https, or loopback, or opted in);
//! - [`redact`]: what `Debug` never prints;
//! - [`body`]: an answer's body read as it arrives (`send_streaming()`);
//! - [`audit`]: the record of every request a client sends or its policy refuses;
//! - [`path`]: request paths matched against operation templates;
//! - [`policy`]: the decision taken on each request before it leaves;
//! - [`upload`]: files sent as `multipart/form-data`;
//! - [`pagination`]: the page streams behind `pages()`, `stream()` and `resume(cursor)`
//!   (ordered concurrent pages, bounded memory, limits, resume cursors, loop detection), over
//!   each product's paging strategy;
//! - [`error`]: the error type ([`error::Error`], [`error::ApiError`]), each product adding
//!   its error body and hints;
//! - [`transport`]: the attempt and retry loop every request goes through, each product
//!   supplying its admission, credentials and errors.

#![warn(missing_docs)]

pub mod audit;
pub mod body;
pub mod completion;
#[doc(hidden)]
pub mod endpoint;
pub mod error;
pub mod pagination;
pub mod path;
pub mod policy;
pub mod rate_limit;
#[doc(hidden)]
pub mod redact;
pub mod retry;
pub mod signature;
pub mod transport;
pub mod upload;

#[doc(hidden)]
pub use tracing as __tracing;
