//! Branch restrictions (`/branch-restrictions`), and enforcing them: a `push` restriction lets
//! only its users create or move the branches it matches, a `delete` one forbids deleting them,
//! `restrict_merges` lets only its users merge into them, and the merge checks
//! (`require_approvals_to_merge`, `require_default_reviewer_approvals_to_merge`,
//! `require_passing_builds_to_merge`, `require_tasks_to_be_completed`,
//! `require_no_changes_requested`) refuse a merge until they pass, as Bitbucket Premium's
//! enforced merge checks do.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::{Value, json};

use super::{
    Answer, Params, Shared, body, created, no_content, numbered, ok, param, repo, repo_index, text,
};
use crate::errors::ApiError;
use crate::render::{Urls, href};
use crate::store::{BranchRestriction, BranchingModel, PullRequest, Repo, Store, glob};

/// The kinds Bitbucket accepts; those in `WITH_VALUE` take a number.
const KINDS: &[&str] = &[
    "push",
    "force",
    "delete",
    "restrict_merges",
    "require_tasks_to_be_completed",
    "require_approvals_to_merge",
    "require_default_reviewer_approvals_to_merge",
    "require_no_changes_requested",
    "require_passing_builds_to_merge",
    "require_commits_behind",
    "reset_pullrequest_approvals_on_change",
    "smart_reset_pullrequest_approvals",
    "reset_pullrequest_changes_requested_on_change",
    "require_all_dependencies_merged",
    "enforce_merge_checks",
    "allow_auto_merge_when_builds_pass",
];
const WITH_VALUE: &[&str] = &[
    "require_approvals_to_merge",
    "require_default_reviewer_approvals_to_merge",
    "require_passing_builds_to_merge",
    "require_commits_behind",
];
const BRANCH_TYPES: &[&str] = &[
    "feature",
    "bugfix",
    "release",
    "hotfix",
    "development",
    "production",
];

impl Urls {
    fn restriction(&self, store: &Store, repo: &Repo, r: &BranchRestriction) -> Value {
        let mut value = json!({
            "type": "branchrestriction",
            "id": r.id,
            "kind": r.kind,
            "branch_match_kind": r.match_kind,
            "pattern": r.pattern,
            "value": r.value,
            "users": r.users.iter().map(|u| self.user(&store.users[*u])).collect::<Vec<_>>(),
            "groups": r.groups.iter().map(|g| json!({ "type": "group", "slug": g, "name": g })).collect::<Vec<_>>(),
            "links": {
                "self": href(format!("{}/branch-restrictions/{}", self.repo_api(repo), r.id)),
            },
        });
        if let Some(t) = &r.branch_type {
            value["branch_type"] = json!(t);
        }
        value
    }
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let query = super::list_query(&app, &uri);
    let store = app.store();
    let repo = repo(&store, &params)?;
    let kind = query.get("kind");
    let pattern = query.get("pattern");
    let items = repo
        .restrictions
        .iter()
        .filter(|r| kind.is_none_or(|k| r.kind == k))
        .filter(|r| pattern.is_none_or(|p| r.pattern == p))
        .map(|r| app.urls.restriction(&store, repo, r))
        .collect();
    numbered(&app, &uri, items)
}

pub(super) async fn get(State(app): State<Shared>, params: Params) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let at = find(repo, &params)?;
    ok(app.urls.restriction(&store, repo, &repo.restrictions[at]))
}

pub(super) async fn create(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let id = store
        .repos
        .iter()
        .flat_map(|r| r.restrictions.iter().map(|x| x.id))
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    let restriction = read(
        &store,
        &request,
        BranchRestriction {
            id,
            kind: String::new(),
            match_kind: "glob".into(),
            pattern: String::new(),
            branch_type: None,
            value: None,
            users: Vec::new(),
            groups: Vec::new(),
        },
    )?;
    let repo = &mut store.repos[index];
    let duplicate = repo.restrictions.iter().any(|r| {
        r.kind == restriction.kind
            && r.match_kind == restriction.match_kind
            && r.pattern == restriction.pattern
            && r.branch_type == restriction.branch_type
    });
    if duplicate {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "A branch restriction of kind {} for this branch already exists",
                restriction.kind
            ),
        ));
    }
    repo.restrictions.push(restriction);
    let repo = &store.repos[index];
    created(
        app.urls
            .restriction(&store, repo, repo.restrictions.last().expect("just pushed")),
    )
}

pub(super) async fn update(State(app): State<Shared>, params: Params, bytes: Bytes) -> Answer {
    let request = body(&bytes)?;
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = find(&store.repos[index], &params)?;
    let updated = read(
        &store,
        &request,
        store.repos[index].restrictions[at].clone(),
    )?;
    store.repos[index].restrictions[at] = updated;
    let repo = &store.repos[index];
    ok(app.urls.restriction(&store, repo, &repo.restrictions[at]))
}

