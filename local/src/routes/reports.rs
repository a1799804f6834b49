//! Code Insights (`/commit/{commit}/reports`): reports a tool makes on a commit (a test run, a
//! coverage or security scan), identified by the tool's own id, with up to 1,000 annotations
//! on lines of files. Creating with an id that exists replaces.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Map, Value, json};

use super::{Answer, Params, Shared, no_content, numbered, ok, param, repo, repo_index};
use crate::errors::ApiError;
use crate::render::{Urls, escape, href};
use crate::store::{Annotation, Repo, Report};
use crate::{clock, ids};

/// Annotations one report may hold, and one request may send.
const MAX_ANNOTATIONS: usize = 1000;
const MAX_PER_REQUEST: usize = 100;

/// The members a report keeps, each with the values it may take (`None`: any of its JSON type).
const REPORT_FIELDS: &[(&str, Option<&[&str]>)] = &[
    ("title", None),
    ("details", None),
    (
        "report_type",
        Some(&["SECURITY", "COVERAGE", "TEST", "BUG"]),
    ),
    ("reporter", None),
    ("link", None),
    ("logo_url", None),
    ("remote_link_enabled", None),
    ("result", Some(&["PASSED", "FAILED", "PENDING"])),
    ("data", None),
];
const ANNOTATION_FIELDS: &[(&str, Option<&[&str]>)] = &[
    (
        "annotation_type",
        Some(&["VULNERABILITY", "CODE_SMELL", "BUG"]),
    ),
    ("path", None),
    ("line", None),
    ("summary", None),
    ("details", None),
    ("result", Some(&["PASSED", "FAILED", "SKIPPED", "IGNORED"])),
    ("severity", Some(&["CRITICAL", "HIGH", "MEDIUM", "LOW"])),
    ("link", None),
];

impl Urls {
    fn report(&self, repo: &Repo, r: &Report) -> Value {
        let mut value = Value::Object(r.fields.clone());
        value["type"] = json!("report");
        value["uuid"] = json!(r.uuid);
        value["external_id"] = json!(r.external_id);
        value["commit_hash"] = json!(r.commit);
        value["created_on"] = json!(r.created_on);
        value["updated_on"] = json!(r.updated_on);
        value["links"] = json!({ "self": href(format!(
            "{}/commit/{}/reports/{}",
            self.repo_api(repo),
            r.commit,
            escape(&r.uuid)
        )) });
        value
    }

    fn annotation(&self, repo: &Repo, r: &Report, a: &Annotation) -> Value {
        let mut value = Value::Object(a.fields.clone());
        value["type"] = json!("report_annotation");
        value["uuid"] = json!(a.uuid);
        value["external_id"] = json!(a.external_id);
        value["created_on"] = json!(a.created_on);
        value["updated_on"] = json!(a.updated_on);
        value["links"] = json!({ "self": href(format!(
            "{}/commit/{}/reports/{}/annotations/{}",
            self.repo_api(repo),
            r.commit,
            escape(&r.uuid),
            escape(&a.uuid)
        )) });
        value
    }
}

/// The members of `request` a report or annotation keeps, checked against `allowed`;
/// `required` must be there (or be in `previous`).
fn fields(
    request: &Value,
    allowed: &[(&str, Option<&[&str]>)],
    required: &[&str],
    previous: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>, ApiError> {
    let Some(object) = request.as_object() else {
        return Err(ApiError::bad_request("Bad request: expected a JSON object"));
    };
    let mut kept = previous.cloned().unwrap_or_default();
    for (name, choices) in allowed {
        let Some(value) = object.get(*name) else {
            continue;
        };
        if let Some(choices) = choices {
            let ok = value.as_str().is_some_and(|v| choices.contains(&v));
            if !ok {
                return Err(ApiError::bad_request(format!(
                    "{name}: {value} is not one of {}",
                    choices.join(", ")
                ))
                .field(name, &format!("one of {}", choices.join(", "))));
            }
        }
        kept.insert(name.to_string(), value.clone());
    }
    for name in required {
        if kept.get(*name).is_none_or(Value::is_null) {
            return Err(
                ApiError::bad_request(format!("{name}: This field is required."))
                    .field(name, "This field is required."),
            );
        }
    }
    Ok(kept)
}

use super::commit_hash as commit;

/// The report the path names: by its external id or its `{uuid}`.
fn report(repo: &Repo, hash: &str, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "reportId");
    repo.reports
        .iter()
        .position(|r| r.commit == hash && (r.external_id == id || ids::same(&r.uuid, id)))
        .ok_or_else(|| ApiError::not_found(format_args!("Report {id}")))
}

fn annotation(r: &Report, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "annotationId");
    r.annotations
        .iter()
        .position(|a| a.external_id == id || ids::same(&a.uuid, id))
        .ok_or_else(|| ApiError::not_found(format_args!("Annotation {id}")))
}

fn json_body(bytes: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(bytes).map_err(ApiError::invalid_body)
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = commit(repo, &params)?;
    let items = repo
        .reports
        .iter()
        .filter(|r| r.commit == hash)
        .map(|r| app.urls.report(repo, r))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = commit(repo, &params)?;
    let at = report(repo, &hash, &params)?;
    ok(app.urls.report(repo, &repo.reports[at]))
}

