//! The gateway: its agents (each with its own client, policy, tools and budget), and what a
//! tool call does.
//!
//! A call goes: the agent's tool list (a tool it is not shown does not exist for it), its
//! arguments against the tool's schema, its budget, then the crate's client, whose transport
//! checks the agent's policy on every request, authenticates with the gateway's credential,
//! retries, and pages. The result, or the error with the crate's hint, goes back as JSON, and
//! one audit record is written.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Instant;

use bitbucket_cloud::operations::{self, Operation};
use bitbucket_cloud::{Auth, Client, Error};
use futures_util::TryStreamExt as _;
use rmcp::model::{CallToolResult, ContentBlock, Tool};
use serde_json::{Map, Value, json};

use crate::access::{self, ProjectRepos, Target};
use crate::audit::{AuditLog, CallRecord, Decision, Trail};
use crate::budget::Budget;
use crate::config::{AgentConfig, Config, Settings};
use crate::cursor::Cursor;
use crate::keys::KeyHash;
use crate::schema::ListLimits;
use crate::tools::{Arguments, ToolSpec};

/// Where and as whom the gateway reaches Bitbucket.
#[derive(Clone, Debug)]
pub struct Upstream {
    /// The API root; Bitbucket Cloud's when `None`.
    pub base_url: Option<String>,
    /// The gateway's credential (see [`crate::credential`]).
    pub auth: Auth,
}

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The crate refused a client (a base URL that is not a URL, a policy problem).
    #[error("{0}")]
    Client(#[from] Error),
    /// The OpenAPI document does not parse (a build problem).
    #[error("the OpenAPI document does not parse: {0}")]
    Document(serde_json::Error),
}

/// One agent, ready to serve.
pub struct Agent {
    /// Its config.
    pub config: AgentConfig,
    client: RwLock<Client>,
    budget: Budget,
    tools: Vec<Tool>,
    callable: HashMap<&'static str, Arc<ToolSpec>>,
}

impl Agent {
    /// The tools it is shown, sorted by name.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The size of its tools/list answer in bytes of JSON: what a model reads on each turn
    /// (about a quarter as many tokens).
    pub fn tools_bytes(&self) -> usize {
        serde_json::to_string(&self.tools).map_or(0, |s| s.len())
    }

    /// Its budget.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    fn client(&self) -> Client {
        self.client
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The gateway. Share it in an `Arc`; every transport serves it.
pub struct Gateway {
    settings: Settings,
    upstream: Upstream,
    agents: Vec<Agent>,
    by_key: HashMap<KeyHash, usize>,
    audit: AuditLog,
    /// Operations that cannot be tools, and why.
    unsupported: Vec<String>,
    /// For listing the repositories of projects; no agent uses it.
    own: Client,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field(
                "agents",
                &self
                    .agents
                    .iter()
                    .map(|a| &a.config.name)
                    .collect::<Vec<_>>(),
            )
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Builds the gateway: every operation's tool, then each agent's policy, client, tools and
    /// budget. The repositories of the projects that rules name are listed first (with the
    /// gateway's credential); when that fails, project rules allow only the projects' own
    /// operations until [`Gateway::refresh_projects`] succeeds.
    pub async fn start(
        config: Config,
        upstream: Upstream,
        audit: AuditLog,
    ) -> Result<Gateway, StartError> {
        Gateway::build(config, upstream, audit, true).await
    }

    /// [`Gateway::start`] without sending anything: project rules allow only the projects' own
    /// operations (their repositories are not listed). For checking a config.
    pub async fn start_offline(config: Config, upstream: Upstream) -> Result<Gateway, StartError> {
        Gateway::build(config, upstream, AuditLog::tracing_only(), false).await
    }

