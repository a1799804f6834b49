//! The audit trail over real HTTP on loopback (wiremock): one record for each request the
//! client sends (each attempt, each page) and one for each request its policy refuses, the
//! same records as `bitbucket-cloud`'s; none holds a credential or a query string.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use bitbucket_data_center::audit::{AuditRecord, Outcome, Purpose};
use bitbucket_data_center::policy::Decision;
use bitbucket_data_center::retry::RetryConfig;
use bitbucket_data_center::{Auth, Client, Error, Permission, Policy};
use futures_util::TryStreamExt as _;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

type Records = Arc<Mutex<Vec<AuditRecord>>>;

const TOKEN: &str = "s3cr3t-t0ken-value";
const PASSWORD: &str = "p4ssw0rd-value";

/// A client of `server` labelled `bot`, whose records land in the returned list.
fn audited(server_url: &str, auth: Auth, policy: Option<Policy>) -> (Client, Records) {
    let records = Records::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .server_url(server_url)
        .auth(auth)
        .agent("bot")
        .retry(
            RetryConfig::default()
                .backoff(Duration::from_millis(1), Duration::from_millis(5))
                .max_retries(2),
        )
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().expect("a loopback URL"), records)
}

/// `get_project` of `PRJ` answers `answer`, for the next `times` requests (all when `None`).
async fn project_answers(server: &MockServer, answer: ResponseTemplate, times: Option<u64>) {
    let mock = Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects/PRJ"))
        .respond_with(answer);
    let mock = match times {
        Some(n) => mock.up_to_n_times(n).expect(n),
        None => mock,
    };
    mock.mount(server).await;
}

/// Calls `get_project` of `PRJ`.
async fn get_project(client: &Client) -> Result<(), Error> {
    client
        .get_project()
        .project_key("PRJ")
        .send()
        .await
        .map(drop)
}

fn project() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({ "key": "PRJ" }))
}

fn taken(records: &Records) -> Vec<AuditRecord> {
    std::mem::take(&mut *records.lock().unwrap())
}

/// Neither the record, nor its `Display`, nor its `Debug` holds a credential or the query.
fn assert_no_secret(record: &AuditRecord, secrets: &[&str]) {
    for text in [record.to_string(), format!("{record:?}")] {
        for secret in secrets {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
}

#[tokio::test]
async fn a_successful_call_leaves_one_record_that_says_what_was_done() {
    let server = MockServer::start().await;
    project_answers(&server, project(), Some(1)).await;
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), None);
    get_project(&client).await.unwrap();

    let records = taken(&records);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.operation.name, "get_project");
    assert_eq!(record.purpose, Purpose::Call);
    assert_eq!(record.method, reqwest::Method::GET);
    assert_eq!(record.path, "/api/latest/projects/PRJ");
    let params = record.params.as_ref().unwrap();
    assert_eq!(params.get("projectKey"), Some("PRJ"));
    assert_eq!(params.resource().as_deref(), Some("PRJ"));
    assert_eq!(record.decision, Decision::Allowed);
    assert_eq!(record.attempt, 1);
    assert_eq!(record.outcome, Outcome::Answered);
    assert_eq!(record.status.map(|s| s.as_u16()), Some(200));
    assert!(record.error.is_none());
    assert!(record.succeeded());
    assert_eq!(record.agent.as_deref(), Some("bot"));
    assert!(
        record
            .to_string()
            .starts_with("agent bot read project PRJ: allowed, 200 in "),
        "{record}"
    );
    assert_no_secret(record, &[TOKEN]);
}

#[tokio::test]
async fn an_error_status_is_recorded_with_the_error_the_call_returned() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/rest/api/latest/projects/PRJ/repos/app/pull-requests/7",
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "errors": [{ "message": "Pull request 7 does not exist in PRJ/app." }]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, records) = audited(&server.uri(), Auth::basic("jdoe", PASSWORD), None);
    let error = client
        .get_pull_request()
        .project_key("PRJ")
        .repository_slug("app")
        .pull_request_id("7")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Api(_)), "{error:?}");

    let records = taken(&records);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.outcome, Outcome::Answered);
    assert_eq!(record.status.map(|s| s.as_u16()), Some(404));
    assert!(!record.succeeded());
    assert!(
        record.error.as_deref().unwrap().contains("does not exist"),
        "{record:?}"
    );
    assert!(
        record
            .to_string()
            .starts_with("agent bot tried to read pull request 7 in PRJ/app: allowed, 404 in "),
        "{record}"
    );
    // Basic credentials, as given and as sent.
    let sent = base64::engine::general_purpose::STANDARD.encode(format!("jdoe:{PASSWORD}"));
    assert_no_secret(record, &[PASSWORD, &sent]);
}

