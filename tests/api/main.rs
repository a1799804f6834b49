//! The integration tests of `bitbucket-cloud`, in one test binary: each used to be a binary of
//! its own, and each linked the whole crate (see issue 11 item 9). A module per subject; the
//! shared helpers are in `support`.
//!
//! Only `tests/from_env.rs` stays a binary of its own: it changes the process environment,
//! which the other tests read (every HTTP client looks up proxy variables when it is built).
//!
//! `cargo test --test api MODULE::` runs one module; `.ci/contract.sh` runs `contract::`.

mod cases;
mod support;

mod audit_events;
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
