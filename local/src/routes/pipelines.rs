//! `/repositories/{workspace}/{repo_slug}/pipelines`.
//!
//! A pipeline moves one state each time it or its steps are read (`get_pipeline`,
//! `list_pipeline_steps`, `get_pipeline_step`): `PENDING`, then `IN_PROGRESS` once per step
//! (each step in turn `IN_PROGRESS`, then `COMPLETED`), then `COMPLETED` with the result set by
//! `LocalBitbucket::set_pipeline_result`. Its steps are those of the commit's
//! `bitbucket-pipelines.yml` (one `Build` step without one); a step with `deployment:` makes a
//! deployment to that environment.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, body, created, list_query, no_content, ok, param, repo,
    repo_index, text,
};
use crate::errors::ApiError;
use crate::paging::{self, Paging};
use crate::render::{Urls, escape, href};
use crate::store::{Cache, Deployment, Pipeline, Repo, Stage, Step, Variable};
use crate::{clock, ids, lock};

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let branch = query.get("target.branch").or(query.get("target.ref_name"));
    let commit = query.get("target.commit.hash");
    let status = query.get("status");
    let items = repo
        .pipelines
        .iter()
        .filter(|p| branch.is_none_or(|b| p.ref_name == b))
        .filter(|p| commit.is_none_or(|c| p.commit.starts_with(c)))
        .map(|p| app.urls.pipeline(&store, repo, p))
        .filter(|v| {
            status.is_none_or(|s| {
                text(v, "/state/name") == Some(s) || text(v, "/state/result/name") == Some(s)
            })
        })
        .collect();
    ok(paging::page(items, &query, Paging::Numbered)?)
}

pub(super) async fn run(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let outcome = *lock(&app.pipeline_result);
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &store.repos[index];
    if !repo.pipelines_enabled {
        return Err(ApiError::bad_request(
            "Pipelines are not enabled for this repository: enable them (update_pipeline_config) \
             first",
        ));
    }
    let Some(target) = request.get("target").filter(|t| t.is_object()) else {
        return Err(
            ApiError::bad_request("target: This field is required.").field(
                "target",
                "what to build: a pipeline_ref_target or pipeline_commit_target",
            ),
        );
    };
    let selector = target.get("selector").map(|s| {
        (
            text(s, "/type").unwrap_or("custom").to_string(),
            text(s, "/pattern").unwrap_or_default().to_string(),
        )
    });
    let (ref_type, ref_name, commit) = match text(target, "/type") {
        Some("pipeline_commit_target") => {
            let hash = text(target, "/commit/hash").unwrap_or_default();
            let commit = repo.commit(hash).ok_or_else(|| {
                ApiError::bad_request(format!("Commit {hash} not found"))
                    .field("target", "no such commit")
            })?;
            (String::new(), String::new(), commit.hash.clone())
        }
        Some("pipeline_ref_target") | None => {
            let ref_name = text(target, "/ref_name").unwrap_or_default();
            let ref_type = text(target, "/ref_type").unwrap_or("branch");
            if ref_type != "branch" {
                return Err(ApiError::bad_request(format!(
                    "Unsupported ref_type {ref_type}: the local server has branches only"
                )));
            }
            let hash = repo.branches.get(ref_name).cloned().ok_or_else(|| {
                ApiError::bad_request(format!("Branch {ref_name} not found"))
                    .field("target", &format!("no branch named {ref_name:?}"))
            })?;
            (ref_type.to_string(), ref_name.to_string(), hash)
        }
        Some(other) => {
            return Err(
                ApiError::bad_request(format!("Unsupported target type {other}")).field(
                    "target",
                    "type must be pipeline_ref_target or pipeline_commit_target",
                ),
            );
        }
    };
    let variables = request
        .get("variables")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(|v| {
                    Some(Variable {
                        uuid: ids::uuid(),
                        key: text(v, "/key")?.to_string(),
                        value: text(v, "/value").unwrap_or_default().to_string(),
                        secured: v.get("secured").and_then(Value::as_bool).unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let steps = crate::store::steps(
        repo.commits
            .get(&commit)
            .and_then(|c| c.tree.get("bitbucket-pipelines.yml"))
            .map(String::as_str),
    );
    let now = clock::now();
    let uuid = ids::uuid();
    let mut deployments = Vec::new();
    for step in &steps {
        let Some(name) = &step.deployment else {
            continue;
        };
        let environment = repo
            .environments
            .iter()
            .find(|e| {
                e.name.eq_ignore_ascii_case(name) || super::deployments::slug(&e.name) == *name
            })
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "The deployment environment {name} of step {} does not exist",
                    step.name
                ))
            })?;
        deployments.push(Deployment {
            uuid: ids::uuid(),
            environment: environment.uuid.clone(),
            pipeline: uuid.clone(),
            step: step.uuid.clone(),
            commit: commit.clone(),
            created_on: now.clone(),
        });
    }
    let pipeline = Pipeline {
        steps,
        current_step: 0,
        uuid,
        build_number: repo.next_build_number(),
        creator: caller.user,
        ref_type,
        ref_name,
        commit,
        selector,
        variables,
        stage: Stage::Pending,
        outcome,
        created_on: now,
        completed_on: None,
        build_seconds_used: 0,
    };
    let repo = &mut store.repos[index];
    repo.pipelines.push(pipeline);
    repo.deployments.extend(deployments);
    let repo = &store.repos[index];
    let p = repo.pipelines.last().expect("just pushed");
    let value = app.urls.pipeline(&store, repo, p);
    created(value)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    advance(&mut store.repos[index], at);
    let repo = &store.repos[index];
    ok(app.urls.pipeline(&store, repo, &repo.pipelines[at]))
}

