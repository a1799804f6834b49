//! What is not JSON, or not only: a repository's source (files, directory listings,
//! `format=meta`, a file's history, commits made from uploaded files), its downloads (served
//! through a redirect to the storage host), and diffs and patches between commits.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{Answer, Caller, Params, Shared, list_query, no_content, ok, param, repo, repo_index};
use crate::blobs::{self, Download};
use crate::diff;
use crate::errors::ApiError;
use crate::paging::{self, Paging};
use crate::store::{Repo, Tree, User};
use crate::{App, clock};

// ---------------------------------------------------------------------------------------------
// Source
// ---------------------------------------------------------------------------------------------

/// `GET …/src/{commit}/{path}`: a file's bytes, a directory's listing, or with `format=meta`
/// what is known of either.
pub(super) async fn get_source(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = resolved(repo, &params)?;
    source(&app, repo, &hash, param(&params, "path"), &uri)
}

/// The hash of the commit the path names (`commit`: a branch, a hash or a prefix of one).
fn resolved(repo: &Repo, params: &Params) -> Result<String, ApiError> {
    let commit = param(params, "commit");
    repo.resolve(commit)
        .ok_or_else(|| ApiError::not_found(format_args!("Commit {commit}")))
}

/// `GET …/src`: the root directory at the head of the main branch, as `…/src/{head}/` lists
/// it (Bitbucket's document speaks of a redirect; the answer is the listing, which is what a
/// client receives either way). A repository without commits has no main branch to list: 404.
pub(super) async fn get_source_root(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = repo
        .mainbranch
        .as_ref()
        .and_then(|b| repo.branches.get(b))
        .cloned()
        .ok_or_else(|| {
            ApiError::not_found(format_args!(
                "Repository {} is empty: no main branch",
                repo.full_name()
            ))
        })?;
    source(&app, repo, &hash, "", &uri)
}

/// The file or directory `path` of commit `hash`, as `…/src/{hash}/{path}` answers it.
fn source(app: &App, repo: &Repo, hash: &str, path: &str, uri: &Uri) -> Answer {
    let query = list_query(app, uri);
    let tree = &repo
        .commits
        .get(hash)
        .ok_or_else(|| ApiError::not_found(format_args!("Commit {hash}")))?
        .tree;
    let path = path.trim_matches('/');
    let meta = query.get("format") == Some("meta");
    if let Some(content) = tree.get(path) {
        if meta {
            return ok(file_entry(app, repo, hash, path, content));
        }
        let content_type = if path.ends_with(".json") {
            "application/json"
        } else {
            "text/plain; charset=utf-8"
        };
        return Ok((
            StatusCode::OK,
            [(header::CONTENT_TYPE, content_type)],
            content.clone(),
        )
            .into_response());
    }
    let entries = listing(app, repo, hash, tree, path);
    if entries.is_empty() && !path.is_empty() {
        return Err(ApiError::not_found(format_args!(
            "No such file or directory: {path}"
        )));
    }
    if meta {
        return ok(directory_entry(app, repo, hash, path));
    }
    ok(paging::page(entries, &query, Paging::Numbered)?)
}

/// The entries directly under `dir` ("" for the root): files, then directories, by path.
fn listing(app: &App, repo: &Repo, hash: &str, tree: &Tree, dir: &str) -> Vec<Value> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut files = Vec::new();
    let mut dirs: Vec<String> = Vec::new();
    for (path, content) in tree.range(prefix.clone()..) {
        let Some(rest) = path.strip_prefix(&prefix) else {
            break;
        };
        match rest.split_once('/') {
            None => files.push(file_entry(app, repo, hash, path, content)),
            Some((sub, _)) => {
                let sub = format!("{prefix}{sub}");
                if dirs.last() != Some(&sub) {
                    dirs.push(sub);
                }
            }
        }
    }
    files.extend(dirs.iter().map(|d| directory_entry(app, repo, hash, d)));
    files
}

fn commit_ref(app: &App, repo: &Repo, hash: &str) -> Value {
    json!({
        "type": "commit",
        "hash": hash,
        "links": { "self": { "href": format!("{}/commit/{hash}", app.urls.repo_api(repo)) } },
    })
}

