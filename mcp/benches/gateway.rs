//! What the gateway adds to a call, and whether it serves many agents at once.
//!
//! `cargo bench -p bitbucket-cloud-mcp --bench gateway` (a plain program that prints tables;
//! `cargo test` does not run it). Everything runs on loopback in one process: the local
//! Bitbucket of the `--local` demo, the gateway serving streamable HTTP with an audit file,
//! and clients.
//!
//! 1. **Latency**: the same `get_repository` call, made directly with the crate's client and
//!    through the gateway by an MCP client (rmcp's streamable-HTTP client), alternately, so
//!    both see the same machine. The gateway's cost is the difference of the percentiles.
//! 2. **Load**: 8 agents, each with its own key and client, each making 50 calls at once
//!    (400 concurrent calls); every one must succeed. Beside it, the same 400 calls made
//!    directly, and made through the gateway by plain HTTP clients POSTing the JSON-RPC request
//!    (which tells the gateway's share from the MCP client's); each twice, with new and with
//!    warm connections.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bitbucket_cloud::{Auth, Client, Scope};
use bitbucket_cloud_mcp::audit::AuditLog;
use bitbucket_cloud_mcp::config::Config;
use bitbucket_cloud_mcp::gateway::{Gateway, Upstream};
use bitbucket_cloud_mcp::keys::KeyHash;
use bitbucket_cloud_mcp::local;
use rmcp::model::CallToolRequestParams;
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt as _};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;

const WARM_UP: usize = 200;
const SAMPLES: usize = 2_000;
const AGENTS: usize = 8;
const CALLS_PER_AGENT: usize = 50;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run());
}

fn key(agent: usize) -> String {
    format!("bbmcp_bench_agent_{agent}")
}

fn config() -> String {
    let mut text = String::from("[gateway]\nmax_items_cap = 100\n");
    for agent in 0..AGENTS {
        text.push_str(&format!(
            "\n[[agent]]\nname = \"agent-{agent}\"\nkey_sha256 = \"{}\"\nrequests_per_hour = \
             1000000\n\n[[agent.rule]]\naccess = \"read\"\nworkspace = \"acme\"\n",
            KeyHash::of(&key(agent)).to_hex()
        ));
    }
    text
}

async fn mcp_client(url: &str, key: &str) -> RunningService<RoleClient, ()> {
    let mut config = StreamableHttpClientTransportConfig::with_uri(url).auth_header(key);
    config.max_concurrent_requests = CALLS_PER_AGENT;
    // A client that keeps its connections, as MCP clients do (the TypeScript SDK's fetch, ...).
    // rmcp's default client opens a connection per request; 400 at once then see a few
    // one-second stalls (new connections on a busy loopback), which are not the gateway's.
    ().serve(StreamableHttpClientTransport::with_client(
        reqwest::Client::new(),
        config,
    ))
    .await
    .expect("the MCP client connects")
}

fn arguments() -> Map<String, Value> {
    json!({"workspace": "acme", "repo_slug": "website"})
        .as_object()
        .cloned()
        .unwrap_or_default()
}

async fn through_gateway(client: &RunningService<RoleClient, ()>) -> Duration {
    let started = Instant::now();
    let result = client
        .call_tool(CallToolRequestParams::new("get_repository").with_arguments(arguments()))
        .await
        .expect("the gateway answers");
    let elapsed = started.elapsed();
    assert_eq!(result.is_error, Some(false), "{result:?}");
    elapsed
}

async fn direct(client: &Client) -> Duration {
    let started = Instant::now();
    let repo = client
        .repo("acme", "website")
        .get_repository()
        .send()
        .await
        .expect("Bitbucket answers");
    let elapsed = started.elapsed();
    assert_eq!(repo.full_name.as_deref(), Some("acme/website"));
    elapsed
}

/// `calls` calls made at once, each on its own task.
struct Load {
    latencies: Vec<Duration>,
    failed: usize,
    wall: Duration,
}

async fn load<F, Fut>(calls: usize, call: F) -> Load
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = bool> + Send + 'static,
{
    // Every call is issued at once: its latency is from then to its answer.
    let started = Instant::now();
    let tasks: Vec<_> = (0..calls)
        .map(|i| {
            let call = call(i);
            tokio::spawn(async move { (call.await, started.elapsed()) })
        })
        .collect();
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        match task.await {
            Ok((true, latency)) => latencies.push(latency),
            _ => failed += 1,
        }
    }
    latencies.sort();
    Load {
        latencies,
        failed,
        wall: started.elapsed(),
    }
}

