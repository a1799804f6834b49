//! The stateful operations bots and tools use beyond the basics, over real HTTP through the
//! client: commit statuses, tags and refs, commit approvals, diffstats, pull request comments,
//! tasks, activity and reviews, default reviewers and branch restrictions (enforced), and the
//! webhook events they send.

mod common;

use bitbucket_cloud::types;
use bitbucket_cloud::upload::Upload;
use bitbucket_cloud::webhooks::{Event, EventKey};
use bitbucket_cloud::{Client, Scope};
use bitbucket_cloud_local::{LocalBitbucket, WebhookReceiver};
use serde_json::json;

use common::{admin, body, with_scopes};

/// A repository `acme/app` with a `feature` branch one commit ahead of `main`, and a pull
/// request #1 from it opened by the account.
async fn with_pull_request(bb: &LocalBitbucket, client: &Client) {
    bb.create_repository("acme", "app");
    bb.push(
        "acme",
        "app",
        "feature",
        "Add the feature",
        &[
            ("src/lib.rs", "pub fn f() {}\n"),
            ("README.md", "# app\n\nNow with f.\n"),
        ],
    );
    client
        .repo("acme", "app")
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "Add the feature",
            "source": { "branch": { "name": "feature" } },
        })))
        .send()
        .await
        .unwrap();
}

/// A hook on `acme/app` for `events`, delivering to a new receiver.
async fn hook(client: &Client, events: &[&str]) -> WebhookReceiver {
    let receiver = WebhookReceiver::start().await;
    client
        .repo("acme", "app")
        .create_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": receiver.url(),
            "events": events,
            "active": true,
        })))
        .send()
        .await
        .unwrap();
    receiver
}

fn status_of(error: &bitbucket_cloud::Error) -> u16 {
    error.status().map(|s| s.as_u16()).unwrap_or_default()
}

