//! Config errors stop the gateway at start-up with a message naming the line; nothing is
//! allowed that a rule does not say.

use bitbucket_cloud::operations;
use bitbucket_cloud_mcp::access::{self, Access, ProjectRepos, Target};
use bitbucket_cloud_mcp::config::{Config, ConfigError};
use bitbucket_cloud_mcp::local::DEMO_CONFIG;

const KEY_A: &str = "fe1ba42bf32751b10ca321a9b155568e063397460dca54f1cb447d9f01c72e9e";
const KEY_B: &str = "7349125b3ba2f209e25f5a31377fbd7fd1a39ddb6cc1bce2af7730e1a6fd722a";

fn error(text: &str) -> ConfigError {
    match Config::parse("gateway.toml", text) {
        Ok(_) => panic!("accepted:\n{text}"),
        Err(e) => e,
    }
}

/// Asserts the error is on `line` and its message contains each of `words`.
fn assert_error(text: &str, line: usize, words: &[&str]) {
    let e = error(text);
    assert_eq!(e.line, line, "{e}");
    for word in words {
        assert!(e.message.contains(word), "{word:?} not in: {e}");
    }
    assert!(
        e.to_string().starts_with(&format!("gateway.toml:{line}: ")),
        "{e}"
    );
}

fn agent(body: &str) -> String {
    format!("[[agent]]\nname = \"bot\"\nkey_sha256 = \"{KEY_A}\"\n{body}")
}

#[test]
fn the_demo_config_is_valid() {
    let config = Config::parse("demo.toml", DEMO_CONFIG).unwrap();
    let names: Vec<&str> = config.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["reviewer", "release-bot"]);
    assert!(config.agents[0].read_only);
    assert_eq!(config.gateway.max_items_cap, 50);
}

#[test]
fn unknown_fields_name_their_line() {
    assert_error(
        &agent("requests_per_day = 5\n"),
        4,
        &["unknown field `requests_per_day`", "requests_per_hour"],
    );
    assert_error(
        &agent("\n[[agent.rule]]\naccess = \"read\"\nrepo = \"acme/app\"\n"),
        7,
        &["unknown field `repo`", "repository"],
    );
    assert_error("[gateway]\nport = 1\n", 2, &["unknown field `port`"]);
    assert_error("[gatway]\n", 1, &["unknown field `gatway`"]);
}

#[test]
fn unknown_operations_scopes_areas_and_presets() {
    assert_error(
        &agent("\n[[agent.rule]]\noperations = [\"list_pullrequests\"]\nworkspace = \"acme\"\n"),
        6,
        &[
            "`list_pullrequests` is not a supported operation",
            "list_pull_requests",
        ],
    );
    assert_error(
        &agent("\n[[agent.rule]]\nscopes = [\"pullrequests\"]\nworkspace = \"acme\"\n"),
        6,
        &["pullrequests"],
    );
    assert_error(
        &agent("areas = [\"Pull requests\"]\n"),
        4,
        &["not an area", "Pullrequests"],
    );
    assert_error(
        &agent("preset = \"readonly\"\n"),
        4,
        &["unknown preset", "read-only"],
    );
    assert_error(&agent("deny = [\"merge\"]\n"), 4, &["merge_pull_request"]);
    assert_error(
        &agent("\n[[agent.rule]]\naccess = \"admin\"\nworkspace = \"acme\"\n"),
        6,
        &["unknown access `admin`", "read, write or full"],
    );
}

#[test]
fn bad_resource_patterns() {
    for (resource, words) in [
        (
            "repository = \"acme\"",
            &["not of the form workspace/repository-slug"][..],
        ),
        ("repository = \"acme/app/x\"", &["not of the form"]),
        (
            "repository = \"acme/*\"",
            &["not a repository slug", "the only wildcard"],
        ),
        ("workspace = \"ac*\"", &["not a workspace slug"]),
        ("workspace = \"\"", &["not a workspace slug"]),
        ("project = \"acme\"", &["workspace/PROJECT_KEY"]),
        ("repository = \"acme/..\"", &["not a repository slug"]),
        (
            "workspace = \"acme\"\nrepository = \"acme/app\"",
            &["one resource"],
        ),
    ] {
        let line = if resource.contains('\n') { 8 } else { 7 };
        assert_error(
            &agent(&format!(
                "\n[[agent.rule]]\naccess = \"read\"\n{resource}\n"
            )),
            line,
            words,
        );
    }
    // A UUID is a resource too.
    Config::parse(
        "gateway.toml",
        &agent("\n[[agent.rule]]\naccess = \"read\"\nrepository = \"{a1b2}/{c3d4-e5}\"\n"),
    )
    .unwrap();
}

