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
//!    (400 concurrent calls); every one must succeed.

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
    ().serve(StreamableHttpClientTransport::from_config(config))
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

    // Load, first without the gateway: the same calls straight to the local Bitbucket, for
    // comparison.
    let started = Instant::now();
    let mut direct_calls = Vec::new();
    for _ in 0..AGENTS * CALLS_PER_AGENT {
        let client = direct_client.clone();
        direct_calls.push(tokio::spawn(async move { direct(&client).await }));
    }
    let mut direct_latencies = Vec::new();
    for call in direct_calls {
        direct_latencies.push(call.await.expect("a direct call"));
    }
    let direct_wall = started.elapsed();
    direct_latencies.sort();

    // Then every agent with its own client, all calls at once, through the gateway.
    let mut clients = Vec::new();
    for agent in 0..AGENTS {
        clients.push(Arc::new(mcp_client(&url, &key(agent)).await));
    }
    let started = Instant::now();
    let mut calls = Vec::new();
    for client in &clients {
        for _ in 0..CALLS_PER_AGENT {
            let client = client.clone();
            calls.push(tokio::spawn(async move {
                let started = Instant::now();
                let outcome = client
                    .call_tool(
                        CallToolRequestParams::new("get_repository").with_arguments(arguments()),
                    )
                    .await;
                let ok = matches!(&outcome, Ok(result) if result.is_error == Some(false));
                (ok, started.elapsed())
            }));
        }
    }
    let mut errors = 0usize;
    let mut latencies = Vec::new();
    for call in calls {
        match call.await {
            Ok((true, latency)) => latencies.push(latency),
            _ => errors += 1,
        }
    }
    let wall = started.elapsed();
    latencies.sort();
    println!(
        "\n{} calls at once ({AGENTS} agents x {CALLS_PER_AGENT}) (milliseconds)\n",
        AGENTS * CALLS_PER_AGENT
    );
    println!("| way | succeeded | failed | wall | per call: median | p99 | max |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| direct (one client) | {} | 0 | {} | {} | {} | {} |",
        direct_latencies.len(),
        ms(direct_wall),
        ms(percentile(&direct_latencies, 0.5)),
        ms(percentile(&direct_latencies, 0.99)),
        ms(percentile(&direct_latencies, 1.0)),
    );
    println!(
        "| through the gateway (8 MCP clients) | {} | {errors} | {} | {} | {} | {} |",
        latencies.len(),
        ms(wall),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(percentile(&latencies, 1.0)),
    );
    let lines = std::fs::read_to_string(&audit_path)
        .map(|t| t.lines().count())
        .unwrap_or(0);
    println!(
        "audit lines written: {lines} (calls made: {})",
        WARM_UP + SAMPLES + AGENTS * CALLS_PER_AGENT
    );
    stop.cancel();
    let _ = server.await;
    let _ = std::fs::remove_file(&audit_path);
    if errors > 0 {
        eprintln!("error: {errors} calls failed under load");
        std::process::exit(1);
    }
}