    async fn build(
        config: Config,
        upstream: Upstream,
        audit: AuditLog,
        online: bool,
    ) -> Result<Gateway, StartError> {
        let limits = ListLimits {
            default: config.gateway.max_items,
            cap: config.gateway.max_items_cap,
        };
        let document: Value = serde_json::from_str(bitbucket_cloud::openapi::DOCUMENT)
            .map_err(StartError::Document)?;
        let mut specs: HashMap<&'static str, Arc<ToolSpec>> = HashMap::new();
        let mut unsupported = Vec::new();
        for operation in operations::ALL {
            match ToolSpec::new(&document, operation, limits) {
                Ok(spec) => {
                    specs.insert(operation.name, Arc::new(spec));
                }
                Err(why) => unsupported.push(why.to_string()),
            }
        }
        let own = client_builder(&upstream).agent("gateway").build()?;
        let mut gateway = Gateway {
            settings: config.gateway.clone(),
            upstream,
            agents: Vec::new(),
            by_key: HashMap::new(),
            audit,
            unsupported,
            own,
        };
        let projects = if online {
            gateway.list_project_repos(&config.agents).await
        } else {
            ProjectRepos::new()
        };
        for (index, agent_config) in config.agents.into_iter().enumerate() {
            let budget = Budget::per_hour(agent_config.requests_per_hour);
            let policy = access::agent_policy(&agent_config, &projects);
            let visible = access::agent_tools(&agent_config);
            let mut callable = HashMap::new();
            let mut tools = Vec::new();
            for operation in visible {
                if let Some(spec) = specs.get(operation.name) {
                    tools.push(spec.tool.clone());
                    callable.insert(operation.name, spec.clone());
                }
            }
            let client = gateway.agent_client(&agent_config, policy, &budget)?;
            if let Some(key) = agent_config.key {
                gateway.by_key.insert(key, index);
            }
            gateway.agents.push(Agent {
                config: agent_config,
                client: RwLock::new(client),
                budget,
                tools,
                callable,
            });
        }
        Ok(gateway)
    }

    /// The agents, in config order.
    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// The settings of `[gateway]`.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The audit log.
    pub fn audit(&self) -> &AuditLog {
        &self.audit
    }

    /// Operations of the table that are not offered as tools, and why.
    pub fn unsupported(&self) -> &[String] {
        &self.unsupported
    }

    /// The agent whose key this is.
    pub fn agent_for_key(&self, key: &str) -> Option<usize> {
        let hash = KeyHash::of(key);
        // The map finds the candidate by its hash; the comparison that decides is
        // constant-time.
        self.by_key
            .get_key_value(&hash)
            .filter(|(stored, _)| stored.matches(&hash))
            .map(|(_, index)| *index)
    }

    /// The agent named `name`.
    pub fn agent_named(&self, name: &str) -> Option<usize> {
        self.agents.iter().position(|a| a.config.name == name)
    }

    /// Whether some rule is about a project (so its repositories must be listed now and
    /// then).
    pub fn has_project_rules(&self) -> bool {
        self.agents.iter().any(|a| {
            a.config
                .rules
                .iter()
                .any(|r| matches!(r.target, Target::Project { .. }))
        })
    }

    /// Lists the repositories of the projects rules name again, and gives the agents whose
    /// rules name projects a policy with the new lists.
    pub async fn refresh_projects(&self) {
        let configs: Vec<AgentConfig> = self.agents.iter().map(|a| a.config.clone()).collect();
        let projects = self.list_project_repos(&configs).await;
        for agent in &self.agents {
            let names_project = agent
                .config
                .rules
                .iter()
                .any(|r| matches!(r.target, Target::Project { .. }));
            if !names_project {
                continue;
            }
            let policy = access::agent_policy(&agent.config, &projects);
            match self.agent_client(&agent.config, policy, &agent.budget) {
                Ok(client) => {
                    *agent.client.write().unwrap_or_else(PoisonError::into_inner) = client
                }
                Err(e) => {
                    tracing::error!(agent = %agent.config.name, %e, "cannot renew the agent's client")
                }
            }
        }
    }

