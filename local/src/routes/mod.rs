//! The HTTP side: one route per operation of `bitbucket_cloud::operations::ALL`, each behind
//! the guard that applies faults, authenticates and checks scopes.

mod account;
mod commits;
mod hooks;
mod issues;
mod pipelines;
mod pullrequests;
mod refs;
mod repositories;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use bitbucket_cloud::Operation;
use serde_json::{Value, json};

use crate::errors::ApiError;
use crate::paging::{self, ListQuery, Paging};
use crate::store::{Repo, Store, Workspace};
use crate::{App, ServedRequest, lock};

type Shared = Arc<App>;
/// The path parameters of a request, by name (`workspace`, `repo_slug`, ...).
type Params = axum::extract::Path<HashMap<String, String>>;
type Answer = Result<Response, ApiError>;

/// Who is calling: set by the guard for the handlers.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Caller {
    /// Index into `Store::users`.
    pub user: usize,
}

pub(crate) fn router(app: Shared) -> Router {
    let mut router = Router::new();
    for op in bitbucket_cloud::operations::ALL
        .iter()
        .filter(|op| routable(op))
    {
        let endpoint = endpoint(op).route_layer(middleware::from_fn_with_state(
            (Arc::clone(&app), op),
            guard,
        ));
        router = router.route(&format!("/2.0{}", op.path), endpoint);
    }
    router
        .fallback(|| async { ApiError::no_api() })
        .with_state(app)
}

/// Whether axum can route `op`'s template: a parameter must be a whole segment (the issue
/// export's `{repo_name}-issues-{task_id}.zip` is not). Those it cannot route answer like any
/// unknown URL.
fn routable(op: &Operation) -> bool {
    op.path.split('/').all(|segment| {
        !segment.contains('{')
            || (segment.starts_with('{')
                && segment.matches('{').count() == 1
                && segment.ends_with('}'))
    })
}

/// The handler of `op`.
fn endpoint(op: &'static Operation) -> MethodRouter<Shared> {
    let method = MethodFilter::try_from(op.method.clone()).unwrap_or(MethodFilter::GET);
    match op.name {
        "get_current_user" => on(method, account::current_user),
        "list_workspaces" => on(method, account::list_workspaces),
        "get_workspace" => on(method, account::get_workspace),
        "list_projects" => on(method, account::list_projects),
        "get_project" => on(method, account::get_project),
        "list_repositories" => on(method, repositories::list),
        "get_repository" => on(method, repositories::get),
        "create_repository" => on(method, repositories::create),
        "update_repository" => on(method, repositories::update),
        "list_branches" => on(method, refs::list),
        "create_branch" => on(method, refs::create),
        "get_branch" => on(method, refs::get),
        "delete_branch" => on(method, refs::delete),
        "list_commits" => on(method, commits::list),
        "get_commit" => on(method, commits::get),
        "list_pull_requests" => on(method, pullrequests::list),
        "create_pull_request" => on(method, pullrequests::create),
        "get_pull_request" => on(method, pullrequests::get),
        "update_pull_request" => on(method, pullrequests::update),
        "approve_pull_request" => on(method, pullrequests::approve),
        "request_changes_on_pull_request" => on(method, pullrequests::request_changes),
        "decline_pull_request" => on(method, pullrequests::decline),
        "merge_pull_request" => on(method, pullrequests::merge),
        "list_pull_request_comments" => on(method, pullrequests::list_comments),
        "create_pull_request_comment" => on(method, pullrequests::create_comment),
        "list_pull_request_commits" => on(method, pullrequests::list_commits),
        "get_pull_request_diff" => on(method, pullrequests::diff),
        "list_issues" => on(method, issues::list),
        "create_issue" => on(method, issues::create),
        "get_issue" => on(method, issues::get),
        "update_issue" => on(method, issues::update),
        "list_pipelines" => on(method, pipelines::list),
        "run_pipeline" => on(method, pipelines::run),
        "get_pipeline" => on(method, pipelines::get),
        "stop_pipeline" => on(method, pipelines::stop),
        "list_webhooks" => on(method, hooks::list),
        "create_webhook" => on(method, hooks::create),
        "delete_webhook" => on(method, hooks::delete),
        // An operation the client gained after this server was written: say so, clearly.
        name => on(method, move || async move {
            ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                format!("LocalBitbucket does not implement {name} yet"),
            )
        }),
    }
}

