//! Flows that need a server with state (the local Bitbucket of `bitbucket-cloud-local`): what
//! the client sends must be what the server keeps, and the server's own 403 must come back as
//! a hint naming the missing scope.

use bitbucket_cloud::types::{self, PullRequestBranch, PullRequestEndpoint};
use bitbucket_cloud::{Auth, Client, Error, Scope};
use bitbucket_cloud_local::LocalBitbucket;

fn client(bb: &LocalBitbucket, scopes: &[Scope]) -> Client {
    Client::builder()
        .base_url(bb.base_url())
        .auth(Auth::access_token(bb.token(scopes)))
        .build()
        .expect("the test client builds")
}

fn endpoint(branch: &str) -> PullRequestEndpoint {
    PullRequestEndpoint {
        branch: Some(Box::new(PullRequestBranch {
            name: Some(branch.into()),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// A bot reads a pull request, changes its title and sends the whole value back: the server
/// keeps the change and loses nothing it had (the description in particular).
#[tokio::test]
async fn read_modify_write_of_a_pull_request() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature/x", "Add x", &[("x.txt", "x\n")]);
    let client = client(&bb, &[Scope::PullrequestWrite]);
    let repo = client.repo("acme", "app");

    let created = repo
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Add x".into()),
            description: Some("Adds x.\n\nCloses #3.".into()),
            source: Some(Box::new(endpoint("feature/x"))),
            destination: Some(Box::new(endpoint("main"))),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let id = created.id.unwrap();

    let mut fetched = repo
        .get_pull_request()
        .pull_request_id(id)
        .send()
        .await
        .unwrap();
    fetched.title = Some("Add x, with tests".into());
    let updated = repo
        .update_pull_request()
        .pull_request_id(id)
        .body(fetched.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(updated.title.as_deref(), Some("Add x, with tests"));

    let again = repo
        .get_pull_request()
        .pull_request_id(id)
        .send()
        .await
        .unwrap();
    assert_eq!(again.title.as_deref(), Some("Add x, with tests"));
    assert_eq!(again.description.as_deref(), Some("Adds x.\n\nCloses #3."));
    assert_eq!(again.source, fetched.source);
    assert_eq!(again.destination, fetched.destination);
}

/// The server's 403 names the scope the token lacks; the error says which one to add.
#[tokio::test]
async fn a_missing_scope_is_named() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    bb.push("acme", "app", "feature/x", "Add x", &[("x.txt", "x\n")]);
    let reader = client(&bb, &[Scope::Pullrequest]);

    let error = reader
        .repo("acme", "app")
        .create_pull_request()
        .body(types::PullRequest {
            title: Some("Add x".into()),
            source: Some(Box::new(endpoint("feature/x"))),
            ..Default::default()
        })
        .send()
        .await
        .unwrap_err();
    let Error::Api(api) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(api.status(), 403);
    assert_eq!(api.missing_scopes(), ["pullrequest:write"]);
    assert!(error.to_string().contains("`pullrequest:write`"), "{error}");
    // Nothing was created.
    let open = reader
        .repo("acme", "app")
        .list_pull_requests()
        .send()
        .await
        .unwrap();
    assert_eq!(open.values.unwrap_or_default().len(), 0);
}

/// A branch whose name has a slash is one path segment on the wire, for every operation.
#[tokio::test]
async fn a_branch_with_a_slash_is_created_read_and_deleted() {
    let bb = LocalBitbucket::start().await;
    bb.create_repository("acme", "app");
    let client = client(&bb, &[Scope::RepositoryWrite]);
    let repo = client.repo("acme", "app");
    let main = repo.get_branch().name("main").send().await.unwrap();
    let hash = main.target.and_then(|t| t.hash).unwrap();

    let created = repo
        .create_branch()
        .body(types::Branch {
            name: Some("release/1.2".into()),
            target: Some(Box::new(types::Commit {
                hash: Some(hash.clone()),
                ..Default::default()
            })),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    assert_eq!(created.name.as_deref(), Some("release/1.2"));

    let read = repo.get_branch().name("release/1.2").send().await.unwrap();
    assert_eq!(read.target.and_then(|t| t.hash), Some(hash));
    repo.delete_branch()
        .name("release/1.2")
        .send()
        .await
        .unwrap();
    let gone = repo
        .get_branch()
        .name("release/1.2")
        .send()
        .await
        .unwrap_err();
    assert_eq!(gone.status().map(|s| s.as_u16()), Some(404));
}