pub(super) async fn delete(State(app): State<Shared>, params: Params) -> Answer {
    let mut store = app.store();
    let index = repo_index(&store, &params)?;
    let at = find(&store.repos[index], &params)?;
    store.repos[index].restrictions.remove(at);
    no_content()
}

/// `base` with what `request` sets, checked as Bitbucket checks it.
fn read(
    store: &Store,
    request: &Value,
    mut r: BranchRestriction,
) -> Result<BranchRestriction, ApiError> {
    if let Some(kind) = text(request, "/kind") {
        r.kind = kind.to_string();
    }
    if !KINDS.contains(&r.kind.as_str()) {
        return Err(
            ApiError::bad_request(format!("kind: \"{}\" is not a valid choice.", r.kind))
                .field("kind", &format!("one of {}", KINDS.join(", "))),
        );
    }
    if let Some(kind) = text(request, "/branch_match_kind") {
        r.match_kind = kind.to_string();
    }
    if let Some(pattern) = text(request, "/pattern") {
        r.pattern = pattern.to_string();
    }
    if let Some(t) = text(request, "/branch_type") {
        r.branch_type = Some(t.to_string());
    }
    match r.match_kind.as_str() {
        "glob" => {
            if r.pattern.is_empty() {
                return Err(ApiError::bad_request("pattern: This field is required.")
                    .field("pattern", "a glob of the branches restricted, e.g. main"));
            }
            r.branch_type = None;
        }
        "branching_model" => {
            if !r
                .branch_type
                .as_deref()
                .is_some_and(|t| BRANCH_TYPES.contains(&t))
            {
                return Err(
                    ApiError::bad_request("branch_type: This field is required.").field(
                        "branch_type",
                        &format!("one of {}", BRANCH_TYPES.join(", ")),
                    ),
                );
            }
            r.pattern = String::new();
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "branch_match_kind: \"{other}\" is not a valid choice."
            ))
            .field("branch_match_kind", "glob or branching_model"));
        }
    }
    match request.get("value") {
        Some(Value::Null) | None => {}
        Some(v) => match v.as_i64().filter(|n| *n >= 0) {
            Some(n) if WITH_VALUE.contains(&r.kind.as_str()) => r.value = Some(n),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "value: invalid for a {} restriction",
                    r.kind
                ))
                .field("value", "a number from 0, for the kinds that take one"));
            }
        },
    }
    if let Some(users) = request.get("users").and_then(Value::as_array) {
        r.users = Vec::new();
        for u in users {
            let id = text(u, "/uuid")
                .or_else(|| text(u, "/account_id"))
                .unwrap_or_default();
            let user = store.user_index(id).ok_or_else(|| {
                ApiError::bad_request(format!("users: no account {id}"))
                    .field("users", &format!("no account {id}"))
            })?;
            if !r.users.contains(&user) {
                r.users.push(user);
            }
        }
    }
    if let Some(groups) = request.get("groups").and_then(Value::as_array) {
        r.groups = groups
            .iter()
            .filter_map(|g| text(g, "/slug"))
            .map(str::to_string)
            .collect();
    }
    Ok(r)
}

fn find(repo: &Repo, params: &Params) -> Result<usize, ApiError> {
    let id = param(params, "id");
    id.parse::<u64>()
        .ok()
        .and_then(|id| repo.restrictions.iter().position(|r| r.id == id))
        .ok_or_else(|| ApiError::not_found(format_args!("Branch restriction {id}")))
}

/// Whether restriction `r` applies to `branch` of `repo`, whose effective branching model is
/// `model`.
fn matches(repo: &Repo, model: &BranchingModel, r: &BranchRestriction, branch: &str) -> bool {
    match r.match_kind.as_str() {
        "glob" => glob(&r.pattern, branch),
        _ => match r.branch_type.as_deref() {
            Some("development") => {
                model.development.as_ref().or(repo.mainbranch.as_ref()) == Some(&branch.to_string())
            }
            Some("production") => {
                model.production_enabled
                    && model.production.as_ref().or(repo.mainbranch.as_ref())
                        == Some(&branch.to_string())
            }
            Some(kind) => model
                .types
                .iter()
                .any(|(k, prefix, on)| *on && k == kind && branch.starts_with(prefix.as_str())),
            None => false,
        },
    }
}

/// The restrictions of `kind` on `branch`.
fn applying<'a>(
    repo: &'a Repo,
    model: &'a BranchingModel,
    kind: &'a str,
    branch: &'a str,
) -> impl Iterator<Item = &'a BranchRestriction> {
    repo.restrictions
        .iter()
        .filter(move |r| r.kind == kind && matches(repo, model, r, branch))
}

