//! A short tour of `bitbucket-data-center` against a local stand-in for a Data Center server
//! (`bitbucket-data-center-local`): `cargo run -p bitbucket-data-center --example dc_tour`
//! (not `tour`, which is the Cloud crate's and would share its output file).
//!
//! With `BITBUCKET_SERVER_URL` and `BITBUCKET_TOKEN` set it talks to that server instead; it
//! then creates a project `TOUR` (so use a test instance).

use bitbucket_data_center::types::{
    RestBranchCreateRequest, RestBuildStatusSetRequest, RestBuildStatusSetRequestState,
    RestProject, RestPullRequest, RestPullRequestFromRef, RestPullRequestToRef, RestRepository,
};
use bitbucket_data_center::{Auth, Client, Error, Permission, Policy};
use futures_util::TryStreamExt as _;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Keep the local server alive for the whole tour.
    let (client, _local) = match std::env::var("BITBUCKET_SERVER_URL") {
        Ok(_) => (Client::from_env()?, None),
        Err(_) => {
            let local = bitbucket_data_center_local::LocalDataCenter::start().await?;
            let client = Client::builder()
                .server_url(local.url())
                .auth(Auth::bearer("a-local-http-access-token"))
                .build()?;
            (client, Some(local))
        }
    };

    client
        .create_project()
        .body(RestProject {
            key: Some("TOUR".into()),
            name: Some("Tour".into()),
            ..Default::default()
        })
        .send()
        .await?;
    for name in ["api", "web", "docs"] {
        client
            .create_repository()
            .project_key("TOUR")
            .body(RestRepository {
                name: Some(name.into()),
                scm_id: Some("git".into()),
                ..Default::default()
            })
            .send()
            .await?;
    }
    let repos: Vec<String> = client
        .get_repositories()
        .project_key("TOUR")
        .limit(2)
        .stream()
        .map_ok(|r| r.slug.unwrap_or_default())
        .try_collect()
        .await?;
    println!(
        "✓ streamed {} repositories, 2 per page: {}",
        repos.len(),
        repos.join(", ")
    );

    let branch = client
        .create_branch()
        .project_key("TOUR")
        .repository_slug("api")
        .body(RestBranchCreateRequest {
            name: Some("feature/greeting".into()),
            start_point: Some("main".into()),
            ..Default::default()
        })
        .send()
        .await?;
    let head = branch.latest_commit.unwrap_or_default();
    println!("✓ created branch feature/greeting at {}", short(&head));

    let pull = client
        .create_pull_request()
        .project_key("TOUR")
        .repository_slug("api")
        .body(RestPullRequest {
            title: Some("Add a greeting endpoint".into()),
            from_ref: Some(Box::new(RestPullRequestFromRef {
                id: Some("refs/heads/feature/greeting".into()),
                ..Default::default()
            })),
            to_ref: Some(Box::new(RestPullRequestToRef {
                id: Some("refs/heads/main".into()),
                ..Default::default()
            })),
            ..Default::default()
        })
        .send()
        .await?;
    let id = pull.id.unwrap_or_default();
    println!(
        "✓ opened pull request #{id} \"{}\"",
        pull.title.unwrap_or_default()
    );

    client
        .create_build_status()
        .project_key("TOUR")
        .repository_slug("api")
        .commit_id(head.as_str())
        .body(RestBuildStatusSetRequest {
            key: Some("ci".into()),
            state: Some(RestBuildStatusSetRequestState::Successful),
            url: Some("https://ci.example.com/builds/1".into()),
            ..Default::default()
        })
        .send()
        .await?;
    let build = client
        .get_build_status()
        .project_key("TOUR")
        .repository_slug("api")
        .commit_id(head.as_str())
        .key("ci")
        .send()
        .await?;
    println!("✓ build status of {}: {:?}", short(&head), build.state);

    // A reviewer bot that may read but not merge: refused before anything is sent. Each of
    // its requests, sent or refused, leaves an audit record (never with its token).
    let bot = Client::builder()
        .server_url(client.api_root().trim_end_matches("/rest"))
        .auth(Auth::bearer("a-read-only-token"))
        .policy(Policy::new().grant(Permission::RepoRead))
        .agent("reviewer-bot")
        .audit(|record| println!("  audit: {record}"))
        .build()?;
    let refused = bot
        .merge_pull_request()
        .project_key("TOUR")
        .repository_slug("api")
        .pull_request_id(id.to_string())
        .version("0")
        .send()
        .await;
    if let Err(Error::Denied { reason, .. }) = refused {
        println!("✓ policy: the bot may not merge ({reason})");
    }

    // A stale version is refused with Data Center's 409; the current one merges.
    if let Err(error) = client
        .merge_pull_request()
        .project_key("TOUR")
        .repository_slug("api")
        .pull_request_id(id.to_string())
        .version("7")
        .send()
        .await
    {
        println!(
            "✓ stale merge refused: {}",
            error.status().map_or(0, |s| s.as_u16())
        );
    }
    let merged = client
        .merge_pull_request()
        .project_key("TOUR")
        .repository_slug("api")
        .pull_request_id(id.to_string())
        .version("0")
        .send()
        .await?;
    println!("✓ merged #{id}: {:?}", merged.state);
    Ok(())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
