//! A client's policy is checked before anything is sent, pages included, and every request,
//! allowed or denied, leaves one audit record in the application's sink. Over real HTTP on
//! loopback. (The `tracing` events are in `audit_events.rs`.)

use std::sync::{Arc, Mutex};

use bitbucket_cloud::audit::AuditRecord;
use bitbucket_cloud::policy::{Decision, Policy};
use bitbucket_cloud::{Auth, Client, Error, Scope, types};
use futures_util::StreamExt;
use serde_json::json;
use wiremock::matchers::{any, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client of `server` with `policy`, labelled `agent`, whose audit records land in the
/// returned list.
fn client(server: &MockServer, policy: Option<Policy>) -> (Client, Arc<Mutex<Vec<AuditRecord>>>) {
    let records: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .base_url(format!("{}/2.0", server.uri()))
        .auth(Auth::access_token("token"))
        .agent("release-bot")
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().unwrap(), records)
}

async fn requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

fn pull_request(id: u64) -> serde_json::Value {
    json!({"type": "pullrequest", "id": id, "title": format!("PR {id}"), "state": "OPEN"})
}

#[tokio::test]
async fn a_denied_call_sends_nothing() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(42)))
        .mount(&server)
        .await;
    let policy = Policy::deny_all().allow_scope(Scope::Pullrequest);
    let (client, records) = client(&server, Some(policy));

    let error = client
        .repo("ws", "app")
        .merge_pull_request()
        .pull_request_id(42)
        .body(types::PullRequestMergeParameters::default())
        .send()
        .await
        .unwrap_err();

    let Error::Denied { operation, reason } = &error else {
        panic!("{error:?}")
    };
    assert_eq!(*operation, "merge_pull_request");
    assert!(
        reason.contains(".allow_operation(\"merge_pull_request\")"),
        "{reason}"
    );
    assert!(requests(&server).await.is_empty(), "something was sent");

    // What the scope allows still goes out.
    let pr = client
        .repo("ws", "app")
        .get_pull_request()
        .pull_request_id(42)
        .send()
        .await
        .unwrap();
    assert_eq!(pr.id, Some(42));
    assert_eq!(
        requests(&server).await,
        ["GET /2.0/repositories/ws/app/pullrequests/42"]
    );
    assert_eq!(records.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_resource_restriction_blocks_another_repository() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "type": "repository", "full_name": "ws/app"
        })))
        .mount(&server)
        .await;
    let (client, _) = client(&server, Some(Policy::allow_all().only_in("ws/app")));

    let repo = client
        .repo("ws", "app")
        .get_repository()
        .send()
        .await
        .unwrap();
    assert_eq!(repo.full_name.as_deref(), Some("ws/app"));

    for (workspace, slug) in [("ws", "other"), ("elsewhere", "app")] {
        let error = client
            .repo(workspace, slug)
            .get_repository()
            .send()
            .await
            .unwrap_err();
        let Error::Denied { reason, .. } = &error else {
            panic!("{error:?}")
        };
        assert!(
            reason.contains(&format!(".only_in(\"{workspace}/{slug}\")")),
            "{reason}"
        );
    }
    // The workspace as a whole is not the repository.
    let error = client.workspace("ws").list_repositories().send().await;
    assert!(matches!(error, Err(Error::Denied { .. })), "{error:?}");

    assert_eq!(requests(&server).await, ["GET /2.0/repositories/ws/app"]);
}

#[tokio::test]
async fn pages_are_checked_as_the_operation_that_started_them() {
    let server = MockServer::start().await;
    let base = format!("{}/2.0/repositories", server.uri());
    Mock::given(method("GET"))
        .and(path("/2.0/repositories/ws/app/pullrequests"))
        .and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [pull_request(1)],
            "next": format!("{base}/ws/app/pullrequests?page=2&pagelen=100"),
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2.0/repositories/ws/app/pullrequests"))
        .and(query_param("page", "2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "values": [pull_request(2)],
            "next": format!("{base}/ws/other/pullrequests?page=3&pagelen=100"),
        })))
        .mount(&server)
        .await;
    let policy = Policy::deny_all()
        .allow_operation("list_pull_requests")
        .only_in("ws/app");
    let (client, records) = client(&server, Some(policy));

    let items: Vec<Result<_, Error>> = client
        .repo("ws", "app")
        .list_pull_requests()
        .stream()
        .collect()
        .await;

    // Two pages of ws/app; the third `next` leads to another repository and is refused.
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].as_ref().unwrap().id, Some(1));
    assert_eq!(items[1].as_ref().unwrap().id, Some(2));
    let Err(Error::Denied { operation, reason }) = &items[2] else {
        panic!("{:?}", items[2])
    };
    assert_eq!(*operation, "list_pull_requests");
    assert!(reason.contains("repository `ws/other`"), "{reason}");
    assert_eq!(requests(&server).await.len(), 2);

    let records = records.lock().unwrap();
    let decisions: Vec<(&str, bool, Option<u16>)> = records
        .iter()
        .map(|r| {
            (
                r.operation.name,
                r.decision.is_allowed(),
                r.status.map(|s| s.as_u16()),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("list_pull_requests", true, Some(200)),
            ("list_pull_requests", true, Some(200)),
            ("list_pull_requests", false, None),
        ]
    );
    assert_eq!(records[2].path, "/repositories/ws/other/pullrequests");
}

