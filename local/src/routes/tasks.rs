//! Pull request tasks (`/pullrequests/{id}/tasks`): a to-do on a pull request, alone or on a
//! comment, `UNRESOLVED` until someone resolves it.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::pullrequests::pull;
use super::{
    Answer, Caller, Params, Shared, body, created, no_content, numbered, ok, param, repo,
    repo_index, text,
};
use crate::clock;
use crate::errors::ApiError;
use crate::render::{Urls, href, html_escape};
use crate::store::{PullRequest, Repo, Store, Task};

impl Urls {
    pub fn task(&self, store: &Store, repo: &Repo, pr: &PullRequest, task: &Task) -> Value {
        let api = format!(
            "{}/pullrequests/{}/tasks/{}",
            self.repo_api(repo),
            pr.id,
            task.id
        );
        json!({
            "type": "task",
            "id": task.id,
            "state": if task.resolved.is_some() { "RESOLVED" } else { "UNRESOLVED" },
            "content": {
                "type": "rendered",
                "raw": task.raw,
                "markup": "markdown",
                "html": format!("<p>{}</p>", html_escape(&task.raw)),
            },
            "creator": self.user(&store.users[task.creator]),
            "pending": task.pending,
            "created_on": task.created_on,
            "updated_on": task.updated_on,
            "resolved_on": task.resolved.as_ref().map(|(_, date)| date),
            "resolved_by": task.resolved.as_ref().map(|(user, _)| self.user(&store.users[*user])),
            "comment": task.comment.map(|id| json!({
                "type": "pullrequest_comment",
                "id": id,
                "links": { "self": href(format!("{}/pullrequests/{}/comments/{id}", self.repo_api(repo), pr.id)) },
            })),
            "links": {
                "self": href(api),
                "html": href(format!("{}/pull-requests/{}", self.repo_web(repo), pr.id)),
            },
        })
    }
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let items = pr
        .tasks
        .iter()
        .map(|t| app.urls.task(&store, repo, pr, t))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let at = task(pr, &params)?;
    ok(app.urls.task(&store, repo, pr, &pr.tasks[at]))
}

pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let raw = content(&request)?.ok_or_else(|| {
        ApiError::bad_request("content: This field is required.")
            .field("content", "This field is required.")
    })?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let id = repo.next_task_id;
    let at = pull(repo, &params)?;
    let pr = &mut repo.pulls[at];
    let comment = request.pointer("/comment/id").and_then(Value::as_u64);
    if let Some(comment) = comment
        && !pr.comments.iter().any(|c| c.id == comment && !c.deleted)
    {
        return Err(
            ApiError::bad_request(format!("Comment {comment} not found"))
                .field("comment", "no such comment on this pull request"),
        );
    }
    let now = clock::now();
    pr.tasks.push(Task {
        id,
        raw,
        creator: caller.user,
        comment,
        resolved: None,
        pending: request
            .get("pending")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        created_on: now.clone(),
        updated_on: now,
    });
    repo.next_task_id += 1;
    let repo = &store.repos[index];
    let pr = &repo.pulls[at];
    created(
        app.urls
            .task(&store, repo, pr, pr.tasks.last().expect("just pushed")),
    )
}

/// Changes the task's text, or resolves or reopens it (`state`).
pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let raw = content(&request)?;
    let state = text(&request, "/state");
    if let Some(state) = state
        && !matches!(state, "RESOLVED" | "UNRESOLVED")
    {
        return Err(ApiError::bad_request(format!("Invalid state: {state}"))
            .field("state", "RESOLVED or UNRESOLVED"));
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let pr_at = pull(repo, &params)?;
    let pr = &mut repo.pulls[pr_at];
    let at = task(pr, &params)?;
    let task = &mut pr.tasks[at];
    let now = clock::now();
    if let Some(raw) = raw {
        task.raw = raw;
    }
    match state {
        Some("RESOLVED") if task.resolved.is_none() => {
            task.resolved = Some((caller.user, now.clone()));
        }
        Some("UNRESOLVED") => task.resolved = None,
        _ => {}
    }
    task.updated_on = now;
    let repo = &store.repos[index];
    let pr = &repo.pulls[pr_at];
    ok(app.urls.task(&store, repo, pr, &pr.tasks[at]))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let pr_at = pull(repo, &params)?;
    let pr = &mut repo.pulls[pr_at];
    let at = task(pr, &params)?;
    pr.tasks.remove(at);
    no_content()
}

/// `content.raw` of a body: `None` when absent, a 400 when blank.
fn content(request: &Value) -> Result<Option<String>, ApiError> {
    match text(request, "/content/raw") {
        None => Ok(None),
        Some(raw) if raw.trim().is_empty() => Err(ApiError::bad_request(
            "content: This field may not be blank.",
        )
        .field("content", "This field may not be blank.")),
        Some(raw) => Ok(Some(raw.to_string())),
    }
}

fn task(pr: &PullRequest, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "task_id");
    id.parse::<u64>()
        .ok()
        .and_then(|id| pr.tasks.iter().position(|t| t.id == id))
        .ok_or_else(|| ApiError::not_found(format_args!("Task {id}")))
}