    async fn list_project_repos(&self, agents: &[AgentConfig]) -> ProjectRepos {
        let mut projects = ProjectRepos::new();
        let list = operations::by_name("list_repositories");
        for agent in agents {
            for rule in &agent.rules {
                let Target::Project { workspace, key } = &rule.target else {
                    continue;
                };
                let entry = (workspace.clone(), key.clone());
                if projects.contains_key(&entry) {
                    continue;
                }
                let Some(list) = list else {
                    tracing::error!(
                        "this build has no list_repositories operation: project rules allow \
                         only the projects' own operations"
                    );
                    projects.insert(entry, Vec::new());
                    continue;
                };
                let found: Result<Vec<Value>, Error> = self
                    .own
                    .operation(list)
                    .path_param("workspace", workspace.as_str())
                    .query_param("q", format!("project.key=\"{}\"", key.replace('"', "")))
                    .stream()
                    .max_items(10_000)
                    .try_collect()
                    .await;
                let repos = match found {
                    Ok(repos) => repos
                        .iter()
                        .filter_map(|r| r["slug"].as_str().map(str::to_string))
                        .collect(),
                    Err(e) => {
                        tracing::error!(
                            project = %format!("{workspace}/{key}"),
                            error = %e,
                            "cannot list the project's repositories; its rules allow only the \
                             project's own operations until the next refresh"
                        );
                        Vec::new()
                    }
                };
                tracing::info!(project = %format!("{workspace}/{key}"), repositories = ?repos, "project");
                projects.insert(entry, repos);
            }
        }
        projects
    }

    fn agent_client(
        &self,
        agent: &AgentConfig,
        policy: bitbucket_cloud::Policy,
        budget: &Budget,
    ) -> Result<Client, Error> {
        let budget = budget.clone();
        client_builder(&self.upstream)
            .agent(agent.name.clone())
            .policy(policy)
            .audit(move |record| {
                if record.decision.is_allowed() {
                    budget.charge();
                }
                Trail::observe(record);
            })
            .build()
    }

    /// Calls `tool` for the agent at `agent` (an index from [`Gateway::agent_for_key`] or
    /// [`Gateway::agent_named`]), and writes its audit record.
    pub async fn call(
        &self,
        agent: usize,
        tool: &str,
        arguments: Option<Map<String, Value>>,
    ) -> CallToolResult {
        let started = Instant::now();
        let Some(agent) = self.agents.get(agent) else {
            return failure("internal error: no such agent".into(), json!({}));
        };
        let mut record = CallRecord::new(Some(&agent.config.name), Some(tool));
        let (Ok(result) | Err(result)) = self.run(agent, tool, arguments, &mut record).await;
        self.audit.record(&record.took(started.elapsed()));
        result
    }

    /// The call itself; `Err` holds a result that is a refusal.
    async fn run(
        &self,
        agent: &Agent,
        tool: &str,
        arguments: Option<Map<String, Value>>,
        record: &mut CallRecord,
    ) -> Result<CallToolResult, CallToolResult> {
        let Some(spec) = agent.callable.get(tool) else {
            record.decision = Decision::Denied;
            record.reason = Some("not one of the agent's tools".into());
            record.error = Some("unknown_tool");
            return Err(failure(
                format!(
                    "`{tool}` is not one of your tools (tools/list shows the {} you may use)",
                    agent.tools.len()
                ),
                json!({"error": "unknown_tool"}),
            ));
        };
        let operation = spec.operation;
        record.operation = Some(operation.name);
        let limits = ListLimits {
            default: self.settings.max_items,
            cap: self.settings.max_items_cap,
        };
        let args = spec.arguments(arguments, limits).map_err(|message| {
            record.decision = Decision::Rejected;
            record.reason = Some(message.clone());
            record.error = Some("invalid_arguments");
            failure(
                format!("invalid arguments for `{tool}`: {message}"),
                json!({"error": "invalid_arguments", "message": message}),
            )
        })?;
        record.resource = args.resource();

        let pages = if operation.paginated {
            // A cursor may start inside a page: one more.
            args.max_items
                .div_ceil(operation.max_pagelen.unwrap_or(100).max(1))
                .saturating_add(u32::from(args.cursor.is_some()))
        } else {
            1
        };
        let reservation = agent.budget.reserve(pages).map_err(|exhausted| {
            record.decision = Decision::Denied;
            record.reason = Some(exhausted.to_string());
            record.error = Some("budget");
            failure(
                exhausted.to_string(),
                json!({"error": "budget", "retry_after_seconds": exhausted.retry_after.as_secs().max(1)}),
            )
        })?;

        let client = agent.client();
        let (outcome, trail) = Trail::follow(self.execute(&client, operation, args)).await;
        drop(reservation);
        record.requests = trail.requests;
        record.status = trail.status;
        if trail.resource.is_some() {
            record.resource = trail.resource;
        }
        record.decision = if trail.denied.is_some() {
            Decision::Denied
        } else {
            Decision::Allowed
        };
        record.reason = trail.denied;
        match outcome {
            Ok(result) => Ok(result),
            Err(Outcome::Refused { message, error }) => {
                if record.decision == Decision::Allowed && trail.requests == 0 {
                    record.decision = Decision::Rejected;
                }
                record.reason.get_or_insert_with(|| message.clone());
                record.error = Some(error);
                Err(failure(message, json!({"error": error})))
            }
            Err(Outcome::Failed(e)) => {
                if matches!(e, Error::InvalidRequest { .. }) && trail.requests == 0 {
                    record.decision = Decision::Rejected;
                }
                record.error = Some(error_kind(&e));
                if record.status.is_none() {
                    record.status = e.status().map(|s| s.as_u16());
                }
                Err(error_result(&agent.config.name, &e))
            }
        }
    }