#[tokio::test]
async fn commit_statuses_are_created_updated_and_listed_with_their_events() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let receiver = hook(
        &client,
        &["repo:commit_status_created", "repo:commit_status_updated"],
    )
    .await;
    let repo = client.repo("acme", "app");
    let head = repo.get_branch().name("feature").send().await.unwrap();
    let hash = head.target.unwrap().hash.unwrap();

    let created = repo
        .create_commit_build_status()
        .commit(&hash)
        .body(body::<types::CommitStatus>(json!({
            "key": "ci-unit",
            "state": "INPROGRESS",
            "name": "Unit tests",
            "url": "https://ci.example/builds/1",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(created.key.as_deref(), Some("ci-unit"));
    assert_eq!(created.name.as_deref(), Some("Unit tests"));

    // Reporting the same key again updates it (one status per key).
    repo.create_commit_build_status()
        .commit(&hash[..12])
        .body(body::<types::CommitStatus>(json!({
            "key": "ci-unit",
            "state": "FAILED",
            "url": "https://ci.example/builds/1",
        })))
        .send()
        .await
        .unwrap();
    let updated = repo
        .update_commit_build_status()
        .commit(&hash)
        .key("ci-unit")
        .body(body::<types::CommitStatus>(
            json!({ "state": "SUCCESSFUL" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&updated.state).unwrap(),
        json!("SUCCESSFUL")
    );
    let got = repo
        .get_commit_build_status()
        .commit(&hash)
        .key("ci-unit")
        .send()
        .await
        .unwrap();
    assert_eq!(got.name.as_deref(), Some("Unit tests"));
    let listed = repo
        .list_commit_statuses()
        .commit(&hash)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    // A pull request's statuses are those of its source's head.
    let for_pr = repo
        .list_pull_request_statuses()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(for_pr.values.unwrap().len(), 1);

    let missing = repo
        .get_commit_build_status()
        .commit(&hash)
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);
    let invalid = repo
        .create_commit_build_status()
        .commit(&hash)
        .body(body::<types::CommitStatus>(json!({ "key": "k" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);
    let fields = invalid.api().unwrap().fields().unwrap().clone();
    assert!(
        fields.get("state").is_some() && fields.get("url").is_some(),
        "{fields:?}"
    );

    let received = receiver.wait_for(3).await;
    let keys: Vec<&str> = received.iter().map(|r| r.event()).collect();
    assert_eq!(
        keys,
        [
            "repo:commit_status_created",
            "repo:commit_status_updated",
            "repo:commit_status_updated"
        ]
    );
    let event = Event::parse(received[2].event(), &received[2].body).unwrap();
    let Event::CommitStatusUpdated(e) = event else {
        panic!("not a status event")
    };
    let status = e.commit_status.unwrap();
    assert_eq!(status.commit_hash(), Some(hash.as_str()));
    assert_eq!(status.state.unwrap().to_string(), "SUCCESSFUL");
}

#[tokio::test]
async fn tags_and_refs() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let client = admin(&bb);
    let receiver = hook(&client, &["repo:push"]).await;
    let repo = client.repo("acme", "app");
    let tag = repo
        .create_tag()
        .body(body::<types::Tag>(json!({
            "name": "v1.0.0",
            "target": { "hash": &head[..7] },
            "message": "First release",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(tag.name.as_deref(), Some("v1.0.0"));
    assert_eq!(tag.target.unwrap().hash.as_deref(), Some(head.as_str()));
    let again = repo
        .create_tag()
        .body(body::<types::Tag>(
            json!({ "name": "v1.0.0", "target": { "hash": head } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 400);

    let got = repo.get_tag().name("v1.0.0").send().await.unwrap();
    assert_eq!(got.message.as_deref(), Some("First release"));
    let tags = repo.list_tags().send().await.unwrap();
    assert_eq!(tags.size, Some(1));
    let refs = repo.list_refs().send().await.unwrap();
    let names: Vec<_> = refs
        .values
        .unwrap()
        .into_iter()
        .map(|r| serde_json::to_value(r).unwrap()["name"].clone())
        .collect();
    assert_eq!(names, [json!("main"), json!("v1.0.0")]);
    let filtered = repo.list_tags().q("name ~ \"v2\"").send().await.unwrap();
    assert_eq!(filtered.size, Some(0));

    repo.delete_tag().name("v1.0.0").send().await.unwrap();
    let gone = repo.get_tag().name("v1.0.0").send().await.unwrap_err();
    assert_eq!(status_of(&gone), 404);

    let received = receiver.wait_for(2).await;
    let created = received[0].json();
    assert_eq!(created["push"]["changes"][0]["new"]["type"], "tag");
    assert_eq!(created["push"]["changes"][0]["created"], true);
    assert_eq!(received[1].json()["push"]["changes"][0]["closed"], true);
}

#[tokio::test]
async fn commit_approvals_and_diffstats() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let repo = client.repo("acme", "app");
    let head = bb.push(
        "acme",
        "app",
        "feature",
        "Drop the notes",
        &[("NOTES.md", "a\nb\n")],
    );

    let participant = repo.approve_commit().commit(&head).send().await.unwrap();
    assert_eq!(participant.approved, Some(true));
    let commit = repo.get_commit().commit(&head).send().await.unwrap();
    assert_eq!(commit.participants.unwrap().len(), 1);
    repo.unapprove_commit().commit(&head).send().await.unwrap();
    let twice = repo
        .unapprove_commit()
        .commit(&head)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&twice), 404);

    // One commit: against its parent.
    let stat = repo.get_diffstat().spec(&head).send().await.unwrap();
    let values = serde_json::to_value(stat.values.unwrap()).unwrap();
    assert_eq!(values[0]["status"], "added");
    assert_eq!(values[0]["lines_added"], 2);
    assert_eq!(values[0]["new"]["path"], "NOTES.md");
    // A range: the source against its merge base with the destination.
    let stat = repo
        .get_diffstat()
        .spec("feature..main")
        .send()
        .await
        .unwrap();
    assert_eq!(stat.size, Some(3));
    let pr_stat = repo
        .get_pull_request_diffstat()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let values = serde_json::to_value(pr_stat.values.unwrap()).unwrap();
    let by_path: Vec<(String, String, i64, i64)> = values
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let path = v["new"]["path"].as_str().or(v["old"]["path"].as_str());
            (
                path.unwrap().to_string(),
                v["status"].as_str().unwrap().to_string(),
                v["lines_added"].as_i64().unwrap(),
                v["lines_removed"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_path,
        [
            ("NOTES.md".into(), "added".into(), 2, 0),
            ("README.md".into(), "modified".into(), 2, 0),
            ("src/lib.rs".into(), "added".into(), 1, 0),
        ]
    );
    let missing = repo.get_diffstat().spec("nope").send().await.unwrap_err();
    assert_eq!(status_of(&missing), 404);
}

#[tokio::test]
async fn pull_request_comments_are_edited_resolved_and_deleted_with_their_events() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let receiver = hook(
        &client,
        &[
            "pullrequest:comment_updated",
            "pullrequest:comment_deleted",
            "pullrequest:comment_resolved",
            "pullrequest:comment_reopened",
        ],
    )
    .await;
    let repo = client.repo("acme", "app");
    let comment = repo
        .create_pull_request_comment()
        .pull_request_id(1)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "Typo" } }),
        ))
        .send()
        .await
        .unwrap();
    let id = comment.id.unwrap();

    let edited = repo
        .update_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "Typo on line 2" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        edited.content.unwrap().raw.as_deref(),
        Some("Typo on line 2")
    );
    let got = repo
        .get_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.content.unwrap().raw.as_deref(), Some("Typo on line 2"));

    // Only its author edits a comment.
    let grace = bb.add_account("grace", "Grace Hopper");
    let other = common::client(
        &bb,
        bitbucket_cloud::Auth::access_token(bb.token_for(&grace, &[Scope::PullrequestWrite])),
    );
    let refused = other
        .repo("acme", "app")
        .update_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "Mine" } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 403);

    let resolution = repo
        .resolve_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        resolution.user.unwrap().uuid,
        Some(bb.account().uuid.clone())
    );
    let twice = repo
        .resolve_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&twice), 409);
    repo.reopen_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap();

    repo.delete_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    let deleted = repo
        .get_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.deleted, Some(true));
    let pr = repo
        .get_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(pr.comment_count, Some(0));
    let again = repo
        .delete_pull_request_comment()
        .pull_request_id(1)
        .comment_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 404);

    let received = receiver.wait_for(4).await;
    let keys: Vec<&str> = received.iter().map(|r| r.event()).collect();
    assert_eq!(
        keys,
        [
            "pullrequest:comment_updated",
            "pullrequest:comment_resolved",
            "pullrequest:comment_reopened",
            "pullrequest:comment_deleted",
        ]
    );
    for r in &received {
        let event = Event::parse(r.event(), &r.body).unwrap();
        assert!(Event::TYPED_KEYS.contains(&event.key()), "{}", r.event());
    }
    match Event::parse(received[3].event(), &received[3].body).unwrap() {
        Event::PullRequestCommentDeleted(e) => {
            assert_eq!(e.comment.unwrap().deleted, Some(true));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn tasks_activity_and_withdrawn_reviews() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let receiver = hook(
        &client,
        &[
            "pullrequest:unapproved",
            "pullrequest:changes_request_removed",
        ],
    )
    .await;
    let repo = client.repo("acme", "app");
    let comment = repo
        .create_pull_request_comment()
        .pull_request_id(1)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "Please add tests" } }),
        ))
        .send()
        .await
        .unwrap();
    let task = repo
        .create_pull_request_task()
        .pull_request_id(1)
        .body(body::<types::PullRequestTaskCreate>(json!({
            "content": { "raw": "Add tests" },
            "comment": { "id": comment.id },
        })))
        .send()
        .await
        .unwrap();
    let task_id = task.id.unwrap();
    assert_eq!(
        serde_json::to_value(&task.state).unwrap(),
        json!("UNRESOLVED")
    );
    let pr = repo
        .get_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(pr.task_count, Some(1));
    let resolved = repo
        .update_pull_request_task()
        .pull_request_id(1)
        .task_id(task_id)
        .body(body::<types::PullRequestTaskUpdate>(
            json!({ "state": "RESOLVED" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&resolved.state).unwrap(),
        json!("RESOLVED")
    );
    assert!(resolved.resolved_by.is_some());
    let listed = repo
        .list_pull_request_tasks()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    let got = repo
        .get_pull_request_task()
        .pull_request_id(1)
        .task_id(task_id)
        .send()
        .await
        .unwrap();
    assert_eq!(got.id, Some(task_id));
    repo.delete_pull_request_task()
        .pull_request_id(1)
        .task_id(task_id)
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_pull_request_task()
        .pull_request_id(1)
        .task_id(task_id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);

    // Reviews withdrawn.
    repo.approve_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    repo.unapprove_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let twice = repo
        .unapprove_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&twice), 404);
    repo.request_changes_on_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    repo.remove_change_request_on_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let pr = repo
        .get_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let participant = serde_json::to_value(&pr.participants.unwrap()[0]).unwrap();
    assert_eq!(participant["approved"], false);
    assert_eq!(participant["state"], serde_json::Value::Null);

    // Activity, newest first: changes requested, approval, comment, the opening update.
    let activity = repo
        .list_pull_request_activity()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let kinds: Vec<String> = serde_json::to_value(activity.values.unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            ["changes_requested", "approval", "comment", "update"]
                .into_iter()
                .find(|k| v.get(*k).is_some())
                .unwrap_or("?")
                .to_string()
        })
        .collect();
    assert_eq!(
        kinds,
        ["changes_requested", "approval", "comment", "update"]
    );
    let all = repo.list_all_pull_request_activity().send().await.unwrap();
    assert_eq!(all.values.unwrap().len(), 4);

    let received = receiver.wait_for(2).await;
    assert_eq!(received[0].event(), "pullrequest:unapproved");
    assert_eq!(received[1].event(), "pullrequest:changes_request_removed");
    assert!(matches!(
        Event::parse(received[1].event(), &received[1].body).unwrap(),
        Event::PullRequestChangesRequestRemoved(_)
    ));
}

