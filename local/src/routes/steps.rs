//! A pipeline's steps and their logs. Each pipeline here has one step, `Build`, whose state
//! follows the pipeline's (reading the step moves the pipeline one state, as reading the
//! pipeline does). Its log grows by a line each time it is read while the step runs, answers
//! `Range` requests with what was written since, and once the step is done is a redirect
//! (307) to the storage host, as Bitbucket's is.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use serde_json::{Value, json};

use super::files::{ranged_text, redirect};
use super::pipelines::position;
use super::{Answer, Params, Shared, list_query, ok, param, repo, repo_index};
use crate::App;
use crate::errors::ApiError;
use crate::ids;
use crate::paging::{self, Paging};
use crate::store::{Pipeline, Repo, Stage};

/// Checks that the path's step is the pipeline's one.
fn check_step(app: &App, pipeline: &Pipeline, params: &Params) -> Result<(), ApiError> {
    let step = param(params, "step_uuid");
    let uuid = app.blobs().log(&pipeline.uuid).step_uuid.clone();
    if ids::same(step.trim_matches(['{', '}']), uuid.trim_matches(['{', '}'])) {
        Ok(())
    } else {
        Err(ApiError::not_found(format_args!("Step {step}")))
    }
}

fn step(app: &App, repo: &Repo, pipeline: &Pipeline) -> Value {
    let uuid = app.blobs().log(&pipeline.uuid).step_uuid.clone();
    let state = match pipeline.stage {
        Stage::Pending => json!({ "type": "pipeline_step_state_pending", "name": "PENDING" }),
        Stage::Running => {
            json!({ "type": "pipeline_step_state_in_progress", "name": "IN_PROGRESS" })
        }
        Stage::Completed(result) => json!({
            "type": "pipeline_step_state_completed",
            "name": "COMPLETED",
            "result": { "type": "pipeline_step_state_completed_result", "name": result.as_str() },
        }),
        Stage::Stopped => json!({
            "type": "pipeline_step_state_completed",
            "name": "COMPLETED",
            "result": { "type": "pipeline_step_state_completed_stopped", "name": "STOPPED" },
        }),
    };
    json!({
        "type": "pipeline_step",
        "uuid": uuid,
        "name": "Build",
        "state": state,
        "started_on": pipeline.created_on,
        "completed_on": pipeline.completed_on,
        "pipeline": { "type": "pipeline", "uuid": pipeline.uuid },
        "image": { "name": "atlassian/default-image:4" },
        "script_commands": [{ "name": "make test", "command": "make test" }],
        "links": {
            "self": { "href": format!(
                "{}/pipelines/{}/steps/{uuid}",
                app.urls.repo_api(repo),
                pipeline.uuid
            ) },
        },
    })
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pipeline = &repo.pipelines[position(repo, &params)?];
    ok(paging::page(
        vec![step(&app, repo, pipeline)],
        &query,
        Paging::Numbered,
    )?)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    check_step(&app, &store.repos[index].pipelines[at], &params)?;
    store.repos[index].pipelines[at].advance();
    let repo = &store.repos[index];
    ok(step(&app, repo, &repo.pipelines[at]))
}

/// The step's log: 404 before the step starts, a line more on each read while it runs (the
/// part a `Range` asks for), and once it is done a 307 to the whole log on the storage host.
pub(super) async fn log(State(app): State<Shared>, params: Params, headers: HeaderMap) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pipeline = &repo.pipelines[position(repo, &params)?];
    check_step(&app, pipeline, &params)?;
    let stage = pipeline.stage;
    let mut blobs = app.blobs();
    let log = blobs.log(&pipeline.uuid);
    match stage {
        Stage::Pending => Err(ApiError::not_found("Log")),
        Stage::Running => {
            log.lines = log.lines.saturating_add(1);
            if log.lines == 1 {
                log.text.push_str(&format!(
                    "+ git clone --branch=\"{}\" --depth 50 {} $BUILD_DIR\n",
                    pipeline.ref_name,
                    repo.full_name()
                ));
                log.text.push_str("+ make test\n");
            }
            log.text.push_str(&format!(
                "test suite {}: {} passed\n",
                log.lines,
                log.lines.saturating_mul(7)
            ));
            Ok(ranged_text(&headers, log.text.clone()))
        }
        Stage::Completed(_) | Stage::Stopped => {
            if !log.sealed {
                log.sealed = true;
                let result = match stage {
                    Stage::Completed(result) => result.as_str(),
                    _ => "STOPPED",
                };
                log.text.push_str(&format!("\nBuild finished: {result}\n"));
            }
            let text = log.text.clone();
            let name = format!("step-{}.log", log.step_uuid.trim_matches(['{', '}']));
            drop(blobs);
            let location = app
                .storage
                .sign(&name, text.into(), "text/plain; charset=utf-8");
            Ok(redirect(StatusCode::TEMPORARY_REDIRECT, &location))
        }
    }
}
