//! The rest of a repository's pipelines configuration: schedules (kept, never fired: the
//! local server has no clock that runs them), SSH known hosts, the SSH key pair (whose private
//! key is never answered) and the next build number.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::store::{KnownHost, Repo, Schedule};
use crate::{clock, ids};

fn schedule(s: &Schedule) -> Value {
    json!({
        "type": "pipeline_schedule",
        "uuid": s.uuid,
        "enabled": s.enabled,
        "cron_pattern": s.cron,
        "target": {
            "type": "pipeline_ref_target",
            "ref_type": "branch",
            "ref_name": s.ref_name,
            "selector": { "type": s.selector.0, "pattern": s.selector.1 },
        },
        "created_on": s.created_on,
        "updated_on": s.updated_on,
    })
}

fn known_host(h: &KnownHost) -> Value {
    json!({
        "type": "pipeline_known_host",
        "uuid": h.uuid,
        "hostname": h.hostname,
        "public_key": {
            "type": "pipeline_ssh_public_key",
            "key_type": h.key_type,
            "key": h.key,
        },
    })
}

/// Finds by `{uuid}` (braces optional) the item the path's `name` parameter names.
fn by_uuid<T>(
    items: &[T],
    uuid: impl Fn(&T) -> &str,
    params: &Params,
    name: &str,
    what: &str,
) -> Result<usize, ApiError> {
    let id = param(params, name);
    items
        .iter()
        .position(|item| ids::same_uuid(uuid(item), id))
        .ok_or_else(|| ApiError::not_found(format_args!("{what} {id}")))
}

/// A Quartz cron expression as Bitbucket takes it: 6 or 7 fields.
fn valid_cron(cron: &str) -> bool {
    let fields = cron.split_whitespace().count();
    (6..=7).contains(&fields)
        && cron
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " *?/,-#LW".contains(c))
}

pub(super) async fn list_schedules(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .pipeline_settings
        .schedules
        .iter()
        .map(schedule)
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_schedule(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let list = &repo.pipeline_settings.schedules;
    let at = by_uuid(list, |s| &s.uuid, &params, "schedule_uuid", "Schedule")?;
    ok(schedule(&list[at]))
}

/// Needs `target` (a branch, with a `selector`) and `cron_pattern`.
pub(super) async fn create_schedule(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo: &mut Repo = &mut store.repos[index];
    let cron = text(&request, "/cron_pattern").unwrap_or_default();
    if !valid_cron(cron) {
        return Err(
            ApiError::bad_request(format!("Invalid cron pattern: {cron:?}")).field(
                "cron_pattern",
                "a Quartz cron expression of 6 or 7 fields, e.g. 0 0 12 * * ? *",
            ),
        );
    }
    let ref_name = text(&request, "/target/ref_name").unwrap_or_default();
    if !repo.branches.contains_key(ref_name) {
        return Err(
            ApiError::bad_request(format!("Branch {ref_name:?} not found"))
                .field("target", "ref_name must be an existing branch"),
        );
    }
    let selector = (
        text(&request, "/target/selector/type")
            .unwrap_or("branches")
            .to_string(),
        text(&request, "/target/selector/pattern")
            .unwrap_or(ref_name)
            .to_string(),
    );
    let now = clock::now();
    let s = Schedule {
        uuid: ids::uuid(),
        enabled: request
            .get("enabled")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        ref_name: ref_name.to_string(),
        selector,
        cron: cron.to_string(),
        created_on: now.clone(),
        updated_on: now,
    };
    let value = schedule(&s);
    repo.pipeline_settings.schedules.push(s);
    created(value)
}

/// Only `enabled` changes, as on Bitbucket.
pub(super) async fn update_schedule(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let list = &mut store.repos[index].pipeline_settings.schedules;
    let at = by_uuid(list, |s| &s.uuid, &params, "schedule_uuid", "Schedule")?;
    if let Some(enabled) = request.get("enabled").and_then(Value::as_bool) {
        list[at].enabled = enabled;
        list[at].updated_on = clock::now();
    }
    ok(schedule(&list[at]))
}

pub(super) async fn delete_schedule(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let list = &mut store.repos[index].pipeline_settings.schedules;
    let at = by_uuid(list, |s| &s.uuid, &params, "schedule_uuid", "Schedule")?;
    list.remove(at);
    no_content()
}

/// Schedules never fire here: the list is empty for a schedule that exists.
pub(super) async fn list_executions(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let list = &repo.pipeline_settings.schedules;
    by_uuid(list, |s| &s.uuid, &params, "schedule_uuid", "Schedule")?;
    numbered(&app, &uri, Vec::new())
}

pub(super) async fn list_known_hosts(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .pipeline_settings
        .known_hosts
        .iter()
        .map(known_host)
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_known_host(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let list = &repo.pipeline_settings.known_hosts;
    let at = by_uuid(list, |h| &h.uuid, &params, "known_host_uuid", "Known host")?;
    ok(known_host(&list[at]))
}

/// The `hostname` and `public_key` of a body, checked.
fn host_fields(request: &Value) -> Result<(String, String, String), ApiError> {
    let hostname = text(request, "/hostname").unwrap_or_default().trim();
    let key_type = text(request, "/public_key/key_type").unwrap_or_default();
    let key = text(request, "/public_key/key").unwrap_or_default();
    if hostname.is_empty() {
        return Err(ApiError::bad_request("hostname: This field is required.")
            .field("hostname", "This field is required."));
    }
    if key_type.is_empty() || key.is_empty() {
        return Err(
            ApiError::bad_request("public_key: key_type and key are required.")
                .field("public_key", "the host's key type and base64 key"),
        );
    }
    Ok((hostname.to_string(), key_type.to_string(), key.to_string()))
}

pub(super) async fn create_known_host(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let (hostname, key_type, key) = host_fields(&request)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let list = &mut store.repos[index].pipeline_settings.known_hosts;
    if list.iter().any(|h| h.hostname == hostname) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("A known host {hostname} already exists."),
        ));
    }
    let host = KnownHost {
        uuid: ids::uuid(),
        hostname,
        key_type,
        key,
    };
    let value = known_host(&host);
    list.push(host);
    created(value)
}