pub(super) async fn stop(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    let p = &mut store.repos[index].pipelines[at];
    if matches!(p.stage, Stage::Completed(_) | Stage::Stopped) {
        return Err(ApiError::bad_request(format!(
            "Pipeline #{} has already completed and cannot be stopped",
            p.build_number
        )));
    }
    p.stage = Stage::Stopped;
    p.completed_on = Some(clock::now());
    no_content()
}

impl Urls {
    /// A step's state: what has run is `COMPLETED`, the running step `IN_PROGRESS`, the rest
    /// `PENDING` (or `NOT_RUN` once the pipeline ended before them).
    pub fn step_state(p: &Pipeline, at: usize) -> Value {
        let completed = |result: &str| {
            json!({
                "type": "pipeline_step_state_completed",
                "name": "COMPLETED",
                "result": {
                    "type": format!("pipeline_step_state_completed_{}", result.to_ascii_lowercase()),
                    "name": result,
                },
            })
        };
        let pending = json!({ "type": "pipeline_step_state_pending", "name": "PENDING" });
        let last = p.steps.len().saturating_sub(1);
        match p.stage {
            Stage::Pending => pending,
            Stage::Running if at < p.current_step => completed("SUCCESSFUL"),
            Stage::Running if at == p.current_step => json!({
                "type": "pipeline_step_state_in_progress",
                "name": "IN_PROGRESS",
            }),
            Stage::Running => pending,
            Stage::Completed(result) if at == last => completed(result.as_str()),
            Stage::Completed(_) => completed("SUCCESSFUL"),
            Stage::Stopped if at < p.current_step => completed("SUCCESSFUL"),
            Stage::Stopped if at == p.current_step => completed("STOPPED"),
            Stage::Stopped => completed("NOT_RUN"),
        }
    }

    pub fn step(&self, repo: &Repo, p: &Pipeline, at: usize) -> Value {
        let step: &Step = &p.steps[at];
        let base = format!(
            "{}/pipelines/{}/steps/{}",
            self.repo_api(repo),
            escape(&p.uuid),
            escape(&step.uuid)
        );
        json!({
            "type": "pipeline_step",
            "uuid": step.uuid,
            "name": step.name,
            "run_number": 1,
            "pipeline": { "type": "pipeline", "uuid": p.uuid },
            "state": Urls::step_state(p, at),
            "image": { "name": "atlassian/default-image:4" },
            "script_commands": step.script.iter().map(|c| json!({
                "commandType": "user",
                "command": c,
                "name": c,
            })).collect::<Vec<_>>(),
            "setup_commands": [],
            "teardown_commands": [],
            "trigger": { "type": "pipeline_step_trigger_automatic" },
            "max_time": 120,
            "started_on": step.started_on,
            "completed_on": step.completed_on,
            "duration_in_seconds": if step.completed_on.is_some() { 21 } else { 0 },
            "build_seconds_used": if step.completed_on.is_some() { 21 } else { 0 },
            "links": {
                "self": href(base.clone()),
                "log": href(format!("{base}/log")),
            },
        })
    }
}

/// `list_pipeline_steps`: moves the pipeline one state, as reading it does.
pub(super) async fn list_steps(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    advance(&mut store.repos[index], at);
    let repo = &store.repos[index];
    let p = &repo.pipelines[at];
    let items = (0..p.steps.len())
        .map(|i| app.urls.step(repo, p, i))
        .collect();
    super::numbered(&app, &uri, items)
}

