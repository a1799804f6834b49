//! Redirects (issue 12): the HTTP client follows none; the transport follows only those the
//! operation declares, each as its kind allows, and records every request. Over loopback,
//! against wiremock: the API on one server, "storage" on a second origin.

use std::sync::{Arc, Mutex};

use bitbucket_cloud::audit::{AuditRecord, Outcome, Purpose};
use bitbucket_cloud::policy::Policy;
use bitbucket_cloud::{Auth, Client, Error, Scope, types};
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::matchers::{any, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Records = Arc<Mutex<Vec<AuditRecord>>>;

fn client(server: &MockServer, policy: Option<Policy>) -> (Client, Records) {
    let records: Records = Arc::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .base_url(format!("{}/2.0", server.uri()))
        .auth(Auth::access_token("secret-token"))
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().unwrap(), records)
}

/// A 100 kB download whose bytes say where they are, so a reordering or a gap shows.
fn release() -> Vec<u8> {
    (0..100_000u32).map(|i| (i % 251) as u8).collect()
}

fn redirect(status: u16, location: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("Location", location)
}

async fn requests(server: &MockServer) -> Vec<wiremock::Request> {
    server.received_requests().await.unwrap()
}

fn summary(records: &Records) -> Vec<(String, &'static str, Outcome, Option<u16>)> {
    records
        .lock()
        .unwrap()
        .iter()
        .map(|r| {
            let purpose = match r.purpose {
                Purpose::Call => "call".to_string(),
                Purpose::Redirected { from } => format!("from {}", from.name),
                Purpose::Storage => "storage".to_string(),
                _ => "other".to_string(),
            };
            (
                purpose,
                r.operation.name,
                r.outcome,
                r.status.map(|s| s.as_u16()),
            )
        })
        .collect()
}

#[tokio::test]
async fn an_undeclared_redirect_is_an_error_that_says_where_it_pointed() {
    let server = MockServer::start().await;
    Mock::given(path("/2.0/repositories/ws/app"))
        .respond_with(redirect(302, "/2.0/repositories/ws/other?token=hidden"))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .get_repository()
        .send()
        .await
        .unwrap_err();
    let Error::Redirect {
        operation,
        status,
        location,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*operation, "get_repository");
    assert_eq!(status.as_u16(), 302);
    assert_eq!(
        location,
        &format!("{}/2.0/repositories/ws/other", server.uri())
    );
    let text = error.to_string();
    assert!(text.contains("declares no redirect"), "{text}");
    assert!(!text.contains("hidden"), "{text}");
    assert_eq!(requests(&server).await.len(), 1);
    assert_eq!(
        summary(&records),
        [(
            "call".to_string(),
            "get_repository",
            Outcome::Answered,
            Some(302)
        )]
    );
}

#[tokio::test]
async fn a_307_with_a_body_is_not_sent_again_anywhere() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(redirect(
            307,
            &format!("{}/2.0/repositories/ws/app/hooks", elsewhere.uri()),
        ))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({})))
        .mount(&elsewhere)
        .await;
    let (client, _) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .create_webhook()
        .body(types::WebhookSubscription {
            url: Some("https://ci.example.com/hook".into()),
            secret: Some("webhook-secret".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Redirect { .. }), "{error:?}");
    assert!(error.to_string().contains(&elsewhere.uri()), "{error}");
    assert!(requests(&elsewhere).await.is_empty());
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_declared_same_origin_redirect_is_followed_as_its_target_and_audited_twice() {
    let server = MockServer::start().await;
    Mock::given(path("/2.0/repositories/ws/app/pullrequests/7/diff"))
        .respond_with(redirect(
            302,
            "/2.0/repositories/ws/app/diff/ws/app:abc%0Ddef?from_pullrequest_id=7",
        ))
        .mount(&server)
        .await;
    Mock::given(path("/2.0/repositories/ws/app/diff/ws/app:abc%0Ddef"))
        .and(header("Authorization", "Bearer secret-token"))
        .respond_with(ResponseTemplate::new(200).set_body_string("diff --git a/x b/x\n"))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);
    let diff = client
        .repo("ws", "app")
        .get_pull_request_diff()
        .pull_request_id(7)
        .send()
        .await
        .unwrap();
    assert_eq!(diff, "diff --git a/x b/x\n");
    assert_eq!(
        summary(&records),
        [
            (
                "call".to_string(),
                "get_pull_request_diff",
                Outcome::Answered,
                Some(302)
            ),
            (
                "from get_pull_request_diff".to_string(),
                "get_diff",
                Outcome::Answered,
                Some(200)
            ),
        ]
    );
    let line = records.lock().unwrap()[1].to_string();
    assert!(
        line.contains("redirected from `get_pull_request_diff`"),
        "{line}"
    );

    // Streamed, the body says whose answer it is.
    let body = client
        .repo("ws", "app")
        .get_pull_request_diff()
        .pull_request_id(7)
        .send_streaming()
        .await
        .unwrap();
    assert_eq!(body.operation().name, "get_diff");
    assert_eq!(body.text().await.unwrap(), "diff --git a/x b/x\n");
}

