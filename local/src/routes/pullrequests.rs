//! `/repositories/{workspace}/{repo_slug}/pullrequests` and everything under it.

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use bitbucket_cloud::webhooks::EventKey;
use serde_json::{Value, json};

use super::commits::COMMIT_CURSOR;
use super::{
    Answer, Caller, Params, Shared, body, created, emit, emit_push, list_query, no_content,
    numbered, ok, param, repo, repo_index, text,
};
use crate::diff;
use crate::errors::ApiError;
use crate::paging::{self, Paging};
use crate::seed::push_change;
use crate::store::{Activity, Comment, Inline, PrState, PullRequest, Repo, Store};
use crate::{App, clock};

const STATES: &[&str] = &["OPEN", "MERGED", "DECLINED", "SUPERSEDED"];

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let mut states = query.all("state");
    if let Some(bad) = states.iter().find(|s| !STATES.contains(s)) {
        return Err(ApiError::bad_request(format!(
            "Invalid state: {bad} (one of OPEN, MERGED, DECLINED, SUPERSEDED)"
        )));
    }
    // Bitbucket lists only open pull requests unless asked for others.
    if states.is_empty() {
        states.push("OPEN");
    }
    let items = repo
        .pulls
        .iter()
        .rev()
        .filter(|pr| states.contains(&pr.state.as_str()))
        .map(|pr| app.urls.pull(&store, repo, pr))
        .collect();
    ok(paging::page(items, &query, Paging::Numbered)?)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    ok(app.urls.pull(&store, repo, pr))
}

pub(super) async fn create(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let title = text(&request, "/title").unwrap_or_default().trim();
    if title.is_empty() {
        return Err(ApiError::bad_request("title: This field is required.")
            .field("title", "This field is required."));
    }
    let repo = &store.repos[index];
    let source = text(&request, "/source/branch/name").unwrap_or_default();
    let Some(source_head) = repo.branches.get(source).cloned() else {
        return Err(
            ApiError::bad_request(format!("source: branch not found: {source}"))
                .field("source", &format!("branch not found: {source}")),
        );
    };
    let destination = text(&request, "/destination/branch/name")
        .map(str::to_string)
        .or_else(|| repo.mainbranch.clone())
        .unwrap_or_default();
    let Some(destination_head) = repo.branches.get(&destination).cloned() else {
        return Err(
            ApiError::bad_request(format!("destination: branch not found: {destination}"))
                .field("destination", &format!("branch not found: {destination}")),
        );
    };
    if repo
        .log(
            std::slice::from_ref(&source_head),
            std::slice::from_ref(&destination_head),
        )
        .is_empty()
    {
        return Err(ApiError::bad_request("There are no changes to be pulled"));
    }
    let reviewers = reviewers(&store, &request, caller.user)?;
    // Bitbucket adds the default reviewers (the repository's and its project's) to every new
    // pull request, except its author.
    let mut reviewers = reviewers.unwrap_or_default();
    for user in super::reviewers::effective(&store, index) {
        if user != caller.user && !reviewers.contains(&user) {
            reviewers.push(user);
        }
    }
    let now = clock::now();
    let title = title.to_string();
    let description = description(&request).unwrap_or_default().to_string();
    let repo = &mut store.repos[index];
    let pr = PullRequest {
        id: repo.next_pull_id(),
        activity: vec![Activity::Update {
            user: caller.user,
            date: now.clone(),
            state: PrState::Open,
            title: title.clone(),
            description: description.clone(),
        }],
        title,
        description,
        state: PrState::Open,
        draft: request
            .get("draft")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        author: caller.user,
        source_branch: source.to_string(),
        source_commit: source_head,
        destination_branch: destination,
        destination_commit: destination_head,
        close_source_branch: request
            .get("close_source_branch")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        reviewers,
        participants: Vec::new(),
        comments: Vec::new(),
        tasks: Vec::new(),
        merge_task: None,
        merge_commit: None,
        closed_by: None,
        reason: String::new(),
        created_on: now.clone(),
        updated_on: now,
    };
    repo.pulls.push(pr);
    let repo = &store.repos[index];
    let pr = repo.pulls.last().expect("just pushed");
    let value = app.urls.pull(&store, repo, pr);
    emit(
        &app,
        &store,
        index,
        caller.user,
        EventKey::PullrequestCreated,
        json!({ "pullrequest": value }),
    );
    created(value)
}

