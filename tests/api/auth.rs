//! Authentication over real HTTP on loopback: the exact `Authorization` header of each
//! credential, and OAuth renewal (before expiry, once after a 401, one at a time however many
//! requests wait, refused refresh tokens).

use crate::support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use bitbucket_cloud::{Auth, Client, Error, OAuth, OAuthTokens};
use serde_json::json;
use support::{client, hits};
use wiremock::matchers::{body_string, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const TOKEN_PATH: &str = "/site/oauth2/access_token";
/// base64("consumer-key:consumer-secret")
const CONSUMER_BASIC: &str = "Basic Y29uc3VtZXIta2V5OmNvbnN1bWVyLXNlY3JldA==";

fn user() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"type": "user", "display_name": "Bot"}))
}

fn unauthorized() -> ResponseTemplate {
    ResponseTemplate::new(401)
        .set_body_json(json!({"type": "error", "error": {"message": "Access token expired."}}))
}

fn tokens_answer(access: &str, refresh: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "access_token": access,
        "refresh_token": refresh,
        "expires_in": 7200,
        "scopes": "account pullrequest:write",
        "token_type": "bearer",
    }))
}

/// `POST` to the consumer's token endpoint (see [`consumer`]).
fn token_endpoint() -> MockBuilder {
    Mock::given(method("POST")).and(path(TOKEN_PATH))
}

/// `GET /user`.
fn get_user() -> MockBuilder {
    Mock::given(method("GET")).and(path("/user"))
}

/// Answers `GET /user` as the bot, whatever the credentials.
async fn serve_user(server: &MockServer) {
    get_user().respond_with(user()).mount(server).await;
}

/// Answers `GET /user` as the bot to requests sending `Bearer {token}`, expecting `times` of
/// them.
async fn serve_user_to(server: &MockServer, token: &str, times: u64) {
    get_user()
        .and(header("authorization", format!("Bearer {token}")))
        .respond_with(user())
        .expect(times)
        .mount(server)
        .await;
}

fn consumer(server: &MockServer) -> OAuth {
    OAuth::new("consumer-key", "consumer-secret").token_url(format!("{}{TOKEN_PATH}", server.uri()))
}

fn ago(seconds: u64) -> SystemTime {
    SystemTime::now() - Duration::from_secs(seconds)
}

/// The `Authorization` header of the one request `server` received, if any.
async fn sent_authorization(server: &MockServer) -> Option<String> {
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 1, "one request expected");
    requests[0]
        .headers
        .get("authorization")
        .map(|v| v.to_str().expect("ASCII header").to_string())
}

#[tokio::test]
#[allow(deprecated)] // app passwords are tested while they are still accepted
async fn each_credential_sends_its_exact_authorization_header() {
    let cases = [
        (
            Auth::api_token("me@example.com", "ATATT-api-token"),
            Some("Basic bWVAZXhhbXBsZS5jb206QVRBVFQtYXBpLXRva2Vu"),
        ),
        // A trailing newline (a token read from a file) is not sent.
        (
            Auth::api_token("me@example.com", "ATATT-api-token\n"),
            Some("Basic bWVAZXhhbXBsZS5jb206QVRBVFQtYXBpLXRva2Vu"),
        ),
        (
            Auth::access_token("ATCTT-access-token"),
            Some("Bearer ATCTT-access-token"),
        ),
        (
            Auth::app_password("legacy-user", "app-password-secret"),
            Some("Basic bGVnYWN5LXVzZXI6YXBwLXBhc3N3b3JkLXNlY3JldA=="),
        ),
        (
            Auth::oauth(
                OAuth::new("consumer-key", "consumer-secret").tokens(
                    OAuthTokens::new("oauth-access")
                        .with_expires_at(SystemTime::now() + Duration::from_secs(3600)),
                ),
            ),
            Some("Bearer oauth-access"),
        ),
        (Auth::anonymous(), None),
    ];
    for (auth, expected) in cases {
        let server = MockServer::start().await;
        serve_user(&server).await;
        let description = format!("{auth:?}");
        client(&server, auth)
            .get_current_user()
            .send()
            .await
            .unwrap_or_else(|e| panic!("{description}: {e}"));
        assert_eq!(
            sent_authorization(&server).await.as_deref(),
            expected,
            "{description}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_requests_with_an_expired_token_refresh_once() {
    let server = MockServer::start().await;
    token_endpoint()
        .and(header("authorization", CONSUMER_BASIC))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .and(body_string(
            "grant_type=refresh_token&refresh_token=refresh-1",
        ))
        // Slow enough that every request arrives while the refresh is in flight.
        .respond_with(
            tokens_answer("fresh-access", "refresh-2").set_delay(Duration::from_millis(300)),
        )
        .expect(1)
        .mount(&server)
        .await;
    serve_user_to(&server, "fresh-access", 20).await;
    get_user()
        .respond_with(unauthorized())
        .expect(0)
        .mount(&server)
        .await;

    let stored: Arc<Mutex<Vec<OAuthTokens>>> = Arc::default();
    let store = stored.clone();
    let auth = Auth::oauth(
        consumer(&server)
            .tokens(
                OAuthTokens::new("expired-access")
                    .with_refresh_token("refresh-1")
                    .with_expires_at(ago(60)),
            )
            .on_refresh(move |tokens| store.lock().unwrap().push(tokens.clone())),
    );
    let client = client(&server, auth);
    let calls = (0..20).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.get_current_user().send().await })
    });
    for call in futures_util::future::join_all(calls).await {
        let user = call.expect("task").expect("call succeeds");
        assert_eq!(user.display_name.as_deref(), Some("Bot"));
    }

    assert_eq!(hits(&server, TOKEN_PATH).await, 1);
    let stored = stored.lock().unwrap();
    assert_eq!(stored.len(), 1, "on_refresh is called once");
    let tokens = &stored[0];
    assert_eq!(tokens.access_token(), "fresh-access");
    assert_eq!(tokens.refresh_token(), Some("refresh-2"));
    assert_eq!(tokens.scopes(), ["account", "pullrequest:write"]);
    let expires_in = tokens
        .expires_at()
        .expect("expiry")
        .duration_since(SystemTime::now())
        .expect("in the future");
    assert!(expires_in > Duration::from_secs(7000) && expires_in <= Duration::from_secs(7200));
}

