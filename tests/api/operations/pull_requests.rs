//! Pull requests: list, create, get, update, merge, approve, decline, request changes,
//! comments, commits and the diff.

use bitbucket_cloud::types::{
    self, MergeStrategy, ParticipantRole, ParticipantState, PullRequestState,
};
use bitbucket_cloud::{Client, Completion};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::repositories::{WORKSPACE, WORKSPACE_IN_PATH};
use super::wire::{Sent, client, fixture, json, ok, rejects};

/// `/2.0/repositories/{WORKSPACE}/web-app`, encoded.
fn repo_path() -> String {
    format!("/2.0/repositories/{WORKSPACE_IN_PATH}/web-app")
}

const REVIEWER: &str = "{4115785a-a1b9-4887-9af2-ca401bc7f168}";

fn pull_request() -> Value {
    fixture("pullrequest.list-item.gildas-1.json")
}

fn participant(state: &str) -> Value {
    json!({
        "type": "participant",
        "user": { "type": "user", "uuid": REVIEWER, "display_name": "Gildas Cherruel" },
        "role": "REVIEWER",
        "approved": state == "approved",
        "state": state,
        "participated_on": "2024-03-08T10:12:44.912512+00:00",
    })
}

#[tokio::test]
async fn list_pull_requests() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .list_pull_requests()
            .state(vec![PullRequestState::Open, PullRequestState::Merged])
            .q(format!(r#"author.uuid = "{REVIEWER}""#))
            .sort("-updated_on")
            .send()
            .await
    };
    let (prs, sent) = ok(json(200, fixture("pullrequest.list.go-scm-1.json")), &call).await;
    sent.expect(
        "GET",
        &format!("{}/pullrequests", repo_path()),
        &[
            ("q", &format!(r#"author.uuid = "{REVIEWER}""#)),
            ("sort", "-updated_on"),
            ("state", "OPEN"),
            ("state", "MERGED"),
        ],
        None,
    );
    assert!(
        sent.raw_query()
            .unwrap()
            .ends_with("&state=OPEN&state=MERGED"),
        "state is repeated: {:?}",
        sent.raw_query()
    );
    assert_eq!(prs.size, Some(2));
    let prs = prs.values.expect("values");
    assert_eq!(prs[0].id, Some(2));
    assert_eq!(prs[0].state, Some(PullRequestState::Open));
    assert_eq!(prs[0].merge_commit, None);

    rejects(
        "list_pull_requests",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_pull_request() {
    let branch = |name: &str| types::PullRequestEndpoint {
        branch: Some(Box::new(types::PullRequestBranch {
            name: Some(name.into()),
            ..Default::default()
        })),
        ..Default::default()
    };
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .create_pull_request()
            .body(types::PullRequest {
                title: Some("Add the login form".into()),
                source: Some(Box::new(branch("feature/login-form"))),
                destination: Some(Box::new(branch("main"))),
                close_source_branch: Some(true),
                reviewers: Some(vec![types::Account {
                    uuid: Some(REVIEWER.into()),
                    ..Default::default()
                }]),
                ..Default::default()
            })
            .send()
            .await
    };
    let (pr, sent) = ok(json(201, pull_request()), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests", repo_path()),
        &[],
        Some(json!({
            "title": "Add the login form",
            "source": { "branch": { "name": "feature/login-form" } },
            "destination": { "branch": { "name": "main" } },
            "close_source_branch": true,
            "reviewers": [{ "uuid": REVIEWER }],
        })),
    );
    assert_eq!(pr.id, Some(2));
    let source = pr.source.and_then(|s| s.branch).and_then(|b| b.name);
    assert_eq!(source.as_deref(), Some("feature/links"));

    let error = rejects(
        "create_pull_request",
        &call,
        400,
        "error.badrequest-nobranch.gildas-1.json",
    )
    .await;
    assert_eq!(
        error.fields().expect("fields")["source"],
        json!(["branch not found: dummy"])
    );
}

#[tokio::test]
async fn get_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .get_pull_request()
            .pull_request_id(2)
            .send()
            .await
    };
    let (pr, sent) = ok(json(200, pull_request()), &call).await;
    sent.expect("GET", &format!("{}/pullrequests/2", repo_path()), &[], None);
    assert_eq!(pr.title.as_deref(), Some("Merge feature/links"));
    assert_eq!(pr.state, Some(PullRequestState::Merged));
    assert_eq!(
        pr.merge_commit.and_then(|c| c.hash).as_deref(),
        Some("5663ada8560f")
    );
    assert_eq!(pr.author.and_then(|a| a.type_).as_deref(), Some("app_user"));

    rejects(
        "get_pull_request",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn update_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .update_pull_request()
            .pull_request_id(2)
            .body(types::PullRequest {
                title: Some("Add the login form (v2)".into()),
                ..Default::default()
            })
            .send()
            .await
    };
    let (pr, sent) = ok(json(200, pull_request()), &call).await;
    sent.expect(
        "PUT",
        &format!("{}/pullrequests/2", repo_path()),
        &[],
        Some(json!({ "title": "Add the login form (v2)" })),
    );
    assert_eq!(pr.id, Some(2));

    rejects(
        "update_pull_request",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn merge_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .merge_pull_request()
            .pull_request_id(2)
            .body(types::PullRequestMergeParameters {
                merge_strategy: Some(MergeStrategy::Squash),
                close_source_branch: Some(true),
                message: Some("Add the login form (#2)".into()),
                ..Default::default()
            })
            .send()
            .await
    };
    let (done, sent) = ok(json(200, pull_request()), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests/2/merge", repo_path()),
        &[],
        Some(json!({
            "merge_strategy": "squash",
            "close_source_branch": true,
            "message": "Add the login form (#2)",
        })),
    );
    let Completion::Done(pr) = done else {
        panic!("a 200 is done: {done:?}")
    };
    assert_eq!(pr.state, Some(PullRequestState::Merged));

    // Asked to merge in the background, Bitbucket answers 202 without a body and says where to
    // poll; the caller gets that URL.
    let task = "https://api.bitbucket.org/2.0/repositories/acme/web-app/pullrequests/2/merge/task-status/%7B2c0e8b1a-5d44-4c7e-9f0b-6c1e3a9d8f21%7D";
    let in_background = async |c: &Client| {
        c.repo("acme", "web-app")
            .merge_pull_request()
            .pull_request_id(2)
            .async_(true)
            .send()
            .await
    };
    let (accepted, sent) = ok(
        ResponseTemplate::new(202).insert_header("Location", task),
        &in_background,
    )
    .await;
    // Nothing set in the body: an empty object, and Bitbucket's default merge strategy.
    sent.expect(
        "POST",
        "/2.0/repositories/acme/web-app/pullrequests/2/merge",
        &[("async", "true")],
        Some(json!({})),
    );
    assert_eq!(
        accepted,
        Completion::Accepted {
            status_url: Some(task.to_string())
        }
    );

    let error = rejects(
        "merge_pull_request",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
    assert_eq!(error.missing_scopes(), ["project"]);
}

#[tokio::test]
async fn approve_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .approve_pull_request()
            .pull_request_id(2)
            .send()
            .await
    };
    let (participant, sent) = ok(json(200, participant("approved")), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests/2/approve", repo_path()),
        &[],
        None,
    );
    assert_eq!(participant.approved, Some(true));
    assert_eq!(participant.state, Some(ParticipantState::Approved));
    assert_eq!(participant.role, Some(ParticipantRole::Reviewer));
    assert_eq!(
        participant.user.and_then(|u| u.uuid).as_deref(),
        Some(REVIEWER)
    );

    rejects(
        "approve_pull_request",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn decline_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .decline_pull_request()
            .pull_request_id(2)
            .send()
            .await
    };
    let mut declined = pull_request();
    declined["state"] = json!("DECLINED");
    declined["merge_commit"] = Value::Null;
    let (pr, sent) = ok(json(200, declined), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests/2/decline", repo_path()),
        &[],
        None,
    );
    assert_eq!(pr.state, Some(PullRequestState::Declined));
    assert_eq!(pr.merge_commit, None);

    rejects(
        "decline_pull_request",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn request_changes_on_pull_request() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .request_changes_on_pull_request()
            .pull_request_id(2)
            .send()
            .await
    };
    let (participant, sent) = ok(json(200, participant("changes_requested")), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests/2/request-changes", repo_path()),
        &[],
        None,
    );
    assert_eq!(participant.state, Some(ParticipantState::ChangesRequested));
    assert_eq!(participant.approved, Some(false));

    rejects(
        "request_changes_on_pull_request",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn list_pull_request_comments() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .list_pull_request_comments()
            .pull_request_id(2)
            .q("deleted = false AND inline.path != null")
            .sort("created_on")
            .pagelen(100)
            .send()
            .await
    };
    let (comments, sent) = ok(
        json(200, fixture("pullrequest-comment.list.atlantis-1.json")),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        &format!("{}/pullrequests/2/comments", repo_path()),
        &[
            ("pagelen", "100"),
            ("q", "deleted = false AND inline.path != null"),
            ("sort", "created_on"),
        ],
        None,
    );
    let comments = comments.values.expect("values");
    assert_eq!(comments.len(), 5);
    assert_eq!(comments[0].id, Some(498931784));
    assert_eq!(comments[0].deleted, Some(false));
    assert_eq!(comments[0].pending, Some(false));

    rejects(
        "list_pull_request_comments",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_pull_request_comment() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .create_pull_request_comment()
            .pull_request_id(2)
            .body(types::PullRequestComment {
                content: Some(Box::new(types::RenderedText {
                    raw: Some("Should this be `&str`?".into()),
                    ..Default::default()
                })),
                inline: Some(Box::new(types::CommentInline {
                    path: Some("src/login/form.rs".into()),
                    to: Some(42),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await
    };
    let comment = fixture("pullrequest-comment.list.devlake-synth-1.json")["values"][0].clone();
    let (comment, sent) = ok(json(201, comment), &call).await;
    sent.expect(
        "POST",
        &format!("{}/pullrequests/2/comments", repo_path()),
        &[],
        Some(json!({
            "content": { "raw": "Should this be `&str`?" },
            "inline": { "path": "src/login/form.rs", "to": 42 },
        })),
    );
    assert_eq!(comment.id, Some(323120278));
    assert!(comment.inline.is_some());

    rejects(
        "create_pull_request_comment",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn list_pull_request_commits() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .list_pull_request_commits()
            .pull_request_id(2)
            .pagelen(30)
            .send()
            .await
    };
    let (commits, sent) = ok(json(200, fixture("commit.list.pybitbucket-1.json")), &call).await;
    sent.expect(
        "GET",
        &format!("{}/pullrequests/2/commits", repo_path()),
        &[("pagelen", "30")],
        None,
    );
    let commits = commits.values.expect("values");
    assert_eq!(
        commits[0].hash.as_deref(),
        Some("c021208234c65439f57b8244517a2b850b3ecf44")
    );
    assert_eq!(commits[0].parents.as_ref().map(Vec::len), Some(1));

    rejects(
        "list_pull_request_commits",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

/// Bitbucket answers the diff with a redirect to the repository's diff of the two commits,
/// on the same host; the client follows it with its credentials and returns the text.
#[tokio::test]
async fn get_pull_request_diff() {
    let diff = "diff --git a/src/login.rs b/src/login.rs\n\
                --- a/src/login.rs\n\
                +++ b/src/login.rs\n\
                @@ -1 +1 @@\n\
                -// Connexion\n\
                +// Connexion sécurisée\n";
    let server = MockServer::start().await;
    let redirected = format!(
        "/2.0/repositories/{WORKSPACE_IN_PATH}/web-app/diff/{WORKSPACE_IN_PATH}/web-app:2ae150fc05f8%0D67a6aa42721a"
    );
    Mock::given(method("GET"))
        .and(path(format!("{}/pullrequests/2/diff", repo_path())))
        .respond_with(ResponseTemplate::new(302).insert_header(
            "Location",
            format!(
                "{}{redirected}?from_pullrequest_id=2&topic=true",
                server.uri()
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(redirected.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_raw(diff, "text/plain"))
        .mount(&server)
        .await;
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "web-app")
            .get_pull_request_diff()
            .pull_request_id(2)
            .send()
            .await
    };

    let text = call(&client(&server)).await.expect("the diff");
    assert_eq!(text, diff);
    let requests = server.received_requests().await.expect("recording is on");
    assert_eq!(requests.len(), 2, "{requests:#?}");
    Sent(requests[0].clone()).expect(
        "GET",
        &format!("{}/pullrequests/2/diff", repo_path()),
        &[],
        None,
    );
    Sent(requests[1].clone()).expect(
        "GET",
        &redirected,
        &[("from_pullrequest_id", "2"), ("topic", "true")],
        None,
    );

    rejects(
        "get_pull_request_diff",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}
