//! The gateway's one TOML file: settings, the Bitbucket API root, and the agents with their
//! keys, rules, budgets and tool selections. See the crate's README for every field.
//!
//! Parsing is strict: an unknown field, an unknown operation, scope, area or preset, a
//! malformed resource, a duplicate agent or key, or a rule that contradicts its agent's preset
//! is a [`ConfigError`] naming the line, and the gateway does not start. Nothing is allowed
//! that a rule does not say.
//!
//! ```
//! let config = bitbucket_cloud_mcp::config::Config::parse(
//!     "agents.toml",
//!     r#"
//! [[agent]]
//! name = "reviewer"
//! preset = "read-only"
//!
//! [[agent.rule]]
//! access = "read"
//! repository = "acme/app"
//! "#,
//! )?;
//! assert_eq!(config.agents[0].name, "reviewer");
//! # Ok::<(), bitbucket_cloud_mcp::config::ConfigError>(())
//! ```

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bitbucket_cloud::operations::{self, Operation};
use bitbucket_cloud::{Scope, scopes};
use serde::Deserialize;
use toml::Spanned;

use crate::access::{Access, Rule, Target, is_read};
use crate::keys::KeyHash;

/// Where HTTP agents connect unless the config says otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8848";
/// Items a list returns unless the call asks for another number.
pub const DEFAULT_MAX_ITEMS: u32 = 25;
/// The most items a call may ask for.
pub const DEFAULT_MAX_ITEMS_CAP: u32 = 100;
/// The largest result handed to an agent, in bytes of JSON.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 200_000;
/// Bitbucket requests an agent may cause per hour unless its config says otherwise.
pub const DEFAULT_REQUESTS_PER_HOUR: u32 = 300;
/// How often the repositories of the projects that rules name are listed again.
pub const DEFAULT_PROJECT_REFRESH: Duration = Duration::from_secs(300);

/// A config error, with the file and line it is about.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ConfigError {
    /// The file, as named to [`Config::parse`].
    pub file: String,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// The whole config, checked.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// `[gateway]`.
    pub gateway: Settings,
    /// `[bitbucket]`.
    pub bitbucket: BitbucketSettings,
    /// `[[agent]]`, in file order.
    pub agents: Vec<AgentConfig>,
}

/// `[gateway]`: how the gateway serves its agents.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Settings {
    /// `listen`: the HTTP address (`127.0.0.1:8848`); agents POST to `/mcp`.
    pub listen: SocketAddr,
    /// `allowed_hosts`: `Host` names agents reach the gateway by, besides the loopback names
    /// (a check against DNS rebinding).
    pub allowed_hosts: Vec<String>,
    /// `audit_log`: the JSON-lines file every call is appended to.
    pub audit_log: Option<PathBuf>,
    /// `max_items`: items a list returns when the call does not say.
    pub max_items: u32,
    /// `max_items_cap`: the most a call may ask for.
    pub max_items_cap: u32,
    /// `max_result_bytes`: the largest result, in bytes of JSON; longer text is cut, longer
    /// lists end early with a cursor.
    pub max_result_bytes: usize,
    /// `project_refresh_seconds`: how often the repositories of projects named by rules are
    /// listed again.
    pub project_refresh: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            listen: DEFAULT_LISTEN.parse().expect("a socket address"),
            allowed_hosts: Vec::new(),
            audit_log: None,
            max_items: DEFAULT_MAX_ITEMS,
            max_items_cap: DEFAULT_MAX_ITEMS_CAP,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            project_refresh: DEFAULT_PROJECT_REFRESH,
        }
    }
}

/// `[bitbucket]`: where the gateway sends requests. The credential is not here: it comes from
/// the gateway's environment (see [`crate::credential`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BitbucketSettings {
    /// `base_url`: the API root (Bitbucket Cloud's by default).
    pub base_url: Option<String>,
}

