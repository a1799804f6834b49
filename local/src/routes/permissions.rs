//! Who may do what: repository permissions (`/permissions-config/users`, and the lists under
//! `/workspaces/{workspace}/permissions/repositories` and `/user/permissions/...`), the
//! workspaces the caller can reach, and the caller's email addresses.
//!
//! Every account is a member of every workspace; the first account owns them (`owner`,
//! `admin` on every repository), the others are members with `write` on every repository
//! unless a permission is set explicitly.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, body, no_content, numbered, ok, param, repo, repo_index, text,
    workspace,
};
use crate::errors::ApiError;
use crate::render::href;
use crate::store::{Repo, Store};

const PERMISSIONS: &[&str] = &["admin", "write", "read"];

fn entry(app: &Shared, store: &Store, repo: &Repo, user: usize) -> Value {
    json!({
        "type": "repository_permission",
        "permission": repo.permission(user),
        "user": app.urls.user(&store.users[user]),
        "repository": app.urls.repo_summary(repo),
    })
}

/// The explicit permission entry, as `/permissions-config/users` answers it.
fn explicit(app: &Shared, store: &Store, repo: &Repo, user: usize) -> Value {
    let mut value = json!({
        "type": "repository_user_permission",
        "permission": repo.permission(user),
        "user": app.urls.user(&store.users[user]),
        "links": {
            "self": href(format!(
                "{}/permissions-config/users/{}",
                app.urls.repo_api(repo),
                store.users[user].account_id
            )),
        },
    });
    value["repository"] = app.urls.repo_summary(repo);
    value
}

fn account(store: &Store, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "selected_user_id");
    store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))
}

