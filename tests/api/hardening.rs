//! A hostile or broken server, a stolen cursor or a bad token answer must not crash the
//! client, leak a secret or get past the policy (issue 14). Each test reproduces one defect
//! over loopback, against wiremock.

use crate::support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bitbucket_cloud::audit::{AuditRecord, Outcome, Purpose};
use bitbucket_cloud::policy::Policy;
use bitbucket_cloud::retry::RetryConfig;
use bitbucket_cloud::{Auth, Client, Error, OAuth, Scope, types};
use futures_util::{StreamExt as _, TryStreamExt as _};
use serde_json::json;
use support::capture::Capture;
use wiremock::matchers::{any, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Records = Arc<Mutex<Vec<AuditRecord>>>;

/// A client of `server` (under `/2.0`) whose audit records land in the returned list.
fn audited(server: &MockServer, auth: Auth, policy: Option<Policy>) -> (Client, Records) {
    audited_with(server, auth, policy, support::fast_retries())
}

fn audited_with(
    server: &MockServer,
    auth: Auth,
    policy: Option<Policy>,
    retry: RetryConfig,
) -> (Client, Records) {
    let records: Records = Arc::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .base_url(format!("{}/2.0", server.uri()))
        .auth(auth)
        .agent("bot")
        .retry(retry)
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().unwrap(), records)
}

async fn received(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| match r.url.query() {
            Some(query) => format!("{} {}?{query}", r.method, r.url.path()),
            None => format!("{} {}", r.method, r.url.path()),
        })
        .collect()
}

fn outcomes(records: &Records) -> Vec<(u32, Outcome, Option<u16>)> {
    records
        .lock()
        .unwrap()
        .iter()
        .map(|r| (r.attempt, r.outcome, r.status.map(|s| s.as_u16())))
        .collect()
}

// ---------------------------------------------------------------------------------------
// 1. Retry-After: 18446744073709551615 panicked (u64 seconds + 1 s overflowed).
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_huge_retry_after_is_a_429_with_the_budget_hint_not_a_panic() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(429).insert_header("Retry-After", "18446744073709551615"),
        )
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);

    let error = client.get_current_user().send().await.unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status(), 429);
    assert_eq!(api.attempts(), 1);
    assert!(api.hint().contains("RetryConfig::budget"), "{}", api.hint());
    // Read as a day: past any budget, so not waited for.
    assert_eq!(api.retry_after(), Some(Duration::from_secs(86_400)));
    assert_eq!(received(&server).await.len(), 1);
    assert_eq!(outcomes(&records), [(1, Outcome::Answered, Some(429))]);
}

#[tokio::test]
async fn a_huge_retry_after_on_a_503_and_absurd_rate_limit_headers_do_not_panic() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(503)
                .insert_header("Retry-After", "99999999999999999999999999999")
                .insert_header("X-RateLimit-Limit", "99999999999999999999999999")
                .insert_header("X-RateLimit-NearLimit", "true")
                .insert_header("X-RateLimit-Resource", "x".repeat(4000).as_str()),
        )
        .mount(&server)
        .await;
    let (client, _) = audited(&server, Auth::anonymous(), None);
    let error = client.get_current_user().send().await.unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    let rate_limit = client.rate_limit().unwrap();
    assert_eq!(rate_limit.limit, None);
    assert!(rate_limit.resource.unwrap().len() <= 64);
}

fn assert_denied_without<T: std::fmt::Debug>(result: Result<T, Error>, secret: &str) {
    let error = result.unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");
    assert!(!format!("{error} {error:?}").contains(secret), "{error}");
}

// ---------------------------------------------------------------------------------------
// 2. Cursors and `next` links that lead to another operation or repository were sent with
//    credentials when the policy had no `only_in` or the operation no `{workspace}`.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_cursor_to_another_repository_is_denied_without_any_policy() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [{"type": "pullrequest", "id": 1, "title": "private"}]
        })))
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);

    let stolen = format!("{}/2.0/repositories/ws/other/pullrequests", server.uri());
    let pages: Vec<_> = client.list_workspaces().resume(&stolen).collect().await;

    assert_eq!(pages.len(), 1);
    let Err(Error::Denied { operation, reason }) = &pages[0] else {
        panic!("{:?}", pages[0])
    };
    assert_eq!(*operation, "list_workspaces");
    assert!(reason.contains("/user/workspaces"), "{reason}");
    assert!(received(&server).await.is_empty(), "something was sent");
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Denied);
    assert_eq!(records[0].path, "/repositories/ws/other/pullrequests");
}

