//! Webhooks read and changed, projects, workspace members and permissions, users, and
//! repositories deleted, forked and watched, over real HTTP through the client.

mod common;

use bitbucket_cloud::types;
use bitbucket_cloud::webhooks::Event;
use bitbucket_cloud_local::{LocalBitbucket, WebhookReceiver};
use serde_json::{Value, json};

use common::{admin, body};

fn status_of(error: &bitbucket_cloud::Error) -> u16 {
    error.status().map(|s| s.as_u16()).unwrap_or_default()
}

fn json_of<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

#[tokio::test]
async fn webhooks_are_read_and_changed() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let receiver = WebhookReceiver::start().await;
    let hook = repo
        .create_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": "http://127.0.0.1:9/unused",
            "events": ["repo:push"],
            "description": "CI",
        })))
        .send()
        .await
        .unwrap();
    let uid = hook.uuid.unwrap();
    let got = repo.get_webhook().uid(&uid).send().await.unwrap();
    assert_eq!(got.description.as_deref(), Some("CI"));
    // Braces are optional in the path.
    repo.get_webhook()
        .uid(uid.trim_matches(['{', '}']))
        .send()
        .await
        .unwrap();

    let updated = repo
        .update_webhook()
        .uid(&uid)
        .body(body::<types::WebhookSubscription>(json!({
            "url": receiver.url(),
            "events": ["repo:push", "repo:fork"],
            "secret": "hook-secret",
        })))
        .send()
        .await
        .unwrap();
    let value = json_of(&updated);
    assert_eq!(value["url"], receiver.url());
    assert_eq!(value["secret_set"], true);
    assert!(!value.to_string().contains("hook-secret"));
    assert_eq!(updated.events.unwrap().len(), 2);
    let invalid = repo
        .update_webhook()
        .uid(&uid)
        .body(body::<types::WebhookSubscription>(
            json!({ "events": ["repo:nonsense"] }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);

    // The new URL and secret are used: a push arrives there, signed.
    bb.push("acme", "app", "main", "Change", &[("a", "a\n")]);
    let received = receiver.wait_for(1).await;
    assert!(received[0].header("x-hub-signature").starts_with("sha256="));
    // The receiver's Debug prints the event redacted, never raw secrets it may carry.
    assert!(format!("{:?}", received[0]).contains("Push"));

    let missing = repo.get_webhook().uid("{nope}").send().await.unwrap_err();
    assert_eq!(status_of(&missing), 404);
}

#[tokio::test]
async fn projects_are_created_updated_and_deleted() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let project = acme
        .create_project()
        .body(body::<types::Project>(json!({
            "key": "web",
            "name": "Website",
            "description": "The site",
            "is_private": false,
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(project.key.as_deref(), Some("WEB"));
    assert_eq!(project.is_private, Some(false));
    let taken = acme
        .create_project()
        .body(body::<types::Project>(
            json!({ "key": "WEB", "name": "Again" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&taken), 400);
    let nameless = acme
        .create_project()
        .body(body::<types::Project>(json!({ "key": "X" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&nameless), 400);

    let renamed = acme
        .update_project()
        .project_key("WEB")
        .body(body::<types::Project>(
            json!({ "name": "Web site", "key": "SITE" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.key.as_deref(), Some("SITE"));
    assert_eq!(renamed.name.as_deref(), Some("Web site"));
    assert_eq!(
        status_of(
            &acme
                .get_project()
                .project_key("WEB")
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    // A project with repositories is not deleted.
    let repo = acme
        .repo("site")
        .create_repository()
        .body(body::<types::Repository>(
            json!({ "project": { "key": "SITE" } }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(repo.project.unwrap().key.as_deref(), Some("SITE"));
    let refused = acme
        .delete_project()
        .project_key("SITE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 400);
    acme.repo("site").delete_repository().send().await.unwrap();
    acme.delete_project()
        .project_key("SITE")
        .send()
        .await
        .unwrap();
    let projects = acme.list_projects().send().await.unwrap();
    assert_eq!(projects.size, Some(0));
}

#[tokio::test]
async fn members_permissions_and_users() {
    let bb = LocalBitbucket::start().await;
    bb.create_workspace("acme", "Acme");
    let grace = bb.add_account("grace", "Grace Hopper");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let members = acme.list_workspace_members().send().await.unwrap();
    assert_eq!(members.size, Some(2));
    let member = acme
        .get_workspace_member()
        .member(&grace.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        member.user.unwrap().display_name.as_deref(),
        Some("Grace Hopper")
    );
    let owners = acme
        .list_workspace_permissions()
        .q("permission=\"owner\"")
        .send()
        .await
        .unwrap();
    let owners = json_of(&owners.values.unwrap());
    assert_eq!(owners.as_array().unwrap().len(), 1);
    assert_eq!(owners[0]["user"]["uuid"], bb.account().uuid);

    let user = client
        .get_user()
        .selected_user(&grace.account_id)
        .send()
        .await
        .unwrap();
    assert_eq!(user.uuid, Some(grace.uuid.clone()));
    let missing = client
        .get_user()
        .selected_user("{00000000-0000-0000-0000-000000000000}")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&missing), 404);
}

#[tokio::test]
async fn forks_watchers_and_deleting_a_repository() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature", "Feature", &[("f", "f\n")]);
    bb.create_workspace("grace", "Grace");
    let client = admin(&bb);
    let receiver = WebhookReceiver::start().await;
    let repo = client.repo("acme", "app");
    repo.create_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": receiver.url(),
            "events": ["repo:fork"],
        })))
        .send()
        .await
        .unwrap();

    let fork = repo
        .fork_repository()
        .body(body::<types::Repository>(json!({
            "workspace": { "slug": "grace" },
            "name": "app-fork",
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(fork.full_name.as_deref(), Some("grace/app-fork"));
    assert_eq!(fork.parent.unwrap().full_name.as_deref(), Some("acme/app"));
    // The fork has the original's branches and commits.
    let branch = client
        .repo("grace", "app-fork")
        .get_branch()
        .name("feature")
        .send()
        .await
        .unwrap();
    assert!(branch.target.is_some());
    let again = repo
        .fork_repository()
        .body(body::<types::Repository>(json!({
            "workspace": { "slug": "grace" },
            "name": "app-fork",
        })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 400);
    let forks = repo.list_forks().send().await.unwrap();
    assert_eq!(forks.size, Some(1));

    let received = receiver.wait_for(1).await;
    assert_eq!(received[0].event(), "repo:fork");
    match Event::parse(received[0].event(), &received[0].body).unwrap() {
        Event::Fork(e) => {
            assert_eq!(e.fork.unwrap().full_name.as_deref(), Some("grace/app-fork"));
            assert_eq!(e.repository.unwrap().full_name.as_deref(), Some("acme/app"));
        }
        other => panic!("{other:?}"),
    }

    let watchers = repo.list_watchers().send().await.unwrap();
    assert_eq!(
        watchers.values.unwrap()[0].uuid,
        Some(bb.account().uuid.clone())
    );

    // Forbidding forks.
    repo.update_repository()
        .body(body::<types::Repository>(
            json!({ "fork_policy": "no_forks" }),
        ))
        .send()
        .await
        .unwrap();
    let refused = repo
        .fork_repository()
        .body(body::<types::Repository>(json!({ "name": "another" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&refused), 400);

    repo.delete_repository().send().await.unwrap();
    assert_eq!(
        status_of(&repo.get_repository().send().await.unwrap_err()),
        404
    );
    // The fork stays, without its parent.
    let orphan = client
        .repo("grace", "app-fork")
        .get_repository()
        .send()
        .await
        .unwrap();
    assert!(orphan.parent.is_none());
}

#[tokio::test]
async fn workspace_webhooks_get_every_repositorys_events() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.create_repository("acme", "lib");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let receiver = WebhookReceiver::start().await;
    let hook = acme
        .create_workspace_webhook()
        .body(body::<types::WebhookSubscription>(json!({
            "url": receiver.url(),
            "events": ["repo:push"],
        })))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&hook)["subject_type"], "workspace");
    bb.push("acme", "app", "main", "One", &[("a", "a\n")]);
    bb.push("acme", "lib", "main", "Two", &[("b", "b\n")]);
    let received = receiver.wait_for(2).await;
    let names: Vec<_> = received
        .iter()
        .map(|r| r.json()["repository"]["full_name"].clone())
        .collect();
    assert_eq!(names, [json!("acme/app"), json!("acme/lib")]);

    let uid = hook.uuid.unwrap();
    let listed = acme.list_workspace_webhooks().send().await.unwrap();
    assert_eq!(listed.size, Some(1));
    let updated = acme
        .update_workspace_webhook()
        .uid(&uid)
        .body(body::<types::WebhookSubscription>(
            json!({ "active": false }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(updated.active, Some(false));
    acme.get_workspace_webhook().uid(&uid).send().await.unwrap();
    acme.delete_workspace_webhook()
        .uid(&uid)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(
            &acme
                .get_workspace_webhook()
                .uid(&uid)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    let subjects = json_of(&client.list_webhook_subject_types().send().await.unwrap());
    assert!(
        subjects["repository"]["links"]["events"]["href"]
            .as_str()
            .unwrap()
            .ends_with("/hook_events/repository")
    );
    let events = client
        .list_webhook_event_types()
        .subject_type(types::ListWebhookEventTypesSubjectType::Repository)
        .pagelen(100)
        .send()
        .await
        .unwrap();
    let keys: Vec<_> = json_of(&events.values.unwrap())
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap().to_string())
        .collect();
    assert!(keys.contains(&"repo:push".to_string()));
    assert!(keys.contains(&"pullrequest:comment_reopened".to_string()));
}

#[tokio::test]
async fn application_properties_on_repositories_commits_pull_requests_and_users() {
    let bb = LocalBitbucket::start().await;
    let head = bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature", "F", &[("f", "f\n")]);
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    repo.create_pull_request()
        .body(body::<types::PullRequest>(json!({
            "title": "F", "source": { "branch": { "name": "feature" } },
        })))
        .send()
        .await
        .unwrap();
    let value = json!({ "build": 42, "_attributes": ["public"] });
    repo.update_app_property()
        .app_key("ci")
        .property_name("state")
        .body(body::<types::ApplicationProperty>(value.clone()))
        .send()
        .await
        .unwrap();
    let got = repo
        .get_app_property()
        .app_key("ci")
        .property_name("state")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&got), value);
    repo.update_commit_app_property()
        .commit(&head)
        .app_key("ci")
        .property_name("state")
        .body(body::<types::ApplicationProperty>(json!({ "ok": true })))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(
            &repo
                .get_commit_app_property()
                .commit(&head)
                .app_key("ci")
                .property_name("state")
                .send()
                .await
                .unwrap()
        ),
        json!({ "ok": true })
    );
    repo.update_pull_request_app_property()
        .pullrequest_id("1")
        .app_key("ci")
        .property_name("state")
        .body(body::<types::ApplicationProperty>(json!({ "pr": 1 })))
        .send()
        .await
        .unwrap();
    client
        .update_user_app_property()
        .selected_user(bb.account().uuid)
        .app_key("ci")
        .property_name("prefs")
        .body(body::<types::ApplicationProperty>(
            json!({ "theme": "dark" }),
        ))
        .send()
        .await
        .unwrap();
    let prefs = client
        .get_user_app_property()
        .selected_user(bb.account().uuid)
        .app_key("ci")
        .property_name("prefs")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&prefs)["theme"], "dark");
    repo.delete_app_property()
        .app_key("ci")
        .property_name("state")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_app_property()
        .app_key("ci")
        .property_name("state")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
    let no_pr = repo
        .get_pull_request_app_property()
        .pullrequest_id("9")
        .app_key("ci")
        .property_name("state")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&no_pr), 404);
}

// Deprecated operations are still served, as Bitbucket still serves them.
#[allow(deprecated)]
#[tokio::test]
async fn repository_permissions_workspaces_and_emails() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let grace = bb.add_account("grace", "Grace Hopper");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");

    let mine = client
        .list_current_user_repository_permissions()
        .send()
        .await
        .unwrap();
    let mine = json_of(&mine.values.unwrap());
    assert_eq!(mine[0]["permission"], "admin");
    assert_eq!(mine[0]["repository"]["full_name"], "acme/app");

    let set = repo
        .update_user_permission()
        .selected_user_id(&grace.account_id)
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "read" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&set)["permission"], "read");
    let invalid = repo
        .update_user_permission()
        .selected_user_id(&grace.account_id)
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "owner" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);
    let explicit = repo.list_user_permissions().send().await.unwrap();
    assert_eq!(explicit.size, Some(1));
    let all = client
        .list_repository_permissions()
        .workspace("acme")
        .repo_slug("app")
        .q("permission=\"read\"")
        .send()
        .await
        .unwrap();
    let all = json_of(&all.values.unwrap());
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["user"]["uuid"], grace.uuid);
    repo.delete_user_permission()
        .selected_user_id(&grace.account_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status_of(
            &repo
                .get_user_permission()
                .selected_user_id(&grace.account_id)
                .send()
                .await
                .unwrap_err()
        ),
        404
    );

    let workspaces = client.list_accessible_workspaces().send().await.unwrap();
    assert_eq!(workspaces.size, Some(1));
    let membership = client
        .list_current_user_workspace_memberships()
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_of(&membership.values.unwrap())[0]["permission"],
        "owner"
    );
    let email = client
        .get_current_user_email()
        .email(bb.account().email)
        .send()
        .await
        .unwrap();
    assert_eq!(email["is_primary"], true);
    let other = client
        .get_current_user_email()
        .email("someone@else.example")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&other), 404);
}

#[tokio::test]
async fn deploy_keys_and_ssh_keys() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq3 ci@example";
    let key = repo
        .create_deploy_key()
        .body(body::<types::DeployKey>(
            json!({ "key": KEY, "label": "CI" }),
        ))
        .send()
        .await
        .unwrap();
    let value = json_of(&key);
    assert_eq!(value["comment"], "ci@example");
    assert_eq!(value["label"], "CI");
    let id = value["id"].as_i64().unwrap().to_string();
    let twice = repo
        .create_deploy_key()
        .body(body::<types::DeployKey>(
            json!({ "key": KEY, "label": "Again" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&twice), 400);
    let invalid = repo
        .create_deploy_key()
        .body(body::<types::DeployKey>(json!({ "key": "not a key" })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&invalid), 400);
    let relabelled = repo
        .update_deploy_key()
        .key_id(&id)
        .body(body::<types::DeployKey>(json!({ "label": "Deploy" })))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&relabelled)["label"], "Deploy");
    assert_eq!(repo.list_deploy_keys().send().await.unwrap().size, Some(1));
    repo.get_deploy_key().key_id(&id).send().await.unwrap();
    repo.delete_deploy_key().key_id(&id).send().await.unwrap();
    assert_eq!(
        status_of(&repo.get_deploy_key().key_id(&id).send().await.unwrap_err()),
        404
    );

    let project_key = client
        .workspace("acme")
        .create_project_deploy_key()
        .project_key("PROJ")
        .body(body::<types::ProjectDeployKey>(
            json!({ "key": KEY, "label": "All repos" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&project_key)["label"], "All repos");

    let me = bb.account();
    let ssh = client
        .create_user_ssh_key()
        .selected_user(&me.uuid)
        .body(body::<types::SshAccountKey>(
            json!({ "key": KEY, "label": "Laptop" }),
        ))
        .send()
        .await
        .unwrap();
    let uuid = json_of(&ssh)["uuid"].as_str().unwrap().to_string();
    let listed = client
        .list_user_ssh_keys()
        .selected_user(&me.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    client
        .delete_user_ssh_key()
        .selected_user(&me.uuid)
        .key_id(&uuid)
        .send()
        .await
        .unwrap();
}

// Code search is marked deprecated (Atlassian plans to retire it), and still served.
#[allow(deprecated)]
#[tokio::test]
async fn code_search_finds_files_at_the_main_branch() {
    let bb = LocalBitbucket::start().await;
    bb.push(
        "acme",
        "app",
        "main",
        "Code",
        &[
            (
                "src/foo.py",
                "import os\n\ndef foo():\n    print(\"snek\")\n",
            ),
            ("README.md", "Nothing here\n"),
        ],
    );
    bb.push("acme", "lib", "main", "Lib", &[("lib.rs", "fn foo() {}\n")]);
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let found = acme
        .search_workspace_code()
        .search_query("foo")
        .send()
        .await
        .unwrap();
    assert_eq!(found.size, Some(2));
    let only_py = acme
        .search_workspace_code()
        .search_query("FOO ext:py")
        .send()
        .await
        .unwrap();
    let result = json_of(&only_py.values.unwrap()[0]);
    assert_eq!(result["file"]["path"], "src/foo.py");
    assert_eq!(result["content_match_count"], 1);
    let line = &result["content_matches"][0]["lines"][1];
    assert_eq!(line["line"], 3);
    assert_eq!(line["segments"][1], json!({ "text": "foo", "match": true }));
    let none = acme
        .search_workspace_code()
        .search_query("foo repo:nope")
        .send()
        .await
        .unwrap();
    assert_eq!(none.size, Some(0));

    // An account's code search covers its own workspace, named after its nickname.
    bb.push("ada", "dotfiles", "main", "Dots", &[("foo.sh", "foo\n")]);
    let me = bb.account();
    let mine = client
        .search_user_code()
        .selected_user(&me.uuid)
        .search_query("foo")
        .send()
        .await
        .unwrap();
    assert_eq!(mine.size, Some(1));
    assert_eq!(json_of(&mine.values.unwrap()[0])["file"]["path"], "foo.sh");
    let other = bb.add_account("grace", "Grace Hopper");
    let theirs = client
        .search_user_code()
        .selected_user(&other.uuid)
        .search_query("foo")
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.size, Some(0));
    let error = client
        .search_user_code()
        .selected_user("{00000000-0000-0000-0000-000000000000}")
        .search_query("foo")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(404));
    let error = client
        .search_user_code()
        .selected_user(&me.uuid)
        .search_query(" ")
        .send()
        .await
        .unwrap_err();
    assert_eq!(error.status().map(|s| s.as_u16()), Some(400));
}

// Listing every public repository is deprecated, and still served.
#[allow(deprecated)]
#[tokio::test]
async fn project_permissions_and_public_repositories() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.create_repository("acme", "site");
    let grace = bb.add_account("grace", "Grace Hopper");
    let client = admin(&bb);
    let acme = client.workspace("acme");
    let set = acme
        .update_project_user_permission()
        .project_key("PROJ")
        .selected_user_id(&grace.account_id)
        .body(body::<types::ProjectPermissionUpdate>(
            json!({ "permission": "create-repo" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&set)["permission"], "create-repo");
    let listed = acme
        .list_project_user_permissions()
        .project_key("PROJ")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    acme.get_project_user_permission()
        .project_key("PROJ")
        .selected_user_id(&grace.account_id)
        .send()
        .await
        .unwrap();
    acme.delete_project_user_permission()
        .project_key("PROJ")
        .selected_user_id(&grace.account_id)
        .send()
        .await
        .unwrap();

    acme.repo("site")
        .update_repository()
        .body(body::<types::Repository>(json!({ "is_private": false })))
        .send()
        .await
        .unwrap();
    let public = client.list_public_repositories().send().await.unwrap();
    let names: Vec<_> = public
        .values
        .unwrap()
        .into_iter()
        .map(|r| r.full_name.unwrap())
        .collect();
    assert_eq!(names, ["acme/site"]);
}

#[tokio::test]
async fn group_permissions_on_repositories_and_projects() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.create_group("acme", "developers", "Developers");
    bb.create_group("acme", "auditors", "Auditors");
    let client = admin(&bb);
    let repo = client.repo("acme", "app");
    let acme = client.workspace("acme");
    let none = repo.list_group_permissions().send().await.unwrap();
    assert_eq!(none.size, Some(0));

    let set = repo
        .update_group_permission()
        .group_slug("developers")
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "write" }),
        ))
        .send()
        .await
        .unwrap();
    let set = json_of(&set);
    assert_eq!(set["permission"], "write");
    assert_eq!(set["group"]["name"], "Developers");
    assert_eq!(set["group"]["full_slug"], "acme:developers");
    repo.update_group_permission()
        .group_slug("auditors")
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "read" }),
        ))
        .send()
        .await
        .unwrap();
    let got = repo
        .get_group_permission()
        .group_slug("developers")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&got)["permission"], "write");
    assert_eq!(
        repo.list_group_permissions().send().await.unwrap().size,
        Some(2)
    );
    let invalid = repo
        .update_group_permission()
        .group_slug("developers")
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "owner" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(invalid.status().map(|s| s.as_u16()), Some(400));
    let no_group = repo
        .update_group_permission()
        .group_slug("nobody")
        .body(body::<types::RepositoryPermissionUpdate>(
            json!({ "permission": "read" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(no_group.status().map(|s| s.as_u16()), Some(404));
    repo.delete_group_permission()
        .group_slug("developers")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_group_permission()
        .group_slug("developers")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
    assert_eq!(
        repo.list_group_permissions().send().await.unwrap().size,
        Some(1)
    );

    // Projects take `create-repo` too.
    let set = acme
        .update_project_group_permission()
        .project_key("PROJ")
        .group_slug("developers")
        .body(body::<types::ProjectPermissionUpdate>(
            json!({ "permission": "create-repo" }),
        ))
        .send()
        .await
        .unwrap();
    let set = json_of(&set);
    assert_eq!(set["permission"], "create-repo");
    assert_eq!(set["project"]["key"], "PROJ");
    let listed = acme
        .list_project_group_permissions()
        .project_key("PROJ")
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    let got = acme
        .get_project_group_permission()
        .project_key("PROJ")
        .group_slug("developers")
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(&got)["group"]["slug"], "developers");
    acme.delete_project_group_permission()
        .project_key("PROJ")
        .group_slug("developers")
        .send()
        .await
        .unwrap();
    let again = acme
        .delete_project_group_permission()
        .project_key("PROJ")
        .group_slug("developers")
        .send()
        .await
        .unwrap_err();
    assert_eq!(again.status().map(|s| s.as_u16()), Some(404));
    let no_project = acme
        .list_project_group_permissions()
        .project_key("NOPE")
        .send()
        .await
        .unwrap_err();
    assert_eq!(no_project.status().map(|s| s.as_u16()), Some(404));
}

/// A real key: `gpg --quick-gen-key "Ada Lovelace <ada@example.com>" ed25519 sign 2y` with a
/// `cv25519` subkey; `gpg --with-colons` gave the fingerprints asserted below.
const GPG_KEY: &str = include_str!("data/gpg-ada.asc");

#[tokio::test]
async fn gpg_keys_are_read_added_once_and_deleted() {
    let bb = LocalBitbucket::start().await;
    let me = bb.account();
    let client = admin(&bb);
    let added = client
        .create_user_gpg_key()
        .selected_user(&me.uuid)
        .body(body::<types::GpgAccountKey>(
            json!({ "key": GPG_KEY, "name": "Laptop" }),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        added.fingerprint.as_deref(),
        Some("16AC50572FA084152AB0D541FCEADE883C1EC8F5")
    );
    assert_eq!(added.key_id.as_deref(), Some("FCEADE883C1EC8F5"));
    assert_eq!(added.name.as_deref(), Some("Laptop"));
    assert!(added.parent_fingerprint.is_none());
    assert!(
        added
            .expires_on
            .as_deref()
            .is_some_and(|e| e.starts_with("2028-12-02")),
        "{:?}",
        added.expires_on
    );
    let subkeys = added.subkeys.unwrap();
    assert_eq!(
        subkeys[0].fingerprint.as_deref(),
        Some("8B174D7BD6AE08B0E97E33FDD8D58EF9061E614B")
    );
    assert_eq!(
        subkeys[0].parent_fingerprint.as_deref(),
        Some("16AC50572FA084152AB0D541FCEADE883C1EC8F5")
    );

    let again = client
        .create_user_gpg_key()
        .selected_user(&me.uuid)
        .body(body::<types::GpgAccountKey>(json!({ "key": GPG_KEY })))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&again), 400);
    let not_a_key = client
        .create_user_gpg_key()
        .selected_user(&me.uuid)
        .body(body::<types::GpgAccountKey>(
            json!({ "key": "ssh-ed25519 AAAAC3Nz" }),
        ))
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&not_a_key), 400);

    let listed = client
        .list_user_gpg_keys()
        .selected_user(&me.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.size, Some(1));
    // The fingerprint in any case.
    let got = client
        .get_user_gpg_key()
        .selected_user(&me.uuid)
        .fingerprint("16ac50572fa084152ab0d541fceade883c1ec8f5")
        .send()
        .await
        .unwrap();
    assert_eq!(got.key.as_deref(), Some(GPG_KEY.trim()));
    // Another account's keys are its own.
    let grace = bb.add_account("grace", "Grace Hopper");
    let theirs = client
        .list_user_gpg_keys()
        .selected_user(&grace.uuid)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.size, Some(0));
    client
        .delete_user_gpg_key()
        .selected_user(&me.uuid)
        .fingerprint("16AC50572FA084152AB0D541FCEADE883C1EC8F5")
        .send()
        .await
        .unwrap();
    let gone = client
        .get_user_gpg_key()
        .selected_user(&me.uuid)
        .fingerprint("16AC50572FA084152AB0D541FCEADE883C1EC8F5")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status_of(&gone), 404);
}
