//! Snippets (`/snippets`): small sets of files owned by a workspace, versioned as commits
//! (their title and privacy are not), with comments and watchers.
//!
//! They are created and changed with `multipart/form-data` (`title`, `is_private` and file
//! fields, as `curl -F file=@foo.txt` sends them) or with JSON, which carries no file
//! contents: only the title, privacy, and `{"files": {"name": null}}` to delete a file.
//! (Bitbucket's `multipart/related` form is answered 415.) A file's raw content is served with
//! `Content-Disposition: attachment`; `…/files/{path}` without a revision is a 302 to the head
//! revision's file, as on Bitbucket. Bitbucket sends no webhooks for snippets; nor does this.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::files::{self, multipart, multipart_error};
use super::{Answer, Caller, Params, Shared, body, created, no_content, numbered, ok, param, text};
use crate::errors::ApiError;
use crate::render::{Urls, href, html_escape, segment};
use crate::store::{Snippet, SnippetComment, SnippetRevision, Store, Tree};
use crate::{clock, diff, ids};

/// What a create or update request asks for: `None` leaves a property as it is.
#[derive(Default)]
struct Edit {
    title: Option<String>,
    is_private: Option<bool>,
    /// File name → new content, or `None` to delete it.
    files: Vec<(String, Option<Bytes>)>,
}

/// Reads a request's body as JSON or `multipart/form-data`.
async fn edit(request: Request) -> Result<Edit, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut form = multipart(request).await?;
        let mut edit = Edit::default();
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            let name = field.name().unwrap_or_default().to_string();
            let file_name = field
                .file_name()
                .map(|n| n.rsplit(['/', '\\']).next().unwrap_or_default().to_string());
            let value = field.bytes().await.map_err(multipart_error)?;
            match (name.as_str(), file_name) {
                (_, Some(file)) if !file.is_empty() => {
                    edit.files.push((file, Some(value)));
                }
                ("title", _) => edit.title = Some(String::from_utf8_lossy(&value).into_owned()),
                ("is_private", _) => edit.is_private = Some(boolean(&value)?),
                _ => {}
            }
        }
        return Ok(edit);
    }
    if content_type.starts_with("multipart/") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "bitbucket-cloud-local reads snippets as multipart/form-data or JSON",
        )
        .detail("Send the title and files as multipart/form-data fields instead"));
    }
    let bytes = Bytes::from_request(request, &())
        .await
        .map_err(|e| ApiError::bad_request(format!("the body cannot be read: {e}")))?;
    let request = body(&bytes)?;
    let mut edit = Edit::default();
    match request.get("title") {
        Some(Value::Null) => edit.title = Some(String::new()),
        Some(Value::String(title)) => edit.title = Some(title.clone()),
        Some(_) => {
            return Err(ApiError::bad_request("title: must be a string or null")
                .field("title", "a string or null"));
        }
        None => {}
    }
    match request.get("is_private") {
        Some(Value::Bool(private)) => edit.is_private = Some(*private),
        Some(Value::Null) | None => {}
        Some(_) => {
            return Err(ApiError::bad_request("is_private: must be true or false")
                .field("is_private", "true or false"));
        }
    }
    if let Some(files) = request.get("files").and_then(Value::as_object) {
        for (name, file) in files {
            if file.is_null() {
                edit.files.push((name.clone(), None));
            }
        }
    }
    Ok(edit)
}

fn boolean(value: &[u8]) -> Result<bool, ApiError> {
    match value {
        b"true" | b"1" => Ok(true),
        b"false" | b"0" => Ok(false),
        _ => Err(ApiError::bad_request("is_private: must be true or false")
            .field("is_private", "true or false")),
    }
}