#[tokio::test]
async fn a_cursor_to_a_file_never_brings_it_back_even_with_a_policy() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("DATABASE_PASSWORD=hunter2\n"))
        .mount(&server)
        .await;
    // A policy that allows listing workspaces anywhere, and repositories only in ws/app.
    let policy = Policy::deny_all()
        .allow_operations(["list_workspaces", "list_pull_requests"])
        .only_in("ws/app");
    let (client, _) = audited(&server, Auth::access_token("t"), Some(policy));

    let file = format!(
        "{}/2.0/repositories/ws/app/src/main/secrets.env",
        server.uri()
    );
    let workspaces = client.list_workspaces().resume(&file).next().await.unwrap();
    assert_denied_without(workspaces, "hunter2");
    let pull_requests = client
        .repo("ws", "app")
        .list_pull_requests()
        .resume(&file)
        .items()
        .next()
        .await
        .unwrap();
    assert_denied_without(pull_requests, "hunter2");
    assert!(received(&server).await.is_empty(), "something was sent");
}

#[tokio::test]
async fn a_next_link_to_another_operation_is_refused_after_the_pages_before_it() {
    let server = MockServer::start().await;
    let base = format!("{}/2.0", server.uri());
    Mock::given(method("GET"))
        .and(path("/2.0/repositories/ws/app/commits"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [{"type": "commit", "hash": "c1"}],
            "next": format!("{base}/repositories/ws/app/src/main/secrets.env?page=2"),
        })))
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);

    let items: Vec<_> = client
        .repo("ws", "app")
        .list_commits()
        .stream()
        .collect()
        .await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[0].as_ref().unwrap().hash.as_deref(), Some("c1"));
    assert!(
        matches!(&items[1], Err(Error::Denied { reason, .. }) if reason.contains("not an instance")),
        "{:?}",
        items[1]
    );
    assert_eq!(received(&server).await.len(), 1);
    assert_eq!(
        outcomes(&records),
        [
            (1, Outcome::Answered, Some(200)),
            (1, Outcome::Denied, None)
        ]
    );
}

#[tokio::test]
async fn cursors_with_a_token_or_dot_segments_are_refused() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"values": []})))
        .mount(&server)
        .await;
    let (client, _) = audited(&server, Auth::access_token("t"), None);
    let base = format!("{}/2.0", server.uri());
    for cursor in [
        format!("{base}/repositories/ws/app/commits?page=2&access_token=attacker"),
        format!("{base}/repositories/ws/%2E%2E/commits"),
        format!("{base}/repositories/ws/app%2F..%2Fother/commits"),
        format!("{}/3.0/repositories/ws/app/commits", server.uri()),
    ] {
        let first = client
            .repo("ws", "app")
            .list_commits()
            .resume(&cursor)
            .next()
            .await
            .unwrap();
        assert!(
            matches!(first, Err(Error::Denied { .. })),
            "{cursor}: {first:?}"
        );
    }
    assert!(received(&server).await.is_empty(), "something was sent");

    // The same operation's own cursor still works.
    let own = format!("{base}/repositories/ws/app/commits?page=2");
    let pages: Vec<_> = client
        .repo("ws", "app")
        .list_commits()
        .resume(&own)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1);
}

// ---------------------------------------------------------------------------------------
// 3. A `next` link that points at itself sent requests forever.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_next_link_to_itself_fails_after_two_requests() {
    let server = MockServer::start().await;
    let looping = format!("{}/2.0/repositories/ws/app/commits?page=loop", server.uri());
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [{"type": "commit", "hash": "c"}],
            "next": looping,
        })))
        .mount(&server)
        .await;
    let (client, _) = audited(&server, Auth::access_token("t"), None);

    let items = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .repo("ws", "app")
            .list_commits()
            .stream()
            .collect::<Vec<_>>(),
    )
    .await
    .expect("the stream ends");
    assert_eq!(items.len(), 3, "{items:?}");
    assert!(items[..2].iter().all(Result::is_ok));
    let Err(error @ Error::PaginationLoop { pages: 2, .. }) = &items[2] else {
        panic!("{:?}", items[2])
    };
    assert!(error.to_string().contains("max_pages"), "{error}");
    assert_eq!(received(&server).await.len(), 2);
}