#[tokio::test]
async fn a_declared_redirect_to_another_origin_is_refused_before_anything_goes_there() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    Mock::given(any())
        .respond_with(redirect(
            302,
            &format!("{}/2.0/repositories/ws/app/diff/a..b", elsewhere.uri()),
        ))
        .mount(&server)
        .await;
    let (client, _) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .get_pull_request_diff()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("leaves the client's origin"),
        "{error}"
    );
    assert!(requests(&elsewhere).await.is_empty());
}

#[tokio::test]
async fn a_declared_redirect_to_a_forbidden_repository_is_denied_and_audited() {
    let server = MockServer::start().await;
    Mock::given(path("/2.0/repositories/ws/app/pullrequests/7/diff"))
        .respond_with(redirect(302, "/2.0/repositories/ws/secret/diff/a..b"))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("secret diff"))
        .mount(&server)
        .await;
    let policy = Policy::deny_all()
        .allow_scope(Scope::Pullrequest)
        .allow_scope(Scope::Repository)
        .only_in("ws/app");
    let (client, records) = client(&server, Some(policy));
    let error = client
        .repo("ws", "app")
        .get_pull_request_diff()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    let Error::Denied { operation, .. } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*operation, "get_diff");
    assert_eq!(
        requests(&server).await.len(),
        1,
        "only the first request left"
    );
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].outcome, Outcome::Denied);
    assert_eq!(records[1].path, "/repositories/ws/secret/diff/a..b");
    assert!(
        matches!(records[1].purpose, Purpose::Redirected { from } if from.name == "get_pull_request_diff")
    );
}

#[tokio::test]
async fn a_declared_redirect_to_a_path_that_is_not_its_target_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/2.0/repositories/ws/app/pullrequests/7/diff"))
        .respond_with(redirect(
            302,
            "/2.0/repositories/ws/app/src/main/secrets.txt",
        ))
        .mount(&server)
        .await;
    let (client, _) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .get_pull_request_diff()
        .pull_request_id(7)
        .send()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("matches no operation"),
        "{error}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_storage_redirect_is_followed_without_credentials_and_audited() {
    let server = MockServer::start().await;
    let storage = MockServer::start().await;
    Mock::given(path("/2.0/repositories/ws/app/downloads/app.tar.gz"))
        .respond_with(redirect(
            302,
            &format!("{}/files/app.tar.gz?signature=s3cr3t", storage.uri()),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/files/app.tar.gz"))
        .respond_with(ResponseTemplate::new(200).set_body_bytes(release()))
        .mount(&storage)
        .await;
    let (client, records) = client(&server, None);
    let repo = client.repo("ws", "app");
    let bytes = repo
        .get_download()
        .filename("app.tar.gz")
        .send()
        .await
        .unwrap();
    assert_eq!(bytes.len(), 100_000);
    let chunks: Vec<bytes::Bytes> = repo
        .get_download()
        .filename("app.tar.gz")
        .send_streaming()
        .await
        .unwrap()
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(chunks.concat(), release());
    // And as an `AsyncRead`, byte for byte.
    let mut reader = repo
        .get_download()
        .filename("app.tar.gz")
        .send_streaming()
        .await
        .unwrap()
        .into_async_read();
    let mut read = Vec::new();
    tokio::io::AsyncReadExt::read_to_end(&mut reader, &mut read)
        .await
        .unwrap();
    assert_eq!(read, release());

    let at_storage = requests(&storage).await;
    assert_eq!(at_storage.len(), 3);
    for request in &at_storage {
        assert!(request.headers.get("authorization").is_none());
        assert_eq!(request.url.query(), Some("signature=s3cr3t"));
    }
    assert!(
        requests(&server)
            .await
            .iter()
            .all(|r| r.headers.get("authorization").is_some())
    );
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 6);
    assert_eq!(records[1].purpose, Purpose::Storage);
    assert_eq!(
        records[1].path,
        format!("{}/files/app.tar.gz", storage.uri())
    );
    assert!(!records[1].to_string().contains("s3cr3t"));
}

