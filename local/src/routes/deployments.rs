//! Deployment environments (`/environments`) and deployments (`/deployments`). A repository
//! starts with `Test`, `Staging` and `Production`, as on Bitbucket; a pipeline step with
//! `deployment: <environment>` deploys its commit there, and the deployment's state follows
//! its pipeline's.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::ids;
use crate::render::{Urls, href};
use crate::store::{Deployment, Environment, Repo, Stage};

const TYPES: &[&str] = &["Test", "Staging", "Production"];

/// An environment's slug: its name in lower case, runs of other characters as `-`.
pub(crate) fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

impl Urls {
    fn environment(&self, repo: &Repo, e: &Environment) -> Value {
        json!({
            "type": "deployment_environment",
            "uuid": e.uuid,
            "name": e.name,
            "slug": slug(&e.name),
            "rank": e.rank,
            "hidden": false,
            "environment_type": {
                "type": "deployment_environment_type",
                "name": e.kind,
                "rank": TYPES.iter().position(|t| *t == e.kind).unwrap_or(0),
            },
            "category": { "name": e.kind },
            "lock": if e.locked {
                json!({ "type": "deployment_environment_lock_closed", "name": "CLOSED" })
            } else {
                json!({ "type": "deployment_environment_lock_open", "name": "OPEN" })
            },
            "restrictions": { "type": "deployment_restrictions_configuration", "admin_only": false },
            "deployment_gate_enabled": false,
            "environment_lock_enabled": true,
            "links": {
                "self": href(format!("{}/environments/{}", self.repo_api(repo), crate::render::escape(&e.uuid))),
            },
        })
    }

    fn deployment(&self, repo: &Repo, d: &Deployment) -> Value {
        let pipeline = repo.pipelines.iter().find(|p| p.uuid == d.pipeline);
        let stage = pipeline.map_or(Stage::Pending, |p| p.stage);
        let step_done = pipeline
            .and_then(|p| p.steps.iter().find(|s| s.uuid == d.step))
            .is_some_and(|s| s.completed_on.is_some());
        let state = match stage {
            Stage::Completed(result) => json!({
                "type": "deployment_state_completed",
                "name": "COMPLETED",
                "status": {
                    "type": format!("deployment_state_completed_status_{}", result.as_str().to_ascii_lowercase()),
                    "name": result.as_str(),
                },
            }),
            Stage::Stopped => json!({
                "type": "deployment_state_completed",
                "name": "COMPLETED",
                "status": { "type": "deployment_state_completed_status_stopped", "name": "STOPPED" },
            }),
            Stage::Running if step_done => json!({
                "type": "deployment_state_completed",
                "name": "COMPLETED",
                "status": { "type": "deployment_state_completed_status_successful", "name": "SUCCESSFUL" },
            }),
            Stage::Running => {
                json!({ "type": "deployment_state_in_progress", "name": "IN_PROGRESS" })
            }
            Stage::Pending => {
                json!({ "type": "deployment_state_undeployed", "name": "UNDEPLOYED" })
            }
        };
        let commit = self.commit_ref(repo, &d.commit);
        json!({
            "type": "deployment",
            "uuid": d.uuid,
            "state": state,
            "environment": { "type": "deployment_environment", "uuid": d.environment },
            "step": { "type": "pipeline_step", "uuid": d.step },
            "release": {
                "type": "deployment_release",
                "uuid": d.pipeline,
                "name": pipeline.map(|p| format!("#{}", p.build_number)),
                "commit": commit,
                "pipeline": { "type": "pipeline", "uuid": d.pipeline },
                "created_on": d.created_on,
            },
            "deployable": {
                "type": "deployment_deployable",
                "uuid": d.pipeline,
                "name": pipeline.map(|p| format!("#{}", p.build_number)),
                "commit": commit,
                "pipeline": { "type": "pipeline", "uuid": d.pipeline },
                "created_on": d.created_on,
            },
            "last_update_time": d.created_on,
            "links": {
                "self": href(format!("{}/deployments/{}", self.repo_api(repo), crate::render::escape(&d.uuid))),
            },
        })
    }
}

/// The environment the path names (`environment_uuid`), or Bitbucket's 404.
pub(crate) fn environment(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "environment_uuid");
    repo.environments
        .iter()
        .position(|e| ids::same_uuid(&e.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Environment {id}")))
}

pub(super) async fn list_environments(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .environments
        .iter()
        .map(|e| app.urls.environment(repo, e))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_environment(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = environment(repo, &params)?;
    ok(app.urls.environment(repo, &repo.environments[at]))
}

pub(super) async fn create_environment(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let name = text(&request, "/name")
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request("name: This field is required.")
            .field("name", "This field is required."));
    }
    let kind = text(&request, "/environment_type/name").unwrap_or("Test");
    if !TYPES.contains(&kind) {
        return Err(
            ApiError::bad_request(format!("Invalid environment type: {kind}"))
                .field("environment_type", "Test, Staging or Production"),
        );
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    if repo
        .environments
        .iter()
        .any(|e| slug(&e.name) == slug(&name))
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("An environment named {name} already exists."),
        ));
    }
    let rank = repo.environments.iter().filter(|e| e.kind == kind).count() as u64;
    repo.environments.push(Environment {
        uuid: ids::uuid(),
        name,
        kind: kind.to_string(),
        rank,
        locked: false,
        variables: Vec::new(),
    });
    let repo = &store.repos[index];
    created(
        app.urls
            .environment(repo, repo.environments.last().expect("just pushed")),
    )
}

/// `POST /environments/{uuid}/changes`: renames the environment (`change.name`) and answers
/// `202 Accepted`, as Bitbucket does.
pub(super) async fn update_environment(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = environment(repo, &params)?;
    if let Some(name) = text(&request, "/change/name").or_else(|| text(&request, "/name")) {
        let name = name.trim();
        if name.is_empty() {
            return Err(ApiError::bad_request("name: This field may not be blank.")
                .field("name", "This field may not be blank."));
        }
        let taken = repo
            .environments
            .iter()
            .enumerate()
            .any(|(i, e)| i != at && slug(&e.name) == slug(name));
        if taken {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("An environment named {name} already exists."),
            ));
        }
        repo.environments[at].name = name.to_string();
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

pub(super) async fn delete_environment(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = environment(repo, &params)?;
    let uuid = repo.environments.remove(at).uuid;
    repo.deployments.retain(|d| d.environment != uuid);
    no_content()
}

pub(super) async fn list_deployments(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .deployments
        .iter()
        .rev()
        .map(|d| app.urls.deployment(repo, d))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_deployment(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let id = param(&params, "deployment_uuid");
    let d = repo
        .deployments
        .iter()
        .find(|d| ids::same_uuid(&d.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Deployment {id}")))?;
    ok(app.urls.deployment(repo, d))
}
