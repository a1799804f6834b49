//! `bitbucket-cloud-mcp`: the gateway's command line. See the crate's README.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bitbucket_cloud::scopes;
use bitbucket_cloud_mcp::audit::AuditLog;
use bitbucket_cloud_mcp::config::Config;
use bitbucket_cloud_mcp::gateway::{Gateway, Upstream};
use bitbucket_cloud_mcp::keys::{self, KeyHash};
use bitbucket_cloud_mcp::{credential, local};
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

/// An MCP gateway between AI agents and Bitbucket Cloud: deny by default, every call checked
/// and logged.
///
/// Serves the agents of the config over streamable HTTP (POST /mcp, each agent with its
/// bearer key), or one agent over stdio. The Bitbucket credential comes from the environment
/// (BITBUCKET_EMAIL + BITBUCKET_API_TOKEN, BITBUCKET_ACCESS_TOKEN, or
/// BITBUCKET_OAUTH_CLIENT_ID + BITBUCKET_OAUTH_CLIENT_SECRET).
#[derive(Parser, Debug)]
#[command(version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Serve,
}

#[derive(clap::Args, Debug)]
struct Serve {
    /// The config file (TOML). Optional with --local, which has its own.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Start an embedded local Bitbucket with demo data (no account needed); without --config,
    /// with the demo's two agents.
    #[arg(long)]
    local: bool,
    /// Serve one agent over stdin and stdout instead of HTTP.
    #[arg(long, requires = "agent")]
    stdio: bool,
    /// The agent served over stdio.
    #[arg(long)]
    agent: Option<String>,
    /// Listen here instead of the config's [gateway] listen (HTTP).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Append audit records here instead of the config's [gateway] audit_log.
    #[arg(long)]
    audit_log: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print a new agent key and the key_sha256 line for the config.
    NewKey,
    /// Read a key on stdin and print its key_sha256 line.
    HashKey,
    /// Check a config: print each agent's tools, and the scopes the gateway's credential needs.
    Check {
        /// The config file.
        config: PathBuf,
    },
}

/// Above this many tools, the start-up log suggests narrowing an agent's list.
const MANY_TOOLS: usize = 60;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Some(Command::NewKey) => new_key(),
        Some(Command::HashKey) => hash_key(),
        Some(Command::Check { config }) => check(&config),
        None => serve(cli.serve),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn new_key() -> Result<(), String> {
    let key = keys::generate().map_err(|e| format!("no randomness from the system: {e}"))?;
    println!("key (give it to the agent, keep it secret): {key}");
    println!(
        "config line: key_sha256 = \"{}\"",
        KeyHash::of(&key).to_hex()
    );
    Ok(())
}

