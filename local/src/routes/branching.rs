//! The branching model (`/branching-model`, `/branching-model/settings`,
//! `/effective-branching-model`): the development and production branches and the prefixes
//! of feature, bugfix, release and hotfix branches. Branch restrictions of
//! `branch_match_kind: branching_model` match through it.

use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, body, ok, repo, repo_index, text};
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::store::{BranchingModel, Repo, Store};

const KINDS: &[&str] = &["feature", "bugfix", "release", "hotfix"];

impl Urls {
    /// A model as branches use it (`type` names which of the answers it is); with a
    /// repository, its development and production branches are resolved.
    fn branching_model(
        &self,
        model: &BranchingModel,
        repo: Option<(&Store, &Repo)>,
        kind: &str,
        link: String,
    ) -> Value {
        let branch = |name: Option<&String>, use_main: bool| {
            let main = repo.and_then(|(_, r)| r.mainbranch.as_ref());
            let name = name.or(main);
            let resolved = match (repo, name) {
                (Some((store, r)), Some(n)) if r.branches.contains_key(n) => {
                    Some(self.branch(store, r, n))
                }
                _ => None,
            };
            json!({ "name": name, "use_mainbranch": use_main, "branch": resolved })
        };
        let mut value = json!({
            "type": kind,
            "development": branch(model.development.as_ref(), model.development.is_none()),
            "branch_types": model
                .types
                .iter()
                .filter(|(_, _, on)| *on)
                .map(|(k, prefix, _)| json!({ "kind": k, "prefix": prefix }))
                .collect::<Vec<_>>(),
            "links": { "self": href(link) },
        });
        if model.production_enabled {
            value["production"] = branch(model.production.as_ref(), model.production.is_none());
        }
        value
    }

    fn branching_settings(
        &self,
        model: &BranchingModel,
        repo: Option<&Repo>,
        link: String,
    ) -> Value {
        let valid = |name: &Option<String>| {
            name.as_ref()
                .is_none_or(|n| repo.is_none_or(|r| r.branches.contains_key(n)))
        };
        json!({
            "type": "branching_model_settings",
            "development": {
                "name": model.development,
                "use_mainbranch": model.development.is_none(),
                "is_valid": valid(&model.development),
            },
            "production": {
                "name": model.production,
                "use_mainbranch": model.production.is_none(),
                "enabled": model.production_enabled,
                "is_valid": valid(&model.production),
            },
            "branch_types": model
                .types
                .iter()
                .map(|(k, prefix, on)| json!({ "kind": k, "prefix": prefix, "enabled": on }))
                .collect::<Vec<_>>(),
            "links": { "self": href(link) },
        })
    }
}

fn repo_link(app: &Shared, repo: &Repo, rest: &str) -> String {
    format!("{}/{rest}", app.urls.repo_api(repo))
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    ok(app.urls.branching_model(
        &repo.branching_model,
        Some((&store, repo)),
        "branching_model",
        repo_link(&app, repo, "branching-model"),
    ))
}

/// The model the repository follows: its project's when it inherits it.
pub(super) async fn get_effective(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &store.repos[index];
    ok(app.urls.branching_model(
        &store.branching_model(index),
        Some((&store, repo)),
        "effective_repo_branching_model",
        repo_link(&app, repo, "effective-branching-model"),
    ))
}

pub(super) async fn get_settings(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    ok(app.urls.branching_settings(
        &repo.branching_model,
        Some(repo),
        repo_link(&app, repo, "branching-model/settings"),
    ))
}

/// Changes what the body sets: `development` and `production` (`name`, `use_mainbranch`,
/// `enabled`), and `branch_types` (`kind` with `prefix` and `enabled`). Prefixes of enabled
/// kinds must not be prefixes of one another.
pub(super) async fn update_settings(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let model = changed(&store.repos[index].branching_model, &request)?;
    store.repos[index].branching_model = model;
    let repo = &store.repos[index];
    ok(app.urls.branching_settings(
        &repo.branching_model,
        Some(repo),
        repo_link(&app, repo, "branching-model/settings"),
    ))
}

fn project_link(app: &Shared, store: &Store, (ws, at): (usize, usize), rest: &str) -> String {
    let ws = &store.workspaces[ws];
    format!(
        "{}/workspaces/{}/projects/{}/{rest}",
        app.urls.api, ws.slug, ws.projects[at].key
    )
}

