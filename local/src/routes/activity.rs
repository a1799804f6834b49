//! Pull request activity (`/pullrequests/{id}/activity`, and `/pullrequests/activity` for every
//! pull request of a repository): updates, approvals, requests for changes and comments,
//! newest first.

use axum::extract::State;
use axum::http::Uri;
use serde_json::{Value, json};

use super::pullrequests::pull;
use super::{Answer, Params, Shared, numbered, repo};
use crate::render::{Urls, href};
use crate::store::{Activity, PullRequest, Repo, Store};

impl Urls {
    fn activity(&self, store: &Store, repo: &Repo, pr: &PullRequest, entry: &Activity) -> Value {
        let summary = json!({
            "type": "pullrequest",
            "id": pr.id,
            "title": pr.title,
            "links": {
                "self": href(format!("{}/pullrequests/{}", self.repo_api(repo), pr.id)),
                "html": href(format!("{}/pull-requests/{}", self.repo_web(repo), pr.id)),
            },
        });
        let mut value = match entry {
            Activity::Update {
                user,
                date,
                state,
                title,
                description,
            } => {
                let full = self.pull(store, repo, pr);
                json!({ "update": {
                    "state": state.as_str(),
                    "title": title,
                    "description": description,
                    "date": date,
                    "author": self.user(&store.users[*user]),
                    "reason": pr.reason,
                    "source": full["source"],
                    "destination": full["destination"],
                    "reviewers": full["reviewers"],
                    "changes": {},
                }})
            }
            Activity::Approval { user, date } => json!({ "approval": {
                "date": date,
                "user": self.user(&store.users[*user]),
                "pullrequest": summary,
            }}),
            Activity::ChangesRequested { user, date } => json!({ "changes_requested": {
                "date": date,
                "user": self.user(&store.users[*user]),
                "pullrequest": summary,
            }}),
            Activity::Comment(id) => {
                let comment = pr.comments.iter().find(|c| c.id == *id);
                json!({ "comment": comment.map(|c| self.comment(store, repo, pr, c)) })
            }
        };
        value["pull_request"] = summary;
        value
    }
}

fn entries(app: &Shared, store: &Store, repo: &Repo, pr: &PullRequest) -> Vec<Value> {
    pr.activity
        .iter()
        .rev()
        .map(|entry| app.urls.activity(store, repo, pr, entry))
        .collect()
}

pub(super) async fn list(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let pr = &repo.pulls[pull(repo, &params)?];
    let items = entries(&app, &store, repo, pr);
    numbered(&app, &uri, items)
}

/// Every pull request's activity, the newest pull request's first.
pub(super) async fn list_all(State(app): State<Shared>, params: Params, uri: Uri) -> Answer {
    let store = app.store();
    let repo = repo(&store, &params)?;
    let items = repo
        .pulls
        .iter()
        .rev()
        .flat_map(|pr| entries(&app, &store, repo, pr))
        .collect();
    numbered(&app, &uri, items)
}