#[tokio::test]
async fn every_call_leaves_one_record_with_its_decision() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2.0/repositories/ws/app/pullrequests/42/merge"))
        .respond_with(ResponseTemplate::new(200).set_body_json(pull_request(42)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/2.0/repositories/ws/app/pullrequests/7"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "type": "error", "error": {"message": "Not found"}
        })))
        .mount(&server)
        .await;
    let policy = Policy::allow_all().deny_operation("delete_branch");
    let (client, records) = client(&server, Some(policy));

    let repo = client.repo("ws", "app");
    let merged = repo
        .merge_pull_request()
        .pull_request_id(42)
        .body(types::PullRequestMergeParameters::default())
        .send()
        .await
        .unwrap();
    assert_eq!(merged.done().and_then(|pr| pr.id), Some(42));
    let missing = repo.get_pull_request().pull_request_id(7).send().await;
    assert_eq!(missing.unwrap_err().status().map(|s| s.as_u16()), Some(404));
    let denied = repo.delete_branch().name("main").send().await;
    assert!(matches!(denied, Err(Error::Denied { .. })));

    assert_eq!(requests(&server).await.len(), 2);
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 3);

    let merged = &records[0];
    assert_eq!(merged.agent.as_deref(), Some("release-bot"));
    assert_eq!(merged.operation.name, "merge_pull_request");
    assert_eq!(merged.method, "POST");
    assert_eq!(merged.path, "/repositories/ws/app/pullrequests/42/merge");
    let params = merged.params.as_ref().unwrap();
    assert_eq!(params.get("pull_request_id"), Some("42"));
    assert_eq!(params.resource().as_deref(), Some("ws/app"));
    assert_eq!(merged.decision, Decision::Allowed);
    assert_eq!(merged.status.map(|s| s.as_u16()), Some(200));
    assert!(merged.succeeded());
    let line = merged.to_string();
    assert!(
        line.starts_with("agent release-bot merged pull request 42 in ws/app: allowed, 200 in "),
        "{line}"
    );
    assert!(line.ends_with(" ms"), "{line}");

    let missing = &records[1];
    assert_eq!(missing.decision, Decision::Allowed);
    assert_eq!(missing.status.map(|s| s.as_u16()), Some(404));
    assert!(missing.error.as_deref().unwrap().contains("Not found"));
    assert!(
        missing
            .to_string()
            .contains("tried to read pull request 7 in ws/app: allowed, 404"),
        "{missing}"
    );

    let denied = &records[2];
    assert!(
        matches!(&denied.decision, Decision::Denied(reason) if reason.contains("deny_operation(\"delete_branch\")"))
    );
    assert_eq!(denied.status, None);
    assert!(
        denied
            .to_string()
            .starts_with("agent release-bot tried to delete branch main in ws/app: denied: "),
        "{denied}"
    );
}

#[tokio::test]
async fn no_policy_allows_everything_and_still_audits() {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    let (client, records) = client(&server, None);
    client
        .repo("ws", "app")
        .delete_branch()
        .name("old")
        .send()
        .await
        .unwrap();
    let records = records.lock().unwrap();
    assert_eq!(records.len(), 1);
    assert!(records[0].succeeded());
    assert!(
        records[0]
            .to_string()
            .contains("deleted branch old in ws/app: allowed, 204"),
        "{}",
        records[0]
    );
}

#[test]
fn a_policy_naming_unknown_operations_fails_the_build() {
    let error = Client::builder()
        .policy(
            Policy::deny_all()
                .allow_operation(bitbucket_cloud::operations::GET_PULL_REQUEST)
                .allow_operation("merge_pullrequest")
                .allow_tag("Pullrequests"),
        )
        .build()
        .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, Error::Config(_)));
    assert!(
        message.contains("`merge_pullrequest` is not a supported operation")
            && message.contains("did you mean `merge_pull_request`?"),
        "{message}"
    );
}
