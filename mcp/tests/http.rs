//! The gateway over streamable HTTP on loopback, in front of the local Bitbucket, driven by an
//! MCP client: tool lists per agent, keys, denials that send nothing, budgets, paging, hints,
//! project rules, and one audit line per call.

mod support;

use bitbucket_cloud::{Scope, operations};
use bitbucket_cloud_mcp::access::Access;
use bitbucket_cloud_mcp::local::{RELEASE_BOT_KEY, REVIEWER_KEY};
use serde_json::{Value, json};
use support::{Harness, call, text, tool_names};

const KEY: &str = "7349125b3ba2f209e25f5a31377fbd7fd1a39ddb6cc1bce2af7730e1a6fd722a";

#[tokio::test]
async fn each_agent_sees_exactly_what_its_rules_allow() {
    let h = Harness::demo().await;

    let reviewer = h.client(REVIEWER_KEY).await;
    let expected: Vec<String> = operations::ALL
        .iter()
        .filter(|op| op.method == "GET" && !op.deprecated)
        .filter(|op| op.has_param("workspace") || op.name == "get_current_user")
        .map(|op| op.name.to_string())
        .collect();
    assert_eq!(tool_names(&reviewer).await, expected);

    let bot = h.client(RELEASE_BOT_KEY).await;
    let areas = ["Pullrequests", "Refs", "Pipelines"];
    let expected: Vec<String> = operations::ALL
        .iter()
        .filter(|op| op.tags.iter().any(|t| areas.contains(t)) && !op.deprecated)
        .filter(|op| op.has_param("repo_slug") || op.has_param("project_key"))
        .filter(|op| Access::Write.includes(op) || op.name == "delete_branch")
        .filter(|op| op.name != "decline_pull_request")
        .map(|op| op.name.to_string())
        .collect();
    assert_eq!(tool_names(&bot).await, expected);

    // Each tool has a schema, a description and hints from its method.
    for tool in bot.list_all_tools().await.unwrap() {
        let op = operations::by_name(&tool.name).unwrap();
        assert_eq!(tool.input_schema["type"], "object", "{}", tool.name);
        assert!(!tool.description.as_deref().unwrap_or_default().is_empty());
        let hints = tool.annotations.unwrap();
        assert_eq!(
            hints.read_only_hint,
            Some(op.method == "GET"),
            "{}",
            tool.name
        );
        assert_eq!(
            hints.destructive_hint,
            Some(op.method == "DELETE" || op.method == "PUT")
        );
    }
}

