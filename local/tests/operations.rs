//! Every operation of the client against the local server, over real HTTP: what each answers
//! and how it changes the server's state.

mod common;

use bitbucket_cloud::types::{self, PullRequestState};
use bitbucket_cloud::{Completion, operations};
use bitbucket_cloud_local::{LocalBitbucket, PipelineResult};
use futures_util::TryStreamExt as _;
use serde_json::json;

use common::{admin, body};

#[tokio::test]
async fn user_workspaces_and_projects() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme Inc.");
    bb.create_project("acme", "WEB", "Website");
    let client = admin(&bb);

    let me = client.get_current_user().send().await.unwrap();
    assert_eq!(me.display_name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(me.uuid, Some(bb.account().uuid));
    assert_eq!(me.type_.as_deref(), Some("user"));

    let access = client.list_workspaces().send().await.unwrap();
    let ws = access.values.unwrap()[0].workspace.clone().unwrap();
    assert_eq!(ws.slug.as_deref(), Some("acme"));

    let acme = client.workspace("acme");
    let ws = acme.get_workspace().send().await.unwrap();
    assert_eq!(ws.name.as_deref(), Some("Acme Inc."));
    let uuid = ws.uuid.unwrap();
    assert!(uuid.starts_with('{') && uuid.ends_with('}'), "{uuid}");
    // A workspace can be named by its {uuid} too.
    let by_uuid = client
        .workspace(&uuid)
        .get_workspace()
        .send()
        .await
        .unwrap();
    assert_eq!(by_uuid.slug.as_deref(), Some("acme"));
    let self_link = by_uuid.links.unwrap().self_.unwrap().href.unwrap();
    assert_eq!(self_link, format!("{}/workspaces/acme", bb.base_url()));

    let projects = acme.list_projects().send().await.unwrap();
    assert_eq!(projects.size, Some(1));
    let project = acme.get_project().project_key("WEB").send().await.unwrap();
    assert_eq!(project.name.as_deref(), Some("Website"));

    let missing = client
        .workspace("nope")
        .get_workspace()
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.status().map(|s| s.as_u16()), Some(404));
    assert!(missing.api().unwrap().message().unwrap().contains("nope"));
}

