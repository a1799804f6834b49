//! Retries and rate limits over real HTTP on loopback: `Retry-After`, the time budget, 5xx
//! and connection failures retried for idempotent methods only, and the rate-limit headers.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Error, types};
use serde_json::json;
use support::{client, fast_retries, hits, retrying_client};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PR: &str = "/repositories/ws/app/pullrequests/7";
const APPROVE: &str = "/repositories/ws/app/pullrequests/7/approve";
const PRS: &str = "/repositories/ws/app/pullrequests";

fn ok_user() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"type": "user", "display_name": "Bot"}))
}

fn anonymous(server: &MockServer) -> Client {
    client(server, Auth::anonymous())
}

/// `verb path` answers `first` the first `times` times, then `then`.
async fn first_then(
    server: &MockServer,
    verb: &str,
    at: &str,
    (first, times): (ResponseTemplate, u64),
    then: ResponseTemplate,
) {
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(first)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method(verb))
        .and(path(at))
        .respond_with(then)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_429_with_retry_after_1_waits_about_a_second_and_succeeds() {
    let server = MockServer::start().await;
    first_then(
        &server,
        "GET",
        "/user",
        (
            ResponseTemplate::new(429).insert_header("Retry-After", "1"),
            1,
        ),
        ok_user(),
    )
    .await;

    let started = Instant::now();
    let user = anonymous(&server).get_current_user().send().await.unwrap();
    let waited = started.elapsed();
    assert_eq!(user.display_name.as_deref(), Some("Bot"));
    assert_eq!(hits(&server, "/user").await, 2);
    // Loose bounds: the wait is about the second the server asked for (plus jitter <= 1 s).
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    assert!(waited < Duration::from_secs(5), "{waited:?}");
}

#[tokio::test]
async fn a_wait_past_the_budget_is_not_started() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "30")
                .insert_header("X-RateLimit-Limit", "1000")
                .insert_header("X-RateLimit-Resource", "api")
                .set_body_string("Rate limit for this resource has been exceeded"),
        )
        .mount(&server)
        .await;
    let client = retrying_client(
        &server,
        RetryConfig::default().budget(Duration::from_secs(5)),
    );

    let started = Instant::now();
    let error = client.get_current_user().send().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "did not wait 30 s"
    );
    assert_eq!(hits(&server, "/user").await, 1);
    let api = error.api().expect("the 429 itself");
    assert_eq!(api.status(), 429);
    assert_eq!(api.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(api.headers()["x-ratelimit-resource"], "api");
    assert_eq!(
        api.raw_body(),
        "Rate limit for this resource has been exceeded"
    );
    let text = error.to_string();
    assert!(text.contains("asked to wait 30 s"), "{text}");
    assert!(text.contains("1000 requests/hour for `api`"), "{text}");
    assert!(text.contains("retry budget of 5.0 s"), "{text}");
}

#[tokio::test]
async fn repeated_429s_stop_within_the_budget() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(429))
        .mount(&server)
        .await;
    let budget = Duration::from_millis(600);
    let client = retrying_client(
        &server,
        RetryConfig::default()
            .max_retries(100)
            .backoff(Duration::from_millis(50), Duration::from_millis(200))
            .budget(budget),
    );

    let started = Instant::now();
    let error = client.get_current_user().send().await.unwrap_err();
    let spent = started.elapsed();
    assert!(spent <= budget + Duration::from_millis(300), "{spent:?}");
    let attempts = hits(&server, "/user").await;
    assert!(attempts >= 3, "retried within the budget: {attempts}");
    assert_eq!(error.api().unwrap().attempts() as usize, attempts);
    assert!(error.to_string().contains("RetryConfig::budget"), "{error}");
}

#[tokio::test]
async fn a_503_is_retried_for_get() {
    let server = MockServer::start().await;
    first_then(
        &server,
        "GET",
        PR,
        (ResponseTemplate::new(503), 2),
        ResponseTemplate::new(200).set_body_json(json!({"id": 7})),
    )
    .await;
    let client = anonymous(&server);
    let pr = client
        .repo("ws", "app")
        .get_pull_request()
        .pull_request_id(7)
        .send()
        .await
        .unwrap();
    assert_eq!(pr.id, Some(7));
    assert_eq!(hits(&server, PR).await, 3);
}

