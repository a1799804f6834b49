//! A local, in-memory Bitbucket Data Center over real HTTP, for tests and the tour of
//! `bitbucket-data-center`: projects, repositories, branches, pull requests (opened, merged
//! with the version check, declined) and build statuses, with Data Center's `start`/`limit`
//! pages and `{"errors": [...]}` bodies. Requests need credentials (any `Authorization`
//! header); an operation it does not serve answers 501 naming the request.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let server = bitbucket_data_center_local::LocalDataCenter::start().await?;
//! println!("serving on {}", server.url());
//! # Ok(())
//! # }
//! ```

// Handlers return an error answer as `Err(Response)`: one per request, its size is no cost.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};

/// A running server; it stops when dropped.
#[derive(Debug)]
pub struct LocalDataCenter {
    addr: SocketAddr,
    state: Shared,
    task: tokio::task::JoinHandle<()>,
}

type Shared = Arc<Mutex<Store>>;

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    projects: BTreeMap<String, Value>,
    repos: BTreeMap<(String, String), Repo>,
    /// Build statuses by commit.
    builds: BTreeMap<String, Vec<Value>>,
    commits: u64,
}

#[derive(Debug, Default)]
struct Repo {
    json: Value,
    /// Branch name → its head commit.
    branches: BTreeMap<String, String>,
    default_branch: String,
    pulls: BTreeMap<u64, Value>,
}

impl Store {
    fn id(&mut self) -> u64 {
        self.next_id = self.next_id.saturating_add(1);
        self.next_id
    }

    /// A new commit hash (40 hex digits), different each time.
    fn commit(&mut self) -> String {
        self.commits = self.commits.saturating_add(1);
        let mix = |salt: u64| {
            self.commits
                .wrapping_add(salt)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(29)
        };
        format!("{:016x}{:016x}{:08x}", mix(1), mix(2), mix(3) >> 32)
    }
}

impl LocalDataCenter {
    /// Starts a server on `127.0.0.1` with an ephemeral port.
    pub async fn start() -> std::io::Result<Self> {
        let state: Shared = Arc::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            // The server ends with its task; an accept error ends it early, which the
            // client then sees as refused connections.
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, state, task })
    }

    /// The server's URL (what `ClientBuilder::server_url` takes): `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a project (`key`, `name`) and returns it, as `POST /rest/api/latest/projects`
    /// would.
    pub fn seed_project(&self, key: &str, name: &str) -> Value {
        let mut store = lock(&self.state);
        new_project(&mut store, key, name)
    }

    /// Adds a repository with a `main` branch holding one commit.
    pub fn seed_repository(&self, project: &str, name: &str) -> Option<Value> {
        let mut store = lock(&self.state);
        new_repository(&mut store, project, name).ok()
    }
}

impl Drop for LocalDataCenter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Shared) -> std::sync::MutexGuard<'_, Store> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn router(state: Shared) -> Router {
    let repo = "/rest/api/latest/projects/{project}/repos/{slug}";
    Router::new()
        .route(
            "/rest/api/latest/projects",
            get(list_projects).post(create_project),
        )
        .route("/rest/api/latest/projects/{project}", get(get_project))
        .route(
            "/rest/api/latest/projects/{project}/repos",
            get(list_repos).post(create_repo),
        )
        .route(repo, get(get_repo))
        .route(&format!("{repo}/branches"), get(list_branches))
        .route(&format!("{repo}/default-branch"), get(default_branch))
        .route(
            "/rest/branch-utils/latest/projects/{project}/repos/{slug}/branches",
            axum::routing::post(create_branch),
        )
        .route(
            &format!("{repo}/pull-requests"),
            get(list_pulls).post(create_pull),
        )
        .route(&format!("{repo}/pull-requests/{{id}}"), get(get_pull))
        .route(
            &format!("{repo}/pull-requests/{{id}}/merge"),
            axum::routing::post(merge_pull),
        )
        .route(
            &format!("{repo}/pull-requests/{{id}}/decline"),
            axum::routing::post(decline_pull),
        )
        .route(
            &format!("{repo}/commits/{{commit}}/builds"),
            get(get_build).post(add_build),
        )
        .route(
            "/rest/build-status/latest/commits/{commit}",
            get(list_builds),
        )
        .fallback(unserved)
        .layer(middleware::from_fn(require_credentials))
        .with_state(state)
}

