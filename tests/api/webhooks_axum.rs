//! The axum extractor, on a real server on loopback: signed events reach the handler; a
//! missing or wrong signature is answered 401 and a body that is not an event 400, without
//! reaching it.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef, State};
use axum::routing::post;
use bitbucket_cloud::webhooks::{self, Delivery, Event, WebhookSecret};
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::capture::Capture;

const SECRET: &str = "hunter2-webhook-secret";

/// A state larger than the secret, as real receivers have.
#[derive(Clone)]
struct AppState {
    secret: WebhookSecret,
    handled: Arc<AtomicUsize>,
}

impl FromRef<AppState> for WebhookSecret {
    fn from_ref(state: &AppState) -> Self {
        state.secret.clone()
    }
}

/// Answers what it received, as JSON.
async fn receive(State(state): State<AppState>, delivery: Delivery) -> String {
    state.handled.fetch_add(1, Ordering::SeqCst);
    json!({
        "key": delivery.event.key(),
        "typed": !matches!(delivery.event, Event::Unknown { .. }),
        "request": delivery.request_uuid,
        "attempt": delivery.attempt,
    })
    .to_string()
}

/// A plain HTTP client for loopback. With the default `rustls` feature reqwest needs a
/// process-wide crypto provider, as the crate's own client installs.
fn http_client() -> reqwest::Client {
    #[cfg(feature = "rustls")]
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

struct Receiver {
    url: String,
    handled: Arc<AtomicUsize>,
    http: reqwest::Client,
}

/// Serves `app` on a loopback port; returns its address (`http://127.0.0.1:port`).
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    address
}

impl Receiver {
    async fn start() -> Receiver {
        let handled = Arc::new(AtomicUsize::new(0));
        let app = Router::new()
            .route("/bitbucket", post(receive))
            .layer(DefaultBodyLimit::max(64 * 1024))
            .with_state(AppState {
                secret: WebhookSecret::new(SECRET),
                handled: handled.clone(),
            });
        Receiver {
            url: format!("{}/bitbucket", serve(app).await),
            handled,
            http: http_client(),
        }
    }

