//! Build statuses (`/commit/{commit}/statuses`, `/pullrequests/{id}/statuses`): what CI reports
//! on a commit, one per `key`; reporting a key again updates it. Creating one sends
//! `repo:commit_status_created`, updating one `repo:commit_status_updated`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Value, json};

use super::pullrequests::pull;
use super::{
    Answer, Caller, Params, Shared, body, created, emit, numbered, ok, param, repo, repo_index,
    text,
};
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::store::{CommitStatus, Repo, Store};
use crate::{App, clock, ids};

const STATES: &[&str] = &["SUCCESSFUL", "FAILED", "INPROGRESS", "STOPPED"];

impl Urls {
    pub fn status(&self, repo: &Repo, status: &CommitStatus) -> Value {
        let commit = format!("{}/commit/{}", self.repo_api(repo), status.commit);
        json!({
            "type": "build",
            "uuid": status.uuid,
            "key": status.key,
            "state": status.state,
            "name": status.name,
            "description": status.description,
            "url": status.url,
            "refname": status.refname,
            "commit": self.commit_ref(repo, &status.commit),
            "repository": self.repo_summary(repo),
            "created_on": status.created_on,
            "updated_on": status.updated_on,
            "links": {
                "self": href(format!("{commit}/statuses/build/{}", status.key)),
                "commit": href(commit),
            },
        })
    }
}

use super::commit_hash;

/// The statuses of a commit, newest first; `refname` keeps those reported for that ref (and
/// those reported for none).
pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = super::list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = commit_hash(repo, &params)?;
    let refname = query.get("refname");
    let items = repo
        .statuses
        .iter()
        .rev()
        .filter(|s| s.commit == hash)
        .filter(|s| refname.is_none_or(|r| s.refname.as_deref().is_none_or(|own| own == r)))
        .map(|s| app.urls.status(repo, s))
        .collect();
    numbered(&app, &uri, items)
}

/// The statuses of a pull request: those of its source branch's head.
pub(super) async fn list_for_pull(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let (source, _) = app.urls.live_endpoints(repo, pr);
    let items = repo
        .statuses
        .iter()
        .rev()
        .filter(|s| s.commit == source)
        .map(|s| app.urls.status(repo, s))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = find(repo, &params)?;
    ok(app.urls.status(repo, &repo.statuses[at]))
}

/// Creates a status, or updates the one with the same `key` on the commit (as Bitbucket does:
/// `201` either way).
pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let hash = commit_hash(&store.repos[index], &params)?;
    let mut missing = ApiError::bad_request("Bad request: required fields are missing");
    let mut any = false;
    for field in ["key", "state", "url"] {
        if text(&request, &format!("/{field}")).is_none_or(|v| v.trim().is_empty()) {
            missing = missing.field(field, "This field is required.");
            any = true;
        }
    }
    if any {
        return Err(missing);
    }
    let key = text(&request, "/key").unwrap_or_default().to_string();
    let state = valid_state(&request)?.unwrap_or_default();
    let repo = &mut store.repos[index];
    let now = clock::now();
    let existing = repo
        .statuses
        .iter()
        .position(|s| s.commit == hash && s.key == key);
    let (at, event) = match existing {
        Some(at) => {
            apply(&mut repo.statuses[at], &request, state);
            repo.statuses[at].updated_on = now;
            (at, EventKey::RepoCommitStatusUpdated)
        }
        None => {
            let mut status = CommitStatus {
                uuid: ids::uuid(),
                commit: hash,
                key: key.clone(),
                state: state.clone(),
                name: key,
                description: String::new(),
                url: String::new(),
                refname: None,
                created_on: now.clone(),
                updated_on: now,
            };
            apply(&mut status, &request, state);
            repo.statuses.push(status);
            (repo.statuses.len() - 1, EventKey::RepoCommitStatusCreated)
        }
    };
    let value = app
        .urls
        .status(&store.repos[index], &store.repos[index].statuses[at]);
    emit_status(&app, &store, index, caller.user, event, &value);
    created(value)
}

/// Changes the status with this key: `state`, `name`, `description`, `url`, `refname`.
pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let state = valid_state(&request)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = find(&store.repos[index], &params)?;
    let status = &mut store.repos[index].statuses[at];
    let state = state.unwrap_or_else(|| status.state.clone());
    apply(status, &request, state);
    status.updated_on = clock::now();
    let value = app
        .urls
        .status(&store.repos[index], &store.repos[index].statuses[at]);
    emit_status(
        &app,
        &store,
        index,
        caller.user,
        EventKey::RepoCommitStatusUpdated,
        &value,
    );
    ok(value)
}

fn emit_status(
    app: &App,
    store: &Store,
    index: usize,
    actor: usize,
    event: EventKey,
    value: &Value,
) {
    emit(
        app,
        store,
        index,
        actor,
        event,
        json!({ "commit_status": value }),
    );
}

/// The body's `state`, when it is one Bitbucket knows.
fn valid_state(request: &Value) -> Result<Option<String>, ApiError> {
    match text(request, "/state") {
        None => Ok(None),
        Some(state) if STATES.contains(&state) => Ok(Some(state.to_string())),
        Some(state) => Err(ApiError::bad_request(format!("Invalid state: {state}"))
            .field("state", "one of SUCCESSFUL, FAILED, INPROGRESS, STOPPED")),
    }
}

fn apply(status: &mut CommitStatus, request: &Value, state: String) {
    status.state = state;
    for (field, slot) in [
        ("/name", &mut status.name),
        ("/description", &mut status.description),
        ("/url", &mut status.url),
    ] {
        if let Some(v) = text(request, field) {
            *slot = v.to_string();
        }
    }
    if let Some(v) = text(request, "/refname") {
        status.refname = Some(v.to_string());
    }
}

fn find(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let hash = commit_hash(repo, params)?;
    let key = param(params, "key");
    repo.statuses
        .iter()
        .position(|s| s.commit == hash && s.key == key)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                format!("No status with key {key} on commit {hash}"),
            )
        })
}
