//! SSH keys: deploy keys of a repository (`/deploy-keys`) and of a project, and an account's
//! SSH keys (`/users/{selected_user}/ssh-keys`). A key is `type base64 [comment]`, of a type
//! Bitbucket takes; the same key is not added twice to one owner.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::IntoResponse;
use base64::Engine as _;
use serde_json::{Value, json};

use super::{Answer, Params, Shared, body, no_content, numbered, ok, param, repo, text, workspace};
use crate::errors::ApiError;
use crate::render::href;
use crate::store::{AccessKey, KeyOwner, Store};
use crate::{clock, ids};

const TYPES: &[&str] = &[
    "ssh-rsa",
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Level {
    Repo,
    Project,
    User,
}

/// The owner the path names, and the base of its keys' URLs.
fn owner(
    app: &Shared,
    store: &Store,
    params: &Params,
    level: Level,
) -> Result<(KeyOwner, String), ApiError> {
    match level {
        Level::Repo => {
            let repo = repo(store, params)?;
            Ok((
                KeyOwner::Repo(repo.uuid.clone()),
                format!("{}/deploy-keys", app.urls.repo_api(repo)),
            ))
        }
        Level::Project => {
            let ws = workspace(store, params)?;
            let key = param(params, "project_key");
            let project = ws
                .project(key)
                .ok_or_else(|| ApiError::not_found(format_args!("Project {key}")))?;
            Ok((
                KeyOwner::Project(project.uuid.clone()),
                format!(
                    "{}/workspaces/{}/projects/{}/deploy-keys",
                    app.urls.api, ws.slug, project.key
                ),
            ))
        }
        Level::User => {
            let id = param(params, "selected_user");
            let user = store
                .user_index(id)
                .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))?;
            Ok((
                KeyOwner::User(user),
                format!(
                    "{}/users/{}/ssh-keys",
                    app.urls.api,
                    crate::render::escape(&store.users[user].uuid)
                ),
            ))
        }
    }
}

fn render(app: &Shared, store: &Store, base: &str, k: &AccessKey) -> Value {
    let mut value = json!({
        "key": k.key,
        "comment": k.comment,
        "label": k.label,
        "created_on": k.created_on,
        "last_used": null,
    });
    match &k.owner {
        KeyOwner::User(user) => {
            value["type"] = json!("ssh_key");
            value["uuid"] = json!(k.uuid);
            value["owner"] = app.urls.user(&store.users[*user]);
            value["links"] =
                json!({ "self": href(format!("{base}/{}", crate::render::escape(&k.uuid))) });
        }
        KeyOwner::Repo(uuid) => {
            value["type"] = json!("deploy_key");
            value["id"] = json!(k.id);
            if let Some(repo) = store.repos.iter().find(|r| r.uuid == *uuid) {
                value["repository"] = app.urls.repo_summary(repo);
            }
            value["links"] = json!({ "self": href(format!("{base}/{}", k.id)) });
        }
        KeyOwner::Project(_) => {
            value["type"] = json!("project_deploy_key");
            value["id"] = json!(k.id);
            value["links"] = json!({ "self": href(format!("{base}/{}", k.id)) });
        }
    }
    value
}

/// Where in `store.keys` the path's key of `owner` is: by id, or `{uuid}` for SSH keys.
fn find(store: &Store, owner: &KeyOwner, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "key_id");
    store
        .keys
        .iter()
        .position(|k| k.owner == *owner && (k.id.to_string() == id || ids::same_uuid(&k.uuid, id)))
        .ok_or_else(|| ApiError::not_found(format_args!("Key {id}")))
}

/// `type base64 [comment]`, checked: (key, comment).
fn parse_key(text: &str) -> Result<(String, String), ApiError> {
    let mut parts = text.split_whitespace();
    let (kind, data) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    let comment = parts.collect::<Vec<_>>().join(" ");
    let decodes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .is_ok();
    if !TYPES.contains(&kind) || data.is_empty() || !decodes {
        return Err(
            ApiError::bad_request("key: That isn't a valid SSH public key.").field(
                "key",
                "an OpenSSH public key: type, base64 data and an optional comment",
            ),
        );
    }
    Ok((format!("{kind} {data}"), comment))
}

async fn list(app: Shared, params: Params, uri: Uri, level: Level) -> Answer {
    let store = app.store();
    let (owner, base) = owner(&app, &store, &params, level)?;
    let items = store
        .keys
        .iter()
        .filter(|k| k.owner == owner)
        .map(|k| render(&app, &store, &base, k))
        .collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, level: Level) -> Answer {
    let store = app.store();
    let (owner, base) = owner(&app, &store, &params, level)?;
    let at = find(&store, &owner, &params)?;
    ok(render(&app, &store, &base, &store.keys[at]))
}

async fn create(app: Shared, params: Params, bytes: Bytes, level: Level) -> Answer {
    let request = body(&bytes)?;
    let (key, comment) = parse_key(text(&request, "/key").unwrap_or_default())?;
    let mut store = app.store();
    let (owner, base) = owner(&app, &store, &params, level)?;
    if store.keys.iter().any(|k| k.owner == owner && k.key == key) {
        return Err(ApiError::bad_request(
            "Someone has already added that access key to this account.",
        )
        .field("key", "this key is already added here"));
    }
    let id = store
        .keys
        .iter()
        .map(|k| k.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    store.keys.push(AccessKey {
        id,
        uuid: ids::uuid(),
        owner,
        key,
        comment,
        label: text(&request, "/label").unwrap_or_default().to_string(),
        created_on: clock::now(),
    });
    let value = render(&app, &store, &base, store.keys.last().expect("just pushed"));
    // Deploy keys are answered 200, SSH keys 201, as the document says.
    let status = if level == Level::User {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(value)).into_response())
}

/// Changes the `label` (and the `comment`, from a new `key` with the same key material).
async fn update(app: Shared, params: Params, bytes: Bytes, level: Level) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let (owner, base) = owner(&app, &store, &params, level)?;
    let at = find(&store, &owner, &params)?;
    if let Some(text) = text(&request, "/key") {
        let (key, comment) = parse_key(text)?;
        if key != store.keys[at].key {
            return Err(ApiError::bad_request(
                "key: the key itself cannot change; add a new key instead",
            )
            .field("key", "only the label and comment can change"));
        }
        store.keys[at].comment = comment;
    }
    if let Some(label) = text(&request, "/label") {
        store.keys[at].label = label.to_string();
    }
    ok(render(&app, &store, &base, &store.keys[at]))
}

async fn delete(app: Shared, params: Params, level: Level) -> Answer {
    let mut store = app.store();
    let (owner, _) = owner(&app, &store, &params, level)?;
    let at = find(&store, &owner, &params)?;
    store.keys.remove(at);
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
        // Projects' deploy keys have no update operation.
        #[allow(dead_code)]
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
    Level::Repo,
    list_repo,
    get_repo,
    create_repo,
    update_repo,
    delete_repo
);
handlers!(
    Level::Project,
    list_project,
    get_project,
    create_project,
    update_project,
    delete_project
);
handlers!(
    Level::User,
    list_user,
    get_user,
    create_user,
    update_user,
    delete_user
);