#[tokio::test]
async fn a_redirect_loop_stops_after_a_few_hops() {
    let server = MockServer::start().await;
    let storage = MockServer::start().await;
    Mock::given(any())
        .respond_with(redirect(302, &format!("{}/loop", storage.uri())))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(redirect(302, "/loop"))
        .mount(&storage)
        .await;
    let (client, _) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .get_download()
        .filename("app.tar.gz")
        .send()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("more than 3 redirects"),
        "{error}"
    );
    // Three redirects followed (one from the API, two from storage), the fourth refused.
    assert_eq!(requests(&storage).await.len(), 3);
}

#[tokio::test]
async fn storage_is_followed_only_over_https_or_to_loopback() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(redirect(302, "http://storage.example.com/file?sig=1"))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);
    let error = client
        .repo("ws", "app")
        .get_download()
        .filename("app.tar.gz")
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("only over https://"), "{text}");
    assert!(!text.contains("sig=1"), "{text}");
    assert_eq!(records.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_json_answer_over_the_limit_is_refused_with_a_hint() {
    let server = MockServer::start().await;
    let big = json!({ "values": [], "description": "x".repeat(4096) });
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(big))
        .mount(&server)
        .await;
    let client = Client::builder()
        .base_url(server.uri())
        .max_json_body(1024)
        .build()
        .unwrap();
    let error = client
        .repo("ws", "app")
        .get_repository()
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::TooLarge { limit: 1024, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("max_json_body"), "{error}");
    // Under the limit, the same answer is read.
    let client = Client::builder().base_url(server.uri()).build().unwrap();
    client
        .repo("ws", "app")
        .get_repository()
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn file_paths_keep_their_slashes_and_dot_segments_are_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/repositories/ws/app/src/main/src/lib.rs"))
        .respond_with(ResponseTemplate::new(200).set_body_string("fn main() {}"))
        .mount(&server)
        .await;
    let client = Client::builder().base_url(server.uri()).build().unwrap();
    let repo = client.repo("ws", "app");
    let file = repo
        .get_source()
        .commit("main")
        .path("src/lib.rs")
        .send()
        .await
        .unwrap();
    assert_eq!(&file[..], b"fn main() {}");
    let error = repo
        .get_source()
        .commit("main")
        .path("src/../../../other/src/main/x")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn a_list_that_redirects_follows_the_targets_next_links() {
    let server = MockServer::start().await;
    let target = "/2.0/repositories/ws/app/diffstat/ws/app:abc%0Ddef";
    Mock::given(path("/2.0/repositories/ws/app/pullrequests/3/diffstat"))
        .respond_with(redirect(302, &format!("{target}?from_pullrequest_id=3")))
        .mount(&server)
        .await;
    let entry =
        |name: &str| json!({"type": "diffstat", "status": "modified", "new": {"path": name}});
    Mock::given(path(target))
        .and(wiremock::matchers::query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [entry("b.rs")], "pagelen": 1
        })))
        .mount(&server)
        .await;
    Mock::given(path(target))
        .and(wiremock::matchers::query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [entry("a.rs")], "pagelen": 1,
            "next": format!("{}{target}?from_pullrequest_id=3&page=2", server.uri()),
        })))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);
    let files: Vec<_> = client
        .repo("ws", "app")
        .get_pull_request_diffstat()
        .pull_request_id(3)
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(files.len(), 2);
    let operations: Vec<&str> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.operation.name)
        .collect();
    assert_eq!(
        operations,
        ["get_pull_request_diffstat", "get_diffstat", "get_diffstat"]
    );
}
