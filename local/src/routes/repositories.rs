//! `/repositories/{workspace}` and `/repositories/{workspace}/{repo_slug}`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Map, Value, json};

use super::{
    Answer, Caller, Params, Shared, body, emit, numbered, ok, param, repo, text, workspace,
};
use crate::errors::ApiError;
use crate::store::Repo;

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let ws = workspace(&store, &params)?;
    let items = store
        .repos
        .iter()
        .filter(|r| r.workspace == ws.slug)
        .map(|r| app.urls.repo(&store, r))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    ok(app.urls.repo(&store, repo(&store, &params)?))
}

pub(super) async fn create(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let slug = param(&params, "repo_slug");
    let mut store = app.store();
    let ws = workspace(&store, &params)?.slug.clone();
    if store.repo(&ws, slug).is_some() {
        return Err(ApiError::bad_request(
            "Repository with this Slug and Owner already exists.",
        ));
    }
    validate_slug(slug)?;
    if let Some(scm) = text(&request, "/scm")
        && scm != "git"
    {
        return Err(ApiError::bad_request("Only git repositories are supported")
            .field("scm", "Bitbucket Cloud hosts git repositories only"));
    }
    let project = text(&request, "/project/key").map(str::to_string);
    let repo = store
        .create_repo(&ws, &slug.to_ascii_lowercase(), project.as_deref())
        .map_err(|e| ApiError::bad_request(e.clone()).field("project", &e))?;
    apply(repo, &request)?;
    let index = store.repos.len() - 1;
    ok(app.urls.repo(&store, &store.repos[index]))
}

/// Changes the fields the body sets (creating the repository when it does not exist); hooks get
/// `repo:updated` with the `changes` of the fields Bitbucket reports.
pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let slug = param(&params, "repo_slug");
    let mut store = app.store();
    let ws = workspace(&store, &params)?.slug.clone();
    // PUT creates the repository when it does not exist, as Bitbucket's does.
    let (index, status) = match store.repo_index(&ws, slug) {
        Some(index) => (index, StatusCode::OK),
        None => {
            validate_slug(slug)?;
            let project = text(&request, "/project/key").map(str::to_string);
            store
                .create_repo(&ws, &slug.to_ascii_lowercase(), project.as_deref())
                .map_err(|e| ApiError::bad_request(e.clone()).field("project", &e))?;
            (store.repos.len() - 1, StatusCode::CREATED)
        }
    };
    if let Some(key) = text(&request, "/project/key") {
        let key = workspace(&store, &params)?
            .project(key)
            .map(|p| p.key.clone())
            .ok_or_else(|| {
                ApiError::bad_request(format!("Project {key} not found"))
                    .field("project", "no such project in this workspace")
            })?;
        store.repos[index].project_key = key;
    }
    let repo = &mut store.repos[index];
    let before = reported(repo);
    apply(repo, &request)?;
    repo.updated_on = crate::clock::now();
    let after = reported(repo);
    let changes: Map<String, Value> = before
        .into_iter()
        .zip(after)
        .filter(|((_, old), (_, new))| old != new)
        .map(|((name, old), (_, new))| (name.to_string(), json!({ "old": old, "new": new })))
        .collect();
    if status == StatusCode::OK && !changes.is_empty() {
        emit(
            &app,
            &store,
            index,
            caller.user,
            EventKey::RepoUpdated,
            json!({ "changes": changes }),
        );
    }
    let value = app.urls.repo(&store, &store.repos[index]);
    Ok((status, axum::Json(value)).into_response())
}

/// The fields whose changes a `repo:updated` delivery reports, by Bitbucket's names.
fn reported(repo: &Repo) -> [(&'static str, Value); 3] {
    [
        ("name", json!(repo.name)),
        ("description", json!(repo.description)),
        ("language", json!(repo.language)),
    ]
}

/// Sets the fields of `request` a client may change.
fn apply(repo: &mut Repo, request: &Value) -> Result<(), ApiError> {
    if let Some(v) = text(request, "/description") {
        repo.description = v.to_string();
    }
    if let Some(v) = text(request, "/name") {
        repo.name = v.to_string();
    }
    if let Some(v) = text(request, "/language") {
        repo.language = v.to_string();
    }
    if let Some(v) = request.get("is_private").and_then(Value::as_bool) {
        repo.is_private = v;
    }
    if let Some(v) = request.get("has_issues").and_then(Value::as_bool) {
        repo.has_issues = v;
    }
    if let Some(v) = request.get("has_wiki").and_then(Value::as_bool) {
        repo.has_wiki = v;
    }
    if let Some(v) = text(request, "/fork_policy") {
        if !["allow_forks", "no_public_forks", "no_forks"].contains(&v) {
            return Err(
                ApiError::bad_request(format!("Invalid fork_policy: {v}")).field(
                    "fork_policy",
                    "one of allow_forks, no_public_forks, no_forks",
                ),
            );
        }
        repo.fork_policy = v.to_string();
    }
    if let Some(name) = text(request, "/mainbranch/name") {
        if !repo.branches.contains_key(name) {
            return Err(ApiError::bad_request(format!("Branch {name} not found"))
                .field("mainbranch", "the main branch must be an existing branch"));
        }
        repo.mainbranch = Some(name.to_string());
    }
    Ok(())
}

fn validate_slug(slug: &str) -> Result<(), ApiError> {
    let valid = !slug.is_empty()
        && slug.len() <= 62
        && slug
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if valid {
        Ok(())
    } else {
        Err(
            ApiError::bad_request(format!("Invalid repository slug: {slug}")).field(
                "slug",
                "letters, digits, '-', '_' and '.' only, at most 62 characters",
            ),
        )
    }
}

/// Deletes the repository and everything in it: `204`.
pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = super::repo_index(&store, &params)?;
    let removed = store.repos.remove(index);
    let owner = crate::store::KeyOwner::Repo(removed.uuid.clone());
    store.keys.retain(|k| k.owner != owner);
    // Forks stay, no longer pointing at a parent that is gone.
    for repo in &mut store.repos {
        if repo
            .parent
            .as_ref()
            .is_some_and(|(_, _, uuid)| *uuid == removed.uuid)
        {
            repo.parent = None;
        }
    }
    super::no_content()
}

