//! Default reviewers, of a repository (`/default-reviewers`) and of a project
//! (`/workspaces/{workspace}/projects/{key}/default-reviewers`): added to every new pull
//! request but its author's own. `/effective-default-reviewers` lists both.

use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, numbered, ok, param, repo, repo_index};
use crate::errors::ApiError;
use crate::store::Store;

/// The default reviewers of repository `index`: its own, then its project's.
pub(crate) fn effective(store: &Store, index: usize) -> Vec<usize> {
    let repo = &store.repos[index];
    let mut users = repo.default_reviewers.clone();
    let project = store
        .workspace(&repo.workspace)
        .and_then(|ws| ws.project(&repo.project_key));
    for user in project.into_iter().flat_map(|p| p.default_reviewers.iter()) {
        if !users.contains(user) {
            users.push(*user);
        }
    }
    users
}

/// The account the path names (`target_username` / `selected_user`), or Bitbucket's 404.
fn account(store: &Store, params: &Params, name: &str) -> Result<usize, ApiError> {
    let id = param(params, name);
    store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .default_reviewers
        .iter()
        .map(|u| app.urls.user(&store.users[*u]))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let user = account(&store, &params, "target_username")?;
    if !repo.default_reviewers.contains(&user) {
        return Err(not_default(&store, user));
    }
    ok(app.urls.user(&store.users[user]))
}

pub(super) async fn add(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let user = account(&store, &params, "target_username")?;
    let list = &mut store.repos[index].default_reviewers;
    if !list.contains(&user) {
        list.push(user);
    }
    ok(app.urls.user(&store.users[user]))
}

pub(super) async fn remove(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let user = account(&store, &params, "target_username")?;
    let list = &mut store.repos[index].default_reviewers;
    let Some(at) = list.iter().position(|u| *u == user) else {
        return Err(not_default(&store, user));
    };
    list.remove(at);
    super::no_content()
}

pub(super) async fn list_effective(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let index = repo_index(&store, &params)?;
    let own = &store.repos[index].default_reviewers;
    let items = effective(&store, index)
        .into_iter()
        .map(|u| {
            json!({
                "type": "default_reviewer_and_type",
                "reviewer_type": if own.contains(&u) { "repository" } else { "project" },
                "user": app.urls.user(&store.users[u]),
            })
        })
        .collect();
    numbered(&app, &uri, items)
}

fn project_entry(app: &Shared, store: &Store, user: usize) -> Value {
    json!({
        "type": "default_reviewer",
        "user": app.urls.user(&store.users[user]),
    })
}

pub(super) async fn list_project(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let (ws, at) = super::project_index(&store, &params)?;
    let items = store.workspaces[ws].projects[at]
        .default_reviewers
        .iter()
        .map(|u| project_entry(&app, &store, *u))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_project(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let (ws, at) = super::project_index(&store, &params)?;
    let user = account(&store, &params, "selected_user")?;
    if !store.workspaces[ws].projects[at]
        .default_reviewers
        .contains(&user)
    {
        return Err(not_default(&store, user));
    }
    ok(app.urls.user(&store.users[user]))
}

pub(super) async fn add_project(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let (ws, at) = super::project_index(&store, &params)?;
    let user = account(&store, &params, "selected_user")?;
    let list = &mut store.workspaces[ws].projects[at].default_reviewers;
    if !list.contains(&user) {
        list.push(user);
    }
    ok(app.urls.user(&store.users[user]))
}

pub(super) async fn remove_project(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let (ws, at) = super::project_index(&store, &params)?;
    let user = account(&store, &params, "selected_user")?;
    let list = &mut store.workspaces[ws].projects[at].default_reviewers;
    let Some(i) = list.iter().position(|u| *u == user) else {
        return Err(not_default(&store, user));
    };
    list.remove(i);
    super::no_content()
}

fn not_default(store: &Store, user: usize) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!(
            "{} is not a default reviewer",
            store.users[user].display_name
        ),
    )
}
