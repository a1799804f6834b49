//! `/repositories/{workspace}/{repo_slug}/issues` (the deprecated, still served issue tracker).

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::Uri;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Value, json};

use super::issue_fields;
use super::{
    Answer, Caller, Params, Shared, body, created, emit, numbered, ok, param, repo_index, text,
};
use crate::clock;
use crate::errors::ApiError;
use crate::render::{Urls, href, html_escape};
use crate::store::{Issue, IssueChange, Repo, Store, TrackerField};

const KINDS: &[&str] = &["bug", "enhancement", "proposal", "task"];
const PRIORITIES: &[&str] = &["trivial", "minor", "major", "critical", "blocker"];
const STATES: &[&str] = &[
    "submitted",
    "new",
    "open",
    "resolved",
    "on hold",
    "invalid",
    "duplicate",
    "wontfix",
    "closed",
];

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let items = repo
        .issues
        .iter()
        .map(|i| app.urls.issue(&store, repo, i))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let issue = &repo.issues[position(repo, &params)?];
    ok(app.urls.issue(&store, repo, issue))
}

pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let title = text(&request, "/title").unwrap_or_default().trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("title: This field is required.")
            .field("title", "This field is required."));
    }
    let kind = choice(&request, "kind", KINDS)?.unwrap_or("bug");
    let priority = choice(&request, "priority", PRIORITIES)?.unwrap_or("major");
    let state = choice(&request, "state", STATES)?.unwrap_or("new");
    let assignee = assignee(&store, &request)?;
    let mut fields = [None; 3];
    for (field, chosen) in TrackerField::ALL.into_iter().zip(&mut fields) {
        *chosen = issue_fields::chosen(&store.repos[index], &request, field)?.flatten();
    }
    let [component, milestone, version] = fields;
    let now = clock::now();
    let repo = &mut store.repos[index];
    let id = repo
        .issues
        .iter()
        .map(|i| i.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    repo.issues.push(Issue {
        id,
        title: title.to_string(),
        content: text(&request, "/content/raw")
            .unwrap_or_default()
            .to_string(),
        kind: kind.to_string(),
        priority: priority.to_string(),
        state: state.to_string(),
        reporter: caller.user,
        assignee: assignee.flatten(),
        voters: Vec::new(),
        watchers: vec![caller.user],
        created_on: now.clone(),
        updated_on: now,
        edited_on: None,
        component,
        milestone,
        version,
    });
    let repo = &store.repos[index];
    let value = app
        .urls
        .issue(&store, repo, repo.issues.last().expect("just pushed"));
    emit(
        &app,
        &store,
        index,
        caller.user,
        EventKey::IssueCreated,
        json!({ "issue": value }),
    );
    created(value)
}

/// Changes the fields the body sets; hooks get `issue:updated` with the `changes`, which
/// the issue's changes (`/changes`) list too.
pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    let changes = apply(&mut store, index, at, &request)?;
    record(
        &app,
        &mut store,
        index,
        at,
        caller.user,
        changes,
        String::new(),
    );
    let repo = &store.repos[index];
    ok(app.urls.issue(&store, repo, &repo.issues[at]))
}

/// Sets the fields `request` (shaped like an issue) sets on issue `at` of repository
/// `index`: what changed, `{"old", "new"}` by Bitbucket's field names.
fn apply(
    store: &mut Store,
    index: usize,
    at: usize,
    request: &Value,
) -> Result<serde_json::Map<String, Value>, ApiError> {
    let kind = choice(request, "kind", KINDS)?;
    let priority = choice(request, "priority", PRIORITIES)?;
    let state = choice(request, "state", STATES)?;
    let assignee = assignee(store, request)?;
    if let Some(title) = text(request, "/title")
        && title.trim().is_empty()
    {
        return Err(ApiError::bad_request("title: This field may not be blank.")
            .field("title", "This field may not be blank."));
    }
    let mut fields = Vec::new();
    for field in TrackerField::ALL {
        if let Some(chosen) = issue_fields::chosen(&store.repos[index], request, field)? {
            fields.push((field, chosen));
        }
    }
    let repo = &mut store.repos[index];
    let mut changes = serde_json::Map::new();
    for (field, chosen) in fields {
        let old = field.of(&repo.issues[at]);
        if old != chosen {
            let name = |id: Option<u64>| {
                id.and_then(|id| field.items(repo).iter().find(|i| i.id == id))
                    .map(|i| i.name.clone())
            };
            changes.insert(
                field.key().into(),
                json!({ "old": name(old), "new": name(chosen) }),
            );
            *field.of_mut(&mut repo.issues[at]) = chosen;
        }
    }
    let issue = &mut repo.issues[at];
    let mut set = |name: &str, field: &mut String, value: Option<&str>| {
        if let Some(value) = value
            && field != value
        {
            changes.insert(name.into(), json!({ "old": field.clone(), "new": value }));
            *field = value.to_string();
        }
    };
    set("title", &mut issue.title, text(request, "/title"));
    set("content", &mut issue.content, text(request, "/content/raw"));
    set("kind", &mut issue.kind, kind);
    set("priority", &mut issue.priority, priority);
    set("status", &mut issue.state, state);
    if let Some(assignee) = assignee
        && issue.assignee != assignee
    {
        changes.insert(
            "assignee".into(),
            json!({ "old": issue.assignee, "new": assignee }),
        );
        issue.assignee = assignee;
    }
    let now = clock::now();
    issue.updated_on = now.clone();
    issue.edited_on = Some(now);
    Ok(changes)
}

