//! Diffstats (`/diffstat/{spec}`, `/pullrequests/{id}/diffstat`): per file, whether it was
//! added, removed or modified, and how many lines were added and removed. And file conflicts
//! (`/file-conflicts/{spec}`, `/pullrequests/{id}/conflicts`): the files both sides changed.

use std::collections::BTreeSet;

use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::pullrequests::pull;
use super::{Answer, Params, Shared, list_query, numbered, param, repo};
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::store::{Repo, Tree};

/// Lines added and removed from `old` to `new`, counted as the pull request diff shows them
/// (one hunk between the first and last lines that differ).
fn counts(old: &str, new: &str) -> (usize, usize) {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    (b.len() - prefix - suffix, a.len() - prefix - suffix)
}

impl Urls {
    /// One entry per changed file from `old_hash`'s tree to `new_hash`'s.
    fn diffstat(&self, repo: &Repo, old_hash: &str, new_hash: &str) -> Vec<Value> {
        let empty = Tree::new();
        let tree = |hash: &str| repo.commits.get(hash).map_or(&empty, |c| &c.tree);
        let (old, new) = (tree(old_hash), tree(new_hash));
        let file = |hash: &str, path: &str| {
            json!({
                "type": "commit_file",
                "path": path,
                "escaped_path": path,
                "links": { "self": href(format!("{}/src/{hash}/{path}", self.repo_api(repo))) },
            })
        };
        let paths: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        paths
            .into_iter()
            .filter_map(|path| {
                let (a, b) = (old.get(path), new.get(path));
                let status = match (a, b) {
                    (None, Some(_)) => "added",
                    (Some(_), None) => "removed",
                    (Some(x), Some(y)) if x != y => "modified",
                    _ => return None,
                };
                let (added, removed) =
                    counts(a.map_or("", String::as_str), b.map_or("", String::as_str));
                Some(json!({
                    "type": "diffstat",
                    "status": status,
                    "lines_added": added,
                    "lines_removed": removed,
                    "old": a.map(|_| file(old_hash, path)),
                    "new": b.map(|_| file(new_hash, path)),
                }))
            })
            .collect()
    }
}

/// `GET /diffstat/{spec}`: `spec` is one revision (compared with its first parent) or
/// `source..destination` (the source compared with its merge base with the destination, or
/// with the destination itself when `topic=false`).
pub(super) async fn get(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let spec = param(&params, "spec");
    let resolve = |name: &str| {
        repo.resolve(name)
            .ok_or_else(|| ApiError::not_found(format_args!("Revision {name}")))
    };
    let (old, new) = match spec.split_once("..") {
        Some((source, destination)) => {
            let (source, destination) = (resolve(source)?, resolve(destination)?);
            let base = if query.get("topic") == Some("false") {
                destination
            } else {
                repo.merge_base(&source, &destination)
                    .unwrap_or(destination)
            };
            (base, source)
        }
        None => {
            let new = resolve(spec)?;
            let parent = repo
                .commits
                .get(&new)
                .and_then(|c| c.parents.first().cloned())
                .unwrap_or_default();
            (parent, new)
        }
    };
    let mut items = app.urls.diffstat(repo, &old, &new);
    if let Some(path) = query.get("path") {
        items.retain(|item| {
            ["/old/path", "/new/path"]
                .iter()
                .any(|p| item.pointer(p).and_then(Value::as_str) == Some(path))
        });
    }
    numbered(&app, &uri, items)
}

/// `GET /pullrequests/{id}/diffstat`: the pull request's changes, from the merge base to the
/// source.
pub(super) async fn get_for_pull(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let (source, destination) = app.urls.live_endpoints(repo, pr);
    let base = repo
        .merge_base(&source, &destination)
        .unwrap_or(destination);
    let items = app.urls.diffstat(repo, &base, &source);
    numbered(&app, &uri, items)
}

/// The files `source` and `destination` both changed, differently, since their merge base:
/// what would conflict when merging one into the other.
fn conflicts(repo: &Repo, source: &str, destination: &str) -> Vec<Value> {
    let empty = Tree::new();
    let tree = |hash: &str| repo.commits.get(hash).map_or(&empty, |c| &c.tree);
    let base = repo.merge_base(source, destination).unwrap_or_default();
    let (b, s, d) = (tree(&base), tree(source), tree(destination));
    let paths: BTreeSet<&String> = b.keys().chain(s.keys()).chain(d.keys()).collect();
    paths
        .into_iter()
        .filter_map(|path| {
            let (base, ours, theirs) = (b.get(path), s.get(path), d.get(path));
            if ours == theirs || ours == base || theirs == base {
                return None;
            }
            let (scenario, message) = match (ours, theirs) {
                (None, _) => (
                    "delete_modify",
                    "File deleted in source and modified in destination",
                ),
                (_, None) => (
                    "modify_delete",
                    "File modified in source and deleted in destination",
                ),
                _ => ("content", "File modified in both source and destination"),
            };
            Some(json!({
                "type": "file_conflict",
                "path": path,
                "scenario": scenario,
                "message": message,
            }))
        })
        .collect()
}

/// `GET /file-conflicts/{spec}`: the conflicts of merging `source..destination`.
pub(super) async fn file_conflicts(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let spec = param(&params, "spec");
    let Some((source, destination)) = spec.split_once("..") else {
        return Err(ApiError::bad_request(format!(
            "Invalid spec {spec:?}: name the source and destination as source..destination"
        )));
    };
    let resolve = |name: &str| {
        repo.resolve(name)
            .ok_or_else(|| ApiError::not_found(format_args!("Revision {name}")))
    };
    let items = conflicts(repo, &resolve(source)?, &resolve(destination)?);
    numbered(&app, &uri, items)
}

/// `GET /pullrequests/{id}/conflicts`: a `302` to the file conflicts of its source and
/// destination, as Bitbucket answers.
pub(super) async fn pull_request_conflicts(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let (source, destination) = app.urls.live_endpoints(repo, pr);
    let location = format!(
        "{}/file-conflicts/{source}..{destination}",
        app.urls.repo_api(repo)
    );
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::counts;

    #[test]
    fn line_counts() {
        assert_eq!(counts("a\nb\nc\n", "a\nB\nc\n"), (1, 1));
        assert_eq!(counts("", "a\nb\n"), (2, 0));
        assert_eq!(counts("a\n", ""), (0, 1));
        assert_eq!(counts("a\n", "a\nb\n"), (1, 0));
    }
}