#[tokio::test]
async fn a_token_about_to_expire_is_renewed_before_the_request() {
    let server = MockServer::start().await;
    token_endpoint()
        .respond_with(tokens_answer("fresh-access", "refresh-2"))
        .expect(1)
        .mount(&server)
        .await;
    serve_user(&server).await;
    let tokens = OAuthTokens::new("old-access")
        .with_refresh_token("refresh-1")
        .with_expires_at(SystemTime::now() + Duration::from_secs(30));

    // 30 s left is within the default 60 s margin: renewed first.
    let renewing = client(
        &server,
        Auth::oauth(consumer(&server).tokens(tokens.clone())),
    );
    renewing.get_current_user().send().await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(requests[1].headers["authorization"], "Bearer fresh-access");

    // With a 10 s margin the old token is still good.
    server.reset().await;
    serve_user(&server).await;
    let patient = client(
        &server,
        Auth::oauth(
            consumer(&server)
                .tokens(tokens)
                .refresh_margin(Duration::from_secs(10)),
        ),
    );
    patient.get_current_user().send().await.unwrap();
    assert_eq!(
        sent_authorization(&server).await.as_deref(),
        Some("Bearer old-access")
    );
}

#[tokio::test]
async fn a_401_renews_the_token_and_retries_once() {
    let server = MockServer::start().await;
    token_endpoint()
        .and(body_string(
            "grant_type=refresh_token&refresh_token=refresh-1",
        ))
        .respond_with(tokens_answer("fresh-access", "refresh-2"))
        .expect(1)
        .mount(&server)
        .await;
    get_user()
        .and(header("authorization", "Bearer revoked-access"))
        .respond_with(unauthorized())
        .expect(1)
        .mount(&server)
        .await;
    serve_user_to(&server, "fresh-access", 1).await;
    // No expiry known: only the 401 tells the token is no longer good.
    let auth = Auth::oauth(
        consumer(&server)
            .tokens(OAuthTokens::new("revoked-access").with_refresh_token("refresh-1")),
    );
    let user = client(&server, auth)
        .get_current_user()
        .send()
        .await
        .unwrap();
    assert_eq!(user.display_name.as_deref(), Some("Bot"));
}

#[tokio::test]
async fn a_second_401_is_returned_not_looped() {
    let server = MockServer::start().await;
    token_endpoint()
        .respond_with(tokens_answer("fresh-access", "refresh-2"))
        .expect(1)
        .mount(&server)
        .await;
    get_user()
        .respond_with(unauthorized())
        .expect(2)
        .mount(&server)
        .await;
    let auth = Auth::oauth(
        consumer(&server).tokens(OAuthTokens::new("old-access").with_refresh_token("refresh-1")),
    );
    let error = client(&server, auth)
        .get_current_user()
        .send()
        .await
        .unwrap_err();
    let api = error.api().expect("Bitbucket's answer");
    assert_eq!(api.status(), 401);
    assert_eq!(api.message(), Some("Access token expired."));
    let text = error.to_string();
    assert!(text.contains("consumer `consumer-key`"), "{text}");
    assert!(text.contains("authorize the application again"), "{text}");
}