/// Keeps the change, and sends `issue:updated` with it (and its message as the comment).
fn record(
    app: &Shared,
    store: &mut Store,
    index: usize,
    at: usize,
    user: usize,
    changes: serde_json::Map<String, Value>,
    message: String,
) -> u64 {
    let repo = &mut store.repos[index];
    let issue = repo.issues[at].id;
    let id = repo
        .issue_changes
        .iter()
        .map(|c| c.id)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    repo.issue_changes.push(IssueChange {
        id,
        issue,
        user,
        changes: changes.clone(),
        message: message.clone(),
        created_on: clock::now(),
    });
    let repo = &store.repos[index];
    let value = app.urls.issue(store, repo, &repo.issues[at]);
    emit(
        app,
        store,
        index,
        user,
        EventKey::IssueUpdated,
        json!({
            "issue": value,
            "changes": changes,
            "comment": {
                "type": "issue_comment",
                "content": { "type": "rendered", "raw": message, "markup": "markdown" },
                "user": app.urls.user(&store.users[user]),
            },
        }),
    );
    id
}

impl Urls {
    fn issue_change(&self, store: &Store, repo: &Repo, c: &IssueChange) -> Value {
        let issue = repo.issues.iter().find(|i| i.id == c.issue);
        let api = format!("{}/issues/{}", self.repo_api(repo), c.issue);
        json!({
            "type": "issue_change",
            "id": c.id,
            "name": c.id.to_string(),
            "created_on": c.created_on,
            "user": self.user(&store.users[c.user]),
            "issue": issue.map(|i| json!({
                "type": "issue",
                "id": i.id,
                "title": i.title,
                "repository": self.repo_summary(repo),
                "links": { "self": href(api.clone()) },
            })),
            "changes": c.changes,
            "message": {
                "type": "rendered",
                "raw": c.message,
                "markup": "markdown",
                "html": if c.message.is_empty() { String::new() } else { format!("<p>{}</p>", html_escape(&c.message)) },
            },
            "links": {
                "self": href(format!("{api}/changes/{}", c.id)),
                "issue": href(api),
            },
        })
    }
}

pub(super) async fn list_changes(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let id = repo.issues[position(repo, &params)?].id;
    let items = repo
        .issue_changes
        .iter()
        .filter(|c| c.issue == id)
        .map(|c| app.urls.issue_change(&store, repo, c))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get_change(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = &store.repos[tracker(&store, &params)?];
    let id = repo.issues[position(repo, &params)?].id;
    let change = param(&params, "change_id");
    let c = repo
        .issue_changes
        .iter()
        .find(|c| c.issue == id && c.id.to_string() == change)
        .ok_or_else(|| ApiError::not_found(format_args!("Change {change}")))?;
    ok(app.urls.issue_change(&store, repo, c))
}

/// `POST /changes` with `{"changes": {"state": {"new": "resolved"}, ...}, "message": {"raw":
/// ...}}`: changes the issue (`state`, `title`, `kind`, `priority`, `content`,
/// `assignee_account_id`) and answers the change, `201`.
pub(super) async fn create_change(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut fields = serde_json::Map::new();
    if let Some(changes) = request.get("changes").and_then(Value::as_object) {
        for (name, change) in changes {
            let new = change.get("new").cloned().unwrap_or(Value::Null);
            match name.as_str() {
                "state" | "status" => fields.insert("state".into(), new),
                "title" | "kind" | "priority" => fields.insert(name.clone(), new),
                "content" => fields.insert("content".into(), json!({ "raw": new })),
                "assignee_account_id" | "assignee" => fields.insert(
                    "assignee".into(),
                    if new.is_null() {
                        Value::Null
                    } else {
                        json!({ "account_id": new })
                    },
                ),
                other => {
                    return Err(ApiError::bad_request(format!(
                        "changes: {other} cannot be changed this way"
                    ))
                    .field(
                        "changes",
                        "state, title, kind, priority, content or assignee_account_id",
                    ));
                }
            };
        }
    }
    let message = text(&request, "/message/raw")
        .unwrap_or_default()
        .to_string();
    if fields.is_empty() && message.trim().is_empty() {
        return Err(ApiError::bad_request("A change needs changes or a message")
            .field("changes", "what to change"));
    }
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let at = position(&store.repos[index], &params)?;
    let changes = apply(&mut store, index, at, &Value::Object(fields))?;
    let id = record(&app, &mut store, index, at, caller.user, changes, message);
    let repo = &store.repos[index];
    let c = repo
        .issue_changes
        .iter()
        .find(|c| c.id == id)
        .expect("just recorded");
    created(app.urls.issue_change(&store, repo, c))
}

/// The index of the repository, if its issue tracker is on; Bitbucket answers 404 otherwise.
pub(super) fn tracker(store: &Store, params: &Params) -> Result<usize, ApiError> {
    let index = repo_index(store, params)?;
    if !store.repos[index].has_issues {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            "Repository has no issue tracker.",
        ));
    }
    Ok(index)
}

