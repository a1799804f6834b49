//! Contract tests: requests of the most-used operations, as the crate builds them, checked
//! against Atlassian's Data Center document by Stoplight Prism (a validator nobody here
//! wrote). Prism answers 422 to a request the document does not allow, 404/405 to a path or
//! method it does not have.
//!
//! Run by `.ci/contract.sh` with `CONTRACT_PRODUCT=data-center`, which starts Prism and sets
//! `BITBUCKET_DC_CONTRACT_URL`; ignored by a plain `cargo test`.

use bitbucket_data_center::types::{
    RestBranchCreateRequest, RestBuildStatusSetRequest, RestBuildStatusSetRequestState,
    RestComment, RestProject, RestPullRequest, RestPullRequestFromRef, RestPullRequestToRef,
    RestRepository,
};
use bitbucket_data_center::{Auth, Client, Error};

fn client() -> Client {
    let url = std::env::var("BITBUCKET_DC_CONTRACT_URL").expect(
        "BITBUCKET_DC_CONTRACT_URL (run .ci/contract.sh with CONTRACT_PRODUCT=data-center)",
    );
    Client::builder()
        .server_url(url)
        .auth(Auth::bearer("contract"))
        .retry(bitbucket_data_center::retry::RetryConfig::disabled())
        .build()
        .expect("a loopback URL")
}

/// The request reached an operation of the document and met its rules. Prism's example
/// answers need not decode (they are samples), so a decode failure is not the request's
/// fault; any other error is.
fn accepted<T>(name: &str, result: Result<T, Error>, failures: &mut Vec<String>) {
    match result {
        Ok(_) | Err(Error::Decode { .. }) => {}
        Err(error) => failures.push(format!("{name}: {error}")),
    }
}

#[tokio::test]
#[ignore = "needs Prism: run .ci/contract.sh with CONTRACT_PRODUCT=data-center"]
async fn requests_of_the_most_used_operations_meet_the_document() {
    let client = client();
    let mut failures = Vec::new();
    let (p, r) = ("PROJ", "repo");

    accepted(
        "get_projects",
        client.get_projects().start(0).limit(25).send().await,
        &mut failures,
    );
    accepted(
        "create_project",
        client
            .create_project()
            .body(RestProject {
                key: Some(p.into()),
                name: Some("Project".into()),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "get_project",
        client.get_project().project_key(p).send().await,
        &mut failures,
    );
    accepted(
        "get_repositories",
        client.get_repositories().project_key(p).send().await,
        &mut failures,
    );
    accepted(
        "create_repository",
        client
            .create_repository()
            .project_key(p)
            .body(RestRepository {
                name: Some(r.into()),
                scm_id: Some("git".into()),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "get_repository",
        client
            .get_repository()
            .project_key(p)
            .repository_slug(r)
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "get_branches",
        client
            .get_branches()
            .project_key(p)
            .repository_slug(r)
            .filter_text("feat")
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "create_branch",
        client
            .create_branch()
            .project_key(p)
            .repository_slug(r)
            .body(RestBranchCreateRequest {
                name: Some("feature".into()),
                start_point: Some("main".into()),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "list_pull_requests",
        client
            .list_pull_requests()
            .project_key(p)
            .repository_slug(r)
            .state("OPEN")
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "create_pull_request",
        client
            .create_pull_request()
            .project_key(p)
            .repository_slug(r)
            .body(RestPullRequest {
                title: Some("A change".into()),
                from_ref: Some(Box::new(RestPullRequestFromRef {
                    id: Some("refs/heads/feature".into()),
                    ..Default::default()
                })),
                to_ref: Some(Box::new(RestPullRequestToRef {
                    id: Some("refs/heads/main".into()),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "get_pull_request",
        client
            .get_pull_request()
            .project_key(p)
            .repository_slug(r)
            .pull_request_id("1")
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "create_pull_request_comment",
        client
            .create_pull_request_comment()
            .project_key(p)
            .repository_slug(r)
            .pull_request_id("1")
            .body(RestComment {
                text: Some("Looks good".into()),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "merge_pull_request",
        client
            .merge_pull_request()
            .project_key(p)
            .repository_slug(r)
            .pull_request_id("1")
            .version("0")
            .send()
            .await,
        &mut failures,
    );
    accepted(
        "create_build_status",
        client
            .create_build_status()
            .project_key(p)
            .repository_slug(r)
            .commit_id("8d51122def5632836d1cb1026e879069e10a1e13")
            .body(RestBuildStatusSetRequest {
                key: Some("ci".into()),
                state: Some(RestBuildStatusSetRequestState::Successful),
                url: Some("https://ci.example.com/1".into()),
                ..Default::default()
            })
            .send()
            .await,
        &mut failures,
    );
    assert!(
        failures.is_empty(),
        "Prism refused:\n  {}",
        failures.join("\n  ")
    );
}