    /// Sends the call through the agent's client.
    async fn execute(
        &self,
        client: &Client,
        operation: &'static Operation,
        args: Arguments,
    ) -> Result<CallToolResult, Outcome> {
        let limit = self.settings.max_result_bytes;
        let mut request = client.operation(operation);
        let cursor = match &args.cursor {
            Some(text) => Some(check_cursor(client, operation, &args, text)?),
            None => None,
        };
        for (name, value) in &args.path {
            request = request.path_param(name.as_str(), value.as_str());
        }
        for (name, value) in &args.query {
            request = request.query_param(name.as_str(), value.as_str());
        }
        if let Some(body) = args.body {
            request = request.body(body);
        }
        if !operation.paginated {
            let value = request.send().await.map_err(Outcome::Failed)?;
            return answer(value, limit);
        }
        let (mut pages, mut skip) = match &cursor {
            Some(cursor) => (request.resume(&cursor.link), cursor.skip),
            None => (request.pages(), 0),
        };
        let wanted = u64::from(args.max_items);
        pages = pages.max_items(skip.saturating_add(wanted));
        let mut values = Vec::new();
        let mut size = 64usize;
        let mut cut_short = false;
        let mut next = None;
        'pages: loop {
            let link = pages.resume_cursor().map(str::to_string);
            let Some(page) = pages.try_next().await.map_err(Outcome::Failed)? else {
                break;
            };
            let mut taken = skip;
            for item in page
                .items
                .into_iter()
                .skip(usize::try_from(skip).unwrap_or(usize::MAX))
            {
                let item_size = serde_json::to_string(&item).map_or(0, |s| s.len() + 1);
                size = size.saturating_add(item_size);
                if values.len() as u64 >= wanted || size > limit {
                    cut_short = size > limit;
                    next = link.map(|link| Cursor { link, skip: taken });
                    break 'pages;
                }
                values.push(item);
                taken += 1;
            }
            skip = 0;
            next = match pages.resume_cursor() {
                // The page was cut by max_items: continue inside it.
                Some(after) if Some(after) == link.as_deref() => {
                    link.map(|link| Cursor { link, skip: taken })
                }
                after => after.map(|link| Cursor {
                    link: link.to_string(),
                    skip: 0,
                }),
            };
            if values.len() as u64 >= wanted {
                break;
            }
        }
        if values.is_empty() && cut_short {
            return Err(Outcome::Refused {
                message: format!(
                    "one item of this list is larger than the gateway's limit of {limit} bytes \
                     per result; ask for it with the tool that reads one item"
                ),
                error: "too_large",
            });
        }
        let mut result = json!({"count": values.len(), "values": values});
        if let Some(next) = next {
            result["next_cursor"] = Value::String(next.encode());
        }
        if cut_short {
            result["note"] = json!(
                "the list was cut short by the gateway's size limit; next_cursor continues it"
            );
        }
        Ok(CallToolResult::structured(result))
    }
}

/// How a call ended without a result.
enum Outcome {
    /// The crate's error.
    Failed(Error),
    /// The gateway refused it.
    Refused {
        message: String,
        error: &'static str,
    },
}