/// `{"errors": [{"context": null, "message": ..., "exceptionName": ...}]}`.
fn error(status: StatusCode, message: impl Into<String>, exception: &str) -> Response {
    (
        status,
        axum::Json(json!({
            "errors": [{ "context": null, "message": message.into(), "exceptionName": exception }]
        })),
    )
        .into_response()
}

async fn require_credentials(request: Request, next: Next) -> Response {
    if request.headers().get("authorization").is_none() {
        return error(
            StatusCode::UNAUTHORIZED,
            "Authentication failed. Please check your credentials and try again.",
            "com.atlassian.bitbucket.AuthorisationException",
        );
    }
    next.run(request).await
}

async fn unserved(request: Request) -> Response {
    error(
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "the local Bitbucket Data Center does not serve {} {}",
            request.method(),
            request.uri().path()
        ),
        "bitbucket_data_center_local.Unserved",
    )
}

#[derive(Deserialize)]
struct PageQuery {
    start: Option<usize>,
    limit: Option<usize>,
}

/// A Data Center page of `items`.
fn page(items: Vec<Value>, query: &PageQuery) -> Response {
    let start = query.start.unwrap_or(0);
    let limit = query.limit.unwrap_or(25).clamp(1, 1000);
    let values: Vec<Value> = items.iter().skip(start).take(limit).cloned().collect();
    let end = start.saturating_add(values.len());
    let last = end >= items.len();
    let mut body = json!({
        "size": values.len(), "limit": limit, "start": start, "isLastPage": last, "values": values
    });
    if !last {
        body["nextPageStart"] = json!(end);
    }
    axum::Json(body).into_response()
}

fn not_found(what: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        format!("{what} does not exist."),
        "com.atlassian.bitbucket.NoSuchEntityException",
    )
}

fn new_project(store: &mut Store, key: &str, name: &str) -> Value {
    let id = store.id();
    let project = json!({
        "key": key, "id": id, "name": name, "public": false, "type": "NORMAL",
        "links": { "self": [{ "href": format!("http://localhost/projects/{key}") }] }
    });
    store.projects.insert(key.to_string(), project.clone());
    project
}

fn new_repository(store: &mut Store, project: &str, name: &str) -> Result<Value, Response> {
    let Some(owner) = store.projects.get(project).cloned() else {
        return Err(not_found(&format!("Project {project}")));
    };
    let slug = name.to_ascii_lowercase().replace(' ', "-");
    if store
        .repos
        .contains_key(&(project.to_string(), slug.clone()))
    {
        return Err(error(
            StatusCode::CONFLICT,
            format!("This repository URL is already taken by '{name}' in '{project}'"),
            "com.atlassian.bitbucket.repository.DuplicateRepositoryNameException",
        ));
    }
    let id = store.id();
    let json = json!({
        "slug": slug, "id": id, "name": name, "scmId": "git", "state": "AVAILABLE",
        "statusMessage": "Available", "forkable": true, "public": false, "archived": false,
        "project": owner,
        "links": { "self": [{ "href": format!("http://localhost/projects/{project}/repos/{slug}/browse") }] }
    });
    let head = store.commit();
    store.repos.insert(
        (project.to_string(), slug),
        Repo {
            json: json.clone(),
            branches: BTreeMap::from([("main".to_string(), head)]),
            default_branch: "main".into(),
            pulls: BTreeMap::new(),
        },
    );
    Ok(json)
}

async fn list_projects(State(state): State<Shared>, Query(q): Query<PageQuery>) -> Response {
    let items = lock(&state).projects.values().cloned().collect();
    page(items, &q)
}

async fn create_project(
    State(state): State<Shared>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(key) = body["key"].as_str().filter(|k| !k.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "A project key is required.",
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        );
    };
    let mut store = lock(&state);
    if store.projects.contains_key(key) {
        return error(
            StatusCode::CONFLICT,
            format!("The project key {key} is already in use."),
            "com.atlassian.bitbucket.project.DuplicateProjectKeyException",
        );
    }
    let name = body["name"].as_str().unwrap_or(key).to_string();
    (
        StatusCode::CREATED,
        axum::Json(new_project(&mut store, key, &name)),
    )
        .into_response()
}

