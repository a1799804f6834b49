//! An issue's attachments (`/issues/{issue_id}/attachments`): uploaded as
//! `multipart/form-data`, listed by name, and read through a redirect to the storage host, as
//! downloads are. Uploading a name again replaces the file; deleting the issue deletes them.

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::json;

use super::files::{multipart, multipart_error, redirect};
use super::issues::{position, tracker};
use super::{Answer, Params, Shared, no_content, numbered, param};
use crate::blobs::Attachment;
use crate::clock;
use crate::errors::ApiError;
use crate::render::{href, segment};

/// The repository's `{uuid}`, the issue's id, and the issue's API URL, of the issue the path
/// names (or Bitbucket's 404).
fn issue(app: &Shared, params: &Params) -> Result<(String, u64, String), ApiError> {
    let store = app.store();
    let repo = &store.repos[tracker(&store, params)?];
    let id = repo.issues[position(repo, params)?].id;
    Ok((
        repo.uuid.clone(),
        id,
        format!("{}/issues/{id}", app.urls.repo_api(repo)),
    ))
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let (repo, id, api) = issue(&app, &params)?;
    let items = app
        .blobs()
        .attachments
        .iter()
        .filter(|((r, i, _), _)| *r == repo && *i == id)
        .map(|((_, _, name), a)| {
            json!({
                "type": "issue_attachment",
                "name": name,
                "size": a.content.len(),
                "created_on": a.created_on,
                "links": { "self": href(format!("{api}/attachments/{}", segment(name))) },
            })
        })
        .collect();
    numbered(&app, &uri, items)
}

/// `POST`: every file part of the form (whatever its field's name) is attached under its file
/// name; `201`, with the `Location` of the last one.
pub(super) async fn upload(State(app): State<Shared>, params: Params, request: Request) -> Answer {
    let (repo, id, api) = issue(&app, &params)?;
    let mut form = multipart(request).await?;
    let mut last = None;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let Some(name) = field
            .file_name()
            .map(|n| n.rsplit(['/', '\\']).next().unwrap_or_default().to_string())
            .filter(|n| !n.is_empty() && n != "." && n != "..")
        else {
            continue;
        };
        let content = field.bytes().await.map_err(multipart_error)?;
        app.blobs().attachments.insert(
            (repo.clone(), id, name.clone()),
            Attachment {
                content,
                created_on: clock::now(),
            },
        );
        last = Some(name);
    }
    let Some(last) = last else {
        return Err(ApiError::bad_request(
            "No files: attach files as file fields of a multipart/form-data body",
        )
        .field("files", "This field is required."));
    };
    let location = format!("{api}/attachments/{}", segment(&last));
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// `GET`: a 302 to the file on the storage host.
pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let (repo, id, _) = issue(&app, &params)?;
    let name = param(&params, "path");
    let content = app
        .blobs()
        .attachments
        .get(&(repo, id, name.to_string()))
        .map(|a| a.content.clone())
        .ok_or_else(|| ApiError::not_found(format_args!("Attachment {name}")))?;
    let location = app.storage.sign(name, content, "application/octet-stream");
    Ok(redirect(StatusCode::FOUND, &location))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let (repo, id, _) = issue(&app, &params)?;
    let name = param(&params, "path");
    app.blobs()
        .attachments
        .remove(&(repo, id, name.to_string()))
        .ok_or_else(|| ApiError::not_found(format_args!("Attachment {name}")))?;
    no_content()
}