#[tokio::test]
async fn a_denied_call_sends_nothing_and_says_why() {
    let h = Harness::demo().await;
    let bot = h.client(RELEASE_BOT_KEY).await;
    let before = h.served();

    // Outside the project the rules name.
    let result = call(
        &bot,
        "get_branch",
        json!({"workspace": "acme", "repo_slug": "api", "name": "main"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    assert!(
        text(&result).contains("nothing was sent to Bitbucket"),
        "{}",
        text(&result)
    );
    assert!(text(&result).contains("acme/api"), "{}", text(&result));
    // A tool the agent is not shown.
    let result = call(
        &bot,
        "decline_pull_request",
        json!({"workspace": "acme", "repo_slug": "website", "pull_request_id": 1}),
    )
    .await;
    assert!(
        text(&result).contains("not one of your tools"),
        "{}",
        text(&result)
    );
    // Arguments that do not fit the tool.
    let result = call(
        &bot,
        "get_branch",
        json!({"workspace": "acme", "repo_slug": "website"}),
    )
    .await;
    assert!(
        text(&result).contains("`name` is required"),
        "{}",
        text(&result)
    );
    let result = call(
        &bot,
        "get_branch",
        json!({"workspace": "acme", "repo_slug": "website", "name": ".."}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));

    assert_eq!(h.served(), before, "nothing reached Bitbucket");
    let decisions: Vec<(String, String)> = h
        .audit_lines()
        .iter()
        .map(|l| {
            (
                l["decision"].as_str().unwrap().to_string(),
                l["error"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        decisions,
        [
            ("denied".into(), "denied".into()),
            ("denied".into(), "unknown_tool".into()),
            ("rejected".into(), "invalid_arguments".into()),
            ("rejected".into(), "invalid_arguments".into()),
        ]
    );
}

#[tokio::test]
async fn allowed_calls_reach_bitbucket_and_are_audited_once() {
    let h = Harness::demo().await;
    let bot = h.client(RELEASE_BOT_KEY).await;

    let created = call(
        &bot,
        "create_branch",
        json!({"workspace": "acme", "repo_slug": "website", "body": {"name": "release/1.5", "target": {"hash": "main"}}}),
    )
    .await;
    assert_eq!(created.is_error, Some(false), "{}", text(&created));
    assert_eq!(
        created.structured_content.as_ref().unwrap()["name"],
        "release/1.5"
    );
    let merged = call(
        &bot,
        "merge_pull_request",
        json!({"workspace": "acme", "repo_slug": "website", "pull_request_id": 1}),
    )
    .await;
    assert_eq!(merged.is_error, Some(false), "{}", text(&merged));
    let deleted = call(
        &bot,
        "delete_branch",
        json!({"workspace": "acme", "repo_slug": "website", "name": "release/1.5"}),
    )
    .await;
    assert_eq!(deleted.structured_content, Some(json!({"done": true})));

    let lines = h.audit_lines();
    assert_eq!(lines.len(), 3, "{lines:?}");
    for (line, tool) in lines
        .iter()
        .zip(["create_branch", "merge_pull_request", "delete_branch"])
    {
        assert_eq!(line["agent"], "release-bot");
        assert_eq!(line["tool"], tool);
        assert_eq!(line["operation"], tool);
        assert_eq!(line["resource"], "acme/website");
        assert_eq!(line["decision"], "allowed");
        assert_eq!(line["requests"], 1);
        assert!(line["status"].as_u64().unwrap() < 300, "{line}");
        assert!(line["time"].as_str().unwrap().ends_with('Z'));
        assert!(line["duration_ms"].is_u64());
    }
    // The gateway's token is nowhere in what agents or the audit see.
    let everything = format!(
        "{}{}{}{}",
        std::fs::read_to_string(&h.audit).unwrap(),
        text(&created),
        text(&merged),
        serde_json::to_string(&bot.list_all_tools().await.unwrap()).unwrap()
    );
    assert!(!everything.contains(&h.upstream_token));
}

#[tokio::test]
async fn keys_are_checked_before_anything_else() {
    let h = Harness::demo().await;
    let http = reqwest::Client::new();
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    for key in [
        None,
        Some("Bearer bbmcp_wrong"),
        Some("Basic YTpi"),
        Some(&format!("Bearer {KEY}")[..]),
    ] {
        let mut request = http
            .post(&h.url)
            .header("accept", "application/json, text/event-stream")
            .json(&initialize);
        if let Some(key) = key {
            request = request.header("authorization", key);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{key:?}");
        assert!(response.headers().contains_key("www-authenticate"));
        let body: Value = response.json().await.unwrap();
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("bearer key")
        );
    }
    let response = http
        .post(&h.url)
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {REVIEWER_KEY}"))
        .json(&initialize)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let refused: Vec<Value> = h
        .audit_lines()
        .into_iter()
        .filter(|l| l["error"] == "unauthorized")
        .collect();
    assert_eq!(refused.len(), 4);
    assert!(
        refused
            .iter()
            .all(|l| l["agent"].is_null() && l["decision"] == "denied")
    );
    assert!(
        !std::fs::read_to_string(&h.audit)
            .unwrap()
            .contains("bbmcp_wrong")
    );
    assert!(
        h.served().iter().all(|r| !r.contains("/user")),
        "nothing sent for them"
    );
}

#[tokio::test]
async fn lists_stop_at_max_items_and_continue_with_the_cursor() {
    let h = Harness::demo().await;
    for i in 0..60 {
        h.bitbucket
            .create_repository("acme", &format!("svc-{i:02}"));
    }
    let reviewer = h.client(REVIEWER_KEY).await;
    let first = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "acme", "max_items": 5}),
    )
    .await;
    let page = first.structured_content.clone().unwrap();
    assert_eq!(page["count"], 5, "{page}");
    let cursor = page["next_cursor"].as_str().unwrap().to_string();
    let served = h.served().len();

    let next = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "acme", "max_items": 5, "cursor": cursor}),
    )
    .await;
    let next = next.structured_content.unwrap();
    assert_eq!(next["count"], 5);
    assert_ne!(next["values"][0]["slug"], page["values"][0]["slug"]);
    assert_eq!(h.served().len(), served + 1, "one request for five items");

    // Past the cap, the cap (the demo's is 50).
    let big = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "acme", "max_items": 10000}),
    )
    .await;
    assert_eq!(big.structured_content.unwrap()["count"], 50);
    // The default when not given (the demo's is 20).
    let default = call(&reviewer, "list_repositories", json!({"workspace": "acme"})).await;
    assert_eq!(default.structured_content.unwrap()["count"], 20);

    // A cursor must continue this list: not another tool's, nor another workspace's.
    let result = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "other", "cursor": page["next_cursor"]}),
    )
    .await;
    assert!(
        text(&result).contains("cursor is for another `workspace`"),
        "{}",
        text(&result)
    );
    let hooks = bitbucket_cloud_mcp::cursor::Cursor {
        link: format!(
            "{}/repositories/acme/website/hooks?page=2",
            h.bitbucket.base_url()
        ),
        skip: 0,
    };
    let result = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "acme", "cursor": hooks.encode()}),
    )
    .await;
    assert!(
        text(&result).contains("not a link of this tool's list"),
        "{}",
        text(&result)
    );
    let result = call(
        &reviewer,
        "list_repositories",
        json!({"workspace": "acme", "cursor": hooks.link}),
    )
    .await;
    assert!(
        text(&result).contains("not one this gateway made"),
        "{}",
        text(&result)
    );

    // Walking the whole list with small steps returns each repository once.
    let mut seen = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let step = call(
            &reviewer,
            "list_repositories",
            json!({"workspace": "acme", "max_items": 7, "cursor": cursor}),
        )
        .await
        .structured_content
        .unwrap();
        for repo in step["values"].as_array().unwrap() {
            seen.push(repo["slug"].as_str().unwrap().to_string());
        }
        match step.get("next_cursor") {
            Some(next) => cursor = next.clone(),
            None => break,
        }
        assert!(seen.len() < 200, "the walk does not end");
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (63, 63));
}

