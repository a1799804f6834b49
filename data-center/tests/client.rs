//! The overlay over real HTTP on loopback (wiremock): credentials, the base URL rules, the
//! policy, errors, retries and page streams.

use std::time::Duration;

use bitbucket_data_center::retry::RetryConfig;
use bitbucket_data_center::{Auth, Client, Error, Permission, Policy};
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn client(server: &MockServer, auth: Auth) -> Client {
    Client::builder()
        .server_url(server.uri())
        .auth(auth)
        .retry(
            RetryConfig::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_retries(2),
        )
        .build()
        .expect("a loopback URL is accepted")
}

fn page(start: u64, values: &[&str], last: bool) -> serde_json::Value {
    let values: Vec<_> = values
        .iter()
        .map(|k| json!({ "key": k, "name": k }))
        .collect();
    let mut page = json!({
        "size": values.len(), "limit": 2, "start": start, "isLastPage": last, "values": values
    });
    if !last {
        page["nextPageStart"] = json!(start + 2);
    }
    page
}

#[tokio::test]
async fn bearer_and_basic_credentials_are_sent_under_rest() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PROJ"))
        .and(header("authorization", "Bearer t0ken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "key": "PROJ", "id": 1 })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/BASIC"))
        .and(header("authorization", "Basic amRvZTpwdw=="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "key": "BASIC" })))
        .expect(1)
        .mount(&server)
        .await;
    let project = client(&server, Auth::bearer("t0ken"))
        .get_project()
        .project_key("PROJ")
        .send()
        .await
        .unwrap();
    assert_eq!(project.key.as_deref(), Some("PROJ"));
    let project = client(&server, Auth::basic("jdoe", "pw"))
        .get_project()
        .project_key("BASIC")
        .send()
        .await
        .unwrap();
    assert_eq!(project.key.as_deref(), Some("BASIC"));
}

#[tokio::test]
async fn a_stream_follows_next_page_start_to_the_last_page_and_can_resume() {
    let server = MockServer::start().await;
    for (start, keys, last) in [
        (0, ["A", "B"].as_slice(), false),
        (2, &["C", "D"], false),
        (4, &["E"], true),
    ] {
        let mut mock = Mock::given(method("GET"))
            .and(path("/rest/api/latest/projects"))
            .and(query_param("limit", "100"));
        mock = if start > 0 {
            mock.and(query_param("start", start.to_string()))
        } else {
            mock.and(query_param_is_missing("start"))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(page(start, keys, last)))
            .mount(&server)
            .await;
    }
    let client = client(&server, Auth::anonymous());
    let keys: Vec<String> = client
        .get_projects()
        .stream()
        .map_ok(|p| p.key.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(keys, ["A", "B", "C", "D", "E"]);

    // Stop after one page, then continue from the cursor with a fresh builder.
    let mut pages = client.get_projects().pages().max_pages(1);
    let first = pages.try_next().await.unwrap().unwrap();
    assert_eq!(first.next_page_start, Some(2));
    assert!(pages.try_next().await.unwrap().is_none());
    let cursor = pages.resume_cursor().expect("more pages");
    let rest: Vec<_> = client
        .get_projects()
        .resume(&cursor)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
}

#[tokio::test]
async fn a_cursor_to_another_server_is_refused_without_sending() {
    let server = MockServer::start().await;
    let client = client(&server, Auth::bearer("t0ken"));
    let error = client
        .get_projects()
        .resume("https://evil.example/rest/api/latest/projects?start=2")
        .try_next()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error}");
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_server_that_ignores_start_cannot_loop_the_stream() {
    let server = MockServer::start().await;
    // Always the first page, whatever `start` asks.
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(0, &["A", "B"], false)))
        .expect(2)
        .mount(&server)
        .await;
    let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(
        client(&server, Auth::anonymous()).get_projects().pages(),
    )
    .await;
    assert_eq!(results.len(), 3, "two pages, then the error");
    assert!(
        results[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("nextPageStart")
    );
}

#[tokio::test]
async fn a_next_page_start_that_does_not_advance_ends_the_list_with_an_error() {
    let server = MockServer::start().await;
    let mut looping = page(0, &["A"], false);
    looping["nextPageStart"] = json!(0);
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .respond_with(ResponseTemplate::new(200).set_body_json(looping))
        .expect(1)
        .mount(&server)
        .await;
    let results: Vec<_> = futures_util::StreamExt::collect::<Vec<_>>(
        client(&server, Auth::anonymous()).get_projects().stream(),
    )
    .await;
    assert_eq!(results.len(), 2);
    assert!(
        results[1]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("nextPageStart")
    );
}

