//! Webhooks of a repository (`/repositories/{workspace}/{repo_slug}/hooks`) and of a
//! workspace (`/workspaces/{workspace}/hooks`, which get the events of all its repositories).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Value, json};

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo_index, text,
    workspace,
};
use crate::errors::ApiError;
use crate::render::{Urls, escape, href};
use crate::store::{Hook, Store, Workspace};
use crate::{clock, ids};

/// Whose hooks a request is about: a repository's or a workspace's (by index).
#[derive(Clone, Copy)]
enum Owner {
    Repo(usize),
    Workspace(usize),
}

impl Owner {
    fn of(store: &Store, params: &Params, workspace_level: bool) -> Result<Owner, ApiError> {
        if workspace_level {
            let slug = workspace(store, params)?.slug.clone();
            let at = store
                .workspaces
                .iter()
                .position(|w| w.slug == slug)
                .unwrap_or_default();
            Ok(Owner::Workspace(at))
        } else {
            repo_index(store, params).map(Owner::Repo)
        }
    }

    fn hooks(self, store: &Store) -> &Vec<Hook> {
        match self {
            Owner::Repo(i) => &store.repos[i].hooks,
            Owner::Workspace(i) => &store.workspaces[i].hooks,
        }
    }

    fn hooks_mut(self, store: &mut Store) -> &mut Vec<Hook> {
        match self {
            Owner::Repo(i) => &mut store.repos[i].hooks,
            Owner::Workspace(i) => &mut store.workspaces[i].hooks,
        }
    }

    fn render(self, app: &Shared, store: &Store, hook: &Hook) -> Value {
        match self {
            Owner::Repo(i) => app.urls.hook(&store.repos[i], hook),
            Owner::Workspace(i) => app.urls.workspace_hook(&store.workspaces[i], hook),
        }
    }
}

impl Urls {
    fn workspace_hook(&self, ws: &Workspace, hook: &Hook) -> Value {
        json!({
            "type": "webhook_subscription",
            "uuid": hook.uuid,
            "url": hook.url,
            "description": hook.description,
            "subject_type": "workspace",
            "subject": {
                "type": "workspace",
                "uuid": ws.uuid,
                "slug": ws.slug,
                "name": ws.name,
                "links": { "self": href(format!("{}/workspaces/{}", self.api, ws.slug)) },
            },
            "active": hook.active,
            "events": hook.events,
            "secret_set": hook.secret.is_some(),
            "created_at": hook.created_at,
            "links": {
                "self": href(format!("{}/workspaces/{}/hooks/{}", self.api, ws.slug, escape(&hook.uuid))),
            },
        })
    }
}

async fn list_at(app: Shared, params: Params, uri: Uri, level: bool) -> Answer {
    let store = app.store();
    let owner = Owner::of(&store, &params, level)?;
    let items = owner
        .hooks(&store)
        .iter()
        .map(|h| owner.render(&app, &store, h))
        .collect();
    numbered(&app, &uri, items)
}

async fn create_at(app: Shared, params: Params, bytes: Bytes, level: bool) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let owner = Owner::of(&store, &params, level)?;
    let Some(url) = valid_url(&request)? else {
        return Err(ApiError::bad_request("url: This field is required.")
            .field("url", "an absolute http(s) URL is required"));
    };
    let Some(events) = valid_events(&request)? else {
        return Err(ApiError::bad_request("events: This field is required.")
            .field("events", "at least one event key, such as repo:push"));
    };
    let hook = Hook {
        uuid: ids::uuid(),
        url,
        description: text(&request, "/description")
            .unwrap_or_default()
            .to_string(),
        events,
        active: request
            .get("active")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        secret: text(&request, "/secret")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        created_at: clock::now(),
    };
    owner.hooks_mut(&mut store).push(hook);
    let hook = owner.hooks(&store).last().expect("just pushed");
    created(owner.render(&app, &store, hook))
}

async fn get_at(app: Shared, params: Params, level: bool) -> Answer {
    let store = app.store();
    let owner = Owner::of(&store, &params, level)?;
    let at = find(owner.hooks(&store), &params)?;
    ok(owner.render(&app, &store, &owner.hooks(&store)[at]))
}

/// Changes what the body sets: `url`, `description`, `events`, `active`, and `secret` (a new
/// one; `null` or `""` removes it). The secret is never answered, only `secret_set`.
async fn update_at(app: Shared, params: Params, bytes: Bytes, level: bool) -> Answer {
    let request = body(&bytes)?;
    let url = valid_url(&request)?;
    let events = valid_events(&request)?;
    let mut store = app.store();
    let owner = Owner::of(&store, &params, level)?;
    let at = find(owner.hooks(&store), &params)?;
    let hook = &mut owner.hooks_mut(&mut store)[at];
    if let Some(url) = url {
        hook.url = url;
    }
    if let Some(events) = events {
        hook.events = events;
    }
    if let Some(description) = text(&request, "/description") {
        hook.description = description.to_string();
    }
    if let Some(active) = request.get("active").and_then(Value::as_bool) {
        hook.active = active;
    }
    match request.get("secret") {
        None => {}
        Some(Value::String(secret)) if !secret.is_empty() => hook.secret = Some(secret.clone()),
        Some(Value::String(_) | Value::Null) => hook.secret = None,
        Some(_) => {
            return Err(ApiError::bad_request("secret: must be a string")
                .field("secret", "a string, or null to remove it"));
        }
    }
    ok(owner.render(&app, &store, &owner.hooks(&store)[at]))
}