#[tokio::test]
async fn a_refused_refresh_token_is_reported_once_and_remembered() {
    let server = MockServer::start().await;
    token_endpoint()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "Invalid refresh_token"
        })))
        .expect(1)
        .mount(&server)
        .await;
    get_user()
        .respond_with(user())
        .expect(0)
        .mount(&server)
        .await;
    let auth = Auth::oauth(
        consumer(&server).tokens(
            OAuthTokens::new("expired-access")
                .with_refresh_token("refresh-secret-xyz")
                .with_expires_at(ago(10)),
        ),
    );
    let client = client(&server, auth);
    for _ in 0..3 {
        let error = client.get_current_user().send().await.unwrap_err();
        assert!(
            matches!(
                error,
                Error::Auth {
                    operation: "get_current_user",
                    ..
                }
            ),
            "{error:?}"
        );
        let text = error.to_string();
        assert!(
            text.contains("400 Bad Request, invalid_grant: Invalid refresh_token"),
            "{text}"
        );
        assert!(text.contains("authorize the application again"), "{text}");
        for secret in ["refresh-secret-xyz", "consumer-secret", "expired-access"] {
            assert!(!text.contains(secret) && !format!("{error:?}").contains(secret));
        }
    }
}

#[tokio::test]
async fn a_token_endpoint_outage_is_not_hammered_and_a_valid_token_is_still_used() {
    let server = MockServer::start().await;
    token_endpoint()
        .respond_with(ResponseTemplate::new(503).set_body_string("maintenance"))
        .mount(&server)
        .await;
    serve_user(&server).await;

    // Expired: the call fails, saying why; the next one, moments later, does not ask again.
    let expired = client(
        &server,
        Auth::oauth(
            consumer(&server).tokens(
                OAuthTokens::new("expired-access")
                    .with_refresh_token("refresh-1")
                    .with_expires_at(ago(5)),
            ),
        ),
    );
    for _ in 0..2 {
        let error = expired.get_current_user().send().await.unwrap_err();
        let text = error.to_string();
        assert!(matches!(error, Error::Auth { .. }), "{error:?}");
        // The body is not an OAuth error: not quoted (a token endpoint's body may hold
        // secrets), only measured.
        assert!(
            text.contains("503 Service Unavailable, a 11-byte body that is not an OAuth error"),
            "{text}"
        );
        assert!(text.ends_with("try again later"), "{text}");
    }
    assert_eq!(hits(&server, TOKEN_PATH).await, 1);
    assert_eq!(hits(&server, "/user").await, 0);

    // About to expire but still valid: the call goes through with the current token.
    server.reset().await;
    token_endpoint()
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    serve_user_to(&server, "still-valid", 1).await;
    let expiring = client(
        &server,
        Auth::oauth(
            consumer(&server).tokens(
                OAuthTokens::new("still-valid")
                    .with_refresh_token("refresh-1")
                    .with_expires_at(SystemTime::now() + Duration::from_secs(30)),
            ),
        ),
    );
    expiring.get_current_user().send().await.unwrap();
}

#[tokio::test]
async fn an_unreachable_token_endpoint_says_so() {
    let unreachable = {
        // A port nothing listens on: bound, then released.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let error = OAuth::new("consumer-key", "consumer-secret")
        .token_url(format!("http://{unreachable}{TOKEN_PATH}"))
        .exchange_code("a-code")
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("could not reach the OAuth token endpoint"),
        "{text}"
    );
    assert!(
        !text.contains("consumer-secret") && !text.contains("a-code"),
        "{text}"
    );
}

#[tokio::test]
async fn a_consumer_alone_uses_the_client_credentials_grant() {
    let server = MockServer::start().await;
    token_endpoint()
        .and(header("authorization", CONSUMER_BASIC))
        .and(body_string("grant_type=client_credentials"))
        .respond_with(tokens_answer("bot-access", "bot-refresh"))
        .expect(1)
        .mount(&server)
        .await;
    serve_user_to(&server, "bot-access", 2).await;
    let client = client(&server, Auth::oauth(consumer(&server)));
    client.get_current_user().send().await.unwrap();
    client.get_current_user().send().await.unwrap();
}