pub(super) async fn update(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let reviewers = reviewers(&store, &request, caller.user)?;
    let repo = &mut store.repos[index];
    let destination = text(&request, "/destination/branch/name").map(str::to_string);
    if let Some(name) = &destination
        && !repo.branches.contains_key(name)
    {
        return Err(
            ApiError::bad_request(format!("destination: branch not found: {name}"))
                .field("destination", &format!("branch not found: {name}")),
        );
    }
    let at = pull(repo, &params)?;
    let pr = &mut repo.pulls[at];
    require_open(pr, "updated")?;
    if let Some(title) = text(&request, "/title") {
        if title.trim().is_empty() {
            return Err(ApiError::bad_request("title: This field may not be blank.")
                .field("title", "This field may not be blank."));
        }
        pr.title = title.to_string();
    }
    if let Some(description) = description(&request) {
        pr.description = description.to_string();
    }
    if let Some(name) = destination {
        pr.destination_branch = name;
    }
    if let Some(v) = request.get("close_source_branch").and_then(Value::as_bool) {
        pr.close_source_branch = v;
    }
    if let Some(v) = request.get("draft").and_then(Value::as_bool) {
        pr.draft = v;
    }
    if let Some(reviewers) = reviewers {
        pr.reviewers = reviewers;
        for p in &mut pr.participants {
            p.reviewer = pr.reviewers.contains(&p.user);
        }
    }
    pr.updated_on = clock::now();
    record_update(pr, caller.user);
    respond_and_emit(
        &app,
        &store,
        index,
        at,
        caller.user,
        EventKey::PullrequestUpdated,
    )
}

/// Adds an `update` entry for the pull request as it is now to its activity.
fn record_update(pr: &mut PullRequest, user: usize) {
    pr.activity.push(Activity::Update {
        user,
        date: pr.updated_on.clone(),
        state: pr.state,
        title: pr.title.clone(),
        description: pr.description.clone(),
    });
}

pub(super) async fn approve(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    review(&app, caller, &params, true)
}

pub(super) async fn request_changes(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    review(&app, caller, &params, false)
}

pub(super) async fn unapprove(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    withdraw(&app, caller, &params, true)
}

pub(super) async fn remove_change_request(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
) -> Answer {
    withdraw(&app, caller, &params, false)
}

/// Withdraws the caller's approval, or request for changes: `204`, or Bitbucket's 404 when
/// there is none to withdraw.
fn withdraw(app: &App, caller: Caller, params: &Params, approval: bool) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, params)?;
    let at = pull(&store.repos[index], params)?;
    let pr = &mut store.repos[index].pulls[at];
    require_open(pr, if approval { "unapproved" } else { "reviewed" })?;
    let now = clock::now();
    let entry = pr.participants.iter_mut().find(|p| {
        p.user == caller.user
            && if approval {
                p.approved
            } else {
                p.changes_requested
            }
    });
    let Some(entry) = entry else {
        return Err(ApiError::not_found(if approval {
            "Approval"
        } else {
            "Change request"
        }));
    };
    if approval {
        entry.approved = false;
    } else {
        entry.changes_requested = false;
    }
    let repo = &store.repos[index];
    let pr = &repo.pulls[at];
    let (event, key) = if approval {
        (EventKey::PullrequestUnapproved, "approval")
    } else {
        (
            EventKey::PullrequestChangesRequestRemoved,
            "changes_request",
        )
    };
    let payload = json!({
        "pullrequest": app.urls.pull(&store, repo, pr),
        key: { "date": now, "user": app.urls.user(&store.users[caller.user]) },
    });
    emit(app, &store, index, caller.user, event, payload);
    no_content()
}

