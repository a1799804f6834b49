//! `/repositories/{workspace}/{repo_slug}/commits` and `/commit/{commit}`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, list_query, no_content, numbered, ok, param, repo, repo_index,
};
use crate::errors::ApiError;
use crate::paging::{self, Paging};
use crate::store::Repo;
use crate::{App, clock};

/// Commits are listed newest first with opaque cursors, like Bitbucket's.
pub(crate) const COMMIT_CURSOR: Paging =
    Paging::Cursor(|item| item.get("hash").and_then(Value::as_str).map(str::to_string));

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    log(&app, &params, &uri, &[], false)
}

/// `POST /commits`: the same, with `include` and `exclude` in a form body too.
pub(super) async fn list_with_form(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Answer {
    log(&app, &params, &uri, &form(&bytes), false)
}

/// `GET /commits/{revision}`: the commits reachable from `revision`.
pub(super) async fn list_for_revision(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
) -> Answer {
    log(&app, &params, &uri, &[], true)
}

/// `POST /commits/{revision}`: the same, with `include` and `exclude` in a form body too.
pub(super) async fn list_for_revision_with_form(
    State(app): State<Shared>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Answer {
    log(&app, &params, &uri, &form(&bytes), true)
}

/// The pairs of a form body (`include=main&exclude=dev`).
fn form(bytes: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(bytes).into_owned().collect()
}

/// Commits newest first: reachable from the revision of the path (when `revision`), from
/// every `include` (of the query and of `body`) or else from every branch, and not from any
/// `exclude`; `path` keeps those that change it.
fn log(app: &App, params: &Params, uri: &Uri, body: &[(String, String)], revision: bool) -> Answer {
    let query = list_query(app, uri);
    let store = app.store();
    let repo = repo(&store, params)?;
    let refs = |names: Vec<&str>| -> Result<Vec<String>, ApiError> {
        names
            .into_iter()
            .map(|name| {
                repo.resolve(name)
                    .ok_or_else(|| ApiError::not_found(format_args!("Revision {name}")))
            })
            .collect()
    };
    let from_body = |key: &str| {
        body.iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect::<Vec<_>>()
    };
    let mut include_names = query.all("include");
    include_names.extend(from_body("include"));
    if revision {
        include_names.push(param(params, "revision"));
    }
    let mut include = refs(include_names)?;
    if include.is_empty() {
        include = repo.branches.values().cloned().collect();
    }
    let mut exclude_names = query.all("exclude");
    exclude_names.extend(from_body("exclude"));
    let exclude = refs(exclude_names)?;
    let path = query.get("path");
    let items = repo
        .log(&include, &exclude)
        .into_iter()
        .filter(|c| path.is_none_or(|p| touches(repo, c, p)))
        .map(|c| app.urls.commit(&store, repo, c))
        .collect();
    ok(paging::page(items, &query, COMMIT_CURSOR)?)
}

/// `GET /merge-base/{revspec}`: the newest common ancestor of `a..b`.
pub(super) async fn merge_base(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let spec = param(&params, "revspec");
    let Some((a, b)) = spec.split_once("..") else {
        return Err(ApiError::bad_request(format!(
            "Invalid revspec {spec:?}: name two revisions as a..b"
        )));
    };
    let resolve = |name: &str| {
        repo.resolve(name)
            .ok_or_else(|| ApiError::not_found(format_args!("Revision {name}")))
    };
    let (a, b) = (resolve(a)?, resolve(b)?);
    let base = repo
        .merge_base(&a, &b)
        .and_then(|h| repo.commits.get(&h))
        .ok_or_else(|| ApiError::not_found("Merge base"))?;
    ok(app.urls.commit(&store, repo, base))
}

/// `GET /commit/{commit}/pullrequests`: the pull requests whose commits include it.
pub(super) async fn pull_requests(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = super::commit_hash(repo, &params)?;
    let items = repo
        .pulls
        .iter()
        .rev()
        .filter(|pr| {
            let (source, destination) = app.urls.live_endpoints(repo, pr);
            repo.log(&[source], &[destination])
                .iter()
                .any(|c| c.hash == hash)
                || pr.merge_commit.as_deref() == Some(hash.as_str())
        })
        .map(|pr| app.urls.pull(&store, repo, pr))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let hash = param(&params, "commit");
    let commit = repo
        .commit(hash)
        .ok_or_else(|| ApiError::not_found(format_args!("Commit {hash}")))?;
    ok(app.urls.commit(&store, repo, commit))
}

/// Whether `commit` changes `path` (a file, or any file under a directory) compared with its
/// first parent.
fn touches(repo: &Repo, commit: &crate::store::Commit, path: &str) -> bool {
    let empty = Default::default();
    let before = commit
        .parents
        .first()
        .and_then(|p| repo.commits.get(p))
        .map_or(&empty, |c| &c.tree);
    let dir = format!("{}/", path.trim_end_matches('/'));
    let relevant = |p: &String| p == path || p.starts_with(&dir);
    let changed = |a: &crate::store::Tree, b: &crate::store::Tree| {
        a.iter()
            .filter(|(p, _)| relevant(p))
            .any(|(p, content)| b.get(p) != Some(content))
    };
    changed(&commit.tree, before) || changed(before, &commit.tree)
}

/// Approves a commit as the caller: their participant entry.
pub(super) async fn approve(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = super::commit_hash(repo, &params)?;
    let approvers = repo.commit_approvals.entry(hash).or_default();
    if !approvers.contains(&caller.user) {
        approvers.push(caller.user);
    }
    let user = app.urls.user(&store.users[caller.user]);
    ok(json!({
        "type": "participant",
        "user": user,
        "role": "PARTICIPANT",
        "approved": true,
        "state": "approved",
        "participated_on": clock::now(),
    }))
}

/// Withdraws the caller's approval of a commit: `204`, or a 404 when they had not approved it.
pub(super) async fn unapprove(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let hash = super::commit_hash(repo, &params)?;
    let approvers = repo.commit_approvals.entry(hash).or_default();
    let Some(at) = approvers.iter().position(|u| *u == caller.user) else {
        return Err(ApiError::not_found("Approval"));
    };
    approvers.remove(at);
    no_content()
}