#[tokio::test]
async fn a_stored_refresh_token_alone_is_enough() {
    let server = MockServer::start().await;
    token_endpoint()
        .and(body_string(
            "grant_type=refresh_token&refresh_token=stored-refresh",
        ))
        // Bitbucket may keep the refresh token and not send it again.
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "new-access", "expires_in": 7200, "token_type": "bearer"
        })))
        .expect(1)
        .mount(&server)
        .await;
    serve_user_to(&server, "new-access", 1).await;
    let kept = Arc::new(Mutex::new(None));
    let keep = kept.clone();
    let auth = Auth::oauth(
        consumer(&server)
            .refresh_token("stored-refresh")
            .on_refresh(move |t| *keep.lock().unwrap() = t.refresh_token().map(str::to_string)),
    );
    client(&server, auth)
        .get_current_user()
        .send()
        .await
        .unwrap();
    assert_eq!(kept.lock().unwrap().as_deref(), Some("stored-refresh"));
}

#[tokio::test]
async fn the_authorization_code_flow() {
    let server = MockServer::start().await;
    token_endpoint()
        .and(header("authorization", CONSUMER_BASIC))
        .and(body_string(
            "grant_type=authorization_code&code=the-code&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback",
        ))
        .respond_with(tokens_answer("user-access", "user-refresh"))
        .expect(1)
        .mount(&server)
        .await;
    let app = consumer(&server)
        .authorize_endpoint(format!("{}/site/oauth2/authorize", server.uri()))
        .redirect_uri("https://app.example/callback");

    let url = app.authorize_url("state 1").unwrap();
    assert_eq!(
        url.as_str(),
        format!(
            "{}/site/oauth2/authorize?client_id=consumer-key&response_type=code&state=state+1&redirect_uri=https%3A%2F%2Fapp.example%2Fcallback",
            server.uri()
        )
    );

    let tokens = app.exchange_code("the-code").await.unwrap();
    assert_eq!(tokens.access_token(), "user-access");
    assert_eq!(tokens.refresh_token(), Some("user-refresh"));
    assert!(tokens.expires_at().is_some());

    let error = OAuth::new("k", "s")
        .authorize_endpoint("not a url")
        .authorize_url("x")
        .unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error}");
}

#[tokio::test]
async fn a_refused_code_says_what_to_do() {
    let server = MockServer::start().await;
    token_endpoint()
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "invalid_grant",
            "error_description": "The specified code is not valid: used-code"
        })))
        .mount(&server)
        .await;
    let error = consumer(&server)
        .exchange_code("used-code")
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.starts_with("oauth_exchange_code: authentication failed"),
        "{text}"
    );
    assert!(
        text.contains("send the user through OAuth::authorize_url again"),
        "{text}"
    );
    assert!(!text.contains("used-code"), "the code is redacted: {text}");
}

#[test]
#[allow(deprecated)]
fn debug_output_never_shows_a_secret() {
    let secrets = [
        "ATATT-api-secret",
        "ATCTT-access-secret",
        "app-password-secret",
        "consumer-secret",
        "oauth-access-secret",
        "oauth-refresh-secret",
    ];
    let tokens = OAuthTokens::new("oauth-access-secret").with_refresh_token("oauth-refresh-secret");
    let oauth = OAuth::new("consumer-key", "consumer-secret").tokens(tokens.clone());
    let auths = [
        Auth::api_token("me@example.com", "ATATT-api-secret"),
        Auth::access_token("ATCTT-access-secret"),
        Auth::app_password("legacy-user", "app-password-secret"),
        Auth::oauth(oauth.clone()),
        Auth::anonymous(),
    ];
    let mut printed = vec![format!("{tokens:?}"), format!("{oauth:?}")];
    for auth in auths {
        let builder = Client::builder().auth(auth.clone());
        printed.push(format!("{builder:?}"));
        printed.push(format!("{:?}", builder.build().unwrap()));
        printed.push(format!("{auth:?}"));
        printed.push(format!("{auth:#?}"));
    }
    for text in &printed {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    // What is printed still identifies the credential.
    assert!(printed.iter().any(|t| t.contains("me@example.com")));
    assert!(printed.iter().any(|t| t.contains("consumer-key")));
}

#[tokio::test]
async fn oauth_clones_share_one_token_state() {
    let server = MockServer::start().await;
    let renewals = Arc::new(AtomicUsize::new(0));
    let count = renewals.clone();
    token_endpoint()
        .respond_with(tokens_answer("fresh-access", "refresh-2"))
        .mount(&server)
        .await;
    serve_user(&server).await;
    let auth = Auth::oauth(
        consumer(&server)
            .tokens(
                OAuthTokens::new("expired")
                    .with_refresh_token("refresh-1")
                    .with_expires_at(ago(1)),
            )
            .on_refresh(move |_| {
                count.fetch_add(1, Ordering::SeqCst);
            }),
    );
    // Two clients built from clones of one credential.
    let first = client(&server, auth.clone());
    let second = client(&server, auth);
    first.get_current_user().send().await.unwrap();
    second.get_current_user().send().await.unwrap();
    assert_eq!(renewals.load(Ordering::SeqCst), 1);
}
