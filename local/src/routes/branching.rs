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
use crate::store::{Repo, Store};

const KINDS: &[&str] = &["feature", "bugfix", "release", "hotfix"];

impl Urls {
    /// The model as branches use it (`type` names which of the three answers it is).
    fn branching_model(&self, store: &Store, repo: &Repo, kind: &str) -> Value {
        let model = &repo.branching_model;
        let branch = |name: Option<&String>, use_main: bool| {
            let name = name.or(repo.mainbranch.as_ref())?;
            Some(json!({
                "name": name,
                "use_mainbranch": use_main,
                "branch": repo.branches.contains_key(name).then(|| self.branch(store, repo, name)),
            }))
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
            "links": { "self": href(format!("{}/branching-model", self.repo_api(repo))) },
        });
        if model.production_enabled {
            value["production"] = json!(branch(
                model.production.as_ref(),
                model.production.is_none()
            ));
        }
        value
    }

    fn branching_settings(&self, repo: &Repo) -> Value {
        let model = &repo.branching_model;
        let valid =
            |name: &Option<String>| name.as_ref().is_none_or(|n| repo.branches.contains_key(n));
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
            "links": { "self": href(format!("{}/branching-model/settings", self.repo_api(repo))) },
        })
    }
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    ok(app.urls.branching_model(&store, repo, "branching_model"))
}

pub(super) async fn get_effective(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    ok(app
        .urls
        .branching_model(&store, repo, "effective_repo_branching_model"))
}

pub(super) async fn get_settings(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    ok(app.urls.branching_settings(repo(&store, &params)?))
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
    let mut model = store.repos[index].branching_model.clone();
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
    store.repos[index].branching_model = model;
    ok(app.urls.branching_settings(&store.repos[index]))
}