fn file_entry(app: &App, repo: &Repo, hash: &str, path: &str, content: &str) -> Value {
    let src = format!("{}/src/{hash}/{path}", app.urls.repo_api(repo));
    json!({
        "type": "commit_file",
        "path": path,
        "escaped_path": path,
        "size": content.len(),
        "mimetype": if path.ends_with(".json") { json!("application/json") } else { Value::Null },
        "attributes": [],
        "commit": commit_ref(app, repo, hash),
        "links": {
            "self": { "href": src },
            "meta": { "href": format!("{src}?format=meta") },
        },
    })
}

fn directory_entry(app: &App, repo: &Repo, hash: &str, path: &str) -> Value {
    let src = format!("{}/src/{hash}/{path}/", app.urls.repo_api(repo));
    json!({
        "type": "commit_directory",
        "path": path,
        "escaped_path": path,
        "commit": commit_ref(app, repo, hash),
        "links": {
            "self": { "href": src },
            "meta": { "href": format!("{src}?format=meta") },
        },
    })
}

/// `GET …/filehistory/{commit}/{path}`: the commits that changed the file, newest first, as
/// `git log --follow`: with `renames` other than `false`, a file that was added with the
/// content of one its commit removed is followed to that older name. Each entry is the file
/// as that commit left it, with the whole commit (so `q=commit.date<…` filters).
pub(super) async fn list_file_history(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = resolved(repo, &params)?;
    let mut path = param(&params, "path").trim_matches('/').to_string();
    if !repo
        .commits
        .get(&hash)
        .is_some_and(|c| c.tree.contains_key(&path))
    {
        return Err(ApiError::not_found(format_args!(
            "No such file at {}: {path}",
            param(&params, "commit")
        )));
    }
    let renames = query.get("renames") != Some("false");
    let empty = Tree::new();
    let mut items = Vec::new();
    for c in repo.log(std::slice::from_ref(&hash), &[]) {
        let parent = c
            .parents
            .first()
            .and_then(|p| repo.commits.get(p))
            .map_or(&empty, |p| &p.tree);
        let now = c.tree.get(&path);
        if now == parent.get(&path) {
            continue;
        }
        let mut entry = match now {
            Some(content) => file_entry(&app, repo, &c.hash, &path, content),
            None => file_entry(&app, repo, &c.hash, &path, ""),
        };
        entry["commit"] = app.urls.commit(&store, repo, c);
        entry["links"]["history"] = json!({
            "href": format!("{}/filehistory/{}/{path}", app.urls.repo_api(repo), c.hash),
        });
        items.push(entry);
        // Added here: renamed from a file this commit removed with the same content?
        if let (true, Some(content), None) = (renames, now, parent.get(&path)) {
            let old = parent
                .iter()
                .find(|(p, c2)| *c2 == content && !c.tree.contains_key(p.as_str()));
            if let Some((old, _)) = old {
                path = old.clone();
            }
        }
    }
    ok(paging::page(items, &query, Paging::Numbered)?)
}

/// `POST …/src`: a commit from a `multipart/form-data` body, as Bitbucket takes it: each field
/// named after a path is that file's new content; `files` names paths to delete; `message`,
/// `branch`, `author` and `parents` say the rest.
pub(super) async fn create_commit(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    request: Request,
) -> Answer {
    let mut form = multipart(request).await?;
    let mut message = None;
    let mut branch = None;
    let mut parents = Vec::new();
    let mut deleted = Vec::new();
    let mut files = Vec::new();
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let value = field.bytes().await.map_err(multipart_error)?;
        let text = || String::from_utf8_lossy(&value).into_owned();
        match name.as_str() {
            "message" => message = Some(text()),
            "branch" => branch = Some(text()),
            "author" => {}
            "parents" => parents.extend(text().split(',').map(|p| p.trim().to_string())),
            "files" => deleted.push(text()),
            "" => return Err(ApiError::bad_request("a form field has no name")),
            path => files.push((path.trim_start_matches('/').to_string(), text())),
        }
    }
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let branch = branch
        .or_else(|| store.repos[index].mainbranch.clone())
        .unwrap_or_else(|| "main".to_string());
    // A commit through the API is a push: branch restrictions apply to it as to any push.
    super::check_push(&store, index, &branch, caller.user)?;
    let r = &mut store.repos[index];
    let old = r.branches.get(&branch).cloned();
    let parents: Vec<String> = if parents.is_empty() {
        old.clone().into_iter().collect()
    } else {
        parents
            .iter()
            .map(|p| {
                r.resolve(p)
                    .ok_or_else(|| ApiError::bad_request(format!("parents: commit {p} not found")))
            })
            .collect::<Result<_, _>>()?
    };
    let mut tree = parents
        .first()
        .and_then(|p| r.commits.get(p))
        .map(|c| c.tree.clone())
        .unwrap_or_default();
    for path in &deleted {
        tree.remove(path.trim_start_matches('/'));
    }
    for (path, content) in files {
        tree.insert(path, content);
    }
    let message = message.unwrap_or_else(|| "Changes made with the Bitbucket API".to_string());
    let hash = r.add_commit(&message, caller.user, parents, tree);
    r.branches.insert(branch.clone(), hash.clone());
    if r.mainbranch.is_none() {
        r.mainbranch = Some(branch.clone());
    }
    let location = format!("{}/commit/{hash}", app.urls.repo_api(r));
    super::after_push(&mut store, index, &branch);
    let change = crate::seed::push_change(
        &app.urls,
        &store,
        index,
        &branch,
        old.as_deref(),
        Some(&hash),
    );
    super::emit_push(&app, &store, index, caller.user, vec![change]);
    Ok((StatusCode::CREATED, [(header::LOCATION, location)]).into_response())
}

