//! One pull request comment: get, edit, delete, resolve and reopen its thread
//! (`/pullrequests/{id}/comments/{comment_id}`). Edits and deletions send
//! `pullrequest:comment_updated` and `:comment_deleted`; resolving and reopening
//! `:comment_resolved` and `:comment_reopened`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::json;

use super::pullrequests::pull;
use super::{Answer, Caller, Params, Shared, body, emit, no_content, ok, param, repo, repo_index};
use crate::errors::ApiError;
use crate::store::{PullRequest, Store};
use crate::{App, clock};

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let at = comment(pr, &params)?;
    ok(app.urls.comment(&store, repo, pr, &pr.comments[at]))
}

/// Changes the comment's text: only its author may.
pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let Some(raw) = super::text(&request, "/content/raw") else {
        return Err(ApiError::bad_request("content: This field is required.")
            .field("content", "This field is required."));
    };
    if raw.trim().is_empty() {
        return Err(
            ApiError::bad_request("content: This field may not be blank.")
                .field("content", "This field may not be blank."),
        );
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let pr_at = pull(&store.repos[index], &params)?;
    let pr = &mut store.repos[index].pulls[pr_at];
    let at = live_comment(pr, &params)?;
    let c = &mut pr.comments[at];
    if c.user != caller.user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You can only edit your own comments.",
        ));
    }
    c.raw = raw.to_string();
    c.updated_on = clock::now();
    answer_and_emit(
        &app,
        &store,
        index,
        pr_at,
        at,
        caller.user,
        EventKey::PullrequestCommentUpdated,
        StatusCode::OK,
    )
}

/// Deletes the comment: it stays in the list, `deleted` and without content, as on
/// Bitbucket, and its tasks go with it.
pub(super) async fn delete(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let pr_at = pull(&store.repos[index], &params)?;
    let pr = &mut store.repos[index].pulls[pr_at];
    let at = live_comment(pr, &params)?;
    let c = &mut pr.comments[at];
    if c.user != caller.user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You can only delete your own comments.",
        ));
    }
    c.deleted = true;
    c.raw.clear();
    c.updated_on = clock::now();
    let id = c.id;
    pr.tasks.retain(|t| t.comment != Some(id));
    answer_and_emit(
        &app,
        &store,
        index,
        pr_at,
        at,
        caller.user,
        EventKey::PullrequestCommentDeleted,
        StatusCode::NO_CONTENT,
    )
}

/// Resolves a top-level comment's thread: the comment with its `resolution`.
pub(super) async fn resolve(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let pr_at = pull(&store.repos[index], &params)?;
    let pr = &mut store.repos[index].pulls[pr_at];
    let at = live_comment(pr, &params)?;
    let c = &mut pr.comments[at];
    if c.parent.is_some() {
        return Err(ApiError::bad_request(
            "Only a top-level comment's thread can be resolved",
        ));
    }
    if c.resolution.is_some() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "This comment thread is already resolved.",
        ));
    }
    c.resolution = Some((caller.user, clock::now()));
    let store = &store;
    let repo = &store.repos[index];
    let pr = &repo.pulls[pr_at];
    let value = app.urls.comment(store, repo, pr, &pr.comments[at]);
    emit(
        &app,
        store,
        index,
        caller.user,
        EventKey::PullrequestCommentResolved,
        json!({ "pullrequest": app.urls.pull(store, repo, pr), "comment": value }),
    );
    ok(value["resolution"].clone())
}

/// Reopens a resolved thread: `204`.
pub(super) async fn reopen(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let pr_at = pull(&store.repos[index], &params)?;
    let pr = &mut store.repos[index].pulls[pr_at];
    let at = live_comment(pr, &params)?;
    if pr.comments[at].resolution.take().is_none() {
        return Err(ApiError::not_found("Comment resolution"));
    }
    answer_and_emit(
        &app,
        &store,
        index,
        pr_at,
        at,
        caller.user,
        EventKey::PullrequestCommentReopened,
        StatusCode::NO_CONTENT,
    )
}

/// Where in `pr.comments` the comment the path names is.
fn comment(pr: &PullRequest, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "comment_id");
    id.parse::<u64>()
        .ok()
        .and_then(|id| pr.comments.iter().position(|c| c.id == id))
        .ok_or_else(|| ApiError::not_found(format_args!("Comment {id}")))
}

/// Like [`comment`], for changes: a deleted comment is gone.
fn live_comment(pr: &PullRequest, params: &Params) -> Result<usize, ApiError> {
    let at = comment(pr, params)?;
    if pr.comments[at].deleted {
        return Err(ApiError::not_found(format_args!(
            "Comment {}",
            pr.comments[at].id
        )));
    }
    Ok(at)
}

/// Sends `event` for comment `at` and answers it (or `204` with `status` so).
#[allow(clippy::too_many_arguments)]
fn answer_and_emit(
    app: &App,
    store: &Store,
    index: usize,
    pr_at: usize,
    at: usize,
    actor: usize,
    event: EventKey,
    status: StatusCode,
) -> Answer {
    let repo = &store.repos[index];
    let pr = &repo.pulls[pr_at];
    let value = app.urls.comment(store, repo, pr, &pr.comments[at]);
    emit(
        app,
        store,
        index,
        actor,
        event,
        json!({ "pullrequest": app.urls.pull(store, repo, pr), "comment": value }),
    );
    if status == StatusCode::NO_CONTENT {
        no_content()
    } else {
        ok(value)
    }
}