async fn delete_at(app: Shared, params: Params, level: bool) -> Answer {
    let mut store = app.store();
    let owner = Owner::of(&store, &params, level)?;
    let at = find(owner.hooks(&store), &params)?;
    owner.hooks_mut(&mut store).remove(at);
    no_content()
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list_at(app, params, uri, false).await
}
pub(super) async fn create(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    create_at(app, params, bytes, false).await
}
pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    get_at(app, params, false).await
}
pub(super) async fn update(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    update_at(app, params, bytes, false).await
}
pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    delete_at(app, params, false).await
}
pub(super) async fn list_workspace(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    list_at(app, params, uri, true).await
}
pub(super) async fn create_workspace(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    create_at(app, params, bytes, true).await
}
pub(super) async fn get_workspace(State(app): State<Shared>, params: Params) -> Answer {
    get_at(app, params, true).await
}
pub(super) async fn update_workspace(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    update_at(app, params, bytes, true).await
}
pub(super) async fn delete_workspace(State(app): State<Shared>, params: Params) -> Answer {
    delete_at(app, params, true).await
}

/// The hook the path names (`{uuid}`, braces optional).
fn find(hooks: &[Hook], params: &Params) -> Result<usize, ApiError> {
    let uid = param(params, "uid");
    hooks
        .iter()
        .position(|h| ids::same_uuid(&h.uuid, uid))
        .ok_or_else(|| ApiError::not_found(format_args!("Webhook {uid}")))
}

/// The body's `url`, when it sets one, checked.
fn valid_url(request: &Value) -> Result<Option<String>, ApiError> {
    let Some(url) = request.get("url") else {
        return Ok(None);
    };
    let url = url.as_str().unwrap_or_default();
    let parsed = url.parse::<axum::http::Uri>().ok();
    let absolute = parsed.is_some_and(|u| {
        matches!(u.scheme_str(), Some("http" | "https")) && u.authority().is_some()
    });
    if !absolute {
        return Err(
            ApiError::bad_request(format!("url: Enter a valid URL: {url:?}"))
                .field("url", "an absolute http(s) URL is required"),
        );
    }
    Ok(Some(url.to_string()))
}

/// The body's `events`, when it sets them, checked: Bitbucket's event keys are those the
/// client's `EventKey` names (the document's `webhook_subscription.events`); any other parses
/// as `Other`.
fn valid_events(request: &Value) -> Result<Option<Vec<EventKey>>, ApiError> {
    let Some(list) = request.get("events") else {
        return Ok(None);
    };
    let names: Vec<&str> = list
        .as_array()
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::bad_request("events: This field is required.")
            .field("events", "at least one event key, such as repo:push"));
    }
    let mut events: Vec<EventKey> = Vec::new();
    for name in names {
        let key = name
            .parse::<EventKey>()
            .ok()
            .filter(|k| !matches!(k, EventKey::Other(_)));
        let Some(key) = key else {
            return Err(
                ApiError::bad_request(format!("events: {name} is not a valid event"))
                    .field("events", &format!("{name} is not a valid event")),
            );
        };
        if !events.contains(&key) {
            events.push(key);
        }
    }
    Ok(Some(events))
}

/// `GET /hook_events`: the subjects hooks can be installed on, and where their events are
/// listed.
pub(super) async fn subject_types(State(app): State<Shared>) -> Answer {
    let link = |subject: &str| json!({ "links": { "events": href(format!("{}/hook_events/{subject}", app.urls.api)) } });
    ok(json!({ "repository": link("repository"), "workspace": link("workspace") }))
}

/// `GET /hook_events/{subject_type}`: every event key a hook can subscribe to, with its
/// category and a label (the keys of the client's `EventKey`).
pub(super) async fn event_types(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let subject = param(&params, "subject_type");
    if !matches!(subject, "repository" | "workspace") {
        return Err(ApiError::not_found(format_args!("Subject type {subject}")));
    }
    let items = bitbucket_cloud::webhooks::Event::TYPED_KEYS
        .iter()
        .chain(bitbucket_cloud::webhooks::Event::UNTYPED_KEYS)
        .map(|key| {
            let key = key.to_string();
            let (prefix, action) = key.split_once(':').unwrap_or((&key, ""));
            let category = match prefix {
                "repo" => "Repository",
                "pullrequest" => "Pull Request",
                "issue" => "Issue",
                "project" => "Project",
                "pipeline" => "Pipeline",
                other => other,
            };
            let mut label = action.replace('_', " ");
            if let Some(first) = label.get(..1) {
                label = format!("{}{}", first.to_ascii_uppercase(), &label[1..]);
            }
            json!({
                "type": "hook_event",
                "event": key,
                "category": category,
                "label": label,
                "description": format!("{category}: {}", action.replace('_', " ")),
            })
        })
        .collect();
    numbered(&app, &uri, items)
}