#[tokio::test]
async fn repositories() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let client = admin(&bb);
    let acme = client.workspace("acme");

    let created = acme
        .repo("tools")
        .create_repository()
        .body(body::<types::Repository>(json!({
            "scm": "git",
            "is_private": true,
            "description": "Internal tools",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(created.full_name.as_deref(), Some("acme/tools"));
    assert_eq!(created.description.as_deref(), Some("Internal tools"));
    // Created through the API, a repository is empty, as on bitbucket.org.
    assert!(created.mainbranch.is_none());

    let again = acme
        .repo("tools")
        .create_repository()
        .body(body::<types::Repository>(json!({})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.status().unwrap().as_u16(), 400);

    bb.push("acme", "tools", "main", "First", &[("a.txt", "a\n")]);
    let updated = acme
        .repo("tools")
        .update_repository()
        .body(body::<types::Repository>(json!({
            "description": "Tools",
            "language": "rust",
            "mainbranch": { "name": "main" },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.language.as_deref(), Some("rust"));
    let fetched = acme.repo("tools").get_repository().send().await.unwrap();
    assert_eq!(fetched.description.as_deref(), Some("Tools"));
    assert_eq!(fetched.mainbranch.unwrap().name.as_deref(), Some("main"));
    assert_eq!(fetched.project.unwrap().key.as_deref(), Some("PROJ"));

    let list = acme.list_repositories().send().await.unwrap();
    assert_eq!(list.size, Some(1));
    let missing = acme.repo("nope").get_repository().send().await.unwrap_err();
    assert_eq!(missing.status().unwrap().as_u16(), 404);
}

#[tokio::test]
async fn branches_and_commits() {
    let bb = LocalBitbucket::start().await;
    let root = bb.create_repository("acme", "app");
    let second = bb.push(
        "acme",
        "app",
        "main",
        "Add lib",
        &[("src/lib.rs", "pub fn f() {}\n")],
    );
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let branch = repo
        .create_branch()
        .body(body::<types::Branch>(
            json!({ "name": "release/1.0", "target": { "hash": second } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(branch.name.as_deref(), Some("release/1.0"));
    assert_eq!(
        branch.target.unwrap().hash.as_deref(),
        Some(second.as_str())
    );

    // A name with a slash goes through the path encoded.
    let got = repo.get_branch().name("release/1.0").send().await.unwrap();
    assert_eq!(got.type_.as_deref(), Some("branch"));
    let names: Vec<_> = repo
        .list_branches()
        .send()
        .await
        .unwrap()
        .values
        .unwrap()
        .into_iter()
        .filter_map(|b| b.name)
        .collect();
    assert_eq!(names, ["main", "release/1.0"]);

    let duplicate = repo
        .create_branch()
        .body(body::<types::Branch>(
            json!({ "name": "main", "target": { "hash": root } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(duplicate.status().unwrap().as_u16(), 400);

    repo.delete_branch()
        .name("release/1.0")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_branch()
        .name("release/1.0")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status().unwrap().as_u16(), 404);
    let main = repo.delete_branch().name("main").send().await.unwrap_err();
    assert_eq!(
        main.status().unwrap().as_u16(),
        400,
        "the main branch cannot be deleted"
    );

    let commits: Vec<_> = repo.list_commits().stream().try_collect().await.unwrap();
    let hashes: Vec<_> = commits.iter().filter_map(|c| c.hash.clone()).collect();
    assert_eq!(hashes, [second.clone(), root.clone()], "newest first");
    let only_lib: Vec<_> = repo
        .list_commits()
        .path("src/lib.rs")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(only_lib.len(), 1);
    let excluded = repo
        .list_commits()
        .include(vec![second.clone()])
        .exclude(vec![root.clone()])
        .send()
        .await
        .unwrap();
    assert_eq!(excluded.values.unwrap().len(), 1);

    let commit = repo
        .get_commit()
        .commit(&second[..12])
        .send()
        .await
        .unwrap();
    assert_eq!(commit.hash.as_deref(), Some(second.as_str()));
    assert_eq!(commit.message.as_deref(), Some("Add lib"));
    assert_eq!(
        commit.parents.unwrap()[0].hash.as_deref(),
        Some(root.as_str())
    );
    let author = commit.author.unwrap();
    assert_eq!(
        author.raw.as_deref(),
        Some("Ada Lovelace <ada@example.com>")
    );
}

#[tokio::test]
async fn pull_request_lifecycle() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push(
        "acme",
        "app",
        "feature",
        "Add greeting",
        &[(
            "src/hello.rs",
            "pub fn hello() -> &'static str {\n    \"hi\"\n}\n",
        )],
    );
    let grace = bb.add_account("grace", "Grace Hopper");
    let client = admin(&bb);
    let reviewer = common::client(
        &bb,
        bitbucket_cloud::Auth::access_token(
            bb.token_for(&grace, &[bitbucket_cloud::Scope::PullrequestWrite]),
        ),
    );
    let repo = client.repo("acme", "app");

    let pr = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "Add greeting",
            "description": "Says hi.",
            "source": { "branch": { "name": "feature" } },
            "reviewers": [{ "uuid": grace.uuid }],
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(pr.id, Some(1));
    assert_eq!(pr.state, Some(PullRequestState::Open));
    let destination = pr.destination.unwrap();
    assert_eq!(destination.branch.unwrap().name.as_deref(), Some("main"));
    assert_eq!(pr.reviewers.unwrap()[0].nickname.as_deref(), Some("grace"));

    let updated = repo
        .update_pull_request()
        .pull_request_id(1)
        .body(body::<types::PullRequest>(
            json!({ "title": "Add a greeting" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.title.as_deref(), Some("Add a greeting"));

    let comment = repo
        .create_pull_request_comment()
        .pull_request_id(1)
        .body(body::<types::PullRequestComment>(
            json!({ "content": { "raw": "Looks good" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.content.unwrap().raw.as_deref(), Some("Looks good"));
    let reply = repo
        .create_pull_request_comment()
        .pull_request_id(1)
        .body(body::<types::PullRequestComment>(json!({
            "content": { "raw": "Thanks" },
            "parent": { "id": comment.id },
            "inline": { "path": "src/hello.rs", "to": 2 },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.inline.unwrap().path.as_deref(), Some("src/hello.rs"));
    let comments = repo
        .list_pull_request_comments()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(comments.size, Some(2));

    let changes = reviewer
        .repo("acme", "app")
        .request_changes_on_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        changes.state.map(|s| s.to_string()).as_deref(),
        Some("changes_requested")
    );
    let approval = reviewer
        .repo("acme", "app")
        .approve_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(approval.approved, Some(true));
    assert_eq!(approval.user.unwrap().nickname.as_deref(), Some("grace"));
    let fetched = repo
        .get_pull_request()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    let participant = &fetched.participants.unwrap()[1];
    assert_eq!(
        participant.role.as_ref().map(|r| r.to_string()).as_deref(),
        Some("REVIEWER")
    );
    assert_eq!(participant.approved, Some(true));

    let commits = repo
        .list_pull_request_commits()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(
        commits.values.unwrap()[0].message.as_deref(),
        Some("Add greeting")
    );
    let diff = repo
        .get_pull_request_diff()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert!(
        diff.starts_with("diff --git a/src/hello.rs b/src/hello.rs\nnew file mode 100644\n"),
        "{diff}"
    );
    assert!(diff.contains("+    \"hi\"\n"), "{diff}");

    let merged = repo
        .merge_pull_request()
        .pull_request_id(1)
        .body(body::<types::PullRequestMergeParameters>(
            json!({ "close_source_branch": true }),
        ))
        .send()
        .await
        .unwrap();
    let Completion::Done(merged) = merged else {
        panic!("the merge finishes at once")
    };
    assert_eq!(merged.state, Some(PullRequestState::Merged));
    assert_eq!(merged.closed_by.unwrap().nickname.as_deref(), Some("ada"));
    let merge_hash = merged.merge_commit.unwrap().hash.unwrap();
    let main = repo.get_branch().name("main").send().await.unwrap();
    let head = main.target.unwrap();
    assert!(head.hash.as_deref().unwrap().starts_with(&merge_hash));
    assert_eq!(head.parents.unwrap().len(), 2, "a merge commit");
    assert!(
        repo.get_branch().name("feature").send().await.is_err(),
        "source branch closed"
    );
    // The merged pull request still shows its commits and diff.
    let diff_after = repo
        .get_pull_request_diff()
        .pull_request_id(1)
        .send()
        .await
        .unwrap();
    assert_eq!(diff, diff_after);

    let again = repo
        .merge_pull_request()
        .pull_request_id(1)
        .body(body::<types::PullRequestMergeParameters>(json!({})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.status().unwrap().as_u16(), 400);

    // A second pull request, declined.
    bb.push(
        "acme",
        "app",
        "experiment",
        "Try something",
        &[("x.txt", "x\n")],
    );
    let second = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "Experiment",
            "source": { "branch": { "name": "experiment" } },
            "destination": { "branch": { "name": "main" } },
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(second.id, Some(2));
    let declined = repo
        .decline_pull_request()
        .pull_request_id(2)
        .send()
        .await
        .unwrap();
    assert_eq!(declined.state, Some(PullRequestState::Declined));

    let open = repo.list_pull_requests().send().await.unwrap();
    assert_eq!(open.size, Some(0), "only open pull requests by default");
    let all = repo
        .list_pull_requests()
        .state(vec![PullRequestState::Merged, PullRequestState::Declined])
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = all
        .values
        .unwrap()
        .into_iter()
        .filter_map(|p| p.id)
        .collect();
    assert_eq!(ids, [2, 1], "newest first");
}

#[tokio::test]
async fn pull_request_validation_and_merge_strategies() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let no_branch = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "x",
            "source": { "branch": { "name": "dummy" } },
        })))
        .send()
        .await
        .unwrap_err();
    let api = no_branch.api().unwrap();
    assert_eq!(api.status().as_u16(), 400);
    assert_eq!(api.message(), Some("source: branch not found: dummy"));
    assert_eq!(
        api.fields().unwrap()["source"],
        json!(["branch not found: dummy"])
    );

    let no_title = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(
            json!({ "source": { "branch": { "name": "main" } } }),
        ))
        .send()
        .await
        .unwrap_err();
    assert!(
        no_title
            .api()
            .unwrap()
            .fields()
            .unwrap()
            .contains_key("title")
    );

    let nothing = repo
        .create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "x",
            "source": { "branch": { "name": "main" } },
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(
        nothing.api().unwrap().message(),
        Some("There are no changes to be pulled")
    );

    // Squash: one new commit with one parent.
    bb.push("acme", "app", "a", "A1", &[("a.txt", "1\n")]);
    bb.push("acme", "app", "a", "A2", &[("a.txt", "2\n")]);
    let pr = open(&repo, "a").await;
    let merged = repo
        .merge_pull_request()
        .pull_request_id(pr)
        .body(body::<types::PullRequestMergeParameters>(
            json!({ "merge_strategy": "squash" }),
        ))
        .send()
        .await
        .unwrap()
        .done()
        .unwrap();
    let hash = merged.merge_commit.unwrap().hash.unwrap();
    let squashed = repo.get_commit().commit(hash).send().await.unwrap();
    assert_eq!(squashed.parents.unwrap().len(), 1);

    // Fast-forward: main moves to the source's head.
    let head = bb.push("acme", "app", "b", "B", &[("b.txt", "b\n")]);
    let pr = open(&repo, "b").await;
    let _ = repo
        .merge_pull_request()
        .pull_request_id(pr)
        .body(body::<types::PullRequestMergeParameters>(
            json!({ "merge_strategy": "fast_forward" }),
        ))
        .send()
        .await
        .unwrap();
    let main = repo.get_branch().name("main").send().await.unwrap();
    assert_eq!(main.target.unwrap().hash, Some(head));

    // Both sides changed the same file: a conflict.
    bb.push("acme", "app", "c", "C", &[("b.txt", "from c\n")]);
    let pr = open(&repo, "c").await;
    bb.push("acme", "app", "main", "Main", &[("b.txt", "from main\n")]);
    let conflict = repo
        .merge_pull_request()
        .pull_request_id(pr)
        .body(body::<types::PullRequestMergeParameters>(json!({})))
        .send()
        .await
        .unwrap_err();
    assert_eq!(conflict.status().unwrap().as_u16(), 409);
    assert!(conflict.api().unwrap().message().unwrap().contains("b.txt"));
}

async fn open(repo: &bitbucket_cloud::RepoHandle<'_>, branch: &str) -> i64 {
    repo.create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": format!("Merge {branch}"),
            "source": { "branch": { "name": branch } },
        })))
        .send()
        .await
        .unwrap()
        .id
        .unwrap()
}

#[tokio::test]
async fn issues() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let issue = repo
        .create_issue()
        .body(body::<types::Issue>(json!({
            "title": "Crash on start",
            "content": { "raw": "It crashes." },
            "kind": "bug",
            "priority": "critical",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(issue.id, Some(1));
    assert_eq!(issue.state.map(|s| s.to_string()).as_deref(), Some("new"));

    let updated = repo
        .update_issue()
        .issue_id(1)
        .body(body::<types::Issue>(json!({ "state": "resolved" })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        updated.state.map(|s| s.to_string()).as_deref(),
        Some("resolved")
    );
    let fetched = repo.get_issue().issue_id(1).send().await.unwrap();
    assert_eq!(
        fetched.priority.map(|p| p.to_string()).as_deref(),
        Some("critical")
    );
    assert!(fetched.edited_on.is_some());

    let bad = repo
        .update_issue()
        .issue_id(1)
        .body(body::<types::Issue>(json!({ "kind": "feature" })))
        .send()
        .await
        .unwrap_err();
    assert!(bad.api().unwrap().fields().unwrap().contains_key("kind"));
    assert_eq!(repo.list_issues().send().await.unwrap().size, Some(1));
}

#[tokio::test]
async fn pipelines_advance_and_stop() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let run = |branch: &'static str| {
        repo.run_pipeline()
            .body(body::<types::Pipeline>(json!({
                "target": { "type": "pipeline_ref_target", "ref_type": "branch", "ref_name": branch },
            })))
            .send()
    };

    let pipeline = run("main").await.unwrap();
    assert_eq!(pipeline.build_number, Some(1));
    let uuid = pipeline.uuid.unwrap();
    let mut seen = vec![state_of(&pipeline.state)];
    for _ in 0..3 {
        let p = repo
            .get_pipeline()
            .pipeline_uuid(&uuid)
            .send()
            .await
            .unwrap();
        seen.push(state_of(&p.state));
    }
    assert_eq!(
        seen,
        [
            "PENDING",
            "IN_PROGRESS",
            "COMPLETED/SUCCESSFUL",
            "COMPLETED/SUCCESSFUL"
        ]
    );

    let second = run("main").await.unwrap();
    repo.stop_pipeline()
        .pipeline_uuid(second.uuid.clone().unwrap())
        .send()
        .await
        .unwrap();
    let stopped = repo
        .get_pipeline()
        .pipeline_uuid(second.uuid.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(state_of(&stopped.state), "COMPLETED/STOPPED");
    let finished = repo
        .stop_pipeline()
        .pipeline_uuid(uuid)
        .send()
        .await
        .unwrap_err();
    assert_eq!(finished.status().unwrap().as_u16(), 400);

    bb.set_pipeline_result(PipelineResult::Failed);
    let third = run("main").await.unwrap();
    let by_number = |n: i64| repo.get_pipeline().pipeline_uuid(n.to_string()).send();
    by_number(third.build_number.unwrap()).await.unwrap();
    let failed = by_number(third.build_number.unwrap()).await.unwrap();
    assert_eq!(state_of(&failed.state), "COMPLETED/FAILED");

    let missing = run("nope").await.unwrap_err();
    assert_eq!(missing.status().unwrap().as_u16(), 400);
    let list = repo.list_pipelines().send().await.unwrap();
    let numbers: Vec<_> = list
        .values
        .unwrap()
        .into_iter()
        .filter_map(|p| p.build_number)
        .collect();
    assert_eq!(numbers, [1, 2, 3]);
    let newest = repo
        .list_pipelines()
        .sort("-created_on")
        .send()
        .await
        .unwrap();
    assert_eq!(newest.values.unwrap()[0].build_number, Some(3));
}

fn state_of(state: &Option<Box<types::PipelineState>>) -> String {
    let state = state.as_ref().unwrap();
    let name = state.name.as_ref().unwrap().to_string();
    match state.result.as_ref().and_then(|r| r.name.as_ref()) {
        Some(result) => format!("{name}/{result}"),
        None => name,
    }
}

#[tokio::test]
async fn webhooks_crud() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let hook = repo
        .create_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": "http://127.0.0.1:9/hook",
            "description": "CI",
            "events": ["repo:push", "pullrequest:created"],
            "secret": "s3cret",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(hook.secret_set, Some(true));
    assert!(hook.secret.is_none(), "the secret is never sent back");
    let listed = repo.list_webhooks().send().await.unwrap();
    assert_eq!(listed.size, Some(1));

    let bad = repo
        .create_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": "http://127.0.0.1:9/hook",
            "events": ["pullrequest:teleported"],
        })))
        .send()
        .await
        .unwrap_err();
    assert!(bad.api().unwrap().fields().unwrap().contains_key("events"));

    repo.delete_webhook()
        .uid(hook.uuid.unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(repo.list_webhooks().send().await.unwrap().size, Some(0));
}

/// A server, and a webhook receiver, stop when dropped: their ports close.
#[tokio::test]
async fn dropping_stops_the_servers() {
    async fn closes(addr: std::net::SocketAddr) {
        // The server stops in the background: wait (loosely) for its port to refuse.
        for _ in 0..500 {
            if tokio::net::TcpStream::connect(addr).await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{addr} still accepts connections after the drop");
    }
    let bb = LocalBitbucket::start().await;
    let addr = bb.addr();
    assert!(tokio::net::TcpStream::connect(addr).await.is_ok());
    drop(bb);
    closes(addr).await;

    let receiver = bitbucket_cloud_local::WebhookReceiver::start().await;
    let addr = receiver.url()["http://".len()..]
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    drop(receiver);
    closes(addr).await;
}

/// A `201 Created` says where the new thing is: its `Location` is the body's self link.
#[tokio::test]
async fn created_answers_carry_a_location() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    let response = common::http()
        .post(format!(
            "{}/repositories/acme/app/refs/branches",
            bb.base_url()
        ))
        .bearer_auth(bb.token(&[bitbucket_cloud::Scope::RepositoryWrite]))
        .json(&json!({ "name": "topic", "target": { "hash": head } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!(
            "{}/repositories/acme/app/refs/branches/topic",
            bb.base_url()
        )
    );
    assert_eq!(created["links"]["self"]["href"], location.as_str());
}

/// Every operation of the client is routed here and none answers 501 (the answer of one the
/// server does not implement): an operation added to the client later fails this test until
/// the server serves it.
#[tokio::test]
async fn every_operation_is_served() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let http = common::http();
    let token = bb.token(bitbucket_cloud::Scope::ALL);
    for op in operations::ALL {
        let path = op
            .path
            .replace("{workspace}", "acme")
            .replace("{repo_slug}", "app")
            .replace("{project_key}", "PROJ");
        let url = format!("{}{}", bb.base_url(), path.replace(['{', '}'], ""));
        let response = http
            .request(op.method.clone(), url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_ne!(
            response.status().as_u16(),
            501,
            "{} is not implemented",
            op.name
        );
    }
    let served: std::collections::BTreeSet<_> = bb.requests().iter().map(|r| r.operation).collect();
    assert_eq!(served.len(), operations::ALL.len());
}

#[tokio::test]
async fn unknown_urls_get_bitbucket_s_404() {
    let bb = LocalBitbucket::start().await;
    let response = common::http()
        .get(format!("{}/snippets", bb.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({
            "type": "error",
            "error": { "message": "Resource not found", "detail": "There is no API hosted at this URL" },
        })
    );
}
