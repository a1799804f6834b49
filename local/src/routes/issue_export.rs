//! Issue exports (`POST …/issues/export`, then polling `…/issues/export/{repo}-issues-{task}.zip`):
//! the job is accepted, starts, and succeeds, one phase each time its status is read (as
//! pipelines advance), so a client's polling loop runs as against Bitbucket. Exporting needs
//! `admin` on the repository. The archive itself is not produced: the status is what the API
//! answers.

use axum::Extension;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::issues::tracker;
use super::{Answer, Caller, Params, Shared, param};
use crate::errors::ApiError;
use crate::ids;
use crate::store::{IssueExport, Store};

/// `POST …/issues/export`: `202`, with the `Location` to poll.
pub(super) async fn export(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = administered(&store, &params, caller)?;
    let repo = &mut store.repos[index];
    let task_id = ids::hex(&uuid::Uuid::new_v4().as_bytes()[..8]);
    let total = u64::try_from(repo.issues.len()).unwrap_or(u64::MAX);
    repo.issue_exports.push(IssueExport {
        task_id: task_id.clone(),
        total,
        polls: 0,
    });
    let location = format!(
        "{}/issues/export/{}-issues-{task_id}.zip",
        app.urls.repo_api(repo),
        repo.slug
    );
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)]).into_response())
}

/// `GET …/issues/export/{repo_name}-issues-{task_id}.zip`: `202` `ACCEPTED`, then `202`
/// `STARTED` half done, then `200` `SUCCESS`; 404 for a job that was never started.
pub(super) async fn status(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = administered(&store, &params, caller)?;
    let repo = &mut store.repos[index];
    let name = param(&params, "repo_name");
    let task = param(&params, "task_id");
    let job = repo
        .issue_exports
        .iter_mut()
        .find(|j| j.task_id == task)
        .filter(|_| crate::ids::same(name, &repo.slug))
        .ok_or_else(|| ApiError::not_found("Export job"))?;
    job.polls = job.polls.saturating_add(1);
    let (status, phase, count) = match job.polls {
        1 => ("ACCEPTED", "Initializing", 0),
        2 => ("STARTED", "Attachments", job.total / 2),
        _ => ("SUCCESS", "Finished", job.total),
    };
    let pct = if job.total == 0 {
        if status == "SUCCESS" { 100.0 } else { 0.0 }
    } else {
        (count as f64) * 100.0 / (job.total as f64)
    };
    let code = if status == "SUCCESS" {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let body = json!({
        "type": "issue_job_status",
        "status": status,
        "phase": phase,
        "total": job.total,
        "count": count,
        "pct": pct,
    });
    Ok((code, axum::Json(body)).into_response())
}

/// The repository's index, when its tracker is on and `caller` is its admin (exports need
/// it: 403 otherwise).
fn administered(store: &Store, params: &Params, caller: Caller) -> Result<usize, ApiError> {
    let index = tracker(store, params)?;
    if store.repos[index].permission(caller.user) != "admin" {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "Exporting issues needs admin permission on the repository",
        ));
    }
    Ok(index)
}