/// Approves, or requests changes: answers the caller's participant entry.
fn review(app: &App, caller: Caller, params: &Params, approve: bool) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, params)?;
    let at = pull(&store.repos[index], params)?;
    let pr = &mut store.repos[index].pulls[at];
    require_open(pr, if approve { "approved" } else { "reviewed" })?;
    let now = clock::now();
    pr.activity.push(if approve {
        Activity::Approval {
            user: caller.user,
            date: now.clone(),
        }
    } else {
        Activity::ChangesRequested {
            user: caller.user,
            date: now.clone(),
        }
    });
    let participant = pr.participant(caller.user);
    participant.approved = approve;
    participant.changes_requested = !approve;
    participant.participated_on = now.clone();
    let repo = &store.repos[index];
    let pr = &repo.pulls[at];
    let participant = app.urls.approval(&store, pr, caller.user);
    let (event, key) = if approve {
        (EventKey::PullrequestApproved, "approval")
    } else {
        (
            EventKey::PullrequestChangesRequestCreated,
            "changes_request",
        )
    };
    let payload = json!({
        "pullrequest": app.urls.pull(&store, repo, pr),
        key: { "date": now, "user": app.urls.user(&store.users[caller.user]) },
    });
    emit(app, &store, index, caller.user, event, payload);
    ok(participant)
}

pub(super) async fn decline(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    bytes: Bytes,
) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &mut store.repos[index];
    let at = pull(repo, &params)?;
    let pr = &repo.pulls[at];
    let source = repo.branches.get(&pr.source_branch).cloned();
    let destination = repo.branches.get(&pr.destination_branch).cloned();
    let pr = &mut repo.pulls[at];
    require_open(pr, "declined")?;
    pr.state = PrState::Declined;
    pr.closed_by = Some(caller.user);
    pr.reason = text(&request, "/message").unwrap_or_default().to_string();
    freeze(pr, source, destination);
    record_update(pr, caller.user);
    respond_and_emit(
        &app,
        &store,
        index,
        at,
        caller.user,
        EventKey::PullrequestRejected,
    )
}

