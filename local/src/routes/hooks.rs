//! `/repositories/{workspace}/{repo_slug}/hooks`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::Value;

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::store::Hook;
use crate::{clock, ids};

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo.hooks.iter().map(|h| app.urls.hook(repo, h)).collect();
    numbered(&app, &uri, items)
}

pub(super) async fn create(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
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
    let repo = &mut store.repos[index];
    repo.hooks.push(hook);
    let repo = &store.repos[index];
    let value = app.urls.hook(repo, repo.hooks.last().expect("just pushed"));
    created(value)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = find(repo, &params)?;
    ok(app.urls.hook(repo, &repo.hooks[at]))
}

/// Changes what the body sets: `url`, `description`, `events`, `active`, and `secret` (a new
/// one; `null` or `""` removes it). The secret is never answered, only `secret_set`.
pub(super) async fn update(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let url = valid_url(&request)?;
    let events = valid_events(&request)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = find(&store.repos[index], &params)?;
    let hook = &mut store.repos[index].hooks[at];
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
    let repo = &store.repos[index];
    ok(app.urls.hook(repo, &repo.hooks[at]))
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

/// The hook the path names (`{uuid}`, braces optional).
fn find(repo: &crate::store::Repo, params: &Params) -> Result<usize, ApiError> {
    let uid = param(params, "uid");
    let bare = uid.trim_matches(['{', '}']);
    repo.hooks
        .iter()
        .position(|h| ids::same(h.uuid.trim_matches(['{', '}']), bare))
        .ok_or_else(|| ApiError::not_found(format_args!("Webhook {uid}")))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let uid = param(&params, "uid");
    let repo = &mut store.repos[index];
    let before = repo.hooks.len();
    repo.hooks
        .retain(|h| !ids::same(&h.uuid, uid) && !ids::same(h.uuid.trim_matches(['{', '}']), uid));
    if repo.hooks.len() == before {
        return Err(ApiError::not_found(format_args!("Webhook {uid}")));
    }
    no_content()
}