/// `GET /permissions-config/users`: the permissions given explicitly.
pub(super) async fn list_users(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .user_permissions
        .iter()
        .map(|(u, _)| explicit(&app, &store, repo, *u))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_user(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let user = account(&store, &params)?;
    if !repo.user_permissions.iter().any(|(u, _)| *u == user) {
        return Err(ApiError::not_found(format_args!(
            "Explicit permission for {}",
            store.users[user].display_name
        )));
    }
    ok(explicit(&app, &store, repo, user))
}

/// `PUT` with `{"permission": "admin" | "write" | "read"}`.
pub(super) async fn update_user(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let permission = text(&request, "/permission").unwrap_or_default();
    if !PERMISSIONS.contains(&permission) {
        return Err(
            ApiError::bad_request(format!("Invalid permission: {permission:?}"))
                .field("permission", "admin, write or read"),
        );
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let user = account(&store, &params)?;
    let list = &mut store.repos[index].user_permissions;
    match list.iter_mut().find(|(u, _)| *u == user) {
        Some(entry) => entry.1 = permission.to_string(),
        None => list.push((user, permission.to_string())),
    }
    let repo = &store.repos[index];
    ok(explicit(&app, &store, repo, user))
}

pub(super) async fn delete_user(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let user = account(&store, &params)?;
    let list = &mut store.repos[index].user_permissions;
    let before = list.len();
    list.retain(|(u, _)| *u != user);
    if list.len() == before {
        return Err(ApiError::not_found("Explicit permission"));
    }
    no_content()
}

/// Every (account, repository) of the workspace, or of one repository of it.
fn workspace_entries(app: &Shared, store: &Store, ws: &str, only: Option<&str>) -> Vec<Value> {
    store
        .repos
        .iter()
        .filter(|r| r.workspace == ws)
        .filter(|r| only.is_none_or(|slug| crate::ids::same(&r.slug, slug)))
        .flat_map(|r| (0..store.users.len()).map(move |u| entry(app, store, r, u)))
        .collect()
}

pub(super) async fn list_workspace_repositories(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?.slug.clone();
    let items = workspace_entries(&app, &store, &ws, None);
    numbered(&app, &uri, items)
}

pub(super) async fn list_repository(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    repo(&store, &params)?;
    let ws = workspace(&store, &params)?.slug.clone();
    let items = workspace_entries(&app, &store, &ws, Some(param(&params, "repo_slug")));
    numbered(&app, &uri, items)
}

/// `GET /user/permissions/repositories`: the caller's permission on every repository.
pub(super) async fn list_mine(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let items = store
        .repos
        .iter()
        .map(|r| entry(&app, &store, r, caller.user))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn list_mine_in_workspace(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?.slug.clone();
    let items = store
        .repos
        .iter()
        .filter(|r| r.workspace == ws)
        .map(|r| entry(&app, &store, r, caller.user))
        .collect();
    numbered(&app, &uri, items)
}

/// `GET /workspaces`: every workspace.
pub(super) async fn list_workspaces(State(app): State<Shared>, uri: Uri) -> Answer {
    let store = app.store();
    let items = store
        .workspaces
        .iter()
        .map(|ws| app.urls.workspace(ws))
        .collect();
    numbered(&app, &uri, items)
}

fn membership(app: &Shared, store: &Store, ws: &crate::store::Workspace, user: usize) -> Value {
    json!({
        "type": "workspace_membership",
        "permission": if user == 0 { "owner" } else { "member" },
        "user": app.urls.user(&store.users[user]),
        "workspace": app.urls.workspace(ws),
    })
}

/// `GET /user/permissions/workspaces`: the caller's membership of every workspace.
pub(super) async fn list_my_workspaces(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let items = store
        .workspaces
        .iter()
        .map(|ws| membership(&app, &store, ws, caller.user))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn my_workspace_permission(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    ok(membership(&app, &store, ws, caller.user))
}

fn email(address: &str) -> Value {
    json!({
        "type": "email",
        "email": address,
        "is_primary": true,
        "is_confirmed": true,
    })
}

/// `GET /user/emails`: the account's one address.
pub(super) async fn list_emails(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let items = vec![email(&store.users[caller.user].email)];
    numbered(&app, &uri, items)
}

pub(super) async fn get_email(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let store = app.store();
    let wanted = param(&params, "email");
    let own = &store.users[caller.user].email;
    if !own.eq_ignore_ascii_case(wanted) {
        return Err(ApiError::not_found(format_args!("Email {wanted}")));
    }
    ok(email(own))
}

const PROJECT_PERMISSIONS: &[&str] = &["admin", "create-repo", "write", "read"];

fn project_entry(app: &Shared, store: &Store, (ws, at): (usize, usize), user: usize) -> Value {
    let workspace = &store.workspaces[ws];
    let project = &workspace.projects[at];
    let permission = project
        .user_permissions
        .iter()
        .find(|(u, _)| *u == user)
        .map(|(_, p)| p.as_str())
        .unwrap_or_default();
    json!({
        "type": "project_user_permission",
        "permission": permission,
        "user": app.urls.user(&store.users[user]),
        "project": app.urls.project(workspace, &project.key),
        "links": {
            "self": href(format!(
                "{}/workspaces/{}/projects/{}/permissions-config/users/{}",
                app.urls.api, workspace.slug, project.key, store.users[user].account_id
            )),
        },
    })
}

pub(super) async fn list_project_users(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let found = super::project_index(&store, &params)?;
    let items = store.workspaces[found.0].projects[found.1]
        .user_permissions
        .iter()
        .map(|(u, _)| project_entry(&app, &store, found, *u))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_project_user(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let found = super::project_index(&store, &params)?;
    let user = account(&store, &params)?;
    if !store.workspaces[found.0].projects[found.1]
        .user_permissions
        .iter()
        .any(|(u, _)| *u == user)
    {
        return Err(ApiError::not_found("Explicit permission"));
    }
    ok(project_entry(&app, &store, found, user))
}

pub(super) async fn update_project_user(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let permission = text(&request, "/permission").unwrap_or_default();
    if !PROJECT_PERMISSIONS.contains(&permission) {
        return Err(
            ApiError::bad_request(format!("Invalid permission: {permission:?}"))
                .field("permission", "admin, create-repo, write or read"),
        );
    }
    let mut store = app.store();
    let found = super::project_index(&store, &params)?;
    let user = account(&store, &params)?;
    let list = &mut store.workspaces[found.0].projects[found.1].user_permissions;
    match list.iter_mut().find(|(u, _)| *u == user) {
        Some(entry) => entry.1 = permission.to_string(),
        None => list.push((user, permission.to_string())),
    }
    ok(project_entry(&app, &store, found, user))
}

pub(super) async fn delete_project_user(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let found = super::project_index(&store, &params)?;
    let user = account(&store, &params)?;
    let list = &mut store.workspaces[found.0].projects[found.1].user_permissions;
    let before = list.len();
    list.retain(|(u, _)| *u != user);
    if list.len() == before {
        return Err(ApiError::not_found("Explicit permission"));
    }
    no_content()
}

/// `GET /repositories`: every public repository.
pub(super) async fn list_public(State(app): State<Shared>, uri: Uri) -> Answer {
    let store = app.store();
    let items = store
        .repos
        .iter()
        .filter(|r| !r.is_private)
        .map(|r| app.urls.repo(&store, r))
        .collect();
    numbered(&app, &uri, items)
}
