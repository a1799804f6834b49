//! Webhook deliveries: the events, their headers, valid signatures, and retries.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use bitbucket_cloud::types;
use bitbucket_cloud_local::LocalBitbucket;
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};

use common::{admin, body};

#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn event(&self) -> &str {
        self.header("x-event-key")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Inbox {
    received: Arc<Mutex<Vec<Received>>>,
    /// How many deliveries to answer with a 500 before accepting.
    failures_left: Arc<Mutex<usize>>,
}

impl Inbox {
    fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    fn events(&self) -> Vec<String> {
        self.all().iter().map(|r| r.event().to_string()).collect()
    }
}

/// A webhook receiver on loopback; returns its URL and what it receives.
async fn receiver(failures: usize) -> (String, Inbox) {
    async fn receive(State(inbox): State<Inbox>, headers: HeaderMap, body: Bytes) -> StatusCode {
        inbox
            .received
            .lock()
            .unwrap()
            .push(Received { headers, body });
        let mut left = inbox.failures_left.lock().unwrap();
        if *left > 0 {
            *left -= 1;
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            StatusCode::OK
        }
    }
    let inbox = Inbox {
        failures_left: Arc::new(Mutex::new(failures)),
        ..Inbox::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, inbox)
}

async fn hook(
    client: &bitbucket_cloud::Client,
    url: &str,
    events: &[&str],
    secret: Option<&str>,
) -> String {
    let mut subscription = json!({ "url": url, "description": "test", "events": events });
    if let Some(secret) = secret {
        subscription["secret"] = json!(secret);
    }
    client
        .repo("acme", "app")
        .create_webhook()
        .body(body::<types::WebhookSubscription>(subscription))
        .send()
        .await
        .unwrap()
        .uuid
        .unwrap()
}

/// Checks `X-Hub-Signature` with HMAC-SHA256 computed here, independently of the server.
fn signature_is_valid(received: &Received, secret: &str) -> bool {
    let Some(hex) = received.header("x-hub-signature").strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(&received.body);
    mac.verify_slice(&expected).is_ok()
}

const PR_EVENTS: &[&str] = &[
    "pullrequest:created",
    "pullrequest:updated",
    "pullrequest:comment_created",
    "pullrequest:approved",
    "pullrequest:changes_request_created",
    "pullrequest:fulfilled",
    "pullrequest:rejected",
    "repo:push",
];

#[tokio::test]
async fn a_pull_request_from_open_to_merged_is_delivered_signed() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature", "Add feature", &[("f.txt", "f\n")]);
    let client = admin(&bb);
    let (url, inbox) = receiver(0).await;
    let hook_uuid = hook(&client, &url, PR_EVENTS, Some("It's a Secret to Everybody")).await;
    let repo = client.repo("acme", "app");

    let pr = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "Add feature",
            "source": { "branch": { "name": "feature" } },
        })))
        .send()
        .await
        .unwrap()
        .id
        .unwrap();
    repo.update_pull_request()
        .pull_request_id(pr)
        .body(body::<types::PullRequest>(
            json!({ "description": "Now described" }),
        ))
        .send()
        .await
        .unwrap();
    repo.create_pull_request_comment()
        .pull_request_id(pr)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "LGTM" } }),
        ))
        .send()
        .await
        .unwrap();
    repo.request_changes_on_pull_request()
        .pull_request_id(pr)
        .send()
        .await
        .unwrap();
    repo.approve_pull_request()
        .pull_request_id(pr)
        .send()
        .await
        .unwrap();
    let _ = repo
        .merge_pull_request()
        .pull_request_id(pr)
        .body(body::<types::PullRequestMergeParameters>(json!({})))
        .send()
        .await
        .unwrap();
    bb.webhooks_idle().await;

    assert_eq!(
        inbox.events(),
        [
            "pullrequest:created",
            "pullrequest:updated",
            "pullrequest:comment_created",
            "pullrequest:changes_request_created",
            "pullrequest:approved",
            "repo:push",
            "pullrequest:fulfilled",
        ]
    );
    let received = inbox.all();
    let mut request_uuids = std::collections::HashSet::new();
    for r in &received {
        assert!(
            signature_is_valid(r, "It's a Secret to Everybody"),
            "{}",
            r.event()
        );
        assert!(!signature_is_valid(r, "another secret"));
        assert_eq!(r.header("x-attempt-number"), "1");
        assert_eq!(r.header("x-hook-uuid"), hook_uuid.trim_matches(['{', '}']));
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(r.header("user-agent"), "Bitbucket-Webhooks/2.0");
        assert_eq!(r.header("x-request-uuid").len(), 36);
        request_uuids.insert(r.header("x-request-uuid").to_string());
        let payload = r.json();
        assert_eq!(payload["actor"]["nickname"], "ada");
        assert_eq!(payload["repository"]["full_name"], "acme/app");
    }
    assert_eq!(
        request_uuids.len(),
        received.len(),
        "one X-Request-UUID per delivery"
    );

    let by_event = |key: &str| received.iter().find(|r| r.event() == key).unwrap().json();
    assert_eq!(
        by_event("pullrequest:created")["pullrequest"]["state"],
        "OPEN"
    );
    assert_eq!(
        by_event("pullrequest:updated")["pullrequest"]["description"],
        "Now described"
    );
    assert_eq!(
        by_event("pullrequest:comment_created")["comment"]["content"]["raw"],
        "LGTM"
    );
    assert_eq!(
        by_event("pullrequest:approved")["approval"]["user"]["nickname"],
        "ada"
    );
    assert!(by_event("pullrequest:changes_request_created")["changes_request"]["date"].is_string());
    let fulfilled = by_event("pullrequest:fulfilled");
    assert_eq!(fulfilled["pullrequest"]["state"], "MERGED");
    let push = by_event("repo:push");
    let change = &push["push"]["changes"][0];
    assert_eq!(change["new"]["name"], "main");
    assert_eq!(
        change["new"]["target"]["parents"].as_array().unwrap().len(),
        2
    );
    assert_eq!(change["created"], false);
    assert!(
        fulfilled["pullrequest"]["merge_commit"]["hash"]
            .as_str()
            .is_some_and(|h| change["new"]["target"]["hash"]
                .as_str()
                .unwrap()
                .starts_with(h))
    );

    assert!(
        bb.deliveries()
            .iter()
            .all(|d| d.succeeded() && d.attempts == 1)
    );
}