pub(super) async fn get_project(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let found = super::project_index(&store, &params)?;
    let model = &store.workspaces[found.0].projects[found.1].branching_model;
    ok(app.urls.branching_model(
        model,
        None,
        "project_branching_model",
        project_link(&app, &store, found, "branching-model"),
    ))
}

pub(super) async fn get_project_settings(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let found = super::project_index(&store, &params)?;
    let model = &store.workspaces[found.0].projects[found.1].branching_model;
    ok(app.urls.branching_settings(
        model,
        None,
        project_link(&app, &store, found, "branching-model/settings"),
    ))
}

pub(super) async fn update_project_settings(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let found = super::project_index(&store, &params)?;
    let model = changed(
        &store.workspaces[found.0].projects[found.1].branching_model,
        &request,
    )?;
    store.workspaces[found.0].projects[found.1].branching_model = model;
    let model = &store.workspaces[found.0].projects[found.1].branching_model;
    ok(app.urls.branching_settings(
        model,
        None,
        project_link(&app, &store, found, "branching-model/settings"),
    ))
}

/// `GET /override-settings`: which project settings the repository overrides
/// (`branching_model: true` when it keeps its own).
pub(super) async fn get_inheritance(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    ok(inheritance(repo))
}

fn inheritance(repo: &Repo) -> Value {
    json!({
        "type": "repository_inheritance_state",
        "override_settings": { "branching_model": !repo.inherits_branching_model },
    })
}

/// `PUT /override-settings` with `{"override_settings": {"branching_model": false}}` makes
/// the repository follow its project's branching model; `true` its own again.
pub(super) async fn update_inheritance(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let value = request
        .pointer("/override_settings/branching_model")
        .or_else(|| request.get("branching_model"));
    match value {
        None => {}
        Some(Value::Bool(own)) => store.repos[index].inherits_branching_model = !own,
        Some(_) => {
            return Err(ApiError::bad_request(
                "override_settings.branching_model must be true or false",
            )
            .field("override_settings", "branching_model: true or false"));
        }
    }
    ok(inheritance(&store.repos[index]))
}

/// `model` with the settings of `request` applied, checked.
fn changed(model: &BranchingModel, request: &Value) -> Result<BranchingModel, ApiError> {
    let mut model = model.clone();
    for (which, slot) in [
        ("development", &mut model.development),
        ("production", &mut model.production),
    ] {
        let Some(part) = request.get(which).filter(|v| v.is_object()) else {
            continue;
        };
        if part.get("use_mainbranch").and_then(Value::as_bool) == Some(true) {
            *slot = None;
        } else if let Some(name) = text(part, "/name") {
            *slot = Some(name.to_string());
        }
    }
    if let Some(enabled) = request
        .pointer("/production/enabled")
        .and_then(Value::as_bool)
    {
        model.production_enabled = enabled;
    }
    if let Some(types) = request.get("branch_types").and_then(Value::as_array) {
        for t in types {
            let kind = text(t, "/kind").unwrap_or_default();
            if !KINDS.contains(&kind) {
                return Err(
                    ApiError::bad_request(format!("Invalid branch type: {kind:?}")).field(
                        "branch_types",
                        "kind is one of feature, bugfix, release, hotfix",
                    ),
                );
            }
            let entry = model
                .types
                .iter_mut()
                .find(|(k, _, _)| k == kind)
                .expect("every kind is in the model");
            if let Some(prefix) = text(t, "/prefix") {
                entry.1 = prefix.to_string();
            }
            if let Some(enabled) = t.get("enabled").and_then(Value::as_bool) {
                entry.2 = enabled;
            }
        }
        let enabled: Vec<&(String, String, bool)> = model.types.iter().filter(|t| t.2).collect();
        for a in &enabled {
            if a.1.is_empty() {
                return Err(ApiError::bad_request(format!(
                    "The prefix of the enabled branch type {} may not be empty",
                    a.0
                ))
                .field("branch_types", "an enabled type needs a prefix"));
            }
            for b in &enabled {
                if a.0 != b.0 && b.1.starts_with(a.1.as_str()) {
                    return Err(ApiError::bad_request(format!(
                        "The prefixes of {} ({}) and {} ({}) overlap",
                        a.0, a.1, b.0, b.1
                    ))
                    .field("branch_types", "no prefix may start another"));
                }
            }
        }
    }
    Ok(model)
}