/// Merges the pull request. With `async=true` it answers `202 Accepted` with the
/// `Location` of the merge's task status (`get_pull_request_merge_task_status`), as Bitbucket
/// does for merges it runs in the background; the merge itself is done at once.
pub(super) async fn merge(
    State(app): State<Shared>,
    Extension(caller): Extension<Caller>,
    params: Params,
    uri: Uri,
    bytes: Bytes,
) -> Answer {
    let background = list_query(&app, &uri).get("async") == Some("true");
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let repo = &store.repos[index];
    let at = pull(repo, &params)?;
    let pr = repo.pulls[at].clone();
    require_open(&pr, "merged")?;
    let (Some(source_head), Some(destination_head)) = (
        repo.branches.get(&pr.source_branch).cloned(),
        repo.branches.get(&pr.destination_branch).cloned(),
    ) else {
        return Err(ApiError::bad_request(
            "The source or destination branch of this pull request no longer exists",
        ));
    };
    super::restrictions::check_merge(&store, index, &pr, &source_head, caller.user)?;
    let repo = &store.repos[index];
    let strategy = text(&request, "/merge_strategy").unwrap_or("merge_commit");
    let message = text(&request, "/message").map(str::to_string);
    let merged = match strategy {
        "merge_commit" | "squash" => {
            let tree = merged_tree(repo, &source_head, &destination_head)?;
            let (parents, message) = if strategy == "merge_commit" {
                (
                    vec![destination_head.clone(), source_head.clone()],
                    message.unwrap_or_else(|| {
                        format!(
                            "Merged in {} (pull request #{})\n\n{}\n",
                            pr.source_branch, pr.id, pr.title
                        )
                    }),
                )
            } else {
                (
                    vec![destination_head.clone()],
                    message.unwrap_or_else(|| format!("{} (pull request #{})\n", pr.title, pr.id)),
                )
            };
            let repo = &mut store.repos[index];
            repo.add_commit(&message, caller.user, parents, tree)
        }
        "fast_forward" => {
            if !repo
                .reachable(std::slice::from_ref(&source_head))
                .contains(&destination_head)
            {
                return Err(ApiError::bad_request(
                    "Fast-forward merge is not possible: the destination branch has commits the \
                     source branch does not",
                ));
            }
            source_head.clone()
        }
        other => {
            return Err(
                ApiError::bad_request(format!("Invalid merge strategy: {other}")).field(
                    "merge_strategy",
                    "one of merge_commit, squash, fast_forward",
                ),
            );
        }
    };
    let close_source = request
        .get("close_source_branch")
        .and_then(Value::as_bool)
        .unwrap_or(pr.close_source_branch);
    let repo = &mut store.repos[index];
    repo.branches
        .insert(pr.destination_branch.clone(), merged.clone());
    let mut changes = vec![(
        pr.destination_branch.clone(),
        Some(destination_head.clone()),
        Some(merged.clone()),
    )];
    if close_source && repo.mainbranch.as_deref() != Some(pr.source_branch.as_str()) {
        repo.branches.remove(&pr.source_branch);
        changes.push((pr.source_branch.clone(), Some(source_head.clone()), None));
    }
    let live = &mut repo.pulls[at];
    live.state = PrState::Merged;
    live.merge_commit = Some(merged);
    live.closed_by = Some(caller.user);
    live.close_source_branch = close_source;
    freeze(live, Some(source_head), Some(destination_head));
    record_update(live, caller.user);
    // The push of the merge commit, then the pull request's own event.
    let changes = changes
        .into_iter()
        .map(|(branch, old, new)| {
            push_change(
                &app.urls,
                &store,
                index,
                &branch,
                old.as_deref(),
                new.as_deref(),
            )
        })
        .collect();
    emit_push(&app, &store, index, caller.user, changes);
    let answer = respond_and_emit(
        &app,
        &store,
        index,
        at,
        caller.user,
        EventKey::PullrequestFulfilled,
    )?;
    if !background {
        return Ok(answer);
    }
    let task = crate::ids::uuid();
    let repo = &mut store.repos[index];
    repo.pulls[at].merge_task = Some(task.clone());
    let location = format!(
        "{}/pullrequests/{}/merge/task-status/{}",
        app.urls.repo_api(repo),
        repo.pulls[at].id,
        crate::render::escape(&task)
    );
    let mut response = StatusCode::ACCEPTED.into_response();
    if let Ok(value) = header::HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    Ok(response)
}

/// `GET .../merge/task-status/{task_id}`: the background merge's state; merges here finish at
/// once, so it is `SUCCESS` with the merged pull request.
pub(super) async fn merge_task_status(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let task = param(&params, "task_id");
    if !pr
        .merge_task
        .as_deref()
        .is_some_and(|t| crate::ids::same_uuid(t, task))
    {
        return Err(ApiError::not_found(format_args!("Merge task {task}")));
    }
    ok(json!({
        "task_status": "SUCCESS",
        "merge_result": app.urls.pull(&store, repo, pr),
    }))
}