/// Where in `repo.issues` the issue the path names is.
pub(super) fn position(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "issue_id");
    repo.issues
        .iter()
        .position(|i| i.id.to_string() == id)
        .ok_or_else(|| ApiError::not_found(format_args!("Issue {id}")))
}

/// `request[name]` if it is one of `allowed`; `None` when absent.
fn choice<'a>(
    request: &'a Value,
    name: &str,
    allowed: &[&str],
) -> Result<Option<&'a str>, ApiError> {
    match request.get(name).and_then(Value::as_str) {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(
            ApiError::bad_request(format!("{name}: \"{v}\" is not a valid choice."))
                .field(name, &format!("one of {}", allowed.join(", "))),
        ),
    }
}

/// The `assignee` of a body: `None` when absent, `Some(None)` when `null`.
fn assignee(store: &Store, request: &Value) -> Result<Option<Option<usize>>, ApiError> {
    match request.get("assignee") {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(who) => {
            let id = text(who, "/uuid")
                .or_else(|| text(who, "/account_id"))
                .unwrap_or_default();
            let user = store.user_index(id).ok_or_else(|| {
                ApiError::bad_request(format!("assignee: no account {id}"))
                    .field("assignee", "no such account")
            })?;
            Ok(Some(Some(user)))
        }
    }
}

/// Deletes the issue, its comments and attachments with it: `204`.
pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = position(repo, &params)?;
    let id = repo.issues.remove(at).id;
    repo.notes
        .retain(|n| n.on != crate::store::NoteOn::Issue(id));
    repo.issue_changes.retain(|c| c.issue != id);
    let uuid = repo.uuid.clone();
    drop(store);
    app.blobs()
        .attachments
        .retain(|(r, i, _), _| *r != uuid || *i != id);
    super::no_content()
}

/// Which of an issue's lists of accounts a request is about.
#[derive(Clone, Copy)]
enum Toggle {
    Vote,
    Watch,
}

fn accounts(issue: &mut Issue, toggle: Toggle) -> &mut Vec<usize> {
    match toggle {
        Toggle::Vote => &mut issue.voters,
        Toggle::Watch => &mut issue.watchers,
    }
}

/// `GET`: `204` when the caller votes for (or watches) the issue, else Bitbucket's 404.
async fn check(app: Shared, caller: Caller, params: Params, toggle: Toggle) -> Answer {
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = position(repo, &params)?;
    if !accounts(&mut repo.issues[at], toggle).contains(&caller.user) {
        return Err(ApiError::not_found(match toggle {
            Toggle::Vote => "Vote",
            Toggle::Watch => "Watch",
        }));
    }
    super::no_content()
}

/// `PUT` adds the caller, `DELETE` removes them: `204` either way.
async fn set(app: Shared, caller: Caller, params: Params, toggle: Toggle, on: bool) -> Answer {
    let mut store = app.store();
    let index = tracker(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = position(repo, &params)?;
    let list = accounts(&mut repo.issues[at], toggle);
    list.retain(|u| *u != caller.user);
    if on {
        list.push(caller.user);
    }
    super::no_content()
}

pub(super) async fn check_vote(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    check(app, caller, params, Toggle::Vote).await
}
pub(super) async fn vote(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set(app, caller, params, Toggle::Vote, true).await
}
pub(super) async fn unvote(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set(app, caller, params, Toggle::Vote, false).await
}
pub(super) async fn check_watch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    check(app, caller, params, Toggle::Watch).await
}
pub(super) async fn watch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set(app, caller, params, Toggle::Watch, true).await
}
pub(super) async fn unwatch(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    set(app, caller, params, Toggle::Watch, false).await
}