/// The body of `request` as `multipart/form-data`, or a Bitbucket-shaped 400 (axum's own
/// rejection is plain text).
pub(super) async fn multipart(request: Request) -> Result<Multipart, ApiError> {
    Multipart::from_request(request, &()).await.map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be multipart/form-data: {}",
            e.body_text()
        ))
    })
}

pub(super) fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    ApiError::bad_request(format!(
        "the multipart/form-data body does not parse: {error}"
    ))
}

// ---------------------------------------------------------------------------------------------
// Downloads
// ---------------------------------------------------------------------------------------------

pub(super) async fn list_downloads(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let blobs = app.blobs();
    let mut names: Vec<(&String, &Download)> = blobs
        .downloads
        .iter()
        .filter(|((uuid, _), _)| *uuid == repo.uuid)
        .map(|((_, name), d)| (name, d))
        .collect();
    names.sort_by(|a, b| b.1.created_on.cmp(&a.1.created_on).then(a.0.cmp(b.0)));
    let items = names
        .into_iter()
        .map(|(name, d)| {
            json!({
                "type": "download",
                "name": name,
                "size": d.content.len(),
                "downloads": d.downloads,
                "created_on": d.created_on,
                "user": app.urls.user(&store.users[d.uploader]),
                "links": { "self": { "href": format!("{}/downloads/{name}", app.urls.repo_api(repo)) } },
            })
        })
        .collect();
    ok(paging::page(items, &query, Paging::Numbered)?)
}

/// `POST …/downloads`: the `files` fields of a `multipart/form-data` body, each under its
/// file name.
pub(super) async fn upload_download(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    request: Request,
) -> Answer {
    let mut form = multipart(request).await?;
    let uuid = repo(&app.store(), &params)?.uuid.clone();
    let mut uploaded = 0;
    while let Some(field) = form.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("files") {
            continue;
        }
        let Some(name) = field
            .file_name()
            .map(str::to_string)
            .filter(|n| !n.is_empty())
        else {
            return Err(ApiError::bad_request("files: a file needs a file name"));
        };
        let content = field.bytes().await.map_err(multipart_error)?;
        app.blobs().downloads.insert(
            (uuid.clone(), name),
            Download {
                content,
                uploader: caller.user,
                created_on: clock::now(),
                downloads: 0,
            },
        );
        uploaded += 1;
    }
    if uploaded == 0 {
        return Err(ApiError::bad_request("files: This field is required."));
    }
    Ok(StatusCode::CREATED.into_response())
}

/// `GET …/downloads/{filename}`: a redirect to the file on the storage host, as Bitbucket
/// answers.
pub(super) async fn get_download(State(app): State<Shared>, params: Params) -> Answer {
    let uuid = repo(&app.store(), &params)?.uuid.clone();
    let name = param(&params, "filename");
    let content = {
        let mut blobs = app.blobs();
        let download = blobs
            .downloads
            .get_mut(&(uuid, name.to_string()))
            .ok_or_else(|| ApiError::not_found(format_args!("Download {name}")))?;
        download.downloads = download.downloads.saturating_add(1);
        download.content.clone()
    };
    let location = app.storage.sign(name, content, "application/octet-stream");
    Ok(redirect(StatusCode::FOUND, &location))
}