pub(super) async fn list_comments(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let items = pr
        .comments
        .iter()
        .map(|c| app.urls.comment(&store, repo, pr, c))
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
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let raw = text(&request, "/content/raw").unwrap_or_default();
    if raw.trim().is_empty() {
        return Err(ApiError::bad_request("content: This field is required.")
            .field("content", "This field is required."));
    }
    let parent = request.pointer("/parent/id").and_then(Value::as_u64);
    let inline = match request.get("inline") {
        Some(inline) if inline.is_object() => {
            let Some(path) = text(inline, "/path") else {
                return Err(ApiError::bad_request("inline.path is required")
                    .field("inline", "an inline comment needs the file's path"));
            };
            Some(Inline {
                path: path.to_string(),
                from: inline.get("from").and_then(Value::as_i64),
                to: inline.get("to").and_then(Value::as_i64),
            })
        }
        _ => None,
    };
    let repo = &mut store.repos[index];
    let comment_id = repo.next_comment_id;
    let at = pull(repo, &params)?;
    let pr = &mut repo.pulls[at];
    if let Some(parent) = parent
        && !pr.comments.iter().any(|c| c.id == parent)
    {
        return Err(
            ApiError::bad_request(format!("Parent comment {parent} not found"))
                .field("parent", "no such comment on this pull request"),
        );
    }
    let now = clock::now();
    pr.comments.push(Comment {
        id: comment_id,
        raw: raw.to_string(),
        user: caller.user,
        parent,
        inline,
        created_on: now.clone(),
        updated_on: now,
        deleted: false,
        resolution: None,
    });
    pr.activity.push(Activity::Comment(comment_id));
    pr.participant(caller.user);
    repo.next_comment_id += 1;
    let repo = &store.repos[index];
    let pr = &repo.pulls[at];
    let comment = pr.comments.last().expect("just pushed");
    let value = app.urls.comment(&store, repo, pr, comment);
    emit(
        &app,
        &store,
        index,
        caller.user,
        EventKey::PullrequestCommentCreated,
        json!({ "pullrequest": app.urls.pull(&store, repo, pr), "comment": value }),
    );
    created(value)
}

pub(super) async fn list_commits(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let (source, destination) = app.urls.live_endpoints(repo, pr);
    let items = repo
        .log(&[source], &[destination])
        .into_iter()
        .map(|c| app.urls.commit(&store, repo, c))
        .collect();
    ok(paging::page(items, &list_query(&app, &uri), COMMIT_CURSOR)?)
}

/// `GET …/pullrequests/{id}/diff`: as on Bitbucket, a 302 to the repository's diff of the
/// pull request's source against its destination (`ws/repo:source%0Ddestination`, the topic
/// diff against their merge base).
pub(super) async fn diff(State(app): State<Shared>, params: Params) -> Answer {
    to_repository(&app, &params, "diff")
}

/// `GET …/pullrequests/{id}/patch`: a 302 to the repository's patch of the same spec.
pub(super) async fn patch(State(app): State<Shared>, params: Params) -> Answer {
    to_repository(&app, &params, "patch")
}

/// The 302 of a pull request's diff or patch (`what`) to the repository's, with the spec
/// Bitbucket writes: the source repository and commit, a carriage return, the destination
/// commit.
fn to_repository(app: &App, params: &Params, what: &str) -> Answer {
    let store = app.store();
    let repo = repo(&store, params)?;
    let pr = &repo.pulls[pull(repo, params)?];
    let (source, destination) = app.urls.live_endpoints(repo, pr);
    let location = format!(
        "{}/{what}/{}:{}%0D{}?from_pullrequest_id={}&topic=true",
        app.urls.repo_api(repo),
        repo.full_name(),
        short(&source),
        short(&destination),
        pr.id
    );
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// A commit hash abbreviated as Bitbucket abbreviates them in links (12 digits).
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The description of a body: `description`, or `summary.raw` as the document names it.
fn description(request: &Value) -> Option<&str> {
    text(request, "/description").or_else(|| text(request, "/summary/raw"))
}

/// Where in `repo.pulls` the pull request the path names is.
pub(super) fn pull(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "pull_request_id");
    id.parse::<u64>()
        .ok()
        .and_then(|id| repo.pulls.iter().position(|p| p.id == id))
        .ok_or_else(|| ApiError::not_found(format_args!("Pull request {id}")))
}

pub(super) fn require_open(pr: &PullRequest, action: &str) -> Result<(), ApiError> {
    if pr.state == PrState::Open {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "Pull request #{} is {} and can no longer be {action}",
        pr.id,
        pr.state.as_str().to_ascii_lowercase()
    )))
}