/// A new snippet id: five lower-case letters and digits, like Bitbucket's.
fn new_id(store: &Store) -> String {
    const DIGITS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    loop {
        let id: String = uuid::Uuid::new_v4().as_bytes()[..5]
            .iter()
            .map(|b| char::from(DIGITS[usize::from(*b) % DIGITS.len()]))
            .collect();
        if !store.snippets.iter().any(|s| s.id == id) {
            return id;
        }
    }
}

impl Urls {
    fn snippet_api(&self, s: &Snippet) -> String {
        format!("{}/snippets/{}/{}", self.api, s.workspace, s.id)
    }

    fn snippet_web(&self, s: &Snippet) -> String {
        format!("{}/snippets/{}/{}", self.web, s.workspace, s.id)
    }

    /// The snippet as at `revision` (its head unless given), as Bitbucket's JSON has it.
    fn snippet(&self, store: &Store, s: &Snippet, revision: Option<&SnippetRevision>) -> Value {
        let api = self.snippet_api(s);
        let web = self.snippet_web(s);
        let revision = revision.or(s.revisions.last());
        let files: serde_json::Map<String, Value> = revision
            .map(|r| {
                r.files
                    .keys()
                    .map(|name| {
                        (
                            name.clone(),
                            json!({ "links": {
                                "self": href(format!("{api}/{}/files/{name}", r.hash)),
                                "html": href(format!("{web}/revisions/{}#{name}", r.hash)),
                            } }),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let owner = store
            .workspace(&s.workspace)
            .map_or(Value::Null, |ws| self.workspace(ws));
        let head = revision.map(|r| r.hash.clone()).unwrap_or_default();
        json!({
            "type": "snippet",
            "id": s.id,
            "title": s.title,
            "scm": "git",
            "is_private": s.is_private,
            "created_on": s.created_on,
            "updated_on": s.updated_on,
            "owner": owner,
            "creator": self.user(&store.users[s.creator]),
            "files": files,
            "links": {
                "self": href(api.clone()),
                "html": href(web.clone()),
                "comments": href(format!("{api}/comments")),
                "watchers": href(format!("{api}/watchers")),
                "commits": href(format!("{api}/commits")),
                "diff": href(format!("{api}/{head}/diff")),
                "patch": href(format!("{api}/{head}/patch")),
                "clone": [
                    { "name": "https", "href": format!("{}/snippets/{}/{}/snippet.git", self.web, s.workspace, s.id) },
                ],
            },
        })
    }

    fn snippet_commit(&self, store: &Store, s: &Snippet, at: usize) -> Value {
        let api = self.snippet_api(s);
        let r = &s.revisions[at];
        let author = &store.users[r.author];
        let parents: Vec<Value> = at
            .checked_sub(1)
            .map(|p| &s.revisions[p])
            .map(|p| json!({ "type": "snippet_commit", "hash": p.hash, "links": { "self": href(format!("{api}/commits/{}", p.hash)) } }))
            .into_iter()
            .collect();
        json!({
            "type": "snippet_commit",
            "hash": r.hash,
            "date": r.date,
            "message": r.message,
            "author": {
                "type": "author",
                "raw": format!("{} <{}>", author.display_name, author.email),
                "user": self.user(author),
            },
            "parents": parents,
            "snippet": self.snippet(store, s, Some(r)),
            "links": {
                "self": href(format!("{api}/commits/{}", r.hash)),
                "html": href(format!("{}/revisions/{}", self.snippet_web(s), r.hash)),
                "diff": href(format!("{api}/{}/diff", r.hash)),
                "patch": href(format!("{api}/{}/patch", r.hash)),
            },
        })
    }

    fn snippet_comment(&self, store: &Store, s: &Snippet, c: &SnippetComment) -> Value {
        let api = format!("{}/comments/{}", self.snippet_api(s), c.id);
        let mut value = json!({
            "type": "snippet_comment",
            "id": c.id,
            "content": {
                "type": "rendered",
                "raw": c.raw,
                "markup": "markdown",
                "html": format!("<p>{}</p>", html_escape(&c.raw)),
            },
            "user": self.user(&store.users[c.user]),
            "created_on": c.created_on,
            "updated_on": c.updated_on,
            "deleted": false,
            "snippet": {
                "type": "snippet",
                "id": s.id,
                "title": s.title,
                "links": { "self": href(self.snippet_api(s)) },
            },
            "links": {
                "self": href(api),
                "html": href(format!("{}#comment-{}", self.snippet_web(s), c.id)),
            },
        });
        if let Some(parent) = c.parent {
            value["parent"] = json!({ "id": parent });
        }
        value
    }
}

/// Where in `Store::snippets` the snippet the path names is (`workspace`, `encoded_id`).
fn position(store: &Store, params: &Params) -> Result<usize, ApiError> {
    let workspace = param(params, "workspace");
    let id = param(params, "encoded_id");
    let ws = store
        .workspace(workspace)
        .ok_or_else(|| ApiError::not_found(format_args!("Workspace {workspace}")))?;
    store
        .snippets
        .iter()
        .position(|s| s.workspace == ws.slug && s.id == id)
        .ok_or_else(|| ApiError::not_found(format_args!("Snippet {id}")))
}

/// Where in the snippet's revisions the one `name` (a hash, or a prefix of at least 7 digits)
/// is.
fn revision(s: &Snippet, name: &str) -> Result<usize, ApiError> {
    let found: Vec<usize> = s
        .revisions
        .iter()
        .enumerate()
        .filter(|(_, r)| r.hash == name || (name.len() >= 7 && r.hash.starts_with(name)))
        .map(|(i, _)| i)
        .collect();
    match found.as_slice() {
        [at] => Ok(*at),
        _ => Err(ApiError::not_found(format_args!("Revision {name}"))),
    }
}

/// The revision the path names (`node_id` or `revision`), which must be the head for a write:
/// an older one is a 405, as on Bitbucket.
fn head_revision(s: &Snippet, params: &Params) -> Result<(), ApiError> {
    let name = param(params, "node_id");
    let at = revision(s, name)?;
    if at + 1 != s.revisions.len() {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{name} is not the snippet's latest revision"),
        )
        .detail("Only the latest revision can be changed or deleted; read the snippet again"));
    }
    Ok(())
}

/// Applies `edit` to snippet `at`: a new revision when its files change.
fn apply(store: &mut Store, at: usize, user: usize, edit: Edit) -> Result<(), ApiError> {
    let s = &mut store.snippets[at];
    let now = clock::now();
    if let Some(title) = edit.title {
        s.title = title;
    }
    if let Some(private) = edit.is_private {
        s.is_private = private;
    }
    s.updated_on = now.clone();
    let mut files = s
        .revisions
        .last()
        .map(|r| r.files.clone())
        .unwrap_or_default();
    for (name, content) in edit.files {
        match content {
            Some(content) => {
                files.insert(name, content);
            }
            None => {
                if files.remove(&name).is_none() {
                    return Err(
                        ApiError::bad_request(format!("files: no file {name} to delete"))
                            .field("files", "names of the snippet's files"),
                    );
                }
            }
        }
    }
    if s.revisions.last().map(|r| &r.files) != Some(&files) {
        s.revisions.push(SnippetRevision {
            hash: ids::commit_hash(),
            author: user,
            message: String::new(),
            date: now,
            files,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Snippets
// ---------------------------------------------------------------------------------------------

/// `GET /snippets` and `GET /snippets/{workspace}`: with `role=owner` those the caller
/// created, `contributor` those it created or commented on, `member` (and by default) every
/// one it can see (every account is a member of every workspace here).
async fn list(app: Shared, caller: Caller, workspace: Option<String>, uri: Uri) -> Answer {
    let query = super::list_query(&app, &uri);
    let role = query.get("role").unwrap_or("member");
    if !["owner", "contributor", "member"].contains(&role) {
        return Err(ApiError::bad_request(format!(
            "role: \"{role}\" is not one of owner, contributor, member"
        ))
        .field("role", "owner, contributor or member"));
    }
    let store = app.store();
    let slug = match &workspace {
        Some(name) => Some(
            store
                .workspace(name)
                .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))?
                .slug
                .clone(),
        ),
        None => None,
    };
    let items = store
        .snippets
        .iter()
        .filter(|s| slug.as_ref().is_none_or(|w| *w == s.workspace))
        .filter(|s| match role {
            "owner" => s.creator == caller.user,
            "contributor" => {
                s.creator == caller.user || s.comments.iter().any(|c| c.user == caller.user)
            }
            _ => true,
        })
        .map(|s| app.urls.snippet(&store, s, None))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn list_all(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    uri: Uri,
) -> Answer {
    list(app, caller, None, uri).await
}

pub(super) async fn list_workspace(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    uri: Uri,
) -> Answer {
    list(
        app,
        caller,
        Some(param(&params, "workspace").to_string()),
        uri,
    )
    .await
}

/// Creates a snippet in `workspace` (the caller's own when `None`): `201` with its
/// `Location`.
async fn create(
    app: Shared,
    caller: Caller,
    workspace: Option<String>,
    request: Request,
) -> Answer {
    let edit = edit(request).await?;
    if edit.files.iter().any(|(_, content)| content.is_none()) {
        return Err(
            ApiError::bad_request("files: a new snippet has no files to delete")
                .field("files", "files to add"),
        );
    }
    let mut store = app.store();
    let slug = match workspace {
        Some(name) => store
            .workspace(&name)
            .ok_or_else(|| ApiError::not_found(format_args!("Workspace {name}")))?
            .slug
            .clone(),
        None => {
            let nickname = store.users[caller.user].nickname.clone();
            store.ensure_workspace(&nickname, None).slug.clone()
        }
    };
    let now = clock::now();
    let id = new_id(&store);
    store.snippets.push(Snippet {
        id,
        workspace: slug,
        creator: caller.user,
        title: String::new(),
        is_private: false,
        created_on: now.clone(),
        updated_on: now,
        revisions: Vec::new(),
        watchers: vec![caller.user],
        comments: Vec::new(),
    });
    let at = store.snippets.len() - 1;
    if let Err(e) = apply(&mut store, at, caller.user, edit) {
        store.snippets.pop();
        return Err(e);
    }
    created(app.urls.snippet(&store, &store.snippets[at], None))
}

pub(super) async fn create_mine(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    request: Request,
) -> Answer {
    create(app, caller, None, request).await
}

pub(super) async fn create_in_workspace(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    request: Request,
) -> Answer {
    create(
        app,
        caller,
        Some(param(&params, "workspace").to_string()),
        request,
    )
    .await
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    ok(app.urls.snippet(&store, s, None))
}

pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    request: Request,
) -> Answer {
    let edit = edit(request).await?;
    let mut store = app.store();
    let at = position(&store, &params)?;
    apply(&mut store, at, caller.user, edit)?;
    ok(app.urls.snippet(&store, &store.snippets[at], None))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let at = position(&store, &params)?;
    store.snippets.remove(at);
    no_content()
}

// ---------------------------------------------------------------------------------------------
// Revisions and files
// ---------------------------------------------------------------------------------------------

pub(super) async fn get_revision(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let at = revision(s, param(&params, "node_id"))?;
    ok(app.urls.snippet(&store, s, Some(&s.revisions[at])))
}

/// `PUT …/{node_id}`: an update that only applies while `node_id` is still the head.
pub(super) async fn update_revision(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    request: Request,
) -> Answer {
    let edit = edit(request).await?;
    let mut store = app.store();
    let at = position(&store, &params)?;
    head_revision(&store.snippets[at], &params)?;
    apply(&mut store, at, caller.user, edit)?;
    ok(app.urls.snippet(&store, &store.snippets[at], None))
}

pub(super) async fn delete_revision(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let at = position(&store, &params)?;
    head_revision(&store.snippets[at], &params)?;
    store.snippets.remove(at);
    no_content()
}

pub(super) async fn list_changes(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let items = (0..s.revisions.len())
        .rev()
        .map(|at| app.urls.snippet_commit(&store, s, at))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_change(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let at = revision(s, param(&params, "revision"))?;
    ok(app.urls.snippet_commit(&store, s, at))
}

/// `GET …/files/{path}`: a 302 to the file at the head revision.
pub(super) async fn get_file(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let path = param(&params, "path");
    let head = s
        .revisions
        .last()
        .filter(|r| r.files.contains_key(path))
        .ok_or_else(|| ApiError::not_found(format_args!("File {path}")))?;
    let location = format!(
        "{}/{}/files/{}",
        app.urls.snippet_api(s),
        head.hash,
        segment(path)
    );
    Ok(files::redirect(StatusCode::FOUND, &location))
}

/// `GET …/{node_id}/files/{path}`: the raw file, as an attachment.
pub(super) async fn get_revision_file(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let r = &s.revisions[revision(s, param(&params, "node_id"))?];
    let path = param(&params, "path");
    let content = r
        .files
        .get(path)
        .ok_or_else(|| ApiError::not_found(format_args!("File {path}")))?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        path.replace(['"', '\r', '\n'], "_")
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, mime(path).to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        content.clone(),
    )
        .into_response())
}

/// The type of a file by its name; no character set for text, as Bitbucket sends it.
fn mime(name: &str) -> &'static str {
    match name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase())
        .as_deref()
    {
        Some("txt" | "md" | "rs" | "py" | "sh" | "toml" | "yml" | "yaml" | "c" | "h") => {
            "text/plain"
        }
        Some("json") => "application/json",
        Some("html" | "htm") => "text/html",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        _ => "application/octet-stream",
    }
}

/// A revision's files and its parent's, as text (not UTF-8 is replaced), for diffs.
fn trees(s: &Snippet, at: usize) -> (Tree, Tree) {
    let tree = |r: Option<&SnippetRevision>| -> Tree {
        r.map(|r| {
            r.files
                .iter()
                .map(|(name, content)| {
                    (name.clone(), String::from_utf8_lossy(content).into_owned())
                })
                .collect()
        })
        .unwrap_or_default()
    };
    let parent = at.checked_sub(1).and_then(|p| s.revisions.get(p));
    (tree(parent), tree(s.revisions.get(at)))
}

/// `GET …/{revision}/diff`: the revision against its parent; `path` limits it to one file.
pub(super) async fn diff(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = super::list_query(&app, &uri);
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let at = revision(s, param(&params, "revision"))?;
    let (mut old, mut new) = trees(s, at);
    if let Some(path) = query.get("path") {
        old.retain(|p, _| p == path);
        new.retain(|p, _| p == path);
    }
    Ok(files::text(diff::unified(&old, &new)))
}

/// `GET …/{revision}/patch`: the revision as a `git format-patch` message.
pub(super) async fn patch(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let at = revision(s, param(&params, "revision"))?;
    let r = &s.revisions[at];
    let (old, new) = trees(s, at);
    Ok(files::text(files::patch(
        &r.hash,
        &store.users[r.author],
        &r.date,
        &r.message,
        &diff::unified(&old, &new),
    )))
}

// ---------------------------------------------------------------------------------------------
// Watchers
// ---------------------------------------------------------------------------------------------

pub(super) async fn list_watchers(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let items = s
        .watchers
        .iter()
        .map(|u| app.urls.user(&store.users[*u]))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn check_watch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    if !s.watchers.contains(&caller.user) {
        return Err(ApiError::not_found("Watch"));
    }
    no_content()
}

async fn set_watch(app: Shared, caller: Caller, params: Params, on: bool) -> Answer {
    let mut store = app.store();
    let at = position(&store, &params)?;
    let watchers = &mut store.snippets[at].watchers;
    watchers.retain(|u| *u != caller.user);
    if on {
        watchers.push(caller.user);
    }
    no_content()
}

pub(super) async fn watch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set_watch(app, caller, params, true).await
}

pub(super) async fn unwatch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set_watch(app, caller, params, false).await
}

