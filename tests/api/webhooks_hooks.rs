//! Managing hooks through the client, over HTTP on loopback: create one with a secret and
//! events, list them across pages, delete one. The secret is sent in the body and nowhere
//! else: not in `Debug`, errors or logs.

use crate::support;

use bitbucket_cloud::types;
use bitbucket_cloud::webhooks::{EventKey, Subscription};
use bitbucket_cloud::{Auth, Client};
use futures_util::TryStreamExt as _;
use serde_json::{Value, json};
use support::capture::Capture;
use wiremock::matchers::{body_partial_json, method, path, path_regex, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "hunter2-webhook-secret";

fn client(server: &MockServer) -> Client {
    support::client(server, Auth::access_token("repository-token"))
}

fn subscription() -> Subscription {
    Subscription::new("https://ci.example.com/bitbucket")
        .description("CI")
        .events([EventKey::RepoPush, EventKey::PullrequestCreated])
        .secret(SECRET)
}

fn hook(uuid: &str) -> Value {
    json!({
        "type": "webhook_subscription",
        "uuid": uuid,
        "url": "https://ci.example.com/bitbucket",
        "description": "CI",
        "subject_type": "repository",
        "subject": {"type": "repository", "full_name": "acme/rocket"},
        "active": true,
        "created_at": "2024-05-02T09:00:00.000000Z",
        "events": ["pullrequest:created", "repo:push"],
        "secret_set": true
    })
}

#[tokio::test(flavor = "current_thread")]
async fn create_sends_the_secret_in_the_body_only() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repositories/acme/rocket/hooks"))
        .and(body_partial_json(json!({
            "url": "https://ci.example.com/bitbucket",
            "description": "CI",
            "active": true,
            "events": ["repo:push", "pullrequest:created"],
            "secret": SECRET,
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(hook("{4e9b3a2f-hook}")))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);

    let builder = client
        .repo("acme", "rocket")
        .create_webhook()
        .body(subscription());
    let debug = format!("{builder:?}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");

    let logs = Capture::default();
    let created = {
        let _guard = tracing::subscriber::set_default(logs.clone());
        builder.send().await.unwrap()
    };
    assert_eq!(created.uuid.as_deref(), Some("{4e9b3a2f-hook}"));
    assert_eq!(created.secret_set, Some(true));
    assert_eq!(created.secret, None);
    assert_eq!(
        created.events.unwrap(),
        [EventKey::PullrequestCreated, EventKey::RepoPush]
    );
    let logged = logs.text();
    assert!(
        logged.contains("create_webhook"),
        "the request was logged: {logged}"
    );
    assert!(!logged.contains(SECRET), "{logged}");

    // The body carries the secret, exactly once.
    let requests = server.received_requests().await.unwrap();
    let body = String::from_utf8(requests[0].body.clone()).unwrap();
    assert_eq!(body.matches(SECRET).count(), 1, "{body}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_create_never_shows_the_secret() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repositories/acme/rocket/hooks"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "type": "error",
            "error": {"message": "Bad request", "fields": {"url": ["Enter a valid URL."]}}
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let logs = Capture::default();
    let error = {
        let _guard = tracing::subscriber::set_default(logs.clone());
        client
            .repo("acme", "rocket")
            .create_webhook()
            .body(subscription())
            .send()
            .await
            .unwrap_err()
    };
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
    let shown = format!("{error} {error:?} {}", logs.text());
    assert!(shown.contains("Enter a valid URL."), "{shown}");
    assert!(!shown.contains(SECRET), "{shown}");
}

#[test]
fn generated_types_never_print_secrets() {
    let body = types::WebhookSubscription::from(subscription());
    assert_eq!(body.secret.as_deref(), Some(SECRET));
    let debug = format!("{body:?}");
    assert!(debug.contains("secret: Some([redacted])"), "{debug}");
    assert!(!debug.contains(SECRET), "{debug}");
    // The other fields still print.
    assert!(
        debug.contains("https://ci.example.com/bitbucket"),
        "{debug}"
    );
    assert_eq!(
        serde_json::to_value(&body).unwrap()["secret"],
        json!(SECRET),
        "serialized for the request"
    );

    let unset = types::WebhookSubscription::default();
    assert!(format!("{unset:?}").contains("secret: None"));

    let debug = format!("{:?}", subscription());
    assert!(!debug.contains(SECRET), "{debug}");
}

#[test]
fn a_subscription_sends_what_was_set() {
    let body = types::WebhookSubscription::from(
        Subscription::new("https://example.com/hook")
            .events([EventKey::Other("repo:new_event".into())])
            .active(false),
    );
    assert_eq!(
        serde_json::to_value(&body).unwrap(),
        json!({
            "url": "https://example.com/hook",
            "events": ["repo:new_event"],
            "active": false
        })
    );
}

#[tokio::test(flavor = "current_thread")]
async fn list_streams_every_hook_across_pages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/repositories/acme/rocket/hooks"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pagelen": 2, "page": 2, "size": 3,
            "values": [hook("{c}")]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repositories/acme/rocket/hooks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "pagelen": 2, "page": 1, "size": 3,
            "next": format!("{}/repositories/acme/rocket/hooks?page=2", server.uri()),
            "values": [hook("{a}"), hook("{b}")]
        })))
        .mount(&server)
        .await;
    let client = client(&server);
    let hooks: Vec<types::WebhookSubscription> = client
        .repo("acme", "rocket")
        .list_webhooks()
        .stream()
        .try_collect()
        .await
        .unwrap();
    let uuids: Vec<_> = hooks.iter().filter_map(|h| h.uuid.as_deref()).collect();
    assert_eq!(uuids, ["{a}", "{b}", "{c}"]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test(flavor = "current_thread")]
async fn delete_removes_one_hook() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .and(path_regex(r"^/repositories/acme/rocket/hooks/[^/]+$"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server);
    client
        .repo("acme", "rocket")
        .delete_webhook()
        .uid("{4e9b3a2f-hook}")
        .send()
        .await
        .unwrap();
    let requests = server.received_requests().await.unwrap();
    assert_eq!(
        requests[0].url.path(),
        "/repositories/acme/rocket/hooks/%7B4e9b3a2f-hook%7D"
    );
}
