//! `/repositories/{workspace}/{repo_slug}/hooks`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::Value;

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, param, repo, repo_index, text,
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
    let url = text(&request, "/url").unwrap_or_default();
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
    let names: Vec<&str> = request
        .get("events")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if names.is_empty() {
        return Err(ApiError::bad_request("events: This field is required.")
            .field("events", "at least one event key, such as repo:push"));
    }
    // Bitbucket's event keys are those the client's `EventKey` names (the document's
    // `webhook_subscription.events`); any other parses as `Other`.
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
    let hook = Hook {
        uuid: ids::uuid(),
        url: url.to_string(),
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