#[tokio::test]
async fn a_cycle_of_next_links_fails_when_it_comes_back() {
    let server = MockServer::start().await;
    let link = |page: &str| {
        format!(
            "{}/2.0/repositories/ws/app/commits?page={page}",
            server.uri()
        )
    };
    for (page, next) in [("a", "b"), ("b", "a")] {
        Mock::given(method("GET"))
            .and(query_param("page", page))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "values": [{"type": "commit", "hash": page}],
                "next": link(next),
            })))
            .mount(&server)
            .await;
    }
    let (client, _) = audited(&server, Auth::access_token("t"), None);
    let pages = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .repo("ws", "app")
            .list_commits()
            .resume(&link("a"))
            .collect::<Vec<_>>(),
    )
    .await
    .expect("the stream ends");
    assert_eq!(pages.len(), 3);
    assert!(matches!(pages[2], Err(Error::PaginationLoop { .. })));
    assert_eq!(received(&server).await.len(), 2);
}

// ---------------------------------------------------------------------------------------
// 4. OAuth token answers: `expires_in: u64::MAX` panicked, and an answer that did not decode
//    put the new tokens in the error, the tracing warning and the audit record.
// ---------------------------------------------------------------------------------------

const TOKEN_PATH: &str = "/site/oauth2/access_token";

fn consumer(server: &MockServer) -> OAuth {
    OAuth::new("consumer-key", "consumer-secret").token_url(format!("{}{TOKEN_PATH}", server.uri()))
}

async fn serve_user(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path("/2.0/user"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"display_name": "Bot"})))
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_token_that_never_expires_and_numbers_as_strings_are_accepted() {
    for expires_in in [json!(18446744073709551615u64), json!("7200"), json!(7200.0)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN_PATH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "fresh-access",
                "refresh_token": "fresh-refresh",
                "expires_in": expires_in,
            })))
            .expect(1)
            .mount(&server)
            .await;
        serve_user(&server).await;
        let (client, records) = audited(&server, Auth::oauth(consumer(&server)), None);

        let me = client.get_current_user().send().await.unwrap();
        assert_eq!(me.display_name.as_deref(), Some("Bot"), "{expires_in}");
        let requests = server.received_requests().await.unwrap();
        assert_eq!(
            requests[1].headers["authorization"], "Bearer fresh-access",
            "{expires_in}"
        );
        let records = records.lock().unwrap();
        let purposes: Vec<Purpose> = records.iter().map(|r| r.purpose).collect();
        assert_eq!(
            purposes,
            [
                Purpose::OAuthToken {
                    grant: "client_credentials"
                },
                Purpose::Call
            ]
        );
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_answer_that_does_not_decode_names_the_field_and_never_the_tokens() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "NEW-ACCESS-SECRET",
            "refresh_token": "NEW-REFRESH-SECRET",
            "expires_in": "two hours",
        })))
        .mount(&server)
        .await;
    serve_user(&server).await;
    let (client, records) = audited(
        &server,
        Auth::oauth(consumer(&server).refresh_token("OLD-REFRESH-SECRET")),
        None,
    );
    let logs = Capture::default();
    let error = {
        let _guard = tracing::subscriber::set_default(logs.clone());
        client.get_current_user().send().await.unwrap_err()
    };
    let Error::Auth { message, .. } = &error else {
        panic!("{error:?}")
    };
    assert!(message.contains("`expires_in`"), "{message}");
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1, "the token request");
    assert_eq!(
        records[0].purpose,
        Purpose::OAuthToken {
            grant: "refresh_token"
        }
    );
    let everything = format!(
        "{error} {error:?} {} {:?} {}",
        records[0],
        records[0],
        logs.text()
    );
    for secret in [
        "NEW-ACCESS-SECRET",
        "NEW-REFRESH-SECRET",
        "OLD-REFRESH-SECRET",
        "consumer-secret",
    ] {
        assert!(!everything.contains(secret), "{secret} in {everything}");
    }
}

#[tokio::test]
async fn a_refused_token_request_quotes_only_the_error_fields() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(TOKEN_PATH))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string("<html>debug: access_token=LEAKED-SECRET</html>"),
        )
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::oauth(consumer(&server)), None);
    let error = client.get_current_user().send().await.unwrap_err();
    let shown = format!("{error} {:?}", records.lock().unwrap());
    assert!(!shown.contains("LEAKED-SECRET"), "{shown}");
    assert!(shown.contains("not quoted"), "{shown}");
}

// ---------------------------------------------------------------------------------------
// 5. Base URLs: http:// to any host, userinfo, and an unchecked OAuth token URL.
// ---------------------------------------------------------------------------------------

