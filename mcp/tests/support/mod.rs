//! A gateway over loopback against a seeded local Bitbucket (the `--local` demo's data), and
//! MCP clients for it.

#![allow(dead_code)] // Each test crate uses part of it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bitbucket_cloud_local::LocalBitbucket;
use bitbucket_cloud_mcp::audit::AuditLog;
use bitbucket_cloud_mcp::config::Config;
use bitbucket_cloud_mcp::gateway::{Gateway, Upstream};
use bitbucket_cloud_mcp::local;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Map, Value};
use tokio_util::sync::CancellationToken;

/// A gateway serving HTTP on a free loopback port.
pub struct Harness {
    pub bitbucket: Arc<LocalBitbucket>,
    pub gateway: Arc<Gateway>,
    pub url: String,
    pub audit: PathBuf,
    /// The gateway's own Bitbucket token.
    pub upstream_token: String,
    stop: CancellationToken,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.stop.cancel();
        let _ = std::fs::remove_file(&self.audit);
    }
}

fn audit_path() -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "bitbucket-cloud-mcp-test-{}-{}.jsonl",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

impl Harness {
    /// The demo's data and agents.
    pub async fn demo() -> Harness {
        Harness::with_config(local::DEMO_CONFIG).await
    }

    /// The demo's data, these agents.
    pub async fn with_config(config: &str) -> Harness {
        Harness::with(config, None).await
    }

    /// The demo's data, these agents, and the gateway's token limited to `scopes`.
    pub async fn with(config: &str, scopes: Option<&[bitbucket_cloud::Scope]>) -> Harness {
        let demo = local::start().await.expect("the demo starts");
        let token = demo
            .bitbucket
            .token(scopes.unwrap_or(bitbucket_cloud::Scope::ALL));
        let upstream = Upstream {
            base_url: Some(demo.bitbucket.base_url()),
            auth: bitbucket_cloud::Auth::access_token(token.clone()),
        };
        let config = Config::parse("test.toml", config).expect("the test config is valid");
        let audit = audit_path();
        let gateway = Arc::new(
            Gateway::start(config, upstream, AuditLog::open(&audit).unwrap())
                .await
                .expect("the gateway starts"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        tokio::spawn(bitbucket_cloud_mcp::serve_http(
            gateway.clone(),
            listener,
            local::routes(&demo),
            stop.clone(),
        ));
        Harness {
            bitbucket: demo.bitbucket,
            gateway,
            url,
            audit,
            upstream_token: token,
            stop,
        }
    }

    /// An MCP client with `key`.
    pub async fn client(&self, key: &str) -> RunningService<RoleClient, ()> {
        let transport = StreamableHttpClientTransport::from_config(
            StreamableHttpClientTransportConfig::with_uri(self.url.as_str()).auth_header(key),
        );
        ().serve(transport).await.expect("the client connects")
    }

    /// The audit file's records.
    pub fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.audit)
            .unwrap_or_default()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each audit line is JSON"))
            .collect()
    }

    /// Requests the local Bitbucket answered, as `METHOD path`.
    pub fn served(&self) -> Vec<String> {
        self.bitbucket
            .requests()
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect()
    }
}

/// Calls `tool` with `arguments` (a JSON object).
pub async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> CallToolResult {
    let arguments: Map<String, Value> = arguments.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .expect("the call gets an answer")
}

/// The text of a result's first content block.
pub fn text(result: &CallToolResult) -> String {
    result
        .content
        .first()
        .and_then(|c| c.as_text())
        .map(|t| t.text.clone())
        .unwrap_or_default()
}

/// The names of the tools `client` is shown, sorted.
pub async fn tool_names(client: &RunningService<RoleClient, ()>) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list answers")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}