/// `get_pipeline_step`: moves the pipeline one state, as reading it does.
pub(super) async fn get_step(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    let id = param(&params, "step_uuid");
    let step = store.repos[index].pipelines[at]
        .steps
        .iter()
        .position(|s| ids::same_uuid(&s.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Step {id}")))?;
    advance(&mut store.repos[index], at);
    let repo = &store.repos[index];
    ok(app.urls.step(repo, &repo.pipelines[at], step))
}

/// The pipeline the path names: by `{uuid}` (braces optional) or build number.
pub(super) fn position(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "pipeline_uuid");
    repo.pipelines
        .iter()
        .position(|p| ids::same_uuid(&p.uuid, id) || p.build_number.to_string() == id)
        .ok_or_else(|| ApiError::not_found(format_args!("Pipeline {id}")))
}

/// Moves pipeline `at` one state; when it completes successfully, its steps' caches are saved
/// (replacing older ones of the same name).
fn advance(repo: &mut Repo, at: usize) {
    let p = &mut repo.pipelines[at];
    let was_done = matches!(p.stage, Stage::Completed(_) | Stage::Stopped);
    p.advance();
    if was_done || p.stage != Stage::Completed(crate::store::PipelineResult::Successful) {
        return;
    }
    let now = clock::now();
    let saved: Vec<Cache> = p
        .steps
        .iter()
        .flat_map(|step| {
            step.caches.iter().map(|name| Cache {
                uuid: ids::uuid(),
                name: name.clone(),
                pipeline: p.uuid.clone(),
                step: step.uuid.clone(),
                created_on: now.clone(),
            })
        })
        .collect();
    let caches = &mut repo.pipeline_settings.caches;
    for cache in saved {
        caches.retain(|c| c.name != cache.name);
        caches.push(cache);
    }
}

/// Where the predefined caches keep their files; a custom cache's path is in the
/// configuration's `definitions`, which this server does not read.
fn cache_path(name: &str) -> Option<&'static str> {
    Some(match name {
        "cargo" => "~/.cargo",
        "composer" => "~/.composer/cache",
        "dotnetcore" => "~/.nuget/packages",
        "gradle" => "~/.gradle/caches",
        "ivy2" => "~/.ivy2/cache",
        "maven" => "~/.m2/repository",
        "node" => "node_modules",
        "pip" => "~/.cache/pip",
        "sbt" => "~/.sbt",
        _ => return None,
    })
}

fn cache(c: &Cache) -> Value {
    json!({
        "type": "pipeline_cache",
        "uuid": c.uuid,
        "name": c.name,
        "pipeline_uuid": c.pipeline,
        "step_uuid": c.step,
        "path": cache_path(&c.name),
        "created_on": c.created_on,
    })
}

pub(super) async fn list_caches(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = super::repo(&store, &params)?;
    let items = repo.pipeline_settings.caches.iter().map(cache).collect();
    super::numbered(&app, &uri, items)
}

pub(super) async fn delete_cache(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let id = param(&params, "cache_uuid");
    let caches = &mut store.repos[index].pipeline_settings.caches;
    let at = caches
        .iter()
        .position(|c| ids::same_uuid(&c.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Cache {id}")))?;
    caches.remove(at);
    no_content()
}

/// `GET …/caches/{cache_uuid}/content-uri`: where the cache's archive can be downloaded, a
/// signed URL on the storage host (which refuses credentials), as Bitbucket's is on its
/// storage. Steps here run no commands, so the archive they saved is an empty `.tar.gz`.
pub(super) async fn cache_content_uri(State(app): State<Shared>, params: Params) -> Answer {
    let name = {
        let store = app.store();
        let repo = super::repo(&store, &params)?;
        let id = param(&params, "cache_uuid");
        let c = repo
            .pipeline_settings
            .caches
            .iter()
            .find(|c| ids::same_uuid(&c.uuid, id))
            .ok_or_else(|| ApiError::not_found(format_args!("Cache {id}")))?;
        format!("{}.tar.gz", c.name)
    };
    let uri = app
        .storage
        .sign(&name, crate::blobs::empty_tar_gz(), "application/gzip");
    super::ok(json!({ "uri": uri }))
}

/// `DELETE /pipelines-config/caches?name=...`: the caches of that name.
pub(super) async fn delete_caches(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let Some(name) = query.get("name") else {
        return Err(ApiError::bad_request("name: This parameter is required.")
            .field("name", "the name of the caches to delete"));
    };
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let caches = &mut store.repos[index].pipeline_settings.caches;
    let before = caches.len();
    caches.retain(|c| c.name != name);
    if caches.len() == before {
        return Err(ApiError::not_found(format_args!("Cache {name}")));
    }
    no_content()
}