fn hash_key() -> Result<(), String> {
    if std::io::stdin().is_terminal() {
        eprintln!("paste the key, then press Enter:");
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the key: {e}"))?;
    if line.trim().is_empty() {
        return Err("no key on stdin".into());
    }
    println!("key_sha256 = \"{}\"", KeyHash::of(&line).to_hex());
    Ok(())
}

fn check(path: &std::path::Path) -> Result<(), String> {
    let config = Config::load(path).map_err(|e| e.to_string())?;
    let runtime = runtime()?;
    let upstream = Upstream {
        base_url: config.bitbucket.base_url.clone(),
        // Only the tool lists are computed: no request is sent.
        auth: bitbucket_cloud::Auth::anonymous(),
    };
    // Offline: the tools do not depend on which repositories projects hold.
    let gateway = runtime
        .block_on(Gateway::start_offline(config, upstream))
        .map_err(|e| e.to_string())?;
    let mut all = Vec::new();
    for agent in gateway.agents() {
        let names: Vec<&str> = agent.tools().iter().map(|t| t.name.as_ref()).collect();
        println!(
            "{} ({} tools, {} KB of tool definitions, {} requests per hour{}): {}",
            agent.config.name,
            names.len(),
            agent.tools_bytes().div_ceil(1000),
            agent.config.requests_per_hour,
            if agent.config.key.is_some() {
                ""
            } else {
                ", no key: stdio only"
            },
            names.join(", ")
        );
        all.extend(names);
    }
    for why in gateway.unsupported() {
        println!("not a tool: {why}");
    }
    all.sort_unstable();
    all.dedup();
    let needs = scopes::required_for(all).map_err(|e| e.to_string())?;
    println!("the gateway's credential needs:\n{needs}");
    Ok(())
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("bitbucket_cloud_mcp=info,bitbucket_cloud=warn")
    });
    // stdout may be the MCP channel (stdio): logs go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn serve(options: Serve) -> Result<(), String> {
    init_tracing();
    let mut config = match (&options.config, options.local) {
        (Some(path), _) => Config::load(path).map_err(|e| e.to_string())?,
        (None, true) => {
            Config::parse("demo.toml (built in)", local::DEMO_CONFIG).map_err(|e| e.to_string())?
        }
        (None, false) => {
            return Err("give the config with --config FILE, or run the demo with --local".into());
        }
    };
    if let Some(listen) = options.listen {
        config.gateway.listen = listen;
    }
    if let Some(path) = &options.audit_log {
        config.gateway.audit_log = Some(path.clone());
    }
    if options.local && config.gateway.audit_log.is_none() {
        config.gateway.audit_log =
            Some(std::env::temp_dir().join("bitbucket-cloud-mcp-demo-audit.jsonl"));
    }
    let audit = match &config.gateway.audit_log {
        Some(path) => AuditLog::open(path)
            .map_err(|e| format!("cannot open the audit log {}: {e}", path.display()))?,
        None => AuditLog::tracing_only(),
    };
    runtime()?.block_on(async move {
        let demo = if options.local {
            Some(local::start().await.map_err(|e| e.to_string())?)
        } else {
            None
        };
        let upstream = match &demo {
            Some(demo) => demo.upstream.clone(),
            None => {
                let (auth, described) = credential::from_env()?;
                tracing::info!("Bitbucket credential: {described}");
                Upstream {
                    base_url: config.bitbucket.base_url.clone(),
                    auth,
                }
            }
        };
        let listen = config.gateway.listen;
        let gateway = Arc::new(
            Gateway::start(config, upstream, audit)
                .await
                .map_err(|e| e.to_string())?,
        );
        for why in gateway.unsupported() {
            tracing::warn!("not a tool: {why}");
        }
        for agent in gateway.agents() {
            tracing::info!(
                agent = %agent.config.name,
                tools = agent.tools().len(),
                tool_definitions_kb = agent.tools_bytes().div_ceil(1000),
                requests_per_hour = agent.config.requests_per_hour,
                "agent"
            );
            if agent.tools().len() > MANY_TOOLS {
                tracing::warn!(
                    agent = %agent.config.name,
                    "{} tools are more than a model chooses from well (about {MANY_TOOLS}): \
                     narrow them with `areas` or `tools` in the agent's config",
                    agent.tools().len()
                );
            }
        }
        if let Some(path) = gateway.audit().path() {
            tracing::info!("audit log: {}", path.display());
        }
        if options.stdio {
            let name = options.agent.as_deref().unwrap_or_default();
            let agent = gateway.agent_named(name).ok_or_else(|| {
                let names: Vec<&str> = gateway
                    .agents()
                    .iter()
                    .map(|a| a.config.name.as_str())
                    .collect();
                format!(
                    "no agent `{name}` in the config; its agents are: {}",
                    names.join(", ")
                )
            })?;
            return bitbucket_cloud_mcp::serve_stdio(gateway, agent)
                .await
                .map_err(|e| format!("stdio: {e}"));
        }
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let address = listener
            .local_addr()
            .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
        let extra = match &demo {
            Some(demo) => local::routes(demo),
            None => axum::Router::new(),
        };
        if demo.is_some() {
            eprintln!("{}", local::banner(address));
        }
        tracing::info!(
            "serving MCP on http://{address}{}",
            bitbucket_cloud_mcp::http::PATH
        );
        let shutdown = CancellationToken::new();
        let on_signal = shutdown.clone();
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            on_signal.cancel();
        });
        bitbucket_cloud_mcp::serve_http(gateway, listener, extra, shutdown)
            .await
            .map_err(|e| format!("HTTP: {e}"))
    })
}
