//! Comments on commits (`/commit/{commit}/comments`) and on issues
//! (`/issues/{issue_id}/comments`): listed, created, read, edited by their author and deleted.
//! Creating one sends `repo:commit_comment_created` or `issue:comment_created`.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Value, json};

use super::{
    Answer, Caller, Params, Shared, body, created, emit, no_content, numbered, ok, param,
    repo_index, text,
};
use crate::errors::ApiError;
use crate::render::{Urls, href, html_escape};
use crate::store::{Inline, Note, NoteOn, Repo, Store};
use crate::{App, clock};

impl Urls {
    fn note(&self, store: &Store, repo: &Repo, note: &Note) -> Value {
        let mut value = json!({
            "id": note.id,
            "content": {
                "type": "rendered",
                "raw": note.raw,
                "markup": "markdown",
                "html": format!("<p>{}</p>", html_escape(&note.raw)),
            },
            "user": self.user(&store.users[note.user]),
            "created_on": note.created_on,
            "updated_on": note.updated_on,
            "deleted": false,
        });
        match &note.on {
            NoteOn::Commit(hash) => {
                let api = format!("{}/commit/{hash}/comments/{}", self.repo_api(repo), note.id);
                value["type"] = json!("commit_comment");
                value["commit"] = self.commit_ref(repo, hash);
                value["links"] = json!({
                    "self": href(api),
                    "html": href(format!("{}/commits/{hash}#comment-{}", self.repo_web(repo), note.id)),
                });
                if let Some(parent) = note.parent {
                    value["parent"] = json!({ "id": parent });
                }
                if let Some(i) = &note.inline {
                    value["inline"] = json!({ "path": i.path, "from": i.from, "to": i.to });
                }
            }
            NoteOn::Issue(id) => {
                let api = format!("{}/issues/{id}/comments/{}", self.repo_api(repo), note.id);
                let title = repo
                    .issues
                    .iter()
                    .find(|i| i.id == *id)
                    .map(|i| i.title.clone());
                value["type"] = json!("issue_comment");
                value["issue"] = json!({
                    "type": "issue",
                    "id": id,
                    "title": title,
                    "repository": self.repo_summary(repo),
                    "links": { "self": href(format!("{}/issues/{id}", self.repo_api(repo))) },
                });
                value["links"] = json!({
                    "self": href(api),
                    "html": href(format!("{}/issues/{id}#comment-{}", self.repo_web(repo), note.id)),
                });
            }
        }
        value
    }
}

/// What the path's comments are on: the commit (resolved to its full hash) or the issue.
fn subject(store: &Store, params: &Params, issue: bool) -> Result<(usize, NoteOn), ApiError> {
    if issue {
        let index = super::issues::tracker(store, params)?;
        let repo = &store.repos[index];
        let at = super::issues::position(repo, params)?;
        return Ok((index, NoteOn::Issue(repo.issues[at].id)));
    }
    let index = repo_index(store, params)?;
    let hash = super::commit_hash(&store.repos[index], params)?;
    Ok((index, NoteOn::Commit(hash)))
}

fn find(repo: &Repo, on: &NoteOn, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "comment_id");
    id.parse::<u64>()
        .ok()
        .and_then(|id| repo.notes.iter().position(|n| n.id == id && n.on == *on))
        .ok_or_else(|| ApiError::not_found(format_args!("Comment {id}")))
}

async fn list(app: Shared, params: Params, uri: Uri, issue: bool) -> Answer {
    let store = app.store();
    let (index, on) = subject(&store, &params, issue)?;
    let repo = &store.repos[index];
    let items = repo
        .notes
        .iter()
        .filter(|n| n.on == on)
        .map(|n| app.urls.note(&store, repo, n))
        .collect();
    numbered(&app, &uri, items)
}

async fn get(app: Shared, params: Params, issue: bool) -> Answer {
    let store = app.store();
    let (index, on) = subject(&store, &params, issue)?;
    let repo = &store.repos[index];
    let at = find(repo, &on, &params)?;
    ok(app.urls.note(&store, repo, &repo.notes[at]))
}

fn content(request: &Value) -> Result<String, ApiError> {
    match text(request, "/content/raw") {
        Some(raw) if !raw.trim().is_empty() => Ok(raw.to_string()),
        _ => Err(ApiError::bad_request("content: This field is required.")
            .field("content", "This field is required.")),
    }
}

