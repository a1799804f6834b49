//! Injected faults, and how the client copes with them: latency, 429 with `Retry-After`,
//! 5xx on chosen operations.

mod common;

use std::time::{Duration, Instant};

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Scope};
use bitbucket_cloud_local::{Fault, LocalBitbucket};

fn retrying(bb: &LocalBitbucket) -> Client {
    Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(Scope::ALL)))
        .retry(RetryConfig::default().backoff(Duration::from_millis(10), Duration::from_millis(50)))
        .build()
        .unwrap()
}

fn statuses(bb: &LocalBitbucket, operation: &str) -> Vec<u16> {
    bb.requests()
        .into_iter()
        .filter(|r| r.operation == operation)
        .map(|r| r.status)
        .collect()
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let bb = LocalBitbucket::start().await;
    bb.inject(Fault::latency(Duration::from_millis(300)));
    let client = common::admin(&bb);
    let started = Instant::now();
    client.get_current_user().send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );

    bb.clear_faults();
    let started = Instant::now();
    client.get_current_user().send().await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[tokio::test]
async fn rate_limit_after_n_requests() {
    let bb = LocalBitbucket::start().await;
    bb.inject(Fault::rate_limit_after(2).retry_after(Duration::from_secs(1)));
    let strict = common::admin(&bb);
    strict.get_current_user().send().await.unwrap();
    strict.get_current_user().send().await.unwrap();
    let error = strict.get_current_user().send().await.unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status().as_u16(), 429);
    assert_eq!(api.retry_after(), Some(Duration::from_secs(1)));
    assert_eq!(api.headers()["retry-after"], "1");
    assert_eq!(
        api.message(),
        Some("Rate limit for this resource has been exceeded")
    );
    assert!(api.rate_limit().unwrap().near_limit);

    // A retrying client waits as asked, then gets through.
    let patient = retrying(&bb);
    let started = Instant::now();
    patient.get_current_user().send().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(statuses(&bb, "get_current_user"), [200, 200, 429, 429, 200]);
}

#[tokio::test]
async fn server_errors_on_chosen_operations() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.inject(Fault::server_error("get_repository").status(503).times(2));
    let client = retrying(&bb);

    // Other operations are unaffected.
    client.get_current_user().send().await.unwrap();
    // A GET is retried through the two failures.
    let repo = client
        .repo("acme", "app")
        .get_repository()
        .send()
        .await
        .unwrap();
    assert_eq!(repo.full_name.as_deref(), Some("acme/app"));
    assert_eq!(statuses(&bb, "get_repository"), [503, 503, 200]);
}

#[tokio::test]
async fn a_failed_post_is_not_repeated_and_did_not_happen() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    bb.inject(Fault::server_error("create_branch"));
    let client = retrying(&bb);
    let repo = client.repo("acme", "app");
    let error = repo
        .create_branch()
        .body(common::body::<bitbucket_cloud::types::Branch>(
            serde_json::json!({ "name": "topic", "target": { "hash": head } }),
        ))
        .send()
        .await
        .unwrap_err();
    let api = error.api().unwrap();
    assert_eq!(api.status().as_u16(), 500);
    assert_eq!(api.message(), Some("Something went wrong"));
    assert_eq!(
        statuses(&bb, "create_branch"),
        [500],
        "POST is never retried"
    );
    assert!(repo.get_branch().name("topic").send().await.is_err());
}