#[tokio::test]
async fn a_503_that_lasts_is_returned_after_max_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PR))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream unavailable"))
        .mount(&server)
        .await;
    let error = anonymous(&server)
        .repo("ws", "app")
        .get_pull_request()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    // fast_retries() allows 3 retries: 4 attempts.
    assert_eq!(hits(&server, PR).await, 4);
    let api = error.api().unwrap();
    assert_eq!((api.status().as_u16(), api.attempts()), (503, 4));
    let text = error.to_string();
    assert!(
        text.starts_with(
            "get_pull_request: 503 Service Unavailable (after 4 attempts): upstream unavailable"
        ),
        "{text}"
    );
    assert!(text.contains("gave up after 3 retries"), "{text}");
}

#[tokio::test]
async fn a_503_is_not_retried_for_post() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(APPROVE))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let error = anonymous(&server)
        .repo("ws", "app")
        .approve_pull_request()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    assert_eq!(hits(&server, APPROVE).await, 1);
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    let text = error.to_string();
    assert!(text.contains("never repeated automatically"), "{text}");
}

#[tokio::test]
async fn a_429_is_retried_even_for_post() {
    // Bitbucket did not process a rate-limited request, so repeating it is safe.
    let server = MockServer::start().await;
    first_then(
        &server,
        "POST",
        PRS,
        (ResponseTemplate::new(429), 1),
        ResponseTemplate::new(201).set_body_json(json!({"id": 8})),
    )
    .await;
    let pr = anonymous(&server)
        .repo("ws", "app")
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Fix".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(pr.id, Some(8));
    assert_eq!(hits(&server, PRS).await, 2);
}

#[tokio::test]
async fn retries_can_be_switched_off() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .mount(&server)
        .await;
    let client = retrying_client(&server, RetryConfig::disabled());
    let error = client.get_current_user().send().await.unwrap_err();
    assert_eq!(hits(&server, "/user").await, 1);
    assert!(error.to_string().contains("switched off"), "{error}");

    let no_5xx = retrying_client(&server, fast_retries().retry_server_errors(false));
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    no_5xx.get_current_user().send().await.unwrap_err();
    assert_eq!(hits(&server, "/user").await, 1);
}

/// A server that accepts connections and closes them at once, counting them.
async fn hang_up_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (format!("http://{address}"), accepted)
}

#[tokio::test]
async fn connection_failures_are_retried_for_get_only() {
    let (url, accepted) = hang_up_server().await;
    let client = Client::builder()
        .base_url(&url)
        .retry(fast_retries())
        .build()
        .unwrap();

    let error = client.get_current_user().send().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Transport {
                timed_out: false,
                operation: "get_current_user",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("could not reach Bitbucket"),
        "{error}"
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 4, "1 attempt + 3 retries");

    accepted.store(0, Ordering::SeqCst);
    let error = client
        .repo("ws", "app")
        .approve_pull_request()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 1, "a POST is sent once");
}

#[tokio::test]
async fn a_timeout_says_so() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(ok_user().set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .timeout(Duration::from_millis(200))
        .retry(RetryConfig::disabled())
        .build()
        .unwrap();
    let error = client.get_current_user().send().await.unwrap_err();
    assert!(
        matches!(
            error,
            Error::Transport {
                timed_out: true,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("no answer within the time limit"),
        "{error}"
    );
}

#[tokio::test]
async fn rate_limit_headers_are_kept_on_the_client() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user"))
        .respond_with(
            ok_user()
                .insert_header("X-RateLimit-Limit", "1000")
                .insert_header("X-RateLimit-Resource", "api")
                .insert_header("X-RateLimit-NearLimit", "true"),
        )
        .mount(&server)
        .await;
    let client = anonymous(&server);
    assert_eq!(client.rate_limit(), None);
    client.get_current_user().send().await.unwrap();
    let state = client.rate_limit().expect("headers seen");
    assert_eq!(state.limit, Some(1000));
    assert_eq!(state.resource.as_deref(), Some("api"));
    assert!(state.near_limit);
    // Clones share the state.
    assert_eq!(client.clone().rate_limit(), Some(state));
}
