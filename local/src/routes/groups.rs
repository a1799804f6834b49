//! Group permissions on repositories and projects (`…/permissions-config/groups`): what a
//! workspace's groups (made with [`LocalBitbucket::create_group`]) may do. As with accounts'
//! permissions, they are reported, not enforced.
//!
//! [`LocalBitbucket::create_group`]: crate::LocalBitbucket::create_group

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, body, no_content, numbered, ok, param, repo_index, text};
use crate::errors::ApiError;
use crate::render::href;
use crate::store::{Group, Store, Workspace};

const PERMISSIONS: &[&str] = &["admin", "write", "read"];
const PROJECT_PERMISSIONS: &[&str] = &["admin", "create-repo", "write", "read"];

fn group_value(app: &Shared, ws: &Workspace, group: &Group) -> Value {
    json!({
        "type": "group",
        "slug": group.slug,
        "name": group.name,
        "full_slug": format!("{}:{}", ws.slug, group.slug),
        "workspace": app.urls.workspace_summary(ws),
    })
}

/// The group the path names (`group_slug`) in workspace `ws`, or Bitbucket's 404.
fn group<'a>(ws: &'a Workspace, params: &Params) -> Result<&'a Group, ApiError> {
    let slug = param(params, "group_slug");
    ws.groups
        .iter()
        .find(|g| crate::ids::same(&g.slug, slug))
        .ok_or_else(|| ApiError::not_found(format_args!("Group {slug}")))
}

/// The `permission` of a request body, one of `allowed`.
fn permission(bytes: &Bytes, allowed: &[&str]) -> Result<String, ApiError> {
    let request = body(bytes)?;
    match text(&request, "/permission") {
        Some(p) if allowed.contains(&p) => Ok(p.to_string()),
        other => Err(ApiError::bad_request(format!(
            "Invalid permission: {:?}",
            other.unwrap_or("")
        ))
        .field("permission", &allowed.join(", "))),
    }
}

// ---------------------------------------------------------------------------------------------
// Repositories
// ---------------------------------------------------------------------------------------------

fn repo_entry(app: &Shared, store: &Store, index: usize, slug: &str) -> Value {
    let repo = &store.repos[index];
    let Some(ws) = store.workspace(&repo.workspace) else {
        return Value::Null;
    };
    let Some(group) = ws.groups.iter().find(|g| g.slug == slug) else {
        return Value::Null;
    };
    let permission = repo
        .group_permissions
        .iter()
        .find(|(g, _)| g == slug)
        .map(|(_, p)| p.as_str())
        .unwrap_or_default();
    json!({
        "type": "repository_group_permission",
        "permission": permission,
        "group": group_value(app, ws, group),
        "repository": app.urls.repo_summary(repo),
        "links": {
            "self": href(format!(
                "{}/permissions-config/groups/{}",
                app.urls.repo_api(repo),
                group.slug
            )),
        },
    })
}

/// The repository's index and the group's slug, for the path.
fn repo_group(store: &Store, params: &Params) -> Result<(usize, String), ApiError> {
    let index = repo_index(store, params)?;
    let ws = super::workspace(store, params)?;
    Ok((index, group(ws, params)?.slug.clone()))
}

pub(super) async fn list_repo(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let index = repo_index(&store, &params)?;
    let items = store.repos[index]
        .group_permissions
        .iter()
        .map(|(g, _)| repo_entry(&app, &store, index, g))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_repo(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let (index, slug) = repo_group(&store, &params)?;
    if !store.repos[index]
        .group_permissions
        .iter()
        .any(|(g, _)| *g == slug)
    {
        return Err(ApiError::not_found(format_args!(
            "Explicit permission for group {slug}"
        )));
    }
    ok(repo_entry(&app, &store, index, &slug))
}

/// `PUT` with `{"permission": "admin" | "write" | "read"}`.
pub(super) async fn update_repo(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let permission = permission(&bytes, PERMISSIONS)?;
    let mut store = app.store();
    let (index, slug) = repo_group(&store, &params)?;
    let list = &mut store.repos[index].group_permissions;
    match list.iter_mut().find(|(g, _)| *g == slug) {
        Some(entry) => entry.1 = permission,
        None => list.push((slug.clone(), permission)),
    }
    ok(repo_entry(&app, &store, index, &slug))
}

pub(super) async fn delete_repo(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let (index, slug) = repo_group(&store, &params)?;
    let list = &mut store.repos[index].group_permissions;
    let before = list.len();
    list.retain(|(g, _)| *g != slug);
    if list.len() == before {
        return Err(ApiError::not_found(format_args!(
            "Explicit permission for group {slug}"
        )));
    }
    no_content()
}

// ---------------------------------------------------------------------------------------------
// Projects
// ---------------------------------------------------------------------------------------------

fn project_entry(app: &Shared, store: &Store, (ws, at): (usize, usize), slug: &str) -> Value {
    let workspace = &store.workspaces[ws];
    let project = &workspace.projects[at];
    let Some(group) = workspace.groups.iter().find(|g| g.slug == slug) else {
        return Value::Null;
    };
    let permission = project
        .group_permissions
        .iter()
        .find(|(g, _)| g == slug)
        .map(|(_, p)| p.as_str())
        .unwrap_or_default();
    json!({
        "type": "project_group_permission",
        "permission": permission,
        "group": group_value(app, workspace, group),
        "project": app.urls.project(workspace, &project.key),
        "links": {
            "self": href(format!(
                "{}/workspaces/{}/projects/{}/permissions-config/groups/{}",
                app.urls.api, workspace.slug, project.key, group.slug
            )),
        },
    })
}

fn project_group(store: &Store, params: &Params) -> Result<((usize, usize), String), ApiError> {
    let found = super::project_index(store, params)?;
    let slug = group(&store.workspaces[found.0], params)?.slug.clone();
    Ok((found, slug))
}

pub(super) async fn list_project(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let found = super::project_index(&store, &params)?;
    let items = store.workspaces[found.0].projects[found.1]
        .group_permissions
        .iter()
        .map(|(g, _)| project_entry(&app, &store, found, g))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_project(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let (found, slug) = project_group(&store, &params)?;
    if !store.workspaces[found.0].projects[found.1]
        .group_permissions
        .iter()
        .any(|(g, _)| *g == slug)
    {
        return Err(ApiError::not_found(format_args!(
            "Explicit permission for group {slug}"
        )));
    }
    ok(project_entry(&app, &store, found, &slug))
}

/// `PUT` with `{"permission": "admin" | "create-repo" | "write" | "read"}`.
pub(super) async fn update_project(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let permission = permission(&bytes, PROJECT_PERMISSIONS)?;
    let mut store = app.store();
    let (found, slug) = project_group(&store, &params)?;
    let list = &mut store.workspaces[found.0].projects[found.1].group_permissions;
    match list.iter_mut().find(|(g, _)| *g == slug) {
        Some(entry) => entry.1 = permission,
        None => list.push((slug.clone(), permission)),
    }
    ok(project_entry(&app, &store, found, &slug))
}

pub(super) async fn delete_project(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let (found, slug) = project_group(&store, &params)?;
    let list = &mut store.workspaces[found.0].projects[found.1].group_permissions;
    let before = list.len();
    list.retain(|(g, _)| *g != slug);
    if list.len() == before {
        return Err(ApiError::not_found(format_args!(
            "Explicit permission for group {slug}"
        )));
    }
    no_content()
}
