//! Self-hosted pipelines runners of a repository (`/pipelines-config/runners`) and of a
//! workspace. A runner is created `UNREGISTERED` (no runner process ever connects here) with
//! an OAuth client whose secret is answered once, in the creation's answer, and never kept;
//! updating its `state.status` to `DISABLED` or `ENABLED` turns it off or on.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, body, no_content, numbered, ok, param, repo_index, text};
use crate::errors::ApiError;
use crate::store::{Runner, Store};
use crate::{clock, ids};

/// Where the runners of a request are: a repository's or a workspace's (by index).
#[derive(Clone, Copy)]
enum Owner {
    Repo(usize),
    Workspace(usize),
}

fn owner(store: &Store, params: &Params, workspace_level: bool) -> Result<Owner, ApiError> {
    if !workspace_level {
        return repo_index(store, params).map(Owner::Repo);
    }
    let name = param(params, "workspace");
    store
        .workspaces
        .iter()
        .position(|w| ids::same(&w.slug, name) || ids::same(&w.uuid, name))
        .map(Owner::Workspace)
        .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))
}

fn runners(store: &mut Store, owner: Owner) -> &mut Vec<Runner> {
    match owner {
        Owner::Repo(i) => &mut store.repos[i].runners,
        Owner::Workspace(i) => &mut store.workspaces[i].runners,
    }
}

fn render(r: &Runner) -> Value {
    json!({
        "type": "pipeline_runner",
        "uuid": r.uuid,
        "name": r.name,
        "labels": r.labels,
        "state": {
            "type": "pipeline_runner_state",
            "status": r.status,
            "updated_on": r.updated_on,
            "cordoned": false,
        },
        "oauth_client": {
            "type": "pipeline_runner_oauth_client",
            "id": r.client_id,
        },
        "created_on": r.created_on,
        "updated_on": r.updated_on,
    })
}

fn find(list: &[Runner], params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "runner_uuid");
    list.iter()
        .position(|r| ids::same_uuid(&r.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Runner {id}")))
}

/// `name`, and `labels` that include `self.hosted`, checked.
fn fields(
    request: &Value,
    name_required: bool,
) -> Result<(Option<String>, Option<Vec<String>>), ApiError> {
    let name = text(request, "/name").map(str::trim).map(str::to_string);
    if name_required && name.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::bad_request("name: This field is required.")
            .field("name", "This field is required."));
    }
    let labels = match request.get("labels") {
        None => None,
        Some(list) => {
            let labels: Vec<String> = list
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            if !labels.iter().any(|l| l == "self.hosted") {
                return Err(ApiError::bad_request("labels: must include self.hosted")
                    .field("labels", "a runner's labels include self.hosted"));
            }
            Some(labels)
        }
    };
    Ok((name, labels))
}

async fn list(app: Shared, params: Params, uri: Uri, level: bool) -> Answer {
    let mut store = app.store();
    let owner = owner(&store, &params, level)?;
    let items = runners(&mut store, owner).iter().map(render).collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, level: bool) -> Answer {
    let mut store = app.store();
    let owner = owner(&store, &params, level)?;
    let list = runners(&mut store, owner);
    let at = find(list, &params)?;
    ok(render(&list[at]))
}

/// Answers the runner with its OAuth client's `secret`, the only time it is shown.
async fn create(app: Shared, params: Params, bytes: Bytes, level: bool) -> Answer {
    let request = body(&bytes)?;
    let (name, labels) = fields(&request, true)?;
    let mut store = app.store();
    let owner = owner(&store, &params, level)?;
    let now = clock::now();
    let runner = Runner {
        uuid: ids::uuid(),
        name: name.unwrap_or_default(),
        labels: labels.unwrap_or_else(|| vec!["self.hosted".into(), "linux".into()]),
        status: "UNREGISTERED".into(),
        client_id: ids::hex(uuid::Uuid::new_v4().as_bytes()),
        created_on: now.clone(),
        updated_on: now,
    };
    let mut value = render(&runner);
    value["oauth_client"]["secret"] = json!(ids::hex(uuid::Uuid::new_v4().as_bytes()));
    runners(&mut store, owner).push(runner);
    ok(value)
}

async fn update(app: Shared, params: Params, bytes: Bytes, level: bool) -> Answer {
    let request = body(&bytes)?;
    let (name, labels) = fields(&request, false)?;
    let status = text(&request, "/state/status");
    if let Some(status) = status
        && !matches!(status, "ENABLED" | "DISABLED")
    {
        return Err(ApiError::bad_request(format!("Invalid status: {status}"))
            .field("state", "status is ENABLED or DISABLED"));
    }
    let mut store = app.store();
    let owner = owner(&store, &params, level)?;
    let list = runners(&mut store, owner);
    let at = find(list, &params)?;
    let runner = &mut list[at];
    if let Some(name) = name.filter(|n| !n.is_empty()) {
        runner.name = name;
    }
    if let Some(labels) = labels {
        runner.labels = labels;
    }
    match status {
        Some("DISABLED") => runner.status = "DISABLED".into(),
        Some("ENABLED") => runner.status = "UNREGISTERED".into(),
        _ => {}
    }
    runner.updated_on = clock::now();
    ok(render(runner))
}

async fn delete(app: Shared, params: Params, level: bool) -> Answer {
    let mut store = app.store();
    let owner = owner(&store, &params, level)?;
    let list = runners(&mut store, owner);
    let at = find(list, &params)?;
    list.remove(at);
    no_content()
}

macro_rules! handlers {
    ($level:expr, $list:ident, $get:ident, $create:ident, $update:ident, $delete:ident) => {
        pub(super) async fn $list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
            list(app, params, uri, $level).await
        }
        pub(super) async fn $get(State(app): State<Shared>, params: Params) -> Answer {
            get(app, params, $level).await
        }
        pub(super) async fn $create(
            State(app): State<Shared>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            create(app, params, bytes, $level).await
        }
        pub(super) async fn $update(
            State(app): State<Shared>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            update(app, params, bytes, $level).await
        }
        pub(super) async fn $delete(State(app): State<Shared>, params: Params) -> Answer {
            delete(app, params, $level).await
        }
    };
}

handlers!(
    false,
    list_repo,
    get_repo,
    create_repo,
    update_repo,
    delete_repo
);
handlers!(
    true,
    list_workspace,
    get_workspace,
    create_workspace,
    update_workspace,
    delete_workspace
);