/// Forks the repository: a copy of its commits, branches and tags in `workspace.slug` (the
/// same workspace unless set) named `name` (the same name unless set), with `parent` pointing
/// back. Hooks of the original get `repo:fork`.
pub(super) async fn fork(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = super::repo_index(&store, &params)?;
    let source = &store.repos[index];
    let is_private = request
        .get("is_private")
        .and_then(Value::as_bool)
        .unwrap_or(source.is_private);
    match source.fork_policy.as_str() {
        "no_forks" => {
            return Err(ApiError::bad_request(
                "Forking is disabled for this repository (fork_policy: no_forks)",
            ));
        }
        "no_public_forks" if !is_private => {
            return Err(ApiError::bad_request(
                "This repository allows private forks only (fork_policy: no_public_forks)",
            )
            .field("is_private", "a fork of this repository must be private"));
        }
        _ => {}
    }
    let workspace = text(&request, "/workspace/slug")
        .unwrap_or(&source.workspace)
        .to_string();
    let name = text(&request, "/name").unwrap_or(&source.slug).to_string();
    let slug = name.to_ascii_lowercase().replace(' ', "-");
    validate_slug(&slug)?;
    if store.workspace(&workspace).is_none() {
        return Err(
            ApiError::bad_request(format!("Workspace {workspace} not found"))
                .field("workspace", "no such workspace"),
        );
    }
    if store.repo(&workspace, &slug).is_some() {
        return Err(ApiError::bad_request(
            "Repository with this Slug and Owner already exists.",
        ));
    }
    let source = &store.repos[index];
    let parent = (
        source.workspace.clone(),
        source.slug.clone(),
        source.uuid.clone(),
    );
    let (commits, commit_seq, branches, tags, mainbranch, description, language) = (
        source.commits.clone(),
        source.commit_seq,
        source.branches.clone(),
        source.tags.clone(),
        source.mainbranch.clone(),
        source.description.clone(),
        source.language.clone(),
    );
    let fork = store
        .create_repo(&workspace, &slug, None)
        .map_err(ApiError::bad_request)?;
    fork.commits = commits;
    fork.commit_seq = commit_seq;
    fork.branches = branches;
    fork.tags = tags;
    fork.mainbranch = mainbranch;
    fork.description = description;
    fork.language = language;
    fork.parent = Some(parent);
    fork.name = name;
    fork.is_private = is_private;
    fork.watchers = vec![caller.user];
    if let Some(description) = text(&request, "/description") {
        fork.description = description.to_string();
    }
    let value = app
        .urls
        .repo(&store, store.repos.last().expect("just created"));
    emit(
        &app,
        &store,
        index,
        caller.user,
        EventKey::RepoFork,
        json!({ "fork": value }),
    );
    let mut response = (StatusCode::CREATED, axum::Json(value.clone())).into_response();
    if let Some(location) = text(&value, "/links/self/href")
        .and_then(|href| axum::http::HeaderValue::from_str(href).ok())
    {
        response
            .headers_mut()
            .insert(axum::http::header::LOCATION, location);
    }
    Ok(response)
}

pub(super) async fn list_forks(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let source = repo(&store, &params)?;
    let items = store
        .repos
        .iter()
        .filter(|r| {
            r.parent
                .as_ref()
                .is_some_and(|(_, _, uuid)| *uuid == source.uuid)
        })
        .map(|r| app.urls.repo(&store, r))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn list_watchers(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .watchers
        .iter()
        .map(|u| app.urls.user(&store.users[*u]))
        .collect();
    numbered(&app, &uri, items)
}
