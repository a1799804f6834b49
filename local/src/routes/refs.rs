//! `/repositories/{workspace}/{repo_slug}/refs/branches`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;

use super::{
    Answer, Caller, Params, Shared, body, created, emit_push, no_content, numbered, ok, param,
    repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::seed::push_change;

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .branches
        .keys()
        .map(|name| app.urls.branch(&store, repo, name))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let name = param(&params, "name");
    if !repo.branches.contains_key(name) {
        return Err(ApiError::not_found(format_args!("Branch {name}")));
    }
    ok(app.urls.branch(&store, repo, name))
}

/// Creating a branch is a push: hooks get `repo:push` with a `created` change.
pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = text(&request, "/name")
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("Branch name is required")
            .field("name", "This field is required."));
    }
    if name.contains("..") || name.starts_with('/') || name.ends_with('/') || name.contains(' ') {
        return Err(
            ApiError::bad_request(format!("Invalid branch name: {name}"))
                .field("name", "not a valid git branch name"),
        );
    }
    let Some(target) = text(&request, "/target/hash") else {
        return Err(ApiError::bad_request("target.hash is required")
            .field("target", "the commit the branch starts at (target.hash)"));
    };
    let repo = &mut store.repos[index];
    if repo.branches.contains_key(&name) {
        return Err(ApiError::bad_request(format!(
            "Branch \"{name}\" already exists."
        )));
    }
    let hash = repo.resolve(target).ok_or_else(|| {
        ApiError::bad_request(format!("Commit {target} not found"))
            .field("target", "no such commit")
    })?;
    repo.branches.insert(name.clone(), hash.clone());
    if repo.mainbranch.is_none() {
        repo.mainbranch = Some(name.clone());
    }
    let change = push_change(&app.urls, &store, index, &name, None, Some(&hash));
    emit_push(&app, &store, index, caller.user, vec![change]);
    created(app.urls.branch(&store, &store.repos[index], &name))
}

/// Deleting a branch is a push too: `repo:push` with a `closed` change.
pub(super) async fn delete(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = param(&params, "name");
    let repo = &store.repos[index];
    let Some(old) = repo.branches.get(name).cloned() else {
        return Err(ApiError::not_found(format_args!("Branch {name}")));
    };
    if repo.mainbranch.as_deref() == Some(name) {
        return Err(ApiError::bad_request(format!(
            "Cannot delete the main branch {name}: make another branch the main branch first"
        )));
    }
    let change = push_change(&app.urls, &store, index, name, Some(&old), None);
    store.repos[index].branches.remove(name);
    emit_push(&app, &store, index, caller.user, vec![change]);
    no_content()
}