async fn get_project(State(state): State<Shared>, Path(project): Path<String>) -> Response {
    match lock(&state).projects.get(&project) {
        Some(p) => axum::Json(p.clone()).into_response(),
        None => not_found(&format!("Project {project}")),
    }
}

async fn list_repos(
    State(state): State<Shared>,
    Path(project): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let store = lock(&state);
    if !store.projects.contains_key(&project) {
        return not_found(&format!("Project {project}"));
    }
    let items = store
        .repos
        .iter()
        .filter(|((p, _), _)| *p == project)
        .map(|(_, r)| r.json.clone())
        .collect();
    page(items, &q)
}

async fn create_repo(
    State(state): State<Shared>,
    Path(project): Path<String>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let Some(name) = body["name"].as_str().filter(|n| !n.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            "A repository name is required.",
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        );
    };
    match new_repository(&mut lock(&state), &project, name) {
        Ok(repo) => (StatusCode::CREATED, axum::Json(repo)).into_response(),
        Err(response) => response,
    }
}

fn with_repo<T>(
    state: &Shared,
    project: &str,
    slug: &str,
    f: impl FnOnce(&mut Repo, &mut Vec<String>) -> T,
) -> Result<T, Response> {
    let mut store = lock(state);
    let store = &mut *store;
    let mut fresh = Vec::new();
    for _ in 0..2 {
        fresh.push(store.commit());
    }
    match store
        .repos
        .get_mut(&(project.to_string(), slug.to_string()))
    {
        Some(repo) => Ok(f(repo, &mut fresh)),
        None => Err(not_found(&format!("Repository {project}/{slug}"))),
    }
}

async fn get_repo(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
) -> Response {
    with_repo(&state, &project, &slug, |r, _| {
        axum::Json(r.json.clone()).into_response()
    })
    .unwrap_or_else(|e| e)
}

fn branch_json(repo: &Repo, name: &str, head: &str) -> Value {
    json!({
        "id": format!("refs/heads/{name}"), "displayId": name, "type": "BRANCH",
        "latestCommit": head, "latestChangeset": head, "isDefault": name == repo.default_branch
    })
}

async fn list_branches(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    with_repo(&state, &project, &slug, |r, _| {
        let items = r
            .branches
            .iter()
            .map(|(n, h)| branch_json(r, n, h))
            .collect();
        page(items, &q)
    })
    .unwrap_or_else(|e| e)
}

async fn default_branch(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
) -> Response {
    with_repo(&state, &project, &slug, |r, _| {
        let name = r.default_branch.clone();
        let head = r.branches.get(&name).cloned().unwrap_or_default();
        axum::Json(branch_json(r, &name, &head)).into_response()
    })
    .unwrap_or_else(|e| e)
}

async fn create_branch(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    with_repo(&state, &project, &slug, |r, fresh| {
        let Some(name) = body["name"]
            .as_str()
            .map(|n| n.trim_start_matches("refs/heads/").to_string())
        else {
            return error(
                StatusCode::BAD_REQUEST,
                "A branch name is required.",
                "com.atlassian.bitbucket.validation.ArgumentValidationException",
            );
        };
        if r.branches.contains_key(&name) {
            return error(
                StatusCode::CONFLICT,
                format!("Branch '{name}' already exists in this repository."),
                "com.atlassian.bitbucket.repository.DuplicateRefException",
            );
        }
        let start = body["startPoint"]
            .as_str()
            .map(|s| s.trim_start_matches("refs/heads/").to_string());
        let head = match start {
            Some(s) => r.branches.get(&s).cloned().unwrap_or(s),
            None => r
                .branches
                .get(&r.default_branch)
                .cloned()
                .unwrap_or_else(|| fresh.remove(0)),
        };
        r.branches.insert(name.clone(), head.clone());
        axum::Json(branch_json(r, &name, &head)).into_response()
    })
    .unwrap_or_else(|e| e)
}

