//! Variables: a repository's pipeline variables (`/pipelines_config/variables`) and an
//! environment's deployment variables
//! (`/deployments_config/environments/{environment_uuid}/variables`); a workspace's
//! (`/workspaces/{workspace}/pipelines-config/variables`, and `/teams/{username}/...`, its
//! older name) and an account's (`/users/{selected_user}/pipelines_config/variables`). A
//! secured variable's value is kept but never answered. Also the repository's pipelines configuration
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
use crate::store::{Repo, Store, Variable};

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
    /// A repository's pipeline variables.
    Pipeline,
    /// A deployment environment's variables.
    Deployment,
    /// A workspace's pipeline variables (`/workspaces/...` and the older `/teams/...`).
    Workspace,
    /// An account's pipeline variables.
    User,
}

/// Where the list of a request lives, found from its path.
enum Place {
    Repo(usize),
    Environment(usize, usize),
    Workspace(usize),
    User(usize),
}

impl Scope {
    fn kind(self) -> &'static str {
        match self {
            Scope::Deployment => "deployment_variable",
            _ => "pipeline_variable",
        }
    }

    fn place(self, store: &Store, params: &Params) -> Result<Place, ApiError> {
        match self {
            Scope::Pipeline => repo_index(store, params).map(Place::Repo),
            Scope::Deployment => {
                let index = repo_index(store, params)?;
                let env = super::deployments::environment(&store.repos[index], params)?;
                Ok(Place::Environment(index, env))
            }
            Scope::Workspace => {
                let name = params
                    .get("workspace")
                    .or_else(|| params.get("username"))
                    .map(String::as_str)
                    .unwrap_or_default();
                store
                    .workspaces
                    .iter()
                    .position(|w| ids::same(&w.slug, name) || ids::same(&w.uuid, name))
                    .map(Place::Workspace)
                    .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))
            }
            Scope::User => {
                let id = param(params, "selected_user");
                store
                    .user_index(id)
                    .map(Place::User)
                    .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))
            }
        }
    }
}

/// The variables at `place` (an account's are copied out of the shared list).
fn variables(store: &Store, place: &Place) -> Vec<Variable> {
    match *place {
        Place::Repo(i) => store.repos[i].pipeline_variables.clone(),
        Place::Environment(i, e) => store.repos[i].environments[e].variables.clone(),
        Place::Workspace(w) => store.workspaces[w].pipeline_variables.clone(),
        Place::User(u) => store
            .user_variables
            .iter()
            .filter(|(owner, _)| *owner == u)
            .map(|(_, v)| v.clone())
            .collect(),
    }
}

/// Runs `change` on the variables at `place`, writing them back.
fn change<T>(
    store: &mut Store,
    place: &Place,
    change: impl FnOnce(&mut Vec<Variable>) -> Result<T, ApiError>,
) -> Result<T, ApiError> {
    match *place {
        Place::Repo(i) => change(&mut store.repos[i].pipeline_variables),
        Place::Environment(i, e) => change(&mut store.repos[i].environments[e].variables),
        Place::Workspace(w) => change(&mut store.workspaces[w].pipeline_variables),
        Place::User(u) => {
            let mut own = variables(store, place);
            let result = change(&mut own)?;
            store.user_variables.retain(|(owner, _)| *owner != u);
            store.user_variables.extend(own.into_iter().map(|v| (u, v)));
            Ok(result)
        }
    }
}

async fn list(app: Shared, params: Params, uri: Uri, scope: Scope) -> Answer {
    let store = app.store();
    let place = scope.place(&store, &params)?;
    let items = variables(&store, &place)
        .iter()
        .map(|v| render(scope.kind(), v))
        .collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, scope: Scope) -> Answer {
    let store = app.store();
    let place = scope.place(&store, &params)?;
    let list = variables(&store, &place);
    let i = find(&list, &params)?;
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
    let place = scope.place(&store, &params)?;
    let created_one = change(&mut store, &place, |list| {
        if list.iter().any(|v| v.key == key) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("A variable with the key {key} already exists."),
            ));
        }
        let v = Variable {
            uuid: ids::uuid(),
            key,
            value: value.to_string(),
            secured,
        };
        list.push(v.clone());
        Ok(v)
    })?;
    created(render(scope.kind(), &created_one))
}

/// Changes `key`, `value` or `secured`; a secured variable cannot be made unsecured (its
/// value would show), as on Bitbucket.
async fn update(app: Shared, params: Params, bytes: Bytes, scope: Scope) -> Answer {
    let request = body(&bytes)?;
    let key = text(&request, "/key")
        .map(|k| valid_key(Some(k)))
        .transpose()?;
    let secured = request.get("secured").and_then(Value::as_bool);
    let mut store = app.store();
    let place = scope.place(&store, &params)?;
    let updated = change(&mut store, &place, |list| {
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
        Ok(v.clone())
    })?;
    ok(render(scope.kind(), &updated))
}

async fn delete(app: Shared, params: Params, scope: Scope) -> Answer {
    let mut store = app.store();
    let place = scope.place(&store, &params)?;
    change(&mut store, &place, |list| {
        let i = find(list, &params)?;
        list.remove(i);
        Ok(())
    })?;
    no_content()
}

fn find(list: &[Variable], params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "variable_uuid");
    list.iter()
        .position(|v| ids::same_uuid(&v.uuid, id))
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

macro_rules! handlers {
    ($scope:expr, $list:ident, $get:ident, $create:ident, $update:ident, $delete:ident) => {
        pub(super) async fn $list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
            list(app, params, uri, $scope).await
        }
        // Deployment variables have no single-variable GET.
        #[allow(dead_code)]
        pub(super) async fn $get(State(app): State<Shared>, params: Params) -> Answer {
            get(app, params, $scope).await
        }
        pub(super) async fn $create(
            State(app): State<Shared>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            create(app, params, bytes, $scope).await
        }
        pub(super) async fn $update(
            State(app): State<Shared>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            update(app, params, bytes, $scope).await
        }
        pub(super) async fn $delete(State(app): State<Shared>, params: Params) -> Answer {
            delete(app, params, $scope).await
        }
    };
}

handlers!(
    Scope::Pipeline,
    list_pipeline,
    get_pipeline,
    create_pipeline,
    update_pipeline,
    delete_pipeline
);
handlers!(
    Scope::Deployment,
    list_deployment,
    get_deployment,
    create_deployment,
    update_deployment,
    delete_deployment
);
handlers!(
    Scope::Workspace,
    list_workspace,
    get_workspace,
    create_workspace,
    update_workspace,
    delete_workspace
);
handlers!(
    Scope::User,
    list_user,
    get_user,
    create_user,
    update_user,
    delete_user
);

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