#[tokio::test]
async fn default_reviewers_are_added_to_new_pull_requests() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let grace = bb.add_account("grace", "Grace Hopper");
    let alan = bb.add_account("alan", "Alan Turing");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let added = repo
        .add_default_reviewer()
        .target_username(&grace.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(added.uuid, Some(grace.uuid.clone()));
    // The author is never their own reviewer, even as a default reviewer.
    repo.add_default_reviewer()
        .target_username(&bb.account().uuid)
        .send()
        .await
        .unwrap();
    client
        .workspace("acme")
        .add_project_default_reviewer()
        .project_key("PROJ")
        .selected_user(&alan.uuid)
        .send()
        .await
        .unwrap();
    let listed = repo.list_default_reviewers().send().await.unwrap();
    assert_eq!(listed.size, Some(2));
    let effective = repo
        .list_effective_default_reviewers()
        .send()
        .await
        .unwrap();
    let types: Vec<_> = serde_json::to_value(effective.values.unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["reviewer_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(types, ["repository", "repository", "project"]);

    bb.push("acme", "app", "feature", "Feature", &[("f.txt", "f\n")]);
    let pr = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "Feature",
            "source": { "branch": { "name": "feature" } },
        })))
        .send()
        .await
        .unwrap();
    let reviewers: Vec<_> = pr
        .reviewers
        .unwrap()
        .into_iter()
        .map(|r| r.uuid.unwrap())
        .collect();
    assert_eq!(reviewers, [grace.uuid.clone(), alan.uuid.clone()]);

    repo.get_default_reviewer()
        .target_username(&grace.uuid)
        .send()
        .await
        .unwrap();
    repo.remove_default_reviewer()
        .target_username(&grace.uuid)
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_default_reviewer()
        .target_username(&grace.uuid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
    // Reading them takes `repository`... and changing them `repository:admin`.
    let reader = with_scopes(&bb, &[Scope::PullrequestWrite]);
    let denied = reader
        .repo("acme", "app")
        .add_default_reviewer()
        .target_username(&grace.uuid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&denied), 403);
}

