//! Repositories: list, get, create, update.

use bitbucket_cloud::types::{self, ListRepositoriesRole, RepositoryForkPolicy, Scm};
use bitbucket_cloud::{Client, Error};
use serde_json::json;

use super::wire::{fixture, json, ok, page, rejects};

/// A workspace named by its UUID, which Bitbucket accepts wherever a slug goes.
pub const WORKSPACE: &str = "{b6e4f0a2-9c1d-4e6f-8a3b-2d5c7e9f1a0b}";
pub const WORKSPACE_IN_PATH: &str = "%7Bb6e4f0a2-9c1d-4e6f-8a3b-2d5c7e9f1a0b%7D";

#[tokio::test]
async fn list_repositories() {
    let call = async |c: &Client| {
        c.workspace(WORKSPACE)
            .list_repositories()
            .role(ListRepositoriesRole::Contributor)
            .q(r#"project.key = "WEB" AND name ~ "api""#)
            .pagelen(50)
            .send()
            .await
    };
    let (repos, sent) = ok(
        json(200, page(vec![fixture("repository.get.gildas-1.json")])),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        &format!("/2.0/repositories/{WORKSPACE_IN_PATH}"),
        &[
            ("pagelen", "50"),
            ("q", r#"project.key = "WEB" AND name ~ "api""#),
            ("role", "contributor"),
        ],
        None,
    );
    let repos = repos.values.expect("values");
    assert_eq!(repos.len(), 1);
    assert_eq!(repos[0].full_name.as_deref(), Some("gildas_cherruel/bb"));

    // Nothing set, nothing sent.
    let bare = async |c: &Client| c.workspace("acme").list_repositories().send().await;
    let (_, sent) = ok(json(200, page(vec![])), &bare).await;
    sent.expect("GET", "/2.0/repositories/acme", &[], None);

    rejects(
        "list_repositories",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn get_repository() {
    let call = async |c: &Client| {
        c.repo(WORKSPACE, "{b8313f5b-2134-488d-9aca-830fb95206c5}")
            .get_repository()
            .send()
            .await
    };
    let (repo, sent) = ok(json(200, fixture("repository.get.gildas-1.json")), &call).await;
    sent.expect(
        "GET",
        &format!(
            "/2.0/repositories/{WORKSPACE_IN_PATH}/%7Bb8313f5b-2134-488d-9aca-830fb95206c5%7D"
        ),
        &[],
        None,
    );
    assert_eq!(repo.full_name.as_deref(), Some("gildas_cherruel/bb"));
    assert_eq!(repo.scm, Some(Scm::Git));
    assert_eq!(repo.fork_policy, Some(RepositoryForkPolicy::AllowForks));
    assert_eq!(
        repo.mainbranch.and_then(|b| b.name).as_deref(),
        Some("master")
    );
    assert_eq!(repo.parent, None);
    assert_eq!(repo.extra["website"], serde_json::Value::Null);

    rejects(
        "get_repository",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_repository() {
    let call = async |c: &Client| {
        c.repo("acme", "release-bot")
            .create_repository()
            .body(types::Repository {
                scm: Some(Scm::Git),
                is_private: Some(true),
                description: Some("Tags and ships releases".into()),
                project: Some(Box::new(types::Project {
                    key: Some("OPS".into()),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await
    };
    let (repo, sent) = ok(json(200, fixture("repository.get.gildas-1.json")), &call).await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/release-bot",
        &[],
        Some(json!({
            "scm": "git",
            "is_private": true,
            "description": "Tags and ships releases",
            "project": { "key": "OPS" },
        })),
    );
    assert_eq!(
        repo.uuid.as_deref(),
        Some("{b8313f5b-2134-488d-9aca-830fb95206c5}")
    );

    // Without a body Bitbucket creates a repository with its defaults: an empty object.
    let bare = async |c: &Client| c.repo("acme", "scratch").create_repository().send().await;
    let (_, sent) = ok(json(200, fixture("repository.get.gildas-1.json")), &bare).await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/scratch",
        &[],
        Some(json!({})),
    );

    rejects(
        "create_repository",
        &call,
        400,
        "error.badrequest.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn update_repository() {
    let call = async |c: &Client| {
        c.repo("acme", "web.app")
            .update_repository()
            .body(types::Repository {
                description: Some("The storefront".into()),
                has_issues: Some(false),
                ..Default::default()
            })
            .send()
            .await
    };
    let (repo, sent) = ok(json(200, fixture("repository.get.gildas-1.json")), &call).await;
    sent.expect(
        "PUT",
        "/2.0/repositories/acme/web.app",
        &[],
        Some(json!({ "description": "The storefront", "has_issues": false })),
    );
    assert_eq!(repo.name.as_deref(), Some("bb"));

    let error = rejects(
        "update_repository",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
    assert_eq!(error.missing_scopes(), ["project"]);
    assert!(error.hint().contains("`project`"), "{}", error.hint());
}

/// A repository that is not reachable: the error says which call failed.
#[tokio::test]
async fn an_error_names_the_operation_in_its_message() {
    let call = async |c: &Client| c.repo("acme", "gone").get_repository().send().await;
    let error = rejects("get_repository", &call, 404, "error.get.go-scm-1.json").await;
    let shown = Error::Api(error).to_string();
    assert!(
        shown.starts_with("get_repository: 404 Not Found: No such file or directory"),
        "{shown}"
    );
}
