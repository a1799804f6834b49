//! Variables: a repository's pipeline variables (`/pipelines_config/variables`) and an
//! environment's deployment variables
//! (`/deployments_config/environments/{environment_uuid}/variables`). A secured variable's
//! value is kept but never answered. Also the repository's pipelines configuration
//! (`/pipelines_config`: whether pipelines are enabled).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::ids;
use crate::store::{Repo, Variable};

/// A variable as answered: a secured one without its value.
fn render(kind: &str, v: &Variable) -> Value {
    let mut value = json!({
        "type": kind,
        "uuid": v.uuid,
        "key": v.key,
        "secured": v.secured,
    });
    if !v.secured {
        value["value"] = json!(v.value);
    }
    value
}

/// Which list of variables a request is about.
#[derive(Clone, Copy)]
enum Scope {
    Pipeline,
    Deployment,
}

impl Scope {
    fn kind(self) -> &'static str {
        match self {
            Scope::Pipeline => "pipeline_variable",
            Scope::Deployment => "deployment_variable",
        }
    }

    /// `None` for the repository's pipeline variables, else the environment's index.
    fn list(self, repo: &Repo, params: &Params) -> Result<Option<usize>, ApiError> {
        match self {
            Scope::Pipeline => Ok(None),
            Scope::Deployment => super::deployments::environment(repo, params).map(Some),
        }
    }
}

fn variables(repo: &Repo, at: Option<usize>) -> &Vec<Variable> {
    match at {
        None => &repo.pipeline_variables,
        Some(at) => &repo.environments[at].variables,
    }
}

fn variables_mut(repo: &mut Repo, at: Option<usize>) -> &mut Vec<Variable> {
    match at {
        None => &mut repo.pipeline_variables,
        Some(at) => &mut repo.environments[at].variables,
    }
}

async fn list(app: Shared, params: Params, uri: Uri, scope: Scope) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = scope.list(repo, &params)?;
    let items = variables(repo, at)
        .iter()
        .map(|v| render(scope.kind(), v))
        .collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, scope: Scope) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = scope.list(repo, &params)?;
    let list = variables(repo, at);
    let i = find(list, &params)?;
    ok(render(scope.kind(), &list[i]))
}

async fn create(app: Shared, params: Params, bytes: Bytes, scope: Scope) -> Answer {
    let request = body(&bytes)?;
    let key = valid_key(text(&request, "/key"))?;
    let Some(value) = text(&request, "/value") else {
        return Err(ApiError::bad_request("value: This field is required.")
            .field("value", "This field is required."));
    };
    let secured = request
        .get("secured")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = scope.list(repo, &params)?;
    let list = variables_mut(repo, at);
    if list.iter().any(|v| v.key == key) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("A variable with the key {key} already exists."),
        ));
    }
    list.push(Variable {
        uuid: ids::uuid(),
        key,
        value: value.to_string(),
        secured,
    });
    created(render(scope.kind(), list.last().expect("just pushed")))
}

/// Changes `key`, `value` or `secured`; a secured variable cannot be made unsecured (its
/// value would show), as on Bitbucket.
async fn update(app: Shared, params: Params, bytes: Bytes, scope: Scope) -> Answer {
    let request = body(&bytes)?;
    let key = text(&request, "/key")
        .map(|k| valid_key(Some(k)))
        .transpose()?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = scope.list(repo, &params)?;
    let list = variables_mut(repo, at);
    let i = find(list, &params)?;
    if let Some(key) = &key
        && list
            .iter()
            .enumerate()
            .any(|(j, v)| j != i && v.key == *key)
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("A variable with the key {key} already exists."),
        ));
    }
    let secured = request.get("secured").and_then(Value::as_bool);
    let v = &mut list[i];
    if v.secured && secured == Some(false) {
        return Err(ApiError::bad_request(
            "A secured variable cannot be made unsecured: delete it and create it again",
        )
        .field("secured", "a secured variable stays secured"));
    }
    if let Some(key) = key {
        v.key = key;
    }
    if let Some(value) = text(&request, "/value") {
        v.value = value.to_string();
    }
    if let Some(secured) = secured {
        v.secured = secured;
    }
    ok(render(scope.kind(), v))
}

async fn delete(app: Shared, params: Params, scope: Scope) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = scope.list(repo, &params)?;
    let list = variables_mut(repo, at);
    let i = find(list, &params)?;
    list.remove(i);
    no_content()
}

fn find(list: &[Variable], params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "variable_uuid");
    let bare = id.trim_matches(['{', '}']);
    list.iter()
        .position(|v| ids::same(v.uuid.trim_matches(['{', '}']), bare))
        .ok_or_else(|| ApiError::not_found(format_args!("Variable {id}")))
}

/// A variable name: letters, digits and underscores, not starting with a digit.
fn valid_key(key: Option<&str>) -> Result<String, ApiError> {
    let key = key.unwrap_or_default();
    let valid = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Err(
            ApiError::bad_request(format!("Invalid variable name: {key:?}")).field(
                "key",
                "letters, digits and underscores, not starting with a digit",
            ),
        );
    }
    Ok(key.to_string())
}

pub(super) async fn list_pipeline(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list(app, params, uri, Scope::Pipeline).await
}
pub(super) async fn get_pipeline(State(app): State<Shared>, params: Params) -> Answer {
    get(app, params, Scope::Pipeline).await
}
pub(super) async fn create_pipeline(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    create(app, params, bytes, Scope::Pipeline).await
}
pub(super) async fn update_pipeline(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    update(app, params, bytes, Scope::Pipeline).await
}
pub(super) async fn delete_pipeline(State(app): State<Shared>, params: Params) -> Answer {
    delete(app, params, Scope::Pipeline).await
}
pub(super) async fn list_deployment(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list(app, params, uri, Scope::Deployment).await
}
pub(super) async fn create_deployment(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    create(app, params, bytes, Scope::Deployment).await
}
pub(super) async fn update_deployment(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    update(app, params, bytes, Scope::Deployment).await
}
pub(super) async fn delete_deployment(State(app): State<Shared>, params: Params) -> Answer {
    delete(app, params, Scope::Deployment).await
}

fn config(app: &Shared, repo: &Repo) -> Value {
    json!({
        "type": "repository_pipelines_configuration",
        "enabled": repo.pipelines_enabled,
        "repository": app.urls.repo_summary(repo),
    })
}

pub(super) async fn get_config(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    ok(config(&app, repo(&store, &params)?))
}

/// Enables or disables pipelines (`enabled`).
pub(super) async fn update_config(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    if let Some(enabled) = request.get("enabled").and_then(Value::as_bool) {
        store.repos[index].pipelines_enabled = enabled;
    }
    ok(config(&app, &store.repos[index]))
}