async fn create(app: Shared, caller: Caller, params: Params, bytes: Bytes, issue: bool) -> Answer {
    let request = body(&bytes)?;
    let raw = content(&request)?;
    let mut store = app.store();
    let (index, on) = subject(&store, &params, issue)?;
    let repo = &mut store.repos[index];
    let parent = request.pointer("/parent/id").and_then(Value::as_u64);
    if let Some(parent) = parent
        && !repo.notes.iter().any(|n| n.id == parent && n.on == on)
    {
        return Err(
            ApiError::bad_request(format!("Parent comment {parent} not found"))
                .field("parent", "no such comment here"),
        );
    }
    let inline = request
        .get("inline")
        .filter(|i| i.is_object())
        .and_then(|i| {
            Some(Inline {
                path: text(i, "/path")?.to_string(),
                from: i.get("from").and_then(Value::as_i64),
                to: i.get("to").and_then(Value::as_i64),
            })
        });
    let now = clock::now();
    let id = repo.next_comment_id;
    repo.next_comment_id += 1;
    repo.notes.push(Note {
        id,
        on: on.clone(),
        raw,
        user: caller.user,
        parent,
        inline: inline.filter(|_| !issue),
        created_on: now.clone(),
        updated_on: now,
    });
    let repo = &store.repos[index];
    let value = app
        .urls
        .note(&store, repo, repo.notes.last().expect("just pushed"));
    emit_created(&app, &store, index, caller.user, &on, &value);
    created(value)
}

fn emit_created(app: &App, store: &Store, index: usize, actor: usize, on: &NoteOn, value: &Value) {
    let repo = &store.repos[index];
    match on {
        NoteOn::Commit(hash) => {
            let commit = repo
                .commits
                .get(hash)
                .map(|c| app.urls.commit(store, repo, c));
            emit(
                app,
                store,
                index,
                actor,
                EventKey::RepoCommitCommentCreated,
                json!({ "comment": value, "commit": commit }),
            );
        }
        NoteOn::Issue(id) => {
            let issue = repo
                .issues
                .iter()
                .find(|i| i.id == *id)
                .map(|i| app.urls.issue(store, repo, i));
            emit(
                app,
                store,
                index,
                actor,
                EventKey::IssueCommentCreated,
                json!({ "comment": value, "issue": issue }),
            );
        }
    }
}

async fn update(app: Shared, caller: Caller, params: Params, bytes: Bytes, issue: bool) -> Answer {
    let request = body(&bytes)?;
    let raw = content(&request)?;
    let mut store = app.store();
    let (index, on) = subject(&store, &params, issue)?;
    let repo = &mut store.repos[index];
    let at = find(repo, &on, &params)?;
    let note = &mut repo.notes[at];
    if note.user != caller.user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You can only edit your own comments.",
        ));
    }
    note.raw = raw;
    note.updated_on = clock::now();
    let repo = &store.repos[index];
    ok(app.urls.note(&store, repo, &repo.notes[at]))
}

async fn delete(app: Shared, caller: Caller, params: Params, issue: bool) -> Answer {
    let mut store = app.store();
    let (index, on) = subject(&store, &params, issue)?;
    let repo = &mut store.repos[index];
    let at = find(repo, &on, &params)?;
    if repo.notes[at].user != caller.user {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You can only delete your own comments.",
        ));
    }
    repo.notes.remove(at);
    no_content()
}

macro_rules! handlers {
    ($issue:expr, $list:ident, $get:ident, $create:ident, $update:ident, $delete:ident) => {
        pub(super) async fn $list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
            list(app, params, uri, $issue).await
        }
        pub(super) async fn $get(State(app): State<Shared>, params: Params) -> Answer {
            get(app, params, $issue).await
        }
        pub(super) async fn $create(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            create(app, caller, params, bytes, $issue).await
        }
        pub(super) async fn $update(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            params: Params,
            bytes: Bytes,
        ) -> Answer {
            update(app, caller, params, bytes, $issue).await
        }
        pub(super) async fn $delete(
            State(app): State<Shared>,
            Extension(caller): Extension<Caller>,
            params: Params,
        ) -> Answer {
            delete(app, caller, params, $issue).await
        }
    };
}

handlers!(
    false,
    list_commit,
    get_commit,
    create_commit,
    update_commit,
    delete_commit
);
handlers!(
    true,
    list_issue,
    get_issue,
    create_issue,
    update_issue,
    delete_issue
);