fn client_builder(upstream: &Upstream) -> bitbucket_cloud::ClientBuilder {
    let builder = Client::builder()
        .auth(upstream.auth.clone())
        .user_agent(concat!("bitbucket-cloud-mcp/", env!("CARGO_PKG_VERSION")));
    match &upstream.base_url {
        Some(url) => builder.base_url(url.clone()),
        None => builder,
    }
}

/// A cursor must continue the list these arguments name: same operation, same path
/// parameters (the crate checks its origin and the policy checks its path again).
fn check_cursor(
    client: &Client,
    operation: &'static Operation,
    args: &Arguments,
    text: &str,
) -> Result<Cursor, Outcome> {
    let refused = |why: &str| Outcome::Refused {
        message: format!(
            "invalid arguments: the cursor {why}; pass the next_cursor this tool gave"
        ),
        error: "invalid_arguments",
    };
    let cursor = Cursor::decode(text).ok_or_else(|| refused("is not one this gateway made"))?;
    let url = url::Url::parse(&cursor.link).map_err(|_| refused("is not a URL"))?;
    let base = url::Url::parse(client.base_url()).map_err(|_| refused("cannot be checked"))?;
    let path = url
        .path()
        .strip_prefix(base.path().trim_end_matches('/'))
        .ok_or_else(|| refused("is not a link of this gateway's Bitbucket"))?;
    let params = operation
        .match_path(path)
        .ok_or_else(|| refused("is not a link of this tool's list"))?;
    for (name, value) in &args.path {
        if params.get(name) != Some(value.as_str()) {
            return Err(refused(&format!("is for another `{name}`")));
        }
    }
    Ok(cursor)
}

/// A successful answer as a tool result: JSON objects as structured content, text as text.
fn answer(value: Value, limit: usize) -> Result<CallToolResult, Outcome> {
    match value {
        Value::Object(_) => {
            let size = serde_json::to_string(&value).map_or(0, |s| s.len());
            if size > limit {
                return Err(Outcome::Refused {
                    message: format!(
                        "the answer is {size} bytes, more than the gateway's limit of {limit} \
                         bytes per result"
                    ),
                    error: "too_large",
                });
            }
            Ok(CallToolResult::structured(value))
        }
        Value::Null => Ok(CallToolResult::structured(json!({"done": true}))),
        Value::String(text) => {
            let mut text = text;
            if text.len() > limit {
                let mut end = limit;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                let more = text.len() - end;
                text.truncate(end);
                text.push_str(&format!(
                    "\n[cut by the gateway: {more} more bytes not shown]"
                ));
            }
            Ok(CallToolResult::success(vec![ContentBlock::text(text)]))
        }
        other => Ok(CallToolResult::success(vec![ContentBlock::text(
            other.to_string(),
        )])),
    }
}

/// A tool error: the message for the model, details as structured content.
fn failure(message: String, details: Value) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message)]);
    result.structured_content = Some(details);
    result
}

/// The crate's error as a tool error, with its hint.
fn error_result(agent: &str, error: &Error) -> CallToolResult {
    match error {
        Error::Denied { operation, reason } => failure(
            format!(
                "denied: the gateway's rules for agent `{agent}` do not allow this call of \
                 `{operation}`; nothing was sent to Bitbucket. ({reason})"
            ),
            json!({"error": "denied", "operation": operation, "reason": reason}),
        ),
        Error::Api(api) => failure(
            error.to_string(),
            json!({
                "error": "api",
                "status": api.status().as_u16(),
                "message": api.message(),
                "hint": api.hint(),
                "missing_scopes": api.missing_scopes(),
            }),
        ),
        other => failure(other.to_string(), json!({"error": error_kind(other)})),
    }
}

fn error_kind(error: &Error) -> &'static str {
    match error {
        Error::Api(_) => "api",
        Error::Denied { .. } => "denied",
        Error::InvalidRequest { .. } => "invalid_arguments",
        Error::Transport { .. } => "transport",
        Error::Decode { .. } => "decode",
        Error::Auth { .. } => "auth",
        Error::ForeignNextLink { .. } => "foreign_link",
        _ => "other",
    }
}
