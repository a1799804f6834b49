//! The integration tests of `bitbucket-cloud`, in one test binary: each used to be a binary of
//! its own, and each linked the whole crate (see issue 11 item 9). A module per subject; the
//! shared helpers are in `support`.
//!
//! Two stay binaries of their own: `tests/from_env.rs` changes the process environment, which
//! the other tests read (every HTTP client looks up proxy variables when it is built); and
//! `tests/audit_events.rs` needs `tracing`'s callsites to itself (with other tests' scoped
//! subscribers registering the same callsites at the same time, it lost events now and then).
//!
//! `cargo test --test api MODULE::` runs one module; `.ci/contract.sh` runs `contract::`.

mod cases;
mod support;

mod auth;
mod contract;
mod dynamic;
mod errors;
mod fixtures;
mod hardening;
mod operations;
mod pagination;
mod policy;
mod redirects;
mod request_bodies;
mod retries;
mod scopes;
mod stateful;
mod tour;
mod tracing;
mod webhooks;
#[cfg(feature = "axum")]
mod webhooks_axum;
mod webhooks_fuzz;
mod webhooks_hooks;