// ---------------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------------

/// Where in the snippet's comments the one the path names is.
fn comment(s: &Snippet, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "comment_id");
    s.comments
        .iter()
        .position(|c| c.id.to_string() == id)
        .ok_or_else(|| ApiError::not_found(format_args!("Comment {id}")))
}

/// The `content.raw` of a comment body, required and not blank.
fn raw(request: &Value) -> Result<String, ApiError> {
    match text(request, "/content/raw") {
        Some(raw) if !raw.trim().is_empty() => Ok(raw.to_string()),
        _ => Err(
            ApiError::bad_request("content.raw: This field is required.")
                .field("content.raw", "This field is required."),
        ),
    }
}

pub(super) async fn list_comments(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let items = s
        .comments
        .iter()
        .map(|c| app.urls.snippet_comment(&store, s, c))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn create_comment(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let raw = raw(&request)?;
    let mut store = app.store();
    let at = position(&store, &params)?;
    let s = &mut store.snippets[at];
    let parent = match request.pointer("/parent/id") {
        None | Some(Value::Null) => None,
        Some(id) => {
            let id = id
                .as_u64()
                .filter(|id| s.comments.iter().any(|c| c.id == *id));
            Some(id.ok_or_else(|| {
                ApiError::bad_request("parent.id: no such comment on this snippet")
                    .field("parent.id", "a comment of this snippet")
            })?)
        }
    };
    let id = s
        .comments
        .iter()
        .map(|c| c.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let now = clock::now();
    s.comments.push(SnippetComment {
        id,
        user: caller.user,
        raw,
        parent,
        created_on: now.clone(),
        updated_on: now,
    });
    let s = &store.snippets[at];
    let c = s.comments.last().expect("just pushed");
    created(app.urls.snippet_comment(&store, s, c))
}

pub(super) async fn get_comment(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let s = &store.snippets[position(&store, &params)?];
    let c = &s.comments[comment(s, &params)?];
    ok(app.urls.snippet_comment(&store, s, c))
}

/// Only its author may change a comment.
pub(super) async fn update_comment(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let raw = raw(&request)?;
    let mut store = app.store();
    let at = position(&store, &params)?;
    let s = &mut store.snippets[at];
    let c = comment(s, &params)?;
    if s.comments[c].user != caller.user {
        return Err(forbidden("Only a comment's author can change it"));
    }
    s.comments[c].raw = raw;
    s.comments[c].updated_on = clock::now();
    let s = &store.snippets[at];
    ok(app.urls.snippet_comment(&store, s, &s.comments[c]))
}

/// Its author, the snippet's creator or the workspace's owner (the first account) may delete
/// a comment; its replies go with it.
pub(super) async fn delete_comment(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let at = position(&store, &params)?;
    let s = &mut store.snippets[at];
    let c = comment(s, &params)?;
    if ![s.comments[c].user, s.creator, 0].contains(&caller.user) {
        return Err(forbidden(
            "Only a comment's author, the snippet's creator or a workspace admin can delete it",
        ));
    }
    let id = s.comments.remove(c).id;
    // Replies to it, and theirs, go with it.
    let mut gone = vec![id];
    while let Some(i) = s
        .comments
        .iter()
        .position(|c| c.parent.is_some_and(|p| gone.contains(&p)))
    {
        gone.push(s.comments.remove(i).id);
    }
    no_content()
}

fn forbidden(message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, message)
}
