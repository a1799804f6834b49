//! What the client records with `tracing`: one span per request with the operation, method,
//! path template, attempt, status and duration; never a secret nor the query string.

use crate::support;

use std::time::{Duration, SystemTime};

use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, OAuth, OAuthTokens};
use serde_json::json;
use support::capture::Capture;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

#[tokio::test]
async fn one_span_per_request_without_secrets_or_query() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/site/oauth2/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "fresh-access-s3cret", "refresh_token": "refresh-2-s3cret",
            "expires_in": 7200
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/ws"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"values": []}))
                .insert_header("X-RateLimit-NearLimit", "true"),
        )
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .auth(Auth::oauth(
            OAuth::new("consumer-key", "consumer-s3cret")
                .token_url(format!("{}/site/oauth2/access_token", server.uri()))
                .tokens(
                    OAuthTokens::new("expired-access-s3cret")
                        .with_refresh_token("refresh-1-s3cret")
                        .with_expires_at(SystemTime::now() - Duration::from_secs(1)),
                ),
        ))
        .retry(RetryConfig::default().backoff(Duration::from_millis(1), Duration::from_millis(2)))
        .build()
        .unwrap();

    let capture = Capture::default();
    let guard = tracing::subscriber::set_default(capture.clone());
    client
        .list_repositories()
        .workspace("ws")
        .q("name ~ \"query-s3cret\"")
        .send()
        .await
        .unwrap();
    drop(guard);

    let requests = capture.spans("bitbucket.request");
    assert_eq!(requests.len(), 1, "one span per call");
    let field = |name: &str| -> Vec<&str> {
        requests[0]
            .iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(field("operation"), ["\"list_repositories\""]);
    assert_eq!(field("method"), ["GET"]);
    assert_eq!(field("path"), ["\"/repositories/{workspace}\""]);
    assert_eq!(
        field("attempt"),
        ["1", "2"],
        "the attempt is recorded as it goes"
    );
    assert_eq!(field("status"), ["503", "200"]);
    assert_eq!(field("duration_ms").len(), 1);

    let everything = capture.text();
    assert!(
        everything.contains("rate limit is near"),
        "the near-limit warning"
    );
    assert!(
        !everything.contains("s3cret"),
        "a secret was recorded: {everything}"
    );
    assert!(
        !everything.contains("pagelen="),
        "a query string was recorded: {everything}"
    );
}
