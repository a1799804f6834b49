//! Commits and branches. Branch names hold slashes (`feature/login-form`): in a path they are
//! one segment, `%2F`-encoded.

use bitbucket_cloud::Client;
use bitbucket_cloud::types;
use serde_json::json;

use super::wire::{fixture, json, no_content, ok, page, rejects};

const HASH: &str = "3c7d72f40aaaab534ac99826de511023b635878f";

#[tokio::test]
async fn list_commits() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .list_commits()
            .include(vec!["feature/login-form".to_string()])
            .exclude(vec!["main".to_string(), "release/1.x".to_string()])
            .path("src/login form.rs")
            .pagelen(30)
            .send()
            .await
    };
    let (commits, sent) = ok(json(200, fixture("commit.list.pybitbucket-1.json")), &call).await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/commits",
        &[
            ("exclude", "main"),
            ("exclude", "release/1.x"),
            ("include", "feature/login-form"),
            ("pagelen", "30"),
            ("path", "src/login form.rs"),
        ],
        None,
    );
    assert_eq!(commits.pagelen, Some(30));
    let commits = commits.values.expect("values");
    assert_eq!(commits.len(), 2);
    assert_eq!(
        commits[0].date.as_deref(),
        Some("2014-09-25T17:34:47+00:00")
    );

    rejects("list_commits", &call, 404, "error.get.go-scm-1.json").await;
}

#[tokio::test]
async fn get_commit() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_commit()
            .commit(HASH)
            .send()
            .await
    };
    let commit = fixture("branch.get.gildas-1.json")["target"].clone();
    let (commit, sent) = ok(json(200, commit), &call).await;
    sent.expect(
        "GET",
        &format!("/2.0/repositories/acme/web-app/commit/{HASH}"),
        &[],
        None,
    );
    assert_eq!(commit.hash.as_deref(), Some(HASH));
    assert_eq!(commit.parents.as_ref().map(Vec::len), Some(2));
    let author = commit.author.expect("author");
    assert_eq!(
        author.raw.as_deref(),
        Some("Gildas Cherruel <gildas@breizh.org>")
    );

    rejects("get_commit", &call, 404, "error.get.go-scm-1.json").await;
}

#[tokio::test]
async fn list_branches() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .list_branches()
            .q(r#"name ~ "feature/""#)
            .sort("-target.date")
            .pagelen(25)
            .send()
            .await
    };
    let (branches, sent) = ok(
        json(200, page(vec![fixture("branch.get.gildas-1.json")])),
        &call,
    )
    .await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/refs/branches",
        &[
            ("pagelen", "25"),
            ("q", r#"name ~ "feature/""#),
            ("sort", "-target.date"),
        ],
        None,
    );
    let branches = branches.values.expect("values");
    assert_eq!(branches[0].name.as_deref(), Some("dev"));

    rejects(
        "list_branches",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn create_branch() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .create_branch()
            .body(types::Branch {
                name: Some("release/2.0".into()),
                target: Some(Box::new(types::Commit {
                    hash: Some(HASH.into()),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await
    };
    let (branch, sent) = ok(json(201, fixture("branch.get.gildas-1.json")), &call).await;
    sent.expect(
        "POST",
        "/2.0/repositories/acme/web-app/refs/branches",
        &[],
        Some(json!({ "name": "release/2.0", "target": { "hash": HASH } })),
    );
    assert_eq!(branch.merge_strategies.as_deref().map(<[_]>::len), Some(3));

    rejects(
        "create_branch",
        &call,
        400,
        "error.badrequest-nobranch.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn get_branch() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_branch()
            .name("feature/login-form")
            .send()
            .await
    };
    let (branch, sent) = ok(json(200, fixture("branch.get.gildas-1.json")), &call).await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/refs/branches/feature%2Flogin-form",
        &[],
        None,
    );
    assert_eq!(branch.name.as_deref(), Some("dev"));
    assert_eq!(
        branch.default_merge_strategy.as_deref(),
        Some("merge_commit")
    );
    assert_eq!(branch.target.and_then(|t| t.hash).as_deref(), Some(HASH));

    // What git allows in a branch name and a URL path does not: `#`, `%`, non-ASCII.
    let odd = async |c: &Client| {
        c.repo("acme", "web-app")
            .get_branch()
            .name("bugfix/#12-100%-naïve")
            .send()
            .await
    };
    let (_, sent) = ok(json(200, fixture("branch.get.gildas-1.json")), &odd).await;
    sent.expect(
        "GET",
        "/2.0/repositories/acme/web-app/refs/branches/bugfix%2F%2312-100%25-na%C3%AFve",
        &[],
        None,
    );

    rejects(
        "get_branch",
        &call,
        404,
        "error.notfound-noapi.gildas-1.json",
    )
    .await;
}

#[tokio::test]
async fn delete_branch() {
    let call = async |c: &Client| {
        c.repo("acme", "web-app")
            .delete_branch()
            .name("feature/login-form")
            .send()
            .await
    };
    let ((), sent) = ok(no_content(), &call).await;
    sent.expect(
        "DELETE",
        "/2.0/repositories/acme/web-app/refs/branches/feature%2Flogin-form",
        &[],
        None,
    );

    rejects(
        "delete_branch",
        &call,
        403,
        "error.forbidden-scopes.gildas-1.json",
    )
    .await;
}