impl Load {
    fn row(&self, way: &str, round: &str) {
        let at = |p| {
            if self.latencies.is_empty() {
                "-".to_string()
            } else {
                ms(percentile(&self.latencies, p))
            }
        };
        println!(
            "| {way} | {round} | {} | {} | {} | {} | {} |",
            self.latencies.len(),
            self.failed,
            at(0.5),
            at(0.99),
            ms(self.wall),
        );
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

async fn run() {
    let demo = local::start().await.expect("the local Bitbucket starts");
    let token = demo.bitbucket.token(Scope::ALL);
    let upstream = Upstream {
        base_url: Some(demo.bitbucket.base_url()),
        auth: Auth::access_token(token.clone()),
    };
    let audit_path = std::env::temp_dir().join(format!(
        "bitbucket-cloud-mcp-bench-{}.jsonl",
        std::process::id()
    ));
    let config = Config::parse("bench.toml", &config()).expect("the bench config is valid");
    let gateway = Arc::new(
        Gateway::start(
            config,
            upstream,
            AuditLog::open(&audit_path).expect("an audit file"),
        )
        .await
        .expect("the gateway starts"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!("http://{}/mcp", listener.local_addr().expect("an address"));
    let stop = CancellationToken::new();
    let server = tokio::spawn(bitbucket_cloud_mcp::serve_http(
        gateway,
        listener,
        axum::Router::new(),
        stop.clone(),
    ));

    let direct_client = Client::builder()
        .base_url(demo.bitbucket.base_url())
        .auth(Auth::access_token(token))
        .build()
        .expect("a client");
    let mcp = mcp_client(&url, &key(0)).await;

    for _ in 0..WARM_UP {
        direct(&direct_client).await;
        through_gateway(&mcp).await;
    }
    let mut plain = Vec::with_capacity(SAMPLES);
    let mut gated = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        // Alternate which goes first, so neither always follows the other.
        if i % 2 == 0 {
            plain.push(direct(&direct_client).await);
            gated.push(through_gateway(&mcp).await);
        } else {
            gated.push(through_gateway(&mcp).await);
            plain.push(direct(&direct_client).await);
        }
    }
    plain.sort();
    gated.sort();
    println!("\nget_repository, {SAMPLES} calls each way, alternating (milliseconds)\n");
    println!(
        "| percentile | direct (crate client) | through the gateway (MCP over HTTP) | added by the gateway |"
    );
    println!("|---|---:|---:|---:|");
    for (name, p) in [("median", 0.5), ("p90", 0.9), ("p99", 0.99), ("max", 1.0)] {
        let (a, b) = (percentile(&plain, p), percentile(&gated, p));
        println!(
            "| {name} | {} | {} | {} |",
            ms(a),
            ms(b),
            ms(b.saturating_sub(a))
        );
    }
    let added_median = percentile(&gated, 0.5).saturating_sub(percentile(&plain, 0.5));
    let added_p99 = percentile(&gated, 0.99).saturating_sub(percentile(&plain, 0.99));
    println!(
        "\ngoal: at most 2 ms added at the median ({}), at most 10 ms at p99 ({})",
        if added_median <= Duration::from_millis(2) {
            "met"
        } else {
            "MISSED"
        },
        if added_p99 <= Duration::from_millis(10) {
            "met"
        } else {
            "MISSED"
        },
    );

    // Load: the same calls straight to the local Bitbucket, for comparison, then through the
    // gateway with every agent's own MCP client; each twice, with new connections and with the
    // connections of the first round.
    let mut clients = Vec::new();
    let mut raw = Vec::new();
    for agent in 0..AGENTS {
        clients.push(Arc::new(mcp_client(&url, &key(agent)).await));
        raw.push((reqwest::Client::new(), key(agent)));
    }
    println!(
        "\n{} calls at once ({AGENTS} agents x {CALLS_PER_AGENT}) (milliseconds)\n",
        AGENTS * CALLS_PER_AGENT
    );
    println!("| way | round | succeeded | failed | answered: median | p99 | all (wall) |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    let mut failed = 0;
    for round in ["new connections", "warm connections"] {
        let run = load(AGENTS * CALLS_PER_AGENT, |_| {
            let client = direct_client.clone();
            async move {
                direct(&client).await;
                true
            }
        })
        .await;
        run.row("direct (one client)", round);
        let run = load(AGENTS * CALLS_PER_AGENT, |i| {
            let client = clients[i % AGENTS].clone();
            async move {
                let outcome = client
                    .call_tool(
                        CallToolRequestParams::new("get_repository").with_arguments(arguments()),
                    )
                    .await;
                matches!(&outcome, Ok(result) if result.is_error == Some(false))
            }
        })
        .await;
        run.row("through the gateway (8 MCP clients)", round);
        failed += run.failed;
        // The same JSON-RPC request, POSTed by plain HTTP clients (the gateway is stateless:
        // no initialize needed per request), to tell the gateway's share from the MCP client's.
        let run = load(AGENTS * CALLS_PER_AGENT, |i| {
            let (http, key) = raw[i % AGENTS].clone();
            let url = url.clone();
            async move {
                let response = http
                    .post(url.as_str())
                    .header("authorization", format!("Bearer {key}"))
                    .header("accept", "application/json, text/event-stream")
                    .header("mcp-protocol-version", "2025-11-25")
                    .json(&json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                        "params": {"name": "get_repository", "arguments": arguments()}}))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => r
                        .json::<Value>()
                        .await
                        .is_ok_and(|v| v["result"]["isError"] == false),
                    _ => false,
                }
            }
        })
        .await;
        run.row("through the gateway (8 plain HTTP clients)", round);
        failed += run.failed;
    }
    let lines = std::fs::read_to_string(&audit_path)
        .map(|t| t.lines().count())
        .unwrap_or(0);
    println!(
        "audit lines written: {lines} (calls made: {})",
        WARM_UP + SAMPLES + 4 * AGENTS * CALLS_PER_AGENT
    );
    stop.cancel();
    let _ = server.await;
    let _ = std::fs::remove_file(&audit_path);
    if failed > 0 {
        eprintln!("error: {failed} calls failed under load");
        std::process::exit(1);
    }
}
