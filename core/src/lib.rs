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
//! - [`redact`]: what `Debug` never prints.
//!
//! The crates' transports, built on these, are not here yet (see the workspace README).

#![warn(missing_docs)]

pub mod completion;
#[doc(hidden)]
pub mod endpoint;
pub mod rate_limit;
#[doc(hidden)]
pub mod redact;
pub mod retry;
pub mod signature;