#[tokio::test]
async fn each_attempt_of_a_retried_call_is_a_record() {
    let server = MockServer::start().await;
    project_answers(&server, ResponseTemplate::new(503), Some(1)).await;
    project_answers(&server, project(), Some(1)).await;
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), None);
    get_project(&client).await.unwrap();

    let records = taken(&records);
    let seen: Vec<(u32, Option<u16>, Outcome, bool)> = records
        .iter()
        .map(|r| {
            (
                r.attempt,
                r.status.map(|s| s.as_u16()),
                r.outcome,
                r.error.is_some(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            // The 503 the client retried is not the call's failure: no error.
            (1, Some(503), Outcome::Answered, false),
            (2, Some(200), Outcome::Answered, false),
        ]
    );
    assert!(
        records[1].to_string().ends_with("(attempt 2)"),
        "{}",
        records[1]
    );
}

#[tokio::test]
async fn a_retried_call_that_gives_up_records_why_on_its_last_attempt() {
    let server = MockServer::start().await;
    project_answers(&server, ResponseTemplate::new(503), Some(3)).await;
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), None);
    get_project(&client).await.unwrap_err();

    let records = taken(&records);
    assert_eq!(
        records.iter().map(|r| r.attempt).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(records[..2].iter().all(|r| r.error.is_none()));
    assert!(records[2].error.is_some(), "{:?}", records[2]);
}

#[tokio::test]
async fn a_request_the_policy_refuses_is_recorded_as_denied_and_not_sent() {
    let server = MockServer::start().await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let policy = Policy::new().grant(Permission::RepoRead);
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), Some(policy));
    let error = client
        .delete_repository()
        .project_key("PRJ")
        .repository_slug("app")
        .send()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error:?}");

    let records = taken(&records);
    assert_eq!(records.len(), 1, "{records:?}");
    let record = &records[0];
    assert_eq!(record.outcome, Outcome::Denied);
    assert!(
        matches!(&record.decision, Decision::Denied(reason) if reason.contains("REPO_ADMIN")),
        "{record:?}"
    );
    assert_eq!(record.status, None);
    assert_eq!(record.path, "/api/latest/projects/PRJ/repos/app");
    assert!(
        record
            .to_string()
            .starts_with("agent bot tried to delete repository PRJ/app: denied: "),
        "{record}"
    );
    assert_no_secret(record, &[TOKEN]);
}

#[tokio::test]
async fn each_page_is_a_record_without_its_query() {
    let server = MockServer::start().await;
    let page = |start: u64, key: &str, last: bool| {
        let mut page = json!({
            "size": 1, "limit": 1, "start": start, "isLastPage": last,
            "values": [{ "key": key, "name": key }]
        });
        if !last {
            page["nextPageStart"] = json!(start + 1);
        }
        page
    };
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .and(query_param("name", "secret-search-term"))
        .and(query_param("start", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(1, "B", true)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/rest/api/latest/projects"))
        .and(query_param("name", "secret-search-term"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(0, "A", false)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), None);
    let projects: Vec<_> = client
        .get_projects()
        .name("secret-search-term")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(projects.len(), 2);

    let records = taken(&records);
    assert_eq!(records.len(), 2, "{records:?}");
    for record in &records {
        assert_eq!(record.operation.name, "get_projects");
        assert_eq!(record.path, "/api/latest/projects");
        assert!(record.succeeded());
        assert_no_secret(record, &[TOKEN, "secret-search-term", "start="]);
    }
}

#[tokio::test]
async fn a_request_without_an_answer_is_recorded_with_why() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let records = Records::default();
    let client = Client::builder()
        .server_url(format!("http://127.0.0.1:{port}"))
        .auth(Auth::bearer(TOKEN))
        .retry(RetryConfig::disabled())
        .audit({
            let sink = records.clone();
            move |record| sink.lock().unwrap().push(record.clone())
        })
        .build()
        .unwrap();
    let error = get_project(&client).await.unwrap_err();
    assert!(matches!(error, Error::Transport { .. }), "{error:?}");

    let records = taken(&records);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, Outcome::NoAnswer);
    assert_eq!(records[0].status, None);
    assert!(records[0].error.is_some());
    assert!(
        records[0].to_string().contains("allowed, failed after"),
        "{}",
        records[0]
    );
    assert_no_secret(&records[0], &[TOKEN]);
}

#[tokio::test]
async fn a_call_dropped_on_its_way_is_recorded_as_cancelled() {
    let server = MockServer::start().await;
    project_answers(&server, project().set_delay(Duration::from_secs(5)), None).await;
    let (client, records) = audited(&server.uri(), Auth::bearer(TOKEN), None);
    let call = get_project(&client);
    assert!(
        tokio::time::timeout(Duration::from_millis(200), call)
            .await
            .is_err()
    );

    let records = taken(&records);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].outcome, Outcome::Cancelled);
    assert!(records[0].to_string().contains("cancelled by the caller"));
}
