//! `bitbucket-cloud-mcp`: one gateway between a team's AI agents and Bitbucket Cloud. Deny by
//! default; every call checked and logged.
//!
//! Agents speak MCP to the gateway, over stdio (one local agent) or streamable HTTP (many
//! agents, each with its own key). The gateway alone holds the Bitbucket credential. Each
//! agent has rules (read, write or full access per workspace, project or repository;
//! operations or scopes) that become a [`bitbucket_cloud::Policy`], checked in the client's
//! transport on every request; it is shown only the tools those rules allow, one per
//! operation of [`bitbucket_cloud::operations`], with a JSON Schema derived from the OpenAPI
//! document. Lists are paged with a capped `max_items`, each agent has an hourly request
//! budget, and every call leaves one audit record (JSON lines and `tracing`).
//!
//! The binary is the usual way in (`bitbucket-cloud-mcp --config gateway.toml`, or `--local`
//! for the demo); this library is what it is made of, for embedding and tests:
//!
//! ```no_run
//! use std::sync::Arc;
//! use bitbucket_cloud_mcp::{audit::AuditLog, config::Config, credential, gateway::{Gateway, Upstream}};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("gateway.toml".as_ref())?;
//! let (auth, _) = credential::from_env()?;
//! let upstream = Upstream { base_url: config.bitbucket.base_url.clone(), auth };
//! let gateway = Arc::new(Gateway::start(config, upstream, AuditLog::tracing_only()).await?);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:8848").await?;
//! bitbucket_cloud_mcp::serve_http(gateway, listener, axum::Router::new(), Default::default()).await?;
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod access;
pub mod audit;
pub mod budget;
pub mod config;
pub mod credential;
pub mod cursor;
pub mod gateway;
pub mod http;
pub mod keys;
pub mod local;
pub mod schema;
pub mod server;
pub mod tools;

use std::sync::Arc;
use std::time::Duration;

use rmcp::ServiceExt as _;
use tokio_util::sync::CancellationToken;

use crate::gateway::Gateway;
use crate::server::McpServer;

/// Serves agents over streamable HTTP on `listener` (at [`http::PATH`]), with `extra` routes
/// beside it, until `shutdown` is cancelled. Lists the repositories of projects named by rules
/// again every `project_refresh_seconds` meanwhile.
pub async fn serve_http(
    gateway: Arc<Gateway>,
    listener: tokio::net::TcpListener,
    extra: axum::Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let refresh = refresh_projects(gateway.clone(), shutdown.clone());
    let app = http::router(gateway, shutdown.clone()).merge(extra);
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await;
    shutdown.cancel();
    let _ = refresh.await;
    served
}

/// Serves the agent at `agent` over stdin and stdout until the client closes them.
pub async fn serve_stdio(gateway: Arc<Gateway>, agent: usize) -> std::io::Result<()> {
    let shutdown = CancellationToken::new();
    let refresh = refresh_projects(gateway.clone(), shutdown.clone());
    let running = McpServer::for_agent(gateway, agent)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(std::io::Error::other)?;
    let ended = running.waiting().await.map_err(std::io::Error::other);
    shutdown.cancel();
    let _ = refresh.await;
    ended.map(|_| ())
}

/// Lists the projects' repositories again on the configured interval, until `stop`.
fn refresh_projects(gateway: Arc<Gateway>, stop: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if !gateway.has_project_rules() {
            return;
        }
        let every: Duration = gateway.settings().project_refresh;
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => gateway.refresh_projects().await,
            }
        }
    })
}