/// Refuses a push to (or the creation of) `branch` by `user` when a `push` restriction lets
/// only others push there.
pub(crate) fn check_push(
    store: &Store,
    index: usize,
    branch: &str,
    user: usize,
) -> Result<(), ApiError> {
    let repo = &store.repos[index];
    let model = store.branching_model(index);
    if applying(repo, &model, "push", branch).any(|r| !r.users.contains(&user)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "You don't have permission to push to branch {branch}: a branch restriction \
                 allows only the users and groups it names"
            ),
        ));
    }
    Ok(())
}

/// Refuses deleting `branch` when a `delete` restriction matches it.
pub(crate) fn check_delete(
    store: &Store,
    index: usize,
    branch: &str,
    _user: usize,
) -> Result<(), ApiError> {
    let repo = &store.repos[index];
    let model = store.branching_model(index);
    if applying(repo, &model, "delete", branch).next().is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("Branch {branch} cannot be deleted: a branch restriction prevents it"),
        ));
    }
    Ok(())
}

/// Refuses merging `pr` (whose source head is `source`) as `user` when `restrict_merges` or
/// a merge check forbids it: a 403 for the former, a 400 naming every failed check for the
/// latter.
pub(crate) fn check_merge(
    store: &Store,
    index: usize,
    pr: &PullRequest,
    source: &str,
    user: usize,
) -> Result<(), ApiError> {
    let repo = &store.repos[index];
    let model = store.branching_model(index);
    let branch = pr.destination_branch.as_str();
    if applying(repo, &model, "restrict_merges", branch).any(|r| !r.users.contains(&user)) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "You don't have permission to merge into {branch}: a branch restriction allows \
                 only the users and groups it names"
            ),
        ));
    }
    let mut failed = Vec::new();
    let approvals = pr.participants.iter().filter(|p| p.approved).count();
    let defaults = super::reviewers::effective(store, index);
    let default_approvals = pr
        .participants
        .iter()
        .filter(|p| p.approved && defaults.contains(&p.user))
        .count();
    let statuses: Vec<&str> = repo
        .statuses
        .iter()
        .filter(|s| s.commit == source)
        .map(|s| s.state.as_str())
        .collect();
    let passing = statuses.iter().filter(|s| **s == "SUCCESSFUL").count();
    for r in &repo.restrictions {
        if !matches(repo, &model, r, branch) {
            continue;
        }
        let want = usize::try_from(r.value.unwrap_or(1)).unwrap_or(usize::MAX);
        match r.kind.as_str() {
            "require_approvals_to_merge" if approvals < want => {
                failed.push(format!("{want} approval(s) required, {approvals} given"))
            }
            "require_default_reviewer_approvals_to_merge" if default_approvals < want => failed
                .push(format!(
                    "{want} approval(s) from default reviewers required, {default_approvals} given"
                )),
            "require_passing_builds_to_merge"
                if passing < want || statuses.iter().any(|s| *s != "SUCCESSFUL") =>
            {
                failed.push(format!(
                    "{want} successful build(s) and no unsuccessful ones required, {passing} \
                     successful of {}",
                    statuses.len()
                ))
            }
            "require_tasks_to_be_completed" if pr.tasks.iter().any(|t| t.resolved.is_none()) => {
                failed.push("every task must be resolved".into())
            }
            "require_no_changes_requested"
                if pr.participants.iter().any(|p| p.changes_requested) =>
            {
                failed.push("no reviewer may have requested changes".into())
            }
            _ => {}
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(
        ApiError::bad_request("You can't merge until you resolve all merge checks.")
            .detail(json!({ "merge_checks": failed })),
    )
}

/// What a push to `branch` does to the open pull requests from it: where a
/// `reset_pullrequest_approvals_on_change` restriction covers a pull request's destination, its
/// approvals are withdrawn (and, with `reset_pullrequest_changes_requested_on_change`, its
/// requests for changes), as Bitbucket does when the source changes.
pub(crate) fn after_push(store: &mut Store, index: usize, branch: &str) {
    let model = store.branching_model(index);
    let repo = &store.repos[index];
    let resets: Vec<(usize, bool, bool)> = repo
        .pulls
        .iter()
        .enumerate()
        .filter(|(_, pr)| pr.state == crate::store::PrState::Open && pr.source_branch == branch)
        .map(|(at, pr)| {
            let destination = pr.destination_branch.as_str();
            (
                at,
                applying(
                    repo,
                    &model,
                    "reset_pullrequest_approvals_on_change",
                    destination,
                )
                .next()
                .is_some(),
                applying(
                    repo,
                    &model,
                    "reset_pullrequest_changes_requested_on_change",
                    destination,
                )
                .next()
                .is_some(),
            )
        })
        .collect();
    for (at, approvals, changes) in resets {
        for p in &mut store.repos[index].pulls[at].participants {
            if approvals {
                p.approved = false;
            }
            if changes {
                p.changes_requested = false;
            }
        }
    }
}