/// A closed pull request keeps the commits its branches had.
fn freeze(pr: &mut PullRequest, source: Option<String>, destination: Option<String>) {
    if let Some(source) = source {
        pr.source_commit = source;
    }
    if let Some(destination) = destination {
        pr.destination_commit = destination;
    }
    pr.updated_on = clock::now();
}

/// The `reviewers` of a request body as account indexes; `None` when the body has none.
fn reviewers(
    store: &Store,
    request: &Value,
    author: usize,
) -> Result<Option<Vec<usize>>, ApiError> {
    let Some(list) = request.get("reviewers").and_then(Value::as_array) else {
        return Ok(None);
    };
    let mut found = Vec::new();
    for reviewer in list {
        let id = text(reviewer, "/uuid")
            .or_else(|| text(reviewer, "/account_id"))
            .unwrap_or_default();
        let user = store.user_index(id).ok_or_else(|| {
            ApiError::bad_request(format!("reviewers: no account {id}"))
                .field("reviewers", &format!("no account {id}"))
        })?;
        if user == author {
            let name = &store.users[user].display_name;
            return Err(ApiError::bad_request(format!(
                "reviewers: {name} is the author and cannot be included as a reviewer."
            ))
            .field("reviewers", "the author cannot be a reviewer"));
        }
        if !found.contains(&user) {
            found.push(user);
        }
    }
    Ok(Some(found))
}

/// The tree of merging `source` into `destination`, file by file; a file changed differently
/// on both sides is a conflict.
fn merged_tree(
    repo: &Repo,
    source: &str,
    destination: &str,
) -> Result<crate::store::Tree, ApiError> {
    let empty = Default::default();
    let tree = |hash: &str| repo.commits.get(hash).map_or(&empty, |c| &c.tree);
    let base = repo.merge_base(source, destination).unwrap_or_default();
    diff::merge(tree(&base), tree(destination), tree(source)).map_err(|conflicts| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Merge conflict in {}: merge the destination into the source branch and resolve it",
                conflicts.join(", ")
            ),
        )
    })
}

/// Answers pull request `at` of repository `index` and sends `event` for it.
fn respond_and_emit(
    app: &App,
    store: &Store,
    index: usize,
    at: usize,
    actor: usize,
    event: EventKey,
) -> Answer {
    let repo = &store.repos[index];
    let pr = &repo.pulls[at];
    let value = app.urls.pull(store, repo, pr);
    let payload = json!({ "pullrequest": value });
    emit(app, store, index, actor, event, payload);
    ok(value)
}

/// `GET /workspaces/{workspace}/pullrequests/{selected_user}`: the pull requests the account
/// authored in the workspace's repositories (open ones unless `state` says otherwise), newest
/// first.
pub(super) async fn list_for_user(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = list_query(&app, &uri);
    let store = app.store();
    let ws = super::workspace(&store, &params)?.slug.clone();
    let id = param(&params, "selected_user");
    let user = store
        .user_index(id)
        .ok_or_else(|| ApiError::not_found(format_args!("User {id}")))?;
    let mut states = query.all("state");
    if let Some(bad) = states.iter().find(|s| !STATES.contains(s)) {
        return Err(ApiError::bad_request(format!(
            "Invalid state: {bad} (one of OPEN, MERGED, DECLINED, SUPERSEDED)"
        )));
    }
    if states.is_empty() {
        states.push("OPEN");
    }
    let mut found: Vec<(&str, Value)> = store
        .repos
        .iter()
        .filter(|r| r.workspace == ws)
        .flat_map(|repo| {
            repo.pulls
                .iter()
                .filter(|pr| pr.author == user && states.contains(&pr.state.as_str()))
                .map(|pr| (pr.created_on.as_str(), app.urls.pull(&store, repo, pr)))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(a.0));
    let items = found.into_iter().map(|(_, v)| v).collect();
    ok(paging::page(items, &query, Paging::Numbered)?)
}
