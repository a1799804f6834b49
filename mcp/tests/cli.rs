//! The binary: over stdio as an MCP client launches it (`--local --stdio --agent NAME`), its
//! key commands, and a config error stopping it with the line.

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

fn gateway(agent: &str) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_bitbucket-cloud-mcp"));
    command
        .args(["--local", "--stdio", "--agent", agent])
        .env("RUST_LOG", "warn");
    command
}

#[tokio::test]
async fn one_agent_over_stdio() {
    let transport = TokioChildProcess::new(gateway("reviewer")).unwrap();
    let client = ().serve(transport).await.expect("the gateway answers initialize");
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("bitbucket-cloud-mcp")
    );

    let tools = client.list_all_tools().await.unwrap();
    assert!(tools.iter().any(|t| t.name == "list_pull_requests"));
    assert!(
        tools
            .iter()
            .all(|t| t.annotations.as_ref().unwrap().read_only_hint == Some(true))
    );

    let arguments = json!({"workspace": "acme", "repo_slug": "website"});
    let result = client
        .call_tool(
            CallToolRequestParams::new("list_pull_requests")
                .with_arguments(arguments.as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    let page = result.structured_content.unwrap();
    assert_eq!(page["values"][0]["title"], "Add a dark mode");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn an_unknown_agent_stops_the_gateway() {
    let output = gateway("nobody")
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("no agent `nobody`") && stderr.contains("reviewer, release-bot"),
        "{stderr}"
    );
}

fn run(args: &[&str], stdin: &str) -> (bool, String, String) {
    use std::io::Write as _;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bitbucket-cloud-mcp"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn new_keys_and_their_hashes() {
    let (ok, out, _) = run(&["new-key"], "");
    assert!(ok);
    let key = out
        .lines()
        .find_map(|l| l.split("keep it secret): ").nth(1))
        .unwrap()
        .to_string();
    let line = out
        .lines()
        .find(|l| l.starts_with("config line: "))
        .unwrap();
    let (ok, hashed, _) = run(&["hash-key"], &format!("{key}\n"));
    assert!(ok);
    assert_eq!(line.trim_start_matches("config line: "), hashed.trim());
    assert_eq!(
        hashed.trim(),
        format!(
            "key_sha256 = \"{}\"",
            bitbucket_cloud_mcp::keys::KeyHash::of(&key).to_hex()
        )
    );
}

#[test]
fn a_config_error_stops_the_gateway_with_its_line() {
    let path = std::env::temp_dir().join(format!(
        "bitbucket-cloud-mcp-cli-{}.toml",
        std::process::id()
    ));
    std::fs::write(
        &path,
        "[[agent]]\nname = \"bot\"\n\n[[agent.rule]]\naccess = \"read\"\nrepository = \"acme/*\"\n",
    )
    .unwrap();
    let file = path.display().to_string();
    for args in [
        vec!["check", file.as_str()],
        vec!["--config", file.as_str()],
    ] {
        let (ok, _, err) = run(&args, "");
        assert!(!ok);
        assert!(err.contains(&format!("{file}:6: ")), "{err}");
        assert!(err.contains("the only wildcard"), "{err}");
    }
    std::fs::write(
        &path,
        "[[agent]]\nname = \"bot\"\n\n[[agent.rule]]\naccess = \"read\"\nrepository = \"acme/app\"\n",
    )
    .unwrap();
    let (ok, out, err) = run(&["check", file.as_str()], "");
    assert!(ok, "{err}");
    assert!(
        out.contains("bot (") && out.contains("no key: stdio only"),
        "{out}"
    );
    assert!(out.contains("the gateway's credential needs"), "{out}");
    let _ = std::fs::remove_file(&path);
}