/// One `[[agent]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgentConfig {
    /// `name`: named in every audit record.
    pub name: String,
    /// `key_sha256`: the SHA-256 of the agent's bearer key, for HTTP. An agent without one can
    /// only be served over stdio.
    pub key: Option<KeyHash>,
    /// `preset = "read-only"`: only reads, whatever the rules say.
    pub read_only: bool,
    /// `requests_per_hour`: Bitbucket requests the agent's calls may make in any hour.
    pub requests_per_hour: u32,
    /// `areas`: the document's tags whose operations are shown (all when empty).
    pub areas: Vec<&'static str>,
    /// `tools`: operations shown besides the areas' (with `areas` empty and `tools` set, only
    /// these). Deprecated operations are shown only when named here.
    pub tools: Vec<&'static Operation>,
    /// `deny`: operations refused whatever the rules allow.
    pub deny: Vec<&'static Operation>,
    /// `[[agent.rule]]`.
    pub rules: Vec<Rule>,
    /// The line of `[[agent]]`.
    pub line: usize,
    /// The line of `key_sha256`.
    pub(crate) key_line: usize,
}

impl AgentConfig {
    /// Whether the agent's tool selection (`areas`, `tools`, deprecation) shows `operation`.
    pub fn selects(&self, operation: &Operation) -> bool {
        if self.tools.iter().any(|t| t.name == operation.name) {
            return true;
        }
        if operation.deprecated {
            return false;
        }
        if self.areas.is_empty() {
            return self.tools.is_empty();
        }
        operation.tags.iter().any(|t| self.areas.contains(t))
    }
}

