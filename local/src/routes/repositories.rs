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