#[tokio::test]
async fn budgets_refuse_calls_past_the_hourly_limit() {
    let config = format!(
        "[[agent]]\nname = \"tight\"\nkey_sha256 = \"{KEY}\"\nrequests_per_hour = 2\n\n\
         [[agent.rule]]\naccess = \"read\"\nworkspace = \"acme\"\n"
    );
    let h = Harness::with_config(&config).await;
    let bot = h.client(RELEASE_BOT_KEY).await;
    let get = json!({"workspace": "acme", "repo_slug": "website"});
    for _ in 0..2 {
        let ok = call(&bot, "get_repository", get.clone()).await;
        assert_eq!(ok.is_error, Some(false), "{}", text(&ok));
    }
    let served = h.served().len();
    let refused = call(&bot, "get_repository", get).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(
        text(&refused).contains("budget of 2 Bitbucket requests per hour"),
        "{}",
        text(&refused)
    );
    assert_eq!(h.served().len(), served);
    assert_eq!(h.audit_lines().last().unwrap()["error"], "budget");
}

#[tokio::test]
async fn bitbucket_errors_come_back_with_the_crates_hint() {
    // The gateway's own token lacks `pullrequest`: Bitbucket answers 403.
    let config = format!(
        "[[agent]]\nname = \"bot\"\nkey_sha256 = \"{KEY}\"\n\n[[agent.rule]]\naccess = \"read\"\n\
         repository = \"acme/website\"\n"
    );
    let h = Harness::with(&config, Some(&[Scope::Repository])).await;
    let bot = h.client(RELEASE_BOT_KEY).await;
    let result = call(
        &bot,
        "list_pull_requests",
        json!({"workspace": "acme", "repo_slug": "website"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
    let message = text(&result);
    assert!(
        message.contains("403") && message.contains("`pullrequest`"),
        "{message}"
    );
    let details = result.structured_content.unwrap();
    assert_eq!(details["status"], 403);
    assert_eq!(details["missing_scopes"], json!(["pullrequest"]));
    let line = h.audit_lines().pop().unwrap();
    assert_eq!(
        (line["decision"].as_str(), line["status"].as_u64()),
        (Some("allowed"), Some(403))
    );
    assert!(!message.contains(&h.upstream_token));
}

#[tokio::test]
async fn project_rules_follow_the_projects_repositories() {
    let h = Harness::demo().await;
    let bot = h.client(RELEASE_BOT_KEY).await;
    let api = json!({"workspace": "acme", "repo_slug": "api", "name": "main"});
    assert_eq!(
        call(&bot, "get_branch", api.clone()).await.is_error,
        Some(true)
    );

    // `api` moves into the project WEB; once the gateway lists the project again, the rule
    // covers it.
    let admin = bitbucket_cloud::Client::builder()
        .base_url(h.bitbucket.base_url())
        .auth(bitbucket_cloud::Auth::access_token(
            h.upstream_token.clone(),
        ))
        .build()
        .unwrap();
    admin
        .operation(operations::by_name("update_repository").unwrap())
        .path_param("workspace", "acme")
        .path_param("repo_slug", "api")
        .body(json!({"project": {"key": "WEB"}}))
        .send()
        .await
        .unwrap();
    h.gateway.refresh_projects().await;
    let result = call(&bot, "get_branch", api).await;
    assert_eq!(result.is_error, Some(false), "{}", text(&result));
    // The project's own operations are within the rule; another project's are not.
    let result = call(
        &bot,
        "list_pull_requests",
        json!({"workspace": "acme", "repo_slug": "infra"}),
    )
    .await;
    assert_eq!(result.is_error, Some(true));
}