#[tokio::test]
async fn the_policy_refuses_before_anything_is_sent() {
    let server = MockServer::start().await;
    let client = Client::builder()
        .server_url(server.uri())
        .policy(Policy::new().grant(Permission::RepoRead))
        .build()
        .unwrap();
    let error = client
        .merge_pull_request()
        .project_key("P")
        .repository_slug("r")
        .pull_request_id("1")
        .send()
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("REPO_WRITE") && text.contains("REPO_READ"),
        "{text}"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn errors_keep_the_servers_messages_and_extra_fields() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(409).set_body_json(json!({
            "errors": [{
                "context": null,
                "message": "You are attempting to modify a pull request based on out-of-date information.",
                "exceptionName": "com.atlassian.bitbucket.pull.PullRequestOutOfDateException",
                "currentVersion": 3,
                "expectedVersion": 1
            }]
        })))
        .mount(&server)
        .await;
    let error = client(&server, Auth::bearer("t"))
        .delete_pull_request()
        .project_key("P")
        .repository_slug("r")
        .pull_request_id("1")
        .body(bitbucket_data_center::types::RestPullRequestDeleteRequest {
            version: Some(1),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error}")
    };
    assert_eq!(api.status().as_u16(), 409);
    assert_eq!(api.errors[0].extra["currentVersion"], 3);
    assert!(
        error.to_string().contains("out-of-date information"),
        "{error}"
    );
    assert!(api.hint().contains("version"));
}

#[tokio::test]
async fn a_get_is_retried_after_a_503_and_a_post_is_not() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "key": "P" })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    let client = client(&server, Auth::bearer("t"));
    let project = client.get_project().project_key("P").send().await.unwrap();
    assert_eq!(project.key.as_deref(), Some("P"));
    let error = client
        .create_project()
        .body(bitbucket_data_center::types::RestProject {
            key: Some("P".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(503));
    assert!(error.to_string().contains("never repeated"), "{error}");
}

#[test]
fn server_urls_are_https_unless_loopback_or_opted_in() {
    assert!(
        Client::builder()
            .server_url("https://bitbucket.example.com")
            .build()
            .is_ok()
    );
    assert!(
        Client::builder()
            .server_url("http://localhost:7990")
            .build()
            .is_ok()
    );
    let clear = Client::builder()
        .server_url("http://bitbucket.example.com")
        .build();
    assert!(clear.unwrap_err().to_string().contains("clear text"));
    assert!(
        Client::builder()
            .server_url("http://bitbucket.internal")
            .danger_accept_http()
            .build()
            .is_ok()
    );
    let with_password = Client::builder()
        .server_url("https://u:p@bitbucket.example.com")
        .build();
    assert!(with_password.is_err());
    assert!(
        Client::builder()
            .build()
            .unwrap_err()
            .to_string()
            .contains("server URL")
    );
}

#[tokio::test]
async fn concurrent_pages_come_in_order_and_stop_at_the_last() {
    let server = MockServer::start().await;
    // 7 items, 2 a page: pages at 0, 2, 4, 6 (the last).
    let keys = ["A", "B", "C", "D", "E", "F", "G"];
    for start in [0u64, 2, 4, 6] {
        let end = (start as usize + 2).min(keys.len());
        let last = end == keys.len();
        let mock = Mock::given(method("GET")).and(path("/rest/api/latest/projects"));
        let mock = if start == 0 {
            mock.and(query_param_is_missing("start"))
        } else {
            mock.and(query_param("start", start.to_string()))
        };
        mock.respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(if start == 2 { 80 } else { 5 }))
                .set_body_json(page(start, &keys[start as usize..end], last)),
        )
        .mount(&server)
        .await;
    }
    // Past the end: an empty last page (what a prefetch beyond the list gets).
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(8, &[], true)))
        .mount(&server)
        .await;
    let got: Vec<String> = client(&server, Auth::anonymous())
        .get_projects()
        .limit(2)
        .stream()
        .concurrency(3)
        .map_ok(|p| p.key.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, keys);
    let requests = server.received_requests().await.unwrap().len();
    assert!(
        (4..=4 + 2).contains(&requests),
        "{requests} requests for 4 pages at 3 at once"
    );
}

