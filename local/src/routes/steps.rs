//! A pipeline step's log. It grows by a line each time it is read while its step runs,
//! answers `Range` requests with what was written since, and once the step is done is a
//! redirect (307) to the storage host, as Bitbucket's is. Reading a log does not move the
//! pipeline: reading the pipeline or its steps does.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::files::{ranged_text, redirect};
use super::pipelines::position;
use super::{Answer, Params, Shared, param, repo};
use crate::errors::ApiError;
use crate::store::{Pipeline, Repo, Stage, Step};
use crate::{App, ids};

/// Where step `at` of `pipeline` is, for its log.
enum Phase {
    NotStarted,
    Running,
    /// Done, with the result the log's last line names.
    Done(&'static str),
}

/// The same reading as `Urls::step_state`: steps before the current one have succeeded.
fn phase(pipeline: &Pipeline, at: usize) -> Phase {
    let last = pipeline.steps.len().saturating_sub(1);
    match pipeline.stage {
        Stage::Pending => Phase::NotStarted,
        Stage::Running if at < pipeline.current_step => Phase::Done("SUCCESSFUL"),
        Stage::Running if at == pipeline.current_step => Phase::Running,
        Stage::Running => Phase::NotStarted,
        Stage::Completed(result) if at == last => Phase::Done(result.as_str()),
        Stage::Completed(_) => Phase::Done("SUCCESSFUL"),
        Stage::Stopped if at < pipeline.current_step => Phase::Done("SUCCESSFUL"),
        Stage::Stopped if at == pipeline.current_step => Phase::Done("STOPPED"),
        Stage::Stopped => Phase::NotStarted,
    }
}

/// The log's first lines: the clone, then the step's commands.
fn header(pipeline: &Pipeline, repo: &Repo, step: &Step) -> String {
    let mut text = format!(
        "+ git clone --branch=\"{}\" --depth 50 {} $BUILD_DIR\n",
        pipeline.ref_name,
        repo.full_name()
    );
    for command in &step.script {
        text.push_str(&format!("+ {command}\n"));
    }
    text
}

/// `get_pipeline_step_log`: 404 before the step starts, a line more on each read while it
/// runs (the part a `Range` asks for), and once it is done a 307 to the whole log on the
/// storage host.
pub(super) async fn log(State(app): State<Shared>, params: Params, headers: HeaderMap) -> Answer {
    step_log(&app, &params, &headers)
}

/// `get_pipeline_step_container_log`: the log of one of a step's containers. A step here runs
/// in its build container alone, whose log is the step's (`log_uuid` is the step's `{uuid}`,
/// as Bitbucket names it); there are no service containers, so any other `log_uuid` is 404.
pub(super) async fn container_log(
    State(app): State<Shared>,
    params: Params,
    headers: HeaderMap,
) -> Answer {
    let step = param(&params, "step_uuid");
    let log = param(&params, "log_uuid");
    if !ids::same_uuid(step, log) {
        return Err(ApiError::not_found(format_args!("Log {log}")));
    }
    step_log(&app, &params, &headers)
}

fn step_log(app: &App, params: &Params, headers: &HeaderMap) -> Answer {
    let store = app.store();
    let repo = repo(&store, params)?;
    let pipeline = &repo.pipelines[position(repo, params)?];
    let id = param(params, "step_uuid");
    let at = pipeline
        .steps
        .iter()
        .position(|s| ids::same_uuid(&s.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Step {id}")))?;
    let step = &pipeline.steps[at];
    let mut blobs = app.blobs();
    let log = blobs.log(&step.uuid);
    match phase(pipeline, at) {
        Phase::NotStarted => Err(ApiError::not_found("Log")),
        Phase::Running => {
            log.lines = log.lines.saturating_add(1);
            if log.lines == 1 {
                log.text.push_str(&header(pipeline, repo, step));
            }
            log.text.push_str(&format!(
                "{}: {} lines of output\n",
                step.name,
                log.lines.saturating_mul(7)
            ));
            Ok(ranged_text(headers, log.text.clone()))
        }
        Phase::Done(result) => {
            if !log.sealed {
                log.sealed = true;
                // A step that ran unobserved still wrote its commands.
                if log.text.is_empty() {
                    log.text.push_str(&header(pipeline, repo, step));
                }
                log.text.push_str(&format!("\nBuild finished: {result}\n"));
            }
            let text = log.text.clone();
            let name = format!("step-{}.log", step.uuid.trim_matches(['{', '}']));
            drop(blobs);
            let location = app
                .storage
                .sign(&name, text.into(), "text/plain; charset=utf-8");
            Ok(redirect(StatusCode::TEMPORARY_REDIRECT, &location))
        }
    }
}
