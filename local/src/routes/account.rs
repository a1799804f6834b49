//! `/user`, `/user/workspaces`, `/workspaces/{workspace}` and its projects.

use axum::Extension;
use axum::extract::State;
use axum::http::Uri;
use serde_json::Value;

use super::{Answer, Caller, Params, Shared, list_query, ok, param};
use crate::errors::ApiError;
use crate::paging::{self, Paging};

pub(super) async fn current_user(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
) -> Answer {
    let store = app.store();
    ok(app.urls.current_user(&store.users[caller.user]))
}

pub(super) async fn list_workspaces(State(app): State<Shared>, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    // Every account administers every workspace of the local server.
    let items = if query.get("administrator") == Some("false") {
        Vec::new()
    } else {
        store
            .workspaces
            .iter()
            .map(|ws| app.urls.workspace_access(ws))
            .collect()
    };
    ok(paging::page(
        items,
        &query,
        Paging::Cursor(|item| {
            item.pointer("/workspace/uuid")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
    )?)
}

pub(super) async fn get_workspace(State(app): State<Shared>, params: Params) -> Answer {
    let name = param(&params, "workspace");
    let store = app.store();
    let ws = store.workspace(name).ok_or_else(|| no_workspace(name))?;
    ok(app.urls.workspace(ws))
}

pub(super) async fn list_projects(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let name = param(&params, "workspace");
    let store = app.store();
    let ws = store.workspace(name).ok_or_else(|| no_workspace(name))?;
    let items = ws
        .projects
        .iter()
        .map(|p| app.urls.project(ws, &p.key))
        .collect();
    ok(paging::page(
        items,
        &list_query(&app, &uri),
        Paging::Numbered,
    )?)
}

pub(super) async fn get_project(State(app): State<Shared>, params: Params) -> Answer {
    let name = param(&params, "workspace");
    let key = param(&params, "project_key");
    let store = app.store();
    let ws = store.workspace(name).ok_or_else(|| no_workspace(name))?;
    let project = ws
        .projects
        .iter()
        .find(|p| p.key.eq_ignore_ascii_case(key) || p.uuid.eq_ignore_ascii_case(key))
        .ok_or_else(|| ApiError::not_found(format_args!("Project {key}")))?;
    ok(app.urls.project(ws, &project.key))
}

fn no_workspace(name: &str) -> ApiError {
    ApiError::not_found(format_args!("Workspace {name}"))
}