fn ref_json(repo: &Repo, name: &str) -> Value {
    json!({
        "id": format!("refs/heads/{name}"), "displayId": name, "type": "BRANCH",
        "latestCommit": repo.branches.get(name).cloned().unwrap_or_default(),
        "repository": repo.json.clone()
    })
}

async fn create_pull(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let user = headers.get("authorization").map_or("admin", |_| "admin");
    with_repo(&state, &project, &slug, |r, _| {
        let from = body.pointer("/fromRef/id").and_then(Value::as_str).unwrap_or_default().trim_start_matches("refs/heads/").to_string();
        let to = body.pointer("/toRef/id").and_then(Value::as_str).map_or(r.default_branch.clone(), |s| s.trim_start_matches("refs/heads/").to_string());
        for branch in [&from, &to] {
            if !r.branches.contains_key(branch) {
                return error(StatusCode::BAD_REQUEST, format!("Repository \"{slug}\" of project with key \"{project}\" has no branch \"{branch}\""), "com.atlassian.bitbucket.repository.NoSuchBranchException");
            }
        }
        let id = u64::try_from(r.pulls.len()).unwrap_or(u64::MAX).saturating_add(1);
        let created = now();
        let pull = json!({
            "id": id, "version": 0, "title": body["title"].as_str().unwrap_or_default(),
            "description": body["description"].clone(), "state": "OPEN", "open": true, "closed": false,
            "locked": false, "createdDate": created, "updatedDate": created,
            "fromRef": ref_json(r, &from), "toRef": ref_json(r, &to),
            "author": { "user": { "name": user, "slug": user, "displayName": "Administrator", "type": "NORMAL" }, "role": "AUTHOR", "approved": false, "status": "UNAPPROVED" },
            "reviewers": body["reviewers"].as_array().cloned().unwrap_or_default(), "participants": [],
            "links": { "self": [{ "href": format!("http://localhost/projects/{project}/repos/{slug}/pull-requests/{id}") }] }
        });
        r.pulls.insert(id, pull.clone());
        (StatusCode::CREATED, axum::Json(pull)).into_response()
    })
    .unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
struct PullQuery {
    state: Option<String>,
    start: Option<usize>,
    limit: Option<usize>,
}

async fn list_pulls(
    State(state): State<Shared>,
    Path((project, slug)): Path<(String, String)>,
    Query(q): Query<PullQuery>,
) -> Response {
    with_repo(&state, &project, &slug, |r, _| {
        let wanted = q.state.clone().unwrap_or_else(|| "OPEN".into());
        let items = r
            .pulls
            .values()
            .rev()
            .filter(|p| wanted == "ALL" || p["state"] == wanted.as_str())
            .cloned()
            .collect();
        page(
            items,
            &PageQuery {
                start: q.start,
                limit: q.limit,
            },
        )
    })
    .unwrap_or_else(|e| e)
}

fn pull_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

async fn get_pull(
    State(state): State<Shared>,
    Path((project, slug, id)): Path<(String, String, String)>,
) -> Response {
    with_repo(&state, &project, &slug, |r, _| {
        match pull_id(&id).and_then(|id| r.pulls.get(&id)) {
            Some(p) => axum::Json(p.clone()).into_response(),
            None => not_found(&format!("Pull request {id}")),
        }
    })
    .unwrap_or_else(|e| e)
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<i64>,
}

/// Merging or declining: the caller's `version` must be the pull request's current one, as
/// the real server checks, else 409 with the current pull request.
fn transition(
    r: &mut Repo,
    id: &str,
    version: Option<i64>,
    merge: bool,
    fresh: &mut Vec<String>,
) -> Response {
    let Some(pull) = pull_id(id).and_then(|id| r.pulls.get(&id)).cloned() else {
        return not_found(&format!("Pull request {id}"));
    };
    if pull["state"] != "OPEN" {
        return error(
            StatusCode::CONFLICT,
            format!(
                "Pull request {id} is already {}",
                pull["state"].as_str().unwrap_or_default()
            ),
            "com.atlassian.bitbucket.pull.IllegalPullRequestStateException",
        );
    }
    let current = pull["version"].as_i64().unwrap_or(0);
    if version.is_some_and(|v| v != current) {
        return (
            StatusCode::CONFLICT,
            axum::Json(json!({ "errors": [{
                "context": null,
                "message": "You are attempting to modify a pull request based on out-of-date information.",
                "exceptionName": "com.atlassian.bitbucket.pull.PullRequestOutOfDateException",
                "currentVersion": current, "expectedVersion": version, "pullRequest": pull
            }] })),
        )
            .into_response();
    }
    let mut pull = pull;
    pull["version"] = json!(current.saturating_add(1));
    pull["state"] = json!(if merge { "MERGED" } else { "DECLINED" });
    pull["open"] = json!(false);
    pull["closed"] = json!(true);
    pull["updatedDate"] = json!(now());
    if merge {
        let target = pull
            .pointer("/toRef/displayId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let commit = fresh.remove(0);
        r.branches.insert(target, commit.clone());
        pull["properties"] = json!({ "mergeCommit": { "id": commit, "displayId": &commit[..11] } });
        pull["closedDate"] = json!(now());
    }
    if let Some(id) = pull_id(id) {
        r.pulls.insert(id, pull.clone());
    }
    axum::Json(pull).into_response()
}

async fn merge_pull(
    State(state): State<Shared>,
    Path((project, slug, id)): Path<(String, String, String)>,
    Query(q): Query<VersionQuery>,
) -> Response {
    with_repo(&state, &project, &slug, |r, fresh| {
        transition(r, &id, q.version, true, fresh)
    })
    .unwrap_or_else(|e| e)
}

async fn decline_pull(
    State(state): State<Shared>,
    Path((project, slug, id)): Path<(String, String, String)>,
    Query(q): Query<VersionQuery>,
) -> Response {
    with_repo(&state, &project, &slug, |r, fresh| {
        transition(r, &id, q.version, false, fresh)
    })
    .unwrap_or_else(|e| e)
}

async fn add_build(
    State(state): State<Shared>,
    Path((project, slug, commit)): Path<(String, String, String)>,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    for field in ["key", "state", "url"] {
        if body[field].as_str().is_none_or(str::is_empty) {
            return error(
                StatusCode::BAD_REQUEST,
                format!("{field} is required"),
                "com.atlassian.bitbucket.validation.ArgumentValidationException",
            );
        }
    }
    if !matches!(
        body["state"].as_str(),
        Some("SUCCESSFUL" | "FAILED" | "INPROGRESS" | "CANCELLED" | "UNKNOWN")
    ) {
        return error(
            StatusCode::BAD_REQUEST,
            "state must be one of SUCCESSFUL, FAILED, INPROGRESS, CANCELLED, UNKNOWN",
            "com.atlassian.bitbucket.validation.ArgumentValidationException",
        );
    }
    let mut store = lock(&state);
    if !store.repos.contains_key(&(project.clone(), slug.clone())) {
        return not_found(&format!("Repository {project}/{slug}"));
    }
    let mut status = body.clone();
    status["dateAdded"] = json!(now());
    status["createdDate"] = json!(now());
    let list = store.builds.entry(commit).or_default();
    list.retain(|b| b["key"] != status["key"]);
    list.push(status);
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct KeyQuery {
    key: Option<String>,
}

async fn get_build(
    State(state): State<Shared>,
    Path((_project, _slug, commit)): Path<(String, String, String)>,
    Query(q): Query<KeyQuery>,
) -> Response {
    let store = lock(&state);
    let found = store.builds.get(&commit).and_then(|list| {
        list.iter()
            .find(|b| q.key.as_deref().is_none_or(|k| b["key"] == k))
    });
    match found {
        Some(b) => axum::Json(b.clone()).into_response(),
        None => not_found(&format!("Build status for {commit}")),
    }
}

async fn list_builds(
    State(state): State<Shared>,
    Path(commit): Path<String>,
    Query(q): Query<PageQuery>,
) -> Response {
    let items = lock(&state)
        .builds
        .get(&commit)
        .cloned()
        .unwrap_or_default();
    page(items, &q)
}
