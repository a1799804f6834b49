//! `/user`, `/user/workspaces`, `/workspaces/{workspace}` and its projects.

use axum::Extension;
use axum::extract::State;
use axum::http::Uri;
use serde_json::Value;

use super::{Answer, Caller, Params, Shared, list_query, numbered, ok, param, workspace};
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
    let store = app.store();
    ok(app.urls.workspace(workspace(&store, &params)?))
}

pub(super) async fn list_projects(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let items = ws
        .projects
        .iter()
        .map(|p| app.urls.project(ws, &p.key))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_project(State(app): State<Shared>, params: Params) -> Answer {
    let key = param(&params, "project_key");
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let project = ws
        .project(key)
        .ok_or_else(|| ApiError::not_found(format_args!("Project {key}")))?;
    ok(app.urls.project(ws, &project.key))
}