    async fn post(&self, headers: &[(&str, &str)], body: Vec<u8>) -> (StatusCode, String) {
        let mut request = self.http.post(&self.url).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    fn handled(&self) -> usize {
        self.handled.load(Ordering::SeqCst)
    }
}

fn fixture(key: &str) -> Vec<u8> {
    let (_, path) = support::webhook_fixtures()
        .into_iter()
        .find(|(k, _)| k == key)
        .unwrap();
    support::read(&path)
}

#[tokio::test(flavor = "current_thread")]
async fn a_signed_delivery_reaches_the_handler() {
    let receiver = Receiver::start().await;
    for key in Event::TYPED_KEYS {
        let key = key.to_string();
        let body = fixture(&key);
        let signature = webhooks::sign(SECRET, &body);
        let (status, text) = receiver
            .post(
                &[
                    ("X-Event-Key", &key),
                    ("X-Hub-Signature", &signature),
                    ("X-Request-UUID", "{delivery-1}"),
                    ("X-Attempt-Number", "2"),
                    ("Content-Type", "application/json"),
                ],
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{key}: {text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            answer,
            json!({"key": key, "typed": true, "request": "{delivery-1}", "attempt": 2})
        );
    }
    assert_eq!(receiver.handled(), Event::TYPED_KEYS.len());
}

#[tokio::test(flavor = "current_thread")]
async fn an_unknown_event_reaches_the_handler_untyped() {
    let receiver = Receiver::start().await;
    // A key the document lists without a payload, and one it does not list.
    for key in ["repo:imported", "repo:renamed_in_2030"] {
        let body = br#"{"repository": {"full_name": "acme/rocket"}}"#.to_vec();
        let signature = webhooks::sign(SECRET, &body);
        let (status, text) = receiver
            .post(
                &[("X-Event-Key", key), ("X-Hub-Signature", &signature)],
                body,
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{text}");
        let answer: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(answer["typed"], false);
        assert_eq!(answer["key"], key);
    }
}

/// X-Event-Key is not signed: a signed body sent again under another key is answered 400,
/// naming what the body lacks, and the handler never sees it.
#[tokio::test(flavor = "current_thread")]
async fn a_signed_body_under_another_key_is_answered_400() {
    let receiver = Receiver::start().await;
    let body = fixture("repo:push");
    let signature = webhooks::sign(SECRET, &body);
    for key in [
        "pullrequest:fulfilled",
        "issue:created",
        "repo:commit_status_created",
    ] {
        let (status, text) = receiver
            .post(
                &[("X-Event-Key", key), ("X-Hub-Signature", &signature)],
                body.clone(),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{key}: {text}");
        assert!(text.contains(key) && text.contains("it has no"), "{text}");
    }
    assert_eq!(receiver.handled(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_bad_signature_is_answered_401() {
    let receiver = Receiver::start().await;
    let body = fixture("repo:push");
    let logs = Capture::default();
    let _guard = tracing::subscriber::set_default(logs.clone());

    let mut tampered = body.clone();
    let at = tampered.len() / 2;
    tampered[at] ^= 0x20;
    // (case, X-Hub-Signature, body)
    let cases = [
        ("unsigned", None, body.clone()),
        (
            "signed with another secret",
            Some(webhooks::sign("other", &body)),
            body.clone(),
        ),
        (
            "tampered body",
            Some(webhooks::sign(SECRET, &body)),
            tampered,
        ),
        (
            "sha1",
            Some(format!("sha1={}", "0".repeat(40))),
            body.clone(),
        ),
        ("malformed", Some("sha256=xyz".to_string()), body.clone()),
    ];
    for (case, signature, body) in cases {
        let mut headers = vec![("X-Event-Key", "repo:push")];
        if let Some(signature) = &signature {
            headers.push(("X-Hub-Signature", signature));
        }
        let (status, text) = receiver.post(&headers, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{case}: {text}");
        assert!(text.contains("X-Hub-Signature"), "{case}: {text}");
    }
    assert_eq!(receiver.handled(), 0);

    // Each rejection is logged with its reason, never with the body or the secret.
    let logged = logs.text();
    assert_eq!(
        logged.matches("rejected a webhook request").count(),
        5,
        "{logged}"
    );
    assert!(!logged.contains(SECRET), "{logged}");
    assert!(
        !logged.contains("feature/checklist"),
        "the body is not logged: {logged}"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_that_is_not_an_event_is_answered_400() {
    let receiver = Receiver::start().await;
    for (case, key, body) in [
        ("not JSON", Some("repo:push"), b"<xml/>".to_vec()),
        ("empty", Some("repo:push"), Vec::new()),
        (
            "wrong shape",
            Some("pullrequest:created"),
            br#"{"pullrequest": 5}"#.to_vec(),
        ),
        ("no event key", None, br#"{"push": {}}"#.to_vec()),
    ] {
        let signature = webhooks::sign(SECRET, &body);
        let mut headers = vec![("X-Hub-Signature", signature.as_str())];
        if let Some(key) = key {
            headers.push(("X-Event-Key", key));
        }
        let (status, text) = receiver.post(&headers, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}: {text}");
    }
    assert_eq!(receiver.handled(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn a_body_over_the_limit_is_refused_as_axum_refuses_it() {
    let receiver = Receiver::start().await;
    let body = vec![b' '; 65 * 1024];
    let signature = webhooks::sign(SECRET, &body);
    let (status, _) = receiver
        .post(
            &[
                ("X-Event-Key", "repo:push"),
                ("X-Hub-Signature", &signature),
            ],
            body,
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(receiver.handled(), 0);
}

#[tokio::test(flavor = "current_thread")]
async fn the_secret_alone_can_be_the_state() {
    let app = Router::new()
        .route(
            "/",
            post(|delivery: Delivery| async move { delivery.event.key().to_string() }),
        )
        .with_state(WebhookSecret::new(SECRET));
    let url = format!("{}/", serve(app).await);
    let body = br#"{"push": {"changes": []}}"#.to_vec();
    let response = http_client()
        .post(&url)
        .header("X-Event-Key", "repo:push")
        .header("X-Hub-Signature", webhooks::sign(SECRET, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "repo:push");
}
