//! `/user`, `/users/{selected_user}`, `/user/workspaces`, `/workspaces/{workspace}`, its
//! members and permissions, and its projects.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, body, created, list_query, no_content, numbered, ok, param,
    text, workspace,
};
use crate::errors::ApiError;
use crate::paging::{self, Paging};
use crate::render::href;
use crate::store::{Project, Store, Workspace, ensure_project};
use crate::{clock, ids};

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

/// `GET /users/{selected_user}`: by `{uuid}`, account id or nickname.
pub(super) async fn get_user(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let id = param(&params, "selected_user");
    let user = store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))?;
    ok(app.urls.user(&store.users[user]))
}

/// Creates a project from `key` and `name` (both required), `description` and `is_private`.
pub(super) async fn create_project(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let slug = workspace(&store, &params)?.slug.clone();
    let key = valid_key(text(&request, "/key"))?;
    let name = text(&request, "/name")
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("name: This field is required.")
            .field("name", "This field is required."));
    }
    let ws = store.workspace_mut(&slug).expect("found above");
    if ws.project(&key).is_some() {
        return Err(
            ApiError::bad_request("Project with this Owner and Key already exists.")
                .field("key", "this key is taken in the workspace"),
        );
    }
    let project = ensure_project(ws, &key, &name);
    apply(project, &request);
    let ws = store.workspace(&slug).expect("found above");
    created(app.urls.project(ws, &key))
}

/// Changes the project (or creates it, answering `201`, when the key is new, as Bitbucket's
/// PUT does). A new `key` renames it.
pub(super) async fn update_project(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let key = param(&params, "project_key").to_string();
    let mut store = app.store();
    let slug = workspace(&store, &params)?.slug.clone();
    let new_key = text(&request, "/key")
        .map(|k| valid_key(Some(k)))
        .transpose()?;
    let ws = store.workspace_mut(&slug).expect("found above");
    let exists = ws.project(&key).is_some();
    if !exists {
        let name = text(&request, "/name")
            .unwrap_or_default()
            .trim()
            .to_string();
        if name.is_empty() {
            return Err(ApiError::bad_request("name: This field is required.")
                .field("name", "This field is required."));
        }
        let key = valid_key(Some(&key))?;
        let project = ensure_project(ws, &key, &name);
        apply(project, &request);
        let ws = store.workspace(&slug).expect("found above");
        let value = app.urls.project(ws, &key);
        return Ok((StatusCode::CREATED, axum::Json(value)).into_response());
    }
    if let Some(new_key) = &new_key
        && !ids::same(new_key, &key)
        && ws.project(new_key).is_some()
    {
        return Err(
            ApiError::bad_request("Project with this Owner and Key already exists.")
                .field("key", "this key is taken in the workspace"),
        );
    }
    let at = ws
        .projects
        .iter()
        .position(|p| ids::same(&p.key, &key) || ids::same(&p.uuid, &key))
        .expect("exists");
    let old_key = ws.projects[at].key.clone();
    let project = &mut ws.projects[at];
    apply(project, &request);
    if let Some(new_key) = new_key {
        project.key = new_key;
    }
    let final_key = project.key.clone();
    project.updated_on = clock::now();
    for repo in store.repos.iter_mut().filter(|r| r.workspace == slug) {
        if repo.project_key == old_key {
            repo.project_key = final_key.clone();
        }
    }
    let ws = store.workspace(&slug).expect("found above");
    ok(app.urls.project(ws, &final_key))
}

/// Deletes an empty project: one that still holds repositories is refused, as on Bitbucket.
pub(super) async fn delete_project(State(app): State<Shared>, params: Params) -> Answer {
    let key = param(&params, "project_key").to_string();
    let mut store = app.store();
    let slug = workspace(&store, &params)?.slug.clone();
    let ws = store.workspace(&slug).expect("found above");
    let project = ws
        .project(&key)
        .ok_or_else(|| ApiError::not_found(format_args!("Project {key}")))?
        .key
        .clone();
    if store
        .repos
        .iter()
        .any(|r| r.workspace == slug && r.project_key == project)
    {
        return Err(ApiError::bad_request(format!(
            "Project {project} still has repositories: delete or move them first"
        )));
    }
    let ws = store.workspace_mut(&slug).expect("found above");
    ws.projects.retain(|p| p.key != project);
    no_content()
}

fn apply(project: &mut Project, request: &Value) {
    if let Some(name) = text(request, "/name").filter(|n| !n.trim().is_empty()) {
        project.name = name.to_string();
    }
    if let Some(description) = text(request, "/description") {
        project.description = description.to_string();
    }
    if let Some(private) = request.get("is_private").and_then(Value::as_bool) {
        project.is_private = private;
    }
}

/// A project key: letters, digits and underscores, starting with a letter.
fn valid_key(key: Option<&str>) -> Result<String, ApiError> {
    let key = key.unwrap_or_default().trim();
    if key.is_empty() {
        return Err(ApiError::bad_request("key: This field is required.")
            .field("key", "This field is required."));
    }
    let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(
            ApiError::bad_request(format!("Invalid project key: {key}")).field(
                "key",
                "letters, digits and underscores, starting with a letter",
            ),
        );
    }
    Ok(key.to_ascii_uppercase())
}

/// Every account is a member of every workspace; the first account owns them.
fn membership(app: &Shared, store: &Store, ws: &Workspace, user: usize, permission: bool) -> Value {
    let mut value = json!({
        "type": "workspace_membership",
        "user": app.urls.user(&store.users[user]),
        "workspace": app.urls.workspace_summary(ws),
        "links": {
            "self": href(format!(
                "{}/workspaces/{}/members/{}",
                app.urls.api,
                ws.slug,
                crate::render::escape(&store.users[user].uuid)
            )),
        },
    });
    if permission {
        value["permission"] = json!(if user == 0 { "owner" } else { "member" });
    }
    value
}

pub(super) async fn list_members(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let items = (0..store.users.len())
        .map(|u| membership(&app, &store, ws, u, false))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_member(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let id = param(&params, "member");
    let user = store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("Member {id}")))?;
    ok(membership(&app, &store, ws, user, false))
}

/// The members with their permission (`owner` for the first account, `member` for the
/// others); `q` filters (`permission="owner"`).
pub(super) async fn list_permissions(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let items = (0..store.users.len())
        .map(|u| membership(&app, &store, ws, u, true))
        .collect();
    numbered(&app, &uri, items)
}