pub(super) async fn delete_download(State(app): State<Shared>, params: Params) -> Answer {
    let uuid = repo(&app.store(), &params)?.uuid.clone();
    let name = param(&params, "filename");
    app.blobs()
        .downloads
        .remove(&(uuid, name.to_string()))
        .ok_or_else(|| ApiError::not_found(format_args!("Download {name}")))?;
    no_content()
}

pub(super) fn redirect(status: StatusCode, location: &str) -> Response {
    (status, [(header::LOCATION, location.to_string())]).into_response()
}

// ---------------------------------------------------------------------------------------------
// Diffs and patches
// ---------------------------------------------------------------------------------------------

/// The two trees a spec compares (old, new), and the commits it covers (oldest first).
fn compare<'a>(
    repo: &'a Repo,
    spec: &str,
    topic: bool,
) -> Result<(Tree, Tree, Vec<&'a crate::store::Commit>), ApiError> {
    // Bitbucket's own redirects write `ws/repo:abc\rdef` (`%0D`); callers write `abc..def`.
    let spec = spec.replace('\r', "..");
    let resolve = |reference: &str| {
        let reference = reference.rsplit_once(':').map_or(reference, |(_, r)| r);
        repo.resolve(reference)
            .ok_or_else(|| ApiError::not_found(format_args!("Commit {reference}")))
    };
    let tree = |hash: &str| {
        repo.commits
            .get(hash)
            .map(|c| c.tree.clone())
            .unwrap_or_default()
    };
    match spec.split_once("..") {
        // The changes of the first commit, against the second (or their merge base).
        Some((source, destination)) => {
            let source = resolve(source)?;
            let destination = resolve(destination)?;
            let base = if topic {
                repo.merge_base(&source, &destination)
                    .unwrap_or(destination.clone())
            } else {
                destination.clone()
            };
            let mut commits = repo.log(std::slice::from_ref(&source), &[destination]);
            commits.reverse();
            Ok((tree(&base), tree(&source), commits))
        }
        None => {
            let hash = resolve(&spec)?;
            let commit = &repo.commits[&hash];
            let parent = commit.parents.first().map(|p| tree(p)).unwrap_or_default();
            Ok((parent, commit.tree.clone(), vec![commit]))
        }
    }
}

/// `GET …/diff/{spec}`: `git diff`-style text; `path` limits it to some files.
pub(super) async fn get_diff(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let topic = query.get("topic") != Some("false");
    let (mut old, mut new, _) = compare(repo, param(&params, "spec"), topic)?;
    let paths = query.all("path");
    if !paths.is_empty() {
        old.retain(|p, _| paths.contains(&p.as_str()));
        new.retain(|p, _| paths.contains(&p.as_str()));
    }
    Ok(text(diff::unified(&old, &new)))
}

/// `GET …/patch/{spec}`: one `git format-patch` message per commit, oldest first.
pub(super) async fn get_patch(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let (_, _, commits) = compare(repo, param(&params, "spec"), true)?;
    let mut out = String::new();
    for commit in commits {
        let author = &store.users[commit.author];
        let parent = commit
            .parents
            .first()
            .and_then(|p| repo.commits.get(p))
            .map(|c| c.tree.clone())
            .unwrap_or_default();
        out.push_str(&patch(
            &commit.hash,
            author,
            &commit.date,
            &commit.message,
            &diff::unified(&parent, &commit.tree),
        ));
    }
    Ok(text(out))
}

/// One `git format-patch` message: a commit's header, then its diff.
pub(super) fn patch(hash: &str, author: &User, date: &str, message: &str, diff: &str) -> String {
    let subject = message.lines().next().unwrap_or_default();
    format!(
        "From {hash} Mon Sep 17 00:00:00 2001\nFrom: {} <{}>\nDate: {date}\nSubject: [PATCH] {subject}\n\n---\n{diff}\n",
        author.display_name, author.email,
    )
}

pub(super) fn text(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// `Range` support for logs served from here (the storage host has its own).
pub(super) fn ranged_text(headers: &HeaderMap, body: String) -> Response {
    blobs::ranged(headers, Bytes::from(body), "text/plain; charset=utf-8")
}
