//! Helpers shared by the integration tests: a client pointed at a loopback server, with short
//! backoffs so that retry tests stay fast.

#![allow(dead_code)] // each test file uses a different part

use std::time::Duration;

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client};
use wiremock::MockServer;

/// Retries as by default, but with millisecond backoffs.
pub fn fast_retries() -> RetryConfig {
    RetryConfig::default()
        .max_retries(3)
        .backoff(Duration::from_millis(1), Duration::from_millis(5))
}

/// A client for `server` with `auth` and fast retries.
pub fn client(server: &MockServer, auth: Auth) -> Client {
    Client::builder()
        .base_url(server.uri())
        .auth(auth)
        .retry(fast_retries())
        .build()
        .expect("the test client builds")
}

/// A recorded body from `tests/fixtures/real/responses/`.
pub fn fixture(name: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/real/responses/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// How many requests `server` received for `path`.
pub async fn hits(server: &MockServer, path: &str) -> usize {
    server
        .received_requests()
        .await
        .expect("request recording is on")
        .iter()
        .filter(|r| r.url.path() == path)
        .count()
}
