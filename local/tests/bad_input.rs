//! Bad input never takes the server down, and what it keeps is bounded: over real HTTP, a `q`
//! nested 1,000 deep, page numbers that overflow, malformed JSON; the request log, the
//! delivery queue and the webhook receiver at their limits; concurrent writers.

mod common;

use std::time::Duration;

use axum::http::StatusCode;
use bitbucket_cloud::Scope;
use bitbucket_cloud_local::LocalBitbucket;
use serde_json::{Value, json};

/// A server with a repository, and a token for everything.
async fn server() -> (LocalBitbucket, String) {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let token = bb.token(Scope::ALL);
    (bb, token)
}

/// GETs `path_and_query` (under the API root); the status and the body as JSON.
async fn get(bb: &LocalBitbucket, token: &str, path_and_query: &str) -> (u16, Value) {
    let response = common::http()
        .get(format!("{}{path_and_query}", bb.base_url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// POSTs `body` as JSON text; the status and the answer as JSON.
async fn post(bb: &LocalBitbucket, token: &str, path: &str, body: Vec<u8>) -> (u16, Value) {
    post_to(&common::http(), &bb.base_url(), token, path, body).await
}

/// POSTs `body` with `http` to `path` under the API root `api`.
async fn post_to(
    http: &reqwest::Client,
    api: &str,
    token: &str,
    path: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = http
        .post(format!("{api}{path}"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// The server still answers, correctly.
async fn still_serves(bb: &LocalBitbucket, token: &str) {
    let (status, body) = get(bb, token, "/repositories/acme/app").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["full_name"], "acme/app");
}

/// Before the bound, a `q` nested 1,000 deep overflowed the stack and aborted the whole test
/// process.
/// Lists the pull requests with a `q` of one comparison inside `depth` parentheses.
async fn pulls_nested(bb: &LocalBitbucket, token: &str, depth: usize) -> (u16, Value) {
    let q = format!("{}state = \"OPEN\"{}", "(".repeat(depth), ")".repeat(depth));
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &q)
        .finish();
    get(
        bb,
        token,
        &format!("/repositories/acme/app/pullrequests?{query}"),
    )
    .await
}

#[tokio::test]
async fn a_q_nested_1000_deep_gets_400() {
    let (bb, token) = server().await;
    for depth in [1_000, 5_000] {
        let (status, body) = pulls_nested(&bb, &token, depth).await;
        assert_eq!(status, 400, "{depth}: {body}");
        assert_eq!(body["type"], "error");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("nest more than 32 deep"), "{message}");
    }
    let (status, body) = pulls_nested(&bb, &token, 32).await;
    assert_eq!(status, 200, "32 deep is fine: {body}");
    still_serves(&bb, &token).await;
}

/// Before, `page=18446744073709551615` was an overflow panic.
#[tokio::test]
async fn page_numbers_out_of_range_get_400() {
    let (bb, token) = server().await;
    for page in [
        "18446744073709551615",
        "4294967296",
        "0",
        "-1",
        "1.5",
        "",
        "two",
    ] {
        let (status, body) = get(&bb, &token, &format!("/repositories/acme?page={page}")).await;
        assert_eq!(status, 400, "page={page}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("Invalid page"),
            "{body}"
        );
    }
    // The largest page number is an empty page, with no `next`.
    let (status, body) = get(
        &bb,
        &token,
        "/repositories/acme?page=4294967295&pagelen=100",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["values"], json!([]));
    assert_eq!(body["page"], 4294967295u64);
    assert!(body.get("next").is_none(), "{body}");
    assert!(
        body["previous"]
            .as_str()
            .unwrap()
            .contains("page=4294967294")
    );
    // A huge pagelen is capped; a pagelen that is not a number is refused.
    let (status, body) = get(
        &bb,
        &token,
        "/repositories/acme?pagelen=18446744073709551616",
    )
    .await;
    assert_eq!((status, body["pagelen"].clone()), (200, json!(100)));
    // A pagelen that is not a number, and cursors that are not this server's.
    let refused = ["0", "-5", "ten", ""]
        .map(|pagelen| format!("/repositories/acme?pagelen={pagelen}"))
        .into_iter()
        .chain(
            ["%FF%FE", "not-base64!", "AAAA"]
                .map(|page| format!("/repositories/acme/app/commits?page={page}")),
        );
    for path in refused {
        let (status, body) = get(&bb, &token, &path).await;
        assert_eq!(status, 400, "{path}: {body}");
    }
    still_serves(&bb, &token).await;
}

#[tokio::test]
async fn malformed_bodies_get_400() {
    let (bb, token) = server().await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("not JSON", b"{\"title\": ".to_vec()),
        ("trailing garbage", b"{\"title\": \"x\"} }".to_vec()),
        ("not UTF-8", b"{\"title\": \"\xff\xfe\"}".to_vec()),
        ("an array", b"[1, 2]".to_vec()),
        ("a string", b"\"title\"".to_vec()),
        ("nested 10,000 deep", deep.into_bytes()),
    ];
    for path in [
        "/repositories/acme/app/pullrequests",
        "/repositories/acme/app/issues",
        "/repositories/acme/app/hooks",
        "/repositories/acme/app/refs/branches",
        "/repositories/acme/app/pipelines",
    ] {
        for (case, body) in &cases {
            let (status, answer) = post(&bb, &token, path, body.clone()).await;
            assert_eq!(status, 400, "{path}, {case}: {answer}");
            assert_eq!(answer["type"], "error", "{path}, {case}");
        }
    }
    // Values of the wrong type are refused or ignored, never a crash.
    let (status, _) = post(
        &bb,
        &token,
        "/repositories/acme/app/pullrequests",
        br#"{"title": 7, "source": {"branch": {"name": ["x"]}}, "reviewers": "all"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    still_serves(&bb, &token).await;
}

/// The request log keeps its limit, the newest requests, and counts the others.
#[tokio::test]
async fn the_request_log_is_bounded() {
    let bb = LocalBitbucket::builder().request_log_limit(5).start().await;
    bb.create_repository("acme", "app");
    let token = bb.token(Scope::ALL);
    for i in 0..20 {
        get(&bb, &token, &format!("/repositories/acme/app?n={i}")).await;
    }
    let kept = bb.requests();
    assert_eq!(kept.len(), 5);
    assert_eq!(bb.requests_dropped(), 15);
    let paths: Vec<&str> = kept.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths[0], "/2.0/repositories/acme/app?n=15");
    assert_eq!(paths[4], "/2.0/repositories/acme/app?n=19");
    // The default keeps 10,000.
    let (bb, token) = server().await;
    get(&bb, &token, "/user").await;
    assert_eq!(bb.requests().len(), 1);
    assert_eq!(bb.requests_dropped(), 0);
}

/// A hook receiver that takes `delay` to answer each delivery.
async fn slow_receiver(delay: Duration) -> String {
    let app = axum::Router::new().fallback(move || async move {
        tokio::time::sleep(delay).await;
        StatusCode::OK
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

/// Deliveries beyond the queue's limit are not sent, and say so; the delivery log keeps its
/// limit.
#[tokio::test]
async fn the_delivery_queue_and_log_are_bounded() {
    let bb = LocalBitbucket::builder()
        .delivery_queue_limit(2)
        .delivery_log_limit(4)
        .start()
        .await;
    bb.create_repository("acme", "app");
    let client = common::admin(&bb);
    let url = slow_receiver(Duration::from_millis(200)).await;
    client
        .repo("acme", "app")
        .create_webhook()
        .body(common::body::<bitbucket_cloud::types::WebhookSubscription>(
            json!({ "url": url, "events": ["repo:push"] }),
        ))
        .send()
        .await
        .unwrap();
    // Ten pushes at once: one is being delivered, two wait, the rest find the queue full.
    for i in 0..10 {
        bb.push(
            "acme",
            "app",
            "main",
            &format!("Commit {i}"),
            &[("f", &i.to_string())],
        );
    }
    let refused: Vec<_> = bb
        .deliveries()
        .into_iter()
        .filter(|d| d.attempts == 0)
        .collect();
    assert!(refused.len() >= 4, "{refused:?}"); // the log keeps 4
    for delivery in &refused {
        assert_eq!(delivery.status, None);
        let error = delivery.error.as_deref().unwrap();
        assert!(
            error.contains("2 deliveries were already waiting"),
            "{error}"
        );
        assert!(error.contains("Builder::delivery_queue_limit"), "{error}");
    }
    bb.webhooks_idle().await;
    let log = bb.deliveries();
    assert_eq!(log.len(), 4);
    let sent: Vec<_> = log.iter().filter(|d| d.succeeded()).collect();
    assert!(!sent.is_empty() && sent.len() <= 3, "{log:?}");
    still_serves(&bb, &bb.token(Scope::ALL)).await;
}

/// A `WebhookReceiver` keeps what its capacity allows and answers 503 to the rest, which the
/// server's delivery log shows as failed.
#[tokio::test]
async fn the_webhook_receiver_is_bounded() {
    let receiver = bitbucket_cloud_local::WebhookReceiver::start_with_capacity(2).await;
    let http = common::http();
    let mut statuses = Vec::new();
    for i in 0..4 {
        let response = http
            .post(receiver.url())
            .header("x-event-key", "repo:push")
            .body(format!("{{\"n\": {i}}}"))
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 503, 503]);
    let kept: Vec<Value> = receiver.received().iter().map(|r| r.json()).collect();
    assert_eq!(kept, [json!({ "n": 0 }), json!({ "n": 1 })]);
}

/// Many clients writing at once: nothing is lost, no id is given twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_lose_nothing() {
    let (bb, token) = server().await;
    bb.push("acme", "app", "feature", "Add", &[("a.txt", "a\n")]);
    let (status, pr) = post(
        &bb,
        &token,
        "/repositories/acme/app/pullrequests",
        json!({ "title": "Feature", "source": { "branch": { "name": "feature" } } })
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, 201, "{pr}");
    let id = pr["id"].as_u64().unwrap();
    let (writers, each) = (8, 25);
    let tasks: Vec<_> = (0..writers)
        .map(|w| {
            let (api, token) = (bb.base_url(), token.clone());
            tokio::spawn(async move {
                let http = common::http();
                let mut ids = Vec::new();
                for i in 0..each {
                    // Comment ids and issue ids (offset) must each be given once.
                    for (path, body, offset) in [
                        (
                            format!("/repositories/acme/app/pullrequests/{id}/comments"),
                            json!({ "content": { "raw": format!("writer {w}, comment {i}") } }),
                            0,
                        ),
                        (
                            "/repositories/acme/app/issues".to_string(),
                            json!({ "title": format!("writer {w}, issue {i}") }),
                            1_000_000,
                        ),
                    ] {
                        let (status, created) =
                            post_to(&http, &api, &token, &path, body.to_string().into_bytes())
                                .await;
                        assert_eq!(status, 201, "{created}");
                        ids.push(offset + created["id"].as_u64().unwrap());
                    }
                }
                ids
            })
        })
        .collect();
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    let total = writers * each;
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 2 * total, "an id was given twice");
    let (_, comments) = get(
        &bb,
        &token,
        &format!("/repositories/acme/app/pullrequests/{id}/comments?pagelen=1"),
    )
    .await;
    assert_eq!(comments["size"], total);
    let (_, issues) = get(&bb, &token, "/repositories/acme/app/issues?pagelen=1").await;
    assert_eq!(issues["size"], total);
    let (_, pr) = get(
        &bb,
        &token,
        &format!("/repositories/acme/app/pullrequests/{id}"),
    )
    .await;
    assert_eq!(pr["comment_count"], total);
}