#[tokio::test]
async fn branches_issues_and_declines_are_delivered() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let client = admin(&bb);
    let (url, inbox) = receiver(0).await;
    hook(
        &client,
        &url,
        &[
            "repo:push",
            "issue:created",
            "issue:updated",
            "pullrequest:rejected",
        ],
        None,
    )
    .await;
    let repo = client.repo("acme", "app");

    repo.create_branch()
        .body(body::<types::Branch>(
            json!({ "name": "topic", "target": { "hash": head } }),
        ))
        .send()
        .await
        .unwrap();
    repo.delete_branch().name("topic").send().await.unwrap();
    bb.push("acme", "app", "wip", "WIP", &[("w.txt", "w\n")]);
    repo.create_issue()
        .body(body::<types::Issue>(json!({ "title": "Bug" })))
        .send()
        .await
        .unwrap();
    repo.update_issue()
        .issue_id(1)
        .body(body::<types::Issue>(json!({ "state": "resolved" })))
        .send()
        .await
        .unwrap();
    let pr = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(
            json!({ "title": "WIP", "source": { "branch": { "name": "wip" } } }),
        ))
        .send()
        .await
        .unwrap();
    repo.decline_pull_request()
        .pull_request_id(pr.id.unwrap())
        .send()
        .await
        .unwrap();
    bb.webhooks_idle().await;

    assert_eq!(
        inbox.events(),
        [
            "repo:push",
            "repo:push",
            "repo:push",
            "issue:created",
            "issue:updated",
            "pullrequest:rejected"
        ]
    );
    let received = inbox.all();
    assert!(
        received
            .iter()
            .all(|r| r.header("x-hub-signature").is_empty()),
        "no secret, no signature"
    );
    let created = &received[0].json()["push"]["changes"][0];
    assert_eq!(
        (created["created"].clone(), created["new"]["name"].clone()),
        (json!(true), json!("topic"))
    );
    assert!(created["old"].is_null());
    let deleted = &received[1].json()["push"]["changes"][0];
    assert_eq!(
        (deleted["closed"].clone(), deleted["old"]["name"].clone()),
        (json!(true), json!("topic"))
    );
    let pushed = &received[2].json()["push"]["changes"][0];
    assert_eq!(pushed["commits"][0]["message"], "WIP");
    let updated = received[4].json();
    assert_eq!(
        updated["changes"]["status"],
        json!({ "old": "new", "new": "resolved" })
    );
}

#[tokio::test]
async fn failed_deliveries_are_retried_with_the_same_request_uuid() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let (url, inbox) = receiver(2).await;
    hook(&client, &url, &["repo:push"], Some("s")).await;
    bb.push("acme", "app", "main", "Change", &[("a", "a")]);
    bb.webhooks_idle().await;

    let received = inbox.all();
    let attempts: Vec<_> = received
        .iter()
        .map(|r| r.header("x-attempt-number"))
        .collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(
        received
            .iter()
            .all(|r| r.header("x-request-uuid") == received[0].header("x-request-uuid"))
    );
    assert!(received.iter().all(|r| signature_is_valid(r, "s")));
    let delivery = &bb.deliveries()[0];
    assert_eq!((delivery.attempts, delivery.status), (3, Some(200)));
}

#[tokio::test]
async fn unreachable_and_unsubscribed_hooks() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let (url, inbox) = receiver(0).await;
    hook(&client, &url, &["issue:created"], None).await;
    // Port 9 (discard) on loopback: nothing listens there.
    hook(&client, "http://127.0.0.1:9/hook", &["repo:push"], None).await;
    bb.push("acme", "app", "main", "Change", &[("a", "a")]);
    bb.webhooks_idle().await;

    assert!(inbox.events().is_empty(), "not subscribed to repo:push");
    let delivery = &bb.deliveries()[0];
    assert_eq!(delivery.event, "repo:push");
    assert!(!delivery.succeeded());
    assert_eq!(delivery.attempts, 3);
    assert!(delivery.error.is_some());
}
