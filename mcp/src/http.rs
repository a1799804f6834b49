//! Streamable HTTP: many agents, one gateway. Agents POST MCP messages to `/mcp` with their key
//! as `Authorization: Bearer <key>`; a missing or unknown key gets a 401 before anything else
//! is read. The gateway is stateless (no MCP sessions: every request carries its key, so a
//! session could not carry another agent's rights), answers with plain JSON, and accepts only
//! the `Host` names it is reached by (loopback and `allowed_hosts`) and browser `Origin`s on
//! loopback, against DNS rebinding.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rmcp::transport::StreamableHttpServerConfig;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::tower::StreamableHttpService;
use tokio_util::sync::CancellationToken;

use crate::audit::{CallRecord, Decision};
use crate::gateway::Gateway;
use crate::keys;
use crate::server::{AgentId, McpServer};

/// The path agents POST to.
pub const PATH: &str = "/mcp";

/// The gateway's HTTP routes: `/mcp`, behind the key check.
pub fn router(gateway: Arc<Gateway>, shutdown: CancellationToken) -> Router {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1", "[::1]"]
        .map(String::from)
        .to_vec();
    hosts.extend(gateway.settings().allowed_hosts.iter().cloned());
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        .enforce_origin_validation()
        .with_cancellation_token(shutdown);
    let for_service = gateway.clone();
    let service = StreamableHttpService::new(
        move || Ok(McpServer::per_request(for_service.clone())),
        Arc::new(NeverSessionManager::default()),
        config,
    );
    Router::new()
        .nest_service(PATH, service)
        .layer(middleware::from_fn_with_state(gateway, authenticate))
}

/// Lets a request through with the [`AgentId`] its key names, or answers 401.
async fn authenticate(
    State(gateway): State<Arc<Gateway>>,
    mut request: Request,
    next: Next,
) -> Response {
    let agent = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(keys::bearer)
        .and_then(|key| gateway.agent_for_key(key));
    match agent {
        Some(agent) => {
            request.extensions_mut().insert(AgentId(agent));
            next.run(request).await
        }
        None => {
            let given = request.headers().contains_key(header::AUTHORIZATION);
            let reason = if given {
                "unknown bearer key"
            } else {
                "no bearer key"
            };
            let mut record = CallRecord::new(None, None);
            record.decision = Decision::Denied;
            record.reason = Some(reason.into());
            record.error = Some("unauthorized");
            gateway.audit().record(&record);
            let body = serde_json::json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": {
                    "code": -32001,
                    "message": format!(
                        "{reason}: send `Authorization: Bearer <key>` with the key the gateway's \
                         operator gave this agent"
                    ),
                },
            });
            let mut response = (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"bitbucket-cloud-mcp\""),
            );
            response
        }
    }
}
