//! The local Data Center through `bitbucket-data-center` over real HTTP: state is kept, pages
//! are Data Center's, merges check the version, errors have Data Center's shape.

use bitbucket_data_center::types::{
    RestBuildStatusSetRequest, RestBuildStatusSetRequestState, RestPullRequest,
    RestPullRequestFromRef, RestPullRequestToRef,
};
use bitbucket_data_center::{Auth, Client, Error};
use bitbucket_data_center_local::LocalDataCenter;
use futures_util::TryStreamExt as _;

async fn setup() -> (LocalDataCenter, Client) {
    let server = LocalDataCenter::start().await.unwrap();
    server.seed_project("P", "Project");
    for name in ["a", "b", "c", "d", "e"] {
        server.seed_repository("P", name).unwrap();
    }
    let client = Client::builder()
        .server_url(server.url())
        .auth(Auth::bearer("local"))
        // A 501 (unserved) is a 5xx, which a GET would retry.
        .retry(bitbucket_data_center::retry::RetryConfig::disabled())
        .build()
        .unwrap();
    (server, client)
}

#[tokio::test]
async fn repositories_stream_across_pages() {
    let (_server, client) = setup().await;
    let mut pages = client.get_repositories().project_key("P").limit(2).pages();
    let mut sizes = Vec::new();
    while let Some(page) = pages.try_next().await.unwrap() {
        sizes.push(page.items.len());
    }
    assert_eq!(sizes, [2, 2, 1]);
}

#[tokio::test]
async fn a_pull_request_merges_only_at_its_current_version() {
    let (_server, client) = setup().await;
    let pr = client
        .create_pull_request()
        .project_key("P")
        .repository_slug("a")
        .body(RestPullRequest {
            title: Some("t".into()),
            from_ref: Some(Box::new(RestPullRequestFromRef {
                id: Some("refs/heads/main".into()),
                ..Default::default()
            })),
            to_ref: Some(Box::new(RestPullRequestToRef {
                id: Some("refs/heads/main".into()),
                ..Default::default()
            })),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let id = pr.id.unwrap().to_string();
    let merge = |version: &'static str| {
        client
            .merge_pull_request()
            .project_key("P")
            .repository_slug("a")
            .pull_request_id(id.clone())
            .version(version)
            .send()
    };
    let Err(Error::Api(stale)) = merge("3").await else {
        panic!("a stale version merges")
    };
    assert_eq!(stale.status().as_u16(), 409);
    assert_eq!(stale.errors[0].extra["currentVersion"], 0);
    let merged = merge("0").await.unwrap();
    assert_eq!(merged.version, Some(1));
    let open: Vec<_> = client
        .list_pull_requests()
        .project_key("P")
        .repository_slug("a")
        .stream()
        .try_collect()
        .await
        .unwrap();
    assert!(open.is_empty());
}

#[tokio::test]
async fn build_statuses_are_kept_per_commit() {
    let (_server, client) = setup().await;
    let branch = client
        .get_default_branch()
        .project_key("P")
        .repository_slug("b")
        .send()
        .await
        .unwrap();
    // `RestMinimalRef` does not declare it; the server sends it, and it is kept.
    let commit = branch.extra["latestCommit"].as_str().unwrap().to_string();
    client
        .create_build_status()
        .project_key("P")
        .repository_slug("b")
        .commit_id(commit.as_str())
        .body(RestBuildStatusSetRequest {
            key: Some("ci".into()),
            state: Some(RestBuildStatusSetRequestState::Failed),
            url: Some("https://ci.example.com/1".into()),
            ..Default::default()
        })
        .send()
        .await
        .unwrap();
    let status = client
        .get_build_status()
        .project_key("P")
        .repository_slug("b")
        .commit_id(commit.as_str())
        .key("ci")
        .send()
        .await
        .unwrap();
    assert_eq!(status.key.as_deref(), Some("ci"));
}

#[tokio::test]
async fn unserved_operations_and_missing_credentials_say_so() {
    let (server, client) = setup().await;
    let Err(Error::Api(unserved)) = client
        .get_commits()
        .project_key("P")
        .repository_slug("a")
        .send()
        .await
    else {
        panic!("an unserved operation answered")
    };
    assert_eq!(unserved.status().as_u16(), 501);
    assert!(
        unserved.errors[0]
            .message
            .as_deref()
            .unwrap()
            .contains("does not serve")
    );
    let anonymous = Client::builder().server_url(server.url()).build().unwrap();
    let Err(Error::Api(denied)) = anonymous.get_project().project_key("P").send().await else {
        panic!("an anonymous call answered")
    };
    assert_eq!(denied.status().as_u16(), 401);
}
