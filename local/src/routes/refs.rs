//! `/repositories/{workspace}/{repo_slug}/refs`: branches and tags. Branch restrictions
//! (`push`, `delete`) apply to creating and deleting branches.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, body, created, emit_push, no_content, numbered, ok, param,
    repo, repo_index, text,
};
use crate::clock;
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::seed::push_change;
use crate::store::{Repo, Store, Tag};

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .branches
        .keys()
        .map(|name| app.urls.branch(&store, repo, name))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let name = param(&params, "name");
    if !repo.branches.contains_key(name) {
        return Err(ApiError::not_found(format_args!("Branch {name}")));
    }
    ok(app.urls.branch(&store, repo, name))
}

/// Creating a branch is a push: hooks get `repo:push` with a `created` change.
pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = valid_ref_name(text(&request, "/name"), "Branch")?;
    super::restrictions::check_push(&store, index, &name, caller.user)?;
    let Some(target) = text(&request, "/target/hash") else {
        return Err(ApiError::bad_request("target.hash is required")
            .field("target", "the commit the branch starts at (target.hash)"));
    };
    let repo = &mut store.repos[index];
    if repo.branches.contains_key(&name) {
        return Err(ApiError::bad_request(format!(
            "Branch \"{name}\" already exists."
        )));
    }
    let hash = repo.resolve(target).ok_or_else(|| {
        ApiError::bad_request(format!("Commit {target} not found"))
            .field("target", "no such commit")
    })?;
    repo.branches.insert(name.clone(), hash.clone());
    if repo.mainbranch.is_none() {
        repo.mainbranch = Some(name.clone());
    }
    let change = push_change(&app.urls, &store, index, &name, None, Some(&hash));
    emit_push(&app, &store, index, caller.user, vec![change]);
    created(app.urls.branch(&store, &store.repos[index], &name))
}

/// Deleting a branch is a push too: `repo:push` with a `closed` change.
pub(super) async fn delete(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = param(&params, "name");
    let repo = &store.repos[index];
    let Some(old) = repo.branches.get(name).cloned() else {
        return Err(ApiError::not_found(format_args!("Branch {name}")));
    };
    super::restrictions::check_delete(&store, index, name, caller.user)?;
    let repo = &store.repos[index];
    if repo.mainbranch.as_deref() == Some(name) {
        return Err(ApiError::bad_request(format!(
            "Cannot delete the main branch {name}: make another branch the main branch first"
        )));
    }
    let change = push_change(&app.urls, &store, index, name, Some(&old), None);
    store.repos[index].branches.remove(name);
    emit_push(&app, &store, index, caller.user, vec![change]);
    no_content()
}

impl Urls {
    pub fn tag(&self, store: &Store, repo: &Repo, tag: &Tag) -> Value {
        let tagger = &store.users[tag.tagger];
        let api = self.repo_api(repo);
        json!({
            "type": "tag",
            "name": tag.name,
            "message": tag.message,
            "date": tag.date,
            "tagger": {
                "type": "author",
                "raw": format!("{} <{}>", tagger.display_name, tagger.email),
                "user": self.user(tagger),
            },
            "target": repo.commits.get(&tag.target).map(|c| self.commit(store, repo, c)),
            "links": {
                "self": href(format!("{api}/refs/tags/{}", tag.name)),
                "commits": href(format!("{api}/commits/{}", tag.name)),
                "html": href(format!("{}/commits/tag/{}", self.repo_web(repo), tag.name)),
            },
        })
    }
}

/// `GET /refs`: branches and tags together, by name.
pub(super) async fn list_refs(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let mut refs: Vec<(&str, Value)> = repo
        .branches
        .keys()
        .map(|name| (name.as_str(), app.urls.branch(&store, repo, name)))
        .chain(
            repo.tags
                .values()
                .map(|t| (t.name.as_str(), app.urls.tag(&store, repo, t))),
        )
        .collect();
    refs.sort_by(|a, b| a.0.cmp(b.0));
    numbered(&app, &uri, refs.into_iter().map(|(_, v)| v).collect())
}

pub(super) async fn list_tags(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .tags
        .values()
        .map(|t| app.urls.tag(&store, repo, t))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_tag(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let name = param(&params, "name");
    let tag = repo
        .tags
        .get(name)
        .ok_or_else(|| ApiError::not_found(format_args!("Tag {name}")))?;
    ok(app.urls.tag(&store, repo, tag))
}

/// Creating a tag is a push: hooks get `repo:push` with the new tag.
pub(super) async fn create_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = valid_ref_name(text(&request, "/name"), "Tag")?;
    let Some(target) = text(&request, "/target/hash") else {
        return Err(ApiError::bad_request("target.hash is required")
            .field("target", "the commit the tag points at (target.hash)"));
    };
    let repo = &mut store.repos[index];
    if repo.tags.contains_key(&name) {
        return Err(ApiError::bad_request(format!(
            "Tag \"{name}\" already exists."
        )));
    }
    let hash = repo.resolve(target).ok_or_else(|| {
        ApiError::bad_request(format!("Commit {target} not found"))
            .field("target", "no such commit")
    })?;
    let tag = Tag {
        name: name.clone(),
        target: hash,
        message: text(&request, "/message").unwrap_or_default().to_string(),
        tagger: caller.user,
        date: clock::now(),
    };
    repo.tags.insert(name.clone(), tag);
    let repo = &store.repos[index];
    let value = app.urls.tag(&store, repo, &repo.tags[&name]);
    emit_push(
        &app,
        &store,
        index,
        caller.user,
        vec![tag_change(&value, true)],
    );
    created(value)
}

pub(super) async fn delete_tag(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let name = param(&params, "name");
    let repo = &store.repos[index];
    let Some(tag) = repo.tags.get(name) else {
        return Err(ApiError::not_found(format_args!("Tag {name}")));
    };
    let value = app.urls.tag(&store, repo, tag);
    store.repos[index].tags.remove(name);
    emit_push(
        &app,
        &store,
        index,
        caller.user,
        vec![tag_change(&value, false)],
    );
    no_content()
}

/// The `push.changes` entry of a tag created (`new`) or deleted (`old`).
fn tag_change(tag: &Value, created: bool) -> Value {
    let (old, new) = if created {
        (Value::Null, tag.clone())
    } else {
        (tag.clone(), Value::Null)
    };
    json!({
        "old": old,
        "new": new,
        "created": created,
        "closed": !created,
        "forced": false,
        "truncated": false,
        "commits": [],
    })
}

/// A branch or tag name from a body, or Bitbucket's 400.
fn valid_ref_name(name: Option<&str>, what: &str) -> Result<String, ApiError> {
    let name = name.unwrap_or_default().trim().to_string();
    if name.is_empty() {
        return Err(ApiError::bad_request(format!("{what} name is required"))
            .field("name", "This field is required."));
    }
    if name.contains("..") || name.starts_with('/') || name.ends_with('/') || name.contains(' ') {
        return Err(
            ApiError::bad_request(format!("Invalid {} name: {name}", what.to_lowercase()))
                .field("name", "not a valid git ref name"),
        );
    }
    Ok(name)
}
