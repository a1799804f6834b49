//! The MCP side: an `rmcp` server handler over the [`Gateway`], for one agent (stdio) or for
//! whichever agent each HTTP request's key names.

use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, Implementation, InitializeResult,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};

use crate::gateway::Gateway;

/// The agent an HTTP request's key names, put in the request's extensions by
/// [`crate::http`]'s key check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AgentId(pub usize);

/// What the gateway tells the model about itself.
const INSTRUCTIONS: &str = "Bitbucket Cloud through a gateway. Each tool is one Bitbucket \
    operation that this agent's rules allow, named as in Bitbucket's API (list_pull_requests, \
    merge_pull_request); a call outside the rules' workspaces or repositories is refused \
    before it reaches Bitbucket. Lists return at most max_items items and a next_cursor to \
    continue. Errors say what to do.";

/// The MCP server handler.
#[derive(Clone, Debug)]
pub struct McpServer {
    gateway: Arc<Gateway>,
    /// The agent over stdio; over HTTP, each request's key names it.
    agent: Option<usize>,
}

impl McpServer {
    /// Serves one agent (stdio: whoever runs the process is that agent).
    pub fn for_agent(gateway: Arc<Gateway>, agent: usize) -> McpServer {
        McpServer {
            gateway,
            agent: Some(agent),
        }
    }

    /// Serves the agent each request's [`AgentId`] names (HTTP).
    pub fn per_request(gateway: Arc<Gateway>) -> McpServer {
        McpServer {
            gateway,
            agent: None,
        }
    }

    fn agent(&self, context: &RequestContext<RoleServer>) -> Result<usize, ErrorData> {
        if let Some(agent) = self.agent {
            return Ok(agent);
        }
        context
            .extensions
            .get::<axum::http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<AgentId>())
            .map(|id| id.0)
            .ok_or_else(|| {
                ErrorData::invalid_request("no agent: send your key as a bearer token", None)
            })
    }

    fn tools(&self, agent: usize) -> Vec<Tool> {
        self.gateway
            .agents()
            .get(agent)
            .map(|a| a.tools().to_vec())
            .unwrap_or_default()
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        InitializeResult::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "bitbucket-cloud-mcp",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let agent = self.agent(&context)?;
        let mut result = ListToolsResult::with_all_items(self.tools(agent));
        // Each agent sees its own tools.
        result.cache_scope = Some(CacheScope::Private);
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        let agent = self.agent?;
        self.tools(agent).into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let agent = self.agent(&context)?;
        Ok(self
            .gateway
            .call(agent, &request.name, request.arguments)
            .await
            .into())
    }
}