pub(super) async fn update_known_host(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let (hostname, key_type, key) = host_fields(&request)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let list = &mut store.repos[index].pipeline_settings.known_hosts;
    let at = by_uuid(list, |h| &h.uuid, &params, "known_host_uuid", "Known host")?;
    list[at].hostname = hostname;
    list[at].key_type = key_type;
    list[at].key = key;
    ok(known_host(&list[at]))
}

pub(super) async fn delete_known_host(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let list = &mut store.repos[index].pipeline_settings.known_hosts;
    let at = by_uuid(list, |h| &h.uuid, &params, "known_host_uuid", "Known host")?;
    list.remove(at);
    no_content()
}

fn key_pair(public_key: &str) -> Value {
    json!({ "type": "pipeline_ssh_key_pair", "public_key": public_key })
}

pub(super) async fn get_key_pair(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let (_, public) = repo
        .pipeline_settings
        .key_pair
        .as_ref()
        .ok_or_else(|| ApiError::not_found("SSH key pair"))?;
    ok(key_pair(public))
}

/// Sets the pair (`private_key` and `public_key`); answers the public key only.
pub(super) async fn update_key_pair(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let private = text(&request, "/private_key").unwrap_or_default();
    let public = text(&request, "/public_key").unwrap_or_default();
    if private.trim().is_empty() || public.trim().is_empty() {
        return Err(
            ApiError::bad_request("private_key and public_key are required")
                .field("private_key", "This field is required.")
                .field("public_key", "This field is required."),
        );
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    store.repos[index].pipeline_settings.key_pair = Some((private.to_string(), public.to_string()));
    ok(key_pair(public))
}

pub(super) async fn delete_key_pair(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    store.repos[index]
        .pipeline_settings
        .key_pair
        .take()
        .ok_or_else(|| ApiError::not_found("SSH key pair"))?;
    no_content()
}

/// `PUT /pipelines_config/build_number` with `{"next": N}`: the next pipeline gets build
/// number `N`, which must be above every build number given so far.
pub(super) async fn update_build_number(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let current = repo.next_build_number();
    let Some(next) = request.get("next").and_then(Value::as_u64) else {
        return Err(ApiError::bad_request("next: This field is required.")
            .field("next", "the build number of the next pipeline"));
    };
    if next < current {
        return Err(ApiError::bad_request(format!(
            "The next build number must be at least {current}"
        ))
        .field("next", "must be above the build numbers given so far"));
    }
    repo.pipeline_settings.next_build_number = next;
    ok(json!({ "type": "pipeline_build_number", "next": next }))
}