/// A file path glued to literal text in its template's segment (`compare/diff{path}`) goes
/// out after one `/`, as Data Center expects it, whether the caller wrote it with a leading
/// `/` or not; its segments are encoded one by one.
#[tokio::test]
async fn a_file_path_after_literal_text_keeps_its_leading_slash() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = client(&server, Auth::bearer("t0ken"));
    for path in ["/src/a b.rs", "src/a b.rs"] {
        client
            .get_compare_diff()
            .project_key("PROJ")
            .repository_slug("repo")
            .path(path)
            .from("feature")
            .to("main")
            .send()
            .await
            .unwrap();
    }
    client
        .get_compare_diff_stats_summary()
        .project_key("PROJ")
        .repository_slug("repo")
        .path("/src/a.rs")
        .send()
        .await
        .unwrap();
    // A trailing `/{path}` stays as it was.
    client
        .get_raw_file()
        .project_key("PROJ")
        .repository_slug("repo")
        .path("/src/a.rs")
        .send()
        .await
        .unwrap();
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| request.url.path().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "/rest/api/latest/projects/PROJ/repos/repo/compare/diff/src/a%20b.rs",
            "/rest/api/latest/projects/PROJ/repos/repo/compare/diff/src/a%20b.rs",
            "/rest/api/latest/projects/PROJ/repos/repo/compare/diff-stats-summary/src/a.rs",
            "/rest/api/latest/projects/PROJ/repos/repo/raw/src/a.rs",
        ]
    );
}

#[tokio::test]
async fn guesses_the_next_page_start_contradicts_are_dropped() {
    let server = MockServer::start().await;
    // The first page says `limit: 2` but the server moves `start` by 3: the guesses made from
    // the limit (5, 7) are wrong, and the list goes on from `nextPageStart`.
    let keys = ["A", "B", "C", "D", "E"];
    for (start, values, next) in [
        (0u64, &keys[0..2], Some(3u64)),
        (3, &keys[2..4], Some(6)),
        (6, &keys[4..5], None),
    ] {
        let mut body = page(start, values, next.is_none());
        if let Some(next) = next {
            body["nextPageStart"] = json!(next);
        }
        let mock = Mock::given(method("GET")).and(path("/rest/api/latest/projects"));
        let mock = if start == 0 {
            mock.and(query_param_is_missing("start"))
        } else {
            mock.and(query_param("start", start.to_string()))
        };
        mock.respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(20))
                .set_body_json(body),
        )
        .mount(&server)
        .await;
    }
    // What a wrong guess gets: a page that must never be yielded.
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_delay(Duration::from_millis(60))
                .set_body_json(page(5, &["WRONG"], false)),
        )
        .mount(&server)
        .await;
    let got: Vec<String> = client(&server, Auth::anonymous())
        .get_projects()
        .stream()
        .concurrency(3)
        .map_ok(|p| p.key.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(got, keys);
    let guessed = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .any(|r| r.url.query().is_some_and(|q| q.contains("start=5")));
    assert!(
        guessed,
        "a guess was on its way when page 3 contradicted it"
    );
}

#[tokio::test]
async fn max_items_stops_the_requests_and_the_items_cursor_resumes_the_page_read_partly() {
    let server = MockServer::start().await;
    let keys = ["A", "B", "C", "D", "E", "F", "G"];
    for start in [0u64, 2, 4, 6] {
        let end = (start as usize + 2).min(keys.len());
        let mock = Mock::given(method("GET")).and(path("/rest/api/latest/projects"));
        let mock = if start == 0 {
            mock.and(query_param_is_missing("start"))
        } else {
            mock.and(query_param("start", start.to_string()))
        };
        mock.respond_with(ResponseTemplate::new(200).set_body_json(page(
            start,
            &keys[start as usize..end],
            end == keys.len(),
        )))
        .mount(&server)
        .await;
    }
    let client = client(&server, Auth::anonymous());
    let mut items = client
        .get_projects()
        .limit(2)
        .stream()
        .concurrency(4)
        .max_items(3);
    let mut got = Vec::new();
    while let Some(project) = items.try_next().await.unwrap() {
        got.push(project.key.unwrap_or_default());
    }
    assert_eq!(got, ["A", "B", "C"]);
    // Pages 0 and 2 hold the first 3 items: nothing more is asked for.
    let requests = server.received_requests().await.unwrap().len();
    assert!(requests <= 2, "{requests} requests for 3 items");
    // The page at 2 was read partly: the cursor asks for it again.
    let cursor = items.resume_cursor().expect("more to read");
    assert!(cursor.contains("start=2"), "{cursor}");
    let rest: Vec<String> = client
        .get_projects()
        .resume(&cursor)
        .items()
        .map_ok(|p| p.key.unwrap_or_default())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest, ["C", "D", "E", "F", "G"]);
}