#[tokio::test]
async fn branch_restrictions_are_enforced() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let repo = client.repo("acme", "app");
    let grace = bb.add_account("grace", "Grace Hopper");

    let create = |json: serde_json::Value| {
        repo.create_branch_restriction()
            .body(body::<types::BranchRestriction>(json))
            .send()
    };
    let push = create(json!({
        "kind": "push", "branch_match_kind": "glob", "pattern": "release/*",
        "users": [{ "uuid": grace.uuid }],
    }))
    .await
    .unwrap();
    assert_eq!(
        push.kind.as_ref().map(|k| k.to_string()).as_deref(),
        Some("push")
    );
    create(json!({ "kind": "delete", "branch_match_kind": "glob", "pattern": "feature" }))
        .await
        .unwrap();
    let approvals = create(json!({
        "kind": "require_approvals_to_merge", "branch_match_kind": "branching_model",
        "branch_type": "development", "value": 1,
    }))
    .await
    .unwrap();
    create(json!({
        "kind": "require_passing_builds_to_merge", "branch_match_kind": "glob",
        "pattern": "main", "value": 1,
    }))
    .await
    .unwrap();
    let duplicate =
        create(json!({ "kind": "delete", "branch_match_kind": "glob", "pattern": "feature" }))
            .await
            .unwrap_err();
    assert_eq!(status_of(&duplicate), 409);
    let invalid = create(json!({ "kind": "nonsense", "pattern": "x" }))
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);

    let listed = repo.list_branch_restrictions().send().await.unwrap();
    assert_eq!(listed.size, Some(4));
    let only_delete = repo
        .list_branch_restrictions()
        .kind("delete")
        .send()
        .await
        .unwrap();
    assert_eq!(only_delete.size, Some(1));

    // Only Grace may create release branches; nobody may delete `feature`.
    let head = bb.create_repository("acme", "app");
    let refused = repo
        .create_branch()
        .body(body::<types::Branch>(
            json!({ "name": "release/1", "target": { "hash": head } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 403);
    let graces = common::client(
        &bb,
        bitbucket_cloud::Auth::access_token(bb.token_for(&grace, Scope::ALL)),
    );
    graces
        .repo("acme", "app")
        .create_branch()
        .body(body::<types::Branch>(
            json!({ "name": "release/1", "target": { "hash": head } }),
        ))
        .send()
        .await
        .unwrap();
    let undeletable = repo
        .delete_branch()
        .name("feature")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&undeletable), 403);

    // The merge checks refuse the merge until an approval and a passing build.
    let merge = || {
        repo.merge_pull_request()
            .pull_request_id(1)
            .body(body::<types::PullRequestMergeParameters>(json!({})))
            .send()
    };
    let refused = merge().await.unwrap_err();
    assert_eq!(status_of(&refused), 400);
    let detail = serde_json::to_value(refused.api().unwrap().detail()).unwrap();
    assert_eq!(
        detail["merge_checks"].as_array().unwrap().len(),
        2,
        "{detail}"
    );
    graces
        .repo("acme", "app")
        .approve_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let source = repo.get_branch().name("feature").send().await.unwrap();
    repo.create_commit_build_status()
        .commit(source.target.unwrap().hash.unwrap())
        .body(body::<types::CommitStatus>(json!({
            "key": "ci", "state": "FAILED", "url": "https://ci.example/1",
        })))
        .send()
        .await
        .unwrap();
    let failing = merge().await.unwrap_err();
    let detail = serde_json::to_value(failing.api().unwrap().detail()).unwrap();
    assert_eq!(
        detail["merge_checks"].as_array().unwrap().len(),
        1,
        "{detail}"
    );
    let source = repo.get_branch().name("feature").send().await.unwrap();
    repo.update_commit_build_status()
        .commit(source.target.unwrap().hash.unwrap())
        .key("ci")
        .body(body::<types::CommitStatus>(
            json!({ "state": "SUCCESSFUL" }),
        ))
        .send()
        .await
        .unwrap();

    // `restrict_merges`: only Grace merges into main.
    let restrict = create(json!({
        "kind": "restrict_merges", "branch_match_kind": "glob", "pattern": "main",
        "users": [{ "uuid": grace.uuid }],
    }))
    .await
    .unwrap();
    assert_eq!(status_of(&merge().await.unwrap_err()), 403);
    let id = restrict.id.unwrap().to_string();
    let updated = repo
        .update_branch_restriction()
        .id(&id)
        .body(body::<types::BranchRestriction>(
            json!({ "pattern": "elsewhere" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.pattern.as_deref(), Some("elsewhere"));
    let merged = merge().await.unwrap();
    assert_eq!(
        merged.done().unwrap().state,
        Some(types::PullRequestState::Merged)
    );

    let got = repo
        .get_branch_restriction()
        .id(approvals.id.unwrap().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.branch_type.map(|t| t.to_string()).as_deref(),
        Some("development")
    );
    repo.delete_branch_restriction()
        .id(&id)
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_branch_restriction()
        .id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}

/// The event keys of the operations above are those `Event` types.
#[test]
fn the_new_events_are_typed() {
    for key in [
        EventKey::RepoCommitStatusCreated,
        EventKey::RepoCommitStatusUpdated,
        EventKey::PullrequestCommentUpdated,
        EventKey::PullrequestCommentDeleted,
        EventKey::PullrequestUnapproved,
        EventKey::PullrequestChangesRequestRemoved,
        EventKey::RepoFork,
    ] {
        assert!(Event::TYPED_KEYS.contains(&key), "{key}");
    }
}

#[tokio::test]
async fn pushes_obey_branch_restrictions_and_reset_approvals() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let repo = client.repo("acme", "app");
    let grace = bb.add_account("grace", "Grace Hopper");
    for restriction in [
        json!({ "kind": "push", "branch_match_kind": "glob", "pattern": "main",
                "users": [{ "uuid": grace.uuid }] }),
        json!({ "kind": "reset_pullrequest_approvals_on_change", "branch_match_kind": "glob",
                "pattern": "main" }),
    ] {
        repo.create_branch_restriction()
            .body(body::<types::BranchRestriction>(restriction))
            .send()
            .await
            .unwrap();
    }
    let refused = bb
        .try_push_as(
            &bb.account(),
            "acme",
            "app",
            "main",
            "Direct",
            &[("x", "x\n")],
        )
        .unwrap_err();
    assert!(refused.to_string().contains("main"), "{refused}");
    bb.try_push_as(&grace, "acme", "app", "main", "Allowed", &[("x", "x\n")])
        .unwrap();

    // A new commit on the source withdraws the approvals.
    let graces = common::client(
        &bb,
        bitbucket_cloud::Auth::access_token(bb.token_for(&grace, Scope::ALL)),
    );
    graces
        .repo("acme", "app")
        .approve_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    bb.push("acme", "app", "feature", "More", &[("y", "y\n")]);
    let pr = repo
        .get_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let participants = serde_json::to_value(pr.participants.unwrap()).unwrap();
    assert_eq!(participants[0]["approved"], false, "{participants}");
}

// The issue tracker's operations are deprecated, and still served, as on Bitbucket.
#[allow(deprecated)]
#[tokio::test]
async fn commit_and_issue_comments_with_their_events() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let client = admin(&bb);
    let receiver = hook(
        &client,
        &["repo:commit_comment_created", "issue:comment_created"],
    )
    .await;
    let repo = client.repo("acme", "app");

    let comment = repo
        .create_commit_comment()
        .commit(&head[..10])
        .body(body::<types::CommitComment>(json!({
            "content": { "raw": "Nice" },
            "inline": { "path": "README.md", "to": 1 },
        })))
        .send()
        .await
        .unwrap();
    let id = comment.id.unwrap();
    let edited = repo
        .update_commit_comment()
        .commit(&head)
        .comment_id(id)
        .body(body::<types::CommitComment>(
            json!({ "content": { "raw": "Very nice" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(edited.content.unwrap().raw.as_deref(), Some("Very nice"));
    let listed = repo
        .list_commit_comments()
        .commit(&head)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    repo.get_commit_comment()
        .commit(&head)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    repo.delete_commit_comment()
        .commit(&head)
        .comment_id(id)
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_commit_comment()
        .commit(&head)
        .comment_id(id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);

    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({ "title": "Crash on start" })))
        .send()
        .await
        .unwrap();
    let issue_id = issue.id.unwrap().to_string();
    let comment = repo
        .create_issue_comment()
        .issue_id(&issue_id)
        .body(body::<types::IssueComment>(
            json!({ "content": { "raw": "Reproduced" } }),
        ))
        .send()
        .await
        .unwrap();
    let listed = repo
        .list_issue_comments()
        .issue_id(&issue_id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    let got = repo
        .get_issue_comment()
        .issue_id(&issue_id)
        .comment_id(comment.id.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(got.content.unwrap().raw.as_deref(), Some("Reproduced"));

    let received = receiver.wait_for(2).await;
    match Event::parse(received[0].event(), &received[0].body).unwrap() {
        Event::CommitCommentCreated(e) => {
            assert_eq!(e.commit.unwrap().hash.as_deref(), Some(head.as_str()));
        }
        other => panic!("{other:?}"),
    }
    match Event::parse(received[1].event(), &received[1].body).unwrap() {
        Event::IssueCommentCreated(e) => {
            assert_eq!(e.issue.unwrap().title.as_deref(), Some("Crash on start"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn commits_by_revision_merge_base_and_the_pull_requests_of_a_commit() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let repo = client.repo("acme", "app");
    let base = repo.get_branch().name("main").send().await.unwrap();
    let base = base.target.unwrap().hash.unwrap();
    let feature = bb.push("acme", "app", "feature", "Second", &[("b", "b\n")]);
    bb.push("acme", "app", "main", "Meanwhile", &[("m", "m\n")]);

    let on_feature = repo
        .list_commits_for_revision()
        .revision("feature")
        .send()
        .await
        .unwrap();
    assert_eq!(on_feature.values.unwrap().len(), 3);
    let only_feature = repo
        .list_commits_with_include_exclude()
        .body(body::<types::ListCommitsWithIncludeExcludeBody>(json!({
            "include": ["feature"],
            "exclude": ["main"],
        })))
        .send()
        .await
        .unwrap();
    let hashes: Vec<_> = only_feature
        .values
        .unwrap()
        .into_iter()
        .map(|c| c.hash.unwrap())
        .collect();
    assert_eq!(hashes.len(), 2);
    assert_eq!(hashes[0], feature);

    let merge_base = repo
        .get_merge_base()
        .revspec("feature..main")
        .send()
        .await
        .unwrap();
    assert_eq!(merge_base.hash, Some(base));

    let prs = repo
        .list_commit_pull_requests()
        .commit(&feature)
        .send()
        .await
        .unwrap();
    assert_eq!(prs.values.unwrap()[0].id, Some(1));
    let mine = client
        .workspace("acme")
        .list_user_pull_requests()
        .selected_user(bb.account().uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(mine.size, Some(1));
}

#[tokio::test]
async fn code_insights_reports_and_annotations() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let report = repo
        .create_or_update_commit_report()
        .commit(&head)
        .report_id("lint-1")
        .body(body::<types::Report>(json!({
            "title": "Lint",
            "details": "3 warnings",
            "report_type": "BUG",
            "result": "FAILED",
            "data": [{ "title": "Warnings", "type": "NUMBER", "value": 3 }],
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(report.external_id.as_deref(), Some("lint-1"));
    let invalid = repo
        .create_or_update_commit_report()
        .commit(&head)
        .report_id("x")
        .body(body::<types::Report>(json!({ "title": "No details" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);

    let annotations = repo
        .bulk_create_or_update_report_annotations()
        .commit(&head)
        .report_id("lint-1")
        .body(vec![
            body::<types::ReportAnnotation>(json!({
                "external_id": "w1", "annotation_type": "CODE_SMELL",
                "summary": "Unused import", "path": "src/lib.rs", "line": 3, "severity": "LOW",
            })),
            body::<types::ReportAnnotation>(json!({
                "external_id": "w2", "annotation_type": "BUG", "summary": "Overflow",
            })),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(annotations.len(), 2);
    let one = repo
        .create_or_update_report_annotation()
        .commit(&head)
        .report_id("lint-1")
        .annotation_id("w2")
        .body(body::<types::ReportAnnotation>(
            json!({ "severity": "HIGH" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(one.summary.as_deref(), Some("Overflow"));
    let listed = repo
        .list_report_annotations()
        .commit(&head)
        .report_id("lint-1")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(2));
    repo.get_report_annotation()
        .commit(&head)
        .report_id("lint-1")
        .annotation_id("w1")
        .send()
        .await
        .unwrap();
    repo.delete_report_annotation()
        .commit(&head)
        .report_id("lint-1")
        .annotation_id("w1")
        .send()
        .await
        .unwrap();
    let reports = repo
        .list_commit_reports()
        .commit(&head)
        .send()
        .await
        .unwrap();
    assert_eq!(reports.size, Some(1));
    let got = repo
        .get_commit_report()
        .commit(&head)
        .report_id("lint-1")
        .send()
        .await
        .unwrap();
    assert_eq!(got.title.as_deref(), Some("Lint"));
    repo.delete_commit_report()
        .commit(&head)
        .report_id("lint-1")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_commit_report()
        .commit(&head)
        .report_id("lint-1")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}

// The issue tracker's operations are deprecated, and still served, as on Bitbucket.
#[allow(deprecated)]
#[tokio::test]
async fn issue_votes_watches_and_deletion() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({ "title": "Slow start" })))
        .send()
        .await
        .unwrap();
    let number = issue.id.unwrap();
    let id = number.to_string();
    assert_eq!(issue.votes, Some(0));
    // The reporter watches it from the start.
    repo.check_issue_watch().issue_id(&id).send().await.unwrap();
    assert_eq!(
        status_of(
            &repo
                .check_issue_vote()
                .issue_id(&id)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );
    repo.vote_for_issue().issue_id(&id).send().await.unwrap();
    repo.check_issue_vote().issue_id(&id).send().await.unwrap();
    let got = repo.get_issue().issue_id(number).send().await.unwrap();
    assert_eq!(got.votes, Some(1));
    repo.remove_issue_vote().issue_id(&id).send().await.unwrap();
    repo.unwatch_issue().issue_id(&id).send().await.unwrap();
    assert_eq!(
        status_of(
            &repo
                .check_issue_watch()
                .issue_id(&id)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );
    repo.watch_issue().issue_id(&id).send().await.unwrap();
    repo.delete_issue().issue_id(number).send().await.unwrap();
    assert_eq!(
        status_of(&repo.get_issue().issue_id(number).send().await.unwrap_err()),
        404
    );
}

// The issue tracker's operations are deprecated, and still served, as on Bitbucket.
#[allow(deprecated)]
#[tokio::test]
async fn issue_changes_change_the_issue_and_are_listed() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let receiver = hook(&client, &["issue:updated"]).await;
    let repo = client.repo("acme", "app");
    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({ "title": "Crash" })))
        .send()
        .await
        .unwrap();
    let number = issue.id.unwrap();
    let id = number.to_string();
    let change = repo
        .create_issue_change()
        .issue_id(&id)
        .body(body::<types::IssueChange>(json!({
            "changes": { "state": { "new": "resolved" } },
            "message": { "raw": "Fixed in 1.2" },
        })))
        .send()
        .await
        .unwrap();
    let value = serde_json::to_value(&change).unwrap();
    assert_eq!(value["changes"]["status"]["new"], "resolved");
    assert_eq!(value["message"]["raw"], "Fixed in 1.2");
    let got = repo.get_issue().issue_id(number).send().await.unwrap();
    assert_eq!(serde_json::to_value(got.state).unwrap(), json!("resolved"));
    let invalid = repo
        .create_issue_change()
        .issue_id(&id)
        .body(body::<types::IssueChange>(json!({
            "changes": { "state": { "new": "done-ish" } },
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);
    // An update through PUT is a change too.
    repo.update_issue()
        .issue_id(number)
        .body(body::<types::Issue>(json!({ "priority": "critical" })))
        .send()
        .await
        .unwrap();
    let changes = repo
        .list_issue_changes()
        .issue_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(changes.size, Some(2));
    let first = value["id"].as_i64().unwrap().to_string();
    repo.get_issue_change()
        .issue_id(&id)
        .change_id(&first)
        .send()
        .await
        .unwrap();
    let received = receiver.wait_for(2).await;
    let payload = received[0].json();
    assert_eq!(payload["changes"]["status"]["new"], "resolved");
    assert_eq!(payload["comment"]["content"]["raw"], "Fixed in 1.2");
}

#[tokio::test]
async fn file_conflicts_of_a_spec_and_of_a_pull_request() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    // Both sides change README.md; only the source adds src/lib.rs.
    bb.push(
        "acme",
        "app",
        "main",
        "Docs",
        &[("README.md", "# app\n\nOther words.\n")],
    );
    let repo = client.repo("acme", "app");
    let conflicts = repo
        .get_file_conflicts()
        .spec("feature..main")
        .send()
        .await
        .unwrap();
    let values = serde_json::to_value(conflicts.values.unwrap()).unwrap();
    assert_eq!(values.as_array().unwrap().len(), 1, "{values}");
    assert_eq!(values[0]["path"], "README.md");
    assert_eq!(values[0]["scenario"], "content");

    // The pull request's conflicts are a redirect to those, as on Bitbucket.
    // `common::http` installs the crypto provider reqwest needs; this client also keeps
    // redirects to look at.
    let _ = common::http();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = http
        .get(format!(
            "{}/repositories/acme/app/pullrequests/1/conflicts",
            bb.base_url()
        ))
        .bearer_auth(bb.token(Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 302);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/file-conflicts/"), "{location}");
    let followed: serde_json::Value = common::http()
        .get(&location)
        .bearer_auth(bb.token(Scope::ALL))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(followed["values"][0]["path"], "README.md");
}

#[tokio::test]
async fn a_merge_in_the_background_answers_202_and_its_task_status() {
    let bb = LocalBitbucket::start().await;
    let client = admin(&bb);
    with_pull_request(&bb, &client).await;
    let repo = client.repo("acme", "app");
    let completion = repo
        .merge_pull_request()
        .pull_request_id(1)
        .async_(true)
        .body(body::<types::PullRequestMergeParameters>(json!({})))
        .send()
        .await
        .unwrap();
    let bitbucket_cloud::Completion::Accepted { status_url } = completion else {
        panic!("not a background merge")
    };
    let status_url = status_url.unwrap();
    let task = status_url
        .rsplit('/')
        .next()
        .unwrap()
        .replace("%7B", "{")
        .replace("%7D", "}");
    let status = repo
        .get_pull_request_merge_task_status()
        .pull_request_id(1)
        .task_id(&task)
        .send()
        .await
        .unwrap();
    assert_eq!(status.task_status.as_deref(), Some("SUCCESS"));
    assert_eq!(
        status.merge_result.unwrap().state,
        Some(types::PullRequestState::Merged)
    );
    let unknown = repo
        .get_pull_request_merge_task_status()
        .pull_request_id(1)
        .task_id("{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&unknown), 404);
}

#[allow(deprecated)]
#[tokio::test]
async fn issues_name_the_trackers_components_milestones_and_versions() {
    let bb = LocalBitbucket::start().await;
    let ui = bb.add_issue_component("acme", "app", "UI");
    let api = bb.add_issue_component("acme", "app", "API");
    assert_eq!(bb.add_issue_component("acme", "app", "UI"), ui);
    let m1 = bb.add_issue_milestone("acme", "app", "M1");
    let v1 = bb.add_issue_version("acme", "app", "1.0");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let components = repo.list_issue_components().send().await.unwrap();
    let names: Vec<String> = components
        .values
        .unwrap()
        .into_iter()
        .map(|c| c.name.unwrap())
        .collect();
    assert_eq!(names, ["UI", "API"]);
    let got = repo
        .get_issue_component()
        .component_id(api as i64)
        .send()
        .await
        .unwrap();
    assert_eq!(got.name.as_deref(), Some("API"));
    let milestone = repo
        .get_issue_milestone()
        .milestone_id(m1 as i64)
        .send()
        .await
        .unwrap();
    assert_eq!(milestone.name.as_deref(), Some("M1"));
    let versions = repo.list_issue_versions().send().await.unwrap();
    assert_eq!(versions.values.unwrap()[0].id, Some(v1 as i64));
    assert_eq!(
        repo.list_issue_milestones().send().await.unwrap().size,
        Some(1)
    );
    let missing = repo
        .get_issue_version()
        .version_id(99)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);

    // Issues name them, are changed to others, and are filtered by them.
    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({
            "title": "Button misplaced",
            "component": { "name": "UI" },
            "milestone": { "name": "M1" },
        })))
        .send()
        .await
        .unwrap();
    let number = issue.id.unwrap();
    let id = number.to_string();
    let shown = serde_json::to_value(&issue).unwrap();
    assert_eq!(shown["component"]["name"], "UI");
    assert_eq!(shown["milestone"]["name"], "M1");
    assert!(issue.version.is_none());
    let updated = repo
        .update_issue()
        .issue_id(number)
        .body(body::<types::Issue>(json!({
            "component": { "name": "API" },
            "version": { "name": "1.0" },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&updated).unwrap()["component"]["name"],
        "API"
    );
    // `null` takes one off (the typed body leaves out what is `None`, so in plain JSON).
    let cleared = common::http()
        .put(format!(
            "{}/repositories/acme/app/issues/{id}",
            bb.base_url()
        ))
        .bearer_auth(bb.token(&[Scope::IssueWrite]))
        .json(&json!({ "milestone": null }))
        .send()
        .await
        .unwrap();
    assert_eq!(cleared.status(), 200);
    let cleared: serde_json::Value = cleared.json().await.unwrap();
    assert_eq!(cleared["milestone"], serde_json::Value::Null);
    assert_eq!(cleared["version"]["name"], "1.0");
    let changes = repo
        .list_issue_changes()
        .issue_id(&id)
        .send()
        .await
        .unwrap();
    let changes: Vec<serde_json::Value> = changes
        .values
        .unwrap()
        .iter()
        .map(|c| serde_json::to_value(c).unwrap())
        .collect();
    assert_eq!(
        changes[0]["changes"]["component"],
        json!({ "old": "UI", "new": "API" })
    );
    assert_eq!(changes[1]["changes"]["milestone"]["old"], "M1");
    let by_component = repo
        .list_issues()
        .q("component.name = \"API\"")
        .send()
        .await
        .unwrap();
    assert_eq!(by_component.size, Some(1));
    let bad = repo
        .create_issue()
        .body(body::<types::Issue>(json!({
            "title": "Nope",
            "component": { "name": "Backend" },
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&bad), 400);
}

#[allow(deprecated)]
#[tokio::test]
async fn issue_attachments_are_uploaded_listed_fetched_from_storage_and_deleted() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({ "title": "Crash" })))
        .send()
        .await
        .unwrap();
    let id = issue.id.unwrap().to_string();
    let url = format!(
        "{}/repositories/acme/app/issues/{id}/attachments",
        bb.base_url()
    );
    let http = common::http();
    let token = bb.token(&[Scope::IssueWrite]);
    // Through the typed builder: one `files` field per file, each under its file name.
    repo.upload_issue_attachment()
        .issue_id(&id)
        .files(Upload::bytes("trace\n").file_name("crash log.txt"))
        .files(Upload::bytes(vec![0u8, 159, 146, 150]).file_name("core.bin"))
        .send()
        .await
        .unwrap();
    // A form without files is refused; so is an upload with a read-only token.
    let empty = http
        .post(&url)
        .bearer_auth(&token)
        .multipart(reqwest::multipart::Form::new().text("note", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(empty.status(), 400);
    // A body that is not multipart gets Bitbucket's error body.
    let not_multipart = http
        .post(&url)
        .bearer_auth(&token)
        .json(&json!({ "files": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), 400);
    let error: serde_json::Value = not_multipart.json().await.unwrap();
    assert_eq!(error["type"], "error");
    let read_only = http
        .post(&url)
        .bearer_auth(bb.token(&[Scope::Issue]))
        .multipart(reqwest::multipart::Form::new().part(
            "files",
            reqwest::multipart::Part::bytes(vec![1]).file_name("x"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(read_only.status(), 403);

    let listed = repo
        .list_issue_attachments()
        .issue_id(&id)
        .send()
        .await
        .unwrap();
    let names: Vec<String> = listed
        .values
        .unwrap()
        .into_iter()
        .map(|a| a.name.unwrap())
        .collect();
    assert_eq!(names, ["core.bin", "crash log.txt"]);

    let content = repo
        .get_issue_attachment()
        .issue_id(&id)
        .path("crash log.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(&content[..], b"trace\n");
    let binary = repo
        .get_issue_attachment()
        .issue_id(&id)
        .path("core.bin")
        .send()
        .await
        .unwrap();
    assert_eq!(&binary[..], &[0u8, 159, 146, 150]);

    repo.delete_issue_attachment()
        .issue_id(&id)
        .path("core.bin")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_issue_attachment()
        .issue_id(&id)
        .path("core.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
    let again = repo
        .delete_issue_attachment()
        .issue_id(&id)
        .path("core.bin")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 404);

    // Deleting the issue deletes its attachments: a new issue with its number has none.
    repo.delete_issue()
        .issue_id(issue.id.unwrap())
        .send()
        .await
        .unwrap();
    let missing = repo
        .list_issue_attachments()
        .issue_id(&id)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);
    let reborn = repo
        .create_issue()
        .body(body::<types::Issue>(json!({ "title": "Again" })))
        .send()
        .await
        .unwrap();
    assert_eq!(reborn.id.unwrap().to_string(), id);
    let listed = repo
        .list_issue_attachments()
        .issue_id(&id)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(0));
}

#[allow(deprecated)]
#[tokio::test]
async fn an_issue_export_is_accepted_started_and_done_as_it_is_polled() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    for title in ["One", "Two"] {
        repo.create_issue()
            .body(body::<types::Issue>(json!({ "title": title })))
            .send()
            .await
            .unwrap();
    }
    let http = common::http();
    let answer = http
        .post(format!(
            "{}/repositories/acme/app/issues/export",
            bb.base_url()
        ))
        .bearer_auth(bb.token(Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 202);
    let location = answer.headers()["location"].to_str().unwrap().to_string();
    let file = location.rsplit('/').next().unwrap().to_string();
    let task = file
        .strip_prefix("app-issues-")
        .and_then(|f| f.strip_suffix(".zip"))
        .unwrap()
        .to_string();

    let mut seen = Vec::new();
    for _ in 0..3 {
        let status = repo
            .get_issue_export_status()
            .repo_name("app")
            .task_id(&task)
            .send()
            .await
            .unwrap();
        let status = serde_json::to_value(&status).unwrap();
        seen.push((
            status["status"].as_str().unwrap().to_string(),
            status["count"].as_i64().unwrap(),
        ));
    }
    assert_eq!(
        seen,
        [
            ("ACCEPTED".to_string(), 0),
            ("STARTED".to_string(), 1),
            ("SUCCESS".to_string(), 2)
        ]
    );
    let unknown = repo
        .get_issue_export_status()
        .repo_name("app")
        .task_id("0000")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&unknown), 404);
    // Exporting needs admin on the repository.
    let grace = bb.add_account("grace", "Grace Hopper");
    let refused = http
        .post(format!(
            "{}/repositories/acme/app/issues/export",
            bb.base_url()
        ))
        .bearer_auth(bb.token_for(&grace, Scope::ALL))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}