/// Creates the report, or replaces the one with this id (keeping its annotations).
pub(super) async fn put(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = json_body(&bytes)?;
    let kept = fields(
        &request,
        REPORT_FIELDS,
        &["title", "details", "report_type"],
        None,
    )?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = commit(repo, &params)?;
    let now = clock::now();
    let at = match report(repo, &hash, &params) {
        Ok(at) => {
            let r = &mut repo.reports[at];
            r.fields = kept;
            r.updated_on = now;
            at
        }
        Err(_) => {
            let id = param(&params, "reportId");
            repo.reports.push(Report {
                uuid: ids::uuid(),
                commit: hash,
                external_id: id.to_string(),
                fields: kept,
                created_on: now.clone(),
                updated_on: now,
                annotations: Vec::new(),
            });
            repo.reports.len() - 1
        }
    };
    let repo = &store.repos[index];
    ok(app.urls.report(repo, &repo.reports[at]))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = commit(repo, &params)?;
    let at = report(repo, &hash, &params)?;
    repo.reports.remove(at);
    no_content()
}

pub(super) async fn list_annotations(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = commit(repo, &params)?;
    let r = &repo.reports[report(repo, &hash, &params)?];
    let items = r
        .annotations
        .iter()
        .map(|a| app.urls.annotation(repo, r, a))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_annotation(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = commit(repo, &params)?;
    let r = &repo.reports[report(repo, &hash, &params)?];
    let a = &r.annotations[annotation(r, &params)?];
    ok(app.urls.annotation(repo, r, a))
}

/// Creates or replaces each annotation by its `external_id`, in `report`; the report holds
/// at most [`MAX_ANNOTATIONS`].
fn upsert(
    r: &mut Report,
    items: Vec<(String, Map<String, Value>)>,
) -> Result<Vec<usize>, ApiError> {
    let now = clock::now();
    let new = items
        .iter()
        .filter(|(id, _)| !r.annotations.iter().any(|a| a.external_id == *id))
        .count();
    if r.annotations.len().saturating_add(new) > MAX_ANNOTATIONS {
        return Err(ApiError::bad_request(format!(
            "A report holds at most {MAX_ANNOTATIONS} annotations"
        )));
    }
    let mut at = Vec::new();
    for (id, kept) in items {
        match r.annotations.iter().position(|a| a.external_id == id) {
            Some(i) => {
                r.annotations[i].fields = kept;
                r.annotations[i].updated_on = now.clone();
                at.push(i);
            }
            None => {
                r.annotations.push(Annotation {
                    uuid: ids::uuid(),
                    external_id: id,
                    fields: kept,
                    created_on: now.clone(),
                    updated_on: now.clone(),
                });
                at.push(r.annotations.len() - 1);
            }
        }
    }
    Ok(at)
}

/// `POST .../annotations`: up to 100 annotations, each with its `external_id`.
pub(super) async fn bulk_annotations(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = json_body(&bytes)?;
    let Some(list) = request.as_array() else {
        return Err(ApiError::bad_request(
            "Bad request: the body must be a JSON array of annotations",
        ));
    };
    if list.is_empty() || list.len() > MAX_PER_REQUEST {
        return Err(ApiError::bad_request(format!(
            "Send from 1 to {MAX_PER_REQUEST} annotations per request"
        )));
    }
    let mut items = Vec::new();
    for item in list {
        let Some(id) = item.get("external_id").and_then(Value::as_str) else {
            return Err(
                ApiError::bad_request("external_id: This field is required.")
                    .field("external_id", "each annotation needs its own id"),
            );
        };
        let kept = fields(
            item,
            ANNOTATION_FIELDS,
            &["annotation_type", "summary"],
            None,
        )?;
        items.push((id.to_string(), kept));
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = commit(repo, &params)?;
    let at = report(repo, &hash, &params)?;
    let positions = upsert(&mut repo.reports[at], items)?;
    let repo = &store.repos[index];
    let r = &repo.reports[at];
    ok(Value::Array(
        positions
            .into_iter()
            .map(|i| app.urls.annotation(repo, r, &r.annotations[i]))
            .collect(),
    ))
}

/// `PUT .../annotations/{annotationId}`: one annotation, by that id.
pub(super) async fn put_annotation(
    State(app): State<Shared>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = json_body(&bytes)?;
    let id = param(&params, "annotationId").to_string();
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = commit(repo, &params)?;
    let at = report(repo, &hash, &params)?;
    let previous = repo.reports[at]
        .annotations
        .iter()
        .find(|a| a.external_id == id)
        .map(|a| a.fields.clone());
    let kept = fields(
        &request,
        ANNOTATION_FIELDS,
        &["annotation_type", "summary"],
        previous.as_ref(),
    )?;
    let i = upsert(&mut repo.reports[at], vec![(id, kept)])?[0];
    let repo = &store.repos[index];
    let r = &repo.reports[at];
    ok(app.urls.annotation(repo, r, &r.annotations[i]))
}

pub(super) async fn delete_annotation(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = commit(repo, &params)?;
    let at = report(repo, &hash, &params)?;
    let r = &mut repo.reports[at];
    let i = annotation(r, &params)?;
    r.annotations.remove(i);
    no_content()
}