#[test]
fn duplicate_names_and_keys() {
    let two = |name: &str, key: &str| {
        format!(
            "[[agent]]\nname = \"bot\"\nkey_sha256 = \"{KEY_A}\"\n\n[[agent]]\nname = \"{name}\"\n\
             key_sha256 = \"{key}\"\n"
        )
    };
    assert_error(&two("other", KEY_A), 7, &["same key as `bot` (line 1)"]);
    assert_error(
        &two("BOT", KEY_B),
        5,
        &["second agent named `BOT`", "line 1"],
    );
    assert_error(
        &agent("").replace(KEY_A, "abc"),
        3,
        &["64 hexadecimal digits", "hash-key"],
    );
    Config::parse("gateway.toml", &two("other", KEY_B)).unwrap();
}

#[test]
fn rules_that_contradict_or_say_nothing() {
    assert_error(
        &agent(
            "preset = \"read-only\"\n\n[[agent.rule]]\naccess = \"write\"\nworkspace = \"acme\"\n",
        ),
        7,
        &["preset read-only", "access = \"write\""],
    );
    assert_error(
        &agent(
            "preset = \"read-only\"\n\n[[agent.rule]]\noperations = [\"merge_pull_request\"]\n\
             workspace = \"acme\"\n",
        ),
        7,
        &["`merge_pull_request` is a POST"],
    );
    assert_error(
        &agent("\n[[agent.rule]]\nworkspace = \"acme\"\n"),
        5,
        &["a rule must say what it allows"],
    );
    // An operation that never acts where the rule points.
    assert_error(
        &agent("\n[[agent.rule]]\noperations = [\"list_workspaces\"]\nrepository = \"acme/app\"\n"),
        6,
        &["never acts on repository acme/app", "without workspace"],
    );
    assert_error(
        &agent("\n[[agent.rule]]\noperations = [\"get_repository\"]\n"),
        6,
        &["never acts on the account", "say where"],
    );
    // A tool the rules do not allow cannot be listed.
    assert_error(
        &agent(
            "tools = [\"merge_pull_request\"]\n\n[[agent.rule]]\naccess = \"read\"\n\
             workspace = \"acme\"\n",
        ),
        4,
        &["lists the tool `merge_pull_request`, which its rules do not allow"],
    );
    assert_error("", 1, &["no agent"]);
    assert_error("[[agent]]\nname = \"a b\"\n", 2, &["agent name `a b`"]);
}

#[test]
fn gateway_settings() {
    assert_error(
        "[gateway]\nlisten = \"8848\"\n",
        2,
        &["not an address and port"],
    );
    assert_error(
        "[gateway]\nmax_items = 500\n",
        2,
        &["between 1 and max_items_cap (100)"],
    );
    assert_error(
        "[gateway]\nallowed_hosts = [\"*\"]\n",
        2,
        &["not a host name"],
    );
    assert_error(
        "[bitbucket]\nbase_url = \"api.bitbucket.org\"\n",
        2,
        &["absolute http(s) URL"],
    );
    assert_error("[gateway]\nmax_items = \"ten\"\n", 2, &["invalid type"]);
}