#[test]
fn base_urls_must_be_https_except_on_loopback() {
    let build = |url: &str| Client::builder().base_url(url).build();
    for local in [
        "http://127.0.0.1:1/2.0",
        "http://localhost:8080",
        "http://[::1]:9",
    ] {
        assert!(build(local).is_ok(), "{local}");
    }
    let error = build("http://api.bitbucket.org/2.0").unwrap_err();
    assert!(error.to_string().contains("danger_accept_http"), "{error}");
    assert!(
        Client::builder()
            .base_url("http://proxy.internal/2.0")
            .danger_accept_http()
            .build()
            .is_ok()
    );

    let with_password = "https://me:hunter2@api.bitbucket.org/2.0";
    let builder = Client::builder().base_url(with_password);
    assert!(!format!("{builder:?}").contains("hunter2"));
    let error = builder.build().unwrap_err();
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(error.to_string().contains("Auth::api_token"), "{error}");
    for bad in [
        "https://api.bitbucket.org/2.0?pagelen=5",
        "https://api.bitbucket.org/2.0#x",
    ] {
        assert!(build(bad).is_err(), "{bad}");
    }
}

#[tokio::test]
async fn an_oauth_token_url_is_checked_before_anything_is_sent() {
    let oauth = OAuth::new("key", "consumer-secret")
        .token_url("http://bitbucket.example.com/site/oauth2/access_token");
    let error = Client::builder()
        .auth(Auth::oauth(oauth.clone()))
        .build()
        .unwrap_err();
    assert!(error.to_string().contains("OAuth token URL"), "{error}");
    let error = oauth.exchange_code("code").await.unwrap_err();
    assert!(matches!(error, Error::Config(_)), "{error:?}");
    assert!(
        Client::builder()
            .auth(Auth::oauth(oauth.danger_accept_http()))
            .build()
            .is_ok()
    );
    let with_password = OAuth::new("key", "consumer-secret")
        .token_url("https://key:consumer-secret@bitbucket.org/site/oauth2/access_token");
    assert!(!format!("{with_password:?}").contains("consumer-secret"));
    let error = Client::builder()
        .auth(Auth::oauth(with_password))
        .build()
        .unwrap_err();
    assert!(!error.to_string().contains("consumer-secret"), "{error}");

    // A local token endpoint over plain http is fine.
    let server = MockServer::start().await;
    assert!(
        Client::builder()
            .base_url(server.uri())
            .auth(Auth::oauth(consumer(&server)))
            .build()
            .is_ok()
    );
}

// ---------------------------------------------------------------------------------------
// 6. Audit gaps: dropped calls, retried 429s and token requests left no record.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn each_attempt_of_a_retried_call_is_recorded() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "0"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    serve_user(&server).await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);
    client.get_current_user().send().await.unwrap();
    assert_eq!(
        outcomes(&records),
        [
            (1, Outcome::Answered, Some(429)),
            (2, Outcome::Answered, Some(429)),
            (3, Outcome::Answered, Some(200)),
        ]
    );
    let last = records.lock().unwrap()[2].to_string();
    assert!(last.ends_with("(attempt 3)"), "{last}");
}

#[tokio::test]
async fn a_call_dropped_by_a_timeout_is_recorded_as_cancelled() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"id": 42}))
                .set_delay(Duration::from_secs(5)),
        )
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);
    let merge = client
        .repo("ws", "app")
        .merge_pull_request()
        .pull_request_id(42)
        .body(types::PullRequestMergeParameters::default())
        .send();
    let timed_out = tokio::time::timeout(Duration::from_millis(300), merge).await;
    assert!(timed_out.is_err());
    assert_eq!(received(&server).await.len(), 1);
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Cancelled);
    assert!(
        records[0]
            .to_string()
            .contains("tried to merge pull request 42 in ws/app: allowed, cancelled"),
        "{}",
        records[0]
    );
}

#[tokio::test]
async fn pages_on_their_way_when_a_stream_is_dropped_are_recorded_as_cancelled() {
    let server = MockServer::start().await;
    let base = format!("{}/2.0/repositories/ws/app/pullrequests", server.uri());
    let page = |n: u64| {
        json!({
            "values": [{"type": "pullrequest", "id": n}],
            "page": n, "pagelen": 1, "size": 10,
            "next": format!("{base}?pagelen=1&page={}", n + 1),
        })
    };
    Mock::given(method("GET"))
        .and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(1)))
        .mount(&server)
        .await;
    // The other pages take long: still on their way when the stream is dropped.
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(page(2))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let (client, records) = audited(&server, Auth::access_token("t"), None);

    let mut pages = client
        .repo("ws", "app")
        .list_pull_requests()
        .pagelen(1)
        .pages()
        .concurrency(3);
    let first = pages.try_next().await.unwrap().unwrap();
    assert_eq!(first.items.len(), 1);
    // Let the next requests leave while the consumer waits.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), pages.try_next())
            .await
            .is_err()
    );
    drop(pages);

    let sent = received(&server).await.len();
    assert_eq!(sent, 4, "the first page and three on their way");
    let outcomes = outcomes(&records);
    assert_eq!(outcomes.len(), sent, "{outcomes:?}");
    assert_eq!(outcomes[0], (1, Outcome::Answered, Some(200)));
    assert!(
        outcomes[1..]
            .iter()
            .all(|(_, outcome, status)| *outcome == Outcome::Cancelled && status.is_none()),
        "{outcomes:?}"
    );
}