/// Applies faults, authenticates, checks the operation's scopes, and records the request.
async fn guard(
    State((app, op)): State<(Shared, &'static Operation)>,
    mut request: Request,
    next: Next,
) -> Response {
    let method = request.method().to_string();
    let path = request
        .uri()
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let verdict = lock(&app.faults).judge(op.name);
    if !verdict.delay.is_zero() {
        tokio::time::sleep(verdict.delay).await;
    }
    let response = match verdict.failure {
        Some(failure) => failure.into_response(),
        None => {
            let checked = lock(&app.credentials)
                .authenticate(request.headers())
                .and_then(|credential| {
                    credential.authorize(op)?;
                    Ok(credential)
                });
            match checked {
                Ok(credential) => {
                    request.extensions_mut().insert(Caller {
                        user: credential.user,
                    });
                    next.run(request).await
                }
                Err(denied) => denied.into_response(),
            }
        }
    };
    lock(&app.requests).push(ServedRequest {
        operation: op.name,
        method,
        path,
        status: response.status().as_u16(),
    });
    response
}

/// A request body as JSON; an empty body is `{}`.
fn body(bytes: &Bytes) -> Result<Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(ApiError::invalid_body)?;
    if !value.is_object() {
        return Err(ApiError::bad_request(
            "Bad request: the body must be a JSON object ({...}), not another JSON value",
        ));
    }
    Ok(value)
}

/// A string member of `value` at the JSON pointer `pointer`.
fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> &'a str {
    params.get(name).map(String::as_str).unwrap_or_default()
}

fn ok(value: Value) -> Answer {
    Ok(axum::Json(value).into_response())
}

/// A `201 Created` of `value`, with its `links.self.href` as the `Location`.
fn created(value: Value) -> Answer {
    let location =
        text(&value, "/links/self/href").and_then(|href| header::HeaderValue::from_str(href).ok());
    let mut response = (StatusCode::CREATED, axum::Json(value)).into_response();
    if let Some(location) = location {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn no_content() -> Answer {
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The workspace the path names, or Bitbucket's 404.
fn workspace<'a>(
    store: &'a Store,
    params: &HashMap<String, String>,
) -> Result<&'a Workspace, ApiError> {
    let name = param(params, "workspace");
    store
        .workspace(name)
        .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))
}

/// The index of the repository the path names, or Bitbucket's 404.
fn repo_index(store: &Store, params: &HashMap<String, String>) -> Result<usize, ApiError> {
    workspace(store, params)?;
    let workspace = param(params, "workspace");
    let slug = param(params, "repo_slug");
    store
        .repo_index(workspace, slug)
        .ok_or_else(|| ApiError::not_found(format_args!("Repository {workspace}/{slug}")))
}

/// The repository the path names, or Bitbucket's 404.
fn repo<'a>(store: &'a Store, params: &HashMap<String, String>) -> Result<&'a Repo, ApiError> {
    Ok(&store.repos[repo_index(store, params)?])
}

fn list_query(app: &App, uri: &Uri) -> ListQuery {
    ListQuery::new(&app.urls.web, uri)
}

/// A numbered page of `items`, filtered and sorted as the request asks.
fn numbered(app: &App, uri: &Uri, items: Vec<Value>) -> Answer {
    ok(paging::page(
        items,
        &list_query(app, uri),
        Paging::Numbered,
    )?)
}

/// Queues `event` with `payload` (which gets `actor` and `repository` added) for the hooks of
/// repository `repo_index`.
pub(crate) fn emit(
    app: &App,
    store: &Store,
    repo_index: usize,
    actor: usize,
    event: &str,
    mut payload: Value,
) {
    let repo: &Repo = &store.repos[repo_index];
    payload["actor"] = app.urls.user(&store.users[actor]);
    payload["repository"] = app.urls.repo(store, repo);
    app.webhooks.emit(&repo.hooks, event, &payload);
}

/// Queues a `repo:push` with these `changes` (see `seed::push_change`).
pub(crate) fn emit_push(
    app: &App,
    store: &Store,
    repo_index: usize,
    actor: usize,
    changes: Vec<Value>,
) {
    emit(
        app,
        store,
        repo_index,
        actor,
        "repo:push",
        json!({ "push": { "changes": changes } }),
    );
}
