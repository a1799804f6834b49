//! The demo that needs no account: a local Bitbucket ([`bitbucket_cloud_local`]) seeded with a
//! workspace, two projects, three repositories, branches and a pull request, and the config of
//! two example agents ([`DEMO_CONFIG`]: a read-only reviewer and a release bot).

use bitbucket_cloud::types::{
    Project, PullRequest, PullRequestBranch, PullRequestEndpoint, Repository,
};
use std::net::SocketAddr;
use std::sync::Arc;

use axum::routing::get;
use bitbucket_cloud::{Auth, Client, Error, Scope};
use bitbucket_cloud_local::LocalBitbucket;
use serde_json::{Value, json};

use crate::gateway::Upstream;

/// The demo's config (`mcp/demo.toml`).
pub const DEMO_CONFIG: &str = include_str!("../demo.toml");
/// The reviewer's key in [`DEMO_CONFIG`]. Published: it opens only the demo.
pub const REVIEWER_KEY: &str = "bbmcp_demo_reviewer";
/// The release bot's key in [`DEMO_CONFIG`]. Published: it opens only the demo.
pub const RELEASE_BOT_KEY: &str = "bbmcp_demo_release_bot";

/// A running local Bitbucket with the demo's data, and how the gateway reaches it.
pub struct Demo {
    /// The server; it stops when the last clone is dropped.
    pub bitbucket: Arc<LocalBitbucket>,
    /// Its API root and a token with every scope, for the gateway.
    pub upstream: Upstream,
}

/// Starts and seeds a local Bitbucket.
pub async fn start() -> Result<Demo, Error> {
    let bitbucket = LocalBitbucket::try_start()
        .await
        .map_err(|e| Error::Config(format!("the local Bitbucket cannot listen: {e}")))?;
    let upstream = Upstream {
        base_url: Some(bitbucket.base_url()),
        auth: Auth::access_token(bitbucket.token(Scope::ALL)),
    };
    seed(&bitbucket, &upstream).await?;
    Ok(Demo {
        bitbucket: Arc::new(bitbucket),
        upstream,
    })
}

/// `GET /local/requests`: every request the local Bitbucket answered, oldest first (what the
/// demo's checks look at to see that a denied call sent nothing). Served only with `--local`.
pub fn routes(demo: &Demo) -> axum::Router {
    let bitbucket = demo.bitbucket.clone();
    axum::Router::new().route(
        "/local/requests",
        get(move || {
            let bitbucket = bitbucket.clone();
            async move {
                let requests: Vec<Value> = bitbucket
                    .requests()
                    .into_iter()
                    .map(|r| {
                        json!({
                            "operation": r.operation,
                            "method": r.method,
                            "path": r.path,
                            "status": r.status,
                        })
                    })
                    .collect();
                axum::Json(Value::Array(requests))
            }
        }),
    )
}

/// What `--local` prints when it is ready: the keys and the client configs.
pub fn banner(address: SocketAddr) -> String {
    format!(
        "\nbitbucket-cloud-mcp demo: a local Bitbucket (workspace acme) behind the gateway.\n\
         \n  MCP endpoint  http://{address}/mcp\n\
         \x20 reviewer      key {REVIEWER_KEY} (reads acme, changes nothing)\n\
         \x20 release-bot   key {RELEASE_BOT_KEY} (pull requests, branches, pipelines in project WEB)\n\
         \x20 local log     http://{address}/local/requests (what reached the local Bitbucket)\n\
         \nAn MCP client's config for the reviewer:\n\
         \n  {{\"mcpServers\": {{\"bitbucket\": {{\"type\": \"http\", \"url\": \"http://{address}/mcp\",\n\
         \x20   \"headers\": {{\"Authorization\": \"Bearer {REVIEWER_KEY}\"}}}}}}}}\n\
         \nPress Ctrl-C to stop.\n"
    )
}

/// `acme`: projects WEB (website) and PLAT (api, infra), branches, one open pull request.
async fn seed(bb: &LocalBitbucket, upstream: &Upstream) -> Result<(), Error> {
    bb.create_workspace("acme", "Acme Inc.");
    bb.create_project("acme", "WEB", "Website");
    bb.create_project("acme", "PLAT", "Platform");
    let client = Client::builder()
        .base_url(bb.base_url())
        .auth(upstream.auth.clone())
        .agent("demo-seed")
        .build()?;
    for (repo, project) in [("website", "WEB"), ("api", "PLAT"), ("infra", "PLAT")] {
        bb.create_repository("acme", repo);
        client
            .repo("acme", repo)
            .update_repository()
            .body(Repository {
                project: Some(Box::new(Project {
                    key: Some(project.into()),
                    ..Default::default()
                })),
                ..Default::default()
            })
            .send()
            .await?;
    }
    bb.push(
        "acme",
        "website",
        "feature/dark-mode",
        "Add a dark mode",
        &[("src/theme.css", ":root { color-scheme: dark; }\n")],
    );
    bb.push(
        "acme",
        "website",
        "release/1.4",
        "Release 1.4",
        &[("VERSION", "1.4.0\n")],
    );
    bb.push(
        "acme",
        "api",
        "feature/rate-limits",
        "Limit requests per client",
        &[("src/limits.rs", "pub const PER_MINUTE: u32 = 600;\n")],
    );
    let branch = |name: &str| {
        Some(Box::new(PullRequestEndpoint {
            branch: Some(Box::new(PullRequestBranch {
                name: Some(name.into()),
                ..Default::default()
            })),
            ..Default::default()
        }))
    };
    client
        .repo("acme", "website")
        .create_pull_request()
        .body(PullRequest {
            title: Some("Add a dark mode".into()),
            description: Some("Follows the system's colour scheme.".into()),
            source: branch("feature/dark-mode"),
            destination: branch("main"),
            ..Default::default()
        })
        .send()
        .await?;
    Ok(())
}