impl Config {
    /// Reads and checks the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Config, ConfigError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: file.clone(),
            line: 0,
            message: format!("cannot read the config: {e}"),
        })?;
        Config::parse(&file, &text)
    }

    /// Parses and checks `text`; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let checker = Checker { file, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| checker.line(s.start));
            checker.error_at(line, e.message().trim_end().replace('\n', " "))
        })?;
        checker.config(raw)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    gateway: RawGateway,
    #[serde(default)]
    bitbucket: RawBitbucket,
    #[serde(default)]
    agent: Vec<Spanned<RawAgent>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    listen: Option<Spanned<String>>,
    allowed_hosts: Option<Vec<Spanned<String>>>,
    audit_log: Option<String>,
    max_items: Option<Spanned<u32>>,
    max_items_cap: Option<Spanned<u32>>,
    max_result_bytes: Option<Spanned<usize>>,
    project_refresh_seconds: Option<Spanned<u64>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBitbucket {
    base_url: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: Spanned<String>,
    key_sha256: Option<Spanned<String>>,
    preset: Option<Spanned<String>>,
    requests_per_hour: Option<Spanned<u32>>,
    #[serde(default)]
    areas: Vec<Spanned<String>>,
    #[serde(default)]
    tools: Vec<Spanned<String>>,
    #[serde(default)]
    deny: Vec<Spanned<String>>,
    #[serde(default)]
    rule: Vec<Spanned<RawRule>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    access: Option<Spanned<String>>,
    #[serde(default)]
    operations: Vec<Spanned<String>>,
    #[serde(default)]
    scopes: Vec<Spanned<String>>,
    workspace: Option<Spanned<String>>,
    project: Option<Spanned<String>>,
    repository: Option<Spanned<String>>,
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

/// The presets an agent may name.
const PRESETS: &[&str] = &["read-only"];

impl Checker<'_> {
    fn line(&self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    fn error_at(&self, line: usize, message: impl Into<String>) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line,
            message: message.into(),
        }
    }

    fn error<T>(&self, at: &Spanned<T>, message: impl Into<String>) -> ConfigError {
        self.error_at(self.line(at.span().start), message)
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let gateway = self.gateway(raw.gateway)?;
        let bitbucket = BitbucketSettings {
            base_url: match raw.bitbucket.base_url {
                Some(url)
                    if !url.get_ref().starts_with("http://")
                        && !url.get_ref().starts_with("https://") =>
                {
                    return Err(self.error(
                        &url,
                        format!(
                            "base_url `{}` must be an absolute http(s) URL such as \
                             https://api.bitbucket.org/2.0",
                            url.get_ref()
                        ),
                    ));
                }
                other => other.map(Spanned::into_inner),
            },
        };
        if raw.agent.is_empty() {
            return Err(self.error_at(
                1,
                "no agent: add an [[agent]] with a name, a key_sha256 and [[agent.rule]]s",
            ));
        }
        let mut agents: Vec<AgentConfig> = Vec::new();
        for raw_agent in raw.agent {
            let line = self.line(raw_agent.span().start);
            let agent = self.agent(raw_agent.into_inner(), line)?;
            agents.push(agent);
        }
        self.no_duplicates(&agents)?;
        Ok(Config {
            gateway,
            bitbucket,
            agents,
        })
    }

    fn gateway(&self, raw: RawGateway) -> Result<Settings, ConfigError> {
        let mut settings = Settings::default();
        if let Some(listen) = raw.listen {
            settings.listen = listen.get_ref().parse().map_err(|_| {
                self.error(
                    &listen,
                    format!(
                        "listen `{}` is not an address and port such as {DEFAULT_LISTEN}",
                        listen.get_ref()
                    ),
                )
            })?;
        }
        for host in raw.allowed_hosts.unwrap_or_default() {
            let name = host.get_ref();
            if name.is_empty() || name.contains(['/', ' ', '*']) {
                return Err(self.error(
                    &host,
                    format!(
                        "allowed_hosts: `{name}` is not a host name (or host:port) such as \
                         mcp.example.com"
                    ),
                ));
            }
            settings.allowed_hosts.push(host.into_inner());
        }
        settings.audit_log = raw.audit_log.map(PathBuf::from);
        if let Some(n) = raw.max_items_cap {
            if *n.get_ref() == 0 {
                return Err(self.error(&n, "max_items_cap must be at least 1"));
            }
            settings.max_items_cap = n.into_inner();
        }
        if let Some(n) = raw.max_items {
            if *n.get_ref() == 0 || *n.get_ref() > settings.max_items_cap {
                return Err(self.error(
                    &n,
                    format!(
                        "max_items must be between 1 and max_items_cap ({})",
                        settings.max_items_cap
                    ),
                ));
            }
            settings.max_items = n.into_inner();
        }
        settings.max_items = settings.max_items.min(settings.max_items_cap);
        if let Some(n) = raw.max_result_bytes {
            if *n.get_ref() < 1_000 {
                return Err(self.error(&n, "max_result_bytes must be at least 1000"));
            }
            settings.max_result_bytes = n.into_inner();
        }
        if let Some(n) = raw.project_refresh_seconds {
            if *n.get_ref() == 0 {
                return Err(self.error(&n, "project_refresh_seconds must be at least 1"));
            }
            settings.project_refresh = Duration::from_secs(n.into_inner());
        }
        Ok(settings)
    }

    fn agent(&self, raw: RawAgent, line: usize) -> Result<AgentConfig, ConfigError> {
        let name = raw.name.get_ref().trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(self.error(
                &raw.name,
                format!(
                    "agent name `{name}`: use letters, digits, `-`, `_` and `.` (it names the \
                     agent in audit records)"
                ),
            ));
        }
        let name = name.to_string();
        let key_line = raw
            .key_sha256
            .as_ref()
            .map_or(line, |k| self.line(k.span().start));
        let key = match &raw.key_sha256 {
            Some(hex) => Some(KeyHash::from_hex(hex.get_ref()).ok_or_else(|| {
                self.error(
                    hex,
                    format!(
                        "agent `{name}`: key_sha256 must be 64 hexadecimal digits, the SHA-256 of \
                         the key (`bitbucket-cloud-mcp hash-key` prints it)"
                    ),
                )
            })?),
            None => None,
        };
        let read_only = match &raw.preset {
            None => false,
            Some(preset) if preset.get_ref() == "read-only" => true,
            Some(preset) => {
                return Err(self.error(
                    preset,
                    format!(
                        "agent `{name}`: unknown preset `{}`; the presets are: {}",
                        preset.get_ref(),
                        PRESETS.join(", ")
                    ),
                ));
            }
        };
        let requests_per_hour = match raw.requests_per_hour {
            Some(n) if *n.get_ref() == 0 => {
                return Err(self.error(
                    &n,
                    format!("agent `{name}`: requests_per_hour must be at least 1"),
                ));
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_REQUESTS_PER_HOUR,
        };
        let areas = raw
            .areas
            .iter()
            .map(|area| self.area(area))
            .collect::<Result<Vec<_>, _>>()?;
        let tools = raw
            .tools
            .iter()
            .map(|t| self.operation(t))
            .collect::<Result<Vec<_>, _>>()?;
        let deny = raw
            .deny
            .iter()
            .map(|t| self.operation(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut rules = raw
            .rule
            .iter()
            .map(|rule| self.rule(rule, read_only, &name))
            .collect::<Result<Vec<_>, _>>()?;
        if rules.is_empty() && read_only {
            // The preset alone: read everything the gateway's credential can read.
            for target in [Target::AnyWorkspace, Target::Account] {
                rules.push(Rule {
                    access: Some(Access::Read),
                    operations: Vec::new(),
                    scopes: Vec::new(),
                    target,
                    line,
                });
            }
        }
        let agent = AgentConfig {
            name,
            key,
            read_only,
            requests_per_hour,
            areas,
            tools,
            deny,
            rules,
            line,
            key_line,
        };
        // A tool the agent is meant to see must be one its rules allow.
        for (tool, spanned) in agent.tools.iter().zip(&raw.tools) {
            let allowed = agent
                .rules
                .iter()
                .any(|r| r.operations(read_only).iter().any(|o| o.name == tool.name));
            if !allowed || agent.deny.iter().any(|d| d.name == tool.name) {
                return Err(self.error(
                    spanned,
                    format!(
                        "agent `{}` lists the tool `{}`, which its rules do not allow: add a rule \
                         for it, or remove it from tools",
                        agent.name, tool.name
                    ),
                ));
            }
        }
        Ok(agent)
    }

    fn rule(
        &self,
        raw: &Spanned<RawRule>,
        read_only: bool,
        agent: &str,
    ) -> Result<Rule, ConfigError> {
        let line = self.line(raw.span().start);
        let rule = raw.get_ref();
        let access = match &rule.access {
            Some(access) => {
                let level = Access::parse(access.get_ref()).ok_or_else(|| {
                    self.error(
                        access,
                        format!(
                            "unknown access `{}`: use read, write or full",
                            access.get_ref()
                        ),
                    )
                })?;
                if read_only && level != Access::Read {
                    return Err(self.error(
                        access,
                        format!(
                            "agent `{agent}` has the preset read-only, and this rule gives \
                             access = \"{level}\": use access = \"read\", or remove the preset"
                        ),
                    ));
                }
                Some(level)
            }
            None => None,
        };
        let target = self.target(rule)?;
        let mut operations = Vec::new();
        for name in &rule.operations {
            let op = self.operation(name)?;
            if read_only && !is_read(op) {
                return Err(self.error(
                    name,
                    format!(
                        "agent `{agent}` has the preset read-only, and `{}` is a {} that changes \
                         things: remove it, or remove the preset",
                        op.name, op.method
                    ),
                ));
            }
            if !target.fits(op) {
                let fix = if matches!(target, Target::Account) {
                    "say where with workspace, project or repository"
                } else if op.has_param("workspace") {
                    "give it a rule on a workspace (or \"*\")"
                } else {
                    "give it a rule without workspace, project or repository"
                };
                return Err(self.error(
                    name,
                    format!(
                        "`{}` ({} {}) never acts on {target}, so this rule would not allow it: {fix}",
                        op.name, op.method, op.path
                    ),
                ));
            }
            operations.push(op);
        }
        let scopes = rule
            .scopes
            .iter()
            .map(|s| {
                s.get_ref()
                    .parse::<Scope>()
                    .map_err(|e| self.error(s, e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if access.is_none() && operations.is_empty() && scopes.is_empty() {
            return Err(self.error_at(
                line,
                "a rule must say what it allows: access (read, write, full), operations or scopes",
            ));
        }
        Ok(Rule {
            access,
            operations,
            scopes,
            target,
            line,
        })
    }

    fn target(&self, rule: &RawRule) -> Result<Target, ConfigError> {
        let given: Vec<&Spanned<String>> = [&rule.workspace, &rule.project, &rule.repository]
            .into_iter()
            .flatten()
            .collect();
        if given.len() > 1 {
            return Err(self.error(
                given[1],
                "a rule is about one resource: give workspace, project or repository, not \
                 several (write one rule per resource)",
            ));
        }
        if let Some(ws) = &rule.workspace {
            return match ws.get_ref().as_str() {
                "*" => Ok(Target::AnyWorkspace),
                name => Ok(Target::Workspace(self.slug(ws, name, "workspace")?)),
            };
        }
        if let Some(project) = &rule.project {
            let (ws, key) = self.pair(project, "project", "workspace/PROJECT_KEY")?;
            return Ok(Target::Project { workspace: ws, key });
        }
        if let Some(repo) = &rule.repository {
            let (ws, slug) = self.pair(repo, "repository", "workspace/repository-slug")?;
            return Ok(Target::Repository {
                workspace: ws,
                repo: slug,
            });
        }
        Ok(Target::Account)
    }

    /// `ws/name`, both slugs.
    fn pair(
        &self,
        at: &Spanned<String>,
        what: &str,
        shape: &str,
    ) -> Result<(String, String), ConfigError> {
        let text = at.get_ref();
        match text.split('/').collect::<Vec<_>>().as_slice() {
            [ws, name] => Ok((self.slug(at, ws, "workspace")?, self.slug(at, name, what)?)),
            _ => Err(self.error(at, format!("{what} `{text}` is not of the form {shape}"))),
        }
    }

    /// A slug, key or `{uuid}`: no wildcards, spaces or slashes.
    fn slug(&self, at: &Spanned<String>, text: &str, what: &str) -> Result<String, ConfigError> {
        let is_uuid = text.len() > 2 && text.starts_with('{') && text.ends_with('}');
        let plain = !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && text != "."
            && text != "..";
        if plain
            || (is_uuid
                && text[1..text.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() || c == '-'))
        {
            return Ok(text.to_string());
        }
        let wildcard = if text.contains('*') {
            " (the only wildcard is workspace = \"*\", every workspace; for every repository \
             of a workspace, give the workspace)"
        } else {
            ""
        };
        Err(self.error(
            at,
            format!(
                "`{}`: `{text}` is not a {what} slug, key or {{uuid}}{wildcard}",
                at.get_ref()
            ),
        ))
    }

    fn operation(&self, name: &Spanned<String>) -> Result<&'static Operation, ConfigError> {
        match operations::by_name(name.get_ref()) {
            Some(op) => Ok(op),
            None => Err(self.error(
                name,
                match scopes::required_for([name.get_ref().as_str()]) {
                    Err(unknown) => unknown.to_string(),
                    Ok(_) => format!("`{}` is not a supported operation", name.get_ref()),
                },
            )),
        }
    }

    fn area(&self, area: &Spanned<String>) -> Result<&'static str, ConfigError> {
        let mut tags: Vec<&'static str> = operations::ALL
            .iter()
            .flat_map(|op| op.tags.iter().copied())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        tags.iter()
            .copied()
            .find(|t| t.eq_ignore_ascii_case(area.get_ref().trim()))
            .ok_or_else(|| {
                self.error(
                    area,
                    format!(
                        "`{}` is not an area; the areas (the document's tags) are: {}",
                        area.get_ref(),
                        tags.join(", ")
                    ),
                )
            })
    }

    fn no_duplicates(&self, agents: &[AgentConfig]) -> Result<(), ConfigError> {
        for (i, agent) in agents.iter().enumerate() {
            for earlier in &agents[..i] {
                if earlier.name.eq_ignore_ascii_case(&agent.name) {
                    return Err(self.error_at(
                        agent.line,
                        format!(
                            "a second agent named `{}` (the first is on line {}): names must \
                             be unique",
                            agent.name, earlier.line
                        ),
                    ));
                }
                if agent.key.is_some() && earlier.key == agent.key {
                    return Err(self.error_at(
                        agent.key_line,
                        format!(
                            "agent `{}` has the same key as `{}` (line {}): each agent needs its \
                             own key, or calls could not be told apart",
                            agent.name, earlier.name, earlier.line
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}