/// The tools an agent is shown are exactly what its rules allow, through the crate's policy.
#[test]
fn tools_follow_the_rules() {
    let config = Config::parse(
        "gateway.toml",
        &agent(
            "deny = [\"delete_branch\"]\n\n[[agent.rule]]\naccess = \"write\"\nrepository = \
             \"acme/app\"\n\n[[agent.rule]]\noperations = [\"get_current_user\"]\n",
        ),
    )
    .unwrap();
    let bot = &config.agents[0];
    let policy = access::agent_policy(bot, &ProjectRepos::new());
    let shown: Vec<&str> = access::visible_operations(&policy)
        .iter()
        .map(|op| op.name)
        .collect();
    let expected: Vec<&str> = operations::ALL
        .iter()
        .filter(|op| {
            // `list_repository_permissions` names the repository under `/workspaces/`.
            let on_repo = op.has_param("workspace") && op.has_param("repo_slug");
            let write = Access::Write.includes(op);
            (on_repo && write && op.name != "delete_branch" && !op.deprecated)
                || op.name == "get_current_user"
        })
        .map(|op| op.name)
        .collect();
    assert_eq!(shown, expected);
    assert!(shown.contains(&"merge_pull_request") && shown.contains(&"create_branch"));
    assert!(
        !shown.contains(&"create_webhook"),
        "webhooks are administrative"
    );
    assert!(
        !shown.contains(&"list_repositories"),
        "a repository rule is not the workspace"
    );
    // Each shown tool is allowed on the repository and refused next door.
    for op in operations::ALL.iter().filter(|op| shown.contains(&op.name)) {
        let path = |repo: &str| {
            op.path
                .replace("{workspace}", "acme")
                .replace("{repo_slug}", repo)
                .replace(['{', '}'], "")
        };
        let decide = |repo: &str| policy.decide(op, op.match_path(&path(repo)).as_ref());
        assert!(decide("app").is_allowed(), "{}", op.name);
        if op.has_param("repo_slug") {
            assert!(!decide("web").is_allowed(), "{}", op.name);
        }
    }
}

#[test]
fn the_read_only_preset_alone_reads_everything() {
    let config = Config::parse("gateway.toml", &agent("preset = \"read-only\"\n")).unwrap();
    let bot = &config.agents[0];
    assert_eq!(bot.rules.len(), 2);
    assert!(bot.rules.iter().any(|r| r.target == Target::AnyWorkspace));
    let policy = access::agent_policy(bot, &ProjectRepos::new());
    let shown = access::visible_operations(&policy);
    let reads = operations::ALL
        .iter()
        .filter(|op| op.method == "GET" && !op.deprecated)
        .count();
    assert_eq!(shown.len(), reads);
    assert!(shown.iter().all(|op| op.method == "GET"));
}

#[test]
fn areas_and_tools_narrow_the_list() {
    let config = Config::parse(
        "gateway.toml",
        &agent(
            "areas = [\"pipelines\"]\ntools = [\"get_repository\"]\n\n[[agent.rule]]\naccess = \
             \"full\"\nworkspace = \"*\"\n",
        ),
    )
    .unwrap();
    let bot = &config.agents[0];
    assert_eq!(bot.areas, ["Pipelines"]);
    let policy = access::agent_policy(bot, &ProjectRepos::new());
    let shown: Vec<&str> = access::visible_operations(&policy)
        .iter()
        .map(|op| op.name)
        .collect();
    assert!(shown.contains(&"get_repository"));
    assert!(shown.contains(&"run_pipeline"));
    assert!(!shown.contains(&"merge_pull_request"));
    // What is not shown is refused by the policy too.
    let merge = operations::by_name("merge_pull_request").unwrap();
    let params = merge.match_path("/repositories/acme/app/pullrequests/1/merge");
    assert!(!policy.decide(merge, params.as_ref()).is_allowed());
}

/// A project rule shows the operations on repositories before the project's repositories are
/// known (offline, or a project without any yet); the policy allows them once they are.
#[test]
fn project_rules_show_repository_tools_before_their_repositories_are_listed() {
    let config = Config::parse(
        "gateway.toml",
        &agent("\n[[agent.rule]]\naccess = \"read\"\nproject = \"acme/WEB\"\n"),
    )
    .unwrap();
    let bot = &config.agents[0];
    let shown: Vec<&str> = access::agent_tools(bot).iter().map(|op| op.name).collect();
    assert!(
        shown.contains(&"get_repository") && shown.contains(&"get_project"),
        "{shown:?}"
    );
    assert!(
        !shown.contains(&"list_repositories"),
        "not the whole workspace"
    );

    let get = operations::by_name("get_repository").unwrap();
    let params = get.match_path("/repositories/acme/website");
    let unknown = access::agent_policy(bot, &ProjectRepos::new());
    assert!(!unknown.decide(get, params.as_ref()).is_allowed());
    let mut repos = ProjectRepos::new();
    repos.insert(("acme".into(), "WEB".into()), vec!["website".into()]);
    let known = access::agent_policy(bot, &repos);
    assert!(known.decide(get, params.as_ref()).is_allowed());
}
