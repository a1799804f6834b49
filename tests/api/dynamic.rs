//! `Client::operation`: any operation with its parameters as data, over real HTTP against the
//! local Bitbucket, through the same policy, credentials, pagination and audit as the typed
//! builders.

use std::sync::{Arc, Mutex};

use bitbucket_cloud::audit::AuditRecord;
use bitbucket_cloud::policy::Policy;
use bitbucket_cloud::{Auth, Client, Error, Scope, operations};
use bitbucket_cloud_local::LocalBitbucket;
use futures_util::TryStreamExt as _;
use serde_json::{Value, json};

fn op(name: &str) -> &'static bitbucket_cloud::Operation {
    operations::by_name(name).unwrap()
}

fn client(bb: &LocalBitbucket, policy: Option<Policy>) -> (Client, Arc<Mutex<Vec<AuditRecord>>>) {
    let records: Arc<Mutex<Vec<AuditRecord>>> = Arc::default();
    let sink = records.clone();
    let mut builder = Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(&[Scope::PullrequestWrite])))
        .agent("script")
        .audit(move |record| sink.lock().unwrap().push(record.clone()));
    if let Some(policy) = policy {
        builder = builder.policy(policy);
    }
    (builder.build().unwrap(), records)
}

async fn repository_with_pull_request(bb: &LocalBitbucket, client: &Client) -> Value {
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature/x", "Add x", &[("x.txt", "x\n")]);
    client
        .operation(op("create_pull_request"))
        .path_param("workspace", "acme")
        .path_param("repo_slug", "app")
        .body(json!({"title": "Add x", "source": {"branch": {"name": "feature/x"}}}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn json_in_json_out() {
    let bb = LocalBitbucket::start().await;
    let (client, records) = client(&bb, None);
    let created = repository_with_pull_request(&bb, &client).await;
    assert_eq!(created["title"], "Add x");
    let id = created["id"].as_u64().unwrap();

    let on_pull_request = |name| {
        client
            .operation(op(name))
            .path_param("workspace", "acme")
            .path_param("repo_slug", "app")
            .path_param("pull_request_id", id.to_string())
    };
    let fetched = on_pull_request("get_pull_request").send().await.unwrap();
    assert_eq!(fetched["source"]["branch"]["name"], "feature/x");

    // Text answers come back as a JSON string.
    let diff = on_pull_request("get_pull_request_diff")
        .send()
        .await
        .unwrap();
    assert!(diff.as_str().unwrap().contains("+x"), "{diff}");

    // Each request left an audit record under its operation, as a typed call does; the
    // pull request's diff is a redirect to the repository's, followed as `get_diff`.
    let names: Vec<&str> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.operation.name)
        .collect();
    assert_eq!(
        names,
        [
            "create_pull_request",
            "get_pull_request",
            "get_pull_request_diff",
            "get_diff"
        ]
    );
}

#[tokio::test]
async fn an_answer_without_a_body_is_null() {
    let bb = LocalBitbucket::start().await;
    let (client, _) = client(&bb, None);
    repository_with_pull_request(&bb, &client).await;
    let deleted = client
        .operation(op("delete_branch"))
        .path_param("workspace", "acme")
        .path_param("repo_slug", "app")
        .path_param("name", "feature/x")
        .send()
        .await
        .unwrap();
    assert_eq!(deleted, Value::Null);
    assert!(bb.requests().iter().any(|r| r.operation == "delete_branch"
        && r.path.ends_with("/refs/branches/feature%2Fx")
        && r.status == 204));
}

#[tokio::test]
async fn lists_page_through_the_engine_and_stop_at_max_items() {
    let bb = LocalBitbucket::start().await;
    for i in 0..7 {
        bb.create_repository("acme", &format!("repo-{i}"));
    }
    let (client, _) = client(&bb, None);
    let list = || {
        client
            .operation(op("list_repositories"))
            .path_param("workspace", "acme")
            .query_param("pagelen", "3")
    };

    let all: Vec<Value> = list().stream().try_collect().await.unwrap();
    assert_eq!(all.len(), 7);

    let before = bb.requests().len();
    let mut first = list().stream().max_items(4);
    let mut some = Vec::new();
    while let Some(item) = first.try_next().await.unwrap() {
        some.push(item["slug"].as_str().unwrap().to_string());
    }
    assert_eq!(some.len(), 4);
    assert_eq!(
        bb.requests().len() - before,
        2,
        "two pages of 3 for 4 items"
    );

    // Resuming from the cursor yields the rest (the page cut short, again in full).
    let cursor = first.resume_cursor().unwrap().to_string();
    let rest: Vec<Value> = client
        .operation(op("list_repositories"))
        .resume(&cursor)
        .items()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 4, "page 2 again, then page 3");

    // The default page size is the operation's largest.
    let _: Vec<Value> = client
        .operation(op("list_repositories"))
        .path_param("workspace", "acme")
        .stream()
        .try_collect()
        .await
        .unwrap();
    let last = bb.requests().pop().unwrap();
    assert!(last.path.contains("pagelen=100"), "{}", last.path);
}

#[tokio::test]
async fn parameters_are_checked_before_sending() {
    let bb = LocalBitbucket::start().await;
    let (client, records) = client(&bb, None);
    let get = || client.operation(op("get_repository"));

    let error = get()
        .path_param("workspace", "acme")
        .send()
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::InvalidRequest { message, .. } if message.contains("`repo_slug` is missing")),
        "{error}"
    );
    let error = get()
        .path_param("workspace", "acme")
        .path_param("repo_slug", "app")
        .path_param("pull_request_id", "1")
        .send()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`pull_request_id` is not a path parameter of `get_repository`"),
        "{error}"
    );
    let error = get()
        .path_param("workspace", "acme")
        .path_param("repo_slug", "")
        .send()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("missing or empty"), "{error}");
    // `..` would turn `DELETE .../hooks/..` into `DELETE` of the repository itself.
    let error = client
        .operation(op("delete_webhook"))
        .path_param("workspace", "acme")
        .path_param("repo_slug", "app")
        .path_param("uid", "..")
        .send()
        .await
        .unwrap_err();
    assert!(error.to_string().contains("cannot be `..`"), "{error}");

    // Not a list.
    let error = get()
        .path_param("workspace", "acme")
        .path_param("repo_slug", "app")
        .pages()
        .try_next()
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("does not return a list"),
        "{error}"
    );

    // A cursor must be a link of the operation that resumes it.
    bb.create_repository("acme", "app");
    let foreign = format!("{}/repositories/acme/app/hooks?page=2", bb.base_url());
    let error = client
        .operation(op("list_repositories"))
        .resume(&foreign)
        .try_next()
        .await
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("not a link of `list_repositories`"),
        "{error}"
    );

    assert!(bb.requests().is_empty(), "{:?}", bb.requests());
    assert!(records.lock().unwrap().is_empty());
}

#[tokio::test]
async fn the_policy_decides_and_a_denied_call_sends_nothing() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.create_repository("acme", "web");
    let policy = Policy::deny_all().grant(
        Policy::deny_all()
            .allow_scope(Scope::Repository)
            .only_in("acme/app"),
    );
    let (client, records) = client(&bb, Some(policy));
    let get = |repo: &str| {
        client
            .operation(op("get_repository"))
            .path_param("workspace", "acme")
            .path_param("repo_slug", repo)
    };

    assert_eq!(get("app").send().await.unwrap()["slug"], "app");
    let error = get("web").send().await.unwrap_err();
    assert!(matches!(error, Error::Denied { .. }), "{error}");

    let served: Vec<String> = bb.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(served, ["/2.0/repositories/acme/app"]);
    let decisions: Vec<bool> = records
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.decision.is_allowed())
        .collect();
    assert_eq!(decisions, [true, false]);
}