// ---------------------------------------------------------------------------------------
// The retry budget covers the whole call once it retries.
// ---------------------------------------------------------------------------------------

#[tokio::test]
async fn a_retry_that_hangs_is_abandoned_when_the_budget_runs_out() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({}))
                .set_delay(Duration::from_secs(20)),
        )
        .mount(&server)
        .await;
    let retry = support::fast_retries().budget(Duration::from_millis(800));
    let (client, records) = audited_with(&server, Auth::access_token("t"), None, retry);
    let error = tokio::time::timeout(Duration::from_secs(10), client.get_current_user().send())
        .await
        .expect("the budget ends the call, not the 30 s timeout")
        .unwrap_err();
    assert!(
        matches!(error, Error::BudgetExhausted { attempt: 2, .. }),
        "{error:?}"
    );
    assert_eq!(
        outcomes(&records),
        [
            (1, Outcome::Answered, Some(503)),
            (2, Outcome::NoAnswer, None)
        ]
    );
}

// ---------------------------------------------------------------------------------------
// 7. Redaction: secured pipeline variables and secret-named keys in `extra`.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn secured_variables_and_secret_keys_in_extra_never_print() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "type": "pipeline",
            "build_number": 7,
            "variables": [
                {"key": "DEPLOY_KEY", "value": "VALUE-SECRET", "secured": true},
                {"key": "REGION", "value": "eu-west-1", "secured": false}
            ],
            "future_field": {"nested": [{"apiToken": "EXTRA-SECRET", "name": "shown"}]},
        })))
        .mount(&server)
        .await;
    let (client, _) = audited(&server, Auth::access_token("t"), None);
    let body: types::Pipeline = serde_json::from_value(json!({
        "variables": [{"key": "DEPLOY_KEY", "value": "VALUE-SECRET", "secured": true}],
        "client_secret": "EXTRA-SECRET",
    }))
    .unwrap();
    let builder = client.repo("ws", "app").run_pipeline().body(body.clone());
    let logs = Capture::default();
    let ran = {
        let _guard = tracing::subscriber::set_default(logs.clone());
        builder.send().await.unwrap()
    };
    let shown = format!("{body:?} {ran:?} {}", logs.text());
    for secret in ["VALUE-SECRET", "EXTRA-SECRET"] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
    assert!(shown.contains("eu-west-1"), "{shown}");
    assert!(shown.contains("\"shown\""), "{shown}");
    // The request still carried the secured value.
    let requests = server.received_requests().await.unwrap();
    assert!(String::from_utf8_lossy(&requests[0].body).contains("VALUE-SECRET"));
}

// ---------------------------------------------------------------------------------------
// Snippets of 2xx bodies are the caller's, never the audit's or the logs'.
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "current_thread")]
async fn a_2xx_body_that_does_not_decode_stays_out_of_audit_and_logs() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("SNIPPET-SECRET is not JSON"))
        .mount(&server)
        .await;
    let policy = Policy::deny_all().allow_scope(Scope::Repository);
    let (client, records) = audited(&server, Auth::access_token("t"), Some(policy));
    let logs = Capture::default();
    let (single, listed) = {
        let _guard = tracing::subscriber::set_default(logs.clone());
        let single = client.repo("ws", "app").get_repository().send().await;
        let listed: Vec<_> = client
            .repo("ws", "app")
            .list_commits()
            .stream()
            .collect()
            .await;
        (single, listed)
    };
    let error = single.unwrap_err();
    assert!(matches!(error, Error::Decode { .. }));
    assert!(
        error.to_string().contains("SNIPPET-SECRET"),
        "kept for the caller"
    );
    assert!(matches!(listed[0], Err(Error::Decode { .. })));
    let records = format!("{:?}", records.lock().unwrap());
    assert!(!records.contains("SNIPPET-SECRET"), "{records}");
    assert!(!logs.text().contains("SNIPPET-SECRET"), "{}", logs.text());
}
